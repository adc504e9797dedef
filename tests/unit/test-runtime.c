/* The runtime through the public API (linked against libwasmjail.la):
 * stores, host functions, memories, tables, globals, traps, linking,
 * instantiation and calls into compiled code and back out. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "unit.h"
#include "wasm_builder.h"
#include "wat.h"

#define ck_assert_wj_error(e, want_kind, want_prefix)                                         \
    do {                                                                                   \
        const wj_error *e_ = (e);                                                          \
        ck_assert_ptr_nonnull(e_);                                                         \
        ck_assert_msg(wj_error_kind_of(e_) == (want_kind) &&                               \
                          strncmp(wj_error_message(e_), want_prefix, strlen(want_prefix)) == 0, \
                      "expected kind %d \"%s...\", got kind %d \"%s\"", (int)(want_kind),   \
                      want_prefix, (int)wj_error_kind_of(e_), wj_error_message(e_));        \
    } while (0)

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

#define ck_assert_no_trap(t) \
    ck_assert_msg((t) == NULL, "unexpected trap: %s", (t) ? wj_trap_message(t) : "")

/* Value type bytes, for module blobs. */
enum { I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, FUNCREF = 0x70, EXTERNREF = 0x6f };

static wj_val i32(int32_t v) { return (wj_val){.kind = WJ_I32, .of.i32 = v}; }
static wj_val i64(int64_t v) { return (wj_val){.kind = WJ_I64, .of.i64 = v}; }
static wj_val f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }
static wj_val f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }
static wj_val funcref(wj_func *f) { return (wj_val){.kind = WJ_FUNCREF, .of.funcref = f}; }
static wj_val externref(void *p) { return (wj_val){.kind = WJ_EXTERNREF, .of.externref = p}; }

/* Builds and compiles a module; the test fails on any error. */
static wj_module *module_of(wj_engine *e, const wb_spec *spec)
{
    wb b = {0};
    wb_module(&b, spec);
    wj_module *m = NULL;
    wj_error *err = wj_module_new(e, b.data, b.len, &m);
    wb_free(&b);
    ck_assert_no_wj_error(err);
    return m;
}

static wj_instance *instantiate(wj_store *s, wj_module *m, const wj_extern *imports, size_t n)
{
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(s, m, imports, n, &inst, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_no_trap(trap);
    ck_assert_ptr_nonnull(inst);
    return inst;
}

static wj_func *export_func(const wj_instance *inst, const char *name)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(inst, name, strlen(name), &ext), "no export %s", name);
    ck_assert_int_eq(ext.kind, WJ_EXTERN_FUNC);
    return ext.of.func;
}

static wj_extern extern_func(wj_func *f)
{
    return (wj_extern){.kind = WJ_EXTERN_FUNC, .of.func = f};
}

/* ---- host functions ------------------------------------------------------------ */

static const uint8_t sum_params[] = {WJ_I32, WJ_I64, WJ_F32, WJ_F64};
static const uint8_t sum_results[] = {WJ_F64, WJ_I32};
static const wj_functype sum_type = {4, 2, sum_params, sum_results};

static int sum_calls;

/* (i32 i64 f32 f64) -> (f64 i32): the sum, and the call count. */
static wj_trap *sum_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    ck_assert_ptr_eq(env, &sum_calls);
    ck_assert_ptr_null(wj_caller_instance(caller));
    ck_assert_ptr_nonnull(wj_caller_store(caller));
    ck_assert_int_eq(args[0].kind, WJ_I32);
    ck_assert_int_eq(args[3].kind, WJ_F64);
    results[0] = f64(args[0].of.i32 + (double)args[1].of.i64 + args[2].of.f32 + args[3].of.f64);
    results[1] = i32(++sum_calls);
    return NULL;
}

START_TEST(host_function_call)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    ck_assert_ptr_nonnull(s);
    sum_calls = 0;
    wj_func *f = wj_func_new(s, &sum_type, sum_cb, &sum_calls, NULL);
    ck_assert_ptr_nonnull(f);

    wj_functype t;
    wj_func_type(f, &t);
    ck_assert_uint_eq(t.param_count, 4);
    ck_assert_uint_eq(t.result_count, 2);
    ck_assert_int_eq(memcmp(t.params, sum_params, 4), 0);
    ck_assert_int_eq(memcmp(t.results, sum_results, 2), 0);
    ck_assert_ptr_ne(t.params, sum_params); /* copied */

    wj_val args[] = {i32(1), i64(2), f32(0.5f), f64(0.25)}, res[2];
    wj_trap *trap = (wj_trap *)0x1;
    ck_assert_no_wj_error(wj_func_call(f, args, 4, res, 2, &trap));
    ck_assert_ptr_null(trap);
    ck_assert_int_eq(res[0].kind, WJ_F64);
    ck_assert_double_eq(res[0].of.f64, 3.75);
    ck_assert_int_eq(res[1].kind, WJ_I32);
    ck_assert_int_eq(res[1].of.i32, 1);
    ck_assert_no_wj_error(wj_func_call(f, args, 4, res, 2, NULL));
    ck_assert_int_eq(res[1].of.i32, 2);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* (v128 i32 v128) -> (v128 i32): the lane-wise i32x4 sum, and the i32. */
static wj_trap *v128_add_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    ck_assert_int_eq(args[0].kind, WJ_V128);
    ck_assert_int_eq(args[2].kind, WJ_V128);
    results[0].kind = WJ_V128;
    for (int lane = 0; lane < 4; lane++) {
        uint32_t a, b;
        memcpy(&a, args[0].of.v128 + 4 * lane, 4);
        memcpy(&b, args[2].of.v128 + 4 * lane, 4);
        a += b;
        memcpy(results[0].of.v128 + 4 * lane, &a, 4);
    }
    results[1] = args[1];
    return NULL;
}

START_TEST(host_function_v128)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    static const uint8_t params[] = {WJ_V128, WJ_I32, WJ_V128}, results[] = {WJ_V128, WJ_I32};
    wj_func *f = wj_func_new(s, &(wj_functype){3, 2, params, results}, v128_add_cb, NULL, NULL);
    ck_assert_ptr_nonnull(f);
    /* i32x4 lanes 1, 2, 3, -4 and 0xffffffff, 10, 20, 30: little-endian */
    wj_val args[3] = {
        {.kind = WJ_V128, .of.v128 = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff}},
        i32(9),
        {.kind = WJ_V128, .of.v128 = {0xff, 0xff, 0xff, 0xff, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0}},
    };
    wj_val res[2];
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(f, args, 3, res, 2, &trap));
    ck_assert_no_trap(trap);
    static const uint8_t sum[16] = {0, 0, 0, 0, 12, 0, 0, 0, 23, 0, 0, 0, 26, 0, 0, 0};
    ck_assert_int_eq(res[0].kind, WJ_V128);
    ck_assert_mem_eq(res[0].of.v128, sum, 16);
    ck_assert_int_eq(res[1].of.i32, 9);

    /* a v128 argument must be one */
    args[2] = i64(1);
    wj_error *err = wj_func_call(f, args, 3, res, 2, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "argument 2 has type i64, expected v128");
    wj_error_delete(err);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(host_function_usage_errors)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e), *other = wj_store_new(e);
    wj_func *f = wj_func_new(s, &sum_type, sum_cb, &sum_calls, NULL);
    wj_val args[] = {i32(1), i64(2), f32(0.5f), f64(0.25)}, res[2];
    wj_trap *trap = NULL;

    wj_error *err = wj_func_call(f, args, 3, res, 2, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "wrong number of arguments: expected 4, got 3");
    wj_error_delete(err);
    err = wj_func_call(f, args, 4, res, 1, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "wrong number of results: expected 2, got 1");
    wj_error_delete(err);
    args[1] = i32(2);
    err = wj_func_call(f, args, 4, res, 2, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "argument 1 has type i32, expected i64");
    wj_error_delete(err);
    ck_assert_ptr_null(trap);

    /* a funcref argument must belong to the function's store */
    static const uint8_t ref_param[] = {WJ_FUNCREF};
    static const wj_functype ref_type = {1, 2, ref_param, sum_results};
    wj_func *g = wj_func_new(s, &ref_type, sum_cb, &sum_calls, NULL);
    wj_func *foreign = wj_func_new(other, &sum_type, sum_cb, &sum_calls, NULL);
    wj_val ref = funcref(foreign);
    err = wj_func_call(g, &ref, 1, res, 2, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "argument 0 is a function of another store");
    wj_error_delete(err);

    /* no callback, or an unknown value type: no function */
    ck_assert_ptr_null(wj_func_new(s, &sum_type, NULL, NULL, NULL));
    static const uint8_t bad[] = {0x40};
    ck_assert_ptr_null(wj_func_new(s, &(wj_functype){1, 0, bad, NULL}, sum_cb, NULL, NULL));
    wj_store_delete(other);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

