/* The block order of code (backend.h): critical edges into blocks with
 * phis get a block of their own, where the phis' moves go; then a
 * reverse postorder whose depth-first walk takes a block's last successor
 * first, so that a branch's first successor (a loop's back edge, an if's
 * then arm) follows its block; then each loop's blocks are brought
 * together, in that order, at its header's place. Reverse postorder alone
 * can put a loop's header and its back edge far apart, with the code of
 * outer loops between: the values live around the loop would then hold
 * their registers (or be spilled) across all that code (live.c keeps one
 * interval per value). */
#include "backend.h"

static bool has_phis(ir_func *f, uint32_t b)
{
    ir_ref r = f->blocks[b].first;
    return r && ir_at(f, r)->op == IR_PHI;
}

static bool split_critical_edges(backend *be)
{
    ir_func *f = be->ir;
    uint32_t n = f->nblocks;
    for (uint32_t b = 0; b < n; b++) {
        if (f->blocks[b].nsuccs < 2)
            continue;
        for (uint32_t i = 0; i < f->blocks[b].nsuccs; i++) {
            uint32_t s = f->blocks[b].succs[i];
            if (f->blocks[s].npreds < 2 || !has_phis(f, s))
                continue;
            /* The k-th edge b -> s is the k-th time b appears in s's
             * predecessors: both lists were filled in the same order. */
            uint32_t k = 0;
            for (uint32_t j = 0; j < i; j++)
                k += f->blocks[b].succs[j] == s;
            uint32_t mid = ir_new_block(f, f->blocks[s].wasm);
            if (mid == UINT32_MAX || !ir_add_pred(f, mid, b) ||
                !ir_append(f, mid, WASM_OP_BR, 0, 0, NULL, 0))
                return be_fail(be, "out of memory");
            ir_block *m = &f->blocks[mid];
            m->succs = wasm_arena_alloc(&f->arena, 1, sizeof *m->succs);
            if (!m->succs)
                return be_fail(be, "out of memory");
            m->succs[0] = s;
            m->nsuccs = 1;
            m->sealed = true;
            f->blocks[b].succs[i] = mid;
            ir_block *sb = &f->blocks[s];
            for (uint32_t j = 0; j < sb->npreds; j++)
                if (sb->preds[j] == b && k-- == 0) {
                    sb->preds[j] = mid;
                    break;
                }
        }
    }
    return true;
}

/* A block with phis has more than one predecessor only where each of
 * them has no other successor, so a block's place is one number: what
 * the liveness and the phis' moves look up, for every edge, without a
 * walk through a join's predecessors. */
static bool place_preds(backend *be)
{
    ir_func *f = be->ir;
    be->pred_at = be_alloc(be, f->nblocks, sizeof *be->pred_at);
    if (!be->pred_at)
        return be_fail(be, "out of memory");
    for (uint32_t s = 0; s < f->nblocks; s++)
        for (uint32_t k = 0; has_phis(f, s) && k < f->blocks[s].npreds; k++)
            be->pred_at[f->blocks[s].preds[k]] = k;
    return true;
}

/* The innermost loop of each block in the order (loop_of: its header, or
 * n outside every loop) and each loop's enclosing one (parent, per header):
 * a loop is its header and the blocks that reach one of its back edges'
 * sources without passing it; the headers are taken outermost first, so
 * that an inner loop's blocks end marked with it. A loop that can be
 * entered elsewhere than at its header (a block of it comes before the
 * header: jump threading makes such loops of state machines) is left out,
 * its blocks where they were. index: each block's place in the order;
 * work (n) and took (2n) scratch. */
static void find_loops(const ir_func *f, const uint32_t *order, uint32_t norder,
                       const uint32_t *index, uint32_t *loop_of, uint32_t *parent,
                       uint32_t *work, uint32_t *took)
{
    uint32_t n = f->nblocks;
    for (uint32_t b = 0; b < n; b++)
        loop_of[b] = n;
    for (uint32_t i = 0; i < norder; i++) {
        uint32_t h = order[i], nwork = 0, ntook = 0;
        const ir_block *hb = &f->blocks[h];
        if (!hb->loop_header)
            continue;
        parent[h] = loop_of[h];
        loop_of[h] = h;
        /* took[] keeps each block taken with the loop it had, to undo */
        for (uint32_t p = 0; p < hb->npreds; p++) {
            uint32_t s = hb->preds[p]; /* back edges' sources come after h */
            if (index[s] != UINT32_MAX && index[s] > i && loop_of[s] != h) {
                took[ntook++] = s, took[ntook++] = loop_of[s];
                loop_of[s] = h, work[nwork++] = s;
            }
        }
        bool natural = true;
        while (nwork && natural) {
            const ir_block *blk = &f->blocks[work[--nwork]];
            for (uint32_t p = 0; p < blk->npreds && natural; p++) {
                uint32_t q = blk->preds[p];
                if (index[q] == UINT32_MAX || loop_of[q] == h)
                    continue;
                natural = index[q] > i;
                took[ntook++] = q, took[ntook++] = loop_of[q];
                loop_of[q] = h, work[nwork++] = q;
            }
        }
        if (natural)
            continue;
        loop_of[h] = parent[h];
        for (; ntook; ntook -= 2)
            loop_of[took[ntook - 2]] = took[ntook - 1];
    }
}

