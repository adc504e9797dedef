/* The public API (include/wasmjail.h), linked against libwasmjail.la:
 * configurations, engines, modules and their introspection, errors. */
#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "unit.h"
#include "wasm_builder.h"

#define ck_assert_wj_error(e, want_kind, want_prefix, want_offset)                            \
    do {                                                                                   \
        const wj_error *e_ = (e);                                                          \
        ck_assert_ptr_nonnull(e_);                                                         \
        ck_assert_error_is(wj_error_kind_of(e_), wj_error_message(e_), wj_error_offset(e_), \
                           want_kind, want_prefix, want_offset);                           \
    } while (0)

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

START_TEST(version)
{
    ck_assert_str_eq(wj_version(), "0.1.0");
    ck_assert_int_eq(WJ_VERSION_MAJOR, 0);
    ck_assert_int_eq(WJ_VERSION_MINOR, 1);
    ck_assert_int_eq(WJ_VERSION_PATCH, 0);
}
END_TEST

START_TEST(names_of_types_and_kinds)
{
    ck_assert_str_eq(wj_valtype_name(WJ_I32), "i32");
    ck_assert_str_eq(wj_valtype_name(WJ_I64), "i64");
    ck_assert_str_eq(wj_valtype_name(WJ_F32), "f32");
    ck_assert_str_eq(wj_valtype_name(WJ_F64), "f64");
    ck_assert_str_eq(wj_valtype_name(WJ_V128), "v128");
    ck_assert_str_eq(wj_valtype_name(WJ_FUNCREF), "funcref");
    ck_assert_str_eq(wj_valtype_name(WJ_EXTERNREF), "externref");
    ck_assert_str_eq(wj_valtype_name((wj_valtype)0x40), "?");
    ck_assert_str_eq(wj_extern_kind_name(WJ_EXTERN_FUNC), "func");
    ck_assert_str_eq(wj_extern_kind_name(WJ_EXTERN_TABLE), "table");
    ck_assert_str_eq(wj_extern_kind_name(WJ_EXTERN_MEMORY), "memory");
    ck_assert_str_eq(wj_extern_kind_name(WJ_EXTERN_GLOBAL), "global");
    ck_assert_str_eq(wj_extern_kind_name((wj_extern_kind)4), "?");
}
END_TEST

/* ---- configuration and engine -------------------------------------------------- */

START_TEST(config_features)
{
    wj_config *c = wj_config_new();
    ck_assert_ptr_nonnull(c);
    /* Wasm 2.0 (SIMD) on, proposals off */
    ck_assert(wj_config_get_feature(c, WJ_FEATURE_SIMD));
    ck_assert(!wj_config_get_feature(c, WJ_FEATURE_MEMORY64));
    ck_assert(!wj_config_get_feature(c, WJ_FEATURE_MULTI_MEMORY));

    wj_config_set_feature(c, WJ_FEATURE_MEMORY64, true);
    ck_assert(wj_config_get_feature(c, WJ_FEATURE_MEMORY64));
    ck_assert(!wj_config_get_feature(c, WJ_FEATURE_MULTI_MEMORY));
    /* several at once: all of them */
    ck_assert(wj_config_get_feature(c, WJ_FEATURE_SIMD | WJ_FEATURE_MEMORY64));
    ck_assert(!wj_config_get_feature(c, WJ_FEATURE_MEMORY64 | WJ_FEATURE_MULTI_MEMORY));

    wj_config_set_feature(c, WJ_FEATURE_SIMD, false);
    ck_assert(!wj_config_get_feature(c, WJ_FEATURE_SIMD));
    ck_assert(wj_config_get_feature(c, WJ_FEATURE_MEMORY64));
    wj_config_set_feature(c, WJ_FEATURE_SIMD, true);
    wj_config_set_feature(c, WJ_FEATURE_SIMD, true); /* idempotent */
    ck_assert(wj_config_get_feature(c, WJ_FEATURE_SIMD));
    wj_config_delete(c);
}
END_TEST

START_TEST(delete_functions_take_null)
{
    wj_error_delete(NULL);
    wj_module_delete(NULL);
    wj_engine_delete(NULL);
    wj_config_delete(NULL);
    /* reached without a crash; now the same after real objects */
    wj_config *c = wj_config_new();
    wj_engine *e = wj_engine_new(c);
    ck_assert_ptr_nonnull(e);
    wj_engine_delete(e);
    wj_config_delete(c);
}
END_TEST

