/* Vectorization of unrolled loops (passes.h: opt_vectorize).
 *
 * clang unrolls small innermost loops before it emits wasm: an iteration
 * of gemm's `C[i][j] += alpha * A[i][k] * B[k][j]` handles j and j + 1 as
 * two copies of the same operations on neighbouring addresses. Such copies
 * are packed into one v128 operation each (superword-level parallelism):
 * stores of neighbouring addresses seed the packs, and their operands are
 * packed lane by lane, down to loads of neighbouring addresses and values
 * the lanes share (a splat).
 *
 * Packing moves each lane to its pack's last member, so memory operations
 * of one iteration change order, and a 16-byte access could fault where
 * the scalar ones would have trapped only later or not at all. The result
 * is kept exactly the scalar loop's by running the packed copy only when,
 * checked once before the loop, no access of the whole loop can trap and
 * the accesses whose order changed touch disjoint memory; otherwise the
 * original loop runs:
 *
 *     P: ...; guard                        P: the loop's preheader
 *     br_if guard -> V, else -> H          V: the packed copy of H
 *     V: loop, exits to E                  H: the loop as it was
 *     H: loop, exits to E
 *
 * The loops taken are a single block H whose back edge is its own, entered
 * from a block P that jumps only to it, leaving to one block E; counted by
 * an induction variable stepped by a power of two (either way) until it
 * equals a bound from outside or 0 (clang's rotated loops); whose memory
 * accesses are all at an induction variable plus something from outside
 * plus a constant (of 32-bit memory 0); with no other effect (calls,
 * traps, metering); and whose values are read after the loop only by E's
 * phis, or anywhere when E is entered from H alone (they then become phis
 * of E). */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* Memory accesses and packs a loop may have (the pairs checked are their
 * square). */
#define MAX_ACCESSES 64
#define MAX_PACKS 64
/* How deep the packing of one store's operands goes. */
#define MAX_DEPTH 24

enum { PK_LOAD, PK_STORE, PK_OP, PK_SPLAT };

typedef struct pack {
    uint8_t kind, n;    /* n lanes */
    uint16_t vop;       /* the v128 operation */
    ir_ref lane[4];     /* PK_SPLAT: lane[0] is the value */
    uint32_t last;      /* position of the last lane in H (not PK_SPLAT) */
    int16_t arg[2];     /* per operand: a pack, or -1 for a scalar shared
                         * by every lane (a shift's count): lane[0]'s */
    ir_ref vec;         /* the v128 value once emitted */
} pack;

/* An access's address: iv + base + k, the induction variable iv (0: none),
 * base from outside (0: none), k a 32-bit constant, then the memarg offset.
 * Where the guard holds, no sum wraps (guard()), so the access is at
 * (iv + base) + rel, rel = k (signed) + offset, exactly. */
typedef struct access {
    ir_ref r, iv, base;
    int64_t rel;
    uint32_t width;
    bool store;
    int group;          /* of the accesses with the same iv and base */
} access;

typedef struct group {
    ir_ref iv, base;
    int64_t lo, hi;     /* the bytes accessed from iv + base: min rel, max rel + width */
    int64_t kmin;       /* the least k (signed): iv + base + k must not be below 0 */
} group;

typedef struct loop {
    ir_func *f;
    uint32_t h, p, e;
    uint32_t *pos;      /* per instruction of H: 1 + its position, else 0 */
    int16_t *pack_of;   /* per instruction: 1 + its pack, or 0 */
    ir_ref *map;        /* per instruction of H: its copy in V */
    bool *scalar_use;   /* per instruction: used as a scalar by V too */
    pack packs[MAX_PACKS];
    int npacks;
    access acc[MAX_ACCESSES];
    int nacc;
    group groups[MAX_ACCESSES];
    int ngroups;
    bool *outside;      /* per instruction: read outside its block (once
                         * a loop packs: find_outside) */
    ir_ref exit_iv;     /* the counting phi */
    ir_ref bound;
    uint32_t ninsts;    /* before the copy */
} loop;

static bool in_h(const loop *l, ir_ref r) { return r < l->ninsts && l->pos[r]; }

static bool is_const(uint16_t op) { return op >= WASM_OP_I32_CONST && op <= WASM_OP_F64_CONST; }

/* An induction variable of H: a phi whose value from the back edge is
 * itself plus a constant; *step gets it (as a signed 32-bit value). */
static bool induction(loop *l, ir_ref r, int64_t *step)
{
    ir_func *f = l->f;
    const ir_inst *in = ir_at(f, r);
    if (in->op != IR_PHI || in->block != l->h || in->type != WASM_I32)
        return false;
    ir_ref next = in->args[ir_pred_index(f, l->h, l->h)];
    const ir_inst *add = ir_at(f, next);
    if (add->op != WASM_OP_I32_ADD || add->block != l->h)
        return false;
    ir_ref c = add->args[0] == r ? add->args[1] : add->args[1] == r ? add->args[0] : 0;
    if (!c || ir_at(f, c)->op != WASM_OP_I32_CONST)
        return false;
    *step = (int32_t)(uint32_t)ir_at(f, c)->imm;
    return true;
}

