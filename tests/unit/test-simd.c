/* The register side of SIMD, through the public API (linked against
 * libwasmjail.la): v128 values across wasm calls, call_indirect, host
 * functions and libcalls with more of them live than there are xmm
 * registers; v128 locals pinned in a hot loop and spilled when there are
 * more than registers; v128 block parameters and results, branches, select
 * and globals; every v128 load and store at every alignment and at the last
 * valid offset of static and dynamic memories, memory64 and a second
 * memory; i8x16.shuffle with many lane patterns; traps inside SIMD code at
 * the right byte offset.
 *
 * Most values reach the test as scalars (i64x2.extract_lane results) or
 * through memory, so that a test of registers does not depend on the API's
 * v128 path; host functions and globals use it. Every test checks exact
 * bytes against a C reference that mirrors the wasm code.
 *
 * Test modules are written in the text format (some generated here) and
 * converted at test time by wabt's wat2wasm (wat.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"
#include "wat.h"

/* ==== helpers: vectors in C ========================================================= */

typedef struct vec {
    uint8_t b[16];
} vec;

static uint32_t lane32(vec v, int i)
{
    uint32_t x;
    memcpy(&x, v.b + 4 * i, 4);
    return x;
}

static vec with_lane32(vec v, int i, uint32_t x)
{
    memcpy(v.b + 4 * i, &x, 4);
    return v;
}

static vec splat32(uint32_t x)
{
    vec v;
    for (int i = 0; i < 4; i++)
        v = with_lane32(v, i, x);
    return v;
}

static vec splat8(uint8_t x)
{
    vec v;
    memset(v.b, x, 16);
    return v;
}

static vec vxor(vec a, vec b)
{
    for (int i = 0; i < 16; i++)
        a.b[i] ^= b.b[i];
    return a;
}

/* v128.bitselect a b c: bits of a where c is set, of b elsewhere. */
static vec vbitselect(vec a, vec b, vec c)
{
    vec r;
    for (int i = 0; i < 16; i++)
        r.b[i] = (uint8_t)((a.b[i] & c.b[i]) | (b.b[i] & ~c.b[i]));
    return r;
}

/* i8x16.shuffle: lane i is byte idx[i] of a ++ b. */
static vec vshuffle(vec a, vec b, const uint8_t idx[16])
{
    vec r;
    for (int i = 0; i < 16; i++)
        r.b[i] = idx[i] < 16 ? a.b[idx[i]] : b.b[idx[i] - 16];
    return r;
}

/* Byte i of the result is byte i+1 of v (mod 16): the shuffle "1 2 .. 15 0". */
static vec rotate1(vec v)
{
    vec r;
    for (int i = 0; i < 16; i++)
        r.b[i] = v.b[(i + 1) % 16];
    return r;
}

static vec vec_at(const uint8_t *p)
{
    vec v;
    memcpy(v.b, p, 16);
    return v;
}

static wj_val v128_val(vec v)
{
    wj_val w = {.kind = WJ_V128};
    memcpy(w.of.v128, v.b, 16);
    return w;
}

/* Deterministic test data: splitmix64. */
static uint64_t prng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void prng_fill(uint64_t seed, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)prng_next(&seed);
}

static void assert_vec_(int line, const char *what, vec got, vec want)
{
    if (memcmp(got.b, want.b, 16) == 0)
        return;
    char g[64], w[64];
    for (int i = 0; i < 16; i++) {
        sprintf(g + 3 * i, "%02x ", got.b[i]);
        sprintf(w + 3 * i, "%02x ", want.b[i]);
    }
    ck_abort_msg("line %d: %s: got %s, want %s", line, what, g, w);
}
#define ASSERT_VEC(what, got, want) assert_vec_(__LINE__, what, got, want)

/* The text of a v128.const with these bytes. */
static const char *vconst_text(vec v, char buf[128])
{
    int n = sprintf(buf, "(v128.const i8x16");
    for (int i = 0; i < 16; i++)
        n += sprintf(buf + n, " 0x%02x", v.b[i]);
    sprintf(buf + n, ")");
    return buf;
}

/* ==== helpers: module text ============================================================ */

/* A growing string for generated modules. */
typedef struct text {
    char *s;
    size_t len;
    FILE *f;
} text;

static void text_open(text *t)
{
    memset(t, 0, sizeof *t);
    t->f = open_memstream(&t->s, &t->len);
    ck_assert_ptr_nonnull(t->f);
}

__attribute__((format(printf, 2, 3))) static void emit(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->f, fmt, ap);
    va_end(ap);
}

/* Closes the stream; the caller frees t->s. */
static char *text_close(text *t)
{
    ck_assert_int_eq(fclose(t->f), 0);
    return t->s;
}

/* memory64 and multi-memory on for every module (SIMD is wabt's default). */
static const char *const wat_opts[] = {"--enable-memory64", "--enable-multi-memory", NULL};

static void open_with(fixture *fx, const char *wat, wj_config *config,
                      const wj_extern *imports, size_t n)
{
    fx_prepare_opts(fx, wat, wat_opts, config);
    fx_instantiate(fx, imports, n);
}

/* memory64 and multi-memory on (SIMD is on by default); dynamic memories
 * (bounds checks) or static ones (guard regions). */
static wj_config *config_dynamic(bool dynamic)
{
    wj_config *c = wj_config_new();
    ck_assert_ptr_nonnull(c);
    wj_config_set_feature(c, WJ_FEATURE_MEMORY64, true);
    wj_config_set_feature(c, WJ_FEATURE_MULTI_MEMORY, true);
    wj_config_set_dynamic_memories(c, dynamic);
    return c;
}

static uint8_t *fx_memory(const fixture *fx, const char *name, uint64_t *size)
{
    wj_memory *m = fx_export(fx, name, WJ_EXTERN_MEMORY).of.memory;
    if (size)
        *size = wj_memory_data_size(m);
    return wj_memory_data(m);
}

#define ARGS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define NOARGS NULL, 0

/* Calls `name`, which must not trap. */
static void call_ok_(int line, const fixture *fx, const char *name, const wj_val *args, size_t n,
                     wj_val *res)
{
    wj_trap *trap = fx_call(fx, name, args, n, res);
    ck_assert_msg(trap == NULL, "line %d: %s: unexpected trap \"%s\"", line, name,
                  trap ? wj_trap_message(trap) : "");
}
#define CALL_OK(fx, name, args, res) call_ok_(__LINE__, fx, name, args, res)

/* The (i64 lo, i64 hi) results of `name` as a vector. */
static vec call_vec_(int line, const fixture *fx, const char *name, const wj_val *args, size_t n)
{
    wj_val res[2];
    call_ok_(line, fx, name, args, n, res);
    ck_assert_msg(res[0].kind == WJ_I64 && res[1].kind == WJ_I64, "line %d: %s: not (i64 i64)",
                  line, name);
    vec v;
    memcpy(v.b, &res[0].of.i64, 8);
    memcpy(v.b + 8, &res[1].of.i64, 8);
    return v;
}
#define CALL_VEC(fx, name, args) call_vec_(__LINE__, fx, name, args)

/* A v128 on the stack returned as (i64 lo, i64 hi) through local $v. */
#define RETURN_VEC "(local.set $v) (i64x2.extract_lane 0 (local.get $v)) " \
                   "(i64x2.extract_lane 1 (local.get $v))"

/* ==== helpers: host functions that clobber every xmm register ======================== */

/* Writes garbage into all sixteen xmm registers (all caller-saved in C), as
 * any host function may. */
static void clobber_xmm(void)
{
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\t"
                     "movdqa %%xmm0, %%xmm1\n\tmovdqa %%xmm0, %%xmm2\n\t"
                     "movdqa %%xmm0, %%xmm3\n\tmovdqa %%xmm0, %%xmm4\n\t"
                     "movdqa %%xmm0, %%xmm5\n\tmovdqa %%xmm0, %%xmm6\n\t"
                     "movdqa %%xmm0, %%xmm7\n\tmovdqa %%xmm0, %%xmm8\n\t"
                     "movdqa %%xmm0, %%xmm9\n\tmovdqa %%xmm0, %%xmm10\n\t"
                     "movdqa %%xmm0, %%xmm11\n\tmovdqa %%xmm0, %%xmm12\n\t"
                     "movdqa %%xmm0, %%xmm13\n\tmovdqa %%xmm0, %%xmm14\n\t"
                     "movdqa %%xmm0, %%xmm15\n\t"
                     :
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* The import "env" "scramble": (i32) -> (i32) = x + 1. */
static wj_trap *scramble_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller;
    ++*(int *)env;
    clobber_xmm();
    results[0] = v_i32(args[0].of.i32 + 1);
    return NULL;
}

static uint8_t fold8(uint32_t n)
{
    uint8_t fold = 0;
    for (uint32_t j = 0; j < 16; j++)
        fold ^= (uint8_t)(n + j);
    return fold;
}

static const uint8_t reverse16[16] = {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};

/* The import "env" "vclobber" (the type $cl of calls_wat), what $clobber
 * computes with 7 for 3: (a v128, n i32, b v128) -> (7n, a ^ splat8(fold8(n)),
 * f64(n), reverse(b)). */
static wj_trap *vclobber_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller;
    ++*(int *)env;
    clobber_xmm();
    vec a = vec_at(args[0].of.v128), b = vec_at(args[2].of.v128);
    uint32_t n = (uint32_t)args[1].of.i32;
    vec r1 = vxor(a, splat8(fold8(n))), r3 = vshuffle(b, b, reverse16);
    results[0] = v_i32((int32_t)(n * 7));
    results[1] = v128_val(r1);
    results[2] = (wj_val){.kind = WJ_F64, .of.f64 = (int32_t)n};
    results[3] = v128_val(r3);
    return NULL;
}

