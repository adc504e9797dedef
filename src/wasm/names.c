/*
 * The "name" custom section: module, function and local names. Custom
 * sections never make a module invalid, so a malformed name section is
 * dropped whole rather than reported.
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "reader.h"

enum { NAME_MODULE = 0, NAME_FUNCTION = 1, NAME_LOCAL = 2 };

static bool read_name(wasm_reader *r, wasm_arena *arena, wasm_name *out)
{
    const uint8_t *data;
    uint32_t len;
    if (!wasm_read_name(r, &data, &len))
        return false;
    char *s = wasm_arena_alloc(arena, (size_t)len + 1, 1);
    if (!s)
        return false;
    memcpy(s, data, len);
    *out = (wasm_name){s, len};
    return true;
}

/* A name map: indices must be strictly increasing. */
static bool read_func_names(wasm_reader *r, wasm_module *m)
{
    uint32_t n;
    if (!wasm_read_len(r, &n))
        return false;
    wasm_func_name *names = wasm_arena_alloc(&m->arena, n ? n : 1, sizeof *names);
    if (!names)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!wasm_read_u32(r, &names[i].func) || !read_name(r, &m->arena, &names[i].name))
            return false;
        if (i > 0 && names[i].func <= names[i - 1].func)
            return false;
    }
    m->func_names = names;
    m->nfunc_names = n;
    return true;
}

static bool read_local_names(wasm_reader *r, wasm_module *m)
{
    uint32_t nfuncs, total = 0, cap = 0;
    wasm_local_name *names = NULL;
    if (!wasm_read_len(r, &nfuncs))
        return false;
    uint32_t prev_func = 0;
    for (uint32_t i = 0; i < nfuncs; i++) {
        uint32_t func, nlocals;
        if (!wasm_read_u32(r, &func) || !wasm_read_len(r, &nlocals))
            return false;
        if (i > 0 && func <= prev_func)
            return false;
        prev_func = func;
        if (nlocals > UINT32_MAX - total)
            return false;
        if (total + nlocals > cap) {
            /* Grow in the arena; the old copy stays until the module goes. */
            uint32_t ncap = cap * 2 > total + nlocals ? cap * 2 : total + nlocals;
            wasm_local_name *grown = wasm_arena_alloc(&m->arena, ncap, sizeof *grown);
            if (!grown)
                return false;
            if (total)
                memcpy(grown, names, total * sizeof *names);
            names = grown;
            cap = ncap;
        }
        uint32_t prev_local = 0;
        for (uint32_t k = 0; k < nlocals; k++) {
            wasm_local_name *ln = &names[total++];
            ln->func = func;
            if (!wasm_read_u32(r, &ln->local) || !read_name(r, &m->arena, &ln->name))
                return false;
            if (k > 0 && ln->local <= prev_local)
                return false;
            prev_local = ln->local;
        }
    }
    m->local_names = names;
    m->nlocal_names = total;
    return true;
}

static bool read_names(wasm_reader *r, wasm_module *m)
{
    int last = -1;
    while (!wasm_reader_eof(r)) {
        uint8_t id;
        uint32_t size;
        if (!wasm_read_u8(r, &id) || !wasm_read_len(r, &size))
            return false;
        if ((int)id <= last && id <= NAME_LOCAL)
            return false; /* out of order or repeated */
        const uint8_t *end = r->p + size, *outer = r->end;
        if (end > outer)
            return false;
        r->end = end;
        bool ok = true;
        switch (id) {
        case NAME_MODULE:
            ok = read_name(r, &m->arena, &m->module_name) && (m->has_module_name = true);
            break;
        case NAME_FUNCTION:
            ok = read_func_names(r, m);
            break;
        case NAME_LOCAL:
            ok = read_local_names(r, m);
            break;
        default: /* other subsections (labels, types, ...) are not used */
            r->p = end;
        }
        if (!ok || r->p != end)
            return false;
        r->end = outer;
        if (id <= NAME_LOCAL)
            last = id;
    }
    return true;
}

void wasm_decode_names(wasm_module *m, const uint8_t *start, const uint8_t *end)
{
    wasm_error ignored = {0};
    wasm_reader r = {.base = m->bytes, .p = start, .end = end, .in_section = true, .err = &ignored};
    if (!read_names(&r, m)) {
        m->has_module_name = false;
        m->nfunc_names = 0;
        m->nlocal_names = 0;
    }
}

const wasm_name *wasm_func_name_of(const wasm_module *m, uint32_t func)
{
    uint32_t lo = 0, hi = m->nfunc_names;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->func_names[mid].func < func)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nfunc_names && m->func_names[lo].func == func ? &m->func_names[lo].name : NULL;
}

const wasm_name *wasm_local_name_of(const wasm_module *m, uint32_t func, uint32_t local)
{
    uint32_t lo = 0, hi = m->nlocal_names;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const wasm_local_name *n = &m->local_names[mid];
        if (n->func < func || (n->func == func && n->local < local))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->nlocal_names && m->local_names[lo].func == func &&
        m->local_names[lo].local == local)
        return &m->local_names[lo].name;
    return NULL;
}
