/* Compiling one function: frame, prologue, the opcode loop and trap stubs. */
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "vmctx.h"
#include "wasm/opcodes.h"
#include "wasmjail.h"

bool fn_oom(fn *f)
{
    if (!f->failed)
        wasm_fail(f->err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory compiling function %u",
                  f->index);
    f->failed = true;
    return false;
}

bool fn_unsupported(fn *f, const char *what)
{
    if (!f->failed)
        wasm_fail(f->err, WASM_ERR_UNSUPPORTED, f->pos, "unsupported: %s", what);
    f->failed = true;
    return false;
}

static void addr_at(fn *f, uint32_t at)
{
    if (!out_addr(f->out, at, f->pos))
        fn_oom(f);
}

void addr_call(fn *f)
{
    /* Backtraces look up return address - 1: the call's last byte. The
     * return address itself may be the next instruction's trap site
     * (`call $abort; unreachable`). */
    addr_at(f, f->cb->len - 1);
}

void trap_site(fn *f, uint32_t code)
{
    if (!out_trap(f->out, f->cb->len, code, f->pos))
        fn_oom(f);
}

void trap_call(fn *f, uint32_t code)
{
    /* wj__trap_trampoline finds the site from the call's return address. */
    trap_site(f, code);
    x86_bind(f->cb, x86_call_rel(f->cb), f->out->trap_thunk); /* call thunk */
}

void trap_jump(fn *f, uint32_t jump, uint32_t code)
{
    VEC_PUSH(f, f->stubs, {jump, code, f->pos});
}

