/* Tiered execution (compiler/hot.c, compiler/tierup.c, runtime/tierup.c):
 * hot functions move to tier 2 through their tier-1 entry, long loops by
 * on-stack replacement, and nothing a guest or host can see changes:
 * results, traps and their backtraces, across threads and teardown. The
 * suite peeks at the module's tier state (internal) to know that tier 2
 * really took over. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "runtime/module.h"
#include "runtime/tierup.h"

static wj_val v_f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }

/* Tiered with this budget (0: eager, the asking thread waits). */
static void use_budget(uint32_t budget)
{
    fx_tier = (unit_tier){"tiered", WJ_STRATEGY_TIERED, budget};
}

static const vm_tier_func *tier_func(const fixture *fx, uint32_t defined)
{
    ck_assert_ptr_nonnull(fx->module->tier);
    return &module_tier_funcs(fx->module->tier)[defined];
}

static wj_val call1(const fixture *fx, const char *name, const wj_val *args, size_t n)
{
    wj_val res[4];
    wj_trap *trap = fx_call(fx, name, args, n, res);
    ck_assert_no_trap(trap);
    return res[0];
}

/* Calls sq(i) until the worker published its tier-2 entry (tier-up starts
 * a few ms after the first hot function, and each call may ask again);
 * false after 20 s, a liveness bound rather than a measure. */
static bool call_until_tiered(const fixture *fx)
{
    for (int32_t i = 0; i < 20000; i++) {
        ck_assert_int_eq(call1(fx, "sq", (wj_val[]){v_i32(i)}, 1).of.i32, i * i);
        if (__atomic_load_n(&tier_func(fx, 0)->entry, __ATOMIC_ACQUIRE))
            return true;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return false;
}

static const char calls_wat[] =
    "(module\n"
    "  (func $sq (export \"sq\") (param i32) (result i32) local.get 0 local.get 0 i32.mul)\n"
    "  (func (export \"sum_sq\") (param $n i32) (result i32) (local $s i32)\n"
    "    block $done loop $next\n"
    "      local.get $n i32.eqz br_if $done\n"
    "      local.get $s local.get $n call $sq i32.add local.set $s\n"
    "      local.get $n i32.const 1 i32.sub local.set $n br $next\n"
    "    end end\n"
    "    local.get $s))\n";

START_TEST(hot_function_moves_to_tier2)
{
    use_budget(50);
    fixture fx;
    fx_open(&fx, calls_wat, NULL);
    ck_assert_ptr_null(tier_func(&fx, 0)->entry);
    ck_assert(call_until_tiered(&fx));
    /* Calls now go through the tier-1 entry to tier 2, also from tier 1. */
    for (int32_t i = 0; i < 100; i++)
        ck_assert_int_eq(call1(&fx, "sq", (wj_val[]){v_i32(i - 50)}, 1).of.i32,
                         (i - 50) * (i - 50));
    ck_assert_int_eq(call1(&fx, "sum_sq", (wj_val[]){v_i32(100)}, 1).of.i32, 338350);
    fx_close(&fx);
}
END_TEST

/* Eager: the first call compiles, the next ones run tier 2. */
START_TEST(eager_tiers_up_after_the_first_call)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, calls_wat, NULL);
    ck_assert_int_eq(call1(&fx, "sq", (wj_val[]){v_i32(-7)}, 1).of.i32, 49);
    ck_assert_ptr_nonnull(tier_func(&fx, 0)->entry);
    ck_assert_ptr_null(tier_func(&fx, 1)->entry);
    ck_assert_int_eq(call1(&fx, "sq", (wj_val[]){v_i32(9)}, 1).of.i32, 81);
    ck_assert_int_eq(call1(&fx, "sum_sq", (wj_val[]){v_i32(3)}, 1).of.i32, 14);
    ck_assert_ptr_nonnull(tier_func(&fx, 1)->entry);
    ck_assert_int_eq(call1(&fx, "sum_sq", (wj_val[]){v_i32(4)}, 1).of.i32, 30);
    fx_close(&fx);
}
END_TEST

/* Every kind of local crosses into the osr entry, and several results
 * come back out of it. */
