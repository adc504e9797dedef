/* The conversions of the 0xFD prefix that involve float lanes: demote,
 * promote, the saturating truncations to i32x4 and the conversions from
 * i32x4. SSE converts signed lanes only and gives 0x80000000 for NaN and
 * out-of-range values, so the unsigned and saturating forms are built
 * around it. */
#include <string.h>

#include "vops_impl.h"

static v128 v_f32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return vop_i32(u);
}

static v128 v_f64(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    return vop_i64(u);
}

/* i32x4.trunc_sat_f32x4_s: NaN lanes are zeroed first; cvttps2dq gives
 * 0x80000000 for both overflows, which is right for the negative one; the
 * positive one is the lane whose input sign bit was clear and whose result
 * sign bit is set, and flipping all its bits gives 0x7fffffff. */
static void trunc_sat_f32_s(codebuf *cb, int a)
{
    x86_movaps(cb, XSCRATCH, a);                                /* movaps xmm15, a */
    x86_vec_i(cb, 0, 0xc2, XSCRATCH, R_(XSCRATCH), 0);          /* cmpeqps xmm15, xmm15 */
    x86_vec(cb, 0, 0x54, a, R_(XSCRATCH));                      /* andps a, xmm15 */
    x86_vec(cb, 0, 0x57, XSCRATCH, R_(a));                      /* xorps xmm15, a */
    x86_vec(cb, 0xf3, 0x5b, a, R_(a));                          /* cvttps2dq a, a */
    x86_vec(cb, 0, 0x54, XSCRATCH, R_(a));                      /* andps xmm15, a */
    x86_vec_i(cb, 0x66, 0x72, 4, R_(XSCRATCH), 31);             /* psrad xmm15, 31 */
    x86_vec(cb, 0x66, 0xef, a, R_(XSCRATCH));                   /* pxor a, xmm15 */
}

/* i32x4.trunc_sat_f32x4_u: after max(x, 0) (which also turns NaN into 0),
 * lanes below 2^31 convert directly; above, cvttps2dq gives 0x80000000 and
 * the rest, x - 2^31, is converted apart and added: clamped at 0 below 2^31,
 * and 0x7fffffff from 2^32 on (where the sum then saturates to 0xffffffff). */
static void trunc_sat_f32_u(codebuf *cb, vpool *p, int a, int t)
{
    x86_vec(cb, 0, 0x57, XSCRATCH, R_(XSCRATCH));               /* xorps xmm15, xmm15 */
    x86_vec(cb, 0, 0x5f, a, R_(XSCRATCH));                      /* maxps a, xmm15 */
    vpool_load(p, cb, XSCRATCH, vpool_index(p, v_f32(0x1p31f))); /* movdqa xmm15, [2^31] */
    x86_movaps(cb, t, a);                                       /* movaps t, a */
    x86_vec(cb, 0, 0x5c, t, R_(XSCRATCH));                      /* subps t, xmm15 */
    x86_vec_i(cb, 0, 0xc2, XSCRATCH, R_(t), 2);                 /* cmpleps xmm15, t */
    x86_vec(cb, 0xf3, 0x5b, t, R_(t));                          /* cvttps2dq t, t */
    x86_vec(cb, 0x66, 0xef, t, R_(XSCRATCH));                   /* pxor t, xmm15 */
    x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));            /* pxor xmm15, xmm15 */
    x86_vec(cb, 0x66, 0x383d, t, R_(XSCRATCH));                 /* pmaxsd t, xmm15 */
    x86_vec(cb, 0xf3, 0x5b, a, R_(a));                          /* cvttps2dq a, a */
    x86_vec(cb, 0x66, 0xfe, a, R_(t));                          /* paddd a, t */
}

/* f32x4.convert_i32x4_u: the low 16 bits and the high 16 bits of each lane
 * convert exactly (the high ones halved, to stay positive, and doubled
 * back); their sum rounds once, as the spec wants. */
