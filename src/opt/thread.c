/*
 * Jump threading. A branch (br_if, br_table) on a phi whose operand on
 * some edge is a constant goes the same way every time control comes
 * along that edge: the blocks from the edge to the branch are copied for
 * it, and the copy of the branch becomes a jump to where the constant
 * leads. A state machine written as a switch in a loop (the state a phi of
 * the loop, each case setting the next state) becomes direct jumps from
 * state to state, as gcc makes of it, instead of an indirect jump per
 * step that the processor mispredicts.
 *
 * The phi may lie a few blocks above the branch (a loop's latch, its
 * header, then the switch), through phis of phis; the whole path is
 * copied. Values defined on the path and used past it then have two
 * definitions: each such use is rewritten to the one that reaches it,
 * with phis where both do (Braun et al.'s lookup over predecessors).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

enum {
    PATH_BLOCKS = 6,         /* the longest path copied */
    PATH_INSTS = 64,         /* the most instructions a path may hold */
    MAX_BLOCKS = 4096,       /* larger functions are left alone */
    MAX_PATHS = 256,         /* the most paths copied in a function */
    MAX_WORK = 1 << 18,      /* paths times instructions */
    SEARCH_STEPS = 64,       /* phis looked at in the search for one path */
};

typedef struct path {
    uint32_t blocks[PATH_BLOCKS]; /* from the entered block to the branch's */
    uint32_t n;
    uint32_t from, k;  /* the edges entering: from is blocks[0]'s k-th predecessor */
    uint32_t insts;    /* instructions on the path */
    uint32_t steps;    /* what the search for it may still look at */
    uint64_t value;    /* the condition's value along it */
} path;

typedef struct threader {
    ir_func *f;
    path p;
    uint32_t n0;       /* instructions before this path's copy */
    ir_ref *copy;      /* per original value on the path: its value in the copy */
    uint8_t *on;       /* per original value: 1 + its path block, 0 when off the path */
    /* copy and on are kept from path to path (zero but for the path's
     * values, which `marked` lists to clear them after) */
    uint32_t copy_cap, on_cap;
    ir_ref *marked;
    uint32_t nmarked, marked_cap;
    uint32_t copies[PATH_BLOCKS];
    uint32_t *origin;  /* per block: the block it copies (itself when original) */
    uint32_t *size;    /* per block: its instructions but phis, UINT32_MAX until counted */
    uint32_t origin_cap, size_cap;
    /* the lookup's memo per block for the value being rewritten */
    uint32_t *stamp, now;
    bool *reached;     /* per block: reachable from the entry */
    ir_ref *memo;
    ir_ref *buf;       /* operands being copied */
    uint32_t buf_cap;
    bool oom;
} threader;

static uint32_t ninsts(ir_func *f, uint32_t b)
{
    uint32_t n = 0;
    for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
        n += ir_at(f, r)->op != IR_PHI;
    return n;
}

static uint32_t count_edges(ir_func *f, uint32_t from, uint32_t to)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->blocks[from].nsuccs; i++)
        n += f->blocks[from].succs[i] == to;
    return n;
}

static bool on_path(const path *p, uint32_t b)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->blocks[i] == b)
            return true;
    return false;
}

/* Whether phi v takes constant a on every edge from block `from` (a
 * br_table may have several): they all go to the copy. */
static bool same_constant(ir_func *f, ir_ref v, uint32_t from, ir_ref a)
{
    const ir_inst *in = ir_at(f, v);
    if (ir_at(f, a)->op != WASM_OP_I32_CONST)
        return false;
    if (count_edges(f, from, in->block) == 1)
        return true;
    for (uint32_t k = 0; k < in->nargs; k++)
        if (f->blocks[in->block].preds[k] == from && in->args[k] != a)
            return false;
    return true;
}

/* Block b's instructions but phis, counted the first time asked. */
static uint32_t size_of_block(threader *t, uint32_t b)
{
    if (t->size[b] == UINT32_MAX)
        t->size[b] = ninsts(t->f, b);
    return t->size[b];
}

