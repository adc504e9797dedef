/* The instruction table and decoder (src/wasm/opcodes.def, opcodes.c,
 * instr.c): decoded immediates of every kind, errors with their offsets,
 * and the table's names checked against wabt's assembler. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"
#include "wat.h"

#define SIMD WASM_FEATURE_SIMD
#define MEM64 (WASM_FEATURE_SIMD | WASM_FEATURE_MEMORY64)
#define MULTI (WASM_FEATURE_SIMD | WASM_FEATURE_MULTI_MEMORY)
#define SEC_END "unexpected end of section or function"

static wasm_error err;
static wasm_instr ins;
static wasm_reader rd;
static const uint8_t *start;

/* Decodes one instruction from a copy of `bytes` into ins (errors into
 * err). The copy outlives the caller's compound literal: ins and start
 * point into it after the checking macros' blocks end. */
static bool decode_bytes(unsigned features, const uint8_t *bytes, size_t n)
{
    static uint8_t copy[64];
    ck_assert_uint_le(n, sizeof copy);
    memcpy(copy, bytes, n);
    err = (wasm_error){0};
    ins = (wasm_instr){0};
    start = copy;
    rd = (wasm_reader){
        .base = copy, .p = copy, .end = copy + n, .in_section = true, .err = &err};
    return wasm_decode_instr(&rd, features, &ins);
}

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Decodes all the bytes as one instruction `want_op`. */
#define ck_decodes(features, want_op, ...)                                                  \
    do {                                                                                    \
        bool ok_ = decode_bytes(features, BYTES(__VA_ARGS__));                              \
        ck_assert_msg(ok_, "unexpected \"%s\" at %llu", err.message,                        \
                      (unsigned long long)err.offset);                                      \
        ck_assert_uint_eq(ins.op, want_op);                                                 \
        ck_assert_ptr_eq(ins.info, wasm_op_info(want_op));                                  \
        ck_assert_ptr_eq(rd.p, rd.end);                                                     \
    } while (0)

#define ck_fails(features, want_kind, want_message, want_offset, ...)                       \
    do {                                                                                    \
        ck_assert(!decode_bytes(features, BYTES(__VA_ARGS__)));                             \
        ck_assert_error_is(err.kind, err.message, err.offset, want_kind, want_message,      \
                           want_offset);                                                    \
    } while (0)

/* ---- immediates ------------------------------------------------------------------ */

START_TEST(no_immediates)
{
    ck_decodes(SIMD, WASM_OP_I32_ADD, 0x6a);
    ck_assert_str_eq(ins.info->name, "i32.add");
    ck_assert_uint_eq(ins.info->nin, 2);
    ck_assert_uint_eq(ins.info->in[0], WASM_I32);
    ck_assert_uint_eq(ins.info->out, WASM_I32);
    ck_decodes(SIMD, WASM_OP_I32_TRUNC_SAT_F64_U, 0xfc, 0x03);
    ck_assert_uint_eq(ins.info->in[0], WASM_F64);
    ck_decodes(SIMD, WASM_OP_I8X16_SWIZZLE, 0xfd, 0x0e);
    /* a sub-opcode in a longer LEB128 than needed */
    ck_decodes(SIMD, WASM_OP_F64X2_CONVERT_LOW_I32X4_U, 0xfd, 0xff, 0x81, 0x00);
    ck_decodes(SIMD, WASM_OP_END, 0x0b);
    ck_assert_uint_eq(ins.info->nin, WASM_CUSTOM_SIG);
}
END_TEST

START_TEST(block_types)
{
    ck_decodes(SIMD, WASM_OP_BLOCK, 0x02, 0x40);
    ck_assert_uint_eq(ins.block.type, WASM_BLOCK_EMPTY);
    ck_decodes(SIMD, WASM_OP_LOOP, 0x03, 0x7b);
    ck_assert_uint_eq(ins.block.type, WASM_V128);
    /* numbers and vectors are decoded inline, reference types out of line */
    ck_decodes(SIMD, WASM_OP_IF, 0x04, 0x7f);
    ck_assert_uint_eq(ins.block.type, WASM_I32);
    ck_decodes(SIMD, WASM_OP_BLOCK, 0x02, 0x70);
    ck_assert_uint_eq(ins.block.type, WASM_FUNCREF);
    ck_decodes(SIMD, WASM_OP_IF, 0x04, 0x05);
    ck_assert_uint_eq(ins.block.type, WASM_BLOCK_FUNCTYPE);
    ck_assert_uint_eq(ins.block.index, 5);
    ck_decodes(SIMD, WASM_OP_BLOCK, 0x02, 0x80, 0x01);
    ck_assert_uint_eq(ins.block.index, 128);
    /* a one-byte negative that is no value type */
    ck_fails(SIMD, WASM_ERR_MALFORMED, "malformed block type", 1, 0x02, 0x7a);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 1, 0x02);
}
END_TEST

