/* Linear memories through the public API (linked against libwasmjail.la):
 * memory64 past 4 GiB, growth that moves a dynamic memory's base while wasm
 * frames are live, memory.grow failures, empty memories, bounds at the top
 * of the 32- and 64-bit index spaces, the static layouts the configuration
 * selects, multi-memory (memory.copy between index types, memories imported
 * from another instance or twice into one module), data segments, and the
 * reservations of dynamic memories (growth in place, O(log n) moves).
 *
 * Modules are written in the text format and converted at test time by
 * wabt's wat2wasm (wat.h) with memory64 and multi-memory enabled.
 *
 * Out-of-bounds accesses fault in wasmjail's own mappings and come back as
 * traps, so an access that slips past a bounds check could still "trap" by
 * luck. Where the address space allows, the tests map read-write pages of
 * 0xa5 right before and after a memory (canaries): an access that escaped
 * its check reads or writes them instead of trapping, and the tests notice. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wasmjail.h>

#include "unit.h"
#include "wat.h"

#define WASM_PAGE 65536ull
#define GIB (1ull << 30)
#define SYS_PAGE 4096u

static const char OOB[] = "out of bounds memory access";

/* ==== helpers: configuration, text, patched offsets ================================ */

/* memory64 and multi-memory on; the caller adds the rest. */
static wj_config *config_new(void)
{
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    return config;
}

static const char *const wat_opts[] = {"--enable-memory64", "--enable-multi-memory", NULL};

/* printf into a new string (positional arguments welcome); the caller frees it. */
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

/* wabt 1.0.32 rejects static offsets above 0xffffffff in the text format,
 * even for memory64. A module writes `offset=SENTINEL nop nop nop nop nop`
 * (a sentinel of 2^28 or more: a 5-byte LEB128); this rewrites the sentinel
 * and the five nops, ten bytes, into the LEB128 of `value` padded with nops.
 * The size stays the same, so no section or body size changes. */
static void patch_offset(uint8_t *bytes, size_t len, uint32_t sentinel, uint64_t value)
{
    uint8_t pat[10];
    for (int i = 0; i < 5; i++)
        pat[i] = (uint8_t)((sentinel >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
    memset(pat + 5, 0x01, 5);
    uint8_t leb[10];
    memset(leb, 0x01, sizeof leb);
    int n = 0;
    do {
        uint8_t b = value & 0x7f;
        value >>= 7;
        leb[n++] = b | (value ? 0x80 : 0);
    } while (value);
    int found = 0;
    for (size_t at = 0; at + sizeof pat <= len; at++)
        if (memcmp(bytes + at, pat, sizeof pat) == 0) {
            memcpy(bytes + at, leb, sizeof leb);
            found++;
        }
    ck_assert_msg(found > 0, "offset sentinel 0x%x not found", sentinel);
}

/* ==== helpers: one engine and store, a few modules ================================== */

typedef struct fixture {
    wj_engine *engine;
    wj_store *store;
    wj_module *modules[4];
    size_t nmodules;
    uint8_t *maps[8]; /* our own pages (blockers, canaries), SYS_PAGE each */
    bool canary[8];
    size_t nmaps;
} fixture;

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

/* Engine and store with `config`, which this deletes. */
static void fx_begin(fixture *fx, wj_config *config)
{
    memset(fx, 0, sizeof *fx);
    fx->engine = wj_engine_new(config);
    wj_config_delete(config);
    ck_assert_ptr_nonnull(fx->engine);
    fx->store = wj_store_new(fx->engine);
    ck_assert_ptr_nonnull(fx->store);
}

/* Compiles `bytes` (which this frees). */
static wj_module *fx_compile_bytes(fixture *fx, uint8_t *bytes, size_t len)
{
    ck_assert_uint_lt(fx->nmodules, sizeof fx->modules / sizeof fx->modules[0]);
    wj_module *m = NULL;
    wj_error *err = wj_module_new(fx->engine, bytes, len, &m);
    free(bytes);
    ck_assert_no_wj_error(err);
    fx->modules[fx->nmodules++] = m;
    return m;
}

static wj_module *fx_compile(fixture *fx, const char *wat)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(wat, wat_opts, &len);
    return fx_compile_bytes(fx, bytes, len);
}

static wj_instance *fx_instantiate(fixture *fx, const wj_module *m, const wj_extern *imports,
                                   size_t n)
{
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(fx->store, m, imports, n, &inst, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_msg(trap == NULL, "instantiation trapped: %s", trap ? wj_trap_message(trap) : "");
    ck_assert_ptr_nonnull(inst);
    return inst;
}

static wj_instance *fx_load(fixture *fx, const char *wat, const wj_extern *imports, size_t n)
{
    return fx_instantiate(fx, fx_compile(fx, wat), imports, n);
}

/* Maps one page at exactly `at`: NULL (and nothing mapped) when something
 * is there already. */
static uint8_t *map_at(void *at, int prot)
{
    void *p = mmap(at, SYS_PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) {
        ck_assert_msg(errno == EEXIST, "mmap at %p: %s", at, strerror(errno));
        return NULL;
    }
    if (p != at) { /* taken as a hint (an old kernel, valgrind): the place was in use */
        munmap(p, SYS_PAGE);
        return NULL;
    }
    return p;
}

static void fx_keep_map(fixture *fx, uint8_t *page, bool canary)
{
    ck_assert_uint_lt(fx->nmaps, sizeof fx->maps / sizeof fx->maps[0]);
    fx->maps[fx->nmaps] = page;
    fx->canary[fx->nmaps++] = canary;
}

/* A canary page (0xa5 bytes, read-write) at `at` if the place is free. */
static void fx_canary_at(fixture *fx, uint8_t *at)
{
    uint8_t *p = map_at(at, PROT_READ | PROT_WRITE);
    if (p) {
        memset(p, 0xa5, SYS_PAGE);
        fx_keep_map(fx, p, true);
    }
}

/* Canaries right before and right after the bytes of `mem` (the "after"
 * one only where nothing is mapped there: after a memory whose reservation
 * holds just its bytes, which it then also keeps from growing in place). */
static void fx_canaries(fixture *fx, const wj_memory *mem)
{
    uint8_t *data = wj_memory_data(mem);
    fx_canary_at(fx, data - SYS_PAGE);
    fx_canary_at(fx, data + wj_memory_data_size(mem));
}

/* Every canary still holds 0xa5 only: nothing wrote past a memory. */
static void fx_check_canaries(const fixture *fx)
{
    for (size_t i = 0; i < fx->nmaps; i++)
        if (fx->canary[i])
            for (size_t k = 0; k < SYS_PAGE; k++)
                ck_assert_msg(fx->maps[i][k] == 0xa5, "canary at %p written: byte %zu is 0x%02x",
                              (void *)fx->maps[i], k, fx->maps[i][k]);
}

/* A PROT_NONE page right after the bytes of `mem`. Where its reservation
 * ends there too (a memory that reserved just its size, or grew to the end
 * of its reservation), the reservation cannot be extended in place, so a
 * grow must move the memory. If the place is in use already, a move is
 * forced all the same. */
static void fx_block_growth(fixture *fx, const wj_memory *mem)
{
    uint8_t *p = map_at(wj_memory_data(mem) + wj_memory_data_size(mem), PROT_NONE);
    if (p)
        fx_keep_map(fx, p, false);
}

static void fx_end(fixture *fx)
{
    fx_check_canaries(fx);
    wj_store_delete(fx->store);
    for (size_t i = 0; i < fx->nmodules; i++)
        wj_module_delete(fx->modules[i]);
    wj_engine_delete(fx->engine);
    for (size_t i = 0; i < fx->nmaps; i++)
        munmap(fx->maps[i], SYS_PAGE);
    memset(fx, 0, sizeof *fx);
}

static wj_extern export_of(const wj_instance *inst, const char *name, wj_extern_kind kind)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(inst, name, strlen(name), &ext), "no export %s", name);
    ck_assert_int_eq(ext.kind, kind);
    return ext;
}

static wj_memory *memory_of(const wj_instance *inst, const char *name)
{
    return export_of(inst, name, WJ_EXTERN_MEMORY).of.memory;
}

/* Little-endian bytes of a memory, read by the host. */
static uint64_t host_read(const wj_memory *mem, uint64_t at, unsigned size)
{
    ck_assert_uint_le(at + size, wj_memory_data_size(mem));
    uint64_t v = 0;
    memcpy(&v, wj_memory_data(mem) + at, size);
    return v;
}

/* The first 8 bytes of a string (NUL-padded), as an i64.load sees them. */
static uint64_t le8(const char *s)
{
    uint8_t b[8] = {0};
    memcpy(b, s, strnlen(s, 8));
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

/* Valgrind's own mmap layer differs in places (see its uses). */
static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload");
}

/* ==== helpers: calls ================================================================== */

static wj_val v_i32(uint32_t v) { return (wj_val){.kind = WJ_I32, .of.i32 = (int32_t)v}; }
static wj_val v_i64(uint64_t v) { return (wj_val){.kind = WJ_I64, .of.i64 = (int64_t)v}; }
/* An address or page count of a 32- or 64-bit memory. */
static wj_val v_idx(bool is64, uint64_t v) { return is64 ? v_i64(v) : v_i32((uint32_t)v); }
static wj_val v_f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }
static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }

#define ARGS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define NOARGS NULL, 0

/* Calls an export (at most one result). Any wj_error fails. */
static wj_trap *call(const wj_instance *inst, const char *name, const wj_val *args, size_t n,
                     wj_val *res)
{
    wj_func *f = export_of(inst, name, WJ_EXTERN_FUNC).of.func;
    wj_functype t;
    wj_func_type(f, &t);
    ck_assert_uint_le(t.result_count, 1);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f, args, n, res, t.result_count, &trap);
    ck_assert_msg(err == NULL, "%s: %s", name, err ? wj_error_message(err) : "");
    return trap;
}

static wj_val expect_ok_(int line, const wj_instance *inst, const char *name, const wj_val *args,
                         size_t n)
{
    wj_val res[1] = {{0}};
    wj_trap *trap = call(inst, name, args, n, res);
    ck_assert_msg(trap == NULL, "line %d: %s: unexpected trap \"%s\"", line, name,
                  trap ? wj_trap_message(trap) : "");
    return res[0];
}

static void expect_val_(int line, const wj_instance *inst, const char *name, wj_valtype kind,
                        uint64_t want, const wj_val *args, size_t n)
{
    wj_val r = expect_ok_(line, inst, name, args, n);
    uint64_t got = r.kind == WJ_I32 ? (uint32_t)r.of.i32 : (uint64_t)r.of.i64;
    ck_assert_msg(r.kind == kind && got == want, "line %d: %s: expected %s 0x%llx, got %s 0x%llx",
                  line, name, wj_valtype_name(kind), (unsigned long long)want,
                  wj_valtype_name(r.kind), (unsigned long long)got);
}

/* The call must trap with "out of bounds memory access". */
static void expect_oob_(int line, const wj_instance *inst, const char *name, const wj_val *args,
                        size_t n)
{
    wj_val res[1] = {{0}};
    wj_trap *trap = call(inst, name, args, n, res);
    ck_assert_msg(trap != NULL, "line %d: %s: expected trap \"%s\", got none (result 0x%llx)",
                  line, name, OOB, (unsigned long long)res[0].of.i64);
    ck_assert_msg(wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS &&
                      strcmp(wj_trap_message(trap), OOB) == 0,
                  "line %d: %s: expected trap %d \"%s\", got %d \"%s\"", line, name,
                  (int)WJ_TRAP_MEMORY_OUT_OF_BOUNDS, OOB, (int)wj_trap_code_of(trap),
                  wj_trap_message(trap));
    wj_trap_delete(trap);
}

#define EXPECT_OK(inst, name, args) (void)expect_ok_(__LINE__, inst, name, args)
#define EXPECT_I32(inst, name, want, args) \
    expect_val_(__LINE__, inst, name, WJ_I32, (uint32_t)(want), args)
#define EXPECT_I64(inst, name, want, args) \
    expect_val_(__LINE__, inst, name, WJ_I64, (uint64_t)(want), args)
/* An i64 for a memory64 memory, else an i32 (want truncated to 32 bits). */
#define EXPECT_IDX(inst, is64, name, want, args)                                          \
    expect_val_(__LINE__, inst, name, (is64) ? WJ_I64 : WJ_I32,                           \
                (is64) ? (uint64_t)(want) : (uint64_t)(uint32_t)(want), args)
#define EXPECT_OOB(inst, name, args) expect_oob_(__LINE__, inst, name, args)

/* ==== 1. memory64 past 4 GiB ========================================================== */

static const char big64_wat[] =
    "(module\n"
    "  (memory (export \"mem\") i64 1)\n"
    "  (func (export \"size\") (result i64) memory.size)\n"
    "  (func (export \"grow\") (param i64) (result i64) local.get 0 memory.grow)\n"
    "  (func (export \"load8\") (param i64) (result i32) local.get 0 i32.load8_u)\n"
    "  (func (export \"store8\") (param i64 i32) local.get 0 local.get 1 i32.store8)\n"
    "  (func (export \"load64\") (param i64) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"store64\") (param i64 i64) local.get 0 local.get 1 i64.store)\n"
    /* offset=2^32, patched in */
    "  (func (export \"load64_off4g\") (param i64) (result i64)\n"
    "    local.get 0 i64.load offset=0xfeed0001 nop nop nop nop nop)\n"
    ")\n";

