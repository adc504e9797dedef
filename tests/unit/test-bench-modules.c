/* The generated modules of bench/instantiate (bench/modules.c) through the
 * public API: each one compiles and instantiates, its memory holds the data
 * segments, and every table slot of `small` and `large` dispatches to the
 * function bench_table_func names, which returns what bench_func_result
 * says. So the benchmark measures modules that are what it claims. */
#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "modules.h" /* bench/ */
#include "unit.h"

typedef struct fixture {
    wj_engine *engine;
    wj_store *store;
    wj_module *module;
    wj_instance *instance;
    bench_module bytes;
} fixture;

static fixture instantiate_shape(bench_shape shape)
{
    fixture f = {.engine = wj_engine_new(NULL), .bytes = bench_module_build(shape)};
    ck_assert_ptr_nonnull(f.engine);
    ck_assert_ptr_nonnull(f.bytes.bytes);
    wj_error *err = wj_module_new(f.engine, f.bytes.bytes, f.bytes.len, &f.module);
    ck_assert_msg(err == NULL, "%s: %s", bench_shape_name(shape), wj_error_message(err));
    f.store = wj_store_new(f.engine);
    ck_assert_ptr_nonnull(f.store);
    wj_trap *trap = NULL;
    err = wj_instance_new(f.store, f.module, NULL, 0, &f.instance, &trap);
    ck_assert_msg(err == NULL && trap == NULL, "instantiating %s failed", bench_shape_name(shape));
    return f;
}

static void fixture_free(fixture *f)
{
    wj_store_delete(f->store);
    wj_module_delete(f->module);
    wj_engine_delete(f->engine);
    bench_module_free(&f->bytes);
}

static wj_extern export_of(const fixture *f, const char *name, wj_extern_kind kind)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(f->instance, name, strlen(name), &ext), "no export %s", name);
    ck_assert_int_eq(ext.kind, kind);
    return ext;
}

START_TEST(empty_module_has_nothing)
{
    fixture f = instantiate_shape(BENCH_EMPTY);
    ck_assert_uint_eq(f.bytes.len, 8);
    ck_assert_uint_eq(wj_module_export_count(f.module), 0);
    ck_assert_uint_eq(wj_module_func_count(f.module), 0);
    fixture_free(&f);
}
END_TEST

START_TEST(memory_module_has_one_zeroed_page)
{
    fixture f = instantiate_shape(BENCH_MEMORY);
    wj_memory *mem = export_of(&f, "memory", WJ_EXTERN_MEMORY).of.memory;
    ck_assert_uint_eq(wj_memory_size(mem), 1);
    for (size_t i = 0; i < 65536; i++)
        ck_assert_uint_eq(wj_memory_data(mem)[i], 0);
    fixture_free(&f);
}
END_TEST

/* The data segments of the shapes with data (_i: data, small, large). */
START_TEST(data_segments_are_in_memory)
{
    static const bench_shape shapes[] = {BENCH_DATA, BENCH_SMALL, BENCH_LARGE};
    fixture f = instantiate_shape(shapes[_i]);
    wj_memory *mem = export_of(&f, "memory", WJ_EXTERN_MEMORY).of.memory;
    ck_assert_uint_eq(wj_memory_size(mem), BENCH_DATA_PAGES);
    const uint8_t *data = wj_memory_data(mem);
    for (uint32_t i = 0; i < BENCH_DATA_SIZE; i++)
        ck_assert_uint_eq(data[BENCH_DATA_OFFSET + i], bench_data_byte(i));
    ck_assert_uint_eq(data[BENCH_DATA_OFFSET - 1], 0);
    ck_assert_uint_eq(data[BENCH_DATA_OFFSET + BENCH_DATA_SIZE], 0);
    ck_assert_mem_eq(data + 16, "wasmjail", 8);
    ck_assert_uint_eq(data[5 * 65536 + 2], 0);
    for (uint32_t i = 0; i < 64; i++)
        ck_assert_uint_eq(data[5 * 65536 + 3 + i], 0xa5);
    ck_assert_uint_eq(data[5 * 65536 + 3 + 64], 0);
    ck_assert_mem_eq(data + (BENCH_DATA_PAGES - 1) * 65536, "0123456789abcdef", 16);
    fixture_free(&f);
}
END_TEST