static wj_trap *fail_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    return wj_trap_new(env);
}

static wj_trap *wrong_result_cb(void *env, wj_caller *caller, const wj_val *args,
                                wj_val *results)
{
    results[0] = i64(1);
    return NULL;
}

START_TEST(host_function_traps)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_func *f = wj_func_new(s, &(wj_functype){0}, fail_cb, "it failed", NULL);
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(f, NULL, 0, NULL, 0, &trap));
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_HOST);
    ck_assert_str_eq(wj_trap_message(trap), "it failed");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 0);
    ck_assert_ptr_null(wj_trap_frame(trap, 0));
    wj_trap_delete(trap);
    /* nowhere to put the trap: dropped */
    ck_assert_no_wj_error(wj_func_call(f, NULL, 0, NULL, 0, NULL));

    static const uint8_t one_i32[] = {WJ_I32};
    wj_func *w = wj_func_new(s, &(wj_functype){0, 1, NULL, one_i32}, wrong_result_cb, NULL, NULL);
    wj_val r;
    ck_assert_no_wj_error(wj_func_call(w, NULL, 0, &r, 1, &trap));
    ck_assert_ptr_nonnull(trap);
    ck_assert_str_eq(wj_trap_message(trap), "host function returned a result of the wrong type");
    wj_trap_delete(trap);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

static int finalized;

static void count_finalize(void *env)
{
    *(int *)env += 1;
}

START_TEST(finalizers_run_with_the_store)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    finalized = 0;
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_nonnull(
            wj_func_new(s, &(wj_functype){0}, fail_cb, &finalized, count_finalize));
    ck_assert_ptr_nonnull(wj_func_new(s, &(wj_functype){0}, fail_cb, &finalized, NULL));
    ck_assert_int_eq(finalized, 0);
    wj_store_delete(s);
    ck_assert_int_eq(finalized, 3);
    wj_store_delete(NULL);
    wj_engine_delete(e);
}
END_TEST

START_TEST(traps)
{
    char msg[] = "custom";
    wj_trap *t = wj_trap_new(msg);
    msg[0] = 'X'; /* copied */
    ck_assert_int_eq(wj_trap_code_of(t), WJ_TRAP_HOST);
    ck_assert_str_eq(wj_trap_message(t), "custom");
    ck_assert_uint_eq(wj_trap_frame_count(t), 0);
    wj_trap_delete(t);
    t = wj_trap_new(NULL);
    ck_assert_str_eq(wj_trap_message(t), "");
    wj_trap_delete(t);
    wj_trap_delete(NULL);
}
END_TEST

/* ---- globals ---------------------------------------------------------------------- */

START_TEST(globals)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e), *other = wj_store_new(e);
    wj_global *g = NULL;
    wj_val v = i64(-5);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I64, true}, &v, &g));
    wj_globaltype gt;
    wj_global_type(g, &gt);
    ck_assert_int_eq(gt.type, WJ_I64);
    ck_assert(gt.mutable_);
    wj_val got;
    wj_global_get(g, &got);
    ck_assert_int_eq(got.kind, WJ_I64);
    ck_assert_int_eq(got.of.i64, -5);
    v = i64(INT64_MIN);
    ck_assert_no_wj_error(wj_global_set(g, &v));
    wj_global_get(g, &got);
    ck_assert_int_eq(got.of.i64, INT64_MIN);

    /* wrong kinds */
    v = i32(1);
    wj_error *err = wj_global_set(g, &v);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global value must be a i64");
    wj_error_delete(err);
    err = wj_global_new(s, &(wj_globaltype){WJ_F32, false}, &v, &g);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global value must be a f32");
    ck_assert_ptr_null(g);
    wj_error_delete(err);

    /* immutable; f32 bits (a NaN with a payload) kept exactly */
    uint32_t nan_bits = 0x7fa00001, back;
    wj_val nan = {.kind = WJ_F32};
    memcpy(&nan.of.f32, &nan_bits, 4);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_F32, false}, &nan, &g));
    wj_global_get(g, &got);
    memcpy(&back, &got.of.f32, 4);
    ck_assert_uint_eq(back, nan_bits);
    err = wj_global_set(g, &nan);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global is immutable");
    wj_error_delete(err);

    /* references: externref anything; funcref of this store only */
    int dummy;
    v = externref(&dummy);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_EXTERNREF, true}, &v, &g));
    wj_global_get(g, &got);
    ck_assert_ptr_eq(got.of.externref, &dummy);
    wj_func *mine = wj_func_new(s, &(wj_functype){0}, fail_cb, "", NULL);
    wj_func *theirs = wj_func_new(other, &(wj_functype){0}, fail_cb, "", NULL);
    v = funcref(mine);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_FUNCREF, true}, &v, &g));
    wj_global_get(g, &got);
    ck_assert_ptr_eq(got.of.funcref, mine);
    v = funcref(theirs);
    err = wj_global_set(g, &v);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global value must be a funcref of this store");
    wj_error_delete(err);
    v = funcref(NULL);
    ck_assert_no_wj_error(wj_global_set(g, &v));
    wj_global_get(g, &got);
    ck_assert_ptr_null(got.of.funcref);

    /* v128: all 16 bytes kept, in and out */
    wj_val vec = {.kind = WJ_V128};
    for (int i = 0; i < 16; i++)
        vec.of.v128[i] = (uint8_t)(0xf0 + i);
    err = wj_global_new(s, &(wj_globaltype){WJ_V128, false}, &v, &g);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global value must be a v128");
    wj_error_delete(err);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_V128, true}, &vec, &g));
    wj_global_get(g, &got);
    ck_assert_int_eq(got.kind, WJ_V128);
    ck_assert_mem_eq(got.of.v128, vec.of.v128, 16);
    vec.of.v128[15] = 0x01;
    ck_assert_no_wj_error(wj_global_set(g, &vec));
    wj_global_get(g, &got);
    ck_assert_mem_eq(got.of.v128, vec.of.v128, 16);
    v = i64(0);
    err = wj_global_set(g, &v);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "global value must be a v128");
    wj_error_delete(err);
    wj_store_delete(other);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* ---- tables ----------------------------------------------------------------------- */

START_TEST(tables)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e), *other = wj_store_new(e);
    wj_func *f = wj_func_new(s, &(wj_functype){0}, fail_cb, "", NULL);
    wj_func *theirs = wj_func_new(other, &(wj_functype){0}, fail_cb, "", NULL);
    wj_table *t = NULL;
    wj_val init = funcref(f);
    wj_tabletype tt = {WJ_FUNCREF, {.min = 2, .max = 4, .has_max = true}};
    ck_assert_no_wj_error(wj_table_new(s, &tt, &init, &t));
    ck_assert_uint_eq(wj_table_size(t), 2);
    wj_val v;
    ck_assert(wj_table_get(t, 1, &v));
    ck_assert_int_eq(v.kind, WJ_FUNCREF);
    ck_assert_ptr_eq(v.of.funcref, f);
    ck_assert(!wj_table_get(t, 2, &v));

    wj_val null = funcref(NULL);
    ck_assert(wj_table_set(t, 0, &null));
    ck_assert(wj_table_get(t, 0, &v));
    ck_assert_ptr_null(v.of.funcref);
    ck_assert(!wj_table_set(t, 2, &null));
    wj_val wrong = externref(NULL), foreign = funcref(theirs);
    ck_assert(!wj_table_set(t, 0, &wrong));
    ck_assert(!wj_table_set(t, 0, &foreign));

    uint64_t old = 99;
    ck_assert(wj_table_grow(t, 1, &init, &old));
    ck_assert_uint_eq(old, 2);
    ck_assert(wj_table_grow(t, 1, NULL, &old)); /* NULL init: null references */
    ck_assert_uint_eq(old, 3);
    ck_assert(wj_table_get(t, 2, &v));
    ck_assert_ptr_eq(v.of.funcref, f);
    ck_assert(wj_table_get(t, 3, &v));
    ck_assert_ptr_null(v.of.funcref);
    ck_assert(!wj_table_grow(t, 1, &init, &old)); /* past the maximum */
    ck_assert(wj_table_grow(t, 0, &init, &old));
    ck_assert_uint_eq(old, 4);
    wj_tabletype got;
    wj_table_type(t, &got);
    ck_assert_int_eq(got.elem, WJ_FUNCREF);
    ck_assert_uint_eq(got.limits.min, 4); /* the current size */
    ck_assert(got.limits.has_max);
    ck_assert_uint_eq(got.limits.max, 4);

    /* unbounded: still limited to 10,000,000 elements */
    wj_val ext = externref(&old);
    ck_assert_no_wj_error(wj_table_new(s, &(wj_tabletype){WJ_EXTERNREF, {.min = 1}}, &ext, &t));
    ck_assert(wj_table_get(t, 0, &v));
    ck_assert_ptr_eq(v.of.externref, &old);
    ck_assert(!wj_table_grow(t, 10000000, NULL, &old));
    ck_assert(!wj_table_grow(t, UINT64_MAX, NULL, &old));
    ck_assert_uint_eq(wj_table_size(t), 1);

    /* bad types */
    wj_error *err = wj_table_new(s, &(wj_tabletype){WJ_I32, {.min = 1}}, NULL, &t);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "table elements must be references");
    ck_assert_ptr_null(t);
    wj_error_delete(err);
    err = wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 3, .max = 2, .has_max = true}},
                       NULL, &t);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "size minimum must not be greater than maximum");
    wj_error_delete(err);
    err = wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 1}}, &ext, &t);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "table initial value must be a funcref");
    wj_error_delete(err);
    err = wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 20000000}}, NULL, &t);
    ck_assert_wj_error(err, WJ_ERROR_RESOURCE, "table of 20000000 elements is over the limit");
    wj_error_delete(err);
    wj_store_delete(other);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* ---- memories --------------------------------------------------------------------- */

