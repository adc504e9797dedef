/*
 * wasm -> SSA (ir.h), in one pass over the body through the shared decoder.
 *
 * Locals become values by the on-the-fly construction of Braun et al.
 * ("Simple and Efficient Construction of Static Single Assignment Form",
 * CC 2013): each block records the value last written to each local; a
 * read in a block that wrote none asks its predecessors, through a phi
 * where there are several. A block whose predecessors are not all known
 * yet (a loop header until the loop's end, a block's end until its end)
 * is not sealed: reads there make incomplete phis, given their operands
 * when it is sealed. The operand stack holds values; what a branch carries
 * to a block's end becomes a phi there, and a loop's parameters are phis
 * of its header. Phis that turn out to merge a single value are not built
 * where the reads that make them see it (merge()), else removed at the
 * end.
 *
 * A direct call of a small leaf function (inline.c says which) is built
 * as the callee's body in place, like a block whose results are the
 * call's: its locals are a namespace of their own, defined in its entry
 * block (the arguments, zeros), and `return` branches to its end. The
 * caller's locals are the same after it as at the call: the block after
 * it reads them from the call's block (builder.outer). Its instructions'
 * positions are inline entries (inline.c) naming the callee's offsets and
 * the call's, and its metering is tier 1's for the call and the callee.
 *
 * An on-stack-replacement entry (ir_build_osr) is the same build with one
 * more entry: block 0 defines every local as a parameter and jumps to the
 * loop's header when the loop is reached, while the function's own entry
 * becomes a block that nothing reaches; what only it reaches goes at the
 * end, so the rest is an ordinary function.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/tier.h"
#include "ir.h"
#include "passes.h"

typedef struct incomplete {
    uint32_t local;
    ir_ref phi;
    struct incomplete *next;
} incomplete;

/* An open wasm block, loop, if or the function's own block. */
typedef struct bctl {
    uint16_t kind; /* WASM_OP_BLOCK, _LOOP, _IF, or 0 for the function */
    uint32_t height; /* of the value stack below the parameters */
    uint32_t nparams, nresults;
    const uint8_t *params, *results; /* results NULL: the one type `single` */
    uint8_t single;
    uint32_t target;     /* where branches to it go: a loop's header, else its end */
    uint32_t else_block; /* if: the false arm's block, UINT32_MAX once `else` came */
    ir_ref *vals;        /* loop: its parameters' phis; else per edge to the end, its values */
    uint32_t nvals, vals_cap;
    ir_ref *if_params;   /* if: its parameters, which the false arm starts with */
} bctl;

typedef struct builder {
    ir_func *f;
    const wasm_module *m;
    const char *why;
    uint32_t nlocals; /* parameters included */
    const uint8_t *local_types;
    ir_ref **defs;          /* per block: per local, its current value (or NULL) */
    incomplete **pending;   /* per block: incomplete phis */
    uint32_t *outer;        /* per block: 1 + the block whose locals it has, or 0 */
    uint32_t defs_cap;
    ir_ref *repl;           /* per value: the value a trivial phi stands for, or 0 */
    uint32_t repl_cap;
    bool replaced;          /* some repl entry is set */
    ir_ref *ops;            /* the operands of the phis being read, innermost last */
    uint32_t nops, ops_cap;
    uint64_t defs_left; /* entries the per-block tables may still take */
    ir_ref *stack;
    uint32_t height, stack_cap;
    bctl *ctls;
    uint32_t nctls, ctls_cap;
    uint32_t cur; /* the current block; UINT32_MAX in unreachable code */
    uint32_t pos; /* module offset of the current instruction, or its inline entry */
    bool fuel, epochs; /* metering (tier 1's, see "metering" below) */
    ir_ref run;        /* the current fuel run's IR_FUEL(_CHECK), or 0 */
    uint32_t run_cost;
    bool run_pending;  /* a run started whose charge waits for a costly instruction */
    bool osr;          /* building an OSR entry (ir_build_osr) */
    uint32_t osr_loop; /* its loop's module offset */
    bool osr_found;
    /* inlining: what callees' code may still take, in bytes; while one is
     * built, its label's control entry (DEAD otherwise), its index and the
     * call's position */
    uint64_t inline_budget;
    uint32_t inl_ctl, inl_func, inl_call;
} builder;

#define DEAD UINT32_MAX
/* Entries of the per-block tables of locals a function may take (64 MiB). */
#define DEFS_BUDGET ((uint64_t)16 << 20)

static bool fail(builder *b, const char *why)
{
    if (!b->why)
        b->why = why;
    return false;
}

static bool oom(builder *b) { return fail(b, "out of memory"); }

static bool grow(builder *b, void **v, uint32_t *cap, size_t size, uint32_t need)
{
    return need <= *cap || ir_grow(v, cap, size, need) || oom(b); /* the first, mostly */
}

/* Room in the per-block arrays for n blocks. */
static bool grow_blocks(builder *b, uint32_t n)
{
    ir_func *f = b->f;
    uint32_t cap = b->defs_cap;
    if (!grow(b, (void **)&f->blocks, &f->blocks_cap, sizeof *f->blocks, n) ||
        !grow(b, (void **)&b->defs, &cap, sizeof *b->defs, n))
        return false;
    cap = b->defs_cap;
    if (!grow(b, (void **)&b->pending, &cap, sizeof *b->pending, n))
        return false;
    cap = b->defs_cap;
    if (!grow(b, (void **)&b->outer, &cap, sizeof *b->outer, n))
        return false;
    b->defs_cap = cap;
    return true;
}

static uint32_t new_block(builder *b)
{
    if (!grow_blocks(b, b->f->nblocks + 1))
        return DEAD;
    uint32_t k = ir_new_block(b->f, b->pos);
    if (k == UINT32_MAX) {
        oom(b);
        return DEAD;
    }
    return k;
}