/* Splits address a into iv + base + k (see access); false when it is not
 * of that form. */
static bool decompose(loop *l, ir_ref a, access *x)
{
    ir_func *f = l->f;
    uint32_t k = 0;
    x->iv = x->base = 0;
    for (int depth = 0; depth < 8; depth++) {
        const ir_inst *in = ir_at(f, a);
        int64_t step;
        x->rel = (int32_t)k;
        if (induction(l, a, &step)) {
            if (step <= 0)
                return false;
            x->iv = a;
            return true;
        }
        if (!in_h(l, a)) {
            if (x->base)
                return false;
            x->base = a;
            return true;
        }
        if (in->op != WASM_OP_I32_ADD)
            return false;
        ir_ref p = in->args[0], q = in->args[1];
        if (ir_at(f, q)->op == WASM_OP_I32_CONST) {
            k += (uint32_t)ir_at(f, q)->imm;
            a = p;
        } else if (!in_h(l, q) && !x->base) {
            x->base = q;
            a = p;
        } else if (!in_h(l, p) && !x->base) {
            x->base = p;
            a = q;
        } else {
            return false;
        }
    }
    return false;
}

uint16_t opt_vector_op(uint16_t op)
{
    switch (op) {
    case WASM_OP_F64_ADD: return WASM_OP_F64X2_ADD;
    case WASM_OP_F64_SUB: return WASM_OP_F64X2_SUB;
    case WASM_OP_F64_MUL: return WASM_OP_F64X2_MUL;
    case WASM_OP_F64_DIV: return WASM_OP_F64X2_DIV;
    case WASM_OP_F64_SQRT: return WASM_OP_F64X2_SQRT;
    case WASM_OP_F64_NEG: return WASM_OP_F64X2_NEG;
    case WASM_OP_F64_ABS: return WASM_OP_F64X2_ABS;
    case WASM_OP_F32_ADD: return WASM_OP_F32X4_ADD;
    case WASM_OP_F32_SUB: return WASM_OP_F32X4_SUB;
    case WASM_OP_F32_MUL: return WASM_OP_F32X4_MUL;
    case WASM_OP_F32_DIV: return WASM_OP_F32X4_DIV;
    case WASM_OP_F32_SQRT: return WASM_OP_F32X4_SQRT;
    case WASM_OP_F32_NEG: return WASM_OP_F32X4_NEG;
    case WASM_OP_F32_ABS: return WASM_OP_F32X4_ABS;
    case WASM_OP_I32_ADD: return WASM_OP_I32X4_ADD;
    case WASM_OP_I32_SUB: return WASM_OP_I32X4_SUB;
    case WASM_OP_I32_MUL: return WASM_OP_I32X4_MUL;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: return WASM_OP_V128_AND;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: return WASM_OP_V128_OR;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: return WASM_OP_V128_XOR;
    case WASM_OP_I32_SHL: return WASM_OP_I32X4_SHL;
    case WASM_OP_I32_SHR_S: return WASM_OP_I32X4_SHR_S;
    case WASM_OP_I32_SHR_U: return WASM_OP_I32X4_SHR_U;
    case WASM_OP_I64_ADD: return WASM_OP_I64X2_ADD;
    case WASM_OP_I64_SUB: return WASM_OP_I64X2_SUB;
    default: return 0; /* i64 shifts too: i64x2's count is an i32 */
    }
}

bool opt_vector_commutative(uint16_t vop)
{
    return vop == WASM_OP_F64X2_ADD || vop == WASM_OP_F64X2_MUL || vop == WASM_OP_F32X4_ADD ||
           vop == WASM_OP_F32X4_MUL || vop == WASM_OP_I32X4_ADD || vop == WASM_OP_I32X4_MUL ||
           vop == WASM_OP_I64X2_ADD || vop == WASM_OP_V128_AND || vop == WASM_OP_V128_OR ||
           vop == WASM_OP_V128_XOR;
}

bool opt_vector_shift(uint16_t vop)
{
    return vop == WASM_OP_I32X4_SHL || vop == WASM_OP_I32X4_SHR_S || vop == WASM_OP_I32X4_SHR_U;
}

uint16_t opt_splat_op(uint8_t t)
{
    switch (t) {
    case WASM_F64: return WASM_OP_F64X2_SPLAT;
    case WASM_F32: return WASM_OP_F32X4_SPLAT;
    case WASM_I64: return WASM_OP_I64X2_SPLAT;
    default: return WASM_OP_I32X4_SPLAT;
    }
}

static uint16_t extract_op(uint8_t t)
{
    switch (t) {
    case WASM_F64: return WASM_OP_F64X2_EXTRACT_LANE;
    case WASM_F32: return WASM_OP_F32X4_EXTRACT_LANE;
    case WASM_I64: return WASM_OP_I64X2_EXTRACT_LANE;
    default: return WASM_OP_I32X4_EXTRACT_LANE;
    }
}

bool opt_full_load(uint16_t op)
{
    return op == WASM_OP_I32_LOAD || op == WASM_OP_I64_LOAD || op == WASM_OP_F32_LOAD ||
           op == WASM_OP_F64_LOAD;
}
bool opt_full_store(uint16_t op)
{
    return op == WASM_OP_I32_STORE || op == WASM_OP_I64_STORE || op == WASM_OP_F32_STORE ||
           op == WASM_OP_F64_STORE;
}

