/* Operands from memory in the compiler (src/compiler/fold.c, vpool.c):
 *
 *   1. loads folded into the operator that consumes them (`mulsd x, [m]`,
 *      `add r, [m]`, `cmp r, [m]` fused with a branch): every foldable
 *      operator of every type, against a C reference and against the same
 *      operator on a value first stored to a local (never folded), with
 *      the left operand a pinned local (which must keep its value), an
 *      unpinned one, a constant, a computed value and a spilled one, and
 *      x = x op load updating a pinned x in place; in
 *      static and dynamic (explicitly checked) memories and memory64;
 *   2. float constants read from the function's constant pool: every
 *      float operator with a constant on either side, the sign masks on
 *      NaN payloads and zeros, and pools of hundreds of distinct and
 *      repeated constants.
 *
 * The suite runs under both tiers (the semantics are every tier's). Out-of-
 * bounds folded loads (trap code and wasm offset) are in test-traps, their
 * fuel in test-interrupt. Modules are written in the text format and
 * converted by wabt's wat2wasm (wat.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"
#include "wat.h"

/* ==== helpers ========================================================================== */

static wj_val v_f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }
static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }

static uint64_t val_bits(wj_val v)
{
    uint64_t b = 0;
    switch (v.kind) {
    case WJ_I32: return (uint32_t)v.of.i32;
    case WJ_I64: return (uint64_t)v.of.i64;
    case WJ_F32: memcpy(&b, &v.of.f32, 4); return b;
    default: memcpy(&b, &v.of.f64, 8); return b;
    }
}

static bool val_is_nan(wj_val v)
{
    return (v.kind == WJ_F32 && v.of.f32 != v.of.f32) || (v.kind == WJ_F64 && v.of.f64 != v.of.f64);
}

