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
    WJ_ERROR_LINK,          /* imports do not match ("incompatible import type") */
    WJ_ERROR_USAGE,         /* the API was called wrongly (argument count or type,
                             * objects from different stores) */
    WJ_ERROR_IO,            /* a host file or directory could not be used (the
                             * message names the path and the reason) */
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

/* The most native stack that nested wasm calls of one store may use
 * before trapping with "call stack exhausted". Default 512 KiB. Clamped to
 * the real stack of the calling thread less 32 KiB, which stay for the
 * host functions wasm calls: on a thread with a smaller stack, deep
 * recursion traps the same way instead of overflowing it. */
WJ_API void wj_config_set_max_wasm_stack(wj_config *config, size_t bytes);
/* The largest any linear memory may grow to, in bytes; memory.grow past it
 * returns -1. Default: 4 GiB (the most a 32-bit memory can address; raise
 * it for memory64 modules that need more). A memory64 memory reserves
 * address space for this much up front unless it declares a smaller
 * maximum (see below). No memory gets past the 128 TiB of user address
 * space (less what the process maps already): a larger limit (UINT64_MAX
 * for none) lets memory.grow go on until the system refuses. */
WJ_API void wj_config_set_max_memory_size(wj_config *config, uint64_t bytes);

/*
 * How 32-bit memories are laid out. By default each one reserves 4 GiB of
 * address space plus a 2 GiB guard region: its base never moves and
 * compiled code needs no bounds checks, out-of-bounds accesses fault in the
 * guard. That costs 6 GiB of address space per memory, so one process holds
 * about 20,000 of them (47 bits of user address space). Hosts running more
 * instances than that turn on dynamic memories: each memory then reserves
 * just its size, every access is checked explicitly (slower code), and a
 * grow past the reservation moves the memory (mremap) into one of twice its
 * new size, so growth moves it O(log n) times.
 *
 * memory64 memories are always dynamic (checked). Without dynamic memories
 * configured, each reserves its maximum up front (the engine limit unless
 * it declares less: 4 GiB by default) and grows in place; where no hole of
 * the address space is that large, it reserves the configured reservation
 * (below) and moves when it outgrows it, as above.
 */
/* Address space reserved per 32-bit memory (rounded up to 64 KiB pages).
 * At least 4 GiB elides bounds checks; a smaller reservation still keeps
 * the base fixed for memories whose maximum fits in it, with explicit
 * checks; memories that may grow larger become dynamic: they reserve this
 * much and move when they outgrow it. Default 4 GiB. */
WJ_API void wj_config_set_memory_reservation(wj_config *config, uint64_t bytes);
/* Guard region after a reservation (rounded up to 64 KiB pages): accesses
 * whose static offset plus size is at most the guard need no check.
 * Default 2 GiB. */
WJ_API void wj_config_set_memory_guard_size(wj_config *config, uint64_t bytes);
/* 32-bit memories as dynamic heaps instead of reservations, and memory64
 * ones reserving their size rather than their maximum. Default off. */
WJ_API void wj_config_set_dynamic_memories(wj_config *config, bool enabled);

/*
 * Stopping runaway guests. Both are off by default, and then compiled code
 * contains no check at all.
 *
 * Epoch interruption: the engine has an epoch counter that any thread (a
 * timer, a watchdog, a signal handler) advances with
 * wj_engine_increment_epoch(); each store has a deadline on it. Compiled
 * code compares the two at every function entry and loop header, so a
 * guest in a loop or a recursion notices a passed deadline within one
 * iteration or call. What happens then is the store's policy: trap with
 * WJ_TRAP_INTERRUPT ("interrupt"), or ask a callback, which may extend the
 * deadline (wj_store_set_epoch_callback).
 */
WJ_API void wj_config_set_epoch_interruption(wj_config *config, bool enabled);
/*
 * Fuel: each store has a fuel tank that executed instructions drain (one
 * unit per instruction; nop, drop, block, loop, else, end, return and
 * unreachable are free). Running dry traps with WJ_TRAP_OUT_OF_FUEL ("all
 * fuel consumed by WebAssembly"). Fuel is charged per straight-line run of
 * instructions, as the run starts, and checked at function entries and
 * loop headers; host functions consume none.
 */
