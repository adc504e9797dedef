/* Lazy function references and lazy funcref tables (runtime/funcref.c,
 * runtime/elems.c, compiler/tables.c) through the public API: a defined
 * function's reference is made on first use and a table element of an
 * active segment on first read, by compiled code (call_indirect,
 * table.get) or by the runtime (table.copy/fill/grow/init, the host's
 * wj_table_*). Every test reads elements in an order that leaves some
 * never initialised before the operation under test, and checks each
 * element afterwards against the spec's result; every test runs with the
 * default and with the pooling allocator.
 *
 * Test modules are written in the text format (wat.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

#include "unit.h"
#include "wat.h"

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

/* ==== helpers: modules and instances in one store ==================================== */

/* Every test runs with each allocator: 0 the default, 1 the pooling one
 * (its loop index). */
enum { ALLOCATORS = 2 };
static bool pooling;

#define LAZY_TEST(name)                                                                     \
    static void name##_run(void);                                                          \
    START_TEST(name)                                                                       \
    {                                                                                      \
        pooling = _i == 1;                                                                 \
        name##_run();                                                                      \
    }                                                                                      \
    END_TEST                                                                               \
    static void name##_run(void)

enum { MAX_MODULES = 4 };

typedef struct world {
    wj_engine *engine;
    wj_store *store;
    struct {
        wj_module *module;
        uint8_t *bytes;
        size_t len;
    } mods[MAX_MODULES];
    int nmods;
} world;

static void w_open(world *w)
{
    memset(w, 0, sizeof *w);
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    if (pooling) { /* room for every test's instances and tables */
        wj_pooling_config limits;
        wj_pooling_config_init(&limits);
        limits.instances = 16;
        limits.memories = 1;
        limits.tables = 32;
        limits.tables_per_instance = 2;
        limits.table_elements = 4096;
        wj_config_set_pooling(config, &limits);
    }
    w->engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(w->engine);
    w->store = wj_store_new(w->engine);
    ck_assert_ptr_nonnull(w->store);
}

static void w_close(world *w)
{
    wj_store_delete(w->store);
    for (int i = 0; i < w->nmods; i++) {
        wj_module_delete(w->mods[i].module);
        free(w->mods[i].bytes);
    }
    wj_engine_delete(w->engine);
}

/* Compiles `bytes` (w frees them). */
static wj_module *w_module_bytes(world *w, uint8_t *bytes, size_t len)
{
    ck_assert_int_lt(w->nmods, MAX_MODULES);
    wj_module *m = NULL;
    wj_error *err = wj_module_new(w->engine, bytes, len, &m);
    ck_assert_no_wj_error(err);
    w->mods[w->nmods].module = m;
    w->mods[w->nmods].bytes = bytes;
    w->mods[w->nmods].len = len;
    w->nmods++;
    return m;
}

static wj_module *w_module(world *w, const char *wat)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm(wat, &len);
    return w_module_bytes(w, bytes, len);
}

/* wat2wasm (wabt 1.0.32) writes no global.get element items: the first
 * item `ref.func func` of the element section (func < 128, in no other
 * item before it) becomes `global.get global` (global < 128), the same
 * length. */
static void item_to_global_get(uint8_t *bytes, size_t len, uint8_t func, uint8_t global)
{
    size_t pos = 8;
    while (pos < len) {
        uint8_t id = bytes[pos++];
        uint32_t size = 0;
        for (unsigned shift = 0;; shift += 7) {
            ck_assert_uint_lt(pos, len);
            size |= (uint32_t)(bytes[pos] & 0x7f) << shift;
            if (!(bytes[pos++] & 0x80))
                break;
        }
        if (id == 9) {
            for (size_t at = pos; at + 3 <= pos + size; at++)
                if (bytes[at] == 0xd2 && bytes[at + 1] == func && bytes[at + 2] == 0x0b) {
                    bytes[at] = 0x23; /* global.get */
                    bytes[at + 1] = global;
                    return;
                }
        }
        pos += size;
    }
    ck_abort_msg("no item ref.func %u in the element section", func);
}

/* Instantiation that must succeed. */
static wj_instance *w_instance(world *w, const wj_module *m, const wj_extern *imports, size_t n)
{
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(w->store, m, imports, n, &inst, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_msg(trap == NULL, "instantiation trapped: %s", trap ? wj_trap_message(trap) : "");
    ck_assert_ptr_nonnull(inst);
    return inst;
}

/* A module and its one instance, without imports. */
static wj_instance *w_open_module(world *w, const char *wat)
{
    w_open(w);
    return w_instance(w, w_module(w, wat), NULL, 0);
}

/* An immutable global of the store. */
static wj_extern w_global(world *w, wj_val value)
{
    wj_global *g = NULL;
    wj_error *err = wj_global_new(w->store, &(wj_globaltype){value.kind, false}, &value, &g);
    ck_assert_no_wj_error(err);
    return (wj_extern){.kind = WJ_EXTERN_GLOBAL, .of.global = g};
}

static wj_extern export_of(const wj_instance *inst, const char *name, wj_extern_kind kind)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(inst, name, strlen(name), &ext), "no export %s", name);
    ck_assert_int_eq(ext.kind, kind);
    return ext;
}

static wj_func *func_of(const wj_instance *inst, const char *name)
{
    return export_of(inst, name, WJ_EXTERN_FUNC).of.func;
}

static wj_table *table_of(const wj_instance *inst, const char *name)
{
    return export_of(inst, name, WJ_EXTERN_TABLE).of.table;
}

static wj_val v_i32(int32_t v) { return (wj_val){.kind = WJ_I32, .of.i32 = v}; }
static wj_val v_i64(int64_t v) { return (wj_val){.kind = WJ_I64, .of.i64 = v}; }
static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }
static wj_val v_func(wj_func *f) { return (wj_val){.kind = WJ_FUNCREF, .of.funcref = f}; }
static wj_val v_extern(uintptr_t p)
{
    return (wj_val){.kind = WJ_EXTERNREF, .of.externref = (void *)p};
}

#define ARGS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define NOARGS NULL, 0

/* A growing string, for generated modules. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(n, 0);
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = 2 * (t->cap + (size_t)n + 1);
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
}

/* Calls `f`; its one result (if any) goes to *res. */
static wj_trap *call_func(wj_func *f, const wj_val *args, size_t n, wj_val *res)
{
    wj_functype t;
    wj_func_type(f, &t);
    ck_assert_uint_le(t.result_count, 1);
    wj_trap *trap = NULL;
    wj_val ignored;
    wj_error *err = wj_func_call(f, args, n, res ? res : &ignored, t.result_count, &trap);
    ck_assert_no_wj_error(err);
    return trap;
}

static wj_val ok_(int line, wj_func *f, const char *what, const wj_val *args, size_t n)
{
    wj_val res = {0};
    wj_trap *trap = call_func(f, args, n, &res);
    ck_assert_msg(trap == NULL, "line %d: %s: unexpected trap \"%s\"", line, what,
                  trap ? wj_trap_message(trap) : "");
    return res;
}

#define OK(inst, name, args) (void)ok_(__LINE__, func_of(inst, name), name, args)
#define I32(inst, name, want, args) \
    ck_assert_int_eq(ok_(__LINE__, func_of(inst, name), name, args).of.i32, (int32_t)(want))
/* The funcref `name` returns (NULL for null). */
#define REF(inst, name, args) ref_(__LINE__, func_of(inst, name), name, args)
#define EXTERN(inst, name, args) \
    ((uintptr_t)ok_(__LINE__, func_of(inst, name), name, args).of.externref)

static wj_func *ref_(int line, wj_func *f, const char *what, const wj_val *args, size_t n)
{
    wj_val v = ok_(line, f, what, args, n);
    ck_assert_msg(v.kind == WJ_FUNCREF, "line %d: %s: result kind %d", line, what, (int)v.kind);
    return v.of.funcref;
}

/* The function index of export `name` of m. */
static uint32_t export_index(const wj_module *m, const char *name)
{
    for (size_t i = 0; i < wj_module_export_count(m); i++) {
        wj_export_info info;
        ck_assert(wj_module_export(m, i, &info));
        if (info.kind == WJ_EXTERN_FUNC && strcmp(info.name, name) == 0)
            return info.index;
    }
    ck_abort_msg("no exported function %s", name);
    return 0;
}

/*
 * `trap` must be `code` with `message`, its innermost frame in function
 * `func_index` of one of w's modules, at an instruction whose first byte
 * is `opcode` (0x11 call_indirect, 0x25 table.get, 0xfc the table.*
 * prefix). Returns the frame's module offset, and deletes the trap.
 */
