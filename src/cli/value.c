/* Values on the command line: --invoke's arguments and results. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* An integer of `bits` bits, signed or unsigned, decimal or 0x hex; the
 * whole of `s`. */
static bool parse_int(const char *s, unsigned bits, uint64_t *out)
{
    bool neg = *s == '-';
    const char *digits = neg ? s + 1 : s;
    if (!isdigit((unsigned char)*digits)) /* strtoull would take signs, spaces */
        return false;
    char *end;
    errno = 0;
    uint64_t v = strtoull(digits, &end, 0);
    uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (errno || *end || (neg ? v > max / 2 + 1 : v > max))
        return false;
    *out = (neg ? 0 - v : v) & max;
    return true;
}

/* The shapes a v128 may be written in: "i32x4:1,2,3,-4". */
static const struct {
    const char *name;
    unsigned lanes;
    bool fp;
} shapes[] = {
    {"i8x16", 16, false}, {"i16x8", 8, false}, {"i32x4", 4, false},
    {"i64x2", 2, false},  {"f32x4", 4, true},  {"f64x2", 2, true},
};

/* One lane of `bytes` (lane_bytes wide) from `s`. */
static bool parse_lane(const char *s, unsigned lane_bytes, bool fp, uint8_t *bytes)
{
    uint64_t bits;
    char *end;
    if (!fp) {
        if (!parse_int(s, 8 * lane_bytes, &bits))
            return false;
    } else if (lane_bytes == 4) {
        float f = strtof(s, &end);
        uint32_t b;
        memcpy(&b, &f, 4);
        bits = b;
        if (end == s || *end)
            return false;
    } else {
        double d = strtod(s, &end);
        memcpy(&bits, &d, 8);
        if (end == s || *end)
            return false;
    }
    for (unsigned i = 0; i < lane_bytes; i++)
        bytes[i] = (uint8_t)(bits >> (8 * i)); /* little-endian lanes */
    return true;
}

static bool parse_v128(const char *s, uint8_t v128[16])
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return false;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        if (strlen(shapes[k].name) != (size_t)(colon - s) ||
            strncmp(s, shapes[k].name, (size_t)(colon - s)) != 0)
            continue;
        unsigned lane_bytes = 16 / shapes[k].lanes;
        const char *lane = colon + 1;
        for (unsigned i = 0; i < shapes[k].lanes; i++) {
            const char *comma = strchr(lane, ',');
            size_t len = comma ? (size_t)(comma - lane) : strlen(lane);
            char buf[64];
            if (len >= sizeof buf || (comma != NULL) != (i + 1 < shapes[k].lanes))
                return false;
            memcpy(buf, lane, len);
            buf[len] = '\0';
            if (!parse_lane(buf, lane_bytes, shapes[k].fp, v128 + i * lane_bytes))
                return false;
            if (comma)
                lane = comma + 1;
        }
        return true;
    }
    return false;
}

bool cli_parse_value(const char *s, wj_valtype type, wj_val *out)
{
    char *end;
    uint64_t bits;
    out->kind = type;
    switch (type) {
    case WJ_I32:
        if (!parse_int(s, 32, &bits))
            return false;
        out->of.i32 = (int32_t)(uint32_t)bits;
        return true;
    case WJ_I64:
        if (!parse_int(s, 64, &bits))
            return false;
        out->of.i64 = (int64_t)bits;
        return true;
    case WJ_F32:
        out->of.f32 = strtof(s, &end);
        return end != s && !*end;
    case WJ_F64:
        out->of.f64 = strtod(s, &end);
        return end != s && !*end;
    case WJ_V128:
        return parse_v128(s, out->of.v128);
    default:
        return false;
    }
}

void cli_print_value(const wj_val *v)
{
    switch (v->kind) {
    case WJ_I32: printf("%" PRId32 "\n", v->of.i32); break;
    case WJ_I64: printf("%" PRId64 "\n", v->of.i64); break;
    case WJ_F32: printf("%.9g\n", (double)v->of.f32); break;
    case WJ_F64: printf("%.17g\n", v->of.f64); break;
    case WJ_V128:
        /* i32x4 lanes in hex: their bits, readable back as an argument */
        printf("i32x4:");
        for (int lane = 0; lane < 4; lane++) {
            const uint8_t *b = v->of.v128 + 4 * lane;
            printf("%s0x%02x%02x%02x%02x", lane ? "," : "", b[3], b[2], b[1], b[0]);
        }
        printf("\n");
        break;
    case WJ_FUNCREF: printf(v->of.funcref ? "funcref\n" : "null\n"); break;
    case WJ_EXTERNREF: printf(v->of.externref ? "externref\n" : "null\n"); break;
    }
}
