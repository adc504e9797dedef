/* 2mm: D = alpha A B C + beta D, two matrix multiplies (T = alpha A B first). */
#include "harness.h"

#define NL 1000
static double A[NL][NL], B[NL][NL], C[NL][NL], D[NL][NL], T[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 20);
    double alpha = 1.5, beta = 1.2;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j + 1) % n) / n;
            B[i][j] = (double)(i * (j + 1) % n) / n;
            C[i][j] = (double)((i * (j + 3) + 1) % n) / n;
            D[i][j] = (double)(i * (j + 2) % n) / n;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            T[i][j] = 0.0;
            for (int k = 0; k < n; k++)
                T[i][j] += alpha * A[i][k] * B[k][j];
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            D[i][j] *= beta;
            for (int k = 0; k < n; k++)
                D[i][j] += T[i][k] * C[k][j];
        }
    check_f64_2d(&D[0][0], n, n, NL);
}
