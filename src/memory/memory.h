/*
 * Linear memories (src/memory). A 32-bit memory is one reservation of
 * VM_MEMORY32_RESERVATION bytes mapped PROT_NONE; its accessible prefix is
 * read-write and growing makes the next pages accessible, so the base never
 * moves and out-of-bounds accesses of compiled code fault in the guard.
 */
#ifndef WJ_MEMORY_MEMORY_H
#define WJ_MEMORY_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "wasm/error.h"
#include "wasm/module.h"

/* The most pages a 32-bit memory can have (4 GiB). */
#define MEMORY32_MAX_PAGES (UINT64_C(1) << 16)

typedef struct linear_memory {
    vm_memory vm;       /* first: vmctx and compiled code point here */
    wasm_limits limits; /* as declared */
    uint64_t max_pages; /* effective: declared max, engine limit, 4 GiB */
    size_t reserved;    /* bytes mapped at vm.base */
} linear_memory;

/* A memory of `limits->min` zeroed pages that never grows past
 * `limit_bytes` (the engine's max_memory_size). NULL on failure with *err
 * filled: over the limit or out of memory (resource), memory64
 * (unsupported). */
linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes, wasm_error *err);
/* Grows by `delta` pages; false, and nothing changes, past the maximum or
 * when the system refuses the pages. */
bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages);
void memory_free(linear_memory *mem);

#endif
