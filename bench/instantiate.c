/*
 * bench/instantiate: the cost of instantiation, in microseconds per
 * instance, and compile throughput, measured in-process with
 * CLOCK_MONOTONIC through the public API only:
 *
 *   bench/instantiate [--runs R] [--threads T] [--allocator NAME]...
 *                     [--wasi HELLO.wasm] [COMPILE.wasm...]
 *
 * Modules: the generated ones of bench/modules.h (empty, memory, data,
 * small, large), and a WASI program (HELLO.wasm, e.g. the build's
 * examples/hello.wasm) when given. Each is compiled once; then one
 * instantiation is wj_store_new + wj_instance_new + wj_store_delete (which
 * frees the instance: there is no wj_instance_delete); for the WASI
 * program also a wj_wasi_config with one argument, wj_wasi_new and linking
 * its imports with wj_wasi_import, as a host does per instance.
 *
 * Sequential: one thread instantiating in a loop. Parallel: T threads
 * (default: one per online CPU), each with its own stores, instantiating
 * in a loop at the same time; the time per instantiation is the wall time
 * from the common start to the last thread's end divided by the
 * instantiations of one thread (what each thread sees). The loop length is
 * calibrated so a run lasts about RUN_TARGET_NS; after one untimed
 * warm-up run the median and minimum over R runs (default 7) are reported,
 * and the ratio large / small (the same memory and data; 31,930 vs 10
 * functions, 7,420 vs 10 table slots).
 *
 * Allocators (--allocator, repeatable; default all): how the engine's
 * memories, tables and instances are allocated: "default" and "pooling"
 * (wj_config_set_pooling with the default limits). Another is an entry of
 * `allocators` below that configures wj_config.
 *
 * Compile (measured first): wj_module_new + wj_module_delete of the large
 * module and of the COMPILE.wasm files, in MB/s of code section (median
 * over R runs) over wall time and over the CPU time of all threads (MB/s
 * per core), with one compile thread and with T, after COMPILE_WARM_UPS
 * untimed ones.
 *
 * Every instance of a module with functions is checked once (the exports
 * return what bench_func_result says), so a broken runtime fails loudly
 * rather than report a time. bench/run-instantiate.sh runs it.
 */
#define _GNU_SOURCE /* sysconf's _SC_NPROCESSORS_ONLN */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wasmjail.h>

#include "modules.h"
#include "util.h"

#define MAX_RUNS 99
#define MAX_THREADS 256
#define MAX_ALLOCATORS 8
#define RUN_TARGET_NS 20e6
#define CODE_SECTION_ID 10
#define COMPILE_WARM_UPS 5 /* untimed compilations before the timed ones */

const char *bench_program = "instantiate";
static int run_count = 7;

/* CPU time of every thread of the process (compile threads included). */
static double cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* ==== allocators ============================================================ */

/* An engine configuration under which every module is measured. */
typedef struct allocator {
    const char *name;
    void (*configure)(wj_config *config); /* NULL: the defaults */
} allocator;

/* The pooling allocator with its default limits, which the modules here
 * fit (one memory and one table of at most 7,420 elements per instance). */
static void configure_pooling(wj_config *config)
{
    wj_pooling_config pooling;
    wj_pooling_config_init(&pooling);
    wj_config_set_pooling(config, &pooling);
}

static const allocator allocators[] = {
    {"default", NULL},
    {"pooling", configure_pooling},
};
#define ALLOCATOR_COUNT (sizeof allocators / sizeof *allocators)

/* ==== the modules ============================================================ */

typedef struct bench_target {
    char name[64];
    uint8_t *bytes;
    size_t len;
    uint32_t nfuncs, nslots; /* generated modules with functions */
    bool wasi;
    wj_engine *engine;
    wj_module *module;
} bench_target;

static wj_module *compile_or_fail(wj_engine *engine, const char *name, const uint8_t *bytes,
                                  size_t len)
{
    wj_module *module;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    if (err)
        fail("%s: %s", name, wj_error_message(err));
    return module;
}

/* ==== instantiation ========================================================== */

/* Instantiates t->module in `store`, its imports linked to a new WASI
 * context when it is the WASI program; `imports` has room for them. */
