/* Lane shifts by an i32 count (0xFD 0x6b-0x6d, 0x8b-0x8d, 0xab-0xad,
 * 0xcb-0xcd). Wasm takes the count modulo the lane width; x86 saturates it,
 * so it is masked first. SSE has no byte shift and no 64-bit arithmetic
 * shift right: bytes are shifted as words, 64-bit lanes as logical shifts
 * with the sign restored. */
#include "vops_impl.h"

enum { SHL, SHR_S, SHR_U };

/* The /digit of 66 0F 71/72/73 ib, and the opcodes shifting by xmm. */
static const uint8_t digit[3] = {6, 4, 2};
static const uint32_t by_xmm[3][4] = {
    {0, 0xf1, 0xf2, 0xf3}, /* psllw, pslld, psllq */
    {0, 0xe1, 0xe2, 0},    /* psraw, psrad */
    {0, 0xd1, 0xd2, 0xd3}, /* psrlw, psrld, psrlq */
};

/* x by the immediate n, in 16, 32 or 64-bit lanes. */
static void shift_i(codebuf *cb, int size, int kind, int x, uint8_t n)
{
    x86_vec_i(cb, 0x66, 0x70 + (uint32_t)size, digit[kind], R_(x), n); /* ps{ll,ra,rl}{w,d,q} x, n */
}

/* i8x16.shr_s by n: each byte doubled into a word (punpck{l,h}bw), whose
 * arithmetic shift by n + 8 is the byte's; packsswb packs the words back
 * (they fit a byte). `count` is an xmm holding n + 8, or -1: the
 * immediate n8 is n + 8. */
static void bytes_sar(codebuf *cb, int x, int count, uint8_t n8)
{
    x86_movaps(cb, XSCRATCH, x);                     /* movaps xmm15, x */
    x86_vec(cb, 0x66, 0x68, XSCRATCH, R_(x));        /* punpckhbw xmm15, x */
    v_op(cb, 0x60, x, x);                            /* punpcklbw x, x */
    if (count < 0) {
        x86_vec_i(cb, 0x66, 0x71, 4, R_(XSCRATCH), n8); /* psraw xmm15, n8 */
        x86_vec_i(cb, 0x66, 0x71, 4, R_(x), n8);        /* psraw x, n8 */
    } else {
        x86_vec(cb, 0x66, 0xe1, XSCRATCH, R_(count)); /* psraw xmm15, count */
        v_op(cb, 0xe1, x, count);                     /* psraw x, count */
    }
    x86_vec(cb, 0x66, 0x63, x, R_(XSCRATCH));        /* packsswb x, xmm15 */
}

static void shift_const(codebuf *cb, vpool *p, int size, int kind, int x, uint8_t n)
{
    if (!n)
        return;
    if (size == 0 && kind == SHR_S) {
        bytes_sar(cb, x, -1, (uint8_t)(n + 8));
    } else if (size == 0) { /* as words, then the bits that crossed bytes cleared */
        shift_i(cb, 1, kind, x, n);
        uint8_t keep = (uint8_t)(kind == SHL ? 0xff << n : 0xff >> n);
        vpool_op(p, cb, 0x66, 0xdb, x, vop_bytes(keep)); /* pand x, [keep...] */
    } else if (size == 3 && kind == SHR_S) { /* (x >>u n ^ m) - m, m = 1 << 63 >> n */
        v128 m = vop_i64(UINT64_C(1) << (63 - n));
        shift_i(cb, 3, SHR_U, x, n);
        vpool_op(p, cb, 0x66, 0xef, x, m); /* pxor x, [m] */
        vpool_op(p, cb, 0x66, 0xfb, x, m); /* psubq x, [m] */
    } else {
        shift_i(cb, size, kind, x, n);
    }
}

/* Byte shifts by a register count n (0-7, in g): shl and shr_u as words
 * with the bytes masked by 0xff >> n (before shl, after shr_u); the mask is
 * all-ones words shifted right by n + 8, packed to bytes. */
static void bytes_by_reg(codebuf *cb, int kind, int x, int g, int t)
{
    x86_lea(cb, SZ32, SCRATCH, M_(g, 8)); /* lea r11d, [g+8] */
    if (kind == SHR_S) {
        x86_movd_xr(cb, SZ32, t, R_(SCRATCH)); /* movd t, r11d */
        bytes_sar(cb, x, t, 0);
        return;
    }
    x86_vec(cb, 0x66, 0x76, t, R_(t));                   /* pcmpeqd t, t */
    x86_movd_xr(cb, SZ32, XSCRATCH, R_(SCRATCH));        /* movd xmm15, r11d */
    x86_vec(cb, 0x66, 0xd1, t, R_(XSCRATCH));            /* psrlw t, xmm15 */
    v_op(cb, 0x67, t, t);                                /* packuswb t, t */
    x86_movd_xr(cb, SZ32, XSCRATCH, R_(g));              /* movd xmm15, g */
    if (kind == SHL)
        v_op(cb, 0xdb, x, t);                            /* pand x, t */
    x86_vec(cb, 0x66, by_xmm[kind][1], x, R_(XSCRATCH)); /* psllw/psrlw x, xmm15 */
    if (kind == SHR_U)
        v_op(cb, 0xdb, x, t);                            /* pand x, t */
}

int vops_shift(codebuf *cb, vpool *p, uint32_t op, vop_regs *r)
{
    int size = (int)(op - 0x60) >> 5, kind = (int)((op - 0x60) & 0x1f) - 0x0b;
    int bits = 8 << size, x = r->a, g = r->b, t = r->t;
    if (r->b_const) {
        shift_const(cb, p, size, kind, x, (uint8_t)(r->b_imm & (uint64_t)(bits - 1)));
        return x;
    }
    x86_alu_ri(cb, ALU_AND, SZ32, R_(g), bits - 1); /* and g, bits-1 */
    if (size == 0) {
        bytes_by_reg(cb, kind, x, g, t);
    } else if (size == 3 && kind == SHR_S) { /* as with a constant count */
        x86_movd_xr(cb, SZ32, t, R_(g));                              /* movd t, g */
        vpool_load(p, cb, XSCRATCH, vpool_index(p, vop_i64(UINT64_C(1) << 63))); /* movdqa xmm15, [1<<63] */
        x86_vec(cb, 0x66, 0xd3, XSCRATCH, R_(t));                     /* psrlq xmm15, t */
        v_op(cb, 0xd3, x, t);                                         /* psrlq x, t */
        x86_vec(cb, 0x66, 0xef, x, R_(XSCRATCH));                     /* pxor x, xmm15 */
        x86_vec(cb, 0x66, 0xfb, x, R_(XSCRATCH));                     /* psubq x, xmm15 */
    } else {
        x86_movd_xr(cb, SZ32, XSCRATCH, R_(g));                 /* movd xmm15, g */
        x86_vec(cb, 0x66, by_xmm[kind][size], x, R_(XSCRATCH)); /* shift x, xmm15 */
    }
    return x;
}