static const char osr_wat[] =
    "(module\n"
    "  (func $f (export \"mix\") (param $n i32) (param $x i64) (param $y f32)\n"
    "      (result i32 i64 f32 f64)\n"
    "    (local $d f64) (local $r externref) (local $k i32)\n"
    "    f64.const 0.5 local.set $d\n"
    "    loop $next\n"
    "      local.get $x i64.const 3 i64.mul i64.const 1 i64.add local.set $x\n"
    "      local.get $y f32.const 2 f32.add local.set $y\n"
    "      local.get $d local.get $d f64.add local.set $d\n"
    "      local.get $k i32.const 1 i32.add local.tee $k\n"
    "      local.get $n i32.lt_u br_if $next\n"
    "    end\n"
    "    local.get $k local.get $x local.get $y local.get $d)\n"
    "  (func (export \"spin\") (param $n i32) (result i32) (local $s i32)\n"
    "    loop $l\n"
    "      local.get $s local.get $n i32.add local.set $s\n"
    "      local.get $n i32.const 1 i32.sub local.tee $n br_if $l\n"
    "    end\n"
    "    local.get $s)\n"
    "  (func $deep (param $n i32)\n"
    "    loop $l\n"
    "      local.get $n i32.eqz if unreachable end\n"
    "      local.get $n i32.const 1 i32.sub local.set $n br $l\n"
    "    end)\n"
    "  (func (export \"trap\") (param i32) local.get 0 call $deep))\n";

START_TEST(osr_carries_every_local_and_result)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, osr_wat, NULL);
    wj_val res[4];
    wj_trap *trap = fx_call(&fx, "mix", (wj_val[]){v_i32(10), v_i64(1), v_f32(0.25f)}, 3, res);
    ck_assert_no_trap(trap);
    const vm_osr *osr = tier_func(&fx, 0)->osr;
    ck_assert_ptr_nonnull(osr); /* the loop was replaced at its first iteration */
    ck_assert_int_eq(res[0].of.i32, 10);
    int64_t x = 1;
    for (int i = 0; i < 10; i++)
        x = 3 * x + 1;
    ck_assert_int_eq(res[1].of.i64, x);
    ck_assert_float_eq(res[2].of.f32, 20.25f);
    ck_assert_double_eq(res[3].of.f64, 512.0);
    /* The function's own tier-2 entry came too: a second call runs it. */
    trap = fx_call(&fx, "mix", (wj_val[]){v_i32(1), v_i64(5), v_f32(1.0f)}, 3, res);
    ck_assert_no_trap(trap);
    ck_assert_int_eq(res[0].of.i32, 1);
    ck_assert_int_eq(res[1].of.i64, 16);
    ck_assert_float_eq(res[2].of.f32, 3.0f);
    ck_assert_double_eq(res[3].of.f64, 1.0);
    fx_close(&fx);
}
END_TEST

START_TEST(osr_in_the_background)
{
    /* Called once: only on-stack replacement can move it to tier 2. */
    use_budget(100);
    fixture fx;
    fx_open(&fx, osr_wat, NULL);
    ck_assert_int_eq(call1(&fx, "spin", (wj_val[]){v_i32(50000000)}, 1).of.i32,
                     (int32_t)((50000000ull * 50000001ull / 2) & 0xffffffffu));
    fx_close(&fx);
}
END_TEST

/* A function whose loop moved by on-stack replacement is compiled whole
 * only when it is called again (a main() that runs its loops once needs
 * its osr entry alone): until then its entry is not asked for, and the
 * next call asks. */
START_TEST(osr_function_entry_at_its_next_call)
{
    use_budget(100);
    fixture fx;
    fx_open(&fx, osr_wat, NULL);
    ck_assert_int_eq(call1(&fx, "spin", (wj_val[]){v_i32(200000000)}, 1).of.i32,
                     (int32_t)((200000000ull * 200000001ull / 2) & 0xffffffffu));
    ck_assert_ptr_nonnull(tier_func(&fx, 1)->osr); /* the loop asked */
    /* neither compiled nor asked for (its compile would have spent the
     * budget too); the next call asks */
    ck_assert_ptr_null(tier_func(&fx, 1)->entry);
    ck_assert_int_eq(tier_func(&fx, 1)->budget, 0);
    bool tiered = false;
    for (int i = 0; i < 20000 && !tiered; i++) {
        ck_assert_int_eq(call1(&fx, "spin", (wj_val[]){v_i32(10)}, 1).of.i32, 55);
        tiered = __atomic_load_n(&tier_func(&fx, 1)->entry, __ATOMIC_ACQUIRE) != NULL;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    ck_assert(tiered);
    fx_close(&fx);
}
END_TEST

/* The frame below an on-stack replacement is the same function's tier-1
 * frame: the backtrace shows the function once. */
START_TEST(osr_trap_backtrace)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, osr_wat, NULL);
    wj_trap *trap = fx_call(&fx, "trap", (wj_val[]){v_i32(5)}, 1, NULL);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
    ck_assert_ptr_nonnull(tier_func(&fx, 2)->osr);
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, 2); /* $deep */
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->func_index, 3);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* A caller compiled after its callee calls the callee's tier-2 code
 * directly: results, and a trap's backtrace through that call. ($g calls
 * $none: a leaf would be inlined.) */