static ir_ref emit(builder *b, uint32_t block, uint16_t op, uint8_t type, uint32_t nargs,
                   const ir_ref *args, uint64_t imm)
{
    ir_ref r = ir_append(b->f, block, op, type, nargs, args, imm);
    if (!r)
        oom(b);
    else
        ir_at(b->f, r)->wasm = b->pos;
    return r;
}

/* Constants live in the entry block, which dominates every use. */
static ir_ref konst(builder *b, uint8_t type, uint64_t bits)
{
    uint16_t c;
    switch (type) {
    case WASM_I32: c = WASM_OP_I32_CONST; break;
    case WASM_I64: c = WASM_OP_I64_CONST; break;
    case WASM_F32: c = WASM_OP_F32_CONST; break;
    case WASM_F64: c = WASM_OP_F64_CONST; break;
    case WASM_V128: c = WASM_OP_V128_CONST; break; /* bits 0: zeros */
    default: c = WASM_OP_REF_NULL; break; /* a null reference */
    }
    return emit(b, 0, c, type, 0, NULL, bits);
}

/* ---- the value stack ---- */

static bool push(builder *b, ir_ref v)
{
    if (!v || !grow(b, (void **)&b->stack, &b->stack_cap, sizeof *b->stack, b->height + 1))
        return false;
    b->stack[b->height++] = v;
    return true;
}

static ir_ref pop(builder *b) { return b->stack[--b->height]; }

/* ---- locals (Braun et al.) ---- */

static ir_ref read_local(builder *b, uint32_t block, uint32_t local);
static ir_ref merge(builder *b, uint32_t block, uint32_t local);

static bool write_local(builder *b, uint32_t block, uint32_t local, ir_ref v)
{
    if (!b->defs[block]) {
        /* Blocks times locals can be large: past the budget the function
         * stays in tier 1. */
        if (b->defs_left < b->nlocals)
            return fail(b, "a function too large for tier 2");
        b->defs_left -= b->nlocals;
        b->defs[block] = wasm_arena_alloc(&b->f->arena, b->nlocals, sizeof **b->defs);
        if (!b->defs[block])
            return oom(b);
    }
    b->defs[block][local] = v;
    return true;
}

static bool phi_operands(builder *b, uint32_t local, ir_ref phi)
{
    ir_block *blk = &b->f->blocks[ir_at(b->f, phi)->block];
    for (uint32_t i = 0; i < blk->npreds; i++) {
        ir_ref v = read_local(b, blk->preds[i], local);
        if (!v || !ir_add_arg(b->f, phi, v))
            return oom(b);
        blk = &b->f->blocks[ir_at(b->f, phi)->block]; /* blocks may have moved */
    }
    return true;
}

static ir_ref read_local(builder *b, uint32_t block, uint32_t local)
{
    if (b->defs[block] && b->defs[block][local])
        return b->defs[block][local];
    ir_block *blk = &b->f->blocks[block];
    uint8_t type = b->local_types[local];
    ir_ref v;
    if (b->outer[block]) { /* after an inlined call: the call's block */
        v = read_local(b, b->outer[block] - 1, local);
    } else if (!blk->sealed) {
        v = emit(b, block, IR_PHI, type, 0, NULL, 0);
        incomplete *p = wasm_arena_alloc(&b->f->arena, 1, sizeof *p);
        if (!v || !p)
            return oom(b), 0;
        *p = (incomplete){local, v, b->pending[block]};
        b->pending[block] = p;
    } else if (blk->npreds == 1) {
        v = read_local(b, blk->preds[0], local);
    } else if (blk->npreds == 0) {
        v = konst(b, type, 0); /* unreachable: any value will do */
    } else {
        v = merge(b, block, local);
    }
    if (!v || !write_local(b, block, local, v))
        return 0;
    return v;
}

static ir_ref resolve(const builder *b, ir_ref v)
{
    while (v < b->repl_cap && b->repl[v])
        v = b->repl[v];
    return v;
}

/* A read in a sealed block with several predecessors: a phi of what they
 * read, recorded before they are read (loops through the block find it).
 * Most such phis are trivial (one value besides themselves, Braun et al.):
 * one is not built but stands for that value (b->repl) and leaves its ref
 * unused, so that the refs are those of building and removing it (thread.c's
 * budgets count f->ninsts). */
static ir_ref merge(builder *b, uint32_t block, uint32_t local)
{
    ir_func *f = b->f;
    ir_ref phi = ir_append_removed(f, block, IR_PHI, b->local_types[local]);
    if (!phi)
        return oom(b), 0;
    ir_at(f, phi)->wasm = b->pos;
    if (!write_local(b, block, local, phi))
        return 0;
    uint32_t first = b->nops, n = f->blocks[block].npreds;
    if (!grow(b, (void **)&b->ops, &b->ops_cap, sizeof *b->ops, first + n))
        return 0;
    b->nops += n;
    for (uint32_t i = 0; i < n; i++) {
        ir_ref v = read_local(b, f->blocks[block].preds[i], local);
        if (!v)
            return 0;
        b->ops[first + i] = v;
    }
    b->nops = first;
    /* as long as the instructions' array: copied as rarely */
    if (!grow(b, (void **)&b->repl, &b->repl_cap, sizeof *b->repl, f->insts_cap))
        return 0;
    ir_ref same = 0;
    for (uint32_t i = 0; i < n; i++) {
        ir_ref v = resolve(b, b->ops[first + i]);
        if (v == phi || v == same)
            continue;
        if (same) /* a phi it is */
            return ir_revive(f, phi, n, b->ops + first) ? phi : (oom(b), 0);
        same = v;
    }
    if (!same) /* only itself: it stays, as removing trivial phis leaves it */
        return ir_revive(f, phi, n, b->ops + first) ? phi : (oom(b), 0);
    b->repl[phi] = same;
    b->replaced = true;
    return same;
}

