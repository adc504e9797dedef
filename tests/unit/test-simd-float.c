/* The float lane instructions and conversions of the SIMD proposal
 * (src/compiler/vops_float.c, vops_fconv.c) against a C reference written
 * from the spec's definitions, lane by lane: every pair of edge values
 * (zeros, infinities, NaNs with payloads and signs, ties, the bounds of
 * the saturating truncations and of exact conversion) and pseudo-random
 * bit patterns from a fixed seed.
 *
 * Results are compared bit for bit, except where the spec allows a set of
 * NaNs: there a NaN lane must be canonical when every NaN operand lane is
 * canonical (or there is none), else arithmetic (quiet bit set). */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

#include "unit.h"
#include "wat.h"

/* ==== lanes as bits =================================================================== */

static float f32(uint64_t b)
{
    uint32_t u = (uint32_t)b;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static double f64(uint64_t b)
{
    double x;
    memcpy(&x, &b, 8);
    return x;
}

static uint64_t b32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static uint64_t b64(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

static uint64_t lane_mask(int bits) { return bits == 64 ? UINT64_MAX : UINT32_MAX; }
static uint64_t sign_bit(int bits) { return UINT64_C(1) << (bits - 1); }
/* The positive canonical NaN: exponent and quiet bit set. */
static uint64_t quiet_nan(int bits)
{
    return bits == 64 ? UINT64_C(0x7ff8000000000000) : 0x7fc00000;
}
static uint64_t infinity(int bits)
{
    return bits == 64 ? UINT64_C(0x7ff0000000000000) : 0x7f800000;
}
/* The bits of a lane but the sign. */
static uint64_t magnitude(uint64_t b, int bits) { return b & lane_mask(bits) & ~sign_bit(bits); }

static bool is_nan(uint64_t b, int bits) { return magnitude(b, bits) > infinity(bits); }
static bool is_canonical(uint64_t b, int bits) { return magnitude(b, bits) == quiet_nan(bits); }
static bool is_arithmetic(uint64_t b, int bits) { return (b & quiet_nan(bits)) == quiet_nan(bits); }
static bool number_or_canonical(uint64_t b, int bits)
{
    return !is_nan(b, bits) || is_canonical(b, bits);
}

/* ==== the reference =================================================================== */

static uint64_t mask_if(bool c) { return c ? UINT64_MAX : 0; }

/* The spec's saturating truncations, from a double (every f32 is one). */
static uint64_t trunc_sat_s(double x)
{
    if (x != x)
        return 0;
    if (x >= 2147483648.0)
        return INT32_MAX;
    if (x <= -2147483649.0)
        return (uint32_t)INT32_MIN;
    return (uint32_t)(int32_t)x;
}

static uint64_t trunc_sat_u(double x)
{
    if (!(x > -1.0)) /* NaN too */
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

/* fmin / fmax of the spec for non-NaN operands: -0 < +0. */
static uint64_t fmin_bits(uint64_t a, uint64_t b, double x, double y)
{
    return x == y ? a | b : x < y ? a : b;
}
static uint64_t fmax_bits(uint64_t a, uint64_t b, double x, double y)
{
    return x == y ? a & b : x > y ? a : b;
}

/* Lane references from the operands' bits, named x and y as floats. */
#define F32_1(name, expr)                                                                  \
    static uint64_t name(uint64_t a, uint64_t b)                                           \
    {                                                                                      \
        (void)b;                                                                           \
        float x = f32(a);                                                                  \
        return (expr);                                                                     \
    }
#define F32_2(name, expr)                                                                  \
    static uint64_t name(uint64_t a, uint64_t b)                                           \
    {                                                                                      \
        float x = f32(a), y = f32(b);                                                      \
        return (expr);                                                                     \
    }
#define F64_1(name, expr)                                                                  \
    static uint64_t name(uint64_t a, uint64_t b)                                           \
    {                                                                                      \
        (void)b;                                                                           \
        double x = f64(a);                                                                 \
        return (expr);                                                                     \
    }
#define F64_2(name, expr)                                                                  \
    static uint64_t name(uint64_t a, uint64_t b)                                           \
    {                                                                                      \
        double x = f64(a), y = f64(b);                                                     \
        return (expr);                                                                     \
    }

F32_2(f32_eq, mask_if(x == y))
F32_2(f32_ne, mask_if(x != y))
F32_2(f32_lt, mask_if(x < y))
F32_2(f32_gt, mask_if(x > y))
F32_2(f32_le, mask_if(x <= y))
F32_2(f32_ge, mask_if(x >= y))
F64_2(f64_eq, mask_if(x == y))
F64_2(f64_ne, mask_if(x != y))
F64_2(f64_lt, mask_if(x < y))
F64_2(f64_gt, mask_if(x > y))
F64_2(f64_le, mask_if(x <= y))
F64_2(f64_ge, mask_if(x >= y))
F32_1(f32_ceil, b32(ceilf(x)))
F32_1(f32_floor, b32(floorf(x)))
F32_1(f32_trunc, b32(truncf(x)))
F32_1(f32_nearest, b32(nearbyintf(x)))
F64_1(f64_ceil, b64(ceil(x)))
F64_1(f64_floor, b64(floor(x)))
F64_1(f64_trunc, b64(trunc(x)))
F64_1(f64_nearest, b64(nearbyint(x)))
F32_1(f32_sqrt, b32(sqrtf(x)))
F32_2(f32_add, b32(x + y))
F32_2(f32_sub, b32(x - y))
F32_2(f32_mul, b32(x * y))
F32_2(f32_div, b32(x / y))
F32_2(f32_min, x != x || y != y ? quiet_nan(32) : fmin_bits(a, b, x, y))
F32_2(f32_max, x != x || y != y ? quiet_nan(32) : fmax_bits(a, b, x, y))
F32_2(f32_pmin, y < x ? b : a)
F32_2(f32_pmax, x < y ? b : a)
F64_1(f64_sqrt, b64(sqrt(x)))
F64_2(f64_add, b64(x + y))
F64_2(f64_sub, b64(x - y))
F64_2(f64_mul, b64(x * y))
F64_2(f64_div, b64(x / y))
F64_2(f64_min, x != x || y != y ? quiet_nan(64) : fmin_bits(a, b, x, y))
F64_2(f64_max, x != x || y != y ? quiet_nan(64) : fmax_bits(a, b, x, y))
F64_2(f64_pmin, y < x ? b : a)
F64_2(f64_pmax, x < y ? b : a)
F64_1(demote, b32((float)x))
F32_1(promote, b64((double)x))
F32_1(trunc_sat_f32_s, trunc_sat_s(x))
F32_1(trunc_sat_f32_u, trunc_sat_u(x))
F64_1(trunc_sat_f64_s, trunc_sat_s(x))
F64_1(trunc_sat_f64_u, trunc_sat_u(x))

/* abs and neg change the sign bit alone, of NaNs too. */
static uint64_t f32_abs(uint64_t a, uint64_t b) { (void)b; return a & ~sign_bit(32); }
static uint64_t f32_neg(uint64_t a, uint64_t b) { (void)b; return a ^ sign_bit(32); }
static uint64_t f64_abs(uint64_t a, uint64_t b) { (void)b; return a & ~sign_bit(64); }
static uint64_t f64_neg(uint64_t a, uint64_t b) { (void)b; return a ^ sign_bit(64); }
static uint64_t convert_s_f32(uint64_t a, uint64_t b) { (void)b; return b32((float)(int32_t)a); }
static uint64_t convert_u_f32(uint64_t a, uint64_t b) { (void)b; return b32((float)(uint32_t)a); }
static uint64_t convert_s_f64(uint64_t a, uint64_t b) { (void)b; return b64((double)(int32_t)a); }
static uint64_t convert_u_f64(uint64_t a, uint64_t b) { (void)b; return b64((double)(uint32_t)a); }

/* How a result lane is compared: bit for bit, or NaN results by the spec's
 * rule (any canonical NaN, or any arithmetic one). */
enum { EXACT, NANS };

/* Result lane i is ref(lane i of a, lane i of b), for the lanes of the
 * wider of the operand and result shapes; further result lanes are 0. */
typedef struct simd_op {
    const char *name;
    int arity;
    int in_bits, out_bits;
    int check;
    uint64_t (*ref)(uint64_t a, uint64_t b);
} simd_op;

static const simd_op ops[] = {
    {"f32x4.eq", 2, 32, 32, EXACT, f32_eq},
    {"f32x4.ne", 2, 32, 32, EXACT, f32_ne},
    {"f32x4.lt", 2, 32, 32, EXACT, f32_lt},
    {"f32x4.gt", 2, 32, 32, EXACT, f32_gt},
    {"f32x4.le", 2, 32, 32, EXACT, f32_le},
    {"f32x4.ge", 2, 32, 32, EXACT, f32_ge},
    {"f64x2.eq", 2, 64, 64, EXACT, f64_eq},
    {"f64x2.ne", 2, 64, 64, EXACT, f64_ne},
    {"f64x2.lt", 2, 64, 64, EXACT, f64_lt},
    {"f64x2.gt", 2, 64, 64, EXACT, f64_gt},
    {"f64x2.le", 2, 64, 64, EXACT, f64_le},
    {"f64x2.ge", 2, 64, 64, EXACT, f64_ge},
    {"f32x4.demote_f64x2_zero", 1, 64, 32, NANS, demote},
    {"f64x2.promote_low_f32x4", 1, 32, 64, NANS, promote},
    {"f32x4.ceil", 1, 32, 32, NANS, f32_ceil},
    {"f32x4.floor", 1, 32, 32, NANS, f32_floor},
    {"f32x4.trunc", 1, 32, 32, NANS, f32_trunc},
    {"f32x4.nearest", 1, 32, 32, NANS, f32_nearest},
    {"f64x2.ceil", 1, 64, 64, NANS, f64_ceil},
    {"f64x2.floor", 1, 64, 64, NANS, f64_floor},
    {"f64x2.trunc", 1, 64, 64, NANS, f64_trunc},
    {"f64x2.nearest", 1, 64, 64, NANS, f64_nearest},
    {"f32x4.abs", 1, 32, 32, EXACT, f32_abs},
    {"f32x4.neg", 1, 32, 32, EXACT, f32_neg},
    {"f32x4.sqrt", 1, 32, 32, NANS, f32_sqrt},
    {"f32x4.add", 2, 32, 32, NANS, f32_add},
    {"f32x4.sub", 2, 32, 32, NANS, f32_sub},
    {"f32x4.mul", 2, 32, 32, NANS, f32_mul},
    {"f32x4.div", 2, 32, 32, NANS, f32_div},
    {"f32x4.min", 2, 32, 32, NANS, f32_min},
    {"f32x4.max", 2, 32, 32, NANS, f32_max},
    {"f32x4.pmin", 2, 32, 32, EXACT, f32_pmin},
    {"f32x4.pmax", 2, 32, 32, EXACT, f32_pmax},
    {"f64x2.abs", 1, 64, 64, EXACT, f64_abs},
    {"f64x2.neg", 1, 64, 64, EXACT, f64_neg},
    {"f64x2.sqrt", 1, 64, 64, NANS, f64_sqrt},
    {"f64x2.add", 2, 64, 64, NANS, f64_add},
    {"f64x2.sub", 2, 64, 64, NANS, f64_sub},
    {"f64x2.mul", 2, 64, 64, NANS, f64_mul},
    {"f64x2.div", 2, 64, 64, NANS, f64_div},
    {"f64x2.min", 2, 64, 64, NANS, f64_min},
    {"f64x2.max", 2, 64, 64, NANS, f64_max},
    {"f64x2.pmin", 2, 64, 64, EXACT, f64_pmin},
    {"f64x2.pmax", 2, 64, 64, EXACT, f64_pmax},
    {"i32x4.trunc_sat_f32x4_s", 1, 32, 32, EXACT, trunc_sat_f32_s},
    {"i32x4.trunc_sat_f32x4_u", 1, 32, 32, EXACT, trunc_sat_f32_u},
    {"f32x4.convert_i32x4_s", 1, 32, 32, EXACT, convert_s_f32},
    {"f32x4.convert_i32x4_u", 1, 32, 32, EXACT, convert_u_f32},
    {"i32x4.trunc_sat_f64x2_s_zero", 1, 64, 32, EXACT, trunc_sat_f64_s},
    {"i32x4.trunc_sat_f64x2_u_zero", 1, 64, 32, EXACT, trunc_sat_f64_u},
    {"f64x2.convert_low_i32x4_s", 1, 32, 64, EXACT, convert_s_f64},
    {"f64x2.convert_low_i32x4_u", 1, 32, 64, EXACT, convert_u_f64},
};
#define NOPS (int)(sizeof ops / sizeof *ops)

/* ==== the operands ==================================================================== */

/* 32-bit lanes: f32 edge values, and i32 ones for the conversions. */
static const uint32_t edges32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, /* +-0 +-1 */
    0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, /* +-0.5 +-1.5 */
    0x40200000, 0xc0200000, 0x3effffff, 0xbf7fffff, /* +-2.5, 0.49999997, -0.99999994 */
    0x00000001, 0x80000001, 0x00800000, 0x007fffff, /* denormals, the least normal */
    0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, /* +-max, +-inf */
    0x7fc00000, 0xffc00000, 0x7fc00001, 0xffe00000, /* canonical and arithmetic NaNs */
    0x7f800001, 0xff800001, 0x7fa00000, 0x7fffffff, /* signalling NaNs */
    0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, /* 2^31 - 128, 2^31, -2^31, below */
    0x4f7fffff, 0x4f800000, 0x4b000001, 0x4b7fffff, /* 2^32 - 256, 2^32, odd ints at 2^23 */
    0x3dcccccd, 0x42f6e979, 0x501502f9, 0xd01502f9, /* 0.1, 123.456, +-1e10 */
    0x00000002, 0x7ffffffe, 0x7fffff80, 0x7fffffc0, /* as integers: rounding of */
    0x01000001, 0x80000002, 0xffffff7f, 0xffffffff, /* i32/u32 to f32 */
    0xfffffe80, 0x0000ffff, 0x00010001, 0x8000ffff,
};

static const uint64_t edges64[] = {
    0, UINT64_C(0x8000000000000000),                                   /* +-0 */
    UINT64_C(0x3ff0000000000000), UINT64_C(0xbff0000000000000),        /* +-1 */
    UINT64_C(0x3fe0000000000000), UINT64_C(0xbfe0000000000000),        /* +-0.5 */
    UINT64_C(0x3ff8000000000000), UINT64_C(0xc004000000000000),        /* 1.5, -2.5 */
    UINT64_C(0x3fdfffffffffffff), UINT64_C(0xbfefffffffffffff),        /* below 0.5, above -1 */
    1, UINT64_C(0x8000000000000001), UINT64_C(0x0010000000000000),     /* denormals, least normal */
    UINT64_C(0x7fefffffffffffff), UINT64_C(0xffefffffffffffff),        /* +-max */
    UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000),        /* +-inf */
    UINT64_C(0x7ff8000000000000), UINT64_C(0xfff8000000000000),        /* canonical NaNs */
    UINT64_C(0x7ff8000020000000), UINT64_C(0xfffc000000000000),        /* arithmetic NaNs */
    UINT64_C(0x7ff0000000000001), UINT64_C(0x7ff4000000000000),        /* signalling NaNs */
    UINT64_C(0xfff0000020000000), UINT64_C(0x7fffffffffffffff),
    UINT64_C(0x41dfffffffc00000), UINT64_C(0x41dfffffffe00000),        /* 2^31-1, 2^31-0.5 */
    UINT64_C(0x41e0000000000000), UINT64_C(0xc1e0000000000000),        /* +-2^31 */
    UINT64_C(0xc1e0000000100000), UINT64_C(0xc1e0000000200000),        /* -2^31-0.5, -2^31-1 */
    UINT64_C(0x41efffffffe00000), UINT64_C(0x41effffffff00000),        /* 2^32-1, 2^32-0.5 */
    UINT64_C(0x41f0000000000000), UINT64_C(0x4330000000000000),        /* 2^32, 2^52 */
    UINT64_C(0x432fffffffffffff), UINT64_C(0x433fffffffffffff),        /* 2^52-0.5, 2^53-1 */
    UINT64_C(0x47efffffe0000000), UINT64_C(0x47efffffefffffff),        /* f32 max, just below the */
    UINT64_C(0x47effffff0000000), UINT64_C(0x36a0000000000000),        /* tie to inf; 2^-149 */
    UINT64_C(0x3690000000000000), UINT64_C(0x3fb999999999999a),        /* 2^-150, 0.1 */
    UINT64_C(0x4202a05f20000000), UINT64_C(0xc202a05f20000000),        /* +-1e10 */
};

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A pseudo-random lane: raw bits, a float near an integer, or an edge. */
static uint64_t random_lane(int bits)
{
    uint64_t r = rng();
    int64_t n = (int64_t)(r >> 30) - (INT64_C(1) << 33); /* about +-2^33 */
    switch (r & 3) {
    case 0: return (r >> 2) & lane_mask(bits);
    case 1: return bits == 64 ? b64((double)n * 0.5) : b32((float)n * 0.5f);
    case 2: return bits == 64 ? b64((double)(n >> 20)) : (uint32_t)(n >> 2);
    default:
        return bits == 64 ? edges64[(r >> 2) % (sizeof edges64 / 8)]
                          : edges32[(r >> 2) % (sizeof edges32 / 4)];
    }
}

/* ==== the module ====================================================================== */

/* One function per op: (v128 v128) -> v128, the second operand unused by
 * the unary ones. */
static char *module_text(void)
{
    size_t cap = 64 + (size_t)NOPS * 256, len = 0; /* a function's text is under 256 */
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    len += (size_t)snprintf(t + len, cap - len, "(module\n");
    for (int i = 0; i < NOPS; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "(func (export \"%s\") (param v128 v128) (result v128)\n"
                                "  (%s (local.get 0)%s))\n",
                                ops[i].name, ops[i].name, ops[i].arity == 2 ? " (local.get 1)" : "");
    ck_assert_uint_lt(len, cap);
    snprintf(t + len, cap - len, ")\n");
    return t;
}

static wj_engine *engine;
static wj_store *store;
static wj_module *module;
static wj_instance *instance;

static void setup(void)
{
    char *text = module_text();
    size_t len;
    uint8_t *bytes = wat_to_wasm(text, &len);
    free(text);
    engine = wj_engine_new(NULL);
    ck_assert_ptr_nonnull(engine);
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    free(bytes);
    ck_assert_msg(err == NULL, "module not compiled: %s", err ? wj_error_message(err) : "");
    store = wj_store_new(engine);
    ck_assert_ptr_nonnull(store);
    wj_trap *trap = NULL;
    err = wj_instance_new(store, module, NULL, 0, &instance, &trap);
    ck_assert_msg(err == NULL && trap == NULL, "not instantiated");
}

static void teardown(void)
{
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
}

/* ==== the checks ====================================================================== */

/* A v128 as its two little-endian 64-bit halves, low first. */
typedef struct vec {
    uint64_t half[2];
} vec;

static uint64_t lane_get(const vec *v, int bits, int i)
{
    if (bits == 64)
        return v->half[i];
    return (v->half[i / 2] >> (32 * (i % 2))) & UINT32_MAX;
}

static void lane_set(vec *v, int bits, int i, uint64_t x)
{
    if (bits == 64) {
        v->half[i] = x;
        return;
    }
    int s = 32 * (i % 2);
    v->half[i / 2] = (v->half[i / 2] & ~(UINT64_C(0xffffffff) << s)) | (x & UINT32_MAX) << s;
}

static vec call_op(wj_func *f, vec a, vec b)
{
    wj_val args[2] = {{.kind = WJ_V128}, {.kind = WJ_V128}}, res;
    memcpy(args[0].of.v128, a.half, 16);
    memcpy(args[1].of.v128, b.half, 16);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f, args, 2, &res, 1, &trap);
    ck_assert_msg(err == NULL && trap == NULL, "call failed");
    vec got;
    memcpy(got.half, res.of.v128, 16);
    return got;
}

