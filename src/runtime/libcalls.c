/*
 * Libcalls: the bulk memory and table instructions and memory.grow, called
 * by compiled code with the System V ABI (see compiler/vmctx.h). Every
 * range is checked whole, in 64-bit arithmetic, before anything is written,
 * as the spec requires; n == 0 at exactly the end is in bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"
#include "memory/table.h"

#include "instance.h"
#include "module.h"

static linear_memory *memory_at(void *vmctx, uint32_t i)
{
    const wasm_module *m = instance_of(vmctx)->module->wasm;
    return *(linear_memory **)vmctx_at(vmctx, vmctx_memory(m, i));
}

/* start + n > size without overflow (memory64 operands can be near 2^64). */
static bool out_of_bounds(uint64_t start, uint64_t n, uint64_t size)
{
    return n > size || start > size - n;
}

uint64_t wj__memory_grow(void *vmctx, uint32_t memory_index, uint64_t delta)
{
    linear_memory *mem = memory_at(vmctx, memory_index);
    uint64_t old;
    if (!memory_grow(mem, delta, &old))
        return mem->limits.is64 ? UINT64_MAX : UINT32_MAX;
    /* Static memories never move, but keep the cached base exact anyway. */
    if (memory_index == 0)
        ((void **)vmctx)[VMCTX_MEMORY0_BASE / 8] = mem->vm.base;
    return old;
}

uint32_t wj__memory_fill(void *vmctx, uint32_t memory_index, uint64_t dst, uint32_t value,
                         uint64_t n)
{
    linear_memory *mem = memory_at(vmctx, memory_index);
    if (out_of_bounds(dst, n, mem->vm.size))
        return 1;
    memset(mem->vm.base + dst, (int)(uint8_t)value, n);
    return 0;
}

uint32_t wj__memory_copy(void *vmctx, uint32_t dst_memory, uint32_t src_memory, uint64_t dst,
                         uint64_t src, uint64_t n)
{
    linear_memory *d = memory_at(vmctx, dst_memory), *s = memory_at(vmctx, src_memory);
    if (out_of_bounds(dst, n, d->vm.size) || out_of_bounds(src, n, s->vm.size))
        return 1;
    memmove(d->vm.base + dst, s->vm.base + src, n); /* the ranges may overlap */
    return 0;
}

uint32_t wj__memory_init(void *vmctx, uint32_t memory_index, uint32_t segment, uint64_t dst,
                         uint32_t src, uint32_t n)
{
    wj_instance *inst = instance_of(vmctx);
    const wasm_module *m = inst->module->wasm;
    const wasm_data *seg = &m->datas[segment];
    uint64_t seg_size = inst->data_dropped[segment] ? 0 : seg->size;
    linear_memory *mem = memory_at(vmctx, memory_index);
    if (out_of_bounds(src, n, seg_size) || out_of_bounds(dst, n, mem->vm.size))
        return 1;
    if (n)
        memcpy(mem->vm.base + dst, m->bytes + seg->bytes + src, n);
    return 0;
}

void wj__data_drop(void *vmctx, uint32_t segment)
{
    instance_of(vmctx)->data_dropped[segment] = true;
}

uint32_t wj__table_grow(void *vmctx, uint32_t table_index, void *init, uint32_t delta)
{
    uint32_t old;
    if (!table_grow(vmctx_table_at(vmctx, table_index), delta, init, &old))
        return UINT32_MAX;
    return old;
}

uint32_t wj__table_fill(void *vmctx, uint32_t table_index, uint32_t dst, void *value,
                        uint32_t n)
{
    ref_table *t = vmctx_table_at(vmctx, table_index);
    if (out_of_bounds(dst, n, t->vm.size))
        return 1;
    void *stored = table_stored(t, value);
    table_written(t, dst, dst + n);
    for (uint32_t i = 0; i < n; i++)
        t->vm.elems[dst + i] = stored;
    return 0;
}

uint32_t wj__table_copy(void *vmctx, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                        uint32_t src, uint32_t n)
{
    ref_table *d = vmctx_table_at(vmctx, dst_table), *s = vmctx_table_at(vmctx, src_table);
    if (out_of_bounds(dst, n, d->vm.size) || out_of_bounds(src, n, s->vm.size))
        return 1;
    if (n) {
        /* an element not initialised yet reads as its own table's value */
        table_materialize(s, src, n);
        table_written(d, dst, dst + n);
        memmove(d->vm.elems + dst, s->vm.elems + src, (size_t)n * sizeof *d->vm.elems);
    }
    return 0;
}

uint32_t wj__table_init(void *vmctx, uint32_t table_index, uint32_t segment, uint32_t dst,
                        uint32_t src, uint32_t n)
{
    return !elems_copy(instance_of(vmctx), vmctx_table_at(vmctx, table_index), segment, dst, src,
                       n);
}

void wj__elem_drop(void *vmctx, uint32_t segment)
{
    instance_of(vmctx)->elem_dropped[segment] = true;
}