/* A module whose imports are "env" "scramble" and "env" "vclobber" (any,
 * in any order), both counting their calls in *calls. */
static void open_scrambled(fixture *fx, const char *wat, wj_config *config, int *calls)
{
    fx_prepare_opts(fx, wat, wat_opts, config);
    size_t n = wj_module_import_count(fx->module);
    wj_extern imports[2];
    ck_assert_uint_le(n, 2);
    for (size_t i = 0; i < n; i++) {
        wj_import_info info;
        wj_functype type;
        ck_assert(wj_module_import(fx->module, i, &info) && info.kind == WJ_EXTERN_FUNC);
        ck_assert(wj_module_func_type(fx->module, info.index, &type));
        bool scramble = strcmp(info.name, "scramble") == 0;
        ck_assert(scramble || strcmp(info.name, "vclobber") == 0);
        imports[i].kind = WJ_EXTERN_FUNC;
        imports[i].of.func =
            wj_func_new(fx->store, &type, scramble ? scramble_cb : vclobber_cb, calls, NULL);
        ck_assert_ptr_nonnull(imports[i].of.func);
    }
    fx_instantiate(fx, imports, n);
}

/* ==== v128 across calls with every xmm register live ================================= */

/* mk(k) in wasm: the i32x4 (x+k, x*(k+3), x+k, k), made from $x so that it
 * lives in a register. */
static void emit_mk(text *t, int k)
{
    emit(t,
         "(i32x4.replace_lane 3 (i32x4.replace_lane 1 (i32x4.splat (i32.add (local.get $x) "
         "(i32.const %d))) (i32.mul (local.get $x) (i32.const %d))) (i32.const %d))\n",
         k, k + 3, k);
}

static vec mk_ref(uint32_t x, int k)
{
    vec v = splat32(x + (uint32_t)k);
    v = with_lane32(v, 1, x * (uint32_t)(k + 3));
    return with_lane32(v, 3, (uint32_t)k);
}

#define LIVE 18 /* v128 values live across the calls: more than the 15 registers */

/* The module of calls_keep_live_values. $clobber keeps sixteen values of
 * its own live and returns v128 results between scalars, as does the host
 * function $vclobber; $live pushes LIVE values, then calls the host
 * function $scramble (which clobbers every xmm register) and the function
 * of $sel: through the table (0: $clobber, 1: $clobber_b, 2: $vclobber)
 * or directly (3: $clobber, 4: $vclobber), then hands everything to $sink,
 * which stores it in memory: the LIVE values at 16*k, then the callee's
 * results at 16*LIVE + 0, 16, 32, 48. */
static char *calls_wat(void)
{
    text t;
    text_open(&t);
    emit(&t, "(module\n"
             "(type $cl (func (param v128 i32 v128) (result i32 v128 f64 v128)))\n"
             "(import \"env\" \"scramble\" (func $scramble (param i32) (result i32)))\n"
             "(import \"env\" \"vclobber\" (func $vclobber (type $cl)))\n"
             "(memory (export \"mem\") 1)\n"
             "(table 3 funcref) (elem (i32.const 0) $clobber $clobber_b $vclobber)\n");
    /* $clobber(a, n, b) = (3n, a ^ splat8(fold), f64(n), shuffle reverse of b) */
    for (int which = 0; which < 2; which++) {
        emit(&t, "(func %s (type $cl)\n", which ? "$clobber_b" : "$clobber (export \"clobber\")");
        emit(&t, "(i32.mul (local.get 1) (i32.const %d))\n", which ? 5 : 3);
        for (int j = 0; j < 16; j++)
            emit(&t, "(i8x16.splat (i32.add (local.get 1) (i32.const %d)))\n", j);
        for (int j = 0; j < 15; j++)
            emit(&t, "v128.xor\n");
        emit(&t, "(v128.xor (local.get 0))\n"
                 "(f64.convert_i32_s (local.get 1))\n"
                 "(i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get 2) "
                 "(local.get 0)))\n");
    }
    emit(&t, "(func $sink (param");
    for (int k = 0; k < LIVE; k++)
        emit(&t, " v128");
    emit(&t, " i32 v128 f64 v128)\n");
    for (int k = 0; k < LIVE; k++)
        emit(&t, "(v128.store (i32.const %d) (local.get %d))\n", 16 * k, k);
    emit(&t,
         "(i32.store (i32.const %d) (local.get %d))\n"
         "(v128.store (i32.const %d) (local.get %d))\n"
         "(f64.store (i32.const %d) (local.get %d))\n"
         "(v128.store (i32.const %d) (local.get %d)))\n",
         16 * LIVE, LIVE, 16 * LIVE + 16, LIVE + 1, 16 * LIVE + 32, LIVE + 2, 16 * LIVE + 48,
         LIVE + 3);
    emit(&t, "(func (export \"live\") (param $x i32) (param $sel i32)\n");
    for (int k = 0; k < LIVE; k++)
        emit_mk(&t, k);
    emit_mk(&t, 20);
    emit(&t, "(call $scramble (local.get $x))\n");
    emit_mk(&t, 21);
    emit(&t, "(block $d (param v128 i32 v128) (result i32 v128 f64 v128)\n"
             "  (block $c (param v128 i32 v128) (result v128 i32 v128)\n"
             "    (block $b (param v128 i32 v128) (result v128 i32 v128)\n"
             "      (block $a (param v128 i32 v128) (result v128 i32 v128)\n"
             "        (br_table $a $a $a $b $c (local.get $sel)))\n"
             "      (br $d (call_indirect (type $cl) (local.get $sel))))\n"
             "    (br $d (call $clobber)))\n"
             "  (call $vclobber))\n"
             "(call $sink)))\n");
    return text_close(&t);
}

static void check_calls(const fixture *fx, uint32_t x, int sel)
{
    wj_val args[] = {v_i32((int32_t)x), v_i32(sel)};
    call_ok_(__LINE__, fx, "live", args, 2, NULL);
    const uint8_t *mem = fx_memory(fx, "mem", NULL);
    char what[64];
    for (int k = 0; k < LIVE; k++) {
        snprintf(what, sizeof what, "x=%u sel=%d: live value %d", x, sel, k);
        ASSERT_VEC(what, vec_at(mem + 16 * k), mk_ref(x, k));
    }
    uint32_t n = x + 1; /* scramble's result */
    static const uint32_t factors[] = {3, 5, 7, 3, 7};
    int32_t r0;
    double r2;
    memcpy(&r0, mem + 16 * LIVE, 4);
    memcpy(&r2, mem + 16 * LIVE + 32, 8);
    ck_assert_int_eq(r0, (int32_t)(n * factors[sel]));
    ck_assert(r2 == (double)(int32_t)n);
    snprintf(what, sizeof what, "x=%u sel=%d: result 1", x, sel);
    ASSERT_VEC(what, vec_at(mem + 16 * LIVE + 16), vxor(splat8(fold8(n)), mk_ref(x, 20)));
    snprintf(what, sizeof what, "x=%u sel=%d: result 3", x, sel);
    ASSERT_VEC(what, vec_at(mem + 16 * LIVE + 48),
               vshuffle(mk_ref(x, 21), mk_ref(x, 20), reverse16));
}

START_TEST(calls_keep_live_values)
{
    char *wat = calls_wat();
    fixture fx;
    int calls = 0;
    open_scrambled(&fx, wat, NULL, &calls);
    free(wat);
    for (int sel = 0; sel < 5; sel++) {
        check_calls(&fx, 7, sel);
        check_calls(&fx, 0x12345678, sel);
    }
    ck_assert_int_eq(calls, 10 + 4); /* scramble each time, vclobber for sel 2 and 4 */

    /* $clobber called through the API */
    vec a = mk_ref(5, 20), b = mk_ref(5, 21);
    wj_val args[3] = {v128_val(a), v_i32(6), v128_val(b)}, res[4];
    call_ok_(__LINE__, &fx, "clobber", args, 3, res);
    ck_assert(res[0].kind == WJ_I32 && res[0].of.i32 == 18);
    ck_assert(res[1].kind == WJ_V128 && res[2].kind == WJ_F64 && res[2].of.f64 == 6.0);
    ck_assert(res[3].kind == WJ_V128);
    ASSERT_VEC("clobber result 1", vec_at(res[1].of.v128), vxor(a, splat8(fold8(6))));
    ASSERT_VEC("clobber result 3", vec_at(res[3].of.v128), vshuffle(b, a, reverse16));
    fx_close(&fx);
}
END_TEST

/* v128 values live across libcalls (memory.grow, memory.fill, memory.copy
 * call into C): LIVE values on the stack and a pinned local, through a
 * loop of $n rounds; then all go to memory 16*k (the local at 16*LIVE). */
static char *libcalls_wat(void)
{
    text t;
    text_open(&t);
    emit(&t, "(module (memory (export \"mem\") 1)\n"
             "(func $sink (param");
    for (int k = 0; k < LIVE; k++)
        emit(&t, " v128");
    emit(&t, ")\n");
    for (int k = 0; k < LIVE; k++)
        emit(&t, "(v128.store (i32.const %d) (local.get %d))\n", 16 * k, k);
    emit(&t, ")\n(func (export \"libcalls\") (param $x i32) (param $n i32) (local $p v128)\n"
             "(local.set $p (i32x4.splat (local.get $x)))\n");
    for (int k = 0; k < LIVE; k++)
        emit_mk(&t, k);
    emit(&t, "(loop $l (param");
    for (int k = 0; k < LIVE; k++)
        emit(&t, " v128");
    emit(&t, ") (result");
    for (int k = 0; k < LIVE; k++)
        emit(&t, " v128");
    emit(&t, ")\n"
             "  (local.set $p (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 (local.get $p) "
             "(local.get $p)))\n"
             "  (drop (memory.grow (i32.const 1)))\n"
             "  (memory.fill (i32.const 5000) (local.get $n) (i32.const 100))\n"
             "  (memory.copy (i32.const 6000) (i32.const 5000) (i32.const 50))\n"
             "  (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
             "  (br_if $l (local.get $n)))\n"
             "(call $sink)\n"
             "(v128.store (i32.const %d) (local.get $p))))\n",
             16 * LIVE);
    return text_close(&t);
}