START_TEST(memory64_past_4gib)
{
    fixture fx;
    wj_config *config = config_new();
    wj_config_set_max_memory_size(config, 8 * GIB);
    fx_begin(&fx, config);
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(big64_wat, wat_opts, &len);
    patch_offset(bytes, len, 0xfeed0001, 1ull << 32);
    wj_instance *in = fx_instantiate(&fx, fx_compile_bytes(&fx, bytes, len), NULL, 0);
    wj_memory *mem = memory_of(in, "mem");
    wj_limits lim;
    wj_memory_type(mem, &lim);
    ck_assert(lim.is64);

    const uint64_t A = 0x0102030405060708ull, B = 0x1122334455667788ull,
                   C = 0xa1a2a3a4a5a6a7a8ull, D = 0xd1d2d3d4d5d6d7d8ull,
                   E = 0xe1e2e3e4e5e6e7e8ull;
    const uint64_t four_g = 1ull << 32;
    EXPECT_I64(in, "size", 1, NOARGS);
    EXPECT_OK(in, "store64", ARGS(v_i64(0), v_i64(A)));
    EXPECT_OK(in, "store8", ARGS(v_i64(65535), v_i32(0x5a)));

    /* 4 GiB + 1 MiB: 65552 pages */
    wj_val r = expect_ok_(__LINE__, in, "grow", ARGS(v_i64(65551)));
    ck_assert_int_eq(r.kind, WJ_I64);
    if (r.of.i64 == -1) {
        /* Only the system may refuse: if we can map as much ourselves, it is a bug. */
        size_t want = 65552 * WASM_PAGE;
        void *p = mmap(NULL, want, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED)
            munmap(p, want);
        ck_assert_msg(p == MAP_FAILED,
                      "memory.grow to 4 GiB + 1 MiB returned -1, but the host can map that much");
        fprintf(stderr, "memory64_past_4gib: the system refuses a memory of 4 GiB + 1 MiB "
                        "(%s); only the unchanged memory is checked\n", strerror(errno));
        EXPECT_I64(in, "size", 1, NOARGS);
        EXPECT_I64(in, "load64", A, ARGS(v_i64(0)));
        EXPECT_I32(in, "load8", 0x5a, ARGS(v_i64(65535)));
        EXPECT_OOB(in, "load8", ARGS(v_i64(65536)));
        fx_end(&fx);
        return;
    }
    ck_assert_int_eq(r.of.i64, 1);
    EXPECT_I64(in, "size", 65552, NOARGS);
    ck_assert_uint_eq(wj_memory_size(mem), 65552);
    ck_assert_uint_eq(wj_memory_data_size(mem), 65552 * WASM_PAGE);

    /* bytes past 4 GiB: no truncation of the address to 32 bits */
    const uint64_t hi = four_g + 12345;
    EXPECT_OK(in, "store64", ARGS(v_i64(hi), v_i64(B)));
    EXPECT_I64(in, "load64", B, ARGS(v_i64(hi)));
    EXPECT_I64(in, "load64_off4g", B, ARGS(v_i64(12345))); /* a 64-bit static offset */
    ck_assert_uint_eq(host_read(mem, hi, 8), B);
    EXPECT_I64(in, "load64", 0, ARGS(v_i64(12345)));        /* not aliased at hi - 4 GiB */
    /* an 8-byte access straddling 4 GiB */
    EXPECT_OK(in, "store64", ARGS(v_i64(four_g - 4), v_i64(C)));
    EXPECT_I64(in, "load64", C, ARGS(v_i64(four_g - 4)));
    EXPECT_I32(in, "load8", (C >> 32) & 0xff, ARGS(v_i64(four_g)));
    EXPECT_I32(in, "load8", (C >> 24) & 0xff, ARGS(v_i64(four_g - 1)));
    ck_assert_uint_eq(host_read(mem, four_g - 4, 8), C);
    EXPECT_OK(in, "store64", ARGS(v_i64(four_g + 8), v_i64(D)));
    EXPECT_I64(in, "load64", A, ARGS(v_i64(0)));
    EXPECT_I64(in, "load64", 0, ARGS(v_i64(8)));
    EXPECT_I64(in, "load64_off4g", D, ARGS(v_i64(8)));

    /* grow further: the contents stay */
    EXPECT_I64(in, "grow", 65552, ARGS(v_i64(16)));
    const uint64_t pages = 65568, S = pages * WASM_PAGE;
    EXPECT_I64(in, "size", pages, NOARGS);
    ck_assert_uint_eq(wj_memory_data_size(mem), S);
    EXPECT_I64(in, "load64", A, ARGS(v_i64(0)));
    EXPECT_I32(in, "load8", 0x5a, ARGS(v_i64(65535)));
    EXPECT_I64(in, "load64", B, ARGS(v_i64(hi)));
    EXPECT_I64(in, "load64", C, ARGS(v_i64(four_g - 4)));
    EXPECT_I64(in, "load64", D, ARGS(v_i64(four_g + 8)));
    ck_assert_uint_eq(host_read(mem, hi, 8), B);
    ck_assert_uint_eq(host_read(mem, 0, 8), A);

    /* the last byte and the last 8 bytes */
    EXPECT_I32(in, "load8", 0, ARGS(v_i64(S - 1)));
    EXPECT_OK(in, "store8", ARGS(v_i64(S - 1), v_i32(0x77)));
    EXPECT_I32(in, "load8", 0x77, ARGS(v_i64(S - 1)));
    ck_assert_uint_eq(host_read(mem, S - 1, 1), 0x77);
    EXPECT_OK(in, "store64", ARGS(v_i64(S - 8), v_i64(E)));
    EXPECT_I64(in, "load64", E, ARGS(v_i64(S - 8)));
    ck_assert_uint_eq(host_read(mem, S - 8, 8), E);
    /* one past */
    EXPECT_OOB(in, "load8", ARGS(v_i64(S)));
    EXPECT_OOB(in, "store8", ARGS(v_i64(S), v_i32(1)));
    EXPECT_OOB(in, "load64", ARGS(v_i64(S - 7)));
    EXPECT_OOB(in, "store64", ARGS(v_i64(S - 7), v_i64(0)));
    EXPECT_OOB(in, "load64_off4g", ARGS(v_i64(S - four_g - 7)));
    EXPECT_OOB(in, "load8", ARGS(v_i64(S + four_g)));
    EXPECT_I64(in, "load64", E, ARGS(v_i64(S - 8))); /* the failed store wrote nothing */

    /* the engine's limit is 8 GiB = 131072 pages */
    EXPECT_I64(in, "grow", -1, ARGS(v_i64(131072 - pages + 1)));
    EXPECT_I64(in, "size", pages, NOARGS);
    uint64_t old = 0;
    ck_assert(!wj_memory_grow(mem, 131072 - pages + 1, &old));
    ck_assert_uint_eq(wj_memory_size(mem), pages);
    EXPECT_I64(in, "load64", B, ARGS(v_i64(hi)));
    fx_end(&fx);
}
END_TEST

/* ==== 2. growth that moves the base under live wasm frames =========================== */

/*
 * $rec(d) writes to memory $m, recurses down to d = 0, which calls the host
 * to grow $m by 4 pages (1 -> 5) after blocking the place after its end,
 * where its reservation ends, so that the grow moves it;
 * then every frame checks, after its call returns:
 *   bit 0: what it wrote before the call is intact (and %4$s holds);
 *   bit 1: the new pages read zero at their start and at their end;
 *   bit 2: they are writable;
 *   bit 3: memory.size $m is 5.
 * It returns (callee's result << 4) | bits; the bottom's callee result is
 * the old size, 1. So rec(2) returns 0x1fff.
 * %1$s: the index type; %2$s: the memory declarations (and host import);
 * %3$s: code before the call; %4$s: an i32 condition after it.
 */
static const char move_wat_format[] =
    "(module\n"
    "  (import \"host\" \"grow\" (func $grow (param i64) (result i64)))\n"
    "%2$s"
    "  (func $rec (export \"rec\") (param $d %1$s) (result i64)\n"
    "    (local $r i64) (local $bits i32)\n"
    "    (%1$s.store $m (%1$s.mul (local.get $d) (%1$s.const 8))\n"
    "      (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x11111111)))\n"
    "%3$s"
    "    (if (%1$s.eqz (local.get $d))\n"
    "      (then (local.set $r (call $grow (i64.const 4))))\n"
    "      (else (local.set $r (call $rec (%1$s.sub (local.get $d) (%1$s.const 1))))))\n"
    "    (local.set $bits (i32.and\n"
    "      (%1$s.eq (%1$s.load $m (%1$s.mul (local.get $d) (%1$s.const 8)))\n"
    "        (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x11111111)))\n"
    "      %4$s))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl (i32.and\n"
    "      (%1$s.eqz (%1$s.load $m (%1$s.add (%1$s.const 65536)\n"
    "        (%1$s.mul (local.get $d) (%1$s.const 8)))))\n"
    "      (%1$s.eqz (%1$s.load $m (%1$s.sub (%1$s.const 327672)\n"
    "        (%1$s.mul (local.get $d) (%1$s.const 8))))))\n"
    "      (i32.const 1))))\n"
    "    (%1$s.store $m (%1$s.add (%1$s.const 65536) (%1$s.mul (local.get $d) (%1$s.const 8)))\n"
    "      (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x02020202)))\n"
    "    (%1$s.store $m (%1$s.sub (%1$s.const 327672) (%1$s.mul (local.get $d) (%1$s.const 8)))\n"
    "      (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x03030303)))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl (i32.and\n"
    "      (%1$s.eq (%1$s.load $m (%1$s.add (%1$s.const 65536)\n"
    "        (%1$s.mul (local.get $d) (%1$s.const 8))))\n"
    "        (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x02020202)))\n"
    "      (%1$s.eq (%1$s.load $m (%1$s.sub (%1$s.const 327672)\n"
    "        (%1$s.mul (local.get $d) (%1$s.const 8))))\n"
    "        (%1$s.mul (%1$s.add (local.get $d) (%1$s.const 1)) (%1$s.const 0x03030303))))\n"
    "      (i32.const 2))))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (memory.size $m) (%1$s.const 5)) (i32.const 3))))\n"
    "    (i64.or (i64.shl (local.get $r) (i64.const 4)) (i64.extend_i32_u (local.get $bits))))\n"
    ")\n";

/* Frames write memory 0 ($z) too, when $m is memory 1. */
static const char z_before[] =
    "    (i32.store $z (i32.mul (%s (local.get $d)) (i32.const 4))\n"
    "      (i32.add (%s (local.get $d)) (i32.const 0x700)))\n";
static const char z_after[] =
    "(i32.eq (i32.load $z (i32.mul (%s (local.get $d)) (i32.const 4)))\n"
    "        (i32.add (%s (local.get $d)) (i32.const 0x700)))";

/* The host function: blocks the place after the memory's end, then grows it. */
typedef struct grower {
    wj_memory *mem;
    uint8_t *before, *after;
    uint8_t *blocker; /* our page after the old end, or NULL if the place was in use */
    int map_errno;    /* when mmap failed other than with EEXIST */
    int calls;
} grower;

static wj_trap *host_grow(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller;
    grower *g = env;
    g->calls++;
    g->before = wj_memory_data(g->mem);
    /* no Check assertions in here: they must not unwind through wasm frames */
    uint8_t *end = g->before + wj_memory_data_size(g->mem);
    void *p = mmap(end, SYS_PAGE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) {
        if (errno != EEXIST)
            g->map_errno = errno;
    } else if (p != end) {
        munmap(p, SYS_PAGE);
    } else {
        g->blocker = p;
    }
    uint64_t old = 0;
    bool ok = wj_memory_grow(g->mem, (uint64_t)args[0].of.i64, &old);
    results[0] = v_i64(ok ? old : UINT64_MAX);
    g->after = wj_memory_data(g->mem);
    return NULL;
}

/* $m reserves just its page, so the blocker keeps it from growing in
 * place. A memory64 memory reserves its maximum and never moves unless
 * dynamic memories are configured: then it reserves its size, as a dynamic
 * 32-bit one does. */
typedef enum move_kind {
    MOVE_MEM64_IMPORTED, /* memory64 made by the host, imported as memory 0 */
    MOVE_DYNAMIC32,      /* a 32-bit memory 0 */
    MOVE_MEM1_64,        /* memory 1 is memory64, memory 0 a 32-bit one */
    MOVE_MEM1_32,        /* memory 1 is 32-bit dynamic (no max, a 1-page reservation),
                          * memory 0 a static one (max 1 page) */
} move_kind;

