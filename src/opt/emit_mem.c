/* Tier 2's memory instructions (emit.h): loads and stores, globals,
 * memory.size/grow and the bulk operations. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

static bool is64(backend *be, uint32_t mem) { return be->env->m->memories[mem].is64; }

/* No check is needed when the furthest byte an access can touch lies in
 * the static memory's mapping (it faults there if out of bounds) and the
 * displacement fits an instruction, as in tier 1 (heap.c). */
static bool check_elided(const vm_memory_plan *p, uint64_t max_index, uint64_t offset, int size)
{
    if (p->dynamic || offset > INT32_MAX - (uint64_t)size || max_index > p->extent)
        return false;
    return offset + (uint64_t)size <= p->extent - max_index;
}

/* The register holding memory `mem`'s base: r14 for memory 0, else rdx
 * (loaded here through its vm_memory). */
static int base_reg(backend *be, uint32_t mem)
{
    if (mem == 0)
        return R14;
    be->rdx_memory = 0;
    int32_t slot = (int32_t)vmctx_memory(be->env->m, mem);
    x86_mov_rr(be->cb, SZ64, RDX, M_(R15, slot));           /* mov rdx, [r15+mem] */
    x86_mov_rr(be->cb, SZ64, RDX, M_(RDX, VM_MEMORY_BASE)); /* mov rdx, [rdx+base] */
    return RDX;
}

/* Operations that leave rdx alone (emit_num.c's division is what writes
 * it, besides calls): constants, loads and stores, comparisons, integer
 * and float arithmetic but division and remainder. */
static bool keeps_rdx(uint16_t op)
{
    return is_const_op(op) || (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) ||
           (op >= WASM_OP_I32_EQZ && op <= WASM_OP_F64_GE) ||
           (op >= WASM_OP_I32_ADD && op <= WASM_OP_I32_MUL) ||
           (op >= WASM_OP_I32_AND && op <= WASM_OP_I32_ROTR) ||
           (op >= WASM_OP_I64_ADD && op <= WASM_OP_I64_MUL) ||
           (op >= WASM_OP_I64_AND && op <= WASM_OP_I64_ROTR) ||
           (op >= WASM_OP_F32_ADD && op <= WASM_OP_F32_DIV) ||
           (op >= WASM_OP_F64_ADD && op <= WASM_OP_F64_DIV);
}

/* Whether rdx still holds memory `mem`'s vm_memory at access `in`: the
 * check of an earlier access of the same block loaded it, and nothing
 * since may have written rdx (no value in between took it: none that
 * lives across the access can, be_heap_temps). */
static bool rdx_holds(backend *be, ir_inst *in, uint32_t mem)
{
    if (be->rdx_memory != mem + 1)
        return false;
    for (ir_ref r = in->prev; r; r = inst(be, r)->prev) {
        if (r == be->rdx_access)
            return true;
        if (!keeps_rdx(inst(be, r)->op) || be->reg[r] == RDX)
            return false;
    }
    return false;
}

/* Whether bce.c proved access `in` in bounds and its offset fits an
 * instruction's displacement. */
static bool proven(const ir_inst *in)
{
    return (in->flags & IR_IN_BOUNDS) && in->imm <= INT32_MAX;
}

bool be_access_checked(const opt_env *env, const ir_inst *in)
{
    return !check_elided(&env->plans[in->aux], UINT32_MAX, in->imm, ir_access_size(in->op));
}

unsigned be_heap_temps(backend *be, const ir_inst *in)
{
    int size = ir_access_size(in->op);
    if (in->aux == 0 && (proven(in) || check_elided(&be->env->plans[0], UINT32_MAX, in->imm, size)))
        return 0;
    return 1u << RCX | 1u << RDX;
}

/*
 * The operand of load or store `in` (tier 1's heap_address, in->aux its
 * memory).
 * No check where the static mapping catches the access or an earlier
 * access proved it in bounds (bce.c); otherwise index + offset + size <=
 * the memory's size in 64 bits (a memory64 index can wrap too), in rcx,
 * the address then [base + rcx - size]. rcx, rdx and r11 are free here:
 * the value stored and the result are elsewhere.
 */
