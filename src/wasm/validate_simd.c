/* Operand types and immediates of the SIMD (v128) instructions, by opcode. */
#include "module.h"
#include "validate.h"

#define V WASM_V128
#define I32 WASM_I32
#define I64 WASM_I64
#define F32 WASM_F32
#define F64 WASM_F64

#define OP(imm, lanes, align, nin, a, b, c, out) {imm, lanes, align, nin, {a, b, c}, out}
#define V_V OP(SIMD_NONE, 0, 0, 1, V, 0, 0, V)
#define VV_V OP(SIMD_NONE, 0, 0, 2, V, V, 0, V)
#define VVV_V OP(SIMD_NONE, 0, 0, 3, V, V, V, V)
#define V_I32 OP(SIMD_NONE, 0, 0, 1, V, 0, 0, I32)
#define SHIFT OP(SIMD_NONE, 0, 0, 2, V, I32, 0, V)
#define SPLAT(t) OP(SIMD_NONE, 0, 0, 1, t, 0, 0, V)
#define EXTRACT(lanes, t) OP(SIMD_LANE, lanes, 0, 1, V, 0, 0, t)
#define REPLACE(lanes, t) OP(SIMD_LANE, lanes, 0, 2, V, t, 0, V)
#define LOAD(align) OP(SIMD_MEMARG, 0, align, 1, WASM_ADDR, 0, 0, V)
#define STORE(align) OP(SIMD_MEMARG, 0, align, 2, WASM_ADDR, V, 0, WASM_ANY)
#define LOAD_LANE(align, lanes) OP(SIMD_MEMARG_LANE, lanes, align, 2, WASM_ADDR, V, 0, V)
#define STORE_LANE(align, lanes) OP(SIMD_MEMARG_LANE, lanes, align, 2, WASM_ADDR, V, 0, WASM_ANY)

