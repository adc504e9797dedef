#include <stdlib.h>

#include "engine.h"
#include "error.h"
#include "extern.h"
#include "instance.h"
#include "store.h"
#include "value.h"

/* ---- memories ---- */

void memory_object_free(wj_memory *memory)
{
    if (!memory)
        return;
    memory_free(memory->mem);
    free(memory);
}

static void memory_object_free_any(void *obj)
{
    memory_object_free(obj);
}

wj_error *memory_object_new(wj_store *store, const wasm_limits *limits, memory_image *image,
                            wj_memory **out)
{
    *out = NULL;
    wj_memory *m = calloc(1, sizeof *m);
    if (!m)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    wasm_error err = {0};
    const struct wj_config *config = &store->engine->config;
    uint64_t limit = config->max_memory_size;
    if (config->pooling && config->pool.memory_size < limit)
        limit = config->pool.memory_size;
    m->mem = memory_new(limits, limit, &config->memory, store->engine->slots, image, &err);
    if (!m->mem) {
        free(m);
        return rt_error_from_wasm(&err);
    }
    m->store = store;
    *out = m;
    return NULL;
}

wj_error *wj_memory_new(wj_store *store, const wj_limits *limits, wj_memory **out)
{
    *out = NULL;
    if (limits->has_max && limits->min > limits->max)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "size minimum must not be greater than maximum");
    if (!limits->is64 && (limits->min > VM_MEMORY32_MAX_PAGES ||
                          (limits->has_max && limits->max > VM_MEMORY32_MAX_PAGES)))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "memory size must be at most 65536 pages (4GiB)");
    if (limits->is64 && (limits->min > VM_MEMORY64_MAX_PAGES ||
                         (limits->has_max && limits->max > VM_MEMORY64_MAX_PAGES)))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "memory size must be at most 2^48 pages (16EiB)");
    wasm_limits l = {.min = limits->min, .max = limits->max, .has_max = limits->has_max,
                     .is64 = limits->is64, .shared = limits->shared};
    wj_memory *m;
    wj_error *err = memory_object_new(store, &l, NULL, &m);
    if (err)
        return err;
    if (!store_adopt(store, m, memory_object_free_any)) {
        memory_object_free(m);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    *out = m;
    return NULL;
}

wasm_limits memory_object_limits(const wj_memory *memory)
{
    wasm_limits l = memory->mem->limits;
    l.min = memory->mem->vm.pages;
    return l;
}

void wj_memory_type(const wj_memory *memory, wj_limits *out)
{
    wasm_limits l = memory_object_limits(memory);
    *out = (wj_limits){.min = l.min, .max = l.max, .has_max = l.has_max, .is64 = l.is64,
                       .shared = l.shared};
}

uint8_t *wj_memory_data(const wj_memory *memory)
{
    return memory->mem->vm.base;
}

uint64_t wj_memory_data_size(const wj_memory *memory)
{
    return memory->mem->vm.size;
}

uint64_t wj_memory_size(const wj_memory *memory)
{
    return memory->mem->vm.pages;
}

bool wj_memory_grow(wj_memory *memory, uint64_t delta, uint64_t *old_pages)
{
    return memory_grow(memory->mem, delta, old_pages);
}

/* ---- tables ---- */

void table_object_free(wj_table *table)
{
    if (!table)
        return;
    table_free(table->tab);
    free(table);
}

static void table_object_free_any(void *obj)
{
    table_object_free(obj);
}

wj_error *table_object_new(wj_store *store, const wasm_tabletype *type, void *init, bool pooled,
                           wj_table **out)
{
    *out = NULL;
    wj_table *t = calloc(1, sizeof *t);
    if (!t)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    wasm_error err = {0};
    const wj_engine *engine = store->engine;
    t->tab = table_new(type, init, pooled ? &engine->pool->tables : engine->spare_tables, pooled,
                       &err);
    if (!t->tab) {
        free(t);
        return rt_error_from_wasm(&err);
    }
    t->store = store;
    *out = t;
    return NULL;
}

