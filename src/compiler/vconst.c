/*
 * The constant pool: 16-byte values (v128.const, masks of SIMD and sign
 * lowerings, f32/f64 constants in their low bytes) placed after a
 * function's code, 16-byte aligned so that SSE instructions
 * may take them as memory operands, and read rip-relative. Function code
 * starts are 16-byte aligned in a page-aligned mapping, so alignment within
 * the module's buffer is alignment in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "func.h"

static uint32_t vconst_hash(const v128 *v)
{
    uint64_t lo, hi;
    memcpy(&lo, v->b, 8);
    memcpy(&hi, v->b + 8, 8);
    return (uint32_t)((lo * UINT64_C(0x9e3779b97f4a7c15) ^ hi * UINT64_C(0xc2b2ae3d27d4eb4f)) >> 32);
}

/* The free or matching slot of `value` (probing linearly). */
static vconst_slot *vconst_slot_of(fn *f, const v128 *value)
{
    uint32_t mask = f->vconst_slot_cap - 1;
    for (uint32_t h = vconst_hash(value) & mask;; h = (h + 1) & mask) {
        vconst_slot *s = &f->vconst_slots[h];
        if (s->gen != f->vconst_gen || !memcmp(f->vconsts.v[s->index].b, value->b, 16))
            return s;
    }
}

/* Room for one more entry in the index, at most half full; false when out
 * of memory. */
static bool vconst_reserve(fn *f)
{
    uint32_t n = f->vconsts.n;
    if (2 * (n + 1) <= f->vconst_slot_cap)
        return true;
    uint32_t cap = f->vconst_slot_cap ? 2 * f->vconst_slot_cap : 64;
    vconst_slot *s = realloc(f->vconst_slots, cap * sizeof *s);
    if (!s)
        return fn_oom(f);
    memset(s, 0, cap * sizeof *s); /* generation 0: never live */
    f->vconst_slots = s;
    f->vconst_slot_cap = cap;
    for (uint32_t i = 0; i < n; i++)
        *vconst_slot_of(f, &f->vconsts.v[i]) = (vconst_slot){f->vconst_gen, i};
    return true;
}

/* Equal values share an entry, found through a hash index: a function
 * may hold thousands of float constants. */
uint32_t vconst_index(fn *f, v128 value)
{
    /* A function's first entry starts a generation: the index empties. */
    if (f->vconsts.n == 0 && ++f->vconst_gen == 0) {
        if (f->vconst_slots)
            memset(f->vconst_slots, 0, f->vconst_slot_cap * sizeof *f->vconst_slots);
        f->vconst_gen = 1;
    }
    if (!vconst_reserve(f))
        return 0;
    vconst_slot *s = vconst_slot_of(f, &value);
    if (s->gen == f->vconst_gen)
        return s->index;
    if (!VEC_PUSH(f, f->vconsts, value))
        return 0;
    *s = (vconst_slot){f->vconst_gen, f->vconsts.n - 1};
    return s->index;
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
