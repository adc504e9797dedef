/* Dominators (Cooper, Harvey and Kennedy, "A Simple, Fast Dominance
 * Algorithm"): the immediate dominator of every block reachable from the
 * entry, over a reverse postorder. */
#include <stdlib.h>

#include "ir.h"

bool ir_dominators(ir_func *f, ir_dom *d)
{
    uint32_t n = f->nblocks;
    /* rpo, order and idom in one allocation (ir_dom_free) */
    d->rpo = malloc(3 * (size_t)n * sizeof *d->rpo);
    d->order = d->rpo ? d->rpo + n : NULL;
    d->idom = d->rpo ? d->rpo + 2 * (size_t)n : NULL;
    uint32_t *stack = ir_alloc_raw(f, n, sizeof *stack), *next = ir_alloc(f, n, sizeof *next);
    bool ok = d->rpo && stack && next;
    if (ok) {
        /* postorder by an explicit DFS: next[b] is the successor to visit */
        uint32_t sp = 0, post = n;
        for (uint32_t i = 0; i < n; i++)
            d->order[i] = UINT32_MAX, d->idom[i] = UINT32_MAX;
        stack[sp++] = 0;
        d->order[0] = 0; /* visited; renumbered below */
        while (sp) {
            uint32_t b = stack[sp - 1];
            const ir_block *blk = &f->blocks[b];
            if (next[b] < blk->nsuccs) {
                uint32_t s = blk->succs[next[b]++];
                if (d->order[s] == UINT32_MAX) {
                    d->order[s] = 0;
                    stack[sp++] = s;
                }
                continue;
            }
            d->rpo[--post] = b;
            sp--;
        }
        /* the reachable blocks are rpo[post .. n): move them to the front */
        d->nrpo = n - post;
        for (uint32_t i = 0; i < d->nrpo; i++) {
            d->rpo[i] = d->rpo[post + i];
            d->order[d->rpo[i]] = i;
        }
        d->idom[0] = 0;
        /* Without back edges the first pass sees every block's
         * predecessors done: its result is final, and a second pass
         * would only confirm it. */
        bool back_edges = false;
        for (bool changed = true; changed;) {
            changed = false;
            for (uint32_t i = 1; i < d->nrpo; i++) {
                uint32_t b = d->rpo[i], new_idom = UINT32_MAX;
                const ir_block *blk = &f->blocks[b];
                for (uint32_t k = 0; k < blk->npreds; k++) {
                    uint32_t p = blk->preds[k];
                    if (d->idom[p] == UINT32_MAX) { /* unreachable or not yet processed */
                        back_edges |= d->order[p] != UINT32_MAX;
                        continue;
                    }
                    if (new_idom == UINT32_MAX) {
                        new_idom = p;
                        continue;
                    }
                    uint32_t x = p, y = new_idom;
                    while (x != y) {
                        while (d->order[x] > d->order[y])
                            x = d->idom[x];
                        while (d->order[y] > d->order[x])
                            y = d->idom[y];
                    }
                    new_idom = x;
                }
                if (d->idom[b] != new_idom) {
                    d->idom[b] = new_idom;
                    changed = true;
                }
            }
            changed &= back_edges;
        }
    }
    if (!ok)
        ir_dom_free(d);
    return ok;
}

bool ir_dominates(const ir_dom *d, uint32_t a, uint32_t b)
{
    if (d->idom[b] == UINT32_MAX || d->idom[a] == UINT32_MAX)
        return false;
    while (d->order[b] > d->order[a])
        b = d->idom[b];
    return a == b;
}

void ir_dom_free(ir_dom *d)
{
    free(d->rpo);
    d->rpo = d->order = d->idom = NULL;
}

void ir_dom_children(const ir_dom *d, uint32_t n, uint32_t *first, uint32_t *kids,
                     uint32_t *scratch)
{
    for (uint32_t i = 1; i < d->nrpo; i++)
        first[d->idom[d->rpo[i]] + 1]++;
    for (uint32_t b = 0; b < n; b++)
        first[b + 1] += first[b];
    for (uint32_t b = 0; b < n; b++)
        scratch[b] = first[b];
    for (uint32_t i = 1; i < d->nrpo; i++)
        kids[scratch[d->idom[d->rpo[i]]]++] = d->rpo[i];
}