wj_error *wj_table_new(wj_store *store, const wj_tabletype *type, const wj_val *init,
                       wj_table **out)
{
    *out = NULL;
    const wj_limits *l = &type->limits;
    if (type->elem != WJ_FUNCREF && type->elem != WJ_EXTERNREF)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "table elements must be references, not %s",
                            wj_valtype_name(type->elem));
    if (l->has_max && l->min > l->max)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "size minimum must not be greater than maximum");
    if (!l->is64 && (l->min > UINT32_MAX || (l->has_max && l->max > UINT32_MAX)))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET, "table size must be at most 2^32-1");
    if (init && !val_fits(init, type->elem, store))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "table initial value must be a %s of this store",
                            wj_valtype_name(type->elem));
    wasm_tabletype t = {
        .elem = type->elem,
        .limits = {.min = l->min, .max = l->max, .has_max = l->has_max, .is64 = l->is64,
                   .shared = l->shared},
    };
    wj_table *tab;
    wj_error *err = table_object_new(store, &t, init ? val_to_ref(init) : NULL, false, &tab);
    if (err)
        return err;
    if (!store_adopt(store, tab, table_object_free_any)) {
        table_object_free(tab);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    *out = tab;
    return NULL;
}

wasm_limits table_object_limits(const wj_table *table)
{
    wasm_limits l = table->tab->limits;
    l.min = table->tab->vm.size;
    return l;
}

void wj_table_type(const wj_table *table, wj_tabletype *out)
{
    wasm_limits l = table_object_limits(table);
    *out = (wj_tabletype){
        .elem = (wj_valtype)table->tab->elem,
        .limits = {.min = l.min, .max = l.max, .has_max = l.has_max, .is64 = l.is64,
                   .shared = l.shared},
    };
}

uint64_t wj_table_size(const wj_table *table)
{
    return table->tab->vm.size;
}

bool wj_table_get(const wj_table *table, uint64_t index, wj_val *out)
{
    if (index >= table->tab->vm.size)
        return false;
    /* a funcref element may be initialised now: logically unchanged */
    *out = val_from_ref(table->tab->elem, table_ref(table->tab, (uint32_t)index));
    return true;
}

bool wj_table_set(wj_table *table, uint64_t index, const wj_val *value)
{
    if (index >= table->tab->vm.size || !val_fits(value, table->tab->elem, table->store))
        return false;
    table_written(table->tab, (uint32_t)index, (uint32_t)index + 1);
    table->tab->vm.elems[index] = table_stored(table->tab, val_to_ref(value));
    return true;
}

bool wj_table_grow(wj_table *table, uint64_t delta, const wj_val *init, uint64_t *old_size)
{
    if (init && !val_fits(init, table->tab->elem, table->store))
        return false;
    uint32_t old;
    if (!table_grow(table->tab, delta, init ? val_to_ref(init) : NULL, &old))
        return false;
    if (old_size)
        *old_size = old;
    return true;
}

/* ---- globals ---- */

wj_error *wj_global_new(wj_store *store, const wj_globaltype *type, const wj_val *value,
                        wj_global **out)
{
    *out = NULL;
    if (!valtype_known(type->type))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET, "unknown value type 0x%02x",
                            (unsigned)type->type);
    if (!val_fits(value, type->type, store))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "global value must be a %s%s", wj_valtype_name(type->type),
                            type->type == WJ_FUNCREF ? " of this store" : "");
    wj_global *g = calloc(1, sizeof *g);
    if (!g || !store_adopt(store, g, free)) {
        free(g);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    g->cell = g->own;
    val_to_slots(value, g->cell);
    g->type = (wasm_globaltype){.type = (uint8_t)type->type, .mut = type->mutable_};
    g->store = store;
    *out = g;
    return NULL;
}

void wj_global_type(const wj_global *global, wj_globaltype *out)
{
    *out = (wj_globaltype){.type = (wj_valtype)global->type.type, .mutable_ = global->type.mut};
}

void wj_global_get(const wj_global *global, wj_val *out)
{
    *out = val_from_slots(global->type.type, global->cell);
}

wj_error *wj_global_set(wj_global *global, const wj_val *value)
{
    if (!global->type.mut)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET, "global is immutable");
    if (!val_fits(value, global->type.type, global->store))
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "global value must be a %s%s", wj_valtype_name(global->type.type),
                            global->type.type == WJ_FUNCREF ? " of this store" : "");
    val_to_slots(value, global->cell);
    return NULL;
}
