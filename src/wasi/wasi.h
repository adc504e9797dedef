/*
 * WASI preview 1: what the files of src/wasi share. src/wasi is a client of
 * the public API (<wasmjail.h>) only: each WASI function is a host
 * function, and guest memory is reached through the calling instance's
 * exported "memory".
 */
#ifndef WJ_WASI_H
#define WJ_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <wasmjail.h>

#include "abi.h"

/* One guest file descriptor. */
typedef struct wasi_fd {
    int host;               /* -1: the slot is free */
    bool owned;             /* closed with the slot (stdio is not) */
    uint8_t filetype;       /* WASI_FILETYPE_* */
    uint16_t fdflags;       /* WASI_FDFLAG_* as opened */
    uint64_t rights;        /* what this descriptor allows */
    uint64_t inheriting;    /* what descriptors opened through it may get */
    int root;               /* the preopen this descriptor was reached through
                             * (index into preopen slots), -1 for stdio */
    char *preopen_name;     /* guest path of a preopened directory, else NULL */
} wasi_fd;

typedef struct wasi_strings {
    size_t count;
    char **items;           /* "NAME=VALUE" for the environment */
    size_t bytes;           /* sum of strlen + 1 */
} wasi_strings;

struct wj_wasi_config {
    wasi_strings args, env;
    int stdio[3];
    size_t npreopens;
    struct wasi_preopen {
        int host;           /* an O_PATH|O_DIRECTORY descriptor */
        char *guest;
        bool read_only;
    } *preopens;
};

struct wj_wasi {
    wj_store *store;        /* which owns this context */
    wj_func *proc_exit;     /* whose finalizer frees this context */
    wj_wasi_config config;  /* args, env; preopens moved into fds */
    size_t nfds;
    wasi_fd *fds;
    /* The memory of the last calling instance (guest memory moves only
     * through memory.grow, so the pointer is re-read on each call). */
    const wj_instance *instance;
    wj_memory *memory;
    /* Monotonic clock origin, so guests do not learn the host's uptime. */
    uint64_t monotonic_origin;
};

/* What a WASI function sees of one call: the context and guest memory. */
typedef struct wasi_call {
    wj_wasi *wasi;
    uint8_t *mem;
    uint64_t mem_size;
} wasi_call;

/* A WASI function: args[i] is the i-th parameter, zero-extended; returns an
 * errno. */
typedef uint16_t (*wasi_handler)(wasi_call *c, const uint64_t *args);

/* --- guest memory (every access checked against the current size) ------- */

/* A pointer to guest bytes [addr, addr + len), or NULL when any of them is
 * outside the memory. */
static inline void *guest_ptr(const wasi_call *c, uint64_t addr, uint64_t len)
{
    if (addr > c->mem_size || len > c->mem_size - addr)
        return NULL;
    return c->mem + addr;
}

/* Stores of little-endian values; false (nothing written) when out of
 * bounds. */
static inline bool guest_store(const wasi_call *c, uint64_t addr, const void *v, size_t n)
{
    void *p = guest_ptr(c, addr, n);
    if (p)
        memcpy(p, v, n);
    return p != NULL;
}
static inline bool guest_u32(const wasi_call *c, uint64_t addr, uint32_t v)
{
    return guest_store(c, addr, &v, 4);
}
static inline bool guest_u64(const wasi_call *c, uint64_t addr, uint64_t v)
{
    return guest_store(c, addr, &v, 8);
}

/* A guest string [addr, addr + len) copied into a NUL-terminated malloc'ed
 * string; returns an errno: EFAULT when out of bounds, EILSEQ when it
 * holds a NUL, ENOMEM. */
uint16_t guest_string(const wasi_call *c, uint64_t addr, uint64_t len, char **out);

/* --- errno.c ------------------------------------------------------------- */

/* The WASI errno for a host errno value. */
uint16_t wasi_errno(int host_errno);

/* --- fdtable.c ----------------------------------------------------------- */

/* The descriptor `fd` when it is open and has every right in `need`;
 * otherwise NULL with *err = EBADF or ENOTCAPABLE. */
wasi_fd *fd_get(wj_wasi *w, uint64_t fd, uint64_t need, uint16_t *err);
/* Puts `entry` in the lowest free slot; errno (EMFILE, ENOMEM) on failure,
 * when entry->host is closed if owned. */
uint16_t fd_insert(wj_wasi *w, const wasi_fd *entry, uint32_t *fd);
/* Closes and frees a slot. */
void fd_release(wasi_fd *f);
/* The WASI file type of a host mode_t. */
uint8_t filetype_of_mode(unsigned mode);

/* --- fd.c ----------------------------------------------------------------- */

struct stat;
struct timespec;
/* Writes a WASI filestat of `st` at guest address `at`. */
uint16_t guest_filestat(const wasi_call *c, uint64_t at, const struct stat *st);
/* The two timespecs (access, modification) of utimensat for WASI times and
 * fst_flags; EINVAL for contradictory flags. */
uint16_t wasi_times(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts);

/* --- sandbox.c ----------------------------------------------------------- */

/*
 * Opens `path` relative to directory `dirfd` so that no step of the lookup
 * leaves that directory: absolute paths, "..", and symlinks (absolute, or
 * relative ones climbing out) are refused with ENOTCAPABLE. `follow`
 * decides whether a final symlink is followed; `flags` and `mode` are
 * open(2)'s. Returns the new descriptor, or -1 with *err set to a WASI errno.
 */
int sandbox_open(int dirfd, const char *path, int flags, unsigned mode, bool follow,
                 uint16_t *err);

/* The directory holding the last component of `path`, opened beneath
 * `dirfd` (O_PATH), with that component in *last (pointing into path,
 * trailing slashes removed in place) and whether it had them. -1 with *err
 * on failure; a last component of "." or ".." is EINVAL here. */
int sandbox_parent(int dirfd, char *path, const char **last, bool *trailing_slash,
                   uint16_t *err);

/* Tests: use the lookup that does not rely on openat2(2). */
extern bool sandbox_without_openat2;

/* --- the WASI functions, by file ---------------------------------------- */

/* The most parameters a WASI function has (path_open). */
enum { WASI_MAX_PARAMS = 9 };

typedef struct wasi_function {
    const char *name;
    const char *params; /* 'i' = i32, 'I' = i64; every result is one i32 errno */
    wasi_handler handler;
} wasi_function;

extern const wasi_function wasi_env_functions[];  /* env.c: args, clocks, poll, ... */
extern const wasi_function wasi_fd_functions[];   /* fd.c */
extern const wasi_function wasi_path_functions[]; /* path.c */

#endif
