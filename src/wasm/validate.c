/*
 * Function-body validation: one pass over each body with a typed operand
 * stack and a control stack, as in the spec's validation algorithm
 * (appendix "Validation Algorithm"). The stacks are reused across
 * functions and grow geometrically: no allocation per instruction, and no
 * recursion, so nesting depth is bounded only by memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "opcodes.h"
#include "reader.h"
#include "validate.h"

enum { CTRL_BLOCK, CTRL_LOOP, CTRL_IF, CTRL_ELSE, CTRL_FUNC };

typedef struct ctrl {
    uint8_t kind;
    bool unreachable;
    uint32_t height; /* operand stack height at entry */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
} ctrl;

typedef struct validator {
    const wasm_module *m;
    wasm_reader r;
    wasm_error *err;
    uint8_t *vals;
    uint32_t nvals, vals_cap;
    ctrl *ctrls;
    uint32_t nctrls, ctrls_cap;
    /* Local types, parameters first (the decoder's limits keep them few). */
    uint8_t *locals;
    uint32_t locals_cap;
    uint32_t nlocals;
    const wasm_func *func;
    uint32_t func_index;
    uint64_t op_at; /* offset of the instruction being validated */
} validator;

/* single_type + t is a one-element array holding the type t. */
static const uint8_t single_type[256] = {
    [WASM_I32] = WASM_I32,         [WASM_I64] = WASM_I64,   [WASM_F32] = WASM_F32,
    [WASM_F64] = WASM_F64,         [WASM_V128] = WASM_V128, [WASM_FUNCREF] = WASM_FUNCREF,
    [WASM_EXTERNREF] = WASM_EXTERNREF,
};

/* ---- errors ----------------------------------------------------------------- */

static bool invalid(validator *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool invalid(validator *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wasm_vfail(v->err, WASM_ERR_INVALID, v->op_at, fmt, ap);
    va_end(ap);
    return false;
}

static bool malformed(validator *v, uint64_t at, const char *msg)
{
    return wasm_reader_fail(&v->r, at, "%s", msg);
}

/* An opcode outside the instruction set: named when it belongs to a
 * proposal wasmjail does not implement, else malformed. */
static bool unknown_opcode(validator *v, uint8_t op)
{
    const char *proposal = NULL;
    switch (op) {
    case 0x06: case 0x07: case 0x08: case 0x09: /* try catch throw rethrow */
    case 0x0a: case 0x18: case 0x19: case 0x1f: /* throw_ref delegate catch_all try_table */
        proposal = "exception handling";
        break;
    case 0x12: case 0x13: case 0x15: /* return_call, _indirect, _ref */
        proposal = "tail calls";
        break;
    case 0x14: case 0xd4: case 0xd5: case 0xd6: /* call_ref ref.as_non_null br_on_(non_)null */
        proposal = "typed function references";
        break;
    case 0xd3: case 0xfb: /* ref.eq, the GC prefix */
        proposal = "GC proposal";
        break;
    case 0xfe: /* the atomics prefix */
        proposal = "threads (atomic instructions)";
        break;
    }
    if (proposal)
        return wasm_fail(v->err, WASM_ERR_UNSUPPORTED, v->op_at, "unsupported: %s", proposal);
    return malformed(v, v->op_at, "illegal opcode");
}

static bool oom(validator *v)
{
    return wasm_fail(v->err, WASM_ERR_RESOURCE, v->op_at, "out of memory");
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    }
    return "any";
}

static bool mismatch(validator *v, uint8_t want, uint8_t got)
{
    return invalid(v, "type mismatch: expected %s, found %s", type_name(want), type_name(got));
}

/* ---- the operand stack ---------------------------------------------------- */

static bool grow_vals(validator *v)
{
    uint32_t cap = v->vals_cap ? v->vals_cap * 2 : 256;
    uint8_t *n = realloc(v->vals, cap);
    if (!n)
        return oom(v);
    v->vals = n;
    v->vals_cap = cap;
    return true;
}

static inline __attribute__((always_inline)) bool push(validator *v, uint8_t t)
{
    if (__builtin_expect(v->nvals == v->vals_cap, 0) && !grow_vals(v))
        return false;
    v->vals[v->nvals++] = t;
    return true;
}

