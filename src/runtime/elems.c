/*
 * Element segments. When a module is created, the active segments it can
 * apply without running anything (constant offsets, items that are
 * ref.func or ref.null) into a funcref table it defines are folded into
 * one array of function indices per table, which each instance's table
 * reads on first use of an element (funcref.c). Instantiation then only
 * points the table at that array. Every other segment is applied when the
 * instance is made, as the spec orders it.
 */
#include <stdlib.h>

#include "extern.h"
#include "instance.h"
#include "module.h"

/* start + n > size without overflow. */
static bool out_of_bounds(uint64_t start, uint64_t n, uint64_t size)
{
    return n > size || start > size - n;
}

/* A defined table's segment whose writes can be known from the module. */
static bool foldable(const wasm_module *m, const wasm_elem *e)
{
    if (e->mode != WASM_SEG_ACTIVE || e->table < m->ntable_imports ||
        m->tables[e->table].elem != WASM_FUNCREF || e->offset.kind != WASM_CONST_I32)
        return false;
    for (uint32_t k = 0; k < e->count; k++)
        if (e->items[k].kind != WASM_CONST_REF_FUNC && e->items[k].kind != WASM_CONST_REF_NULL)
            return false;
    return true;
}

/* A defined table's segment that traps at every instantiation: the ones
 * after it never apply. */
static bool always_traps(const wasm_module *m, const wasm_elem *e)
{
    return e->mode == WASM_SEG_ACTIVE && e->table >= m->ntable_imports &&
           e->offset.kind == WASM_CONST_I32 &&
           out_of_bounds(e->offset.u.i32, e->count, m->tables[e->table].limits.min);
}

bool elems_plan(wj_module *module)
{
    const wasm_module *m = module->wasm;
    uint32_t ndefined = m->ntables - m->ntable_imports;
    module->lazy_tables = calloc(ndefined ? ndefined : 1, sizeof *module->lazy_tables);
    module->elem_lazy = calloc(m->nelems ? m->nelems : 1, sizeof *module->elem_lazy);
    if (!module->lazy_tables || !module->elem_lazy)
        return false;
    uint32_t stop = 0;
    while (stop < m->nelems && !always_traps(m, &m->elems[stop]))
        stop++;
    /* A table is filled lazily when every segment into it folds (an eager
     * write would hide a later lazy one); len is where the writes end. */
    bool *eager = calloc(ndefined ? ndefined : 1, sizeof *eager);
    if (!eager)
        return false;
    for (uint32_t j = 0; j < stop; j++) {
        const wasm_elem *e = &m->elems[j];
        if (e->mode != WASM_SEG_ACTIVE || e->table < m->ntable_imports)
            continue;
        lazy_table *lt = &module->lazy_tables[e->table - m->ntable_imports];
        if (!foldable(m, e))
            eager[e->table - m->ntable_imports] = true;
        else if (e->offset.u.i32 + e->count > lt->len)
            lt->len = e->offset.u.i32 + e->count;
    }
    bool ok = true;
    for (uint32_t t = 0; t < ndefined; t++) {
        lazy_table *lt = &module->lazy_tables[t];
        if (eager[t] || !lt->len || lt->len > TABLE_MAX_ELEMS) { /* the last: too big to make */
            lt->len = 0;
            continue;
        }
        lt->funcs = calloc(lt->len, sizeof *lt->funcs);
        ok = ok && lt->funcs;
    }
    free(eager);
    for (uint32_t j = 0; ok && j < stop; j++) {
        const wasm_elem *e = &m->elems[j];
        if (e->mode != WASM_SEG_ACTIVE || e->table < m->ntable_imports)
            continue;
        lazy_table *lt = &module->lazy_tables[e->table - m->ntable_imports];
        if (!lt->funcs)
            continue;
        for (uint32_t k = 0; k < e->count; k++) {
            const wasm_const *item = &e->items[k];
            lt->funcs[e->offset.u.i32 + k] =
                item->kind == WASM_CONST_REF_FUNC ? item->u.index + 1 : 0;
        }
        module->elem_lazy[j] = true;
    }
    return ok;
}

void elems_plan_free(wj_module *module)
{
    if (module->lazy_tables)
        for (uint32_t t = 0; t < module->wasm->ntables - module->wasm->ntable_imports; t++)
            free(module->lazy_tables[t].funcs);
    free(module->lazy_tables);
    free(module->elem_lazy);
}

static ref_table *table_of(const wj_instance *inst, uint32_t i)
{
    return inst->tables[i]->tab;
}

void elems_attach(wj_instance *inst)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t t = m->ntable_imports; t < m->ntables; t++) {
        const lazy_table *lt = &inst->module->lazy_tables[t - m->ntable_imports];
        ref_table *tab = table_of(inst, t);
        tab->lazy_funcs = lt->funcs;
        tab->lazy_len = lt->len;
        tab->lazy_vmctx = inst->vmctx;
    }
}

/* Items are constant expressions: evaluating them when they are copied is
 * as good as when the instance was made. */
static void write_items(wj_instance *inst, ref_table *t, const wasm_elem *e, uint32_t dst,
                        uint32_t src, uint32_t n)
{
    table_written(t, dst, dst + n);
    for (uint32_t k = 0; k < n; k++)
        t->vm.elems[dst + k] =
            table_stored(t, (void *)(uintptr_t)instance_const(inst, &e->items[src + k]));
}

bool elems_copy(wj_instance *inst, ref_table *t, uint32_t seg, uint32_t dst, uint32_t src,
                uint32_t n)
{
    const wasm_elem *e = &inst->module->wasm->elems[seg];
    uint32_t len = inst->elem_dropped[seg] ? 0 : e->count;
    if (out_of_bounds(src, n, len) || out_of_bounds(dst, n, t->vm.size))
        return false;
    write_items(inst, t, e, dst, src, n);
    return true;
}

/* The instance traps at segment `stop`: its lazily filled tables take the
 * writes of the folded segments before it, and no more. */
static void unfold(wj_instance *inst, uint32_t stop)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t t = m->ntable_imports; t < m->ntables; t++) {
        ref_table *tab = table_of(inst, t);
        tab->lazy_funcs = NULL;
        tab->lazy_len = 0;
    }
    for (uint32_t j = 0; j < stop; j++) {
        const wasm_elem *e = &m->elems[j];
        if (inst->module->elem_lazy[j])
            write_items(inst, table_of(inst, e->table), e, e->offset.u.i32, 0, e->count);
    }
}

wj_trap_code elems_init(wj_instance *inst)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t j = 0; j < m->nelems; j++) {
        const wasm_elem *e = &m->elems[j];
        if (e->mode == WASM_SEG_ACTIVE && !inst->module->elem_lazy[j]) {
            uint32_t dst = (uint32_t)instance_const(inst, &e->offset);
            if (!elems_copy(inst, table_of(inst, e->table), j, dst, 0, e->count)) {
                unfold(inst, j);
                return WJ_TRAP_TABLE_OUT_OF_BOUNDS;
            }
        }
        if (e->mode != WASM_SEG_PASSIVE)
            inst->elem_dropped[j] = true;
    }
    return WJ_TRAP_NONE;
}
