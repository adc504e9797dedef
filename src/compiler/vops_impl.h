/*
 * Shared by the files that implement vops.h: vops.c (dispatch, needs,
 * bitwise), vops_int.c (integer comparisons and arithmetic), vops_shift.c,
 * vops_widen.c (extension, narrowing, widening multiplies and sums),
 * vops_float.c, vops_fconv.c (float conversions), vops_lane.c (shuffles,
 * splats, lanes) and vops_mem.c. Register numbers are encoding numbers;
 * lane sizes are numbered 0-3 for 8, 16, 32 and 64 bits.
 */
#ifndef WJ_COMPILER_VOPS_IMPL_H
#define WJ_COMPILER_VOPS_IMPL_H

#include "vops.h"

#define XSCRATCH 15 /* free in both tiers */
#define SCRATCH R11

/* op x, y with the 66 prefix. */
static inline void v_op(codebuf *cb, uint32_t op, int x, int y)
{
    x86_vec(cb, 0x66, op, x, R_(y));
}

/* x = ~x, in place (xmm15 clobbered). */
void v_not(codebuf *cb, int x);

/* Each group's instructions; -1 for any other opcode. */
int vops_int(codebuf *cb, vpool *p, uint32_t op, vop_regs *r);
int vops_shift(codebuf *cb, vpool *p, uint32_t op, vop_regs *r); /* i{8,16,32,64}.shl/shr */
int vops_widen(codebuf *cb, vpool *p, uint32_t op, vop_regs *r);
int vops_float(codebuf *cb, vpool *p, uint32_t op, vop_regs *r);
int vops_fconv(codebuf *cb, vpool *p, uint32_t op, vop_regs *r);
int vops_lane(codebuf *cb, vpool *p, uint32_t op, uint8_t lane, const uint8_t *shuffle,
              vop_regs *r);

#endif
