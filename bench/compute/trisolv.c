/* trisolv: forward substitution, L x = b with L lower triangular; repeated,
 * b changing between solves. */
#include "harness.h"

#define NL 2000
static double L[NL][NL], x[NL], b[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(300, 2);
    for (int i = 0; i < n; i++) {
        b[i] = i;
        for (int j = 0; j < i; j++)
            L[i][j] = (double)(i + n - j + 1) * 2 / n / n;
        L[i][i] = 2.0;
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < n; i++) {
            double w = b[i];
            for (int j = 0; j < i; j++)
                w -= L[i][j] * x[j];
            x[i] = w / L[i][i];
        }
        b[r % n] += 1.0;
    }
    for (int i = 0; i < n; i++)
        check_f64(x[i]);
}
