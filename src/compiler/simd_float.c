/* The float lane instructions of the 0xFD prefix: f32x4 and f64x2
 * comparisons, rounding and arithmetic. Conversions are in simd_fconv.c.
 * Each op has a packed-single (no prefix) and a packed-double (0x66) form;
 * the bitwise ops use the ps forms for both, which are the same bits. */
#include "simd.h"

/* cmpps / cmppd predicates (the imm8). */
enum { CMP_EQ = 0, CMP_LT = 1, CMP_LE = 2, CMP_UNORD = 3, CMP_NEQ = 4 };

/* eq ne lt gt le ge: gt and ge are lt and le with the operands swapped, as
 * the "not less or equal" predicates are also true on NaN. ne is true on
 * NaN, as the spec wants. */
static void compare(fn *f, bool dbl, int k)
{
    static const uint8_t pred[] = {CMP_EQ, CMP_NEQ, CMP_LT, CMP_LT, CMP_LE, CMP_LE};
    bool swap = k == 3 || k == 5;
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    int dst = swap ? b : a, src = swap ? a : b;
    uint8_t p = dbl ? 0x66 : 0;
    x86_vec_i(f->cb, p, 0xc2, xn(dst), R_(xn(src)), pred[k]); /* cmp<pred>ps/pd dst, src */
    reg_free(f, src);
    v_push(f, dst);
}

/* ceil floor trunc nearest: roundps/roundpd with the rounding mode in the
 * imm8 (bit 3 suppresses the precision exception). */
static void round_lanes(fn *f, bool dbl, uint8_t mode)
{
    int a = v_pop(f, 0);
    uint32_t op = dbl ? 0x3a09 : 0x3a08;
    x86_vec_i(f->cb, 0x66, op, xn(a), R_(xn(a)), mode | 8); /* roundps/pd a, a, mode */
    v_push(f, a);
}

/* psrld / psrlq: turns each all-ones lane of x into a mask of the mantissa
 * bits below the quiet bit. */
static void shift_below_quiet(fn *f, bool dbl, int x)
{
    if (dbl)
        x86_vec_i(f->cb, 0x66, 0x73, 2, R_(x), 13); /* psrlq x, 13 */
    else
        x86_vec_i(f->cb, 0x66, 0x72, 2, R_(x), 10); /* psrld x, 10 */
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
 * has quieted them): a canonical NaN.
 */
static void min_max(fn *f, bool dbl, bool max)
{
    codebuf *cb = f->cb;
    uint8_t p = dbl ? 0x66 : 0;
    uint8_t op = max ? 0x5f : 0x5d;
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    x86_movaps(cb, XSCRATCH, xn(a));           /* movaps xmm15, a */
    x86_vec(cb, p, op, XSCRATCH, R_(xn(b)));   /* min/max ps/pd xmm15, b */
    x86_vec(cb, p, op, xn(b), R_(xn(a)));      /* min/max ps/pd b, a */
    if (max) {
        x86_vec(cb, 0, 0x57, xn(b), R_(XSCRATCH)); /* xorps b, xmm15 */
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(xn(b))); /* orps xmm15, b */
        x86_vec(cb, p, 0x5c, XSCRATCH, R_(xn(b))); /* subps/pd xmm15, b */
    } else {
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(xn(b))); /* orps xmm15, b */
    }
    x86_vec_i(cb, p, 0xc2, xn(b), R_(XSCRATCH), CMP_UNORD); /* cmpunordps/pd b, xmm15 */
    if (!max)
        x86_vec(cb, 0, 0x56, XSCRATCH, R_(xn(b)));          /* orps xmm15, b */
    shift_below_quiet(f, dbl, xn(b));
    x86_vec(cb, 0, 0x55, xn(b), R_(XSCRATCH));              /* andnps b, xmm15 */
    reg_free(f, a);
    v_push(f, b);
}

/* abs neg _ sqrt add sub mul div min max pmin pmax: k is the opcode's
 * offset from f32x4.abs (0xe0) or f64x2.abs (0xec). */
static bool arith(fn *f, bool dbl, int k)
{
    uint8_t p = dbl ? 0x66 : 0;
    switch (k) {
    case 0:
    case 1: { /* abs, neg: the sign bit alone changes, NaN payloads stay */
        v128 sign = dbl ? v_i64(UINT64_C(1) << 63) : v_i32(UINT32_C(1) << 31);
        v128 rest = dbl ? v_i64(INT64_MAX) : v_i32(INT32_MAX);
        int a = v_pop(f, 0);
        if (k == 0)
            vconst_op(f, 0, 0x54, xn(a), rest); /* andps a, [~sign] */
        else
            vconst_op(f, 0, 0x57, xn(a), sign); /* xorps a, [sign] */
        v_push(f, a);
        return true;
    }
    case 3: v_unary(f, p, 0x51); return true;  /* sqrtps/pd a, a */
    case 4: v_binary(f, p, 0x58); return true; /* addps/pd a, b */
    case 5: v_binary(f, p, 0x5c); return true; /* subps/pd a, b */
    case 6: v_binary(f, p, 0x59); return true; /* mulps/pd a, b */
    case 7: v_binary(f, p, 0x5e); return true; /* divps/pd a, b */
    case 8: min_max(f, dbl, false); return true;
    case 9: min_max(f, dbl, true); return true;
    case 10:
    case 11: { /* pmin: b < a ? b : a; pmax: a < b ? b : a. minps b, a is
                * b < a ? b : a; maxps b, a is b > a ? b : a. */
        int b = v_pop(f, 0);
        int a = v_pop(f, REG_BIT(b));
        x86_vec(f->cb, p, k == 10 ? 0x5d : 0x5f, xn(b), R_(xn(a))); /* min/max ps/pd b, a */
        reg_free(f, a);
        v_push(f, b);
        return true;
    }
    default: return fn_unsupported(f, "opcode"); /* 0xe2, 0xee */
    }
}

bool simd_float(fn *f, uint32_t op)
{
    /* roundps/roundpd modes */
    enum { NEAREST = 0, FLOOR = 1, CEIL = 2, TRUNC = 3 };
    if (op >= 0x41 && op <= 0x46) {
        compare(f, false, (int)(op - 0x41));
        return true;
    }
    if (op >= 0x47 && op <= 0x4c) {
        compare(f, true, (int)(op - 0x47));
        return true;
    }
    switch (op) {
    case 0x67: round_lanes(f, false, CEIL); return true;
    case 0x68: round_lanes(f, false, FLOOR); return true;
    case 0x69: round_lanes(f, false, TRUNC); return true;
    case 0x6a: round_lanes(f, false, NEAREST); return true;
    case 0x74: round_lanes(f, true, CEIL); return true;
    case 0x75: round_lanes(f, true, FLOOR); return true;
    case 0x7a: round_lanes(f, true, TRUNC); return true;
    case 0x94: round_lanes(f, true, NEAREST); return true;
    default: break;
    }
    if (op >= 0xe0 && op <= 0xeb)
        return arith(f, false, (int)(op - 0xe0));
    if (op >= 0xec && op <= 0xf7)
        return arith(f, true, (int)(op - 0xec));
    if (op == 0x5e || op == 0x5f || (op >= 0xf8 && op <= 0xff))
        return simd_fconv(f, op);
    return fn_unsupported(f, "opcode");
}
