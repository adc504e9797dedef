/* wj_val <-> the 8-byte slots and cells of compiled code: i32 zero-extended,
 * f32 bits in the low 4 bytes, references as pointers (a funcref is its
 * wj_func, whose first member is the vm_funcref). */
#ifndef WJ_RUNTIME_VALUE_H
#define WJ_RUNTIME_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include <wasmjail.h>

uint64_t val_to_slot(const wj_val *v);
wj_val val_from_slot(uint8_t type, uint64_t slot);
/* Whether `v` may be stored in `store` as a value of `type`: the kind
 * matches, and a funcref belongs to the store. */
bool val_fits(const wj_val *v, uint8_t type, const wj_store *store);
/* Whether `type` is one of the value types. */
bool valtype_known(uint8_t type);
/* A zero (or null) value of `type`. */
wj_val val_zero(uint8_t type);

#endif