const simd_op wasm_simd_ops[256] = {
    [0x00] = LOAD(4),                                  /* v128.load */
    [0x01] = LOAD(3), [0x02] = LOAD(3), [0x03] = LOAD(3), /* v128.load8x8_s ... */
    [0x04] = LOAD(3), [0x05] = LOAD(3), [0x06] = LOAD(3),
    [0x07] = LOAD(0), [0x08] = LOAD(1), [0x09] = LOAD(2), [0x0a] = LOAD(3), /* load*_splat */
    [0x0b] = STORE(4),                                 /* v128.store */
    [0x0c] = OP(SIMD_CONST, 0, 0, 0, 0, 0, 0, V),      /* v128.const */
    [0x0d] = OP(SIMD_SHUFFLE, 0, 0, 2, V, V, 0, V),    /* i8x16.shuffle */
    [0x0e] = VV_V,                                     /* i8x16.swizzle */
    [0x0f] = SPLAT(I32), [0x10] = SPLAT(I32), [0x11] = SPLAT(I32),
    [0x12] = SPLAT(I64), [0x13] = SPLAT(F32), [0x14] = SPLAT(F64),
    [0x15] = EXTRACT(16, I32), [0x16] = EXTRACT(16, I32), [0x17] = REPLACE(16, I32),
    [0x18] = EXTRACT(8, I32), [0x19] = EXTRACT(8, I32), [0x1a] = REPLACE(8, I32),
    [0x1b] = EXTRACT(4, I32), [0x1c] = REPLACE(4, I32),
    [0x1d] = EXTRACT(2, I64), [0x1e] = REPLACE(2, I64),
    [0x1f] = EXTRACT(4, F32), [0x20] = REPLACE(4, F32),
    [0x21] = EXTRACT(2, F64), [0x22] = REPLACE(2, F64),
    /* comparisons: i8x16, i16x8, i32x4 (10 each), f32x4, f64x2 (6 each) */
    [0x23 ... 0x4c] = VV_V,
    [0x4d] = V_V,                                      /* v128.not */
    [0x4e] = VV_V, [0x4f] = VV_V, [0x50] = VV_V, [0x51] = VV_V, /* and andnot or xor */
    [0x52] = VVV_V,                                    /* v128.bitselect */
    [0x53] = V_I32,                                    /* v128.any_true */
    [0x54] = LOAD_LANE(0, 16), [0x55] = LOAD_LANE(1, 8),
    [0x56] = LOAD_LANE(2, 4), [0x57] = LOAD_LANE(3, 2),
    [0x58] = STORE_LANE(0, 16), [0x59] = STORE_LANE(1, 8),
    [0x5a] = STORE_LANE(2, 4), [0x5b] = STORE_LANE(3, 2),
    [0x5c] = LOAD(2), [0x5d] = LOAD(3),                /* v128.load32_zero, load64_zero */
    [0x5e] = V_V, [0x5f] = V_V,                        /* f32x4.demote, f64x2.promote */
    /* i8x16 */
    [0x60] = V_V, [0x61] = V_V, [0x62] = V_V,          /* abs neg popcnt */
    [0x63] = V_I32, [0x64] = V_I32,                    /* all_true bitmask */
    [0x65] = VV_V, [0x66] = VV_V,                      /* narrow_i16x8_s/u */
    [0x67] = V_V, [0x68] = V_V, [0x69] = V_V, [0x6a] = V_V, /* f32x4 ceil floor trunc nearest */
    [0x6b] = SHIFT, [0x6c] = SHIFT, [0x6d] = SHIFT,
    [0x6e ... 0x73] = VV_V,                            /* add, add_sat, sub, sub_sat */
    [0x74] = V_V, [0x75] = V_V,                        /* f64x2 ceil floor */
    [0x76 ... 0x79] = VV_V,                            /* min max */
    [0x7a] = V_V,                                      /* f64x2.trunc */
    [0x7b] = VV_V,                                     /* avgr_u */
    [0x7c ... 0x7f] = V_V,                             /* extadd_pairwise */
    /* i16x8 */
    [0x80] = V_V, [0x81] = V_V, [0x82] = VV_V,         /* abs neg q15mulr_sat_s */
    [0x83] = V_I32, [0x84] = V_I32,
    [0x85] = VV_V, [0x86] = VV_V,                      /* narrow_i32x4 */
    [0x87 ... 0x8a] = V_V,                             /* extend */
    [0x8b] = SHIFT, [0x8c] = SHIFT, [0x8d] = SHIFT,
    [0x8e ... 0x93] = VV_V,
    [0x94] = V_V,                                      /* f64x2.nearest */
    [0x95 ... 0x99] = VV_V,                            /* mul min max */
    [0x9b ... 0x9f] = VV_V,                            /* avgr_u extmul */
    /* i32x4 */
    [0xa0] = V_V, [0xa1] = V_V,
    [0xa3] = V_I32, [0xa4] = V_I32,
    [0xa7 ... 0xaa] = V_V,
    [0xab] = SHIFT, [0xac] = SHIFT, [0xad] = SHIFT,
    [0xae] = VV_V, [0xb1] = VV_V, [0xb5 ... 0xba] = VV_V, /* add sub mul min max dot */
    [0xbc ... 0xbf] = VV_V,
    /* i64x2 */
    [0xc0] = V_V, [0xc1] = V_V,
    [0xc3] = V_I32, [0xc4] = V_I32,
    [0xc7 ... 0xca] = V_V,
    [0xcb] = SHIFT, [0xcc] = SHIFT, [0xcd] = SHIFT,
    [0xce] = VV_V, [0xd1] = VV_V, [0xd5 ... 0xdf] = VV_V, /* add sub mul cmp extmul */
    /* f32x4, f64x2 */
    [0xe0] = V_V, [0xe1] = V_V, [0xe3] = V_V, [0xe4 ... 0xeb] = VV_V,
    [0xec] = V_V, [0xed] = V_V, [0xef] = V_V, [0xf0 ... 0xf7] = VV_V,
    /* conversions */
    [0xf8 ... 0xff] = V_V,
};
