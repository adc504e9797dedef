/*
 * What instantiation leaves to first use (design: "instantiation does no
 * per-function or per-element work"). A defined function that can have a
 * reference has a slot (funcs_plan), where its wj_func is written the
 * first time something asks for it, with a bit in the vmctx saying so
 * (compiled ref.func tests it). A funcref table element still 0 takes its
 * lazy value (memory/table.h) when first read, by the runtime or by
 * compiled code through wj__lazy.
 */
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "instance.h"
#include "module.h"

static void give_slot(wj_module *module, uint32_t func)
{
    const wasm_module *m = module->wasm;
    if (func >= m->nfunc_imports && module->func_slots[func - m->nfunc_imports] == UINT32_MAX)
        module->func_slots[func - m->nfunc_imports] = module->nfunc_slots++;
}

bool funcs_plan(wj_module *module)
{
    const wasm_module *m = module->wasm;
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    module->func_slots = malloc((ndefined ? ndefined : 1) * sizeof *module->func_slots);
    if (!module->func_slots)
        return false;
    memset(module->func_slots, 0xff, ndefined * sizeof *module->func_slots);
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            if (m->elems[i].items[k].kind == WASM_CONST_REF_FUNC)
                give_slot(module, m->elems[i].items[k].u.index);
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WASM_EXTERN_FUNC)
            give_slot(module, m->exports[i].index);
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        if (m->globals[i].init.kind == WASM_CONST_REF_FUNC)
            give_slot(module, m->globals[i].init.u.index);
    if (m->has_start)
        give_slot(module, m->start);
    return true;
}

vm_funcref *instance_func(wj_instance *inst, uint32_t func)
{
    const wj_module *module = inst->module;
    const wasm_module *m = module->wasm;
    if (func < m->nfunc_imports)
        return *(vm_funcref **)vmctx_at(inst->vmctx, vmctx_func(m, func));
    uint32_t d = func - m->nfunc_imports;
    uint32_t slot = module->func_slots[d]; /* validation: it has one */
    wj_func *f = &inst->funcs[slot];
    uint8_t *made = (uint8_t *)vmctx_at(inst->vmctx, vmctx_made(m)) + slot / 8;
    if (*made & (1u << slot % 8))
        return &f->ref;
    uint32_t type = m->funcs[func].type;
    *f = (wj_func){
        .ref = {.code = module->code.code + module->code.func_starts[d],
                .vmctx = inst->vmctx,
                .type_id = module->type_ids[type]},
        .store = inst->store,
        .type = &m->types[type],
        .instance = inst,
    };
    *made |= (uint8_t)(1u << slot % 8);
    return &f->ref;
}

/* Element i of funcref table t, 0 until now: its lazy value, stored. */
static uintptr_t materialize(ref_table *t, uint32_t i)
{
    vm_funcref *ref = NULL;
    if (i < t->lazy_len && t->lazy_funcs[i])
        ref = instance_func(instance_of(t->lazy_vmctx), t->lazy_funcs[i] - 1);
    uintptr_t stored = (uintptr_t)ref | 1;
    table_written(t, i, i + 1);
    t->vm.elems[i] = (void *)stored;
    return stored;
}

void *table_ref(ref_table *t, uint32_t i)
{
    uintptr_t e = (uintptr_t)t->vm.elems[i];
    if (t->elem != WASM_FUNCREF)
        return (void *)e;
    if (!e)
        e = materialize(t, i);
    return (void *)(e & ~(uintptr_t)1);
}

void table_materialize(ref_table *t, uint32_t start, uint32_t n)
{
    if (t->elem != WASM_FUNCREF)
        return;
    for (uint32_t i = start; i < start + n; i++)
        if (!t->vm.elems[i])
            materialize(t, i);
}

uintptr_t wj__lazy(void *vmctx, uint64_t request)
{
    if (request & VM_LAZY_FUNC)
        return (uintptr_t)instance_func(instance_of(vmctx), (uint32_t)request);
    ref_table *t = vmctx_table_at(vmctx, (uint32_t)(request >> 32));
    uint32_t i = (uint32_t)request;
    uintptr_t e = (uintptr_t)t->vm.elems[i];
    return e ? e : materialize(t, i);
}
