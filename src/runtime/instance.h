/* wj_instance: a module instantiated in a store, around its vmctx. */
#ifndef WJ_RUNTIME_INSTANCE_H
#define WJ_RUNTIME_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/vmctx.h"
#include "memory/image.h"
#include "memory/table.h"

struct wj_instance {
    wj_store *store;
    const wj_module *module; /* holds a reference */
    void *vmctx;
    /* The defined functions' wj_func, each written when its reference is
     * first asked for (instance_func) and uninitialised until then. */
    wj_func *funcs;
    wj_memory **memories;     /* every memory index, imports first */
    wj_table **tables;
    wj_global **globals;
    wj_global *defined_globals; /* cells in the vmctx, v128 ones their own */
    bool *elem_dropped;
    bool *data_dropped;
};

/* The instance a vmctx belongs to. */
static inline wj_instance *instance_of(void *vmctx)
{
    return ((void **)vmctx)[VMCTX_INSTANCE / 8];
}

/* The instance's decoded module (module.c: wj_module is opaque here). */
const wasm_module *instance_wasm(const wj_instance *inst);

/* A vmctx field at byte offset `at`. */
static inline void *vmctx_at(void *vmctx, uint32_t at)
{
    return (char *)vmctx + at;
}

/* Table i of the instance of vmctx (vm_table is ref_table's first member). */
static inline ref_table *vmctx_table_at(void *vmctx, uint32_t i)
{
    return *(ref_table **)vmctx_at(vmctx, vmctx_table(instance_wasm(instance_of(vmctx)), i));
}

/* The value of a scalar constant expression, as a unit (see value.h). */
uint64_t instance_const(wj_instance *inst, const wasm_const *c);

/* ---- funcref.c: references made on first use ---- */
/* Function `func`'s reference (imports first). */
vm_funcref *instance_func(wj_instance *inst, uint32_t func);
/* Element i (< size) of t, untagged; a funcref element not initialised
 * yet takes its lazy value first. */
void *table_ref(ref_table *t, uint32_t i);
/* Initialises the elements of [start, start + n), all in bounds. */
void table_materialize(ref_table *t, uint32_t start, uint32_t n);

/* ---- elems.c: element segments ---- */
/* Points the instance's tables that the module fills lazily at their
 * values. */
void elems_attach(wj_instance *inst);
/* Active element segments in order, as table.init then elem.drop, and
 * declarative ones dropped; those the module fills lazily cost nothing.
 * WJ_TRAP_TABLE_OUT_OF_BOUNDS leaves exactly the writes of the segments
 * before the one that trapped. */
wj_trap_code elems_init(wj_instance *inst);
/* table.init: n items of segment `seg` from `src` into t at `dst`;
 * false, writing nothing, when a range is out of bounds. */
bool elems_copy(wj_instance *inst, ref_table *t, uint32_t seg, uint32_t dst, uint32_t src,
                uint32_t n);

/* ---- datas.c: data segments ---- */
/* The image the module maps into its memory `memory`, or NULL. */
memory_image *datas_image(const wj_instance *inst, uint32_t memory);
/* Active data segments in order, as memory.init then data.drop; those in
 * the module's images cost nothing. WJ_TRAP_MEMORY_OUT_OF_BOUNDS leaves
 * exactly the writes of the segments before the one that trapped. */
wj_trap_code datas_init(wj_instance *inst);
/* The instance traps before data segment `stop`: its memories' images
 * give way to the writes of the segments before it. */
void datas_unfold(wj_instance *inst, uint32_t stop);

#endif
