/* Tier 2's IR (src/opt): SSA construction from wasm bodies and the
 * verifier. Each test builds a function written in the text format and
 * checks the IR's shape (which values are phis, what was declined), and
 * that ir_verify accepts it; a corpus test builds every function of the
 * bundled example plugin, of the benchmark kernels and of the Sightglass
 * programs when present. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "opt/ir.h"
#include "wasmjail.h"
#include "opt/opt.h"
#include "unit.h"
#include "wasm/module.h"
#include "wat.h"

/* Builds defined function `func` (module index) and verifies it. */
static void build_ok(ir_func *f, const wasm_module *m, uint32_t func)
{
    const char *why = NULL;
    ck_assert_msg(ir_build(f, m, func, &why), "function %u declined: %s", func, why);
    const char *bad = ir_verify(f);
    if (bad) {
        ir_print(f, stderr);
        ck_abort_msg("function %u: %s", func, bad);
    }
}

/* The operand of the function's (single) return. */
static ir_inst *returned(ir_func *f)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        ir_ref r = f->blocks[b].last;
        if (r && ir_at(f, r)->op == WASM_OP_RETURN) {
            ck_assert_uint_eq(ir_at(f, r)->nargs, 1);
            return ir_at(f, ir_at(f, r)->args[0]);
        }
    }
    ck_abort_msg("no return");
    return NULL;
}

START_TEST(straight_line_has_no_phis)
{
    wasm_module *m = test_wat_module("(module (func (param i32 i32) (result i32) (local i32)\n"
                                "  (local.set 2 (i32.add (local.get 0) (local.get 1)))\n"
                                "  (local.set 2 (i32.mul (local.get 2) (local.get 2)))\n"
                                "  (local.get 2)))");
    ir_func f;
    build_ok(&f, m, 0);
    ck_assert_uint_eq(test_count_op(&f, IR_PHI), 0);
    ck_assert_uint_eq(test_count_op(&f, IR_PARAM), 2);
    ir_inst *mul = returned(&f);
    ck_assert_uint_eq(mul->op, WASM_OP_I32_MUL);
    ck_assert_uint_eq(mul->args[0], mul->args[1]); /* both the add */
    ck_assert_uint_eq(ir_at(&f, mul->args[0])->op, WASM_OP_I32_ADD);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

START_TEST(loop_carried_locals_become_header_phis)
{
    /* i and sum change in the loop, n does not: two phis in the header */
    wasm_module *m = test_wat_module("(module (func (param $n i32) (result i32)\n"
                                "  (local $i i32) (local $sum i32)\n"
                                "  (loop $l\n"
                                "    (local.set $sum (i32.add (local.get $sum) (local.get $i)))\n"
                                "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
                                "    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
                                "  (local.get $sum)))");
    ir_func f;
    build_ok(&f, m, 0);
    ck_assert_uint_eq(test_count_op(&f, IR_PHI), 2);
    uint32_t headers = 0;
    for (uint32_t b = 0; b < f.nblocks; b++)
        headers += f.blocks[b].loop_header;
    ck_assert_uint_eq(headers, 1);
    ir_inst *sum = returned(&f);
    ck_assert_uint_eq(sum->op, WASM_OP_I32_ADD); /* the last iteration's sum */
    ck_assert_uint_eq(ir_at(&f, sum->args[0])->op, IR_PHI);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

START_TEST(if_else_merges_into_a_phi)
{
    wasm_module *m = test_wat_module("(module (func (param i32) (result i32) (local i32)\n"
                                "  (if (local.get 0)\n"
                                "    (then (local.set 1 (i32.const 7)))\n"
                                "    (else (local.set 1 (i32.const 9))))\n"
                                "  (local.get 1))\n"
                                " (func (param i32) (result i32) (local i32)\n"
                                "  (local.set 1 (i32.const 5))\n"
                                "  (if (local.get 0) (then (nop)))\n"
                                "  (local.get 1)))");
    ir_func f;
    build_ok(&f, m, 0);
    ir_inst *phi = returned(&f);
    ck_assert_uint_eq(phi->op, IR_PHI);
    ck_assert_uint_eq(phi->nargs, 2);
    ck_assert_uint_eq(ir_at(&f, phi->args[0])->imm, 7);
    ck_assert_uint_eq(ir_at(&f, phi->args[1])->imm, 9);
    ir_free(&f);
    /* unchanged on both arms: the phi is trivial and goes */
    build_ok(&f, m, 1);
    ck_assert_uint_eq(test_count_op(&f, IR_PHI), 0);
    ck_assert_uint_eq(returned(&f)->imm, 5);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

START_TEST(block_results_and_branches)
{
    /* a block whose result comes from a br_if, a br_table and the
     * fall-through; a loop with a parameter; unreachable code after br */
    wasm_module *m = test_wat_module(
        "(module (type $t (func (param i32) (result i32)))\n"
        " (func (param i32) (result i32)\n"
        "  (block $out (result i32)\n"
        "    (br_if $out (i32.const 1) (i32.eqz (local.get 0)))\n"
        "    (drop)\n"
        "    (block $a (result i32)\n"
        "      (block $b (result i32)\n"
        "        (br_table $a $b $out (i32.const 2) (local.get 0)))\n"
        "      (i32.add (i32.const 10)))\n"
        "    (i32.add (i32.const 20))\n"
        "    (br $out)\n"
        "    (i32.const 4)))\n"
        " (func (param i32) (result i32)\n"
        "  (local.get 0)\n"
        "  (loop $l (param i32) (result i32)\n"
        "    (i32.sub (i32.const 1))\n"
        "    (local.tee 0)\n"
        "    (br_if $l (local.get 0))))\n"
        " (func (result i32)\n"
        "  (block (result i32) (return (i32.const 1)) (unreachable)))\n"
        " (func (param i32) (result i32)\n"
        "  (br 0 (local.get 0))))");
    ir_func f;
    build_ok(&f, m, 0);
    ir_inst *phi = returned(&f);
    ck_assert_uint_eq(phi->op, IR_PHI);
    ck_assert_uint_eq(phi->nargs, 3); /* br_if, br_table's default, br */
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_BR_TABLE), 1);
    ir_free(&f);
    build_ok(&f, m, 1);
    ck_assert_uint_eq(test_count_op(&f, IR_PHI), 1); /* the loop's parameter */
    ir_free(&f);
    build_ok(&f, m, 2);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_RETURN), 1);
    ir_free(&f);
    build_ok(&f, m, 3);
    ck_assert_uint_eq(returned(&f)->op, IR_PARAM);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* v128 values are values like any other: parameters, constants (whose
 * bytes stay in the module), lanes. */
