/* The write-through register cache of unpinned locals (src/compiler/lcache.c)
 * through the public API: a local written from a register is read back from
 * that register until something may clobber it or control flow merges. Each
 * test makes a cache entry stale in one way (a block end, a loop back edge,
 * else, a call, a libcall, division, a shift by a variable count, a re-set
 * while an older read is on the stack, a constant written over it, a tee whose result is modified,
 * register pressure) and checks the exact result.
 *
 * Every function starts with the same hogs: six i32 and ten v128 locals used
 * in a loop nest, heavier than anything else, so pin.c gives them all the
 * pinned registers and the locals under test stay in their frame slots,
 * which is where the cache applies. The hogs stay zero and are never read
 * for a result. */
#define _GNU_SOURCE
#include <stdint.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"
#include "wat.h"

#define HOG_LOCALS                                                                                 \
    "(local $h0 i32) (local $h1 i32) (local $h2 i32) (local $h3 i32) (local $h4 i32) "             \
    "(local $h5 i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) "         \
    "(local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128) (local $v8 v128) "        \
    "(local $v9 v128)\n"
#define HOG_I(n) "(local.set " n " (i32.add (local.get " n ") (local.get " n ")))"
#define HOG_V(n) "(local.set " n " (i32x4.add (local.get " n ") (local.get " n ")))"
#define HOG2(h) h h
/* Three nested loops that run once: each use weighs 64 (pin.c). */
#define HOGS                                                                                       \
    "(loop (loop (loop " HOG2(HOG_I("$h0")) HOG2(HOG_I("$h1")) HOG2(HOG_I("$h2"))                 \
        HOG2(HOG_I("$h3")) HOG2(HOG_I("$h4")) HOG2(HOG_I("$h5")) HOG2(HOG_V("$v0"))                \
            HOG2(HOG_V("$v1")) HOG2(HOG_V("$v2")) HOG2(HOG_V("$v3")) HOG2(HOG_V("$v4"))            \
                HOG2(HOG_V("$v5")) HOG2(HOG_V("$v6")) HOG2(HOG_V("$v7")) HOG2(HOG_V("$v8"))        \
                    HOG2(HOG_V("$v9")) ")))\n"

