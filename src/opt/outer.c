/* Outer-loop vectorization (passes.h: opt_vectorize_outer).
 *
 * gcc -O2 vectorizes nests like doitgen's
 *
 *     for (p = 0; p < np; p++) {            O, the outer loop
 *         s = 0;
 *         for (k = 0; k < np; k++)          I, a single block
 *             s += A[r][q][k] * C4[k][p];
 *         sum[p] = s;
 *     }
 *
 * over p: iterations p and p + 1 run at once, one per lane. C4[k][p] and
 * C4[k][p + 1] are neighbours, read by one v128 load; A[r][q][k], the same
 * for both, by one scalar load, splatted; s is a v128 of both sums. Each
 * lane does its own iteration's operations in their order, so results are
 * exact, floats too (no reduction is reassociated).
 *
 * Across the lanes (iterations n, n + 1, ...), each value of O is:
 * uniform (the same in every lane: one scalar), affine (lane l's is lane
 * 0's plus l times a constant stride: counters and addresses, computed for
 * lane 0) or a vector (a v128 of the lanes' values). A load or store at an
 * affine address whose stride is its width becomes a v128 one; with a
 * larger stride (a row of a matrix, where O walks its rows), one access a
 * lane, gathered into or scattered from a v128: the lanes still sum apart,
 * which halves a chain of dependent adds. A load at a uniform address
 * stays one scalar load. Branches are uniform, but O's
 * exit, which the copy tests for lane 0 with O's counters stepped by all
 * the lanes.
 *
 * As in vectorize.c, the copy V runs only when a guard before O holds:
 * both trip counts are known (O's at least the lanes), no access of the
 * whole nest can trap or wrap, and every store touches bytes that no other
 * access of the nest touches, but an access at its very address (x read,
 * then written): then running iterations by lanes changes nothing.
 * Otherwise O runs as it was. V runs the lanes' multiple of O's trips and
 * O the rest, from where V left its counters (a triangle's rows of odd
 * length too).
 *
 * The nests taken: O's header Oh, entered from P alone, jumps to I, which
 * loops on itself and then goes on to O's latch Ol, whose branch goes back
 * to Oh or leaves for E. No stores in I; loads and stores on 32-bit memory
 * 0 and no other effects (calls, traps, metering); O's values read after
 * it only by E's phis, and only uniform ones or O's counters' next values.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* Accesses of a nest: the guard checks the pairs with a store. */
#define MAX_ACCESSES 16
/* Values from outside in one address (linear below). */
#define MAX_ATOMS 4
/* Strides and coefficients kept small: the guard's 64-bit sums of them
 * times 32-bit values cannot overflow. */
#define MAX_SCALE (1 << 24)

enum { K_NONE, K_UNI, K_AFF, K_VEC };

/* An address as (k + sum coef[i] * atom[i]) + n * so + m * si: atoms
 * from outside the nest, n the outer iteration and m the inner one.
 * Everything wasm computes it with is modulo 2^32 and congruent to it, so
 * where the guard finds it in [0, 2^32) it is the address. */
typedef struct linear {
    int64_t k, so, si;
    ir_ref atom[MAX_ATOMS];
    int64_t coef[MAX_ATOMS];
    int natoms;
} linear;

typedef struct access {
    ir_ref r, addr;
    uint64_t offset;
    uint32_t width;
    bool store, inner;
} access;

/* A loop's count: iv stepped by step until next (iv + step) reaches bound
 * (0: zero). */
typedef struct count {
    ir_ref iv, next, bound, cond;
    int64_t step;
} count;

typedef struct nest {
    ir_func *f;
    uint32_t p, oh, in, ol, e;
    uint32_t ninsts;   /* before the copy */
    uint8_t *kind;     /* per instruction of O: K_* */
    int64_t *stride;   /* per K_AFF instruction */
    ir_ref *map;       /* per instruction of O: its copy in V */
    ir_ref *splat;     /* per value V splats: the splat */
    int lanes;
    count outer, inner;
    ir_ref v_bound, rest; /* in P: O's counter where V leaves it; whether
                           * iterations are left for O (guard()) */
    access acc[MAX_ACCESSES];
    int nacc;
} nest;

static bool in_o(const nest *n, ir_ref r)
{
    if (r >= n->ninsts)
        return false;
    uint32_t b = n->f->insts[r].block;
    return b == n->oh || b == n->in || b == n->ol;
}

static bool is_const32(const ir_inst *in) { return in->op == WASM_OP_I32_CONST; }

static uint8_t kind_of(const nest *n, ir_ref r) { return in_o(n, r) ? n->kind[r] : K_UNI; }

static int lanes_of(uint8_t t)
{
    return t == WASM_F64 || t == WASM_I64 ? 2 : t == WASM_F32 || t == WASM_I32 ? 4 : 0;
}

/* Whether `next` is phi plus a constant (add, or sub of one: clang
 * writes both); *step gets the constant added. */
static bool step_of(ir_func *f, ir_ref next, ir_ref phi, int64_t *step)
{
    const ir_inst *in = ir_at(f, next);
    if (in->op != WASM_OP_I32_ADD && in->op != WASM_OP_I32_SUB)
        return false;
    int j = in->args[0] == phi ? 1 : 0;
    const ir_inst *c = ir_at(f, in->args[j]);
    if (in->args[1 - j] != phi || !is_const32(c) || (in->op == WASM_OP_I32_SUB && j == 0))
        return false;
    int64_t k = (int32_t)(uint32_t)c->imm;
    *step = in->op == WASM_OP_I32_SUB ? -k : k;
    return true;
}