static wj_instance *instantiate(const bench_target *t, wj_store *store, wj_extern *imports)
{
    size_t import_count = wj_module_import_count(t->module);
    if (t->wasi) {
        wj_wasi_config *config = wj_wasi_config_new();
        if (!config || !wj_wasi_config_push_arg(config, t->name))
            fail("%s: cannot make a WASI configuration", t->name);
        wj_wasi *wasi = wj_wasi_new(store, config);
        if (!wasi)
            fail("%s: wj_wasi_new failed", t->name);
        for (size_t i = 0; i < import_count; i++) {
            if (!wj_wasi_import(wasi, t->module, i, &imports[i])) {
                wj_import_info info;
                wj_module_import(t->module, i, &info);
                fail("%s: import %s.%s is not WASI", t->name, info.module, info.name);
            }
        }
    } else if (import_count) {
        fail("%s: has imports", t->name);
    }
    wj_instance *instance;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(store, t->module, imports, import_count, &instance, &trap);
    if (err)
        fail("instantiating %s: %s", t->name, wj_error_message(err));
    if (trap)
        fail("instantiating %s: trap: %s", t->name, wj_trap_message(trap));
    return instance;
}

static void instantiate_loop(const bench_target *t, uint32_t iterations, wj_extern *imports)
{
    for (uint32_t i = 0; i < iterations; i++) {
        wj_store *store = wj_store_new(t->engine);
        if (!store)
            fail("wj_store_new failed");
        instantiate(t, store, imports);
        wj_store_delete(store);
    }
}

static wj_extern *import_scratch(const bench_target *t)
{
    wj_extern *imports = calloc(wj_module_import_count(t->module) + 1, sizeof *imports);
    if (!imports)
        fail("out of memory");
    return imports;
}

/* Checks that an instance of a generated module with functions works:
 * dispatch through every table slot (the first 100 of a large table). */
static void check_instance(const bench_target *t)
{
    wj_store *store = wj_store_new(t->engine);
    wj_extern *imports = import_scratch(t);
    wj_instance *instance = store ? instantiate(t, store, imports) : NULL;
    wj_extern dispatch;
    if (!instance || !wj_instance_export(instance, "dispatch", 8, &dispatch) ||
        dispatch.kind != WJ_EXTERN_FUNC)
        fail("%s: no exported function dispatch", t->name);
    for (uint32_t slot = 0; slot < t->nslots && slot < 100; slot++) {
        uint32_t x = slot * 2654435761u;
        wj_val args[2] = {{.kind = WJ_I32, .of.i32 = (int32_t)slot},
                          {.kind = WJ_I32, .of.i32 = (int32_t)x}};
        wj_val result;
        wj_trap *trap = NULL;
        wj_error *err = wj_func_call(dispatch.of.func, args, 2, &result, 1, &trap);
        if (err || trap)
            fail("%s: dispatch(%u): %s", t->name, slot,
                 err ? wj_error_message(err) : wj_trap_message(trap));
        uint32_t want = bench_func_result(bench_table_func(t->nfuncs, slot), x);
        if ((uint32_t)result.of.i32 != want)
            fail("%s: dispatch(%u, %u) returned %u, expected %u", t->name, slot, x,
                 (uint32_t)result.of.i32, want);
    }
    free(imports);
    wj_store_delete(store);
}

/* Instantiations per thread per run: a run lasts about RUN_TARGET_NS. */
static uint32_t calibrate(const bench_target *t)
{
    wj_extern *imports = import_scratch(t);
    uint32_t n = 1;
    for (;;) {
        double start = now_ns();
        instantiate_loop(t, n, imports);
        double elapsed = now_ns() - start;
        if (elapsed >= RUN_TARGET_NS / 4 || n >= (1u << 24)) {
            double per_run = (double)n * RUN_TARGET_NS / (elapsed > 1 ? elapsed : 1);
            free(imports);
            return per_run < 1 ? 1 : per_run > 1e7 ? 10000000u : (uint32_t)per_run;
        }
        n *= 2;
    }
}

/* ---- threads ---- */

typedef struct worker {
    pthread_t thread;
    const bench_target *target;
    uint32_t iterations;
    pthread_barrier_t *start;
    double begin_ns, end_ns;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    wj_extern *imports = import_scratch(w->target);
    pthread_barrier_wait(w->start);
    w->begin_ns = now_ns();
    instantiate_loop(w->target, w->iterations, imports);
    w->end_ns = now_ns();
    free(imports);
    return NULL;
}

/* Microseconds per instantiation of one run on `threads` threads at once. */
static double timed_run(const bench_target *t, int threads, uint32_t iterations)
{
    worker workers[MAX_THREADS];
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)threads) != 0)
        fail("pthread_barrier_init failed");
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker){.target = t, .iterations = iterations, .start = &start};
        if (i > 0 && pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            fail("pthread_create failed");
    }
    worker_main(&workers[0]); /* this thread is the first worker */
    double begin = workers[0].begin_ns, end = workers[0].end_ns;
    for (int i = 1; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        begin = workers[i].begin_ns < begin ? workers[i].begin_ns : begin;
        end = workers[i].end_ns > end ? workers[i].end_ns : end;
    }
    pthread_barrier_destroy(&start);
    return (end - begin) / iterations / 1e3;
}

