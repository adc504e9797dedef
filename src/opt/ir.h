/*
 * Tier 2's intermediate representation: one function in SSA form.
 *
 * A function is a graph of basic blocks; a block is a list of instructions,
 * its phis first and one terminator last. Every instruction is a value
 * (ir_ref, its index) defined once. Operators keep the wasm opcode ids they
 * come from (WASM_OP_I32_ADD, WASM_OP_F64_LOAD, WASM_OP_CALL, ...), so their
 * semantics are the spec's and every pass and the lowering read the same
 * names; the few that wasm has no opcode for are IR_* below. Terminators
 * are wasm's too: br (jump), br_if (two-way branch), br_table (switch),
 * return and unreachable (trap).
 *
 * Locals do not exist here: build.c turns local.get/set into SSA values
 * (phis where control merges), as do block parameters and results.
 *
 * Everything lives in one arena (wasm/arena.h), freed with the function.
 */
#ifndef WJ_OPT_IR_H
#define WJ_OPT_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/compiler.h"
#include "compiler/vops.h"
#include "wasm/arena.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"

typedef uint32_t ir_ref; /* an instruction; 0 is none */

/* Operators with no wasm opcode: ids in the range wasm leaves unused. */
enum {
    IR_PHI = 0xe0,   /* args: one value per predecessor, in the block's order */
    IR_PARAM = 0xe1, /* imm: the parameter's index */
    /* One result of a call with several (the call itself has no value):
     * args {call}, imm: the result's index; the call's projections follow
     * it in its block, in order. */
    IR_RESULT = 0xe2,
    /* Metering (build.c says where): effects, so passes keep them in place. */
    IR_FUEL = 0xe3,        /* imm: the fuel a run costs, charged here */
    IR_FUEL_CHECK = 0xe4,  /* the same, then out of fuel traps */
    IR_EPOCH_CHECK = 0xe5, /* the epoch deadline's slow path when reached */
};

/* Instruction flags. */
enum {
    IR_DEAD = 1,    /* removed: no longer in a block's list */
    IR_IN_BOUNDS = 2, /* a load or store an earlier access proved in bounds (bce.c) */
};
/* v128.load*_lane and v128.store*_lane keep their lane in the flags' high
 * four bits (ir_inst stays 48 bytes). */
#define IR_LANE_SHIFT 4

typedef struct ir_inst {
    uint16_t op;     /* a wasm opcode id (WASM_OP_*) or IR_* */
    uint8_t type;    /* of the result: WASM_I32 ... WASM_V128, refs; 0: none */
    uint8_t flags;
    uint32_t block;
    ir_ref prev, next; /* in the block's list; 0 at its ends */
    uint32_t wasm;   /* module offset of the wasm instruction: traps, calls */
    uint32_t nargs, args_cap;
    uint32_t aux;    /* loads/stores: the memory; call_indirect: the table;
                      * table.copy: the source table; table.init: the segment */
    ir_ref *args;
    /* Constants: the bits; v128.const and i8x16.shuffle: the module offset
     * of their 16 bytes (a v128.const of 0: zeros). Lane instructions but
     * the memory ones: the lane. Loads and stores: the memarg's offset. Calls and
     * global.get/set: the function or global index. Tables: the table
     * (table.copy's destination), ref.func the function, elem.drop the
     * segment. Terminators: see ir_block.succs. */
    uint64_t imm;
} ir_inst; /* 48 bytes: every pass walks them */

static inline uint8_t ir_lane(const ir_inst *in) { return in->flags >> IR_LANE_SHIFT; }

typedef struct ir_block {
    ir_ref first, last;
    /* Predecessors, each once per edge (a br_table may reach a block more
     * than once), in the order of phis' operands. */
    uint32_t npreds, preds_cap;
    uint32_t *preds;
    /* Successors, as the terminator orders them: br_if's taken then
     * fall-through; br_table's targets then its default. */
    uint32_t nsuccs;
    uint32_t *succs;
    uint32_t wasm;   /* module offset where it starts */
    bool sealed;     /* every predecessor known (build.c) */
    bool loop_header;
} ir_block;

typedef struct ir_func {
    wasm_arena arena;
    const wasm_module *m;
    uint32_t index; /* module function index */
    const wasm_functype *type;
    ir_inst *insts; /* [0] unused: ir_ref 0 is none */
    uint32_t ninsts, insts_cap;
    ir_block *blocks; /* [0] is the entry */
    uint32_t nblocks, blocks_cap;
    /* the instructions of inlined calls (inline.c), which their wasm
     * fields give as COMPILED_INLINED | index */
    compiled_inline *inlines;
    uint32_t ninlines, inlines_cap;
} ir_func;

