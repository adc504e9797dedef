/* Tier 2's calls (emit.h): direct, imported and indirect, libcalls, and
 * the values saved around them. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

/* Marks, after call `call`, the values the next call of its block saves
 * (mark 2k) and those used before that call or by it (2k + 1); 0 when no
 * call follows in the block. */
static uint32_t mark_until_next_call(backend *be, ir_ref call)
{
    ir_ref next = inst(be, call)->next;
    while (next && !is_call_op(inst(be, next)->op))
        next = inst(be, next)->next;
    if (!next)
        return 0;
    uint32_t k = ++be->mark_stamp;
    for (uint32_t i = 0; i < be->save_count[next]; i++)
        be->mark[be->saves.v[be->save_first[next] + i]] = 2 * k;
    for (ir_ref r = inst(be, call)->next;; r = inst(be, r)->next) {
        for (uint32_t a = 0; a < inst(be, r)->nargs; a++)
            be->mark[inst(be, r)->args[a]] = 2 * k + 1;
        if (r == next)
            return k;
    }
}

/* Stores (or loads back) the values in registers live across call v. A
 * value stored before an earlier call of the same block is in its slot
 * still (a value's save slot is its own): calls in a row store once. And
 * one that nothing uses before the next call of the block, which saves it
 * too, stays in its slot until that call loads it back. */
void be_save_across(backend *be, ir_ref call, bool restore)
{
    uint32_t k = 0, placed = 0;
    if (restore) {
        k = mark_until_next_call(be, call);
        /* the call's results (its projections follow it) are in place */
        ir_ref last = call;
        while (inst(be, last)->next && inst(be, inst(be, last)->next)->op == IR_RESULT)
            last = inst(be, last)->next;
        placed = 2 * be->pos[last] + 1;
    }
    for (uint32_t i = 0; i < be->save_count[call]; i++) {
        ir_ref w = be->saves.v[be->save_first[call] + i];
        int r = be->reg[w];
        if (r == NO_REG || (!restore && (inst(be, w)->op == IR_PARAM || be->stored_at_def[w])))
            continue; /* spilled after all; its home or slot holds it */
        if (restore && be->split_at[w] && be->split_at[w] <= placed)
            continue; /* split where a result of the call took its register */
        if (!restore && be->saved_in[w] == be->cur_block + 1)
            continue;
        if (k && be->mark[w] == 2 * k)
            continue;
        if (!restore)
            be->saved_in[w] = be->cur_block + 1;
        x86_rm slot = M_(RBP, be->save_slot[w]);
        uint8_t t = inst(be, w)->type;
        if (r >= 16 && restore)
            be_xmm_load(be->cb, t, r - 16, slot);
        else if (r >= 16)
            be_xmm_store(be->cb, t, slot, r - 16);
        else if (restore)
            x86_mov_rr(be->cb, size_of(t), r, slot);
        else
            x86_mov_mr(be->cb, size_of(t), slot, r);
    }
}

/* The arguments to the outgoing area, as tier 1 passes them. */
static void pass_args(backend *be, const wasm_functype *t, const ir_ref *args)
{
    codebuf *cb = be->cb;
    uint32_t units = 0;
    for (uint32_t i = 0; i < t->nparams; i++) {
        ir_ref a = args[i];
        x86_rm dst = M_(RSP, (int32_t)(VM_UNIT * units));
        uint8_t type = t->params[i];
        int32_t imm;
        if (is_const(be, a) && be_imm32_of(be, a, size_of(type), &imm)) {
            x86_mov_mi(cb, size_of(type), dst, imm); /* mov [rsp+u], imm (a float's bits too) */
        } else if (!is_const(be, a) && be->reg[a] >= 16) {
            be_xmm_store(cb, type, dst, be->reg[a] - 16);
        } else if (!is_const(be, a) && be->reg[a] != NO_REG) {
            x86_mov_mr(cb, size_of(type), dst, be->reg[a]);
        } else if (type == WASM_V128) {
            be_mem_move(cb, type, dst, M_(RBP, be->slot[a]));
        } else {
            be_load_gpr(be, R11, a); /* a float's bits move as an integer */
            x86_mov_mr(cb, size_of(type), dst, R11);
        }
        units += vm_slot_units(type);
    }
    if (units > be->max_out)
        be->max_out = units;
}

void be_map_call(backend *be, uint32_t wasm)
{
    if (!out_addr(be->out, be->cb->len - 1, wasm)) /* the call's last byte */
        be_fail(be, "out of memory");
}

