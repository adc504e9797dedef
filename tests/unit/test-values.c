/* Multi-value and references under both tiers (unit_run_tiers): functions
 * returning several values (from wasm and from the host), calls with
 * several results in a loop with values live across them, table elements
 * made on first use, ref.func, call_indirect through table.set,
 * references in locals, select, globals and the table libcalls, and the
 * operands of libcalls (table.copy, memory.copy).
 *
 * Test modules are written in the text format and converted at test time
 * by wabt's wat2wasm (wat.h). */
#include <stdint.h>
#include <stdio.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"

static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }
static wj_val v_ext(void *p) { return (wj_val){.kind = WJ_EXTERNREF, .of.externref = p}; }

/* Three results of mixed types from parameters, called from the host and
 * from wasm. */
START_TEST(three_results)
{
    fixture fx;
    fx_open(&fx,
            "(module\n"
            " (func $three (export \"three\") (param $a i32) (param $b f64) (param $c i64)\n"
            "   (result i64 i32 f64)\n"
            "  (i64.add (local.get $c) (i64.const 1))\n"
            "  (i32.mul (local.get $a) (i32.const 3))\n"
            "  (f64.add (local.get $b) (f64.const 0.5)))\n"
            " (func (export \"use\") (param i32) (result i64)\n"
            "  (local $x f64)\n"
            "  (call $three (local.get 0) (f64.const 2.25) (i64.const 1000))\n"
            "  local.set $x\n"
            "  i64.extend_i32_u i64.const 100000 i64.mul\n"
            "  local.get $x f64.const 4 f64.mul i64.trunc_f64_s i64.add\n"
            "  i64.add))",
            NULL);
    wj_val args[3] = {v_i32(7), v_f64(1.25), v_i64(-5)}, res[3];
    ck_assert_no_trap(fx_call(&fx, "three", args, 3, res));
    ck_assert_int_eq(res[0].kind, WJ_I64);
    ck_assert_int_eq(res[0].of.i64, -4);
    ck_assert_int_eq(res[1].of.i32, 21);
    ck_assert_msg(res[2].of.f64 == 1.75, "f64 result %g", res[2].of.f64);
    /* 1001 + 2100000 + (2.75 * 4) */
    wj_val arg = v_i32(7);
    ck_assert_no_trap(fx_call(&fx, "use", &arg, 1, res));
    ck_assert_int_eq(res[0].of.i64, 1001 + 2100000 + 11);
    fx_close(&fx);
}
END_TEST

/* Ten results, the parameters rotated: more values than registers, so
 * some parameters are read from their homes, where results go too. */
START_TEST(results_over_parameters)
{
    fixture fx;
    fx_open(&fx,
            "(module\n"
            " (func $rot (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
            "   (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
            "  (local.get 9) (local.get 0) (local.get 1) (local.get 2) (local.get 3)\n"
            "  (local.get 4) (local.get 5) (local.get 6) (local.get 7) (local.get 8))\n"
            " (func (export \"sum\") (result i64)\n"
            "  (local $s i64)\n"
            "  (call $rot (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)\n"
            "             (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10))\n"
            "  i64.const 1 i64.mul local.set $s\n"
            "  i64.const 2 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 3 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 4 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 5 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 6 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 7 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 8 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 9 i64.mul local.get $s i64.add local.set $s\n"
            "  i64.const 10 i64.mul local.get $s i64.add))",
            NULL);
    /* the results popped last first: result k (k = 9..0) times 10 - k */
    int64_t want = 0;
    for (int k = 9; k >= 0; k--)
        want += (k == 0 ? 10 : k) * (10 - k);
    wj_val res;
    ck_assert_no_trap(fx_call(&fx, "sum", NULL, 0, &res));
    ck_assert_int_eq(res.of.i64, want);
    fx_close(&fx);
}
END_TEST

/* A call with 16 results (and no parameters: the results need the
 * outgoing area, more than the frame's slack) in a loop, with counters and
 * a float live across it. */