WJ_API void wj_config_set_consume_fuel(wj_config *config, bool enabled);

/* Data segments that can be known from the module (active, constant
 * offsets, into a static memory it defines) become one copy-on-write
 * image per memory when the module is created (a sealed memfd), mapped
 * privately into each instance's memory instead of copied: pages are read
 * when touched and copied when written. On by default; off, or where the
 * system refuses a memfd, the bytes are copied. Either way the memory's
 * contents are the same. */
WJ_API void wj_config_set_memory_images(wj_config *config, bool enabled);

/*
 * The pooling allocator: everything an instance needs is reserved once,
 * when the engine is made, as `instances` slots (its own state, its
 * memories with their guard regions, its tables), so that instantiating
 * takes a slot and dropping the store resets it (nothing of one instance
 * is ever visible to the next), without system calls on the way in.
 * Taking and giving back slots is lock-free. An instantiation over a limit
 * fails with a WJ_ERROR_RESOURCE error naming it. Memories of the API
 * (wj_memory_new) take memory slots too; tables of the API do not. Every
 * memory lives in a slot, which bounds it: a dynamic one (memory64, or
 * one that may grow past the memory reservation) keeps its explicit
 * checks there and grows up to the slot's reservation + guard bytes.
 */
typedef struct wj_pooling_config {
    uint32_t instances;             /* alive at once (default 1000) */
    uint32_t memories;              /* alive at once (default 1000) */
    uint32_t tables;                /* alive at once (default 1000) */
    uint32_t memories_per_instance; /* defined by one instance (default 1) */
    uint32_t tables_per_instance;   /* defined by one instance (default 1) */
    uint64_t memory_size;           /* bytes one memory may reach (default 4 GiB) */
    uint32_t table_elements;        /* elements one table may reach (default 20000) */
    size_t instance_size;           /* bytes of an instance's own state: its context,
                                     * globals and function references (default 1 MiB) */
} wj_pooling_config;

/* Fills `pooling` with the defaults. */
WJ_API void wj_pooling_config_init(wj_pooling_config *pooling);
/* Pooling with these limits (copied), or the default allocator (NULL, the
 * default). Needs static memories (a memory reservation, no dynamic
 * memories); wj_engine_new returns NULL when the slots cannot be
 * reserved. */
WJ_API void wj_config_set_pooling(wj_config *config, const wj_pooling_config *pooling);

/* Threads that validate and compile one module's function bodies at once
 * (wj_module_new; wj_module_decode and wj_module_validate validate only).
 * 0 (the default) is one per CPU the process may run on (every online
 * one, unless its affinity says less), counted when the engine is made;
 * 1 works on the calling thread alone. The threads live for one call only
 * (none are left for wj_jail_enter to refuse), and small modules (under
 * 16 KiB of code) stay on the calling thread whatever the setting. The
 * compiled code, trap tables and errors are the same for every setting. */
WJ_API void wj_config_set_compile_threads(wj_config *config, uint32_t threads);

/* How functions are compiled. TIERED (the default): every function starts
 * in the single-pass tier, the fastest to compile; a background thread of
 * the engine (started when the first function gets hot, so wj_jail_enter
 * must come before) compiles the functions that get hot with the
 * optimizing tier, and calls switch to them, while a loop that runs long
 * moves to them by on-stack replacement. Once jailed, no new code is
 * made: hot functions stay in the single-pass tier. BASELINE: the single-pass tier only. OPTIMIZED:
 * the optimizing tier for every function it covers (its coverage grows;
 * the others stay baseline), compiled before the module is returned. */
typedef enum wj_strategy {
    WJ_STRATEGY_BASELINE,
    WJ_STRATEGY_OPTIMIZED,
    WJ_STRATEGY_TIERED,
} wj_strategy;
WJ_API void wj_config_set_strategy(wj_config *config, wj_strategy strategy);
/* TIERED: a function is hot once its calls plus its loops' iterations
 * reach `budget` (default 1000). 0 tiers up every function after its
 * first call and every loop at its first iteration, the calling thread
 * waiting for the code: for testing the tiers, not for speed. */
WJ_API void wj_config_set_tier_up_budget(wj_config *config, uint32_t budget);

