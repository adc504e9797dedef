/*
 * The constant pool: 16-byte values (v128.const, masks of SIMD and sign
 * lowerings, f32/f64 constants in their low bytes) placed after a
 * function's code, 16-byte aligned so that SSE instructions
 * may take them as memory operands, and read rip-relative. Function code
 * starts are 16-byte aligned in a page-aligned mapping, so alignment within
 * the module's buffer is alignment in memory.
 */
#include <string.h>

#include "func.h"

uint32_t vconst_index(fn *f, v128 value)
{
    for (uint32_t i = 0; i < f->vconsts.n; i++)
        if (!memcmp(f->vconsts.v[i].b, value.b, 16))
            return i;
    VEC_PUSH(f, f->vconsts, value);
    return f->vconsts.n ? f->vconsts.n - 1 : 0;
}

uint32_t fconst_index(fn *f, uint64_t bits)
{
    v128 v = {0};
    memcpy(v.b, &bits, 8); /* an f32's upper four bytes are zero */
    return vconst_index(f, v);
}

/* Records the disp32 just emitted (the instruction's last 4 bytes). */
static void vconst_ref_here(fn *f, uint32_t index)
{
    VEC_PUSH(f, f->vconst_refs, {f->cb->len - 4, index});
}

x86_rm vconst_rm(uint32_t index)
{
    x86_rm rm = RIP_();
    rm.disp = (int32_t)index;
    return rm;
}

void vconst_use(fn *f, x86_rm rm)
{
    if (rm.rip)
        vconst_ref_here(f, (uint32_t)rm.disp);
}

void vconst_op_at(fn *f, uint8_t prefix, uint32_t op, int dst, uint32_t index)
{
    x86_vec(f->cb, prefix, op, dst, RIP_()); /* op x, [rip+const] */
    vconst_ref_here(f, index);
}

void vconst_op(fn *f, uint8_t prefix, uint32_t op, int dst, v128 value)
{
    vconst_op_at(f, prefix, op, dst, vconst_index(f, value));
}

void vconst_load(fn *f, int dst, uint32_t index)
{
    static const v128 zero;
    if (index < f->vconsts.n && !memcmp(f->vconsts.v[index].b, zero.b, 16)) {
        x86_vec(f->cb, 0x66, 0xef, dst, R_(dst)); /* pxor x, x */
        return;
    }
    x86_vec(f->cb, 0x66, 0x6f, dst, RIP_()); /* movdqa x, [rip+const] */
    vconst_ref_here(f, index);
}

void vconst_finish(fn *f)
{
    codebuf *cb = f->cb;
    if (!f->vconsts.n)
        return;
    while (cb->len % 16 && !cb->oom)
        cb_u8(cb, 0xcc); /* int3 */
    uint32_t pool = cb->len;
    for (uint32_t i = 0; i < f->vconsts.n; i++)
        cb_bytes(cb, f->vconsts.v[i].b, 16);
    for (uint32_t i = 0; i < f->vconst_refs.n; i++) {
        const vconst_ref *r = &f->vconst_refs.v[i];
        x86_bind(cb, r->at, pool + 16 * r->index);
    }
}