START_TEST(memories)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_memory *m = NULL;
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1, .max = 3, .has_max = true}, &m));
    ck_assert_uint_eq(wj_memory_size(m), 1);
    ck_assert_uint_eq(wj_memory_data_size(m), 65536);
    uint8_t *data = wj_memory_data(m);
    for (size_t i = 0; i < 65536; i++)
        ck_assert_uint_eq(data[i], 0);
    data[65535] = 7;

    uint64_t old = 99;
    ck_assert(wj_memory_grow(m, 2, &old));
    ck_assert_uint_eq(old, 1);
    ck_assert_uint_eq(wj_memory_size(m), 3);
    ck_assert_uint_eq(wj_memory_data_size(m), 3 * 65536);
    ck_assert_ptr_eq(wj_memory_data(m), data); /* never moves */
    ck_assert_uint_eq(data[65535], 7);
    data[3 * 65536 - 1] = 1; /* the new pages are writable */
    ck_assert(!wj_memory_grow(m, 1, &old));
    ck_assert(!wj_memory_grow(m, UINT64_MAX, &old));
    ck_assert(wj_memory_grow(m, 0, &old));
    ck_assert_uint_eq(old, 3);
    wj_limits l;
    wj_memory_type(m, &l);
    ck_assert_uint_eq(l.min, 3);
    ck_assert(l.has_max);
    ck_assert_uint_eq(l.max, 3);
    ck_assert(!l.is64);

    /* no declared maximum: 65536 pages at most */
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 0}, &m));
    ck_assert_uint_eq(wj_memory_data_size(m), 0);
    ck_assert(!wj_memory_grow(m, 65537, &old));
    ck_assert(wj_memory_grow(m, 16, &old));
    ck_assert_uint_eq(old, 0);
    wj_memory_data(m)[16 * 65536 - 1] = 1;

    /* bad limits */
    wj_error *err = wj_memory_new(s, &(wj_limits){.min = 2, .max = 1, .has_max = true}, &m);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "size minimum must not be greater than maximum");
    ck_assert_ptr_null(m);
    wj_error_delete(err);
    err = wj_memory_new(s, &(wj_limits){.min = 65537}, &m);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "memory size must be at most 65536 pages (4GiB)");
    wj_error_delete(err);
    err = wj_memory_new(s, &(wj_limits){.min = 1, .max = (UINT64_C(1) << 48) + 1, .has_max = true,
                                         .is64 = true}, &m);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "memory size must be at most 2^48 pages (16EiB)");
    wj_error_delete(err);

    /* memory64: a dynamic heap, grown by mremap; the contents move along */
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1, .is64 = true}, &m));
    wj_limits type;
    wj_memory_type(m, &type);
    ck_assert(type.is64);
    wj_memory_data(m)[65535] = 7;
    ck_assert(wj_memory_grow(m, 3, &old));
    ck_assert_uint_eq(old, 1);
    ck_assert_uint_eq(wj_memory_data_size(m), 4 * 65536);
    ck_assert_uint_eq(wj_memory_data(m)[65535], 7);
    ck_assert_uint_eq(wj_memory_data(m)[4 * 65536 - 1], 0);
    ck_assert(!wj_memory_grow(m, 65536 - 3, &old)); /* past the engine's 4 GiB default */
    ck_assert_uint_eq(wj_memory_size(m), 4);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(memory_size_limit)
{
    wj_config *c = wj_config_new();
    wj_config_set_max_memory_size(c, 3 * 65536 + 100); /* 3 whole pages */
    wj_engine *e = wj_engine_new(c);
    wj_config_delete(c);
    wj_store *s = wj_store_new(e);
    wj_memory *m = NULL;
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1}, &m));
    uint64_t old;
    ck_assert(!wj_memory_grow(m, 3, &old));
    ck_assert(wj_memory_grow(m, 2, &old));
    ck_assert(!wj_memory_grow(m, 1, &old));
    ck_assert_uint_eq(wj_memory_size(m), 3);
    wj_error *err = wj_memory_new(s, &(wj_limits){.min = 4}, &m);
    ck_assert_wj_error(err, WJ_ERROR_RESOURCE, "memory of 4 pages is over the limit of 3 pages");
    wj_error_delete(err);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* Many stores, each with memories: reservations are released. */
START_TEST(many_memories)
{
    wj_engine *e = wj_engine_new(NULL);
    for (int i = 0; i < 64; i++) {
        wj_store *s = wj_store_new(e);
        wj_memory *m;
        for (int j = 0; j < 4; j++)
            ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1}, &m));
        wj_store_delete(s);
    }
    wj_engine_delete(e);
}
END_TEST

/* ---- instances: calls ------------------------------------------------------------- */

/* (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add) */
static const wb_spec add_spec = {
    .types = WB_BLOB(1, 0x60, 2, I32, I32, 1, I32),
    .exports = WB_BLOB(1, 3, 'a', 'd', 'd', 0x00, 0),
    .body = WB_BLOB(0, 0x20, 0, 0x20, 1, 0x6a, 0x0b),
};

