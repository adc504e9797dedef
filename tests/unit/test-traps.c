/* The trap subsystem through the public API (linked against libwasmjail.la):
 * every trap kind with its code and message, backtraces, host traps and
 * nested host/wasm calls, traps on two threads at once, chaining to a
 * host's own SIGSEGV handler, memory bounds (static and dynamic memories,
 * memory64, multi-memory, a moving memory 0), the wasm stack limit,
 * a compile/instantiate/trap/delete loop for leak checkers, and explicit
 * traps taking no signal.
 *
 * Test modules are written in the text format and converted at test time
 * by wabt's wat2wasm (wat.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wasmjail.h>

#include "fixture.h"
#include "unit.h"
#include "wasm_builder.h"
#include "wat.h"

/* ==== helpers: the code section ==================================================== */

static uint64_t read_leb(const uint8_t *b, size_t len, size_t *pos)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        ck_assert_uint_lt(*pos, len);
        uint8_t byte = b[(*pos)++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
        shift += 7;
    }
}

/* Where one function's body is in the module's bytes: `start` is its first
 * byte (the local declarations, after the size field), `code` its first
 * instruction, `end` one past its final `end` opcode. */
typedef struct body_range {
    size_t start, code, end;
} body_range;

/* The body of defined function `nth` (0 = the first non-imported one). */
static body_range body_of(const uint8_t *b, size_t len, uint32_t nth)
{
    size_t pos = 8;
    while (pos < len) {
        uint8_t id = b[pos++];
        size_t size = (size_t)read_leb(b, len, &pos), next = pos + size;
        if (id == 10) {
            uint64_t count = read_leb(b, len, &pos);
            ck_assert_uint_lt(nth, count);
            for (uint32_t i = 0;; i++) {
                size_t body_size = (size_t)read_leb(b, len, &pos);
                if (i == nth) {
                    body_range r = {.start = pos, .end = pos + body_size};
                    uint64_t groups = read_leb(b, len, &pos);
                    for (uint64_t g = 0; g < groups; g++) {
                        read_leb(b, len, &pos);
                        pos++; /* a one-byte value type */
                    }
                    r.code = pos;
                    return r;
                }
                pos += body_size;
            }
        }
        pos = next;
    }
    ck_abort_msg("no code section");
    return (body_range){0};
}

/* ==== helpers: one module in one store ============================================= */

/* The function index of an exported function. */
static uint32_t fx_func_index(const fixture *fx, const char *name)
{
    for (size_t i = 0; i < wj_module_export_count(fx->module); i++) {
        wj_export_info info;
        ck_assert(wj_module_export(fx->module, i, &info));
        if (info.kind == WJ_EXTERN_FUNC && strcmp(info.name, name) == 0)
            return info.index;
    }
    ck_abort_msg("no exported function %s", name);
    return 0;
}

static body_range fx_body(const fixture *fx, uint32_t func_index)
{
    ck_assert_uint_ge(func_index, fx->imported_funcs);
    return body_of(fx->bytes, fx->len, func_index - fx->imported_funcs);
}

/* Module offset of the last occurrence of `pat` in the instructions of
 * function `func_index`: in these small bodies, the instruction that traps
 * (or calls). */
static uint64_t fx_site(const fixture *fx, uint32_t func_index, const uint8_t *pat, size_t n)
{
    body_range r = fx_body(fx, func_index);
    for (size_t at = r.end - n + 1; at-- > r.code;)
        if (memcmp(fx->bytes + at, pat, n) == 0)
            return at;
    ck_abort_msg("pattern not found in function %u", func_index);
    return 0;
}

static wj_val v_f32(float v) { return (wj_val){.kind = WJ_F32, .of.f32 = v}; }
static wj_val v_f64(double v) { return (wj_val){.kind = WJ_F64, .of.f64 = v}; }

#define ARGS(...) (const wj_val[]){__VA_ARGS__}, sizeof((wj_val[]){__VA_ARGS__}) / sizeof(wj_val)
#define NOARGS NULL, 0
#define SITE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

static void check_trap(int line, const wj_trap *trap, const char *what, wj_trap_code code,
                       const char *message)
{
    ck_assert_msg(trap != NULL, "line %d: %s: expected trap \"%s\", got none", line, what,
                  message);
    ck_assert_msg(wj_trap_code_of(trap) == code && strcmp(wj_trap_message(trap), message) == 0,
                  "line %d: %s: expected trap %d \"%s\", got %d \"%s\"", line, what, (int)code,
                  message, (int)wj_trap_code_of(trap), wj_trap_message(trap));
}

/* Calls `name`, which must trap with `code` and `message`; its innermost
 * frame must be `name` itself at the instruction `site` (when given). */
static void expect_trap_(int line, const fixture *fx, const char *name, wj_trap_code code,
                         const char *message, const uint8_t *site, size_t site_len,
                         const wj_val *args, size_t n)
{
    wj_val res[4];
    wj_trap *trap = fx_call(fx, name, args, n, res);
    check_trap(line, trap, name, code, message);
    ck_assert_msg(wj_trap_frame_count(trap) >= 1, "line %d: %s: no frames", line, name);
    const wj_frame *f = wj_trap_frame(trap, 0);
    uint32_t index = fx_func_index(fx, name);
    ck_assert_msg(f->func_index == index, "line %d: %s: innermost frame is function %u, not %u",
                  line, name, f->func_index, index);
    ck_assert_ptr_eq(f->module, fx->module);
    if (site) {
        uint64_t want = fx_site(fx, index, site, site_len);
        ck_assert_msg(f->module_offset == want,
                      "line %d: %s: trap at module offset %llu, want %llu", line, name,
                      (unsigned long long)f->module_offset, (unsigned long long)want);
    }
    wj_trap_delete(trap);
}

#define EXPECT_TRAP(fx, name, code, message, site, args) \
    expect_trap_(__LINE__, fx, name, code, message, site, args)
#define NOSITE NULL, 0

static wj_val expect_ok_(int line, const fixture *fx, const char *name, const wj_val *args,
                         size_t n)
{
    wj_val res[4] = {{0}};
    wj_trap *trap = fx_call(fx, name, args, n, res);
    ck_assert_msg(trap == NULL, "line %d: %s: unexpected trap \"%s\"", line, name,
                  trap ? wj_trap_message(trap) : "");
    return res[0];
}

#define EXPECT_OK(fx, name, args) (void)expect_ok_(__LINE__, fx, name, args)
#define EXPECT_I32(fx, name, want, args) \
    ck_assert_int_eq(expect_ok_(__LINE__, fx, name, args).of.i32, (int32_t)(want))
#define EXPECT_I64(fx, name, want, args) \
    ck_assert_int_eq(expect_ok_(__LINE__, fx, name, args).of.i64, (int64_t)(want))

/* Opens `wat` with dynamic memories (explicit checks, a memory 0 that
 * moves when it grows) or the default static ones: the loop tests run
 * both, as each tier compiles each differently. */
static void fx_open_memories(fixture *fx, const char *wat, bool dynamic)
{
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_dynamic_memories(config, dynamic);
    fx_open(fx, wat, config);
    wj_config_delete(config);
}

/* Blocks (or unblocks) on the calling thread every signal a trap could come
 * through. Explicit checks trap without a signal; were one to take a
 * signal while it is blocked, the synchronous fault would kill the process.
 * Only accesses that fault in a guard region still take one. Returns
 * pthread_sigmask's result. */
static int block_trap_signals(bool block)
{
    static const int trap_signals[] = {SIGILL, SIGFPE, SIGSEGV, SIGBUS};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof trap_signals / sizeof *trap_signals; i++)
        sigaddset(&set, trap_signals[i]);
    return pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* ==== the modules =================================================================== */

/* One export per trapping instruction. Table $t: [0] = $seven (type $v_i),
 * [1] = $wrong (another type), [2] = null; $u is for the table.* ops. */
static const char kinds_wat[] =
    "(module $kinds\n"
    "  (type $v_i (func (result i32)))\n"
    "  (type $i_i (func (param i32) (result i32)))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (table $t 3 funcref)\n"
    "  (table $u (export \"u\") 4 funcref)\n"
    "  (elem (table $t) (i32.const 0) func $seven $wrong)\n"
    "  (elem $seg func $seven)\n"
    "  (data $d \"abcd\")\n"
    "  (func $seven (type $v_i) i32.const 7)\n"
    "  (func $wrong (type $i_i) local.get 0)\n"
    "  (func $unreachable (export \"unreachable\") unreachable)\n"
    "  (func $load (export \"load\") (param i32) (result i32) local.get 0 i32.load)\n"
    "  (func $store (export \"store\") (param i32 i32) local.get 0 local.get 1 i32.store)\n"
    "  (func (export \"i32.div_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)\n"
    "  (func (export \"i32.div_u\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)\n"
    "  (func (export \"i32.rem_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)\n"
    "  (func (export \"i32.rem_u\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_u)\n"
    "  (func (export \"i64.div_s\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)\n"
    "  (func (export \"i64.div_u\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_u)\n"
    "  (func (export \"i64.rem_s\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)\n"
    "  (func (export \"i64.rem_u\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)\n"
    "  (func (export \"i32.trunc_f32_s\") (param f32) (result i32) local.get 0 i32.trunc_f32_s)\n"
    "  (func (export \"i32.trunc_f32_u\") (param f32) (result i32) local.get 0 i32.trunc_f32_u)\n"
    "  (func (export \"i32.trunc_f64_s\") (param f64) (result i32) local.get 0 i32.trunc_f64_s)\n"
    "  (func (export \"i32.trunc_f64_u\") (param f64) (result i32) local.get 0 i32.trunc_f64_u)\n"
    "  (func (export \"i64.trunc_f32_s\") (param f32) (result i64) local.get 0 i64.trunc_f32_s)\n"
    "  (func (export \"i64.trunc_f32_u\") (param f32) (result i64) local.get 0 i64.trunc_f32_u)\n"
    "  (func (export \"i64.trunc_f64_s\") (param f64) (result i64) local.get 0 i64.trunc_f64_s)\n"
    "  (func (export \"i64.trunc_f64_u\") (param f64) (result i64) local.get 0 i64.trunc_f64_u)\n"
    "  (func (export \"call_v_i\") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))\n"
    "  (func (export \"table.get\") (param i32) (result i32) local.get 0 table.get $u ref.is_null)\n"
    "  (func (export \"table.set\") (param i32) local.get 0 ref.func $seven table.set $u)\n"
    "  (func (export \"table.fill\") (param i32 i32)\n"
    "    local.get 0 ref.func $seven local.get 1 table.fill $u)\n"
    "  (func (export \"table.copy\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.copy $u $u)\n"
    "  (func (export \"table.init\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 table.init $u $seg)\n"
    "  (func (export \"memory.fill\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.fill)\n"
    "  (func (export \"memory.copy\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.copy)\n"
    "  (func (export \"memory.init\") (param i32 i32 i32)\n"
    "    local.get 0 local.get 1 local.get 2 memory.init $d)\n"
    "  (func $recurse (export \"recurse\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $recurse)\n"
    ")\n";

/* $a -> $b -> $c, which traps. */
static const char backtrace_wat[] =
    "(module $bt\n"
    "  (func $a (export \"a\") nop nop call $b)\n"
    "  (func $b i32.const 1 drop call $c)\n"
    "  (func $c nop unreachable))\n";

/* wasm -> wasm -> host, which traps. */
static const char host_wat[] =
    "(module $host\n"
    "  (import \"env\" \"fail\" (func $fail))\n"
    "  (func $w1 (export \"w1\") call $w2)\n"
    "  (func $w2 call $fail))\n";

/* host -> $outer -> $mid -> host `reenter` -> $inner (traps when given 0). */
static const char nest_wat[] =
    "(module $nest\n"
    "  (import \"env\" \"reenter\" (func $reenter (param i32) (result i32)))\n"
    "  (func $outer (export \"outer\") (param i32) (result i32)\n"
    "    local.get 0 call $mid i32.const 1 i32.add)\n"
    "  (func $mid (param i32) (result i32) local.get 0 call $reenter)\n"
    "  (func $inner (export \"inner\") (param i32) (result i32)\n"
    "    i32.const 100 local.get 0 i32.div_u)\n"
    "  (func $plain (export \"plain\") (param i32) (result i32) local.get 0 i32.const 3 i32.mul))\n";

/* Loads and stores of every width, with small and huge static offsets. */
static const char bounds_wat[] =
    "(module $bounds\n"
    "  (memory (export \"mem\") 1 3)\n"
    "  (func (export \"load8\") (param i32) (result i64) local.get 0 i64.load8_u)\n"
    "  (func (export \"load16\") (param i32) (result i64) local.get 0 i64.load16_u)\n"
    "  (func (export \"load32\") (param i32) (result i64) local.get 0 i64.load32_u)\n"
    "  (func (export \"load64\") (param i32) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"store8\") (param i32 i64) local.get 0 local.get 1 i64.store8)\n"
    "  (func (export \"store16\") (param i32 i64) local.get 0 local.get 1 i64.store16)\n"
    "  (func (export \"store32\") (param i32 i64) local.get 0 local.get 1 i64.store32)\n"
    "  (func (export \"store64\") (param i32 i64) local.get 0 local.get 1 i64.store)\n"
    "  (func (export \"load_max_offset\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=4294967295)\n"
    "  (func (export \"load_offset_1\") (param i32) (result i32) local.get 0 i32.load offset=1)\n"
    "  (func (export \"load_offset_4\") (param i32) (result i32) local.get 0 i32.load offset=4)\n"
    "  (func (export \"load_offset_2g\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=2147483648)\n"
    "  (func (export \"store_offset_2g\") (param i32) local.get 0 i32.const 1\n"
    "    i32.store offset=2147483648)\n"
    "  (func (export \"load_offset_3g\") (param i32) (result i32)\n"
    "    local.get 0 i64.load offset=3221225472 i32.wrap_i64)\n"
    "  (func (export \"load_offset_65532\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=65532)\n"
    "  (func (export \"load64_offset_65529\") (param i32) (result i64)\n"
    "    local.get 0 i64.load offset=65529)\n"
    "  (func (export \"load_div_load\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.load local.get 1 i32.const 3 i32.div_u i32.add\n"
    "    local.get 0 i32.load offset=4 i32.add)\n"
    "  (func (export \"cmp_spilled\") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)\n"
    "    (result i32)\n"
    "    local.get 1 local.get 2 i32.add local.get 3 i32.add local.get 4 i32.add\n"
    "    local.get 5 i32.add local.get 6 i32.add local.get 7 i32.add local.get 8 i32.add\n"
    "    local.get 9 local.get 0 i32.load i32.lt_u i32.add)\n"
    "  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n"
    "  (func (export \"size\") (result i32) memory.size))\n";

/* A memory without a maximum, for the engine's limit. */
static const char unbounded_wat[] =
    "(module\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n"
    "  (func (export \"size\") (result i32) memory.size))\n";

/* Unbounded recursion, counting its depth. */
static const char deep_wat[] =
    "(module $deep\n"
    "  (global $depth (export \"depth\") (mut i32) (i32.const 0))\n"
    "  (func $deep (export \"deep\")\n"
    "    global.get $depth i32.const 1 i32.add global.set $depth call $deep))\n";

/* Memory 0 growing in the middle of a function, directly, through a call
 * and through the host: with dynamic memories it moves, and what follows
 * must use the new base (the value stored before, a store to the new
 * pages). */
static const char moves_wat[] =
    "(module\n"
    "  (import \"host\" \"grow\" (func $host_grow))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func $grow (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"grow_then_load\") (param i32) (result i32)\n"
    "    (i32.store (local.get 0) (i32.const 42))\n"
    "    (drop (memory.grow (i32.const 15)))\n"
    "    (i32.store (i32.const 1048572) (i32.const 7))\n"
    "    (i32.add (i32.load (local.get 0)) (i32.load (i32.const 1048572))))\n"
    "  (func (export \"call_grow_then_load\") (param i32) (result i32)\n"
    "    (i32.store (local.get 0) (i32.const 40))\n"
    "    (drop (call $grow (i32.const 17)))\n"
    "    (i32.store (i32.const 2162684) (i32.const 2))\n"
    "    (i32.add (i32.load (local.get 0)) (i32.load (i32.const 2162684))))\n"
    "  (func (export \"host_grow_then_load\") (param i32) (result i32)\n"
    "    (i32.store (local.get 0) (i32.const 30))\n"
    "    (call $host_grow)\n"
    "    (i32.store (i32.const 4390908) (i32.const 3))\n"
    "    (i32.add (i32.load (local.get 0)) (i32.load (i32.const 4390908)))))\n";

