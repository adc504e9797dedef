/* durbin: the Levinson-Durbin recursion, solving the Yule-Walker system
 * T y = -r where T is the Toeplitz matrix of (1, r[0], r[1], ...). The r
 * chosen keep T positive definite (|r| sums to under 1/2), so every step's
 * divisor stays positive. Repeated, r changing between solves. */
#include "harness.h"

#define NL 8000
static double r[NL], y[NL], z[NL];

void bench_run(void)
{
    int n = SIZE(NL, 40), reps = SIZE(16, 2);
    for (int i = 0; i < n; i++)
        r[i] = 0.3 / ((double)(i + 2) * (i + 2));
    for (int rep = 0; rep < reps; rep++) {
        double alpha = -r[0], beta = 1.0;
        y[0] = -r[0];
        for (int k = 1; k < n; k++) {
            beta = (1.0 - alpha * alpha) * beta;
            double sum = 0.0;
            for (int i = 0; i < k; i++)
                sum += r[k - i - 1] * y[i];
            alpha = -(r[k] + sum) / beta;
            for (int i = 0; i < k; i++)
                z[i] = y[i] + alpha * y[k - i - 1];
            for (int i = 0; i < k; i++)
                y[i] = z[i];
            y[k] = alpha;
        }
        for (int i = 0; i < n; i++)
            check_f64(y[i]);
        r[rep] *= 0.5;
    }
}
