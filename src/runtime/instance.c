/* Instantiation (allocation, linking, segments, start) and exports. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "extern.h"
#include "func.h"
#include "instance.h"
#include "link.h"
#include "module.h"
#include "store.h"
#include "tierup.h"
#include "trap.h"

/*
 * An instance's own state is one block, from the pooling allocator or
 * malloc: the wj_instance, its arrays and its vmctx, zeroed, then (where
 * compiled code expects them, vmctx.h) the wj_func of the functions that
 * can have a reference, left uninitialised: instance_func writes one
 * before handing it out.
 */
typedef struct layout {
    size_t memories, tables, globals, defined_globals, elem_dropped, data_dropped, vmctx;
    size_t funcs; /* the bytes before are zeroed */
    size_t size;
} layout;

static size_t place(size_t *at, size_t bytes, size_t align)
{
    size_t p = (*at + align - 1) & ~(align - 1);
    *at = p + bytes;
    return p;
}

static layout layout_of(const wj_module *module)
{
    const wasm_module *m = module->wasm;
    layout l;
    size_t at = sizeof(wj_instance);
    l.memories = place(&at, (size_t)m->nmemories * sizeof(wj_memory *), 8);
    l.tables = place(&at, (size_t)m->ntables * sizeof(wj_table *), 8);
    l.globals = place(&at, (size_t)m->nglobals * sizeof(wj_global *), 8);
    l.defined_globals = place(&at, (size_t)(m->nglobals - m->nglobal_imports) * sizeof(wj_global),
                              _Alignof(wj_global));
    l.elem_dropped = place(&at, m->nelems, 1);
    l.data_dropped = place(&at, m->ndatas, 1);
    l.vmctx = place(&at, vmctx_size(m, module->nfunc_slots), 16);
    l.funcs = place(&at, (size_t)module->nfunc_slots * sizeof(wj_func), 16);
    l.size = at;
    return l;
}

static void instance_free(wj_instance *inst)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++)
        memory_object_free(inst->memories[i]);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        table_object_free(inst->tables[i]);
    module_release(inst->module);
    instance_pool *pool = inst->store->engine->pool;
    if (pool)
        pool_give(&pool->states, inst, 0, 0); /* nothing of it outlives the next one's setup */
    else
        free(inst);
}

static void instance_free_any(void *obj)
{
    instance_free(obj);
}

static wj_error *out_of_memory(void)
{
    return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
}

/* What the pooling allocator cannot hold, as an error; NULL when it fits. */
static wj_error *over_pool_limits(const wj_module *module, const wj_pooling_config *p,
                                  size_t size)
{
    const wasm_module *m = module->wasm;
    if (m->nmemories - m->nmemory_imports > p->memories_per_instance)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                            "pooling allocator: the module defines %u memories, over the limit "
                            "of %u per instance",
                            m->nmemories - m->nmemory_imports, p->memories_per_instance);
    if (m->ntables - m->ntable_imports > p->tables_per_instance)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                            "pooling allocator: the module defines %u tables, over the limit of "
                            "%u per instance",
                            m->ntables - m->ntable_imports, p->tables_per_instance);
    if (size > p->instance_size)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                            "pooling allocator: an instance of the module needs %zu bytes of "
                            "state, over the limit of %zu",
                            size, p->instance_size);
    return NULL;
}

static wj_error *allocate(wj_store *store, const wj_module *module, wj_instance **out)
{
    layout l = layout_of(module);
    const wj_engine *engine = store->engine;
    wj_instance *inst;
    if (engine->pool) {
        wj_error *err = over_pool_limits(module, &engine->config.pool, l.size);
        if (err)
            return err;
        inst = pool_take(&engine->pool->states);
        if (!inst)
            return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                                "pooling allocator: all %u instance slots are in use",
                                engine->config.pool.instances);
    } else if (!(inst = aligned_alloc(16, (l.size + 15) & ~(size_t)15))) {
        return out_of_memory();
    }
    memset(inst, 0, l.funcs);
    char *base = (char *)inst;
    inst->store = store;
    inst->module = module;
    module_retain(module);
    inst->vmctx = base + l.vmctx;
    inst->memories = (wj_memory **)(base + l.memories);
    inst->tables = (wj_table **)(base + l.tables);
    inst->globals = (wj_global **)(base + l.globals);
    inst->defined_globals = (wj_global *)(base + l.defined_globals);
    inst->elem_dropped = (bool *)(base + l.elem_dropped);
    inst->data_dropped = (bool *)(base + l.data_dropped);
    inst->funcs = (wj_func *)(base + l.funcs);
    void **header = inst->vmctx;
    header[VMCTX_STORE / 8] = &store->vm;
    header[VMCTX_INSTANCE / 8] = inst;
    header[VMCTX_EPOCH / 8] = &store->engine->epoch;
    header[VMCTX_LAZY / 8] = (void *)wj__lazy_trampoline;
    header[VMCTX_TIER / 8] = module->tier ? module_tier_funcs(module->tier) : NULL;
    *out = inst;
    return NULL;
}