/* _i: dynamic memories when 1 (memory.grow may move the memory). */
START_TEST(libcalls_keep_live_values)
{
    char *wat = libcalls_wat();
    wj_config *config = config_dynamic(_i);
    fixture fx;
    open_with(&fx, wat, config, NULL, 0);
    wj_config_delete(config);
    free(wat);
    const uint32_t x = 0xcafe0001, n = 4;
    CALL_OK(&fx, "libcalls", ARGS(v_i32((int32_t)x), v_i32((int32_t)n)), NULL);
    uint64_t size;
    const uint8_t *mem = fx_memory(&fx, "mem", &size);
    ck_assert_uint_eq(size, (1 + n) * 65536);
    for (int k = 0; k < LIVE; k++) {
        char what[32];
        snprintf(what, sizeof what, "live value %d", k);
        ASSERT_VEC(what, vec_at(mem + 16 * k), mk_ref(x, k));
    }
    vec p = splat32(x);
    for (uint32_t i = 0; i < n; i++)
        p = rotate1(p);
    ASSERT_VEC("pinned local", vec_at(mem + 16 * LIVE), p);
    ck_assert(mem[5000] == 1 && mem[5099] == 1 && mem[6000] == 1 && mem[6049] == 1);
    fx_close(&fx);
}
END_TEST

/* ==== v128 locals: pinned in a hot loop, spilled when too many ======================= */

/* $burn(i): sixteen v128 values of its own, folded to fold8(i): clobbers
 * the xmm registers a wasm callee may use. */
static const char burn_wat[] =
    "(func $burn (param $i i32) (result i32)\n"
    "  (i8x16.splat (local.get $i)) (i8x16.splat (i32.add (local.get $i) (i32.const 1)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 2))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 3)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 4))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 5)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 6))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 7)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 8))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 9)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 10))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 11)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 12))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 13)))\n"
    "  (i8x16.splat (i32.add (local.get $i) (i32.const 14))) (i8x16.splat (i32.add (local.get $i) "
    "(i32.const 15)))\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor\n"
    "  (i8x16.extract_lane_u 5))\n";

/* Four v128 values updated in every iteration, with a host call and a wasm
 * call in the loop: in locals ("pinned") or in parameters of a function
 * returning them as four results ("pinned_params"); pinned to xmm
 * registers either way. They start from memory 0..63 and end in memory
 * 64..127. */
#define PIN_LOOP                                                                                  \
    "  (loop $l\n"                                                                                \
    "    (local.set $a (v128.xor (local.get $a) (local.get $b)))\n"                               \
    "    (local.set $b (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 (local.get $b) "      \
    "(local.get $b)))\n"                                                                          \
    "    (local.set $c (v128.bitselect (local.get $a) (local.get $c) (local.get $d)))\n"          \
    "    (local.set $d (i32x4.replace_lane 0 (local.get $d) (i32.add (i32x4.extract_lane 0 "      \
    "(local.get $d))\n"                                                                           \
    "       (i32.add (call $scramble (local.get $i)) (call $burn (local.get $i))))))\n"           \
    "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"                                 \
    "    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
#define PIN_STORES                                                                                \
    "  (v128.store (i32.const 64) (local.get $a))\n"                                              \
    "  (v128.store (i32.const 80) (local.get $b))\n"                                              \
    "  (v128.store (i32.const 96) (local.get $c))\n"                                              \
    "  (v128.store (i32.const 112) (local.get $d))"

static const char pinned_wat_fmt[] =
    "(module\n"
    "(import \"env\" \"scramble\" (func $scramble (param i32) (result i32)))\n"
    "(memory (export \"mem\") 1)\n"
    "%s"
    "(func (export \"pinned\") (param $n i32)\n"
    "  (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $i i32)\n"
    "  (local.set $a (v128.load (i32.const 0)))\n"
    "  (local.set $b (v128.load (i32.const 16)))\n"
    "  (local.set $c (v128.load (i32.const 32)))\n"
    "  (local.set $d (v128.load (i32.const 48)))\n" PIN_LOOP PIN_STORES ")\n"
    "(func $loop (param $a v128) (param $b v128) (param $c v128) (param $d v128) (param $n i32)\n"
    "  (result v128 v128 v128 v128) (local $i i32)\n" PIN_LOOP
    "  (local.get $a) (local.get $b) (local.get $c) (local.get $d))\n"
    "(func (export \"pinned_params\") (param $n i32)\n"
    "  (local $a v128) (local $b v128) (local $c v128) (local $d v128)\n"
    "  (call $loop (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))\n"
    "    (v128.load (i32.const 48)) (local.get $n))\n"
    "  (local.set $d) (local.set $c) (local.set $b) (local.set $a)\n" PIN_STORES "))\n";

/* _i: 0 "pinned", 1 "pinned_params". */
START_TEST(locals_pinned_in_loop)
{
    char *wat;
    ck_assert_int_ge(asprintf(&wat, pinned_wat_fmt, burn_wat), 0);
    fixture fx;
    int calls = 0;
    open_scrambled(&fx, wat, NULL, &calls);
    free(wat);
    uint8_t *mem = fx_memory(&fx, "mem", NULL);
    prng_fill(1, mem, 64);
    vec a = vec_at(mem), b = vec_at(mem + 16), c = vec_at(mem + 32), d = vec_at(mem + 48);
    const uint32_t n = 37;
    for (uint32_t i = 0; i < n; i++) {
        a = vxor(a, b);
        b = rotate1(b);
        c = vbitselect(a, c, d);
        d = with_lane32(d, 0, lane32(d, 0) + (i + 1) + fold8(i));
    }
    CALL_OK(&fx, _i ? "pinned_params" : "pinned", ARGS(v_i32((int32_t)n)), NULL);
    ck_assert_int_eq(calls, (int)n);
    ASSERT_VEC("a", vec_at(mem + 64), a);
    ASSERT_VEC("b", vec_at(mem + 80), b);
    ASSERT_VEC("c", vec_at(mem + 96), c);
    ASSERT_VEC("d", vec_at(mem + 112), d);
    fx_close(&fx);
}
END_TEST

#define SPILLED 20 /* v128 locals: more than the xmm registers */

/* SPILLED v128 locals l0..l19 = splat(x + k*0x01010101); each iteration
 * l_k ^= rotate1(l_{k+1 mod SPILLED}) in order, with a host call in the
 * middle; then they go to memory 16*k. */
static char *spilled_wat(void)
{
    text t;
    text_open(&t);
    emit(&t, "(module\n"
             "(import \"env\" \"scramble\" (func $scramble (param i32) (result i32)))\n"
             "(memory (export \"mem\") 1)\n"
             "(func (export \"spilled\") (param $x i32) (param $n i32) (local $i i32)\n");
    for (int k = 0; k < SPILLED; k++)
        emit(&t, "(local $l%d v128)\n", k);
    for (int k = 0; k < SPILLED; k++)
        emit(&t,
             "(local.set $l%d (i32x4.splat (i32.add (local.get $x) (i32.const %d))))\n", k,
             k * 0x01010101);
    emit(&t, "(loop $loop\n");
    for (int k = 0; k < SPILLED; k++) {
        emit(&t,
             "(local.set $l%d (v128.xor (local.get $l%d) (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 "
             "11 12 13 14 15 0 (local.get $l%d) (local.get $l%d))))\n",
             k, k, (k + 1) % SPILLED, k);
        if (k == SPILLED / 2)
            emit(&t, "(local.set $i (call $scramble (local.get $i)))\n");
    }
    emit(&t, "(br_if $loop (i32.lt_u (local.get $i) (local.get $n))))\n");
    for (int k = 0; k < SPILLED; k++)
        emit(&t, "(v128.store (i32.const %d) (local.get $l%d))\n", 16 * k, k);
    emit(&t, "))\n");
    return text_close(&t);
}

START_TEST(locals_spilled)
{
    char *wat = spilled_wat();
    fixture fx;
    int calls = 0;
    open_scrambled(&fx, wat, NULL, &calls);
    free(wat);
    const uint32_t x = 0x10203040, n = 9;
    vec l[SPILLED];
    for (int k = 0; k < SPILLED; k++)
        l[k] = splat32(x + (uint32_t)k * 0x01010101u);
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < SPILLED; k++)
            l[k] = vxor(l[k], rotate1(l[(k + 1) % SPILLED]));
    CALL_OK(&fx, "spilled", ARGS(v_i32((int32_t)x), v_i32((int32_t)n)), NULL);
    ck_assert_int_eq(calls, (int)n);
    const uint8_t *mem = fx_memory(&fx, "mem", NULL);
    for (int k = 0; k < SPILLED; k++) {
        char what[32];
        snprintf(what, sizeof what, "local %d", k);
        ASSERT_VEC(what, vec_at(mem + 16 * k), l[k]);
    }
    fx_close(&fx);
}
END_TEST

/* ==== v128 through blocks, branches, select and globals ============================== */