/* Whether `got` is an allowed result lane where the reference gives `want`. */
static bool lane_ok(const simd_op *op, uint64_t got, uint64_t want, uint64_t a, uint64_t b)
{
    if (op->check == EXACT || !is_nan(want, op->out_bits))
        return got == want;
    if (!is_nan(got, op->out_bits))
        return false;
    bool all_canonical = number_or_canonical(a, op->in_bits) &&
                         (op->arity == 1 || number_or_canonical(b, op->in_bits));
    return all_canonical ? is_canonical(got, op->out_bits) : is_arithmetic(got, op->out_bits);
}

/* Runs op on a and b and checks every result lane. */
static void check_op(const simd_op *op, wj_func *f, vec a, vec b)
{
    vec got = call_op(f, a, b);
    int wide = op->in_bits > op->out_bits ? op->in_bits : op->out_bits;
    int computed = 128 / wide, lanes = 128 / op->out_bits;
    for (int i = 0; i < lanes; i++) {
        /* lanes past the computed ones have no inputs: they must be 0 */
        uint64_t x = i < computed ? lane_get(&a, op->in_bits, i) : 0;
        uint64_t y = i < computed ? lane_get(&b, op->in_bits, i) : 0;
        uint64_t want = i < computed ? op->ref(x, y) & lane_mask(op->out_bits) : 0;
        uint64_t g = lane_get(&got, op->out_bits, i);
        ck_assert_msg(i < computed ? lane_ok(op, g, want, x, y) : g == 0,
                      "%s lane %d of (0x%016" PRIx64 "%016" PRIx64 ", 0x%016" PRIx64 "%016" PRIx64
                      "): got 0x%" PRIx64 ", want 0x%" PRIx64,
                      op->name, i, a.half[1], a.half[0], b.half[1], b.half[0], g, want);
    }
}

