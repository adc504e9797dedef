/* Register allocation in the compiler, through the public API (linked against
 * libwasmjail.la): the pinned locals of src/compiler/pin.c (the most used
 * locals of a function stay in rbx r12 r13 rsi rdi r8, r9 r10 too when its
 * loops need them, and xmm5-14 for the whole function, saved around
 * calls), the lazy reads of locals on the
 * operand stack (a local written while an older read of it is still on the
 * stack), and the zeroing of only the locals that may be read unset; in
 * tier 2 (the suite runs under each tier), values in rcx and rdx across
 * the instructions that need them, jump threading of a state machine,
 * read-modify-write instructions, bounds checks proved by earlier accesses
 * and loop multiplies turned into adds, under static, dynamic and 64-bit
 * memories.
 *
 * Every test checks a result computed by hand or by a C reference loop that
 * mirrors the wasm code step by step. Float arithmetic is kept exact (small
 * dyadic values, products by powers of two only), so the references do not
 * depend on the C compiler contracting a*b+c into a fused multiply-add.
 *
 * Test modules are written in the text format and converted at test time by
 * wabt's wat2wasm (wat.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

#include "unit.h"
#include "wat.h"

/* ==== helpers: values ================================================================ */

static uint32_t f32_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static uint64_t f64_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static float bits_f32(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double bits_f64(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static wj_val v_i32(int32_t v) { return (wj_val){.kind = WJ_I32, .of.i32 = v}; }
static wj_val v_i64(int64_t v) { return (wj_val){.kind = WJ_I64, .of.i64 = v}; }
static wj_val v_f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }
static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }
static wj_val v_extern(void *p) { return (wj_val){.kind = WJ_EXTERNREF, .of.externref = p}; }

/* u32/u64 views for the references, which compute with wrapping unsigned
 * arithmetic as wasm does. */
static wj_val v_u32(uint32_t v) { return v_i32((int32_t)v); }
static wj_val v_u64(uint64_t v) { return v_i64((int64_t)v); }

/* i32.trunc_sat_f64_s */
static int32_t trunc_sat_i32(double v)
{
    if (v != v)
        return 0;
    if (v <= -2147483648.0)
        return INT32_MIN;
    if (v >= 2147483647.0)
        return INT32_MAX;
    return (int32_t)v;
}

static uint64_t rotl64(uint64_t v, unsigned n)
{
    return v << n | v >> (64 - n);
}

static bool same_val(wj_val a, wj_val b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case WJ_I32: return a.of.i32 == b.of.i32;
    case WJ_I64: return a.of.i64 == b.of.i64;
    case WJ_F32: return f32_bits(a.of.f32) == f32_bits(b.of.f32);
    case WJ_F64: return f64_bits(a.of.f64) == f64_bits(b.of.f64);
    case WJ_FUNCREF: return a.of.funcref == b.of.funcref;
    case WJ_EXTERNREF: return a.of.externref == b.of.externref;
    default: return false;
    }
}

static void format_val(char *buf, size_t n, wj_val v)
{
    switch (v.kind) {
    case WJ_I32:
        snprintf(buf, n, "i32 %" PRId32 " (0x%08" PRIx32 ")", v.of.i32, (uint32_t)v.of.i32);
        break;
    case WJ_I64:
        snprintf(buf, n, "i64 %" PRId64 " (0x%016" PRIx64 ")", v.of.i64, (uint64_t)v.of.i64);
        break;
    case WJ_F32:
        snprintf(buf, n, "f32 %a (bits 0x%08" PRIx32 ")", (double)v.of.f32, f32_bits(v.of.f32));
        break;
    case WJ_F64:
        snprintf(buf, n, "f64 %a (bits 0x%016" PRIx64 ")", v.of.f64, f64_bits(v.of.f64));
        break;
    case WJ_FUNCREF: snprintf(buf, n, "funcref %p", (void *)v.of.funcref); break;
    case WJ_EXTERNREF: snprintf(buf, n, "externref %p", v.of.externref); break;
    default: snprintf(buf, n, "kind 0x%x", (unsigned)v.kind); break;
    }
}

/* The numeric types, for the tests that run once per type: a module
 * template's "@T" is replaced by the name. Values of these tests stay small
 * integers, exact in every type, so one reference over doubles serves all. */
typedef struct numtype {
    const char *name;
    wj_valtype kind;
} numtype;

static const numtype numtypes[] = {
    {"i32", WJ_I32}, {"i64", WJ_I64}, {"f32", WJ_F32}, {"f64", WJ_F64}};

static wj_val typed(const numtype *t, double v)
{
    switch (t->kind) {
    case WJ_I32: return v_i32((int32_t)v);
    case WJ_I64: return v_i64((int64_t)v);
    case WJ_F32: return v_f32((float)v);
    default: return v_f64(v);
    }
}

/* ==== helpers: module text ============================================================ */

/* `text` with every `key` replaced by `value`; the caller frees it. */
static char *replace_all(const char *text, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value), count = 0;
    for (const char *p = strstr(text, key); p; p = strstr(p + klen, key))
        count++;
    size_t len = strlen(text) + count * vlen - count * klen;
    char *out = malloc(len + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    const char *p = text;
    for (const char *hit = strstr(p, key); hit; hit = strstr(p, key)) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, value, vlen);
        o += vlen;
        p = hit + klen;
    }
    strcpy(o, p);
    return out;
}

/* ==== helpers: one module in one store ================================================ */

typedef struct fixture {
    wj_engine *engine;
    wj_store *store;
    wj_module *module;
    wj_instance *instance;
    const char *label; /* for failure messages: the variant under test */
    int host_calls;    /* calls of the import "env" "host" */
} fixture;

/* The import "env" "host": (i32, f64) -> (i32, f64) = (3x + 1, 2d). It
 * overwrites every register a C function may clobber that is also a pin
 * register (rsi rdi r8 xmm8-14), and a few more, with garbage, as any host
 * function is allowed to. (rbx r12 r13 are callee-saved in C.) */
static const uint8_t host_params[] = {WJ_I32, WJ_F64};
static const uint8_t host_results[] = {WJ_I32, WJ_F64};

static uint32_t host_ref(uint32_t x) { return x * 3u + 1u; }

static void scramble_caller_saved(void)
{
    __asm__ volatile("movabsq $0x5a5a5a5a5a5a5a5a, %%rsi\n\t"
                     "movq %%rsi, %%rdi\n\t"
                     "movq %%rsi, %%r8\n\t"
                     "movq %%rsi, %%r9\n\t"
                     "movq %%rsi, %%r10\n\t"
                     "movq %%rsi, %%xmm8\n\t"
                     "movq %%rsi, %%xmm9\n\t"
                     "movq %%rsi, %%xmm10\n\t"
                     "movq %%rsi, %%xmm11\n\t"
                     "movq %%rsi, %%xmm12\n\t"
                     "movq %%rsi, %%xmm13\n\t"
                     "movq %%rsi, %%xmm14\n\t"
                     :
                     :
                     : "rsi", "rdi", "r8", "r9", "r10", "xmm8", "xmm9", "xmm10", "xmm11",
                       "xmm12", "xmm13", "xmm14");
}

static wj_trap *host_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    ++*(int *)env;
    scramble_caller_saved();
    results[0] = v_u32(host_ref((uint32_t)args[0].of.i32));
    results[1] = v_f64(args[1].of.f64 * 2.0);
    return NULL;
}

/* What the engines compile with: main runs the suite under each tier. */
static unit_tier tier;

/* How a module's memories are laid out: a static reservation whose guard
 * elides bounds checks, a dynamic heap whose every access is checked, or
 * memory64 (checked too; the module is converted with memory64 on). */
typedef enum memory_kind { MEM_STATIC, MEM_DYNAMIC, MEM_64 } memory_kind;

/* The module bytes of `wat` for memories of `kind`; the caller frees them. */
static uint8_t *wat_bytes(const char *wat, memory_kind kind, size_t *len)
{
    static const char *const memory64[] = {"--enable-memory64", NULL};
    return wat_to_wasm_opts(wat, kind == MEM_64 ? memory64 : NULL, len);
}

/* Converts, compiles and instantiates `wat`; every import must be the
 * function "env" "host". */
static void fx_open_memory(fixture *fx, const char *wat, const char *label, memory_kind kind)
{
    memset(fx, 0, sizeof *fx);
    fx->label = label;
    size_t len;
    uint8_t *bytes = wat_bytes(wat, kind, &len);
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    unit_configure_tier(config, &tier);
    wj_config_set_dynamic_memories(config, kind == MEM_DYNAMIC);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, kind == MEM_64);
    fx->engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(fx->engine);
    wj_error *err = wj_module_new(fx->engine, bytes, len, &fx->module);
    free(bytes);
    ck_assert_msg(err == NULL, "%s: module not compiled: %s", label,
                  err ? wj_error_message(err) : "");
    fx->store = wj_store_new(fx->engine);
    ck_assert_ptr_nonnull(fx->store);

    wj_extern imports[4];
    size_t n = wj_module_import_count(fx->module);
    ck_assert_uint_le(n, 4);
    for (size_t i = 0; i < n; i++) {
        wj_import_info info;
        ck_assert(wj_module_import(fx->module, i, &info));
        ck_assert(info.kind == WJ_EXTERN_FUNC && strcmp(info.module, "env") == 0 &&
                  strcmp(info.name, "host") == 0);
        wj_functype type = {2, 2, host_params, host_results};
        imports[i].kind = WJ_EXTERN_FUNC;
        imports[i].of.func = wj_func_new(fx->store, &type, host_cb, &fx->host_calls, NULL);
        ck_assert_ptr_nonnull(imports[i].of.func);
    }
    wj_trap *trap = NULL;
    err = wj_instance_new(fx->store, fx->module, imports, n, &fx->instance, &trap);
    ck_assert_msg(err == NULL, "%s: not instantiated: %s", label, err ? wj_error_message(err) : "");
    ck_assert_msg(trap == NULL, "%s: trap when instantiating: %s", label,
                  trap ? wj_trap_message(trap) : "");
}

static void fx_open(fixture *fx, const char *wat, const char *label)
{
    fx_open_memory(fx, wat, label, MEM_STATIC);
}

static void fx_close(fixture *fx)
{
    wj_store_delete(fx->store);
    wj_module_delete(fx->module);
    wj_engine_delete(fx->engine);
    memset(fx, 0, sizeof *fx);
}

static wj_func *fx_func(int line, const fixture *fx, const char *name)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(fx->instance, name, strlen(name), &ext) &&
                      ext.kind == WJ_EXTERN_FUNC,
                  "line %d: %s: no exported function %s", line, fx->label, name);
    return ext.of.func;
}

/* Calls export `name`; it has `nres` results (at most 8), stored in `res`.
 * Returns the trap, if any; a wj_error fails the test. */
static wj_trap *call_(int line, const fixture *fx, const char *name, wj_val *res, size_t nres,
                      const wj_val *args, size_t nargs)
{
    wj_func *f = fx_func(line, fx, name);
    wj_functype t;
    wj_func_type(f, &t);
    ck_assert_msg(t.result_count == nres, "line %d: %s: %s has %u results, the test expects %zu",
                  line, fx->label, name, t.result_count, nres);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f, args, nargs, res, nres, &trap);
    ck_assert_msg(err == NULL, "line %d: %s: calling %s: %s", line, fx->label, name,
                  err ? wj_error_message(err) : "");
    return trap;
}

/* Calls `name`, which must return the values `want`. */
static void expect_(int line, const fixture *fx, const char *name, const wj_val *want,
                    size_t nwant, const wj_val *args, size_t nargs)
{
    wj_val got[8];
    ck_assert_uint_le(nwant, 8);
    memset(got, 0, sizeof got);
    wj_trap *trap = call_(line, fx, name, got, nwant, args, nargs);
    ck_assert_msg(trap == NULL, "line %d: %s: %s: unexpected trap \"%s\"", line, fx->label, name,
                  trap ? wj_trap_message(trap) : "");
    for (size_t i = 0; i < nwant; i++) {
        if (same_val(got[i], want[i]))
            continue;
        char g[96], w[96];
        format_val(g, sizeof g, got[i]);
        format_val(w, sizeof w, want[i]);
        ck_abort_msg("line %d: %s: %s: result %zu is %s, want %s", line, fx->label, name, i, g,
                     w);
    }
}

/* Calls `name`, which must trap with `code` and `message`; returns the
 * innermost frame's function index. */
static uint32_t expect_trap_(int line, const fixture *fx, const char *name, size_t nres,
                             wj_trap_code code, const char *message, const wj_val *args,
                             size_t nargs)
{
    wj_val res[8];
    ck_assert_uint_le(nres, 8);
    wj_trap *trap = call_(line, fx, name, res, nres, args, nargs);
    ck_assert_msg(trap != NULL, "line %d: %s: %s: expected trap \"%s\", got none", line,
                  fx->label, name, message);
    ck_assert_msg(wj_trap_code_of(trap) == code && strcmp(wj_trap_message(trap), message) == 0,
                  "line %d: %s: %s: expected trap %d \"%s\", got %d \"%s\"", line, fx->label, name,
                  (int)code, message, (int)wj_trap_code_of(trap), wj_trap_message(trap));
    ck_assert_msg(wj_trap_frame_count(trap) >= 1, "line %d: %s: no frames", line, name);
    uint32_t func = wj_trap_frame(trap, 0)->func_index;
    wj_trap_delete(trap);
    return func;
}

#define VALS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define EXPECT(fx, name, want, args) expect_(__LINE__, fx, name, want, args)
#define EXPECT_TRAP(fx, name, nres, code, message, args) \
    expect_trap_(__LINE__, fx, name, nres, code, message, args)

/* ==== 0. division by constants ======================================================== */

/* Every class of constant divisor (1, powers of two, small and large odd
 * ones, near 2^31 and 2^32) against dividends at the edges: tier 2 turns
 * unsigned i32 ones into a multiply or a shift, and drops the zero check
 * of any constant divisor. */
static const uint32_t divisors[] = {1, 2, 3, 6, 7, 10, 16, 641, 1000000007u, 0x7fffffffu,
                                    0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu};
static const uint32_t dividends[] = {0, 1, 2, 5, 6, 7, 99, 640, 641, 642, 1000000006u,
                                     0x7ffffffeu, 0x7fffffffu, 0x80000000u, 0x80000001u,
                                     0xcafebabeu, 0xfffffffdu, 0xfffffffeu, 0xffffffffu};
#define NDIVISORS (sizeof divisors / sizeof *divisors)

START_TEST(divide_by_constants)
{
    static const char *const ops[] = {"div_u", "rem_u", "div_s", "rem_s"};
    char *wat = malloc(64 * 1024);
    ck_assert_ptr_nonnull(wat);
    size_t at = (size_t)sprintf(wat, "(module\n");
    for (size_t d = 0; d < NDIVISORS; d++)
        for (int op = 0; op < 4; op++)
            at += (size_t)sprintf(wat + at,
                                  "  (func (export \"%s%zu\") (param i32) (result i32)"
                                  " local.get 0 i32.const %d i32.%s)\n",
                                  ops[op], d, (int32_t)divisors[d], ops[op]);
    sprintf(wat + at, ")\n");
    fixture fx;
    fx_open(&fx, wat, "divide_by_constants");
    free(wat);
    for (size_t d = 0; d < NDIVISORS; d++)
        for (size_t x = 0; x < sizeof dividends / sizeof *dividends; x++) {
            uint32_t u = dividends[x], k = divisors[d];
            int32_t si = (int32_t)u, sk = (int32_t)k;
            char name[32];
            uint32_t want[4] = {u / k, u % k, 0, 0};
            bool overflow = si == INT32_MIN && sk == -1;
            want[2] = overflow ? 0 : (uint32_t)(si / sk);
            want[3] = overflow ? 0 : (uint32_t)(si % sk);
            for (int op = 0; op < 4; op++) {
                snprintf(name, sizeof name, "%s%zu", ops[op], d);
                if (op == 2 && overflow)
                    EXPECT_TRAP(&fx, name, 1, WJ_TRAP_INT_OVERFLOW, "integer overflow",
                                VALS(v_u32(u)));
                else
                    EXPECT(&fx, name, VALS(v_u32(want[op])), VALS(v_u32(u)));
            }
        }
    fx_close(&fx);
}
END_TEST

/* ==== 1. more hot locals than pin registers ============================================ */

/* 5 i32 + 5 i64 + the counter (11 GPR locals for 6 registers) and 10 f64 +
 * 3 f32 (13 xmm locals for 7 registers), all updated in one loop, each
 * update reading pinned and unpinned neighbours. */
static const char pressure_wat[] =
    "(module\n"
    "  (func (export \"pressure\") (param $n i32) (result i64)\n"
    "    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $x4 i32)\n"
    "    (local $y0 i64) (local $y1 i64) (local $y2 i64) (local $y3 i64) (local $y4 i64)\n"
    "    (local $d0 f64) (local $d1 f64) (local $d2 f64) (local $d3 f64) (local $d4 f64)\n"
    "    (local $d5 f64) (local $d6 f64) (local $d7 f64) (local $d8 f64) (local $d9 f64)\n"
    "    (local $s0 f32) (local $s1 f32) (local $s2 f32)\n"
    "    (local $i i32)\n"
    "    (loop $l\n"
    "      (local.set $x0 (i32.add (local.get $x0) (local.get $i)))\n"
    "      (local.set $x1 (i32.xor (local.get $x1) (i32.mul (local.get $x0) (i32.const 3))))\n"
    "      (local.set $x2 (i32.add (local.get $x2) (i32.shr_u (local.get $x1) (i32.const 1))))\n"
    "      (local.set $x3 (i32.add (i32.sub (local.get $x3) (local.get $x2)) (local.get $x0)))\n"
    "      (local.set $x4 (i32.add (i32.mul (local.get $x4) (i32.const 5)) (local.get $x3)))\n"
    "      (local.set $y0 (i64.add (local.get $y0) (i64.extend_i32_u (local.get $x4))))\n"
    "      (local.set $y1 (i64.xor (local.get $y1) (i64.shl (local.get $y0) (i64.const 3))))\n"
    "      (local.set $y2 (i64.add (local.get $y2) (i64.mul (local.get $y1) (i64.const 7))))\n"
    "      (local.set $y3 (i64.sub (local.get $y3) (i64.shr_s (local.get $y2) (i64.const 2))))\n"
    "      (local.set $y4 (i64.add (i64.add (local.get $y4) (local.get $y3))\n"
    "                              (i64.extend_i32_s (local.get $x1))))\n"
    "      (local.set $d0 (f64.add (local.get $d0) (f64.convert_i32_s (local.get $i))))\n"
    "      (local.set $d1 (f64.add (local.get $d1) (f64.mul (local.get $d0) (f64.const 0.5))))\n"
    "      (local.set $d2 (f64.sub (local.get $d2) (local.get $d1)))\n"
    "      (local.set $d3 (f64.add (local.get $d3) (f64.mul (local.get $d2) (f64.const 0.25))))\n"
    "      (local.set $d4 (f64.sub (f64.add (local.get $d4) (local.get $d3)) (local.get $d0)))\n"
    "      (local.set $d5 (f64.add (f64.mul (local.get $d5) (f64.const 0.5)) (local.get $d4)))\n"
    "      (local.set $d6 (f64.add (f64.add (local.get $d6) (local.get $d5)) (f64.const 1)))\n"
    "      (local.set $d7 (f64.sub (local.get $d7) (f64.mul (local.get $d6) (f64.const 0.125))))\n"
    "      (local.set $d8 (f64.add (f64.add (local.get $d8) (local.get $d7)) (local.get $d9)))\n"
    "      (local.set $d9 (f64.add (f64.mul (local.get $d9) (f64.const 0.5))\n"
    "                              (f64.mul (local.get $d8) (f64.const 0.0625))))\n"
    "      (local.set $s0 (f32.add (local.get $s0) (f32.convert_i32_s (local.get $i))))\n"
    "      (local.set $s1 (f32.add (local.get $s1) (f32.mul (local.get $s0) (f32.const 0.5))))\n"
    "      (local.set $s2 (f32.sub (local.get $s2) (local.get $s1)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))\n"
    "    ;; checksum: r = r * 31 + v over every local\n"
    "    i64.const 0\n"
    "    i64.const 31 i64.mul local.get $x0 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $x1 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $x2 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $x3 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $x4 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $y0 i64.add\n"
    "    i64.const 31 i64.mul local.get $y1 i64.add\n"
    "    i64.const 31 i64.mul local.get $y2 i64.add\n"
    "    i64.const 31 i64.mul local.get $y3 i64.add\n"
    "    i64.const 31 i64.mul local.get $y4 i64.add\n"
    "    i64.const 31 i64.mul local.get $d0 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d1 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d2 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d3 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d4 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d5 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d6 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d7 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d8 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $d9 i64.reinterpret_f64 i64.add\n"
    "    i64.const 31 i64.mul local.get $s0 i32.reinterpret_f32 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $s1 i32.reinterpret_f32 i64.extend_i32_u i64.add\n"
    "    i64.const 31 i64.mul local.get $s2 i32.reinterpret_f32 i64.extend_i32_u i64.add\n"
    "    local.get $i i64.extend_i32_u i64.add))\n";

static uint64_t pressure_ref(int32_t n)
{
    uint32_t x[5] = {0};
    uint64_t y[5] = {0};
    double d[10] = {0};
    float s[3] = {0};
    int32_t i = 0;
    do {
        x[0] += (uint32_t)i;
        x[1] ^= x[0] * 3u;
        x[2] += x[1] >> 1;
        x[3] = x[3] - x[2] + x[0];
        x[4] = x[4] * 5u + x[3];
        y[0] += x[4];
        y[1] ^= y[0] << 3;
        y[2] += y[1] * 7u;
        y[3] -= (uint64_t)((int64_t)y[2] >> 2);
        y[4] = y[4] + y[3] + (uint64_t)(int64_t)(int32_t)x[1];
        d[0] += (double)i;
        d[1] += d[0] * 0.5;
        d[2] -= d[1];
        d[3] += d[2] * 0.25;
        d[4] = d[4] + d[3] - d[0];
        d[5] = d[5] * 0.5 + d[4];
        d[6] = d[6] + d[5] + 1;
        d[7] -= d[6] * 0.125;
        d[8] = d[8] + d[7] + d[9];
        d[9] = d[9] * 0.5 + d[8] * 0.0625;
        s[0] += (float)i;
        s[1] += s[0] * 0.5f;
        s[2] -= s[1];
        i++;
    } while (i < n);
    uint64_t r = 0;
    for (int k = 0; k < 5; k++)
        r = r * 31 + x[k];
    for (int k = 0; k < 5; k++)
        r = r * 31 + y[k];
    for (int k = 0; k < 10; k++)
        r = r * 31 + f64_bits(d[k]);
    for (int k = 0; k < 3; k++)
        r = r * 31 + f32_bits(s[k]);
    return r + (uint32_t)i;
}

START_TEST(pressure_more_locals_than_registers)
{
    fixture fx;
    fx_open(&fx, pressure_wat, "pressure");
    static const int32_t counts[] = {1, 2, 7, 100};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++)
        EXPECT(&fx, "pressure", VALS(v_u64(pressure_ref(counts[k]))), VALS(v_i32(counts[k])));
    fx_close(&fx);
}
END_TEST

/* ==== 2. pinned locals across calls and libcalls ====================================== */

/* One module per operation that may clobber registers ("the snippet"): it
 * runs in the loop of "A" (numeric locals: written and unwritten
 * parameters, written and never-written declared locals, i32 i64 f32 f64;
 * 5 GPR and 7 xmm locals, so all of them are pinned) and of "B" (funcref
 * and externref locals, 6 GPR locals), while a read of a written pinned
 * local waits on the operand stack. Each snippet leaves one i32, whose
 * value the C side knows. $scramble uses more locals than there are pin
 * registers of each class, so a direct call to it overwrites all of them.
 * The loops count down a pinned parameter; $guard (a global, which no
 * pinning touches) turns the endless loop that a stale counter would make
 * into an "unreachable" trap. */