/* Each export takes vectors A and B from memory 0 and 16 (so that they are
 * in registers, not constants) and returns its v128 as (i64 lo, i64 hi). */
static const char control_wat[] =
    "(module\n"
    "(memory (export \"mem\") 1)\n"
    "(global $g (mut v128) (v128.const i32x4 1 2 3 4))\n"
    "(func $a (result v128) (v128.load (i32.const 0)))\n"
    "(func $b (result v128) (v128.load (i32.const 16)))\n"
    /* block (param v128 i32) (result i32 v128): a swap, then lane 2 := the i32 */
    "(func (export \"block_params\") (param $x i32) (result i64 i64) (local $v v128)\n"
    "  (call $a) (local.get $x)\n"
    "  (block (param v128 i32) (result i32 v128) (local.set $x) (call $b) v128.xor "
    "(local.set $v) (i32.add (local.get $x) (i32.const 1)) (local.get $v))\n"
    "  (local.set $v) (local.set $x) (i32x4.replace_lane 2 (local.get $v) (local.get $x))\n"
    "  " RETURN_VEC ")\n"
    /* br_if carrying a v128 out of a block: A if $c, else B */
    "(func (export \"br_if\") (param $c i32) (result i64 i64) (local $v v128)\n"
    "  (block $out (result v128) (call $a) (local.get $c) (br_if $out) drop (call $b))\n"
    "  " RETURN_VEC ")\n"
    /* br_table to three depths, each v128 result modified on the way out */
    "(func (export \"br_table\") (param $i i32) (result i64 i64) (local $v v128)\n"
    "  (block $b2 (result v128) (block $b1 (result v128) (block $b0 (result v128)\n"
    "    (call $a) (br_table $b0 $b1 $b2 (local.get $i)))\n"
    "    (i32x4.replace_lane 0 (i32.const 100)))\n"
    "    (i32x4.replace_lane 1 (i32.const 101)))\n"
    "  (i32x4.replace_lane 2 (i32.const 102))\n"
    "  " RETURN_VEC ")\n"
    /* a loop with a v128 parameter (the first shuffle operand, B unused),
     * run $n times: rotate1^n(A) */
    "(func (export \"loop_param\") (param $n i32) (result i64 i64) (local $v v128)\n"
    "  (call $a)\n"
    "  (loop $l (param v128) (result v128)\n"
    "    (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 (call $b))\n"
    "    (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "    (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))\n"
    "  " RETURN_VEC ")\n"
    /* select of v128, untyped and typed */
    "(func (export \"select\") (param $c i32) (result i64 i64) (local $v v128)\n"
    "  (select (call $a) (call $b) (local.get $c)) " RETURN_VEC ")\n"
    "(func (export \"select_typed\") (param $c i32) (result i64 i64) (local $v v128)\n"
    "  (select (result v128) (call $b) (call $a) (local.get $c)) " RETURN_VEC ")\n"
    /* if (param v128) (result v128 v128): (A ^ B, B) or (B, A) */
    "(func (export \"if_else\") (param $c i32) (result i64 i64) (local $v v128)\n"
    "  (call $a) (local.get $c)\n"
    "  (if (param v128) (result v128 v128) (then (v128.xor (call $b)) (call $b))\n"
    "    (else (drop) (call $b) (call $a)))\n"
    "  (local.set $v) (v128.xor (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 "
    "(local.get $v) (local.get $v)))\n"
    "  " RETURN_VEC ")\n"
    /* a mutable v128 global: written from A, then each lane read back */
    "(func (export \"global\") (param $x i32) (result i64 i64) (local $v v128)\n"
    "  (global.set $g (i32x4.replace_lane 3 (call $a) (local.get $x)))\n"
    "  (global.get $g) " RETURN_VEC "))\n";

static void control_open(fixture *fx, vec *a, vec *b)
{
    open_with(fx, control_wat, NULL, NULL, 0);
    uint8_t *mem = fx_memory(fx, "mem", NULL);
    prng_fill(2, mem, 32);
    *a = vec_at(mem);
    *b = vec_at(mem + 16);
}

START_TEST(blocks_and_branches)
{
    fixture fx;
    vec a, b;
    control_open(&fx, &a, &b);
    ASSERT_VEC("block_params", CALL_VEC(&fx, "block_params", ARGS(v_i32(41))),
               with_lane32(vxor(a, b), 2, 42));
    ASSERT_VEC("br_if taken", CALL_VEC(&fx, "br_if", ARGS(v_i32(1))), a);
    ASSERT_VEC("br_if not taken", CALL_VEC(&fx, "br_if", ARGS(v_i32(0))), b);
    vec t2 = with_lane32(a, 2, 102), t1 = with_lane32(t2, 1, 101), t0 = with_lane32(t1, 0, 100);
    ASSERT_VEC("br_table 0", CALL_VEC(&fx, "br_table", ARGS(v_i32(0))), t0);
    ASSERT_VEC("br_table 1", CALL_VEC(&fx, "br_table", ARGS(v_i32(1))), t1);
    ASSERT_VEC("br_table 2", CALL_VEC(&fx, "br_table", ARGS(v_i32(2))), t2);
    ASSERT_VEC("br_table default", CALL_VEC(&fx, "br_table", ARGS(v_i32(7))), t2);
    vec r = a;
    for (int i = 0; i < 5; i++)
        r = rotate1(r);
    ASSERT_VEC("loop_param", CALL_VEC(&fx, "loop_param", ARGS(v_i32(5))), r);
    ASSERT_VEC("select 1", CALL_VEC(&fx, "select", ARGS(v_i32(1))), a);
    ASSERT_VEC("select 0", CALL_VEC(&fx, "select", ARGS(v_i32(0))), b);
    ASSERT_VEC("select_typed 1", CALL_VEC(&fx, "select_typed", ARGS(v_i32(-1))), b);
    ASSERT_VEC("select_typed 0", CALL_VEC(&fx, "select_typed", ARGS(v_i32(0))), a);
    /* the if's results (p, q) come back as p ^ reverse(q) */
    ASSERT_VEC("if then", CALL_VEC(&fx, "if_else", ARGS(v_i32(1))),
               vxor(vxor(a, b), vshuffle(b, b, reverse16)));
    ASSERT_VEC("if else", CALL_VEC(&fx, "if_else", ARGS(v_i32(0))),
               vxor(b, vshuffle(a, a, reverse16)));
    fx_close(&fx);
}
END_TEST

/* A branch out of a block with more v128 values on the stack than it
 * carries; locals never set read as zero even where an earlier call left
 * its values on the machine stack; a local written while an older read of
 * it is still on the operand stack (the read keeps the old value). */
static const char stack_wat[] =
    "(module\n"
    "(memory (export \"mem\") 1)\n"
    "(func $a (result v128) (v128.load (i32.const 0)))\n"
    "(func $b (result v128) (v128.load (i32.const 16)))\n"
    "(func (export \"br_if_deep\") (param $c i32) (result i64 i64) (local $v v128)\n"
    "  (block $out (result v128) (call $b) (call $a)\n"
    "    (i8x16.shuffle 3 17 4 18 5 19 6 20 7 21 8 22 9 23 31 0 (call $a) (call $b))\n"
    "    (br_if $out (local.get $c)) v128.xor v128.xor)\n"
    "  " RETURN_VEC ")\n"
    /* leaves 18 copies of A in its frame's slots; returns A */
    "(func $dirty (result v128)\n"
    "  (call $a) (call $a) (call $a) (call $a) (call $a) (call $a) (call $a) (call $a)\n"
    "  (call $a) (call $a) (call $a) (call $a) (call $a) (call $a) (call $a) (call $a)\n"
    "  (call $a) (call $a)\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.or)\n"
    "(func $fresh (param $p v128)\n"
    "  (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)\n"
    "  (local v128 v128 v128 v128)\n"
    "  (v128.store (i32.const 64) (local.get $p))\n"
    "  (v128.store (i32.const 80) (local.get 1)) (v128.store (i32.const 96) (local.get 2))\n"
    "  (v128.store (i32.const 112) (local.get 3)) (v128.store (i32.const 128) (local.get 4))\n"
    "  (v128.store (i32.const 144) (local.get 5)) (v128.store (i32.const 160) (local.get 6))\n"
    "  (v128.store (i32.const 176) (local.get 7)) (v128.store (i32.const 192) (local.get 8))\n"
    "  (v128.store (i32.const 208) (local.get 9)) (v128.store (i32.const 224) (local.get 10))\n"
    "  (v128.store (i32.const 240) (local.get 11)) (v128.store (i32.const 256) (local.get 12))\n"
    "  (v128.store (i32.const 272) (local.get 13)) (v128.store (i32.const 288) (local.get 14))\n"
    "  (v128.store (i32.const 304) (local.get 15)) (v128.store (i32.const 320) (local.get 16))\n"
    "  (v128.store (i32.const 336) (local.get 17)) (v128.store (i32.const 352) (local.get 18))\n"
    "  (v128.store (i32.const 368) (local.get 19)) (v128.store (i32.const 384) (local.get 20)))\n"
    "(func (export \"zero_locals\") (call $fresh (call $dirty)))\n"
    /* $n rounds of: old := v (lazily); v := rotate1(v) ^ B; w ^= old */
    "(func (export \"hazard\") (param $n i32) (result i64 i64) (local $v v128) (local $w v128)\n"
    "  (local.set $v (call $a))\n"
    "  (loop $l\n"
    "    (local.get $v)\n"
    "    (local.set $v (v128.xor (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 "
    "(local.get $v) (local.get $v)) (call $b)))\n"
    "    (local.set $w (v128.xor (local.get $w)))\n"
    "    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "  (v128.xor (local.get $w) (local.tee $v (local.get $v))) " RETURN_VEC "))\n";