static bool seal(builder *b, uint32_t block)
{
    b->f->blocks[block].sealed = true;
    for (incomplete *p = b->pending[block]; p; p = p->next)
        if (!phi_operands(b, p->local, p->phi))
            return false;
    b->pending[block] = NULL;
    return true;
}

/* ---- metering ----
 *
 * Exactly tier 1's (compiler/meter.c), so that the fuel left where a host
 * function runs or a trap or return happens, and which check traps, are
 * the same in both tiers. Fuel is charged per run of live instructions,
 * each costing meter_op_cost. A run ends, and the next starts, where tier
 * 1 calls meter_run or meter_check:
 *   - after if, br_if, call and call_indirect (their own cost is the
 *     ending run's: charged before they branch or call);
 *   - at else, at the end of an if without else (its false edge jumps
 *     there), and at the end of a block or if-else that a branch or the
 *     then arm's end jumps to, or whose (else) body ended unreachable: an
 *     end reached only by falling through continues the run, as does a
 *     loop's end;
 *   - at the function's entry and at loop headers, where the run is
 *     checked: IR_FUEL_CHECK charges it and traps when out of fuel, then
 *     IR_EPOCH_CHECK.
 * Unreachable code costs nothing. An unchecked run's IR_FUEL goes where its
 * first costly instruction is (only free ones, without effects, come
 * before it; a run of free ones charges nothing). The charge is the run's
 * whole cost, known when it ends. */

static void run_close(builder *b)
{
    if (b->run)
        ir_at(b->f, b->run)->imm = b->run_cost;
    b->run = 0;
    b->run_cost = 0;
    b->run_pending = false;
}

/* Before each live instruction. */
static bool meter_count(builder *b, uint16_t op)
{
    uint32_t cost = meter_op_cost(op);
    if (!b->fuel || !cost)
        return true;
    if (b->run_pending) {
        b->run = emit(b, b->cur, IR_FUEL, 0, 0, NULL, 0);
        b->run_pending = false;
    }
    b->run_cost += cost;
    return b->run != 0;
}

/* Where control may enter or leave: a new run. */
static void meter_run(builder *b)
{
    if (!b->fuel)
        return;
    run_close(b);
    b->run_pending = true;
}

/* At the function's entry and loop headers (b->cur). */
static bool meter_check(builder *b)
{
    if (b->fuel) {
        run_close(b);
        if (!(b->run = emit(b, b->cur, IR_FUEL_CHECK, 0, 0, NULL, 0)))
            return false;
    }
    return !b->epochs || emit(b, b->cur, IR_EPOCH_CHECK, 0, 0, NULL, 0);
}

/* ---- control ---- */

static bool set_succs(builder *b, uint32_t block, uint32_t n, const uint32_t *succs)
{
    ir_block *blk = &b->f->blocks[block];
    blk->succs = wasm_arena_alloc_raw(&b->f->arena, n, sizeof *blk->succs);
    if (!blk->succs)
        return oom(b);
    if (n)
        memcpy(blk->succs, succs, n * sizeof *succs);
    blk->nsuccs = n;
    return true;
}

static bctl *label(builder *b, uint32_t depth) { return &b->ctls[b->nctls - 1 - depth]; }

static uint8_t result_type(const bctl *c, uint32_t i)
{
    return c->results ? c->results[i] : c->single;
}

static uint32_t label_arity(const bctl *c)
{
    return c->kind == WASM_OP_LOOP ? c->nparams : c->nresults;
}

/* The edge from the current block to label `c`, carrying the top values of
 * the stack (left there). */
static bool edge_to(builder *b, bctl *c)
{
    if (!ir_add_pred(b->f, c->target, b->cur))
        return oom(b);
    uint32_t n = label_arity(c);
    const ir_ref *top = b->stack + b->height - n;
    if (c->kind == WASM_OP_LOOP) {
        for (uint32_t i = 0; i < n; i++)
            if (!ir_add_arg(b->f, c->vals[i], top[i]))
                return oom(b);
        return true;
    }
    if (!grow(b, (void **)&c->vals, &c->vals_cap, sizeof *c->vals, c->nvals + n))
        return false;
    if (n)
        memcpy(c->vals + c->nvals, top, n * sizeof *top);
    c->nvals += n;
    return true;
}

/* Ends the current block with a terminator; the code after it is
 * unreachable until a label that something branches to. */
static bool terminate(builder *b, uint16_t op, uint32_t nargs, const ir_ref *args, uint32_t nsuccs,
                      const uint32_t *succs)
{
    if (!emit(b, b->cur, op, 0, nargs, args, 0))
        return false;
    return set_succs(b, b->cur, nsuccs, succs);
}

static bool open_ctl(builder *b, uint16_t kind, const wasm_instr *ins)
{
    const wasm_module *m = b->m;
    if (!grow(b, (void **)&b->ctls, &b->ctls_cap, sizeof *b->ctls, b->nctls + 1))
        return false;
    bctl c = {.kind = kind, .else_block = DEAD};
    if (ins->block.type == WASM_BLOCK_FUNCTYPE) {
        const wasm_functype *t = &m->types[ins->block.index];
        c.nparams = t->nparams, c.params = t->params;
        c.nresults = t->nresults, c.results = t->results;
    } else if (ins->block.type != WASM_BLOCK_EMPTY) {
        c.nresults = 1;
        c.single = ins->block.type;
    }
    c.height = b->height - c.nparams;
    b->ctls[b->nctls++] = c;
    return true;
}

static bool op_block(builder *b, const wasm_instr *ins)
{
    if (!open_ctl(b, WASM_OP_BLOCK, ins))
        return false;
    bctl *c = label(b, 0);
    c->target = new_block(b);
    return c->target != DEAD;
}

