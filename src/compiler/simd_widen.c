/* Integer lane instructions that compute in wider lanes: extend_low/high,
 * extmul_low/high, extadd_pairwise, and i16x8.q15mulr_sat_s (the high half
 * of 32-bit products). "high" halves are moved down first, then widened
 * like the low ones. */
#include "simd_int.h"

/* pmovsxbw/wd/dq and pmovzxbw/wd/dq, by the size of the result. */
static const uint32_t pmovsx[4] = {0, 0x3820, 0x3823, 0x3825};
static const uint32_t pmovzx[4] = {0, 0x3830, 0x3833, 0x3835};

/* x's high 8 bytes to its low ones. */
static void high_down(fn *f, int x)
{
    x86_vec_i(f->cb, 0x66, 0x70, xn(x), R_(xn(x)), 0xee); /* pshufd x, x, 0xee */
}

static void widen(fn *f, int size, bool u, int x)
{
    v_op(f, u ? pmovzx[size] : pmovsx[size], x, x); /* pmov{s,z}x x, x */
}

/* extend_low/high_s/u: 0x87-0x8a, 0xa7-0xaa, 0xc7-0xca; `size` that of the
 * result, k: 0 low_s, 1 high_s, 2 low_u, 3 high_u. */
static void extend(fn *f, int size, int k)
{
    int x = v_pop(f, 0);
    if (k & 1)
        high_down(f, x);
    widen(f, size, k >= 2, x);
    v_push(f, x);
}

/* extmul_low/high_s/u: 0x9c-0x9f, 0xbc-0xbf, 0xdc-0xdf; k as extend's. */
static void extmul(fn *f, int size, int k)
{
    codebuf *cb = f->cb;
    bool high = k & 1, u = k >= 2;
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    switch (size) {
    case 1: /* i16 products of widened bytes */
        if (high)
            high_down(f, a), high_down(f, b);
        widen(f, 1, u, a);
        widen(f, 1, u, b);
        v_op(f, 0xd5, a, b); /* pmullw a, b */
        break;
    case 2: /* the low and high words of the i16 products interleaved */
        x86_movaps(cb, XSCRATCH, xn(a));                         /* movaps xmm15, a */
        v_op(f, 0xd5, a, b);                                     /* pmullw a, b */
        x86_vec(cb, 0x66, u ? 0xe4 : 0xe5, XSCRATCH, R_(xn(b))); /* pmulh{u,}w xmm15, b */
        x86_vec(cb, 0x66, high ? 0x69 : 0x61, xn(a), R_(XSCRATCH)); /* punpck{h,l}wd a, xmm15 */
        break;
    default: { /* pmuldq / pmuludq multiply the even dwords */
        uint8_t pick = high ? 0xfa : 0x50; /* dwords 2,2,3,3 or 0,0,1,1 */
        x86_vec_i(cb, 0x66, 0x70, xn(a), R_(xn(a)), pick); /* pshufd a, a, pick */
        x86_vec_i(cb, 0x66, 0x70, xn(b), R_(xn(b)), pick); /* pshufd b, b, pick */
        v_op(f, u ? 0xf4 : 0x3828, a, b);                  /* pmul{u,}dq a, b */
        break;
    }
    }
    reg_free(f, b);
    v_push(f, a);
}

/* extadd_pairwise: 0x7c i8->i16 s, 0x7d u, 0x7e i16->i32 s, 0x7f u, as
 * multiply-adds by 1. pmaddubsw takes its first operand unsigned, its
 * second signed; pmaddwd is signed only, so unsigned words are biased by
 * -0x8000 and the two biases added back. */
static void extadd_pairwise(fn *f, uint32_t op)
{
    int x = v_pop(f, 0);
    switch (op) {
    case 0x7c:
        vconst_load(f, XSCRATCH, vconst_index(f, v_bytes(1)));  /* movdqa xmm15, [1...] */
        x86_vec(f->cb, 0x66, 0x3804, XSCRATCH, R_(xn(x)));      /* pmaddubsw xmm15, x */
        x86_movaps(f->cb, xn(x), XSCRATCH);                     /* movaps x, xmm15 */
        break;
    case 0x7d: vconst_op(f, 0x66, 0x3804, xn(x), v_bytes(1)); break; /* pmaddubsw x, [1...] */
    case 0x7e: vconst_op(f, 0x66, 0xf5, xn(x), v_i16(1)); break;     /* pmaddwd x, [1...] */
    default:
        vconst_op(f, 0x66, 0xef, xn(x), v_i16(0x8000));   /* pxor x, [0x8000...] */
        vconst_op(f, 0x66, 0xf5, xn(x), v_i16(1));        /* pmaddwd x, [1...] */
        vconst_op(f, 0x66, 0xfe, xn(x), v_i32(0x10000));  /* paddd x, [0x10000...] */
        break;
    }
    v_push(f, x);
}

/* i16x8.q15mulr_sat_s: pmulhrsw, except that 0x8000 * 0x8000 saturates to
 * 0x7fff where pmulhrsw gives 0x8000 (the only way it gives 0x8000). */
static void q15mulr(fn *f)
{
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    v_op(f, 0x380b, a, b);                                            /* pmulhrsw a, b */
    vconst_load(f, XSCRATCH, vconst_index(f, v_i16(0x8000)));         /* movdqa xmm15, [0x8000...] */
    x86_vec(f->cb, 0x66, 0x75, XSCRATCH, R_(xn(a)));                  /* pcmpeqw xmm15, a */
    x86_vec(f->cb, 0x66, 0xef, xn(a), R_(XSCRATCH));                  /* pxor a, xmm15 */
    reg_free(f, b);
    v_push(f, a);
}

bool simd_widen(fn *f, uint32_t op)
{
    if (op >= 0x7c && op <= 0x7f)
        extadd_pairwise(f, op);
    else if (op == 0x82)
        q15mulr(f);
    else if (op >= 0x87 && op <= 0xca && (op & 0x1f) >= 0x07 && (op & 0x1f) <= 0x0a)
        extend(f, (int)(op - 0x60) >> 5, (int)(op & 0x1f) - 7);
    else if (op >= 0x9c && (op & 0x1f) >= 0x1c)
        extmul(f, (int)(op - 0x60) >> 5, (int)(op & 0x1f) - 0x1c);
    else
        return false;
    return true;
}
