/* 3mm: G = (A B) (C D), three matrix multiplies. */
#include "harness.h"

#define NL 700
static double A[NL][NL], B[NL][NL], C[NL][NL], D[NL][NL];
static double E[NL][NL], F[NL][NL], G[NL][NL];

static void multiply(int n, double (*x)[NL], double (*y)[NL], double (*z)[NL])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            z[i][j] = 0.0;
            for (int k = 0; k < n; k++)
                z[i][j] += x[i][k] * y[k][j];
        }
}

void bench_run(void)
{
    int n = SIZE(NL, 20);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j + 1) % n) / (5 * n);
            B[i][j] = (double)((i * (j + 1) + 2) % n) / (5 * n);
            C[i][j] = (double)(i * (j + 3) % n) / (5 * n);
            D[i][j] = (double)((i * (j + 2) + 2) % n) / (5 * n);
        }
    multiply(n, A, B, E);
    multiply(n, C, D, F);
    multiply(n, E, F, G);
    check_f64_2d(&G[0][0], n, n, NL);
}
