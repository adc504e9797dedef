/*
 * wasmjail run: instantiate a module with WASI and run its _start, or call
 * one export with --invoke. Exit status: the guest's proc_exit status, 134
 * on a trap (with a report on stderr), 1 when the module cannot be loaded,
 * validated or linked, 2 for a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum {
    OPT_DIR = 256,
    OPT_DIR_RO,
    OPT_ENV,
    OPT_INVOKE,
    OPT_MAX_MEMORY,
    OPT_MAX_STACK,
    OPT_BENCH,
    OPT_DYNAMIC_MEMORIES,
    OPT_FEATURES,
    OPT_JAIL,
    OPT_TIMEOUT,
    OPT_FUEL,
    OPT_TIER,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"dir", required_argument, NULL, OPT_DIR},
    {"dir-ro", required_argument, NULL, OPT_DIR_RO},
    {"env", required_argument, NULL, OPT_ENV},
    {"invoke", required_argument, NULL, OPT_INVOKE},
    {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
    {"max-stack", required_argument, NULL, OPT_MAX_STACK},
    {"bench", optional_argument, NULL, OPT_BENCH},
    {"dynamic-memories", no_argument, NULL, OPT_DYNAMIC_MEMORIES},
    {"features", required_argument, NULL, OPT_FEATURES},
    {"jail", no_argument, NULL, OPT_JAIL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"fuel", required_argument, NULL, OPT_FUEL},
    {"tier", required_argument, NULL, OPT_TIER},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void cmd_run_help(FILE *out)
{
    fprintf(out,
            "Usage: wasmjail run [OPTION]... FILE [ARG]...\n"
            "       wasmjail FILE [ARG]...\n"
            "\n"
            "Runs the WebAssembly program FILE with WASI: calls its _start export with\n"
            "FILE and the ARGs as its arguments. Options come before FILE.\n"
            "\n"
            "Options:\n"
            "      --dir HOST[::GUEST]     give the program the host directory HOST as\n"
            "                              GUEST (default: the same path)\n"
            "      --dir-ro HOST[::GUEST]  the same, read-only\n"
            "      --env NAME[=VALUE]      set an environment variable of the program\n"
            "                              (NAME alone: its value here); it sees no other\n"
            "      --invoke NAME           call the export NAME instead of _start, with\n"
            "                              the ARGs as its parameters; print its results\n"
            "                              (a v128 written as i32x4:1,2,3,-4)\n"
            "      --max-memory SIZE       the most a linear memory may grow to (64M, 2G)\n"
            "      --max-stack SIZE        the most native stack wasm calls may use\n"
            "                              (at most the real stack, ulimit -s)\n"
            "      --bench[=FILE]          provide the Sightglass imports bench.start and\n"
            "                              bench.end; write the nanoseconds between them\n"
            "                              to FILE (default: standard error)\n"
            "      --dynamic-memories      bounds-checked memories that reserve only their size\n"
            "                              instead of guard-region reservations\n"
            "      --features LIST         enable features: a comma-separated list of\n"
            "                              %s\n"
            "      --jail                  run the program inside a seccomp filter that\n"
            "                              ends wasmjail (status 159) on any system call\n"
            "                              it does not need: exec, sockets, opening paths\n"
            "      --timeout DURATION      stop the program with an \"interrupt\" trap once\n"
            "                              it has run this long (1s, 500ms, 2m; plain\n"
            "                              numbers are seconds), counted from before its\n"
            "                              start function (a blocking host call, such as\n"
            "                              sleep, ends it only once the call returns)\n"
            "      --fuel N                stop it with a trap once it has executed about N\n"
            "                              instructions\n"
            "      --tier TIER             how to compile: tiered (the default: the\n"
            "                              single-pass compiler first, then the\n"
            "                              optimizing one, on a background thread, for\n"
            "                              the functions and loops that run hot),\n"
            "                              baseline (the single-pass compiler only) or\n"
            "                              optimized (the optimizing compiler for every\n"
            "                              function it covers, before the program starts)\n"
            "  -h, --help                  show this help and exit\n"
            "\n"
            "Exit status: the program's own (proc_exit), 134 when it traps (a report with\n"
            "a wasm backtrace goes to standard error), 1 when FILE cannot be loaded or\n"
            "linked, 2 on a command-line error.\n",
            cli_feature_names);
}

/* The user address space of an x86-64 process (47 bits): a linear memory
 * never grows past it, so a larger limit is a mistake worth reporting. */
