/*
 * The single-pass function compiler's state (src/compiler), shared by the
 * files that translate groups of instructions:
 *
 *   func.c      the driver: frame, prologue, the opcode loop, trap stubs
 *   stack.c     the virtual operand stack and register allocation
 *   vpool.c     the constant pool of 16-byte values after each function
 *   control.c   blocks, branches, br_table, return
 *   call.c      direct, imported and indirect calls, libcalls
 *   intops.c    integer arithmetic, comparisons, conversions between ints
 *   floatops.c  float arithmetic and every int <-> float conversion
 *   heap.c      loads, stores and memory.* for every kind of memory
 *   fold.c      loads folded into the operator that consumes them
 *   memops.c    locals, globals, references, table.* libcalls
 *   tables.c    table elements, funcref tags and their slow path, ref.func
 *   pin.c       the locals that live in registers for the whole function
 *   lcache.c    registers that still hold what was last written to a local
 *   simd.c      the v128 instructions (0xFD prefix): operands and results
 *   simd_mem.c  v128 loads and stores: addresses and bounds
 *   vops*.c     the v128 instruction sequences on registers (vops.h), shared
 *               with tier 2
 *
 * Values live in a virtual operand stack whose entries are a register, a
 * constant, a local (read lazily), the processor flags of a comparison, or
 * their canonical stack slot. At every control-flow merge the whole stack is
 * in canonical slots, so both sides agree without shuffling.
 *
 * Values take 8-byte units in memory, a v128 two (vm_slot_units): in the
 * argument areas, the locals and the canonical slots, which are packed.
 *
 * Frame (rbp-relative):
 *   [rbp+16+8u]  the parameters (the caller's outgoing area, packed units)
 *   [rbp+8]      return address      [rbp] caller's rbp
 *   [rbp-8]      vmctx
 *   below        the declared locals, packed (local_off)
 *   below        the canonical slots of the operand stack, packed (ventry.off)
 *   [rsp+8u]     the outgoing argument area
 */
#ifndef WJ_COMPILER_FUNC_H
#define WJ_COMPILER_FUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "tier.h"
#include "vmctx.h"
#include "vops.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"
#include "x86.h"

/* Registers the allocator hands out; r11 and xmm15 are scratch, r14 holds
 * memory 0's base, r15 vmctx. Register ids 0-15 are GPRs, 16-31 xmm: f32,
 * f64 and v128 values live in xmm registers. */
#define XMM(n) (16 + (n))
#define IS_XMM(r) ((r) >= 16)
/* The encoding number of an xmm allocator id. */
static inline int xn(int reg) { return reg - 16; }
#define SCRATCH R11
#define XSCRATCH 15
#define MEMBASE R14
#define VMCTX R15

enum { V_REG, V_CONST, V_LOCAL, V_STACK, V_FLAGS };

typedef struct ventry {
    uint8_t kind;
    uint8_t type; /* WASM_I32 ... */
    uint8_t reg;  /* V_REG; V_FLAGS: the condition code */
    uint32_t local;
    uint32_t off; /* its canonical slot's units below the locals */
    uint64_t imm; /* V_CONST: the bits; v128: the constant's pool index */
} ventry;

enum { C_BLOCK, C_LOOP, C_IF, C_ELSE, C_FUNC };

typedef struct ctrl {
    uint8_t kind;
    bool dead;          /* the rest of this block is unreachable */
    uint32_t height;    /* operand stack height below the block's params */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint32_t head;      /* C_LOOP: code offset of the loop header */
    uint32_t else_jump; /* C_IF: the jcc to the else branch, 0 when bound */
    uint32_t fixups;    /* first pending jump to the end (index into fn->fixups) */
    uint32_t osr_loop;  /* tiered C_LOOP: its offset if replaced on the stack (hot.c) */
} ctrl;

typedef struct fixup {
    uint32_t at;   /* rel32 position */
    uint32_t next; /* next pending jump of the same block, or UINT32_MAX */
} fixup;

/* A trap stub emitted after the body, reached by a jump: a call to the
 * module's trap thunk (trap_call). */
typedef struct stub {
    uint32_t jump;  /* rel32 of the jcc/jmp to patch */
    uint32_t code;  /* wj_trap_code */
    uint32_t wasm;  /* offset of the wasm instruction */
} stub;