static stats time_instantiation(const bench_target *t, int threads, uint32_t iterations)
{
    double samples[MAX_RUNS];
    timed_run(t, threads, iterations); /* warm-up */
    for (int r = 0; r < run_count; r++)
        samples[r] = timed_run(t, threads, iterations);
    return summarize(samples, run_count);
}

/* ==== compilation ============================================================ */

static uint64_t code_section_size(const wj_module *module)
{
    wj_section_info info;
    for (size_t i = 0; wj_module_section(module, i, &info); i++)
        if (info.id == CODE_SECTION_ID)
            return info.size;
    return 0;
}

/* Compiles the bytes R times with 1 and with `threads` compile threads;
 * prints a row for each. The warm-up compilations let malloc settle: its
 * first large blocks are fresh mappings, returned at once when freed, and
 * cost their page faults again each time until malloc keeps them. */
static void compile_rows(const char *name, const uint8_t *bytes, size_t len, int threads)
{
    for (int pass = 0; pass < (threads > 1 ? 2 : 1); pass++) {
        int n = pass ? threads : 1;
        wj_config *config = wj_config_new();
        if (!config)
            fail("out of memory");
        wj_config_set_compile_threads(config, (uint32_t)n);
        wj_engine *engine = wj_engine_new(config);
        wj_config_delete(config);
        if (!engine)
            fail("cannot create an engine");
        wj_module *module = compile_or_fail(engine, name, bytes, len);
        uint64_t code_bytes = code_section_size(module);
        wj_module_delete(module);
        for (int i = 1; i < COMPILE_WARM_UPS; i++)
            wj_module_delete(compile_or_fail(engine, name, bytes, len));
        double wall[MAX_RUNS], cpu[MAX_RUNS];
        for (int r = 0; r < run_count; r++) {
            double start = now_ns(), cpu_start = cpu_ns();
            wj_module_delete(compile_or_fail(engine, name, bytes, len));
            wall[r] = now_ns() - start;
            cpu[r] = cpu_ns() - cpu_start;
        }
        stats s = summarize(wall, run_count), c = summarize(cpu, run_count);
        printf("%-30s %7d %10llu %10.2f %10.2f %10.1f %10.2f %10.1f\n", name, n,
               (unsigned long long)code_bytes, s.median / 1e6, s.min / 1e6,
               (double)code_bytes / (s.median / 1e9) / 1e6, c.median / 1e6,
               (double)code_bytes / (c.median / 1e9) / 1e6);
        fflush(stdout);
        wj_engine_delete(engine);
    }
}

/* The last two parts of a path: "gcc-loops/benchmark.wasm". */
static const char *short_name(const char *path)
{
    const char *start = path + strlen(path);
    for (int slashes = 0; start > path; start--)
        if (start[-1] == '/' && ++slashes == 2)
            break;
    return start;
}

/* ==== main ==================================================================== */

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: instantiate [--runs R] [--threads T] [--allocator NAME]... "
                    "[--wasi HELLO.wasm] [COMPILE.wasm...]\n");
    exit(2);
}

static long number_arg(const char *option, const char *value, long min, long max)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < min || n > max)
        fail("%s takes a number from %ld to %ld", option, min, max);
    return n;
}

static const allocator *find_allocator(const char *name)
{
    for (size_t i = 0; i < ALLOCATOR_COUNT; i++)
        if (strcmp(allocators[i].name, name) == 0)
            return &allocators[i];
    fprintf(stderr, "instantiate: unknown allocator %s; known:", name);
    for (size_t i = 0; i < ALLOCATOR_COUNT; i++)
        fprintf(stderr, " %s", allocators[i].name);
    fputc('\n', stderr);
    exit(2);
}

static wj_engine *engine_for(const allocator *a)
{
    wj_config *config = wj_config_new();
    if (!config)
        fail("out of memory");
    if (a->configure)
        a->configure(config);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    if (!engine)
        fail("cannot create an engine");
    return engine;
}

