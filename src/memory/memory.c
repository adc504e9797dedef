#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memory.h"

#define PAGE WASM_PAGE_SIZE

/* The user address space mmap hands out on x86-64 without address hints
 * (47 bits, also with 5-level paging): no memory can ever be larger. */
#define ADDRESS_SPACE (UINT64_C(1) << 47)

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* PROT_NONE address space: anywhere, or exactly at `at` if that is free.
 * NORESERVE: only pages made accessible and touched count against the
 * system's commit limit. */
static void *reserve(void *at, uint64_t bytes)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED_NOREPLACE : 0);
    void *p = mmap(at, bytes, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (at && p != at) { /* a kernel before 4.17 took `at` as a hint */
        munmap(p, bytes);
        return NULL;
    }
    return p;
}

/* `want` bytes of address space (at `at`, as reserve() takes it), or when
 * no hole is that large the most there is, in whole wasm pages, down to
 * `need` (at least one page). Each probe of the bisection is one mmap that
 * holds nothing while the next one runs, so it costs microseconds and sees
 * every hole. NULL when not even `need` fits. */
static void *reserve_up_to(void *at, uint64_t need, uint64_t want, uint64_t *got)
{
    void *p = reserve(at, want);
    if (p || want == need || !(p = reserve(at, need))) {
        *got = want;
        return p;
    }
    munmap(p, need);
    uint64_t fits = need / PAGE, fails = want / PAGE; /* in pages */
    while (fails - fits > 1) {
        uint64_t mid = fits + (fails - fits) / 2;
        p = reserve(at, mid * PAGE);
        if (p) {
            munmap(p, mid * PAGE);
            fits = mid;
        } else {
            fails = mid;
        }
    }
    *got = fits * PAGE;
    return reserve(at, *got); /* NULL if another thread took the hole meanwhile */
}

/* The memory's maximum in bytes, as much as the address space could hold. */
static uint64_t max_bytes(const linear_memory *mem)
{
    return min_u64(mem->max_pages, ADDRESS_SPACE / PAGE) * PAGE;
}

/* A dynamic memory's first reservation, for at least `need` bytes: the
 * first of these that the address space holds (see memory.h). */
static void *reserve_initial(const linear_memory *mem, const vm_memory_config *config,
                             uint64_t need, uint64_t *got)
{
    const uint64_t tries[] = {
        mem->limits.is64 && !config->dynamic32 ? max_bytes(mem) : 0,
        config->dynamic32 ? 0 : min_u64(max_bytes(mem), config->reservation),
        need,
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        void *p = tries[i] >= need ? reserve(NULL, tries[i]) : NULL;
        if (p) {
            *got = tries[i];
            return p;
        }
    }
    return NULL;
}

/* Makes a dynamic memory's reservation hold at least `size` bytes: twice
 * that when the maximum and the address space allow, else as much as they
 * do. It extends in place where the addresses after it are free (as where
 * its previous reservation was), else moves the accessible bytes into a
 * new reservation and drops the old one. */
