/* Constant folding and algebraic simplification of integer operations,
 * exactly as wasm defines them: wrap-around, shift counts modulo the width;
 * a division or remainder folds only when it cannot trap. Floats are left
 * alone (NaN payloads and signed zeros make most identities wrong). */
#include "passes.h"

void opt_replace_uses(ir_func *f, ir_ref *repl)
{
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first, next; r; r = next) {
            ir_inst *in = ir_at(f, r);
            next = in->next;
            if (repl[r]) {
                ir_remove(f, r);
                continue;
            }
            for (uint32_t i = 0; i < in->nargs; i++)
                in->args[i] = opt_resolve(repl, in->args[i]);
        }
}

void opt_replace_other_uses(ir_func *f, const ir_dom *d, const ir_ref *repl)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        bool reachable = d->order[b] != UINT32_MAX;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            if (reachable && in->op != IR_PHI)
                break;
            for (uint32_t k = 0; k < in->nargs; k++)
                in->args[k] = opt_resolve(repl, in->args[k]);
        }
    }
}

static bool is_int_const(const ir_inst *in)
{
    return in->op == WASM_OP_I32_CONST || in->op == WASM_OP_I64_CONST;
}

/* The instruction becomes the constant `bits` of its type. The back end
 * rematerializes constants at their uses, so it may stay where it is,
 * which keeps it dominating them (the end of the entry block would not,
 * for uses in the entry block itself). */
static void make_const(ir_inst *in, uint64_t bits)
{
    in->op = in->type == WASM_I32 ? WASM_OP_I32_CONST : WASM_OP_I64_CONST;
    in->imm = in->type == WASM_I32 ? (uint32_t)bits : bits;
    in->nargs = 0;
}

static uint64_t sext(uint64_t x, unsigned bits)
{
    return bits == 64 ? x : (uint64_t)((int64_t)(x << (64 - bits)) >> (64 - bits));
}

static uint64_t rotl(uint64_t x, unsigned n, unsigned w)
{
    uint64_t mask = w == 64 ? UINT64_MAX : ((uint64_t)1 << w) - 1;
    n &= w - 1;
    return n ? ((x << n) | ((x & mask) >> (w - n))) & mask : x & mask;
}

static unsigned clz(uint64_t x, unsigned w) { return x ? (unsigned)__builtin_clzll(x) - (64 - w) : w; }
static unsigned ctz(uint64_t x, unsigned w) { return x ? (unsigned)__builtin_ctzll(x) : w; }

/* k: the operator's place in i32's (or i64's) run from clz to rotr
 * (clz ctz popcnt add sub mul div_s div_u rem_s rem_u and or xor shl
 * shr_s shr_u rotl rotr); a and b are zero-extended. False when it would
 * trap. */
static bool fold_arith(unsigned k, unsigned w, uint64_t a, uint64_t b, uint64_t *out)
{
    int64_t sa = (int64_t)sext(a, w), sb = (int64_t)sext(b, w);
    uint64_t min = (uint64_t)1 << (w - 1);
    switch (k) {
    case 0: *out = clz(a, w); return true;
    case 1: *out = ctz(a, w); return true;
    case 2: *out = (uint64_t)__builtin_popcountll(a); return true;
    case 3: *out = a + b; return true;
    case 4: *out = a - b; return true;
    case 5: *out = a * b; return true;
    case 6:
        if (b == 0 || (a == min && sb == -1))
            return false;
        *out = (uint64_t)(sa / sb);
        return true;
    case 7:
        if (b == 0)
            return false;
        *out = a / b;
        return true;
    case 8:
        if (b == 0)
            return false;
        *out = sb == -1 ? 0 : (uint64_t)(sa % sb);
        return true;
    case 9:
        if (b == 0)
            return false;
        *out = a % b;
        return true;
    case 10: *out = a & b; return true;
    case 11: *out = a | b; return true;
    case 12: *out = a ^ b; return true;
    case 13: *out = a << (b & (w - 1)); return true;
    case 14: *out = (uint64_t)(sa >> (b & (w - 1))); return true;
    case 15: *out = a >> (b & (w - 1)); return true;
    case 16: *out = rotl(a, (unsigned)(b & (w - 1)), w); return true;
    default: *out = rotl(a, (unsigned)((w - (b & (w - 1))) & (w - 1)), w); return true;
    }
}