static float f32_of(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

static double f64_of(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

/* A module text built piece by piece; the caller frees it. */
typedef struct text {
    char *p;
    size_t len;
    FILE *f;
} text;

static void text_open(text *t)
{
    t->f = open_memstream(&t->p, &t->len);
    ck_assert_ptr_nonnull(t->f);
}

static char *text_close(text *t)
{
    fclose(t->f);
    return t->p;
}

/* Calls `name` (one result). */
static wj_val call1(const fixture *fx, const char *name, const wj_val *args, size_t n)
{
    wj_val res[4] = {{0}};
    wj_trap *trap = fx_call(fx, name, args, n, res);
    ck_assert_msg(trap == NULL, "%s: unexpected trap \"%s\"", name,
                  trap ? wj_trap_message(trap) : "");
    return res[0];
}

/* ==== 1. folded loads ================================================================== */

typedef struct numtype {
    const char *name;
    wj_valtype kind;
    bool is_float;
} numtype;

static const numtype types[] = {
    {"i32", WJ_I32, false}, {"i64", WJ_I64, false}, {"f32", WJ_F32, true}, {"f64", WJ_F64, true}};

/* The binary operators; the C reference of each works on the values'
 * bits as int64 (integers, sign-extended for i32) or as doubles. */
static const char *const int_ops[] = {"add",  "sub",  "mul",  "and",  "or",   "xor",
                                      "eq",   "ne",   "lt_s", "lt_u", "gt_s", "gt_u",
                                      "le_s", "le_u", "ge_s", "ge_u"};
static const char *const float_ops[] = {"add", "sub", "mul", "div", "eq", "ne",
                                        "lt",  "gt",  "le",  "ge",  "min", "max"};

static bool is_compare(const char *op)
{
    static const char *const cmps[] = {"eq", "ne", "lt", "gt", "le", "ge"};
    for (size_t i = 0; i < 6; i++)
        if (strncmp(op, cmps[i], 2) == 0)
            return true;
    return false;
}

static uint64_t int_ref(const char *op, bool is64, uint64_t a, uint64_t b)
{
    if (!is64) {
        a = (uint32_t)a;
        b = (uint32_t)b;
    }
    int64_t sa = is64 ? (int64_t)a : (int32_t)a, sb = is64 ? (int64_t)b : (int32_t)b;
    uint64_t r;
    if (!strcmp(op, "add")) r = a + b;
    else if (!strcmp(op, "sub")) r = a - b;
    else if (!strcmp(op, "mul")) r = a * b;
    else if (!strcmp(op, "and")) r = a & b;
    else if (!strcmp(op, "or")) r = a | b;
    else if (!strcmp(op, "xor")) r = a ^ b;
    else if (!strcmp(op, "eq")) r = a == b;
    else if (!strcmp(op, "ne")) r = a != b;
    else if (!strcmp(op, "lt_s")) r = sa < sb;
    else if (!strcmp(op, "lt_u")) r = a < b;
    else if (!strcmp(op, "gt_s")) r = sa > sb;
    else if (!strcmp(op, "gt_u")) r = a > b;
    else if (!strcmp(op, "le_s")) r = sa <= sb;
    else if (!strcmp(op, "le_u")) r = a <= b;
    else if (!strcmp(op, "ge_s")) r = sa >= sb;
    else r = a >= b;
    return is64 || is_compare(op) ? r : (uint32_t)r;
}

/* The reference of a float operator (NaN results are checked apart). */
static double float_ref(const char *op, double a, double b, bool dbl)
{
    double r;
    if (!strcmp(op, "add")) r = dbl ? a + b : (float)((float)a + (float)b);
    else if (!strcmp(op, "sub")) r = dbl ? a - b : (float)((float)a - (float)b);
    else if (!strcmp(op, "mul")) r = dbl ? a * b : (float)((float)a * (float)b);
    else if (!strcmp(op, "div")) r = dbl ? a / b : (float)((float)a / (float)b);
    else if (!strcmp(op, "eq")) r = a == b;
    else if (!strcmp(op, "ne")) r = a != b;
    else if (!strcmp(op, "lt")) r = a < b;
    else if (!strcmp(op, "gt")) r = a > b;
    else if (!strcmp(op, "le")) r = a <= b;
    else if (!strcmp(op, "ge")) r = a >= b;
    else if (a != a || b != b)
        r = NAN;
    else if (a == 0 && b == 0) /* min max of zeros: -0 is the smaller */
        r = !strcmp(op, "min") ? (signbit(a) ? a : b) : (signbit(a) ? b : a);
    else
        r = !strcmp(op, "min") ? (a < b ? a : b) : (a > b ? a : b);
    return r;
}

/* The left operand of each folded operator, by variant. */
enum { L_PINNED, L_UNPINNED, L_CONST, L_COMPUTED, L_SPILLED, L_VARIANTS };
static const char *const variant_names[] = {"pinned", "unpinned", "const", "computed",
                                            "spilled"};
#define LEFT_CONST 7 /* L_CONST's left operand */

/* The module of type `t` (T) with address type `at` (i32, or i64 for
 * memory64): "set" stores at an address; for each operator OP and variant
 * V, "OP_V" (a T, address p) returns a T (OP) T.load offset=8 (p), folded,
 * and "OP_ref" the same computed from a local (not folded). Pinned: $a's
 * register must keep its value, so its result adds $a again (integer
 * add/sub/xor, comparisons) or returns it in second place. Unpinned: eight
 * locals hotter than $a take the registers. */
static char *fold_module(const numtype *t, const char *at)
{
    const char *T = t->name;
    const char *const *ops = t->is_float ? float_ops : int_ops;
    size_t nops = t->is_float ? sizeof float_ops / sizeof *float_ops
                              : sizeof int_ops / sizeof *int_ops;
    text m;
    text_open(&m);
    FILE *o = m.f;
    fprintf(o, "(module\n (memory %s 1)\n", at);
    fprintf(o, " (func (export \"set\") (param $p %s) (param $v %s)\n"
               "  (%s.store offset=8 (local.get $p) (local.get $v)))\n", at, T, T);
    fprintf(o, " (func $id (param $p %s) (result %s) (local.get $p))\n", at, at);
    for (size_t k = 0; k < nops; k++) {
        const char *op = ops[k];
        const char *R = is_compare(op) ? "i32" : T;
        const char *load = "(%s.load offset=8 (local.get $p))";
        char ld[64];
        snprintf(ld, sizeof ld, load, T);
        fprintf(o, " (func (export \"%s_ref\") (param $a %s) (param $p %s) (result %s)\n"
                   "  (local $t %s) (local.set $t %s)\n"
                   "  (%s.%s (local.get $a) (local.get $t)))\n",
                op, T, at, R, T, ld, T, op);
        /* pinned: the pair (a op m, a) */
        fprintf(o, " (func (export \"%s_pinned\") (param $a %s) (param $p %s) (result %s %s)\n"
                   "  (%s.%s (local.get $a) %s) (local.get $a))\n",
                op, T, at, R, T, T, op, ld);
        fprintf(o, " (func (export \"%s_unpinned\") (param $a %s) (param $p %s) (result %s)\n"
                   "  (local $x0 %s) (local $x1 %s) (local $x2 %s) (local $x3 %s)\n"
                   "  (local $x4 %s) (local $x5 %s) (local $x6 %s) (local $x7 %s) (local $i i32)\n"
                   "  (loop $l\n",
                op, T, at, R, T, T, T, T, T, T, T, T);
        for (int x = 0; x < 8; x++)
            fprintf(o, "   (local.set $x%d (%s.add (local.get $x%d) (local.get $x%d)))\n", x, T,
                    x, (x + 1) % 8);
        fprintf(o, "   (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))"
                   " (i32.const 3))))\n"
                   "  (%s.%s (local.get $a) %s))\n",
                T, op, ld);
        fprintf(o, " (func (export \"%s_const\") (param $a %s) (param $p %s) (result %s)\n"
                   "  (%s.%s (%s.const %d) %s))\n",
                op, T, at, R, T, op, T, LEFT_CONST, ld);
        /* computed: a + a, exact in every type for the values used */
        fprintf(o, " (func (export \"%s_computed\") (param $a %s) (param $p %s) (result %s)\n"
                   "  (%s.%s (%s.add (local.get $a) (local.get $a)) %s))\n",
                op, T, at, R, T, op, T, ld);
        /* spilled: the call in the address spills the pending left operand */
        fprintf(o, " (func (export \"%s_spilled\") (param $a %s) (param $p %s) (result %s)\n"
                   "  (%s.%s (local.get $a) (%s.load offset=8 (call $id (local.get $p)))))\n",
                op, T, at, R, T, op, T);
        /* x = x op load, in place when x is pinned; an older read of x
         * keeps the old value: the pair (old a, a op m) */
        if (!is_compare(op))
            fprintf(o, " (func (export \"%s_inplace\") (param $a %s) (param $p %s) (result %s %s)\n"
                       "  (local.get $a) (local.set $a (%s.%s (local.get $a) %s)) (local.get $a))\n",
                    op, T, at, T, T, T, op, ld);
        /* a comparison fused with a branch */
        if (is_compare(op))
            fprintf(o, " (func (export \"%s_branch\") (param $a %s) (param $p %s) (result i32)\n"
                       "  (block $b (br_if $b (%s.%s (local.get $a) %s)) (return (i32.const 10)))\n"
                       "  (i32.const 20))\n",
                    op, T, at, T, op, ld);
    }
    fprintf(o, ")\n");
    return text_close(&m);
}

static wj_val typed_bits(const numtype *t, uint64_t bits)
{
    switch (t->kind) {
    case WJ_I32: return v_i32((int32_t)(uint32_t)bits);
    case WJ_I64: return v_i64((int64_t)bits);
    case WJ_F32: return v_f32(f32_of((uint32_t)bits));
    default: return v_f64(f64_of(bits));
    }
}

static double as_double(const numtype *t, uint64_t bits)
{
    return t->kind == WJ_F32 ? (double)f32_of((uint32_t)bits) : f64_of(bits);
}

static uint64_t double_bits(const numtype *t, double v)
{
    return val_bits(t->kind == WJ_F32 ? v_f32((float)v) : v_f64(v));
}

/* Test values, as bits of each type. */
static const uint64_t int_vals[] = {0, 1, 7, 0xffffffffffffffff, 0xfffffffffffffff9,
                                    0x80000000, 0x7fffffff, 0x8000000000000000, 0x123456789};
static const uint64_t f32_vals[] = {0x00000000, 0x80000000, 0x3fc00000 /* 1.5 */,
                                    0xc0100000 /* -2.25 */, 0x40e00000 /* 7 */, 0x7f800000,
                                    0xff800000, 0x7fc00001 /* NaN with a payload */,
                                    0x00000001 /* the smallest subnormal */};
static const uint64_t f64_vals[] = {0, 0x8000000000000000, 0x3ff8000000000000 /* 1.5 */,
                                    0xc002000000000000 /* -2.25 */, 0x401c000000000000 /* 7 */,
                                    0x7ff0000000000000, 0xfff0000000000000,
                                    0x7ff8000000000001 /* NaN with a payload */,
                                    0x7fefffffffffffff /* the largest */};

static void vals_of(const numtype *t, const uint64_t **vals, size_t *n)
{
    if (!t->is_float) {
        *vals = int_vals, *n = sizeof int_vals / sizeof *int_vals;
    } else if (t->kind == WJ_F32) {
        *vals = f32_vals, *n = sizeof f32_vals / sizeof *f32_vals;
    } else {
        *vals = f64_vals, *n = sizeof f64_vals / sizeof *f64_vals;
    }
}

/* The expected bits of `a op m` (want_nan: any NaN, which must also be
 * the unfolded operator's bits). */
static uint64_t expected(const numtype *t, const char *op, uint64_t a, uint64_t m, bool *want_nan)
{
    *want_nan = false;
    if (!t->is_float)
        return int_ref(op, t->kind == WJ_I64, a, m);
    double r = float_ref(op, as_double(t, a), as_double(t, m), t->kind == WJ_F64);
    if (is_compare(op))
        return (uint64_t)r;
    *want_nan = r != r;
    return double_bits(t, r);
}

static void check_result(const numtype *t, const char *fn, uint64_t a, uint64_t m, wj_val got,
                         wj_val ref, uint64_t want, bool want_nan)
{
    uint64_t g = val_bits(got);
    /* Tier 1 folds into the very instruction it would run on a register,
     * so even the NaN's payload stays; other tiers may return any NaN the
     * spec allows. */
    if (want_nan)
        ck_assert_msg(val_is_nan(got) &&
                          (fx_tier.strategy != WJ_STRATEGY_BASELINE || g == val_bits(ref)),
                      "%s %s(0x%llx, [0x%llx]): 0x%llx, want the unfolded NaN 0x%llx", t->name,
                      fn, (unsigned long long)a, (unsigned long long)m, (unsigned long long)g,
                      (unsigned long long)val_bits(ref));
    else
        ck_assert_msg(g == want, "%s %s(0x%llx, [0x%llx]): 0x%llx, want 0x%llx", t->name, fn,
                      (unsigned long long)a, (unsigned long long)m, (unsigned long long)g,
                      (unsigned long long)want);
}

/* Runs every operator and variant of type `t` over all pairs of values. */
static void run_folds(const numtype *t, wj_config *config, bool mem64)
{
    const char *const *ops = t->is_float ? float_ops : int_ops;
    size_t nops = t->is_float ? sizeof float_ops / sizeof *float_ops
                              : sizeof int_ops / sizeof *int_ops;
    char *wat = fold_module(t, mem64 ? "i64" : "i32");
    fixture fx;
    static const char *const opts[] = {"--enable-memory64", NULL};
    fx_prepare_opts(&fx, wat, opts, config);
    fx_instantiate(&fx, NULL, 0);
    free(wat);
    /* an address near the end of the page, not aligned */
    uint64_t p = 65536 - 8 - 8 - 3;
    wj_val addr = mem64 ? v_i64((int64_t)p) : v_i32((int32_t)p);
    const uint64_t *vals;
    size_t nvals;
    vals_of(t, &vals, &nvals);
    uint64_t cbits = t->is_float ? double_bits(t, LEFT_CONST) : LEFT_CONST;
    for (size_t k = 0; k < nops; k++) {
        const char *op = ops[k];
        bool cmp = is_compare(op);
        wj_valtype rkind = cmp ? WJ_I32 : t->kind;
        for (size_t i = 0; i < nvals; i++) {
            for (size_t j = 0; j < nvals; j++) {
                uint64_t a = vals[i], m = vals[j];
                if (t->kind == WJ_I32)
                    a = (uint32_t)a, m = (uint32_t)m;
                wj_val args[2] = {typed_bits(t, a), addr};
                wj_val set[2] = {addr, typed_bits(t, m)};
                wj_trap *trap = fx_call(&fx, "set", set, 2, NULL);
                ck_assert_no_trap(trap);
                char name[32];
                snprintf(name, sizeof name, "%s_ref", op);
                wj_val ref = call1(&fx, name, args, 2);
                ck_assert_int_eq(ref.kind, rkind);
                bool nan;
                uint64_t want = expected(t, op, a, m, &nan);
                check_result(t, name, a, m, ref, ref, want, nan);
                for (int v = 0; v < L_VARIANTS; v++) {
                    snprintf(name, sizeof name, "%s_%s", op, variant_names[v]);
                    wj_val res[4] = {{0}};
                    trap = fx_call(&fx, name, args, 2, res);
                    ck_assert_msg(trap == NULL, "%s: trap %s", name, wj_trap_message(trap));
                    uint64_t left = v == L_CONST ? cbits : a;
                    wj_val lref = ref;
                    if (v == L_COMPUTED) {
                        bool unused;
                        left = t->is_float ? expected(t, "add", a, a, &unused)
                                           : int_ref("add", t->kind == WJ_I64, a, a);
                    }
                    uint64_t w = expected(t, op, left, m, &nan);
                    if (nan && left != a) /* the unfolded NaN is of a, not left */
                        ck_assert_msg(val_is_nan(res[0]), "%s %s: not a NaN", t->name, name);
                    else
                        check_result(t, name, left, m, res[0], lref, w, nan);
                    if (v == L_PINNED)
                        ck_assert_msg(val_bits(res[1]) == a, "%s %s: $a became 0x%llx, was 0x%llx",
                                      t->name, name, (unsigned long long)val_bits(res[1]),
                                      (unsigned long long)a);
                }
                if (!cmp) {
                    snprintf(name, sizeof name, "%s_inplace", op);
                    wj_val res[4] = {{0}};
                    trap = fx_call(&fx, name, args, 2, res);
                    ck_assert_msg(trap == NULL, "%s: trap %s", name, wj_trap_message(trap));
                    ck_assert_msg(val_bits(res[0]) == a, "%s %s: the older read is 0x%llx, not 0x%llx",
                                  t->name, name, (unsigned long long)val_bits(res[0]),
                                  (unsigned long long)a);
                    check_result(t, name, a, m, res[1], ref, want, nan);
                }
                if (cmp) {
                    snprintf(name, sizeof name, "%s_branch", op);
                    wj_val r = call1(&fx, name, args, 2);
                    ck_assert_msg(r.of.i32 == (want ? 20 : 10), "%s %s(0x%llx, [0x%llx]): %d",
                                  t->name, name, (unsigned long long)a, (unsigned long long)m,
                                  r.of.i32);
                }
            }
        }
    }
    fx_close(&fx);
}

/* _i: the type */
START_TEST(fold_static)
{
    run_folds(&types[_i], NULL, false);
}
END_TEST

START_TEST(fold_dynamic)
{
    wj_config *c = wj_config_new();
    wj_config_set_dynamic_memories(c, true);
    run_folds(&types[_i], c, false);
    wj_config_delete(c);
}
END_TEST

START_TEST(fold_memory64)
{
    wj_config *c = wj_config_new();
    wj_config_set_feature(c, WJ_FEATURE_MEMORY64, true);
    run_folds(&types[_i], c, true);
    wj_config_delete(c);
}
END_TEST

/* ==== 2. float constants =============================================================== */

/* f32 and f64 operators with a constant on each side ("OP_cl": c OP x,
 * "OP_cr": x OP c) for a few constants, and the unary sign operators. */
static const char *const const_binops[] = {"add", "sub", "mul", "div", "eq", "ne", "lt",
                                           "gt",  "le",  "ge",  "min", "max", "copysign"};

static double copysign_ref(double a, double b)
{
    return copysign(a, b);
}

START_TEST(const_operands)
{
    /* _i: 0 f32, 1 f64 */
    const numtype *t = &types[2 + _i];
    bool dbl = t->kind == WJ_F64;
    const char *T = t->name;
    /* the constants: a zero (xorps), -0 (a pool entry, not xorps), NaN
     * with a payload, an infinity, a plain value */
    static const uint64_t c32[] = {0, 0x80000000, 0x7fc00005, 0xff800000, 0xc0100000};
    static const uint64_t c64[] = {0, 0x8000000000000000, 0x7ff8000000000005,
                                   0xfff0000000000000, 0xc002000000000000};
    const uint64_t *cs = dbl ? c64 : c32;
    size_t ncs = 5;
    text m;
    text_open(&m);
    fprintf(m.f, "(module\n");
    for (size_t c = 0; c < ncs; c++) {
        for (size_t k = 0; k < sizeof const_binops / sizeof *const_binops; k++) {
            const char *op = const_binops[k];
            const char *R = is_compare(op) ? "i32" : T;
            char cst[64];
            /* constants by their bits: reinterpret of an integer constant
             * is folded to the float constant itself */
            snprintf(cst, sizeof cst, "(%s.reinterpret_%s (%s.const 0x%llx))", T,
                     dbl ? "i64" : "i32", dbl ? "i64" : "i32", (unsigned long long)cs[c]);
            fprintf(m.f, " (func (export \"%s_cl%zu\") (param $x %s) (result %s)\n"
                         "  (%s.%s %s (local.get $x)))\n",
                    op, c, T, R, T, op, cst);
            fprintf(m.f, " (func (export \"%s_cr%zu\") (param $x %s) (result %s)\n"
                         "  (%s.%s (local.get $x) %s))\n",
                    op, c, T, R, T, op, cst);
        }
        char cst[64];
        snprintf(cst, sizeof cst, "(%s.reinterpret_%s (%s.const 0x%llx))", T, dbl ? "i64" : "i32",
                 dbl ? "i64" : "i32", (unsigned long long)cs[c]);
        /* the constant itself, loaded into a register (a result) and
         * stored to memory (a global) */
        fprintf(m.f, " (func (export \"get%zu\") (result %s) %s)\n", c, T, cst);
    }
    for (int k = 0; k < 3; k++) {
        static const char *const un[] = {"abs", "neg", "sqrt"};
        fprintf(m.f, " (func (export \"%s\") (param $x %s) (result %s) (%s.%s (local.get $x)))\n",
                un[k], T, T, T, un[k]);
    }
    fprintf(m.f, ")\n");
    char *wat = text_close(&m);
    fixture fx;
    fx_open(&fx, wat, NULL);
    free(wat);
    const uint64_t *xs;
    size_t nxs;
    vals_of(t, &xs, &nxs);
    for (size_t c = 0; c < ncs; c++) {
        char name[32];
        snprintf(name, sizeof name, "get%zu", c);
        ck_assert_uint_eq(val_bits(call1(&fx, name, NULL, 0)), cs[c]);
        double cv = as_double(t, cs[c]);
        for (size_t i = 0; i < nxs; i++) {
            double x = as_double(t, xs[i]);
            wj_val arg = typed_bits(t, xs[i]);
            for (size_t k = 0; k < sizeof const_binops / sizeof *const_binops; k++) {
                const char *op = const_binops[k];
                for (int side = 0; side < 2; side++) {
                    double a = side ? x : cv, b = side ? cv : x;
                    snprintf(name, sizeof name, "%s_c%c%zu", op, side ? 'r' : 'l', c);
                    wj_val got = call1(&fx, name, &arg, 1);
                    double r = !strcmp(op, "copysign") ? copysign_ref(a, b)
                                                       : float_ref(op, a, b, dbl);
                    if (is_compare(op)) {
                        ck_assert_msg(got.of.i32 == (int)r, "%s %s(0x%llx): %d, want %d", T, name,
                                      (unsigned long long)xs[i], got.of.i32, (int)r);
                    } else if (!strcmp(op, "copysign")) {
                        /* bitwise: the payload of a NaN stays */
                        uint64_t ab = side ? xs[i] : cs[c], bb = side ? cs[c] : xs[i];
                        uint64_t sign = dbl ? 0x8000000000000000 : 0x80000000;
                        uint64_t want = (ab & ~sign) | (bb & sign);
                        ck_assert_msg(val_bits(got) == want, "%s %s(0x%llx): 0x%llx, want 0x%llx",
                                      T, name, (unsigned long long)xs[i],
                                      (unsigned long long)val_bits(got),
                                      (unsigned long long)want);
                    } else if (r != r) {
                        ck_assert_msg(val_is_nan(got), "%s %s(0x%llx): not a NaN", T, name,
                                      (unsigned long long)xs[i]);
                    } else {
                        ck_assert_msg(val_bits(got) == double_bits(t, r),
                                      "%s %s(0x%llx): 0x%llx, want 0x%llx", T, name,
                                      (unsigned long long)xs[i],
                                      (unsigned long long)val_bits(got),
                                      (unsigned long long)double_bits(t, r));
                    }
                }
            }
        }
    }
    /* abs and neg change the sign bit alone, NaN payloads included */
    uint64_t sign = dbl ? 0x8000000000000000 : 0x80000000;
    for (size_t i = 0; i < nxs; i++) {
        wj_val arg = typed_bits(t, xs[i]);
        ck_assert_uint_eq(val_bits(call1(&fx, "abs", &arg, 1)), xs[i] & ~sign);
        ck_assert_uint_eq(val_bits(call1(&fx, "neg", &arg, 1)), xs[i] ^ sign);
    }
    fx_close(&fx);
}
END_TEST

/* A pool of hundreds of constants, most distinct and some repeated: f64
 * constants whose low 32 bits are all zero (a pool keyed on fewer bytes
 * would merge them), f32 ones, and v128 ones whose low half equals a
 * scalar's bits (a scalar must not take the v128's upper half for zeros,
 * nor the v128 the scalar's). The sum is checked against C, term by term
 * in the same order. */
#define POOL_DISTINCT 300

static double pool_f64(int i) { return (double)(i + 1) * 0.5 + 1024.0 * (i % 7); }
static float pool_f32(int i) { return (float)(i + 3) * 0.25f; }

START_TEST(const_pool)
{
    text m;
    text_open(&m);
    FILE *o = m.f;
    fprintf(o, "(module\n (func (export \"sum\") (param $x f64) (result f64)\n"
               "  (local $s f64) (local $t f32)\n");
    double s = 0, x = 2.0;
    float tf = 0;
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < POOL_DISTINCT; i++) {
            /* s = s + c_i * x, and every tenth an f32 term */
            fprintf(o, "  (local.set $s (f64.add (local.get $s) (f64.mul (f64.const %a) "
                       "(local.get $x))))\n", pool_f64(i));
            s = s + pool_f64(i) * x;
            if (i % 10 == 0) {
                fprintf(o, "  (local.set $t (f32.sub (local.get $t) (f32.const %a)))\n",
                        (double)pool_f32(i));
                tf = tf - pool_f32(i);
            }
        }
    }
    fprintf(o, "  (f64.add (local.get $s) (f64.promote_f32 (local.get $t))))\n");
    /* v128 constants sharing the pool with scalars: 1.5 enters first */
    fprintf(o, " (func (export \"mix\") (param $x f64) (result f64)\n"
               "  (f64.add (f64.mul (local.get $x) (f64.const 1.5))\n"
               "    (f64x2.extract_lane 1 (v128.const i64x2 0x3ff8000000000000 0x4000000000000000))))\n"
               " (func (export \"mix2\") (result f64)\n"
               "  (f64.add (f64x2.extract_lane 1 (v128.const i64x2 0x3ff8000000000000 0))\n"
               "    (f64.const 1.5)))\n"
               ")\n");
    s = s + (double)tf;
    char *wat = text_close(&m);
    fixture fx;
    wj_config *c = wj_config_new();
    wj_config_set_feature(c, WJ_FEATURE_SIMD, true);
    fx_open(&fx, wat, c);
    wj_config_delete(c);
    free(wat);
    wj_val arg = v_f64(x);
    wj_val got = call1(&fx, "sum", &arg, 1);
    ck_assert_msg(got.of.f64 == s, "sum: %a, want %a", got.of.f64, s);
    /* 2 * 1.5 + 2; 0 + 1.5 */
    ck_assert_msg(call1(&fx, "mix", &arg, 1).of.f64 == 5.0, "mix");
    ck_assert_msg(call1(&fx, "mix2", NULL, 0).of.f64 == 1.5, "mix2");
    fx_close(&fx);
}
END_TEST

/* ==== the suite ======================================================================== */

static Suite *fold_suite(void)
{
    Suite *s = suite_create("fold");
    TCase *loads = tcase_create("folded loads");
    tcase_set_timeout(loads, 60);
    tcase_add_loop_test(loads, fold_static, 0, 4);
    tcase_add_loop_test(loads, fold_dynamic, 0, 4);
    tcase_add_loop_test(loads, fold_memory64, 0, 4);
    suite_add_tcase(s, loads);
    TCase *consts = tcase_create("float constants");
    tcase_set_timeout(consts, 60);
    tcase_add_loop_test(consts, const_operands, 0, 2);
    tcase_add_test(consts, const_pool);
    suite_add_tcase(s, consts);
    return s;
}

int main(void)
{
    return unit_run_tiers(fold_suite, &fx_tier);
}
