/*
 * Linear memory: loads, stores, memory.size/grow and the bulk memory
 * instructions, for every memory of a module (multi-memory), 32- or 64-bit
 * (memory64), static or dynamic (see vm_plan_memory in vmctx.h).
 *
 * Memory 0's base stays in r14. Other memories are reached through their
 * vm_memory in vmctx at each access. A static memory's base never moves; a
 * dynamic memory 0's base is reloaded after anything that may grow it.
 */
#include "func.h"
#include "vmctx.h"
#include "wasmjail.h"

static bool mem_is64(const fn *f, uint32_t mem)
{
    return f->m->memories[mem].is64;
}

/* r11 = memory `mem`'s vm_memory. */
static void load_vm_memory(fn *f, uint32_t mem)
{
    x86_mov_rr(f->cb, SZ64, SCRATCH, M_(VMCTX, (int32_t)vmctx_memory(f->m, mem))); /* mov r11, [r15+mem] */
}

/* The register holding memory `mem`'s base: r14 for memory 0, else r11
 * (loaded here, clobbering r11). */
static int base_reg(fn *f, uint32_t mem)
{
    if (mem == 0)
        return MEMBASE;
    load_vm_memory(f, mem);
    x86_mov_rr(f->cb, SZ64, SCRATCH, M_(SCRATCH, VM_MEMORY_BASE)); /* mov r11, [r11+base] */
    return SCRATCH;
}

void reload_membase(fn *f)
{
    codebuf *cb = f->cb;
    if (f->m->nmemories == 0)
        return;
    if (!f->plans[0].dynamic) {
        x86_mov_rr(cb, SZ64, MEMBASE, M_(VMCTX, VMCTX_MEMORY0_BASE)); /* mov r14, [r15+base0] */
        return;
    }
    x86_mov_rr(cb, SZ64, MEMBASE, M_(VMCTX, (int32_t)vmctx_memory(f->m, 0))); /* mov r14, [r15+mem0] */
    x86_mov_rr(cb, SZ64, MEMBASE, M_(MEMBASE, VM_MEMORY_BASE));              /* mov r14, [r14+base] */
}

void reload_membase_if_moved(fn *f)
{
    if (f->m->nmemories && f->plans[0].dynamic)
        reload_membase(f);
}

/* No check is needed when the furthest byte the access can touch lies in
 * the static memory's mapping (it faults there if out of bounds), and the
 * displacement fits an instruction. */
static bool check_elided(const vm_memory_plan *p, uint64_t max_index, uint64_t offset, int size)
{
    if (p->dynamic || offset > INT32_MAX - (uint64_t)size || max_index > p->extent)
        return false;
    return offset + (uint64_t)size <= p->extent - max_index;
}

x86_rm heap_address(fn *f, uint32_t mem, uint64_t offset, int size, int *idx)
{
    codebuf *cb = f->cb;
    const vm_memory_plan *p = &f->plans[mem];
    ventry *a = top(f, 0);
    *idx = -1;
    if (a->kind == V_CONST && !mem_is64(f, mem)) {
        uint64_t ea = (uint32_t)a->imm + offset;
        if (check_elided(p, 0, ea, size)) {
            f->height--;
            return M_(base_reg(f, mem), (int32_t)ea);
        }
    }
    bool elided = check_elided(p, UINT32_MAX, offset, size);
    int held = elided && a->kind == V_LOCAL ? local_reg(f, a) : -1;
    if (held >= 0) {
        /* A pinned or cached local's register serves as the index in
         * place: i32 values are zero-extended in registers. */
        f->height--;
        return MI_(base_reg(f, mem), held, 0, (int32_t)offset);
    }
    int i = pop_reg(f, 0);
    *idx = i;
    if (elided)
        return MI_(base_reg(f, mem), i, 0, (int32_t)offset);
    /* Explicit: index + offset + size <= the memory's size, in 64 bits. */
    uint64_t end = offset + (uint64_t)size;
    if (end < offset) { /* beyond 2^64: no index is in bounds */
        trap_jump(f, x86_jmp(cb), WJ_TRAP_MEMORY_OUT_OF_BOUNDS); /* jmp stub */
        return MI_(MEMBASE, i, 0, 0);
    }
    if (end <= INT32_MAX) {
        x86_alu_ri(cb, ALU_ADD, SZ64, R_(i), (int32_t)end); /* add idx, end */
    } else {
        x86_mov_ri64(cb, SCRATCH, end);                     /* mov r11, end */
        x86_alu_rr(cb, ALU_ADD, SZ64, i, R_(SCRATCH));      /* add idx, r11 */
    }
    if (mem_is64(f, mem)) /* a 64-bit index plus the offset can wrap */
        trap_if(f, CC_B, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);     /* jc stub */
    load_vm_memory(f, mem);
    x86_alu_rr(cb, ALU_CMP, SZ64, i, M_(SCRATCH, VM_MEMORY_SIZE)); /* cmp idx, [r11+size] */
    trap_if(f, CC_A, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);               /* ja stub */
    if (mem == 0)
        return MI_(MEMBASE, i, 0, -size);
    x86_mov_rr(cb, SZ64, SCRATCH, M_(SCRATCH, VM_MEMORY_BASE)); /* mov r11, [r11+base] */
    return MI_(SCRATCH, i, 0, -size);
}