/* memory64: every width with i64 indices, an offset near 2^32 (index +
 * offset wraps around 2^64 for some indices), size, grow, fill. */
static const char mem64_wat[] =
    "(module\n"
    "  (memory (export \"mem\") i64 1)\n"
    "  (func (export \"load8\") (param i64) (result i64) local.get 0 i64.load8_u)\n"
    "  (func (export \"load16\") (param i64) (result i64) local.get 0 i64.load16_u)\n"
    "  (func (export \"load32\") (param i64) (result i64) local.get 0 i64.load32_u)\n"
    "  (func (export \"load64\") (param i64) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"store8\") (param i64 i64) local.get 0 local.get 1 i64.store8)\n"
    "  (func (export \"store16\") (param i64 i64) local.get 0 local.get 1 i64.store16)\n"
    "  (func (export \"store32\") (param i64 i64) local.get 0 local.get 1 i64.store32)\n"
    "  (func (export \"store64\") (param i64 i64) local.get 0 local.get 1 i64.store)\n"
    "  (func (export \"load_offset_4g_less_1\") (param i64) (result i64)\n"
    "    local.get 0 i64.load32_u offset=4294967295)\n"
    "  (func (export \"size\") (result i64) memory.size)\n"
    "  (func (export \"grow\") (param i64) (result i64) local.get 0 memory.grow)\n"
    "  (func (export \"fill\") (param i64 i32 i64) local.get 0 local.get 1 local.get 2 memory.fill))\n";

/* Three memories of different sizes (memory 2 has two pages): loads from
 * memories 1 and 2 in one function, also with indices spilled to the
 * frame (ten loads live at once), size, grow, fill and copy. */
static const char multi_wat[] =
    "(module\n"
    "  (memory $m0 (export \"mem0\") 1)\n"
    "  (memory $m1 (export \"mem1\") 1)\n"
    "  (memory $m2 (export \"mem2\") 2)\n"
    "  (data (memory $m1) (i32.const 0) \"\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00\\05\")\n"
    "  (data (memory $m2) (i32.const 0) \"\\10\\00\\00\\00\\20\\00\\00\\00\\30\\00\\00\\00\\40\\00\\00\\00\\50\")\n"
    "  (data (memory $m2) (i32.const 131068) \"\\07\\00\\00\\00\")\n"
    "  (func (export \"load1\") (param i32) (result i32) (i32.load $m1 (local.get 0)))\n"
    "  (func (export \"load2\") (param i32) (result i32) (i32.load $m2 (local.get 0)))\n"
    "  (func (export \"store2\") (param i32 i32) (i32.store $m2 (local.get 0) (local.get 1)))\n"
    "  (func (export \"sum12\") (param i32 i32) (result i32)\n"
    "    (i32.add (i32.load $m1 (local.get 0)) (i32.load8_u $m2 offset=1 (local.get 1))))\n"
    "  (func (export \"pressure\") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)\n"
    "    (i32.load $m1 (local.get 0)) (i32.load $m2 (local.get 1))\n"
    "    (i32.load $m1 (local.get 2)) (i32.load $m2 (local.get 3))\n"
    "    (i32.load $m1 (local.get 4)) (i32.load $m2 (local.get 5))\n"
    "    (i32.load $m1 (local.get 6)) (i32.load $m2 (local.get 7))\n"
    "    (i32.load $m1 (local.get 8)) (i32.load $m2 (local.get 9))\n"
    "    i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add)\n"
    "  (func (export \"size1\") (result i32) (memory.size $m1))\n"
    "  (func (export \"size2\") (result i32) (memory.size $m2))\n"
    "  (func (export \"grow1\") (param i32) (result i32) (memory.grow $m1 (local.get 0)))\n"
    "  (func (export \"fill1\") (param i32 i32 i32)\n"
    "    (memory.fill $m1 (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"copy12\") (param i32 i32 i32)\n"
    "    (memory.copy $m1 $m2 (local.get 0) (local.get 1) (local.get 2))))\n";

/* ==== 1. every trap kind ============================================================= */

START_TEST(trap_unreachable)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    EXPECT_TRAP(&fx, "unreachable", WJ_TRAP_UNREACHABLE, "unreachable", SITE(0x00), NOARGS);
    fx_close(&fx);
}
END_TEST

