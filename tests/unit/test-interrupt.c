/* Stopping runaway guests through the public API (linked against
 * libwasmjail.la): epoch interruption (deadlines, the trap, the callback
 * and its slow path, which must preserve pinned registers and follow a
 * memory that moved) and fuel (exact accounting per instruction, running
 * dry, refuelling, clamping, host calls), each alone, both together, and
 * neither (the default: no checks at all).
 *
 * Test modules are written in the text format and converted at test time
 * by wabt's wat2wasm (wat.h). Threads that advance the epoch are joined
 * before a test ends, and no test asserts how long anything took. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"
#include "wat.h"

/* ==== helpers: one module in one store ============================================= */

/* Option bits for opts_config. */
enum { EPOCH = 1, FUEL = 2, DYNAMIC = 4 };

static wj_config *opts_config(unsigned opts)
{
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_epoch_interruption(config, opts & EPOCH);
    wj_config_set_consume_fuel(config, opts & FUEL);
    wj_config_set_dynamic_memories(config, opts & DYNAMIC);
    return config;
}

/* Engine (with the option bits `opts`), store and module; no instance yet. */
static void prepare_with(fixture *fx, const char *wat, unsigned opts)
{
    wj_config *config = opts_config(opts);
    fx_prepare(fx, wat, config);
    wj_config_delete(config);
}

static void open_with(fixture *fx, const char *wat, unsigned opts)
{
    prepare_with(fx, wat, opts);
    fx_instantiate(fx, NULL, 0);
}

static wj_memory *fx_memory(const fixture *fx)
{
    return fx_export(fx, "mem", WJ_EXTERN_MEMORY).of.memory;
}


#define ARGS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define NOARGS NULL, 0

/* Calls `name`, which must return; its result. */
static wj_val expect_ok_(int line, const fixture *fx, const char *name, const wj_val *args,
                         size_t n)
{
    wj_val res = {0};
    wj_trap *trap = fx_call(fx, name, args, n, &res);
    ck_assert_msg(trap == NULL, "line %d: %s: unexpected trap \"%s\"", line, name,
                  trap ? wj_trap_message(trap) : "");
    return res;
}

#define EXPECT_OK(fx, name, args) (void)expect_ok_(__LINE__, fx, name, args)
#define EXPECT_I32(fx, name, want, args) \
    ck_assert_int_eq(expect_ok_(__LINE__, fx, name, args).of.i32, (int32_t)(want))
#define EXPECT_I64(fx, name, want, args) \
    ck_assert_int_eq(expect_ok_(__LINE__, fx, name, args).of.i64, (int64_t)(want))

/* `trap` has `code` and `message`; with `func` not NULL, its innermost
 * frame is the function of that name (name section). Deletes the trap. */
static void check_trap_(int line, wj_trap *trap, wj_trap_code code, const char *message,
                        const char *func)
{
    ck_assert_msg(trap != NULL, "line %d: expected trap \"%s\", got none", line, message);
    ck_assert_msg(wj_trap_code_of(trap) == code && strcmp(wj_trap_message(trap), message) == 0,
                  "line %d: expected trap %d \"%s\", got %d \"%s\"", line, (int)code, message,
                  (int)wj_trap_code_of(trap), wj_trap_message(trap));
    if (func) {
        ck_assert_msg(wj_trap_frame_count(trap) >= 1, "line %d: the trap has no frames", line);
        const wj_frame *f = wj_trap_frame(trap, 0);
        ck_assert_msg(f->func_name && strcmp(f->func_name, func) == 0,
                      "line %d: innermost frame is function %u \"%s\", want \"%s\"", line,
                      f->func_index, f->func_name ? f->func_name : "(no name)", func);
    }
    wj_trap_delete(trap);
}

/* Variadic, so that INTERRUPT and OUT_OF_FUEL (two arguments each) expand
 * before the arguments are counted. */
#define CHECK_TRAP(...) CHECK_TRAP_(__VA_ARGS__)
#define CHECK_TRAP_(trap, code, message, func) check_trap_(__LINE__, trap, code, message, func)

/* Calls `name`, which must trap with `code` and `message` in function `func`. */
#define EXPECT_TRAP(...) EXPECT_TRAP_(__VA_ARGS__)
#define EXPECT_TRAP_(fx, name, code, message, func, args, nargs)                             \
    do {                                                                                   \
        wj_val res_;                                                                       \
        check_trap_(__LINE__, fx_call(fx, name, args, nargs, &res_), code, message, func); \
    } while (0)

#define INTERRUPT WJ_TRAP_INTERRUPT, "interrupt"
#define OUT_OF_FUEL WJ_TRAP_OUT_OF_FUEL, "all fuel consumed by WebAssembly"

static uint64_t get_fuel(const fixture *fx)
{
    uint64_t fuel = 12345;
    wj_error *err = wj_store_get_fuel(fx->store, &fuel);
    ck_assert_no_wj_error(err);
    return fuel;
}

static void set_fuel(const fixture *fx, uint64_t fuel)
{
    wj_error *err = wj_store_set_fuel(fx->store, fuel);
    ck_assert_no_wj_error(err);
}

/* The fuel `name` consumes, which must return; its result in *res. */
static uint64_t fuel_of_(int line, const fixture *fx, const char *name, const wj_val *args,
                         size_t n, wj_val *res)
{
    uint64_t before = get_fuel(fx);
    *res = expect_ok_(line, fx, name, args, n);
    uint64_t after = get_fuel(fx);
    ck_assert_msg(after <= before, "line %d: %s: fuel grew from %llu to %llu", line, name,
                  (unsigned long long)before, (unsigned long long)after);
    return before - after;
}

#define FUEL_OF(fx, name, res, args) fuel_of_(__LINE__, fx, name, args, res)

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ==== helpers: a thread that advances the epoch ======================================= */

/* Waits `delay_us`, then increments the epoch: once when `interval_us` is
 * 0, else every `interval_us` until stopped. */
typedef struct ticker {
    wj_engine *engine;
    long delay_us, interval_us;
    atomic_bool stop;
    atomic_ulong ticks;
    pthread_t thread;
} ticker;

static void *ticker_main(void *arg)
{
    ticker *t = arg;
    sleep_us(t->delay_us);
    do {
        wj_engine_increment_epoch(t->engine);
        atomic_fetch_add(&t->ticks, 1);
        if (!t->interval_us)
            break;
        sleep_us(t->interval_us);
    } while (!atomic_load(&t->stop));
    return NULL;
}

static void ticker_start(ticker *t, wj_engine *engine, long delay_us, long interval_us)
{
    memset(t, 0, sizeof *t);
    t->engine = engine;
    t->delay_us = delay_us;
    t->interval_us = interval_us;
    atomic_init(&t->stop, false);
    atomic_init(&t->ticks, 0);
    ck_assert_int_eq(pthread_create(&t->thread, NULL, ticker_main, t), 0);
}

/* Joins the thread; the number of increments it made. */
static unsigned long ticker_stop(ticker *t)
{
    atomic_store(&t->stop, true);
    ck_assert_int_eq(pthread_join(t->thread, NULL), 0);
    return atomic_load(&t->ticks);
}

/* ==== the modules ====================================================================== */

/* count(n): a counting loop, n iterations of the body (n >= 0). By hand,
 * with fuel charged per run of instructions (block, loop, end are free):
 *   entry run       block                                    0
 *   loop header     local.get local.get i32.ge_u br_if       4, n + 1 times
 *   loop body       local.get i32.const i32.add local.set br 5, n times
 *   after the loop  local.get                                1
 * so count(n) consumes 9n + 5.
 * countdown(n): a do-while loop, n >= 1 iterations: the loop header run
 *   local.get i32.const i32.sub local.tee i32.const i32.gt_s br_if  (7)
 * then local.get (1) after it: 7n + 1.
 * stack_loop(n): 1000000 + n(n + 1) / 2, through a loop with parameters
 * (n >= 1) and a value below them on the stack across every check. */
static const char basic_wat[] =
    "(module $basic\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func $empty (export \"empty\"))\n"
    "  (func $three (export \"three\") (result i32) i32.const 1 i32.const 2 i32.add)\n"
    "  (func $spin (export \"spin\") (loop $l (br $l)))\n"
    "  (func $fib (export \"fib\") (param $n i64) (result i64)\n"
    "    local.get $n i64.const 2 i64.lt_u\n"
    "    if (result i64)\n"
    "      local.get $n\n"
    "    else\n"
    "      local.get $n i64.const 1 i64.sub call $fib\n"
    "      local.get $n i64.const 2 i64.sub call $fib\n"
    "      i64.add\n"
    "    end)\n"
    "  (func $count (export \"count\") (param $n i32) (result i32) (local $i i32)\n"
    "    block $done\n"
    "      loop $l\n"
    "        local.get $i local.get $n i32.ge_u br_if $done\n"
    "        local.get $i i32.const 1 i32.add local.set $i\n"
    "        br $l\n"
    "      end\n"
    "    end\n"
    "    local.get $i)\n"
    "  (func $countdown (export \"countdown\") (param $n i32) (result i32)\n"
    "    loop $l\n"
    "      local.get $n i32.const 1 i32.sub local.tee $n i32.const 0 i32.gt_s br_if $l\n"
    "    end\n"
    "    local.get $n)\n"
    "  (func $stack_loop (export \"stack_loop\") (param $n i32) (result i64) (local $k i32)\n"
    "    i64.const 1000000\n"
    "    i32.const 0 local.get $n\n"
    "    loop $l (param i32 i32) (result i32)\n"
    "      local.set $k local.get $k i32.add\n"
    "      local.get $k i32.const 1 i32.sub local.tee $k\n"
    "      local.get $k br_if $l\n"
    "      drop\n"
    "    end\n"
    "    i64.extend_i32_u i64.add)\n"
    "  (func $sum (export \"sum\") (param $n i32) (result i64) (local $i i32) (local $s i64)\n"
    "    loop $l\n"
    "      local.get $s local.get $i i64.extend_i32_u i64.add local.set $s\n"
    "      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l\n"
    "    end\n"
    "    local.get $s))\n";