/* OSR: the loop entered is reached; the entry block, whose locals are the
 * parameters, jumps to its header. */
static bool osr_enter(builder *b, const bctl *c)
{
    if (c->nparams)
        return fail(b, "a loop with parameters");
    if (b->height)
        return fail(b, "values on the stack below the loop");
    b->osr_found = true;
    return emit(b, 0, WASM_OP_BR, 0, 0, NULL, 0) && set_succs(b, 0, 1, &c->target) &&
           (ir_add_pred(b->f, c->target, 0) || oom(b));
}

static bool op_loop(builder *b, const wasm_instr *ins)
{
    if (!open_ctl(b, WASM_OP_LOOP, ins))
        return false;
    uint32_t header = new_block(b);
    if (header == DEAD)
        return false;
    bctl *c = label(b, 0);
    c->target = header;
    b->f->blocks[header].loop_header = true;
    if (!grow(b, (void **)&c->vals, &c->vals_cap, sizeof *c->vals, c->nparams))
        return false;
    for (uint32_t i = 0; i < c->nparams; i++)
        if (!(c->vals[i] = emit(b, header, IR_PHI, c->params[i], 0, NULL, 0)))
            return false;
    if (!terminate(b, WASM_OP_BR, 0, NULL, 1, &header) || !edge_to(b, c))
        return false;
    for (uint32_t i = 0; i < c->nparams; i++)
        b->stack[c->height + i] = c->vals[i];
    b->cur = header;
    if (b->osr && b->pos == b->osr_loop && !osr_enter(b, c))
        return false;
    return meter_check(b);
}

static bool op_if(builder *b, const wasm_instr *ins)
{
    ir_ref cond = pop(b);
    if (!open_ctl(b, WASM_OP_IF, ins))
        return false;
    uint32_t then = new_block(b), other = new_block(b), end = new_block(b);
    if (then == DEAD || other == DEAD || end == DEAD)
        return false;
    bctl *c = label(b, 0);
    c->target = end;
    c->else_block = other;
    c->if_params = wasm_arena_alloc(&b->f->arena, c->nparams + 1, sizeof *c->if_params);
    if (!c->if_params)
        return oom(b);
    if (c->nparams)
        memcpy(c->if_params, b->stack + c->height, c->nparams * sizeof *c->if_params);
    uint32_t succs[2] = {then, other};
    if (!terminate(b, WASM_OP_BR_IF, 1, &cond, 2, succs) || !ir_add_pred(b->f, then, b->cur) ||
        !ir_add_pred(b->f, other, b->cur) || !seal(b, then) || !seal(b, other))
        return oom(b);
    b->cur = then;
    meter_run(b);
    return true;
}

/* The end of a live arm (or block body) falls through to the end. */
static bool fall_through(builder *b, bctl *c)
{
    if (b->cur == DEAD)
        return true;
    return terminate(b, WASM_OP_BR, 0, NULL, 1, &c->target) && edge_to(b, c);
}

static bool op_else(builder *b)
{
    bctl *c = label(b, 0);
    if (!fall_through(b, c))
        return false;
    b->height = c->height;
    for (uint32_t i = 0; i < c->nparams; i++)
        push(b, c->if_params[i]);
    b->cur = c->else_block;
    c->else_block = DEAD;
    meter_run(b);
    return true;
}

static bool op_end(builder *b)
{
    bctl *c = label(b, 0);
    if (c->kind == WASM_OP_LOOP) {
        /* Every branch back to the header is known now. */
        if (!seal(b, c->target))
            return false;
        free(c->vals);
        b->nctls--;
        return true;
    }
    if (c->kind == 0) { /* the function's end: return its results */
        b->nctls--; /* its vals stay for build_body */
        if (b->cur == DEAD)
            return true;
        uint32_t n = b->f->type->nresults;
        return terminate(b, WASM_OP_RETURN, n, b->stack + b->height - n, 0, NULL);
    }
    bool body_live = b->cur != DEAD, no_else = c->else_block != DEAD;
    if (!fall_through(b, c))
        return false;
    if (no_else) { /* an if without else: the false arm passes its parameters */
        b->cur = c->else_block;
        b->height = c->height;
        for (uint32_t i = 0; i < c->nparams; i++)
            push(b, c->if_params[i]);
        if (!fall_through(b, c))
            return false;
    }
    b->height = c->height;
    uint32_t end = c->target;
    if (!seal(b, end))
        return false;
    ir_block *blk = &b->f->blocks[end];
    b->nctls--;
    if (blk->npreds == 0) {
        b->cur = DEAD;
        return true;
    }
    b->cur = end;
    /* tier 1: "jumps come in, or only they can reach what follows" */
    if (no_else || !body_live || blk->npreds > 1)
        meter_run(b);
    bool ok = true;
    uint32_t n = c->nresults, npreds = blk->npreds;
    for (uint32_t i = 0; i < n; i++) {
        ir_ref v = c->vals[i];
        bool same = true;
        for (uint32_t e = 1; e < npreds; e++)
            same &= c->vals[e * n + i] == v;
        if (!same) {
            v = emit(b, end, IR_PHI, result_type(c, i), 0, NULL, 0);
            for (uint32_t e = 0; e < npreds && v; e++)
                if (!ir_add_arg(b->f, v, c->vals[e * n + i]))
                    v = 0, oom(b);
        }
        ok = ok && push(b, v);
    }
    free(c->vals);
    return ok;
}

static bool op_br(builder *b, uint32_t depth)
{
    bctl *c = label(b, depth);
    if (!terminate(b, WASM_OP_BR, 0, NULL, 1, &c->target) || !edge_to(b, c))
        return false;
    b->cur = DEAD;
    return true;
}

