/* wj_memory, wj_table, wj_global: the store objects around src/memory's
 * memories and tables and around global cells. */
#ifndef WJ_RUNTIME_EXTERN_H
#define WJ_RUNTIME_EXTERN_H

#include <wasmjail.h>

#include "memory/memory.h"
#include "memory/table.h"
#include "wasm/module.h"

struct wj_memory {
    linear_memory *mem;
    wj_store *store;
};

struct wj_table {
    ref_table *tab;
    wj_store *store;
};

struct wj_global {
    /* The value's units (value.h): an instance's vmctx slot, or `own` for a
     * global of the API or an instance's v128 global (whose vmctx slot
     * points here: vm_global_indirect). */
    uint64_t *cell;
    uint64_t own[2];
    wasm_globaltype type;
    wj_store *store;
};

/* Objects of a validated type for an instance to define: the instance owns
 * them (not the store) and frees them with memory/table_object_free. */
wj_error *memory_object_new(wj_store *store, const wasm_limits *limits, memory_image *image,
                            wj_memory **out);
void memory_object_free(wj_memory *memory);
/* pooled: from the engine's pooling allocator. */
wj_error *table_object_new(wj_store *store, const wasm_tabletype *type, void *init, bool pooled,
                           wj_table **out);
void table_object_free(wj_table *table);

/* The current type: the minimum is the current size. */
wasm_limits memory_object_limits(const wj_memory *memory);
wasm_limits table_object_limits(const wj_table *table);

#endif
