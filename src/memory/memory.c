#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memory.h"

static uint64_t effective_max(const wasm_limits *limits, uint64_t limit_bytes)
{
    uint64_t max = MEMORY32_MAX_PAGES;
    if (limits->has_max && limits->max < max)
        max = limits->max;
    if (limit_bytes / WASM_PAGE_SIZE < max)
        max = limit_bytes / WASM_PAGE_SIZE;
    return max;
}

linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes, wasm_error *err)
{
    if (limits->is64) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: memory64");
        return NULL;
    }
    if (limits->shared) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: shared memory");
        return NULL;
    }
    uint64_t max = effective_max(limits, limit_bytes);
    if (limits->min > max) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "memory of %llu pages is over the limit of %llu pages",
                  (unsigned long long)limits->min, (unsigned long long)max);
        return NULL;
    }
    linear_memory *mem = calloc(1, sizeof *mem);
    if (!mem) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    /* NORESERVE: only the accessible prefix should count against the
     * system's commit limit, not the 6 GiB of index space and guard. */
    void *base = mmap(NULL, VM_MEMORY32_RESERVATION, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        free(mem);
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "cannot reserve address space for a linear memory: %s", strerror(errno));
        return NULL;
    }
    mem->vm.base = base;
    mem->reserved = VM_MEMORY32_RESERVATION;
    mem->limits = *limits;
    mem->max_pages = max;
    uint64_t old;
    if (!memory_grow(mem, limits->min, &old)) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "out of memory: cannot map %llu pages of linear memory",
                  (unsigned long long)limits->min);
        memory_free(mem);
        return NULL;
    }
    return mem;
}

bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages)
{
    uint64_t old = mem->vm.pages;
    if (delta > mem->max_pages - old)
        return false;
    if (delta) {
        uint64_t bytes = delta * WASM_PAGE_SIZE;
        if (mprotect(mem->vm.base + mem->vm.size, bytes, PROT_READ | PROT_WRITE) != 0)
            return false;
        mem->vm.size += bytes;
        mem->vm.pages += delta;
    }
    if (old_pages)
        *old_pages = old;
    return true;
}

void memory_free(linear_memory *mem)
{
    if (!mem)
        return;
    if (mem->vm.base)
        munmap(mem->vm.base, mem->reserved);
    free(mem);
}