START_TEST(indices)
{
    ck_decodes(SIMD, WASM_OP_BR, 0x0c, 0x03);
    ck_assert_uint_eq(ins.index, 3);
    ck_decodes(SIMD, WASM_OP_BR_IF, 0x0d, 0x80, 0x01);
    ck_assert_uint_eq(ins.index, 128);
    ck_decodes(SIMD, WASM_OP_CALL, 0x10, 0xe5, 0x8e, 0x26);
    ck_assert_uint_eq(ins.index, 624485);
    ck_decodes(SIMD, WASM_OP_LOCAL_TEE, 0x22, 0x07);
    ck_assert_uint_eq(ins.index, 7);
    ck_decodes(SIMD, WASM_OP_GLOBAL_SET, 0x24, 0x81, 0x80, 0x00);
    ck_assert_uint_eq(ins.index, 1);
    ck_decodes(SIMD, WASM_OP_TABLE_GET, 0x25, 0x02);
    ck_assert_uint_eq(ins.index, 2);
    ck_decodes(SIMD, WASM_OP_TABLE_SIZE, 0xfc, 0x10, 0x03);
    ck_assert_uint_eq(ins.index, 3);
    ck_decodes(SIMD, WASM_OP_REF_FUNC, 0xd2, 0x09);
    ck_assert_uint_eq(ins.index, 9);
    ck_decodes(SIMD, WASM_OP_DATA_DROP, 0xfc, 0x09, 0x04);
    ck_assert_uint_eq(ins.index, 4);
    ck_decodes(SIMD, WASM_OP_ELEM_DROP, 0xfc, 0x0d, 0x02);
    ck_assert_uint_eq(ins.index, 2);
    ck_decodes(SIMD, WASM_OP_CALL_INDIRECT, 0x11, 0x02, 0x01);
    ck_assert_uint_eq(ins.call_indirect.type, 2);
    ck_assert_uint_eq(ins.call_indirect.table, 1);
    ck_decodes(SIMD, WASM_OP_TABLE_INIT, 0xfc, 0x0c, 0x05, 0x01);
    ck_assert_uint_eq(ins.init.segment, 5);
    ck_assert_uint_eq(ins.init.dst, 1);
    ck_decodes(SIMD, WASM_OP_TABLE_COPY, 0xfc, 0x0e, 0x01, 0x00);
    ck_assert_uint_eq(ins.copy.dst, 1);
    ck_assert_uint_eq(ins.copy.src, 0);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "integer representation too long", 5, 0x20, 0x80, 0x80,
             0x80, 0x80, 0x80, 0x00);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 2, 0x11, 0x00);
}
END_TEST

START_TEST(br_table)
{
    ck_decodes(SIMD, WASM_OP_BR_TABLE, 0x0e, 3, 1, 2, 0x80, 0x01, 5);
    ck_assert_uint_eq(ins.br_table.count, 3);
    ck_assert_uint_eq(ins.br_table.default_label, 5);
    const uint8_t *p = ins.br_table.targets;
    ck_assert_ptr_eq(p, start + 2);
    ck_assert_uint_eq(wasm_next_label(&p), 1);
    ck_assert_uint_eq(wasm_next_label(&p), 2);
    ck_assert_uint_eq(wasm_next_label(&p), 128);
    ck_assert_ptr_eq(p, start + 6);
    ck_decodes(SIMD, WASM_OP_BR_TABLE, 0x0e, 0, 7);
    ck_assert_uint_eq(ins.br_table.count, 0);
    ck_assert_uint_eq(ins.br_table.default_label, 7);
    /* two targets announced, one there, then the default missing */
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 4, 0x0e, 2, 1, 1);
}
END_TEST