ir_ref opt_guard_op(ir_func *f, uint32_t at, uint16_t op, uint8_t type, ir_ref a, ir_ref b)
{
    ir_ref args[2] = {a, b};
    uint32_t n = wasm_op_info(op)->nin;
    return a && (n < 2 || b) ? ir_append(f, at, op, type, n, args, 0) : 0;
}

ir_ref opt_guard_const(ir_func *f, uint32_t at, uint8_t type, uint64_t v)
{
    uint16_t op = type == WASM_I64 ? WASM_OP_I64_CONST : WASM_OP_I32_CONST;
    return ir_append(f, at, op, type, 0, NULL, v);
}

static const access *access_of(const loop *l, ir_ref r)
{
    for (int i = 0; i < l->nacc; i++)
        if (l->acc[i].r == r)
            return &l->acc[i];
    return NULL;
}

static uint32_t last_pos(const loop *l, const ir_ref *lanes, int n)
{
    uint32_t last = 0;
    for (int i = 0; i < n; i++)
        if (l->pos[lanes[i]] > last)
            last = l->pos[lanes[i]];
    return last;
}

static int new_pack(loop *l, uint8_t kind, uint16_t vop, const ir_ref *lanes, int n)
{
    if (l->npacks == MAX_PACKS)
        return -1;
    int k = l->npacks++;
    pack *p = &l->packs[k];
    *p = (pack){.kind = kind, .n = (uint8_t)n, .vop = vop, .arg = {-1, -1}};
    memcpy(p->lane, lanes, n * sizeof *lanes);
    if (kind != PK_SPLAT) {
        p->last = last_pos(l, lanes, n);
        for (int i = 0; i < n; i++)
            l->pack_of[lanes[i]] = (int16_t)(k + 1);
    }
    return k;
}

/* Packs the n values `lanes` (lane order), with what they need; the
 * pack's index, or -1 when they cannot be. */
static int pack_values(loop *l, const ir_ref *lanes, int n, int depth)
{
    ir_func *f = l->f;
    const ir_inst *in0 = ir_at(f, lanes[0]);
    if (depth > MAX_DEPTH)
        return -1;
    bool same = true;
    for (int i = 1; i < n; i++) {
        const ir_inst *in = ir_at(f, lanes[i]);
        same &= lanes[i] == lanes[0] ||
                (is_const(in->op) && in->op == in0->op && in->imm == in0->imm);
    }
    if (same) {
        /* a shared value: a splat of it, in V after it or, from outside
         * (an outer loop's phi too: atax's tmp[i]), in P */
        if (l->pack_of[lanes[0]] || (in0->op == IR_PHI && in_h(l, lanes[0])))
            return -1;
        for (int k = 0; k < l->npacks; k++)
            if (l->packs[k].kind == PK_SPLAT && l->packs[k].lane[0] == lanes[0])
                return k;
        return new_pack(l, PK_SPLAT, opt_splat_op(in0->type), lanes, n);
    }
    /* lanes already packed together, in this order */
    int have = l->pack_of[lanes[0]] - 1;
    if (have >= 0) {
        const pack *p = &l->packs[have];
        if (p->n != n || memcmp(p->lane, lanes, n * sizeof *lanes) || p->kind == PK_STORE)
            return -1;
        return have;
    }
    for (int i = 0; i < n; i++) {
        const ir_inst *in = ir_at(f, lanes[i]);
        if (!in_h(l, lanes[i]) || l->pack_of[lanes[i]] || in->op != in0->op ||
            in->type != in0->type || in->nargs != in0->nargs)
            return -1;
        for (int j = 0; j < i; j++)
            if (lanes[j] == lanes[i])
                return -1;
    }
    if (opt_full_load(in0->op)) {
        /* neighbours: lane i at lane 0's address plus i widths */
        const access *a0 = access_of(l, lanes[0]);
        for (int i = 1; i < n; i++) {
            const access *a = access_of(l, lanes[i]);
            if (!a0 || !a || a->group != a0->group || a->rel != a0->rel + i * (int64_t)a0->width)
                return -1;
        }
        return new_pack(l, PK_LOAD, WASM_OP_V128_LOAD, lanes, n);
    }
    uint16_t vop = opt_vector_op(in0->op);
    if (!vop || in0->nargs > 2)
        return -1;
    int k = new_pack(l, PK_OP, vop, lanes, n);
    if (k < 0)
        return -1;
    for (uint32_t a = 0; a < in0->nargs; a++) {
        ir_ref args[4];
        for (int i = 0; i < n; i++)
            args[i] = ir_at(f, lanes[i])->args[a];
        if (a == 1 && opt_vector_shift(vop)) {
            /* the count, a scalar: the same for every lane */
            for (int i = 1; i < n; i++)
                if (args[i] != args[0])
                    return -1;
            if (l->pack_of[args[0]])
                return -1;
            continue;
        }
        int sub = pack_values(l, args, n, depth + 1);
        if (sub < 0)
            return -1;
        l->packs[k].arg[a] = (int16_t)sub;
    }
    /* a shared value second: x86 computes into the first operand, which
     * the splat, live across the loop, cannot give up */
    pack *p = &l->packs[k];
    if (opt_vector_commutative(vop) && l->packs[p->arg[0]].kind == PK_SPLAT &&
        l->packs[p->arg[1]].kind != PK_SPLAT) {
        int16_t t = p->arg[0];
        p->arg[0] = p->arg[1];
        p->arg[1] = t;
    }
    return k;
}

