/*
 * basics: a WASI plugin for tests/plugins/plugins.sh. argv[1] picks what it
 * does; each subcommand exercises one part of WASI preview 1:
 *   stdout | stderr         exact bytes on stdout / stderr
 *   stdin                   echo stdin upper-cased, then its byte count
 *   args ARGS...            argc and every argv[i]
 *   env                     every environment variable, sorted
 *   clocks                  realtime seconds; monotonic and sleep checks
 *   random                  getentropy and arc4random_buf
 *   exit N | return N       exit(N) / return N from main, after printing
 * Built by the test script with clang --target=wasm32-wasi.
 */
#define _BSD_SOURCE /* arc4random_buf */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int do_stdin(void)
{
    char buf[4096];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] -= 'a' - 'A';
        fwrite(buf, 1, n, stdout);
        total += n;
    }
    if (ferror(stdin)) {
        perror("stdin");
        return 1;
    }
    printf("bytes=%zu\n", total);
    return 0;
}

static int do_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    /* The order of environ_get is the host's: sort for a stable output. */
    char **v = malloc((n + 1) * sizeof *v);
    memcpy(v, environ, (n + 1) * sizeof *v);
    qsort(v, n, sizeof *v, cmp_str);
    printf("count=%zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", v[i]);
    printf("HOME is %s\n", getenv("HOME") ? "set" : "unset");
    printf("PATH is %s\n", getenv("PATH") ? "set" : "unset");
    return 0;
}

static int do_clocks(void)
{
    /* The script compares this with the host's `date +%s`. */
    printf("realtime=%lld\n", (long long)(now_ns(CLOCK_REALTIME) / 1000000000));
    printf("time=%lld\n", (long long)time(NULL));

    int64_t prev = now_ns(CLOCK_MONOTONIC);
    int ok = 1;
    for (int i = 0; i < 10000; i++) {
        int64_t t = now_ns(CLOCK_MONOTONIC);
        if (t < prev)
            ok = 0;
        prev = t;
    }
    printf("monotonic %s\n", ok ? "non-decreasing" : "WENT BACKWARDS");

    /* Sleeps are poll_oneoff with a clock subscription: only lower bounds. */
    struct timespec req = { 0, 50 * 1000000 };
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    if (nanosleep(&req, NULL) != 0)
        perror("nanosleep");
    int64_t t1 = now_ns(CLOCK_MONOTONIC);
    if (t1 - t0 >= 50 * 1000000)
        printf("nanosleep 50ms ok\n");
    else
        printf("nanosleep 50ms took only %lld ns\n", (long long)(t1 - t0));
    usleep(50 * 1000);
    int64_t t2 = now_ns(CLOCK_MONOTONIC);
    if (t2 - t1 >= 50 * 1000000)
        printf("usleep 50ms ok\n");
    else
        printf("usleep 50ms took only %lld ns\n", (long long)(t2 - t1));
    return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void check_random(const char *what, const unsigned char *a, const unsigned char *b)
{
    if (all_zero(a, 32) || all_zero(b, 32))
        printf("%s: ALL ZERO\n", what);
    else if (memcmp(a, b, 32) == 0)
        printf("%s: SAME TWICE\n", what);
    else
        printf("%s: ok\n", what);
}

static int do_random(void)
{
    unsigned char a[32], b[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
        perror("getentropy");
        return 1;
    }
    check_random("getentropy", a, b);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    arc4random_buf(a, sizeof a);
    arc4random_buf(b, sizeof b);
    check_random("arc4random_buf", a, b);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "stdout") == 0) {
        /* A tab, a percent, bytes >= 0x80, and no final newline: stdout
           must be flushed by exit even so. */
        printf("Hello, stdout!\n\tline %d of %s\n100%%\n", 2, "three");
        fwrite("\xc3\xa9\x00\xff", 1, 4, stdout);
        printf("no newline at the end");
        return 0;
    }
    if (strcmp(cmd, "stderr") == 0) {
        fprintf(stdout, "to stdout\n");
        fprintf(stderr, "to stderr: %d\n", 42);
        fputs("second stderr line\n", stderr);
        return 0;
    }
    if (strcmp(cmd, "stdin") == 0)
        return do_stdin();
    if (strcmp(cmd, "args") == 0) {
        printf("argc=%d\n", argc);
        for (int i = 0; i < argc; i++)
            printf("argv[%d]=[%s]\n", i, argv[i]);
        return 0;
    }
    if (strcmp(cmd, "env") == 0)
        return do_env();
    if (strcmp(cmd, "clocks") == 0)
        return do_clocks();
    if (strcmp(cmd, "random") == 0)
        return do_random();
    if (strcmp(cmd, "exit") == 0 && argc > 2) {
        /* Buffered output must still reach stdout: exit() flushes it. */
        printf("exit(%s)\n", argv[2]);
        exit(atoi(argv[2]));
    }
    if (strcmp(cmd, "return") == 0 && argc > 2) {
        printf("return %s\n", argv[2]);
        return atoi(argv[2]);
    }
    fprintf(stderr, "basics: unknown subcommand '%s'\n", cmd);
    return 64;
}