static void convert_u_f32(codebuf *cb, int a)
{
    x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));            /* pxor xmm15, xmm15 */
    x86_vec_i(cb, 0x66, 0x3a0e, XSCRATCH, R_(a), 0x55);         /* pblendw xmm15, a, 0x55 */
    x86_vec(cb, 0x66, 0xfa, a, R_(XSCRATCH));                   /* psubd a, xmm15 */
    x86_vec(cb, 0, 0x5b, XSCRATCH, R_(XSCRATCH));               /* cvtdq2ps xmm15, xmm15 */
    x86_vec_i(cb, 0x66, 0x72, 2, R_(a), 1);                     /* psrld a, 1 */
    x86_vec(cb, 0, 0x5b, a, R_(a));                             /* cvtdq2ps a, a */
    x86_vec(cb, 0, 0x58, a, R_(a));                             /* addps a, a */
    x86_vec(cb, 0, 0x58, a, R_(XSCRATCH));                      /* addps a, xmm15 */
}

/* i32x4.trunc_sat_f64x2_s_zero: NaN lanes become 0 and large ones
 * INT32_MAX by a min with (x == x ? INT32_MAX : 0); cvttpd2dq gives
 * INT32_MIN below the range and zeroes the upper two lanes. */
static void trunc_sat_f64_s(codebuf *cb, vpool *p, int a)
{
    x86_movaps(cb, XSCRATCH, a);                                /* movaps xmm15, a */
    x86_vec_i(cb, 0x66, 0xc2, XSCRATCH, R_(XSCRATCH), 0);       /* cmpeqpd xmm15, xmm15 */
    vpool_op(p, cb, 0, 0x54, XSCRATCH, v_f64(INT32_MAX));       /* andps xmm15, [2^31-1] */
    x86_vec(cb, 0x66, 0x5d, a, R_(XSCRATCH));                   /* minpd a, xmm15 */
    x86_vec(cb, 0x66, 0xe6, a, R_(a));                          /* cvttpd2dq a, a */
}

/* i32x4.trunc_sat_f64x2_u_zero: clamped to [0, 2^32-1] (NaN to 0 by maxpd
 * taking its second operand), truncated, and plus 2^52 the integer is the
 * low 32 bits of the double; shufps gathers them over two zero lanes. */
static void trunc_sat_f64_u(codebuf *cb, vpool *p, int a)
{
    x86_vec(cb, 0, 0x57, XSCRATCH, R_(XSCRATCH));               /* xorps xmm15, xmm15 */
    x86_vec(cb, 0x66, 0x5f, a, R_(XSCRATCH));                   /* maxpd a, xmm15 */
    vpool_op(p, cb, 0x66, 0x5d, a, v_f64(UINT32_MAX));          /* minpd a, [2^32-1] */
    x86_vec_i(cb, 0x66, 0x3a09, a, R_(a), 3 | 8);               /* roundpd a, a, trunc */
    vpool_op(p, cb, 0x66, 0x58, a, v_f64(0x1p52));              /* addpd a, [2^52] */
    x86_vec_i(cb, 0, 0xc6, a, R_(XSCRATCH), 0x88);              /* shufps a, xmm15, 0x88 */
}

/* f64x2.convert_low_i32x4_u: with 0x43300000 above it, a u32 is the low
 * mantissa bits of the double 2^52 + u32; subtracting 2^52 is exact. */
static void convert_low_u_f64(codebuf *cb, vpool *p, int a)
{
    vpool_op(p, cb, 0, 0x14, a, vop_i32(0x43300000)); /* unpcklps a, [0x43300000] */
    vpool_op(p, cb, 0x66, 0x5c, a, v_f64(0x1p52));  /* subpd a, [2^52] */
}

int vops_fconv(codebuf *cb, vpool *p, uint32_t op, vop_regs *r)
{
    int a = r->a;
    switch (op) {
    case 0x5e: x86_vec(cb, 0x66, 0x5a, a, R_(a)); break; /* cvtpd2ps a, a (upper lanes 0) */
    case 0x5f: x86_vec(cb, 0, 0x5a, a, R_(a)); break;    /* cvtps2pd a, a */
    case 0xf8: trunc_sat_f32_s(cb, a); break;
    case 0xf9: trunc_sat_f32_u(cb, p, a, r->t); break;
    case 0xfa: x86_vec(cb, 0, 0x5b, a, R_(a)); break;    /* cvtdq2ps a, a */
    case 0xfb: convert_u_f32(cb, a); break;
    case 0xfc: trunc_sat_f64_s(cb, p, a); break;
    case 0xfd: trunc_sat_f64_u(cb, p, a); break;
    case 0xfe: x86_vec(cb, 0xf3, 0xe6, a, R_(a)); break; /* cvtdq2pd a, a */
    default: convert_low_u_f64(cb, p, a); break;         /* 0xff */
    }
    return a;
}
