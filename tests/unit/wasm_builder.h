/*
 * Building module bytes in unit tests: a growable byte buffer with LEB128
 * and name writers, and a module assembled from section contents.
 *
 *   wb b = {0};
 *   size_t body = wb_module(&b, &(wb_spec){
 *       .memories = WB_BLOB(1, 0x00, 1),                  // one memory, min 1
 *       .body = WB_BLOB(0, 0x41, 0, 0x28, 2, 0, 0x1a, 0x0b), // i32.load; drop
 *   });
 *   ... b.data, b.len; body is the offset of the body's first byte ...
 *   wb_free(&b);
 */
#ifndef WJ_TESTS_WASM_BUILDER_H
#define WJ_TESTS_WASM_BUILDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct wb {
    uint8_t *data;
    size_t len, cap;
} wb;

/* A byte array literal, and the same with its length. */
#define WB_ARRAY(...) ((const uint8_t[]){__VA_ARGS__})
#define WB_BLOB(...) ((wb_blob){WB_ARRAY(__VA_ARGS__), sizeof WB_ARRAY(__VA_ARGS__)})

typedef struct wb_blob {
    const uint8_t *p;
    size_t n;
} wb_blob;

void wb_put(wb *b, const void *p, size_t n);
#define wb_raw(b, ...) wb_put((b), WB_ARRAY(__VA_ARGS__), sizeof WB_ARRAY(__VA_ARGS__))
void wb_byte(wb *b, uint8_t x);
void wb_u32(wb *b, uint32_t v); /* unsigned LEB128, minimal */
void wb_u64(wb *b, uint64_t v);
void wb_s32(wb *b, int32_t v); /* signed LEB128, minimal */
void wb_s64(wb *b, int64_t v);
void wb_name(wb *b, const char *s); /* length, then the bytes */
void wb_header(wb *b);              /* "\0asm" and version 1 */
/* Section `id` with the given contents; returns the contents' offset. */
size_t wb_section(wb *b, uint8_t id, const void *contents, size_t n);
#define wb_sec(b, id, ...) wb_section((b), (id), WB_ARRAY(__VA_ARGS__), sizeof WB_ARRAY(__VA_ARGS__))
void wb_free(wb *b);
wb_blob wb_as_blob(const wb *b);

/* A module by its sections' contents (without id and size). Empty ones are
 * left out. A non-empty `body` (one code entry without its size: locals,
 * instructions, `end`) is a function of type 0: it supplies the function
 * and code sections, and the type section [] -> [] unless `types` is set. */
typedef struct wb_spec {
    wb_blob types, imports, funcs, tables, memories, globals, exports, start, elems,
        datacount, code, data;
    wb_blob body;
} wb_spec;

/* Appends the header and sections; returns the offset of `body`'s first
 * byte in b (0 without a body). */
size_t wb_module(wb *b, const wb_spec *spec);

#endif
