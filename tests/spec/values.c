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

enum value_parse value_parse(json_t *json, bool expected, struct script_value *out,
                             const char **why)
{
    wj_valtype type;
    if (!json_is_object(json))
        return bad(why, "a value is not a JSON object");
    if (!parse_type(json_string_value(json_object_get(json, "type")), &type))
        return bad(why, "a value has an unknown \"type\"");
    if (type == WJ_V128)
        return VALUE_IS_V128;
    *out = (struct script_value){.form = VALUE_EXACT, .val = {.kind = type}};
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
    if (expected && text && (type == WJ_F32 || type == WJ_F64)) {
        if (strcmp(text, "nan:canonical") == 0) {
            out->form = VALUE_NAN_CANONICAL;
            return VALUE_PARSED;
        }
        if (strcmp(text, "nan:arithmetic") == 0) {
            out->form = VALUE_NAN_ARITHMETIC;
            return VALUE_PARSED;
        }
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

static bool matches_nan(enum value_form form, const wj_val *actual)
{
    bool canonical = form == VALUE_NAN_CANONICAL;
    if (actual->kind == WJ_F32) {
        uint32_t magnitude = f32_bits(actual) & 0x7fffffffu;
        return canonical ? magnitude == F32_QUIET_NAN
                         : (magnitude & F32_QUIET_NAN) == F32_QUIET_NAN;
    }
    uint64_t magnitude = f64_bits(actual) & UINT64_C(0x7fffffffffffffff);
    return canonical ? magnitude == F64_QUIET_NAN : (magnitude & F64_QUIET_NAN) == F64_QUIET_NAN;
}

bool value_matches(const struct script_value *expected, const wj_val *actual)
{
    const wj_val *want = &expected->val;
    if (actual->kind != want->kind)
        return false;
    switch (expected->form) {
    case VALUE_NAN_CANONICAL:
    case VALUE_NAN_ARITHMETIC:
        return matches_nan(expected->form, actual);
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
    default: return false;
    }
}

void fput_value(const wj_val *value, FILE *out)
{
    switch (value->kind) {
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
    case VALUE_EXACT: fput_value(&value->val, out); return;
    }
}
