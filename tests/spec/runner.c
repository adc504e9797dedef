/*
 * spec-runner: runs WebAssembly spec-test scripts (.wast) against
 * libwasmjail. See usage() and tests/spec/spec.sh.
 */
#define _GNU_SOURCE /* vasprintf */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec.h"

#define EXIT_USAGE 2

struct options {
    struct conversion_options conversion;
    bool dynamic_memories; /* 32-bit memories as dynamic heaps */
    bool meter;            /* epoch checks and fuel compiled in */
    bool no_memory_images; /* data segments copied, never mapped */
    bool pooling;          /* the pooling allocator */
    wj_strategy strategy;  /* --tier */
    bool eager;            /* --tier eager: tiered, up at the first call or iteration */
    bool verbose;
    char *label; /* malloc'd */
    char **paths;
    int path_count;
};

struct runner {
    const struct options *options;
    wj_engine *engine;
    struct tally total;
};

void out_of_memory(void)
{
    fputs("spec-runner: out of memory\n", stderr);
    abort();
}

char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory();
    return s;
}

static void usage(FILE *out)
{
    fputs("usage: spec-runner [--features memory64,multi-memory] [--dynamic-memories]\n"
          "                   [--meter] [--no-memory-images] [--pooling] [--tier TIER]\n"
          "                   [--name LABEL]\n"
          "                   [--verbose] [--wast2json PATH] PATH...\n"
          "Converts each .wast file (or each *.wast file in a PATH that is a folder) with\n"
          "wast2json (default: $WAST2JSON, else wast2json from $PATH) and checks every\n"
          "command the runtime can judge. Prints a FAIL line per failure, the skip\n"
          "reasons, and finally \"LABEL: N passed, M failed, K skipped\" (LABEL defaults\n"
          "to the name of the single PATH). --dynamic-memories makes 32-bit memories\n"
          "dynamic heaps (explicit bounds checks) instead of reservations. --meter\n"
          "compiles in epoch checks and fuel, with limits never reached.\n"
          "--no-memory-images copies data segments instead of mapping memory images.\n"
          "--pooling instantiates with the pooling allocator (limits the suite fits).\n"
          "--tier baseline|optimized|tiered compiles with that strategy (default\n"
          "baseline); eager is tiered with every function and loop moving to the\n"
          "optimizing tier at its first call or iteration.\n"
          "Exits 0 iff nothing failed, 2 on usage errors.\n",
          out);
}

static bool enable_feature(struct conversion_options *conversion, const char *name, size_t len)
{
    if (len == strlen("memory64") && strncmp(name, "memory64", len) == 0)
        conversion->memory64 = true;
    else if (len == strlen("multi-memory") && strncmp(name, "multi-memory", len) == 0)
        conversion->multi_memory = true;
    else
        return false;
    return true;
}

/* A comma-separated list such as "memory64,multi-memory". */
static bool parse_features(const char *list, struct conversion_options *conversion)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && !enable_feature(conversion, p, len)) {
            fprintf(stderr, "spec-runner: unknown feature \"%.*s\" (known: memory64, multi-memory)\n",
                    (int)len, p);
            return false;
        }
        p += len + (p[len] == ',');
    }
    return true;
}

