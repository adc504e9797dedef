/* The v128 instructions as register sequences (vops.h): dispatch by group,
 * the one-instruction binary operations, what each needs of t and g, and
 * the bitwise operations. */
#include <string.h>

#include "vops_impl.h"

v128 vop_bytes(uint8_t byte)
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

v128 vop_i16(uint16_t lane) { return v_lanes(&lane, 2); }
v128 vop_i32(uint32_t lane) { return v_lanes(&lane, 4); }
v128 vop_i64(uint64_t lane) { return v_lanes(&lane, 8); }

void v_not(codebuf *cb, int x)
{
    x86_vec(cb, 0x66, 0x76, XSCRATCH, R_(XSCRATCH)); /* pcmpeqd xmm15, xmm15 */
    x86_vec(cb, 0x66, 0xef, x, R_(XSCRATCH));        /* pxor x, xmm15 */
}

/* The instructions that are one SSE instruction on two operands: the
 * opcode, with the 66 prefix unless `ps` (the packed-single forms). */
static const struct {
    uint16_t op;
    bool ps;
} binary_ops[0x100] = {
    [0x4e] = {0xdb},   /* v128.and: pand */
    [0x50] = {0xeb},   /* v128.or: por */
    [0x51] = {0xef},   /* v128.xor: pxor */
    [0x65] = {0x63},   /* i8x16.narrow_i16x8_s: packsswb */
    [0x66] = {0x67},   /* i8x16.narrow_i16x8_u: packuswb */
    [0x6e] = {0xfc},   /* i8x16.add: paddb */
    [0x6f] = {0xec},   /* i8x16.add_sat_s: paddsb */
    [0x70] = {0xdc},   /* i8x16.add_sat_u: paddusb */
    [0x71] = {0xf8},   /* i8x16.sub: psubb */
    [0x72] = {0xe8},   /* i8x16.sub_sat_s: psubsb */
    [0x73] = {0xd8},   /* i8x16.sub_sat_u: psubusb */
    [0x76] = {0x3838}, /* i8x16.min_s: pminsb */
    [0x77] = {0xda},   /* i8x16.min_u: pminub */
    [0x78] = {0x383c}, /* i8x16.max_s: pmaxsb */
    [0x79] = {0xde},   /* i8x16.max_u: pmaxub */
    [0x7b] = {0xe0},   /* i8x16.avgr_u: pavgb */
    [0x85] = {0x6b},   /* i16x8.narrow_i32x4_s: packssdw */
    [0x86] = {0x382b}, /* i16x8.narrow_i32x4_u: packusdw */
    [0x8e] = {0xfd},   /* i16x8.add: paddw */
    [0x8f] = {0xed},   /* i16x8.add_sat_s: paddsw */
    [0x90] = {0xdd},   /* i16x8.add_sat_u: paddusw */
    [0x91] = {0xf9},   /* i16x8.sub: psubw */
    [0x92] = {0xe9},   /* i16x8.sub_sat_s: psubsw */
    [0x93] = {0xd9},   /* i16x8.sub_sat_u: psubusw */
    [0x95] = {0xd5},   /* i16x8.mul: pmullw */
    [0x96] = {0xea},   /* i16x8.min_s: pminsw */
    [0x97] = {0x383a}, /* i16x8.min_u: pminuw */
    [0x98] = {0xee},   /* i16x8.max_s: pmaxsw */
    [0x99] = {0x383e}, /* i16x8.max_u: pmaxuw */
    [0x9b] = {0xe3},   /* i16x8.avgr_u: pavgw */
    [0xae] = {0xfe},   /* i32x4.add: paddd */
    [0xb1] = {0xfa},   /* i32x4.sub: psubd */
    [0xb5] = {0x3840}, /* i32x4.mul: pmulld */
    [0xb6] = {0x3839}, /* i32x4.min_s: pminsd */
    [0xb7] = {0x383b}, /* i32x4.min_u: pminud */
    [0xb8] = {0x383d}, /* i32x4.max_s: pmaxsd */
    [0xb9] = {0x383f}, /* i32x4.max_u: pmaxud */
    [0xba] = {0xf5},   /* i32x4.dot_i16x8_s: pmaddwd */
    [0xce] = {0xd4},   /* i64x2.add: paddq */
    [0xd1] = {0xfb},   /* i64x2.sub: psubq */
    [0xe4] = {0x58, true}, /* f32x4.add: addps */
    [0xe5] = {0x5c, true}, /* f32x4.sub: subps */
    [0xe6] = {0x59, true}, /* f32x4.mul: mulps */
    [0xe7] = {0x5e, true}, /* f32x4.div: divps */
    [0xf0] = {0x58},   /* f64x2.add: addpd */
    [0xf1] = {0x5c},   /* f64x2.sub: subpd */
    [0xf2] = {0x59},   /* f64x2.mul: mulpd */
    [0xf3] = {0x5e},   /* f64x2.div: divpd */
};

