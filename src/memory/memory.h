/*
 * Linear memories (src/memory), static or dynamic as vm_plan_memory()
 * decides (see compiler/vmctx.h). Both are one PROT_NONE reservation whose
 * accessible prefix grows read-write with mprotect:
 *
 *  - static: reservation + guard bytes, fixed, so the base never moves and
 *    out-of-bounds accesses of compiled code fault in the PROT_NONE part;
 *  - dynamic: a reservation sized by the policy below; growing past it
 *    moves the accessible bytes (mremap) into a new one, so the base may
 *    move. Compiled code checks every access against vm.size.
 *
 * How much a dynamic memory reserves. Moving costs a page-table walk of the
 * whole accessible range (milliseconds at tens of TiB, however little of it
 * was touched), so growth must rarely move; but address space is finite
 * (128 TiB), and a host may run thousands of memories.
 *  - memory64 reserves its whole maximum up front (the engine limit unless
 *    it declares less; 4 GiB by default, like a static memory's 4 GiB plus
 *    guard), so it grows in place. A limit of tens of TiB asks for that
 *    much, and the first memories get it; when the address space cannot
 *    hold the maximum, the memory takes the largest hole it can find;
 *  - a 32-bit memory that is dynamic because its maximum does not fit the
 *    configured reservation reserves that reservation, no more;
 *  - with dynamic memories configured (hosts packing many instances), a
 *    memory reserves just its initial size.
 * Past its reservation a memory moves into one of twice its new size
 * (capped by its maximum, or the largest hole there is), so growth moves
 * O(log n) times and address space stays within twice the memory's size
 * beyond the up-front reservation.
 */
#ifndef WJ_MEMORY_MEMORY_H
#define WJ_MEMORY_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "wasm/error.h"
#include "wasm/module.h"

/* The user address space mmap hands out on x86-64 without address hints
 * (47 bits, also with 5-level paging): no memory can ever be larger. */
#define MEMORY_ADDRESS_SPACE (UINT64_C(1) << 47)

typedef struct linear_memory {
    vm_memory vm;       /* first: vmctx and compiled code point here */
    wasm_limits limits; /* as declared */
    uint64_t max_pages; /* effective: declared max, engine limit, index type */
    bool dynamic;
    size_t mapped;      /* bytes mapped at vm.base: the reservation (+ guard) */
    uint64_t reserve_floor; /* dynamic: the least a new reservation holds */
} linear_memory;

/* A memory of `limits->min` zeroed pages that never grows past
 * `limit_bytes` (the engine's max_memory_size). NULL on failure with *err
 * filled: over the limit or out of memory (resource), shared memory
 * (unsupported). */
linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes,
                          const vm_memory_config *config, wasm_error *err);
/* Grows by `delta` pages; false, and the size stays, past the maximum or
 * when the system refuses the pages. A dynamic memory's base may move. */
bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages);
void memory_free(linear_memory *mem);

#endif
