/*
 * Tiered execution's runtime side (tierup.h). Tier-1 code counts a
 * function's budget down at its entry and loop headers (in the tier table
 * after the module's code); when it runs out, wj__tier_up asks the
 * engine's worker thread for the function's tier-2 code or, when a loop
 * can be replaced on the stack, for that loop's osr entry alone (the
 * function's own code then comes when it is called again), and rearms the
 * budget so that the loop asks again, and enters the code, a little
 * later. Nothing is
 * asked for until SETTLE_NS after the first function got hot. The worker
 * compiles (compiler/tierup.c) and publishes each entry with a release
 * store; compiled code reads it with a plain load. A function tier 2
 * declines keeps a budget that does not run out in practice.
 *
 * With a budget of 0 (wj_config_set_tier_up_budget) every function asks at
 * its first call and every eligible loop at its first iteration, and the
 * asking thread waits for the code: a test of the tiers. That first call
 * goes on in tier 1, so that its loops are replaced on the stack; the
 * calls after it run tier 2.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"
#include "instance.h"
#include "module.h"
#include "tierup.h"

/* Before tier-up starts, a hot function asks again after this many times
 * its budget (each ask takes a lock and reads the clock); while its code
 * is being compiled, after its budget. */
#define SETTLE_REARMS 10
/* How long after the engine's first hot function tier-up starts: a program
 * that ends sooner never pays for the thread and the compiles (it runs in
 * tier 1 alone, as fast), and a longer one loses a few ms of tier 2. */
#define SETTLE_NS (5 * 1000000ull)
/* The budget of what tier 2 declines: about forever. */
#define NEVER_BUDGET INT32_MAX

enum { ASKED_ENTRY = 1, DECLINED = 2 };

/* A loop asked for on-stack replacement: compiled once its code is set,
 * else being compiled or declined (either way not asked for again). */
typedef struct osr_node {
    vm_osr osr; /* what compiled code reads once it is the function's latest */
    struct osr_node *next; /* the function's other loops */
} osr_node;

struct module_tier {
    vm_tier_func *funcs;   /* per defined function: the code's tier table */
    uint8_t *asked;        /* per defined function: ASKED_ENTRY, DECLINED */
    osr_node **osrs;       /* per defined function: its loops asked for */
    uint32_t nfuncs;
    const compile_env *env;
};

typedef struct tier_job {
    const wj_module *module; /* holds a reference */
    uint32_t func, loop;
    struct tier_job *next;
} tier_job;

struct tier_worker {
    pthread_mutex_t lock; /* the queue, and every module_tier's asked state */
    pthread_cond_t wake;  /* a job came, or stop */
    pthread_cond_t idle;  /* the queue ran empty */
    tier_job *head, *tail;
    bool started, stop, busy;
    atomic_bool cancel;    /* stop: the compile in progress ends early */
    uint64_t first_hot_ns; /* when a function first got hot, or 0 */
    pthread_t thread;
};

static atomic_bool forbidden;

void tier_up_forbid(void)
{
    atomic_store(&forbidden, true);
}

module_tier *module_tier_new(const wj_module *module, const compile_env *env)
{
    uint32_t n = module->code.nfuncs;
    module_tier *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nfuncs = n;
    t->funcs = module->code.extra->table;
    t->asked = calloc((size_t)n + 1, 1);
    t->osrs = calloc((size_t)n + 1, sizeof *t->osrs);
    if (!t->asked || !t->osrs) {
        module_tier_free(t);
        return NULL;
    }
    uint32_t budget = module->engine->config.tier_up_budget;
    for (uint32_t i = 0; i < n; i++) {
        t->funcs[i].budget = budget > INT32_MAX ? INT32_MAX : (int32_t)budget;
        t->funcs[i].loop_budget = t->funcs[i].budget;
        t->funcs[i].call = module->code.code + module->code.func_starts[i];
    }
    t->env = env;
    return t;
}

void module_tier_free(module_tier *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; t->osrs && i < t->nfuncs; i++)
        for (osr_node *o = t->osrs[i], *next; o; o = next) {
            next = o->next;
            free(o);
        }
    free(t->osrs);
    free(t->asked);
    free(t);
}

vm_tier_func *module_tier_funcs(module_tier *t)
{
    return t->funcs;
}

/* The code to enter now for (func, loop), or NULL. */
static const void *ready(const vm_tier_func *f, uint32_t loop)
{
    if (loop == VM_TIER_AT_ENTRY)
        return __atomic_load_n(&f->entry, __ATOMIC_ACQUIRE);
    const vm_osr *o = __atomic_load_n(&f->osr, __ATOMIC_ACQUIRE);
    return o && o->loop == loop ? o->code : NULL;
}

/* The function's node for `loop`, or NULL (under the lock). */
static osr_node *osr_find(const module_tier *t, uint32_t func, uint32_t loop)
{
    osr_node *o = t->osrs[func];
    while (o && o->osr.loop != loop)
        o = o->next;
    return o;
}

