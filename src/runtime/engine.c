#include <stdlib.h>

#include "engine.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *wj_version(void)
{
    return STR(WJ_VERSION_MAJOR) "." STR(WJ_VERSION_MINOR) "." STR(WJ_VERSION_PATCH);
}

/* Wasm 2.0 is on; proposals are opt-in. */
static const struct wj_config default_config = {.features = WJ_FEATURE_SIMD};

wj_config *wj_config_new(void)
{
    wj_config *config = malloc(sizeof *config);
    if (config)
        *config = default_config;
    return config;
}

void wj_config_delete(wj_config *config)
{
    free(config);
}

void wj_config_set_feature(wj_config *config, wj_feature feature, bool enabled)
{
    if (enabled)
        config->features |= feature;
    else
        config->features &= ~(unsigned)feature;
}

bool wj_config_get_feature(const wj_config *config, wj_feature feature)
{
    return (config->features & feature) == (unsigned)feature;
}

wj_engine *wj_engine_new(const wj_config *config)
{
    wj_engine *engine = malloc(sizeof *engine);
    if (engine)
        engine->config = config ? *config : default_config;
    return engine;
}

void wj_engine_delete(wj_engine *engine)
{
    free(engine);
}

const char *wj_valtype_name(wj_valtype type)
{
    switch (type) {
    case WJ_I32: return "i32";
    case WJ_I64: return "i64";
    case WJ_F32: return "f32";
    case WJ_F64: return "f64";
    case WJ_V128: return "v128";
    case WJ_FUNCREF: return "funcref";
    case WJ_EXTERNREF: return "externref";
    }
    return "?";
}

const char *wj_extern_kind_name(wj_extern_kind kind)
{
    switch (kind) {
    case WJ_EXTERN_FUNC: return "func";
    case WJ_EXTERN_TABLE: return "table";
    case WJ_EXTERN_MEMORY: return "memory";
    case WJ_EXTERN_GLOBAL: return "global";
    }
    return "?";
}