/* Packs of stores: for each full-width store not packed yet, its
 * neighbours at +width, +2 widths...; a seed whose operands cannot all be
 * packed leaves nothing behind. */
static void seed_stores(loop *l)
{
    ir_func *f = l->f;
    for (int s = 0; s < l->nacc; s++) {
        const access *a0 = &l->acc[s];
        uint16_t op = ir_at(f, a0->r)->op;
        if (!a0->store || !opt_full_store(op) || l->pack_of[a0->r])
            continue;
        int n = (int)(16 / a0->width);
        ir_ref lanes[4] = {a0->r}, values[4] = {ir_at(f, a0->r)->args[1]};
        int found = 1;
        for (int i = 1; i < n; i++)
            for (int t = 0; t < l->nacc; t++) {
                const access *a = &l->acc[t];
                if (a->store && ir_at(f, a->r)->op == op && a->group == a0->group &&
                    a->rel == a0->rel + i * (int64_t)a0->width && !l->pack_of[a->r]) {
                    lanes[i] = a->r;
                    values[i] = ir_at(f, a->r)->args[1];
                    found++;
                    break;
                }
            }
        if (found != n)
            continue;
        int before = l->npacks;
        int v = pack_values(l, values, n, 0);
        int k = v < 0 ? -1 : new_pack(l, PK_STORE, WASM_OP_V128_STORE, lanes, n);
        if (k >= 0) {
            l->packs[k].arg[1] = (int16_t)v;
            continue;
        }
        /* undo */
        for (int p = before; p < l->npacks; p++)
            if (l->packs[p].kind != PK_SPLAT)
                for (int i = 0; i < l->packs[p].n; i++)
                    l->pack_of[l->packs[p].lane[i]] = 0;
        l->npacks = before;
    }
}

/* Where an instruction of H runs in V: its pack's place, or its own. */
static uint32_t new_pos(const loop *l, ir_ref r)
{
    int k = l->pack_of[r] - 1;
    return k >= 0 ? l->packs[k].last : l->pos[r];
}

/* Whether the packs keep the order of the accesses that overlap for sure
 * (the same group, overlapping bytes); the pairs of groups whose accesses
 * they reorder are marked in `disjoint`, for the guard to check apart. */
static bool check_order(loop *l, uint8_t *disjoint)
{
    for (int i = 0; i < l->nacc; i++)
        for (int j = i + 1; j < l->nacc; j++) {
            const access *a = &l->acc[i], *b = &l->acc[j]; /* a first in H */
            if (!a->store && !b->store)
                continue;
            uint32_t pa = new_pos(l, a->r), pb = new_pos(l, b->r);
            if (a->group != b->group) {
                if (pa > pb)
                    disjoint[a->group * MAX_ACCESSES + b->group] = 1;
                continue;
            }
            bool overlap = a->rel < b->rel + b->width && b->rel < a->rel + a->width;
            if (overlap && pa >= pb)
                return false;
        }
    return true;
}

/* Marks the packed values V reads as scalars (an extract_lane follows
 * their pack); false when such a read comes before the pack's place, or
 * is an access's address. */
static bool scalar_uses(loop *l)
{
    ir_func *f = l->f;
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next) {
        const ir_inst *in = ir_at(f, r);
        int k = l->pack_of[r] - 1;
        for (uint32_t a = 0; a < in->nargs; a++) {
            ir_ref v = in->args[a];
            if (!in_h(l, v) || !l->pack_of[v])
                continue;
            if (k >= 0) {
                uint8_t kind = l->packs[k].kind;
                /* a packed operation or stored value reads it as a vector */
                if ((kind == PK_OP && !(a == 1 && opt_vector_shift(l->packs[k].vop))) ||
                    (kind == PK_STORE && a == 1))
                    continue;
                return false;
            }
            /* phis read at the back edge, after everything */
            if (in->op != IR_PHI && l->pos[r] <= l->packs[l->pack_of[v] - 1].last)
                return false;
            l->scalar_use[v] = true;
        }
    }
    const ir_block *e = &f->blocks[l->e];
    uint32_t at = ir_pred_index(f, l->e, l->h);
    for (ir_ref r = e->first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next) {
        ir_ref v = ir_at(f, r)->args[at];
        if (in_h(l, v) && l->pack_of[v])
            l->scalar_use[v] = true;
    }
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next)
        if (l->outside[r] && l->pack_of[r])
            l->scalar_use[r] = true;
    return true;
}

/* ---- emission ---- */