/* Compiles a job and publishes what came of it. */
static void run_job(tier_worker *w, const tier_job *j)
{
    wj_module *module = (wj_module *)j->module;
    module_tier *t = module->tier;
    vm_tier_func *f = &t->funcs[j->func];
    const char *why = NULL;
    const void *code =
        compile_tier_up(module->wasm, t->env, &module->code, j->func, j->loop, &w->cancel, &why);
    pthread_mutex_lock(&w->lock);
    if (j->loop != VM_TIER_AT_ENTRY) {
        /* Its header enters it once it is the latest (it was made so
         * when asked for); declined, the loop goes on in tier 1. */
        if (code)
            __atomic_store_n(&osr_find(t, j->func, j->loop)->osr.code, code, __ATOMIC_RELEASE);
    } else if (code) {
        __atomic_store_n(&f->entry, code, __ATOMIC_RELEASE);
        __atomic_store_n(&f->call, code, __ATOMIC_RELEASE);
        /* The next call through the tier-1 entry takes it, rather than
         * running tier 1 (and asking to replace its loops) until the
         * budget runs out again. */
        __atomic_store_n(&f->budget, 0, __ATOMIC_RELAXED);
    } else {
        t->asked[j->func] |= DECLINED;
        __atomic_store_n(&f->budget, NEVER_BUDGET, __ATOMIC_RELAXED);
        __atomic_store_n(&f->loop_budget, NEVER_BUDGET, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
    tier_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        tier_job *j = w->head;
        if (!j) {
            w->busy = false;
            pthread_cond_broadcast(&w->idle);
            pthread_cond_wait(&w->wake, &w->lock);
            continue;
        }
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->busy = true;
        pthread_mutex_unlock(&w->lock);
        run_job(w, j);
        module_release(j->module);
        free(j);
        pthread_mutex_lock(&w->lock);
    }
    w->busy = false;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

tier_worker *tier_worker_new(void)
{
    tier_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->wake, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->idle, NULL) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void tier_worker_free(tier_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    atomic_store(&w->cancel, true);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->started)
        pthread_join(w->thread, NULL);
    while (w->head) {
        tier_job *j = w->head;
        w->head = j->next;
        module_release(j->module);
        free(j);
    }
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Queues (func, loop) under the lock; false when it cannot be compiled
 * (out of memory, no thread). */
static bool enqueue(tier_worker *w, const wj_module *module, uint32_t func, uint32_t loop)
{
    if (!w->started) {
        /* It runs no wasm: signals for the process go to threads that do
         * (it starts with every signal blocked). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (err != 0)
            return false;
        w->started = true;
    }
    tier_job *j = malloc(sizeof *j);
    if (!j)
        return false;
    module_retain(module);
    *j = (tier_job){.module = module, .func = func, .loop = loop};
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->wake);
    return true;
}

/* Whether SETTLE_NS passed since the first function got hot (under the
 * lock). */
static bool settled(tier_worker *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (!w->first_hot_ns)
        w->first_hot_ns = now;
    return now - w->first_hot_ns >= SETTLE_NS;
}

const void *wj__tier_up(void *vmctx, uint32_t func, uint32_t loop, uint32_t inner)
{
    const wj_module *module = instance_of(vmctx)->module;
    module_tier *t = module->tier;
    vm_tier_func *f = &t->funcs[func];
    const void *code = inner ? NULL : ready(f, loop);
    if (code)
        return code;
    bool at_entry = loop == VM_TIER_AT_ENTRY;
    int32_t *counter = at_entry ? &f->budget : &f->loop_budget;
    tier_worker *w = module->engine->tierup;
    uint32_t budget = module->engine->config.tier_up_budget;
    int32_t rearm = budget > INT32_MAX ? INT32_MAX : (int32_t)budget;
    bool wait = budget == 0;
    pthread_mutex_lock(&w->lock);
    if (!wait && !settled(w)) {
        int32_t later = rearm > INT32_MAX / SETTLE_REARMS ? INT32_MAX : rearm * SETTLE_REARMS;
        __atomic_store_n(counter, later, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&w->lock);
        return NULL;
    }
    bool ok = !atomic_load(&forbidden) && !(t->asked[func] & DECLINED);
    bool osr = ok && !at_entry && loop != VM_TIER_IN_LOOP;
    if (osr) {
        osr_node *o = osr_find(t, func, loop);
        if (!o && (o = calloc(1, sizeof *o))) {
            /* The loop that runs first: it is why the function got hot. */
            o->osr.loop = loop;
            o->next = t->osrs[func];
            t->osrs[func] = o;
            ok = enqueue(w, module, func, loop);
        }
        ok = ok && o;
        /* The latest, compiled or not: its header stops asking, and
         * enters it once it is compiled. */
        if (ok)
            __atomic_store_n(&f->osr, &o->osr, __ATOMIC_RELEASE);
    }
    if (ok && !(t->asked[func] & ASKED_ENTRY) && osr) {
        /* A loop moves on its own: the whole function is compiled when it
         * is called again (its next call asks), never for a main() that
         * runs its loops once. */
        __atomic_store_n(&f->budget, 0, __ATOMIC_RELAXED);
    } else if (ok && !(t->asked[func] & ASKED_ENTRY)) {
        t->asked[func] |= ASKED_ENTRY;
        ok = enqueue(w, module, func, VM_TIER_AT_ENTRY);
    }
    if (!ok)
        t->asked[func] |= DECLINED;
    while (ok && wait && (w->head || w->busy))
        pthread_cond_wait(&w->idle, &w->lock);
    /* The entry's count goes on while its code comes (waiting, 0: the
     * next call takes it); the loops' stop, the osr check at the
     * outermost header taking over. */
    __atomic_store_n(counter, t->asked[func] & DECLINED || !at_entry ? NEVER_BUDGET : rearm,
                     __ATOMIC_RELAXED);
    pthread_mutex_unlock(&w->lock);
    /* Waiting, the call that asked stays in tier 1, so that its loops are
     * replaced on the stack: the next calls take the entry. */
    if (inner || loop == VM_TIER_IN_LOOP || (wait && at_entry))
        return NULL;
    return ready(f, loop);
}
