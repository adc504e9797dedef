/* Liveness and live intervals (backend.h). Live-in sets are bitsets per
 * block, solved backwards to a fixed point, over the values that cross a
 * block boundary only (used in another block than their own, or by a
 * phi): a value used in its own block alone is never live into one, and
 * most are such, so the sets are a fraction of all values wide. A value's
 * interval runs from its definition to its last use or the end of the last
 * block (in code order) where it is live out: one range, holes included,
 * which is conservative and enough for linear scan. Constants are left
 * out: they are rematerialized where used. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* Values times blocks of the functions the analysis takes (what its sets
 * took when they were every value wide, 32 MiB; the limit stays, so that
 * the same functions stay in tier 1). */
#define LIVE_BITS_MAX ((uint64_t)1 << 28)

typedef uint64_t word;

static bool tracked(ir_func *f, ir_ref v)
{
    const ir_inst *in = ir_at(f, v);
    return in->type && !is_const_op(in->op);
}

/* The sets' members: per value, 1 + its bit, or 0 when it never crosses a
 * block boundary. */
static void set(const uint32_t *bit, word *s, ir_ref v)
{
    if (bit[v])
        s[(bit[v] - 1) / 64] |= (word)1 << ((bit[v] - 1) % 64);
}
static void clear(const uint32_t *bit, word *s, ir_ref v)
{
    if (bit[v])
        s[(bit[v] - 1) / 64] &= ~((word)1 << ((bit[v] - 1) % 64));
}

/* The values live out of block b: its successors' live-in sets without
 * their phis, and the phis' operands on the edges from b. */
