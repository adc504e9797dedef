/*
 * random-bytes: the random input from which binaryen's `wasm-opt -ttf`
 * makes module INDEX of a differential fuzzing run with SEED (see
 * differential.sh), so that a run is reproducible from its seed:
 *
 *   random-bytes SEED INDEX > FILE
 *
 * Writes 1 KiB to 16 KiB (the size is random too: bigger inputs make
 * bigger modules) from splitmix64 seeded with SEED and INDEX.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static bool parse(const char *s, uint64_t *out)
{
    char *end;
    *out = strtoull(s, &end, 10);
    return *s && !*end;
}

int main(int argc, char **argv)
{
    uint64_t seed, index;
    if (argc != 3 || !parse(argv[1], &seed) || !parse(argv[2], &index)) {
        fprintf(stderr, "Usage: random-bytes SEED INDEX\n");
        return 2;
    }
    uint64_t state = seed * UINT64_C(0x100000001b3) ^ index;
    size_t len = 1024 + splitmix64(&state) % (15 * 1024);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = splitmix64(&state);
        for (size_t b = 0; b < 8 && i + b < len; b++)
            putchar((int)(r >> (8 * b) & 0xff));
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