static void check_move_under_frames(move_kind kind)
{
    bool is64 = kind == MOVE_MEM64_IMPORTED || kind == MOVE_MEM1_64;
    bool has_z = kind == MOVE_MEM1_64 || kind == MOVE_MEM1_32;
    const char *idx = is64 ? "i64" : "i32";
    const char *to_i32 = is64 ? "i32.wrap_i64" : "i32.add (i32.const 0)";
    wj_config *config = config_new();
    if (kind == MOVE_MEM1_32)
        wj_config_set_memory_reservation(config, WASM_PAGE);
    else
        wj_config_set_dynamic_memories(config, true);
    const char *mems;
    switch (kind) {
    case MOVE_MEM64_IMPORTED: mems = "  (import \"host\" \"mem\" (memory $m i64 1))\n"; break;
    case MOVE_DYNAMIC32: mems = "  (memory $m (export \"mem\") 1)\n"; break;
    case MOVE_MEM1_64:
        mems = "  (memory $z (export \"z\") 1 2)\n  (memory $m (export \"mem\") i64 1)\n";
        break;
    default: mems = "  (memory $z (export \"z\") 1 1)\n  (memory $m (export \"mem\") 1)\n"; break;
    }
    char *before = has_z ? fmt(z_before, to_i32, to_i32) : strdup("");
    char *after = has_z ? fmt(z_after, to_i32, to_i32) : strdup("(i32.const 1)");
    char *wat = fmt(move_wat_format, idx, mems, before, after);

    fixture fx;
    fx_begin(&fx, config);
    wj_module *m = fx_compile(&fx, wat);
    grower g = {0};
    const uint8_t params[] = {WJ_I64}, results[] = {WJ_I64};
    wj_functype ft = {1, 1, params, results};
    wj_func *grow = wj_func_new(fx.store, &ft, host_grow, &g, NULL);
    ck_assert_ptr_nonnull(grow);
    wj_instance *in;
    if (kind == MOVE_MEM64_IMPORTED) {
        wj_limits lim = {.min = 1, .is64 = true};
        ck_assert_no_wj_error(wj_memory_new(fx.store, &lim, &g.mem));
        wj_extern imports[] = {{.kind = WJ_EXTERN_FUNC, .of.func = grow},
                               {.kind = WJ_EXTERN_MEMORY, .of.memory = g.mem}};
        in = fx_instantiate(&fx, m, imports, 2);
    } else {
        wj_extern imports[] = {{.kind = WJ_EXTERN_FUNC, .of.func = grow}};
        in = fx_instantiate(&fx, m, imports, 1);
        g.mem = memory_of(in, "mem");
    }

    EXPECT_I64(in, "rec", 0x1fff, ARGS(v_idx(is64, 2)));
    ck_assert_int_eq(g.calls, 1);
    ck_assert_msg(g.map_errno == 0, "mmap after the memory: %s", strerror(g.map_errno));
    if (g.blocker)
        fx_keep_map(&fx, g.blocker, false);
    ck_assert_msg(g.after != g.before, "the memory did not move (%p)", (void *)g.before);
    ck_assert_ptr_eq(wj_memory_data(g.mem), g.after);
    ck_assert_uint_eq(wj_memory_size(g.mem), 5);
    ck_assert_uint_eq(wj_memory_data_size(g.mem), 5 * WASM_PAGE);
    unsigned w = is64 ? 8 : 4;
    for (uint64_t d = 0; d < 3; d++) {
        ck_assert_uint_eq(host_read(g.mem, d * 8, w), (d + 1) * 0x11111111u);
        ck_assert_uint_eq(host_read(g.mem, 65536 + d * 8, w), (d + 1) * 0x02020202u);
        ck_assert_uint_eq(host_read(g.mem, 327672 - d * 8, w), (d + 1) * 0x03030303u);
    }
    if (has_z) {
        wj_memory *z = memory_of(in, "z");
        for (uint64_t d = 0; d < 3; d++)
            ck_assert_uint_eq(host_read(z, d * 4, 4), d + 0x700);
        ck_assert_uint_eq(wj_memory_size(z), 1);
    }
    fx_end(&fx);
    free(wat);
    free(before);
    free(after);
}

START_TEST(move_under_frames_memory64)
{
    check_move_under_frames(MOVE_MEM64_IMPORTED);
}
END_TEST

START_TEST(move_under_frames_dynamic32)
{
    check_move_under_frames(MOVE_DYNAMIC32);
}
END_TEST

START_TEST(move_under_frames_memory1_64)
{
    check_move_under_frames(MOVE_MEM1_64);
}
END_TEST

START_TEST(move_under_frames_memory1_32)
{
    check_move_under_frames(MOVE_MEM1_32);
}
END_TEST

/*
 * One memory imported twice, as $a (memory 0) and $b (memory 1). "run"
 * grows it through $b by 2 pages (1 -> 3) and checks through both:
 *   bit 0: a word written through $a reads back through $a before the grow;
 *   bit 1: memory.grow $b returned 1;
 *   bit 2: the word reads back through $a after it;
 *   bit 3: the new pages read zero through $a;
 *   bit 4: a word written through $a near the new end reads back through $b;
 *   bit 5: memory.size $a is 3;
 *   bit 6: a word written through $b reads back through $a.
 */
static const char twice_wat_format[] =
    "(module\n"
    "  (import \"env\" \"a\" (memory $a %1$s 1))\n"
    "  (import \"env\" \"b\" (memory $b %1$s 1))\n"
    "  (func (export \"run\") (result i32) (local $bits i32)\n"
    "    (%1$s.store $a (%1$s.const 8) (%1$s.const 0x12345678))\n"
    "    (local.set $bits (%1$s.eq (%1$s.load $a (%1$s.const 8)) (%1$s.const 0x12345678)))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (memory.grow $b (%1$s.const 2)) (%1$s.const 1)) (i32.const 1))))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (%1$s.load $a (%1$s.const 8)) (%1$s.const 0x12345678)) (i32.const 2))))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl (i32.and\n"
    "      (%1$s.eqz (%1$s.load $a (%1$s.const 65536)))\n"
    "      (%1$s.eqz (%1$s.load $a (%1$s.const 196600)))) (i32.const 3))))\n"
    "    (%1$s.store $a (%1$s.const 196600) (%1$s.const 0x0badf00d))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (%1$s.load $b (%1$s.const 196600)) (%1$s.const 0x0badf00d)) (i32.const 4))))\n"
    "    (local.set $bits (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (memory.size $a) (%1$s.const 3)) (i32.const 5))))\n"
    "    (%1$s.store $b (%1$s.const 100) (%1$s.const 0x7e57))\n"
    "    (i32.or (local.get $bits) (i32.shl\n"
    "      (%1$s.eq (%1$s.load $a (%1$s.const 100)) (%1$s.const 0x7e57)) (i32.const 6))))\n"
    "  (func (export \"load_a\") (param %1$s) (result %1$s) local.get 0 %1$s.load $a)\n"
    "  (func (export \"load_b\") (param %1$s) (result %1$s) local.get 0 %1$s.load $b)\n"
    ")\n";

static void check_imported_twice(bool is64, bool dynamic)
{
    wj_config *config = config_new();
    wj_config_set_dynamic_memories(config, dynamic);
    fixture fx;
    fx_begin(&fx, config);
    char *wat = fmt(twice_wat_format, is64 ? "i64" : "i32");
    wj_module *m = fx_compile(&fx, wat);
    free(wat);
    wj_memory *mem = NULL;
    wj_limits lim = {.min = 1, .is64 = is64};
    ck_assert_no_wj_error(wj_memory_new(fx.store, &lim, &mem));
    wj_extern imports[] = {{.kind = WJ_EXTERN_MEMORY, .of.memory = mem},
                           {.kind = WJ_EXTERN_MEMORY, .of.memory = mem}};
    wj_instance *in = fx_instantiate(&fx, m, imports, 2);
    uint8_t *before = wj_memory_data(mem);
    /* with dynamic memories configured, a memory reserves just its size,
     * and moves once the place after it is taken; else it reserves its
     * maximum and stays */
    if (dynamic)
        fx_block_growth(&fx, mem);
    EXPECT_I32(in, "run", 0x7f, NOARGS);
    if (dynamic)
        ck_assert_msg(wj_memory_data(mem) != before, "the memory did not move");
    else
        ck_assert_ptr_eq(wj_memory_data(mem), before);
    ck_assert_uint_eq(wj_memory_size(mem), 3);
    ck_assert_uint_eq(host_read(mem, 8, 4), 0x12345678);
    ck_assert_uint_eq(host_read(mem, 196600, 4), 0x0badf00d);
    ck_assert_uint_eq(host_read(mem, 100, 4), 0x7e57);
    /* fresh calls: both indices reach the moved memory */
    EXPECT_IDX(in, is64, "load_a", 0x0badf00d, ARGS(v_idx(is64, 196600)));
    EXPECT_IDX(in, is64, "load_b", 0x12345678, ARGS(v_idx(is64, 8)));
    EXPECT_OOB(in, "load_a", ARGS(v_idx(is64, 3 * WASM_PAGE - (is64 ? 7 : 3))));
    EXPECT_OOB(in, "load_b", ARGS(v_idx(is64, 3 * WASM_PAGE)));
    fx_end(&fx);
}

START_TEST(memory_imported_twice_grows_through_index_1)
{
    check_imported_twice(true, true);   /* memory64, moving */
    check_imported_twice(true, false);  /* memory64 in its reservation: same results */
    check_imported_twice(false, true);  /* 32-bit dynamic */
    check_imported_twice(false, false); /* 32-bit static: nothing moves, same results */
}
END_TEST

/* ==== 3. memory.grow failures ========================================================= */

/* %1$s: the index type; %2$s: "i64" for memory64, else nothing; %3$s: the limits. */
static const char grow_wat_format[] =
    "(module\n"
    "  (memory (export \"mem\") %2$s %3$s)\n"
    "  (func (export \"size\") (result %1$s) memory.size)\n"
    "  (func (export \"grow\") (param %1$s) (result %1$s) local.get 0 memory.grow)\n"
    "  (func (export \"load8\") (param %1$s) (result i32) local.get 0 i32.load8_u)\n"
    "  (func (export \"store8\") (param %1$s i32) local.get 0 local.get 1 i32.store8)\n"
    /* memory.grow's -1 compared inside wasm, at full width */
    "  (func (export \"grow_failed\") (param %1$s) (result i32)\n"
    "    (%1$s.eq (memory.grow (local.get 0)) (%1$s.const -1)))\n"
    ")\n";

typedef enum mem_kind { KIND_STATIC, KIND_DYNAMIC, KIND_MEM64 } mem_kind;
static const char *const kind_names[] = {"static", "dynamic", "memory64"};

static wj_instance *open_grow_module(fixture *fx, mem_kind kind, const char *limits,
                                     uint64_t max_bytes)
{
    wj_config *config = config_new();
    wj_config_set_dynamic_memories(config, kind == KIND_DYNAMIC);
    if (max_bytes)
        wj_config_set_max_memory_size(config, max_bytes);
    fx_begin(fx, config);
    bool is64 = kind == KIND_MEM64;
    char *wat = fmt(grow_wat_format, is64 ? "i64" : "i32", is64 ? "i64" : "", limits);
    wj_instance *in = fx_load(fx, wat, NULL, 0);
    free(wat);
    return in;
}

START_TEST(grow_past_limits_fails)
{
    for (int k = KIND_STATIC; k <= KIND_MEM64; k++) {
        bool is64 = k == KIND_MEM64;
        fixture fx;

        /* the declared maximum: 3 pages */
        wj_instance *in = open_grow_module(&fx, (mem_kind)k, "1 3", 0);
        wj_memory *mem = memory_of(in, "mem");
        uint8_t *data = wj_memory_data(mem);
        EXPECT_OK(in, "store8", ARGS(v_idx(is64, 100), v_i32(0x42)));
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 3)));
        EXPECT_IDX(in, is64, "size", 1, NOARGS);
        ck_assert_uint_eq(wj_memory_data_size(mem), WASM_PAGE);
        ck_assert_ptr_eq(wj_memory_data(mem), data);
        EXPECT_I32(in, "load8", 0x42, ARGS(v_idx(is64, 100)));
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, WASM_PAGE)));
        EXPECT_IDX(in, is64, "grow", 1, ARGS(v_idx(is64, 2)));
        EXPECT_IDX(in, is64, "size", 3, NOARGS);
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, UINT32_MAX)));
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 0x10000)));
        if (is64) {
            EXPECT_I64(in, "grow", -1, ARGS(v_i64(1ull << 48)));
            EXPECT_I64(in, "grow", -1, ARGS(v_i64(1ull << 63)));
            EXPECT_I64(in, "grow", -1, ARGS(v_i64(UINT64_MAX)));
        }
        EXPECT_I32(in, "grow_failed", 1, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", 3, ARGS(v_idx(is64, 0)));
        EXPECT_IDX(in, is64, "size", 3, NOARGS);
        ck_assert_uint_eq(wj_memory_data_size(mem), 3 * WASM_PAGE);
        EXPECT_I32(in, "load8", 0x42, ARGS(v_idx(is64, 100)));
        EXPECT_I32(in, "load8", 0, ARGS(v_idx(is64, 3 * WASM_PAGE - 1)));
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, 3 * WASM_PAGE)));
        uint64_t old = 7;
        ck_assert_msg(!wj_memory_grow(mem, 1, &old), "%s: wj_memory_grow past the maximum",
                      kind_names[k]);
        ck_assert_uint_eq(old, 7);
        ck_assert_uint_eq(wj_memory_size(mem), 3);
        fx_end(&fx);

        /* the engine's limit: 4 pages, no declared maximum */
        in = open_grow_module(&fx, (mem_kind)k, "1", 4 * WASM_PAGE);
        mem = memory_of(in, "mem");
        EXPECT_OK(in, "store8", ARGS(v_idx(is64, 65535), v_i32(0x24)));
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 4)));
        EXPECT_IDX(in, is64, "size", 1, NOARGS);
        ck_assert_uint_eq(wj_memory_data_size(mem), WASM_PAGE);
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, WASM_PAGE)));
        EXPECT_IDX(in, is64, "grow", 1, ARGS(v_idx(is64, 3)));
        EXPECT_IDX(in, is64, "size", 4, NOARGS);
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 0x10000)));
        EXPECT_I32(in, "grow_failed", 1, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", 4, ARGS(v_idx(is64, 0)));
        EXPECT_I32(in, "load8", 0x24, ARGS(v_idx(is64, 65535)));
        EXPECT_I32(in, "load8", 0, ARGS(v_idx(is64, 4 * WASM_PAGE - 1)));
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, 4 * WASM_PAGE)));
        ck_assert(!wj_memory_grow(mem, 1, &old));
        ck_assert_uint_eq(wj_memory_size(mem), 4);
        fx_end(&fx);

        /* a module whose minimum is over the engine's limit does not instantiate */
        wj_config *config = config_new();
        wj_config_set_dynamic_memories(config, k == KIND_DYNAMIC);
        wj_config_set_max_memory_size(config, 4 * WASM_PAGE);
        fx_begin(&fx, config);
        char *wat = fmt(grow_wat_format, is64 ? "i64" : "i32", is64 ? "i64" : "", "5");
        wj_module *m = fx_compile(&fx, wat);
        free(wat);
        wj_instance *none = NULL;
        wj_trap *trap = NULL;
        wj_error *err = wj_instance_new(fx.store, m, NULL, 0, &none, &trap);
        ck_assert_msg(err != NULL && wj_error_kind_of(err) == WJ_ERROR_RESOURCE,
                      "%s: a 5-page memory under a 4-page limit", kind_names[k]);
        ck_assert_ptr_null(none);
        ck_assert_ptr_null(trap);
        wj_error_delete(err);
        fx_end(&fx);
    }
}
END_TEST