START_TEST(stack_values_and_locals)
{
    fixture fx;
    open_with(&fx, stack_wat, NULL, NULL, 0);
    uint8_t *mem = fx_memory(&fx, "mem", NULL);
    prng_fill(10, mem, 32);
    memset(mem + 64, 0xee, 336);
    vec a = vec_at(mem), b = vec_at(mem + 16);
    static const uint8_t pat[16] = {3, 17, 4, 18, 5, 19, 6, 20, 7, 21, 8, 22, 9, 23, 31, 0};
    vec x = vshuffle(a, b, pat);
    ASSERT_VEC("br_if_deep taken", CALL_VEC(&fx, "br_if_deep", ARGS(v_i32(1))), x);
    ASSERT_VEC("br_if_deep not taken", CALL_VEC(&fx, "br_if_deep", ARGS(v_i32(0))),
               vxor(b, vxor(a, x)));

    CALL_OK(&fx, "zero_locals", NOARGS, NULL);
    ASSERT_VEC("parameter", vec_at(mem + 64), a); /* 18 a's: xor of 17, or the last */
    for (int k = 1; k <= 20; k++) {
        char what[32];
        snprintf(what, sizeof what, "local %d", k);
        ASSERT_VEC(what, vec_at(mem + 64 + 16 * k), splat8(0));
    }

    vec v = a, w = splat8(0);
    const int n = 11;
    for (int i = 0; i < n; i++) {
        vec old = v;
        v = vxor(rotate1(v), b);
        w = vxor(w, old);
    }
    ASSERT_VEC("hazard", CALL_VEC(&fx, "hazard", ARGS(v_i32(n))), vxor(w, v));
    fx_close(&fx);
}
END_TEST


/* v128 globals: defined (mutable, and immutable initialised from an
 * imported one), imported from the host and from another instance, read
 * and written by wasm and through wj_global_get/set. */
static const char globals_a_wat[] =
    "(module\n"
    "(import \"env\" \"h\" (global $h (mut v128)))\n"
    "(import \"env\" \"k\" (global $k v128))\n"
    "(global $g (export \"g\") (mut v128) (v128.const i32x4 0x11111111 0x22222222 0x33333333 "
    "0x44444444))\n"
    "(global $d (export \"d\") v128 (global.get $k))\n"
    "(func (export \"step\") (param $x i32)\n"
    "  (global.set $g (v128.xor (global.get $g) (global.get $h)))\n"
    "  (global.set $h (i32x4.replace_lane 0 (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 "
    "(global.get $d) (global.get $d)) (local.get $x))))\n"
    "(func (export \"read_g\") (result i64 i64) (local $v v128) (global.get $g) " RETURN_VEC "))\n";

static const char globals_b_wat[] =
    "(module (import \"a\" \"g\" (global $g (mut v128)))\n"
    "(func (export \"bump\") (global.set $g (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 "
    "(global.get $g) (global.get $g)))))\n";

static vec global_vec(const wj_global *g)
{
    wj_val v;
    wj_global_get(g, &v);
    ck_assert_int_eq(v.kind, WJ_V128);
    return vec_at(v.of.v128);
}

START_TEST(globals_v128)
{
    vec h0, k, x;
    prng_fill(11, h0.b, 16);
    prng_fill(12, k.b, 16);
    prng_fill(13, x.b, 16);
    fixture a;
    fx_prepare_opts(&a, globals_a_wat, wat_opts, NULL);
    wj_globaltype mut = {WJ_V128, true}, imm = {WJ_V128, false};
    wj_extern imports[2] = {{.kind = WJ_EXTERN_GLOBAL}, {.kind = WJ_EXTERN_GLOBAL}};
    wj_val init = v128_val(h0);
    ck_assert_no_wj_error(wj_global_new(a.store, &mut, &init, &imports[0].of.global));
    init = v128_val(k);
    ck_assert_no_wj_error(wj_global_new(a.store, &imm, &init, &imports[1].of.global));
    fx_instantiate(&a, imports, 2);
    wj_global *g = fx_export(&a, "g", WJ_EXTERN_GLOBAL).of.global;
    wj_global *d = fx_export(&a, "d", WJ_EXTERN_GLOBAL).of.global;
    vec g0 = splat32(0);
    for (int i = 0; i < 4; i++)
        g0 = with_lane32(g0, i, 0x11111111u * (uint32_t)(i + 1));
    ASSERT_VEC("g initial", global_vec(g), g0);
    ASSERT_VEC("d from k", global_vec(d), k);

    CALL_OK(&a, "step", ARGS(v_i32(7)), NULL);
    ASSERT_VEC("g after step", global_vec(g), vxor(g0, h0));
    ASSERT_VEC("g read by wasm", CALL_VEC(&a, "read_g", NOARGS), vxor(g0, h0));
    ASSERT_VEC("h after step", global_vec(imports[0].of.global), with_lane32(rotate1(k), 0, 7));

    wj_val xv = v128_val(x);
    ck_assert_no_wj_error(wj_global_set(g, &xv));
    ASSERT_VEC("g set by the host", CALL_VEC(&a, "read_g", NOARGS), x);

    /* a second instance imports g and writes it */
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(globals_b_wat, wat_opts, &len);
    wj_module *mb = NULL;
    ck_assert_no_wj_error(wj_module_new(a.engine, bytes, len, &mb));
    free(bytes);
    wj_extern gi = {.kind = WJ_EXTERN_GLOBAL, .of.global = g};
    wj_trap *trap = NULL;
    wj_instance *ib = NULL;
    ck_assert_no_wj_error(wj_instance_new(a.store, mb, &gi, 1, &ib, &trap));
    ck_assert_no_trap(trap);
    wj_extern bump;
    ck_assert(wj_instance_export(ib, "bump", 4, &bump) && bump.kind == WJ_EXTERN_FUNC);
    ck_assert_no_wj_error(wj_func_call(bump.of.func, NULL, 0, NULL, 0, &trap));
    ck_assert_no_trap(trap);
    vec want = vshuffle(x, x, reverse16);
    ASSERT_VEC("g written by the importer", global_vec(g), want);
    ASSERT_VEC("g read by the exporter", CALL_VEC(&a, "read_g", NOARGS), want);
    wj_store_delete(a.store); /* both instances, before b's module */
    a.store = NULL;
    wj_module_delete(mb);
    fx_close(&a);
}
END_TEST

/* Instructions that compute in place (replace_lane, load*_lane, not,
 * andnot, bitselect, shuffle, swizzle) on v128 locals pinned in a loop: the
 * locals keep their values; any_true decides a select and a branch. */
static const char copies_wat[] =
    "(module (memory (export \"mem\") 1)\n"
    "(func (export \"copies\") (param $n i32) (result i64 i64)\n"
    "  (local $p v128) (local $q v128) (local $acc v128) (local $v v128)\n"
    "  (local.set $p (v128.load (i32.const 0)))\n"
    "  (local.set $q (v128.load (i32.const 16)))\n"
    "  (loop $l\n"
    "    (local.set $acc (v128.xor (local.get $acc) (i8x16.replace_lane 3 (local.get $p) "
    "(i32.const 0x7f))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (i16x8.replace_lane 5 (local.get $q) "
    "(local.get $n))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (i64x2.replace_lane 1 (local.get $p) "
    "(i64.const -2))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (f32x4.replace_lane 2 (local.get $q) "
    "(f32.const 1.5))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (v128.load16_lane 6 (i32.const 40) "
    "(local.get $p))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (v128.not (local.get $q))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (v128.andnot (local.get $p) (local.get "
    "$q))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (v128.bitselect (local.get $p) (local.get $q) "
    "(local.get $acc))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 "
    "27 12 29 14 31 (local.get $q) (local.get $p))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (i8x16.swizzle (local.get $p) (local.get "
    "$q))))\n"
    "    (local.set $acc (v128.xor (local.get $acc) (select (local.get $p) (local.get $q)\n"
    "      (v128.any_true (v128.and (local.get $p) (i8x16.splat (i32.and (local.get $n) "
    "(i32.const 1))))))))\n"
    "    (local.set $p (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 (local.get $p) "
    "(local.get $p)))\n"
    "    (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "    (br_if $l (v128.any_true (i32x4.splat (local.get $n)))))\n"
    "  (v128.store (i32.const 64) (local.get $p)) (v128.store (i32.const 80) (local.get $q))\n"
    "  (local.get $acc) " RETURN_VEC "))\n";

