/*
 * Data segments. When a module is created, the active segments whose
 * writes are known from the module (constant offsets, inside the initial
 * size) into a static memory it defines become that memory's copy-on-write
 * image (memory/image.h), which each instance maps instead of copying.
 * Every other segment is applied when the instance is made, in the spec's
 * order; an instantiation that traps first takes the images out again.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "extern.h"
#include "instance.h"
#include "module.h"

static bool out_of_bounds(uint64_t start, uint64_t n, uint64_t size)
{
    return n > size || start > size - n;
}

static uint64_t initial_bytes(const wasm_module *m, uint32_t memory)
{
    return m->memories[memory].min * WASM_PAGE_SIZE;
}

/* A defined memory's segment that traps at every instantiation: the ones
 * after it never apply. */
static bool always_traps(const wasm_module *m, const wasm_data *d)
{
    return d->mode == WASM_SEG_ACTIVE && d->memory >= m->nmemory_imports &&
           (d->offset.kind == WASM_CONST_I32 || d->offset.kind == WASM_CONST_I64) &&
           out_of_bounds(d->offset.kind == WASM_CONST_I32 ? d->offset.u.i32 : d->offset.u.i64,
                         d->size, initial_bytes(m, d->memory));
}

/* Memory i's image from segments [0, stop), or NULL: when one of them is
 * not known from the module, or there is nothing to map. */
static memory_image *build_image(const wj_module *module, uint32_t i, uint32_t stop)
{
    const wasm_module *m = module->wasm;
    uint64_t start = UINT64_MAX, end = 0;
    for (uint32_t j = 0; j < stop; j++) {
        const wasm_data *d = &m->datas[j];
        if (d->mode != WASM_SEG_ACTIVE || d->memory != i)
            continue;
        if (d->offset.kind != WASM_CONST_I32)
            return NULL;
        if (d->size && d->offset.u.i32 < start)
            start = d->offset.u.i32;
        if (d->size && d->offset.u.i32 + (uint64_t)d->size > end)
            end = d->offset.u.i32 + (uint64_t)d->size;
    }
    if (end == 0)
        return NULL;
    memory_image *img = image_new(start, end);
    for (uint32_t j = 0; img && j < stop; j++) {
        const wasm_data *d = &m->datas[j];
        if (d->mode == WASM_SEG_ACTIVE && d->memory == i && d->size &&
            !image_write(img, d->offset.u.i32, m->bytes + d->bytes, d->size)) {
            image_release(img);
            img = NULL;
        }
    }
    if (img && !image_seal(img)) {
        image_release(img);
        img = NULL;
    }
    return img;
}

bool datas_plan(wj_module *module)
{
    const wasm_module *m = module->wasm;
    const struct wj_config *config = &module->engine->config;
    uint32_t ndefined = m->nmemories - m->nmemory_imports;
    module->images = calloc(ndefined ? ndefined : 1, sizeof *module->images);
    module->data_imaged = calloc(m->ndatas ? m->ndatas : 1, sizeof *module->data_imaged);
    if (!module->images || !module->data_imaged)
        return false;
    if (!config->memory_images)
        return true;
    uint32_t stop = 0;
    while (stop < m->ndatas && !always_traps(m, &m->datas[stop]))
        stop++;
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++) {
        vm_memory_plan plan =
            vm_plan_memory(&m->memories[i], config->max_memory_size, &config->memory);
        /* a dynamic memory's accessible bytes must stay one mapping */
        if (!plan.dynamic)
            module->images[i - m->nmemory_imports] = build_image(module, i, stop);
    }
    for (uint32_t j = 0; j < stop; j++) {
        const wasm_data *d = &m->datas[j];
        module->data_imaged[j] = d->mode == WASM_SEG_ACTIVE && d->memory >= m->nmemory_imports &&
                                 module->images[d->memory - m->nmemory_imports];
    }
    return true;
}

void datas_plan_free(wj_module *module)
{
    if (module->images)
        for (uint32_t i = 0; i < module->wasm->nmemories - module->wasm->nmemory_imports; i++)
            image_release(module->images[i]);
    free(module->images);
    free(module->data_imaged);
}

memory_image *datas_image(const wj_instance *inst, uint32_t memory)
{
    const wasm_module *m = inst->module->wasm;
    return memory < m->nmemory_imports ? NULL
                                       : inst->module->images[memory - m->nmemory_imports];
}

static linear_memory *memory_of(const wj_instance *inst, uint32_t i)
{
    return inst->memories[i]->mem;
}

void datas_unfold(wj_instance *inst, uint32_t stop)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++) {
        if (memory_drop_image(memory_of(inst, i)))
            continue;
        /* the system refused to map zeros over it: write them */
        const memory_image *img = datas_image(inst, i);
        memset(memory_of(inst, i)->vm.base + img->offset, 0, img->len);
    }
    for (uint32_t j = 0; j < stop; j++) {
        const wasm_data *d = &m->datas[j];
        if (inst->module->data_imaged[j])
            memcpy(memory_of(inst, d->memory)->vm.base + d->offset.u.i32, m->bytes + d->bytes,
                   d->size);
    }
}

wj_trap_code datas_init(wj_instance *inst)
{
    const wasm_module *m = inst->module->wasm;
    for (uint32_t j = 0; j < m->ndatas; j++) {
        const wasm_data *d = &m->datas[j];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        if (!inst->module->data_imaged[j]) {
            uint64_t dst = instance_const(inst, &d->offset);
            if (!m->memories[d->memory].is64)
                dst = (uint32_t)dst;
            if (wj__memory_init(inst->vmctx, d->memory, j, dst, 0, d->size)) {
                datas_unfold(inst, j);
                return WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
            }
        }
        inst->data_dropped[j] = true;
    }
    return WJ_TRAP_NONE;
}
