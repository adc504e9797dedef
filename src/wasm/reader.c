#include <stdarg.h>
#include <stdio.h>

#include "reader.h"

bool wasm_reader_fail(wasm_reader *r, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wasm_vfail(r->err, WASM_ERR_MALFORMED, offset, fmt, ap);
    va_end(ap);
    return false;
}

bool wasm_reader_fail_eof(wasm_reader *r)
{
    return wasm_reader_fail(r, wasm_reader_pos(r),
                            r->in_section ? "unexpected end of section or function"
                                          : "unexpected end");
}

/*
 * LEB128 of at most ceil(bits/7) bytes. The last byte may not continue
 * ("integer representation too long") and its bits beyond `bits` must be
 * zero, or for signed numbers copies of the sign bit ("integer too large").
 */
bool wasm_read_leb_slow(wasm_reader *r, unsigned bits, bool is_signed, uint64_t *out)
{
    unsigned max_bytes = (bits + 6) / 7;
    uint64_t result = 0;
    unsigned shift = 0;
    for (unsigned i = 0;; i++) {
        uint8_t b = 0;
        if (!wasm_read_u8(r, &b))
            return false;
        if (i == max_bytes - 1) {
            if (b & 0x80)
                return wasm_reader_fail(r, wasm_reader_pos(r) - 1, "integer representation too long");
            unsigned used = bits - shift; /* payload bits in this byte, 1..7 */
            if (used < 7) {
                uint8_t unused = (uint8_t)(0x7f & ~((1u << used) - 1));
                uint8_t want = 0;
                if (is_signed && (b & (1u << (used - 1))))
                    want = unused;
                if ((b & unused) != want)
                    return wasm_reader_fail(r, wasm_reader_pos(r) - 1, "integer too large");
            }
            result |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (is_signed && shift < 64 && (result >> (shift - 1)) & 1)
        result |= ~(uint64_t)0 << shift;
    if (!is_signed && bits < 64)
        result &= (1ull << bits) - 1;
    *out = result;
    return true;
}

bool wasm_read_s32_slow(wasm_reader *r, int32_t *out)
{
    /* Two and three bytes (constants within +-2^20) without the general
     * loop: only a fifth byte can be too long or too large. */
    const uint8_t *p = r->p;
    if (r->end - p >= 2 && p[1] < 0x80) {
        uint32_t v = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
        *out = (int32_t)(v << 18) >> 18; /* sign-extend bit 13 */
        r->p += 2;
        return true;
    }
    if (r->end - p >= 3 && p[2] < 0x80) {
        uint32_t v = (uint32_t)(p[0] & 0x7f) | (uint32_t)(p[1] & 0x7f) << 7 | (uint32_t)p[2] << 14;
        *out = (int32_t)(v << 11) >> 11; /* sign-extend bit 20 */
        r->p += 3;
        return true;
    }
    uint64_t v;
    if (!wasm_read_leb_slow(r, 32, true, &v))
        return false;
    *out = (int32_t)(uint32_t)v;
    return true;
}

/* As in the reference decoder, the bound counts the length's own bytes. */
bool wasm_read_len(wasm_reader *r, uint32_t *out)
{
    const uint8_t *at = r->p;
    if (!wasm_read_u32(r, out))
        return false;
    if (*out > (size_t)(r->end - at))
        return wasm_reader_fail(r, wasm_reader_offset(r, at), "length out of bounds");
    return true;
}

bool wasm_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool wasm_read_name(wasm_reader *r, const uint8_t **data, uint32_t *len)
{
    uint64_t at;
    if (!wasm_read_len(r, len))
        return false;
    at = wasm_reader_pos(r);
    if (!wasm_read_bytes(r, *len, data))
        return false;
    if (!wasm_utf8_valid(*data, *len))
        return wasm_reader_fail(r, at, "malformed UTF-8 encoding");
    return true;
}