START_TEST(operands_are_copies)
{
    fixture fx;
    open_with(&fx, copies_wat, NULL, NULL, 0);
    uint8_t *mem = fx_memory(&fx, "mem", NULL);
    prng_fill(14, mem, 48);
    for (int i = 16; i < 32; i++)
        mem[i] %= 24; /* swizzle indices, some out of range */
    vec p = vec_at(mem), q = vec_at(mem + 16), acc = splat8(0);
    static const uint8_t pat[16] = {0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31};
    const uint32_t n0 = 9;
    for (uint32_t n = n0; n > 0; n--) {
        vec r;
        r = p, r.b[3] = 0x7f, acc = vxor(acc, r);
        r = q, r.b[10] = (uint8_t)n, r.b[11] = (uint8_t)(n >> 8), acc = vxor(acc, r);
        r = p, memset(r.b + 8, 0xff, 8), r.b[8] = 0xfe, acc = vxor(acc, r);
        acc = vxor(acc, with_lane32(q, 2, 0x3fc00000));
        r = p, r.b[12] = mem[40], r.b[13] = mem[41], acc = vxor(acc, r);
        acc = vxor(acc, vxor(q, splat8(0xff)));
        for (int i = 0; i < 16; i++)
            r.b[i] = (uint8_t)(p.b[i] & ~q.b[i]);
        acc = vxor(acc, r);
        acc = vxor(acc, vbitselect(p, q, acc));
        acc = vxor(acc, vshuffle(q, p, pat));
        for (int i = 0; i < 16; i++)
            r.b[i] = q.b[i] < 16 ? p.b[q.b[i]] : 0;
        acc = vxor(acc, r);
        bool any = false;
        for (int i = 0; i < 16; i++)
            any |= (p.b[i] & (n & 1)) != 0;
        acc = vxor(acc, any ? p : q);
        p = rotate1(p);
    }
    ASSERT_VEC("acc", CALL_VEC(&fx, "copies", ARGS(v_i32((int32_t)n0))), acc);
    ASSERT_VEC("p", vec_at(mem + 64), p);
    ASSERT_VEC("q", vec_at(mem + 80), q);
    fx_close(&fx);
}
END_TEST

/* ==== v128 memory accesses: every kind, alignment and the end of memory ============== */

typedef enum load_kind { WHOLE, EXTEND, SPLAT, ZERO, LANE } load_kind;

typedef struct mem_op {
    const char *name;
    bool store;
    load_kind kind;
    int size;     /* bytes accessed */
    int lane;     /* the lane of *_lane; for EXTEND the source lane width */
    bool is_signed;
} mem_op;

static const mem_op mem_ops[] = {
    {"v128.load", false, WHOLE, 16, 0, false},
    {"v128.load8x8_s", false, EXTEND, 8, 1, true},
    {"v128.load8x8_u", false, EXTEND, 8, 1, false},
    {"v128.load16x4_s", false, EXTEND, 8, 2, true},
    {"v128.load16x4_u", false, EXTEND, 8, 2, false},
    {"v128.load32x2_s", false, EXTEND, 8, 4, true},
    {"v128.load32x2_u", false, EXTEND, 8, 4, false},
    {"v128.load8_splat", false, SPLAT, 1, 0, false},
    {"v128.load16_splat", false, SPLAT, 2, 0, false},
    {"v128.load32_splat", false, SPLAT, 4, 0, false},
    {"v128.load64_splat", false, SPLAT, 8, 0, false},
    {"v128.load32_zero", false, ZERO, 4, 0, false},
    {"v128.load64_zero", false, ZERO, 8, 0, false},
    {"v128.load8_lane", false, LANE, 1, 0, false},
    {"v128.load8_lane", false, LANE, 1, 15, false},
    {"v128.load16_lane", false, LANE, 2, 0, false},
    {"v128.load16_lane", false, LANE, 2, 7, false},
    {"v128.load32_lane", false, LANE, 4, 0, false},
    {"v128.load32_lane", false, LANE, 4, 3, false},
    {"v128.load64_lane", false, LANE, 8, 0, false},
    {"v128.load64_lane", false, LANE, 8, 1, false},
    {"v128.store", true, WHOLE, 16, 0, false},
    {"v128.store8_lane", true, LANE, 1, 0, false},
    {"v128.store8_lane", true, LANE, 1, 15, false},
    {"v128.store16_lane", true, LANE, 2, 0, false},
    {"v128.store16_lane", true, LANE, 2, 7, false},
    {"v128.store32_lane", true, LANE, 4, 0, false},
    {"v128.store32_lane", true, LANE, 4, 3, false},
    {"v128.store64_lane", true, LANE, 8, 0, false},
    {"v128.store64_lane", true, LANE, 8, 1, false},
};
#define MEM_OP_COUNT (int)(sizeof mem_ops / sizeof *mem_ops)

/* The vector operand of lane loads and of stores. */
static vec operand_vec(void)
{
    vec v;
    prng_fill(3, v.b, 16);
    return v;
}

/* What load `op` makes of the bytes at p. */
static vec load_ref(const mem_op *op, const uint8_t *p)
{
    vec r;
    memset(r.b, 0, 16);
    switch (op->kind) {
    case WHOLE: return vec_at(p);
    case EXTEND: {
        int w = op->lane, n = 8 / w; /* n source lanes of w bytes, each to 2w */
        for (int i = 0; i < n; i++) {
            bool negative = op->is_signed && (p[i * w + w - 1] & 0x80);
            memcpy(r.b + 2 * w * i, p + i * w, (size_t)w);
            memset(r.b + 2 * w * i + w, negative ? 0xff : 0, (size_t)w);
        }
        return r;
    }
    case SPLAT:
        for (int i = 0; i < 16; i += op->size)
            memcpy(r.b + i, p, (size_t)op->size);
        return r;
    case ZERO: memcpy(r.b, p, (size_t)op->size); return r;
    case LANE:
        r = operand_vec();
        memcpy(r.b + op->lane * op->size, p, (size_t)op->size);
        return r;
    }
    return r;
}

/* Memory layouts: a 32-bit or 64-bit memory 0, or a second memory (of two
 * pages, 64-bit, so that its indices and bounds differ from memory 0's);
 * static (guard regions) or dynamic (bounds checks). */
enum { MEM32, MEM64, MEM_SECOND, MEM_LAYOUTS };
static const char *const layout_names[] = {"memory 0 (i32)", "memory 0 (i64)",
                                           "memory 1 (i64, 2 pages)"};

/* For op i: export "i" takes the address, export "oi" the address with the
 * memarg offset `off` (the last valid one when the address is 0). Loads
 * return (i64 lo, i64 hi); stores store operand_vec(). */
static char *mem_wat(int layout, uint64_t limit)
{
    bool is64 = layout != MEM32;
    const char *at = is64 ? "i64" : "i32";
    const char *mem = layout == MEM_SECOND ? "$m1 " : "";
    text t;
    text_open(&t);
    char buf[128];
    emit(&t, "(module\n(memory $m0 (export \"mem0\") %s 1)\n", layout == MEM64 ? "i64" : "");
    if (layout == MEM_SECOND)
        emit(&t, "(memory $m1 (export \"mem1\") i64 2)\n");
    for (int i = 0; i < MEM_OP_COUNT; i++) {
        const mem_op *op = &mem_ops[i];
        for (int with_offset = 0; with_offset < 2; with_offset++) {
            emit(&t, "(func (export \"%s%d\") (param $a %s)", with_offset ? "o" : "", i, at);
            char memarg[80], lane[8] = "";
            snprintf(memarg, sizeof memarg, "%soffset=%" PRIu64, mem,
                     with_offset ? limit - (uint64_t)op->size : 0);
            if (op->kind == LANE)
                snprintf(lane, sizeof lane, " %d", op->lane);
            if (op->store) {
                emit(&t, " (%s %s%s (local.get $a) %s))\n", op->name, memarg, lane,
                     vconst_text(operand_vec(), buf));
            } else {
                emit(&t, " (result i64 i64) (local $v v128) (%s %s%s (local.get $a)%s%s) %s)\n",
                     op->name, memarg, lane, op->kind == LANE ? " " : "",
                     op->kind == LANE ? vconst_text(operand_vec(), buf) : "", RETURN_VEC);
            }
        }
    }
    emit(&t, ")\n");
    return text_close(&t);
}

static wj_val address(int layout, uint64_t a)
{
    return layout == MEM32 ? v_i32((int32_t)(uint32_t)a) : v_i64((int64_t)a);
}

/* Runs op `i` (export prefix `pre`) at address `a` against `shadow`, the
 * expected contents of the memory under test; `fits` says whether it may
 * run (else it must trap and change nothing). */
static void check_access(const fixture *fx, int layout, const char *pre, int i, uint64_t a,
                         bool fits, uint64_t at, uint8_t *mem, uint8_t *shadow, uint64_t size)
{
    const mem_op *op = &mem_ops[i];
    char name[16], what[128];
    snprintf(name, sizeof name, "%s%d", pre, i);
    char lane[16] = "";
    if (op->kind == LANE)
        snprintf(lane, sizeof lane, " lane %d", op->lane);
    snprintf(what, sizeof what, "%s: %s%s (export %s) at address %" PRIu64, layout_names[layout],
             op->name, lane, name, a);
    wj_val arg = address(layout, a), res[2];
    wj_trap *trap = fx_call(fx, name, &arg, 1, res);
    if (!fits) {
        ck_assert_msg(trap && wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS &&
                          strcmp(wj_trap_message(trap), "out of bounds memory access") == 0,
                      "%s: expected an out of bounds trap, got %s", what,
                      trap ? wj_trap_message(trap) : "none");
        /* at the access: after the local declarations (a v128 for loads:
         * 01 01 7b; none for stores: 00), local.get $a (20 00) and, for
         * stores and lane loads, the v128.const (fd 0c and 16 bytes) */
        uint64_t want = (op->store ? 1 : 3) + 2 + (op->store || op->kind == LANE ? 18 : 0);
        const wj_frame *f = wj_trap_frame_count(trap) ? wj_trap_frame(trap, 0) : NULL;
        ck_assert_msg(f && f->func_offset == want, "%s: trap at function offset %" PRIu64
                      ", want %" PRIu64, what, f ? f->func_offset : UINT64_MAX, want);
        wj_trap_delete(trap);
    } else {
        ck_assert_msg(trap == NULL, "%s: unexpected trap \"%s\"", what,
                      trap ? wj_trap_message(trap) : "");
        if (op->store) {
            vec v = operand_vec();
            memcpy(shadow + at, v.b + (op->kind == LANE ? op->lane * op->size : 0),
                   (size_t)op->size);
        } else {
            vec got;
            memcpy(got.b, &res[0].of.i64, 8);
            memcpy(got.b + 8, &res[1].of.i64, 8);
            assert_vec_(__LINE__, what, got, load_ref(op, shadow + at));
        }
    }
    if (memcmp(mem, shadow, size) != 0) {
        uint64_t d = 0;
        while (mem[d] == shadow[d])
            d++;
        ck_abort_msg("%s: memory byte %" PRIu64 " is %02x, want %02x", what, d, mem[d], shadow[d]);
    }
}

