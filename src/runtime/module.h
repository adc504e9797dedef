/* wj_module: a decoded, validated and compiled module owned by an engine.
 * Reference-counted: instances keep their module (and its code) alive after
 * wj_module_delete. */
#ifndef WJ_RUNTIME_MODULE_H
#define WJ_RUNTIME_MODULE_H

#include <stdatomic.h>

#include <wasmjail.h>

#include "compiler/compiler.h"
#include "memory/image.h"
#include "wasm/module.h"

/* A defined funcref table's values from its active element segments
 * (elems.c): function index + 1, or 0 for null, for the first len
 * elements; funcs is NULL when the table is filled at instantiation. */
typedef struct lazy_table {
    uint32_t *funcs;
    uint32_t len;
} lazy_table;

struct wj_module {
    wj_engine *engine;
    wasm_module *wasm;
    uint32_t *type_ids; /* module type index -> the engine's interned id */
    compiled_code code;
    compile_env env;          /* what the code was compiled with */
    struct module_tier *tier; /* tiered execution (tierup.h), or NULL */
    bool compiled; /* false: from wj_module_decode, inspection only */
    /* Per defined function that can have a reference (in an element
     * segment, exported, in a global's initialiser, the start function):
     * its index among the instance's wj_func; UINT32_MAX for the others,
     * which validation keeps from ever needing one. */
    uint32_t *func_slots;
    uint32_t nfunc_slots;
    lazy_table *lazy_tables; /* per defined table */
    bool *elem_lazy;         /* per element segment: folded into lazy_tables */
    memory_image **images;   /* per defined memory, or NULL (datas.c) */
    bool *data_imaged;       /* per data segment: in images */
    atomic_uint refs;
};

/* References are counted on const modules too: the count is not part of
 * what const protects. */
void module_retain(const wj_module *m);
void module_release(const wj_module *m);

/* funcref.c: the module's func_slots; false when out of memory. */
bool funcs_plan(wj_module *module);
/* elems.c: the module's lazy_tables and elem_lazy; false when out of
 * memory. */
bool elems_plan(wj_module *module);
void elems_plan_free(wj_module *module);
/* datas.c: the module's images and data_imaged. */
bool datas_plan(wj_module *module);
void datas_plan_free(wj_module *module);

#endif