/* One module per feature: a v128 global, a 64-bit memory, two memories. */
static void simd_module(wb *b)
{
    wb_header(b);
    wb_sec(b, 6, 1, 0x7b, 0, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b);
}

static void memory64_module(wb *b)
{
    wb_header(b);
    wb_sec(b, 5, 1, 0x04, 1);
}

static void two_memories_module(wb *b)
{
    wb_header(b);
    wb_sec(b, 5, 2, 0, 1, 0, 1);
}

START_TEST(engine_features)
{
    wb simd = {0}, mem64 = {0}, two = {0};
    simd_module(&simd);
    memory64_module(&mem64);
    two_memories_module(&two);

    /* defaults */
    wj_engine *e = wj_engine_new(NULL);
    ck_assert_no_wj_error(wj_module_validate(e, simd.data, simd.len));
    wj_error *err = wj_module_validate(e, mem64.data, mem64.len);
    ck_assert_wj_error(err, WJ_ERROR_MALFORMED, "integer too large", 11);
    wj_error_delete(err);
    err = wj_module_validate(e, two.data, two.len);
    ck_assert_wj_error(err, WJ_ERROR_INVALID, "multiple memories", 10);
    wj_error_delete(err);
    wj_engine_delete(e);

    /* all proposals on, SIMD off */
    wj_config *c = wj_config_new();
    wj_config_set_feature(c, WJ_FEATURE_SIMD, false);
    wj_config_set_feature(c, WJ_FEATURE_MEMORY64, true);
    wj_config_set_feature(c, WJ_FEATURE_MULTI_MEMORY, true);
    e = wj_engine_new(c);
    /* the engine has its own copy */
    wj_config_set_feature(c, WJ_FEATURE_SIMD, true);
    wj_config_delete(c);
    err = wj_module_validate(e, simd.data, simd.len);
    ck_assert_wj_error(err, WJ_ERROR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", 11);
    wj_error_delete(err);
    ck_assert_no_wj_error(wj_module_validate(e, mem64.data, mem64.len));
    ck_assert_no_wj_error(wj_module_validate(e, two.data, two.len));
    wj_engine_delete(e);

    wb_free(&simd);
    wb_free(&mem64);
    wb_free(&two);
}
END_TEST

/* ---- modules --------------------------------------------------------------------- */

/* Offsets of the sections' contents in the introspection module. */
static size_t sec_at[9];

/* Imports: func 0, table 0, memory 0, global 0; defines func 1 and 2,
 * table 1, global 1; exports, start, a custom section. */
static void full_module(wb *b)
{
    wb_header(b);
    sec_at[0] = wb_sec(b, 1, 2, 0x60, 2, 0x7f, 0x7e, 1, 0x7d, 0x60, 0, 0);
    sec_at[1] = wb_sec(b, 2, 4,
                       3, 'e', 'n', 'v', 1, 'f', 0x00, 0,
                       3, 'e', 'n', 'v', 3, 't', 'a', 'b', 0x01, 0x6f, 0x01, 2, 5,
                       3, 'e', 'n', 'v', 3, 'm', 'e', 'm', 0x02, 0x00, 1,
                       3, 'e', 'n', 'v', 3, 'g', 0, 'x', 0x03, 0x7c, 1);
    sec_at[2] = wb_sec(b, 3, 2, 1, 0);
    sec_at[3] = wb_sec(b, 4, 1, 0x70, 0x01, 0, 0x10);
    sec_at[4] = wb_sec(b, 6, 1, 0x7f, 0, 0x41, 42, 0x0b);
    sec_at[5] = wb_sec(b, 7, 5,
                       5, 's', 't', 'a', 'r', 't', 0, 1,
                       3, 'm', 'e', 'm', 2, 0,
                       1, 't', 1, 1,
                       1, 'g', 3, 1,
                       3, 'a', 0, 'b', 0, 2);
    sec_at[6] = wb_sec(b, 8, 1);
    sec_at[7] = wb_sec(b, 10, 2, 2, 0, 0x0b, 7, 0, 0x43, 0, 0, 0, 0, 0x0b);
    sec_at[8] = wb_sec(b, 0, 4, 'm', 'e', 't', 'a', 'x', 'y', 'z');
}

START_TEST(module_introspection)
{
    wb b = {0};
    full_module(&b);
    wj_engine *e = wj_engine_new(NULL);
    wj_module *m = (wj_module *)0x1;
    wj_error *err = wj_module_new(e, b.data, b.len, &m);
    ck_assert_no_wj_error(err);
    ck_assert_ptr_nonnull(m);
    /* the module keeps its own copy of the bytes */
    memset(b.data, 0xee, b.len);
    wb_free(&b);

    /* imports */
    ck_assert_uint_eq(wj_module_import_count(m), 4);
    wj_import_info imp;
    static const wj_extern_kind kinds[] = {WJ_EXTERN_FUNC, WJ_EXTERN_TABLE, WJ_EXTERN_MEMORY,
                                           WJ_EXTERN_GLOBAL};
    static const char *const names[] = {"f", "tab", "mem", "g\0x"};
    static const size_t name_lens[] = {1, 3, 3, 3};
    for (size_t i = 0; i < 4; i++) {
        ck_assert(wj_module_import(m, i, &imp));
        ck_assert_uint_eq(imp.module_len, 3);
        ck_assert_str_eq(imp.module, "env");
        ck_assert_uint_eq(imp.name_len, name_lens[i]);
        ck_assert_int_eq(memcmp(imp.name, names[i], name_lens[i] + 1), 0); /* NUL-terminated */
        ck_assert_int_eq(imp.kind, kinds[i]);
        ck_assert_uint_eq(imp.index, 0);
    }
    ck_assert(!wj_module_import(m, 4, &imp));

    /* exports */
    ck_assert_uint_eq(wj_module_export_count(m), 5);
    wj_export_info exp;
    ck_assert(wj_module_export(m, 0, &exp));
    ck_assert_str_eq(exp.name, "start");
    ck_assert_uint_eq(exp.name_len, 5);
    ck_assert_int_eq(exp.kind, WJ_EXTERN_FUNC);
    ck_assert_uint_eq(exp.index, 1);
    ck_assert(wj_module_export(m, 1, &exp));
    ck_assert_int_eq(exp.kind, WJ_EXTERN_MEMORY);
    ck_assert_uint_eq(exp.index, 0);
    ck_assert(wj_module_export(m, 2, &exp));
    ck_assert_int_eq(exp.kind, WJ_EXTERN_TABLE);
    ck_assert_uint_eq(exp.index, 1);
    ck_assert(wj_module_export(m, 3, &exp));
    ck_assert_int_eq(exp.kind, WJ_EXTERN_GLOBAL);
    ck_assert_uint_eq(exp.index, 1);
    ck_assert(wj_module_export(m, 4, &exp));
    ck_assert_uint_eq(exp.name_len, 3);
    ck_assert_int_eq(memcmp(exp.name, "a\0b", 4), 0);
    ck_assert_uint_eq(exp.index, 2);
    ck_assert(!wj_module_export(m, 5, &exp));

    /* sections, in module order */
    static const struct {
        uint8_t id;
        const char *name;
        uint64_t size;
    } sections[] = {{1, "type", 10},   {2, "import", 44}, {3, "function", 3},
                    {4, "table", 5},   {6, "global", 6},  {7, "export", 29},
                    {8, "start", 1},   {10, "code", 12},  {0, "meta", 8}};
    ck_assert_uint_eq(wj_module_section_count(m), 9);
    wj_section_info sec;
    for (size_t i = 0; i < 9; i++) {
        ck_assert(wj_module_section(m, i, &sec));
        ck_assert_uint_eq(sec.id, sections[i].id);
        ck_assert_str_eq(sec.name, sections[i].name);
        ck_assert_uint_eq(sec.name_len, strlen(sections[i].name));
        ck_assert_uint_eq(sec.offset, sec_at[i]);
        ck_assert_uint_eq(sec.size, sections[i].size);
    }
    ck_assert(!wj_module_section(m, 9, &sec));

    /* functions: imports first */
    ck_assert_uint_eq(wj_module_func_count(m), 3);
    wj_functype ft;
    ck_assert(wj_module_func_type(m, 0, &ft));
    ck_assert_uint_eq(ft.param_count, 2);
    ck_assert_uint_eq(ft.params[0], WJ_I32);
    ck_assert_uint_eq(ft.params[1], WJ_I64);
    ck_assert_uint_eq(ft.result_count, 1);
    ck_assert_uint_eq(ft.results[0], WJ_F32);
    ck_assert(wj_module_func_type(m, 1, &ft));
    ck_assert_uint_eq(ft.param_count, 0);
    ck_assert_uint_eq(ft.result_count, 0);
    ck_assert(wj_module_func_type(m, 2, &ft));
    ck_assert_uint_eq(ft.param_count, 2);
    ck_assert_uint_eq(ft.results[0], WJ_F32);
    ck_assert(!wj_module_func_type(m, 3, &ft));

    /* tables */
    ck_assert_uint_eq(wj_module_table_count(m), 2);
    wj_tabletype tt;
    ck_assert(wj_module_table_type(m, 0, &tt));
    ck_assert_int_eq(tt.elem, WJ_EXTERNREF);
    ck_assert_uint_eq(tt.limits.min, 2);
    ck_assert(tt.limits.has_max);
    ck_assert_uint_eq(tt.limits.max, 5);
    ck_assert(!tt.limits.is64);
    ck_assert(wj_module_table_type(m, 1, &tt));
    ck_assert_int_eq(tt.elem, WJ_FUNCREF);
    ck_assert_uint_eq(tt.limits.min, 0);
    ck_assert_uint_eq(tt.limits.max, 16);
    ck_assert(!wj_module_table_type(m, 2, &tt));

    /* memories */
    ck_assert_uint_eq(wj_module_memory_count(m), 1);
    wj_limits lim;
    ck_assert(wj_module_memory_type(m, 0, &lim));
    ck_assert_uint_eq(lim.min, 1);
    ck_assert(!lim.has_max);
    ck_assert(!lim.is64);
    ck_assert(!lim.shared);
    ck_assert(!wj_module_memory_type(m, 1, &lim));

    /* globals */
    ck_assert_uint_eq(wj_module_global_count(m), 2);
    wj_globaltype gt;
    ck_assert(wj_module_global_type(m, 0, &gt));
    ck_assert_int_eq(gt.type, WJ_F64);
    ck_assert(gt.mutable_);
    ck_assert(wj_module_global_type(m, 1, &gt));
    ck_assert_int_eq(gt.type, WJ_I32);
    ck_assert(!gt.mutable_);
    ck_assert(!wj_module_global_type(m, 2, &gt));

    /* start */
    uint32_t start = 99;
    ck_assert(wj_module_start(m, &start));
    ck_assert_uint_eq(start, 1);
    ck_assert(wj_module_start(m, NULL));

    /* no name section */
    size_t len = 7;
    ck_assert_ptr_null(wj_module_name(m, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_null(wj_module_func_name(m, 0, &len));
    ck_assert_ptr_null(wj_module_local_name(m, 1, 0, NULL));

    wj_module_delete(m);
    wj_engine_delete(e);
}
END_TEST

START_TEST(memory64_limits)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 5, 1, 0x05, 1, 0x80, 0x80, 0x80, 0x80, 0x10);
    wj_config *c = wj_config_new();
    wj_config_set_feature(c, WJ_FEATURE_MEMORY64, true);
    wj_engine *e = wj_engine_new(c);
    wj_config_delete(c);
    wj_module *m = NULL;
    ck_assert_no_wj_error(wj_module_decode(e, b.data, b.len, &m));
    wj_limits lim;
    ck_assert(wj_module_memory_type(m, 0, &lim));
    ck_assert(lim.is64);
    ck_assert(lim.has_max);
    ck_assert_uint_eq(lim.min, 1);
    ck_assert_uint_eq(lim.max, 1ull << 32);
    uint32_t start = 5;
    ck_assert(!wj_module_start(m, &start));
    ck_assert_uint_eq(start, 5);
    ck_assert_uint_eq(wj_module_import_count(m), 0);
    ck_assert_uint_eq(wj_module_func_count(m), 0);
    wj_module_delete(m);
    wj_engine_delete(e);
    wb_free(&b);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

START_TEST(errors)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_module *m = (wj_module *)0x1;
    wb b = {0};

    /* malformed */
    wb_header(&b);
    wb_raw(&b, 13, 0);
    wj_error *err = wj_module_new(e, b.data, b.len, &m);
    ck_assert_ptr_null(m); /* cleared on failure */
    ck_assert_wj_error(err, WJ_ERROR_MALFORMED, "malformed section id", 8);
    ck_assert_str_eq(wj_error_message(err), "malformed section id");
    wj_error_delete(err);
    err = wj_module_validate(e, b.data, b.len);
    ck_assert_wj_error(err, WJ_ERROR_MALFORMED, "malformed section id", 8);
    wj_error_delete(err);
    wb_free(&b);

    /* empty input */
    static const uint8_t nothing[1];
    err = wj_module_new(e, nothing, 0, &m);
    ck_assert_wj_error(err, WJ_ERROR_MALFORMED, "unexpected end", 0);
    wj_error_delete(err);

    /* invalid: i32.add on an empty stack */
    size_t body = wb_module(&b, &(wb_spec){.body = WB_BLOB(0, 0x6a, 0x1a, 0x0b)});
    err = wj_module_new(e, b.data, b.len, &m);
    ck_assert_ptr_null(m);
    ck_assert_wj_error(err, WJ_ERROR_INVALID, "type mismatch", body + 1);
    wj_error_delete(err);
    err = wj_module_validate(e, b.data, b.len);
    ck_assert_wj_error(err, WJ_ERROR_INVALID, "type mismatch", body + 1);
    wj_error_delete(err);
    wb_free(&b);

    /* valid */
    wb_module(&b, &(wb_spec){.body = WB_BLOB(0, 0x41, 1, 0x41, 2, 0x6a, 0x1a, 0x0b)});
    ck_assert_no_wj_error(wj_module_validate(e, b.data, b.len));
    ck_assert_no_wj_error(wj_module_new(e, b.data, b.len, &m));
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(wj_module_func_count(m), 1);
    wj_module_delete(m);
    wb_free(&b);

    /* over 4 GiB: refused before the bytes are read */
    err = wj_module_new(e, nothing, (size_t)UINT32_MAX + 1, &m);
    ck_assert_ptr_null(m);
    ck_assert_wj_error(err, WJ_ERROR_RESOURCE, "module too large", WJ_NO_OFFSET);
    wj_error_delete(err);

    wj_engine_delete(e);
}
END_TEST

/* The error kinds' numbers are part of the ABI. */
START_TEST(error_kind_values)
{
    ck_assert_int_eq(WJ_ERROR_MALFORMED, 1);
    ck_assert_int_eq(WJ_ERROR_INVALID, 2);
    ck_assert_int_eq(WJ_ERROR_UNSUPPORTED, 3);
    ck_assert_int_eq(WJ_ERROR_RESOURCE, 4);
    ck_assert_uint_eq(WJ_NO_OFFSET, UINT64_MAX);
}
END_TEST

/* Modules outlive the bytes they were made from and each other. */
START_TEST(many_modules)
{
    wj_engine *e = wj_engine_new(NULL);
    wj_module *mods[8];
    wb b = {0};
    full_module(&b);
    for (int i = 0; i < 8; i++)
        ck_assert_no_wj_error(wj_module_new(e, b.data, b.len, &mods[i]));
    wb_free(&b);
    for (int i = 0; i < 8; i += 2)
        wj_module_delete(mods[i]);
    for (int i = 1; i < 8; i += 2) {
        wj_export_info exp;
        ck_assert(wj_module_export(mods[i], 0, &exp));
        ck_assert_str_eq(exp.name, "start");
        wj_module_delete(mods[i]);
    }
    wj_engine_delete(e);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, version);
    tcase_add_test(tc, names_of_types_and_kinds);
    tcase_add_test(tc, config_features);
    tcase_add_test(tc, delete_functions_take_null);
    tcase_add_test(tc, engine_features);
    tcase_add_test(tc, module_introspection);
    tcase_add_test(tc, memory64_limits);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, error_kind_values);
    tcase_add_test(tc, many_modules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(api_suite());
}