START_TEST(several_results_in_a_loop)
{
    fixture fx;
    fx_open(&fx,
            "(module\n"
            " (global $g (mut i32) (i32.const 0))\n"
            " (func $next (result i32 i64 f64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)\n"
            "  (global.set $g (i32.add (global.get $g) (i32.const 1)))\n"
            "  (global.get $g)\n"
            "  (i64.mul (i64.extend_i32_u (global.get $g)) (i64.const 1000))\n"
            "  (f64.convert_i32_u (global.get $g))\n"
            "  (i32.mul (global.get $g) (i32.const 2))\n"
            "  (i32.mul (global.get $g) (i32.const 3))\n"
            "  (i32.mul (global.get $g) (i32.const 4))\n"
            "  (i32.mul (global.get $g) (i32.const 5))\n"
            "  (i32.mul (global.get $g) (i32.const 6))\n"
            "  (i32.mul (global.get $g) (i32.const 7))\n"
            "  (i32.mul (global.get $g) (i32.const 8))\n"
            "  (i32.mul (global.get $g) (i32.const 9))\n"
            "  (i32.mul (global.get $g) (i32.const 10))\n"
            "  (i32.mul (global.get $g) (i32.const 11))\n"
            "  (i32.mul (global.get $g) (i32.const 12))\n"
            "  (i32.mul (global.get $g) (i32.const 13))\n"
            "  (i32.mul (global.get $g) (i32.const 14)))\n"

            " (func (export \"run\") (param $n i32) (result i64)\n"
            "  (local $i i32) (local $a i32) (local $b i64) (local $c f64) (local $k i64)\n"
            "  (local $w f64) (local $e i32)\n"
            "  (local.set $k (i64.const 7)) (local.set $w (f64.const 0.5))\n"
            "  (loop $l\n"
            "   call $next\n"
            "   i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add\n"
            "   i32.add i32.add local.set $e\n"
            "   local.get $w f64.mul local.get $c f64.add local.set $c\n"
            "   local.get $k i64.mul local.get $b i64.add local.set $b\n"
            "   local.get $a i32.add local.get $e i32.add local.set $a\n"
            "   (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
            "                       (local.get $n))))\n"
            "  (i64.add (i64.add (local.get $b) (i64.extend_i32_u (local.get $a)))\n"
            "           (i64.add (i64.trunc_f64_s (local.get $c))\n"
            "                    (i64.mul (local.get $k) (i64.extend_i32_u (local.get $i)))))))",
            NULL);
    /* n = 10: a = 55 * (1 + 2 + ... + 14), b = 7 * 55000, c = 27.5, k * i = 70 */
    wj_val arg = v_i32(10), res;
    ck_assert_no_trap(fx_call(&fx, "run", &arg, 1, &res));
    ck_assert_int_eq(res.of.i64, 7 * 55000 + 55 * 105 + 27 + 70);
    fx_close(&fx);
}
END_TEST

/* A call whose results need more room than the caller's frame has
 * otherwise: the outgoing area is sized for them. */
START_TEST(results_wider_than_the_frame)
{
    fixture fx;
    fx_open(&fx,
            "(module\n"
            " (func $many (result i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)\n"
            "  i32.const 1 i32.const 2 i32.const 3 i32.const 4 i32.const 5 i32.const 6\n"
            "  i32.const 7 i32.const 8 i32.const 9 i32.const 10 i32.const 11 i32.const 12)\n"
            " (func (export \"first\") (result i32)\n"
            "  call $many drop drop drop drop drop drop drop drop drop drop drop))",
            NULL);
    wj_val res;
    ck_assert_no_trap(fx_call(&fx, "first", NULL, 0, &res));
    ck_assert_int_eq(res.of.i32, 1);
    fx_close(&fx);
}
END_TEST

