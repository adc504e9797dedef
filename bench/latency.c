/*
 * bench/latency-bench: latency of the boundaries an embedder pays for, in
 * nanoseconds per operation, measured in-process with CLOCK_MONOTONIC:
 * calls host -> wasm, wasm -> wasm, wasm -> host, traps, instantiation, and
 * the compile time of modules. (The program is not called bench/latency
 * because bench/latency/ holds its modules.)
 *
 *   bench/latency-bench [--runs R] MODULE_DIR KERNELS.wasm [LARGE.wasm...]
 *
 * MODULE_DIR holds calls.wasm, traps.wasm and tiny.wasm, which `make bench`
 * builds from the .wat files in bench/latency/; KERNELS.wasm is
 * bench/kernels/kernels.wasm (also built by `make bench`). The
 * LARGE modules (Sightglass programs, largest first) are candidates for the
 * large-module rows: the first that compiles and imports only functions of
 * wasi_snapshot_preview1 and bench is used, with host functions that trap in
 * place of its imports (instantiation never calls them).
 *
 * Each operation is repeated a fixed number of times per run, after one
 * untimed warm-up run; the median and the minimum over R runs (default 7)
 * are reported. Every result is checked, so that a broken runtime fails
 * loudly rather than reporting a time. bench/run-latency.sh runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wasmjail.h>

#include "util.h"

#define MAX_RUNS 99
#define CODE_SECTION_ID 10

/* Iterations per run: enough for each run to last tens of milliseconds. */
#define HOST_TO_WASM_CALLS 2000000u
#define WASM_LOOP_CALLS 20000000u
#define WASM_TO_HOST_CALLS 2000000u
#define TRAPS 20000u
#define INSTANTIATIONS_SMALL 2000u
#define INSTANTIATIONS_LARGE 100u
/* Compilations per run: about this many module bytes, within [1, 1000]. */
#define COMPILE_BYTES_PER_RUN (16u << 20)

const char *bench_program = "latency-bench";
static int run_count = 7;

static wj_val i32_val(uint32_t value)
{
    return (wj_val){.kind = WJ_I32, .of.i32 = (int32_t)value};
}

/* ==== timing ============================================================ */

/* A timed operation: performs `iterations` operations, checking each. */
typedef void (*operation_fn)(void *ctx, uint32_t iterations);

static double time_run(operation_fn op, void *ctx, uint32_t iterations)
{
    double start = now_ns();
    op(ctx, iterations);
    return now_ns() - start;
}

/* Time per operation. The warm-up run faults in code, data and stacks. */
static stats time_per_op(operation_fn op, void *ctx, uint32_t iterations)
{
    double samples[MAX_RUNS];
    op(ctx, iterations);
    for (int r = 0; r < run_count; r++)
        samples[r] = time_run(op, ctx, iterations) / iterations;
    return summarize(samples, run_count);
}

/* Time per operation of `op` minus that of `baseline`: the cost of what
 * `op` adds to the same loop. The two alternate within each run so that
 * both see the same machine state. */
static stats time_per_op_net(operation_fn op, void *op_ctx, operation_fn baseline,
                               void *baseline_ctx, uint32_t iterations)
{
    double samples[MAX_RUNS];
    op(op_ctx, iterations);
    baseline(baseline_ctx, iterations);
    for (int r = 0; r < run_count; r++) {
        double base = time_run(baseline, baseline_ctx, iterations);
        samples[r] = (time_run(op, op_ctx, iterations) - base) / iterations;
    }
    return summarize(samples, run_count);
}

static void print_row(const char *operation, stats l)
{
    printf("%-50s %12.1f %12.1f\n", operation, l.median, l.min);
    fflush(stdout);
}

/* ==== modules and instances ============================================== */

static wj_module *compile_or_fail(wj_engine *engine, const char *path, const uint8_t *bytes,
                                  size_t len)
{
    wj_module *module;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    if (err)
        fail("%s: %s", path, wj_error_message(err));
    return module;
}

static wj_module *load_module(wj_engine *engine, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    wj_module *module = compile_or_fail(engine, path, bytes, len);
    free(bytes);
    return module;
}

static wj_instance *instantiate_or_fail(wj_store *store, const wj_module *module,
                                        const wj_extern *imports, size_t import_count,
                                        const char *what)
{
    wj_instance *instance;
    wj_trap *trap;
    wj_error *err = wj_instance_new(store, module, imports, import_count, &instance, &trap);
    if (err)
        fail("instantiating %s: %s", what, wj_error_message(err));
    if (trap)
        fail("instantiating %s: trap: %s", what, wj_trap_message(trap));
    return instance;
}