/* The engine copies the configuration; config may be NULL for defaults. */
WJ_API wj_engine *wj_engine_new(const wj_config *config);
WJ_API void wj_engine_delete(wj_engine *engine);
/* Advances the engine's epoch by one. Safe from any thread and from a
 * signal handler (one atomic addition). */
WJ_API void wj_engine_increment_epoch(wj_engine *engine);
/* The current epoch; it starts at 0. */
WJ_API uint64_t wj_engine_epoch(const wj_engine *engine);

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

/* Decodes, validates and compiles `bytes` (which the module copies). On
 * success *out owns the new module and NULL is returned. A module the
 * compiler cannot run fails with WJ_ERROR_UNSUPPORTED (a proposal it lacks,
 * or "unsupported: this CPU lacks SSE4.1 or POPCNT"). Modules may be shared
 * between threads; the engine must outlive every module, store and trap
 * made with it. */
WJ_API wj_error *wj_module_new(wj_engine *engine, const uint8_t *bytes, size_t len,
                               wj_module **out);
/* Decodes and validates, without compiling: the module can be inspected
 * but not instantiated. */
WJ_API wj_error *wj_module_decode(wj_engine *engine, const uint8_t *bytes, size_t len,
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

/* ------------------------------------------------------------------------ */
/* Stores and runtime objects                                               */
/*
 * A store holds instances and everything they create or import: functions,
 * memories, tables, globals. All of them belong to the store and are freed
 * by wj_store_delete(); they may not be used with another store. A store is
 * used by one thread at a time; different stores may run on different
 * threads at once. Modules are shared: one module may be instantiated in any
 * number of stores, from any thread.
 */

typedef struct wj_store wj_store;
typedef struct wj_instance wj_instance;
typedef struct wj_func wj_func;
typedef struct wj_memory wj_memory;
typedef struct wj_table wj_table;
typedef struct wj_global wj_global;
typedef struct wj_trap wj_trap;
typedef struct wj_caller wj_caller;

/* The store keeps a reference to the engine, which must outlive it. */
WJ_API wj_store *wj_store_new(wj_engine *engine);
WJ_API void wj_store_delete(wj_store *store);

/* With epoch interruption on: the store's deadline becomes the engine's
 * current epoch plus `ticks`. A new store's deadline is the current epoch,
 * so wasm traps at its first check until a deadline is set: forgetting to
 * set one stops the guest rather than letting it run unbounded. */
WJ_API void wj_store_set_epoch_deadline(wj_store *store, uint64_t ticks);
/* Called when wasm of this store reaches a passed deadline, on the thread
 * running it. Returning NULL continues with the deadline moved to the
 * current epoch plus *ticks (set it; it is 0 on entry, which calls back at
 * the next check). Returning a trap (wj_trap_new) stops the guest with it.
 * The callback may use the API on this store except calling into it. */
typedef wj_trap *(*wj_epoch_callback)(void *env, wj_store *store, uint64_t *ticks);
/* Sets the store's deadline policy: `callback`, or NULL (the default) to
 * trap with WJ_TRAP_INTERRUPT. */
WJ_API void wj_store_set_epoch_callback(wj_store *store, wj_epoch_callback callback, void *env);

/* With fuel on: sets the fuel left (at most INT64_MAX; more is clamped). A
 * new store has none: wasm traps at the first check (a function entry or
 * loop header) after an instruction that costs fuel. Fuel is checked only
 * there, so the last straight-line stretch before a return may overdraw
 * it by that stretch's cost.
 * A WJ_ERROR_USAGE error when the engine does not consume fuel. */
WJ_API wj_error *wj_store_set_fuel(wj_store *store, uint64_t fuel);
/* The fuel left (0 once it ran out). A WJ_ERROR_USAGE error when the
 * engine does not consume fuel. */
WJ_API wj_error *wj_store_get_fuel(const wj_store *store, uint64_t *fuel);

/* A value. Reference values: a funcref is a wj_func* (NULL is ref.null
 * func); an externref is any host pointer (NULL is ref.null extern). Floats
 * keep their exact bits, NaN payloads included. A v128 is its 16 bytes in
 * memory order: little-endian lanes, lane 0 first (an i32x4's lane i is
 * bytes 4i..4i+3, least significant first). */
typedef struct wj_val {
    wj_valtype kind;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        wj_func *funcref;
        void *externref;
        uint8_t v128[16];
    } of;
} wj_val;