/* Empty memories: a dynamic one has a placeholder mapping until it grows. */
static const char empty_wat_format[] =
    "(module\n"
    "  (memory (export \"mem\") %2$s %3$s)\n"
    "  (data (%1$s.const 0) \"\")\n"
    "  (func (export \"size\") (result %1$s) memory.size)\n"
    "  (func (export \"grow\") (param %1$s) (result %1$s) local.get 0 memory.grow)\n"
    "  (func (export \"load8\") (param %1$s) (result i32) local.get 0 i32.load8_u)\n"
    "  (func (export \"store8\") (param %1$s i32) local.get 0 local.get 1 i32.store8)\n"
    "  (func (export \"fill\") (param %1$s i32 %1$s)\n"
    "    local.get 0 local.get 1 local.get 2 memory.fill)\n"
    ")\n";

static wj_instance *open_empty(fixture *fx, wj_config *config, bool is64, const char *limits)
{
    fx_begin(fx, config);
    char *wat = fmt(empty_wat_format, is64 ? "i64" : "i32", is64 ? "i64" : "", limits);
    wj_instance *in = fx_load(fx, wat, NULL, 0);
    free(wat);
    return in;
}

START_TEST(empty_memories)
{
    for (int k = KIND_STATIC; k <= KIND_MEM64; k++) {
        bool is64 = k == KIND_MEM64;
        fixture fx;
        wj_config *config = config_new();
        wj_config_set_dynamic_memories(config, k == KIND_DYNAMIC);
        wj_instance *in = open_empty(&fx, config, is64, "0");
        wj_memory *mem = memory_of(in, "mem");
        EXPECT_IDX(in, is64, "size", 0, NOARGS);
        ck_assert_uint_eq(wj_memory_data_size(mem), 0);
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, 0)));
        EXPECT_OOB(in, "store8", ARGS(v_idx(is64, 0), v_i32(1)));
        EXPECT_OK(in, "fill", ARGS(v_idx(is64, 0), v_i32(1), v_idx(is64, 0)));
        EXPECT_OOB(in, "fill", ARGS(v_idx(is64, 1), v_i32(1), v_idx(is64, 0)));
        EXPECT_OOB(in, "fill", ARGS(v_idx(is64, 0), v_i32(1), v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", 0, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "size", 1, NOARGS);
        ck_assert_uint_eq(wj_memory_data_size(mem), WASM_PAGE);
        EXPECT_I32(in, "load8", 0, ARGS(v_idx(is64, 0)));
        EXPECT_OK(in, "store8", ARGS(v_idx(is64, 65535), v_i32(9)));
        EXPECT_I32(in, "load8", 9, ARGS(v_idx(is64, 65535)));
        ck_assert_uint_eq(host_read(mem, 65535, 1), 9);
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, 65536)));
        fx_end(&fx);

        /* maximum 0: nothing ever fits */
        config = config_new();
        wj_config_set_dynamic_memories(config, k == KIND_DYNAMIC);
        in = open_empty(&fx, config, is64, "0 0");
        EXPECT_IDX(in, is64, "grow", -1, ARGS(v_idx(is64, 1)));
        EXPECT_IDX(in, is64, "grow", 0, ARGS(v_idx(is64, 0)));
        EXPECT_IDX(in, is64, "size", 0, NOARGS);
        EXPECT_OOB(in, "load8", ARGS(v_idx(is64, 0)));
        fx_end(&fx);
    }

}
END_TEST

/* No reservation and no guard (both 0): a memory that may grow is dynamic;
 * one whose maximum is 0 pages still "fits" the empty reservation, so it is
 * static, with a mapping of 0 + 0 bytes. */
START_TEST(layout_zero_reservation)
{
    fixture fx;
    wj_config *config = config_new();
    wj_config_set_memory_reservation(config, 0);
    wj_config_set_memory_guard_size(config, 0);
    wj_instance *in = open_empty(&fx, config, false, "0 1");
    EXPECT_OOB(in, "load8", ARGS(v_i32(0)));
    EXPECT_I32(in, "grow", 0, ARGS(v_i32(1)));
    EXPECT_OK(in, "store8", ARGS(v_i32(65535), v_i32(3)));
    EXPECT_I32(in, "load8", 3, ARGS(v_i32(65535)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(65536)));
    EXPECT_I32(in, "grow", -1, ARGS(v_i32(1)));
    fx_end(&fx);

    config = config_new();
    wj_config_set_memory_reservation(config, 0);
    wj_config_set_memory_guard_size(config, 0);
    fx_begin(&fx, config);
    /* both ways to make one: by the host and by a module */
    wj_limits lim = {.min = 0, .max = 0, .has_max = true};
    wj_memory *host_mem = NULL;
    wj_error *host_err = wj_memory_new(fx.store, &lim, &host_mem);
    char *wat = fmt(empty_wat_format, "i32", "", "0 0");
    wj_module *m = fx_compile(&fx, wat);
    free(wat);
    in = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(fx.store, m, NULL, 0, &in, &trap);
    if (host_err || err || trap) {
        /* clean up first, so that a failure leaks nothing under CK_FORK=no */
        char why[512];
        snprintf(why, sizeof why,
                 "reservation 0, guard 0, a memory of 0 to 0 pages: wj_memory_new: %s; "
                 "instantiating (memory 0 0): %s",
                 host_err ? wj_error_message(host_err) : "ok",
                 err ? wj_error_message(err) : trap ? wj_trap_message(trap) : "ok");
        wj_error_delete(host_err);
        wj_error_delete(err);
        wj_trap_delete(trap);
        fx_end(&fx);
        ck_abort_msg("%s", why);
    }
    ck_assert_uint_eq(wj_memory_data_size(host_mem), 0);
    EXPECT_I32(in, "size", 0, NOARGS);
    EXPECT_OOB(in, "load8", ARGS(v_i32(0)));
    EXPECT_OOB(in, "store8", ARGS(v_i32(0), v_i32(1)));
    EXPECT_OK(in, "fill", ARGS(v_i32(0), v_i32(1), v_i32(0)));
    EXPECT_I32(in, "grow", -1, ARGS(v_i32(1)));
    EXPECT_I32(in, "grow", 0, ARGS(v_i32(0)));
    fx_end(&fx);
}
END_TEST

/* memory64 with no engine limit: a grow the address space cannot hold
 * returns -1, whatever the page count's byte size does in 64 bits. */
START_TEST(memory64_huge_grow_fails)
{
    fixture fx;
    wj_config *config = config_new();
    wj_config_set_max_memory_size(config, UINT64_MAX);
    wj_instance *in = open_empty(&fx, config, true, "1");
    wj_memory *mem = memory_of(in, "mem");
    EXPECT_OK(in, "store8", ARGS(v_i64(7), v_i32(0x42)));
    static const uint64_t deltas[] = {1ull << 31, 1ull << 40, 1ull << 47, (1ull << 48) - 1,
                                      1ull << 48, 1ull << 49, 1ull << 63, UINT64_MAX,
                                      UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        /* valgrind 3.19 asserts in its mremap wrapper ("needL > 0") on a new
         * size of 2^63 bytes, where the kernel just fails */
        if (deltas[i] == 1ull << 47 && under_valgrind()) {
            fprintf(stderr, "memory64_huge_grow_fails: under valgrind, no grow by 2^47 pages\n");
            continue;
        }
        EXPECT_I64(in, "grow", -1, ARGS(v_i64(deltas[i])));
        uint64_t old = 5;
        ck_assert_msg(!wj_memory_grow(mem, deltas[i], &old), "wj_memory_grow(%llu)",
                      (unsigned long long)deltas[i]);
    }
    EXPECT_I64(in, "size", 1, NOARGS);
    ck_assert_uint_eq(wj_memory_data_size(mem), WASM_PAGE);
    EXPECT_I32(in, "load8", 0x42, ARGS(v_i64(7)));
    EXPECT_I64(in, "grow", 1, ARGS(v_i64(1)));
    EXPECT_I32(in, "load8", 0x42, ARGS(v_i64(7)));
    fx_end(&fx);
}
END_TEST

/* ==== 4. the top of the 64-bit index space ============================================= */

static const char top64_wat[] =
    "(module\n"
    "  (memory (export \"mem\") i64 1)\n"
    "  (data $d \"abcd\")\n"
    /* offset=2^64-1, 2^63, 2^64-16 (patched in) */
    "  (func (export \"load_maxoff\") (param i64) (result i32)\n"
    "    local.get 0 i32.load offset=0xfeed0001 nop nop nop nop nop)\n"
    "  (func (export \"load_maxoff_c0\") (result i32)\n"
    "    i64.const 0 i32.load offset=0xfeed0001 nop nop nop nop nop)\n"
    "  (func (export \"load8_maxoff\") (param i64) (result i32)\n"
    "    local.get 0 i32.load8_u offset=0xfeed0001 nop nop nop nop nop)\n"
    "  (func (export \"load_off2p63\") (param i64) (result i32)\n"
    "    local.get 0 i32.load offset=0xfeed0002 nop nop nop nop nop)\n"
    "  (func (export \"store_offm16\") (param i64 i32)\n"
    "    local.get 0 local.get 1 i32.store offset=0xfeed0003 nop nop nop nop nop)\n"
    "  (func (export \"load\") (param i64) (result i32) local.get 0 i32.load)\n"
    "  (func (export \"load_off1\") (param i64) (result i32) local.get 0 i32.load offset=1)\n"
    "  (func (export \"load8\") (param i64) (result i32) local.get 0 i32.load8_u)\n"
    "  (func (export \"load8_off1\") (param i64) (result i32) local.get 0 i32.load8_u offset=1)\n"
    "  (func (export \"load_c_max\") (result i32) i64.const -1 i32.load)\n"
    "  (func (export \"load_c_max_off1\") (result i32) i64.const -1 i32.load offset=1)\n"
    "  (func (export \"load64\") (param i64) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"store64\") (param i64 i64) local.get 0 local.get 1 i64.store)\n"
    "  (func (export \"store64_c_m8\") (param i64) i64.const -8 local.get 0 i64.store)\n"
    "  (func (export \"fill\") (param i64 i32 i64)\n"
    "    local.get 0 local.get 1 local.get 2 memory.fill)\n"
    "  (func (export \"copy\") (param i64 i64 i64)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy)\n"
    "  (func (export \"init\") (param i64 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.init $d)\n"
    ")\n";

