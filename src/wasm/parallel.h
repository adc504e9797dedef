/*
 * Work on a module's defined functions on several threads (src/wasm): the
 * functions are cut into chunks of consecutive ones, which threads take in
 * order. The validator and the compiler use it; each keeps per-chunk
 * results and joins them in order, so what they produce does not depend on
 * the number of threads.
 *
 * The threads live for one call only: a process that is to enter the jail
 * (which needs it to have one thread) has none left over.
 */
#ifndef WJ_WASM_PARALLEL_H
#define WJ_WASM_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

/* Bytes of function bodies per chunk: enough that a chunk's set-up is
 * negligible, few enough that threads share a module evenly. A module
 * with less than this is handled on the calling thread alone. */
#define WASM_CHUNK_BODY_BYTES 16384u

/* Defined functions [first, end), in the module's function index space. */
typedef struct wasm_chunk {
    uint32_t first, end;
} wasm_chunk;

/* Cuts the defined functions into chunks of a little over
 * WASM_CHUNK_BODY_BYTES; NULL when out of memory. *count may be 0. */
wasm_chunk *wasm_plan_chunks(const wasm_module *m, uint32_t *count);

/* What a thread does with chunk `chunk`, using `worker`, its own zeroed
 * scratch of the size wasm_run_chunks was given; false when it failed. */
typedef bool (*wasm_chunk_fn)(void *ctx, void *worker, uint32_t chunk);

/* Runs run(ctx, worker, k) on up to `threads` threads (this one among
 * them) for k = 0, 1, ... count - 1, each once, taken in that order; none
 * is started above a chunk that failed, while every chunk below the
 * lowest failure runs. Then each worker's scratch goes to worker_free
 * (may be NULL). Returns the lowest failed chunk, count when none failed,
 * or UINT32_MAX when this thread's scratch cannot be allocated. A thread
 * that cannot be started (or get its scratch) leaves its share to the
 * others. */
uint32_t wasm_run_chunks(uint32_t count, uint32_t threads, size_t worker_size, wasm_chunk_fn run,
                         void (*worker_free)(void *worker), void *ctx);

#endif