/* The count of the loop headed by h whose back edge comes from `latch`,
 * which ends in br_if (stay: taken back to h): next != bound, next ==
 * bound leaving, next (!= 0) or eqz next leaving, with next = iv plus a
 * constant (step_of), bound from outside the nest. */
static bool counted(nest *n, uint32_t h, uint32_t latch, count *c)
{
    ir_func *f = n->f;
    const ir_block *lb = &f->blocks[latch];
    const ir_inst *br = ir_at(f, lb->last);
    if (br->op != WASM_OP_BR_IF)
        return false;
    bool stay = lb->succs[0] == h;
    ir_ref cond = br->args[0];
    const ir_inst *cmp = ir_at(f, cond);
    ir_ref pairs[2][2] = {{0, 0}, {0, 0}};
    if (cmp->op == (stay ? WASM_OP_I32_NE : WASM_OP_I32_EQ)) {
        pairs[0][0] = cmp->args[0], pairs[0][1] = cmp->args[1];
        pairs[1][0] = cmp->args[1], pairs[1][1] = cmp->args[0];
    } else if (stay && cmp->op == WASM_OP_I32_ADD) {
        pairs[0][0] = cond;
    } else if (!stay && cmp->op == WASM_OP_I32_EQZ) {
        pairs[0][0] = cmp->args[0];
    } else {
        return false;
    }
    uint32_t back = ir_pred_index(f, h, latch);
    for (int side = 0; side < 2 && pairs[side][0]; side++) {
        ir_ref next = pairs[side][0], bound = pairs[side][1];
        const ir_inst *add = ir_at(f, next);
        if ((bound && in_o(n, bound) && !is_const32(ir_at(f, bound))) ||
            (add->op != WASM_OP_I32_ADD && add->op != WASM_OP_I32_SUB) || !in_o(n, next))
            continue;
        for (int j = 0; j < 2; j++) {
            ir_ref iv = add->args[j];
            const ir_inst *phi = ir_at(f, iv);
            int64_t step;
            if (phi->op != IR_PHI || phi->block != h || phi->args[back] != next ||
                !step_of(f, next, iv, &step))
                continue;
            int64_t size = step < 0 ? -step : step;
            if (size == 0 || size > MAX_SCALE)
                continue;
            *c = (count){.iv = iv, .next = next, .bound = bound, .cond = cond, .step = step};
            return true;
        }
    }
    return false;
}

/* ---- what each value is across the lanes ---- */

static bool set_lanes(nest *n, uint8_t t)
{
    int l = lanes_of(t);
    if (!l || (n->lanes && n->lanes != l))
        return false;
    n->lanes = l;
    return true;
}

static bool add_access(nest *n, ir_ref r, bool store)
{
    const ir_inst *in = ir_at(n->f, r);
    if (n->nacc == MAX_ACCESSES || in->aux != 0 || in->imm > UINT32_MAX)
        return false;
    n->acc[n->nacc++] = (access){.r = r, .addr = in->args[0], .offset = in->imm,
                                 .width = (uint32_t)ir_access_size(in->op), .store = store,
                                 .inner = in->block == n->in};
    return true;
}

/* An affine value's kind and stride from its operation; false when the
 * operation does not keep it affine. */
static bool affine(nest *n, const ir_inst *in, uint8_t k0, uint8_t k1, ir_ref r)
{
    ir_func *f = n->f;
    int64_t s0 = k0 == K_AFF ? n->stride[in->args[0]] : 0;
    int64_t s1 = in->nargs > 1 && k1 == K_AFF ? n->stride[in->args[1]] : 0, s;
    const ir_inst *c = in->nargs > 1 ? ir_at(f, in->args[1]) : NULL;
    if (in->op == WASM_OP_I32_ADD)
        s = s0 + s1;
    else if (in->op == WASM_OP_I32_SUB)
        s = s0 - s1;
    else if (in->op == WASM_OP_I32_SHL && k0 == K_AFF && is_const32(c) && (c->imm & 31) < 24)
        s = s0 << (c->imm & 31);
    else if (in->op == WASM_OP_I32_MUL && k0 == K_AFF && is_const32(c))
        s = s0 * (int32_t)(uint32_t)c->imm;
    else
        return false;
    if (s < -MAX_SCALE || s > MAX_SCALE)
        return false;
    n->kind[r] = s ? K_AFF : K_UNI;
    n->stride[r] = s;
    return true;
}

/* Whether the lanes of an access at an affine address are apart (its
 * stride at least its width): neighbours, for one v128 access, or else
 * one access a lane (the copy's gathers and scatters). */
static bool apart(const nest *n, const ir_inst *in)
{
    int64_t s = n->stride[in->args[0]];
    return (s < 0 ? -s : s) >= ir_access_size(in->op);
}

/* Classifies one instruction of O (not a phi); false when the nest is not
 * one taken. */
