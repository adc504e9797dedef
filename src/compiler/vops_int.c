/* The integer lane instructions of the 0xFD prefix: dispatch, comparisons
 * and lane arithmetic. SSE4.1 has no 64-bit signed compare (pcmpgtq is
 * SSE4.2), no 64-bit abs and no 64-bit multiply: those are built from
 * 32-bit lanes. */
#include "vops_impl.h"

/* pcmpeqb/w/d/q, pcmpgtb/w/d, pminub/uw/ud, pmaxub/uw/ud */
static const uint32_t pcmpeq[4] = {0x74, 0x75, 0x76, 0x3829};
static const uint32_t pcmpgt[3] = {0x64, 0x65, 0x66};
static const uint32_t pminu[3] = {0xda, 0x383a, 0x383b};
static const uint32_t pmaxu[3] = {0xde, 0x383e, 0x383f};

/* x = x > y (signed lanes); y is kept; t is clobbered for 64-bit lanes.
 * For those, the high dwords decide unless they are equal; then y - x
 * borrows from the high dword exactly when x's low dword is above y's. */
static void greater(codebuf *cb, int size, int x, int y, int t)
{
    if (size < 3) {
        v_op(cb, pcmpgt[size], x, y); /* pcmpgt{b,w,d} x, y */
        return;
    }
    x86_movaps(cb, t, y);                            /* movaps t, y */
    v_op(cb, 0xfb, t, x);                            /* psubq t, x */
    x86_movaps(cb, XSCRATCH, x);                     /* movaps xmm15, x */
    x86_vec(cb, 0x66, 0x76, XSCRATCH, R_(y));        /* pcmpeqd xmm15, y */
    x86_vec(cb, 0x66, 0xdb, t, R_(XSCRATCH));        /* pand t, xmm15 */
    v_op(cb, 0x66, x, y);                            /* pcmpgtd x, y */
    v_op(cb, 0xeb, x, t);                            /* por x, t */
    x86_vec_i(cb, 0x66, 0x70, x, R_(x), 0xf5);       /* pshufd x, x, 0xf5 */
}

/* x = x == extreme(x, y): with pminu x <= y, with pmaxu x >= y (unsigned). */
static void unsigned_order(codebuf *cb, int size, const uint32_t *extreme, int x, int y)
{
    x86_movaps(cb, XSCRATCH, x);                       /* movaps xmm15, x */
    x86_vec(cb, 0x66, extreme[size], XSCRATCH, R_(y)); /* pminu/pmaxu xmm15, y */
    x86_vec(cb, 0x66, pcmpeq[size], x, R_(XSCRATCH));  /* pcmpeq x, xmm15 */
}

/* k: 0 eq, 1 ne, 2 lt_s, 3 lt_u, 4 gt_s, 5 gt_u, 6 le_s, 7 le_u, 8 ge_s,
 * 9 ge_u (the order of the opcodes). lt_s is gt_s with the operands
 * swapped, le_s and ge_s the negations of gt_s and lt_s; le_u and ge_u come
 * from min and max, gt_u and lt_u are their negations. */
static int compare(codebuf *cb, int size, int k, const vop_regs *r)
{
    int a = r->a, b = r->b, res = a;
    switch (k) {
    case 0: case 1: v_op(cb, pcmpeq[size], a, b); break; /* pcmpeq a, b */
    case 2: case 8: greater(cb, size, b, a, r->t), res = b; break;
    case 4: case 6: greater(cb, size, a, b, r->t); break;
    case 3: case 9: unsigned_order(cb, size, pmaxu, a, b); break;
    default: unsigned_order(cb, size, pminu, a, b); break; /* 5, 7 */
    }
    if (k == 1 || k == 3 || k == 5 || k == 6 || k == 8)
        v_not(cb, res);
    return res;
}

/* i8x16.popcnt: pshufb looks up the count of each nibble in a table. */
static int popcnt(codebuf *cb, vpool *p, int a, int t)
{
    static const v128 counts = {{0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4}};
    x86_movaps(cb, XSCRATCH, a);                         /* movaps xmm15, a */
    x86_vec_i(cb, 0x66, 0x71, 2, R_(XSCRATCH), 4);       /* psrlw xmm15, 4 */
    vpool_op(p, cb, 0x66, 0xdb, XSCRATCH, vop_bytes(0x0f)); /* pand xmm15, [0x0f...] */
    vpool_op(p, cb, 0x66, 0xdb, a, vop_bytes(0x0f));        /* pand a, [0x0f...] */
    vpool_load(p, cb, t, vpool_index(p, counts));         /* movdqa t, [counts] */
    x86_vec(cb, 0x66, 0x3800, t, R_(a));                 /* pshufb t, a */
    vpool_load(p, cb, a, vpool_index(p, counts));         /* movdqa a, [counts] */
    x86_vec(cb, 0x66, 0x3800, a, R_(XSCRATCH));          /* pshufb a, xmm15 */
    v_op(cb, 0xfc, a, t);                                /* paddb a, t */
    return a;
}