static const char clobber_prelude[] =
    "(module\n"
    "  (import \"env\" \"host\" (func $host (param i32 f64) (result i32 f64)))\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $t_scr (func (param i32 f64) (result i32)))\n"
    "  (memory 1)\n"
    "  (table $tf 2 funcref)\n"
    "  (table $tg 2 funcref)\n"
    "  (elem (table $tf) (i32.const 1) func $scramble)\n"
    "  (elem declare func $forty_two)\n"
    "  (data $d \"\\01\\02\\03\\04\")\n"
    "  (global $guard (mut i32) (i32.const 0))\n"
    "  (func $forty_two (type $v_i) (i32.const 42))\n"
    "  (func $scramble (type $t_scr) (param $x i32) (param $d f64) (result i32)\n"
    "    (local $a i32) (local $b i32) (local $c i32) (local $e i32) (local $g i32)\n"
    "    (local $h i32) (local $k i32)\n"
    "    (local $fa f64) (local $fb f64) (local $fc f64) (local $fe f64) (local $fg f64)\n"
    "    (local $fh f64)\n"
    "    (local.set $k (i32.const 3))\n"
    "    (loop $l\n"
    "      (local.set $a (i32.add (local.get $a) (local.get $x)))\n"
    "      (local.set $b (i32.add (local.get $b) (local.get $a)))\n"
    "      (local.set $c (i32.xor (local.get $c) (local.get $b)))\n"
    "      (local.set $e (i32.add (local.get $e) (local.get $c)))\n"
    "      (local.set $g (i32.sub (local.get $g) (local.get $e)))\n"
    "      (local.set $h (i32.add (local.get $h) (local.get $g)))\n"
    "      (local.set $fa (f64.add (local.get $fa) (local.get $d)))\n"
    "      (local.set $fb (f64.add (local.get $fb) (local.get $fa)))\n"
    "      (local.set $fc (f64.sub (local.get $fc) (local.get $fb)))\n"
    "      (local.set $fe (f64.add (local.get $fe) (local.get $fc)))\n"
    "      (local.set $fg (f64.add (local.get $fg) (local.get $fe)))\n"
    "      (local.set $fh (f64.sub (local.get $fh) (local.get $fg)))\n"
    "      (br_if $l (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))\n"
    "    (i32.add (i32.add (i32.add (local.get $a) (local.get $b))\n"
    "                      (i32.add (local.get $c) (local.get $e)))\n"
    "             (i32.add (i32.add (local.get $g) (local.get $h))\n"
    "                      (i32.trunc_sat_f64_s\n"
    "                        (f64.add (f64.add (f64.add (local.get $fa) (local.get $fb))\n"
    "                                          (f64.add (local.get $fc) (local.get $fe)))\n"
    "                                 (f64.add (local.get $fg) (local.get $fh)))))))\n";

static uint32_t scramble_ref(uint32_t x, double d)
{
    uint32_t a = 0, b = 0, c = 0, e = 0, g = 0, h = 0;
    double fa = 0, fb = 0, fc = 0, fe = 0, fg = 0, fh = 0;
    for (int k = 3; k > 0; k--) {
        a += x, b += a, c ^= b, e += c, g -= e, h += g;
        fa += d, fb += fa, fc -= fb, fe += fc, fg += fe, fh -= fg;
    }
    double s = ((fa + fb) + (fc + fe)) + (fg + fh);
    return ((a + b) + (c + e)) + ((g + h) + (uint32_t)trunc_sat_i32(s));
}

static const char clobber_template_a[] =
    "  (func (export \"A\") (param $p0 i32) (param $p1 i64) (param $q0 i32) (param $pf f32)\n"
    "                     (param $pd f64) (param $qd f64) (result i64)\n"
    "    (local $w i32) (local $z i64) (local $wf f32) (local $wd f64) (local $zf f32)\n"
    "    (local $zd f64)\n"
    "    (loop $l\n"
    "      (global.set $guard (i32.add (global.get $guard) (i32.const 1)))\n"
    "      (if (i32.gt_u (global.get $guard) (i32.const 100000)) (then unreachable))\n"
    "      local.get $p1\n"
    "      @SNIPPET\n"
    "      i64.extend_i32_u\n"
    "      i64.add\n"
    "      local.set $p1\n"
    "      (local.set $w (i32.xor (i32.add (local.get $w) (local.get $p0)) (local.get $q0)))\n"
    "      (local.set $p1 (i64.add (i64.add (local.get $p1) (i64.extend_i32_u (local.get $w)))\n"
    "                              (local.get $z)))\n"
    "      (local.set $wf (f32.add (f32.add (local.get $wf) (local.get $pf)) (local.get $zf)))\n"
    "      (local.set $pf (f32.add (local.get $pf) (f32.const 1)))\n"
    "      (local.set $wd (f64.add (f64.add (local.get $wd) (f64.mul (local.get $pd) (f64.const 0.5)))\n"
    "                              (f64.add (local.get $qd) (local.get $zd))))\n"
    "      (local.set $pd (f64.sub (local.get $pd) (f64.const 0.25)))\n"
    "      (local.set $p0 (i32.sub (local.get $p0) (i32.const 1)))\n"
    "      (br_if $l (local.get $p0)))\n"
    "    local.get $p1\n"
    "    local.get $wd i64.reinterpret_f64 i64.xor\n"
    "    local.get $wf i32.reinterpret_f32 i64.extend_i32_u i64.add\n"
    "    local.get $q0 i64.extend_i32_s i64.add\n"
    "    local.get $qd i64.trunc_f64_s i64.add\n"
    "    local.get $z i64.add\n"
    "    local.get $zf i32.reinterpret_f32 i64.extend_i32_u i64.add\n"
    "    local.get $zd i64.reinterpret_f64 i64.add\n"
    "    local.get $pf i64.trunc_f32_s i64.add\n"
    "    local.get $pd i64.reinterpret_f64 i64.xor)\n";

static const char clobber_template_b[] =
    "  (func (export \"B\") (param $p0 i32) (param $er externref) (param $pd f64)\n"
    "                     (result i64 externref)\n"
    "    (local $acc i64) (local $fr funcref) (local $fn0 funcref) (local $z i32)\n"
    "    (local.set $fr (ref.func $forty_two))\n"
    "    (loop $l\n"
    "      (global.set $guard (i32.add (global.get $guard) (i32.const 1)))\n"
    "      (if (i32.gt_u (global.get $guard) (i32.const 100000)) (then unreachable))\n"
    "      local.get $acc\n"
    "      @SNIPPET\n"
    "      i64.extend_i32_u\n"
    "      i64.add\n"
    "      local.set $acc\n"
    "      (table.set $tf (i32.const 0) (local.get $fr))\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "        (i64.extend_i32_u (call_indirect $tf (type $v_i) (i32.const 0)))))\n"
    "      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u\n"
    "        (i32.add (i32.add (i32.mul (ref.is_null (local.get $fn0)) (i32.const 100))\n"
    "                          (i32.mul (ref.is_null (local.get $er)) (i32.const 1000)))\n"
    "                 (local.get $z)))))\n"
    "      (local.set $p0 (i32.sub (local.get $p0) (i32.const 1)))\n"
    "      (br_if $l (local.get $p0)))\n"
    "    (local.get $acc) (local.get $er))\n";

typedef struct clobber {
    const char *name;
    const char *snippet;
    uint32_t (*value)(uint32_t p0, double pd); /* the snippet's i32 */
} clobber;

static uint32_t val_plus_one(uint32_t p0, double pd) { return p0 + 1; }
static uint32_t val_host(uint32_t p0, double pd) { return host_ref(p0) + (uint32_t)(int32_t)(pd * 2); }
static uint32_t val_minus_one(uint32_t p0, double pd) { return UINT32_MAX; }
static uint32_t val_low_byte(uint32_t p0, double pd) { return p0 & 255; }
static uint32_t val_p0(uint32_t p0, double pd) { return p0; }
static uint32_t val_data(uint32_t p0, double pd) { return 0x04030201; }
static uint32_t val_42(uint32_t p0, double pd) { return 42; }

static const clobber clobbers[] = {
    {"no call", "(i32.add (local.get $p0) (i32.const 1))", val_plus_one},
    {"call", "(call $scramble (local.get $p0) (local.get $pd))", scramble_ref},
    {"call_indirect",
     "(call_indirect $tf (type $t_scr) (local.get $p0) (local.get $pd) (i32.const 1))",
     scramble_ref},
    {"host call", "(call $host (local.get $p0) (local.get $pd)) i32.trunc_f64_s i32.add",
     val_host},
    {"memory.grow", "(memory.grow (i32.const 1)) memory.size i32.sub", val_minus_one},
    {"memory.fill",
     "(memory.fill (i32.and (local.get $p0) (i32.const 255)) (local.get $p0) (i32.const 16))\n"
     "      (i32.load8_u offset=15 (i32.and (local.get $p0) (i32.const 255)))",
     val_low_byte},
    {"memory.copy",
     "(i32.store (i32.const 2048) (local.get $p0))\n"
     "      (memory.copy (i32.const 4096) (i32.const 2048) (i32.const 4))\n"
     "      (i32.load (i32.const 4096))",
     val_p0},
    {"memory.init",
     "(memory.init $d (i32.const 8192) (i32.const 0) (i32.const 4)) (i32.load (i32.const 8192))",
     val_data},
    {"table.grow", "(table.grow $tg (ref.null func) (i32.const 1)) (table.size $tg) i32.sub",
     val_minus_one},
    {"table.fill and table.copy",
     "(table.fill $tg (i32.const 0) (ref.func $forty_two) (i32.const 2))\n"
     "      (table.copy $tg $tg (i32.const 1) (i32.const 0) (i32.const 1))\n"
     "      (call_indirect $tg (type $v_i) (i32.const 1))",
     val_42},
};

static uint64_t template_a_ref(const clobber *k, uint32_t p0, uint64_t p1, uint32_t q0, float pf,
                               double pd, double qd)
{
    uint32_t w = 0;
    uint64_t z = 0;
    float wf = 0, zf = 0;
    double wd = 0, zd = 0;
    do {
        p1 += k->value(p0, pd);
        w = (w + p0) ^ q0;
        p1 = p1 + w + z;
        wf = wf + pf + zf;
        pf = pf + 1;
        wd = (wd + pd * 0.5) + (qd + zd);
        pd -= 0.25;
        p0 -= 1;
    } while (p0 != 0);
    uint64_t r = p1;
    r ^= f64_bits(wd);
    r += f32_bits(wf);
    r += (uint64_t)(int64_t)(int32_t)q0;
    r += (uint64_t)(int64_t)qd;
    r += z;
    r += f32_bits(zf);
    r += f64_bits(zd);
    r += (uint64_t)(int64_t)pf;
    r ^= f64_bits(pd);
    return r;
}

static uint64_t template_b_ref(const clobber *k, uint32_t p0, double pd)
{
    uint64_t acc = 0;
    do {
        acc += k->value(p0, pd);
        acc += 42;  /* call_indirect through the funcref local */
        acc += 100; /* the never-written funcref local is null, the externref is not */
    } while (--p0 != 0);
    return acc;
}

START_TEST(pinned_across_calls)
{
    const clobber *k = &clobbers[_i];
    char *a = replace_all(clobber_template_a, "@SNIPPET", k->snippet);
    char *b = replace_all(clobber_template_b, "@SNIPPET", k->snippet);
    char *wat = NULL;
    ck_assert_int_ge(asprintf(&wat, "%s%s%s)\n", clobber_prelude, a, b), 0);
    free(a);
    free(b);

    fixture fx;
    fx_open(&fx, wat, k->name);
    static int marker;
    for (int round = 0; round < 2; round++) {
        uint32_t n = round ? 1 : 40;
        EXPECT(&fx, "A",
               VALS(v_u64(template_a_ref(k, n, 1000, 0x1234, 1.5f, 100.5 + round, 3.0))),
               VALS(v_u32(n), v_i64(1000), v_i32(0x1234), v_f32(1.5f), v_f64(100.5 + round),
                    v_f64(3.0)));
        EXPECT(&fx, "B", VALS(v_u64(template_b_ref(k, n + 5, 7.25)), v_extern(&marker)),
               VALS(v_u32(n + 5), v_extern(&marker), v_f64(7.25)));
    }
    if (k->value == val_host)
        ck_assert_int_eq(fx.host_calls, 40 + 45 + 1 + 6);
    else
        ck_assert_int_eq(fx.host_calls, 0);
    fx_close(&fx);
    free(wat);
}
END_TEST

/* ==== 3. lazy reads of a local that is then written ================================== */

/* Per numeric type (@T): "hazard" is the plain sequence with local.set and
 * local.tee; "deep" builds a 31-value expression stack holding stale reads
 * of $x and $y (and registers of both classes all taken: 15 computed
 * values, 7 locals of the class in the loop) before and while writing
 * them; "swap" swaps two locals through the stack and returns them in the
 * other order; "swap3" returns unwritten pinned parameters reordered, and
 * "swap_caller" calls both from wasm. */
static const char hazard_wat[] =
    "(module\n"
    "  (func (export \"hazard\") (param $x @T) (param $n i32) (result @T)\n"
    "    (local $acc @T)\n"
    "    (loop $l\n"
    "      local.get $acc\n"
    "      local.get 0\n"
    "      local.get 0\n"
    "      @T.const 1\n"
    "      @T.add\n"
    "      local.set 0\n"
    "      @T.sub\n"
    "      local.get 0\n"
    "      local.get 0\n"
    "      @T.const 2\n"
    "      @T.mul\n"
    "      local.tee 0\n"
    "      @T.sub\n"
    "      @T.add\n"
    "      local.set $acc\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (@T.add (local.get $acc) (local.get 0)))\n"
    "\n"
    "  (func (export \"deep\") (param $x @T) (param $y @T) (param $n i32) (result @T)\n"
    "    (local $acc @T) (local $u1 @T) (local $u2 @T) (local $u3 @T) (local $u4 @T)\n"
    "    (loop $l\n"
    "      (local.set $u1 (@T.add (local.get $u1) (@T.const 1)))\n"
    "      (local.set $u2 (@T.add (local.get $u2) (@T.const 2)))\n"
    "      (local.set $u3 (@T.add (local.get $u3) (@T.const 3)))\n"
    "      (local.set $u4 (@T.add (local.get $u4) (@T.const 4)))\n"
    "      local.get $acc                                   ;; s0\n"
    "      local.get $x                                     ;; s1  x0\n"
    "      local.get $y                                     ;; s2  y0\n"
    "      (@T.add (local.get $x) (@T.const 1))             ;; s3\n"
    "      local.get $x                                     ;; s4  x0\n"
    "      (@T.mul (local.get $y) (@T.const 2))             ;; s5\n"
    "      (@T.add (local.get $u1) (local.get $u2))         ;; s6\n"
    "      local.get $y                                     ;; s7  y0\n"
    "      (@T.sub (local.get $x) (local.get $y))           ;; s8\n"
    "      (@T.add (local.get $u3) (local.get $x))          ;; s9\n"
    "      local.get $x                                     ;; s10 x0\n"
    "      (@T.sub (local.get $u4) (local.get $y))          ;; s11\n"
    "      (@T.const 7)                                     ;; s12\n"
    "      (@T.mul (local.get $x) (@T.const 3))             ;; s13\n"
    "      local.get $y                                     ;; s14 y0\n"
    "      (@T.add (local.get $x) (@T.const 2))             ;; s15\n"
    "      (local.set $x (@T.add (local.get $x) (@T.const 3)))        ;; x1 = x0 + 3\n"
    "      local.get $x                                     ;; s16 x1\n"
    "      (@T.sub (local.get $u1) (local.get $x))          ;; s17\n"
    "      local.get $y                                     ;; s18 y0\n"
    "      (local.tee $y (@T.sub (local.get $y) (local.get $x)))      ;; s19 y1 = y0 - x1\n"
    "      local.get $x                                     ;; s20 x1\n"
    "      (@T.mul (local.get $y) (@T.const 3))             ;; s21\n"
    "      local.get $y                                     ;; s22 y1\n"
    "      (local.tee $x (@T.mul (local.get $x) (@T.const 2)))        ;; s23 x2 = 2 x1\n"
    "      (@T.add (local.get $u2) (local.get $y))          ;; s24\n"
    "      local.get $y                                     ;; s25 y1\n"
    "      local.get $x                                     ;; s26 x2\n"
    "      (@T.add (local.get $x) (local.get $y))           ;; s27\n"
    "      (@T.sub (local.get $u3) (local.get $u4))         ;; s28\n"
    "      local.get $acc                                   ;; s29\n"
    "      (@T.const 5)                                     ;; s30\n"
    "      ;; 30 operations from the top: sub, add, sub, add, ...\n"
    "      @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add\n"
    "      @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add\n"
    "      @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add @T.sub @T.add\n"
    "      local.set $acc\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (@T.add (@T.sub (@T.add (local.get $acc) (local.get $x)) (local.get $y))\n"
    "            (@T.add (@T.add (local.get $u1) (local.get $u2))\n"
    "                    (@T.add (local.get $u3) (local.get $u4)))))\n"
    "\n"
    "  (func $swap (export \"swap\") (param $a @T) (param $b @T) (param $n i32) (result @T @T)\n"
    "    (loop $l\n"
    "      local.get $a\n"
    "      local.get $b\n"
    "      local.set $a\n"
    "      local.set $b\n"
    "      (local.set $a (@T.add (local.get $a) (@T.const 1)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    local.get $b\n"
    "    local.get $a)\n"
    "\n"
    "  (func $swap3 (export \"swap3\") (param $a @T) (param $b @T) (param $c @T) (param $n i32)\n"
    "                                  (result @T @T @T)\n"
    "    (local $acc @T)\n"
    "    (loop $l\n"
    "      (local.set $acc (@T.add (@T.sub (@T.add (local.get $acc) (local.get $a))\n"
    "                                      (local.get $b))\n"
    "                              (local.get $c)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    local.get $c\n"
    "    local.get $a\n"
    "    (@T.add (local.get $acc) (local.get $b)))\n"
    "\n"
    "  (func (export \"swap_caller\") (param $a @T) (param $b @T) (result @T @T @T @T @T)\n"
    "    (local $i i32)\n"
    "    (loop $l\n"
    "      (local.set $a (@T.add (local.get $a) (local.get $b)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
    "                          (i32.const 3))))\n"
    "    (call $swap (local.get $a) (local.get $b) (i32.const 3))\n"
    "    (call $swap3 (local.get $b) (local.get $a) (local.get $b) (i32.const 2))))\n";

static double hazard_ref(double x, int n)
{
    double acc = 0;
    do {
        acc -= x;
        x += 1;
        double old = x;
        x *= 2;
        acc += old - x;
    } while (--n);
    return acc + x;
}

static double deep_ref(double x, double y, int n)
{
    double acc = 0, u1 = 0, u2 = 0, u3 = 0, u4 = 0;
    do {
        u1 += 1, u2 += 2, u3 += 3, u4 += 4;
        double s[31];
        int k = 0;
        s[k++] = acc, s[k++] = x, s[k++] = y, s[k++] = x + 1, s[k++] = x, s[k++] = y * 2;
        s[k++] = u1 + u2, s[k++] = y, s[k++] = x - y, s[k++] = u3 + x, s[k++] = x;
        s[k++] = u4 - y, s[k++] = 7, s[k++] = x * 3, s[k++] = y, s[k++] = x + 2;
        x = x + 3;
        s[k++] = x, s[k++] = u1 - x, s[k++] = y;
        y = y - x;
        s[k++] = y, s[k++] = x, s[k++] = y * 3, s[k++] = y;
        x = x * 2;
        s[k++] = x, s[k++] = u2 + y, s[k++] = y, s[k++] = x, s[k++] = x + y;
        s[k++] = u3 - u4, s[k++] = acc, s[k++] = 5;
        ck_assert_int_eq(k, 31);
        double v = s[30];
        for (int i = 29, j = 0; i >= 0; i--, j++)
            v = j % 2 == 0 ? s[i] - v : s[i] + v;
        acc = v;
    } while (--n);
    return ((acc + x) - y) + ((u1 + u2) + (u3 + u4));
}

static void swap_ref(double *a, double *b, int n)
{
    do {
        double t = *a;
        *a = *b + 1;
        *b = t;
    } while (--n);
}

static void swap3_ref(double a, double b, double c, int n, double out[3])
{
    double acc = 0;
    do
        acc = ((acc + a) - b) + c;
    while (--n);
    out[0] = c, out[1] = a, out[2] = acc + b;
}

static fixture *open_typed(fixture *fx, const char *wat, const numtype *t)
{
    char *text = replace_all(wat, "@T", t->name);
    fx_open(fx, text, t->name);
    free(text);
    return fx;
}

START_TEST(lazy_read_hazard)
{
    const numtype *t = &numtypes[_i];
    fixture fx;
    open_typed(&fx, hazard_wat, t);
    EXPECT(&fx, "hazard", VALS(typed(t, hazard_ref(5, 1))), VALS(typed(t, 5), v_i32(1)));
    EXPECT(&fx, "hazard", VALS(typed(t, hazard_ref(5, 10))), VALS(typed(t, 5), v_i32(10)));
    EXPECT(&fx, "hazard", VALS(typed(t, hazard_ref(-3, 4))), VALS(typed(t, -3), v_i32(4)));
    fx_close(&fx);
}
END_TEST

START_TEST(lazy_read_hazard_deep_stack)
{
    const numtype *t = &numtypes[_i];
    fixture fx;
    open_typed(&fx, hazard_wat, t);
    EXPECT(&fx, "deep", VALS(typed(t, deep_ref(5, 2, 1))),
           VALS(typed(t, 5), typed(t, 2), v_i32(1)));
    EXPECT(&fx, "deep", VALS(typed(t, deep_ref(5, 2, 6))),
           VALS(typed(t, 5), typed(t, 2), v_i32(6)));
    EXPECT(&fx, "deep", VALS(typed(t, deep_ref(-4, 9, 5))),
           VALS(typed(t, -4), typed(t, 9), v_i32(5)));
    fx_close(&fx);
}
END_TEST

START_TEST(swap_and_multi_value_results)
{
    const numtype *t = &numtypes[_i];
    fixture fx;
    open_typed(&fx, hazard_wat, t);
    /* by hand: (10, 20) -> (21, 10) -> (11, 21) -> (22, 11) -> (12, 22) -> (23, 12),
     * returned as (b, a) */
    EXPECT(&fx, "swap", VALS(typed(t, 12), typed(t, 23)),
           VALS(typed(t, 10), typed(t, 20), v_i32(5)));
    EXPECT(&fx, "swap", VALS(typed(t, 10), typed(t, 21)),
           VALS(typed(t, 10), typed(t, 20), v_i32(1)));
    /* (1, 2, 3) over 4 rounds: acc = 4 * (1 - 2 + 3) = 8; (c, a, acc + b) */
    EXPECT(&fx, "swap3", VALS(typed(t, 3), typed(t, 1), typed(t, 10)),
           VALS(typed(t, 1), typed(t, 2), typed(t, 3), v_i32(4)));

    double a = 3, b = 4;
    a += 3 * b; /* the caller's loop */
    double s1 = a, s2 = b, r3[3];
    swap_ref(&s1, &s2, 3);
    swap3_ref(b, a, b, 2, r3);
    EXPECT(&fx, "swap_caller",
           VALS(typed(t, s2), typed(t, s1), typed(t, r3[0]), typed(t, r3[1]), typed(t, r3[2])),
           VALS(typed(t, 3), typed(t, 4)));
    fx_close(&fx);
}
END_TEST

/* ==== 4. reinterpret, select, branches, block parameters =============================== */

