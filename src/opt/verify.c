/* The IR's invariants (ir_verify), checked after building and after every
 * pass in tests and debug builds. */
#include <stdlib.h>

#include "ir.h"

static uint32_t succ_arity(uint16_t op)
{
    switch (op) {
    case WASM_OP_BR: return 1;
    case WASM_OP_BR_IF: return 2;
    default: return 0; /* return, unreachable; br_table: any but 0 */
    }
}

static uint32_t count(const uint32_t *v, uint32_t n, uint32_t x)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += v[i] == x;
    return k;
}

/* The block structure: lists, phis first, terminators and edges. */
static const char *check_blocks(ir_func *f, const ir_dom *d, uint32_t *seq)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        const ir_block *blk = &f->blocks[b];
        bool reachable = d->order[b] != UINT32_MAX;
        uint32_t k = 0;
        bool body = false;
        for (ir_ref r = blk->first, prev = 0; r; prev = r, r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            if (r >= f->ninsts || in->block != b || in->prev != prev || (in->flags & IR_DEAD))
                return "a block's instruction list is broken";
            if (in->op == IR_PHI && body)
                return "a phi after a block's first other instruction";
            if (in->op == IR_PHI && in->nargs != blk->npreds)
                return "a phi's operands do not match its block's predecessors";
            if (ir_is_terminator(in->op) && in->next)
                return "a terminator before a block's end";
            body |= in->op != IR_PHI;
            seq[r] = ++k;
        }
        if (!blk->first) {
            if (reachable && b != 0)
                return "a reachable block without a terminator";
            continue;
        }
        const ir_inst *t = ir_at(f, blk->last);
        if (!ir_is_terminator(t->op))
            return "a block without a terminator";
        uint32_t want = succ_arity(t->op);
        if (t->op == WASM_OP_BR_TABLE ? blk->nsuccs == 0 : blk->nsuccs != want)
            return "a terminator's successors do not match it";
        for (uint32_t i = 0; i < blk->nsuccs; i++) {
            uint32_t s = blk->succs[i];
            if (s >= f->nblocks)
                return "a successor out of range";
            const ir_block *sb = &f->blocks[s];
            if (count(blk->succs, blk->nsuccs, s) != count(sb->preds, sb->npreds, b))
                return "edges disagree between successors and predecessors";
        }
        for (uint32_t i = 0; i < blk->npreds; i++) {
            const ir_block *pb = &f->blocks[blk->preds[i]];
            if (count(pb->succs, pb->nsuccs, b) == 0)
                return "a predecessor without the edge";
        }
    }
    return NULL;
}

/* Every operand is a live instruction whose definition dominates the use
 * (for a phi, the end of the matching predecessor). */
static const char *check_operands(ir_func *f, const ir_dom *d, const uint32_t *seq)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        if (d->order[b] == UINT32_MAX)
            continue;
        const ir_block *blk = &f->blocks[b];
        for (ir_ref r = blk->first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            for (uint32_t i = 0; i < in->nargs; i++) {
                ir_ref a = in->args[i];
                if (a == 0 || a >= f->ninsts || (ir_at(f, a)->flags & IR_DEAD))
                    return "an operand that is no live instruction";
                const ir_inst *def = ir_at(f, a);
                if (in->op == IR_RESULT) {
                    /* right after its call or the projection before */
                    const ir_inst *prev = ir_at(f, in->prev);
                    if ((def->op != WASM_OP_CALL && def->op != WASM_OP_CALL_INDIRECT) || !in->prev ||
                        (in->prev != a && (prev->op != IR_RESULT || prev->args[0] != a)))
                        return "a projection not right after its call";
                } else if (def->type == 0) {
                    return "an operand that has no value";
                }
                uint32_t at = in->op == IR_PHI ? blk->preds[i] : b;
                if (def->block == at && in->op != IR_PHI ? seq[a] >= seq[r]
                                                         : !ir_dominates(d, def->block, at))
                    return "a use not dominated by its definition";
            }
        }
    }
    return NULL;
}

const char *ir_verify(ir_func *f)
{
    ir_dom d;
    if (!ir_dominators(f, &d))
        return "out of memory";
    uint32_t *seq = calloc(f->ninsts ? f->ninsts : 1, sizeof *seq);
    const char *why = seq ? check_blocks(f, &d, seq) : "out of memory";
    if (!why)
        why = check_operands(f, &d, seq);
    free(seq);
    ir_dom_free(&d);
    return why;
}