START_TEST(memory64_top_of_index_space)
{
    /* dynamic memories: the memory reserves just its page, so the canary
     * after it sits right at its end */
    wj_config *config = config_new();
    wj_config_set_dynamic_memories(config, true);
    fixture fx;
    fx_begin(&fx, config);
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(top64_wat, wat_opts, &len);
    patch_offset(bytes, len, 0xfeed0001, UINT64_MAX);
    patch_offset(bytes, len, 0xfeed0002, 1ull << 63);
    patch_offset(bytes, len, 0xfeed0003, UINT64_MAX - 15);
    wj_instance *in = fx_instantiate(&fx, fx_compile_bytes(&fx, bytes, len), NULL, 0);
    wj_memory *mem = memory_of(in, "mem");
    fx_canaries(&fx, mem);
    const uint64_t P = 0x8877665544332211ull;
    for (uint64_t a = 0; a < 64; a += 8)
        EXPECT_OK(in, "store64", ARGS(v_i64(a), v_i64(P + a)));
    EXPECT_OK(in, "store64", ARGS(v_i64(65528), v_i64(P)));

    /* offset 2^64-1: nothing is in bounds */
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i64(0)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i64(1)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i64(UINT64_MAX)));
    EXPECT_OOB(in, "load_maxoff_c0", NOARGS);
    EXPECT_OOB(in, "load8_maxoff", ARGS(v_i64(0)));
    EXPECT_OOB(in, "load8_maxoff", ARGS(v_i64(1))); /* 1 + 2^64-1 wraps to 0 */
    /* address 2^64-1: with offset 1 the sum carries; with offset 0 it is just far */
    EXPECT_OOB(in, "load_off1", ARGS(v_i64(UINT64_MAX)));
    EXPECT_OOB(in, "load", ARGS(v_i64(UINT64_MAX)));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i64(UINT64_MAX))); /* wraps to address 0 */
    EXPECT_OOB(in, "load8", ARGS(v_i64(UINT64_MAX)));
    EXPECT_OOB(in, "load_c_max", NOARGS);
    EXPECT_OOB(in, "load_c_max_off1", NOARGS);
    EXPECT_OOB(in, "load", ARGS(v_i64(UINT64_MAX - 3)));
    EXPECT_OOB(in, "load_off1", ARGS(v_i64(UINT64_MAX - 3))); /* end = 2^64 exactly */
    /* i64 at 2^64-8 (its end is 2^64: 0 in 64 bits) */
    EXPECT_OOB(in, "store64", ARGS(v_i64(UINT64_MAX - 7), v_i64(1)));
    EXPECT_OOB(in, "load64", ARGS(v_i64(UINT64_MAX - 7)));
    EXPECT_OOB(in, "store64_c_m8", ARGS(v_i64(1)));
    EXPECT_OOB(in, "store64", ARGS(v_i64(UINT64_MAX - 3), v_i64(1)));
    /* offset 2^63: address 2^63 carries, address 0 is far */
    EXPECT_OOB(in, "load_off2p63", ARGS(v_i64(1ull << 63)));
    EXPECT_OOB(in, "load_off2p63", ARGS(v_i64(0)));
    EXPECT_OOB(in, "load_off2p63", ARGS(v_i64((1ull << 63) + 16)));
    /* offset 2^64-16 plus address 32 would wrap to 16 */
    EXPECT_OOB(in, "store_offm16", ARGS(v_i64(32), v_i32(0x77)));
    EXPECT_OOB(in, "store_offm16", ARGS(v_i64(16), v_i32(0x77))); /* to 0 */
    EXPECT_I64(in, "load64", P + 16, ARGS(v_i64(16)));
    EXPECT_I64(in, "load64", P, ARGS(v_i64(0)));
    /* bulk operations whose ranges would wrap */
    EXPECT_OOB(in, "fill", ARGS(v_i64(UINT64_MAX), v_i32(0xcc), v_i64(2)));
    EXPECT_OOB(in, "fill", ARGS(v_i64(8), v_i32(0xcc), v_i64(UINT64_MAX)));
    EXPECT_OOB(in, "fill", ARGS(v_i64(8), v_i32(0xcc), v_i64(UINT64_MAX - 7)));
    EXPECT_OOB(in, "copy", ARGS(v_i64(8), v_i64(UINT64_MAX), v_i64(2)));
    EXPECT_OOB(in, "copy", ARGS(v_i64(UINT64_MAX - 1), v_i64(8), v_i64(4)));
    EXPECT_OOB(in, "copy", ARGS(v_i64(8), v_i64(16), v_i64(UINT64_MAX - 15)));
    EXPECT_OOB(in, "init", ARGS(v_i64(UINT64_MAX - 1), v_i32(0), v_i32(4)));
    EXPECT_OOB(in, "init", ARGS(v_i64(65533), v_i32(0), v_i32(4)));
    for (uint64_t a = 0; a < 64; a += 8)
        EXPECT_I64(in, "load64", P + a, ARGS(v_i64(a)));
    EXPECT_I64(in, "load64", P, ARGS(v_i64(65528)));

    /* normal accesses afterwards */
    EXPECT_OK(in, "store64", ARGS(v_i64(8), v_i64(0xabcdef)));
    EXPECT_I64(in, "load64", 0xabcdef, ARGS(v_i64(8)));
    EXPECT_I32(in, "load", (uint32_t)P, ARGS(v_i64(65528)));
    EXPECT_I32(in, "load", (uint32_t)(P >> 32), ARGS(v_i64(65532)));
    EXPECT_OOB(in, "load", ARGS(v_i64(65533)));
    EXPECT_I32(in, "load8", P >> 56, ARGS(v_i64(65535)));
    EXPECT_OOB(in, "load8", ARGS(v_i64(65536)));
    EXPECT_OK(in, "init", ARGS(v_i64(65532), v_i32(0), v_i32(4)));
    EXPECT_I32(in, "load", le8("abcd"), ARGS(v_i64(65532)));
    EXPECT_OK(in, "fill", ARGS(v_i64(65536), v_i32(0xcc), v_i64(0)));
    fx_end(&fx);
}
END_TEST

/* ==== 5. 32-bit dynamic memories: the top of the 32-bit index space ================== */

/* A 32-bit memory and accessors; %s: its limits. */
static const char acc32_wat_format[] =
    "(module\n"
    "  (memory (export \"mem\") %s)\n"
    "  (data $d \"abcd\")\n"
    "  (func (export \"size\") (result i32) memory.size)\n"
    "  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n"
    "  (func (export \"load8\") (param i32) (result i32) local.get 0 i32.load8_u)\n"
    "  (func (export \"load\") (param i32) (result i32) local.get 0 i32.load)\n"
    "  (func (export \"load64\") (param i32) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"store8\") (param i32 i32) local.get 0 local.get 1 i32.store8)\n"
    "  (func (export \"store\") (param i32 i32) local.get 0 local.get 1 i32.store)\n"
    "  (func (export \"store64\") (param i32 i64) local.get 0 local.get 1 i64.store)\n"
    "  (func (export \"load_off1\") (param i32) (result i32) local.get 0 i32.load offset=1)\n"
    "  (func (export \"load8_off1\") (param i32) (result i32) local.get 0 i32.load8_u offset=1)\n"
    "  (func (export \"load_maxoff\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=0xffffffff)\n"
    "  (func (export \"load_c_max_maxoff\") (result i32) i32.const -1 i32.load offset=0xffffffff)\n"
    "  (func (export \"load_c_max\") (result i32) i32.const -1 i32.load)\n"
    "  (func (export \"load_c_m4\") (result i32) i32.const -4 i32.load)\n"
    "  (func (export \"load_c_last\") (result i32) i32.const 65532 i32.load)\n"
    "  (func (export \"fill\") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)\n"
    "  (func (export \"copy\") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)\n"
    "  (func (export \"init\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.init $d)\n"
    ")\n";

START_TEST(dynamic32_bounds)
{
    wj_config *config = config_new();
    wj_config_set_dynamic_memories(config, true);
    fixture fx;
    fx_begin(&fx, config);
    char *wat = fmt(acc32_wat_format, "1");
    wj_instance *in = fx_load(&fx, wat, NULL, 0);
    free(wat);
    wj_memory *mem = memory_of(in, "mem");
    fx_canaries(&fx, mem);
    const uint32_t end = 65536;

    /* index 0xffffffff with offset 0xffffffff: 2^33 - 2, no wrap to 32 bits */
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(0)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(1)));
    EXPECT_OOB(in, "load_c_max_maxoff", NOARGS);
    EXPECT_OOB(in, "load_c_max", NOARGS);
    EXPECT_OOB(in, "load_c_m4", NOARGS);
    EXPECT_OOB(in, "load_off1", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i32(UINT32_MAX))); /* would wrap to 0 in 32 bits */
    EXPECT_OOB(in, "load", ARGS(v_i32(UINT32_MAX - 3)));
    EXPECT_OOB(in, "load", ARGS(v_i32(0x80000000)));

    /* the last bytes in bounds */
    EXPECT_OK(in, "store8", ARGS(v_i32(end - 1), v_i32(0x99)));
    EXPECT_I32(in, "load8", 0x99, ARGS(v_i32(end - 1)));
    EXPECT_OK(in, "store", ARGS(v_i32(end - 8), v_i32(0x11223344)));
    EXPECT_I32(in, "load", 0x99000000, ARGS(v_i32(end - 4)));
    EXPECT_I32(in, "load_c_last", 0x99000000, NOARGS);
    EXPECT_I64(in, "load64", 0x9900000011223344ull, ARGS(v_i32(end - 8)));
    EXPECT_I32(in, "load_off1", 0x99000000, ARGS(v_i32(end - 5)));
    EXPECT_I32(in, "load8_off1", 0x99, ARGS(v_i32(end - 2)));
    /* one past */
    EXPECT_OOB(in, "load8", ARGS(v_i32(end)));
    EXPECT_OOB(in, "store8", ARGS(v_i32(end), v_i32(1)));
    EXPECT_OOB(in, "load", ARGS(v_i32(end - 3)));
    EXPECT_OOB(in, "store", ARGS(v_i32(end - 3), v_i32(1)));
    EXPECT_OOB(in, "load64", ARGS(v_i32(end - 7)));
    EXPECT_OOB(in, "store64", ARGS(v_i32(end - 7), v_i64(1)));
    EXPECT_OOB(in, "load_off1", ARGS(v_i32(end - 4)));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i32(end - 1)));
    EXPECT_I64(in, "load64", 0x9900000011223344ull, ARGS(v_i32(end - 8)));

    /* bulk operations over the end: trap, write nothing */
    EXPECT_OK(in, "store", ARGS(v_i32(0), v_i32(0x04030201)));
    EXPECT_OOB(in, "fill", ARGS(v_i32(end - 2), v_i32(0xee), v_i32(3)));
    EXPECT_OOB(in, "fill", ARGS(v_i32(UINT32_MAX), v_i32(0xee), v_i32(2)));
    EXPECT_OOB(in, "fill", ARGS(v_i32(0), v_i32(0xee), v_i32(end + 1)));
    EXPECT_OOB(in, "fill", ARGS(v_i32(end + 1), v_i32(0xee), v_i32(0)));
    EXPECT_OOB(in, "copy", ARGS(v_i32(end - 6), v_i32(0), v_i32(7)));
    EXPECT_OOB(in, "copy", ARGS(v_i32(0), v_i32(end - 6), v_i32(7)));
    EXPECT_OOB(in, "copy", ARGS(v_i32(UINT32_MAX), v_i32(0), v_i32(2)));
    EXPECT_OOB(in, "copy", ARGS(v_i32(end + 1), v_i32(0), v_i32(0)));
    EXPECT_OOB(in, "copy", ARGS(v_i32(0), v_i32(end + 1), v_i32(0)));
    EXPECT_OOB(in, "init", ARGS(v_i32(end - 2), v_i32(0), v_i32(4)));
    EXPECT_OOB(in, "init", ARGS(v_i32(0), v_i32(1), v_i32(4))); /* past the segment */
    EXPECT_OOB(in, "init", ARGS(v_i32(UINT32_MAX), v_i32(0), v_i32(2)));
    EXPECT_OOB(in, "init", ARGS(v_i32(end + 1), v_i32(0), v_i32(0)));
    EXPECT_I32(in, "load", 0x04030201, ARGS(v_i32(0)));
    EXPECT_I64(in, "load64", 0x9900000011223344ull, ARGS(v_i32(end - 8)));
    ck_assert_uint_eq(host_read(mem, end - 8, 8), 0x9900000011223344ull);
    /* exactly to the end, and empty at the end, are fine */
    EXPECT_OK(in, "fill", ARGS(v_i32(end), v_i32(0xee), v_i32(0)));
    EXPECT_OK(in, "copy", ARGS(v_i32(end), v_i32(end), v_i32(0)));
    EXPECT_OK(in, "init", ARGS(v_i32(end), v_i32(4), v_i32(0)));
    EXPECT_OK(in, "copy", ARGS(v_i32(end - 4), v_i32(0), v_i32(4)));
    EXPECT_I32(in, "load", 0x04030201, ARGS(v_i32(end - 4)));
    EXPECT_OK(in, "init", ARGS(v_i32(end - 8), v_i32(0), v_i32(4)));
    EXPECT_I32(in, "load", le8("abcd"), ARGS(v_i32(end - 8)));
    EXPECT_OK(in, "fill", ARGS(v_i32(end - 2), v_i32(0xee), v_i32(2)));
    EXPECT_I32(in, "load", 0xeeee0201, ARGS(v_i32(end - 4)));

    /* after a grow, which moves the memory (the canary after it, or whatever
     * else is mapped there, is in the way), the new end holds */
    uint8_t *before = wj_memory_data(mem);
    EXPECT_I32(in, "grow", 1, ARGS(v_i32(1)));
    ck_assert_msg(wj_memory_data(mem) != before, "the memory did not move");
    EXPECT_I32(in, "load", 0xeeee0201, ARGS(v_i32(end - 4)));
    EXPECT_I32(in, "load", 0, ARGS(v_i32(2 * end - 4)));
    EXPECT_OOB(in, "load", ARGS(v_i32(2 * end - 3)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i32(UINT32_MAX)));
    fx_end(&fx);
}
END_TEST

