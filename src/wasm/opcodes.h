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

struct wasm_reader;

/* Steps over the immediates of `op` (already read), or over a whole
 * function body; false with a malformed error on bad bytes. */
bool wasm_skip_immediates(struct wasm_reader *r, uint8_t op, unsigned features);
bool wasm_skip_body(struct wasm_reader *r, unsigned features);

/* Bodies are decoded during validation, but the spec reads them in stream
 * order: a malformed body among functions [from, to) replaces *err (and
 * true is returned). */
struct wasm_module;
struct wasm_error;
bool wasm_find_malformed_body(const struct wasm_module *m, uint32_t from, uint32_t to,
                              struct wasm_error *err);

#endif
