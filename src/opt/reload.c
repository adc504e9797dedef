/*
 * Loop reloads (backend.h): a value that lives in its stack slot where an
 * innermost loop uses it, the loop holding no call, goes to a register
 * that no interval holds anywhere in the loop (register pressure outside
 * the loop spilled it, the loop itself has room): loaded once on the
 * loop's entry edge, read from the register in every iteration. Its slot
 * still holds it after the loop.
 *
 * A loop here is a header h and the blocks from it to its last back edge
 * in code order, entered only through h from one block whose only
 * successor is h: what lies between in code order is then reached only
 * through that block, and the register is taken by nothing there.
 */
#include "backend.h"

/* Registers reloads may take: not rcx and rdx, which some instructions
 * write as temporaries. */
static const int8_t reload_gprs[] = {RBX, RSI, RDI, R8, R9, R10, R12, R13};

/* The intervals of the values in registers, by register then start:
 * register r's are span[first[r] .. first[r + 1]), and reach[i] is the
 * furthest end among its register's up to i. Whether a register is taken
 * anywhere in a range is then a binary search, not a walk over every value
 * per loop. */
typedef struct span {
    uint32_t start, end;
} span;

typedef struct occupancy {
    uint32_t first[33];
    span *span;
    uint32_t *reach;
} occupancy;

/* Walking the code in order visits the values by start: counted per
 * register first, then placed. */
static bool occupancy_of(backend *be, occupancy *o)
{
    ir_func *f = be->ir;
    uint32_t count[33] = {0}, at[33];
    for (ir_ref v = 1; v < f->ninsts; v++)
        if (be->reg[v] != NO_REG)
            count[be->reg[v]]++;
    uint32_t n = 0;
    for (int r = 0; r <= 32; r++) {
        o->first[r] = at[r] = n;
        n += r < 32 ? count[r] : 0;
    }
    o->span = be_alloc_raw(be, (size_t)n + 1, sizeof *o->span);
    o->reach = be_alloc_raw(be, (size_t)n + 1, sizeof *o->reach);
    if (!o->span || !o->reach)
        return false;
    for (uint32_t i = 0; i < be->norder; i++)
        for (ir_ref v = f->blocks[be->order[i]].first; v; v = ir_at(f, v)->next)
            if (be->reg[v] != NO_REG)
                o->span[at[be->reg[v]]++] = (span){be->start[v], be->end[v]};
    for (int r = 0; r < 32; r++) {
        uint32_t reach = 0;
        for (uint32_t i = o->first[r]; i < o->first[r + 1]; i++)
            o->reach[i] = reach = o->span[i].end > reach ? o->span[i].end : reach;
    }
    return true;
}

/* Whether an interval in register r overlaps positions lo..hi. */
static bool taken(const occupancy *o, int r, uint32_t lo, uint32_t hi)
{
    uint32_t a = o->first[r], b = o->first[r + 1]; /* the last with start <= hi: b - 1 */
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (o->span[mid].start <= hi)
            a = mid + 1;
        else
            b = mid;
    }
    return a > o->first[r] && o->reach[a - 1] >= lo;
}

/* The loop headed by order[i], or false: its last position, its entry
 * block; no call, no way in but through the entry and no other loop
 * inside. */
static bool simple_loop(backend *be, uint32_t i, uint32_t *last, uint32_t *entry)
{
    ir_func *f = be->ir;
    uint32_t h = be->order[i], from = be->block_start[h], to = be->late[h];
    if (!to)
        return false;
    *entry = UINT32_MAX;
    for (uint32_t p = 0; p < f->blocks[h].npreds; p++) {
        uint32_t pred = f->blocks[h].preds[p];
        if (be->block_end[pred] >= from)
            continue;
        if (*entry != UINT32_MAX || f->blocks[pred].nsuccs != 1)
            return false;
        *entry = pred;
    }
    if (*entry == UINT32_MAX)
        return false;
    for (uint32_t j = i; j < be->norder && be->block_start[be->order[j]] <= to; j++) {
        uint32_t b = be->order[j];
        if (j > i && be->late[b])
            return false; /* an inner loop */
        for (uint32_t p = 0; j > i && p < f->blocks[b].npreds; p++)
            if (be->block_end[f->blocks[b].preds[p]] < from)
                return false;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            if (is_call_op(ir_at(f, r)->op))
                return false;
    }
    *last = to;
    return true;
}