/* i64x2.mul from 32-bit products: lo*lo + ((hi*lo + lo*hi) << 32). */
static int mul64(codebuf *cb, int a, int b, int t)
{
    x86_movaps(cb, XSCRATCH, a);                    /* movaps xmm15, a */
    x86_vec_i(cb, 0x66, 0x73, 2, R_(XSCRATCH), 32); /* psrlq xmm15, 32 */
    x86_vec(cb, 0x66, 0xf4, XSCRATCH, R_(b));       /* pmuludq xmm15, b */
    x86_movaps(cb, t, b);                           /* movaps t, b */
    x86_vec_i(cb, 0x66, 0x73, 2, R_(t), 32);        /* psrlq t, 32 */
    v_op(cb, 0xf4, t, a);                           /* pmuludq t, a */
    x86_vec(cb, 0x66, 0xd4, XSCRATCH, R_(t));       /* paddq xmm15, t */
    x86_vec_i(cb, 0x66, 0x73, 6, R_(XSCRATCH), 32); /* psllq xmm15, 32 */
    v_op(cb, 0xf4, a, b);                           /* pmuludq a, b */
    x86_vec(cb, 0x66, 0xd4, a, R_(XSCRATCH));       /* paddq a, xmm15 */
    return a;
}

/* abs (0x60, 0x80, 0xa0, 0xc0) and neg (0x61, ...). */
static int abs_neg(codebuf *cb, int size, bool neg, int a)
{
    if (neg) {
        static const uint32_t psub[4] = {0xf8, 0xf9, 0xfa, 0xfb}; /* psubb/w/d/q */
        x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));        /* pxor xmm15, xmm15 */
        x86_vec(cb, 0x66, psub[size], XSCRATCH, R_(a));         /* psub xmm15, a */
        x86_movaps(cb, a, XSCRATCH);                            /* movaps a, xmm15 */
    } else if (size < 3) {
        x86_vec(cb, 0x66, 0x381c + (uint32_t)size, a, R_(a)); /* pabs{b,w,d} a, a */
    } else { /* (a ^ s) - s with s the sign of each lane */
        x86_vec_i(cb, 0x66, 0x70, XSCRATCH, R_(a), 0xf5); /* pshufd xmm15, a, 0xf5 */
        x86_vec_i(cb, 0x66, 0x72, 4, R_(XSCRATCH), 31);   /* psrad xmm15, 31 */
        x86_vec(cb, 0x66, 0xef, a, R_(XSCRATCH));         /* pxor a, xmm15 */
        x86_vec(cb, 0x66, 0xfb, a, R_(XSCRATCH));         /* psubq a, xmm15 */
    }
    return a;
}

/* all_true: no lane equals zero. */
static int all_true(codebuf *cb, int size, int a)
{
    x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));   /* pxor xmm15, xmm15 */
    x86_vec(cb, 0x66, pcmpeq[size], XSCRATCH, R_(a));  /* pcmpeq xmm15, a */
    x86_vec(cb, 0x66, 0x3817, XSCRATCH, R_(XSCRATCH)); /* ptest xmm15, xmm15 */
    return VOP_FLAGS(CC_E);
}

/* bitmask: the top bit of each lane, into g. */
static int bitmask(codebuf *cb, int size, int a, int g)
{
    switch (size) {
    case 0: x86_vec(cb, 0x66, 0xd7, g, R_(a)); break; /* pmovmskb g, a */
    case 1: /* the words saturated to bytes keep their sign; both halves alike */
        x86_vec(cb, 0x66, 0x63, a, R_(a));         /* packsswb a, a */
        x86_vec(cb, 0x66, 0xd7, g, R_(a));         /* pmovmskb g, a */
        x86_shift_i(cb, 5, SZ32, R_(g), 8);        /* shr g, 8 */
        break;
    case 2: x86_vec(cb, 0, 0x50, g, R_(a)); break;    /* movmskps g, a */
    default: x86_vec(cb, 0x66, 0x50, g, R_(a)); break; /* movmskpd g, a */
    }
    return g;
}

int vops_int(codebuf *cb, vpool *p, uint32_t op, vop_regs *r)
{
    if (op >= 0x23 && op <= 0x40) /* comparisons of 8, 16 and 32-bit lanes */
        return compare(cb, (int)(op - 0x23) / 10, (int)(op - 0x23) % 10, r);
    if (op >= 0xd6 && op <= 0xdb) { /* i64x2 eq ne lt_s gt_s le_s ge_s */
        static const int k[] = {0, 1, 2, 4, 6, 8};
        return compare(cb, 3, k[op - 0xd6], r);
    }
    if (op < 0x60 || op > 0xdf)
        return -1;
    int res = vops_widen(cb, p, op, r);
    if (res >= 0)
        return res;
    /* From 0x60 on each lane size has a row of 32 opcodes. */
    int size = (int)(op - 0x60) >> 5;
    switch ((op - 0x60) & 0x1f) {
    case 0x00: return abs_neg(cb, size, false, r->a);
    case 0x01: return abs_neg(cb, size, true, r->a);
    case 0x03: return all_true(cb, size, r->a);
    case 0x04: return bitmask(cb, size, r->a, r->g);
    case 0x0b: case 0x0c: case 0x0d: return vops_shift(cb, p, op, r);
    }
    if (op == 0x62)
        return popcnt(cb, p, r->a, r->t);
    if (op == 0xd5)
        return mul64(cb, r->a, r->b, r->t);
    return -1;
}
