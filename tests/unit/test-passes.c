/* Tier 2's optimization passes (src/opt/passes.h): each test builds a
 * function written in the text format, runs the passes up to the one it
 * tests (ir_verify after each) and checks the IR: what was folded, what
 * stayed because it may trap or is not exact, how many operations GVN
 * left, which block LICM moved an instruction to, which multiplies IVSR
 * turned into stepped variables, which accesses BCE proved in bounds, what
 * jump threading copied and merged; and that the back end fuses a
 * read-modify-write (its trap sites). A corpus test runs every pass over
 * the benchmark modules and verifies after each. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axpy.h"
#include "corpus.h"
#include "opt/opt.h"
#include "opt/passes.h"
#include "unit.h"
#include "wasm/module.h"
#include "wat.h"

static void verify(ir_func *f, const char *after)
{
    const char *bad = ir_verify(f);
    if (bad) {
        ir_print(f, stderr);
        ck_abort_msg("after %s: %s", after, bad);
    }
}

enum { SIMPLIFY = 1, GVN, LICM, IVSR, THREAD, VECTORIZE, BCE };

/* Builds function `func` and runs the passes up to `last`. */
static void optimize(ir_func *f, const wasm_module *m, uint32_t func, int last)
{
    const char *why = NULL;
    ck_assert_msg(ir_build(f, m, func, &why), "function %u declined: %s", func, why);
    verify(f, "ir_build");
    ir_dom d;
    ck_assert(ir_dominators(f, &d));
    ck_assert(opt_simplify(f, &d));
    verify(f, "opt_simplify");
    if (last >= GVN) {
        ck_assert(opt_gvn(f, &d));
        verify(f, "opt_gvn");
    }
    if (last >= LICM) {
        ck_assert(opt_licm(f, &d));
        verify(f, "opt_licm");
    }
    if (last >= IVSR) {
        ck_assert(opt_ivsr(f, &d));
        verify(f, "opt_ivsr");
    }
    ir_dom_free(&d);
    if (last >= THREAD) {
        bool changed;
        ck_assert(opt_thread(f, &changed));
        verify(f, "opt_thread");
        if (changed) {
            ck_assert(ir_dominators(f, &d));
            opt_mark_loops(f, &d);
            ck_assert(opt_simplify(f, &d));
            ir_dom_free(&d);
            verify(f, "opt_simplify");
        }
        ck_assert(opt_fold_branches(f));
        verify(f, "opt_fold_branches");
    }
    if (last >= VECTORIZE) {
        bool changed;
        ck_assert(opt_vectorize_outer(f, &changed));
        verify(f, "opt_vectorize_outer");
        ck_assert(opt_vectorize(f, &changed));
        verify(f, "opt_vectorize");
    }
    if (last >= BCE) {
        ck_assert(ir_dominators(f, &d));
        ck_assert(opt_bce(f, &d));
        ir_dom_free(&d);
        verify(f, "opt_bce");
    }
}

/* The live instruction of operator `op` (there must be one). */
static ir_inst *only(ir_func *f, uint16_t op)
{
    ck_assert_uint_eq(test_count_op(f, op), 1);
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            if (ir_at(f, r)->op == op)
                return ir_at(f, r);
    return NULL;
}

/* The value the function returns. */
static ir_inst *returned(ir_func *f) { return ir_at(f, only(f, WASM_OP_RETURN)->args[0]); }

/* Each function returns one folded expression; the expected constant. */
static const struct {
    const char *expr;
    uint64_t bits;
} folds[] = {
    {"(i32.add (i32.const 0x7fffffff) (i32.const 1))", 0x80000000},
    {"(i32.mul (i32.const 0x10001) (i32.const 0x10001))", 0x20001},
    {"(i32.sub (i32.const 1) (i32.const 2))", 0xffffffff},
    {"(i32.shl (i32.const 1) (i32.const 33))", 2},
    {"(i32.shr_s (i32.const -8) (i32.const 34))", 0xfffffffe},
    {"(i32.shr_u (i32.const -8) (i32.const 34))", 0x3ffffffe},
    {"(i32.rotl (i32.const 0x80000001) (i32.const 33))", 3},
    {"(i32.rotr (i32.const 1) (i32.const 1))", 0x80000000},
    {"(i32.div_s (i32.const -7) (i32.const 2))", 0xfffffffd},
    {"(i32.rem_s (i32.const -7) (i32.const 2))", 0xffffffff},
    {"(i32.rem_s (i32.const 0x80000000) (i32.const -1))", 0},
    {"(i32.div_u (i32.const -7) (i32.const 2))", 0x7ffffffc},
    {"(i32.clz (i32.const 1))", 31},
    {"(i32.ctz (i32.const 0))", 32},
    {"(i32.popcnt (i32.const -1))", 32},
    {"(i32.lt_s (i32.const -1) (i32.const 0))", 1},
    {"(i32.lt_u (i32.const -1) (i32.const 0))", 0},
    {"(i32.eqz (i32.const 0))", 1},
    {"(i32.extend8_s (i32.const 0x80))", 0xffffff80},
    {"(i32.wrap_i64 (i64.const 0x100000005))", 5},
    {"(i64.gt_s (i64.const -1) (i64.const 1))", 0},
    {"(i32.wrap_i64 (i64.shl (i64.const 1) (i64.const 65)))", 2},
    {"(i32.wrap_i64 (i64.shr_u (i64.extend_i32_s (i32.const -1)) (i64.const 32)))",
     0xffffffff},
    {"(i32.wrap_i64 (i64.shr_u (i64.extend_i32_u (i32.const -1)) (i64.const 32)))", 0},
    {"(i32.wrap_i64 (i64.clz (i64.const 1)))", 63},
    {"(select (i32.const 3) (i32.const 4) (i32.const 0))", 4},
};