START_TEST(trap_memory_out_of_bounds)
{
    fixture fx;
    fx_open_memories(&fx, kinds_wat, _i);
    const char *oob = "out of bounds memory access";
    EXPECT_OK(&fx, "store", ARGS(v_i32(65532), v_i32(0x12345678)));
    EXPECT_I32(&fx, "load", 0x12345678, ARGS(v_i32(65532)));
    EXPECT_TRAP(&fx, "load", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, oob, SITE(0x28, 0x02, 0x00),
                ARGS(v_i32(65533)));
    EXPECT_TRAP(&fx, "load", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, oob, SITE(0x28, 0x02, 0x00),
                ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "store", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, oob, SITE(0x36, 0x02, 0x00),
                ARGS(v_i32(65536), v_i32(1)));
    EXPECT_TRAP(&fx, "store", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, oob, SITE(0x36, 0x02, 0x00),
                ARGS(v_i32(INT32_MIN), v_i32(1)));
    /* a store that traps writes nothing, not even its in-bounds part */
    EXPECT_TRAP(&fx, "store", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, oob, SITE(0x36, 0x02, 0x00),
                ARGS(v_i32(65534), v_i32(-1)));
    EXPECT_I32(&fx, "load", 0x12345678, ARGS(v_i32(65532)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_integer_divide_by_zero)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    const char *msg = "integer divide by zero";
    static const char *const i32_ops[] = {"i32.div_s", "i32.div_u", "i32.rem_s", "i32.rem_u"};
    static const char *const i64_ops[] = {"i64.div_s", "i64.div_u", "i64.rem_s", "i64.rem_u"};
    static const uint8_t i32_codes[] = {0x6d, 0x6e, 0x6f, 0x70};
    static const uint8_t i64_codes[] = {0x7f, 0x80, 0x81, 0x82};
    for (int i = 0; i < 4; i++) {
        EXPECT_TRAP(&fx, i32_ops[i], WJ_TRAP_INT_DIVIDE_BY_ZERO, msg, SITE(i32_codes[i]),
                    ARGS(v_i32(1), v_i32(0)));
        EXPECT_TRAP(&fx, i32_ops[i], WJ_TRAP_INT_DIVIDE_BY_ZERO, msg, SITE(i32_codes[i]),
                    ARGS(v_i32(0), v_i32(0)));
        EXPECT_TRAP(&fx, i32_ops[i], WJ_TRAP_INT_DIVIDE_BY_ZERO, msg, SITE(i32_codes[i]),
                    ARGS(v_i32(INT32_MIN), v_i32(0)));
        EXPECT_TRAP(&fx, i64_ops[i], WJ_TRAP_INT_DIVIDE_BY_ZERO, msg, SITE(i64_codes[i]),
                    ARGS(v_i64(1), v_i64(0)));
        EXPECT_TRAP(&fx, i64_ops[i], WJ_TRAP_INT_DIVIDE_BY_ZERO, msg, SITE(i64_codes[i]),
                    ARGS(v_i64(INT64_MIN), v_i64(0)));
    }
    /* and the non-trapping neighbours */
    EXPECT_I32(&fx, "i32.div_s", -3, ARGS(v_i32(-7), v_i32(2)));
    EXPECT_I32(&fx, "i32.div_u", 0x7fffffff, ARGS(v_i32(-1), v_i32(2)));
    EXPECT_I32(&fx, "i32.rem_s", -1, ARGS(v_i32(-7), v_i32(2)));
    EXPECT_I32(&fx, "i32.rem_u", 1, ARGS(v_i32(-1), v_i32(2)));
    EXPECT_I64(&fx, "i64.div_s", -3, ARGS(v_i64(-7), v_i64(2)));
    EXPECT_I64(&fx, "i64.div_u", INT64_MAX, ARGS(v_i64(-1), v_i64(2)));
    EXPECT_I64(&fx, "i64.rem_s", -1, ARGS(v_i64(-7), v_i64(2)));
    EXPECT_I64(&fx, "i64.rem_u", 1, ARGS(v_i64(-1), v_i64(2)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_integer_overflow)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    const char *msg = "integer overflow";
    EXPECT_TRAP(&fx, "i32.div_s", WJ_TRAP_INT_OVERFLOW, msg, SITE(0x6d),
                ARGS(v_i32(INT32_MIN), v_i32(-1)));
    EXPECT_TRAP(&fx, "i64.div_s", WJ_TRAP_INT_OVERFLOW, msg, SITE(0x7f),
                ARGS(v_i64(INT64_MIN), v_i64(-1)));
    /* rem_s of the same operands is defined: 0 (and must not fault in idiv) */
    EXPECT_I32(&fx, "i32.rem_s", 0, ARGS(v_i32(INT32_MIN), v_i32(-1)));
    EXPECT_I64(&fx, "i64.rem_s", 0, ARGS(v_i64(INT64_MIN), v_i64(-1)));
    EXPECT_I32(&fx, "i32.div_u", 0, ARGS(v_i32(INT32_MIN), v_i32(-1)));
    EXPECT_I32(&fx, "i32.div_s", INT32_MAX, ARGS(v_i32(INT32_MIN + 1), v_i32(-1)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_float_truncation_overflow)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    const char *msg = "integer overflow";
    wj_trap_code ov = WJ_TRAP_INT_OVERFLOW;
    /* i32.trunc_f32_s: [-2^31, 2^31) */
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", ov, msg, SITE(0xa8), ARGS(v_f32(2147483648.0f)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", ov, msg, SITE(0xa8), ARGS(v_f32(-2147483904.0f)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", ov, msg, SITE(0xa8), ARGS(v_f32(INFINITY)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", ov, msg, SITE(0xa8), ARGS(v_f32(-INFINITY)));
    EXPECT_I32(&fx, "i32.trunc_f32_s", INT32_MIN, ARGS(v_f32(-2147483648.0f)));
    EXPECT_I32(&fx, "i32.trunc_f32_s", 2147483520, ARGS(v_f32(2147483520.0f)));
    EXPECT_I32(&fx, "i32.trunc_f32_s", -1, ARGS(v_f32(-1.9f)));
    /* i32.trunc_f32_u: (-1, 2^32) */
    EXPECT_TRAP(&fx, "i32.trunc_f32_u", ov, msg, SITE(0xa9), ARGS(v_f32(4294967296.0f)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_u", ov, msg, SITE(0xa9), ARGS(v_f32(-1.0f)));
    EXPECT_I32(&fx, "i32.trunc_f32_u", 0, ARGS(v_f32(-0.9f)));
    EXPECT_I32(&fx, "i32.trunc_f32_u", (int32_t)4294967040u, ARGS(v_f32(4294967040.0f)));
    /* i32.trunc_f64_s: (-2^31 - 1, 2^31) */
    EXPECT_TRAP(&fx, "i32.trunc_f64_s", ov, msg, SITE(0xaa), ARGS(v_f64(2147483648.0)));
    EXPECT_TRAP(&fx, "i32.trunc_f64_s", ov, msg, SITE(0xaa), ARGS(v_f64(-2147483649.0)));
    EXPECT_I32(&fx, "i32.trunc_f64_s", INT32_MIN, ARGS(v_f64(-2147483648.9)));
    EXPECT_I32(&fx, "i32.trunc_f64_s", INT32_MAX, ARGS(v_f64(2147483647.9)));
    /* i32.trunc_f64_u: (-1, 2^32) */
    EXPECT_TRAP(&fx, "i32.trunc_f64_u", ov, msg, SITE(0xab), ARGS(v_f64(4294967296.0)));
    EXPECT_TRAP(&fx, "i32.trunc_f64_u", ov, msg, SITE(0xab), ARGS(v_f64(-1.0)));
    EXPECT_I32(&fx, "i32.trunc_f64_u", -1, ARGS(v_f64(4294967295.9)));
    EXPECT_I32(&fx, "i32.trunc_f64_u", 0, ARGS(v_f64(-0.99)));
    /* i64 */
    EXPECT_TRAP(&fx, "i64.trunc_f32_s", ov, msg, SITE(0xae), ARGS(v_f32(9223372036854775808.0f)));
    EXPECT_TRAP(&fx, "i64.trunc_f32_s", ov, msg, SITE(0xae), ARGS(v_f32(-9.3e18f)));
    EXPECT_I64(&fx, "i64.trunc_f32_s", INT64_MIN, ARGS(v_f32(-9223372036854775808.0f)));
    EXPECT_TRAP(&fx, "i64.trunc_f32_u", ov, msg, SITE(0xaf), ARGS(v_f32(18446744073709551616.0f)));
    EXPECT_TRAP(&fx, "i64.trunc_f32_u", ov, msg, SITE(0xaf), ARGS(v_f32(-1.0f)));
    EXPECT_I64(&fx, "i64.trunc_f32_u", (int64_t)18446742974197923840ull,
               ARGS(v_f32(18446742974197923840.0f)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_s", ov, msg, SITE(0xb0), ARGS(v_f64(9223372036854775808.0)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_s", ov, msg, SITE(0xb0), ARGS(v_f64(-9223372036854777856.0)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_s", ov, msg, SITE(0xb0), ARGS(v_f64(INFINITY)));
    EXPECT_I64(&fx, "i64.trunc_f64_s", INT64_MIN, ARGS(v_f64(-9223372036854775808.0)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_u", ov, msg, SITE(0xb1), ARGS(v_f64(18446744073709551616.0)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_u", ov, msg, SITE(0xb1), ARGS(v_f64(-1.0)));
    EXPECT_I64(&fx, "i64.trunc_f64_u", (int64_t)18446744073709549568ull,
               ARGS(v_f64(18446744073709549568.0)));
    EXPECT_I64(&fx, "i64.trunc_f64_u", 0, ARGS(v_f64(-0.5)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_invalid_conversion)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    const char *msg = "invalid conversion to integer";
    wj_trap_code bad = WJ_TRAP_BAD_CONVERSION;
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", bad, msg, SITE(0xa8), ARGS(v_f32(NAN)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_u", bad, msg, SITE(0xa9), ARGS(v_f32(-NAN)));
    EXPECT_TRAP(&fx, "i32.trunc_f64_s", bad, msg, SITE(0xaa), ARGS(v_f64(NAN)));
    EXPECT_TRAP(&fx, "i32.trunc_f64_u", bad, msg, SITE(0xab), ARGS(v_f64(-NAN)));
    EXPECT_TRAP(&fx, "i64.trunc_f32_s", bad, msg, SITE(0xae), ARGS(v_f32(NAN)));
    EXPECT_TRAP(&fx, "i64.trunc_f32_u", bad, msg, SITE(0xaf), ARGS(v_f32(NAN)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_s", bad, msg, SITE(0xb0), ARGS(v_f64(NAN)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_u", bad, msg, SITE(0xb1), ARGS(v_f64(-NAN)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_call_indirect)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
#define CI_SITE SITE(0x11, 0x00, 0x00) /* call_indirect $t (type $v_i) */
    EXPECT_I32(&fx, "call_v_i", 7, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_INDIRECT_TYPE, "indirect call type mismatch", CI_SITE,
                ARGS(v_i32(1)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element",
                CI_SITE, ARGS(v_i32(2)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNDEFINED_ELEMENT, "undefined element", CI_SITE,
                ARGS(v_i32(3)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNDEFINED_ELEMENT, "undefined element", CI_SITE,
                ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNDEFINED_ELEMENT, "undefined element", CI_SITE,
                ARGS(v_i32(INT32_MIN)));
    EXPECT_I32(&fx, "call_v_i", 7, ARGS(v_i32(0)));
    fx_close(&fx);
#undef CI_SITE
}
END_TEST

START_TEST(trap_table_out_of_bounds)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    const char *msg = "out of bounds table access";
    wj_trap_code oob = WJ_TRAP_TABLE_OUT_OF_BOUNDS;
    wj_table *u = fx_export(&fx, "u", WJ_EXTERN_TABLE).of.table;
    ck_assert_uint_eq(wj_table_size(u), 4);

    /* table.get / table.set: index 4 is past the end */
    EXPECT_I32(&fx, "table.get", 1, ARGS(v_i32(3)));
    EXPECT_OK(&fx, "table.set", ARGS(v_i32(3)));
    EXPECT_I32(&fx, "table.get", 0, ARGS(v_i32(3)));
    EXPECT_TRAP(&fx, "table.get", oob, msg, SITE(0x25, 0x01), ARGS(v_i32(4)));
    EXPECT_TRAP(&fx, "table.get", oob, msg, SITE(0x25, 0x01), ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "table.set", oob, msg, SITE(0x26, 0x01), ARGS(v_i32(4)));
    EXPECT_TRAP(&fx, "table.set", oob, msg, SITE(0x26, 0x01), ARGS(v_i32(-1)));

    /* table.fill (dest, n) */
    EXPECT_OK(&fx, "table.fill", ARGS(v_i32(2), v_i32(1)));
    EXPECT_OK(&fx, "table.fill", ARGS(v_i32(4), v_i32(0)));
    EXPECT_TRAP(&fx, "table.fill", oob, msg, SITE(0xfc, 0x11, 0x01), ARGS(v_i32(5), v_i32(0)));
    EXPECT_TRAP(&fx, "table.fill", oob, msg, SITE(0xfc, 0x11, 0x01), ARGS(v_i32(1), v_i32(4)));
    EXPECT_TRAP(&fx, "table.fill", oob, msg, SITE(0xfc, 0x11, 0x01), ARGS(v_i32(1), v_i32(-1)));
    /* nothing written by the failed fills: [0] and [1] are still null */
    EXPECT_I32(&fx, "table.get", 1, ARGS(v_i32(0)));
    EXPECT_I32(&fx, "table.get", 1, ARGS(v_i32(1)));
    EXPECT_I32(&fx, "table.get", 0, ARGS(v_i32(2)));

    /* table.copy (dest, src, n) */
    EXPECT_OK(&fx, "table.copy", ARGS(v_i32(0), v_i32(2), v_i32(2)));
    EXPECT_OK(&fx, "table.copy", ARGS(v_i32(4), v_i32(4), v_i32(0)));
    EXPECT_TRAP(&fx, "table.copy", oob, msg, SITE(0xfc, 0x0e, 0x01, 0x01),
                ARGS(v_i32(3), v_i32(0), v_i32(2)));
    EXPECT_TRAP(&fx, "table.copy", oob, msg, SITE(0xfc, 0x0e, 0x01, 0x01),
                ARGS(v_i32(0), v_i32(3), v_i32(2)));
    EXPECT_TRAP(&fx, "table.copy", oob, msg, SITE(0xfc, 0x0e, 0x01, 0x01),
                ARGS(v_i32(5), v_i32(0), v_i32(0)));
    EXPECT_TRAP(&fx, "table.copy", oob, msg, SITE(0xfc, 0x0e, 0x01, 0x01),
                ARGS(v_i32(0), v_i32(5), v_i32(0)));

    /* table.init (dest, src, n) from the one-element segment $seg */
    EXPECT_OK(&fx, "table.init", ARGS(v_i32(3), v_i32(0), v_i32(1)));
    EXPECT_OK(&fx, "table.init", ARGS(v_i32(4), v_i32(1), v_i32(0)));
    EXPECT_TRAP(&fx, "table.init", oob, msg, SITE(0xfc, 0x0c, 0x01, 0x01),
                ARGS(v_i32(4), v_i32(0), v_i32(1)));
    EXPECT_TRAP(&fx, "table.init", oob, msg, SITE(0xfc, 0x0c, 0x01, 0x01),
                ARGS(v_i32(0), v_i32(0), v_i32(2)));
    EXPECT_TRAP(&fx, "table.init", oob, msg, SITE(0xfc, 0x0c, 0x01, 0x01),
                ARGS(v_i32(0), v_i32(2), v_i32(0)));
    EXPECT_TRAP(&fx, "table.init", oob, msg, SITE(0xfc, 0x0c, 0x01, 0x01),
                ARGS(v_i32(5), v_i32(0), v_i32(0)));
    fx_close(&fx);
}
END_TEST

START_TEST(trap_bulk_memory_out_of_bounds)
{
    fixture fx;
    fx_open_memories(&fx, kinds_wat, _i);
    const char *msg = "out of bounds memory access";
    wj_trap_code oob = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    wj_memory *mem = fx_export(&fx, "mem", WJ_EXTERN_MEMORY).of.memory;
    uint8_t *data = wj_memory_data(mem);

    /* memory.fill (dest, value, n) */
    EXPECT_OK(&fx, "memory.fill", ARGS(v_i32(65535), v_i32(0x11), v_i32(1)));
    ck_assert_uint_eq(data[65535], 0x11);
    EXPECT_OK(&fx, "memory.fill", ARGS(v_i32(65536), v_i32(0x22), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.fill", oob, msg, SITE(0xfc, 0x0b, 0x00),
                ARGS(v_i32(65534), v_i32(0x33), v_i32(3)));
    EXPECT_TRAP(&fx, "memory.fill", oob, msg, SITE(0xfc, 0x0b, 0x00),
                ARGS(v_i32(65537), v_i32(0x33), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.fill", oob, msg, SITE(0xfc, 0x0b, 0x00),
                ARGS(v_i32(1), v_i32(0x33), v_i32(-1)));
    /* bounds are checked before anything is written */
    ck_assert_uint_eq(data[65534], 0);
    ck_assert_uint_eq(data[65535], 0x11);
    ck_assert_uint_eq(data[1], 0);

    /* memory.copy (dest, src, n) */
    EXPECT_OK(&fx, "memory.copy", ARGS(v_i32(0), v_i32(65535), v_i32(1)));
    ck_assert_uint_eq(data[0], 0x11);
    EXPECT_OK(&fx, "memory.copy", ARGS(v_i32(65536), v_i32(65536), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.copy", oob, msg, SITE(0xfc, 0x0a, 0x00, 0x00),
                ARGS(v_i32(65535), v_i32(0), v_i32(2)));
    EXPECT_TRAP(&fx, "memory.copy", oob, msg, SITE(0xfc, 0x0a, 0x00, 0x00),
                ARGS(v_i32(10), v_i32(65535), v_i32(2)));
    EXPECT_TRAP(&fx, "memory.copy", oob, msg, SITE(0xfc, 0x0a, 0x00, 0x00),
                ARGS(v_i32(65537), v_i32(0), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.copy", oob, msg, SITE(0xfc, 0x0a, 0x00, 0x00),
                ARGS(v_i32(0), v_i32(-1), v_i32(2)));
    ck_assert_uint_eq(data[10], 0);
    ck_assert_uint_eq(data[65534], 0);

    /* memory.init (dest, src, n) from the four bytes "abcd" */
    EXPECT_OK(&fx, "memory.init", ARGS(v_i32(65532), v_i32(0), v_i32(4)));
    ck_assert_int_eq(memcmp(data + 65532, "abcd", 4), 0);
    EXPECT_OK(&fx, "memory.init", ARGS(v_i32(0), v_i32(4), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.init", oob, msg, SITE(0xfc, 0x08, 0x00, 0x00),
                ARGS(v_i32(65533), v_i32(0), v_i32(4)));
    EXPECT_TRAP(&fx, "memory.init", oob, msg, SITE(0xfc, 0x08, 0x00, 0x00),
                ARGS(v_i32(100), v_i32(1), v_i32(4)));
    EXPECT_TRAP(&fx, "memory.init", oob, msg, SITE(0xfc, 0x08, 0x00, 0x00),
                ARGS(v_i32(0), v_i32(5), v_i32(0)));
    EXPECT_TRAP(&fx, "memory.init", oob, msg, SITE(0xfc, 0x08, 0x00, 0x00),
                ARGS(v_i32(65537), v_i32(0), v_i32(0)));
    ck_assert_uint_eq(data[100], 0);
    fx_close(&fx);
}
END_TEST

START_TEST(trap_call_stack_exhausted)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    for (int i = 0; i < 3; i++)
        EXPECT_TRAP(&fx, "recurse", WJ_TRAP_STACK_EXHAUSTED, "call stack exhausted", NOSITE,
                    ARGS(v_i32(0)));
    /* the store still works, and has its whole stack again */
    EXPECT_I32(&fx, "call_v_i", 7, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "recurse", WJ_TRAP_STACK_EXHAUSTED, "call stack exhausted", NOSITE,
                ARGS(v_i32(0)));
    fx_close(&fx);
}
END_TEST

/* ==== 2. backtraces ================================================================== */

/* An imported host function that always traps; counts its calls. */
static wj_trap *fail_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    *(int *)env += 1;
    return wj_trap_new("host says no");
}

static void check_frame(int line, const fixture *fx, const wj_trap *trap, size_t i,
                        uint32_t func, const char *name, const uint8_t *pat, size_t n)
{
    ck_assert_msg(i < wj_trap_frame_count(trap), "line %d: no frame %zu (of %zu)", line, i,
                  wj_trap_frame_count(trap));
    const wj_frame *f = wj_trap_frame(trap, i);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(f->func_index == func, "line %d: frame %zu is function %u, want %u", line, i,
                  f->func_index, func);
    ck_assert_ptr_eq(f->module, fx->module);
    ck_assert_msg(f->func_name && strcmp(f->func_name, name) == 0,
                  "line %d: frame %zu is named %s, want %s", line, i,
                  f->func_name ? f->func_name : "(null)", name);
    body_range r = fx_body(fx, func);
    ck_assert_msg(f->module_offset >= r.code && f->module_offset < r.end,
                  "line %d: frame %zu offset %llu outside the body [%zu, %zu)", line, i,
                  (unsigned long long)f->module_offset, r.code, r.end);
    uint64_t want = fx_site(fx, func, pat, n);
    ck_assert_msg(f->module_offset == want, "line %d: frame %zu at module offset %llu, want %llu",
                  line, i, (unsigned long long)f->module_offset, (unsigned long long)want);
}

#define CHECK_FRAME(fx, trap, i, func, name, site) \
    check_frame(__LINE__, fx, trap, i, func, name, site)

START_TEST(backtrace_three_deep)
{
    fixture fx;
    fx_open(&fx, backtrace_wat, NULL);
    size_t name_len = 0;
    const char *mname = wj_module_name(fx.module, &name_len);
    ck_assert_ptr_nonnull(mname);
    ck_assert_str_eq(mname, "bt");

    wj_trap *trap = fx_call(&fx, "a", NOARGS, NULL);
    check_trap(__LINE__, trap, "a", WJ_TRAP_UNREACHABLE, "unreachable");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 3);
    ck_assert_ptr_null(wj_trap_frame(trap, 3));
    CHECK_FRAME(&fx, trap, 0, 2, "c", SITE(0x00));       /* unreachable */
    CHECK_FRAME(&fx, trap, 1, 1, "b", SITE(0x10, 0x02)); /* call $c */
    CHECK_FRAME(&fx, trap, 2, 0, "a", SITE(0x10, 0x01)); /* call $b */
    for (size_t i = 0; i < 3; i++) {
        const char *fm = wj_trap_frame(trap, i)->module_name;
        ck_assert_msg(fm && strcmp(fm, "bt") == 0, "frame %zu module name %s", i,
                      fm ? fm : "(null)");
    }
    /* bodies come in order, so the offsets decrease outwards */
    ck_assert_uint_gt(wj_trap_frame(trap, 0)->module_offset,
                      wj_trap_frame(trap, 1)->module_offset);
    ck_assert_uint_gt(wj_trap_frame(trap, 1)->module_offset,
                      wj_trap_frame(trap, 2)->module_offset);
    wj_trap_delete(trap);
    fx_close(&fx);
}
END_TEST

/* wj_frame.func_offset is "relative to the start of the function's body";
 * in the binary format a code entry is `size:u32 func`, and the body (func)
 * starts after the size, with the local declarations. */
START_TEST(backtrace_func_offset)
{
    fixture fx;
    fx_open(&fx, backtrace_wat, NULL);
    wj_trap *trap = fx_call(&fx, "a", NOARGS, NULL);
    check_trap(__LINE__, trap, "a", WJ_TRAP_UNREACHABLE, "unreachable");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 3);
    /* cleaned up before asserting, so that a failure leaks nothing under
     * CK_FORK=no (for valgrind) */
    char failure[256] = "";
    for (size_t i = 0; i < 3 && !failure[0]; i++) {
        const wj_frame *f = wj_trap_frame(trap, i);
        body_range r = fx_body(&fx, f->func_index);
        if (f->func_offset != f->module_offset - r.start)
            snprintf(failure, sizeof failure,
                     "frame %zu (%s): func_offset %llu, want %llu (module offset %llu - body "
                     "start %zu; the code entry's size field is at %zu)",
                     i, f->func_name ? f->func_name : "?", (unsigned long long)f->func_offset,
                     (unsigned long long)(f->module_offset - r.start),
                     (unsigned long long)f->module_offset, r.start, r.start - 1);
    }
    wj_trap_delete(trap);
    fx_close(&fx);
    ck_assert_msg(!failure[0], "%s", failure);
}
END_TEST

START_TEST(backtrace_of_host_trap)
{
    fixture fx;
    fx_prepare(&fx, host_wat, NULL);
    int calls = 0;
    wj_extern imp = {.kind = WJ_EXTERN_FUNC,
                     .of.func = wj_func_new(fx.store, &(wj_functype){0}, fail_cb, &calls, NULL)};
    ck_assert_ptr_nonnull(imp.of.func);
    fx_instantiate(&fx, &imp, 1);

    wj_trap *trap = fx_call(&fx, "w1", NOARGS, NULL);
    ck_assert_int_eq(calls, 1);
    check_trap(__LINE__, trap, "w1", WJ_TRAP_HOST, "host says no");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    CHECK_FRAME(&fx, trap, 0, 2, "w2", SITE(0x10, 0x00)); /* call $fail */
    CHECK_FRAME(&fx, trap, 1, 1, "w1", SITE(0x10, 0x02)); /* call $w2 */
    wj_trap_delete(trap);

    /* the host function called directly: a trap without wasm frames */
    trap = NULL;
    ck_assert_no_wj_error(wj_func_call(imp.of.func, NULL, 0, NULL, 0, &trap));
    check_trap(__LINE__, trap, "fail", WJ_TRAP_HOST, "host says no");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 0);
    wj_trap_delete(trap);
    ck_assert_int_eq(calls, 2);
    fx_close(&fx);
}
END_TEST

/* Small leaf functions, which tier 2 inlines into their callers (each
 * calls one twice, the second call trapping): a trap in one shows the
 * callee's frame at the trapping instruction above the caller's at the
 * second call, as in tier 1. $wide has several parameters, results and
 * locals, a loop and a return; $spin's loop never ends. */
static const char inline_wat[] =
    "(module $inl\n"
    "  (memory 1)\n"
    "  (func $load (param i32) (result i32) local.get 0 i32.load offset=8)\n"
    "  (func $div (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)\n"
    "  (func $stop (param i32) (result i32)\n"
    "    local.get 0 if unreachable end local.get 0)\n"
    "  (func $wide (param i32 i64 f64) (result i64 i32) (local i32 i64)\n"
    "    (loop\n"
    "      local.get 4 local.get 1 i64.add local.set 4\n"
    "      local.get 3 i32.const 1 i32.add local.tee 3 local.get 0 i32.lt_u br_if 0)\n"
    "    local.get 4 local.get 2 i64.trunc_f64_s i64.div_u\n"
    "    local.get 3 return)\n"
    "  (func $spin (param i32) (loop local.get 0 br_if 0))\n"
    "  (func $loads (export \"loads\") (param i32 i32) (result i32)\n"
    "    local.get 0 call $load local.get 1 call $load i32.add)\n"
    "  (func $divs (export \"divs\") (param i32 i32) (result i32)\n"
    "    i32.const 7 local.get 0 call $div i32.const 7 local.get 1 call $div i32.add)\n"
    "  (func $stops (export \"stops\") (param i32) (result i32)\n"
    "    i32.const 0 call $stop local.get 0 call $stop i32.add)\n"
    "  (func $wides (export \"wides\") (param i32 f64) (result i64)\n"
    "    (local i32)\n"
    "    local.get 0 i64.const 5 f64.const 1 call $wide local.set 2\n"
    "    i32.const 3 i64.const 100 local.get 1 call $wide\n"
    "    local.get 2 i32.add i64.extend_i32_u i64.add i64.add)\n"
    "  (func $spins (export \"spins\") (param i32) i32.const 0 call $spin local.get 0 call $spin))\n";

/* The trap of `name`(args): `callee` (module index) at `trap_site` above
 * `name` at its last `call callee`. */
static void expect_inlined_trap(int line, const fixture *fx, const char *name, const wj_val *args,
                                size_t n, wj_trap_code code, const char *message,
                                uint32_t callee, const char *callee_name, const uint8_t *site,
                                size_t site_len)
{
    wj_trap *trap = fx_call(fx, name, args, n, NULL);
    check_trap(line, trap, name, code, message);
    ck_assert_msg(wj_trap_frame_count(trap) == 2, "line %d: %s: %zu frames, want 2", line, name,
                  wj_trap_frame_count(trap));
    check_frame(line, fx, trap, 0, callee, callee_name, site, site_len);
    check_frame(line, fx, trap, 1, fx_func_index(fx, name), name,
                SITE(0x10, (uint8_t)callee));
    ck_assert_uint_eq(wj_trap_frame(trap, 0)->func_offset,
                      wj_trap_frame(trap, 0)->module_offset - fx_body(fx, callee).start);
    wj_trap_delete(trap);
}

#define EXPECT_INLINED_TRAP(fx, name, args, code, message, callee, callee_name, site)        \
    expect_inlined_trap(__LINE__, fx, name, args, code, message, callee, callee_name, site)

START_TEST(backtrace_of_inlined_callees)
{
    fixture fx;
    fx_open(&fx, inline_wat, NULL);
    EXPECT_I32(&fx, "loads", 0, ARGS(v_i32(16), v_i32(32)));
    EXPECT_INLINED_TRAP(&fx, "loads", ARGS(v_i32(16), v_i32(65530)), WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                        "out of bounds memory access", 0, "load", SITE(0x28, 0x02, 0x08));
    EXPECT_I32(&fx, "divs", 7 + 3, ARGS(v_i32(1), v_i32(2)));
    EXPECT_INLINED_TRAP(&fx, "divs", ARGS(v_i32(1), v_i32(0)), WJ_TRAP_INT_DIVIDE_BY_ZERO,
                        "integer divide by zero", 1, "div", SITE(0x6d));
    EXPECT_I32(&fx, "stops", 0, ARGS(v_i32(0)));
    EXPECT_INLINED_TRAP(&fx, "stops", ARGS(v_i32(1)), WJ_TRAP_UNREACHABLE, "unreachable", 2,
                        "stop", SITE(0x00, 0x0b, 0x20));
    /* wide(n, x, d) = (n * x / trunc d, n): 4*5/1 + 3*100/4 + 3 + 4 */
    wj_val res;
    ck_assert_ptr_null(fx_call(&fx, "wides", ARGS(v_i32(4), v_f64(4.0)), &res));
    ck_assert_int_eq(res.of.i64, 20 + 75 + 3 + 4);
    EXPECT_INLINED_TRAP(&fx, "wides", ARGS(v_i32(4), v_f64(0.5)), WJ_TRAP_INT_DIVIDE_BY_ZERO,
                        "integer divide by zero", 3, "wide", SITE(0x80));
    EXPECT_INLINED_TRAP(&fx, "wides", ARGS(v_i32(4), v_f64(NAN)), WJ_TRAP_BAD_CONVERSION,
                        "invalid conversion to integer", 3, "wide", SITE(0xb0));
    fx_close(&fx);
}
END_TEST

/* Stops the guest at its `stop_at`th epoch check (the deadline is always
 * passed: ticks stay 0). */
typedef struct check_counter {
    int calls, stop_at;
} check_counter;

static wj_trap *count_checks(void *env, wj_store *store, uint64_t *ticks)
{
    (void)store, (void)ticks;
    check_counter *c = env;
    return ++c->calls == c->stop_at ? wj_trap_new("enough") : NULL;
}

/* Running out of fuel and an epoch deadline in an inlined callee's loop
 * that never ends: its frame at the loop's check, above the caller's. */
START_TEST(backtrace_of_interrupted_inlined_callee)
{
    wj_config *config = wj_config_new();
    wj_config_set_consume_fuel(config, true);
    fixture fx;
    fx_open(&fx, inline_wat, config);
    wj_config_delete(config);
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, 1000));
    EXPECT_INLINED_TRAP(&fx, "spins", ARGS(v_i32(1)), WJ_TRAP_OUT_OF_FUEL,
                        "all fuel consumed by WebAssembly", 4, "spin", SITE(0x03, 0x40));
    fx_close(&fx);

    config = wj_config_new();
    wj_config_set_epoch_interruption(config, true);
    fx_open(&fx, inline_wat, config);
    wj_config_delete(config);
    /* spins, spin and its loop's header once, spin and its loop's header
     * three times */
    check_counter c = {.stop_at = 1 + 2 + 1 + 3};
    wj_store_set_epoch_callback(fx.store, count_checks, &c);
    EXPECT_INLINED_TRAP(&fx, "spins", ARGS(v_i32(1)), WJ_TRAP_HOST, "enough", 4, "spin",
                        SITE(0x03, 0x40));
    ck_assert_int_eq(c.calls, c.stop_at);
    fx_close(&fx);
}
END_TEST

/* ==== 3. host -> wasm -> host -> wasm ================================================= */

typedef struct reenter_env {
    wj_func *inner;
    const wj_instance *instance;
    bool swallow;     /* return -1 instead of the inner trap */
    int calls;
    int inner_traps;
    int bad;          /* anything unexpected seen inside the callback */
    wj_trap_code inner_code;
    char inner_message[64];
    size_t inner_frames;
    uint32_t inner_frame0;
} reenter_env;

static wj_trap *reenter_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    reenter_env *re = env;
    re->calls++;
    if (wj_caller_instance(caller) != re->instance || args[0].kind != WJ_I32)
        re->bad++;
    wj_val r = {0};
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(re->inner, args, 1, &r, 1, &trap);
    if (err) {
        re->bad++;
        wj_error_delete(err);
        return wj_trap_new("unexpected error");
    }
    if (trap) {
        re->inner_traps++;
        re->inner_code = wj_trap_code_of(trap);
        snprintf(re->inner_message, sizeof re->inner_message, "%s", wj_trap_message(trap));
        re->inner_frames = wj_trap_frame_count(trap);
        re->inner_frame0 = re->inner_frames ? wj_trap_frame(trap, 0)->func_index : UINT32_MAX;
        if (!re->swallow)
            return trap;
        wj_trap_delete(trap);
        results[0] = v_i32(-1);
        return NULL;
    }
    results[0] = r;
    return NULL;
}

START_TEST(nested_host_wasm_calls)
{
    fixture fx;
    fx_prepare(&fx, nest_wat, NULL);
    reenter_env re = {0};
    static const uint8_t i32_type[] = {WJ_I32};
    wj_extern imp = {.kind = WJ_EXTERN_FUNC,
                     .of.func = wj_func_new(fx.store, &(wj_functype){1, 1, i32_type, i32_type},
                                            reenter_cb, &re, NULL)};
    ck_assert_ptr_nonnull(imp.of.func);
    fx_instantiate(&fx, &imp, 1);
    re.inner = fx_func(&fx, "inner");
    re.instance = fx.instance;
    /* indices: 0 reenter (import), 1 outer, 2 mid, 3 inner, 4 plain */

    /* no trap: 100 / 5 + 1 */
    EXPECT_I32(&fx, "outer", 21, ARGS(v_i32(5)));
    ck_assert_int_eq(re.calls, 1);

    /* the inner call traps; the host returns its trap */
    wj_trap *trap = fx_call(&fx, "outer", ARGS(v_i32(0)), (wj_val[1]){{0}});
    ck_assert_int_eq(re.calls, 2);
    ck_assert_int_eq(re.inner_traps, 1);
    ck_assert_int_eq(re.inner_code, WJ_TRAP_INT_DIVIDE_BY_ZERO);
    ck_assert_str_eq(re.inner_message, "integer divide by zero");
    /* [inner], or already [inner, mid, outer] through the host frame */
    ck_assert_msg(re.inner_frames == 1 || re.inner_frames == 3, "inner trap has %zu frames",
                  re.inner_frames);
    ck_assert_uint_eq(re.inner_frame0, 3);
    check_trap(__LINE__, trap, "outer", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 3);
    CHECK_FRAME(&fx, trap, 0, 3, "inner", SITE(0x6e));        /* i32.div_u */
    CHECK_FRAME(&fx, trap, 1, 2, "mid", SITE(0x10, 0x00));    /* call $reenter */
    CHECK_FRAME(&fx, trap, 2, 1, "outer", SITE(0x10, 0x02));  /* call $mid */
    wj_trap_delete(trap);
    ck_assert_int_eq(re.bad, 0);

    /* the same store still works */
    EXPECT_I32(&fx, "plain", 21, ARGS(v_i32(7)));
    EXPECT_I32(&fx, "outer", 51, ARGS(v_i32(2)));
    for (int i = 0; i < 1000; i++) {
        trap = fx_call(&fx, "outer", ARGS(v_i32(0)), (wj_val[1]){{0}});
        check_trap(__LINE__, trap, "outer", WJ_TRAP_INT_DIVIDE_BY_ZERO,
                   "integer divide by zero");
        ck_assert_uint_eq(wj_trap_frame_count(trap), 3);
        wj_trap_delete(trap);
        if (i % 100 == 0)
            EXPECT_I32(&fx, "outer", 11, ARGS(v_i32(10)));
    }
    ck_assert_int_eq(re.inner_traps, 1001);

    /* the host swallows the inner trap: the outer call returns normally */
    re.swallow = true;
    for (int i = 0; i < 100; i++)
        EXPECT_I32(&fx, "outer", 0, ARGS(v_i32(0)));
    ck_assert_int_eq(re.inner_traps, 1101);
    EXPECT_I32(&fx, "plain", -9, ARGS(v_i32(-3)));
    EXPECT_I32(&fx, "outer", 34, ARGS(v_i32(3)));
    /* a direct call of the export that traps */
    EXPECT_TRAP(&fx, "inner", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero", SITE(0x6e),
                ARGS(v_i32(0)));
    ck_assert_int_eq(re.bad, 0);
    fx_close(&fx);
}
END_TEST

/* ==== 4. two threads ================================================================== */

typedef struct worker {
    const wj_module *module;
    wj_engine *engine;
    int iterations;
    int traps, returns;
    int failures;
    char first_failure[160];
} worker;

static void worker_fail(worker *w, int iter, const char *what, const wj_trap *trap)
{
    if (w->failures++ == 0)
        snprintf(w->first_failure, sizeof w->first_failure, "iteration %d: %s: %s", iter, what,
                 trap ? wj_trap_message(trap) : "no trap");
}

static wj_func *worker_func(wj_instance *inst, const char *name)
{
    wj_extern ext;
    if (!wj_instance_export(inst, name, strlen(name), &ext) || ext.kind != WJ_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

/* One call that must trap with `code`, or return `want` when code is NONE. */
static void worker_call(worker *w, int iter, wj_func *f, const char *what, const wj_val *args,
                        size_t n, size_t nres, wj_trap_code code, int64_t want)
{
    wj_val res = {0};
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(f, args, n, &res, nres, &trap);
    if (err) {
        worker_fail(w, iter, what, NULL);
        wj_error_delete(err);
        return;
    }
    if (code == WJ_TRAP_NONE) {
        int64_t got = res.kind == WJ_I64 ? res.of.i64 : res.of.i32;
        if (trap || (nres && got != want))
            worker_fail(w, iter, what, trap);
        else
            w->returns++;
    } else {
        if (!trap || wj_trap_code_of(trap) != code || wj_trap_frame_count(trap) < 1)
            worker_fail(w, iter, what, trap);
        else
            w->traps++;
    }
    wj_trap_delete(trap);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    wj_store *store = wj_store_new(w->engine);
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(store, w->module, NULL, 0, &inst, &trap);
    if (err || trap || !inst) {
        worker_fail(w, -1, "instantiate", trap);
        wj_error_delete(err);
        wj_trap_delete(trap);
        wj_store_delete(store);
        return NULL;
    }
    wj_func *div_s = worker_func(inst, "i32.div_s"), *load = worker_func(inst, "load"),
            *store_fn = worker_func(inst, "store"), *unreachable = worker_func(inst, "unreachable"),
            *call_v_i = worker_func(inst, "call_v_i"),
            *trunc = worker_func(inst, "i64.trunc_f64_s"), *recurse = worker_func(inst, "recurse"),
            *fill = worker_func(inst, "memory.fill"), *rem_u = worker_func(inst, "i64.rem_u");
    for (int i = 0; i < w->iterations; i++) {
        int32_t x = i * 7 + 1;
        worker_call(w, i, div_s, "div_s", ARGS(v_i32(x), v_i32(3)), 1, WJ_TRAP_NONE, x / 3);
        worker_call(w, i, div_s, "div_s 0", ARGS(v_i32(x), v_i32(0)), 1,
                    WJ_TRAP_INT_DIVIDE_BY_ZERO, 0);
        worker_call(w, i, div_s, "div_s ov", ARGS(v_i32(INT32_MIN), v_i32(-1)), 1,
                    WJ_TRAP_INT_OVERFLOW, 0);
        worker_call(w, i, store_fn, "store", ARGS(v_i32((i % 1000) * 4), v_i32(x)), 0,
                    WJ_TRAP_NONE, 0);
        worker_call(w, i, load, "load", ARGS(v_i32((i % 1000) * 4)), 1, WJ_TRAP_NONE, x);
        worker_call(w, i, load, "load oob", ARGS(v_i32(65536 + i)), 1,
                    WJ_TRAP_MEMORY_OUT_OF_BOUNDS, 0);
        worker_call(w, i, unreachable, "unreachable", NULL, 0, 0, WJ_TRAP_UNREACHABLE, 0);
        worker_call(w, i, call_v_i, "call_indirect", ARGS(v_i32(0)), 1, WJ_TRAP_NONE, 7);
        worker_call(w, i, call_v_i, "call_indirect null", ARGS(v_i32(2)), 1,
                    WJ_TRAP_UNINITIALIZED_ELEMENT, 0);
        worker_call(w, i, call_v_i, "call_indirect type", ARGS(v_i32(1)), 1,
                    WJ_TRAP_INDIRECT_TYPE, 0);
        worker_call(w, i, trunc, "trunc", ARGS(v_f64(-(double)i - 0.5)), 1, WJ_TRAP_NONE, -i);
        worker_call(w, i, trunc, "trunc nan", ARGS(v_f64(NAN)), 1, WJ_TRAP_BAD_CONVERSION, 0);
        worker_call(w, i, fill, "fill oob", ARGS(v_i32(65000), v_i32(0), v_i32(1000)), 0,
                    WJ_TRAP_MEMORY_OUT_OF_BOUNDS, 0);
        worker_call(w, i, rem_u, "rem_u", ARGS(v_i64(i), v_i64(10)), 1, WJ_TRAP_NONE, i % 10);
        if (i % 200 == 0)
            worker_call(w, i, recurse, "recurse", ARGS(v_i32(0)), 1, WJ_TRAP_STACK_EXHAUSTED, 0);
    }
    wj_store_delete(store);
    return NULL;
}

START_TEST(traps_on_two_threads)
{
    uint8_t *bytes;
    size_t len;
    bytes = wat_to_wasm(kinds_wat, &len);
    wj_engine *engine = wj_engine_new(NULL);
    wj_module *module = NULL;
    ck_assert_no_wj_error(wj_module_new(engine, bytes, len, &module));

    enum { THREADS = 2, ITERATIONS = 3000 };
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){.module = module, .engine = engine, .iterations = ITERATIONS};
        ck_assert_int_eq(pthread_create(&tid[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        ck_assert_msg(w[t].failures == 0, "thread %d: %d failures, first: %s", t, w[t].failures,
                      w[t].first_failure);
        ck_assert_int_eq(w[t].traps, ITERATIONS * 8 + ITERATIONS / 200);
        ck_assert_int_eq(w[t].returns, ITERATIONS * 6);
    }
    wj_module_delete(module);
    wj_engine_delete(engine);
    free(bytes);
}
END_TEST

/* ==== 5. a fault in host code reaches the host's own handler ========================== */

static sigjmp_buf host_jmp;
static volatile sig_atomic_t host_faults;
static void *volatile host_fault_addr;

static void host_segv_handler(int sig, siginfo_t *info, void *uctx)
{
    host_faults++;
    host_fault_addr = info->si_addr;
    siglongjmp(host_jmp, 1);
}

/* Faults by writing into a PROT_NONE page; true when the handler ran. */
static bool host_fault(volatile uint8_t *page)
{
    if (sigsetjmp(host_jmp, 1) == 0) {
        page[16] = 1;
        return false;
    }
    return host_fault_addr == (void *)(page + 16);
}

/* Runs in a fresh process (the test re-executes this program), so that no
 * engine has installed anything yet. Exit status: 0 on success, else the
 * number of the failed step. */
static int sigchain_child(void)
{
    size_t len;
    const char *why;
    uint8_t *bytes = wat_to_wasm_or_why(kinds_wat, &len, &why);
    if (!bytes) {
        fprintf(stderr, "%s\n", why);
        return 9;
    }

    struct sigaction sa = {0}, old;
    sa.sa_sigaction = host_segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old) != 0 || old.sa_handler != SIG_DFL)
        return 1;

    volatile uint8_t *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 2;

    wj_engine *engine = wj_engine_new(NULL);
    wj_store *store = wj_store_new(engine);
    wj_module *module = NULL;
    wj_instance *inst = NULL;
    wj_trap *trap = NULL;
    if (!engine || !store || wj_module_new(engine, bytes, len, &module) ||
        wj_instance_new(store, module, NULL, 0, &inst, &trap) || trap)
        return 3;
    wj_func *load = worker_func(inst, "load");

    for (int round = 0; round < 3; round++) {
        /* a wasm fault is a trap, the host's handler never sees it */
        wj_val arg = v_i32(70000), res;
        if (wj_func_call(load, &arg, 1, &res, 1, &trap) || !trap ||
            wj_trap_code_of(trap) != WJ_TRAP_MEMORY_OUT_OF_BOUNDS)
            return 4;
        wj_trap_delete(trap);
        trap = NULL;
        if (host_faults != round)
            return 5;
        /* a host fault goes to the host's handler, with its siginfo */
        if (!host_fault(page))
            return 6;
        if (host_faults != round + 1)
            return 7;
        /* and wasm still runs */
        arg = v_i32(4);
        if (wj_func_call(load, &arg, 1, &res, 1, &trap) || trap || res.of.i32 != 0)
            return 8;
    }
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
    free(bytes);
    munmap((void *)page, 4096);
    return 0;
}

#define SIGCHAIN_ENV "WJ_TEST_TRAPS_SIGCHAIN_CHILD"

START_TEST(host_fault_chains_to_previous_handler)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv(SIGCHAIN_ENV, "1", 1);
        execl(self, self, (char *)NULL);
        _exit(126);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(!WIFSIGNALED(status), "child killed by signal %d", WTERMSIG(status));
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed at step %d (1 handler setup, 2 mmap, 3 engine/instance, 4 wasm "
                  "trap, 5 host handler saw a wasm fault, 6-7 host handler not run, 8 wasm "
                  "after host fault, 9 wat2wasm, 126 exec)",
                  WEXITSTATUS(status));
}
END_TEST

/* ==== 6. memory bounds: static and dynamic, memory64, multi-memory ================== */

START_TEST(memory_bounds_each_width)
{
    fixture fx;
    fx_open_memories(&fx, bounds_wat, _i);
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    static const char *const loads[] = {"load8", "load16", "load32", "load64"};
    static const char *const stores[] = {"store8", "store16", "store32", "store64"};
    static const int widths[] = {1, 2, 4, 8};
    static const uint64_t masks[] = {0xff, 0xffff, 0xffffffff, UINT64_MAX};
    const int64_t pattern = (int64_t)0x8877665544332211ull;

    for (uint32_t pages = 1; pages <= 2; pages++) {
        int32_t end = (int32_t)(pages * 65536);
        for (int w = 0; w < 4; w++) {
            int32_t last = end - widths[w];
            EXPECT_OK(&fx, stores[w], ARGS(v_i32(last), v_i64(pattern)));
            EXPECT_I64(&fx, loads[w], (uint64_t)pattern & masks[w], ARGS(v_i32(last)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i32(last + 1)));
            EXPECT_TRAP(&fx, stores[w], code, oob, NOSITE, ARGS(v_i32(last + 1), v_i64(0)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i32(end)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i32(-1)));
            EXPECT_TRAP(&fx, stores[w], code, oob, NOSITE, ARGS(v_i32(-widths[w]), v_i64(0)));
            /* the failed store did not write its in-bounds bytes */
            EXPECT_I64(&fx, loads[w], (uint64_t)pattern & masks[w], ARGS(v_i32(last)));
        }
        if (pages == 1) {
            /* grow: the old end becomes valid, the new end traps */
            EXPECT_I32(&fx, "grow", 1, ARGS(v_i32(1)));
            EXPECT_I32(&fx, "size", 2, NOARGS);
            EXPECT_I64(&fx, "load64", 0, ARGS(v_i32(65536)));
            EXPECT_I64(&fx, "load8", 0, ARGS(v_i32(65536)));
        }
    }
    fx_close(&fx);
}
END_TEST

START_TEST(memory_bounds_static_offsets)
{
    fixture fx;
    fx_open_memories(&fx, bounds_wat, _i);
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    /* the largest offset with the largest index: 0x1fffffffe, no wrap-around */
    EXPECT_TRAP(&fx, "load_max_offset", code, oob, NOSITE, ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "load_max_offset", code, oob, NOSITE, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "load_max_offset", code, oob, NOSITE, ARGS(v_i32(1)));
    /* index + offset just past 2^32 must not wrap to a small address */
    EXPECT_TRAP(&fx, "load_offset_1", code, oob, NOSITE, ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "load_offset_4", code, oob, NOSITE, ARGS(v_i32(-4)));
    EXPECT_TRAP(&fx, "load_offset_4", code, oob, NOSITE, ARGS(v_i32(-2)));
    /* offsets of 2^31 and more (the explicitly checked path), small indices */
    EXPECT_TRAP(&fx, "load_offset_2g", code, oob, NOSITE, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "load_offset_2g", code, oob, NOSITE, ARGS(v_i32(4)));
    EXPECT_TRAP(&fx, "load_offset_2g", code, oob, NOSITE, ARGS(v_i32(INT32_MIN)));
    EXPECT_TRAP(&fx, "store_offset_2g", code, oob, NOSITE, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "store_offset_2g", code, oob, NOSITE, ARGS(v_i32(INT32_MIN)));
    EXPECT_TRAP(&fx, "load_offset_3g", code, oob, NOSITE, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "load_offset_3g", code, oob, NOSITE, ARGS(v_i32(0x40000000)));
    /* static offsets inside the memory */
    EXPECT_OK(&fx, "store32", ARGS(v_i32(65532), v_i64(0xdeadbeef)));
    EXPECT_I32(&fx, "load_offset_65532", (int32_t)0xdeadbeef, ARGS(v_i32(0)));
    EXPECT_TRAP(&fx, "load_offset_65532", code, oob, NOSITE, ARGS(v_i32(1)));
    EXPECT_I32(&fx, "load_offset_4", (int32_t)0xdeadbeef, ARGS(v_i32(65528)));
    EXPECT_TRAP(&fx, "load_offset_4", code, oob, NOSITE, ARGS(v_i32(65529)));
    EXPECT_TRAP(&fx, "load64_offset_65529", code, oob, NOSITE, ARGS(v_i32(0)));
    /* a division between two checks of one block (it writes rdx) */
    EXPECT_OK(&fx, "store32", ARGS(v_i32(65528), v_i64(100)));
    EXPECT_I32(&fx, "load_div_load", 100 + 7 + (int32_t)0xdeadbeef, ARGS(v_i32(65528), v_i32(21)));
    EXPECT_TRAP(&fx, "load_div_load", code, oob, NOSITE, ARGS(v_i32(65529), v_i32(21)));
    /* a load folded into a compare whose other operand is spilled (ten
     * parameters): the check's index and that operand in two registers */
#define CMP_ARGS(addr, x)                                                                      \
    ARGS(v_i32(addr), v_i32(1), v_i32(2), v_i32(3), v_i32(4), v_i32(5), v_i32(6), v_i32(7), \
         v_i32(8), v_i32(x))
    EXPECT_I32(&fx, "cmp_spilled", 36 + 1, CMP_ARGS(65528, 50));
    EXPECT_I32(&fx, "cmp_spilled", 36, CMP_ARGS(65528, 150));
    EXPECT_TRAP(&fx, "cmp_spilled", code, oob, NOSITE, CMP_ARGS(65533, 50));
#undef CMP_ARGS
    fx_close(&fx);
}
END_TEST

START_TEST(memory_grow_limits)
{
    /* the declared maximum (3 pages) */
    fixture fx;
    fx_open(&fx, bounds_wat, NULL);
    wj_memory *mem = fx_export(&fx, "mem", WJ_EXTERN_MEMORY).of.memory;
    EXPECT_I32(&fx, "grow", 1, ARGS(v_i32(0)));
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(3)));
    EXPECT_I32(&fx, "size", 1, NOARGS);
    EXPECT_I32(&fx, "grow", 1, ARGS(v_i32(2)));
    EXPECT_I32(&fx, "size", 3, NOARGS);
    ck_assert_uint_eq(wj_memory_size(mem), 3);
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(1)));
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(-1)));
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(0x10000)));
    EXPECT_I32(&fx, "size", 3, NOARGS);
    ck_assert_uint_eq(wj_memory_data_size(mem), 3 * 65536);
    EXPECT_TRAP(&fx, "load8", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                NOSITE, ARGS(v_i32(3 * 65536)));
    EXPECT_I64(&fx, "load8", 0, ARGS(v_i32(3 * 65536 - 1)));
    fx_close(&fx);

    /* the engine's limit: 4 pages, memory declared without a maximum */
    wj_config *config = wj_config_new();
    wj_config_set_max_memory_size(config, 4 * 65536);
    fx_open(&fx, unbounded_wat, config);
    wj_config_delete(config);
    mem = fx_export(&fx, "mem", WJ_EXTERN_MEMORY).of.memory;
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(4)));
    EXPECT_I32(&fx, "size", 1, NOARGS);
    EXPECT_I32(&fx, "grow", 1, ARGS(v_i32(3)));
    EXPECT_I32(&fx, "size", 4, NOARGS);
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(1)));
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(0x10000)));
    EXPECT_I32(&fx, "grow", 4, ARGS(v_i32(0)));
    EXPECT_I32(&fx, "size", 4, NOARGS);
    ck_assert_uint_eq(wj_memory_size(mem), 4);
    uint64_t old = 0;
    ck_assert(!wj_memory_grow(mem, 1, &old));
    ck_assert_uint_eq(wj_memory_size(mem), 4);
    fx_close(&fx);

    /* default engine: 65536 pages is the 32-bit maximum, more is -1 */
    fx_open(&fx, unbounded_wat, NULL);
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(0x10000)));
    EXPECT_I32(&fx, "grow", -1, ARGS(v_i32(-1)));
    EXPECT_I32(&fx, "size", 1, NOARGS);
    fx_close(&fx);
}
END_TEST

