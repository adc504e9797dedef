/* How much of the calling thread's native stack wasm may use (src/runtime). */
#ifndef WJ_RUNTIME_STACK_H
#define WJ_RUNTIME_STACK_H

#include <stddef.h>
#include <stdint.h>

/* Kept free below the wasm stack limit for what runs past the prologue
 * checks: host functions (WASI's included), libcalls, trampolines, and a
 * nested call into wasm as far as its trap, which is recorded on this
 * stack too (wj__trap, a few hundred bytes). */
#define STACK_HOST_RESERVE (32 * 1024)

/* Learns the calling thread's stack bounds, once per thread. For the main
 * thread glibc reads /proc/self/maps and RLIMIT_STACK, which the jail
 * forbids: do it before then. */
void stack_learn_thread(void);

/* The stack limit for wasm entered at `here` (the outermost entry into a
 * store) that may use `budget` bytes: here - budget, but never within
 * STACK_HOST_RESERVE of the end of the thread's stack. */
uintptr_t stack_limit_at(uintptr_t here, size_t budget);

#endif
