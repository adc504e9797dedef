/*
 * The binary decoder: sections, their entries and module-level validation
 * (index spaces, limits, constant expressions, exports, start). Function
 * bodies are only located here; validate.c decodes and checks them.
 *
 * Malformed input stops decoding at once. Invalid (well-formed but wrong)
 * input is recorded as a deferred error and decoding goes on, because the
 * spec reports a malformed module as malformed even when an earlier part of
 * it is also invalid.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "reader.h"
#include "opcodes.h"

/* Section ids and the order they must come in (custom sections aside). */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATA_COUNT = 12,
};

static const uint8_t section_order[] = {
    [SEC_TYPE] = 1,    [SEC_IMPORT] = 2,  [SEC_FUNCTION] = 3, [SEC_TABLE] = 4,
    [SEC_MEMORY] = 5,  [SEC_GLOBAL] = 6,  [SEC_EXPORT] = 7,   [SEC_START] = 8,
    [SEC_ELEMENT] = 9, [SEC_DATA_COUNT] = 10, [SEC_CODE] = 11, [SEC_DATA] = 12,
};

static const char *const section_names[] = {
    "custom", "type",    "import", "function", "table", "memory",     "global",
    "export", "start",   "element", "code",    "data",  "data count",
};

/* 2^48 pages of 64 KiB fill the 64-bit address space. */
#define MAX_PAGES_32 65536ull
#define MAX_PAGES_64 (1ull << 48)

typedef struct decoder {
    wasm_reader r;
    wasm_module *m;
    wasm_error *err;      /* malformed: stops decoding */
    wasm_error deferred;  /* first invalid error: reported if nothing is malformed */
    uint32_t nfunc_decls; /* from the function section */
    uint32_t ncode;       /* code entries read into funcs */
    uint32_t ncode_declared;
    const uint8_t *section_end; /* of the section being decoded */
} decoder;

static bool oom(decoder *d)
{
    return wasm_fail(d->err, WASM_ERR_RESOURCE, wasm_reader_pos(&d->r), "out of memory");
}

/* Allocates room for a vector of `count` entries of at least one byte each:
 * a count beyond the remaining bytes is certain to run out of input first,
 * so never allocate more than what remains. */
static void *alloc_vec(decoder *d, uint32_t count, size_t size, uint32_t *cap)
{
    size_t remaining = (size_t)(d->r.end - d->r.p);
    *cap = count <= remaining ? count : (uint32_t)remaining;
    void *p = wasm_arena_alloc(&d->m->arena, *cap ? *cap : 1, size);
    if (!p)
        oom(d);
    return p;
}

/* Reads one entry of a vector into `entry`. */
typedef bool read_entry_fn(decoder *d, void *entry);

/* A vector: a count, then that many entries of `size` bytes each, read by
 * `read` into a new arena array. */
static bool read_vec(decoder *d, size_t size, read_entry_fn *read, void **items, uint32_t *count)
{
    uint32_t n, cap;
    if (!wasm_read_u32(&d->r, &n))
        return false;
    char *v = alloc_vec(d, n, size, &cap);
    if (!v)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap) /* cannot happen: the input runs out first */
            return wasm_reader_fail_eof(&d->r);
        if (!read(d, v + i * size))
            return false;
    }
    *items = v;
    *count = n;
    return true;
}