/* ==== 6. static layouts from the configuration ======================================== */

/* reservation 1 GiB (default guard): a memory whose maximum fits stays
 * static (explicit checks, its base never moves); one with no maximum
 * (4 GiB) is dynamic: it grows in place up to the 1 GiB it reserved, and
 * past it moves, when the place after is taken. */
START_TEST(layout_reservation_1gib)
{
    /* static: (memory 1 16) */
    wj_config *config = config_new();
    wj_config_set_memory_reservation(config, GIB);
    fixture fx;
    fx_begin(&fx, config);
    char *wat = fmt(acc32_wat_format, "1 16");
    wj_instance *in = fx_load(&fx, wat, NULL, 0);
    free(wat);
    wj_memory *mem = memory_of(in, "mem");
    uint8_t *data = wj_memory_data(mem);
    EXPECT_OK(in, "store", ARGS(v_i32(65532), v_i32(0x5eed)));
    EXPECT_OOB(in, "load", ARGS(v_i32(65533)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(65536)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(GIB - 1)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(GIB)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(3 * GIB)));        /* past reservation and guard */
    EXPECT_OOB(in, "load", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));
    EXPECT_I32(in, "grow", 1, ARGS(v_i32(15)));
    ck_assert_ptr_eq(wj_memory_data(mem), data); /* static: the base stays */
    EXPECT_I32(in, "size", 16, NOARGS);
    EXPECT_I32(in, "load", 0x5eed, ARGS(v_i32(65532)));
    EXPECT_OK(in, "store", ARGS(v_i32(16 * 65536 - 4), v_i32(0xfeedface)));
    EXPECT_I32(in, "load", 0xfeedface, ARGS(v_i32(16 * 65536 - 4)));
    EXPECT_OOB(in, "load", ARGS(v_i32(16 * 65536 - 3)));
    EXPECT_OOB(in, "load64", ARGS(v_i32(16 * 65536 - 7)));
    EXPECT_I32(in, "grow", -1, ARGS(v_i32(1)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(16 * 65536)));
    fx_end(&fx);

    /* dynamic: (memory 1), no maximum: 4 GiB does not fit in 1 GiB */
    config = config_new();
    wj_config_set_memory_reservation(config, GIB);
    fx_begin(&fx, config);
    wat = fmt(acc32_wat_format, "1");
    in = fx_load(&fx, wat, NULL, 0);
    free(wat);
    mem = memory_of(in, "mem");
    data = wj_memory_data(mem);
    EXPECT_OK(in, "store", ARGS(v_i32(65532), v_i32(0x5eed)));
    EXPECT_OOB(in, "load", ARGS(v_i32(65533)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(65536)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(GIB)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));
    EXPECT_I32(in, "grow", 1, ARGS(v_i32(1)));
    ck_assert_ptr_eq(wj_memory_data(mem), data);
    EXPECT_I32(in, "size", 2, NOARGS);
    EXPECT_I32(in, "load", 0x5eed, ARGS(v_i32(65532)));
    EXPECT_I32(in, "load", 0, ARGS(v_i32(2 * 65536 - 4)));
    EXPECT_OOB(in, "load", ARGS(v_i32(2 * 65536 - 3)));
    const uint32_t gib_pages = GIB / WASM_PAGE;
    EXPECT_I32(in, "grow", 2, ARGS(v_i32(gib_pages - 2)));
    ck_assert_ptr_eq(wj_memory_data(mem), data);
    EXPECT_OK(in, "store", ARGS(v_i32(GIB - 4), v_i32(0x1a57)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(GIB)));
    fx_block_growth(&fx, mem);
    EXPECT_I32(in, "grow", gib_pages, ARGS(v_i32(1)));
    ck_assert_msg(wj_memory_data(mem) != data, "a dynamic memory did not move");
    EXPECT_I32(in, "size", gib_pages + 1, NOARGS);
    EXPECT_I32(in, "load", 0x5eed, ARGS(v_i32(65532)));
    EXPECT_I32(in, "load", 0x1a57, ARGS(v_i32(GIB - 4)));
    EXPECT_I32(in, "load", 0, ARGS(v_i32(GIB + 65536 - 4)));
    EXPECT_OOB(in, "load", ARGS(v_i32(GIB + 65536 - 3)));
    fx_end(&fx);
}
END_TEST

/* guard 0: accesses just past the end of the reservation must be checked.
 * A canary right after the reservation catches any that is not. */
static void check_layout_no_guard(uint64_t reservation, const char *limits, uint32_t max_pages)
{
    wj_config *config = config_new();
    wj_config_set_memory_reservation(config, reservation);
    wj_config_set_memory_guard_size(config, 0);
    fixture fx;
    fx_begin(&fx, config);
    char *wat = fmt(acc32_wat_format, limits);
    wj_instance *in = fx_load(&fx, wat, NULL, 0);
    free(wat);
    wj_memory *mem = memory_of(in, "mem");
    uint8_t *data = wj_memory_data(mem);
    fx_canary_at(&fx, data + reservation);
    const uint64_t R = reservation;

    EXPECT_OK(in, "store", ARGS(v_i32(65532), v_i32(0x600d)));
    EXPECT_OOB(in, "load", ARGS(v_i32(65533)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(65536)));
    EXPECT_OOB(in, "load8", ARGS(v_i32((uint32_t)(R - 1))));
    EXPECT_OOB(in, "load", ARGS(v_i32((uint32_t)(R - 4))));
    EXPECT_OOB(in, "load", ARGS(v_i32((uint32_t)(R - 3))));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i32((uint32_t)(R - 1))));
    EXPECT_OOB(in, "load_off1", ARGS(v_i32((uint32_t)(R - 4))));
    EXPECT_OOB(in, "load", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load8", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));

    /* grow to the whole reservation (address space only; the pages touched
     * below are the only ones that cost memory) */
    wj_val r = expect_ok_(__LINE__, in, "grow", ARGS(v_i32(max_pages - 1)));
    ck_assert_int_eq(r.kind, WJ_I32);
    if (r.of.i32 == -1) {
        fprintf(stderr, "layout (reservation %llu, guard 0): the system refuses to make %u "
                        "pages accessible; only the one-page memory was checked\n",
                (unsigned long long)R, max_pages);
        EXPECT_I32(in, "size", 1, NOARGS);
        EXPECT_I32(in, "load", 0x600d, ARGS(v_i32(65532)));
        fx_end(&fx);
        return;
    }
    ck_assert_int_eq(r.of.i32, 1);
    ck_assert_ptr_eq(wj_memory_data(mem), data);
    ck_assert_uint_eq(wj_memory_data_size(mem), R);
    EXPECT_I32(in, "size", max_pages, NOARGS);
    EXPECT_I32(in, "load", 0x600d, ARGS(v_i32(65532)));
    EXPECT_OK(in, "store", ARGS(v_i32((uint32_t)(R - 4)), v_i32(0xcafef00d)));
    EXPECT_I32(in, "load", 0xcafef00d, ARGS(v_i32((uint32_t)(R - 4))));
    EXPECT_I32(in, "load8", 0xca, ARGS(v_i32((uint32_t)(R - 1))));
    EXPECT_I32(in, "load_off1", 0xcafef00d, ARGS(v_i32((uint32_t)(R - 5))));
    EXPECT_I32(in, "load8_off1", 0xca, ARGS(v_i32((uint32_t)(R - 2))));
    EXPECT_I64(in, "load64", 0xcafef00d00000000ull, ARGS(v_i32((uint32_t)(R - 8))));
    /* just past the end: the canary (or nothing) is there, no guard */
    EXPECT_OOB(in, "load", ARGS(v_i32((uint32_t)(R - 3))));
    EXPECT_OOB(in, "load", ARGS(v_i32((uint32_t)(R - 1))));
    EXPECT_OOB(in, "load64", ARGS(v_i32((uint32_t)(R - 7))));
    EXPECT_OOB(in, "store", ARGS(v_i32((uint32_t)(R - 2)), v_i32(0)));
    EXPECT_OOB(in, "store64", ARGS(v_i32((uint32_t)(R - 4)), v_i64(0)));
    EXPECT_OOB(in, "load_off1", ARGS(v_i32((uint32_t)(R - 4))));
    EXPECT_OOB(in, "load8_off1", ARGS(v_i32((uint32_t)(R - 1))));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(UINT32_MAX)));
    EXPECT_OOB(in, "load_maxoff", ARGS(v_i32(1)));
    EXPECT_OOB(in, "fill", ARGS(v_i32((uint32_t)(R - 2)), v_i32(0xee), v_i32(3)));
    EXPECT_I32(in, "load", 0xcafef00d, ARGS(v_i32((uint32_t)(R - 4))));
    EXPECT_I32(in, "grow", -1, ARGS(v_i32(1)));
    fx_end(&fx);
}

START_TEST(layout_no_guard)
{
    /* 4 GiB reservation: (memory 1), which may grow to all 65536 pages */
    check_layout_no_guard(4 * GIB, "1", 65536);
    /* 1 GiB reservation: a maximum of exactly 1 GiB still fits */
    check_layout_no_guard(GIB, "1 16384", 16384);
}
END_TEST

/* ==== 7. multi-memory ================================================================= */

static const char exporter_wat[] =
    "(module\n"
    "  (memory (export \"m\") 1 3)\n"
    "  (data (i32.const 0) \"exporter\")\n"
    "  (func (export \"load64\") (param i32) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n"
    ")\n";

static const char multi_wat[] =
    "(module\n"
    "  (import \"x\" \"m\" (memory $imp 1 3))\n"
    "  (memory $m64 (export \"m64\") i64 1 4)\n"
    "  (memory $m32 (export \"m32\") 1 3)\n"
    "  (data (memory $m64) (i64.const 100) \"hello64\")\n"
    "  (data (memory $m32) (i32.const 200) \"hello32\")\n"
    "  (data $p \"passive\")\n"
    "  (func (export \"load0\") (param i32) (result i64) local.get 0 i64.load $imp)\n"
    "  (func (export \"load1\") (param i64) (result i64) local.get 0 i64.load $m64)\n"
    "  (func (export \"load2\") (param i32) (result i64) local.get 0 i64.load $m32)\n"
    "  (func (export \"load2_off8\") (param i32) (result i64) local.get 0 i64.load $m32 offset=8)\n"
    "  (func (export \"store0\") (param i32 i64) local.get 0 local.get 1 i64.store $imp)\n"
    "  (func (export \"store1\") (param i64 i64) local.get 0 local.get 1 i64.store $m64)\n"
    "  (func (export \"store2\") (param i32 i64) local.get 0 local.get 1 i64.store $m32)\n"
    "  (func (export \"size0\") (result i32) memory.size $imp)\n"
    "  (func (export \"size1\") (result i64) memory.size $m64)\n"
    "  (func (export \"size2\") (result i32) memory.size $m32)\n"
    "  (func (export \"grow1\") (param i64) (result i64) local.get 0 memory.grow $m64)\n"
    "  (func (export \"grow2\") (param i32) (result i32) local.get 0 memory.grow $m32)\n"
    "  (func (export \"copy_2_from_1\") (param i32 i64 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy $m32 $m64)\n"
    "  (func (export \"copy_1_from_2\") (param i64 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy $m64 $m32)\n"
    "  (func (export \"copy_1_from_0\") (param i64 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy $m64 $imp)\n"
    "  (func (export \"copy_0_from_2\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy $imp $m32)\n"
    "  (func (export \"init1\") (param i64 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.init $m64 $p)\n"
    /* floats and narrow, sign-extending accesses with memory indices */
    "  (func (export \"f64_1\") (param i64 f64) (result f64)\n"
    "    local.get 0 local.get 1 f64.store $m64 local.get 0 f64.load $m64)\n"
    "  (func (export \"f32_2\") (param i32 f32) (result f32)\n"
    "    local.get 0 local.get 1 f32.store $m32 local.get 0 f32.load $m32)\n"
    "  (func (export \"s8_1\") (param i64) (result i64) local.get 0 i64.load8_s $m64)\n"
    "  (func (export \"u32_1\") (param i64) (result i64) local.get 0 i64.load32_u $m64)\n"
    "  (func (export \"s16_2\") (param i32) (result i32) local.get 0 i32.load16_s $m32)\n"
    "  (func (export \"s32_0\") (param i32) (result i64) local.get 0 i64.load32_s $imp)\n"
    "  (func (export \"store16_2\") (param i32 i32) local.get 0 local.get 1 i32.store16 $m32)\n"
    "  (func (export \"store32_1\") (param i64 i64) local.get 0 local.get 1 i64.store32 $m64)\n"
    "  (func (export \"fill2\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.fill $m32)\n"
    /* the same address in each memory, in one function: 3 * 100 + 5 * 10 + 7 */
    "  (func (export \"mix\") (result i64)\n"
    "    (i64.store $m32 (i32.const 16) (i64.const 3))\n"
    "    (i64.store $m64 (i64.const 16) (i64.const 5))\n"
    "    (i64.store $imp (i32.const 16) (i64.const 7))\n"
    "    (i64.add (i64.mul (i64.load $m32 (i32.const 16)) (i64.const 100))\n"
    "      (i64.add (i64.mul (i64.load $m64 (i64.const 16)) (i64.const 10))\n"
    "        (i64.load $imp (i32.const 16)))))\n"
    ")\n";

