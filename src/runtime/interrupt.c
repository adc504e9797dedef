/* Stopping runaway guests: the epoch deadline's slow path and the store's
 * epoch and fuel settings (the checks themselves are compiled code,
 * compiler/meter.c). */
#include "signals/activation.h"

#include "engine.h"
#include "error.h"
#include "instance.h"
#include "store.h"
#include "trap.h"

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void wj__epoch_expired(void *vmctx, uintptr_t fp)
{
    wj_store *store = instance_of(vmctx)->store;
    uint64_t now = wj_engine_epoch(store->engine);
    if (now < store->vm.epoch_deadline)
        return; /* the host moved the deadline meanwhile */
    wj_trap *trap;
    if (!store->epoch_callback) {
        trap = trap_new(WJ_TRAP_INTERRUPT);
        if (!trap)
            trap = wj_trap_new("out of memory");
    } else {
        /* Like a host function: traps in wasm the callback calls (of
         * other stores) trace through this frame. */
        vm_activation *act = wj__activation;
        uintptr_t saved_exit = act->exit_fp;
        act->exit_fp = fp;
        uint64_t ticks = 0;
        trap = store->epoch_callback(store->epoch_env, store, &ticks);
        act->exit_fp = saved_exit;
        if (!trap) {
            store->vm.epoch_deadline = saturating_add(wj_engine_epoch(store->engine), ticks);
            return;
        }
    }
    trap_raise(store, trap, fp);
}

void wj_store_set_epoch_deadline(wj_store *store, uint64_t ticks)
{
    store->vm.epoch_deadline = saturating_add(wj_engine_epoch(store->engine), ticks);
}

void wj_store_set_epoch_callback(wj_store *store, wj_epoch_callback callback, void *env)
{
    store->epoch_callback = callback;
    store->epoch_env = env;
}

static wj_error *fuel_off(const wj_store *store)
{
    if (store->engine->config.consume_fuel)
        return NULL;
    return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                        "fuel is not enabled: wj_config_set_consume_fuel");
}

wj_error *wj_store_set_fuel(wj_store *store, uint64_t fuel)
{
    wj_error *err = fuel_off(store);
    if (err)
        return err;
    store->vm.fuel = -(int64_t)(fuel > INT64_MAX ? INT64_MAX : fuel);
    return NULL;
}

wj_error *wj_store_get_fuel(const wj_store *store, uint64_t *fuel)
{
    wj_error *err = fuel_off(store);
    if (err)
        return err;
    *fuel = store->vm.fuel < 0 ? (uint64_t)-store->vm.fuel : 0;
    return NULL;
}