static const char *const funcs_wat =
    "(module\n"
    " (type $v (func (result i32)))\n"
    " (table $t 3 funcref) (table $u 2 funcref)\n"
    " (elem (table $t) (i32.const 0) func $f $g)\n"
    " (func $f (result i32) (i32.const 11))\n"
    " (func $g (result i32) (i32.const 22))\n"
    " (func (export \"get\") (param i32) (result funcref) (table.get $t (local.get 0)))\n"
    " (func (export \"is_null\") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))\n"
    " (func (export \"pair\") (result funcref funcref)\n"
    "  (ref.func $g) (table.get $t (i32.const 1)))\n"
    " (func (export \"set_call\") (param i32) (result i32)\n"
    "  (table.set $u (local.get 0) (ref.func $g))\n"
    "  (call_indirect $u (type $v) (local.get 0)))\n"
    " (func (export \"set_null_call\") (result i32)\n"
    "  (table.set $u (i32.const 1) (ref.null func))\n"
    "  (call_indirect $u (type $v) (i32.const 1))))";

/* table.get of an element not made yet (the elem segment's, on first use). */
START_TEST(table_get_makes_the_element)
{
    fixture fx;
    fx_open(&fx, funcs_wat, NULL);
    wj_val arg = v_i32(0), res;
    ck_assert_no_trap(fx_call(&fx, "is_null", &arg, 1, &res));
    ck_assert_int_eq(res.of.i32, 0);
    arg = v_i32(1);
    ck_assert_no_trap(fx_call(&fx, "get", &arg, 1, &res));
    ck_assert_int_eq(res.kind, WJ_FUNCREF);
    ck_assert_ptr_nonnull(res.of.funcref);
    wj_val got;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(res.of.funcref, NULL, 0, &got, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(got.of.i32, 22);
    arg = v_i32(2); /* never set: null */
    ck_assert_no_trap(fx_call(&fx, "is_null", &arg, 1, &res));
    ck_assert_int_eq(res.of.i32, 1);
    arg = v_i32(3);
    trap = fx_call(&fx, "get", &arg, 1, &res);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_TABLE_OUT_OF_BOUNDS);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* ref.func (made on first use) and the element of the same function are
 * the same reference; it can be called. */
START_TEST(ref_func_equality)
{
    fixture fx;
    fx_open(&fx, funcs_wat, NULL);
    wj_val res[2];
    ck_assert_no_trap(fx_call(&fx, "pair", NULL, 0, res));
    ck_assert_ptr_nonnull(res[0].of.funcref);
    ck_assert_ptr_eq(res[0].of.funcref, res[1].of.funcref);
    wj_val got;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(res[0].of.funcref, NULL, 0, &got, 1, &trap));
    ck_assert_no_trap(trap);
    ck_assert_int_eq(got.of.i32, 22);
    fx_close(&fx);
}
END_TEST

/* call_indirect through an element table.set wrote (tagged), and through
 * a null it wrote. */
START_TEST(call_indirect_after_table_set)
{
    fixture fx;
    fx_open(&fx, funcs_wat, NULL);
    wj_val arg = v_i32(0), res;
    ck_assert_no_trap(fx_call(&fx, "set_call", &arg, 1, &res));
    ck_assert_int_eq(res.of.i32, 22);
    wj_trap *trap = fx_call(&fx, "set_null_call", NULL, 0, &res);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNINITIALIZED_ELEMENT);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* externrefs through locals (null at first, across a call), select, a
 * global, table.get/set and the table libcalls (grow, fill, copy, size). */
