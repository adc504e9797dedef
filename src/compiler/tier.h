/*
 * What every tier's function compiler shares (src/compiler): the module's
 * output being assembled (code, trap table, address map, call relocations)
 * and the prologue's fixed start. A tier compiles a function into a
 * module_out with the same frame layout, calling convention and trap
 * thunk, so functions of different tiers call each other and the runtime
 * reads one kind of table.
 */
#ifndef WJ_COMPILER_TIER_H
#define WJ_COMPILER_TIER_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "x86.h"

#define VEC(T) struct { T *v; uint32_t n, cap; }

/* Grows a VEC's array to hold `need` elements; false when out of memory. */
bool vec_grow(void **v, uint32_t *cap, uint32_t elem, uint32_t need);
/* Appends to a VEC; false when out of memory. */
#define VEC_PUSH_OK(vec, ...)                                                              \
    ((vec).n < (vec).cap || vec_grow((void **)&(vec).v, &(vec).cap, sizeof *(vec).v,       \
                                     (vec).n + 1)                                          \
         ? ((vec).v[(vec).n++] = (__typeof__(*(vec).v))__VA_ARGS__, true)                  \
         : false)

/* A direct call to a function compiled later. */
typedef struct call_reloc {
    uint32_t at;
    uint32_t func; /* defined-function index (module index - imports) */
} call_reloc;

typedef struct module_out {
    codebuf code;
    uint32_t trap_thunk; /* code offset of the jump to wj__trap_trampoline */
    VEC(compiled_trap) traps;
    VEC(compiled_addr) addrs;
    VEC(call_reloc) relocs;
} module_out;

/* Each false when out of memory. */
/* Maps code offset `native` to wasm offset `wasm` (the last mapping of an
 * offset wins). */
bool out_addr(module_out *o, uint32_t native, uint32_t wasm);
/* A trap site: `native` faults or calls the trap thunk with `code`. */
bool out_trap(module_out *o, uint32_t native, uint32_t code, uint32_t wasm);
bool out_reloc(module_out *o, uint32_t at, uint32_t func);

/* The start of every prologue: push rbp; mov rbp, rsp; sub rsp, N; the
 * stack check; vmctx to [rbp-8]. The positions of N's imm32 and of the
 * check's jb rel32 (to a WJ_TRAP_STACK_EXHAUSTED stub) go to *frame_at and
 * *jump_at. */
void emit_head(codebuf *cb, uint32_t *frame_at, uint32_t *jump_at);

#endif
