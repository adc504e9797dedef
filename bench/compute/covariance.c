/* covariance: the covariance matrix of M variables over N observations. */
#include "harness.h"

#define NN 1200
#define NM 1000
static double data[NN][NM], cov[NM][NM], mean[NM];

void bench_run(void)
{
    int n = SIZE(NN, 24), m = SIZE(NM, 20);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (double)(i * j % 1000) / m + i % 5;
    for (int j = 0; j < m; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < n; i++)
            mean[j] += data[i][j];
        mean[j] /= n;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] -= mean[j];
    for (int i = 0; i < m; i++)
        for (int j = i; j < m; j++) {
            cov[i][j] = 0.0;
            for (int k = 0; k < n; k++)
                cov[i][j] += data[k][i] * data[k][j];
            cov[i][j] /= n - 1.0;
            cov[j][i] = cov[i][j];
        }
    check_f64_2d(&cov[0][0], m, m, NM);
}
