/* gramschmidt: the QR decomposition of A (M x N) by modified Gram-Schmidt;
 * A's diagonal dominance keeps its columns independent. */
#include <math.h>

#include "harness.h"

#define NM 1000
#define NN 800
static double A[NM][NN], Q[NM][NN], R[NN][NN];

void bench_run(void)
{
    int m = SIZE(NM, 24), n = SIZE(NN, 20);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            A[i][j] = (double)((i * j) % m) / m + (i == j ? n : 0);
    for (int k = 0; k < n; k++) {
        double norm = 0.0;
        for (int i = 0; i < m; i++)
            norm += A[i][k] * A[i][k];
        R[k][k] = sqrt(norm);
        for (int i = 0; i < m; i++)
            Q[i][k] = A[i][k] / R[k][k];
        for (int j = k + 1; j < n; j++) {
            R[k][j] = 0.0;
            for (int i = 0; i < m; i++)
                R[k][j] += Q[i][k] * A[i][j];
            for (int i = 0; i < m; i++)
                A[i][j] -= Q[i][k] * R[k][j];
        }
    }
    for (int k = 0; k < n; k++)
        for (int j = k; j < n; j++)
            check_f64(R[k][j]);
    check_f64_2d(&Q[0][0], m, n, NN);
}
