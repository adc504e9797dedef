/* Instantiation's reuse of memory through the public API (linked against
 * libwasmjail.la): the pooling allocator's slots and the default
 * allocator's reused memory reservations never show one instance's
 * memory, globals or tables to the next; copy-on-write memory images give
 * exactly the bytes that copying the data segments gives (page boundaries,
 * overlaps, empty segments, passive segments, writes of other instances),
 * also when an instantiation traps halfway; the pooling allocator's limits
 * fail with resource errors that name them; 100,000 pooled instantiations
 * keep the resident set flat; threads sharing one engine (either
 * allocator) see only their own writes.
 *
 * Pools are small: each memory slot reserves 6 GiB of address space.
 * Modules are written in the text format and converted at test time by
 * wabt's wat2wasm (wat.h), with multi-memory enabled. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wasmjail.h>

#include "unit.h"
#include "wat.h"

#define WASM_PAGE 65536u

static const char *const wat_opts[] = {"--enable-multi-memory", NULL};

/* ==== helpers ====================================================================== */

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

/* printf into a new string; the caller frees it. */
__attribute__((format(printf, 1, 2))) static char *fmt(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *s = NULL;
    int n = vasprintf(&s, format, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    return s;
}

/* The configurations the tests run under: allocator and images. */
enum { POOLED = 1, NO_IMAGES = 2 };
static const char *const config_names[] = {"default allocator, images",
                                           "pooling allocator, images",
                                           "default allocator, no images",
                                           "pooling allocator, no images"};

/* A pool of `n` of everything, tables of up to 64 elements. */
static wj_pooling_config small_pool(uint32_t n)
{
    wj_pooling_config p;
    wj_pooling_config_init(&p);
    p.instances = p.memories = p.tables = n;
    p.table_elements = 64;
    return p;
}

static wj_engine *engine_with(unsigned opts, const wj_pooling_config *pool)
{
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    wj_config_set_memory_images(config, !(opts & NO_IMAGES));
    wj_pooling_config fallback = small_pool(4);
    if (opts & POOLED)
        wj_config_set_pooling(config, pool ? pool : &fallback);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(engine);
    return engine;
}

static wj_module *compile(wj_engine *engine, const char *wat)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(wat, wat_opts, &len);
    wj_module *module = NULL;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    free(bytes);
    ck_assert_no_wj_error(err);
    return module;
}

/* The instantiation's error (NULL: it worked); a trap fails the test. */
static wj_error *try_instantiate(wj_store *store, const wj_module *module, const wj_extern *imports,
                                 size_t n, wj_instance **out)
{
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(store, module, imports, n, out, &trap);
    ck_assert_msg(trap == NULL, "unexpected trap: %s", trap ? wj_trap_message(trap) : "");
    return err;
}

static wj_instance *instantiate(wj_store *store, const wj_module *module, const wj_extern *imports,
                                size_t n)
{
    wj_instance *inst = NULL;
    wj_error *err = try_instantiate(store, module, imports, n, &inst);
    ck_assert_no_wj_error(err);
    ck_assert_ptr_nonnull(inst);
    return inst;
}

/* Instantiation fails with a resource error whose message starts with
 * `prefix`, and makes no instance. */
static void instantiate_fails(wj_store *store, const wj_module *module, const char *prefix)
{
    wj_instance *inst = NULL;
    wj_error *err = try_instantiate(store, module, NULL, 0, &inst);
    ck_assert_msg(err != NULL, "instantiation succeeded; expected \"%s...\"", prefix);
    ck_assert_error_is(wj_error_kind_of(err), wj_error_message(err), 0, WJ_ERROR_RESOURCE, prefix,
                       0);
    ck_assert_ptr_null(inst);
    wj_error_delete(err);
}

static wj_extern export_of(const wj_instance *inst, const char *name, wj_extern_kind kind)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(inst, name, strlen(name), &ext), "no export %s", name);
    ck_assert_int_eq(ext.kind, kind);
    return ext;
}

static wj_memory *memory_of(const wj_instance *inst)
{
    return export_of(inst, "mem", WJ_EXTERN_MEMORY).of.memory;
}

static wj_table *table_of(const wj_instance *inst)
{
    return export_of(inst, "tab", WJ_EXTERN_TABLE).of.table;
}

/* Calls func with n i32 arguments; its i32 result (0 if it has none) in
 * *result. */
static wj_trap *invoke_func(wj_func *f, int32_t *result, int n, va_list ap)
{
    wj_val args[4], res[1] = {{0}};
    ck_assert_int_le(n, 4);
    for (int i = 0; i < n; i++)
        args[i] = (wj_val){.kind = WJ_I32, .of.i32 = va_arg(ap, int32_t)};
    wj_functype type;
    wj_func_type(f, &type);
    ck_assert_uint_le(type.result_count, 1);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f, args, (size_t)n, res, type.result_count, &trap);
    ck_assert_no_wj_error(err);
    *result = res[0].of.i32;
    return trap;
}

/* Calls export `name` with n i32 arguments; it must not trap. */
static int32_t call(const wj_instance *inst, const char *name, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int32_t result;
    wj_trap *trap = invoke_func(export_of(inst, name, WJ_EXTERN_FUNC).of.func, &result, n, ap);
    va_end(ap);
    ck_assert_msg(trap == NULL, "%s trapped: %s", name, trap ? wj_trap_message(trap) : "");
    return result;
}

/* Calls export `name`, which must trap with `code`. */
static void call_traps(const wj_instance *inst, wj_trap_code code, const char *name, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int32_t result;
    wj_trap *trap = invoke_func(export_of(inst, name, WJ_EXTERN_FUNC).of.func, &result, n, ap);
    va_end(ap);
    ck_assert_msg(trap != NULL, "%s did not trap (returned %d)", name, result);
    ck_assert_int_eq(wj_trap_code_of(trap), code);
    wj_trap_delete(trap);
}

/* Calls the function in element `index` of the table with one i32. */
static int32_t call_element(const wj_table *table, uint64_t index, int32_t arg)
{
    wj_val f;
    ck_assert(wj_table_get(table, index, &f));
    ck_assert_ptr_nonnull(f.of.funcref);
    wj_val args[1] = {{.kind = WJ_I32, .of.i32 = arg}}, res[1];
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f.of.funcref, args, 1, res, 1, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_msg(trap == NULL, "trapped: %s", trap ? wj_trap_message(trap) : "");
    return res[0].of.i32;
}

static int64_t global_value(const wj_instance *inst, const char *name)
{
    wj_val v;
    wj_global_get(export_of(inst, name, WJ_EXTERN_GLOBAL).of.global, &v);
    return v.kind == WJ_I64 ? v.of.i64 : v.kind == WJ_I32 ? v.of.i32 : (intptr_t)v.of.funcref;
}

/* `len` bytes of `mem` are `want`'s; a failure names the first that is not. */
static void assert_bytes(const uint8_t *mem, const uint8_t *want, size_t len, const char *what)
{
    size_t i = 0;
    while (i < len && mem[i] == want[i])
        i++;
    ck_assert_msg(i == len, "%s: byte %zu is 0x%02x, expected 0x%02x", what, i,
                  i < len ? mem[i] : 0, i < len ? want[i] : 0);
}

/* Whether a memory image (its memfd) is mapped inside [base, base + len). */
static bool image_mapped(const uint8_t *base, uint64_t len)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(maps);
    char line[4096];
    bool found = false;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strstr(line, "wasmjail-memory-image") &&
            lo >= (uintptr_t)base && hi <= (uintptr_t)base + len)
            found = true;
    }
    fclose(maps);
    return found;
}

/* ==== reused slots and reservations show nothing of the previous instance ========== */

/* Writes secrets everywhere it can: its memory grown to 5 pages (beyond
 * its data segment), its globals, its table grown to 12 funcrefs, and it
 * drops its passive segments. */
