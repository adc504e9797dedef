/* What the jail (src/jail) needs to know of a WASI context: its preopened
 * directories. */
#ifndef WJ_WASI_PREOPENS_H
#define WJ_WASI_PREOPENS_H

#include <stdbool.h>
#include <stddef.h>

#include <wasmjail.h>

/* Calls visit(env, fd, read_only) for each preopened directory of `wasi`
 * (fd: its O_PATH descriptor); stops at the first false. */
bool wasi_each_preopen(const wj_wasi *wasi, bool (*visit)(void *env, int fd, bool read_only),
                       void *env);

#endif
