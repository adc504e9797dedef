/* Float <-> integer conversions that take more than an instruction,
 * emitted alike by every tier (tier.h). */
#include <string.h>

#include "tier.h"
#include "wasmjail.h"

/* xmm15 = constant (through r11) */
static void load_fconst(codebuf *cb, bool dbl, double v)
{
    uint64_t bits;
    if (dbl) {
        memcpy(&bits, &v, 8);
    } else {
        float s = (float)v;
        uint32_t b;
        memcpy(&b, &s, 4);
        bits = b;
    }
    x86_mov_ri64(cb, R11, bits);                          /* mov r11, bits */
    x86_movd_xr(cb, dbl ? SZ64 : SZ32, 15, R_(R11));     /* movq xmm15, r11 */
}

void emit_trunc(codebuf *cb, bool dbl, bool to64, bool is_signed, bool sat, int r, int x,
                trap_jump_fn trap, void *ctx)
{
    /* the source must lie strictly between lo and hi (lo_incl: lo too) */
    double lo, hi;
    bool lo_incl;
    if (is_signed) {
        hi = to64 ? 9223372036854775808.0 : 2147483648.0;
        lo = to64 ? -9223372036854775808.0 : (dbl ? -2147483649.0 : -2147483648.0);
        lo_incl = to64 || !dbl;
    } else {
        hi = to64 ? 18446744073709551616.0 : 4294967296.0;
        lo = -1.0;
        lo_incl = false;
    }
    int size = to64 ? SZ64 : SZ32;
    uint32_t exits[4];
    int nexits = 0;
    if (sat)
        x86_alu_mr(cb, ALU_XOR, SZ32, R_(r), r); /* xor r, r: NaN gives 0 */
    x86_ucomis(cb, dbl, x, R_(x)); /* ucomis x, x */
    if (sat)
        exits[nexits++] = x86_jcc(cb, CC_P); /* jp done */
    else
        trap(ctx, x86_jcc(cb, CC_P), WJ_TRAP_BAD_CONVERSION);
    load_fconst(cb, dbl, lo);
    x86_ucomis(cb, dbl, x, R_(15)); /* ucomis x, lo */
    int below = lo_incl ? CC_B : CC_BE;
    if (sat) {
        uint32_t in = x86_jcc(cb, below ^ 1);
        uint64_t min = is_signed ? (to64 ? (uint64_t)INT64_MIN : 0x80000000u) : 0;
        x86_mov_ri64(cb, r, min);
        exits[nexits++] = x86_jmp(cb);
        x86_bind(cb, in, cb->len);
    } else {
        trap(ctx, x86_jcc(cb, below), WJ_TRAP_INT_OVERFLOW);
    }
    load_fconst(cb, dbl, hi);
    x86_ucomis(cb, dbl, x, R_(15)); /* ucomis x, hi */
    if (sat) {
        uint32_t in = x86_jcc(cb, CC_B);
        uint64_t max = is_signed ? (to64 ? (uint64_t)INT64_MAX : 0x7fffffffu)
                                 : (to64 ? UINT64_MAX : 0xffffffffu);
        x86_mov_ri64(cb, r, max);
        exits[nexits++] = x86_jmp(cb);
        x86_bind(cb, in, cb->len);
    } else {
        trap(ctx, x86_jcc(cb, CC_AE), WJ_TRAP_INT_OVERFLOW);
    }
    if (is_signed) {
        x86_cvtts2si(cb, dbl, size, r, x); /* cvttss2si r, x */
    } else if (!to64) {
        x86_cvtts2si(cb, dbl, SZ64, r, x); /* cvttss2si r64, x: exact below 2^32 */
    } else {
        load_fconst(cb, dbl, 9223372036854775808.0);
        x86_ucomis(cb, dbl, x, R_(15)); /* ucomis x, 2^63 */
        uint32_t big = x86_jcc(cb, CC_AE);
        x86_cvtts2si(cb, dbl, SZ64, r, x);  /* cvttss2si r64, x */
        uint32_t done = x86_jmp(cb);
        x86_bind(cb, big, cb->len);
        x86_sse(cb, dbl, SSE_SUB, x, R_(15)); /* subss x, 2^63 */
        x86_cvtts2si(cb, dbl, SZ64, r, x);    /* cvttss2si r64, x */
        x86_btc_i(cb, SZ64, r, 63);           /* btc r, 63: + 2^63 */
        x86_bind(cb, done, cb->len);
    }
    for (int i = 0; i < nexits; i++)
        x86_bind(cb, exits[i], cb->len);
}

void emit_convert_u64(codebuf *cb, bool dbl, int x, int r)
{
    x86_logic_ps(cb, 0x57, x, x);         /* xorps x, x: no false dependency */
    x86_test_rr(cb, SZ64, R_(r), r);      /* test r, r */
    uint32_t big = x86_jcc(cb, CC_S);     /* js big */
    x86_cvtsi2s(cb, dbl, SZ64, x, R_(r)); /* cvtsi2ss x, r64 */
    uint32_t done = x86_jmp(cb);
    x86_bind(cb, big, cb->len);
    /* halve, keeping the lost bit sticky so rounding stays exact */
    x86_mov_rr(cb, SZ64, R11, R_(r));          /* mov r11, r */
    x86_shift_i(cb, 5, SZ64, R_(R11), 1);      /* shr r11, 1 */
    x86_alu_ri(cb, ALU_AND, SZ32, R_(r), 1);   /* and r32, 1 */
    x86_alu_rr(cb, ALU_OR, SZ64, R11, R_(r));  /* or r11, r */
    x86_cvtsi2s(cb, dbl, SZ64, x, R_(R11));    /* cvtsi2ss x, r11 */
    x86_sse(cb, dbl, SSE_ADD, x, R_(x));       /* addss x, x */
    x86_bind(cb, done, cb->len);
}