/* After a call that may have entered another instance. */
static void reload_context(backend *be)
{
    x86_mov_rr(be->cb, SZ64, R15, M_(RBP, -8)); /* mov r15, [rbp-8] */
    be_reload_membase(be, true);
}

/* Several results come back in the outgoing area, as tier 1 returns
 * them: each to its projection's place (the projections follow the call). */
static void take_results(backend *be, const wasm_functype *t, ir_inst *in)
{
    codebuf *cb = be->cb;
    uint32_t units = 0;
    for (uint32_t i = 0; i < t->nresults; i++)
        units += vm_slot_units(t->results[i]);
    if (units > be->max_out)
        be->max_out = units;
    for (ir_ref r = in->next; r && inst(be, r)->op == IR_RESULT; r = inst(be, r)->next) {
        ir_inst *p = inst(be, r);
        if (be->uses[r] == 0)
            continue;
        uint32_t u = 0;
        for (uint32_t i = 0; i < p->imm; i++)
            u += vm_slot_units(t->results[i]);
        x86_rm src = M_(RSP, (int32_t)(VM_UNIT * u));
        int reg = be->reg[r];
        if (reg >= 16)
            be_xmm_load(cb, p->type, reg - 16, src);
        else if (reg != NO_REG)
            x86_mov_rr(cb, size_of(p->type), reg, src);
        else
            be_mem_move(cb, p->type, M_(RBP, be->slot[r]), src);
    }
}

/* The results in their places, then what the call clobbered back. */
static void after_call(backend *be, ir_ref v, ir_inst *in, const wasm_functype *t)
{
    /* the results first: a saved value may live in rax's or xmm0's place */
    if (in->type)
        be_put(be, v, is_xmm_type(in->type) ? XREG(0) : RAX);
    else if (t && t->nresults > 1)
        take_results(be, t, in);
    be_save_across(be, v, true);
}

void be_op_call(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    uint32_t func = (uint32_t)in->imm;
    const wasm_functype *t = wasm_func_type(m, func);
    be_save_across(be, v, false);
    pass_args(be, t, in->args);
    if (func >= m->nfunc_imports) {
        uint32_t defined = func - m->nfunc_imports;
        bool placed = be->env->entries &&
                      atomic_load_explicit(&be->env->entries[defined], memory_order_acquire);
        if (!emit_direct_call(be->out, defined, be->env->tiered && !placed))
            be_fail(be, "out of memory");
        be_map_call(be, in->wasm);
        be_reload_membase(be, false); /* the callee may have grown memory 0 */
    } else {
        x86_mov_rr(cb, SZ64, R11, M_(R15, (int32_t)vmctx_func(m, func))); /* mov r11, [r15+func] */
        x86_mov_rr(cb, SZ64, R15, M_(R11, VM_FUNCREF_VMCTX)); /* mov r15, [r11+vmctx] */
        x86_call_rm(cb, M_(R11, VM_FUNCREF_CODE));            /* call [r11+code] */
        be_map_call(be, in->wasm);
        reload_context(be);
    }
    after_call(be, v, in, t);
}

/*
 * call_indirect through funcref table `aux` (tier 1's sequence, tables.c):
 * the bounds check, the element (tagged: bit 0 set once made, 0 before, a
 * null 1) with one test for "not made or null" whose slow path makes it
 * (the lazy trampoline keeps every register) or traps, the type check.
 */
void be_op_call_indirect(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    uint32_t type = (uint32_t)in->imm, table = in->aux;
    const wasm_functype *t = &m->types[type];
    be_save_across(be, v, false);
    pass_args(be, t, in->args);
    be_load_gpr(be, RCX, in->args[t->nparams]); /* the element index */
    x86_mov_rr(cb, SZ64, R11, M_(R15, (int32_t)vmctx_table(m, table))); /* mov r11, [r15+table] */
    x86_alu_rr(cb, ALU_CMP, SZ32, RCX, M_(R11, VM_TABLE_SIZE));        /* cmp ecx, [r11+size] */
    be_trap_jump(be, x86_jcc(cb, CC_AE), WJ_TRAP_UNDEFINED_ELEMENT, in->wasm);
    x86_mov_rr(cb, SZ64, R11, M_(R11, VM_TABLE_ELEMS)); /* mov r11, [r11+elems] */
    x86_mov_rr(cb, SZ64, R11, MI_(R11, RCX, 3, 0));     /* mov r11, [r11+rcx*8] */
    uint32_t resume = cb->len;
    x86_alu_ri(cb, ALU_CMP, SZ64, R_(R11), 1); /* cmp r11, 1 */
    uint32_t jump = x86_jcc(cb, CC_BE);        /* jbe slow */
    if (!VEC_PUSH_OK(be->lazy_paths, {jump, resume, in->wasm, table, LAZY_CALL}))
        be_fail(be, "out of memory");
    /* r11 is tagged: every displacement takes the tag off */
    x86_alu_ri(cb, ALU_CMP, SZ32, M_(R11, VM_FUNCREF_TYPE - 1),
               (int32_t)be->env->type_ids[type]); /* cmp dword [r11+type-1], id */
    be_trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_INDIRECT_TYPE, in->wasm);
    x86_mov_rr(cb, SZ64, R15, M_(R11, VM_FUNCREF_VMCTX - 1)); /* mov r15, [r11+vmctx-1] */
    x86_call_rm(cb, M_(R11, VM_FUNCREF_CODE - 1));            /* call [r11+code-1] */
    be_map_call(be, in->wasm);
    reload_context(be);
    after_call(be, v, in, t);
}

