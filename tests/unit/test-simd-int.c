/* The integer SIMD instructions whose lowering takes an xmm register beyond
 * its operands and xmm15 (src/compiler/vops_int.c, vops_shift.c), compiled
 * with every xmm register busy: ten v128 locals (as many as src/compiler/
 * pin.c pins) and thirteen vectors live on the operand stack under the
 * operands, so that the extra register comes from spilling one of them. Every live vector is
 * folded into the i64 result, which a C reference computes lane by lane.
 *
 * Test modules are written in the text format and converted at test time by
 * wabt's wat2wasm (wat.h). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"

enum { STACKED = 13, PINNED = 10 };

typedef union vec {
    uint8_t b[16];
    int8_t sb[16];
    uint64_t q[2];
    int64_t sq[2];
} vec;

static void ref_gt_s(vec *a, const vec *b, int n)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        a->q[i] = a->sq[i] > b->sq[i] ? UINT64_MAX : 0;
}

static void ref_lt_s(vec *a, const vec *b, int n)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        a->q[i] = a->sq[i] < b->sq[i] ? UINT64_MAX : 0;
}

static void ref_le_s(vec *a, const vec *b, int n)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        a->q[i] = a->sq[i] <= b->sq[i] ? UINT64_MAX : 0;
}

static void ref_ge_s(vec *a, const vec *b, int n)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        a->q[i] = a->sq[i] >= b->sq[i] ? UINT64_MAX : 0;
}

static void ref_mul(vec *a, const vec *b, int n)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        a->q[i] *= b->q[i];
}

static void ref_popcnt(vec *a, const vec *b, int n)
{
    (void)b, (void)n;
    for (int i = 0; i < 16; i++)
        a->b[i] = (uint8_t)__builtin_popcount(a->b[i]);
}

static void ref_shl8(vec *a, const vec *b, int n)
{
    (void)b;
    for (int i = 0; i < 16; i++)
        a->b[i] = (uint8_t)(a->b[i] << (n & 7));
}

static void ref_shr_s8(vec *a, const vec *b, int n)
{
    (void)b;
    for (int i = 0; i < 16; i++)
        a->sb[i] = (int8_t)(a->sb[i] >> (n & 7));
}

static void ref_shr_u8(vec *a, const vec *b, int n)
{
    (void)b;
    for (int i = 0; i < 16; i++)
        a->b[i] = (uint8_t)(a->b[i] >> (n & 7));
}

static void ref_shr_s64(vec *a, const vec *b, int n)
{
    (void)b;
    for (int i = 0; i < 2; i++)
        a->sq[i] >>= n & 63;
}

/* operands: 2 vectors, 1 vector, or a vector and the i32 count $n */
enum { BINARY, UNARY, SHIFT };

static const struct op_case {
    const char *name;
    int operands;
    void (*ref)(vec *a, const vec *b, int n);
} ops[] = {
    {"i64x2.gt_s", BINARY, ref_gt_s},     {"i64x2.lt_s", BINARY, ref_lt_s},
    {"i64x2.le_s", BINARY, ref_le_s},     {"i64x2.ge_s", BINARY, ref_ge_s},
    {"i64x2.mul", BINARY, ref_mul},       {"i8x16.popcnt", UNARY, ref_popcnt},
    {"i8x16.shl", SHIFT, ref_shl8},       {"i8x16.shr_s", SHIFT, ref_shr_s8},
    {"i8x16.shr_u", SHIFT, ref_shr_u8},   {"i64x2.shr_s", SHIFT, ref_shr_s64},
};

/* The vectors the module builds from its parameters x and y. */
static vec pair(uint64_t lo, uint64_t hi) { return (vec){.q = {lo, hi}}; }
static vec stacked(uint64_t x, uint64_t y, int k) { return pair(x + (uint64_t)k, y * (uint64_t)(k + 3)); }
static vec pinned(uint64_t x, uint64_t y, int j) { return pair(x * (uint64_t)(j + 5), y - (uint64_t)j); }

