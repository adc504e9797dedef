/* Tier 2's control-flow edges (emit.h): blocks that only jump on,
 * branches to blocks, and the parallel moves of phis on an edge. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

/* A block that only jumps on, with nothing to move on the way (the phis
 * of where it goes already hold their values), is never emitted:
 * branches to it go where it goes. Whether a split value (regalloc.c) is
 * where its phi is depends on the position: its edge is kept. The answer
 * must not change while the code is emitted: the blocks emitted were
 * chosen by it. */
bool be_is_trampoline(backend *be, uint32_t b)
{
    ir_func *f = be->ir;
    const ir_block *blk = &f->blocks[b];
    if (blk->first != blk->last || !blk->first || ir_at(f, blk->first)->op != WASM_OP_BR ||
        blk->succs[0] == b || be->reload_entry[b])
        return false;
    const ir_block *to = &f->blocks[blk->succs[0]];
    uint32_t k = be->pred_at[b];
    for (ir_ref p = to->first; p && ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next) {
        ir_ref a = ir_at(f, p)->args[k];
        if (be->uses[p] && (be->split_at[a] || !be_same_place(be, p, a)))
            return false;
    }
    return true;
}

uint32_t be_resolve(backend *be, uint32_t b)
{
    for (uint32_t hops = 0; hops < 64 && be_is_trampoline(be, b); hops++)
        b = be->ir->blocks[b].succs[0];
    return b;
}

void be_jump_to(backend *be, int cc, uint32_t block)
{
    block = be_resolve(be, block);
    if (be->label[block] != UINT32_MAX) {
        if (cc < 0)
            x86_jmp_to(be->cb, be->label[block]);
        else
            x86_jcc_to(be->cb, cc, be->label[block]);
        return;
    }
    uint32_t at = cc < 0 ? x86_jmp(be->cb) : x86_jcc(be->cb, cc);
    if (!VEC_PUSH_OK(be->fixups, {at, block}))
        be_fail(be, "out of memory");
}

/* ---- phis: a parallel move on the edge from `from` to `to` ---- */

bool be_same_place(backend *be, ir_ref a, ir_ref b)
{
    if (is_const(be, a) || is_const(be, b))
        return false;
    if (be->reg[a] != NO_REG || be->reg[b] != NO_REG)
        return be->reg[a] == be->reg[b];
    return be->slot[a] == be->slot[b];
}

/* dst's place = src. */
static void move_value(backend *be, ir_ref dst, ir_ref src)
{
    ir_inst *d = inst(be, dst);
    int32_t imm;
    if (be->reg[dst] == NO_REG && !is_const(be, src) && be->reg[src] != NO_REG) {
        x86_rm slot = M_(RBP, be->slot[dst]);
        if (is_xmm_type(d->type))
            be_xmm_store(be->cb, d->type, slot, be->reg[src] - 16); /* movsd [dst], src */
        else
            x86_mov_mr(be->cb, size_of(d->type), slot, be->reg[src]); /* mov [dst], src */
        return;
    }
    if (be->reg[dst] == NO_REG && be_imm32_of(be, src, size_of(d->type), &imm)) {
        x86_mov_mi(be->cb, size_of(d->type), M_(RBP, be->slot[dst]), imm); /* mov [dst], imm */
        return;
    }
    if (is_xmm_type(d->type)) {
        int x = be->reg[dst] != NO_REG ? be->reg[dst] - 16 : XSCRATCH;
        be_load_xmm(be, x, src);
        be_put(be, dst, XREG(x));
    } else {
        int r = be->reg[dst] != NO_REG ? be->reg[dst] : R11;
        be_load_gpr(be, r, src);
        be_put(be, dst, r);
    }
}

/* The moves of the phis of `to` on the edge from `from`, as one parallel
 * copy: a move goes once no other pending move reads its destination;
 * when only cycles remain, a destination's current value goes to the
 * temporary of its class (rax, xmm14) and its readers read that. */
void be_edge_moves(backend *be, uint32_t from, uint32_t to)
{
    ir_func *f = be->ir;
    const ir_block *tb = &f->blocks[to];
    uint32_t k = be->pred_at[from];
    struct {
        ir_ref dst, src;
        bool from_temp;
    } moves[64];
    uint32_t n = 0;
    for (ir_ref p = tb->first; p && ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next) {
        ir_ref src = ir_at(f, p)->args[k];
        if (be->uses[p] == 0 || be_same_place(be, p, src))
            continue;
        if (n == sizeof moves / sizeof *moves) {
            be_fail(be, "too many phis on an edge");
            return;
        }
        moves[n].dst = p, moves[n].src = src, moves[n].from_temp = false;
        n++;
    }
    while (n) {
        uint32_t i = 0;
        for (; i < n; i++) {
            bool blocked = false;
            for (uint32_t j = 0; j < n && !blocked; j++)
                blocked = j != i && !moves[j].from_temp && be_same_place(be, moves[j].src, moves[i].dst);
            if (!blocked)
                break;
        }
        if (i < n) {
            bool x = is_xmm_type(inst(be, moves[i].dst)->type);
            if (moves[i].from_temp)
                be_put(be, moves[i].dst, x ? XTMP : TMP);
            else
                move_value(be, moves[i].dst, moves[i].src);
            moves[i] = moves[--n];
            continue;
        }
        /* only cycles: move 0's destination is read; save what it holds */
        ir_ref d = moves[0].dst;
        bool x = is_xmm_type(inst(be, d)->type), saved = false;
        for (uint32_t j = 0; j < n; j++) {
            if (moves[j].from_temp || !be_same_place(be, moves[j].src, d))
                continue;
            if (!saved) {
                if (x)
                    be_load_xmm(be, XTMP - 16, moves[j].src);
                else
                    be_load_gpr(be, TMP, moves[j].src);
                saved = true;
            }
            moves[j].from_temp = true;
        }
    }
}