static uint64_t check_trap_(int line, const world *w, wj_trap *trap, wj_trap_code code,
                            const char *message, uint32_t func_index, uint8_t opcode)
{
    ck_assert_msg(trap != NULL, "line %d: expected trap \"%s\", got none", line, message);
    ck_assert_msg(wj_trap_code_of(trap) == code && strcmp(wj_trap_message(trap), message) == 0,
                  "line %d: expected trap %d \"%s\", got %d \"%s\"", line, (int)code, message,
                  (int)wj_trap_code_of(trap), wj_trap_message(trap));
    ck_assert_msg(wj_trap_frame_count(trap) >= 1, "line %d: no frames", line);
    const wj_frame *f = wj_trap_frame(trap, 0);
    ck_assert_msg(f->func_index == func_index, "line %d: innermost frame is function %u, not %u",
                  line, f->func_index, func_index);
    int i = 0;
    while (i < w->nmods && w->mods[i].module != f->module)
        i++;
    ck_assert_msg(i < w->nmods, "line %d: frame of an unknown module", line);
    ck_assert_uint_lt(f->module_offset, w->mods[i].len);
    ck_assert_msg(w->mods[i].bytes[f->module_offset] == opcode,
                  "line %d: trap at module offset %llu (byte 0x%02x), not at an opcode 0x%02x",
                  line, (unsigned long long)f->module_offset,
                  w->mods[i].bytes[f->module_offset], opcode);
    uint64_t at = f->module_offset;
    wj_trap_delete(trap);
    return at;
}

/* Calling export `name` of inst traps in `name` itself. */
#define TRAP(w, inst, name, ...) TRAP_(w, inst, name, __VA_ARGS__)
#define TRAP_(w, inst, name, code, message, opcode, ...)                                    \
    check_trap_(__LINE__, w, call_func(func_of(inst, name), __VA_ARGS__, NULL), code,       \
                message, export_index(wj_instance_module(inst), name), opcode)

#define UNINIT WJ_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element"
#define UNDEFINED WJ_TRAP_UNDEFINED_ELEMENT, "undefined element"
#define MISMATCH WJ_TRAP_INDIRECT_TYPE, "indirect call type mismatch"
#define TABLE_OOB WJ_TRAP_TABLE_OUT_OF_BOUNDS, "out of bounds table access"
enum { OP_CALL_INDIRECT = 0x11, OP_TABLE_GET = 0x25, OP_PREFIX_FC = 0xfc };

/* Element i of table t through the host API. */
static wj_func *host_get(const wj_table *t, uint64_t i)
{
    wj_val v;
    ck_assert(wj_table_get(t, i, &v));
    ck_assert_int_eq(v.kind, WJ_FUNCREF);
    return v.of.funcref;
}

/* ==== the main module ================================================================= */

/*
 * Table $t (8): [0] $f0, [1] $f1, [2] $f2, [3] $wrong (another type),
 * [4] nothing (between the segments), [5] ref.null, [6] $f5, [7] beyond
 * every segment. Table $u (4) is filled at instantiation (its segment's
 * offset is an imported global, 0, so it cannot be folded): [0] $f3,
 * [1] $f2, [2] and [3] null. The global $gf2 holds $f2. $fN returns 100 + N.
 */
static const char lazy_wat[] =
    "(module $lazy\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $i_i (func (param i32) (result i32)))\n"
    "  (import \"env\" \"zero\" (global $zero i32))\n"
    "  (global (export \"gf2\") funcref (ref.func $f2))\n"
    "  (table $t (export \"t\") 8 funcref)\n"
    "  (table $u (export \"u\") 4 funcref)\n"
    "  (elem (table $t) (i32.const 0) func $f0 $f1 $f2 $wrong)\n"
    "  (elem (table $t) (i32.const 5) funcref (ref.null func) (ref.func $f5))\n"
    "  (elem (table $u) (global.get $zero) func $f3 $f2)\n"
    "  (func $f0 (type $v_i) i32.const 100)\n"
    "  (func $f1 (export \"f1\") (type $v_i) i32.const 101)\n"
    "  (func $f2 (type $v_i) i32.const 102)\n"
    "  (func $f3 (type $v_i) i32.const 103)\n"
    "  (func $f5 (type $v_i) i32.const 105)\n"
    "  (func $wrong (type $i_i) local.get 0)\n"
    "  (func (export \"ref_f1\") (result funcref) ref.func $f1)\n"
    "  (func (export \"ref_f3\") (result funcref) ref.func $f3)\n"
    "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
    "  (func (export \"get_u\") (param i32) (result funcref) local.get 0 table.get $u)\n"
    "  (func (export \"is_null\") (param i32) (result i32) local.get 0 table.get $t ref.is_null)\n"
    "  (func (export \"set_null\") (param i32) local.get 0 ref.null func table.set $t)\n"
    "  (func (export \"set_f3\") (param i32) local.get 0 ref.func $f3 table.set $t)\n"
    "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
    "  (func (export \"ci_u\") (param i64) (result i32)\n"
    "    local.get 0 i32.wrap_i64 call_indirect $u (type $v_i))\n"
    "  (func (export \"copy\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.copy $t $t)\n"
    "  (func (export \"copy_to_u\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.copy $u $t)\n"
    "  (func (export \"copy_from_u\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.copy $t $u)\n"
    "  (func (export \"grow_f3\") (param i32) (result i32) ref.func $f3 local.get 0 table.grow $t)\n"
    "  (func (export \"grow_null\") (param i32) (result i32)\n"
    "    ref.null func local.get 0 table.grow $t)\n"
    "  (func (export \"fill_f3\") (param i32 i32)\n"
    "    local.get 0 ref.func $f3 local.get 1 table.fill $t)\n"
    "  (func (export \"fill_null\") (param i32 i32)\n"
    "    local.get 0 ref.null func local.get 1 table.fill $t)\n"
    "  (func (export \"size\") (result i32) table.size $t)\n"
    ")\n";

/* An instance of lazy_wat (compiled once per world, as w's first module). */
static wj_instance *lazy_instance(world *w)
{
    if (!w->nmods)
        w_module(w, lazy_wat);
    wj_extern zero = w_global(w, v_i32(0));
    return w_instance(w, w->mods[0].module, &zero, 1);
}

static wj_instance *lazy_open(world *w)
{
    w_open(w);
    return lazy_instance(w);
}

/* Checks every element of $t (or $u) of lazy_wat, or of a module with the
 * same exports, against want[] by call_indirect: the result, or -1 for
 * "uninitialized element", -2 for "indirect call type mismatch", trapping
 * at the call_indirect of the calling function; then by table.get and
 * wj_table_get (null exactly for -1). */
static void check_elements_(int line, const world *w, const wj_instance *inst, bool u,
                            const int *want, int n)
{
    const char *ci = u ? "ci_u" : "ci";
    wj_func *f = func_of(inst, ci);
    uint32_t index = export_index(wj_instance_module(inst), ci);
    wj_table *t = table_of(inst, u ? "u" : "t");
    ck_assert_uint_eq(wj_table_size(t), (uint64_t)n);
    for (int i = 0; i < n; i++) {
        wj_val arg = u ? v_i64(i) : v_i32(i), res = {0};
        wj_trap *trap = call_func(f, &arg, 1, &res);
        if (want[i] >= 0) {
            ck_assert_msg(!trap && res.of.i32 == want[i],
                          "line %d: %s(%d): want %d, got %d (trap \"%s\")", line, ci, i, want[i],
                          res.of.i32, trap ? wj_trap_message(trap) : "none");
        } else if (want[i] == -1) {
            ck_assert_msg(trap, "line %d: %s(%d): no trap", line, ci, i);
            check_trap_(line, w, trap, UNINIT, index, OP_CALL_INDIRECT);
        } else {
            ck_assert_msg(trap, "line %d: %s(%d): no trap", line, ci, i);
            check_trap_(line, w, trap, MISMATCH, index, OP_CALL_INDIRECT);
        }
        wj_func *got = ref_(line, func_of(inst, u ? "get_u" : "get"), "get", ARGS(v_i32(i)));
        ck_assert_msg((got == NULL) == (want[i] == -1), "line %d: table.get(%d) is %p", line, i,
                      (void *)got);
        ck_assert_ptr_eq(host_get(t, (uint64_t)i), got);
    }
}

#define CHECK_T(w, inst, ...)                                                               \
    check_elements_(__LINE__, w, inst, false, (const int[]){__VA_ARGS__},                  \
                    sizeof((int[]){__VA_ARGS__}) / sizeof(int))
#define CHECK_U(w, inst, ...)                                                               \
    check_elements_(__LINE__, w, inst, true, (const int[]){__VA_ARGS__},                   \
                    sizeof((int[]){__VA_ARGS__}) / sizeof(int))

/* ==== identity ========================================================================= */

/* The same function's reference from an export (by name and by position),
 * ref.func, a global's initialiser, table.get of a segment's element and
 * wj_table_get is one wj_func, whichever comes first and however often it
 * is asked for; and it calls the function. */
