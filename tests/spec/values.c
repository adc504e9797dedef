/* Script values as wast2json writes them ({"type": "i32", "value": "42"})
 * turned into wj_val, and results compared with the expected ones bit for
 * bit, as the reference interpreter does. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* wast2json writes every number as an unsigned decimal string: integers in
 * two's complement, floats as their bit pattern. */
static bool parse_unsigned(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || n > max)
        return false;
    *out = n;
    return true;
}

/* A host externref "N" of the script is the pointer N + 1, so that
 * ref.extern 0 is not the null reference. */
static void *externref_of(uint64_t n)
{
    return (void *)(uintptr_t)(n + 1);
}

static bool parse_number(wj_valtype type, const char *text, wj_val *out)
{
    uint64_t n;
    switch (type) {
    case WJ_I32:
        if (!parse_unsigned(text, UINT32_MAX, &n))
            return false;
        out->of.i32 = (int32_t)(uint32_t)n;
        return true;
    case WJ_I64:
        if (!parse_unsigned(text, UINT64_MAX, &n))
            return false;
        out->of.i64 = (int64_t)n;
        return true;
    case WJ_F32: {
        if (!parse_unsigned(text, UINT32_MAX, &n))
            return false;
        uint32_t bits = (uint32_t)n;
        memcpy(&out->of.f32, &bits, sizeof bits); /* keeps NaN payloads */
        return true;
    }
    case WJ_F64:
        if (!parse_unsigned(text, UINT64_MAX, &n))
            return false;
        memcpy(&out->of.f64, &n, sizeof n);
        return true;
    default:
        return false;
    }
}

static bool parse_type(const char *name, wj_valtype *out)
{
    static const struct {
        const char *name;
        wj_valtype type;
    } types[] = {
        {"i32", WJ_I32},         {"i64", WJ_I64},
        {"f32", WJ_F32},         {"f64", WJ_F64},
        {"v128", WJ_V128},       {"funcref", WJ_FUNCREF},
        {"externref", WJ_EXTERNREF},
    };
    for (size_t i = 0; name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0) {
            *out = types[i].type;
            return true;
        }
    return false;
}

static enum value_parse bad(const char **why, const char *what)
{
    *why = what;
    return VALUE_BAD;
}

static const struct lane_shape lane_shapes[] = {
    {"i8", 1, false},  {"i16", 2, false}, {"i32", 4, false},
    {"i64", 8, false}, {"f32", 4, true},  {"f64", 8, true},
};
static const struct lane_shape *const i32_lanes = &lane_shapes[2];

static const struct lane_shape *find_shape(const char *name)
{
    for (size_t i = 0; name && i < sizeof lane_shapes / sizeof lane_shapes[0]; i++)
        if (strcmp(name, lane_shapes[i].name) == 0)
            return &lane_shapes[i];
    return NULL;
}

/* Lane `i` of a v128 in `shape`: little-endian, lane 0 first. */
static uint64_t lane_bits(const uint8_t *v128, const struct lane_shape *shape, unsigned i)
{
    uint64_t bits = 0;
    for (unsigned b = shape->bytes; b-- > 0;)
        bits = bits << 8 | v128[i * shape->bytes + b];
    return bits;
}

static uint64_t lane_max(const struct lane_shape *shape)
{
    return shape->bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * shape->bytes)) - 1;
}

/* A NaN pattern ("nan:canonical", "nan:arithmetic") or VALUE_EXACT. */
static enum value_form nan_form(const char *text)
{
    if (text && strcmp(text, "nan:canonical") == 0)
        return VALUE_NAN_CANONICAL;
    if (text && strcmp(text, "nan:arithmetic") == 0)
        return VALUE_NAN_ARITHMETIC;
    return VALUE_EXACT;
}