/* Whether block `from` is a copy of a block of p: threading p from it
 * would unroll the loop the copy is in, again and again. */
static bool copies_path(const threader *t, uint32_t from)
{
    for (uint32_t i = 0; i < t->p.n; i++)
        if (t->origin[from] == t->origin[t->p.blocks[i]])
            return true;
    return false;
}

/* Whether the path may grow by `from`, a predecessor of its first block. */
static bool extend(threader *t, uint32_t from)
{
    ir_func *f = t->f;
    path *p = &t->p;
    const ir_inst *last = f->blocks[from].last ? ir_at(f, f->blocks[from].last) : NULL;
    if (p->n == PATH_BLOCKS || !last || (last->op != WASM_OP_BR && last->op != WASM_OP_BR_IF) ||
        p->insts + size_of_block(t, from) > PATH_INSTS)
        return false;
    memmove(p->blocks + 1, p->blocks, p->n * sizeof *p->blocks);
    p->blocks[0] = from;
    p->n++, p->insts += t->size[from];
    return true;
}

static void shrink(threader *t)
{
    path *p = &t->p;
    p->insts -= t->size[p->blocks[0]];
    p->n--;
    memmove(p->blocks, p->blocks + 1, p->n * sizeof *p->blocks);
}

/* Extends the path (whose first block is entered) backwards until an edge
 * gives v, the condition's value in the path's first block, a constant:
 * through the block's phi v, or through its one predecessor when v is
 * defined above. */
static bool find(threader *t, ir_ref v)
{
    ir_func *f = t->f;
    path *p = &t->p;
    uint32_t x = p->blocks[0];
    const ir_inst *in = ir_at(f, v);
    if (p->steps-- == 0) /* phis of phis branch out: the search is bounded */
        return false;
    if (in->block != x) {
        uint32_t from = f->blocks[x].npreds == 1 ? f->blocks[x].preds[0] : UINT32_MAX;
        if (from == UINT32_MAX || on_path(p, from) || count_edges(f, from, x) != 1 ||
            !extend(t, from))
            return false;
        if (find(t, v))
            return true;
        shrink(t);
        return false;
    }
    if (in->op != IR_PHI)
        return false;
    for (uint32_t k = 0; k < f->blocks[x].npreds; k++) {
        uint32_t from = f->blocks[x].preds[k];
        ir_ref a = ir_at(f, v)->args[k];
        if (on_path(p, from))
            continue;
        if (same_constant(f, v, from, a) && !copies_path(t, from)) {
            p->from = from, p->k = k, p->value = ir_at(f, a)->imm;
            return true;
        }
        if (count_edges(f, from, x) != 1 || !extend(t, from))
            continue;
        if (find(t, a))
            return true;
        shrink(t);
    }
    return false;
}

/* Removes the k-th predecessor of block b, with its phi operands. */
static void remove_pred(ir_func *f, uint32_t b, uint32_t k)
{
    ir_block *blk = &f->blocks[b];
    for (ir_ref r = blk->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next) {
        ir_inst *in = ir_at(f, r);
        memmove(in->args + k, in->args + k + 1, (in->nargs - k - 1) * sizeof *in->args);
        in->nargs--;
    }
    memmove(blk->preds + k, blk->preds + k + 1, (blk->npreds - k - 1) * sizeof *blk->preds);
    blk->npreds--;
}

/* An original value as the copy sees it so far. */
static ir_ref mapped(threader *t, ir_ref v)
{
    return v < t->n0 && t->copy[v] ? t->copy[v] : v;
}

/* The edge copy -> s, for the original edge orig -> s: s's phis take what
 * they took from orig, as the copy has it. */
