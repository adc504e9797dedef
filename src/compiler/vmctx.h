/*
 * The ABI between compiled code and the runtime: the layout of an instance's
 * context (vmctx), of the structures it points to, the calling convention,
 * and the runtime functions ("libcalls") that compiled code calls.
 *
 * Calling convention of compiled wasm functions (tier-neutral):
 *  - r15 = the callee instance's vmctx; r14 = its memory 0 base (the callee
 *    loads it in its prologue). Both are preserved across calls to functions
 *    of the same instance; a call through a vm_funcref (imports,
 *    call_indirect) may change them, so the caller reloads both afterwards
 *    (r15 from its frame slot at [rbp-8], r14 from vmctx).
 *  - Arguments are packed in 8-byte units in the caller's outgoing area:
 *    a v128 takes two units (16 bytes, only 8-aligned), every other type
 *    one (vm_slot_units). Parameter i is at [rsp + 8*u] at the call
 *    instruction, i.e. [rbp + 16 + 8*u] in the callee, where u counts the
 *    units of the parameters before it. The area has max(units of the
 *    params, units of the results) units (vm_args_units).
 *  - One result comes back in rax (i32, i64, references) or xmm0 (f32,
 *    f64, v128: all 128 bits). Two or more results are written to the
 *    argument area, packed the same way.
 *  - Every other register is caller-saved. rsp is 16-byte aligned at each
 *    call instruction. Every function keeps `push rbp; mov rbp, rsp` and
 *    stores its vmctx at [rbp-8], so frames can be walked and a host
 *    function can find its caller's instance.
 */
#ifndef WJ_COMPILER_VMCTX_H
#define WJ_COMPILER_VMCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/module.h"

/* A function reference: what tables, ref.func, imports and exports hold. For
 * a host function, code is wj__host_trampoline and vmctx points to the
 * runtime's host-function record. */
typedef struct vm_funcref {
    const void *code;
    void *vmctx;
    uint32_t type_id; /* the engine's interned id of the function type */
    uint32_t pad_;
} vm_funcref;

/* A linear memory as compiled code sees it. */
typedef struct vm_memory {
    uint8_t *base;
    uint64_t size;  /* accessible bytes */
    uint64_t pages; /* size / 65536 */
} vm_memory;

/*
 * A table. Externref tables hold host pointers as they are, NULL being
 * null. Funcref tables hold a vm_funcref* with bit 0 set, so null is 1,
 * and 0 is an element not initialised yet: an instance's own funcref
 * tables start zeroed and take their active element segments' values on
 * first use (wj__lazy), so instantiation does no per-element work.
 */
typedef struct vm_table {
    void **elems;
    uint32_t size;
    uint32_t max;     /* UINT32_MAX when unbounded */
    uint32_t written; /* set by compiled table.set: a reset clears it all */
    uint32_t pad_;
} vm_table;

/*
 * Where a memory lives, decided from its type and the engine's
 * configuration alone, so that compiled code and the runtime (src/memory)
 * agree on it for every memory a module defines or imports.
 *
 *  - Static: a 32-bit memory whose maximum fits in the reservation is one
 *    mapping of reservation + guard bytes, PROT_NONE beyond the accessible
 *    prefix; growing makes more pages accessible, so the base never moves.
 *    With a reservation of at least 4 GiB, an access whose static offset
 *    plus size is at most the guard cannot get past it whatever its 32-bit
 *    index, so compiled code emits no check and a fault traps.
 *  - Dynamic: memory64 memories, 32-bit ones when the configuration asks
 *    for it or their maximum does not fit the reservation. They grow within
 *    a reservation sized by src/memory (memory.h) and move when they
 *    outgrow it; every access is checked explicitly and compiled code
 *    reloads the base after anything that may have grown the memory.
 */
typedef struct vm_memory_config {
    uint64_t reservation; /* address space for a static memory (default 4 GiB) */
    uint64_t guard;       /* after the reservation (default 2 GiB) */
    bool dynamic32;       /* 32-bit memories as dynamic heaps too */
} vm_memory_config;

typedef struct vm_memory_plan {
    bool dynamic;
    /* Static: the bytes mapped from the base (reservation + guard); an
     * access that cannot end beyond them needs no check, as it faults
     * in the PROT_NONE part when it is out of bounds. */
    uint64_t extent;
} vm_memory_plan;

