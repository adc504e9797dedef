/*
 * Lookups in a compiled module's tables, for trap recording (in the signal
 * handler too) and for backtraces: binary searches over sorted arrays,
 * async-signal-safe.
 */
#include "compiler.h"

/* The piece containing offset (past the module's own code), or NULL. */
static const compiled_piece *piece_at(const compiled_code *c, uint32_t offset)
{
    if (!c->extra)
        return NULL;
    uint32_t lo = 0, hi = atomic_load_explicit(&c->extra->npieces, memory_order_acquire);
    const compiled_piece *p = c->extra->pieces;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (offset < p[mid].start)
            hi = mid;
        else if (offset >= p[mid].end)
            lo = mid + 1;
        else
            return &p[mid];
    }
    return NULL;
}

static uint32_t trap_in(const compiled_trap *traps, uint32_t n, uint32_t offset)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t at = traps[mid].offset;
        if (at == offset)
            return traps[mid].code;
        if (at < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint32_t compiled_trap_at(const compiled_code *c, uint32_t offset)
{
    if (offset < c->code_size)
        return trap_in(c->traps, c->ntraps, offset);
    const compiled_piece *p = piece_at(c, offset);
    return p ? trap_in(p->traps, p->ntraps, offset) : 0;
}

/* How many of the n ascending offsets are <= key. */
static uint32_t starts_at_most(const uint32_t *starts, uint32_t n, uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* How many of the n address-map entries (ascending native) are <= key. */
static uint32_t addrs_at_most(const compiled_addr *addrs, uint32_t n, uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (addrs[mid].native <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t compiled_frames(const compiled_code *c, uint32_t offset, compiled_frame *frames,
                         uint32_t max)
{
    const compiled_addr *addrs = c->addrs;
    const compiled_inline *inlines = c->inlines;
    uint32_t naddrs = c->naddrs, ninlines = c->ninlines, start, func;
    if (offset < c->code_size) {
        uint32_t i = starts_at_most(c->func_starts, c->nfuncs, offset);
        if (i == 0)
            return 0; /* before the first function: the trap thunk or padding */
        start = c->func_starts[i - 1];
        func = c->first_func + (i - 1);
    } else {
        const compiled_piece *p = piece_at(c, offset);
        if (!p)
            return 0;
        start = p->start;
        func = p->func;
        addrs = p->addrs;
        naddrs = p->naddrs;
        inlines = p->inlines;
        ninlines = p->ninlines;
    }
    /* The last address-map entry at or before offset, if it is in this
     * function: a trap site or a call's last byte (return address - 1)
     * maps exactly; anything between them gets the instruction before. */
    uint32_t j = addrs_at_most(addrs, naddrs, offset);
    uint32_t wasm = j > 0 && addrs[j - 1].native >= start ? addrs[j - 1].wasm : 0;
    if (wasm == COMPILED_NO_FRAME)
        return 0;
    uint32_t n = 0;
    /* inlined code: the inlined functions' frames, then their callers' */
    while (ninlines && (wasm & COMPILED_INLINED)) {
        const compiled_inline *in = &inlines[wasm & ~COMPILED_INLINED];
        if (n < max)
            frames[n] = (compiled_frame){in->func, in->wasm};
        n++;
        wasm = in->call;
    }
    if (n < max)
        frames[n] = (compiled_frame){func, wasm};
    return n + 1;
}
