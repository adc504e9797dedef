/* The v128 sequences on registers (src/compiler/vops.h), called directly:
 * each test emits one sequence with vop_emit on registers it chooses (high
 * xmm and GPR numbers, REX-encoded), wrapped in a stub
 *
 *     movdqu a, [rdi]; movdqu b, [rsi]; mov count, rcx; <sequence>;
 *     movdqu [rdx], result; ret
 *
 * with the function's constant pool after it, runs it on 16-byte inputs
 * and compares every lane with the spec's result. t and g are given only
 * when vop_needs asks for them (-1 otherwise), so a sequence using one it
 * did not ask for fails. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "compiler/vops.h"
#include "unit.h"

typedef union vec {
    uint8_t b[16];
    int8_t sb[16];
    uint32_t d[4];
    float f[4];
    uint64_t q[2];
    int64_t sq[2];
} vec;

/* Registers of one test: operands a and b (b an xmm, or a GPR for a shift
 * count), and the t and g given when asked for. */
typedef struct regs {
    int a, b, t, g;
    bool b_gpr;
} regs;

typedef void stub_fn(const vec *a, const vec *b, vec *out, uint64_t count);

/* Emits sub-opcode `op` in the stub, runs it on a, b (count: a register
 * shift count) and returns the result; *where is what vop_emit returned. */
