#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_builder.h"

void wb_put(wb *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) {
            perror("wasm_builder");
            abort();
        }
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void wb_byte(wb *b, uint8_t x)
{
    wb_put(b, &x, 1);
}

void wb_u64(wb *b, uint64_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        wb_byte(b, v ? x | 0x80 : x);
    } while (v);
}

void wb_u32(wb *b, uint32_t v)
{
    wb_u64(b, v);
}

void wb_s64(wb *b, int64_t v)
{
    for (;;) {
        uint8_t x = v & 0x7f;
        v >>= 7; /* arithmetic shift */
        if ((v == 0 && !(x & 0x40)) || (v == -1 && (x & 0x40))) {
            wb_byte(b, x);
            return;
        }
        wb_byte(b, x | 0x80);
    }
}

void wb_s32(wb *b, int32_t v)
{
    wb_s64(b, v);
}

void wb_name(wb *b, const char *s)
{
    size_t n = strlen(s);
    wb_u32(b, (uint32_t)n);
    wb_put(b, s, n);
}

void wb_header(wb *b)
{
    wb_raw(b, 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00);
}

size_t wb_section(wb *b, uint8_t id, const void *contents, size_t n)
{
    wb_byte(b, id);
    wb_u32(b, (uint32_t)n);
    size_t at = b->len;
    wb_put(b, contents, n);
    return at;
}

void wb_free(wb *b)
{
    free(b->data);
    *b = (wb){0};
}

wb_blob wb_as_blob(const wb *b)
{
    return (wb_blob){b->data, b->len};
}

static void section(wb *b, uint8_t id, wb_blob c)
{
    if (c.n)
        wb_section(b, id, c.p, c.n);
}

size_t wb_module(wb *b, const wb_spec *s)
{
    static const uint8_t one_type[] = {1, 0x60, 0, 0}; /* [] -> [] */
    static const uint8_t one_func[] = {1, 0};          /* one function of type 0 */
    wb_blob types = s->types, funcs = s->funcs;
    wb code = {0};
    if (s->body.n) {
        if (!types.n)
            types = (wb_blob){one_type, sizeof one_type};
        if (!funcs.n)
            funcs = (wb_blob){one_func, sizeof one_func};
    }
    wb_header(b);
    section(b, 1, types);
    section(b, 2, s->imports);
    section(b, 3, funcs);
    section(b, 4, s->tables);
    section(b, 5, s->memories);
    section(b, 6, s->globals);
    section(b, 7, s->exports);
    section(b, 8, s->start);
    section(b, 9, s->elems);
    section(b, 12, s->datacount);
    size_t body_at = 0;
    if (s->code.n) {
        section(b, 10, s->code);
    } else if (s->body.n) {
        wb_u32(&code, 1);
        wb_u32(&code, (uint32_t)s->body.n);
        size_t in_code = code.len;
        wb_put(&code, s->body.p, s->body.n);
        body_at = wb_section(b, 10, code.data, code.len) + in_code;
        wb_free(&code);
    }
    section(b, 11, s->data);
    return body_at;
}
