/* WASI: operations on paths beneath a directory descriptor (path_*). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi.h"

/* A path argument: the directory it is relative to, and a copy of it. */
typedef struct path_arg {
    wasi_fd *dir;
    char *path;
} path_arg;

static uint16_t path_get(wasi_call *c, uint64_t fd, uint64_t right, uint64_t addr, uint64_t len,
                         path_arg *out)
{
    uint16_t err;
    out->path = NULL;
    if (!(out->dir = fd_get(c->wasi, fd, right, &err)))
        return err;
    if (out->dir->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    return guest_string(c, addr, len, &out->path);
}

/* The parent directory of a path argument: see sandbox_parent. */
static int parent_of(path_arg *p, const char **last, uint16_t *err)
{
    bool trailing;
    return sandbox_parent(p->dir->host, p->path, last, &trailing, err);
}

/* The same for a name about to be created as a non-directory (a link or a
 * symlink): "name/" cannot be one (ENOENT, as Linux says). */
static int new_file_parent_of(path_arg *p, const char **last, uint16_t *err)
{
    bool trailing;
    int parent = sandbox_parent(p->dir->host, p->path, last, &trailing, err);
    if (parent >= 0 && trailing) {
        close(parent);
        *err = WASI_ENOENT;
        return -1;
    }
    return parent;
}

/* An operation on the entry a path names, made through the directory that
 * holds it; returns a WASI errno. */
typedef uint16_t (*entry_op)(int parent, const char *last, const void *arg);

static uint16_t errno_of(int rc)
{
    return rc == 0 ? WASI_ESUCCESS : wasi_errno(errno);
}

/* Runs `op` on the entry that guest path [addr, addr + len) names beneath
 * descriptor `fd`, which needs `right`. `new_file`: the entry is about to
 * be created as something other than a directory. */
static uint16_t at_entry(wasi_call *c, uint64_t fd, uint64_t right, uint64_t addr,
                         uint64_t len, bool new_file, entry_op op, const void *arg)
{
    path_arg p;
    const char *last;
    uint16_t err = path_get(c, fd, right, addr, len, &p);
    int parent = -1;
    if (!err)
        parent = new_file ? new_file_parent_of(&p, &last, &err) : parent_of(&p, &last, &err);
    if (parent >= 0) {
        err = op(parent, last, arg);
        close(parent);
    }
    free(p.path);
    return err;
}

/* path_open(fd, dirflags, path, path_len, oflags, rights_base,
 * rights_inheriting, fdflags, opened_fd). */
static uint16_t path_open(wasi_call *c, const uint64_t *a)
{
    uint64_t oflags = a[4], want = a[5], want_inheriting = a[6], fdflags = a[7];
    uint64_t need = WASI_RIGHT_PATH_OPEN | (oflags & WASI_OFLAG_CREAT ? WASI_RIGHT_PATH_CREATE_FILE : 0) |
                    (oflags & WASI_OFLAG_TRUNC ? WASI_RIGHT_PATH_FILESTAT_SET_SIZE : 0);
    path_arg p;
    uint16_t err = path_get(c, a[0], need, a[2], a[3], &p);
    if (err || !guest_ptr(c, a[8], 4)) {
        free(p.path);
        return err ? err : WASI_EFAULT;
    }
    /* Rights beyond the directory's inheriting ones are dropped, as
     * wasi-libc does itself; asking to write where that is not allowed
     * (a read-only preopen) fails. */
    uint64_t rights = want & p.dir->inheriting;
    uint64_t write = WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE;
    if ((want & WASI_RIGHT_FD_WRITE) && !(rights & WASI_RIGHT_FD_WRITE)) {
        free(p.path);
        return WASI_ENOTCAPABLE;
    }
    int flags;
    if ((oflags & WASI_OFLAG_DIRECTORY) || !(rights & write))
        flags = O_RDONLY;
    else
        flags = rights & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR) ? O_RDWR : O_WRONLY;
    flags |= (oflags & WASI_OFLAG_CREAT ? O_CREAT : 0) | (oflags & WASI_OFLAG_EXCL ? O_EXCL : 0) |
             (oflags & WASI_OFLAG_TRUNC ? O_TRUNC : 0) |
             (oflags & WASI_OFLAG_DIRECTORY ? O_DIRECTORY : 0) |
             (fdflags & WASI_FDFLAG_APPEND ? O_APPEND : 0) |
             (fdflags & WASI_FDFLAG_NONBLOCK ? O_NONBLOCK : 0) |
             (fdflags & WASI_FDFLAG_DSYNC ? O_DSYNC : 0) |
             (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC) ? O_SYNC : 0);
    bool follow = a[1] & WASI_LOOKUP_SYMLINK_FOLLOW;
    int host = sandbox_open(p.dir->host, p.path, flags, 0666, follow, &err);
    free(p.path);
    if (host < 0)
        return err;
    struct stat st;
    if (fstat(host, &st) != 0) {
        err = wasi_errno(errno);
        close(host);
        return err;
    }
    wasi_fd entry = {
        .host = host,
        .owned = true,
        .filetype = filetype_of_mode(st.st_mode),
        .fdflags = (uint16_t)fdflags,
        .rights = rights,
        .inheriting = want_inheriting & p.dir->inheriting,
        .root = p.dir->root,
    };
    uint32_t fd;
    if ((err = fd_insert(c->wasi, &entry, &fd)))
        return err;
    guest_u32(c, a[8], fd);
    return WASI_ESUCCESS;
}

