/* correlation: the correlation matrix of M variables over N observations. */
#include <math.h>

#include "harness.h"

#define NN 1200
#define NM 1000
static double data[NN][NM], corr[NM][NM], mean[NM], stddev[NM];

void bench_run(void)
{
    int n = SIZE(NN, 24), m = SIZE(NM, 20);
    double fn = n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (double)(i * j % 1000) / m + i % 7;
    for (int j = 0; j < m; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < n; i++)
            mean[j] += data[i][j];
        mean[j] /= fn;
    }
    for (int j = 0; j < m; j++) {
        stddev[j] = 0.0;
        for (int i = 0; i < n; i++)
            stddev[j] += (data[i][j] - mean[j]) * (data[i][j] - mean[j]);
        stddev[j] = sqrt(stddev[j] / fn);
        /* A constant variable would divide by zero: leave it unscaled. */
        if (stddev[j] <= 0.1)
            stddev[j] = 1.0;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (data[i][j] - mean[j]) / (sqrt(fn) * stddev[j]);
    for (int i = 0; i < m - 1; i++) {
        corr[i][i] = 1.0;
        for (int j = i + 1; j < m; j++) {
            corr[i][j] = 0.0;
            for (int k = 0; k < n; k++)
                corr[i][j] += data[k][i] * data[k][j];
            corr[j][i] = corr[i][j];
        }
    }
    corr[m - 1][m - 1] = 1.0;
    check_f64_2d(&corr[0][0], m, m, NM);
}