/* Memories and tables: the imported ones, then new ones. */
static wj_error *create_memories_and_tables(wj_instance *inst, const wj_extern *imports)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *imp = &m->imports[i];
        if (imp->kind == WASM_EXTERN_MEMORY)
            inst->memories[imp->index] = imports[i].of.memory;
        else if (imp->kind == WASM_EXTERN_TABLE)
            inst->tables[imp->index] = imports[i].of.table;
    }
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++) {
        wj_error *err = memory_object_new(inst->store, &m->memories[i], datas_image(inst, i),
                                          &inst->memories[i]);
        if (err)
            return err;
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        wj_error *err = table_object_new(inst->store, &m->tables[i], NULL,
                                         inst->store->engine->pool != NULL, &inst->tables[i]);
        if (err)
            return err;
    }
    for (uint32_t i = 0; i < m->nmemories; i++)
        *(vm_memory **)vmctx_at(inst->vmctx, vmctx_memory(m, i)) = &inst->memories[i]->mem->vm;
    for (uint32_t i = 0; i < m->ntables; i++)
        *(vm_table **)vmctx_at(inst->vmctx, vmctx_table(m, i)) = &inst->tables[i]->tab->vm;
    if (m->nmemories)
        ((void **)inst->vmctx)[VMCTX_MEMORY0_BASE / 8] = inst->memories[0]->mem->vm.base;
    return NULL;
}

static void link_funcs(wj_instance *inst, const wj_extern *imports)
{
    const wasm_module *m = inst->module->wasm;
    vm_funcref **funcs = vmctx_at(inst->vmctx, vmctx_func(m, 0));
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == WASM_EXTERN_FUNC)
            funcs[m->imports[i].index] = &imports[i].of.func->ref;
}

uint64_t instance_const(wj_instance *inst, const wasm_const *c)
{
    switch (c->kind) {
    case WASM_CONST_I32: return c->u.i32;
    case WASM_CONST_I64: return c->u.i64;
    case WASM_CONST_F32: return c->u.f32;
    case WASM_CONST_F64: return c->u.f64;
    case WASM_CONST_REF_NULL: return 0;
    case WASM_CONST_REF_FUNC: return (uintptr_t)instance_func(inst, c->u.index);
    case WASM_CONST_GLOBAL_GET: return *inst->globals[c->u.index]->cell;
    }
    return 0; /* v128: only global initialisers have one (global_init) */
}

/* Writes the value of global `i`'s initialiser to its cell: one unit, or
 * two for a v128. */
static void global_init(wj_instance *inst, uint32_t i, uint64_t *cell)
{
    const wasm_const *c = &inst->module->wasm->globals[i].init;
    if (c->kind == WASM_CONST_V128) {
        memcpy(cell, c->u.v128, sizeof c->u.v128);
    } else if (c->kind == WASM_CONST_GLOBAL_GET) {
        const wj_global *src = inst->globals[c->u.index];
        memcpy(cell, src->cell, vm_slot_units(src->type.type) * VM_UNIT);
    } else {
        *cell = instance_const(inst, c);
    }
}

/* Imported globals' slots point at the exporter's cells, and so do v128
 * globals' at their own (vm_global_indirect); other defined globals hold
 * their value. In index order, so initialisers see the globals before. */
