/* v128 loads and stores (0xFD 0x00-0x0b, 0x54-0x5d), tier 1's stack side:
 * every access goes through heap_address, so static and dynamic memories,
 * memory64 and multi-memory are checked as scalar accesses are; the
 * instruction right after trap_site is the one that touches memory
 * (vops_mem.c emits it). */
#include "func.h"
#include "wasmjail.h"

void simd_memory(fn *f, const wasm_instr *ins)
{
    uint32_t op = ins->op & 0xff, mem = ins->memarg.memory;
    uint64_t offset = ins->memarg.offset;
    bool has_lane = op >= 0x54 && op <= 0x5b;
    bool stores = vop_is_store(op);
    int size = vop_access_size(op);
    int idx, v;
    if (stores || has_lane) { /* the vector is on top of the address */
        v = pop_reg(f, 0);
        x86_rm m = heap_address(f, mem, offset, size, &idx);
        trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (stores)
            vop_store(f->cb, op, m, xn(v), ins->lane);
        else
            vop_load(f->cb, op, m, xn(v), ins->lane);
    } else {
        x86_rm m = heap_address(f, mem, offset, size, &idx);
        v = reg_alloc(f, true);
        trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        vop_load(f->cb, op, m, xn(v), ins->lane);
    }
    if (stores)
        reg_free(f, v);
    else
        push_reg(f, WASM_V128, v);
    if (idx >= 0)
        reg_free(f, idx);
}
