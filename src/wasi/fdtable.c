/* The guest's file descriptor table. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi.h"

/* Descriptors a guest may hold at once: a bound on host descriptors and on
 * the table's memory that no real program reaches. */
enum { WASI_MAX_FDS = 16384 };

wasi_fd *fd_get(wj_wasi *w, uint64_t fd, uint64_t need, uint16_t *err)
{
    if (fd >= w->nfds || w->fds[fd].host < 0) {
        *err = WASI_EBADF;
        return NULL;
    }
    wasi_fd *f = &w->fds[fd];
    if ((f->rights & need) != need) {
        *err = WASI_ENOTCAPABLE;
        return NULL;
    }
    return f;
}

uint16_t fd_insert(wj_wasi *w, const wasi_fd *entry, uint32_t *fd)
{
    size_t i = 0;
    while (i < w->nfds && w->fds[i].host >= 0)
        i++;
    if (i == w->nfds) {
        wasi_fd *fds = i < WASI_MAX_FDS ? realloc(w->fds, (i + 1) * sizeof *fds) : NULL;
        if (!fds) {
            if (entry->owned)
                close(entry->host);
            return i < WASI_MAX_FDS ? WASI_ENOMEM : WASI_EMFILE;
        }
        w->fds = fds;
        w->nfds = i + 1;
    }
    w->fds[i] = *entry;
    *fd = (uint32_t)i;
    return WASI_ESUCCESS;
}

void fd_release(wasi_fd *f)
{
    if (f->host >= 0 && f->owned)
        close(f->host);
    free(f->preopen_name);
    *f = (wasi_fd){.host = -1, .root = -1};
}

uint8_t filetype_of_mode(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}