static void memory_accesses(int layout, bool dynamic)
{
    uint64_t limit = layout == MEM_SECOND ? 2 * 65536 : 65536;
    char *wat = mem_wat(layout, limit);
    wj_config *config = config_dynamic(dynamic);
    fixture fx;
    open_with(&fx, wat, config, NULL, 0);
    wj_config_delete(config);
    free(wat);
    uint64_t size;
    uint8_t *mem = fx_memory(&fx, layout == MEM_SECOND ? "mem1" : "mem0", &size);
    ck_assert_uint_eq(size, limit);
    prng_fill(4, mem, size);
    uint8_t *shadow = malloc(size);
    ck_assert_ptr_nonnull(shadow);
    memcpy(shadow, mem, size);
    uint64_t huge = layout == MEM32 ? UINT32_MAX : UINT64_MAX - 7;
    for (int i = 0; i < MEM_OP_COUNT; i++) {
        uint64_t n = (uint64_t)mem_ops[i].size, last = limit - n;
        for (uint64_t al = 0; al < 16; al++)
            check_access(&fx, layout, "", i, 4096 + al, true, 4096 + al, mem, shadow, size);
        check_access(&fx, layout, "", i, last, true, last, mem, shadow, size);
        check_access(&fx, layout, "", i, last + 1, false, 0, mem, shadow, size);
        check_access(&fx, layout, "", i, limit, false, 0, mem, shadow, size);
        check_access(&fx, layout, "", i, huge, false, 0, mem, shadow, size);
        /* the same end through the memarg offset */
        check_access(&fx, layout, "o", i, 0, true, last, mem, shadow, size);
        check_access(&fx, layout, "o", i, 1, false, 0, mem, shadow, size);
        check_access(&fx, layout, "o", i, huge, false, 0, mem, shadow, size);
    }
    free(shadow);
    fx_close(&fx);
}

/* _i: layout i / 2, dynamic memories when i is odd. */
START_TEST(memory_every_kind_alignment_and_end)
{
    memory_accesses(_i / 2, _i % 2);
}
END_TEST

/* memory.grow by a page, then a v128 store and load at $a in the same
 * function: a dynamic memory may move when it grows, and the bounds change.
 * Layouts as memory_accesses'. */
static char *grow_wat(int layout)
{
    const char *at = layout == MEM32 ? "i32" : "i64";
    const char *mem = layout == MEM_SECOND ? "$m1 " : "";
    char *wat;
    ck_assert_int_ge(
        asprintf(&wat,
                 "(module (memory $m0 (export \"mem0\") %s 1)\n%s"
                 "(func (export \"grow_store\") (param $a %s) (param $x i32) (result i64 i64)\n"
                 "  (local $v v128)\n"
                 "  (drop (memory.grow %s(%s.const 1)))\n"
                 "  (v128.store %s(local.get $a) (i32x4.splat (local.get $x)))\n"
                 "  (v128.load %s(local.get $a)) " RETURN_VEC "))\n",
                 layout == MEM64 ? "i64" : "",
                 layout == MEM_SECOND ? "(memory $m1 (export \"mem1\") i64 2)\n" : "", at, mem,
                 at, mem, mem),
        0);
    return wat;
}

static void grow_then_access(int layout, bool dynamic)
{
    char *wat = grow_wat(layout);
    wj_config *config = config_dynamic(dynamic);
    fixture fx;
    open_with(&fx, wat, config, NULL, 0);
    wj_config_delete(config);
    free(wat);
    const char *name = layout == MEM_SECOND ? "mem1" : "mem0";
    uint64_t pages = layout == MEM_SECOND ? 2 : 1, size;
    for (uint32_t round = 1; round <= 3; round++) {
        uint64_t end = ++pages * 65536;
        vec got = CALL_VEC(&fx, "grow_store", ARGS(address(layout, end - 16), v_i32((int32_t)round)));
        ASSERT_VEC("loaded at the new end", got, splat32(round));
        uint8_t *mem = fx_memory(&fx, name, &size);
        ck_assert_uint_eq(size, end);
        ASSERT_VEC("stored at the new end", vec_at(mem + end - 16), splat32(round));
        /* one byte past the end after growing: a trap, nothing stored */
        end = ++pages * 65536;
        wj_trap *trap = fx_call(&fx, "grow_store", ARGS(address(layout, end - 15), v_i32(9)),
                                (wj_val[2]){{0}});
        ck_assert_msg(trap && wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                      "%s, grown to %" PRIu64 " pages: no trap one past the end",
                      layout_names[layout], pages);
        wj_trap_delete(trap);
        mem = fx_memory(&fx, name, &size);
        ck_assert_uint_eq(size, end);
        ASSERT_VEC("nothing stored past the end", vec_at(mem + end - 16), splat8(0));
    }
    fx_close(&fx);
}

START_TEST(grow_then_access_at_new_end)
{
    grow_then_access(_i / 2, _i % 2);
}
END_TEST

/* ==== i8x16.shuffle with many lane patterns ========================================= */

#define MAX_PATTERNS 160

/* Fills pats with the patterns under test; returns their number. */
static int shuffle_patterns(uint8_t pats[][16])
{
    int n = 0;
    uint8_t *p;
#define NEXT (p = pats[n++])
    NEXT;
    for (int i = 0; i < 16; i++) p[i] = (uint8_t)i;                /* identity */
    NEXT;
    for (int i = 0; i < 16; i++) p[i] = (uint8_t)(15 - i);         /* reverse */
    NEXT;
    for (int i = 0; i < 16; i++) p[i] = (uint8_t)(16 + i);         /* all of b */
    NEXT;
    for (int i = 0; i < 16; i++) p[i] = (uint8_t)(31 - i);         /* b reversed */
    for (int w = 1; w <= 8; w *= 2) {                              /* interleaves */
        for (int half = 0; half < 2; half++) {
            NEXT;
            for (int i = 0; i < 16; i++) {
                int unit = i / w, from_b = unit % 2;
                p[i] = (uint8_t)(half * 8 + (unit / 2) * w + i % w + 16 * from_b);
            }
            NEXT; /* b first */
            for (int i = 0; i < 16; i++) p[i] = (uint8_t)(pats[n - 2][i] ^ 16);
        }
    }
    for (int k = 1; k < 16; k++) {                                 /* byte rotations of a++b */
        NEXT;
        for (int i = 0; i < 16; i++) p[i] = (uint8_t)(k + i);
        NEXT;
        for (int i = 0; i < 16; i++) p[i] = (uint8_t)((k + i) % 16); /* of a alone */
    }
    for (int w = 1; w <= 8; w *= 2) {                              /* broadcasts */
        for (int lane = 0; lane < 16 / w; lane += (w == 1 ? 5 : 1)) {
            for (int b = 0; b < 2; b++) {
                NEXT;
                for (int i = 0; i < 16; i++) p[i] = (uint8_t)(lane * w + i % w + 16 * b);
            }
        }
    }
    static const uint8_t dword_orders[][4] = {{2, 0, 3, 1}, {3, 3, 0, 0}, {1, 0, 7, 6},
                                              {4, 5, 2, 3}, {0, 4, 1, 5}, {6, 2, 7, 3}};
    for (size_t k = 0; k < sizeof dword_orders / sizeof *dword_orders; k++) { /* dwords */
        NEXT;
        for (int i = 0; i < 16; i++) p[i] = (uint8_t)(4 * dword_orders[k][i / 4] + i % 4);
    }
    for (int mask = 0x55; mask <= 0xaa; mask += 0x55) {            /* word blends */
        NEXT;
        for (int i = 0; i < 16; i++) p[i] = (uint8_t)(i + ((mask >> (i / 2)) & 1) * 16);
    }
    NEXT;
    for (int i = 0; i < 16; i++) p[i] = (uint8_t)(i + (i % 3 == 0) * 16); /* a byte blend */
    NEXT;
    memset(p, 0, 16);                                              /* byte 0 everywhere */
    NEXT;
    memset(p, 31, 16);                                             /* byte 31 everywhere */
    uint64_t seed = 5;
    while (n < MAX_PATTERNS) {                                     /* random */
        NEXT;
        int range = n % 3; /* 0: both operands, 1: a only, 2: b only */
        for (int i = 0; i < 16; i++) {
            uint8_t r = (uint8_t)prng_next(&seed);
            p[i] = range == 0 ? r % 32 : range == 1 ? r % 16 : 16 + r % 16;
        }
    }
#undef NEXT
    return n;
}

/* Three exports per pattern i: "r<i>" on A and B from memory 0 and 16,
 * "s<i>" on A as both operands, "c<i>" on constants A and B. */