static wj_func *export_func(const wj_instance *instance, const char *name)
{
    wj_extern ex;
    if (!wj_instance_export(instance, name, strlen(name), &ex) || ex.kind != WJ_EXTERN_FUNC)
        fail("no exported function %s", name);
    return ex.of.func;
}

/* Calls a function returning one i32 and returns it; fails on anything else. */
static uint32_t call_i32(wj_func *func, const wj_val *args, size_t arg_count, const char *what)
{
    wj_val result;
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(func, args, arg_count, &result, 1, &trap);
    if (err)
        fail("%s: %s", what, wj_error_message(err));
    if (trap)
        fail("%s: unexpected trap: %s", what, wj_trap_message(trap));
    if (result.kind != WJ_I32)
        fail("%s: result has type %s, expected i32", what, wj_valtype_name(result.kind));
    return (uint32_t)result.of.i32;
}

/* ==== host -> wasm ======================================================== */

static void call_nop(void *ctx, uint32_t iterations)
{
    wj_func *nop = ctx;
    for (uint32_t i = 0; i < iterations; i++) {
        wj_trap *trap = NULL;
        wj_error *err = wj_func_call(nop, NULL, 0, NULL, 0, &trap);
        if (err || trap)
            fail("nop: %s", err ? wj_error_message(err) : wj_trap_message(trap));
    }
}

static void call_add(void *ctx, uint32_t iterations)
{
    wj_func *add = ctx;
    for (uint32_t i = 0; i < iterations; i++) {
        wj_val args[2] = {i32_val(i), i32_val(3 * i + 7)}, sum;
        wj_trap *trap = NULL;
        wj_error *err = wj_func_call(add, args, 2, &sum, 1, &trap);
        if (err || trap)
            fail("add: %s", err ? wj_error_message(err) : wj_trap_message(trap));
        if (sum.kind != WJ_I32 || (uint32_t)sum.of.i32 != 4 * i + 7)
            fail("add(%u, %u) returned %d, expected %u", i, 3 * i + 7, sum.of.i32, 4 * i + 7);
    }
}

/* ==== loops in wasm: wasm -> wasm, wasm -> host ========================== */

/* An export of calls.wat that loops n times and returns n. */
typedef struct wasm_loop {
    const char *name;
    wj_func *func;
    size_t arg_count; /* 2 for loop_call_indirect: n and the table slot */
} wasm_loop;

static void run_wasm_loop(void *ctx, uint32_t iterations)
{
    const wasm_loop *loop = ctx;
    wj_val args[2] = {i32_val(iterations), i32_val(0)};
    uint32_t count = call_i32(loop->func, args, loop->arg_count, loop->name);
    if (count != iterations)
        fail("%s(%u) returned %u", loop->name, iterations, count);
}

/* The import of calls.wat that the wasm -> host loop calls. */
static wj_trap *host_add1(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)env, (void)caller;
    results[0] = i32_val((uint32_t)args[0].of.i32 + 1);
    return NULL;
}

/* ==== traps ================================================================ */

typedef struct trapping_call {
    const char *name;
    wj_func *func;
    wj_val arg;
    size_t arg_count, result_count;
    wj_trap_code expected;
} trapping_call;

static void call_until_trap(void *ctx, uint32_t iterations)
{
    const trapping_call *call = ctx;
    for (uint32_t i = 0; i < iterations; i++) {
        wj_val result;
        wj_trap *trap = NULL;
        wj_error *err =
            wj_func_call(call->func, &call->arg, call->arg_count, &result, call->result_count, &trap);
        if (err)
            fail("%s: %s", call->name, wj_error_message(err));
        if (!trap)
            fail("%s: returned instead of trapping", call->name);
        if (wj_trap_code_of(trap) != call->expected)
            fail("%s: trapped with \"%s\" (code %d), expected code %d", call->name,
                 wj_trap_message(trap), (int)wj_trap_code_of(trap), (int)call->expected);
        wj_trap_delete(trap);
    }
}

/* ==== instantiation ======================================================== */

static const char *const stub_import_modules[] = {"wasi_snapshot_preview1", "bench"};

/* What a stub import does if called: instantiation never calls it. */
static wj_trap *stub_import(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)env, (void)caller, (void)args, (void)results;
    return wj_trap_new("import not provided by bench/latency-bench");
}

