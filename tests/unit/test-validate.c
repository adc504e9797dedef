/* Function-body validation (src/wasm/validate.c): edge cases of the
 * operand and control stacks, immediates, index spaces and error offsets.
 * Bodies are written as bytes: the locals count (usually 0), the
 * instructions, `end`; offsets in expectations count from the body's
 * first byte. */
#include <stdbool.h>
#include <stdint.h>

#include "unit.h"
#include "wasm/module.h"
#include "wasm_builder.h"

#define SIMD WASM_FEATURE_SIMD
#define MEM64 (WASM_FEATURE_SIMD | WASM_FEATURE_MEMORY64)
#define MULTI (WASM_FEATURE_SIMD | WASM_FEATURE_MULTI_MEMORY)

#define MALFORMED WASM_ERR_MALFORMED
#define INVALID WASM_ERR_INVALID
#define SEC_END "unexpected end of section or function"

/* Value and block types */
#define I32 0x7f
#define I64 0x7e
#define F64 0x7c
#define V128 0x7b
#define FUNCREF 0x70
#define EXTERNREF 0x6f
#define EMPTY 0x40
/* v128.const 0 (18 bytes) */
#define V128_0 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static wasm_error err;
static size_t body_at; /* of the body in the module built last */
static size_t module_len;

/* Builds the module, decodes and validates it into err. */
static void run(const wb_spec *spec, unsigned features)
{
    wb b = {0};
    body_at = wb_module(&b, spec);
    module_len = b.len;
    err = (wasm_error){0};
    wasm_module *m = wasm_decode(b.data, b.len, features, &err);
    if (m)
        wasm_validate(m, &err);
    wasm_module_free(m);
    wb_free(&b);
}

#define ck_assert_no_error()                                                          \
    ck_assert_msg(err.kind == WASM_ERR_NONE, "unexpected %s \"%s\" at offset %llu", \
                  unit_kind_name(err.kind), err.message, (unsigned long long)err.offset)

/* ck_valid(features, spec fields...) */
#define ck_valid(features, ...)                   \
    do {                                          \
        run(&(wb_spec){__VA_ARGS__}, features);   \
        ck_assert_no_error();                     \
    } while (0)

/* ck_fails(features, kind, message prefix, offset in the body, spec fields...) */
#define ck_fails(features, want_kind, want_prefix, at, ...)                            \
    do {                                                                               \
        run(&(wb_spec){__VA_ARGS__}, features);                                        \
        ck_assert_error_is(err.kind, err.message, err.offset, want_kind, want_prefix, \
                           body_at + (at));                                            \
    } while (0)

#define BODY(...) .body = WB_BLOB(__VA_ARGS__)

/* ---- the polymorphic stack ------------------------------------------------------- */