static void init_globals(wj_instance *inst, const wj_extern *imports)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *imp = &m->imports[i];
        if (imp->kind != WASM_EXTERN_GLOBAL)
            continue;
        wj_global *g = imports[i].of.global;
        inst->globals[imp->index] = g;
        *(uint64_t **)vmctx_at(inst->vmctx, vmctx_global(m, imp->index)) = g->cell;
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        wj_global *g = &inst->defined_globals[i - m->nglobal_imports];
        void *slot = vmctx_at(inst->vmctx, vmctx_global(m, i));
        *g = (wj_global){.cell = slot, .type = m->globals[i].type, .store = inst->store};
        if (vm_global_indirect(m, i)) {
            g->cell = g->own;
            *(uint64_t **)slot = g->cell;
        }
        inst->globals[i] = g;
        global_init(inst, i, g->cell);
    }
}

/* Active element then data segments, as table.init / memory.init followed
 * by a drop; declarative segments are dropped. A trap leaves the writes
 * already made, and only those. */
static wj_trap *init_segments(wj_instance *inst)
{
    wj_trap_code code = elems_init(inst);
    if (code)
        datas_unfold(inst, 0);
    else
        code = datas_init(inst);
    return code ? trap_new(code) : NULL;
}

wj_error *wj_instance_new(wj_store *store, const wj_module *module, const wj_extern *imports,
                          size_t import_count, wj_instance **out, wj_trap **trap)
{
    *out = NULL;
    if (trap)
        *trap = NULL;
    if (module->engine != store->engine)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "the module and the store belong to different engines");
    if (!module->compiled)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "the module was only decoded (wj_module_decode): it cannot be "
                            "instantiated");
    wj_error *err = link_check(store, module, imports, import_count);
    if (err)
        return err;

    wj_instance *inst = NULL;
    err = allocate(store, module, &inst);
    if (err)
        return err;
    err = create_memories_and_tables(inst, imports);
    if (!err) {
        elems_attach(inst);
        link_funcs(inst, imports);
        init_globals(inst, imports);
    }
    if (!err && !store_adopt(store, inst, instance_free_any))
        err = out_of_memory();
    if (err) {
        instance_free(inst);
        return err;
    }
    /* From here on the store owns the instance even if it traps: its
     * functions may already sit in imported tables. */
    if (!code_registry_insert(store->code, &module->code, module))
        return out_of_memory();

    wj_trap *t = init_segments(inst);
    if (!t && module->wasm->has_start) {
        wj_func *start = (wj_func *)instance_func(inst, module->wasm->start);
        err = wj_func_call(start, NULL, 0, NULL, 0, &t);
        if (err)
            return err;
    }
    if (t) {
        if (trap)
            *trap = t;
        else
            wj_trap_delete(t);
        return NULL;
    }
    *out = inst;
    return NULL;
}

const wasm_module *instance_wasm(const wj_instance *inst)
{
    return inst->module->wasm;
}

const wj_module *wj_instance_module(const wj_instance *instance)
{
    return instance->module;
}

static wj_extern extern_of(const wj_instance *inst, uint8_t kind, uint32_t index)
{
    wj_extern e = {.kind = (wj_extern_kind)kind};
    switch (kind) {
    case WASM_EXTERN_FUNC:
        /* its reference is made now: logically the instance is unchanged */
        e.of.func = (wj_func *)instance_func((wj_instance *)inst, index);
        break;
    case WASM_EXTERN_TABLE: e.of.table = inst->tables[index]; break;
    case WASM_EXTERN_MEMORY: e.of.memory = inst->memories[index]; break;
    case WASM_EXTERN_GLOBAL: e.of.global = inst->globals[index]; break;
    }
    return e;
}

bool wj_instance_export(const wj_instance *instance, const char *name, size_t name_len,
                        wj_extern *out)
{
    const wasm_module *m = instance->module->wasm;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export *exp = &m->exports[i];
        if (exp->name.len == name_len && (!name_len || !memcmp(exp->name.data, name, name_len))) {
            *out = extern_of(instance, exp->kind, exp->index);
            return true;
        }
    }
    return false;
}

bool wj_instance_export_nth(const wj_instance *instance, size_t i, wj_extern *out)
{
    const wasm_module *m = instance->module->wasm;
    if (i >= m->nexports)
        return false;
    *out = extern_of(instance, m->exports[i].kind, m->exports[i].index);
    return true;
}