START_TEST(externrefs)
{
    fixture fx;
    fx_open(&fx,
            "(module\n"
            " (table $t 1 externref)\n"
            " (global $r (mut externref) (ref.null extern))\n"
            " (func $id (param i32) (result i32) (local.get 0))\n"
            " (func (export \"null_local\") (result i32) (local $x externref)\n"
            "  (drop (call $id (i32.const 1)))\n"
            "  (ref.is_null (local.get $x)))\n"
            " (func (export \"pick\") (param externref externref i32) (result externref)\n"
            "  (global.set $r (select (result externref) (local.get 0) (local.get 1) (local.get 2)))\n"
            "  (drop (call $id (i32.const 0)))\n"
            "  (global.get $r))\n"
            " (func (export \"grow\") (param externref) (result i32)\n"
            "  (drop (table.grow $t (local.get 0) (i32.const 3)))\n"
            "  (table.fill $t (i32.const 0) (ref.null extern) (i32.const 2))\n"
            "  (table.copy $t $t (i32.const 0) (i32.const 3) (i32.const 1))\n"
            "  (i32.add (table.size $t)\n"
            "   (i32.add (i32.mul (ref.is_null (table.get $t (i32.const 0))) (i32.const 10))\n"
            "            (i32.mul (ref.is_null (table.get $t (i32.const 1))) (i32.const 100)))))\n"
            " (func (export \"set\") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))\n"
            " (func (export \"get\") (param i32) (result externref) (table.get $t (local.get 0)))\n"
            " (func (export \"copy\") (param i32 i32 i32)\n"
            "  (table.copy $t $t (local.get 0) (local.get 1) (local.get 2))))",
            NULL);
    wj_val res;
    ck_assert_no_trap(fx_call(&fx, "null_local", NULL, 0, &res));
    ck_assert_int_eq(res.of.i32, 1);
    int a, b;
    wj_val args[3] = {v_ext(&a), v_ext(&b), v_i32(1)};
    ck_assert_no_trap(fx_call(&fx, "pick", args, 3, &res));
    ck_assert_ptr_eq(res.of.externref, &a);
    args[2] = v_i32(0);
    ck_assert_no_trap(fx_call(&fx, "pick", args, 3, &res));
    ck_assert_ptr_eq(res.of.externref, &b);
    /* size 4; element 0 copied from 3 (&a), element 1 filled null */
    ck_assert_no_trap(fx_call(&fx, "grow", args, 1, &res));
    ck_assert_int_eq(res.of.i32, 4 + 100);
    /* operands in registers the libcall's arguments take */
    wj_val set[2] = {v_i32(2), v_ext(&b)}, copy[3] = {v_i32(1), v_i32(2), v_i32(1)};
    ck_assert_no_trap(fx_call(&fx, "set", set, 2, NULL));
    ck_assert_no_trap(fx_call(&fx, "copy", copy, 3, NULL));
    ck_assert_no_trap(fx_call(&fx, "get", copy, 1, &res));
    ck_assert_ptr_eq(res.of.externref, &b);
    fx_close(&fx);
}
END_TEST

/* memory.copy's operands in registers its libcall's arguments take
 * (its length in r8, which takes its source). */
START_TEST(memory_copy_operands)
{
    fixture fx;
    fx_open(&fx,
            "(module (memory 1)\n"
            " (data (i32.const 100) \"abcdefgh\")\n"
            " (func (export \"f\") (param $x i32) (param $d i32) (param $s i32) (param $n i32)\n"
            "   (result i32)\n"
            "  (memory.copy (local.get $d) (local.get $s) (local.get $n))\n"
            "  (i32.add (i32.mul (local.get $x) (i32.load8_u (i32.const 3)))\n"
            "           (i32.load8_u (i32.const 4)))))",
            NULL);
    wj_val args[4] = {v_i32(2), v_i32(0), v_i32(100), v_i32(4)}, res;
    ck_assert_no_trap(fx_call(&fx, "f", args, 4, &res));
    ck_assert_int_eq(res.of.i32, 2 * 'd' + 0);
    fx_close(&fx);
}
END_TEST

static Suite *values_suite(void)
{
    Suite *s = suite_create("values");
    TCase *mv = tcase_create("multi-value");
    tcase_add_test(mv, three_results);
    tcase_add_test(mv, results_over_parameters);
    tcase_add_test(mv, several_results_in_a_loop);
    tcase_add_test(mv, results_wider_than_the_frame);
    suite_add_tcase(s, mv);
    TCase *refs = tcase_create("references");
    tcase_add_test(refs, table_get_makes_the_element);
    tcase_add_test(refs, ref_func_equality);
    tcase_add_test(refs, call_indirect_after_table_set);
    tcase_add_test(refs, externrefs);
    tcase_add_test(refs, memory_copy_operands);
    suite_add_tcase(s, refs);
    return s;
}

int main(void)
{
    return unit_run_tiers(values_suite, &fx_tier);
}