/* The out-of-line slow path of an epoch check (meter.c). */
typedef struct epoch_stub {
    uint32_t jump;   /* rel32 of the jae to patch */
    uint32_t resume; /* where the check's code goes on */
    uint32_t wasm;   /* offset of the wasm instruction */
} epoch_stub;

/* The out-of-line slow path of what is made on first use (tables.c): a
 * funcref element read, or a function's reference (ref.func). */
typedef struct lazy_stub {
    uint32_t jump;   /* rel32 of the jcc to patch */
    uint32_t resume; /* where the slow path returns to */
    uint32_t wasm;   /* offset of the wasm instruction */
    uint32_t index;  /* the table, or the function (func) */
    uint8_t idx;     /* the register holding the element index */
    bool call;       /* call_indirect: an initialised null traps */
    bool func;       /* ref.func */
} lazy_stub;

/* A budget count-down of tiered code and where its out-of-line path
 * (hot.c) resumes tier 1. */
typedef struct hot_site {
    uint32_t jump;   /* rel32 of the js to the path */
    uint32_t ready;  /* an osr loop's: rel32 of the jne taken when an osr entry is ready */
    uint32_t resume; /* right after them */
    uint32_t loop;   /* the replaced loop's offset, VM_TIER_AT_ENTRY or VM_TIER_IN_LOOP */
    bool inner;      /* in a loop inside `loop`: asks for it, never enters */
    uint32_t wasm;
} hot_site;

/* A local kept in a register for the whole function (pin.c). */
typedef struct pin {
    uint32_t local;
    uint8_t reg;
    bool written; /* set anywhere in the body: calls must save it */
} pin;
#define MAX_PINS 18 /* gpr_pins, gpr_extra_pins and xmm_pins (pin.c) */


/* One function's compilation. The buffers (pointers with their
 * capacities, the last fields) stay with a worker from one function to the
 * next (compile.c); everything before them starts afresh for each
 * function. */
typedef struct fn {
    const wasm_module *m;
    const uint32_t *type_ids;
    const uint32_t *func_slots; /* compile_env's */
    uint32_t nfunc_slots;
    const vm_memory_plan *plans; /* per memory: static or dynamic */
    module_out *out;
    codebuf *cb;
    wasm_error *err;
    uint32_t index; /* module function index */
    const wasm_functype *type;

    uint32_t nparams, nlocals; /* nlocals: declared, parameters excluded */
    uint32_t locals_units;     /* of the declared locals */
    uint32_t npins;            /* of pins[] */

    uint32_t height;      /* of the operand stack */
    uint64_t max_units;   /* of the operand stack's slots */
    uint32_t max_out;     /* units of the outgoing area calls need */
    uint32_t used;        /* bitmask of allocated registers (ids 0-31) */

    /* The write-through cache of unpinned locals (lcache.c): registers
     * (a subset of `used`) holding the current value of a local. */
    uint32_t cached;
    uint32_t cache_clock;

    uint32_t nctrls;

    /* Metering (meter.c), when the engine asks for it. */
    bool fuel_checks, epoch_checks;
    bool tiered;          /* budgets and tier-up paths (hot.c) */
    bool osr_loops;       /* tiered: some loop can be replaced on the stack */
    uint32_t fuel_imm;    /* imm32 of the current run's fuel add; 0: none yet */
    uint32_t fuel_cost;   /* of the current run's instructions so far */
    bool fuel_pending;    /* a run started; its add waits for a costly instruction */

    uint32_t frame_patch; /* imm32 of `sub rsp, N` */
    uint32_t pos;         /* module offset of the current instruction */
    bool failed;

    wasm_reader *body;      /* the body's reader, past the current instruction */
    const uint8_t *peeked;  /* where peek_instr's instruction ends */
    /* An operator updating a pinned local in place (pop_dest): the local,
     * and whether its result stays on the stack (local.tee). */
    uint32_t dest_local;
    bool dest_pending, dest_tee;

    /* Not cleared from one function to the next: the prologue's fixed
     * start (func.c), */
    uint8_t head[48]; /* 27 bytes; 35 if both its loads took 32-bit displacements */
    uint32_t head_len, head_frame_at, head_jump_at; /* head_len 0: not made yet */
    /* arrays read only where npins and cached say they were written, */
    pin pins[MAX_PINS];
    uint32_t cache_local[32];  /* per cached register: the local it holds */
    uint32_t cache_stamp[32];  /* per cached register: last use, for LRU reclaim */
    /* and the buffers (the VECs emptied). */
    uint8_t *local_types;      /* nparams + nlocals */
    int32_t *local_off;        /* per local: its home's displacement from rbp */
    int8_t *local_reg;         /* per local: its pinned register, or -1 */
    uint64_t *pin_weight;      /* per local: pin.c's scratch */
    uint8_t *local_flags;      /* per local: LOCAL_* (pin.c) */
    uint32_t *assign_log;      /* per local: pin.c's scratch */
    size_t locals_cap;         /* entries of the six per-local arrays */
    ventry *stack;
    uint32_t stack_cap;
    ctrl *ctrls;
    uint32_t ctrl_cap;
    VEC(fixup) fixups;
    VEC(stub) stubs;
    VEC(lazy_stub) lazy_stubs;
    vpool pool; /* the function's constants (vops.h) */
    VEC(epoch_stub) epoch_stubs;
    VEC(hot_site) hot_sites;
    VEC(uint32_t) block_marks; /* pin.c's scratch */
} fn;

