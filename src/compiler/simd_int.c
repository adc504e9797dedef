/* The integer lane instructions of the 0xFD prefix: dispatch, comparisons
 * and lane arithmetic. SSE4.1 has no 64-bit signed compare (pcmpgtq is
 * SSE4.2), no 64-bit abs and no 64-bit multiply: those are built from
 * 32-bit lanes. */
#include "simd_int.h"

/* pcmpeqb/w/d/q, pcmpgtb/w/d, pminub/uw/ud, pmaxub/uw/ud */
static const uint32_t pcmpeq[4] = {0x74, 0x75, 0x76, 0x3829};
static const uint32_t pcmpgt[3] = {0x64, 0x65, 0x66};
static const uint32_t pminu[3] = {0xda, 0x383a, 0x383b};
static const uint32_t pmaxu[3] = {0xde, 0x383e, 0x383f};

/* x = x > y (signed lanes); y is kept. For 64-bit lanes: the high dwords
 * decide unless they are equal; then y - x borrows from the high dword
 * exactly when x's low dword is above y's. */
static void greater(fn *f, int size, int x, int y)
{
    codebuf *cb = f->cb;
    if (size < 3) {
        v_op(f, pcmpgt[size], x, y); /* pcmpgt{b,w,d} x, y */
        return;
    }
    int t = reg_alloc_avoid(f, true, REG_BIT(x) | REG_BIT(y));
    x86_movaps(cb, xn(t), xn(y));                      /* movaps t, y */
    v_op(f, 0xfb, t, x);                               /* psubq t, x */
    x86_movaps(cb, XSCRATCH, xn(x));                   /* movaps xmm15, x */
    x86_vec(cb, 0x66, 0x76, XSCRATCH, R_(xn(y)));      /* pcmpeqd xmm15, y */
    x86_vec(cb, 0x66, 0xdb, xn(t), R_(XSCRATCH));      /* pand t, xmm15 */
    v_op(f, 0x66, x, y);                               /* pcmpgtd x, y */
    v_op(f, 0xeb, x, t);                               /* por x, t */
    x86_vec_i(cb, 0x66, 0x70, xn(x), R_(xn(x)), 0xf5); /* pshufd x, x, 0xf5 */
    reg_free(f, t);
}

/* x = x == extreme(x, y): with pminu x <= y, with pmaxu x >= y (unsigned). */
static void unsigned_order(fn *f, int size, const uint32_t *extreme, int x, int y)
{
    x86_movaps(f->cb, XSCRATCH, xn(x));                         /* movaps xmm15, x */
    x86_vec(f->cb, 0x66, extreme[size], XSCRATCH, R_(xn(y)));   /* pminu/pmaxu xmm15, y */
    x86_vec(f->cb, 0x66, pcmpeq[size], xn(x), R_(XSCRATCH));    /* pcmpeq x, xmm15 */
}

/* k: 0 eq, 1 ne, 2 lt_s, 3 lt_u, 4 gt_s, 5 gt_u, 6 le_s, 7 le_u, 8 ge_s,
 * 9 ge_u (the order of the opcodes). lt_s is gt_s with the operands
 * swapped, le_s and ge_s the negations of gt_s and lt_s; le_u and ge_u come
 * from min and max, gt_u and lt_u are their negations. */
static void compare(fn *f, int size, int k)
{
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    int r = a, other = b;
    switch (k) {
    case 0: case 1: v_op(f, pcmpeq[size], a, b); break; /* pcmpeq a, b */
    case 2: case 8: greater(f, size, b, a), r = b, other = a; break;
    case 4: case 6: greater(f, size, a, b); break;
    case 3: case 9: unsigned_order(f, size, pmaxu, a, b); break;
    default: unsigned_order(f, size, pminu, a, b); break; /* 5, 7 */
    }
    if (k == 1 || k == 3 || k == 5 || k == 6 || k == 8)
        v_not(f, r);
    reg_free(f, other);
    v_push(f, r);
}

/* i8x16.popcnt: pshufb looks up the count of each nibble in a table. */
static void popcnt(fn *f)
{
    codebuf *cb = f->cb;
    static const v128 counts = {{0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4}};
    int a = v_pop(f, 0);
    int t = reg_alloc_avoid(f, true, REG_BIT(a));
    x86_movaps(cb, XSCRATCH, xn(a));                     /* movaps xmm15, a */
    x86_vec_i(cb, 0x66, 0x71, 2, R_(XSCRATCH), 4);       /* psrlw xmm15, 4 */
    vconst_op(f, 0x66, 0xdb, XSCRATCH, v_bytes(0x0f));   /* pand xmm15, [0x0f...] */
    vconst_op(f, 0x66, 0xdb, xn(a), v_bytes(0x0f));      /* pand a, [0x0f...] */
    vconst_load(f, xn(t), vconst_index(f, counts));      /* movdqa t, [counts] */
    x86_vec(cb, 0x66, 0x3800, xn(t), R_(xn(a)));         /* pshufb t, a */
    vconst_load(f, xn(a), vconst_index(f, counts));      /* movdqa a, [counts] */
    x86_vec(cb, 0x66, 0x3800, xn(a), R_(XSCRATCH));      /* pshufb a, xmm15 */
    v_op(f, 0xfc, a, t);                                 /* paddb a, t */
    reg_free(f, t);
    v_push(f, a);
}

