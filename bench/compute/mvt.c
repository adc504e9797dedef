/* mvt: x1 += A y1 and x2 += A^T y2, repeated. */
#include "harness.h"

#define NL 2000
static double A[NL][NL], x1[NL], x2[NL], y1[NL], y2[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(110, 2);
    for (int i = 0; i < n; i++) {
        x1[i] = (double)(i % n) / n;
        x2[i] = (double)((i + 1) % n) / n;
        y1[i] = (double)((i + 3) % n) / n;
        y2[i] = (double)((i + 4) % n) / n;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)(i * j % n) / n;
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                x1[i] += A[i][j] * y1[j];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                x2[i] += A[j][i] * y2[j];
    }
    for (int i = 0; i < n; i++) {
        check_f64(x1[i]);
        check_f64(x2[i]);
    }
}
