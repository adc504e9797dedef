/* doitgen: multiresolution analysis kernel, A[r][q][.] = A[r][q][.] C4 for
 * every r and q. */
#include "harness.h"

#define NR 100
#define NQ 100
#define NP 256
static double A[NR][NQ][NP], C4[NP][NP], sum[NP];

void bench_run(void)
{
    int nr = SIZE(NR, 8), nq = SIZE(NQ, 10), np = SIZE(NP, 12);
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nq; q++)
            for (int p = 0; p < np; p++)
                A[r][q][p] = (double)((r * q + p) % np) / np;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < np; j++)
            C4[i][j] = (double)(i * j % np) / np;
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nq; q++) {
            for (int p = 0; p < np; p++) {
                sum[p] = 0.0;
                for (int s = 0; s < np; s++)
                    sum[p] += A[r][q][s] * C4[s][p];
            }
            for (int p = 0; p < np; p++)
                A[r][q][p] = sum[p];
        }
    for (int r = 0; r < nr; r++)
        check_f64_2d(&A[r][0][0], nq, np, NP);
}