START_TEST(call_add)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_module *m = module_of(e, &add_spec);
    wj_instance *inst = instantiate(s, m, NULL, 0);
    ck_assert_ptr_eq(wj_instance_module(inst), m);
    wj_module_delete(m); /* the instance keeps it */
    wj_func *add = export_func(inst, "add");
    wj_functype ft;
    wj_func_type(add, &ft);
    ck_assert_uint_eq(ft.param_count, 2);
    ck_assert_uint_eq(ft.result_count, 1);

    wj_val args[] = {i32(40), i32(2)}, r;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(add, args, 2, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r.kind, WJ_I32);
    ck_assert_int_eq(r.of.i32, 42);
    args[0] = i32(INT32_MAX);
    args[1] = i32(1);
    ck_assert_no_wj_error(wj_func_call(add, args, 2, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, INT32_MIN);

    wj_extern ext;
    ck_assert(wj_instance_export_nth(inst, 0, &ext));
    ck_assert_ptr_eq(ext.of.func, add);
    ck_assert(!wj_instance_export_nth(inst, 1, &ext));
    ck_assert(!wj_instance_export(inst, "ad", 2, &ext));

    args[1] = i64(1);
    wj_error *err = wj_func_call(add, args, 2, &r, 1, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "argument 1 has type i64, expected i32");
    wj_error_delete(err);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* Four results of every number type: to slots, not registers. */
START_TEST(call_multi_value)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    /* (func (export "f") (result i32 i64 f32 f64)
     *   i32.const 1 i64.const -2 f32.const 1.5 f64.const 2.5) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 0, 4, I32, I64, F32, F64),
        .exports = WB_BLOB(1, 1, 'f', 0x00, 0),
        .body = WB_BLOB(0, 0x41, 1, 0x42, 0x7e, 0x43, 0, 0, 0xc0, 0x3f,
                        0x44, 0, 0, 0, 0, 0, 0, 0x04, 0x40, 0x0b),
    });
    wj_instance *inst = instantiate(s, m, NULL, 0);
    wj_val r[4];
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "f"), NULL, 0, r, 4, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r[0].of.i32, 1);
    ck_assert_int_eq(r[1].of.i64, -2);
    ck_assert_float_eq(r[2].of.f32, 1.5f);
    ck_assert_double_eq(r[3].of.f64, 2.5);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* f64 and f32 single results come back in xmm0. */
START_TEST(call_float)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    /* (func (export "mul") (param f64 f64) (result f64) local.get 0 local.get 1 f64.mul)
     * (func (export "neg") (param f32) (result f32) local.get 0 f32.neg) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(2, 0x60, 2, F64, F64, 1, F64, 0x60, 1, F32, 1, F32),
        .funcs = WB_BLOB(2, 0, 1),
        .exports = WB_BLOB(2, 3, 'm', 'u', 'l', 0x00, 0, 3, 'n', 'e', 'g', 0x00, 1),
        .code = WB_BLOB(2, 7, 0, 0x20, 0, 0x20, 1, 0xa2, 0x0b, 5, 0, 0x20, 0, 0x8c, 0x0b),
    });
    wj_instance *inst = instantiate(s, m, NULL, 0);
    wj_val args[] = {f64(1.5), f64(-4)}, r;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "mul"), args, 2, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_double_eq(r.of.f64, -6);
    args[0] = f32(2.25f);
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "neg"), args, 1, &r, 1, &trap));
    ck_assert_int_eq(r.kind, WJ_F32);
    ck_assert_float_eq(r.of.f32, -2.25f);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

static wj_instance *double_seen_instance;

static wj_trap *double_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    double_seen_instance = wj_caller_instance(caller);
    ck_assert_ptr_eq(wj_caller_store(caller), env);
    results[0] = i32(args[0].of.i32 * 2);
    return NULL;
}

static const uint8_t i32_i32[] = {WJ_I32};
static const wj_functype i32_to_i32 = {1, 1, i32_i32, i32_i32};

/* (import "env" "double" (func $double (param i32) (result i32)))
 * (func (export "quad") (param i32) (result i32) local.get 0 call $double call $double) */
static const wb_spec quad_spec = {
    .types = WB_BLOB(1, 0x60, 1, I32, 1, I32),
    .imports = WB_BLOB(1, 3, 'e', 'n', 'v', 6, 'd', 'o', 'u', 'b', 'l', 'e', 0x00, 0),
    .funcs = WB_BLOB(1, 0),
    .exports = WB_BLOB(1, 4, 'q', 'u', 'a', 'd', 0x00, 1),
    .code = WB_BLOB(1, 8, 0, 0x20, 0, 0x10, 0, 0x10, 0, 0x0b),
};

START_TEST(call_host_import)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_func *dbl = wj_func_new(s, &i32_to_i32, double_cb, s, NULL);
    wj_module *m = module_of(e, &quad_spec);
    wj_extern imp = extern_func(dbl);
    wj_instance *inst = instantiate(s, m, &imp, 1);
    wj_val arg = i32(5), r;
    wj_trap *trap = NULL;
    double_seen_instance = NULL;
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "quad"), &arg, 1, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r.of.i32, 20);
    ck_assert_ptr_eq(double_seen_instance, inst);
    /* the import is re-exported as itself */
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* A host function that calls back into wasm of the same store. */
static wj_trap *reenter_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    wj_instance *inst = wj_caller_instance(caller);
    ck_assert_ptr_nonnull(inst);
    wj_extern ext;
    ck_assert(wj_instance_export(inst, "add1", 4, &ext));
    if (args[0].of.i32 == 0)
        return wj_trap_new("zero");
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(ext.of.func, args, 1, results, 1, &trap);
    ck_assert_no_wj_error(err);
    return trap;
}

START_TEST(call_reentrant)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_func *cb = wj_func_new(s, &i32_to_i32, reenter_cb, NULL, NULL);
    /* (import "env" "cb" (func $cb (param i32) (result i32)))
     * (func (export "add1") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
     * (func (export "run") (param i32) (result i32) local.get 0 call $cb) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 1, I32, 1, I32),
        .imports = WB_BLOB(1, 3, 'e', 'n', 'v', 2, 'c', 'b', 0x00, 0),
        .funcs = WB_BLOB(2, 0, 0),
        .exports = WB_BLOB(2, 4, 'a', 'd', 'd', '1', 0x00, 1, 3, 'r', 'u', 'n', 0x00, 2),
        .code = WB_BLOB(2, 7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b, 6, 0, 0x20, 0, 0x10, 0, 0x0b),
    });
    wj_extern imp = extern_func(cb);
    wj_instance *inst = instantiate(s, m, &imp, 1);
    wj_func *run = export_func(inst, "run");
    wj_val arg = i32(41), r;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(run, &arg, 1, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r.of.i32, 42);
    /* a trap from the nested level unwinds both */
    arg = i32(0);
    ck_assert_no_wj_error(wj_func_call(run, &arg, 1, &r, 1, &trap));
    ck_assert_ptr_nonnull(trap);
    ck_assert_str_eq(wj_trap_message(trap), "zero");
    wj_trap_delete(trap);
    /* and the store is still usable */
    arg = i32(1);
    ck_assert_no_wj_error(wj_func_call(run, &arg, 1, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r.of.i32, 2);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* The offset of the code section's contents. */
static uint64_t code_section(const wj_module *m)
{
    wj_section_info sec;
    for (size_t i = 0; wj_module_section(m, i, &sec); i++)
        if (sec.id == 10)
            return sec.offset;
    ck_abort_msg("no code section");
    return 0;
}

START_TEST(host_trap_unwinds)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_func *fail = wj_func_new(s, &(wj_functype){0}, fail_cb, "host says no", NULL);
    /* (import "env" "fail" (func $fail))
     * (func $inner call $fail)
     * (func (export "run") call $inner) */
    wb b = {0};
    wb_module(&b, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 0, 0),
        .imports = WB_BLOB(1, 3, 'e', 'n', 'v', 4, 'f', 'a', 'i', 'l', 0x00, 0),
        .funcs = WB_BLOB(2, 0, 0),
        .exports = WB_BLOB(1, 3, 'r', 'u', 'n', 0x00, 2),
        .code = WB_BLOB(2, 4, 0, 0x10, 0, 0x0b, 4, 0, 0x10, 1, 0x0b),
    });
    /* a name section: module "mod", function 1 "inner" */
    wb_sec(&b, 0, 4, 'n', 'a', 'm', 'e', 0, 4, 3, 'm', 'o', 'd',
           1, 8, 1, 1, 5, 'i', 'n', 'n', 'e', 'r');
    wj_module *m = NULL;
    ck_assert_no_wj_error(wj_module_new(e, b.data, b.len, &m));
    wb_free(&b);
    wj_extern imp = extern_func(fail);
    wj_instance *inst = instantiate(s, m, &imp, 1);
    wj_trap *trap = NULL;
    for (int round = 0; round < 3; round++) {
        ck_assert_no_wj_error(wj_func_call(export_func(inst, "run"), NULL, 0, NULL, 0, &trap));
        ck_assert_ptr_nonnull(trap);
        ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_HOST);
        ck_assert_str_eq(wj_trap_message(trap), "host says no");
        /* $inner's call, then run's call */
        ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
        uint64_t code = code_section(m);
        const wj_frame *f0 = wj_trap_frame(trap, 0), *f1 = wj_trap_frame(trap, 1);
        ck_assert_ptr_eq(f0->module, m);
        ck_assert_uint_eq(f0->func_index, 1);
        ck_assert_str_eq(f0->func_name, "inner");
        ck_assert_str_eq(f0->module_name, "mod");
        ck_assert_uint_eq(f0->func_offset, 1); /* after the size: locals, then the call */
        ck_assert_uint_eq(f0->module_offset, code + 1 + 2);
        ck_assert_uint_eq(f1->func_index, 2);
        ck_assert_ptr_null(f1->func_name);
        ck_assert_uint_eq(f1->module_offset, code + 1 + 5 + 2);
        wj_trap_delete(trap);
    }
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* A trap keeps its module alive: frames stay readable after everything
 * else is gone. */