static bool add_edge(threader *t, uint32_t copy, uint32_t orig, uint32_t s)
{
    ir_func *f = t->f;
    uint32_t k = ir_pred_index(f, s, orig);
    if (!ir_add_pred(f, s, copy))
        return false;
    for (ir_ref r = f->blocks[s].first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
        if (!ir_add_arg(f, r, mapped(t, ir_at(f, r)->args[k])))
            return false;
    return true;
}

static uint32_t *new_succs(ir_func *f, uint32_t n)
{
    return wasm_arena_alloc(&f->arena, n, sizeof(uint32_t));
}

/* Copies path block i into t->copies[i]. */
static bool copy_block(threader *t, uint32_t i)
{
    ir_func *f = t->f;
    const path *p = &t->p;
    uint32_t x = p->blocks[i], c = t->copies[i];
    uint32_t k = i == 0 ? p->k : ir_pred_index(f, x, p->blocks[i - 1]);
    for (ir_ref r = f->blocks[x].first; r; r = ir_at(f, r)->next) {
        uint16_t op = ir_at(f, r)->op;
        if (op == IR_PHI) { /* one way in: the value along it */
            ir_ref a = ir_at(f, r)->args[k];
            if (a < t->n0 && t->on[a] && !t->copy[a]) {
                /* defined on the path further on (a loop's back edge):
                 * its value here is repaired like any other use */
                ir_ref n = ir_append(f, c, IR_PHI, ir_at(f, r)->type, 1, &a, 0);
                if (!n)
                    return false;
                ir_at(f, n)->wasm = ir_at(f, r)->wasm;
                a = n;
            }
            t->copy[r] = mapped(t, a);
            continue;
        }
        if (ir_is_terminator(op) && i == p->n - 1)
            break; /* the branch: a jump, below */
        uint32_t nargs = ir_at(f, r)->nargs;
        if (nargs > t->buf_cap) {
            ir_ref *b = realloc(t->buf, nargs * sizeof *b);
            if (!b)
                return false;
            t->buf = b, t->buf_cap = nargs;
        }
        for (uint32_t a = 0; a < nargs; a++)
            t->buf[a] = mapped(t, ir_at(f, r)->args[a]);
        const ir_inst o = *ir_at(f, r);
        ir_ref n = ir_append(f, c, o.op, o.type, nargs, t->buf, o.imm);
        if (!n)
            return false;
        ir_at(f, n)->wasm = o.wasm;
        ir_at(f, n)->aux = o.aux;
        ir_at(f, n)->flags |= (uint8_t)(ir_lane(&o) << IR_LANE_SHIFT);
        t->copy[r] = n;
    }
    const ir_block *xb = &f->blocks[x];
    uint32_t nsuccs = i == p->n - 1 ? 1 : xb->nsuccs;
    uint32_t *succs = new_succs(f, nsuccs);
    if (!succs)
        return false;
    if (i < p->n - 1) {
        memcpy(succs, xb->succs, nsuccs * sizeof *succs);
    } else { /* where the constant leads */
        uint64_t v = p->value;
        if (!ir_append(f, c, WASM_OP_BR, 0, 0, NULL, 0))
            return false;
        if (ir_at(f, xb->last)->op == WASM_OP_BR_IF)
            succs[0] = xb->succs[v ? 0 : 1];
        else
            succs[0] = xb->succs[(uint32_t)v < xb->nsuccs - 1 ? (uint32_t)v : xb->nsuccs - 1];
    }
    f->blocks[c].succs = succs;
    f->blocks[c].nsuccs = nsuccs;
    for (uint32_t s = 0; s < nsuccs; s++) {
        if (i < p->n - 1 && succs[s] == p->blocks[i + 1]) {
            succs[s] = t->copies[i + 1];
            if (!ir_add_pred(f, t->copies[i + 1], c))
                return false;
        } else if (!add_edge(t, c, x, succs[s])) {
            return false;
        }
    }
    return true;
}

/* The value of original v at the end of block b (for a use in b that is
 * not after v's definition: at its start). */
static ir_ref lookup(threader *t, ir_ref v, uint32_t b, bool at_end)
{
    ir_func *f = t->f;
    uint32_t i = t->on[v] - 1u;
    if (at_end && b == t->p.blocks[i])
        return v;
    if (at_end && b == t->copies[i])
        return t->copy[v];
    if (t->stamp[b] == t->now)
        return t->memo[b];
    const ir_block *blk = &f->blocks[b];
    ir_ref r;
    if (!t->reached[b] || blk->npreds == 0) {
        /* Nothing reaches it, so any value does (and the lookup stops
         * here on a loop of blocks with one predecessor each, which only
         * unreachable code forms). The entry: v's definitions dominate
         * every use, so no lookup reaches it. */
        r = v;
    } else if (blk->npreds == 1) {
        r = lookup(t, v, blk->preds[0], true);
    } else {
        r = ir_append(f, b, IR_PHI, ir_at(f, v)->type, 0, NULL, 0);
        if (!r) {
            t->oom = true;
            return v;
        }
        ir_at(f, r)->wasm = blk->wasm;
        t->stamp[b] = t->now, t->memo[b] = r;
        for (uint32_t k = 0; k < f->blocks[b].npreds; k++) {
            ir_ref a = lookup(t, v, f->blocks[b].preds[k], true);
            if (!ir_add_arg(f, r, a))
                t->oom = true;
        }
        return r;
    }
    t->stamp[b] = t->now, t->memo[b] = r;
    return r;
}

/* A use of a value defined on the path: operand a of instruction r. */
typedef struct use {
    ir_ref v, r;
    uint32_t a;
} use;

static int by_value(const void *x, const void *y)
{
    const use *a = x, *b = y;
    return (a->v > b->v) - (a->v < b->v);
}

/* Every use of a value defined on the path, outside its own block, takes
 * the definition that reaches it: the uses are gathered in one walk, then
 * rewritten value by value (the lookup's memo is per value). */
static bool repair(threader *t)
{
    ir_func *f = t->f;
    use *uses = NULL;
    uint32_t n = 0, cap = 0;
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            bool phi = ir_at(f, r)->op == IR_PHI;
            for (uint32_t a = 0; a < ir_at(f, r)->nargs; a++) {
                ir_ref v = ir_at(f, r)->args[a];
                if (v >= t->n0 || !t->on[v] || (!phi && b == t->p.blocks[t->on[v] - 1]))
                    continue;
                if (n == cap && !ir_grow((void **)&uses, &cap, sizeof *uses, n + 1)) {
                    free(uses);
                    return false;
                }
                uses[n++] = (use){v, r, a};
            }
        }
    if (n)
        qsort(uses, n, sizeof *uses, by_value);
    for (uint32_t i = 0; i < n && !t->oom; i++) {
        if (i == 0 || uses[i].v != uses[i - 1].v)
            t->now++;
        ir_ref r = uses[i].r;
        uint32_t b = ir_at(f, r)->block;
        ir_ref w = ir_at(f, r)->op == IR_PHI
                       ? lookup(t, uses[i].v, f->blocks[b].preds[uses[i].a], true)
                       : lookup(t, uses[i].v, b, false);
        ir_at(f, r)->args[uses[i].a] = w;
    }
    free(uses);
    return !t->oom;
}

