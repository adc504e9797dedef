/* The virtual operand stack and register allocation. */
#include <stdlib.h>

#include "func.h"

/* Allocation order: registers no instruction needs for itself first (rax,
 * rcx and rdx serve division and shifts). */
static const uint8_t gpr_order[] = {RBX, RSI, RDI, R8, R9, R10, R12, R13, RAX, RCX, RDX};
#define GPR_MASK 0x33cfu /* rax rcx rdx rbx rsi rdi r8 r9 r10 r12 r13 */
#define XMM_COUNT 15     /* xmm0-14; xmm15 is scratch */

uint32_t units_below(const fn *f, uint32_t depth)
{
    if (depth == 0)
        return 0;
    const ventry *e = &f->stack[depth - 1];
    return e->off + vm_slot_units(e->type);
}

x86_rm slot_at(const fn *f, uint32_t off, uint8_t type)
{
    uint64_t below = 8 + VM_UNIT * ((uint64_t)f->locals_units + off + vm_slot_units(type));
    return M_(RBP, -(int32_t)below);
}

x86_rm slot_of(const fn *f, uint32_t depth)
{
    return slot_at(f, f->stack[depth].off, f->stack[depth].type);
}

x86_rm local_home(const fn *f, uint32_t local)
{
    return M_(RBP, f->local_off[local]);
}

/* A local's read from the register holding it (pinned or cached). */
static ventry local_in(const ventry *e, int reg)
{
    return (ventry){.kind = V_REG, .type = e->type, .reg = (uint8_t)reg};
}

static void spill_entry(fn *f, uint32_t depth)
{
    ventry *e = &f->stack[depth];
    store_entry(f, e, slot_of(f, depth));
    free_entry(f, e);
    e->kind = V_STACK;
}

int reg_alloc_avoid(fn *f, bool xmm, uint32_t avoid)
{
    for (;;) {
        uint32_t busy = f->used | avoid;
        if (xmm) {
            for (int i = 0; i < XMM_COUNT; i++)
                if (!(busy & (1u << XMM(i)))) {
                    f->used |= 1u << XMM(i);
                    return XMM(i);
                }
        } else {
            for (unsigned i = 0; i < sizeof gpr_order; i++)
                if (!(busy & (1u << gpr_order[i]))) {
                    f->used |= 1u << gpr_order[i];
                    return gpr_order[i];
                }
        }
        /* None free: a cached local's register costs nothing to take back
         * (its home is up to date). */
        int reg = lcache_reclaim(f, xmm, avoid);
        if (reg >= 0) {
            f->used |= 1u << reg;
            return reg;
        }
        /* Else spill the deepest stack value held in a register of the
         * class and not avoided. Registers not on the stack belong to the
         * instruction being compiled, which holds at most a few. */
        uint32_t d = 0;
        for (; d < f->height; d++) {
            ventry *e = &f->stack[d];
            if (e->kind == V_REG && IS_XMM(e->reg) == xmm && !(avoid & (1u << e->reg)))
                break;
        }
        if (d == f->height)
            abort(); /* unreachable: see above */
        spill_entry(f, d);
    }
}

int reg_alloc(fn *f, bool xmm)
{
    return reg_alloc_avoid(f, xmm, 0);
}

void reg_free(fn *f, int reg)
{
    f->used &= ~(1u << reg);
}

void reg_evict(fn *f, int reg)
{
    lcache_drop(f, reg);
    if (!(f->used & (1u << reg)))
        return;
    for (uint32_t d = 0; d < f->height; d++) {
        ventry *e = &f->stack[d];
        if (e->kind == V_REG && e->reg == reg) {
            int to = reg_alloc_avoid(f, IS_XMM(reg), 1u << reg);
            if (IS_XMM(reg))
                x86_movaps(f->cb, to - 16, reg - 16);
            else
                x86_mov_rr(f->cb, SZ64, to, R_(reg));
            e->reg = (uint8_t)to;
            reg_free(f, reg);
            return;
        }
    }
}

static ventry *push(fn *f, uint8_t type)
{
    uint32_t off = units_below(f, f->height);
    if (f->height == f->stack_cap) {
        uint32_t cap = f->stack_cap ? 2 * f->stack_cap : 64;
        /* A stack whose slots alone overflow the frame is refused now,
         * before it costs more memory (and before slot offsets wrap). */
        bool too_deep = VM_UNIT * ((uint64_t)off + 2) > FRAME_MAX;
        ventry *s = too_deep ? NULL : realloc(f->stack, cap * sizeof *s);
        if (!s) {
            if (too_deep)
                fn_unsupported(f, "function frame larger than 1 GiB");
            else
                fn_oom(f);
            f->height = 0; /* keep going harmlessly; the result is dropped */
            off = 0;
            s = f->stack;
        } else {
            f->stack = s;
            f->stack_cap = cap;
        }
    }
    ventry *e = &f->stack[f->height++];
    *e = (ventry){.type = type, .off = off};
    uint64_t end = (uint64_t)off + vm_slot_units(type);
    if (end > f->max_units)
        f->max_units = end;
    return e;
}

