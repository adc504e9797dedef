/* One module in one store, for the unit suites that run wasm through the
 * public API (test-traps, test-interrupt). Modules are written in the text
 * format and converted by wat2wasm (wat.h). */
#ifndef WJ_TEST_FIXTURE_H
#define WJ_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <wasmjail.h>

#include "unit.h"

typedef struct fixture {
    wj_engine *engine;
    wj_store *store;
    wj_module *module;
    wj_instance *instance;
    uint8_t *bytes;
    size_t len;
    uint32_t imported_funcs;
} fixture;

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

#define ck_assert_no_trap(t) \
    ck_assert_msg((t) == NULL, "unexpected trap: %s", (t) ? wj_trap_message(t) : "")

/* How every fixture's engine compiles (the config given is set to it):
 * main runs the suite once per tier with unit_run_tiers. */
extern unit_tier fx_tier;

/* Engine (with `config`, may be NULL), store and module; no instance yet. */
void fx_prepare(fixture *fx, const char *wat, wj_config *config);
/* The same with extra wat2wasm options (see wat_to_wasm_opts). */
void fx_prepare_opts(fixture *fx, const char *wat, const char *const *wat_opts,
                     wj_config *config);
/* The same from module bytes (malloc'd: the fixture frees them). */
void fx_prepare_bytes(fixture *fx, uint8_t *bytes, size_t len, wj_config *config);
void fx_instantiate(fixture *fx, const wj_extern *imports, size_t n);
/* Both, without imports. */
void fx_open(fixture *fx, const char *wat, wj_config *config);
void fx_close(fixture *fx);
wj_extern fx_export(const fixture *fx, const char *name, wj_extern_kind kind);
wj_func *fx_func(const fixture *fx, const char *name);
/* Calls an export; its results (up to 4) go to `res` (may be NULL). Any
 * wj_error fails the test. */
wj_trap *fx_call(const fixture *fx, const char *name, const wj_val *args, size_t n, wj_val *res);

static inline wj_val v_i32(int32_t v) { return (wj_val){.kind = WJ_I32, .of.i32 = v}; }
static inline wj_val v_i64(int64_t v) { return (wj_val){.kind = WJ_I64, .of.i64 = v}; }

#endif
