#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

#define HOST_PAGE ((size_t)4096)
/* Up to this many bytes a reset writes zeros; beyond, it gives the pages
 * back to the kernel (madvise), which costs a system call and page faults
 * on the next use but nothing per byte. */
#define RESET_BY_WRITING ((size_t)64 << 10)

bool pool_init(block_pool *p, uint32_t count, size_t bytes, const char *what, wasm_error *err)
{
    size_t block = (bytes + HOST_PAGE - 1) & ~(HOST_PAGE - 1);
    *p = (block_pool){.bytes = bytes, .block = block ? block : HOST_PAGE, .count = count};
    p->free.next = calloc(count ? count : 1, sizeof *p->free.next);
    size_t total = p->block * count;
    if (p->free.next && total) {
        p->base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p->base == MAP_FAILED)
            p->base = NULL;
    }
    if (!p->free.next || (total && !p->base)) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "pooling allocator: cannot reserve %u %s of %zu bytes", count, what, p->block);
        pool_destroy(p);
        return false;
    }
    atomic_init(&p->free.head, 0);
    for (uint32_t i = count; i-- > 0;)
        freelist_push(&p->free, i);
    return true;
}

void pool_destroy(block_pool *p)
{
    if (p->base)
        munmap(p->base, p->block * p->count);
    free((void *)p->free.next);
    *p = (block_pool){0};
}

void *pool_take(block_pool *p)
{
    uint32_t top = freelist_pop(&p->free);
    return top ? p->base + (size_t)(top - 1) * p->block : NULL;
}

void pool_give(block_pool *p, void *block, size_t from, size_t to)
{
    uint8_t *b = block;
    if (to - from > RESET_BY_WRITING) {
        /* whole pages inside the range go back to the kernel */
        size_t first = (from + HOST_PAGE - 1) & ~(HOST_PAGE - 1), last = to & ~(HOST_PAGE - 1);
        if (madvise(b + first, last - first, MADV_DONTNEED) == 0) {
            memset(b + from, 0, first - from);
            from = last;
        }
    }
    memset(b + from, 0, to - from);
    freelist_push(&p->free, (uint32_t)((b - p->base) / p->block));
}