START_TEST(constants_fold_as_wasm_defines)
{
    char wat[512];
    snprintf(wat, sizeof wat, "(module (func (result i32) %s))", folds[_i].expr);
    wasm_module *m = test_wat_module(wat);
    ir_func f;
    optimize(&f, m, 0, SIMPLIFY);
    ir_inst *v = returned(&f);
    ck_assert_msg(v->op == WASM_OP_I32_CONST, "%s not folded", folds[_i].expr);
    ck_assert_msg(v->imm == folds[_i].bits, "%s: %#llx", folds[_i].expr,
                  (unsigned long long)v->imm);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* Divisions that trap, and float arithmetic, stay. */
START_TEST(what_may_trap_or_is_inexact_stays)
{
    wasm_module *m = test_wat_module(
        "(module (func (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))\n"
        " (func (result i64) (i64.rem_u (i64.const 5) (i64.const 0)))\n"
        " (func (param f64) (result f64) (f64.add (local.get 0) (f64.const 0)))\n"
        " (func (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0))))");
    ir_func f;
    optimize(&f, m, 0, SIMPLIFY);
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_I32_DIV_S);
    ir_free(&f);
    optimize(&f, m, 1, SIMPLIFY);
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_I64_REM_U);
    ir_free(&f);
    optimize(&f, m, 2, SIMPLIFY); /* -0 + 0 is +0: no identity */
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_F64_ADD);
    ir_free(&f);
    optimize(&f, m, 3, SIMPLIFY);
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_I32_DIV_U);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* Each function of the module is an identity on its parameter x (or
 * folds to 0 where the name says so). */
START_TEST(identities_simplify)
{
    static const char *const to_x[] = {
        "(i32.add (i32.const 0) (local.get 0))",
        "(i32.sub (local.get 0) (i32.const 0))",
        "(i32.mul (local.get 0) (i32.const 1))",
        "(i32.and (local.get 0) (i32.const -1))",
        "(i32.or (i32.const 0) (local.get 0))",
        "(i32.xor (local.get 0) (i32.const 0))",
        "(i32.shl (local.get 0) (i32.const 32))",
        "(i32.rotr (local.get 0) (i32.const 0))",
        "(i32.div_s (local.get 0) (i32.const 1))",
        "(i32.and (local.get 0) (local.get 0))",
        "(select (local.get 0) (local.get 1) (i32.const 7))",
    };
    static const char *const to_zero[] = {
        "(i32.sub (local.get 0) (local.get 0))",
        "(i32.xor (local.get 0) (local.get 0))",
        "(i32.mul (local.get 0) (i32.const 0))",
        "(i32.and (i32.const 0) (local.get 0))",
    };
    char wat[512];
    for (size_t i = 0; i < sizeof to_x / sizeof *to_x + sizeof to_zero / sizeof *to_zero; i++) {
        bool zero = i >= sizeof to_x / sizeof *to_x;
        const char *e = zero ? to_zero[i - sizeof to_x / sizeof *to_x] : to_x[i];
        snprintf(wat, sizeof wat, "(module (func (param i32 i32) (result i32) %s))", e);
        wasm_module *m = test_wat_module(wat);
        ir_func f;
        optimize(&f, m, 0, SIMPLIFY);
        ir_inst *v = returned(&f);
        if (zero)
            ck_assert_msg(v->op == WASM_OP_I32_CONST && v->imm == 0, "%s: not 0", e);
        else
            ck_assert_msg(v->op == IR_PARAM && v->imm == 0, "%s: not x", e);
        ir_free(&f);
        wasm_module_free(m);
    }
    /* eqz(eqz(c)) is c for a comparison c, not for another value; the
     * shift by 33 is a shift by 1 */
    wasm_module *m = test_wat_module(
        "(module (func (param i32 i32) (result i32)\n"
        "  (i32.eqz (i32.eqz (i32.lt_u (local.get 0) (local.get 1)))))\n"
        " (func (param i32) (result i32) (i32.eqz (i32.eqz (local.get 0))))\n"
        " (func (param i32) (result i32) (i32.shl (local.get 0) (i32.const 33))))");
    ir_func f;
    optimize(&f, m, 0, SIMPLIFY);
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_I32_LT_U);
    ir_free(&f);
    optimize(&f, m, 1, SIMPLIFY);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_EQZ), 2);
    ir_free(&f);
    optimize(&f, m, 2, SIMPLIFY);
    ck_assert_uint_eq(returned(&f)->op, WASM_OP_I32_SHL);
    ir_free(&f);
    wasm_module_free(m);
    /* a mask keeping every bit a zero-extended byte or halfword may have
     * goes; one that clears some stays */
    static const struct {
        const char *expr;
        uint16_t op;
    } masks[] = {
        {"(i32.and (i32.load8_u (local.get 0)) (i32.const 0xff))", WASM_OP_I32_LOAD8_U},
        {"(i32.and (i32.const 0x1ff) (i32.load8_u (local.get 0)))", WASM_OP_I32_LOAD8_U},
        {"(i32.and (i32.load16_u (local.get 0)) (i32.const 0xffff))", WASM_OP_I32_LOAD16_U},
        {"(i32.and (i32.load8_u (local.get 0)) (i32.const 0x7f))", WASM_OP_I32_AND},
        {"(i32.and (i32.load16_u (local.get 0)) (i32.const 0xff))", WASM_OP_I32_AND},
        {"(i32.and (i32.load8_s (local.get 0)) (i32.const 0xff))", WASM_OP_I32_AND},
        {"(i32.and (i32.lt_u (local.get 0) (local.get 1)) (i32.const 1))", WASM_OP_I32_LT_U},
    };
    for (size_t i = 0; i < sizeof masks / sizeof *masks; i++) {
        snprintf(wat, sizeof wat,
                 "(module (memory 1) (func (param i32 i32) (result i32) %s))", masks[i].expr);
        m = test_wat_module(wat);
        optimize(&f, m, 0, SIMPLIFY);
        ck_assert_msg(returned(&f)->op == masks[i].op, "%s: op %#x", masks[i].expr,
                      returned(&f)->op);
        ir_free(&f);
        wasm_module_free(m);
    }
}
END_TEST