/* Pops one operand: WASM_ANY below an unreachable frame's base. */
static inline __attribute__((always_inline)) bool pop(validator *v, uint8_t *out)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    if (__builtin_expect(v->nvals == c->height, 0)) {
        if (c->unreachable) {
            *out = WASM_ANY;
            return true;
        }
        invalid(v, "type mismatch: expected a value, the stack is empty");
        return false;
    }
    *out = v->vals[--v->nvals];
    return true;
}

static inline __attribute__((always_inline)) bool pop_expect(validator *v, uint8_t want)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    if (__builtin_expect(v->nvals > c->height, 1)) {
        uint8_t got = v->vals[--v->nvals];
        if (__builtin_expect(got == want, 1) || got == WASM_ANY || want == WASM_ANY)
            return true;
        return mismatch(v, want, got);
    }
    if (c->unreachable)
        return true;
    return invalid(v, "type mismatch: expected %s, the stack is empty", type_name(want));
}

static inline bool pop_types(validator *v, uint32_t n, const uint8_t *types)
{
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(v, types[i]))
            return false;
    return true;
}

static bool push_types(validator *v, uint32_t n, const uint8_t *types)
{
    for (uint32_t i = 0; i < n; i++)
        if (!push(v, types[i]))
            return false;
    return true;
}

/* ---- the control stack ---------------------------------------------------- */

static bool push_ctrl(validator *v, uint8_t kind, uint32_t nparams, const uint8_t *params,
                      uint32_t nresults, const uint8_t *results)
{
    if (v->nctrls == v->ctrls_cap) {
        uint32_t cap = v->ctrls_cap ? v->ctrls_cap * 2 : 64;
        ctrl *n = realloc(v->ctrls, cap * sizeof *n);
        if (!n)
            return oom(v);
        v->ctrls = n;
        v->ctrls_cap = cap;
    }
    v->ctrls[v->nctrls++] = (ctrl){
        .kind = kind,
        .height = v->nvals,
        .nparams = nparams,
        .params = params,
        .nresults = nresults,
        .results = results,
    };
    return push_types(v, nparams, params);
}

/* Checks the frame's results are exactly what is on its part of the stack. */
static bool pop_ctrl(validator *v, ctrl *out)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    if (!pop_types(v, c->nresults, c->results))
        return false;
    if (v->nvals != c->height)
        return invalid(v, "type mismatch: %u values left on the stack at the end of a block",
                       v->nvals - c->height);
    *out = *c;
    v->nctrls--;
    return true;
}

static void set_unreachable(validator *v)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

static inline void label_types(const ctrl *c, uint32_t *n, const uint8_t **types)
{
    if (c->kind == CTRL_LOOP) {
        *n = c->nparams;
        *types = c->params;
    } else {
        *n = c->nresults;
        *types = c->results;
    }
}

static bool read_label(validator *v, ctrl **out)
{
    uint32_t depth;
    if (!wasm_read_u32(&v->r, &depth))
        return false;
    if (depth >= v->nctrls)
        return invalid(v, "unknown label %u", depth);
    *out = &v->ctrls[v->nctrls - 1 - depth];
    return true;
}

/* ---- immediates ------------------------------------------------------------- */

static bool simd_disabled(validator *v)
{
    return wasm_fail(v->err, WASM_ERR_UNSUPPORTED, v->op_at,
                     "unsupported: SIMD (v128) is disabled");
}

static bool read_blocktype(validator *v, uint32_t *np, const uint8_t **p, uint32_t *nr,
                           const uint8_t **r)
{
    uint8_t b = v->r.p < v->r.end ? *v->r.p : 0;
    if (b == WASM_V128 && !(v->m->features & WASM_FEATURE_SIMD))
        return simd_disabled(v);
    if (b == 0x40) {
        v->r.p++;
        *np = *nr = 0;
        return true;
    }
    if (b == WASM_I32 || b == WASM_I64 || b == WASM_F32 || b == WASM_F64 || b == WASM_FUNCREF ||
        b == WASM_EXTERNREF || (b == WASM_V128 && (v->m->features & WASM_FEATURE_SIMD))) {
        v->r.p++;
        *np = 0;
        *nr = 1;
        *r = &single_type[b];
        return true;
    }
    uint64_t at = wasm_reader_pos(&v->r);
    int64_t index;
    if (!wasm_read_s33(&v->r, &index))
        return false;
    if (index < 0)
        return malformed(v, at, "malformed block type");
    if ((uint64_t)index >= v->m->ntypes)
        return invalid(v, "unknown type %lld", (long long)index);
    const wasm_functype *t = &v->m->types[index];
    *np = t->nparams;
    *p = t->params;
    *nr = t->nresults;
    *r = t->results;
    return true;
}