typedef struct wj_extern {
    wj_extern_kind kind;
    union {
        wj_func *func;
        wj_table *table;
        wj_memory *memory;
        wj_global *global;
    } of;
} wj_extern;

/* ---- traps ---- */

typedef enum wj_trap_code {
    WJ_TRAP_NONE = 0,
    WJ_TRAP_UNREACHABLE,          /* "unreachable" */
    WJ_TRAP_MEMORY_OUT_OF_BOUNDS, /* "out of bounds memory access" */
    WJ_TRAP_INT_DIVIDE_BY_ZERO,   /* "integer divide by zero" */
    WJ_TRAP_INT_OVERFLOW,         /* "integer overflow" */
    WJ_TRAP_BAD_CONVERSION,       /* "invalid conversion to integer" */
    WJ_TRAP_INDIRECT_TYPE,        /* "indirect call type mismatch" */
    WJ_TRAP_UNDEFINED_ELEMENT,    /* "undefined element" */
    WJ_TRAP_UNINITIALIZED_ELEMENT,/* "uninitialized element" */
    WJ_TRAP_TABLE_OUT_OF_BOUNDS,  /* "out of bounds table access" */
    WJ_TRAP_STACK_EXHAUSTED,      /* "call stack exhausted" */
    WJ_TRAP_HOST,                 /* raised by a host function: its own message */
    WJ_TRAP_EXIT,                 /* a host function ended the program with an exit
                                   * status (WASI proc_exit): "exit status N" */
    WJ_TRAP_INTERRUPT,            /* the store's epoch deadline passed: "interrupt" */
    WJ_TRAP_OUT_OF_FUEL,          /* "all fuel consumed by WebAssembly" */
} wj_trap_code;

/* One wasm frame of a trap's backtrace, innermost first. */
typedef struct wj_frame {
    const wj_module *module;
    const char *module_name;  /* name section, or NULL */
    uint32_t func_index;      /* in the module's function index space */
    const char *func_name;    /* name section, or NULL */
    uint64_t module_offset;   /* byte offset of the instruction in the module */
    uint64_t func_offset;     /* ... relative to the start of the function's body */
} wj_frame;

/* A trap for a host function to return; the message is copied. */
WJ_API wj_trap *wj_trap_new(const char *message);
/* A trap that ends the program with `status` rather than reporting an error
 * (what WASI's proc_exit returns); its code is WJ_TRAP_EXIT. */
WJ_API wj_trap *wj_trap_new_exit(int status);
/* The status of a WJ_TRAP_EXIT trap; false for any other trap. */
WJ_API bool wj_trap_exit_status(const wj_trap *trap, int *status);
WJ_API wj_trap_code wj_trap_code_of(const wj_trap *trap);
/* The spec's message for the code ("integer divide by zero"), or the host's. */
WJ_API const char *wj_trap_message(const wj_trap *trap);
WJ_API size_t wj_trap_frame_count(const wj_trap *trap);
WJ_API const wj_frame *wj_trap_frame(const wj_trap *trap, size_t i);
WJ_API void wj_trap_delete(wj_trap *trap);

/* ---- instances ---- */

/* Instantiates `module` in `store`. imports[i] is the value for the module's
 * i-th import (in wj_module_import() order). On a link error (wrong kind or
 * type) returns a WJ_ERROR_LINK error naming the import. If a data or element
 * segment is out of bounds or the start function traps, returns NULL with
 * *trap set (the caller owns it) and no instance; writes already made to
 * imported memories and tables stay, as the spec requires. */
WJ_API wj_error *wj_instance_new(wj_store *store, const wj_module *module,
                                 const wj_extern *imports, size_t import_count,
                                 wj_instance **out, wj_trap **trap);
WJ_API const wj_module *wj_instance_module(const wj_instance *instance);
/* Looks up an export by name; false when there is none. */
WJ_API bool wj_instance_export(const wj_instance *instance, const char *name, size_t name_len,
                               wj_extern *out);