/* k: the place in eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u. */
static bool fold_compare(unsigned k, unsigned w, uint64_t a, uint64_t b)
{
    int64_t sa = (int64_t)sext(a, w), sb = (int64_t)sext(b, w);
    switch (k) {
    case 0: return a == b;
    case 1: return a != b;
    case 2: return sa < sb;
    case 3: return a < b;
    case 4: return sa > sb;
    case 5: return a > b;
    case 6: return sa <= sb;
    case 7: return a <= b;
    case 8: return sa >= sb;
    default: return a >= b;
    }
}

/* Folds an operation whose operands are all integer constants (their
 * bits in c[]); false when it is none that folds. */
static bool fold(uint16_t op, const uint64_t *c, uint64_t *out)
{
    if (op == WASM_OP_I32_EQZ || op == WASM_OP_I64_EQZ) {
        *out = c[0] == 0;
        return true;
    }
    if (op >= WASM_OP_I32_EQ && op <= WASM_OP_I32_GE_U) {
        *out = fold_compare(op - WASM_OP_I32_EQ, 32, c[0], c[1]);
        return true;
    }
    if (op >= WASM_OP_I64_EQ && op <= WASM_OP_I64_GE_U) {
        *out = fold_compare(op - WASM_OP_I64_EQ, 64, c[0], c[1]);
        return true;
    }
    if (op >= WASM_OP_I32_CLZ && op <= WASM_OP_I32_ROTR)
        return fold_arith(op - WASM_OP_I32_CLZ, 32, c[0], op >= WASM_OP_I32_ADD ? c[1] : 0, out);
    if (op >= WASM_OP_I64_CLZ && op <= WASM_OP_I64_ROTR)
        return fold_arith(op - WASM_OP_I64_CLZ, 64, c[0], op >= WASM_OP_I64_ADD ? c[1] : 0, out);
    switch (op) {
    case WASM_OP_I32_WRAP_I64: *out = (uint32_t)c[0]; return true;
    case WASM_OP_I64_EXTEND_I32_S: *out = sext(c[0], 32); return true;
    case WASM_OP_I64_EXTEND_I32_U: *out = (uint32_t)c[0]; return true;
    case WASM_OP_I32_EXTEND8_S: case WASM_OP_I64_EXTEND8_S: *out = sext(c[0] & 0xff, 8); return true;
    case WASM_OP_I32_EXTEND16_S: case WASM_OP_I64_EXTEND16_S:
        *out = sext(c[0] & 0xffff, 16);
        return true;
    case WASM_OP_I64_EXTEND32_S: *out = sext(c[0], 32); return true;
    default: return false;
    }
}

/* Whether an i32 operation yields only 0 or 1 (eqz and comparisons). */
static bool is_boolean(uint16_t op) { return op >= WASM_OP_I32_EQZ && op <= WASM_OP_F64_GE; }

/* The bits integer value x may have set: a zero-extended load's or
 * extension's low ones, a boolean's lowest. */
static uint64_t low_bits(const ir_inst *x, unsigned w)
{
    switch (x->op) {
    case WASM_OP_I32_LOAD8_U: case WASM_OP_I64_LOAD8_U: return 0xff;
    case WASM_OP_I32_LOAD16_U: case WASM_OP_I64_LOAD16_U: return 0xffff;
    case WASM_OP_I64_LOAD32_U: case WASM_OP_I64_EXTEND_I32_U: return UINT32_MAX;
    default: return is_boolean(x->op) ? 1 : w == 32 ? UINT32_MAX : UINT64_MAX;
    }
}

/* An existing value equal to integer operation `in` by an identity
 * (x+0, x*1, x&-1 or any mask keeping x's bits, x|0, x^0, shifts by 0, x/1,
 * eqz(eqz(compare))), 0
 * when none applies; folds x-x, x^x, x*0, x&0 into `in` in place. */