/* Whether v lives in its slot from before position `from` on. */
static bool in_slot(const backend *be, ir_ref v, uint32_t from)
{
    const ir_inst *in = ir_at(be->ir, v);
    if (is_const_op(in->op) || be->folded[v] || be->start[v] >= from)
        return false;
    if (in->type != WASM_I32 && in->type != WASM_I64 && in->type != WASM_F32 &&
        in->type != WASM_F64)
        return false;
    return be->reg[v] == NO_REG || (be->split_at[v] && be->split_at[v] <= from);
}

static void plan_loop(backend *be, const occupancy *o, uint32_t i, uint32_t last, uint32_t entry,
                      uint32_t *count, ir_ref *cands)
{
    ir_func *f = be->ir;
    uint32_t h = be->order[i], from = be->block_start[h];
    uint32_t at = be->block_end[entry]; /* the entry's terminator: the load goes before it */
    /* registers held anywhere in the loop or at the load */
    uint32_t held = 0;
    for (int r = 0; r < 32; r++)
        if (taken(o, r, from, last) || taken(o, r, at - 1, at))
            held |= 1u << r;
    for (uint32_t k = 0; k < be->reloads.n; k++) {
        const reload *r = &be->reloads.v[k];
        if (r->from <= last && r->to >= at - 1)
            held |= 1u << r->reg;
    }
    /* the values in slots the loop reads, by how often */
    uint32_t n = 0;
    for (uint32_t j = i; j < be->norder && be->block_start[be->order[j]] <= last; j++)
        for (ir_ref r = f->blocks[be->order[j]].first; r; r = ir_at(f, r)->next)
            for (uint32_t a = 0; a < ir_at(f, r)->nargs; a++) {
                ir_ref v = ir_at(f, r)->args[a];
                if (!in_slot(be, v, from))
                    continue;
                if (!count[v]++)
                    cands[n++] = v;
            }
    /* the most used first (a selection: loops read few such values) */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t best = k;
        for (uint32_t m = k + 1; m < n; m++)
            if (count[cands[m]] > count[cands[best]])
                best = m;
        ir_ref v = cands[best];
        cands[best] = cands[k];
        cands[k] = v;
        bool xmm = ir_at(f, v)->type == WASM_F32 || ir_at(f, v)->type == WASM_F64;
        int reg = NO_REG;
        if (xmm) {
            for (int x = 0; x < be->nxmm && reg == NO_REG; x++)
                if (!(held >> XREG(x) & 1))
                    reg = XREG(x);
        } else {
            for (size_t g = 0; g < sizeof reload_gprs && reg == NO_REG; g++)
                if (!(held >> reload_gprs[g] & 1))
                    reg = reload_gprs[g];
        }
        if (reg != NO_REG) {
            held |= 1u << reg;
            be->reload_entry[entry] = true;
            if (!VEC_PUSH_OK(be->reloads, {v, from, last, entry, (int8_t)reg}))
                be_fail(be, "out of memory");
        }
    }
    for (uint32_t k = 0; k < n; k++)
        count[cands[k]] = 0;
}

bool plan_reloads(backend *be)
{
    ir_func *f = be->ir;
    be->reload_entry = be_alloc(be, f->nblocks, sizeof *be->reload_entry);
    uint32_t *count = NULL;
    ir_ref *cands = NULL;
    occupancy o = {{0}, NULL, NULL};
    bool ok = be->reload_entry;
    for (uint32_t i = 0; ok && i < be->norder; i++) {
        uint32_t last, entry;
        if (!simple_loop(be, i, &last, &entry))
            continue;
        if (!o.span) { /* made for the first loop: most functions have none */
            count = be_alloc(be, f->ninsts, sizeof *count);
            cands = be_alloc_raw(be, (size_t)f->ninsts + 1, sizeof *cands);
            ok = count && cands && occupancy_of(be, &o);
        }
        if (ok)
            plan_loop(be, &o, i, last, entry, count, cands);
    }
    return ok ? !be->why : be_fail(be, "out of memory");
}
