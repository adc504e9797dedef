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
#include "parallel.h"
#include "reader.h"

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

const char *wasm_type_name(uint8_t t)
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
    return invalid(v, "type mismatch: expected %s, found %s", wasm_type_name(want), wasm_type_name(got));
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
    return invalid(v, "type mismatch: expected %s, the stack is empty", wasm_type_name(want));
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

/* The frame a branch to `depth` targets, or NULL. */
static ctrl *label(validator *v, uint32_t depth)
{
    if (depth >= v->nctrls) {
        invalid(v, "unknown label %u", depth);
        return NULL;
    }
    return &v->ctrls[v->nctrls - 1 - depth];
}

/* ---- immediates ------------------------------------------------------------- */

static bool simd_disabled(validator *v)
{
    return wasm_fail(v->err, WASM_ERR_UNSUPPORTED, v->op_at,
                     "unsupported: SIMD (v128) is disabled");
}

static bool check_blocktype(validator *v, const wasm_blocktype *bt, wasm_functype *out)
{
    if (bt->type == WASM_V128 && !(v->m->features & WASM_FEATURE_SIMD))
        return simd_disabled(v);
    if (bt->type == WASM_BLOCK_FUNCTYPE && bt->index >= v->m->ntypes)
        return invalid(v, "unknown type %u", bt->index);
    wasm_block_functype(v->m, bt, out);
    return true;
}

static inline bool check_index(validator *v, uint32_t index, uint32_t limit, const char *what)
{
    return index < limit || invalid(v, "unknown %s %u", what, index);
}

static inline uint8_t addr_type(const validator *v, uint32_t mem)
{
    return v->m->memories[mem].is64 ? WASM_I64 : WASM_I32;
}

static inline bool check_memory(validator *v, uint32_t mem, uint8_t *addr)
{
    if (!check_index(v, mem, v->m->nmemories, "memory"))
        return false;
    *addr = addr_type(v, mem);
    return true;
}

static inline __attribute__((always_inline)) bool check_memarg(validator *v, const wasm_memarg *ma,
                                                               unsigned natural, uint8_t *addr)
{
    if (!check_memory(v, ma->memory, addr))
        return false;
    if (ma->align > natural)
        return invalid(v, "alignment must not be larger than natural");
    if (!v->m->memories[ma->memory].is64 && ma->offset > UINT32_MAX)
        return invalid(v, "offset out of range");
    return true;
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

static inline __attribute__((always_inline)) bool local_type(validator *v, uint32_t index,
                                                             uint8_t *out)
{
    *out = WASM_ANY;
    if (__builtin_expect(index >= v->nlocals, 0))
        return invalid(v, "unknown local %u", index);
    *out = v->locals[index];
    return true;
}

/* ---- instructions with fixed operand types ------------------------------------ */

/* Checks the immediates of an instruction with fixed operand types against
 * the module; *addr becomes the address type of its memory, if any. */
static bool check_immediates(validator *v, const wasm_instr *ins, uint8_t *addr)
{
    const wasm_opinfo *info = ins->info;
    const wasm_module *m = v->m;
    switch (info->imm) {
    case WASM_IMM_MEMARG:
        return check_memarg(v, &ins->memarg, info->align, addr);
    case WASM_IMM_MEMARG_LANE:
        if (!check_memarg(v, &ins->memarg, info->align, addr))
            return false;
        __attribute__((fallthrough)); /* to the lane index */
    case WASM_IMM_LANE:
        return ins->lane < info->lanes || invalid(v, "invalid lane index");
    case WASM_IMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (ins->bytes[i] >= 32)
                return invalid(v, "invalid lane index");
        return true;
    case WASM_IMM_MEMORY:
        return check_memory(v, ins->index, addr);
    case WASM_IMM_MEMORY_INIT:
        return check_memory(v, ins->init.dst, addr) && check_data_index(v, ins->init.segment);
    case WASM_IMM_DATA:
        return check_data_index(v, ins->index);
    case WASM_IMM_ELEM:
        return check_index(v, ins->index, m->nelems, "elem segment");
    case WASM_IMM_TABLE:
        return check_index(v, ins->index, m->ntables, "table");
    }
    return true; /* constants */
}

/* Pops the operands and pushes the result, the address type standing for
 * WASM_ADDR. */
static inline __attribute__((always_inline)) bool validate_fixed(validator *v,
                                                                 const wasm_instr *ins)
{
    const wasm_opinfo *info = ins->info;
    uint8_t addr = WASM_I32;
    if (info->imm != WASM_IMM_NONE && !check_immediates(v, ins, &addr))
        return false;
    for (int i = info->nin; i-- > 0;)
        if (!pop_expect(v, info->in[i] == WASM_ADDR ? addr : info->in[i]))
            return false;
    if (info->out == WASM_ANY)
        return true;
    return push(v, info->out == WASM_ADDR ? addr : info->out);
}

/* ---- instructions typed by their context ---------------------------------------- */

static bool is_numeric_or_vector(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128 ||
           t == WASM_ANY;
}

static bool validate_select(validator *v, unsigned op, const wasm_instr *ins)
{
    uint8_t t = WASM_ANY;
    bool typed = op == WASM_OP_SELECT_T;
    if (typed) {
        if (ins->select.count != 1)
            return invalid(v, "invalid result arity");
        t = ins->select.types[0];
        if (t == WASM_V128 && !(v->m->features & WASM_FEATURE_SIMD))
            return simd_disabled(v);
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
            return invalid(v, "type mismatch: expected %s, the stack is empty", wasm_type_name(want));
        }
        uint8_t got = v->vals[v->nvals - 1 - k];
        if (got != want && got != WASM_ANY)
            return mismatch(v, want, got);
    }
    return true;
}

