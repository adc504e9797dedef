#include <stdio.h>
#include <string.h>

#include "error.h"
#include "extern.h"
#include "func.h"
#include "link.h"
#include "module.h"

#define DESCRIBE_SIZE 160

/* A name as it appears in the text format: printable ASCII, the rest
 * escaped as \hh; long names are cut with "...". */
static void quote_name(const wasm_name *n, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    for (uint32_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->data[i];
        if (len + 8 >= size) {
            buf[len++] = '.', buf[len++] = '.', buf[len++] = '.';
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            buf[len++] = (char)c;
        } else {
            buf[len++] = '\\';
            buf[len++] = hex[c >> 4];
            buf[len++] = hex[c & 15];
        }
    }
    buf[len] = '\0';
}

static void describe_limits(const wasm_limits *l, char *buf, size_t size)
{
    if (l->has_max)
        snprintf(buf, size, "%llu %llu", (unsigned long long)l->min, (unsigned long long)l->max);
    else
        snprintf(buf, size, "%llu", (unsigned long long)l->min);
}

static void describe_func(const wasm_functype *t, char *buf, size_t size)
{
    static const char prefix[] = "func ";
    if (size <= sizeof prefix)
        return;
    memcpy(buf, prefix, sizeof prefix - 1);
    functype_describe(t, buf + sizeof prefix - 1, size - (sizeof prefix - 1));
}

static void describe_table(uint8_t elem, const wasm_limits *l, char *buf, size_t size)
{
    char limits[48];
    describe_limits(l, limits, sizeof limits);
    snprintf(buf, size, "table %s %s", limits, wj_valtype_name((wj_valtype)elem));
}

static void describe_memory(const wasm_limits *l, char *buf, size_t size)
{
    char limits[48];
    describe_limits(l, limits, sizeof limits);
    snprintf(buf, size, "memory %s", limits);
}

static void describe_global(const wasm_globaltype *g, char *buf, size_t size)
{
    const char *type = wj_valtype_name((wj_valtype)g->type);
    if (g->mut)
        snprintf(buf, size, "global (mut %s)", type);
    else
        snprintf(buf, size, "global %s", type);
}

/* What the module expects for import i. */
static void describe_import(const wasm_module *m, const wasm_import *imp, char *buf,
                            size_t size)
{
    switch (imp->kind) {
    case WASM_EXTERN_FUNC: describe_func(wasm_func_type(m, imp->index), buf, size); break;
    case WASM_EXTERN_TABLE: {
        const wasm_tabletype *t = &m->tables[imp->index];
        describe_table(t->elem, &t->limits, buf, size);
        break;
    }
    case WASM_EXTERN_MEMORY: describe_memory(&m->memories[imp->index], buf, size); break;
    case WASM_EXTERN_GLOBAL: describe_global(&m->globals[imp->index].type, buf, size); break;
    default: snprintf(buf, size, "?"); break;
    }
}

/* What the extern given is. */
static void describe_extern(const wj_extern *e, char *buf, size_t size)
{
    switch (e->kind) {
    case WJ_EXTERN_FUNC: describe_func(e->of.func->type, buf, size); break;
    case WJ_EXTERN_TABLE: {
        wasm_limits l = table_object_limits(e->of.table);
        describe_table(e->of.table->tab->elem, &l, buf, size);
        break;
    }
    case WJ_EXTERN_MEMORY: {
        wasm_limits l = memory_object_limits(e->of.memory);
        describe_memory(&l, buf, size);
        break;
    }
    case WJ_EXTERN_GLOBAL: describe_global(&e->of.global->type, buf, size); break;
    default: snprintf(buf, size, "?"); break;
    }
}

/* Whether limits `got` (the current size as minimum) may stand in for
 * `want`. */
static bool limits_match(const wasm_limits *got, const wasm_limits *want)
{
    if (got->is64 != want->is64 || got->min < want->min)
        return false;
    return !want->has_max || (got->has_max && got->max <= want->max);
}

static bool extern_matches(const wj_module *module, const wasm_import *imp, const wj_extern *e)
{
    const wasm_module *m = module->wasm;
    if ((int)e->kind != imp->kind)
        return false;
    switch (imp->kind) {
    case WASM_EXTERN_FUNC:
        return e->of.func->ref.type_id == module->type_ids[m->funcs[imp->index].type];
    case WASM_EXTERN_TABLE: {
        const wasm_tabletype *t = &m->tables[imp->index];
        wasm_limits got = table_object_limits(e->of.table);
        return e->of.table->tab->elem == t->elem && limits_match(&got, &t->limits);
    }
    case WASM_EXTERN_MEMORY: {
        wasm_limits got = memory_object_limits(e->of.memory);
        return limits_match(&got, &m->memories[imp->index]);
    }
    case WASM_EXTERN_GLOBAL: {
        const wasm_globaltype *want = &m->globals[imp->index].type;
        return e->of.global->type.type == want->type && e->of.global->type.mut == want->mut;
    }
    }
    return false;
}

/* The store of an extern, or NULL when it has no object. */
static const wj_store *store_of(const wj_extern *e)
{
    switch (e->kind) {
    case WJ_EXTERN_FUNC: return e->of.func ? e->of.func->store : NULL;
    case WJ_EXTERN_TABLE: return e->of.table ? e->of.table->store : NULL;
    case WJ_EXTERN_MEMORY: return e->of.memory ? e->of.memory->store : NULL;
    case WJ_EXTERN_GLOBAL: return e->of.global ? e->of.global->store : NULL;
    }
    return NULL;
}

wj_error *link_check(const wj_store *store, const wj_module *module, const wj_extern *imports,
                     size_t count)
{
    const wasm_module *m = module->wasm;
    if (count != m->nimports)
        return rt_error_new(WJ_ERROR_LINK, WJ_NO_OFFSET,
                            "wrong number of imports: the module has %u, got %zu", m->nimports,
                            count);
    for (size_t i = 0; i < count; i++) {
        const wasm_import *imp = &m->imports[i];
        const wj_store *owner = store_of(&imports[i]);
        if (owner == store && extern_matches(module, imp, &imports[i]))
            continue;
        /* the names are quoted for errors only: instantiation is a hot path */
        char mod[64], name[64];
        quote_name(&imp->module, mod, sizeof mod);
        quote_name(&imp->name, name, sizeof name);
        if (!owner)
            return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                                "import %zu \"%s\" \"%s\": no object (or an unknown kind)", i,
                                mod, name);
        if (owner != store)
            return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                                "import %zu \"%s\" \"%s\" belongs to another store", i, mod,
                                name);
        char want[DESCRIBE_SIZE], got[DESCRIBE_SIZE];
        describe_import(m, imp, want, sizeof want);
        describe_extern(&imports[i], got, sizeof got);
        return rt_error_new(WJ_ERROR_LINK, WJ_NO_OFFSET,
                            "incompatible import type for import %zu \"%s\" \"%s\": "
                            "expected %s, got %s",
                            i, mod, name, want, got);
    }
    return NULL;
}
