/* wj_func: a wasm function of an instance or a host function. */
#ifndef WJ_RUNTIME_FUNC_H
#define WJ_RUNTIME_FUNC_H

#include <wasmjail.h>

#include "compiler/vmctx.h"
#include "wasm/module.h"

struct wj_func {
    /* First member: a funcref value anywhere (tables, globals, wj_val) is
     * a pointer to this, read as a vm_funcref by compiled code. */
    vm_funcref ref;
    wj_store *store;
    const wasm_functype *type;
    wj_instance *instance; /* NULL for a host function */
    /* Host functions only. */
    wj_host_callback callback;
    void *env;
    void (*finalizer)(void *env);
};

/* Compiled code finds an instance's wj_func by slot after its vmctx. */
_Static_assert(sizeof(struct wj_func) == VM_FUNC_BYTES, "VM_FUNC_BYTES is sizeof(wj_func)");
_Static_assert(VM_FUNC_BYTES % 8 == 0, "references stay aligned");

struct wj_caller {
    wj_store *store;
    wj_instance *instance;
};

/* Describes a function type as "(i32 i64) -> (f32)" into buf. */
void functype_describe(const wasm_functype *t, char *buf, size_t size);

#endif
