/*
 * Path lookups that cannot leave a preopened directory.
 *
 * openat2(2) with RESOLVE_BENEATH makes the kernel refuse every step out of
 * the starting directory: "..", absolute paths and symlinks whose targets
 * climb out, atomically with respect to concurrent renames.
 * RESOLVE_NO_MAGICLINKS refuses /proc-style links. Where openat2 is missing
 * (kernels before 5.6, or a filter that denies it), the lookup walks the
 * path one component at a time with O_NOFOLLOW, expanding symlinks itself
 * and refusing absolute targets and ".." above the start; a symlink that
 * appears between the check and the open makes the open fail (ELOOP), not
 * escape.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi.h"

bool sandbox_without_openat2;

/* Symlinks one lookup may expand, as Linux's MAXSYMLINKS. */
enum { MAX_SYMLINKS = 40 };

static int fail(uint16_t *err, uint16_t e)
{
    *err = e;
    return -1;
}

/* The lookup by hand. `stack` holds the directories walked into (stack[0]
 * is a copy of dirfd); ".." pops one and may not pop the first. */
static int walk(int dirfd, const char *path, int flags, unsigned mode, bool follow,
                uint16_t *err)
{
    size_t depth = 0, cap = 16;
    int *stack = malloc(cap * sizeof *stack);
    char *todo = strdup(path);
    int result = -1, links = 0;
    if (!stack || !todo) {
        result = fail(err, WASI_ENOMEM);
        goto out;
    }
    stack[0] = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (stack[0] < 0) {
        result = fail(err, wasi_errno(errno));
        goto out;
    }
    char *at = todo;
    for (;;) {
        while (*at == '/')
            at++;
        char *end = at + strcspn(at, "/");
        char *rest = end;
        while (*rest == '/')
            rest++;
        bool trailing = *end == '/', last = *rest == 0;
        /* O_CREAT|O_EXCL never follows a final symlink (it fails EEXIST). */
        bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
        bool follow_this = !last || trailing || (follow && !excl);
        *end = 0;
        int top = stack[depth];
        if (strcmp(at, "..") == 0) {
            if (depth == 0) {
                result = fail(err, WASI_ENOTCAPABLE);
                goto out;
            }
            close(stack[depth--]);
            at = ".";
        }
        if (strcmp(at, ".") == 0 || *at == 0) {
            if (last) {
                result = openat(stack[depth], ".", flags, mode);
                if (result < 0)
                    *err = wasi_errno(errno);
                goto out;
            }
            at = rest;
            continue;
        }
        struct stat st;
        bool exists = fstatat(top, at, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && (errno != ENOENT || !last)) {
            result = fail(err, wasi_errno(errno));
            goto out;
        }
        if (exists && S_ISLNK(st.st_mode) && follow_this) {
            char target[4096];
            ssize_t n = readlinkat(top, at, target, sizeof target - 1);
            if (n < 0 || ++links > MAX_SYMLINKS) {
                result = fail(err, n < 0 ? wasi_errno(errno) : WASI_ELOOP);
                goto out;
            }
            target[n] = 0;
            if (target[0] == '/') {
                result = fail(err, WASI_ENOTCAPABLE);
                goto out;
            }
            /* Continue with the target, then what followed the link. */
            char *next;
            if (asprintf(&next, "%s%s%s", target, trailing ? "/" : "", rest) < 0) {
                result = fail(err, WASI_ENOMEM);
                goto out;
            }
            free(todo);
            todo = at = next;
            continue;
        }
        if (last && trailing && (flags & O_CREAT)) {
            /* "name/" cannot be created as a file: open(2)'s answer. */
            result = fail(err, exists && !S_ISDIR(st.st_mode) ? WASI_ENOTDIR : WASI_EISDIR);
            goto out;
        }
        if (last) {
            result = openat(top, at, flags | O_NOFOLLOW | (trailing ? O_DIRECTORY : 0), mode);
            if (result < 0)
                *err = wasi_errno(errno);
            goto out;
        }
        if (depth + 1 == cap) {
            int *grown = realloc(stack, 2 * cap * sizeof *grown);
            if (!grown) {
                result = fail(err, WASI_ENOMEM);
                goto out;
            }
            stack = grown;
            cap *= 2;
        }
        int fd = openat(top, at, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            result = fail(err, fd < 0 ? wasi_errno(errno) : WASI_ENOTDIR);
            if (fd >= 0)
                close(fd);
            goto out;
        }
        stack[++depth] = fd;
        at = rest;
    }
out:
    if (stack)
        for (size_t i = 0; i <= depth && stack[i] >= 0; i++)
            close(stack[i]);
    free(stack);
    free(todo);
    return result;
}

int sandbox_open(int dirfd, const char *path, int flags, unsigned mode, bool follow,
                 uint16_t *err)
{
    if (path[0] == '/')
        return fail(err, WASI_ENOTCAPABLE);
    if (path[0] == 0)
        return fail(err, WASI_ENOENT);
    /* Linux since 6.4 says so; older kernels did odd things. */
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return fail(err, WASI_EINVAL);
    flags |= O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    if (!(flags & O_CREAT))
        mode = 0; /* openat2 insists */
    if (!sandbox_without_openat2) {
        struct open_how how = {
            .flags = (uint64_t)flags,
            .mode = mode,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        for (;;) {
            long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
            if (fd >= 0)
                return (int)fd;
            /* EAGAIN: a concurrent rename raced the lookup; try again. */
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == ENOSYS)
                break;
            /* EXDEV is RESOLVE_BENEATH refusing a step out. */
            return fail(err, errno == EXDEV ? WASI_ENOTCAPABLE : wasi_errno(errno));
        }
        sandbox_without_openat2 = true;
    }
    return walk(dirfd, path, flags & ~O_NOFOLLOW, mode, follow, err);
}

int sandbox_parent(int dirfd, char *path, const char **last, bool *trailing_slash,
                   uint16_t *err)
{
    size_t len = strlen(path);
    if (len == 0)
        return fail(err, WASI_ENOENT);
    if (path[0] == '/')
        return fail(err, WASI_ENOTCAPABLE);
    *trailing_slash = path[len - 1] == '/';
    while (len > 0 && path[len - 1] == '/')
        path[--len] = 0;
    char *slash = strrchr(path, '/');
    const char *dir = ".";
    if (slash) {
        *slash = 0;
        *last = slash + 1;
        dir = path;
    } else {
        *last = path;
    }
    if (strcmp(*last, ".") == 0 || strcmp(*last, "..") == 0)
        return fail(err, WASI_EINVAL);
    int parent = sandbox_open(dirfd, dir, O_PATH | O_DIRECTORY, 0, true, err);
    if (parent < 0)
        return -1;
    /* "name/" names a directory: never a file, never a symlink to follow. */
    struct stat st;
    if (*trailing_slash && fstatat(parent, *last, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode)) {
        close(parent);
        return fail(err, WASI_ENOTDIR);
    }
    return parent;
}
