/*
 * Tier 2's code emission (backend.h): each instruction in code order with
 * the registers and slots regalloc.c chose, phis as parallel moves at the
 * ends of their predecessors, a comparison fused with the branch that
 * follows it, traps through stubs after the body that call the chunk's
 * trap thunk, the same frame and calling convention as tier 1.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

/* Several results go to the caller's outgoing area, as tier 1 returns
 * them (control.c), where the parameters' homes are: results still there
 * are staged in this frame's outgoing area first. */
static void return_results(backend *be, ir_inst *in)
{
    codebuf *cb = be->cb;
    uint32_t u = 0;
    for (uint32_t i = 0; i < in->nargs; i++) {
        ir_ref a = in->args[i];
        if (!is_const(be, a) && be->reg[a] == NO_REG && be->slot[a] > 0)
            be_mem_move(cb, inst(be, a)->type, M_(RSP, (int32_t)(VM_UNIT * u)),
                        M_(RBP, be->slot[a])); /* [rsp+u] = home */
        u += vm_slot_units(inst(be, a)->type);
    }
    if (u > be->max_out)
        be->max_out = u;
    u = 0;
    for (uint32_t i = 0; i < in->nargs; i++) {
        ir_ref a = in->args[i];
        uint8_t t = inst(be, a)->type;
        x86_rm dst = M_(RBP, (int32_t)(16 + VM_UNIT * u));
        if (!is_const(be, a) && be->reg[a] >= 16) {
            be_xmm_store(cb, t, dst, be->reg[a] - 16);
        } else if (!is_const(be, a) && be->reg[a] == NO_REG && be->slot[a] > 0) {
            be_mem_move(cb, t, dst, M_(RSP, (int32_t)(VM_UNIT * u))); /* staged */
        } else if (t == WASM_V128) {
            be_mem_move(cb, t, dst, M_(RBP, be->slot[a]));
        } else {
            be_load_gpr(be, R11, a); /* a float's bits move as an integer */
            x86_mov_mr(cb, size_of(t), dst, R11);
        }
        u += vm_slot_units(t);
    }
}

