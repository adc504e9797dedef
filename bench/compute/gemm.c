/* gemm: C = alpha A B + beta C, general matrix multiply. */
#include "harness.h"

#define NL 1400
static double A[NL][NL], B[NL][NL], C[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 24);
    double alpha = 1.5, beta = 1.2;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j + 1) % n) / n;
            B[i][j] = (double)(i * (j + 1) % n) / n;
            C[i][j] = (double)((i * (j + 2) + 3) % n) / n;
        }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            C[i][j] *= beta;
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++)
                C[i][j] += alpha * A[i][k] * B[k][j];
    }
    check_f64_2d(&C[0][0], n, n, NL);
}