static bool read_index(validator *v, uint32_t limit, const char *what, uint32_t *out)
{
    if (!wasm_read_u32(&v->r, out))
        return false;
    if (*out >= limit)
        return invalid(v, "unknown %s %u", what, *out);
    return true;
}

/* memory.size/grow and bulk memory name a memory: a zero byte, or an index
 * with the multi-memory proposal. */
static bool read_memidx(validator *v, uint32_t *mem)
{
    if (v->m->features & WASM_FEATURE_MULTI_MEMORY)
        return read_index(v, v->m->nmemories, "memory", mem);
    uint64_t at = wasm_reader_pos(&v->r);
    uint8_t b;
    if (!wasm_read_u8(&v->r, &b))
        return false;
    if (b != 0)
        return malformed(v, at, "zero byte expected");
    *mem = 0;
    if (v->m->nmemories == 0)
        return invalid(v, "unknown memory 0");
    return true;
}

static inline uint8_t addr_type(const validator *v, uint32_t mem)
{
    return v->m->memories[mem].is64 ? WASM_I64 : WASM_I32;
}

/* align (bit 6: a memory index follows, with multi-memory), offset. */
static bool read_memarg(validator *v, unsigned natural, uint8_t *addr)
{
    uint32_t align, mem = 0;
    uint64_t offset;
    if (!wasm_read_u32(&v->r, &align))
        return false;
    bool multi = v->m->features & WASM_FEATURE_MULTI_MEMORY;
    if (multi && (align & 0x40)) {
        align &= ~0x40u;
        if (!wasm_read_u32(&v->r, &mem))
            return false;
    }
    if (v->m->features & WASM_FEATURE_MEMORY64) {
        if (!wasm_read_u64(&v->r, &offset))
            return false;
    } else {
        uint32_t off32;
        if (!wasm_read_u32(&v->r, &off32))
            return false;
        offset = off32;
    }
    if (mem >= v->m->nmemories)
        return invalid(v, "unknown memory %u", mem);
    if (align > natural)
        return invalid(v, "alignment must not be larger than natural");
    if (!v->m->memories[mem].is64 && offset > UINT32_MAX)
        return invalid(v, "offset out of range");
    *addr = addr_type(v, mem);
    return true;
}

/* ---- locals ------------------------------------------------------------------ */

static bool setup_locals(validator *v, const wasm_functype *type)
{
    const wasm_func *f = v->func;
    v->nlocals = type->nparams + f->nlocals;
    if (v->nlocals > v->locals_cap) {
        uint8_t *n = realloc(v->locals, v->nlocals);
        if (!n)
            return oom(v);
        v->locals = n;
        v->locals_cap = v->nlocals;
    }
    if (v->nlocals == 0)
        return true;
    memcpy(v->locals, type->params, type->nparams);
    uint8_t *p = v->locals + type->nparams;
    for (uint32_t i = 0; i < f->nlocal_runs; i++) {
        memset(p, f->local_runs[i].type, f->local_runs[i].count);
        p += f->local_runs[i].count;
    }
    return true;
}

static inline __attribute__((always_inline)) bool local_type(validator *v, uint8_t *out)
{
    uint32_t index;
    *out = WASM_ANY;
    if (!wasm_read_u32(&v->r, &index))
        return false;
    if (__builtin_expect(index >= v->nlocals, 0)) {
        invalid(v, "unknown local %u", index);
        return false;
    }
    *out = v->locals[index];
    return true;
}

/* ---- instruction tables ------------------------------------------------------ */

/* Numeric instructions 0x45..0xc4: operand types and result. */
typedef struct numeric_sig {
    uint8_t nin, in0, in1, out;
} numeric_sig;

