/* What the benchmark programs share: failing loudly, clocks, the median
 * of runs, reading a module file. */
#ifndef WJ_BENCH_UTIL_H
#define WJ_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Prints "PROGRAM: message" to stderr and exits 1; the program's name is
 * bench_program. */
extern const char *bench_program;
_Noreturn void fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

double clock_ns(clockid_t clock);
static inline double now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

typedef struct stats {
    double median, min;
} stats;
/* The median and minimum of n samples, which it sorts. */
stats summarize(double *samples, int n);

/* The whole file, malloc'd; fails on any error. */
uint8_t *read_file(const char *path, size_t *len);

#endif
