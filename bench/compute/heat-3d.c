/* heat-3d: the 3-D heat equation, a 7-point stencil, two grids alternating. */
#include "harness.h"

#define NL 120
static double A[NL][NL][NL], B[NL][NL][NL];

static void step(int n, double (*src)[NL][NL], double (*dst)[NL][NL])
{
    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < n - 1; j++)
            for (int k = 1; k < n - 1; k++)
                dst[i][j][k] = 0.125 * (src[i + 1][j][k] - 2.0 * src[i][j][k] + src[i - 1][j][k]) +
                               0.125 * (src[i][j + 1][k] - 2.0 * src[i][j][k] + src[i][j - 1][k]) +
                               0.125 * (src[i][j][k + 1] - 2.0 * src[i][j][k] + src[i][j][k - 1]) +
                               src[i][j][k];
}

void bench_run(void)
{
    int n = SIZE(NL, 10), steps = SIZE(130, 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
                A[i][j][k] = B[i][j][k] = (double)((i * j + k * (n - k)) % 17) * 10 / n;
    for (int t = 0; t < steps; t++) {
        step(n, A, B);
        step(n, B, A);
    }
    for (int i = 0; i < n; i++)
        check_f64_2d(&A[i][0][0], n, n, NL);
}
