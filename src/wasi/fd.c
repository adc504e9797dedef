/* WASI: operations on open descriptors (fd_*). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi.h"

/* Guest iovecs at [at, at + 8n) as host iovecs pointing into guest memory;
 * EFAULT when a vector or a buffer leaves the memory. */
static uint16_t host_iovecs(wasi_call *c, uint64_t at, uint64_t n, struct iovec *iov,
                            int *count)
{
    if (n > IOV_MAX)
        return WASI_EINVAL;
    const uint8_t *v = guest_ptr(c, at, n * WASI_IOVEC_SIZE);
    if (!v)
        return WASI_EFAULT;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, v + i * WASI_IOVEC_SIZE, 4);
        memcpy(&len, v + i * WASI_IOVEC_SIZE + 4, 4);
        void *p = guest_ptr(c, buf, len);
        if (!p)
            return WASI_EFAULT;
        iov[i] = (struct iovec){p, len};
    }
    *count = (int)n;
    return WASI_ESUCCESS;
}

/* fd_read, fd_write, fd_pread, fd_pwrite: args are (fd, iovs, iovs_len,
 * [offset,] result pointer). */
static uint16_t transfer(wasi_call *c, const uint64_t *a, bool write, bool positioned)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ, &err);
    if (!f)
        return err;
    struct iovec iov[IOV_MAX];
    int n;
    if ((err = host_iovecs(c, a[1], a[2], iov, &n)))
        return err;
    uint64_t result_at = a[positioned ? 4 : 3];
    if (!guest_ptr(c, result_at, 4))
        return WASI_EFAULT;
    if (positioned && a[3] > INT64_MAX)
        return WASI_EINVAL;
    ssize_t done;
    do {
        if (positioned)
            done = write ? pwritev(f->host, iov, n, (off_t)a[3]) : preadv(f->host, iov, n, (off_t)a[3]);
        else
            done = write ? writev(f->host, iov, n) : readv(f->host, iov, n);
    } while (done < 0 && errno == EINTR);
    if (done < 0)
        return wasi_errno(errno);
    guest_u32(c, result_at, (uint32_t)done);
    return WASI_ESUCCESS;
}

static uint16_t fd_read(wasi_call *c, const uint64_t *a) { return transfer(c, a, false, false); }
static uint16_t fd_write(wasi_call *c, const uint64_t *a) { return transfer(c, a, true, false); }
static uint16_t fd_pread(wasi_call *c, const uint64_t *a) { return transfer(c, a, false, true); }
static uint16_t fd_pwrite(wasi_call *c, const uint64_t *a) { return transfer(c, a, true, true); }

static uint16_t fd_close(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], 0, &err);
    if (!f)
        return err;
    fd_release(f);
    return WASI_ESUCCESS;
}

static uint16_t fd_seek(wasi_call *c, const uint64_t *a)
{
    int64_t offset = (int64_t)a[1];
    uint64_t whence = a[2];
    uint64_t need = offset == 0 && whence == WASI_WHENCE_CUR ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], need, &err);
    if (!f)
        return err;
    int how = whence == WASI_WHENCE_SET ? SEEK_SET
              : whence == WASI_WHENCE_CUR ? SEEK_CUR
              : whence == WASI_WHENCE_END ? SEEK_END
                                          : -1;
    if (how < 0)
        return WASI_EINVAL;
    if (!guest_ptr(c, a[3], 8))
        return WASI_EFAULT;
    off_t at = lseek(f->host, offset, how);
    if (at < 0)
        return wasi_errno(errno);
    guest_u64(c, a[3], (uint64_t)at);
    return WASI_ESUCCESS;
}

static uint16_t fd_tell(wasi_call *c, const uint64_t *a)
{
    const uint64_t seek[] = {a[0], 0, WASI_WHENCE_CUR, a[1]};
    return fd_seek(c, seek);
}