START_TEST(v128_values_build)
{
    wasm_module *m = test_wat_module("(module\n"
                                " (func (param v128) (result v128) (local.get 0))\n"
                                " (func (result i32)\n"
                                "  (i32x4.extract_lane 1 (v128.const i32x4 1 2 3 4))))");
    ir_func f;
    build_ok(&f, m, 0);
    ck_assert_uint_eq(returned(&f)->op, IR_PARAM);
    ck_assert_uint_eq(returned(&f)->type, WASM_V128);
    ir_free(&f);
    build_ok(&f, m, 1);
    ir_inst *x = returned(&f);
    ck_assert_uint_eq(x->op, WASM_OP_I32X4_EXTRACT_LANE);
    ck_assert_uint_eq(x->imm, 1);
    ir_inst *c = ir_at(&f, x->args[0]);
    ck_assert_uint_eq(c->op, WASM_OP_V128_CONST);
    ck_assert_uint_eq(c->type, WASM_V128);
    ck_assert_uint_eq(m->bytes[c->imm + 4], 2); /* lane 1 */
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

START_TEST(verifier_catches_broken_ir)
{
    static const char loop[] = "(module (func (param $n i32) (result i32) (local $i i32)\n"
                               "  (loop $l\n"
                               "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
                               "    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
                               "  (local.get $i)))";
    wasm_module *m = test_wat_module(loop);
    ir_func f;
    build_ok(&f, m, 0);
    ir_ref phi = 0;
    for (ir_ref r = 1; r < f.ninsts && !phi; r++)
        if (ir_at(&f, r)->op == IR_PHI)
            phi = r;
    ck_assert_uint_ne(phi, 0);
    ir_inst *in = ir_at(&f, phi);
    in->nargs--;
    ck_assert_str_eq(ir_verify(&f), "a phi's operands do not match its block's predecessors");
    in->nargs++;
    /* the add's operand becomes the return's value, defined after it */
    ir_inst *ret = returned(&f);
    ir_ref add = (ir_ref)(ret - f.insts);
    ir_ref saved = ir_at(&f, add)->args[0];
    ir_at(&f, add)->args[0] = add;
    ck_assert_str_eq(ir_verify(&f), "a use not dominated by its definition");
    ir_at(&f, add)->args[0] = saved;
    uint32_t b = ir_at(&f, add)->block;
    f.blocks[b].nsuccs = 0;
    ck_assert_str_eq(ir_verify(&f), "a terminator's successors do not match it");
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* A call with several results has no value: a projection each (IR_RESULT,
 * imm its index) follows it, and the function returns several values. */
START_TEST(several_results_become_projections)
{
    wasm_module *m = test_wat_module(
        "(module\n"
        " (import \"env\" \"three\" (func $three (result i32 f64 i64)))\n"
        " (func (result i32 f64) (call $three) (drop) (i64.const 0) (drop)))");
    ir_func f;
    build_ok(&f, m, 1);
    ck_assert_uint_eq(test_count_op(&f, IR_RESULT), 3);
    for (uint32_t b = 0; b < f.nblocks; b++)
        for (ir_ref r = f.blocks[b].first; r; r = ir_at(&f, r)->next) {
            ir_inst *in = ir_at(&f, r);
            if (in->op == WASM_OP_CALL) {
                ck_assert_uint_eq(in->type, 0);
                for (uint32_t i = 0; i < 3; i++) {
                    in = ir_at(&f, in->next);
                    ck_assert_uint_eq(in->op, IR_RESULT);
                    ck_assert_uint_eq(in->imm, i);
                    ck_assert_uint_eq(in->args[0], r);
                }
                ck_assert_uint_eq(in->type, WASM_I64);
            }
            if (in->op == WASM_OP_RETURN) {
                ck_assert_uint_eq(in->nargs, 2);
                ck_assert_uint_eq(ir_at(&f, in->args[0])->op, IR_RESULT);
                ck_assert_uint_eq(ir_at(&f, in->args[0])->imm, 0);
                ck_assert_uint_eq(ir_at(&f, in->args[1])->imm, 1);
            }
        }
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* The metering instructions of a function, block by block in the
 * builder's order, each with its charge, and the calls and terminators
 * between them: "C2 E call | ...". */
static void metering_of(ir_func *f, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t b = 0; b < f->nblocks; b++) {
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            const char *name = NULL;
            char word[32];
            switch (in->op) {
            case IR_FUEL: snprintf(word, sizeof word, "F%u", (unsigned)in->imm); name = word; break;
            case IR_FUEL_CHECK: snprintf(word, sizeof word, "C%u", (unsigned)in->imm); name = word; break;
            case IR_EPOCH_CHECK: name = "E"; break;
            case WASM_OP_CALL: name = "call"; break;
            case WASM_OP_BR_IF: name = "br_if"; break;
            case WASM_OP_RETURN: name = "return"; break;
            case WASM_OP_UNREACHABLE: name = "unreachable"; break;
            }
            if (name)
                n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", name);
            ck_assert_uint_lt(n, size);
        }
    }
}

/* Tier 1's runs (compiler/meter.c), as build.c places them. */
START_TEST(metering_follows_tier_1)
{
    wasm_module *m = test_wat_module(
        "(module (import \"env\" \"g\" (func $g (param i32) (result i32)))\n"
        " (func (param $n i32) (result i32) (local $i i32)\n"
        "  i32.const 1 call $g drop\n"           /* the entry's run: 2 */
        "  loop $l\n"                            /* the header's: 7 */
        "    local.get $i i32.const 1 i32.add local.tee $i\n"
        "    i32.const 1 i32.and br_if $l\n"
        "    local.get $i call $g drop\n"        /* 2 */
        "    block $b local.get $n br_if $b\n"   /* 2 */
        "      i32.const 0 drop\n"               /* 1 */
        "    end\n"
        "    block i32.const 0 drop end\n"       /* a block no branch targets: */
        "    local.get $i local.get $n i32.lt_u br_if $l\n" /* 1 + 4 */
        "  end\n"
        "  nop\n"                                /* free, then after the br_if: 1 */
        "  local.get $i\n"
        "  return\n"
        "  i32.const 5))\n");                    /* unreachable: free */
    ir_func f;
    const char *why = NULL;
    ck_assert_msg(ir_build_metered(&f, m, 1, true, true, &why), "declined: %s", why);
    ck_assert_ptr_null(ir_verify(&f));
    char text[256];
    metering_of(&f, text, sizeof text);
    ck_assert_str_eq(text, "C2 E call C7 E br_if F2 call F2 br_if F5 F1 br_if F1 return");
    ir_free(&f);
    /* Without metering nothing of it. */
    build_ok(&f, m, 1);
    metering_of(&f, text, sizeof text);
    ck_assert_str_eq(text, "call br_if call br_if br_if return");
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* Module offset of the first `pat` in function `func`'s instructions. */
static uint32_t offset_in(const wasm_module *m, uint32_t func, const uint8_t *pat, size_t n)
{
    const wasm_func *fn = &m->funcs[func];
    for (uint32_t at = fn->body; at + n <= fn->body_end; at++)
        if (memcmp(m->bytes + at, pat, n) == 0)
            return at;
    ck_abort_msg("pattern not in function %u", func);
    return 0;
}

/* Calls of small leaf functions are built in place: the caller's IR has
 * no call of them, their instructions' positions are inline entries
 * naming the callee's offset and the call's, their metering is the call's
 * and the callee's. Calls of functions that call, and of larger ones, and
 * those past the caller's budget stay. */
START_TEST(small_leaf_calls_are_inlined)
{
    char big[4096] = "", small[1024] = "";
    for (int i = 0; i < 40; i++)
        strcat(big, " (local.set 0 (i32.add (local.get 0) (i32.const 1)))");
    for (int i = 0; i < 10; i++)
        strcat(small, " (local.set 0 (i32.add (local.get 0) (i32.const 1)))");
    char wat[8192];
    snprintf(wat, sizeof wat,
             "(module (memory 1)\n"
             " (func $leaf (param i32 i32) (result i32 i32) (local i32)\n"
             "  (local.set 2 (i32.div_u (local.get 0) (local.get 1)))\n"
             "  (local.get 2) (i32.load offset=4 (local.get 0)))\n"
             " (func $calls (param i32) (result i32) (call $calls (local.get 0)))\n"
             " (func $big (param i32) (result i32) %s (local.get 0))\n"
             " (func $caller (param i32 i32) (result i32)\n"
             "  (call $calls (local.get 0)) (call $big (local.get 0)) (i32.add)\n"
             "  (call $leaf (local.get 0) (local.get 1)) (i32.add) (i32.add)))",
             big);
    wasm_module *m = test_wat_module(wat);
    ir_func f;
    build_ok(&f, m, 3);
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_CALL), 2);
    uint32_t call = offset_in(m, 3, (const uint8_t[]){0x10, 0x00}, 2);
    uint32_t div = offset_in(m, 0, (const uint8_t[]){0x6e}, 1);
    uint32_t load = offset_in(m, 0, (const uint8_t[]){0x28}, 1);
    uint32_t seen = 0;
    for (uint32_t b = 0; b < f.nblocks; b++)
        for (ir_ref r = f.blocks[b].first; r; r = ir_at(&f, r)->next) {
            ir_inst *in = ir_at(&f, r);
            if (in->op == WASM_OP_CALL)
                ck_assert(in->imm == 1 || in->imm == 2);
            if (in->op != WASM_OP_I32_DIV_U && in->op != WASM_OP_I32_LOAD)
                continue;
            ck_assert(in->wasm & COMPILED_INLINED);
            compiled_inline e = f.inlines[in->wasm & ~COMPILED_INLINED];
            ck_assert_uint_eq(e.func, 0);
            ck_assert_uint_eq(e.wasm, in->op == WASM_OP_I32_DIV_U ? div : load);
            ck_assert_uint_eq(e.call, call);
            seen++;
        }
    ck_assert_uint_eq(seen, 2);
    ir_free(&f);
    wasm_module_free(m);

    /* Metered: the call's run, then the callee's checked one. */
    m = test_wat_module("(module (func $g (param i32) (result i32) local.get 0 i32.const 1 i32.add)\n"
                        " (func (param i32) (result i32) local.get 0 call $g i32.const 2 i32.mul))");
    const char *why = NULL;
    ck_assert_msg(ir_build_metered(&f, m, 1, true, true, &why), "declined: %s", why);
    ck_assert_ptr_null(ir_verify(&f));
    char text[256];
    metering_of(&f, text, sizeof text);
    ck_assert_str_eq(text, "C2 E F2 return C3 E");
    ck_assert_uint_eq(test_count_op(&f, WASM_OP_CALL), 0);
    ir_free(&f);
    wasm_module_free(m);

    /* A caller that calls a leaf often inlines what its budget allows. */
    char many[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(many, " (drop (call $leaf (local.get 0)))");
    snprintf(wat, sizeof wat,
             "(module (func $leaf (param i32) (result i32) %s (local.get 0))\n"
             " (func (param i32) %s))", small, many);
    m = test_wat_module(wat);
    build_ok(&f, m, 1);
    uint32_t calls = test_count_op(&f, WASM_OP_CALL);
    ck_assert_msg(calls > 0 && calls < 40, "%u calls left of 40", calls);
    ir_free(&f);
    wasm_module_free(m);
}
END_TEST

/* Allocations fail on demand: the one `fail_in` allocations from now (0:
 * the next), or none while it is negative. The others go to the next
 * allocator: the C library's, or a sanitizer's. */
static long fail_in = -1;
static bool failing(void) { return fail_in >= 0 && fail_in-- == 0; }
void *malloc(size_t n)
{
    static void *(*next)(size_t);
    if (!next)
        next = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    return failing() ? NULL : next(n);
}
void *calloc(size_t k, size_t n)
{
    static void *(*next)(size_t, size_t);
    static bool finding; /* dlsym may call calloc: it copes with NULL */
    if (!next && !finding) {
        finding = true;
        next = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
        finding = false;
    }
    return !next || failing() ? NULL : next(k, n);
}
void *realloc(void *p, size_t n)
{
    static void *(*next)(void *, size_t);
    if (!next)
        next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    return failing() ? NULL : next(p, n);
}

/* Memory running out at any allocation of a compile: tier 2 says "out of
 * memory", leaves nothing in the output, and does not crash (a br_table's
 * jump table cut short once did, in emit_jump_tables). */
START_TEST(out_of_memory_anywhere_leaves_nothing)
{
    char targets[24 * 3 + 1] = "";
    for (int i = 0; i < 24; i++)
        strcat(targets, i % 2 ? "1 " : "0 ");
    char wat[2048];
    snprintf(wat, sizeof wat,
             "(module (memory 1) (table 1 funcref) (type $t (func (param i32) (result i32)))\n"
             " (func $f (type $t) (local.get 0))\n"
             " (func (param i32) (result i32) (local i32)\n"
             "  (loop $l\n"
             "   (block (block (br_table %s 2 (local.get 0)))\n"
             "    (local.set 1 (call $f (local.get 1))) (br $l))\n"
             "   (local.set 1 (call_indirect (type $t) (local.get 1) (local.get 0)))\n"
             "   (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))\n"
             "  (i32.add (local.get 1) (i32.load offset=8 (local.get 0)))))",
             targets);
    wasm_module *m = test_wat_module(wat);
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30};
    vm_memory_plan plan = vm_plan_memory(&m->memories[0], (uint64_t)4 << 30, &mc);
    uint32_t ids[1] = {0}, slots[2] = {0};
    opt_env env = {.m = m, .plans = &plan, .type_ids = ids, .func_slots = slots, .nfunc_slots = 2};
    long failures = 0;
    for (long k = 0;; k++) {
        module_out out = {0};
        const char *why = NULL;
        fail_in = k;
        bool ok = opt_compile(&env, 1, &out, &why);
        fail_in = -1;
        if (!ok) {
            ck_assert_str_eq(why, "out of memory");
            ck_assert_uint_eq(out.code.len, 0);
            ck_assert_uint_eq(out.traps.n, 0);
            ck_assert_uint_eq(out.addrs.n, 0);
            ck_assert_uint_eq(out.relocs.n, 0);
            failures++;
        }
        out_free(&out);
        if (ok)
            break;
    }
    /* it did fail, at many places (fewer than the arrays: most passes'
     * come from the function's arena, one allocation for many) */
    ck_assert_int_gt(failures, 20);
    wasm_module_free(m);
}
END_TEST

