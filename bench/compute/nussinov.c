/* nussinov: Nussinov's dynamic program for RNA folding, the most base pairs
 * (A-U, C-G as 0+3, 1+2) of a sequence's subsequences i..j. */
#include "harness.h"

#define NL 1650
static int table[NL][NL];
static unsigned char seq[NL];

static int max(int a, int b)
{
    return a >= b ? a : b;
}

void bench_run(void)
{
    int n = SIZE(NL, 40);
    for (int i = 0; i < n; i++)
        seq[i] = (unsigned char)((i * 7 + (i >> 2)) % 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            table[i][j] = 0;
    for (int i = n - 1; i >= 0; i--)
        for (int j = i + 1; j < n; j++) {
            int best = table[i][j];
            best = max(best, table[i][j - 1]);
            if (i + 1 < n) {
                best = max(best, table[i + 1][j]);
                int pair = i < j - 1 && seq[i] + seq[j] == 3;
                best = max(best, table[i + 1][j - 1] + pair);
            }
            for (int k = i + 1; k < j; k++)
                best = max(best, table[i][k] + table[k + 1][j]);
            table[i][j] = best;
        }
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++)
            check_i64(table[i][j]);
}
