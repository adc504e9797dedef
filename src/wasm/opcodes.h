/*
 * The instruction set and its decoder: every opcode with its text-format
 * name, its immediates and, where fixed, its operand types (the table
 * built from opcodes.def), and one function that reads an instruction with
 * its immediates. The validator, the body skipper and the compiler read
 * function bodies through it.
 */
#ifndef WJ_WASM_OPCODES_H
#define WJ_WASM_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

#include "module.h"
#include "reader.h"

/* Opcode ids: the opcode byte, or prefix << 8 | sub-opcode for the 0xfc
 * and 0xfd prefixes (WASM_OP_V128_CONST is 0xfd0c). */
enum {
#define X(name, code, text, imm, sig) WASM_OP_##name = code,
#include "opcodes.def"
#undef X
};

/* Immediate kinds. */
enum {
    WASM_IMM_ILLEGAL,       /* not an instruction */
    WASM_IMM_NONE,
    /* one index (LEB128 u32) in .index */
    WASM_IMM_LABEL,         /* br, br_if: a label depth */
    WASM_IMM_FUNC,          /* call, ref.func */
    WASM_IMM_LOCAL,
    WASM_IMM_GLOBAL,
    WASM_IMM_TABLE,
    WASM_IMM_DATA,          /* data.drop */
    WASM_IMM_ELEM,          /* elem.drop */
    /* the others */
    WASM_IMM_MEMORY,        /* memory.size, memory.grow, memory.fill: .index */
    WASM_IMM_BLOCKTYPE,     /* block, loop, if: .block */
    WASM_IMM_BR_TABLE,      /* .br_table */
    WASM_IMM_CALL_INDIRECT, /* .call_indirect */
    WASM_IMM_MEMARG,        /* loads and stores: .memarg */
    WASM_IMM_MEMARG_LANE,   /* SIMD lane loads and stores: .memarg, .lane */
    WASM_IMM_LANE,          /* extract_lane, replace_lane: .lane */
    WASM_IMM_I32,           /* .i32 */
    WASM_IMM_I64,           /* .i64 */
    WASM_IMM_F32,           /* .f32, the bits */
    WASM_IMM_F64,           /* .f64, the bits */
    WASM_IMM_V128,          /* v128.const: .bytes, 16 bytes little-endian */
    WASM_IMM_SHUFFLE,       /* i8x16.shuffle: .bytes, 16 lane indices */
    WASM_IMM_SELECT_T,      /* select t*: .select */
    WASM_IMM_REFTYPE,       /* ref.null: .reftype */
    WASM_IMM_MEMORY_INIT,   /* .init: data segment, memory */
    WASM_IMM_MEMORY_COPY,   /* .copy: destination and source memories */
    WASM_IMM_TABLE_INIT,    /* .init: element segment, table */
    WASM_IMM_TABLE_COPY,    /* .copy: destination and source tables */
};

/* The immediate kind of each opcode as a constant, WASM_IMM_OF_LOCAL_GET:
 * a reader that switches on the opcode decodes each case with
 * wasm_decode_imm_kind() and a constant kind. */
enum {
#define IMM(kind) WASM_IMM_##kind
#define MEM(align) WASM_IMM_MEMARG
#define LANE(lanes) WASM_IMM_LANE
#define MEMLANE(align, lanes) WASM_IMM_MEMARG_LANE
#define X(name, code, text, imm, sig) WASM_IMM_OF_##name = imm,
#include "opcodes.def"
#undef X
#undef IMM
#undef MEM
#undef LANE
#undef MEMLANE
};

/* Operand type standing for the address type of the instruction's memory:
 * i32, or i64 for a memory64 memory. */
#define WASM_ADDR 0x01
/* wasm_opinfo.nin of an instruction whose operand types depend on context. */
#define WASM_CUSTOM_SIG 0xff

