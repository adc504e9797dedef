/*
 * Tier 2, the optimizing compiler (src/opt), as the module compiler calls
 * it: one function at a time, into the same module output and with the
 * same conventions as tier 1 (compiler/tier.h), so that either tier's
 * functions call the other's.
 */
#ifndef WJ_OPT_OPT_H
#define WJ_OPT_OPT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler/tier.h"
#include "compiler/vmctx.h"
#include "wasm/module.h"

typedef struct opt_env {
    const wasm_module *m;
    const vm_memory_plan *plans; /* per memory */
    const uint32_t *type_ids;    /* the module's types -> the engine's ids */
    const uint32_t *func_slots;  /* per defined function: its reference's slot (vmctx.h) */
    uint32_t nfunc_slots;
    bool fuel_checks, epoch_checks;
    bool tiered; /* direct calls through the tier table (tier.h: emit_direct_call) */
    /* with tiered: per defined function, its tier-2 entry once placed
     * (compiler.h: compiled_extra), called directly */
    _Atomic(const uint8_t *) const *entries;
    const atomic_bool *cancel; /* once set, the compile stops ("cancelled"); may be NULL */
} opt_env;

/* Compiles defined function `index` (module index) at the end of o's code.
 * False when tier 2 declines it (*why says why; nothing was emitted: tier 1
 * compiles it) or memory ran out (*why "out of memory"). */
bool opt_compile(const opt_env *env, uint32_t index, module_out *o, const char **why);

/* Compiles defined function `index` (module index) as an on-stack-replacement
 * entry at the loop whose `loop` opcode is at module byte offset `loop_offset`:
 * a function whose parameters are all of the function's locals (parameters, then
 * declared locals, in order), whose results are the function's, and whose code is
 * the function's from that loop's header on. Metering is exactly the function's
 * from the header on: the header's fuel/epoch checks come first; there is no
 * function-entry check. False (nothing emitted, *why says why) when the loop has
 * parameters or values below it on the stack, is unreachable, is not found, or
 * tier 2 declines the function. */
bool opt_compile_osr(const opt_env *env, uint32_t index, uint32_t loop_offset,
                     module_out *o, const char **why);

#endif
