/* Tier 2's on-stack-replacement entries (opt_compile_osr, ir_build_osr):
 * what they decline, the shape of their IR, every loop of the corpus, and
 * entries run for real against an instance of the same module. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "corpus.h"
#include "fixture.h"
#include "opt/opt.h"
#include "runtime/engine.h"
#include "runtime/func.h"
#include "runtime/module.h"
#include "runtime/store.h"
#include "signals/activation.h"
#include "unit.h"
#include "wasm/opcodes.h"

/* A loop of a function, and why an OSR entry there must be declined
 * (NULL: it must not), found by following the operand stack's height. */
typedef struct osr_loop {
    uint32_t at; /* module offset of its `loop` */
    const char *why;
} osr_loop;

/* An open block, loop, if or the function's body, as loops_of follows it. */
typedef struct frame {
    uint16_t kind;
    uint32_t height, nparams, nresults;
    bool live;    /* entered from live code */
    bool reached; /* its end: branched to or fallen into */
    bool has_else;
} frame;

/* Stack effects of the instructions that the operator table leaves to
 * context, in live code (control is handled by the caller). */
static int32_t custom_effect(const wasm_module *m, const wasm_instr *ins)
{
    switch (ins->op) {
    case WASM_OP_CALL: case WASM_OP_CALL_INDIRECT: {
        bool indirect = ins->op == WASM_OP_CALL_INDIRECT;
        const wasm_functype *t = indirect ? &m->types[ins->call_indirect.type]
                                          : wasm_func_type(m, ins->index);
        return (int32_t)t->nresults - (int32_t)t->nparams - indirect;
    }
    case WASM_OP_LOCAL_GET: case WASM_OP_GLOBAL_GET: case WASM_OP_REF_NULL:
    case WASM_OP_REF_FUNC:
        return 1;
    case WASM_OP_LOCAL_TEE: case WASM_OP_TABLE_GET: case WASM_OP_REF_IS_NULL: return 0;
    case WASM_OP_DROP: case WASM_OP_LOCAL_SET: case WASM_OP_GLOBAL_SET: case WASM_OP_TABLE_GROW:
        return -1;
    case WASM_OP_SELECT: case WASM_OP_SELECT_T: case WASM_OP_TABLE_SET: return -2;
    case WASM_OP_MEMORY_COPY: case WASM_OP_TABLE_INIT: case WASM_OP_TABLE_COPY:
    case WASM_OP_TABLE_FILL:
        return -3;
    }
    ck_abort_msg("no stack effect for %s", ins->info->name);
    return 0;
}

/* The loops of defined function `index` (validated, no SIMD), in order;
 * *n gets their count. */
