/* Decoding and validation errors (src/wasm): a kind, a byte offset and a
 * reason that starts with the specification's own words. */
#ifndef WJ_WASM_ERROR_H
#define WJ_WASM_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define WASM_NO_OFFSET UINT64_MAX

enum { WASM_ERR_NONE, WASM_ERR_MALFORMED, WASM_ERR_INVALID, WASM_ERR_UNSUPPORTED, WASM_ERR_RESOURCE };

typedef struct wasm_error {
    int kind;
    uint64_t offset;
    char message[192];
} wasm_error;

/* Records the first error only; later calls are ignored. Returns false so
 * callers can write `return wasm_fail(...)`. */
bool wasm_fail(wasm_error *err, int kind, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool wasm_vfail(wasm_error *err, int kind, uint64_t offset, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