/* i64x2.mul from 32-bit products: lo*lo + ((hi*lo + lo*hi) << 32). */
static void mul64(fn *f)
{
    codebuf *cb = f->cb;
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    int t = reg_alloc_avoid(f, true, REG_BIT(a) | REG_BIT(b));
    x86_movaps(cb, XSCRATCH, xn(a));                /* movaps xmm15, a */
    x86_vec_i(cb, 0x66, 0x73, 2, R_(XSCRATCH), 32); /* psrlq xmm15, 32 */
    x86_vec(cb, 0x66, 0xf4, XSCRATCH, R_(xn(b)));   /* pmuludq xmm15, b */
    x86_movaps(cb, xn(t), xn(b));                   /* movaps t, b */
    x86_vec_i(cb, 0x66, 0x73, 2, R_(xn(t)), 32);    /* psrlq t, 32 */
    v_op(f, 0xf4, t, a);                            /* pmuludq t, a */
    x86_vec(cb, 0x66, 0xd4, XSCRATCH, R_(xn(t)));   /* paddq xmm15, t */
    x86_vec_i(cb, 0x66, 0x73, 6, R_(XSCRATCH), 32); /* psllq xmm15, 32 */
    v_op(f, 0xf4, a, b);                            /* pmuludq a, b */
    x86_vec(cb, 0x66, 0xd4, xn(a), R_(XSCRATCH));   /* paddq a, xmm15 */
    reg_free(f, t), reg_free(f, b);
    v_push(f, a);
}

/* abs (0x60, 0x80, 0xa0, 0xc0) and neg (0x61, ...). */
static void abs_neg(fn *f, int size, bool neg)
{
    codebuf *cb = f->cb;
    int a = v_pop(f, 0);
    if (neg) {
        static const uint32_t psub[4] = {0xf8, 0xf9, 0xfa, 0xfb}; /* psubb/w/d/q */
        x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));        /* pxor xmm15, xmm15 */
        x86_vec(cb, 0x66, psub[size], XSCRATCH, R_(xn(a)));     /* psub xmm15, a */
        x86_movaps(cb, xn(a), XSCRATCH);                        /* movaps a, xmm15 */
    } else if (size < 3) {
        x86_vec(cb, 0x66, 0x381c + (uint32_t)size, xn(a), R_(xn(a))); /* pabs{b,w,d} a, a */
    } else { /* (a ^ s) - s with s the sign of each lane */
        x86_vec_i(cb, 0x66, 0x70, XSCRATCH, R_(xn(a)), 0xf5); /* pshufd xmm15, a, 0xf5 */
        x86_vec_i(cb, 0x66, 0x72, 4, R_(XSCRATCH), 31);      /* psrad xmm15, 31 */
        x86_vec(cb, 0x66, 0xef, xn(a), R_(XSCRATCH));        /* pxor a, xmm15 */
        x86_vec(cb, 0x66, 0xfb, xn(a), R_(XSCRATCH));        /* psubq a, xmm15 */
    }
    v_push(f, a);
}

/* all_true: no lane equals zero. */
static void all_true(fn *f, int size)
{
    int a = v_pop(f, 0);
    x86_vec(f->cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH));       /* pxor xmm15, xmm15 */
    x86_vec(f->cb, 0x66, pcmpeq[size], XSCRATCH, R_(xn(a)));  /* pcmpeq xmm15, a */
    x86_vec(f->cb, 0x66, 0x3817, XSCRATCH, R_(XSCRATCH));     /* ptest xmm15, xmm15 */
    reg_free(f, a);
    push_flags(f, CC_E);
}

/* bitmask: the top bit of each lane. */
static void bitmask(fn *f, int size)
{
    codebuf *cb = f->cb;
    int a = v_pop(f, 0);
    int g = reg_alloc(f, false);
    switch (size) {
    case 0: x86_vec(cb, 0x66, 0xd7, g, R_(xn(a))); break; /* pmovmskb g, a */
    case 1: /* the words saturated to bytes keep their sign; both halves alike */
        x86_vec(cb, 0x66, 0x63, xn(a), R_(xn(a)));         /* packsswb a, a */
        x86_vec(cb, 0x66, 0xd7, g, R_(xn(a)));             /* pmovmskb g, a */
        x86_shift_i(cb, 5, SZ32, R_(g), 8);                /* shr g, 8 */
        break;
    case 2: x86_vec(cb, 0, 0x50, g, R_(xn(a))); break;    /* movmskps g, a */
    default: x86_vec(cb, 0x66, 0x50, g, R_(xn(a))); break; /* movmskpd g, a */
    }
    reg_free(f, a);
    push_reg(f, WASM_I32, g);
}