static bool op_br_if(builder *b, uint32_t depth)
{
    ir_ref cond = pop(b);
    bctl *c = label(b, depth);
    uint32_t next = new_block(b);
    if (next == DEAD)
        return false;
    c = label(b, depth);
    uint32_t succs[2] = {c->target, next};
    if (!terminate(b, WASM_OP_BR_IF, 1, &cond, 2, succs) || !edge_to(b, c) ||
        !ir_add_pred(b->f, next, b->cur) || !seal(b, next))
        return oom(b);
    b->cur = next;
    meter_run(b);
    return true;
}

static bool op_br_table(builder *b, const wasm_instr *ins)
{
    ir_ref index = pop(b);
    uint32_t n = ins->br_table.count + 1;
    uint32_t *succs = wasm_arena_alloc_raw(&b->f->arena, n, sizeof *succs);
    if (!succs)
        return oom(b);
    const uint8_t *p = ins->br_table.targets;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t depth = i + 1 < n ? wasm_next_label(&p) : ins->br_table.default_label;
        succs[i] = label(b, depth)->target;
    }
    if (!emit(b, b->cur, WASM_OP_BR_TABLE, 0, 1, &index, 0))
        return false;
    ir_block *blk = &b->f->blocks[b->cur];
    blk->succs = succs;
    blk->nsuccs = n;
    p = ins->br_table.targets;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t depth = i + 1 < n ? wasm_next_label(&p) : ins->br_table.default_label;
        if (!edge_to(b, label(b, depth)))
            return false;
    }
    b->cur = DEAD;
    return true;
}

/* ---- everything else ---- */

static uint8_t addr_type(const builder *b, uint32_t mem)
{
    return b->m->memories[mem].is64 ? WASM_I64 : WASM_I32;
}

/* An operator of fixed signature: its operands popped, its result pushed. */
static bool op_fixed(builder *b, const wasm_instr *ins)
{
    const wasm_opinfo *info = ins->info;
    uint32_t n = info->nin;
    ir_ref args[3];
    b->height -= n;
    if (n)
        memcpy(args, b->stack + b->height, n * sizeof *args);
    uint64_t imm = 0;
    uint32_t aux = 0;
    switch (info->imm) {
    case WASM_IMM_NONE: break;
    case WASM_IMM_MEMARG: case WASM_IMM_MEMARG_LANE:
        imm = ins->memarg.offset, aux = ins->memarg.memory;
        break;
    case WASM_IMM_MEMORY: aux = ins->index; break;
    case WASM_IMM_LANE: imm = ins->lane; break;
    case WASM_IMM_V128: case WASM_IMM_SHUFFLE: imm = (uint64_t)(ins->bytes - b->m->bytes); break;
    default: return fail(b, info->name);
    }
    uint8_t type = info->out == WASM_ADDR ? addr_type(b, aux) : info->out;
    ir_ref r = emit(b, b->cur, ins->op, type, n, args, imm);
    if (!r)
        return false;
    ir_at(b->f, r)->aux = aux;
    if (info->imm == WASM_IMM_MEMARG_LANE)
        ir_at(b->f, r)->flags |= (uint8_t)(ins->lane << IR_LANE_SHIFT);
    return type == WASM_ANY || push(b, r);
}

/* The types of function `func`'s locals, parameters first. */
static void func_local_types(const wasm_module *m, uint32_t func, uint8_t *types)
{
    const wasm_functype *t = wasm_func_type(m, func);
    if (t->nparams)
        memcpy(types, t->params, t->nparams);
    uint32_t k = t->nparams;
    for (uint32_t i = 0; i < m->funcs[func].nlocal_runs; i++) {
        const wasm_local_run *run = &m->funcs[func].local_runs[i];
        memset(types + k, run->type, run->count);
        k += run->count;
    }
}

static bool build_code(builder *b, wasm_reader *r);

/* A call of `callee` built in place: a block whose results are the call's,
 * whose entry, jumped to from the call's block, defines the callee's
 * locals: the arguments, then zeros. */
static bool inline_call(builder *b, uint32_t callee)
{
    const wasm_module *m = b->m;
    const wasm_func *func = &m->funcs[callee];
    const wasm_functype *t = wasm_func_type(m, callee);
    uint32_t call_block = b->cur, end = new_block(b), entry = new_block(b);
    if (end == DEAD || entry == DEAD ||
        !grow(b, (void **)&b->ctls, &b->ctls_cap, sizeof *b->ctls, b->nctls + 1))
        return false;
    b->outer[end] = call_block + 1;
    b->height -= t->nparams;
    b->ctls[b->nctls++] = (bctl){.kind = WASM_OP_BLOCK, .height = b->height,
                                 .nresults = t->nresults, .results = t->results,
                                 .target = end, .else_block = DEAD};
    if (!terminate(b, WASM_OP_BR, 0, NULL, 1, &entry) ||
        !(ir_add_pred(b->f, entry, call_block) || oom(b)) || !seal(b, entry))
        return false;
    meter_run(b); /* the call ends the caller's run */
    uint32_t nlocals = t->nparams + func->nlocals;
    uint8_t *types = wasm_arena_alloc(&b->f->arena, (size_t)nlocals + 1, 1);
    if (!types)
        return oom(b);
    func_local_types(m, callee, types);
    const uint8_t *caller_types = b->local_types;
    uint32_t caller_nlocals = b->nlocals, call = b->pos;
    b->local_types = types;
    b->nlocals = nlocals;
    b->cur = entry;
    b->inl_ctl = b->nctls - 1, b->inl_func = callee, b->inl_call = call;
    /* its entry's checks are tier 1's at the callee's entry */
    bool ok = ir_inline_entry(b->f, callee, func->body, call, &b->pos) || oom(b);
    for (uint32_t i = 0; i < nlocals && ok; i++) {
        ir_ref v = i < t->nparams ? b->stack[b->height + i] : konst(b, types[i], 0);
        ok = v && write_local(b, entry, i, v);
    }
    wasm_error rerr = {0};
    wasm_reader r = {.base = m->bytes, .p = m->bytes + func->body,
                     .end = m->bytes + func->body_end, .err = &rerr};
    ok = ok && meter_check(b) && build_code(b, &r);
    b->local_types = caller_types;
    b->nlocals = caller_nlocals;
    b->inl_ctl = DEAD;
    b->pos = call;
    meter_run(b); /* what follows the call is a run of its own */
    return ok;
}