/* The unit of argument areas, frames and the runtime's slot arrays, in
 * bytes: a value of `type` takes vm_slot_units(type) of them, v128 two,
 * the others one. */
#define VM_UNIT 8


static inline uint32_t vm_slot_units(uint8_t type)
{
    return type == WASM_V128 ? 2 : 1;
}

static inline uint32_t vm_types_units(const uint8_t *types, uint32_t n)
{
    uint32_t u = 0;
    for (uint32_t i = 0; i < n; i++)
        u += vm_slot_units(types[i]);
    return u;
}

/* Units of a call's argument area: params in, results out. */
static inline uint32_t vm_args_units(const wasm_functype *t)
{
    uint32_t p = vm_types_units(t->params, t->nparams);
    uint32_t r = vm_types_units(t->results, t->nresults);
    return p > r ? p : r;
}

#define VM_MEMORY32_MAX_PAGES (UINT64_C(1) << 16)
#define VM_MEMORY64_MAX_PAGES (UINT64_C(1) << 48)

/* The most pages a memory of these limits may have, with the engine's limit
 * in bytes. */
static inline uint64_t vm_memory_max_pages(const wasm_limits *limits, uint64_t limit_bytes)
{
    uint64_t max = limits->is64 ? VM_MEMORY64_MAX_PAGES : VM_MEMORY32_MAX_PAGES;
    if (limits->has_max && limits->max < max)
        max = limits->max;
    if (limit_bytes / WASM_PAGE_SIZE < max)
        max = limit_bytes / WASM_PAGE_SIZE;
    return max;
}

static inline vm_memory_plan vm_plan_memory(const wasm_limits *limits, uint64_t limit_bytes,
                                            const vm_memory_config *config)
{
    vm_memory_plan plan = {0};
    uint64_t max_bytes = vm_memory_max_pages(limits, limit_bytes) * WASM_PAGE_SIZE;
    plan.dynamic = limits->is64 || config->dynamic32 || config->reservation == 0 ||
                   max_bytes > config->reservation;
    if (!plan.dynamic)
        plan.extent = config->reservation + config->guard;
    return plan;
}

/* Per-store state that compiled code reads. */
typedef struct vm_store {
    uintptr_t stack_limit;   /* rsp below this traps "call stack exhausted" */
    uint64_t epoch_deadline; /* epoch checks: the engine's epoch at or past
                              * this calls wj__epoch_trampoline */
    int64_t fuel;            /* fuel checks: minus the fuel left. Each run of
                              * instructions adds its cost as it starts;
                              * a check finding it above 0 traps */
} vm_store;

enum {
    VM_FUNCREF_CODE = offsetof(vm_funcref, code),
    VM_FUNCREF_VMCTX = offsetof(vm_funcref, vmctx),
    VM_FUNCREF_TYPE = offsetof(vm_funcref, type_id),
    VM_MEMORY_BASE = offsetof(vm_memory, base),
    VM_MEMORY_SIZE = offsetof(vm_memory, size),
    VM_MEMORY_PAGES = offsetof(vm_memory, pages),
    VM_TABLE_ELEMS = offsetof(vm_table, elems),
    VM_TABLE_SIZE = offsetof(vm_table, size),
    VM_TABLE_WRITTEN = offsetof(vm_table, written),
    VM_STORE_STACK_LIMIT = offsetof(vm_store, stack_limit),
    VM_STORE_EPOCH_DEADLINE = offsetof(vm_store, epoch_deadline),
    VM_STORE_FUEL = offsetof(vm_store, fuel),
};

/*
 * vmctx layout, 8-byte words:
 *   [0]  vm_store *store
 *   [1]  uint8_t *memory 0 base, a copy of memories[0]->base kept for
 *        static memories (which never move); dynamic ones are reached
 *        through memories[0]
 *   [2]  the runtime's instance pointer
 *   [3]  const uint64_t *epoch: the engine's epoch counter
 *   [4]  wj__lazy_trampoline, called through the vmctx because compiled
 *        code may be mapped out of rel32 reach of the library
 *   [5]  vm_tier_func *tier: the module's tier-up state (tiered execution;
 *        NULL otherwise), shared by its instances
 *   then vm_memory *memories[nmemories]   (imported ones point at the exporter's)
 *        vm_table  *tables[ntables]
 *        uint64_t   globals[nglobals]     a defined global's value inline
 *                                         (f32 in the low 4 bytes); an imported
 *                                         global's slot holds a pointer to
 *                                         the exporter's cell, and so does a
 *                                         v128 global's, defined or imported
 *                                         (its 16-byte cell: vm_global_indirect)
 *        vm_funcref *funcs[nfunc_imports] the imported functions
 *        uint8_t    made[(nslots + 7) / 8] a bit per function that can have
 *                                         a reference (its slot: one of
 *                                         nslots, compile_env.func_slots), set
 *                                         once the reference is made
 *   and right after it (16-aligned) the instance's VM_FUNC_BYTES
 *   references by slot, each written when it is first asked for
 *   (wj__lazy), so an instance does no per-function work.
 */
