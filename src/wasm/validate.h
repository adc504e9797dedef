/* Shared between the body validator and its SIMD part (src/wasm). */
#ifndef WJ_WASM_VALIDATE_H
#define WJ_WASM_VALIDATE_H

#include <stdint.h>

/* Immediates of a 0xfd (SIMD) instruction. */
enum {
    SIMD_NONE,       /* no immediate */
    SIMD_MEMARG,     /* memarg */
    SIMD_MEMARG_LANE, /* memarg, then a lane index */
    SIMD_LANE,       /* a lane index */
    SIMD_CONST,      /* 16 bytes */
    SIMD_SHUFFLE,    /* 16 lane indices, each < 32 */
};

/* Operand-type placeholder for the address of a memory instruction: i32,
 * or i64 for memory64 memories. */
#define WASM_ADDR 0x01

typedef struct simd_op {
    uint8_t imm;
    uint8_t lanes;    /* SIMD_LANE / SIMD_MEMARG_LANE: lane count */
    uint8_t align;    /* memory ops: log2 of the natural alignment */
    uint8_t nin;
    uint8_t in[3];    /* operand types, first operand first */
    uint8_t out;      /* result type, or WASM_ANY for none */
} simd_op;

/* Indexed by the SIMD opcode; entries with nin == 0 && out == 0 && imm ==
 * SIMD_NONE do not exist ("illegal opcode"). */
extern const simd_op wasm_simd_ops[256];

#endif