static uint16_t make_directory(int parent, const char *last, const void *arg)
{
    (void)arg;
    return errno_of(mkdirat(parent, last, 0777));
}

static uint16_t remove_directory(int parent, const char *last, const void *arg)
{
    (void)arg;
    return errno_of(unlinkat(parent, last, AT_REMOVEDIR));
}

static uint16_t unlink_file(int parent, const char *last, const void *arg)
{
    (void)arg;
    return errno_of(unlinkat(parent, last, 0));
}

static uint16_t path_create_directory(wasi_call *c, const uint64_t *a)
{
    return at_entry(c, a[0], WASI_RIGHT_PATH_CREATE_DIRECTORY, a[1], a[2], false,
                    make_directory, NULL);
}

static uint16_t path_remove_directory(wasi_call *c, const uint64_t *a)
{
    return at_entry(c, a[0], WASI_RIGHT_PATH_REMOVE_DIRECTORY, a[1], a[2], false,
                    remove_directory, NULL);
}

static uint16_t path_unlink_file(wasi_call *c, const uint64_t *a)
{
    return at_entry(c, a[0], WASI_RIGHT_PATH_UNLINK_FILE, a[1], a[2], false, unlink_file, NULL);
}

/* path_filestat_get(fd, flags, path, path_len, buf). */
static uint16_t path_filestat_get(wasi_call *c, const uint64_t *a)
{
    path_arg p;
    uint16_t err = path_get(c, a[0], WASI_RIGHT_PATH_FILESTAT_GET, a[2], a[3], &p);
    if (err) {
        free(p.path);
        return err;
    }
    int fd = sandbox_open(p.dir->host, p.path, O_PATH, 0, a[1] & WASI_LOOKUP_SYMLINK_FOLLOW, &err);
    free(p.path);
    if (fd < 0)
        return err;
    struct stat st;
    err = fstat(fd, &st) == 0 ? guest_filestat(c, a[4], &st) : wasi_errno(errno);
    close(fd);
    return err;
}

/* path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fst_flags):
 * on what the lookup beneath the directory reaches, through a descriptor
 * (futimens), never a path: the jail allows only that form, since a path
 * could name any file (Landlock has no right for times). So an entry that
 * cannot be opened for reading fails with the open's error: a symbolic link
 * itself (ELOOP), a socket, a file without read permission. */
static uint16_t path_filestat_set_times(wasi_call *c, const uint64_t *a)
{
    struct timespec ts[2];
    uint16_t err = wasi_times(a[4], a[5], a[6], ts);
    if (err)
        return err;
    path_arg p;
    if ((err = path_get(c, a[0], WASI_RIGHT_PATH_FILESTAT_SET_TIMES, a[2], a[3], &p))) {
        free(p.path);
        return err;
    }
    /* O_NONBLOCK: a FIFO opens without a writer; O_NOCTTY: a terminal does
     * not become the controlling one. */
    int fd = sandbox_open(p.dir->host, p.path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0,
                          a[1] & WASI_LOOKUP_SYMLINK_FOLLOW, &err);
    free(p.path);
    if (fd < 0)
        return err;
    err = errno_of(futimens(fd, ts));
    close(fd);
    return err;
}

/* Two paths for rename (or link, when !rename): both beneath the same
 * preopen. */
static uint16_t two_paths(wasi_call *c, bool rename, uint64_t fd1, uint64_t right1,
                          uint64_t path1, uint64_t len1, uint64_t fd2, uint64_t right2,
                          uint64_t path2, uint64_t len2, path_arg *p, int *parents,
                          const char **lasts)
{
    uint16_t err;
    parents[0] = parents[1] = -1;
    p[1].path = NULL;
    if ((err = path_get(c, fd1, right1, path1, len1, &p[0])) ||
        (err = path_get(c, fd2, right2, path2, len2, &p[1])))
        return err;
    /* Moving or linking a file from one preopen into another would let a
     * read-only or unrelated tree gain or lose entries through the other. */
    if (p[0].dir->root != p[1].dir->root)
        return WASI_EXDEV;
    bool trailing;
    if ((parents[0] = parent_of(&p[0], &lasts[0], &err)) < 0)
        return err;
    if (!rename)
        parents[1] = new_file_parent_of(&p[1], &lasts[1], &err);
    else if ((parents[1] = sandbox_parent(p[1].dir->host, p[1].path, &lasts[1], &trailing, &err)) >= 0 &&
             trailing) {
        /* Renaming to "name/" moves a directory only. */
        struct stat st;
        if (fstatat(parents[0], lasts[0], &st, AT_SYMLINK_NOFOLLOW) != 0)
            return wasi_errno(errno);
        if (!S_ISDIR(st.st_mode))
            return WASI_ENOTDIR;
    }
    return parents[1] < 0 ? err : WASI_ESUCCESS;
}