static const char misc_wat[] =
    "(module\n"
    /* Each round: the bits of f and d go into the checksum; f takes the bits
     * of i (GPR -> xmm) while its own old bits, reinterpreted (xmm -> GPR),
     * wait on the stack and then become i; the same for d and l. NaN
     * payloads must survive. */
    "  (func (export \"reinterpret\") (param $f f32) (param $d f64) (param $i i32) (param $l i64)\n"
    "                               (param $n i32) (result i64)\n"
    "    (local $acc i64)\n"
    "    (loop $lp\n"
    "      (local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5))\n"
    "                               (i64.extend_i32_u (i32.reinterpret_f32 (local.get $f)))))\n"
    "      (local.set $acc (i64.xor (local.get $acc) (i64.reinterpret_f64 (local.get $d))))\n"
    "      (i32.reinterpret_f32 (local.get $f))\n"
    "      (local.set $f (f32.reinterpret_i32 (local.get $i)))\n"
    "      local.set $i\n"
    "      (i64.reinterpret_f64 (local.get $d))\n"
    "      (local.set $d (f64.reinterpret_i64 (local.get $l)))\n"
    "      local.set $l\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 0x101)))\n"
    "      (local.set $l (i64.add (local.get $l) (i64.const 0x10001)))\n"
    "      (br_if $lp (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (i64.add (local.get $acc)\n"
    "      (i64.add (i64.extend_i32_u (i32.add (local.get $i) (i32.reinterpret_f32 (local.get $f))))\n"
    "               (i64.xor (local.get $l) (i64.reinterpret_f64 (local.get $d))))))\n"
    "\n"
    "  (func (export \"select\") (param $a i32) (param $b i32) (param $x f64) (param $y f64)\n"
    "                          (param $n i32) (result i64)\n"
    "    (local $acc i64) (local $i i32)\n"
    "    (loop $l\n"
    "      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 3))\n"
    "        (i64.extend_i32_u (select (local.get $a) (local.get $b)\n"
    "                                  (i32.and (local.get $i) (i32.const 1))))))\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "        (i64.trunc_f64_s (select (local.get $x) (local.get $y)\n"
    "                                 (i32.lt_u (local.get $i) (i32.const 3))))))\n"
    "      local.get $a\n"
    "      (local.set $a (select (local.get $b) (local.get $a) (i32.and (local.get $i) (i32.const 2))))\n"
    "      i32.const 1\n"
    "      i32.add\n"
    "      local.set $b\n"
    "      (local.set $x (select (local.get $y) (local.get $x)\n"
    "                            (i32.eqz (i32.and (local.get $i) (i32.const 1)))))\n"
    "      (local.set $y (f64.add (local.get $y) (f64.const 1.5)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i64.add (local.get $acc)\n"
    "      (i64.add (i64.extend_i32_u (i32.add (local.get $a) (local.get $b)))\n"
    "               (i64.trunc_f64_s (f64.add (local.get $x) (local.get $y))))))\n"
    "\n"
    "  (func (export \"branches\") (param $a i32) (param $b i64) (param $x f32) (param $y f64)\n"
    "                            (param $n i32) (result i64)\n"
    "    (local $acc i64) (local $i i32)\n"
    "    (loop $l\n"
    "      (block $b1 (result i32)\n"
    "        (br_if $b1 (local.get $a) (i32.and (local.get $i) (i32.const 1)))\n"
    "        drop\n"
    "        (i32.add (local.get $a) (i32.const 1000)))\n"
    "      i64.extend_i32_u\n"
    "      local.get $acc\n"
    "      i64.add\n"
    "      local.set $acc\n"
    "      (block $t0 (result f64)\n"
    "        (block $t1 (result f64)\n"
    "          (block $t2 (result f64)\n"
    "            local.get $y\n"
    "            (i32.rem_u (local.get $i) (i32.const 4))\n"
    "            br_table $t0 $t1 $t2)\n"
    "          f64.const 10\n"
    "          f64.add)\n"
    "        f64.const 100\n"
    "        f64.add)\n"
    "      i64.trunc_f64_s\n"
    "      local.get $acc\n"
    "      i64.add\n"
    "      local.set $acc\n"
    "      (block $m (result i64 f32)\n"
    "        local.get $b\n"
    "        local.get $x\n"
    "        (br_if $m (i32.eqz (i32.and (local.get $i) (i32.const 2))))\n"
    "        drop\n"
    "        drop\n"
    "        i64.const 7\n"
    "        f32.const 0.5)\n"
    "      i64.trunc_f32_s\n"
    "      i64.add\n"
    "      local.get $acc\n"
    "      i64.add\n"
    "      local.set $acc\n"
    "      (local.set $a (i32.add (local.get $a) (i32.const 3)))\n"
    "      (local.set $b (i64.sub (local.get $b) (i64.const 1)))\n"
    "      (local.set $x (f32.add (local.get $x) (f32.const 0.5)))\n"
    "      (local.set $y (f64.add (local.get $y) (f64.const 0.75)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    local.get $acc)\n"
    "\n"
    /* Loop parameters (v, k): the old $acc, read before $acc is written, is
     * the next v. */
    "  (func (export \"loop_params\") (param $n i32) (param $x i64) (result i64 i32 i64)\n"
    "    (local $acc i64) (local $t i64)\n"
    "    (local.get $x)\n"
    "    (local.get $n)\n"
    "    (loop $l (param i64 i32) (result i64 i32 i64)\n"
    "      local.set $n\n"
    "      local.set $t\n"
    "      local.get $acc\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "                               (i64.mul (local.get $t) (i64.extend_i32_u (local.get $n)))))\n"
    "      (i32.sub (local.get $n) (i32.const 1))\n"
    "      (br_if $l (i32.gt_u (local.get $n) (i32.const 1)))\n"
    "      local.get $acc))\n"
    ")\n";

static uint64_t reinterpret_ref(uint32_t f, uint64_t d, uint32_t i, uint64_t l, int n)
{
    uint64_t acc = 0;
    do {
        acc = rotl64(acc, 5) + f;
        acc ^= d;
        uint32_t old_f = f;
        f = i, i = old_f;
        uint64_t old_d = d;
        d = l, l = old_d;
        i += 0x101;
        l += 0x10001;
    } while (--n);
    return acc + ((uint64_t)(uint32_t)(i + f) + (l ^ d));
}

static uint64_t select_ref(uint32_t a, uint32_t b, double x, double y, uint32_t n)
{
    uint64_t acc = 0;
    uint32_t i = 0;
    do {
        acc = acc * 3 + ((i & 1) ? a : b);
        acc += (uint64_t)(int64_t)(i < 3 ? x : y);
        uint32_t old_a = a;
        a = (i & 2) ? b : a;
        b = old_a + 1;
        x = (i & 1) == 0 ? y : x;
        y += 1.5;
        i++;
    } while (i < n);
    return acc + ((uint64_t)(a + b) + (uint64_t)(int64_t)(x + y));
}

static uint64_t branches_ref(uint32_t a, int64_t b, float x, double y, uint32_t n)
{
    uint64_t acc = 0;
    uint32_t i = 0;
    do {
        acc += (i & 1) ? a : a + 1000;
        double t = y;
        if (i % 4 >= 2)
            t += 10;
        if (i % 4 >= 1)
            t += 100;
        acc += (uint64_t)(int64_t)t;
        int64_t m = (i & 2) ? 7 : b;
        float mx = (i & 2) ? 0.5f : x;
        acc += (uint64_t)(m + (int64_t)mx);
        a += 3, b -= 1, x += 0.5f, y += 0.75, i++;
    } while (i < n);
    return acc;
}

static void loop_params_ref(uint32_t n, uint64_t x, wj_val out[3])
{
    uint64_t v = x, acc = 0;
    uint32_t k = n;
    for (;;) {
        uint32_t nn = k;
        uint64_t t = v, v2 = acc;
        acc += t * nn;
        uint32_t k2 = nn - 1;
        if (nn > 1) {
            v = v2, k = k2;
            continue;
        }
        out[0] = v_u64(v2), out[1] = v_u32(k2), out[2] = v_u64(acc);
        return;
    }
}

START_TEST(reinterpret_pinned)
{
    fixture fx;
    fx_open(&fx, misc_wat, "reinterpret");
    /* signalling NaNs, infinities, negative zero */
    static const struct {
        uint32_t f;
        uint64_t d;
        uint32_t i;
        uint64_t l;
        int n;
    } cases[] = {
        {0x7fa00001, 0x7ff4000000000001, 0xff800000, 0xfff0000000000001, 9},
        {0x80000000, 0x8000000000000000, 0x7f800000, 0x7ff0000000000000, 4},
        {0x3fc00000, 0x4059200000000000, 0xffc12345, 0x7ff8dead0000beef, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        EXPECT(&fx, "reinterpret",
               VALS(v_u64(reinterpret_ref(cases[k].f, cases[k].d, cases[k].i, cases[k].l,
                                          cases[k].n))),
               VALS(v_f32(bits_f32(cases[k].f)), v_f64(bits_f64(cases[k].d)), v_u32(cases[k].i),
                    v_u64(cases[k].l), v_i32(cases[k].n)));
    fx_close(&fx);
}
END_TEST

START_TEST(select_pinned)
{
    fixture fx;
    fx_open(&fx, misc_wat, "select");
    EXPECT(&fx, "select", VALS(v_u64(select_ref(11, 22, 2.5, -7.25, 9))),
           VALS(v_i32(11), v_i32(22), v_f64(2.5), v_f64(-7.25), v_i32(9)));
    EXPECT(&fx, "select", VALS(v_u64(select_ref(0xfffffff0, 5, -1.75, 40.5, 1))),
           VALS(v_u32(0xfffffff0), v_i32(5), v_f64(-1.75), v_f64(40.5), v_i32(1)));
    /* by hand, one round (i = 0): acc = 0 * 3 + b = 5; acc += trunc(x) = 5 - 1 = 4;
     * a stays, b = a + 1 = 0xfffffff1; x = y = 40.5; y = 42;
     * 4 + (0xfffffff0 + 0xfffffff1 mod 2^32 = 0xffffffe1) + trunc(82.5) */
    ck_assert_uint_eq(select_ref(0xfffffff0, 5, -1.75, 40.5, 1), 4 + 0xffffffe1ull + 82);
    fx_close(&fx);
}
END_TEST

/* select with constants in every operand: a constant condition, constant
 * values with a variable condition (tier 2 once loaded both into one
 * scratch register and chose wrongly: a fuzzer's reduction). */
static const char select_consts_wat[] =
    "(module\n"
    "  (func (export \"k\") (result i32)\n"
    "    (select (i32.const 0) (i32.const 210) (i32.const 0)))\n"
    "  (func (export \"c\") (param i32) (result i32)\n"
    "    (select (i32.const 7) (i32.const 210) (local.get 0)))\n"
    "  (func (export \"f\") (param i32) (result f64)\n"
    "    (select (f64.const 1.5) (f64.const -2.25) (local.get 0)))\n"
    "  (func (export \"fk\") (result f64)\n"
    "    (select (f64.const 1.5) (f64.const -2.25) (i32.const 1))))\n";

START_TEST(select_constants)
{
    fixture fx;
    fx_open(&fx, select_consts_wat, "select constants");
    expect_(__LINE__, &fx, "k", VALS(v_i32(210)), NULL, 0);
    EXPECT(&fx, "c", VALS(v_i32(210)), VALS(v_i32(0)));
    EXPECT(&fx, "c", VALS(v_i32(7)), VALS(v_i32(-3)));
    EXPECT(&fx, "f", VALS(v_f64(-2.25)), VALS(v_i32(0)));
    EXPECT(&fx, "f", VALS(v_f64(1.5)), VALS(v_i32(1)));
    expect_(__LINE__, &fx, "fk", VALS(v_f64(1.5)), NULL, 0);
    fx_close(&fx);
}
END_TEST

/* Locals rotated through a loop: each phi of the header takes another
 * phi's value on the back edge (tier 2 once lost such operands from its
 * liveness, and reused their registers before the phis' moves). */
static const char rotate_wat[] =
    "(module\n"
    "  (func (export \"rotate\") (param $n i32) (result i32)\n"
    "    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $s i32)\n"
    "    (local.set $a (i32.const 1)) (local.set $b (i32.const 2))\n"
    "    (local.set $c (i32.const 3)) (local.set $d (i32.const 4))\n"
    "    (loop $l\n"
    "      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 7)) (local.get $a)))\n"
    "      (local.get $a)\n"
    "      (local.set $a (local.get $b))\n"
    "      (local.set $b (local.get $c))\n"
    "      (local.set $c (local.get $d))\n"
    "      (local.set $d)\n"
    "      (local.set $s (i32.xor (local.get $s) (i32.mul (local.get $b) (local.get $c))))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (i32.add (local.get $s) (i32.add (i32.mul (local.get $a) (i32.const 1000))\n"
    "      (i32.add (i32.mul (local.get $b) (i32.const 100))\n"
    "        (i32.add (i32.mul (local.get $c) (i32.const 10)) (local.get $d)))))))\n";

static uint32_t rotate_ref(uint32_t n)
{
    uint32_t a = 1, b = 2, c = 3, d = 4, s = 0;
    do {
        s = s * 7 + a;
        uint32_t t = a;
        a = b, b = c, c = d, d = t;
        s ^= b * c;
    } while (--n);
    return s + a * 1000 + b * 100 + c * 10 + d;
}

START_TEST(rotated_locals)
{
    fixture fx;
    fx_open(&fx, rotate_wat, "rotate");
    for (uint32_t n = 1; n <= 9; n++)
        EXPECT(&fx, "rotate", VALS(v_u32(rotate_ref(n))), VALS(v_u32(n)));
    fx_close(&fx);
}
END_TEST

/* memory.copy and memory.fill with operands computed into the registers
 * that are also the libcall's argument registers (tier 2 once overwrote
 * a length in r8 with the source: a fuzzer's reduction). */
static const char bulk_regs_wat[] =
    "(module\n"
    "  (memory 1)\n"
    "  (global $n (mut i32) (i32.const 2147483647))\n"
    "  (global $m (mut i32) (i32.const 4))\n"
    "  (func (export \"copy\") (param $big i32) (result i32)\n"
    "    (i32.store (i32.const 8) (i32.const 0x11223344))\n"
    "    (memory.copy (i32.and (i32.const 0) (i32.const 15))\n"
    "                 (i32.and (i32.const -904) (i32.const 15))\n"
    "                 (select (global.get $n) (global.get $m) (local.get $big)))\n"
    "    (i32.load (i32.const 0)))\n"
    "  (func (export \"fill\") (param $big i32) (result i32)\n"
    "    (memory.fill (i32.and (i32.const 17) (i32.const 31))\n"
    "                 (i32.add (global.get $m) (i32.const 0x40))\n"
    "                 (select (global.get $n) (global.get $m) (local.get $big)))\n"
    "    (i32.load (i32.const 17))))\n";

START_TEST(bulk_operands_in_argument_registers)
{
    fixture fx;
    fx_open(&fx, bulk_regs_wat, "bulk");
    EXPECT(&fx, "copy", VALS(v_i32(0x11223344)), VALS(v_i32(0)));
    EXPECT(&fx, "fill", VALS(v_i32(0x44444444)), VALS(v_i32(0)));
    EXPECT_TRAP(&fx, "copy", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_i32(1)));
    EXPECT_TRAP(&fx, "fill", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_i32(1)));
    fx_close(&fx);
}
END_TEST

/* Addresses that constant folding computes (tier 2) out of the range a
 * displacement can reach: the access must still trap, and an in-bounds
 * one read the right bytes. */
static const char folded_wat[] =
    "(module (memory 1) (data (i32.const 22) \"\\07\\00\\00\\00\")\n"
    "  (func (export \"out\") (result i32)\n"
    "    (i32.load offset=22 (i32.and (i32.const -16) (i32.const -15))))\n"
    "  (func (export \"in\") (result i32)\n"
    "    (i32.load offset=22 (i32.and (i32.const 0) (i32.const -15)))))\n";

START_TEST(folded_constant_addresses)
{
    fixture fx;
    fx_open(&fx, folded_wat, "folded");
    expect_trap_(__LINE__, &fx, "out", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                 "out of bounds memory access", NULL, 0);
    expect_(__LINE__, &fx, "in", VALS(v_i32(7)), NULL, 0); /* the word at 22 */
    fx_close(&fx);
}
END_TEST

START_TEST(branches_carry_pinned)
{
    fixture fx;
    fx_open(&fx, misc_wat, "branches");
    EXPECT(&fx, "branches", VALS(v_u64(branches_ref(5, 1000, 1.5f, 2.25, 12))),
           VALS(v_i32(5), v_i64(1000), v_f32(1.5f), v_f64(2.25), v_i32(12)));
    /* by hand, one round (i = 0): (a + 1000) + trunc(y) + (b + trunc(x)) */
    EXPECT(&fx, "branches", VALS(v_i64(1005 + 2 + 1001)),
           VALS(v_i32(5), v_i64(1000), v_f32(1.5f), v_f64(2.25), v_i32(1)));
    EXPECT(&fx, "branches", VALS(v_u64(branches_ref(0xffffffff, -3, -8.5f, 77.5, 9))),
           VALS(v_u32(0xffffffff), v_i64(-3), v_f32(-8.5f), v_f64(77.5), v_i32(9)));
    fx_close(&fx);
}
END_TEST

START_TEST(loop_block_params)
{
    fixture fx;
    fx_open(&fx, misc_wat, "loop_params");
    wj_val want[3];
    /* by hand, n = 3, x = 5: (5, 3) -> acc 15, (0, 2) -> acc 15, (15, 1) -> acc 30,
     * results (v2 = 15, k2 = 0, acc = 30) */
    loop_params_ref(3, 5, want);
    ck_assert(same_val(want[0], v_i64(15)) && same_val(want[1], v_i32(0)) &&
              same_val(want[2], v_i64(30)));
    EXPECT(&fx, "loop_params", VALS(want[0], want[1], want[2]), VALS(v_i32(3), v_i64(5)));
    loop_params_ref(1, 9, want);
    EXPECT(&fx, "loop_params", VALS(want[0], want[1], want[2]), VALS(v_i32(1), v_i64(9)));
    loop_params_ref(20, 0x123456789, want);
    EXPECT(&fx, "loop_params", VALS(want[0], want[1], want[2]),
           VALS(v_i32(20), v_i64(0x123456789)));
    fx_close(&fx);
}
END_TEST

/* ==== 5. a trap in a loop, then normal calls ========================================== */