/* Maps a page at `at` unless something is there: a dynamic memory whose
 * reservation ends there cannot extend in place and must move. */
static void *block_page_at(const uint8_t *at)
{
    void *p = mmap((void *)at, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    ck_assert_msg(p != MAP_FAILED || errno == EEXIST, "mmap: %s", strerror(errno));
    return p;
}

/* The host function of moves_wat: grows memory 0 (env) by 34 pages. */
static wj_trap *grow_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)caller, (void)args, (void)results;
    uint64_t old = 0;
    ck_assert(wj_memory_grow(*(wj_memory **)env, 34, &old));
    return NULL;
}

START_TEST(memory_moves_when_it_grows)
{
    fixture fx;
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_dynamic_memories(config, _i);
    fx_prepare(&fx, moves_wat, config);
    wj_config_delete(config);
    wj_memory *mem = NULL;
    wj_extern imp = {.kind = WJ_EXTERN_FUNC,
                     .of.func = wj_func_new(fx.store, &(wj_functype){0}, grow_cb, &mem, NULL)};
    ck_assert_ptr_nonnull(imp.of.func);
    fx_instantiate(&fx, &imp, 1);
    mem = fx_export(&fx, "mem", WJ_EXTERN_MEMORY).of.memory;
    /* a dynamic memory reserves its size (one page), then twice the size
     * it grows to (16 pages, 33): block the addresses after each */
    const uint8_t *before = wj_memory_data(mem);
    void *block1 = _i ? block_page_at(before + 65536) : MAP_FAILED;
    EXPECT_I32(&fx, "grow_then_load", 49, ARGS(v_i32(65532)));
    const uint8_t *after = wj_memory_data(mem);
    void *block2 = _i ? block_page_at(after + 32 * 65536) : MAP_FAILED;
    EXPECT_I32(&fx, "call_grow_then_load", 42, ARGS(v_i32(1048568)));
    ck_assert_uint_eq(wj_memory_size(mem), 33);
    const uint8_t *later = wj_memory_data(mem);
    void *block3 = _i ? block_page_at(later + 66 * 65536) : MAP_FAILED;
    EXPECT_I32(&fx, "host_grow_then_load", 33, ARGS(v_i32(2162680)));
    ck_assert_uint_eq(wj_memory_size(mem), 67);
    /* a dynamic memory 0 moved each time: the code read from new bases */
    if (_i) {
        ck_assert_ptr_ne(before, after);
        ck_assert_ptr_ne(after, later);
        ck_assert_ptr_ne(later, wj_memory_data(mem));
    }
    fx_close(&fx);
    void *blocks[] = {block1, block2, block3};
    for (int i = 0; i < 3; i++)
        if (blocks[i] != MAP_FAILED)
            munmap(blocks[i], 65536);
}
END_TEST