static const char lcache_wat[] =
    "(module (memory 1)\n"
    /* no locals but its parameter: ten values live at once take every
     * allocatable GPR (r9 and r10 among them) */
    "(func $clobber (param $p i32) (result i32)\n"
    "  (i32.add (i32.mul (local.get $p) (i32.const 3)) (i32.add (i32.mul (local.get $p) (i32.const 5))"
    "  (i32.add (i32.mul (local.get $p) (i32.const 7)) (i32.add (i32.mul (local.get $p) (i32.const 11))"
    "  (i32.add (i32.mul (local.get $p) (i32.const 13)) (i32.add (i32.mul (local.get $p) (i32.const 17))"
    "  (i32.add (i32.mul (local.get $p) (i32.const 19)) (i32.add (i32.mul (local.get $p) (i32.const 23))"
    "  (i32.add (i32.mul (local.get $p) (i32.const 29)) (i32.mul (local.get $p) (i32.const 31))))))))))))\n"
    /* the branch reaches the end with x = p + 1, the fallthrough with 3p
     * in another register */
    "(func (export \"block_end\") (param $p i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 1)))\n"
    "  (block (br_if 0 (i32.and (local.get $p) (i32.const 1)))\n"
    "    (local.set $x (i32.mul (local.get $p) (i32.const 3))))\n"
    "  (local.get $x))\n"
    /* x enters the loop cached; the back edge brings it in another register */
    "(func (export \"loop_sum\") (param $n i32) (result i32) (local $x i32) (local $i i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $n) (i32.const 0)))\n"
    "  (local.set $i (i32.const 0))\n"
    "  (loop $l\n"
    "    (local.set $x (i32.add (local.get $x) (local.get $i)))\n"
    "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "  (local.get $x))\n"
    /* else starts from the state of the if, not of the then branch */
    "(func (export \"if_else\") (param $p i32) (result i32) (local $x i32) (local $y i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 1)))\n"
    "  (if (i32.and (local.get $p) (i32.const 1))\n"
    "    (then (local.set $x (i32.mul (local.get $p) (i32.const 5))) (local.set $y (local.get $x)))\n"
    "    (else (local.set $y (i32.add (local.get $x) (i32.const 100)))))\n"
    "  (i32.add (local.get $y) (local.get $x)))\n"
    "(func (export \"across_call\") (param $p i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 7)))\n"
    "  (i32.add (call $clobber (local.get $p)) (local.get $x)))\n"
    /* x is cached in rax, which the second grow returns in */
    "(func (export \"across_grow\") (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (local.set $x (memory.grow (i32.const 1)))\n"
    "  (drop (memory.grow (i32.const 1)))\n"
    "  (i32.add (i32.mul (local.get $x) (i32.const 1000)) (memory.size)))\n"
    /* q is cached in rax, then the next division needs rax and rdx */
    "(func (export \"across_div\") (param $a i32) (param $b i32) (result i32) (local $q i32) (local $r i32) " HOG_LOCALS HOGS
    "  (local.set $q (i32.div_u (local.get $a) (local.get $b)))\n"
    "  (local.set $r (i32.rem_s (local.get $a) (i32.const 7)))\n"
    "  (i32.add (i32.mul (local.get $q) (i32.const 1000)) (local.get $r)))\n"
    /* three values take r9, r10 and rax: x is cached in rcx, which the
     * shift count needs */
    "(func (export \"across_shift\") (param $p i32) (param $n i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (i32.mul (local.get $p) (i32.const 3))\n"
    "  (i32.mul (local.get $p) (i32.const 5))\n"
    "  (i32.mul (local.get $p) (i32.const 7))\n"
    "  (local.set $x (i32.mul (local.get $p) (i32.const 11)))\n"
    "  (i32.shl (local.get $n))\n"
    "  (i32.add) (i32.add) (i32.add (local.get $x)))\n"
    "(func (export \"select_cached\") (param $p i32) (param $c i32) (result i32) (local $x i32) (local $y i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 1)))\n"
    "  (local.set $y (i32.mul (local.get $p) (i32.const 2)))\n"
    "  (i32.add (select (local.get $x) (local.get $y) (local.get $c))\n"
    "           (i32.mul (local.get $x) (local.get $y))))\n"
    /* the older read of x must keep p + 1 */
    "(func (export \"reset_while_read\") (param $p i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 1)))\n"
    "  (local.get $x)\n"
    "  (local.set $x (i32.mul (local.get $p) (i32.const 4)))\n"
    "  (i32.mul (i32.const 100) (local.get $x))\n"
    "  (i32.add))\n"
    /* a constant written to x replaces its cached value */
    "(func (export \"set_const\") (param $p i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (local.set $x (i32.add (local.get $p) (i32.const 1)))\n"
    "  (local.set $x (i32.const 5))\n"
    "  (i32.mul (local.get $x) (local.get $p)))\n"
    /* the add modifies the tee's result: x must keep 3p */
    "(func (export \"tee_consumed\") (param $p i32) (result i32) (local $x i32) " HOG_LOCALS HOGS
    "  (i32.add (local.tee $x (i32.mul (local.get $p) (i32.const 3))) (i32.const 1))\n"
    "  (i32.mul (local.get $x) (i32.const 1000))\n"
    "  (i32.add))\n"
    /* the same with a vector, whose tee keeps a cache entry */
    "(func (export \"tee_consumed_v128\") (param $p i32) (result i32) (local $x v128) " HOG_LOCALS HOGS
    "  (i32x4.add (local.tee $x (i32x4.splat (local.get $p))) (v128.const i32x4 1 1 1 1))\n"
    "  (i32x4.extract_lane 2)\n"
    "  (i32.mul (i32x4.extract_lane 2 (local.get $x)) (i32.const 1000))\n"
    "  (i32.add))\n"
    /* five cached locals hold every allocatable GPR; the expression then
     * needs four registers at once: entries are taken back */
    "(func (export \"gpr_pressure\") (param $p i32) (result i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) " HOG_LOCALS HOGS
    "  (local.set $a (i32.add (local.get $p) (i32.const 1)))\n"
    "  (local.set $b (i32.add (local.get $p) (i32.const 2)))\n"
    "  (local.set $c (i32.add (local.get $p) (i32.const 3)))\n"
    "  (local.set $d (i32.add (local.get $p) (i32.const 4)))\n"
    "  (local.set $e (i32.add (local.get $p) (i32.const 5)))\n"
    "  (i32.add (i32.mul (local.get $p) (i32.const 3)) (i32.add (i32.mul (local.get $p) (i32.const 5))\n"
    "    (i32.add (i32.mul (local.get $p) (i32.const 7)) (i32.mul (local.get $p) (i32.const 9)))))\n"
    "  (i32.mul (local.get $a) (i32.const 10000))\n"
    "  (i32.add (i32.mul (local.get $b) (i32.const 1000)) (i32.mul (local.get $c) (i32.const 100)))\n"
    "  (i32.add (i32.mul (local.get $d) (i32.const 10)) (local.get $e))\n"
    "  (i32.add) (i32.add) (i32.add))\n"
    /* x is cached in xmm0 and four values hold xmm1-4: the add reads x in
     * place while loading y needs a register, which must not be x's */
    "(func (export \"xmm_pressure\") (param $p i32) (result i32) (local $x v128) (local $y v128) " HOG_LOCALS HOGS
    "  (local.set $y (v128.const i32x4 1 2 3 4))\n"
    "  (local.set $x (i32x4.splat (local.get $p)))\n"
    "  (i32x4.splat (i32.add (local.get $p) (i32.const 10)))\n"
    "  (i32x4.splat (i32.add (local.get $p) (i32.const 20)))\n"
    "  (i32x4.splat (i32.add (local.get $p) (i32.const 30)))\n"
    "  (i32x4.splat (i32.add (local.get $p) (i32.const 40)))\n"
    "  (i32x4.add (local.get $y) (local.get $x))\n"
    "  (i32x4.add) (i32x4.add) (i32x4.add) (i32x4.add)\n"
    "  (i32x4.extract_lane 3)\n"
    "  (i32x4.extract_lane 0 (local.get $x))\n"
    "  (i32.mul (i32.const 1000)) (i32.add))\n"
    /* a float local through a cache register and a reinterpret of it */
    "(func (export \"float_cached\") (param $p f64) (result i64) (local $x f64) " HOG_LOCALS HOGS
    "  (local.set $x (f64.add (local.get $p) (f64.const 0.5)))\n"
    "  (f64.mul (local.get $x) (f64.const 2))\n"
    "  (f64.add (local.get $x))\n"
    "  (i64.trunc_f64_s)\n"
    "  (i64.mul (i64.reinterpret_f64 (local.get $x)) (i64.const 0))\n"
    "  (i64.add))\n"
    ")\n";