enum {
    VMCTX_STORE = 0,
    VMCTX_MEMORY0_BASE = 8,
    VMCTX_INSTANCE = 16,
    VMCTX_EPOCH = 24,
    VMCTX_LAZY = 32,
    VMCTX_TIER = 40,
    VMCTX_HEADER = 48,
};

static inline uint32_t vmctx_memories(const wasm_module *m)
{
    (void)m;
    return VMCTX_HEADER;
}
static inline uint32_t vmctx_memory(const wasm_module *m, uint32_t i)
{
    return vmctx_memories(m) + 8 * i;
}
static inline uint32_t vmctx_table(const wasm_module *m, uint32_t i)
{
    return vmctx_memories(m) + 8 * m->nmemories + 8 * i;
}
static inline uint32_t vmctx_global(const wasm_module *m, uint32_t i)
{
    return vmctx_table(m, m->ntables) + 8 * i;
}
/* Whether compiled code reaches global `i` through a pointer in its slot. */
static inline bool vm_global_indirect(const wasm_module *m, uint32_t i)
{
    return i < m->nglobal_imports || m->globals[i].type.type == WASM_V128;
}
static inline uint32_t vmctx_func(const wasm_module *m, uint32_t i)
{
    return vmctx_global(m, m->nglobals) + 8 * i;
}
static inline uint32_t vmctx_made(const wasm_module *m)
{
    return vmctx_func(m, m->nfunc_imports);
}
/* Where the references begin. */
static inline uint32_t vmctx_size(const wasm_module *m, uint32_t nslots)
{
    return (vmctx_made(m) + (nslots + 7) / 8 + 15) & ~UINT32_C(15);
}
/* The size of a reference's storage (the runtime's wj_func, whose first
 * member is the vm_funcref). */
#define VM_FUNC_BYTES 72

/*
 * Libcalls: C functions (src/runtime/libcalls.c) that compiled code calls
 * with the System V ABI, vmctx first. Addresses, lengths and page counts are
 * 64-bit for every memory (i32 operands arrive zero-extended). Those
 * returning uint32_t status give 0 on success and 1 when the access is out
 * of bounds; compiled code then traps with the instruction's trap code.
 */
uint64_t wj__memory_grow(void *vmctx, uint32_t memory, uint64_t delta); /* old pages or -1 */
uint32_t wj__memory_fill(void *vmctx, uint32_t memory, uint64_t dst, uint32_t value, uint64_t n);
uint32_t wj__memory_copy(void *vmctx, uint32_t dst_memory, uint32_t src_memory, uint64_t dst,
                         uint64_t src, uint64_t n);
uint32_t wj__memory_init(void *vmctx, uint32_t memory, uint32_t segment, uint64_t dst,
                         uint32_t src, uint32_t n);
void wj__data_drop(void *vmctx, uint32_t segment);
uint32_t wj__table_grow(void *vmctx, uint32_t table, void *init, uint32_t delta); /* old size or -1 */
uint32_t wj__table_fill(void *vmctx, uint32_t table, uint32_t dst, void *value, uint32_t n);
uint32_t wj__table_copy(void *vmctx, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                        uint32_t src, uint32_t n);
uint32_t wj__table_init(void *vmctx, uint32_t table, uint32_t segment, uint32_t dst, uint32_t src,
                        uint32_t n);
void wj__elem_drop(void *vmctx, uint32_t segment);

/*
 * The slow path of an epoch check (compiler/trampolines.S), called from
 * compiled code at a function entry or loop header when the engine's epoch
 * reached the store's deadline. It preserves every register but r11, calls
 * wj__epoch_expired(vmctx, fp) with fp its own frame (as the host
 * trampoline does), and returns when the guest may go on; a trap unwinds.
 */