/* Blocks not `seen` reachable lose their instructions and edges. */
static void detach(ir_func *f, const bool *seen)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        if (seen[b])
            continue;
        ir_block *blk = &f->blocks[b];
        for (uint32_t i = 0; i < blk->nsuccs; i++) {
            uint32_t s = blk->succs[i];
            if (seen[s])
                remove_pred(f, s, ir_pred_index(f, s, b));
        }
        while (blk->first)
            ir_remove(f, blk->first);
        blk->nsuccs = 0;
        blk->npreds = 0;
    }
}

/* Per block, whether the entry reaches it (NULL when out of memory). */
static bool *reachable(ir_func *f)
{
    uint32_t nb = f->nblocks;
    bool *seen = calloc(nb, sizeof *seen);
    uint32_t *stack = malloc(nb * sizeof *stack);
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return NULL;
    }
    uint32_t sp = 0;
    stack[sp++] = 0;
    seen[0] = true;
    while (sp) {
        const ir_block *blk = &f->blocks[stack[--sp]];
        for (uint32_t i = 0; i < blk->nsuccs; i++)
            if (!seen[blk->succs[i]])
                seen[blk->succs[i]] = true, stack[sp++] = blk->succs[i];
    }
    free(stack);
    return seen;
}

/* copy and on zero again for the next path. */
static void unmark(threader *t)
{
    for (uint32_t i = 0; i < t->nmarked; i++)
        t->copy[t->marked[i]] = 0, t->on[t->marked[i]] = 0;
    t->nmarked = 0;
}