START_TEST(polymorphic_stack)
{
    ck_valid(SIMD, BODY(0, 0x00, 0x6a, 0x1a, 0x0b));       /* unreachable i32.add drop */
    ck_valid(SIMD, BODY(0, 0x0c, 0, 0x6a, 0x1a, 0x0b));    /* br 0 i32.add drop */
    ck_valid(SIMD, BODY(0, 0x0f, 0x6a, 0x1a, 0x0b));       /* return i32.add drop */
    ck_valid(SIMD, BODY(0, 0x00, 0x1b, 0x1a, 0x0b));       /* unreachable select drop */
    ck_valid(SIMD, BODY(0, 0x00, 0xd1, 0x1a, 0x0b));       /* unreachable ref.is_null drop */
    ck_valid(SIMD, BODY(0, 0x00, 0x0d, 0, 0x0b));          /* unreachable br_if 0 */
    ck_valid(SIMD, .types = WB_BLOB(1, 0x60, 0, 1, I32), BODY(0, 0x00, 0x0b));

    /* unreachable i64.const 0 i32.add */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 4,
             BODY(0, 0x00, 0x42, 0, 0x6a, 0x1a, 0x0b));
    /* the block inside is reachable: its stack is empty */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 4,
             BODY(0, 0x00, 0x02, EMPTY, 0x6a, 0x1a, 0x0b, 0x0b));
    /* values pushed after unreachable must still match at `end` */
    ck_fails(SIMD, INVALID, "type mismatch: 1 values left", 4, BODY(0, 0x00, 0x41, 0, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 4,
             .types = WB_BLOB(1, 0x60, 0, 1, I32), BODY(0, 0x00, 0x42, 0, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: ref.is_null of i32", 4,
             BODY(0, 0x00, 0x41, 0, 0xd1, 0x1a, 0x0b));
    /* reachable code */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 1,
             BODY(0, 0x6a, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected a value, the stack is empty", 1,
             BODY(0, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 1,
             .types = WB_BLOB(1, 0x60, 0, 1, I32), BODY(0, 0x0b));
}
END_TEST

/* ---- blocks --------------------------------------------------------------------------- */

/* 0: [] -> [], 1: [i32 i32] -> [i32], 2: [i32] -> [], 3: [i32] -> [i32], 4: [] -> [i32 i64] */
#define MULTI_TYPES                                                                              \
    .types = WB_BLOB(5, 0x60, 0, 0, 0x60, 2, I32, I32, 1, I32, 0x60, 1, I32, 0, 0x60, 1, I32, 1, \
                     I32, 0x60, 0, 2, I32, I64)

START_TEST(multi_value_blocks)
{
    /* i32.const 1 i32.const 2 block (type 1) i32.add end drop */
    ck_valid(SIMD, MULTI_TYPES, BODY(0, 0x41, 1, 0x41, 2, 0x02, 1, 0x6a, 0x0b, 0x1a, 0x0b));
    /* block (type 4) i32.const 1 i64.const 2 end drop drop */
    ck_valid(SIMD, MULTI_TYPES, BODY(0, 0x02, 4, 0x41, 1, 0x42, 2, 0x0b, 0x1a, 0x1a, 0x0b));
    /* results in the wrong order */
    ck_fails(SIMD, INVALID, "type mismatch: expected i64, found i32", 7, MULTI_TYPES,
             BODY(0, 0x02, 4, 0x42, 2, 0x41, 1, 0x0b, 0x1a, 0x1a, 0x0b));
    /* too few operands for the parameters */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 3, MULTI_TYPES,
             BODY(0, 0x41, 1, 0x02, 1, 0x6a, 0x0b, 0x1a, 0x0b));
    /* a block sees its parameters only */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 10, MULTI_TYPES,
             BODY(0, 0x41, 1, 0x41, 2, 0x41, 3, 0x02, 1, 0x6a, 0x6a, 0x0b, 0x1a, 0x1a, 0x0b));
    /* loop (type 3): a branch to a loop takes its parameters */
    ck_valid(SIMD, MULTI_TYPES, BODY(0, 0x41, 1, 0x03, 3, 0x0b, 0x1a, 0x0b));
    ck_valid(SIMD, MULTI_TYPES, BODY(0, 0x41, 1, 0x03, 3, 0x0c, 0, 0x0b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 7, MULTI_TYPES,
             BODY(0, 0x41, 1, 0x03, 3, 0x42, 0, 0x0c, 0, 0x0b, 0x1a, 0x0b));
    /* if (type 3) with else */
    ck_valid(SIMD, MULTI_TYPES,
             BODY(0, 0x41, 5, 0x41, 1, 0x04, 3, 0x41, 1, 0x6a, 0x05, 0x41, 2, 0x6b, 0x0b, 0x1a,
                  0x0b));
    /* if without else: fine when parameters and results agree */
    ck_valid(SIMD, MULTI_TYPES, BODY(0, 0x41, 5, 0x41, 1, 0x04, 3, 0x0b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch", 7,
             BODY(0, 0x41, 1, 0x04, I32, 0x41, 2, 0x0b, 0x1a, 0x0b)); /* [] -> [i32] */
    ck_fails(SIMD, INVALID, "type mismatch", 8, MULTI_TYPES,
             BODY(0, 0x41, 5, 0x41, 1, 0x04, 2, 0x1a, 0x0b, 0x0b)); /* [i32] -> [] */
    /* the else branch starts again from the parameters */
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 9, MULTI_TYPES,
             BODY(0, 0x41, 5, 0x41, 1, 0x04, 3, 0x05, 0x1a, 0x0b, 0x1a, 0x0b));
    /* br_if leaves the label's values for the fall-through */
    ck_valid(SIMD, BODY(0, 0x02, I32, 0x41, 1, 0x41, 0, 0x0d, 0, 0x0b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 7,
             BODY(0, 0x02, I32, 0x42, 1, 0x41, 0, 0x0d, 0, 0x0b, 0x1a, 0x0b));
    /* else outside an if */
    ck_fails(SIMD, MALFORMED, "END opcode expected", 3, BODY(0, 0x02, EMPTY, 0x05, 0x0b, 0x0b));
    ck_fails(SIMD, MALFORMED, "END opcode expected", 1, BODY(0, 0x05, 0x0b));
    ck_fails(SIMD, INVALID, "unknown type 9", 1, BODY(0, 0x02, 9, 0x0b, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 1,
             BODY(0, 0x04, EMPTY, 0x0b, 0x0b));
}
END_TEST

/* ---- br_table -------------------------------------------------------------------------- */

START_TEST(br_table)
{
    /* block i32 (block (i32.const 0) br_table 0 1) ...: arities 0 and 1 */
    ck_fails(SIMD, INVALID, "type mismatch: br_table targets with different arities", 7,
             BODY(0, 0x02, I32, 0x02, EMPTY, 0x41, 0, 0x0e, 1, 0, 1, 0x0b, 0x41, 0, 0x0b, 0x1a,
                  0x0b));
    /* block i32 (block i64 (i32.const 1) (i32.const 0) br_table 0 1): same arity, the i32
     * does not fit label 0 */
    ck_fails(SIMD, INVALID, "type mismatch: expected i64, found i32", 9,
             BODY(0, 0x02, I32, 0x02, I64, 0x41, 1, 0x41, 0, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x41, 0,
                  0x0b, 0x1a, 0x0b));
    /* the same in unreachable code: only the arities must agree */
    ck_valid(SIMD, BODY(0, 0x02, I32, 0x02, I64, 0x00, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x41, 0, 0x0b,
                        0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: br_table targets with different arities", 6,
             BODY(0, 0x02, I32, 0x02, EMPTY, 0x00, 0x0e, 1, 0, 1, 0x0b, 0x41, 0, 0x0b, 0x1a,
                  0x0b));
    ck_valid(SIMD, BODY(0, 0x00, 0x0e, 2, 0, 0, 0, 0x0b));
    /* a value for both labels (the block and the function) */
    ck_valid(SIMD, .types = WB_BLOB(1, 0x60, 0, 1, I32),
             BODY(0, 0x02, I32, 0x41, 7, 0x41, 0, 0x0e, 1, 0, 1, 0x0b, 0x0b));
    ck_valid(SIMD, BODY(0, 0x41, 0, 0x0e, 0, 0, 0x0b)); /* the default only */
    ck_fails(SIMD, INVALID, "unknown label 5", 3, BODY(0, 0x41, 0, 0x0e, 1, 5, 0, 0x0b));
    ck_fails(SIMD, INVALID, "unknown label 3", 3, BODY(0, 0x41, 0, 0x0e, 0, 3, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 1,
             BODY(0, 0x0e, 0, 0, 0x0b));
    /* a huge target count runs out of input */
    run(&(wb_spec){BODY(0, 0x41, 0, 0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0)}, SIMD);
    ck_assert_error_is(err.kind, err.message, err.offset, MALFORMED, SEC_END, module_len);
}
END_TEST

/* ---- select ------------------------------------------------------------------------------ */

START_TEST(select_operands)
{
    ck_valid(SIMD, BODY(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x1b, 0x1a, 0x0b));
    ck_valid(SIMD, BODY(0, V128_0, V128_0, 0x41, 0, 0x1b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch", 7,
             BODY(0, 0xd0, FUNCREF, 0xd0, FUNCREF, 0x41, 0, 0x1b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch", 6, BODY(0, 0x00, 0xd0, FUNCREF, 0x41, 0, 0x1b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch", 7, BODY(0, 0x41, 1, 0x42, 2, 0x41, 0, 0x1b, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 7,
             BODY(0, 0x41, 1, 0x41, 2, 0x42, 0, 0x1b, 0x1a, 0x0b));
    /* typed */
    ck_valid(SIMD, BODY(0, 0xd0, FUNCREF, 0xd0, FUNCREF, 0x41, 0, 0x1c, 1, FUNCREF, 0x1a, 0x0b));
    ck_valid(SIMD, BODY(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x1c, 1, I32, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected funcref, found i32", 7,
             BODY(0, 0x41, 1, 0xd0, FUNCREF, 0x41, 0, 0x1c, 1, FUNCREF, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "invalid result arity", 7,
             BODY(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x1c, 2, I32, I32, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "invalid result arity", 7,
             BODY(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x1c, 0, 0x1a, 0x0b));
    ck_fails(SIMD, MALFORMED, "malformed value type", 9,
             BODY(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x1c, 1, EMPTY, 0x1a, 0x0b));
}
END_TEST

/* ---- ref.func ------------------------------------------------------------------------------ */

#define REF_FUNC_0 BODY(0, 0xd2, 0, 0x1a, 0x0b) /* ref.func 0 (itself) drop */

START_TEST(ref_func)
{
    ck_fails(SIMD, INVALID, "undeclared function reference", 1, REF_FUNC_0);
    /* the start section does not declare */
    ck_fails(SIMD, INVALID, "undeclared function reference", 1, .start = WB_BLOB(0), REF_FUNC_0);
    ck_valid(SIMD, .exports = WB_BLOB(1, 1, 'f', 0, 0), REF_FUNC_0);
    ck_valid(SIMD, .elems = WB_BLOB(1, 3, 0, 1, 0), REF_FUNC_0);               /* declarative */
    ck_valid(SIMD, .elems = WB_BLOB(1, 5, FUNCREF, 1, 0xd2, 0, 0x0b), REF_FUNC_0); /* passive */
    ck_valid(SIMD, .tables = WB_BLOB(1, FUNCREF, 0, 1), .elems = WB_BLOB(1, 0, 0x41, 0, 0x0b, 1, 0),
             REF_FUNC_0);                                                     /* active */
    ck_valid(SIMD, .globals = WB_BLOB(1, FUNCREF, 0, 0xd2, 0, 0x0b), REF_FUNC_0);
    ck_fails(SIMD, INVALID, "unknown function 5", 1, .exports = WB_BLOB(1, 1, 'f', 0, 0),
             BODY(0, 0xd2, 5, 0x1a, 0x0b));
}
END_TEST

/* ---- globals -------------------------------------------------------------------------------- */

START_TEST(globals)
{
    ck_fails(SIMD, INVALID, "global is immutable", 3, .globals = WB_BLOB(1, I32, 0, 0x41, 0, 0x0b),
             BODY(0, 0x41, 1, 0x24, 0, 0x0b));
    ck_fails(SIMD, INVALID, "global is immutable", 3,
             .imports = WB_BLOB(1, 1, 'm', 1, 'g', 3, I32, 0), BODY(0, 0x41, 1, 0x24, 0, 0x0b));
    ck_valid(SIMD, .globals = WB_BLOB(1, I32, 1, 0x41, 0, 0x0b), BODY(0, 0x41, 1, 0x24, 0, 0x0b));
    ck_valid(SIMD, .imports = WB_BLOB(1, 1, 'm', 1, 'g', 3, I32, 1),
             BODY(0, 0x23, 0, 0x24, 0, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i64, found i32", 3,
             .globals = WB_BLOB(1, I64, 1, 0x42, 0, 0x0b), BODY(0, 0x41, 1, 0x24, 0, 0x0b));
    ck_fails(SIMD, INVALID, "unknown global 2", 1, .globals = WB_BLOB(1, I32, 1, 0x41, 0, 0x0b),
             BODY(0, 0x23, 2, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown global 0", 3, BODY(0, 0x41, 0, 0x24, 0, 0x0b));
}
END_TEST

/* ---- memory instructions --------------------------------------------------------------------- */

#define MEMORY .memories = WB_BLOB(1, 0, 1)
#define MEMORY64 .memories = WB_BLOB(1, 0x04, 1)

START_TEST(alignment)
{
    ck_valid(SIMD, MEMORY, BODY(0, 0x41, 0, 0x28, 2, 0, 0x1a, 0x0b));        /* i32.load */
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 3, MEMORY,
             BODY(0, 0x41, 0, 0x28, 3, 0, 0x1a, 0x0b));
    ck_valid(SIMD, MEMORY, BODY(0, 0x41, 0, 0x29, 3, 0, 0x1a, 0x0b));        /* i64.load */
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 3, MEMORY,
             BODY(0, 0x41, 0, 0x29, 4, 0, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 3, MEMORY,
             BODY(0, 0x41, 0, 0x2d, 1, 0, 0x1a, 0x0b));                       /* i32.load8_u */
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 5, MEMORY,
             BODY(0, 0x41, 0, 0x42, 0, 0x3e, 3, 0, 0x0b));                    /* i64.store32 */
    ck_valid(SIMD, MEMORY, BODY(0, 0x41, 0, 0xfd, 0x00, 4, 0, 0x1a, 0x0b));  /* v128.load */
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 3, MEMORY,
             BODY(0, 0x41, 0, 0xfd, 0x00, 5, 0, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 21, MEMORY,
             BODY(0, 0x41, 0, V128_0, 0xfd, 0x56, 3, 0, 0, 0x1a, 0x0b)); /* v128.load32_lane */
    /* bit 6 announces a memory index only with multi-memory */
    ck_fails(SIMD, INVALID, "alignment must not be larger than natural", 3, MEMORY,
             BODY(0, 0x41, 0, 0x28, 0x42, 0, 0x1a, 0x0b));
    ck_valid(MULTI, MEMORY, BODY(0, 0x41, 0, 0x28, 0x42, 0, 0, 0x1a, 0x0b));
    ck_fails(MULTI, INVALID, "unknown memory 1", 3, MEMORY,
             BODY(0, 0x41, 0, 0x28, 0x42, 1, 0, 0x1a, 0x0b));
}
END_TEST

START_TEST(memarg_offset)
{
    /* 2^32 is read as u64 with memory64, and is out of range for a 32-bit memory */
    ck_fails(MEM64, INVALID, "offset out of range", 3, MEMORY,
             BODY(0, 0x41, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1a, 0x0b));
    ck_valid(MEM64, MEMORY, BODY(0, 0x41, 0, 0x28, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x1a, 0x0b));
    ck_valid(MEM64, MEMORY64,
             BODY(0, 0x42, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1a, 0x0b));
    /* without memory64, a u32 */
    ck_fails(SIMD, MALFORMED, "integer too large", 9, MEMORY,
             BODY(0, 0x41, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1a, 0x0b));
    /* the address of a 64-bit memory is an i64 */
    ck_fails(MEM64, INVALID, "type mismatch: expected i64, found i32", 3, MEMORY64,
             BODY(0, 0x41, 0, 0x28, 2, 0, 0x1a, 0x0b));
    ck_valid(MEM64, MEMORY64, BODY(0, 0x42, 1, 0x40, 0, 0x1a, 0x0b)); /* memory.grow */
    ck_fails(MEM64, INVALID, "type mismatch: expected i64, found i32", 3, MEMORY64,
             BODY(0, 0x41, 1, 0x40, 0, 0x1a, 0x0b));
    ck_fails(SIMD, MALFORMED, "zero byte expected", 2, MEMORY, BODY(0, 0x3f, 1, 0x1a, 0x0b));
}
END_TEST

/* Bulk memory on a 64-bit memory: addresses and lengths are i64, except
 * memory.init's source offset and length, which index a data segment. */
START_TEST(memory64_bulk)
{
#define DATA .datacount = WB_BLOB(1), .data = WB_BLOB(1, 1, 0)
    /* memory.init: i64 i32 i32 */
    ck_valid(MEM64, MEMORY64, DATA, BODY(0, 0x42, 0, 0x41, 0, 0x41, 0, 0xfc, 8, 0, 0, 0x0b));
    ck_fails(MEM64, INVALID, "type mismatch: expected i64, found i32", 7, MEMORY64, DATA,
             BODY(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 8, 0, 0, 0x0b));
    /* memory.fill: i64 i32 i64 */
    ck_valid(MEM64, MEMORY64, BODY(0, 0x42, 0, 0x41, 0, 0x42, 0, 0xfc, 11, 0, 0x0b));
    ck_fails(MEM64, INVALID, "type mismatch: expected i64, found i32", 7, MEMORY64,
             BODY(0, 0x42, 0, 0x41, 0, 0x41, 0, 0xfc, 11, 0, 0x0b));
    /* memory.copy: i64 i64 i64 */
    ck_valid(MEM64, MEMORY64, BODY(0, 0x42, 0, 0x42, 0, 0x42, 0, 0xfc, 10, 0, 0, 0x0b));
    /* memory.size pushes an i64 */
    ck_valid(MEM64, MEMORY64, BODY(0, 0x3f, 0, 0x50, 0x1a, 0x0b));
#undef DATA
}
END_TEST

/* memory.init and data.drop name data segments, which needs the data count
 * section. */
#define MEMORY_INIT(x) BODY(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 8, x, 0, 0x0b) /* at 7 */
#define DATA_DROP(x) BODY(0, 0xfc, 9, x, 0x0b)                                 /* at 1 */
#define PASSIVE_DATA .data = WB_BLOB(1, 1, 0)

START_TEST(data_count_present)
{
    ck_valid(SIMD, MEMORY, .datacount = WB_BLOB(1), PASSIVE_DATA, MEMORY_INIT(0));
    ck_valid(SIMD, MEMORY, .datacount = WB_BLOB(1), PASSIVE_DATA, DATA_DROP(0));
    ck_fails(SIMD, INVALID, "unknown data segment 1", 7, MEMORY, .datacount = WB_BLOB(1),
             PASSIVE_DATA, MEMORY_INIT(1));
    ck_fails(SIMD, INVALID, "unknown data segment 1", 1, MEMORY, .datacount = WB_BLOB(1),
             PASSIVE_DATA, DATA_DROP(1));
    ck_fails(SIMD, INVALID, "unknown data segment 0", 1, MEMORY, .datacount = WB_BLOB(0),
             DATA_DROP(0));
}
END_TEST

/* Without it the module is malformed; like every other error of an
 * instruction, the offset is where the instruction starts. */
START_TEST(data_count_required)
{
    ck_fails(SIMD, MALFORMED, "data count section required", 7, MEMORY, PASSIVE_DATA,
             MEMORY_INIT(0));
    ck_fails(SIMD, MALFORMED, "data count section required", 1, MEMORY, PASSIVE_DATA,
             DATA_DROP(0));
}
END_TEST

/* The binary format's rule ("if the data count is absent, no data index
 * may occur in the code section") holds whether or not there is a data
 * section: the reference decoder checks the data indices the code uses.
 * Same error, at the same offset, as with a data section. */
START_TEST(data_count_required_without_data)
{
    run(&(wb_spec){MEMORY, PASSIVE_DATA, MEMORY_INIT(0)}, SIMD);
    uint64_t init_at = err.offset - body_at;
    run(&(wb_spec){MEMORY, PASSIVE_DATA, DATA_DROP(0)}, SIMD);
    uint64_t drop_at = err.offset - body_at;

    ck_fails(SIMD, MALFORMED, "data count section required", init_at, MEMORY, MEMORY_INIT(0));
    ck_fails(SIMD, MALFORMED, "data count section required", drop_at, MEMORY, DATA_DROP(0));
}
END_TEST
#undef MEMORY_INIT
#undef DATA_DROP
#undef PASSIVE_DATA

/* ---- unknown indices ---------------------------------------------------------------------- */

START_TEST(unknown_indices)
{
    /* [i32] -> [], one i64 local: local 2 does not exist */
    ck_fails(SIMD, INVALID, "unknown local 2", 3, .types = WB_BLOB(1, 0x60, 1, I32, 0),
             BODY(1, 1, I64, 0x20, 2, 0x1a, 0x0b));
    ck_valid(SIMD, .types = WB_BLOB(1, 0x60, 1, I32, 0), BODY(1, 1, I64, 0x20, 1, 0x50, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i64, found i32", 5,
             .types = WB_BLOB(1, 0x60, 1, I32, 0), BODY(1, 1, I64, 0x20, 0, 0x21, 1, 0x0b));
    ck_fails(SIMD, INVALID, "unknown global 0", 1, BODY(0, 0x23, 0, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown function 7", 1, BODY(0, 0x10, 7, 0x0b));
    ck_fails(SIMD, INVALID, "unknown table 1", 3, .tables = WB_BLOB(1, FUNCREF, 0, 1),
             BODY(0, 0x41, 0, 0x25, 1, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown table 0", 3, BODY(0, 0x41, 0, 0x11, 0, 0, 0x0b));
    ck_fails(SIMD, INVALID, "unknown type 9", 3, .tables = WB_BLOB(1, FUNCREF, 0, 1),
             BODY(0, 0x41, 0, 0x11, 9, 0, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: call_indirect through a table of externref", 3,
             .tables = WB_BLOB(1, EXTERNREF, 0, 1), BODY(0, 0x41, 0, 0x11, 0, 0, 0x0b));
    ck_fails(SIMD, INVALID, "unknown memory 0", 3, BODY(0, 0x41, 0, 0x28, 2, 0, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown memory 0", 1, BODY(0, 0x3f, 0, 0x1a, 0x0b));
    ck_fails(MULTI, INVALID, "unknown memory 2", 1, MEMORY, BODY(0, 0x3f, 2, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown type 9", 1, BODY(0, 0x02, 9, 0x0b, 0x0b));
    ck_fails(SIMD, INVALID, "unknown label 3", 1, BODY(0, 0x0c, 3, 0x0b));
    ck_fails(SIMD, INVALID, "unknown label 1", 3, BODY(0, 0x41, 0, 0x0d, 1, 0x0b));
    ck_fails(SIMD, INVALID, "unknown elem segment 2", 1, BODY(0, 0xfc, 13, 2, 0x0b));
    ck_fails(SIMD, INVALID, "unknown elem segment 3", 7, .tables = WB_BLOB(1, FUNCREF, 0, 1),
             BODY(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 12, 3, 0, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: table.copy", 7,
             .tables = WB_BLOB(2, FUNCREF, 0, 1, EXTERNREF, 0, 1),
             BODY(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 14, 0, 1, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, found i64", 3,
             .types = WB_BLOB(1, 0x60, 1, I32, 0), BODY(0, 0x42, 0, 0x10, 0, 0x0b));
}
END_TEST

/* Functions with as many locals as the decoder allows. */
START_TEST(many_locals)
{
    /* 25000 i32 then 25000 i64: 50000 locals */
#define RUNS 2, 0xa8, 0xc3, 0x01, I32, 0xa8, 0xc3, 0x01, I64
    /* local.get 49999 (an i64) i64.eqz drop, local.get 24999 (an i32) i32.eqz drop */
    ck_valid(SIMD, BODY(RUNS, 0x20, 0xcf, 0x86, 0x03, 0x50, 0x1a,
                        0x20, 0xa7, 0xc3, 0x01, 0x45, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "unknown local 50000", 9,
             BODY(RUNS, 0x20, 0xd0, 0x86, 0x03, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "type mismatch: expected i64, found i32", 13,
             BODY(RUNS, 0x20, 0xa7, 0xc3, 0x01, 0x50, 0x1a, 0x0b));
#undef RUNS
}
END_TEST

/* ---- opcodes ------------------------------------------------------------------------------------ */

static const struct {
    uint8_t bytes[4];
    size_t n;
} illegal[] = {
#define OP(...) {{__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})}
    OP(0x1d), OP(0x27), OP(0xc5), OP(0xcf), OP(0xe0), OP(0xff),
    OP(0xfc, 18), OP(0xfc, 0x80, 0x01),                 /* 0xfc 18, 0xfc 128 */
    OP(0xfd, 0x9a, 0x01), OP(0xfd, 0xa2, 0x01),         /* 0xfd 0x9a, 0xfd 0xa2 */
    OP(0xfd, 0xbb, 0x01), OP(0xfd, 0x80, 0x02),         /* 0xfd 0xbb, 0xfd 256 */
#undef OP
};

START_TEST(illegal_opcodes)
{
    uint8_t body[8] = {0};
    memcpy(body + 1, illegal[_i].bytes, illegal[_i].n);
    body[1 + illegal[_i].n] = 0x0b;
    run(&(wb_spec){.body = {body, illegal[_i].n + 2}}, SIMD);
    ck_assert_error_is(err.kind, err.message, err.offset, MALFORMED, "illegal opcode", body_at + 1);
}
END_TEST

/* Opcodes of proposals wasmjail does not implement are named. */
static const struct {
    uint8_t op;
    const char *message;
} proposal_opcodes[] = {
    {0x06, "unsupported: exception handling"}, /* try */
    {0x08, "unsupported: exception handling"}, /* throw */
    {0x0a, "unsupported: exception handling"}, /* throw_ref */
    {0x19, "unsupported: exception handling"}, /* catch_all */
    {0x1f, "unsupported: exception handling"}, /* try_table */
    {0x12, "unsupported: tail calls"},         /* return_call */
    {0x13, "unsupported: tail calls"},         /* return_call_indirect */
    {0x14, "unsupported: typed function references"}, /* call_ref */
    {0xd4, "unsupported: typed function references"}, /* ref.as_non_null */
    {0xd3, "unsupported: GC proposal"},               /* ref.eq */
    {0xfb, "unsupported: GC proposal"},
    {0xfe, "unsupported: threads (atomic instructions)"},
};

START_TEST(unsupported_opcodes)
{
    uint8_t body[] = {0, proposal_opcodes[_i].op, 0, 0x0b};
    run(&(wb_spec){.body = {body, sizeof body}}, SIMD);
    ck_assert_error_is(err.kind, err.message, err.offset, WASM_ERR_UNSUPPORTED,
                       proposal_opcodes[_i].message, body_at + 1);
    ck_assert_str_eq(err.message, proposal_opcodes[_i].message);
}
END_TEST

START_TEST(simd_disabled)
{
    ck_fails(0, WASM_ERR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", 1,
             BODY(0, V128_0, 0x1a, 0x0b));
    ck_fails(0, WASM_ERR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", 2,
             BODY(1, 1, V128, 0x0b));
}
END_TEST

/* The public API documents WJ_ERROR_UNSUPPORTED for "uses a disabled
 * feature", and the decoder reports a v128 parameter, result, local or
 * global that way. A v128 block type or typed select is the same use. */
START_TEST(simd_disabled_types_in_bodies)
{
    /* block (result v128) unreachable end drop */
    ck_fails(0, WASM_ERR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", 1,
             BODY(0, 0x02, V128, 0x00, 0x0b, 0x1a, 0x0b));
    /* unreachable select (result v128) drop */
    ck_fails(0, WASM_ERR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", 2,
             BODY(0, 0x00, 0x1c, 1, V128, 0x1a, 0x0b));
}
END_TEST

START_TEST(lane_indices)
{
    ck_valid(SIMD, BODY(0, V128_0, 0xfd, 0x15, 15, 0x1a, 0x0b)); /* i8x16.extract_lane_s */
    ck_fails(SIMD, INVALID, "invalid lane index", 19, BODY(0, V128_0, 0xfd, 0x15, 16, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "invalid lane index", 19, BODY(0, V128_0, 0xfd, 0x15, 0x80, 0x1a, 0x0b));
    ck_valid(SIMD, BODY(0, V128_0, 0xfd, 0x1d, 1, 0x1a, 0x0b)); /* i64x2.extract_lane */
    ck_fails(SIMD, INVALID, "invalid lane index", 19, BODY(0, V128_0, 0xfd, 0x1d, 2, 0x1a, 0x0b));
    /* f64x2.replace_lane 2 */
    ck_fails(SIMD, INVALID, "invalid lane index", 28,
             BODY(0, V128_0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x22, 2, 0x1a, 0x0b));
    /* i8x16.shuffle: lanes < 32 */
#define LANES_31 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 31
    ck_valid(SIMD, BODY(0, V128_0, V128_0, 0xfd, 0x0d, LANES_31, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "invalid lane index", 37,
             BODY(0, V128_0, V128_0, 0xfd, 0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                  32, 0x1a, 0x0b));
#undef LANES_31
    /* v128.load8_lane: memarg, then the lane */
    ck_valid(SIMD, MEMORY, BODY(0, 0x41, 0, V128_0, 0xfd, 0x54, 0, 0, 15, 0x1a, 0x0b));
    ck_fails(SIMD, INVALID, "invalid lane index", 21, MEMORY,
             BODY(0, 0x41, 0, V128_0, 0xfd, 0x54, 0, 0, 16, 0x1a, 0x0b));
}
END_TEST

/* ---- bodies and their ends ------------------------------------------------------------------ */

START_TEST(body_bounds)
{
    /* no `end`: runs out at the end of the module */
    run(&(wb_spec){BODY(0, 0x01)}, SIMD);
    ck_assert_error_is(err.kind, err.message, err.offset, MALFORMED, SEC_END, module_len);
    ck_assert_uint_eq(module_len, body_at + 2);
    /* bytes after the final `end`: the entry's size is wrong */
    ck_fails(SIMD, MALFORMED, "section size mismatch", -1, BODY(0, 0x0b, 0x01));
}
END_TEST

/* A malformed body later on outweighs an invalid one earlier. */
START_TEST(malformed_outweighs_invalid)
{
    wb b = {0};
    wb_module(&b, &(wb_spec){
                      .funcs = WB_BLOB(2, 0, 0),
                      .code = WB_BLOB(2, 3, 0, 0x6a, 0x0b, 3, 0, 0x06, 0x0b),
                  });
    err = (wasm_error){0};
    wasm_module *m = wasm_decode(b.data, b.len, SIMD, &err);
    if (m)
        wasm_validate(m, &err);
    wasm_module_free(m);
    ck_assert_error_is(err.kind, err.message, err.offset, MALFORMED, "illegal opcode", b.len - 2);
    wb_free(&b);
    /* also a malformed immediate: the block type 0x7a (no value type) */
    b = (wb){0};
    wb_module(&b, &(wb_spec){
                      .funcs = WB_BLOB(2, 0, 0),
                      .code = WB_BLOB(2, 3, 0, 0x6a, 0x0b, 5, 0, 0x02, 0x7a, 0x0b, 0x0b),
                  });
    err = (wasm_error){0};
    m = wasm_decode(b.data, b.len, SIMD, &err);
    if (m)
        wasm_validate(m, &err);
    wasm_module_free(m);
    ck_assert_error_is(err.kind, err.message, err.offset, MALFORMED, "malformed block type",
                       b.len - 3);
    wb_free(&b);
}
END_TEST

/* ---- big bodies ---------------------------------------------------------------------------------- */

START_TEST(deep_nesting)
{
    enum { N = 100000 };
    wb body = {0};
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x02, EMPTY);
    for (int i = 0; i < N; i++)
        wb_byte(&body, 0x0b);
    wb_byte(&body, 0x0b);
    ck_valid(SIMD, .body = wb_as_blob(&body));
    wb_free(&body);

    /* each block passes a result up */
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x02, I32);
    wb_raw(&body, 0x41, 0);
    for (int i = 0; i < N; i++)
        wb_byte(&body, 0x0b);
    wb_raw(&body, 0x1a, 0x0b);
    ck_valid(SIMD, .body = wb_as_blob(&body));
    wb_free(&body);

    /* an error at the bottom is found where it is */
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x03, EMPTY);
    wb_raw(&body, 0x41, 0, 0x6a);
    for (int i = 0; i <= N; i++)
        wb_byte(&body, 0x0b);
    ck_fails(SIMD, INVALID, "type mismatch: expected i32, the stack is empty", 1 + 2 * N + 2,
             .body = wb_as_blob(&body));
    wb_free(&body);

    /* br to the outermost block from the innermost */
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x02, EMPTY);
    wb_byte(&body, 0x0c);
    wb_u32(&body, N - 1);
    for (int i = 0; i <= N; i++)
        wb_byte(&body, 0x0b);
    ck_valid(SIMD, .body = wb_as_blob(&body));
    wb_free(&body);
}
END_TEST

START_TEST(many_operands)
{
    enum { N = 1000000 };
    wb body = {0};
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x41, 0);
    for (int i = 0; i < N; i++)
        wb_byte(&body, 0x1a);
    wb_byte(&body, 0x0b);
    ck_valid(SIMD, .body = wb_as_blob(&body));
    wb_free(&body);

    /* left on the stack */
    wb_byte(&body, 0);
    for (int i = 0; i < N; i++)
        wb_raw(&body, 0x41, 0);
    wb_byte(&body, 0x0b);
    ck_fails(SIMD, INVALID, "type mismatch: 1000000 values left", 1 + 2 * N,
             .body = wb_as_blob(&body));
    wb_free(&body);
}
END_TEST

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("stack");
    tcase_add_test(tc, polymorphic_stack);
    tcase_add_test(tc, multi_value_blocks);
    tcase_add_test(tc, br_table);
    tcase_add_test(tc, select_operands);
    suite_add_tcase(s, tc);

    tc = tcase_create("immediates");
    tcase_add_test(tc, ref_func);
    tcase_add_test(tc, globals);
    tcase_add_test(tc, alignment);
    tcase_add_test(tc, memarg_offset);
    tcase_add_test(tc, memory64_bulk);
    tcase_add_test(tc, data_count_present);
    tcase_add_test(tc, data_count_required);
    tcase_add_test(tc, data_count_required_without_data);
    tcase_add_test(tc, unknown_indices);
    tcase_add_test(tc, many_locals);
    tcase_add_loop_test(tc, illegal_opcodes, 0, COUNT(illegal));
    tcase_add_loop_test(tc, unsupported_opcodes, 0, COUNT(proposal_opcodes));
    tcase_add_test(tc, simd_disabled);
    tcase_add_test(tc, simd_disabled_types_in_bodies);
    tcase_add_test(tc, lane_indices);
    tcase_add_test(tc, body_bounds);
    tcase_add_test(tc, malformed_outweighs_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("big bodies");
    tcase_set_timeout(tc, 300); /* generous, for valgrind */
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, many_operands);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(validate_suite());
}
