/* adi: the alternating direction implicit method for the 2-D heat equation
 * (Peaceman-Rachford): every time step solves a tridiagonal system per
 * column, then per row (the Thomas algorithm). */
#include "harness.h"

#define NL 1000
static double u[NL][NL], v[NL][NL], p[NL][NL], q[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 20), steps = SIZE(50, 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            u[i][j] = (double)((i * i + 3 * j * j + i * j) % 97) / 97.0;
    /* A time step of a quarter of dx^2: large enough for the implicit
     * scheme to matter, small enough that the grid does not settle at
     * once on its boundary values. */
    double dx = 1.0 / n, dy = 1.0 / n, dt = 0.25 * dx * dx;
    double b1 = 2.0, b2 = 1.0;
    double mul1 = b1 * dt / (dx * dx), mul2 = b2 * dt / (dy * dy);
    double a = -mul1 / 2.0, b = 1.0 + mul1, c = a;
    double d = -mul2 / 2.0, e = 1.0 + mul2, f = d;
    for (int t = 1; t <= steps; t++) {
        /* Columns: v from u. */
        for (int i = 1; i < n - 1; i++) {
            v[0][i] = 1.0;
            p[i][0] = 0.0;
            q[i][0] = v[0][i];
            for (int j = 1; j < n - 1; j++) {
                double den = a * p[i][j - 1] + b;
                p[i][j] = -c / den;
                q[i][j] = (-d * u[j][i - 1] + (1.0 + 2.0 * d) * u[j][i] - f * u[j][i + 1] -
                           a * q[i][j - 1]) / den;
            }
            v[n - 1][i] = 1.0;
            for (int j = n - 2; j >= 1; j--)
                v[j][i] = p[i][j] * v[j + 1][i] + q[i][j];
        }
        /* Rows: u from v. */
        for (int i = 1; i < n - 1; i++) {
            u[i][0] = 1.0;
            p[i][0] = 0.0;
            q[i][0] = u[i][0];
            for (int j = 1; j < n - 1; j++) {
                double den = d * p[i][j - 1] + e;
                p[i][j] = -f / den;
                q[i][j] = (-a * v[i - 1][j] + (1.0 + 2.0 * a) * v[i][j] - c * v[i + 1][j] -
                           d * q[i][j - 1]) / den;
            }
            u[i][n - 1] = 1.0;
            for (int j = n - 2; j >= 1; j--)
                u[i][j] = p[i][j] * u[i][j + 1] + q[i][j];
        }
    }
    check_f64_2d(&u[0][0], n, n, NL);
}
