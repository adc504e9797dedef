/*
 * A cursor over module bytes with the binary format's primitive readers:
 * LEB128 integers with the spec's length and unused-bit rules, bytes,
 * floats, names. Every reader returns false after recording an error.
 */
#ifndef WJ_WASM_READER_H
#define WJ_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

typedef struct wasm_reader {
    const uint8_t *base; /* start of the module: offsets are relative to it */
    const uint8_t *p;
    const uint8_t *end;  /* end of the module, or of the current section */
    bool in_section;     /* running out reads as the end of a section */
    wasm_error *err;
} wasm_reader;

static inline uint64_t wasm_reader_offset(const wasm_reader *r, const uint8_t *p)
{
    return (uint64_t)(p - r->base);
}

static inline uint64_t wasm_reader_pos(const wasm_reader *r)
{
    return wasm_reader_offset(r, r->p);
}

static inline bool wasm_reader_eof(const wasm_reader *r)
{
    return r->p >= r->end;
}

/* Running off the module's end and off a section's end read differently
 * in the spec's vocabulary. */
bool wasm_reader_fail_eof(wasm_reader *r);
bool wasm_reader_fail(wasm_reader *r, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline bool wasm_read_u8(wasm_reader *r, uint8_t *out)
{
    if (__builtin_expect(r->p >= r->end, 0)) {
        wasm_reader_fail_eof(r);
        return false;
    }
    *out = *r->p++;
    return true;
}

bool wasm_read_leb_slow(wasm_reader *r, unsigned bits, bool is_signed, uint64_t *out);
/* wasm_read_s32 past its first byte. */
bool wasm_read_s32_slow(wasm_reader *r, int32_t *out);

static inline bool wasm_read_u32(wasm_reader *r, uint32_t *out)
{
    if (__builtin_expect(r->p < r->end && *r->p < 0x80, 1)) {
        *out = *r->p++;
        return true;
    }
    /* Two bytes (indices up to 16383) are common enough for a fast path. */
    if (r->end - r->p >= 2 && r->p[1] < 0x80) {
        *out = (uint32_t)(r->p[0] & 0x7f) | (uint32_t)r->p[1] << 7;
        r->p += 2;
        return true;
    }
    uint64_t v;
    if (!wasm_read_leb_slow(r, 32, false, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool wasm_read_s32(wasm_reader *r, int32_t *out)
{
    if (__builtin_expect(r->p < r->end && *r->p < 0x80, 1)) {
        uint8_t b = *r->p++;
        *out = (int32_t)((uint32_t)b << 25) >> 25; /* sign-extend bit 6 */
        return true;
    }
    return wasm_read_s32_slow(r, out);
}

static inline bool wasm_read_u64(wasm_reader *r, uint64_t *out)
{
    return wasm_read_leb_slow(r, 64, false, out);
}

static inline bool wasm_read_s64(wasm_reader *r, int64_t *out)
{
    uint64_t v;
    if (!wasm_read_leb_slow(r, 64, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

/* The block type's signed 33-bit index. */
static inline bool wasm_read_s33(wasm_reader *r, int64_t *out)
{
    uint64_t v;
    if (!wasm_read_leb_slow(r, 33, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

static inline bool wasm_read_bytes(wasm_reader *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n) {
        r->p = r->end;
        wasm_reader_fail_eof(r);
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

static inline bool wasm_read_f32(wasm_reader *r, uint32_t *bits)
{
    const uint8_t *b;
    if (!wasm_read_bytes(r, 4, &b))
        return false;
    memcpy(bits, b, 4);
    return true;
}

static inline bool wasm_read_f64(wasm_reader *r, uint64_t *bits)
{
    const uint8_t *b;
    if (!wasm_read_bytes(r, 8, &b))
        return false;
    memcpy(bits, b, 8);
    return true;
}

/* A vector length or byte length, which must fit in what remains. As in
 * the reference decoder, the length's own bytes count as remaining, so the
 * end it implies may lie a few bytes past r->end: move there only with
 * wasm_reader_skip_to(). */
bool wasm_read_len(wasm_reader *r, uint32_t *out);

/* Moves to `target`, which must not lie past the end. */
static inline bool wasm_reader_skip_to(wasm_reader *r, const uint8_t *target)
{
    if (target > r->end) {
        r->p = r->end;
        wasm_reader_fail_eof(r);
        return false;
    }
    r->p = target;
    return true;
}

/* A name: a length-prefixed, well-formed UTF-8 byte string. */
bool wasm_read_name(wasm_reader *r, const uint8_t **data, uint32_t *len);

/* True when the `len` bytes are well-formed UTF-8 (no surrogates, no
 * overlong forms, nothing above U+10FFFF). */
bool wasm_utf8_valid(const uint8_t *s, size_t len);

#endif
