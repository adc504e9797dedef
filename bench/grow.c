/*
 * bench/grow: the cost of many small memory.grow calls, in microseconds per
 * grow, measured in-process with CLOCK_MONOTONIC:
 *
 *   bench/grow [RUNS]
 *
 * A wasm export runs `memory.grow 1` N times from a one-page memory and
 * stores one byte into each new page, so that every page is really faulted
 * in (an untouched mapping would flatter mremap). It is timed for
 *   (a) a static 32-bit memory (the default: mprotect within a reservation),
 *   (b) a dynamic 32-bit memory (wj_config_set_dynamic_memories: mprotect
 *       within a reservation of its size, moved by mremap into one of twice
 *       the size when it outgrows it),
 *   (c) a memory64 memory (always dynamic: mprotect within a reservation
 *       of its maximum, the engine's 4 GiB limit),
 * against (d), done in C here: what a runtime without mremap must do, i.e.
 * for each grow map a region of the new size, copy the old contents, unmap
 * the old region and touch the new page. (d) is quadratic in N, which is
 * the point of comparing at two sizes.
 *
 * Each run starts from a fresh store and instance (set-up untimed); after
 * one untimed warm-up run (none for (d)), the median and minimum over RUNS
 * runs (default 7) are reported, with their ratios to (d). (d) dominates
 * the running time: minutes with the default RUNS. Every result is checked (each
 * grow returns the previous size, the final size is N + 1, every new page
 * holds its byte), so that a broken runtime fails rather than print times.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <wasmjail.h>

#define MAX_RUNS 99
#define PAGE 65536u
#define INITIAL_PAGES 1u

static int run_count = 7;

/*
 * The modules, embedded so that the program needs no files (wat2wasm
 * 1.0.32 output; the memory64 one with --enable-memory64). The 32-bit one:
 *
 *   (module
 *     (memory (export "mem") 1)
 *     (func (export "grow") (param $n i32) (result i32)
 *       (local $i i32) (local $old i32)
 *       (block $done
 *         (loop $next
 *           (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *           (local.set $old (memory.grow (i32.const 1)))
 *           (if (i32.ne (local.get $old) (i32.add (local.get $i) (i32.const 1)))
 *             (then unreachable))
 *           (i32.store8 (i32.shl (local.get $old) (i32.const 16)) (i32.const 1))
 *           (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *           (br $next)))
 *       (memory.size)))
 *
 * The memory64 one is the same with `(memory (export "mem") i64 1)`, $old
 * an i64, `(i64.const 1)` as the delta, the comparison made in i64 against
 * `(i64.extend_i32_u ...)`, an i64.shl for the address and
 * `(i32.wrap_i64 (memory.size))` as the result. A grow that returns
 * anything but the previous size (including -1) traps.
 */
static const uint8_t grow32_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0e, 0x02, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x0a, 0x3a, 0x01, 0x38,
    0x01, 0x02, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x41,
    0x01, 0x40, 0x00, 0x21, 0x02, 0x20, 0x02, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x47, 0x04, 0x40,
    0x00, 0x0b, 0x20, 0x02, 0x41, 0x10, 0x74, 0x41, 0x01, 0x3a, 0x00, 0x00, 0x20, 0x01, 0x41,
    0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x3f, 0x00, 0x0b,
};

static const uint8_t grow64_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x04, 0x01, 0x07, 0x0e, 0x02, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x0a, 0x3e, 0x01, 0x3c,
    0x02, 0x01, 0x7f, 0x01, 0x7e, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d,
    0x01, 0x42, 0x01, 0x40, 0x00, 0x21, 0x02, 0x20, 0x02, 0x20, 0x01, 0x41, 0x01, 0x6a, 0xad,
    0x52, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x02, 0x42, 0x10, 0x86, 0x41, 0x01, 0x3a, 0x00, 0x00,
    0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x3f, 0x00, 0xa7, 0x0b,
};