static void emit_return(backend *be, ir_inst *in)
{
    if (in->nargs == 1) {
        ir_ref a = in->args[0];
        if (is_xmm_type(inst(be, a)->type))
            be_load_xmm(be, 0, a);
        else
            be_load_gpr(be, RAX, a);
    } else if (in->nargs > 1) {
        return_results(be, in);
    }
    x86_mov_rr(be->cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp */
    x86_pop(be->cb, RBP);                   /* pop rbp */
    x86_ret(be->cb);                        /* ret */
}

/* Jump tables for br_tables of at most this many runs of indices with one
 * target (but the default's) are compare chains: an indirect jump whose
 * target the data picks is predicted worse than a few conditional ones. */
#define CHAIN_RUNS 4

/* br_table of block blk on `index` as compare chains, if it has few runs
 * of targets; false (nothing emitted) otherwise. */
static bool compare_chain(backend *be, const ir_block *blk, ir_ref index, uint32_t next)
{
    uint32_t n = blk->nsuccs - 1, runs = 0;
    uint32_t dflt = be_resolve(be, blk->succs[n]);
    for (uint32_t i = 0; i < n; i++)
        if (be_resolve(be, blk->succs[i]) != dflt &&
            (i == 0 || be_resolve(be, blk->succs[i]) != be_resolve(be, blk->succs[i - 1])))
            runs++;
    if (runs > CHAIN_RUNS)
        return false;
    codebuf *cb = be->cb;
    x86_rm rm = R_(RCX); /* br_table may write rcx (be_temps) */
    if (is_const(be, index))
        be_load_gpr(be, RCX, index);
    else
        rm = be_loc(be, index);
    for (uint32_t i = 0; i < n;) {
        uint32_t target = be_resolve(be, blk->succs[i]), j = i + 1;
        while (j < n && be_resolve(be, blk->succs[j]) == target)
            j++;
        if (target != dflt) {
            if (j - i == 1) {
                x86_alu_ri(cb, ALU_CMP, SZ32, rm, (int32_t)i); /* cmp index, i */
                be_jump_to(be, CC_E, target);                  /* je target */
            } else {
                x86_mov_rr(cb, SZ32, R11, rm);                          /* mov r11d, index */
                x86_alu_ri(cb, ALU_SUB, SZ32, R_(R11), (int32_t)i);     /* sub r11d, i */
                x86_alu_ri(cb, ALU_CMP, SZ32, R_(R11), (int32_t)(j - i)); /* cmp r11d, j - i */
                be_jump_to(be, CC_B, target);                           /* jb target */
            }
        }
        i = j;
    }
    if (dflt != next)
        be_jump_to(be, -1, dflt);
    return true;
}

/* A block's terminator; `next` is the block emitted after it (or
 * UINT32_MAX). */
static void emit_terminator(backend *be, uint32_t b, ir_inst *in, uint32_t next)
{
    ir_block *blk = &be->ir->blocks[b];
    /* A br_table of its default alone is a br (its edge was not split). */
    switch (blk->nsuccs == 1 && in->op == WASM_OP_BR_TABLE ? WASM_OP_BR : in->op) {
    case WASM_OP_BR:
        be_edge_moves(be, b, blk->succs[0]);
        if (be_resolve(be, blk->succs[0]) != next)
            be_jump_to(be, -1, blk->succs[0]);
        return;
    case WASM_OP_BR_IF: {
        ir_ref c = in->args[0];
        ir_inst *ci = inst(be, c);
        int cc;
        if (be_fused_compare(be, c)) {
            cc = be_compare_flags(be, ci);
        } else if (be_flags_hold(be, c)) {
            cc = CC_NE;
        } else {
            x86_rm rm = be_gpr_operand(be, c);
            if (rm.mem)
                x86_alu_ri(be->cb, ALU_CMP, SZ32, rm, 0);
            else
                x86_test_rr(be->cb, SZ32, rm, rm.reg); /* test c, c */
            cc = CC_NE;
        }
        uint32_t taken = be_resolve(be, blk->succs[0]), other = be_resolve(be, blk->succs[1]);
        if (taken == next) {
            be_jump_to(be, cc ^ 1, other);
        } else {
            be_jump_to(be, cc, taken);
            if (other != next)
                be_jump_to(be, -1, other);
        }
        return;
    }
    case WASM_OP_BR_TABLE: {
        /* ecx = index; past the table: the default; else a jump through a
         * table of int32 distances from the table, after the code */
        codebuf *cb = be->cb;
        uint32_t n = blk->nsuccs - 1;
        if (compare_chain(be, blk, in->args[0], next))
            return;
        be_load_gpr(be, RCX, in->args[0]);
        x86_alu_ri(cb, ALU_CMP, SZ32, R_(RCX), (int32_t)n); /* cmp ecx, n */
        be_jump_to(be, CC_AE, blk->succs[n]);                    /* jae default */
        uint32_t disp = x86_lea_rip(cb, R11);                  /* lea r11, [rip+table] */
        x86_movsx(cb, SZ64, RCX, SZ32, MI_(R11, RCX, 2, 0));  /* movsxd rcx, [r11+rcx*4] */
        x86_alu_rr(cb, ALU_ADD, SZ64, RCX, R_(R11));           /* add rcx, r11 */
        x86_jmp_rm(cb, R_(RCX));                               /* jmp rcx */
        if (!VEC_PUSH_OK(be->table_entries, {disp, UINT32_MAX, n}))
            be_fail(be, "out of memory");
        for (uint32_t i = 0; i < n; i++)
            if (!VEC_PUSH_OK(be->table_entries, {0, be_resolve(be, blk->succs[i]), 0}))
                be_fail(be, "out of memory");
        return;
    }
    case WASM_OP_RETURN:
        emit_return(be, in);
        return;
    default: /* unreachable */
        be_trap_here(be, WJ_TRAP_UNREACHABLE, in->wasm);
        x86_bind(be->cb, x86_call_rel(be->cb), be->out->trap_thunk); /* call thunk */
        return;
    }
}

static void emit_inst(backend *be, ir_ref v, ir_inst *in)
{
    uint16_t op = in->op;
    codebuf *cb = be->cb;
    be->trap_wasm = in->wasm;
    /* a call placed its results; a folded load is its user's operand */
    if (op == IR_PHI || op == IR_RESULT || is_const_op(op) || be->folded[v])
        return;
    if (op == IR_PARAM) {
        if (be->reg[v] != NO_REG) {
            x86_rm home = M_(RBP, param_home(be, v));
            if (is_xmm_type(in->type))
                be_xmm_load(cb, in->type, be->reg[v] - 16, home);
            else
                x86_mov_rr(cb, size_of(in->type), be->reg[v], home);
        }
        return;
    }
    /* a comparison that its branch fuses emits nothing here */
    if (be_fused_compare(be, v))
        return;
    if (op >= WASM_OP_I32_EQZ && op <= WASM_OP_F64_GE) {
        be_op_compare(be, v, in);
        return;
    }
    switch (op) {
    case WASM_OP_I32_ADD: case WASM_OP_I64_ADD: be_op_int_binary(be, v, in, ALU_ADD, true); return;
    case WASM_OP_I32_SUB: case WASM_OP_I64_SUB: be_op_int_binary(be, v, in, ALU_SUB, false); return;
    case WASM_OP_I32_MUL: case WASM_OP_I64_MUL: be_op_int_binary(be, v, in, -1, true); return;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: be_op_int_binary(be, v, in, ALU_AND, true); return;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: be_op_int_binary(be, v, in, ALU_OR, true); return;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: be_op_int_binary(be, v, in, ALU_XOR, true); return;
    case WASM_OP_I32_SHL: case WASM_OP_I64_SHL: be_op_shift(be, v, in, 4); return;
    case WASM_OP_I32_SHR_S: case WASM_OP_I64_SHR_S: be_op_shift(be, v, in, 7); return;
    case WASM_OP_I32_SHR_U: case WASM_OP_I64_SHR_U: be_op_shift(be, v, in, 5); return;
    case WASM_OP_I32_ROTL: case WASM_OP_I64_ROTL: be_op_shift(be, v, in, 0); return;
    case WASM_OP_I32_ROTR: case WASM_OP_I64_ROTR: be_op_shift(be, v, in, 1); return;
    case WASM_OP_I32_DIV_S: case WASM_OP_I64_DIV_S: be_op_divrem(be, v, in, true, false); return;
    case WASM_OP_I32_DIV_U: case WASM_OP_I64_DIV_U: be_op_divrem(be, v, in, false, false); return;
    case WASM_OP_I32_REM_S: case WASM_OP_I64_REM_S: be_op_divrem(be, v, in, true, true); return;
    case WASM_OP_I32_REM_U: case WASM_OP_I64_REM_U: be_op_divrem(be, v, in, false, true); return;
    case WASM_OP_I32_CLZ: case WASM_OP_I64_CLZ: be_op_bitcount(be, v, in, 0); return;
    case WASM_OP_I32_CTZ: case WASM_OP_I64_CTZ: be_op_bitcount(be, v, in, 1); return;
    case WASM_OP_I32_POPCNT: case WASM_OP_I64_POPCNT: be_op_bitcount(be, v, in, 2); return;
    case WASM_OP_F32_ADD: case WASM_OP_F64_ADD: be_op_float_binary(be, v, in, SSE_ADD); return;
    case WASM_OP_F32_SUB: case WASM_OP_F64_SUB: be_op_float_binary(be, v, in, SSE_SUB); return;
    case WASM_OP_F32_MUL: case WASM_OP_F64_MUL: be_op_float_binary(be, v, in, SSE_MUL); return;
    case WASM_OP_F32_DIV: case WASM_OP_F64_DIV: be_op_float_binary(be, v, in, SSE_DIV); return;
    case WASM_OP_F32_MIN: case WASM_OP_F64_MIN: be_op_minmax(be, v, in, false); return;
    case WASM_OP_F32_MAX: case WASM_OP_F64_MAX: be_op_minmax(be, v, in, true); return;
    case WASM_OP_F32_ABS: case WASM_OP_F64_ABS: be_op_sign(be, v, in, 0); return;
    case WASM_OP_F32_NEG: case WASM_OP_F64_NEG: be_op_sign(be, v, in, 1); return;
    case WASM_OP_F32_COPYSIGN: case WASM_OP_F64_COPYSIGN: be_op_sign(be, v, in, 2); return;
    case WASM_OP_F32_SQRT: case WASM_OP_F64_SQRT: {
        int d = be_dst_xmm(be, v);
        x86_rm arm = be_xmm_operand(be, in->args[0]);
        x86_sse(cb, in->type == WASM_F64, SSE_SQRT, d - 16, arm);
        be_pool_used(be, arm);
        be_put(be, v, d);
        return;
    }
    case WASM_OP_F32_CEIL: case WASM_OP_F32_FLOOR: case WASM_OP_F32_TRUNC: case WASM_OP_F32_NEAREST:
    case WASM_OP_F64_CEIL: case WASM_OP_F64_FLOOR: case WASM_OP_F64_TRUNC: case WASM_OP_F64_NEAREST: {
        static const uint8_t mode[4] = {0x0a, 0x09, 0x0b, 0x08}; /* ceil floor trunc nearest */
        bool dbl = in->type == WASM_F64;
        int d = be_dst_xmm(be, v);
        be_load_xmm(be, XSCRATCH, in->args[0]);
        x86_round(cb, dbl, d - 16, XSCRATCH, mode[op - (dbl ? WASM_OP_F64_CEIL : WASM_OP_F32_CEIL)]);
        be_put(be, v, d);
        return;
    }
    case WASM_OP_SELECT: be_op_select(be, v, in); return;
    case IR_FUEL: case IR_FUEL_CHECK: be_op_fuel(be, in); return;
    case IR_EPOCH_CHECK: be_op_epoch_check(be, in); return;
    case WASM_OP_CALL: be_op_call(be, v, in); return;
    case WASM_OP_CALL_INDIRECT: be_op_call_indirect(be, v, in); return;
    case WASM_OP_MEMORY_SIZE: case WASM_OP_MEMORY_GROW: be_op_memory(be, v, in); return;
    case WASM_OP_MEMORY_FILL: case WASM_OP_MEMORY_COPY: case WASM_OP_MEMORY_INIT:
    case WASM_OP_DATA_DROP:
        be_op_bulk(be, v, in);
        return;
    case WASM_OP_REF_IS_NULL: be_op_ref_is_null(be, v, in); return;
    case WASM_OP_REF_FUNC: be_op_ref_func(be, v, in); return;
    case WASM_OP_TABLE_GET: be_op_table_get(be, v, in); return;
    case WASM_OP_TABLE_SET: be_op_table_set(be, in); return;
    case WASM_OP_TABLE_SIZE: be_op_table_size(be, v, in); return;
    case WASM_OP_TABLE_GROW: case WASM_OP_TABLE_FILL: case WASM_OP_TABLE_COPY:
    case WASM_OP_TABLE_INIT: case WASM_OP_ELEM_DROP:
        be_op_table_call(be, v, in);
        return;
    case WASM_OP_GLOBAL_GET: {
        uint32_t g = (uint32_t)in->imm;
        x86_rm m = be_global_rm(be, g);
        if (is_xmm_type(in->type)) {
            int d = be_dst_xmm(be, v);
            be_xmm_load(cb, in->type, d - 16, m);
            be_put(be, v, d);
        } else {
            int d = be_dst_gpr(be, v);
            x86_mov_rr(cb, size_of(in->type), d, m);
            be_put(be, v, d);
        }
        return;
    }
    case WASM_OP_GLOBAL_SET: {
        ir_ref a = in->args[0];
        uint8_t t = inst(be, a)->type;
        if (is_xmm_type(t)) {
            be_load_xmm(be, XSCRATCH, a);
            be_xmm_store(cb, t, be_global_rm(be, (uint32_t)in->imm), XSCRATCH);
        } else {
            be_load_gpr(be, RAX, a);
            x86_mov_mr(cb, size_of(t), be_global_rm(be, (uint32_t)in->imm), RAX);
        }
        return;
    }
    }
    if (op >> 8 == 0xfd) {
        be_op_vector(be, v, in);
        return;
    }
    if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_LOAD32_U) {
        be_op_load(be, v, in);
        return;
    }
    if (op >= WASM_OP_I32_STORE && op <= WASM_OP_I64_STORE32) {
        be_op_store(be, in);
        return;
    }
    be_op_convert(be, v, in);
}

