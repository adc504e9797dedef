/* Tier 2's memory instructions (emit.h): loads and stores, globals,
 * memory.size/grow and the bulk operations. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

x86_rm be_heap_operand(backend *be, ir_inst *in)
{
    ir_ref a = in->args[0];
    int32_t disp = (int32_t)in->imm;
    if (is_const(be, a))
        return M_(R14, (int32_t)((uint32_t)inst(be, a)->imm + in->imm));
    if (be->reg[a] != NO_REG)
        return MI_(R14, be->reg[a], 0, disp);
    x86_mov_rr(be->cb, SZ32, R11, be_loc(be, a)); /* mov r11d, [slot] */
    return MI_(R14, R11, 0, disp);
}

void be_op_load(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_rm m = be_heap_operand(be, in);
    if (is_xmm_type(in->type)) {
        int d = be_dst_xmm(be, v);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_load(cb, in->op == WASM_OP_F64_LOAD, d - 16, m); /* movsd d, [m] */
        be_put(be, v, d);
        return;
    }
    int d = be_dst_gpr(be, v);
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    switch (in->op) {
    case WASM_OP_I32_LOAD: case WASM_OP_I64_LOAD32_U: x86_mov_rr(cb, SZ32, d, m); break;
    case WASM_OP_I64_LOAD: x86_mov_rr(cb, SZ64, d, m); break;
    case WASM_OP_I32_LOAD8_S: x86_movsx(cb, SZ32, d, SZ8, m); break;
    case WASM_OP_I32_LOAD8_U: case WASM_OP_I64_LOAD8_U: x86_movzx(cb, d, SZ8, m); break;
    case WASM_OP_I32_LOAD16_S: x86_movsx(cb, SZ32, d, SZ16, m); break;
    case WASM_OP_I32_LOAD16_U: case WASM_OP_I64_LOAD16_U: x86_movzx(cb, d, SZ16, m); break;
    case WASM_OP_I64_LOAD8_S: x86_movsx(cb, SZ64, d, SZ8, m); break;
    case WASM_OP_I64_LOAD16_S: x86_movsx(cb, SZ64, d, SZ16, m); break;
    case WASM_OP_I64_LOAD32_S: x86_movsx(cb, SZ64, d, SZ32, m); break;
    }
    be_put(be, v, d);
}

void be_op_store(backend *be, ir_inst *in)
{
    static const uint8_t sizes[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    codebuf *cb = be->cb;
    int size = sizes[in->op - WASM_OP_I32_STORE];
    ir_ref val = in->args[1];
    int32_t imm;
    bool fl = in->op == WASM_OP_F32_STORE || in->op == WASM_OP_F64_STORE;
    if (fl && !is_const(be, val)) {
        int x = be->reg[val] != NO_REG ? be->reg[val] - 16 : XSCRATCH;
        be_load_xmm(be, x, val);
        x86_rm m = be_heap_operand(be, in);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_store(cb, size == 8, m, x); /* movsd [m], x */
        return;
    }
    bool as_imm = is_const(be, val) && (size < 8 || be_imm32_of(be, val, SZ64, &imm));
    imm = (int32_t)inst(be, val)->imm;
    int r = -1;
    if (!as_imm) {
        r = !is_const(be, val) && be->reg[val] != NO_REG ? be->reg[val] : TMP;
        if (is_const(be, val))
            x86_mov_ri64(cb, TMP, inst(be, val)->imm);
        else
            be_load_gpr(be, r, val);
    }
    x86_rm m = be_heap_operand(be, in);
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    if (as_imm)
        x86_mov_mi(cb, size, m, imm); /* mov size [m], imm */
    else
        x86_mov_mr(cb, size, m, r);   /* mov size [m], r */
}

x86_rm be_global_rm(backend *be, uint32_t g)
{
    x86_rm slot = M_(R15, (int32_t)vmctx_global(be->env->m, g));
    if (!vm_global_indirect(be->env->m, g))
        return slot;
    x86_mov_rr(be->cb, SZ64, R11, slot); /* mov r11, [r15+global] */
    return M_(R11, 0);
}

/* memory.size and memory.grow of a static memory 0 (its base stays). */
void be_op_memory(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    if (in->op == WASM_OP_MEMORY_SIZE) {
        int d = be_dst_gpr(be, v);
        x86_mov_rr(cb, SZ64, d, M_(R15, (int32_t)vmctx_memory(m, 0))); /* mov d, [r15+mem] */
        x86_mov_rr(cb, SZ32, d, M_(d, VM_MEMORY_PAGES));                /* mov d, [d+pages] */
        be_put(be, v, d);
        return;
    }
    be_save_across(be, v, false);
    be_load_gpr(be, RDX, in->args[0]);     /* the delta */
    x86_mov_ri64(cb, RSI, 0);           /* mov esi, memory 0 */
    be_libcall(be, v, in, (const void *)wj__memory_grow);
}

/* memory.fill and memory.copy within memory 0: libcalls that trap out of
 * bounds. */
void be_op_bulk(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    be_save_across(be, v, false);
    /* The operands (dst, value or src, n) are read into registers the
     * allocator never hands out first: r8 and r9, arguments too, may hold
     * operands not read yet. */
    bool fill = in->op == WASM_OP_MEMORY_FILL;
    be_load_gpr(be, fill ? RDX : RCX, in->args[0]);
    be_load_gpr(be, fill ? RCX : RAX, in->args[1]);
    be_load_gpr(be, R11, in->args[2]);
    if (fill) {
        x86_mov_rr(cb, SZ64, R8, R_(R11)); /* mov r8, n */
    } else {
        x86_mov_rr(cb, SZ64, R8, R_(RAX)); /* mov r8, src */
        x86_mov_rr(cb, SZ64, R9, R_(R11)); /* mov r9, n */
        x86_mov_ri64(cb, RDX, 0);          /* mov edx, memory 0 (the source's) */
    }
    x86_mov_ri64(cb, RSI, 0); /* mov esi, memory 0 */
    be_libcall(be, v, in, fill ? (const void *)wj__memory_fill : (const void *)wj__memory_copy);
    x86_test_rr(cb, SZ32, R_(RAX), RAX); /* test eax, eax */
    be_trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
}