static _Noreturn void fail(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("grow: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void check_error(wj_error *err, const char *what)
{
    if (err) {
        fail("%s: %s", what, wj_error_message(err));
    }
}

/* Every page past the initial ones must hold the byte stored into it. */
static void check_pages(const uint8_t *data, uint32_t n, const char *what)
{
    for (uint32_t p = INITIAL_PAGES; p < INITIAL_PAGES + n; p++)
        if (data[(size_t)p * PAGE] != 1)
            fail("%s: page %u was not written", what, p);
}

/* ==== (a)-(c): memory.grow in wasm ====================================== */

typedef struct wasm_case {
    const char *name;
    wj_engine *engine;
    wj_module *module;
} wasm_case;

static wasm_case wasm_case_new(const char *name, bool dynamic, bool memory64)
{
    wj_config *config = wj_config_new();
    if (!config)
        fail("out of memory");
    wj_config_set_dynamic_memories(config, dynamic);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, memory64);
    wasm_case c = {.name = name, .engine = wj_engine_new(config)};
    wj_config_delete(config);
    if (!c.engine)
        fail("%s: wj_engine_new failed", name);
    const uint8_t *bytes = memory64 ? grow64_wasm : grow32_wasm;
    size_t len = memory64 ? sizeof grow64_wasm : sizeof grow32_wasm;
    check_error(wj_module_new(c.engine, bytes, len, &c.module), name);
    return c;
}

static void wasm_case_delete(wasm_case *c)
{
    wj_module_delete(c->module);
    wj_engine_delete(c->engine);
}

/* One run: a fresh instance (untimed), then `grow` of n pages (timed). */
static double wasm_run(const wasm_case *c, uint32_t n)
{
    wj_store *store = wj_store_new(c->engine);
    if (!store)
        fail("%s: wj_store_new failed", c->name);
    wj_instance *instance;
    wj_trap *trap = NULL;
    check_error(wj_instance_new(store, c->module, NULL, 0, &instance, &trap), c->name);
    if (trap)
        fail("%s: instantiation trapped: %s", c->name, wj_trap_message(trap));
    wj_extern grow, mem;
    if (!wj_instance_export(instance, "grow", 4, &grow) || grow.kind != WJ_EXTERN_FUNC ||
        !wj_instance_export(instance, "mem", 3, &mem) || mem.kind != WJ_EXTERN_MEMORY)
        fail("%s: missing exports", c->name);

    wj_val arg = {.kind = WJ_I32, .of.i32 = (int32_t)n}, result;
    double start = now_us();
    wj_error *err = wj_func_call(grow.of.func, &arg, 1, &result, 1, &trap);
    double elapsed = now_us() - start;

    check_error(err, c->name);
    if (trap) /* the module traps when a grow does not return the old size */
        fail("%s: trapped (a grow failed or returned a wrong size): %s", c->name,
             wj_trap_message(trap));
    if (result.of.i32 != (int32_t)(n + INITIAL_PAGES) ||
        wj_memory_size(mem.of.memory) != n + INITIAL_PAGES ||
        wj_memory_data_size(mem.of.memory) != (uint64_t)(n + INITIAL_PAGES) * PAGE)
        fail("%s: final size %d pages, want %u", c->name, result.of.i32, n + INITIAL_PAGES);
    check_pages(wj_memory_data(mem.of.memory), n, c->name);
    wj_store_delete(store);
    return elapsed;
}

/* ==== (d): a copying grow, as without mremap ============================ */

static uint8_t *map_pages(size_t pages)
{
    void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail("copying baseline: mmap of %zu pages failed", pages);
    return p;
}

static double copy_run(uint32_t n)
{
    size_t pages = INITIAL_PAGES;
    uint8_t *base = map_pages(pages);
    base[0] = 0; /* the initial page is resident, as an instance's would be */

    double start = now_us();
    for (uint32_t i = 0; i < n; i++) {
        /* memory.grow 1: new mapping, copy, unmap the old one. */
        uint8_t *grown = map_pages(pages + 1);
        memcpy(grown, base, pages * PAGE);
        if (munmap(base, pages * PAGE) != 0)
            fail("copying baseline: munmap failed");
        size_t old = pages++;
        base = grown;
        if (old != INITIAL_PAGES + i)
            fail("copying baseline: grow %u returned %zu", i, old);
        base[old * PAGE] = 1; /* touch the new page */
    }
    double elapsed = now_us() - start;

    if (pages != INITIAL_PAGES + n)
        fail("copying baseline: final size %zu pages, want %u", pages, n + INITIAL_PAGES);
    check_pages(base, n, "copying baseline"); /* the copies kept the bytes */
    munmap(base, pages * PAGE);
    return elapsed;
}

/* ==== timing and report ================================================= */

typedef struct result {
    double median_us, min_us; /* per grow */
} result;

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* wasm == NULL times the copying baseline. The wasm cases get one untimed
 * warm-up run; the baseline none: each of its runs maps fresh memory, its
 * first grows warm its code, and a run of 2048 grows takes about a minute. */
static result measure(const wasm_case *wasm, uint32_t n)
{
    double samples[MAX_RUNS];
    for (int r = wasm ? -1 : 0; r < run_count; r++) {
        double us = wasm ? wasm_run(wasm, n) : copy_run(n);
        if (r >= 0)
            samples[r] = us / n;
    }
    qsort(samples, (size_t)run_count, sizeof *samples, compare_doubles);
    int mid = run_count / 2;
    double median = run_count % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
    return (result){median, samples[0]};
}

static void print_row(const char *name, result r, result base)
{
    printf("  %-36s %10.2f %10.2f %9.2e %9.2e\n", name, r.median_us, r.min_us,
           r.median_us / base.median_us, r.min_us / base.min_us);
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (atoi(argv[1]) < 1 || atoi(argv[1]) > MAX_RUNS))) {
        fprintf(stderr, "usage: grow [RUNS]   (RUNS in 1..%d, default 7)\n", MAX_RUNS);
        return 2;
    }
    if (argc == 2)
        run_count = atoi(argv[1]);

    enum { CASES = 3 };
    wasm_case cases[CASES] = {
        wasm_case_new("(a) static 32-bit (mprotect)", false, false),
        wasm_case_new("(b) dynamic 32-bit (doubling)", true, false),
        wasm_case_new("(c) memory64 (reserved max)", false, true),
    };
    static const uint32_t sizes[] = {256, 2048};

    printf("memory.grow 1 + one byte stored into the new page, from %u page;\n"
           "us per grow, median and min of %d runs; ratios to (d)\n",
           INITIAL_PAGES, run_count);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint32_t n = sizes[s];
        result base = measure(NULL, n);
        printf("\nN = %u grows\n  %-36s %10s %10s %9s %9s\n", n, "", "median", "min",
               "med/(d)", "min/(d)");
        for (int c = 0; c < CASES; c++) {
            print_row(cases[c].name, measure(&cases[c], n), base);
            fflush(stdout);
        }
        print_row("(d) copying grow in C (mmap+memcpy)", base, base);
        fflush(stdout);
    }
    for (int c = 0; c < CASES; c++)
        wasm_case_delete(&cases[c]);
    return 0;
}
