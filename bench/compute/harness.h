/*
 * The harness shared by the compute kernels (the other .c files here): each kernel
 * file defines bench_run(), which initialises its arrays deterministically,
 * computes and passes its results to check_f64 (or check_i64); harness.c's
 * main prints a hash of their bits, so that the native and the wasm build of
 * a kernel can be compared exactly.
 */
#ifndef COMPUTE_HARNESS_H
#define COMPUTE_HARNESS_H

#include <stdint.h>

/* Set when the program's argument is "small": tiny sizes, for make check. */
extern int bench_small;
#define SIZE(large, small) (bench_small ? (small) : (large))

void bench_run(void);

void check_f64(double v);
void check_i64(int64_t v);
/* ROWS x COLS doubles of a row-major array whose rows are STRIDE apart. */
void check_f64_2d(const double *a, int rows, int cols, int stride);

#endif