/* twice(n) = 2 * sum(n), sum(n) = n + ... + 1 through a loop in a small
 * leaf function (tier 2 inlines it). By hand, sum(n):
 *   entry run       block                                              0
 *   loop header     local.get i32.eqz br_if                            3, n + 1 times
 *   loop body       local.get local.get i32.add local.set
 *                   local.get i32.const i32.sub local.set br           9, n times
 *   after the loop  local.get                                          1
 * so 12n + 4; twice's own runs (local.get call, local.get call, i32.add)
 * add 5: 24n + 13. Its epoch checks: its entry and, per call, sum's entry
 * and n + 1 loop headers: 2n + 5. */
static const char inline_wat[] =
    "(module $inline\n"
    "  (func $sum (param $n i32) (result i32) (local $s i32)\n"
    "    block $done\n"
    "      loop $l\n"
    "        local.get $n i32.eqz br_if $done\n"
    "        local.get $s local.get $n i32.add local.set $s\n"
    "        local.get $n i32.const 1 i32.sub local.set $n\n"
    "        br $l\n"
    "      end\n"
    "    end\n"
    "    local.get $s)\n"
    "  (func (export \"twice\") (param i32) (result i32)\n"
    "    local.get 0 call $sum local.get 0 call $sum i32.add))\n";

static int64_t fib(int n)
{
    int64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        int64_t t = a + b;
        a = b, b = t;
    }
    return a;
}

/* ==== 1. off by default ================================================================ */

START_TEST(off_fuel_is_a_usage_error)
{
    /* Neither option, and epoch interruption alone: no fuel. */
    for (unsigned opts = 0; opts <= EPOCH; opts++) {
        fixture fx;
        open_with(&fx, basic_wat, opts);
        wj_error *err = wj_store_set_fuel(fx.store, 100);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(wj_error_kind_of(err), WJ_ERROR_USAGE);
        wj_error_delete(err);
        uint64_t fuel = 777;
        err = wj_store_get_fuel(fx.store, &fuel);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(wj_error_kind_of(err), WJ_ERROR_USAGE);
        wj_error_delete(err);
        ck_assert_uint_eq(fuel, 777); /* untouched */
        fx_close(&fx);
    }
}
END_TEST

START_TEST(off_no_checks)
{
    fixture fx;
    open_with(&fx, basic_wat, 0);
    /* The deadline is the current epoch (never set), and the epoch passes it. */
    ck_assert_uint_eq(wj_engine_epoch(fx.engine), 0);
    for (int i = 0; i < 5; i++)
        wj_engine_increment_epoch(fx.engine);
    ck_assert_uint_eq(wj_engine_epoch(fx.engine), 5);
    EXPECT_I64(&fx, "sum", 499999500000, ARGS(v_i32(1000000)));
    EXPECT_I32(&fx, "count", 1000000, ARGS(v_i32(1000000)));
    EXPECT_I32(&fx, "three", 3, NOARGS);
    EXPECT_I64(&fx, "fib", fib(20), ARGS(v_i64(20)));
    /* A deadline in the past changes nothing either. */
    wj_store_set_epoch_deadline(fx.store, 0);
    wj_engine_increment_epoch(fx.engine);
    EXPECT_I64(&fx, "sum", 499999500000, ARGS(v_i32(1000000)));
    fx_close(&fx);
}
END_TEST

/* ==== 2. epoch interruption ============================================================ */

START_TEST(epoch_counter)
{
    wj_config *config = opts_config(EPOCH);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(engine);
    ck_assert_uint_eq(wj_engine_epoch(engine), 0);
    wj_engine_increment_epoch(engine);
    ck_assert_uint_eq(wj_engine_epoch(engine), 1);
    for (int i = 0; i < 1000; i++)
        wj_engine_increment_epoch(engine);
    ck_assert_uint_eq(wj_engine_epoch(engine), 1001);
    wj_engine_delete(engine);
}
END_TEST

START_TEST(epoch_fresh_store_traps_at_once)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    /* The first check is the function's entry: even an empty body traps. */
    EXPECT_TRAP(&fx, "empty", INTERRUPT, "empty", NOARGS);
    EXPECT_TRAP(&fx, "three", INTERRUPT, "three", NOARGS);
    EXPECT_TRAP(&fx, "count", INTERRUPT, "count", ARGS(v_i32(10)));
    fx_close(&fx);

    /* A start function is wasm too: it traps until a deadline is set. */
    {
        static const char start_wat[] = "(module (func $start nop) (start $start))";
        fixture st;
        prepare_with(&st, start_wat, EPOCH);
        wj_instance *inst = NULL;
        wj_trap *trap = NULL;
        ck_assert_ptr_null(wj_instance_new(st.store, st.module, NULL, 0, &inst, &trap));
        ck_assert_ptr_null(inst);
        CHECK_TRAP(trap, INTERRUPT, "start");
        wj_store_set_epoch_deadline(st.store, 1);
        fx_instantiate(&st, NULL, 0);
        fx_close(&st);
    }

    /* Also when the engine's epoch has advanced before the store exists. */
    open_with(&fx, basic_wat, EPOCH);
    wj_engine_increment_epoch(fx.engine);
    wj_engine_increment_epoch(fx.engine);
    wj_store *store2 = wj_store_new(fx.engine);
    ck_assert_ptr_nonnull(store2);
    wj_instance *inst2 = NULL;
    wj_trap *trap = NULL;
    ck_assert_ptr_null(wj_instance_new(store2, fx.module, NULL, 0, &inst2, &trap));
    ck_assert_ptr_null(trap);
    wj_extern e;
    ck_assert(wj_instance_export(inst2, "three", 5, &e));
    wj_val res;
    ck_assert_ptr_null(wj_func_call(e.of.func, NULL, 0, &res, 1, &trap));
    CHECK_TRAP(trap, INTERRUPT, "three");
    wj_store_delete(store2);
    fx_close(&fx);
}
END_TEST

START_TEST(epoch_deadline_lets_bounded_code_run)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    wj_store_set_epoch_deadline(fx.store, 1);
    EXPECT_I32(&fx, "three", 3, NOARGS);
    EXPECT_I32(&fx, "count", 100000, ARGS(v_i32(100000)));
    EXPECT_I32(&fx, "countdown", 0, ARGS(v_i32(1000)));
    EXPECT_I64(&fx, "sum", 499999500000, ARGS(v_i32(1000000)));
    EXPECT_I64(&fx, "stack_loop", 1000000 + 100 * 101 / 2, ARGS(v_i32(100)));
    EXPECT_I64(&fx, "fib", fib(20), ARGS(v_i64(20)));
    /* One tick reaches the deadline: the next check traps. */
    wj_engine_increment_epoch(fx.engine);
    EXPECT_TRAP(&fx, "count", INTERRUPT, "count", ARGS(v_i32(10)));
    /* A farther deadline survives a few ticks. */
    wj_store_set_epoch_deadline(fx.store, 3);
    wj_engine_increment_epoch(fx.engine);
    wj_engine_increment_epoch(fx.engine);
    EXPECT_I32(&fx, "count", 10, ARGS(v_i32(10)));
    wj_engine_increment_epoch(fx.engine);
    EXPECT_TRAP(&fx, "empty", INTERRUPT, "empty", NOARGS);
    /* The largest deadline saturates instead of wrapping into the past. */
    wj_store_set_epoch_deadline(fx.store, UINT64_MAX);
    wj_engine_increment_epoch(fx.engine);
    EXPECT_I32(&fx, "count", 1000, ARGS(v_i32(1000)));
    fx_close(&fx);
}
END_TEST

START_TEST(epoch_interrupts_a_loop)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker t;
    ticker_start(&t, fx.engine, 50000, 0);
    EXPECT_TRAP(&fx, "spin", INTERRUPT, "spin", NOARGS);
    ck_assert_uint_eq(ticker_stop(&t), 1);
    ck_assert_uint_eq(wj_engine_epoch(fx.engine), 1);
    /* The store goes on: a new deadline, a call that finishes. */
    wj_store_set_epoch_deadline(fx.store, 1);
    EXPECT_I32(&fx, "count", 12345, ARGS(v_i32(12345)));
    /* And it can be interrupted again. */
    ticker_start(&t, fx.engine, 50000, 0);
    EXPECT_TRAP(&fx, "spin", INTERRUPT, "spin", NOARGS);
    ticker_stop(&t);
    wj_store_set_epoch_deadline(fx.store, 1);
    EXPECT_I64(&fx, "sum", 4950, ARGS(v_i32(100)));
    fx_close(&fx);
}
END_TEST

