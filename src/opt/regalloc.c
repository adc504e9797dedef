/* Linear scan (Poletto and Sarkar) over the intervals of live.c, in code
 * order: at each definition, intervals that ended give their registers
 * back; a value takes a free register of its class, or the lightest
 * interval of the class (it or an active one: uses weighed by loop depth,
 * live.c) goes to a stack slot. An active one is split there: its
 * definition stores it to its slot as well, and it stays in its register
 * until that point, where its uses read the slot from (backend.h
 * split_at), and no later than the first loop header whose back edge
 * comes from beyond that; a phi or a call's projection, which its edges'
 * moves or its call define, goes to its slot for all its life. A value
 * from outside a loop that calls is stored once at its definition too,
 * not before every call. rcx and rdx go only to
 * values whose intervals hold no instruction that needs them (be_temps).
 * Calls clobber every register: the values live across one are saved to
 * a slot before it and reloaded after it (be->saves). A parameter's slot
 * is its home in the caller's area, which holds it already. */
#include "backend.h"

static const int8_t gprs[] = {RBX, RSI, RDI, R8, R9, R10, R12, R13, RCX, RDX};
#define NREGS (sizeof gprs + BE_NXMM)

static bool in_xmm(uint8_t t) { return t == WASM_F32 || t == WASM_F64 || t == WASM_V128; }

/* A slot of 8 bytes, 16 for a v128 (two units, as in tier 1's frames). */
static int32_t new_slot(backend *be, ir_ref v)
{
    be->frame_slots += vm_slot_units(ir_at(be->ir, v)->type);
    return -(int32_t)(8 + 8 * be->frame_slots);
}

/* The values in registers live across call `call`: each gets a save slot
 * (a parameter's home is one already). Values spilled later drop out at
 * emission, which saves only what still has a register. */
static bool record_saves(backend *be, ir_ref call, const ir_ref *active, uint32_t nactive)
{
    uint32_t at = 2 * be->pos[call];
    be->save_first[call] = be->saves.n;
    for (uint32_t a = 0; a < nactive; a++) {
        ir_ref w = active[a];
        if (be->start[w] >= at || be->end[w] <= at + 1)
            continue;
        uint16_t op = ir_at(be->ir, w)->op;
        if (!be->save_slot[w])
            be->save_slot[w] = op == IR_PARAM ? param_home(be, w) : new_slot(be, w);
        /* a value from outside a loop that calls: stored once, not at
         * every call */
        if (op != IR_PARAM && op != IR_PHI &&
            be->depth[ir_at(be->ir, call)->block] > be->depth[ir_at(be->ir, w)->block]) {
            be->stored_at_def[w] = true;
            be->slot[w] = be->save_slot[w];
        }
        if (!VEC_PUSH_OK(be->saves, w))
            return be_fail(be, "out of memory");
    }
    be->save_count[call] = be->saves.n - be->save_first[call];
    return true;
}

/* Whether a is a better value to spill than b: less weight per position
 * of its interval (compared as products: the weights are at most about
 * 2^24 per use and intervals 2^32 positions), or as dense and ending later. */
static bool lighter(const backend *be, ir_ref a, ir_ref b)
{
    unsigned __int128 wa = be->weight[a], wb = be->weight[b];
    unsigned __int128 la = be->end[a] - be->start[a] + 1, lb = be->end[b] - be->start[b] + 1;
    if (wa * lb != wb * la)
        return wa * lb < wb * la;
    return be->end[a] > be->end[b];
}

/* Per position k of the linear order, how many instructions before k
 * write rcx (need[2k]) and rdx (need[2k + 1]) as temporaries; a folded
 * load's or fused comparison's needs are its user's too. The same walk
 * sets be->nxmm: xmm12 and xmm13 hold the operands of v128 operations
 * (emit_vector.c) in functions that have them. */
static uint32_t *temp_counts(backend *be)
{
    ir_func *f = be->ir;
    /* the last block ends at position 2 * npos - 1 (live.c) */
    uint32_t npos = be->norder ? (be->block_end[be->order[be->norder - 1]] + 1) / 2 : 0;
    uint32_t *need = be_alloc_raw(be, 2 * ((size_t)npos + 1), sizeof *need);
    if (!need)
        return NULL;
    need[0] = need[1] = 0;
    unsigned carried = 0;
    uint32_t k = 0;
    be->nxmm = BE_NXMM;
    for (uint32_t i = 0; i < be->norder; i++)
        for (ir_ref r = f->blocks[be->order[i]].first; r; r = ir_at(f, r)->next, k++) {
            uint16_t op = ir_at(f, r)->op;
            if (op >> 8 == 0xfd && be_is_vector_op(op)) /* (the call only for v128's) */
                be->nxmm = BE_NXMM - 2;
            unsigned t = be_temps(be, r) | carried;
            carried = be->folded[r] || be_fused_compare(be, r) ? t : 0;
            need[2 * k + 2] = need[2 * k] + (t >> RCX & 1);
            need[2 * k + 3] = need[2 * k + 1] + (t >> RDX & 1);
        }
    return need;
}

