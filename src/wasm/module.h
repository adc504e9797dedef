/*
 * The decoded representation of a module (src/wasm). Produced by
 * wasm_decode(), checked by wasm_validate(); read by the runtime and the
 * compiler. Everything hangs off one arena and is freed with the module.
 */
#ifndef WJ_WASM_MODULE_H
#define WJ_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"

/* Value types as in the binary format. WASM_ANY is the validator's
 * "unknown" type on a polymorphic stack; it never appears in a module. */
enum {
    WASM_I32 = 0x7f,
    WASM_I64 = 0x7e,
    WASM_F32 = 0x7d,
    WASM_F64 = 0x7c,
    WASM_V128 = 0x7b,
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6f,
    WASM_ANY = 0x00,
};

enum { WASM_EXTERN_FUNC, WASM_EXTERN_TABLE, WASM_EXTERN_MEMORY, WASM_EXTERN_GLOBAL };

/* Feature bits; the same values as the public wj_feature. */
enum {
    WASM_FEATURE_SIMD = 1u << 0,
    WASM_FEATURE_MEMORY64 = 1u << 1,
    WASM_FEATURE_MULTI_MEMORY = 1u << 2,
};

enum { WASM_PAGE_SIZE = 65536 };

/* Implementation limits, the JS API's (and wasmtime's): the decoder refuses
 * more, so nothing later allocates or computes per declared local, parameter
 * or result beyond them, whatever a few bytes of module declare. */
enum {
    WASM_MAX_FUNCTION_LOCALS = 50000, /* declared locals, parameters excluded */
    WASM_MAX_FUNCTION_PARAMS = 1000,
    WASM_MAX_FUNCTION_RESULTS = 1000,
};

typedef struct wasm_name {
    const char *data; /* NUL-terminated copy in the arena */
    uint32_t len;
} wasm_name;

typedef struct wasm_functype {
    uint32_t nparams;
    uint32_t nresults;
    const uint8_t *params;  /* nparams value types */
    const uint8_t *results; /* nresults value types */
} wasm_functype;

typedef struct wasm_limits {
    uint64_t min;
    uint64_t max;
    bool has_max;
    bool is64;
    bool shared;
} wasm_limits;

typedef struct wasm_tabletype {
    uint8_t elem;
    wasm_limits limits;
} wasm_tabletype;

typedef struct wasm_globaltype {
    uint8_t type;
    bool mut;
} wasm_globaltype;

/* A constant expression: exactly one instruction then `end`. */
enum {
    WASM_CONST_I32,
    WASM_CONST_I64,
    WASM_CONST_F32,
    WASM_CONST_F64,
    WASM_CONST_V128,
    WASM_CONST_REF_NULL,
    WASM_CONST_REF_FUNC,
    WASM_CONST_GLOBAL_GET,
};

typedef struct wasm_const {
    uint8_t kind;
    uint8_t type; /* WASM_CONST_REF_NULL: the reference type */
    uint32_t offset; /* of the expression in the module bytes */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32; /* bits */
        uint64_t f64; /* bits */
        uint8_t v128[16];
        uint32_t index; /* function (REF_FUNC) or global (GLOBAL_GET) */
    } u;
} wasm_const;

typedef struct wasm_import {
    wasm_name module;
    wasm_name name;
    uint8_t kind;
    uint32_t index; /* in its kind's index space */
    uint32_t offset;
} wasm_import;

typedef struct wasm_export {
    wasm_name name;
    uint8_t kind;
    uint32_t index;
} wasm_export;

typedef struct wasm_global {
    wasm_globaltype type;
    uint32_t at;     /* offset of its import entry or its type, for errors */
    wasm_const init; /* unused for imports */
} wasm_global;

typedef struct wasm_func {
    uint32_t type;       /* type index */
    uint32_t body;       /* offset of the body's first instruction (after locals) */
    uint32_t body_end;   /* offset just past the final `end` */
    uint32_t decl;       /* offset of the code entry (its size field) */
    uint32_t nlocals;    /* declared locals, parameters excluded */
    uint32_t nlocal_runs;
    const struct wasm_local_run *local_runs;
} wasm_func;