static uint16_t fd_sync_(wasi_call *c, const uint64_t *a, uint64_t right, int (*sync)(int))
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], right, &err);
    if (!f)
        return err;
    return sync(f->host) == 0 ? WASI_ESUCCESS : wasi_errno(errno);
}

static uint16_t fd_sync(wasi_call *c, const uint64_t *a)
{
    return fd_sync_(c, a, WASI_RIGHT_FD_SYNC, fsync);
}

static uint16_t fd_datasync(wasi_call *c, const uint64_t *a)
{
    return fd_sync_(c, a, WASI_RIGHT_FD_DATASYNC, fdatasync);
}

static uint16_t fd_fdstat_get(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], 0, &err);
    if (!f)
        return err;
    uint8_t st[WASI_FDSTAT_SIZE] = {0};
    uint16_t flags = f->fdflags;
    int fl = fcntl(f->host, F_GETFL);
    if (fl >= 0) {
        /* APPEND and NONBLOCK may have changed since the open. */
        flags &= (uint16_t) ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK);
        flags |= (fl & O_APPEND ? WASI_FDFLAG_APPEND : 0) | (fl & O_NONBLOCK ? WASI_FDFLAG_NONBLOCK : 0);
    }
    st[0] = f->filetype;
    memcpy(st + 2, &flags, 2);
    memcpy(st + 8, &f->rights, 8);
    memcpy(st + 16, &f->inheriting, 8);
    return guest_store(c, a[1], st, sizeof st) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t fd_fdstat_set_flags(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &err);
    if (!f)
        return err;
    /* Only APPEND and NONBLOCK can change on an open Linux descriptor. */
    if (a[1] & ~(uint64_t)(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK))
        return WASI_ENOTSUP;
    if ((a[1] & WASI_FDFLAG_APPEND) && !(f->rights & WASI_RIGHT_FD_WRITE))
        return WASI_ENOTCAPABLE;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0)
        return wasi_errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    fl |= (a[1] & WASI_FDFLAG_APPEND ? O_APPEND : 0) | (a[1] & WASI_FDFLAG_NONBLOCK ? O_NONBLOCK : 0);
    if (fcntl(f->host, F_SETFL, fl) != 0)
        return wasi_errno(errno);
    f->fdflags = (uint16_t)((f->fdflags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK)) | a[1]);
    return WASI_ESUCCESS;
}

static uint16_t fd_fdstat_set_rights(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], 0, &err);
    if (!f)
        return err;
    /* Rights can only be dropped. */
    if ((a[1] & ~f->rights) || (a[2] & ~f->inheriting))
        return WASI_ENOTCAPABLE;
    f->rights = a[1];
    f->inheriting = a[2];
    return WASI_ESUCCESS;
}