static void invalid(decoder *d, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void invalid(decoder *d, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wasm_vfail(&d->deferred, WASM_ERR_INVALID, offset, fmt, ap);
    va_end(ap);
}

static bool malformed(decoder *d, uint64_t offset, const char *msg)
{
    return wasm_reader_fail(&d->r, offset, "%s", msg);
}

/* A count within the spec's bounds but over an implementation limit. */
static bool over_limit(decoder *d, uint64_t offset, const char *what, uint64_t n, uint32_t limit)
{
    return wasm_fail(d->err, WASM_ERR_RESOURCE, offset,
                     "too many %s: %llu, the limit is %u per function", what,
                     (unsigned long long)n, limit);
}

static bool copy_name(decoder *d, wasm_name *out)
{
    const uint8_t *data;
    uint32_t len;
    if (!wasm_read_name(&d->r, &data, &len))
        return false;
    char *s = wasm_arena_alloc(&d->m->arena, (size_t)len + 1, 1);
    if (!s)
        return oom(d);
    memcpy(s, data, len);
    out->data = s;
    out->len = len;
    return true;
}

/* ---- types -------------------------------------------------------------- */

bool wasm_is_reftype(uint8_t t)
{
    return t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

bool wasm_is_valtype(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128 ||
           wasm_is_reftype(t);
}

/* A type byte of a proposal we do not implement fails as unsupported,
 * naming it; other unknown bytes are malformed. */
static bool unknown_type(decoder *d, uint64_t at, uint8_t byte, const char *malformed_msg)
{
    const char *proposal = NULL;
    switch (byte) {
    case 0x63: /* (ref null ht) */
    case 0x64: /* (ref ht) */
        proposal = "typed function references";
        break;
    case 0x6a: /* arrayref */
    case 0x6b: /* structref */
    case 0x6c: /* i31ref */
    case 0x6d: /* eqref */
    case 0x6e: /* anyref */
    case 0x71: /* nullref */
    case 0x72: /* nullexternref */
    case 0x73: /* nullfuncref */
        proposal = "GC proposal";
        break;
    case 0x69: /* exnref */
    case 0x74: /* nullexnref */
        proposal = "exception handling";
        break;
    }
    if (proposal)
        return wasm_fail(d->err, WASM_ERR_UNSUPPORTED, at, "unsupported: %s", proposal);
    return malformed(d, at, malformed_msg);
}

static bool read_valtype(decoder *d, void *entry)
{
    uint8_t *out = entry;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u8(&d->r, out))
        return false;
    switch (*out) {
    case WASM_I32:
    case WASM_I64:
    case WASM_F32:
    case WASM_F64:
    case WASM_FUNCREF:
    case WASM_EXTERNREF:
        return true;
    case WASM_V128:
        if (!(d->m->features & WASM_FEATURE_SIMD))
            return wasm_fail(d->err, WASM_ERR_UNSUPPORTED, at, "unsupported: SIMD (v128) is disabled");
        return true;
    }
    return unknown_type(d, at, *out,
                        *out & 0x80 ? "integer representation too long" : "malformed value type");
}

static bool read_reftype(decoder *d, uint8_t *out)
{
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u8(&d->r, out))
        return false;
    if (!wasm_is_reftype(*out))
        return unknown_type(d, at, *out, "malformed reference type");
    return true;
}

static bool read_resulttype(decoder *d, uint32_t *count, const uint8_t **types)
{
    return read_vec(d, 1, read_valtype, (void **)types, count);
}

static bool read_functype(decoder *d, void *entry)
{
    wasm_functype *t = entry;
    uint64_t at = wasm_reader_pos(&d->r);
    uint8_t form;
    if (!wasm_read_u8(&d->r, &form))
        return false;
    switch (form) {
    case 0x60:
        break;
    case 0x4e: /* rec */
    case 0x4f: /* sub final */
    case 0x50: /* sub */
    case 0x5e: /* array */
    case 0x5f: /* struct */
        return wasm_fail(d->err, WASM_ERR_UNSUPPORTED, at, "unsupported: GC proposal");
    default:
        return malformed(d, at, form & 0x80 ? "integer representation too long"
                                            : "malformed function type");
    }
    uint64_t params_at = wasm_reader_pos(&d->r);
    if (!read_resulttype(d, &t->nparams, &t->params))
        return false;
    if (t->nparams > WASM_MAX_FUNCTION_PARAMS)
        return over_limit(d, params_at, "parameters", t->nparams, WASM_MAX_FUNCTION_PARAMS);
    uint64_t results_at = wasm_reader_pos(&d->r);
    if (!read_resulttype(d, &t->nresults, &t->results))
        return false;
    if (t->nresults > WASM_MAX_FUNCTION_RESULTS)
        return over_limit(d, results_at, "results", t->nresults, WASM_MAX_FUNCTION_RESULTS);
    return true;
}

static bool decode_types(decoder *d)
{
    return read_vec(d, sizeof(wasm_functype), read_functype, (void **)&d->m->types,
                    &d->m->ntypes);
}

/* ---- limits, tables, memories, globals ----------------------------------- */

static bool read_limits(decoder *d, wasm_limits *l, bool memory)
{
    uint64_t at = wasm_reader_pos(&d->r);
    uint8_t flags;
    if (!wasm_read_u8(&d->r, &flags))
        return false;
    bool memory64 = d->m->features & WASM_FEATURE_MEMORY64;
    if (memory64) {
        /* The proposal reads the flags as a byte, and memory sizes as u64
         * whatever their index type. */
        if (flags & ~(memory ? 0x05u : 0x01u))
            return malformed(d, at, "malformed limits flags");
    } else if (flags > 1) {
        /* Without memory64 the flags are a one-bit LEB128 number. */
        if (memory && (flags == 0x04 || flags == 0x05))
            return malformed(d, at, "integer too large: 64-bit memory limits need the "
                                    "memory64 feature");
        return malformed(d, at, flags & 0x80 ? "integer representation too long"
                                             : "integer too large");
    }
    *l = (wasm_limits){.has_max = flags & 0x01, .is64 = flags & 0x04};
    if (memory && memory64) {
        if (!wasm_read_u64(&d->r, &l->min) || (l->has_max && !wasm_read_u64(&d->r, &l->max)))
            return false;
    } else {
        uint32_t min, max = 0;
        if (!wasm_read_u32(&d->r, &min) || (l->has_max && !wasm_read_u32(&d->r, &max)))
            return false;
        l->min = min;
        l->max = max;
    }
    if (l->has_max && l->min > l->max)
        invalid(d, at, "size minimum must not be greater than maximum");
    return true;
}

