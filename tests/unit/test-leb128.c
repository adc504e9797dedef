/* The primitive readers (src/wasm/reader.h): LEB128 integers, lengths,
 * names and UTF-8. */
#include <stdbool.h>
#include <stdint.h>

#include "unit.h"
#include "wasm/reader.h"

#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})
#define X9(b) b, b, b, b, b, b, b, b, b

static wasm_error err;
static wasm_reader r;

/* A reader over n bytes of p, at offset `at`. */
static void reader_on(const uint8_t *p, size_t n, size_t at, bool in_section)
{
    err = (wasm_error){0};
    r = (wasm_reader){.base = p, .p = p + at, .end = p + n, .in_section = in_section, .err = &err};
}

#define ck_assert_reader_error(want_prefix, want_offset) \
    ck_assert_error_is(err.kind, err.message, err.offset, WASM_ERR_MALFORMED, want_prefix, want_offset)

enum { U32, S32, U64, S64, S33 };
static const char *const reader_names[] = {"u32", "s32", "u64", "s64", "s33"};

/* Reads with the reader for `kind`; signed values come back sign-extended. */
static bool read_as(int kind, uint64_t *out)
{
    bool ok = false;
    switch (kind) {
    case U32: {
        uint32_t v = 0;
        ok = wasm_read_u32(&r, &v);
        *out = v;
        break;
    }
    case S32: {
        int32_t v = 0;
        ok = wasm_read_s32(&r, &v);
        *out = (uint64_t)(int64_t)v;
        break;
    }
    case U64:
        ok = wasm_read_u64(&r, out);
        break;
    case S64: {
        int64_t v = 0;
        ok = wasm_read_s64(&r, &v);
        *out = (uint64_t)v;
        break;
    }
    case S33: {
        int64_t v = 0;
        ok = wasm_read_s33(&r, &v);
        *out = (uint64_t)v;
        break;
    }
    }
    return ok;
}

/* ---- values ------------------------------------------------------------- */

static const struct leb_ok {
    int kind;
    uint8_t bytes[12];
    size_t n;
    uint64_t want;
    size_t consumed;
} leb_ok[] = {
    {U32, B(0x00), 0, 1},
    {U32, B(0x7f), 127, 1},
    {U32, B(0x80, 0x01), 128, 2},
    {U32, B(0xe5, 0x8e, 0x26), 624485, 3},
    {U32, B(0xff, 0xff, 0xff, 0xff, 0x0f), 0xffffffff, 5},
    {U32, B(0x05, 0xff), 5, 1}, /* stops after the first byte */
    /* not minimal, but within 5 bytes: allowed */
    {U32, B(0x80, 0x00), 0, 2},
    {U32, B(0xff, 0x80, 0x80, 0x80, 0x00), 127, 5},
    {U32, B(0x80, 0x80, 0x80, 0x80, 0x00), 0, 5},

    {S32, B(0x00), 0, 1},
    {S32, B(0x3f), 63, 1},
    {S32, B(0x40), (uint64_t)-64, 1},
    {S32, B(0x7f), (uint64_t)-1, 1},
    {S32, B(0xc0, 0x00), 64, 2},
    {S32, B(0x80, 0x7f), (uint64_t)-128, 2},
    {S32, B(0x80, 0x80, 0x80, 0x80, 0x78), (uint64_t)(int64_t)INT32_MIN, 5},
    {S32, B(0xff, 0xff, 0xff, 0xff, 0x07), INT32_MAX, 5},
    {S32, B(0xff, 0x7f), (uint64_t)-1, 2},
    {S32, B(0xff, 0x3f), 8191, 2},
    {S32, B(0x80, 0x40), (uint64_t)-8192, 2},
    {S32, B(0xe5, 0x8e, 0x26), 624485, 3},
    {S32, B(0xc0, 0xbb, 0x78), (uint64_t)-123456, 3},
    {S32, B(0xff, 0xff, 0x3f), (1u << 20) - 1, 3},
    {S32, B(0x80, 0x80, 0x40), (uint64_t)-(1 << 20), 3},
    {S32, B(0x81, 0x80, 0x00, 0xff), 1, 3}, /* stops after the third byte */
    {S32, B(0x80, 0x80, 0x80, 0x01), 1u << 21, 4},
    {S32, B(0xff, 0xff, 0xff, 0xff, 0x7f), (uint64_t)-1, 5},
    {S32, B(0x80, 0x80, 0x80, 0x80, 0x00), 0, 5},

    {U64, B(0x00), 0, 1},
    {U64, B(0x80, 0x80, 0x80, 0x80, 0x10), 1ull << 32, 5},
    {U64, B(X9(0x80), 0x01), 1ull << 63, 10},
    {U64, B(X9(0xff), 0x01), UINT64_MAX, 10},
    {U64, B(X9(0x80), 0x00), 0, 10},

    {S64, B(0x7f), (uint64_t)-1, 1},
    {S64, B(0x80, 0x80, 0x80, 0x80, 0x08), 1ull << 31, 5},
    {S64, B(0x80, 0x80, 0x80, 0x80, 0x78), (uint64_t)(int64_t)INT32_MIN, 5},
    {S64, B(X9(0x80), 0x7f), (uint64_t)INT64_MIN, 10},
    {S64, B(X9(0xff), 0x00), INT64_MAX, 10},
    {S64, B(X9(0xff), 0x7f), (uint64_t)-1, 10},
    {S64, B(X9(0x80), 0x00), 0, 10},

    {S33, B(0x40), (uint64_t)-64, 1},
    {S33, B(0x7f), (uint64_t)-1, 1},
    {S33, B(0xff, 0xff, 0xff, 0xff, 0x0f), 0xffffffffull, 5},
    {S33, B(0x80, 0x80, 0x80, 0x80, 0x70), (uint64_t)-(1ll << 32), 5},
    {S33, B(0xff, 0xff, 0xff, 0xff, 0x7f), (uint64_t)-1, 5},
    {S33, B(0x80, 0x80, 0x80, 0x80, 0x00), 0, 5},
};

