/* Bounds-check elimination. A memory's length never shrinks (memory.grow
 * only adds pages, nothing takes them away), so once an access of index x
 * and end e (its offset plus its size) has run, x + e <= length holds for
 * the rest of the function, across calls and growth. An access dominated
 * by one of the same memory and index value reaching at least as far is
 * therefore in bounds and needs no check (IR_IN_BOUNDS; emit_mem.c then
 * addresses base + x + offset). So is one of index x + c (an add of a
 * constant) and end e' with c + e' <= e: the length of a 32-bit memory is
 * at most 2^32 and a memory64's below 2^64, so x + c does not wrap there.
 * Only the dominating access's facts are used: no check moves, so a trap
 * happens at the same instruction as before, after the same stores. Runs
 * last, on the IR the back end gets. */
#include <stdlib.h>

#include "passes.h"

/* The furthest byte an access touches past its index, plus one; 0 when the
 * offset is so large that no index is in bounds. */
static uint64_t access_end(const ir_inst *in)
{
    uint64_t end = in->imm + (uint64_t)ir_access_size(in->op);
    return end < in->imm ? 0 : end;
}

static bool is_access(uint16_t op) { return op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32; }

/* The facts in scope: per index value, the memory (+1, 0: none) and the
 * largest end an access of it reached; `undo` lists what each fact
 * replaced, innermost last. */
typedef struct facts {
    uint64_t *end;
    uint32_t *mem;
    struct undo { ir_ref index; uint32_t mem; uint64_t end; } *undo;
    uint32_t nundo;
} facts;

/* Whether index x of memory `mem` is known in bounds up to `end`. */
static bool known(const facts *k, ir_ref x, uint32_t mem, uint64_t end)
{
    return k->mem[x] == mem + 1 && k->end[x] >= end;
}

static bool proven(const ir_func *f, const facts *k, const ir_inst *in, uint64_t end)
{
    ir_ref x = in->args[0];
    if (known(k, x, in->aux, end))
        return true;
    const ir_inst *add = &f->insts[x];
    if (add->op != WASM_OP_I32_ADD && add->op != WASM_OP_I64_ADD)
        return false;
    for (int i = 0; i < 2; i++) {
        const ir_inst *c = &f->insts[add->args[i]];
        uint64_t cv = c->op == WASM_OP_I32_CONST ? (uint32_t)c->imm : c->imm;
        bool is_const = c->op == WASM_OP_I32_CONST || c->op == WASM_OP_I64_CONST;
        if (is_const && cv + end >= end && known(k, add->args[1 - i], in->aux, cv + end))
            return true;
    }
    return false;
}

static void learn(facts *k, const ir_inst *in, uint64_t end)
{
    ir_ref x = in->args[0];
    if (known(k, x, in->aux, end))
        return;
    k->undo[k->nundo++] = (struct undo){x, k->mem[x], k->end[x]};
    k->mem[x] = in->aux + 1;
    k->end[x] = end;
}

bool opt_bce(ir_func *f, const ir_dom *d)
{
    uint32_t n = f->nblocks;
    facts k = {.end = calloc(f->ninsts, sizeof *k.end), .mem = calloc(f->ninsts, sizeof *k.mem),
               .undo = malloc(f->ninsts * sizeof *k.undo)};
    uint32_t *first = calloc(n + 1, sizeof *first), *kids = malloc(n * sizeof *kids);
    uint32_t *stack = malloc(2 * n * sizeof *stack); /* block, undo height on entry */
    bool ok = k.end && k.mem && k.undo && first && kids && stack;
    if (ok) {
        ir_dom_children(d, n, first, kids, stack); /* stack: borrowed as scratch */
        uint32_t sp = 0;
        stack[sp++] = 0;
        stack[sp++] = UINT32_MAX; /* not yet entered */
        while (sp) {
            uint32_t b = stack[sp - 2], mark = stack[sp - 1];
            if (mark != UINT32_MAX) { /* leaving: its facts go out of scope */
                while (k.nundo > mark) {
                    struct undo *u = &k.undo[--k.nundo];
                    k.mem[u->index] = u->mem;
                    k.end[u->index] = u->end;
                }
                sp -= 2;
                continue;
            }
            stack[sp - 1] = k.nundo;
            for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
                ir_inst *in = ir_at(f, r);
                uint64_t end = is_access(in->op) ? access_end(in) : 0;
                if (!end)
                    continue;
                if (proven(f, &k, in, end))
                    in->flags |= IR_IN_BOUNDS;
                learn(&k, in, end);
            }
            for (uint32_t c = first[b]; c < first[b + 1]; c++) {
                stack[sp++] = kids[c];
                stack[sp++] = UINT32_MAX;
            }
        }
    }
    free(k.end);
    free(k.mem);
    free(k.undo);
    free(first);
    free(kids);
    free(stack);
    return ok;
}