static bool classify(nest *n, ir_ref r)
{
    ir_func *f = n->f;
    const ir_inst *in = ir_at(f, r);
    n->kind[r] = K_NONE;
    if (r == n->outer.cond || in->op == WASM_OP_BR)
        return true;
    if (in->op == WASM_OP_BR_IF)
        return in->args[0] == n->outer.cond || kind_of(n, in->args[0]) == K_UNI;
    if (in->op >= WASM_OP_I32_LOAD && in->op <= WASM_OP_I64_LOAD32_U) {
        uint8_t ka = kind_of(n, in->args[0]);
        if (ka == K_UNI) {
            n->kind[r] = K_UNI;
        } else if (ka == K_AFF && opt_full_load(in->op) && apart(n, in) &&
                   set_lanes(n, in->type)) {
            n->kind[r] = K_VEC;
        } else {
            return false;
        }
        return add_access(n, r, false);
    }
    if (in->op >= WASM_OP_I32_STORE && in->op <= WASM_OP_I64_STORE32) {
        uint8_t kv = kind_of(n, in->args[1]);
        return in->block != n->in && opt_full_store(in->op) &&
               kind_of(n, in->args[0]) == K_AFF && apart(n, in) &&
               (kv == K_UNI || kv == K_VEC) && set_lanes(n, ir_at(f, in->args[1])->type) &&
               add_access(n, r, true);
    }
    if (ir_has_effects(in->op) || in->op == IR_PHI || in->nargs > 2 || !in->type)
        return false;
    uint8_t k[2] = {K_UNI, K_UNI};
    bool any_aff = false, any_vec = false;
    for (uint32_t a = 0; a < in->nargs; a++) {
        k[a] = kind_of(n, in->args[a]);
        if (k[a] == K_NONE) /* O's exit test */
            return false;
        any_aff |= k[a] == K_AFF;
        any_vec |= k[a] == K_VEC;
    }
    if (any_aff)
        return !any_vec && affine(n, in, k[0], k[1], r);
    if (!any_vec) {
        /* reads of state that may change are not the same across lanes */
        if (!opt_is_pure(f, in) && !(in->op >= WASM_OP_I32_CONST && in->op <= WASM_OP_F64_CONST))
            return false;
        n->kind[r] = K_UNI;
        return true;
    }
    uint16_t vop = opt_vector_op(in->op);
    if (!vop || (opt_vector_shift(vop) && k[1] != K_UNI) || !set_lanes(n, in->type))
        return false;
    n->kind[r] = K_VEC;
    return true;
}

static bool classify_block(nest *n, uint32_t b)
{
    ir_func *f = n->f;
    for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
        if (ir_at(f, r)->op != IR_PHI && !classify(n, r))
            return false;
    return true;
}

/* Classifies O: Oh's phis (O's counters: affine), its body, I's phis as
 * their first operands say, I's body and Ol's; again while a back edge
 * brings a vector to a phi taken for uniform (a sum). */
static bool classify_nest(nest *n)
{
    ir_func *f = n->f;
    uint32_t back = ir_pred_index(f, n->oh, n->ol);
    for (ir_ref r = f->blocks[n->oh].first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next) {
        ir_ref nr = ir_at(f, r)->args[back];
        int64_t s;
        if (!in_o(n, nr) || !step_of(f, nr, r, &s) || !s || s < -MAX_SCALE || s > MAX_SCALE)
            return false;
        n->kind[r] = K_AFF;
        n->stride[r] = s;
    }
    uint32_t from_oh = ir_pred_index(f, n->in, n->oh), from_in = ir_pred_index(f, n->in, n->in);
    for (int round = 0; round < 4; round++) {
        n->nacc = 0;
        if (!classify_block(n, n->oh))
            return false;
        for (ir_ref r = f->blocks[n->in].first; round == 0 && ir_at(f, r)->op == IR_PHI;
             r = ir_at(f, r)->next) {
            ir_ref init = ir_at(f, r)->args[from_oh];
            n->kind[r] = kind_of(n, init);
            n->stride[r] = n->kind[r] == K_AFF ? n->stride[init] : 0;
        }
        if (!classify_block(n, n->in) || !classify_block(n, n->ol))
            return false;
        bool again = false;
        for (ir_ref r = f->blocks[n->in].first; ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next) {
            ir_ref next = ir_at(f, r)->args[from_in];
            uint8_t kb = kind_of(n, next);
            if (kb == n->kind[r] && (kb != K_AFF || n->stride[next] == n->stride[r]))
                continue;
            if (n->kind[r] != K_UNI || kb != K_VEC || !set_lanes(n, ir_at(f, r)->type))
                return false;
            n->kind[r] = K_VEC;
            again = true;
        }
        if (!again)
            return true;
    }
    return false;
}

/* ---- the guard ---- */

/* Within the bounds that keep the guard's sums in 64 bits. */
static bool lin_ok(const linear *a)
{
    bool ok = a->k > -((int64_t)1 << 48) && a->k < (int64_t)1 << 48;
    ok &= a->so >= -MAX_SCALE && a->so <= MAX_SCALE && a->si >= -MAX_SCALE && a->si <= MAX_SCALE;
    for (int i = 0; i < a->natoms; i++)
        ok &= a->coef[i] >= -MAX_SCALE && a->coef[i] <= MAX_SCALE;
    return ok;
}

static bool lin_scale(linear *a, int64_t c)
{
    bool over = __builtin_mul_overflow(a->k, c, &a->k) | __builtin_mul_overflow(a->so, c, &a->so) |
                __builtin_mul_overflow(a->si, c, &a->si);
    for (int i = 0; i < a->natoms; i++)
        over |= __builtin_mul_overflow(a->coef[i], c, &a->coef[i]);
    return !over && lin_ok(a);
}

