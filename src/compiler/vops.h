/*
 * The v128 instructions (0xFD prefix) as x86 instruction sequences on
 * registers, which both tiers emit: tier 1 (simd*.c) with the registers
 * its operand stack gives, tier 2 (src/opt) with its allocator's. Each
 * sequence is written once, here, so both tiers compute the same bits.
 *
 * Register numbers are encoding numbers: xmm0-15 are 0-15 (not allocator
 * ids), GPRs RAX..R15. xmm15 and r11 are scratch in both tiers: any
 * sequence may clobber them.
 */
#ifndef WJ_COMPILER_VOPS_H
#define WJ_COMPILER_VOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

typedef struct v128 {
    uint8_t b[16];
} v128;

/* A v128 filled with `byte`, or with a 16/32/64-bit lane pattern. */
v128 vop_bytes(uint8_t byte);
v128 vop_i16(uint16_t lane);
v128 vop_i32(uint32_t lane);
v128 vop_i64(uint64_t lane);

/* ---- the constant pool (vpool.c) ---- */

/* 16-byte values placed after a function's code, 16-byte aligned (SSE
 * instructions may take them as memory operands), read rip-relative. Equal
 * values share an entry, found through a hash index. f32/f64 constants
 * take an entry each (their bits in the low bytes, zeros above). One pool
 * serves one function at a time: vpool_finish empties it for the next. */
typedef struct vpool_ref {
    uint32_t at;    /* disp32 position; the instruction ends at at + 4 */
    uint32_t index; /* the entry it reads */
} vpool_ref;
typedef struct vpool_slot {
    uint32_t gen, index;
} vpool_slot;
typedef struct vpool {
    v128 *v;
    uint32_t n, cap;
    vpool_ref *refs;
    uint32_t nrefs, refs_cap;
    vpool_slot *slots; /* a power of two of them, at most half live */
    uint32_t slot_cap, gen;
    bool oom; /* a value or reference was lost: the code must not be used */
} vpool;

uint32_t vpool_index(vpool *p, v128 value);
uint32_t vpool_index_scalar(vpool *p, uint64_t bits); /* f32/f64 bits, zeros above */
/* [rip+entry `index`] as an operand. After each instruction that takes it
 * (ending with its disp32: no immediate), vpool_use records the reference;
 * other operands are left alone, so operands of any kind may pass through. */
x86_rm vpool_rm(uint32_t index);
void vpool_use(vpool *p, codebuf *cb, x86_rm rm);
/* op x, [rip+value]: an SSE instruction (x86_vec) whose source is an entry. */
void vpool_op(vpool *p, codebuf *cb, uint8_t prefix, uint32_t op, int x, v128 value);
void vpool_op_at(vpool *p, codebuf *cb, uint8_t prefix, uint32_t op, int x, uint32_t index);
/* movdqa x, [rip+entry]; pxor x, x for zeros. */
void vpool_load(vpool *p, codebuf *cb, int x, uint32_t index);
/* After a function's code: the pool, every reference bound; then empty
 * (oom stays set: vpool_clear clears it). */
void vpool_finish(vpool *p, codebuf *cb);
/* Empty, oom cleared: before each function (one whose compilation failed
 * may have left entries and references). */
static inline void vpool_clear(vpool *p)
{
    p->n = p->nrefs = 0;
    p->oom = false;
}
void vpool_free(vpool *p);

/* ---- the operations ---- */

/* A v128 instruction's operands and temporaries. Operands a, b, c are in
 * the instruction's operand order: xmm numbers for v128/f32/f64 values,
 * GPRs for i32/i64 (replace_lane's value, splat's scalar, shift counts);
 * -1 when absent. THE SEQUENCE MAY CLOBBER THEM (callers pass copies of
 * what they still need). A constant shift count comes as b_const (b is
 * then -1). t is a free xmm and g a free GPR, distinct from the operands
 * and from xmm15/r11, for the instructions vop_needs names. */
typedef struct vop_regs {
    int a, b, c;
    bool b_const;
    uint64_t b_imm;
    int t, g;
} vop_regs;

enum { VOP_NEEDS_XMM = 1, VOP_NEEDS_GPR = 2 };
/* What sub-opcode `op` (ins->op & 0xff) needs of t and g, given whether its
 * shift count is a constant. */
unsigned vop_needs(uint32_t op, bool b_const);

/* Where a result is: a register number (one of the operands', t or g; its
 * class is the result type's), or VOP_FLAGS(cc) for any_true/all_true,
 * whose i32 result is condition code cc (x86.h CC_*) of the flags the
 * sequence left. */
#define VOP_FLAGS(cc) (0x100 | (cc))
#define VOP_IS_FLAGS(where) ((where) >= 0x100)
#define VOP_CC(where) ((where) & 0xff)

/* Emits sub-opcode `op` other than the memory instructions and v128.const:
 * `lane` for lane instructions, `shuffle` i8x16.shuffle's 16 lane bytes.
 * Returns where the result is (-1 for an opcode it does not know). */
int vop_emit(codebuf *cb, vpool *pool, uint32_t op, uint8_t lane, const uint8_t *shuffle,
             vop_regs *r);

/* The instructions that are one SSE instruction `opcode a, b` (a = a op b;
 * prefix and opcode as x86_vec takes them): what vop_emit emits for them,
 * so that a caller may give b as a memory operand (a pool entry) or read it
 * in place from a register it must not clobber. */
bool vop_binary_insn(uint32_t op, uint8_t *prefix, uint32_t *opcode);

/* Which operands i8x16.shuffle's lane bytes pick from: bit 0 a, bit 1 b.
 * vop_emit reads only those: the other may be -1 (a caller drops it). */
unsigned vop_shuffle_sources(const uint8_t *shuffle);

/* The memory instructions (sub-opcodes 0x00-0x0b, 0x54-0x5d) on the
 * effective address m, which the caller formed and bounds-checked. The
 * FIRST instruction emitted is the one that touches memory (the caller
 * records its trap site just before). Loads write xmm x (load*_lane: x holds
 * the vector operand and gets the lane); stores read x. */
int vop_access_size(uint32_t op); /* bytes accessed */
bool vop_is_store(uint32_t op);
void vop_load(codebuf *cb, uint32_t op, x86_rm m, int x, uint8_t lane);
void vop_store(codebuf *cb, uint32_t op, x86_rm m, int x, uint8_t lane);

#endif