/* {"type": "v128", "lane_type": "f32", "value": ["0", "nan:canonical", ...]} */
static enum value_parse parse_v128(json_t *json, bool expected, struct script_value *out,
                                   const char **why)
{
    const struct lane_shape *shape =
        find_shape(json_string_value(json_object_get(json, "lane_type")));
    if (!shape)
        return bad(why, "a v128 value has an unknown \"lane_type\"");
    json_t *lanes = json_object_get(json, "value");
    unsigned count = 16 / shape->bytes;
    if (!json_is_array(lanes) || json_array_size(lanes) != count)
        return bad(why, "a v128 value does not have the lanes of its \"lane_type\"");
    out->shape = shape;
    for (unsigned i = 0; i < count; i++) {
        const char *text = json_string_value(json_array_get(lanes, i));
        out->lane_forms[i] = expected && shape->fp ? nan_form(text) : VALUE_EXACT;
        if (out->lane_forms[i] != VALUE_EXACT)
            continue; /* its bytes stay 0 */
        uint64_t n;
        if (!parse_unsigned(text, lane_max(shape), &n))
            return bad(why, "a v128 lane is not an unsigned decimal string of its lane's range");
        for (unsigned b = 0; b < shape->bytes; b++)
            out->val.of.v128[i * shape->bytes + b] = (uint8_t)(n >> (8 * b));
    }
    return VALUE_PARSED;
}

enum value_parse value_parse(json_t *json, bool expected, struct script_value *out,
                             const char **why)
{
    wj_valtype type;
    if (!json_is_object(json))
        return bad(why, "a value is not a JSON object");
    if (!parse_type(json_string_value(json_object_get(json, "type")), &type))
        return bad(why, "a value has an unknown \"type\"");
    *out = (struct script_value){.form = VALUE_EXACT, .val = {.kind = type}};
    if (type == WJ_V128)
        return parse_v128(json, expected, out, why);
    json_t *value = json_object_get(json, "value");
    const char *text = json_string_value(value);
    if (type == WJ_FUNCREF || type == WJ_EXTERNREF) {
        /* (ref.func) and (ref.extern) without an index: any non-null one. */
        if (!value && expected) {
            out->form = VALUE_ANY_REF;
            return VALUE_PARSED;
        }
        if (text && strcmp(text, "null") == 0)
            return VALUE_PARSED; /* the union is zeroed: a null reference */
        uint64_t n;
        if (type == WJ_EXTERNREF && parse_unsigned(text, UINTPTR_MAX - 1, &n)) {
            out->val.of.externref = externref_of(n);
            return VALUE_PARSED;
        }
        /* wast2json writes (ref.func) as a number; no function of an
         * instance has a number a script could name, so any will do. */
        if (type == WJ_FUNCREF && expected && parse_unsigned(text, UINT64_MAX, &n)) {
            out->form = VALUE_ANY_REF;
            return VALUE_PARSED;
        }
        return bad(why, "a reference value is neither \"null\" nor a host reference number");
    }
    if (expected && (type == WJ_F32 || type == WJ_F64)) {
        out->form = nan_form(text);
        if (out->form != VALUE_EXACT)
            return VALUE_PARSED;
    }
    if (!parse_number(type, text, &out->val))
        return bad(why, "a number value is not an unsigned decimal string of its type's range");
    return VALUE_PARSED;
}

static uint32_t f32_bits(const wj_val *v)
{
    uint32_t bits;
    memcpy(&bits, &v->of.f32, sizeof bits);
    return bits;
}

static uint64_t f64_bits(const wj_val *v)
{
    uint64_t bits;
    memcpy(&bits, &v->of.f64, sizeof bits);
    return bits;
}

#define F32_QUIET_NAN 0x7fc00000u
#define F64_QUIET_NAN UINT64_C(0x7ff8000000000000)

/* Whether the bits of a float of `bytes` bytes (4 or 8) match a NaN
 * pattern. */
static bool matches_nan(enum value_form form, uint64_t bits, unsigned bytes)
{
    uint64_t quiet = bytes == 4 ? F32_QUIET_NAN : F64_QUIET_NAN;
    uint64_t magnitude = bits & (bytes == 4 ? 0x7fffffffu : UINT64_C(0x7fffffffffffffff));
    return form == VALUE_NAN_CANONICAL ? magnitude == quiet : (magnitude & quiet) == quiet;
}

