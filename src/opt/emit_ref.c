/* Tier 2's references and tables (emit.h), as tier 1's (compiler/tables.c,
 * memops.c): a reference is a 64-bit pointer in a GPR, null 0; funcref
 * elements are stored tagged (bit 0 set once made, a null 1, 0 before
 * made) and made on first use through the lazy trampoline; what changes a
 * table's size or copies elements is a libcall. */
#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

void be_op_ref_is_null(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_rm rm = be_gpr_operand(be, in->args[0]);
    if (rm.mem)
        x86_alu_ri(cb, ALU_CMP, SZ64, rm, 0); /* cmp qword [slot], 0 */
    else
        x86_test_rr(cb, SZ64, rm, rm.reg);   /* test r, r */
    int d = be_dst_gpr(be, v);
    x86_setcc(cb, CC_E, d);           /* sete d */
    x86_movzx(cb, d, SZ8, R_(d));     /* movzx d, d8 */
    be_put(be, v, d);
}

static void lazy_path_to(backend *be, uint32_t jump, uint32_t resume, uint32_t wasm,
                         uint32_t index, uint32_t kind)
{
    if (!VEC_PUSH_OK(be->lazy_paths, {jump, resume, wasm, index, kind}))
        be_fail(be, "out of memory");
}

/* An imported function's reference is in vmctx; a defined one's is at a
 * known place after it, made by the slow path the first time (its bit in
 * vmctx says whether it was). */
void be_op_ref_func(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    uint32_t func = (uint32_t)in->imm;
    int d = be_dst_gpr(be, v);
    if (func < m->nfunc_imports) {
        x86_mov_rr(cb, SZ64, d, M_(R15, (int32_t)vmctx_func(m, func))); /* mov d, [r15+func] */
    } else {
        uint32_t slot = be->env->func_slots[func - m->nfunc_imports];
        x86_test_mi8(cb, M_(R15, (int32_t)(vmctx_made(m) + slot / 8)),
                     (uint8_t)(1u << slot % 8)); /* test byte [r15+made], bit */
        uint32_t jump = x86_jcc(cb, CC_E);      /* jz slow */
        lazy_path_to(be, jump, cb->len, in->wasm, func, LAZY_FUNC);
        int64_t at = vmctx_size(m, be->env->nfunc_slots) + (int64_t)slot * VM_FUNC_BYTES;
        x86_lea(cb, SZ64, d, M_(R15, (int32_t)at)); /* lea d, [r15+reference] */
    }
    be_put(be, v, d);
}

/* rcx = the index, r11 = table t's elements after the bounds check; a
 * write marks the table written on the way. */
static void table_elems(backend *be, uint32_t t, ir_ref index, uint32_t wasm, bool write)
{
    codebuf *cb = be->cb;
    be_load_gpr(be, RCX, index);
    x86_mov_rr(cb, SZ64, R11, M_(R15, (int32_t)vmctx_table(be->env->m, t))); /* mov r11, [r15+table] */
    x86_alu_rr(cb, ALU_CMP, SZ32, RCX, M_(R11, VM_TABLE_SIZE));             /* cmp ecx, [r11+size] */
    be_trap_jump(be, x86_jcc(cb, CC_AE), WJ_TRAP_TABLE_OUT_OF_BOUNDS, wasm);
    if (write)
        x86_mov_mi(cb, SZ32, M_(R11, VM_TABLE_WRITTEN), 1); /* mov dword [r11+written], 1 */
    x86_mov_rr(cb, SZ64, R11, M_(R11, VM_TABLE_ELEMS)); /* mov r11, [r11+elems] */
}

static bool funcref_table(backend *be, uint32_t t)
{
    return be->env->m->tables[t].elem == WASM_FUNCREF;
}

/* table.get: the reference, untagged; an element not made yet takes the
 * slow path that makes it. */
void be_op_table_get(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    uint32_t t = (uint32_t)in->imm;
    table_elems(be, t, in->args[0], in->wasm, false);
    int d = be_dst_gpr(be, v);
    if (funcref_table(be, t)) {
        x86_mov_rr(cb, SZ64, R11, MI_(R11, RCX, 3, 0)); /* mov r11, [r11+rcx*8] */
        uint32_t resume = cb->len;
        x86_test_rr(cb, SZ64, R_(R11), R11); /* test r11, r11 */
        lazy_path_to(be, x86_jcc(cb, CC_E), resume, in->wasm, t, LAZY_ELEM); /* jz slow */
        x86_lea(cb, SZ64, d, M_(R11, -1)); /* lea d, [r11-1] */
    } else {
        x86_mov_rr(cb, SZ64, d, MI_(R11, RCX, 3, 0)); /* mov d, [r11+rcx*8] */
    }
    be_put(be, v, d);
}

/* table.set: a funcref is stored tagged (a null as 1). */
void be_op_table_set(backend *be, ir_inst *in)
{
    codebuf *cb = be->cb;
    uint32_t t = (uint32_t)in->imm;
    table_elems(be, t, in->args[0], in->wasm, true);
    be_load_gpr(be, RAX, in->args[1]);
    if (funcref_table(be, t))
        x86_lea(cb, SZ64, RAX, M_(RAX, 1)); /* lea rax, [rax+1] */
    x86_mov_mr(cb, SZ64, MI_(R11, RCX, 3, 0), RAX); /* mov [r11+rcx*8], rax */
}

void be_op_table_size(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    int d = be_dst_gpr(be, v);
    x86_mov_rr(cb, SZ64, d, M_(R15, (int32_t)vmctx_table(be->env->m, (uint32_t)in->imm))); /* mov d, [r15+table] */
    x86_mov_rr(cb, SZ32, d, M_(d, VM_TABLE_SIZE)); /* mov d32, [d+size] */
    be_put(be, v, d);
}

/* table.grow, table.fill, table.copy, table.init and elem.drop: libcalls
 * (vmctx.h) of the immediates then the operands. */
void be_op_table_call(backend *be, ir_ref v, ir_inst *in)
{
    uint32_t imms[2] = {(uint32_t)in->imm, in->aux}, nimms = 1;
    const void *func;
    switch (in->op) {
    case WASM_OP_TABLE_GROW: func = (const void *)wj__table_grow; break;
    case WASM_OP_TABLE_FILL: func = (const void *)wj__table_fill; break;
    case WASM_OP_TABLE_COPY: func = (const void *)wj__table_copy, nimms = 2; break;
    case WASM_OP_TABLE_INIT: func = (const void *)wj__table_init, nimms = 2; break;
    default: func = (const void *)wj__elem_drop; break;
    }
    be_save_across(be, v, false);
    be_libcall_args(be, in, imms, nimms);
    be_libcall(be, v, in, func);
    if (in->op == WASM_OP_TABLE_FILL || in->op == WASM_OP_TABLE_COPY ||
        in->op == WASM_OP_TABLE_INIT) {
        codebuf *cb = be->cb;
        x86_test_rr(cb, SZ32, R_(RAX), RAX); /* test eax, eax */
        be_trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_TABLE_OUT_OF_BOUNDS, in->wasm);
    }
}