static void emit_stubs(fn *f)
{
    for (uint32_t i = 0; i < f->stubs.n; i++) {
        stub *s = &f->stubs.v[i];
        x86_bind(f->cb, s->jump, f->cb->len);
        f->pos = s->wasm;
        /* The stack check fails with rsp below the limit, by up to a whole
         * frame: the trap's call and C code must run above it, in the
         * reserve kept below the limit (runtime/stack.h). Frames are
         * walked through rbp and [rbp+8], which this keeps. */
        if (s->code == WJ_TRAP_STACK_EXHAUSTED)
            x86_mov_rr(f->cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp */
        trap_call(f, s->code);
    }
}

/* Copies the head, emitted once per worker into f->head: emitted
 * instruction by instruction for every function, it cost as much as a
 * small function's body. */
static void copy_head(fn *f)
{
    codebuf *cb = f->cb;
    if (!f->head_len) {
        codebuf head = {0};
        emit_head(&head, &f->head_frame_at, &f->head_jump_at);
        if (!head.oom && head.len <= sizeof f->head) {
            memcpy(f->head, head.p, head.len);
            f->head_len = head.len;
        }
        cb_free(&head);
        if (!f->head_len) {
            fn_oom(f);
            return;
        }
    }
    uint32_t at = cb->len;
    cb_bytes(cb, f->head, f->head_len);
    f->frame_patch = at + f->head_frame_at;
    trap_jump(f, at + f->head_jump_at, WJ_TRAP_STACK_EXHAUSTED);
}

/* Whether a declared local's home must start zeroed: it may be read
 * before it is written (pin.c), from the home unless pinned, and a pinned
 * one never written is reloaded from it after calls. */
static bool home_zeroed(const fn *f, size_t local)
{
    uint8_t flags = f->local_flags[local];
    return (flags & LOCAL_READ_UNSET) && (f->local_reg[local] < 0 || !(flags & LOCAL_WRITTEN));
}

/* Up to this many units are zeroed with a store each (4 bytes, 7 with a
 * 32-bit displacement); more with rep stosq over the span holding them. */
#define ZERO_STORES_MAX 16

/* Zeroes the homes of the declared locals that need it (home_zeroed). */
static void zero_locals(fn *f)
{
    codebuf *cb = f->cb;
    size_t n = nlocals_all(f);
    uint32_t units = 0;
    int32_t low = 0, high = 0; /* the span of the homes to zero: [low, high) */
    for (size_t i = f->nparams; i < n; i++)
        if (home_zeroed(f, i)) {
            int32_t size = (int32_t)(VM_UNIT * vm_slot_units(f->local_types[i]));
            if (!units)
                high = f->local_off[i] + size; /* homes go down from the first */
            low = f->local_off[i];
            units += (uint32_t)size / VM_UNIT;
        }
    if (!units)
        return;
    if (units > ZERO_STORES_MAX) {
        x86_lea(cb, SZ64, RDI, M_(RBP, low));                   /* lea rdi, [rbp+low] */
        x86_mov_ri64(cb, RCX, (uint32_t)(high - low) / VM_UNIT); /* mov ecx, units */
        x86_alu_mr(cb, ALU_XOR, SZ32, R_(RAX), RAX);            /* xor eax, eax */
        x86_rep_stosq(cb);                                      /* rep stosq */
        return;
    }
    x86_alu_mr(cb, ALU_XOR, SZ32, R_(RAX), RAX); /* xor eax, eax */
    for (size_t i = f->nparams; i < n; i++) {
        if (!home_zeroed(f, i))
            continue;
        for (uint32_t u = 0; u < vm_slot_units(f->local_types[i]); u++) {
            x86_rm unit = M_(RBP, f->local_off[i] + (int32_t)(VM_UNIT * u));
            x86_mov_mr(cb, SZ64, unit, RAX); /* mov [home+8u], rax */
        }
    }
}

static void prologue(fn *f)
{
    hot_entry(f);
    copy_head(f);
    meter_check(f);
    reload_membase(f);
    zero_locals(f);
    pins_enter(f);
}

/* Grows one per-local array to n entries of `size` bytes. */
static bool grow_locals(void *array, size_t n, size_t size)
{
    void *p = realloc(*(void **)array, n * size);
    if (p)
        *(void **)array = p;
    return p != NULL;
}

/* Room for n entries in every per-local array; they only grow, so a worker
 * allocates them a few times per module rather than once per function. */
static bool reserve_locals(fn *f, size_t n)
{
    if (n <= f->locals_cap)
        return true;
    if (!grow_locals(&f->local_types, n, sizeof *f->local_types) ||
        !grow_locals(&f->local_off, n, sizeof *f->local_off) ||
        !grow_locals(&f->local_reg, n, sizeof *f->local_reg) ||
        !grow_locals(&f->pin_weight, n, sizeof *f->pin_weight) ||
        !grow_locals(&f->local_flags, n, sizeof *f->local_flags) ||
        !grow_locals(&f->assign_log, n, sizeof *f->assign_log))
        return fn_oom(f);
    f->locals_cap = n;
    return true;
}

void fn_free(fn *f)
{
    free(f->local_types);
    free(f->local_off);
    free(f->local_reg);
    free(f->pin_weight);
    free(f->local_flags);
    free(f->assign_log);
    vpool_free(&f->pool);
    free(f->stack);
    free(f->ctrls);
    free(f->fixups.v);
    free(f->stubs.v);
    free(f->lazy_stubs.v);
    free(f->epoch_stubs.v);
    free(f->hot_sites.v);
    free(f->block_marks.v);
}

/* Types and homes of the parameters and declared locals. */
static bool setup_locals(fn *f)
{
    const wasm_func *func = &f->m->funcs[f->index];
    f->nparams = f->type->nparams;
    f->nlocals = func->nlocals;
    if (!reserve_locals(f, nlocals_all(f) + 1))
        return false;
    memcpy(f->local_types, f->type->params, f->nparams);
    size_t k = f->nparams;
    for (uint32_t i = 0; i < func->nlocal_runs; i++) {
        memset(f->local_types + k, func->local_runs[i].type, func->local_runs[i].count);
        k += func->local_runs[i].count;
    }
    /* At most 1000 parameters and 50000 locals (the decoder's limits), two
     * units each: the offsets fit easily. */
    uint32_t units = 0;
    for (uint32_t i = 0; i < f->nparams; i++) {
        f->local_off[i] = (int32_t)(16 + VM_UNIT * units);
        units += vm_slot_units(f->local_types[i]);
    }
    units = 0;
    for (size_t i = f->nparams; i < k; i++) {
        units += vm_slot_units(f->local_types[i]);
        f->local_off[i] = -(int32_t)(8 + VM_UNIT * units);
    }
    f->locals_units = units;
    return true;
}

static void op_parametric(fn *f, const wasm_instr *ins)
{
    if (ins->op == WASM_OP_DROP) {
        ventry e = pop(f);
        free_entry(f, &e);
        return;
    }
    /* select, select t: c ? a : b */
    ventry *c = top(f, 0);
    int cc;
    if (c->kind == V_FLAGS) {
        cc = c->reg;
        f->height--;
    } else {
        int creg = pop_reg(f, 0);
        x86_test_rr(f->cb, SZ32, R_(creg), creg); /* test c, c */
        reg_free(f, creg);
        cc = CC_NE;
    }
    /* flags hold "take a"; loading a and b below must not disturb them:
     * pop_reg only emits moves (and setcc for a materialized flag, which
     * cannot occur here since c was on top). */
    uint8_t type = top(f, 0)->type;
    if (in_xmm(type)) {
        int b = pop_reg(f, 0);
        int a = pop_reg(f, 1u << b);
        uint32_t skip = x86_jcc(f->cb, cc);      /* jcc keep */
        x86_movaps(f->cb, a - 16, b - 16);       /* movaps a, b */
        x86_bind(f->cb, skip, f->cb->len);
        reg_free(f, b);
        push_reg(f, type, a);
    } else {
        ventry *b = top(f, 0);
        f->height--; /* b stays valid: nothing is pushed below */
        int a = pop_reg(f, b->kind == V_REG ? 1u << b->reg : 0);
        x86_rm brm;
        if (!entry_rm(f, b, &brm)) {
            load_into(f, b, SCRATCH); /* mov r11, imm: no flags */
            brm = R_(SCRATCH);
        }
        x86_cmov(f->cb, cc ^ 1, type_size(type), a, brm); /* cmov!cc a, b */
        free_entry(f, b);
        push_reg(f, type, a);
    }
}

static void op_const(fn *f, const wasm_instr *ins)
{
    switch (ins->op) {
    case WASM_OP_I32_CONST: push_const(f, WASM_I32, (uint32_t)ins->i32); return;
    case WASM_OP_I64_CONST: push_const(f, WASM_I64, (uint64_t)ins->i64); return;
    case WASM_OP_F32_CONST: push_const(f, WASM_F32, ins->f32); return;
    default: push_const(f, WASM_F64, ins->f64); return;
    }
}

static bool dispatch(fn *f, const wasm_instr *ins)
{
    unsigned op = ins->op;
    /* A comparison waits in the flags only for its immediate consumer. */
    if (op != WASM_OP_IF && op != WASM_OP_BR_IF && op != WASM_OP_SELECT &&
        op != WASM_OP_SELECT_T && op != WASM_OP_I32_EQZ)
        materialize_flags(f);
    if (op <= WASM_OP_CALL_INDIRECT)
        return op_control(f, ins);
    if (op == WASM_OP_DROP || op == WASM_OP_SELECT || op == WASM_OP_SELECT_T) {
        op_parametric(f, ins);
        return true;
    }
    if ((op >= WASM_OP_LOCAL_GET && op <= WASM_OP_TABLE_SET) ||
        (op >= WASM_OP_REF_NULL && op <= WASM_OP_REF_FUNC))
        return op_variable(f, ins);
    if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_MEMORY_GROW)
        return op_memory(f, ins);
    if (op >= WASM_OP_I32_CONST && op <= WASM_OP_F64_CONST) {
        op_const(f, ins);
        return true;
    }
    if (op >> 8 == 0xfc)
        return op_misc(f, ins);
    if (op >> 8 == 0xfd)
        return op_simd(f, ins);
    if (op_int(f, (uint8_t)op) || f->failed)
        return !f->failed;
    if (op_float(f, (uint8_t)op) || f->failed)
        return !f->failed;
    return fn_unsupported(f, "opcode");
}

