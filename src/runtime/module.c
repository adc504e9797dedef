#include <stdlib.h>

#include "registry/registry.h"

#include "engine.h"
#include "error.h"
#include "module.h"
#include "tierup.h"

/* Module offsets are 32-bit throughout src/wasm. */
#define MAX_MODULE_SIZE ((size_t)UINT32_MAX)

static wj_error *decode_and_validate(wj_engine *engine, const uint8_t *bytes, size_t len,
                                     wasm_module **out)
{
    if (len > MAX_MODULE_SIZE)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                            "module too large: %zu bytes (at most 4 GiB)", len);
    wasm_error err = {0};
    wasm_module *m = wasm_decode(bytes, len, engine->config.features, &err);
    if (!m)
        return rt_error_from_wasm(&err);
    if (!wasm_validate_threads(m, engine->config.compile_threads, &err)) {
        wasm_module_free(m);
        return rt_error_from_wasm(&err);
    }
    *out = m;
    return NULL;
}

/* Interns every type of the module; on failure releases what it took. */
static bool intern_types(wj_module *module)
{
    const wasm_module *m = module->wasm;
    module->type_ids = calloc(m->ntypes ? m->ntypes : 1, sizeof *module->type_ids);
    if (!module->type_ids)
        return false;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        uint32_t id = type_registry_intern(module->engine->types, &m->types[i]);
        if (id == UINT32_MAX) {
            while (i--)
                type_registry_release(module->engine->types, module->type_ids[i]);
            free(module->type_ids);
            module->type_ids = NULL;
            return false;
        }
        module->type_ids[i] = id;
    }
    return true;
}

static void release_types(wj_module *module)
{
    for (uint32_t i = 0; i < module->wasm->ntypes; i++)
        type_registry_release(module->engine->types, module->type_ids[i]);
    free(module->type_ids);
}

/* Everything a module holds; what was not made yet is NULL or zero. */
static void module_destroy(wj_module *module)
{
    module_tier_free(module->tier);
    free(module->func_slots);
    elems_plan_free(module);
    datas_plan_free(module);
    compiled_code_free(&module->code);
    release_types(module);
    wasm_module_free(module->wasm);
    free(module);
}

/* The code, and what instances take from the module without per-function
 * or per-segment work (funcref.c, elems.c, datas.c). */
static wj_error *compile_and_plan(wj_module *module)
{
    const wj_engine *engine = module->engine;
    if (!funcs_plan(module))
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    module->env = (compile_env){.type_ids = module->type_ids,
                       .func_slots = module->func_slots,
                       .nfunc_slots = module->nfunc_slots,
                       .memory = engine->config.memory,
                       .max_memory_size = engine->config.max_memory_size,
                       .epoch_checks = engine->config.epoch_interruption,
                       .fuel_checks = engine->config.consume_fuel,
                       .threads = engine->config.compile_threads,
                       .optimize = engine->config.strategy == WJ_STRATEGY_OPTIMIZED,
                       .tiered = engine->config.strategy == WJ_STRATEGY_TIERED};
    wasm_error werr = {0};
    if (!compile_module(module->wasm, &module->env, &module->code, &werr))
        return rt_error_from_wasm(&werr);
    if (module->env.tiered && !(module->tier = module_tier_new(module, &module->env)))
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    if (!elems_plan(module) || !datas_plan(module))
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    return NULL;
}