START_TEST(memory64_bounds_and_offsets)
{
    static const char *const opts[] = {"--enable-memory64", NULL};
    static const char *const loads[] = {"load8", "load16", "load32", "load64"};
    static const char *const stores[] = {"store8", "store16", "store32", "store64"};
    static const int widths[] = {1, 2, 4, 8};
    static const uint64_t masks[] = {0xff, 0xffff, 0xffffffff, UINT64_MAX};
    const int64_t pattern = (int64_t)0x8877665544332211ull;
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_dynamic_memories(config, _i);
    fixture fx;
    fx_prepare_opts(&fx, mem64_wat, opts, config);
    wj_config_delete(config);
    fx_instantiate(&fx, NULL, 0);

    for (int64_t pages = 1; pages <= 2; pages++) {
        int64_t end = pages * 65536;
        for (int w = 0; w < 4; w++) {
            int64_t last = end - widths[w];
            EXPECT_OK(&fx, stores[w], ARGS(v_i64(last), v_i64(pattern)));
            EXPECT_I64(&fx, loads[w], (uint64_t)pattern & masks[w], ARGS(v_i64(last)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i64(last + 1)));
            EXPECT_TRAP(&fx, stores[w], code, oob, NOSITE, ARGS(v_i64(last + 1), v_i64(0)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i64(INT64_MIN)));
            EXPECT_TRAP(&fx, loads[w], code, oob, NOSITE, ARGS(v_i64(-1)));
            /* index + size wraps around 2^64 */
            EXPECT_TRAP(&fx, stores[w], code, oob, NOSITE, ARGS(v_i64(-1), v_i64(0)));
        }
        if (pages == 1) {
            EXPECT_I64(&fx, "size", 1, NOARGS);
            EXPECT_I64(&fx, "grow", 1, ARGS(v_i64(1)));
            EXPECT_I64(&fx, "size", 2, NOARGS);
            EXPECT_I64(&fx, "load64", 0, ARGS(v_i64(65536)));
        }
    }
    /* an offset near 2^32: past the memory, and wrapping with huge indices */
    EXPECT_TRAP(&fx, "load_offset_4g_less_1", code, oob, NOSITE, ARGS(v_i64(0)));
    EXPECT_TRAP(&fx, "load_offset_4g_less_1", code, oob, NOSITE,
                ARGS(v_i64(-(INT64_C(1) << 32) + 100)));
    /* memory.fill: up to the last byte, one past it, a length wrapping */
    EXPECT_OK(&fx, "fill", ARGS(v_i64(131070), v_i32(0x5a), v_i64(2)));
    EXPECT_I64(&fx, "load16", 0x5a5a, ARGS(v_i64(131070)));
    EXPECT_TRAP(&fx, "fill", code, oob, NOSITE, ARGS(v_i64(131070), v_i32(0), v_i64(3)));
    EXPECT_TRAP(&fx, "fill", code, oob, NOSITE, ARGS(v_i64(2), v_i32(0), v_i64(-1)));
    EXPECT_I64(&fx, "load16", 0x5a5a, ARGS(v_i64(131070)));
    fx_close(&fx);
}
END_TEST