/* The guard's instructions, in P (opt_guard_op). */
static ir_ref put(loop *l, uint16_t op, uint8_t type, ir_ref a, ir_ref b)
{
    return opt_guard_op(l->f, l->p, op, type, a, b);
}
static ir_ref c32(loop *l, uint32_t v) { return opt_guard_const(l->f, l->p, WASM_I32, v); }
static ir_ref c64(loop *l, uint64_t v) { return opt_guard_const(l->f, l->p, WASM_I64, v); }
/* ok && cond, as i32 */
static ir_ref both(loop *l, ir_ref ok, ir_ref cond)
{
    return put(l, WASM_OP_I32_AND, WASM_I32, ok, cond);
}

/* The init value of phi iv (its operand from P). */
static ir_ref init_of(const loop *l, ir_ref iv)
{
    return ir_at(l->f, iv)->args[ir_pred_index(l->f, l->h, l->p)];
}

/* The guard, in P: the trip count T from the counting variable, then per
 * group of accesses its range over the whole loop, [start, end) in 64
 * bits: in memory, and apart from the groups it must not overlap. An i32,
 * 1 when V may run; 0 when out of memory. */
static ir_ref guard(loop *l, const uint8_t *disjoint, int64_t count_step)
{
    int64_t dist = count_step < 0 ? -count_step : count_step;
    int shift = __builtin_ctzll((uint64_t)dist);
    /* d, the distance from the counter's first value to the bound in the
     * way it steps: a multiple of the step, not 0; T = d / step */
    ir_ref bound = l->bound;
    if (!bound || in_h(l, bound))
        bound = c32(l, bound ? (uint32_t)ir_at(l->f, bound)->imm : 0);
    ir_ref init = init_of(l, l->exit_iv);
    ir_ref d = count_step > 0 ? put(l, WASM_OP_I32_SUB, WASM_I32, bound, init)
                              : put(l, WASM_OP_I32_SUB, WASM_I32, init, bound);
    ir_ref ok = put(l, WASM_OP_I32_NE, WASM_I32, d, c32(l, 0));
    if (shift) {
        ir_ref low = put(l, WASM_OP_I32_AND, WASM_I32, d, c32(l, (uint32_t)dist - 1));
        ok = both(l, ok, put(l, WASM_OP_I32_EQZ, WASM_I32, low, 0));
        d = put(l, WASM_OP_I32_SHR_U, WASM_I32, d, c32(l, (uint32_t)shift));
    }
    /* t1 = T - 1, as an i64; size: memory 0's bytes */
    ir_ref t1 = put(l, WASM_OP_I64_EXTEND_I32_U, WASM_I64,
                    put(l, WASM_OP_I32_SUB, WASM_I32, d, c32(l, 1)), 0);
    ir_ref pages = ir_append(l->f, l->p, WASM_OP_MEMORY_SIZE, WASM_I32, 0, NULL, 0);
    ir_ref size = put(l, WASM_OP_I64_SHL, WASM_I64,
                      put(l, WASM_OP_I64_EXTEND_I32_U, WASM_I64, pages, 0), c64(l, 16));
    /* per group, a = iv + base at the first iteration, last = at the
     * last (not past 2^32: no iv + base wraps), a + kmin >= 0 (no + k
     * wraps below 0) and the bytes accessed, [a + lo, last + hi), in
     * [0, size) (none wraps above): then every access is where rel says,
     * and none traps */
    ir_ref start[MAX_ACCESSES], end[MAX_ACCESSES];
    for (int g = 0; g < l->ngroups; g++) {
        const group *gr = &l->groups[g];
        int64_t step = 0;
        ir_ref a = gr->iv ? init_of(l, gr->iv) : gr->base;
        if (gr->iv && gr->base)
            a = put(l, WASM_OP_I32_ADD, WASM_I32, a, gr->base);
        ir_ref a64 = put(l, WASM_OP_I64_EXTEND_I32_U, WASM_I64, a, 0), last = a64;
        if (gr->iv && induction(l, gr->iv, &step)) {
            ir_ref span = put(l, WASM_OP_I64_MUL, WASM_I64, t1, c64(l, (uint64_t)step));
            last = put(l, WASM_OP_I64_ADD, WASM_I64, a64, span);
            ok = both(l, ok, put(l, WASM_OP_I64_LE_U, WASM_I32, last, c64(l, UINT32_MAX)));
        }
        start[g] = put(l, WASM_OP_I64_ADD, WASM_I64, a64, c64(l, (uint64_t)gr->lo));
        end[g] = put(l, WASM_OP_I64_ADD, WASM_I64, last, c64(l, (uint64_t)gr->hi));
        ir_ref low = put(l, WASM_OP_I64_ADD, WASM_I64, a64, c64(l, (uint64_t)gr->kmin));
        ok = both(l, ok, put(l, WASM_OP_I64_GE_S, WASM_I32, low, c64(l, 0)));
        ok = both(l, ok, put(l, WASM_OP_I64_LE_U, WASM_I32, end[g], size));
        if (!ok)
            return 0;
    }
    for (int g = 0; g < l->ngroups; g++)
        for (int h = 0; h < l->ngroups; h++)
            if (disjoint[g * MAX_ACCESSES + h])
                ok = both(l, ok, put(l, WASM_OP_I32_OR, WASM_I32,
                                     put(l, WASM_OP_I64_LE_U, WASM_I32, end[g], start[h]),
                                     put(l, WASM_OP_I64_LE_U, WASM_I32, end[h], start[g])));
    return ok;
}

