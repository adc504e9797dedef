/*
 * The jail's file-system part: a Landlock ruleset under which path lookups
 * succeed only beneath the directories given (the WASI preopens), and
 * beneath read-only ones only for reading. seccomp cannot read path
 * strings; Landlock checks the resolved path in the kernel, so even an
 * openat(preopen, "/etc/passwd") or a "../" that escaped a buggy lookup is
 * refused (EACCES). Descriptors already open are unaffected. O_PATH opens
 * and metadata (stat, readlink) are outside Landlock's reach.
 *
 * From ABI 6, the ruleset also scopes signals: the jailed process may
 * signal itself but no process outside (kill, and the SIGIO or F_SETSIG
 * signal a descriptor owner set with F_SETOWN would get), a second line
 * behind the seccomp filter, which allows neither.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/error.h"

#include "jail.h"

/* Rights of later ABIs than the headers of Debian 12 know. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr of ABI 6 (the headers of Debian 12 have
 * only its first field). Older kernels accept it with the later fields 0. */
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

#define READ_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* Every file-system right an ABI version handles. */
static uint64_t fs_rights(int abi)
{
    uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* version 1 */
    if (abi >= 2)
        rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

int jail_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

wj_error *jail_landlock(const jail_dir *dirs, size_t n)
{
    int abi = jail_landlock_abi();
    if (abi == 0)
        return NULL; /* no Landlock in this kernel: seccomp alone */
    uint64_t handled = fs_rights(abi);
    struct ruleset_attr attr = {
        .handled_access_fs = handled,
        .scoped = abi >= 6 ? LANDLOCK_SCOPE_SIGNAL : 0,
    };
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: Landlock ruleset: %s",
                            strerror(errno));
    for (size_t i = 0; i < n; i++) {
        struct landlock_path_beneath_attr rule = {
            .allowed_access = dirs[i].read_only ? READ_RIGHTS : handled & ~LANDLOCK_ACCESS_FS_EXECUTE,
            .parent_fd = dirs[i].fd,
        };
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
            int e = errno;
            close(ruleset);
            return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET,
                                "jail: Landlock rule for directory descriptor %d: %s", dirs[i].fd,
                                strerror(e));
        }
    }
    /* Required to restrict oneself without privileges; the seccomp filter
     * that follows needs it too. */
    int rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
             syscall(SYS_landlock_restrict_self, ruleset, 0) != 0;
    int e = errno;
    close(ruleset);
    if (rc)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET, "jail: Landlock: %s",
                            strerror(e));
    return NULL;
}