x86_rm be_heap_operand(backend *be, ir_inst *in)
{
    int size = ir_access_size(in->op);
    codebuf *cb = be->cb;
    uint32_t mem = in->aux;
    const vm_memory_plan *p = &be->env->plans[mem];
    ir_ref a = in->args[0];
    uint64_t offset = in->imm;
    if (is_const(be, a) && !is64(be, mem)) {
        uint64_t ea = (uint32_t)inst(be, a)->imm + offset;
        if (check_elided(p, 0, ea, size))
            return M_(base_reg(be, mem), (int32_t)ea);
    }
    if (proven(in) || check_elided(p, UINT32_MAX, offset, size)) {
        /* an i32 in a register is zero-extended: a valid 64-bit index */
        int i = be->reg[a] != NO_REG ? be->reg[a] : R11;
        be_load_gpr(be, i, a); /* mov r11d, [slot] when spilled */
        return MI_(base_reg(be, mem), i, 0, (int32_t)offset);
    }
    uint64_t end = offset + (uint64_t)size;
    bool have_memory = rdx_holds(be, in, mem);
    if (end < offset) { /* beyond 2^64: no index is in bounds */
        be_trap_jump(be, x86_jmp(cb), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        be->rdx_memory = 0;
        return MI_(R14, RCX, 0, 0);
    }
    if (end <= INT32_MAX && !is64(be, mem) && !is_const(be, a) && be->reg[a] != NO_REG) {
        /* a zero-extended i32 plus end cannot wrap in 64 bits */
        x86_lea(cb, SZ64, RCX, M_(be->reg[a], (int32_t)end)); /* lea rcx, [idx+end] */
    } else if (end <= INT32_MAX) {
        be_load_gpr(be, RCX, a);
        x86_alu_ri(cb, ALU_ADD, SZ64, R_(RCX), (int32_t)end); /* add rcx, end */
    } else {
        be_load_gpr(be, RCX, a);
        x86_mov_ri64(cb, RDX, end);                         /* mov rdx, end */
        x86_alu_rr(cb, ALU_ADD, SZ64, RCX, R_(RDX));        /* add rcx, rdx */
        have_memory = false;
    }
    if (is64(be, mem))
        be_trap_jump(be, x86_jcc(cb, CC_B), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm); /* jc stub */
    if (!have_memory)
        x86_mov_rr(cb, SZ64, RDX, M_(R15, (int32_t)vmctx_memory(be->env->m, mem))); /* rdx = mem */
    x86_alu_rr(cb, ALU_CMP, SZ64, RCX, M_(RDX, VM_MEMORY_SIZE)); /* cmp rcx, [rdx+size] */
    be_trap_jump(be, x86_jcc(cb, CC_A), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm); /* ja stub */
    be->rdx_memory = mem == 0 ? 1 : 0;
    be->rdx_access = (ir_ref)(in - be->ir->insts);
    if (mem == 0)
        return MI_(R14, RCX, 0, -size);
    x86_mov_rr(cb, SZ64, RDX, M_(RDX, VM_MEMORY_BASE)); /* mov rdx, [rdx+base] */
    return MI_(RDX, RCX, 0, -size);
}

void be_op_load(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_rm m = be_heap_operand(be, in);
    if (is_xmm_type(in->type)) {
        int d = be_dst_xmm(be, v);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_load(cb, in->op == WASM_OP_F64_LOAD, d - 16, m); /* movsd d, [m] */
        be_put(be, v, d);
        return;
    }
    int d = be_dst_gpr(be, v);
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    switch (in->op) {
    case WASM_OP_I32_LOAD: case WASM_OP_I64_LOAD32_U: x86_mov_rr(cb, SZ32, d, m); break;
    case WASM_OP_I64_LOAD: x86_mov_rr(cb, SZ64, d, m); break;
    case WASM_OP_I32_LOAD8_S: x86_movsx(cb, SZ32, d, SZ8, m); break;
    case WASM_OP_I32_LOAD8_U: case WASM_OP_I64_LOAD8_U: x86_movzx(cb, d, SZ8, m); break;
    case WASM_OP_I32_LOAD16_S: x86_movsx(cb, SZ32, d, SZ16, m); break;
    case WASM_OP_I32_LOAD16_U: case WASM_OP_I64_LOAD16_U: x86_movzx(cb, d, SZ16, m); break;
    case WASM_OP_I64_LOAD8_S: x86_movsx(cb, SZ64, d, SZ8, m); break;
    case WASM_OP_I64_LOAD16_S: x86_movsx(cb, SZ64, d, SZ16, m); break;
    case WASM_OP_I64_LOAD32_S: x86_movsx(cb, SZ64, d, SZ32, m); break;
    }
    be_put(be, v, d);
}

/* op [m], b for store `in` of (load op b) to the load's place (select.c). */
static void store_rmw(backend *be, ir_inst *in)
{
    codebuf *cb = be->cb;
    ir_ref l = be_rmw_load(be->ir, (ir_ref)(in - be->ir->insts), NULL);
    ir_inst *op = inst(be, in->args[1]), *load = inst(be, l);
    ir_ref b = op->args[0] == l ? op->args[1] : op->args[0];
    int size = in->op == WASM_OP_I64_STORE ? SZ64 : SZ32, alu = be_rmw_alu(op->op);
    x86_rm m = be_heap_operand(be, load); /* may take r11, rcx, rdx: b is elsewhere */
    int32_t imm;
    int r = -1;
    if (!be_imm32_of(be, b, size, &imm)) {
        r = !is_const(be, b) && be->reg[b] != NO_REG ? be->reg[b] : TMP;
        be_load_gpr(be, r, b);
    }
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, load->wasm); /* the load's fault */
    if (r < 0)
        x86_alu_ri(cb, alu, size, m, imm); /* op [m], imm */
    else
        x86_alu_mr(cb, alu, size, m, r);   /* op [m], b */
}

