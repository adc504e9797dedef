/*
 * Turning processor faults in wasm code into traps (src/signals).
 *
 * One set of handlers per process for SIGSEGV, SIGBUS, SIGILL and SIGFPE.
 * A fault whose PC lies in code registered with the current activation's
 * store and is a trap site of that code becomes a trap: the handler records
 * the code and the backtrace in the activation and resumes at its landing
 * pad. Any other fault goes to the handler installed before ours, or to the
 * default action. Compiled code faults only on memory accesses (out of
 * bounds into a guard region); its explicit checks trap without a signal
 * (wj__trap_trampoline in vmctx.h), through the same recording.
 */
#ifndef WJ_SIGNALS_SIGNALS_H
#define WJ_SIGNALS_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

#include "activation.h"

/* Installs the handlers, once per process; thread-safe. False (errno set)
 * when sigaction fails. */
bool signals_install(void);

/* Gives the calling thread an alternate signal stack (256 KiB above a
 * guard page) unless it already has one of ours or one of its own of at
 * least that size; ours is freed when the thread exits (the main thread's
 * lives until the process ends). Call it on every thread before it runs
 * wasm: a stack overflow can only be handled on the alternate stack. False
 * (errno set) on failure. */
bool signals_thread_init(void);

/* Whether pc is a trap site of code registered with act's store; if so,
 * records the trap (code, pc and the backtrace from (pc, fp)) in act.
 * Async-signal-safe. */
bool signals_record_trap(vm_activation *act, uintptr_t pc, uintptr_t fp);

/* Records the wasm frames starting at (pc, fp) -- pc in the function whose
 * frame pointer is fp -- into act->trace, then those of the enclosing
 * activations that were in wasm when they called out. Async-signal-safe. */
void signals_capture_trace(vm_activation *act, uintptr_t pc, uintptr_t fp);

#endif