void wj__epoch_trampoline(void);
void wj__epoch_expired(void *vmctx, uintptr_t fp);

/*
 * Where explicit traps go (compiler/trampolines.S): `unreachable` and each
 * failed check (division, conversion, call_indirect, stack limit, fuel,
 * explicit bounds) is a `call rel32` to its module's trap thunk, which
 * jumps here. The call is the trap site in the trap table; the trampoline
 * records the trap as the fault handler does for a faulting access, and
 * continues at the activation's landing pad: no signal is involved.
 */
void wj__trap_trampoline(void);

/*
 * Tiered execution. Tier-1 code of a tiered module counts down its
 * function's budget at the entry and its loop budget at every loop header,
 * in the tier table that follows the module's code (VMCTX_TIER points to it):
 *     sub dword [rip+budget], 1; js hot
 * and once it goes negative, the out-of-line path jumps to the function's
 * tier-2 code if there is some (entry), else asks wj__tier_up. Only an
 * outermost loop is replaced on the stack: its header also checks the
 * function's latest osr entry (cmp qword [rip+osr], 0; jne hot) and enters
 * it when it is this loop's and compiled; an inner loop's path asks on
 * behalf of its outermost loop. Direct calls in tier-2
 * code of a tiered module go through the callee's `call`, so that they
 * reach its tier-2 code without passing through its tier-1 entry. On-stack replacement calls
 * the osr entry with every local of the function as an argument (in
 * order) and returns what it returns: a function of its own, compiled by
 * tier 2, that runs the rest of the function from the loop header.
 */
typedef struct vm_osr {
    uint32_t loop; /* module offset of the loop's `loop` opcode */
    uint32_t pad_;
    const void *code;
} vm_osr;

typedef struct vm_tier_func {
    int32_t budget;      /* counted at the entry; below 0: hot, take the slow path */
    int32_t loop_budget; /* the same, counted at the loop headers */
    const void *entry;  /* the tier-2 code, once there is some */
    const vm_osr *osr;  /* the latest on-stack-replacement entry, or NULL */
    const void *call;   /* where direct calls go: the tier-1 code, then entry */
} vm_tier_func;

enum {
    VM_TIER_FUNC_SIZE = sizeof(vm_tier_func),
    VM_TIER_BUDGET = offsetof(vm_tier_func, budget),
    VM_TIER_LOOP_BUDGET = offsetof(vm_tier_func, loop_budget),
    VM_TIER_ENTRY = offsetof(vm_tier_func, entry),
    VM_TIER_OSR = offsetof(vm_tier_func, osr),
    VM_TIER_CALL = offsetof(vm_tier_func, call),
    VM_OSR_LOOP = offsetof(vm_osr, loop),
    VM_OSR_CODE = offsetof(vm_osr, code),
};

/* What asks, when not a loop that can be replaced: the function's entry,
 * or a loop that cannot (values below it on the stack, v128 locals). */
#define VM_TIER_AT_ENTRY UINT32_MAX
#define VM_TIER_IN_LOOP (UINT32_MAX - 1)

/* The slow path's call (System V ABI, from a function's entry or a loop
 * header) for defined function `func` (defined index) at loop `loop`
 * (or VM_TIER_AT_ENTRY, VM_TIER_IN_LOOP): asks for the tier-2 code if
 * nobody did, rearms or stops the budget, and returns the code to enter
 * now (the function's tier-2 entry, or the loop's osr entry) or NULL to go
 * on in tier 1. `inner`: asked from a loop inside `loop`, which cannot
 * enter its code (NULL then). */
const void *wj__tier_up(void *vmctx, uint32_t func, uint32_t loop, uint32_t inner);

/*
 * The slow path of what is made on first use, called from compiled code
 * as `call [r15+VMCTX_LAZY]` with a request in r11; it preserves every
 * other register and returns its answer in r11:
 *  - VM_LAZY_FUNC | f: the vm_funcref* of defined function f;
 *  - (t << 32) | i: element i (< size) of table t, a funcref table,
 *    initialised if it was not: the stored value, bit 0 set.
 * It calls wj__lazy(vmctx, request), which cannot fail.
 */
#define VM_LAZY_FUNC (UINT64_C(1) << 63)
void wj__lazy_trampoline(void);
uintptr_t wj__lazy(void *vmctx, uint64_t request);

#endif
