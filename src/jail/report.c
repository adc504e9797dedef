/*
 * The jail's report of a violation. The seccomp filter (filter.c) raises
 * SIGSYS; the handler writes one line naming the syscall, from a table of
 * names resolved before the filter was loaded (the handler may not
 * allocate), and exits with 159 = 128 + SIGSYS. The filter refuses to let
 * the handler be replaced; if it cannot run (SIGSYS blocked), the kernel
 * kills the process with SIGSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "runtime/error.h"

#include "jail.h"

/* x86-64 syscall numbers are below this (the table of names). */
enum { MAX_SYSCALL = 512 };

static const char *syscall_names[MAX_SYSCALL];

/* Appends s to buf[*n, cap). Async-signal-safe. */
static void append(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s && *n < cap)
        buf[(*n)++] = *s++;
}

static void append_number(char *buf, size_t *n, size_t cap, long v)
{
    char digits[24];
    size_t k = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do
        digits[k++] = (char)('0' + u % 10);
    while ((u /= 10) && k < sizeof digits);
    if (v < 0 && *n < cap)
        buf[(*n)++] = '-';
    while (k && *n < cap)
        buf[(*n)++] = digits[--k];
}

static void on_sigsys(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    char line[160];
    size_t n = 0;
    int nr = info->si_syscall;
    append(line, &n, sizeof line, "wasmjail: jail: denied system call ");
    if (nr >= 0 && nr < MAX_SYSCALL && syscall_names[nr]) {
        append(line, &n, sizeof line, syscall_names[nr]);
        append(line, &n, sizeof line, " (");
        append_number(line, &n, sizeof line, nr);
        append(line, &n, sizeof line, ")");
    } else {
        append_number(line, &n, sizeof line, nr);
    }
    append(line, &n, sizeof line, "\n");
    ssize_t unused = write(STDERR_FILENO, line, n);
    (void)unused;
    _exit(128 + SIGSYS);
}

wj_error *jail_report_install(void)
{
    /* Names first: the handler cannot resolve them once jailed. */
    for (int nr = 0; nr < MAX_SYSCALL; nr++)
        if (!syscall_names[nr])
            syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: SIGSYS: %s", strerror(errno));
    return NULL;
}
