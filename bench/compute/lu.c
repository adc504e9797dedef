/* lu: A = L U in place, without pivoting (L unit lower, U upper). */
#include "harness.h"
#include "spd.h"

#define NL 1450
static double A[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 30);
    SPD_INIT(A, n)
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            for (int k = 0; k < j; k++)
                A[i][j] -= A[i][k] * A[k][j];
            A[i][j] /= A[j][j];
        }
        for (int j = i; j < n; j++)
            for (int k = 0; k < i; k++)
                A[i][j] -= A[i][k] * A[k][j];
    }
    check_f64_2d(&A[0][0], n, n, NL);
}