static bool op_call(builder *b, const wasm_instr *ins)
{
    bool indirect = ins->op == WASM_OP_CALL_INDIRECT;
    if (!indirect && ir_inline_candidate(b->m, ins->index, &b->inline_budget))
        return inline_call(b, ins->index);
    const wasm_functype *t = indirect ? &b->m->types[ins->call_indirect.type]
                                      : wasm_func_type(b->m, ins->index);
    uint32_t n = t->nparams + indirect;
    b->height -= n;
    ir_ref r = emit(b, b->cur, ins->op, t->nresults == 1 ? t->results[0] : 0, n,
                    b->stack + b->height, indirect ? ins->call_indirect.type : ins->index);
    if (!r)
        return false;
    if (indirect)
        ir_at(b->f, r)->aux = ins->call_indirect.table;
    meter_run(b); /* a call ends the run: what follows is charged after it */
    if (t->nresults == 1)
        return push(b, r);
    /* several results: a projection each, right after the call */
    for (uint32_t i = 0; i < t->nresults; i++)
        if (!push(b, emit(b, b->cur, IR_RESULT, t->results[i], 1, &r, i)))
            return false;
    return true;
}

/* References and tables: operands popped, imm and aux as ir.h says. */
static bool op_reference(builder *b, const wasm_instr *ins)
{
    const wasm_module *m = b->m;
    uint16_t op = ins->op;
    uint32_t nargs = 0, imm = ins->index, aux = 0;
    uint8_t type = 0;
    switch (op) {
    case WASM_OP_REF_NULL: return push(b, konst(b, ins->reftype, 0));
    case WASM_OP_REF_IS_NULL: nargs = 1, type = WASM_I32; break;
    case WASM_OP_REF_FUNC: type = WASM_FUNCREF; break;
    case WASM_OP_TABLE_GET: nargs = 1, type = m->tables[imm].elem; break;
    case WASM_OP_TABLE_SET: nargs = 2; break;
    case WASM_OP_TABLE_SIZE: type = WASM_I32; break;
    case WASM_OP_TABLE_GROW: nargs = 2, type = WASM_I32; break;
    case WASM_OP_TABLE_FILL: nargs = 3; break;
    case WASM_OP_TABLE_COPY: nargs = 3, imm = ins->copy.dst, aux = ins->copy.src; break;
    case WASM_OP_TABLE_INIT: nargs = 3, imm = ins->init.dst, aux = ins->init.segment; break;
    default: break; /* elem.drop */
    }
    b->height -= nargs;
    ir_ref r = emit(b, b->cur, op, type, nargs, b->stack + b->height, imm);
    if (!r)
        return false;
    ir_at(b->f, r)->aux = aux;
    return !type || push(b, r);
}

static bool op_const(builder *b, const wasm_instr *ins)
{
    switch (ins->op) {
    case WASM_OP_I32_CONST: return push(b, konst(b, WASM_I32, (uint32_t)ins->i32));
    case WASM_OP_I64_CONST: return push(b, konst(b, WASM_I64, (uint64_t)ins->i64));
    case WASM_OP_F32_CONST: return push(b, konst(b, WASM_F32, ins->f32));
    default: return push(b, konst(b, WASM_F64, ins->f64));
    }
}

static bool instr(builder *b, const wasm_instr *ins)
{
    uint16_t op = ins->op;
    const char *declined = ir_build_declines(ins);
    if (declined)
        return fail(b, declined);
    switch (op) {
    case WASM_OP_NOP: return true;
    case WASM_OP_BLOCK: return op_block(b, ins);
    case WASM_OP_LOOP: return op_loop(b, ins);
    case WASM_OP_IF: return op_if(b, ins);
    case WASM_OP_ELSE: return op_else(b);
    case WASM_OP_END: return op_end(b);
    case WASM_OP_BR: return op_br(b, ins->index);
    case WASM_OP_BR_IF: return op_br_if(b, ins->index);
    case WASM_OP_BR_TABLE: return op_br_table(b, ins);
    case WASM_OP_RETURN: {
        if (b->inl_ctl != DEAD) /* in an inlined callee: to its end */
            return op_br(b, b->nctls - 1 - b->inl_ctl);
        uint32_t n = b->f->type->nresults;
        if (!terminate(b, WASM_OP_RETURN, n, b->stack + b->height - n, 0, NULL))
            return false;
        b->cur = DEAD;
        return true;
    }
    case WASM_OP_UNREACHABLE:
        if (!terminate(b, WASM_OP_UNREACHABLE, 0, NULL, 0, NULL))
            return false;
        b->cur = DEAD;
        return true;
    case WASM_OP_CALL: case WASM_OP_CALL_INDIRECT: return op_call(b, ins);
    case WASM_OP_DROP: b->height--; return true;
    case WASM_OP_SELECT: case WASM_OP_SELECT_T: {
        ir_ref args[3];
        args[2] = pop(b), args[1] = pop(b), args[0] = pop(b);
        return push(b, emit(b, b->cur, WASM_OP_SELECT, ir_at(b->f, args[0])->type, 3, args, 0));
    }
    case WASM_OP_LOCAL_GET: return push(b, read_local(b, b->cur, ins->index));
    case WASM_OP_LOCAL_SET: return write_local(b, b->cur, ins->index, pop(b));
    case WASM_OP_LOCAL_TEE: return write_local(b, b->cur, ins->index, b->stack[b->height - 1]);
    case WASM_OP_GLOBAL_GET:
        return push(b, emit(b, b->cur, op, b->m->globals[ins->index].type.type, 0, NULL, ins->index));
    case WASM_OP_GLOBAL_SET: {
        ir_ref v = pop(b);
        return emit(b, b->cur, op, 0, 1, &v, ins->index) != 0;
    }
    case WASM_OP_I32_CONST: case WASM_OP_I64_CONST: case WASM_OP_F32_CONST:
    case WASM_OP_F64_CONST:
        return op_const(b, ins);
    }
    if (op == WASM_OP_MEMORY_COPY || op == WASM_OP_MEMORY_INIT) {
        /* aux: the (destination's) memory; imm: the source's, or the segment */
        bool copy = op == WASM_OP_MEMORY_COPY;
        b->height -= 3;
        ir_ref r = emit(b, b->cur, op, 0, 3, b->stack + b->height,
                        copy ? ins->copy.src : ins->init.segment);
        if (r)
            ir_at(b->f, r)->aux = copy ? ins->copy.dst : ins->init.dst;
        return r != 0;
    }
    if (op == WASM_OP_DATA_DROP)
        return emit(b, b->cur, op, 0, 0, NULL, ins->index) != 0;
    if ((op >= WASM_OP_REF_NULL && op <= WASM_OP_REF_FUNC) || op == WASM_OP_TABLE_GET ||
        op == WASM_OP_TABLE_SET || (op >= WASM_OP_TABLE_INIT && op <= WASM_OP_TABLE_FILL))
        return op_reference(b, ins);
    return op_fixed(b, ins);
}