static const char direct_wat[] =
    "(module\n"
    "  (func $g (export \"g\") (param i32) (result i32)\n"
    "    local.get 0 i32.eqz if unreachable end call $none\n"
    "    i32.const 1000 local.get 0 i32.div_u)\n"
    "  (func (export \"f\") (param i32) (result i32)\n"
    "    local.get 0 call $g local.get 0 i32.const 1 i32.add call $g i32.add)\n"
    "  (func $none))\n";

START_TEST(direct_calls_to_tier2_callees)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, direct_wat, NULL);
    /* g first: its entry is placed when f is compiled */
    ck_assert_int_eq(call1(&fx, "g", (wj_val[]){v_i32(8)}, 1).of.i32, 125);
    ck_assert_ptr_nonnull(tier_func(&fx, 0)->entry);
    ck_assert_int_eq(call1(&fx, "f", (wj_val[]){v_i32(4)}, 1).of.i32, 250 + 200);
    ck_assert_ptr_nonnull(tier_func(&fx, 1)->entry);
    ck_assert_ptr_nonnull(fx.module->code.extra->entries[1]);
    ck_assert_int_eq(call1(&fx, "f", (wj_val[]){v_i32(9)}, 1).of.i32, 111 + 100);
    wj_trap *trap = fx_call(&fx, "f", (wj_val[]){v_i32(0)}, 1, NULL);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, 0); /* $g */
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->func_index, 1);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* A caller moved to tier 2 with a small leaf inlined: the piece's inline
 * entries give a trap in it the callee's frame above the caller's. */
static const char inline_wat[] =
    "(module\n"
    "  (func $div (param i32) (result i32) i32.const 1000 local.get 0 i32.div_u)\n"
    "  (func (export \"f\") (param i32) (result i32) local.get 0 call $div i32.const 1 i32.add))\n";

/* Module offset of the first `pat` in the module. */
static uint64_t find(const fixture *fx, const char *pat, size_t n)
{
    const uint8_t *at = memmem(fx->bytes, fx->len, pat, n);
    ck_assert_ptr_nonnull(at);
    return (uint64_t)(at - fx->bytes);
}

START_TEST(inlined_callee_in_tier2_piece)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, inline_wat, NULL);
    ck_assert_int_eq(call1(&fx, "f", (wj_val[]){v_i32(4)}, 1).of.i32, 251);
    ck_assert_ptr_nonnull(tier_func(&fx, 1)->entry);
    const compiled_extra *extra = fx.module->code.extra;
    uint32_t inlines = 0;
    for (uint32_t i = 0; i < extra->npieces; i++)
        inlines += extra->pieces[i].func == 1 ? extra->pieces[i].ninlines : 0;
    ck_assert_uint_gt(inlines, 0);
    wj_trap *trap = fx_call(&fx, "f", (wj_val[]){v_i32(0)}, 1, NULL);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_INT_DIVIDE_BY_ZERO);
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_index, 0); /* $div at i32.div_u */
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->module_offset, find(&fx, "\x20\x00\x6e", 3) + 2);
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->func_index, 1); /* f at call $div */
    ck_assert_uint_eq(wj_trap_frame(trap, 1)->module_offset, find(&fx, "\x20\x00\x10", 3) + 2);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* Inner loops move with their outermost loop: one osr entry for the
 * whole nest (entering an inner loop would give tier 2 a second way into
 * the outer one), however the phases inside it alternate. */
static const char nest_wat[] =
    "(module\n"
    "  (func (export \"phases\") (param $n i32) (result i32) (local $i i32) (local $j i32)\n"
    "      (local $s i32)\n"
    "    loop $outer\n"
    "      i32.const 0 local.set $j\n"
    "      loop $a\n"
    "        local.get $s local.get $j i32.add local.set $s\n"
    "        local.get $j i32.const 1 i32.add local.tee $j i32.const 100 i32.lt_u br_if $a\n"
    "      end\n"
    "      i32.const 0 local.set $j\n"
    "      loop $b\n"
    "        local.get $s i32.const 3 i32.xor local.set $s\n"
    "        local.get $j i32.const 1 i32.add local.tee $j i32.const 50 i32.lt_u br_if $b\n"
    "      end\n"
    "      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $outer\n"
    "    end\n"
    "    local.get $s))\n";

