/* gemver: A += u1 v1^T + u2 v2^T, x += beta A^T y + z, w += alpha A x;
 * repeated. */
#include "harness.h"

#define NL 2000
static double A[NL][NL], u1[NL], v1[NL], u2[NL], v2[NL], w[NL], x[NL], y[NL], z[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(70, 2);
    double alpha = 1.5, beta = 1.2, fn = n;
    for (int i = 0; i < n; i++) {
        u1[i] = i;
        u2[i] = ((i + 1) / fn) / 2.0;
        v1[i] = ((i + 1) / fn) / 4.0;
        v2[i] = ((i + 1) / fn) / 6.0;
        y[i] = ((i + 1) / fn) / 8.0;
        z[i] = ((i + 1) / fn) / 9.0;
        x[i] = w[i] = 0.0;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)(i * j % n) / n;
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                A[i][j] += u1[i] * v1[j] + u2[i] * v2[j];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                x[i] += beta * A[j][i] * y[j];
        for (int i = 0; i < n; i++)
            x[i] += z[i];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                w[i] += alpha * A[i][j] * x[j];
    }
    for (int i = 0; i < n; i++) {
        check_f64(x[i]);
        check_f64(w[i]);
    }
}
