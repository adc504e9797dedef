/* syrk: C = alpha A A^T + beta C, lower triangle of the symmetric C. */
#include "harness.h"

#define NN 1400
#define NM 1000
static double A[NN][NM], C[NN][NN];

void bench_run(void)
{
    int n = SIZE(NN, 24), m = SIZE(NM, 20);
    double alpha = 1.5, beta = 1.2;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++)
            A[i][j] = (double)((i * j + 1) % n) / n;
        for (int j = 0; j < n; j++)
            C[i][j] = (double)((i * j + 2) % m) / m;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++)
            C[i][j] *= beta;
        for (int k = 0; k < m; k++)
            for (int j = 0; j <= i; j++)
                C[i][j] += alpha * A[i][k] * A[j][k];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            check_f64(C[i][j]);
}
