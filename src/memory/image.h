/*
 * Copy-on-write memory images (src/memory): what a module's active data
 * segments write into one of its memories, kept in a sealed memfd that each
 * instance maps privately over its memory instead of copying the bytes.
 * Pages are only read from the file when touched, and the first write to
 * one gives the instance its own copy.
 */
#ifndef WJ_MEMORY_IMAGE_H
#define WJ_MEMORY_IMAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct memory_image {
    int fd;
    uint64_t offset; /* where it starts in the memory: a host page boundary */
    uint64_t len;    /* a whole number of host pages */
    atomic_uint refs;
} memory_image;

/* An image of zeros covering the memory's bytes [start, end), rounded out
 * to host pages; NULL when the system refuses (no memfd: e.g. in a jail),
 * and the memory is then filled by copying. */
memory_image *image_new(uint64_t start, uint64_t end);
/* Writes n bytes at memory offset `at`, inside the image. */
bool image_write(memory_image *img, uint64_t at, const uint8_t *bytes, uint64_t n);
/* Makes the contents final: nothing can change the file from then on. */
bool image_seal(memory_image *img);
void image_retain(memory_image *img);
void image_release(memory_image *img);

#endif