/* a += sign * b (sign 1 or -1) */
static bool lin_add(linear *a, const linear *b, int64_t sign)
{
    a->k += sign * b->k;
    a->so += sign * b->so;
    a->si += sign * b->si;
    for (int i = 0; i < b->natoms; i++) {
        int j = 0;
        while (j < a->natoms && a->atom[j] != b->atom[i])
            j++;
        if (j == a->natoms) {
            if (j == MAX_ATOMS)
                return false;
            a->atom[a->natoms++] = b->atom[i];
            a->coef[j] = 0;
        }
        a->coef[j] += sign * b->coef[i];
    }
    return lin_ok(a);
}

/* Value r of the nest as a linear form; false when it is not one. */
static bool linear_of(nest *n, ir_ref r, linear *out, int depth)
{
    ir_func *f = n->f;
    const ir_inst *in = ir_at(f, r);
    *out = (linear){0};
    if (depth > 16)
        return false;
    if (is_const32(in)) {
        out->k = (int32_t)(uint32_t)in->imm;
        return true;
    }
    if (!in_o(n, r)) {
        if (in->type != WASM_I32)
            return false;
        out->atom[0] = r;
        out->coef[0] = 1;
        out->natoms = 1;
        return true;
    }
    linear a, b;
    if (in->op == IR_PHI) {
        /* a counter: its first value, plus its step per iteration */
        bool outer = in->block == n->oh;
        if (!outer && in->block != n->in)
            return false;
        uint32_t from = ir_pred_index(f, in->block, outer ? n->p : n->oh);
        uint32_t back = ir_pred_index(f, in->block, outer ? n->ol : n->in);
        int64_t step;
        if (!step_of(f, in->args[back], r, &step) || !linear_of(n, in->args[from], out, depth + 1))
            return false;
        if (outer)
            out->so += step;
        else
            out->si += step;
        return true;
    }
    switch (in->op) {
    case WASM_OP_I32_ADD:
    case WASM_OP_I32_SUB:
        return linear_of(n, in->args[0], out, depth + 1) &&
               linear_of(n, in->args[1], &b, depth + 1) &&
               lin_add(out, &b, in->op == WASM_OP_I32_ADD ? 1 : -1);
    case WASM_OP_I32_SHL:
    case WASM_OP_I32_MUL: {
        const ir_inst *c = ir_at(f, in->args[1]);
        if (!is_const32(c) || (in->op == WASM_OP_I32_SHL && (c->imm & 31) >= 24))
            return false;
        int64_t by = in->op == WASM_OP_I32_SHL ? (int64_t)1 << (c->imm & 31)
                                               : (int32_t)(uint32_t)c->imm;
        return linear_of(n, in->args[0], &a, depth + 1) && lin_scale(&a, by) &&
               lin_add(out, &a, 1);
    }
    default:
        return false;
    }
}

/* Whether r is the next value of one of O's counters (Oh's phis). */
static bool outer_next(const nest *n, ir_ref r)
{
    ir_func *f = n->f;
    uint32_t back = ir_pred_index(f, n->oh, n->ol);
    for (ir_ref p = f->blocks[n->oh].first; ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next)
        if (ir_at(f, p)->args[back] == r)
            return true;
    return false;
}

/* Whether O's values are read only as V can give them: the counters' next
 * values by their phis and O's exit test alone (V steps them by all the
 * lanes), and after O only by E's phis, uniform values or those next
 * values (the same when V ends). */
static bool reads_taken(const nest *n)
{
    ir_func *f = n->f;
    for (uint32_t b = 0; b < f->nblocks; b++) {
        bool inside = b == n->oh || b == n->in || b == n->ol;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            for (uint32_t a = 0; a < in->nargs; a++) {
                ir_ref v = in->args[a];
                if (!in_o(n, v))
                    continue;
                bool next = outer_next(n, v);
                if (inside) {
                    if (next && !(in->op == IR_PHI && b == n->oh) && r != n->outer.cond)
                        return false;
                } else if (in->op != IR_PHI || b != n->e || f->blocks[b].preds[a] != n->ol ||
                           (!next && kind_of(n, v) != K_UNI)) {
                    return false;
                }
            }
        }
    }
    return true;
}

/* The guard's instructions, in P (opt_guard_op). */
static ir_ref put(nest *n, uint16_t op, uint8_t type, ir_ref a, ir_ref b)
{
    return opt_guard_op(n->f, n->p, op, type, a, b);
}
static ir_ref c32(nest *n, uint32_t v) { return opt_guard_const(n->f, n->p, WASM_I32, v); }
static ir_ref c64(nest *n, uint64_t v) { return opt_guard_const(n->f, n->p, WASM_I64, v); }
static ir_ref both(nest *n, ir_ref ok, ir_ref cond)
{
    return put(n, WASM_OP_I32_AND, WASM_I32, ok, cond);
}

/* Value r in P: itself from outside, or a copy of a constant of O. */
static ir_ref avail(nest *n, ir_ref r)
{
    if (!r)
        return c32(n, 0);
    return in_o(n, r) ? c32(n, (uint32_t)ir_at(n->f, r)->imm) : r;
}