/* Whether v's interval holds no instruction that needs register reg. */
static bool allowed(const backend *be, const uint32_t *need, ir_ref v, int reg)
{
    if (reg != RCX && reg != RDX)
        return true;
    uint32_t lo = be->start[v] / 2, hi = be->end[v] / 2 + 1, c = reg == RDX;
    return need[2 * hi + c] == need[2 * lo + c];
}

/* Per block: the end of its last predecessor that comes after it in code
 * order (a back edge's source), or 0. */
static uint32_t *back_edge_ends(backend *be)
{
    ir_func *f = be->ir;
    uint32_t *late = be_alloc(be, f->nblocks, sizeof *late);
    if (!late)
        return NULL;
    for (uint32_t i = 0; i < be->norder; i++) {
        uint32_t b = be->order[i];
        for (uint32_t p = 0; p < f->blocks[b].npreds; p++) {
            uint32_t e = be->block_end[f->blocks[b].preds[p]];
            if (e >= be->block_start[b] && e > late[b])
                late[b] = e;
        }
    }
    return late;
}

/* Loop headers a split looks at, in all, at most: past that, the value
 * goes to its slot for all its life, which bounds the work. */
#define SPLIT_SCAN 64

/* Where value w, which gives its register up at position `at`, starts to
 * live in its slot: the latest position p <= at such that no back edge
 * from p or later enters a block of its interval before p (where the
 * register would be taken to hold w, though code at p or later, calls
 * among it, used the register for other values). 0 when w goes to its
 * slot for all its life. */
static uint32_t split_point(const backend *be, const uint32_t *late, ir_ref w, uint32_t at)
{
    /* a phi is defined by the moves on its edges, a call's projection by
     * the call: neither stores at its own position */
    if (ir_at(be->ir, w)->op == IR_PHI || ir_at(be->ir, w)->op == IR_RESULT)
        return 0;
    /* the first block in the order that starts after w's definition */
    uint32_t lo = 0, hi = be->norder;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (be->block_start[be->order[mid]] <= be->start[w])
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t split = at, headers = 0;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t i = lo; i < be->norder && be->block_start[be->order[i]] < split; i++) {
            uint32_t b = be->order[i];
            if (!late[b])
                continue;
            if (++headers > SPLIT_SCAN)
                return 0;
            if (late[b] >= split) {
                split = be->block_start[b]; /* and again: loops before it may end past it */
                moved = true;
                break;
            }
        }
    }
    return split;
}

/* Value w gives its register up at position `at`: split there when it can
 * be (it keeps be->reg for the positions before), else to its slot for all
 * its life. Its slot is the one it is saved to around calls if it has one:
 * stored at its definition, it holds the value for the calls too. */
static void spill(backend *be, const uint32_t *late, ir_ref w, uint32_t at)
{
    if (ir_at(be->ir, w)->op == IR_PARAM)
        be->slot[w] = param_home(be, w);
    else
        be->slot[w] = be->save_slot[w] ? be->save_slot[w] : new_slot(be, w);
    uint32_t split = split_point(be, late, w, at);
    if (split > be->start[w])
        be->split_at[w] = split, be->stored_at_def[w] = true;
    else
        be->reg[w] = NO_REG;
}

int32_t param_home(backend *be, ir_ref param)
{
    uint32_t u = 0;
    for (uint32_t p = 0; p < ir_at(be->ir, param)->imm; p++)
        u += vm_slot_units(be->ir->type->params[p]);
    return (int32_t)(16 + VM_UNIT * u);
}