static bool read_memtype(decoder *d, void *entry)
{
    wasm_limits *l = entry;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!read_limits(d, l, true))
        return false;
    if (l->is64) {
        if (l->min > MAX_PAGES_64 || (l->has_max && l->max > MAX_PAGES_64))
            invalid(d, at, "memory size must be at most 2^48 pages (16 EiB)");
    } else if (l->min > MAX_PAGES_32 || (l->has_max && l->max > MAX_PAGES_32)) {
        invalid(d, at, "memory size must be at most 65536 pages (4GiB)");
    }
    return true;
}

static bool read_tabletype(decoder *d, void *entry)
{
    wasm_tabletype *t = entry;
    return read_reftype(d, &t->elem) && read_limits(d, &t->limits, false);
}

static bool read_globaltype(decoder *d, void *entry)
{
    wasm_globaltype *g = entry;
    if (!read_valtype(d, &g->type))
        return false;
    uint64_t at = wasm_reader_pos(&d->r);
    uint8_t mut;
    if (!wasm_read_u8(&d->r, &mut))
        return false;
    if (mut > 1)
        return malformed(d, at, "malformed mutability");
    g->mut = mut;
    return true;
}

/* Multiple memories need the multi-memory proposal. */
static void check_memory_count(decoder *d, uint64_t at)
{
    if (d->m->nmemories > 1 && !(d->m->features & WASM_FEATURE_MULTI_MEMORY))
        invalid(d, at, "multiple memories");
}

/* ---- imports ------------------------------------------------------------- */

/* Grows an index space (imports first, then definitions) in the arena. */
static bool reserve(decoder *d, void **arr, uint32_t count, uint32_t extra, size_t size)
{
    if (extra > UINT32_MAX - count)
        return malformed(d, wasm_reader_pos(&d->r), "too many definitions");
    void *n = wasm_arena_alloc(&d->m->arena, (size_t)count + extra, size);
    if (!n)
        return oom(d);
    if (count)
        memcpy(n, *arr, (size_t)count * size);
    *arr = n;
    return true;
}

/* An import's type, read before the index spaces can be sized. */
typedef struct import_type {
    union {
        uint32_t func;
        wasm_tabletype table;
        wasm_limits memory;
        wasm_globaltype global;
    } u;
} import_type;

static bool read_import(decoder *d, wasm_import *imp, import_type *type)
{
    imp->offset = (uint32_t)wasm_reader_pos(&d->r);
    if (!copy_name(d, &imp->module) || !copy_name(d, &imp->name))
        return false;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u8(&d->r, &imp->kind))
        return false;
    switch (imp->kind) {
    case WASM_EXTERN_FUNC: {
        uint64_t tat = wasm_reader_pos(&d->r);
        if (!wasm_read_u32(&d->r, &type->u.func))
            return false;
        if (type->u.func >= d->m->ntypes) {
            invalid(d, tat, "unknown type %u", type->u.func);
            type->u.func = 0;
        }
        return true;
    }
    case WASM_EXTERN_TABLE:
        return read_tabletype(d, &type->u.table);
    case WASM_EXTERN_MEMORY:
        return read_memtype(d, &type->u.memory);
    case WASM_EXTERN_GLOBAL:
        return read_globaltype(d, &type->u.global);
    }
    return malformed(d, at, "malformed import kind");
}

/* Appends a section's definitions to an index space that imports began. */
static bool append_space(decoder *d, void **space, uint32_t *count, const void *items, uint32_t n,
                         size_t size)
{
    if (!reserve(d, space, *count, n, size))
        return false;
    memcpy((char *)*space + (size_t)*count * size, items, (size_t)n * size);
    *count += n;
    return true;
}