static osr_loop *loops_of(const wasm_module *m, uint32_t index, uint32_t *n)
{
    const wasm_func *func = &m->funcs[index];
    wasm_error err = {0};
    wasm_reader r = {.base = m->bytes, .p = m->bytes + func->body, .end = m->bytes + func->body_end,
                     .err = &err};
    osr_loop *loops = NULL;
    frame *frames = malloc(sizeof *frames);
    ck_assert_ptr_nonnull(frames);
    frames[0] = (frame){.live = true}; /* the function's */
    uint32_t nframes = 1, height = 0;
    bool live = true;
    *n = 0;
    while (nframes) {
        uint32_t at = (uint32_t)wasm_reader_pos(&r);
        wasm_instr ins;
        ck_assert_msg(wasm_decode_instr(&r, m->features, &ins), "function %u: %s", index,
                      err.message);
        frame *top = &frames[nframes - 1];
        switch (ins.op) {
        case WASM_OP_BLOCK: case WASM_OP_LOOP: case WASM_OP_IF: {
            height -= live && ins.op == WASM_OP_IF;
            frame c = {.kind = ins.op, .live = live};
            if (ins.block.type == WASM_BLOCK_FUNCTYPE) {
                c.nparams = m->types[ins.block.index].nparams;
                c.nresults = m->types[ins.block.index].nresults;
            } else {
                c.nresults = ins.block.type != WASM_BLOCK_EMPTY;
            }
            c.height = height - c.nparams;
            if (ins.op == WASM_OP_LOOP) {
                loops = realloc(loops, (*n + 1) * sizeof *loops);
                ck_assert_ptr_nonnull(loops);
                loops[(*n)++] = (osr_loop){
                    at, !live       ? "no reachable loop at that offset"
                        : c.nparams ? "a loop with parameters"
                        : c.height  ? "values on the stack below the loop"
                                    : NULL};
            }
            frames = realloc(frames, (nframes + 1) * sizeof *frames);
            ck_assert_ptr_nonnull(frames);
            frames[nframes++] = c;
            continue;
        }
        case WASM_OP_ELSE:
            top->reached |= live;
            top->has_else = true;
            live = top->live;
            height = top->height + top->nparams;
            continue;
        case WASM_OP_END:
            top->reached |= live || (top->kind == WASM_OP_IF && !top->has_else && top->live);
            live = top->reached;
            height = top->height + top->nresults;
            nframes--;
            continue;
        }
        if (!live)
            continue;
        switch (ins.op) {
        case WASM_OP_UNREACHABLE: case WASM_OP_RETURN: live = false; continue;
        case WASM_OP_BR: case WASM_OP_BR_IF:
            frames[nframes - 1 - ins.index].reached = true;
            live = ins.op == WASM_OP_BR_IF;
            height -= live;
            continue;
        case WASM_OP_BR_TABLE: {
            const uint8_t *p = ins.br_table.targets;
            for (uint32_t i = 0; i < ins.br_table.count; i++)
                frames[nframes - 1 - wasm_next_label(&p)].reached = true;
            frames[nframes - 1 - ins.br_table.default_label].reached = true;
            live = false;
            continue;
        }
        }
        if (ins.info->nin == WASM_CUSTOM_SIG)
            height += (uint32_t)custom_effect(m, &ins);
        else
            height += (ins.info->out != WASM_ANY) - ins.info->nin;
    }
    free(frames);
    return loops;
}

/* The first loop of function `index`. */
static uint32_t first_loop(const wasm_module *m, uint32_t index)
{
    uint32_t n;
    osr_loop *loops = loops_of(m, index, &n);
    ck_assert_uint_ge(n, 1);
    uint32_t at = loops[0].at;
    free(loops);
    return at;
}

/* An opt_env for a module no engine made: static 32-bit memories as the
 * default configuration plans them; no function has a reference slot. */
typedef struct env_storage {
    opt_env env;
    vm_memory_plan *plans;
    uint32_t *type_ids, *func_slots;
} env_storage;

static void env_open(env_storage *s, const wasm_module *m)
{
    vm_memory_config mc = {.reservation = (uint64_t)4 << 30, .guard = (uint64_t)2 << 30};
    s->plans = calloc(m->nmemories + 1, sizeof *s->plans);
    s->type_ids = calloc(m->ntypes + 1, sizeof *s->type_ids);
    s->func_slots = calloc(m->nfuncs + 1, sizeof *s->func_slots);
    ck_assert(s->plans && s->type_ids && s->func_slots);
    for (uint32_t i = 0; i < m->nmemories; i++)
        s->plans[i] = vm_plan_memory(&m->memories[i], (uint64_t)4 << 30, &mc);
    s->env = (opt_env){.m = m, .plans = s->plans, .type_ids = s->type_ids,
                       .func_slots = s->func_slots, .nfunc_slots = m->nfuncs - m->nfunc_imports};
}

static void env_close(env_storage *s)
{
    free(s->plans);
    free(s->type_ids);
    free(s->func_slots);
}

/* Why an OSR entry of function `index` at `loop` is declined (NULL when
 * both its build and its compilation succeed), with its IR verified. */
