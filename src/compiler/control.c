/* Structured control flow: blocks, branches, br_table and return. */
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "wasm/opcodes.h"
#include "wasmjail.h"

/* A new block's params and results, from its block type. */
static void set_blocktype(fn *f, ctrl *c, const wasm_blocktype *bt)
{
    wasm_functype t;
    wasm_block_functype(f->m, bt, &t);
    c->nparams = t.nparams;
    c->nresults = t.nresults;
    c->params = t.params;
    c->results = t.results;
}

static ctrl *push_ctrl(fn *f, uint8_t kind)
{
    if (f->nctrls == f->ctrl_cap) {
        ctrl *c = realloc(f->ctrls, 2 * f->ctrl_cap * sizeof *c);
        if (!c) {
            fn_oom(f);
            return NULL;
        }
        f->ctrls = c;
        f->ctrl_cap *= 2;
    }
    ctrl *c = &f->ctrls[f->nctrls++];
    *c = (ctrl){.kind = kind, .fixups = UINT32_MAX};
    return c;
}

static void add_fixup(fn *f, ctrl *c, uint32_t at)
{
    if (VEC_PUSH(f, f->fixups, {at, c->fixups}))
        c->fixups = f->fixups.n - 1;
}

/* Drops what is above the block's base; the rest of the block is dead. */
static void mark_dead(fn *f)
{
    ctrl *c = &f->ctrls[f->nctrls - 1];
    while (f->height > c->height) {
        ventry e = pop(f);
        free_entry(f, &e);
    }
    c->dead = true;
}

