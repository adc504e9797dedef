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

/* A rip-relative operand of tier-1 code in the tier table (tiered): its
 * disp32 at `at`, one immediate byte after it, bound when the module is
 * joined to the table's byte `target`. */
typedef struct table_ref {
    uint32_t at;
    uint32_t target;
} table_ref;

typedef struct module_out {
    codebuf code;
    uint32_t trap_thunk; /* code offset of the jump to wj__trap_trampoline */
    VEC(compiled_trap) traps;
    VEC(compiled_addr) addrs;
    VEC(compiled_inline) inlines; /* what addrs' COMPILED_INLINED values index */
    VEC(call_reloc) relocs;
    VEC(table_ref) table_refs;
} module_out;

/* Frees what o holds (o itself is the caller's). */
void out_free(module_out *o);

/* A direct call of defined function `func`: a rel32 bound when the module
 * is joined (or, in tier-2 code compiled while tiered, to the callee's
 * tier-2 entry when its piece is placed: compiler/tierup.c), or in a
 * tiered module through the callee's vm_tier_func.call (clobbering r11).
 * False when out of memory. */
bool emit_direct_call(module_out *o, uint32_t func, bool tiered);

/* Each false when out of memory. */
/* Maps code offset `native` to wasm offset `wasm` (the last mapping of an
 * offset wins). */
bool out_addr(module_out *o, uint32_t native, uint32_t wasm);
/* A trap site: `native` faults or calls the trap thunk with `code`. */
bool out_trap(module_out *o, uint32_t native, uint32_t code, uint32_t wasm);
bool out_reloc(module_out *o, uint32_t at, uint32_t func);

/* What the trap stubs of a chunk of code call (func.c: trap_call): a rel32
 * call reaches it wherever the runtime was loaded. It goes before the
 * chunk's first function, so it is no frame's code: nothing faults or
 * calls in it. */
void emit_trap_thunk(module_out *o);

/* Functions start 16-aligned, int3 before them. */
void emit_func_align(codebuf *cb);

/* Tiered execution's room for tier-2 code past a module's code of
 * `map_size` bytes (tierup.c), and the record of what goes there. */
size_t tier_up_reservation(size_t map_size);
/* The tier table's pages: it lies between the code and the pieces. */
size_t tier_table_size(uint32_t nfuncs);
compiled_extra *tier_up_extra_new(size_t map_size, uint32_t nfuncs);
void tier_up_extra_free(compiled_extra *e);

/* The start of every prologue: push rbp; mov rbp, rsp; sub rsp, N; the
 * stack check; vmctx to [rbp-8]. The positions of N's imm32 and of the
 * check's jb rel32 (to a WJ_TRAP_STACK_EXHAUSTED stub) go to *frame_at and
 * *jump_at. */
void emit_head(codebuf *cb, uint32_t *frame_at, uint32_t *jump_at);

/* Float <-> integer conversions (convert.c). A trap is a jcc handed to
 * the tier's `trap`, which routes it to a stub. */
typedef void (*trap_jump_fn)(void *ctx, uint32_t jump, uint32_t code);
/* r = the float in xmm x truncated to an integer as wasm's trunc (traps)
 * or trunc_sat; clobbers r11, xmm15 and x. */
void emit_trunc(codebuf *cb, bool dbl, bool to64, bool is_signed, bool sat, int r, int x,
                trap_jump_fn trap, void *ctx);
/* xmm x = the u64 in r as a float; clobbers r11 and r. */
void emit_convert_u64(codebuf *cb, bool dbl, int x, int r);

/* The fuel an instruction (WASM_OP_*) costs, in both tiers. What wasmtime
 * charges too: instructions that emit no work are free. */
static inline uint32_t meter_op_cost(unsigned op)
{
    switch (op) {
    case 0x00: /* unreachable */
    case 0x01: /* nop */
    case 0x02: /* block */
    case 0x03: /* loop */
    case 0x05: /* else */
    case 0x0b: /* end */
    case 0x0f: /* return */
    case 0x1a: /* drop */
        return 0;
    }
    return 1;
}

#endif
