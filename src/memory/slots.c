#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slots.h"

/* A Treiber stack of slot indices; the tag in the high half makes a head
 * that was popped and pushed back meanwhile fail the compare (ABA). */
static memory_slot *pop(memory_slots *s, _Atomic uint64_t *head)
{
    uint64_t h = atomic_load_explicit(head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)h;
        if (!top)
            return NULL;
        uint32_t next = atomic_load_explicit(&s->slot[top - 1].next, memory_order_relaxed);
        uint64_t n = (((h >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(head, &h, n, memory_order_acq_rel,
                                                  memory_order_acquire))
            return &s->slot[top - 1];
    }
}

static void push(memory_slots *s, _Atomic uint64_t *head, memory_slot *slot)
{
    uint32_t index = (uint32_t)(slot - s->slot) + 1;
    uint64_t h = atomic_load_explicit(head, memory_order_relaxed);
    uint64_t n;
    do {
        atomic_store_explicit(&slot->next, (uint32_t)h, memory_order_relaxed);
        n = (((h >> 32) + 1) << 32) | index;
    } while (!atomic_compare_exchange_weak_explicit(head, &h, n, memory_order_release,
                                                    memory_order_relaxed));
}

memory_slots *slots_new(uint64_t extent, uint32_t capacity, bool pooled, wasm_error *err)
{
    memory_slots *s = calloc(1, sizeof *s);
    if (s)
        s->slot = calloc(capacity ? capacity : 1, sizeof *s->slot);
    if (!s || !s->slot) {
        free(s);
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    s->extent = extent;
    s->capacity = capacity;
    s->pooled = pooled;
    atomic_init(&s->ready, 0);
    atomic_init(&s->empty, 0);
    for (uint32_t i = capacity; i-- > 0;) {
        memory_slot *slot = &s->slot[i];
        if (!pooled) {
            push(s, &s->empty, slot);
            continue;
        }
        void *p = mmap(NULL, extent, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        if (p == MAP_FAILED) {
            wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                      "cannot reserve %u memory slots of %llu bytes: only %u fit", capacity,
                      (unsigned long long)extent, capacity - 1 - i);
            slots_free(s);
            return NULL;
        }
        slot->base = p;
        push(s, &s->ready, slot);
    }
    return s;
}

void slots_free(memory_slots *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->capacity; i++) {
        if (s->slot[i].base)
            munmap(s->slot[i].base, s->extent);
        image_release(s->slot[i].image);
    }
    free(s->slot);
    free(s);
}

memory_slot *slots_take(memory_slots *s)
{
    return pop(s, &s->ready);
}

void slots_give(memory_slots *s, memory_slot *slot)
{
    push(s, &s->ready, slot);
}

memory_slot *slots_record(memory_slots *s)
{
    return pop(s, &s->empty);
}

void slots_drop(memory_slots *s, memory_slot *slot)
{
    if (slot->base)
        munmap(slot->base, s->extent);
    image_release(slot->image);
    slot->base = NULL;
    slot->image = NULL;
    slot->accessible = 0;
    push(s, &s->empty, slot);
}
