/* The block order of code (backend.h): critical edges into blocks with
 * phis get a block of their own, where the phis' moves go; then a
 * reverse postorder whose depth-first walk takes a block's last successor
 * first, so that a branch's first successor (a loop's back edge, an if's
 * then arm) follows its block. */
#include <stdlib.h>

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
    be->pred_at = calloc(f->nblocks, sizeof *be->pred_at);
    if (!be->pred_at)
        return be_fail(be, "out of memory");
    for (uint32_t s = 0; s < f->nblocks; s++)
        for (uint32_t k = 0; has_phis(f, s) && k < f->blocks[s].npreds; k++)
            be->pred_at[f->blocks[s].preds[k]] = k;
    return true;
}

bool order_blocks(backend *be)
{
    if (!split_critical_edges(be) || !place_preds(be))
        return false;
    ir_func *f = be->ir;
    uint32_t n = f->nblocks;
    be->order = malloc(n * sizeof *be->order);
    uint32_t *stack = malloc(n * sizeof *stack), *next = calloc(n, sizeof *next);
    bool *seen = calloc(n, sizeof *seen);
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
    }
    free(stack);
    free(next);
    free(seen);
    return ok || be_fail(be, "out of memory");
}