static bool thread_path(threader *t)
{
    ir_func *f = t->f;
    path *p = &t->p;
    t->n0 = f->ninsts;
    if (!ir_grow((void **)&t->copy, &t->copy_cap, sizeof *t->copy, t->n0) ||
        !ir_grow((void **)&t->on, &t->on_cap, sizeof *t->on, t->n0))
        return false;
    for (uint32_t i = 0; i < p->n; i++) {
        for (ir_ref r = f->blocks[p->blocks[i]].first; r; r = ir_at(f, r)->next) {
            if (t->nmarked == t->marked_cap &&
                !ir_grow((void **)&t->marked, &t->marked_cap, sizeof *t->marked, t->nmarked + 1))
                goto fail;
            t->marked[t->nmarked++] = r;
            t->on[r] = (uint8_t)(i + 1);
        }
        t->copies[i] = ir_new_block(f, f->blocks[p->blocks[i]].wasm);
        if (t->copies[i] == UINT32_MAX ||
            !ir_grow((void **)&t->origin, &t->origin_cap, sizeof *t->origin, f->nblocks) ||
            !ir_grow((void **)&t->size, &t->size_cap, sizeof *t->size, f->nblocks))
            goto fail;
        t->origin[t->copies[i]] = t->origin[p->blocks[i]];
        t->size[t->copies[i]] = size_of_block(t, p->blocks[i]);
        f->blocks[t->copies[i]].sealed = true;
    }
    uint32_t nb = f->nblocks;
    uint32_t *stamp = realloc(t->stamp, 2 * (size_t)nb * sizeof *stamp);
    if (!stamp)
        goto fail;
    t->stamp = stamp;
    t->memo = stamp + nb;
    memset(stamp, 0, nb * sizeof *stamp);
    t->now = 0;
    /* the entering edges go to the copy */
    uint32_t x0 = p->blocks[0];
    for (uint32_t e = count_edges(f, p->from, x0); e; e--)
        if (!ir_add_pred(f, t->copies[0], p->from))
            goto fail;
    for (uint32_t i = 0; i < p->n; i++)
        if (!copy_block(t, i))
            goto fail;
    ir_block *from = &f->blocks[p->from];
    for (uint32_t s = 0; s < from->nsuccs; s++)
        if (from->succs[s] == x0)
            from->succs[s] = t->copies[0];
    for (uint32_t k = f->blocks[x0].npreds; k-- > 0;)
        if (f->blocks[x0].preds[k] == p->from)
            remove_pred(f, x0, k);
    t->reached = reachable(f);
    bool ok = t->reached && repair(t);
    if (ok)
        detach(f, t->reached); /* repair added no edge */
    free(t->reached);
    unmark(t);
    return ok;
fail:
    unmark(t);
    return false;
}

/* Phis whose operands are one value (or the phi itself) become that
 * value, to a fixed point. */
static bool remove_trivial_phis(ir_func *f)
{
    ir_ref *repl = calloc(f->ninsts, sizeof *repl);
    if (!repl)
        return false;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t b = 0; b < f->nblocks; b++)
            for (ir_ref r = f->blocks[b].first; r && ir_at(f, r)->op == IR_PHI;
                 r = ir_at(f, r)->next) {
                if (repl[r])
                    continue;
                ir_ref same = 0;
                bool trivial = true;
                for (uint32_t k = 0; k < ir_at(f, r)->nargs && trivial; k++) {
                    ir_ref a = opt_resolve(repl, ir_at(f, r)->args[k]);
                    if (a == r || a == same)
                        continue;
                    trivial = !same;
                    same = a;
                }
                if (trivial && same) {
                    repl[r] = same;
                    changed = true;
                }
            }
    }
    opt_replace_uses(f, repl);
    free(repl);
    return true;
}