/* The largest frame a function may have (1 GiB): offsets within it fit
 * in the signed 32-bit displacements that address it. */
#define FRAME_MAX ((uint64_t)INT32_MAX / 2)

/* Parameters and declared locals, counted in size_t: sizes computed from
 * them must not wrap, whatever the module declares. */
static inline size_t nlocals_all(const fn *f)
{
    return (size_t)f->nparams + f->nlocals;
}

/* Appends to a VEC, growing it; false (and the function failed) when out
 * of memory. */
#define VEC_PUSH(f, vec, ...) (VEC_PUSH_OK(vec, __VA_ARGS__) ? true : fn_oom(f))

bool fn_oom(fn *f);
bool fn_unsupported(fn *f, const char *what);

/* ---- stack.c ---- */
static inline bool is_float(uint8_t t) { return t == WASM_F32 || t == WASM_F64; }
/* Whether values of type `t` live in xmm registers. */
static inline bool in_xmm(uint8_t t) { return is_float(t) || t == WASM_V128; }
static inline int type_size(uint8_t t) { return t == WASM_I32 || t == WASM_F32 ? SZ32 : SZ64; }
x86_rm slot_of(const fn *f, uint32_t depth);   /* canonical slot of a depth */
/* Units below the canonical slot at `depth` (which may be f->height). */
uint32_t units_below(const fn *f, uint32_t depth);
/* The canonical slot of a value of `type` `off` units down the operand area. */
x86_rm slot_at(const fn *f, uint32_t off, uint8_t type);
x86_rm local_home(const fn *f, uint32_t local); /* a local's frame slot */
int reg_alloc(fn *f, bool xmm);                /* a free register, spilling if needed */
int reg_alloc_avoid(fn *f, bool xmm, uint32_t avoid); /* ... none of the `avoid` mask */
void reg_free(fn *f, int reg);
void reg_evict(fn *f, int reg);                /* moves a stack value out of `reg` */
void push_reg(fn *f, uint8_t type, int reg);
void push_const(fn *f, uint8_t type, uint64_t bits);
void push_local(fn *f, uint32_t local);
void push_flags(fn *f, int cc);
void push_stack(fn *f, uint8_t type); /* a value already in its canonical slot */
ventry pop(fn *f);
static inline ventry *top(fn *f, uint32_t i) { return &f->stack[f->height - 1 - i]; }
/* Pops into a register the caller owns (a fresh one if the value was
 * elsewhere). `avoid` is a mask of registers it must not be. */
int pop_reg(fn *f, uint32_t avoid);
/* Loads `e` into register `reg` (allocated by the caller). */
void load_into(fn *f, const ventry *e, int reg);
/* An operand form of `e` for instructions taking r/m or imm32:
 * returns true and fills *rm for REG/LOCAL/STACK. Take it after the
 * instruction's allocations: a local's may name a cache register. */