static ir_ref identity(ir_func *f, ir_inst *in)
{
    uint16_t op = in->op;
    bool i32 = op >= WASM_OP_I32_ADD && op <= WASM_OP_I32_ROTR;
    if (op == WASM_OP_I32_EQZ) {
        const ir_inst *a = ir_at(f, in->args[0]);
        if (a->op == WASM_OP_I32_EQZ && is_boolean(ir_at(f, a->args[0])->op))
            return a->args[0];
        return 0;
    }
    if (!i32 && !(op >= WASM_OP_I64_ADD && op <= WASM_OP_I64_ROTR))
        return 0;
    unsigned k = op - (i32 ? WASM_OP_I32_CLZ : WASM_OP_I64_CLZ), w = i32 ? 32 : 64;
    ir_ref x = in->args[0], y = in->args[1];
    const ir_inst *cx = ir_at(f, x), *cy = ir_at(f, y);
    if (x == y && (k == 4 || k == 12)) { /* x-x, x^x */
        make_const(in, 0);
        return 0;
    }
    if (x == y && (k == 10 || k == 11)) /* x&x, x|x */
        return x;
    /* commutative: a constant on the left is looked at on the right */
    if (is_int_const(cx) && !is_int_const(cy) && (k == 3 || k == 5 || (k >= 10 && k <= 12))) {
        ir_ref t = x;
        x = y, y = t;
        cy = cx;
    }
    if (!is_int_const(cy))
        return 0;
    uint64_t c = cy->imm;
    switch (k) {
    case 3: case 4: case 11: case 12: return c == 0 ? x : 0; /* + - | ^ */
    case 5:
        if (c == 0)
            make_const(in, 0);
        return c == 1 ? x : 0;
    case 6: case 7: return c == 1 ? x : 0; /* division by one cannot trap */
    case 10:
        if (c == 0)
            make_const(in, 0);
        return (c | low_bits(ir_at(f, x), w)) == c ? x : 0; /* keeps every bit x may have */
    case 13: case 14: case 15: case 16: case 17: return (c & (w - 1)) == 0 ? x : 0;
    default: return 0;
    }
}

/* What instruction `in` reduces to: 0 when it stays (perhaps folded into a
 * constant in place), else the value replacing it. */
static ir_ref simplify(ir_func *f, ir_inst *in)
{
    if (in->op == WASM_OP_SELECT) {
        const ir_inst *c = ir_at(f, in->args[2]);
        if (c->op == WASM_OP_I32_CONST)
            return in->args[c->imm ? 0 : 1];
        return in->args[0] == in->args[1] ? in->args[0] : 0;
    }
    if (in->nargs == 0 || in->nargs > 2 || (in->type != WASM_I32 && in->type != WASM_I64))
        return 0;
    uint64_t c[2];
    bool all_const = true;
    for (uint32_t i = 0; i < in->nargs; i++) {
        const ir_inst *a = ir_at(f, in->args[i]);
        all_const &= is_int_const(a);
        c[i] = a->imm;
    }
    uint64_t v;
    if (all_const && fold(in->op, c, &v)) {
        make_const(in, v);
        return 0;
    }
    return identity(f, in);
}

bool opt_simplify(ir_func *f, const ir_dom *d)
{
    ir_ref *repl = ir_alloc(f, f->ninsts, sizeof *repl);
    if (!repl)
        return false;
    bool changed = false;
    /* In reverse postorder an operand is simplified before its uses (but
     * for phis', which the final rewrite covers); what is replaced goes at
     * once. */
    for (uint32_t i = 0; i < d->nrpo; i++)
        for (ir_ref r = f->blocks[d->rpo[i]].first, next; r; r = next) {
            ir_inst *in = ir_at(f, r);
            next = in->next;
            for (uint32_t k = 0; k < in->nargs; k++)
                in->args[k] = opt_resolve(repl, in->args[k]);
            if (in->op != IR_PHI && (repl[r] = simplify(f, in))) {
                ir_remove(f, r);
                changed = true;
            }
        }
    if (changed)
        opt_replace_other_uses(f, d, repl);
    return true;
}
