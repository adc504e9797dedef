/*
 * Fixed-size blocks in one reservation (src/memory): the pooling
 * allocator's instance states and table elements, reserved once when the
 * engine is made. Taking and giving back a block is a compare-and-swap on
 * a lock-free list. A block comes out zeroed: what its previous user wrote
 * is cleared when it is given back.
 */
#ifndef WJ_MEMORY_POOL_H
#define WJ_MEMORY_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "freelist.h"
#include "wasm/error.h"

typedef struct block_pool {
    uint8_t *base;
    size_t bytes; /* what a block holds for its user, as asked */
    size_t block; /* bytes per block: `bytes` in whole host pages */
    uint32_t count;
    freelist free;
} block_pool;

/* `count` blocks of at least `bytes` each; false with *err filled when
 * the system refuses. `what` names them in that error. */
bool pool_init(block_pool *p, uint32_t count, size_t bytes, const char *what, wasm_error *err);
void pool_destroy(block_pool *p);
/* A zeroed block, or NULL when all are in use. */
void *pool_take(block_pool *p);
/* Back to the pool; bytes [from, to) of it are zeroed again (the rest
 * must be zero). */
void pool_give(block_pool *p, void *block, size_t from, size_t to);

#endif
