#include <stdlib.h>
#include <string.h>

#include "table.h"

/* What a block holds: with the pooling allocator, the configured limit
 * exactly (its page-rounded block may hold more). */
static uint32_t block_elems(const block_pool *pool)
{
    size_t n = pool->bytes / sizeof(void *);
    return n < TABLE_MAX_ELEMS ? (uint32_t)n : TABLE_MAX_ELEMS;
}

ref_table *table_new(const wasm_tabletype *type, void *init, block_pool *pool, bool pooled,
                     wasm_error *err)
{
    const wasm_limits *l = &type->limits;
    if (l->is64) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: table64");
        return NULL;
    }
    uint32_t max = pooled ? block_elems(pool) : TABLE_MAX_ELEMS;
    if (l->has_max && l->max < max)
        max = (uint32_t)l->max;
    if (l->min > max) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "%stable of %llu elements is over the limit of %u elements",
                  pooled ? "pooling allocator: " : "", (unsigned long long)l->min, max);
        return NULL;
    }
    ref_table *t = calloc(1, sizeof *t);
    if (!t) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    if (pool && l->min <= block_elems(pool) && (t->vm.elems = pool_take(pool)))
        t->pool = pool;
    if (pooled && !t->pool) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "pooling allocator: all %u table slots are in use", pool->count);
        free(t);
        return NULL;
    }
    t->elem = type->elem;
    t->limits = *l;
    t->max_elems = max;
    t->dirty_lo = UINT32_MAX;
    t->vm.max = l->has_max && l->max < UINT32_MAX ? (uint32_t)l->max : UINT32_MAX;
    if (!table_grow(t, l->min, init, NULL)) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        table_free(t);
        return NULL;
    }
    return t;
}

/* Gives the elements' block back, zeroed where they were written. */
static void give_block(ref_table *t)
{
    uint32_t lo = t->vm.written ? 0 : t->dirty_lo;
    uint32_t hi = t->vm.written ? t->vm.size : t->dirty_hi;
    if (lo < hi)
        pool_give(t->pool, t->vm.elems, (size_t)lo * sizeof(void *),
                  (size_t)hi * sizeof(void *));
    else
        pool_give(t->pool, t->vm.elems, 0, 0);
    t->pool = NULL;
}

bool table_grow(ref_table *t, uint64_t delta, void *init, uint32_t *old_size)
{
    uint32_t old = t->vm.size;
    if (delta > t->max_elems - old)
        return false;
    if (delta) {
        uint32_t size = old + (uint32_t)delta;
        void **elems = t->vm.elems;
        if (t->pool && size > block_elems(t->pool)) { /* out of its block (default allocator) */
            if (!(elems = malloc((size_t)size * sizeof *elems)))
                return false;
            memcpy(elems, t->vm.elems, (size_t)old * sizeof *elems);
            give_block(t);
        } else if (!t->pool) {
            if (!(elems = realloc(elems, (size_t)size * sizeof *elems)))
                return false;
        }
        /* Null is stored as 0 (in a funcref table, an element not
         * initialised yet, which reads as its lazy value or null), and
         * a block is zero past the size already. */
        if (init) {
            void *stored = table_stored(t, init);
            table_written(t, old, size);
            for (uint32_t i = old; i < size; i++)
                elems[i] = stored;
        } else if (!t->pool) {
            memset(elems + old, 0, (size_t)(size - old) * sizeof *elems);
        }
        t->vm.elems = elems;
        t->vm.size = size;
    }
    if (old_size)
        *old_size = old;
    return true;
}

void table_free(ref_table *t)
{
    if (!t)
        return;
    if (t->pool)
        give_block(t);
    else
        free(t->vm.elems);
    free(t);
}