START_TEST(gvn_replaces_dominated_duplicates)
{
    wasm_module *m = test_wat_module(
        "(module (memory 1) (global $g (mut i32) (i32.const 0))\n"
        /* a+b, b+a and a+b again: one add; a-b, b-a and their difference: three subs */
        " (func (param i32 i32) (result i32)\n"
        "  (i32.mul (i32.mul (i32.add (local.get 0) (local.get 1))\n"
        "                    (i32.add (local.get 1) (local.get 0)))\n"
        "           (i32.mul (i32.add (local.get 0) (local.get 1))\n"
        "                    (i32.sub (i32.sub (local.get 0) (local.get 1))\n"
        "                             (i32.sub (local.get 1) (local.get 0))))))\n"
        /* the same add on both arms of an if: neither dominates the other */
        " (func (param i32 i32) (result i32)\n"
        "  (if (result i32) (local.get 0)\n"
        "    (then (i32.add (local.get 0) (local.get 1)))\n"
        "    (else (i32.add (local.get 0) (local.get 1)))))\n"
        /* loads, and reads of a global around its write, stay */
        " (func (param i32) (result i32)\n"
        "  (global.get $g)\n"
        "  (global.set $g (i32.const 5))\n"
        "  (i32.add (global.get $g))\n"
        "  (i32.store (local.get 0) (i32.const 1))\n"
        "  (i32.add (i32.load (local.get 0)))\n"
        "  (i32.add (i32.load (local.get 0)))))");
    ir_func f;
    optimize(&f, m, 0, GVN);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_ADD), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_SUB), 3);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_MUL), 3);
    ir_free(&f);
    optimize(&f, m, 1, GVN);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_ADD), 2);
    ir_free(&f);
    optimize(&f, m, 2, GVN);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_GLOBAL_GET), 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_LOAD), 2);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* The block of the loop's header (there must be one). */
static uint32_t loop_header(ir_func *f)
{
    uint32_t h = UINT32_MAX;
    for (uint32_t b = 0; b < f->nblocks; b++)
        if (f->blocks[b].loop_header) {
            ck_assert_uint_eq(h, UINT32_MAX);
            h = b;
        }
    ck_assert_uint_ne(h, UINT32_MAX);
    return h;
}

START_TEST(licm_hoists_invariants_to_the_preheader)
{
    /* n*12 and (n*12)+k are invariant; i*4 depends on the loop's phi; the
     * load may trap and stays */
    wasm_module *m = test_wat_module(
        "(module (memory 1)\n"
        " (func (param $n i32) (param $k i32) (result i32) (local $i i32) (local $s i32)\n"
        "  (loop $l\n"
        "    (local.set $s (i32.add (local.get $s)\n"
        "      (i32.load (i32.add (i32.mul (local.get $i) (i32.const 4))\n"
        "                         (i32.add (i32.mul (local.get $n) (i32.const 12))\n"
        "                                  (local.get $k))))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
        "                        (local.get $n))))\n"
        "  (local.get $s))\n"
        /* a load from an invariant address may trap: it stays */
        " (func (param $p i32) (result i32) (local $i i32) (local $s i32)\n"
        "  (loop $l\n"
        "    (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
        "                        (i32.const 10))))\n"
        "  (local.get $s)))");
    ir_func f;
    optimize(&f, m, 1, LICM);
    ck_assert_uint_eq(only(&f, WASM_OP_I32_LOAD)->block, loop_header(&f));
    ir_free(&f);
    optimize(&f, m, 0, LICM);
    uint32_t h = loop_header(&f);
    ck_assert_uint_eq(f.blocks[h].npreds, 2);
    uint32_t pre = f.blocks[h].preds[0];
    ir_inst *load = only(&f, WASM_OP_I32_LOAD);
    ck_assert_uint_eq(load->block, h);
    ir_inst *addr = ir_at(&f, load->args[0]);
    ck_assert_uint_eq(addr->block, h);
    ir_inst *base = ir_at(&f, addr->args[1]), *scaled = ir_at(&f, addr->args[0]);
    if (scaled->op != WASM_OP_I32_MUL || ir_at(&f, scaled->args[0])->op != IR_PHI) {
        ir_inst *t = base;
        base = scaled, scaled = t;
    }
    ck_assert_uint_eq(scaled->block, h);
    ck_assert_uint_eq(base->op, WASM_OP_I32_ADD);
    ck_assert_uint_eq(base->block, pre);
    ck_assert_uint_eq(ir_at(&f, base->args[0])->block, pre);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* The i32.mul whose second operand is the constant c (there must be one). */
static ir_inst *mul_by(ir_func *f, uint64_t c)
{
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            if (in->op == WASM_OP_I32_MUL && ir_at(f, in->args[1])->imm == c)
                return in;
        }
    ck_abort_msg("no i32.mul by %llu", (unsigned long long)c);
    return NULL;
}

