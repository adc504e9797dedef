/* Linear memory, globals, locals, references and tables. */
#include "func.h"
#include "vmctx.h"
#include "wasmjail.h"

#define BIT(r) (1u << (r))

static bool read_memarg(fn *f, wasm_reader *r, uint32_t *offset)
{
    uint32_t align, mem = 0;
    if (!wasm_read_u32(r, &align))
        return false;
    if (align & 0x40 && !wasm_read_u32(r, &mem))
        return false;
    uint64_t off;
    if (!wasm_read_u64(r, &off))
        return false;
    if (mem != 0 || off > UINT32_MAX)
        return fn_unsupported(f, "multi-memory");
    *offset = (uint32_t)off;
    return true;
}

/* Pops the address and returns the operand for an access of `size` bytes;
 * *idx is the register to free afterwards (-1: none). A static offset too
 * large for the guard region gets an explicit bounds check. */
static x86_rm address(fn *f, uint32_t offset, int size, int *idx)
{
    codebuf *cb = f->cb;
    ventry *a = top(f, 0);
    *idx = -1;
    if (a->kind == V_CONST) {
        uint64_t ea = (uint64_t)(uint32_t)a->imm + offset;
        if (ea + (uint64_t)size < VM_GUARD_ELIDE_OFFSET) {
            f->height--;
            return M_(MEMBASE, (int32_t)ea);
        }
    }
    int i = pop_reg(f, 0);
    *idx = i;
    if (offset < VM_GUARD_ELIDE_OFFSET - 8)
        return MI_(MEMBASE, i, 0, (int32_t)offset);
    x86_mov_ri64(cb, SCRATCH, (uint64_t)offset + (uint64_t)size);  /* mov r11, offset+size */
    x86_alu_rr(cb, ALU_ADD, SZ64, SCRATCH, R_(i));                 /* add r11, idx */
    x86_mov_rr(cb, SZ64, i, M_(VMCTX, (int32_t)vmctx_memory(f->m, 0))); /* mov idx, [r15+mem0] */
    x86_alu_rr(cb, ALU_CMP, SZ64, SCRATCH, M_(i, VM_MEMORY_SIZE)); /* cmp r11, [idx+size] */
    trap_if(f, CC_A, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);                /* ja stub */
    return MI_(MEMBASE, SCRATCH, 0, -size);
}

static void load(fn *f, uint8_t op, uint32_t offset)
{
    static const uint8_t size[] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4};
    static const uint8_t type[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_I32, WASM_I32,
                                   WASM_I32, WASM_I32, WASM_I64, WASM_I64, WASM_I64, WASM_I64,
                                   WASM_I64, WASM_I64};
    codebuf *cb = f->cb;
    int k = op - 0x28;
    int idx;
    x86_rm m = address(f, offset, size[k], &idx);
    bool fl = is_float(type[k]);
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

static void store(fn *f, uint8_t op, uint32_t offset)
{
    static const uint8_t size[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    codebuf *cb = f->cb;
    int k = op - 0x36;
    ventry *v = top(f, 0);
    int32_t imm = 0;
    int vr = -1;
    if (v->kind == V_CONST && (size[k] < 8 || (int64_t)v->imm == (int32_t)v->imm) &&
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
    x86_rm m = address(f, offset, size[k], &idx);
    trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (vr < 0)
        x86_mov_mi(cb, size[k], m, imm);            /* mov size [m], imm */
    else if (IS_XMM(vr))
        x86_movs_store(cb, op == 0x39, m, vr - 16); /* movss/movsd [m], x */
    else
        x86_mov_mr(cb, size[k], m, vr);             /* mov size [m], r */
    if (vr >= 0)
        reg_free(f, vr);
    if (idx >= 0)
        reg_free(f, idx);
}

/* An operand for a global: defined ones live in vmctx, imported ones are
 * reached through the pointer there (in `tmp`). */
static x86_rm global_rm(fn *f, uint32_t g, int tmp)
{
    x86_rm slot = M_(VMCTX, (int32_t)vmctx_global(f->m, g));
    if (g >= f->m->nglobal_imports)
        return slot;
    x86_mov_rr(f->cb, SZ64, tmp, slot); /* mov tmp, [r15+global] */
    return M_(tmp, 0);
}

static bool op_global(fn *f, uint8_t op, uint32_t g)
{
    uint8_t type = f->m->globals[g].type.type;
    if (type == WASM_V128)
        return fn_unsupported(f, "SIMD");
    bool fl = is_float(type);
    if (op == 0x23) { /* global.get */
        int r = reg_alloc(f, fl);
        x86_rm m = global_rm(f, g, SCRATCH);
        if (fl)
            x86_movs_load(f->cb, type == WASM_F64, r - 16, m); /* movss x, [global] */
        else
            x86_mov_rr(f->cb, type_size(type), r, m);          /* mov r, [global] */
        push_reg(f, type, r);
        return true;
    }
    int v = pop_reg(f, 0); /* global.set */
    x86_rm m = global_rm(f, g, SCRATCH);
    if (fl)
        x86_movs_store(f->cb, type == WASM_F64, m, v - 16); /* movss [global], x */
    else
        x86_mov_mr(f->cb, type_size(type), m, v);           /* mov [global], r */
    reg_free(f, v);
    return true;
}

/* r11 = table t's elements after checking idx < size. */
static void table_elems(fn *f, uint32_t t, int idx)
{
    codebuf *cb = f->cb;
    x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, (int32_t)vmctx_table(f->m, t))); /* mov r11, [r15+table] */
    x86_alu_rr(cb, ALU_CMP, SZ32, idx, M_(SCRATCH, VM_TABLE_SIZE));  /* cmp idx, [r11+size] */
    trap_if(f, CC_AE, WJ_TRAP_TABLE_OUT_OF_BOUNDS);                  /* jae stub */
    x86_mov_rr(cb, SZ64, SCRATCH, M_(SCRATCH, VM_TABLE_ELEMS));      /* mov r11, [r11+elems] */
}

