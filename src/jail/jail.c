/*
 * The jail: a default-deny seccomp filter (libseccomp) around the whole
 * process, for once everything is compiled, instantiated and opened.
 *
 * What stays allowed is what the runtime needs from then on: I/O on open
 * descriptors, the WASI calls' *at syscalls relative to a descriptor (never
 * AT_FDCWD, so no path is resolved from the working directory), memory
 * management without PROT_EXEC (memory.grow; no new code after the jail),
 * clocks, getrandom, poll, futex, signal return, masks and alternate
 * stacks (traps must keep working), and exit.
 *
 * Path lookups are confined by Landlock (landlock.c) first, to beneath the
 * WASI contexts' preopened directories.
 *
 * A violation raises SIGSYS (SCMP_ACT_TRAP); the handler writes one line
 * naming the syscall, from a table of names resolved before the filter was
 * loaded (the handler may not allocate), and exits with 159 = 128 + SIGSYS.
 * If the handler cannot run, the kernel kills the process with SIGSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/error.h" /* wj_error objects */
#include "wasi/preopens.h"   /* the directories Landlock lets lookups reach */

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

/* Syscalls allowed whatever their arguments. */
static const char *const allowed[] = {
    /* I/O on open descriptors */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "fstat", "fcntl", "getdents64", "ftruncate",
    "fsync", "fdatasync", "fadvise64", "fallocate", "ppoll", "poll",
    /* memory (PROT_EXEC is refused below) */
    "munmap", "mremap", "madvise", "brk",
    /* time, randomness, scheduling, threads */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
    "getrandom", "sched_yield", "futex", "getpid", "gettid", "set_robust_list",
    "rseq",
    /* pthread_getattr_np asks it: the stack bounds of a thread's first wasm call */
    "sched_getaffinity",
    /* signals: traps are signals */
    "rt_sigreturn", "rt_sigprocmask", "sigaltstack", "rt_sigaction",
    /* the end */
    "exit", "exit_group",
};

/* The *at syscalls WASI makes on preopened directories: allowed only with a
 * real descriptor (>= 0) as the directory, never AT_FDCWD. */
static const struct {
    const char *name;
    unsigned dirfd_args; /* bit i: argument i is a directory descriptor */
} at_calls[] = {
    {"openat", 1}, {"openat2", 1}, {"newfstatat", 1}, {"statx", 1},
    {"mkdirat", 1}, {"unlinkat", 1}, {"readlinkat", 1}, {"utimensat", 1},
    {"symlinkat", 2}, {"renameat", 5}, {"renameat2", 5}, {"linkat", 5},
};

/* rc: a negative errno, as libseccomp returns. */
static wj_error *fail(scmp_filter_ctx ctx, const char *what, int rc)
{
    if (ctx)
        seccomp_release(ctx);
    return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: %s: %s", what, strerror(-rc));
}

typedef struct dir_list {
    jail_dir *v;
    size_t n, cap;
} dir_list;

static bool add_dir(void *env, int fd, bool read_only)
{
    dir_list *l = env;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        jail_dir *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = (jail_dir){fd, read_only};
    return true;
}

static wj_error *confine_paths(wj_wasi *const *wasi, size_t count)
{
    dir_list dirs = {0};
    for (size_t i = 0; i < count; i++)
        if (wasi[i] && !wasi_each_preopen(wasi[i], add_dir, &dirs)) {
            free(dirs.v);
            return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "jail: out of memory");
        }
    wj_error *err = jail_landlock(dirs.v, dirs.n);
    free(dirs.v);
    return err;
}

wj_error *wj_jail_enter(wj_wasi *const *wasi, size_t count)
{
    wj_error *err = confine_paths(wasi, count);
    if (err)
        return err;
    /* Names first: the handler cannot resolve them once jailed. */
    for (int nr = 0; nr < MAX_SYSCALL; nr++)
        if (!syscall_names[nr])
            syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: SIGSYS: %s", strerror(errno));

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx)
        return fail(NULL, "seccomp_init", -ENOMEM);
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc)
        return fail(ctx, "thread synchronization", rc);
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not a syscall of this architecture */
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)))
            return fail(ctx, allowed[i], rc);
    }
    /* A descriptor argument is an int: its bit 31 is set for AT_FDCWD. */
    for (size_t i = 0; i < sizeof at_calls / sizeof *at_calls; i++) {
        int nr = seccomp_syscall_resolve_name(at_calls[i].name);
        if (nr == __NR_SCMP_ERROR)
            continue;
        struct scmp_arg_cmp cmp[2];
        unsigned n = 0;
        for (unsigned arg = 0; arg < 6; arg++)
            if (at_calls[i].dirfd_args & (1u << arg))
                cmp[n++] = (struct scmp_arg_cmp){arg, SCMP_CMP_MASKED_EQ, 0x80000000u, 0};
        if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp)))
            return fail(ctx, at_calls[i].name, rc);
    }
    /* isatty() (stdio asks it of a stream's descriptor), and no other
     * ioctl: TIOCSTI alone would type commands into the terminal. */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                               SCMP_A1(SCMP_CMP_EQ, TCGETS))))
        return fail(ctx, "ioctl", rc);
    /* Signals to this process only (abort() raises SIGABRT). */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))))
        return fail(ctx, "tgkill", rc);
    /* Memory management, but no new executable memory. */
    static const char *const map_calls[] = {"mmap", "mprotect"};
    for (size_t i = 0; i < 2; i++) {
        int nr = seccomp_syscall_resolve_name(map_calls[i]);
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))))
            return fail(ctx, map_calls[i], rc);
    }
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc)
        return fail(NULL, "seccomp_load", rc);
    return NULL;
}