void opt_mark_loops(ir_func *f, const ir_dom *d)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        ir_block *blk = &f->blocks[b];
        blk->loop_header = false;
        for (uint32_t k = 0; k < blk->npreds && d->order[b] != UINT32_MAX; k++)
            blk->loop_header |= ir_dominates(d, b, blk->preds[k]);
    }
}

/* Whether some phi takes an i32 constant: what every path threads on
 * (find(), same_constant()). */
static bool constant_phis(ir_func *f)
{
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
            for (uint32_t k = 0; k < ir_at(f, r)->nargs; k++)
                if (ir_at(f, ir_at(f, r)->args[k])->op == WASM_OP_I32_CONST)
                    return true;
    return false;
}

bool opt_thread(ir_func *f, bool *changed)
{
    *changed = false;
    if (f->nblocks > MAX_BLOCKS || !constant_phis(f))
        return true;
    threader t = {.f = f};
    uint32_t budget = f->ninsts / 2 + 256, nb = f->nblocks, paths = 0;
    /* each path costs a walk over the function: their number is bounded
     * so that a large function stays linear */
    uint32_t max_paths = MAX_WORK / (f->ninsts + 1) < MAX_PATHS ? MAX_WORK / (f->ninsts + 1)
                                                                : MAX_PATHS;
    bool ok = ir_grow((void **)&t.origin, &t.origin_cap, sizeof *t.origin, nb) &&
              ir_grow((void **)&t.size, &t.size_cap, sizeof *t.size, nb);
    for (uint32_t b = 0; ok && b < nb; b++)
        t.origin[b] = b, t.size[b] = UINT32_MAX; /* counted when asked */
    for (uint32_t b = 0; ok && b < nb; b++) {
        while (ok) {
            ir_ref last = f->blocks[b].last;
            if (!last || (ir_at(f, last)->op != WASM_OP_BR_IF && ir_at(f, last)->op != WASM_OP_BR_TABLE))
                break;
            t.p = (path){.blocks = {b}, .n = 1, .insts = size_of_block(&t, b),
                         .steps = SEARCH_STEPS};
            if (paths == max_paths || !find(&t, ir_at(f, last)->args[0]) ||
                t.p.insts > budget)
                break;
            paths++;
            budget -= t.p.insts;
            ok = thread_path(&t);
            *changed = true;
        }
    }
    free(t.copy);
    free(t.on);
    free(t.marked);
    free(t.stamp);
    free(t.buf);
    free(t.origin);
    free(t.size);
    return ok && (!*changed || remove_trivial_phis(f));
}

bool opt_fold_branches(ir_func *f)
{
    bool folded = false;
    for (uint32_t b = 0; b < f->nblocks; b++) {
        ir_block *blk = &f->blocks[b];
        ir_inst *in = blk->last ? ir_at(f, blk->last) : NULL;
        if (!in || (in->op != WASM_OP_BR_IF && in->op != WASM_OP_BR_TABLE) ||
            ir_at(f, in->args[0])->op != WASM_OP_I32_CONST)
            continue;
        uint32_t v = (uint32_t)ir_at(f, in->args[0])->imm, last = blk->nsuccs - 1;
        uint32_t target = blk->succs[in->op == WASM_OP_BR_IF ? (v ? 0 : 1) : v < last ? v : last];
        /* every other edge goes; a br_table's edges from one block carry
         * the same phi operands, so which of them stays does not matter */
        bool kept = false;
        for (uint32_t i = 0; i < blk->nsuccs; i++) {
            uint32_t s = blk->succs[i];
            if (s == target && !kept)
                kept = true;
            else
                remove_pred(f, s, ir_pred_index(f, s, b));
        }
        in->op = WASM_OP_BR;
        in->nargs = 0;
        blk->succs[0] = target;
        blk->nsuccs = 1;
        folded = true;
    }
    if (!folded)
        return true;
    bool *seen = reachable(f);
    if (seen)
        detach(f, seen);
    free(seen);
    ir_dom d;
    if (!seen || !remove_trivial_phis(f) || !ir_dominators(f, &d))
        return false;
    opt_mark_loops(f, &d);
    ir_dom_free(&d);
    return true;
}