LAZY_TEST(identity_of_references)
{
    for (int first = 0; first < 4; first++) {
        world w;
        wj_instance *inst = lazy_open(&w);
        wj_table *t = table_of(inst, "t");
        wj_func *f1 = NULL;
        switch (first) {
        case 0: f1 = func_of(inst, "f1"); break;
        case 1: f1 = REF(inst, "ref_f1", NOARGS); break;
        case 2: f1 = REF(inst, "get", ARGS(v_i32(1))); break;
        case 3: f1 = host_get(t, 1); break;
        }
        ck_assert_ptr_nonnull(f1);
        for (int round = 0; round < 2; round++) {
            ck_assert_ptr_eq(func_of(inst, "f1"), f1);
            for (size_t e = 0; e < wj_module_export_count(w.mods[0].module); e++) {
                wj_export_info info;
                wj_extern ext;
                ck_assert(wj_module_export(w.mods[0].module, e, &info));
                ck_assert(wj_instance_export_nth(inst, e, &ext));
                if (strcmp(info.name, "f1") == 0)
                    ck_assert_ptr_eq(ext.of.func, f1);
            }
            ck_assert_ptr_eq(REF(inst, "ref_f1", NOARGS), f1);
            ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(1))), f1);
            ck_assert_ptr_eq(host_get(t, 1), f1);
        }
        ck_assert_int_eq(ok_(__LINE__, f1, "f1", NOARGS).of.i32, 101);

        /* a function that is not exported: table.get, wj_table_get, the
         * element of $u that instantiation wrote and the global $gf2 */
        wj_func *f2 = host_get(t, 2);
        ck_assert_ptr_nonnull(f2);
        ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(2))), f2);
        ck_assert_ptr_eq(REF(inst, "get_u", ARGS(v_i32(1))), f2);
        ck_assert_ptr_ne(f2, f1);
        wj_val g;
        wj_global_get(export_of(inst, "gf2", WJ_EXTERN_GLOBAL).of.global, &g);
        ck_assert_ptr_eq(g.of.funcref, f2);
        ck_assert_int_eq(ok_(__LINE__, f2, "f2", NOARGS).of.i32, 102);
        /* ref.func of a function in no active segment, and $u's [0] */
        wj_func *f3 = REF(inst, "ref_f3", NOARGS);
        ck_assert_ptr_eq(host_get(table_of(inst, "u"), 0), f3);
        ck_assert_ptr_eq(REF(inst, "ref_f3", NOARGS), f3);
        ck_assert_int_eq(ok_(__LINE__, f3, "f3", NOARGS).of.i32, 103);

        /* a second instance of the module has its own references */
        wj_instance *other = lazy_instance(&w);
        wj_func *other_f1 = host_get(table_of(other, "t"), 1);
        ck_assert_ptr_ne(other_f1, f1);
        ck_assert_ptr_eq(func_of(other, "f1"), other_f1);
        ck_assert_ptr_eq(REF(inst, "ref_f1", NOARGS), f1);
        w_close(&w);
    }
}

static const uint8_t v_i_results[] = {WJ_I32};
static const wj_functype v_i_type = {0, 1, NULL, v_i_results};

static wj_trap *host_seven(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)env, (void)caller, (void)args;
    results[0] = v_i32(7);
    return NULL;
}

/* An imported function's reference anywhere in the importer is the
 * wj_func it was given. */
LAZY_TEST(identity_of_imported_function)
{
    static const char wat[] =
        "(module\n"
        "  (type $v_i (func (result i32)))\n"
        "  (import \"env\" \"h\" (func $h (type $v_i)))\n"
        "  (table $t (export \"t\") 3 funcref)\n"
        "  (elem (table $t) (i32.const 1) func $h $own)\n"
        "  (func $own (type $v_i) i32.const 8)\n"
        "  (export \"h\" (func $h))\n"
        "  (func (export \"ref_h\") (result funcref) ref.func $h)\n"
        "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
        ")\n";
    world w;
    w_open(&w);
    wj_module *m = w_module(&w, wat);
    wj_func *h = wj_func_new(w.store, &v_i_type, host_seven, NULL, NULL);
    ck_assert_ptr_nonnull(h);
    wj_extern imp = {.kind = WJ_EXTERN_FUNC, .of.func = h};
    wj_instance *inst = w_instance(&w, m, &imp, 1);
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(1))), h);
    ck_assert_ptr_eq(func_of(inst, "h"), h);
    ck_assert_ptr_eq(REF(inst, "ref_h", NOARGS), h);
    ck_assert_ptr_eq(host_get(table_of(inst, "t"), 1), h);
    I32(inst, "ci", 7, ARGS(v_i32(1)));
    I32(inst, "ci", 8, ARGS(v_i32(2)));
    check_trap_(__LINE__, &w, call_func(func_of(inst, "ci"), ARGS(v_i32(0)), NULL), UNINIT,
                export_index(m, "ci"), OP_CALL_INDIRECT);
    w_close(&w);
}

/* ==== explicit null ==================================================================== */

/* A null stored over a lazy element, read or not, stays null: call_indirect
 * traps "uninitialized element", table.get gives null, ref.is_null 1. */
LAZY_TEST(explicit_null_after_lazy_init)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    wj_table *t = table_of(inst, "t");
    /* [1]: initialised by table.get, then nulled by table.set */
    I32(inst, "is_null", 0, ARGS(v_i32(1)));
    I32(inst, "ci", 101, ARGS(v_i32(1)));
    OK(inst, "set_null", ARGS(v_i32(1)));
    /* [2]: never read, nulled by table.set */
    OK(inst, "set_null", ARGS(v_i32(2)));
    /* [0]: never read, nulled by wj_table_set */
    ck_assert(wj_table_set(t, 0, &(wj_val){.kind = WJ_FUNCREF}));
    /* [6]: initialised by wj_table_get, nulled by wj_table_set */
    ck_assert_ptr_nonnull(host_get(t, 6));
    ck_assert(wj_table_set(t, 6, &(wj_val){.kind = WJ_FUNCREF}));
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            I32(inst, "is_null", 1, ARGS(v_i32(i)));
            ck_assert_ptr_null(REF(inst, "get", ARGS(v_i32(i))));
            ck_assert_ptr_null(host_get(t, (uint64_t)i));
        }
        CHECK_T(&w, inst, -1, -1, -1, -2, -1, -1, -1, -1);
    }
    /* a function stored again calls */
    OK(inst, "set_f3", ARGS(v_i32(1)));
    I32(inst, "ci", 103, ARGS(v_i32(1)));
    wj_val f1 = v_func(REF(inst, "ref_f1", NOARGS));
    ck_assert(wj_table_set(t, 2, &f1));
    CHECK_T(&w, inst, -1, 103, 101, -2, -1, -1, -1, -1);
    w_close(&w);
}

/* ==== call_indirect ==================================================================== */

/* Elements never initialised: the right function, and each trap with its
 * message and code at the call_indirect, the same site for all; table.get
 * out of bounds. */
LAZY_TEST(call_indirect_uninitialised_elements)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* first calls, in an order that is not the table's */
    I32(inst, "ci", 105, ARGS(v_i32(6)));
    I32(inst, "ci", 101, ARGS(v_i32(1)));
    uint64_t site = TRAP(&w, inst, "ci", MISMATCH, OP_CALL_INDIRECT, ARGS(v_i32(3)));
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(4))), site);
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(5))), site);
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(7))), site);
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(8))), site);
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(-1))), site);
    I32(inst, "ci", 100, ARGS(v_i32(0)));
    I32(inst, "ci", 102, ARGS(v_i32(2)));
    /* the second time, through the initialised elements */
    ck_assert_uint_eq(TRAP(&w, inst, "ci", MISMATCH, OP_CALL_INDIRECT, ARGS(v_i32(3))), site);
    ck_assert_uint_eq(TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(4))), site);
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1);
    TRAP(&w, inst, "get", TABLE_OOB, OP_TABLE_GET, ARGS(v_i32(8)));

    /* table 1 ($u, filled at instantiation), the index from i32.wrap_i64 */
    I32(inst, "ci_u", 103, ARGS(v_i64(INT64_C(0x100000000))));
    I32(inst, "ci_u", 102, ARGS(v_i64(INT64_C(0x7fffffff00000001))));
    TRAP(&w, inst, "ci_u", UNINIT, OP_CALL_INDIRECT, ARGS(v_i64(INT64_C(-0xfffffffe))));
    TRAP(&w, inst, "ci_u", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i64(INT64_C(0x100000004))));
    CHECK_U(&w, inst, 103, 102, -1, -1);
    w_close(&w);
}

enum { LIVE_I64 = 11, LIVE_F64 = 8 };

/* "live" holds LIVE_I64 i64 values a+1.. and LIVE_F64 f64 values x+1..
 * (as many as there are registers) across table.get $s[i] and ref.func,
 * then folds them: t = is_null($s[i]) + is_null(ref.func), t = g + 3t
 * from the top i64 down, then T = f + 3T over the f64s. */