void emit_return(fn *f)
{
    codebuf *cb = f->cb;
    uint32_t n = f->type->nresults;
    if (n == 1) {
        ventry *e = top(f, 0);
        load_into(f, e, in_xmm(e->type) ? XMM(0) : RAX);
    } else if (n > 1) {
        /* Results go to the parameters' area: read parameters first. */
        for (uint32_t i = 0; i < n; i++) {
            ventry *e = top(f, n - 1 - i);
            if (e->kind == V_LOCAL && e->local < f->nparams && f->local_reg[e->local] < 0) {
                uint32_t d = (uint32_t)(e - f->stack);
                mem_move(f, e->type, slot_of(f, d), local_home(f, e->local));
                e->kind = V_STACK;
            }
        }
        for (uint32_t i = 0, u = 0; i < n; i++) {
            ventry *e = top(f, n - 1 - i);
            store_entry(f, e, M_(RBP, (int32_t)(16 + VM_UNIT * u)));
            u += vm_slot_units(e->type);
        }
    }
    x86_mov_rr(cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp */
    x86_pop(cb, RBP);                   /* pop rbp */
    x86_ret(cb);                        /* ret */
}

/* Moves the branch's values to the target's slots and jumps. The stack is
 * spilled. Both are packed alike, the target's lower: moving in order
 * never overwrites a value not yet moved. */
static void branch_to(fn *f, uint32_t depth)
{
    ctrl *t = &f->ctrls[f->nctrls - 1 - depth];
    if (t->kind == C_FUNC) {
        emit_return(f);
        return;
    }
    uint32_t arity = t->kind == C_LOOP ? t->nparams : t->nresults;
    uint32_t to = units_below(f, t->height);
    for (uint32_t i = 0; i < arity; i++) {
        uint32_t from = f->height - arity + i;
        const ventry *e = &f->stack[from];
        if (e->off != to)
            mem_move(f, e->type, slot_at(f, to, e->type), slot_of(f, from));
        to += vm_slot_units(e->type);
    }
    if (t->kind == C_LOOP)
        x86_jmp_to(f->cb, t->head); /* jmp head */
    else
        add_fixup(f, t, x86_jmp(f->cb)); /* jmp end */
}

static bool branch_needs_code(fn *f, uint32_t depth)
{
    ctrl *t = &f->ctrls[f->nctrls - 1 - depth];
    if (t->kind == C_FUNC)
        return true;
    uint32_t arity = t->kind == C_LOOP ? t->nparams : t->nresults;
    return arity && f->height - arity != t->height;
}

/* Pops a condition; returns the condition code that means "true". */
static int pop_condition(fn *f)
{
    ventry *c = top(f, 0);
    if (c->kind == V_FLAGS) {
        f->height--;
        return c->reg;
    }
    x86_rm rm;
    if (c->kind != V_REG && entry_rm(f, c, &rm)) {
        x86_alu_ri(f->cb, ALU_CMP, SZ32, rm, 0); /* cmp dword [m], 0 */
        f->height--;
        return CC_NE;
    }
    int reg = pop_reg(f, 0);
    x86_test_rr(f->cb, SZ32, R_(reg), reg); /* test r, r */
    reg_free(f, reg);
    return CC_NE;
}

static bool op_br_table(fn *f, const wasm_instr *ins)
{
    uint32_t n = ins->br_table.count;
    uint32_t *targets = malloc(((size_t)n + 1) * sizeof *targets);
    if (!targets)
        return fn_oom(f);
    const uint8_t *p = ins->br_table.targets;
    for (uint32_t i = 0; i < n; i++)
        targets[i] = wasm_next_label(&p);
    targets[n] = ins->br_table.default_label;
    codebuf *cb = f->cb;
    int idx = pop_reg(f, 0);
    spill_all(f);
    /* idx = min(idx, n): the last entry is the default */
    x86_mov_ri64(cb, SCRATCH, n);                      /* mov r11d, n */
    x86_alu_rr(cb, ALU_CMP, SZ32, idx, R_(SCRATCH));   /* cmp idx, r11d */
    x86_cmov(cb, CC_A, SZ32, idx, R_(SCRATCH));        /* cmova idx, r11d */
    uint32_t lea_disp = x86_lea_rip(cb, SCRATCH);      /* lea r11, [rip+table] */
    x86_movsx(cb, SZ64, idx, SZ32, MI_(SCRATCH, idx, 2, 0)); /* movsxd idx, [r11+idx*4] */
    x86_alu_rr(cb, ALU_ADD, SZ64, idx, R_(SCRATCH));         /* add idx, r11 */
    x86_jmp_rm(cb, R_(idx));                                 /* jmp idx */
    reg_free(f, idx);
    uint32_t table = cb->len;
    cb_patch32(cb, lea_disp, table - (lea_disp + 4));
    for (uint32_t i = 0; i <= n; i++)
        cb_u32(cb, 0);
    /* one stub per distinct target */
    for (uint32_t i = 0; i <= n && !cb->oom; i++) {
        uint32_t j = 0;
        while (j < i && targets[j] != targets[i])
            j++;
        uint32_t at;
        if (j < i) {
            memcpy(&at, cb->p + table + 4 * j, 4);
        } else {
            at = cb->len - table;
            branch_to(f, targets[i]);
        }
        cb_patch32(cb, table + 4 * i, at);
    }
    free(targets);
    mark_dead(f);
    return true;
}

bool op_control(fn *f, const wasm_instr *ins)
{
    codebuf *cb = f->cb;
    ctrl *c;
    uint32_t depth = ins->index;
    switch (ins->op) {
    case 0x00: /* unreachable */
        trap_call(f, WJ_TRAP_UNREACHABLE);
        mark_dead(f);
        return true;
    case 0x01: /* nop */
        return true;
    case 0x02: /* block */
    case 0x03: /* loop */
        spill_all(f);
        c = push_ctrl(f, ins->op == 0x02 ? C_BLOCK : C_LOOP);
        if (!c)
            return false;
        set_blocktype(f, c, &ins->block);
        c->height = f->height - c->nparams;
        c->head = cb->len;
        if (ins->op == 0x03) {
            lcache_clear(f); /* the back edges do not know the cache */
            hot_loop(f, c);
            meter_check(f);
        }
        return true;
    case 0x04: /* if */ {
        int cc = pop_condition(f);
        spill_all(f); /* moves only: the flags survive */
        uint32_t jump = x86_jcc(cb, cc ^ 1); /* j!cc else */
        c = push_ctrl(f, C_IF);
        if (!c)
            return false;
        set_blocktype(f, c, &ins->block);
        c->height = f->height - c->nparams;
        c->else_jump = jump;
        meter_run(f);
        return true;
    }
    case 0x05: /* else */
        c = &f->ctrls[f->nctrls - 1];
        if (!c->dead) {
            spill_all(f);
            add_fixup(f, c, x86_jmp(cb)); /* jmp end */
        }
        x86_bind(cb, c->else_jump, cb->len);
        c->else_jump = 0;
        lcache_clear(f); /* the cache of the then branch, not of the if */
        meter_run(f);
        mark_dead(f);
        c->dead = false;
        c->kind = C_ELSE;
        for (uint32_t i = 0; i < c->nparams; i++)
            push_stack(f, c->params[i]);
        return true;
    case 0x0b: /* end */
        c = &f->ctrls[f->nctrls - 1];
        if (c->kind == C_FUNC) {
            if (!c->dead)
                emit_return(f);
            f->nctrls--;
            return true;
        }
        if (!c->dead)
            spill_all(f);
        lcache_clear(f); /* branches to the end come with other registers */
        if (c->kind == C_IF)
            x86_bind(cb, c->else_jump, cb->len);
        for (uint32_t i = c->fixups; i != UINT32_MAX; i = f->fixups.v[i].next)
            x86_bind(cb, f->fixups.v[i].at, cb->len);
        /* Jumps come in, or only they can reach what follows. */
        if (c->kind == C_IF || c->fixups != UINT32_MAX || c->dead)
            meter_run(f);
        /* Neither a jump nor the body's end reaches it: what follows is dead too. */
        bool unreachable = c->dead && c->kind != C_IF && c->fixups == UINT32_MAX;
        mark_dead(f);
        f->nctrls--;
        for (uint32_t i = 0; i < c->nresults; i++)
            push_stack(f, c->results[i]);
        if (unreachable)
            mark_dead(f);
        return true;
    case 0x0c: /* br */
        spill_all(f);
        branch_to(f, depth);
        mark_dead(f);
        return true;
    case 0x0d: /* br_if */ {
        int cc = pop_condition(f);
        spill_all(f);
        ctrl *t = &f->ctrls[f->nctrls - 1 - depth];
        if (branch_needs_code(f, depth)) {
            uint32_t skip = x86_jcc(cb, cc ^ 1); /* j!cc skip */
            branch_to(f, depth);
            x86_bind(cb, skip, cb->len);
        } else if (t->kind == C_LOOP) {
            x86_jcc_to(cb, cc, t->head); /* jcc head */
        } else {
            add_fixup(f, t, x86_jcc(cb, cc)); /* jcc end */
        }
        meter_run(f);
        return true;
    }
    case 0x0e:
        return op_br_table(f, ins);
    case 0x0f: /* return */
        emit_return(f);
        mark_dead(f);
        return true;
    case 0x10: /* call */
        op_call(f, ins->index);
        meter_run(f);
        return true;
    case 0x11: /* call_indirect */
        op_call_indirect(f, ins->call_indirect.type, ins->call_indirect.table);
        meter_run(f);
        return true;
    }
    return fn_unsupported(f, "opcode");
}