START_TEST(epoch_interrupts_a_recursion)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker t;
    ticker_start(&t, fx.engine, 50000, 0);
    /* Naive fib(90) makes about 10^19 calls and has no loop: only the
     * function entries can notice the deadline. */
    wj_val res;
    wj_trap *trap = fx_call(&fx, "fib", ARGS(v_i64(90)), &res);
    ck_assert_uint_eq(ticker_stop(&t), 1);
    ck_assert_ptr_nonnull(trap);
    /* Every frame is fib, inside fib(90) at most 90 deep (plus the entry). */
    size_t n = wj_trap_frame_count(trap);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, 90);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(wj_trap_frame(trap, i)->func_name, "fib");
    CHECK_TRAP(trap, INTERRUPT, "fib");
    wj_store_set_epoch_deadline(fx.store, 1);
    EXPECT_I64(&fx, "fib", fib(25), ARGS(v_i64(25)));
    fx_close(&fx);
}
END_TEST

/* One engine, several stores, each with its own deadline: spinning on two
 * threads, both stop at the same tick; a store with a far deadline goes on. */
typedef struct spinner {
    wj_engine *engine;
    wj_module *module;
    wj_trap_code code;
    char message[64];
    char func[32];
    atomic_bool ready;
    pthread_t thread;
} spinner;

static void *spinner_main(void *arg)
{
    spinner *sp = arg;
    wj_store *store = wj_store_new(sp->engine);
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = store ? wj_instance_new(store, sp->module, NULL, 0, &inst, &trap) : NULL;
    wj_extern e;
    if (!store || err || trap || !wj_instance_export(inst, "spin", 4, &e)) {
        snprintf(sp->message, sizeof sp->message, "cannot instantiate");
        atomic_store(&sp->ready, true);
        wj_error_delete(err);
        wj_trap_delete(trap);
        wj_store_delete(store);
        return NULL;
    }
    wj_store_set_epoch_deadline(store, 1);
    atomic_store(&sp->ready, true);
    err = wj_func_call(e.of.func, NULL, 0, NULL, 0, &trap);
    if (err) {
        snprintf(sp->message, sizeof sp->message, "error: %s", wj_error_message(err));
        wj_error_delete(err);
    } else if (!trap) {
        snprintf(sp->message, sizeof sp->message, "returned");
    } else {
        sp->code = wj_trap_code_of(trap);
        snprintf(sp->message, sizeof sp->message, "%s", wj_trap_message(trap));
        if (wj_trap_frame_count(trap) >= 1 && wj_trap_frame(trap, 0)->func_name)
            snprintf(sp->func, sizeof sp->func, "%s", wj_trap_frame(trap, 0)->func_name);
        wj_trap_delete(trap);
    }
    wj_store_delete(store);
    return NULL;
}

START_TEST(epoch_interrupts_every_store)
{
    fixture fx; /* its store has a far deadline */
    open_with(&fx, basic_wat, EPOCH);
    wj_store_set_epoch_deadline(fx.store, 1000);
    spinner sp[2];
    for (int i = 0; i < 2; i++) {
        memset(&sp[i], 0, sizeof sp[i]);
        sp[i].engine = fx.engine;
        sp[i].module = fx.module;
        atomic_init(&sp[i].ready, false);
        ck_assert_int_eq(pthread_create(&sp[i].thread, NULL, spinner_main, &sp[i]), 0);
    }
    /* Both deadlines are set (epoch 0 + 1) before the tick. */
    for (int i = 0; i < 2; i++)
        while (!atomic_load(&sp[i].ready))
            sleep_us(1000);
    sleep_us(50000);
    wj_engine_increment_epoch(fx.engine);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(sp[i].thread, NULL), 0);
        ck_assert_msg(sp[i].code == WJ_TRAP_INTERRUPT && strcmp(sp[i].message, "interrupt") == 0,
                      "thread %d: %d \"%s\"", i, (int)sp[i].code, sp[i].message);
        ck_assert_str_eq(sp[i].func, "spin");
    }
    EXPECT_I32(&fx, "count", 100000, ARGS(v_i32(100000)));
    fx_close(&fx);
}
END_TEST

/* wasm -> host -> wasm that spins: the interrupt unwinds both activations. */
static const char nest_wat[] =
    "(module $nest\n"
    "  (import \"env\" \"reenter\" (func $reenter))\n"
    "  (func $outer (export \"outer\") call $reenter)\n"
    "  (func $spin (export \"spin\") (loop $l (br $l))))\n";

typedef struct reenter_env {
    wj_func *spin;
    wj_trap_code inner_code;
    int calls;
} reenter_env;

static wj_trap *reenter_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    reenter_env *re = env;
    (void)caller, (void)args, (void)results;
    re->calls++;
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(re->spin, NULL, 0, NULL, 0, &trap);
    if (err) {
        wj_error_delete(err);
        return wj_trap_new("reenter: error");
    }
    re->inner_code = trap ? wj_trap_code_of(trap) : WJ_TRAP_NONE;
    return trap;
}

START_TEST(epoch_interrupts_nested_activations)
{
    fixture fx;
    prepare_with(&fx, nest_wat, EPOCH);
    reenter_env re = {0};
    wj_extern imp = {.kind = WJ_EXTERN_FUNC,
                     .of.func = wj_func_new(fx.store, &(wj_functype){0, 0, NULL, NULL},
                                            reenter_cb, &re, NULL)};
    ck_assert_ptr_nonnull(imp.of.func);
    fx_instantiate(&fx, &imp, 1);
    re.spin = fx_func(&fx, "spin");
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker t;
    ticker_start(&t, fx.engine, 50000, 0);
    wj_trap *trap = fx_call(&fx, "outer", NOARGS, NULL);
    ticker_stop(&t);
    ck_assert_int_eq(re.calls, 1);
    ck_assert_int_eq(re.inner_code, WJ_TRAP_INTERRUPT);
    ck_assert_ptr_nonnull(trap);
    /* spin, then (through the host frame) outer */
    size_t n = wj_trap_frame_count(trap);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(wj_trap_frame(trap, 1)->func_name, "outer");
    CHECK_TRAP(trap, INTERRUPT, "spin");
    fx_close(&fx);
}
END_TEST

/* ==== 3. the epoch callback ============================================================ */

typedef struct cb_state {
    atomic_int calls;
    int continue_for; /* continue this many times, then trap (-1: always continue) */
    uint64_t ticks;   /* what the callback sets */
    wj_store *store;  /* the store it should get */
    bool wrong_store;
    /* set_flag: after this many calls, the callback writes 1 to memory[0]. */
    wj_memory *memory;
    int set_flag_after;
    /* grow: memory is grown by a page (moved, if possible) the first `grow` calls. */
    int grow, grown, moved, grow_failed;
    void *blockers[64];
    int nblockers;
} cb_state;

/* Overwrites every register the C ABI lets a callee clobber, so that a slow
 * path that forgot to save one shows (the C code around the callback may
 * happen not to touch the upper xmm registers). */
static void clobber_registers(void)
{
#if defined(__x86_64__)
    __asm__ volatile("mov $0x5a5a5a5a5a5a5a5a, %%rax\n\t"
                     "mov %%rax, %%rcx\n\tmov %%rax, %%rdx\n\tmov %%rax, %%rsi\n\t"
                     "mov %%rax, %%rdi\n\tmov %%rax, %%r8\n\tmov %%rax, %%r9\n\t"
                     "mov %%rax, %%r10\n\tmov %%rax, %%r11\n\t"
                     "movq %%rax, %%xmm0\n\tmovq %%rax, %%xmm1\n\tmovq %%rax, %%xmm2\n\t"
                     "movq %%rax, %%xmm3\n\tmovq %%rax, %%xmm4\n\tmovq %%rax, %%xmm5\n\t"
                     "movq %%rax, %%xmm6\n\tmovq %%rax, %%xmm7\n\tmovq %%rax, %%xmm8\n\t"
                     "movq %%rax, %%xmm9\n\tmovq %%rax, %%xmm10\n\tmovq %%rax, %%xmm11\n\t"
                     "movq %%rax, %%xmm12\n\tmovq %%rax, %%xmm13\n\tmovq %%rax, %%xmm14\n\t"
                     "movq %%rax, %%xmm15"
                     :
                     :
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0",
                       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
#endif
}

static wj_trap *callback(void *env, wj_store *store, uint64_t *ticks)
{
    cb_state *s = env;
    clobber_registers();
    int calls = atomic_fetch_add(&s->calls, 1) + 1;
    if (store != s->store)
        s->wrong_store = true;
    if (*ticks != 0)
        s->wrong_store = true; /* documented: 0 on entry */
    if (s->memory && s->set_flag_after && calls == s->set_flag_after)
        memcpy(wj_memory_data(s->memory), &(uint32_t){1}, 4);
    if (s->memory && s->grown < s->grow) {
        /* A mapping just past the memory's end, so that it cannot grow in
         * place: mremap must move it. */
        uint8_t *base = wj_memory_data(s->memory);
        uint8_t *end = base + wj_memory_data_size(s->memory);
        long page = sysconf(_SC_PAGESIZE);
        if (s->nblockers < 64) {
            void *p = mmap(end, (size_t)page, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p != MAP_FAILED && p != end)
                munmap(p, (size_t)page); /* an old kernel: only a hint */
            else if (p == end)
                s->blockers[s->nblockers++] = p;
        }
        uint64_t old;
        if (wj_memory_grow(s->memory, 1, &old)) {
            s->grown++;
            s->moved += wj_memory_data(s->memory) != base;
        } else {
            s->grow_failed++;
        }
    }
    if (s->continue_for >= 0 && calls > s->continue_for)
        return wj_trap_new("enough");
    *ticks = s->ticks;
    return NULL;
}

static void cb_free(cb_state *s)
{
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < s->nblockers; i++)
        munmap(s->blockers[i], (size_t)page);
}