static ir_ref mapped(const loop *l, ir_ref r) { return in_h(l, r) ? l->map[r] : r; }

/* The v128 value of pack k, emitted in V (or, for a splat of a value from
 * outside, in P). */
static ir_ref vector_of(loop *l, uint32_t v, int k)
{
    pack *p = &l->packs[k];
    if (p->vec || p->kind != PK_SPLAT)
        return p->vec;
    ir_ref x = mapped(l, p->lane[0]);
    ir_ref args[1] = {x};
    p->vec = ir_append(l->f, in_h(l, p->lane[0]) ? v : l->p, p->vop, WASM_V128, 1, args, 0);
    return p->vec;
}

/* Emits pack k in V, and the lanes V reads as scalars. */
static bool emit_pack(loop *l, uint32_t v, int k)
{
    ir_func *f = l->f;
    pack *p = &l->packs[k];
    const ir_inst lane0 = *ir_at(f, p->lane[0]), *in0 = &lane0; /* puts move the array */
    ir_ref args[2];
    uint32_t nargs = 0;
    uint8_t type = WASM_V128;
    switch (p->kind) {
    case PK_LOAD:
        args[nargs++] = mapped(l, in0->args[0]);
        break;
    case PK_STORE:
        args[nargs++] = mapped(l, in0->args[0]);
        if (!(args[nargs++] = vector_of(l, v, p->arg[1])))
            return false;
        type = 0;
        break;
    default:
        for (uint32_t a = 0; a < in0->nargs; a++)
            if (p->arg[a] < 0)
                args[nargs++] = mapped(l, in0->args[a]);
            else if (!(args[nargs++] = vector_of(l, v, p->arg[a])))
                return false;
    }
    uint32_t wasm = in0->wasm, aux = in0->aux;
    uint64_t imm = p->kind == PK_OP ? 0 : in0->imm;
    ir_ref r = ir_append(f, v, p->vop, type, nargs, args, imm);
    if (!r)
        return false;
    ir_at(f, r)->wasm = wasm;
    ir_at(f, r)->aux = p->kind == PK_OP ? 0 : aux;
    p->vec = r;
    for (int i = 0; i < p->n; i++) {
        ir_ref lane = p->lane[i];
        if (!l->scalar_use[lane])
            continue;
        ir_ref x[1] = {r};
        uint8_t t = ir_at(f, lane)->type;
        if (!(l->map[lane] = ir_append(f, v, extract_op(t), t, 1, x, (uint64_t)i)))
            return false;
    }
    return true;
}

/* H's values read after the loop (E entered from H alone, contained())
 * become phis of E, of H's value and V's copy, and what read them reads
 * the phis. */
static bool join_outside_uses(loop *l, uint32_t v)
{
    ir_func *f = l->f;
    ir_ref *repl = NULL;
    uint32_t first = f->ninsts;
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next) {
        if (!l->outside[r])
            continue;
        if (!repl && !(repl = calloc(l->ninsts, sizeof *repl)))
            return false;
        ir_ref args[2] = {r, mapped(l, r)};
        if (!(repl[r] = ir_append(f, l->e, IR_PHI, ir_at(f, r)->type, 2, args, 0))) {
            free(repl);
            return false;
        }
    }
    if (!repl)
        return true;
    for (uint32_t b = 0; b < f->nblocks; b++) {
        if (b == l->h || b == v)
            continue;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            if (r >= first && b == l->e)
                continue; /* the new phis */
            ir_inst *in = ir_at(f, r);
            for (uint32_t a = 0; a < in->nargs; a++)
                if (in->args[a] < l->ninsts && repl[in->args[a]])
                    in->args[a] = repl[in->args[a]];
        }
    }
    free(repl);
    return true;
}

