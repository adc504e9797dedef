/* wj_error objects: what the public API hands back on failure. */
#ifndef WJ_RUNTIME_ERROR_H
#define WJ_RUNTIME_ERROR_H

#include <wasmjail.h>

#include "wasm/error.h"

wj_error *rt_error_new(wj_error_kind kind, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
wj_error *rt_error_from_wasm(const wasm_error *err);

#endif
