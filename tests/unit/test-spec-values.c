/* The spec runner's script values (tests/spec/values.c): v128 arguments and
 * expected results as wast2json writes them, compared lane by lane with NaN
 * patterns per float lane, and shown in FAIL lines. */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>

#include "spec.h"
#include "unit.h"

/* Parses `text` (JSON) as an argument or an expected value. */
static enum value_parse parse(const char *text, bool expected, struct script_value *out,
                              const char **why)
{
    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    ck_assert_msg(json != NULL, "bad JSON in the test: %s", error.text);
    *why = NULL;
    enum value_parse r = value_parse(json, expected, out, why);
    json_decref(json);
    return r;
}

static struct script_value parsed(const char *text, bool expected)
{
    struct script_value v;
    const char *why;
    ck_assert_msg(parse(text, expected, &v, &why) == VALUE_PARSED, "%s: %s", text, why);
    ck_assert_int_eq(v.val.kind, WJ_V128);
    return v;
}

static wj_val v128_of(const uint8_t bytes[16])
{
    wj_val v = {.kind = WJ_V128};
    memcpy(v.of.v128, bytes, 16);
    return v;
}

START_TEST(v128_arguments_in_every_lane_type)
{
    static const struct {
        const char *json;
        uint8_t bytes[16];
    } cases[] = {
        {"{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"1\",\"255\",\"0\",\"128\",\"4\","
         "\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\"]}",
         {1, 255, 0, 128, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
        {"{\"type\":\"v128\",\"lane_type\":\"i16\",\"value\":[\"1\",\"65535\",\"2\",\"3\","
         "\"4\",\"5\",\"6\",\"32768\"]}",
         {1, 0, 0xff, 0xff, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0x00, 0x80}},
        {"{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"4294967292\",\"0\","
         "\"305419896\"]}",
         {1, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12}},
        {"{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"9223372036854775807\","
         "\"18446744073709551615\"]}",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff}},
        {"{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"1065353216\",\"2143289345\","
         "\"2147483648\",\"0\"]}",
         {0, 0, 0x80, 0x3f, 0x01, 0x00, 0xc0, 0x7f, 0, 0, 0, 0x80, 0, 0, 0, 0}},
        {"{\"type\":\"v128\",\"lane_type\":\"f64\",\"value\":[\"4607182418800017408\","
         "\"9221120237041090561\"]}",
         {0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct script_value v = parsed(cases[i].json, false);
        ck_assert_int_eq(v.form, VALUE_EXACT);
        ck_assert_mem_eq(v.val.of.v128, cases[i].bytes, 16);
    }
}
END_TEST

START_TEST(bad_v128_values)
{
    static const struct {
        const char *json;
        const char *why;
    } cases[] = {
        {"{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"2\",\"3\"]}",
         "a v128 value does not have the lanes of its \"lane_type\""},
        {"{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"1\",\"2\",\"3\",\"4\"]}",
         "a v128 value does not have the lanes of its \"lane_type\""},
        {"{\"type\":\"v128\",\"lane_type\":\"i8x16\",\"value\":[]}",
         "a v128 value has an unknown \"lane_type\""},
        {"{\"type\":\"v128\",\"lane_type\":\"i16\",\"value\":[\"65536\",\"0\",\"0\",\"0\","
         "\"0\",\"0\",\"0\",\"0\"]}",
         "a v128 lane is not an unsigned decimal string of its lane's range"},
        {"{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"-1\",\"0\",\"0\",\"0\"]}",
         "a v128 lane is not an unsigned decimal string of its lane's range"},
        /* a NaN pattern is no argument */
        {"{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\",\"0\",\"0\","
         "\"0\"]}",
         "a v128 lane is not an unsigned decimal string of its lane's range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct script_value v;
        const char *why;
        ck_assert_int_eq(parse(cases[i].json, false, &v, &why), VALUE_BAD);
        ck_assert_str_eq(why, cases[i].why);
    }
}
END_TEST

static const char f32_expected[] =
    "{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\",\"nan:arithmetic\","
    "\"0\",\"1065353216\"]}";

/* Each float lane is judged on its own: a NaN pattern or exact bits. */
START_TEST(v128_results_lane_by_lane)
{
    struct script_value want = parsed(f32_expected, true);
    ck_assert_int_eq(want.lane_forms[0], VALUE_NAN_CANONICAL);
    ck_assert_int_eq(want.lane_forms[1], VALUE_NAN_ARITHMETIC);

    /* -nan (canonical), a quiet NaN with a payload, +0, 1.0 */
    uint8_t got[16] = {0, 0, 0xc0, 0xff, 0x01, 0, 0xc0, 0x7f, 0, 0, 0, 0, 0, 0, 0x80, 0x3f};
    wj_val v = v128_of(got);
    ck_assert(value_matches(&want, &v));

    uint8_t bad[16];
    memcpy(bad, got, 16);
    bad[0] = 1; /* lane 0 has a payload: not canonical */
    v = v128_of(bad);
    ck_assert(!value_matches(&want, &v));
    memcpy(bad, got, 16);
    bad[6] = 0x80; /* lane 1 0x7f800001: a signalling NaN, not arithmetic */
    v = v128_of(bad);
    ck_assert(!value_matches(&want, &v));
    memcpy(bad, got, 16);
    bad[11] = 0x80; /* lane 2 -0 where +0 is expected */
    v = v128_of(bad);
    ck_assert(!value_matches(&want, &v));

    /* f64 lanes */
    struct script_value want64 = parsed(
        "{\"type\":\"v128\",\"lane_type\":\"f64\",\"value\":[\"4607182418800017408\","
        "\"nan:canonical\"]}",
        true);
    uint8_t got64[16] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf8, 0xff};
    v = v128_of(got64);
    ck_assert(value_matches(&want64, &v));
    got64[8] = 1;
    v = v128_of(got64);
    ck_assert(!value_matches(&want64, &v));

    /* integer lanes: every byte counts; a v128 is no other kind */
    struct script_value want8 = parsed(
        "{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"0\",\"0\",\"0\",\"0\",\"0\",\"0\","
        "\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"255\"]}",
        true);
    uint8_t got8[16] = {[15] = 255};
    v = v128_of(got8);
    ck_assert(value_matches(&want8, &v));
    got8[15] = 254;
    v = v128_of(got8);
    ck_assert(!value_matches(&want8, &v));
    wj_val i64 = {.kind = WJ_I64};
    ck_assert(!value_matches(&want8, &i64));
}
END_TEST

/* FAIL lines show an expected v128 in its lanes with its NaN patterns, and
 * the result in the same lanes. */
START_TEST(v128_in_fail_lines)
{
    struct script_value want = parsed(f32_expected, true);
    uint8_t got[16] = {0, 0, 0xc0, 0x7f, 1, 0, 0xc0, 0x7f, 0, 0, 0, 0x80, 0, 0, 0x80, 0x3f};
    wj_val v = v128_of(got);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    fput_expected_value(&want, out);
    fputs(" | ", out);
    fput_value(&v, &want, out);
    fputs(" | ", out);
    fput_value(&v, NULL, out);
    fclose(out);
    ck_assert_str_eq(text,
                     "v128:f32x4:nan:canonical,nan:arithmetic,0x00000000,0x3f800000 | "
                     "v128:f32x4:0x7fc00000,0x7fc00001,0x80000000,0x3f800000 | "
                     "v128:i32x4:0x7fc00000,0x7fc00001,0x80000000,0x3f800000");
    free(text);

    struct script_value want16 = parsed(
        "{\"type\":\"v128\",\"lane_type\":\"i16\",\"value\":[\"1\",\"65535\",\"2\",\"3\",\"4\","
        "\"5\",\"6\",\"32768\"]}",
        true);
    text = NULL;
    out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    fput_expected_value(&want16, out);
    fclose(out);
    ck_assert_str_eq(text, "v128:i16x8:0x0001,0xffff,0x0002,0x0003,0x0004,0x0005,0x0006,0x8000");
    free(text);
}
END_TEST

static Suite *spec_values_suite(void)
{
    Suite *s = suite_create("spec-values");
    TCase *v128 = tcase_create("v128");
    tcase_add_test(v128, v128_arguments_in_every_lane_type);
    tcase_add_test(v128, bad_v128_values);
    tcase_add_test(v128, v128_results_lane_by_lane);
    tcase_add_test(v128, v128_in_fail_lines);
    suite_add_tcase(s, v128);
    return s;
}

int main(void)
{
    return unit_run(spec_values_suite());
}