static vec run(uint32_t op, const uint8_t *shuffle, regs rg, vec a, vec b, uint64_t count,
               int *where)
{
    codebuf cb = {0};
    vpool pool = {0};
    unsigned needs = vop_needs(op, false);
    vop_regs r = {.a = rg.a, .b = rg.b, .c = -1, .t = needs & VOP_NEEDS_XMM ? rg.t : -1,
                  .g = needs & VOP_NEEDS_GPR ? rg.g : -1};
    x86_movdqu_load(&cb, rg.a, M_(RDI, 0)); /* movdqu a, [rdi] */
    if (rg.b_gpr)
        x86_mov_rr(&cb, SZ64, rg.b, R_(RCX)); /* mov b, rcx */
    else
        x86_movdqu_load(&cb, rg.b, M_(RSI, 0)); /* movdqu b, [rsi] */
    if (op == 0x0d && vop_shuffle_sources(shuffle) != 3) /* the other is not read */
        *(vop_shuffle_sources(shuffle) == 1 ? &r.b : &r.a) = -1;
    *where = vop_emit(&cb, &pool, op, 0, shuffle, &r);
    ck_assert_int_ge(*where, 0);
    ck_assert(!VOP_IS_FLAGS(*where));
    x86_movdqu_store(&cb, M_(RDX, 0), *where); /* movdqu [rdx], result */
    x86_ret(&cb);
    vpool_finish(&pool, &cb);
    ck_assert(!cb.oom && !pool.oom);
    /* Page-aligned, so the pool's 16-byte alignment in the buffer holds. */
    void *code = mmap(NULL, cb.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(code != MAP_FAILED);
    memcpy(code, cb.p, cb.len);
    ck_assert_int_eq(mprotect(code, cb.len, PROT_READ | PROT_EXEC), 0);
    vec out;
    ((stub_fn *)code)(&a, &b, &out, count);
    munmap(code, cb.len);
    cb_free(&cb);
    vpool_free(&pool);
    return out;
}

static vec q2(uint64_t lo, uint64_t hi)
{
    vec v = {.q = {lo, hi}};
    return v;
}

START_TEST(i64x2_mul)
{
    regs rg = {.a = 8, .b = 9, .t = 12};
    vec a = q2(0x123456789abcdef0, UINT64_MAX), b = q2(0xfedcba9876543211, 0x8000000000000003);
    int where;
    vec r = run(0xd5, NULL, rg, a, b, 0, &where);
    ck_assert_int_eq(where, 8);
    ck_assert_uint_eq(r.q[0], a.q[0] * b.q[0]);
    ck_assert_uint_eq(r.q[1], a.q[1] * b.q[1]);
}
END_TEST

START_TEST(i8x16_popcnt)
{
    regs rg = {.a = 13, .b = 14, .t = 8};
    vec a;
    for (int i = 0; i < 16; i++)
        a.b[i] = (uint8_t)(i * 37 + 0x0f);
    a.b[3] = 0xff, a.b[4] = 0;
    int where;
    vec r = run(0x62, NULL, rg, a, a, 0, &where);
    ck_assert_int_eq(where, 13);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(r.b[i], (unsigned)__builtin_popcount(a.b[i]));
}
END_TEST

/* The result comes back in operand b's register. */
START_TEST(f32x4_min)
{
    regs rg = {.a = 9, .b = 14};
    vec a = {.f = {-0.0f, 1.5f, NAN, -3.0f}}, b = {.f = {0.0f, -2.0f, 1.0f, NAN}};
    a.d[2] = 0x7fa00001; /* a signalling NaN with a payload */
    int where;
    vec r = run(0xe8, NULL, rg, a, b, 0, &where);
    ck_assert_int_eq(where, 14);
    ck_assert_uint_eq(r.d[0], 0x80000000); /* -0 below +0 */
    ck_assert(r.f[1] == -2.0f);
    ck_assert_uint_eq(r.d[2] & 0x7fffffff, 0x7fc00000); /* canonical NaNs */
    ck_assert_uint_eq(r.d[3] & 0x7fffffff, 0x7fc00000);
}
END_TEST

/* SSE4.1 has no pcmpgtq: high dwords equal and low ones decide, with the
 * low dwords compared unsigned. */
START_TEST(i64x2_gt_s)
{
    regs rg = {.a = 10, .b = 11, .t = 13};
    vec a = q2(0x00000001ffffffff, 0xffffffff00000000);
    vec b = q2(0x0000000100000000, 0x0000000000000001);
    int where;
    vec r = run(0xd9, NULL, rg, a, b, 0, &where); /* gt_s */
    ck_assert_int_eq(where, 10);
    ck_assert_uint_eq(r.q[0], UINT64_MAX);
    ck_assert_uint_eq(r.q[1], 0);
    r = run(0xd8, NULL, rg, a, b, 0, &where); /* lt_s: in b's register */
    ck_assert_int_eq(where, 11);
    ck_assert_uint_eq(r.q[0], 0);
    ck_assert_uint_eq(r.q[1], UINT64_MAX);
}
END_TEST

/* i8x16.shr_s by a register count, taken modulo 8. */
START_TEST(i8x16_shr_s_by_register)
{
    regs rg = {.a = 12, .b = R10, .t = 9, .b_gpr = true};
    vec a;
    for (int i = 0; i < 16; i++)
        a.b[i] = (uint8_t)(i * 29 + 0x81);
    int where;
    vec r = run(0x6c, NULL, rg, a, a, 11, &where);
    ck_assert_int_eq(where, 12);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(r.sb[i], a.sb[i] >> 3);
}
END_TEST

/* Two sources: a byte pattern (pshufb twice and por), and a rotation
 * (palignr) whose result is in b's register. */
START_TEST(i8x16_shuffle_two)
{
    regs rg = {.a = 8, .b = 14};
    vec a, b;
    for (int i = 0; i < 16; i++)
        a.b[i] = (uint8_t)i, b.b[i] = (uint8_t)(16 + i);
    static const uint8_t mixed[16] = {31, 0, 17, 2, 5, 30, 16, 16, 1, 9, 20, 3, 3, 27, 15, 8};
    static const uint8_t rotated[16] = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    ck_assert_uint_eq(vop_shuffle_sources(mixed), 3);
    int where;
    vec r = run(0x0d, mixed, rg, a, b, 0, &where);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(r.b[i], mixed[i]);
    r = run(0x0d, rotated, rg, a, b, 0, &where);
    ck_assert_int_eq(where, 14);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(r.b[i], rotated[i]);
}
END_TEST

/* One source: the other operand is not read (it may be -1). */
START_TEST(i8x16_shuffle_one)
{
    regs rg = {.a = 11, .b = 12};
    vec a, b;
    for (int i = 0; i < 16; i++)
        a.b[i] = (uint8_t)(0x40 + i), b.b[i] = (uint8_t)(0x80 + i);
    static const uint8_t from_b[16] = {31, 30, 29, 28, 16, 17, 18, 19, 20, 20, 20, 20, 25, 24, 23, 22};
    ck_assert_uint_eq(vop_shuffle_sources(from_b), 2);
    int where;
    vec r = run(0x0d, from_b, rg, a, b, 0, &where);
    ck_assert_int_eq(where, 12);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(r.b[i], b.b[from_b[i] - 16]);
}
END_TEST

/* The one-instruction ops are what vop_emit emits for them. */
START_TEST(binary_insn)
{
    uint8_t prefix;
    uint32_t opcode;
    ck_assert(vop_binary_insn(0xe4, &prefix, &opcode)); /* f32x4.add: addps */
    ck_assert_uint_eq(prefix, 0);
    ck_assert_uint_eq(opcode, 0x58);
    ck_assert(vop_binary_insn(0xb5, &prefix, &opcode)); /* i32x4.mul: pmulld */
    ck_assert_uint_eq(prefix, 0x66);
    ck_assert_uint_eq(opcode, 0x3840);
    ck_assert(!vop_binary_insn(0xd5, &prefix, &opcode)); /* i64x2.mul: a sequence */
    regs rg = {.a = 13, .b = 8};
    vec a = {.d = {1, 2, 0xffffffff, 7}}, b = {.d = {10, 20, 3, 0x80000000}};
    int where;
    vec r = run(0xb5, NULL, rg, a, b, 0, &where);
    ck_assert_int_eq(where, 13);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(r.d[i], a.d[i] * b.d[i]);
}
END_TEST

/* The pool: equal values share an entry, entries start 16-byte aligned
 * after the code, each reference reads its entry; then the pool is empty
 * for the next function, whose entries are numbered from 0 again. */
START_TEST(pool_layout)
{
    codebuf cb = {0};
    vpool pool = {0};
    v128 ones = vop_bytes(1), words = vop_i16(0x8000);
    cb_u8(&cb, 0x90);                                  /* nop */
    vpool_op(&pool, &cb, 0x66, 0xdb, 9, ones);         /* pand xmm9, [ones] */
    vpool_op(&pool, &cb, 0x66, 0xdb, 12, words);       /* pand xmm12, [words] */
    vpool_op(&pool, &cb, 0x66, 0xdb, 3, ones);         /* pand xmm3, [ones] */
    ck_assert_uint_eq(pool.n, 2);
    uint32_t refs[3];
    for (int i = 0; i < 3; i++)
        refs[i] = pool.refs[i].at;
    uint32_t code_end = cb.len;
    vpool_finish(&pool, &cb);
    uint32_t start = (code_end + 15) & ~15u;
    ck_assert_uint_eq(cb.len, start + 32);
    ck_assert_mem_eq(cb.p + start, ones.b, 16);
    ck_assert_mem_eq(cb.p + start + 16, words.b, 16);
    static const uint32_t entry[3] = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
        int32_t disp;
        memcpy(&disp, cb.p + refs[i], 4);
        ck_assert_uint_eq(refs[i] + 4 + (uint32_t)disp, start + 16 * entry[i]);
    }
    ck_assert_uint_eq(pool.n + pool.nrefs, 0);
    ck_assert_uint_eq(vpool_index(&pool, words), 0);
    ck_assert(!pool.oom);
    cb_free(&cb);
    vpool_free(&pool);
}
END_TEST