/* The last component of a path, without trailing slashes. */
static char *path_label(const char *path)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (start == end) /* "/" */
        start = 0;
    return strndup(path + start, end - start);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct options *options)
{
    static const struct option long_options[] = {
        {"features", required_argument, NULL, 'f'},
        {"dynamic-memories", no_argument, NULL, 'd'},
        {"meter", no_argument, NULL, 'm'},
        {"no-memory-images", no_argument, NULL, 'i'},
        {"pooling", no_argument, NULL, 'p'},
        {"tier", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"verbose", no_argument, NULL, 'v'},
        {"wast2json", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *label = NULL;
    const char *env_wast2json = getenv("WAST2JSON");
    options->conversion.wast2json = env_wast2json && *env_wast2json ? env_wast2json : "wast2json";
    int opt;
    while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (!parse_features(optarg, &options->conversion))
                return EXIT_USAGE;
            break;
        case 'd': options->dynamic_memories = true; break;
        case 'm': options->meter = true; break;
        case 'i': options->no_memory_images = true; break;
        case 'p': options->pooling = true; break;
        case 't':
            if (!strcmp(optarg, "baseline")) {
                options->strategy = WJ_STRATEGY_BASELINE;
            } else if (!strcmp(optarg, "optimized")) {
                options->strategy = WJ_STRATEGY_OPTIMIZED;
            } else if (!strcmp(optarg, "tiered") || !strcmp(optarg, "eager")) {
                options->strategy = WJ_STRATEGY_TIERED;
                options->eager = !strcmp(optarg, "eager");
            } else {
                fprintf(stderr,
                        "spec-runner: --tier: '%s' is not baseline, optimized, tiered or eager\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'n': label = optarg; break;
        case 'v': options->verbose = true; break;
        case 'w': options->conversion.wast2json = optarg; break;
        case 'h': usage(stdout); return EXIT_SUCCESS;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    options->paths = argv + optind;
    options->path_count = argc - optind;
    if (options->path_count == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    options->label = label ? strdup(label)
                     : options->path_count == 1 ? path_label(options->paths[0])
                                                : strdup("total");
    if (!options->label) {
        fputs("spec-runner: out of memory\n", stderr);
        return EXIT_FAILURE;
    }
    return -1;
}

static wj_engine *new_engine(const struct options *options)
{
    const struct conversion_options *features = &options->conversion;
    wj_config *config = wj_config_new();
    if (!config)
        return NULL;
    wj_config_set_dynamic_memories(config, options->dynamic_memories);
    wj_config_set_epoch_interruption(config, options->meter);
    wj_config_set_consume_fuel(config, options->meter);
    wj_config_set_memory_images(config, !options->no_memory_images);
    wj_config_set_strategy(config, options->strategy);
    if (options->eager)
        wj_config_set_tier_up_budget(config, 0);
    if (options->pooling) {
        /* What the suite's files keep alive at once, with room to spare. */
        wj_pooling_config pooling;
        wj_pooling_config_init(&pooling);
        pooling.instances = 2000;
        pooling.memories = 1000;
        pooling.tables = 2000;
        pooling.memories_per_instance = 10;
        pooling.tables_per_instance = 10;
        pooling.table_elements = 100000;
        wj_config_set_pooling(config, &pooling);
    }
    if (features->memory64)
        wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    if (features->multi_memory)
        wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    return engine;
}

/* The first line of `why` ends the FAIL line; the rest (wast2json's own
 * output) follows, indented. */
static void report_conversion_failure(struct tally *tally, const char *path, const char *why)
{
    size_t len = strcspn(why, "\n");
    fprintf(tally_fail(tally, path, 0), "%.*s\n", (int)len, why);
    for (const char *line = why + len; *line == '\n';) {
        line++;
        len = strcspn(line, "\n");
        if (len > 0)
            printf("    %.*s\n", (int)len, line);
        line += len;
    }
}

static void run_wast_file(struct runner *runner, const char *path)
{
    struct tally file = {0};
    struct script script;
    char *why = NULL;
    crash_report_at(path, 0);
    if (script_convert(&runner->options->conversion, path, &script, &why)) {
        struct run_context context = {.engine = runner->engine, .path = path, .tally = &file};
        script_run(&context, &script);
        script_free(&script);
    } else {
        report_conversion_failure(&file, path, why);
        free(why);
    }
    crash_report_at(NULL, 0);
    if (runner->options->verbose)
        tally_print_counts(&file, path);
    tally_add(&runner->total, &file);
    tally_free(&file);
}

/* `*.wast` as the shell would match it: no hidden files. */
static int select_wast_name(const struct dirent *entry)
{
    size_t len = strlen(entry->d_name);
    return entry->d_name[0] != '.' && len > 5 && strcmp(entry->d_name + len - 5, ".wast") == 0;
}

/* Sorted bytewise, whatever the locale. */
static int compare_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static char *join_path(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    bool has_slash = len > 0 && dir[len - 1] == '/';
    char *path = malloc(len + 1 + strlen(name) + 1);
    if (!path) {
        fputs("spec-runner: out of memory\n", stderr);
        abort();
    }
    sprintf(path, "%s%s%s", dir, has_slash ? "" : "/", name);
    return path;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void run_folder(struct runner *runner, const char *dir)
{
    struct dirent **entries;
    int count = scandir(dir, &entries, select_wast_name, compare_names);
    if (count < 0) {
        fprintf(tally_fail(&runner->total, dir, 0), "cannot read the folder: %s\n", strerror(errno));
        return;
    }
    int run = 0;
    for (int i = 0; i < count; i++) {
        char *path = join_path(dir, entries[i]->d_name);
        if (is_regular_file(path)) {
            run_wast_file(runner, path);
            run++;
        }
        free(path);
        free(entries[i]);
    }
    free(entries);
    /* An empty run must not look like a passing one. */
    if (run == 0)
        fputs("no .wast files in this folder\n", tally_fail(&runner->total, dir, 0));
}

static void run_path(struct runner *runner, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fprintf(tally_fail(&runner->total, path, 0), "%s\n", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        run_folder(runner, path);
    else
        run_wast_file(runner, path);
}

int main(int argc, char **argv)
{
    /* Line-buffered so that FAIL lines printed so far survive a crash in
     * the library. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    crash_report_install();
    struct options options = {0};
    int status = parse_options(argc, argv, &options);
    if (status >= 0)
        return status;

    struct runner runner = {.options = &options, .engine = new_engine(&options)};
    if (!runner.engine) {
        fputs("spec-runner: cannot create a wasmjail engine\n", stderr);
        free(options.label);
        return EXIT_FAILURE;
    }
    for (int i = 0; i < options.path_count; i++)
        run_path(&runner, options.paths[i]);
    tally_print_skip_reasons(&runner.total);
    tally_print_counts(&runner.total, options.label);

    wj_engine_delete(runner.engine);
    free(options.label);
    bool failed = runner.total.failed > 0;
    tally_free(&runner.total);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