unsigned be_temps(backend *be, ir_ref v)
{
    const unsigned c = 1u << RCX, cd = 1u << RCX | 1u << RDX;
    ir_inst *in = inst(be, v);
    uint16_t op = in->op;
    if ((op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) || ir_is_vector_access(op))
        return be_heap_temps(be, in);
    if (op >> 8 == 0xfd && op != WASM_OP_V128_CONST)
        return be_vector_temps(be, in);
    if (op >= WASM_OP_I32_EQZ && op <= WASM_OP_I64_GE_U && in->nargs == 2) {
        /* cmp a, [m] with a spilled; cmp a, rcx for a wide constant */
        int32_t imm;
        ir_ref b = in->args[1];
        bool wide = is_const(be, b) && !be_imm32_of(be, b, op >= WASM_OP_I64_EQ ? SZ64 : SZ32, &imm);
        return be->folded[b] || wide ? c : 0;
    }
    switch (op) {
    case WASM_OP_I32_SHL: case WASM_OP_I32_SHR_S: case WASM_OP_I32_SHR_U:
    case WASM_OP_I32_ROTL: case WASM_OP_I32_ROTR:
    case WASM_OP_I64_SHL: case WASM_OP_I64_SHR_S: case WASM_OP_I64_SHR_U:
    case WASM_OP_I64_ROTL: case WASM_OP_I64_ROTR:
        return is_const(be, in->args[1]) ? 0 : c;
    case WASM_OP_I32_DIV_S: case WASM_OP_I32_DIV_U: case WASM_OP_I32_REM_S: case WASM_OP_I32_REM_U:
    case WASM_OP_I64_DIV_S: case WASM_OP_I64_DIV_U: case WASM_OP_I64_REM_S: case WASM_OP_I64_REM_U:
        return cd;
    case WASM_OP_I32_CLZ: case WASM_OP_I32_CTZ: case WASM_OP_I64_CLZ: case WASM_OP_I64_CTZ:
    case WASM_OP_F32_COPYSIGN: case WASM_OP_F64_COPYSIGN:
    case WASM_OP_F32_CONVERT_I64_U: case WASM_OP_F64_CONVERT_I64_U:
    case WASM_OP_BR_TABLE: case WASM_OP_TABLE_GET: case WASM_OP_TABLE_SET:
        return c;
    case WASM_OP_SELECT: /* its condition in rcx when spilled or in the result's register */
        return is_const(be, in->args[2]) || be_fused_compare(be, in->args[2]) ? 0 : c;
    default:
        return 0;
    }
}