static const char secret_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 2 10)\n"
    "  (table (export \"tab\") 4 64 funcref)\n"
    "  (global (export \"g32\") (mut i32) (i32.const 7))\n"
    "  (global (export \"g64\") (mut i64) (i64.const 9))\n"
    "  (global (export \"gref\") (mut funcref) (ref.null func))\n"
    "  (data (i32.const 16) \"AAAA\")\n"
    "  (data $p \"passive\")\n"
    "  (elem $pe func $secret)\n"
    "  (func $secret (export \"secret\") (param i32) (result i32) (i32.const 0x5ec2e7))\n"
    "  (func (export \"size\") (result i32) (memory.size))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"load8\") (param i32) (result i32) (i32.load8_u (local.get 0)))\n"
    /* the effective address is 6 GiB - 17: in the guard region */
    "  (func (export \"load_guard\") (result i32)\n"
    "    (i32.load offset=0x7fffffff (i32.const 0xfffffff0)))\n"
    "  (func (export \"scribble\")\n"
    "    (memory.fill (i32.const 0) (i32.const 0x5a)\n"
    "                 (i32.mul (memory.size) (i32.const 65536)))\n"
    "    (global.set 0 (i32.const 0x5ec2e7))\n"
    "    (global.set 1 (i64.const 0x5ec2e75ec2e7))\n"
    "    (global.set 2 (ref.func $secret))\n"
    "    (table.set 0 (i32.const 1) (ref.func $secret))\n"
    "    (drop (table.grow 0 (ref.func $secret) (i32.const 8)))\n"
    "    (table.fill 0 (i32.const 0) (ref.func $secret) (table.size 0))\n"
    "    (data.drop $p)\n"
    "    (elem.drop $pe))\n"
    "  (func (export \"tab_size\") (result i32) (table.size 0))\n"
    "  (func (export \"tab_null\") (param i32) (result i32)\n"
    "    (ref.is_null (table.get 0 (local.get 0))))\n"
    "  (func (export \"init_passive\") (param i32)\n"
    "    (memory.init $p (local.get 0) (i32.const 0) (i32.const 7)))\n"
    "  (func (export \"init_elem\") (param i32)\n"
    "    (table.init $pe (local.get 0) (i32.const 0) (i32.const 1))))\n";

/* Smaller than the secret module's: 1 page, data at its very end, 2 table
 * elements. */
static const char smaller_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 1)\n"
    "  (table (export \"tab\") 2 funcref)\n"
    "  (global (export \"g\") (mut i32) (i32.const -1))\n"
    "  (data (i32.const 65534) \"BB\")\n"
    "  (func (export \"load8\") (param i32) (result i32) (i32.load8_u (local.get 0)))\n"
    "  (func (export \"load32\") (param i32) (result i32) (i32.load (local.get 0)))\n"
    "  (func (export \"load_guard\") (result i32)\n"
    "    (i32.load offset=0x7fffffff (i32.const 0xfffffff0)))\n"
    "  (func (export \"tab_size\") (result i32) (table.size 0))\n"
    "  (func (export \"tab_null\") (param i32) (result i32)\n"
    "    (ref.is_null (table.get 0 (local.get 0)))))\n";

/* Larger than what the secret module grew to: 8 pages, no data, 30
 * table elements. */
static const char larger_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 8)\n"
    "  (table (export \"tab\") 30 funcref)\n"
    "  (global (export \"g\") (mut i64) (i64.const 3))\n"
    "  (func (export \"load8\") (param i32) (result i32) (i32.load8_u (local.get 0)))\n"
    "  (func (export \"tab_size\") (result i32) (table.size 0))\n"
    "  (func (export \"tab_null\") (param i32) (result i32)\n"
    "    (ref.is_null (table.get 0 (local.get 0)))))\n";

typedef struct reuse {
    wj_engine *engine;
    unsigned opts;
    wj_module *secret, *smaller, *larger;
    uint8_t *base; /* the memory every instance of the test gets */
} reuse;

/* An instance in a new store, in the same memory reservation as every
 * other one of the test; with the pool of one instance, nothing else can
 * be instantiated meanwhile. */
static wj_instance *reuse_instance(reuse *r, wj_store **store, const wj_module *module)
{
    *store = wj_store_new(r->engine);
    ck_assert_ptr_nonnull(*store);
    wj_instance *inst = instantiate(*store, module, NULL, 0);
    uint8_t *base = wj_memory_data(memory_of(inst));
    if (!r->base)
        r->base = base;
    ck_assert_msg(base == r->base, "the memory is at %p, not in the previous one's slot %p",
                  (void *)base, (void *)r->base);
    if (r->opts & POOLED) {
        wj_store *other = wj_store_new(r->engine);
        instantiate_fails(other, module, "pooling allocator: all 1 instance slots are in use");
        wj_store_delete(other);
    }
    return inst;
}

/* An instance of the secret module writes its secrets; its store goes. */
static void write_secrets(reuse *r)
{
    wj_store *store;
    wj_instance *inst = reuse_instance(r, &store, r->secret);
    ck_assert_int_eq(call(inst, "grow", 1, 3), 2);
    call(inst, "scribble", 0);
    uint8_t *mem = wj_memory_data(memory_of(inst));
    ck_assert_uint_eq(wj_memory_data_size(memory_of(inst)), 5 * WASM_PAGE);
    ck_assert_uint_eq(mem[16], 0x5a);
    ck_assert_uint_eq(mem[5 * WASM_PAGE - 1], 0x5a);
    ck_assert_int_eq(global_value(inst, "g32"), 0x5ec2e7);
    ck_assert_int_eq(call(inst, "tab_size", 0), 12);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(call(inst, "tab_null", 1, i), 0);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "init_passive", 1, 0);
    wj_store_delete(store);
}

/* Every byte of the memory is zero but `len` bytes of `data` at `at`. */
static void assert_memory_is(const wj_instance *inst, uint64_t size, uint32_t at,
                             const char *data, size_t len)
{
    wj_memory *m = memory_of(inst);
    ck_assert_uint_eq(wj_memory_data_size(m), size);
    uint8_t *want = calloc(size, 1);
    memcpy(want + at, data, len);
    assert_bytes(wj_memory_data(m), want, size, "memory");
    free(want);
}

/* Reads just past the end, past what the secret module grew to and past
 * its maximum trap. */
static void assert_bounds(const wj_instance *inst, uint32_t size)
{
    call(inst, "load8", 1, size - 1);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load8", 1, size);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load8", 1, 5 * WASM_PAGE - 1);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load8", 1, 10 * WASM_PAGE);
}

static void assert_null_table(const wj_instance *inst, int32_t size)
{
    ck_assert_int_eq(call(inst, "tab_size", 0), size);
    wj_table *tab = table_of(inst);
    for (int32_t i = 0; i < size; i++) {
        ck_assert_int_eq(call(inst, "tab_null", 1, i), 1);
        wj_val v;
        ck_assert(wj_table_get(tab, (uint64_t)i, &v));
        ck_assert_ptr_null(v.of.funcref);
    }
    call_traps(inst, WJ_TRAP_TABLE_OUT_OF_BOUNDS, "tab_null", 1, size);
}

static void reuse_run(unsigned opts)
{
    wj_pooling_config one = small_pool(1);
    reuse r = {.opts = opts};
    r.engine = engine_with(opts, &one);
    r.secret = compile(r.engine, secret_wat);
    r.smaller = compile(r.engine, smaller_wat);
    r.larger = compile(r.engine, larger_wat);
    wj_store *store;

    /* the same module */
    write_secrets(&r);
    wj_instance *inst = reuse_instance(&r, &store, r.secret);
    ck_assert_int_eq(call(inst, "size", 0), 2);
    assert_memory_is(inst, 2 * WASM_PAGE, 16, "AAAA", 4);
    assert_bounds(inst, 2 * WASM_PAGE);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load_guard", 0);
    ck_assert_int_eq(global_value(inst, "g32"), 7);
    ck_assert_int_eq(global_value(inst, "g64"), 9);
    ck_assert_int_eq(global_value(inst, "gref"), 0);
    assert_null_table(inst, 4);
    /* its passive segments are its own, not dropped */
    call(inst, "init_passive", 1, 100);
    ck_assert_int_eq(memcmp(wj_memory_data(memory_of(inst)) + 100, "passive", 7), 0);
    call(inst, "init_elem", 1, 3);
    ck_assert_int_eq(call_element(table_of(inst), 3, 0), 0x5ec2e7);
    wj_store_delete(store);

    /* a smaller memory and table, other data */
    write_secrets(&r);
    inst = reuse_instance(&r, &store, r.smaller);
    assert_memory_is(inst, WASM_PAGE, WASM_PAGE - 2, "BB", 2);
    assert_bounds(inst, WASM_PAGE);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load32", 1, WASM_PAGE - 3);
    ck_assert_int_eq(call(inst, "load32", 1, WASM_PAGE - 4), 0x42420000);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load_guard", 0);
    ck_assert_int_eq(global_value(inst, "g"), -1);
    assert_null_table(inst, 2);
    wj_store_delete(store);

    /* a larger memory and table, no data */
    write_secrets(&r);
    inst = reuse_instance(&r, &store, r.larger);
    assert_memory_is(inst, 8 * WASM_PAGE, 0, "", 0);
    ck_assert_int_eq(call(inst, "load8", 1, 8 * WASM_PAGE - 1), 0);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load8", 1, 8 * WASM_PAGE);
    ck_assert_int_eq(global_value(inst, "g"), 3);
    assert_null_table(inst, 30);
    wj_store_delete(store);

    /* and the secret module again after the others */
    inst = reuse_instance(&r, &store, r.secret);
    assert_memory_is(inst, 2 * WASM_PAGE, 16, "AAAA", 4);
    assert_null_table(inst, 4);
    wj_store_delete(store);

    wj_module_delete(r.secret);
    wj_module_delete(r.smaller);
    wj_module_delete(r.larger);
    wj_engine_delete(r.engine);
}

