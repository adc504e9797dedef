#include <stdlib.h>

#include "table.h"

ref_table *table_new(const wasm_tabletype *type, void *init, block_pool *pool,
                     uint32_t pool_elems, wasm_error *err)
{
    const wasm_limits *l = &type->limits;
    if (l->is64) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: table64");
        return NULL;
    }
    uint32_t limit = pool && pool_elems < TABLE_MAX_ELEMS ? pool_elems : TABLE_MAX_ELEMS;
    uint32_t max = limit;
    if (l->has_max && l->max < max)
        max = (uint32_t)l->max;
    if (l->min > max) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "%stable of %llu elements is over the limit of %u elements",
                  pool ? "pooling allocator: " : "", (unsigned long long)l->min, max);
        return NULL;
    }
    ref_table *t = calloc(1, sizeof *t);
    if (!t) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    if (pool && !(t->vm.elems = pool_take(pool))) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "pooling allocator: all %u table slots are in use", pool->count);
        free(t);
        return NULL;
    }
    t->pool = pool;
    t->elem = type->elem;
    t->limits = *l;
    t->max_elems = max;
    t->vm.max = l->has_max && l->max < UINT32_MAX ? (uint32_t)l->max : UINT32_MAX;
    if (!table_grow(t, l->min, init, NULL)) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        table_free(t);
        return NULL;
    }
    return t;
}

bool table_grow(ref_table *t, uint64_t delta, void *init, uint32_t *old_size)
{
    uint32_t old = t->vm.size;
    if (delta > t->max_elems - old)
        return false;
    if (delta) {
        uint32_t size = old + (uint32_t)delta;
        void **elems;
        if (t->pool) { /* room for max_elems, zeros past the size */
            elems = t->vm.elems;
            if (init)
                for (uint32_t i = old; i < size; i++)
                    elems[i] = table_stored(t, init);
        } else if (!old && !init && t->elem == WASM_FUNCREF) {
            /* null funcrefs may stay 0 (not initialised, null beyond
             * the lazy values): calloc, which large tables get from
             * fresh zero pages without writing them */
            elems = calloc(size, sizeof *elems);
            if (!elems)
                return false;
            free(t->vm.elems);
        } else {
            elems = realloc(t->vm.elems, (size_t)size * sizeof *elems);
            if (!elems)
                return false;
            void *stored = table_stored(t, init);
            for (uint32_t i = old; i < size; i++)
                elems[i] = stored;
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
        pool_give(t->pool, t->vm.elems, (size_t)t->vm.size * sizeof *t->vm.elems);
    else
        free(t->vm.elems);
    free(t);
}