static bool validate_br_table(validator *v, const wasm_instr *ins)
{
    if (!pop_expect(v, WASM_I32))
        return false;
    /* The default label comes last but fixes the arity: check it first. */
    ctrl *def = label(v, ins->br_table.default_label);
    if (!def)
        return false;
    uint32_t arity;
    const uint8_t *def_types;
    label_types(def, &arity, &def_types);
    const uint8_t *labels = ins->br_table.targets;
    for (uint32_t i = 0; i < ins->br_table.count; i++) {
        ctrl *c = label(v, wasm_next_label(&labels));
        if (!c)
            return false;
        uint32_t cn;
        const uint8_t *ct;
        label_types(c, &cn, &ct);
        if (cn != arity)
            return invalid(v, "type mismatch: br_table targets with different arities");
        if (!peek_types(v, cn, ct))
            return false;
    }
    if (!pop_types(v, arity, def_types))
        return false;
    set_unreachable(v);
    return true;
}

static bool validate_call(validator *v, const wasm_functype *t)
{
    return pop_types(v, t->nparams, t->params) && push_types(v, t->nresults, t->results);
}

static bool validate_call_indirect(validator *v, const wasm_instr *ins)
{
    const wasm_module *m = v->m;
    uint32_t type = ins->call_indirect.type, table = ins->call_indirect.table;
    if (!check_index(v, type, m->ntypes, "type") || !check_index(v, table, m->ntables, "table"))
        return false;
    if (m->tables[table].elem != WASM_FUNCREF)
        return invalid(v, "type mismatch: call_indirect through a table of %s",
                       wasm_type_name(m->tables[table].elem));
    return pop_expect(v, WASM_I32) && validate_call(v, &m->types[type]);
}

static bool validate_global(validator *v, unsigned op, const wasm_instr *ins)
{
    const wasm_module *m = v->m;
    if (!check_index(v, ins->index, m->nglobals, "global"))
        return false;
    const wasm_global *g = &m->globals[ins->index];
    if (op == WASM_OP_GLOBAL_GET)
        return push(v, g->type.type);
    if (!g->type.mut)
        return invalid(v, "global is immutable");
    return pop_expect(v, g->type.type);
}