static const char *osr_declined(env_storage *s, uint32_t index, uint32_t loop)
{
    ir_func f;
    const char *why = NULL;
    const opt_env *env = &s->env;
    if (!ir_build_osr(&f, env->m, index, loop, env->fuel_checks, env->epoch_checks, &why))
        return why;
    const char *bad = ir_verify(&f);
    if (bad)
        ir_print(&f, stderr);
    ck_assert_msg(bad == NULL, "function %u, loop at %u: %s", index, loop, bad);
    ir_free(&f);
    module_out o = {0};
    bool ok = opt_compile_osr(env, index, loop, &o, &why);
    ck_assert(ok || o.code.len == 0); /* nothing left behind */
    out_free(&o);
    return ok ? NULL : why;
}

START_TEST(declines_what_it_cannot_enter)
{
    wasm_module *m = test_wat_module(
        "(module (type $p (func (param i32)))\n"
        " (func (param i32)\n" /* a loop with a parameter */
        "  (local.get 0) (loop (type $p) (br_if 0 (local.get 0)) (drop)))\n"
        " (func (param i32) (result i32)\n" /* a value below the loop */
        "  (local.get 0) (loop (br_if 0 (i32.eqz (local.get 0)))))\n"
        " (func (param i32)\n" /* a loop nothing reaches */
        "  (return) (loop (br 0)))\n"
        " (func (param i32) (local v128)\n" /* a v128 local: a parameter too */
        "  (loop (br_if 0 (local.get 0))))\n"
        " (func (param i32)\n" /* an offset that is no loop */
        "  (block (loop (br_if 1 (local.get 0)) (br 0)))))");
    env_storage s;
    env_open(&s, m);
    ck_assert_str_eq(osr_declined(&s, 0, first_loop(m, 0)), "a loop with parameters");
    ck_assert_str_eq(osr_declined(&s, 1, first_loop(m, 1)), "values on the stack below the loop");
    ck_assert_str_eq(osr_declined(&s, 2, first_loop(m, 2)), "no reachable loop at that offset");
    ck_assert_ptr_null(osr_declined(&s, 3, first_loop(m, 3)));
    uint32_t loop = first_loop(m, 4);
    ck_assert_str_eq(osr_declined(&s, 4, loop - 2), "no reachable loop at that offset"); /* block */
    ck_assert_str_eq(osr_declined(&s, 4, m->funcs[4].body_end), "no reachable loop at that offset");
    ck_assert_ptr_null(osr_declined(&s, 4, loop));
    env_close(&s);
    wasm_module_free(m);
}
END_TEST

/* The entry's IR: every local a parameter of block 0, which jumps to the
 * loop's header; the code before the loop and the function-entry checks
 * are gone, the header's stay. */