/* The jump tables of br_table: each a header entry (the lea's disp32,
 * block UINT32_MAX, its length) then its targets. */
static void emit_jump_tables(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->table_entries.n;) {
        const table_entry *h = &be->table_entries.v[i];
        static const uint8_t pad[4] = {0xcc, 0xcc, 0xcc, 0xcc};
        cb_bytes(cb, pad, -cb->len % 4);
        uint32_t base = cb->len;
        cb_patch32(cb, h->at, base - (h->at + 4)); /* the lea's rip-relative disp32 */
        for (uint32_t k = 0; k < h->base; k++)
            cb_u32(cb, be->label[be->table_entries.v[i + 1 + k].block] - base);
        i += 1 + h->base;
    }
}

static void emit_stubs(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->stubs.n; i++) {
        trap_stub *s = &be->stubs.v[i];
        x86_bind(cb, s->jump, cb->len);
        if (s->code == WJ_TRAP_STACK_EXHAUSTED)
            x86_mov_rr(cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp: see tier 1's stubs */
        be_trap_here(be, s->code, s->wasm);
        x86_bind(cb, x86_call_rel(cb), be->out->trap_thunk); /* call thunk */
    }
}

/* A change of a value's place at a position: a split value to its slot,
 * a reloaded one into its register for a loop and back (reload.c). */
