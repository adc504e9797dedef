/* Tier 2's driver: SSA, what it covers, dead code, the back end. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "passes.h"

bool be_fail(backend *be, const char *why)
{
    if (!be->why)
        be->why = why;
    return false;
}

/* Operations without effects whose value nobody uses go, to a fixed point
 * (a use count per value). Loads stay: they may trap. As its walk sees
 * every instruction, it also tells whether some load or store checks its
 * bounds (*checked): bce.c has nothing to do without one (with the default
 * reservations, none does). */
static bool remove_dead_code(const opt_env *env, ir_func *f, bool *checked)
{
    uint32_t *uses = ir_alloc(f, f->ninsts, sizeof *uses);
    ir_ref *work = ir_alloc_raw(f, f->ninsts, sizeof *work);
    if (!uses || !work)
        return false;
    /* the values that could go, which those nobody uses then do */
    uint32_t n = 0;
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            for (uint32_t i = 0; i < in->nargs; i++)
                uses[in->args[i]]++;
            if (in->type && !ir_has_effects(in->op))
                work[n++] = r;
            else if (in->op >= WASM_OP_I32_LOAD && in->op <= WASM_OP_I64_STORE32 && !*checked)
                *checked = be_access_checked(env, in);
        }
    uint32_t unused = 0;
    for (uint32_t i = 0; i < n; i++)
        if (uses[work[i]] == 0)
            work[unused++] = work[i];
    n = unused;
    while (n) {
        ir_ref r = work[--n];
        ir_inst *in = ir_at(f, r);
        uint16_t op = in->op;
        bool pure = in->type && !ir_has_effects(op);
        if (!pure || (in->flags & IR_DEAD))
            continue;
        ir_remove(f, r);
        for (uint32_t i = 0; i < in->nargs; i++)
            if (--uses[in->args[i]] == 0)
                work[n++] = in->args[i];
    }
    return true;
}

/* The optimization passes (passes.h), in order; false when memory ran
 * out. */
static bool optimize(const opt_env *env, ir_func *f)
{
    ir_dom d;
    if (!ir_dominators(f, &d))
        return false;
    bool ok = opt_simplify(f, &d) && opt_gvn(f, &d) && opt_licm(f, &d) && opt_ivsr(f, &d);
    ir_dom_free(&d);
    bool threaded = false;
    ok = ok && opt_thread(f, &threaded);
    if (ok && threaded) {
        /* the copies' phis became their constants: fold what uses them */
        ok = ir_dominators(f, &d);
        if (ok) {
            opt_mark_loops(f, &d);
            ok = opt_simplify(f, &d);
            ir_dom_free(&d);
        }
    }
    bool checked = false;
    bool packed = false;
    ok = ok && opt_fold_branches(f) && remove_dead_code(env, f, &checked) &&
         opt_vectorize_outer(f, &packed) && opt_vectorize(f, &packed);
    /* what the packed copies no longer read (their lanes' addresses) */
    ok = ok && (!packed || remove_dead_code(env, f, &checked));
    if (!ok || !checked)
        return ok;
    if (!ir_dominators(f, &d))
        return false;
    ok = opt_bce(f, &d);
    ir_dom_free(&d);
    return ok;
}

/* What the back end holds outside the function's arena (be_alloc). */
static void backend_free(backend *be)
{
    free(be->reloads.v);
    free(be->saves.v);
    free(be->fixups.v);
    free(be->table_entries.v);
    free(be->lazy_paths.v);
    free(be->epoch_paths.v);
    vpool_free(&be->pool);
    free(be->stubs.v);
}

/* Compiles a function's IR f (then freed) at the end of o's code. */
/* Between the back end's phases: false ("cancelled") once the compile is
 * no longer wanted, so that tearing an engine down does not wait for it. */
static bool go_on(backend *be)
{
    return !be_cancelled(be) || be_fail(be, "cancelled");
}

static bool compile_ir(const opt_env *env, ir_func *f, module_out *o, const char **why)
{
    if (!optimize(env, f)) {
        *why = "out of memory";
        ir_free(f);
        return false;
    }
    backend be = {.ir = f, .env = env, .out = o, .cb = &o->code};
    /* Code and tables written by a failed attempt are taken back. */
    uint32_t code = o->code.len, traps = o->traps.n, addrs = o->addrs.n, relocs = o->relocs.n;
    uint32_t inlines = o->inlines.n;
    bool ok = go_on(&be) && order_blocks(&be) && be_select(&be) && go_on(&be) &&
              compute_intervals(&be) && go_on(&be) && allocate_registers(&be) && plan_reloads(&be) &&
              go_on(&be) && emit_function(&be) && opt_inline_out(f, o, addrs);
    if (!ok) {
        *why = be.why ? be.why : "out of memory";
        o->code.len = code, o->traps.n = traps, o->addrs.n = addrs, o->relocs.n = relocs;
        o->inlines.n = inlines;
    }
    backend_free(&be);
    ir_free(f);
    return ok;
}

bool opt_compile(const opt_env *env, uint32_t index, module_out *o, const char **why)
{
    ir_func f;
    *why = NULL;
    return ir_build_metered(&f, env->m, index, env->fuel_checks, env->epoch_checks, why) &&
           compile_ir(env, &f, o, why);
}

bool opt_compile_osr(const opt_env *env, uint32_t index, uint32_t loop_offset, module_out *o,
                     const char **why)
{
    ir_func f;
    *why = NULL;
    return ir_build_osr(&f, env->m, index, loop_offset, env->fuel_checks, env->epoch_checks,
                        why) &&
           compile_ir(env, &f, o, why);
}