START_TEST(callback_continues_then_traps)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    enum { N = 5 };
    cb_state s = {.continue_for = N, .ticks = 1, .store = fx.store};
    wj_store_set_epoch_callback(fx.store, callback, &s);
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker t;
    ticker_start(&t, fx.engine, 1000, 1000);
    wj_val res;
    wj_trap *trap = fx_call(&fx, "spin", NOARGS, &res);
    unsigned long ticks = ticker_stop(&t);
    ck_assert_int_eq(atomic_load(&s.calls), N + 1);
    ck_assert_uint_ge(ticks, N + 1);
    ck_assert(!s.wrong_store);
    CHECK_TRAP(trap, WJ_TRAP_HOST, "enough", "spin");

    /* Each continuation moved the deadline: a bounded call needs none. */
    atomic_store(&s.calls, 0);
    s.continue_for = -1;
    wj_store_set_epoch_deadline(fx.store, 1);
    EXPECT_I32(&fx, "count", 1000, ARGS(v_i32(1000)));
    ck_assert_int_eq(atomic_load(&s.calls), 0);

    /* Back to the default policy: the trap. */
    wj_store_set_epoch_callback(fx.store, NULL, NULL);
    wj_store_set_epoch_deadline(fx.store, 0);
    EXPECT_TRAP(&fx, "count", INTERRUPT, "count", ARGS(v_i32(10)));
    ck_assert_int_eq(atomic_load(&s.calls), 0);
    fx_close(&fx);
}
END_TEST

/* With ticks = 0 the callback runs at every check, no thread needed: its
 * calls count the checks exactly. */
START_TEST(callback_at_every_check)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH);
    cb_state s = {.continue_for = -1, .ticks = 0, .store = fx.store};
    wj_store_set_epoch_callback(fx.store, callback, &s);
    /* The fresh store's deadline is now: the entry of `empty` calls back. */
    EXPECT_OK(&fx, "empty", NOARGS);
    ck_assert_int_eq(atomic_load(&s.calls), 1);
    /* count(n): the entry and n + 1 loop headers. */
    atomic_store(&s.calls, 0);
    EXPECT_I32(&fx, "count", 100, ARGS(v_i32(100)));
    ck_assert_int_eq(atomic_load(&s.calls), 1 + 101);
    /* countdown(n): the entry and n loop headers. */
    atomic_store(&s.calls, 0);
    EXPECT_I32(&fx, "countdown", 0, ARGS(v_i32(1000)));
    ck_assert_int_eq(atomic_load(&s.calls), 1 + 1000);
    /* Loop parameters and a value below them survive the slow path. */
    atomic_store(&s.calls, 0);
    EXPECT_I64(&fx, "stack_loop", 1000000 + 1000 * 1001 / 2, ARGS(v_i32(1000)));
    ck_assert_int_eq(atomic_load(&s.calls), 1 + 1000);
    /* fib(n): one check per call, fib(10) makes 177 calls. */
    atomic_store(&s.calls, 0);
    EXPECT_I64(&fx, "fib", 55, ARGS(v_i64(10)));
    ck_assert_int_eq(atomic_load(&s.calls), 177);
    /* Stop at the first check of count: its entry, reported at its first
     * instruction (block). */
    atomic_store(&s.calls, 0);
    s.continue_for = 0;
    wj_val res;
    wj_trap *trap = fx_call(&fx, "count", ARGS(v_i32(100)), &res);
    ck_assert_ptr_nonnull(trap);
    ck_assert_uint_ge(wj_trap_frame_count(trap), 1);
    uint64_t entry = wj_trap_frame(trap, 0)->func_offset;
    CHECK_TRAP(trap, WJ_TRAP_HOST, "enough", "count");
    ck_assert_int_eq(atomic_load(&s.calls), 1);
    /* Stop after the 4th check of count: the entry and three loop headers;
     * reported at the loop instruction, after the 2-byte block. */
    atomic_store(&s.calls, 0);
    s.continue_for = 3;
    trap = fx_call(&fx, "count", ARGS(v_i32(100)), &res);
    ck_assert_ptr_nonnull(trap);
    ck_assert_uint_ge(wj_trap_frame_count(trap), 1);
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_offset, entry + 2);
    CHECK_TRAP(trap, WJ_TRAP_HOST, "enough", "count");
    ck_assert_int_eq(atomic_load(&s.calls), 4);
    ck_assert(!s.wrong_store);
    fx_close(&fx);
}
END_TEST

/* mix(limit): a loop that keeps 8 i32, 8 i64 and 8 f64 locals live (more
 * than the 6 general and 7 xmm registers that hold pinned locals), each
 * updated from its neighbour every iteration, until i reaches limit or
 * memory[0] becomes non-zero; it stores the iteration count at memory[4]
 * and returns a checksum of every local. */
#define MIXN 8
static char *mix_wat(void)
{
    size_t cap = 16384, len = 0;
    char *w = malloc(cap);
    ck_assert_ptr_nonnull(w);
#define OUT(...)                                                           \
    do {                                                                   \
        int n_ = snprintf(w + len, cap - len, __VA_ARGS__);                \
        ck_assert(n_ >= 0 && (size_t)n_ < cap - len);                      \
        len += (size_t)n_;                                                 \
    } while (0)
    OUT("(module $mix\n  (memory (export \"mem\") 1)\n"
        "  (func $mix (export \"mix\") (param $limit i32) (result i64) (local $i i32)\n");
    for (int k = 0; k < MIXN; k++)
        OUT("    (local $a%d i32) (local $x%d i64) (local $f%d f64)\n", k, k, k);
    for (int k = 0; k < MIXN; k++)
        OUT("    i32.const %d local.set $a%d  i64.const %lld local.set $x%d"
            "  f64.const %d.5 local.set $f%d\n",
            0x1111 * k + 1, k, (long long)0x100000001LL * k + 7, k, k, k);
    OUT("    loop $l\n");
    for (int k = 0; k < MIXN; k++) {
        int n = (k + 1) % MIXN;
        OUT("      local.get $a%d i32.const %d i32.mul local.get $a%d local.get $i i32.add"
            " i32.xor local.set $a%d\n",
            k, 2 * k + 3, n, k);
        OUT("      local.get $x%d i64.const %d i64.rotl local.get $x%d i64.add"
            " local.get $a%d i64.extend_i32_u i64.xor local.set $x%d\n",
            k, k + 1, n, k, k);
        OUT("      local.get $f%d f64.const 0.5 f64.mul local.get $f%d f64.const 0.25 f64.mul"
            " f64.add local.get $i i32.const 15 i32.and f64.convert_i32_u f64.add"
            " local.set $f%d\n",
            k, n, k);
    }
    OUT("      local.get $i i32.const 1 i32.add local.tee $i local.get $limit i32.lt_u\n"
        "      i32.const 0 i32.load i32.eqz i32.and br_if $l\n"
        "    end\n"
        "    i32.const 4 local.get $i i32.store\n"
        "    i64.const 0\n");
    for (int k = 0; k < MIXN; k++)
        OUT("    local.get $a%d i64.extend_i32_u i64.const %d i64.mul i64.add"
            " local.get $x%d i64.add local.get $f%d i64.reinterpret_f64 i64.const %d i64.rotl"
            " i64.xor\n",
            k, k + 1, k, k, 3 * k + 1);
    OUT("  ))\n");
#undef OUT
    return w;
}

static uint32_t mem_u32(const fixture *fx, uint64_t at)
{
    wj_memory *m = fx_memory(fx);
    ck_assert_uint_le(at + 4, wj_memory_data_size(m));
    uint32_t v;
    memcpy(&v, wj_memory_data(m) + at, 4);
    return v;
}

/* mix(limit) on an engine without any checks. */
static int64_t mix_reference(const char *wat, int32_t limit)
{
    fixture ref;
    open_with(&ref, wat, 0);
    int64_t want = expect_ok_(__LINE__, &ref, "mix", ARGS(v_i32(limit))).of.i64;
    ck_assert_uint_eq(mem_u32(&ref, 4), (uint32_t)limit);
    fx_close(&ref);
    return want;
}

START_TEST(callback_preserves_registers_every_check)
{
    char *wat = mix_wat();
    enum { LIMIT = 100000 };
    int64_t want = mix_reference(wat, LIMIT);
    for (unsigned opts = EPOCH; opts <= (EPOCH | FUEL); opts += FUEL) {
        fixture fx;
        open_with(&fx, wat, opts);
        if (opts & FUEL)
            set_fuel(&fx, INT64_MAX);
        cb_state s = {.continue_for = -1, .ticks = 0, .store = fx.store};
        wj_store_set_epoch_callback(fx.store, callback, &s);
        EXPECT_I64(&fx, "mix", want, ARGS(v_i32(LIMIT)));
        ck_assert_uint_eq(mem_u32(&fx, 4), LIMIT);
        /* The entry and every loop header went through the slow path. */
        ck_assert_int_eq(atomic_load(&s.calls), 1 + LIMIT);
        fx_close(&fx);
    }
    free(wat);
}
END_TEST