typedef struct place_event {
    uint32_t pos;
    ir_ref v;
    int reg;
} place_event;

static int compare_events(const void *a, const void *b)
{
    const place_event *x = a, *y = b;
    if (x->pos != y->pos)
        return (x->pos > y->pos) - (x->pos < y->pos);
    return (x->reg != NO_REG) - (y->reg != NO_REG); /* to a slot first */
}

/* The changes of place, in order of position (NULL when out of memory). */
static place_event *place_events(backend *be, uint32_t *n)
{
    ir_func *f = be->ir;
    place_event *e = be_alloc_raw(be, (size_t)f->ninsts + 2 * be->reloads.n + 1, sizeof *e);
    if (!e)
        return NULL;
    *n = 0;
    for (ir_ref v = 1; v < f->ninsts; v++)
        if (be->split_at[v])
            e[(*n)++] = (place_event){be->split_at[v], v, NO_REG};
    for (uint32_t i = 0; i < be->reloads.n; i++) {
        const reload *r = &be->reloads.v[i];
        e[(*n)++] = (place_event){r->from, r->v, r->reg};
        e[(*n)++] = (place_event){r->to + 1, r->v, NO_REG};
    }
    qsort(e, *n, sizeof *e, compare_events);
    return e;
}

/* The loads of the values reloaded for a loop that block b enters. */
static void load_reloads(backend *be, uint32_t b)
{
    for (uint32_t i = 0; i < be->reloads.n; i++) {
        const reload *r = &be->reloads.v[i];
        if (r->entry != b)
            continue;
        uint8_t t = inst(be, r->v)->type;
        x86_rm slot = M_(RBP, be->slot[r->v]);
        if (r->reg >= 16)
            be_xmm_load(be->cb, t, r->reg - 16, slot); /* movsd/movdqu reg, [slot] */
        else
            x86_mov_rr(be->cb, size_of(t), r->reg, slot);            /* mov reg, [slot] */
    }
}

