#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slots.h"

static memory_slot *pop(memory_slots *s, freelist *l)
{
    uint32_t top = freelist_pop(l);
    return top ? &s->slot[top - 1] : NULL;
}

static void push(memory_slots *s, freelist *l, memory_slot *slot)
{
    freelist_push(l, (uint32_t)(slot - s->slot));
}

memory_slots *slots_new(uint64_t extent, uint32_t capacity, bool pooled, wasm_error *err)
{
    memory_slots *s = calloc(1, sizeof *s);
    if (s) {
        s->slot = calloc(capacity ? capacity : 1, sizeof *s->slot);
        s->ready.next = s->empty.next = calloc(capacity ? capacity : 1, sizeof *s->ready.next);
    }
    if (!s || !s->slot || !s->ready.next) {
        if (s)
            free(s->slot), free((void *)s->ready.next);
        free(s);
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    s->extent = extent;
    s->capacity = capacity;
    s->pooled = pooled;
    atomic_init(&s->ready.head, 0);
    atomic_init(&s->empty.head, 0);
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
    free((void *)s->ready.next);
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