START_TEST(leb_values)
{
    const struct leb_ok *c = &leb_ok[_i];
    uint64_t v = 0xdeadbeef;
    reader_on(c->bytes, c->n, 0, false);
    ck_assert_msg(read_as(c->kind, &v), "case %d (%s): %s", _i, reader_names[c->kind],
                  err.message);
    ck_assert_msg(v == c->want, "case %d (%s): read %#llx, expected %#llx", _i,
                  reader_names[c->kind], (unsigned long long)v, (unsigned long long)c->want);
    ck_assert_uint_eq(wasm_reader_pos(&r), c->consumed);
    ck_assert_int_eq(err.kind, WASM_ERR_NONE);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

#define LONG "integer representation too long"
#define LARGE "integer too large"
#define END "unexpected end"
#define SEC_END "unexpected end of section or function"

static const struct leb_bad {
    int kind;
    uint8_t bytes[12];
    size_t n;
    bool in_section;
    const char *message;
    uint64_t offset;
} leb_bad[] = {
    /* a continuation bit in the last allowed byte */
    {U32, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), false, LONG, 4},
    {U32, B(0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), false, LONG, 4},
    {S32, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), false, LONG, 4},
    {S33, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), false, LONG, 4},
    {U64, B(X9(0x80), 0x80, 0x00), false, LONG, 9},
    {S64, B(X9(0x80), 0x80, 0x00), false, LONG, 9},
    /* unused bits set in the last byte */
    {U32, B(0xff, 0xff, 0xff, 0xff, 0x1f), false, LARGE, 4},
    {U32, B(0x80, 0x80, 0x80, 0x80, 0x10), false, LARGE, 4},
    {U32, B(0x80, 0x80, 0x80, 0x80, 0x70), false, LARGE, 4},
    {U64, B(X9(0x80), 0x02), false, LARGE, 9},
    {U64, B(X9(0xff), 0x7f), false, LARGE, 9},
    /* signed: unused bits not all equal to the sign bit */
    {S32, B(0x80, 0x80, 0x80, 0x80, 0x08), false, LARGE, 4}, /* 2^31 */
    {S32, B(0xff, 0xff, 0xff, 0xff, 0x0f), false, LARGE, 4}, /* 2^32 - 1 */
    {S32, B(0xff, 0xff, 0xff, 0xff, 0x4f), false, LARGE, 4}, /* sign set, unused 100 */
    {S32, B(0xff, 0xff, 0xff, 0xff, 0x77), false, LARGE, 4}, /* sign clear, unused 111 */
    {S33, B(0x80, 0x80, 0x80, 0x80, 0x10), false, LARGE, 4},
    {S33, B(0xff, 0xff, 0xff, 0xff, 0x1f), false, LARGE, 4},
    {S33, B(0x80, 0x80, 0x80, 0x80, 0x60), false, LARGE, 4},
    {S64, B(X9(0x80), 0x01), false, LARGE, 9}, /* 2^63 */
    {S64, B(X9(0xff), 0x7e), false, LARGE, 9},
    {S64, B(X9(0x80), 0x41), false, LARGE, 9},
    /* truncated: the offset is where the input ends */
    {U32, {0}, 0, false, END, 0},
    {U32, B(0x80), false, END, 1},
    {U32, B(0xff, 0xff, 0xff, 0xff), false, END, 4},
    {S32, B(0xff), false, END, 1},
    {S32, B(0xff, 0xff), false, END, 2},
    {S32, B(0xff, 0xff, 0xff), false, END, 3},
    {U64, B(X9(0xff)), false, END, 9},
    {S64, B(0x80, 0x80), false, END, 2},
    {S33, B(0x80), false, END, 1},
    {U32, {0}, 0, true, SEC_END, 0},
    {U32, B(0x80, 0x80), true, SEC_END, 2},
    {S32, B(0xc0), true, SEC_END, 1},
    {U64, B(0xff), true, SEC_END, 1},
    {S64, B(X9(0x80)), true, SEC_END, 9},
    {S33, B(0xff, 0xff, 0xff, 0xff), true, SEC_END, 4},
};

