/* The engine and its configuration (src/runtime). */
#ifndef WJ_RUNTIME_ENGINE_H
#define WJ_RUNTIME_ENGINE_H

#include <wasmjail.h>

struct wj_config {
    unsigned features; /* wj_feature bits */
};

struct wj_engine {
    struct wj_config config;
};

#endif