static char *slow_path_wat(void)
{
    text t = {0};
    put(&t, "(module\n"
            "  (type $many (func (param i64 i64 i64 i64 i64 i64 i64 i64 f64 f64) (result i64)))\n"
            "  (table $t 4 funcref)\n"
            "  (table $s 4 funcref)\n"
            "  (elem (table $t) (i32.const 2) func $sum)\n"
            "  (elem (table $s) (i32.const 0) func $sum $sum)\n"
            "  (func $sum (type $many)\n"
            "    local.get 0 local.get 1 i64.add local.get 2 i64.add local.get 3 i64.add\n"
            "    local.get 4 i64.add local.get 5 i64.add local.get 6 i64.add local.get 7 i64.add\n"
            "    local.get 8 local.get 9 f64.add i64.trunc_f64_s i64.add)\n"
            "  (func (export \"many\") (param $i i32) (param $a i64) (param $x f64) (result i64)\n"
            "    (local $b i64) (local $y f64)\n"
            "    local.get $a i64.const 1000 i64.mul local.set $b\n"
            "    local.get $x f64.const 0.5 f64.mul local.set $y\n"
            "    local.get $a\n");
    for (int k = 1; k <= 7; k++)
        put(&t, "    local.get $a i64.const %d i64.add\n", k);
    put(&t, "    local.get $b local.get $x local.get $y\n"
            "    local.get $i call_indirect $t (type $many)\n"
            "    i64.add local.get $b i64.add\n"
            "    local.get $y i64.trunc_f64_s i64.add)\n"
            "  (func (export \"live\") (param $i i32) (param $a i64) (param $x f64) (result i64)\n");
    for (int k = 1; k <= LIVE_F64; k++)
        put(&t, "    local.get $x f64.const %d f64.add\n", k);
    for (int k = 1; k <= LIVE_I64; k++)
        put(&t, "    local.get $a i64.const %d i64.add\n", k);
    put(&t, "    local.get $i table.get $s ref.is_null i64.extend_i32_u\n"
            "    ref.func $sum ref.is_null i64.extend_i32_u i64.add\n");
    for (int k = 0; k < LIVE_I64; k++)
        put(&t, "    i64.const 3 i64.mul i64.add\n");
    put(&t, "    f64.convert_i64_s\n");
    for (int k = 0; k < LIVE_F64; k++)
        put(&t, "    f64.const 3 f64.mul f64.add\n");
    put(&t, "    i64.trunc_f64_s)\n)\n");
    return t.s;
}

/* What "live" computes (see slow_path_wat). */
static int64_t live_want(int64_t a, double x, bool null)
{
    int64_t t = null;
    for (int k = LIVE_I64; k >= 1; k--)
        t = (a + k) + 3 * t;
    double T = (double)t;
    for (int k = LIVE_F64; k >= 1; k--)
        T = (x + k) + 3 * T;
    return (int64_t)T;
}

/* A trap in a function called through an element initialised by that
 * call: the backtrace has the callee, then the call_indirect. */
LAZY_TEST(backtrace_through_lazy_element)
{
    static const char wat[] =
        "(module\n"
        "  (type $v_i (func (result i32)))\n"
        "  (table $t 2 funcref)\n"
        "  (elem (table $t) (i32.const 1) func $boom)\n"
        "  (func $boom (type $v_i) nop unreachable)\n"
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
        ")\n";
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    for (int round = 0; round < 2; round++) {
        wj_trap *trap = call_func(func_of(inst, "ci"), ARGS(v_i32(1)), NULL);
        ck_assert_ptr_nonnull(trap);
        ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
        ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
        const wj_frame *callee = wj_trap_frame(trap, 0), *caller = wj_trap_frame(trap, 1);
        ck_assert_uint_eq(callee->func_index, 0);
        ck_assert_uint_eq(w.mods[0].bytes[callee->module_offset], 0x00); /* unreachable */
        ck_assert_uint_eq(caller->func_index, export_index(w.mods[0].module, "ci"));
        ck_assert_uint_eq(w.mods[0].bytes[caller->module_offset], OP_CALL_INDIRECT);
        wj_trap_delete(trap);
    }
    w_close(&w);
}

/* A call_indirect and a table.get on elements not initialised yet, and a
 * ref.func made on first use, with values live in every register around
 * them (the slow path keeps them) and a callee taking ten arguments. */
LAZY_TEST(slow_path_keeps_values)
{
    char *wat = slow_path_wat();
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    free(wat);
    /* $sum(a+1, ..., a+7, 1000a, x, x/2) = 7a + 28 + 1000a + 1.5x (truncated),
     * then + a (below the arguments) + 1000a + x/2 */
    int64_t a = 123456789, x = 10;
    int64_t want = 7 * a + 28 + 1000 * a + (int64_t)(1.5 * x) + a + 1000 * a + x / 2;
    for (int round = 0; round < 2; round++) {
        wj_val res = ok_(__LINE__, func_of(inst, "many"), "many",
                         ARGS(v_i32(2), v_i64(a), v_f64((double)x)));
        ck_assert_int_eq(res.of.i64, want);
    }
    TRAP(&w, inst, "many", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(3), v_i64(a), v_f64(1)));
    /* $s: [0] and [1] are $sum, [2] and [3] null */
    for (int i = 0; i < 4; i++) {
        for (int round = 0; round < 2; round++) {
            wj_val res = ok_(__LINE__, func_of(inst, "live"), "live",
                             ARGS(v_i32(i), v_i64(1000), v_f64(7)));
            ck_assert_int_eq(res.of.i64, live_want(1000, 7, i >= 2));
        }
    }
    w_close(&w);
}

/* Segments written over each other, with functions and nulls: the last
 * write of each element wins, and elements past the segments are null. */
LAZY_TEST(later_segments_override)
{
    static const char wat[] =
        "(module\n"
        "  (type $v_i (func (result i32)))\n"
        "  (table $t (export \"t\") 7 funcref)\n"
        "  (elem (table $t) (i32.const 0) func $f0 $f1 $f2 $f3)\n"
        "  (elem (table $t) (i32.const 1) funcref (ref.null func) (ref.func $f4))\n"
        "  (elem (table $t) (i32.const 2) funcref (ref.func $f1) (ref.null func) (ref.func $f0))\n"
        "  (elem (table $t) (i32.const 0) func)\n"
        "  (elem (table $t) (i32.const 5) funcref (ref.null func))\n"
        "  (func $f0 (type $v_i) i32.const 100)\n"
        "  (func $f1 (type $v_i) i32.const 101)\n"
        "  (func $f2 (type $v_i) i32.const 102)\n"
        "  (func $f3 (type $v_i) i32.const 103)\n"
        "  (func $f4 (type $v_i) i32.const 104)\n"
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
        "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
        ")\n";
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    /* [0] $f0, [1] null, [2] $f1, [3] null, [4] $f0, [5] and [6] null */
    for (int round = 0; round < 2; round++)
        CHECK_T(&w, inst, 100, -1, 101, -1, 100, -1, -1);
    wj_table *t = table_of(inst, "t");
    ck_assert_ptr_eq(host_get(t, 0), host_get(t, 4));
    w_close(&w);
}

/* ==== table.copy ======================================================================= */

LAZY_TEST(copy_overlapping_forward)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* [1..5) = old [0..4) on a fresh table: every source element is lazy */
    OK(inst, "copy", ARGS(v_i32(1), v_i32(0), v_i32(4)));
    CHECK_T(&w, inst, 100, 100, 101, 102, -2, -1, 105, -1);
    w_close(&w);

    inst = lazy_open(&w);
    /* [2..8) = old [0..6) after reading only [1] */
    I32(inst, "ci", 101, ARGS(v_i32(1)));
    OK(inst, "copy", ARGS(v_i32(2), v_i32(0), v_i32(6)));
    CHECK_T(&w, inst, 100, 101, 100, 101, 102, -2, -1, -1);
    w_close(&w);
}

LAZY_TEST(copy_overlapping_backward)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* [0..5) = old [2..7) */
    OK(inst, "copy", ARGS(v_i32(0), v_i32(2), v_i32(5)));
    CHECK_T(&w, inst, 102, -2, -1, -1, 105, -1, 105, -1);
    w_close(&w);

    inst = lazy_open(&w);
    /* [1..7) = old [2..8) after nulling [6] and reading [3] */
    OK(inst, "set_null", ARGS(v_i32(6)));
    I32(inst, "is_null", 0, ARGS(v_i32(3)));
    OK(inst, "copy", ARGS(v_i32(1), v_i32(2), v_i32(6)));
    CHECK_T(&w, inst, 100, 102, -2, -1, -1, -1, -1, -1);
    w_close(&w);
}

