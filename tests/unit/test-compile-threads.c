/* Parallel validation and compilation (src/wasm/parallel.c,
 * src/compiler/compile.c): whatever the number of compile threads, a
 * module compiles to the same code bytes, function starts, trap table and
 * address map, and runs the same; a module whose functions fail to
 * validate or compile reports the same error (the lowest failing
 * function's).
 * Modules: bench/instantiate's large one (31,930 functions, many chunks)
 * and every Sightglass program under $SIGHTGLASS when it is set. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>

#include <wasmjail.h>

#include "compiler/compiler.h"
#include "modules.h" /* bench/ */
#include "runtime/module.h"
#include "unit.h"

static const uint32_t thread_counts[] = {1, 2, 3, 4, 8};
#define NTHREAD_COUNTS (sizeof thread_counts / sizeof *thread_counts)

static wj_engine *engine_with_threads(uint32_t threads)
{
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_compile_threads(config, threads);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(engine);
    return engine;
}

static wj_module *compile_with(wj_engine *engine, const uint8_t *bytes, size_t len,
                               const char *name)
{
    wj_module *module = NULL;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    ck_assert_msg(err == NULL, "%s: %s", name, err ? wj_error_message(err) : "");
    return module;
}

static void assert_same_code(const compiled_code *a, const compiled_code *b, const char *name,
                             uint32_t threads)
{
    ck_assert_msg(a->code_size == b->code_size, "%s, %u threads: %zu code bytes, not %zu", name,
                  threads, b->code_size, a->code_size);
    ck_assert_msg(memcmp(a->code, b->code, a->code_size) == 0, "%s, %u threads: code differs",
                  name, threads);
    ck_assert_uint_eq(a->first_func, b->first_func);
    ck_assert_uint_eq(a->nfuncs, b->nfuncs);
    ck_assert_msg(memcmp(a->func_starts, b->func_starts, a->nfuncs * sizeof *a->func_starts) == 0,
                  "%s, %u threads: function starts differ", name, threads);
    ck_assert_uint_eq(a->ntraps, b->ntraps);
    ck_assert_msg(memcmp(a->traps, b->traps, a->ntraps * sizeof *a->traps) == 0,
                  "%s, %u threads: trap tables differ", name, threads);
    ck_assert_uint_eq(a->naddrs, b->naddrs);
    ck_assert_msg(memcmp(a->addrs, b->addrs, a->naddrs * sizeof *a->addrs) == 0,
                  "%s, %u threads: address maps differ", name, threads);
}

/* Compiles the bytes under every thread count; all equal the first. */
static void assert_same_under_all_thread_counts(const uint8_t *bytes, size_t len, const char *name)
{
    wj_engine *engine1 = engine_with_threads(thread_counts[0]);
    wj_module *reference = compile_with(engine1, bytes, len, name);
    for (size_t i = 1; i < NTHREAD_COUNTS; i++) {
        wj_engine *engine = engine_with_threads(thread_counts[i]);
        wj_module *module = compile_with(engine, bytes, len, name);
        assert_same_code(&reference->code, &module->code, name, thread_counts[i]);
        wj_module_delete(module);
        wj_engine_delete(engine);
    }
    wj_module_delete(reference);
    wj_engine_delete(engine1);
}

START_TEST(large_module_same_code)
{
    bench_module m = bench_module_build(BENCH_LARGE);
    ck_assert_ptr_nonnull(m.bytes);
    assert_same_under_all_thread_counts(m.bytes, m.len, "large");
    bench_module_free(&m);
}
END_TEST

/* Every table slot of the large module, compiled on 4 threads: each
 * function's calls land on the right functions across chunks; then a
 * trap. */
