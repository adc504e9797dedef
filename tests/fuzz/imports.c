#include "imports.h"

#include <stdlib.h>

wj_val fuzz_zero(wj_valtype type)
{
    wj_val v = {.kind = type};
    if (type == WJ_FUNCREF)
        v.of.funcref = NULL;
    else if (type == WJ_EXTERNREF)
        v.of.externref = NULL;
    else
        v.of.i64 = 0;
    return v;
}

static wj_trap *call_import(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller;
    const fuzz_import *import = env;
    wj_trap *trap = import->hook ? import->hook(import, args) : NULL;
    if (trap)
        return trap;
    for (uint32_t i = 0; i < import->type.result_count; i++)
        results[i] = fuzz_zero(import->type.results[i]);
    return NULL;
}

static wj_func *make_func(wj_store *store, const wj_module *module, const wj_import_info *info,
                          fuzz_import_hook hook, void *user)
{
    fuzz_import *import = malloc(sizeof *import);
    if (!import)
        return NULL;
    *import = (fuzz_import){.info = *info, .hook = hook, .user = user};
    wj_func *func = NULL;
    if (wj_module_func_type(module, info->index, &import->type))
        func = wj_func_new(store, &import->type, call_import, import, free);
    if (!func)
        free(import);
    return func;
}

/* Makes imports[i]; false when out of memory or refused (*err). */
static bool make_import(wj_store *store, const wj_module *module, size_t i, wj_extern *out,
                        fuzz_import_hook hook, void *user, wj_error **err)
{
    wj_import_info info;
    if (!wj_module_import(module, i, &info))
        return false;
    out->kind = info.kind;
    switch (info.kind) {
    case WJ_EXTERN_FUNC:
        out->of.func = make_func(store, module, &info, hook, user);
        return out->of.func != NULL;
    case WJ_EXTERN_TABLE: {
        wj_tabletype type;
        if (!wj_module_table_type(module, info.index, &type))
            return false;
        wj_val init = fuzz_zero(type.elem);
        *err = wj_table_new(store, &type, &init, &out->of.table);
        return *err == NULL;
    }
    case WJ_EXTERN_MEMORY: {
        wj_limits limits;
        if (!wj_module_memory_type(module, info.index, &limits))
            return false;
        *err = wj_memory_new(store, &limits, &out->of.memory);
        return *err == NULL;
    }
    case WJ_EXTERN_GLOBAL: {
        wj_globaltype type;
        if (!wj_module_global_type(module, info.index, &type))
            return false;
        wj_val zero = fuzz_zero(type.type);
        *err = wj_global_new(store, &type, &zero, &out->of.global);
        return *err == NULL;
    }
    }
    return false;
}

wj_extern *fuzz_imports_new(wj_store *store, const wj_module *module, fuzz_import_hook hook,
                            void *user, wj_error **err)
{
    *err = NULL;
    size_t n = wj_module_import_count(module);
    wj_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!make_import(store, module, i, &imports[i], hook, user, err)) {
            free(imports);
            return NULL;
        }
    }
    return imports;
}