bool entry_rm(fn *f, const ventry *e, x86_rm *rm);
void flags_to_reg(fn *f); /* the flags on top of the stack into a register */
/* The destination of an operator whose left operand is on top: a register
 * the caller owns, as pop_reg, or, for `local.get x ... op local.set x`
 * (or local.tee x) with x pinned, x's register, updated in place: the
 * local.set is taken. The result goes with push_dest. */
int pop_dest(fn *f, uint32_t avoid);
void push_dest(fn *f, uint8_t type, int reg);
/* Inline: most instructions find no flags, and call this first. */
static inline void materialize_flags(fn *f)
{
    if (f->height && top(f, 0)->kind == V_FLAGS)
        flags_to_reg(f);
}
/* Stores every entry that is not in its canonical slot there. */
void spill_all(fn *f);
/* Writes a value to memory (16 bytes for v128, 8 for i64/f64/refs, 4 for
 * i32/f32). */
void store_entry(fn *f, const ventry *e, x86_rm dst);
void free_entry(fn *f, const ventry *e);
/* Copies a value of `type` memory to memory through a scratch register. */
void mem_move(fn *f, uint8_t type, x86_rm dst, x86_rm src);
/* Moves between a register of the type's class and memory. */
void reg_load(fn *f, uint8_t type, int reg, x86_rm src);
void reg_store(fn *f, uint8_t type, x86_rm dst, int reg);
void invalidate_local(fn *f, uint32_t local); /* before a write to it */
/* local.set/tee: writes the top entry to the local; pops it unless tee. */
void local_set(fn *f, uint32_t local, bool tee);

/* ---- lcache.c ---- */
void lcache_drop(fn *f, int reg);              /* if `reg` caches a local */
void lcache_drop_local(fn *f, uint32_t local);
void lcache_clear(fn *f);                      /* where registers or control merge */
/* `reg` (allocated, now owned by the cache) holds `local`'s value, which is
 * also in its home. */
void lcache_keep(fn *f, uint32_t local, int reg);
/* Drops the least recently used cache entry of the class not in `avoid`;
 * returns its now free register or -1. */
int lcache_reclaim(fn *f, bool xmm, uint32_t avoid);
/* The register holding a V_LOCAL entry's value (pinned or cached), or -1.
 * A cache register is the local's only until the next reg_alloc. */
int local_reg(fn *f, const ventry *e);

/* ---- pin.c ---- */
/* What pin_locals found about each local (local_flags). */
enum {
    LOCAL_WRITTEN = 1,  /* set somewhere in the body */
    LOCAL_ASSIGNED = 2, /* the scan's state: definitely set at this point */
    LOCAL_READ_UNSET = 4, /* some read may come before any write: starts zeroed */
};
/* Weighs the locals' uses, chooses the pinned ones and takes their
 * registers, and finds the locals that need zeroing. */
void pin_locals(fn *f);
void pins_enter(fn *f);  /* prologue: parameters loaded, LOCAL_READ_UNSET ones zeroed */
void pins_save(fn *f);   /* before a call: written ones to their homes */
void pins_reload(fn *f); /* after a call */

/* ---- hot.c ---- */
void hot_entry(fn *f);               /* the function's first instructions */
void hot_loop(fn *f, ctrl *c);       /* at the header of loop c, opened last */
void hot_finish(fn *f);              /* after the body: the out-of-line paths */

/* ---- func.c ---- */
bool compile_function(fn *f); /* f->m, type_ids, out, cb, err and index set */
void fn_free(fn *f);          /* the buffers */
/* A trap stub for the current instruction, reached by the jcc at `jump`. */
void trap_jump(fn *f, uint32_t jump, uint32_t code);
static inline void trap_if(fn *f, int cc, uint32_t code) { trap_jump(f, x86_jcc(f->cb, cc), code); }
/* Records the current code position as a trap site (a faulting instruction
 * about to be emitted) and as an address-map entry. */