static const char trap_wat[] =
    "(module\n"
    "  (memory 1)\n"
    /* reads the i32 at a; the byte at a + 4 too, to trap past the end */
    "  (func $peek (param $a i32) (result i32)\n"
    "    (i32.add (i32.load (local.get $a))\n"
    "             (i32.mul (i32.load8_u offset=4 (local.get $a)) (i32.const 0))))\n"
    "  (func (export \"div_loop\") (param $n i32) (param $d i32) (param $x f64) (param $y i64)\n"
    "                            (result i64)\n"
    "    (local $i i32) (local $acc i64) (local $f f64) (local $g f32)\n"
    "    (loop $l\n"
    "      (local.set $f (f64.add (local.get $f) (local.get $x)))\n"
    "      (local.set $g (f32.sub (local.get $g) (f32.const 0.5)))\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "        (i64.extend_i32_s (i32.div_s (i32.const 1000)\n"
    "                                     (i32.sub (local.get $d) (local.get $i))))))\n"
    "      (local.set $y (i64.add (local.get $y) (i64.const 3)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i64.add (i64.add (local.get $acc) (local.get $y))\n"
    "             (i64.add (i64.trunc_f64_s (local.get $f)) (i64.trunc_f32_s (local.get $g)))))\n"
    "  (func (export \"oob_loop\") (param $n i32) (param $step i32) (result i64)\n"
    "    (local $i i32) (local $acc i64) (local $f f64) (local $a i32)\n"
    "    (loop $l\n"
    "      (local.set $f (f64.add (local.get $f) (f64.const 0.25)))\n"
    "      (local.set $a (i32.mul (local.get $i) (local.get $step)))\n"
    "      (i32.store (local.get $a) (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1)))\n"
    "      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $peek (local.get $a)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $f)))))\n";

static int64_t div_loop_ref(uint32_t n, int32_t d, double x, int64_t y)
{
    int64_t acc = 0;
    double f = 0;
    float g = 0;
    uint32_t i = 0;
    do {
        f += x;
        g -= 0.5f;
        acc += 1000 / (d - (int32_t)i);
        y += 3;
        i++;
    } while (i < n);
    return acc + y + ((int64_t)f + (int64_t)g);
}

static int64_t oob_loop_ref(uint32_t n)
{
    int64_t acc = 0;
    double f = 0;
    uint32_t i = 0;
    do {
        f += 0.25;
        acc += 3 * i + 1;
        i++;
    } while (i < n);
    return acc + (int64_t)f;
}

START_TEST(trap_in_loop_then_call)
{
    fixture fx;
    fx_open(&fx, trap_wat, "traps");
    /* by hand: 1000/100 + 1000/99 + 1000/98 = 10 + 10 + 10; y = 7 + 9; f = 4.5; g = -1.5 */
    ck_assert_int_eq(div_loop_ref(3, 100, 1.5, 7), 30 + 16 + 4 - 1);
    EXPECT(&fx, "div_loop", VALS(v_i64(div_loop_ref(3, 100, 1.5, 7))),
           VALS(v_i32(3), v_i32(100), v_f64(1.5), v_i64(7)));
    for (int round = 0; round < 3; round++) {
        /* d - i reaches 0 at i = 4 */
        EXPECT_TRAP(&fx, "div_loop", 1, WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero",
                    VALS(v_i32(10), v_i32(4), v_f64(1.5), v_i64(7)));
        EXPECT(&fx, "div_loop", VALS(v_i64(div_loop_ref(10, 100, 2.25, -50))),
               VALS(v_i32(10), v_i32(100), v_f64(2.25), v_i64(-50)));
        /* the store at 8 * 8192 = 65536 traps in the loop itself */
        uint32_t loop_fn = EXPECT_TRAP(&fx, "oob_loop", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                                       "out of bounds memory access", VALS(v_i32(10), v_i32(8192)));
        EXPECT(&fx, "oob_loop", VALS(v_i64(oob_loop_ref(8))), VALS(v_i32(8), v_i32(8192)));
        /* the store at 4 * 16383 = 65532 fits; $peek's byte at 65536 traps */
        uint32_t peek_fn = EXPECT_TRAP(&fx, "oob_loop", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                                       "out of bounds memory access", VALS(v_i32(10), v_i32(16383)));
        ck_assert_uint_eq(peek_fn, 0);
        ck_assert_uint_eq(loop_fn, 2);
        EXPECT(&fx, "oob_loop", VALS(v_i64(oob_loop_ref(4))), VALS(v_i32(4), v_i32(16383)));
        EXPECT(&fx, "div_loop", VALS(v_i64(div_loop_ref(7, -3, 0.5, 1))),
               VALS(v_i32(7), v_i32(-3), v_f64(0.5), v_i64(1)));
    }
    fx_close(&fx);
}
END_TEST

/* ==== 6. many parameters ============================================================== */

/* 13 parameters (8 GPR, of which 6 get pinned, and 6 xmm), all used in the
 * loop; "many_caller" passes its own pinned locals to it. */
static const char many_wat[] =
    "(module\n"
    "  (func $many (export \"many\")\n"
    "    (param $a0 i32) (param $a1 i64) (param $a2 f32) (param $a3 f64)\n"
    "    (param $a4 i32) (param $a5 i64) (param $a6 f32) (param $a7 f64)\n"
    "    (param $a8 i32) (param $a9 i64) (param $a10 f32) (param $a11 f64)\n"
    "    (param $n i32) (result i64 f64)\n"
    "    (local $acc i64) (local $facc f64)\n"
    "    (loop $l\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "        (i64.add (i64.add (i64.extend_i32_s (local.get $a0)) (local.get $a1))\n"
    "                 (i64.add (i64.add (i64.extend_i32_u (local.get $a4)) (local.get $a5))\n"
    "                          (i64.add (i64.extend_i32_s (local.get $a8)) (local.get $a9))))))\n"
    "      (local.set $facc (f64.add (local.get $facc)\n"
    "        (f64.add (f64.add (f64.promote_f32 (local.get $a2)) (local.get $a3))\n"
    "                 (f64.add (f64.add (f64.promote_f32 (local.get $a6)) (local.get $a7))\n"
    "                          (f64.add (f64.promote_f32 (local.get $a10)) (local.get $a11))))))\n"
    "      (local.set $a0 (i32.sub (local.get $a0) (i32.const 7)))\n"
    "      (local.set $a5 (i64.xor (local.get $a5) (local.get $acc)))\n"
    "      (local.set $a6 (f32.add (local.get $a6) (f32.const 0.25)))\n"
    "      (local.set $a11 (f64.sub (local.get $a11) (f64.const 1.5)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (local.get $acc)\n"
    "    (local.get $facc))\n"
    "  (func (export \"many_caller\") (param $k i32) (result i64 f64)\n"
    "    (local $acc i64) (local $facc f64) (local $i i32) (local $j i64) (local $s f32)\n"
    "    (local $d f64)\n"
    "    (loop $l\n"
    "      (call $many (local.get $i) (local.get $j) (local.get $s) (local.get $d)\n"
    "                  (local.get $k) (i64.const -5) (f32.const 2.5) (local.get $d)\n"
    "                  (i32.const -9) (local.get $j) (local.get $s) (f64.const 0.125)\n"
    "                  (i32.const 3))\n"
    "      local.get $facc\n"
    "      f64.add\n"
    "      local.set $facc\n"
    "      local.get $acc\n"
    "      i64.add\n"
    "      local.set $acc\n"
    "      (local.set $j (i64.add (local.get $j) (i64.const 1000)))\n"
    "      (local.set $s (f32.add (local.get $s) (f32.const 0.5)))\n"
    "      (local.set $d (f64.sub (local.get $d) (f64.const 0.25)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
    "                          (local.get $k))))\n"
    "    (local.get $acc)\n"
    "    (local.get $facc)))\n";

typedef struct many_args {
    int32_t a0;
    int64_t a1;
    float a2;
    double a3;
    uint32_t a4;
    int64_t a5;
    float a6;
    double a7;
    int32_t a8;
    int64_t a9;
    float a10;
    double a11;
    int32_t n;
} many_args;

static void many_ref(many_args m, uint64_t *acc_out, double *facc_out)
{
    uint64_t acc = 0;
    double facc = 0;
    do {
        acc += ((uint64_t)(int64_t)m.a0 + (uint64_t)m.a1) +
               (((uint64_t)m.a4 + (uint64_t)m.a5) + ((uint64_t)(int64_t)m.a8 + (uint64_t)m.a9));
        facc += ((double)m.a2 + m.a3) + (((double)m.a6 + m.a7) + ((double)m.a10 + m.a11));
        m.a0 = (int32_t)((uint32_t)m.a0 - 7);
        m.a5 = (int64_t)((uint64_t)m.a5 ^ acc);
        m.a6 += 0.25f;
        m.a11 -= 1.5;
    } while (--m.n);
    *acc_out = acc;
    *facc_out = facc;
}

static wj_val many_vals[13];
static const wj_val *many_to_vals(const many_args *m)
{
    wj_val *v = many_vals;
    v[0] = v_i32(m->a0), v[1] = v_i64(m->a1), v[2] = v_f32(m->a2), v[3] = v_f64(m->a3);
    v[4] = v_u32(m->a4), v[5] = v_i64(m->a5), v[6] = v_f32(m->a6), v[7] = v_f64(m->a7);
    v[8] = v_i32(m->a8), v[9] = v_i64(m->a9), v[10] = v_f32(m->a10), v[11] = v_f64(m->a11);
    v[12] = v_i32(m->n);
    return v;
}

START_TEST(many_params)
{
    fixture fx;
    fx_open(&fx, many_wat, "many");
    static const many_args cases[] = {
        {-7, 1000000000000, 1.5f, -2.25, 0xfffffffe, 77, 0.75f, 1024.5, INT32_MIN, -9, -3.5f,
         6.125, 11},
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1},
    };
    /* by hand, the second case: acc = 1 + 2 + 5 + 6 + 9 + 10,
     * facc = 3 + 4 + 7 + 8 + 11 + 12 */
    uint64_t acc;
    double facc;
    many_ref(cases[1], &acc, &facc);
    ck_assert(acc == 33 && facc == 45);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        many_ref(cases[k], &acc, &facc);
        expect_(__LINE__, &fx, "many", VALS(v_u64(acc), v_f64(facc)), many_to_vals(&cases[k]),
                13);
    }
    fx_close(&fx);
}
END_TEST

START_TEST(many_params_from_wasm)
{
    fixture fx;
    fx_open(&fx, many_wat, "many_caller");
    for (int32_t k = 1; k <= 5; k += 4) {
        uint64_t acc = 0, a;
        double facc = 0, f;
        int64_t j = 0;
        float s = 0;
        double d = 0;
        for (int32_t i = 0; i < k; i++) {
            many_args m = {i, j, s, d, (uint32_t)k, -5, 2.5f, d, -9, j, s, 0.125, 3};
            many_ref(m, &a, &f);
            facc = f + facc;
            acc = a + acc;
            j += 1000, s += 0.5f, d -= 0.25;
        }
        EXPECT(&fx, "many_caller", VALS(v_u64(acc), v_f64(facc)), VALS(v_i32(k)));
    }
    fx_close(&fx);
}
END_TEST

/* ==== 7. operators updating a pinned local in place ================================== */

/* `x = x op b` compiles to `op x, b` on x's register (the local.set taken
 * with the operator), `x + b` into another local to `lea`; "update" mixes
 * both with an older read of x still on the stack, a tee and `x + x`;
 * the int ops, every operator that updates in place, with a variable
 * count in rcx; "addr" uses wrapping 32-bit sums as addresses and stores
 * pinned locals. Loops make the locals heavy enough to be pinned. */
static const char update_wat[] =
    "(module\n"
    "  (func (export \"update\") (param $x @T) (param $n i32) (result @T @T)\n"
    "    (local $y @T)\n"
    "    (loop $l\n"
    "      (local.set $x (@T.add (local.get $x) (@T.const 3)))\n"
    "      (local.set $x (@T.mul (local.get $x) (@T.const 2)))\n"
    "      (local.set $x (@T.sub (local.get $x) (local.get $y)))\n"
    "      (local.set $y (@T.add (local.get $y) (local.get $x)))\n"
    "      (local.set $x (@T.add (local.get $x) (local.get $x)))\n"
    "      local.get $y\n"
    "      local.get $x\n"
    "      (local.tee $x (@T.sub (local.get $x) (@T.const 1)))\n"
    "      @T.sub\n"
    "      @T.add\n"
    "      local.set $y\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    local.get $x\n"
    "    (@T.add (local.get $y) (local.get $x))))\n";

static void update_ref(double *x, double *y, int n)
{
    do {
        *x = (*x + 3) * 2 - *y;
        *y += *x;
        *x += *x;
        double old = *x;
        *x -= 1;
        *y += old - *x;
    } while (--n);
    *y += *x;
}

START_TEST(update_in_place)
{
    const numtype *t = &numtypes[_i];
    fixture fx;
    open_typed(&fx, update_wat, t);
    for (int n = 1; n <= 5; n += 2) {
        double x = 1, y = 0;
        update_ref(&x, &y, n);
        EXPECT(&fx, "update", VALS(typed(t, x), typed(t, y)), VALS(typed(t, 1), v_i32(n)));
    }
    fx_close(&fx);
}
END_TEST

static const char intops_wat[] =
    "(module\n"
    "  (func (export \"intops\") (param $x @T) (param $s @T) (param $n i32) (result @T)\n"
    "    (local $a @T)\n"
    "    (loop $l\n"
    "      (local.set $x (@T.and (local.get $x) (@T.const 0x7ffffff7)))\n"
    "      (local.set $x (@T.or (local.get $x) (@T.const 0x100)))\n"
    "      (local.set $x (@T.xor (local.get $x) (local.get $s)))\n"
    "      (local.set $x (@T.shl (local.get $x) (@T.const 3)))\n"
    "      (local.set $x (@T.shr_u (local.get $x) (local.get $s)))\n"
    "      (local.set $x (@T.rotl (local.get $x) (@T.const 5)))\n"
    "      (local.set $x (@T.shr_s (local.get $x) (@T.const 1)))\n"
    "      (local.set $x (@T.rotr (local.get $x) (local.get $s)))\n"
    "      (local.set $x (@T.mul (local.get $x) (local.get $s)))\n"
    "      (local.set $x (@T.sub (local.get $x) (@T.const -7)))\n"
    "      (local.set $a (@T.add (local.get $a) (local.get $x)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    local.get $a))\n";

/* The same in `bits`-bit unsigned arithmetic. */
static uint64_t intops_ref(uint64_t x, uint64_t s, int n, int bits)
{
    uint64_t mask = bits == 32 ? 0xffffffffu : UINT64_MAX, a = 0;
    unsigned c = (unsigned)(s & (uint64_t)(bits - 1));
    do {
        x &= 0x7ffffff7;
        x |= 0x100;
        x ^= s;
        x = (x << 3) & mask;
        x >>= c;
        x = ((x << 5) | (x >> (bits - 5))) & mask;
        uint64_t sign = x >> (bits - 1);
        x = (x >> 1) | (sign << (bits - 1));
        if (c)
            x = ((x >> c) | (x << (bits - c))) & mask;
        x = (x * s) & mask;
        x = (x + 7) & mask;
        a = (a + x) & mask;
    } while (--n);
    return a;
}

START_TEST(int_ops_in_place)
{
    const numtype *t = &numtypes[_i];
    int bits = _i == 0 ? 32 : 64;
    fixture fx;
    open_typed(&fx, intops_wat, t);
    static const uint64_t xs[] = {0x12345678, 0xfedcba98, 1};
    static const uint64_t ss[] = {3, 0x25, 0xffffffffffffffe1};
    for (int i = 0; i < 3; i++) {
        uint64_t x = xs[i], sh = ss[i] & (bits == 32 ? 0xffffffffu : UINT64_MAX);
        uint64_t want = intops_ref(x, sh, 7, bits);
        wj_val vx = bits == 32 ? v_u32((uint32_t)x) : v_u64(x);
        wj_val vs = bits == 32 ? v_u32((uint32_t)sh) : v_u64(sh);
        wj_val vw = bits == 32 ? v_u32((uint32_t)want) : v_u64(want);
        EXPECT(&fx, "intops", VALS(vw), VALS(vx, vs, v_i32(7)));
    }
    fx_close(&fx);
}
END_TEST

static const char addr_wat[] =
    "(module\n"
    "  (memory 1)\n"
    "  (data (i32.const 16) \"\\01\\00\\00\\00\\02\\00\\00\\00\")\n"
    "  (func (export \"addr\") (param $x i32) (param $y i32) (param $d f64) (param $k i64)\n"
    "                        (result i32 f64 i64)\n"
    "    (local $i i32) (local $acc i32)\n"
    "    (loop $l\n"
    "      (local.set $acc (i32.add (local.get $acc)\n"
    "                               (i32.load (i32.add (local.get $x) (i32.const 0x20)))))\n"
    "      (local.set $acc (i32.add (local.get $acc)\n"
    "                               (i32.load (i32.add (local.get $x) (local.get $y)))))\n"
    "      (f64.store (i32.const 64) (local.get $d))\n"
    "      (i64.store (i32.const 72) (local.get $k))\n"
    "      (local.set $d (f64.add (local.get $d) (f64.const 0.5)))\n"
    "      (local.set $k (i64.add (local.get $k) (i64.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
    "                          (i32.const 3))))\n"
    "    local.get $acc\n"
    "    (f64.load (i32.const 64))\n"
    "    (i64.load (i32.const 72))))\n";

START_TEST(wrapping_addresses_and_pinned_stores)
{
    fixture fx;
    fx_open(&fx, addr_wat, "addr");
    /* 0xfffffff0 + 0x20 and + 0x24 wrap to 16 and 20: 3 * (1 + 2) */
    EXPECT(&fx, "addr", VALS(v_i32(9), v_f64(2.0), v_i64(-1)),
           VALS(v_u32(0xfffffff0), v_i32(0x24), v_f64(1.0), v_i64(-3)));
    fx_close(&fx);
}
END_TEST

/* ==== 8. locals zeroed only where a read may come before a write ===================== */

/* The prologue zeroes only the declared locals that some read may reach
 * before any write (pin.c's definite-assignment scan). Every export first
 * calls $dirty, whose frame (the same rbp: both are called from the same
 * place) fills the first DIRTY_UNITS units below the vmctx with garbage and
 * which leaves garbage in every pin register (rbx r12 r13 rsi rdi r8 r9 r10
 * and xmm5-14 hold its hot locals), so a local that should have been
 * zeroed and was not reads garbage. */
#define DIRTY_UNITS 20010

/* $dirty's text: DIRTY_UNITS i64 locals set to garbage once, then 8 i64 and
 * 10 v128 locals set in a loop nest (the heaviest: pinned, r9 and r10
 * included). */
static char *dirty_func(void)
{
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    fprintf(out, "  (func $dirty");
    for (int i = 0; i < DIRTY_UNITS + 8; i++)
        fprintf(out, " (local i64)");
    for (int i = 0; i < 10; i++)
        fprintf(out, " (local v128)");
    fprintf(out, "\n");
    for (int i = 0; i < DIRTY_UNITS + 18; i++) {
        if (i == DIRTY_UNITS)
            fprintf(out, "    (loop $l (loop $m\n");
        fprintf(out, i < DIRTY_UNITS + 8 ? "    (local.set %d (i64.const 0x5a5a5a5a5a5a5a5a))\n"
                                         : "    (local.set %d (v128.const i64x2 0x5a5a5a5a5a5a5a5a "
                                           "0x5a5a5a5a5a5a5a5a))\n",
                i);
    }
    fprintf(out, "    )))\n");
    ck_assert_int_eq(fclose(out), 0);
    return text;
}

/* `wat` with @DIRTY replaced by $dirty and @T by `type`. */
static void open_dirty(fixture *fx, const char *wat, const char *type)
{
    char *dirty = dirty_func();
    char *with_dirty = replace_all(wat, "@DIRTY", dirty);
    char *text = replace_all(with_dirty, "@T", type);
    fx_open(fx, text, type);
    free(text);
    free(with_dirty);
    free(dirty);
}

/* Each function of type @T reads one local $x at a point where only some
 * paths (or the first loop iteration) have set it: 0 on the others. */
static const char zero_wat[] =
    "(module\n"
    "@DIRTY"
    /* set in the then arm only: 7 or 0 */
    "  (func $arm (param $c i32) (result @T) (local $x @T)\n"
    "    (if (local.get $c) (then (local.set $x (@T.const 7))))\n"
    "    (local.get $x))\n"
    /* set in the else arm only: 0 or 9 */
    "  (func $arm_else (param $c i32) (result @T) (local $x @T)\n"
    "    (if (local.get $c) (then) (else (local.set $x (@T.const 9))))\n"
    "    (local.get $x))\n"
    /* set in the then arm, read in the else arm: 1 or 0 */
    "  (func $then_else (param $c i32) (result @T) (local $x @T)\n"
    "    (if (result @T) (local.get $c)\n"
    "      (then (local.set $x (@T.const 1)) (local.get $x))\n"
    "      (else (local.get $x))))\n"
    /* set after a br_if out of the block: 0 or 3 */
    "  (func $br_out (param $c i32) (result @T) (local $x @T)\n"
    "    (block (br_if 0 (local.get $c)) (local.set $x (@T.const 3)))\n"
    "    (local.get $x))\n"
    /* read in a branch before the set: 0 or 5 */
    "  (func $early (param $c i32) (result @T) (local $x @T)\n"
    "    (if (local.get $c) (then (return (local.get $x))))\n"
    "    (local.set $x (@T.const 5))\n"
    "    (local.get $x))\n"
    /* set in an outer and an inner block, read in between and after:
     * c = 0: 0; 1: (2 + 2) + 4; 2: (2 + 2) + 0 */
    "  (func $nested (param $c i32) (result @T) (local $x @T) (local $y @T)\n"
    "    (block\n"
    "      (br_if 0 (i32.eqz (local.get $c)))\n"
    "      (local.set $x (@T.const 2))\n"
    "      (block (br_if 0 (i32.eq (local.get $c) (i32.const 2)))\n"
    "        (local.set $y (@T.const 4)))\n"
    "      (local.set $x (@T.add (local.get $x) (local.get $x))))\n"
    "    (@T.add (local.get $x) (local.get $y)))\n"
    /* twelve locals read at the top of the loop and set below: the first
     * iteration adds 0s; iteration k adds p0..p11 = (k - 1) + 0..11. The
     * GPR or xmm class has more hot locals than pin registers. */
    "  (func $loop (param $n i32) (result @T)\n"
    "    (local $i i32) (local $x @T) (local $sum @T)\n"
    "    (local $p0 @T) (local $p1 @T) (local $p2 @T) (local $p3 @T) (local $p4 @T)\n"
    "    (local $p5 @T) (local $p6 @T) (local $p7 @T) (local $p8 @T) (local $p9 @T)\n"
    "    (local $p10 @T) (local $p11 @T)\n"
    "    (loop $l\n"
    "      (local.set $sum (@T.add (local.get $sum) (@T.add (@T.add (@T.add (local.get $p0)\n"
    "        (local.get $p1)) (@T.add (local.get $p2) (local.get $p3))) (@T.add (@T.add\n"
    "        (local.get $p4) (local.get $p5)) (@T.add (local.get $p6) (local.get $p7))))))\n"
    "      (local.set $sum (@T.add (local.get $sum) (@T.add (@T.add (local.get $p8)\n"
    "        (local.get $p9)) (@T.add (local.get $p10) (local.get $p11)))))\n"
    "      (local.set $p0 (local.get $x))\n"
    "      (local.set $p1 (@T.add (local.get $x) (@T.const 1)))\n"
    "      (local.set $p2 (@T.add (local.get $x) (@T.const 2)))\n"
    "      (local.set $p3 (@T.add (local.get $x) (@T.const 3)))\n"
    "      (local.set $p4 (@T.add (local.get $x) (@T.const 4)))\n"
    "      (local.set $p5 (@T.add (local.get $x) (@T.const 5)))\n"
    "      (local.set $p6 (@T.add (local.get $x) (@T.const 6)))\n"
    "      (local.set $p7 (@T.add (local.get $x) (@T.const 7)))\n"
    "      (local.set $p8 (@T.add (local.get $x) (@T.const 8)))\n"
    "      (local.set $p9 (@T.add (local.get $x) (@T.const 9)))\n"
    "      (local.set $p10 (@T.add (local.get $x) (@T.const 10)))\n"
    "      (local.set $p11 (@T.add (local.get $x) (@T.const 11)))\n"
    "      (local.set $x (@T.add (local.get $x) (@T.const 1)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (local.get $sum))\n"
    /* $x, never written, pinned: reloaded from its home after each call */
    "  (func $id (param i32) (result i32) (local.get 0))\n"
    "  (func $unwritten (param $n i32) (result @T) (local $i i32) (local $x @T) (local $sum @T)\n"
    "    (loop $l\n"
    "      (local.set $sum (@T.add (@T.add (local.get $sum) (local.get $x)) (@T.const 1)))\n"
    "      (local.set $i (call $id (i32.add (local.get $i) (i32.const 1))))\n"
    "      (local.set $sum (@T.add (@T.add (local.get $sum) (local.get $x)) (@T.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (@T.add (local.get $sum) (local.get $x)))\n"
    "  (func (export \"arm\") (param i32) (result @T) (call $dirty) (call $arm (local.get 0)))\n"
    "  (func (export \"unwritten\") (param i32) (result @T)\n"
    "    (call $dirty) (call $unwritten (local.get 0)))\n"
    "  (func (export \"arm_else\") (param i32) (result @T)\n"
    "    (call $dirty) (call $arm_else (local.get 0)))\n"
    "  (func (export \"then_else\") (param i32) (result @T)\n"
    "    (call $dirty) (call $then_else (local.get 0)))\n"
    "  (func (export \"br_out\") (param i32) (result @T) (call $dirty) (call $br_out (local.get 0)))\n"
    "  (func (export \"early\") (param i32) (result @T) (call $dirty) (call $early (local.get 0)))\n"
    "  (func (export \"nested\") (param i32) (result @T) (call $dirty) (call $nested (local.get 0)))\n"
    "  (func (export \"loop\") (param i32) (result @T) (call $dirty) (call $loop (local.get 0))))\n";

static double zero_loop_ref(int n)
{
    double sum = 0;
    for (int k = 1; k < n; k++)
        sum += 12 * (k - 1) + 66;
    return sum;
}

START_TEST(zeroed_locals_typed)
{
    const numtype *t = &numtypes[_i];
    fixture fx;
    open_dirty(&fx, zero_wat, t->name);
    static const struct {
        const char *name;
        double when0, when1;
    } cases[] = {{"arm", 0, 7}, {"arm_else", 9, 0}, {"then_else", 0, 1},
                 {"br_out", 3, 0}, {"early", 5, 0}, {"nested", 0, 8}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        expect_(__LINE__, &fx, cases[k].name, VALS(typed(t, cases[k].when0)), VALS(v_i32(0)));
        expect_(__LINE__, &fx, cases[k].name, VALS(typed(t, cases[k].when1)), VALS(v_i32(1)));
    }
    EXPECT(&fx, "nested", VALS(typed(t, 4)), VALS(v_i32(2)));
    /* by hand: iteration 1 adds 0 + 1 + ... + 11 = 66, iteration 2 adds 78 */
    ck_assert(zero_loop_ref(3) == 144);
    for (int n = 1; n <= 4; n++)
        EXPECT(&fx, "loop", VALS(typed(t, zero_loop_ref(n))), VALS(v_i32(n)));
    EXPECT(&fx, "unwritten", VALS(typed(t, 6)), VALS(v_i32(3)));
    fx_close(&fx);
}
END_TEST

/* v128 locals (16 bytes to zero): set in one arm, and twelve read at the
 * top of a loop (10 pinned, 2 in memory); results are lane 0 + 3 * lane 1
 * of i64x2 views, so both halves count. */
static const char zero_v128_wat[] =
    "(module\n"
    "@DIRTY"
    "  (func $lanes (param $v v128) (result i64)\n"
    "    (i64.add (i64x2.extract_lane 0 (local.get $v))\n"
    "             (i64.mul (i64x2.extract_lane 1 (local.get $v)) (i64.const 3))))\n"
    "  (func $arm (param $c i32) (result i64) (local $x v128)\n"
    "    (if (local.get $c) (then (local.set $x (v128.const i64x2 7 5))))\n"
    "    (call $lanes (local.get $x)))\n"
    "  (func $loop (param $n i32) (result i64)\n"
    "    (local $i i32) (local $x v128) (local $sum v128)\n"
    "    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128) (local $p4 v128)\n"
    "    (local $p5 v128) (local $p6 v128) (local $p7 v128) (local $p8 v128) (local $p9 v128)\n"
    "    (local $p10 v128) (local $p11 v128)\n"
    "    (loop $l\n"
    "      (local.set $sum (i64x2.add (local.get $sum) (i64x2.add (i64x2.add (i64x2.add\n"
    "        (local.get $p0) (local.get $p1)) (i64x2.add (local.get $p2) (local.get $p3)))\n"
    "        (i64x2.add (i64x2.add (local.get $p4) (local.get $p5)) (i64x2.add (local.get $p6)\n"
    "        (local.get $p7))))))\n"
    "      (local.set $sum (i64x2.add (local.get $sum) (i64x2.add (i64x2.add (local.get $p8)\n"
    "        (local.get $p9)) (i64x2.add (local.get $p10) (local.get $p11)))))\n"
    "      (local.set $p0 (local.get $x))\n"
    "      (local.set $p1 (i64x2.add (local.get $x) (v128.const i64x2 1 1)))\n"
    "      (local.set $p2 (i64x2.add (local.get $x) (v128.const i64x2 2 2)))\n"
    "      (local.set $p3 (i64x2.add (local.get $x) (v128.const i64x2 3 3)))\n"
    "      (local.set $p4 (i64x2.add (local.get $x) (v128.const i64x2 4 4)))\n"
    "      (local.set $p5 (i64x2.add (local.get $x) (v128.const i64x2 5 5)))\n"
    "      (local.set $p6 (i64x2.add (local.get $x) (v128.const i64x2 6 6)))\n"
    "      (local.set $p7 (i64x2.add (local.get $x) (v128.const i64x2 7 7)))\n"
    "      (local.set $p8 (i64x2.add (local.get $x) (v128.const i64x2 8 8)))\n"
    "      (local.set $p9 (i64x2.add (local.get $x) (v128.const i64x2 9 9)))\n"
    "      (local.set $p10 (i64x2.add (local.get $x) (v128.const i64x2 10 10)))\n"
    "      (local.set $p11 (i64x2.add (local.get $x) (v128.const i64x2 11 11)))\n"
    "      (local.set $x (i64x2.add (local.get $x) (v128.const i64x2 1 1)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (call $lanes (local.get $sum)))\n"
    "  (func (export \"arm\") (param i32) (result i64) (call $dirty) (call $arm (local.get 0)))\n"
    "  (func (export \"loop\") (param i32) (result i64) (call $dirty) (call $loop (local.get 0))))\n";

START_TEST(zeroed_locals_v128)
{
    fixture fx;
    open_dirty(&fx, zero_v128_wat, "v128");
    EXPECT(&fx, "arm", VALS(v_i64(0)), VALS(v_i32(0)));
    EXPECT(&fx, "arm", VALS(v_i64(7 + 3 * 5)), VALS(v_i32(1)));
    for (int n = 1; n <= 4; n++)
        EXPECT(&fx, "loop", VALS(v_i64(4 * (int64_t)zero_loop_ref(n))), VALS(v_i32(n)));
    fx_close(&fx);
}
END_TEST

/* A function of `count` declared locals of `type`, of which those at
 * `unset` (indices, ascending) are read before any write: the result is
 * the sum of all locals, with local i set to i + 1 before the reads unless
 * it is in `unset`. An f64 $w and a v128 $v (read unset: 2 more units to
 * zero) sit in the middle. */
static char *locals_func(const char *name, int count, const char *type, const int *unset,
                         int nunset)
{
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    fprintf(out, "  (func $%s (result i64) (local $w f64)", name);
    for (int i = 0; i < count; i++)
        fprintf(out, i == count / 2 ? " (local $v v128) (local %s)" : " (local %s)", type);
    fprintf(out, "\n    (local.set $w (f64.const 0.5))\n");
    /* locals are numbered after $w (0), and $v sits before local count/2 */
    for (int i = 0, u = 0; i < count; i++) {
        if (u < nunset && unset[u] == i)
            u++;
        else
            fprintf(out, "    (local.set %d (%s.const %d))\n", 1 + i + (i >= count / 2), type,
                    i + 1);
    }
    fprintf(out, "    (i64.add (i64x2.extract_lane 0 (local.get $v))"
                 " (i64x2.extract_lane 1 (local.get $v)))\n"
                 "    (i64.trunc_f64_s (local.get $w)) (i64.add)\n");
    for (int i = 0; i < count; i++)
        fprintf(out, "    (local.get %d)%s (i64.add)\n", 1 + i + (i >= count / 2),
                strcmp(type, "i32") ? "" : " (i64.extend_i32_u)");
    fprintf(out, "  )\n  (func (export \"%s\") (result i64) (call $dirty) (call $%s))\n", name,
            name);
    ck_assert_int_eq(fclose(out), 0);
    return text;
}

/* The sum locals_func's function returns. */
static int64_t locals_sum(int count, const int *unset, int nunset)
{
    int64_t sum = 0;
    for (int i = 0, u = 0; i < count; i++) {
        if (u < nunset && unset[u] == i)
            u++;
        else
            sum += i + 1;
    }
    return sum;
}

/* Hundreds and thousands of locals: a few read unset (zeroed with a store
 * each, some at 32-bit displacements), many (zeroed with rep stosq over
 * their span: the first and the last local are among them). */
START_TEST(zeroed_locals_many)
{
    static const int few[] = {0, 1, 150, 299};
    static const int many[] = {0, 3, 5, 7, 10, 20, 30, 40, 50, 60, 70, 80, 90,
                               100, 120, 140, 160, 180, 200, 299};
    static const int huge[] = {0, 1, 2, 9999, 10000, 19997, 19998};
    char *fns[] = {locals_func("few", 300, "i32", few, 4),
                   locals_func("many", 300, "i64", many, 20),
                   locals_func("huge", 19999, "i64", huge, 7)};
    char *body = malloc(strlen(fns[0]) + strlen(fns[1]) + strlen(fns[2]) + 64);
    ck_assert_ptr_nonnull(body);
    sprintf(body, "(module\n@DIRTY%s%s%s)\n", fns[0], fns[1], fns[2]);
    fixture fx;
    open_dirty(&fx, body, "many");
    expect_(__LINE__, &fx, "few", VALS(v_i64(locals_sum(300, few, 4))), NULL, 0);
    expect_(__LINE__, &fx, "many", VALS(v_i64(locals_sum(300, many, 20))), NULL, 0);
    expect_(__LINE__, &fx, "huge", VALS(v_i64(locals_sum(19999, huge, 7))), NULL, 0);
    fx_close(&fx);
    for (int i = 0; i < 3; i++)
        free(fns[i]);
    free(body);
}
END_TEST

/* ==== 9. more pinned GPRs where loops use more locals ================================ */

/* The recurrences below use eight i32 locals plus a counter and a bound in
 * one loop (six pins, and r9 r10 taken from the operand stack's pool), and
 * "nine" ten f64 locals as well (every xmm pin). "nine_calls" calls a wasm
 * function that writes its own pins and the host (which scrambles r9 and
 * r10 too) in the outer loop; "nine_divshift" divides and shifts by
 * variable amounts (rax, rcx and rdx, what is left of the pool) and builds
 * an expression deep enough to spill. */
#define NINE_STEP                                                                          \
    "      (local.set $a (i32.add (local.get $a) (local.get $i)))\n"                       \
    "      (local.set $b (i32.xor (local.get $b) (i32.mul (local.get $a) (i32.const 3))))\n" \
    "      (local.set $c (i32.add (local.get $c) (i32.shr_u (local.get $b) (i32.const 1))))\n" \
    "      (local.set $d (i32.add (i32.sub (local.get $d) (local.get $c)) (local.get $a)))\n" \
    "      (local.set $e (i32.add (local.get $e)\n"                                        \
    "        (i32.mul (i32.or (local.get $d) (i32.const 1)) (local.get $b))))\n"           \
    "      (local.set $g (i32.sub (i32.add (local.get $g) (local.get $e)) (local.get $d)))\n" \
    "      (local.set $h (i32.xor (local.get $h) (i32.add (local.get $g) (local.get $c))))\n" \
    "      (local.set $k (i32.add (local.get $k) (i32.mul (local.get $h) (i32.const 7))))\n"

#define NINE_RESULT                                                                        \
    "    (i32.add (i32.xor (i32.xor (local.get $a) (i32.rotl (local.get $b) (i32.const 3)))\n" \
    "                      (i32.xor (i32.rotl (local.get $c) (i32.const 7))\n"             \
    "                               (i32.rotl (local.get $d) (i32.const 11))))\n"          \
    "             (i32.xor (i32.xor (i32.rotl (local.get $e) (i32.const 13))\n"            \
    "                               (i32.rotl (local.get $g) (i32.const 17)))\n"           \
    "                      (i32.xor (i32.rotl (local.get $h) (i32.const 19))\n"            \
    "                               (i32.rotl (local.get $k) (i32.const 23)))))\n"

#define NINE_LOCALS                                                                        \
    "    (local $i i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)\n"     \
    "    (local $e i32) (local $g i32) (local $h i32) (local $k i32)\n"

static const char extra_wat[] =
    "(module\n"
    "  (import \"env\" \"host\" (func $host (param i32 f64) (result i32 f64)))\n"
    "  (func $nine (export \"nine\") (param $n i32) (result i32)\n"
    NINE_LOCALS
    "    (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64) (local $x4 f64)\n"
    "    (local $x5 f64) (local $x6 f64) (local $x7 f64) (local $x8 f64) (local $x9 f64)\n"
    "    (loop $l\n"
    NINE_STEP
    "      (local.set $x0 (f64.add (local.get $x0) (f64.const 0.5)))\n"
    "      (local.set $x1 (f64.add (local.get $x1) (local.get $x0)))\n"
    "      (local.set $x2 (f64.add (local.get $x2) (local.get $x1)))\n"
    "      (local.set $x3 (f64.sub (local.get $x3) (local.get $x2)))\n"
    "      (local.set $x4 (f64.add (local.get $x4) (local.get $x3)))\n"
    "      (local.set $x5 (f64.add (local.get $x5) (local.get $x0)))\n"
    "      (local.set $x6 (f64.sub (local.get $x6) (local.get $x5)))\n"
    "      (local.set $x7 (f64.add (local.get $x7) (local.get $x6)))\n"
    "      (local.set $x8 (f64.add (local.get $x8) (local.get $x7)))\n"
    "      (local.set $x9 (f64.sub (local.get $x9) (local.get $x8)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i32.add\n"
    NINE_RESULT
    "      (i32.trunc_sat_f64_s (f64.add (f64.add (f64.add (local.get $x4) (local.get $x9))\n"
    "                                         (f64.add (local.get $x2) (local.get $x7)))\n"
    "                                (f64.add (local.get $x3) (local.get $x8))))))\n"
    "  (func (export \"nine_calls\") (param $n i32) (param $m i32) (result i32)\n"
    NINE_LOCALS
    "    (local $j i32)\n"
    "    (loop $outer\n"
    "      (local.set $a (i32.add (local.get $a) (call $nine (i32.const 3))))\n"
    "      (local.get $j) (f64.const 0.5) (call $host) (drop)\n"
    "      (local.set $b (i32.add (local.get $b)))\n"
    "      (local.set $i (i32.const 0))\n"
    "      (loop $l\n"
    NINE_STEP
    "        (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "        (br_if $l (i32.lt_u (local.get $i) (local.get $m))))\n"
    "      (local.set $j (i32.add (local.get $j) (i32.const 1)))\n"
    "      (br_if $outer (i32.lt_u (local.get $j) (local.get $n))))\n"
    NINE_RESULT
    "  )\n"
    "  (func (export \"nine_divshift\") (param $n i32) (result i32)\n"
    NINE_LOCALS
    "    (loop $l\n"
    "      (local.set $a (i32.add (local.get $a) (i32.add (local.get $i) (i32.const 0x9e3779b9))))\n"
    "      (local.set $b (i32.xor (local.get $b) (i32.shl (local.get $a) (local.get $i))))\n"
    "      (local.set $c (i32.add (local.get $c) (i32.shr_u (local.get $b) (local.get $a))))\n"
    "      (local.set $d (i32.add (local.get $d)\n"
    "        (i32.div_u (local.get $c) (i32.add (i32.and (local.get $a) (i32.const 255))\n"
    "                                           (i32.const 1)))))\n"
    "      (local.set $e (i32.xor (local.get $e)\n"
    "        (i32.rem_u (local.get $d) (i32.add (i32.and (local.get $b) (i32.const 127))\n"
    "                                           (i32.const 3)))))\n"
    "      (local.set $g (i32.add (local.get $g)\n"
    "        (i32.div_s (i32.sub (local.get $e) (local.get $c))\n"
    "                   (i32.or (i32.and (local.get $h) (i32.const 255)) (i32.const 1)))))\n"
    "      (local.set $h (i32.add (local.get $h)\n"
    "        (i32.rem_s (local.get $g) (i32.add (i32.and (local.get $c) (i32.const 63))\n"
    "                                          (i32.const 1)))))\n"
    /* four products live at once, then a division: more than rax rcx rdx */
    "      (local.set $k (i32.add (local.get $k)\n"
    "        (i32.add (i32.mul (local.get $a) (local.get $b))\n"
    "          (i32.add (i32.mul (local.get $c) (local.get $d))\n"
    "            (i32.add (i32.mul (local.get $e) (local.get $g))\n"
    "              (i32.div_u (i32.mul (local.get $h) (local.get $k))\n"
    "                         (i32.rotl (i32.add (local.get $i) (i32.const 1))\n"
    "                                   (local.get $e))))))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    NINE_RESULT
    "  )\n"
    /* every register of the pool holding a value (rax rcx rdx, with r9 r10
     * if they are not pinned) when a division needs rax and rdx */
    "  (func (export \"div_pressure\") (param $n i32) (result i32)\n"
    NINE_LOCALS
    "    (loop $l\n"
    NINE_STEP
    "      (local.set $k (i32.add (i32.mul (local.get $a) (local.get $b))\n"
    "        (i32.add (i32.mul (local.get $c) (local.get $d))\n"
    "          (i32.add (i32.mul (local.get $e) (local.get $g))\n"
    "            (i32.add (i32.mul (local.get $h) (local.get $i))\n"
    "              (i32.add (i32.mul (local.get $a) (local.get $c))\n"
    "                (i32.div_u (local.get $h) (local.get $n))))))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    NINE_RESULT
    "  ))\n";