START_TEST(nested_loops_move_together)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, nest_wat, NULL);
    int32_t s = 0;
    for (int i = 0; i < 40; i++) {
        for (int j = 0; j < 100; j++)
            s += j;
        for (int j = 0; j < 50; j++)
            s ^= 3;
    }
    ck_assert_int_eq(call1(&fx, "phases", (wj_val[]){v_i32(40)}, 1).of.i32, s);
    /* the outer loop: `loop` then `i32.const 0`, the only such bytes */
    uint32_t outer = 0;
    for (size_t i = 0; i + 3 < fx.len && !outer; i++)
        if (fx.bytes[i] == 0x03 && fx.bytes[i + 1] == 0x40 && fx.bytes[i + 2] == 0x41 &&
            fx.bytes[i + 3] == 0x00)
            outer = (uint32_t)i;
    ck_assert_uint_ne(outer, 0);
    const vm_osr *osr = tier_func(&fx, 0)->osr;
    ck_assert_ptr_nonnull(osr);
    ck_assert_uint_eq(osr->loop, outer);
    /* the function's entry and that one osr entry */
    ck_assert_uint_eq(atomic_load(&fx.module->code.extra->npieces), 2);
    fx_close(&fx);
}
END_TEST

/* Four threads, each with its own store and instance of one module, get
 * the same functions hot at once. */
typedef struct runner {
    wj_engine *engine;
    wj_module *module;
    int failures;
} runner;

static void *run_hot(void *arg)
{
    runner *r = arg;
    wj_store *store = wj_store_new(r->engine);
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(store, r->module, NULL, 0, &inst, &trap);
    if (err || trap) {
        r->failures++;
        wj_error_delete(err);
        wj_trap_delete(trap);
        wj_store_delete(store);
        return NULL;
    }
    wj_extern sum;
    if (!wj_instance_export(inst, "sum_sq", 6, &sum))
        r->failures++;
    for (int32_t n = 0; n < 3000 && !r->failures; n++) {
        wj_val res;
        err = wj_func_call(sum.of.func, (wj_val[]){v_i32(n % 200)}, 1, &res, 1, &trap);
        int64_t k = n % 200;
        if (err || trap || res.of.i32 != (int32_t)(k * (k + 1) * (2 * k + 1) / 6))
            r->failures++;
        wj_error_delete(err);
        wj_trap_delete(trap);
        trap = NULL;
    }
    wj_store_delete(store);
    return NULL;
}

START_TEST(threads_tier_up_together)
{
    use_budget(20);
    fixture fx;
    fx_prepare(&fx, calls_wat, NULL);
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    runner runners[THREADS];
    for (int i = 0; i < THREADS; i++) {
        runners[i] = (runner){fx.engine, fx.module, 0};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, run_hot, &runners[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_int_eq(runners[i].failures, 0);
    }
    fx_close(&fx);
}
END_TEST

/* Deleting everything while the worker may still be compiling for it:
 * nothing crashes or leaks (the sanitizer build checks the latter). */
START_TEST(teardown_while_compiling)
{
    for (int round = 0; round < 20; round++) {
        use_budget(1);
        fixture fx;
        fx_open(&fx, calls_wat, NULL);
        ck_assert_int_eq(call1(&fx, "sum_sq", (wj_val[]){v_i32(30)}, 1).of.i32, 9455);
        fx_close(&fx);
    }
}
END_TEST

/* Once jailed, no new code: hot functions stay in tier 1 and still work. */
START_TEST(forbidden_stays_in_tier1)
{
    use_budget(0);
    fixture fx;
    fx_open(&fx, calls_wat, NULL);
    tier_up_forbid();
    ck_assert_int_eq(call1(&fx, "sum_sq", (wj_val[]){v_i32(10)}, 1).of.i32, 385);
    ck_assert_ptr_null(tier_func(&fx, 0)->entry);
    ck_assert_ptr_null(tier_func(&fx, 1)->entry);
    ck_assert_int_gt(tier_func(&fx, 1)->budget, INT32_MAX - 1000); /* counting on, about forever */
    fx_close(&fx);
}
END_TEST

static Suite *tierup_suite(void)
{
    Suite *s = suite_create("tierup");
    TCase *tc = tcase_create("tierup");
    tcase_set_timeout(tc, 120); /* valgrind */
    tcase_add_test(tc, hot_function_moves_to_tier2);
    tcase_add_test(tc, eager_tiers_up_after_the_first_call);
    tcase_add_test(tc, osr_carries_every_local_and_result);
    tcase_add_test(tc, osr_in_the_background);
    tcase_add_test(tc, osr_function_entry_at_its_next_call);
    tcase_add_test(tc, osr_trap_backtrace);
    tcase_add_test(tc, direct_calls_to_tier2_callees);
    tcase_add_test(tc, inlined_callee_in_tier2_piece);
    tcase_add_test(tc, nested_loops_move_together);
    tcase_add_test(tc, threads_tier_up_together);
    tcase_add_test(tc, teardown_while_compiling);
    tcase_add_test(tc, forbidden_stays_in_tier1); /* forked: the others are not jailed */
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(tierup_suite());
}
