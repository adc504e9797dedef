/* wj_trap: a trap code, its message and the wasm backtrace. */
#ifndef WJ_RUNTIME_TRAP_H
#define WJ_RUNTIME_TRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmjail.h>

struct wj_trap {
    wj_trap_code code;
    bool traced;       /* frames were captured (possibly none) */
    size_t nframes;
    wj_frame *frames;  /* each frame holds a reference to its module */
    int exit_status;   /* of a WJ_TRAP_EXIT trap */
    char message[];
};

/* A trap with the spec's message for `code`; NULL when out of memory. */
wj_trap *trap_new(wj_trap_code code);
/* Resolves raw PCs (innermost first) through the store's code registry
 * into the trap's frames; PCs outside wasm code are skipped. False when
 * out of memory (the trap then has no frames). */
bool trap_set_frames(wj_trap *trap, const wj_store *store, const uintptr_t *pcs, size_t n);

/* Ends the calling thread's innermost activation, which is running wasm
 * of `store` and has called out to the host through a trampoline whose
 * frame is `fp`: the trap (captured from there unless it already has
 * frames) goes to the enclosing wj_func_call. */
__attribute__((noreturn)) void trap_raise(wj_store *store, wj_trap *trap, uintptr_t fp);

#endif