/* Why the module's imports cannot all be stubbed, or NULL if they can. */
static const char *unstubbable_import(const wj_module *module)
{
    wj_import_info info;
    for (size_t i = 0; wj_module_import(module, i, &info); i++) {
        if (info.kind != WJ_EXTERN_FUNC)
            return "imports something other than functions";
        bool known = false;
        for (size_t k = 0; k < sizeof stub_import_modules / sizeof *stub_import_modules; k++)
            known |= strcmp(info.module, stub_import_modules[k]) == 0;
        if (!known)
            return "imports functions from modules other than wasi_snapshot_preview1 and bench";
    }
    return NULL;
}

/* One instantiation per iteration, each in a new store: wasmjail frees an
 * instance only with its store (there is no wj_instance_delete). */
typedef struct instantiation {
    const char *name;
    wj_engine *engine;
    const wj_module *module; /* NULL: only the store */
    wj_extern *imports;      /* scratch for the stub imports */
    size_t import_count;
} instantiation;

static void instantiate_in_new_store(void *ctx, uint32_t iterations)
{
    const instantiation *inst = ctx;
    for (uint32_t i = 0; i < iterations; i++) {
        wj_store *store = wj_store_new(inst->engine);
        if (!store)
            fail("wj_store_new failed");
        if (inst->module) {
            /* Host functions belong to a store, so the stubs are made anew. */
            for (size_t k = 0; k < inst->import_count; k++) {
                wj_import_info info;
                wj_functype type;
                wj_module_import(inst->module, k, &info);
                wj_module_func_type(inst->module, info.index, &type);
                wj_func *stub = wj_func_new(store, &type, stub_import, NULL, NULL);
                if (!stub)
                    fail("%s: cannot make a host function for import %s.%s", inst->name,
                         info.module, info.name);
                inst->imports[k] = (wj_extern){.kind = WJ_EXTERN_FUNC, .of.func = stub};
            }
            instantiate_or_fail(store, inst->module, inst->imports, inst->import_count,
                                inst->name);
        }
        wj_store_delete(store);
    }
}

static instantiation instantiation_of(wj_engine *engine, const wj_module *module,
                                      const char *name)
{
    size_t import_count = module ? wj_module_import_count(module) : 0;
    wj_extern *imports = calloc(import_count + 1, sizeof *imports);
    if (!imports)
        fail("out of memory");
    return (instantiation){name, engine, module, imports, import_count};
}

/* ==== compilation ========================================================= */

typedef struct compilation {
    const char *name;
    wj_engine *engine;
    const uint8_t *bytes;
    size_t len;
} compilation;

static void compile_and_delete(void *ctx, uint32_t iterations)
{
    const compilation *c = ctx;
    for (uint32_t i = 0; i < iterations; i++)
        wj_module_delete(compile_or_fail(c->engine, c->name, c->bytes, c->len));
}

static uint64_t code_section_size(const wj_module *module)
{
    wj_section_info info;
    for (size_t i = 0; wj_module_section(module, i, &info); i++)
        if (info.id == CODE_SECTION_ID)
            return info.size;
    return 0;
}

static void print_compile_row(const compilation *c, uint64_t code_bytes)
{
    uint32_t iterations = COMPILE_BYTES_PER_RUN / (c->len ? c->len : 1);
    iterations = iterations < 1 ? 1 : iterations > 1000 ? 1000 : iterations;
    stats l = time_per_op(compile_and_delete, (void *)c, iterations);
    printf("%-38s %10llu %10llu %10.3f %10.3f %10.1f\n", c->name, (unsigned long long)c->len,
           (unsigned long long)code_bytes, l.median / 1e6, l.min / 1e6,
           (double)code_bytes / (l.median / 1e9) / 1e6);
    fflush(stdout);
}

/* ==== the large module ===================================================== */

typedef struct large_module {
    char name[64]; /* the last two parts of its path: "gcc-loops/benchmark.wasm" */
    uint8_t *bytes;
    size_t len;
    wj_module *module;
} large_module;

static void short_name(const char *path, char *out, size_t size)
{
    const char *start = path + strlen(path);
    for (int slashes = 0; start > path; start--)
        if (start[-1] == '/' && ++slashes == 2)
            break;
    snprintf(out, size, "%s", start);
}

/* Takes the first candidate that compiles, has only stubbable imports and
 * instantiates; says why each one before it was passed over. */