/* The slow paths of call_indirect, table.get and ref.func, after the
 * body: for a call, an initialised null traps; what is not made yet is
 * made (the answer in r11), and the check runs again. */
void be_emit_lazy_paths(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->lazy_paths.n; i++) {
        const lazy_path *p = &be->lazy_paths.v[i];
        x86_bind(cb, p->jump, cb->len);
        if (p->kind == LAZY_CALL) {
            x86_test_rr(cb, SZ64, R_(R11), R11); /* test r11, r11 */
            be_trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_UNINITIALIZED_ELEMENT, p->wasm);
        }
        if (p->kind == LAZY_FUNC) {
            x86_mov_ri64(cb, R11, VM_LAZY_FUNC | p->index); /* mov r11, LAZY_FUNC | func */
        } else if (p->index) {
            x86_mov_ri64(cb, R11, (uint64_t)p->index << 32);  /* mov r11, table << 32 */
            x86_alu_rr(cb, ALU_OR, SZ64, R11, R_(RCX));       /* or r11, rcx */
        } else {
            x86_mov_rr(cb, SZ32, R11, R_(RCX)); /* mov r11d, ecx */
        }
        x86_call_rm(cb, M_(R15, VMCTX_LAZY)); /* call [r15+lazy] */
        be_map_call(be, p->wasm);
        x86_jmp_to(cb, p->resume); /* jmp back to the check */
    }
}

/* A libcall's arguments after vmctx: the immediates, then the operands.
 * The operands are staged in the outgoing area first, so that loading one
 * argument register never overwrites an operand still to be read (they
 * may live in rsi, rdi, r8, r9). */
void be_libcall_args(backend *be, ir_inst *in, const uint32_t *imms, uint32_t nimms)
{
    static const uint8_t abi[] = {RSI, RDX, RCX, R8, R9};
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < in->nargs; i++) {
        ir_ref a = in->args[i];
        if (is_const(be, a))
            continue;
        int size = size_of(inst(be, a)->type);
        x86_rm src = be_loc(be, a);
        if (src.mem) {
            x86_mov_rr(cb, size, R11, src); /* mov r11, [slot] */
            src = R_(R11);
        }
        x86_mov_mr(cb, size, M_(RSP, (int32_t)(VM_UNIT * i)), src.reg); /* mov [rsp+i], a */
    }
    if (in->nargs > be->max_out)
        be->max_out = in->nargs;
    for (uint32_t i = 0; i < nimms; i++)
        x86_mov_ri64(cb, abi[i], imms[i]); /* mov reg, imm */
    for (uint32_t i = 0; i < in->nargs; i++) {
        ir_ref a = in->args[i];
        int r = abi[nimms + i];
        if (is_const(be, a))
            be_load_gpr(be, r, a);
        else
            x86_mov_rr(cb, size_of(inst(be, a)->type), r, M_(RSP, (int32_t)(VM_UNIT * i)));
    }
}

/* Calls C function `func` with vmctx in rdi (the caller loaded the other
 * arguments); the result, if any, and the saved values follow. */
void be_libcall(backend *be, ir_ref v, ir_inst *in, const void *func)
{
    codebuf *cb = be->cb;
    x86_mov_rr(cb, SZ64, RDI, R_(R15));                    /* mov rdi, r15 */
    x86_mov_ri64(cb, RAX, (uint64_t)(uintptr_t)func);      /* mov rax, func */
    x86_call_rm(cb, R_(RAX));                              /* call rax */
    be_map_call(be, in->wasm);
    after_call(be, v, in, NULL);
}

