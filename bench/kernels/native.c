/* Runs one kernel of kernels.c natively: kernels-native NAME N */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t fib(uint32_t), sieve(uint32_t), matmul(uint32_t), crc32(uint32_t), nbody(uint32_t),
    sort(uint32_t);

int main(int argc, char **argv)
{
    static const struct { const char *name; uint32_t (*fn)(uint32_t); } kernels[] = {
        {"fib", fib}, {"sieve", sieve}, {"matmul", matmul},
        {"crc32", crc32}, {"nbody", nbody}, {"sort", sort},
    };
    if (argc != 3) {
        fprintf(stderr, "usage: kernels-native NAME N\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++)
        if (strcmp(argv[1], kernels[i].name) == 0) {
            printf("%u\n", kernels[i].fn((uint32_t)strtoul(argv[2], NULL, 0)));
            return 0;
        }
    fprintf(stderr, "kernels-native: no kernel %s\n", argv[1]);
    return 2;
}
