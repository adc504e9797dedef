/* The jail's parts (src/jail): the one-thread check (threads.c), the
 * Landlock ruleset (landlock.c), the violation report (report.c) and the
 * seccomp filter (filter.c); jail.c puts them together. */
#ifndef WJ_JAIL_H
#define WJ_JAIL_H

#include <stdbool.h>
#include <stddef.h>

#include <wasmjail.h>

/* A directory path lookups may go beneath. */
typedef struct jail_dir {
    int fd;
    bool read_only;
} jail_dir;

/* NULL when the process has one thread; else why the jail cannot be
 * entered. */
wj_error *jail_check_one_thread(void);
/* The kernel's Landlock ABI version; 0 when it has none. */
int jail_landlock_abi(void);
/* Restricts the calling thread (and threads it creates later) to lookups
 * beneath `dirs` and, from Landlock ABI 6, to signals within itself.
 * Without Landlock in the kernel, does nothing. */
wj_error *jail_landlock(const jail_dir *dirs, size_t n);
/* Installs the SIGSYS handler that reports a denied call and exits 159. */
wj_error *jail_report_install(void);
/* Loads the default-deny seccomp filter on every thread, for good. */
wj_error *jail_seccomp(void);

#endif