void push_reg(fn *f, uint8_t type, int reg)
{
    f->used |= 1u << reg;
    ventry *e = push(f, type);
    e->kind = V_REG;
    e->reg = (uint8_t)reg;
}

void push_const(fn *f, uint8_t type, uint64_t bits)
{
    ventry *e = push(f, type);
    e->kind = V_CONST;
    e->imm = bits;
}

void push_local(fn *f, uint32_t local)
{
    ventry *e = push(f, f->local_types[local]);
    e->kind = V_LOCAL;
    e->local = local;
}

void push_flags(fn *f, int cc)
{
    ventry *e = push(f, WASM_I32);
    e->kind = V_FLAGS;
    e->reg = (uint8_t)cc;
}

void push_stack(fn *f, uint8_t type)
{
    push(f, type)->kind = V_STACK;
}

ventry pop(fn *f)
{
    return f->stack[--f->height];
}

void free_entry(fn *f, const ventry *e)
{
    if (e->kind == V_REG)
        reg_free(f, e->reg);
}

void reg_load(fn *f, uint8_t type, int reg, x86_rm src)
{
    if (type == WASM_V128)
        x86_movdqu_load(f->cb, reg - 16, src);           /* movdqu x, [src] */
    else if (IS_XMM(reg))
        x86_movs_load(f->cb, type == WASM_F64, reg - 16, src); /* movss/movsd x, [src] */
    else
        x86_mov_rr(f->cb, type_size(type), reg, src);    /* mov r, [src] */
}

void reg_store(fn *f, uint8_t type, x86_rm dst, int reg)
{
    if (type == WASM_V128)
        x86_movdqu_store(f->cb, dst, reg - 16);           /* movdqu [dst], x */
    else if (IS_XMM(reg))
        x86_movs_store(f->cb, type == WASM_F64, dst, reg - 16); /* movss/movsd [dst], x */
    else
        x86_mov_mr(f->cb, type_size(type), dst, reg);     /* mov [dst], r */
}

void load_into(fn *f, const ventry *e, int reg)
{
    codebuf *cb = f->cb;
    x86_rm src;
    switch (e->kind) {
    case V_REG:
        if (e->reg == reg)
            return;
        if (IS_XMM(reg))
            x86_movaps(cb, reg - 16, e->reg - 16);
        else
            x86_mov_rr(cb, type_size(e->type), reg, R_(e->reg));
        return;
    case V_CONST:
        if (e->type == WASM_V128) {
            vpool_load(&f->pool, cb, reg - 16, (uint32_t)e->imm);
        } else if (IS_XMM(reg)) {
            if (e->imm == 0) {
                x86_logic_ps(cb, 0x57, reg - 16, reg - 16); /* xorps x, x */
            } else {
                x86_rm c = vpool_rm(vpool_index_scalar(&f->pool, e->imm));
                x86_movs_load(cb, type_size(e->type) == SZ64, reg - 16, c); /* movss/movsd x, [rip+c] */
                vpool_use(&f->pool, cb, c);
            }
        } else {
            x86_mov_ri64(cb, reg, e->type == WASM_I32 ? (uint32_t)e->imm : e->imm);
        }
        return;
    case V_FLAGS:
        x86_setcc(cb, e->reg, reg);
        x86_movzx(cb, reg, SZ8, R_(reg));
        return;
    case V_LOCAL: {
        int held = local_reg(f, e);
        if (held >= 0) {
            ventry r = local_in(e, held);
            load_into(f, &r, reg);
            return;
        }
        src = local_home(f, e->local);
        break;
    }
    default:
        src = slot_of(f, (uint32_t)(e - f->stack));
        break;
    }
    reg_load(f, e->type, reg, src);
}

int pop_reg(fn *f, uint32_t avoid)
{
    ventry *e = top(f, 0);
    f->height--; /* off the stack: allocation below cannot spill it */
    if (e->kind == V_REG && !(avoid & (1u << e->reg)))
        return e->reg;
    int reg = reg_alloc_avoid(f, in_xmm(e->type), avoid);
    load_into(f, e, reg); /* e still names its slot by position */
    free_entry(f, e);
    return reg;
}

int pop_dest(fn *f, uint32_t avoid)
{
    const ventry *e = top(f, 0);
    int reg = e->kind == V_LOCAL ? f->local_reg[e->local] : -1;
    wasm_instr next;
    if (reg < 0 || (avoid & (1u << reg)) || !peek_instr(f, &next) ||
        (next.op != WASM_OP_LOCAL_SET && next.op != WASM_OP_LOCAL_TEE) ||
        next.index != e->local)
        return pop_reg(f, avoid);
    take_instr(f, &next);
    f->height--;
    /* Older reads of the local still on the stack take its old value. The
     * right operand, already popped, may read it too: the operator reads
     * it before it writes. */
    invalidate_local(f, e->local);
    f->dest_pending = true;
    f->dest_local = e->local;
    f->dest_tee = next.op == WASM_OP_LOCAL_TEE;
    return reg;
}

