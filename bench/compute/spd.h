/* A symmetric matrix with a dominant positive diagonal (so positive definite
 * and safe to factor without pivoting), for cholesky, lu and ludcmp. */
#ifndef COMPUTE_SPD_H
#define COMPUTE_SPD_H

#define SPD_INIT(a, n)                                                        \
    for (int i = 0; i < (n); i++) {                                           \
        for (int j = 0; j < i; j++)                                           \
            (a)[i][j] = (a)[j][i] = (double)((i * j + i + j) % 97) / 97.0;    \
        (a)[i][i] = (n) + 1.0;                                                \
    }

#endif