START_TEST(reused_slot_hides_secrets)
{
    reuse_run((unsigned)_i);
}
END_TEST

/* A memory of the API (wj_memory_new) in a reused reservation: zeros,
 * its own size. */
START_TEST(api_memory_reuses_cleanly)
{
    wj_pooling_config one = small_pool(1);
    wj_engine *engine = engine_with((unsigned)_i, &one);
    wj_module *secret = compile(engine, secret_wat);
    reuse r = {.engine = engine, .opts = (unsigned)_i, .secret = secret};
    write_secrets(&r);
    wj_store *store = wj_store_new(engine);
    wj_memory *m;
    wj_limits limits = {.min = 3};
    ck_assert_no_wj_error(wj_memory_new(store, &limits, &m));
    ck_assert_ptr_eq(wj_memory_data(m), r.base);
    ck_assert_uint_eq(wj_memory_data_size(m), 3 * WASM_PAGE);
    uint8_t *zeros = calloc(3 * WASM_PAGE, 1);
    assert_bytes(wj_memory_data(m), zeros, 3 * WASM_PAGE, "API memory");
    free(zeros);
    wj_store_delete(store);
    wj_module_delete(secret);
    wj_engine_delete(engine);
}
END_TEST

/* Each way of writing a table's elements, alone in its instance (the
 * runtime resets a reused block only where it was written): the next
 * table in the block shows none of it. */
typedef struct table_write {
    const char *name;
    const char *wat;      /* the module's fields besides its table, $f and global 0 (8) */
    const char *call;     /* the export that writes, or NULL */
    uint32_t written;     /* an element it wrote */
} table_write;

static const table_write table_writes[] = {
    {"table.fill",
     "(func (export \"w\") (table.fill 0 (i32.const 3) (ref.func $f) (i32.const 4)))", "w", 6},
    {"table.grow",
     "(func (export \"w\") (drop (table.grow 0 (ref.func $f) (i32.const 10))))", "w", 29},
    {"table.copy of lazy elements",
     "(elem (i32.const 0) func $f $f $f)\n"
     "(func (export \"w\") (table.copy (i32.const 10) (i32.const 0) (i32.const 3)))",
     "w", 12},
    {"table.init", "(elem $pe func $f $f) (func (export \"w\") (table.init $pe (i32.const 15)\n"
                   "  (i32.const 0) (i32.const 2)))",
     "w", 16},
    {"call_indirect and table.get of lazy elements",
     "(elem (i32.const 4) func $f $f $f)\n"
     "(func (export \"w\") (drop (call_indirect (param i32) (result i32) (i32.const 0)\n"
     "  (i32.const 4))) (drop (table.get 0 (i32.const 6))))",
     "w", 6},
    {"table.set", "(func (export \"w\") (table.set 0 (i32.const 5) (ref.func $f)))", "w", 5},
    {"an active segment at a global's offset",
     "(elem (table 0) (global.get 0) func $f $f)", NULL, 9},
    {"wj_table_set", "", "wj_table_set", 7},
    {"wj_table_grow", "", "wj_table_grow", 24},
};

/* No element of the table of `inst` is set. */
static void assert_table_null(const wj_instance *inst, uint64_t size, const char *what)
{
    wj_table *tab = table_of(inst);
    ck_assert_uint_eq(wj_table_size(tab), size);
    for (uint64_t i = 0; i < size; i++) {
        wj_val v;
        ck_assert(wj_table_get(tab, i, &v));
        ck_assert_msg(v.of.funcref == NULL, "after %s: element %llu is set", what,
                      (unsigned long long)i);
    }
}

/* How many of its 40 elements are null, as compiled code reads them. */
static const char null_reader_wat[] =
    "(module (table (export \"tab\") 40 64 funcref)\n"
    "  (func (export \"nulls\") (result i32) (local $i i32) (local $n i32)\n"
    "    (loop $l\n"
    "      (local.set $n (i32.add (local.get $n)\n"
    "        (ref.is_null (table.get 0 (local.get $i)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 40))))\n"
    "    (local.get $n)))";

START_TEST(table_writes_reset)
{
    wj_pooling_config one = small_pool(1);
    wj_engine *engine = engine_with((unsigned)_i, &one);
    wj_module *reader = compile(engine, null_reader_wat);
    for (size_t k = 0; k < sizeof table_writes / sizeof table_writes[0]; k++) {
        const table_write *c = &table_writes[k];
        char *wat = fmt("(module (import \"h\" \"off\" (global i32))\n"
                        "  (table (export \"tab\") 20 64 funcref)\n"
                        "  (func $f (export \"f\") (param i32) (result i32) (i32.const 1))\n"
                        "  (elem declare func $f)\n"
                        "  %s)\n",
                        c->wat);
        wj_module *writer = compile(engine, wat);
        free(wat);
        wj_store *store = wj_store_new(engine);
        wj_globaltype type = {.type = WJ_I32};
        wj_val off = {.kind = WJ_I32, .of.i32 = 8};
        wj_extern imp = {.kind = WJ_EXTERN_GLOBAL};
        ck_assert_no_wj_error(wj_global_new(store, &type, &off, &imp.of.global));
        wj_instance *inst = instantiate(store, writer, &imp, 1);
        wj_table *tab = table_of(inst);
        wj_val f = {.kind = WJ_FUNCREF, .of.funcref = export_of(inst, "f", WJ_EXTERN_FUNC).of.func};
        if (c->call && !strcmp(c->call, "wj_table_set"))
            ck_assert(wj_table_set(tab, c->written, &f));
        else if (c->call && !strcmp(c->call, "wj_table_grow"))
            ck_assert(wj_table_grow(tab, 5, &f, NULL));
        else if (c->call)
            call(inst, c->call, 0);
        wj_val v;
        ck_assert(wj_table_get(tab, c->written, &v));
        ck_assert_msg(v.of.funcref != NULL, "%s wrote no element %u", c->name, c->written);
        wj_store_delete(store);

        store = wj_store_new(engine);
        inst = instantiate(store, reader, NULL, 0);
        ck_assert_msg(call(inst, "nulls", 0) == 40, "after %s: %d of 40 elements are null",
                      c->name, call(inst, "nulls", 0));
        assert_table_null(inst, 40, c->name);
        wj_store_delete(store);
        wj_module_delete(writer);
    }
    wj_module_delete(reader);
    wj_engine_delete(engine);
}
END_TEST

/* The default allocator's table blocks hold 16384 elements: a table that
 * grows past its block moves out, its lazy elements still right, and the
 * block it leaves is clean for the next table. */
