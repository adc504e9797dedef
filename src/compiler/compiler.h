/*
 * The compiler's interface (src/compiler): a validated module in, machine
 * code and the tables the runtime relies on out. Tier-neutral: any tier must
 * produce a compiled_code.
 */
#ifndef WJ_COMPILER_COMPILER_H
#define WJ_COMPILER_COMPILER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctx.h"
#include "wasm/error.h"
#include "wasm/module.h"

/* A faulting instruction or trap stub: code offset -> wj_trap_code. */
typedef struct compiled_trap {
    uint32_t offset;
    uint32_t code;
} compiled_trap;

/* Native code offset -> byte offset of the wasm instruction in the module.
 * Covers every trap site and every call (at its last byte: return
 * address - 1). */
typedef struct compiled_addr {
    uint32_t native;
    uint32_t wasm;
} compiled_addr;

/* An address-map entry's wasm offset for a call whose frame is no wasm
 * frame of its own (tier 1's frame below an on-stack replacement, whose
 * function the replacement's frame shows): backtraces skip it. */
#define COMPILED_NO_FRAME UINT32_MAX

/* An instruction of a function that tier 2 inlined into its caller. The
 * address map of inlined code holds COMPILED_INLINED | i instead of a wasm
 * offset, i indexing the code's (or piece's) compiled_inline table: the
 * frame of `func` at `wasm`, above the frame that `call` gives, `call`
 * being an address-map value itself (the offset of the call instruction in
 * the function containing the code, or an inlined one's entry). Tier 2
 * inlines only in modules smaller than 2 GiB, and a table is only looked
 * in when it has entries, so a plain offset never reads as one. */
#define COMPILED_INLINED 0x80000000u
typedef struct compiled_inline {
    uint32_t func; /* module index */
    uint32_t wasm;
    uint32_t call;
} compiled_inline;

/* Code added to a compiled module while it runs (tiered execution): one
 * function's tier-2 code or osr entry with its own tables, offsets from
 * compiled_code.code. */
typedef struct compiled_piece {
    uint32_t start, end;
    uint32_t func; /* module index */
    uint32_t ntraps, naddrs, ninlines;
    compiled_trap *traps;
    compiled_addr *addrs;
    compiled_inline *inlines;
} compiled_piece;

/* The pieces, in the reservation past the module's code, in ascending
 * order. Appended under `lock` while other threads run the code and look
 * PCs up (signal handlers too): a piece is complete before the count that
 * shows it is stored (release). */
typedef struct compiled_extra {
    /* per defined function, read-write after the code, where tier-1 code
     * counts its budgets rip-relative */
    vm_tier_func *table;
    pthread_mutex_t lock;
    size_t used;               /* bytes of the mapping taken, from code */
    uint32_t cap;
    _Atomic uint32_t npieces;
    compiled_piece *pieces;    /* cap of them */
    /* per defined function: its tier-2 entry once placed, else NULL (tier-2
     * code calls it there directly) */
    _Atomic(const uint8_t *) *entries;
} compiled_extra;

typedef struct compiled_code {
    uint8_t *code;      /* read + execute once compiled */
    size_t code_size;
    size_t map_size;    /* of the mapping: the code's pages, and with tiered
                         * execution the reservation for the pieces */
    compiled_extra *extra; /* tiered execution's pieces, or NULL */
    uint32_t first_func; /* index of the first defined function (= imports) */
    uint32_t nfuncs;     /* defined functions */
    uint32_t *func_starts; /* nfuncs code offsets, ascending; a function ends
                            * where the next starts (the last at code_size) */
    uint32_t ntraps;
    compiled_trap *traps; /* sorted by offset */
    uint32_t naddrs;
    compiled_addr *addrs; /* sorted by native */
    uint32_t ninlines;
    compiled_inline *inlines;
} compiled_code;

/* What compiled code depends on besides the module. */
typedef struct compile_env {
    const uint32_t *type_ids;  /* the module's type indices -> the engine's
                                * interned ids (call_indirect compares them) */
    const uint32_t *func_slots; /* per defined function: its reference's
                                 * slot (vmctx.h), UINT32_MAX when it can
                                 * have none */
    uint32_t nfunc_slots;
    vm_memory_config memory;   /* where memories live (vm_plan_memory) */
    uint64_t max_memory_size;  /* the engine's limit, in bytes */
    bool epoch_checks;         /* at function entries and loop headers */
    bool fuel_checks;          /* fuel charged per run of instructions */
    uint32_t threads;          /* that may compile at once (0 or 1: this one) */
    bool optimize;             /* tier 2 for the functions it covers */
    bool tiered;               /* tier 1 with budgets and tier-up paths (hot.c) */
} compile_env;

/* Compiles every defined function of `m` (already validated). On failure
 * (an unsupported feature, e.g. "unsupported: table64", or out of memory) returns
 * false and fills *err. */
bool compile_module(const wasm_module *m, const compile_env *env, compiled_code *out,
                    wasm_error *err);
void compiled_code_free(compiled_code *c);

/* Tiered execution (tierup.c): compiles defined function `func` (defined
 * index) with tier 2, as its osr entry at the loop at module offset `loop`
 * unless that is VM_TIER_AT_ENTRY, into c's reservation (env: the one c
 * was compiled with). Returns the code, or NULL when tier 2 declines it,
 * there is no room or memory, or *cancel was set meanwhile (*why says
 * which). Thread-safe; the code runs as soon as it returns. */
const void *compile_tier_up(const wasm_module *m, const compile_env *env, compiled_code *c,
                            uint32_t func, uint32_t loop, const atomic_bool *cancel,
                            const char **why);

/* Lookups for trap recording and backtraces: async-signal-safe. */
/* The trap code at code offset `offset`, or 0 when it is not a trap site. */
uint32_t compiled_trap_at(const compiled_code *c, uint32_t offset);
/* A wasm frame: a function (module index) at a module byte offset. */
typedef struct compiled_frame {
    uint32_t func;
    uint32_t wasm;
} compiled_frame;
/* How many wasm frames code offset `offset` stands for (one, or more in
 * code that inlined calls), up to `max` of them written to frames,
 * innermost first: the defined function containing it at the wasm offset
 * recorded at or before it. 0 when the offset is outside every function or
 * has no wasm frame of its own. */
uint32_t compiled_frames(const compiled_code *c, uint32_t offset, compiled_frame *frames,
                         uint32_t max);

#endif