/* table.get, table.set, table.grow, table.fill: typed by the table. */
static bool validate_table_access(validator *v, unsigned op, const wasm_instr *ins)
{
    if (!check_index(v, ins->index, v->m->ntables, "table"))
        return false;
    uint8_t elem = v->m->tables[ins->index].elem;
    switch (op) {
    case WASM_OP_TABLE_GET:
        return pop_expect(v, WASM_I32) && push(v, elem);
    case WASM_OP_TABLE_SET:
        return pop_expect(v, elem) && pop_expect(v, WASM_I32);
    case WASM_OP_TABLE_GROW:
        return pop_expect(v, WASM_I32) && pop_expect(v, elem) && push(v, WASM_I32);
    }
    /* table.fill */
    return pop_expect(v, WASM_I32) && pop_expect(v, elem) && pop_expect(v, WASM_I32);
}

static bool validate_memory_copy(validator *v, const wasm_instr *ins)
{
    uint8_t dst, src;
    if (!check_memory(v, ins->copy.dst, &dst) || !check_memory(v, ins->copy.src, &src))
        return false;
    uint8_t len = dst == WASM_I64 && src == WASM_I64 ? WASM_I64 : WASM_I32;
    return pop_expect(v, len) && pop_expect(v, src) && pop_expect(v, dst);
}

static bool validate_table_init(validator *v, const wasm_instr *ins)
{
    const wasm_module *m = v->m;
    uint32_t x = ins->init.segment, y = ins->init.dst;
    if (!check_index(v, y, m->ntables, "table"))
        return false;
    if (x >= m->nelems)
        return invalid(v, "unknown elem segment %u", x);
    if (m->elems[x].type != m->tables[y].elem)
        return invalid(v, "type mismatch: table.init of %s elements into a %s table",
                       wasm_type_name(m->elems[x].type), wasm_type_name(m->tables[y].elem));
    return pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32);
}

static bool validate_table_copy(validator *v, const wasm_instr *ins)
{
    const wasm_module *m = v->m;
    uint32_t x = ins->copy.dst, y = ins->copy.src;
    if (!check_index(v, x, m->ntables, "table") || !check_index(v, y, m->ntables, "table"))
        return false;
    if (m->tables[x].elem != m->tables[y].elem)
        return invalid(v, "type mismatch: table.copy between %s and %s tables",
                       wasm_type_name(m->tables[x].elem), wasm_type_name(m->tables[y].elem));
    return pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32) && pop_expect(v, WASM_I32);
}

/* ---- the main loop ----------------------------------------------------------- */

/* `end`: true in *func_done when it closes the function. */
static bool validate_end(validator *v, bool *func_done)
{
    ctrl done;
    if (!pop_ctrl(v, &done))
        return false;
    /* An `if` without `else` passes its parameters through. */
    if (done.kind == CTRL_IF &&
        (done.nparams != done.nresults ||
         (done.nparams && memcmp(done.params, done.results, done.nparams))))
        return invalid(v, "type mismatch: if without else must leave its parameters");
    *func_done = done.kind == CTRL_FUNC;
    return *func_done || push_types(v, done.nresults, done.results);
}

/* Every instruction the main loop has no case for: prefixed and rare ones,
 * and opcodes outside the instruction set. Opcodes of proposals wasmjail
 * lacks are named, and SIMD is refused before its sub-opcode is read when
 * it is disabled. */
static bool validate_other(validator *v, uint8_t byte, wasm_instr *ins)
{
    if (!wasm_opcode_known(byte))
        return unknown_opcode(v, byte);
    if (byte == 0xfd && !(v->m->features & WASM_FEATURE_SIMD))
        return simd_disabled(v);
    if (!wasm_decode_immediates(&v->r, byte, v->m->features, ins))
        return false;
    switch (ins->op) {
    case WASM_OP_TABLE_GROW:
    case WASM_OP_TABLE_FILL:
        return validate_table_access(v, ins->op, ins);
    case WASM_OP_MEMORY_COPY:
        return validate_memory_copy(v, ins);
    case WASM_OP_TABLE_INIT:
        return validate_table_init(v, ins);
    case WASM_OP_TABLE_COPY:
        return validate_table_copy(v, ins);
    }
    return validate_fixed(v, ins);
}