#define U(a, r) {1, a, 0, r}
#define B(a, r) {2, a, a, r}
static const numeric_sig numeric_sigs[0xc5 - 0x45] = {
#define N(op) [(op)-0x45]
    N(0x45) = U(WASM_I32, WASM_I32),
    [0x46 - 0x45 ... 0x4f - 0x45] = B(WASM_I32, WASM_I32),
    N(0x50) = U(WASM_I64, WASM_I32),
    [0x51 - 0x45 ... 0x5a - 0x45] = B(WASM_I64, WASM_I32),
    [0x5b - 0x45 ... 0x60 - 0x45] = B(WASM_F32, WASM_I32),
    [0x61 - 0x45 ... 0x66 - 0x45] = B(WASM_F64, WASM_I32),
    [0x67 - 0x45 ... 0x69 - 0x45] = U(WASM_I32, WASM_I32),
    [0x6a - 0x45 ... 0x78 - 0x45] = B(WASM_I32, WASM_I32),
    [0x79 - 0x45 ... 0x7b - 0x45] = U(WASM_I64, WASM_I64),
    [0x7c - 0x45 ... 0x8a - 0x45] = B(WASM_I64, WASM_I64),
    [0x8b - 0x45 ... 0x91 - 0x45] = U(WASM_F32, WASM_F32),
    [0x92 - 0x45 ... 0x98 - 0x45] = B(WASM_F32, WASM_F32),
    [0x99 - 0x45 ... 0x9f - 0x45] = U(WASM_F64, WASM_F64),
    [0xa0 - 0x45 ... 0xa6 - 0x45] = B(WASM_F64, WASM_F64),
    N(0xa7) = U(WASM_I64, WASM_I32),
    N(0xa8) = U(WASM_F32, WASM_I32), N(0xa9) = U(WASM_F32, WASM_I32),
    N(0xaa) = U(WASM_F64, WASM_I32), N(0xab) = U(WASM_F64, WASM_I32),
    N(0xac) = U(WASM_I32, WASM_I64), N(0xad) = U(WASM_I32, WASM_I64),
    N(0xae) = U(WASM_F32, WASM_I64), N(0xaf) = U(WASM_F32, WASM_I64),
    N(0xb0) = U(WASM_F64, WASM_I64), N(0xb1) = U(WASM_F64, WASM_I64),
    N(0xb2) = U(WASM_I32, WASM_F32), N(0xb3) = U(WASM_I32, WASM_F32),
    N(0xb4) = U(WASM_I64, WASM_F32), N(0xb5) = U(WASM_I64, WASM_F32),
    N(0xb6) = U(WASM_F64, WASM_F32),
    N(0xb7) = U(WASM_I32, WASM_F64), N(0xb8) = U(WASM_I32, WASM_F64),
    N(0xb9) = U(WASM_I64, WASM_F64), N(0xba) = U(WASM_I64, WASM_F64),
    N(0xbb) = U(WASM_F32, WASM_F64),
    N(0xbc) = U(WASM_F32, WASM_I32), N(0xbd) = U(WASM_F64, WASM_I64),
    N(0xbe) = U(WASM_I32, WASM_F32), N(0xbf) = U(WASM_I64, WASM_F64),
    N(0xc0) = U(WASM_I32, WASM_I32), N(0xc1) = U(WASM_I32, WASM_I32),
    [0xc2 - 0x45 ... 0xc4 - 0x45] = U(WASM_I64, WASM_I64),
#undef N
};

/* Loads 0x28..0x35 and stores 0x36..0x3e: value type, log2 natural alignment. */
static const struct {
    uint8_t type, align;
} memory_ops[0x3f - 0x28] = {
    {WASM_I32, 2}, {WASM_I64, 3}, {WASM_F32, 2}, {WASM_F64, 3}, /* i32 i64 f32 f64 .load */
    {WASM_I32, 0}, {WASM_I32, 0}, {WASM_I32, 1}, {WASM_I32, 1}, /* i32.load8/16_s/u */
    {WASM_I64, 0}, {WASM_I64, 0}, {WASM_I64, 1}, {WASM_I64, 1}, /* i64.load8/16_s/u */
    {WASM_I64, 2}, {WASM_I64, 2},                               /* i64.load32_s/u */
    {WASM_I32, 2}, {WASM_I64, 3}, {WASM_F32, 2}, {WASM_F64, 3}, /* .store */
    {WASM_I32, 0}, {WASM_I32, 1},                               /* i32.store8/16 */
    {WASM_I64, 0}, {WASM_I64, 1}, {WASM_I64, 2},                /* i64.store8/16/32 */
};

/* Saturating truncations 0xfc 0..7: operand, result. */
static const numeric_sig trunc_sat_sigs[8] = {
    U(WASM_F32, WASM_I32), U(WASM_F32, WASM_I32), U(WASM_F64, WASM_I32), U(WASM_F64, WASM_I32),
    U(WASM_F32, WASM_I64), U(WASM_F32, WASM_I64), U(WASM_F64, WASM_I64), U(WASM_F64, WASM_I64),
};
#undef U
#undef B

