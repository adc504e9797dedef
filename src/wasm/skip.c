/*
 * Stepping over one instruction's immediates without type checking. Used
 * where decoding must go on after a module is known to be invalid, so that
 * a malformed byte later on is still reported as malformed (as the spec
 * requires: a malformed module is malformed, whatever else is wrong).
 */
#include "module.h"
#include "opcodes.h"
#include "reader.h"
#include "validate.h"

static bool skip_u32(wasm_reader *r)
{
    uint32_t x;
    return wasm_read_u32(r, &x);
}

static bool skip_memidx(wasm_reader *r, unsigned features)
{
    if (features & WASM_FEATURE_MULTI_MEMORY)
        return skip_u32(r);
    uint64_t at = wasm_reader_pos(r);
    uint8_t b;
    if (!wasm_read_u8(r, &b))
        return false;
    return b == 0 || wasm_reader_fail(r, at, "zero byte expected");
}

static bool skip_memarg(wasm_reader *r, unsigned features)
{
    uint32_t align;
    uint64_t offset;
    if (!wasm_read_u32(r, &align))
        return false;
    if ((features & WASM_FEATURE_MULTI_MEMORY) && (align & 0x40) && !skip_u32(r))
        return false;
    if (features & WASM_FEATURE_MEMORY64)
        return wasm_read_u64(r, &offset);
    return skip_u32(r);
}

static bool skip_blocktype(wasm_reader *r)
{
    int64_t index;
    if (r->p < r->end && (*r->p == 0x40 || (*r->p >= 0x6f && *r->p <= 0x7f))) {
        r->p++;
        return true;
    }
    return wasm_read_s33(r, &index);
}

static bool skip_misc(wasm_reader *r, unsigned features, uint64_t at)
{
    uint32_t op;
    if (!wasm_read_u32(r, &op))
        return false;
    switch (op) {
    case 0 ... 7: return true;
    case 8: return skip_u32(r) && skip_memidx(r, features);
    case 9: case 13: case 15: case 16: case 17: return skip_u32(r);
    case 10: return skip_memidx(r, features) && skip_memidx(r, features);
    case 11: return skip_memidx(r, features);
    case 12: case 14: return skip_u32(r) && skip_u32(r);
    }
    return wasm_reader_fail(r, at, "illegal opcode");
}

static bool skip_simd(wasm_reader *r, unsigned features, uint64_t at)
{
    uint32_t op;
    const uint8_t *bytes;
    uint8_t lane;
    if (!wasm_read_u32(r, &op))
        return false;
    const simd_op *s = op < 256 ? &wasm_simd_ops[op] : NULL;
    if (!s || (s->imm == SIMD_NONE && s->nin == 0))
        return wasm_reader_fail(r, at, "illegal opcode");
    switch (s->imm) {
    case SIMD_MEMARG: return skip_memarg(r, features);
    case SIMD_MEMARG_LANE: return skip_memarg(r, features) && wasm_read_u8(r, &lane);
    case SIMD_LANE: return wasm_read_u8(r, &lane);
    case SIMD_CONST:
    case SIMD_SHUFFLE: return wasm_read_bytes(r, 16, &bytes);
    }
    return true;
}

bool wasm_skip_immediates(wasm_reader *r, uint8_t op, unsigned features)
{
    uint64_t at = wasm_reader_pos(r) - 1;
    uint32_t n;
    int32_t i32;
    int64_t i64;
    uint8_t b;
    const uint8_t *bytes;
    if (!wasm_opcode_known(op))
        return wasm_reader_fail(r, at, "illegal opcode");
    switch (op) {
    case 0x02: case 0x03: case 0x04: return skip_blocktype(r);
    case 0x0e: /* br_table: the targets and the default */
        if (!wasm_read_u32(r, &n))
            return false;
        for (uint64_t i = 0; i <= n; i++)
            if (!skip_u32(r))
                return false;
        return true;
    case 0x11: return skip_u32(r) && skip_u32(r);
    case 0x1c: return wasm_read_u32(r, &n) && wasm_read_bytes(r, n, &bytes);
    case 0x0c: case 0x0d: case 0x10: case 0x20 ... 0x26: case 0xd2: return skip_u32(r);
    case 0x28 ... 0x3e: return skip_memarg(r, features);
    case 0x3f: case 0x40: return skip_memidx(r, features);
    case 0x41: return wasm_read_s32(r, &i32);
    case 0x42: return wasm_read_s64(r, &i64);
    case 0x43: return wasm_read_bytes(r, 4, &bytes);
    case 0x44: return wasm_read_bytes(r, 8, &bytes);
    case 0xd0: return wasm_read_u8(r, &b);
    case 0xfc: return skip_misc(r, features, at);
    case 0xfd: return skip_simd(r, features, at);
    }
    return true; /* no immediates */
}

/* Steps over a whole body, tracking block nesting to find its `end`. */
bool wasm_skip_body(wasm_reader *r, unsigned features)
{
    uint64_t depth = 1;
    for (;;) {
        uint8_t op;
        if (!wasm_read_u8(r, &op))
            return false;
        if (op == 0x02 || op == 0x03 || op == 0x04)
            depth++;
        else if (op == 0x0b && --depth == 0)
            return true;
        if (!wasm_skip_immediates(r, op, features))
            return false;
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