START_TEST(memory_indices)
{
    ck_decodes(SIMD, WASM_OP_MEMORY_GROW, 0x40, 0x00);
    ck_assert_uint_eq(ins.index, 0);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "zero byte expected", 1, 0x3f, 0x01);
    ck_decodes(MULTI, WASM_OP_MEMORY_SIZE, 0x3f, 0x82, 0x01);
    ck_assert_uint_eq(ins.index, 130);
    ck_decodes(MULTI, WASM_OP_MEMORY_COPY, 0xfc, 0x0a, 0x01, 0x02);
    ck_assert_uint_eq(ins.copy.dst, 1);
    ck_assert_uint_eq(ins.copy.src, 2);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "zero byte expected", 3, 0xfc, 0x0a, 0x00, 0x02);
    ck_decodes(SIMD, WASM_OP_MEMORY_INIT, 0xfc, 0x08, 0x03, 0x00);
    ck_assert_uint_eq(ins.init.segment, 3);
    ck_assert_uint_eq(ins.init.dst, 0);
    ck_decodes(MULTI, WASM_OP_MEMORY_FILL, 0xfc, 0x0b, 0x04);
    ck_assert_uint_eq(ins.index, 4);
}
END_TEST

START_TEST(memargs)
{
    ck_decodes(SIMD, WASM_OP_I32_LOAD, 0x28, 0x02, 0x10);
    ck_assert_uint_eq(ins.memarg.align, 2);
    ck_assert_uint_eq(ins.memarg.memory, 0);
    ck_assert_uint_eq(ins.memarg.offset, 16);
    ck_assert_uint_eq(ins.info->align, 2);
    /* bit 6 of the alignment: a memory index follows with multi-memory only */
    ck_decodes(MULTI, WASM_OP_I64_STORE16, 0x3d, 0x41, 0x03, 0x08);
    ck_assert_uint_eq(ins.memarg.align, 1);
    ck_assert_uint_eq(ins.memarg.memory, 3);
    ck_assert_uint_eq(ins.memarg.offset, 8);
    ck_decodes(SIMD, WASM_OP_I64_STORE16, 0x3d, 0x41, 0x08);
    ck_assert_uint_eq(ins.memarg.align, 0x41);
    ck_assert_uint_eq(ins.memarg.memory, 0);
    ck_assert_uint_eq(ins.memarg.offset, 8);
    /* 64-bit offsets with memory64 only */
    ck_decodes(MEM64, WASM_OP_I64_LOAD, 0x29, 0x03, 0x80, 0x80, 0x80, 0x80, 0x10);
    ck_assert_uint_eq(ins.memarg.offset, UINT64_C(1) << 32);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "integer too large", 6, 0x29, 0x03, 0x80, 0x80, 0x80,
             0x80, 0x10);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 2, 0x28, 0x02);
    /* two-byte offsets (decoded inline), and the three-byte one beyond */
    ck_decodes(SIMD, WASM_OP_I32_LOAD, 0x28, 0x02, 0x80, 0x01);
    ck_assert_uint_eq(ins.memarg.offset, 128);
    ck_decodes(MEM64, WASM_OP_I32_STORE, 0x36, 0x02, 0xff, 0x7f);
    ck_assert_uint_eq(ins.memarg.offset, 16383);
    ck_decodes(SIMD, WASM_OP_I32_LOAD, 0x28, 0x02, 0x80, 0x80, 0x01);
    ck_assert_uint_eq(ins.memarg.offset, 16384);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 3, 0x28, 0x02, 0x80);
    ck_decodes(SIMD, WASM_OP_V128_LOAD, 0xfd, 0x00, 0x04, 0x00);
    ck_assert_uint_eq(ins.info->align, 4);
    ck_assert_uint_eq(ins.info->in[0], WASM_ADDR);
}
END_TEST

START_TEST(lanes)
{
    ck_decodes(SIMD, WASM_OP_I8X16_EXTRACT_LANE_S, 0xfd, 0x15, 0x07);
    ck_assert_uint_eq(ins.lane, 7);
    ck_assert_uint_eq(ins.info->lanes, 16);
    ck_assert_uint_eq(ins.info->out, WASM_I32);
    ck_decodes(SIMD, WASM_OP_F64X2_REPLACE_LANE, 0xfd, 0x22, 0x01);
    ck_assert_uint_eq(ins.lane, 1);
    ck_assert_uint_eq(ins.info->lanes, 2);
    ck_assert_uint_eq(ins.info->in[1], WASM_F64);
    /* the lane is a byte: 0x80 is lane 128, not a LEB128 prefix */
    ck_decodes(SIMD, WASM_OP_I16X8_EXTRACT_LANE_U, 0xfd, 0x19, 0x80);
    ck_assert_uint_eq(ins.lane, 128);
    ck_decodes(SIMD, WASM_OP_V128_LOAD8_LANE, 0xfd, 0x54, 0x00, 0x04, 0x0f);
    ck_assert_uint_eq(ins.memarg.align, 0);
    ck_assert_uint_eq(ins.memarg.offset, 4);
    ck_assert_uint_eq(ins.lane, 15);
    ck_decodes(MULTI, WASM_OP_V128_STORE64_LANE, 0xfd, 0x5b, 0x43, 0x01, 0x00, 0x01);
    ck_assert_uint_eq(ins.memarg.align, 3);
    ck_assert_uint_eq(ins.memarg.memory, 1);
    ck_assert_uint_eq(ins.lane, 1);
    ck_assert_uint_eq(ins.info->lanes, 2);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 4, 0xfd, 0x54, 0x00, 0x04);
}
END_TEST