static uint64_t reference(const struct op_case *op, uint64_t x, uint64_t y, int n)
{
    vec r = pair(x, y), b = pair(y, x ^ y);
    op->ref(&r, &b, n);
    for (int k = 0; k < STACKED; k++) {
        vec s = stacked(x, y, k);
        r.q[0] ^= s.q[0], r.q[1] ^= s.q[1];
    }
    for (int j = 0; j < PINNED; j++) {
        vec p = pinned(x, y, j);
        r.q[0] ^= p.q[0], r.q[1] ^= p.q[1];
    }
    return r.q[0] ^ (r.q[1] << 1 | r.q[1] >> 63);
}

#define APPEND(...) (len += (size_t)snprintf(wat + len, sizeof wat - len, __VA_ARGS__))

static const char *module_for(const struct op_case *op)
{
    static char wat[8192];
    size_t len = 0;
    APPEND("(module (func (export \"run\") (param $x i64) (param $y i64) (param $n i32)"
           " (result i64) (local $r v128)");
    for (int j = 0; j < PINNED; j++)
        APPEND(" (local $p%d v128)", j);
    for (int j = 0; j < PINNED; j++)
        APPEND("\n (local.set $p%d (i64x2.replace_lane 1 (i64x2.splat (i64.mul (local.get $x)"
               " (i64.const %d))) (i64.sub (local.get $y) (i64.const %d))))", j, j + 5, j);
    for (int k = 0; k < STACKED; k++)
        APPEND("\n (i64x2.replace_lane 1 (i64x2.splat (i64.add (local.get $x) (i64.const %d)))"
               " (i64.mul (local.get $y) (i64.const %d)))", k, k + 3);
    APPEND("\n (%s (i64x2.replace_lane 1 (i64x2.splat (local.get $x)) (local.get $y))", op->name);
    if (op->operands == BINARY)
        APPEND(" (i64x2.replace_lane 1 (i64x2.splat (local.get $y))"
               " (i64.xor (local.get $x) (local.get $y)))");
    else if (op->operands == SHIFT)
        APPEND(" (local.get $n)");
    APPEND(")");
    for (int k = 0; k < STACKED; k++)
        APPEND(" v128.xor");
    for (int j = 0; j < PINNED; j++)
        APPEND("\n (v128.xor (local.get $p%d))", j);
    APPEND("\n (local.set $r)"
           " (i64.xor (i64x2.extract_lane 0 (local.get $r))"
           " (i64.rotl (i64x2.extract_lane 1 (local.get $r)) (i64.const 1)))))");
    ck_assert_uint_lt(len, sizeof wat);
    return wat;
}

START_TEST(op_with_every_xmm_busy)
{
    static const struct {
        uint64_t x, y;
        int n;
    } inputs[] = {
        {0x8000000000000001, 0x7fffffffffffffff, 9},
        {UINT64_MAX - 4, 3, 7},
        {0x0123456789abcdef, 0xfedcba9876543210, 63},
        {0x00000001ffffffff, 0x00000001ffffffff, -1},
        {0xffffffff00000000, 0x00000000ffffffff, 36},
    };
    const struct op_case *op = &ops[_i];
    fixture fx;
    fx_open(&fx, module_for(op), NULL);
    for (size_t k = 0; k < sizeof inputs / sizeof *inputs; k++) {
        wj_val args[] = {v_i64((int64_t)inputs[k].x), v_i64((int64_t)inputs[k].y),
                         v_i32(inputs[k].n)};
        wj_val res;
        ck_assert_no_trap(fx_call(&fx, "run", args, 3, &res));
        ck_assert_msg((uint64_t)res.of.i64 == reference(op, inputs[k].x, inputs[k].y, inputs[k].n),
                      "%s, input %zu: got %#llx, want %#llx", op->name, k,
                      (unsigned long long)res.of.i64,
                      (unsigned long long)reference(op, inputs[k].x, inputs[k].y, inputs[k].n));
    }
    fx_close(&fx);
}
END_TEST

static Suite *simd_int_suite(void)
{
    Suite *s = suite_create("simd-int");
    TCase *pressure = tcase_create("register pressure");
    tcase_set_timeout(pressure, 30);
    tcase_add_loop_test(pressure, op_with_every_xmm_busy, 0, (int)(sizeof ops / sizeof *ops));
    suite_add_tcase(s, pressure);
    return s;
}

int main(void)
{
    return unit_run_tiers(simd_int_suite, &fx_tier);
}
