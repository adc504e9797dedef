/*
 * The constant pool (vops.h): 16-byte values (v128.const, masks of SIMD
 * and sign lowerings, f32/f64 constants in their low bytes) placed after a
 * function's code, 16-byte aligned so that SSE instructions may take them
 * as memory operands, and read rip-relative. Function code starts are
 * 16-byte aligned in a page-aligned mapping, so alignment within the
 * module's buffer is alignment in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "tier.h"
#include "vops.h"

static uint32_t vpool_hash(const v128 *v)
{
    uint64_t lo, hi;
    memcpy(&lo, v->b, 8);
    memcpy(&hi, v->b + 8, 8);
    return (uint32_t)((lo * UINT64_C(0x9e3779b97f4a7c15) ^ hi * UINT64_C(0xc2b2ae3d27d4eb4f)) >> 32);
}

/* The free or matching slot of `value` (probing linearly). */
static vpool_slot *vpool_slot_of(vpool *p, const v128 *value)
{
    uint32_t mask = p->slot_cap - 1;
    for (uint32_t h = vpool_hash(value) & mask;; h = (h + 1) & mask) {
        vpool_slot *s = &p->slots[h];
        if (s->gen != p->gen || !memcmp(p->v[s->index].b, value->b, 16))
            return s;
    }
}

/* Room for one more entry in the index, at most half full; false when out
 * of memory. */
static bool vpool_reserve(vpool *p)
{
    if (2 * (p->n + 1) <= p->slot_cap)
        return true;
    uint32_t cap = p->slot_cap ? 2 * p->slot_cap : 64;
    vpool_slot *s = realloc(p->slots, cap * sizeof *s);
    if (!s)
        return false;
    memset(s, 0, cap * sizeof *s); /* generation 0: never live */
    p->slots = s;
    p->slot_cap = cap;
    for (uint32_t i = 0; i < p->n; i++)
        *vpool_slot_of(p, &p->v[i]) = (vpool_slot){p->gen, i};
    return true;
}

/* A function may hold thousands of float constants: hence the index. */
uint32_t vpool_index(vpool *p, v128 value)
{
    /* A function's first entry starts a generation: the index empties. */
    if (p->n == 0 && ++p->gen == 0) {
        if (p->slots)
            memset(p->slots, 0, p->slot_cap * sizeof *p->slots);
        p->gen = 1;
    }
    if (!vpool_reserve(p) || (p->n == p->cap && !vec_grow((void **)&p->v, &p->cap, sizeof *p->v,
                                                           p->n + 1))) {
        p->oom = true;
        return 0;
    }
    vpool_slot *s = vpool_slot_of(p, &value);
    if (s->gen == p->gen)
        return s->index;
    p->v[p->n] = value;
    *s = (vpool_slot){p->gen, p->n};
    return p->n++;
}

uint32_t vpool_index_scalar(vpool *p, uint64_t bits)
{
    v128 v = {0};
    memcpy(v.b, &bits, 8); /* an f32's upper four bytes are zero */
    return vpool_index(p, v);
}

/* Records the disp32 just emitted (the instruction's last 4 bytes). */
static void vpool_ref_here(vpool *p, codebuf *cb, uint32_t index)
{
    if (p->nrefs == p->refs_cap &&
        !vec_grow((void **)&p->refs, &p->refs_cap, sizeof *p->refs, p->nrefs + 1)) {
        p->oom = true;
        return;
    }
    p->refs[p->nrefs++] = (vpool_ref){cb->len - 4, index};
}

x86_rm vpool_rm(uint32_t index)
{
    x86_rm rm = RIP_();
    rm.disp = (int32_t)index;
    return rm;
}

void vpool_use(vpool *p, codebuf *cb, x86_rm rm)
{
    if (rm.rip)
        vpool_ref_here(p, cb, (uint32_t)rm.disp);
}

void vpool_op_at(vpool *p, codebuf *cb, uint8_t prefix, uint32_t op, int x, uint32_t index)
{
    x86_vec(cb, prefix, op, x, RIP_()); /* op x, [rip+const] */
    vpool_ref_here(p, cb, index);
}

void vpool_op(vpool *p, codebuf *cb, uint8_t prefix, uint32_t op, int x, v128 value)
{
    vpool_op_at(p, cb, prefix, op, x, vpool_index(p, value));
}

void vpool_load(vpool *p, codebuf *cb, int x, uint32_t index)
{
    static const v128 zero;
    if (index < p->n && !memcmp(p->v[index].b, zero.b, 16)) {
        x86_vec(cb, 0x66, 0xef, x, R_(x)); /* pxor x, x */
        return;
    }
    x86_vec(cb, 0x66, 0x6f, x, RIP_()); /* movdqa x, [rip+const] */
    vpool_ref_here(p, cb, index);
}

void vpool_finish(vpool *p, codebuf *cb)
{
    if (p->n) {
        while (cb->len % 16 && !cb->oom)
            cb_u8(cb, 0xcc); /* int3 */
        uint32_t pool = cb->len;
        for (uint32_t i = 0; i < p->n; i++)
            cb_bytes(cb, p->v[i].b, 16);
        for (uint32_t i = 0; i < p->nrefs; i++)
            x86_bind(cb, p->refs[i].at, pool + 16 * p->refs[i].index);
    }
    p->n = p->nrefs = 0;
}

void vpool_free(vpool *p)
{
    free(p->v);
    free(p->refs);
    free(p->slots);
    *p = (vpool){0};
}