#define MAX_MEMORY_LIMIT (UINT64_C(1) << 47)

/* Parses "64M", "2G", "4096", "512K" into bytes; false when not a size. */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    }
    if (*end == 'i' && shift)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

typedef struct run_options {
    wj_config *config;
    wj_wasi_config *wasi;
    const char *invoke;
    bool bench;
    const char *bench_file;
    bool jail;
    uint64_t timeout_ns; /* 0: none */
    bool fuel_set;
    uint64_t fuel;
    int status;       /* set when an option is wrong */
} run_options;

static bool add_dir(run_options *o, const char *arg, bool read_only)
{
    const char *sep = strstr(arg, "::");
    char *host = sep ? strndup(arg, (size_t)(sep - arg)) : strdup(arg);
    const char *guest = sep ? sep + 2 : arg;
    if (!host || !*host || !*guest) {
        free(host);
        o->status = cli_usage_error("run: --dir%s '%s': expected HOST[::GUEST]",
                                    read_only ? "-ro" : "", arg);
        return false;
    }
    wj_error *err = wj_wasi_config_preopen_dir(o->wasi, host, guest, read_only);
    free(host);
    if (err) {
        char *msg = cli_escape(wj_error_message(err), strlen(wj_error_message(err)));
        cli_error("run: --dir%s: %s", read_only ? "-ro" : "", msg ? msg : "cannot open");
        free(msg);
        wj_error_delete(err);
        o->status = CLI_EXIT_FAILURE;
        return false;
    }
    return true;
}

static bool add_env(run_options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char *name = eq ? strndup(arg, (size_t)(eq - arg)) : strdup(arg);
    const char *value = eq ? eq + 1 : name ? getenv(name) : NULL;
    bool ok = name && *name;
    if (!ok)
        o->status = cli_usage_error("run: --env '%s': expected NAME[=VALUE]", arg);
    else if (value && !wj_wasi_config_push_env(o->wasi, name, value))
        o->status = CLI_EXIT_FAILURE, ok = false;
    free(name);
    return ok;
}

/* Parses the options before FILE; returns the index of FILE, or -1 with
 * o->status set. */