static inline ir_inst *ir_at(ir_func *f, ir_ref r) { return &f->insts[r]; }

/* The index of predecessor `from` of block b (its phis' operand), or
 * UINT32_MAX. */
static inline uint32_t ir_pred_index(const ir_func *f, uint32_t b, uint32_t from)
{
    for (uint32_t i = 0; i < f->blocks[b].npreds; i++)
        if (f->blocks[b].preds[i] == from)
            return i;
    return UINT32_MAX;
}

/* Whether an instruction ends its block. */
static inline bool ir_is_terminator(uint16_t op)
{
    return op == WASM_OP_BR || op == WASM_OP_BR_IF || op == WASM_OP_BR_TABLE ||
           op == WASM_OP_RETURN || op == WASM_OP_UNREACHABLE;
}

/* The v128 instructions that access memory (0xFD 0x00-0x0b, 0x54-0x5d). */
static inline bool ir_is_vector_access(uint16_t op)
{
    return (op >= WASM_OP_V128_LOAD && op <= WASM_OP_V128_STORE) ||
           (op >= WASM_OP_V128_LOAD8_LANE && op <= WASM_OP_V128_LOAD64_ZERO);
}

/* Whether an operation does more than compute its value: calls, writes,
 * memory and table growth, metering, and what may trap (loads, table
 * accesses, division, float to int); table.size goes with table.grow. Passes
 * keep such operations, and their order. */
static inline bool ir_has_effects(uint16_t op)
{
    return op == WASM_OP_CALL || op == WASM_OP_CALL_INDIRECT || op == WASM_OP_MEMORY_GROW ||
           op == WASM_OP_MEMORY_FILL || op == WASM_OP_MEMORY_COPY || op == WASM_OP_MEMORY_INIT ||
           op == WASM_OP_DATA_DROP || op == WASM_OP_GLOBAL_SET ||
           op == WASM_OP_TABLE_GET || op == WASM_OP_TABLE_SET ||
           (op >= WASM_OP_TABLE_INIT && op <= WASM_OP_TABLE_FILL) ||
           op == IR_FUEL || op == IR_FUEL_CHECK || op == IR_EPOCH_CHECK ||
           (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) || ir_is_vector_access(op) ||
           (op >= WASM_OP_I32_DIV_S && op <= WASM_OP_I32_REM_U) ||
           (op >= WASM_OP_I64_DIV_S && op <= WASM_OP_I64_REM_U) ||
           (op >= WASM_OP_I32_TRUNC_F32_S && op <= WASM_OP_I32_TRUNC_F64_U) ||
           (op >= WASM_OP_I64_TRUNC_F32_S && op <= WASM_OP_I64_TRUNC_F64_U) ||
           ir_is_terminator(op);
}

/* The bytes load or store `op` accesses. */
static inline int ir_access_size(uint16_t op)
{
    static const uint8_t sizes[] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4,
                                    4, 8, 4, 8, 1, 2, 1, 2, 4};
    if (ir_is_vector_access(op))
        return vop_access_size(op & 0xff);
    return sizes[op - WASM_OP_I32_LOAD];
}

/* Builds the SSA form of defined function `index` (module index) of a
 * validated module, with tier 1's fuel charges and checks (`fuel`) and
 * epoch checks (`epochs`) as IR_FUEL* and IR_EPOCH_CHECK. False when the
 * function uses what tier 2 does not compile yet (*why names it) or memory
 * ran out (*why "out of memory"); the function then stays in tier 1. */
bool ir_build_metered(ir_func *f, const wasm_module *m, uint32_t index, bool fuel, bool epochs,
                      const char **why);
static inline bool ir_build(ir_func *f, const wasm_module *m, uint32_t index, const char **why)
{
    return ir_build_metered(f, m, index, false, false, why);
}
/* The same, as an on-stack-replacement entry at the loop whose `loop`
 * opcode is at module offset loop_offset (opt.h, opt_compile_osr): f->type
 * is the entry's own (in f's arena), every local a parameter; block 0
 * holds the parameters and jumps to the loop's header, and the code before
 * the loop, with what only it reaches, is gone. Also false when the loop
 * has parameters or values below it on the stack, or is not a reachable
 * loop of the function. */
bool ir_build_osr(ir_func *f, const wasm_module *m, uint32_t index, uint32_t loop_offset,
                  bool fuel, bool epochs, const char **why);
void ir_free(ir_func *f);
/* What build.c declines (a name for it), or NULL. */
const char *ir_build_declines(const wasm_instr *ins);

