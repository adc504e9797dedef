/*
 * Table elements and function references in compiled code: bounds-checked
 * reads and writes, the tag of funcref elements (vmctx.h: bit 0 set once
 * initialised, 0 before) with the out-of-line slow path that initialises
 * them, and ref.func.
 */
#include "func.h"
#include "wasmjail.h"

static bool funcref_table(const fn *f, uint32_t t)
{
    return f->m->tables[t].elem == WASM_FUNCREF;
}

/* r11 = table t's elements after checking idx < size (else trap `code`);
 * for a write, the table is marked written on the way. */
static void table_elems(fn *f, uint32_t t, int idx, uint32_t code, bool write)
{
    codebuf *cb = f->cb;
    x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, (int32_t)vmctx_table(f->m, t))); /* mov r11, [r15+table] */
    x86_alu_rr(cb, ALU_CMP, SZ32, idx, M_(SCRATCH, VM_TABLE_SIZE)); /* cmp idx, [r11+size] */
    trap_if(f, CC_AE, code);                                        /* jae stub */
    if (write)
        x86_mov_mi(cb, SZ32, M_(SCRATCH, VM_TABLE_WRITTEN), 1); /* mov dword [r11+written], 1 */
    x86_mov_rr(cb, SZ64, SCRATCH, M_(SCRATCH, VM_TABLE_ELEMS)); /* mov r11, [r11+elems] */
}

/* Asks wj__lazy_trampoline for what `request` (r11, already set) names. */
static void lazy_call(fn *f)
{
    x86_call_rm(f->cb, M_(VMCTX, VMCTX_LAZY)); /* call [r15+lazy] */
    addr_call(f);
}

/*
 * r11 = element idx of funcref table t as stored (tagged), after the
 * bounds check. An element not initialised yet (0) takes a slow path
 * that initialises it and comes back to the check. For a call, a null
 * element (1) traps there too, so the fast path tests once (r11 <= 1).
 */
static void load_funcref(fn *f, uint32_t t, int idx, bool call)
{
    codebuf *cb = f->cb;
    table_elems(f, t, idx, call ? WJ_TRAP_UNDEFINED_ELEMENT : WJ_TRAP_TABLE_OUT_OF_BOUNDS, false);
    x86_mov_rr(cb, SZ64, SCRATCH, MI_(SCRATCH, idx, 3, 0)); /* mov r11, [r11+idx*8] */
    uint32_t resume = cb->len;
    uint32_t jump;
    if (call) {
        x86_alu_ri(cb, ALU_CMP, SZ64, R_(SCRATCH), 1); /* cmp r11, 1 */
        jump = x86_jcc(cb, CC_BE);                     /* jbe slow */
    } else {
        x86_test_rr(cb, SZ64, R_(SCRATCH), SCRATCH); /* test r11, r11 */
        jump = x86_jcc(cb, CC_E);                    /* jz slow */
    }
    VEC_PUSH(f, f->lazy_stubs, {jump, resume, f->pos, t, (uint8_t)idx, call, false});
}

void tables_finish(fn *f)
{
    codebuf *cb = f->cb;
    for (uint32_t i = 0; i < f->lazy_stubs.n; i++) {
        const lazy_stub *s = &f->lazy_stubs.v[i];
        x86_bind(cb, s->jump, cb->len);
        f->pos = s->wasm;
        if (s->call) { /* an initialised null */
            x86_test_rr(cb, SZ64, R_(SCRATCH), SCRATCH);      /* test r11, r11 */
            trap_if(f, CC_NE, WJ_TRAP_UNINITIALIZED_ELEMENT); /* jnz stub */
        }
        if (s->func) {
            x86_mov_ri64(cb, SCRATCH, VM_LAZY_FUNC | s->index); /* mov r11, LAZY_FUNC | func */
        } else if (s->index) {
            x86_mov_ri64(cb, SCRATCH, (uint64_t)s->index << 32); /* mov r11, table << 32 */
            x86_alu_rr(cb, ALU_OR, SZ64, SCRATCH, R_(s->idx));  /* or r11, idx */
        } else {
            x86_mov_rr(cb, SZ32, SCRATCH, R_(s->idx)); /* mov r11d, idx */
        }
        lazy_call(f);
        x86_jmp_to(cb, s->resume); /* jmp back to the check */
    }
}