START_TEST(constants)
{
    ck_decodes(SIMD, WASM_OP_I32_CONST, 0x41, 0x7f);
    ck_assert_int_eq(ins.i32, -1);
    ck_decodes(SIMD, WASM_OP_I32_CONST, 0x41, 0x3f);
    ck_assert_int_eq(ins.i32, 63);
    ck_decodes(SIMD, WASM_OP_I32_CONST, 0x41, 0x80, 0x01);
    ck_assert_int_eq(ins.i32, 128);
    ck_decodes(SIMD, WASM_OP_I64_CONST, 0x42, 0x7e);
    ck_assert_int_eq(ins.i64, -2);
    ck_decodes(SIMD, WASM_OP_F32_CONST, 0x43, 0x00, 0x00, 0x80, 0x3f);
    ck_assert_uint_eq(ins.f32, 0x3f800000);
    ck_decodes(SIMD, WASM_OP_F64_CONST, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf);
    ck_assert_uint_eq(ins.f64, UINT64_C(0xbff0000000000000));
    ck_fails(SIMD, WASM_ERR_MALFORMED, "integer too large", 5, 0x41, 0x80, 0x80, 0x80, 0x80,
             0x70);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 4, 0x43, 0x00, 0x00, 0x80);
}
END_TEST

START_TEST(sixteen_bytes)
{
    ck_decodes(SIMD, WASM_OP_V128_CONST, 0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
               14, 15, 16);
    ck_assert_ptr_eq(ins.bytes, start + 2);
    ck_assert_uint_eq(ins.bytes[15], 16);
    ck_decodes(SIMD, WASM_OP_I8X16_SHUFFLE, 0xfd, 0x0d, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, 31);
    ck_assert_ptr_eq(ins.bytes, start + 2);
    ck_assert_uint_eq(ins.bytes[0], 0x80); /* lane bytes are not LEB128: validation checks them */
    ck_assert_uint_eq(ins.bytes[15], 31);
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 12, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(types)
{
    ck_decodes(SIMD, WASM_OP_SELECT_T, 0x1c, 0x01, 0x7b);
    ck_assert_uint_eq(ins.select.count, 1);
    ck_assert_uint_eq(ins.select.types[0], WASM_V128);
    /* decoded whatever their number: the validator allows only one */
    ck_decodes(SIMD, WASM_OP_SELECT_T, 0x1c, 0x02, 0x7f, 0x6f);
    ck_assert_uint_eq(ins.select.count, 2);
    ck_assert_uint_eq(ins.select.types[1], WASM_EXTERNREF);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "malformed value type", 3, 0x1c, 0x02, 0x7f, 0x60);
    ck_decodes(SIMD, WASM_OP_REF_NULL, 0xd0, 0x6f);
    ck_assert_uint_eq(ins.reftype, WASM_EXTERNREF);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "malformed reference type", 1, 0xd0, 0x7f);
}
END_TEST

/* Illegal opcodes are reported at the instruction, prefix included. */
START_TEST(illegal_opcodes)
{
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0x06);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0xff);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0xfc, 0x12);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0xfc, 0x20);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0xfd, 0x9a, 0x01);
    ck_fails(SIMD, WASM_ERR_MALFORMED, "illegal opcode", 0, 0xfd, 0x80, 0x02); /* 256 */
    ck_fails(SIMD, WASM_ERR_MALFORMED, SEC_END, 1, 0xfd);
    /* the skipper's wrapper: the opcode byte already read */
    err = (wasm_error){0};
    const uint8_t bytes[] = {0xfc, 0x13};
    rd = (wasm_reader){
        .base = bytes, .p = bytes + 1, .end = bytes + 2, .in_section = true, .err = &err};
    ck_assert(!wasm_skip_immediates(&rd, 0xfc, SIMD));
    ck_assert_error_is(err.kind, err.message, err.offset, WASM_ERR_MALFORMED, "illegal opcode", 0);
}
END_TEST