static void check_multi_memory(bool dynamic)
{
    wj_config *config = config_new();
    wj_config_set_dynamic_memories(config, dynamic);
    fixture fx;
    fx_begin(&fx, config);
    wj_instance *x = fx_load(&fx, exporter_wat, NULL, 0);
    wj_extern imp = export_of(x, "m", WJ_EXTERN_MEMORY);
    wj_instance *in = fx_load(&fx, multi_wat, &imp, 1);
    wj_memory *m0 = imp.of.memory, *m64 = memory_of(in, "m64"), *m32 = memory_of(in, "m32");
    wj_limits lim;
    wj_memory_type(m64, &lim);
    ck_assert(lim.is64 && lim.min == 1 && lim.has_max && lim.max == 4);
    wj_memory_type(m32, &lim);
    ck_assert(!lim.is64 && lim.min == 1 && lim.has_max && lim.max == 3);

    /* data segments: memory 1 and 2 by the importer, memory 0 by the exporter */
    EXPECT_I64(in, "load1", le8("hello64"), ARGS(v_i64(100)));
    EXPECT_I64(in, "load2", le8("hello32"), ARGS(v_i32(200)));
    EXPECT_I64(in, "load0", le8("exporter"), ARGS(v_i32(0)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(200)));
    EXPECT_I64(in, "load2", 0, ARGS(v_i32(100)));
    ck_assert_uint_eq(host_read(m64, 100, 8), le8("hello64"));
    ck_assert_uint_eq(host_read(m32, 200, 8), le8("hello32"));

    /* each index reaches its own memory */
    EXPECT_I64(in, "mix", 357, NOARGS);
    ck_assert_uint_eq(host_read(m32, 16, 8), 3);
    ck_assert_uint_eq(host_read(m64, 16, 8), 5);
    ck_assert_uint_eq(host_read(m0, 16, 8), 7);
    EXPECT_I64(x, "load64", 7, ARGS(v_i32(16)));
    EXPECT_OK(in, "store0", ARGS(v_i32(24), v_i64(0x0123456789abcdefull)));
    EXPECT_I64(x, "load64", 0x0123456789abcdefull, ARGS(v_i32(24)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(24)));
    EXPECT_I64(in, "load2", 0, ARGS(v_i32(24)));
    EXPECT_OK(in, "store2", ARGS(v_i32(32), v_i64(0x2222)));
    EXPECT_I64(in, "load2_off8", 0x2222, ARGS(v_i32(24)));

    /* memory.size and memory.grow of memory 2 leave the others alone */
    EXPECT_I32(in, "size0", 1, NOARGS);
    EXPECT_I64(in, "size1", 1, NOARGS);
    EXPECT_I32(in, "size2", 1, NOARGS);
    EXPECT_I32(in, "grow2", 1, ARGS(v_i32(2)));
    EXPECT_I32(in, "size2", 3, NOARGS);
    EXPECT_I32(in, "grow2", -1, ARGS(v_i32(1)));
    EXPECT_I32(in, "size2", 3, NOARGS);
    EXPECT_I32(in, "size0", 1, NOARGS);
    EXPECT_I64(in, "size1", 1, NOARGS);
    ck_assert_uint_eq(wj_memory_size(m32), 3);
    ck_assert_uint_eq(wj_memory_size(m64), 1);
    ck_assert_uint_eq(wj_memory_size(m0), 1);
    EXPECT_I64(in, "load2", le8("hello32"), ARGS(v_i32(200)));
    EXPECT_I64(in, "load2", 0, ARGS(v_i32(3 * 65536 - 8)));
    EXPECT_OK(in, "store2", ARGS(v_i32(3 * 65536 - 8), v_i64(0x3333)));
    EXPECT_I64(in, "load2", 0x3333, ARGS(v_i32(3 * 65536 - 8)));
    EXPECT_OOB(in, "load2", ARGS(v_i32(3 * 65536 - 7)));
    EXPECT_OOB(in, "load2_off8", ARGS(v_i32(3 * 65536 - 15)));
    EXPECT_OOB(in, "load1", ARGS(v_i64(65536 - 7)));
    EXPECT_OOB(in, "load0", ARGS(v_i32(65536 - 7)));
    EXPECT_I64(in, "grow1", 1, ARGS(v_i64(1)));
    EXPECT_I64(in, "size1", 2, NOARGS);
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(2 * 65536 - 8)));
    EXPECT_OOB(in, "load1", ARGS(v_i64(2 * 65536 - 7)));

    /* memory.copy between a 32-bit and a 64-bit memory, both ways */
    EXPECT_OK(in, "copy_2_from_1", ARGS(v_i32(300), v_i64(100), v_i32(7)));
    EXPECT_I64(in, "load2", le8("hello64"), ARGS(v_i32(300)));
    EXPECT_OK(in, "copy_1_from_2", ARGS(v_i64(1000), v_i32(200), v_i32(7)));
    EXPECT_I64(in, "load1", le8("hello32"), ARGS(v_i64(1000)));
    EXPECT_OK(in, "copy_1_from_0", ARGS(v_i64(2000), v_i32(0), v_i32(8)));
    EXPECT_I64(in, "load1", le8("exporter"), ARGS(v_i64(2000)));
    EXPECT_OK(in, "copy_0_from_2", ARGS(v_i32(40), v_i32(200), v_i32(7)));
    EXPECT_I64(x, "load64", le8("hello32"), ARGS(v_i32(40)));
    /* out of bounds on either side: trap, nothing written */
    EXPECT_OOB(in, "copy_2_from_1", ARGS(v_i32(3 * 65536 - 3), v_i64(100), v_i32(7)));
    EXPECT_I64(in, "load2", 0x3333, ARGS(v_i32(3 * 65536 - 8)));
    EXPECT_OOB(in, "copy_2_from_1", ARGS(v_i32(400), v_i64(2 * 65536 - 3), v_i32(7)));
    EXPECT_OOB(in, "copy_2_from_1", ARGS(v_i32(400), v_i64(1ull << 32), v_i32(1)));
    EXPECT_OOB(in, "copy_2_from_1", ARGS(v_i32(400), v_i64(UINT64_MAX), v_i32(2)));
    EXPECT_I64(in, "load2", 0, ARGS(v_i32(400)));
    EXPECT_OOB(in, "copy_1_from_2", ARGS(v_i64(2 * 65536 - 3), v_i32(200), v_i32(7)));
    EXPECT_OOB(in, "copy_1_from_2", ARGS(v_i64(3000), v_i32(3 * 65536 - 3), v_i32(7)));
    EXPECT_OOB(in, "copy_1_from_2", ARGS(v_i64(UINT64_MAX), v_i32(200), v_i32(2)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(3000)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(2 * 65536 - 8)));
    EXPECT_OOB(in, "copy_0_from_2", ARGS(v_i32(65536 - 3), v_i32(200), v_i32(7)));

    /* floats and narrow accesses, each through its own memory index */
    EXPECT_OK(in, "store1", ARGS(v_i64(48), v_i64(0xfedcba9876543280ull)));
    EXPECT_I64(in, "s8_1", -128, ARGS(v_i64(48)));
    EXPECT_I64(in, "u32_1", 0x76543280, ARGS(v_i64(48)));
    EXPECT_OK(in, "store16_2", ARGS(v_i32(48), v_i32(0x18001)));
    EXPECT_I32(in, "s16_2", 0xffff8001, ARGS(v_i32(48)));
    EXPECT_I64(in, "load2", 0x8001, ARGS(v_i32(48)));
    EXPECT_OK(in, "store0", ARGS(v_i32(48), v_i64(0x90000000)));
    EXPECT_I64(in, "s32_0", 0xffffffff90000000ull, ARGS(v_i32(48)));
    EXPECT_OK(in, "store32_1", ARGS(v_i64(56), v_i64(0x123456789ull)));
    EXPECT_I64(in, "load1", 0x23456789, ARGS(v_i64(56)));
    wj_val f = expect_ok_(__LINE__, in, "f64_1", ARGS(v_i64(64), v_f64(3.5)));
    ck_assert(f.kind == WJ_F64 && f.of.f64 == 3.5);
    ck_assert_uint_eq(host_read(m64, 64, 8), 0x400c000000000000ull);
    f = expect_ok_(__LINE__, in, "f32_2", ARGS(v_i32(3 * 65536 - 12), v_f32(-1.25f)));
    ck_assert(f.kind == WJ_F32 && f.of.f32 == -1.25f);
    ck_assert_uint_eq(host_read(m32, 3 * 65536 - 12, 4), 0xbfa00000u);
    EXPECT_OOB(in, "f64_1", ARGS(v_i64(2 * 65536 - 4), v_f64(1.0)));
    EXPECT_OOB(in, "f32_2", ARGS(v_i32(3 * 65536 - 3), v_f32(1.0f)));
    EXPECT_OOB(in, "s8_1", ARGS(v_i64(2 * 65536)));
    EXPECT_OOB(in, "s16_2", ARGS(v_i32(3 * 65536 - 1)));
    EXPECT_OOB(in, "s32_0", ARGS(v_i32(65536 - 3)));
    EXPECT_OOB(in, "store32_1", ARGS(v_i64(2 * 65536 - 3), v_i64(1)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(2 * 65536 - 8)));

    /* memory.init and memory.fill with a memory index */
    EXPECT_OK(in, "init1", ARGS(v_i64(5000), v_i32(0), v_i32(7)));
    EXPECT_I64(in, "load1", le8("passive"), ARGS(v_i64(5000)));
    EXPECT_OOB(in, "init1", ARGS(v_i64(2 * 65536 - 3), v_i32(0), v_i32(7)));
    EXPECT_OOB(in, "init1", ARGS(v_i64(1ull << 32), v_i32(0), v_i32(1)));
    EXPECT_I64(in, "load1", 0, ARGS(v_i64(2 * 65536 - 8)));
    EXPECT_OK(in, "fill2", ARGS(v_i32(500), v_i32(0xab), v_i32(8)));
    EXPECT_I64(in, "load2", 0xababababababababull, ARGS(v_i32(500)));
    EXPECT_OOB(in, "fill2", ARGS(v_i32(3 * 65536 - 4), v_i32(1), v_i32(5)));
    EXPECT_I64(in, "load2", 0x3333, ARGS(v_i32(3 * 65536 - 8)));

    /* the exporter grows memory 0 (moving it if dynamic: it reserved just its
     * size): the importer sees it */
    uint8_t *before = wj_memory_data(m0);
    if (dynamic)
        fx_block_growth(&fx, m0);
    EXPECT_I32(x, "grow", 1, ARGS(v_i32(1)));
    if (dynamic)
        ck_assert_msg(wj_memory_data(m0) != before, "the imported memory did not move");
    else
        ck_assert_ptr_eq(wj_memory_data(m0), before);
    EXPECT_I32(in, "size0", 2, NOARGS);
    EXPECT_I64(in, "load0", le8("exporter"), ARGS(v_i32(0)));
    EXPECT_I64(in, "load0", le8("hello32"), ARGS(v_i32(40)));
    EXPECT_I64(in, "load0", 0, ARGS(v_i32(2 * 65536 - 8)));
    EXPECT_OK(in, "store0", ARGS(v_i32(2 * 65536 - 8), v_i64(0x4444)));
    EXPECT_I64(x, "load64", 0x4444, ARGS(v_i32(2 * 65536 - 8)));
    EXPECT_OOB(in, "load0", ARGS(v_i32(2 * 65536 - 7)));
    EXPECT_I64(in, "mix", 357, NOARGS);
    fx_end(&fx);
}

START_TEST(multi_memory_static)
{
    check_multi_memory(false);
}
END_TEST

START_TEST(multi_memory_dynamic)
{
    check_multi_memory(true);
}
END_TEST

/* Active data segments into imported memories, one 64-bit and one 32-bit
 * (memory 1), the last one at an offset from an imported i64 global. */
static const char segments_wat[] =
    "(module\n"
    "  (import \"env\" \"m64\" (memory $a i64 1))\n"
    "  (import \"env\" \"m32\" (memory $b 1))\n"
    "  (import \"env\" \"g\" (global $g i64))\n"
    "  (data (memory $a) (i64.const 0) \"first\")\n"
    "  (data (memory $b) (i32.const 65534) \"b!\")\n"
    "  (data (memory $a) (global.get $g) \"bad\")\n"
    ")\n";

