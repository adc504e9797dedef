/*
 * Recording a trap at a trap site of compiled code, for both ways of
 * reaching one: the fault handler (a faulting access, signals.c) and a
 * trap stub's call through wj__trap_trampoline (every explicit check).
 * Async-signal-safe: it reads the activation, the store's code registry
 * and the module's trap table, none of which lock or allocate.
 */
#include <stdlib.h>

#include "registry/registry.h"
#include "signals.h"

bool signals_record_trap(vm_activation *act, uintptr_t pc, uintptr_t fp)
{
    if (!act->registry)
        return false;
    const code_range *range = code_registry_lookup(act->registry, pc);
    if (!range)
        return false;
    uint32_t code = compiled_trap_at(range->code, (uint32_t)(pc - range->start));
    if (code == 0)
        return false;
    act->trap_code = (int)code;
    act->trap_pc = pc;
    signals_capture_trace(act, pc, fp);
    return true;
}

void wj__trap(uintptr_t pc, uintptr_t fp)
{
    vm_activation *act = wj__activation;
    /* Only compiled code calls this, from its trap sites, while it runs in
     * the activation: anything else is a broken invariant, not a trap. */
    if (!act || !signals_record_trap(act, pc, fp))
        abort();
    wj__unwind(act);
}
