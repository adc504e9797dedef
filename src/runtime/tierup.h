/*
 * Tiered execution's runtime side (src/runtime/tierup.c): per module, the
 * budgets and tier-2 entries compiled code reads (vmctx.h: vm_tier_func)
 * and what was asked for; per engine, the worker thread that compiles
 * what gets hot, in the order it was asked for.
 */
#ifndef WJ_RUNTIME_TIERUP_H
#define WJ_RUNTIME_TIERUP_H

#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/compiler.h"

typedef struct module_tier module_tier;
typedef struct tier_worker tier_worker;

/* The module's tier state, once its code is compiled (with env, which
 * must stay valid as long as the module); NULL when out of memory. */
module_tier *module_tier_new(const wj_module *module, const compile_env *env);
void module_tier_free(module_tier *t);
/* What compiled code reads through its vmctx. */
vm_tier_func *module_tier_funcs(module_tier *t);

/* The engine's worker, started on the first request; NULL when out of
 * memory. Freeing it stops the thread and drops what was not compiled. */
tier_worker *tier_worker_new(void);
void tier_worker_free(tier_worker *w);

/* No more tier-2 code in this process (the jail forbids new code): hot
 * functions stay in tier 1. */
void tier_up_forbid(void);

#endif