START_TEST(licm_leaves_outer_loops_alone)
{
    /* i*40 is invariant in the inner loop and leaves it; n*3 is invariant
     * in the outer loop but stays (only innermost loops are done) */
    wasm_module *m = test_wat_module(
        "(module (func (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)\n"
        "  (loop $outer\n"
        "    (local.set $j (i32.const 0))\n"
        "    (loop $inner\n"
        "      (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (i32.const 40))))\n"
        "      (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1)))\n"
        "                              (local.get $n))))\n"
        "    (local.set $s (i32.xor (local.get $s) (i32.mul (local.get $n) (i32.const 3))))\n"
        "    (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
        "                            (local.get $n))))\n"
        "  (local.get $s)))");
    ir_func f;
    optimize(&f, m, 0, LICM);
    uint32_t outer = UINT32_MAX, inner = UINT32_MAX;
    for (uint32_t b = 0; b < f.nblocks; b++)
        if (f.blocks[b].loop_header)
            *(f.blocks[b].preds[0] == 0 ? &outer : &inner) = b;
    ck_assert_uint_ne(outer, UINT32_MAX);
    ck_assert_uint_ne(inner, UINT32_MAX);
    ck_assert_uint_eq(mul_by(&f, 40)->block, f.blocks[inner].preds[0]);
    ck_assert_uint_ne(mul_by(&f, 3)->block, f.blocks[outer].preds[0]);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* The instruction of operator `op` whose immediate is imm (there must be
 * one). */
static ir_inst *with_imm(ir_func *f, uint16_t op, uint64_t imm)
{
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            if (ir_at(f, r)->op == op && ir_at(f, r)->imm == imm)
                return ir_at(f, r);
    ck_abort_msg("no operator %#x with immediate %llu", op, (unsigned long long)imm);
    return NULL;
}

/* The operand of phi `phi` along the edge from block `from`. */
static ir_inst *phi_from(ir_func *f, const ir_inst *phi, uint32_t from)
{
    const ir_block *h = &f->blocks[phi->block];
    for (uint32_t k = 0; k < h->npreds; k++)
        if (h->preds[k] == from)
            return ir_at(f, phi->args[k]);
    ck_abort_msg("no edge from b%u", from);
    return NULL;
}

START_TEST(ivsr_turns_multiplies_of_loop_variables_into_adds)
{
    /* i*12 (i from k by 3) becomes a variable from k*12 by 36; i << 3 stays
     * a shift (an address scales for free); s*5 stays: s is no induction
     * variable. i64: 0x9e3779b97f4a7c15*i (i from 7 by -2) becomes a
     * variable from the constant 7c by -2c, modulo 2^64. Not in an outer
     * loop. */
    wasm_module *m = test_wat_module(
        "(module (memory 1)\n"
        " (func (param $n i32) (param $k i32) (result i32) (local $i i32) (local $s i32)\n"
        "  (local.set $i (local.get $k))\n"
        "  (loop $l\n"
        "    (local.set $s (i32.add (local.get $s)\n"
        "      (i32.add (i32.load (i32.mul (local.get $i) (i32.const 12)))\n"
        "               (i32.load offset=4 (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (local.set $s (i32.xor (local.get $s) (i32.mul (local.get $s) (i32.const 5))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 3)))\n"
        "                        (local.get $n))))\n"
        "  (local.get $s))\n"
        " (func (param $n i64) (result i64) (local $i i64) (local $s i64)\n"
        "  (local.set $i (i64.const 7))\n"
        "  (loop $l\n"
        "    (local.set $s (i64.add (local.get $s)\n"
        "      (i64.mul (i64.const 0x9e3779b97f4a7c15) (local.get $i))))\n"
        "    (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const -2)))\n"
        "                        (local.get $n))))\n"
        "  (local.get $s))\n"
        /* i*40 in an outer loop stays: a variable would hold a register
         * across the inner loop */
        " (func (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)\n"
        "  (loop $outer\n"
        "    (local.set $j (i32.const 0))\n"
        "    (loop $inner\n"
        "      (local.set $s (i32.add (local.get $s) (i32.load (i32.mul (local.get $i)\n"
        "                                                              (i32.const 40)))))\n"
        "      (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1)))\n"
        "                              (local.get $n))))\n"
        "    (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))\n"
        "                            (local.get $n))))\n"
        "  (local.get $s)))");
    ir_func f;
    optimize(&f, m, 0, IVSR);
    uint32_t h = loop_header(&f), pre = f.blocks[h].preds[0];
    ck_assert_uint_eq(mul_by(&f, 5)->block, h);
    ir_inst *start = mul_by(&f, 12);
    ck_assert_uint_eq(start->block, pre);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_MUL), 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_SHL), 1);
    ir_inst *load = with_imm(&f, WASM_OP_I32_LOAD, 0), *j = ir_at(&f, load->args[0]);
    ck_assert_uint_eq(j->op, IR_PHI);
    ck_assert_uint_eq(j->block, h);
    ck_assert_ptr_eq(phi_from(&f, j, pre), start);
    ir_inst *step = phi_from(&f, j, f.blocks[h].preds[1]);
    ck_assert_uint_eq(step->op, WASM_OP_I32_ADD);
    ck_assert_ptr_eq(ir_at(&f, step->args[0]), j);
    ck_assert_uint_eq(ir_at(&f, step->args[1])->imm, 36);
    ir_free(&f);
    optimize(&f, m, 1, IVSR);
    h = loop_header(&f), pre = f.blocks[h].preds[0];
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I64_MUL), 0);
    j = NULL;
    for (ir_ref r = f.blocks[h].first; ir_at(&f, r)->op == IR_PHI; r = ir_at(&f, r)->next)
        if (phi_from(&f, ir_at(&f, r), pre)->imm == 7 * 0x9e3779b97f4a7c15u)
            j = ir_at(&f, r);
    ck_assert_msg(j, "no variable from 7c");
    ck_assert_uint_eq(phi_from(&f, j, pre)->op, WASM_OP_I64_CONST);
    step = phi_from(&f, j, f.blocks[h].preds[1]);
    ck_assert_uint_eq(ir_at(&f, step->args[1])->imm, (uint64_t)-2 * 0x9e3779b97f4a7c15u);
    ir_free(&f);
    optimize(&f, m, 2, IVSR);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_MUL), 1);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