START_TEST(callback_preserves_registers_with_ticker)
{
    char *wat = mix_wat();
    fixture fx;
    open_with(&fx, wat, EPOCH);
    enum { CALLS = 30 };
    cb_state s = {.continue_for = -1, .ticks = 1, .store = fx.store, .memory = fx_memory(&fx),
                  .set_flag_after = CALLS};
    wj_store_set_epoch_callback(fx.store, callback, &s);
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker t;
    ticker_start(&t, fx.engine, 1000, 1000);
    /* Runs until the callback's 30th call sets the flag. */
    int64_t got = expect_ok_(__LINE__, &fx, "mix", ARGS(v_i32(INT32_MAX))).of.i64;
    ticker_stop(&t);
    ck_assert_int_eq(atomic_load(&s.calls), CALLS);
    /* One call per check: the entry (if a tick came first) and headers. */
    uint32_t iterations = mem_u32(&fx, 4);
    ck_assert_uint_ge(iterations, CALLS - 1);
    ck_assert_uint_lt(iterations, INT32_MAX);
    fx_close(&fx);
    ck_assert_int_eq(got, mix_reference(wat, (int32_t)iterations));
    free(wat);
}
END_TEST

/* walk(n): n iterations that each store i at the last word of the memory
 * (wherever memory.size says that is now), load it back into a sum, and
 * count in memory[0]; walk_calls does the same through a call, whose entry
 * is another check. */
static const char walk_wat[] =
    "(module $walk\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func $top (result i32) memory.size i32.const 16 i32.shl i32.const 4 i32.sub)\n"
    "  (func $touch (param $at i32) (param $v i32) (result i64)\n"
    "    local.get $at local.get $v i32.store\n"
    "    i32.const 0 i32.const 0 i32.load i32.const 1 i32.add i32.store\n"
    "    local.get $at i32.load i64.extend_i32_u)\n"
    "  (func (export \"walk\") (param $n i32) (result i64) (local $i i32) (local $sum i64)\n"
    "    (local $at i32)\n"
    "    loop $l\n"
    "      memory.size i32.const 16 i32.shl i32.const 4 i32.sub local.tee $at\n"
    "      local.get $i i32.store\n"
    "      i32.const 0 i32.const 0 i32.load i32.const 1 i32.add i32.store\n"
    "      local.get $sum local.get $at i32.load i64.extend_i32_u i64.add local.set $sum\n"
    "      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l\n"
    "    end\n"
    "    local.get $sum)\n"
    "  (func (export \"walk_calls\") (param $n i32) (result i64) (local $i i32) (local $sum i64)\n"
    "    loop $l\n"
    "      local.get $sum call $top local.get $i call $touch i64.add local.set $sum\n"
    "      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l\n"
    "    end\n"
    "    local.get $sum))\n";

START_TEST(callback_grows_dynamic_memory)
{
    static const char *const funcs[] = {"walk", "walk_calls"};
    for (int which = 0; which < 2; which++) {
        fixture fx;
        open_with(&fx, walk_wat, EPOCH | DYNAMIC);
        enum { N = 5000, GROW = 20 };
        cb_state s = {.continue_for = -1, .ticks = 0, .store = fx.store,
                      .memory = fx_memory(&fx), .grow = GROW};
        wj_store_set_epoch_callback(fx.store, callback, &s);
        const char *name = funcs[which];
        EXPECT_I64(&fx, name, (int64_t)N * (N - 1) / 2, ARGS(v_i32(N)));
        ck_assert_int_eq(s.grown, GROW);
        ck_assert_int_eq(s.grow_failed, 0);
        ck_assert_msg(s.moved >= 1, "%s: the memory never moved (%d blockers)", name,
                      s.nblockers);
        ck_assert_uint_eq(wj_memory_size(s.memory), 1 + GROW);
        ck_assert_uint_eq(mem_u32(&fx, 0), N);
        ck_assert_uint_eq(mem_u32(&fx, (1 + GROW) * 65536 - 4), N - 1);
        /* Again, with the memory where it is now. */
        s.grow = 0;
        EXPECT_I64(&fx, name, (int64_t)N * (N - 1) / 2, ARGS(v_i32(N)));
        ck_assert_uint_eq(mem_u32(&fx, 0), 2 * N);
        cb_free(&s);
        fx_close(&fx);
    }
}
END_TEST

/* ==== 4. fuel ========================================================================= */

/* Inlined calls charge the call and the callee's instructions, and check
 * at the callee's entry and loop headers, as calls do. */
START_TEST(fuel_and_checks_of_inlined_callees)
{
    fixture fx;
    open_with(&fx, inline_wat, FUEL | EPOCH);
    set_fuel(&fx, 1000000000);
    cb_state s = {.continue_for = -1, .ticks = 0, .store = fx.store};
    wj_store_set_epoch_callback(fx.store, callback, &s);
    wj_val res;
    static const int32_t ns[] = {0, 1, 10, 1000};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        atomic_store(&s.calls, 0);
        ck_assert_uint_eq(FUEL_OF(&fx, "twice", &res, ARGS(v_i32(ns[i]))),
                          24 * (uint64_t)ns[i] + 13);
        ck_assert_int_eq(res.of.i32, ns[i] * (ns[i] + 1));
        ck_assert_int_eq(atomic_load(&s.calls), 2 * ns[i] + 5);
    }
    fx_close(&fx);
}
END_TEST

START_TEST(fuel_exact_accounting)
{
    fixture fx;
    open_with(&fx, basic_wat, FUEL);
    set_fuel(&fx, 1000000000);
    ck_assert_uint_eq(get_fuel(&fx), 1000000000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "three", &res, NOARGS), 3);
    ck_assert_int_eq(res.of.i32, 3);
    ck_assert_uint_eq(FUEL_OF(&fx, "empty", &res, NOARGS), 0);
    /* count(n) = 9n + 5 (see basic_wat). */
    static const int32_t ns[] = {0, 1, 10, 1000, 123457};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        ck_assert_uint_eq(FUEL_OF(&fx, "count", &res, ARGS(v_i32(ns[i]))),
                          9 * (uint64_t)ns[i] + 5);
        ck_assert_int_eq(res.of.i32, ns[i]);
    }
    /* countdown(n) = 7n + 1. */
    ck_assert_uint_eq(FUEL_OF(&fx, "countdown", &res, ARGS(v_i32(1))), 7 * 1 + 1);
    ck_assert_uint_eq(FUEL_OF(&fx, "countdown", &res, ARGS(v_i32(500))), 7 * 500 + 1);
    ck_assert_int_eq(res.of.i32, 0);
    /* fib(n < 2) = local.get i64.const i64.lt_u if, then local.get: 5. */
    ck_assert_uint_eq(FUEL_OF(&fx, "fib", &res, ARGS(v_i64(1))), 5);
    /* fib(n >= 2) = 4 (up to the if) + 4 (up to the first call) + 4 (up to
     * the second) + 1 (i64.add) plus the two calls'. */
    ck_assert_uint_eq(FUEL_OF(&fx, "fib", &res, ARGS(v_i64(2))), 13 + 5 + 5);
    uint64_t f3 = 13 + (13 + 5 + 5) + 5;
    ck_assert_uint_eq(FUEL_OF(&fx, "fib", &res, ARGS(v_i64(3))), f3);
    ck_assert_int_eq(res.of.i64, 2);
    fx_close(&fx);
}
END_TEST

