/* wj_store: owns everything created in it, and the state wasm calls share. */
#ifndef WJ_RUNTIME_STORE_H
#define WJ_RUNTIME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/vmctx.h"
#include "registry/registry.h"

/* Return PCs one trap's backtrace can hold. */
#define STORE_TRACE_CAP 16384

typedef struct store_object {
    void *obj;
    void (*free)(void *obj);
} store_object;

struct wj_store {
    wj_engine *engine;
    vm_store vm;            /* vmctx[0] of every instance points here */
    code_registry *code;    /* the code of every module instantiated here */
    uintptr_t *trace;       /* STORE_TRACE_CAP slots for activations' traces */
    wj_trap *pending_trap;  /* a host trap on its way to the landing pad */
    unsigned depth;         /* activations of this store live on the stack */
    wj_epoch_callback epoch_callback; /* NULL: a passed deadline traps */
    void *epoch_env;
    store_object *objects;  /* freed with the store, newest first */
    size_t nobjects, cap;
};

/* Makes the store own `obj` (freed by `free_fn` in wj_store_delete). False
 * when out of memory: the caller still owns it. */
bool store_adopt(wj_store *store, void *obj, void (*free_fn)(void *obj));

#endif
