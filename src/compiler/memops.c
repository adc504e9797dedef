/* Locals, globals, references and the table instructions of libcalls. */
#include "func.h"
#include "vmctx.h"
#include "wasmjail.h"

#define BIT(r) (1u << (r))

/* An operand for a global: most defined ones live in vmctx; imported and
 * v128 ones are reached through the pointer there (in `tmp`). */
static x86_rm global_rm(fn *f, uint32_t g, int tmp)
{
    x86_rm slot = M_(VMCTX, (int32_t)vmctx_global(f->m, g));
    if (!vm_global_indirect(f->m, g))
        return slot;
    x86_mov_rr(f->cb, SZ64, tmp, slot); /* mov tmp, [r15+global] */
    return M_(tmp, 0);
}

static bool op_global(fn *f, uint8_t op, uint32_t g)
{
    uint8_t type = f->m->globals[g].type.type;
    if (op == 0x23) { /* global.get */
        int r = reg_alloc(f, in_xmm(type));
        reg_load(f, type, r, global_rm(f, g, SCRATCH)); /* mov r, [global] */
        push_reg(f, type, r);
        return true;
    }
    int v = pop_reg(f, 0); /* global.set */
    reg_store(f, type, global_rm(f, g, SCRATCH), v); /* mov [global], r */
    reg_free(f, v);
    return true;
}

bool op_variable(fn *f, const wasm_instr *ins)
{
    uint8_t op = (uint8_t)ins->op;
    uint32_t i = ins->index;
    if (op == 0xd1) { /* ref.is_null */
        ventry *a = top(f, 0);
        if (a->kind == V_CONST) {
            a->type = WASM_I32;
            a->imm = a->imm == 0;
            return true;
        }
        int reg = pop_reg(f, 0);
        x86_test_rr(f->cb, SZ64, R_(reg), reg); /* test r, r */
        reg_free(f, reg);
        push_flags(f, CC_E);
        return true;
    }
    if (op == 0xd0) { /* ref.null t */
        push_const(f, ins->reftype, 0);
        return true;
    }
    switch (op) {
    case 0x20: /* local.get */
        push_local(f, i);
        return true;
    case 0x21: /* local.set */
    case 0x22: /* local.tee */
        invalidate_local(f, i);
        local_set(f, i, op == 0x22);
        return true;
    case 0x23:
    case 0x24:
        return op_global(f, op, i);
    default: /* table.get, table.set, ref.func */
        op_table(f, ins);
        return true;
    }
}

bool op_misc(fn *f, const wasm_instr *ins)
{
    uint32_t op = ins->op & 0xff, a = 0, b = 0;
    switch (ins->info->imm) {
    case WASM_IMM_MEMORY_INIT:
    case WASM_IMM_TABLE_INIT:
        a = ins->init.segment, b = ins->init.dst;
        break;
    case WASM_IMM_MEMORY_COPY:
    case WASM_IMM_TABLE_COPY:
        a = ins->copy.dst, b = ins->copy.src;
        break;
    default:
        a = ins->index;
        break;
    }
    if (op <= 7) {
        op_trunc_sat(f, op);
        return true;
    }
    if (op > 17)
        return fn_unsupported(f, "opcode");
    if (op <= 11) {
        op_memory_bulk(f, op, a, b);
        return true;
    }
    uint32_t imms[2];
    switch (op) {
    case 12: /* table.init seg table */
        imms[0] = b, imms[1] = a;
        libcall(f, (const void *)wj__table_init, imms, 2, 3);
        libcall_check(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
        return true;
    case 13: /* elem.drop */
        libcall(f, (const void *)wj__elem_drop, &a, 1, 0);
        return true;
    case 14: /* table.copy dst src */
        imms[0] = a, imms[1] = b;
        libcall(f, (const void *)wj__table_copy, imms, 2, 3);
        libcall_check(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
        return true;
    case 15: /* table.grow */
        libcall(f, (const void *)wj__table_grow, &a, 1, 2);
        push_reg(f, WASM_I32, RAX);
        return true;
    case 16: { /* table.size */
        int reg = reg_alloc(f, false);
        x86_mov_rr(f->cb, SZ64, reg, M_(VMCTX, (int32_t)vmctx_table(f->m, a))); /* mov r, [r15+table] */
        x86_mov_rr(f->cb, SZ32, reg, M_(reg, VM_TABLE_SIZE)); /* mov r32, [r+size] */
        push_reg(f, WASM_I32, reg);
        return true;
    }
    default: /* 17 table.fill */
        libcall(f, (const void *)wj__table_fill, &a, 1, 3);
        libcall_check(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
        return true;
    }
}
