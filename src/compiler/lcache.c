/*
 * The write-through register cache of unpinned locals.
 *
 * local.set (and a vector's local.tee: see local_set) of a value held in a
 * register still stores it to the local's home slot, but the register is
 * kept as the local's cache: a later local.get reads the register instead
 * of loading the slot just stored (store-to-load forwarding puts ~5 cycles
 * on the critical path). The home
 * slot is always up to date, so a cache entry can be dropped at any moment
 * for free: nothing is ever spilled or written back. Cache registers stay
 * out of the allocator's pool until dropped; reg_alloc takes them back
 * first when no register is free.
 *
 * Entries are dropped where their register may be clobbered (reg_evict for
 * the fixed registers of division and shifts, calls, libcalls) and where
 * control flow merges (loop heads, else, end): code reached by a jump
 * cannot know what the registers hold. Writes to a local replace its entry.
 *
 * An operand naming a cache register (entry_rm, an index register, a SIMD
 * source) is valid until the next allocation, which may take the register
 * back: instructions take such operands after allocating their registers,
 * as the local.get of a V_LOCAL could otherwise be reading a register
 * that the instruction just wrote.
 */
#include "func.h"

/* The register caching `local` in the class (xmm or not), or -1. */
static int lcache_find(fn *f, uint32_t local, bool xmm)
{
    for (uint32_t m = f->cached; m; m &= m - 1) {
        int reg = __builtin_ctz(m);
        if (f->cache_local[reg] == local && IS_XMM(reg) == xmm) {
            f->cache_stamp[reg] = ++f->cache_clock;
            return reg;
        }
    }
    return -1;
}

void lcache_drop(fn *f, int reg)
{
    if (!(f->cached & (1u << reg)))
        return;
    f->cached &= ~(1u << reg);
    reg_free(f, reg);
}

void lcache_drop_local(fn *f, uint32_t local)
{
    for (uint32_t m = f->cached; m; m &= m - 1) {
        int reg = __builtin_ctz(m);
        if (f->cache_local[reg] == local)
            lcache_drop(f, reg);
    }
}

void lcache_clear(fn *f)
{
    f->used &= ~f->cached;
    f->cached = 0;
}

void lcache_keep(fn *f, uint32_t local, int reg)
{
    lcache_drop_local(f, local); /* one entry per local */
    f->used |= 1u << reg;
    f->cached |= 1u << reg;
    f->cache_local[reg] = local;
    f->cache_stamp[reg] = ++f->cache_clock;
}

int lcache_reclaim(fn *f, bool xmm, uint32_t avoid)
{
    int best = -1;
    for (uint32_t m = f->cached & ~avoid; m; m &= m - 1) {
        int reg = __builtin_ctz(m);
        if (IS_XMM(reg) == xmm && (best < 0 || f->cache_stamp[reg] < f->cache_stamp[best]))
            best = reg; /* the least recently used */
    }
    if (best >= 0)
        lcache_drop(f, best);
    return best;
}

int local_reg(fn *f, const ventry *e)
{
    if (f->local_reg[e->local] >= 0)
        return f->local_reg[e->local];
    /* The class may differ after a reinterpret: then the home has the bits. */
    return lcache_find(f, e->local, in_xmm(e->type));
}