static bool decode_imports(decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n, cap, counts[4] = {0};
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u32(&d->r, &n))
        return false;
    wasm_import *imports = alloc_vec(d, n, sizeof *imports, &cap);
    import_type *types = imports ? malloc((cap ? cap : 1) * sizeof *types) : NULL;
    if (!types)
        return imports ? oom(d) : false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
        if (i == cap)
            ok = wasm_reader_fail_eof(&d->r);
        else if ((ok = read_import(d, &imports[i], &types[i])))
            imports[i].index = counts[imports[i].kind]++;
    }
    ok = ok &&
         reserve(d, (void **)&m->funcs, 0, counts[WASM_EXTERN_FUNC], sizeof *m->funcs) &&
         reserve(d, (void **)&m->tables, 0, counts[WASM_EXTERN_TABLE], sizeof *m->tables) &&
         reserve(d, (void **)&m->memories, 0, counts[WASM_EXTERN_MEMORY], sizeof *m->memories) &&
         reserve(d, (void **)&m->globals, 0, counts[WASM_EXTERN_GLOBAL], sizeof *m->globals);
    for (uint32_t i = 0; ok && i < n; i++) {
        uint32_t k = imports[i].index;
        switch (imports[i].kind) {
        case WASM_EXTERN_FUNC: m->funcs[k].type = types[i].u.func; break;
        case WASM_EXTERN_TABLE: m->tables[k] = types[i].u.table; break;
        case WASM_EXTERN_MEMORY: m->memories[k] = types[i].u.memory; break;
        case WASM_EXTERN_GLOBAL:
            m->globals[k].type = types[i].u.global;
            m->globals[k].at = imports[i].offset;
            break;
        }
    }
    free(types);
    if (!ok)
        return false;
    m->nimports = n;
    m->imports = imports;
    m->nfuncs = m->nfunc_imports = counts[WASM_EXTERN_FUNC];
    m->ntables = m->ntable_imports = counts[WASM_EXTERN_TABLE];
    m->nmemories = m->nmemory_imports = counts[WASM_EXTERN_MEMORY];
    m->nglobals = m->nglobal_imports = counts[WASM_EXTERN_GLOBAL];
    check_memory_count(d, at);
    return true;
}

/* ---- function, table, memory sections ------------------------------------ */

static bool read_func_decl(decoder *d, void *entry)
{
    wasm_func *f = entry;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u32(&d->r, &f->type))
        return false;
    if (f->type >= d->m->ntypes) {
        invalid(d, at, "unknown type %u", f->type);
        f->type = 0;
    }
    return true;
}

static bool decode_functions(decoder *d)
{
    wasm_module *m = d->m;
    void *decls;
    return read_vec(d, sizeof(wasm_func), read_func_decl, &decls, &d->nfunc_decls) &&
           append_space(d, (void **)&m->funcs, &m->nfuncs, decls, d->nfunc_decls,
                        sizeof(wasm_func));
}

static bool decode_tables(decoder *d)
{
    wasm_module *m = d->m;
    void *tables;
    uint32_t n;
    return read_vec(d, sizeof(wasm_tabletype), read_tabletype, &tables, &n) &&
           append_space(d, (void **)&m->tables, &m->ntables, tables, n, sizeof(wasm_tabletype));
}

static bool decode_memories(decoder *d)
{
    wasm_module *m = d->m;
    uint64_t at = wasm_reader_pos(&d->r);
    void *memories;
    uint32_t n;
    if (!read_vec(d, sizeof(wasm_limits), read_memtype, &memories, &n) ||
        !append_space(d, (void **)&m->memories, &m->nmemories, memories, n, sizeof(wasm_limits)))
        return false;
    check_memory_count(d, at);
    return true;
}

/* ---- constant expressions ------------------------------------------------ */

static void declare_func(decoder *d, uint32_t func)
{
    if (func < d->m->nfuncs)
        d->m->declared_funcs[func / 8] |= (uint8_t)(1u << (func % 8));
}

/*
 * A constant expression of type `want`: one constant instruction and `end`.
 * `globals_limit` is how many globals it may read: in Wasm 2.0, only
 * imported ones. Non-constant instructions are invalid ("constant
 * expression required"); the wrong number or type of values is a "type
 * mismatch". Instructions with no immediates are stepped over so a later
 * malformed byte is still found.
 */
