/* Reading a whole module file into memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* No module can be this large: the library's offsets are 32-bit. The cap
 * also bounds what an endless stream can make us allocate. */
#define MAX_FILE_SIZE ((size_t)UINT32_MAX)

/* Every module starts with these bytes. */
static const uint8_t wasm_magic[4] = {0x00, 0x61, 0x73, 0x6d};

/* Reads until end of file, growing the buffer geometrically. The size from
 * fstat is only a hint: pipes and /proc files report 0, and a file may
 * change while we read it. Input that does not start with the magic number
 * stops after its first bytes: the decoder rejects it there anyway, with
 * the same error, and `wasmjail validate /dev/zero` then needs no memory. */
static int read_all(int fd, size_t hint, uint8_t **data, size_t *len)
{
    size_t cap = hint + 1; /* +1 so that a regular file ends with a 0-byte read */
    size_t used = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return ENOMEM;
    for (;;) {
        if (used == cap) {
            if (cap > MAX_FILE_SIZE) {
                free(buf);
                return EFBIG;
            }
            size_t bigger_cap = cap > MAX_FILE_SIZE / 2 ? MAX_FILE_SIZE + 1 : cap * 2;
            uint8_t *bigger = realloc(buf, bigger_cap);
            if (bigger == NULL) {
                free(buf);
                return ENOMEM;
            }
            buf = bigger;
            cap = bigger_cap;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            return e;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used >= sizeof wasm_magic && memcmp(buf, wasm_magic, sizeof wasm_magic) != 0)
            break;
    }
    *data = buf;
    *len = used;
    return 0;
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;

    int err = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = errno;
    } else if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
    } else {
        /* Start with the file's size when it has one: one read, no copying. */
        size_t hint = 4096;
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_FILE_SIZE)
            err = EFBIG;
        else if (S_ISREG(st.st_mode) && st.st_size > 0)
            hint = (size_t)st.st_size;
        if (err == 0)
            err = read_all(fd, hint, data, len);
    }
    if (!is_stdin)
        close(fd);
    return err;
}