START_TEST(bce_marks_accesses_a_dominating_one_proved)
{
    /* A (offset 8, to 12) is checked; B is in a branch, dominating nothing;
     * C (to 8) is within A's reach; D (to 24) is not, and is checked; E at
     * p + 16 (to 16 + 2 + 2) is within D's; F at p + 24 (to 28) is not. In
     * a memory64, the same. */
    for (int wide = 0; wide < 2; wide++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "(module (memory %s 1)\n"
                 " (func (param $p %s) (param $c i32) (result i32)\n"
                 "  (i32.store offset=8 (local.get $p) (i32.const 1))\n"
                 "  (if (local.get $c) (then (i32.store offset=40 (local.get $p) (i32.const 2))))\n"
                 "  (i32.add\n"
                 "   (i32.add (i32.load offset=4 (local.get $p))\n"
                 "            (i32.load offset=20 (local.get $p)))\n"
                 "   (i32.add (i32.load16_u offset=2 (%s.add (local.get $p) (%s.const 16)))\n"
                 "            (i32.load offset=0 (%s.add (local.get $p) (%s.const 24)))))))",
                 wide ? "i64" : "", wide ? "i64" : "i32", wide ? "i64" : "i32",
                 wide ? "i64" : "i32", wide ? "i64" : "i32", wide ? "i64" : "i32");
        wasm_module *m = test_wat_module(text);
        ir_func f;
        optimize(&f, m, 0, BCE);
        ck_assert(!(with_imm(&f, WASM_OP_I32_STORE, 8)->flags & IR_IN_BOUNDS));  /* A */
        ck_assert(!(with_imm(&f, WASM_OP_I32_STORE, 40)->flags & IR_IN_BOUNDS)); /* B */
        ck_assert(with_imm(&f, WASM_OP_I32_LOAD, 4)->flags & IR_IN_BOUNDS);      /* C */
        ck_assert(!(with_imm(&f, WASM_OP_I32_LOAD, 20)->flags & IR_IN_BOUNDS));  /* D */
        ck_assert(with_imm(&f, WASM_OP_I32_LOAD16_U, 2)->flags & IR_IN_BOUNDS);  /* E */
        ck_assert(!(with_imm(&f, WASM_OP_I32_LOAD, 0)->flags & IR_IN_BOUNDS));   /* F */
        ir_free(&f);
        wasm_module_free(m);
    }
}
END_TEST

/* A state machine: a switch (br_table) in a loop on a state that every
 * case sets to a constant (states 0 and 1 through an if/else: a phi of
 * phis two blocks above the switch); state 3 ends the loop. Threading copies the
 * header and the switch's block for each edge, each copy jumps to its case:
 * no br_table is left, and the copies' tests of state == 3 fold. The byte
 * read in the header is used after the loop: the exit merges the copies'
 * loads in a phi. */
static const char state_machine_wat[] =
    "(module (memory 1)\n"
    " (func (param $p i32) (param $n i32) (result i32)\n"
    "  (local $i i32) (local $state i32) (local $c i32) (local $sum i32)\n"
    "  (block $done\n"
    "    (loop $l\n"
    "      (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (br_if $done (i32.eq (local.get $state) (i32.const 3)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (block $s2 (block $s1 (block $s0\n"
    "        (br_table $s0 $s1 $s2 (local.get $state)))\n"
    "        (local.set $sum (i32.add (local.get $sum) (local.get $c)))\n"
    "        (if (i32.eq (local.get $c) (i32.const 97))\n"
    "          (then (local.set $state (i32.const 1)))\n"
    "          (else (local.set $state (i32.const 2))))\n"
    "        (br $l))\n"
    "      (local.set $sum (i32.xor (local.get $sum) (local.get $c)))\n"
    "      (if (i32.eqz (local.get $c))\n"
    "        (then (local.set $state (i32.const 3)))\n"
    "        (else (local.set $state (i32.const 2))))\n"
    "      (br $l))\n"
    "    (local.set $sum (i32.mul (local.get $sum) (i32.const 3)))\n"
    "    (local.set $state (i32.const 0))\n"
    "    (br $l)))\n"
    "  (i32.add (i32.mul (local.get $sum) (i32.const 4))\n"
    "           (i32.add (local.get $state) (local.get $c)))))";

/* The block that returns (there must be one). */
static uint32_t return_block(ir_func *f) { return only(f, WASM_OP_RETURN)->block; }

/* The i32.eq whose second operand is the constant c: how many. */
static uint32_t count_eq(ir_func *f, uint64_t c)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            n += in->op == WASM_OP_I32_EQ && ir_at(f, in->args[1])->op == WASM_OP_I32_CONST &&
                 ir_at(f, in->args[1])->imm == c;
        }
    return n;
}

START_TEST(threading_turns_a_state_machine_into_jumps)
{
    wasm_module *m = test_wat_module(state_machine_wat);
    ir_func f;
    optimize(&f, m, 0, LICM);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_BR_TABLE), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_LOAD8_U), 1);
    ck_assert_uint_eq(count_eq(&f, 3), 1);
    ir_free(&f);
    optimize(&f, m, 0, THREAD);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_BR_TABLE), 0);
    ck_assert_uint_eq(count_eq(&f, 3), 0);
    /* the entry and the five constants each have their copy of the header,
     * the original is gone */
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_LOAD8_U), 6);
    /* the exit: c is a phi of the loads, one per way out */
    uint32_t exit = return_block(&f);
    ir_inst *sum = returned(&f);
    ck_assert_uint_eq(sum->op, WASM_OP_I32_ADD);
    ir_inst *tail = ir_at(&f, sum->args[1]);
    ck_assert_uint_eq(tail->op, WASM_OP_I32_ADD);
    ir_inst *c = ir_at(&f, tail->args[1]);
    ck_assert_uint_eq(c->op, IR_PHI);
    ck_assert_uint_eq(c->block, exit);
    ck_assert_uint_eq(c->nargs, f.blocks[exit].npreds);
    ck_assert_uint_eq(c->nargs, 7); /* six copies at the end of the bytes, state 3 */
    uint32_t distinct = 0;
    for (uint32_t k = 0; k < c->nargs; k++) {
        ck_assert_uint_eq(ir_at(&f, c->args[k])->op, WASM_OP_I32_LOAD8_U);
        uint32_t j = 0;
        while (c->args[j] != c->args[k])
            j++;
        distinct += j == k;
    }
    ck_assert_uint_eq(distinct, 6); /* each copy's own */
    /* the copies form a loop again */
    uint32_t headers = 0;
    for (uint32_t b = 0; b < f.nblocks; b++)
        headers += f.blocks[b].loop_header;
    ck_assert_uint_ge(headers, 1);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* A br_if on a flag an if sets: each way into the join gets its copy of
 * the join, which goes straight to where the flag leads. x * 3, computed in
 * the join, reaches the return from both copies: a phi of the two. */
