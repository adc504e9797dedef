/* Facts about single-byte opcodes that the decoder needs outside function
 * bodies (constant expressions). */
#ifndef WJ_WASM_OPCODES_H
#define WJ_WASM_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

/* An opcode of Wasm 2.0 (prefix bytes 0xfc and 0xfd count as known). */
static inline bool wasm_opcode_known(uint8_t op)
{
    return op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c) ||
           (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4) ||
           (op >= 0xd0 && op <= 0xd2) || op == 0xfc || op == 0xfd;
}

/* Known opcodes that take no immediates. */
static inline bool wasm_opcode_has_immediates(uint8_t op)
{
    return !(op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a ||
             op == 0x1b || (op >= 0x45 && op <= 0xc4) || op == 0xd1);
}

#endif
