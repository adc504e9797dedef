/*
 * Tier 2, the optimizing compiler (src/opt), as the module compiler calls
 * it: one function at a time, into the same module output and with the
 * same conventions as tier 1 (compiler/tier.h), so that either tier's
 * functions call the other's.
 */
#ifndef WJ_OPT_OPT_H
#define WJ_OPT_OPT_H

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
} opt_env;

/* Compiles defined function `index` (module index) at the end of o's code.
 * False when tier 2 declines it (*why says why; nothing was emitted: tier 1
 * compiles it) or memory ran out (*why "out of memory"). */
bool opt_compile(const opt_env *env, uint32_t index, module_out *o, const char **why);

#endif