START_TEST(leb_errors)
{
    const struct leb_bad *c = &leb_bad[_i];
    uint64_t v;
    reader_on(c->bytes, c->n, 0, c->in_section);
    ck_assert_msg(!read_as(c->kind, &v), "case %d (%s) was accepted", _i, reader_names[c->kind]);
    ck_assert_reader_error(c->message, c->offset);
    /* "unexpected end" must not be mistaken for the in-section message */
    if (!c->in_section)
        ck_assert_str_eq(err.message, c->message);
}
END_TEST

/* Offsets are from the module's start, not from where the reader began. */
START_TEST(leb_error_offsets_are_absolute)
{
    static const uint8_t large[] = {0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0xff, 0x1f};
    static const uint8_t truncated[] = {0x00, 0x00, 0x80};
    uint32_t u;
    int64_t s;

    reader_on(large, sizeof large, 3, false);
    ck_assert(!wasm_read_u32(&r, &u));
    ck_assert_reader_error(LARGE, 7);

    reader_on(truncated, sizeof truncated, 2, true);
    ck_assert(!wasm_read_s64(&r, &s));
    ck_assert_reader_error(SEC_END, 3);
}
END_TEST

START_TEST(first_error_wins)
{
    static const uint8_t bytes[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    uint32_t u;
    reader_on(bytes, sizeof bytes, 0, false);
    ck_assert(!wasm_read_u32(&r, &u));
    ck_assert(!wasm_reader_fail(&r, 1, "something else"));
    r.p = r.end;
    ck_assert(!wasm_read_u32(&r, &u));
    ck_assert_reader_error(LARGE, 4);
}
END_TEST

START_TEST(fixed_size_reads)
{
    static const uint8_t bytes[] = {0x00, 0x00, 0x80, 0x3f, 0x01, 0x02};
    uint32_t f32;
    const uint8_t *p;

    reader_on(bytes, sizeof bytes, 0, false);
    ck_assert(wasm_read_f32(&r, &f32));
    ck_assert_uint_eq(f32, 0x3f800000); /* little-endian 1.0f */
    ck_assert(wasm_read_bytes(&r, 2, &p));
    ck_assert_ptr_eq(p, bytes + 4);
    ck_assert(wasm_reader_eof(&r));

    /* Reading past the end fails where the input ends. */
    reader_on(bytes, sizeof bytes, 1, true);
    ck_assert(!wasm_read_bytes(&r, 6, &p));
    ck_assert_reader_error(SEC_END, 6);
    uint64_t f64;
    reader_on(bytes, sizeof bytes, 0, false);
    ck_assert(!wasm_read_f64(&r, &f64));
    ck_assert_reader_error(END, 6);
}
END_TEST

/* ---- lengths and names --------------------------------------------------- */

START_TEST(len_within_bounds)
{
    static const uint8_t two[] = {0x02, 'a', 'b'};
    static const uint8_t padded[] = {0x82, 0x00, 'a', 'b'}; /* 2, not minimal */
    uint32_t n;

    reader_on(two, sizeof two, 0, false);
    ck_assert(wasm_read_len(&r, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(wasm_reader_pos(&r), 1);

    reader_on(padded, sizeof padded, 0, false);
    ck_assert(wasm_read_len(&r, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(wasm_reader_pos(&r), 2);

    /* As in the reference decoder, the bound counts the length's own bytes:
     * 3 passes here with 2 bytes left (reading them then runs out). */
    static const uint8_t three[] = {0x03, 'a', 'b'};
    reader_on(three, sizeof three, 0, false);
    ck_assert(wasm_read_len(&r, &n));
    ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(len_out_of_bounds)
{
    static const uint8_t four[] = {0x04, 'a', 'b'};
    static const uint8_t later[] = {0xaa, 0xbb, 0x06, 1, 2, 3, 4};
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    static const uint8_t bad_leb[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    uint32_t n;

    reader_on(four, sizeof four, 0, false);
    ck_assert(!wasm_read_len(&r, &n));
    ck_assert_reader_error("length out of bounds", 0);

    reader_on(later, sizeof later, 2, true);
    ck_assert(!wasm_read_len(&r, &n));
    ck_assert_reader_error("length out of bounds", 2);

    reader_on(huge, sizeof huge, 0, true);
    ck_assert(!wasm_read_len(&r, &n));
    ck_assert_reader_error("length out of bounds", 0);

    reader_on(bad_leb, sizeof bad_leb, 0, false);
    ck_assert(!wasm_read_len(&r, &n));
    ck_assert_reader_error(LARGE, 4);
}
END_TEST

START_TEST(names)
{
    static const uint8_t abc[] = {0x03, 'a', 'b', 'c', 0xff};
    static const uint8_t overlong[] = {0x07, 0x00, 0x01, 'x', 0x02, 0xc0, 0x80};
    static const uint8_t short_[] = {0x03, 'a', 'b'};
    const uint8_t *data;
    uint32_t len;

    reader_on(abc, sizeof abc, 0, false);
    ck_assert(wasm_read_name(&r, &data, &len));
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_eq(data, abc + 1);
    ck_assert_uint_eq(wasm_reader_pos(&r), 4);

    /* The error points at the name's bytes, after the length. */
    reader_on(overlong, sizeof overlong, 4, false);
    ck_assert(!wasm_read_name(&r, &data, &len));
    ck_assert_reader_error("malformed UTF-8 encoding", 5);

    reader_on(short_, sizeof short_, 0, true);
    ck_assert(!wasm_read_name(&r, &data, &len));
    ck_assert_reader_error(SEC_END, 3);
}
END_TEST

/* ---- UTF-8 ------------------------------------------------------------------ */

static const struct utf8_case {
    const char *what;
    uint8_t bytes[8];
    size_t n;
    bool valid;
} utf8_cases[] = {
    {"empty", {0}, 0, true},
    {"ASCII", B('h', 'e', 'l', 'l', 'o'), true},
    {"NUL and DEL", B(0x00, 0x7f), true},
    {"U+0080", B(0xc2, 0x80), true},
    {"U+07FF", B(0xdf, 0xbf), true},
    {"U+0800", B(0xe0, 0xa0, 0x80), true},
    {"U+D7FF", B(0xed, 0x9f, 0xbf), true},
    {"U+E000", B(0xee, 0x80, 0x80), true},
    {"U+FFFF", B(0xef, 0xbf, 0xbf), true},
    {"U+10000", B(0xf0, 0x90, 0x80, 0x80), true},
    {"U+10FFFF", B(0xf4, 0x8f, 0xbf, 0xbf), true},
    {"mixed", B('a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 'z'), true},
    /* overlong forms */
    {"2-byte NUL", B(0xc0, 0x80), false},
    {"2-byte U+007F", B(0xc1, 0xbf), false},
    {"3-byte U+007F", B(0xe0, 0x81, 0xbf), false},
    {"3-byte U+07FF", B(0xe0, 0x9f, 0xbf), false},
    {"4-byte U+FFFF", B(0xf0, 0x8f, 0xbf, 0xbf), false},
    {"4-byte NUL", B(0xf0, 0x80, 0x80, 0x80), false},
    /* surrogates */
    {"U+D800", B(0xed, 0xa0, 0x80), false},
    {"U+DBFF", B(0xed, 0xaf, 0xbf), false},
    {"U+DC00", B(0xed, 0xb0, 0x80), false},
    {"U+DFFF", B(0xed, 0xbf, 0xbf), false},
    /* beyond U+10FFFF */
    {"U+110000", B(0xf4, 0x90, 0x80, 0x80), false},
    {"U+13FFFF", B(0xf4, 0xbf, 0xbf, 0xbf), false},
    {"lead F5", B(0xf5, 0x80, 0x80, 0x80), false},
    {"lead F8 (5 bytes)", B(0xf8, 0x88, 0x80, 0x80, 0x80), false},
    {"lead FF", B(0xff), false},
    /* truncated */
    {"2 of 2, cut", B(0xc2), false},
    {"3 of 3, cut after 1", B(0xe0), false},
    {"3 of 3, cut after 2", B(0xe0, 0xa0), false},
    {"4 of 4, cut after 3", B(0xf0, 0x90, 0x80), false},
    {"cut at the end", B('a', 'b', 0xe2, 0x82), false},
    {"continuation replaced", B(0xc2, 'A'), false},
    {"continuation replaced, 3-byte", B(0xe0, 0xa0, 'A'), false},
    {"lead followed by lead", B(0xc2, 0xc2, 0x80), false},
    /* stray continuation bytes */
    {"stray 80", B(0x80), false},
    {"stray BF", B(0xbf), false},
    {"stray in ASCII", B('a', 0x80, 'b'), false},
    {"extra continuation", B(0xc2, 0x80, 0x80), false},
};

START_TEST(utf8)
{
    const struct utf8_case *c = &utf8_cases[_i];
    ck_assert_msg(wasm_utf8_valid(c->bytes, c->n) == c->valid, "%s: expected %s", c->what,
                  c->valid ? "valid" : "invalid");
}
END_TEST

/* The validity of a sequence must not depend on bytes past `len`. */
START_TEST(utf8_respects_length)
{
    static const uint8_t euro[] = {0xe2, 0x82, 0xac};
    ck_assert(wasm_utf8_valid(euro, 3));
    ck_assert(!wasm_utf8_valid(euro, 2));
    ck_assert(!wasm_utf8_valid(euro, 1));
    ck_assert(wasm_utf8_valid(euro, 0));
}
END_TEST

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

static Suite *leb128_suite(void)
{
    Suite *s = suite_create("leb128");
    TCase *tc = tcase_create("leb128");
    tcase_add_loop_test(tc, leb_values, 0, COUNT(leb_ok));
    tcase_add_loop_test(tc, leb_errors, 0, COUNT(leb_bad));
    tcase_add_test(tc, leb_error_offsets_are_absolute);
    tcase_add_test(tc, first_error_wins);
    tcase_add_test(tc, fixed_size_reads);
    suite_add_tcase(s, tc);

    tc = tcase_create("lengths and names");
    tcase_add_test(tc, len_within_bounds);
    tcase_add_test(tc, len_out_of_bounds);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);

    tc = tcase_create("utf8");
    tcase_add_loop_test(tc, utf8, 0, COUNT(utf8_cases));
    tcase_add_test(tc, utf8_respects_length);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(leb128_suite());
}
