/*
 * The engine-wide type registry: interns function types so that equal types
 * share one id and call_indirect compares a single integer.
 *
 * A chained hash table finds a type by its contents; an id-indexed array
 * finds it again on release. Ids of released types go on a free list and
 * are handed out again, so ids stay small and dense.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

typedef struct type_entry {
    struct type_entry *next; /* in its hash bucket */
    uint64_t hash;
    uint64_t refs;
    uint32_t id;
    uint32_t nparams, nresults;
    uint8_t types[]; /* params, then results */
} type_entry;

struct type_registry {
    pthread_mutex_t lock;
    type_entry **buckets; /* nbuckets, a power of two */
    size_t nbuckets;
    size_t count;
    /* by_id[id - 1]; NULL for a free id. free_ids has the same capacity, so
     * pushing a released id never allocates. */
    type_entry **by_id;
    uint32_t *free_ids;
    uint32_t nids, nfree, cap;
};

enum { INITIAL_BUCKETS = 16, INITIAL_IDS = 16 };
/* UINT32_MAX reports failure, so the largest id is one less. */
#define MAX_ID (UINT32_MAX - 1)

/* FNV-1a over the shape and the value types. */
static uint64_t fnv_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t hash_type(const wasm_functype *t)
{
    uint32_t shape[2] = {t->nparams, t->nresults};
    uint64_t h = fnv_bytes(UINT64_C(0xcbf29ce484222325), (const uint8_t *)shape, sizeof shape);
    h = fnv_bytes(h, t->params, t->nparams);
    return fnv_bytes(h, t->results, t->nresults);
}

static bool entry_is(const type_entry *e, uint64_t hash, const wasm_functype *t)
{
    return e->hash == hash && e->nparams == t->nparams && e->nresults == t->nresults &&
           (t->nparams == 0 || memcmp(e->types, t->params, t->nparams) == 0) &&
           (t->nresults == 0 || memcmp(e->types + t->nparams, t->results, t->nresults) == 0);
}

type_registry *type_registry_new(void)
{
    type_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->buckets = calloc(INITIAL_BUCKETS, sizeof *r->buckets);
    r->by_id = malloc(INITIAL_IDS * sizeof *r->by_id);
    r->free_ids = malloc(INITIAL_IDS * sizeof *r->free_ids);
    if (!r->buckets || !r->by_id || !r->free_ids || pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r->buckets);
        free(r->by_id);
        free(r->free_ids);
        free(r);
        return NULL;
    }
    r->nbuckets = INITIAL_BUCKETS;
    r->cap = INITIAL_IDS;
    return r;
}

void type_registry_free(type_registry *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nids; i++)
        free(r->by_id[i]);
    free(r->buckets);
    free(r->by_id);
    free(r->free_ids);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Doubles the bucket array; on failure the old one stays (longer chains). */
static void grow_buckets(type_registry *r)
{
    size_t n = r->nbuckets * 2;
    type_entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        type_entry *e = r->buckets[i];
        while (e) {
            type_entry *next = e->next;
            size_t j = e->hash & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
}

/* Room for one more id; false when out of memory or ids. */
static bool reserve_id(type_registry *r)
{
    if (r->nfree > 0 || r->nids < r->cap)
        return true;
    if (r->cap >= MAX_ID)
        return false;
    uint32_t cap = r->cap > MAX_ID / 2 ? MAX_ID : r->cap * 2;
    type_entry **by_id = realloc(r->by_id, (size_t)cap * sizeof *by_id);
    if (!by_id)
        return false;
    r->by_id = by_id;
    uint32_t *free_ids = realloc(r->free_ids, (size_t)cap * sizeof *free_ids);
    if (!free_ids)
        return false; /* by_id just has spare room; cap is unchanged */
    r->free_ids = free_ids;
    r->cap = cap;
    return true;
}

static uint32_t intern_locked(type_registry *r, const wasm_functype *t)
{
    uint64_t hash = hash_type(t);
    for (type_entry *e = r->buckets[hash & (r->nbuckets - 1)]; e; e = e->next)
        if (entry_is(e, hash, t)) {
            e->refs++;
            return e->id;
        }

    if (!reserve_id(r))
        return UINT32_MAX;
    size_t ntypes = (size_t)t->nparams + t->nresults;
    type_entry *e = malloc(sizeof *e + ntypes);
    if (!e)
        return UINT32_MAX;
    e->hash = hash;
    e->refs = 1;
    e->nparams = t->nparams;
    e->nresults = t->nresults;
    if (t->nparams)
        memcpy(e->types, t->params, t->nparams);
    if (t->nresults)
        memcpy(e->types + t->nparams, t->results, t->nresults);
    e->id = r->nfree > 0 ? r->free_ids[--r->nfree] : ++r->nids;
    r->by_id[e->id - 1] = e;

    if (r->count + 1 > r->nbuckets / 4 * 3)
        grow_buckets(r);
    size_t b = hash & (r->nbuckets - 1);
    e->next = r->buckets[b];
    r->buckets[b] = e;
    r->count++;
    return e->id;
}

uint32_t type_registry_intern(type_registry *r, const wasm_functype *type)
{
    pthread_mutex_lock(&r->lock);
    uint32_t id = intern_locked(r, type);
    pthread_mutex_unlock(&r->lock);
    return id;
}

static void release_locked(type_registry *r, uint32_t id)
{
    /* 0 and UINT32_MAX are what a zeroed slot and a failed intern hold:
     * releasing them is a no-op, which keeps callers' cleanup simple. */
    if (id == 0 || id > r->nids || !r->by_id[id - 1])
        return;
    type_entry *e = r->by_id[id - 1];
    if (--e->refs > 0)
        return;
    type_entry **link = &r->buckets[e->hash & (r->nbuckets - 1)];
    while (*link != e)
        link = &(*link)->next;
    *link = e->next;
    r->count--;
    r->by_id[id - 1] = NULL;
    r->free_ids[r->nfree++] = id;
    free(e);
}

void type_registry_release(type_registry *r, uint32_t id)
{
    pthread_mutex_lock(&r->lock);
    release_locked(r, id);
    pthread_mutex_unlock(&r->lock);
}
