/*
 * Compiling a module. The defined functions are cut into chunks of
 * consecutive functions, which up to env->threads threads compile
 * independently, each chunk into its own buffers; the chunks are then
 * joined in function order into one mapping, written while read-write and
 * made read+execute (never both). A function's code does not depend on
 * where it lands (chunks start 16-aligned like every function; direct
 * calls are relocations bound after the join), so code, trap table,
 * address map and errors are the same whatever the number of threads.
 *
 * The threads live for one compilation only: a process that is to enter
 * the jail (which needs it to have one thread) has none left over.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "func.h"

/* Bytes of function bodies per chunk: enough that a chunk's set-up is
 * negligible, few enough that threads share a module evenly. A module
 * smaller than this is compiled on the calling thread alone. */
#define CHUNK_BODY_BYTES 16384u
#define PAGE_SIZE 4096u
/* The most code reserved for a chunk before compiling it. */
#define CHUNK_CODE_MAX (16u << 20)

/* Consecutive defined functions and their code, offsets relative to the
 * chunk's start. */
typedef struct chunk {
    uint32_t first, end; /* defined-function indices */
    module_out out;
    wasm_error err;      /* set when a function failed: the chunk stops there */
} chunk;

/* A compilation shared by its threads. */
typedef struct job {
    const wasm_module *m;
    const compile_env *env;
    const vm_memory_plan *plans;
    uint32_t *starts;    /* per defined function; chunk-relative until joined */
    chunk *chunks;
    uint32_t nchunks;
    atomic_uint next;         /* the next chunk to take */
    atomic_uint first_failed; /* lowest failed chunk so far; nchunks: none */
} job;

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

/* Cuts the defined functions into chunks of about CHUNK_BODY_BYTES. */
static bool plan_chunks(job *j)
{
    const wasm_module *m = j->m;
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    uint64_t body_bytes = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        body_bytes += m->funcs[i].body_end - m->funcs[i].body;
    /* Each chunk but the last holds more than CHUNK_BODY_BYTES. */
    j->chunks = calloc(body_bytes / CHUNK_BODY_BYTES + 1, sizeof *j->chunks);
    if (!j->chunks)
        return false;
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < ndefined; i++) {
        if (bytes == 0)
            j->chunks[n].first = i;
        const wasm_func *func = &m->funcs[m->nfunc_imports + i];
        bytes += func->body_end - func->body;
        if (bytes > CHUNK_BODY_BYTES || i + 1 == ndefined) {
            j->chunks[n++].end = i + 1;
            bytes = 0;
        }
    }
    j->nchunks = n;
    atomic_init(&j->next, 0);
    atomic_init(&j->first_failed, n);
    return true;
}

/* Starts function `index` (defined-function index) of chunk c in f: every
 * field afresh but the buffers, which f keeps, emptied. */
static void fn_begin(fn *f, const job *j, chunk *c, uint32_t index)
{
    fn kept = *f;
    *f = (fn){.m = j->m, .type_ids = j->env->type_ids, .plans = j->plans, .out = &c->out,
              .cb = &c->out.code, .err = &c->err, .index = j->m->nfunc_imports + index,
              .fuel_checks = j->env->fuel_checks, .epoch_checks = j->env->epoch_checks,
              .local_types = kept.local_types, .local_off = kept.local_off,
              .local_reg = kept.local_reg, .pin_weight = kept.pin_weight,
              .pin_written = kept.pin_written, .locals_cap = kept.locals_cap,
              .stack = kept.stack, .stack_cap = kept.stack_cap,
              .ctrls = kept.ctrls, .ctrl_cap = kept.ctrl_cap,
              .fixups = {kept.fixups.v, 0, kept.fixups.cap},
              .stubs = {kept.stubs.v, 0, kept.stubs.cap},
              .vconsts = {kept.vconsts.v, 0, kept.vconsts.cap},
              .vconst_refs = {kept.vconst_refs.v, 0, kept.vconst_refs.cap},
              .epoch_stubs = {kept.epoch_stubs.v, 0, kept.epoch_stubs.cap}};
}

