/* wj_val <-> the 8-byte units of compiled code's argument areas and global
 * cells (vmctx.h): a v128 takes two units, its 16 bytes in memory order;
 * every other value one: i32 zero-extended, f32 bits in the low 4 bytes,
 * references as pointers (a funcref is its wj_func, whose first member is
 * the vm_funcref). */
#ifndef WJ_RUNTIME_VALUE_H
#define WJ_RUNTIME_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/vmctx.h"

_Static_assert(VM_UNIT == sizeof(uint64_t), "a unit is a uint64_t");

/* Writes vm_slot_units(v->kind) units. */
void val_to_slots(const wj_val *v, uint64_t *units);
/* Reads vm_slot_units(type) units. */
wj_val val_from_slots(uint8_t type, const uint64_t *units);
/* A reference value <-> a table element. */
void *val_to_ref(const wj_val *v);
wj_val val_from_ref(uint8_t type, void *ref);
/* Whether `v` may be stored in `store` as a value of `type`: the kind
 * matches, and a funcref belongs to the store. */
bool val_fits(const wj_val *v, uint8_t type, const wj_store *store);
/* Whether `type` is one of the value types. */
bool valtype_known(uint8_t type);
/* A zero (or null) value of `type`. */
wj_val val_zero(uint8_t type);

#endif
