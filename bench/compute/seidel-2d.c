/* seidel-2d: the 9-point Gauss-Seidel stencil in 2-D, in place. */
#include "harness.h"

#define NL 1000
static double A[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 24), steps = SIZE(80, 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            A[i][j] = (double)((i * i + 3 * j * j + i * j) % 97) / 97.0;
    for (int t = 0; t < steps; t++)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                A[i][j] = (A[i - 1][j - 1] + A[i - 1][j] + A[i - 1][j + 1] + A[i][j - 1] + A[i][j] +
                           A[i][j + 1] + A[i + 1][j - 1] + A[i + 1][j] + A[i + 1][j + 1]) / 9.0;
    check_f64_2d(&A[0][0], n, n, NL);
}
