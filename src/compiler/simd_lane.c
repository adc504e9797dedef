/* v128.const, shuffles, splats and lane access (0xFD 0x0c-0x22). */
#include <string.h>

#include "simd.h"

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

/* Single source: a dword permutation is one pshufd, anything else a pshufb
 * with the indices (all below 16). */
static void shuffle_one(fn *f, int x, const uint8_t *k)
{
    int l[4];
    if (dword_lanes(k, l)) {
        uint8_t imm = (uint8_t)((l[0] & 3) | (l[1] & 3) << 2 | (l[2] & 3) << 4 | (l[3] & 3) << 6);
        if (imm != 0xe4) /* not the identity */
            x86_vec_i(f->cb, 0x66, 0x70, xn(x), R_(xn(x)), imm); /* pshufd x, x, imm */
        return;
    }
    v128 idx;
    for (int i = 0; i < 16; i++)
        idx.b[i] = k[i] & 15;
    vconst_op(f, 0x66, 0x3800, xn(x), idx); /* pshufb x, [idx] */
}

/* Two sources: the patterns of one instruction, else two pshufb and por
 * (pshufb zeroes a byte whose index has bit 7 set). Returns the result's
 * register, a or b; the other is freed. */
static int shuffle_two(fn *f, int a, int b, const uint8_t *k)
{
    codebuf *cb = f->cb;
    int l[4];
    if (dword_lanes(k, l) && l[0] < 4 && l[1] < 4 && l[2] >= 4 && l[3] >= 4) {
        uint8_t imm = (uint8_t)(l[0] | l[1] << 2 | (l[2] - 4) << 4 | (l[3] - 4) << 6);
        x86_vec_i(cb, 0, 0xc6, xn(a), R_(xn(b)), imm); /* shufps a, b, imm */
        reg_free(f, b);
        return a;
    }
    bool concat = true; /* bytes s, s+1, ... of b:a (or of a:b when s >= 16) */
    for (int i = 1; i < 16; i++)
        concat &= k[i] == ((k[0] + i) & 31);
    if (concat) {
        int lo = k[0] < 16 ? a : b, hi = k[0] < 16 ? b : a;
        x86_vec_i(cb, 0x66, 0x3a0f, xn(hi), R_(xn(lo)), k[0] & 15); /* palignr hi, lo, s */
        reg_free(f, lo);
        return hi;
    }
    bool blend = true; /* every 16-bit lane stays in place, from a or b */
    uint8_t words = 0;
    for (int i = 0; i < 16; i += 2) {
        blend &= (k[i] & 15) == i && k[i + 1] == k[i] + 1;
        words |= (uint8_t)((k[i] >= 16) << (i / 2));
    }
    if (blend) {
        x86_vec_i(cb, 0x66, 0x3a0e, xn(a), R_(xn(b)), words); /* pblendw a, b, words */
        reg_free(f, b);
        return a;
    }
    v128 from_a, from_b;
    for (int i = 0; i < 16; i++) {
        from_a.b[i] = k[i] < 16 ? k[i] : 0x80;
        from_b.b[i] = k[i] >= 16 ? (uint8_t)(k[i] - 16) : 0x80;
    }
    vconst_op(f, 0x66, 0x3800, xn(a), from_a); /* pshufb a, [from_a] */
    vconst_op(f, 0x66, 0x3800, xn(b), from_b); /* pshufb b, [from_b] */
    x86_vec(cb, 0x66, 0xeb, xn(a), R_(xn(b))); /* por a, b */
    reg_free(f, b);
    return a;
}

/* i8x16.shuffle: each result byte picks one of the 32 bytes of a and b. */
static void shuffle(fn *f, const uint8_t *k)
{
    bool any_a = false, any_b = false;
    for (int i = 0; i < 16; i++) {
        any_a |= k[i] < 16;
        any_b |= k[i] >= 16;
    }
    if (any_a && any_b) {
        int b = v_pop(f, 0);
        int a = v_pop(f, REG_BIT(b));
        v_push(f, shuffle_two(f, a, b, k));
        return;
    }
    /* One source; the other operand is dropped unread. */
    int x;
    if (any_a) {
        ventry b = pop(f);
        free_entry(f, &b);
        x = v_pop(f, 0);
    } else {
        x = v_pop(f, 0);
        ventry a = pop(f);
        free_entry(f, &a);
    }
    shuffle_one(f, x, k);
    v_push(f, x);
}

/* i8x16.swizzle: indices of 16 or more give 0. Adding 0x70 with unsigned
 * saturation keeps the low nibble of an index below 16 and sets bit 7 of
 * every other one, which pshufb turns into 0. */
static void swizzle(fn *f)
{
    int s = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(s));
    vconst_op(f, 0x66, 0xdc, xn(s), v_bytes(0x70)); /* paddusb s, [0x70...] */
    x86_vec(f->cb, 0x66, 0x3800, xn(a), R_(xn(s)));  /* pshufb a, s */
    reg_free(f, s);
    v_push(f, a);
}

