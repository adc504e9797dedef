/*
 * Shared by the files that compile the integer lane instructions:
 * simd_int.c (dispatch, comparisons, arithmetic), simd_shift.c (shifts) and
 * simd_widen.c (extension, narrowing and the widening multiplies and sums).
 * Lane sizes are numbered 0-3 for 8, 16, 32 and 64 bits.
 */
#ifndef WJ_COMPILER_SIMD_INT_H
#define WJ_COMPILER_SIMD_INT_H

#include "simd.h"

/* op x, y with the 66 prefix, on two xmm allocator ids. */
static inline void v_op(fn *f, uint32_t op, int x, int y)
{
    x86_vec(f->cb, 0x66, op, xn(x), R_(xn(y)));
}

/* Shifts by the i32 count on top. */
enum { SHL, SHR_S, SHR_U };
void simd_shift(fn *f, int size, int kind);
/* The instructions of simd_widen.c; false for any other opcode. */
bool simd_widen(fn *f, uint32_t op);

#endif
