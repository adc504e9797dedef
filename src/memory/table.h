/*
 * Tables (src/memory): a growable array of references (vm_funcref* for
 * funcref tables, host pointers for externref ones; NULL is null).
 */
#ifndef WJ_MEMORY_TABLE_H
#define WJ_MEMORY_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "wasm/error.h"
#include "wasm/module.h"

/* No table grows past this many elements, whatever its declared maximum. */
#define TABLE_MAX_ELEMS 10000000u

typedef struct ref_table {
    vm_table vm;       /* first: vmctx and compiled code point here */
    uint8_t elem;      /* WASM_FUNCREF or WASM_EXTERNREF */
    wasm_limits limits; /* as declared */
    uint32_t max_elems; /* effective: declared max and TABLE_MAX_ELEMS */
} ref_table;

/* A table of `type->limits.min` elements, each `init`. NULL on failure
 * with *err filled (over the limit, out of memory, table64). */
ref_table *table_new(const wasm_tabletype *type, void *init, wasm_error *err);
/* Grows by `delta` elements set to `init`; false, and nothing changes,
 * past the maximum or when out of memory. */
bool table_grow(ref_table *t, uint64_t delta, void *init, uint32_t *old_size);
void table_free(ref_table *t);

#endif
