/* The v128 instructions (0xFD prefix), tier 1's stack side: operands popped
 * into registers it owns, the sequence emitted by vops.h, the result
 * pushed. A one-instruction binary op takes a v128.const operand from the
 * pool and a pinned or cached local's register in place; shifts take a
 * constant count as an immediate. */
#include <string.h>

#include "func.h"

#define REG_BIT(r) (1u << (r))

/* A one-instruction binary op (a = a op b) whose b is a v128.const, taken
 * from the pool unloaded, or a pinned or cached local, read in place from
 * its register; false (nothing done) for any other b. */
static bool v_binary_in_place(fn *f, uint8_t prefix, uint32_t op)
{
    ventry *e = top(f, 0);
    int held = e->kind == V_LOCAL ? local_reg(f, e) : -1;
    int a;
    if (e->kind == V_CONST) {
        uint32_t index = (uint32_t)pop(f).imm;
        a = pop_reg(f, 0);
        vpool_op_at(&f->pool, f->cb, prefix, op, xn(a), index); /* op a, [rip+b] */
    } else if (held >= 0) {
        f->height--;
        a = pop_reg(f, REG_BIT(held));
        x86_vec(f->cb, prefix, op, xn(a), R_(xn(held))); /* op a, b */
    } else {
        return false;
    }
    push_reg(f, WASM_V128, a);
    return true;
}

/* A shift's count on top as a constant: the shift takes it as b_imm. */
static bool const_count(fn *f, uint32_t op, vop_regs *r)
{
    bool shift = op >= 0x6b && op <= 0xcd && (op & 0x1f) >= 0x0b && (op & 0x1f) <= 0x0d;
    if (!shift || top(f, 0)->kind != V_CONST)
        return false;
    r->b_const = true;
    r->b_imm = pop(f).imm;
    return true;
}

/* The operand of i8x16.shuffle that none of its lanes come from (vop_emit
 * leaves it unread): 0 for a, 1 for b, else -1. */
static int unread_operand(const wasm_instr *ins, uint32_t op)
{
    if (op != 0x0d)
        return -1;
    unsigned from = vop_shuffle_sources(ins->bytes);
    return from == 1 ? 1 : from == 2 ? 0 : -1;
}

/* Any other instruction: its operands in registers (the first operand
 * deepest), t and g if it needs them; what is not the result is freed. */
static bool v_emit(fn *f, const wasm_instr *ins, uint32_t op)
{
    const wasm_opinfo *info = wasm_op_info(ins->op);
    vop_regs r = {.a = -1, .b = -1, .c = -1, .t = -1, .g = -1};
    int *operand[3] = {&r.a, &r.b, &r.c};
    int owned[5], nowned = 0; /* operands, t, g: allocator ids */
    int n = info->nin, unread = unread_operand(ins, op);
    if (const_count(f, op, &r))
        n--;
    uint32_t avoid = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (i == unread) { /* dropped */
            ventry e = pop(f);
            free_entry(f, &e);
            continue;
        }
        int reg = pop_reg(f, avoid);
        avoid |= REG_BIT(reg);
        owned[nowned++] = reg;
        *operand[i] = IS_XMM(reg) ? xn(reg) : reg;
    }
    unsigned needs = vop_needs(op, r.b_const);
    if (needs & VOP_NEEDS_XMM) {
        owned[nowned] = reg_alloc(f, true);
        r.t = xn(owned[nowned++]);
    }
    if (needs & VOP_NEEDS_GPR)
        owned[nowned++] = r.g = reg_alloc(f, false);
    int where = vop_emit(f->cb, &f->pool, op, ins->lane, ins->bytes, &r);
    if (where < 0)
        return fn_unsupported(f, "opcode");
    int result = VOP_IS_FLAGS(where) ? -1 : in_xmm(info->out) ? XMM(where) : where;
    for (int i = 0; i < nowned; i++)
        if (owned[i] != result)
            reg_free(f, owned[i]);
    if (result < 0)
        push_flags(f, VOP_CC(where));
    else
        push_reg(f, info->out, result);
    return true;
}

bool op_simd(fn *f, const wasm_instr *ins)
{
    uint32_t op = ins->op & 0xff;
    uint8_t prefix;
    uint32_t opcode;
    if (op <= 0x0b || (op >= 0x54 && op <= 0x5d)) {
        simd_memory(f, ins);
    } else if (op == 0x0c) { /* v128.const: an entry of the pool, loaded when used */
        v128 v;
        memcpy(v.b, ins->bytes, 16);
        push_const(f, WASM_V128, vpool_index(&f->pool, v));
    } else if (!vop_binary_insn(op, &prefix, &opcode) || !v_binary_in_place(f, prefix, opcode)) {
        return v_emit(f, ins, op);
    }
    return true;
}