/* The i-th export, in the module's export order. */
WJ_API bool wj_instance_export_nth(const wj_instance *instance, size_t i, wj_extern *out);

/* ---- functions ---- */

/* A host function. It receives exactly the parameters of its type in `args`
 * and must fill every result. Returning a trap (from wj_trap_new, or one a
 * nested call returned) unwinds the wasm frames above it; the caller of the
 * outermost wj_func_call gets it. */
typedef wj_trap *(*wj_host_callback)(void *env, wj_caller *caller, const wj_val *args,
                                     wj_val *results);

/* The type is copied. `finalizer` (may be NULL) gets `env` when the store is
 * deleted. Returns NULL when out of memory, when callback is NULL, or when
 * the type names an unknown value type. */
WJ_API wj_func *wj_func_new(wj_store *store, const wj_functype *type, wj_host_callback callback,
                            void *env, void (*finalizer)(void *env));
/* The type, valid as long as the function. */
WJ_API void wj_func_type(const wj_func *func, wj_functype *out);
/* Calls the function. A wrong number or type of arguments is a WJ_ERROR_USAGE
 * error; a trap returns NULL with *trap set (the caller owns it). */
WJ_API wj_error *wj_func_call(wj_func *func, const wj_val *args, size_t arg_count,
                              wj_val *results, size_t result_count, wj_trap **trap);

/* The instance whose wasm code called the host function, or NULL when the
 * host function was called directly through wj_func_call. */
WJ_API wj_instance *wj_caller_instance(const wj_caller *caller);
WJ_API wj_store *wj_caller_store(const wj_caller *caller);

/* ---- memories ---- */

/* A memory for imports; limits in 64 KiB pages. NULL when over limits or out
 * of memory (*err says why). */
WJ_API wj_error *wj_memory_new(wj_store *store, const wj_limits *limits, wj_memory **out);
WJ_API void wj_memory_type(const wj_memory *memory, wj_limits *out);
/* The bytes; the pointer stays valid until the memory grows. */
WJ_API uint8_t *wj_memory_data(const wj_memory *memory);
WJ_API uint64_t wj_memory_data_size(const wj_memory *memory);
/* Size in 64 KiB pages. */
WJ_API uint64_t wj_memory_size(const wj_memory *memory);
/* Grows by `delta` pages; false (and no change) past the maximum or a limit. */
WJ_API bool wj_memory_grow(wj_memory *memory, uint64_t delta, uint64_t *old_pages);

/* ---- tables ---- */

/* `init` fills every element; its kind must be the table's element type. */
WJ_API wj_error *wj_table_new(wj_store *store, const wj_tabletype *type, const wj_val *init,
                              wj_table **out);
WJ_API void wj_table_type(const wj_table *table, wj_tabletype *out);
WJ_API uint64_t wj_table_size(const wj_table *table);
WJ_API bool wj_table_get(const wj_table *table, uint64_t index, wj_val *out);
WJ_API bool wj_table_set(wj_table *table, uint64_t index, const wj_val *value);
WJ_API bool wj_table_grow(wj_table *table, uint64_t delta, const wj_val *init, uint64_t *old_size);

/* ---- globals ---- */

WJ_API wj_error *wj_global_new(wj_store *store, const wj_globaltype *type, const wj_val *value,
                               wj_global **out);
WJ_API void wj_global_type(const wj_global *global, wj_globaltype *out);
WJ_API void wj_global_get(const wj_global *global, wj_val *out);
/* A USAGE error when the global is immutable or the value has the wrong kind. */
WJ_API wj_error *wj_global_set(wj_global *global, const wj_val *value);

/* ------------------------------------------------------------------------ */
/* WASI preview 1                                                           */
/*
 * The host side of `wasi_snapshot_preview1` for plugins built by clang
 * (wasi-libc), Rust or TinyGo. A guest sees only what its configuration
 * gives it: its arguments, the environment variables pushed (none of the
 * host's), stdio, and the preopened directories, beneath which every path
 * lookup stays (no "..", absolute path or symlink leads out of them).
 */

typedef struct wj_wasi_config wj_wasi_config;
typedef struct wj_wasi wj_wasi;

