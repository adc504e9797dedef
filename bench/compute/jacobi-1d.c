/* jacobi-1d: the 3-point Jacobi stencil in 1-D, two arrays alternating. */
#include "harness.h"

#define NL 20000
static double A[NL], B[NL];

void bench_run(void)
{
    int n = SIZE(NL, 40), steps = SIZE(30000, 6);
    for (int i = 0; i < n; i++) {
        A[i] = (double)(i * i % 97) / 97.0;
        B[i] = (double)((3 * i * i + i) % 89) / 89.0;
    }
    for (int t = 0; t < steps; t++) {
        for (int i = 1; i < n - 1; i++)
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
        for (int i = 1; i < n - 1; i++)
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
    }
    for (int i = 0; i < n; i++)
        check_f64(A[i]);
}
