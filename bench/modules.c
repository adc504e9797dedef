/* The generated modules of bench/instantiate: see modules.h. */
#include "modules.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable byte buffer ----------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

#define PUT(b, ...) put((b), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void put_u32(buf *b, uint32_t v) /* unsigned LEB128 */
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        PUT(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_s32(buf *b, int32_t v) /* signed LEB128 */
{
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7; /* arithmetic */
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        PUT(b, byte | (done ? 0 : 0x80));
        if (done)
            return;
    }
}

static void put_name(buf *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

/* Appends section `id` holding `contents`, which it frees. */
static void put_section(buf *b, uint8_t id, buf *contents)
{
    b->oom |= contents->oom;
    PUT(b, id);
    put_u32(b, (uint32_t)contents->len);
    put(b, contents->p, contents->len);
    free(contents->p);
    *contents = (buf){0};
}

/* ---- wasm encodings ---------------------------------------------------------- */

enum {
    SEC_TYPE = 1, SEC_FUNC = 3, SEC_TABLE = 4, SEC_MEMORY = 5, SEC_EXPORT = 7,
    SEC_ELEM = 9, SEC_CODE = 10, SEC_DATA = 11,
};
enum {
    I32 = 0x7f, FUNCREF = 0x70, FUNC_TYPE = 0x60,
    END = 0x0b, CALL = 0x10, CALL_INDIRECT = 0x11, SELECT = 0x1b, LOCAL_GET = 0x20,
    I32_LOAD = 0x28, I32_CONST = 0x41, I32_GT_S = 0x4a,
    I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_XOR = 0x73, I32_SHL = 0x74,
};
enum { EXPORT_FUNC = 0, EXPORT_TABLE = 1, EXPORT_MEMORY = 2 };

#define PAGE 65536u
#define BODY_VARIANTS 5u

static const char small_segment_text[] = "wasmjail";
static const char last_page_text[] = "0123456789abcdef";

uint8_t bench_data_byte(uint32_t offset)
{
    return (uint8_t)(offset * 131 + 7);
}

uint32_t bench_table_func(uint32_t nfuncs, uint32_t slot)
{
    /* Spread over the typed functions (all but the last, "dispatch"). */
    return (uint32_t)(((uint64_t)slot * 37 + 11) % (nfuncs - 1));
}

/* The address variant 3 loads from: 4-byte aligned inside the segment. */
static uint32_t load_address(uint32_t func)
{
    return BENCH_DATA_OFFSET + func * 4 % BENCH_DATA_SIZE;
}

uint32_t bench_func_result(uint32_t func, uint32_t x)
{
    switch (func % BODY_VARIANTS) {
    case 0: return x + func;
    case 1: return (x * (func | 1)) ^ 7;
    case 2: return bench_func_result(func - 1, x) + 1;
    case 3: {
        uint32_t at = load_address(func) - BENCH_DATA_OFFSET, word = 0;
        for (int i = 3; i >= 0; i--)
            word = word << 8 | bench_data_byte(at + (uint32_t)i);
        return (x << 3) - x + word;
    }
    default: return (int32_t)x > (int32_t)func ? x : func;
    }
}

/* The code entry of typed function `func`: no locals, a small body. */
static void put_body(buf *code, uint32_t func)
{
    buf body = {0};
    PUT(&body, 0, LOCAL_GET, 0); /* no local declarations; x */
    switch (func % BODY_VARIANTS) {
    case 0: /* x + func */
        PUT(&body, I32_CONST);
        put_s32(&body, (int32_t)func);
        PUT(&body, I32_ADD);
        break;
    case 1: /* (x * (func | 1)) ^ 7 */
        PUT(&body, I32_CONST);
        put_s32(&body, (int32_t)(func | 1));
        PUT(&body, I32_MUL, I32_CONST, 7, I32_XOR);
        break;
    case 2: /* f[func - 1](x) + 1 */
        PUT(&body, CALL);
        put_u32(&body, func - 1);
        PUT(&body, I32_CONST, 1, I32_ADD);
        break;
    case 3: /* (x << 3) - x + the word at load_address(func) */
        PUT(&body, I32_CONST, 3, I32_SHL, LOCAL_GET, 0, I32_SUB, I32_CONST);
        put_s32(&body, (int32_t)load_address(func));
        PUT(&body, I32_LOAD, 2, 0, I32_ADD);
        break;
    default: /* x > func ? x : func (signed) */
        PUT(&body, I32_CONST);
        put_s32(&body, (int32_t)func);
        PUT(&body, LOCAL_GET, 0, I32_CONST);
        put_s32(&body, (int32_t)func);
        PUT(&body, I32_GT_S, SELECT);
        break;
    }
    PUT(&body, END);
    code->oom |= body.oom;
    put_u32(code, (uint32_t)body.len);
    put(code, body.p, body.len);
    free(body.p);
}

static void put_memory_section(buf *b, uint32_t pages)
{
    buf s = {0};
    PUT(&s, 1, 0x00); /* one memory, no maximum */
    put_u32(&s, pages);
    put_section(b, SEC_MEMORY, &s);
}

static void put_data_segment(buf *s, uint32_t offset, const void *bytes, uint32_t len)
{
    PUT(s, 0x00, I32_CONST); /* active, memory 0 */
    put_s32(s, (int32_t)offset);
    PUT(s, END);
    put_u32(s, len);
    put(s, bytes, len);
}

static void put_data_section(buf *b)
{
    uint8_t big[BENCH_DATA_SIZE], fill[64];
    for (uint32_t i = 0; i < BENCH_DATA_SIZE; i++)
        big[i] = bench_data_byte(i);
    memset(fill, 0xa5, sizeof fill);
    buf s = {0};
    PUT(&s, 4); /* segments */
    put_data_segment(&s, BENCH_DATA_OFFSET, big, sizeof big);
    put_data_segment(&s, 16, small_segment_text, sizeof small_segment_text - 1);
    put_data_segment(&s, 5 * PAGE + 3, fill, sizeof fill);
    put_data_segment(&s, (BENCH_DATA_PAGES - 1) * PAGE, last_page_text,
                     sizeof last_page_text - 1);
    put_section(b, SEC_DATA, &s);
}

static void put_header(buf *b)
{
    PUT(b, 0x00, 'a', 's', 'm', 1, 0, 0, 0);
}

static bench_module finish(buf *b, uint32_t nfuncs, uint32_t nslots)
{
    if (b->oom) {
        free(b->p);
        return (bench_module){NULL, 0, 0, 0};
    }
    return (bench_module){b->p, b->len, nfuncs, nslots};
}

bench_module bench_module_build_funcs(uint32_t nfuncs, uint32_t nslots)
{
    buf b = {0}, s = {0};
    put_header(&b);

    PUT(&s, 2, FUNC_TYPE, 1, I32, 1, I32,  /* 0: (i32) -> i32 */
        FUNC_TYPE, 2, I32, I32, 1, I32);  /* 1: (i32 slot, i32 x) -> i32 */
    put_section(&b, SEC_TYPE, &s);

    put_u32(&s, nfuncs);
    for (uint32_t i = 0; i + 1 < nfuncs; i++)
        PUT(&s, 0);
    PUT(&s, 1);
    put_section(&b, SEC_FUNC, &s);

    PUT(&s, 1, FUNCREF, 0x00); /* one table, no maximum */
    put_u32(&s, nslots);
    put_section(&b, SEC_TABLE, &s);

    put_memory_section(&b, BENCH_DATA_PAGES);

    PUT(&s, 3);
    put_name(&s, "memory");
    PUT(&s, EXPORT_MEMORY, 0);
    put_name(&s, "table");
    PUT(&s, EXPORT_TABLE, 0);
    put_name(&s, "dispatch");
    PUT(&s, EXPORT_FUNC);
    put_u32(&s, nfuncs - 1);
    put_section(&b, SEC_EXPORT, &s);

    PUT(&s, 1, 0x00, I32_CONST, 0, END); /* one active segment at slot 0 */
    put_u32(&s, nslots);
    for (uint32_t i = 0; i < nslots; i++)
        put_u32(&s, bench_table_func(nfuncs, i));
    put_section(&b, SEC_ELEM, &s);

    put_u32(&s, nfuncs);
    for (uint32_t i = 0; i + 1 < nfuncs; i++)
        put_body(&s, i);
    /* dispatch: call_indirect (type 0, table 0) of slot with x */
    PUT(&s, 9, 0, LOCAL_GET, 1, LOCAL_GET, 0, CALL_INDIRECT, 0, 0, END);
    put_section(&b, SEC_CODE, &s);

    put_data_section(&b);
    return finish(&b, nfuncs, nslots);
}

bench_module bench_module_build(bench_shape shape)
{
    buf b = {0}, s = {0};
    switch (shape) {
    case BENCH_SMALL: return bench_module_build_funcs(BENCH_SMALL_FUNCS, BENCH_SMALL_SLOTS);
    case BENCH_LARGE: return bench_module_build_funcs(BENCH_LARGE_FUNCS, BENCH_LARGE_SLOTS);
    case BENCH_EMPTY:
        put_header(&b);
        break;
    default: /* BENCH_MEMORY, BENCH_DATA */
        put_header(&b);
        put_memory_section(&b, shape == BENCH_MEMORY ? 1 : BENCH_DATA_PAGES);
        PUT(&s, 1);
        put_name(&s, "memory");
        PUT(&s, EXPORT_MEMORY, 0);
        put_section(&b, SEC_EXPORT, &s);
        if (shape == BENCH_DATA)
            put_data_section(&b);
        break;
    }
    return finish(&b, 0, 0);
}

const char *bench_shape_name(bench_shape shape)
{
    static const char *const names[BENCH_SHAPES] = {"empty", "memory", "data", "small", "large"};
    return shape < BENCH_SHAPES ? names[shape] : "?";
}

void bench_module_free(bench_module *m)
{
    free(m->bytes);
    *m = (bench_module){NULL, 0, 0, 0};
}