static bool read_const(decoder *d, uint8_t want, uint32_t globals_limit, wasm_const *out)
{
    wasm_module *m = d->m;
    uint64_t start = wasm_reader_pos(&d->r);
    unsigned values = 0;
    uint8_t type = WASM_ANY;
    out->offset = (uint32_t)start;
    for (;;) {
        uint64_t at = wasm_reader_pos(&d->r);
        uint8_t op;
        if (!wasm_read_u8(&d->r, &op))
            return false;
        wasm_const c = {.offset = (uint32_t)start};
        switch (op) {
        case 0x0b: /* end */
            if (values != 1 || (type != want && want != WASM_ANY))
                invalid(d, at, "type mismatch");
            return true;
        case 0x41: {
            int32_t v;
            if (!wasm_read_s32(&d->r, &v))
                return false;
            c.kind = WASM_CONST_I32, c.u.i32 = (uint32_t)v, type = WASM_I32;
            break;
        }
        case 0x42: {
            int64_t v;
            if (!wasm_read_s64(&d->r, &v))
                return false;
            c.kind = WASM_CONST_I64, c.u.i64 = (uint64_t)v, type = WASM_I64;
            break;
        }
        case 0x43:
            if (!wasm_read_f32(&d->r, &c.u.f32))
                return false;
            c.kind = WASM_CONST_F32, type = WASM_F32;
            break;
        case 0x44:
            if (!wasm_read_f64(&d->r, &c.u.f64))
                return false;
            c.kind = WASM_CONST_F64, type = WASM_F64;
            break;
        case 0xd0: /* ref.null t */
            if (!read_reftype(d, &c.type))
                return false;
            c.kind = WASM_CONST_REF_NULL, type = c.type;
            break;
        case 0xd2: { /* ref.func x */
            uint64_t iat = wasm_reader_pos(&d->r);
            if (!wasm_read_u32(&d->r, &c.u.index))
                return false;
            if (c.u.index >= m->nfuncs)
                invalid(d, iat, "unknown function %u", c.u.index);
            else
                declare_func(d, c.u.index);
            c.kind = WASM_CONST_REF_FUNC, type = WASM_FUNCREF;
            break;
        }
        case 0x23: { /* global.get x */
            uint64_t iat = wasm_reader_pos(&d->r);
            if (!wasm_read_u32(&d->r, &c.u.index))
                return false;
            c.kind = WASM_CONST_GLOBAL_GET, type = WASM_ANY;
            if (c.u.index >= globals_limit || c.u.index >= m->nglobals) {
                invalid(d, iat, "unknown global %u", c.u.index);
            } else {
                type = m->globals[c.u.index].type.type;
                if (m->globals[c.u.index].type.mut)
                    invalid(d, at, "constant expression required");
            }
            break;
        }
        case 0xfd: { /* v128.const */
            uint32_t sub;
            if (!wasm_read_u32(&d->r, &sub))
                return false;
            if (sub != 12 || !(m->features & WASM_FEATURE_SIMD)) {
                /* Step back over the sub-opcode and skip the instruction. */
                d->r.p = d->r.base + at + 1;
                invalid(d, at, "constant expression required");
                if (!wasm_skip_immediates(&d->r, op, m->features))
                    return false;
                continue;
            }
            const uint8_t *b;
            if (!wasm_read_bytes(&d->r, 16, &b))
                return false;
            memcpy(c.u.v128, b, 16);
            c.kind = WASM_CONST_V128, type = WASM_V128;
            break;
        }
        default:
            if (!wasm_opcode_known(op))
                return malformed(d, at, "illegal opcode");
            invalid(d, at, "constant expression required");
            if (!wasm_skip_immediates(&d->r, op, m->features))
                return false;
            continue;
        }
        if (values++ == 0)
            *out = c;
    }
}

/* ---- globals, exports, start ----------------------------------------------- */

static bool read_global(decoder *d, void *entry)
{
    wasm_global *g = entry;
    g->at = (uint32_t)wasm_reader_pos(&d->r);
    return read_globaltype(d, &g->type) &&
           read_const(d, g->type.type, d->m->nglobal_imports, &g->init);
}

static bool decode_globals(decoder *d)
{
    wasm_module *m = d->m;
    void *globals;
    uint32_t n;
    return read_vec(d, sizeof(wasm_global), read_global, &globals, &n) &&
           append_space(d, (void **)&m->globals, &m->nglobals, globals, n, sizeof(wasm_global));
}

static uint32_t index_space_size(const wasm_module *m, uint8_t kind)
{
    switch (kind) {
    case WASM_EXTERN_FUNC: return m->nfuncs;
    case WASM_EXTERN_TABLE: return m->ntables;
    case WASM_EXTERN_MEMORY: return m->nmemories;
    default: return m->nglobals;
    }
}

static const char *const extern_kind_names[] = {"function", "table", "memory", "global"};

static int compare_names(const void *a, const void *b)
{
    const wasm_export *x = *(const wasm_export *const *)a, *y = *(const wasm_export *const *)b;
    uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.data, y->name.data, n);
    return c ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static void check_unique_exports(decoder *d, uint64_t at)
{
    wasm_module *m = d->m;
    if (m->nexports < 2)
        return;
    const wasm_export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted) {
        oom(d);
        return;
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, compare_names);
    for (uint32_t i = 1; i < m->nexports; i++)
        if (compare_names(&sorted[i - 1], &sorted[i]) == 0) {
            invalid(d, at, "duplicate export name \"%s\"", sorted[i]->name.data);
            break;
        }
    free(sorted);
}

static bool read_export(decoder *d, void *entry)
{
    wasm_export *e = entry;
    if (!copy_name(d, &e->name))
        return false;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u8(&d->r, &e->kind))
        return false;
    if (e->kind > WASM_EXTERN_GLOBAL)
        return malformed(d, at, "malformed export kind");
    at = wasm_reader_pos(&d->r);
    if (!wasm_read_u32(&d->r, &e->index))
        return false;
    if (e->index >= index_space_size(d->m, e->kind))
        invalid(d, at, "unknown %s %u", extern_kind_names[e->kind], e->index);
    else if (e->kind == WASM_EXTERN_FUNC)
        declare_func(d, e->index);
    return true;
}

static bool decode_exports(decoder *d)
{
    uint64_t start = wasm_reader_pos(&d->r);
    if (!read_vec(d, sizeof(wasm_export), read_export, (void **)&d->m->exports, &d->m->nexports))
        return false;
    check_unique_exports(d, start);
    return true;
}