static void live_out(backend *be, const uint32_t *bit, word *live_in, uint32_t words, uint32_t b,
                     word *out)
{
    ir_func *f = be->ir;
    const ir_block *blk = &f->blocks[b];
    if (!blk->nsuccs)
        memset(out, 0, words * sizeof *out);
    for (uint32_t i = 0; i < blk->nsuccs; i++) {
        uint32_t s = blk->succs[i];
        const word *in = live_in + (size_t)s * words;
        if (i == 0) /* most blocks have one successor: a copy */
            memcpy(out, in, words * sizeof *out);
        else
            for (uint32_t w = 0; w < words; w++)
                out[w] |= in[w];
        const ir_block *sb = &f->blocks[s];
        /* the phis first, then their operands: an operand may be another
         * phi of the same block (a loop's rotated values) */
        for (ir_ref r = sb->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
            clear(bit, out, r);
        uint32_t k = be->pred_at[b];
        for (ir_ref r = sb->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
            set(bit, out, ir_at(f, r)->args[k]);
    }
}

/* Per block, how many loops hold it (NULL when out of memory). A loop is
 * taken to run in code order from its header to its last back edge's
 * source: order.c keeps a natural loop's blocks together; a loop that
 * can be entered elsewhere (jump threading's) may spread, and then the
 * depth only weighs spill choices. */
static uint8_t *loop_depths(backend *be)
{
    ir_func *f = be->ir;
    uint8_t *depth = be_alloc(be, f->nblocks + 1, 1);
    uint32_t *index = be_alloc_raw(be, (size_t)f->nblocks + 1, sizeof *index);
    if (!depth || !index)
        return NULL;
    for (uint32_t b = 0; b < f->nblocks; b++)
        index[b] = UINT32_MAX; /* not in the order: unreachable */
    for (uint32_t i = 0; i < be->norder; i++)
        index[be->order[i]] = i;
    for (uint32_t i = 0; i < be->norder; i++) {
        const ir_block *h = &f->blocks[be->order[i]];
        if (!h->loop_header)
            continue;
        uint32_t last = i;
        for (uint32_t p = 0; p < h->npreds; p++)
            if (index[h->preds[p]] != UINT32_MAX && index[h->preds[p]] > last)
                last = index[h->preds[p]];
        for (uint32_t j = i; j <= last; j++)
            if (depth[be->order[j]] < UINT8_MAX)
                depth[be->order[j]]++;
    }
    return depth;
}

bool compute_intervals(backend *be)
{
    ir_func *f = be->ir;
    uint32_t nv = f->ninsts, nb = f->nblocks;
    if ((uint64_t)(nv + 63) / 64 * 64 * nb > LIVE_BITS_MAX)
        return be_fail(be, "a function too large for tier 2");
    be->pos = be_alloc(be, nv, sizeof *be->pos);
    be->block_start = be_alloc(be, nb, sizeof *be->block_start);
    be->block_end = be_alloc(be, nb, sizeof *be->block_end);
    be->start = be_alloc(be, nv, sizeof *be->start);
    be->end = be_alloc(be, nv, sizeof *be->end);
    be->uses = be_alloc(be, nv, sizeof *be->uses);
    be->weight = be_alloc(be, nv, sizeof *be->weight);
    uint32_t *bit = be_alloc(be, nv, sizeof *bit);
    ir_ref *member = be_alloc_raw(be, nv, sizeof *member); /* per bit, its value */
    uint8_t *depth = be->depth = loop_depths(be);
    bool ok = be->pos && be->block_start && be->block_end && be->start && be->end && be->uses &&
              be->weight && bit && member && depth;
    if (!ok)
        return be_fail(be, "out of memory");
    /* positions, definitions and uses; the values crossing a block
     * boundary get their bits */
    uint32_t k = 0, nbits = 0;
    for (uint32_t i = 0; i < be->norder; i++) {
        uint32_t b = be->order[i];
        uint64_t w = (uint64_t)1 << (3 * (depth[b] < 8 ? depth[b] : 8));
        be->block_start[b] = 2 * k;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            be->weight[r] += w;
            be->pos[r] = k;
            be->start[r] = in->op == IR_PHI ? 2 * be->pos[f->blocks[b].first] : 2 * k + 1;
            be->end[r] = be->start[r];
            /* a folded load's operands are read by its user, the next one */
            uint32_t at = be->folded[r] ? 2 * (k + 1) : 2 * k;
            for (uint32_t a = 0; a < in->nargs; a++) {
                ir_ref v = in->args[a];
                be->uses[v]++;
                be->weight[v] += w;
                if (in->op != IR_PHI && be->end[v] < at)
                    be->end[v] = at;
                if (!bit[v] && (in->op == IR_PHI || ir_at(f, v)->block != b) && tracked(f, v))
                    member[nbits] = v, bit[v] = ++nbits;
            }
            k++;
        }
        be->block_end[b] = 2 * k - 1;
    }
    uint32_t words = (nbits + 63) / 64;
    /* (the sets alone are freed at once: they may be large) */
    word *live_in = calloc((size_t)words * nb + 1, sizeof *live_in);
    word *cur = be_alloc_raw(be, words + 1, sizeof *cur);
    /* live-in sets, backwards to a fixed point: a worklist of blocks, last
     * in code order first; a block whose live-in set grew puts its
     * predecessors back */
    uint32_t *work = be_alloc_raw(be, (size_t)be->norder + 1, sizeof *work);
    uint8_t *queued = be_alloc(be, nb, sizeof *queued); /* 1 in the order, 2 queued too */
    if (!live_in || !cur || !work || !queued) {
        free(live_in);
        return be_fail(be, "out of memory");
    }
    uint32_t nwork = 0;
    for (uint32_t i = 0; i < be->norder; i++)
        work[nwork++] = be->order[i], queued[be->order[i]] = 2;
    for (uint32_t steps = 0; nwork; steps++) {
        if ((steps & 1023) == 0 && be_cancelled(be)) { /* a large function's longest phase */
            free(live_in);
            return be_fail(be, "cancelled");
        }
        uint32_t b = work[--nwork];
        queued[b] = 1;
        live_out(be, bit, live_in, words, b, cur);
        for (ir_ref r = f->blocks[b].last; r; r = ir_at(f, r)->prev) {
            ir_inst *in = ir_at(f, r);
            clear(bit, cur, r);
            if (in->op == IR_PHI)
                continue;
            for (uint32_t a = 0; a < in->nargs; a++)
                set(bit, cur, in->args[a]);
        }
        word *in = live_in + (size_t)b * words;
        if (!memcmp(in, cur, words * sizeof *cur))
            continue;
        memcpy(in, cur, words * sizeof *cur);
        for (uint32_t j = 0; j < f->blocks[b].npreds; j++) {
            uint32_t p = f->blocks[b].preds[j];
            if (queued[p] == 1)
                queued[p] = 2, work[nwork++] = p;
        }
    }
    /* A value live out of a block lives to its end: to that of the last
     * such block in code order, the first the walk back sees it in. */
    for (uint32_t w = 0; w < words; w++)
        cur[w] = 0;
    word *seen = cur, *out = be_alloc_raw(be, words + 1, sizeof *out);
    if (!out) {
        free(live_in);
        return be_fail(be, "out of memory");
    }
    for (uint32_t i = be->norder; i-- > 0;) {
        uint32_t b = be->order[i];
        live_out(be, bit, live_in, words, b, out);
        for (uint32_t w = 0; w < words; w++) {
            word bits = out[w] & ~seen[w];
            seen[w] |= out[w];
            for (; bits; bits &= bits - 1) {
                ir_ref v = member[w * 64 + (uint32_t)__builtin_ctzll(bits)];
                if (be->end[v] < be->block_end[b])
                    be->end[v] = be->block_end[b];
            }
        }
    }
    free(live_in);
    return true;
}