/* Between the lazily filled $t and $u, filled at instantiation. */
LAZY_TEST(copy_between_tables)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* $u[0..4) = $t[3..7) */
    OK(inst, "copy_to_u", ARGS(v_i32(0), v_i32(3), v_i32(4)));
    CHECK_U(&w, inst, -2, -1, -1, 105);
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1);
    w_close(&w);

    inst = lazy_open(&w);
    /* $t[5..8) = $u[0..3); then $t[0..2) = $u[2..4) (both null) */
    OK(inst, "copy_from_u", ARGS(v_i32(5), v_i32(0), v_i32(3)));
    OK(inst, "copy_from_u", ARGS(v_i32(0), v_i32(2), v_i32(2)));
    CHECK_T(&w, inst, -1, -1, 102, -2, -1, 103, 102, -1);
    CHECK_U(&w, inst, 103, 102, -1, -1);
    w_close(&w);

    /* out of bounds: nothing copied, nothing lost */
    inst = lazy_open(&w);
    TRAP(&w, inst, "copy_to_u", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(1), v_i32(0), v_i32(4)));
    TRAP(&w, inst, "copy", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(0), v_i32(5), v_i32(4)));
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1);
    CHECK_U(&w, inst, 103, 102, -1, -1);
    w_close(&w);
}

/* Instances of one engine in stores made one after the other (with the
 * pooling allocator, each reuses the slots of the one before): each sees
 * its own module's values, none of the writes of the one before. */
LAZY_TEST(instances_one_after_another)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    for (int round = 0; round < 3; round++) {
        CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1);
        CHECK_U(&w, inst, 103, 102, -1, -1);
        /* writes over lazy elements, read and not, and past them */
        OK(inst, "set_f3", ARGS(v_i32(4)));
        OK(inst, "fill_null", ARGS(v_i32(0), v_i32(2)));
        OK(inst, "copy_to_u", ARGS(v_i32(2), v_i32(5), v_i32(2)));
        I32(inst, "grow_f3", 8, ARGS(v_i32(3)));
        CHECK_T(&w, inst, -1, -1, 102, -2, 103, -1, 105, -1, 103, 103, 103);
        wj_store_delete(w.store);
        w.store = wj_store_new(w.engine);
        ck_assert_ptr_nonnull(w.store);
        inst = lazy_instance(&w);
    }
    w_close(&w);
}

/* ==== table.grow and table.fill ======================================================== */

LAZY_TEST(grow_with_init_value)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* grown before any element is read */
    I32(inst, "grow_f3", 8, ARGS(v_i32(2)));
    I32(inst, "size", 10, NOARGS);
    wj_func *f3 = REF(inst, "ref_f3", NOARGS);
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(8))), f3);
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(9))), f3);
    I32(inst, "grow_null", 10, ARGS(v_i32(3)));
    I32(inst, "grow_null", 13, ARGS(v_i32(0)));
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1, 103, 103, -1, -1, -1);
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(1))), func_of(inst, "f1"));

    /* the host's wj_table_grow, with a function and with null */
    wj_table *t = table_of(inst, "t");
    uint64_t old = 0;
    wj_val f1 = v_func(func_of(inst, "f1"));
    ck_assert(wj_table_grow(t, 1, &f1, &old));
    ck_assert_uint_eq(old, 13);
    ck_assert(wj_table_grow(t, 1, NULL, &old));
    ck_assert_uint_eq(old, 14);
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1, 103, 103, -1, -1, -1, 101, -1);
    w_close(&w);

    /* the host grows first */
    inst = lazy_open(&w);
    t = table_of(inst, "t");
    ck_assert(wj_table_grow(t, 2, NULL, &old));
    ck_assert_uint_eq(old, 8);
    I32(inst, "grow_f3", 10, ARGS(v_i32(1)));
    CHECK_T(&w, inst, 100, 101, 102, -2, -1, -1, 105, -1, -1, -1, 103);
    w_close(&w);
}

/* A table of no elements grown by table.grow with null, then with a
 * function. */
LAZY_TEST(grow_empty_table)
{
    static const char wat[] =
        "(module\n"
        "  (type $v_i (func (result i32)))\n"
        "  (table $z (export \"z\") 0 funcref)\n"
        "  (elem declare func $f)\n"
        "  (func $f (type $v_i) i32.const 6)\n"
        "  (func (export \"grow_null\") (param i32) (result i32) ref.null func local.get 0 table.grow $z)\n"
        "  (func (export \"grow_f\") (param i32) (result i32) ref.func $f local.get 0 table.grow $z)\n"
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $z (type $v_i))\n"
        "  (func (export \"is_null\") (param i32) (result i32) local.get 0 table.get $z ref.is_null)\n"
        ")\n";
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    TRAP(&w, inst, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    I32(inst, "grow_null", 0, ARGS(v_i32(2)));
    I32(inst, "grow_f", 2, ARGS(v_i32(2)));
    for (int i = 0; i < 2; i++) {
        TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(i)));
        I32(inst, "is_null", 1, ARGS(v_i32(i)));
        ck_assert_ptr_null(host_get(table_of(inst, "z"), (uint64_t)i));
    }
    I32(inst, "ci", 6, ARGS(v_i32(2)));
    I32(inst, "ci", 6, ARGS(v_i32(3)));
    TRAP(&w, inst, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(4)));
    w_close(&w);

    /* grown first with a function */
    inst = w_open_module(&w, wat);
    I32(inst, "grow_f", 0, ARGS(v_i32(1)));
    I32(inst, "ci", 6, ARGS(v_i32(0)));
    I32(inst, "is_null", 0, ARGS(v_i32(0)));
    w_close(&w);
}

LAZY_TEST(fill_over_lazy_elements)
{
    world w;
    wj_instance *inst = lazy_open(&w);
    /* [1], [2] never read; [5] and [6] read first */
    I32(inst, "is_null", 1, ARGS(v_i32(5)));
    I32(inst, "ci", 105, ARGS(v_i32(6)));
    OK(inst, "fill_f3", ARGS(v_i32(1), v_i32(2)));
    OK(inst, "fill_f3", ARGS(v_i32(5), v_i32(1)));
    OK(inst, "fill_null", ARGS(v_i32(6), v_i32(2)));
    OK(inst, "fill_null", ARGS(v_i32(0), v_i32(0)));
    CHECK_T(&w, inst, 100, 103, 103, -2, -1, 103, -1, -1);
    w_close(&w);

    inst = lazy_open(&w);
    OK(inst, "fill_null", ARGS(v_i32(0), v_i32(8)));
    CHECK_T(&w, inst, -1, -1, -1, -1, -1, -1, -1, -1);
    TRAP(&w, inst, "fill_f3", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(7), v_i32(2)));
    CHECK_T(&w, inst, -1, -1, -1, -1, -1, -1, -1, -1);
    w_close(&w);
}

/* ==== shared tables ==================================================================== */

/* $a0 and $a1 read the instance's global $id. [2] is $a0 until an
 * importer's segment writes it. */
static const char exporter_wat[] =
    "(module $A\n"
    "  (type $v_i (func (result i32)))\n"
    "  (global $id (export \"id\") (mut i32) (i32.const 1))\n"
    "  (table $t (export \"t\") 5 funcref)\n"
    "  (elem (table $t) (i32.const 0) func $a0 $a1 $a0)\n"
    "  (func $a0 (type $v_i) global.get $id)\n"
    "  (func $a1 (type $v_i) global.get $id i32.const 10 i32.add)\n"
    "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
    "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
    ")\n";

/* Imports A's table and writes [2] with its own segment. */
static const char importer_wat[] =
    "(module $B\n"
    "  (type $v_i (func (result i32)))\n"
    "  (import \"a\" \"t\" (table $t 5 funcref))\n"
    "  (global $id (mut i32) (i32.const 2))\n"
    "  (elem (table $t) (i32.const 2) func $b2)\n"
    "  (elem declare func $b3)\n"
    "  (func $b2 (type $v_i) global.get $id i32.const 20 i32.add)\n"
    "  (func $b3 (type $v_i) i32.const 33)\n"
    "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
    "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
    "  (func (export \"set_b3\") (param i32) local.get 0 ref.func $b3 table.set $t)\n"
    "  (func (export \"set_null\") (param i32) local.get 0 ref.null func table.set $t)\n"
    ")\n";