/* What tier 2 compiles and what it leaves to tier 1, with the reason. */
START_TEST(tier2_compiles_or_declines)
{
    char rotated[65 * 4 + 1] = "", gets[65 * 16] = "", sets[65 * 16] = "";
    for (int i = 0; i < 65; i++) {
        strcat(rotated, "i32 ");
        sprintf(gets + strlen(gets), "(local.get %d) ", 1 + (i + 1) % 65);
        sprintf(sets + strlen(sets), "(local.set %d) ", 65 - i);
    }
    char wat[4096];
    snprintf(wat, sizeof wat,
        "(module (memory 1) (table 1 funcref)\n"
        " (func $sum (param $n i32) (result i32) (local $i i32) (local $s i32)\n"
        "  (loop $l\n"
        "    (local.set $s (i32.add (local.get $s) (i32.load (local.get $i))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4)))\n"
        "                        (local.get $n))))\n"
        "  (local.get $s))\n"
        " (func $self (param i32) (result i32) (call $self (local.get 0)))\n"
        " (func (param i32) (result funcref) (table.get 0 (local.get 0)))\n"
        " (func (param i32) (result i32) (i32.load offset=4294967295 (local.get 0)))\n"
        " (func (param i32) (result i32) (local %s)\n" /* 65 locals rotated: a phi move each */
        "  (loop %s %s (br_if 0 (local.get 0))) (local.get 1)))", rotated, gets, sets);
    wasm_module *m = test_wat_module(wat);
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30};
    vm_memory_plan plan = vm_plan_memory(&m->memories[0], (uint64_t)4 << 30, &mc);
    opt_env env = {.m = m, .plans = &plan};
    module_out out = {0};
    const char *why = NULL;
    ck_assert_msg(opt_compile(&env, 0, &out, &why), "declined: %s", why);
    ck_assert_msg(opt_compile(&env, 1, &out, &why), "declined: %s", why);
    ck_assert_uint_eq(out.relocs.n, 1); /* the call */
    ck_assert_uint_ge(out.traps.n, 2);  /* the load, the stack check */
    ck_assert_msg(opt_compile(&env, 2, &out, &why), "declined: %s", why);
    uint32_t len = out.code.len;
    ck_assert(!opt_compile(&env, 4, &out, &why));
    ck_assert_str_eq(why, "too many phis on an edge");
    ck_assert_uint_eq(out.code.len, len); /* nothing left behind */
    /* a load that needs a check: the stack check, the load, the check's stub */
    uint32_t traps = out.traps.n;
    ck_assert_msg(opt_compile(&env, 3, &out, &why), "declined: %s", why);
    ck_assert_uint_eq(out.traps.n, traps + 3);
    /* Metered: the checks at the entry and the loop header trap out of fuel. */
    env.fuel_checks = env.epoch_checks = true;
    traps = out.traps.n;
    ck_assert_msg(opt_compile(&env, 0, &out, &why), "declined: %s", why);
    uint32_t fuel_traps = 0;
    for (uint32_t i = traps; i < out.traps.n; i++)
        fuel_traps += out.traps.v[i].code == WJ_TRAP_OUT_OF_FUEL;
    ck_assert_uint_eq(fuel_traps, 2);
    out_free(&out);
    wasm_module_free(m);
}
END_TEST