static int32_t call_i32(const fixture *fx, const char *name, const wj_val *args, size_t n)
{
    wj_val res[1];
    wj_trap *t = fx_call(fx, name, args, n, res);
    ck_assert_no_trap(t);
    ck_assert_int_eq(res[0].kind, WJ_I32);
    return res[0].of.i32;
}

#define CALL(fx, name, ...)                                                                        \
    call_i32(fx, name, (wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val))

static fixture fx;

static void setup(void) { fx_open(&fx, lcache_wat, NULL); }
static void teardown(void) { fx_close(&fx); }

START_TEST(block_end)
{
    ck_assert_int_eq(CALL(&fx, "block_end", v_i32(9)), 10);
    ck_assert_int_eq(CALL(&fx, "block_end", v_i32(8)), 24);
}
END_TEST

START_TEST(loop_back_edge)
{
    /* n + 0 + 1 + ... + (n - 1) */
    ck_assert_int_eq(CALL(&fx, "loop_sum", v_i32(1)), 1);
    ck_assert_int_eq(CALL(&fx, "loop_sum", v_i32(10)), 55);
    ck_assert_int_eq(CALL(&fx, "loop_sum", v_i32(100)), 5050);
}
END_TEST

START_TEST(if_else)
{
    ck_assert_int_eq(CALL(&fx, "if_else", v_i32(3)), 30);        /* 5p + 5p */
    ck_assert_int_eq(CALL(&fx, "if_else", v_i32(4)), 4 + 101 + 5); /* (p + 101) + (p + 1) */
}
END_TEST

