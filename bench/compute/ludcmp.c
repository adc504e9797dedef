/* ludcmp: solves A x = b by an LU decomposition (no pivoting) and forward
 * and backward substitution. */
#include "harness.h"
#include "spd.h"

#define NL 1450
static double A[NL][NL], b[NL], x[NL], y[NL];

void bench_run(void)
{
    int n = SIZE(NL, 30);
    SPD_INIT(A, n)
    for (int i = 0; i < n; i++)
        b[i] = (i + 1) / (double)n / 2.0 + 4.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            double w = A[i][j];
            for (int k = 0; k < j; k++)
                w -= A[i][k] * A[k][j];
            A[i][j] = w / A[j][j];
        }
        for (int j = i; j < n; j++) {
            double w = A[i][j];
            for (int k = 0; k < i; k++)
                w -= A[i][k] * A[k][j];
            A[i][j] = w;
        }
    }
    for (int i = 0; i < n; i++) {
        double w = b[i];
        for (int j = 0; j < i; j++)
            w -= A[i][j] * y[j];
        y[i] = w;
    }
    for (int i = n - 1; i >= 0; i--) {
        double w = y[i];
        for (int j = i + 1; j < n; j++)
            w -= A[i][j] * x[j];
        x[i] = w / A[i][i];
    }
    for (int i = 0; i < n; i++)
        check_f64(x[i]);
    check_f64_2d(&A[0][0], n, n, NL);
}
