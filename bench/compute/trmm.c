/* trmm: B = alpha A^T B with A unit lower triangular (its strictly lower
 * part read). */
#include "harness.h"

#define NM 900
#define NN 1400
static double A[NM][NM], B[NM][NN];

void bench_run(void)
{
    int m = SIZE(NM, 20), n = SIZE(NN, 24);
    double alpha = 1.5;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < i; j++)
            A[i][j] = (double)((i + j) % m) / m;
        A[i][i] = 1.0;
        for (int j = 0; j < n; j++)
            B[i][j] = (double)((n + (i - j)) % n) / n;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            for (int k = i + 1; k < m; k++)
                B[i][j] += A[k][i] * B[k][j];
            B[i][j] *= alpha;
        }
    check_f64_2d(&B[0][0], m, n, NN);
}
