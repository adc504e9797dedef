/* Tier 2's operands (emit.h): where values live, loading them into
 * registers, results to their places, the constant pool, traps. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

/* A constant's bits as an imm32 of an instruction of `size`, if it fits. */
bool be_imm32_of(backend *be, ir_ref v, int size, int32_t *imm)
{
    if (!is_const(be, v))
        return false;
    uint64_t bits = inst(be, v)->imm;
    if (size == SZ32) {
        *imm = (int32_t)(uint32_t)bits;
        return true;
    }
    if ((int64_t)bits != (int32_t)bits)
        return false;
    *imm = (int32_t)bits;
    return true;
}

/* Where a non-constant value lives: its register or its slot. */
x86_rm be_loc(backend *be, ir_ref v)
{
    int r = be->reg[v];
    if (r != NO_REG)
        return R_(r & 15);
    return M_(RBP, be->slot[v]);
}

/* GPR r = v. */
void be_load_gpr(backend *be, int r, ir_ref v)
{
    ir_inst *in = inst(be, v);
    if (is_const(be, v)) {
        x86_mov_ri64(be->cb, r, in->type == WASM_I32 ? (uint32_t)in->imm : in->imm); /* mov r, imm */
        return;
    }
    if (be->reg[v] == r)
        return;
    x86_mov_rr(be->cb, size_of(in->type), r, be_loc(be, v)); /* mov r, v */
}

/* A float constant's place in the function's pool (after its code): a
 * rip-relative operand, whose disp32 pool_used records once the
 * instruction is emitted. */
x86_rm be_pool_operand(backend *be, ir_ref v)
{
    return vpool_rm(vpool_index_scalar(&be->pool, inst(be, v)->imm));
}

/* The instruction just emitted ends with rm's disp32. */
void be_pool_used(backend *be, x86_rm rm)
{
    vpool_use(&be->pool, be->cb, rm);
}

void be_xmm_load(codebuf *cb, uint8_t t, int x, x86_rm m)
{
    if (t == WASM_V128)
        x86_movdqu_load(cb, x, m);          /* movdqu x, [m] */
    else
        x86_movs_load(cb, t == WASM_F64, x, m); /* movsd/movss x, [m] */
}

void be_xmm_store(codebuf *cb, uint8_t t, x86_rm m, int x)
{
    if (t == WASM_V128)
        x86_movdqu_store(cb, m, x);          /* movdqu [m], x */
    else
        x86_movs_store(cb, t == WASM_F64, m, x); /* movsd/movss [m], x */
}

void be_mem_move(codebuf *cb, uint8_t t, x86_rm dst, x86_rm src)
{
    if (t == WASM_V128) {
        x86_movdqu_load(cb, XSCRATCH, src);  /* movdqu xmm15, [src] */
        x86_movdqu_store(cb, dst, XSCRATCH); /* movdqu [dst], xmm15 */
        return;
    }
    x86_mov_rr(cb, SZ64, R11, src); /* mov r11, [src] */
    x86_mov_mr(cb, SZ64, dst, R11); /* mov [dst], r11 */
}

/* xmm x (0-15) = v. */
void be_load_xmm(backend *be, int x, ir_ref v)
{
    ir_inst *in = inst(be, v);
    bool dbl = in->type == WASM_F64;
    if (is_const(be, v)) {
        if (in->imm == 0) {
            x86_logic_ps(be->cb, 0x57, x, x); /* xorps x, x */
            return;
        }
        x86_rm c = be_pool_operand(be, v);
        x86_movs_load(be->cb, dbl, x, c); /* movsd x, [rip+c] */
        be_pool_used(be, c);
        return;
    }
    int r = be->reg[v];
    if (r == XREG(x))
        return;
    if (r != NO_REG)
        x86_movaps(be->cb, x, r - 16);                    /* movaps x, v */
    else
        be_xmm_load(be->cb, in->type, x, M_(RBP, be->slot[v])); /* movsd/movdqu x, [slot] */
}

/* An r/m operand for v at `size`: its location, or r11 holding it. */
x86_rm be_gpr_operand(backend *be, ir_ref v)
{
    if (!is_const(be, v))
        return be_loc(be, v);
    be_load_gpr(be, R11, v);
    return R_(R11);
}

/* An operand for v: its register, slot or pool entry (the caller hands
 * it to pool_used after the instruction). */
x86_rm be_xmm_operand(backend *be, ir_ref v)
{
    if (!is_const(be, v) && be->reg[v] != NO_REG)
        return R_(be->reg[v] - 16);
    if (!is_const(be, v))
        return M_(RBP, be->slot[v]);
    return be_pool_operand(be, v);
}

/* The register to compute v into: its own, or the temporary. */
int be_dst_gpr(backend *be, ir_ref v) { return be->reg[v] != NO_REG ? be->reg[v] : TMP; }
int be_dst_xmm(backend *be, ir_ref v) { return be->reg[v] != NO_REG ? be->reg[v] : XTMP; }

/* v was computed into register r: to its own place. */
void be_put(backend *be, ir_ref v, int r)
{
    ir_inst *in = inst(be, v);
    if (be->reg[v] == r || be->uses[v] == 0)
        return;
    bool x = r >= 16;
    if (be->reg[v] != NO_REG) {
        if (x)
            x86_movaps(be->cb, be->reg[v] - 16, r - 16);
        else
            x86_mov_rr(be->cb, size_of(in->type), be->reg[v], R_(r));
    } else if (x) {
        be_xmm_store(be->cb, in->type, M_(RBP, be->slot[v]), r - 16);
    } else {
        x86_mov_mr(be->cb, size_of(in->type), M_(RBP, be->slot[v]), r);
    }
}

/* ---- traps, jumps ---- */

void be_trap_jump(backend *be, uint32_t jump, uint32_t code, uint32_t wasm)
{
    if (!VEC_PUSH_OK(be->stubs, {jump, code, wasm}))
        be_fail(be, "out of memory");
}

void be_trap_cb(void *ctx, uint32_t jump, uint32_t code)
{
    backend *be = ctx;
    be_trap_jump(be, jump, code, be->trap_wasm);
}

void be_trap_here(backend *be, uint32_t code, uint32_t wasm)
{
    if (!out_trap(be->out, be->cb->len, code, wasm))
        be_fail(be, "out of memory");
}

