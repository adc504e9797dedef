/*
 * Inlining of small leaf functions (build.c builds the callee's body into
 * the caller's SSA at the call): which calls qualify, and the inline
 * entries that keep backtraces exact.
 *
 * Inlined code carries, where a wasm offset would be, COMPILED_INLINED | i
 * (compiler.h): i indexes the function's own entries while it is built and
 * optimized, one per inlined instruction; once the code is emitted, the
 * entries its address map uses go to the module output, renumbered. A leaf
 * calls nothing, so an entry's call is always an offset in the caller.
 *
 * An inlined call has no frame: no stack check at the callee's entry (tier
 * 2's frames are not tier 1's size anyway), and in tiered execution the
 * callee's baseline entry does not count it (the caller, in tier 2, counts
 * nothing, and the callee's own code no longer runs for it).
 */
#include <stdlib.h>

#include "backend.h"
#include "ir.h"

/* A callee qualifies up to this many bytes of code and instructions: what
 * accessors, small arithmetic helpers and short loops take. */
#define INLINE_MAX_BYTES 160
#define INLINE_MAX_INSTRS 48
/* What a caller may grow by, in callees' bytes: a multiple of its own, so
 * that a module's tier-2 code (and compile time) grows by a bounded factor
 * at most (in practice by a few percent: Sightglass' gcc-loops and regex
 * compile about 3% slower). */
#define INLINE_GROWTH 2
#define INLINE_GROWTH_MIN 512

uint64_t ir_inline_budget(const wasm_module *m, uint32_t func)
{
    const wasm_func *fn = &m->funcs[func];
    return INLINE_GROWTH * (uint64_t)(fn->body_end - fn->body) + INLINE_GROWTH_MIN;
}

bool ir_inline_candidate(const wasm_module *m, uint32_t func, uint64_t *budget)
{
    /* offsets of 2 GiB and more read as inline entries (compiler.h) */
    if (func < m->nfunc_imports || m->size > COMPILED_INLINED)
        return false;
    const wasm_func *fn = &m->funcs[func];
    uint32_t bytes = fn->body_end - fn->body;
    if (bytes > INLINE_MAX_BYTES || bytes > *budget)
        return false;
    wasm_error err = {0};
    wasm_reader r = {.base = m->bytes, .p = m->bytes + fn->body, .end = m->bytes + fn->body_end,
                     .err = &err};
    for (uint32_t n = 0; r.p < r.end; n++) {
        wasm_instr ins;
        if (n == INLINE_MAX_INSTRS || !wasm_decode_instr(&r, m->features, &ins) ||
            ins.op == WASM_OP_CALL || ins.op == WASM_OP_CALL_INDIRECT || ir_build_declines(&ins))
            return false;
    }
    *budget -= bytes;
    return true;
}

bool ir_inline_entry(ir_func *f, uint32_t func, uint32_t wasm, uint32_t call, uint32_t *pos)
{
    uint32_t n = f->ninlines;
    const compiled_inline *last = n ? &f->inlines[n - 1] : NULL;
    if (!last || last->func != func || last->wasm != wasm || last->call != call) {
        if (n == COMPILED_INLINED - 1 ||
            !ir_grow((void **)&f->inlines, &f->inlines_cap, sizeof *f->inlines, n + 1))
            return false;
        f->inlines[f->ninlines++] = (compiled_inline){func, wasm, call};
    }
    *pos = COMPILED_INLINED | (f->ninlines - 1);
    return true;
}

/* The output's index of f's entry i (moved there unless it was), as an
 * address-map value; UINT32_MAX when out of memory. */
static uint32_t keep(ir_func *f, module_out *o, uint32_t *moved, uint32_t i)
{
    if (!moved[i]) {
        const compiled_inline *e = &f->inlines[i];
        if (!VEC_PUSH_OK(o->inlines, {e->func, e->wasm, e->call}))
            return UINT32_MAX;
        moved[i] = o->inlines.n;
    }
    return COMPILED_INLINED | (moved[i] - 1);
}

bool opt_inline_out(ir_func *f, module_out *o, uint32_t addrs)
{
    if (!f->ninlines)
        return true;
    uint32_t *moved = calloc(f->ninlines, sizeof *moved); /* 1 + index in o, or 0 */
    bool ok = moved != NULL;
    for (uint32_t i = addrs; i < o->addrs.n && ok; i++) {
        uint32_t *wasm = &o->addrs.v[i].wasm;
        if (*wasm != COMPILED_NO_FRAME && (*wasm & COMPILED_INLINED))
            ok = (*wasm = keep(f, o, moved, *wasm & ~COMPILED_INLINED)) != UINT32_MAX;
    }
    free(moved);
    return ok;
}
