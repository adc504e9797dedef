/*
 * Tier 2's code emission (backend.h), shared by its files:
 *
 *   emit.c           the driver: blocks in order, terminators, the pieces
 *                    after the code (stubs, jump tables, constant pool)
 *   emit_operands.c  where values live, loading them, results to their place
 *   emit_moves.c     branches to blocks and phi moves on edges
 *   emit_num.c       comparisons, arithmetic, conversions, select
 *   emit_mem.c       loads, stores, globals, memory.size/grow, bulk memory
 *   emit_call.c      calls, call_indirect, libcalls, values saved around them
 *   emit_ref.c       references and tables
 *   emit_meter.c     fuel charges and checks, epoch checks
 *   emit_vector.c    the v128 instructions
 *
 * Each instruction is emitted with the registers and slots regalloc.c
 * chose, in tier 1's frame layout and calling convention; traps go through
 * stubs after the body that call the chunk's trap thunk.
 */
#ifndef WJ_OPT_EMIT_H
#define WJ_OPT_EMIT_H

#include "backend.h"

#define TMP RAX      /* a result that has no register of its own */
#define XTMP XREG(14)
#define XSCRATCH 15  /* xmm15 */

static inline ir_inst *inst(backend *be, ir_ref v) { return ir_at(be->ir, v); }
static inline bool is_xmm_type(uint8_t t) { return t == WASM_F32 || t == WASM_F64 || t == WASM_V128; }
static inline int size_of(uint8_t t) { return t == WASM_I32 || t == WASM_F32 ? SZ32 : SZ64; }
static inline bool is_const(backend *be, ir_ref v) { return is_const_op(inst(be, v)->op); }

/* ---- emit_operands.c ---- */
/* A constant's bits as an imm32 of an instruction of `size`, if it fits. */
bool be_imm32_of(backend *be, ir_ref v, int size, int32_t *imm);
x86_rm be_loc(backend *be, ir_ref v);             /* a non-constant's register or slot */
void be_load_gpr(backend *be, int r, ir_ref v);   /* GPR r = v */
void be_load_xmm(backend *be, int x, ir_ref v);   /* xmm x (0-15) = v */
/* xmm x (0-15) from or to memory by the value's type t: movss, movsd, or
 * movdqu for a v128 (16 bytes, only 8-aligned in frames) */
void be_xmm_load(codebuf *cb, uint8_t t, int x, x86_rm m);
void be_xmm_store(codebuf *cb, uint8_t t, x86_rm m, int x);
/* A value of type t memory to memory: through r11, a v128 through xmm15. */
void be_mem_move(codebuf *cb, uint8_t t, x86_rm dst, x86_rm src);
/* A float constant's pool entry as a rip-relative operand; pool_used
 * records its disp32 once the instruction using it is emitted. */
x86_rm be_pool_operand(backend *be, ir_ref v);
void be_pool_used(backend *be, x86_rm rm);
x86_rm be_gpr_operand(backend *be, ir_ref v);     /* v's place, or r11 holding it */
x86_rm be_xmm_operand(backend *be, ir_ref v);     /* v's place or pool entry (be_pool_used) */
int be_dst_gpr(backend *be, ir_ref v);            /* v's register, or the temporary */
int be_dst_xmm(backend *be, ir_ref v);
void be_put(backend *be, ir_ref v, int r);        /* v, computed in r, to its place */
void be_trap_jump(backend *be, uint32_t jump, uint32_t code, uint32_t wasm); /* a stub for a jcc */
void be_trap_cb(void *ctx, uint32_t jump, uint32_t code); /* the same for convert.c (be->trap_wasm) */
void be_trap_here(backend *be, uint32_t code, uint32_t wasm); /* the next instruction may fault */

/* ---- emit_moves.c ---- */
bool be_same_place(backend *be, ir_ref a, ir_ref b);
bool be_is_trampoline(backend *be, uint32_t b); /* only jumps on: never emitted */
uint32_t be_resolve(backend *be, uint32_t b);   /* where a branch to b really goes */
void be_jump_to(backend *be, int cc, uint32_t block); /* jcc (cc < 0: jmp) to the block */
void be_edge_moves(backend *be, uint32_t from, uint32_t to);

