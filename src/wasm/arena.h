/* A bump allocator: a module's decoded form lives in one arena and is
 * freed at once. Allocation failure returns NULL; callers report it. */
#ifndef WJ_WASM_ARENA_H
#define WJ_WASM_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct wasm_arena_chunk wasm_arena_chunk;

typedef struct wasm_arena {
    wasm_arena_chunk *chunks;
    char *next;
    char *end;
} wasm_arena;

/* Zeroed, 16-byte aligned memory for `n` elements of `size`; NULL on
 * overflow or out of memory. */
void *wasm_arena_alloc(wasm_arena *a, size_t n, size_t size);
/* A new chunk that starts with `bytes` (a multiple of 16) for the caller
 * (wasm_arena_alloc_raw's slow path); NULL when out of memory. */
void *wasm_arena_new_chunk(wasm_arena *a, size_t bytes);

/* wasm_arena_alloc, not zeroed: for what is written whole at once. Inline:
 * the IR makes one per instruction, of a size known where it is called. */
static inline void *wasm_arena_alloc_raw(wasm_arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = (n * size + 15) & ~(size_t)15;
    if (bytes < n * size)
        return NULL;
    if (bytes == 0)
        bytes = 16;
    if ((size_t)(a->end - a->next) < bytes)
        return wasm_arena_new_chunk(a, bytes);
    char *p = a->next;
    a->next += bytes;
    return p;
}
void wasm_arena_free(wasm_arena *a);

#endif
