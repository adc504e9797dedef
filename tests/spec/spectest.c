/* The "spectest" host module of the spec tests, with the values of the
 * reference interpreter (the globals' floats are 666.6, not wabt's 666.0:
 * multi-memory/imports.wast checks them). */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

struct spectest_entry {
    const char *name;
    wj_extern value;
};

enum { SPECTEST_ENTRIES = 13 };

struct spectest {
    struct spectest_entry entries[SPECTEST_ENTRIES];
    size_t count;
};

/* The print functions print nothing: the tests only import and call them. */
static wj_trap *print_nothing(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)env, (void)caller, (void)args, (void)results;
    return NULL;
}

static void add(struct spectest *s, const char *name, wj_extern value)
{
    s->entries[s->count++] = (struct spectest_entry){.name = name, .value = value};
}

static bool add_functions(struct spectest *s, wj_store *store, char **why)
{
    static const uint8_t i32[] = {WJ_I32}, i64[] = {WJ_I64}, f32[] = {WJ_F32},
                         f64[] = {WJ_F64}, i32_f32[] = {WJ_I32, WJ_F32},
                         f64_f64[] = {WJ_F64, WJ_F64};
    static const struct {
        const char *name;
        const uint8_t *params;
        uint32_t count;
    } functions[] = {
        {"print", NULL, 0},           {"print_i32", i32, 1},
        {"print_i64", i64, 1},        {"print_f32", f32, 1},
        {"print_f64", f64, 1},        {"print_i32_f32", i32_f32, 2},
        {"print_f64_f64", f64_f64, 2},
    };
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        wj_functype type = {.param_count = functions[i].count, .params = functions[i].params};
        wj_func *func = wj_func_new(store, &type, print_nothing, NULL, NULL);
        if (!func) {
            if (asprintf(why, "wj_func_new failed for spectest %s", functions[i].name) < 0)
                out_of_memory();
            return false;
        }
        add(s, functions[i].name, (wj_extern){.kind = WJ_EXTERN_FUNC, .of.func = func});
    }
    return true;
}

/* Takes err: "<what>: <message>" into *why. */
static bool creation_failed(wj_error *err, const char *what, char **why)
{
    if (asprintf(why, "%s: %s", what, err ? wj_error_message(err) : "no object and no error") < 0)
        out_of_memory();
    wj_error_delete(err);
    return false;
}

static bool add_globals(struct spectest *s, wj_store *store, char **why)
{
    static const struct {
        const char *name;
        wj_val value;
    } globals[] = {
        {"global_i32", {.kind = WJ_I32, .of.i32 = 666}},
        {"global_i64", {.kind = WJ_I64, .of.i64 = 666}},
        {"global_f32", {.kind = WJ_F32, .of.f32 = 666.6f}},
        {"global_f64", {.kind = WJ_F64, .of.f64 = 666.6}},
    };
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        wj_globaltype type = {.type = globals[i].value.kind, .mutable_ = false};
        wj_global *global = NULL;
        wj_error *err = wj_global_new(store, &type, &globals[i].value, &global);
        if (err || !global)
            return creation_failed(err, globals[i].name, why);
        add(s, globals[i].name, (wj_extern){.kind = WJ_EXTERN_GLOBAL, .of.global = global});
    }
    return true;
}

static bool add_table_and_memory(struct spectest *s, wj_store *store, char **why)
{
    wj_tabletype table_type = {.elem = WJ_FUNCREF,
                               .limits = {.min = 10, .max = 20, .has_max = true}};
    wj_val null_func = {.kind = WJ_FUNCREF, .of.funcref = NULL};
    wj_table *table = NULL;
    wj_error *err = wj_table_new(store, &table_type, &null_func, &table);
    if (err || !table)
        return creation_failed(err, "spectest table", why);
    add(s, "table", (wj_extern){.kind = WJ_EXTERN_TABLE, .of.table = table});

    wj_limits memory_limits = {.min = 1, .max = 2, .has_max = true};
    wj_memory *memory = NULL;
    err = wj_memory_new(store, &memory_limits, &memory);
    if (err || !memory)
        return creation_failed(err, "spectest memory", why);
    add(s, "memory", (wj_extern){.kind = WJ_EXTERN_MEMORY, .of.memory = memory});
    return true;
}

struct spectest *spectest_new(wj_store *store, char **why)
{
    struct spectest *s = calloc(1, sizeof *s);
    if (!s)
        out_of_memory();
    if (add_functions(s, store, why) && add_globals(s, store, why) &&
        add_table_and_memory(s, store, why))
        return s;
    free(s); /* what was created belongs to the store */
    return NULL;
}

void spectest_delete(struct spectest *spectest)
{
    free(spectest);
}

bool spectest_export(const struct spectest *spectest, const char *name, size_t len,
                     wj_extern *out)
{
    for (size_t i = 0; i < spectest->count; i++) {
        const char *entry = spectest->entries[i].name;
        if (strlen(entry) == len && memcmp(entry, name, len) == 0) {
            *out = spectest->entries[i].value;
            return true;
        }
    }
    return false;
}
