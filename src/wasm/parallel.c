/* Work on a module's defined functions on several threads: see parallel.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "parallel.h"

wasm_chunk *wasm_plan_chunks(const wasm_module *m, uint32_t *count)
{
    uint64_t body_bytes = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        body_bytes += m->funcs[i].body_end - m->funcs[i].body;
    /* Every chunk but the last holds more than WASM_CHUNK_BODY_BYTES. */
    wasm_chunk *chunks = malloc((body_bytes / WASM_CHUNK_BODY_BYTES + 1) * sizeof *chunks);
    if (!chunks)
        return NULL;
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        if (bytes == 0)
            chunks[n].first = i;
        bytes += m->funcs[i].body_end - m->funcs[i].body;
        if (bytes > WASM_CHUNK_BODY_BYTES || i + 1 == m->nfuncs) {
            chunks[n++].end = i + 1;
            bytes = 0;
        }
    }
    *count = n;
    return chunks;
}

typedef struct pool {
    uint32_t count;
    size_t worker_size;
    wasm_chunk_fn run;
    void (*worker_free)(void *worker);
    void *ctx;
    atomic_uint next;         /* the next chunk to take */
    atomic_uint first_failed; /* lowest failed chunk so far; count: none */
} pool;

/* Takes chunks in order until none is left or one below failed. */
static void work(pool *p, void *worker)
{
    for (;;) {
        unsigned k = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (k >= p->count || k > atomic_load_explicit(&p->first_failed, memory_order_relaxed))
            break;
        if (!p->run(p->ctx, worker, k)) {
            unsigned failed = atomic_load_explicit(&p->first_failed, memory_order_relaxed);
            while (k < failed && !atomic_compare_exchange_weak_explicit(
                                     &p->first_failed, &failed, k, memory_order_relaxed,
                                     memory_order_relaxed))
                ;
        }
    }
    if (p->worker_free)
        p->worker_free(worker);
}

static void *helper_main(void *arg)
{
    pool *p = arg;
    void *worker = calloc(1, p->worker_size);
    if (worker) /* else the other threads do its share */
        work(p, worker);
    free(worker);
    return NULL;
}

uint32_t wasm_run_chunks(uint32_t count, uint32_t threads, size_t worker_size, wasm_chunk_fn run,
                         void (*worker_free)(void *worker), void *ctx)
{
    pool p = {.count = count, .worker_size = worker_size, .run = run,
              .worker_free = worker_free, .ctx = ctx};
    atomic_init(&p.next, 0);
    atomic_init(&p.first_failed, count);
    void *worker = calloc(1, worker_size);
    if (!worker)
        return UINT32_MAX;
    uint32_t helpers = threads < count ? threads : count;
    helpers = helpers ? helpers - 1 : 0;
    pthread_t *ids = helpers ? malloc(helpers * sizeof *ids) : NULL;
    uint32_t started = 0;
    while (ids && started < helpers && pthread_create(&ids[started], NULL, helper_main, &p) == 0)
        started++;
    work(&p, worker);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    free(ids);
    free(worker);
    return atomic_load_explicit(&p.first_failed, memory_order_relaxed);
}