START_TEST(trap_outlives_store)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    /* (func (export "f") unreachable) */
    wj_module *m = module_of(e, &(wb_spec){
        .exports = WB_BLOB(1, 1, 'f', 0x00, 0),
        .body = WB_BLOB(0, 0x00, 0x0b),
    });
    wj_instance *inst = instantiate(s, m, NULL, 0);
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "f"), NULL, 0, NULL, 0, &trap));
    ck_assert_ptr_nonnull(trap);
    wj_module_delete(m);
    wj_store_delete(s);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
    ck_assert_str_eq(wj_trap_message(trap), "unreachable");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 1);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, 0);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_offset, 1); /* after the size: locals, then unreachable */
    ck_assert_uint_eq(wj_module_func_count(wj_trap_frame(trap, 0)->module), 1);
    wj_trap_delete(trap);
    wj_engine_delete(e);
}
END_TEST

START_TEST(stack_exhaustion)
{
    wj_config *c = wj_config_new();
    wj_config_set_max_wasm_stack(c, 64 * 1024);
    wj_engine *e = wj_engine_new(c);
    wj_config_delete(c);
    wj_store *s = wj_store_new(e);
    /* (func $f (export "f") call $f) */
    wj_module *m = module_of(e, &(wb_spec){
        .exports = WB_BLOB(1, 1, 'f', 0x00, 0),
        .body = WB_BLOB(0, 0x10, 0, 0x0b),
    });
    wj_instance *inst = instantiate(s, m, NULL, 0);
    for (int round = 0; round < 2; round++) {
        wj_trap *trap = NULL;
        ck_assert_no_wj_error(wj_func_call(export_func(inst, "f"), NULL, 0, NULL, 0, &trap));
        ck_assert_ptr_nonnull(trap);
        ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_STACK_EXHAUSTED);
        ck_assert_str_eq(wj_trap_message(trap), "call stack exhausted");
        ck_assert_uint_gt(wj_trap_frame_count(trap), 100);
        wj_trap_delete(trap);
    }
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* ---- instances: memories, data, globals, tables ---------------------------------- */

/* (memory (export "mem") 1 2)
 * (data (i32.const 16) "hello")
 * (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
 * (func (export "grow") (param i32) (result i32) local.get 0 memory.grow) */
static const wb_spec data_spec = {
    .types = WB_BLOB(1, 0x60, 1, I32, 1, I32),
    .funcs = WB_BLOB(2, 0, 0),
    .memories = WB_BLOB(1, 0x01, 1, 2),
    .exports = WB_BLOB(3, 3, 'm', 'e', 'm', 0x02, 0, 4, 'l', 'o', 'a', 'd', 0x00, 0,
                       4, 'g', 'r', 'o', 'w', 0x00, 1),
    .code = WB_BLOB(2, 7, 0, 0x20, 0, 0x2d, 0, 0, 0x0b, 6, 0, 0x20, 0, 0x40, 0, 0x0b),
    .data = WB_BLOB(1, 0, 0x41, 16, 0x0b, 5, 'h', 'e', 'l', 'l', 'o'),
};

static int32_t call_i32(wj_func *f, int32_t arg, wj_trap **trap)
{
    wj_val a = i32(arg), r = {0};
    ck_assert_no_wj_error(wj_func_call(f, &a, 1, &r, 1, trap));
    return r.of.i32;
}