bool op_variable(fn *f, uint8_t op, wasm_reader *r)
{
    uint32_t i;
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
        uint8_t t;
        if (!wasm_read_u8(r, &t))
            return false;
        push_const(f, t, 0);
        return true;
    }
    if (!wasm_read_u32(r, &i))
        return false;
    switch (op) {
    case 0x20: /* local.get */
        push_local(f, i);
        return true;
    case 0x21: /* local.set */
    case 0x22: /* local.tee */
        invalidate_local(f, i);
        local_set(f, top(f, 0), i);
        if (op == 0x21) {
            ventry e = pop(f);
            free_entry(f, &e);
        }
        return true;
    case 0x23:
    case 0x24:
        return op_global(f, op, i);
    case 0x25: { /* table.get */
        int idx = pop_reg(f, 0);
        table_elems(f, i, idx);
        x86_mov_rr(f->cb, SZ64, idx, MI_(SCRATCH, idx, 3, 0)); /* mov idx, [r11+idx*8] */
        push_reg(f, f->m->tables[i].elem, idx);
        return true;
    }
    case 0x26: { /* table.set */
        int v = pop_reg(f, 0);
        int idx = pop_reg(f, BIT(v));
        table_elems(f, i, idx);
        x86_mov_mr(f->cb, SZ64, MI_(SCRATCH, idx, 3, 0), v); /* mov [r11+idx*8], v */
        reg_free(f, v), reg_free(f, idx);
        return true;
    }
    default: { /* 0xd2 ref.func */
        int reg = reg_alloc(f, false);
        x86_mov_rr(f->cb, SZ64, reg, M_(VMCTX, (int32_t)vmctx_func(f->m, i))); /* mov r, [r15+func] */
        push_reg(f, WASM_FUNCREF, reg);
        return true;
    }
    }
}

static void check_status(fn *f, uint32_t code)
{
    x86_test_rr(f->cb, SZ32, R_(RAX), RAX); /* test eax, eax */
    trap_if(f, CC_NE, code);                /* jnz stub */
}

bool op_memory(fn *f, uint8_t op, wasm_reader *r)
{
    uint32_t offset = 0;
    if (op == 0x3f || op == 0x40) {
        uint8_t mem;
        if (!wasm_read_u8(r, &mem))
            return false;
        if (op == 0x3f) { /* memory.size */
            int reg = reg_alloc(f, false);
            x86_mov_rr(f->cb, SZ64, reg, M_(VMCTX, (int32_t)vmctx_memory(f->m, 0))); /* mov r, [r15+mem0] */
            x86_mov_rr(f->cb, SZ32, reg, M_(reg, VM_MEMORY_PAGES)); /* mov r32, [r+pages] */
            push_reg(f, WASM_I32, reg);
        } else { /* memory.grow */
            uint32_t imm = 0;
            libcall(f, (const void *)wj__memory_grow, &imm, 1, 1);
            x86_mov_rr(f->cb, SZ64, MEMBASE, M_(VMCTX, VMCTX_MEMORY0_BASE)); /* mov r14, [r15+8] */
            push_reg(f, WASM_I32, RAX);
        }
        return true;
    }
    if (!read_memarg(f, r, &offset))
        return false;
    if (op <= 0x35)
        load(f, op, offset);
    else
        store(f, op, offset);
    return true;
}

bool op_misc(fn *f, uint32_t op, wasm_reader *r)
{
    uint32_t a = 0, b = 0;
    if (op <= 7) {
        op_trunc_sat(f, op);
        return true;
    }
    if (op == 8 || op == 12 || op == 14) { /* two immediates */
        if (!wasm_read_u32(r, &a) || !wasm_read_u32(r, &b))
            return false;
    } else if (op <= 17) {
        if (!wasm_read_u32(r, &a))
            return false;
    } else {
        return fn_unsupported(f, "opcode");
    }
    uint32_t imms[2];
    switch (op) {
    case 8: /* memory.init seg mem */
        imms[0] = b, imms[1] = a;
        libcall(f, (const void *)wj__memory_init, imms, 2, 3);
        check_status(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return true;
    case 9: /* data.drop */
        libcall(f, (const void *)wj__data_drop, &a, 1, 0);
        return true;
    case 10: /* memory.copy dst src */
        if (!wasm_read_u32(r, &b))
            return false;
        imms[0] = a, imms[1] = b;
        libcall(f, (const void *)wj__memory_copy, imms, 2, 3);
        check_status(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return true;
    case 11: /* memory.fill */
        libcall(f, (const void *)wj__memory_fill, &a, 1, 3);
        check_status(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        return true;
    case 12: /* table.init seg table */
        imms[0] = b, imms[1] = a;
        libcall(f, (const void *)wj__table_init, imms, 2, 3);
        check_status(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
        return true;
    case 13: /* elem.drop */
        libcall(f, (const void *)wj__elem_drop, &a, 1, 0);
        return true;
    case 14: /* table.copy dst src */
        imms[0] = a, imms[1] = b;
        libcall(f, (const void *)wj__table_copy, imms, 2, 3);
        check_status(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
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
        check_status(f, WJ_TRAP_TABLE_OUT_OF_BOUNDS);
        return true;
    }
}