/* Measures every target under allocator `a`; prints its rows. */
static void measure_allocator(const allocator *a, bench_target *targets, int count, int threads)
{
    wj_engine *engine = engine_for(a);
    stats seq[BENCH_SHAPES], par[BENCH_SHAPES];
    for (int i = 0; i < count; i++) {
        bench_target *t = &targets[i];
        t->engine = engine;
        t->module = compile_or_fail(engine, t->name, t->bytes, t->len);
        if (t->nfuncs)
            check_instance(t);
        uint32_t iterations = calibrate(t);
        stats s = time_instantiation(t, 1, iterations);
        stats p = time_instantiation(t, threads, iterations);
        if (i < BENCH_SHAPES)
            seq[i] = s, par[i] = p;
        printf("%-10s %-20s %6u %6u %10.2f %10.2f %10.2f %10.2f\n", a->name, t->name, t->nfuncs,
               t->nslots, s.median, s.min, p.median, p.min);
        fflush(stdout);
        wj_module_delete(t->module);
        t->module = NULL;
    }
    printf("%-10s large/small: sequential %.2f, parallel %.2f (acceptance: at most 1.5)\n\n",
           a->name, seq[BENCH_LARGE].median / seq[BENCH_SMALL].median,
           par[BENCH_LARGE].median / par[BENCH_SMALL].median);
    wj_engine_delete(engine);
}

int main(int argc, char **argv)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = online < 1 ? 1 : online > MAX_THREADS ? MAX_THREADS : (int)online;
    const allocator *chosen[MAX_ALLOCATORS];
    size_t nchosen = 0;
    const char *wasi_path = NULL;
    int arg = 1;
    for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg += 2) {
        if (arg + 1 >= argc)
            usage();
        if (strcmp(argv[arg], "--runs") == 0)
            run_count = (int)number_arg("--runs", argv[arg + 1], 1, MAX_RUNS);
        else if (strcmp(argv[arg], "--threads") == 0)
            threads = (int)number_arg("--threads", argv[arg + 1], 1, MAX_THREADS);
        else if (strcmp(argv[arg], "--allocator") == 0 && nchosen < MAX_ALLOCATORS)
            chosen[nchosen++] = find_allocator(argv[arg + 1]);
        else if (strcmp(argv[arg], "--wasi") == 0)
            wasi_path = argv[arg + 1];
        else
            usage();
    }
    if (nchosen == 0)
        for (size_t i = 0; i < ALLOCATOR_COUNT; i++)
            chosen[nchosen++] = &allocators[i];

    bench_target targets[BENCH_SHAPES + 1];
    int count = 0;
    for (bench_shape shape = 0; shape < BENCH_SHAPES; shape++) {
        bench_module m = bench_module_build(shape);
        if (!m.bytes)
            fail("out of memory building the %s module", bench_shape_name(shape));
        targets[count] = (bench_target){.bytes = m.bytes, .len = m.len, .nfuncs = m.nfuncs,
                                        .nslots = m.nslots};
        snprintf(targets[count++].name, sizeof targets->name, "%s", bench_shape_name(shape));
    }
    if (wasi_path) {
        targets[count] = (bench_target){.wasi = true};
        targets[count].bytes = read_file(wasi_path, &targets[count].len);
        snprintf(targets[count++].name, sizeof targets->name, "%s", short_name(wasi_path));
    }

    /* Compilation first, in a fresh process: after thousands of
     * instantiations malloc's state makes the same compilation slower
     * (the large module by a fifth). */
    printf("wasmjail %s: bench/instantiate, median and min of %d runs\n\n", wj_version(),
           run_count);
    printf("compile: wj_module_new + wj_module_delete, with 1 and %d compile threads\n"
           "  (wj_config_set_compile_threads); MB/s of code section over wall time, and\n"
           "  per core: over the CPU time of all threads\n",
           threads);
    printf("%-30s %7s %10s %10s %10s %10s %10s %10s\n", "module", "threads", "code_bytes",
           "median_ms", "min_ms", "MB/s", "cpu_ms", "MB/cpu_s");
    compile_rows("large (generated)", targets[BENCH_LARGE].bytes, targets[BENCH_LARGE].len,
                 threads);
    for (; arg < argc; arg++) {
        size_t len;
        uint8_t *bytes = read_file(argv[arg], &len);
        compile_rows(short_name(argv[arg]), bytes, len, threads);
        free(bytes);
    }

    printf("\ninstantiation, us: wj_store_new + wj_instance_new + wj_store_delete (for WASI\n"
           "  also wj_wasi_new and wj_wasi_import); parallel: %d threads at once, wall time\n"
           "  over the instantiations of one thread\n",
           threads);
    printf("%-10s %-20s %6s %6s %10s %10s %10s %10s\n", "allocator", "module", "funcs", "slots",
           "seq_med", "seq_min", "par_med", "par_min");
    for (size_t i = 0; i < nchosen; i++)
        measure_allocator(chosen[i], targets, count, threads);
    for (int i = 0; i < count; i++)
        free(targets[i].bytes);
    return 0;
}
