/* Calling in (wj_func_call) and out (wj__host_call, from compiled code). */
#include <stdlib.h>

#include "signals/activation.h"
#include "signals/signals.h"

#include "engine.h"
#include "error.h"
#include "func.h"
#include "stack.h"
#include "store.h"
#include "trap.h"
#include "value.h"

/* Up to this many units of an argument area, or values of parameters or
 * results, live on the C stack; more are allocated. */
#define SMALL_ARITY 16

static wj_error *check_call(const wj_func *f, const wj_val *args, size_t arg_count,
                            size_t result_count)
{
    const wasm_functype *t = f->type;
    if (arg_count != t->nparams)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "wrong number of arguments: expected %u, got %zu", t->nparams,
                            arg_count);
    if (result_count != t->nresults)
        return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                            "wrong number of results: expected %u, got %zu", t->nresults,
                            result_count);
    for (uint32_t i = 0; i < t->nparams; i++) {
        if (args[i].kind != t->params[i])
            return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                                "argument %u has type %s, expected %s", i,
                                wj_valtype_name(args[i].kind),
                                wj_valtype_name((wj_valtype)t->params[i]));
        if (!val_fits(&args[i], t->params[i], f->store))
            return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                                "argument %u is a function of another store", i);
    }
    return NULL;
}

/* Runs a host callback with results preset to zeros of their types, and
 * turns results of the wrong type into a trap: the host broke its type. */
static wj_trap *run_host(wj_func *f, wj_caller *caller, const wj_val *args, wj_val *results)
{
    const wasm_functype *t = f->type;
    for (uint32_t i = 0; i < t->nresults; i++)
        results[i] = val_zero(t->results[i]);
    wj_trap *trap = f->callback(f->env, caller, args, results);
    if (trap)
        return trap;
    for (uint32_t i = 0; i < t->nresults; i++)
        if (!val_fits(&results[i], t->results[i], f->store))
            return wj_trap_new("host function returned a result of the wrong type");
    return NULL;
}

static wj_trap *trap_of(wj_store *store, const vm_activation *act)
{
    wj_trap *trap = store->pending_trap;
    if (trap) {
        store->pending_trap = NULL;
        return trap;
    }
    trap = trap_new((wj_trap_code)act->trap_code);
    if (!trap)
        return wj_trap_new("out of memory");
    trap_set_frames(trap, store, act->trace, act->trace_len);
    return trap;
}

static wj_error *call_wasm(wj_func *f, const wj_val *args, wj_val *results, wj_trap **trap)
{
    wj_store *store = f->store;
    const wasm_functype *t = f->type;
    if (!signals_thread_init())
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET,
                            "out of memory: no signal stack for this thread");
    size_t nslots = vm_args_units(t);
    uint64_t small[SMALL_ARITY];
    uint64_t *slots = nslots <= SMALL_ARITY ? small : malloc(nslots * sizeof *slots);
    if (!slots)
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    for (uint32_t i = 0, u = 0; i < t->nparams; u += vm_slot_units(t->params[i]), i++)
        val_to_slots(&args[i], &slots[u]);

    vm_activation act = {
        .prev = wj__activation,
        .registry = store->code,
        .trace = store->trace,
        .trace_cap = STORE_TRACE_CAP,
    };
    /* The outermost call of the store fixes the stack limit of all the
     * wasm frames nested under it, host calls in between included. */
    if (store->depth == 0)
        store->vm.stack_limit = stack_limit_at((uintptr_t)__builtin_frame_address(0),
                                               store->engine->config.max_wasm_stack);
    store->depth++;
    wj__activation = &act;
    int r = wj__enter_wasm(f->ref.vmctx, f->ref.code, slots, nslots, &act);
    wj__activation = act.prev;
    store->depth--;

    if (r == 0) {
        if (t->nresults == 1) {
            uint8_t type = t->results[0];
            bool xmm = type == WJ_F32 || type == WJ_F64 || type == WJ_V128;
            results[0] = val_from_slots(type, xmm ? act.ret_xmm : &act.ret_gpr);
        } else {
            for (uint32_t i = 0, u = 0; i < t->nresults; u += vm_slot_units(t->results[i]), i++)
                results[i] = val_from_slots(t->results[i], &slots[u]);
        }
    } else {
        wj_trap *tr = trap_of(store, &act);
        if (trap)
            *trap = tr;
        else
            wj_trap_delete(tr);
    }
    if (slots != small)
        free(slots);
    return NULL;
}

wj_error *wj_func_call(wj_func *func, const wj_val *args, size_t arg_count, wj_val *results,
                       size_t result_count, wj_trap **trap)
{
    if (trap)
        *trap = NULL;
    wj_error *err = check_call(func, args, arg_count, result_count);
    if (err)
        return err;
    if (func->instance)
        return call_wasm(func, args, results, trap);
    wj_caller caller = {func->store, NULL};
    wj_trap *tr = run_host(func, &caller, args, results);
    if (trap)
        *trap = tr;
    else
        wj_trap_delete(tr);
    return NULL;
}

void trap_raise(wj_store *store, wj_trap *trap, uintptr_t fp)
{
    vm_activation *act = wj__activation;
    if (!trap->traced) {
        /* [fp + 8] returns into the wasm caller, just past its call;
         * [fp] is its frame. */
        signals_capture_trace(act, *(uintptr_t *)(fp + 8) - 1, *(uintptr_t *)fp);
        trap_set_frames(trap, store, act->trace, act->trace_len);
    }
    wj_trap_delete(store->pending_trap);
    store->pending_trap = trap;
    act->trap_code = trap->code;
    wj__unwind(act);
}

void wj__host_call(void *record, uint64_t *slots, uintptr_t fp)
{
    wj_func *f = record;
    vm_activation *act = wj__activation;
    const wasm_functype *t = f->type;
    /* The wasm caller's frame keeps its vmctx at [rbp - 8]. */
    void **caller_vmctx = *(void ***)(*(uintptr_t *)fp - 8);
    wj_caller caller = {f->store, caller_vmctx[VMCTX_INSTANCE / 8]};

    wj_val small_args[SMALL_ARITY], small_results[SMALL_ARITY];
    wj_val *args = t->nparams <= SMALL_ARITY ? small_args : malloc(t->nparams * sizeof *args);
    wj_val *results =
        t->nresults <= SMALL_ARITY ? small_results : malloc(t->nresults * sizeof *results);
    wj_trap *trap;
    if (!args || !results) {
        trap = wj_trap_new("out of memory");
    } else {
        for (uint32_t i = 0, u = 0; i < t->nparams; u += vm_slot_units(t->params[i]), i++)
            args[i] = val_from_slots(t->params[i], &slots[u]);
        uintptr_t saved_exit = act->exit_fp;
        act->exit_fp = fp;
        trap = run_host(f, &caller, args, results);
        act->exit_fp = saved_exit;
        if (!trap)
            for (uint32_t i = 0, u = 0; i < t->nresults; u += vm_slot_units(t->results[i]), i++)
                val_to_slots(&results[i], &slots[u]);
    }
    if (args != small_args)
        free(args);
    if (results != small_results)
        free(results);
    if (trap)
        trap_raise(f->store, trap, fp); /* nothing above may own anything now */
}
