/*
 * Compiling a module. The defined functions are cut into chunks
 * (wasm/parallel.h) that up to env->threads threads compile independently,
 * each chunk into its own buffers: a trap thunk, then its functions. The
 * chunks are then joined in function order into one mapping, written while
 * read-write and made read+execute (never both). A function's code does
 * not depend on where its chunk lands (chunks start 32-aligned, every
 * function 16-aligned; trap stubs call their own chunk's thunk; direct calls are
 * relocations bound after the join), and the chunks do not depend on the
 * threads, so code, trap table, address map and errors are the same
 * whatever their number.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "func.h"
#include "opt/opt.h"
#include "wasm/parallel.h"

#define PAGE_SIZE 4096u
/* The most code (bytes) and trap or address entries reserved for a chunk
 * before compiling it. */
#define CHUNK_CODE_MAX (16u << 20)
#define CHUNK_ENTRIES_MAX (1u << 20)

/* A chunk's code, offsets relative to its start. */
typedef struct chunk_out {
    module_out out;
    wasm_error err; /* set when a function failed: the chunk stops there */
} chunk_out;

/* A compilation shared by its threads. */
typedef struct job {
    const wasm_module *m;
    const compile_env *env;
    const vm_memory_plan *plans;
    uint32_t *starts;         /* per defined function; chunk-relative until joined */
    wasm_chunk *chunks;       /* module function indices */
    chunk_out *outs;          /* per chunk */
    uint32_t nchunks;
} job;

/* SSE4.1 and POPCNT (CPUID leaf 1, ECX bits 19 and 23), asked once: one
 * query, where __builtin_cpu_supports links libgcc's start-up probe of
 * every leaf (CPUID exits to the hypervisor in a VM: 6% of a short run). */
static bool cpu_has_sse41_popcnt(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_POPCNT);
}

static bool module_supported(const wasm_module *m, wasm_error *err)
{
    if (!cpu_has_sse41_popcnt())
        return wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET,
                         "unsupported: this CPU lacks SSE4.1 or POPCNT");
    for (uint32_t i = 0; i < m->ntables; i++)
        if (m->tables[i].limits.is64)
            return wasm_fail(err, WASM_ERR_UNSUPPORTED, WASM_NO_OFFSET, "unsupported: table64");
    return true;
}

/* Starts function `index` in f, its output going to c: every field afresh
 * but those from `head` on (func.h), which f keeps (the buffers emptied).
 * Only the fields before them are cleared: copying or clearing the whole
 * fn cost more than compiling a small function's body. */
static void fn_begin(fn *f, const job *j, chunk_out *c, uint32_t index)
{
    /* Copied from a blank fn rather than memset: GCC makes this copy a few
     * vector moves, the memset a rep stosq, whose start-up cost was most of
     * this function's. */
    static const fn blank;
    memcpy(f, &blank, offsetof(fn, head));
    f->m = j->m;
    f->type_ids = j->env->type_ids;
    f->func_slots = j->env->func_slots;
    f->nfunc_slots = j->env->nfunc_slots;
    f->plans = j->plans;
    f->out = &c->out;
    f->cb = &c->out.code;
    f->err = &c->err;
    f->index = index;
    f->fuel_checks = j->env->fuel_checks;
    f->epoch_checks = j->env->epoch_checks;
    f->tiered = j->env->tiered;
    f->fixups.n = f->stubs.n = f->lazy_stubs.n = f->hot_sites.n = f->epoch_stubs.n = 0;
    vpool_clear(&f->pool);
}

/* Function i by tier 2, if it covers it. */
static bool optimized(const job *j, chunk_out *c, uint32_t i)
{
    opt_env env = {.m = j->m, .plans = j->plans, .type_ids = j->env->type_ids,
                   .func_slots = j->env->func_slots, .nfunc_slots = j->env->nfunc_slots,
                   .fuel_checks = j->env->fuel_checks,
                   .epoch_checks = j->env->epoch_checks};
    const char *why;
    return opt_compile(&env, i, &c->out, &why);
}