LAZY_TEST(shared_table)
{
    world w;
    w_open(&w);
    wj_module *ma = w_module(&w, exporter_wat), *mb = w_module(&w, importer_wat);
    wj_instance *a1 = w_instance(&w, ma, NULL, 0), *a2 = w_instance(&w, ma, NULL, 0);
    ck_assert_no_wj_error(wj_global_set(export_of(a2, "id", WJ_EXTERN_GLOBAL).of.global,
                                        &(wj_val){.kind = WJ_I32, .of.i32 = 5}));
    wj_extern t2 = export_of(a2, "t", WJ_EXTERN_TABLE);
    wj_instance *b = w_instance(&w, mb, &t2, 1);

    /* B calls elements A2 never touched: A2's functions, in A2 */
    I32(b, "ci", 15, ARGS(v_i32(1)));
    wj_func *a0 = REF(b, "get", ARGS(v_i32(0)));
    ck_assert_ptr_eq(REF(a2, "get", ARGS(v_i32(0))), a0);
    ck_assert_ptr_eq(host_get(t2.of.table, 0), a0);
    ck_assert_int_eq(ok_(__LINE__, a0, "a0", NOARGS).of.i32, 5);
    I32(b, "ci", 5, ARGS(v_i32(0)));
    /* B's segment over A2's lazy [2]: B's function, in B */
    I32(b, "ci", 22, ARGS(v_i32(2)));
    I32(a2, "ci", 22, ARGS(v_i32(2)));
    TRAP(&w, b, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(3)));
    TRAP(&w, b, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(5)));

    /* B's writes, seen by A2 */
    OK(b, "set_b3", ARGS(v_i32(3)));
    OK(b, "set_null", ARGS(v_i32(1)));
    I32(a2, "ci", 33, ARGS(v_i32(3)));
    TRAP(&w, a2, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(1)));
    ck_assert_ptr_null(REF(a2, "get", ARGS(v_i32(1))));
    ck_assert_ptr_eq(REF(a2, "get", ARGS(v_i32(3))), REF(b, "get", ARGS(v_i32(3))));
    I32(a2, "ci", 5, ARGS(v_i32(0)));

    /* A1's table is its own: nothing of B's or of A2's global */
    I32(a1, "ci", 1, ARGS(v_i32(0)));
    I32(a1, "ci", 11, ARGS(v_i32(1)));
    I32(a1, "ci", 1, ARGS(v_i32(2)));
    TRAP(&w, a1, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(3)));
    ck_assert_ptr_ne(REF(a1, "get", ARGS(v_i32(0))), a0);
    w_close(&w);
}

/* B is first to read the shared table (table.get), and nulls an element
 * A never read. */
LAZY_TEST(shared_table_read_first_by_importer)
{
    world w;
    w_open(&w);
    wj_module *ma = w_module(&w, exporter_wat), *mb = w_module(&w, importer_wat);
    wj_instance *a = w_instance(&w, ma, NULL, 0);
    wj_extern t = export_of(a, "t", WJ_EXTERN_TABLE);
    wj_instance *b = w_instance(&w, mb, &t, 1);
    wj_func *a1 = REF(b, "get", ARGS(v_i32(1)));
    ck_assert_ptr_nonnull(a1);
    ck_assert_int_eq(ok_(__LINE__, a1, "a1", NOARGS).of.i32, 11);
    ck_assert_ptr_eq(REF(a, "get", ARGS(v_i32(1))), a1);
    OK(b, "set_null", ARGS(v_i32(0)));
    TRAP(&w, a, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    I32(a, "ci", 11, ARGS(v_i32(1)));
    w_close(&w);
}

/* Tables the host makes (their elements are never lazy), initialised with
 * a function and with null, imported and called through. */
LAZY_TEST(host_tables)
{
    static const char wat[] =
        "(module\n"
        "  (type $v_i (func (result i32)))\n"
        "  (import \"env\" \"t\" (table $t 2 funcref))\n"
        "  (func $nine (type $v_i) i32.const 9)\n"
        "  (elem (table $t) (i32.const 1) func $nine)\n"
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
        "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
        ")\n";
    world w;
    w_open(&w);
    wj_module *m = w_module(&w, wat);
    wj_func *h = wj_func_new(w.store, &v_i_type, host_seven, NULL, NULL);
    wj_val init = v_func(h);
    wj_extern full = {.kind = WJ_EXTERN_TABLE}, empty = {.kind = WJ_EXTERN_TABLE};
    const wj_tabletype type = {WJ_FUNCREF, {.min = 3}};
    ck_assert_no_wj_error(wj_table_new(w.store, &type, &init, &full.of.table));
    ck_assert_no_wj_error(wj_table_new(w.store, &type, NULL, &empty.of.table));
    ck_assert_ptr_eq(host_get(full.of.table, 2), h);
    wj_instance *a = w_instance(&w, m, &full, 1), *b = w_instance(&w, m, &empty, 1);
    I32(a, "ci", 7, ARGS(v_i32(0)));
    I32(a, "ci", 9, ARGS(v_i32(1)));
    I32(a, "ci", 7, ARGS(v_i32(2)));
    ck_assert_ptr_eq(REF(a, "get", ARGS(v_i32(2))), h);
    TRAP(&w, b, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    I32(b, "ci", 9, ARGS(v_i32(1)));
    TRAP(&w, b, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(2)));
    ck_assert_ptr_null(REF(b, "get", ARGS(v_i32(2))));
    ck_assert_ptr_null(host_get(empty.of.table, 0));
    w_close(&w);
}

/* ==== instantiation that traps ========================================================= */

/* Imports a table T (5 elements), defines D. seg1 writes $g into T[3];
 * seg2 is out of bounds of T, so instantiation traps there; seg0 applies
 * before, seg3 (into D) never. $g calls D's elements. */
static const char partial_wat[] =
    "(module $C\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $i_i (func (param i32) (result i32)))\n"
    "  (import \"a\" \"t\" (table $T 5 funcref))\n"
    "  (table $D 4 funcref)\n"
    "  (elem (table $D) (i32.const 0) func $d0)\n"
    "  (elem (table $T) (i32.const 3) func $g)\n"
    "  (elem (table $T) (i32.const 4) func $d0 $d0)\n"
    "  (elem (table $D) (i32.const 1) func $d1)\n"
    "  (func $d0 (type $v_i) i32.const 40)\n"
    "  (func $d1 (type $v_i) i32.const 41)\n"
    "  (func $g (type $i_i) local.get 0 call_indirect $D (type $v_i))\n"
    ")\n";

/* The same with seg2 out of bounds of D itself (known from the module). */
static const char partial_static_wat[] =
    "(module $C\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $i_i (func (param i32) (result i32)))\n"
    "  (import \"a\" \"t\" (table $T 5 funcref))\n"
    "  (table $D 4 funcref)\n"
    "  (elem (table $D) (i32.const 0) func $d0)\n"
    "  (elem (table $T) (i32.const 3) func $g)\n"
    "  (elem (table $D) (i32.const 3) func $d0 $d0)\n"
    "  (elem (table $D) (i32.const 1) func $d1)\n"
    "  (func $d0 (type $v_i) i32.const 40)\n"
    "  (func $d1 (type $v_i) i32.const 41)\n"
    "  (func $g (type $i_i) local.get 0 call_indirect $D (type $v_i))\n"
    ")\n";

/* The element segments all apply; the start function traps. */
static const char start_traps_wat[] =
    "(module $C\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $i_i (func (param i32) (result i32)))\n"
    "  (import \"a\" \"t\" (table $T 5 funcref))\n"
    "  (table $D 4 funcref)\n"
    "  (elem (table $D) (i32.const 0) func $d0)\n"
    "  (elem (table $T) (i32.const 3) func $g)\n"
    "  (elem (table $D) (i32.const 1) func $d1)\n"
    "  (func $d0 (type $v_i) i32.const 40)\n"
    "  (func $d1 (type $v_i) i32.const 41)\n"
    "  (func $g (type $i_i) local.get 0 call_indirect $D (type $v_i))\n"
    "  (func $start unreachable)\n"
    "  (start $start)\n"
    ")\n";

/* Instantiates `wat` importing A's table, which must trap with `code`;
 * then checks what $g (T[3]) finds in D: want[i] for D[i], -1 for an
 * uninitialized element. */
static void check_partial(const char *wat, wj_trap_code code, const int want[4])
{
    world w;
    w_open(&w);
    wj_module *ma = w_module(&w, exporter_wat), *mc = w_module(&w, wat);
    wj_instance *a = w_instance(&w, ma, NULL, 0);
    wj_extern t = export_of(a, "t", WJ_EXTERN_TABLE);
    wj_instance *c = NULL;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_instance_new(w.store, mc, &t, 1, &c, &trap));
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(trap);
    ck_assert_int_eq(wj_trap_code_of(trap), code);
    wj_trap_delete(trap);

    wj_func *g = host_get(t.of.table, 3);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_eq(REF(a, "get", ARGS(v_i32(3))), g);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 4; i++) {
            wj_val res = {0};
            trap = call_func(g, ARGS(v_i32(i)), &res);
            if (want[i] >= 0) {
                ck_assert_msg(!trap && res.of.i32 == want[i], "D[%d]: want %d, got %d (%s)", i,
                              want[i], res.of.i32, trap ? wj_trap_message(trap) : "no trap");
            } else {
                ck_assert_msg(trap, "D[%d]: no trap", i);
                check_trap_(__LINE__, &w, trap, UNINIT, 2, OP_CALL_INDIRECT); /* in $g */
            }
        }
    }
    /* A's own elements and [4] are as they were */
    I32(a, "ci", 1, ARGS(v_i32(0)));
    I32(a, "ci", 11, ARGS(v_i32(1)));
    I32(a, "ci", 1, ARGS(v_i32(2)));
    TRAP(&w, a, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(4)));
    w_close(&w);
}

LAZY_TEST(trapping_instantiation_imported_table)
{
    check_partial(partial_wat, WJ_TRAP_TABLE_OUT_OF_BOUNDS, (const int[]){40, -1, -1, -1});
}

/* $g of a second instance of partial_wat, whose T has room for seg2
 * (a host's table), sees seg3; the failed one's still does not. */