/* Stdio defaults to the host's descriptors 0, 1 and 2. */
WJ_API wj_wasi_config *wj_wasi_config_new(void);
WJ_API void wj_wasi_config_delete(wj_wasi_config *config);
/* argv[0] first. False when out of memory. */
WJ_API bool wj_wasi_config_push_arg(wj_wasi_config *config, const char *arg);
WJ_API bool wj_wasi_config_push_env(wj_wasi_config *config, const char *name,
                                    const char *value);
/* Host descriptors for the guest's 0, 1 and 2 (not closed by wasmjail);
 * -1 leaves that guest descriptor closed. They share the host's open file
 * descriptions, so the guest may not change their flags (NONBLOCK,
 * APPEND): fd_fdstat_set_flags on them fails with ENOTCAPABLE. */
WJ_API void wj_wasi_config_set_stdio(wj_wasi_config *config, int in, int out, int err);
/* Opens host directory `host_path` now and shows it to the guest as
 * `guest_path`. Read-only: nothing can be written, created, truncated,
 * removed, renamed or linked beneath it. A WJ_ERROR_IO error names the path
 * when it cannot be opened. */
WJ_API wj_error *wj_wasi_config_preopen_dir(wj_wasi_config *config, const char *host_path,
                                            const char *guest_path, bool read_only);

/* A WASI context for `store`, which owns it from then on; `config` is
 * consumed (also on failure). NULL when out of memory. A guest's
 * proc_exit(n) ends its call with a WJ_TRAP_EXIT trap of status n. */
WJ_API wj_wasi *wj_wasi_new(wj_store *store, wj_wasi_config *config);
/* The function for the module's import number `import` when it is a
 * `wasi_snapshot_preview1` function: true with *out set. Functions this
 * version does not offer (sockets, proc_raise) link and return ENOSYS.
 * False for any other import. WASI reaches guest memory through the
 * calling instance's export "memory". */
WJ_API bool wj_wasi_import(wj_wasi *wasi, const wj_module *module, size_t import,
                           wj_extern *out);

/* ------------------------------------------------------------------------ */
/* The jail                                                                 */

/*
 * Locks the process in, for good, against bugs in wasmjail (README.md,
 * "The jail", lists exactly what is allowed). Call it once the modules are
 * compiled and every file the host needs is open (WASI contexts with
 * their preopens, output files), while the process has ONE thread:
 * Landlock cannot reach threads that already run, so with more it fails
 * with WJ_ERROR_USAGE and changes nothing (threads that are ending, such
 * as the compile threads wj_module_new just joined, are waited for, up to
 * 100 ms). Instantiating, calling wasm and
 * starting threads work inside; threads started later are jailed too.
 *
 * Landlock (Linux 5.13 and later) confines path lookups that open (but
 * O_PATH), create, remove, rename, link or truncate to beneath the
 * preopened directories of the `count` WASI contexts in `wasi` (none when
 * count is 0), and beneath read-only ones to reading; anything else fails
 * with EACCES, whatever the path ("/etc/passwd" relative to a preopen,
 * "..", symlinks). From Landlock ABI 6 (Linux 6.12), signals may not leave
 * the process. Without Landlock, only seccomp holds: paths are not
 * confined.
 *
 * Then a default-deny seccomp filter on every thread allows only I/O on
 * descriptors it holds (fcntl without owners, signals or O_ASYNC),
 * WASI's *at calls relative to a directory descriptor (never the working
 * directory; utimensat only as futimens), memory without new executable
 * memory, threads (not processes), clocks, randomness, signals for traps
 * and to itself (never replacing the SIGSYS handler), and exit. Any other
 * system call -- execve, socket, fork, kill, statx, open of a path,
 * ptrace -- ends the process with one line on stderr naming the call and
 * exit status 159 (128 + SIGSYS).
 *
 * Not hidden: metadata. stat, readlink and O_PATH opens of any path the
 * user could reach still succeed (Landlock does not cover them; seccomp
 * cannot read paths); contents, listings and changes outside the preopens
 * are refused. Descriptors opened before keep working.
 *
 * A WJ_ERROR_UNSUPPORTED error when the kernel or libseccomp cannot
 * install the jail, or /proc/self/status cannot be read.
 */
WJ_API wj_error *wj_jail_enter(wj_wasi *const *wasi, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* WASMJAIL_H */
