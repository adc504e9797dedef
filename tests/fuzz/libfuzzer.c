/*
 * libFuzzer harness for the whole pipeline, public API only. Every input is
 * validated with all features on (simd, memory64, multi-memory) and with the
 * library's defaults. A module accepted with the features on is compiled
 * (wj_module_new), read back through the accessors, instantiated with
 * imports made to match its declared types (tests/fuzz/imports.c: functions
 * returning zeros, memories, tables and globals of the declared limits) and
 * each exported function is called with zero arguments. Calls end: the
 * engines consume fuel, and every call gets FUEL_PER_CALL. Half of the
 * inputs (by size parity) run with static memories, half with dynamic ones.
 * Traps are fine; crashes, sanitizer reports and broken contracts are not.
 *
 * Built by `make fuzz` (clang with -fsanitize=fuzzer,address,undefined, over
 * its own sanitized copy of the library's sources) as tests/fuzz/libfuzzer;
 * tests/fuzz/run-libfuzzer.sh runs it over a corpus seeded with binaryen's
 * random modules:
 *
 *   make fuzz && nice -n 19 sh tests/fuzz/run-libfuzzer.sh 1800
 *
 * Besides the sanitizers, the harness aborts when the API breaks its
 * contract: an error of unknown kind or without a message, an error offset
 * past the end of the input, a module accepted with the defaults but not
 * with all features on, wj_module_new() failing on bytes that
 * wj_module_validate() accepted (other than for an unsupported feature), a
 * section reported past the input's end, an accessor answering out of range,
 * a link error with matching imports, a call of well-typed arguments
 * refused, or a trap without a known code and message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "imports.h"
#include "wasmjail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough for loops to run a while; little enough for thousands of runs a
 * second. */
#define FUEL_PER_CALL 100000
/* Memories grow no further (ASan's own memory counts against libFuzzer's
 * RSS limit, and memory.fill of 4 GiB is one instruction). */
#define MAX_MEMORY_BYTES (64u << 20)

/* Validation with all features and with the defaults; compilation and
 * execution with all features and fuel, static or dynamic memories. */
static wj_engine *engine_all, *engine_default, *engine_run[2];

static wj_engine *new_engine(bool run, bool dynamic_memories)
{
    wj_config *config = wj_config_new();
    if (!config)
        abort();
    wj_config_set_feature(config, WJ_FEATURE_SIMD, true);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    if (run) {
        wj_config_set_consume_fuel(config, true);
        wj_config_set_max_memory_size(config, MAX_MEMORY_BYTES);
        wj_config_set_dynamic_memories(config, dynamic_memories);
    }
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    if (!engine)
        abort();
    return engine;
}

static void init(void)
{
    engine_all = new_engine(false, false);
    engine_default = wj_engine_new(NULL);
    engine_run[0] = new_engine(true, false);
    engine_run[1] = new_engine(true, true);
    if (!engine_default)
        abort();
}

/* Reads a name's bytes and its terminating NUL, which the API promises. */
static volatile unsigned sink;

static void touch(const char *s, size_t len)
{
    if (!s)
        return;
    unsigned h = 0;
    for (size_t i = 0; i <= len; i++)
        h += (unsigned char)s[i];
    sink += h;
}

static void inspect(const wj_module *m, size_t size)
{
    for (size_t i = 0, n = wj_module_import_count(m); i <= n; i++) {
        wj_import_info info;
        if (wj_module_import(m, i, &info) != (i < n))
            abort();
        if (i < n) {
            touch(info.module, info.module_len);
            touch(info.name, info.name_len);
        }
    }
    for (size_t i = 0, n = wj_module_export_count(m); i <= n; i++) {
        wj_export_info info;
        if (wj_module_export(m, i, &info) != (i < n))
            abort();
        if (i < n)
            touch(info.name, info.name_len);
    }
    for (size_t i = 0, n = wj_module_section_count(m); i <= n; i++) {
        wj_section_info info;
        if (wj_module_section(m, i, &info) != (i < n))
            abort();
        if (i < n) {
            if (info.offset > size || info.size > size - info.offset)
                abort();
            touch(info.name, info.name_len);
        }
    }
    uint32_t nfuncs = wj_module_func_count(m);
    for (uint32_t i = 0; i <= nfuncs; i++) {
        wj_functype ft;
        if (wj_module_func_type(m, i, &ft) != (i < nfuncs))
            abort();
        if (i < nfuncs) {
            for (uint32_t k = 0; k < ft.param_count; k++)
                sink += ft.params[k];
            for (uint32_t k = 0; k < ft.result_count; k++)
                sink += ft.results[k];
        }
        size_t len;
        const char *name = wj_module_func_name(m, i, &len);
        touch(name, len);
        for (uint32_t l = 0; l < 4; l++) {
            name = wj_module_local_name(m, i, l, &len);
            touch(name, len);
        }
    }
    uint32_t n = wj_module_table_count(m);
    for (uint32_t i = 0; i <= n; i++) {
        wj_tabletype t;
        if (wj_module_table_type(m, i, &t) != (i < n))
            abort();
    }
    n = wj_module_memory_count(m);
    for (uint32_t i = 0; i <= n; i++) {
        wj_limits l;
        if (wj_module_memory_type(m, i, &l) != (i < n))
            abort();
    }
    n = wj_module_global_count(m);
    for (uint32_t i = 0; i <= n; i++) {
        wj_globaltype g;
        if (wj_module_global_type(m, i, &g) != (i < n))
            abort();
    }
    size_t len;
    touch(wj_module_name(m, &len), len);
    uint32_t start;
    if (wj_module_start(m, &start))
        sink += start;
}