START_TEST(memory_data_and_grow)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_module *m = module_of(e, &data_spec);
    wj_instance *inst = instantiate(s, m, NULL, 0);
    wj_extern ext;
    ck_assert(wj_instance_export(inst, "mem", 3, &ext));
    ck_assert_int_eq(ext.kind, WJ_EXTERN_MEMORY);
    wj_memory *mem = ext.of.memory;
    ck_assert_int_eq(memcmp(wj_memory_data(mem) + 16, "hello", 5), 0);
    wj_func *load = export_func(inst, "load"), *grow = export_func(inst, "grow");
    wj_trap *trap = NULL;
    ck_assert_int_eq(call_i32(load, 17, &trap), 'e');
    ck_assert_no_trap(trap);
    wj_memory_data(mem)[65535] = 9;
    ck_assert_int_eq(call_i32(load, 65535, &trap), 9);

    /* out of bounds: a trap from the guard region */
    call_i32(load, 65536, &trap);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    ck_assert_str_eq(wj_trap_message(trap), "out of bounds memory access");
    wj_trap_delete(trap);
    call_i32(load, -1, &trap);
    ck_assert_ptr_nonnull(trap);
    wj_trap_delete(trap);
    trap = NULL;

    /* grow to the declared maximum, then -1 */
    ck_assert_int_eq(call_i32(grow, 1, &trap), 1);
    ck_assert_uint_eq(wj_memory_size(mem), 2);
    ck_assert_int_eq(call_i32(load, 65536, &trap), 0);
    ck_assert_no_trap(trap);
    ck_assert_int_eq(call_i32(grow, 1, &trap), -1);
    ck_assert_int_eq(call_i32(grow, 0, &trap), 2);
    ck_assert_uint_eq(wj_memory_size(mem), 2);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(memory_grow_engine_limit)
{
    wj_config *c = wj_config_new();
    wj_config_set_max_memory_size(c, 65536 + 65535); /* one page */
    wj_engine *e = wj_engine_new(c);
    wj_config_delete(c);
    wj_store *s = wj_store_new(e);
    wj_module *m = module_of(e, &data_spec);
    wj_instance *inst = instantiate(s, m, NULL, 0);
    wj_trap *trap = NULL;
    ck_assert_int_eq(call_i32(export_func(inst, "grow"), 1, &trap), -1);
    ck_assert_int_eq(call_i32(export_func(inst, "grow"), -1, &trap), -1);
    ck_assert_no_trap(trap);
    wj_module_delete(m);

    /* a module whose minimum is over the limit cannot be instantiated */
    m = module_of(e, &(wb_spec){.memories = WB_BLOB(1, 0x00, 2)});
    wj_instance *none = NULL;
    wj_error *err = wj_instance_new(s, m, NULL, 0, &none, &trap);
    ck_assert_wj_error(err, WJ_ERROR_RESOURCE, "memory of 2 pages is over the limit of 1 pages");
    ck_assert_ptr_null(none);
    ck_assert_ptr_null(trap);
    wj_error_delete(err);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(globals_shared_with_wasm)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    /* (import "env" "base" (global $base i32))
     * (global $g (export "g") (mut i32) (global.get $base))
     * (func (export "get") (result i32) global.get $g)
     * (func (export "set") (param i32) local.get 0 global.set $g)
     * (func (export "base") (result i32) global.get $base) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(2, 0x60, 0, 1, I32, 0x60, 1, I32, 0),
        .imports = WB_BLOB(1, 3, 'e', 'n', 'v', 4, 'b', 'a', 's', 'e', 0x03, I32, 0),
        .funcs = WB_BLOB(3, 0, 1, 0),
        .globals = WB_BLOB(1, I32, 1, 0x23, 0, 0x0b),
        .exports = WB_BLOB(4, 1, 'g', 0x03, 1, 3, 'g', 'e', 't', 0x00, 0, 3, 's', 'e', 't',
                           0x00, 1, 4, 'b', 'a', 's', 'e', 0x00, 2),
        .code = WB_BLOB(3, 4, 0, 0x23, 1, 0x0b, 6, 0, 0x20, 0, 0x24, 1, 0x0b, 4, 0, 0x23, 0,
                        0x0b),
    });
    wj_global *base;
    wj_val v = i32(7);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I32, false}, &v, &base));
    wj_extern imp = {.kind = WJ_EXTERN_GLOBAL, .of.global = base};
    wj_instance *inst = instantiate(s, m, &imp, 1);

    wj_extern ext;
    ck_assert(wj_instance_export(inst, "g", 1, &ext));
    ck_assert_int_eq(ext.kind, WJ_EXTERN_GLOBAL);
    wj_global *g = ext.of.global;
    wj_val got;
    wj_global_get(g, &got);
    ck_assert_int_eq(got.of.i32, 7); /* initialised from the import */
    wj_trap *trap = NULL;
    wj_val r;
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "base"), NULL, 0, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, 7);

    v = i32(-3);
    ck_assert_no_wj_error(wj_global_set(g, &v));
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "get"), NULL, 0, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, -3);
    v = i32(123);
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "set"), &v, 1, NULL, 0, &trap));
    ck_assert_no_trap(trap);
    wj_global_get(g, &got);
    ck_assert_int_eq(got.of.i32, 123);
    wj_globaltype gt;
    wj_global_type(g, &gt);
    ck_assert(gt.mutable_);

    /* a second instance imports the first one's global and sees its writes */
    wj_module *m2 = module_of(e, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 0, 1, I32),
        .imports = WB_BLOB(1, 1, 'a', 1, 'g', 0x03, I32, 1),
        .funcs = WB_BLOB(1, 0),
        .exports = WB_BLOB(1, 3, 'g', 'e', 't', 0x00, 0),
        .code = WB_BLOB(1, 4, 0, 0x23, 0, 0x0b),
    });
    wj_instance *inst2 = instantiate(s, m2, &ext, 1);
    ck_assert_no_wj_error(wj_func_call(export_func(inst2, "get"), NULL, 0, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, 123);
    v = i32(5);
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "set"), &v, 1, NULL, 0, &trap));
    ck_assert_no_wj_error(wj_func_call(export_func(inst2, "get"), NULL, 0, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, 5);
    wj_module_delete(m2);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* (i32 v128) -> (v128 i32): every byte xor'ed with the i32, and the i32 + 1. */
static wj_trap *xor_bytes_cb(void *env, wj_caller *caller, const wj_val *args,
                             wj_val *results)
{
    ck_assert_ptr_nonnull(wj_caller_instance(caller));
    results[0] = args[1];
    for (int i = 0; i < 16; i++)
        results[0].of.v128[i] ^= (uint8_t)args[0].of.i32;
    results[1] = i32(args[0].of.i32 + 1);
    return NULL;
}

static wj_val v128_of_lanes(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    wj_val v = {.kind = WJ_V128};
    uint32_t lanes[4] = {a, b, c, d};
    memcpy(v.of.v128, lanes, 16); /* x86-64: little-endian like wasm */
    return v;
}

#define ck_assert_v128(got, want)                                            \
    do {                                                                     \
        ck_assert_int_eq((got).kind, WJ_V128);                               \
        ck_assert_mem_eq((got).of.v128, (want).of.v128, 16);                 \
    } while (0)

/* v128 globals (defined, imported, from the API) share 16-byte cells with
 * compiled code; v128 parameters and results cross wj_func_call and host
 * calls in two 8-byte units each. */
START_TEST(v128_globals_and_calls)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    size_t len;
    uint8_t *wasm = wat_to_wasm(
        "(module\n"
        "  (import \"env\" \"base\" (global $base v128))\n"
        "  (import \"env\" \"xor\" (func $xor (param i32 v128) (result v128 i32)))\n"
        "  (global $c (export \"c\") v128 (v128.const i32x4 1 2 3 0xfffffffc))\n"
        "  (global $g (export \"g\") (mut v128) (global.get $base))\n"
        "  (global $n (export \"n\") (mut i64) (i64.const -5))\n"
        "  (func (export \"get\") (result v128) global.get $g)\n"
        "  (func (export \"set\") (param v128) local.get 0 global.set $g)\n"
        "  (func (export \"swap\") (param i32 v128 i64) (result v128 i64 i32)\n"
        "    local.get 1 local.get 2 local.get 0)\n"
        "  (func (export \"host\") (param v128) (result v128 i32)\n"
        "    i32.const 9 local.get 0 call $xor))",
        &len);
    wj_module *m = NULL;
    ck_assert_no_wj_error(wj_module_new(e, wasm, len, &m));
    free(wasm);
    wj_val base_value = v128_of_lanes(0x11111111, 0x22222222, 0x33333333, 0x44444444);
    wj_global *base;
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_V128, false}, &base_value, &base));
    static const uint8_t xor_params[] = {WJ_I32, WJ_V128}, xor_results[] = {WJ_V128, WJ_I32};
    wj_func *xor = wj_func_new(s, &(wj_functype){2, 2, xor_params, xor_results}, xor_bytes_cb,
                               NULL, NULL);
    wj_extern imports[] = {{.kind = WJ_EXTERN_GLOBAL, .of.global = base}, extern_func(xor)};
    wj_instance *inst = instantiate(s, m, imports, 2);

    wj_extern ext;
    wj_val got;
    ck_assert(wj_instance_export(inst, "c", 1, &ext));
    wj_global_get(ext.of.global, &got);
    wj_val c = v128_of_lanes(1, 2, 3, 0xfffffffc);
    ck_assert_v128(got, c);
    ck_assert(wj_instance_export(inst, "n", 1, &ext));
    wj_global_get(ext.of.global, &got);
    ck_assert_int_eq(got.of.i64, -5);
    ck_assert(wj_instance_export(inst, "g", 1, &ext));
    wj_global *g = ext.of.global;
    wj_global_get(g, &got);
    ck_assert_v128(got, base_value); /* initialised from the import */

    /* one v128 result: all of xmm0 */
    wj_trap *trap = NULL;
    wj_val r[3];
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "get"), NULL, 0, r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_v128(r[0], base_value);
    wj_val x = v128_of_lanes(0xdeadbeef, 0x01234567, 0x89abcdef, 0xfedcba98);
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "set"), &x, 1, NULL, 0, &trap));
    wj_global_get(g, &got);
    ck_assert_v128(got, x);

    /* a second instance imports the global and sees the API's writes */
    wasm = wat_to_wasm("(module (import \"a\" \"g\" (global $g (mut v128)))\n"
                       "  (func (export \"get\") (result v128) global.get $g))",
                       &len);
    wj_module *m2 = NULL;
    ck_assert_no_wj_error(wj_module_new(e, wasm, len, &m2));
    free(wasm);
    wj_instance *inst2 = instantiate(s, m2, &ext, 1);
    ck_assert_no_wj_error(wj_func_call(export_func(inst2, "get"), NULL, 0, r, 1, &trap));
    ck_assert_v128(r[0], x);
    ck_assert_no_wj_error(wj_global_set(g, &c));
    ck_assert_no_wj_error(wj_func_call(export_func(inst2, "get"), NULL, 0, r, 1, &trap));
    ck_assert_v128(r[0], c);
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "get"), NULL, 0, r, 1, &trap));
    ck_assert_v128(r[0], c);

    /* several results, packed in units: v128 (two), i64, i32 */
    wj_val args[3] = {i32(7), x, i64(-2)};
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "swap"), args, 3, r, 3, &trap));
    ck_assert_no_trap(trap);
    ck_assert_v128(r[0], x);
    ck_assert_int_eq(r[1].of.i64, -2);
    ck_assert_int_eq(r[2].of.i32, 7);

    /* through a host function and back */
    ck_assert_no_wj_error(wj_func_call(export_func(inst, "host"), &x, 1, r, 2, &trap));
    ck_assert_no_trap(trap);
    wj_val want = x;
    for (int i = 0; i < 16; i++)
        want.of.v128[i] ^= 9;
    ck_assert_v128(r[0], want);
    ck_assert_int_eq(r[1].of.i32, 10);
    wj_module_delete(m2);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(tables_and_call_indirect)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_func *dbl = wj_func_new(s, &i32_to_i32, double_cb, s, NULL);
    /* (type $t (func (param i32) (result i32)))
     * (import "env" "double" (func $double (type $t)))
     * (table (export "t") 3 funcref)
     * (elem (i32.const 1) func $double $inc)
     * (func $inc (type $t) local.get 0 i32.const 1 i32.add)
     * (func (export "call") (param i32 i32) (result i32)
     *   local.get 1 local.get 0 call_indirect (type $t)) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(2, 0x60, 1, I32, 1, I32, 0x60, 2, I32, I32, 1, I32),
        .imports = WB_BLOB(1, 3, 'e', 'n', 'v', 6, 'd', 'o', 'u', 'b', 'l', 'e', 0x00, 0),
        .funcs = WB_BLOB(2, 0, 1),
        .tables = WB_BLOB(1, FUNCREF, 0x00, 3),
        .exports = WB_BLOB(2, 1, 't', 0x01, 0, 4, 'c', 'a', 'l', 'l', 0x00, 2),
        .elems = WB_BLOB(1, 0, 0x41, 1, 0x0b, 2, 0, 1),
        .code = WB_BLOB(2, 7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b,
                        9, 0, 0x20, 1, 0x20, 0, 0x11, 0, 0, 0x0b),
    });
    wj_extern imp = extern_func(dbl);
    wj_instance *inst = instantiate(s, m, &imp, 1);
    wj_extern ext;
    ck_assert(wj_instance_export(inst, "t", 1, &ext));
    ck_assert_int_eq(ext.kind, WJ_EXTERN_TABLE);
    wj_table *t = ext.of.table;
    ck_assert_uint_eq(wj_table_size(t), 3);
    wj_val v;
    ck_assert(wj_table_get(t, 0, &v));
    ck_assert_ptr_null(v.of.funcref);
    ck_assert(wj_table_get(t, 1, &v));
    ck_assert_ptr_eq(v.of.funcref, dbl);
    ck_assert(wj_table_get(t, 2, &v));
    wj_func *inc = v.of.funcref;
    ck_assert_ptr_nonnull(inc);

    /* a funcref from a table is callable */
    wj_trap *trap = NULL;
    ck_assert_int_eq(call_i32(inc, 9, &trap), 10);

    wj_func *call = export_func(inst, "call");
    wj_val args[] = {i32(1), i32(21)}, r;
    ck_assert_no_wj_error(wj_func_call(call, args, 2, &r, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(r.of.i32, 42);
    args[0] = i32(2);
    ck_assert_no_wj_error(wj_func_call(call, args, 2, &r, 1, &trap));
    ck_assert_int_eq(r.of.i32, 22);
    static const struct {
        int32_t index;
        wj_trap_code code;
    } bad[] = {{0, WJ_TRAP_UNINITIALIZED_ELEMENT}, {3, WJ_TRAP_UNDEFINED_ELEMENT}};
    for (size_t i = 0; i < 2; i++) {
        args[0] = i32(bad[i].index);
        ck_assert_no_wj_error(wj_func_call(call, args, 2, &r, 1, &trap));
        ck_assert_ptr_nonnull(trap);
        ck_assert_int_eq(wj_trap_code_of(trap), bad[i].code);
        wj_trap_delete(trap);
    }

    /* set from the API: a host function of the wrong type */
    wj_func *nop = wj_func_new(s, &(wj_functype){0}, fail_cb, "", NULL);
    v = funcref(nop);
    ck_assert(wj_table_set(t, 0, &v));
    args[0] = i32(0);
    ck_assert_no_wj_error(wj_func_call(call, args, 2, &r, 1, &trap));
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_INDIRECT_TYPE);
    wj_trap_delete(trap);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* Imports exported again are the very objects imported. */
START_TEST(reexports)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 0, 0),
        .imports = WB_BLOB(4, 3, 'e', 'n', 'v', 1, 'f', 0x00, 0,
                           3, 'e', 'n', 'v', 1, 't', 0x01, FUNCREF, 0x00, 0,
                           3, 'e', 'n', 'v', 1, 'm', 0x02, 0x00, 0,
                           3, 'e', 'n', 'v', 1, 'g', 0x03, I32, 0),
        .exports = WB_BLOB(4, 1, 'f', 0x00, 0, 1, 't', 0x01, 0, 1, 'm', 0x02, 0,
                           1, 'g', 0x03, 0),
    });
    wj_table *t;
    wj_memory *mem;
    wj_global *g;
    wj_val zero = i32(0);
    ck_assert_no_wj_error(wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 0}}, NULL, &t));
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 0}, &mem));
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I32, false}, &zero, &g));
    wj_extern imports[] = {extern_func(wj_func_new(s, &(wj_functype){0}, fail_cb, "", NULL)),
                           {.kind = WJ_EXTERN_TABLE, .of.table = t},
                           {.kind = WJ_EXTERN_MEMORY, .of.memory = mem},
                           {.kind = WJ_EXTERN_GLOBAL, .of.global = g}};
    wj_instance *inst = instantiate(s, m, imports, 4);
    for (size_t i = 0; i < 4; i++) {
        wj_extern ext;
        ck_assert(wj_instance_export_nth(inst, i, &ext));
        ck_assert_int_eq(ext.kind, imports[i].kind);
        ck_assert_ptr_eq(ext.of.func, imports[i].of.func); /* same pointer, any kind */
    }
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* ---- instantiation: traps and link errors ---------------------------------------- */

