/*
 * Shared by the files that compile the v128 instructions (simd*.c): the
 * operand helpers and each file's entry point. v128 values live in xmm
 * registers (allocator ids XMM(0)-XMM(14)); xmm15 is scratch. Packed SSE
 * instructions take register operands, or 16-byte aligned pool constants
 * (vconst_op): never a stack slot or wasm memory, which may be unaligned.
 */
#ifndef WJ_COMPILER_SIMD_H
#define WJ_COMPILER_SIMD_H

#include "func.h"

#define REG_BIT(r) (1u << (r))
/* The encoding number of an xmm allocator id. */
static inline int xn(int reg) { return reg - 16; }

/* The operand on top popped into an xmm register the caller owns. */
static inline int v_pop(fn *f, uint32_t avoid) { return pop_reg(f, avoid); }
static inline void v_push(fn *f, int reg) { push_reg(f, WASM_V128, reg); }
/* A v128 filled with `byte`, or with a 16/32/64-bit lane pattern. */
v128 v_bytes(uint8_t byte);
v128 v_i16(uint16_t lane);
v128 v_i32(uint32_t lane);
v128 v_i64(uint64_t lane);

/* a = a op b for the two v128 operands on top (op as x86_vec takes it). */
void v_binary(fn *f, uint8_t prefix, uint32_t op);
/* x = ~x, in place (xmm15 clobbered). */
void v_not(fn *f, int x);
/* a = op a, in place, for the v128 operand on top. */
void v_unary(fn *f, uint8_t prefix, uint32_t op);

/* Entry points by group; each handles the opcodes of its group. */
void simd_memory(fn *f, const wasm_instr *ins); /* loads, stores, lanes of memory */
void simd_lane(fn *f, const wasm_instr *ins);   /* const, shuffle, splat, lanes */
bool simd_int(fn *f, uint32_t op);                     /* integer lane arithmetic */
bool simd_float(fn *f, uint32_t op);                   /* float lanes, conversions */
bool simd_fconv(fn *f, uint32_t op);                   /* float conversions, via simd_float */

#endif