START_TEST(data_segment_offsets)
{
    fixture fx;
    fx_begin(&fx, config_new());
    wj_module *m = fx_compile(&fx, segments_wat);
    wj_limits l64 = {.min = 1, .is64 = true}, l32 = {.min = 1};
    wj_memory *a = NULL, *b = NULL;
    ck_assert_no_wj_error(wj_memory_new(fx.store, &l64, &a));
    ck_assert_no_wj_error(wj_memory_new(fx.store, &l32, &b));
    /* offsets that would wrap to 1, or run past the end: a trap, "bad" nowhere */
    static const uint64_t bad[] = {UINT64_MAX - 1, UINT64_MAX, 65534, 1ull << 32};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wj_globaltype gt = {WJ_I64, false};
        wj_val gv = v_i64(bad[i]);
        wj_global *g = NULL;
        ck_assert_no_wj_error(wj_global_new(fx.store, &gt, &gv, &g));
        wj_extern imports[] = {{.kind = WJ_EXTERN_MEMORY, .of.memory = a},
                               {.kind = WJ_EXTERN_MEMORY, .of.memory = b},
                               {.kind = WJ_EXTERN_GLOBAL, .of.global = g}};
        wj_instance *in = NULL;
        wj_trap *trap = NULL;
        ck_assert_no_wj_error(wj_instance_new(fx.store, m, imports, 3, &in, &trap));
        ck_assert_ptr_null(in);
        ck_assert_msg(trap && wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                      "offset 0x%llx: expected an out-of-bounds trap",
                      (unsigned long long)bad[i]);
        wj_trap_delete(trap);
        /* the segments before it were written (the spec keeps them) */
        ck_assert_uint_eq(host_read(a, 0, 8), le8("first"));
        ck_assert_uint_eq(host_read(b, 65534, 2), 0x2162); /* "b!" */
        ck_assert_uint_eq(host_read(a, 65528, 8), 0);
        ck_assert_uint_eq(host_read(b, 0, 8), 0);
    }
    wj_globaltype gt = {WJ_I64, false};
    wj_val gv = v_i64(65533);
    wj_global *g = NULL;
    ck_assert_no_wj_error(wj_global_new(fx.store, &gt, &gv, &g));
    wj_extern imports[] = {{.kind = WJ_EXTERN_MEMORY, .of.memory = a},
                           {.kind = WJ_EXTERN_MEMORY, .of.memory = b},
                           {.kind = WJ_EXTERN_GLOBAL, .of.global = g}};
    fx_instantiate(&fx, m, imports, 3);
    ck_assert_uint_eq(host_read(a, 65533, 3), 0x646162); /* "bad" */
    ck_assert_uint_eq(host_read(a, 0, 8), le8("first"));
    fx_end(&fx);
}
END_TEST

/* A segment past 4 GiB in a memory64 memory lands there, not at its low
 * 32 bits. */
static const char far_segment_wat[] =
    "(module\n"
    "  (memory (export \"mem\") i64 65537)\n"
    "  (data (i64.const 0x100000010) \"far\")\n"
    "  (data (i64.const 8) \"near\")\n"
    "  (func (export \"load\") (param i64) (result i32) local.get 0 i32.load)\n"
    ")\n";

START_TEST(memory64_segment_past_4gib)
{
    fixture fx;
    wj_config *config = config_new();
    wj_config_set_max_memory_size(config, 8 * GIB);
    fx_begin(&fx, config);
    wj_module *m = fx_compile(&fx, far_segment_wat);
    wj_instance *in = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(fx.store, m, NULL, 0, &in, &trap);
    if (err && wj_error_kind_of(err) == WJ_ERROR_RESOURCE) {
        size_t want = 65537 * WASM_PAGE;
        void *p = mmap(NULL, want, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED)
            munmap(p, want);
        ck_assert_msg(p == MAP_FAILED, "%s, but the host can map 4 GiB + 64 KiB",
                      wj_error_message(err));
        fprintf(stderr, "memory64_segment_past_4gib: the system refuses a memory of 4 GiB + "
                        "64 KiB (%s); not checked\n", wj_error_message(err));
        wj_error_delete(err);
        fx_end(&fx);
        return;
    }
    ck_assert_no_wj_error(err);
    ck_assert_ptr_null(trap);
    wj_memory *mem = memory_of(in, "mem");
    ck_assert_uint_eq(host_read(mem, (1ull << 32) + 16, 4), 0x726166); /* "far" */
    ck_assert_uint_eq(host_read(mem, 16, 4), 0x0000);
    ck_assert_uint_eq(host_read(mem, 8, 4), 0x7261656e); /* "near" */
    EXPECT_I32(in, "load", 0x726166, ARGS(v_i64((1ull << 32) + 16)));
    EXPECT_I32(in, "load", 0, ARGS(v_i64(16)));
    fx_end(&fx);
}
END_TEST

/* A memory's index type is part of its import type. */
START_TEST(memory_import_index_type_must_match)
{
    fixture fx;
    fx_begin(&fx, config_new());
    wj_module *m64 = fx_compile(&fx, "(module (import \"env\" \"m\" (memory i64 1)))");
    wj_module *m32 = fx_compile(&fx, "(module (import \"env\" \"m\" (memory 1)))");
    wj_limits l64 = {.min = 1, .is64 = true}, l32 = {.min = 1};
    wj_memory *a = NULL, *b = NULL;
    ck_assert_no_wj_error(wj_memory_new(fx.store, &l64, &a));
    ck_assert_no_wj_error(wj_memory_new(fx.store, &l32, &b));
    const struct {
        wj_module *m;
        wj_memory *mem;
    } bad[] = {{m64, b}, {m32, a}};
    for (int i = 0; i < 2; i++) {
        wj_extern imp = {.kind = WJ_EXTERN_MEMORY, .of.memory = bad[i].mem};
        wj_instance *in = NULL;
        wj_trap *trap = NULL;
        wj_error *err = wj_instance_new(fx.store, bad[i].m, &imp, 1, &in, &trap);
        ck_assert_msg(err && wj_error_kind_of(err) == WJ_ERROR_LINK,
                      "a %s memory for a %s import: expected a link error",
                      i ? "64-bit" : "32-bit", i ? "32-bit" : "64-bit");
        ck_assert_ptr_null(in);
        wj_error_delete(err);
    }
    wj_extern imp = {.kind = WJ_EXTERN_MEMORY, .of.memory = a};
    fx_instantiate(&fx, m64, &imp, 1);
    imp.of.memory = b;
    fx_instantiate(&fx, m32, &imp, 1);
    fx_end(&fx);
}
END_TEST

/* ==== 8. reservations: growth in place, moves O(log n) times ========================== */

/* A memory64 memory under an engine limit of `limit` bytes, grown in
 * `steps` steps of `step` pages from 1 page, moves at most `moves` times,
 * and every step's bytes stay. (Before, each grow was an mremap that moved the
 * mapping whenever something was mapped after it: past 32 TiB, a
 * page-table walk of the whole mapping on every grow.) */
static void check_memory64_growth(uint64_t limit, uint64_t step, unsigned steps, unsigned moves)
{
    wj_config *config = config_new();
    wj_config_set_max_memory_size(config, limit);
    fixture fx;
    fx_begin(&fx, config);
    wj_instance *in = fx_load(&fx, big64_wat, NULL, 0);
    wj_memory *mem = memory_of(in, "mem");
    uint8_t *base = wj_memory_data(mem);
    unsigned moved = 0;
    EXPECT_OK(in, "store64", ARGS(v_i64(8), v_i64(0xfeed)));
    for (uint64_t i = 0; i < steps; i++) {
        uint64_t old = 1 + i * step, at = old * WASM_PAGE;
        EXPECT_I64(in, "grow", old, ARGS(v_i64(step)));
        moved += wj_memory_data(mem) != base;
        base = wj_memory_data(mem);
        EXPECT_I64(in, "load64", 0, ARGS(v_i64(at)));
        EXPECT_OK(in, "store64", ARGS(v_i64(at), v_i64(0xa000 + i)));
        EXPECT_OK(in, "store64", ARGS(v_i64(at + step * WASM_PAGE - 8), v_i64(0xb000 + i)));
        EXPECT_OOB(in, "load8", ARGS(v_i64(at + step * WASM_PAGE)));
    }
    ck_assert_msg(moved <= moves, "limit %llu: %u grows moved the memory %u times, want <= %u",
                  (unsigned long long)limit, steps, moved, moves);
    EXPECT_I64(in, "size", 1 + steps * step, NOARGS);
    EXPECT_I64(in, "load64", 0xfeed, ARGS(v_i64(8)));
    for (uint64_t i = 0; i < steps; i++) {
        uint64_t at = (1 + i * step) * WASM_PAGE;
        ck_assert_uint_eq(host_read(mem, at, 8), 0xa000 + i);
        ck_assert_uint_eq(host_read(mem, at + step * WASM_PAGE - 8, 8), 0xb000 + i);
    }
    fx_end(&fx);
}

START_TEST(memory64_growth_moves_rarely)
{
    if (under_valgrind()) { /* its address space is far smaller than the kernel's */
        fprintf(stderr, "memory64_growth_moves_rarely: not under valgrind\n");
        return;
    }
    const uint64_t TIB = 1ull << 40;
    /* 1 TiB: reserved whole, so it never moves */
    check_memory64_growth(TIB, TIB / WASM_PAGE / 16, 15, 0);
    /* 100 TiB: more than any hole of a process (the program is mapped in the
     * middle of the 128 TiB), so the memory reserves 4 GiB (the configured
     * reservation) and, past it, twice its new size: it moves at 1, 3 and
     * 7 TiB (+ 1 page), unless the addresses after it are free and it
     * extends its reservation in place instead */
    check_memory64_growth(100 * TIB, TIB / WASM_PAGE, 8, 3);
}
END_TEST

/* With dynamic memories configured, a memory reserves only its size, and
 * a grow past its reservation extends it in place or moves the memory into
 * one of twice the new size: 256 grows by 1 page from 1 page move it at
 * most 7 times (at 2, 5, 11, 23, 47, 95 and 191 pages). Every page keeps
 * the byte stored into it. */
START_TEST(dynamic_growth_moves_log_times)
{
    for (int is64 = 0; is64 <= 1; is64++) {
        wj_config *config = config_new();
        wj_config_set_dynamic_memories(config, true);
        fixture fx;
        fx_begin(&fx, config);
        wj_memory *mem = NULL;
        wj_limits lim = {.min = 1, .is64 = is64};
        ck_assert_no_wj_error(wj_memory_new(fx.store, &lim, &mem));
        wj_memory_data(mem)[0] = 1;
        uint8_t *base = wj_memory_data(mem);
        unsigned moves = 0;
        for (uint64_t pages = 1; pages <= 256; pages++) {
            uint64_t old = 0;
            ck_assert(wj_memory_grow(mem, 1, &old));
            ck_assert_uint_eq(old, pages);
            if (wj_memory_data(mem) != base)
                moves++;
            base = wj_memory_data(mem);
            base[pages * WASM_PAGE] = (uint8_t)(pages + 1);
        }
        ck_assert_msg(moves <= 7, "%s: 256 grows moved the memory %u times, want <= 7",
                      is64 ? "memory64" : "32-bit", moves);
        ck_assert_uint_eq(wj_memory_data_size(mem), 257 * WASM_PAGE);
        for (uint64_t p = 0; p <= 256; p++)
            ck_assert_uint_eq(host_read(mem, p * WASM_PAGE, 1), (uint8_t)(p + 1));
        fx_end(&fx);
    }
}
END_TEST

/* ==== the suite ======================================================================= */

static Suite *memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *big = tcase_create("memory64 past 4 GiB");
    tcase_set_timeout(big, 60);
    tcase_add_test(big, memory64_past_4gib);
    suite_add_tcase(s, big);

    TCase *move = tcase_create("moving bases");
    tcase_set_timeout(move, 30);
    tcase_add_test(move, move_under_frames_memory64);
    tcase_add_test(move, move_under_frames_dynamic32);
    tcase_add_test(move, move_under_frames_memory1_64);
    tcase_add_test(move, move_under_frames_memory1_32);
    tcase_add_test(move, memory_imported_twice_grows_through_index_1);
    suite_add_tcase(s, move);

    TCase *bounds = tcase_create("limits and bounds");
    tcase_set_timeout(bounds, 60);
    tcase_add_test(bounds, grow_past_limits_fails);
    tcase_add_test(bounds, empty_memories);
    tcase_add_test(bounds, memory64_huge_grow_fails);
    tcase_add_test(bounds, memory64_top_of_index_space);
    tcase_add_test(bounds, dynamic32_bounds);
    tcase_add_test(bounds, layout_reservation_1gib);
    tcase_add_test(bounds, layout_no_guard);
    tcase_add_test(bounds, layout_zero_reservation);
    suite_add_tcase(s, bounds);

    TCase *multi = tcase_create("multi-memory");
    tcase_set_timeout(multi, 30);
    tcase_add_test(multi, multi_memory_static);
    tcase_add_test(multi, multi_memory_dynamic);
    tcase_add_test(multi, data_segment_offsets);
    tcase_add_test(multi, memory64_segment_past_4gib);
    tcase_add_test(multi, memory_import_index_type_must_match);
    suite_add_tcase(s, multi);

    TCase *reserve = tcase_create("reservations");
    tcase_set_timeout(reserve, 30);
    tcase_add_test(reserve, memory64_growth_moves_rarely);
    tcase_add_test(reserve, dynamic_growth_moves_log_times);
    suite_add_tcase(s, reserve);
    return s;
}

int main(void)
{
    return unit_run(memory_suite());
}
