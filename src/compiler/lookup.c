/*
 * Lookups in a compiled module's tables, for trap recording (in the signal
 * handler too) and for backtraces: binary searches over sorted arrays,
 * async-signal-safe.
 */
#include "compiler.h"

uint32_t compiled_trap_at(const compiled_code *c, uint32_t offset)
{
    uint32_t lo = 0, hi = c->ntraps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t at = c->traps[mid].offset;
        if (at == offset)
            return c->traps[mid].code;
        if (at < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
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

bool compiled_locate(const compiled_code *c, uint32_t offset, uint32_t *func,
                     uint32_t *wasm_offset)
{
    if (offset >= c->code_size)
        return false;
    uint32_t i = starts_at_most(c->func_starts, c->nfuncs, offset);
    if (i == 0)
        return false; /* before the first function: the trap thunk or padding */
    uint32_t start = c->func_starts[i - 1];
    *func = c->first_func + (i - 1);

    /* The last address-map entry at or before offset, if it is in this
     * function: a trap site or a call's last byte (return address - 1)
     * maps exactly; anything between them gets the instruction before. */
    uint32_t j = addrs_at_most(c->addrs, c->naddrs, offset);
    *wasm_offset = j > 0 && c->addrs[j - 1].native >= start ? c->addrs[j - 1].wasm : 0;
    return true;
}