/* Every function of a module builds (or is declined) and verifies;
 * returns how many were built. */
static uint32_t build_all(const wasm_module *m, const char *path)
{
    uint32_t built = 0;
    for (uint32_t k = 0; k < 2 * (m->nfuncs - m->nfunc_imports); k++) {
        uint32_t i = m->nfunc_imports + k / 2;
        bool metered = k % 2; /* each also with fuel and epochs */
        ir_func f;
        const char *why = NULL;
        if (!ir_build_metered(&f, m, i, metered, metered, &why)) {
            ck_assert_msg(strcmp(why, "out of memory") != 0, "%s: out of memory", path);
            continue;
        }
        const char *bad = ir_verify(&f);
        if (bad)
            ir_print(&f, stderr);
        ck_assert_msg(bad == NULL, "%s: function %u: %s", path, i, bad);
        ir_free(&f);
        built += !metered;
    }
    return built;
}

START_TEST(corpus_builds_and_verifies)
{
    corpus_each(build_all);
}
END_TEST

static Suite *ir_suite(void)
{
    Suite *s = suite_create("ir");
    TCase *t = tcase_create("build");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, straight_line_has_no_phis);
    tcase_add_test(t, loop_carried_locals_become_header_phis);
    tcase_add_test(t, if_else_merges_into_a_phi);
    tcase_add_test(t, block_results_and_branches);
    tcase_add_test(t, v128_values_build);
    tcase_add_test(t, verifier_catches_broken_ir);
    tcase_add_test(t, several_results_become_projections);
    tcase_add_test(t, metering_follows_tier_1);
    tcase_add_test(t, small_leaf_calls_are_inlined);
    tcase_add_test(t, tier2_compiles_or_declines);
    tcase_add_test(t, out_of_memory_anywhere_leaves_nothing);
    tcase_add_test(t, corpus_builds_and_verifies);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(ir_suite());
}
