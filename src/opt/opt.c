/* Tier 2's driver: SSA, what it covers, dead code, the back end. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

bool be_fail(backend *be, const char *why)
{
    if (!be->why)
        be->why = why;
    return false;
}

/* No check is needed when the furthest byte an access can touch lies in
 * the static memory's mapping and the displacement fits (as tier 1's). */
static bool check_elided(const vm_memory_plan *p, uint64_t max_index, uint64_t offset, int size)
{
    if (p->dynamic || offset > INT32_MAX - (uint64_t)size || max_index > p->extent)
        return false;
    return offset + (uint64_t)size <= p->extent - max_index;
}

static int access_size(uint16_t op)
{
    static const uint8_t sizes[] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4,
                                    4, 8, 4, 8, 1, 2, 1, 2, 4};
    return sizes[op - WASM_OP_I32_LOAD];
}

/* What the back end covers so far; the rest stays in tier 1. */
static const char *unsupported(const opt_env *env, ir_func *f)
{
    const wasm_module *m = env->m;
    if (f->type->nresults > 1)
        return "several results";
    for (uint32_t b = 0; b < f->nblocks; b++) {
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            uint16_t op = in->op;
            if (in->type && in->type != WASM_I32 && in->type != WASM_I64 && in->type != WASM_F32 &&
                in->type != WASM_F64)
                return "references";
            if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) {
                ir_ref a = in->args[0];
                bool c = ir_at(f, a)->op == WASM_OP_I32_CONST;
                uint64_t offset = c ? (uint32_t)ir_at(f, a)->imm + in->imm : in->imm;
                if (in->aux != 0 || m->memories[0].is64 ||
                    !check_elided(&env->plans[0], c ? 0 : UINT32_MAX, offset, access_size(op)))
                    return "a memory access that needs a check";
                continue;
            }
            if (op == WASM_OP_CALL || op == WASM_OP_CALL_INDIRECT) {
                const wasm_functype *t = op == WASM_OP_CALL ? wasm_func_type(m, (uint32_t)in->imm)
                                                            : &m->types[in->imm];
                for (uint32_t i = 0; i < t->nparams; i++)
                    if (t->params[i] == WASM_V128)
                        return "v128 arguments";
                continue;
            }
            if (op == WASM_OP_MEMORY_SIZE || op == WASM_OP_MEMORY_GROW ||
                op == WASM_OP_MEMORY_FILL || op == WASM_OP_MEMORY_COPY) {
                /* memory 0, static and 32-bit (its base never moves) */
                if (in->aux != 0 || m->memories[0].is64 || env->plans[0].dynamic ||
                    (op == WASM_OP_MEMORY_COPY && in->imm != 0))
                    return wasm_op_name(op);
            }
        }
    }
    return NULL;
}

/* Operations without effects whose value nobody uses go, to a fixed point
 * (a use count per value). Loads stay: they may trap. */
static bool remove_dead_code(ir_func *f)
{
    uint32_t *uses = calloc(f->ninsts, sizeof *uses);
    ir_ref *work = malloc(f->ninsts * sizeof *work);
    if (!uses || !work) {
        free(uses);
        free(work);
        return false;
    }
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            for (uint32_t i = 0; i < ir_at(f, r)->nargs; i++)
                uses[ir_at(f, r)->args[i]]++;
    uint32_t n = 0;
    for (ir_ref r = 1; r < f->ninsts; r++)
        if (!(ir_at(f, r)->flags & IR_DEAD) && uses[r] == 0)
            work[n++] = r;
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
    free(uses);
    free(work);
    return true;
}

static void backend_free(backend *be)
{
    free(be->order);
    free(be->folded);
    free(be->pos);
    free(be->block_start);
    free(be->block_end);
    free(be->start);
    free(be->end);
    free(be->uses);
    free(be->reg);
    free(be->slot);
    free(be->save_slot);
    free(be->save_first);
    free(be->save_count);
    free(be->saves.v);
    free(be->label);
    free(be->fixups.v);
    free(be->table_entries.v);
    free(be->lazy_paths.v);
    free(be->epoch_paths.v);
    free(be->pool_slot);
    free(be->pool.v);
    free(be->pool_refs.v);
    free(be->stubs.v);
}

bool opt_compile(const opt_env *env, uint32_t index, module_out *o, const char **why)
{
    ir_func f;
    *why = NULL;
    if (!ir_build_metered(&f, env->m, index, env->fuel_checks, env->epoch_checks, why))
        return false;
    *why = unsupported(env, &f);
    if (*why) {
        ir_free(&f);
        return false;
    }
    backend be = {.ir = &f, .env = env, .out = o, .cb = &o->code};
    /* Code and tables written by a failed attempt are taken back. */
    uint32_t code = o->code.len, traps = o->traps.n, addrs = o->addrs.n, relocs = o->relocs.n;
    bool ok = (remove_dead_code(&f) || be_fail(&be, "out of memory")) && order_blocks(&be) &&
              be_select(&be) && compute_intervals(&be) && allocate_registers(&be) && emit_function(&be);
    if (!ok) {
        *why = be.why ? be.why : "out of memory";
        o->code.len = code, o->traps.n = traps, o->addrs.n = addrs, o->relocs.n = relocs;
    }
    backend_free(&be);
    ir_free(&f);
    return ok;
}