START_TEST(table_grows_out_of_its_block)
{
    wj_engine *engine = engine_with(0, NULL);
    wj_module *writer = compile(engine,
                                "(module (table (export \"tab\") 10 funcref)\n"
                                "  (func $f (export \"f\") (param i32) (result i32)\n"
                                "    (i32.const 1))\n"
                                "  (elem (i32.const 0) func $f)\n"
                                "  (func (export \"w\")\n"
                                "    (table.fill 0 (i32.const 2) (ref.func $f) (i32.const 5))\n"
                                "    (drop (table.grow 0 (ref.null func) (i32.const 20000)))\n"
                                "    (table.set 0 (i32.const 15000) (ref.func $f))))");
    wj_module *reader = compile(engine, null_reader_wat);
    for (int round = 0; round < 2; round++) {
        wj_store *store = wj_store_new(engine);
        wj_instance *inst = instantiate(store, writer, NULL, 0);
        call(inst, "w", 0);
        wj_table *tab = table_of(inst);
        ck_assert_uint_eq(wj_table_size(tab), 20010);
        wj_func *f = export_of(inst, "f", WJ_EXTERN_FUNC).of.func;
        uint64_t set[] = {0, 2, 6, 15000}, unset[] = {1, 7, 10, 14999, 20009};
        for (size_t i = 0; i < 4; i++) {
            wj_val v;
            ck_assert(wj_table_get(tab, set[i], &v));
            ck_assert_ptr_eq(v.of.funcref, f);
        }
        for (size_t i = 0; i < 5; i++) {
            wj_val v;
            ck_assert(wj_table_get(tab, unset[i], &v));
            ck_assert_ptr_null(v.of.funcref);
        }
        wj_store_delete(store);

        store = wj_store_new(engine);
        inst = instantiate(store, reader, NULL, 0);
        ck_assert_int_eq(call(inst, "nulls", 0), 40);
        wj_store_delete(store);
    }
    wj_module_delete(writer);
    wj_module_delete(reader);
    wj_engine_delete(engine);
}
END_TEST

/* ==== memory images give exactly the data segments' bytes ========================== */

typedef struct segment {
    uint32_t at;
    const char *bytes;
    size_t len;
} segment;

#define SEG(at, s) {(at), (s), sizeof(s) - 1}
#define IMAGE_PAGES 5
#define BIG_AT 20000
#define BIG_LEN 9000

/* Page boundaries (4 KiB and 64 KiB, starting and ending on them, and
 * spanning them), overlaps (later wins), empty segments (one at the very
 * end), a segment ending at the very end of the memory, and one of 9000
 * bytes (bytes NULL: see segment_bytes). */
static const segment image_segs[] = {
    SEG(0, "zero"),
    SEG(4095, "XY"),        /* starts one before 4 KiB */
    SEG(12284, "abcd"),     /* ends at 12 KiB */
    SEG(12288, "page"),     /* starts at it */
    SEG(65533, "end"),      /* ends at 64 KiB */
    SEG(131070, "PQRS"),    /* spans 128 KiB */
    SEG(200000, "aaaaaaaa"),
    SEG(200004, "BBBBBBBB"), /* over the end of the one before */
    SEG(199998, "cccc"),     /* over its start */
    SEG(300000, ""),
    {BIG_AT, NULL, BIG_LEN},
    SEG(BIG_AT + 4000, "over the big one"),
    SEG(IMAGE_PAGES * WASM_PAGE - 4, "TAIL"),
    SEG(IMAGE_PAGES * WASM_PAGE, ""),
};
#define NSEGS (sizeof image_segs / sizeof image_segs[0])

/* A segment's bytes; the big one's are made here. */
static const uint8_t *segment_bytes(const segment *seg)
{
    static uint8_t big[BIG_LEN];
    if (seg->bytes)
        return (const uint8_t *)seg->bytes;
    for (size_t i = 0; i < BIG_LEN; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    return big;
}

/* The segments in the text format. */
static char *segments_wat(const segment *segs, size_t n)
{
    size_t cap = 64;
    for (size_t i = 0; i < n; i++)
        cap += 40 + 3 * segs[i].len;
    char *out = malloc(cap), *p = out;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = segment_bytes(&segs[i]);
        p += sprintf(p, "  (data (i32.const %u) \"", segs[i].at);
        for (size_t j = 0; j < segs[i].len; j++)
            p += sprintf(p, "\\%02x", b[j]);
        p += sprintf(p, "\")\n");
    }
    return out;
}

/* The memory after the segments, as the spec writes them. */
static uint8_t *segments_apply(uint8_t *mem, const segment *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(mem + segs[i].at, segment_bytes(&segs[i]), segs[i].len);
    return mem;
}

static char *image_wat(void)
{
    char *segs = segments_wat(image_segs, NSEGS);
    char *wat = fmt("(module\n"
                    "  (memory (export \"mem\") %u %u)\n"
                    "%s"
                    "  (data $p \"passive\")\n"
                    "  (func (export \"init_passive\") (param i32 i32)\n"
                    "    (memory.init $p (local.get 0) (i32.const 0) (local.get 1)))\n"
                    "  (func (export \"drop_passive\") (data.drop $p))\n"
                    "  (func (export \"init_active\") (param i32 i32)\n"
                    "    (memory.init 1 (local.get 0) (i32.const 0) (local.get 1)))\n"
                    "  (func (export \"fill\") (param i32)\n"
                    "    (memory.fill (i32.const 0) (local.get 0)\n"
                    "                 (i32.mul (memory.size) (i32.const 65536)))))\n",
                    IMAGE_PAGES, IMAGE_PAGES, segs);
    free(segs);
    return wat;
}

static void assert_image_memory(const wj_instance *inst, const uint8_t *want, const char *what)
{
    wj_memory *m = memory_of(inst);
    ck_assert_uint_eq(wj_memory_data_size(m), IMAGE_PAGES * WASM_PAGE);
    assert_bytes(wj_memory_data(m), want, IMAGE_PAGES * WASM_PAGE, what);
}

/* Under each configuration: the bytes of the segments in instances made
 * while others wrote over their image pages (copy-on-write), in the
 * same store, a new one, a reused slot; memory.init and data.drop of a
 * passive segment next to the imaged active ones. */
START_TEST(images_match_segments)
{
    unsigned opts = (unsigned)_i;
    wj_engine *engine = engine_with(opts, NULL);
    char *wat = image_wat();
    wj_module *module = compile(engine, wat);
    free(wat);
    uint8_t *want = segments_apply(calloc(IMAGE_PAGES * WASM_PAGE, 1), image_segs, NSEGS);
    uint8_t *with_passive = malloc(IMAGE_PAGES * WASM_PAGE);
    memcpy(with_passive, want, IMAGE_PAGES * WASM_PAGE);
    memcpy(with_passive + 4094, "passive", 7);

    wj_store *store = wj_store_new(engine);
    wj_instance *first = instantiate(store, module, NULL, 0);
    assert_image_memory(first, want, "first instance");
    uint8_t *base = wj_memory_data(memory_of(first));
    ck_assert_int_eq(image_mapped(base, IMAGE_PAGES * WASM_PAGE), !(opts & NO_IMAGES));
    call(first, "fill", 1, 0xee);
    ck_assert_uint_eq(base[4095], 0xee);
    wj_instance *second = instantiate(store, module, NULL, 0);
    assert_image_memory(second, want, "an instance made after another wrote");
    call(second, "fill", 1, 0xdd);
    ck_assert_uint_eq(base[4095], 0xee);
    wj_store_delete(store);

    /* the slots come back, one of them in the next instance */
    for (int round = 0; round < 3; round++) {
        store = wj_store_new(engine);
        wj_instance *inst = instantiate(store, module, NULL, 0);
        assert_image_memory(inst, want, "an instance in a reused slot");
        uint8_t *b = wj_memory_data(memory_of(inst));
        ck_assert_int_eq(image_mapped(b, IMAGE_PAGES * WASM_PAGE), !(opts & NO_IMAGES));

        /* a passive segment across a 4 KiB boundary, then dropped */
        call(inst, "init_passive", 2, 4094, 7);
        assert_image_memory(inst, with_passive, "after memory.init");
        call(inst, "drop_passive", 0);
        call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "init_passive", 2, 0, 1);
        call(inst, "init_passive", 2, IMAGE_PAGES * WASM_PAGE, 0);
        /* the active segments were dropped at instantiation */
        call(inst, "init_active", 2, 0, 0);
        call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "init_active", 2, 0, 1);
        assert_image_memory(inst, with_passive, "after data.drop");
        call(inst, "fill", 1, 0x11 * (round + 1));
        wj_store_delete(store);
    }
    free(want);
    free(with_passive);
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

