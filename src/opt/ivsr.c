/* Induction-variable strength reduction. In a loop with a preheader, a
 * basic induction variable is a phi of the header whose value along every
 * back edge is the same i + s (s a constant). A multiply i * c (c a
 * constant) inside the loop then equals a new phi j of the header that
 * starts at init * c and steps by c * s along the back edges, computed by
 * an add next to i + s: the multiply per iteration becomes an add
 * (wrapping the same way, both being arithmetic modulo 2^32 or 2^64).
 * Shifts are left alone: an address scales by 2, 4 or 8 for free. Only
 * innermost loops, as in licm.c: a new variable of an outer loop holds a
 * register across the inner ones for a multiply that runs once per outer
 * iteration (measured: more spills in the inner loops of 2mm, 3mm, syrk,
 * symm, trmm when every level was done). */
#include <stdlib.h>

#include "passes.h"

static bool is_int_const(const ir_inst *in)
{
    return in->op == WASM_OP_I32_CONST || in->op == WASM_OP_I64_CONST;
}

static uint64_t truncate(uint8_t type, uint64_t v)
{
    return type == WASM_I32 ? (uint32_t)v : v;
}

/* The value of phi i along h's back edges when it is i + a constant (the
 * constant in *step), else 0; 0 too when an unreachable block jumps to h
 * (no value would dominate its end). */
static ir_ref next_value(ir_func *f, const ir_dom *d, uint32_t h, ir_ref i, uint64_t *step)
{
    const ir_block *blk = &f->blocks[h];
    ir_ref next = 0;
    for (uint32_t k = 0; k < blk->npreds; k++) {
        ir_ref a = ir_at(f, i)->args[k];
        if (d->order[blk->preds[k]] == UINT32_MAX)
            return 0;
        if (!ir_dominates(d, h, blk->preds[k]))
            continue;
        if (next && a != next)
            return 0;
        next = a;
    }
    const ir_inst *add = ir_at(f, next);
    if (!next || add->op != (add->type == WASM_I32 ? WASM_OP_I32_ADD : WASM_OP_I64_ADD))
        return 0;
    for (int s = 0; s < 2; s++)
        if (add->args[1 - s] == i && is_int_const(ir_at(f, add->args[s]))) {
            *step = ir_at(f, add->args[s])->imm;
            return next;
        }
    return 0;
}

/* A new variable of h equal to i * c (i from next_value, preheader pre):
 * its phi, or 0 when memory ran out. */
static ir_ref new_variable(ir_func *f, uint32_t h, uint32_t pre, ir_ref i, ir_ref next,
                           uint64_t step, uint64_t cv)
{
    uint8_t type = ir_at(f, i)->type;
    uint16_t konst = type == WASM_I32 ? WASM_OP_I32_CONST : WASM_OP_I64_CONST;
    uint16_t mul = type == WASM_I32 ? WASM_OP_I32_MUL : WASM_OP_I64_MUL;
    uint16_t add = type == WASM_I32 ? WASM_OP_I32_ADD : WASM_OP_I64_ADD;
    const ir_block *blk = &f->blocks[h];
    ir_ref init = 0;
    for (uint32_t k = 0; k < blk->npreds; k++)
        if (blk->preds[k] == pre)
            init = ir_at(f, i)->args[k];
    ir_ref start;
    if (is_int_const(ir_at(f, init))) {
        start = ir_append(f, pre, konst, type, 0, NULL, truncate(type, ir_at(f, init)->imm * cv));
    } else { /* c's own definition may not reach the preheader's end */
        ir_ref c = ir_append(f, pre, konst, type, 0, NULL, cv);
        ir_ref args[2] = {init, c};
        start = c ? ir_append(f, pre, mul, type, 2, args, 0) : 0;
    }
    ir_ref inc = start ? ir_append(f, pre, konst, type, 0, NULL, truncate(type, cv * step)) : 0;
    ir_ref *phi_args = inc ? malloc(blk->npreds * sizeof *phi_args) : NULL;
    if (!phi_args)
        return 0;
    for (uint32_t k = 0; k < blk->npreds; k++)
        phi_args[k] = start;
    ir_ref j = ir_append(f, h, IR_PHI, type, blk->npreds, phi_args, 0);
    free(phi_args);
    ir_ref args[2] = {j, inc};
    ir_ref stepped = j ? ir_append(f, ir_at(f, next)->block, add, type, 2, args, 0) : 0;
    if (!stepped)
        return 0;
    ir_at(f, j)->wasm = blk->wasm;
    for (uint32_t k = 0; k < blk->npreds; k++)
        if (blk->preds[k] != pre)
            ir_at(f, j)->args[k] = stepped;
    return j;
}

