/*
 * Static memories' reservations kept for the next memory (src/memory).
 * Making a reservation, its first page faults and unmapping it cost several
 * microseconds each, most of a small instantiation; a slot keeps the
 * reservation, its read-write prefix and its memory image mapped, and is
 * reset when its memory is freed (madvise(MADV_DONTNEED): anonymous pages
 * read as zeros again, the image's as the image), so nothing of one memory
 * is ever visible to the next.
 *
 * The default allocator keeps up to `capacity` freed reservations; the
 * pooling allocator reserves `capacity` slots up front and has no others.
 * Slots move between lock-free lists, so taking and giving back one costs
 * a compare-and-swap.
 */
#ifndef WJ_MEMORY_SLOTS_H
#define WJ_MEMORY_SLOTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "freelist.h"
#include "image.h"
#include "wasm/error.h"

typedef struct memory_slot {
    uint8_t *base;        /* NULL: a record holding no reservation */
    uint64_t accessible;  /* bytes read-write from base, all reset */
    memory_image *image;  /* mapped at base + image->offset (a reference) */
} memory_slot;

typedef struct memory_slots {
    uint64_t extent; /* each reservation: reservation + guard bytes */
    uint32_t capacity;
    bool pooled;
    memory_slot *slot;
    freelist ready;  /* slots holding a reservation */
    freelist empty;  /* records holding none */
} memory_slots;

/* Slots of `extent` bytes; pooled ones are all reserved now. NULL with
 * *err filled when that fails. */
memory_slots *slots_new(uint64_t extent, uint32_t capacity, bool pooled, wasm_error *err);
void slots_free(memory_slots *s);
/* A slot holding a reservation, or NULL. */
memory_slot *slots_take(memory_slots *s);
/* Back to the ready ones, reset by the caller. */
void slots_give(memory_slots *s, memory_slot *slot);
/* Unmaps the slot's reservation: it is no longer reused (a pooled slot is
 * lost). */
void slots_drop(memory_slots *s, memory_slot *slot);
/* A record to keep a reservation in, or NULL (default allocator). */
memory_slot *slots_record(memory_slots *s);

#endif
