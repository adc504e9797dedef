#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"

#define HOST_PAGE UINT64_C(4096)

memory_image *image_new(uint64_t start, uint64_t end)
{
    memory_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->offset = start & ~(HOST_PAGE - 1);
    img->len = ((end + HOST_PAGE - 1) & ~(HOST_PAGE - 1)) - img->offset;
    atomic_init(&img->refs, 1);
    img->fd = memfd_create("wasmjail-memory-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    /* sparse: only pages written below take memory */
    if (img->fd < 0 || ftruncate(img->fd, (off_t)img->len) != 0) {
        image_release(img);
        return NULL;
    }
    return img;
}

bool image_write(memory_image *img, uint64_t at, const uint8_t *bytes, uint64_t n)
{
    off_t pos = (off_t)(at - img->offset);
    while (n) {
        ssize_t w = pwrite(img->fd, bytes, n, pos);
        if (w <= 0)
            return false;
        bytes += w, n -= (uint64_t)w, pos += w;
    }
    return true;
}

bool image_seal(memory_image *img)
{
    return fcntl(img->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ==
           0;
}

void image_retain(memory_image *img)
{
    atomic_fetch_add_explicit(&img->refs, 1, memory_order_relaxed);
}

void image_release(memory_image *img)
{
    if (!img || atomic_fetch_sub_explicit(&img->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (img->fd >= 0)
        close(img->fd);
    free(img);
}