static bool decode_start(decoder *d)
{
    wasm_module *m = d->m;
    uint64_t at = wasm_reader_pos(&d->r);
    if (!wasm_read_u32(&d->r, &m->start))
        return false;
    m->has_start = true;
    if (m->start >= m->nfuncs)
        invalid(d, at, "unknown function %u", m->start);
    else if (m->funcs[m->start].type >= m->ntypes) /* already reported */
        ;
    else if (wasm_func_type(m, m->start)->nparams || wasm_func_type(m, m->start)->nresults)
        invalid(d, at, "start function must take no parameters and return nothing");
    return true;
}

/* ---- element and data segments -------------------------------------------- */

static bool check_table(decoder *d, uint64_t at, uint32_t table)
{
    if (table < d->m->ntables)
        return true;
    invalid(d, at, "unknown table %u", table);
    return false;
}

/*
 * Element segment flags (bit 0: passive or declarative, bit 1: explicit
 * table index or declarative, bit 2: expressions instead of function
 * indices).
 */
static bool read_elem(decoder *d, void *entry)
{
    wasm_elem *e = entry;
    wasm_module *m = d->m;
    e->pos = (uint32_t)wasm_reader_pos(&d->r);
    uint32_t flags;
    if (!wasm_read_u32(&d->r, &flags))
        return false;
    if (flags > 7)
        return malformed(d, e->pos, "malformed elements segment kind");
    bool exprs = flags & 4;
    e->mode = !(flags & 1) ? WASM_SEG_ACTIVE : (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
    e->type = WASM_FUNCREF;
    if (e->mode == WASM_SEG_ACTIVE) {
        uint64_t tat = wasm_reader_pos(&d->r);
        if ((flags & 2) && !wasm_read_u32(&d->r, &e->table))
            return false;
        bool table_ok = check_table(d, tat, e->table);
        if (!read_const(d, WASM_I32, m->nglobal_imports, &e->offset))
            return false;
        if (flags & 3) { /* explicit table index: an element kind or type follows */
            if (exprs) {
                if (!read_reftype(d, &e->type))
                    return false;
            } else {
                uint64_t kat = wasm_reader_pos(&d->r);
                uint8_t kind;
                if (!wasm_read_u8(&d->r, &kind))
                    return false;
                if (kind != 0x00)
                    return malformed(d, kat, "malformed elements segment kind");
            }
        }
        if (table_ok && m->tables[e->table].elem != e->type)
            invalid(d, tat, "type mismatch");
    } else if (exprs) {
        if (!read_reftype(d, &e->type))
            return false;
    } else {
        uint64_t kat = wasm_reader_pos(&d->r);
        uint8_t kind;
        if (!wasm_read_u8(&d->r, &kind))
            return false;
        if (kind != 0x00)
            return malformed(d, kat, "malformed elements segment kind");
    }
    uint32_t n, cap;
    if (!wasm_read_u32(&d->r, &n))
        return false;
    wasm_const *items = alloc_vec(d, n, sizeof *items, &cap);
    if (!items)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return wasm_reader_fail_eof(&d->r);
        if (exprs) {
            if (!read_const(d, e->type, m->nglobal_imports, &items[i]))
                return false;
            continue;
        }
        uint64_t at = wasm_reader_pos(&d->r);
        items[i].kind = WASM_CONST_REF_FUNC;
        items[i].offset = (uint32_t)at;
        if (!wasm_read_u32(&d->r, &items[i].u.index))
            return false;
        if (items[i].u.index >= m->nfuncs)
            invalid(d, at, "unknown function %u", items[i].u.index);
        else
            declare_func(d, items[i].u.index);
    }
    e->count = n;
    e->items = items;
    return true;
}

static bool decode_elems(decoder *d)
{
    return read_vec(d, sizeof(wasm_elem), read_elem, (void **)&d->m->elems, &d->m->nelems);
}

static bool decode_data_count(decoder *d)
{
    d->m->has_data_count = true;
    return wasm_read_u32(&d->r, &d->m->data_count);
}

static bool read_data(decoder *d, void *entry)
{
    wasm_module *m = d->m;
    wasm_data *s = entry;
    s->pos = (uint32_t)wasm_reader_pos(&d->r);
    uint32_t flags;
    if (!wasm_read_u32(&d->r, &flags))
        return false;
    if (flags > 2)
        return malformed(d, s->pos, "malformed data segment kind");
    s->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
    if (s->mode == WASM_SEG_ACTIVE) {
        uint64_t at = wasm_reader_pos(&d->r);
        if (flags == 2 && !wasm_read_u32(&d->r, &s->memory))
            return false;
        uint8_t addr = WASM_I32;
        if (s->memory >= m->nmemories)
            invalid(d, at, "unknown memory %u", s->memory);
        else if (m->memories[s->memory].is64)
            addr = WASM_I64;
        if (!read_const(d, addr, m->nglobal_imports, &s->offset))
            return false;
    }
    const uint8_t *bytes;
    if (!wasm_read_len(&d->r, &s->size) || !wasm_read_bytes(&d->r, s->size, &bytes))
        return false;
    s->bytes = (uint32_t)wasm_reader_offset(&d->r, bytes);
    return true;
}

