#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct wasm_arena_chunk {
    wasm_arena_chunk *prev;
    max_align_t data[];
};

enum { CHUNK_SIZE = 64 * 1024 };

void *wasm_arena_alloc(wasm_arena *a, size_t n, size_t size)
{
    void *p = wasm_arena_alloc_raw(a, n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *wasm_arena_new_chunk(wasm_arena *a, size_t bytes)
{
    /* Large requests get a chunk of their own so the open chunk keeps its
     * free space. */
    size_t cap = bytes > CHUNK_SIZE / 4 ? bytes : CHUNK_SIZE;
    wasm_arena_chunk *c = malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    char *start = (char *)c->data;
    if (cap == bytes && a->chunks) {
        /* Keep the current chunk open: link the big one behind it. */
        c->prev = a->chunks->prev;
        a->chunks->prev = c;
        return start;
    }
    c->prev = a->chunks;
    a->chunks = c;
    a->next = start + bytes;
    a->end = start + cap;
    return start;
}

void wasm_arena_free(wasm_arena *a)
{
    wasm_arena_chunk *c = a->chunks;
    while (c) {
        wasm_arena_chunk *prev = c->prev;
        free(c);
        c = prev;
    }
    a->chunks = NULL;
    a->next = a->end = NULL;
}
