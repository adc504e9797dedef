/*
 * Stepping over instructions without type checking. Used where decoding
 * must go on after a module is known to be invalid, so that a malformed
 * byte later on is still reported as malformed (as the spec requires: a
 * malformed module is malformed, whatever else is wrong).
 */
#include "module.h"
#include "opcodes.h"
#include "reader.h"

bool wasm_skip_immediates(wasm_reader *r, uint8_t op, unsigned features)
{
    wasm_instr ins;
    return wasm_decode_immediates(r, op, features, &ins);
}

/* Steps over a whole body, tracking block nesting to find its `end`. */
bool wasm_skip_body(wasm_reader *r, unsigned features)
{
    uint64_t depth = 1;
    for (;;) {
        wasm_instr ins;
        if (!wasm_decode_instr(r, features, &ins))
            return false;
        if (ins.info->imm == WASM_IMM_BLOCKTYPE)
            depth++;
        else if (ins.op == WASM_OP_END && --depth == 0)
            return true;
    }
}

bool wasm_find_malformed_body(const wasm_module *m, uint32_t from, uint32_t to, wasm_error *err)
{
    wasm_error found = {0};
    wasm_reader r = {.base = m->bytes, .end = m->bytes + m->size, .in_section = true, .err = &found};
    for (uint32_t i = from; i < to; i++) {
        const wasm_func *f = &m->funcs[i];
        r.p = m->bytes + f->body;
        if (wasm_skip_body(&r, m->features) && wasm_reader_pos(&r) == f->body_end)
            continue;
        wasm_fail(&found, WASM_ERR_MALFORMED, f->decl, "section size mismatch");
        *err = found;
        return true;
    }
    return false;
}

uint16_t wasm_skip_dead(wasm_reader *r, unsigned features, uint32_t *at)
{
    uint32_t depth = 0;
    for (;;) {
        wasm_instr ins;
        *at = (uint32_t)wasm_reader_pos(r);
        if (!wasm_decode_instr(r, features, &ins))
            return 0;
        switch (ins.op) {
        case WASM_OP_BLOCK: case WASM_OP_LOOP: case WASM_OP_IF:
            depth++;
            break;
        case WASM_OP_END:
            if (depth == 0)
                return ins.op;
            depth--;
            break;
        case WASM_OP_ELSE:
            if (depth == 0)
                return ins.op;
            break;
        }
    }
}