/* call_indirect (validation allows funcref tables only): the checks, then
 * the call through the element; idx stays in its register. */
void call_indirect_target(fn *f, uint32_t type, uint32_t table, int idx)
{
    codebuf *cb = f->cb;
    load_funcref(f, table, idx, true);
    /* r11 is tagged: every displacement takes the tag off */
    x86_alu_ri(cb, ALU_CMP, SZ32, M_(SCRATCH, VM_FUNCREF_TYPE - 1),
               (int32_t)f->type_ids[type]); /* cmp dword [r11+type-1], id */
    trap_if(f, CC_NE, WJ_TRAP_INDIRECT_TYPE); /* jne stub */
    x86_mov_rr(cb, SZ64, VMCTX, M_(SCRATCH, VM_FUNCREF_VMCTX - 1)); /* mov r15, [r11+vmctx-1] */
    x86_call_rm(cb, M_(SCRATCH, VM_FUNCREF_CODE - 1));              /* call [r11+code-1] */
}

/* table.get: the reference, untagged. */
static void table_get(fn *f, uint32_t t)
{
    int idx = pop_reg(f, 0);
    if (funcref_table(f, t)) {
        load_funcref(f, t, idx, false);
        x86_lea(f->cb, SZ64, idx, M_(SCRATCH, -1)); /* lea idx, [r11-1] */
    } else {
        table_elems(f, t, idx, WJ_TRAP_TABLE_OUT_OF_BOUNDS, false);
        x86_mov_rr(f->cb, SZ64, idx, MI_(SCRATCH, idx, 3, 0)); /* mov idx, [r11+idx*8] */
    }
    push_reg(f, f->m->tables[t].elem, idx);
}

/* table.set: a funcref is stored tagged (a null as 1). */
static void table_set(fn *f, uint32_t t)
{
    codebuf *cb = f->cb;
    int v = pop_reg(f, 0);
    int idx = pop_reg(f, 1u << v);
    table_elems(f, t, idx, WJ_TRAP_TABLE_OUT_OF_BOUNDS, true);
    if (funcref_table(f, t)) {
        x86_lea(cb, SZ64, idx, MI_(SCRATCH, idx, 3, 0)); /* lea idx, [r11+idx*8] */
        x86_lea(cb, SZ64, SCRATCH, M_(v, 1));            /* lea r11, [v+1] */
        x86_mov_mr(cb, SZ64, M_(idx, 0), SCRATCH);        /* mov [idx], r11 */
    } else {
        x86_mov_mr(cb, SZ64, MI_(SCRATCH, idx, 3, 0), v); /* mov [r11+idx*8], v */
    }
    reg_free(f, v), reg_free(f, idx);
}

/* ref.func: an imported function's reference is in vmctx; a defined
 * one's is at a known place after it, made by the slow path the first
 * time (its bit in vmctx says whether it was). */
static void ref_func(fn *f, uint32_t func)
{
    codebuf *cb = f->cb;
    int reg = reg_alloc(f, false);
    if (func < f->m->nfunc_imports) {
        x86_mov_rr(cb, SZ64, reg, M_(VMCTX, (int32_t)vmctx_func(f->m, func))); /* mov r, [r15+func] */
    } else {
        uint32_t slot = f->func_slots[func - f->m->nfunc_imports];
        x86_test_mi8(cb, M_(VMCTX, (int32_t)(vmctx_made(f->m) + slot / 8)),
                     (uint8_t)(1u << slot % 8)); /* test byte [r15+made], bit */
        uint32_t jump = x86_jcc(cb, CC_E);      /* jz slow */
        VEC_PUSH(f, f->lazy_stubs, {jump, cb->len, f->pos, func, 0, false, true});
        int64_t at = vmctx_size(f->m, f->nfunc_slots) + (int64_t)slot * VM_FUNC_BYTES;
        x86_lea(cb, SZ64, reg, M_(VMCTX, (int32_t)at)); /* lea r, [r15+reference] */
    }
    push_reg(f, WASM_FUNCREF, reg);
}

void op_table(fn *f, const wasm_instr *ins)
{
    switch (ins->op) {
    case WASM_OP_TABLE_GET: table_get(f, ins->index); break;
    case WASM_OP_TABLE_SET: table_set(f, ins->index); break;
    default: ref_func(f, ins->index); break;
    }
}
