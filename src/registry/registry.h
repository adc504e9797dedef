/*
 * Registries (src/registry).
 *
 * The engine-wide type registry interns function types: equal types get the
 * same id, so call_indirect compares one integer. It is thread-safe.
 *
 * The per-store code registry maps code addresses to the compiled modules
 * instantiated in the store. It changes only while no wasm of that store
 * runs on another thread (a store is single-threaded), and lookups are
 * async-signal-safe: the signal handler uses them.
 */
#ifndef WJ_REGISTRY_REGISTRY_H
#define WJ_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/compiler.h"
#include "wasm/module.h"

typedef struct type_registry type_registry;

type_registry *type_registry_new(void);
void type_registry_free(type_registry *r);
/* The id of `type` (ids start at 1; 0 is never used, so a zeroed vm_funcref
 * matches nothing), taking one reference; UINT32_MAX when out of memory. */
uint32_t type_registry_intern(type_registry *r, const wasm_functype *type);
void type_registry_release(type_registry *r, uint32_t id);

typedef struct code_range {
    uintptr_t start, end; /* [start, end) of the code */
    const compiled_code *code;
    const void *owner;    /* the runtime's module object */
} code_range;

typedef struct code_registry code_registry;

code_registry *code_registry_new(void);
void code_registry_free(code_registry *r);
/* Adds the range of `code` (which must outlive the registry) unless the
 * owner is already registered; false when out of memory. Code with no bytes
 * is accepted and never found. */
bool code_registry_insert(code_registry *r, const compiled_code *code, const void *owner);
/* The range containing pc, or NULL; valid until the next insertion.
 * Async-signal-safe: no lock, no allocation. */
const code_range *code_registry_lookup(const code_registry *r, uintptr_t pc);

#endif