static bool decode_datas(decoder *d)
{
    return read_vec(d, sizeof(wasm_data), read_data, (void **)&d->m->datas, &d->m->ndatas);
}

/* ---- code ------------------------------------------------------------------ */

static bool decode_code(decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_read_u32(&d->r, &n))
        return false;
    d->ncode_declared = n;
    /* A count that differs from the function section's is reported once the
     * whole module is read, as the spec does; extra entries are read into a
     * scratch slot. */
    wasm_func scratch;
    for (uint32_t i = 0; i < n; i++) {
        wasm_func *f = i < d->nfunc_decls ? &m->funcs[m->nfunc_imports + i] : &scratch;
        scratch = (wasm_func){0};
        uint32_t size, nruns, cap = 0;
        f->decl = (uint32_t)wasm_reader_pos(&d->r);
        if (!wasm_read_len(&d->r, &size))
            return false;
        const uint8_t *end = d->r.p + size;
        if (!wasm_read_u32(&d->r, &nruns))
            return false;
        /* Many functions declare no locals: they get no array. */
        wasm_local_run *runs = nruns ? alloc_vec(d, nruns, sizeof *runs, &cap) : NULL;
        if (nruns && !runs)
            return false;
        uint64_t total = 0;
        for (uint32_t k = 0; k < nruns; k++) {
            uint64_t lat = wasm_reader_pos(&d->r);
            if (k == cap)
                return wasm_reader_fail_eof(&d->r);
            if (!wasm_read_u32(&d->r, &runs[k].count))
                return false;
            total += runs[k].count;
            if (total > UINT32_MAX)
                return malformed(d, lat, "too many locals");
            runs[k].at = (uint32_t)wasm_reader_pos(&d->r);
            if (!read_valtype(d, &runs[k].type))
                return false;
        }
        /* After the whole declaration: beyond 2^32-1 is malformed first. */
        if (total > WASM_MAX_FUNCTION_LOCALS)
            return over_limit(d, f->decl, "locals", total, WASM_MAX_FUNCTION_LOCALS);
        f->nlocals = (uint32_t)total;
        f->nlocal_runs = nruns;
        f->local_runs = runs;
        f->body = (uint32_t)wasm_reader_pos(&d->r);
        f->body_end = (uint32_t)wasm_reader_offset(&d->r, end);
        if (d->r.p > end)
            return malformed(d, f->decl, "section size mismatch");
        if (!wasm_reader_skip_to(&d->r, end))
            return false;
        if (f != &scratch)
            d->ncode++;
    }
    return true;
}

/* ---- sections -------------------------------------------------------------- */

static bool decode_custom(decoder *d, wasm_section *sec)
{
    const uint8_t *data;
    uint32_t len;
    if (!wasm_read_name(&d->r, &data, &len))
        return false;
    char *s = wasm_arena_alloc(&d->m->arena, (size_t)len + 1, 1);
    if (!s)
        return oom(d);
    memcpy(s, data, len);
    sec->name = (wasm_name){s, len};
    if (d->r.p > d->section_end) /* the name runs past the section */
        return malformed(d, sec->offset, "unexpected end of section or function");
    const uint8_t *contents = d->r.p;
    /* The rest is the custom section's own business. */
    if (!wasm_reader_skip_to(&d->r, d->section_end))
        return false;
    if (len == 4 && memcmp(data, "name", 4) == 0)
        wasm_decode_names(d->m, contents, d->section_end);
    return true;
}

static bool decode_section(decoder *d, uint8_t id, wasm_section *sec)
{
    switch (id) {
    case SEC_CUSTOM: return decode_custom(d, sec);
    case SEC_TYPE: return decode_types(d);
    case SEC_IMPORT: return decode_imports(d);
    case SEC_FUNCTION: return decode_functions(d);
    case SEC_TABLE: return decode_tables(d);
    case SEC_MEMORY: return decode_memories(d);
    case SEC_GLOBAL: return decode_globals(d);
    case SEC_EXPORT: return decode_exports(d);
    case SEC_START: return decode_start(d);
    case SEC_ELEMENT: return decode_elems(d);
    case SEC_CODE: return decode_code(d);
    case SEC_DATA: return decode_datas(d);
    case SEC_DATA_COUNT: return decode_data_count(d);
    }
    return false;
}

/* Once the function index space is complete (before the first section
 * that may reference functions), size the declared-functions bitmap. */
static bool finish_function_space(decoder *d)
{
    if (d->m->declared_funcs)
        return true;
    d->m->declared_funcs = wasm_arena_alloc(&d->m->arena, (size_t)d->m->nfuncs / 8 + 1, 1);
    return d->m->declared_funcs ? true : oom(d);
}