bool allocate_registers(backend *be)
{
    ir_func *f = be->ir;
    uint32_t nv = f->ninsts;
    be->reg = be_alloc_raw(be, nv, 1);
    be->slot = be_alloc(be, nv, sizeof *be->slot);
    be->split_at = be_alloc(be, nv, sizeof *be->split_at);
    be->stored_at_def = be_alloc(be, nv, sizeof *be->stored_at_def);
    /* per value: a phi (allocated earlier, in a loop header) taking it */
    ir_ref *phi_of = be_alloc(be, nv, sizeof *phi_of);
    if (!phi_of)
        return be_fail(be, "out of memory");
    for (uint32_t i = 0; i < be->norder; i++)
        for (ir_ref r = f->blocks[be->order[i]].first; r && ir_at(f, r)->op == IR_PHI;
             r = ir_at(f, r)->next)
            for (uint32_t k = 0; k < ir_at(f, r)->nargs; k++)
                if (be->start[ir_at(f, r)->args[k]] > be->start[r])
                    phi_of[ir_at(f, r)->args[k]] = r;
    be->save_slot = be_alloc(be, nv, sizeof *be->save_slot);
    be->save_first = be_alloc(be, nv, sizeof *be->save_first);
    be->save_count = be_alloc(be, nv, sizeof *be->save_count);
    uint32_t *need = temp_counts(be), *late = be->late = back_edge_ends(be);
    if (!be->reg || !be->slot || !be->split_at || !be->stored_at_def || !be->save_slot ||
        !be->save_first ||
        !be->save_count || !need || !late)
        return be_fail(be, "out of memory");
    ir_ref active[NREGS];
    uint32_t active_end[NREGS]; /* their ends: expiring reads them at every value */
    uint32_t nactive = 0;
    /* at most the least of active_end: most values expire nothing, and
     * then skip the walk */
    uint32_t min_end = UINT32_MAX;
    ir_ref holder[32] = {0}; /* per register id: the value holding it */
    for (ir_ref r = 0; r < nv; r++)
        be->reg[r] = NO_REG;
    for (uint32_t i = 0; i < be->norder; i++) {
        for (ir_ref v = f->blocks[be->order[i]].first; v; v = ir_at(f, v)->next) {
            ir_inst *in = ir_at(f, v);
            if (is_call_op(in->op) && !record_saves(be, v, active, nactive))
                return false;
            if (!in->type || is_const_op(in->op) || be->uses[v] == 0 || be->folded[v])
                continue;
            uint32_t start = be->start[v];
            /* expire */
            if (min_end < start) {
                min_end = UINT32_MAX;
                for (uint32_t a = 0; a < nactive;) {
                    if (active_end[a] < start) {
                        holder[(int)be->reg[active[a]]] = 0;
                        active_end[a] = active_end[--nactive];
                        active[a] = active[nactive];
                    } else {
                        min_end = active_end[a] < min_end ? active_end[a] : min_end;
                        a++;
                    }
                }
            }
            int reg = NO_REG;
            /* A value that a phi takes on a back edge goes to the phi's
             * register when it is free: the edge needs no move (a loop's
             * accumulator stays in one register). */
            ir_ref phi = phi_of[v];
            if (phi && be->reg[phi] != NO_REG && !holder[(int)be->reg[phi]] &&
                allowed(be, need, v, be->reg[phi]))
                reg = be->reg[phi];
            /* Two-address x86 computes into its first operand: the result
             * takes that register when the operand ends here. */
            ir_ref first = in->nargs && in->op != IR_PHI ? in->args[0] : 0;
            if (reg == NO_REG && first && be->reg[first] != NO_REG &&
                !holder[(int)be->reg[first]] && in_xmm(ir_at(f, first)->type) == in_xmm(in->type) &&
                allowed(be, need, v, be->reg[first]))
                reg = be->reg[first];
            if (reg == NO_REG) {
                if (in_xmm(in->type)) {
                    for (int x = 0; x < be->nxmm && reg == NO_REG; x++)
                        if (!holder[XREG(x)])
                            reg = XREG(x);
                } else {
                    for (size_t g = 0; g < sizeof gprs && reg == NO_REG; g++)
                        if (!holder[gprs[g]] && allowed(be, need, v, gprs[g]))
                            reg = gprs[g];
                }
                if (reg == NO_REG) {
                    /* spill the lightest of the class: the fewest uses
                     * (weighed by loop depth, so that what an inner loop
                     * uses stays) per position of its interval; of equal
                     * densities the one ending last */
                    uint32_t victim = UINT32_MAX;
                    ir_ref lightest = v;
                    for (uint32_t a = 0; a < nactive; a++) {
                        ir_ref w = active[a];
                        if (in_xmm(ir_at(f, w)->type) == in_xmm(in->type) &&
                            allowed(be, need, v, be->reg[w]) && lighter(be, w, lightest)) {
                            victim = a;
                            lightest = w;
                        }
                    }
                    if (victim != UINT32_MAX) {
                        ir_ref w = active[victim];
                        reg = be->reg[w];
                        spill(be, late, w, start);
                        active_end[victim] = active_end[--nactive];
                        active[victim] = active[nactive];
                    }
                }
            }
            if (reg != NO_REG) {
                be->reg[v] = (int8_t)reg;
                holder[reg] = v;
                active_end[nactive] = be->end[v];
                active[nactive++] = v;
                min_end = be->end[v] < min_end ? be->end[v] : min_end;
            } else if (in->op != IR_PARAM) {
                be->slot[v] = new_slot(be, v);
            }
        }
    }
    /* parameters without a register stay in their home (they are the
     * entry block's, which no pass copies or moves them from) */
    for (ir_ref v = f->blocks[0].first; v; v = ir_at(f, v)->next)
        if (ir_at(f, v)->op == IR_PARAM && be->reg[v] == NO_REG)
            be->slot[v] = param_home(be, v);
    return true;
}