/* Compiles chunk k with the worker's fn; false when a function failed. */
static bool compile_chunk(void *ctx, void *worker, uint32_t k)
{
    job *j = ctx;
    fn *f = worker;
    const wasm_chunk *chunk = &j->chunks[k];
    chunk_out *c = &j->outs[k];
    codebuf *cb = &c->out.code;
    /* Room for the usual amount of code and table entries up front
     * (growing copies them); a chunk has at most one function larger than
     * WASM_CHUNK_BODY_BYTES. */
    const wasm_func *funcs = j->m->funcs;
    uint64_t bytes = funcs[chunk->end - 1].body_end - funcs[chunk->first].body;
    uint64_t nfuncs = chunk->end - chunk->first;
    uint64_t code = 4 * bytes + 64 * nfuncs, entries = bytes / 8 + 2 * nfuncs;
    cb_grow(cb, (uint32_t)(code < CHUNK_CODE_MAX ? code : CHUNK_CODE_MAX));
    entries = entries < CHUNK_ENTRIES_MAX ? entries : CHUNK_ENTRIES_MAX;
    vec_grow((void **)&c->out.traps.v, &c->out.traps.cap, sizeof *c->out.traps.v,
             (uint32_t)entries);
    vec_grow((void **)&c->out.addrs.v, &c->out.addrs.cap, sizeof *c->out.addrs.v,
             (uint32_t)entries);
    emit_trap_thunk(&c->out);
    for (uint32_t i = chunk->first; i < chunk->end; i++) {
        emit_func_align(cb);
        j->starts[i - j->m->nfunc_imports] = cb->len;
        if (j->env->optimize && optimized(j, c, i))
            continue;
        fn_begin(f, j, c, i);
        if (!compile_function(f) || cb->oom) {
            if (!c->err.kind)
                wasm_fail(&c->err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
            return false;
        }
    }
    return true;
}

static void worker_free(void *worker)
{
    fn_free(worker);
}

/* An address-map value of a chunk whose inline entries start at `base`
 * in the module's table. */
static uint32_t rebase_wasm(uint32_t wasm, uint32_t base)
{
    return wasm != COMPILED_NO_FRAME && (wasm & COMPILED_INLINED) ? wasm + base : wasm;
}

/* Appends the chunks' trap, address and inline entries, offsets moved by
 * each chunk's base and inline indices by the entries before the chunk's. */
static bool join_traps(const job *j, const uint32_t *base, compiled_code *out)
{
    size_t ntraps = 0, naddrs = 0, ninlines = 0;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        ntraps += j->outs[k].out.traps.n;
        naddrs += j->outs[k].out.addrs.n;
        ninlines += j->outs[k].out.inlines.n;
    }
    if (ntraps > UINT32_MAX || naddrs > UINT32_MAX || ninlines > COMPILED_INLINED)
        return false;
    out->traps = malloc((ntraps + 1) * sizeof *out->traps);
    out->addrs = malloc((naddrs + 1) * sizeof *out->addrs);
    out->inlines = malloc((ninlines + 1) * sizeof *out->inlines);
    if (!out->traps || !out->addrs || !out->inlines)
        return false;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const module_out *o = &j->outs[k].out;
        uint32_t inl = out->ninlines;
        for (uint32_t i = 0; i < o->traps.n; i++)
            out->traps[out->ntraps++] = (compiled_trap){o->traps.v[i].offset + base[k],
                                                        o->traps.v[i].code};
        for (uint32_t i = 0; i < o->addrs.n; i++)
            out->addrs[out->naddrs++] = (compiled_addr){o->addrs.v[i].native + base[k],
                                                        rebase_wasm(o->addrs.v[i].wasm, inl)};
        for (uint32_t i = 0; i < o->inlines.n; i++) {
            compiled_inline e = o->inlines.v[i];
            e.call = rebase_wasm(e.call, inl);
            out->inlines[out->ninlines++] = e;
        }
    }
    return true;
}

/* Joins the chunks' code into one mapping (int3 between chunks, as between
 * functions), binds the direct calls and makes it read+execute. */