/* Every slot of the table (_i: small, large) through "dispatch". */
START_TEST(every_table_slot_dispatches)
{
    static const bench_shape shapes[] = {BENCH_SMALL, BENCH_LARGE};
    static const uint32_t funcs[] = {BENCH_SMALL_FUNCS, BENCH_LARGE_FUNCS};
    static const uint32_t slots[] = {BENCH_SMALL_SLOTS, BENCH_LARGE_SLOTS};
    fixture f = instantiate_shape(shapes[_i]);
    ck_assert_uint_eq(f.bytes.nfuncs, funcs[_i]);
    ck_assert_uint_eq(f.bytes.nslots, slots[_i]);
    ck_assert_uint_eq(wj_module_func_count(f.module), funcs[_i]);
    wj_table *table = export_of(&f, "table", WJ_EXTERN_TABLE).of.table;
    ck_assert_uint_eq(wj_table_size(table), slots[_i]);
    wj_func *dispatch = export_of(&f, "dispatch", WJ_EXTERN_FUNC).of.func;
    for (uint32_t slot = 0; slot < slots[_i]; slot++) {
        uint32_t x = slot * 2654435761u;
        wj_val args[2] = {{.kind = WJ_I32, .of.i32 = (int32_t)slot},
                          {.kind = WJ_I32, .of.i32 = (int32_t)x}};
        wj_val result;
        wj_trap *trap = NULL;
        wj_error *err = wj_func_call(dispatch, args, 2, &result, 1, &trap);
        ck_assert_msg(err == NULL && trap == NULL, "dispatch(%u) failed", slot);
        uint32_t want = bench_func_result(bench_table_func(funcs[_i], slot), x);
        ck_assert_msg((uint32_t)result.of.i32 == want, "dispatch(%u, %u) = %u, expected %u",
                      slot, x, (uint32_t)result.of.i32, want);
    }
    fixture_free(&f);
}
END_TEST

/* The five bodies, by hand for a few functions: bench_func_result is what
 * the test above relies on, so it is checked on its own here. */
START_TEST(func_results_by_hand)
{
    ck_assert_uint_eq(bench_func_result(0, 5), 5);              /* x + 0 */
    ck_assert_uint_eq(bench_func_result(1, 5), 5 ^ 7);          /* (x * 1) ^ 7 */
    ck_assert_uint_eq(bench_func_result(2, 5), (5 ^ 7) + 1);    /* f1(x) + 1 */
    /* 7x + the little-endian word at 12 of the segment: bytes 12*131+7... */
    uint32_t word = (uint32_t)(uint8_t)(12 * 131 + 7) | (uint32_t)(uint8_t)(13 * 131 + 7) << 8 |
                    (uint32_t)(uint8_t)(14 * 131 + 7) << 16 |
                    (uint32_t)(uint8_t)(15 * 131 + 7) << 24;
    ck_assert_uint_eq(bench_func_result(3, 5), 35 + word);
    ck_assert_uint_eq(bench_func_result(4, 5), 5);              /* 5 > 4 */
    ck_assert_uint_eq(bench_func_result(9, 5), 9);              /* 5 > 9 is false */
    ck_assert_uint_eq(bench_func_result(9, UINT32_MAX), 9);     /* signed: -1 < 9 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench-modules");
    TCase *tc = tcase_create("generated");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, empty_module_has_nothing);
    tcase_add_test(tc, memory_module_has_one_zeroed_page);
    tcase_add_loop_test(tc, data_segments_are_in_memory, 0, 3);
    tcase_add_loop_test(tc, every_table_slot_dispatches, 0, 2);
    tcase_add_test(tc, func_results_by_hand);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