/* A count's trips, an i32, with *ok and-ed with: the distance to the
 * bound is a multiple of the step, not 0. */
static ir_ref trips(nest *n, const count *c, ir_ref init, ir_ref *ok)
{
    uint32_t size = (uint32_t)(c->step < 0 ? -c->step : c->step);
    ir_ref bound = avail(n, c->bound), from = avail(n, init);
    ir_ref d = c->step > 0 ? put(n, WASM_OP_I32_SUB, WASM_I32, bound, from)
                           : put(n, WASM_OP_I32_SUB, WASM_I32, from, bound);
    *ok = both(n, *ok, put(n, WASM_OP_I32_NE, WASM_I32, d, c32(n, 0)));
    if (!(size & (size - 1))) {
        ir_ref low = put(n, WASM_OP_I32_AND, WASM_I32, d, c32(n, size - 1));
        *ok = both(n, *ok, put(n, WASM_OP_I32_EQZ, WASM_I32, low, 0));
        return put(n, WASM_OP_I32_SHR_U, WASM_I32, d, c32(n, (uint32_t)__builtin_ctz(size)));
    }
    /* by a constant other than 0: cannot trap */
    ir_ref t = put(n, WASM_OP_I32_DIV_U, WASM_I32, d, c32(n, size));
    ir_ref back = put(n, WASM_OP_I32_MUL, WASM_I32, t, c32(n, size));
    *ok = both(n, *ok, put(n, WASM_OP_I32_EQ, WASM_I32, back, d));
    return t;
}

/* t - 1 as an i64 */
static ir_ref less_one(nest *n, ir_ref t)
{
    return put(n, WASM_OP_I64_EXTEND_I32_U, WASM_I64,
               put(n, WASM_OP_I32_SUB, WASM_I32, t, c32(n, 1)), 0);
}

/* The guard (see the top), in P: an i32, 1 when V may run; 0 when out of
 * memory. */
static ir_ref guard(nest *n, const linear *lin)
{
    ir_func *f = n->f;
    ir_ref ok = c32(n, 1);
    uint32_t from_p = ir_pred_index(f, n->oh, n->p), from_oh = ir_pred_index(f, n->in, n->oh);
    ir_ref init = ir_at(f, n->outer.iv)->args[from_p];
    ir_ref t = trips(n, &n->outer, init, &ok), to = less_one(n, t);
    ir_ref ti = less_one(n, trips(n, &n->inner, ir_at(f, n->inner.iv)->args[from_oh], &ok));
    /* V runs the lanes' multiple of O's trips, at least one; O the rest */
    uint32_t lanes = (uint32_t)n->lanes;
    ok = both(n, ok, put(n, WASM_OP_I32_GE_U, WASM_I32, t, c32(n, lanes)));
    ir_ref by_v = put(n, WASM_OP_I32_AND, WASM_I32, t, c32(n, ~(lanes - 1)));
    n->v_bound = put(n, WASM_OP_I32_ADD, WASM_I32, init,
                     put(n, WASM_OP_I32_MUL, WASM_I32, by_v, c32(n, (uint32_t)n->outer.step)));
    n->rest = put(n, WASM_OP_I32_AND, WASM_I32, t, c32(n, lanes - 1));
    if (!n->v_bound || !n->rest)
        return 0;
    ir_ref pages = ir_append(f, n->p, WASM_OP_MEMORY_SIZE, WASM_I32, 0, NULL, 0);
    ir_ref size = put(n, WASM_OP_I64_SHL, WASM_I64,
                      put(n, WASM_OP_I64_EXTEND_I32_U, WASM_I64, pages, 0), c64(n, 16));
    ir_ref start[MAX_ACCESSES], end[MAX_ACCESSES];
    for (int i = 0; i < n->nacc; i++) {
        const linear *l = &lin[i];
        ir_ref lo = c64(n, (uint64_t)l->k);
        for (int a = 0; a < l->natoms; a++) {
            ir_ref x = put(n, WASM_OP_I64_EXTEND_I32_U, WASM_I64, l->atom[a], 0);
            lo = put(n, WASM_OP_I64_ADD, WASM_I64, lo,
                     put(n, WASM_OP_I64_MUL, WASM_I64, x, c64(n, (uint64_t)l->coef[a])));
        }
        ir_ref hi = lo;
        int64_t slope[2] = {l->so, l->si};
        ir_ref trips[2] = {to, ti};
        for (int s = 0; s < 2; s++) {
            if (!slope[s])
                continue;
            ir_ref span = put(n, WASM_OP_I64_MUL, WASM_I64, trips[s], c64(n, (uint64_t)slope[s]));
            if (slope[s] > 0)
                hi = put(n, WASM_OP_I64_ADD, WASM_I64, hi, span);
            else
                lo = put(n, WASM_OP_I64_ADD, WASM_I64, lo, span);
        }
        /* [lo, hi] in [0, 2^32): every address is its linear form */
        ok = both(n, ok, put(n, WASM_OP_I64_GE_S, WASM_I32, lo, c64(n, 0)));
        start[i] = put(n, WASM_OP_I64_ADD, WASM_I64, lo, c64(n, n->acc[i].offset));
        end[i] = put(n, WASM_OP_I64_ADD, WASM_I64, hi, c64(n, n->acc[i].offset + n->acc[i].width));
        ok = both(n, ok, put(n, WASM_OP_I64_LE_U, WASM_I32, end[i], size));
        if (!ok)
            return 0;
    }
    for (int i = 0; i < n->nacc; i++)
        for (int j = 0; j < n->nacc && n->acc[i].store; j++) {
            const access *a = &n->acc[i], *b = &n->acc[j];
            if (j == i || (b->store && j < i) ||
                (a->addr == b->addr && a->offset == b->offset && a->width == b->width))
                continue;
            ok = both(n, ok, put(n, WASM_OP_I32_OR, WASM_I32,
                                 put(n, WASM_OP_I64_LE_U, WASM_I32, end[i], start[j]),
                                 put(n, WASM_OP_I64_LE_U, WASM_I32, end[j], start[i])));
        }
    return ok;
}

