/* src/registry: the engine-wide type registry and the per-store code
 * registry, linked against libwasmjail-internal.la. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "registry/registry.h"
#include "unit.h"

enum { I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c };

static wasm_functype functype(const uint8_t *params, uint32_t nparams, const uint8_t *results,
                              uint32_t nresults)
{
    wasm_functype t = {.nparams = nparams, .nresults = nresults, .params = params,
                       .results = results};
    return t;
}

/* ---- type registry --------------------------------------------------------- */

START_TEST(equal_types_share_an_id)
{
    type_registry *r = type_registry_new();
    ck_assert_ptr_nonnull(r);
    /* equal contents in distinct buffers */
    uint8_t p1[] = {I32, I64}, p2[] = {I32, I64}, res1[] = {F32}, res2[] = {F32};
    wasm_functype a = functype(p1, 2, res1, 1), b = functype(p2, 2, res2, 1);
    uint32_t ia = type_registry_intern(r, &a), ib = type_registry_intern(r, &b);
    ck_assert_uint_ge(ia, 1);
    ck_assert_uint_ne(ia, UINT32_MAX);
    ck_assert_uint_eq(ia, ib);

    /* [] -> [] is a type like any other, and not id 0 */
    wasm_functype empty = functype(NULL, 0, NULL, 0);
    uint32_t ie = type_registry_intern(r, &empty);
    ck_assert_uint_ge(ie, 1);
    ck_assert_uint_ne(ie, ia);
    ck_assert_uint_eq(type_registry_intern(r, &empty), ie);
    type_registry_free(r);
}
END_TEST

START_TEST(different_types_differ)
{
    type_registry *r = type_registry_new();
    uint8_t i32[] = {I32}, i64[] = {I64}, two[] = {I32, I32};
    /* the same bytes split differently between params and results differ */
    wasm_functype types[] = {
        functype(i32, 1, NULL, 0),  functype(NULL, 0, i32, 1), functype(i64, 1, NULL, 0),
        functype(i32, 1, i32, 1),   functype(two, 2, NULL, 0), functype(NULL, 0, two, 2),
        functype(i32, 1, i64, 1),   functype(i64, 1, i32, 1),
    };
    enum { N = sizeof types / sizeof types[0] };
    uint32_t ids[N];
    for (int i = 0; i < N; i++) {
        ids[i] = type_registry_intern(r, &types[i]);
        ck_assert_uint_ge(ids[i], 1);
        for (int j = 0; j < i; j++)
            ck_assert_msg(ids[i] != ids[j], "types %d and %d share id %u", i, j, ids[i]);
    }
    /* (i32)->(i32) from other buffers is the same type */
    wasm_functype same = functype(two, 1, two + 1, 1);
    ck_assert_uint_eq(type_registry_intern(r, &same), ids[3]);
    type_registry_free(r);
}
END_TEST

START_TEST(references_keep_an_id_alive)
{
    type_registry *r = type_registry_new();
    uint8_t p[] = {F64}, q[] = {F32};
    wasm_functype a = functype(p, 1, NULL, 0), b = functype(q, 1, NULL, 0);
    uint32_t ia = type_registry_intern(r, &a);
    ck_assert_uint_eq(type_registry_intern(r, &a), ia); /* two references */
    uint32_t ib = type_registry_intern(r, &b);

    type_registry_release(r, ia); /* one left: still interned */
    ck_assert_uint_eq(type_registry_intern(r, &a), ia);
    type_registry_release(r, ia);
    type_registry_release(r, ia); /* none left: freed */

    /* the freed id is reused; b is untouched */
    wasm_functype c = functype(p, 1, p, 1);
    uint32_t ic = type_registry_intern(r, &c);
    ck_assert_uint_eq(ic, ia);
    ck_assert_uint_eq(type_registry_intern(r, &b), ib);
    /* a comes back as a new entry with another id */
    uint32_t ia2 = type_registry_intern(r, &a);
    ck_assert_uint_ne(ia2, ic);
    ck_assert_uint_ne(ia2, ib);
    ck_assert_uint_eq(type_registry_intern(r, &c), ic);

    /* what a zeroed slot or a failed intern holds: ignored */
    type_registry_release(r, 0);
    type_registry_release(r, UINT32_MAX);
    ck_assert_uint_eq(type_registry_intern(r, &b), ib);
    type_registry_free(r); /* frees entries that still have references */
}
END_TEST