/* Builds V, the packed copy of H, and joins it to P and E. */
static bool emit_copy(loop *l, ir_ref ok)
{
    ir_func *f = l->f;
    uint32_t v = ir_new_block(f, f->blocks[l->h].wasm);
    if (v == UINT32_MAX || !ir_add_pred(f, v, l->p) || !ir_add_pred(f, v, v))
        return false;
    uint32_t from_p = ir_pred_index(f, l->h, l->p), from_h = ir_pred_index(f, l->h, l->h);
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next) {
        ir_inst in = *ir_at(f, r);
        int k = l->pack_of[r] - 1;
        if (k >= 0) {
            if (l->pos[r] == l->packs[k].last && !emit_pack(l, v, k))
                return false;
            continue;
        }
        /* three operands at most (list_accesses) */
        ir_ref args[3];
        if (in.op == IR_PHI) {
            args[0] = in.args[from_p];
            args[1] = in.args[from_p]; /* the back edge's, once V is built */
            in.nargs = 2;
        } else {
            for (uint32_t a = 0; a < in.nargs; a++)
                args[a] = mapped(l, in.args[a]);
        }
        ir_ref c = ir_append(f, v, in.op, in.type, in.nargs, args, in.imm);
        if (!c)
            return false;
        ir_inst *cin = ir_at(f, c);
        cin->aux = in.aux;
        cin->wasm = in.wasm;
        cin->flags = in.flags & (uint8_t)~IR_DEAD;
        l->map[r] = c;
    }
    /* the phis' back edges */
    for (ir_ref r = f->blocks[l->h].first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
        ir_at(f, l->map[r])->args[1] = mapped(l, ir_at(f, r)->args[from_h]);
    /* V's edges: as H's, itself for H */
    ir_block *hb = &f->blocks[l->h];
    uint32_t *succs = wasm_arena_alloc(&f->arena, hb->nsuccs, sizeof *succs);
    uint32_t *psuccs = wasm_arena_alloc(&f->arena, 2, sizeof *psuccs);
    if (!succs || !psuccs)
        return false;
    hb = &f->blocks[l->h];
    for (uint32_t i = 0; i < hb->nsuccs; i++)
        succs[i] = hb->succs[i] == l->h ? v : hb->succs[i];
    ir_block *vb = &f->blocks[v];
    vb->succs = succs;
    vb->nsuccs = hb->nsuccs;
    vb->sealed = vb->loop_header = true;
    /* E: V's values where H's came */
    uint32_t at = ir_pred_index(f, l->e, l->h);
    if (!ir_add_pred(f, l->e, v))
        return false;
    for (ir_ref r = f->blocks[l->e].first; r && ir_at(f, r)->op == IR_PHI; r = ir_at(f, r)->next)
        if (!ir_add_arg(f, r, mapped(l, ir_at(f, r)->args[at])))
            return false;
    if (!join_outside_uses(l, v))
        return false;
    /* P: to V when the guard holds, else to H */
    ir_remove(f, f->blocks[l->p].last);
    ir_ref args[1] = {ok};
    if (!ir_append(l->f, l->p, WASM_OP_BR_IF, 0, 1, args, 0))
        return false;
    psuccs[0] = v;
    psuccs[1] = l->h;
    f->blocks[l->p].succs = psuccs;
    f->blocks[l->p].nsuccs = 2;
    return true;
}

/* ---- the loops ---- */

/* Fills l->outside, the first time a loop gets that far; false when out
 * of memory. Values read by phis through an edge from their block are
 * not outside. */
static bool find_outside(loop *l)
{
    ir_func *f = l->f;
    if (l->outside)
        return true;
    if (!(l->outside = calloc(l->ninsts, sizeof *l->outside)))
        return false;
    for (uint32_t c = 0; c < f->nblocks; c++)
        for (ir_ref r = f->blocks[c].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            for (uint32_t a = 0; a < in->nargs; a++) {
                uint32_t def = ir_at(f, in->args[a])->block;
                if (in->args[a] < l->ninsts &&
                    (in->op == IR_PHI ? f->blocks[c].preds[a] != def : def != c))
                    l->outside[in->args[a]] = true;
            }
        }
    return true;
}

/* Whether H's values are read only in H and by E's phis (through H's
 * edge), or E is entered from H alone (then what reads them after the
 * loop reads a phi of E, emit_copy): V's copies must replace them on V's
 * path. */
static bool contained(const loop *l)
{
    const ir_func *f = l->f;
    for (ir_ref r = f->blocks[l->h].first; r; r = f->insts[r].next)
        if (l->outside[r])
            return f->blocks[l->e].npreds == 1;
    return true;
}

/* Finds H's shape (see the top); false when it is not one taken. */
static bool shape(loop *l, int64_t *count_step)
{
    ir_func *f = l->f;
    const ir_block *hb = &f->blocks[l->h];
    if (!hb->loop_header || hb->npreds != 2 || hb->nsuccs != 2)
        return false;
    uint32_t self = ir_pred_index(f, l->h, l->h);
    if (self == UINT32_MAX)
        return false;
    l->p = hb->preds[1 - self];
    l->e = hb->succs[0] == l->h ? hb->succs[1] : hb->succs[0];
    if (l->p == l->h || l->e == l->h || f->blocks[l->p].nsuccs != 1 ||
        ir_at(f, f->blocks[l->p].last)->op != WASM_OP_BR)
        return false;
    /* H's exit: br_if (next != bound) to H, br_if (next == bound) to E,
     * or next itself (!= 0) to H, with next the counter's next value */
    const ir_inst *br = ir_at(f, hb->last);
    if (br->op != WASM_OP_BR_IF)
        return false;
    bool stay = hb->succs[0] == l->h;
    ir_ref c = br->args[0];
    const ir_inst *cmp = ir_at(f, c);
    ir_ref pairs[2][2] = {{0, 0}, {0, 0}}; /* (next, bound); bound 0: zero */
    if (cmp->op == (stay ? WASM_OP_I32_NE : WASM_OP_I32_EQ)) {
        pairs[0][0] = cmp->args[0], pairs[0][1] = cmp->args[1];
        pairs[1][0] = cmp->args[1], pairs[1][1] = cmp->args[0];
    } else if (stay && cmp->op == WASM_OP_I32_ADD) {
        pairs[0][0] = c;
    } else if (!stay && cmp->op == WASM_OP_I32_EQZ) {
        pairs[0][0] = cmp->args[0];
    } else {
        return false;
    }
    for (int side = 0; side < 2 && pairs[side][0]; side++) {
        ir_ref next = pairs[side][0], bound = pairs[side][1];
        const ir_inst *add = ir_at(f, next);
        if ((bound && in_h(l, bound) && ir_at(f, bound)->op != WASM_OP_I32_CONST) ||
            add->op != WASM_OP_I32_ADD || !in_h(l, next))
            continue;
        for (int j = 0; j < 2; j++) {
            int64_t step, size;
            if (!induction(l, add->args[j], &step) ||
                ir_at(f, add->args[j])->args[ir_pred_index(f, l->h, l->h)] != next)
                continue;
            size = step < 0 ? -step : step;
            if (size <= 1 << 16 && (size & (size - 1)) == 0) {
                l->exit_iv = add->args[j];
                l->bound = bound;
                *count_step = step;
                return true;
            }
        }
    }
    return false;
}