static inline bool apply_sig(validator *v, const numeric_sig *s)
{
    if (s->nin == 2 && !pop_expect(v, s->in1))
        return false;
    return pop_expect(v, s->in0) && push(v, s->out);
}

/* ---- instruction groups --------------------------------------------------------- */

static bool is_numeric_or_vector(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128 ||
           t == WASM_ANY;
}

static bool validate_select(validator *v, bool typed)
{
    uint8_t t = WASM_ANY;
    if (typed) {
        uint32_t n;
        uint64_t at = wasm_reader_pos(&v->r);
        if (!wasm_read_u32(&v->r, &n))
            return false;
        if (n != 1)
            return invalid(v, "invalid result arity");
        if (!wasm_read_u8(&v->r, &t))
            return false;
        if (t == WASM_V128 && !(v->m->features & WASM_FEATURE_SIMD))
            return simd_disabled(v);
        if (!single_type[t])
            return malformed(v, at + 1, "malformed value type");
    }
    if (!pop_expect(v, WASM_I32))
        return false;
    if (typed)
        return pop_expect(v, t) && pop_expect(v, t) && push(v, t);
    uint8_t a, b;
    if (!pop(v, &a) || !pop(v, &b))
        return false;
    /* Untyped select takes numbers and vectors only. */
    if (!is_numeric_or_vector(a) || !is_numeric_or_vector(b))
        return invalid(v, "type mismatch: select without a type needs numeric operands");
    if (a != b && a != WASM_ANY && b != WASM_ANY)
        return mismatch(v, a, b);
    return push(v, a == WASM_ANY ? b : a);
}

/* Checks that the stack ends with `types` without popping them: below an
 * unreachable frame's base anything matches. */
static bool peek_types(validator *v, uint32_t n, const uint8_t *types)
{
    const ctrl *c = &v->ctrls[v->nctrls - 1];
    uint32_t avail = v->nvals - c->height;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t want = types[n - 1 - k];
        if (k >= avail) {
            if (c->unreachable)
                return true;
            return invalid(v, "type mismatch: expected %s, the stack is empty", type_name(want));
        }
        uint8_t got = v->vals[v->nvals - 1 - k];
        if (got != want && got != WASM_ANY)
            return mismatch(v, want, got);
    }
    return true;
}

static bool validate_br_table(validator *v)
{
    uint32_t n;
    if (!wasm_read_u32(&v->r, &n) || !pop_expect(v, WASM_I32))
        return false;
    /* The default label comes last but fixes the arity: find it first. */
    const uint8_t *labels = v->r.p;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t skip;
        if (!wasm_read_u32(&v->r, &skip))
            return false;
    }
    ctrl *def;
    if (!read_label(v, &def))
        return false;
    const uint8_t *after = v->r.p;
    uint32_t arity;
    const uint8_t *def_types;
    label_types(def, &arity, &def_types);
    v->r.p = labels;
    for (uint32_t i = 0; i < n; i++) {
        ctrl *c;
        if (!read_label(v, &c))
            return false;
        uint32_t cn;
        const uint8_t *ct;
        label_types(c, &cn, &ct);
        if (cn != arity)
            return invalid(v, "type mismatch: br_table targets with different arities");
        if (!peek_types(v, cn, ct))
            return false;
    }
    v->r.p = after;
    if (!pop_types(v, arity, def_types))
        return false;
    set_unreachable(v);
    return true;
}

static bool validate_call(validator *v, const wasm_functype *t)
{
    return pop_types(v, t->nparams, t->params) && push_types(v, t->nresults, t->results);
}

static bool validate_call_indirect(validator *v)
{
    uint32_t type, table;
    if (!read_index(v, v->m->ntypes, "type", &type) ||
        !read_index(v, v->m->ntables, "table", &table))
        return false;
    if (v->m->tables[table].elem != WASM_FUNCREF)
        return invalid(v, "type mismatch: call_indirect through a table of %s",
                       type_name(v->m->tables[table].elem));
    return pop_expect(v, WASM_I32) && validate_call(v, &v->m->types[type]);
}

/* Data indices in bodies need the data count section (which comes before
 * the code, so that one pass can check them). */
static bool check_data_index(validator *v, uint32_t index)
{
    if (!v->m->has_data_count)
        return malformed(v, v->op_at, "data count section required");
    if (index >= v->m->data_count)
        return invalid(v, "unknown data segment %u", index);
    return true;
}

