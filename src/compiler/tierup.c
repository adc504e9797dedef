/*
 * Tier-2 code made while a module runs (tiered execution): each function
 * or osr entry compiled on its own into a piece of the module's code
 * reservation, right past its tier-1 code so that rel32 calls reach both
 * ways. A piece takes whole pages: they go read-write, are written and
 * bound, and turn read+execute before anything can run them, while the
 * pages of the code that runs are never writable (W^X holds throughout).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "opt/opt.h"
#include "tier.h"

#define PAGE_SIZE 4096u
/* The reservation: room for the whole module about four times over, plus
 * the page each piece rounds up to; within rel32 reach of every call. */
#define RESERVATION_MAX ((size_t)1 << 30)
#define RESERVATION_BASE ((size_t)16 << 20)

size_t tier_up_reservation(size_t map_size)
{
    size_t want = 4 * map_size + RESERVATION_BASE;
    return want < RESERVATION_MAX ? want : RESERVATION_MAX;
}

size_t tier_table_size(uint32_t nfuncs)
{
    return (((size_t)nfuncs + 1) * sizeof(vm_tier_func) + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
}

compiled_extra *tier_up_extra_new(size_t map_size, uint32_t nfuncs)
{
    compiled_extra *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    /* At most one piece per page of the reservation. */
    e->cap = (uint32_t)(tier_up_reservation(map_size) / PAGE_SIZE);
    e->pieces = malloc((size_t)e->cap * sizeof *e->pieces);
    e->entries = calloc((size_t)nfuncs + 1, sizeof *e->entries);
    if (!e->pieces || !e->entries || pthread_mutex_init(&e->lock, NULL) != 0) {
        free(e->pieces);
        free(e->entries);
        free(e);
        return NULL;
    }
    e->used = map_size + tier_table_size(nfuncs);
    return e;
}

void tier_up_extra_free(compiled_extra *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->npieces; i++) {
        free(e->pieces[i].traps);
        free(e->pieces[i].addrs);
        free(e->pieces[i].inlines);
    }
    free(e->pieces);
    free(e->entries);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* The piece's tables, offsets moved to the mapping's; false when out of
 * memory. */
static bool piece_tables(compiled_piece *p, const module_out *o, uint32_t base)
{
    p->traps = malloc(((size_t)o->traps.n + 1) * sizeof *p->traps);
    p->addrs = malloc(((size_t)o->addrs.n + 1) * sizeof *p->addrs);
    p->inlines = malloc(((size_t)o->inlines.n + 1) * sizeof *p->inlines);
    if (!p->traps || !p->addrs || !p->inlines) {
        free(p->traps);
        free(p->addrs);
        free(p->inlines);
        return false;
    }
    for (uint32_t i = 0; i < o->traps.n; i++)
        p->traps[i] = (compiled_trap){o->traps.v[i].offset + base, o->traps.v[i].code};
    for (uint32_t i = 0; i < o->addrs.n; i++)
        p->addrs[i] = (compiled_addr){o->addrs.v[i].native + base, o->addrs.v[i].wasm};
    if (o->inlines.n)
        memcpy(p->inlines, o->inlines.v, o->inlines.n * sizeof *p->inlines);
    p->ntraps = o->traps.n;
    p->naddrs = o->addrs.n;
    p->ninlines = o->inlines.n;
    return true;
}

/* Maps o's code as the next piece of c, under its lock: its address, or
 * NULL (*why). */
static const uint8_t *place(compiled_code *c, const module_out *o, uint32_t func,
                            const char **why)
{
    compiled_extra *e = c->extra;
    size_t size = ((size_t)o->code.len + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    uint32_t n = atomic_load_explicit(&e->npieces, memory_order_relaxed);
    if (n == e->cap || size > c->map_size - e->used) {
        *why = "no room left for tier-2 code";
        return NULL;
    }
    uint8_t *at = c->code + e->used;
    compiled_piece *p = &e->pieces[n];
    *p = (compiled_piece){.start = (uint32_t)e->used,
                          .end = (uint32_t)(e->used + o->code.len),
                          .func = func};
    /* Pages nothing runs yet, or ever if this fails. */
    if (mprotect(at, size, PROT_READ | PROT_WRITE) != 0 || !piece_tables(p, o, p->start)) {
        *why = "out of memory";
        return NULL;
    }
    memcpy(at, o->code.p, o->code.len);
    /* direct calls to functions already in tier 2 (the others go through
     * the tier table): an entry, once placed, stays */
    for (uint32_t i = 0; i < o->relocs.n; i++) {
        const uint8_t *to = atomic_load_explicit(&e->entries[o->relocs.v[i].func],
                                                 memory_order_acquire);
        int32_t rel = (int32_t)(to - (at + o->relocs.v[i].at + 4));
        memcpy(at + o->relocs.v[i].at, &rel, 4);
    }
    memset(at + o->code.len, 0xcc, size - o->code.len);
    if (mprotect(at, size, PROT_READ | PROT_EXEC) != 0) {
        free(p->traps);
        free(p->addrs);
        free(p->inlines);
        *why = "cannot map code executable";
        return NULL;
    }
    e->used += size;
    atomic_store_explicit(&e->npieces, n + 1, memory_order_release);
    return at;
}

const void *compile_tier_up(const wasm_module *m, const compile_env *env, compiled_code *c,
                            uint32_t func, uint32_t loop, const atomic_bool *cancel,
                            const char **why)
{
    vm_memory_plan *plans = malloc(((size_t)m->nmemories + 1) * sizeof *plans);
    if (!plans) {
        *why = "out of memory";
        return NULL;
    }
    for (uint32_t i = 0; i < m->nmemories; i++)
        plans[i] = vm_plan_memory(&m->memories[i], env->max_memory_size, &env->memory);
    opt_env oe = {.m = m, .plans = plans, .type_ids = env->type_ids,
                  .func_slots = env->func_slots, .nfunc_slots = env->nfunc_slots,
                  .fuel_checks = env->fuel_checks, .epoch_checks = env->epoch_checks,
                  .tiered = true, .entries = c->extra->entries, .cancel = cancel};
    module_out o = {0};
    uint32_t index = m->nfunc_imports + func;
    emit_trap_thunk(&o);
    emit_func_align(&o.code);
    uint32_t start = o.code.len;
    bool ok = loop == VM_TIER_AT_ENTRY ? opt_compile(&oe, index, &o, why)
                                       : opt_compile_osr(&oe, index, loop, &o, why);
    const uint8_t *code = NULL;
    if (ok && o.code.oom)
        *why = "out of memory";
    else if (ok) {
        pthread_mutex_lock(&c->extra->lock);
        code = place(c, &o, index, why);
        pthread_mutex_unlock(&c->extra->lock);
    }
    if (code && loop == VM_TIER_AT_ENTRY)
        atomic_store_explicit(&c->extra->entries[func], code + start, memory_order_release);
    out_free(&o);
    free(plans);
    return code ? code + start : NULL;
}