static void check_trap(wj_trap *trap)
{
    wj_trap_code code = wj_trap_code_of(trap);
    if (code < WJ_TRAP_UNREACHABLE || code > WJ_TRAP_OUT_OF_FUEL || code == WJ_TRAP_HOST ||
        code == WJ_TRAP_EXIT || code == WJ_TRAP_INTERRUPT)
        abort();
    const char *msg = wj_trap_message(trap);
    if (!msg || !msg[0])
        abort();
    for (size_t i = 0, n = wj_trap_frame_count(trap); i < n; i++)
        if (!wj_trap_frame(trap, i))
            abort();
    wj_trap_delete(trap);
}

static void call(wj_store *store, wj_func *func)
{
    wj_functype type;
    wj_func_type(func, &type);
    wj_val *args = calloc(type.param_count + 1, sizeof *args);
    wj_val *results = calloc(type.result_count + 1, sizeof *results);
    if (!args || !results)
        abort();
    for (uint32_t i = 0; i < type.param_count; i++)
        args[i] = fuzz_zero(type.params[i]);
    if (wj_store_set_fuel(store, FUEL_PER_CALL))
        abort();
    wj_trap *trap = NULL;
    if (wj_func_call(func, args, type.param_count, results, type.result_count, &trap))
        abort();
    if (trap)
        check_trap(trap);
    free(args);
    free(results);
}

/* Instantiates the module and calls each exported function. */
static void run(wj_engine *engine, const wj_module *m)
{
    wj_store *store = wj_store_new(engine);
    if (!store || wj_store_set_fuel(store, FUEL_PER_CALL))
        abort();
    wj_error *err = NULL;
    wj_extern *imports = fuzz_imports_new(store, m, NULL, NULL, &err);
    wj_instance *instance = NULL;
    wj_trap *trap = NULL;
    if (imports)
        err = wj_instance_new(store, m, imports, wj_module_import_count(m), &instance, &trap);
    if (err) {
        /* Over the memory limit, say; the imports match. */
        if (wj_error_kind_of(err) != WJ_ERROR_RESOURCE)
            abort();
        wj_error_delete(err);
    } else if (!imports) {
        abort(); /* out of memory */
    } else if (trap) {
        check_trap(trap);
    } else {
        wj_extern func;
        for (size_t i = 0; wj_instance_export_nth(instance, i, &func); i++)
            if (func.kind == WJ_EXTERN_FUNC)
                call(store, func.of.func);
    }
    free(imports);
    wj_store_delete(store);
}

/* The error's contract: a known kind, a message, an offset inside the input. */
static bool check(wj_error *err, size_t size)
{
    if (!err)
        return true;
    wj_error_kind kind = wj_error_kind_of(err);
    if (kind < WJ_ERROR_MALFORMED || kind > WJ_ERROR_RESOURCE)
        abort();
    const char *msg = wj_error_message(err);
    if (!msg || !msg[0])
        abort();
    uint64_t offset = wj_error_offset(err);
    if (offset != WJ_NO_OFFSET && offset > size)
        abort();
    wj_error_delete(err);
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine_all)
        init();
    bool ok_all = check(wj_module_validate(engine_all, data, size), size);
    bool ok_default = check(wj_module_validate(engine_default, data, size), size);
    /* What the defaults accept stays valid with more features on. */
    if (ok_default && !ok_all)
        abort();
    if (!ok_all)
        return 0;
    wj_engine *engine = engine_run[size & 1];
    wj_module *m = NULL;
    wj_error *err = wj_module_new(engine, data, size, &m);
    if (err) {
        /* wj_module_validate() accepted these very bytes: only an
         * unsupported feature may stop the compiler. */
        if (wj_error_kind_of(err) != WJ_ERROR_UNSUPPORTED)
            abort();
        wj_error_delete(err);
        if (wj_module_decode(engine, data, size, &m))
            abort();
        inspect(m, size);
    } else {
        inspect(m, size);
        run(engine, m);
    }
    wj_module_delete(m);
    return 0;
}
