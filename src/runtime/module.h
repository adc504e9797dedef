/* wj_module: a decoded and validated module owned by an engine. */
#ifndef WJ_RUNTIME_MODULE_H
#define WJ_RUNTIME_MODULE_H

#include <wasmjail.h>

#include "wasm/module.h"

struct wj_module {
    wj_engine *engine;
    wasm_module *wasm;
};

#endif
