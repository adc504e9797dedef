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
 *  - Arguments are 8-byte slots in the caller's outgoing area: parameter i
 *    at [rsp + 8*i] at the call instruction, i.e. [rbp + 16 + 8*i] in the
 *    callee. The area has max(params, results) slots.
 *  - One result comes back in rax (i32, i64, references) or xmm0 (f32,
 *    f64). Two or more results are written to the argument slots, result i
 *    in slot i.
 *  - Every other register is caller-saved. rsp is 16-byte aligned at each
 *    call instruction. Every function keeps `push rbp; mov rbp, rsp` and
 *    stores its vmctx at [rbp-8], so frames can be walked and a host
 *    function can find its caller's instance.
 */
#ifndef WJ_COMPILER_VMCTX_H
#define WJ_COMPILER_VMCTX_H

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

/* A table: elements are vm_funcref* (funcref) or host pointers (externref);
 * NULL is the null reference. */
typedef struct vm_table {
    void **elems;
    uint32_t size;
    uint32_t max; /* UINT32_MAX when unbounded */
} vm_table;

/* 32-bit memories live in reservations of VM_MEMORY32_RESERVATION bytes
 * (4 GiB of index space, then a guard). Compiled code adds the zero-extended
 * index and the static offset to the base without a check when the offset is
 * below VM_GUARD_ELIDE_OFFSET: the furthest such access (index 2^32-1,
 * offset 2^31-1, 8 bytes) ends inside the guard. Larger offsets get an
 * explicit check against vm_memory.size. */
#define VM_GUARD_ELIDE_OFFSET (UINT64_C(1) << 31)
#define VM_MEMORY32_RESERVATION ((UINT64_C(6) << 30) + 65536)

/* Per-store state that compiled code reads. */
typedef struct vm_store {
    uintptr_t stack_limit; /* rsp below this traps "call stack exhausted" */
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
    VM_STORE_STACK_LIMIT = offsetof(vm_store, stack_limit),
};

/*
 * vmctx layout, 8-byte words:
 *   [0]  vm_store *store
 *   [1]  uint8_t *memory 0 base (a copy of memories[0]->base; 32-bit
 *        memories never move)
 *   [2]  the runtime's instance pointer
 *   [3]  reserved (0)
 *   then vm_memory *memories[nmemories]   (imported ones point at the exporter's)
 *        vm_table  *tables[ntables]
 *        uint64_t   globals[nglobals]     a defined global's value inline
 *                                         (f32 in the low 4 bytes); an imported
 *                                         global's slot holds a pointer to
 *                                         the exporter's cell
 *        vm_funcref *funcs[nfuncs]        every function, imports first
 */
enum {
    VMCTX_STORE = 0,
    VMCTX_MEMORY0_BASE = 8,
    VMCTX_INSTANCE = 16,
    VMCTX_HEADER = 32,
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
static inline uint32_t vmctx_func(const wasm_module *m, uint32_t i)
{
    return vmctx_global(m, m->nglobals) + 8 * i;
}
static inline uint32_t vmctx_size(const wasm_module *m)
{
    return vmctx_func(m, m->nfuncs);
}

/*
 * Libcalls: C functions (src/runtime/libcalls.c) that compiled code calls
 * with the System V ABI, vmctx first. Those returning uint32_t status give 0
 * on success and 1 when the access is out of bounds; compiled code then
 * traps with the instruction's trap code.
 */
uint32_t wj__memory_grow(void *vmctx, uint32_t memory, uint32_t delta); /* old pages or -1 */
uint32_t wj__memory_fill(void *vmctx, uint32_t memory, uint32_t dst, uint32_t value, uint32_t n);
uint32_t wj__memory_copy(void *vmctx, uint32_t dst_memory, uint32_t src_memory, uint32_t dst,
                         uint32_t src, uint32_t n);
uint32_t wj__memory_init(void *vmctx, uint32_t memory, uint32_t segment, uint32_t dst,
                         uint32_t src, uint32_t n);
void wj__data_drop(void *vmctx, uint32_t segment);
uint32_t wj__table_grow(void *vmctx, uint32_t table, void *init, uint32_t delta); /* old size or -1 */
uint32_t wj__table_fill(void *vmctx, uint32_t table, uint32_t dst, void *value, uint32_t n);
uint32_t wj__table_copy(void *vmctx, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                        uint32_t src, uint32_t n);
uint32_t wj__table_init(void *vmctx, uint32_t table, uint32_t segment, uint32_t dst, uint32_t src,
                        uint32_t n);
void wj__elem_drop(void *vmctx, uint32_t segment);

#endif
