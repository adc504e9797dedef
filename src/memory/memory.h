/*
 * Linear memories (src/memory), static or dynamic as vm_plan_memory()
 * decides (see compiler/vmctx.h). Both are one PROT_NONE reservation whose
 * accessible prefix grows read-write with mprotect:
 *
 *  - static: reservation + guard bytes, fixed, so the base never moves and
 *    out-of-bounds accesses of compiled code fault in the PROT_NONE part;
 *  - dynamic: a reservation sized by the policy below; growing past it
 *    extends it in place where the addresses after it are free, else moves
 *    the accessible bytes (mremap) into a new one, so the base may move.
 *    Compiled code checks every access against vm.size.
 *
 * How much a dynamic memory reserves. A move walks the page tables of the
 * whole accessible range (milliseconds at tens of TiB, however little of
 * it was touched), so growth must rarely move; but the address space is
 * 128 TiB, and a host may run thousands of memories, so no memory takes
 * more than its maximum, or than twice its size once it grows:
 *  - memory64 reserves its whole maximum when the address space has a
 *    hole that large (the engine limit unless it declares less: 4 GiB by
 *    default, less than a static memory's reservation and guard), and then
 *    never moves. A limit of tens of TiB asks for that much per memory;
 *  - else, and for a 32-bit memory that is dynamic because its maximum
 *    does not fit the configured reservation, it reserves that reservation
 *    (4 GiB by default), bounded by its maximum;
 *  - with dynamic memories configured (hosts packing many instances), or
 *    when even that does not fit, it reserves its initial size.
 * Past its reservation a memory gets one of twice its new size (bounded by
 * its maximum; near the end of the address space, as much as there is), so
 * that growth moves it O(log n) times.
 */
#ifndef WJ_MEMORY_MEMORY_H
#define WJ_MEMORY_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/vmctx.h"
#include "image.h"
#include "slots.h"
#include "wasm/error.h"
#include "wasm/module.h"

typedef struct linear_memory {
    vm_memory vm;       /* first: vmctx and compiled code point here */
    wasm_limits limits; /* as declared */
    uint64_t max_pages; /* effective: declared max, engine limit, index type */
    bool dynamic;
    size_t mapped;      /* bytes mapped at vm.base: the reservation (+ guard) */
    memory_slots *slots; /* static memories: where the reservation goes back */
    memory_slot *slot;   /* the slot the reservation came from, if any */
    memory_image *image; /* mapped over the memory (a reference), if any */
} linear_memory;

/* A memory of `limits->min` pages that never grows past `limit_bytes`
 * (the engine's max_memory_size): zeros, or `image` (may be NULL) where it
 * lies, which must be inside those pages and only given for a static
 * memory. A static memory takes its reservation from `slots` (may be NULL)
 * when one is free and gives it back there. NULL on failure with *err
 * filled: over the limit, out of memory or of pooled slots (resource),
 * shared memory (unsupported). Under pooling every memory is in a slot,
 * which bounds its size, dynamic ones included. */
linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes,
                          const vm_memory_config *config, memory_slots *slots,
                          memory_image *image, wasm_error *err);
/* Replaces the image with zeros (an instantiation that traps before its
 * data segments apply); false when the system refuses. */
bool memory_drop_image(linear_memory *mem);
/* Grows by `delta` pages; false, and the size stays, past the maximum or
 * when the system refuses the pages. A dynamic memory's base may move. */
bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages);
void memory_free(linear_memory *mem);

#endif