START_TEST(large_module_runs_when_compiled_on_threads)
{
    bench_module m = bench_module_build(BENCH_LARGE);
    ck_assert_ptr_nonnull(m.bytes);
    wj_engine *engine = engine_with_threads(4);
    wj_module *module = compile_with(engine, m.bytes, m.len, "large");
    wj_store *store = wj_store_new(engine);
    wj_instance *instance;
    wj_trap *trap = NULL;
    ck_assert_ptr_null(wj_instance_new(store, module, NULL, 0, &instance, &trap));
    ck_assert_ptr_null(trap);
    wj_extern dispatch;
    ck_assert(wj_instance_export(instance, "dispatch", 8, &dispatch));
    for (uint32_t slot = 0; slot < m.nslots; slot++) {
        wj_val args[2] = {{.kind = WJ_I32, .of.i32 = (int32_t)slot},
                          {.kind = WJ_I32, .of.i32 = (int32_t)(slot * 40503u)}};
        wj_val result;
        ck_assert_ptr_null(wj_func_call(dispatch.of.func, args, 2, &result, 1, &trap));
        ck_assert_ptr_null(trap);
        uint32_t want = bench_func_result(bench_table_func(m.nfuncs, slot), slot * 40503u);
        ck_assert_uint_eq((uint32_t)result.of.i32, want);
    }
    /* A trap in the last chunk (dispatch is the last function) goes
     * through that chunk's trap thunk and is located in dispatch. */
    wj_val args[2] = {{.kind = WJ_I32, .of.i32 = (int32_t)m.nslots}, {.kind = WJ_I32}};
    wj_val result;
    ck_assert_ptr_null(wj_func_call(dispatch.of.func, args, 2, &result, 1, &trap));
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNDEFINED_ELEMENT);
    ck_assert_uint_ge(wj_trap_frame_count(trap), 1);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, m.nfuncs - 1);
    wj_trap_delete(trap);
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
    bench_module_free(&m);
}
END_TEST

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Each $SIGHTGLASS/NAME/benchmark.wasm that compiles. */
START_TEST(sightglass_same_code)
{
    const char *dir = getenv("SIGHTGLASS");
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    if (!d)
        return; /* not configured: the generated module above still runs */
    wj_engine *probe = engine_with_threads(1);
    int compared = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s/benchmark.wasm", dir, e->d_name);
        uint8_t *bytes = e->d_name[0] == '.' ? NULL : read_file(path, &len);
        if (!bytes)
            continue;
        wj_module *module = NULL;
        wj_error *err = wj_module_new(probe, bytes, len, &module);
        if (!err) { /* SIMD programs and the like stay out of it */
            assert_same_under_all_thread_counts(bytes, len, e->d_name);
            compared++;
        }
        wj_error_delete(err);
        wj_module_delete(module);
        free(bytes);
    }
    closedir(d);
    wj_engine_delete(probe);
    ck_assert_msg(compared > 0, "no Sightglass program compiled under %s", dir);
}
END_TEST

/* ---- errors ---- */

/* The large module with an illegal opcode (0xff) at the start of each of
 * the `nbad` defined functions `bad`, decoded but not validated (the
 * validator would refuse it first) and compiled on `threads` threads. */
static wasm_error compile_broken(const uint32_t *bad, size_t nbad, uint32_t threads,
                                 uint64_t *bad_offsets)
{
    bench_module bm = bench_module_build(BENCH_LARGE);
    ck_assert_ptr_nonnull(bm.bytes);
    wasm_error err = {0};
    wasm_module *m = wasm_decode(bm.bytes, bm.len, 0, &err);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < nbad; i++)
        bad_offsets[i] = m->funcs[m->nfunc_imports + bad[i]].body;
    wasm_module_free(m);
    for (size_t i = 0; i < nbad; i++)
        bm.bytes[bad_offsets[i]] = 0xff;
    m = wasm_decode(bm.bytes, bm.len, 0, &err);
    ck_assert_ptr_nonnull(m);
    uint32_t type_ids[2] = {0, 1};
    compile_env env = {.type_ids = type_ids,
                       .memory = {.reservation = UINT64_C(4) << 30, .guard = UINT64_C(2) << 30},
                       .max_memory_size = UINT64_C(4) << 30, .threads = threads};
    compiled_code code;
    ck_assert(!compile_module(m, &env, &code, &err));
    wasm_module_free(m);
    bench_module_free(&bm);
    return err;
}

/* Two broken functions far apart (in different chunks), each alone and
 * both: the error is always the lower one's, on every thread count, many
 * times over (a race would show as the other offset now and then). */