START_TEST(across_call)
{
    /* clobber: p * (3 + 5 + 7 + 11 + 13 + 17 + 19 + 23 + 29 + 31) */
    ck_assert_int_eq(CALL(&fx, "across_call", v_i32(3)), 3 * 158 + 3 + 7);
}
END_TEST

START_TEST(across_grow)
{
    wj_val res[1];
    ck_assert_no_trap(fx_call(&fx, "across_grow", NULL, 0, res));
    ck_assert_int_eq(res[0].of.i32, 1 * 1000 + 3);
}
END_TEST

START_TEST(across_division)
{
    ck_assert_int_eq(CALL(&fx, "across_div", v_i32(100), v_i32(3)), 33 * 1000 + 2);
    ck_assert_int_eq(CALL(&fx, "across_div", v_i32(-100), v_i32(1 << 30)), 3 * 1000 - 2);
}
END_TEST

START_TEST(across_shift)
{
    ck_assert_int_eq(CALL(&fx, "across_shift", v_i32(2), v_i32(3)), 6 + 10 + (14 << 3) + 22);
    ck_assert_int_eq(CALL(&fx, "across_shift", v_i32(1), v_i32(33)), 3 + 5 + (7 << 1) + 11);
}
END_TEST

START_TEST(select_cached)
{
    ck_assert_int_eq(CALL(&fx, "select_cached", v_i32(5), v_i32(1)), 6 + 6 * 10);
    ck_assert_int_eq(CALL(&fx, "select_cached", v_i32(5), v_i32(0)), 10 + 6 * 10);
}
END_TEST

START_TEST(reset_while_read)
{
    ck_assert_int_eq(CALL(&fx, "reset_while_read", v_i32(7)), 8 + 100 * 28);
}
END_TEST

START_TEST(set_const)
{
    ck_assert_int_eq(CALL(&fx, "set_const", v_i32(7)), 35);
}
END_TEST

START_TEST(tee_consumed)
{
    ck_assert_int_eq(CALL(&fx, "tee_consumed", v_i32(7)), 22 + 21000);
}
END_TEST

START_TEST(tee_consumed_v128)
{
    ck_assert_int_eq(CALL(&fx, "tee_consumed_v128", v_i32(7)), 8 + 7000);
}
END_TEST

START_TEST(gpr_pressure)
{
    /* 24p + the digits of a..e */
    ck_assert_int_eq(CALL(&fx, "gpr_pressure", v_i32(0)), 12345);
    ck_assert_int_eq(CALL(&fx, "gpr_pressure", v_i32(1)), 24 + 23456);
}
END_TEST

START_TEST(xmm_pressure)
{
    /* lane 3: 4p + 100 + (4 + p); plus 1000 * lane 0 of x */
    ck_assert_int_eq(CALL(&fx, "xmm_pressure", v_i32(2)), 5 * 2 + 104 + 2000);
}
END_TEST

START_TEST(float_cached)
{
    wj_val res[1];
    ck_assert_no_trap(fx_call(&fx, "float_cached", (wj_val[]){{.kind = WJ_F64, .of.f64 = 1.0}}, 1,
                              res));
    ck_assert_int_eq(res[0].of.i64, 4); /* 3 * 1.5, truncated */
}
END_TEST

static Suite *lcache_suite(void)
{
    Suite *s = suite_create("lcache");
    TCase *tc = tcase_create("cached locals");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, block_end);
    tcase_add_test(tc, loop_back_edge);
    tcase_add_test(tc, if_else);
    tcase_add_test(tc, across_call);
    tcase_add_test(tc, across_grow);
    tcase_add_test(tc, across_division);
    tcase_add_test(tc, across_shift);
    tcase_add_test(tc, select_cached);
    tcase_add_test(tc, reset_while_read);
    tcase_add_test(tc, set_const);
    tcase_add_test(tc, tee_consumed);
    tcase_add_test(tc, tee_consumed_v128);
    tcase_add_test(tc, gpr_pressure);
    tcase_add_test(tc, xmm_pressure);
    tcase_add_test(tc, float_cached);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run_tiers(lcache_suite, &fx_tier);
}
