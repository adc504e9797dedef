/*
 * The jail's seccomp policy (libseccomp): default deny, raising SIGSYS
 * (report.c), on every thread (TSYNC).
 *
 * What stays allowed is what the runtime needs once everything is compiled
 * and opened: I/O on open descriptors, the WASI calls' *at syscalls
 * relative to a descriptor (never AT_FDCWD, so no path is resolved from the
 * working directory), memory management without PROT_EXEC (memory.grow; no
 * new code after the jail), threads (they inherit the jail), clocks,
 * getrandom, poll, futex, signal return, masks and alternate stacks (traps
 * must keep working), and exit. Calls that could reach other processes or
 * files outside the preopens are allowed only in their harmless forms:
 * fcntl without owners, signals or O_ASYNC; utimensat on a descriptor,
 * never a path; rt_sigaction for the signals the runtime handles, so the
 * SIGSYS report cannot be replaced; tgkill to this process only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/error.h"

#include "jail.h"

/* Syscalls allowed whatever their arguments. */
static const char *const allowed[] = {
    /* I/O on open descriptors */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "fstat", "getdents64", "ftruncate",
    "fsync", "fdatasync", "fadvise64", "fallocate", "ppoll", "poll",
    /* memory (mmap and mprotect without PROT_EXEC: arg_rules) */
    "munmap", "mremap", "madvise", "brk",
    /* time, randomness, scheduling, threads */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
    "getrandom", "sched_yield", "futex", "getpid", "gettid", "set_robust_list",
    "rseq",
    /* pthread_getattr_np asks it: the stack bounds of a thread's first wasm call */
    "sched_getaffinity",
    /* signals: traps are signals */
    "rt_sigreturn", "rt_sigprocmask", "sigaltstack",
    /* the end */
    "exit", "exit_group",
};

/* A syscall allowed when all its comparisons hold (several rules for one
 * syscall: any of them). */
typedef struct arg_rule {
    const char *name;
    unsigned n;
    struct scmp_arg_cmp cmp[2];
} arg_rule;

#define ARG_IS(arg, value) {(arg), SCMP_CMP_EQ, (value), 0}
#define ARG_HAS_NONE_OF(arg, bits) {(arg), SCMP_CMP_MASKED_EQ, (bits), 0}
/* A descriptor argument is an int: its bit 31 is set for AT_FDCWD. */
#define DIR_FD(arg) ARG_HAS_NONE_OF(arg, 0x80000000u)

/* glibc's signal for setuid() in every thread: the first real-time
 * signal but one (glibc reserves the first two; SIGRTMIN is past them). */
#define GLIBC_SIGSETXID (__SIGRTMIN + 1)

/* What clone may not do: start a process (no CLONE_THREAD) or enter new
 * namespaces. A thread it starts is jailed like its creator. */
#define CLONE_DENIED_BITS                                                                     \
    (CLONE_THREAD | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |             \
     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static const arg_rule arg_rules[] = {
    /* The *at calls WASI makes on preopened directories, with a real
     * descriptor (>= 0) as the directory. What the paths reach is
     * Landlock's business (landlock.c). */
    {"openat", 1, {DIR_FD(0)}},
    {"openat2", 1, {DIR_FD(0)}},
    {"newfstatat", 1, {DIR_FD(0)}},
    {"mkdirat", 1, {DIR_FD(0)}},
    {"unlinkat", 1, {DIR_FD(0)}},
    {"readlinkat", 1, {DIR_FD(0)}},
    {"symlinkat", 1, {DIR_FD(1)}},
    {"renameat", 2, {DIR_FD(0), DIR_FD(2)}},
    {"renameat2", 2, {DIR_FD(0), DIR_FD(2)}},
    {"linkat", 2, {DIR_FD(0), DIR_FD(2)}},
    /* futimens() only: Landlock has no right for times, so a path, even
     * relative to a preopen ("/x", "../x"), could name any file. */
    {"utimensat", 2, {DIR_FD(0), ARG_IS(1, 0)}},
    /* Descriptor and status flags (WASI's fd_fdstat_*, stdio), without
     * O_ASYNC: an owner (F_SETOWN) and a signal (F_SETSIG) would let I/O
     * signal, even kill, any process of the user. */
    {"fcntl", 1, {ARG_IS(1, F_GETFD)}},
    {"fcntl", 1, {ARG_IS(1, F_SETFD)}},
    {"fcntl", 1, {ARG_IS(1, F_GETFL)}},
    {"fcntl", 2, {ARG_IS(1, F_SETFL), ARG_HAS_NONE_OF(2, O_ASYNC)}},
    /* The handlers the runtime installs (when the first store is made)
     * or resets to chain a fault it does not own, abort()'s, and the one
     * glibc installs on the first pthread_create (SIGSETXID). Never
     * SIGSYS: the report must stay. */
    {"rt_sigaction", 1, {ARG_IS(0, SIGSEGV)}},
    {"rt_sigaction", 1, {ARG_IS(0, SIGBUS)}},
    {"rt_sigaction", 1, {ARG_IS(0, SIGILL)}},
    {"rt_sigaction", 1, {ARG_IS(0, SIGFPE)}},
    {"rt_sigaction", 1, {ARG_IS(0, SIGABRT)}},
    {"rt_sigaction", 1, {ARG_IS(0, GLIBC_SIGSETXID)}},
    /* Memory management, but no new executable memory. */
    {"mmap", 1, {ARG_HAS_NONE_OF(2, PROT_EXEC)}},
    {"mprotect", 1, {ARG_HAS_NONE_OF(2, PROT_EXEC)}},
    /* isatty() (stdio asks it of a stream's descriptor), and no other
     * ioctl: TIOCSTI alone would type commands into the terminal. */
    {"ioctl", 1, {ARG_IS(1, TCGETS)}},
    /* Threads (pthread_create), not processes. */
    {"clone", 1, {{0, SCMP_CMP_MASKED_EQ, CLONE_DENIED_BITS, CLONE_THREAD}}},
};

/* rc: a negative errno, as libseccomp returns. */
static wj_error *fail(scmp_filter_ctx ctx, const char *what, int rc)
{
    seccomp_release(ctx);
    return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: %s: %s", what, strerror(-rc));
}

wj_error *jail_seccomp(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: seccomp_init: %s",
                            strerror(ENOMEM));
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
    for (size_t i = 0; i < sizeof arg_rules / sizeof *arg_rules; i++) {
        const arg_rule *r = &arg_rules[i];
        int nr = seccomp_syscall_resolve_name(r->name);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, r->n, r->cmp)))
            return fail(ctx, r->name, rc);
    }
    /* Signals to this process only (abort() raises SIGABRT). */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))))
        return fail(ctx, "tgkill", rc);
    /* clone3's flags are in memory, where seccomp cannot look: "not
     * implemented" sends pthread_create to clone, whose flags it checks. */
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)))
        return fail(ctx, "clone3", rc);
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: seccomp_load: %s",
                            strerror(-rc));
    return NULL;
}