void be_op_store(backend *be, ir_inst *in)
{
    static const uint8_t sizes[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    codebuf *cb = be->cb;
    int size = sizes[in->op - WASM_OP_I32_STORE];
    ir_ref val = in->args[1];
    int32_t imm;
    if (be->folded[val]) {
        store_rmw(be, in);
        return;
    }
    bool fl = in->op == WASM_OP_F32_STORE || in->op == WASM_OP_F64_STORE;
    if (fl && !is_const(be, val)) {
        int x = be->reg[val] != NO_REG ? be->reg[val] - 16 : XSCRATCH;
        be_load_xmm(be, x, val);
        x86_rm m = be_heap_operand(be, in);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_store(cb, size == 8, m, x); /* movsd [m], x */
        return;
    }
    bool as_imm = is_const(be, val) && (size < 8 || be_imm32_of(be, val, SZ64, &imm));
    imm = (int32_t)inst(be, val)->imm;
    int r = -1;
    if (!as_imm) {
        r = !is_const(be, val) && be->reg[val] != NO_REG ? be->reg[val] : TMP;
        if (is_const(be, val))
            x86_mov_ri64(cb, TMP, inst(be, val)->imm);
        else
            be_load_gpr(be, r, val);
    }
    x86_rm m = be_heap_operand(be, in);
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    if (as_imm)
        x86_mov_mi(cb, size, m, imm); /* mov size [m], imm */
    else
        x86_mov_mr(cb, size, m, r);   /* mov size [m], r */
}

x86_rm be_global_rm(backend *be, uint32_t g)
{
    x86_rm slot = M_(R15, (int32_t)vmctx_global(be->env->m, g));
    if (!vm_global_indirect(be->env->m, g))
        return slot;
    x86_mov_rr(be->cb, SZ64, R11, slot); /* mov r11, [r15+global] */
    return M_(R11, 0);
}

/* r14 = memory 0's base, after anything that may have grown memory 0 or
 * entered another instance (always) or after a call within this one
 * (!always: only a dynamic memory moves). */
void be_reload_membase(backend *be, bool always)
{
    const wasm_module *m = be->env->m;
    if (!m->nmemories)
        return;
    if (be->env->plans[0].dynamic) {
        x86_mov_rr(be->cb, SZ64, R14, M_(R15, (int32_t)vmctx_memory(m, 0))); /* r14 = mem0 */
        x86_mov_rr(be->cb, SZ64, R14, M_(R14, VM_MEMORY_BASE)); /* mov r14, [r14+base] */
    } else if (always) {
        x86_mov_rr(be->cb, SZ64, R14, M_(R15, VMCTX_MEMORY0_BASE)); /* mov r14, [r15+base0] */
    }
}

/* memory.size and memory.grow of memory `aux`: page counts of memory64
 * are 64-bit. */
void be_op_memory(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    if (in->op == WASM_OP_MEMORY_SIZE) {
        int d = be_dst_gpr(be, v);
        x86_mov_rr(cb, SZ64, d, M_(R15, (int32_t)vmctx_memory(m, in->aux))); /* mov d, [r15+mem] */
        x86_mov_rr(cb, size_of(in->type), d, M_(d, VM_MEMORY_PAGES));        /* mov d, [d+pages] */
        be_put(be, v, d);
        return;
    }
    be_save_across(be, v, false);
    be_load_gpr(be, RDX, in->args[0]); /* the delta */
    x86_mov_ri64(cb, RSI, in->aux);    /* mov esi, memory */
    be_libcall(be, v, in, (const void *)wj__memory_grow);
    /* imports may name one memory twice: any grow may move memory 0 */
    be_reload_membase(be, false);
}

/*
 * The bulk operations as libcalls (vmctx.h), those that access memory
 * trapping out of bounds:
 *   memory.fill mem (dst, value, n)     wj__memory_fill(mem, dst, value, n)
 *   memory.copy dst src (dst, src, n)   wj__memory_copy(dst, src, dst, src, n)
 *   memory.init seg mem (dst, src, n)   wj__memory_init(mem, seg, dst, src, n)
 *   data.drop seg                       wj__data_drop(seg)
 * None of them grows a memory.
 */
void be_op_bulk(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    be_save_across(be, v, false);
    bool fill = in->op == WASM_OP_MEMORY_FILL, drop = in->op == WASM_OP_DATA_DROP;
    /* the memory (the destination's) or the segment dropped; the source
     * memory or the segment */
    uint32_t imms[2] = {drop ? (uint32_t)in->imm : in->aux, (uint32_t)in->imm};
    be_libcall_args(be, in, imms, fill || drop ? 1 : 2);
    const void *func = drop ? (const void *)wj__data_drop
                       : fill ? (const void *)wj__memory_fill
                       : in->op == WASM_OP_MEMORY_COPY ? (const void *)wj__memory_copy
                                                       : (const void *)wj__memory_init;
    be_libcall(be, v, in, func);
    if (drop)
        return;
    x86_test_rr(cb, SZ32, R_(RAX), RAX); /* test eax, eax */
    be_trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
}