typedef struct nine {
    uint32_t i, a, b, c, d, e, g, h, k;
} nine;

static uint32_t rotl32(uint32_t v, unsigned n)
{
    n &= 31;
    return n ? v << n | v >> (32 - n) : v;
}

static void nine_step(nine *s)
{
    s->a += s->i;
    s->b ^= s->a * 3;
    s->c += s->b >> 1;
    s->d = s->d - s->c + s->a;
    s->e += (s->d | 1) * s->b;
    s->g = s->g + s->e - s->d;
    s->h ^= s->g + s->c;
    s->k += s->h * 7;
}

static uint32_t nine_result(const nine *s)
{
    return (s->a ^ rotl32(s->b, 3) ^ rotl32(s->c, 7) ^ rotl32(s->d, 11)) +
           (rotl32(s->e, 13) ^ rotl32(s->g, 17) ^ rotl32(s->h, 19) ^ rotl32(s->k, 23));
}

static uint32_t nine_ref(uint32_t n)
{
    nine s = {0};
    double x[10] = {0};
    do {
        nine_step(&s);
        x[0] += 0.5, x[1] += x[0], x[2] += x[1], x[3] -= x[2], x[4] += x[3];
        x[5] += x[0], x[6] -= x[5], x[7] += x[6], x[8] += x[7], x[9] -= x[8];
        s.i++;
    } while (s.i < n);
    return nine_result(&s) + (uint32_t)trunc_sat_i32(((x[4] + x[9]) + (x[2] + x[7])) + (x[3] + x[8]));
}

static uint32_t nine_calls_ref(uint32_t n, uint32_t m)
{
    nine s = {0};
    uint32_t j = 0;
    do {
        s.a += nine_ref(3);
        s.b += host_ref(j);
        s.i = 0;
        do {
            nine_step(&s);
            s.i++;
        } while (s.i < m);
        j++;
    } while (j < n);
    return nine_result(&s);
}

static uint32_t div_pressure_ref(uint32_t n)
{
    nine s = {0};
    do {
        nine_step(&s);
        s.k = s.a * s.b + (s.c * s.d + (s.e * s.g + (s.h * s.i + (s.a * s.c + s.h / n))));
        s.i++;
    } while (s.i < n);
    return nine_result(&s);
}

static uint32_t nine_divshift_ref(uint32_t n)
{
    nine s = {0};
    do {
        s.a += s.i + 0x9e3779b9u;
        s.b ^= s.a << (s.i & 31);
        s.c += s.b >> (s.a & 31);
        s.d += s.c / ((s.a & 255) + 1);
        s.e ^= s.d % ((s.b & 127) + 3);
        s.g += (uint32_t)((int32_t)(s.e - s.c) / (int32_t)((s.h & 255) | 1));
        s.h += (uint32_t)((int32_t)s.g % (int32_t)((s.c & 63) + 1));
        s.k += s.a * s.b + (s.c * s.d + (s.e * s.g + s.h * s.k / rotl32(s.i + 1, s.e)));
        s.i++;
    } while (s.i < n);
    return nine_result(&s);
}

START_TEST(extra_pins)
{
    fixture fx;
    fx_open(&fx, extra_wat, "extra");
    /* by hand, one step: a..k stay 0 (i = 0); x0..x9 = 0.5 0.5 0.5 -0.5 -0.5
     * 0.5 -0.5 -0.5 -0.5 0.5, so (x4 + x9) + (x2 + x7) + (x3 + x8) = -1 */
    ck_assert_uint_eq(nine_ref(1), UINT32_MAX);
    for (uint32_t n = 1; n <= 1000; n *= 10)
        EXPECT(&fx, "nine", VALS(v_u32(nine_ref(n))), VALS(v_u32(n)));
    EXPECT(&fx, "nine_calls", VALS(v_u32(nine_calls_ref(5, 7))), VALS(v_u32(5), v_u32(7)));
    ck_assert_int_eq(fx.host_calls, 5);
    for (uint32_t n = 1; n <= 1000; n *= 10)
        EXPECT(&fx, "nine_divshift", VALS(v_u32(nine_divshift_ref(n))), VALS(v_u32(n)));
    for (uint32_t n = 1; n <= 1000; n *= 10)
        EXPECT(&fx, "div_pressure", VALS(v_u32(div_pressure_ref(n))), VALS(v_u32(n)));
    fx_close(&fx);
}
END_TEST

/* ==== 10. tier 2: jump threading, rcx and rdx, read-modify-write ===================== */

/* The memory layouts the tests below run under, for failure messages. */
static const char *const memory_kind_names[] = {"static memory", "dynamic memory", "memory64"};

/* A state machine over the bytes of a string, as CoreMark's
 * core_state_transition: a switch (br_table) in a loop on a state that
 * each case sets to a constant (tier 2 threads the jumps: a case goes
 * straight to the next one), some cases sharing code ($invalid) or staying
 * in their state. visits[state] += 1 at 1024 (i32) and tokens[state] += 1
 * at 1056 (i64) are read-modify-writes. The result hashes the final state,
 * the counters and the last byte read (a value of every copy of the loop
 * header, merged after the loop).
 * States: 0 start, 1 sign, 2 integer, 3 float, 4 invalid; a ',' ends a token.
 * "flag" (x, p) is |x| * 3 + 1, and stores |x| * 3 to p when x < 0: the
 * branch on the flag is threaded, the product merged after it. */
static const char scan_wat[] =
    "(module\n"
    "  (memory 1)\n"
    "  (data (i32.const 0) \"123,-4.5,+.7,abc,9x,,42,.,-,3.14159,+,7\")\n"
    "  (func $digit (param $c i32) (result i32)\n"
    "    (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))\n"
    "  (func (export \"scan\") (param $p i32) (param $n i32) (result i32)\n"
    "    (local $i i32) (local $state i32) (local $c i32) (local $h i32) (local $k i32)\n"
    "    (memory.fill (i32.const 1024) (i32.const 0) (i32.const 80))\n"
    "    (block $done\n"
    "      (loop $l\n"
    "        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))\n"
    "        (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "        (i32.store offset=1024 (i32.shl (local.get $state) (i32.const 2))\n"
    "          (i32.add (i32.load offset=1024 (i32.shl (local.get $state) (i32.const 2)))\n"
    "                   (i32.const 1)))\n"
    "        (block $invalid (block $float (block $int (block $sign (block $start\n"
    "          (br_table $start $sign $int $float $invalid (local.get $state)))\n"
    "          (if (call $digit (local.get $c)) (then (local.set $state (i32.const 2)) (br $l)))\n"
    "          (if (i32.eq (local.get $c) (i32.const 46))\n"
    "            (then (local.set $state (i32.const 3)) (br $l)))\n"
    "          (if (i32.or (i32.eq (local.get $c) (i32.const 43))\n"
    "                      (i32.eq (local.get $c) (i32.const 45)))\n"
    "            (then (local.set $state (i32.const 1)) (br $l)))\n"
    "          (br_if $l (i32.eq (local.get $c) (i32.const 44)))\n"
    "          (local.set $state (i32.const 4))\n"
    "          (br $l))\n"
    "          (if (call $digit (local.get $c)) (then (local.set $state (i32.const 2)) (br $l)))\n"
    "          (if (i32.eq (local.get $c) (i32.const 46))\n"
    "            (then (local.set $state (i32.const 3)) (br $l)))\n"
    "          (local.set $state (i32.const 4))\n"
    "          (br $l))\n"
    "          (br_if $l (call $digit (local.get $c)))\n"
    "          (if (i32.eq (local.get $c) (i32.const 46))\n"
    "            (then (local.set $state (i32.const 3)) (br $l)))\n"
    "          (br $invalid))\n"
    "        (br_if $l (call $digit (local.get $c)))\n"
    "        (br $invalid))\n"
    "      (if (i32.eq (local.get $c) (i32.const 44))\n"
    "        (then\n"
    "          (i64.store offset=1056 (i32.shl (local.get $state) (i32.const 3))\n"
    "            (i64.add (i64.load offset=1056 (i32.shl (local.get $state) (i32.const 3)))\n"
    "                     (i64.const 1)))\n"
    "          (local.set $state (i32.const 0))\n"
    "          (br $l)))\n"
    "      (local.set $state (i32.const 4))\n"
    "      (br $l)))\n"
    "    (local.set $h (local.get $state))\n"
    "    (loop $sum\n"
    "      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31))\n"
    "        (i32.load offset=1024 (i32.shl (local.get $k) (i32.const 2)))))\n"
    "      (local.set $h (i32.xor (i32.mul (local.get $h) (i32.const 31))\n"
    "        (i32.wrap_i64 (i64.load offset=1056 (i32.shl (local.get $k) (i32.const 3))))))\n"
    "      (br_if $sum (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))\n"
    "                            (i32.const 5))))\n"
    "    (i32.add (i32.mul (local.get $h) (i32.const 257)) (local.get $c)))\n"
    "  (func (export \"flag\") (param $x i32) (param $p i32) (result i32) (local $f i32)\n"
    "    (if (i32.lt_s (local.get $x) (i32.const 0))\n"
    "      (then (local.set $f (i32.const 1))\n"
    "            (local.set $x (i32.sub (i32.const 0) (local.get $x)))))\n"
    "    (local.set $x (i32.mul (local.get $x) (i32.const 3)))\n"
    "    (if (local.get $f) (then (i32.store (local.get $p) (local.get $x))))\n"
    "    (i32.add (local.get $x) (i32.const 1)))\n"
    "  (func (export \"peek\") (param $p i32) (result i32) (i32.load (local.get $p))))\n";

static const char scan_text[] = "123,-4.5,+.7,abc,9x,,42,.,-,3.14159,+,7";

/* What "scan" returns for its final state, counters and last byte. */
static uint32_t scan_hash(uint32_t state, const uint32_t *visits, const uint64_t *tokens,
                          uint32_t c)
{
    uint32_t h = state;
    for (int k = 0; k < 5; k++) {
        h = h * 31 + visits[k];
        h = h * 31 ^ (uint32_t)tokens[k];
    }
    return h * 257 + c;
}

static uint32_t scan_ref(uint32_t p, uint32_t n)
{
    uint32_t visits[5] = {0}, state = 0, c = 0;
    uint64_t tokens[5] = {0};
    for (uint32_t i = 0; i < n; i++) {
        c = (uint8_t)scan_text[p + i];
        bool digit = c - '0' < 10;
        visits[state]++;
        switch (state) {
        case 0:
            state = digit ? 2 : c == '.' ? 3 : c == '+' || c == '-' ? 1 : c == ',' ? 0 : 4;
            continue;
        case 1: state = digit ? 2 : c == '.' ? 3 : 4; continue;
        case 2:
            if (digit)
                continue;
            if (c == '.') {
                state = 3;
                continue;
            }
            break;
        case 3:
            if (digit)
                continue;
            break;
        }
        if (c == ',') { /* the end of an integer, a float or an invalid token */
            tokens[state]++;
            state = 0;
        } else {
            state = 4;
        }
    }
    return scan_hash(state, visits, tokens, c);
}

START_TEST(threaded_state_machine)
{
    fixture fx;
    fx_open_memory(&fx, scan_wat, memory_kind_names[_i], (memory_kind)_i);
    /* by hand: "12" visits start and integer once, ends in integer; "-4.5,"
     * visits start, sign, integer, float twice and ends a float token */
    ck_assert_uint_eq(scan_ref(0, 2), scan_hash(2, (const uint32_t[]){1, 0, 1, 0, 0},
                                                (const uint64_t[]){0, 0, 0, 0, 0}, '2'));
    ck_assert_uint_eq(scan_ref(4, 5), scan_hash(0, (const uint32_t[]){1, 1, 1, 2, 0},
                                                (const uint64_t[]){0, 0, 0, 1, 0}, ','));
    uint32_t len = (uint32_t)strlen(scan_text);
    static const uint32_t starts[] = {0, 3, 4, 9, 13, 17, 27};
    for (size_t s = 0; s < sizeof starts / sizeof *starts; s++)
        for (uint32_t n = 0; starts[s] + n <= len; n++)
            EXPECT(&fx, "scan", VALS(v_u32(scan_ref(starts[s], n))),
                   VALS(v_u32(starts[s]), v_u32(n)));
    EXPECT(&fx, "flag", VALS(v_i32(16)), VALS(v_i32(5), v_i32(2048)));
    EXPECT(&fx, "peek", VALS(v_i32(0)), VALS(v_i32(2048)));
    EXPECT(&fx, "flag", VALS(v_i32(16)), VALS(v_i32(-5), v_i32(2048)));
    EXPECT(&fx, "peek", VALS(v_i32(15)), VALS(v_i32(2048)));
    EXPECT(&fx, "flag", VALS(v_i32(1)), VALS(v_i32(0), v_i32(2048)));
    EXPECT(&fx, "flag", VALS(v_i32(-2147483647)), VALS(v_i32(INT32_MIN), v_i32(2052)));
    EXPECT(&fx, "peek", VALS(v_i32(INT32_MIN)), VALS(v_i32(2052)));
    EXPECT_TRAP(&fx, "flag", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_i32(-1), v_i32(65534)));
    fx_close(&fx);
}
END_TEST

