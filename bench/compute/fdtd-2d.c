/* fdtd-2d: the finite-difference time-domain method for Maxwell's equations
 * in 2-D (TE mode): Ey, Ex and Hz fields, a source driving the first row. */
#include "harness.h"

#define NX 1000
#define NY 1200
static double ex[NX][NY], ey[NX][NY], hz[NX][NY];

void bench_run(void)
{
    int nx = SIZE(NX, 20), ny = SIZE(NY, 24), steps = SIZE(250, 6);
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) {
            ex[i][j] = (double)(i * (j + 1)) / nx;
            ey[i][j] = (double)(i * (j + 2)) / ny;
            hz[i][j] = (double)(i * (j + 3)) / nx;
        }
    for (int t = 0; t < steps; t++) {
        for (int j = 0; j < ny; j++)
            ey[0][j] = t;
        for (int i = 1; i < nx; i++)
            for (int j = 0; j < ny; j++)
                ey[i][j] -= 0.5 * (hz[i][j] - hz[i - 1][j]);
        for (int i = 0; i < nx; i++)
            for (int j = 1; j < ny; j++)
                ex[i][j] -= 0.5 * (hz[i][j] - hz[i][j - 1]);
        for (int i = 0; i < nx - 1; i++)
            for (int j = 0; j < ny - 1; j++)
                hz[i][j] -= 0.7 * (ex[i][j + 1] - ex[i][j] + ey[i + 1][j] - ey[i][j]);
    }
    check_f64_2d(&ex[0][0], nx, ny, NY);
    check_f64_2d(&ey[0][0], nx, ny, NY);
    check_f64_2d(&hz[0][0], nx, ny, NY);
}
