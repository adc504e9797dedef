/*
 * libFuzzer harness for the decoder and validator: every input is validated
 * with all features on (simd, memory64, multi-memory) and with the library's
 * defaults; a module accepted with the features on is also built with
 * wj_module_new() and read back through the accessors. Public API only.
 *
 * Not built by `make`. Build it against the sources with clang (tested with
 * clang 14 + libclang-rt-14-dev), from the top of the source tree:
 *
 *   clang -std=gnu11 -g -O1 -fno-omit-frame-pointer \
 *       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *       -Iinclude -Isrc -o /tmp/wj-libfuzzer \
 *       tests/fuzz/libfuzzer.c src/wasm/[a-z]*.c src/runtime/[a-z]*.c
 *
 * A corpus from the Sightglass programs and the spec tests: wast2json writes
 * each module of a .wast as its own .wasm file (and text modules as .wat,
 * which are of no use here):
 *
 *   mkdir -p /tmp/wj-corpus/seeds /tmp/wj-corpus/spec /tmp/wj-corpus/out /tmp/wj-crashes
 *   cd /work/shared/sightglass && for f in $(find . -name '[a-z]*.wasm'); do
 *       cp "$f" /tmp/wj-corpus/seeds/sg-$(echo "${f#./}" | tr / -); done
 *   cd /work/shared/testsuite && for w in $(find . -name '[a-z]*.wast'); do
 *       n=$(echo "${w#./}" | tr / -); wast2json --enable-memory64 --enable-multi-memory \
 *           "$w" -o /tmp/wj-corpus/spec/spec-"${n%.wast}".json; done
 *   rm -f /tmp/wj-corpus/spec/spec-[a-z]*.json /tmp/wj-corpus/spec/spec-[a-z]*.wat
 *
 * (5,700 spec modules and 33 Sightglass programs, 23 MB with wabt 1.0.32.) Then
 * a run of five minutes (the output corpus directory comes first and
 * receives what libFuzzer finds; -max_len must cover the biggest seeds, or
 * libFuzzer only ever looks at their first bytes):
 *
 *   /tmp/wj-libfuzzer -max_total_time=300 -max_len=3000000 -rss_limit_mb=4096 \
 *       -timeout=30 -artifact_prefix=/tmp/wj-crashes/ \
 *       /tmp/wj-corpus/out /tmp/wj-corpus/seeds /tmp/wj-corpus/spec
 *
 * A crash leaves the input in /tmp/wj-crashes/crash-<sha1>; rerun it with
 * `/tmp/wj-libfuzzer FILE`. libFuzzer stops at the first crash; to keep going
 * past a known one (and use N cores), add -fork=N -ignore_crashes=1.
 *
 * Besides the sanitizers, the harness aborts when the API breaks its
 * contract: an error of unknown kind or without a message, an error offset
 * past the end of the input, a module accepted with the defaults but not
 * with all features on, wj_module_new() failing on bytes that
 * wj_module_validate() accepted, a section reported past the input's end, or
 * an accessor answering out of range.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wasmjail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wj_engine *engine_all, *engine_default;

static void init(void)
{
    wj_config *config = wj_config_new();
    if (!config)
        abort();
    wj_config_set_feature(config, WJ_FEATURE_SIMD, true);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    engine_all = wj_engine_new(config);
    wj_config_delete(config);
    engine_default = wj_engine_new(NULL);
    if (!engine_all || !engine_default)
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

static void inspect(const uint8_t *data, size_t size)
{
    wj_module *m = NULL;
    wj_error *err = wj_module_new(engine_all, data, size, &m);
    if (err) {
        /* wj_module_validate() accepted these very bytes: only an
         * unsupported feature may stop the compiler. */
        if (wj_error_kind_of(err) != WJ_ERROR_UNSUPPORTED)
            abort();
        wj_error_delete(err);
        err = wj_module_decode(engine_all, data, size, &m);
    }
    if (err)
        abort();
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
    wj_module_delete(m);
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
    if (ok_all)
        inspect(data, size);
    return 0;
}