/* Lane by lane in the expected value's shape, NaN patterns per lane. */
static bool v128_matches(const struct script_value *expected, const wj_val *actual)
{
    const struct lane_shape *shape = expected->shape;
    for (unsigned i = 0; i < 16 / shape->bytes; i++) {
        uint64_t got = lane_bits(actual->of.v128, shape, i);
        bool match = expected->lane_forms[i] == VALUE_EXACT
                         ? got == lane_bits(expected->val.of.v128, shape, i)
                         : matches_nan(expected->lane_forms[i], got, shape->bytes);
        if (!match)
            return false;
    }
    return true;
}

bool value_matches(const struct script_value *expected, const wj_val *actual)
{
    const wj_val *want = &expected->val;
    if (actual->kind != want->kind)
        return false;
    switch (expected->form) {
    case VALUE_NAN_CANONICAL:
    case VALUE_NAN_ARITHMETIC:
        return actual->kind == WJ_F32 ? matches_nan(expected->form, f32_bits(actual), 4)
                                      : matches_nan(expected->form, f64_bits(actual), 8);
    case VALUE_ANY_REF:
        return want->kind == WJ_FUNCREF ? actual->of.funcref != NULL
                                        : actual->of.externref != NULL;
    case VALUE_EXACT:
        break;
    }
    switch (want->kind) {
    case WJ_I32: return actual->of.i32 == want->of.i32;
    case WJ_I64: return actual->of.i64 == want->of.i64;
    case WJ_F32: return f32_bits(actual) == f32_bits(want);
    case WJ_F64: return f64_bits(actual) == f64_bits(want);
    case WJ_FUNCREF: return actual->of.funcref == want->of.funcref;
    case WJ_EXTERNREF: return actual->of.externref == want->of.externref;
    case WJ_V128: return v128_matches(expected, actual);
    default: return false;
    }
}

/* "v128:f32x4:0x3f800000,nan:canonical,..." (lane_forms NULL: all exact) */
static void fput_v128(const uint8_t *v128, const struct lane_shape *shape,
                      const enum value_form *lane_forms, FILE *out)
{
    unsigned count = 16 / shape->bytes;
    fprintf(out, "v128:%sx%u:", shape->name, count);
    for (unsigned i = 0; i < count; i++) {
        if (i > 0)
            putc(',', out);
        if (lane_forms && lane_forms[i] != VALUE_EXACT)
            fputs(lane_forms[i] == VALUE_NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic", out);
        else
            fprintf(out, "0x%0*" PRIx64, (int)(2 * shape->bytes), lane_bits(v128, shape, i));
    }
}

void fput_value(const wj_val *value, const struct script_value *like, FILE *out)
{
    switch (value->kind) {
    case WJ_V128:
        fput_v128(value->of.v128, like && like->shape ? like->shape : i32_lanes, NULL, out);
        return;
    case WJ_I32:
        fprintf(out, "i32:%" PRIu32, (uint32_t)value->of.i32);
        return;
    case WJ_I64:
        fprintf(out, "i64:%" PRIu64, (uint64_t)value->of.i64);
        return;
    case WJ_F32:
        fprintf(out, "f32:0x%08" PRIx32, f32_bits(value));
        return;
    case WJ_F64:
        fprintf(out, "f64:0x%016" PRIx64, f64_bits(value));
        return;
    case WJ_FUNCREF:
        fputs(value->of.funcref ? "funcref:non-null" : "funcref:null", out);
        return;
    case WJ_EXTERNREF:
        if (value->of.externref)
            /* Shown as the script's number N; pointer N + 1. */
            fprintf(out, "externref:%" PRIuPTR, (uintptr_t)value->of.externref - 1);
        else
            fputs("externref:null", out);
        return;
    default:
        fprintf(out, "(value of unknown kind 0x%x)", (unsigned)value->kind);
        return;
    }
}

void fput_expected_value(const struct script_value *value, FILE *out)
{
    const char *type = wj_valtype_name(value->val.kind);
    switch (value->form) {
    case VALUE_NAN_CANONICAL: fprintf(out, "%s:nan:canonical", type); return;
    case VALUE_NAN_ARITHMETIC: fprintf(out, "%s:nan:arithmetic", type); return;
    case VALUE_ANY_REF: fprintf(out, "%s:non-null", type); return;
    case VALUE_EXACT:
        if (value->shape)
            fput_v128(value->val.of.v128, value->shape, value->lane_forms, out);
        else
            fput_value(&value->val, NULL, out);
        return;
    }
}