static char *shuffle_wat(uint8_t pats[][16], int n, vec a, vec b)
{
    text t;
    text_open(&t);
    char ca[128], cb[128];
    emit(&t, "(module (memory (export \"mem\") 1)\n");
    for (int k = 0; k < n; k++) {
        char idx[64];
        int len = 0;
        for (int i = 0; i < 16; i++)
            len += sprintf(idx + len, " %d", pats[k][i]);
        emit(&t,
             "(func (export \"r%d\") (result i64 i64) (local $v v128) (i8x16.shuffle%s "
             "(v128.load (i32.const 0)) (v128.load (i32.const 16))) %s)\n",
             k, idx, RETURN_VEC);
        emit(&t,
             "(func (export \"s%d\") (result i64 i64) (local $v v128) (local.set $v (v128.load "
             "(i32.const 0))) (i8x16.shuffle%s (local.get $v) (local.get $v)) %s)\n",
             k, idx, RETURN_VEC);
        emit(&t, "(func (export \"c%d\") (result i64 i64) (local $v v128) (i8x16.shuffle%s %s %s) %s)\n",
             k, idx, vconst_text(a, ca), vconst_text(b, cb), RETURN_VEC);
    }
    emit(&t, ")\n");
    return text_close(&t);
}

START_TEST(shuffle_patterns_exact)
{
    static uint8_t pats[MAX_PATTERNS][16];
    int n = shuffle_patterns(pats);
    ck_assert_int_eq(n, MAX_PATTERNS);
    vec a, b;
    prng_fill(6, a.b, 16);
    prng_fill(7, b.b, 16);
    char *wat = shuffle_wat(pats, n, a, b);
    fixture fx;
    open_with(&fx, wat, NULL, NULL, 0);
    free(wat);
    uint8_t *mem = fx_memory(&fx, "mem", NULL);
    memcpy(mem, a.b, 16);
    memcpy(mem + 16, b.b, 16);
    for (int k = 0; k < n; k++) {
        char name[16], what[96];
        int len = snprintf(what, sizeof what, "pattern");
        for (int i = 0; i < 16; i++)
            len += snprintf(what + len, sizeof what - (size_t)len, " %d", pats[k][i]);
        snprintf(name, sizeof name, "r%d", k);
        ASSERT_VEC(what, CALL_VEC(&fx, name, NOARGS), vshuffle(a, b, pats[k]));
        snprintf(name, sizeof name, "s%d", k);
        ASSERT_VEC(what, CALL_VEC(&fx, name, NOARGS), vshuffle(a, a, pats[k]));
        snprintf(name, sizeof name, "c%d", k);
        ASSERT_VEC(what, CALL_VEC(&fx, name, NOARGS), vshuffle(a, b, pats[k]));
    }
    fx_close(&fx);
}
END_TEST

/* i8x16.swizzle: indices of 16 and more (0x80 and up included) give 0. */
START_TEST(swizzle_out_of_range_indices)
{
    fixture fx;
    open_with(&fx,
              "(module (memory (export \"mem\") 1)\n"
              "(func (export \"swizzle\") (result i64 i64) (local $v v128)\n"
              "  (i8x16.swizzle (v128.load (i32.const 0)) (v128.load (i32.const 16))) " RETURN_VEC
              "))\n",
              NULL, NULL, 0);
    uint8_t *mem = fx_memory(&fx, "mem", NULL);
    vec a, idx, want;
    prng_fill(8, a.b, 16);
    for (int round = 0; round < 8; round++) {
        prng_fill(9 + (uint64_t)round, idx.b, 16);
        if (round % 2) /* half the rounds mostly in range */
            for (int i = 0; i < 16; i++)
                idx.b[i] %= 20;
        for (int i = 0; i < 16; i++)
            want.b[i] = idx.b[i] < 16 ? a.b[idx.b[i]] : 0;
        memcpy(mem, a.b, 16);
        memcpy(mem + 16, idx.b, 16);
        ASSERT_VEC("swizzle", CALL_VEC(&fx, "swizzle", NOARGS), want);
    }
    fx_close(&fx);
}
END_TEST

/* ==== traps inside SIMD code: the byte offset of the trapping instruction ============= */

/* Each trapping instruction carries a memarg offset found nowhere else in
 * the module, so its bytes locate it: v128.load with offset 12345 is
 * fd 00 04 b9 60, v128.store8_lane offset 777 lane 5 is fd 58 00 89 06 05,
 * v128.load32_zero offset 4242 is fd 5c 02 92 21. $deep traps with 18 v128
 * values live; "via_call" reaches it through a call at a known offset. */
static const char trap_wat[] =
    "(module (memory 1)\n"
    "(func $deep (export \"deep\") (param $a i32) (result v128)\n"
    "  (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))\n"
    "  (v128.load (i32.const 48)) (v128.load (i32.const 64)) (v128.load (i32.const 80))\n"
    "  (v128.load (i32.const 96)) (v128.load (i32.const 112)) (v128.load (i32.const 128))\n"
    "  (v128.load (i32.const 144)) (v128.load (i32.const 160)) (v128.load (i32.const 176))\n"
    "  (v128.load (i32.const 192)) (v128.load (i32.const 208)) (v128.load (i32.const 224))\n"
    "  (v128.load (i32.const 240)) (v128.load (i32.const 256))\n"
    "  (v128.load offset=12345 (local.get $a))\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor\n"
    "  v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor v128.xor)\n"
    "(func (export \"lane_store\") (param $a i32)\n"
    "  (v128.store8_lane offset=777 5 (local.get $a) (i8x16.splat (local.get $a))))\n"
    "(func (export \"zero_load\") (param $a i32) (result i32)\n"
    "  (i32x4.extract_lane 0 (v128.load32_zero offset=4242 (local.get $a))))\n"
    "(func (export \"via_call\") (param $a i32) (result i32)\n"
    "  (i32.const 7) (drop)\n"
    "  (i32x4.extract_lane 1 (call $deep (local.get $a)))))\n";

/* Module offset of the only occurrence of `pat`. */
static uint64_t site_of(const fixture *fx, const uint8_t *pat, size_t n)
{
    uint64_t found = UINT64_MAX;
    for (size_t at = 0; at + n <= fx->len; at++) {
        if (memcmp(fx->bytes + at, pat, n) != 0)
            continue;
        ck_assert_msg(found == UINT64_MAX, "pattern found twice");
        found = at;
    }
    ck_assert_msg(found != UINT64_MAX, "pattern not found");
    return found;
}
#define SITE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

/* Calls `name` with an address past the end; frame `depth` (0 innermost)
 * must be at `want`. */
static void check_trap_site(const fixture *fx, const char *name, uint32_t depth, uint64_t want)
{
    wj_val res[1];
    wj_trap *trap = fx_call(fx, name, ARGS(v_i32(65530)), res);
    ck_assert_msg(trap && wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS &&
                      strcmp(wj_trap_message(trap), "out of bounds memory access") == 0,
                  "%s: expected an out of bounds trap, got %s", name,
                  trap ? wj_trap_message(trap) : "none");
    ck_assert_uint_gt(wj_trap_frame_count(trap), depth);
    const wj_frame *f = wj_trap_frame(trap, depth);
    ck_assert_msg(f->module_offset == want, "%s: frame %u at module offset %" PRIu64 ", want %" PRIu64,
                  name, depth, f->module_offset, want);
    wj_trap_delete(trap);
}

/* _i: dynamic memories when 1 (the trap is a bounds check, not a fault). */
START_TEST(trap_offsets_in_simd_code)
{
    wj_config *config = config_dynamic(_i);
    fixture fx;
    open_with(&fx, trap_wat, config, NULL, 0);
    wj_config_delete(config);
    uint64_t load = site_of(&fx, SITE(0xfd, 0x00, 0x04, 0xb9, 0x60));
    check_trap_site(&fx, "lane_store", 0, site_of(&fx, SITE(0xfd, 0x58, 0x00, 0x89, 0x06, 0x05)));
    check_trap_site(&fx, "zero_load", 0, site_of(&fx, SITE(0xfd, 0x5c, 0x02, 0x92, 0x21)));
    /* "deep" returns a v128: called through "via_call" only. */
    check_trap_site(&fx, "via_call", 0, load);
    /* the call (10 00) after local.get 0 (20 00), before the lane */
    check_trap_site(&fx, "via_call", 1,
                    site_of(&fx, SITE(0x20, 0x00, 0x10, 0x00, 0xfd, 0x1b, 0x01)) + 2);
    fx_close(&fx);
}
END_TEST

/* ==== the suite ======================================================================= */

static Suite *simd_suite(void)
{
    Suite *s = suite_create("simd");
    TCase *regs = tcase_create("registers");
    tcase_set_timeout(regs, 60);
    tcase_add_test(regs, calls_keep_live_values);
    tcase_add_loop_test(regs, libcalls_keep_live_values, 0, 2);
    tcase_add_loop_test(regs, locals_pinned_in_loop, 0, 2);
    tcase_add_test(regs, locals_spilled);
    tcase_add_test(regs, blocks_and_branches);
    tcase_add_test(regs, stack_values_and_locals);
    tcase_add_test(regs, globals_v128);
    tcase_add_test(regs, operands_are_copies);
    suite_add_tcase(s, regs);
    TCase *mem = tcase_create("memory");
    tcase_set_timeout(mem, 60);
    tcase_add_loop_test(mem, memory_every_kind_alignment_and_end, 0, 2 * MEM_LAYOUTS);
    tcase_add_loop_test(mem, grow_then_access_at_new_end, 0, 2 * MEM_LAYOUTS);
    tcase_add_loop_test(mem, trap_offsets_in_simd_code, 0, 2);
    suite_add_tcase(s, mem);
    TCase *lanes = tcase_create("lanes");
    tcase_set_timeout(lanes, 60);
    tcase_add_test(lanes, shuffle_patterns_exact);
    tcase_add_test(lanes, swizzle_out_of_range_indices);
    suite_add_tcase(s, lanes);
    return s;
}

int main(void)
{
    return unit_run_tiers(simd_suite, &fx_tier);
}
