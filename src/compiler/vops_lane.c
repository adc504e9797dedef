/* Shuffles, splats and lane access (0xFD 0x0d-0x22). */
#include "vops_impl.h"

/* The dword lane (0-7) each group of 4 bytes of `k` takes; false when the
 * shuffle does not move whole dwords. */
static bool dword_lanes(const uint8_t *k, int lanes[4])
{
    for (int i = 0; i < 4; i++) {
        if (k[4 * i] % 4)
            return false;
        for (int j = 1; j < 4; j++)
            if (k[4 * i + j] != k[4 * i] + j)
                return false;
        lanes[i] = k[4 * i] / 4;
    }
    return true;
}

/* Single source x (the lane indices taken modulo 16): a dword permutation
 * is one pshufd, anything else a pshufb with the indices. */
static int shuffle_one(codebuf *cb, vpool *p, int x, const uint8_t *k)
{
    int l[4];
    if (dword_lanes(k, l)) {
        uint8_t imm = (uint8_t)((l[0] & 3) | (l[1] & 3) << 2 | (l[2] & 3) << 4 | (l[3] & 3) << 6);
        if (imm != 0xe4) /* not the identity */
            x86_vec_i(cb, 0x66, 0x70, x, R_(x), imm); /* pshufd x, x, imm */
        return x;
    }
    v128 idx;
    for (int i = 0; i < 16; i++)
        idx.b[i] = k[i] & 15;
    vpool_op(p, cb, 0x66, 0x3800, x, idx); /* pshufb x, [idx] */
    return x;
}

/* Two sources: the patterns of one instruction, else two pshufb and por
 * (pshufb zeroes a byte whose index has bit 7 set). Returns the result's
 * register, a or b. */
static int shuffle_two(codebuf *cb, vpool *p, int a, int b, const uint8_t *k)
{
    int l[4];
    if (dword_lanes(k, l) && l[0] < 4 && l[1] < 4 && l[2] >= 4 && l[3] >= 4) {
        uint8_t imm = (uint8_t)(l[0] | l[1] << 2 | (l[2] - 4) << 4 | (l[3] - 4) << 6);
        x86_vec_i(cb, 0, 0xc6, a, R_(b), imm); /* shufps a, b, imm */
        return a;
    }
    bool concat = true; /* bytes s, s+1, ... of b:a (or of a:b when s >= 16) */
    for (int i = 1; i < 16; i++)
        concat &= k[i] == ((k[0] + i) & 31);
    if (concat) {
        int lo = k[0] < 16 ? a : b, hi = k[0] < 16 ? b : a;
        x86_vec_i(cb, 0x66, 0x3a0f, hi, R_(lo), k[0] & 15); /* palignr hi, lo, s */
        return hi;
    }
    bool blend = true; /* every 16-bit lane stays in place, from a or b */
    uint8_t words = 0;
    for (int i = 0; i < 16; i += 2) {
        blend &= (k[i] & 15) == i && k[i + 1] == k[i] + 1;
        words |= (uint8_t)((k[i] >= 16) << (i / 2));
    }
    if (blend) {
        x86_vec_i(cb, 0x66, 0x3a0e, a, R_(b), words); /* pblendw a, b, words */
        return a;
    }
    v128 from_a, from_b;
    for (int i = 0; i < 16; i++) {
        from_a.b[i] = k[i] < 16 ? k[i] : 0x80;
        from_b.b[i] = k[i] >= 16 ? (uint8_t)(k[i] - 16) : 0x80;
    }
    vpool_op(p, cb, 0x66, 0x3800, a, from_a); /* pshufb a, [from_a] */
    vpool_op(p, cb, 0x66, 0x3800, b, from_b); /* pshufb b, [from_b] */
    x86_vec(cb, 0x66, 0xeb, a, R_(b));        /* por a, b */
    return a;
}

unsigned vop_shuffle_sources(const uint8_t *k)
{
    unsigned from = 0;
    for (int i = 0; i < 16; i++)
        from |= k[i] < 16 ? 1u : 2u;
    return from;
}

/* i8x16.shuffle: each result byte picks one of the 32 bytes of a and b. */
static int shuffle(codebuf *cb, vpool *p, const uint8_t *k, int a, int b)
{
    switch (vop_shuffle_sources(k)) {
    case 1: return shuffle_one(cb, p, a, k);
    case 2: return shuffle_one(cb, p, b, k);
    default: return shuffle_two(cb, p, a, b, k);
    }
}

/* i8x16.swizzle: indices of 16 or more give 0. Adding 0x70 with unsigned
 * saturation keeps the low nibble of an index below 16 and sets bit 7 of
 * every other one, which pshufb turns into 0. */
static int swizzle(codebuf *cb, vpool *p, int a, int s)
{
    vpool_op(p, cb, 0x66, 0xdc, s, vop_bytes(0x70)); /* paddusb s, [0x70...] */
    x86_vec(cb, 0x66, 0x3800, a, R_(s));            /* pshufb a, s */
    return a;
}

/* Splats: f32x4 and f64x2 in place in a (an xmm); the integer ones from
 * a (a GPR) into x. */