/* ---- the copy ---- */

static ir_ref mapped(const nest *n, ir_ref r) { return in_o(n, r) ? n->map[r] : r; }

/* The v128 of value r in V: a vector's copy, or a uniform value's splat
 * (made in P for values from outside, after the value's copy for O's). */
static ir_ref vec(nest *n, ir_ref r)
{
    if (kind_of(n, r) == K_VEC)
        return n->map[r];
    if (!n->splat[r]) {
        ir_ref x = mapped(n, r);
        n->splat[r] = ir_append(n->f, in_o(n, r) ? ir_at(n->f, x)->block : n->p,
                                opt_splat_op(ir_at(n->f, r)->type), WASM_V128, 1, &x, 0);
    }
    return n->splat[r];
}

/* A load or store at an affine address whose lanes are not neighbours,
 * in block b of V: one access a lane, at lane 0's address plus the lane
 * times the stride (the iteration's own address: the guard saw none
 * wrap); a load gathers into a v128, a store takes its lanes from
 * `value`. The last instruction, or 0 when out of memory. */
static ir_ref copy_by_lanes(nest *n, const ir_inst *in, uint32_t b, ir_ref addr, ir_ref value)
{
    ir_func *f = n->f;
    bool store = in->op >= WASM_OP_I32_STORE, wide = ir_access_size(in->op) == 8;
    int64_t stride = n->stride[in->args[0]];
    uint32_t wasm = in->wasm, aux = in->aux;
    uint64_t offset = in->imm;
    ir_ref v = value, c = 0;
    for (int l = 0; l < n->lanes; l++) {
        ir_ref args[2] = {addr, v};
        if (l) {
            ir_ref k[2] = {addr, c32(n, (uint32_t)(stride * l))};
            if (!k[1] || !(args[0] = ir_append(f, b, WASM_OP_I32_ADD, WASM_I32, 2, k, 0)))
                return 0;
        }
        uint16_t op;
        if (store)
            op = wide ? WASM_OP_V128_STORE64_LANE : WASM_OP_V128_STORE32_LANE;
        else if (l)
            op = wide ? WASM_OP_V128_LOAD64_LANE : WASM_OP_V128_LOAD32_LANE;
        else
            op = wide ? WASM_OP_V128_LOAD64_ZERO : WASM_OP_V128_LOAD32_ZERO;
        if (!(c = ir_append(f, b, op, store ? 0 : WASM_V128, store || l ? 2 : 1, args, offset)))
            return 0;
        ir_inst *cin = ir_at(f, c);
        cin->aux = aux;
        cin->wasm = wasm;
        cin->flags = (uint8_t)(l << IR_LANE_SHIFT);
        if (!store)
            v = c;
    }
    return c;
}

/* The copy of instruction r of O in block b of V; 0 when out of memory. */
static ir_ref copy_inst(nest *n, ir_ref r, uint32_t b)
{
    ir_func *f = n->f;
    const ir_inst in = *ir_at(f, r); /* appends move the array */
    ir_ref args[2] = {0, 0};
    uint16_t op = in.op;
    uint8_t type = in.type;
    uint64_t imm = in.imm;
    bool store = in.op >= WASM_OP_I32_STORE && in.op <= WASM_OP_I64_STORE32;
    bool vector = n->kind[r] == K_VEC || store; /* O's stores are all the lanes' */
    for (uint32_t a = 0; a < in.nargs; a++)
        args[a] = mapped(n, in.args[a]);
    if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) {
        if (vector && store && !(args[1] = vec(n, in.args[1])))
            return 0;
        if (vector && n->stride[in.args[0]] != ir_access_size(in.op))
            return copy_by_lanes(n, &in, b, args[0], args[1]);
        if (vector) {
            op = store ? WASM_OP_V128_STORE : WASM_OP_V128_LOAD;
            type = store ? 0 : WASM_V128;
        }
    } else if (vector) {
        op = opt_vector_op(in.op);
        type = WASM_V128;
        imm = 0;
        for (uint32_t a = 0; a < in.nargs; a++)
            if (!(a == 1 && opt_vector_shift(op)) && !(args[a] = vec(n, in.args[a])))
                return 0;
        /* a splat second: x86 computes into the first operand, which the
         * splat, read again later, cannot give up */
        if (in.nargs == 2 && opt_vector_commutative(op) && kind_of(n, in.args[0]) != K_VEC) {
            ir_ref t = args[0];
            args[0] = args[1];
            args[1] = t;
        }
    } else if (outer_next(n, r)) {
        /* a counter of O steps by all the lanes */
        int j = is_const32(ir_at(f, in.args[1])) ? 1 : 0;
        if (!(args[j] = c32(n, (uint32_t)((int32_t)ir_at(f, in.args[j])->imm * n->lanes))))
            return 0;
    }
    ir_ref c = ir_append(f, b, op, type, in.nargs, args, imm);
    if (!c)
        return 0;
    ir_inst *cin = ir_at(f, c);
    cin->aux = in.aux;
    cin->wasm = in.wasm;
    cin->flags = in.flags & (uint8_t)~IR_DEAD;
    return c;
}

