/*
 * The per-store code registry: which compiled module a code address belongs
 * to. The signal handler looks PCs up here, so a lookup takes no lock and
 * allocates nothing.
 *
 * The ranges live in one immutable, sorted table behind an atomic pointer.
 * An insertion builds a new table, publishes it, and only then frees the old
 * one, so a lookup that interrupts it (a signal on the same thread) sees
 * either table whole.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "registry.h"

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "lookups in signal handlers need lock-free pointers");

typedef struct range_table {
    size_t n;
    code_range ranges[]; /* sorted by start, disjoint */
} range_table;

struct code_registry {
    _Atomic(range_table *) table; /* NULL while empty */
};

code_registry *code_registry_new(void)
{
    code_registry *r = malloc(sizeof *r);
    if (r)
        atomic_init(&r->table, NULL);
    return r;
}

void code_registry_free(code_registry *r)
{
    if (!r)
        return;
    free(atomic_load_explicit(&r->table, memory_order_relaxed));
    free(r);
}

bool code_registry_insert(code_registry *r, const compiled_code *code, const void *owner)
{
    range_table *old = atomic_load_explicit(&r->table, memory_order_relaxed);
    size_t n = old ? old->n : 0;
    for (size_t i = 0; i < n; i++)
        if (old->ranges[i].owner == owner)
            return true;
    /* No PC can lie in empty code: nothing to find. */
    if (!code->code || code->code_size == 0)
        return true;

    code_range add = {
        .start = (uintptr_t)code->code,
        .end = (uintptr_t)code->code + code->map_size, /* tier-2 pieces too */
        .code = code,
        .owner = owner,
    };
    range_table *t = malloc(sizeof *t + (n + 1) * sizeof t->ranges[0]);
    if (!t)
        return false;
    size_t at = 0;
    while (at < n && old->ranges[at].start < add.start)
        at++;
    /* Ranges are distinct mappings: they never overlap. */
    assert(at == 0 || old->ranges[at - 1].end <= add.start);
    assert(at == n || add.end <= old->ranges[at].start);
    for (size_t i = 0; i < at; i++)
        t->ranges[i] = old->ranges[i];
    t->ranges[at] = add;
    for (size_t i = at; i < n; i++)
        t->ranges[i + 1] = old->ranges[i];
    t->n = n + 1;

    atomic_store_explicit(&r->table, t, memory_order_release);
    free(old);
    return true;
}

const code_range *code_registry_lookup(const code_registry *r, uintptr_t pc)
{
    const range_table *t =
        atomic_load_explicit(&r->table, memory_order_acquire);
    if (!t)
        return NULL;
    /* The first range starting after pc; the one before it may hold pc. */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->ranges[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const code_range *c = &t->ranges[lo - 1];
    return pc < c->end ? c : NULL;
}