static bool reserve_more(linear_memory *mem, uint64_t size)
{
    uint64_t want = min_u64(max_bytes(mem), 2 * size), got;
    if (reserve_up_to(mem->vm.base + mem->mapped, size - mem->mapped, want - mem->mapped,
                      &got)) {
        mem->mapped += got;
        return true;
    }
    uint8_t *p = reserve_up_to(NULL, size, want, &got);
    if (!p)
        return false;
    /* Only the accessible part moves: it is one mapping, the PROT_NONE
     * rest another, and mremap takes one. MREMAP_FIXED replaces the start
     * of the new reservation. */
    if (mem->vm.size && mremap(mem->vm.base, mem->vm.size, mem->vm.size,
                               MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED) {
        munmap(p, got);
        return false;
    }
    if (mem->mapped > mem->vm.size)
        munmap(mem->vm.base + mem->vm.size, mem->mapped - mem->vm.size);
    mem->vm.base = p;
    mem->mapped = got;
    return true;
}

/* Maps the image over the memory's zero pages, privately: writes stay
 * the instance's. */
static bool map_image(linear_memory *mem, memory_image *image)
{
    if (mmap(mem->vm.base + image->offset, image->len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_FIXED, image->fd, 0) == MAP_FAILED)
        return false;
    image_retain(image);
    mem->image = image;
    return true;
}

/* Anonymous PROT_NONE pages over [at, at + len) of the memory, whatever
 * was mapped there. */
static bool map_none(linear_memory *mem, uint64_t at, uint64_t len)
{
    return mmap(mem->vm.base + at, len, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED;
}

/* A memory of `size` bytes in its slot's reservation, which was reset
 * when it was given back: only the read-write prefix and the image may
 * need to change. */
static bool slot_fit(linear_memory *mem, uint64_t size, memory_image *image)
{
    memory_slot *slot = mem->slot;
    uint64_t rw = slot->accessible; /* read-write from base, the rest PROT_NONE */
    if (rw > size) {
        if (mprotect(mem->vm.base + size, rw - size, PROT_NONE) != 0)
            return false;
        rw = size;
    }
    memory_image *old = slot->image;
    if (old && old != image) {
        if (!map_none(mem, old->offset, old->len))
            return false;
        if (rw > old->offset)
            rw = old->offset;
        slot->image = NULL;
        image_release(old);
    }
    if (rw < size && mprotect(mem->vm.base + rw, size - rw, PROT_READ | PROT_WRITE) != 0)
        return false;
    mem->image = slot->image; /* the reference goes with it */
    slot->image = NULL;
    mem->vm.size = size;
    mem->vm.pages = size / PAGE;
    return true;
}

linear_memory *memory_new(const wasm_limits *limits, uint64_t limit_bytes,
                          const vm_memory_config *config, memory_slots *slots,
                          memory_image *image, wasm_error *err)
{
    if (limits->shared) {
        wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: shared memory");
        return NULL;
    }
    bool pooled = slots && slots->pooled;
    uint64_t max = vm_memory_max_pages(limits, limit_bytes);
    /* Under pooling every memory lives in a slot, which bounds it. */
    if (pooled)
        max = min_u64(max, slots->extent / PAGE);
    if (limits->min > max) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "%smemory of %llu pages is over the limit of %llu pages",
                  pooled ? "pooling allocator: " : "", (unsigned long long)limits->min,
                  (unsigned long long)max);
        return NULL;
    }
    vm_memory_plan plan = vm_plan_memory(limits, limit_bytes, config);
    linear_memory *mem = calloc(1, sizeof *mem);
    if (!mem) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    mem->limits = *limits;
    mem->max_pages = max;
    mem->dynamic = plan.dynamic;
    if (plan.dynamic && !pooled) {
        /* A memory of no pages still gets one (PROT_NONE): a base distinct
         * from NULL that faults. */
        uint64_t need = max_u64(min_u64(limits->min, max_bytes(mem) / PAGE) * PAGE, PAGE);
        uint64_t got = 0;
        mem->vm.base = reserve_initial(mem, config, need, &got);
        mem->mapped = got;
    } else {
        /* Static, or pooled: a pooled dynamic memory (memory64, or one
         * that may outgrow the reservation) keeps its explicit checks in
         * a slot it never leaves. */
        mem->slots = pooled || (slots && slots->extent == plan.extent) ? slots : NULL;
        mem->slot = mem->slots ? slots_take(mem->slots) : NULL;
        if (mem->slot) {
            mem->vm.base = mem->slot->base;
        } else if (mem->slots && mem->slots->pooled) {
            wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                      "pooling allocator: all %u memory slots are in use",
                      mem->slots->capacity);
            free(mem);
            return NULL;
        } else {
            mem->vm.base = reserve(NULL, plan.extent);
        }
        mem->mapped = mem->slot ? mem->slots->extent : plan.extent;
    }
    if (!mem->vm.base) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "cannot reserve address space for a linear memory: %s", strerror(errno));
        free(mem);
        return NULL;
    }
    bool fit = mem->slot ? slot_fit(mem, limits->min * PAGE, image)
                         : memory_grow(mem, limits->min, NULL);
    if (!fit && mem->slot) { /* in a state nobody knows: not for reuse */
        slots_drop(mem->slots, mem->slot);
        mem->slots = NULL, mem->slot = NULL, mem->vm.base = NULL;
    }
    if (!fit || (image && !mem->image && !map_image(mem, image))) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET,
                  "out of memory: cannot map %llu pages of linear memory",
                  (unsigned long long)limits->min);
        memory_free(mem);
        return NULL;
    }
    return mem;
}

bool memory_drop_image(linear_memory *mem)
{
    memory_image *image = mem->image;
    if (!image)
        return true;
    if (mmap(mem->vm.base + image->offset, image->len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
        return false;
    mem->image = NULL;
    image_release(image);
    return true;
}

bool memory_grow(linear_memory *mem, uint64_t delta, uint64_t *old_pages)
{
    uint64_t old = mem->vm.pages;
    if (delta > mem->max_pages - old)
        return false;
    if (delta) {
        if (delta > max_bytes(mem) / PAGE - old) /* more than any address space */
            return false;
        uint64_t size = mem->vm.size + delta * PAGE;
        if (size > mem->mapped && !(mem->dynamic && reserve_more(mem, size)))
            return false;
        if (mprotect(mem->vm.base + mem->vm.size, size - mem->vm.size,
                     PROT_READ | PROT_WRITE) != 0)
            return false;
        mem->vm.size = size;
        mem->vm.pages += delta;
    }
    if (old_pages)
        *old_pages = old;
    return true;
}

/* Gives a static memory's reservation to its slots, reset, if they take it. */
static bool recycle(linear_memory *mem)
{
    memory_slot *slot = mem->slot;
    if (!mem->slots || (!slot && !(slot = slots_record(mem->slots))))
        return false;
    /* A reset that fails would leave this memory's bytes to the next:
     * then the slot keeps no reservation (a pooled one is lost). */
    slot->base = mem->vm.base;
    slot->accessible = mem->vm.size;
    slot->image = mem->image;
    if (mem->vm.size && madvise(mem->vm.base, mem->vm.size, MADV_DONTNEED) != 0)
        slots_drop(mem->slots, slot);
    else
        slots_give(mem->slots, slot);
    return true;
}

void memory_free(linear_memory *mem)
{
    if (!mem)
        return;
    if (mem->vm.base && !recycle(mem)) {
        munmap(mem->vm.base, mem->mapped);
        image_release(mem->image);
    }
    free(mem);
}