/* The same module under the four configurations: the same bytes. */
START_TEST(images_on_and_off_agree)
{
    char *wat = image_wat();
    uint8_t *copies[4];
    for (unsigned opts = 0; opts < 4; opts++) {
        wj_engine *engine = engine_with(opts, NULL);
        wj_module *module = compile(engine, wat);
        wj_store *store = wj_store_new(engine);
        wj_instance *inst = instantiate(store, module, NULL, 0);
        copies[opts] = malloc(IMAGE_PAGES * WASM_PAGE);
        memcpy(copies[opts], wj_memory_data(memory_of(inst)), IMAGE_PAGES * WASM_PAGE);
        wj_store_delete(store);
        wj_module_delete(module);
        wj_engine_delete(engine);
    }
    for (unsigned opts = 1; opts < 4; opts++)
        assert_bytes(copies[opts], copies[0], IMAGE_PAGES * WASM_PAGE, config_names[opts]);
    for (unsigned opts = 0; opts < 4; opts++)
        free(copies[opts]);
    free(wat);
}
END_TEST

/* An offset from an imported global among constant ones: the memory has
 * no image, and the segments still apply in order. */
START_TEST(global_offset_among_constants)
{
    unsigned opts = (unsigned)_i;
    wj_engine *engine = engine_with(opts, NULL);
    wj_module *module = compile(engine, "(module\n"
                                        "  (import \"h\" \"off\" (global i32))\n"
                                        "  (memory (export \"mem\") 1)\n"
                                        "  (data (i32.const 10) \"const1\")\n"
                                        "  (data (global.get 0) \"glob\")\n"
                                        "  (data (i32.const 14) \"ZZ\")\n"
                                        "  (data (i32.const 4094) \"span\"))\n");
    static const int32_t offsets[] = {12, 4096};
    for (size_t k = 0; k < 2; k++) {
        int32_t off = offsets[k];
        wj_store *store = wj_store_new(engine);
        wj_globaltype type = {.type = WJ_I32};
        wj_val v = {.kind = WJ_I32, .of.i32 = off};
        wj_global *g;
        ck_assert_no_wj_error(wj_global_new(store, &type, &v, &g));
        wj_extern imp = {.kind = WJ_EXTERN_GLOBAL, .of.global = g};
        wj_instance *inst = instantiate(store, module, &imp, 1);
        uint8_t want[WASM_PAGE] = {0};
        memcpy(want + 10, "const1", 6);
        memcpy(want + off, "glob", 4);
        memcpy(want + 14, "ZZ", 2);
        memcpy(want + 4094, "span", 4);
        assert_bytes(wj_memory_data(memory_of(inst)), want, WASM_PAGE, "memory");
        ck_assert(!image_mapped(wj_memory_data(memory_of(inst)), WASM_PAGE));
        wj_store_delete(store);
    }
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

/* Two memories of one module, each with its own image (segments to both,
 * interleaved, one overlapping another of its memory), under the four
 * configurations. */
static const segment first_segs[] = {SEG(10, "first"), SEG(65530, "boundary"), SEG(12, "FI")};
static const segment second_segs[] = {SEG(4095, "second"), SEG(3 * WASM_PAGE - 2, "ZZ")};

START_TEST(images_of_two_memories)
{
    unsigned opts = (unsigned)_i;
    wj_pooling_config pool = small_pool(4);
    pool.memories_per_instance = 2;
    wj_engine *engine = engine_with(opts, &pool);
    wj_module *module = compile(engine, "(module\n"
                                        "  (memory (export \"a\") 2)\n"
                                        "  (memory (export \"b\") 3)\n"
                                        "  (data (memory 0) (i32.const 10) \"first\")\n"
                                        "  (data (memory 1) (i32.const 4095) \"second\")\n"
                                        "  (data (memory 0) (i32.const 65530) \"boundary\")\n"
                                        "  (data (memory 1) (i32.const 196606) \"ZZ\")\n"
                                        "  (data (memory 0) (i32.const 12) \"FI\")\n"
                                        "  (func (export \"fill\")\n"
                                        "    (memory.fill 0 (i32.const 0) (i32.const 7)\n"
                                        "                 (i32.const 131072))\n"
                                        "    (memory.fill 1 (i32.const 0) (i32.const 9)\n"
                                        "                 (i32.const 196608))))\n");
    uint8_t *want_a = segments_apply(calloc(2 * WASM_PAGE, 1), first_segs, 3);
    uint8_t *want_b = segments_apply(calloc(3 * WASM_PAGE, 1), second_segs, 2);
    for (int round = 0; round < 3; round++) {
        wj_store *store = wj_store_new(engine);
        wj_instance *inst = instantiate(store, module, NULL, 0);
        wj_memory *a = export_of(inst, "a", WJ_EXTERN_MEMORY).of.memory;
        wj_memory *b = export_of(inst, "b", WJ_EXTERN_MEMORY).of.memory;
        ck_assert_uint_eq(wj_memory_data_size(a), 2 * WASM_PAGE);
        ck_assert_uint_eq(wj_memory_data_size(b), 3 * WASM_PAGE);
        assert_bytes(wj_memory_data(a), want_a, 2 * WASM_PAGE, "memory 0");
        assert_bytes(wj_memory_data(b), want_b, 3 * WASM_PAGE, "memory 1");
        ck_assert_int_eq(image_mapped(wj_memory_data(a), 2 * WASM_PAGE), !(opts & NO_IMAGES));
        ck_assert_int_eq(image_mapped(wj_memory_data(b), 3 * WASM_PAGE), !(opts & NO_IMAGES));
        call(inst, "fill", 0);
        wj_store_delete(store);
    }
    free(want_a);
    free(want_b);
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

/* More memories alive at once than the default allocator keeps (32):
 * the reservations it keeps and those it unmaps; none shows what the
 * memories before wrote. */
START_TEST(default_allocator_past_its_spare_reservations)
{
    enum { ALIVE = 40 };
    wj_engine *engine = engine_with((unsigned)_i ? NO_IMAGES : 0, NULL);
    wj_module *module = compile(engine, secret_wat);
    for (int round = 0; round < 3; round++) {
        wj_store *store = wj_store_new(engine);
        for (int i = 0; i < ALIVE; i++) {
            wj_instance *inst = instantiate(store, module, NULL, 0);
            assert_memory_is(inst, 2 * WASM_PAGE, 16, "AAAA", 4);
            assert_null_table(inst, 4);
            ck_assert_int_eq(global_value(inst, "g32"), 7);
            ck_assert_int_eq(call(inst, "grow", 1, 1), 2);
            call(inst, "scribble", 0);
        }
        wj_store_delete(store);
    }
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

/* ==== instantiations that trap halfway =============================================== */

/* Its element segment puts $f, which reads the module's own memory, into
 * the imported table; then data segments into its own (imaged) memory
 * and the imported one, in the order given. */
static char *trapping_wat(const char *segments)
{
    return fmt("(module\n"
               "  (import \"h\" \"tab\" (table 4 funcref))\n"
               "  (import \"h\" \"mem\" (memory 1))\n"
               "  (memory $own 2)\n"
               "  (func $f (param i32) (result i32) (i32.load8_u $own (local.get 0)))\n"
               "  (elem (table 0) (i32.const 1) func $f)\n"
               "%s)\n",
               segments);
}

typedef struct trapping {
    const char *name;
    const char *segments;
    wj_trap_code code;
    const char *own_before; /* at 100 and at 70000 of its own memory, else zeros */
    const char *own_after;  /* at 200 */
} trapping;

static const trapping trapping_cases[] = {
    {"the imported memory's segment traps between own ones",
     "  (data (memory $own) (i32.const 100) \"before\")\n"
     "  (data (memory $own) (i32.const 70000) \"before\")\n"
     "  (data (memory 0) (i32.const 65535) \"xx\")\n"
     "  (data (memory $own) (i32.const 100) \"AFTER!\")\n"
     "  (data (memory $own) (i32.const 200) \"after\")\n",
     WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "before", NULL},
    {"its own memory's segment traps",
     "  (data (memory $own) (i32.const 100) \"before\")\n"
     "  (data (memory $own) (i32.const 70000) \"before\")\n"
     "  (data (memory $own) (i32.const 131070) \"xxx\")\n"
     "  (data (memory $own) (i32.const 200) \"after\")\n",
     WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "before", NULL},
    {"the first segment traps",
     "  (data (memory 0) (i32.const 65536) \"x\")\n"
     "  (data (memory $own) (i32.const 100) \"after\")\n"
     "  (data (memory $own) (i32.const 200) \"after\")\n",
     WJ_TRAP_MEMORY_OUT_OF_BOUNDS, NULL, NULL},
    {"an element segment traps",
     "  (elem (table 0) (i32.const 4) func $f)\n"
     "  (data (memory $own) (i32.const 100) \"after\")\n"
     "  (data (memory $own) (i32.const 200) \"after\")\n",
     WJ_TRAP_TABLE_OUT_OF_BOUNDS, NULL, NULL},
    {"the start function traps after every segment applied",
     "  (data (memory $own) (i32.const 100) \"before\")\n"
     "  (data (memory $own) (i32.const 70000) \"before\")\n"
     "  (data (memory $own) (i32.const 200) \"after\")\n"
     "  (func $boom unreachable)\n"
     "  (start $boom)\n",
     WJ_TRAP_UNREACHABLE, "before", "after"},
};

static void trapping_run(unsigned opts, const trapping *c)
{
    wj_pooling_config pool = small_pool(2);
    pool.memories = 2;
    wj_engine *engine = engine_with(opts, &pool);
    char *wat = trapping_wat(c->segments);
    wj_module *module = compile(engine, wat);
    free(wat);
    wj_module *plain = compile(engine, "(module (memory (export \"mem\") 2))");
    /* twice: the second time in a reused slot */
    for (int round = 0; round < 2; round++) {
        wj_store *store = wj_store_new(engine);
        wj_tabletype tt = {.elem = WJ_FUNCREF, .limits = {.min = 4}};
        wj_limits ml = {.min = 1};
        wj_extern imports[2] = {{.kind = WJ_EXTERN_TABLE}, {.kind = WJ_EXTERN_MEMORY}};
        ck_assert_no_wj_error(wj_table_new(store, &tt, NULL, &imports[0].of.table));
        ck_assert_no_wj_error(wj_memory_new(store, &ml, &imports[1].of.memory));
        wj_instance *inst = NULL;
        wj_trap *trap = NULL;
        wj_error *err = wj_instance_new(store, module, imports, 2, &inst, &trap);
        ck_assert_no_wj_error(err);
        ck_assert_ptr_null(inst);
        ck_assert_msg(trap != NULL, "%s: no trap", c->name);
        ck_assert_int_eq(wj_trap_code_of(trap), c->code);
        wj_trap_delete(trap);

        /* $f went into the imported table before the trap */
        wj_table *tab = imports[0].of.table;
        const char *zeros6 = "\0\0\0\0\0\0";
        const char *before = c->own_before ? c->own_before : zeros6;
        const char *after = c->own_after ? c->own_after : zeros6;
        for (int i = 0; i < 6; i++) {
            ck_assert_int_eq(call_element(tab, 1, 100 + i), (uint8_t)before[i]);
            ck_assert_int_eq(call_element(tab, 1, 70000 + i), (uint8_t)before[i]);
            ck_assert_int_eq(call_element(tab, 1, 200 + i), (uint8_t)after[i]);
        }
        /* nothing of the trapping segment in the imported memory */
        const uint8_t *imported = wj_memory_data(imports[1].of.memory);
        uint8_t zeros[WASM_PAGE] = {0};
        assert_bytes(imported, zeros, WASM_PAGE, "imported memory");
        wj_store_delete(store);

        /* its slot is clean for a module without data */
        store = wj_store_new(engine);
        wj_instance *next = instantiate(store, plain, NULL, 0);
        uint8_t *z = calloc(2 * WASM_PAGE, 1);
        assert_bytes(wj_memory_data(memory_of(next)), z, 2 * WASM_PAGE, "the next memory");
        free(z);
        wj_store_delete(store);
    }
    wj_module_delete(plain);
    wj_module_delete(module);
    wj_engine_delete(engine);
}

START_TEST(trapping_instantiation)
{
    for (size_t i = 0; i < sizeof trapping_cases / sizeof trapping_cases[0]; i++)
        trapping_run((unsigned)_i, &trapping_cases[i]);
}
END_TEST

/* ==== the pooling allocator's limits ================================================= */

static const char small_wat[] = "(module (memory (export \"mem\") 1) (table 1 funcref)\n"
                                "  (func (export \"f\") (result i32) (i32.const 5)))";

START_TEST(limit_instances)
{
    wj_pooling_config pool = small_pool(2);
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_module *module = compile(engine, small_wat);
    wj_store *a = wj_store_new(engine), *b = wj_store_new(engine);
    instantiate(a, module, NULL, 0);
    instantiate(b, module, NULL, 0);
    instantiate_fails(b, module, "pooling allocator: all 2 instance slots are in use");
    instantiate_fails(a, module, "pooling allocator: all 2 instance slots are in use");
    wj_store_delete(a);
    a = wj_store_new(engine);
    ck_assert_int_eq(call(instantiate(a, module, NULL, 0), "f", 0), 5);
    instantiate_fails(a, module, "pooling allocator: all 2 instance slots are in use");
    wj_store_delete(a);
    wj_store_delete(b);
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

START_TEST(limit_per_instance)
{
    wj_pooling_config pool = small_pool(4);
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_store *store = wj_store_new(engine);
    wj_module *two_memories = compile(engine, "(module (memory 1) (memory 1))");
    wj_module *two_tables = compile(engine, "(module (table 1 funcref) (table 1 funcref))");
    instantiate_fails(store, two_memories,
                      "pooling allocator: the module defines 2 memories, over the limit of 1 "
                      "per instance");
    instantiate_fails(store, two_tables,
                      "pooling allocator: the module defines 2 tables, over the limit of 1 "
                      "per instance");
    wj_store_delete(store);
    wj_module_delete(two_memories);
    wj_module_delete(two_tables);
    wj_engine_delete(engine);

    pool.memories_per_instance = pool.tables_per_instance = 2;
    engine = engine_with(POOLED, &pool);
    store = wj_store_new(engine);
    two_memories = compile(engine, "(module (memory 1) (memory 1))");
    two_tables = compile(engine, "(module (table 1 funcref) (table 1 funcref))");
    instantiate(store, two_memories, NULL, 0);
    instantiate(store, two_tables, NULL, 0);
    wj_store_delete(store);
    wj_module_delete(two_memories);
    wj_module_delete(two_tables);
    wj_engine_delete(engine);
}
END_TEST

START_TEST(limit_memory_size)
{
    wj_pooling_config pool = small_pool(2);
    pool.memory_size = 4 * WASM_PAGE;
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_store *store = wj_store_new(engine);
    wj_module *big = compile(engine, "(module (memory 5))");
    instantiate_fails(store, big,
                      "pooling allocator: memory of 5 pages is over the limit of 4 pages");
    wj_module *growing = compile(engine, "(module (memory (export \"mem\") 2)\n"
                                         "  (func (export \"grow\") (param i32) (result i32)\n"
                                         "    (memory.grow (local.get 0)))\n"
                                         "  (func (export \"load8\") (param i32) (result i32)\n"
                                         "    (i32.load8_u (local.get 0))))");
    wj_instance *inst = instantiate(store, growing, NULL, 0);
    ck_assert_int_eq(call(inst, "grow", 1, 3), -1);
    ck_assert_int_eq(call(inst, "grow", 1, 2), 2);
    ck_assert_int_eq(call(inst, "grow", 1, 1), -1);
    ck_assert(!wj_memory_grow(memory_of(inst), 1, NULL));
    ck_assert_int_eq(call(inst, "load8", 1, 4 * WASM_PAGE - 1), 0);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load8", 1, 4 * WASM_PAGE);
    /* API memories too */
    wj_memory *m;
    wj_limits limits = {.min = 5};
    wj_error *err = wj_memory_new(store, &limits, &m);
    ck_assert_ptr_nonnull(err);
    ck_assert_error_is(wj_error_kind_of(err), wj_error_message(err), 0, WJ_ERROR_RESOURCE,
                       "pooling allocator: memory of 5 pages is over the limit of 4 pages", 0);
    wj_error_delete(err);
    wj_store_delete(store);
    wj_module_delete(big);
    wj_module_delete(growing);
    wj_engine_delete(engine);
}
END_TEST

START_TEST(limit_table_elements)
{
    wj_pooling_config pool = small_pool(2);
    pool.table_elements = 10;
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_store *store = wj_store_new(engine);
    wj_module *big = compile(engine, "(module (table 11 funcref))");
    instantiate_fails(store, big,
                      "pooling allocator: table of 11 elements is over the limit of 10 elements");
    wj_module *growing = compile(engine, "(module (table (export \"tab\") 4 funcref)\n"
                                         "  (func $f) (elem declare func $f)\n"
                                         "  (func (export \"grow\") (param i32) (result i32)\n"
                                         "    (table.grow 0 (ref.func $f) (local.get 0))))");
    wj_instance *inst = instantiate(store, growing, NULL, 0);
    ck_assert_int_eq(call(inst, "grow", 1, 7), -1);
    ck_assert_int_eq(call(inst, "grow", 1, 6), 4);
    ck_assert_int_eq(call(inst, "grow", 1, 1), -1);
    ck_assert(!wj_table_grow(table_of(inst), 1, NULL, NULL));
    ck_assert_uint_eq(wj_table_size(table_of(inst)), 10);
    wj_val v;
    ck_assert(wj_table_get(table_of(inst), 9, &v));
    ck_assert_ptr_nonnull(v.of.funcref);
    wj_store_delete(store);
    wj_module_delete(big);
    wj_module_delete(growing);
    wj_engine_delete(engine);
}
END_TEST

/* Memories that would be dynamic (live outside the pool) are refused: a
 * memory reservation of 1 GiB under memory_size's 4 GiB, and memory64. */
/* Memories that are dynamic (one that may outgrow the memory reservation,
 * memory64) live in a slot too under pooling: bounded by it (reservation
 * + guard: 3 GiB here), with their explicit checks, never moving. */
START_TEST(pooled_dynamic_memories)
{
    wj_pooling_config pool = small_pool(2);
    pool.memories = 1;
    wj_config *config = wj_config_new();
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_memory_reservation(config, 1u << 30);
    wj_config_set_pooling(config, &pool);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(engine);
    wj_store *store = wj_store_new(engine);
    wj_module *unbounded = compile(
        engine, "(module (memory (export \"mem\") 1)\n"
                "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
                "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0))))");
    wj_instance *inst = instantiate(store, unbounded, NULL, 0);
    uint8_t *base = wj_memory_data(memory_of(inst));
    ck_assert_int_eq(call(inst, "grow", 1, 49151), 1); /* to the slot's 49152 pages */
    ck_assert_int_eq(call(inst, "grow", 1, 1), -1);
    ck_assert_int_eq(call(inst, "load", 1, (int32_t)0xbffffffc), 0);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load", 1, (int32_t)0xbffffffd);
    ck_assert_ptr_eq(wj_memory_data(memory_of(inst)), base); /* it never moved */
    instantiate_fails(store, unbounded, "pooling allocator: all 1 memory slots are in use");
    wj_store_delete(store);

    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(
        "(module (memory (export \"mem\") i64 1 1)\n"
        "  (func (export \"load\") (param i32) (result i32)\n"
        "    (i32.load (i64.extend_i32_u (local.get 0)))))",
        (const char *const[]){"--enable-memory64", NULL}, &len);
    wj_module *memory64;
    ck_assert_no_wj_error(wj_module_new(engine, bytes, len, &memory64));
    free(bytes);
    store = wj_store_new(engine);
    inst = instantiate(store, memory64, NULL, 0); /* in the slot given back */
    ck_assert_ptr_eq(wj_memory_data(memory_of(inst)), base);
    ck_assert_int_eq(call(inst, "load", 1, 65532), 0);
    call_traps(inst, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "load", 1, 65533);
    wj_store_delete(store);
    wj_module_delete(unbounded);
    wj_module_delete(memory64);
    wj_engine_delete(engine);
}
END_TEST

/* A module of `n` copies of `item` ("%1$d" its number). */
static wj_module *module_of_many(wj_engine *engine, const char *item, int n)
{
    size_t cap = 64 + (size_t)n * (strlen(item) + 32);
    char *wat = malloc(cap), *p = wat;
    p += sprintf(p, "(module\n");
    for (int i = 0; i < n; i++)
        p += sprintf(p, item, i);
    sprintf(p, ")\n");
    wj_module *module = compile(engine, wat);
    free(wat);
    return module;
}

START_TEST(limit_instance_size)
{
    wj_pooling_config pool = small_pool(2);
    pool.instance_size = 8192;
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_store *store = wj_store_new(engine);
    wj_module *globals = module_of_many(engine, "(global (mut i64) (i64.const %1$d))\n", 400);
    wj_module *funcs = module_of_many(engine, "(func (export \"f%1$d\"))\n", 400);
    wj_module *few = module_of_many(engine, "(func (export \"f%1$d\"))\n", 4);
    wj_module *modules[] = {globals, funcs};
    for (int i = 0; i < 2; i++) {
        wj_instance *inst = NULL;
        wj_error *err = try_instantiate(store, modules[i], NULL, 0, &inst);
        ck_assert_ptr_nonnull(err);
        ck_assert_error_is(wj_error_kind_of(err), wj_error_message(err), 0, WJ_ERROR_RESOURCE,
                           "pooling allocator: an instance of the module needs ", 0);
        ck_assert_msg(strstr(wj_error_message(err), " bytes of state, over the limit of 8192"),
                      "%s", wj_error_message(err));
        wj_error_delete(err);
    }
    /* the failures took no slot */
    instantiate(store, few, NULL, 0);
    instantiate(store, few, NULL, 0);
    wj_store_delete(store);
    wj_module_delete(globals);
    wj_module_delete(funcs);
    wj_module_delete(few);
    wj_engine_delete(engine);
}
END_TEST

/* Fewer memories and tables than instances: the instance slot of a failed
 * instantiation comes back. */
START_TEST(limit_total_memories_and_tables)
{
    wj_pooling_config pool = small_pool(4);
    pool.memories = pool.tables = 2;
    wj_engine *engine = engine_with(POOLED, &pool);
    wj_module *with_memory = compile(engine, "(module (memory 1))");
    wj_module *with_table = compile(engine, "(module (table 1 funcref))");
    wj_module *empty = compile(engine, "(module)");
    for (int round = 0; round < 2; round++) {
        wj_store *store = wj_store_new(engine);
        instantiate(store, with_memory, NULL, 0);
        wj_memory *m;
        wj_limits limits = {.min = 1};
        ck_assert_no_wj_error(wj_memory_new(store, &limits, &m));
        instantiate_fails(store, with_memory, "pooling allocator: all 2 memory slots are in use");
        wj_error *err = wj_memory_new(store, &limits, &m);
        ck_assert_ptr_nonnull(err);
        ck_assert_error_is(wj_error_kind_of(err), wj_error_message(err), 0, WJ_ERROR_RESOURCE,
                           "pooling allocator: all 2 memory slots are in use", 0);
        wj_error_delete(err);
        instantiate(store, with_table, NULL, 0);
        instantiate(store, with_table, NULL, 0);
        instantiate_fails(store, with_table, "pooling allocator: all 2 table slots are in use");
        /* the three failures gave their instance slots back */
        instantiate(store, empty, NULL, 0);
        instantiate_fails(store, empty, "pooling allocator: all 4 instance slots are in use");
        wj_store_delete(store);
    }
    wj_module_delete(with_memory);
    wj_module_delete(with_table);
    wj_module_delete(empty);
    wj_engine_delete(engine);
}
END_TEST

/* ==== 100,000 instantiations ========================================================= */

#define CYCLES 100000
#define WARM_UP 1000

static const char cycle_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 1)\n"
    "  (table (export \"tab\") 10 funcref)\n"
    "  (global $g (mut i32) (i32.const 0))\n"
    "  (data (i32.const 16) \"data\")\n"
    "  (elem (i32.const 2) func $touch)\n"
    /* what a previous instance wrote (0 if nothing), then writes it */
    "  (func $touch (export \"touch\") (param i32) (result i32)\n"
    "    (i32.or (i32.or (i32.load (i32.const 1000)) (i32.load (i32.const 40000)))\n"
    "            (global.get $g))\n"
    "    (i32.store (i32.const 1000) (local.get 0))\n"
    "    (i32.store (i32.const 40000) (local.get 0))\n"
    "    (global.set $g (local.get 0))\n"
    "    (table.set 0 (i32.const 0) (ref.func $touch))))\n";

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    long size, resident;
    ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

START_TEST(many_cycles_flat_rss)
{
    wj_engine *engine = engine_with(POOLED, NULL);
    wj_module *module = compile(engine, cycle_wat);
    long warm = 0;
    for (int i = 0; i < CYCLES; i++) {
        if (i == WARM_UP)
            warm = resident_bytes();
        wj_store *store = wj_store_new(engine);
        ck_assert_ptr_nonnull(store);
        wj_instance *inst = instantiate(store, module, NULL, 0);
        ck_assert_int_eq(call(inst, "touch", 1, i | 1), 0);
        ck_assert_int_eq(wj_memory_data(memory_of(inst))[16], 'd');
        wj_store_delete(store);
    }
    long grown = resident_bytes() - warm;
#ifndef __SANITIZE_ADDRESS__
    ck_assert_msg(grown < 8l << 20, "the resident set grew by %ld bytes over %d cycles", grown,
                  CYCLES - WARM_UP);
#else
    /* ASan keeps freed memory resident (its quarantine, 256 MiB) by
     * design: there LeakSanitizer, at exit, is what finds leaks. */
    (void)grown;
#endif
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

/* ==== threads sharing one engine (either allocator) ================================ */

#define THREADS 4
#define THREAD_CYCLES 1000

static const char thread_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 2)\n"
    "  (table (export \"tab\") 4 funcref)\n"
    "  (global $g (export \"g\") (mut i32) (i32.const 0))\n"
    "  (data (i32.const 0) \"pristine\")\n"
    "  (func $f (result i32) (global.get $g))\n"
    "  (elem declare func $f)\n"
    /* 0 if the memory past the data, the global and the table are as new */
    "  (func (export \"dirty\") (result i32) (local $i i32) (local $acc i32)\n"
    "    (local.set $i (i32.const 8))\n"
    "    (loop $l\n"
    "      (local.set $acc (i32.or (local.get $acc) (i32.load (local.get $i))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 4)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 131072))))\n"
    "    (i32.or (i32.or (local.get $acc) (global.get $g))\n"
    "            (i32.eqz (ref.is_null (table.get 0 (i32.const 3))))))\n"
    "  (func (export \"write\") (param i32)\n"
    "    (memory.fill (i32.const 8) (local.get 0) (i32.const 131064))\n"
    "    (global.set $g (local.get 0))\n"
    "    (table.set 0 (i32.const 3) (ref.func $f)))\n"
    /* how many bytes past the data are not `p`; the global must be p too */
    "  (func (export \"foreign\") (param $p i32) (result i32) (local $i i32) (local $n i32)\n"
    "    (local.set $i (i32.const 8))\n"
    "    (loop $l\n"
    "      (local.set $n (i32.add (local.get $n)\n"
    "                      (i32.ne (i32.load8_u (local.get $i)) (local.get $p))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 131072))))\n"
    "    (i32.add (local.get $n) (i32.ne (global.get $g) (local.get $p)))))\n";

typedef struct worker {
    pthread_t thread;
    wj_engine *engine;
    const wj_module *module;
    int id;
    int failures;
    char why[200];
} worker;

static int32_t worker_call(const wj_instance *inst, const char *name, int32_t arg, bool *trapped)
{
    wj_extern f;
    if (!wj_instance_export(inst, name, strlen(name), &f))
        return *trapped = true, 0;
    wj_val args[1] = {{.kind = WJ_I32, .of.i32 = arg}}, res[1] = {{0}};
    wj_functype type;
    wj_func_type(f.of.func, &type);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f.of.func, args, type.param_count, res, type.result_count, &trap);
    if (err || trap) {
        *trapped = true;
        wj_error_delete(err);
        wj_trap_delete(trap);
    }
    return res[0].of.i32;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int32_t pattern = 0x10 + w->id;
    for (int i = 0; i < THREAD_CYCLES && !w->failures; i++) {
        wj_store *store = wj_store_new(w->engine);
        wj_instance *inst = NULL;
        wj_trap *trap = NULL;
        wj_error *err = wj_instance_new(store, w->module, NULL, 0, &inst, &trap);
        bool trapped = false;
        int32_t dirty = 0, foreign = 0;
        if (!err && !trap) {
            dirty = worker_call(inst, "dirty", 0, &trapped);
            worker_call(inst, "write", pattern, &trapped);
            sched_yield(); /* let the others run while this one holds its slots */
            foreign = worker_call(inst, "foreign", pattern, &trapped);
        }
        wj_extern mem;
        if (err || trap || trapped || dirty || foreign ||
            !wj_instance_export(inst, "mem", 3, &mem) ||
            memcmp(wj_memory_data(mem.of.memory), "pristine", 8) != 0) {
            w->failures++;
            snprintf(w->why, sizeof w->why, "cycle %d: %s%s, dirty %d, %d foreign bytes", i,
                     err ? wj_error_message(err) : "", trap || trapped ? "trapped" : "", dirty,
                     foreign);
        }
        wj_error_delete(err);
        wj_trap_delete(trap);
        wj_store_delete(store);
    }
    return NULL;
}

START_TEST(threads_see_only_their_own_writes)
{
    unsigned opts = (unsigned)_i;
    wj_pooling_config pool = small_pool(THREADS);
    wj_engine *engine = engine_with(opts, &pool);
    wj_module *module = compile(engine, thread_wat);
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){.engine = engine, .module = module, .id = t};
        ck_assert_int_eq(pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_join(workers[t].thread, NULL), 0);
    for (int t = 0; t < THREADS; t++)
        ck_assert_msg(workers[t].failures == 0, "thread %d: %s", t, workers[t].why);
    /* every slot came back */
    wj_store *store = wj_store_new(engine);
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(call(instantiate(store, module, NULL, 0), "dirty", 0), 0);
    if (opts & POOLED)
        instantiate_fails(store, module, "pooling allocator: all 4 instance slots are in use");
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pooling");
    TCase *reused = tcase_create("reuse");
    tcase_set_timeout(reused, 60);
    tcase_add_loop_test(reused, reused_slot_hides_secrets, 0, 4);
    tcase_add_loop_test(reused, api_memory_reuses_cleanly, 0, 4);
    tcase_add_loop_test(reused, table_writes_reset, 0, 2);
    tcase_add_test(reused, table_grows_out_of_its_block);
    tcase_add_loop_test(reused, default_allocator_past_its_spare_reservations, 0, 2);
    suite_add_tcase(s, reused);

    TCase *images = tcase_create("images");
    tcase_set_timeout(images, 60);
    tcase_add_loop_test(images, images_match_segments, 0, 4);
    tcase_add_test(images, images_on_and_off_agree);
    tcase_add_loop_test(images, global_offset_among_constants, 0, 4);
    tcase_add_loop_test(images, images_of_two_memories, 0, 4);
    tcase_add_loop_test(images, trapping_instantiation, 0, 4);
    suite_add_tcase(s, images);

    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 30);
    tcase_add_test(limits, limit_instances);
    tcase_add_test(limits, limit_per_instance);
    tcase_add_test(limits, limit_memory_size);
    tcase_add_test(limits, limit_table_elements);
    tcase_add_test(limits, pooled_dynamic_memories);
    tcase_add_test(limits, limit_instance_size);
    tcase_add_test(limits, limit_total_memories_and_tables);
    suite_add_tcase(s, limits);

    TCase *load = tcase_create("load");
    tcase_set_timeout(load, 180);
    tcase_add_test(load, many_cycles_flat_rss);
    tcase_add_loop_test(load, threads_see_only_their_own_writes, 0, 4);
    suite_add_tcase(s, load);
    return unit_run(s);
}