LAZY_TEST(trapping_then_complete_instantiation)
{
    world w;
    w_open(&w);
    wj_module *mc = w_module(&w, partial_wat);
    wj_extern small = {.kind = WJ_EXTERN_TABLE}, big = {.kind = WJ_EXTERN_TABLE};
    ck_assert_no_wj_error(
        wj_table_new(w.store, &(wj_tabletype){WJ_FUNCREF, {.min = 5}}, NULL, &small.of.table));
    ck_assert_no_wj_error(
        wj_table_new(w.store, &(wj_tabletype){WJ_FUNCREF, {.min = 6}}, NULL, &big.of.table));
    wj_instance *c = NULL;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_instance_new(w.store, mc, &small, 1, &c, &trap));
    ck_assert_ptr_nonnull(trap);
    wj_trap_delete(trap);
    w_instance(&w, mc, &big, 1);
    wj_func *failed_g = host_get(small.of.table, 3), *g = host_get(big.of.table, 3);
    ck_assert_ptr_ne(failed_g, g);
    ck_assert_int_eq(ok_(__LINE__, g, "g", ARGS(v_i32(0))).of.i32, 40);
    ck_assert_int_eq(ok_(__LINE__, g, "g", ARGS(v_i32(1))).of.i32, 41);
    ck_assert_int_eq(ok_(__LINE__, failed_g, "g", ARGS(v_i32(0))).of.i32, 40);
    check_trap_(__LINE__, &w, call_func(failed_g, ARGS(v_i32(1)), NULL), UNINIT, 2,
                OP_CALL_INDIRECT);
    ck_assert_ptr_null(host_get(small.of.table, 4));
    ck_assert_ptr_eq(host_get(big.of.table, 4), host_get(big.of.table, 5));
    ck_assert_int_eq(ok_(__LINE__, host_get(big.of.table, 4), "d0", NOARGS).of.i32, 40);
    w_close(&w);
}

LAZY_TEST(trapping_instantiation_defined_table)
{
    check_partial(partial_static_wat, WJ_TRAP_TABLE_OUT_OF_BOUNDS,
                  (const int[]){40, -1, -1, -1});
}

LAZY_TEST(trapping_start_keeps_segments)
{
    check_partial(start_traps_wat, WJ_TRAP_UNREACHABLE, (const int[]){40, 41, -1, -1});
}

/* ==== passive segments ================================================================= */

/* $pg's first item is `global.get $gf` (item_to_global_get: wat2wasm
 * cannot write it), $gf being an imported funcref global; $marker is
 * only there to be replaced. */
static const char passive_wat[] =
    "(module\n"
    "  (type $v_i (func (result i32)))\n"
    "  (import \"env\" \"gf\" (global $gf funcref))\n"
    "  (table $t (export \"t\") 6 funcref)\n"
    "  (elem $p funcref (ref.func $p0) (ref.func $p1) (ref.null func))\n"
    "  (elem $pg funcref (ref.func $marker) (ref.func $p0) (ref.null func))\n"
    "  (elem $a (table $t) (i32.const 4) func $p1 $p1)\n"
    "  (func $marker (type $v_i) unreachable)\n"
    "  (func $p0 (type $v_i) i32.const 50)\n"
    "  (func $p1 (type $v_i) i32.const 51)\n"
    "  (func (export \"init_p\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.init $t $p)\n"
    "  (func (export \"init_pg\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.init $t $pg)\n"
    "  (func (export \"init_a\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.init $t $a)\n"
    "  (func (export \"drop_p\") elem.drop $p)\n"
    "  (func (export \"gf\") (result funcref) global.get $gf)\n"
    "  (func (export \"ref_p0\") (result funcref) ref.func $p0)\n"
    "  (func (export \"ref_p1\") (result funcref) ref.func $p1)\n"
    "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
    "  (func (export \"get\") (param i32) (result funcref) local.get 0 table.get $t)\n"
    ")\n";

/* table.init from passive segments: ref.func items, elem.drop, and a
 * global.get item, over elements read before and lazy ones; the active
 * segment $a is dropped once applied. */
LAZY_TEST(passive_segments)
{
    world w;
    w_open(&w);
    size_t len;
    uint8_t *bytes = wat_to_wasm(passive_wat, &len);
    item_to_global_get(bytes, len, 0, 0);
    wj_module *m = w_module_bytes(&w, bytes, len);
    wj_func *h = wj_func_new(w.store, &v_i_type, host_seven, NULL, NULL);
    ck_assert_ptr_nonnull(h);
    wj_extern gf = w_global(&w, v_func(h));
    wj_instance *inst = w_instance(&w, m, &gf, 1);
    uint32_t ci = export_index(m, "ci");
    for (int i = 0; i < 4; i++)
        check_trap_(__LINE__, &w, call_func(func_of(inst, "ci"), ARGS(v_i32(i)), NULL), UNINIT,
                    ci, OP_CALL_INDIRECT);
    I32(inst, "ci", 51, ARGS(v_i32(4))); /* $a; [5] is not read before init_pg writes it */
    TRAP(&w, inst, "init_a", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(0), v_i32(0), v_i32(1)));
    OK(inst, "init_a", ARGS(v_i32(6), v_i32(0), v_i32(0)));
    TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    OK(inst, "init_p", ARGS(v_i32(1), v_i32(0), v_i32(3)));
    I32(inst, "ci", 50, ARGS(v_i32(1)));
    I32(inst, "ci", 51, ARGS(v_i32(2)));
    TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(3)));
    TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    /* the segment's references are ref.func's */
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(1))), REF(inst, "ref_p0", NOARGS));
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(2))), REF(inst, "ref_p1", NOARGS));

    OK(inst, "drop_p", NOARGS);
    TRAP(&w, inst, "init_p", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(0), v_i32(0), v_i32(1)));
    OK(inst, "init_p", ARGS(v_i32(0), v_i32(0), v_i32(0)));
    TRAP(&w, inst, "init_p", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(0), v_i32(1), v_i32(0)));

    /* the global.get item: the global's function */
    ck_assert_ptr_eq(REF(inst, "gf", NOARGS), h);
    OK(inst, "init_pg", ARGS(v_i32(3), v_i32(0), v_i32(3)));
    I32(inst, "ci", 7, ARGS(v_i32(3)));
    I32(inst, "ci", 50, ARGS(v_i32(4)));
    TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(5)));
    ck_assert_ptr_eq(REF(inst, "get", ARGS(v_i32(3))), h);
    TRAP(&w, inst, "init_pg", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(4), v_i32(0), v_i32(3)));
    TRAP(&w, inst, "init_pg", TABLE_OOB, OP_PREFIX_FC, ARGS(v_i32(0), v_i32(1), v_i32(3)));
    I32(inst, "ci", 50, ARGS(v_i32(1)));
    I32(inst, "ci", 51, ARGS(v_i32(2)));
    TRAP(&w, inst, "ci", UNINIT, OP_CALL_INDIRECT, ARGS(v_i32(0)));
    w_close(&w);
}

/* ==== externref tables ================================================================= */

/* Elements are host values as they are: small odd integers too. */
LAZY_TEST(externref_table_unaffected)
{
    static const char wat[] =
        "(module\n"
        "  (table $e (export \"e\") 4 externref)\n"
        "  (func (export \"set\") (param i32 externref) local.get 0 local.get 1 table.set $e)\n"
        "  (func (export \"get\") (param i32) (result externref) local.get 0 table.get $e)\n"
        "  (func (export \"is_null\") (param i32) (result i32) local.get 0 table.get $e ref.is_null)\n"
        "  (func (export \"fill\") (param i32 externref i32)\n"
        "    local.get 0 local.get 1 local.get 2 table.fill $e)\n"
        "  (func (export \"grow\") (param externref i32) (result i32)\n"
        "    local.get 0 local.get 1 table.grow $e)\n"
        "  (func (export \"copy\") (param i32 i32 i32)\n"
        "    local.get 0 local.get 1 local.get 2 table.copy $e $e)\n"
        ")\n";
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    wj_table *e = table_of(inst, "e");
    for (int i = 0; i < 4; i++) {
        I32(inst, "is_null", 1, ARGS(v_i32(i)));
        ck_assert_uint_eq(EXTERN(inst, "get", ARGS(v_i32(i))), 0);
    }
    OK(inst, "set", ARGS(v_i32(0), v_extern(1)));
    wj_val three = v_extern(3), five = v_extern(5);
    ck_assert(wj_table_set(e, 1, &three));
    OK(inst, "set", ARGS(v_i32(2), v_extern(2)));
    ck_assert_uint_eq(EXTERN(inst, "get", ARGS(v_i32(0))), 1);
    ck_assert_uint_eq(EXTERN(inst, "get", ARGS(v_i32(1))), 3);
    ck_assert_uint_eq(EXTERN(inst, "get", ARGS(v_i32(2))), 2);
    I32(inst, "is_null", 0, ARGS(v_i32(0)));
    I32(inst, "is_null", 0, ARGS(v_i32(1)));
    I32(inst, "is_null", 1, ARGS(v_i32(3)));
    uintptr_t want[] = {1, 3, 2, 0};
    for (uint64_t i = 0; i < 4; i++) {
        wj_val v;
        ck_assert(wj_table_get(e, i, &v));
        ck_assert_int_eq(v.kind, WJ_EXTERNREF);
        ck_assert_uint_eq((uintptr_t)v.of.externref, want[i]);
    }
    /* [0..3) = [1..4); fill [3] with 1; grow by 2 with 3, then 1 with null */
    OK(inst, "copy", ARGS(v_i32(0), v_i32(1), v_i32(3)));
    OK(inst, "fill", ARGS(v_i32(3), v_extern(1), v_i32(1)));
    I32(inst, "grow", 4, ARGS(v_extern(3), v_i32(2)));
    I32(inst, "grow", 6, ARGS(v_extern(0), v_i32(1)));
    uint64_t old = 0;
    ck_assert(wj_table_grow(e, 1, &five, &old));
    ck_assert_uint_eq(old, 7);
    uintptr_t after[] = {3, 2, 0, 1, 3, 3, 0, 5};
    ck_assert_uint_eq(wj_table_size(e), 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_uint_eq(EXTERN(inst, "get", ARGS(v_i32(i))), after[i]);
        I32(inst, "is_null", after[i] == 0, ARGS(v_i32(i)));
    }
    w_close(&w);
}

