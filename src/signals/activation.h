/*
 * An activation: one entry from the host into wasm code (src/signals).
 *
 * The entry trampoline (src/compiler/trampolines.S) fills the landing pad;
 * the runtime links activations per thread through wj__activation; the
 * signal handler (a fault) and wj__trap (a trap stub) read them to decide
 * whether the PC is a wasm trap site and to capture the backtrace, then
 * resume at the landing pad. Everything they touch is preallocated: they
 * never allocate or lock.
 *
 * This header is also included by assembly; the offsets below are checked
 * against the structure by static assertions.
 */
#ifndef WJ_SIGNALS_ACTIVATION_H
#define WJ_SIGNALS_ACTIVATION_H

#define ACT_LANDING_PC 0
#define ACT_LANDING_SP 8
#define ACT_LANDING_FP 16
#define ACT_RET_GPR 24
#define ACT_RET_XMM 32

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct code_registry;

typedef struct vm_activation {
    /* Written by the entry trampoline. */
    uintptr_t landing_pc; /* resume here to abandon the wasm frames */
    uintptr_t landing_sp;
    uintptr_t landing_fp; /* the trampoline's rbp: where a frame walk stops */
    uint64_t ret_gpr;     /* rax and all 128 bits of xmm0 when the callee */
    uint64_t ret_xmm[2];  /* returned (memory order: f32/f64 in ret_xmm[0]) */

    /* Set by the runtime before entering. */
    struct vm_activation *prev;           /* the thread's enclosing activation */
    const struct code_registry *registry; /* the store's code ranges */
    uintptr_t exit_fp; /* while this activation's wasm has called out to the
                        * host: the host trampoline's rbp; else 0 */

    /* Set when a trap ends the activation. */
    int trap_code;  /* wj_trap_code; 0 while none */
    uintptr_t trap_pc;
    uintptr_t *trace;     /* preallocated by the store: return PCs, innermost first */
    size_t trace_cap;
    size_t trace_len;     /* frames captured (at most trace_cap) */
} vm_activation;

_Static_assert(offsetof(vm_activation, landing_pc) == ACT_LANDING_PC, "ACT_LANDING_PC");
_Static_assert(offsetof(vm_activation, landing_sp) == ACT_LANDING_SP, "ACT_LANDING_SP");
_Static_assert(offsetof(vm_activation, landing_fp) == ACT_LANDING_FP, "ACT_LANDING_FP");
_Static_assert(offsetof(vm_activation, ret_gpr) == ACT_RET_GPR, "ACT_RET_GPR");
_Static_assert(offsetof(vm_activation, ret_xmm) == ACT_RET_XMM, "ACT_RET_XMM");
_Static_assert(sizeof(((vm_activation *)0)->ret_xmm) == 16, "ACT_RET_XMM holds xmm0");

/* The innermost activation of the calling thread (initial-exec TLS, so the
 * signal handler can read it). */
extern __thread vm_activation *wj__activation __attribute__((tls_model("initial-exec")));

/* Trampolines (src/compiler/trampolines.S). */

/* Calls compiled `code` with r15 = vmctx, passing its argument area of
 * nslots 8-byte units (vm_args_units: a v128 takes two) and copying the
 * units back afterwards (results when there are two or more); rax and all
 * of xmm0 go to act->ret_gpr and act->ret_xmm. Returns 0 when the callee
 * returned, 1 when a trap resumed at the landing pad. */
int wj__enter_wasm(void *vmctx, const void *code, uint64_t *slots, size_t nslots,
                   vm_activation *act);
/* Abandons the wasm frames of `act`: continues at its landing pad. */
__attribute__((noreturn)) void wj__unwind(vm_activation *act);
/* What a host function's vm_funcref.code is: called from wasm with r15 = the
 * runtime's host record and the argument area on the stack; calls
 * wj__host_call(record, slots, fp) where fp is the trampoline's own rbp
 * ([fp+8] returns into the wasm caller, [fp] is its rbp), then returns the
 * area's first 16 bytes in xmm0 and its first unit in rax (a single result,
 * whatever its type). */
void wj__host_trampoline(void);
/* Implemented by the runtime; fills the result units or unwinds. */
void wj__host_call(void *record, uint64_t *slots, uintptr_t fp);
/* What wj__trap_trampoline (vmctx.h) calls: records the trap of the trap
 * site at `pc`, in the function whose frame is `fp`, in the current
 * activation and continues at its landing pad (src/signals/record.c). */
__attribute__((noreturn)) void wj__trap(uintptr_t pc, uintptr_t fp);
#endif

#endif