/* Register pressure across the instructions that need rcx or rdx as
 * temporaries (shifts and rotates by a variable count, division, clz/ctz,
 * select, br_table): twelve i32 and four i64 values live across all of
 * them (tier 2 allocates rcx and rdx only to values whose lives hold none
 * of those). */
static const char press_wat[] =
    "(module\n"
    "  (func (export \"press\") (param $a i32) (param $b i32) (param $n i32) (result i64)\n"
    "    (local $i i32) (local $acc i64) (local $t i32) (local $u i64) (local $e i32)\n"
    "    (local $v0 i32) (local $v1 i32) (local $v2 i32) (local $v3 i32) (local $v4 i32)\n"
    "      (local $v5 i32)\n"
    "    (local $v6 i32) (local $v7 i32) (local $v8 i32) (local $v9 i32) (local $v10 i32)\n"
    "      (local $v11 i32)\n"
    "    (local $w0 i64) (local $w1 i64) (local $w2 i64) (local $w3 i64)\n"
    "    (loop $l\n"
    "      (local.set $v0 (i32.add (local.get $a) (local.get $i)))\n"
    "      (local.set $v1 (i32.xor (local.get $b) (i32.mul (local.get $i) (i32.const 7))))\n"
    "      (local.set $v2 (i32.add (i32.mul (local.get $v1) (i32.const 5)) (local.get $v0)))\n"
    "      (local.set $v3 (i32.add (i32.mul (local.get $v2) (i32.const 7)) (local.get $v1)))\n"
    "      (local.set $v4 (i32.add (i32.mul (local.get $v3) (i32.const 9)) (local.get $v2)))\n"
    "      (local.set $v5 (i32.add (i32.mul (local.get $v4) (i32.const 11)) (local.get $v3)))\n"
    "      (local.set $v6 (i32.add (i32.mul (local.get $v5) (i32.const 13)) (local.get $v4)))\n"
    "      (local.set $v7 (i32.add (i32.mul (local.get $v6) (i32.const 15)) (local.get $v5)))\n"
    "      (local.set $v8 (i32.add (i32.mul (local.get $v7) (i32.const 17)) (local.get $v6)))\n"
    "      (local.set $v9 (i32.add (i32.mul (local.get $v8) (i32.const 19)) (local.get $v7)))\n"
    "      (local.set $v10 (i32.add (i32.mul (local.get $v9) (i32.const 21)) (local.get $v8)))\n"
    "      (local.set $v11 (i32.add (i32.mul (local.get $v10) (i32.const 23)) (local.get $v9)))\n"
    "      (local.set $w0 (i64.mul (i64.extend_i32_u (local.get $v3))\n"
    "        (i64.const 0x9e3779b97f4a7c15)))\n"
    "      (local.set $w1 (i64.xor (local.get $w0) (i64.extend_i32_s (local.get $v5))))\n"
    "      (local.set $w2 (i64.add (i64.rotl (local.get $w1) (i64.const 17)) (i64.extend_i32_u\n"
    "        (local.get $v7))))\n"
    "      (local.set $w3 (i64.sub (local.get $w2) (i64.shl (i64.extend_i32_u (local.get $v9))\n"
    "        (i64.const 29))))\n"
    "      (local.set $t (i32.shl (local.get $v0) (local.get $v1)))\n"
    "      (local.set $t (i32.xor (local.get $t) (i32.shr_u (local.get $v2) (local.get $v3))))\n"
    "      (local.set $t (i32.xor (local.get $t) (i32.shr_s (local.get $v4) (local.get $v5))))\n"
    "      (local.set $t (i32.add (local.get $t) (i32.rotl (local.get $v6) (local.get $v7))))\n"
    "      (local.set $t (i32.xor (local.get $t) (i32.rotr (local.get $v8) (local.get $v9))))\n"
    "      (local.set $t (i32.add (local.get $t)\n"
    "        (i32.div_u (local.get $v10) (i32.or (local.get $v11) (i32.const 1)))))\n"
    "      (local.set $t (i32.add (local.get $t)\n"
    "        (i32.rem_s (local.get $v11) (i32.or (local.get $v0) (i32.const 1)))))\n"
    "      (local.set $t (i32.add (local.get $t) (i32.div_s (local.get $v2)\n"
    "        (i32.or (i32.and (local.get $v4) (i32.const 0x7fff)) (i32.const 1)))))\n"
    "      (local.set $t (i32.add (local.get $t) (i32.add (i32.clz (local.get $v1)) (i32.ctz\n"
    "        (local.get $v2)))))\n"
    "      (local.set $t (i32.add (local.get $t)\n"
    "        (select (local.get $v3) (local.get $v4) (i32.and (local.get $v5) (i32.const 1)))))\n"
    "      (local.set $u (i64.shl (local.get $w0) (i64.extend_i32_u (local.get $v6))))\n"
    "      (local.set $u (i64.xor (local.get $u) (i64.rotr (local.get $w1) (local.get $w2))))\n"
    "      (local.set $u (i64.add (local.get $u) (i64.shr_u (local.get $w3) (i64.extend_i32_u\n"
    "        (local.get $v8)))))\n"
    "      (local.set $u (i64.add (local.get $u) (i64.div_u (local.get $w3) (i64.or\n"
    "        (local.get $w0) (i64.const 1)))))\n"
    "      (local.set $u (i64.add (local.get $u)\n"
    "        (i64.rem_u (local.get $w2) (i64.or (i64.shr_u (local.get $w1) (i64.const 40))\n"
    "          (i64.const 1)))))\n"
    "      (local.set $u (i64.add (local.get $u) (i64.add (i64.clz (local.get $w3)) (i64.ctz\n"
    "        (local.get $w1)))))\n"
    "      (block $c3 (block $c2 (block $c1 (block $c0\n"
    "        (br_table $c0 $c1 $c2 $c3 (i32.and (local.get $i) (i32.const 3))))\n"
    "        (local.set $t (i32.add (local.get $t) (local.get $v10)))\n"
    "        (br $c3))\n"
    "        (local.set $t (i32.xor (local.get $t) (i32.shl (local.get $v11) (local.get $v0))))\n"
    "        (br $c3))\n"
    "        (local.set $u (i64.sub (local.get $u) (i64.extend_i32_u\n"
    "          (i32.div_u (local.get $v1) (i32.or (local.get $v9) (i32.const 1)))))))\n"
    "      (local.set $e (local.get $v0))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v1)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v2)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v3)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v4)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v5)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v6)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v7)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v8)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v9)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v10)))\n"
    "      (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v11)))\n"
    "      (local.set $t (i32.xor (local.get $t) (local.get $e)))\n"
    "      (local.set $u (i64.add (local.get $u)\n"
    "        (i64.xor (i64.xor (local.get $w0) (local.get $w1)) (i64.xor (local.get $w2)\n"
    "          (local.get $w3)))))\n"
    "      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))\n"
    "                               (i64.add (local.get $u) (i64.extend_i32_u (local.get $t)))))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
    "        (local.get $n))))\n"
    "    (local.get $acc)))\n";

static uint64_t rotr64_ref(uint64_t v, unsigned n)
{
    n &= 63;
    return n ? v >> n | v << (64 - n) : v;
}

static uint32_t clz32_ref(uint32_t v) { return v ? (uint32_t)__builtin_clz(v) : 32; }
static uint32_t ctz32_ref(uint32_t v) { return v ? (uint32_t)__builtin_ctz(v) : 32; }
static uint64_t clz64_ref(uint64_t v) { return v ? (uint64_t)__builtin_clzll(v) : 64; }
static uint64_t ctz64_ref(uint64_t v) { return v ? (uint64_t)__builtin_ctzll(v) : 64; }

static uint64_t press_ref(uint32_t a, uint32_t b, uint32_t n)
{
    uint64_t acc = 0;
    uint32_t i = 0;
    do {
        uint32_t v[12];
        v[0] = a + i;
        v[1] = b ^ i * 7;
        for (uint32_t k = 2; k < 12; k++)
            v[k] = v[k - 1] * (2 * k + 1) + v[k - 2];
        uint64_t w0 = v[3] * 0x9e3779b97f4a7c15u;
        uint64_t w1 = w0 ^ (uint64_t)(int64_t)(int32_t)v[5];
        uint64_t w2 = rotl64(w1, 17) + v[7];
        uint64_t w3 = w2 - ((uint64_t)v[9] << 29);
        uint32_t t = v[0] << (v[1] & 31);
        t ^= v[2] >> (v[3] & 31);
        t ^= (uint32_t)((int32_t)v[4] >> (v[5] & 31));
        t += rotl32(v[6], v[7]);
        t ^= rotl32(v[8], 32 - (v[9] & 31));
        t += v[10] / (v[11] | 1);
        int32_t d = (int32_t)(v[0] | 1);
        t += d == -1 ? 0 : (uint32_t)((int32_t)v[11] % d);
        t += (uint32_t)((int32_t)v[2] / (int32_t)((v[4] & 0x7fff) | 1));
        t += clz32_ref(v[1]) + ctz32_ref(v[2]);
        t += v[5] & 1 ? v[3] : v[4];
        uint64_t u = w0 << (v[6] & 63);
        u ^= rotr64_ref(w1, (unsigned)w2);
        u += w3 >> (v[8] & 63);
        u += w3 / (w0 | 1);
        u += w2 % (w1 >> 40 | 1);
        u += clz64_ref(w3) + ctz64_ref(w1);
        switch (i & 3) {
        case 0: t += v[10]; break;
        case 1: t ^= v[11] << (v[0] & 31); break;
        case 2: u -= v[1] / (v[9] | 1); break;
        }
        uint32_t e = v[0];
        for (int k = 1; k < 12; k++)
            e = e * 3 + v[k];
        t ^= e;
        u += (w0 ^ w1) ^ (w2 ^ w3);
        acc = acc * 31 + (u + t);
    } while (++i < n);
    return acc;
}

/* Between two checked accesses of a block (dynamic memory), temporaries
 * take rcx and rdx while eight loaded values and more hold the other
 * registers: the second access must load the memory's vm_memory into rdx
 * again rather than reuse what the first one left there. */
static const char gap_wat[] =
    "(module (memory 1)\n"
    "  (data (i32.const 64) \"\\01\\01\\01\\01\\02\\02\\02\\02\\03\\03\\03\\03\\04\\04\\04\\04\"\n"
    "    \"\\05\\05\\05\\05\\06\\06\\06\\06\\07\\07\\07\\07\\08\\08\\08\\08\"\n"
    "    \"\\09\\09\\09\\09\\0a\\0a\\0a\\0a\")\n"
    "  (func (export \"gap\") (param $p i32) (param $q i32) (result i32)\n"
    "    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32)\n"
    "    (local $f i32) (local $g i32) (local $h i32) (local $x i32) (local $t i32)\n"
    "    (local.set $a (i32.load offset=0 (local.get $p)))\n"
    "    (local.set $b (i32.load offset=4 (local.get $p)))\n"
    "    (local.set $c (i32.load offset=8 (local.get $p)))\n"
    "    (local.set $d (i32.load offset=12 (local.get $p)))\n"
    "    (local.set $e (i32.load offset=16 (local.get $p)))\n"
    "    (local.set $f (i32.load offset=20 (local.get $p)))\n"
    "    (local.set $g (i32.load offset=24 (local.get $p)))\n"
    "    (local.set $h (i32.load offset=28 (local.get $p)))\n"
    "    (local.set $x (i32.load offset=32 (local.get $p)))\n"
    "    (local.set $t (i32.mul\n"
    "      (i32.xor (i32.add (i32.mul (local.get $a) (local.get $q)) (local.get $b))\n"
    "               (i32.add (i32.mul (local.get $c) (local.get $q)) (local.get $d)))\n"
    "      (i32.xor (i32.add (i32.mul (local.get $e) (local.get $q)) (local.get $f))\n"
    "               (i32.add (i32.mul (local.get $g) (local.get $q)) (local.get $h)))))\n"
    "    (i32.add (i32.add (i32.add (i32.add (local.get $a) (local.get $b))\n"
    "                               (i32.add (local.get $c) (local.get $d)))\n"
    "                      (i32.add (i32.add (local.get $e) (local.get $f))\n"
    "                               (i32.add (local.get $g) (local.get $h))))\n"
    "             (i32.add (i32.add (local.get $x) (local.get $t))\n"
    "                      (i32.load offset=36 (local.get $p))))))\n";

/* "gap" at 64 + 4j with multiplier q; the word at 64 + 4k is k + 1 in each byte. */
static uint32_t gap_ref(uint32_t j, uint32_t q)
{
    uint32_t w[10], sum = 0;
    for (uint32_t k = 0; k < 10; k++)
        w[k] = j + k < 10 ? (j + k + 1) * 0x01010101u : 0;
    for (uint32_t k = 0; k < 10; k++)
        sum += w[k];
    return sum + ((w[0] * q + w[1]) ^ (w[2] * q + w[3])) * ((w[4] * q + w[5]) ^ (w[6] * q + w[7]));
}

START_TEST(pressure_on_rcx_and_rdx)
{
    fixture fx;
    fx_open_memory(&fx, press_wat, memory_kind_names[_i], (memory_kind)_i);
    static const uint32_t args[][3] = {{5, 7, 100},           {0xfffe1dc0u, 99999, 37},
                                       {0, 0, 1},             {0x80000000u, 0x7fffffffu, 64},
                                       {0xffffffffu, 1, 9},   {123456789, 987654321, 200}};
    for (size_t k = 0; k < sizeof args / sizeof *args; k++)
        EXPECT(&fx, "press", VALS(v_u64(press_ref(args[k][0], args[k][1], args[k][2]))),
               VALS(v_u32(args[k][0]), v_u32(args[k][1]), v_u32(args[k][2])));
    /* the C reference against what tier 1 computed once */
    ck_assert_uint_eq(press_ref(5, 7, 100), 6170564178490006039u);
    fx_close(&fx);
    fx_open_memory(&fx, gap_wat, memory_kind_names[_i], (memory_kind)_i);
    for (uint32_t j = 0; j < 4; j++)
        for (uint32_t q = 0; q < 40; q += 13)
            EXPECT(&fx, "gap", VALS(v_u32(gap_ref(j, q))), VALS(v_u32(64 + 4 * j), v_u32(q)));
    EXPECT_TRAP(&fx, "gap", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_u32(65536 - 36), v_u32(3)));
    fx_close(&fx);
}
END_TEST

/* Read-modify-write (tier 2 fuses a load, add/sub/and/or/xor on it and a
 * store back to the same address and offset into `op [m], b`): i32 and
 * i64, by an immediate, a wide constant or a register, the load first or
 * second; in a loop, whose constants tier 2 hoists so that the three are
 * consecutive. @A is the address type, @I the memory's index type. Slots
 * of i32 at p + 0..28, of i64 at p + 32..64, a histogram at p + 72..100,
 * i32 at p + 104 and 108. None of these fuse: x[6] has a second use (the
 * load), x[7] too (the sum), y - x[8] takes the load second, x[9] = x[8] + y
 * stores elsewhere. */
static const char rmw_wat[] =
    "(module\n"
    "  (memory @I 1)\n"
    "  (func (export \"rmw\") (param $p @A) (param $y i32) (param $n i32) (result i64)\n"
    "    (local $i i32) (local $m i32) (local $o i32) (local $s i32) (local $t i32)\n"
    "    (local $y64 i64) (local $m64 i64) (local $o64 i64) (local $j @A) (local $at @A)\n"
    "    (local $h i64) (local $k @A)\n"
    "    (local.set $y64 (i64.extend_i32_s (local.get $y)))\n"
    "    (i32.store offset=0 (local.get $p) (i32.const 1000))\n"
    "    (i32.store offset=4 (local.get $p) (local.get $y))\n"
    "    (i32.store offset=8 (local.get $p) (i32.const -1))\n"
    "    (i32.store offset=12 (local.get $p) (i32.const 0xf0))\n"
    "    (i32.store offset=16 (local.get $p) (i32.const 0x5555))\n"
    "    (i32.store offset=20 (local.get $p) (i32.const 7))\n"
    "    (i32.store offset=24 (local.get $p) (i32.const 3))\n"
    "    (i32.store offset=28 (local.get $p) (i32.const 11))\n"
    "    (i64.store offset=32 (local.get $p) (i64.const 0x123456789abcdef0))\n"
    "    (i64.store offset=40 (local.get $p) (local.get $y64))\n"
    "    (i64.store offset=48 (local.get $p) (i64.const -1))\n"
    "    (i64.store offset=56 (local.get $p) (i64.const 0))\n"
    "    (i64.store offset=64 (local.get $p) (i64.const 0x0f0f0f0f0f0f0f0f))\n"
    "    (i64.store offset=104 (local.get $p) (i64.const 5))\n"
    "    (memory.fill (@A.add (local.get $p) (@A.const 72)) (i32.const 0) (@A.const 32))\n"
    "    (loop $l\n"
    "      (local.set $m (i32.xor (i32.shl (i32.const 1) (local.get $i)) (i32.const -1)))\n"
    "      (local.set $o (i32.shl (local.get $i) (i32.const 8)))\n"
    "      (local.set $m64 (i64.xor (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $i)))\n"
    "                               (i64.const -1)))\n"
    "      (local.set $o64 (i64.shl (i64.extend_i32_u (local.get $i)) (i64.const 40)))\n"
    "      (i32.store offset=0 (local.get $p) (i32.add (i32.load offset=0 (local.get $p))\n"
    "        (i32.const 7)))\n"
    "      (i32.store offset=4 (local.get $p) (i32.sub (i32.load offset=4 (local.get $p))\n"
    "        (local.get $y)))\n"
    "      (i32.store offset=8 (local.get $p) (i32.and (i32.load offset=8 (local.get $p))\n"
    "        (local.get $m)))\n"
    "      (i32.store offset=12 (local.get $p) (i32.or (local.get $o) (i32.load offset=12\n"
    "        (local.get $p))))\n"
    "      (i32.store offset=16 (local.get $p) (i32.xor (i32.load offset=16 (local.get $p))\n"
    "        (local.get $y)))\n"
    "      (i32.store offset=20 (local.get $p) (i32.sub (i32.load offset=20 (local.get $p))\n"
    "        (i32.const -9)))\n"
    "      (i32.store offset=24 (local.get $p)\n"
    "        (i32.add (local.tee $t (i32.load offset=24 (local.get $p))) (local.get $y)))\n"
    "      (local.set $s (i32.add (local.get $s) (local.get $t)))\n"
    "      (i32.store offset=28 (local.get $p)\n"
    "        (local.tee $t (i32.xor (i32.load offset=28 (local.get $p)) (local.get $i))))\n"
    "      (local.set $s (i32.xor (local.get $s) (local.get $t)))\n"
    "      (i64.store offset=32 (local.get $p)\n"
    "        (i64.add (i64.load offset=32 (local.get $p)) (i64.const 0x100000001)))\n"
    "      (i64.store offset=40 (local.get $p) (i64.sub (i64.load offset=40 (local.get $p))\n"
    "        (i64.const 5)))\n"
    "      (i64.store offset=48 (local.get $p) (i64.and (local.get $m64) (i64.load offset=48\n"
    "        (local.get $p))))\n"
    "      (i64.store offset=56 (local.get $p) (i64.or (i64.load offset=56 (local.get $p))\n"
    "        (local.get $o64)))\n"
    "      (i64.store offset=64 (local.get $p) (i64.xor (i64.load offset=64 (local.get $p))\n"
    "        (local.get $y64)))\n"
    "      (local.set $at (@A.add (local.get $p) (local.get $j)))\n"
    "      (i32.store offset=72 (local.get $at)\n"
    "        (i32.add (i32.add (local.get $i) (i32.const 1)) (i32.load offset=72\n"
    "          (local.get $at))))\n"
    "      (i32.store offset=104 (local.get $p) (i32.sub (local.get $y) (i32.load offset=104\n"
    "        (local.get $p))))\n"
    "      (i32.store offset=108 (local.get $p) (i32.add (i32.load offset=104 (local.get $p))\n"
    "        (local.get $y)))\n"
    "      (local.set $j (@A.and (@A.add (local.get $j) (@A.const 12)) (@A.const 28)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
    "        (local.get $n))))\n"
    "    (local.set $h (i64.extend_i32_u (local.get $s)))\n"
    "    (loop $sum\n"
    "      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 31))\n"
    "        (i64.load32_u (@A.add (local.get $p) (local.get $k)))))\n"
    "      (br_if $sum (@A.lt_u (local.tee $k (@A.add (local.get $k) (@A.const 4)))\n"
    "        (@A.const 32))))\n"
    "    (loop $sum64\n"
    "      (local.set $h (i64.xor (i64.mul (local.get $h) (i64.const 31))\n"
    "        (i64.load (@A.add (local.get $p) (local.get $k)))))\n"
    "      (br_if $sum64 (@A.lt_u (local.tee $k (@A.add (local.get $k) (@A.const 8)))\n"
    "        (@A.const 72))))\n"
    "    (loop $hist\n"
    "      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 31))\n"
    "        (i64.load32_u (@A.add (local.get $p) (local.get $k)))))\n"
    "      (br_if $hist (@A.lt_u (local.tee $k (@A.add (local.get $k) (@A.const 4)))\n"
    "        (@A.const 112))))\n"
    "    (local.get $h))\n"
    /* the load of each in an if, not in the entry block; the fourth at p + 20
     * is the one to fault past the end */
    "  (func (export \"bump\") (param $p @A) (param $y i32)\n"
    "    (if (local.get $y) (then\n"
    "      (i32.store offset=0 (local.get $p) (i32.add (i32.load offset=0 (local.get $p))\n"
    "        (local.get $y)))\n"
    "      (i64.store offset=4 (local.get $p) (i64.add (i64.load offset=4 (local.get $p))\n"
    "        (i64.const 5)))\n"
    "      (i32.store offset=12 (local.get $p) (i32.sub (i32.load offset=12 (local.get $p))\n"
    "        (local.get $y)))\n"
    "      (i32.store offset=20 (local.get $p) (i32.xor (i32.load offset=20 (local.get $p))\n"
    "        (local.get $y))))))\n"
    "  (func (export \"peek32\") (param $p @A) (result i32) (i32.load (local.get $p)))\n"
    "  (func (export \"peek64\") (param $p @A) (result i64) (i64.load (local.get $p)))\n"
    "  (func (export \"peek16\") (param $p @A) (result i32) (i32.load16_u (local.get $p))))\n";

