#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memory.h"

/* A dynamic memory of zero bytes still needs a base distinct from NULL that
 * faults on access: one PROT_NONE page, replaced on the first grow. */
#define EMPTY_MAPPING 4096

static void *map(size_t bytes, int prot)
{
    /* NORESERVE: only pages actually touched should count against the
     * system's commit limit, not a reservation's address space. */
    void *p = mmap(NULL, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes,
                          const vm_memory_config *config, wasm_error *err)
{
    if (limits->shared) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: shared memory");
        return NULL;
    }
    uint64_t max = vm_memory_max_pages(limits, limit_bytes);
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
    mem->limits = *limits;
    mem->max_pages = max;
    vm_memory_plan plan = vm_plan_memory(limits, limit_bytes, config);
    mem->dynamic = plan.dynamic;
    mem->mapped = plan.dynamic ? EMPTY_MAPPING : plan.extent;
    mem->vm.base = map(mem->mapped, PROT_NONE);
    if (!mem->vm.base) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "cannot reserve address space for a linear memory: %s", strerror(errno));
        free(mem);
        return NULL;
    }
    if (!memory_grow(mem, limits->min, NULL)) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "out of memory: cannot map %llu pages of linear memory",
                  (unsigned long long)limits->min);
        memory_free(mem);
        return NULL;
    }
    return mem;
}

/* Makes the mapping exactly `bytes` long, moving it if need be. */
static bool resize_dynamic(linear_memory *mem, size_t bytes)
{
    if (mem->vm.size == 0) { /* the placeholder page: nothing to keep */
        void *p = map(bytes, PROT_READ | PROT_WRITE);
        if (!p)
            return false;
        munmap(mem->vm.base, mem->mapped);
        mem->vm.base = p;
    } else {
        void *p = mremap(mem->vm.base, mem->mapped, bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return false;
        mem->vm.base = p;
    }
    mem->mapped = bytes;
    return true;
}

bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages)
{
    uint64_t old = mem->vm.pages;
    if (delta > mem->max_pages - old)
        return false;
    if (delta) {
        uint64_t bytes = delta * WASM_PAGE_SIZE;
        if (bytes > SIZE_MAX - mem->vm.size)
            return false;
        bool ok = mem->dynamic ? resize_dynamic(mem, mem->vm.size + bytes)
                               : mprotect(mem->vm.base + mem->vm.size, bytes,
                                          PROT_READ | PROT_WRITE) == 0;
        if (!ok)
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
        munmap(mem->vm.base, mem->mapped);
    free(mem);
}
