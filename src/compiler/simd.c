/* The v128 instructions (0xFD prefix): dispatch by group, shared operand
 * helpers, and the bitwise operations. */
#include <string.h>

#include "simd.h"

v128 v_bytes(uint8_t byte)
{
    v128 v;
    memset(v.b, byte, 16);
    return v;
}

static v128 v_lanes(const void *lane, int size)
{
    v128 v;
    for (int i = 0; i < 16; i += size)
        memcpy(v.b + i, lane, (size_t)size);
    return v;
}

v128 v_i16(uint16_t lane) { return v_lanes(&lane, 2); }
v128 v_i32(uint32_t lane) { return v_lanes(&lane, 4); }
v128 v_i64(uint64_t lane) { return v_lanes(&lane, 8); }

void v_binary(fn *f, uint8_t prefix, uint32_t op)
{
    if (top(f, 0)->kind == V_CONST) { /* b from the pool, unloaded */
        uint32_t index = (uint32_t)pop(f).imm;
        int a = v_pop(f, 0);
        vconst_op_at(f, prefix, op, xn(a), index); /* op a, [rip+b] */
        v_push(f, a);
        return;
    }
    ventry *e = top(f, 0);
    int held = e->kind == V_LOCAL ? local_reg(f, e) : -1;
    if (held >= 0) { /* b read in place from a pinned or cached local's register */
        f->height--;
        int a = v_pop(f, REG_BIT(held));
        x86_vec(f->cb, prefix, op, xn(a), R_(xn(held))); /* op a, b */
        v_push(f, a);
        return;
    }
    int b = v_pop(f, 0);
    int a = v_pop(f, REG_BIT(b));
    x86_vec(f->cb, prefix, op, xn(a), R_(xn(b))); /* op a, b */
    reg_free(f, b);
    v_push(f, a);
}

void v_not(fn *f, int x)
{
    x86_vec(f->cb, 0x66, 0x76, XSCRATCH, R_(XSCRATCH)); /* pcmpeqd xmm15, xmm15 */
    x86_vec(f->cb, 0x66, 0xef, xn(x), R_(XSCRATCH));    /* pxor x, xmm15 */
}

void v_unary(fn *f, uint8_t prefix, uint32_t op)
{
    int a = v_pop(f, 0);
    x86_vec(f->cb, prefix, op, xn(a), R_(xn(a))); /* op a, a */
    v_push(f, a);
}

/* not, and, andnot, or, xor, bitselect, any_true (0x4d-0x53). */
static void bitwise(fn *f, uint32_t op)
{
    codebuf *cb = f->cb;
    switch (op) {
    case 0x4d: { /* v128.not */
        int a = v_pop(f, 0);
        v_not(f, a);
        v_push(f, a);
        return;
    }
    case 0x4e: v_binary(f, 0x66, 0xdb); return; /* pand a, b */
    case 0x4f: { /* v128.andnot: a & ~b */
        int b = v_pop(f, 0);
        int a = v_pop(f, REG_BIT(b));
        x86_vec(cb, 0x66, 0xdf, xn(b), R_(xn(a))); /* pandn b, a */
        reg_free(f, a);
        v_push(f, b);
        return;
    }
    case 0x50: v_binary(f, 0x66, 0xeb); return; /* por a, b */
    case 0x51: v_binary(f, 0x66, 0xef); return; /* pxor a, b */
    case 0x52: { /* v128.bitselect: ((a ^ b) & c) ^ b */
        int c = v_pop(f, 0);
        int b = v_pop(f, REG_BIT(c));
        int a = v_pop(f, REG_BIT(c) | REG_BIT(b));
        x86_vec(cb, 0x66, 0xef, xn(a), R_(xn(b))); /* pxor a, b */
        x86_vec(cb, 0x66, 0xdb, xn(a), R_(xn(c))); /* pand a, c */
        x86_vec(cb, 0x66, 0xef, xn(a), R_(xn(b))); /* pxor a, b */
        reg_free(f, b), reg_free(f, c);
        v_push(f, a);
        return;
    }
    default: { /* 0x53 v128.any_true */
        int a = v_pop(f, 0);
        x86_vec(cb, 0x66, 0x3817, xn(a), R_(xn(a))); /* ptest a, a */
        reg_free(f, a);
        push_flags(f, CC_NE);
        return;
    }
    }
}

/* Float lanes and conversions involving them; the rest is integer. */
static bool is_float_op(uint32_t op)
{
    return (op >= 0x41 && op <= 0x4c) || op == 0x5e || op == 0x5f || (op >= 0x67 && op <= 0x6a) ||
           op == 0x74 || op == 0x75 || op == 0x7a || op == 0x94 || op >= 0xe0;
}

bool op_simd(fn *f, const wasm_instr *ins)
{
    uint32_t op = ins->op & 0xff;
    if (op <= 0x0b || (op >= 0x54 && op <= 0x5d))
        simd_memory(f, ins);
    else if (op <= 0x22)
        simd_lane(f, ins);
    else if (op >= 0x4d && op <= 0x53)
        bitwise(f, op);
    else
        return is_float_op(op) ? simd_float(f, op) : simd_int(f, op);
    return true;
}
