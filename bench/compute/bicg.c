/* bicg: the two products of BiCG, s = A^T r and q = A p, repeated; s and q
 * accumulate over the repetitions. */
#include "harness.h"

#define NL 2000
static double A[NL][NL], r[NL], p[NL], s[NL], q[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30), reps = SIZE(160, 2);
    for (int i = 0; i < n; i++) {
        r[i] = (double)(i % n) / n;
        p[i] = (double)(i % 7) / 7.0;
        s[i] = q[i] = 0.0;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)(i * (j + 1) % n) / n;
    }
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                s[j] += r[i] * A[i][j];
                q[i] += A[i][j] * p[j];
            }
        }
    for (int i = 0; i < n; i++) {
        check_f64(s[i]);
        check_f64(q[i]);
    }
}
