/* floyd-warshall: all-pairs shortest paths in a weighted directed graph
 * (integer weights, "no edge" as a large distance). */
#include "harness.h"

#define NL 1150
#define NO_EDGE 999999
static int path[NL][NL];

void bench_run(void)
{
    int n = SIZE(NL, 30);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            path[i][j] = i * j % 7 + 1;
            if ((i + j) % 13 == 0 || (i + j) % 7 == 0 || (i + j) % 11 == 0)
                path[i][j] = NO_EDGE;
        }
    for (int k = 0; k < n; k++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                path[i][j] = path[i][j] < path[i][k] + path[k][j] ? path[i][j]
                                                                  : path[i][k] + path[k][j];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            check_i64(path[i][j]);
}