/* A memory64 module exporting "load": (i64) -> i64, one load `op` with a
 * static offset wat2wasm does not accept (beyond 2^32), built in bytes. */
static void fx_open_load64(fixture *fx, uint8_t op, uint64_t offset, bool dynamic)
{
    wb body = {0}, b = {0};
    wb_raw(&body, 0x00, 0x20, 0x00, op, 0x00); /* no locals; local.get 0; op align=0 */
    wb_u64(&body, offset);
    wb_byte(&body, 0x0b);
    wb_module(&b, &(wb_spec){
        .types = WB_BLOB(1, 0x60, 1, 0x7e, 1, 0x7e),
        .memories = WB_BLOB(1, 0x04, 1), /* i64, min 1 */
        .exports = WB_BLOB(1, 4, 'l', 'o', 'a', 'd', 0x00, 0),
        .body = wb_as_blob(&body),
    });
    wb_free(&body);
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    wj_config_set_dynamic_memories(config, dynamic);
    fx_prepare_bytes(fx, b.data, b.len, config);
    wj_config_delete(config);
    fx_instantiate(fx, NULL, 0);
}

START_TEST(memory64_offsets_near_2_64)
{
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    fixture fx;
    /* offset + size beyond 2^64: no index is in bounds */
    fx_open_load64(&fx, 0x31 /* i64.load8_u */, UINT64_MAX, _i);
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(0)));
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(101)));
    fx_close(&fx);
    /* index + offset + size wraps around 2^64 to 100, an end in bounds */
    fx_open_load64(&fx, 0x29 /* i64.load */, UINT64_MAX - 15, _i);
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(0)));
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(108)));
    fx_close(&fx);
    /* 2^32 + 8: past the memory, or wrapping to 100 */
    fx_open_load64(&fx, 0x29, (UINT64_C(1) << 32) + 8, _i);
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(0)));
    EXPECT_TRAP(&fx, "load", code, oob, NOSITE, ARGS(v_i64(-(INT64_C(1) << 32) - 16 + 100)));
    fx_close(&fx);
}
END_TEST

START_TEST(multi_memory_loads_and_bulk)
{
    static const char *const opts[] = {"--enable-multi-memory", NULL};
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    wj_config *config = wj_config_new();
    ck_assert_ptr_nonnull(config);
    wj_config_set_feature(config, WJ_FEATURE_MULTI_MEMORY, true);
    wj_config_set_dynamic_memories(config, _i);
    fixture fx;
    fx_prepare_opts(&fx, multi_wat, opts, config);
    wj_config_delete(config);
    fx_instantiate(&fx, NULL, 0);
    const uint8_t *data0 = wj_memory_data(fx_export(&fx, "mem0", WJ_EXTERN_MEMORY).of.memory);
    const uint8_t *data1 = wj_memory_data(fx_export(&fx, "mem1", WJ_EXTERN_MEMORY).of.memory);
    const uint8_t *data2 = wj_memory_data(fx_export(&fx, "mem2", WJ_EXTERN_MEMORY).of.memory);

    EXPECT_I32(&fx, "load1", 2, ARGS(v_i32(4)));
    EXPECT_I32(&fx, "load2", 0x20, ARGS(v_i32(4)));
    EXPECT_I32(&fx, "sum12", 3 + 0x40, ARGS(v_i32(8), v_i32(11)));
    /* each memory's own bound: memory 1 has one page, memory 2 two */
    EXPECT_I32(&fx, "load1", 0, ARGS(v_i32(65532)));
    EXPECT_TRAP(&fx, "load1", code, oob, NOSITE, ARGS(v_i32(65533)));
    EXPECT_TRAP(&fx, "load1", code, oob, NOSITE, ARGS(v_i32(131068)));
    EXPECT_I32(&fx, "load2", 7, ARGS(v_i32(131068)));
    EXPECT_TRAP(&fx, "load2", code, oob, NOSITE, ARGS(v_i32(131069)));
    EXPECT_TRAP(&fx, "sum12", code, oob, NOSITE, ARGS(v_i32(0), v_i32(131071)));
    EXPECT_I32(&fx, "pressure", 1 + 0x20 + 3 + 0x40 + 5 + 0x10 + 2 + 0x30 + 4 + 7,
               ARGS(v_i32(0), v_i32(4), v_i32(8), v_i32(12), v_i32(16), v_i32(0), v_i32(4),
                    v_i32(8), v_i32(12), v_i32(131068)));
    EXPECT_TRAP(&fx, "pressure", code, oob, NOSITE,
                ARGS(v_i32(0), v_i32(4), v_i32(8), v_i32(12), v_i32(16), v_i32(0), v_i32(4),
                     v_i32(8), v_i32(12), v_i32(131069)));
    /* a store reaches memory 2 only */
    EXPECT_OK(&fx, "store2", ARGS(v_i32(100), v_i32(0x11223344)));
    ck_assert_uint_eq(data2[100], 0x44);
    ck_assert_uint_eq(data1[100], 0);
    ck_assert_uint_eq(data0[100], 0);
    /* size and grow of memory 1 */
    EXPECT_I32(&fx, "size1", 1, NOARGS);
    EXPECT_I32(&fx, "size2", 2, NOARGS);
    EXPECT_I32(&fx, "grow1", 1, ARGS(v_i32(1)));
    EXPECT_I32(&fx, "size1", 2, NOARGS);
    EXPECT_I32(&fx, "load1", 0, ARGS(v_i32(131068)));
    EXPECT_TRAP(&fx, "load1", code, oob, NOSITE, ARGS(v_i32(131069)));
    data1 = wj_memory_data(fx_export(&fx, "mem1", WJ_EXTERN_MEMORY).of.memory);
    /* fill memory 1, copy memory 2 into memory 1, and their traps */
    EXPECT_OK(&fx, "fill1", ARGS(v_i32(131070), v_i32(0x77), v_i32(2)));
    ck_assert_uint_eq(data1[131071], 0x77);
    EXPECT_TRAP(&fx, "fill1", code, oob, NOSITE, ARGS(v_i32(131070), v_i32(0), v_i32(3)));
    EXPECT_OK(&fx, "copy12", ARGS(v_i32(200), v_i32(131068), v_i32(4)));
    ck_assert_uint_eq(data1[200], 7);
    EXPECT_TRAP(&fx, "copy12", code, oob, NOSITE, ARGS(v_i32(200), v_i32(131069), v_i32(4)));
    EXPECT_TRAP(&fx, "copy12", code, oob, NOSITE, ARGS(v_i32(131069), v_i32(0), v_i32(4)));
    ck_assert_uint_eq(data1[131071], 0x77);
    ck_assert_uint_eq(data0[200], 0);
    fx_close(&fx);
}
END_TEST

/* ==== 7. the stack limit ============================================================== */

/* How deep $deep recursed before "call stack exhausted" (twice: the same). */
static int32_t max_depth(wj_config *config)
{
    fixture fx;
    fx_open(&fx, deep_wat, config);
    wj_global *depth = fx_export(&fx, "depth", WJ_EXTERN_GLOBAL).of.global;
    int32_t seen[2];
    for (int i = 0; i < 2; i++) {
        wj_val zero = v_i32(0), v;
        ck_assert_no_wj_error(wj_global_set(depth, &zero));
        EXPECT_TRAP(&fx, "deep", WJ_TRAP_STACK_EXHAUSTED, "call stack exhausted", NOSITE,
                    NOARGS);
        wj_global_get(depth, &v);
        seen[i] = v.of.i32;
    }
    ck_assert_int_eq(seen[0], seen[1]);
    fx_close(&fx);
    return seen[0];
}

START_TEST(stack_limit_is_configurable)
{
    int32_t by_default = max_depth(NULL);
    wj_config *config = wj_config_new();
    wj_config_set_max_wasm_stack(config, 64 * 1024);
    int32_t small = max_depth(config);
    wj_config_set_max_wasm_stack(config, 1024 * 1024);
    int32_t large = max_depth(config);
    wj_config_delete(config);

    /* the default is 512 KiB: about 8 times as deep as 64 KiB, half of 1 MiB */
    ck_assert_int_gt(small, 100);
    ck_assert_msg(small * 4 < by_default, "64 KiB: depth %d, default: %d", small, by_default);
    ck_assert_msg(by_default * 3 / 2 < large, "default: depth %d, 1 MiB: %d", by_default, large);
}
END_TEST

/* Recursion on threads whose stacks are smaller than the wasm stack budget
 * must trap, not crash: the limit is clamped to the thread's real stack,
 * keeping a reserve below it for host functions. */

enum {
    BIG_FRAME_LOCALS = 2048, /* 16 KiB frames */
    HOST_STACK_USE = 24 * 1024, /* what $hungry uses: below the runtime's reserve */
};

/* "plain" recursion; "big" with 16 KiB frames; "nest" through the host
 * (wasm -> $reenter -> "nest" -> ...); "greedy" calls the stack-hungry host
 * function $hungry at every level; "add" to see the store still works. */
static char *small_stack_wat(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(f);
    fputs("(module $small\n"
          "  (import \"env\" \"reenter\" (func $reenter))\n"
          "  (import \"env\" \"hungry\" (func $hungry))\n"
          "  (func $plain (export \"plain\") (call $plain))\n"
          "  (func $big (export \"big\") (local",
          f);
    for (int i = 0; i < BIG_FRAME_LOCALS; i++)
        fputs(" i64", f);
    fputs(")\n"
          "    (call $big))\n"
          "  (func (export \"nest\") (call $reenter))\n"
          "  (func $greedy (export \"greedy\") (call $hungry) (call $greedy))\n"
          "  (func (export \"add\") (param i32 i32) (result i32)\n"
          "    (i32.add (local.get 0) (local.get 1))))\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

static wj_trap *reenter_nest_cb(void *env, wj_caller *caller, const wj_val *args,
                                wj_val *results)
{
    (void)caller, (void)args, (void)results;
    wj_func *const *nest = env;
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(*nest, NULL, 0, NULL, 0, &trap);
    if (err) {
        wj_error_delete(err);
        return wj_trap_new("unexpected error");
    }
    return trap;
}

/* Touches HOST_STACK_USE bytes of its own stack, lowest addresses included. */
static wj_trap *hungry_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    (void)env, (void)caller, (void)args, (void)results;
    volatile char buf[HOST_STACK_USE];
    for (size_t i = 0; i < sizeof buf; i += 256)
        buf[i] = (char)i;
    buf[0] = buf[sizeof buf - 1];
    return NULL;
}

typedef struct small_stack_run {
    wj_func *funcs[4]; /* plain, big, nest, greedy */
    wj_func *add;
    char failure[200]; /* empty: all went well */
} small_stack_run;

static const char *const recursing[4] = {"plain", "big", "nest", "greedy"};

/* Records what went wrong in run->failure; frees err and trap. */
static void *small_stack_failed(small_stack_run *run, const char *what, wj_error *err,
                                wj_trap *trap)
{
    snprintf(run->failure, sizeof run->failure, "%s: %s", what,
             err ? wj_error_message(err) : trap ? wj_trap_message(trap) : "no trap");
    wj_error_delete(err);
    wj_trap_delete(trap);
    return NULL;
}

/* Runs on a thread with a small stack: each recursion traps with "call
 * stack exhausted", and the store works afterwards. */
static void *small_stack_main(void *arg)
{
    small_stack_run *run = arg;
    for (int i = 0; i < 4; i++) {
        wj_trap *trap = NULL;
        wj_error *err = wj_func_call(run->funcs[i], NULL, 0, NULL, 0, &trap);
        if (err || !trap || wj_trap_code_of(trap) != WJ_TRAP_STACK_EXHAUSTED ||
            strcmp(wj_trap_message(trap), "call stack exhausted") != 0)
            return small_stack_failed(run, recursing[i], err, trap);
        wj_trap_delete(trap);
        trap = NULL;
        wj_val args[2] = {v_i32(1), v_i32(2)}, sum = {0};
        err = wj_func_call(run->add, args, 2, &sum, 1, &trap);
        if (err || trap || sum.of.i32 != 3)
            return small_stack_failed(run, "add after a recursion", err,
                                      trap ? trap : wj_trap_new("wrong sum"));
    }
    return NULL;
}

/* Each recursion on threads with stacks of 64 KiB to 8 MiB, with `config`. */
static void recurse_on_small_stacks(wj_config *config)
{
    char *wat = small_stack_wat();
    fixture fx;
    fx_prepare(&fx, wat, config);
    free(wat);
    static const wj_functype void_type = {0, 0, NULL, NULL};
    wj_func *nest = NULL; /* $reenter calls it: known once instantiated */
    wj_extern imports[2] = {
        {.kind = WJ_EXTERN_FUNC,
         .of.func = wj_func_new(fx.store, &void_type, reenter_nest_cb, &nest, NULL)},
        {.kind = WJ_EXTERN_FUNC, .of.func = wj_func_new(fx.store, &void_type, hungry_cb, NULL, NULL)},
    };
    ck_assert_ptr_nonnull(imports[0].of.func);
    ck_assert_ptr_nonnull(imports[1].of.func);
    fx_instantiate(&fx, imports, 2);
    nest = fx_func(&fx, "nest");
    small_stack_run run = {.add = fx_func(&fx, "add")};
    for (int i = 0; i < 4; i++)
        run.funcs[i] = fx_func(&fx, recursing[i]);

    static const size_t sizes[] = {64 * 1024, 128 * 1024, 256 * 1024, 8 * 1024 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        pthread_attr_t attr;
        ck_assert_int_eq(pthread_attr_init(&attr), 0);
        ck_assert_int_eq(pthread_attr_setstacksize(&attr, sizes[i]), 0);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, &attr, small_stack_main, &run), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        pthread_attr_destroy(&attr);
        ck_assert_msg(run.failure[0] == 0, "%zu KiB stack: %s", sizes[i] / 1024, run.failure);
    }
    /* and on the main thread */
    EXPECT_I32(&fx, "add", 3, ARGS(v_i32(1), v_i32(2)));
    fx_close(&fx);
}

START_TEST(stack_limit_within_small_thread_stacks)
{
    recurse_on_small_stacks(NULL); /* the default budget, 512 KiB */
    wj_config *config = wj_config_new();
    wj_config_set_max_wasm_stack(config, (size_t)1 << 30); /* more than any stack here */
    recurse_on_small_stacks(config);
    wj_config_delete(config);
}
END_TEST

/* Frames larger than the reserve kept below the stack limit: the check
 * fails with rsp that far below the limit, maybe past the end of the
 * thread's stack, and the trap must not use the stack down there. "wide"
 * recurses with 64 KiB frames (8192 i64 locals); "huge" has a frame of
 * 800 KB (50,000 v128 locals), more than the default budget and than the
 * smaller threads' stacks. */