/* Edges of V's block b as those of O's block o, O's blocks replaced by
 * their copies. */
static bool copy_succs(nest *n, uint32_t o, uint32_t b, const uint32_t v[3])
{
    ir_func *f = n->f;
    uint32_t ns = f->blocks[o].nsuccs;
    uint32_t *succs = wasm_arena_alloc(&f->arena, ns, sizeof *succs);
    if (!succs)
        return false;
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t s = f->blocks[o].succs[i];
        succs[i] = s == n->oh ? v[0] : s == n->in ? v[1] : s == n->ol ? v[2] : s;
    }
    f->blocks[b].succs = succs;
    f->blocks[b].nsuccs = ns;
    return true;
}

/* Builds V and joins it to P (by the guard ok), O and E. */
static bool emit_copy(nest *n, ir_ref ok)
{
    ir_func *f = n->f;
    const uint32_t o[3] = {n->oh, n->in, n->ol};
    uint32_t v[3];
    for (int i = 0; i < 3; i++)
        if ((v[i] = ir_new_block(f, f->blocks[o[i]].wasm)) == UINT32_MAX)
            return false;
    if (!ir_add_pred(f, v[0], n->p) || !ir_add_pred(f, v[0], v[2]) ||
        !ir_add_pred(f, v[1], v[0]) || !ir_add_pred(f, v[1], v[1]) || !ir_add_pred(f, v[2], v[1]))
        return false;
    uint32_t first[2] = {ir_pred_index(f, n->oh, n->p), ir_pred_index(f, n->in, n->oh)};
    uint32_t back[2] = {ir_pred_index(f, n->oh, n->ol), ir_pred_index(f, n->in, n->in)};
    for (int i = 0; i < 3; i++)
        for (ir_ref r = f->blocks[o[i]].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            ir_ref c;
            if (in->op == IR_PHI) {
                /* the back edge's operand once V is built */
                bool vector = n->kind[r] == K_VEC;
                ir_ref init = in->args[first[i]];
                uint8_t type = vector ? WASM_V128 : in->type;
                ir_ref args[2] = {vector ? vec(n, init) : mapped(n, init), 0};
                args[1] = args[0];
                c = args[0] ? ir_append(f, v[i], IR_PHI, type, 2, args, 0) : 0;
            } else if (r == n->outer.cond) {
                continue; /* V has its own exit test */
            } else if (i == 2 && in->op == WASM_OP_BR_IF) {
                ir_ref x[2] = {n->map[n->outer.next], n->v_bound};
                c = ir_append(f, v[2], WASM_OP_I32_NE, WASM_I32, 2, x, 0);
                c = c ? ir_append(f, v[2], WASM_OP_BR_IF, 0, 1, &c, 0) : 0;
            } else {
                c = copy_inst(n, r, v[i]);
            }
            if (!c)
                return false;
            n->map[r] = c;
        }
    for (int i = 0; i < 2; i++)
        for (ir_ref r = f->blocks[o[i]].first; ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next) {
            ir_ref next = ir_at(f, r)->args[back[i]];
            ir_ref x = n->kind[r] == K_VEC ? vec(n, next) : mapped(n, next);
            if (!x)
                return false;
            ir_at(f, n->map[r])->args[1] = x;
        }
    for (int i = 0; i < 2; i++)
        if (!copy_succs(n, o[i], v[i], v))
            return false;
    f->blocks[v[0]].sealed = f->blocks[v[1]].sealed = f->blocks[v[2]].sealed = true;
    f->blocks[v[0]].loop_header = f->blocks[v[1]].loop_header = true;
    /* V leaves to X: on to O with V's counters where iterations are left,
     * else to E with V's values where O's came */
    uint32_t x = ir_new_block(f, f->blocks[n->ol].wasm);
    uint32_t *vsuccs = wasm_arena_alloc(&f->arena, 2, sizeof *vsuccs);
    uint32_t *xsuccs = wasm_arena_alloc(&f->arena, 2, sizeof *xsuccs);
    if (x == UINT32_MAX || !vsuccs || !xsuccs || !ir_add_pred(f, x, v[2]) ||
        !ir_append(f, x, WASM_OP_BR_IF, 0, 1, &n->rest, 0))
        return false;
    vsuccs[0] = v[0], vsuccs[1] = x;
    xsuccs[0] = n->oh, xsuccs[1] = n->e;
    f->blocks[v[2]].succs = vsuccs, f->blocks[v[2]].nsuccs = 2;
    f->blocks[x].succs = xsuccs, f->blocks[x].nsuccs = 2;
    f->blocks[x].sealed = true;
    if (!ir_add_pred(f, n->oh, x))
        return false;
    for (ir_ref r = f->blocks[n->oh].first; ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
        if (!ir_add_arg(f, r, mapped(n, ir_at(f, r)->args[back[0]])))
            return false;
    uint32_t at = ir_pred_index(f, n->e, n->ol);
    if (!ir_add_pred(f, n->e, x))
        return false;
    for (ir_ref r = f->blocks[n->e].first; ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
        if (!ir_add_arg(f, r, mapped(n, ir_at(f, r)->args[at])))
            return false;
    /* P: to V when the guard holds, else to O */
    uint32_t *psuccs = wasm_arena_alloc(&f->arena, 2, sizeof *psuccs);
    if (!psuccs)
        return false;
    ir_remove(f, f->blocks[n->p].last);
    ir_ref args[1] = {ok};
    if (!ir_append(f, n->p, WASM_OP_BR_IF, 0, 1, args, 0))
        return false;
    psuccs[0] = v[0];
    psuccs[1] = n->oh;
    f->blocks[n->p].succs = psuccs;
    f->blocks[n->p].nsuccs = 2;
    return true;
}

/* ---- the nests ---- */

/* Whether block `in` is the inner loop of a nest of the shape taken (see
 * the top); fills n's blocks. */
static bool nest_shape(nest *n, uint32_t in)
{
    ir_func *f = n->f;
    const ir_block *ib = &f->blocks[in];
    if (!ib->loop_header || ib->npreds != 2 || ib->nsuccs != 2 ||
        (ib->preds[0] != in && ib->preds[1] != in))
        return false;
    n->in = in;
    n->oh = ib->preds[ib->preds[0] == in ? 1 : 0];
    n->ol = ib->succs[ib->succs[0] == in ? 1 : 0];
    const ir_block *hb = &f->blocks[n->oh], *lb = &f->blocks[n->ol];
    if (n->oh == in || n->ol == in || n->oh == n->ol || !hb->loop_header || hb->npreds != 2 ||
        hb->nsuccs != 1 || ir_at(f, hb->last)->op != WASM_OP_BR || lb->npreds != 1 ||
        lb->nsuccs != 2 || (lb->succs[0] != n->oh && lb->succs[1] != n->oh))
        return false;
    n->e = lb->succs[lb->succs[0] == n->oh ? 1 : 0];
    n->p = hb->preds[hb->preds[0] == n->ol ? 1 : 0];
    const ir_block *pb = &f->blocks[n->p];
    return n->e != n->oh && n->e != in && n->e != n->ol && hb->preds[0] != hb->preds[1] &&
           (hb->preds[0] == n->ol || hb->preds[1] == n->ol) && n->p != in && pb->nsuccs == 1 &&
           ir_at(f, pb->last)->op == WASM_OP_BR;
}

/* Whether the nest is one taken, with its accesses' linear forms. */
static bool plan(nest *n, linear *lin)
{
    ir_func *f = n->f;
    n->lanes = 0;
    n->nacc = 0;
    n->outer.cond = 0;
    if (!counted(n, n->oh, n->ol, &n->outer) || !counted(n, n->in, n->in, &n->inner))
        return false;
    ir_ref init = ir_at(f, n->inner.iv)->args[ir_pred_index(f, n->in, n->oh)];
    if (in_o(n, init) && !is_const32(ir_at(f, init)))
        return false;
    if (!classify_nest(n) || !n->lanes || n->kind[n->inner.iv] != K_UNI || !reads_taken(n))
        return false;
    bool stores = false;
    for (int i = 0; i < n->nacc; i++) {
        stores |= n->acc[i].store;
        if (!linear_of(n, n->acc[i].addr, &lin[i], 0) || (!n->acc[i].inner && lin[i].si))
            return false;
    }
    return stores;
}

/* Resets the per-instruction state O's instructions left. */
static void forget(nest *n)
{
    ir_func *f = n->f;
    const uint32_t o[3] = {n->oh, n->in, n->ol};
    for (int i = 0; i < 3; i++)
        for (ir_ref r = f->blocks[o[i]].first; r; r = ir_at(f, r)->next)
            if (r < n->ninsts)
                n->kind[r] = 0, n->stride[r] = 0, n->map[r] = 0;
    memset(n->splat, 0, n->ninsts * sizeof *n->splat);
}

bool opt_vectorize_outer(ir_func *f, bool *changed)
{
    if (!f->m->nmemories || f->m->memories[0].is64)
        return true;
    uint32_t nblocks = f->nblocks, b = 0;
    nest n = {.f = f, .ninsts = f->ninsts};
    while (b < nblocks && !nest_shape(&n, b))
        b++;
    if (b == nblocks) /* most functions: nothing to allocate or walk */
        return true;
    n.kind = calloc(n.ninsts, sizeof *n.kind);
    n.stride = calloc(n.ninsts, sizeof *n.stride);
    n.map = calloc(n.ninsts, sizeof *n.map);
    n.splat = calloc(n.ninsts, sizeof *n.splat);
    bool ok = n.kind && n.stride && n.map && n.splat;
    for (; b < nblocks && ok; b++) {
        linear lin[MAX_ACCESSES];
        if (!nest_shape(&n, b))
            continue;
        if (!plan(&n, lin)) {
            forget(&n);
            continue;
        }
        ir_ref g = guard(&n, lin);
        ok = g && emit_copy(&n, g);
        *changed = true;
        forget(&n);
    }
    free(n.kind);
    free(n.stride);
    free(n.map);
    free(n.splat);
    return ok;
}