/* A load or store: its memarg, then the address (and the value stored). */
static inline __attribute__((always_inline)) bool validate_memop(validator *v, uint8_t byte,
                                                                 wasm_instr *ins)
{
    const wasm_opinfo *info = &wasm_opinfos[byte];
    uint8_t addr;
    if (!wasm_decode_imm_kind(&v->r, byte, WASM_IMM_MEMARG, v->m->features, ins) ||
        !check_memarg(v, &ins->memarg, info->align, &addr))
        return false;
    if (info->nin == 1) /* a load */
        return pop_expect(v, addr) && push(v, info->out);
    return pop_expect(v, info->in[1]) && pop_expect(v, addr);
}
_Static_assert((int)WASM_IMM_OF_I32_LOAD == WASM_IMM_MEMARG &&
                   (int)WASM_IMM_OF_I64_STORE32 == WASM_IMM_MEMARG &&
                   WASM_OP_I64_STORE32 - WASM_OP_I32_LOAD == 22,
               "loads and stores are the opcodes 0x28 to 0x3e");

/* An instruction without immediates and with fixed operand types: at most
 * two operands, none of them the address type (the numeric ones, nop). */
static inline __attribute__((always_inline)) bool validate_plain(validator *v, uint8_t byte)
{
    const wasm_opinfo *info = &wasm_opinfos[byte];
    return (info->nin < 2 || pop_expect(v, info->in[1])) &&
           (info->nin < 1 || pop_expect(v, info->in[0])) &&
           (info->out == WASM_ANY || push(v, info->out));
}

/* Decodes the immediates of the opcode just read, `name` or one of its
 * case's others with the same kind, into ins. */
#define DECODE(name) wasm_decode_imm_kind(&v->r, byte, WASM_IMM_OF_##name, features, &ins)
_Static_assert(WASM_IMM_OF_LOOP == WASM_IMM_OF_BLOCK && WASM_IMM_OF_GLOBAL_SET ==
               WASM_IMM_OF_GLOBAL_GET && WASM_IMM_OF_TABLE_SET == WASM_IMM_OF_TABLE_GET,
               "the opcodes sharing a case share their immediates");

/* One switch on the opcode byte, each case decoding its immediates (the
 * kind is a constant there, so only its reader remains) and checking
 * them: one dispatch per instruction. Instructions without immediates and
 * with fixed operand types (the numeric ones) are checked from the table. */