uint16_t guest_filestat(const wasi_call *c, uint64_t at, const struct stat *st)
{
    uint8_t b[WASI_FILESTAT_SIZE] = {0};
    uint64_t v[] = {
        (uint64_t)st->st_dev, (uint64_t)st->st_ino, 0, (uint64_t)st->st_nlink,
        (uint64_t)st->st_size,
        (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec,
        (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec,
        (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec,
    };
    memcpy(b, v, sizeof v);
    b[16] = filetype_of_mode(st->st_mode);
    return guest_store(c, at, b, sizeof b) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t fd_filestat_get(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_FILESTAT_GET, &err);
    if (!f)
        return err;
    struct stat st;
    if (fstat(f->host, &st) != 0)
        return wasi_errno(errno);
    return guest_filestat(c, a[1], &st);
}

static uint16_t fd_filestat_set_size(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_FILESTAT_SET_SIZE, &err);
    if (!f)
        return err;
    if (a[1] > INT64_MAX)
        return WASI_EINVAL;
    return ftruncate(f->host, (off_t)a[1]) == 0 ? WASI_ESUCCESS : wasi_errno(errno);
}

uint16_t wasi_times(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts)
{
    if (((flags & WASI_FSTFLAG_ATIM) && (flags & WASI_FSTFLAG_ATIM_NOW)) ||
        ((flags & WASI_FSTFLAG_MTIM) && (flags & WASI_FSTFLAG_MTIM_NOW)) || flags > 0xf)
        return WASI_EINVAL;
    const uint64_t t[2] = {atim, mtim};
    for (int i = 0; i < 2; i++) {
        uint64_t set = i ? WASI_FSTFLAG_MTIM : WASI_FSTFLAG_ATIM;
        uint64_t now = i ? WASI_FSTFLAG_MTIM_NOW : WASI_FSTFLAG_ATIM_NOW;
        if (flags & set)
            ts[i] = (struct timespec){(time_t)(t[i] / 1000000000u), (long)(t[i] % 1000000000u)};
        else
            ts[i] = (struct timespec){0, flags & now ? UTIME_NOW : UTIME_OMIT};
    }
    return WASI_ESUCCESS;
}

static uint16_t fd_filestat_set_times(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_FILESTAT_SET_TIMES, &err);
    if (!f)
        return err;
    struct timespec ts[2];
    if ((err = wasi_times(a[1], a[2], a[3], ts)))
        return err;
    return futimens(f->host, ts) == 0 ? WASI_ESUCCESS : wasi_errno(errno);
}

static uint16_t fd_advise(wasi_call *c, const uint64_t *a)
{
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_ADVISE, &err);
    if (!f)
        return err;
    if (a[3] > WASI_ADVICE_NOREUSE || a[1] > INT64_MAX || a[2] > INT64_MAX)
        return WASI_EINVAL;
    int e = posix_fadvise(f->host, (off_t)a[1], (off_t)a[2], advice[a[3]]);
    /* Advice on a pipe or a terminal is merely ignored. */
    return e == 0 || e == ESPIPE ? WASI_ESUCCESS : wasi_errno(e);
}

static uint16_t fd_allocate(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_ALLOCATE, &err);
    if (!f)
        return err;
    if (a[1] > INT64_MAX || a[2] > INT64_MAX - a[1])
        return WASI_EINVAL;
    int e = posix_fallocate(f->host, (off_t)a[1], (off_t)a[2]);
    return e == 0 ? WASI_ESUCCESS : wasi_errno(e);
}

static uint16_t fd_prestat_get(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], 0, &err);
    if (!f)
        return err;
    if (!f->preopen_name)
        return WASI_EBADF;
    uint8_t b[WASI_PRESTAT_SIZE] = {0}; /* tag 0: a directory */
    uint32_t len = (uint32_t)strlen(f->preopen_name);
    memcpy(b + 4, &len, 4);
    return guest_store(c, a[1], b, sizeof b) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t fd_prestat_dir_name(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], 0, &err);
    if (!f)
        return err;
    if (!f->preopen_name)
        return WASI_EBADF;
    size_t len = strlen(f->preopen_name);
    if (a[2] < len)
        return WASI_ENAMETOOLONG;
    return guest_store(c, a[1], f->preopen_name, len) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t fd_renumber(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *from = fd_get(c->wasi, a[0], 0, &err);
    wasi_fd *to = from ? fd_get(c->wasi, a[1], 0, &err) : NULL;
    if (!to)
        return err;
    if (from != to) {
        fd_release(to);
        *to = *from;
        *from = (wasi_fd){.host = -1, .root = -1};
    }
    return WASI_ESUCCESS;
}