bool vop_binary_insn(uint32_t op, uint8_t *prefix, uint32_t *opcode)
{
    if (op > 0xff || !binary_ops[op].op)
        return false;
    *prefix = binary_ops[op].ps ? 0 : 0x66;
    *opcode = binary_ops[op].op;
    return true;
}

unsigned vop_needs(uint32_t op, bool b_const)
{
    switch (op) {
    case 0x0f: case 0x10: case 0x11: case 0x12: /* integer splats: the vector is t */
    case 0x62:                                  /* i8x16.popcnt */
    case 0xd5:                                  /* i64x2.mul */
    case 0xd8: case 0xd9: case 0xda: case 0xdb: /* i64x2.lt_s gt_s le_s ge_s */
    case 0xf9:                                  /* i32x4.trunc_sat_f32x4_u */
        return VOP_NEEDS_XMM;
    case 0x6b: case 0x6c: case 0x6d: /* i8x16 shifts by a register */
    case 0xcc:                       /* i64x2.shr_s by a register */
        return b_const ? 0 : VOP_NEEDS_XMM;
    case 0x15: case 0x16: case 0x18: case 0x19: case 0x1b: case 0x1d: /* integer extract_lane */
    case 0x64: case 0x84: case 0xa4: case 0xc4:                       /* bitmask */
        return VOP_NEEDS_GPR;
    default: return 0;
    }
}

/* not, andnot, bitselect, any_true (and, or and xor are binary_ops). */
static int bitwise(codebuf *cb, uint32_t op, const vop_regs *r)
{
    int a = r->a, b = r->b, c = r->c;
    switch (op) {
    case 0x4d: v_not(cb, a); return a; /* v128.not */
    case 0x4f: /* v128.andnot: a & ~b */
        x86_vec(cb, 0x66, 0xdf, b, R_(a)); /* pandn b, a */
        return b;
    case 0x52: /* v128.bitselect: ((a ^ b) & c) ^ b */
        x86_vec(cb, 0x66, 0xef, a, R_(b)); /* pxor a, b */
        x86_vec(cb, 0x66, 0xdb, a, R_(c)); /* pand a, c */
        x86_vec(cb, 0x66, 0xef, a, R_(b)); /* pxor a, b */
        return a;
    case 0x53: /* v128.any_true */
        x86_vec(cb, 0x66, 0x3817, a, R_(a)); /* ptest a, a */
        return VOP_FLAGS(CC_NE);
    default: return -1;
    }
}

/* Float lanes and conversions involving them; the rest is integer. */
static bool is_float_op(uint32_t op)
{
    return (op >= 0x41 && op <= 0x4c) || op == 0x5e || op == 0x5f || (op >= 0x67 && op <= 0x6a) ||
           op == 0x74 || op == 0x75 || op == 0x7a || op == 0x94 || op >= 0xe0;
}

int vop_emit(codebuf *cb, vpool *pool, uint32_t op, uint8_t lane, const uint8_t *shuffle,
             vop_regs *r)
{
    uint8_t prefix;
    uint32_t opcode;
    if (vop_binary_insn(op, &prefix, &opcode)) {
        x86_vec(cb, prefix, opcode, r->a, R_(r->b)); /* op a, b */
        return r->a;
    }
    if (op <= 0x0c || (op >= 0x54 && op <= 0x5d) || op > 0xff)
        return -1; /* memory instructions, v128.const */
    if (op <= 0x22)
        return vops_lane(cb, pool, op, lane, shuffle, r);
    if (op >= 0x4d && op <= 0x53)
        return bitwise(cb, op, r);
    return is_float_op(op) ? vops_float(cb, pool, op, r) : vops_int(cb, pool, op, r);
}