START_TEST(threading_a_flag_merges_values_defined_on_the_path)
{
    wasm_module *m = test_wat_module(
        "(module (memory 1)\n"
        " (func (param $x i32) (param $p i32) (result i32) (local $f i32)\n"
        "  (if (i32.lt_s (local.get $x) (i32.const 0))\n"
        "    (then (local.set $f (i32.const 1))\n"
        "          (local.set $x (i32.sub (i32.const 0) (local.get $x)))))\n"
        "  (local.set $x (i32.mul (local.get $x) (i32.const 3)))\n"
        "  (if (local.get $f) (then (i32.store (local.get $p) (local.get $x))))\n"
        "  (i32.add (local.get $x) (i32.const 1))))");
    ir_func f;
    optimize(&f, m, 0, LICM);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_BR_IF), 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_MUL), 1);
    ir_free(&f);
    optimize(&f, m, 0, THREAD);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_BR_IF), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_MUL), 2);
    ir_inst *x = ir_at(&f, returned(&f)->args[0]);
    ck_assert_uint_eq(x->op, IR_PHI);
    ck_assert_uint_eq(x->nargs, 2);
    ir_inst *a = ir_at(&f, x->args[0]), *b = ir_at(&f, x->args[1]);
    ck_assert_uint_eq(a->op, WASM_OP_I32_MUL);
    ck_assert_uint_eq(b->op, WASM_OP_I32_MUL);
    ck_assert_uint_ne(a->block, b->block);
    /* the store on the flag's path stores that path's product */
    ir_inst *st = only(&f, WASM_OP_I32_STORE);
    ck_assert_uint_eq(ir_at(&f, st->args[1])->op, WASM_OP_I32_MUL);
    ck_assert_uint_eq(ir_at(&f, ir_at(&f, st->args[1])->args[0])->op, WASM_OP_I32_SUB);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* An address that folding makes constant compiles like any other: one
 * out of the range the static mapping proves (0xfffffff0 + 22) as an index
 * register whose access faults in the guard region, not as a displacement
 * (test-codegen's folded_constant_addresses runs both). */
START_TEST(a_folded_address_is_checked_like_a_constant_one)
{
    wasm_module *m = test_wat_module(
        "(module (memory 1)\n"
        " (func (result i32) (i32.load offset=22 (i32.and (i32.const -16) (i32.const -15))))\n"
        " (func (result i32) (i32.load offset=22 (i32.and (i32.const 16) (i32.const -15)))))");
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30};
    vm_memory_plan plan = vm_plan_memory(&m->memories[0], (uint64_t)4 << 30, &mc);
    opt_env env = {.m = m, .plans = &plan};
    module_out out = {0};
    const char *why = NULL;
    ck_assert_msg(opt_compile(&env, 0, &out, &why), "declined: %s", why);
    ck_assert_uint_eq(out.traps.n, 2); /* the stack check, the load */
    ck_assert_msg(opt_compile(&env, 1, &out, &why), "declined: %s", why);
    ck_assert_uint_eq(out.traps.n, 4);
    out_free(&out);
    wasm_module_free(m);
}
END_TEST

/* The loop of an unrolled axpy (axpy.h: clang's shape, two copies per
 * iteration) gets a packed copy: one splat of the factor before it, one
 * v128 load per array, one multiply, add and store; the original loop
 * stays for when the guard fails. Counted down, its last value read after
 * the loop: the same, that value a phi of the packed add's lane 1 and the
 * scalar one. A loop whose second copy reads what the first wrote (d at
 * offset 0 instead of 8) is left alone. */
START_TEST(unrolled_copies_pack_into_v128_operations)
{
    wasm_module *m = test_wat_module(axpy_wat);
    ir_func f;
    optimize(&f, m, 0, VECTORIZE);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_SPLAT), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_LOAD), 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_MUL), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_ADD), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64_STORE), 2); /* the scalar loop */
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_MEMORY_SIZE), 1); /* the guard */
    ir_free(&f);
    optimize(&f, m, 1, VECTORIZE);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_ADD), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_EXTRACT_LANE), 1);
    ck_assert_int_eq(returned(&f)->op, IR_PHI);
    ir_free(&f);
    /* a, a phi of the loop around, splats before the loop */
    optimize(&f, m, 2, VECTORIZE);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_SPLAT), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE), 1);
    ir_free(&f);
    wasm_module_free(m);
    /* axpy with its second copy's d load at offset 0 */
    const char *at = strstr(axpy_wat, "(f64.load offset=8 (i32.add (local.get $d)");
    ck_assert_ptr_nonnull(at);
    char text[sizeof axpy_wat];
    snprintf(text, sizeof text, "%.*s(f64.load%s", (int)(at - axpy_wat), axpy_wat,
             at + strlen("(f64.load offset=8"));
    m = test_wat_module(text);
    optimize(&f, m, 0, VECTORIZE);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE), 0);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

#include "colsum.h"

/* A loop around a sum's loop runs its iterations by two: A's column j
 * and j + 1 by one v128 load, x[k] loaded once and splatted, both sums in
 * one v128, one v128 store of y[j], y[j + 1]; the scalar nest stays, for
 * when the guard fails. colacc reads y[j] first: by a v128 load too.
 * rowsum's rows are gathered a lane at a time, its sums scattered. */