static uint64_t rmw_ref(uint32_t y, uint32_t n)
{
    uint32_t x[10] = {1000, y, 0xffffffffu, 0xf0, 0x5555, 7, 3, 11, 5, 0}, s = 0, hist[8] = {0};
    uint64_t y64 = (uint64_t)(int64_t)(int32_t)y;
    uint64_t w[5] = {0x123456789abcdef0u, y64, UINT64_MAX, 0, 0x0f0f0f0f0f0f0f0fu};
    uint32_t i = 0, j = 0;
    do {
        x[0] += 7;
        x[1] -= y;
        x[2] &= ~(1u << (i & 31));
        x[3] |= i << 8;
        x[4] ^= y;
        x[5] += 9;
        s += x[6];
        x[6] += y;
        x[7] ^= i;
        s ^= x[7];
        w[0] += 0x100000001u;
        w[1] -= 5;
        w[2] &= ~((uint64_t)1 << (i & 63));
        w[3] |= (uint64_t)i << 40;
        w[4] ^= y64;
        hist[j / 4] += i + 1;
        x[8] = y - x[8];
        x[9] = x[8] + y;
        j = (j + 12) & 28;
    } while (++i < n);
    uint64_t h = s;
    for (int k = 0; k < 8; k++)
        h = h * 31 + x[k];
    for (int k = 0; k < 5; k++)
        h = h * 31 ^ w[k];
    for (int k = 0; k < 8; k++)
        h = h * 31 + hist[k];
    return (h * 31 + x[8]) * 31 + x[9];
}

/* An address of the test's memory kind. */
static wj_val v_addr(memory_kind kind, uint64_t a)
{
    return kind == MEM_64 ? v_u64(a) : v_u32((uint32_t)a);
}

START_TEST(read_modify_write)
{
    memory_kind kind = (memory_kind)_i;
    char *a = replace_all(rmw_wat, "@A", kind == MEM_64 ? "i64" : "i32");
    char *wat = replace_all(a, "@I", kind == MEM_64 ? "i64" : "");
    free(a);
    fixture fx;
    fx_open_memory(&fx, wat, memory_kind_names[kind], kind);
    /* "bump" at 65514 (zeroed): the RMWs at p + 0, 4 and 12 happen, the one
     * at p + 20, across the end, faults as its load and writes nothing */
    uint64_t p = 65514;
    wj_val none[1];
    wj_trap *trap = call_(__LINE__, &fx, "bump", none, 0, VALS(v_addr(kind, p), v_u32(0x10)));
    ck_assert_msg(trap != NULL, "%s: bump across the end: no trap", fx.label);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    ck_assert_uint_ge(wj_trap_frame_count(trap), 1);
    /* the load's memarg: i32.load align=2 offset=20 (the store is 0x36) */
    size_t len;
    uint8_t *bytes = wat_bytes(wat, kind, &len);
    uint64_t at = wj_trap_frame(trap, 0)->module_offset;
    ck_assert_uint_lt(at + 2, len);
    ck_assert_msg(bytes[at] == 0x28 && bytes[at + 1] == 2 && bytes[at + 2] == 20,
                  "%s: the trap at module offset %llu is no i32.load offset=20 but %02x %02x %02x",
                  fx.label, (unsigned long long)at, bytes[at], bytes[at + 1], bytes[at + 2]);
    free(bytes);
    wj_trap_delete(trap);
    EXPECT(&fx, "peek32", VALS(v_u32(0x10)), VALS(v_addr(kind, p)));
    EXPECT(&fx, "peek64", VALS(v_u64(5)), VALS(v_addr(kind, p + 4)));
    EXPECT(&fx, "peek32", VALS(v_u32(-0x10u)), VALS(v_addr(kind, p + 12)));
    EXPECT(&fx, "peek32", VALS(v_u32(0)), VALS(v_addr(kind, 65532)));
    /* at 65512 the last one ends at the end; by hand over the bytes above */
    p = 65512;
    expect_(__LINE__, &fx, "bump", NULL, 0, VALS(v_addr(kind, p), v_u32(0x01010101)));
    EXPECT(&fx, "peek32", VALS(v_u32(0x00100000 + 0x01010101)), VALS(v_addr(kind, p)));
    EXPECT(&fx, "peek64", VALS(v_u64(0x50000 + 5)), VALS(v_addr(kind, p + 4)));
    EXPECT(&fx, "peek32", VALS(v_u32(0xfff00000u - 0x01010101)), VALS(v_addr(kind, p + 12)));
    EXPECT(&fx, "peek32", VALS(v_u32(0x01010101)), VALS(v_addr(kind, p + 20)));
    static const uint32_t args[][3] = {{0, 2, 1}, {0, 0x7fffffffu, 5}, {4096, 0xfffffff0u, 77},
                                       {65536 - 112, 12345, 40}, {100, 1, 1000}};
    for (size_t k = 0; k < sizeof args / sizeof *args; k++)
        EXPECT(&fx, "rmw", VALS(v_u64(rmw_ref(args[k][1], args[k][2]))),
               VALS(v_addr(kind, args[k][0]), v_u32(args[k][1]), v_u32(args[k][2])));
    EXPECT_TRAP(&fx, "rmw", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_addr(kind, 65536 - 100), v_i32(1), v_i32(1)));
    fx_close(&fx);
    free(wat);
}
END_TEST

/* Each instruction that writes rcx or rdx as a temporary (be_temps), alone
 * in a function where ten values live across it: more than the eight
 * other registers hold, so that the allocator would put some in rcx and
 * rdx were it not told that the instruction needs them. "@OP" sets $r from
 * $a and $b; the result hashes $r with the ten values and $a. */
static const char temps_func[] =
    "  (func (export \"@NAME\") (param $a i32) (param $b i32) (result i32)\n"
    "    (local $r i32) (local $e i32) (local $v0 i32) (local $v1 i32) (local $v2 i32)\n"
    "    (local $v3 i32) (local $v4 i32) (local $v5 i32) (local $v6 i32) (local $v7 i32)\n"
    "    (local $v8 i32) (local $v9 i32)\n"
    "    (local.set $v0 (i32.mul (local.get $a) (i32.const 0x9e3779b1)))\n"
    "    (local.set $v1 (i32.add (local.get $b) (i32.const 0x7f4a7c15)))\n"
    "    (local.set $v2 (i32.add (i32.mul (local.get $v1) (i32.const 5)) (local.get $v0)))\n"
    "    (local.set $v3 (i32.add (i32.mul (local.get $v2) (i32.const 7)) (local.get $v1)))\n"
    "    (local.set $v4 (i32.add (i32.mul (local.get $v3) (i32.const 9)) (local.get $v2)))\n"
    "    (local.set $v5 (i32.add (i32.mul (local.get $v4) (i32.const 11)) (local.get $v3)))\n"
    "    (local.set $v6 (i32.add (i32.mul (local.get $v5) (i32.const 13)) (local.get $v4)))\n"
    "    (local.set $v7 (i32.add (i32.mul (local.get $v6) (i32.const 15)) (local.get $v5)))\n"
    "    (local.set $v8 (i32.add (i32.mul (local.get $v7) (i32.const 17)) (local.get $v6)))\n"
    "    (local.set $v9 (i32.add (i32.mul (local.get $v8) (i32.const 19)) (local.get $v7)))\n"
    "    @OP\n"
    "    (local.set $e (local.get $r))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v0)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v1)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v2)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v3)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v4)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v5)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v6)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v7)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v8)))\n"
    "    (local.set $e (i32.add (i32.mul (local.get $e) (i32.const 3)) (local.get $v9)))\n"
    "    (i32.xor (local.get $e) (local.get $a)))\n";

static uint32_t temps_hash(uint32_t a, uint32_t b, uint32_t r)
{
    uint32_t v[10];
    v[0] = a * 0x9e3779b1u;
    v[1] = b + 0x7f4a7c15u;
    for (uint32_t k = 2; k < 10; k++)
        v[k] = v[k - 1] * (2 * k + 1) + v[k - 2];
    uint32_t e = r;
    for (int k = 0; k < 10; k++)
        e = e * 3 + v[k];
    return e ^ a;
}

static uint32_t op_clz(uint32_t a, uint32_t b) { return clz32_ref(a); }
static uint32_t op_ctz64(uint32_t a, uint32_t b) { return (uint32_t)ctz64_ref(a); }
static uint32_t op_shl(uint32_t a, uint32_t b) { return a << (b & 31); }
static uint32_t op_rotr64(uint32_t a, uint32_t b) { return (uint32_t)rotr64_ref(a, b); }
static uint32_t op_div_u(uint32_t a, uint32_t b) { return a / (b | 1); }
static uint32_t op_rem_s64(uint32_t a, uint32_t b)
{
    int64_t d = (int64_t)(int32_t)b | 1;
    return d == -1 ? 0 : (uint32_t)((int64_t)(int32_t)a % d);
}
static uint32_t op_br_table(uint32_t a, uint32_t b) { return a == 0 ? b : a == 1 ? 13 : 7; }
static uint32_t op_convert_u(uint32_t a, uint32_t b)
{
    return (uint32_t)(f64_bits((double)((uint64_t)a << 32 | b)) >> 32);
}
static uint32_t op_convert_u32(uint32_t a, uint32_t b)
{
    return f32_bits((float)((uint64_t)a << 32 | b));
}
static uint32_t op_copysign(uint32_t a, uint32_t b) { return (a & 0x7fffffff) | (b & 0x80000000); }
static uint32_t op_wide_cmp(uint32_t a, uint32_t b) { return (uint64_t)a * b > 0x123456789u; }
static uint32_t op_table_get(uint32_t a, uint32_t b) { return (a & 1); }
static uint32_t op_table_set(uint32_t a, uint32_t b) { return 1; }
static uint32_t op_select(uint32_t a, uint32_t b) { return a ? b : 3; }
static uint32_t op_cmp_load(uint32_t a, uint32_t b) { return a < (b & 4 ? 5 : 0x7fffffffu); }
static uint32_t op_add_load(uint32_t a, uint32_t b) { return a + 5; }
static uint32_t op_copy(uint32_t a, uint32_t b)
{
    static const uint8_t low[40] = {[16] = 0xff, 0xff, 0xff, 0x7f, 0x05}; /* the data */
    uint32_t w;
    memcpy(&w, low + (b & 0x1f), 4);
    return w;
}
static uint32_t op_fill(uint32_t a, uint32_t b) { return (b & 0xff); }
static uint32_t op_init(uint32_t a, uint32_t b)
{
    uint32_t w;
    memcpy(&w, "abcdefgh" + (b & 3), 4);
    return w;
}

static const struct {
    const char *name, *op;
    uint32_t (*ref)(uint32_t a, uint32_t b);
} temps_ops[] = {
    {"clz", "(local.set $r (i32.clz (local.get $a)))", op_clz},
    {"ctz64", "(local.set $r (i32.wrap_i64 (i64.ctz (i64.extend_i32_u (local.get $a)))))",
     op_ctz64},
    {"shl", "(local.set $r (i32.shl (local.get $a) (local.get $b)))", op_shl},
    {"rotr64",
     "(local.set $r (i32.wrap_i64 (i64.rotr (i64.extend_i32_u (local.get $a))\n"
     "                                      (i64.extend_i32_u (local.get $b)))))",
     op_rotr64},
    {"div_u", "(local.set $r (i32.div_u (local.get $a) (i32.or (local.get $b) (i32.const 1))))",
     op_div_u},
    {"rem_s64",
     "(local.set $r (i32.wrap_i64 (i64.rem_s (i64.extend_i32_s (local.get $a))\n"
     "    (i64.or (i64.extend_i32_s (local.get $b)) (i64.const 1)))))",
     op_rem_s64},
    {"br_table",
     "(local.set $r (i32.const 7))\n"
     "    (block $d (block $c1 (block $c0 (br_table $c0 $c1 $d (local.get $a)))\n"
     "      (local.set $r (local.get $b)) (br $d))\n"
     "      (local.set $r (i32.const 13)))",
     op_br_table},
    {"convert_u",
     "(local.set $r (i32.wrap_i64 (i64.rotl (i64.reinterpret_f64 (f64.convert_i64_u\n"
     "    (i64.or (i64.shl (i64.extend_i32_u (local.get $a)) (i64.const 32))\n"
     "            (i64.extend_i32_u (local.get $b)))))\n"
     "  (i64.const 32))))",
     op_convert_u},
    {"convert_u32",
     "(local.set $r (i32.reinterpret_f32 (f32.convert_i64_u\n"
     "    (i64.or (i64.shl (i64.extend_i32_u (local.get $a)) (i64.const 32))\n"
     "            (i64.extend_i32_u (local.get $b))))))",
     op_convert_u32},
    {"copysign",
     "(local.set $r (i32.reinterpret_f32 (f32.copysign (f32.reinterpret_i32 (local.get $a))\n"
     "                                                 (f32.reinterpret_i32 (local.get $b)))))",
     op_copysign},
    {"wide_cmp",
     "(local.set $r (i64.gt_u (i64.mul (i64.extend_i32_u (local.get $a))\n"
     "                                 (i64.extend_i32_u (local.get $b)))\n"
     "                        (i64.const 0x123456789)))",
     op_wide_cmp},
    {"table_get",
     "(local.set $r (ref.is_null (table.get $t (i32.and (local.get $a) (i32.const 1)))))",
     op_table_get},
    {"table_set",
     "(table.set $e (i32.and (local.get $a) (i32.const 1)) (ref.null extern))\n"
     "    (local.set $r (i32.const 1))",
     op_table_set},
    {"select", "(local.set $r (select (local.get $b) (i32.const 3) (local.get $a)))", op_select},
    {"cmp_load",
     "(local.set $r (i32.lt_u (local.get $a)\n"
     "                        (i32.load offset=16 (i32.and (local.get $b) (i32.const 4)))))",
     op_cmp_load},
    /* a folded load: its check (rcx, rdx) is emitted with the add */
    {"add_load", "(local.set $r (i32.add (local.get $a) (i32.load offset=16 (i32.const 4))))",
     op_add_load},
    /* the bulk operations' operands, defined last, may take rcx and rdx */
    {"copy",
     "(memory.copy (i32.add (i32.and (local.get $a) (i32.const 0xff)) (i32.const 256))\n"
     "             (i32.and (local.get $b) (i32.const 0x1f)) (i32.const 4))\n"
     "    (local.set $r (i32.load offset=256 (i32.and (local.get $a) (i32.const 0xff))))",
     op_copy},
    {"fill",
     "(memory.fill (i32.add (i32.and (local.get $a) (i32.const 0xff)) (i32.const 512))\n"
     "             (local.get $b) (i32.add (i32.and (local.get $b) (i32.const 7)) (i32.const 1)))\n"
     "    (local.set $r (i32.load8_u offset=512 (i32.and (local.get $a) (i32.const 0xff))))",
     op_fill},
    {"init",
     "(memory.init $d (i32.add (i32.and (local.get $a) (i32.const 0xff)) (i32.const 768))\n"
     "             (i32.and (local.get $b) (i32.const 3)) (i32.const 4))\n"
     "    (local.set $r (i32.load offset=768 (i32.and (local.get $a) (i32.const 0xff))))",
     op_init},
};

START_TEST(temporaries_keep_live_values)
{
    char *wat = strdup("(module (memory 1) (data (i32.const 16) \"\\ff\\ff\\ff\\7f\\05\")\n"
                       "  (table $t 2 funcref) (elem (i32.const 0) $f)\n"
                       "  (table $e 2 externref) (data $d \"abcdefgh\")\n"
                       "  (func $f)\n");
    for (size_t i = 0; i < sizeof temps_ops / sizeof *temps_ops; i++) {
        char *named = replace_all(temps_func, "@NAME", temps_ops[i].name);
        char *func = replace_all(named, "@OP", temps_ops[i].op);
        wat = realloc(wat, strlen(wat) + strlen(func) + 2); /* and the last ")" */
        ck_assert_ptr_nonnull(wat);
        strcat(wat, func);
        free(named);
        free(func);
    }
    strcat(wat, ")");
    fixture fx;
    fx_open_memory(&fx, wat, memory_kind_names[_i], (memory_kind)_i);
    static const uint32_t args[][2] = {{0, 0},          {1, 2},          {2, 0x80000001u},
                                       {0xffffffffu, 7}, {0x12345678u, 0xfedcba98u},
                                       {0x80000000u, 0xffffffffu}, {3, 33}, {0x00ffff00u, 4}};
    for (size_t i = 0; i < sizeof temps_ops / sizeof *temps_ops; i++)
        for (size_t k = 0; k < sizeof args / sizeof *args; k++) {
            uint32_t a = args[k][0], b = args[k][1];
            uint32_t want = temps_hash(a, b, temps_ops[i].ref(a, b));
            EXPECT(&fx, temps_ops[i].name, VALS(v_u32(want)), VALS(v_u32(a), v_u32(b)));
        }
    fx_close(&fx);
    free(wat);
}
END_TEST

/* ==== 11. tier 2: bounds checks proved once, multiplies stepped ====================== */

/* Tier 2 checks an access of a checked memory (dynamic or memory64) only
 * where no earlier access of the same index reaching as far dominates it,
 * and turns a loop variable's multiply by a constant into a variable of
 * its own (bce.c, ivsr.c). "bce": the load of p and the last two loads
 * (p + 4 again, p + 2 within it) go unchecked; the store at p + 4 is
 * checked and traps across the end after the store at p happened. "grown":
 * a check before memory.grow still holds after it, from the base the
 * growth may have moved. "columns" sums column j of a 5-wide matrix of
 * i32 (k * 20 + j * 4, the row index the inner loop's variable) as fill
 * wrote it; "strided" mixes i * 12, 0x9e3779b9 * i (i from k by 3) and
 * j * 0x9e3779b97f4a7c15 (j from k by -5), wrapping. @A is the address
 * type, @I the memory's index type. */
static const char strides_wat[] =
    "(module\n"
    "  (memory @I 1)\n"
    "  (func (export \"bce\") (param $p @A) (param $v i32) (result i32)\n"
    "    (i32.store (local.get $p) (local.get $v))\n"
    "    (i32.store offset=4 (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))\n"
    "    (i32.add (i32.load offset=4 (local.get $p))\n"
    "             (i32.load (@A.add (local.get $p) (@A.const 2)))))\n"
    "  (func (export \"grown\") (param $p @A) (result i32)\n"
    "    (i32.store (local.get $p) (i32.const 0x01020304))\n"
    "    (drop (memory.grow (@A.const 1)))\n"
    "    (i32.load8_u offset=2 (local.get $p)))\n"
    "  (func (export \"peek\") (param $p @A) (result i32) (i32.load (local.get $p)))\n"
    "  (func (export \"fill\") (local $i @A) (local $v i32)\n"
    "    (local.set $v (i32.const 3))\n"
    "    (loop $l\n"
    "      (i32.store (@A.shl (local.get $i) (@A.const 2)) (local.get $v))\n"
    "      (local.set $v (i32.add (local.get $v) (i32.const 7)))\n"
    "      (br_if $l (@A.lt_u (local.tee $i (@A.add (local.get $i) (@A.const 1)))\n"
    "                         (@A.const 100)))))\n"
    "  (func (export \"columns\") (param $n @A) (result i32) (local $j @A) (local $k @A)\n"
    "    (local $s i32)\n"
    "    (loop $col\n"
    "      (local.set $k (@A.const 0))\n"
    "      (loop $row\n"
    "        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31))\n"
    "          (i32.load (@A.add (@A.mul (local.get $k) (@A.const 20))\n"
    "                            (@A.shl (local.get $j) (@A.const 2))))))\n"
    "        (br_if $row (@A.lt_u (local.tee $k (@A.add (local.get $k) (@A.const 1)))\n"
    "                             (local.get $n))))\n"
    "      (br_if $col (@A.lt_u (local.tee $j (@A.add (local.get $j) (@A.const 1)))\n"
    "                           (@A.const 5))))\n"
    "    (local.get $s))\n"
    "  (func (export \"strided\") (param $k i32) (param $n i32) (result i64)\n"
    "    (local $i i32) (local $j i64) (local $s i64)\n"
    "    (local.set $i (local.get $k))\n"
    "    (local.set $j (i64.extend_i32_u (local.get $k)))\n"
    "    (loop $l\n"
    "      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u\n"
    "        (i32.xor (i32.mul (local.get $i) (i32.const 12))\n"
    "                 (i32.mul (i32.const 0x9e3779b9) (local.get $i))))))\n"
    "      (local.set $s (i64.xor (i64.rotl (local.get $s) (i64.const 7))\n"
    "        (i64.mul (local.get $j) (i64.const 0x9e3779b97f4a7c15))))\n"
    "      (local.set $j (i64.add (local.get $j) (i64.const -5)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 3)))\n"
    "                          (local.get $n))))\n"
    "    (local.get $s)))\n";

static uint32_t columns_ref(uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t j = 0; j < 5; j++)
        for (uint32_t k = 0; k == 0 || k < n; k++)
            s = s * 31 + (k * 5 + j) * 7 + 3;
    return s;
}

static uint64_t strided_ref(uint32_t k, uint32_t n)
{
    uint32_t i = k;
    uint64_t j = k, s = 0;
    do {
        s += (uint32_t)((i * 12) ^ (0x9e3779b9u * i));
        s = rotl64(s, 7) ^ j * 0x9e3779b97f4a7c15u;
        j -= 5;
    } while ((i += 3) < n);
    return s;
}

START_TEST(bounds_checks_and_strides)
{
    memory_kind kind = (memory_kind)_i;
    char *a = replace_all(strides_wat, "@A", kind == MEM_64 ? "i64" : "i32");
    char *wat = replace_all(a, "@I", kind == MEM_64 ? "i64" : "");
    free(a);
    fixture fx;
    fx_open_memory(&fx, wat, memory_kind_names[kind], kind);
    static const uint32_t vs[] = {0, 0x12345678u, 0xffffffffu};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
        uint32_t v = vs[i], w = v + 1, want = w + ((v >> 16) | w << 16);
        EXPECT(&fx, "bce", VALS(v_u32(want)), VALS(v_addr(kind, 100), v_u32(v)));
        EXPECT(&fx, "bce", VALS(v_u32(want)), VALS(v_addr(kind, 65528), v_u32(v)));
    }
    /* the second store crosses the end: the first one happened */
    EXPECT_TRAP(&fx, "bce", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_addr(kind, 65530), v_u32(77)));
    EXPECT(&fx, "peek", VALS(v_u32(77)), VALS(v_addr(kind, 65530)));
    EXPECT_TRAP(&fx, "bce", 1, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                VALS(v_addr(kind, 65534), v_u32(78)));
    EXPECT(&fx, "peek", VALS(v_u32(77)), VALS(v_addr(kind, 65530)));
    EXPECT(&fx, "grown", VALS(v_u32(2)), VALS(v_addr(kind, 65532)));
    EXPECT(&fx, "peek", VALS(v_u32(0x01020304)), VALS(v_addr(kind, 65532)));
    EXPECT(&fx, "grown", VALS(v_u32(2)), VALS(v_addr(kind, 2 * 65536 - 4)));
    expect_(__LINE__, &fx, "fill", NULL, 0, NULL, 0);
    static const uint32_t ns[] = {0, 1, 7, 20};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        EXPECT(&fx, "columns", VALS(v_u32(columns_ref(ns[i]))), VALS(v_addr(kind, ns[i])));
    static const uint32_t ks[][2] = {{0, 1}, {0, 100}, {5, 1000}, {0xfffffff0u, 0xffffffffu},
                                     {0x7ffffffeu, 0x80000100u}};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++)
        EXPECT(&fx, "strided", VALS(v_u64(strided_ref(ks[i][0], ks[i][1]))),
               VALS(v_u32(ks[i][0]), v_u32(ks[i][1])));
    /* the C reference against what tier 1 computed once */
    ck_assert_uint_eq(strided_ref(5, 1000), 606380012800356385u);
    fx_close(&fx);
    free(wat);
}
END_TEST

