/* Instruction selection decisions made before allocation (backend.h): a
 * full-width load whose single user is the very next instruction, an
 * operator with a memory form, becomes that operator's memory operand
 * (`addsd x, [r14+i]`, `cmp r, [r14+i]`): the value needs no register, and
 * nothing with an effect runs between the load and its user, so the trap
 * (at the load's wasm offset) happens in the same order. A load, an
 * integer operation on it and a store of the result to the same place,
 * one after the other (constants aside), become one instruction
 * (`add dword [r14+i], 1`): the load and the operation are both folded
 * into the store. Before both, a compare that only its block's branch
 * reads moves down to it (sink_compares). */
#include "backend.h"

static bool foldable_load(uint16_t op)
{
    return op == WASM_OP_I32_LOAD || op == WASM_OP_I64_LOAD || op == WASM_OP_F32_LOAD ||
           op == WASM_OP_F64_LOAD;
}

static bool commutative(uint16_t op)
{
    switch (op) {
    case WASM_OP_I32_ADD: case WASM_OP_I32_MUL: case WASM_OP_I32_AND: case WASM_OP_I32_OR:
    case WASM_OP_I32_XOR: case WASM_OP_I64_ADD: case WASM_OP_I64_MUL: case WASM_OP_I64_AND:
    case WASM_OP_I64_OR: case WASM_OP_I64_XOR: case WASM_OP_F32_ADD: case WASM_OP_F32_MUL:
    case WASM_OP_F64_ADD: case WASM_OP_F64_MUL:
        return true;
    }
    return false;
}

static bool int_compare(uint16_t op)
{
    return (op >= WASM_OP_I32_EQ && op <= WASM_OP_I32_GE_U) ||
           (op >= WASM_OP_I64_EQ && op <= WASM_OP_I64_GE_U);
}

/* Operators whose second operand may be memory (emit_num.c). */
static bool takes_memory(uint16_t op)
{
    return commutative(op) || int_compare(op) || op == WASM_OP_I32_SUB ||
           op == WASM_OP_I64_SUB || op == WASM_OP_F32_SUB || op == WASM_OP_F64_SUB ||
           op == WASM_OP_F32_DIV || op == WASM_OP_F64_DIV;
}

int be_rmw_alu(uint16_t op)
{
    switch (op) {
    case WASM_OP_I32_ADD: case WASM_OP_I64_ADD: return ALU_ADD;
    case WASM_OP_I32_SUB: case WASM_OP_I64_SUB: return ALU_SUB;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: return ALU_AND;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: return ALU_OR;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: return ALU_XOR;
    default: return -1;
    }
}

ir_ref be_rmw_load(ir_func *f, ir_ref r, const uint32_t *uses)
{
    const ir_inst *st = ir_at(f, r);
    bool wide = st->op == WASM_OP_I64_STORE;
    if ((st->op != WASM_OP_I32_STORE && !wide) || !st->prev)
        return 0;
    ir_ref v = st->args[1];
    const ir_inst *op = ir_at(f, v);
    if (st->prev != v || be_rmw_alu(op->op) < 0 || (uses && uses[v] != 1) || !op->prev)
        return 0;
    /* constants between the load and the operation emit nothing */
    ir_ref l = op->prev;
    while (l && is_const_op(ir_at(f, l)->op))
        l = ir_at(f, l)->prev;
    if (!l)
        return 0;
    const ir_inst *load = ir_at(f, l);
    bool first = op->args[0] == l; /* sub takes the load first */
    if (load->op != (wide ? WASM_OP_I64_LOAD : WASM_OP_I32_LOAD) || (uses && uses[l] != 1) ||
        load->args[0] != st->args[0] || load->imm != st->imm || load->aux != st->aux ||
        op->args[0] == op->args[1] ||
        (!first && (op->args[1] != l || be_rmw_alu(op->op) == ALU_SUB)))
        return 0;
    return l;
}

/* A comparison that only a block's closing br_if reads goes just before
 * it, so that the branch takes the flags (emit.c) instead of a value made
 * of them: passes leave other instructions between the two, such as a
 * loop's induction steps. A load it could fold goes along where nothing
 * between has an effect (which the load must stay ordered with). */
static void sink_compares(ir_func *f, const uint32_t *uses)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        ir_ref br = f->blocks[b].last;
        if (!br || ir_at(f, br)->op != WASM_OP_BR_IF)
            continue;
        ir_ref c = ir_at(f, br)->args[0];
        ir_inst *cmp = ir_at(f, c);
        if (cmp->block != b || cmp->next == br || !be_is_compare(cmp->op) || uses[c] != 1)
            continue;
        ir_ref l = cmp->prev;
        bool with_load = l && foldable_load(ir_at(f, l)->op) && uses[l] == 1 &&
                         (cmp->args[0] == l || (cmp->nargs == 2 && cmp->args[1] == l));
        if (with_load) {
            for (ir_ref r = cmp->next; r != br && with_load; r = ir_at(f, r)->next)
                with_load = !ir_has_effects(ir_at(f, r)->op);
            if (!with_load)
                continue;
            ir_move(f, l, b);
        }
        ir_move(f, c, b);
    }
}

bool be_select(backend *be)
{
    ir_func *f = be->ir;
    be->folded = be_alloc(be, f->ninsts, sizeof *be->folded);
    uint32_t *uses = be_alloc(be, f->ninsts, sizeof *uses);
    if (!be->folded || !uses)
        return be_fail(be, "out of memory");
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            for (uint32_t i = 0; i < ir_at(f, r)->nargs; i++)
                uses[ir_at(f, r)->args[i]]++;
    sink_compares(f, uses);
    /* one walk: a store's read-modify-write looks back at a load and an
     * operation that the walk has seen already */
    for (uint32_t b = 0; b < f->nblocks; b++) {
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *load = ir_at(f, r), *user = load->next ? ir_at(f, load->next) : NULL;
            if (load->op == WASM_OP_I32_STORE || load->op == WASM_OP_I64_STORE) {
                ir_ref l = be_rmw_load(f, r, uses);
                if (l)
                    be->folded[l] = be->folded[load->args[1]] = true;
                continue;
            }
            if (!foldable_load(load->op) || load->aux != 0 || uses[r] != 1 || !user ||
                !takes_memory(user->op) || user->nargs != 2 || user->args[0] == user->args[1])
                continue;
            if (user->args[0] == r && commutative(user->op)) { /* the load second */
                user->args[0] = user->args[1];
                user->args[1] = r;
            }
            if (user->args[1] != r)
                continue;
            /* a compare's first operand must not need r11, which a spilled
             * index may take: a constant there stays unfolded */
            if (int_compare(user->op) && is_const_op(ir_at(f, user->args[0])->op))
                continue;
            be->folded[r] = true;
        }
    }
    return true;
}
