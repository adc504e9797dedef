/* gesummv: y = alpha A x + beta B x, repeated with x = y / |y|_inf. */
#include "harness.h"

#define NL 2000
static double A[NL][NL], B[NL][NL], x[NL], y[NL], tmp[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(110, 2);
    double alpha = 1.5, beta = 1.2;
    for (int i = 0; i < n; i++) {
        x[i] = (double)(i % n) / n;
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j + 1) % n) / n;
            B[i][j] = (double)((i * j + 2) % n) / n;
        }
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < n; i++) {
            tmp[i] = 0.0;
            y[i] = 0.0;
            for (int j = 0; j < n; j++) {
                tmp[i] += A[i][j] * x[j];
                y[i] += B[i][j] * x[j];
            }
            y[i] = alpha * tmp[i] + beta * y[i];
        }
        double max = 0.0;
        for (int i = 0; i < n; i++)
            max = y[i] > max ? y[i] : max;
        for (int i = 0; i < n; i++)
            x[i] = y[i] / max;
    }
    for (int i = 0; i < n; i++)
        check_f64(y[i]);
}
