#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct wj_error {
    wj_error_kind kind;
    uint64_t offset;
    char message[];
};

/* Handed out when even the error cannot be allocated; never freed. */
static struct {
    wj_error err;
    char text[sizeof "out of memory"];
} out_of_memory = {{WJ_ERROR_RESOURCE, WJ_NO_OFFSET}, "out of memory"};

static wj_error *error_alloc(wj_error_kind kind, uint64_t offset, const char *message)
{
    size_t len = strlen(message);
    wj_error *err = malloc(sizeof *err + len + 1);
    if (!err)
        return &out_of_memory.err;
    err->kind = kind;
    err->offset = offset;
    memcpy(err->message, message, len + 1);
    return err;
}

wj_error *rt_error_new(wj_error_kind kind, uint64_t offset, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return error_alloc(kind, offset, buf);
}

wj_error *rt_error_from_wasm(const wasm_error *err)
{
    static const wj_error_kind kinds[] = {
        [WASM_ERR_MALFORMED] = WJ_ERROR_MALFORMED,
        [WASM_ERR_INVALID] = WJ_ERROR_INVALID,
        [WASM_ERR_UNSUPPORTED] = WJ_ERROR_UNSUPPORTED,
        [WASM_ERR_RESOURCE] = WJ_ERROR_RESOURCE,
    };
    wj_error_kind kind = err->kind > WASM_ERR_NONE && err->kind <= WASM_ERR_RESOURCE
                             ? kinds[err->kind]
                             : WJ_ERROR_RESOURCE;
    return error_alloc(kind, err->offset, err->message);
}

wj_error_kind wj_error_kind_of(const wj_error *err)
{
    return err->kind;
}

const char *wj_error_message(const wj_error *err)
{
    return err->message;
}

uint64_t wj_error_offset(const wj_error *err)
{
    return err->offset;
}

void wj_error_delete(wj_error *err)
{
    if (err && err != &out_of_memory.err)
        free(err);
}