/* Lists H's accesses in groups; false when one is not of the form taken,
 * or H has another effect. */
static bool list_accesses(loop *l)
{
    ir_func *f = l->f;
    if (!f->m->nmemories || f->m->memories[0].is64)
        return false;
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next) {
        const ir_inst *in = ir_at(f, r);
        if (in->op == WASM_OP_BR_IF)
            continue;
        if (in->type == WASM_V128 || in->op == WASM_OP_MEMORY_SIZE ||
            (in->op != IR_PHI && in->nargs > 3))
            return false;
        if (!ir_has_effects(in->op))
            continue;
        if (in->op < WASM_OP_I32_LOAD || in->op > WASM_OP_I64_STORE32 || in->aux != 0 ||
            l->nacc == MAX_ACCESSES)
            return false;
        access *a = &l->acc[l->nacc++];
        if (!decompose(l, in->args[0], a))
            return false;
        if (in->imm > UINT32_MAX)
            return false;
        int64_t k = a->rel;
        a->r = r;
        a->rel += (int64_t)in->imm;
        a->width = (uint32_t)ir_access_size(in->op);
        a->store = in->op >= WASM_OP_I32_STORE;
        int g = 0;
        while (g < l->ngroups && (l->groups[g].iv != a->iv || l->groups[g].base != a->base))
            g++;
        if (g == l->ngroups)
            l->groups[l->ngroups++] = (group){.iv = a->iv, .base = a->base, .lo = a->rel,
                                              .hi = a->rel + a->width, .kmin = k};
        group *gr = &l->groups[g];
        if (k < gr->kmin)
            gr->kmin = k;
        if (a->rel < gr->lo)
            gr->lo = a->rel;
        if (a->rel + a->width > gr->hi)
            gr->hi = a->rel + a->width;
        a->group = g;
    }
    return l->nacc > 0;
}

static bool try_loop(loop *l, uint8_t *disjoint, bool *changed)
{
    ir_func *f = l->f;
    int64_t count_step = 0;
    uint32_t n = 0;
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next)
        l->pos[r] = ++n;
    bool ok = shape(l, &count_step) && list_accesses(l);
    if (ok) {
        seed_stores(l);
        memset(disjoint, 0, MAX_ACCESSES * MAX_ACCESSES);
        ok = l->npacks > 0 && check_order(l, disjoint) && find_outside(l) && contained(l) &&
             scalar_uses(l);
    }
    bool done = true;
    if (ok) {
        ir_ref g = guard(l, disjoint, count_step);
        done = g && emit_copy(l, g);
        *changed = true;
    }
    for (ir_ref r = f->blocks[l->h].first; r; r = ir_at(f, r)->next) {
        l->pos[r] = 0;
        l->pack_of[r] = 0;
        l->scalar_use[r] = false;
    }
    l->npacks = l->nacc = l->ngroups = 0;
    return done;
}

/* Whether block b could be a loop taken: its own back edge, one way in. */
static bool single_block_loop(const ir_func *f, uint32_t b)
{
    const ir_block *blk = &f->blocks[b];
    return blk->loop_header && blk->npreds == 2 && blk->nsuccs == 2 &&
           (blk->preds[0] == b || blk->preds[1] == b);
}

bool opt_vectorize(ir_func *f, bool *changed)
{
    uint32_t n = f->ninsts, nblocks = f->nblocks, b = 0;
    while (b < nblocks && !single_block_loop(f, b))
        b++;
    if (b == nblocks) /* most functions: nothing to allocate or walk */
        return true;
    loop l = {.f = f, .ninsts = n};
    l.pos = calloc(n, sizeof *l.pos);
    l.pack_of = calloc(n, sizeof *l.pack_of);
    l.map = calloc(n, sizeof *l.map);
    l.scalar_use = calloc(n, sizeof *l.scalar_use);
    uint8_t *disjoint = malloc(MAX_ACCESSES * MAX_ACCESSES);
    bool ok = l.pos && l.pack_of && l.map && l.scalar_use && disjoint;
    for (; b < nblocks && ok; b++) {
        if (!single_block_loop(f, b))
            continue;
        l.h = b;
        ok = try_loop(&l, disjoint, changed);
    }
    free(l.pos);
    free(l.pack_of);
    free(l.map);
    free(l.scalar_use);
    free(l.outside);
    free(disjoint);
    return ok;
}