static bool validate_misc(validator *v)
{
    const wasm_module *m = v->m;
    uint32_t op, x, y, mem, mem2;
    if (!wasm_read_u32(&v->r, &op))
        return false;
    if (op < 8)
        return apply_sig(v, &trunc_sat_sigs[op]);
    switch (op) {
    case 8: /* memory.init data mem */
        if (!wasm_read_u32(&v->r, &x) || !read_memidx(v, &mem) || !check_data_index(v, x))
            return false;
        return pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32) &&
               pop_expect(v, addr_type(v, mem));
    case 9: /* data.drop */
        return wasm_read_u32(&v->r, &x) && check_data_index(v, x);
    case 10: { /* memory.copy dst src */
        if (!read_memidx(v, &mem) || !read_memidx(v, &mem2))
            return false;
        uint8_t dst = addr_type(v, mem), src = addr_type(v, mem2);
        uint8_t len = dst == WASM_I64 && src == WASM_I64 ? WASM_I64 : WASM_I32;
        return pop_expect(v, len) && pop_expect(v, src) && pop_expect(v, dst);
    }
    case 11: /* memory.fill */
        if (!read_memidx(v, &mem))
            return false;
        return pop_expect(v, addr_type(v, mem)) && pop_expect(v, WASM_I32) &&
               pop_expect(v, addr_type(v, mem));
    case 12: /* table.init elem table */
        if (!wasm_read_u32(&v->r, &x) || !read_index(v, m->ntables, "table", &y))
            return false;
        if (x >= m->nelems)
            return invalid(v, "unknown elem segment %u", x);
        if (m->elems[x].type != m->tables[y].elem)
            return invalid(v, "type mismatch: table.init of %s elements into a %s table",
                           type_name(m->elems[x].type), type_name(m->tables[y].elem));
        return pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32);
    case 13: /* elem.drop */
        return read_index(v, m->nelems, "elem segment", &x);
    case 14: /* table.copy dst src */
        if (!read_index(v, m->ntables, "table", &x) || !read_index(v, m->ntables, "table", &y))
            return false;
        if (m->tables[x].elem != m->tables[y].elem)
            return invalid(v, "type mismatch: table.copy between %s and %s tables",
                           type_name(m->tables[x].elem), type_name(m->tables[y].elem));
        return pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32);
    case 15: /* table.grow */
        if (!read_index(v, m->ntables, "table", &x))
            return false;
        return pop_expect(v, WASM_I32) && pop_expect(v, m->tables[x].elem) &&
               push(v, WASM_I32);
    case 16: /* table.size */
        return read_index(v, m->ntables, "table", &x) && push(v, WASM_I32);
    case 17: /* table.fill */
        if (!read_index(v, m->ntables, "table", &x))
            return false;
        return pop_expect(v, WASM_I32) && pop_expect(v, m->tables[x].elem) &&
               pop_expect(v, WASM_I32);
    }
    return malformed(v, v->op_at, "illegal opcode");
}

static bool validate_simd(validator *v)
{
    uint32_t op;
    if (!(v->m->features & WASM_FEATURE_SIMD))
        return simd_disabled(v);
    if (!wasm_read_u32(&v->r, &op))
        return false;
    const simd_op *s = op < 256 ? &wasm_simd_ops[op] : NULL;
    if (!s || (s->imm == SIMD_NONE && s->nin == 0))
        return malformed(v, v->op_at, "illegal opcode");
    uint8_t addr = WASM_I32;
    const uint8_t *bytes;
    switch (s->imm) {
    case SIMD_MEMARG:
    case SIMD_MEMARG_LANE:
        if (!read_memarg(v, s->align, &addr))
            return false;
        if (s->imm == SIMD_MEMARG)
            break;
        __attribute__((fallthrough)); /* to the lane index */
    case SIMD_LANE: {
        uint8_t lane;
        if (!wasm_read_u8(&v->r, &lane))
            return false;
        if (lane >= s->lanes)
            return invalid(v, "invalid lane index");
        break;
    }
    case SIMD_CONST:
        if (!wasm_read_bytes(&v->r, 16, &bytes))
            return false;
        break;
    case SIMD_SHUFFLE:
        if (!wasm_read_bytes(&v->r, 16, &bytes))
            return false;
        for (int i = 0; i < 16; i++)
            if (bytes[i] >= 32)
                return invalid(v, "invalid lane index");
        break;
    }
    for (int i = s->nin; i-- > 0;)
        if (!pop_expect(v, s->in[i] == WASM_ADDR ? addr : s->in[i]))
            return false;
    return s->out == WASM_ANY || push(v, s->out);
}