static bool pick_large_module(wj_engine *engine, char **candidates, int count,
                              large_module *out)
{
    for (int i = 0; i < count; i++) {
        large_module m = {.module = NULL};
        short_name(candidates[i], m.name, sizeof m.name);
        m.bytes = read_file(candidates[i], &m.len);
        const char *why = NULL;
        wj_error *err = wj_module_new(engine, m.bytes, m.len, &m.module);
        if (err)
            fprintf(stderr, "note: not using %s: %s\n", candidates[i], wj_error_message(err));
        else if ((why = unstubbable_import(m.module)) != NULL)
            fprintf(stderr, "note: not using %s: it %s\n", candidates[i], why);
        if (!err && !why) {
            /* Instantiate once now, so that a failure is a clear message. */
            instantiation check = instantiation_of(engine, m.module, m.name);
            instantiate_in_new_store(&check, 1);
            free(check.imports);
            *out = m;
            return true;
        }
        wj_error_delete(err);
        wj_module_delete(m.module);
        free(m.bytes);
    }
    return false;
}

/* ==== main ================================================================== */

static void usage(void)
{
    fprintf(stderr, "usage: latency-bench [--runs R] MODULE_DIR KERNELS.wasm [LARGE.wasm...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int arg = 1;
    if (arg + 1 < argc && strcmp(argv[arg], "--runs") == 0) {
        char *end;
        long runs = strtol(argv[arg + 1], &end, 10);
        if (*end || runs < 1 || runs > MAX_RUNS)
            fail("--runs takes a number from 1 to %d", MAX_RUNS);
        run_count = (int)runs;
        arg += 2;
    }
    if (argc - arg < 2)
        usage();
    const char *module_dir = argv[arg], *kernels_path = argv[arg + 1];
    char **large_candidates = argv + arg + 2;
    int large_candidate_count = argc - arg - 2;

    wj_engine *engine = wj_engine_new(NULL);
    wj_store *store = engine ? wj_store_new(engine) : NULL;
    if (!store)
        fail("cannot create an engine and a store");

    /* Everything is loaded and checked before the table starts, so that
     * notes and errors do not land in the middle of it. */
    wj_module *calls_module = load_module(engine, module_dir, "calls.wasm");
    uint8_t host_add1_types[] = {WJ_I32, WJ_I32};
    wj_functype i32_to_i32 = {1, 1, &host_add1_types[0], &host_add1_types[1]};
    wj_func *host_func = wj_func_new(store, &i32_to_i32, host_add1, NULL, NULL);
    if (!host_func)
        fail("wj_func_new failed");
    wj_extern host_import = {.kind = WJ_EXTERN_FUNC, .of.func = host_func};
    wj_instance *calls = instantiate_or_fail(store, calls_module, &host_import, 1, "calls.wasm");

    wj_module *traps_module = load_module(engine, module_dir, "traps.wasm");
    wj_instance *traps = instantiate_or_fail(store, traps_module, NULL, 0, "traps.wasm");
    wj_val last_word = i32_val(65536 - 4);
    if (call_i32(export_func(traps, "load"), &last_word, 1, "load") != 0)
        fail("load(65532) of a fresh memory did not return 0");

    size_t tiny_len, kernels_len;
    char tiny_path[4096];
    snprintf(tiny_path, sizeof tiny_path, "%s/tiny.wasm", module_dir);
    uint8_t *tiny_bytes = read_file(tiny_path, &tiny_len);
    uint8_t *kernels_bytes = read_file(kernels_path, &kernels_len);
    wj_module *tiny = compile_or_fail(engine, tiny_path, tiny_bytes, tiny_len);
    wj_module *kernels = compile_or_fail(engine, kernels_path, kernels_bytes, kernels_len);
    if (wj_module_import_count(kernels) != 0)
        fail("%s has imports", kernels_path);
    large_module large;
    bool have_large =
        pick_large_module(engine, large_candidates, large_candidate_count, &large);

    printf("wasmjail %s: median and min of %d runs, ns per operation\n", wj_version(),
           run_count);
    printf("(net): (time of a wasm loop making one call per iteration - time of the\n"
           "       same loop without the call) / iterations\n");
    printf("instantiate: wj_store_new + wj_instance_new + wj_store_delete (which frees\n"
           "       the instance; there is no wj_instance_delete)\n");
    if (!have_large && large_candidate_count == 0)
        printf("no large module: no Sightglass candidates were given\n");
    else if (!have_large)
        printf("no large module: none of the %d Sightglass candidates could be used\n",
               large_candidate_count);
    printf("\n%-50s %12s %12s\n", "operation", "median_ns", "min_ns");

    print_row("host->wasm  call nop: [] -> []",
              time_per_op(call_nop, export_func(calls, "nop"), HOST_TO_WASM_CALLS));
    print_row("host->wasm  call add: [i32 i32] -> [i32]",
              time_per_op(call_add, export_func(calls, "add"), HOST_TO_WASM_CALLS));

    wasm_loop without_call = {"loop_without_call", export_func(calls, "loop_without_call"), 1};
    wasm_loop direct = {"loop_call_direct", export_func(calls, "loop_call_direct"), 1};
    wasm_loop indirect = {"loop_call_indirect", export_func(calls, "loop_call_indirect"), 2};
    wasm_loop to_host = {"loop_call_host", export_func(calls, "loop_call_host"), 1};
    print_row("wasm        loop iteration without call (baseline)",
              time_per_op(run_wasm_loop, &without_call, WASM_LOOP_CALLS));
    print_row("wasm->wasm  call (net)", time_per_op_net(run_wasm_loop, &direct, run_wasm_loop,
                                                       &without_call, WASM_LOOP_CALLS));
    print_row("wasm->wasm  call_indirect (net)",
              time_per_op_net(run_wasm_loop, &indirect, run_wasm_loop, &without_call,
                              WASM_LOOP_CALLS));
    print_row("wasm->host  call of a wj_func_new function (net)",
              time_per_op_net(run_wasm_loop, &to_host, run_wasm_loop, &without_call,
                              WASM_TO_HOST_CALLS));

    trapping_call unreachable_trap = {"unreachable", export_func(traps, "unreachable"), {0}, 0, 0,
                                      WJ_TRAP_UNREACHABLE};
    trapping_call out_of_bounds = {"load", export_func(traps, "load"), i32_val(65536), 1, 1,
                                   WJ_TRAP_MEMORY_OUT_OF_BOUNDS};
    print_row("trap        unreachable (trap deleted)",
              time_per_op(call_until_trap, &unreachable_trap, TRAPS));
    print_row("trap        out-of-bounds i32.load (trap deleted)",
              time_per_op(call_until_trap, &out_of_bounds, TRAPS));

    instantiation only_store = instantiation_of(engine, NULL, "store");
    instantiation tiny_inst = instantiation_of(engine, tiny, "tiny.wasm");
    instantiation kernels_inst = instantiation_of(engine, kernels, "kernels.wasm");
    print_row("instantiate nothing: store new + delete only",
              time_per_op(instantiate_in_new_store, &only_store, INSTANTIATIONS_SMALL));
    print_row("instantiate tiny.wasm",
              time_per_op(instantiate_in_new_store, &tiny_inst, INSTANTIATIONS_SMALL));
    print_row("instantiate kernels.wasm",
              time_per_op(instantiate_in_new_store, &kernels_inst, INSTANTIATIONS_SMALL));
    if (have_large) {
        instantiation large_inst = instantiation_of(engine, large.module, large.name);
        char row[128];
        snprintf(row, sizeof row, "instantiate %s (+%zu stubs)", large.name,
                 large_inst.import_count);
        print_row(row, time_per_op(instantiate_in_new_store, &large_inst, INSTANTIATIONS_LARGE));
        free(large_inst.imports);
    }

    printf("\n%-38s %10s %10s %10s %10s %10s\n", "compile: wj_module_new + delete", "bytes",
           "code_bytes", "median_ms", "min_ms", "code_MB/s");
    print_compile_row(&(compilation){"tiny.wasm", engine, tiny_bytes, tiny_len},
                      code_section_size(tiny));
    print_compile_row(&(compilation){"kernels.wasm", engine, kernels_bytes, kernels_len},
                      code_section_size(kernels));
    if (have_large)
        print_compile_row(&(compilation){large.name, engine, large.bytes, large.len},
                          code_section_size(large.module));

    free(only_store.imports);
    free(tiny_inst.imports);
    free(kernels_inst.imports);
    if (have_large) {
        wj_module_delete(large.module);
        free(large.bytes);
    }
    wj_store_delete(store);
    wj_module_delete(calls_module);
    wj_module_delete(traps_module);
    wj_module_delete(tiny);
    wj_module_delete(kernels);
    wj_engine_delete(engine);
    free(tiny_bytes);
    free(kernels_bytes);
    return 0;
}