static void compile_chunk(job *j, chunk *c, fn *f)
{
    static const uint8_t int3[16] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
                                     0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
    codebuf *cb = &c->out.code;
    /* Room for the usual code size up front (growing copies it); a chunk
     * has at most one function larger than CHUNK_BODY_BYTES. */
    const wasm_func *funcs = j->m->funcs + j->m->nfunc_imports;
    uint64_t estimate = 4 * (uint64_t)(funcs[c->end - 1].body_end - funcs[c->first].body) +
                        64 * (uint64_t)(c->end - c->first);
    cb_grow(cb, (uint32_t)(estimate < CHUNK_CODE_MAX ? estimate : CHUNK_CODE_MAX));
    for (uint32_t i = c->first; i < c->end; i++) {
        cb_bytes(cb, int3, -cb->len % 16); /* functions start 16-aligned */
        j->starts[i] = cb->len;
        fn_begin(f, j, c, i);
        if (!compile_function(f) || cb->oom) {
            if (!c->err.kind)
                wasm_fail(&c->err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
            return;
        }
    }
}

/* Takes chunks in order until none is left or a lower one failed: the
 * chunks below the lowest failure are all compiled, so the error reported
 * is the lowest failing function's, whatever the threads did. */
static void *compile_chunks(void *arg)
{
    job *j = arg;
    fn f = {0};
    for (;;) {
        unsigned k = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (k >= j->nchunks || k > atomic_load_explicit(&j->first_failed, memory_order_relaxed))
            break;
        compile_chunk(j, &j->chunks[k], &f);
        if (j->chunks[k].err.kind) {
            unsigned failed = atomic_load_explicit(&j->first_failed, memory_order_relaxed);
            while (k < failed && !atomic_compare_exchange_weak_explicit(
                                     &j->first_failed, &failed, k, memory_order_relaxed,
                                     memory_order_relaxed))
                ;
        }
    }
    fn_free(&f);
    return NULL;
}

/* Runs compile_chunks on up to `threads` threads, this one included. A
 * thread that cannot be started leaves its share to the others. */
static void run_workers(job *j, uint32_t threads)
{
    uint32_t helpers = (threads < j->nchunks ? threads : j->nchunks);
    helpers = helpers ? helpers - 1 : 0;
    pthread_t *ids = helpers ? malloc(helpers * sizeof *ids) : NULL;
    uint32_t started = 0;
    while (ids && started < helpers && pthread_create(&ids[started], NULL, compile_chunks, j) == 0)
        started++;
    compile_chunks(j);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    free(ids);
}

/* Appends the chunks' trap or address entries, offsets moved by each
 * chunk's base. */
static bool join_traps(const job *j, const uint32_t *base, compiled_code *out)
{
    size_t ntraps = 0, naddrs = 0;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        ntraps += j->chunks[k].out.traps.n;
        naddrs += j->chunks[k].out.addrs.n;
    }
    if (ntraps > UINT32_MAX || naddrs > UINT32_MAX)
        return false;
    out->traps = malloc((ntraps + 1) * sizeof *out->traps);
    out->addrs = malloc((naddrs + 1) * sizeof *out->addrs);
    if (!out->traps || !out->addrs)
        return false;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const module_out *o = &j->chunks[k].out;
        for (uint32_t i = 0; i < o->traps.n; i++)
            out->traps[out->ntraps++] = (compiled_trap){o->traps.v[i].offset + base[k],
                                                        o->traps.v[i].code};
        for (uint32_t i = 0; i < o->addrs.n; i++)
            out->addrs[out->naddrs++] = (compiled_addr){o->addrs.v[i].native + base[k],
                                                        o->addrs.v[i].wasm};
    }
    return true;
}

/* Joins the chunks' code into one mapping (int3 between chunks, as between
 * functions), binds the direct calls and makes it read+execute. */
static bool join_code(const job *j, uint32_t *base, compiled_code *out, wasm_error *err)
{
    uint64_t size = 0;
    for (uint32_t k = 0; k < j->nchunks; k++) {
        base[k] = (uint32_t)((size + 15) & ~(uint64_t)15);
        size = base[k] + (uint64_t)j->chunks[k].out.code.len;
        if (size > UINT32_MAX)
            return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory for code");
    }
    size_t map_size = size ? (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1) : PAGE_SIZE;
    uint8_t *code = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (code == MAP_FAILED)
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory for code");
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const codebuf *cb = &j->chunks[k].out.code;
        uint32_t end = k ? base[k - 1] + j->chunks[k - 1].out.code.len : 0;
        memset(code + end, 0xcc, base[k] - end);
        memcpy(code + base[k], cb->p, cb->len);
        for (uint32_t i = j->chunks[k].first; i < j->chunks[k].end; i++)
            j->starts[i] += base[k];
    }
    codebuf all = {.p = code, .len = (uint32_t)size, .cap = (uint32_t)size};
    for (uint32_t k = 0; k < j->nchunks; k++) {
        const module_out *o = &j->chunks[k].out;
        for (uint32_t i = 0; i < o->relocs.n; i++)
            x86_bind(&all, o->relocs.v[i].at + base[k], j->starts[o->relocs.v[i].func]);
    }
    if (mprotect(code, map_size, PROT_READ | PROT_EXEC) != 0) {
        munmap(code, map_size);
        return wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "cannot map code executable");
    }
    out->code = code;
    out->code_size = size;
    out->map_size = map_size;
    return true;
}

/* The lowest failed chunk's error, or the join's. */
static bool join_chunks(const job *j, compiled_code *out, wasm_error *err)
{
    for (uint32_t k = 0; k < j->nchunks; k++)
        if (j->chunks[k].err.kind) {
            *err = j->chunks[k].err;
            return false;
        }
    uint32_t *base = malloc(((size_t)j->nchunks + 1) * sizeof *base);
    bool ok = base && join_code(j, base, out, err);
    if (ok && !join_traps(j, base, out))
        ok = false;
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
    bool ok = plans && j.starts && plan_chunks(&j);
    if (ok) {
        for (uint32_t i = 0; i < m->nmemories; i++)
            plans[i] = vm_plan_memory(&m->memories[i], env->max_memory_size, &env->memory);
        run_workers(&j, env->threads ? env->threads : 1);
        ok = join_chunks(&j, out, err);
    } else {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    }
    for (uint32_t k = 0; j.chunks && k < j.nchunks; k++) {
        cb_free(&j.chunks[k].out.code);
        free(j.chunks[k].out.traps.v);
        free(j.chunks[k].out.addrs.v);
        free(j.chunks[k].out.relocs.v);
    }
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
    if (c->code)
        munmap(c->code, c->map_size);
    free(c->func_starts);
    free(c->traps);
    free(c->addrs);
    memset(c, 0, sizeof *c);
}