/* ---- the table --------------------------------------------------------------------- */

START_TEST(names)
{
    ck_assert_str_eq(wasm_op_name(WASM_OP_UNREACHABLE), "unreachable");
    ck_assert_str_eq(wasm_op_name(WASM_OP_I64_EXTEND32_S), "i64.extend32_s");
    ck_assert_str_eq(wasm_op_name(0xfc00), "i32.trunc_sat_f32_s");
    ck_assert_str_eq(wasm_op_name(0xfc11), "table.fill");
    ck_assert_str_eq(wasm_op_name(0xfd0d), "i8x16.shuffle");
    ck_assert_str_eq(wasm_op_name(0xfd54), "v128.load8_lane");
    ck_assert_str_eq(wasm_op_name(0xfd5e), "f32x4.demote_f64x2_zero");
    ck_assert_str_eq(wasm_op_name(0xfdba), "i32x4.dot_i16x8_s");
    ck_assert_str_eq(wasm_op_name(0xfdff), "f64x2.convert_low_i32x4_u");
    ck_assert_uint_eq(WASM_OP_V128_CONST, 0xfd0c);
    ck_assert_ptr_null(wasm_op_name(0x06));
    ck_assert_ptr_null(wasm_op_name(0xfc));   /* a prefix, no instruction */
    ck_assert_ptr_null(wasm_op_name(0xfc12));
    ck_assert_ptr_null(wasm_op_name(0xfc20)); /* past the prefix's slots */
    ck_assert_ptr_null(wasm_op_name(0xfd9a));
    ck_assert_ptr_null(wasm_op_name(0xfe00));
}
END_TEST

/* Every entry has a name, and only `select` has two opcodes; the counts are
 * Wasm 2.0's. */
/* The validator checks 0x45..0xc4 from the table before its switch: no
 * immediates, one or two operands, no address type. */
START_TEST(numeric_group)
{
    for (unsigned op = WASM_OP_I32_EQZ; op <= WASM_OP_I64_EXTEND32_S; op++) {
        const wasm_opinfo *a = wasm_op_info(op);
        ck_assert_msg(a->imm == WASM_IMM_NONE, "0x%x", op);
        ck_assert_msg(a->nin == 1 || a->nin == 2, "0x%x", op);
        ck_assert_msg(a->in[0] != WASM_ADDR && a->in[1] != WASM_ADDR && a->out != WASM_ADDR,
                      "0x%x", op);
    }
}
END_TEST

START_TEST(table_entries)
{
    unsigned total = 0, simd = 0;
    for (unsigned slot = 0; slot < WASM_OP_SLOTS; slot++) {
        const wasm_opinfo *a = &wasm_opinfos[slot];
        ck_assert_int_eq(a->imm == WASM_IMM_ILLEGAL, a->name == NULL);
        if (!a->name)
            continue;
        total++;
        simd += slot >= WASM_OP_SLOT(0xfd00);
        ck_assert(a->nin <= 3 || a->nin == WASM_CUSTOM_SIG);
        for (unsigned other = slot + 1; other < WASM_OP_SLOTS; other++)
            if (wasm_opinfos[other].name && strcmp(a->name, wasm_opinfos[other].name) == 0)
                ck_assert_str_eq(a->name, "select");
    }
    ck_assert_uint_eq(total, 437);
    ck_assert_uint_eq(simd, 236);
}
END_TEST

/* ---- names against wabt ------------------------------------------------------------- */

static void append(char **text, size_t *len, const char *s)
{
    size_t n = strlen(s);
    *text = realloc(*text, *len + n + 1);
    ck_assert_ptr_nonnull(*text);
    memcpy(*text + *len, s, n + 1);
    *len += n;
}

/* The text of an instruction with immediates that fit the module below;
 * block instructions come with their `end` (an `if` with `else nop`). */