static bool join_code(const job *j, uint32_t *base, compiled_code *out, wasm_error *err)
{
    uint64_t size = 0;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        /* 32: what tier 2 aligns its loops to within the chunk */
        base[k] = (uint32_t)((size + 31) & ~(uint64_t)31);
        size = base[k] + (uint64_t)j->outs[k].out.code.len;
        if (size > UINT32_MAX)
            return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory for code");
    }
    /* Populated at once: cheaper than a fault per page as it is filled. */
    size_t map_size = size ? (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1) : PAGE_SIZE;
    uint32_t nfuncs = j->m->nfuncs - j->m->nfunc_imports;
    size_t table = j->env->tiered ? tier_table_size(nfuncs) : 0;
    size_t reserved = j->env->tiered ? table + tier_up_reservation(map_size) : 0;
    uint8_t *code;
    if (reserved) { /* the tier table, then the pieces' room, inaccessible until they come */
        code = mmap(NULL, map_size + reserved, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (code != MAP_FAILED &&
            (mmap(code, map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED, -1, 0) == MAP_FAILED ||
             mprotect(code + map_size, table, PROT_READ | PROT_WRITE) != 0)) {
            munmap(code, map_size + reserved);
            code = MAP_FAILED;
        }
    } else {
        code = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    }
    if (code == MAP_FAILED)
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory for code");
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const codebuf *cb = &j->outs[k].out.code;
        uint32_t end = k ? base[k - 1] + j->outs[k - 1].out.code.len : 0;
        memset(code + end, 0xcc, base[k] - end);
        memcpy(code + base[k], cb->p, cb->len);
        for (uint32_t i = j->chunks[k].first; i < j->chunks[k].end; i++)
            j->starts[i - j->m->nfunc_imports] += base[k];
    }
    codebuf all = {.p = code, .len = (uint32_t)size, .cap = (uint32_t)size};
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const module_out *o = &j->outs[k].out;
        for (uint32_t i = 0; i < o->relocs.n; i++)
            x86_bind(&all, o->relocs.v[i].at + base[k], j->starts[o->relocs.v[i].func]);
        for (uint32_t i = 0; i < o->table_refs.n; i++) {
            uint32_t at = o->table_refs.v[i].at + base[k];
            int32_t rel = (int32_t)(map_size + o->table_refs.v[i].target - (at + 5));
            memcpy(code + at, &rel, 4);
        }
    }
    if (mprotect(code, map_size, PROT_READ | PROT_EXEC) != 0) {
        munmap(code, map_size + reserved);
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "cannot map code executable");
    }
    out->code = code;
    out->code_size = size;
    out->map_size = map_size + reserved;
    if (reserved && !(out->extra = tier_up_extra_new(map_size, nfuncs)))
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    if (reserved)
        out->extra->table = (vm_tier_func *)(code + map_size);
    return true;
}

/* Compiles the chunks on the job's threads and joins them; the error is
 * the lowest failed chunk's (so its lowest failing function's) or the
 * join's. */
static bool compile_chunks(job *j, compiled_code *out, wasm_error *err)
{
    uint32_t failed = wasm_run_chunks(j->nchunks, j->env->threads, sizeof(fn), compile_chunk,
                                      worker_free, j);
    if (failed < j->nchunks) {
        *err = j->outs[failed].err;
        return false;
    }
    /* failed is UINT32_MAX when out of memory */
    uint32_t *base = failed == j->nchunks ? malloc(((size_t)j->nchunks + 1) * sizeof *base) : NULL;
    bool ok = base && join_code(j, base, out, err) && join_traps(j, base, out);
    if (!ok && !err->kind)
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    free(base);
    return ok;
}

bool compile_module(const wasm_module *m, const compile_env *env, compiled_code *out,
                    wasm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!module_supported(m, err))
        return false;
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    job j = {.m = m, .env = env};
    vm_memory_plan *plans = malloc(((size_t)m->nmemories + 1) * sizeof *plans);
    j.plans = plans;
    j.starts = malloc(((size_t)ndefined + 1) * sizeof *j.starts);
    j.chunks = wasm_plan_chunks(m, &j.nchunks);
    j.outs = j.chunks ? calloc((size_t)j.nchunks + 1, sizeof *j.outs) : NULL;
    bool ok = plans && j.starts && j.outs;
    if (ok) {
        for (uint32_t i = 0; i < m->nmemories; i++)
            plans[i] = vm_plan_memory(&m->memories[i], env->max_memory_size, &env->memory);
        ok = compile_chunks(&j, out, err);
    } else {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    }
    for (uint32_t k = 0; j.outs && k < j.nchunks; k++)
        out_free(&j.outs[k].out);
    free(j.outs);
    free(j.chunks);
    free(plans);
    if (!ok) {
        free(j.starts);
        compiled_code_free(out);
        return false;
    }
    out->first_func = m->nfunc_imports;
    out->nfuncs = ndefined;
    out->func_starts = j.starts;
    return true;
}

void compiled_code_free(compiled_code *c)
{
    tier_up_extra_free(c->extra);
    if (c->code)
        munmap(c->code, c->map_size);
    free(c->func_starts);
    free(c->traps);
    free(c->addrs);
    free(c->inlines);
    memset(c, 0, sizeof *c);
}