START_TEST(fuel_fresh_store_traps)
{
    fixture fx;
    open_with(&fx, basic_wat, FUEL);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    EXPECT_TRAP(&fx, "three", OUT_OF_FUEL, "three", NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    EXPECT_TRAP(&fx, "count", OUT_OF_FUEL, "count", ARGS(v_i32(3)));
    ck_assert_uint_eq(get_fuel(&fx), 0);
    set_fuel(&fx, 3);
    EXPECT_I32(&fx, "three", 3, NOARGS);
    fx_close(&fx);
}
END_TEST

START_TEST(fuel_runs_out)
{
    fixture fx;
    open_with(&fx, basic_wat, FUEL);
    /* Exactly enough is enough; one less is not. */
    set_fuel(&fx, 3);
    EXPECT_I32(&fx, "three", 3, NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    set_fuel(&fx, 2);
    EXPECT_TRAP(&fx, "three", OUT_OF_FUEL, "three", NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    set_fuel(&fx, 9 * 100 + 5);
    EXPECT_I32(&fx, "count", 100, ARGS(v_i32(100)));
    ck_assert_uint_eq(get_fuel(&fx), 0);
    /* Fuel is checked at function entries and loop headers only: the run
     * after the loop's last header (local.get, 1) overdraws unchecked... */
    set_fuel(&fx, 9 * 100 + 4);
    EXPECT_I32(&fx, "count", 100, ARGS(v_i32(100)));
    ck_assert_uint_eq(get_fuel(&fx), 0);
    /* ...but a loop header that the tank cannot pay for traps. */
    set_fuel(&fx, 9 * 100 + 3);
    EXPECT_TRAP(&fx, "count", OUT_OF_FUEL, "count", ARGS(v_i32(100)));
    ck_assert_uint_eq(get_fuel(&fx), 0);
    set_fuel(&fx, 100000);
    EXPECT_TRAP(&fx, "spin", OUT_OF_FUEL, "spin", NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    /* A recursion without loops runs dry at a function entry. */
    set_fuel(&fx, 1000000);
    EXPECT_TRAP(&fx, "fib", OUT_OF_FUEL, "fib", ARGS(v_i64(90)));
    ck_assert_uint_eq(get_fuel(&fx), 0);
    /* Refuelled, the store goes on. */
    set_fuel(&fx, 1000000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "count", &res, ARGS(v_i32(1000))), 9 * 1000 + 5);
    ck_assert_int_eq(res.of.i32, 1000);
    ck_assert_uint_eq(get_fuel(&fx), 1000000 - (9 * 1000 + 5));
    fx_close(&fx);
}
END_TEST

START_TEST(fuel_clamps_to_int64_max)
{
    fixture fx;
    open_with(&fx, basic_wat, FUEL);
    set_fuel(&fx, UINT64_MAX);
    ck_assert_uint_eq(get_fuel(&fx), INT64_MAX);
    EXPECT_I32(&fx, "three", 3, NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), INT64_MAX - 3);
    set_fuel(&fx, (uint64_t)INT64_MAX + 1);
    ck_assert_uint_eq(get_fuel(&fx), INT64_MAX);
    set_fuel(&fx, INT64_MAX);
    ck_assert_uint_eq(get_fuel(&fx), INT64_MAX);
    EXPECT_I32(&fx, "count", 1000, ARGS(v_i32(1000)));
    ck_assert_uint_eq(get_fuel(&fx), INT64_MAX - (9 * 1000 + 5));
    set_fuel(&fx, 0);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    EXPECT_TRAP(&fx, "three", OUT_OF_FUEL, "three", NOARGS);
    fx_close(&fx);
}
END_TEST

/* Costs of control flow: the free instructions, both arms of an if,
 * br_table and call_indirect; each export's cost is worked out beside it. */
static const char costs_wat[] =
    "(module $costs\n"
    "  (type $v_i (func (result i32)))\n"
    "  (table 1 funcref)\n"
    "  (elem (i32.const 0) $seven)\n"
    "  (global $g (mut i32) (i32.const 0))\n"
    "  (func $seven (type $v_i) i32.const 7)\n"
    /* nop nop block nop end loop nop end i32.const(1) drop: 1 */
    "  (func (export \"free\") nop nop (block (nop)) (loop (nop)) i32.const 7 drop)\n"
    /* i32.const(1) drop unreachable: 1, then the trap */
    "  (func (export \"unreachable\") i32.const 1 drop unreachable)\n"
    /* local.get if (2) | then: i32.const (1) | else: i32.const i32.const
     * i32.add (3): 3 when taken, 5 when not */
    "  (func (export \"if\") (param i32) (result i32)\n"
    "    local.get 0 if (result i32) i32.const 10 else i32.const 20 i32.const 1 i32.add end)\n"
    /* local.get br_table (2), then i32.const (return is free): 3 on each path */
    "  (func (export \"br_table\") (param i32) (result i32)\n"
    "    block block block local.get 0 br_table 0 1 2 end i32.const 10 return end\n"
    "    i32.const 20 return end i32.const 30)\n"
    /* i32.const call_indirect (2), then $seven's i32.const (1): 3 */
    "  (func (export \"call_indirect\") (result i32) i32.const 0 call_indirect (type $v_i))\n"
    /* global.get i32.const i32.add global.set: 4 */
    "  (func $start global.get $g i32.const 5 i32.add global.set $g)\n"
    "  (start $start))\n";

START_TEST(fuel_instruction_costs)
{
    fixture fx;
    prepare_with(&fx, costs_wat, FUEL);
    /* The start function needs fuel too. */
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    ck_assert_ptr_null(wj_instance_new(fx.store, fx.module, NULL, 0, &inst, &trap));
    ck_assert_ptr_null(inst);
    CHECK_TRAP(trap, OUT_OF_FUEL, "start");
    set_fuel(&fx, 100);
    fx_instantiate(&fx, NULL, 0);
    ck_assert_uint_eq(get_fuel(&fx), 100 - 4);

    set_fuel(&fx, 1000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "free", &res, NOARGS), 1);
    ck_assert_uint_eq(FUEL_OF(&fx, "if", &res, ARGS(v_i32(1))), 3);
    ck_assert_int_eq(res.of.i32, 10);
    ck_assert_uint_eq(FUEL_OF(&fx, "if", &res, ARGS(v_i32(0))), 5);
    ck_assert_int_eq(res.of.i32, 21);
    for (int32_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(FUEL_OF(&fx, "br_table", &res, ARGS(v_i32(i))), 3);
        ck_assert_int_eq(res.of.i32, i == 0 ? 10 : i == 1 ? 20 : 30);
    }
    ck_assert_uint_eq(FUEL_OF(&fx, "call_indirect", &res, NOARGS), 3);
    ck_assert_int_eq(res.of.i32, 7);
    uint64_t before = get_fuel(&fx);
    EXPECT_TRAP(&fx, "unreachable", WJ_TRAP_UNREACHABLE, "unreachable", NULL, NOARGS);
    ck_assert_uint_eq(before - get_fuel(&fx), 1);
    fx_close(&fx);
}
END_TEST

/* Loads folded into the operator after them (src/compiler/fold.c): both
 * instructions are charged.
 *   add(a, p): local.get local.get i32.load i32.add                     4
 *   sum(n): the loop's run, n times: local.get local.get f64.load
 *     f64.add local.set local.get i32.const i32.add local.tee local.get
 *     i32.lt_u br_if (12), then local.get (1): 12n + 1
 *   below(a, p): local.get local.get i64.load i64.lt_u (fused with)
 *     br_if, then i32.const (6), or i32.const and the free return (6) */
static const char folded_wat[] =
    "(module $folded\n"
    "  (memory 1)\n"
    "  (data (i32.const 0) \"\\05\\00\\00\\00\\00\\00\\00\\00\")\n"
    "  (func (export \"add\") (param $a i32) (param $p i32) (result i32)\n"
    "    local.get $a local.get $p i32.load i32.add)\n"
    "  (func (export \"sum\") (param $n i32) (result f64) (local $i i32) (local $s f64)\n"
    "    loop $l\n"
    "      local.get $s local.get $i f64.load f64.add local.set $s\n"
    "      local.get $i i32.const 8 i32.add local.tee $i local.get $n i32.lt_u br_if $l\n"
    "    end\n"
    "    local.get $s)\n"
    "  (func (export \"below\") (param $a i64) (param $p i32) (result i32)\n"
    "    block $b\n"
    "      local.get $a local.get $p i64.load i64.lt_u br_if $b\n"
    "      i32.const 1 return\n"
    "    end\n"
    "    i32.const 2))\n";

START_TEST(fuel_folded_loads)
{
    fixture fx;
    open_with(&fx, folded_wat, FUEL);
    set_fuel(&fx, 1000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "add", &res, ARGS(v_i32(3), v_i32(0))), 4);
    ck_assert_int_eq(res.of.i32, 8);
    ck_assert_uint_eq(FUEL_OF(&fx, "sum", &res, ARGS(v_i32(24))), 12 * 3 + 1);
    ck_assert_uint_eq(FUEL_OF(&fx, "below", &res, ARGS(v_i64(4), v_i32(0))), 6);
    ck_assert_int_eq(res.of.i32, 2);
    ck_assert_uint_eq(FUEL_OF(&fx, "below", &res, ARGS(v_i64(5), v_i32(0))), 6);
    ck_assert_int_eq(res.of.i32, 1);
    fx_close(&fx);
}
END_TEST

/* $host does arbitrary work in C and reads the fuel; $id is wasm. */
static const char host_wat[] =
    "(module $hostcalls\n"
    "  (import \"env\" \"host\" (func $host (param i32) (result i32)))\n"
    "  (func $id (param i32) (result i32) local.get 0)\n"
    "  (func (export \"call_host\") (result i32) i32.const 5 call $host)\n"
    "  (func (export \"call_id\") (result i32) i32.const 5 call $id)\n"
    "  (func (export \"call_host_twice\") (result i32)\n"
    "    i32.const 5 call $host i32.const 6 call $host i32.add))\n";

typedef struct host_state {
    wj_store *store;
    uint64_t seen_fuel;
    int calls;
} host_state;

static wj_trap *host_fn(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    host_state *h = env;
    (void)caller;
    h->calls++;
    volatile uint64_t x = 0;
    for (int i = 0; i < 10000; i++)
        x += (uint64_t)i;
    wj_error *err = wj_store_get_fuel(h->store, &h->seen_fuel);
    if (err) {
        wj_error_delete(err);
        return wj_trap_new("get_fuel failed in the host function");
    }
    results[0] = v_i32(args[0].of.i32 * 2);
    return NULL;
}