static int parse_options(int argc, char **argv, run_options *o)
{
    opterr = 0;
    optind = 1;
    uint64_t size;
    int c;
    /* "+": stop at FILE, whose arguments belong to the program. */
    while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_DIR:
        case OPT_DIR_RO:
            if (!add_dir(o, optarg, c == OPT_DIR_RO))
                return -1;
            break;
        case OPT_ENV:
            if (!add_env(o, optarg))
                return -1;
            break;
        case OPT_INVOKE:
            o->invoke = optarg;
            break;
        case OPT_MAX_MEMORY:
        case OPT_MAX_STACK:
            if (!parse_size(optarg, &size)) {
                o->status = cli_usage_error("run: %s '%s': expected a size such as 64M",
                                            c == OPT_MAX_MEMORY ? "--max-memory" : "--max-stack",
                                            optarg);
                return -1;
            }
            if (c == OPT_MAX_MEMORY && size > MAX_MEMORY_LIMIT) {
                o->status = cli_usage_error("run: --max-memory '%s': more than 128T, the "
                                            "address space of a process, so never reached",
                                            optarg);
                return -1;
            }
            if (c == OPT_MAX_MEMORY)
                wj_config_set_max_memory_size(o->config, size);
            else
                wj_config_set_max_wasm_stack(o->config, (size_t)size);
            break;
        case OPT_BENCH:
            o->bench = true;
            o->bench_file = optarg;
            break;
        case OPT_JAIL:
            o->jail = true;
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_duration(optarg, &o->timeout_ns)) {
                o->status = cli_usage_error("run: --timeout '%s': expected a duration such as 1s or 500ms",
                                            optarg);
                return -1;
            }
            wj_config_set_epoch_interruption(o->config, true);
            break;
        case OPT_FUEL: {
            char *end;
            errno = 0;
            o->fuel = strtoull(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || errno) {
                o->status = cli_usage_error("run: --fuel '%s': expected a number of instructions",
                                            optarg);
                return -1;
            }
            o->fuel_set = true;
            wj_config_set_consume_fuel(o->config, true);
            break;
        }
        case OPT_DYNAMIC_MEMORIES:
            wj_config_set_dynamic_memories(o->config, true);
            break;
        case OPT_TIER:
            if (strcmp(optarg, "tiered") == 0) {
                wj_config_set_strategy(o->config, WJ_STRATEGY_TIERED);
            } else if (strcmp(optarg, "baseline") == 0) {
                wj_config_set_strategy(o->config, WJ_STRATEGY_BASELINE);
            } else if (strcmp(optarg, "optimized") == 0) {
                wj_config_set_strategy(o->config, WJ_STRATEGY_OPTIMIZED);
            } else {
                o->status = cli_usage_error(
                    "run: --tier '%s': expected tiered, baseline or optimized", optarg);
                return -1;
            }
            break;
        case OPT_FEATURES:
            if (!cli_parse_features(o->config, optarg)) {
                o->status = CLI_EXIT_USAGE;
                return -1;
            }
            break;
        case 'h':
        case OPT_HELP:
            cmd_run_help(stdout);
            o->status = CLI_EXIT_OK;
            return -1;
        default:
            o->status = cli_option_error("run", c, argv);
            return -1;
        }
    }
    if (optind >= argc) {
        o->status = cli_usage_error("run: missing FILE");
        return -1;
    }
    return optind;
}

/* --- the Sightglass imports ---------------------------------------------- */

typedef struct bench_state {
    FILE *out; /* opened before the program runs (and before any jail) */
    struct timespec start;
    bool started;
} bench_state;

static wj_trap *bench_start(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller, (void)args, (void)results;
    bench_state *b = env;
    b->started = true;
    clock_gettime(CLOCK_MONOTONIC, &b->start);
    return NULL;
}

static wj_trap *bench_end(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller, (void)args, (void)results;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    bench_state *b = env;
    if (!b->started)
        return wj_trap_new("bench.end called before bench.start");
    int64_t ns = (int64_t)(end.tv_sec - b->start.tv_sec) * 1000000000 +
                 (end.tv_nsec - b->start.tv_nsec);
    if (fprintf(b->out, "%" PRId64 "\n", ns) < 0 || fflush(b->out) != 0)
        return wj_trap_new("--bench: cannot write the time");
    return NULL;
}

/* --- linking ------------------------------------------------------------- */

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* The values of the module's imports; NULL (reported) when one is unknown. */
static wj_extern *link_imports(const char *file, wj_store *store, wj_wasi *wasi,
                               const wj_module *module, bench_state *bench)
{
    size_t n = wj_module_import_count(module);
    wj_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports) {
        cli_error("out of memory");
        return NULL;
    }
    static const wj_functype nullary = {0, 0, NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        wj_import_info info;
        wj_module_import(module, i, &info);
        if (wj_wasi_import(wasi, module, i, &imports[i]))
            continue;
        if (bench && info.kind == WJ_EXTERN_FUNC && name_is(info.module, info.module_len, "bench") &&
            (name_is(info.name, info.name_len, "start") || name_is(info.name, info.name_len, "end"))) {
            bool start = name_is(info.name, info.name_len, "start");
            wj_func *f = wj_func_new(store, &nullary, start ? bench_start : bench_end, bench, NULL);
            if (f) {
                imports[i] = (wj_extern){.kind = WJ_EXTERN_FUNC, .of.func = f};
                continue;
            }
        }
        char *mod = cli_escape(info.module, info.module_len);
        char *name = cli_escape(info.name, info.name_len);
        cli_error("%s: unknown import `%s::%s` (%s)%s", file, mod ? mod : "?",
                  name ? name : "?", wj_extern_kind_name(info.kind),
                  name_is(info.module, info.module_len, "bench") ? ": the Sightglass imports need --bench" : "");
        free(mod), free(name);
        free(imports);
        return NULL;
    }
    return imports;
}