/* The dirent type of a getdents64 d_type. */
static uint8_t filetype_of_dtype(unsigned char t)
{
    switch (t) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

/* Bytes of host entries read at once. On the heap: a host function may be
 * called at the wasm stack limit, with only the 32 KiB kept below it
 * (wj_config_set_max_wasm_stack). */
enum { HOST_DIRENTS_SIZE = 32768 };

/* Packs the entries of directory `dir` from position `cookie` into
 * out[0, buf_len): see fd_readdir. */
static uint16_t list_directory(int dir, uint64_t cookie, uint8_t *out, uint64_t buf_len,
                               uint64_t *used_out)
{
    if (lseek(dir, (off_t)cookie, SEEK_SET) < 0)
        return wasi_errno(errno);
    char *host = malloc(HOST_DIRENTS_SIZE);
    if (!host)
        return WASI_ENOMEM;
    uint64_t used = 0;
    while (used < buf_len) {
        ssize_t n = getdents64(dir, host, HOST_DIRENTS_SIZE);
        if (n < 0) {
            int e = errno;
            free(host);
            return wasi_errno(e);
        }
        if (n == 0)
            break;
        for (ssize_t at = 0; at < n && used < buf_len;) {
            struct dirent64 *d = (struct dirent64 *)(host + at);
            at += d->d_reclen;
            uint32_t namlen = (uint32_t)strlen(d->d_name);
            uint8_t head[WASI_DIRENT_SIZE] = {0};
            uint64_t next = (uint64_t)d->d_off, ino = d->d_ino;
            memcpy(head, &next, 8);
            memcpy(head + 8, &ino, 8);
            memcpy(head + 16, &namlen, 4);
            head[20] = filetype_of_dtype(d->d_type);
            uint64_t room = buf_len - used;
            uint64_t k = room < sizeof head ? room : sizeof head;
            memcpy(out + used, head, k);
            used += k;
            room = buf_len - used;
            k = room < namlen ? room : namlen;
            memcpy(out + used, d->d_name, k);
            used += k;
        }
    }
    free(host);
    *used_out = used;
    return WASI_ESUCCESS;
}

/*
 * fd_readdir(fd, buf, buf_len, cookie, bufused): entries from position
 * `cookie` (0, or a d_next handed out before: the host's directory offsets),
 * each a 24-byte dirent and its name, packed; the last one may be cut off
 * at buf_len, which tells the guest to come back with a larger buffer.
 */
static uint16_t fd_readdir(wasi_call *c, const uint64_t *a)
{
    uint16_t err;
    wasi_fd *f = fd_get(c->wasi, a[0], WASI_RIGHT_FD_READDIR, &err);
    if (!f)
        return err;
    uint64_t buf = a[1], buf_len = a[2], cookie = a[3];
    uint8_t *out = guest_ptr(c, buf, buf_len);
    if (!out || !guest_ptr(c, a[4], 4))
        return WASI_EFAULT;
    if (cookie > INT64_MAX)
        return WASI_EINVAL;
    /* A preopen is an O_PATH descriptor, which cannot be read: list it
     * through a readable one. */
    int dir = f->host;
    int fl = fcntl(dir, F_GETFL);
    if (fl >= 0 && (fl & O_PATH) && (dir = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return wasi_errno(errno);
    uint64_t used = 0;
    err = list_directory(dir, cookie, out, buf_len, &used);
    if (dir != f->host)
        close(dir);
    if (err)
        return err;
    guest_u32(c, a[4], (uint32_t)used);
    return WASI_ESUCCESS;
}

const wasi_function wasi_fd_functions[] = {
    {"fd_advise", "iIIi", fd_advise},
    {"fd_allocate", "iII", fd_allocate},
    {"fd_close", "i", fd_close},
    {"fd_datasync", "i", fd_datasync},
    {"fd_fdstat_get", "ii", fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", fd_filestat_get},
    {"fd_filestat_set_size", "iI", fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", fd_filestat_set_times},
    {"fd_pread", "iiiIi", fd_pread},
    {"fd_prestat_get", "ii", fd_prestat_get},
    {"fd_prestat_dir_name", "iii", fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", fd_pwrite},
    {"fd_read", "iiii", fd_read},
    {"fd_readdir", "iiiIi", fd_readdir},
    {"fd_renumber", "ii", fd_renumber},
    {"fd_seek", "iIii", fd_seek},
    {"fd_sync", "i", fd_sync},
    {"fd_tell", "ii", fd_tell},
    {"fd_write", "iiii", fd_write},
    {NULL, NULL, NULL},
};