START_TEST(fuel_host_functions_consume_none)
{
    fixture fx;
    prepare_with(&fx, host_wat, FUEL);
    host_state h = {.store = fx.store};
    static const uint8_t i32[] = {WJ_I32};
    wj_functype type = {1, 1, i32, i32};
    wj_func *host = wj_func_new(fx.store, &type, host_fn, &h, NULL);
    ck_assert_ptr_nonnull(host);
    wj_extern imports[] = {{.kind = WJ_EXTERN_FUNC, .of.func = host}};
    fx_instantiate(&fx, imports, 1);
    set_fuel(&fx, 1000);
    wj_val res;
    /* i32.const and call: 2, whatever the host does. */
    ck_assert_uint_eq(FUEL_OF(&fx, "call_host", &res, NOARGS), 2);
    ck_assert_int_eq(res.of.i32, 10);
    ck_assert_int_eq(h.calls, 1);
    /* The run up to and including the call was charged as it started. */
    ck_assert_uint_eq(h.seen_fuel, 1000 - 2);
    /* A wasm callee is charged its own instructions: local.get. */
    ck_assert_uint_eq(FUEL_OF(&fx, "call_id", &res, NOARGS), 2 + 1);
    ck_assert_int_eq(res.of.i32, 5);
    /* Two runs: const call | const call add. */
    ck_assert_uint_eq(FUEL_OF(&fx, "call_host_twice", &res, NOARGS), 5);
    ck_assert_int_eq(res.of.i32, 22);
    ck_assert_int_eq(h.calls, 3);
    /* The second call saw its own run charged, not the i64.add after it. */
    ck_assert_uint_eq(h.seen_fuel, 1000 - 2 - 3 - 2 - 2);
    /* Calling the host function directly costs nothing at all. */
    uint64_t before = get_fuel(&fx);
    wj_trap *trap = NULL;
    ck_assert_ptr_null(wj_func_call(host, ARGS(v_i32(1)), &res, 1, &trap));
    ck_assert_ptr_null(trap);
    ck_assert_uint_eq(get_fuel(&fx), before);
    fx_close(&fx);
}
END_TEST

/* Where runs begin and end, seen from the fuel left at each host call and
 * epoch callback (fuel_trace), and from traps inside a run. By hand:
 *   mid(x): local.get i32.const i32.add call (4), charged before the host
 *     runs; then i32.const i32.mul (2): 6.
 *   loop2(n), n even: the entry's run is empty (loop is free). Each loop
 *     header run: local.get i32.const i32.add local.tee i32.const i32.and
 *     br_if (7), back while i is odd; for even i a run local.get call (2,
 *     drop is free), then local.get local.get i32.lt_u br_if (4), back
 *     while i < n; after the loop local.get (1). The host calls see
 *     16, 36, 56, ... charged; loop2(6) costs 6 * 7 + 3 * 6 + 1 = 61.
 *   blocks(x, z): the entry's local.get br_if (2); when x is 0 i32.const
 *     (1, its own run: the branch's block end starts the next); then one
 *     run across block $d's end, which no branch targets: i32.const
 *     local.get i32.div_u, i32.const (4), all charged before the division
 *     may trap. 7 when x is 0, 6 when it is 1, trapping or not.
 *   ifelse(x, z): the entry's local.get if (2); when x is 1 br (1); when
 *     0 one run across the if's end, which only the else arm reaches (the
 *     then arm branches away): i32.const local.get i32.div_u, i32.const
 *     (4). 3 or 6, trapping or not. */
static const char runs_wat[] =
    "(module $runs\n"
    "  (import \"env\" \"host\" (func $host (param i32) (result i32)))\n"
    "  (func (export \"mid\") (param $x i32) (result i32)\n"
    "    local.get $x i32.const 1 i32.add call $host\n"
    "    i32.const 3 i32.mul)\n"
    "  (func (export \"loop2\") (param $n i32) (result i32) (local $i i32)\n"
    "    loop $l\n"
    "      local.get $i i32.const 1 i32.add local.tee $i\n"
    "      i32.const 1 i32.and br_if $l\n"
    "      local.get $i call $host drop\n"
    "      local.get $i local.get $n i32.lt_u br_if $l\n"
    "    end\n"
    "    local.get $i)\n"
    "  (func (export \"blocks\") (param $x i32) (param $z i32)\n"
    "    block $c local.get $x br_if $c i32.const 9 drop end\n"
    "    block $d i32.const 1 local.get $z i32.div_u drop end\n"
    "    i32.const 1 drop)\n"
    "  (func (export \"ifelse\") (param $x i32) (param $z i32)\n"
    "    block $out\n"
    "      local.get $x if br $out else i32.const 1 local.get $z i32.div_u drop end\n"
    "      i32.const 1 drop\n"
    "    end)\n"
    /* The then arm's block never ends, so the if's end is reached only by
     * falling through the else arm, whose run goes on after it. */
    "  (func (export \"deadblock\") (param $x i32) (param $z i32) (result i32)\n"
    "    local.get $x\n"
    "    if (result i32) block (result i32) unreachable end i32.eqz\n"
    "    else i32.const 1 local.get $z i32.div_u end\n"
    "    i32.const 2 i32.add))\n";

/* The fuel left at each host call and epoch callback, in order. */
typedef struct fuel_trace {
    wj_store *store;
    int n;
    uint64_t seen[16];
} fuel_trace;

static void trace_fuel(fuel_trace *t)
{
    uint64_t fuel = 0;
    wj_error *err = wj_store_get_fuel(t->store, &fuel);
    if (err)
        wj_error_delete(err);
    if (t->n < 16)
        t->seen[t->n] = err ? UINT64_MAX : fuel;
    t->n++;
}

static wj_trap *trace_host(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller;
    trace_fuel(env);
    results[0] = v_i32(args[0].of.i32 * 2);
    return NULL;
}

/* At every check (ticks 0). */
static wj_trap *trace_callback(void *env, wj_store *store, uint64_t *ticks)
{
    (void)store;
    *ticks = 0;
    trace_fuel(env);
    return NULL;
}

static void open_runs(fixture *fx, fuel_trace *t, unsigned opts)
{
    prepare_with(fx, runs_wat, opts);
    *t = (fuel_trace){.store = fx->store};
    static const uint8_t i32[] = {WJ_I32};
    wj_functype type = {1, 1, i32, i32};
    wj_func *host = wj_func_new(fx->store, &type, trace_host, t, NULL);
    ck_assert_ptr_nonnull(host);
    wj_extern imports[] = {{.kind = WJ_EXTERN_FUNC, .of.func = host}};
    fx_instantiate(fx, imports, 1);
}

#define EXPECT_TRACE(t, ...)                                                                 \
    do {                                                                                    \
        const uint64_t want_[] = {__VA_ARGS__};                                              \
        int n_ = (int)(sizeof want_ / sizeof *want_);                                        \
        ck_assert_int_eq((t)->n, n_);                                                        \
        for (int i_ = 0; i_ < n_; i_++)                                                      \
            ck_assert_msg((t)->seen[i_] == want_[i_], "trace[%d] = %llu, want %llu", i_,    \
                          (unsigned long long)(t)->seen[i_], (unsigned long long)want_[i_]); \
        (t)->n = 0;                                                                          \
    } while (0)

START_TEST(fuel_runs_around_calls_and_branches)
{
    fixture fx;
    fuel_trace t;
    open_runs(&fx, &t, FUEL);
    set_fuel(&fx, 1000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "mid", &res, ARGS(v_i32(5))), 6);
    ck_assert_int_eq(res.of.i32, 36);
    EXPECT_TRACE(&t, 1000 - 4);
    ck_assert_uint_eq(FUEL_OF(&fx, "loop2", &res, ARGS(v_i32(6))), 61);
    ck_assert_int_eq(res.of.i32, 6);
    EXPECT_TRACE(&t, 994 - 16, 994 - 36, 994 - 56);
    ck_assert_uint_eq(FUEL_OF(&fx, "blocks", &res, ARGS(v_i32(0), v_i32(1))), 7);
    ck_assert_uint_eq(FUEL_OF(&fx, "blocks", &res, ARGS(v_i32(1), v_i32(1))), 6);
    ck_assert_uint_eq(FUEL_OF(&fx, "ifelse", &res, ARGS(v_i32(0), v_i32(1))), 6);
    ck_assert_uint_eq(FUEL_OF(&fx, "ifelse", &res, ARGS(v_i32(1), v_i32(1))), 3);
    /* The division traps inside its run, which was charged whole. */
    for (int32_t x = 0; x < 2; x++) {
        const wj_val args[] = {v_i32(x), v_i32(0)};
        uint64_t before = get_fuel(&fx);
        EXPECT_TRAP(&fx, "blocks", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero", NULL,
                    args, 2);
        ck_assert_uint_eq(before - get_fuel(&fx), x ? 6 : 7);
    }
    const wj_val zeros[] = {v_i32(0), v_i32(0)};
    uint64_t before = get_fuel(&fx);
    EXPECT_TRAP(&fx, "ifelse", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero", NULL, zeros,
                2);
    ck_assert_uint_eq(before - get_fuel(&fx), 6);
    /* deadblock(0, z): if (2), then the else arm's run with what follows (5). */
    ck_assert_uint_eq(FUEL_OF(&fx, "deadblock", &res, ARGS(v_i32(0), v_i32(1))), 7);
    ck_assert_int_eq(res.of.i32, 3);
    before = get_fuel(&fx);
    EXPECT_TRAP(&fx, "deadblock", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero", NULL,
                zeros, 2);
    ck_assert_uint_eq(before - get_fuel(&fx), 7);
    fx_close(&fx);
}
END_TEST

/* loop2's checks: the 4th loop header needs 34 in all, the 5th 47; the
 * unchecked runs between them may overdraw (the host then sees 0). */