/* Type i: i+1 params of i32/i64 by the bits of i, i % 3 results. */
static wasm_functype nth_type(uint8_t *buf, uint32_t i)
{
    uint32_t n = 1 + i % 37;
    for (uint32_t k = 0; k < n; k++)
        buf[k] = (i >> (k % 12)) & 1 ? I64 : I32;
    buf[n] = F32;
    buf[n + 1] = F64;
    return functype(buf, n, buf + n, i % 3);
}

START_TEST(many_types)
{
    /* enough to grow the hash table and the id array several times */
    enum { N = 5000 };
    type_registry *r = type_registry_new();
    uint32_t *ids = malloc(N * sizeof *ids);
    bool *seen = calloc(N + 1, sizeof *seen);
    uint8_t buf[64];
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < N; i++) {
        wasm_functype t = nth_type(buf, i);
        ids[i] = type_registry_intern(r, &t);
        ck_assert_uint_ge(ids[i], 1);
        ck_assert_uint_le(ids[i], N);
        if (!seen[ids[i]])
            distinct++;
        seen[ids[i]] = true;
    }
    /* interning again finds every one; equal types got equal ids */
    for (uint32_t i = 0; i < N; i++) {
        wasm_functype t = nth_type(buf, i);
        ck_assert_uint_eq(type_registry_intern(r, &t), ids[i]);
        for (uint32_t j = i + 1; j < N && j < i + 50; j++) {
            uint8_t other[64];
            wasm_functype u = nth_type(other, j);
            bool equal = t.nparams == u.nparams && t.nresults == u.nresults &&
                         memcmp(t.params, u.params, t.nparams + t.nresults) == 0;
            ck_assert_int_eq(equal, ids[i] == ids[j]);
        }
    }
    ck_assert_uint_gt(distinct, N / 2);
    /* dropping everything frees every entry (valgrind checks) and the ids
     * come back dense */
    for (uint32_t i = 0; i < N; i++) {
        type_registry_release(r, ids[i]);
        type_registry_release(r, ids[i]);
    }
    wasm_functype t = functype(NULL, 0, NULL, 0);
    ck_assert_uint_le(type_registry_intern(r, &t), distinct);
    free(ids);
    free(seen);
    type_registry_free(r);
}
END_TEST

struct intern_job {
    type_registry *r;
    uint32_t ids[200];
};

static void *intern_worker(void *arg)
{
    struct intern_job *job = arg;
    uint8_t buf[64];
    for (int round = 0; round < 50; round++)
        for (uint32_t i = 0; i < 200; i++) {
            wasm_functype t = nth_type(buf, i);
            uint32_t id = type_registry_intern(job->r, &t);
            if (round == 0)
                job->ids[i] = id;
            else if (id != job->ids[i])
                job->ids[i] = 0; /* reported by the main thread */
            if (round > 0)
                type_registry_release(job->r, id);
        }
    return NULL;
}

START_TEST(concurrent_interning)
{
    type_registry *r = type_registry_new();
    enum { T = 4 };
    pthread_t threads[T];
    struct intern_job jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t].r = r;
        ck_assert_int_eq(pthread_create(&threads[t], NULL, intern_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < T; t++)
        pthread_join(threads[t], NULL);
    /* every thread kept one reference per type, so the ids never changed
     * under it, and all threads agree */
    for (uint32_t i = 0; i < 200; i++) {
        ck_assert_uint_ne(jobs[0].ids[i], 0);
        for (int t = 1; t < T; t++)
            ck_assert_uint_eq(jobs[t].ids[i], jobs[0].ids[i]);
    }
    type_registry_free(r);
}
END_TEST

/* ---- code registry --------------------------------------------------------- */

/* A compiled_code mapping [base, base + size) of a static buffer: the
 * registry only looks at the addresses. Its range is the whole mapping
 * (tiered execution adds code past code_size). */
static uint8_t arena[4096];

static compiled_code code_at(size_t offset, size_t size)
{
    compiled_code c = {.code = arena + offset, .code_size = size / 2 + 1, .map_size = size};
    return c;
}

