/* Integer lane instructions that compute in wider lanes: extend_low/high,
 * extmul_low/high, extadd_pairwise, and i16x8.q15mulr_sat_s (the high half
 * of 32-bit products). "high" halves are moved down first, then widened
 * like the low ones. */
#include "vops_impl.h"

/* pmovsxbw/wd/dq and pmovzxbw/wd/dq, by the size of the result. */
static const uint32_t pmovsx[4] = {0, 0x3820, 0x3823, 0x3825};
static const uint32_t pmovzx[4] = {0, 0x3830, 0x3833, 0x3835};

/* x's high 8 bytes to its low ones. */
static void high_down(codebuf *cb, int x)
{
    x86_vec_i(cb, 0x66, 0x70, x, R_(x), 0xee); /* pshufd x, x, 0xee */
}

static void widen(codebuf *cb, int size, bool u, int x)
{
    v_op(cb, u ? pmovzx[size] : pmovsx[size], x, x); /* pmov{s,z}x x, x */
}

/* extend_low/high_s/u: 0x87-0x8a, 0xa7-0xaa, 0xc7-0xca; `size` that of the
 * result, k: 0 low_s, 1 high_s, 2 low_u, 3 high_u. */
static int extend(codebuf *cb, int size, int k, int x)
{
    if (k & 1)
        high_down(cb, x);
    widen(cb, size, k >= 2, x);
    return x;
}

/* extmul_low/high_s/u: 0x9c-0x9f, 0xbc-0xbf, 0xdc-0xdf; k as extend's. */
static int extmul(codebuf *cb, int size, int k, int a, int b)
{
    bool high = k & 1, u = k >= 2;
    switch (size) {
    case 1: /* i16 products of widened bytes */
        if (high)
            high_down(cb, a), high_down(cb, b);
        widen(cb, 1, u, a);
        widen(cb, 1, u, b);
        v_op(cb, 0xd5, a, b); /* pmullw a, b */
        break;
    case 2: /* the low and high words of the i16 products interleaved */
        x86_movaps(cb, XSCRATCH, a);                               /* movaps xmm15, a */
        v_op(cb, 0xd5, a, b);                                      /* pmullw a, b */
        x86_vec(cb, 0x66, u ? 0xe4 : 0xe5, XSCRATCH, R_(b));       /* pmulh{u,}w xmm15, b */
        x86_vec(cb, 0x66, high ? 0x69 : 0x61, a, R_(XSCRATCH));    /* punpck{h,l}wd a, xmm15 */
        break;
    default: { /* pmuldq / pmuludq multiply the even dwords */
        uint8_t pick = high ? 0xfa : 0x50; /* dwords 2,2,3,3 or 0,0,1,1 */
        x86_vec_i(cb, 0x66, 0x70, a, R_(a), pick); /* pshufd a, a, pick */
        x86_vec_i(cb, 0x66, 0x70, b, R_(b), pick); /* pshufd b, b, pick */
        v_op(cb, u ? 0xf4 : 0x3828, a, b);         /* pmul{u,}dq a, b */
        break;
    }
    }
    return a;
}

/* extadd_pairwise: 0x7c i8->i16 s, 0x7d u, 0x7e i16->i32 s, 0x7f u, as
 * multiply-adds by 1. pmaddubsw takes its first operand unsigned, its
 * second signed; pmaddwd is signed only, so unsigned words are biased by
 * -0x8000 and the two biases added back. */
static int extadd_pairwise(codebuf *cb, vpool *p, uint32_t op, int x)
{
    switch (op) {
    case 0x7c:
        vpool_load(p, cb, XSCRATCH, vpool_index(p, vop_bytes(1))); /* movdqa xmm15, [1...] */
        x86_vec(cb, 0x66, 0x3804, XSCRATCH, R_(x));              /* pmaddubsw xmm15, x */
        x86_movaps(cb, x, XSCRATCH);                             /* movaps x, xmm15 */
        break;
    case 0x7d: vpool_op(p, cb, 0x66, 0x3804, x, vop_bytes(1)); break; /* pmaddubsw x, [1...] */
    case 0x7e: vpool_op(p, cb, 0x66, 0xf5, x, vop_i16(1)); break;     /* pmaddwd x, [1...] */
    default:
        vpool_op(p, cb, 0x66, 0xef, x, vop_i16(0x8000));  /* pxor x, [0x8000...] */
        vpool_op(p, cb, 0x66, 0xf5, x, vop_i16(1));       /* pmaddwd x, [1...] */
        vpool_op(p, cb, 0x66, 0xfe, x, vop_i32(0x10000)); /* paddd x, [0x10000...] */
        break;
    }
    return x;
}

/* i16x8.q15mulr_sat_s: pmulhrsw, except that 0x8000 * 0x8000 saturates to
 * 0x7fff where pmulhrsw gives 0x8000 (the only way it gives 0x8000). */
static int q15mulr(codebuf *cb, vpool *p, int a, int b)
{
    v_op(cb, 0x380b, a, b);                                       /* pmulhrsw a, b */
    vpool_load(p, cb, XSCRATCH, vpool_index(p, vop_i16(0x8000)));   /* movdqa xmm15, [0x8000...] */
    x86_vec(cb, 0x66, 0x75, XSCRATCH, R_(a));                     /* pcmpeqw xmm15, a */
    x86_vec(cb, 0x66, 0xef, a, R_(XSCRATCH));                     /* pxor a, xmm15 */
    return a;
}

int vops_widen(codebuf *cb, vpool *p, uint32_t op, vop_regs *r)
{
    if (op >= 0x7c && op <= 0x7f)
        return extadd_pairwise(cb, p, op, r->a);
    if (op == 0x82)
        return q15mulr(cb, p, r->a, r->b);
    if (op >= 0x87 && op <= 0xca && (op & 0x1f) >= 0x07 && (op & 0x1f) <= 0x0a)
        return extend(cb, (int)(op - 0x60) >> 5, (int)(op & 0x1f) - 7, r->a);
    if (op >= 0x9c && (op & 0x1f) >= 0x1c)
        return extmul(cb, (int)(op - 0x60) >> 5, (int)(op & 0x1f) - 0x1c, r->a, r->b);
    return -1;
}
