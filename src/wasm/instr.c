/*
 * The instruction decoder: one instruction's opcode and immediates, with
 * the binary format's rules (and its error messages) for each kind of
 * immediate.
 */
#include "module.h"
#include "opcodes.h"
#include "reader.h"

/* A value type byte, or a type index as a non-negative signed LEB128. */
static bool read_blocktype(wasm_reader *r, wasm_blocktype *out)
{
    if (r->p < r->end && (*r->p == WASM_BLOCK_EMPTY || wasm_is_valtype(*r->p))) {
        out->type = *r->p++;
        return true;
    }
    uint64_t at = wasm_reader_pos(r);
    int64_t index;
    if (!wasm_read_s33(r, &index))
        return false;
    if (index < 0)
        return wasm_reader_fail(r, at, "malformed block type");
    out->type = WASM_BLOCK_FUNCTYPE;
    out->index = (uint32_t)index;
    return true;
}

/* A memory index: a zero byte, or with multi-memory any index. */
static bool read_memidx(wasm_reader *r, unsigned features, uint32_t *out)
{
    if (features & WASM_FEATURE_MULTI_MEMORY)
        return wasm_read_u32(r, out);
    uint64_t at = wasm_reader_pos(r);
    uint8_t b;
    if (!wasm_read_u8(r, &b))
        return false;
    *out = 0;
    return b == 0 || wasm_reader_fail(r, at, "zero byte expected");
}

/* align (bit 6: a memory index follows, with multi-memory), offset (64
 * bits with memory64). */
static bool read_memarg(wasm_reader *r, unsigned features, wasm_memarg *out)
{
    if (!wasm_read_u32(r, &out->align))
        return false;
    out->memory = 0;
    if ((features & WASM_FEATURE_MULTI_MEMORY) && (out->align & 0x40)) {
        out->align &= ~0x40u;
        if (!wasm_read_u32(r, &out->memory))
            return false;
    }
    if (features & WASM_FEATURE_MEMORY64)
        return wasm_read_u64(r, &out->offset);
    uint32_t offset;
    if (!wasm_read_u32(r, &offset))
        return false;
    out->offset = offset;
    return true;
}

/* The targets and the default; their bytes stay where they are. */
static bool read_br_table(wasm_reader *r, wasm_instr *out)
{
    uint32_t label;
    if (!wasm_read_u32(r, &out->br_table.count))
        return false;
    out->br_table.targets = r->p;
    for (uint32_t i = 0; i < out->br_table.count; i++)
        if (!wasm_read_u32(r, &label))
            return false;
    return wasm_read_u32(r, &out->br_table.default_label);
}

static bool read_select_types(wasm_reader *r, wasm_instr *out)
{
    if (!wasm_read_u32(r, &out->select.count) ||
        !wasm_read_bytes(r, out->select.count, &out->select.types))
        return false;
    for (uint32_t i = 0; i < out->select.count; i++)
        if (!wasm_is_valtype(out->select.types[i]))
            return wasm_reader_fail(r, wasm_reader_offset(r, out->select.types + i),
                                    "malformed value type");
    return true;
}

static bool read_reftype(wasm_reader *r, uint8_t *out)
{
    uint64_t at = wasm_reader_pos(r);
    if (!wasm_read_u8(r, out))
        return false;
    return wasm_is_reftype(*out) || wasm_reader_fail(r, at, "malformed reference type");
}

bool wasm_decode_immediates_slow(wasm_reader *r, uint8_t byte, unsigned features, wasm_instr *out)
{
    uint64_t at = wasm_reader_pos(r) - 1;
    unsigned op = byte;
    if (byte == 0xfc || byte == 0xfd) {
        uint32_t sub;
        if (!wasm_read_u32(r, &sub))
            return false;
        if (sub > (byte == 0xfc ? 0x1fu : 0xffu)) /* beyond the prefix's slots */
            return wasm_reader_fail(r, at, "illegal opcode");
        op = (unsigned)byte << 8 | sub;
    }
    const wasm_opinfo *info = wasm_op_info(op);
    out->op = (uint16_t)op;
    out->info = info;
    switch (info->imm) {
    case WASM_IMM_NONE:
        return true;
    case WASM_IMM_BLOCKTYPE:
        return read_blocktype(r, &out->block);
    case WASM_IMM_LABEL:
    case WASM_IMM_FUNC:
    case WASM_IMM_LOCAL:
    case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE:
    case WASM_IMM_DATA:
    case WASM_IMM_ELEM:
        return wasm_read_u32(r, &out->index);
    case WASM_IMM_BR_TABLE:
        return read_br_table(r, out);
    case WASM_IMM_CALL_INDIRECT:
        return wasm_read_u32(r, &out->call_indirect.type) &&
               wasm_read_u32(r, &out->call_indirect.table);
    case WASM_IMM_MEMORY:
        return read_memidx(r, features, &out->index);
    case WASM_IMM_MEMARG:
        return read_memarg(r, features, &out->memarg);
    case WASM_IMM_MEMARG_LANE:
        return read_memarg(r, features, &out->memarg) && wasm_read_u8(r, &out->lane);
    case WASM_IMM_LANE:
        return wasm_read_u8(r, &out->lane);
    case WASM_IMM_I32:
        return wasm_read_s32(r, &out->i32);
    case WASM_IMM_I64:
        return wasm_read_s64(r, &out->i64);
    case WASM_IMM_F32:
        return wasm_read_f32(r, &out->f32);
    case WASM_IMM_F64:
        return wasm_read_f64(r, &out->f64);
    case WASM_IMM_V128:
    case WASM_IMM_SHUFFLE:
        return wasm_read_bytes(r, 16, &out->bytes);
    case WASM_IMM_SELECT_T:
        return read_select_types(r, out);
    case WASM_IMM_REFTYPE:
        return read_reftype(r, &out->reftype);
    case WASM_IMM_MEMORY_INIT:
        return wasm_read_u32(r, &out->init.segment) && read_memidx(r, features, &out->init.dst);
    case WASM_IMM_MEMORY_COPY:
        return read_memidx(r, features, &out->copy.dst) &&
               read_memidx(r, features, &out->copy.src);
    case WASM_IMM_TABLE_INIT:
        return wasm_read_u32(r, &out->init.segment) && wasm_read_u32(r, &out->init.dst);
    case WASM_IMM_TABLE_COPY:
        return wasm_read_u32(r, &out->copy.dst) && wasm_read_u32(r, &out->copy.src);
    }
    return wasm_reader_fail(r, at, "illegal opcode"); /* WASM_IMM_ILLEGAL */
}

/* single_type + t is a one-element array holding the type t. */
static const uint8_t single_type[256] = {
    [WASM_I32] = WASM_I32,         [WASM_I64] = WASM_I64,   [WASM_F32] = WASM_F32,
    [WASM_F64] = WASM_F64,         [WASM_V128] = WASM_V128, [WASM_FUNCREF] = WASM_FUNCREF,
    [WASM_EXTERNREF] = WASM_EXTERNREF,
};

void wasm_block_functype(const wasm_module *m, const wasm_blocktype *bt, wasm_functype *out)
{
    switch (bt->type) {
    case WASM_BLOCK_FUNCTYPE:
        *out = m->types[bt->index];
        return;
    case WASM_BLOCK_EMPTY:
        *out = (wasm_functype){0};
        return;
    }
    *out = (wasm_functype){.nresults = 1, .results = &single_type[bt->type]};
}
