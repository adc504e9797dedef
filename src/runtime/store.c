#include <stdlib.h>

#include "signals/signals.h"

#include "stack.h"
#include "store.h"
#include "trap.h"

wj_store *wj_store_new(wj_engine *engine)
{
    if (!signals_install())
        return NULL;
    /* The thread that makes a store usually runs it: learn its stack now,
     * before any jail forbids what that takes. */
    stack_learn_thread();
    wj_store *store = calloc(1, sizeof *store);
    if (!store)
        return NULL;
    store->engine = engine;
    /* No time and no fuel until the host grants some. */
    wj_store_set_epoch_deadline(store, 0);
    store->code = code_registry_new();
    store->trace = malloc(STORE_TRACE_CAP * sizeof *store->trace);
    if (!store->code || !store->trace) {
        code_registry_free(store->code);
        free(store->trace);
        free(store);
        return NULL;
    }
    return store;
}

bool store_adopt(wj_store *store, void *obj, void (*free_fn)(void *obj))
{
    if (store->nobjects == store->cap) {
        size_t cap = store->cap ? 2 * store->cap : 16;
        store_object *objects = realloc(store->objects, cap * sizeof *objects);
        if (!objects)
            return false;
        store->objects = objects;
        store->cap = cap;
    }
    store->objects[store->nobjects++] = (store_object){obj, free_fn};
    return true;
}

void wj_store_delete(wj_store *store)
{
    if (!store)
        return;
    /* Newest first: instances go before the host objects they imported,
     * though nothing is used while being freed. */
    for (size_t i = store->nobjects; i-- > 0;)
        store->objects[i].free(store->objects[i].obj);
    free(store->objects);
    wj_trap_delete(store->pending_trap);
    code_registry_free(store->code);
    free(store->trace);
    free(store);
}