START_TEST(fuel_runs_out_at_a_loop_header)
{
    fixture fx;
    fuel_trace t;
    open_runs(&fx, &t, FUEL);
    set_fuel(&fx, 33);
    EXPECT_TRAP(&fx, "loop2", OUT_OF_FUEL, NULL, ARGS(v_i32(100)));
    EXPECT_TRACE(&t, 33 - 16);
    static const uint64_t tanks[] = {35, 36, 37, 46};
    for (size_t i = 0; i < sizeof tanks / sizeof *tanks; i++) {
        set_fuel(&fx, tanks[i]);
        EXPECT_TRAP(&fx, "loop2", OUT_OF_FUEL, NULL, ARGS(v_i32(100)));
        ck_assert_uint_eq(get_fuel(&fx), 0);
        EXPECT_TRACE(&t, tanks[i] - 16, tanks[i] < 36 ? 0 : tanks[i] - 36);
    }
    set_fuel(&fx, 3);
    EXPECT_TRAP(&fx, "mid", OUT_OF_FUEL, NULL, ARGS(v_i32(5)));
    ck_assert_int_eq(t.n, 0);
    fx_close(&fx);
}
END_TEST

/* Each check charges its run before the epoch's slow path runs, which
 * keeps the values in registers (i and n across the loop). */
START_TEST(both_checks_in_order)
{
    fixture fx;
    fuel_trace t;
    open_runs(&fx, &t, EPOCH | FUEL);
    wj_store_set_epoch_callback(fx.store, trace_callback, &t);
    set_fuel(&fx, 1000);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "mid", &res, ARGS(v_i32(5))), 6);
    ck_assert_int_eq(res.of.i32, 36);
    /* the entry's check, then the host */
    EXPECT_TRACE(&t, 1000 - 4, 1000 - 4);
    ck_assert_uint_eq(FUEL_OF(&fx, "loop2", &res, ARGS(v_i32(6))), 61);
    ck_assert_int_eq(res.of.i32, 6);
    /* entry, then per header and host call */
    EXPECT_TRACE(&t, 994, 994 - 7, 994 - 14, 994 - 16, 994 - 27, 994 - 34, 994 - 36, 994 - 47,
                 994 - 54, 994 - 56);
    fx_close(&fx);
}
END_TEST

/* ==== 5. both at once ================================================================== */

/* The callback may refuel the store: a spin that 10 units would stop runs
 * as long as the callback (at every check) tops the tank up. */
typedef struct refuel_state {
    int calls, limit;
    bool failed;
} refuel_state;

static wj_trap *refuel_callback(void *env, wj_store *store, uint64_t *ticks)
{
    refuel_state *r = env;
    *ticks = 0;
    if (++r->calls > r->limit)
        return wj_trap_new("enough");
    wj_error *err = wj_store_set_fuel(store, 10);
    if (err) {
        r->failed = true;
        wj_error_delete(err);
    }
    return NULL;
}

START_TEST(both_callback_refuels)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH | FUEL);
    refuel_state r = {.limit = 5000};
    wj_store_set_epoch_callback(fx.store, refuel_callback, &r);
    set_fuel(&fx, 10);
    EXPECT_TRAP(&fx, "spin", WJ_TRAP_HOST, "enough", "spin", NOARGS);
    ck_assert_int_eq(r.calls, 5001);
    ck_assert(!r.failed);
    /* Without the top-ups the same fuel lasts 10 iterations. */
    wj_store_set_epoch_callback(fx.store, NULL, NULL);
    wj_store_set_epoch_deadline(fx.store, UINT64_MAX);
    set_fuel(&fx, 10);
    EXPECT_TRAP(&fx, "spin", OUT_OF_FUEL, "spin", NOARGS);
    fx_close(&fx);
}
END_TEST

START_TEST(both_fuel_and_epoch)
{
    fixture fx;
    open_with(&fx, basic_wat, EPOCH | FUEL);
    /* Fuel and a deadline: the same accounting as fuel alone. */
    set_fuel(&fx, 1000000);
    wj_store_set_epoch_deadline(fx.store, 1);
    wj_val res;
    ck_assert_uint_eq(FUEL_OF(&fx, "three", &res, NOARGS), 3);
    ck_assert_uint_eq(FUEL_OF(&fx, "count", &res, ARGS(v_i32(1000))), 9 * 1000 + 5);
    ck_assert_uint_eq(FUEL_OF(&fx, "countdown", &res, ARGS(v_i32(1000))), 7 * 1000 + 1);
    /* Plenty of fuel: the epoch stops the loop. */
    set_fuel(&fx, INT64_MAX);
    ticker t;
    ticker_start(&t, fx.engine, 50000, 0);
    EXPECT_TRAP(&fx, "spin", INTERRUPT, "spin", NOARGS);
    ticker_stop(&t);
    uint64_t left = get_fuel(&fx);
    ck_assert_uint_lt(left, INT64_MAX); /* it ran for a while */
    ck_assert_uint_gt(left, 0);
    /* A far deadline: the fuel stops it. */
    wj_store_set_epoch_deadline(fx.store, UINT64_MAX);
    set_fuel(&fx, 100000);
    EXPECT_TRAP(&fx, "spin", OUT_OF_FUEL, "spin", NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 0);
    set_fuel(&fx, 1000000);
    EXPECT_TRAP(&fx, "fib", OUT_OF_FUEL, "fib", ARGS(v_i64(90)));
    /* The recursion too, by the epoch. */
    set_fuel(&fx, INT64_MAX);
    wj_store_set_epoch_deadline(fx.store, 1);
    ticker_start(&t, fx.engine, 50000, 0);
    EXPECT_TRAP(&fx, "fib", INTERRUPT, "fib", ARGS(v_i64(90)));
    ticker_stop(&t);
    /* The callback at every check, with fuel accounting unchanged. */
    cb_state s = {.continue_for = -1, .ticks = 0, .store = fx.store};
    wj_store_set_epoch_callback(fx.store, callback, &s);
    set_fuel(&fx, 1000000);
    ck_assert_uint_eq(FUEL_OF(&fx, "count", &res, ARGS(v_i32(100))), 9 * 100 + 5);
    ck_assert_int_eq(res.of.i32, 100);
    ck_assert_int_eq(atomic_load(&s.calls), 1 + 101);
    /* Both still work afterwards. */
    wj_store_set_epoch_callback(fx.store, NULL, NULL);
    wj_store_set_epoch_deadline(fx.store, 1);
    set_fuel(&fx, 2);
    EXPECT_TRAP(&fx, "three", OUT_OF_FUEL, "three", NOARGS);
    set_fuel(&fx, 1000);
    EXPECT_I32(&fx, "three", 3, NOARGS);
    ck_assert_uint_eq(get_fuel(&fx), 997);
    fx_close(&fx);
}
END_TEST

/* ==== the suite ======================================================================= */

static Suite *interrupt_suite(void)
{
    Suite *s = suite_create("interrupt");
    TCase *off = tcase_create("off by default");
    tcase_set_timeout(off, 60);
    tcase_add_test(off, off_fuel_is_a_usage_error);
    tcase_add_test(off, off_no_checks);
    suite_add_tcase(s, off);

    TCase *epoch = tcase_create("epoch");
    tcase_set_timeout(epoch, 60);
    tcase_add_test(epoch, epoch_counter);
    tcase_add_test(epoch, epoch_fresh_store_traps_at_once);
    tcase_add_test(epoch, epoch_deadline_lets_bounded_code_run);
    tcase_add_test(epoch, epoch_interrupts_a_loop);
    tcase_add_test(epoch, epoch_interrupts_a_recursion);
    tcase_add_test(epoch, epoch_interrupts_every_store);
    tcase_add_test(epoch, epoch_interrupts_nested_activations);
    suite_add_tcase(s, epoch);

    TCase *cb = tcase_create("epoch callback");
    tcase_set_timeout(cb, 60);
    tcase_add_test(cb, callback_continues_then_traps);
    tcase_add_test(cb, callback_at_every_check);
    tcase_add_test(cb, callback_preserves_registers_every_check);
    tcase_add_test(cb, callback_preserves_registers_with_ticker);
    tcase_add_test(cb, callback_grows_dynamic_memory);
    suite_add_tcase(s, cb);

    TCase *fuel = tcase_create("fuel");
    tcase_set_timeout(fuel, 60);
    tcase_add_test(fuel, fuel_exact_accounting);
    tcase_add_test(fuel, fuel_and_checks_of_inlined_callees);
    tcase_add_test(fuel, fuel_fresh_store_traps);
    tcase_add_test(fuel, fuel_runs_out);
    tcase_add_test(fuel, fuel_clamps_to_int64_max);
    tcase_add_test(fuel, fuel_instruction_costs);
    tcase_add_test(fuel, fuel_folded_loads);
    tcase_add_test(fuel, fuel_host_functions_consume_none);
    tcase_add_test(fuel, fuel_runs_around_calls_and_branches);
    tcase_add_test(fuel, fuel_runs_out_at_a_loop_header);
    suite_add_tcase(s, fuel);

    TCase *both = tcase_create("both");
    tcase_set_timeout(both, 60);
    tcase_add_test(both, both_fuel_and_epoch);
    tcase_add_test(both, both_callback_refuels);
    tcase_add_test(both, both_checks_in_order);
    suite_add_tcase(s, both);
    return s;
}

int main(void)
{
    return unit_run_tiers(interrupt_suite, &fx_tier);
}