static char *wide_frames_wat(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(f);
    fputs("(module $wide\n  (func $wide (export \"wide\") (local", f);
    for (int i = 0; i < 8192; i++)
        fputs(" i64", f);
    fputs(") (call $wide))\n  (func $huge (export \"huge\") (local", f);
    for (int i = 0; i < 50000; i++)
        fputs(" v128", f);
    fputs("))\n"
          "  (func (export \"add\") (param i32 i32) (result i32)\n"
          "    (i32.add (local.get 0) (local.get 1))))\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

typedef struct wide_frames_run {
    wj_func *funcs[2]; /* wide, huge */
    uint64_t sites[2]; /* where each traps: its body's first instruction */
    wj_func *add;
    char failure[200]; /* empty: all went well */
} wide_frames_run;

static void wide_frames_failed(wide_frames_run *run, const char *what, wj_error *err,
                               wj_trap *trap)
{
    const wj_frame *f = trap ? wj_trap_frame(trap, 0) : NULL;
    snprintf(run->failure, sizeof run->failure, "%s: %s (innermost frame at %lld)", what,
             err ? wj_error_message(err) : trap ? wj_trap_message(trap) : "no trap",
             f ? (long long)f->module_offset : -1LL);
    wj_error_delete(err);
    wj_trap_delete(trap);
}

/* Each function traps "call stack exhausted" at its first instruction (the
 * innermost frame), twice, and the store works afterwards. Tier 2 gives
 * locals nothing reads no slot: the huge frame is tier 1's alone (with
 * tiering, the first call already runs tier 2). */
static void wide_frames_calls(wide_frames_run *run)
{
    static const char *const names[2] = {"wide", "huge"};
    int nfuncs = fx_tier.strategy == WJ_STRATEGY_BASELINE ? 2 : 1;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < nfuncs; i++) {
            wj_trap *trap = NULL;
            wj_error *err = wj_func_call(run->funcs[i], NULL, 0, NULL, 0, &trap);
            const wj_frame *f = trap ? wj_trap_frame(trap, 0) : NULL;
            if (err || !trap || wj_trap_code_of(trap) != WJ_TRAP_STACK_EXHAUSTED ||
                strcmp(wj_trap_message(trap), "call stack exhausted") != 0 || !f ||
                f->module_offset != run->sites[i]) {
                wide_frames_failed(run, names[i], err, trap);
                return;
            }
            wj_trap_delete(trap);
        }
        wj_trap *trap = NULL;
        wj_val args[2] = {v_i32(1), v_i32(2)}, sum = {0};
        wj_error *err = wj_func_call(run->add, args, 2, &sum, 1, &trap);
        if (err || trap || sum.of.i32 != 3) {
            wide_frames_failed(run, "add", err, trap ? trap : wj_trap_new("wrong sum"));
            return;
        }
    }
}

/* The calls without a signal: a trap that touched the stack past its end
 * would then be fatal, not handled on the alternate stack. */
static void *wide_frames_main(void *arg)
{
    wide_frames_run *run = arg;
    if (block_trap_signals(true) != 0) {
        wide_frames_failed(run, "pthread_sigmask", NULL, NULL);
        return NULL;
    }
    wide_frames_calls(run);
    block_trap_signals(false);
    return NULL;
}

START_TEST(stack_limit_with_frames_beyond_the_reserve)
{
    char *wat = wide_frames_wat();
    fixture fx;
    fx_open(&fx, wat, NULL);
    free(wat);
    wide_frames_run run = {.add = fx_func(&fx, "add")};
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "huge" : "wide";
        run.funcs[i] = fx_func(&fx, name);
        run.sites[i] = fx_body(&fx, fx_func_index(&fx, name)).code;
    }
    /* Stacks of our own with 1 MiB of PROT_NONE below (more than a huge
     * frame), so that any use of the stack past their end faults instead
     * of scribbling on a neighbouring mapping. */
    static const size_t sizes[] = {64 * 1024, 256 * 1024, 8 * 1024 * 1024};
    const size_t below = 1024 * 1024;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char *mapping = mmap(NULL, below + sizes[i], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
        ck_assert_ptr_ne(mapping, MAP_FAILED);
        ck_assert_int_eq(mprotect(mapping + below, sizes[i], PROT_READ | PROT_WRITE), 0);
        pthread_attr_t attr;
        ck_assert_int_eq(pthread_attr_init(&attr), 0);
        ck_assert_int_eq(pthread_attr_setstack(&attr, mapping + below, sizes[i]), 0);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, &attr, wide_frames_main, &run), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        pthread_attr_destroy(&attr);
        munmap(mapping, below + sizes[i]);
        ck_assert_msg(run.failure[0] == 0, "%zu KiB stack: %s", sizes[i] / 1024, run.failure);
    }
    wide_frames_main(&run); /* and on the main thread */
    ck_assert_msg(run.failure[0] == 0, "main thread: %s", run.failure);
    fx_close(&fx);
}
END_TEST

/* ==== 8. a loop for leak checkers ===================================================== */

START_TEST(create_trap_delete_loop)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm(kinds_wat, &len);
    for (int i = 0; i < 200; i++) {
        wj_engine *engine = wj_engine_new(NULL);
        wj_module *module = NULL;
        ck_assert_no_wj_error(wj_module_new(engine, bytes, len, &module));
        wj_store *store = wj_store_new(engine);
        wj_instance *inst = NULL;
        wj_trap *trap = NULL;
        ck_assert_no_wj_error(wj_instance_new(store, module, NULL, 0, &inst, &trap));
        ck_assert_no_trap(trap);
        wj_val arg = v_i32(1 << 20), res;
        ck_assert_no_wj_error(wj_func_call(worker_func(inst, "load"), &arg, 1, &res, 1, &trap));
        ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        wj_trap_delete(trap);
        trap = NULL;
        ck_assert_no_wj_error(wj_func_call(worker_func(inst, "unreachable"), NULL, 0, NULL, 0,
                                           &trap));
        ck_assert_int_eq(wj_trap_code_of(trap), WJ_TRAP_UNREACHABLE);
        wj_trap_delete(trap);
        trap = NULL;
        arg = v_i32(0);
        ck_assert_no_wj_error(wj_func_call(worker_func(inst, "call_v_i"), &arg, 1, &res, 1,
                                           &trap));
        ck_assert_no_trap(trap);
        ck_assert_int_eq(res.of.i32, 7);
        wj_store_delete(store);
        wj_module_delete(module);
        wj_engine_delete(engine);
    }
    free(bytes);
}
END_TEST

/* ==== 9. explicit traps take no signal ================================================ */

/* Each kind of explicit check, with the signals blocked (block_trap_signals):
 * the same code, message and innermost frame as in part 1. */
START_TEST(explicit_traps_take_no_signal)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    ck_assert_int_eq(block_trap_signals(true), 0);
    EXPECT_TRAP(&fx, "unreachable", WJ_TRAP_UNREACHABLE, "unreachable", SITE(0x00), NOARGS);
    EXPECT_TRAP(&fx, "i32.div_u", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero",
                SITE(0x6e), ARGS(v_i32(1), v_i32(0)));
    EXPECT_TRAP(&fx, "i64.rem_s", WJ_TRAP_INT_DIVIDE_BY_ZERO, "integer divide by zero",
                SITE(0x81), ARGS(v_i64(1), v_i64(0)));
    EXPECT_TRAP(&fx, "i32.div_s", WJ_TRAP_INT_OVERFLOW, "integer overflow", SITE(0x6d),
                ARGS(v_i32(INT32_MIN), v_i32(-1)));
    EXPECT_TRAP(&fx, "i64.trunc_f64_u", WJ_TRAP_INT_OVERFLOW, "integer overflow", SITE(0xb1),
                ARGS(v_f64(-1.0)));
    EXPECT_TRAP(&fx, "i32.trunc_f32_s", WJ_TRAP_BAD_CONVERSION, "invalid conversion to integer",
                SITE(0xa8), ARGS(v_f32(NAN)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_INDIRECT_TYPE, "indirect call type mismatch",
                SITE(0x11, 0x00, 0x00), ARGS(v_i32(1)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element",
                SITE(0x11, 0x00, 0x00), ARGS(v_i32(2)));
    EXPECT_TRAP(&fx, "call_v_i", WJ_TRAP_UNDEFINED_ELEMENT, "undefined element",
                SITE(0x11, 0x00, 0x00), ARGS(v_i32(3)));
    EXPECT_TRAP(&fx, "table.get", WJ_TRAP_TABLE_OUT_OF_BOUNDS, "out of bounds table access",
                SITE(0x25, 0x01), ARGS(v_i32(4)));
    /* a libcall's status */
    EXPECT_TRAP(&fx, "table.fill", WJ_TRAP_TABLE_OUT_OF_BOUNDS, "out of bounds table access",
                SITE(0xfc, 0x11, 0x01), ARGS(v_i32(1), v_i32(4)));
    EXPECT_TRAP(&fx, "memory.fill", WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                SITE(0xfc, 0x0b, 0x00), ARGS(v_i32(65534), v_i32(0x33), v_i32(3)));
    /* the stack check, at the function's first instruction */
    EXPECT_TRAP(&fx, "recurse", WJ_TRAP_STACK_EXHAUSTED, "call stack exhausted",
                SITE(0x20, 0x00), ARGS(v_i32(0)));
    ck_assert_int_eq(block_trap_signals(false), 0);
    EXPECT_I32(&fx, "call_v_i", 7, ARGS(v_i32(0)));
    fx_close(&fx);
}
END_TEST

/* A memory64 memory: checked like a dynamic one, and an index whose sum
 * with the offset wraps. */
static const char memory64_wat[] =
    "(module $m64\n"
    "  (memory i64 1)\n"
    "  (func (export \"load\") (param i64) (result i32) local.get 0 i32.load offset=8))\n";

/* Accesses with explicit bounds checks: dynamic memories, memory64, and a
 * static memory's access whose offset is beyond the guard region. */
START_TEST(explicit_bounds_checks_take_no_signal)
{
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    wj_config *config = wj_config_new();
    wj_config_set_dynamic_memories(config, true);
    fixture fx;
    fx_open(&fx, kinds_wat, config);
    ck_assert_int_eq(block_trap_signals(true), 0);
    EXPECT_I32(&fx, "load", 0, ARGS(v_i32(65532)));
    EXPECT_TRAP(&fx, "load", code, oob, SITE(0x28, 0x02, 0x00), ARGS(v_i32(65533)));
    EXPECT_TRAP(&fx, "load", code, oob, SITE(0x28, 0x02, 0x00), ARGS(v_i32(-1)));
    EXPECT_TRAP(&fx, "store", code, oob, SITE(0x36, 0x02, 0x00), ARGS(v_i32(65536), v_i32(1)));
    ck_assert_int_eq(block_trap_signals(false), 0);
    fx_close(&fx);

    wj_config_set_dynamic_memories(config, false);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, true);
    static const char *const m64[] = {"--enable-memory64", NULL};
    fx_prepare_opts(&fx, memory64_wat, m64, config);
    fx_instantiate(&fx, NULL, 0);
    ck_assert_int_eq(block_trap_signals(true), 0);
    EXPECT_I32(&fx, "load", 0, ARGS(v_i64(65524)));
    EXPECT_TRAP(&fx, "load", code, oob, SITE(0x28, 0x02, 0x08), ARGS(v_i64(65525)));
    EXPECT_TRAP(&fx, "load", code, oob, SITE(0x28, 0x02, 0x08), ARGS(v_i64(-4)));
    ck_assert_int_eq(block_trap_signals(false), 0);
    fx_close(&fx);
    wj_config_delete(config);

    fx_open(&fx, bounds_wat, NULL);
    ck_assert_int_eq(block_trap_signals(true), 0);
    EXPECT_TRAP(&fx, "load_offset_3g", code, oob, SITE(0x29, 0x03, 0x80, 0x80, 0x80, 0x80, 0x0c),
                ARGS(v_i32(0)));
    ck_assert_int_eq(block_trap_signals(false), 0);
    fx_close(&fx);
}
END_TEST

/* Loads folded into the operator after them (src/compiler/fold.c): the
 * operator's instruction is the faulting access, whose site must carry the
 * load's offset (each SITE: the load's bytes, then the operator's). "@A" is
 * the address type. */
static const char folded_wat[] =
    "(module $folded\n"
    "  (memory @A 1)\n"
    "  (func (export \"i32\") (param $a i32) (param $p @A) (result i32)\n"
    "    (i32.add (local.get $a) (i32.load offset=8 (local.get $p))))\n"
    "  (func (export \"i64\") (param $a i64) (param $p @A) (result i64)\n"
    "    (i64.sub (local.get $a) (i64.load offset=8 (local.get $p))))\n"
    "  (func (export \"f32\") (param $a f32) (param $p @A) (result f32)\n"
    "    (f32.mul (local.get $a) (f32.load offset=8 (local.get $p))))\n"
    "  (func (export \"f64\") (param $a f64) (param $p @A) (result f64)\n"
    "    (f64.div (local.get $a) (f64.load offset=8 (local.get $p))))\n"
    "  (func (export \"cmp\") (param $a i64) (param $p @A) (result i32)\n"
    "    (i64.lt_u (local.get $a) (i64.load offset=8 (local.get $p))))\n"
    "  (func (export \"fcmp\") (param $a f64) (param $p @A) (result i32)\n"
    "    (f64.gt (local.get $a) (f64.load offset=8 (local.get $p))))\n"
    "  (func (export \"inplace\") (param $a f64) (param $p @A) (result f64)\n"
    "    (local.set $a (f64.add (local.get $a) (f64.load offset=8 (local.get $p))))\n"
    "    (local.get $a)))\n";

/* _i: 0 a static memory (the fault's signal), 1 a dynamic one and 2
 * memory64 (explicit checks before the access). */
START_TEST(folded_load_traps)
{
    const char *oob = "out of bounds memory access";
    wj_trap_code code = WJ_TRAP_MEMORY_OUT_OF_BOUNDS;
    wj_config *config = wj_config_new();
    wj_config_set_dynamic_memories(config, _i == 1);
    wj_config_set_feature(config, WJ_FEATURE_MEMORY64, _i == 2);
    static const char *const m64[] = {"--enable-memory64", NULL};
    char wat[sizeof folded_wat + 64];
    const char *at = _i == 2 ? "i64" : "i32";
    size_t o = 0;
    for (const char *p = folded_wat; *p; p++) {
        if (p[0] == '@' && p[1] == 'A') {
            o += (size_t)snprintf(wat + o, sizeof wat - o, "%s", at);
            p++;
        } else {
            wat[o++] = *p;
        }
    }
    wat[o] = 0;
    fixture fx;
    fx_prepare_opts(&fx, wat, m64, config);
    fx_instantiate(&fx, NULL, 0);
    /* the bytes at 65533 cross the end; so do the 8 at 65529 */
    int64_t over[] = {65536 - 8 - 3, 65536 - 8 - 7, -1, 65536};
    for (size_t k = 0; k < sizeof over / sizeof *over; k++) {
        wj_val p = _i == 2 ? v_i64(over[k]) : v_i32((int32_t)over[k]);
        if (k != 1) { /* at 65529, the 4-byte loads are in bounds */
            EXPECT_TRAP(&fx, "i32", code, oob, SITE(0x28, 0x02, 0x08, 0x6a), ARGS(v_i32(1), p));
            EXPECT_TRAP(&fx, "f32", code, oob, SITE(0x2a, 0x02, 0x08, 0x94), ARGS(v_f32(1), p));
        }
        EXPECT_TRAP(&fx, "i64", code, oob, SITE(0x29, 0x03, 0x08, 0x7d), ARGS(v_i64(1), p));
        EXPECT_TRAP(&fx, "f64", code, oob, SITE(0x2b, 0x03, 0x08, 0xa3), ARGS(v_f64(1), p));
        EXPECT_TRAP(&fx, "cmp", code, oob, SITE(0x29, 0x03, 0x08, 0x54), ARGS(v_i64(1), p));
        EXPECT_TRAP(&fx, "fcmp", code, oob, SITE(0x2b, 0x03, 0x08, 0x64), ARGS(v_f64(1), p));
        EXPECT_TRAP(&fx, "inplace", code, oob, SITE(0x2b, 0x03, 0x08, 0xa0, 0x21, 0x00),
                    ARGS(v_f64(1), p));
    }
    /* in bounds, the last bytes: zeros */
    wj_val last4 = _i == 2 ? v_i64(65536 - 8 - 4) : v_i32(65536 - 8 - 4);
    wj_val last8 = _i == 2 ? v_i64(65536 - 8 - 8) : v_i32(65536 - 8 - 8);
    EXPECT_I32(&fx, "i32", 5, ARGS(v_i32(5), last4));
    EXPECT_I32(&fx, "cmp", 0, ARGS(v_i64(5), last8));
    fx_close(&fx);
    wj_config_delete(config);
}
END_TEST

