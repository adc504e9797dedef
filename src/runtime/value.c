#include <string.h>

#include "func.h"
#include "value.h"

static uint64_t scalar_to_slot(const wj_val *v)
{
    switch (v->kind) {
    case WJ_I32: return (uint32_t)v->of.i32;
    case WJ_I64: return (uint64_t)v->of.i64;
    case WJ_F32: {
        uint32_t bits;
        memcpy(&bits, &v->of.f32, sizeof bits);
        return bits;
    }
    case WJ_F64: {
        uint64_t bits;
        memcpy(&bits, &v->of.f64, sizeof bits);
        return bits;
    }
    case WJ_FUNCREF: return (uintptr_t)v->of.funcref;
    case WJ_EXTERNREF: return (uintptr_t)v->of.externref;
    case WJ_V128: break;
    }
    return 0;
}

void val_to_slots(const wj_val *v, uint64_t *units)
{
    if (v->kind == WJ_V128)
        memcpy(units, v->of.v128, sizeof v->of.v128);
    else
        units[0] = scalar_to_slot(v);
}

wj_val val_from_slots(uint8_t type, const uint64_t *units)
{
    wj_val v = {.kind = (wj_valtype)type};
    uint64_t slot = units[0];
    switch (type) {
    case WJ_I32: v.of.i32 = (int32_t)(uint32_t)slot; break;
    case WJ_I64: v.of.i64 = (int64_t)slot; break;
    case WJ_F32: {
        uint32_t bits = (uint32_t)slot;
        memcpy(&v.of.f32, &bits, sizeof bits);
        break;
    }
    case WJ_F64: memcpy(&v.of.f64, &slot, sizeof slot); break;
    case WJ_FUNCREF: v.of.funcref = (wj_func *)(uintptr_t)slot; break;
    case WJ_EXTERNREF: v.of.externref = (void *)(uintptr_t)slot; break;
    case WJ_V128: memcpy(v.of.v128, units, sizeof v.of.v128); break;
    }
    return v;
}

void *val_to_ref(const wj_val *v)
{
    return (void *)(uintptr_t)scalar_to_slot(v);
}

wj_val val_from_ref(uint8_t type, void *ref)
{
    wj_val v = {.kind = (wj_valtype)type};
    if (type == WJ_FUNCREF)
        v.of.funcref = ref;
    else
        v.of.externref = ref;
    return v;
}

bool val_fits(const wj_val *v, uint8_t type, const wj_store *store)
{
    if (v->kind != type)
        return false;
    return type != WJ_FUNCREF || !v->of.funcref || v->of.funcref->store == store;
}

wj_val val_zero(uint8_t type)
{
    static const uint64_t zero[2];
    return val_from_slots(type, zero);
}

bool valtype_known(uint8_t type)
{
    switch (type) {
    case WJ_I32: case WJ_I64: case WJ_F32: case WJ_F64: case WJ_V128: case WJ_FUNCREF:
    case WJ_EXTERNREF:
        return true;
    }
    return false;
}
