#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

bool wasm_vfail(wasm_error *err, int kind, uint64_t offset, const char *fmt, va_list ap)
{
    if (err->kind != WASM_ERR_NONE)
        return false;
    err->kind = kind;
    err->offset = offset;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return false;
}

bool wasm_fail(wasm_error *err, int kind, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wasm_vfail(err, kind, offset, fmt, ap);
    va_end(ap);
    return false;
}
