/* deriche: Deriche's recursive Gaussian (edge detection) filter over an
 * image: a causal and an anti-causal pass along the rows, then along the
 * columns. The coefficients need exp(): computed here by plain arithmetic so
 * that they are the same whatever the C library. Repeated, the output
 * (normalised) fed back as the input. */
#include "harness.h"

#define NW 2048
#define NH 1080
static double in[NW][NH], out[NW][NH], y1[NW][NH], y2[NW][NH];

/* e^x for small |x|: its Taylor series, enough terms for double precision. */
static double exp_series(double x)
{
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 30; k++) {
        term *= x / k;
        sum += term;
    }
    return sum;
}

void bench_run(void)
{
    int w = SIZE(NW, 20), h = SIZE(NH, 16), reps = SIZE(12, 2);
    double alpha = 0.25;
    double ea = exp_series(-alpha), e2a = exp_series(-2.0 * alpha);
    double k = (1.0 - ea) * (1.0 - ea) / (1.0 + 2.0 * alpha * ea - e2a);
    double a1 = k, a5 = k;
    double a2 = k * ea * (alpha - 1.0), a6 = a2;
    double a3 = k * ea * (alpha + 1.0), a7 = a3;
    double a4 = -k * e2a, a8 = a4;
    double b1 = exp_series(-alpha * 0.69314718055994530942); /* 2^-alpha */
    double b2 = -e2a;
    for (int i = 0; i < w; i++)
        for (int j = 0; j < h; j++)
            in[i][j] = (double)((313 * i + 991 * j) % 65536) / 65535.0;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < w; i++) {
            double ym1 = 0.0, ym2 = 0.0, xm1 = 0.0;
            for (int j = 0; j < h; j++) {
                y1[i][j] = a1 * in[i][j] + a2 * xm1 + b1 * ym1 + b2 * ym2;
                xm1 = in[i][j];
                ym2 = ym1;
                ym1 = y1[i][j];
            }
        }
        for (int i = 0; i < w; i++) {
            double yp1 = 0.0, yp2 = 0.0, xp1 = 0.0, xp2 = 0.0;
            for (int j = h - 1; j >= 0; j--) {
                y2[i][j] = a3 * xp1 + a4 * xp2 + b1 * yp1 + b2 * yp2;
                xp2 = xp1;
                xp1 = in[i][j];
                yp2 = yp1;
                yp1 = y2[i][j];
            }
        }
        for (int i = 0; i < w; i++)
            for (int j = 0; j < h; j++)
                out[i][j] = y1[i][j] + y2[i][j];
        for (int j = 0; j < h; j++) {
            double tm1 = 0.0, ym1 = 0.0, ym2 = 0.0;
            for (int i = 0; i < w; i++) {
                y1[i][j] = a5 * out[i][j] + a6 * tm1 + b1 * ym1 + b2 * ym2;
                tm1 = out[i][j];
                ym2 = ym1;
                ym1 = y1[i][j];
            }
        }
        for (int j = 0; j < h; j++) {
            double tp1 = 0.0, tp2 = 0.0, yp1 = 0.0, yp2 = 0.0;
            for (int i = w - 1; i >= 0; i--) {
                y2[i][j] = a7 * tp1 + a8 * tp2 + b1 * yp1 + b2 * yp2;
                tp2 = tp1;
                tp1 = out[i][j];
                yp2 = yp1;
                yp1 = y2[i][j];
            }
        }
        /* The filter shrinks the image: scaled back to a largest value
         * of 1 before it is fed back, lest it sink into subnormals. */
        double max = 0.0;
        for (int i = 0; i < w; i++)
            for (int j = 0; j < h; j++) {
                in[i][j] = y1[i][j] + y2[i][j];
                double v = in[i][j] < 0.0 ? -in[i][j] : in[i][j];
                max = v > max ? v : max;
            }
        for (int i = 0; i < w; i++)
            for (int j = 0; j < h; j++)
                in[i][j] /= max;
    }
    check_f64_2d(&in[0][0], w, h, NH);
}
