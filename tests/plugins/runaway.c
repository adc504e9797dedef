/*
 * runaway: a WASI plugin that never finishes on its own, for `wasmjail run
 * --timeout` and `--fuel` in tests/plugins/plugins.sh. argv[1] picks:
 *   spin     an endless loop without calls (runaway_spin), on a volatile
 *            counter so that clang keeps it
 *   recurse  naive recursive Fibonacci of 90 (runaway_fib), about 10^19
 *            calls and no loop: only function entries can stop it
 *   finish   prints "runaway: finished" and exits with 0
 * The functions that must appear in the backtrace are noinline and
 * external, so they keep their frames and their names.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

volatile uint32_t spin_counter;

NOINLINE void runaway_spin(void)
{
    for (;;)
        spin_counter++;
}

/* Called through a volatile pointer, so that clang can neither turn one
   of the two recursive calls into a loop nor evaluate anything ahead. */
NOINLINE uint64_t runaway_fib(uint64_t n);
uint64_t (*volatile fib_ptr)(uint64_t) = runaway_fib;

NOINLINE uint64_t runaway_fib(uint64_t n)
{
    return n < 2 ? n : fib_ptr(n - 1) + fib_ptr(n - 2);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "spin") == 0) {
        runaway_spin();
    } else if (strcmp(cmd, "recurse") == 0) {
        printf("fib(90) = %llu\n", (unsigned long long)fib_ptr(90));
    } else if (strcmp(cmd, "finish") == 0) {
        printf("runaway: finished\n");
        return 0;
    }
    fprintf(stderr, "usage: runaway spin|recurse|finish\n");
    return 2;
}