typedef struct wasm_opinfo {
    const char *name; /* text format; NULL when not an instruction */
    uint8_t imm;      /* WASM_IMM_* */
    uint8_t align;    /* memarg: log2 of the access size, the natural alignment */
    uint8_t lanes;    /* lane index: the lane count */
    uint8_t nin;      /* operand count, or WASM_CUSTOM_SIG */
    uint8_t in[3];    /* operand types, first operand first */
    uint8_t out;      /* result type, or WASM_ANY for none */
} wasm_opinfo;

/* The table's slot of an opcode id: single bytes, then 32 slots for 0xfc,
 * then 256 for 0xfd. */
#define WASM_OP_SLOT(op) \
    ((op) < 0x100 ? (op) : (op) < 0xfd00 ? 0x100 + ((op) & 0x1f) : 0x120 + ((op) & 0xff))
enum { WASM_OP_SLOTS = 0x220 };

extern const wasm_opinfo wasm_opinfos[WASM_OP_SLOTS];

/* The entry of an opcode id (one with imm WASM_IMM_ILLEGAL if it is none). */
static inline const wasm_opinfo *wasm_op_info(unsigned op)
{
    return &wasm_opinfos[WASM_OP_SLOT(op)];
}

/* The text-format name of an opcode id, or NULL. */
static inline const char *wasm_op_name(unsigned op)
{
    return op < 0x100 || (op >= 0xfc00 && op < 0xfc20) || (op >= 0xfd00 && op < 0xfe00)
               ? wasm_op_info(op)->name
               : NULL;
}

/* A first opcode byte of Wasm 2.0 (the prefix bytes 0xfc and 0xfd count). */
static inline bool wasm_opcode_known(uint8_t op)
{
    return wasm_opinfos[op].imm != WASM_IMM_ILLEGAL || op == 0xfc || op == 0xfd;
}

/* A block type: no values (WASM_BLOCK_EMPTY), one result of a value type,
 * or the function type `index` (WASM_BLOCK_FUNCTYPE). */
enum { WASM_BLOCK_FUNCTYPE = 0x00, WASM_BLOCK_EMPTY = 0x40 };
typedef struct wasm_blocktype {
    uint8_t type;
    uint32_t index;
} wasm_blocktype;

typedef struct wasm_memarg {
    uint64_t offset;
    uint32_t memory;
    uint32_t align; /* log2, as encoded (without the multi-memory flag) */
} wasm_memarg;

/* One decoded instruction. Index immediates are as encoded: the decoder
 * knows no module, so checking them against one is the validator's job. */
typedef struct wasm_instr {
    uint16_t op; /* WASM_OP_* */
    uint8_t lane; /* WASM_IMM_LANE, WASM_IMM_MEMARG_LANE */
    const wasm_opinfo *info;
    union {
        wasm_blocktype block;
        uint32_t index;
        wasm_memarg memarg;
        int32_t i32;
        int64_t i64;
        uint32_t f32;
        uint64_t f64;
        const uint8_t *bytes;
        uint8_t reftype;
        struct {
            uint32_t type, table;
        } call_indirect;
        /* `count` targets (LEB128 labels, read them with wasm_next_label),
         * then the default. */
        struct {
            uint32_t count, default_label;
            const uint8_t *targets;
        } br_table;
        struct {
            uint32_t count;       /* the validator allows only 1 */
            const uint8_t *types; /* value types */
        } select;
        struct {
            uint32_t segment, dst;
        } init;
        struct {
            uint32_t dst, src;
        } copy;
    };
} wasm_instr;

/* wasm_decode_immediates() with every case out of line. */
bool wasm_decode_immediates_slow(struct wasm_reader *r, uint8_t byte, unsigned features,
                                 wasm_instr *out);

/* Decodes what follows the opcode byte `byte`, `imm` being its table
 * entry's kind, into *out. The common cases are inline and leave out->op
 * and out->info to the caller: no immediates, one index, an i32 constant, a
 * short memarg, a block type without a type index. The others, prefixed
 * opcodes among them, go out of line, which sets out->op and out->info.
 * With a constant kind only that case's code remains. */
