/*
 * Linear memories (src/memory), static or dynamic as vm_plan_memory()
 * decides (see compiler/vmctx.h):
 *
 *  - static: one mapping of reservation + guard bytes, PROT_NONE except the
 *    accessible prefix; growing makes the next pages read-write
 *    (mprotect), so the base never moves and out-of-bounds accesses of
 *    compiled code fault in the PROT_NONE part;
 *  - dynamic: the accessible bytes are the whole mapping, grown with
 *    mremap(MREMAP_MAYMOVE), so the base may move on every grow.
 */
#ifndef WJ_MEMORY_MEMORY_H
#define WJ_MEMORY_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "wasm/error.h"
#include "wasm/module.h"

typedef struct linear_memory {
    vm_memory vm;       /* first: vmctx and compiled code point here */
    wasm_limits limits; /* as declared */
    uint64_t max_pages; /* effective: declared max, engine limit, index type */
    bool dynamic;
    size_t mapped;      /* bytes mapped at vm.base */
} linear_memory;

/* A memory of `limits->min` zeroed pages that never grows past
 * `limit_bytes` (the engine's max_memory_size). NULL on failure with *err
 * filled: over the limit or out of memory (resource), shared memory
 * (unsupported). */
linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes,
                          const vm_memory_config *config, wasm_error *err);
/* Grows by `delta` pages; false, and nothing changes, past the maximum or
 * when the system refuses the pages. A dynamic memory's base may move. */
bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages);
void memory_free(linear_memory *mem);

#endif
