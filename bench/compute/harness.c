/*
 * main of every compute kernel: runs bench_run() at the full size or, given
 * the argument "small", at a tiny one, then prints the checksum of the
 * results: an FNV-1a hash of their bits (the same in every IEEE-conforming
 * build), their count and, for a human reader, their sum.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int bench_small;

static uint64_t hash = 0xcbf29ce484222325u;
static uint64_t count;
static double sum;

static void mix(uint64_t bits)
{
    for (int i = 0; i < 8; i++) {
        hash ^= (bits >> (8 * i)) & 0xff;
        hash *= 0x100000001b3u;
    }
    count++;
}

void check_f64(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    mix(bits);
    sum += v;
}

void check_i64(int64_t v)
{
    mix((uint64_t)v);
    sum += (double)v;
}

void check_f64_2d(const double *a, int rows, int cols, int stride)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            check_f64(a[(long)i * stride + j]);
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "small") != 0)) {
        fprintf(stderr, "usage: %s [small]\n", argv[0]);
        return 2;
    }
    bench_small = argc == 2;
    bench_run();
    printf("checksum %016llx count %llu sum %.6e\n", (unsigned long long)hash,
           (unsigned long long)count, sum);
    return 0;
}