static uint16_t two_paths_done(int rc, uint16_t err, path_arg *p, int *parents)
{
    if (!err && rc != 0)
        err = wasi_errno(errno);
    for (int i = 0; i < 2; i++) {
        if (parents[i] >= 0)
            close(parents[i]);
        free(p[i].path);
    }
    return err;
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len). */
static uint16_t path_rename(wasi_call *c, const uint64_t *a)
{
    path_arg p[2];
    int parents[2];
    const char *lasts[2];
    uint16_t err = two_paths(c, true, a[0], WASI_RIGHT_PATH_RENAME_SOURCE, a[1], a[2], a[3],
                             WASI_RIGHT_PATH_RENAME_TARGET, a[4], a[5], p, parents, lasts);
    int rc = err ? 0 : renameat(parents[0], lasts[0], parents[1], lasts[1]);
    return two_paths_done(rc, err, p, parents);
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len). */
static uint16_t path_link(wasi_call *c, const uint64_t *a)
{
    path_arg p[2];
    int parents[2];
    const char *lasts[2];
    uint16_t err = two_paths(c, false, a[0], WASI_RIGHT_PATH_LINK_SOURCE, a[2], a[3], a[4],
                             WASI_RIGHT_PATH_LINK_TARGET, a[5], a[6], p, parents, lasts);
    int rc = 0;
    if (!err && (a[1] & WASI_LOOKUP_SYMLINK_FOLLOW)) {
        /* Link what a symlink points to: resolve it beneath the directory
         * first (the parent already was), then link the result. */
        int fd = sandbox_open(parents[0], lasts[0], O_PATH, 0, true, &err);
        if (fd >= 0) {
            rc = linkat(fd, "", parents[1], lasts[1], AT_EMPTY_PATH);
            if (rc != 0)
                err = wasi_errno(errno);
            close(fd);
        }
    } else if (!err) {
        rc = linkat(parents[0], lasts[0], parents[1], lasts[1], 0);
    }
    return two_paths_done(rc, err, p, parents);
}

static uint16_t make_symlink(int parent, const char *last, const void *target)
{
    return errno_of(symlinkat(target, parent, last));
}

/* path_symlink(old_path, old_len, fd, new_path, new_len). The target is
 * stored as given; lookups through it stay beneath the preopen whatever it
 * says, but an absolute target could only ever point outside, so it is
 * refused. */
static uint16_t path_symlink(wasi_call *c, const uint64_t *a)
{
    char *target;
    uint16_t err = guest_string(c, a[0], a[1], &target);
    if (err)
        return err;
    if (target[0] == '/') {
        free(target);
        return WASI_ENOTCAPABLE;
    }
    err = at_entry(c, a[2], WASI_RIGHT_PATH_SYMLINK, a[3], a[4], true, make_symlink, target);
    free(target);
    return err;
}

/* Where path_readlink puts the link's contents. */
typedef struct link_buffer {
    uint8_t *buf;
    uint64_t len;
    uint64_t used;
} link_buffer;

static uint16_t read_link(int parent, const char *last, const void *arg)
{
    link_buffer *out = (link_buffer *)arg;
    char target[4096];
    ssize_t n = readlinkat(parent, last, target, sizeof target);
    if (n < 0)
        return wasi_errno(errno);
    out->used = (uint64_t)n < out->len ? (uint64_t)n : out->len;
    memcpy(out->buf, target, out->used);
    return WASI_ESUCCESS;
}

/* path_readlink(fd, path, path_len, buf, buf_len, bufused): as much of the
 * contents as fits, unterminated. */
static uint16_t path_readlink(wasi_call *c, const uint64_t *a)
{
    link_buffer out = {guest_ptr(c, a[3], a[4]), a[4], 0};
    if (!out.buf || !guest_ptr(c, a[5], 4))
        return WASI_EFAULT;
    uint16_t err = at_entry(c, a[0], WASI_RIGHT_PATH_READLINK, a[1], a[2], false, read_link, &out);
    if (!err)
        guest_u32(c, a[5], (uint32_t)out.used);
    return err;
}

const wasi_function wasi_path_functions[] = {
    {"path_create_directory", "iii", path_create_directory},
    {"path_filestat_get", "iiiii", path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", path_filestat_set_times},
    {"path_link", "iiiiiii", path_link},
    {"path_open", "iiiiiIIii", path_open},
    {"path_readlink", "iiiiii", path_readlink},
    {"path_remove_directory", "iii", path_remove_directory},
    {"path_rename", "iiiiii", path_rename},
    {"path_symlink", "iiiii", path_symlink},
    {"path_unlink_file", "iii", path_unlink_file},
    {NULL, NULL, NULL},
};