/* ---- emit_num.c ---- */
/* Whether the flags compare v with 0 already: a test of v can go. */
bool be_flags_hold(backend *be, ir_ref v);
int be_compare_flags(backend *be, ir_inst *in); /* the condition that holds when true */
void be_op_compare(backend *be, ir_ref v, ir_inst *in);
void be_op_int_binary(backend *be, ir_ref v, ir_inst *in, int alu, bool commutative); /* alu < 0: imul */
void be_op_shift(backend *be, ir_ref v, ir_inst *in, int digit);
void be_op_divrem(backend *be, ir_ref v, ir_inst *in, bool is_signed, bool rem);
void be_op_bitcount(backend *be, ir_ref v, ir_inst *in, int k);
void be_op_float_binary(backend *be, ir_ref v, ir_inst *in, uint8_t sse);
void be_op_minmax(backend *be, ir_ref v, ir_inst *in, bool is_max);
void be_op_sign(backend *be, ir_ref v, ir_inst *in, int k);
void be_op_convert(backend *be, ir_ref v, ir_inst *in);
void be_op_select(backend *be, ir_ref v, ir_inst *in);

/* ---- emit_mem.c ---- */
/* The operand of load or store `in`, after its bounds check if it needs
 * one; may load r11 (a spilled index), rcx (a checked one) and rdx. */
x86_rm be_heap_operand(backend *be, ir_inst *in);
unsigned be_heap_temps(backend *be, const ir_inst *in); /* of rcx and rdx, as be_temps */
void be_op_load(backend *be, ir_ref v, ir_inst *in);
void be_op_store(backend *be, ir_inst *in);
x86_rm be_global_rm(backend *be, uint32_t g); /* may load r11 */
void be_reload_membase(backend *be, bool always); /* r14 (!always: if memory 0 moves) */
void be_op_memory(backend *be, ir_ref v, ir_inst *in); /* memory.size, memory.grow */
void be_op_bulk(backend *be, ir_ref v, ir_inst *in);   /* memory.fill/copy/init, data.drop */

/* ---- emit_call.c ---- */
void be_save_across(backend *be, ir_ref call, bool restore);
void be_map_call(backend *be, uint32_t wasm); /* the call just emitted to the address map */
void be_op_call(backend *be, ir_ref v, ir_inst *in);
void be_op_call_indirect(backend *be, ir_ref v, ir_inst *in);
/* rsi, rdx, ... = the immediates then in's operands, for be_libcall */
void be_libcall_args(backend *be, ir_inst *in, const uint32_t *imms, uint32_t nimms);
void be_libcall(backend *be, ir_ref v, ir_inst *in, const void *func);
void be_emit_lazy_paths(backend *be); /* after the body */

/* ---- emit_ref.c ---- */
void be_op_ref_is_null(backend *be, ir_ref v, ir_inst *in);
void be_op_ref_func(backend *be, ir_ref v, ir_inst *in);
void be_op_table_get(backend *be, ir_ref v, ir_inst *in);
void be_op_table_set(backend *be, ir_inst *in);
void be_op_table_size(backend *be, ir_ref v, ir_inst *in);
void be_op_table_call(backend *be, ir_ref v, ir_inst *in); /* grow, fill, copy, init, elem.drop */
/* ---- emit_vector.c ---- */
unsigned be_vector_temps(backend *be, const ir_inst *in); /* of rcx and rdx, as be_temps */
void be_op_vector(backend *be, ir_ref v, ir_inst *in);
/* ---- emit_meter.c ---- */
void be_op_fuel(backend *be, ir_inst *in);        /* IR_FUEL, IR_FUEL_CHECK */
void be_op_epoch_check(backend *be, ir_inst *in);
void be_emit_epoch_paths(backend *be); /* after the body */

#endif