/* ==== many functions =================================================================== */

enum { MANY = 3000 };

/* $fI returns I; one segment puts them all in a table of MANY. */
static char *many_wat(void)
{
    text t = {0};
    put(&t, "(module\n  (type $v_i (func (result i32)))\n");
    put(&t, "  (table $t (export \"t\") %d funcref)\n  (elem (table $t) (i32.const 0) func", MANY);
    for (int i = 0; i < MANY; i++)
        put(&t, " $f%d", i);
    put(&t, ")\n");
    for (int i = 0; i < MANY; i++)
        put(&t, "  (func $f%d (type $v_i) i32.const %d)\n", i, i);
    put(&t,
        "  (func (export \"ci\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
        "  (func (export \"sum\") (result i64) (local $i i32) (local $s i64)\n"
        "    (loop $l\n"
        "      local.get $s local.get $i call_indirect $t (type $v_i) i64.extend_i32_u i64.add\n"
        "      local.set $s\n"
        "      local.get $i i32.const 1 i32.add local.tee $i i32.const %d i32.lt_u br_if $l)\n"
        "    local.get $s)\n)\n",
        MANY);
    return t.s;
}

LAZY_TEST(many_functions)
{
    char *wat = many_wat();
    world w;
    wj_instance *inst = w_open_module(&w, wat);
    free(wat);
    wj_instance *other = w_instance(&w, w.mods[0].module, NULL, 0);
    wj_func *ci = func_of(inst, "ci");
    /* every other one by call_indirect from the host's calls, backwards */
    for (int i = MANY - 1; i >= 0; i -= 2)
        ck_assert_int_eq(ok_(__LINE__, ci, "ci", ARGS(v_i32(i))).of.i32, i);
    for (int round = 0; round < 2; round++) {
        wj_val s = ok_(__LINE__, func_of(inst, "sum"), "sum", NOARGS);
        ck_assert_int_eq(s.of.i64, (int64_t)MANY * (MANY - 1) / 2);
    }
    TRAP(&w, inst, "ci", UNDEFINED, OP_CALL_INDIRECT, ARGS(v_i32(MANY)));
    /* the other instance, first through the host API */
    wj_table *t = table_of(other, "t"), *mine = table_of(inst, "t");
    for (int i = 0; i < MANY; i++) {
        wj_func *f = host_get(t, (uint64_t)i);
        ck_assert_int_eq(ok_(__LINE__, f, "f", NOARGS).of.i32, i);
        ck_assert_ptr_ne(f, host_get(mine, (uint64_t)i));
    }
    wj_val s = ok_(__LINE__, func_of(other, "sum"), "sum", NOARGS);
    ck_assert_int_eq(s.of.i64, (int64_t)MANY * (MANY - 1) / 2);
    w_close(&w);
}

/* ==== the pooling allocator's table limit ============================================== */

/* A table may have exactly the configured pooling.table_elements, not
 * what its page-rounded block could hold (1000 elements: 8000 bytes, a
 * block of 8192). */
START_TEST(pooled_table_limit)
{
    static const char at_limit[] =
        "(module\n"
        "  (table $t (export \"t\") 1000 funcref)\n"
        "  (func (export \"grow\") (param i32) (result i32) ref.null func local.get 0 table.grow $t)\n"
        ")\n";
    wj_config *config = wj_config_new();
    wj_pooling_config limits;
    wj_pooling_config_init(&limits);
    limits.instances = 2;
    limits.memories = 1;
    limits.tables = 2;
    limits.table_elements = 1000;
    wj_config_set_pooling(config, &limits);
    world w = {.engine = wj_engine_new(config)};
    wj_config_delete(config);
    ck_assert_ptr_nonnull(w.engine);
    w.store = wj_store_new(w.engine);
    wj_instance *inst = w_instance(&w, w_module(&w, at_limit), NULL, 0);
    I32(inst, "grow", -1, ARGS(v_i32(1)));
    ck_assert(!wj_table_grow(table_of(inst, "t"), 1, NULL, NULL));
    ck_assert_uint_eq(wj_table_size(table_of(inst, "t")), 1000);

    wj_module *over = w_module(&w, "(module (table 1001 funcref))");
    wj_instance *none = NULL;
    wj_error *err = wj_instance_new(w.store, over, NULL, 0, &none, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(wj_error_kind_of(err), WJ_ERROR_RESOURCE);
    ck_assert_str_eq(wj_error_message(err),
                     "pooling allocator: table of 1001 elements is over the limit of 1000 elements");
    wj_error_delete(err);
    ck_assert_ptr_null(none);
    w_close(&w);
}
END_TEST

static Suite *lazy_suite(void)
{
    Suite *s = suite_create("lazy");
    TCase *refs = tcase_create("references");
    tcase_add_loop_test(refs, identity_of_references, 0, ALLOCATORS);
    tcase_add_loop_test(refs, identity_of_imported_function, 0, ALLOCATORS);
    suite_add_tcase(s, refs);
    TCase *elems = tcase_create("elements");
    tcase_add_loop_test(elems, explicit_null_after_lazy_init, 0, ALLOCATORS);
    tcase_add_loop_test(elems, call_indirect_uninitialised_elements, 0, ALLOCATORS);
    tcase_add_loop_test(elems, slow_path_keeps_values, 0, ALLOCATORS);
    tcase_add_loop_test(elems, backtrace_through_lazy_element, 0, ALLOCATORS);
    tcase_add_loop_test(elems, later_segments_override, 0, ALLOCATORS);
    tcase_add_loop_test(elems, copy_overlapping_forward, 0, ALLOCATORS);
    tcase_add_loop_test(elems, copy_overlapping_backward, 0, ALLOCATORS);
    tcase_add_loop_test(elems, copy_between_tables, 0, ALLOCATORS);
    tcase_add_loop_test(elems, instances_one_after_another, 0, ALLOCATORS);
    tcase_add_loop_test(elems, grow_with_init_value, 0, ALLOCATORS);
    tcase_add_loop_test(elems, grow_empty_table, 0, ALLOCATORS);
    tcase_add_loop_test(elems, fill_over_lazy_elements, 0, ALLOCATORS);
    tcase_add_loop_test(elems, externref_table_unaffected, 0, ALLOCATORS);
    suite_add_tcase(s, elems);
    TCase *linking = tcase_create("linking");
    tcase_add_loop_test(linking, shared_table, 0, ALLOCATORS);
    tcase_add_loop_test(linking, shared_table_read_first_by_importer, 0, ALLOCATORS);
    tcase_add_loop_test(linking, trapping_instantiation_imported_table, 0, ALLOCATORS);
    tcase_add_loop_test(linking, trapping_instantiation_defined_table, 0, ALLOCATORS);
    tcase_add_loop_test(linking, trapping_then_complete_instantiation, 0, ALLOCATORS);
    tcase_add_loop_test(linking, host_tables, 0, ALLOCATORS);
    tcase_add_loop_test(linking, trapping_start_keeps_segments, 0, ALLOCATORS);
    suite_add_tcase(s, linking);
    TCase *segments = tcase_create("segments");
    tcase_add_loop_test(segments, passive_segments, 0, ALLOCATORS);
    tcase_add_loop_test(segments, many_functions, 0, ALLOCATORS);
    tcase_set_timeout(segments, 60);
    suite_add_tcase(s, segments);
    TCase *pool = tcase_create("pooling");
    tcase_add_test(pool, pooled_table_limit);
    suite_add_tcase(s, pool);
    return s;
}

int main(void)
{
    return unit_run(lazy_suite());
}
