/* Compiling a module: every function into one code buffer, then the code
 * mapped read+execute (written while read-write, never both). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "func.h"

static bool module_supported(const wasm_module *m, wasm_error *err)
{
    if (!__builtin_cpu_supports("sse4.1") || !__builtin_cpu_supports("popcnt"))
        return wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET,
                         "unsupported: this CPU lacks SSE4.1 or POPCNT");
    for (uint32_t i = 0; i < m->ntables; i++)
        if (m->tables[i].limits.is64)
            return wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: table64");
    return true;
}

static void fn_free(fn *f)
{
    free(f->local_types);
    free(f->local_off);
    free(f->vconsts.v);
    free(f->vconst_refs.v);
    free(f->local_reg);
    free(f->stack);
    free(f->ctrls);
    free(f->fixups.v);
    free(f->stubs.v);
    free(f->lazy_stubs.v);
    free(f->epoch_stubs.v);
}

/* Copies the code into its own mapping and makes it read+execute. */
static bool map_code(compiled_code *c, const codebuf *cb, wasm_error *err)
{
    size_t page = 4096;
    size_t size = cb->len ? (cb->len + page - 1) & ~(page - 1) : page;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory for code");
    if (cb->len) /* a module without functions has no buffer */
        memcpy(p, cb->p, cb->len);
    if (mprotect(p, size, PROT_READ | PROT_EXEC) != 0) {
        munmap(p, size);
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "cannot map code executable");
    }
    c->code = p;
    c->code_size = cb->len;
    c->map_size = size;
    return true;
}

/* What every trap stub of the module calls (func.c: trap_call): a rel32
 * call reaches it wherever the runtime was loaded. Before the first
 * function, where no frame is located. */
static void emit_trap_thunk(module_out *o)
{
    o->trap_thunk = o->code.len;
    x86_mov_ri64(&o->code, SCRATCH, (uint64_t)(uintptr_t)wj__trap_trampoline); /* mov r11, trampoline */
    x86_jmp_rm(&o->code, R_(SCRATCH));                                         /* jmp r11 */
}

bool compile_module(const wasm_module *m, const compile_env *env, compiled_code *out,
                    wasm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!module_supported(m, err))
        return false;
    module_out o = {0};
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    uint32_t *starts = malloc(((size_t)ndefined + 1) * sizeof *starts);
    vm_memory_plan *plans = malloc(((size_t)m->nmemories + 1) * sizeof *plans);
    bool ok = starts && plans;
    if (!ok)
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    for (uint32_t i = 0; ok && i < m->nmemories; i++)
        plans[i] = vm_plan_memory(&m->memories[i], env->max_memory_size, &env->memory);
    if (ndefined > 0)
        emit_trap_thunk(&o);
    for (uint32_t i = 0; ok && i < ndefined; i++) {
        while (o.code.len % 16) /* align function starts */
            cb_u8(&o.code, 0xcc);
        starts[i] = o.code.len;
        fn f = {.m = m, .type_ids = env->type_ids, .func_slots = env->func_slots,
                .nfunc_slots = env->nfunc_slots, .plans = plans, .out = &o, .cb = &o.code,
                .err = err, .index = m->nfunc_imports + i,
                .fuel_checks = env->fuel_checks, .epoch_checks = env->epoch_checks};
        ok = compile_function(&f) && !o.code.oom;
        fn_free(&f);
        if (!ok && !err->kind)
            wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    }
    if (ok) {
        for (uint32_t i = 0; i < o.relocs.n; i++)
            x86_bind(&o.code, o.relocs.v[i].at, starts[o.relocs.v[i].func]);
        ok = map_code(out, &o.code, err);
    }
    cb_free(&o.code);
    free(o.relocs.v);
    free(plans);
    if (!ok) {
        free(starts);
        free(o.traps.v);
        free(o.addrs.v);
        memset(out, 0, sizeof *out);
        return false;
    }
    out->first_func = m->nfunc_imports;
    out->nfuncs = ndefined;
    out->func_starts = starts;
    out->ntraps = o.traps.n;
    out->traps = o.traps.v;
    out->naddrs = o.addrs.n;
    out->addrs = o.addrs.v;
    return true;
}

void compiled_code_free(compiled_code *c)
{
    if (c->code)
        munmap(c->code, c->map_size);
    free(c->func_starts);
    free(c->traps);
    free(c->addrs);
    memset(c, 0, sizeof *c);
}
