/* jacobi-2d: the 5-point Jacobi stencil in 2-D, two grids alternating. */
#include "harness.h"

#define NL 1300
static double A[NL][NL], B[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 24), steps = SIZE(200, 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * i + 3 * j * j + i * j) % 97) / 97.0;
            B[i][j] = (double)((2 * i * i + j * j + 3 * i * j) % 89) / 89.0;
        }
    for (int t = 0; t < steps; t++) {
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                B[i][j] = 0.2 * (A[i][j] + A[i][j - 1] + A[i][j + 1] + A[i + 1][j] + A[i - 1][j]);
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                A[i][j] = 0.2 * (B[i][j] + B[i][j - 1] + B[i][j + 1] + B[i + 1][j] + B[i - 1][j]);
    }
    check_f64_2d(&A[0][0], n, n, NL);
}