START_TEST(lowest_failing_function_is_reported)
{
    /* {1000, 1500}: near the end of the first chunk and the start of the
     * second (chunks hold 16 KiB of bodies, about 1,400 of these), where
     * the higher failure comes first in time. */
    static const uint32_t cases[][2] = {{700, 29000}, {29000, 29000}, {700, 700}, {15000, 3},
                                        {1000, 1500}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (size_t t = 0; t < NTHREAD_COUNTS; t++) {
            for (int round = 0; round < 5; round++) {
                uint64_t offsets[2];
                wasm_error err = compile_broken(cases[c], 2, thread_counts[t], offsets);
                uint64_t want = cases[c][0] < cases[c][1] ? offsets[0] : offsets[1];
                ck_assert_msg(err.kind == WASM_ERR_MALFORMED && err.offset == want,
                              "functions %u and %u broken, %u threads: error \"%s\" at %llu, "
                              "expected one at %llu", cases[c][0], cases[c][1],
                              thread_counts[t], err.message, (unsigned long long)err.offset,
                              (unsigned long long)want);
            }
        }
    }
}
END_TEST

/* The large module with the first instruction (local.get 0) of each of
 * functions bad[i] made invalid (local.get 5: no such local) or, where
 * malformed[i], malformed (0xff); *at gets each one's offset. */
static bench_module broken_large_module(const uint32_t *bad, const bool *malformed, size_t n,
                                        uint64_t *at)
{
    bench_module bm = bench_module_build(BENCH_LARGE);
    ck_assert_ptr_nonnull(bm.bytes);
    wasm_error err = {0};
    wasm_module *m = wasm_decode(bm.bytes, bm.len, 0, &err);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < n; i++) {
        at[i] = m->funcs[m->nfunc_imports + bad[i]].body;
        ck_assert_uint_eq(bm.bytes[at[i]], 0x20);
        if (malformed[i])
            bm.bytes[at[i]] = 0xff;
        else
            bm.bytes[at[i] + 1] = 5;
    }
    wasm_module_free(m);
    return bm;
}

/* Validation errors through wj_module_new: the first failing function's,
 * unless a malformed body follows it (which the spec's decoder meets
 * first), on every thread count. */
START_TEST(validation_error_is_the_same_on_any_thread_count)
{
    static const struct {
        uint32_t funcs[2];
        bool malformed[2];
        int want_kind;
        int want_index; /* of funcs */
    } cases[] = {
        {{1000, 1500}, {false, false}, WJ_ERROR_INVALID, 0},
        {{29000, 3}, {false, false}, WJ_ERROR_INVALID, 1},
        {{1000, 29000}, {false, true}, WJ_ERROR_MALFORMED, 1},
        {{1000, 29000}, {true, false}, WJ_ERROR_MALFORMED, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint64_t at[2];
        bench_module bm = broken_large_module(cases[c].funcs, cases[c].malformed, 2, at);
        for (size_t t = 0; t < NTHREAD_COUNTS; t++) {
            wj_engine *engine = engine_with_threads(thread_counts[t]);
            wj_module *module = NULL;
            wj_error *err = wj_module_new(engine, bm.bytes, bm.len, &module);
            ck_assert_ptr_nonnull(err);
            ck_assert_msg(wj_error_kind_of(err) == (wj_error_kind)cases[c].want_kind &&
                              wj_error_offset(err) == at[cases[c].want_index],
                          "case %zu, %u threads: error %d \"%s\" at %llu, expected kind %d at %llu",
                          c, thread_counts[t], (int)wj_error_kind_of(err), wj_error_message(err),
                          (unsigned long long)wj_error_offset(err), cases[c].want_kind,
                          (unsigned long long)at[cases[c].want_index]);
            wj_error_delete(err);
            wj_engine_delete(engine);
        }
        bench_module_free(&bm);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compile-threads");
    TCase *tc = tcase_create("same result");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, large_module_same_code);
    tcase_add_test(tc, large_module_runs_when_compiled_on_threads);
    tcase_add_test(tc, sightglass_same_code);
    tcase_add_test(tc, lowest_failing_function_is_reported);
    tcase_add_test(tc, validation_error_is_the_same_on_any_thread_count);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
