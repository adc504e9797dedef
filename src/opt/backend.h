/*
 * Tier 2's back end (src/opt): from SSA to x86-64.
 *
 *   order.c     splits critical edges, orders the blocks (reverse postorder,
 *               each loop's blocks together)
 *   select.c    loads folded into the operators that use them, compares
 *               moved next to the branches that read them
 *   live.c      liveness, one live interval per value over that order
 *   regalloc.c  linear scan over the intervals
 *   reload.c    values spilled around a loop loaded into a register free in it
 *   emit.c      the instructions, phi moves at the ends of blocks, traps
 *
 * Positions: instruction k of the linear order uses its operands at 2k and
 * defines its value at 2k + 1, so a value whose last use is an
 * instruction may give its register to that instruction's result.
 *
 * Registers: rbx rsi rdi r8 r9 r10 r12 r13 rcx rdx and xmm0-13 are
 * allocated; rax is the temporary of results that cannot go to their
 * register, r11, xmm14 and xmm15 are scratch; r14 holds memory 0's base
 * and r15 vmctx as in tier 1. Some instructions need rcx or rdx (shifts
 * by a variable count, division, checked accesses; be_temps): no value
 * they use or define or that lives across them takes those. Every
 * register is caller-saved in our convention: values live across a call
 * are saved around it.
 */
#ifndef WJ_OPT_BACKEND_H
#define WJ_OPT_BACKEND_H

#include "compiler/tier.h"
#include "ir.h"
#include "opt.h"

#define NO_REG (-1)
#define XREG(n) (16 + (n))
#define BE_NXMM 14 /* xmm0-13 may hold values */

typedef struct jump_fixup {
    uint32_t at, block; /* a rel32 to bind to the block's label */
} jump_fixup;

/* A jump table entry: the int32 distance from the table to a block. */
typedef struct table_entry {
    uint32_t at, block, base;
} table_entry;

/* A slow path through the lazy trampoline: a funcref element not made
 * yet (call_indirect's, where a null traps, or table.get's; the element's
 * index in rcx) or a defined function's reference (ref.func). */
enum { LAZY_CALL, LAZY_ELEM, LAZY_FUNC };
typedef struct lazy_path {
    uint32_t jump, resume, wasm;
    uint32_t index; /* the table, or ref.func's function */
    uint32_t kind;
} lazy_path;

/* The slow path of an epoch check. */
typedef struct epoch_path {
    uint32_t jump, resume, wasm;
} epoch_path;

/* A value read from register `reg` in the loop at positions from..to,
 * loaded at the end of block `entry` (reload.c). */
typedef struct reload {
    ir_ref v;
    uint32_t from, to, entry;
    int8_t reg;
} reload;

typedef struct trap_stub {
    uint32_t jump, code, wasm; /* the jcc to it, the trap, the wasm offset */
} trap_stub;

typedef struct backend {
    ir_func *ir;
    const opt_env *env;
    module_out *out;
    codebuf *cb;
    const char *why;

    uint32_t *order;  /* blocks in code order */
    uint32_t norder;
    /* per block: where it is among the predecessors of its successors
     * with phis, which is one place once critical edges are split */
    uint32_t *pred_at;
    uint32_t *pos;    /* per instruction: its index k in the linear order */
    uint32_t *block_start, *block_end; /* per block: positions of its first and last */

    /* per value: a load folded into its user, the next, or a load and the
     * operation on it folded into the store after them (select.c) */
    bool *folded;
    uint32_t *start, *end; /* per value: its interval */
    uint32_t *uses;        /* per value: operands naming it */
    uint8_t *depth;        /* per block: how many loops hold it (live.c) */
    uint64_t *weight;      /* per value: its uses and definition, each 8^(loop depth) */
    int8_t *reg;           /* per value: its register, or NO_REG */
    int32_t *slot;         /* per value without a register: its frame offset (rbp) */
    /* Per value split by regalloc.c: the position from which it lives in
     * its slot; before that position it is in its register. 0 when not
     * split. */
    uint32_t *split_at;
    /* Per value in a register: its definition stores it to its slot too
     * (a split one, or one saved around a call in a deeper loop: its slot
     * is where calls save it, which then store nothing). */
    bool *stored_at_def;
    uint32_t *late;        /* per block: the end of its last back edge's source, or 0 */
    VEC(reload) reloads;   /* reload.c */
    bool *reload_entry;    /* per block: reloads load at its end */
    int32_t *save_slot;    /* per value saved across calls: its slot there, or 0 */
    /* per value: 1 + the position in the order of the block whose code
     * saved it last (emit_call.c): a value saved earlier in the block is
     * in its slot still */
    uint32_t *saved_in;
    uint32_t cur_block;    /* the position in the order of the block emitted */
    uint32_t *mark, mark_stamp; /* per value: scratch of emit_call.c */
    /* Per call: the values saved around it, save_count[call] of them from
     * saves.v[save_first[call]]. */
    uint32_t *save_first, *save_count;
    VEC(ir_ref) saves;
    uint32_t frame_slots;  /* 8-byte slots below [rbp-8] */
    int nxmm;              /* values take xmm0 .. xmm(nxmm - 1) */
    uint32_t max_out;      /* units of the outgoing argument area */

    /* emission */
    uint32_t *label;  /* per block: its code offset, UINT32_MAX before it is emitted */
    VEC(jump_fixup) fixups;
    VEC(trap_stub) stubs;
    VEC(table_entry) table_entries;
    VEC(lazy_path) lazy_paths;
    VEC(epoch_path) epoch_paths;
    vpool pool;       /* float and v128 constants, after the code */
    uint32_t trap_wasm; /* the wasm offset of the instruction being emitted */
    /* rdx holds memory rdx_memory - 1's vm_memory after access rdx_access
     * (emit_mem.c: checks of one memory share it within a block) */
    uint32_t rdx_memory;
    ir_ref rdx_access;
    /* The flags compare flags_value with 0 while the code ends at flags_at
     * (an add, sub, and, or, xor just computed it; emit_num.c). */
    ir_ref flags_value;
    uint32_t flags_at;
} backend;

