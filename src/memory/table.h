/*
 * Tables (src/memory): a growable array of references, stored as
 * compiled code reads them (vmctx.h): externref elements as they are,
 * funcref ones tagged (bit 0 set; null is 1), 0 being a funcref element
 * not initialised yet, which reads as its lazy value (runtime/funcref.c).
 */
#ifndef WJ_MEMORY_TABLE_H
#define WJ_MEMORY_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "pool.h"
#include "wasm/error.h"
#include "wasm/module.h"

/* No table grows past this many elements, whatever its declared maximum. */
#define TABLE_MAX_ELEMS 10000000u

typedef struct ref_table {
    vm_table vm;       /* first: vmctx and compiled code point here */
    uint8_t elem;      /* WASM_FUNCREF or WASM_EXTERNREF */
    wasm_limits limits; /* as declared */
    uint32_t max_elems; /* effective: declared max, TABLE_MAX_ELEMS, pooled block */
    /* Where elements still 0 get their value: for the first lazy_len,
     * function lazy_funcs[i] - 1 of the instance of lazy_vmctx (0: null);
     * null beyond. */
    const uint32_t *lazy_funcs;
    uint32_t lazy_len;
    void *lazy_vmctx;
    /* The elements are a block of `pool` (zero past vm.size), which takes
     * it back zeroed where it was written: [dirty_lo, dirty_hi) by the
     * runtime, all of it once vm.written (compiled table.set). */
    block_pool *pool;
    uint32_t dirty_lo, dirty_hi;
} ref_table;

/* `ref` as an element of t stores it. */
static inline void *table_stored(const ref_table *t, void *ref)
{
    return t->elem == WASM_FUNCREF ? (void *)((uintptr_t)ref | 1) : ref;
}

/* Every write by the runtime to elements [from, to) says so first. */
static inline void table_written(ref_table *t, uint32_t from, uint32_t to)
{
    if (from < t->dirty_lo)
        t->dirty_lo = from;
    if (to > t->dirty_hi)
        t->dirty_hi = to;
}

/* A table of `type->limits.min` elements, each `init` (a reference as the
 * API and compiled code see it: untagged). Its elements are a block of
 * `pool` (may be NULL) when one is free and large enough, else malloc'd;
 * with `pooled` (the pooling allocator) they must be a block, which bounds
 * the table's size. NULL on failure with *err filled (over the limit, out
 * of memory or of pooled blocks, table64). */
ref_table *table_new(const wasm_tabletype *type, void *init, block_pool *pool, bool pooled,
                     wasm_error *err);
/* Grows by `delta` elements set to `init`; false, and nothing changes,
 * past the maximum or when out of memory. */
bool table_grow(ref_table *t, uint64_t delta, void *init, uint32_t *old_size);
void table_free(ref_table *t);

#endif