START_TEST(outer_loops_run_by_lanes)
{
    wasm_module *m = test_wat_module(colsum_wat);
    ir_func f;
    for (uint32_t func = 0; func <= 1; func++) {
        optimize(&f, m, func, VECTORIZE);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_LOAD), func == 0 ? 1 : 2);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_MUL), 1);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_ADD), 1);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE), 1);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64_STORE), 1); /* the scalar nest */
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64_LOAD), func == 0 ? 3 : 4);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_MEMORY_SIZE), 1); /* the guard */
        ir_free(&f);
    }
    optimize(&f, m, 2, VECTORIZE);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_LOAD64_ZERO), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_LOAD64_LANE), 1);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_V128_STORE64_LANE), 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_F64X2_ADD), 1);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* Every v128 instruction compiles in tier 2 rather than staying in tier 1:
 * each in a function of its own whose operands are its parameters (none is
 * a constant), shifts also by a constant count. What they compute is the
 * spec runner's to check (its -optimized configurations). */
START_TEST(every_v128_instruction_compiles_in_tier_2)
{
    static const char *const names[0x80] = {[WASM_I32] = "i32", [WASM_I64] = "i64",
                                            [WASM_F32] = "f32", [WASM_F64] = "f64",
                                            [WASM_V128] = "v128"};
    static const uint8_t params[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_V128};
    char *wat;
    size_t len;
    FILE *w = open_memstream(&wat, &len);
    ck_assert(w);
    fputs("(module (memory 1)\n", w);
    uint32_t nfuncs = 0, ops[0x200];
    for (unsigned op = 0xfd00; op < 0xfe00; op++) {
        const wasm_opinfo *info = wasm_op_info(op);
        if (!info->name)
            continue;
        bool shift = strstr(info->name, ".shl") || strstr(info->name, ".shr");
        for (int by_const = 0; by_const <= shift; by_const++) {
            fputs(" (func (param i32 i64 f32 f64 v128)", w);
            if (info->out != WASM_ANY)
                fprintf(w, " (result %s)", names[info->out]);
            fprintf(w, " (%s", info->name);
            switch (info->imm) {
            case WASM_IMM_MEMARG: fputs(" offset=3", w); break;
            case WASM_IMM_MEMARG_LANE: case WASM_IMM_LANE: fputs(" 1", w); break;
            case WASM_IMM_V128: fputs(" i32x4 1 -2 3 -4", w); break;
            case WASM_IMM_SHUFFLE: fputs(" 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31", w); break;
            }
            for (uint32_t i = 0; i < info->nin; i++) {
                uint8_t t = info->in[i] == WASM_ADDR ? WASM_I32 : info->in[i];
                uint32_t p = 0;
                while (params[p] != t)
                    p++;
                if (by_const && i == 1)
                    fputs(" (i32.const 3)", w);
                else
                    fprintf(w, " (local.get %u)", p);
            }
            fputs("))\n", w);
            ops[nfuncs++] = op;
        }
    }
    fputs(")\n", w);
    fclose(w);
    wasm_module *m = test_wat_module(wat);
    free(wat);
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30};
    vm_memory_plan plan = vm_plan_memory(&m->memories[0], (uint64_t)4 << 30, &mc);
    opt_env env = {.m = m, .plans = &plan};
    module_out out = {0};
    ck_assert_uint_gt(nfuncs, 230);
    for (uint32_t f = 0; f < nfuncs; f++) {
        const char *why = NULL;
        ck_assert_msg(opt_compile(&env, f, &out, &why), "%s declined: %s",
                      wasm_op_name(ops[f]), why);
    }
    out_free(&out);
    wasm_module_free(m);
}
END_TEST

/* Where tier 2's out-of-bounds trap sites of one function point: how many
 * there are, how many at the wasm offset of its one load of `load_op`, how
 * many at its one store's. */
typedef struct oob_sites {
    uint32_t n, at_load, at_store;
} oob_sites;

static oob_sites compile_oob_sites(const wasm_module *m, uint32_t func, bool dynamic,
                                   uint16_t load_op, uint16_t store_op)
{
    ir_func f;
    optimize(&f, m, func, SIMPLIFY);
    uint32_t load = only(&f, load_op)->wasm, store = only(&f, store_op)->wasm;
    ir_free(&f);
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30,
                           .dynamic32 = dynamic};
    vm_memory_plan plan = vm_plan_memory(&m->memories[0], (uint64_t)4 << 30, &mc);
    ck_assert(plan.dynamic == dynamic);
    opt_env env = {.m = m, .plans = &plan};
    module_out out = {0};
    const char *why = NULL;
    ck_assert_msg(opt_compile(&env, func, &out, &why), "declined: %s", why);
    oob_sites s = {0};
    for (uint32_t t = 0; t < out.traps.n; t++) {
        if (out.traps.v[t].code != WJ_TRAP_MEMORY_OUT_OF_BOUNDS)
            continue;
        uint32_t a = 0;
        while (a < out.addrs.n && out.addrs.v[a].native != out.traps.v[t].offset)
            a++;
        ck_assert_uint_lt(a, out.addrs.n);
        s.n++;
        s.at_load += out.addrs.v[a].wasm == load;
        s.at_store += out.addrs.v[a].wasm == store;
    }
    out_free(&out);
    return s;
}

/* A load, an integer operation on it and a store back to the same place
 * are one instruction (select.c, emit_mem.c store_rmw): it has one trap
 * site, at the load's offset, whether the memory is checked or not. What
 * must stay three instructions keeps both sites, but for the check's when
 * the store goes where the load went. (Each is in an if: the
 * entry block keeps its constants in place, which another pass hoists
 * out of the other blocks.) */