bool be_fail(backend *be, const char *why);

/* The back end's arrays live in the function's arena (ir.h, ir_alloc),
 * freed with it. */
static inline void *be_alloc(backend *be, size_t n, size_t size)
{
    return ir_alloc(be->ir, n, size);
}
static inline void *be_alloc_raw(backend *be, size_t n, size_t size)
{
    return ir_alloc_raw(be->ir, n, size);
}

bool order_blocks(backend *be);        /* order.c */
/* Whether the compile is no longer wanted (opt_env.cancel). */
static inline bool be_cancelled(const backend *be)
{
    return be->env->cancel && atomic_load_explicit(be->env->cancel, memory_order_relaxed);
}
bool be_select(backend *be);           /* select.c */
/* The ALU operation of a read-modify-write store's operator (add, sub,
 * and, or, xor), or -1 (select.c). */
int be_rmw_alu(uint16_t op);
/* The load of read-modify-write store r (its value an operation on the
 * load, the three in a row but for constants; with `uses`, each used
 * once), or 0 (select.c). */
ir_ref be_rmw_load(ir_func *f, ir_ref r, const uint32_t *uses);
bool compute_intervals(backend *be);   /* live.c */
bool allocate_registers(backend *be);  /* regalloc.c */
bool plan_reloads(backend *be);        /* reload.c */
bool emit_function(backend *be);       /* emit.c */
/* Which of rcx and rdx (bits 1 << RCX, 1 << RDX) instruction v's code
 * writes as temporaries; for a folded load or a fused comparison, its
 * user's code does (emit.c). Calls are left out: the values live across
 * them are saved, and their operands are read before any argument
 * register is written. */
unsigned be_temps(backend *be, ir_ref v);
/* A comparison that can set the flags for its branch (emit_num.c). */
static inline bool be_is_compare(uint16_t op)
{
    return (op >= WASM_OP_I32_EQZ && op <= WASM_OP_I64_GE_U) ||
           (op >= WASM_OP_F32_EQ && op <= WASM_OP_F64_GE && op != WASM_OP_F32_EQ &&
            op != WASM_OP_F32_NE && op != WASM_OP_F64_EQ && op != WASM_OP_F64_NE);
}
/* A comparison whose only user, the next instruction, is a br_if or select
 * that takes the flags: it emits nothing of its own (emit_num.c). Inline:
 * the allocator and the emitter ask it of every instruction. */
static inline bool be_fused_compare(backend *be, ir_ref v)
{
    ir_inst *in = ir_at(be->ir, v), *user = in->next ? ir_at(be->ir, in->next) : NULL;
    if (!be_is_compare(in->op) || be->uses[v] != 1 || !user)
        return false;
    return (user->op == WASM_OP_BR_IF && user->args[0] == v) ||
           (user->op == WASM_OP_SELECT && user->args[2] == v && user->args[0] != v &&
            user->args[1] != v);
}
/* Whether load or store `in` checks its bounds unless bce.c proves it in
 * bounds (emit_mem.c). */
bool be_access_checked(const opt_env *env, const ir_inst *in);

/* A v128 operation whose operands go through xmm12 and xmm13: not a
 * constant, a memory access or a one-instruction operation (emit_vector.c). */
bool be_is_vector_op(uint16_t op);

/* Instructions that call out and clobber every register. */
static inline bool is_call_op(uint16_t op)
{
    return op == WASM_OP_CALL || op == WASM_OP_CALL_INDIRECT || op == WASM_OP_MEMORY_GROW ||
           op == WASM_OP_MEMORY_COPY || op == WASM_OP_MEMORY_FILL || op == WASM_OP_MEMORY_INIT ||
           op == WASM_OP_DATA_DROP ||
           (op >= WASM_OP_TABLE_INIT && op <= WASM_OP_TABLE_FILL && op != WASM_OP_TABLE_SIZE);
}

/* A parameter's home: the caller's outgoing area, above the frame. */
int32_t param_home(backend *be, ir_ref param);

/* Whether a value needs no register: constants (a null reference is 0)
 * are rematerialized. */
static inline bool is_const_op(uint16_t op)
{
    return (op >= WASM_OP_I32_CONST && op <= WASM_OP_F64_CONST) || op == WASM_OP_REF_NULL;
}

/* Once f's code is emitted into o, its address map from entry `addrs` on:
 * the inline entries it names go to o's, renumbered (inline.c); false when
 * out of memory. */
bool opt_inline_out(ir_func *f, module_out *o, uint32_t addrs);

#endif
