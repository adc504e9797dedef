/* wj_instance: a module instantiated in a store, around its vmctx. */
#ifndef WJ_RUNTIME_INSTANCE_H
#define WJ_RUNTIME_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/vmctx.h"

/* An element segment's evaluated references; len 0 once dropped. */
typedef struct elem_segment {
    void **items;
    uint32_t len;
} elem_segment;

struct wj_instance {
    wj_store *store;
    const wj_module *module; /* holds a reference */
    void *vmctx;
    wj_func *funcs;           /* the defined functions */
    wj_memory **memories;     /* every memory index, imports first */
    wj_table **tables;
    wj_global **globals;
    wj_global *defined_globals; /* cells in the vmctx, v128 ones their own */
    elem_segment *elems;
    bool *data_dropped;
};

/* The instance a vmctx belongs to. */
static inline wj_instance *instance_of(void *vmctx)
{
    return ((void **)vmctx)[VMCTX_INSTANCE / 8];
}

/* A vmctx field at byte offset `at`. */
static inline void *vmctx_at(void *vmctx, uint32_t at)
{
    return (char *)vmctx + at;
}

#endif
