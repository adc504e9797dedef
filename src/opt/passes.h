/*
 * Tier 2's optimization passes over the SSA IR (ir.h), run by opt.c in
 * this order between ir_build and the back end; each keeps ir_verify's
 * invariants. The first four share the dominators `d` of the function as
 * built: none of them adds or removes an edge (licm.c only moves
 * instructions into existing preheaders, ivsr.c adds some there and in
 * loops). Jump threading changes the graph; simplification runs again
 * after it; then dead code goes, loops are packed (adding blocks: the
 * dead code pass runs again where they were) and bounds-check elimination
 * comes last. Each returns false when
 * memory ran out.
 */
#ifndef WJ_OPT_PASSES_H
#define WJ_OPT_PASSES_H

#include "ir.h"

/* Constant folding and algebraic identities, on integers (simplify.c). */
bool opt_simplify(ir_func *f, const ir_dom *d);
/* Global value numbering over the dominator tree: a pure operation (or a
 * phi) equal to one that dominates it is replaced by it (gvn.c). */
bool opt_gvn(ir_func *f, const ir_dom *d);
/* Loop-invariant code motion into loops' preheaders (licm.c). */
bool opt_licm(ir_func *f, const ir_dom *d);
/* The natural loop headed by h: h and the blocks that reach one of its
 * back edges' sources without passing h, marked `stamp` in mark[] and
 * listed in body[*nbody] (reverse-postorder numbers, h's first; work is
 * scratch of f->nblocks). Returns the loop's preheader, its one way in
 * from a block with no other successor, or UINT32_MAX when it has none
 * (body then unset) (licm.c). */
uint32_t opt_loop(ir_func *f, const ir_dom *d, uint32_t h, uint32_t *mark, uint32_t stamp,
                  uint32_t *body, uint32_t *nbody, uint32_t *work);
/* Induction-variable strength reduction: a loop variable's multiply by a
 * constant becomes a variable of its own stepped by an add (ivsr.c). */
bool opt_ivsr(ir_func *f, const ir_dom *d);
/* Jump threading: paths along which a branch's condition is a constant
 * are copied and jump straight on (thread.c); *changed says whether any
 * was, and then loop headers are to be marked anew (opt_mark_loops). */
bool opt_thread(ir_func *f, bool *changed);
/* Branches on constants become jumps, what only they reached goes, loop
 * headers are marked anew (thread.c). */
bool opt_fold_branches(ir_func *f);
/* A block is a loop's header when it dominates one of its predecessors
 * (after the graph changed; the back end aligns and weighs loops). */
void opt_mark_loops(ir_func *f, const ir_dom *d);

/* Packs the copies of operations that clang's unrolling leaves in small
 * loops into v128 operations, in a copy of the loop that runs when a check
 * before it shows no access can trap or overlap one it reorders
 * (vectorize.c); *changed says whether any loop was. */
bool opt_vectorize(ir_func *f, bool *changed);
/* The same for loops around a loop, gcc's outer-loop vectorization: an
 * outer loop whose body holds one single-block loop runs its iterations
 * by two (or four) at once, lane by lane, each lane's arithmetic as the
 * scalar iteration's (outer.c). */
bool opt_vectorize_outer(ir_func *f, bool *changed);
/* For both (vectorize.c): the v128 form of scalar operator op, or 0; whether
 * that form is commutative, or a shift; the splat of a scalar of type t;
 * the loads and stores whose lanes fill a v128 (full width). */
uint16_t opt_vector_op(uint16_t op);
bool opt_vector_commutative(uint16_t vop);
bool opt_vector_shift(uint16_t vop); /* its count is a scalar */
uint16_t opt_splat_op(uint8_t t);
bool opt_full_load(uint16_t op);
bool opt_full_store(uint16_t op);
/* Their guards' instructions, appended to block `at`: op on a (and b when
 * it takes two), or a constant; 0 when memory ran out for it or an
 * operand, so that a chain of them needs one check. */
ir_ref opt_guard_op(ir_func *f, uint32_t at, uint16_t op, uint8_t type, ir_ref a, ir_ref b);
ir_ref opt_guard_const(ir_func *f, uint32_t at, uint8_t type, uint64_t v);

/* Bounds-check elimination: loads and stores that a dominating access of
 * the same memory proved in bounds are marked IR_IN_BOUNDS (bce.c). Last,
 * on the IR the back end compiles. */
bool opt_bce(ir_func *f, const ir_dom *d);

/* Whether an instruction's value depends only on its operands and
 * immediates and computing it has no effect, so that two equal ones are
 * the same value and it may move or go. Reads of state that changes
 * (memory.size, mutable globals) are not. Inline: GVN asks it of every
 * instruction. */
static inline bool opt_is_pure(const ir_func *f, const ir_inst *in)
{
    if (!in->type || ir_has_effects(in->op) || in->op == IR_PHI || in->op == IR_PARAM ||
        in->op == WASM_OP_MEMORY_SIZE)
        return false;
    return in->op != WASM_OP_GLOBAL_GET || !f->m->globals[in->imm].type.mut;
}

/* Every use of r with repl[r] != 0 becomes a use of repl[r] (followed to
 * the end of a chain), and r goes from its block (simplify.c). */
void opt_replace_uses(ir_func *f, ir_ref *repl);
/* The rest of that after a walk in dominance order (d's) that resolved the
 * operands of what it visited as it went, and removed what it replaced:
 * phis' operands, which may come from later, and unreachable blocks. */
void opt_replace_other_uses(ir_func *f, const ir_dom *d, const ir_ref *repl);

/* repl[r] followed to the end of its chain. */
static inline ir_ref opt_resolve(const ir_ref *repl, ir_ref r)
{
    while (repl[r])
        r = repl[r];
    return r;
}

#endif