const char *ir_build_declines(const wasm_instr *ins)
{
    /* What instr() has no case for stays with tier 1 (every other
     * instruction of custom signature has one). */
    uint16_t op = ins->op;
    if (op >> 8 == 0xfc && op > WASM_OP_TABLE_FILL)
        return ins->info->name ? ins->info->name : "an unknown instruction";
    return NULL;
}

/* Phis whose operands are one value besides themselves go (Braun et al.'s
 * trivial phis): each is replaced by that value, to a fixed point. The
 * rounds visit the phis (listed in `phis`, ninsts long) alone. `replaced`:
 * merge() set some of repl already. */
static void remove_trivial_phis(ir_func *f, ir_ref *repl, ir_ref *phis, bool replaced)
{
    uint32_t nphis = 0;
    for (ir_ref r = 1; r < f->ninsts; r++)
        if (ir_at(f, r)->op == IR_PHI && !(ir_at(f, r)->flags & IR_DEAD))
            phis[nphis++] = r;
    bool changed = nphis != 0;
    while (changed) {
        changed = false;
        uint32_t left = 0; /* the phis not replaced yet stay for the next round */
        for (uint32_t p = 0; p < nphis; p++) {
            ir_ref r = phis[p];
            ir_inst *in = ir_at(f, r);
            ir_ref same = 0;
            bool trivial = true;
            for (uint32_t i = 0; i < in->nargs && trivial; i++) {
                ir_ref a = in->args[i];
                while (repl[a])
                    a = repl[a];
                if (a == r || a == same)
                    continue;
                trivial = same == 0;
                same = a;
            }
            if (trivial && same) {
                repl[r] = same;
                changed = replaced = true;
            } else {
                phis[left++] = r;
            }
        }
        nphis = left;
    }
    if (replaced) /* else a walk that changes nothing */
        opt_replace_uses(f, repl);
}

/* Builds the instructions r reads until the control entry open at its
 * start closes. */
static bool build_code(builder *b, wasm_reader *r)
{
    uint32_t depth = b->nctls - 1;
    while (b->nctls > depth) {
        wasm_instr ins;
        if (b->cur == DEAD) {
            ins.op = wasm_skip_dead(r, b->m->features, &b->pos);
            if (!ins.op)
                return fail(b, "malformed body");
        } else {
            b->pos = (uint32_t)wasm_reader_pos(r);
            if (!wasm_decode_instr(r, b->m->features, &ins))
                return fail(b, "malformed body");
        }
        if (b->inl_ctl != DEAD &&
            !ir_inline_entry(b->f, b->inl_func, b->pos, b->inl_call, &b->pos))
            return oom(b);
        if ((b->cur != DEAD && !meter_count(b, ins.op)) || !instr(b, &ins))
            return false;
    }
    return true;
}

static bool build_body(builder *b)
{
    ir_func *f = b->f;
    const wasm_func *func = &b->m->funcs[f->index];
    wasm_error rerr = {0};
    wasm_reader r = {.base = b->m->bytes, .p = b->m->bytes + func->body,
                     .end = b->m->bytes + func->body_end, .err = &rerr};
    b->pos = func->body;
    b->cur = new_block(b);
    if (b->cur == DEAD || !seal(b, b->cur))
        return false;
    for (uint32_t i = 0; i < b->nlocals; i++) {
        uint8_t t = b->local_types[i];
        ir_ref v = i < f->type->nparams ? emit(b, 0, IR_PARAM, t, 0, NULL, i) : konst(b, t, 0);
        if (!v || !write_local(b, 0, i, v))
            return false;
    }
    /* OSR: the function's own entry follows, which nothing reaches (its
     * locals read as zeros): the code up to the loop is built as usual,
     * then goes with what only it reaches (remove_unreachable). */
    if (b->osr && ((b->cur = new_block(b)) == DEAD || !seal(b, b->cur)))
        return false;
    /* the stack exists from the start: code takes pointers into it */
    if (!grow(b, (void **)&b->ctls, &b->ctls_cap, sizeof *b->ctls, 1) ||
        !grow(b, (void **)&b->stack, &b->stack_cap, sizeof *b->stack, 16))
        return false;
    b->ctls[b->nctls++] = (bctl){.nresults = f->type->nresults, .results = f->type->results,
                                 .else_block = DEAD};
    b->ctls[0].target = new_block(b); /* where a br to the function's label returns */
    if (b->ctls[0].target == DEAD || !meter_check(b) || !build_code(b, &r))
        return false;
    run_close(b);
    /* Branches to the function's label return what they carry. */
    bctl *c = &b->ctls[0];
    ir_block *ret = &f->blocks[c->target];
    if (ret->npreds) {
        b->cur = c->target;
        if (!seal(b, b->cur))
            return false;
        b->height = 0;
        uint32_t n = c->nresults;
        for (uint32_t i = 0; i < n; i++) {
            ir_ref phi = emit(b, b->cur, IR_PHI, result_type(c, i), 0, NULL, 0);
            if (!phi)
                return false;
            for (uint32_t e = 0; e < ret->npreds; e++)
                if (!ir_add_arg(f, phi, c->vals[e * n + i]))
                    return oom(b);
            push(b, phi);
        }
        if (!terminate(b, WASM_OP_RETURN, n, b->stack, 0, NULL))
            return false;
    }
    if (b->osr && !b->osr_found)
        return fail(b, "no reachable loop at that offset");
    return true;
}