static bool validate_body(validator *v)
{
    const wasm_module *m = v->m;
    const unsigned features = m->features;
    const wasm_functype *ft = wasm_func_type(m, v->func_index);
    v->nvals = 0;
    v->nctrls = 0;
    if (!setup_locals(v, ft) || !push_ctrl(v, CTRL_FUNC, 0, NULL, ft->nresults, ft->results))
        return false;
    wasm_instr ins;
    wasm_functype bt;
    ctrl *c, done;
    uint32_t n;
    const uint8_t *types;
    uint8_t t;
    bool ok, func_done;
    for (;;) {
        v->op_at = wasm_reader_pos(&v->r);
        uint8_t byte;
        if (!wasm_read_u8(&v->r, &byte))
            return false;
        /* The numeric instructions, the largest group, before the switch. */
        if ((unsigned)byte - WASM_OP_I32_EQZ <= WASM_OP_I64_EXTEND32_S - WASM_OP_I32_EQZ) {
            if (!validate_plain(v, byte))
                return false;
            continue;
        }
        switch (byte) {
        case WASM_OP_UNREACHABLE:
            set_unreachable(v);
            continue;
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
            ok = DECODE(BLOCK) && check_blocktype(v, &ins.block, &bt) &&
                 pop_types(v, bt.nparams, bt.params) &&
                 push_ctrl(v, byte == WASM_OP_BLOCK ? CTRL_BLOCK : CTRL_LOOP, bt.nparams,
                           bt.params, bt.nresults, bt.results);
            break;
        case WASM_OP_IF:
            ok = DECODE(IF) && check_blocktype(v, &ins.block, &bt) && pop_expect(v, WASM_I32) &&
                 pop_types(v, bt.nparams, bt.params) &&
                 push_ctrl(v, CTRL_IF, bt.nparams, bt.params, bt.nresults, bt.results);
            break;
        case WASM_OP_ELSE:
            if (v->ctrls[v->nctrls - 1].kind != CTRL_IF)
                return malformed(v, v->op_at, "END opcode expected");
            ok = pop_ctrl(v, &done) && push_ctrl(v, CTRL_ELSE, done.nparams, done.params,
                                                 done.nresults, done.results);
            break;
        case WASM_OP_END:
            if (!validate_end(v, &func_done))
                return false;
            if (func_done)
                return true;
            continue;
        case WASM_OP_BR:
            if (!DECODE(BR) || !(c = label(v, ins.index)))
                return false;
            label_types(c, &n, &types);
            if (!pop_types(v, n, types))
                return false;
            set_unreachable(v);
            continue;
        case WASM_OP_BR_IF:
            if (!DECODE(BR_IF) || !(c = label(v, ins.index)) || !pop_expect(v, WASM_I32))
                return false;
            label_types(c, &n, &types);
            ok = pop_types(v, n, types) && push_types(v, n, types);
            break;
        case WASM_OP_BR_TABLE:
            ok = DECODE(BR_TABLE) && validate_br_table(v, &ins);
            break;
        case WASM_OP_RETURN:
            if (!pop_types(v, ft->nresults, ft->results))
                return false;
            set_unreachable(v);
            continue;
        case WASM_OP_CALL:
            ok = DECODE(CALL) && check_index(v, ins.index, m->nfuncs, "function") &&
                 validate_call(v, wasm_func_type(m, ins.index));
            break;
        case WASM_OP_CALL_INDIRECT:
            ok = DECODE(CALL_INDIRECT) && validate_call_indirect(v, &ins);
            break;
        case WASM_OP_DROP:
            ok = pop(v, &t);
            break;
        case WASM_OP_SELECT:
            ok = validate_select(v, byte, &ins);
            break;
        case WASM_OP_SELECT_T:
            ok = DECODE(SELECT_T) && validate_select(v, byte, &ins);
            break;
        case WASM_OP_LOCAL_GET:
            ok = DECODE(LOCAL_GET) && local_type(v, ins.index, &t) && push(v, t);
            break;
        case WASM_OP_LOCAL_SET:
            ok = DECODE(LOCAL_SET) && local_type(v, ins.index, &t) && pop_expect(v, t);
            break;
        case WASM_OP_LOCAL_TEE:
            ok = DECODE(LOCAL_TEE) && local_type(v, ins.index, &t) && pop_expect(v, t) &&
                 push(v, t);
            break;
        case WASM_OP_GLOBAL_GET:
        case WASM_OP_GLOBAL_SET:
            ok = DECODE(GLOBAL_GET) && validate_global(v, byte, &ins);
            break;
        case WASM_OP_TABLE_GET:
        case WASM_OP_TABLE_SET:
            ok = DECODE(TABLE_GET) && validate_table_access(v, byte, &ins);
            break;
        case WASM_OP_I32_LOAD ... WASM_OP_I64_STORE32:
            ok = validate_memop(v, byte, &ins);
            break;
        case WASM_OP_I32_CONST:
            ok = DECODE(I32_CONST) && push(v, WASM_I32);
            break;
        case WASM_OP_I64_CONST:
            ok = DECODE(I64_CONST) && push(v, WASM_I64);
            break;
        case WASM_OP_F32_CONST:
            ok = DECODE(F32_CONST) && push(v, WASM_F32);
            break;
        case WASM_OP_F64_CONST:
            ok = DECODE(F64_CONST) && push(v, WASM_F64);
            break;
        case WASM_OP_REF_NULL:
            ok = DECODE(REF_NULL) && push(v, ins.reftype);
            break;
        case WASM_OP_REF_IS_NULL:
            if (!pop(v, &t))
                return false;
            if (t != WASM_FUNCREF && t != WASM_EXTERNREF && t != WASM_ANY)
                return invalid(v, "type mismatch: ref.is_null of %s", wasm_type_name(t));
            ok = push(v, WASM_I32);
            break;
        case WASM_OP_REF_FUNC:
            if (!DECODE(REF_FUNC) || !check_index(v, ins.index, m->nfuncs, "function"))
                return false;
            if (!(m->declared_funcs[ins.index / 8] & (1u << (ins.index % 8))))
                return invalid(v, "undeclared function reference");
            ok = push(v, WASM_FUNCREF);
            break;
        default:
            /* Without immediates and not typed by context (those have
             * cases): nop. */
            ok = wasm_opinfos[byte].imm == WASM_IMM_NONE ? validate_plain(v, byte)
                                                          : validate_other(v, byte, &ins);
        }
        if (!ok)
            return false;
    }
}