static wj_func *op_func(const simd_op *op)
{
    wj_extern ext;
    ck_assert(wj_instance_export(instance, op->name, strlen(op->name), &ext) &&
              ext.kind == WJ_EXTERN_FUNC);
    return ext.of.func;
}

/* Every pair of edge values, in every lane position. */
START_TEST(edge_pairs)
{
    const simd_op *op = &ops[_i];
    wj_func *f = op_func(op);
    int bits = op->in_bits, lanes = 128 / bits;
    size_t n = bits == 64 ? sizeof edges64 / 8 : sizeof edges32 / 4;
    size_t pairs = op->arity == 2 ? n * n : n;
    for (size_t p = 0; p < pairs; p++) { /* lane l holds pair p + l */
        vec a = {{0, 0}}, b = {{0, 0}};
        for (int l = 0; l < lanes; l++) {
            size_t k = (p + (size_t)l) % pairs;
            size_t i = op->arity == 2 ? k / n : k, j = op->arity == 2 ? k % n : 0;
            lane_set(&a, bits, l, bits == 64 ? edges64[i] : edges32[i]);
            lane_set(&b, bits, l, bits == 64 ? edges64[j] : edges32[j]);
        }
        check_op(op, f, a, b);
    }
}
END_TEST

START_TEST(random_lanes)
{
    const simd_op *op = &ops[_i];
    wj_func *f = op_func(op);
    int bits = op->in_bits, lanes = 128 / bits;
    rng_state = UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)_i;
    for (int k = 0; k < 2000; k++) {
        vec a = {{0, 0}}, b = {{0, 0}};
        for (int l = 0; l < lanes; l++) {
            lane_set(&a, bits, l, random_lane(bits));
            lane_set(&b, bits, l, random_lane(bits));
        }
        check_op(op, f, a, b);
    }
}
END_TEST

static Suite *simd_float_suite(void)
{
    Suite *s = suite_create("simd float");
    TCase *tc = tcase_create("lanes");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, edge_pairs, 0, NOPS);
    tcase_add_loop_test(tc, random_lanes, 0, NOPS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(simd_float_suite());
}
