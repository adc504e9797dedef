/* cholesky: A = L L^T in place (L in the lower triangle). */
#include <math.h>

#include "harness.h"
#include "spd.h"

#define NL 1700
static double A[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 30);
    SPD_INIT(A, n)
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            for (int k = 0; k < j; k++)
                A[i][j] -= A[i][k] * A[j][k];
            A[i][j] /= A[j][j];
        }
        for (int k = 0; k < i; k++)
            A[i][i] -= A[i][k] * A[i][k];
        A[i][i] = sqrt(A[i][i]);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            check_f64(A[i][j]);
}
