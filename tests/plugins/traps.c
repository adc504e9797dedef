/*
 * traps: a WASI plugin that traps, for the trap reports checked by
 * tests/plugins/plugins.sh. argv[1] picks the trap:
 *   abort       abort() from plugin_fail_here (wasi-libc: unreachable)
 *   divide      i32 division by zero, main -> trap_level1 -> trap_level2
 *               -> trap_level3 -> trap_divide
 *   store       out-of-bounds i32 store through the same chain
 *   load        out-of-bounds i32 load through the same chain
 *   recurse     unbounded recursion: call stack exhausted
 * Every function that must appear in the backtrace is noinline and
 * external, so it keeps its own frame and its name in the name section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* volatile: clang must not fold the trap away (or prove it and emit
   unreachable in place of the division or the access). */
volatile int zero = 0;
int *volatile far_away = (int *)0xfffffff0;

NOINLINE void plugin_fail_here(void)
{
    fprintf(stderr, "plugin_fail_here: aborting\n");
    abort();
}

NOINLINE int trap_divide(int x)
{
    return x / zero;
}

NOINLINE int trap_store(int x)
{
    *far_away = x;
    return x;
}

NOINLINE int trap_load(int x)
{
    return *far_away + x;
}

/* The chain; `what` picks the innermost function. The "+ 1"s keep the
   calls from being the last thing each function does. */
NOINLINE int trap_level3(const char *what, int x)
{
    if (strcmp(what, "divide") == 0)
        return trap_divide(x) + 1;
    if (strcmp(what, "store") == 0)
        return trap_store(x) + 1;
    return trap_load(x) + 1;
}

NOINLINE int trap_level2(const char *what, int x)
{
    return trap_level3(what, x + 1) + 1;
}

NOINLINE int trap_level1(const char *what, int x)
{
    return trap_level2(what, x + 1) + 1;
}

/* Called through a volatile pointer so that clang cannot turn the
   recursion into a loop; no locals in memory, so only the wasm stack grows. */
NOINLINE unsigned trap_recurse(unsigned n);
unsigned (*volatile recurse_ptr)(unsigned) = trap_recurse;

NOINLINE unsigned trap_recurse(unsigned n)
{
    return recurse_ptr(n + 1) * 3 + 1;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "abort") == 0)
        plugin_fail_here();
    else if (strcmp(cmd, "divide") == 0 || strcmp(cmd, "store") == 0 ||
             strcmp(cmd, "load") == 0)
        printf("%d\n", trap_level1(cmd, argc));
    else if (strcmp(cmd, "recurse") == 0)
        printf("%u\n", trap_recurse(0));
    else {
        fprintf(stderr, "traps: unknown subcommand '%s'\n", cmd);
        return 64;
    }
    /* Not reached: each of the above traps. */
    printf("NO TRAP\n");
    return 0;
}
