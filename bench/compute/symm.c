/* symm: C = alpha A B + beta C with A symmetric, only its lower triangle
 * read (the column-oriented reference algorithm). */
#include "harness.h"

#define NM 800
#define NN 1400
static double A[NM][NM], B[NM][NN], C[NM][NN];

void bench_run(void)
{
    int m = SIZE(NM, 20), n = SIZE(NN, 24);
    double alpha = 1.5, beta = 1.2;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            C[i][j] = (double)((i + j) % 100) / m;
            B[i][j] = (double)((n + i - j) % 100) / m;
        }
        for (int j = 0; j <= i; j++)
            A[i][j] = (double)((i + j) % 100) / m;
        for (int j = i + 1; j < m; j++)
            A[i][j] = -999.0; /* never read */
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double t = 0.0;
            for (int k = 0; k < i; k++) {
                C[k][j] += alpha * B[i][j] * A[i][k];
                t += B[k][j] * A[i][k];
            }
            C[i][j] = beta * C[i][j] + alpha * B[i][j] * A[i][i] + alpha * t;
        }
    check_f64_2d(&C[0][0], m, n, NN);
}
