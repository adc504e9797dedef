/* The float lane instructions of the 0xFD prefix: f32x4 and f64x2
 * comparisons, rounding and arithmetic (add, sub, mul and div are
 * vops.c's one-instruction ops). Conversions are in vops_fconv.c.
 * Each op has a packed-single (no prefix) and a packed-double (0x66) form;
 * the bitwise ops use the ps forms for both, which are the same bits. */
#include "vops_impl.h"

/* cmpps / cmppd predicates (the imm8). */
enum { CMP_EQ = 0, CMP_LT = 1, CMP_LE = 2, CMP_UNORD = 3, CMP_NEQ = 4 };

/* eq ne lt gt le ge: gt and ge are lt and le with the operands swapped, as
 * the "not less or equal" predicates are also true on NaN. ne is true on
 * NaN, as the spec wants. */
static int compare(codebuf *cb, bool dbl, int k, int a, int b)
{
    static const uint8_t pred[] = {CMP_EQ, CMP_NEQ, CMP_LT, CMP_LT, CMP_LE, CMP_LE};
    bool swap = k == 3 || k == 5;
    int dst = swap ? b : a, src = swap ? a : b;
    x86_vec_i(cb, dbl ? 0x66 : 0, 0xc2, dst, R_(src), pred[k]); /* cmp<pred>ps/pd dst, src */
    return dst;
}

/* ceil floor trunc nearest: roundps/roundpd with the rounding mode in the
 * imm8 (bit 3 suppresses the precision exception). */
static int round_lanes(codebuf *cb, bool dbl, uint8_t mode, int a)
{
    uint32_t op = dbl ? 0x3a09 : 0x3a08;
    x86_vec_i(cb, 0x66, op, a, R_(a), mode | 8); /* roundps/pd a, a, mode */
    return a;
}

/* psrld / psrlq: turns each all-ones lane of x into a mask of the mantissa
 * bits below the quiet bit. */
static void shift_below_quiet(codebuf *cb, bool dbl, int x)
{
    if (dbl)
        x86_vec_i(cb, 0x66, 0x73, 2, R_(x), 13); /* psrlq x, 13 */
    else
        x86_vec_i(cb, 0x66, 0x72, 2, R_(x), 10); /* psrld x, 10 */
}

/*
 * min and max: minps/maxps return their second operand when either is NaN
 * and when both are zeros, so the spec's NaN propagation and -0 < +0 come
 * from both operand orders merged; NaN lanes then become canonical NaNs.
 *   min: t = min(a, b) | min(b, a)  (-0 wins over +0; a NaN stays a NaN)
 *   max: d = max(a, b) ^ max(b, a); t = (max(a, b) | d) - d
 *        (+0 from the zeros' differing sign; NaN from any NaN)
 * then, in the lanes where t is NaN, the mantissa bits below the quiet bit
 * are cleared (min first sets every bit of those lanes; max's subtraction
 * has quieted them): a canonical NaN. The result is in b.
 */
static int min_max(codebuf *cb, bool dbl, bool max, int a, int b)
{
    uint8_t p = dbl ? 0x66 : 0;
    uint8_t op = max ? 0x5f : 0x5d;
    x86_movaps(cb, XSCRATCH, a);           /* movaps xmm15, a */
    x86_vec(cb, p, op, XSCRATCH, R_(b));   /* min/max ps/pd xmm15, b */
    x86_vec(cb, p, op, b, R_(a));          /* min/max ps/pd b, a */
    if (max) {
        x86_vec(cb, 0, 0x57, b, R_(XSCRATCH)); /* xorps b, xmm15 */
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(b)); /* orps xmm15, b */
        x86_vec(cb, p, 0x5c, XSCRATCH, R_(b)); /* subps/pd xmm15, b */
    } else {
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(b)); /* orps xmm15, b */
    }
    x86_vec_i(cb, p, 0xc2, b, R_(XSCRATCH), CMP_UNORD); /* cmpunordps/pd b, xmm15 */
    if (!max)
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(b));          /* orps xmm15, b */
    shift_below_quiet(cb, dbl, b);
    x86_vec(cb, 0, 0x55, b, R_(XSCRATCH));              /* andnps b, xmm15 */
    return b;
}

/* abs neg _ sqrt _ _ _ _ min max pmin pmax: k is the opcode's offset from
 * f32x4.abs (0xe0) or f64x2.abs (0xec). */
static int arith(codebuf *cb, vpool *pool, bool dbl, int k, int a, int b)
{
    uint8_t p = dbl ? 0x66 : 0;
    switch (k) {
    case 0:
    case 1: { /* abs, neg: the sign bit alone changes, NaN payloads stay */
        v128 sign = dbl ? vop_i64(UINT64_C(1) << 63) : vop_i32(UINT32_C(1) << 31);
        v128 rest = dbl ? vop_i64(INT64_MAX) : vop_i32(INT32_MAX);
        if (k == 0)
            vpool_op(pool, cb, 0, 0x54, a, rest); /* andps a, [~sign] */
        else
            vpool_op(pool, cb, 0, 0x57, a, sign); /* xorps a, [sign] */
        return a;
    }
    case 3: x86_vec(cb, p, 0x51, a, R_(a)); return a; /* sqrtps/pd a, a */
    case 8: return min_max(cb, dbl, false, a, b);
    case 9: return min_max(cb, dbl, true, a, b);
    case 10:
    case 11: /* pmin: b < a ? b : a; pmax: a < b ? b : a. minps b, a is
              * b < a ? b : a; maxps b, a is b > a ? b : a. */
        x86_vec(cb, p, k == 10 ? 0x5d : 0x5f, b, R_(a)); /* min/max ps/pd b, a */
        return b;
    default: return -1; /* 0xe2, 0xee; add sub mul div are vops.c's */
    }
}

int vops_float(codebuf *cb, vpool *p, uint32_t op, vop_regs *r)
{
    /* roundps/roundpd modes */
    enum { NEAREST = 0, FLOOR = 1, CEIL = 2, TRUNC = 3 };
    if (op >= 0x41 && op <= 0x46)
        return compare(cb, false, (int)(op - 0x41), r->a, r->b);
    if (op >= 0x47 && op <= 0x4c)
        return compare(cb, true, (int)(op - 0x47), r->a, r->b);
    switch (op) {
    case 0x67: return round_lanes(cb, false, CEIL, r->a);
    case 0x68: return round_lanes(cb, false, FLOOR, r->a);
    case 0x69: return round_lanes(cb, false, TRUNC, r->a);
    case 0x6a: return round_lanes(cb, false, NEAREST, r->a);
    case 0x74: return round_lanes(cb, true, CEIL, r->a);
    case 0x75: return round_lanes(cb, true, FLOOR, r->a);
    case 0x7a: return round_lanes(cb, true, TRUNC, r->a);
    case 0x94: return round_lanes(cb, true, NEAREST, r->a);
    default: break;
    }
    if (op >= 0xe0 && op <= 0xeb)
        return arith(cb, p, false, (int)(op - 0xe0), r->a, r->b);
    if (op >= 0xec && op <= 0xf7)
        return arith(cb, p, true, (int)(op - 0xec), r->a, r->b);
    if (op == 0x5e || op == 0x5f || (op >= 0xf8 && op <= 0xff))
        return vops_fconv(cb, p, op, r);
    return -1;
}