static wj_error *module_create(wj_engine *engine, const uint8_t *bytes, size_t len, bool compile,
                               wj_module **out)
{
    *out = NULL;
    wasm_module *m;
    wj_error *err = decode_and_validate(engine, bytes, len, &m);
    if (err)
        return err;
    wj_module *module = calloc(1, sizeof *module);
    if (!module) {
        wasm_module_free(m);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    module->engine = engine;
    module->wasm = m;
    atomic_init(&module->refs, 1);
    if (!intern_types(module)) {
        wasm_module_free(m);
        free(module);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    if (compile && (err = compile_and_plan(module))) {
        module_destroy(module);
        return err;
    }
    module->compiled = compile;
    *out = module;
    return NULL;
}

wj_error *wj_module_new(wj_engine *engine, const uint8_t *bytes, size_t len, wj_module **out)
{
    return module_create(engine, bytes, len, true, out);
}

wj_error *wj_module_decode(wj_engine *engine, const uint8_t *bytes, size_t len, wj_module **out)
{
    return module_create(engine, bytes, len, false, out);
}

wj_error *wj_module_validate(wj_engine *engine, const uint8_t *bytes, size_t len)
{
    wasm_module *m;
    wj_error *err = decode_and_validate(engine, bytes, len, &m);
    if (!err)
        wasm_module_free(m);
    return err;
}

void module_retain(const wj_module *m)
{
    atomic_fetch_add_explicit(&((wj_module *)m)->refs, 1, memory_order_relaxed);
}

void module_release(const wj_module *m)
{
    wj_module *module = (wj_module *)m;
    /* acq_rel: the last release must see every other holder's writes. */
    if (atomic_fetch_sub_explicit(&module->refs, 1, memory_order_acq_rel) != 1)
        return;
    module_destroy(module);
}

void wj_module_delete(wj_module *module)
{
    if (module)
        module_release(module);
}

size_t wj_module_import_count(const wj_module *m)
{
    return m->wasm->nimports;
}

bool wj_module_import(const wj_module *m, size_t i, wj_import_info *out)
{
    if (i >= m->wasm->nimports)
        return false;
    const wasm_import *imp = &m->wasm->imports[i];
    *out = (wj_import_info){
        .module = imp->module.data,
        .module_len = imp->module.len,
        .name = imp->name.data,
        .name_len = imp->name.len,
        .kind = (wj_extern_kind)imp->kind,
        .index = imp->index,
    };
    return true;
}

size_t wj_module_export_count(const wj_module *m)
{
    return m->wasm->nexports;
}

bool wj_module_export(const wj_module *m, size_t i, wj_export_info *out)
{
    if (i >= m->wasm->nexports)
        return false;
    const wasm_export *exp = &m->wasm->exports[i];
    *out = (wj_export_info){
        .name = exp->name.data,
        .name_len = exp->name.len,
        .kind = (wj_extern_kind)exp->kind,
        .index = exp->index,
    };
    return true;
}

size_t wj_module_section_count(const wj_module *m)
{
    return m->wasm->nsections;
}

bool wj_module_section(const wj_module *m, size_t i, wj_section_info *out)
{
    if (i >= m->wasm->nsections)
        return false;
    const wasm_section *s = &m->wasm->sections[i];
    *out = (wj_section_info){
        .id = s->id,
        .name = s->name.data,
        .name_len = s->name.len,
        .offset = s->offset,
        .size = s->size,
    };
    return true;
}

uint32_t wj_module_func_count(const wj_module *m)
{
    return m->wasm->nfuncs;
}

uint32_t wj_module_table_count(const wj_module *m)
{
    return m->wasm->ntables;
}

uint32_t wj_module_memory_count(const wj_module *m)
{
    return m->wasm->nmemories;
}

uint32_t wj_module_global_count(const wj_module *m)
{
    return m->wasm->nglobals;
}

bool wj_module_func_type(const wj_module *m, uint32_t func, wj_functype *out)
{
    if (func >= m->wasm->nfuncs)
        return false;
    const wasm_functype *t = wasm_func_type(m->wasm, func);
    *out = (wj_functype){
        .param_count = t->nparams,
        .result_count = t->nresults,
        .params = t->params,
        .results = t->results,
    };
    return true;
}

static wj_limits public_limits(const wasm_limits *l)
{
    return (wj_limits){
        .min = l->min, .max = l->max, .has_max = l->has_max, .is64 = l->is64, .shared = l->shared};
}

bool wj_module_table_type(const wj_module *m, uint32_t table, wj_tabletype *out)
{
    if (table >= m->wasm->ntables)
        return false;
    const wasm_tabletype *t = &m->wasm->tables[table];
    *out = (wj_tabletype){.elem = (wj_valtype)t->elem, .limits = public_limits(&t->limits)};
    return true;
}

bool wj_module_memory_type(const wj_module *m, uint32_t memory, wj_limits *out)
{
    if (memory >= m->wasm->nmemories)
        return false;
    *out = public_limits(&m->wasm->memories[memory]);
    return true;
}

bool wj_module_global_type(const wj_module *m, uint32_t global, wj_globaltype *out)
{
    if (global >= m->wasm->nglobals)
        return false;
    const wasm_globaltype *g = &m->wasm->globals[global].type;
    *out = (wj_globaltype){.type = (wj_valtype)g->type, .mutable_ = g->mut};
    return true;
}

static const char *name_or_null(const wasm_name *n, size_t *len)
{
    if (len)
        *len = n ? n->len : 0;
    return n ? n->data : NULL;
}

const char *wj_module_name(const wj_module *m, size_t *len)
{
    return name_or_null(m->wasm->has_module_name ? &m->wasm->module_name : NULL, len);
}

const char *wj_module_func_name(const wj_module *m, uint32_t func, size_t *len)
{
    return name_or_null(wasm_func_name_of(m->wasm, func), len);
}

const char *wj_module_local_name(const wj_module *m, uint32_t func, uint32_t local, size_t *len)
{
    return name_or_null(wasm_local_name_of(m->wasm, func, local), len);
}

bool wj_module_start(const wj_module *m, uint32_t *func)
{
    if (m->wasm->has_start && func)
        *func = m->wasm->start;
    return m->wasm->has_start;
}