/* ==== the suite ======================================================================= */

/* Values live across calls in a row: stored once before the first, loaded
 * back only where something uses them (an argument of a later call, the
 * sum at the end); the callee clobbers every register it can. */
static const char calls_in_a_row_wat[] =
    "(module\n"
    "  (type $t (func (param i32) (result i32)))\n"
    "  (table 1 funcref) (elem (i32.const 0) $g)\n"
    "  (func $g (type $t) (local i32 i32 i32 i32 i32 i32)\n"
    "    (local.set 1 (i32.mul (local.get 0) (i32.const 3)))\n"
    "    (local.set 2 (i32.shr_u (local.get 0) (i32.const 2)))\n"
    "    (local.set 3 (i32.xor (local.get 1) (local.get 2)))\n"
    "    (local.set 4 (i32.add (local.get 3) (i32.const 0x1234)))\n"
    "    (local.set 5 (i32.mul (local.get 4) (i32.const 5)))\n"
    "    (local.set 6 (i32.xor (local.get 5) (i32.shl (local.get 0) (i32.const 3))))\n"
    "    (i32.add (local.get 6) (i32.add (i32.add (local.get 1) (local.get 2))\n"
    "      (i32.add (local.get 3) (i32.add (local.get 4) (local.get 5))))))\n"
    "  (func (export \"rows\") (param $a i32) (param $b i64) (param $c f64) (result i64)\n"
    "    (local $x i32) (local $y i32) (local $z i32) (local $p i64) (local $q f64)\n"
    "    (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $r4 i32)\n"
    "    (local.set $x (i32.add (local.get $a) (i32.const 1)))\n"
    "    (local.set $y (i32.mul (local.get $a) (i32.const 7)))\n"
    "    (local.set $z (i32.xor (local.get $a) (i32.const 0x55)))\n"
    "    (local.set $p (i64.add (local.get $b) (i64.const 3)))\n"
    "    (local.set $q (f64.mul (local.get $c) (f64.const 2)))\n"
    "    (local.set $r1 (call $g (local.get $x)))\n"
    "    (local.set $r2 (call $g (local.get $r1)))\n"
    "    (local.set $r3 (call $g (i32.add (local.get $y) (local.get $r2))))\n"
    "    (local.set $r4 (call_indirect (type $t) (local.get $z) (i32.const 0)))\n"
    "    (i64.add (i64.add (local.get $p) (i64.trunc_f64_s (local.get $q)))\n"
    "      (i64.extend_i32_u (i32.add (i32.add (local.get $x) (local.get $y))\n"
    "        (i32.add (i32.add (local.get $z) (local.get $r1))\n"
    "          (i32.add (local.get $r2) (i32.add (local.get $r3) (local.get $r4)))))))))\n";

static uint32_t rows_g(uint32_t v)
{
    uint32_t a = v * 3, b = v >> 2, c = a ^ b, d = c + 0x1234, e = d * 5, f = e ^ (v << 3);
    return f + ((a + b) + (c + (d + e)));
}

START_TEST(calls_in_a_row)
{
    fixture fx;
    fx_open(&fx, calls_in_a_row_wat, "calls_in_a_row");
    static const uint32_t as[] = {0, 1, 0x12345, 0xfffffff0};
    for (size_t i = 0; i < sizeof as / sizeof *as; i++) {
        uint32_t a = as[i], x = a + 1, y = a * 7, z = a ^ 0x55;
        uint32_t r1 = rows_g(x), r2 = rows_g(r1), r3 = rows_g(y + r2), r4 = rows_g(z);
        int64_t b = (int64_t)i * 1000 - 7;
        double c = 10.25 + (double)i;
        uint64_t want = (uint64_t)(b + 3) + (uint64_t)(int64_t)(c * 2) +
                        (uint32_t)(x + y + z + r1 + r2 + r3 + r4);
        EXPECT(&fx, "rows", VALS(v_u64(want)), VALS(v_u32(a), v_i64(b), v_f64(c)));
    }
    fx_close(&fx);
}
END_TEST

/* Live ranges split (tier 2): values defined first, used throughout,
 * lose their registers to pressure (NI i64 and NF f64 values live at
 * once, more than there are registers), once before a loop and once in
 * it. Their definitions stored them, so from there on their uses read
 * their slots: in the loop from its header on, since the back edge comes
 * from where their registers hold other values. Before the first split
 * they are live in registers across a call, saved in those slots. */
enum { SPLIT_NI = 12, SPLIT_NF = 16 };

#define PUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))

/* put_pressure's locals */
static size_t put_pressure_locals(char *buf, size_t n, size_t size)
{
    for (int k = 0; k < SPLIT_NI; k++)
        PUT("    (local $a%d i64)\n", k);
    for (int k = 0; k < SPLIT_NF; k++)
        PUT("    (local $f%d f64)\n", k);
    return n;
}

/* acc and facc mixed with NI and NF values live at once */
static size_t put_pressure(char *buf, size_t n, size_t size, const char *indent)
{
    for (int k = 0; k < SPLIT_NI; k++)
        PUT("%s(local.set $a%d (i64.add (i64.mul (local.get $acc) (i64.const %d))"
            " (i64.const %d)))\n", indent, k, 2 * k + 3, k);
    for (int k = 0; k < SPLIT_NF; k++)
        PUT("%s(local.set $f%d (f64.add (f64.mul (local.get $facc) (f64.const %d.0))"
            " (f64.convert_i32_u (local.get $i))))\n", indent, k, k + 1);
    PUT("%s(local.set $s (local.get $a%d))\n", indent, SPLIT_NI - 1);
    for (int k = SPLIT_NI - 2; k >= 0; k--)
        PUT("%s(local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 5)) (local.get $a%d)))\n",
            indent, k);
    PUT("%s(local.set $fs (local.get $f%d))\n", indent, SPLIT_NF - 1);
    for (int k = SPLIT_NF - 2; k >= 0; k--)
        PUT("%s(local.set $fs (f64.add (f64.mul (local.get $fs) (f64.const 0.5)) (local.get $f%d)))\n",
            indent, k);
    PUT("%s(local.set $acc (i64.xor (local.get $acc) (local.get $s)))\n"
        "%s(local.set $facc (f64.div (local.get $fs) (f64.const 64.0)))\n", indent, indent);
    return n;
}

static char *split_wat(void)
{
    static char buf[16384];
    size_t n = 0, size = sizeof buf;
    PUT("(module\n"
        "  (func $g (param i64) (result i64) (i64.mul (local.get 0) (i64.const 0x100000001b3)))\n"
        "  (func (export \"split\") (param $x i64) (param $y f64) (param $n i32) (result i64)\n"
        "    (local $w i64) (local $v f64) (local $i i32) (local $acc i64) (local $facc f64)\n"
        "    (local $s i64) (local $fs f64)\n");
    n = put_pressure_locals(buf, n, size);
    PUT("    (local.set $w (i64.mul (local.get $x) (i64.const 0x9e3779b97f4a7c15)))\n"
        "    (local.set $v (f64.mul (local.get $y) (f64.const 1.5)))\n"
        "    (local.set $acc (call $g (local.get $w)))\n"
        "    (local.set $acc (i64.add (local.get $acc) (local.get $w)))\n"
        "    (local.set $facc (f64.sub (local.get $v) (f64.const 0.25)))\n");
    n = put_pressure(buf, n, size, "    ");
    PUT("    (loop $l\n"
        "      (local.set $acc (call $g (i64.add (local.get $acc)\n"
        "        (i64.rotl (local.get $w) (i64.extend_i32_u (local.get $i))))))\n"
        "      (local.set $facc (f64.add (local.get $facc) (local.get $v)))\n");
    n = put_pressure(buf, n, size, "      ");
    PUT("      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
        "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
        "    (i64.add (i64.add (local.get $acc) (local.get $w))\n"
        "      (i64.reinterpret_f64 (f64.add (local.get $facc) (local.get $v))))))\n");
    ck_assert_uint_lt(n, size);
    return buf;
}

/* put_pressure's code in C */
static void split_pressure(uint64_t *acc, double *facc, uint32_t i)
{
    uint64_t a[SPLIT_NI];
    double f[SPLIT_NF];
    for (int k = 0; k < SPLIT_NI; k++)
        a[k] = *acc * (uint64_t)(2 * k + 3) + (uint64_t)k;
    for (int k = 0; k < SPLIT_NF; k++) {
        double m = *facc * (double)(k + 1);
        f[k] = m + (double)i;
    }
    uint64_t s = a[SPLIT_NI - 1];
    for (int k = SPLIT_NI - 2; k >= 0; k--)
        s = rotl64(s, 5) + a[k];
    double fs = f[SPLIT_NF - 1];
    for (int k = SPLIT_NF - 2; k >= 0; k--) {
        double h = fs * 0.5;
        fs = h + f[k];
    }
    *acc ^= s;
    *facc = fs / 64.0;
}

static uint64_t split_ref(uint64_t x, double y, uint32_t n)
{
    uint64_t w = x * 0x9e3779b97f4a7c15u, acc = w * 0x100000001b3u + w;
    double v = y * 1.5, facc = v - 0.25;
    uint32_t i = 0;
    split_pressure(&acc, &facc, i);
    do {
        acc = (acc + (i % 64 ? rotl64(w, i % 64) : w)) * 0x100000001b3u;
        facc = facc + v;
        split_pressure(&acc, &facc, i);
        i++;
    } while (i < n);
    double last = facc + v;
    uint64_t bits;
    memcpy(&bits, &last, sizeof bits);
    return acc + w + bits;
}

/* Export `name` (x i64, y f64, n i32) -> i64 against its C reference on a
 * few arguments. */
static void expect_pressure(fixture *fx, const char *name,
                            uint64_t (*ref)(uint64_t, double, uint32_t))
{
    static const struct { uint64_t x; double y; uint32_t n; } cases[] = {
        {1, 1.0, 1}, {0x123456789abcdefu, -2.75, 2}, {7, 0.125, 17}, {~0ull, 1e300, 40}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        EXPECT(fx, name, VALS(v_u64(ref(cases[k].x, cases[k].y, cases[k].n))),
               VALS(v_i64((int64_t)cases[k].x), v_f64(cases[k].y), v_u32(cases[k].n)));
}

START_TEST(split_live_ranges)
{
    fixture fx;
    fx_open(&fx, split_wat(), "split_live_ranges");
    expect_pressure(&fx, "split", split_ref);
    /* the C reference against what tier 1 computed once */
    ck_assert_uint_eq(split_ref(7, 0.125, 17), 15444260764605619988u);
    fx_close(&fx);
}
END_TEST

/* br_table of a few runs of targets, which tier 2 compiles as compare
 * chains: single indices, a run of three, indices that go to the default
 * amid the others, the default itself, indices past the table (huge too),
 * and an index that is a loop's phi. */
static const char br_chain_wat[] =
    "(module\n"
    "  (func (export \"pick\") (param $i i32) (result i32)\n"
    "    (block $d (block $c (block $b (block $a\n"
    "      (br_table $a $b $b $b $d $c $a $d (local.get $i)))\n"
    "      (return (i32.const 10)))\n"
    "      (return (i32.const 20)))\n"
    "      (return (i32.const 30)))\n"
    "    (i32.const 40))\n"
    "  (func (export \"walk\") (param $n i32) (result i32)\n"
    "    (local $s i32) (local $acc i32)\n"
    "    (loop $l\n"
    "      (block $done (block $z (block $y (block $x\n"
    "        (br_table $x $y $z $y (local.get $s)))\n"
    "        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (i32.const 1)))\n"
    "        (local.set $s (i32.const 1)) (br $done))\n"
    "        (local.set $acc (i32.xor (local.get $acc) (i32.const 0x55))))\n"
    "        (local.set $s (i32.rem_u (i32.add (local.get $acc) (local.get $s)) (i32.const 5))))\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "      (br_if $l (local.get $n)))\n"
    "    (i32.add (local.get $acc) (i32.mul (local.get $s) (i32.const 1000)))))\n";

static uint32_t walk_ref(uint32_t n)
{
    uint32_t s = 0, acc = 0;
    do {
        if (s == 0) {
            acc = acc * 3 + 1;
            s = 1;
        } else {
            if (s != 2) /* 1, 3 and the default */
                acc ^= 0x55;
            s = (acc + s) % 5;
        }
    } while (--n);
    return acc + s * 1000;
}

START_TEST(br_table_compare_chains)
{
    fixture fx;
    fx_open(&fx, br_chain_wat, "br_table_compare_chains");
    static const struct { uint32_t i, want; } picks[] = {
        {0, 10}, {1, 20}, {2, 20}, {3, 20}, {4, 40}, {5, 30}, {6, 10}, {7, 40}, {8, 40},
        {9, 40}, {0x7fffffff, 40}, {0xffffffff, 40}};
    for (size_t k = 0; k < sizeof picks / sizeof *picks; k++)
        EXPECT(&fx, "pick", VALS(v_u32(picks[k].want)), VALS(v_u32(picks[k].i)));
    for (uint32_t n = 1; n < 40; n += 7)
        EXPECT(&fx, "walk", VALS(v_u32(walk_ref(n))), VALS(v_u32(n)));
    ck_assert_uint_eq(walk_ref(8), 1685); /* the C reference against tier 1 */
    fx_close(&fx);
}
END_TEST

/* A call's result that takes the register of a value split there (tier
 * 2: eleven values live across the call, the parameter x among them, fill
 * the general registers, and the result, used in a loop, weighs more than
 * x): x is read from its home after the call, and the result stays in the
 * register. */
static const char split_at_call_wat[] =
    "(module\n"
    "  (func $g (param i32) (result i32) (i32.mul (local.get 0) (i32.const 0x9e3779b1)))\n"
    "  (func (export \"f\") (param $x i32) (param $n i32) (result i32)\n"
    "    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32)\n"
    "    (local $a5 i32) (local $a6 i32) (local $a7 i32) (local $a8 i32) (local $a9 i32)\n"
    "    (local $r i32) (local $acc i32) (local $i i32)\n"
    "    (local.set $a0 (i32.add (i32.mul (local.get $x) (i32.const 3)) (i32.const 0)))\n"
    "    (local.set $a1 (i32.add (i32.mul (local.get $x) (i32.const 5)) (i32.const 1)))\n"
    "    (local.set $a2 (i32.add (i32.mul (local.get $x) (i32.const 7)) (i32.const 2)))\n"
    "    (local.set $a3 (i32.add (i32.mul (local.get $x) (i32.const 9)) (i32.const 3)))\n"
    "    (local.set $a4 (i32.add (i32.mul (local.get $x) (i32.const 11)) (i32.const 4)))\n"
    "    (local.set $a5 (i32.add (i32.mul (local.get $x) (i32.const 13)) (i32.const 5)))\n"
    "    (local.set $a6 (i32.add (i32.mul (local.get $x) (i32.const 15)) (i32.const 6)))\n"
    "    (local.set $a7 (i32.add (i32.mul (local.get $x) (i32.const 17)) (i32.const 7)))\n"
    "    (local.set $a8 (i32.add (i32.mul (local.get $x) (i32.const 19)) (i32.const 8)))\n"
    "    (local.set $a9 (i32.add (i32.mul (local.get $x) (i32.const 21)) (i32.const 9)))\n"
    "    (local.set $r (call $g (local.get $x)))\n"
    "    (loop $l\n"
    "      (local.set $acc (i32.add (i32.xor (local.get $acc) (local.get $r))\n"
    "                               (i32.mul (local.get $i) (local.get $r))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i32.add (i32.add (local.get $acc) (local.get $x))\n"
    "      (i32.xor (local.get $a0) (i32.add (local.get $a1) (i32.xor (local.get $a2)\n"
    "        (i32.add (local.get $a3) (i32.xor (local.get $a4) (i32.add (local.get $a5)\n"
    "          (i32.xor (local.get $a6) (i32.add (local.get $a7)\n"
    "            (i32.xor (local.get $a8) (local.get $a9)))))))))))))\n";

static uint32_t split_at_call_ref(uint32_t x, uint32_t n)
{
    uint32_t a[10], r = x * 0x9e3779b1u, acc = 0, i = 0;
    for (uint32_t k = 0; k < 10; k++)
        a[k] = x * (2 * k + 3) + k;
    do {
        acc = (acc ^ r) + i * r;
        i++;
    } while (i < n);
    uint32_t t = a[8] ^ a[9];
    for (int k = 7; k >= 0; k--)
        t = k % 2 ? a[k] + t : a[k] ^ t;
    return acc + x + t;
}

START_TEST(split_at_a_call)
{
    fixture fx;
    fx_open(&fx, split_at_call_wat, "split_at_a_call");
    static const uint32_t xs[] = {1, 0x12345, 0xfffffff7u};
    for (size_t k = 0; k < sizeof xs / sizeof *xs; k++)
        for (uint32_t n = 1; n < 30; n += 9)
            EXPECT(&fx, "f", VALS(v_u32(split_at_call_ref(xs[k], n))), VALS(v_u32(xs[k]), v_u32(n)));
    ck_assert_uint_eq(split_at_call_ref(1, 10), 454385931); /* the C reference against tier 1 */
    fx_close(&fx);
}
END_TEST

/* Values spilled by pressure before a loop that has room for them (tier
 * 2 loads them into free registers on the loop's entry edge): w and v,
 * live across RELOAD_BLOCKS of put_pressure's blocks (long intervals with
 * few uses: the first to be split), are read in every iteration of a loop
 * with few values of its own, and once more after it. */
enum { RELOAD_BLOCKS = 4 };

static char *reload_wat(void)
{
    static char buf[32768];
    size_t n = 0, size = sizeof buf;
    PUT("(module\n"
        "  (func (export \"reload\") (param $x i64) (param $y f64) (param $n i32) (result i64)\n"
        "    (local $w i64) (local $v f64) (local $i i32) (local $acc i64) (local $facc f64)\n"
        "    (local $s i64) (local $fs f64) (local $t i64) (local $ft f64)\n");
    n = put_pressure_locals(buf, n, size);
    PUT("    (local.set $w (i64.mul (local.get $x) (i64.const 0x9e3779b97f4a7c15)))\n"
        "    (local.set $v (f64.mul (local.get $y) (f64.const 1.5)))\n"
        "    (local.set $acc (i64.add (local.get $x) (i64.const 1)))\n"
        "    (local.set $facc (f64.add (local.get $y) (f64.const 2)))\n");
    for (int k = 0; k < RELOAD_BLOCKS; k++)
        n = put_pressure(buf, n, size, "    ");
    PUT("    (local.set $s (local.get $acc)) (local.set $fs (local.get $facc))\n"
        "    (loop $l\n"
        "      (local.set $t (i64.add (local.get $t) (i64.xor (local.get $w)\n"
        "        (i64.extend_i32_u (local.get $i)))))\n"
        "      (local.set $ft (f64.add (local.get $ft) (f64.mul (local.get $v)\n"
        "        (f64.convert_i32_u (local.get $i)))))\n"
        "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
        "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
        "    (i64.add (i64.add (local.get $t) (i64.xor (local.get $s) (local.get $w)))\n"
        "      (i64.reinterpret_f64 (f64.add (f64.add (local.get $ft) (local.get $fs))\n"
        "        (local.get $v))))))\n");
#undef PUT
    ck_assert_uint_lt(n, size);
    return buf;
}

static uint64_t reload_ref(uint64_t x, double y, uint32_t n)
{
    uint64_t w = x * 0x9e3779b97f4a7c15u, acc = x + 1, t = 0;
    double v = y * 1.5, facc = y + 2, ft = 0;
    for (int k = 0; k < RELOAD_BLOCKS; k++)
        split_pressure(&acc, &facc, 0);
    uint32_t i = 0;
    do {
        t += w ^ i;
        double m = v * (double)i;
        ft = ft + m;
        i++;
    } while (i < n);
    double last = ft + facc;
    last = last + v;
    uint64_t bits;
    memcpy(&bits, &last, sizeof bits);
    return t + (acc ^ w) + bits;
}

START_TEST(reload_for_a_loop)
{
    fixture fx;
    fx_open(&fx, reload_wat(), "reload_for_a_loop");
    expect_pressure(&fx, "reload", reload_ref);
    ck_assert_uint_eq(reload_ref(7, 0.125, 17), 2354864171029127711u); /* the C reference against tier 1 */
    fx_close(&fx);
}
END_TEST

static Suite *codegen_suite(void)
{
    Suite *s = suite_create("codegen");
    TCase *pins = tcase_create("pinned locals");
    tcase_set_timeout(pins, 30);
    tcase_add_test(pins, pressure_more_locals_than_registers);
    tcase_add_test(pins, divide_by_constants);
    tcase_add_loop_test(pins, pinned_across_calls, 0, (int)(sizeof clobbers / sizeof *clobbers));
    tcase_add_test(pins, many_params);
    tcase_add_test(pins, many_params_from_wasm);
    tcase_add_test(pins, trap_in_loop_then_call);
    tcase_add_test(pins, extra_pins);
    suite_add_tcase(s, pins);

    TCase *lazy = tcase_create("lazy reads");
    tcase_set_timeout(lazy, 30);
    tcase_add_loop_test(lazy, lazy_read_hazard, 0, 4);
    tcase_add_loop_test(lazy, lazy_read_hazard_deep_stack, 0, 4);
    tcase_add_loop_test(lazy, swap_and_multi_value_results, 0, 4);
    suite_add_tcase(s, lazy);

    TCase *ops = tcase_create("operations on pinned locals");
    tcase_set_timeout(ops, 30);
    tcase_add_test(ops, reinterpret_pinned);
    tcase_add_test(ops, select_pinned);
    tcase_add_test(ops, select_constants);
    tcase_add_test(ops, rotated_locals);
    tcase_add_test(ops, bulk_operands_in_argument_registers);
    tcase_add_test(ops, folded_constant_addresses);
    tcase_add_test(ops, branches_carry_pinned);
    tcase_add_test(ops, loop_block_params);
    suite_add_tcase(s, ops);

    TCase *inplace = tcase_create("in-place updates");
    tcase_set_timeout(inplace, 30);
    tcase_add_loop_test(inplace, update_in_place, 0, 4);
    tcase_add_loop_test(inplace, int_ops_in_place, 0, 2);
    tcase_add_test(inplace, wrapping_addresses_and_pinned_stores);
    suite_add_tcase(s, inplace);

    TCase *zero = tcase_create("zeroed locals");
    tcase_set_timeout(zero, 60);
    tcase_add_loop_test(zero, zeroed_locals_typed, 0, 4);
    tcase_add_test(zero, zeroed_locals_v128);
    tcase_add_test(zero, zeroed_locals_many);
    suite_add_tcase(s, zero);

    TCase *tier2 = tcase_create("threading, rcx and rdx, read-modify-write");
    tcase_set_timeout(tier2, 60);
    tcase_add_loop_test(tier2, threaded_state_machine, MEM_STATIC, MEM_64);
    tcase_add_loop_test(tier2, pressure_on_rcx_and_rdx, MEM_STATIC, MEM_64);
    tcase_add_loop_test(tier2, temporaries_keep_live_values, MEM_STATIC, MEM_64);
    tcase_add_loop_test(tier2, read_modify_write, MEM_STATIC, MEM_64 + 1);
    tcase_add_loop_test(tier2, bounds_checks_and_strides, MEM_STATIC, MEM_64 + 1);
    tcase_add_test(tier2, calls_in_a_row);
    tcase_add_test(tier2, split_live_ranges);
    tcase_add_test(tier2, br_table_compare_chains);
    tcase_add_test(tier2, split_at_a_call);
    tcase_add_test(tier2, reload_for_a_loop);
    suite_add_tcase(s, tier2);
    return s;
}

int main(void)
{
    return unit_run_tiers(codegen_suite, &tier);
}