static bool decode_header(decoder *d)
{
    static const uint8_t magic[4] = {0x00, 'a', 's', 'm'};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    const uint8_t *b;
    if (!wasm_read_bytes(&d->r, 4, &b))
        return false;
    if (memcmp(b, magic, 4) != 0)
        return malformed(d, 0, "magic header not detected");
    if (!wasm_read_bytes(&d->r, 4, &b))
        return false;
    if (memcmp(b, version, 4) != 0) {
        /* A component has layer 1 (bytes 6-7) where a core module has 0,
         * after a version of the component binary format (0x0d now, 0x0a
         * to 0x0c in its previews). */
        if (b[0] >= 0x0a && b[1] == 0 && b[2] == 1 && b[3] == 0)
            return wasm_fail(d->err, WASM_ERR_UNSUPPORTED, 4,
                             "unsupported: component model (this is a WebAssembly component, "
                             "not a core module)");
        return malformed(d, 4, "unknown binary version");
    }
    return true;
}

static bool decode_sections(decoder *d)
{
    wasm_module *m = d->m;
    unsigned last_order = 0;
    uint32_t sections_cap = 0;
    while (!wasm_reader_eof(&d->r)) {
        uint64_t at = wasm_reader_pos(&d->r);
        uint8_t id;
        uint32_t size;
        if (!wasm_read_u8(&d->r, &id))
            return false;
        if (id > SEC_DATA_COUNT)
            return malformed(d, at, "malformed section id");
        if (id != SEC_CUSTOM) {
            if (section_order[id] <= last_order)
                return malformed(d, at, "unexpected content after last section");
            last_order = section_order[id];
            if (section_order[id] > section_order[SEC_FUNCTION] && !finish_function_space(d))
                return false;
        }
        if (!wasm_read_len(&d->r, &size))
            return false;
        if (m->nsections == sections_cap) {
            uint32_t more = sections_cap ? sections_cap : 16;
            if (!reserve(d, (void **)&m->sections, m->nsections, more, sizeof *m->sections))
                return false;
            sections_cap += more;
        }
        wasm_section *sec = &m->sections[m->nsections++];
        *sec = (wasm_section){
            .id = id,
            .name = {section_names[id], (uint32_t)strlen(section_names[id])},
            .offset = (uint32_t)wasm_reader_pos(&d->r),
            .size = size,
        };
        /* Like the reference decoder, read a section's entries up to the
         * end of the module and compare with its size afterwards: an entry
         * that overruns then reads into what follows, and the error is the
         * one the spec's tests expect. Running out reads as the end of a
         * section. */
        const uint8_t *section_end = d->r.p + size;
        d->r.in_section = true;
        d->section_end = section_end;
        bool ok = decode_section(d, id, sec);
        d->r.in_section = false;
        if (!ok)
            return false;
        if (d->r.p != section_end)
            return malformed(d, sec->offset, "section size mismatch");
    }
    if (!finish_function_space(d))
        return false;
    if (d->ncode_declared != d->nfunc_decls)
        return malformed(d, wasm_reader_pos(&d->r),
                         "function and code section have inconsistent lengths");
    if (m->has_data_count && m->data_count != m->ndatas)
        return malformed(d, wasm_reader_pos(&d->r),
                         "data count and data section have inconsistent lengths");
    return true;
}

wasm_module *wasm_decode(const uint8_t *bytes, size_t size, unsigned features, wasm_error *err)
{
    wasm_arena arena = {0};
    wasm_module *m = wasm_arena_alloc(&arena, 1, sizeof *m);
    /* Lengths may imply ends up to one LEB128 (5 bytes) past the module's
     * end (see wasm_read_len); the slack keeps such pointers inside the
     * allocation. Nothing is ever read from it. */
    uint8_t *copy = m ? wasm_arena_alloc(&arena, size + 8, 1) : NULL;
    if (!copy) {
        wasm_arena_free(&arena);
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
        return NULL;
    }
    memcpy(copy, bytes, size);
    m->arena = arena;
    m->bytes = copy;
    m->size = size;
    m->features = features;

    decoder d = {
        .r = {.base = copy, .p = copy, .end = copy + size, .err = err},
        .m = m,
        .err = err,
    };
    bool ok = decode_header(&d) && decode_sections(&d);
    if (!ok && err->kind == WASM_ERR_MALFORMED && d.ncode)
        wasm_find_malformed_body(m, m->nfunc_imports, m->nfunc_imports + d.ncode, err);
    if (ok && d.deferred.kind != WASM_ERR_NONE) {
        *err = d.deferred;
        wasm_find_malformed_body(m, m->nfunc_imports, m->nfuncs, err);
        ok = false;
    }
    if (!ok) {
        wasm_module_free(m);
        return NULL;
    }
    return m;
}