typedef struct wasm_local_run {
    uint32_t count;
    uint32_t at; /* offset of its type byte, for errors */
    uint8_t type;
} wasm_local_run;

enum { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

typedef struct wasm_elem {
    uint8_t mode;
    uint8_t type; /* reference type of the elements */
    uint32_t table;
    wasm_const offset; /* active only */
    uint32_t count;
    const wasm_const *items; /* count expressions */
    uint32_t pos;            /* offset of the segment in the module bytes */
} wasm_elem;

typedef struct wasm_data {
    uint8_t mode;
    uint32_t memory;
    wasm_const offset; /* active only */
    uint32_t size;
    uint32_t bytes; /* offset of the bytes in the module bytes */
    uint32_t pos;
} wasm_data;

typedef struct wasm_section {
    uint8_t id;
    wasm_name name; /* standard name, or the custom section's name */
    uint32_t offset; /* of the contents */
    uint32_t size;
} wasm_section;

typedef struct wasm_func_name {
    uint32_t func;
    wasm_name name;
} wasm_func_name;

typedef struct wasm_local_name {
    uint32_t func;
    uint32_t local;
    wasm_name name;
} wasm_local_name;

typedef struct wasm_module {
    wasm_arena arena;
    const uint8_t *bytes; /* the module's own copy */
    size_t size;
    unsigned features;

    uint32_t ntypes;
    wasm_functype *types;

    uint32_t nimports;
    wasm_import *imports;
    /* Index spaces: imports first. */
    uint32_t nfuncs, nfunc_imports;
    wasm_func *funcs;
    uint32_t ntables, ntable_imports;
    wasm_tabletype *tables;
    uint32_t nmemories, nmemory_imports;
    wasm_limits *memories;
    uint32_t nglobals, nglobal_imports;
    wasm_global *globals;

    uint32_t nexports;
    wasm_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    wasm_elem *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t ndatas;
    wasm_data *datas;

    uint32_t nsections;
    wasm_section *sections;

    /* Functions that `ref.func` may name in bodies: referenced outside
     * function bodies (exports, elements, global initialisers). */
    uint8_t *declared_funcs; /* bitmap over nfuncs */

    /* Name section; all sorted by index. */
    wasm_name module_name;
    bool has_module_name;
    uint32_t nfunc_names;
    wasm_func_name *func_names;
    uint32_t nlocal_names;
    wasm_local_name *local_names;
} wasm_module;

/* Decodes `bytes` (copied) into a new module; on failure returns NULL and
 * fills *err. The result is well formed but not yet validated beyond what
 * decoding itself must check. */
wasm_module *wasm_decode(const uint8_t *bytes, size_t size, unsigned features, wasm_error *err);

/* Validates a decoded module, function bodies included. */
bool wasm_validate(const wasm_module *m, wasm_error *err);
/* The same, the bodies on up to `threads` threads (wasm/parallel.h); the
 * error is the same for any number. */
bool wasm_validate_threads(const wasm_module *m, uint32_t threads, wasm_error *err);

void wasm_module_free(wasm_module *m);

static inline const wasm_functype *wasm_func_type(const wasm_module *m, uint32_t func)
{
    return &m->types[m->funcs[func].type];
}

bool wasm_is_reftype(uint8_t type);
bool wasm_is_valtype(uint8_t type); /* v128 included */
const char *wasm_type_name(uint8_t type); /* "i32" ... "externref", else "any" */

/* Reads the name section's contents; a malformed one is dropped. */
void wasm_decode_names(wasm_module *m, const uint8_t *start, const uint8_t *end);

/* The name section's name of a function, or NULL. */
const wasm_name *wasm_func_name_of(const wasm_module *m, uint32_t func);
const wasm_name *wasm_local_name_of(const wasm_module *m, uint32_t func, uint32_t local);


#endif