START_TEST(start_function_traps)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    /* (func $boom unreachable) (func $start call $boom) (start $start) */
    wj_module *m = module_of(e, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 0, 0),
        .funcs = WB_BLOB(2, 0, 0),
        .start = WB_BLOB(1),
        .code = WB_BLOB(2, 3, 0, 0x00, 0x0b, 4, 0, 0x10, 0, 0x0b),
    });
    wj_instance *inst = (wj_instance *)0x1;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_instance_new(s, m, NULL, 0, &inst, &trap));
    ck_assert_ptr_null(inst);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    uint64_t code = code_section(m);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, 0);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->module_offset, code + 1 + 2);
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->func_index, 1);
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->module_offset, code + 1 + 4 + 2);
    wj_trap_delete(trap);

    /* a start function that returns normally */
    wj_module_delete(m);
    m = module_of(e, &(wb_spec){.start = WB_BLOB(0), .body = WB_BLOB(0, 0x0b)});
    wj_instance *ok = instantiate(s, m, NULL, 0);
    ck_assert_ptr_nonnull(ok);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

/* Imports a table (min 1) and a memory (min 1); one element and one
 * data segment in bounds, then `bad` (0: an element segment, 1: a data
 * segment) out of bounds. */
static wj_module *partial_module(wj_engine *e, int bad)
{
    return module_of(e, &(wb_spec){
        .imports = WB_BLOB(2, 3, 'e', 'n', 'v', 1, 't', 0x01, FUNCREF, 0x00, 1,
                           3, 'e', 'n', 'v', 1, 'm', 0x02, 0x00, 1),
        .elems = bad == 0 ? WB_BLOB(2, 0, 0x41, 0, 0x0b, 1, 0, 0, 0x41, 1, 0x0b, 1, 0)
                          : WB_BLOB(1, 0, 0x41, 0, 0x0b, 1, 0),
        .data = bad == 1 ? WB_BLOB(2, 0, 0x41, 0, 0x0b, 2, 'h', 'i',
                                   0, 0x41, 0xff, 0xff, 0x03, 0x0b, 2, 'x', 'y')
                         : WB_BLOB(1, 0, 0x41, 0, 0x0b, 2, 'h', 'i'),
        .body = WB_BLOB(0, 0x0b),
    });
}

START_TEST(partial_initialisation_stays)
{
    wj_engine *e = wj_engine_new(NULL);
    for (int bad = 0; bad < 2; bad++) {
        wj_store *s = wj_store_new(e);
        wj_table *t;
        wj_memory *mem;
        ck_assert_no_wj_error(wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 1}}, NULL, &t));
        ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1}, &mem));
        wj_extern imports[] = {{.kind = WJ_EXTERN_TABLE, .of.table = t},
                               {.kind = WJ_EXTERN_MEMORY, .of.memory = mem}};
        wj_module *m = partial_module(e, bad);
        wj_instance *inst = NULL;
        wj_trap *trap = NULL;
        ck_assert_no_wj_error(wj_instance_new(s, m, imports, 2, &inst, &trap));
        ck_assert_ptr_null(inst);
        ck_assert_ptr_nonnull(trap);
        ck_assert_str_eq(wj_trap_message(trap), bad == 0 ? "out of bounds table access"
                                                         : "out of bounds memory access");
        wj_trap_delete(trap);
        /* the element segment before the bad one was written; data only
         * when the elements were all fine */
        wj_val v;
        ck_assert(wj_table_get(t, 0, &v));
        ck_assert_ptr_nonnull(v.of.funcref);
        ck_assert_int_eq(memcmp(wj_memory_data(mem), bad == 1 ? "hi" : "\0\0", 2), 0);
        ck_assert_uint_eq(wj_memory_data(mem)[65535], 0);
        /* the function of the failed instance still runs */
        trap = NULL;
        ck_assert_no_wj_error(wj_func_call(v.of.funcref, NULL, 0, NULL, 0, &trap));
        ck_assert_no_trap(trap);
        wj_module_delete(m);
        wj_store_delete(s);
    }
    wj_engine_delete(e);
}
END_TEST

/* Imports "env" "f" (func (i32) -> (i32)), "env" "t" (table 2 10 funcref),
 * "env" "m" (memory 1), "env" "g" (global (mut i32)). */
static const wb_spec link_spec = {
    .types = WB_BLOB(1, 0x60, 1, I32, 1, I32),
    .imports = WB_BLOB(4, 3, 'e', 'n', 'v', 1, 'f', 0x00, 0,
                       3, 'e', 'n', 'v', 1, 't', 0x01, FUNCREF, 0x01, 2, 10,
                       3, 'e', 'n', 'v', 1, 'm', 0x02, 0x00, 1,
                       3, 'e', 'n', 'v', 1, 'g', 0x03, I32, 1),
};