#undef DECODE

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

/* Chunks of functions validated on several threads (wasm/parallel.h). */
typedef struct validation {
    const wasm_module *m;
    const wasm_chunk *chunks;
    wasm_error *errs;      /* per chunk */
    uint32_t *failed_func; /* per chunk: the function that failed */
} validation;

static bool validate_chunk(void *ctx, void *worker, uint32_t k)
{
    const validation *job = ctx;
    validator *v = worker;
    const wasm_module *m = job->m;
    wasm_error *err = &job->errs[k];
    v->m = m;
    v->err = err;
    v->r = (wasm_reader){.base = m->bytes, .end = m->bytes + m->size, .in_section = true,
                         .err = err};
    for (uint32_t i = job->chunks[k].first; i < job->chunks[k].end; i++) {
        if (!validate_func(v, i)) {
            job->failed_func[k] = i;
            return false;
        }
    }
    return true;
}

static void validator_free(void *worker)
{
    validator *v = worker;
    free(v->vals);
    free(v->ctrls);
    free(v->locals);
}

bool wasm_validate_threads(const wasm_module *m, uint32_t threads, wasm_error *err)
{
    validation job = {.m = m};
    uint32_t count = 0;
    wasm_chunk *chunks = wasm_plan_chunks(m, &count);
    job.chunks = chunks;
    job.errs = chunks ? calloc((size_t)count + 1, sizeof *job.errs) : NULL;
    job.failed_func = chunks ? calloc((size_t)count + 1, sizeof *job.failed_func) : NULL;
    uint32_t failed = job.errs && job.failed_func
                          ? wasm_run_chunks(count, threads, sizeof(validator), validate_chunk,
                                            validator_free, &job)
                          : UINT32_MAX;
    if (failed == UINT32_MAX) {
        wasm_fail(err, WASM_ERR_RESOURCE, WASM_NO_OFFSET, "out of memory");
    } else if (failed < count) {
        /* The lowest failed chunk holds the first failing function. */
        *err = job.errs[failed];
        /* A malformed body later on outweighs an invalid finding. */
        if (err->kind == WASM_ERR_INVALID)
            wasm_find_malformed_body(m, job.failed_func[failed], m->nfuncs, err);
    }
    free(chunks);
    free(job.errs);
    free(job.failed_func);
    return failed == count;
}

bool wasm_validate(const wasm_module *m, wasm_error *err)
{
    return wasm_validate_threads(m, 1, err);
}