/* ---- inlining (inline.c) ---- */
/* What the functions inlined into function `func` (module index) may take
 * of ir_inline_candidate's budget. */
uint64_t ir_inline_budget(const wasm_module *m, uint32_t func);
/* Whether a direct call of function `func` (module index) is inlined: a
 * small defined function without calls whose code build.c covers, and
 * within *budget, which it takes from. */
bool ir_inline_candidate(const wasm_module *m, uint32_t func, uint64_t *budget);
/* The position (an ir_inst's wasm) of the instruction at module offset
 * `wasm` of function `func` inlined at the call whose position is `call`;
 * false when out of memory. */
bool ir_inline_entry(ir_func *f, uint32_t func, uint32_t wasm, uint32_t call, uint32_t *pos);

/* Checks the invariants every pass keeps (terminators last, phis first
 * with one operand per predecessor, edges agreeing both ways, operands
 * that are live instructions, every use dominated by its definition);
 * NULL or what is wrong. */
const char *ir_verify(ir_func *f);

/* The function in text, one instruction a line, for tests and debugging. */
void ir_print(ir_func *f, FILE *out);

/* ---- analyses (dom.c) ---- */
typedef struct ir_dom {
    uint32_t *rpo;   /* the blocks reachable from the entry, in reverse postorder */
    uint32_t nrpo;
    uint32_t *order; /* per block: its index in rpo, UINT32_MAX when unreachable */
    uint32_t *idom;  /* per block: its immediate dominator (the entry's is itself),
                      * UINT32_MAX when unreachable */
} ir_dom;
bool ir_dominators(ir_func *f, ir_dom *d); /* false when out of memory */
bool ir_dominates(const ir_dom *d, uint32_t a, uint32_t b); /* block a dominates block b */
/* The dominator tree's children of the n blocks: block b's in
 * kids[first[b] .. first[b + 1]) (first: n + 1 zeroed, kids and scratch:
 * n each). */
void ir_dom_children(const ir_dom *d, uint32_t n, uint32_t *first, uint32_t *kids,
                     uint32_t *scratch);
void ir_dom_free(ir_dom *d);

/* ---- for passes (ir.c) ---- */
/* Memory in f's arena, freed with f: a pass's arrays, which one malloc
 * and free each would cost more than some passes over many small
 * functions. Zeroed (ir_alloc) or not (ir_alloc_raw); NULL when out of
 * memory. */
static inline void *ir_alloc(ir_func *f, size_t n, size_t size)
{
    return wasm_arena_alloc(&f->arena, n, size);
}
static inline void *ir_alloc_raw(ir_func *f, size_t n, size_t size)
{
    return wasm_arena_alloc_raw(&f->arena, n, size);
}
/* Grows a realloc'd array *v (elements of `size`, capacity *cap, new
 * elements zeroed) to hold `need`; false when out of memory. */
bool ir_grow(void **v, uint32_t *cap, size_t size, uint32_t need);
/* Room for `ninsts` instructions, so that the array is not copied as it
 * grows to that; false when out of memory. */
bool ir_reserve(ir_func *f, uint32_t ninsts);
/* A new block; UINT32_MAX when out of memory. */
uint32_t ir_new_block(ir_func *f, uint32_t wasm);
/* A new instruction appended to `block` (before its terminator if it has
 * one and `op` is not one); 0 when out of memory. */
ir_ref ir_append(ir_func *f, uint32_t block, uint16_t op, uint8_t type, uint32_t nargs,
                 const ir_ref *args, uint64_t imm);
/* A new instruction as ir_remove leaves it (IR_DEAD, in no block), that
 * may stay so (build.c: a phi that its operands show needless); 0 when out
 * of memory. */
ir_ref ir_append_removed(ir_func *f, uint32_t block, uint16_t op, uint8_t type);
/* Puts such an instruction in its block after all, as ir_append would,
 * with operands `args`; false when out of memory. */
bool ir_revive(ir_func *f, ir_ref r, uint32_t nargs, const ir_ref *args);
/* Adds the edge from -> to (to's predecessor list); false when out of memory. */
bool ir_add_pred(ir_func *f, uint32_t to, uint32_t from);
/* Appends an operand (a phi's, as its block gains a predecessor); false
 * when out of memory. */
bool ir_add_arg(ir_func *f, ir_ref r, ir_ref arg);
/* Unlinks an instruction from its block. */
void ir_remove(ir_func *f, ir_ref r);
/* Moves a (non-phi, non-terminator) instruction to the end of `block`,
 * before its terminator. */
void ir_move(ir_func *f, ir_ref r, uint32_t block);

#endif