/* --- running --------------------------------------------------------------- */

/* What a trap means for the exit status: proc_exit's status, or 134 after
 * the report. */
static int trap_status(const char *path, wj_trap *trap)
{
    int status;
    if (!wj_trap_exit_status(trap, &status)) {
        cli_report_trap(path, trap);
        status = CLI_EXIT_TRAP;
    }
    wj_trap_delete(trap);
    return status;
}

/* Calls export `name` with `argv` as its parameters. */
static int call_export(const char *path, const char *file, wj_instance *instance,
                       const char *name, int argc, char **argv, bool print_results)
{
    wj_extern e;
    char *shown = cli_escape(name, strlen(name));
    if (!wj_instance_export(instance, name, strlen(name), &e) || e.kind != WJ_EXTERN_FUNC) {
        cli_error("%s: no exported function `%s`", file, shown ? shown : name);
        free(shown);
        return CLI_EXIT_FAILURE;
    }
    wj_functype type;
    wj_func_type(e.of.func, &type);
    if ((uint32_t)argc != type.param_count) {
        cli_error("%s: `%s` takes %" PRIu32 " parameter%s, %d given", file, shown ? shown : name,
                  type.param_count, type.param_count == 1 ? "" : "s", argc);
        free(shown);
        return CLI_EXIT_FAILURE;
    }
    wj_val *args = calloc(argc + 1, sizeof *args);
    wj_val *results = calloc(type.result_count + 1, sizeof *results);
    int status = CLI_EXIT_FAILURE;
    if (!args || !results) {
        cli_error("out of memory");
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if (!cli_parse_value(argv[i], (wj_valtype)type.params[i], &args[i])) {
            cli_error("%s: `%s` parameter %d: '%s' is not a%s %s%s", file, shown ? shown : name,
                      i, argv[i], type.params[i] == WJ_I32 || type.params[i] == WJ_I64 ? "n" : "",
                      wj_valtype_name((wj_valtype)type.params[i]),
                      type.params[i] == WJ_V128 ? " (write one as i32x4:1,2,3,-4)" : "");
            goto out;
        }
    }
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(e.of.func, args, (size_t)argc, results, type.result_count, &trap);
    if (err) {
        cli_error("%s: `%s`: %s", file, shown ? shown : name, wj_error_message(err));
        wj_error_delete(err);
    } else if (trap) {
        status = trap_status(path, trap);
    } else {
        if (print_results)
            for (uint32_t i = 0; i < type.result_count; i++)
                cli_print_value(&results[i]);
        status = CLI_EXIT_OK;
    }
out:
    free(shown);
    free(args);
    free(results);
    return status;
}