static int splat(codebuf *cb, uint32_t op, int a, int x)
{
    if (op == 0x13) {
        x86_vec_i(cb, 0, 0xc6, a, R_(a), 0); /* shufps a, a, 0 */
        return a;
    }
    if (op == 0x14) {
        x86_vec(cb, 0x66, 0x6c, a, R_(a)); /* punpcklqdq a, a */
        return a;
    }
    if (op == 0x12)
        x86_movd_xr(cb, SZ64, x, R_(a)); /* movq x, a */
    else
        x86_movd_xr(cb, SZ32, x, R_(a)); /* movd x, a */
    switch (op) {
    case 0x0f:                                           /* i8x16.splat */
        x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH)); /* pxor xmm15, xmm15 */
        x86_vec(cb, 0x66, 0x3800, x, R_(XSCRATCH));      /* pshufb x, xmm15 */
        break;
    case 0x10:                                  /* i16x8.splat */
        x86_vec_i(cb, 0xf2, 0x70, x, R_(x), 0); /* pshuflw x, x, 0 */
        x86_vec(cb, 0x66, 0x6c, x, R_(x));      /* punpcklqdq x, x */
        break;
    case 0x11: x86_vec_i(cb, 0x66, 0x70, x, R_(x), 0); break; /* pshufd x, x, 0 */
    default: x86_vec(cb, 0x66, 0x6c, x, R_(x)); break;        /* punpcklqdq x, x */
    }
    return x;
}

/* extract_lane: f32x4 / f64x2 lanes move to lane 0 of x, integer ones to g. */
static int extract(codebuf *cb, uint32_t op, uint8_t lane, int x, int g)
{
    if (op == 0x1f || op == 0x21) {
        if (op == 0x1f && lane)
            x86_vec_i(cb, 0x66, 0x70, x, R_(x), lane); /* pshufd x, x, lane */
        else if (op == 0x21 && lane)
            x86_vec(cb, 0, 0x12, x, R_(x));           /* movhlps x, x */
        return x;
    }
    switch (op) {
    case 0x15:                                       /* i8x16.extract_lane_s */
        x86_vec_i(cb, 0x66, 0x3a14, x, R_(g), lane); /* pextrb g, x, lane */
        x86_movsx(cb, SZ32, g, SZ8, R_(g));          /* movsx g, g8 */
        break;
    case 0x16: x86_vec_i(cb, 0x66, 0x3a14, x, R_(g), lane); break; /* pextrb g, x, lane */
    case 0x18:                                       /* i16x8.extract_lane_s */
        x86_vec_i(cb, 0x66, 0xc5, g, R_(x), lane);   /* pextrw g, x, lane */
        x86_movsx(cb, SZ32, g, SZ16, R_(g));         /* movsx g, g16 */
        break;
    case 0x19: x86_vec_i(cb, 0x66, 0xc5, g, R_(x), lane); break;   /* pextrw g, x, lane */
    case 0x1b: x86_vec_i(cb, 0x66, 0x3a16, x, R_(g), lane); break; /* pextrd g, x, lane */
    default: x86_vec_wi(cb, 0x66, 0x3a16, x, R_(g), lane); break;  /* pextrq g, x, lane */
    }
    return g;
}

/* replace_lane: lane `lane` of x becomes s (a GPR, or an xmm for floats). */
static int replace(codebuf *cb, uint32_t op, uint8_t lane, int x, int s)
{
    switch (op) {
    case 0x17: x86_vec_i(cb, 0x66, 0x3a20, x, R_(s), lane); break;  /* pinsrb x, s, lane */
    case 0x1a: x86_vec_i(cb, 0x66, 0xc4, x, R_(s), lane); break;    /* pinsrw x, s, lane */
    case 0x1c: x86_vec_i(cb, 0x66, 0x3a22, x, R_(s), lane); break;  /* pinsrd x, s, lane */
    case 0x1e: x86_vec_wi(cb, 0x66, 0x3a22, x, R_(s), lane); break; /* pinsrq x, s, lane */
    case 0x20:
        x86_vec_i(cb, 0x66, 0x3a21, x, R_(s), (uint8_t)(lane << 4)); /* insertps x, s, lane<<4 */
        break;
    default: /* 0x22 f64x2.replace_lane */
        if (lane)
            x86_vec(cb, 0, 0x16, x, R_(s));    /* movlhps x, s */
        else
            x86_vec(cb, 0xf2, 0x10, x, R_(s)); /* movsd x, s */
        break;
    }
    return x;
}

int vops_lane(codebuf *cb, vpool *p, uint32_t op, uint8_t lane, const uint8_t *shuffle_bytes,
              vop_regs *r)
{
    static const bool replaces[] = {[0x17] = 1, [0x1a] = 1, [0x1c] = 1, [0x1e] = 1, [0x20] = 1,
                                    [0x22] = 1};
    if (op == 0x0d)
        return shuffle(cb, p, shuffle_bytes, r->a, r->b);
    if (op == 0x0e)
        return swizzle(cb, p, r->a, r->b);
    if (op <= 0x14)
        return splat(cb, op, r->a, r->t);
    if (replaces[op])
        return replace(cb, op, lane, r->a, r->b);
    return extract(cb, op, lane, r->a, r->g);
}
