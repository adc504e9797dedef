/* The jail's parts (src/jail): the seccomp filter (jail.c) and the
 * Landlock ruleset (landlock.c). */
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

/* The kernel's Landlock ABI version; 0 when it has none. */
int jail_landlock_abi(void);
/* Restricts the calling thread (and threads it creates later) to lookups
 * beneath `dirs`. Without Landlock in the kernel, does nothing. */
wj_error *jail_landlock(const jail_dir *dirs, size_t n);

#endif