/* ---- the main loop ----------------------------------------------------------- */

static bool validate_body(validator *v)
{
    const wasm_module *m = v->m;
    const wasm_functype *ft = wasm_func_type(m, v->func_index);
    uint32_t np, nr, x;
    const uint8_t *p = NULL, *r = NULL;
    uint8_t t, addr;
    ctrl done;

    v->nvals = 0;
    v->nctrls = 0;
    if (!setup_locals(v, ft) || !push_ctrl(v, CTRL_FUNC, 0, NULL, ft->nresults, ft->results))
        return false;

    for (;;) {
        v->op_at = wasm_reader_pos(&v->r);
        uint8_t op;
        if (!wasm_read_u8(&v->r, &op))
            return false;
        if (op >= 0x45 && op <= 0xc4) {
            if (!apply_sig(v, &numeric_sigs[op - 0x45]))
                return false;
            continue;
        }
        bool ok;
        switch (op) {
        case 0x00: /* unreachable */
            set_unreachable(v);
            ok = true;
            break;
        case 0x01: /* nop */
            ok = true;
            break;
        case 0x02: /* block */
        case 0x03: /* loop */
            ok = read_blocktype(v, &np, &p, &nr, &r) && pop_types(v, np, p) &&
                 push_ctrl(v, op == 0x02 ? CTRL_BLOCK : CTRL_LOOP, np, p, nr, r);
            break;
        case 0x04: /* if */
            ok = read_blocktype(v, &np, &p, &nr, &r) && pop_expect(v, WASM_I32) &&
                 pop_types(v, np, p) && push_ctrl(v, CTRL_IF, np, p, nr, r);
            break;
        case 0x05: /* else */
            if (v->ctrls[v->nctrls - 1].kind != CTRL_IF)
                return malformed(v, v->op_at, "END opcode expected");
            ok = pop_ctrl(v, &done) &&
                 push_ctrl(v, CTRL_ELSE, done.nparams, done.params, done.nresults, done.results);
            break;
        case 0x0b: /* end */
            if (!pop_ctrl(v, &done))
                return false;
            /* An `if` without `else` passes its parameters through. */
            if (done.kind == CTRL_IF && (done.nparams != done.nresults ||
                                         (done.nparams &&
                                          memcmp(done.params, done.results, done.nparams))))
                return invalid(v, "type mismatch: if without else must leave its parameters");
            if (done.kind == CTRL_FUNC)
                return true;
            ok = push_types(v, done.nresults, done.results);
            break;
        case 0x0c: { /* br */
            ctrl *c;
            ok = read_label(v, &c);
            if (ok) {
                label_types(c, &np, &p);
                ok = pop_types(v, np, p);
                set_unreachable(v);
            }
            break;
        }
        case 0x0d: { /* br_if */
            ctrl *c;
            ok = read_label(v, &c) && pop_expect(v, WASM_I32);
            if (ok) {
                label_types(c, &np, &p);
                ok = pop_types(v, np, p) && push_types(v, np, p);
            }
            break;
        }
        case 0x0e:
            ok = validate_br_table(v);
            break;
        case 0x0f: /* return */
            ok = pop_types(v, ft->nresults, ft->results);
            set_unreachable(v);
            break;
        case 0x10: /* call */
            ok = read_index(v, m->nfuncs, "function", &x) &&
                 validate_call(v, wasm_func_type(m, x));
            break;
        case 0x11:
            ok = validate_call_indirect(v);
            break;
        case 0x1a: /* drop */
            ok = pop(v, &t);
            break;
        case 0x1b: /* select */
        case 0x1c: /* select t* */
            ok = validate_select(v, op == 0x1c);
            break;
        case 0x20: /* local.get */
            ok = local_type(v, &t) && push(v, t);
            break;
        case 0x21: /* local.set */
            ok = local_type(v, &t) && pop_expect(v, t);
            break;
        case 0x22: /* local.tee */
            ok = local_type(v, &t) && pop_expect(v, t) && push(v, t);
            break;
        case 0x23: /* global.get */
            ok = read_index(v, m->nglobals, "global", &x) && push(v, m->globals[x].type.type);
            break;
        case 0x24: /* global.set */
            ok = read_index(v, m->nglobals, "global", &x);
            if (ok && !m->globals[x].type.mut)
                return invalid(v, "global is immutable");
            ok = ok && pop_expect(v, m->globals[x].type.type);
            break;
        case 0x25: /* table.get */
            ok = read_index(v, m->ntables, "table", &x) && pop_expect(v, WASM_I32) &&
                 push(v, m->tables[x].elem);
            break;
        case 0x26: /* table.set */
            ok = read_index(v, m->ntables, "table", &x) && pop_expect(v, m->tables[x].elem) &&
                 pop_expect(v, WASM_I32);
            break;
        case 0x28 ... 0x35: /* loads */
            ok = read_memarg(v, memory_ops[op - 0x28].align, &addr) && pop_expect(v, addr) &&
                 push(v, memory_ops[op - 0x28].type);
            break;
        case 0x36 ... 0x3e: /* stores */
            ok = read_memarg(v, memory_ops[op - 0x28].align, &addr) &&
                 pop_expect(v, memory_ops[op - 0x28].type) && pop_expect(v, addr);
            break;
        case 0x3f: /* memory.size */
            ok = read_memidx(v, &x) && push(v, addr_type(v, x));
            break;
        case 0x40: /* memory.grow */
            ok = read_memidx(v, &x) && pop_expect(v, addr_type(v, x)) &&
                 push(v, addr_type(v, x));
            break;
        case 0x41: {
            int32_t c;
            ok = wasm_read_s32(&v->r, &c) && push(v, WASM_I32);
            break;
        }
        case 0x42: {
            int64_t c;
            ok = wasm_read_s64(&v->r, &c) && push(v, WASM_I64);
            break;
        }
        case 0x43: {
            uint32_t c;
            ok = wasm_read_f32(&v->r, &c) && push(v, WASM_F32);
            break;
        }
        case 0x44: {
            uint64_t c;
            ok = wasm_read_f64(&v->r, &c) && push(v, WASM_F64);
            break;
        }
        case 0xd0: { /* ref.null t */
            uint64_t at = wasm_reader_pos(&v->r);
            ok = wasm_read_u8(&v->r, &t);
            if (ok && t != WASM_FUNCREF && t != WASM_EXTERNREF)
                return malformed(v, at, "malformed reference type");
            ok = ok && push(v, t);
            break;
        }
        case 0xd1: /* ref.is_null */
            ok = pop(v, &t);
            if (ok && t != WASM_FUNCREF && t != WASM_EXTERNREF && t != WASM_ANY)
                return invalid(v, "type mismatch: ref.is_null of %s", type_name(t));
            ok = ok && push(v, WASM_I32);
            break;
        case 0xd2: /* ref.func */
            ok = read_index(v, m->nfuncs, "function", &x);
            if (ok && !(m->declared_funcs[x / 8] & (1u << (x % 8))))
                return invalid(v, "undeclared function reference");
            ok = ok && push(v, WASM_FUNCREF);
            break;
        case 0xfc:
            ok = validate_misc(v);
            break;
        case 0xfd:
            ok = validate_simd(v);
            break;
        default:
            return unknown_opcode(v, op);
        }
        if (!ok)
            return false;
    }
}

static bool validate_func(validator *v, uint32_t index)
{
    const wasm_func *f = &v->m->funcs[index];
    v->func = f;
    v->func_index = index;
    /* Like the reference decoder, read a body up to the end of the module
     * rather than of the function: a missing `end` then reads on into what
     * follows, and the mismatch is reported the same way. */
    v->r.p = v->m->bytes + f->body;
    if (!validate_body(v))
        return false;
    if (wasm_reader_pos(&v->r) != f->body_end)
        return wasm_reader_fail(&v->r, f->decl, "section size mismatch");
    return true;
}

bool wasm_validate(const wasm_module *m, wasm_error *err)
{
    validator v = {
        .m = m,
        .r = {.base = m->bytes, .end = m->bytes + m->size, .in_section = true, .err = err},
        .err = err,
    };
    bool ok = true;
    for (uint32_t i = m->nfunc_imports; ok && i < m->nfuncs; i++) {
        ok = validate_func(&v, i);
        /* A malformed body later on outweighs an invalid finding. */
        if (!ok && err->kind == WASM_ERR_INVALID)
            wasm_find_malformed_body(m, i, m->nfuncs, err);
    }
    free(v.vals);
    free(v.ctrls);
    free(v.locals);
    return ok;
}