/* Reorders the reverse postorder `order` so that each loop's blocks are
 * together, in the order they had, at its header's place: per loop (and
 * the function, region n), the list of its own blocks and of its inner
 * loops' headers, then a walk that enters a loop where its header comes. */
static bool group_loops(backend *be, uint32_t *order, uint32_t norder)
{
    const ir_func *f = be->ir;
    uint32_t n = f->nblocks, h = 0;
    while (h < n && !f->blocks[h].loop_header)
        h++;
    if (h == n) /* no loop: nothing to group */
        return true;
    uint32_t *index = be_alloc_raw(be, n, sizeof *index);
    uint32_t *loop_of = be_alloc_raw(be, n, sizeof *loop_of);
    uint32_t *parent = be_alloc_raw(be, n, sizeof *parent);
    uint32_t *work = be_alloc_raw(be, (size_t)n + 1, sizeof *work);
    uint32_t *first = be_alloc_raw(be, (size_t)n + 1, sizeof *first);
    uint32_t *last = be_alloc_raw(be, (size_t)n + 1, sizeof *last);
    uint32_t *link = be_alloc_raw(be, n, sizeof *link);
    uint32_t *took = be_alloc_raw(be, 2 * (size_t)n, sizeof *took);
    if (!index || !loop_of || !parent || !work || !first || !last || !link || !took)
        return false;
    for (uint32_t b = 0; b < n; b++)
        index[b] = UINT32_MAX;
    for (uint32_t i = 0; i < norder; i++)
        index[order[i]] = i;
    find_loops(f, order, norder, index, loop_of, parent, work, took);
    /* each region's list: its blocks, and its inner loops' headers */
    for (uint32_t r = 0; r <= n; r++)
        first[r] = last[r] = UINT32_MAX;
    for (uint32_t i = 0; i < norder; i++) {
        uint32_t b = order[i];
        uint32_t r = loop_of[b] == b ? parent[b] : loop_of[b];
        link[b] = UINT32_MAX;
        if (first[r] == UINT32_MAX)
            first[r] = b;
        else
            link[last[r]] = b;
        last[r] = b;
    }
    /* the walk: work[] holds the next list item of each region entered */
    uint32_t k = 0, depth = 0;
    work[depth++] = first[n];
    while (depth) {
        uint32_t b = work[depth - 1];
        if (b == UINT32_MAX) {
            depth--;
            continue;
        }
        work[depth - 1] = link[b];
        order[k++] = b;
        if (loop_of[b] == b) /* a loop's header: its blocks next */
            work[depth++] = first[b];
    }
    return true;
}

bool order_blocks(backend *be)
{
    if (!split_critical_edges(be) || !place_preds(be))
        return false;
    ir_func *f = be->ir;
    uint32_t n = f->nblocks;
    be->order = be_alloc_raw(be, n, sizeof *be->order);
    uint32_t *stack = be_alloc_raw(be, n, sizeof *stack), *next = be_alloc(be, n, sizeof *next);
    bool *seen = be_alloc(be, n, sizeof *seen);
    bool ok = be->order && stack && next && seen;
    if (ok) {
        uint32_t sp = 0, post = n;
        stack[sp++] = 0;
        seen[0] = true;
        while (sp) {
            uint32_t b = stack[sp - 1];
            const ir_block *blk = &f->blocks[b];
            if (next[b] < blk->nsuccs) {
                uint32_t s = blk->succs[blk->nsuccs - 1 - next[b]++];
                if (!seen[s]) {
                    seen[s] = true;
                    stack[sp++] = s;
                }
                continue;
            }
            be->order[--post] = b;
            sp--;
        }
        be->norder = n - post;
        for (uint32_t i = 0; i < be->norder; i++)
            be->order[i] = be->order[post + i];
        ok = group_loops(be, be->order, be->norder);
    }
    return ok || be_fail(be, "out of memory");
}