void push_dest(fn *f, uint8_t type, int reg)
{
    if (!f->dest_pending) {
        push_reg(f, type, reg);
        return;
    }
    f->dest_pending = false;
    if (f->dest_tee)
        push_local(f, f->dest_local);
}

bool entry_rm(fn *f, const ventry *e, x86_rm *rm)
{
    switch (e->kind) {
    case V_REG: *rm = IS_XMM(e->reg) ? R_(e->reg - 16) : R_(e->reg); return true;
    case V_LOCAL: {
        int held = local_reg(f, e);
        *rm = held < 0 ? local_home(f, e->local) : R_(held & 15);
        return true;
    }
    case V_STACK: *rm = slot_of(f, (uint32_t)(e - f->stack)); return true;
    default: return false;
    }
}

void flags_to_reg(fn *f)
{
    ventry e = *top(f, 0);
    f->height--; /* not a candidate for spilling while we allocate */
    int reg = reg_alloc(f, false);
    load_into(f, &e, reg);
    push_reg(f, WASM_I32, reg);
}

void mem_move(fn *f, uint8_t type, x86_rm dst, x86_rm src)
{
    if (type == WASM_V128) {
        x86_movdqu_load(f->cb, XSCRATCH, src); /* movdqu xmm15, [src] */
        x86_movdqu_store(f->cb, dst, XSCRATCH); /* movdqu [dst], xmm15 */
        return;
    }
    x86_mov_rr(f->cb, SZ64, SCRATCH, src); /* mov r11, [src] */
    x86_mov_mr(f->cb, SZ64, dst, SCRATCH); /* mov [dst], r11 */
}

void store_entry(fn *f, const ventry *e, x86_rm dst)
{
    codebuf *cb = f->cb;
    int size = type_size(e->type);
    switch (e->kind) {
    case V_REG:
        reg_store(f, e->type, dst, e->reg);
        return;
    case V_CONST:
        if (e->type == WASM_V128) {
            load_into(f, e, XMM(XSCRATCH));
            x86_movdqu_store(cb, dst, XSCRATCH); /* movdqu [dst], xmm15 */
        } else if (size == SZ32 || (int64_t)e->imm == (int32_t)e->imm) {
            x86_mov_mi(cb, size, dst, (int32_t)e->imm);
        } else {
            x86_mov_ri64(cb, SCRATCH, e->imm);
            x86_mov_mr(cb, SZ64, dst, SCRATCH);
        }
        return;
    case V_FLAGS:
        /* setcc + movzx keep the flags; mov does not touch them */
        x86_setcc(cb, e->reg, SCRATCH);
        x86_movzx(cb, SCRATCH, SZ8, R_(SCRATCH));
        x86_mov_mr(cb, SZ32, dst, SCRATCH);
        return;
    case V_LOCAL: {
        int held = local_reg(f, e);
        if (held >= 0) {
            ventry r = local_in(e, held);
            store_entry(f, &r, dst);
        } else {
            mem_move(f, e->type, dst, local_home(f, e->local));
        }
        return;
    }
    default: {
        x86_rm src = slot_of(f, (uint32_t)(e - f->stack));
        if (src.disp != dst.disp || src.base != dst.base)
            mem_move(f, e->type, dst, src);
        return;
    }
    }
}

void spill_all(fn *f)
{
    for (uint32_t d = 0; d < f->height; d++)
        if (f->stack[d].kind != V_STACK)
            spill_entry(f, d);
}

void invalidate_local(fn *f, uint32_t local)
{
    for (uint32_t d = 0; d < f->height; d++) {
        ventry *e = &f->stack[d];
        if (e->kind == V_LOCAL && e->local == local) {
            int reg = reg_alloc(f, in_xmm(e->type));
            load_into(f, e, reg);
            e->kind = V_REG;
            e->reg = (uint8_t)reg;
        }
    }
}

void local_set(fn *f, uint32_t local, bool tee)
{
    ventry *e = top(f, 0);
    int reg = f->local_reg[local];
    lcache_drop_local(f, local); /* it holds the old value */
    if (reg >= 0) {
        load_into(f, e, reg);
    } else {
        store_entry(f, e, local_home(f, local));
        /* Written through: the register stays as the local's cache and
         * the entry (a tee's result) becomes a read of the local, so
         * whoever consumes it copies the register instead of taking it.
         * Measured: that copy pays for vectors (blake3-simd's tee'd
         * rotations) but not for GPR tees (keccak got slower), which
         * keep their register on the stack uncached. */
        if (e->kind == V_REG && (!tee || IS_XMM(e->reg))) {
            lcache_keep(f, local, e->reg);
            e->kind = V_LOCAL;
            e->local = local;
        }
    }
    if (!tee) {
        ventry v = pop(f);
        free_entry(f, &v);
    }
}
