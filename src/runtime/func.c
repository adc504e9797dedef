/* Host functions and the public function API; calls are in call.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals/activation.h"

#include "engine.h"
#include "func.h"
#include "store.h"
#include "value.h"

/* A host function and its own copy of the type, in one allocation. */
typedef struct host_func {
    wj_func func; /* first: the record compiled code and users see */
    wasm_functype type;
    uint8_t types[]; /* params then results */
} host_func;

static void host_func_free(void *obj)
{
    host_func *h = obj;
    if (h->func.finalizer)
        h->func.finalizer(h->func.env);
    type_registry_release(h->func.store->engine->types, h->func.ref.type_id);
    free(h);
}

static bool valid_types(const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!valtype_known(types[i]))
            return false;
    return true;
}

wj_func *wj_func_new(wj_store *store, const wj_functype *type, wj_host_callback callback,
                     void *env, void (*finalizer)(void *env))
{
    if (!callback || !valid_types(type->params, type->param_count) ||
        !valid_types(type->results, type->result_count))
        return NULL;
    size_t n = (size_t)type->param_count + type->result_count;
    host_func *h = calloc(1, sizeof *h + n);
    if (!h)
        return NULL;
    if (type->param_count)
        memcpy(h->types, type->params, type->param_count);
    if (type->result_count)
        memcpy(h->types + type->param_count, type->results, type->result_count);
    h->type = (wasm_functype){
        .nparams = type->param_count,
        .nresults = type->result_count,
        .params = h->types,
        .results = h->types + type->param_count,
    };
    uint32_t id = type_registry_intern(store->engine->types, &h->type);
    if (id == UINT32_MAX) {
        free(h);
        return NULL;
    }
    h->func = (wj_func){
        /* Compiled code calls the trampoline with r15 = this record. */
        .ref = {.code = (const void *)wj__host_trampoline, .vmctx = &h->func, .type_id = id},
        .store = store,
        .type = &h->type,
        .callback = callback,
        .env = env,
        .finalizer = finalizer,
    };
    if (!store_adopt(store, h, host_func_free)) {
        type_registry_release(store->engine->types, id);
        free(h);
        return NULL;
    }
    return &h->func;
}

void wj_func_type(const wj_func *func, wj_functype *out)
{
    *out = (wj_functype){
        .param_count = func->type->nparams,
        .result_count = func->type->nresults,
        .params = func->type->params,
        .results = func->type->results,
    };
}

wj_instance *wj_caller_instance(const wj_caller *caller)
{
    return caller->instance;
}

wj_store *wj_caller_store(const wj_caller *caller)
{
    return caller->store;
}

static size_t describe_types(char *buf, size_t size, const uint8_t *types, uint32_t n)
{
    size_t len = 0;
    for (uint32_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
                                wj_valtype_name((wj_valtype)types[i]));
    return len;
}

void functype_describe(const wasm_functype *t, char *buf, size_t size)
{
    size_t len = 0;
    if (size < 2)
        return;
    len += (size_t)snprintf(buf, size, "(");
    if (len < size)
        len += describe_types(buf + len, size - len, t->params, t->nparams);
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, ") -> (");
    if (len < size)
        len += describe_types(buf + len, size - len, t->results, t->nresults);
    if (len < size)
        snprintf(buf + len, size - len, ")");
}