/* $spin loops until the fuel runs out, called from $outer. */
static const char fuel_wat[] =
    "(module $fuel\n"
    "  (func $spin (loop $l (br $l)))\n"
    "  (func $outer (export \"outer\") nop call $spin))\n";

/* Whole backtraces through the trap stubs: a fuel check at a loop header,
 * and `unreachable` three calls deep. */
START_TEST(explicit_trap_backtraces_take_no_signal)
{
    wj_config *config = wj_config_new();
    wj_config_set_consume_fuel(config, true);
    fixture fx;
    fx_open(&fx, fuel_wat, config);
    wj_config_delete(config);
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, 1000));
    ck_assert_int_eq(block_trap_signals(true), 0);
    wj_trap *trap = fx_call(&fx, "outer", NOARGS, NULL);
    check_trap(__LINE__, trap, "outer", WJ_TRAP_OUT_OF_FUEL, "all fuel consumed by WebAssembly");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 2);
    CHECK_FRAME(&fx, trap, 0, 0, "spin", SITE(0x03, 0x40));  /* loop */
    CHECK_FRAME(&fx, trap, 1, 1, "outer", SITE(0x10, 0x00)); /* call $spin */
    wj_trap_delete(trap);
    ck_assert_int_eq(block_trap_signals(false), 0);
    fx_close(&fx);

    fx_open(&fx, backtrace_wat, NULL);
    ck_assert_int_eq(block_trap_signals(true), 0);
    trap = fx_call(&fx, "a", NOARGS, NULL);
    check_trap(__LINE__, trap, "a", WJ_TRAP_UNREACHABLE, "unreachable");
    ck_assert_uint_eq(wj_trap_frame_count(trap), 3);
    CHECK_FRAME(&fx, trap, 0, 2, "c", SITE(0x00));       /* unreachable */
    CHECK_FRAME(&fx, trap, 1, 1, "b", SITE(0x10, 0x02)); /* call $c */
    CHECK_FRAME(&fx, trap, 2, 0, "a", SITE(0x10, 0x01)); /* call $b */
    wj_trap_delete(trap);
    ck_assert_int_eq(block_trap_signals(false), 0);
    fx_close(&fx);
}
END_TEST

/* What the tests above rely on: a trap that does come through a signal (a
 * load in the guard region) kills the process while the signals are
 * blocked. */
START_TEST(guard_region_faults_take_a_signal)
{
    fixture fx;
    fx_open(&fx, kinds_wat, NULL);
    wj_func *load = fx_func(&fx, "load");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* the expected crash dumps nothing */
        wj_val arg = v_i32(70000), res;
        wj_trap *trap = NULL;
        if (block_trap_signals(true) == 0)
            wj_func_call(load, &arg, 1, &res, 1, &trap);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child: %s %d",
                  WIFEXITED(status) ? "exit" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    fx_close(&fx);
}
END_TEST

/* ==== packed loops ==================================================================== */

#include "axpy.h"

/* The bytes of the instance's memory "mem" (the loop modules export it). */
static uint8_t *exported_mem(const fixture *fx)
{
    wj_extern ext;
    ck_assert(wj_instance_export(fx->instance, "mem", 3, &ext));
    ck_assert_int_eq(ext.kind, WJ_EXTERN_MEMORY);
    ck_assert_uint_eq(wj_memory_data_size(ext.of.memory), 65536);
    return wj_memory_data(ext.of.memory);
}

/* Memory and the model both hold the same pattern of doubles. */
static void fill_pattern(uint8_t *mem, uint8_t *model, uint32_t period, double step)
{
    for (uint32_t a = 0; a < 65536; a += 8) {
        double v = (double)(a / 8 % period) * step - 17.0;
        memcpy(model + a, &v, 8);
    }
    memcpy(mem, model, 65536);
}

/* Memory matches the model, byte for byte. */
static void expect_model(const uint8_t *mem, const uint8_t *model, const char *name, size_t run)
{
    for (uint32_t a = 0; a < 65536; a += 8)
        ck_assert_msg(memcmp(mem + a, model + a, 8) == 0, "%s run %zu, address %#x", name, run, a);
}

/* The scalar loop on a copy of memory: false where it traps; *last gets
 * the last value stored. */
static bool axpy_model(uint8_t *mem, uint32_t d, uint32_t s, uint32_t n, double a, double *last)
{
    for (uint64_t off = 0; off < 16 * (uint64_t)n; off += 8) {
        uint64_t src = (uint32_t)(s + (uint32_t)off - (off & 8)) + (off & 8);
        uint64_t dst = (uint32_t)(d + (uint32_t)off - (off & 8)) + (off & 8);
        double x, y;
        if (src + 8 > 65536)
            return false;
        memcpy(&x, mem + src, 8);
        if (dst + 8 > 65536)
            return false;
        memcpy(&y, mem + dst, 8);
        y = a * x + y;
        memcpy(mem + dst, &y, 8);
        *last = y;
    }
    return true;
}

START_TEST(packed_loops_compute_and_trap_as_scalar_ones)
{
    fixture fx;
    fx_open_memories(&fx, axpy_wat, _i);
    static const struct {
        uint32_t d, s, n;
    } runs[] = {
        {0x1000, 0x2000, 64},  /* apart: the packed loop */
        {0x2000, 0x1000, 3},
        {0x1008, 0x1000, 16},  /* the second copy reads what the first wrote */
        {0x1000, 0x1008, 16},
        {0x1000, 0x1000, 8},   /* in place */
        {0x1004, 0x1000, 8},   /* overlapping halves */
        {0x1000, 0x1100, 32},  /* d's end meets s */
        {65536 - 16 * 4 + 8, 0x1000, 4}, /* the last second copy's load traps */
        {0x1000, 65536 - 16 * 4 + 8, 4},
        {0xfffffff0u, 0x1000, 2}, /* d + i wraps to 0: in bounds */
    };
    static uint8_t model[65536];
    static const char *const names[] = {"axpy", "axpy_down", "axpy_twice"};
    enum { NNAMES = sizeof names / sizeof *names };
    for (size_t k = 0; k < NNAMES * sizeof runs / sizeof *runs; k++) {
        size_t r = k / NNAMES;
        const char *name = names[k % NNAMES];
        uint8_t *mem = exported_mem(&fx);
        fill_pattern(mem, model, 251, 0.375);
        double last = 0;
        bool ok = axpy_model(model, runs[r].d, runs[r].s, runs[r].n, 1.5, &last);
        if (ok && k % NNAMES == 2)
            ok = axpy_model(model, runs[r].d, runs[r].s, runs[r].n, 2.5, &last);
        if (ok) {
            wj_val res[1];
            ck_assert_no_trap(fx_call(&fx, name,
                                      ARGS(v_i32((int32_t)runs[r].d), v_i32((int32_t)runs[r].s),
                                           v_i32((int32_t)runs[r].n), v_f64(1.5)),
                                      res));
            if (k % NNAMES == 1)
                ck_assert_msg(memcmp(&res[0].of.f64, &last, 8) == 0, "run %zu: %a, want %a", r,
                              res[0].of.f64, last);
        } else {
            EXPECT_TRAP(&fx, name, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access",
                        NOSITE,
                        ARGS(v_i32((int32_t)runs[r].d), v_i32((int32_t)runs[r].s),
                             v_i32((int32_t)runs[r].n), v_f64(1.5)));
        }
        expect_model(mem, model, name, r);
    }
    fx_close(&fx);
}
END_TEST

#include "colsum.h"

/* The scalar nest on a copy of memory (colsum.h): false where it traps.
 * kind: 0 colsum, 1 colacc, 2 rowsum. */
static bool colsum_model(uint8_t *mem, uint32_t a, uint32_t x, uint32_t y, uint32_t n, uint32_t m,
                         int kind)
{
    uint32_t col = kind == 2 ? 64 : 8, row = kind == 2 ? 8 : 64, ys = kind == 2 ? 16 : 8;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t yj = y + j * ys;
        double s = 0, u, v;
        if (kind == 1) {
            if ((uint64_t)yj + 8 > 65536)
                return false;
            memcpy(&s, mem + yj, 8);
        }
        for (uint32_t k = 0; k < m; k++) {
            uint32_t pa = a + j * col + k * row, px = x + k * 8;
            if ((uint64_t)pa + 8 > 65536)
                return false;
            memcpy(&u, mem + pa, 8);
            if ((uint64_t)px + 8 > 65536)
                return false;
            memcpy(&v, mem + px, 8);
            s = s + u * v;
        }
        if ((uint64_t)yj + 8 > 65536)
            return false;
        memcpy(mem + yj, &s, 8);
    }
    return true;
}

START_TEST(outer_loops_by_lanes_compute_and_trap_as_scalar_ones)
{
    fixture fx;
    fx_open_memories(&fx, colsum_wat, _i);
    static const struct {
        uint32_t a, x, y, n, m;
    } runs[] = {
        {0x1000, 0x3000, 0x3800, 8, 16},          /* apart: by lanes */
        {0x1000, 0x3000, 0x3800, 7, 16},          /* an odd count of columns */
        {0x1000, 0x3000, 0x3800, 4, 3},
        {0x1000, 0x3000, 0x1000 + 64 * 3, 8, 16}, /* y is a row of A read later */
        {0x1000, 0x3000, 0x3008, 8, 16},          /* y overlaps x */
        {0x1000, 0x3000, 0x2ffc, 8, 16},          /* by half an element */
        {65536 - 15 * 64 - 8 * 5, 0x1000, 0x3800, 8, 16}, /* column 5 leaves memory */
        {0x1000, 65536 - 8 * 15, 0x3800, 8, 16},  /* x's last element out */
        {0x1000, 0x3000, 65536 - 8 * 6, 8, 16},   /* y[6] out */
        {0xffffffc0u, 0x3000, 0x3800, 4, 2},      /* a wraps */
    };
    static const char *const names[] = {"colsum", "colacc", "rowsum"};
    enum { NNAMES = sizeof names / sizeof *names, NFIXED = sizeof runs / sizeof *runs };
    static uint8_t model[65536];
    /* the runs above, then random ones: addresses anywhere in memory, near
     * its end or near 2^32, apart or overlapping as they fall */
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t k = 0; k < NNAMES * (NFIXED + 40); k++) {
        size_t r = k / NNAMES;
        int kind = (int)(k % NNAMES);
        uint32_t arg[5];
        for (int i = 0; i < 5 && r >= NFIXED; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            uint32_t v = (uint32_t)(seed >> 16);
            if (i >= 3)
                arg[i] = 1 + v % (i == 3 ? 10 : 12);
            else if (v % 10 == 0)
                arg[i] = 65536 - (v >> 8) % 2048;
            else if (v % 10 == 1)
                arg[i] = 0u - (v >> 8) % 1024;
            else
                arg[i] = (v >> 8) % 65536 & (v % 5 ? ~7u : ~3u);
        }
        if (r < NFIXED)
            memcpy(arg, &runs[r], sizeof arg);
        uint8_t *mem = exported_mem(&fx);
        fill_pattern(mem, model, 241, 0.125);
        bool ok = colsum_model(model, arg[0], arg[1], arg[2], arg[3], arg[4], kind);
        const char *name = names[kind];
        wj_val args[5];
        for (int i = 0; i < 5; i++)
            args[i] = v_i32((int32_t)arg[i]);
        wj_trap *trap = fx_call(&fx, name, args, 5, NULL);
        if (ok)
            ck_assert_no_trap(trap);
        else
            ck_assert_msg(trap && wj_trap_code_of(trap) == WJ_TRAP_MEMORY_OUT_OF_BOUNDS,
                          "%s run %zu: no out of bounds trap", name, r);
        if (trap)
            wj_trap_delete(trap);
        expect_model(mem, model, name, r);
    }
    fx_close(&fx);
}
END_TEST

/* ==== the suite ======================================================================= */

static Suite *traps_suite(void)
{
    Suite *s = suite_create("traps");
    TCase *kinds = tcase_create("kinds");
    tcase_add_test(kinds, trap_unreachable);
    tcase_add_loop_test(kinds, trap_memory_out_of_bounds, 0, 2);
    tcase_add_test(kinds, trap_integer_divide_by_zero);
    tcase_add_test(kinds, trap_integer_overflow);
    tcase_add_test(kinds, trap_float_truncation_overflow);
    tcase_add_test(kinds, trap_invalid_conversion);
    tcase_add_test(kinds, trap_call_indirect);
    tcase_add_test(kinds, trap_table_out_of_bounds);
    tcase_add_loop_test(kinds, trap_bulk_memory_out_of_bounds, 0, 2);
    tcase_add_test(kinds, trap_call_stack_exhausted);
    suite_add_tcase(s, kinds);

    TCase *frames = tcase_create("backtraces");
    tcase_add_test(frames, backtrace_three_deep);
    tcase_add_test(frames, backtrace_func_offset);
    tcase_add_test(frames, backtrace_of_host_trap);
    tcase_add_test(frames, nested_host_wasm_calls);
    tcase_add_test(frames, backtrace_of_inlined_callees);
    tcase_add_test(frames, backtrace_of_interrupted_inlined_callee);
    suite_add_tcase(s, frames);

    TCase *threads = tcase_create("threads and signals");
    tcase_set_timeout(threads, 60);
    tcase_add_test(threads, traps_on_two_threads);
    tcase_add_test(threads, host_fault_chains_to_previous_handler);
    suite_add_tcase(s, threads);

    TCase *memory = tcase_create("memory bounds");
    /* the loop tests run hundreds of nests and traps: room on a busy machine */
    tcase_set_timeout(memory, 30);
    tcase_add_loop_test(memory, memory_bounds_each_width, 0, 2);
    tcase_add_loop_test(memory, memory_bounds_static_offsets, 0, 2);
    tcase_add_test(memory, memory_grow_limits);
    tcase_add_loop_test(memory, memory_moves_when_it_grows, 0, 2);
    tcase_add_loop_test(memory, memory64_bounds_and_offsets, 0, 2);
    tcase_add_loop_test(memory, memory64_offsets_near_2_64, 0, 2);
    tcase_add_loop_test(memory, multi_memory_loads_and_bulk, 0, 2);
    tcase_add_loop_test(memory, packed_loops_compute_and_trap_as_scalar_ones, 0, 2);
    tcase_add_loop_test(memory, outer_loops_by_lanes_compute_and_trap_as_scalar_ones, 0, 2);
    suite_add_tcase(s, memory);

    TCase *limits = tcase_create("limits and leaks");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, stack_limit_is_configurable);
    tcase_add_test(limits, stack_limit_within_small_thread_stacks);
    tcase_add_test(limits, stack_limit_with_frames_beyond_the_reserve);
    tcase_add_test(limits, create_trap_delete_loop);
    suite_add_tcase(s, limits);

    TCase *no_signal = tcase_create("explicit traps take no signal");
    tcase_add_test(no_signal, explicit_traps_take_no_signal);
    tcase_add_test(no_signal, explicit_bounds_checks_take_no_signal);
    tcase_add_loop_test(no_signal, folded_load_traps, 0, 3);
    tcase_add_test(no_signal, explicit_trap_backtraces_take_no_signal);
    tcase_add_test(no_signal, guard_region_faults_take_a_signal);
    suite_add_tcase(s, no_signal);
    return s;
}

int main(void)
{
    if (getenv(SIGCHAIN_ENV))
        return sigchain_child();
    return unit_run_tiers(traps_suite, &fx_tier);
}