static inline __attribute__((always_inline)) bool
wasm_decode_imm_kind(struct wasm_reader *r, uint8_t byte, unsigned imm, unsigned features,
                     wasm_instr *out)
{
    if (__builtin_expect(imm == WASM_IMM_NONE, 1))
        return true;
    if (imm - WASM_IMM_LABEL <= WASM_IMM_ELEM - WASM_IMM_LABEL)
        return wasm_read_u32(r, &out->index);
    if (imm == WASM_IMM_I32)
        return wasm_read_s32(r, &out->i32);
    /* A memarg of a one-byte alignment (so without a memory index) and an
     * offset of one or two bytes: the same with or without memory64. */
    if (imm == WASM_IMM_MEMARG && r->end - r->p >= 3 && r->p[0] < 0x40) {
        if (r->p[1] < 0x80) {
            out->memarg = (wasm_memarg){.align = r->p[0], .offset = r->p[1]};
            r->p += 2;
            return true;
        }
        if (r->p[2] < 0x80) {
            out->memarg = (wasm_memarg){.align = r->p[0],
                                        .offset = (r->p[1] & 0x7fu) | (uint32_t)r->p[2] << 7};
            r->p += 3;
            return true;
        }
    }
    /* A block type of no values or of one number or vector (v128 to i32). */
    if (imm == WASM_IMM_BLOCKTYPE && r->p < r->end &&
        (*r->p == WASM_BLOCK_EMPTY || (unsigned)*r->p - WASM_V128 <= WASM_I32 - WASM_V128)) {
        out->block.type = *r->p++;
        return true;
    }
    return wasm_decode_immediates_slow(r, byte, features, out);
}

/* Decodes the rest of an instruction whose first opcode byte has been
 * read: a prefixed opcode's sub-opcode, then the immediates. */
static inline __attribute__((always_inline)) bool
wasm_decode_immediates(struct wasm_reader *r, uint8_t byte, unsigned features, wasm_instr *out)
{
    const wasm_opinfo *info = &wasm_opinfos[byte];
    out->op = byte;
    out->info = info;
    return wasm_decode_imm_kind(r, byte, info->imm, features, out);
}

/* Reads one instruction with its immediates. On malformed bytes, false
 * with a malformed error at the offending byte, or at the instruction for
 * an illegal opcode. `features` choose the memarg and memory index
 * encodings (multi-memory, memory64); SIMD instructions and v128 types are
 * decoded whatever the features say: refusing them is the validator's
 * business. */
static inline bool wasm_decode_instr(struct wasm_reader *r, unsigned features, wasm_instr *out)
{
    uint8_t byte;
    return wasm_read_u8(r, &byte) && wasm_decode_immediates(r, byte, features, out);
}

/* The next label of a decoded br_table: the decoder has checked them. */
static inline uint32_t wasm_next_label(const uint8_t **p)
{
    uint32_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return x;
    }
}

/* The parameter and result types of a block type (its function type must
 * exist). */
struct wasm_module;
struct wasm_functype;
void wasm_block_functype(const struct wasm_module *m, const wasm_blocktype *bt,
                         struct wasm_functype *out);

/* Steps over the immediates of `op` (already read), or over a whole
 * function body; false with a malformed error on bad bytes. */
bool wasm_skip_immediates(struct wasm_reader *r, uint8_t op, unsigned features);
bool wasm_skip_body(struct wasm_reader *r, unsigned features);
/* Steps over unreachable code up to the `else` or `end` that closes the
 * innermost open block: returns that opcode (0 on bad bytes), its offset
 * in *at (the compilers' error position while skipping). */
uint16_t wasm_skip_dead(struct wasm_reader *r, unsigned features, uint32_t *at);

/* Bodies are decoded during validation, but the spec reads them in stream
 * order: a malformed body among functions [from, to) replaces *err (and
 * true is returned). */
struct wasm_error;
bool wasm_find_malformed_body(const struct wasm_module *m, uint32_t from, uint32_t to,
                              struct wasm_error *err);

#endif