START_TEST(read_modify_write_is_one_access_that_faults_as_the_load)
{
    static const struct {
        const char *body;
        bool fused, proven; /* the store at the load's address: no check (bce.c) */
    } cases[] = {
        {"(i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 5)))", true, false},
        {"(i32.store offset=8 (local.get 0)\n"
         "  (i32.sub (i32.load offset=8 (local.get 0)) (local.get 1)))", true, false},
        {"(i32.store (local.get 0) (i32.xor (local.get 1) (i32.load (local.get 0))))", true, false},
        /* the loaded value has a second use */
        {"(i32.store (local.get 0) (i32.or (local.tee 3 (i32.load (local.get 0))) (local.get 1)))\n"
         "(global.set 0 (local.get 3))", false, true},
        /* y - x[i]: sub takes the load first only */
        {"(i32.store (local.get 0) (i32.sub (local.get 1) (i32.load (local.get 0))))", false, true},
        /* another offset, another address */
        {"(i32.store offset=4 (local.get 0) (i32.and (i32.load (local.get 0)) (local.get 1)))",
         false, false},
        {"(i32.store (local.get 1) (i32.and (i32.load (local.get 0)) (local.get 1)))", false,
         false},
        /* something between the load and the operation */
        {"(i32.store (local.get 0)\n"
         "  (i32.add (i32.load (local.get 0)) (global.set 0 (local.get 1)) (local.get 1)))", false,
         true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int dynamic = 0; dynamic < 2; dynamic++) {
            char wat[1024];
            snprintf(wat, sizeof wat,
                     "(module (memory 1) (global (mut i32) (i32.const 0))\n"
                     " (func (param i32 i32 i32) (local i32) (if (local.get 2) (then %s))))",
                     cases[i].body);
            wasm_module *m = test_wat_module(wat);
            oob_sites s = compile_oob_sites(m, 0, dynamic, WASM_OP_I32_LOAD, WASM_OP_I32_STORE);
            uint32_t per = dynamic ? 2 : 1; /* checked: the check's stub too */
            uint32_t at_store = cases[i].fused ? 0 : cases[i].proven ? 1 : per;
            ck_assert_msg(s.n == per + at_store && s.at_load == per && s.at_store == at_store,
                          "case %zu (%s): %u sites, %u at the load, %u at the store", i,
                          dynamic ? "dynamic" : "static", s.n, s.at_load, s.at_store);
            wasm_module_free(m);
        }
    /* i64, and a memory64 memory (always checked: a carry, a bound and
     * the access) */
    static const char *const wide[] = {
        "(module (memory 1) (func (param i32 i64)\n"
        "  (if (i32.wrap_i64 (local.get 1)) (then\n"
        "    (i64.store offset=16 (local.get 0)\n"
        "      (i64.or (i64.load offset=16 (local.get 0)) (local.get 1)))))))",
        "(module (memory i64 1) (func (param i64 i64)\n"
        "  (if (i32.wrap_i64 (local.get 1)) (then\n"
        "    (i64.store (local.get 0)\n"
        "      (i64.add (i64.const 0x123456789) (i64.load (local.get 0))))))))",
    };
    for (size_t i = 0; i < sizeof wide / sizeof *wide; i++) {
        wasm_module *m = test_wat_module(wide[i]);
        oob_sites s = compile_oob_sites(m, 0, i == 1, WASM_OP_I64_LOAD, WASM_OP_I64_STORE);
        ck_assert_msg(s.n == (i == 0 ? 1 : 3) && s.at_load == s.n && s.at_store == 0,
                      "i64 case %zu: %u sites, %u at the load", i, s.n, s.at_load);
        wasm_module_free(m);
    }
    /* in the entry block the constant stays between the load and the
     * add, where it emits nothing: still one access */
    wasm_module *m = test_wat_module(
        "(module (memory 1) (func (param i32)\n"
        "  (i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 5)))))");
    oob_sites e = compile_oob_sites(m, 0, false, WASM_OP_I32_LOAD, WASM_OP_I32_STORE);
    ck_assert_msg(e.n == 1 && e.at_load == 1, "entry block: %u sites, %u at the load", e.n,
                  e.at_load);
    wasm_module_free(m);
}
END_TEST

/* Runs every pass over each function of a module, verifying after each;
 * returns how many functions were built. */
static uint32_t optimize_all(const wasm_module *m, const char *path)
{
    (void)path;
    uint32_t built = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        ir_func f;
        const char *why = NULL;
        if (!ir_build(&f, m, i, &why))
            continue; /* declined: tier 1's */
        ir_free(&f);
        optimize(&f, m, i, BCE); /* builds it again */
        ir_free(&f);
        built++;
    }
    return built;
}

START_TEST(corpus_optimizes_and_verifies)
{
    corpus_each(optimize_all);
}
END_TEST

static Suite *passes_suite(void)
{
    Suite *s = suite_create("passes");
    TCase *t = tcase_create("passes");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, constants_fold_as_wasm_defines, 0, sizeof folds / sizeof *folds);
    tcase_add_test(t, what_may_trap_or_is_inexact_stays);
    tcase_add_test(t, identities_simplify);
    tcase_add_test(t, gvn_replaces_dominated_duplicates);
    tcase_add_test(t, licm_hoists_invariants_to_the_preheader);
    tcase_add_test(t, licm_leaves_outer_loops_alone);
    tcase_add_test(t, ivsr_turns_multiplies_of_loop_variables_into_adds);
    tcase_add_test(t, bce_marks_accesses_a_dominating_one_proved);
    tcase_add_test(t, threading_turns_a_state_machine_into_jumps);
    tcase_add_test(t, threading_a_flag_merges_values_defined_on_the_path);
    tcase_add_test(t, a_folded_address_is_checked_like_a_constant_one);
    tcase_add_test(t, read_modify_write_is_one_access_that_faults_as_the_load);
    tcase_add_test(t, every_v128_instruction_compiles_in_tier_2);
    tcase_add_test(t, unrolled_copies_pack_into_v128_operations);
    tcase_add_test(t, outer_loops_run_by_lanes);
    tcase_add_test(t, corpus_optimizes_and_verifies);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(passes_suite());
}