/* A value just computed into its register to its slot too (regalloc.c:
 * one that is split, or that calls in deeper loops save). */
static void store_at_def(backend *be, ir_ref v, ir_inst *in)
{
    int r = be->reg[v];
    x86_rm slot = M_(RBP, be->slot[v]);
    if (r >= 16)
        be_xmm_store(be->cb, in->type, slot, r - 16); /* movsd/movdqu [slot], v */
    else
        x86_mov_mr(be->cb, size_of(in->type), slot, r);            /* mov [slot], v */
}

bool emit_function(backend *be)
{
    ir_func *f = be->ir;
    codebuf *cb = be->cb;
    be->label = be_alloc_raw(be, f->nblocks, sizeof *be->label);
    be->saved_in = be_alloc(be, f->ninsts, sizeof *be->saved_in);
    be->mark = be_alloc(be, f->ninsts, sizeof *be->mark);
    if (!be->label || !be->saved_in || !be->mark)
        return be_fail(be, "out of memory");
    memset(be->label, 0xff, f->nblocks * sizeof *be->label);
    uint32_t frame_at, jump_at;
    emit_head(cb, &frame_at, &jump_at);
    be_trap_jump(be, jump_at, WJ_TRAP_STACK_EXHAUSTED, be->env->m->funcs[f->index].body);
    be_reload_membase(be, true);
    /* the blocks to emit: trampolines go */
    uint32_t n = 0;
    for (uint32_t i = 0; i < be->norder; i++)
        if (i == 0 || !be_is_trampoline(be, be->order[i]))
            be->order[n++] = be->order[i];
    be->norder = n;
    uint32_t nevents, next_event = 0;
    place_event *events = place_events(be, &nevents);
    if (!events)
        return be_fail(be, "out of memory");
    for (uint32_t i = 0; i < be->norder; i++) {
        uint32_t b = be->order[i];
        /* A loop's header on a 32-byte boundary: where a short hot loop
         * falls relative to fetch and decode lines changed its speed by up
         * to a quarter from one layout to the next. */
        if (f->blocks[b].loop_header)
            x86_align(cb, 32);
        be->label[b] = cb->len;
        be->flags_value = 0; /* other ways in */
        be->cur_block = i;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            /* values whose places change here */
            for (; next_event < nevents && events[next_event].pos <= 2 * be->pos[r]; next_event++)
                be->reg[events[next_event].v] = (int8_t)events[next_event].reg;
            if (ir_is_terminator(in->op)) {
                if (be->reload_entry[b])
                    load_reloads(be, b);
                emit_terminator(be, b, in, i + 1 < be->norder ? be->order[i + 1] : UINT32_MAX);
            } else {
                emit_inst(be, r, in);
            }
            if (be->stored_at_def[r] && be->reg[r] != NO_REG && in->op != IR_PARAM)
                store_at_def(be, r, in);
        }
    }
    if (be->why) /* what the pieces below list may be cut short */
        return false;
    for (uint32_t i = 0; i < be->fixups.n; i++)
        x86_bind(cb, be->fixups.v[i].at, be->label[be->fixups.v[i].block]);
    be_emit_lazy_paths(be);
    be_emit_epoch_paths(be);
    emit_stubs(be);
    emit_jump_tables(be);
    vpool_finish(&be->pool, cb);
    uint64_t frame = 8 + 8 * (uint64_t)be->frame_slots + VM_UNIT * (uint64_t)be->max_out;
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > INT32_MAX / 2)
        return be_fail(be, "a frame larger than 1 GiB");
    cb_patch32(cb, frame_at, (uint32_t)frame);
    if (be->pool.oom)
        return be_fail(be, "out of memory");
    return !be->why && !cb->oom;
}