START_TEST(entry_jumps_to_the_header)
{
    wasm_module *m = test_wat_module(
        "(module (memory 1)\n"
        " (func (param $n i32) (param $x f64) (result f64 i64) (local $k i64) (local $acc f64)\n"
        "  (local.set $acc (f64.const 0.5))\n"
        "  (i32.store (i32.const 16) (i32.const 3))\n"
        "  (loop $outer\n"
        "    (loop $inner\n"
        "      (local.set $k (i64.add (local.get $k) (i64.const 1)))\n"
        "      (br_if $inner (i64.lt_u (local.get $k) (i64.const 10))))\n"
        "    (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
        "    (br_if $outer (local.get $n)))\n"
        "  (local.get $acc) (local.get $k)))");
    uint32_t n;
    osr_loop *loops = loops_of(m, 0, &n);
    ck_assert_uint_eq(n, 2);
    for (uint32_t l = 0; l < 2; l++) {
        ir_func f;
        const char *why = NULL;
        ck_assert_msg(ir_build_osr(&f, m, 0, loops[l].at, true, true, &why), "declined: %s", why);
        ck_assert_ptr_null(ir_verify(&f));
        static const uint8_t locals[4] = {WASM_I32, WASM_F64, WASM_I64, WASM_F64};
        ck_assert_uint_eq(f.type->nparams, 4);
        ck_assert_mem_eq(f.type->params, locals, 4);
        ck_assert_uint_eq(f.type->nresults, 2);
        ck_assert_uint_eq(f.type->results[0], WASM_F64);
        ck_assert_uint_eq(f.type->results[1], WASM_I64);
        uint32_t params = 0;
        for (ir_ref r = f.blocks[0].first; r; r = ir_at(&f, r)->next)
            if (ir_at(&f, r)->op == IR_PARAM) {
                ck_assert_uint_eq(ir_at(&f, r)->imm, params);
                ck_assert_uint_eq(ir_at(&f, r)->type, locals[params]);
                params++;
            }
        ck_assert_uint_eq(params, 4);
        ck_assert_uint_eq(test_count_op(&f, IR_PARAM), 4);
        const ir_block *entry = &f.blocks[0];
        ck_assert_uint_eq(ir_at(&f, entry->last)->op, WASM_OP_BR);
        ck_assert_uint_eq(entry->nsuccs, 1);
        const ir_block *header = &f.blocks[entry->succs[0]];
        ck_assert(header->loop_header);
        ck_assert_uint_eq(header->wasm, loops[l].at);
        /* the header's own checks come first in it, after its phis */
        ir_ref r = header->first;
        while (ir_at(&f, r)->op == IR_PHI)
            r = ir_at(&f, r)->next;
        ck_assert_uint_eq(ir_at(&f, r)->op, IR_FUEL_CHECK);
        ck_assert_uint_eq(ir_at(&f, ir_at(&f, r)->next)->op, IR_EPOCH_CHECK);
        /* both headers' checks (the inner loop's entry goes on to the
         * outer loop's next iteration), not the function entry's */
        ck_assert_uint_eq(test_count_op(&f, IR_FUEL_CHECK), 2);
        ck_assert_uint_eq(test_count_op(&f, IR_EPOCH_CHECK), 2);
        ck_assert_uint_eq(test_count_op(&f, WASM_OP_I32_STORE), 0); /* before the loops */
        ir_free(&f);
    }
    free(loops);
    wasm_module_free(m);
}
END_TEST

static uint32_t osr_entered;

/* Every loop of every function tier 2 compiles: its OSR entry builds,
 * verifies and compiles, unless it has parameters, values below it or is
 * unreachable, when it is declined for that. Returns how many loops were
 * entered. */
static uint32_t enter_all(const wasm_module *m, const char *path)
{
    env_storage s;
    env_open(&s, m);
    uint32_t entered = 0;
    for (uint32_t k = 0; k < 2 * (m->nfuncs - m->nfunc_imports); k++) {
        uint32_t i = m->nfunc_imports + k / 2;
        s.env.fuel_checks = s.env.epoch_checks = k % 2; /* each also metered */
        module_out o = {0};
        const char *why = NULL;
        bool compiles = opt_compile(&s.env, i, &o, &why);
        out_free(&o);
        if (!compiles)
            continue;
        uint32_t n;
        osr_loop *loops = loops_of(m, i, &n);
        for (uint32_t l = 0; l < n; l++) {
            why = osr_declined(&s, i, loops[l].at);
            ck_assert_msg(why == loops[l].why || (why && loops[l].why && !strcmp(why, loops[l].why)),
                          "%s: function %u, loop at %u: %s, not %s", path, i, loops[l].at,
                          why ? why : "entered", loops[l].why ? loops[l].why : "entered");
            entered += why == NULL;
        }
        free(loops);
    }
    env_close(&s);
    osr_entered += entered;
    return entered;
}

START_TEST(corpus_loops_enter)
{
    corpus_each(enter_all);
    ck_assert_uint_gt(osr_entered, 0);
}
END_TEST

/* ---- OSR entries run for real ---- */

/* An OSR entry compiled for an instance's module and mapped executable. */
typedef struct osr_code {
    uint8_t *map;
    size_t size;
    const void *entry;
} osr_code;

