/* atax: y = A^T (A x), repeated; y accumulates over the repetitions. */
#include "harness.h"

#define NL 2000
static double A[NL][NL], x[NL], y[NL], tmp[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(160, 2);
    for (int i = 0; i < n; i++) {
        x[i] = 1.0 + (double)i / n;
        y[i] = 0.0;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)((i + j) % n) / (5 * n);
    }
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            tmp[i] = 0.0;
            for (int j = 0; j < n; j++)
                tmp[i] += A[i][j] * x[j];
            for (int j = 0; j < n; j++)
                y[j] += A[i][j] * tmp[i];
        }
    for (int i = 0; i < n; i++)
        check_f64(y[i]);
}