START_TEST(code_lookup_boundaries)
{
    code_registry *r = code_registry_new();
    ck_assert_ptr_nonnull(r);
    uintptr_t base = (uintptr_t)arena;
    ck_assert_ptr_null(code_registry_lookup(r, base)); /* empty */

    /* inserted out of order, with a gap between b and c and none between a
     * and b */
    compiled_code a = code_at(100, 100), b = code_at(200, 50), c = code_at(1000, 24);
    int owner_a, owner_b, owner_c;
    ck_assert(code_registry_insert(r, &c, &owner_c));
    ck_assert(code_registry_insert(r, &a, &owner_a));
    ck_assert(code_registry_insert(r, &b, &owner_b));

    struct {
        size_t offset;
        const compiled_code *want;
    } probes[] = {
        {0, NULL},   {99, NULL}, {100, &a}, {150, &a},  {199, &a},   {200, &b},
        {249, &b},   {250, NULL}, {999, NULL}, {1000, &c}, {1023, &c}, {1024, NULL},
        {4095, NULL},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const code_range *got = code_registry_lookup(r, base + probes[i].offset);
        if (!probes[i].want) {
            ck_assert_msg(got == NULL, "offset %zu: found a range", probes[i].offset);
            continue;
        }
        ck_assert_msg(got && got->code == probes[i].want, "offset %zu: wrong range",
                      probes[i].offset);
        ck_assert_uint_eq(got->start, (uintptr_t)probes[i].want->code);
        ck_assert_uint_eq(got->end, got->start + probes[i].want->map_size);
    }
    ck_assert_ptr_eq(code_registry_lookup(r, base + 100)->owner, &owner_a);
    ck_assert_ptr_eq(code_registry_lookup(r, base + 1010)->owner, &owner_c);
    ck_assert_ptr_null(code_registry_lookup(r, 0));
    ck_assert_ptr_null(code_registry_lookup(r, UINTPTR_MAX));
    code_registry_free(r);
}
END_TEST

START_TEST(code_insert_is_idempotent_per_owner)
{
    code_registry *r = code_registry_new();
    compiled_code a = code_at(0, 64), other = code_at(64, 64);
    int owner;
    ck_assert(code_registry_insert(r, &a, &owner));
    ck_assert(code_registry_insert(r, &a, &owner));
    /* the owner is registered: a second insertion changes nothing */
    ck_assert(code_registry_insert(r, &other, &owner));
    ck_assert_ptr_null(code_registry_lookup(r, (uintptr_t)arena + 64));
    const code_range *got = code_registry_lookup(r, (uintptr_t)arena + 10);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_eq(got->code, &a);

    /* a module without code has no addresses */
    compiled_code none = {0};
    int empty_owner;
    ck_assert(code_registry_insert(r, &none, &empty_owner));
    ck_assert_ptr_eq(code_registry_lookup(r, (uintptr_t)arena + 10)->code, &a);
    code_registry_free(r);
    code_registry_free(NULL);
}
END_TEST

START_TEST(code_many_ranges)
{
    /* 1000 ranges of 3 bytes with 1-byte gaps, inserted in a scrambled
     * order; every byte looked up */
    enum { N = 1000 };
    static uint8_t big[4 * N];
    compiled_code *codes = malloc(N * sizeof *codes);
    code_registry *r = code_registry_new();
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = (k * 7919) % N;
        codes[i] = (compiled_code){.code = big + 4 * i, .code_size = 3, .map_size = 3};
        ck_assert(code_registry_insert(r, &codes[i], &codes[i]));
    }
    for (uint32_t at = 0; at < 4 * N; at++) {
        const code_range *got = code_registry_lookup(r, (uintptr_t)big + at);
        if (at % 4 == 3) {
            ck_assert_ptr_null(got);
        } else {
            ck_assert_ptr_nonnull(got);
            ck_assert_ptr_eq(got->code, &codes[at / 4]);
            ck_assert_ptr_eq(got->owner, &codes[at / 4]);
        }
    }
    code_registry_free(r);
    free(codes);
}
END_TEST

/* ---- compiled_trap_at, compiled_frames (src/compiler/lookup.c) ---------- */

/* The innermost frame at offset, where there is one. */
static bool locate(const compiled_code *c, uint32_t offset, uint32_t *func, uint32_t *wasm)
{
    compiled_frame f;
    if (compiled_frames(c, offset, &f, 1) == 0)
        return false;
    *func = f.func;
    *wasm = f.wasm;
    return true;
}

START_TEST(trap_table_lookup)
{
    compiled_trap traps[] = {{3, 1}, {10, 2}, {11, 4}, {400, 10}};
    compiled_code c = {.code_size = 500, .ntraps = 4, .traps = traps};
    ck_assert_uint_eq(compiled_trap_at(&c, 3), 1);
    ck_assert_uint_eq(compiled_trap_at(&c, 10), 2);
    ck_assert_uint_eq(compiled_trap_at(&c, 11), 4);
    ck_assert_uint_eq(compiled_trap_at(&c, 400), 10);
    uint32_t misses[] = {0, 2, 4, 9, 12, 399, 401, UINT32_MAX};
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
        ck_assert_uint_eq(compiled_trap_at(&c, misses[i]), 0);
    compiled_code none = {.code_size = 500};
    ck_assert_uint_eq(compiled_trap_at(&none, 3), 0);
}
END_TEST

