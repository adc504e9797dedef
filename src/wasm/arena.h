/* A bump allocator: a module's decoded form lives in one arena and is
 * freed at once. Allocation failure returns NULL; callers report it. */
#ifndef WJ_WASM_ARENA_H
#define WJ_WASM_ARENA_H

#include <stddef.h>

typedef struct wasm_arena_chunk wasm_arena_chunk;

typedef struct wasm_arena {
    wasm_arena_chunk *chunks;
    char *next;
    char *end;
} wasm_arena;

/* Zeroed, 16-byte aligned memory for `n` elements of `size`; NULL on
 * overflow or out of memory. */
void *wasm_arena_alloc(wasm_arena *a, size_t n, size_t size);
/* The same, not zeroed: for what is written whole at once. */
void *wasm_arena_alloc_raw(wasm_arena *a, size_t n, size_t size);
void wasm_arena_free(wasm_arena *a);

#endif