static osr_code osr_map(const fixture *fx, uint32_t index, uint32_t loop)
{
    const wj_module *mod = fx->module;
    const wasm_module *m = mod->wasm;
    const wj_config *c = &mod->engine->config;
    vm_memory_plan plans[1];
    ck_assert_uint_le(m->nmemories, 1);
    if (m->nmemories)
        plans[0] = vm_plan_memory(&m->memories[0], c->max_memory_size, &c->memory);
    opt_env env = {.m = m, .plans = plans, .type_ids = mod->type_ids,
                   .func_slots = mod->func_slots, .nfunc_slots = mod->nfunc_slots,
                   .fuel_checks = c->consume_fuel, .epoch_checks = c->epoch_interruption};
    module_out o = {0};
    /* the trap thunk, as compile.c puts one before a chunk's functions */
    o.trap_thunk = o.code.len;
    x86_mov_ri64(&o.code, R11, (uint64_t)(uintptr_t)wj__trap_trampoline);
    x86_jmp_rm(&o.code, R_(R11));
    static const uint8_t int3[16] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
                                     0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
    cb_bytes(&o.code, int3, -o.code.len % 16);
    uint32_t entry = o.code.len;
    const char *why = NULL;
    ck_assert_msg(opt_compile_osr(&env, index, loop, &o, &why), "declined: %s", why);
    ck_assert_uint_eq(o.relocs.n, 0); /* no direct calls to bind */
    ck_assert(!o.code.oom);
    osr_code code = {.size = (o.code.len + 4095) & ~(size_t)4095};
    code.map = mmap(NULL, code.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(code.map != MAP_FAILED);
    memcpy(code.map, o.code.p, o.code.len);
    ck_assert_int_eq(mprotect(code.map, code.size, PROT_READ | PROT_EXEC), 0);
    code.entry = code.map + entry;
    out_free(&o);
    return code;
}

/* Calls the entry as the runtime calls an export (call.c), with r15 the
 * instance's vmctx (taken from one of its exports): slots holds the
 * arguments, then the results when there are several; a single one goes
 * to *ret (its bits). */
static void osr_call(const fixture *fx, const osr_code *code, uint64_t *slots, size_t nslots,
                     uint64_t *ret, bool xmm)
{
    wj_func *f = fx_func(fx, "sum");
    wj_store *store = fx->store;
    vm_activation act = {.prev = wj__activation, .registry = store->code, .trace = store->trace,
                         .trace_cap = STORE_TRACE_CAP};
    store->depth++;
    wj__activation = &act;
    int r = wj__enter_wasm(f->ref.vmctx, code->entry, slots, nslots, &act);
    wj__activation = act.prev;
    store->depth--;
    ck_assert_int_eq(r, 0); /* returned, no trap */
    if (ret)
        *ret = xmm ? act.ret_xmm[0] : act.ret_gpr;
}

static uint64_t fuel_left(const fixture *fx)
{
    uint64_t fuel;
    ck_assert_no_wj_error(wj_store_get_fuel(fx->store, &fuel));
    return fuel;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static const char osr_module[] =
    "(module (memory 1)\n"
    " (func (export \"sum\") (param $n i32) (result i32) (local $i i32) (local $s i32)\n"
    "  (loop $l\n"
    "    (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))\n"
    "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
    "  (local.get $s))\n"
    " (func (export \"mix\") (param $p i32) (param $x f64) (result f64 i64)\n"
    "  (local $k i64) (local $acc f64)\n"
    "  (local.set $acc (f64.const 0.5))\n"           /* 5 instructions before the */
    "  (i32.store (i32.const 16) (i32.const 3))\n"    /* loop, which OSR skips */
    "  (block $out\n"
    "    (loop $l\n"
    "      (br_if $out (i32.eqz (local.get $p)))\n"
    "      (local.set $acc (f64.add (local.get $acc)\n"
    "        (f64.mul (local.get $x) (f64.convert_i32_u (i32.load (i32.const 16))))))\n"
    "      (local.set $k (i64.add (local.get $k) (i64.extend_i32_u (local.get $p))))\n"
    "      (local.set $p (i32.sub (local.get $p) (i32.const 1)))\n"
    "      (br $l)))\n"
    "  (f64.add (local.get $acc) (f64.const 0.25)) (local.get $k)))";

/* An entry given the locals' values at the header computes what the
 * function does from there, and charges exactly the fuel the function
 * charges from its header on. */
START_TEST(entries_run_the_rest_of_the_function)
{
    wj_config *config = wj_config_new();
    wj_config_set_consume_fuel(config, true);
    fixture fx;
    fx_open(&fx, osr_module, config);
    const wasm_module *m = fx.module->wasm;
    osr_code sum = osr_map(&fx, 0, first_loop(m, 0));
    osr_code mix = osr_map(&fx, 1, first_loop(m, 1));
    const uint64_t tank = 1000000;

    /* sum(10) from its start, then entered at its header with the
     * locals the function has there (n 10, i 0, s 0): its loop is its
     * first instruction, so the same result for the same fuel */
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, tank));
    wj_val res[2];
    ck_assert_no_trap(fx_call(&fx, "sum", (wj_val[]){v_i32(10)}, 1, res));
    ck_assert_int_eq(res[0].of.i32, 285);
    uint64_t sum_fuel = tank - fuel_left(&fx);
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, tank));
    uint64_t slots[4] = {10, 0, 0}, ret = 0;
    osr_call(&fx, &sum, slots, 3, &ret, false);
    ck_assert_uint_eq((uint32_t)ret, 285);
    ck_assert_uint_eq(tank - fuel_left(&fx), sum_fuel);
    /* entered mid-run: i 4, s 1000 */
    memcpy(slots, (uint64_t[]){10, 4, 1000}, 3 * sizeof *slots);
    osr_call(&fx, &sum, slots, 3, &ret, false);
    ck_assert_uint_eq((uint32_t)ret, 1000 + 285 - (0 + 1 + 4 + 9));

    /* mix(3, 2.0): acc 0.5 + 3 * (2.0 * 3) + 0.25, k 3 + 2 + 1 */
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, tank));
    wj_val args[2] = {v_i32(3), {.kind = WJ_F64, .of.f64 = 2.0}};
    ck_assert_no_trap(fx_call(&fx, "mix", args, 2, res));
    ck_assert(res[0].of.f64 == 18.75);
    ck_assert_int_eq(res[1].of.i64, 6);
    uint64_t mix_fuel = tank - fuel_left(&fx);
    /* at the header: p 3, x 2.0, k 0, acc 0.5; memory[16] is 3 already.
     * Two results come back in the argument area, as from a function. */
    ck_assert_no_wj_error(wj_store_set_fuel(fx.store, tank));
    memcpy(slots, (uint64_t[]){3, f64_bits(2.0), 0, f64_bits(0.5)}, sizeof slots);
    osr_call(&fx, &mix, slots, 4, NULL, false);
    ck_assert_uint_eq(slots[0], f64_bits(18.75));
    ck_assert_uint_eq(slots[1], 6);
    ck_assert_uint_eq(tank - fuel_left(&fx), mix_fuel - 5);
    /* other locals: p 2, x 1.5, k 100, acc 10.0 */
    memcpy(slots, (uint64_t[]){2, f64_bits(1.5), 100, f64_bits(10.0)}, sizeof slots);
    osr_call(&fx, &mix, slots, 4, NULL, false);
    ck_assert_uint_eq(slots[0], f64_bits(10.0 + 2 * (1.5 * 3) + 0.25));
    ck_assert_uint_eq(slots[1], 103);

    munmap(sum.map, sum.size);
    munmap(mix.map, mix.size);
    fx_close(&fx);
    wj_config_delete(config);
}
END_TEST

static Suite *osr_suite(void)
{
    Suite *s = suite_create("osr");
    TCase *t = tcase_create("osr");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, declines_what_it_cannot_enter);
    tcase_add_test(t, entry_jumps_to_the_header);
    tcase_add_test(t, corpus_loops_enter);
    tcase_add_test(t, entries_run_the_rest_of_the_function);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(osr_suite());
}