START_TEST(locate_function_and_wasm_offset)
{
    /* three functions: [16, 100), [100, 180), [180, 300) after 16 bytes of
     * stubs; the second has no map entries */
    uint32_t starts[] = {16, 100, 180};
    compiled_addr addrs[] = {{20, 0x30}, {60, 0x38}, {190, 0x90}, {250, 0x99}};
    compiled_code c = {.code_size = 300, .first_func = 5, .nfuncs = 3, .func_starts = starts,
                       .naddrs = 4, .addrs = addrs};
    struct {
        uint32_t offset;
        bool found;
        uint32_t func, wasm;
    } probes[] = {
        {0, false, 0, 0},      {15, false, 0, 0},     {16, true, 5, 0},
        {19, true, 5, 0},      {20, true, 5, 0x30},   {59, true, 5, 0x30},
        {60, true, 5, 0x38},   {99, true, 5, 0x38},   {100, true, 6, 0},
        {150, true, 6, 0},     {179, true, 6, 0},     {180, true, 7, 0},
        {190, true, 7, 0x90},  {249, true, 7, 0x90},  {250, true, 7, 0x99},
        {299, true, 7, 0x99},  {300, false, 0, 0},    {UINT32_MAX, false, 0, 0},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint32_t func = 0xdead, wasm = 0xbeef;
        bool found = locate(&c, probes[i].offset, &func, &wasm);
        ck_assert_msg(found == probes[i].found, "offset %u: found %d", probes[i].offset, found);
        if (found)
            ck_assert_msg(func == probes[i].func && wasm == probes[i].wasm,
                          "offset %u: func %u wasm %#x, want func %u wasm %#x",
                          probes[i].offset, func, wasm, probes[i].func, probes[i].wasm);
    }
    compiled_code empty = {.code_size = 0};
    uint32_t func, wasm;
    ck_assert(!locate(&empty, 0, &func, &wasm));
}
END_TEST

/* Tiered execution's pieces past the code: [600, 700) and [4096, 4200),
 * two more functions' code with their own tables; the first piece maps
 * a call as no wasm frame (an on-stack replacement's caller). */
START_TEST(lookup_in_pieces)
{
    uint32_t starts[] = {16};
    compiled_addr addrs[] = {{20, 0x30}};
    compiled_trap piece0_traps[] = {{650, 3}}, piece1_traps[] = {{4100, 7}};
    compiled_addr piece0_addrs[] = {{650, 0x44}, {660, COMPILED_NO_FRAME}};
    compiled_addr piece1_addrs[] = {{4100, 0x55}};
    compiled_piece pieces[] = {
        {.start = 600, .end = 700, .func = 9, .ntraps = 1, .naddrs = 2,
         .traps = piece0_traps, .addrs = piece0_addrs},
        {.start = 4096, .end = 4200, .func = 8, .ntraps = 1, .naddrs = 1,
         .traps = piece1_traps, .addrs = piece1_addrs},
    };
    compiled_extra extra = {.cap = 2, .pieces = pieces};
    atomic_init(&extra.npieces, 2);
    compiled_code c = {.code_size = 300, .map_size = 8192, .first_func = 5, .nfuncs = 1,
                       .func_starts = starts, .naddrs = 1, .addrs = addrs, .extra = &extra};
    ck_assert_uint_eq(compiled_trap_at(&c, 650), 3);
    ck_assert_uint_eq(compiled_trap_at(&c, 4100), 7);
    ck_assert_uint_eq(compiled_trap_at(&c, 651), 0);
    ck_assert_uint_eq(compiled_trap_at(&c, 800), 0); /* between pieces */
    uint32_t func = 0, wasm = 0;
    ck_assert(locate(&c, 20, &func, &wasm));
    ck_assert(func == 5 && wasm == 0x30);
    ck_assert(locate(&c, 655, &func, &wasm));
    ck_assert(func == 9 && wasm == 0x44);
    ck_assert(locate(&c, 4150, &func, &wasm));
    ck_assert(func == 8 && wasm == 0x55);
    ck_assert(!locate(&c, 660, &func, &wasm)); /* no wasm frame */
    ck_assert(!locate(&c, 500, &func, &wasm));
    ck_assert(!locate(&c, 700, &func, &wasm));
    /* a piece not published yet is not found */
    atomic_store(&extra.npieces, 1);
    ck_assert(!locate(&c, 4150, &func, &wasm));
    ck_assert_uint_eq(compiled_trap_at(&c, 4100), 0);
}
END_TEST