/* The variables made for the loop being reduced: i * c is var. */
typedef struct reduced { ir_ref i; uint64_t c; ir_ref var; } reduced;

/* Replaces the multiplies of h's induction variables by constants in the
 * loop's blocks (body: reverse-postorder numbers) with new variables. */
static bool reduce(ir_func *f, const ir_dom *d, uint32_t h, uint32_t pre, const uint32_t *body,
                   uint32_t nbody, ir_ref *repl)
{
    reduced made[8];
    uint32_t nmade = 0;
    for (uint32_t b = 0; b < nbody; b++)
        for (ir_ref r = f->blocks[d->rpo[body[b]]].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            if (in->op != WASM_OP_I32_MUL && in->op != WASM_OP_I64_MUL)
                continue;
            int s = is_int_const(ir_at(f, in->args[0])) ? 0 : 1;
            ir_ref i = in->args[1 - s], c = in->args[s];
            if (!is_int_const(ir_at(f, c)) || ir_at(f, i)->op != IR_PHI || ir_at(f, i)->block != h)
                continue;
            uint64_t cv = ir_at(f, c)->imm, step;
            uint32_t m = 0;
            while (m < nmade && !(made[m].i == i && made[m].c == cv))
                m++;
            if (m == nmade) {
                ir_ref next = next_value(f, d, h, i, &step);
                if (!next || nmade == sizeof made / sizeof *made)
                    continue;
                ir_ref var = new_variable(f, h, pre, i, next, step, cv);
                if (!var)
                    return false;
                made[nmade++] = (reduced){i, cv, var};
            }
            repl[r] = made[m].var;
        }
    return true;
}

bool opt_ivsr(ir_func *f, const ir_dom *d)
{
    uint32_t n = f->nblocks;
    uint32_t *mark = ir_alloc(f, n, sizeof *mark), *work = ir_alloc_raw(f, n, sizeof *work);
    uint32_t *body = ir_alloc_raw(f, n, sizeof *body);
    ir_ref *repl = calloc(f->ninsts, sizeof *repl); /* grows with the function */
    bool ok = mark && work && body && repl, changed = false;
    for (uint32_t i = 0; ok && i < d->nrpo; i++) {
        uint32_t h = d->rpo[i], nbody = 0;
        if (!f->blocks[h].loop_header)
            continue;
        uint32_t pre = opt_loop(f, d, h, mark, h + 1, body, &nbody, work);
        bool innermost = pre != UINT32_MAX;
        for (uint32_t k = 1; innermost && k < nbody; k++)
            innermost = !f->blocks[d->rpo[body[k]]].loop_header;
        if (!innermost)
            continue;
        uint32_t before = f->ninsts;
        ok = reduce(f, d, h, pre, body, nbody, repl);
        if (f->ninsts != before) {
            changed = true;
            ir_ref *more = ok ? realloc(repl, f->ninsts * sizeof *repl) : NULL;
            ok = more != NULL;
            repl = more ? more : repl;
            for (uint32_t r = before; ok && r < f->ninsts; r++)
                repl[r] = 0;
        }
    }
    if (ok && changed)
        opt_replace_uses(f, repl);
    free(repl);
    return ok;
}
