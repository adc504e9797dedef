/* wj_module: a decoded, validated and compiled module owned by an engine.
 * Reference-counted: instances keep their module (and its code) alive after
 * wj_module_delete. */
#ifndef WJ_RUNTIME_MODULE_H
#define WJ_RUNTIME_MODULE_H

#include <stdatomic.h>

#include <wasmjail.h>

#include "compiler/compiler.h"
#include "wasm/module.h"

struct wj_module {
    wj_engine *engine;
    wasm_module *wasm;
    uint32_t *type_ids; /* module type index -> the engine's interned id */
    compiled_code code;
    bool compiled; /* false: from wj_module_decode, inspection only */
    atomic_uint refs;
};

/* References are counted on const modules too: the count is not part of
 * what const protects. */
void module_retain(const wj_module *m);
void module_release(const wj_module *m);

#endif
