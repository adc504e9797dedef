/* The module output every tier writes to (tier.h). */
#include <stdlib.h>

#include "tier.h"
#include "vmctx.h"

bool vec_grow(void **v, uint32_t *cap, uint32_t elem, uint32_t need)
{
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*v, (size_t)c * elem);
    if (!p)
        return false;
    *v = p;
    *cap = c;
    return true;
}

void out_free(module_out *o)
{
    cb_free(&o->code);
    free(o->traps.v);
    free(o->addrs.v);
    free(o->inlines.v);
    free(o->relocs.v);
    free(o->table_refs.v);
}

bool out_addr(module_out *o, uint32_t native, uint32_t wasm)
{
    if (o->addrs.n && o->addrs.v[o->addrs.n - 1].native == native) {
        o->addrs.v[o->addrs.n - 1].wasm = wasm;
        return true;
    }
    return VEC_PUSH_OK(o->addrs, {native, wasm});
}

bool out_trap(module_out *o, uint32_t native, uint32_t code, uint32_t wasm)
{
    return out_addr(o, native, wasm) && VEC_PUSH_OK(o->traps, {native, code});
}

bool out_reloc(module_out *o, uint32_t at, uint32_t func)
{
    return VEC_PUSH_OK(o->relocs, {at, func});
}

bool emit_direct_call(module_out *o, uint32_t func, bool tiered)
{
    codebuf *cb = &o->code;
    if (!tiered)
        return out_reloc(o, x86_call_rel(cb), func); /* call rel32 */
    int32_t at = (int32_t)(VM_TIER_FUNC_SIZE * func + VM_TIER_CALL);
    x86_mov_rr(cb, SZ64, R11, M_(R15, VMCTX_TIER)); /* mov r11, [r15+tier] */
    x86_call_rm(cb, M_(R11, at));                  /* call [r11+call] */
    return true;
}

void emit_head(codebuf *cb, uint32_t *frame_at, uint32_t *jump_at)
{
    x86_push(cb, RBP);                                   /* push rbp */
    x86_mov_rr(cb, SZ64, RBP, R_(RSP));                  /* mov rbp, rsp */
    x86_enc(cb, 0, true, 0x81, 1, ALU_SUB, R_(RSP), false); /* sub rsp, imm32 (patched) */
    *frame_at = cb->len;
    cb_u32(cb, 0);
    x86_mov_rr(cb, SZ64, R11, M_(R15, VMCTX_STORE)); /* mov r11, [r15+store] */
    x86_alu_rr(cb, ALU_CMP, SZ64, RSP, M_(R11, VM_STORE_STACK_LIMIT)); /* cmp rsp, [r11+limit] */
    *jump_at = x86_jcc(cb, CC_B);                        /* jb stub */
    x86_mov_mr(cb, SZ64, M_(RBP, -8), R15);              /* mov [rbp-8], r15 */
}

void emit_func_align(codebuf *cb)
{
    static const uint8_t int3[16] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
                                     0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
    cb_bytes(cb, int3, -cb->len % 16);
}

void emit_trap_thunk(module_out *o)
{
    o->trap_thunk = o->code.len;
    x86_mov_ri64(&o->code, R11, (uint64_t)(uintptr_t)wj__trap_trampoline); /* mov r11, trampoline */
    x86_jmp_rm(&o->code, R_(R11));                                         /* jmp r11 */
}
