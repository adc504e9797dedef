/*
 * wasmjail — a WebAssembly runtime for Linux x86-64.
 *
 * Public C API. Every object has one owner and one delete function; every
 * function that takes bytes from a user returns a wj_error* (NULL on success)
 * that the caller owns and frees with wj_error_delete().
 */
#ifndef WASMJAIL_H
#define WASMJAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WJ_API __attribute__((visibility("default")))
#else
#define WJ_API
#endif

#define WJ_VERSION_MAJOR 0
#define WJ_VERSION_MINOR 1
#define WJ_VERSION_PATCH 0

/* The library's version string, e.g. "0.1.0". */
WJ_API const char *wj_version(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

typedef struct wj_error wj_error;

typedef enum wj_error_kind {
    WJ_ERROR_MALFORMED = 1, /* not a well-formed binary module */
    WJ_ERROR_INVALID,       /* well-formed, but fails validation */
    WJ_ERROR_UNSUPPORTED,   /* needs something wasmjail does not implement, or a
                             * feature the engine's configuration turned off
                             * that the spec has no error of its own for */
    WJ_ERROR_RESOURCE,      /* out of memory or over a configured limit */
} wj_error_kind;

/* wj_error_offset() of an error that has no byte offset. */
#define WJ_NO_OFFSET UINT64_MAX

WJ_API wj_error_kind wj_error_kind_of(const wj_error *err);
/* The reason, starting with the specification's own words
 * ("type mismatch", "unexpected end", "unknown global 3", ...). */
WJ_API const char *wj_error_message(const wj_error *err);
/* Byte offset in the module's bytes where the problem was found. */
WJ_API uint64_t wj_error_offset(const wj_error *err);
/* Every delete function accepts NULL. */
WJ_API void wj_error_delete(wj_error *err);

/* ------------------------------------------------------------------------ */
/* Configuration and engine                                                 */

/* Language features. Wasm 2.0 (SIMD, bulk memory, reference types,
 * multi-value, ...) is on by default; proposals are off by default. */
typedef enum wj_feature {
    WJ_FEATURE_SIMD = 1u << 0,
    WJ_FEATURE_MEMORY64 = 1u << 1,
    WJ_FEATURE_MULTI_MEMORY = 1u << 2,
} wj_feature;

typedef struct wj_config wj_config;

WJ_API wj_config *wj_config_new(void);
WJ_API void wj_config_delete(wj_config *config);
WJ_API void wj_config_set_feature(wj_config *config, wj_feature feature, bool enabled);
WJ_API bool wj_config_get_feature(const wj_config *config, wj_feature feature);

typedef struct wj_engine wj_engine;

/* The engine copies the configuration; config may be NULL for defaults. */
WJ_API wj_engine *wj_engine_new(const wj_config *config);
WJ_API void wj_engine_delete(wj_engine *engine);

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

/* Value types, numbered as in the binary format. */
typedef enum wj_valtype {
    WJ_I32 = 0x7f,
    WJ_I64 = 0x7e,
    WJ_F32 = 0x7d,
    WJ_F64 = 0x7c,
    WJ_V128 = 0x7b,
    WJ_FUNCREF = 0x70,
    WJ_EXTERNREF = 0x6f,
} wj_valtype;

/* "i32", "funcref", ...; "?" for anything else. */
WJ_API const char *wj_valtype_name(wj_valtype type);

typedef enum wj_extern_kind {
    WJ_EXTERN_FUNC = 0,
    WJ_EXTERN_TABLE = 1,
    WJ_EXTERN_MEMORY = 2,
    WJ_EXTERN_GLOBAL = 3,
} wj_extern_kind;

/* "func", "table", "memory", "global". */
WJ_API const char *wj_extern_kind_name(wj_extern_kind kind);

typedef struct wj_functype {
    uint32_t param_count;
    uint32_t result_count;
    const uint8_t *params;  /* wj_valtype values */
    const uint8_t *results; /* wj_valtype values */
} wj_functype;

/* Limits of a memory (in 64 KiB pages) or a table (in elements). */
typedef struct wj_limits {
    uint64_t min;
    uint64_t max;  /* meaningful only when has_max */
    bool has_max;
    bool is64;     /* memory64: addressed with i64 */
    bool shared;   /* threads proposal; never set by this version */
} wj_limits;

typedef struct wj_tabletype {
    wj_valtype elem;
    wj_limits limits;
} wj_tabletype;

typedef struct wj_globaltype {
    wj_valtype type;
    bool mutable_;
} wj_globaltype;

/* ------------------------------------------------------------------------ */
/* Modules                                                                  */

typedef struct wj_module wj_module;

/* Decodes and validates `bytes` (which the module copies). On success
 * *out owns the new module and NULL is returned. */
WJ_API wj_error *wj_module_new(wj_engine *engine, const uint8_t *bytes, size_t len,
                               wj_module **out);
/* Decodes and validates without keeping anything. */
WJ_API wj_error *wj_module_validate(wj_engine *engine, const uint8_t *bytes, size_t len);
WJ_API void wj_module_delete(wj_module *module);

/* Names are byte strings (they may hold NUL); each is also NUL-terminated. */
typedef struct wj_import_info {
    const char *module;
    size_t module_len;
    const char *name;
    size_t name_len;
    wj_extern_kind kind;
    uint32_t index; /* in the index space of its kind */
} wj_import_info;

typedef struct wj_export_info {
    const char *name;
    size_t name_len;
    wj_extern_kind kind;
    uint32_t index;
} wj_export_info;

typedef struct wj_section_info {
    uint8_t id;             /* 0 = custom, 1 = type, ... 12 = data count */
    const char *name;       /* "type", ..., or a custom section's own name */
    size_t name_len;
    uint64_t offset;        /* of the section's contents in the module bytes */
    uint64_t size;          /* of the contents */
} wj_section_info;

WJ_API size_t wj_module_import_count(const wj_module *m);
WJ_API bool wj_module_import(const wj_module *m, size_t i, wj_import_info *out);
WJ_API size_t wj_module_export_count(const wj_module *m);
WJ_API bool wj_module_export(const wj_module *m, size_t i, wj_export_info *out);
WJ_API size_t wj_module_section_count(const wj_module *m);
WJ_API bool wj_module_section(const wj_module *m, size_t i, wj_section_info *out);

/* Counts include imports; imported entities come first in each index space. */
WJ_API uint32_t wj_module_func_count(const wj_module *m);
WJ_API uint32_t wj_module_table_count(const wj_module *m);
WJ_API uint32_t wj_module_memory_count(const wj_module *m);
WJ_API uint32_t wj_module_global_count(const wj_module *m);
WJ_API bool wj_module_func_type(const wj_module *m, uint32_t func, wj_functype *out);
WJ_API bool wj_module_table_type(const wj_module *m, uint32_t table, wj_tabletype *out);
WJ_API bool wj_module_memory_type(const wj_module *m, uint32_t memory, wj_limits *out);
WJ_API bool wj_module_global_type(const wj_module *m, uint32_t global, wj_globaltype *out);

/* From the name section; NULL when absent. */
WJ_API const char *wj_module_name(const wj_module *m, size_t *len);
WJ_API const char *wj_module_func_name(const wj_module *m, uint32_t func, size_t *len);
WJ_API const char *wj_module_local_name(const wj_module *m, uint32_t func, uint32_t local,
                                        size_t *len);

/* The start function's index, or false when the module has none. */
WJ_API bool wj_module_start(const wj_module *m, uint32_t *func);

#ifdef __cplusplus
}
#endif

#endif /* WASMJAIL_H */
