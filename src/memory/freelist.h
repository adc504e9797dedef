/*
 * A lock-free stack of indices into an array of slots (src/memory): the
 * pools' free lists. A Treiber stack whose head carries a tag, so that a
 * head popped and pushed back meanwhile fails the compare (ABA). Each
 * index is in at most one list at a time, which is why lists can share
 * one `next` array.
 */
#ifndef WJ_MEMORY_FREELIST_H
#define WJ_MEMORY_FREELIST_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct freelist {
    _Atomic uint64_t head;  /* (tag << 32) | index + 1 of the top; 0 when empty */
    _Atomic uint32_t *next; /* per index: the one below it, + 1 */
} freelist;

/* The top index + 1, popped; 0 when empty. */
static inline uint32_t freelist_pop(freelist *l)
{
    uint64_t h = atomic_load_explicit(&l->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)h;
        if (!top)
            return 0;
        uint32_t next = atomic_load_explicit(&l->next[top - 1], memory_order_relaxed);
        uint64_t n = (((h >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&l->head, &h, n, memory_order_acq_rel,
                                                  memory_order_acquire))
            return top;
    }
}

static inline void freelist_push(freelist *l, uint32_t index)
{
    uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    uint64_t n;
    do {
        atomic_store_explicit(&l->next[index], (uint32_t)h, memory_order_relaxed);
        n = (((h >> 32) + 1) << 32) | (index + 1);
    } while (!atomic_compare_exchange_weak_explicit(&l->head, &h, n, memory_order_release,
                                                    memory_order_relaxed));
}

#endif