/* realloc fails while this is set (the pool grows with realloc); else the
 * next one does the work: the C library's, or a sanitizer's, which owns the
 * blocks when it is there (the C library's own realloc would not know them). */
static bool realloc_fails;
void *realloc(void *p, size_t n)
{
    static void *(*next)(void *, size_t);
    if (!next)
        next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    return realloc_fails ? NULL : next(p, n);
}

/* Out of memory: the pool says so in oom, which its owner checks, and
 * stays usable: finished, cleared for the next function, freed. */
START_TEST(pool_out_of_memory)
{
    codebuf cb = {0};
    vpool pool = {0};
    cb_grow(&cb, 64);
    realloc_fails = true;
    vpool_op(&pool, &cb, 0x66, 0xdb, 9, vop_bytes(0x0f)); /* pand xmm9, [0x0f...] */
    realloc_fails = false;
    ck_assert(pool.oom);
    ck_assert_uint_eq(pool.n, 0);
    vpool_finish(&pool, &cb);
    ck_assert(pool.oom);
    vpool_clear(&pool);
    ck_assert(!pool.oom);
    ck_assert_uint_eq(vpool_index(&pool, vop_bytes(2)), 0);
    ck_assert(!pool.oom);
    cb_free(&cb);
    vpool_free(&pool);
}
END_TEST

static Suite *vops_suite(void)
{
    Suite *s = suite_create("vops");
    TCase *tc = tcase_create("sequences");
    tcase_add_test(tc, i64x2_mul);
    tcase_add_test(tc, i8x16_popcnt);
    tcase_add_test(tc, f32x4_min);
    tcase_add_test(tc, i64x2_gt_s);
    tcase_add_test(tc, i8x16_shr_s_by_register);
    tcase_add_test(tc, i8x16_shuffle_two);
    tcase_add_test(tc, i8x16_shuffle_one);
    tcase_add_test(tc, binary_insn);
    tcase_add_test(tc, pool_layout);
    tcase_add_test(tc, pool_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(vops_suite());
}