/* OSR: the blocks that block 0 does not reach go (the function's own entry
 * and what only it reaches), and so do their edges into the rest, with
 * the phi operands those carry. */
static bool remove_unreachable(builder *b)
{
    ir_func *f = b->f;
    ir_dom d;
    if (!ir_dominators(f, &d))
        return oom(b);
    for (uint32_t k = 0; k < f->nblocks; k++) {
        ir_block *blk = &f->blocks[k];
        if (d.order[k] == UINT32_MAX) {
            while (blk->first)
                ir_remove(f, blk->first);
            blk->npreds = blk->nsuccs = 0;
            continue;
        }
        uint32_t n = 0;
        for (uint32_t i = 0; i < blk->npreds; i++) {
            if (d.order[blk->preds[i]] == UINT32_MAX)
                continue;
            for (ir_ref r = blk->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
                ir_at(f, r)->args[n] = ir_at(f, r)->args[i];
            blk->preds[n++] = blk->preds[i];
        }
        for (ir_ref r = blk->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
            ir_at(f, r)->nargs = n;
        blk->npreds = n;
    }
    ir_dom_free(&d);
    return true;
}

/* The function as ir_build_metered builds it, or with `osr` its OSR entry
 * at osr_loop (ir_build_osr). */
static bool build(ir_func *f, const wasm_module *m, uint32_t index, bool fuel, bool epochs,
                  bool osr, uint32_t osr_loop, const char **why)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    f->index = index;
    f->type = wasm_func_type(m, index);
    const wasm_func *func = &m->funcs[index];
    builder b = {.f = f, .m = m, .defs_left = DEFS_BUDGET, .fuel = fuel, .epochs = epochs,
                 .osr = osr, .osr_loop = osr_loop, .inl_ctl = DEAD,
                 .inline_budget = ir_inline_budget(m, index)};
    /* Validation bounds the count of locals well below 2^32. */
    b.nlocals = f->type->nparams + func->nlocals;
    uint8_t *local_types = malloc((size_t)b.nlocals + 1);
    b.local_types = local_types;
    bool ok = local_types != NULL || oom(&b);
    if (ok) {
        func_local_types(m, index, local_types);
    }
    if (ok && osr) {
        /* the OSR entry's type: every local a parameter */
        wasm_functype *t = wasm_arena_alloc(&f->arena, 1, sizeof *t);
        uint8_t *params = wasm_arena_alloc(&f->arena, (size_t)b.nlocals + 1, 1);
        ok = (t && params) || oom(&b);
        if (ok) {
            memcpy(params, b.local_types, b.nlocals);
            *t = (wasm_functype){.nparams = b.nlocals, .params = params,
                                 .nresults = f->type->nresults, .results = f->type->results};
            f->type = t;
        }
    }
    /* about what the body's instructions come to (a third of its bytes,
     * typically) and its blocks (one per 16 bytes or fewer, mostly): the
     * arrays are rarely copied as they grow */
    uint32_t body = (uint32_t)(func->body_end - func->body);
    ok = ok && (ir_reserve(f, body / 2 + 16) || oom(&b)) && grow_blocks(&b, body / 16 + 16);
    ok = ok && build_body(&b) && (!osr || remove_unreachable(&b));
    if (ok) {
        ir_ref *phis = malloc(f->ninsts * sizeof *phis);
        ok = (phis && grow(&b, (void **)&b.repl, &b.repl_cap, sizeof *b.repl, f->ninsts)) ||
             oom(&b);
        if (ok)
            remove_trivial_phis(f, b.repl, phis, b.replaced);
        free(phis);
    }
    for (uint32_t i = 0; i < b.nctls; i++) /* open when it failed */
        free(b.ctls[i].vals);
    if (b.ctls && b.nctls == 0)
        free(b.ctls[0].vals); /* the function's, kept past its end */
    free(local_types);
    free(b.defs);
    free(b.pending);
    free(b.outer);
    free(b.repl);
    free(b.ops);
    free(b.stack);
    free(b.ctls);
    if (!ok) {
        *why = b.why;
        ir_free(f);
    }
    return ok;
}

bool ir_build_metered(ir_func *f, const wasm_module *m, uint32_t index, bool fuel, bool epochs,
                      const char **why)
{
    return build(f, m, index, fuel, epochs, false, 0, why);
}

bool ir_build_osr(ir_func *f, const wasm_module *m, uint32_t index, uint32_t loop_offset,
                  bool fuel, bool epochs, const char **why)
{
    return build(f, m, index, fuel, epochs, true, loop_offset, why);
}