static void load(fn *f, uint8_t op, uint32_t mem, uint64_t offset)
{
    static const uint8_t size[] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4};
    static const uint8_t type[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_I32, WASM_I32,
                                   WASM_I32, WASM_I32, WASM_I64, WASM_I64, WASM_I64, WASM_I64,
                                   WASM_I64, WASM_I64};
    codebuf *cb = f->cb;
    int k = op - 0x28;
    if (op <= 0x2b && fold_load(f, type[k], mem, offset))
        return;
    int idx;
    x86_rm m = heap_address(f, mem, offset, size[k], &idx);
    bool fl = is_float(type[k]);
    /* r may take back a cached local's register serving as the index: the
     * load reads its address before writing r. */
    int r = !fl && idx >= 0 ? idx : reg_alloc(f, fl);
    trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    switch (op) {
    case 0x28: x86_mov_rr(cb, SZ32, r, m); break;              /* mov r32, [m] */
    case 0x29: x86_mov_rr(cb, SZ64, r, m); break;              /* mov r64, [m] */
    case 0x2a: x86_movs_load(cb, false, r - 16, m); break;     /* movss x, [m] */
    case 0x2b: x86_movs_load(cb, true, r - 16, m); break;      /* movsd x, [m] */
    case 0x2c: x86_movsx(cb, SZ32, r, SZ8, m); break;          /* movsx r32, byte [m] */
    case 0x2d: case 0x31: x86_movzx(cb, r, SZ8, m); break;     /* movzx r32, byte [m] */
    case 0x2e: x86_movsx(cb, SZ32, r, SZ16, m); break;         /* movsx r32, word [m] */
    case 0x2f: case 0x33: x86_movzx(cb, r, SZ16, m); break;    /* movzx r32, word [m] */
    case 0x30: x86_movsx(cb, SZ64, r, SZ8, m); break;          /* movsx r64, byte [m] */
    case 0x32: x86_movsx(cb, SZ64, r, SZ16, m); break;         /* movsx r64, word [m] */
    case 0x34: x86_movsx(cb, SZ64, r, SZ32, m); break;         /* movsxd r64, [m] */
    case 0x35: x86_mov_rr(cb, SZ32, r, m); break;              /* mov r32, [m] */
    }
    if (idx >= 0 && idx != r)
        reg_free(f, idx);
    push_reg(f, type[k], r);
}

static void store(fn *f, uint8_t op, uint32_t mem, uint64_t offset)
{
    static const uint8_t size[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    codebuf *cb = f->cb;
    int k = op - 0x36;
    ventry *v = top(f, 0);
    int32_t imm = 0;
    int vr = -1;
    bool pinned = v->kind == V_LOCAL && f->local_reg[v->local] >= 0;
    if (pinned) { /* stored from its register, which stays the local's */
        vr = f->local_reg[v->local];
        f->height--;
    } else if (v->kind == V_CONST && (size[k] < 8 || (int64_t)v->imm == (int32_t)v->imm) &&
        !is_float(v->type)) {
        imm = (int32_t)v->imm;
        f->height--;
    } else if (v->kind == V_CONST && is_float(v->type) && size[k] == 4) {
        imm = (int32_t)v->imm;
        f->height--;
    } else {
        vr = pop_reg(f, 0);
    }
    int idx;
    x86_rm m = heap_address(f, mem, offset, size[k], &idx);
    trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (vr < 0)
        x86_mov_mi(cb, size[k], m, imm);            /* mov size [m], imm */
    else if (IS_XMM(vr))
        x86_movs_store(cb, op == 0x39, m, vr - 16); /* movss/movsd [m], x */
    else
        x86_mov_mr(cb, size[k], m, vr);             /* mov size [m], r */
    if (vr >= 0 && !pinned)
        reg_free(f, vr);
    if (idx >= 0)
        reg_free(f, idx);
}

bool op_memory(fn *f, const wasm_instr *ins)
{
    uint8_t op = (uint8_t)ins->op;
    if (op == 0x3f || op == 0x40) {
        uint32_t mem = ins->index;
        uint8_t type = mem_is64(f, mem) ? WASM_I64 : WASM_I32;
        if (op == 0x3f) { /* memory.size */
            int reg = reg_alloc(f, false);
            x86_mov_rr(f->cb, SZ64, reg, M_(VMCTX, (int32_t)vmctx_memory(f->m, mem))); /* mov r, [r15+mem] */
            x86_mov_rr(f->cb, type_size(type), reg, M_(reg, VM_MEMORY_PAGES)); /* mov r, [r+pages] */
            push_reg(f, type, reg);
        } else { /* memory.grow */
            libcall(f, (const void *)wj__memory_grow, &mem, 1, 1);
            /* Imports may name one memory twice: any grow may move memory 0. */
            reload_membase_if_moved(f);
            push_reg(f, type, RAX);
        }
        return true;
    }
    if (op <= 0x35)
        load(f, op, ins->memarg.memory, ins->memarg.offset);
    else
        store(f, op, ins->memarg.memory, ins->memarg.offset);
    return true;
}

void op_memory_bulk(fn *f, uint32_t op, uint32_t a, uint32_t b)
{
    uint32_t imms[2];
    switch (op) {
    case 8: /* memory.init seg mem */
        imms[0] = b, imms[1] = a;
        libcall(f, (const void *)wj__memory_init, imms, 2, 3);
        libcall_check(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    case 9: /* data.drop seg */
        libcall(f, (const void *)wj__data_drop, &a, 1, 0);
        return;
    case 10: /* memory.copy dst src */
        imms[0] = a, imms[1] = b;
        libcall(f, (const void *)wj__memory_copy, imms, 2, 3);
        libcall_check(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    default: /* 11 memory.fill mem */
        libcall(f, (const void *)wj__memory_fill, &a, 1, 3);
        libcall_check(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
}
