/* Global value numbering: a walk of the dominator tree with a scoped hash
 * table of the pure values (and phis) available at each point, keyed by
 * operator, type, operands and immediates. An instruction equal to one in
 * the table is replaced by it (and goes at once): that one dominates it.
 * Phis' operands and unreachable blocks are resolved after the walk. Loads
 * are not numbered (a store or call between two would need memory
 * dependence). */
#include "passes.h"

typedef struct table {
    ir_ref *slot; /* open addressing, linear probing; 0 is empty */
    uint32_t mask;
} table;

static bool commutative(uint16_t op)
{
    switch (op) {
    case WASM_OP_I32_ADD: case WASM_OP_I32_MUL: case WASM_OP_I32_AND: case WASM_OP_I32_OR:
    case WASM_OP_I32_XOR: case WASM_OP_I32_EQ: case WASM_OP_I32_NE:
    case WASM_OP_I64_ADD: case WASM_OP_I64_MUL: case WASM_OP_I64_AND: case WASM_OP_I64_OR:
    case WASM_OP_I64_XOR: case WASM_OP_I64_EQ: case WASM_OP_I64_NE:
        return true;
    default:
        return false;
    }
}

static uint32_t hash(const ir_inst *in)
{
    uint64_t h = in->op * 0x9e3779b97f4a7c15ull ^ in->type ^ in->imm * 0xff51afd7ed558ccdull ^ in->aux;
    if (in->op == IR_PHI)
        h ^= in->block * 0xc4ceb9fe1a85ec53ull;
    bool comm = commutative(in->op);
    for (uint32_t i = 0; i < in->nargs; i++)
        h = comm ? h + in->args[i] * 0x9e3779b97f4a7c15ull : (h ^ in->args[i]) * 0x100000001b3ull;
    return (uint32_t)(h ^ h >> 29);
}

static bool equal(const ir_inst *a, const ir_inst *b)
{
    if (a->op != b->op || a->type != b->type || a->imm != b->imm || a->aux != b->aux ||
        a->nargs != b->nargs || (a->op == IR_PHI && a->block != b->block))
        return false;
    if (commutative(a->op) &&
        ((a->args[0] == b->args[1] && a->args[1] == b->args[0])))
        return true;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (a->args[i] != b->args[i])
            return false;
    return true;
}

/* The slot holding an equal value, or the empty slot where `in` goes. */
static uint32_t find(ir_func *f, const table *t, const ir_inst *in)
{
    uint32_t i = hash(in) & t->mask;
    while (t->slot[i] && !equal(ir_at(f, t->slot[i]), in))
        i = (i + 1) & t->mask;
    return i;
}

bool opt_gvn(ir_func *f, const ir_dom *d)
{
    uint32_t n = f->nblocks, cap = 16;
    while (cap < 2 * f->ninsts)
        cap *= 2;
    table t = {.slot = ir_alloc(f, cap, sizeof *t.slot), .mask = cap - 1};
    ir_ref *repl = ir_alloc(f, f->ninsts, sizeof *repl);
    uint32_t *scope = ir_alloc_raw(f, f->ninsts, sizeof *scope); /* slots filled, innermost last */
    uint32_t *first = ir_alloc(f, (size_t)n + 1, sizeof *first);
    uint32_t *kids = ir_alloc_raw(f, n, sizeof *kids);
    uint32_t *stack = ir_alloc_raw(f, 2 * (size_t)n, sizeof *stack); /* block, scope height on entry */
    bool ok = t.slot && repl && scope && first && kids && stack;
    if (ok) {
        ir_dom_children(d, n, first, kids, stack); /* stack: borrowed as scratch */
        uint32_t sp = 0, height = 0;
        bool changed = false;
        stack[sp++] = 0;
        stack[sp++] = UINT32_MAX; /* not yet entered */
        while (sp) {
            uint32_t b = stack[sp - 2], mark = stack[sp - 1];
            if (mark != UINT32_MAX) { /* leaving: its values go out of scope */
                while (height > mark)
                    t.slot[scope[--height]] = 0;
                sp -= 2;
                continue;
            }
            stack[sp - 1] = height;
            for (ir_ref r = f->blocks[b].first, next; r; r = next) {
                ir_inst *in = ir_at(f, r);
                next = in->next;
                for (uint32_t k = 0; k < in->nargs; k++)
                    in->args[k] = opt_resolve(repl, in->args[k]);
                if (in->op != IR_PHI && !opt_is_pure(f, in))
                    continue;
                uint32_t s = find(f, &t, in);
                if (t.slot[s]) {
                    repl[r] = t.slot[s];
                    ir_remove(f, r);
                    changed = true;
                } else {
                    t.slot[s] = r;
                    scope[height++] = s;
                }
            }
            for (uint32_t k = first[b]; k < first[b + 1]; k++) {
                stack[sp++] = kids[k];
                stack[sp++] = UINT32_MAX;
            }
        }
        if (changed)
            opt_replace_other_uses(f, d, repl);
    }
    return ok;
}