bool peek_instr(fn *f, wasm_instr *ins)
{
    wasm_reader r = *f->body;
    if (r.p >= r.end || !wasm_decode_instr(&r, f->m->features, ins))
        return false;
    f->peeked = r.p;
    return true;
}

void take_instr(fn *f, const wasm_instr *ins)
{
    f->pos = (uint32_t)wasm_reader_pos(f->body);
    f->body->p = f->peeked;
    meter_count(f, ins->op);
}

static bool compile_body(fn *f)
{
    const wasm_func *func = &f->m->funcs[f->index];
    /* Reader errors are not reported from here; only kind is read before
     * a failure writes the rest (zeroing all of it costs more than small
     * bodies' reading). */
    wasm_error rerr;
    rerr.kind = WASM_ERR_NONE;
    wasm_reader r = {.base = f->m->bytes, .p = f->m->bytes + func->body,
                     .end = f->m->bytes + func->body_end, .err = &rerr};
    f->body = &r;
    /* the function's own block (control.c grows the array by doubling) */
    if (!f->ctrls) {
        f->ctrls = malloc(16 * sizeof *f->ctrls);
        if (!f->ctrls)
            return fn_oom(f);
        f->ctrl_cap = 16;
    }
    f->nctrls = 1;
    f->ctrls[0] = (ctrl){.kind = C_FUNC, .nresults = f->type->nresults,
                         .results = f->type->results, .fixups = UINT32_MAX};
    while (f->nctrls && !f->failed) {
        wasm_instr ins;
        if (f->ctrls[f->nctrls - 1].dead) {
            /* else and end carry no immediates */
            ins.op = wasm_skip_dead(&r, f->m->features, &f->pos);
            if (!ins.op)
                break;
        } else {
            f->pos = (uint32_t)wasm_reader_pos(&r);
            if (!wasm_decode_instr(&r, f->m->features, &ins))
                break;
        }
        meter_count(f, ins.op);
        if (!dispatch(f, &ins))
            break;
        if (f->cb->oom || f->pool.oom)
            fn_oom(f);
    }
    if (!f->failed && f->nctrls)
        wasm_fail(f->err, WASM_ERR_MALFORMED, f->pos, "unexpected end of function body");
    return !f->failed && f->nctrls == 0;
}

bool compile_function(fn *f)
{
    f->type = wasm_func_type(f->m, f->index);
    if (!setup_locals(f))
        return false;
    pin_locals(f);
    f->pos = f->m->funcs[f->index].body; /* where a stack overflow is reported */
    prologue(f);
    if (!compile_body(f))
        return false;
    tables_finish(f); /* before the trap stubs: it adds some */
    emit_stubs(f);
    meter_finish(f);
    hot_finish(f);
    vpool_finish(&f->pool, f->cb);
    uint64_t frame = VM_UNIT * (1 + (uint64_t)f->locals_units + f->max_units + f->max_out);
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > FRAME_MAX)
        return fn_unsupported(f, "function frame larger than 1 GiB");
    cb_patch32(f->cb, f->frame_patch, (uint32_t)frame);
    if (f->cb->oom || f->pool.oom)
        return fn_oom(f);
    return !f->failed;
}