/* Inlined code: the address map names inline entries, each a frame above
 * its call's (itself inlined, for entry 2); a piece has its own table. */
START_TEST(frames_of_inlined_code)
{
    uint32_t starts[] = {16, 100};
    compiled_inline inlines[] = {{3, 0x200, 0x40}, {3, 0x208, 0x48}, {2, 0x300, COMPILED_INLINED | 1}};
    compiled_addr addrs[] = {{20, 0x30}, {30, COMPILED_INLINED | 0}, {40, COMPILED_INLINED | 2},
                             {120, COMPILED_INLINED | 1}};
    compiled_inline piece_inlines[] = {{4, 0x400, 0x60}};
    compiled_addr piece_addrs[] = {{650, COMPILED_INLINED | 0}};
    compiled_piece pieces[] = {{.start = 600, .end = 700, .func = 9, .naddrs = 1, .ninlines = 1,
                                .addrs = piece_addrs, .inlines = piece_inlines}};
    compiled_extra extra = {.cap = 1, .pieces = pieces};
    atomic_init(&extra.npieces, 1);
    compiled_code c = {.code_size = 300, .map_size = 4096, .first_func = 5, .nfuncs = 2,
                       .func_starts = starts, .naddrs = 4, .addrs = addrs, .ninlines = 3,
                       .inlines = inlines, .extra = &extra};
    compiled_frame f[4];
    ck_assert_uint_eq(compiled_frames(&c, 20, f, 4), 1);
    ck_assert(f[0].func == 5 && f[0].wasm == 0x30);
    ck_assert_uint_eq(compiled_frames(&c, 30, f, 4), 2);
    ck_assert(f[0].func == 3 && f[0].wasm == 0x200 && f[1].func == 5 && f[1].wasm == 0x40);
    ck_assert_uint_eq(compiled_frames(&c, 40, f, 4), 3);
    ck_assert(f[0].func == 2 && f[0].wasm == 0x300 && f[1].func == 3 && f[1].wasm == 0x208 &&
              f[2].func == 5 && f[2].wasm == 0x48);
    ck_assert_uint_eq(compiled_frames(&c, 125, f, 4), 2);
    ck_assert(f[0].func == 3 && f[0].wasm == 0x208 && f[1].func == 6 && f[1].wasm == 0x48);
    ck_assert_uint_eq(compiled_frames(&c, 650, f, 4), 2);
    ck_assert(f[0].func == 4 && f[0].wasm == 0x400 && f[1].func == 9 && f[1].wasm == 0x60);
    /* a count without room for the frames; only max are written */
    ck_assert_uint_eq(compiled_frames(&c, 40, NULL, 0), 3);
    f[1].func = 77;
    ck_assert_uint_eq(compiled_frames(&c, 40, f, 1), 3);
    ck_assert(f[0].func == 2 && f[1].func == 77);
    /* without inline entries an offset with the top bit is an offset */
    compiled_code plain = c;
    plain.ninlines = 0;
    ck_assert_uint_eq(compiled_frames(&plain, 30, f, 4), 1);
    ck_assert(f[0].func == 5 && f[0].wasm == (COMPILED_INLINED | 0));
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *types = tcase_create("types");
    tcase_add_test(types, equal_types_share_an_id);
    tcase_add_test(types, different_types_differ);
    tcase_add_test(types, references_keep_an_id_alive);
    tcase_add_test(types, many_types);
    tcase_add_test(types, concurrent_interning);
    tcase_set_timeout(types, 60); /* valgrind */
    suite_add_tcase(s, types);
    TCase *code = tcase_create("code");
    tcase_add_test(code, code_lookup_boundaries);
    tcase_add_test(code, code_insert_is_idempotent_per_owner);
    tcase_add_test(code, code_many_ranges);
    suite_add_tcase(s, code);
    TCase *lookup = tcase_create("lookup");
    tcase_add_test(lookup, trap_table_lookup);
    tcase_add_test(lookup, locate_function_and_wasm_offset);
    tcase_add_test(lookup, lookup_in_pieces);
    tcase_add_test(lookup, frames_of_inlined_code);
    suite_add_tcase(s, lookup);
    return s;
}

int main(void)
{
    return unit_run(registry_suite());
}