static void splat(fn *f, uint32_t op)
{
    codebuf *cb = f->cb;
    if (op >= 0x13) { /* f32x4.splat, f64x2.splat: the scalar is in an xmm */
        int x = pop_reg(f, 0);
        if (op == 0x13)
            x86_vec_i(cb, 0, 0xc6, xn(x), R_(xn(x)), 0); /* shufps x, x, 0 */
        else
            x86_vec(cb, 0x66, 0x6c, xn(x), R_(xn(x)));   /* punpcklqdq x, x */
        v_push(f, x);
        return;
    }
    int g = pop_reg(f, 0);
    int x = reg_alloc(f, true);
    if (op == 0x12)
        x86_movd_xr(cb, SZ64, xn(x), R_(g)); /* movq x, g */
    else
        x86_movd_xr(cb, SZ32, xn(x), R_(g)); /* movd x, g */
    reg_free(f, g);
    switch (op) {
    case 0x0f:                                           /* i8x16.splat */
        x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH)); /* pxor xmm15, xmm15 */
        x86_vec(cb, 0x66, 0x3800, xn(x), R_(XSCRATCH));  /* pshufb x, xmm15 */
        break;
    case 0x10:                                        /* i16x8.splat */
        x86_vec_i(cb, 0xf2, 0x70, xn(x), R_(xn(x)), 0); /* pshuflw x, x, 0 */
        x86_vec(cb, 0x66, 0x6c, xn(x), R_(xn(x)));      /* punpcklqdq x, x */
        break;
    case 0x11: x86_vec_i(cb, 0x66, 0x70, xn(x), R_(xn(x)), 0); break; /* pshufd x, x, 0 */
    default: x86_vec(cb, 0x66, 0x6c, xn(x), R_(xn(x))); break;      /* punpcklqdq x, x */
    }
    v_push(f, x);
}

static void extract(fn *f, uint32_t op, uint8_t lane)
{
    codebuf *cb = f->cb;
    int x = v_pop(f, 0);
    if (op == 0x1f || op == 0x21) { /* f32x4 / f64x2: the lane moves to lane 0 */
        if (op == 0x1f && lane)
            x86_vec_i(cb, 0x66, 0x70, xn(x), R_(xn(x)), lane); /* pshufd x, x, lane */
        else if (op == 0x21 && lane)
            x86_vec(cb, 0, 0x12, xn(x), R_(xn(x)));           /* movhlps x, x */
        push_reg(f, op == 0x1f ? WASM_F32 : WASM_F64, x);
        return;
    }
    int g = reg_alloc(f, false);
    switch (op) {
    case 0x15:                                            /* i8x16.extract_lane_s */
        x86_vec_i(cb, 0x66, 0x3a14, xn(x), R_(g), lane);  /* pextrb g, x, lane */
        x86_movsx(cb, SZ32, g, SZ8, R_(g));               /* movsx g, g8 */
        break;
    case 0x16: x86_vec_i(cb, 0x66, 0x3a14, xn(x), R_(g), lane); break; /* pextrb g, x, lane */
    case 0x18:                                            /* i16x8.extract_lane_s */
        x86_vec_i(cb, 0x66, 0xc5, g, R_(xn(x)), lane);    /* pextrw g, x, lane */
        x86_movsx(cb, SZ32, g, SZ16, R_(g));              /* movsx g, g16 */
        break;
    case 0x19: x86_vec_i(cb, 0x66, 0xc5, g, R_(xn(x)), lane); break;   /* pextrw g, x, lane */
    case 0x1b: x86_vec_i(cb, 0x66, 0x3a16, xn(x), R_(g), lane); break; /* pextrd g, x, lane */
    default: x86_vec_wi(cb, 0x66, 0x3a16, xn(x), R_(g), lane); break;  /* pextrq g, x, lane */
    }
    reg_free(f, x);
    push_reg(f, op == 0x1d ? WASM_I64 : WASM_I32, g);
}

static void replace(fn *f, uint32_t op, uint8_t lane)
{
    codebuf *cb = f->cb;
    int s = pop_reg(f, 0);
    int x = v_pop(f, REG_BIT(s));
    switch (op) {
    case 0x17: x86_vec_i(cb, 0x66, 0x3a20, xn(x), R_(s), lane); break; /* pinsrb x, s, lane */
    case 0x1a: x86_vec_i(cb, 0x66, 0xc4, xn(x), R_(s), lane); break;   /* pinsrw x, s, lane */
    case 0x1c: x86_vec_i(cb, 0x66, 0x3a22, xn(x), R_(s), lane); break; /* pinsrd x, s, lane */
    case 0x1e: x86_vec_wi(cb, 0x66, 0x3a22, xn(x), R_(s), lane); break; /* pinsrq x, s, lane */
    case 0x20:
        x86_vec_i(cb, 0x66, 0x3a21, xn(x), R_(xn(s)), (uint8_t)(lane << 4)); /* insertps x, s, lane<<4 */
        break;
    default: /* 0x22 f64x2.replace_lane */
        if (lane)
            x86_vec(cb, 0, 0x16, xn(x), R_(xn(s)));    /* movlhps x, s */
        else
            x86_vec(cb, 0xf2, 0x10, xn(x), R_(xn(s))); /* movsd x, s */
        break;
    }
    reg_free(f, s);
    v_push(f, x);
}

void simd_lane(fn *f, const wasm_instr *ins)
{
    uint32_t op = ins->op & 0xff;
    static const bool replaces[] = {[0x17] = 1, [0x1a] = 1, [0x1c] = 1, [0x1e] = 1, [0x20] = 1,
                                    [0x22] = 1};
    if (op == 0x0c) { /* v128.const */
        v128 v;
        memcpy(v.b, ins->bytes, 16);
        push_const(f, WASM_V128, vconst_index(f, v));
    } else if (op == 0x0d) {
        shuffle(f, ins->bytes);
    } else if (op == 0x0e) {
        swizzle(f);
    } else if (op <= 0x14) {
        splat(f, op);
    } else if (replaces[op]) {
        replace(f, op, ins->lane);
    } else {
        extract(f, op, ins->lane);
    }
}
