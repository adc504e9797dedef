/*
 * bench/validate: decode + validate throughput of wj_module_validate, in
 * MB/s of module bytes on one core; with --compile, of wj_module_new
 * (decode, validate and compile to machine code).
 *
 *   bench/validate [--compile [--optimized]] [--runs N] [--min-time SECONDS] FILE.wasm...
 * (--optimized: compiled by tier 2, WJ_STRATEGY_OPTIMIZED; run it under
 * taskset -c 0 for one core's rate)
 *
 * Each file is validated repeatedly for at least --min-time per run; the
 * median of --runs runs is reported (as milliseconds per module, with the
 * fastest run beside it: on a shared machine the minimum is the least
 * disturbed), then the total over all files. Debug info in custom sections
 * is cheap to skip, so the rate over the code section's bytes alone is
 * reported too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wasmjail.h>

/* CPU time of this thread: on a shared machine, time spent waiting for a
 * core does not count. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "validate: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "validate: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Size of the module's code section (0 when it has none). */
static uint64_t code_section_size(wj_engine *engine, const uint8_t *bytes, size_t len)
{
    wj_module *module;
    wj_error *err = wj_module_decode(engine, bytes, len, &module);
    if (err) {
        fprintf(stderr, "validate: rejected at offset %llu: %s\n",
                (unsigned long long)wj_error_offset(err), wj_error_message(err));
        wj_error_delete(err);
        exit(1);
    }
    uint64_t size = 0;
    wj_section_info info;
    for (size_t i = 0; wj_module_section(module, i, &info); i++)
        if (info.id == 10)
            size = info.size;
    wj_module_delete(module);
    return size;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool compile;

static wj_error *process(wj_engine *engine, const uint8_t *bytes, size_t len)
{
    if (!compile)
        return wj_module_validate(engine, bytes, len);
    wj_module *module;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    wj_module_delete(module);
    return err;
}

/* One run: seconds per module, repeating until min_time has passed. */
static double time_one_run(wj_engine *engine, const uint8_t *bytes, size_t len, double min_time)
{
    unsigned reps = 0;
    double start = now(), elapsed;
    do {
        wj_error *err = process(engine, bytes, len);
        if (err) {
            fprintf(stderr, "validate: rejected: %s\n", wj_error_message(err));
            wj_error_delete(err);
            exit(1);
        }
        reps++;
        elapsed = now() - start;
    } while (elapsed < min_time);
    return elapsed / reps;
}

int main(int argc, char **argv)
{
    int runs = 7;
    double min_time = 0.3;
    int first = 1;
    bool optimized = false;
    if (first < argc && strcmp(argv[first], "--compile") == 0) {
        compile = true;
        first++;
        if (first < argc && strcmp(argv[first], "--optimized") == 0) {
            optimized = true;
            first++;
        }
    }
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (first + 1 >= argc)
            goto usage;
        if (strcmp(argv[first], "--runs") == 0)
            runs = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--min-time") == 0)
            min_time = atof(argv[first + 1]);
        else
            goto usage;
    }
    if (first >= argc || runs < 1 || runs > 1000 || min_time <= 0)
        goto usage;

    wj_config *config = wj_config_new();
    wj_config_set_strategy(config, optimized ? WJ_STRATEGY_OPTIMIZED : WJ_STRATEGY_BASELINE);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    double total_bytes = 0, total_code = 0, total_seconds = 0;
    double *samples = calloc((size_t)runs, sizeof *samples);
    printf("%-44s %10s %10s %9s %9s %10s %10s\n", "module", "bytes", "code bytes", "median ms",
           "min ms", "MB/s", "code MB/s");
    for (int i = first; i < argc; i++) {
        size_t len;
        uint8_t *bytes = read_file(argv[i], &len);
        if (!bytes)
            return 1;
        double code = (double)code_section_size(engine, bytes, len);
        for (int r = 0; r < runs; r++)
            samples[r] = time_one_run(engine, bytes, len, min_time);
        qsort(samples, (size_t)runs, sizeof *samples, compare_doubles);
        double median = samples[runs / 2];
        printf("%-44s %10zu %10.0f %9.3f %9.3f %10.1f %10.1f\n", argv[i], len, code,
               median * 1e3, samples[0] * 1e3, (double)len / median / 1e6, code / median / 1e6);
        total_bytes += (double)len;
        total_code += code;
        total_seconds += median;
        free(bytes);
    }
    printf("%-44s %10.0f %10.0f %9.3f %9s %10.1f %10.1f\n", "total (median per module)",
           total_bytes, total_code, total_seconds * 1e3, "", total_bytes / total_seconds / 1e6,
           total_code / total_seconds / 1e6);
    free(samples);
    wj_engine_delete(engine);
    return 0;

usage:
    fprintf(stderr, "usage: validate [--compile [--optimized]] [--runs N] [--min-time SECONDS] "
                    "FILE.wasm...\n");
    return 2;
}
