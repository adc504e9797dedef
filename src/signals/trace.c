/*
 * Backtrace capture by frame pointers, for the trap recording of faults
 * and trap stubs (record.c) and for the runtime when a host function
 * traps. Every compiled function keeps `push rbp; mov rbp, rsp`, so [fp]
 * is the caller's fp and [fp+8] the return address into the caller.
 *
 * The walk trusts nothing it reads: a frame pointer must be non-zero,
 * aligned, strictly above the previous one and below the activation's
 * entry frame, so a corrupted chain ends the walk instead of faulting or
 * looping.
 *
 * Each recorded PC lies inside its frame's current instruction: the
 * faulting one, or for callers the call, i.e. the return address minus
 * one (the return address itself may already belong to the next wasm
 * instruction, as when a call is followed by `unreachable`).
 */
#include "signals.h"

/* Appends the PCs of one activation's frames, from (pc, fp) up to the entry
 * trampoline's frame at stop_fp; returns the new count. A frame's return
 * PC is kept only when its link to the caller's frame is sound. */
static size_t walk(uintptr_t pc, uintptr_t fp, uintptr_t stop_fp, uintptr_t *out, size_t n,
                   size_t cap)
{
    if (fp == 0 || fp % 8 != 0 || fp >= stop_fp)
        fp = 0; /* not a frame of this activation: the pc alone */
    while (n < cap) {
        out[n++] = pc;
        if (fp == 0)
            break;
        const uintptr_t *frame = (const uintptr_t *)fp;
        uintptr_t caller_fp = frame[0];
        /* The trampoline's frame: the PC returns into it, not into wasm. */
        if (caller_fp == stop_fp)
            break;
        if (caller_fp <= fp || caller_fp > stop_fp || caller_fp % 8 != 0)
            break;
        pc = frame[1] - 1;
        fp = caller_fp;
    }
    return n;
}

void signals_capture_trace(vm_activation *act, uintptr_t pc, uintptr_t fp)
{
    size_t cap = act->trace ? act->trace_cap : 0;
    size_t n = 0;
    if (cap > 0)
        n = walk(pc, fp, act->landing_fp, act->trace, n, cap);
    /* Enclosing activations that called out of wasm: their wasm frames
     * continue the stack beyond the host frames in between. */
    uintptr_t inner_landing = act->landing_fp;
    for (const vm_activation *a = act->prev; a && n < cap; a = a->prev) {
        /* Enclosing activations sit higher on the stack; this also ends a
         * corrupted (cyclic) chain. */
        if (a->landing_fp <= inner_landing)
            break;
        inner_landing = a->landing_fp;
        uintptr_t exit_fp = a->exit_fp;
        if (exit_fp == 0 || exit_fp % 8 != 0 || exit_fp >= a->landing_fp)
            continue; /* not in a host call (or nonsense) */
        const uintptr_t *frame = (const uintptr_t *)exit_fp;
        n = walk(frame[1] - 1, frame[0], a->landing_fp, act->trace, n, cap);
    }
    act->trace_len = n;
}