static int run_module(const char *path, run_options *o, int argc, char **argv)
{
    uint8_t *data;
    size_t len;
    int e = cli_read_file(path, &data, &len);
    if (e != 0) {
        cli_report_file_error(path, e);
        return CLI_EXIT_FAILURE;
    }
    wj_engine *engine = wj_engine_new(o->config);
    wj_module *module = NULL;
    wj_store *store = NULL;
    wj_extern *imports = NULL;
    FILE *bench_out = NULL;
    cli_timer *timer = NULL;
    int status = CLI_EXIT_FAILURE;
    wj_error *err = engine ? wj_module_new(engine, data, len, &module) : NULL;
    free(data);
    char *file = cli_display_path(path);
    if (!engine || !file) {
        cli_error("out of memory");
        goto out;
    }
    if (err) {
        cli_report_module_error(path, err);
        wj_error_delete(err);
        goto out;
    }
    store = wj_store_new(engine);
    wj_wasi *wasi = store ? wj_wasi_new(store, o->wasi) : NULL;
    o->wasi = NULL; /* consumed */
    if (!wasi) {
        cli_error("out of memory");
        goto out;
    }
    bench_state bench = {.out = stderr};
    if (o->bench_file && !(bench.out = bench_out = fopen(o->bench_file, "w"))) {
        cli_report_file_error(o->bench_file, errno);
        goto out;
    }
    imports = link_imports(file, store, wasi, module, o->bench ? &bench : NULL);
    if (!imports)
        goto out;
    if (o->fuel_set)
        wj_error_delete(wj_store_set_fuel(store, o->fuel)); /* on: no error */
    /* The jail before the timer thread: it takes a process of one thread
     * only, and jails the threads started later. The module is then
     * instantiated (its start function run) inside. */
    if (o->jail && (err = wj_jail_enter(&wasi, 1))) {
        cli_error("%s", wj_error_message(err));
        wj_error_delete(err);
        goto out;
    }
    if (o->timeout_ns) {
        wj_store_set_epoch_deadline(store, 1);
        if (!(timer = cli_timer_start(engine, o->timeout_ns))) {
            cli_error("--timeout: cannot start the timer thread");
            goto out;
        }
    }
    wj_instance *instance;
    wj_trap *trap = NULL;
    err = wj_instance_new(store, module, imports, wj_module_import_count(module), &instance, &trap);
    if (err) {
        cli_report_module_error(path, err);
        wj_error_delete(err);
        goto out;
    }
    if (trap) {
        status = trap_status(path, trap);
        goto out;
    }
    /* A reactor (a library-like module) initializes itself first. */
    wj_extern init;
    if (wj_instance_export(instance, "_initialize", 11, &init) && init.kind == WJ_EXTERN_FUNC) {
        status = call_export(path, file, instance, "_initialize", 0, NULL, false);
        if (status != CLI_EXIT_OK)
            goto out;
    }
    if (o->invoke) {
        status = call_export(path, file, instance, o->invoke, argc, argv, true);
    } else {
        wj_extern start;
        status = wj_instance_export(instance, "_start", 6, &start)
                     ? call_export(path, file, instance, "_start", 0, NULL, false)
                     : CLI_EXIT_OK; /* the start function was the program */
    }
out:
    if (bench_out && fclose(bench_out) != 0 && status == CLI_EXIT_OK) {
        cli_report_file_error(o->bench_file, errno);
        status = CLI_EXIT_FAILURE;
    }
    cli_timer_stop(timer);
    free(file);
    free(imports);
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
    return status;
}

int cmd_run(int argc, char **argv)
{
    run_options o = {.config = wj_config_new(), .wasi = wj_wasi_config_new()};
    int status;
    if (!o.config || !o.wasi) {
        cli_error("out of memory");
        status = CLI_EXIT_FAILURE;
        goto out;
    }
    int file = parse_options(argc, argv, &o);
    if (file < 0) {
        status = o.status;
        goto out;
    }
    const char *path = argv[file];
    /* The program's argv: FILE and its arguments; with --invoke those are
     * the function's parameters instead. */
    int nargs = o.invoke ? 1 : argc - file;
    for (int i = 0; i < nargs; i++)
        if (!wj_wasi_config_push_arg(o.wasi, argv[file + i])) {
            cli_error("out of memory");
            status = CLI_EXIT_FAILURE;
            goto out;
        }
    /* Whatever wasmjail printed comes before what the program writes. A
     * closed pipe is the program's EPIPE to handle, not the host's death. */
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);
    status = run_module(path, &o, argc - file - 1, argv + file + 1);
out:
    wj_wasi_config_delete(o.wasi);
    wj_config_delete(o.config);
    return status;
}