void trap_site(fn *f, uint32_t code);
/* Traps here, without a signal: a trap site that calls the trap thunk. */
void trap_call(fn *f, uint32_t code);
/* Maps the call instruction just emitted to the current wasm instruction. */
void addr_call(fn *f);
/* The next instruction, decoded but not taken; false at the end of the
 * body. An operator that takes it in too (a fused pair) calls take_instr
 * before emitting code: it is counted for fuel as if compiled alone, and
 * f->pos becomes its offset. */
bool peek_instr(fn *f, wasm_instr *ins);
void take_instr(fn *f, const wasm_instr *ins);

/* ---- tables.c ---- */
void op_table(fn *f, const wasm_instr *ins); /* table.get, table.set, ref.func */
/* call_indirect's checks of element idx of `table` and the call. */
void call_indirect_target(fn *f, uint32_t type, uint32_t table, int idx);
void tables_finish(fn *f); /* after the body: the slow paths */

/* ---- meter.c ---- */
void meter_count_fuel(fn *f, unsigned op);
/* Before each live instruction (WASM_OP_*); inline so that compiling
 * without fuel costs no call per instruction. */
static inline void meter_count(fn *f, unsigned op)
{
    if (f->fuel_checks)
        meter_count_fuel(f, op);
}
void meter_run(fn *f);   /* where control may enter or leave: a new fuel run */
/* At function entries and loop headers, where nothing but pinned locals is
 * in registers (it uses rax): a checked fuel run and an epoch check. */
void meter_check(fn *f);
void meter_finish(fn *f); /* after the body: the last run, the slow paths */

/* ---- control.c ---- */
bool op_control(fn *f, const wasm_instr *ins);
void emit_return(fn *f);

/* ---- call.c ---- */
void op_call(fn *f, uint32_t func);
void op_call_indirect(fn *f, uint32_t type, uint32_t table);
/* Calls a C function: spills everything, loads `nargs` stack operands (top
 * nargs entries, popped) after vmctx and the `imms` into the ABI registers:
 * rdi = vmctx, rsi.. = imms then operands. The result is in rax. */
void libcall(fn *f, const void *func, const uint32_t *imms, int nimms, int nargs);
/* Traps with `code` when a libcall returned a non-zero status. */
void libcall_check(fn *f, uint32_t code);

/* ---- heap.c ---- */
bool op_memory(fn *f, const wasm_instr *ins); /* 0x28-0x40 */
/* Pops the address and returns the operand for an access of `size` bytes to
 * memory `mem`, checked as the memory needs; *idx is the register to free
 * afterwards (-1: none). The caller marks the access as a trap site. */
x86_rm heap_address(fn *f, uint32_t mem, uint64_t offset, int size, int *idx);
void op_memory_bulk(fn *f, uint32_t op, uint32_t a, uint32_t b); /* 0xFC 8-11 */
void reload_membase(fn *f);          /* r14 = memory 0's base */
void reload_membase_if_moved(fn *f); /* ... after a call, when it is dynamic */

/* ---- fold.c ---- */
/* A full-width load of `type` (its address on top) folded with the
 * operator that follows, which is taken too; false (nothing emitted) when
 * that one cannot take it as its memory operand. */
bool fold_load(fn *f, uint8_t type, uint32_t mem, uint64_t offset);

/* ---- intops.c / floatops.c / memops.c ---- */
bool op_int(fn *f, uint8_t op);
extern const uint8_t int_compare_cc[10]; /* of eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
bool op_float(fn *f, uint8_t op);
/* A float right operand for SSE instructions: its register or memory, its
 * constant in the pool (vpool_use after the instruction), or xmm15. */
x86_rm float_operand(fn *f, const ventry *b);
/* After ucomis of a comparison (k: eq ne lt gt le ge from f32.eq/f64.eq,
 * its operands freed): pushes the result. */
void float_compare_result(fn *f, uint8_t k);
bool op_misc(fn *f, const wasm_instr *ins);      /* 0xFC prefix */
void op_trunc_sat(fn *f, uint32_t k);              /* 0xFC 0-7 */
bool op_variable(fn *f, const wasm_instr *ins);  /* locals, globals, refs, tables */

/* ---- simd.c / simd_mem.c ---- */
bool op_simd(fn *f, const wasm_instr *ins);          /* 0xFD prefix */
void simd_memory(fn *f, const wasm_instr *ins);      /* its loads and stores */

#endif