static void instr_text(unsigned op, char *buf, size_t size)
{
    const wasm_opinfo *info = wasm_op_info(op);
    const char *name = info->name, *imm = "";
    switch (info->imm) {
    case WASM_IMM_BLOCKTYPE:
        imm = op == WASM_OP_IF ? "\nelse\nnop\nend" : "\nend"; /* wat2wasm drops an empty else */
        break;
    case WASM_IMM_LABEL:
    case WASM_IMM_FUNC:
    case WASM_IMM_LOCAL:
    case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE:
    case WASM_IMM_DATA:
    case WASM_IMM_ELEM:
    case WASM_IMM_LANE:
    case WASM_IMM_MEMARG_LANE:
    case WASM_IMM_I32:
    case WASM_IMM_I64:
    case WASM_IMM_F32:
    case WASM_IMM_F64:
    case WASM_IMM_MEMORY_INIT:
    case WASM_IMM_TABLE_INIT:
        imm = " 0";
        break;
    case WASM_IMM_BR_TABLE:
        imm = " 0 0";
        break;
    case WASM_IMM_CALL_INDIRECT:
        imm = " (type 0)";
        break;
    case WASM_IMM_V128:
        imm = " i32x4 0 0 0 0";
        break;
    case WASM_IMM_SHUFFLE:
        imm = " 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
        break;
    case WASM_IMM_SELECT_T:
        imm = " (result i32)";
        break;
    case WASM_IMM_REFTYPE:
        imm = " func";
        break;
    }
    snprintf(buf, size, "%s%s\n", name, imm);
}

/* One function holding every instruction (not type-correct: assembled
 * with --no-check), decoded back to the same opcodes in the same order. */
START_TEST(names_assemble_to_their_opcodes)
{
    char *text = NULL;
    size_t len = 0;
    unsigned expected[WASM_OP_SLOTS + 8], n = 0;
    append(&text, &len,
           "(module (type (func)) (memory 1) (table 1 funcref) (global (mut i32) (i32.const 0))\n"
           "  (data \"x\") (elem func 0)\n"
           "  (func (type 0) (local i32)\n");
    for (unsigned slot = 0; slot < WASM_OP_SLOTS; slot++) {
        unsigned op = slot < 0x100 ? slot : slot < 0x120 ? 0xfc00 | (slot - 0x100)
                                                         : 0xfd00 | (slot - 0x120);
        ck_assert_uint_eq(WASM_OP_SLOT(op), slot);
        const wasm_opinfo *info = wasm_op_info(op);
        if (!info->name || op == WASM_OP_ELSE || op == WASM_OP_END)
            continue; /* with their blocks */
        char buf[128];
        instr_text(op, buf, sizeof buf);
        append(&text, &len, buf);
        expected[n++] = op;
        if (op == WASM_OP_IF) {
            expected[n++] = WASM_OP_ELSE;
            expected[n++] = WASM_OP_NOP;
        }
        if (info->imm == WASM_IMM_BLOCKTYPE)
            expected[n++] = WASM_OP_END;
    }
    append(&text, &len, "))\n");
    size_t size;
    uint8_t *bytes = wat_to_wasm_opts(text, (const char *const[]){"--no-check", NULL}, &size);
    free(text);
    err = (wasm_error){0};
    wasm_module *m = wasm_decode(bytes, size, SIMD, &err);
    ck_assert_msg(m, "%s", err.message);
    const wasm_func *f = &m->funcs[0];
    rd = (wasm_reader){.base = m->bytes, .p = m->bytes + f->body, .end = m->bytes + f->body_end,
                       .in_section = true, .err = &err};
    for (unsigned i = 0; i < n; i++) {
        ck_assert_msg(wasm_decode_instr(&rd, SIMD, &ins), "%s", err.message);
        ck_assert_msg(ins.op == expected[i], "instruction %u: %s (0x%x) assembled to 0x%x", i,
                      wasm_op_name(expected[i]), expected[i], ins.op);
    }
    ck_assert(wasm_decode_instr(&rd, SIMD, &ins));
    ck_assert_uint_eq(ins.op, WASM_OP_END); /* the function's */
    ck_assert_ptr_eq(rd.p, rd.end);
    wasm_module_free(m);
    free(bytes);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opcodes");
    TCase *tc = tcase_create("decoder");
    tcase_add_test(tc, no_immediates);
    tcase_add_test(tc, block_types);
    tcase_add_test(tc, indices);
    tcase_add_test(tc, br_table);
    tcase_add_test(tc, memory_indices);
    tcase_add_test(tc, memargs);
    tcase_add_test(tc, lanes);
    tcase_add_test(tc, constants);
    tcase_add_test(tc, sixteen_bytes);
    tcase_add_test(tc, types);
    tcase_add_test(tc, illegal_opcodes);
    suite_add_tcase(s, tc);
    tc = tcase_create("table");
    tcase_add_test(tc, names);
    tcase_add_test(tc, numeric_group);
    tcase_add_test(tc, table_entries);
    tcase_add_test(tc, names_assemble_to_their_opcodes);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