START_TEST(link_errors)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e), *other = wj_store_new(e);
    wj_module *m = module_of(e, &link_spec);
    wj_func *f = wj_func_new(s, &i32_to_i32, double_cb, s, NULL);
    wj_func *g0 = wj_func_new(s, &(wj_functype){0}, fail_cb, "", NULL);
    wj_table *t, *t_small, *t_big, *t_ext;
    ck_assert_no_wj_error(wj_table_new(
        s, &(wj_tabletype){WJ_FUNCREF, {.min = 2, .max = 10, .has_max = true}}, NULL, &t));
    ck_assert_no_wj_error(wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 1}}, NULL, &t_small));
    ck_assert_no_wj_error(wj_table_new(s, &(wj_tabletype){WJ_FUNCREF, {.min = 3}}, NULL, &t_big));
    ck_assert_no_wj_error(wj_table_new(
        s, &(wj_tabletype){WJ_EXTERNREF, {.min = 2, .max = 2, .has_max = true}}, NULL, &t_ext));
    wj_memory *mem, *mem0;
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 1}, &mem));
    ck_assert_no_wj_error(wj_memory_new(s, &(wj_limits){.min = 0, .max = 5, .has_max = true}, &mem0));
    wj_global *g, *g_const, *g_i64;
    wj_val v = i32(0), v64 = i64(0);
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I32, true}, &v, &g));
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I32, false}, &v, &g_const));
    ck_assert_no_wj_error(wj_global_new(s, &(wj_globaltype){WJ_I64, true}, &v64, &g_i64));

    wj_extern good[] = {extern_func(f),
                        {.kind = WJ_EXTERN_TABLE, .of.table = t},
                        {.kind = WJ_EXTERN_MEMORY, .of.memory = mem},
                        {.kind = WJ_EXTERN_GLOBAL, .of.global = g}};
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    struct {
        size_t index;
        wj_extern with;
        const char *message;
    } bad[] = {
        {0, extern_func(g0),
         "incompatible import type for import 0 \"env\" \"f\": expected func (i32) -> (i32), "
         "got func () -> ()"},
        {0, {.kind = WJ_EXTERN_MEMORY, .of.memory = mem},
         "incompatible import type for import 0 \"env\" \"f\": expected func (i32) -> (i32), "
         "got memory 1"},
        {1, {.kind = WJ_EXTERN_TABLE, .of.table = t_small},
         "incompatible import type for import 1 \"env\" \"t\": expected table 2 10 funcref, "
         "got table 1 funcref"},
        {1, {.kind = WJ_EXTERN_TABLE, .of.table = t_big},
         "incompatible import type for import 1 \"env\" \"t\": expected table 2 10 funcref, "
         "got table 3 funcref"},
        {1, {.kind = WJ_EXTERN_TABLE, .of.table = t_ext},
         "incompatible import type for import 1 \"env\" \"t\": expected table 2 10 funcref, "
         "got table 2 2 externref"},
        {2, {.kind = WJ_EXTERN_MEMORY, .of.memory = mem0},
         "incompatible import type for import 2 \"env\" \"m\": expected memory 1, "
         "got memory 0 5"},
        {3, {.kind = WJ_EXTERN_GLOBAL, .of.global = g_const},
         "incompatible import type for import 3 \"env\" \"g\": expected global (mut i32), "
         "got global i32"},
        {3, {.kind = WJ_EXTERN_GLOBAL, .of.global = g_i64},
         "incompatible import type for import 3 \"env\" \"g\": expected global (mut i32), "
         "got global (mut i64)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wj_extern imports[4];
        memcpy(imports, good, sizeof good);
        imports[bad[i].index] = bad[i].with;
        wj_error *err = wj_instance_new(s, m, imports, 4, &inst, &trap);
        ck_assert_wj_error(err, WJ_ERROR_LINK, bad[i].message);
        ck_assert_str_eq(wj_error_message(err), bad[i].message);
        ck_assert_ptr_null(inst);
        ck_assert_ptr_null(trap);
        wj_error_delete(err);
    }

    /* the wrong number of imports; objects of another store; no object */
    wj_error *err = wj_instance_new(s, m, good, 3, &inst, &trap);
    ck_assert_wj_error(err, WJ_ERROR_LINK, "wrong number of imports: the module has 4, got 3");
    wj_error_delete(err);
    err = wj_instance_new(other, m, good, 4, &inst, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "import 0 \"env\" \"f\" belongs to another store");
    wj_error_delete(err);
    wj_extern none[4];
    memcpy(none, good, sizeof good);
    none[2].of.memory = NULL;
    err = wj_instance_new(s, m, none, 4, &inst, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "import 2 \"env\" \"m\": no object");
    wj_error_delete(err);

    /* a table grown since it was made matches by its current size */
    uint64_t old;
    ck_assert(wj_table_grow(t_small, 1, NULL, &old));
    memcpy(none, good, sizeof good);
    none[1].of.table = t_small;
    err = wj_instance_new(s, m, none, 4, &inst, &trap);
    ck_assert_wj_error(err, WJ_ERROR_LINK, "incompatible import type for import 1"); /* no max */

    /* and all good */
    wj_error_delete(err);
    ck_assert_no_wj_error(wj_instance_new(s, m, good, 4, &inst, &trap));
    ck_assert_ptr_nonnull(inst);
    wj_module_delete(m);
    wj_store_delete(other);
    wj_store_delete(s);
    wj_engine_delete(e);
}
END_TEST

START_TEST(link_engines_must_match)
{
    wj_engine *e1 = wj_engine_new(NULL), *e2 = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e2);
    wj_module *m = module_of(e1, &add_spec);
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(s, m, NULL, 0, &inst, &trap);
    ck_assert_wj_error(err, WJ_ERROR_USAGE, "the module and the store belong to different engines");
    wj_error_delete(err);
    wj_module_delete(m);
    wj_store_delete(s);
    wj_engine_delete(e2);
    wj_engine_delete(e1);
}
END_TEST

/* Many instances of one module in one store, and of many in many. */
START_TEST(many_instances)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_module *m = module_of(e, &data_spec);
    for (int i = 0; i < 8; i++) {
        wj_store *s = wj_store_new(e);
        for (int j = 0; j < 8; j++) {
            wj_instance *inst = instantiate(s, m, NULL, 0);
            wj_trap *trap = NULL;
            ck_assert_int_eq(call_i32(export_func(inst, "load"), 16, &trap), 'h');
        }
        wj_store_delete(s);
    }
    wj_module_delete(m);
    wj_engine_delete(e);
}
END_TEST

static Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *api = tcase_create("objects");
    tcase_add_test(api, host_function_call);
    tcase_add_test(api, host_function_v128);
    tcase_add_test(api, host_function_usage_errors);
    tcase_add_test(api, host_function_traps);
    tcase_add_test(api, finalizers_run_with_the_store);
    tcase_add_test(api, traps);
    tcase_add_test(api, globals);
    tcase_add_test(api, tables);
    tcase_add_test(api, memories);
    tcase_add_test(api, memory_size_limit);
    tcase_add_test(api, many_memories);
    tcase_set_timeout(api, 60); /* valgrind */
    suite_add_tcase(s, api);

    TCase *wasm = tcase_create("wasm");
    tcase_add_test(wasm, call_add);
    tcase_add_test(wasm, call_multi_value);
    tcase_add_test(wasm, call_float);
    tcase_add_test(wasm, call_host_import);
    tcase_add_test(wasm, call_reentrant);
    tcase_add_test(wasm, host_trap_unwinds);
    tcase_add_test(wasm, trap_outlives_store);
    tcase_add_test(wasm, stack_exhaustion);
    tcase_add_test(wasm, memory_data_and_grow);
    tcase_add_test(wasm, memory_grow_engine_limit);
    tcase_add_test(wasm, globals_shared_with_wasm);
    tcase_add_test(wasm, v128_globals_and_calls);
    tcase_add_test(wasm, tables_and_call_indirect);
    tcase_add_test(wasm, reexports);
    tcase_add_test(wasm, start_function_traps);
    tcase_add_test(wasm, partial_initialisation_stays);
    tcase_add_test(wasm, link_errors);
    tcase_add_test(wasm, link_engines_must_match);
    tcase_add_test(wasm, many_instances);
    tcase_set_timeout(wasm, 60);
    suite_add_tcase(s, wasm);
    return s;
}

int main(void)
{
    return unit_run(runtime_suite());
}