/* The instructions that are one SSE instruction on two operands. */
static const uint32_t binary_ops[0x100] = {
    [0x65] = 0x63,   /* i8x16.narrow_i16x8_s: packsswb */
    [0x66] = 0x67,   /* i8x16.narrow_i16x8_u: packuswb */
    [0x6e] = 0xfc,   /* i8x16.add: paddb */
    [0x6f] = 0xec,   /* i8x16.add_sat_s: paddsb */
    [0x70] = 0xdc,   /* i8x16.add_sat_u: paddusb */
    [0x71] = 0xf8,   /* i8x16.sub: psubb */
    [0x72] = 0xe8,   /* i8x16.sub_sat_s: psubsb */
    [0x73] = 0xd8,   /* i8x16.sub_sat_u: psubusb */
    [0x76] = 0x3838, /* i8x16.min_s: pminsb */
    [0x77] = 0xda,   /* i8x16.min_u: pminub */
    [0x78] = 0x383c, /* i8x16.max_s: pmaxsb */
    [0x79] = 0xde,   /* i8x16.max_u: pmaxub */
    [0x7b] = 0xe0,   /* i8x16.avgr_u: pavgb */
    [0x85] = 0x6b,   /* i16x8.narrow_i32x4_s: packssdw */
    [0x86] = 0x382b, /* i16x8.narrow_i32x4_u: packusdw */
    [0x8e] = 0xfd,   /* i16x8.add: paddw */
    [0x8f] = 0xed,   /* i16x8.add_sat_s: paddsw */
    [0x90] = 0xdd,   /* i16x8.add_sat_u: paddusw */
    [0x91] = 0xf9,   /* i16x8.sub: psubw */
    [0x92] = 0xe9,   /* i16x8.sub_sat_s: psubsw */
    [0x93] = 0xd9,   /* i16x8.sub_sat_u: psubusw */
    [0x95] = 0xd5,   /* i16x8.mul: pmullw */
    [0x96] = 0xea,   /* i16x8.min_s: pminsw */
    [0x97] = 0x383a, /* i16x8.min_u: pminuw */
    [0x98] = 0xee,   /* i16x8.max_s: pmaxsw */
    [0x99] = 0x383e, /* i16x8.max_u: pmaxuw */
    [0x9b] = 0xe3,   /* i16x8.avgr_u: pavgw */
    [0xae] = 0xfe,   /* i32x4.add: paddd */
    [0xb1] = 0xfa,   /* i32x4.sub: psubd */
    [0xb5] = 0x3840, /* i32x4.mul: pmulld */
    [0xb6] = 0x3839, /* i32x4.min_s: pminsd */
    [0xb7] = 0x383b, /* i32x4.min_u: pminud */
    [0xb8] = 0x383d, /* i32x4.max_s: pmaxsd */
    [0xb9] = 0x383f, /* i32x4.max_u: pmaxud */
    [0xba] = 0xf5,   /* i32x4.dot_i16x8_s: pmaddwd */
    [0xce] = 0xd4,   /* i64x2.add: paddq */
    [0xd1] = 0xfb,   /* i64x2.sub: psubq */
};

bool simd_int(fn *f, uint32_t op)
{
    if (op >= 0x23 && op <= 0x40) { /* comparisons of 8, 16 and 32-bit lanes */
        compare(f, (int)(op - 0x23) / 10, (int)(op - 0x23) % 10);
        return true;
    }
    if (op >= 0xd6 && op <= 0xdb) { /* i64x2 eq ne lt_s gt_s le_s ge_s */
        static const int k[] = {0, 1, 2, 4, 6, 8};
        compare(f, 3, k[op - 0xd6]);
        return true;
    }
    if (op < 0x60 || op > 0xdf)
        return fn_unsupported(f, "opcode");
    if (binary_ops[op]) {
        v_binary(f, 0x66, binary_ops[op]);
        return true;
    }
    if (simd_widen(f, op))
        return true;
    /* From 0x60 on each lane size has a row of 32 opcodes. */
    int size = (int)(op - 0x60) >> 5;
    switch ((op - 0x60) & 0x1f) {
    case 0x00: abs_neg(f, size, false); return true;
    case 0x01: abs_neg(f, size, true); return true;
    case 0x03: all_true(f, size); return true;
    case 0x04: bitmask(f, size); return true;
    case 0x0b: simd_shift(f, size, SHL); return true;
    case 0x0c: simd_shift(f, size, SHR_S); return true;
    case 0x0d: simd_shift(f, size, SHR_U); return true;
    }
    if (op == 0x62)
        popcnt(f);
    else if (op == 0xd5)
        mul64(f);
    else
        return fn_unsupported(f, "opcode");
    return true;
}
