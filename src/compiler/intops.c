/* Integer instructions: arithmetic, bit counts, shifts, comparisons,
 * division (explicit checks jump to trap stubs), and integer conversions. */
#include "func.h"
#include "wasmjail.h"

#define BIT(r) (1u << (r))

/* A constant operand usable as a sign-extended imm32 at this size. */
static bool imm_operand(const ventry *e, int size, int32_t *imm)
{
    if (e->kind != V_CONST)
        return false;
    if (size == SZ32) {
        *imm = (int32_t)(uint32_t)e->imm;
        return true;
    }
    if ((int64_t)e->imm != (int32_t)e->imm)
        return false;
    *imm = (int32_t)e->imm;
    return true;
}

/* b's operand form; constants that do not fit go through the scratch. */
static x86_rm operand(fn *f, const ventry *b)
{
    x86_rm rm;
    if (entry_rm(f, b, &rm))
        return rm;
    load_into(f, b, SCRATCH);
    return R_(SCRATCH);
}

/* add d, a, b with a in a register it must keep (a pinned or cached
 * local) and b a constant, a register or such a local: lea d, [a+b]
 * leaves a alone, where a copy would take a mov first. The 32-bit lea
 * wraps as i32.add does. */
static bool add_by_lea(fn *f, uint8_t type, int size)
{
    ventry *b = top(f, 0), *a = top(f, 1);
    int32_t imm = 0;
    bool b_imm = imm_operand(b, size, &imm);
    if (a->kind != V_LOCAL || local_reg(f, a) < 0 ||
        !(b_imm || b->kind == V_REG || (b->kind == V_LOCAL && local_reg(f, b) >= 0)))
        return false;
    wasm_instr next;
    if (f->local_reg[a->local] >= 0 && peek_instr(f, &next) &&
        (next.op == WASM_OP_LOCAL_SET || next.op == WASM_OP_LOCAL_TEE) &&
        next.index == a->local)
        return false; /* updated in place by alu: add x, b */
    f->height -= 2;
    int d = b->kind == V_REG ? b->reg : reg_alloc(f, false);
    /* The allocation may have reclaimed a cache register: such a local is
     * in its home then. */
    int ra = local_reg(f, a), rb = b->kind == V_REG ? b->reg : b_imm ? 0 : local_reg(f, b);
    if (ra >= 0 && rb >= 0) {
        x86_lea(f->cb, size, d, b_imm ? M_(ra, imm) : MI_(ra, rb, 0, 0)); /* lea d, [a+b] */
    } else {
        x86_rm brm;
        load_into(f, a, d);
        if (b_imm)
            x86_alu_ri(f->cb, ALU_ADD, size, R_(d), imm); /* add d, imm */
        else if (entry_rm(f, b, &brm))
            x86_alu_rr(f->cb, ALU_ADD, size, d, brm); /* add d, b */
    }
    push_reg(f, type, d);
    return true;
}

static void alu(fn *f, uint8_t type, int op)
{
    int size = type_size(type);
    int32_t imm;
    if (op == ALU_ADD && add_by_lea(f, type, size))
        return;
    if (imm_operand(top(f, 0), size, &imm)) {
        f->height--;
        int a = pop_dest(f, 0);
        x86_alu_ri(f->cb, op, size, R_(a), imm); /* op a, imm */
        push_dest(f, type, a);
        return;
    }
    ventry *b = top(f, 0);
    f->height--;
    int a = pop_dest(f, b->kind == V_REG ? BIT(b->reg) : 0);
    x86_alu_rr(f->cb, op, size, a, operand(f, b)); /* op a, b */
    free_entry(f, b);
    push_dest(f, type, a);
}

static void mul(fn *f, uint8_t type)
{
    int size = type_size(type);
    ventry *b = top(f, 0);
    f->height--;
    int a = pop_dest(f, b->kind == V_REG ? BIT(b->reg) : 0);
    x86_imul_rr(f->cb, size, a, operand(f, b)); /* imul a, b */
    free_entry(f, b);
    push_dest(f, type, a);
}

static void compare(fn *f, int size, int cc)
{
    int32_t imm;
    x86_rm arm;
    if (imm_operand(top(f, 0), size, &imm)) {
        f->height--;
        ventry *a = top(f, 0);
        f->height--;
        if (!entry_rm(f, a, &arm)) {
            load_into(f, a, SCRATCH);
            arm = R_(SCRATCH);
        }
        x86_alu_ri(f->cb, ALU_CMP, size, arm, imm); /* cmp a, imm */
        free_entry(f, a);
    } else {
        ventry *b = top(f, 0);
        f->height--;
        int a = pop_reg(f, b->kind == V_REG ? BIT(b->reg) : 0);
        x86_alu_rr(f->cb, ALU_CMP, size, a, operand(f, b)); /* cmp a, b */
        free_entry(f, b);
        reg_free(f, a);
    }
    push_flags(f, cc);
}

static void eqz(fn *f, int size)
{
    ventry *a = top(f, 0);
    if (a->kind == V_FLAGS) {
        a->reg ^= 1; /* the opposite condition */
        return;
    }
    f->height--;
    x86_rm rm;
    if (a->kind == V_REG) {
        x86_test_rr(f->cb, size, R_(a->reg), a->reg); /* test a, a */
    } else if (entry_rm(f, a, &rm)) {
        x86_alu_ri(f->cb, ALU_CMP, size, rm, 0); /* cmp [a], 0 */
    } else {
        load_into(f, a, SCRATCH);
        x86_test_rr(f->cb, size, R_(SCRATCH), SCRATCH);
    }
    free_entry(f, a);
    push_flags(f, CC_E);
}

static void divrem(fn *f, uint8_t type, bool is_signed, bool rem)
{
    codebuf *cb = f->cb;
    int size = type_size(type);
    /* rax taken before rdx is evicted, or rdx's value could move to rax */
    reg_evict(f, RAX);
    f->used |= BIT(RAX);
    reg_evict(f, RDX);
    f->used |= BIT(RDX);
    ventry *bt = top(f, 0);
    bool b_const = bt->kind == V_CONST;
    uint64_t bval = size == SZ32 ? (uint64_t)(int64_t)(int32_t)bt->imm : bt->imm;
    int b = pop_reg(f, BIT(RAX) | BIT(RDX));
    ventry *a = top(f, 0);
    f->height--;
    load_into(f, a, RAX); /* mov eax, a */
    if (a->kind == V_REG && a->reg != RAX)
        reg_free(f, a->reg);
    if (!b_const || bval == 0) {
        x86_test_rr(cb, size, R_(b), b);               /* test b, b */
        trap_if(f, CC_E, WJ_TRAP_INT_DIVIDE_BY_ZERO);  /* jz stub */
    }
    uint32_t done = UINT32_MAX;
    if (is_signed) {
        bool minus_one = !b_const || bval == UINT64_MAX;
        if (minus_one) {
            /* x / -1 overflows for the minimum; x % -1 is 0. idiv would
             * fault on both, so -1 takes its own path. */
            x86_alu_ri(cb, ALU_CMP, size, R_(b), -1); /* cmp b, -1 */
            uint32_t normal = x86_jcc(cb, CC_NE);     /* jne normal */
            if (rem) {
                x86_alu_mr(cb, ALU_XOR, SZ32, R_(RDX), RDX); /* xor edx, edx */
            } else {
                x86_unary(cb, 3, size, R_(RAX));      /* neg eax: OF for the minimum */
                trap_if(f, CC_O, WJ_TRAP_INT_OVERFLOW);
            }
            done = x86_jmp(cb);
            x86_bind(cb, normal, cb->len);
        }
        x86_cdq(cb, size);             /* cdq / cqo */
        x86_unary(cb, 7, size, R_(b)); /* idiv b */
    } else {
        x86_alu_mr(cb, ALU_XOR, SZ32, R_(RDX), RDX); /* xor edx, edx */
        x86_unary(cb, 6, size, R_(b));               /* div b */
    }
    if (done != UINT32_MAX)
        x86_bind(cb, done, cb->len);
    reg_free(f, b);
    reg_free(f, rem ? RAX : RDX);
    push_reg(f, type, rem ? RDX : RAX);
}

/* digit: 0 rol, 1 ror, 4 shl, 5 shr, 7 sar */
static void shift(fn *f, uint8_t type, int digit)
{
    int size = type_size(type);
    ventry *b = top(f, 0);
    if (b->kind == V_CONST) {
        uint8_t n = (uint8_t)(b->imm & (size == SZ32 ? 31 : 63));
        f->height--;
        int a = pop_dest(f, 0);
        x86_shift_i(f->cb, digit, size, R_(a), n); /* shl a, n */
        push_dest(f, type, a);
        return;
    }
    reg_evict(f, RCX);
    f->used |= BIT(RCX);
    f->height--;
    load_into(f, b, RCX); /* mov ecx, b */
    if (b->kind == V_REG && b->reg != RCX)
        reg_free(f, b->reg);
    int a = pop_dest(f, BIT(RCX));
    x86_shift_cl(f->cb, digit, size, R_(a)); /* shl a, cl */
    reg_free(f, RCX);
    push_dest(f, type, a);
}

static void bitcount(fn *f, uint8_t type, uint8_t op)
{
    codebuf *cb = f->cb;
    int size = type_size(type);
    int bits = size == SZ32 ? 32 : 64;
    int a = pop_reg(f, 0);
    if (op == 0) { /* clz */
        x86_mov_ri64(cb, SCRATCH, (uint64_t)(2 * bits - 1)); /* mov r11, 2*bits-1 */
        x86_bitscan(cb, 0, 0xbd, size, a, R_(a));           /* bsr a, a */
        x86_cmov(cb, CC_E, size, a, R_(SCRATCH));           /* cmovz a, r11 */
        x86_alu_ri(cb, ALU_XOR, size, R_(a), bits - 1);     /* xor a, bits-1 */
    } else if (op == 1) { /* ctz */
        x86_mov_ri64(cb, SCRATCH, (uint64_t)bits); /* mov r11, bits */
        x86_bitscan(cb, 0, 0xbc, size, a, R_(a));  /* bsf a, a */
        x86_cmov(cb, CC_E, size, a, R_(SCRATCH));  /* cmovz a, r11 */
    } else {
        x86_bitscan(cb, 0xf3, 0xb8, size, a, R_(a)); /* popcnt a, a */
    }
    push_reg(f, type, a);
}

const uint8_t int_compare_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G,
                                       CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

/* i32 ops 0x67-0x78 and i64 ops 0x79-0x8a in the same order */
static void arith(fn *f, uint8_t type, uint8_t k)
{
    switch (k) {
    case 0: case 1: case 2: bitcount(f, type, k); return;
    case 3: alu(f, type, ALU_ADD); return;
    case 4: alu(f, type, ALU_SUB); return;
    case 5: mul(f, type); return;
    case 6: divrem(f, type, true, false); return;
    case 7: divrem(f, type, false, false); return;
    case 8: divrem(f, type, true, true); return;
    case 9: divrem(f, type, false, true); return;
    case 10: alu(f, type, ALU_AND); return;
    case 11: alu(f, type, ALU_OR); return;
    case 12: alu(f, type, ALU_XOR); return;
    case 13: shift(f, type, 4); return;
    case 14: shift(f, type, 7); return;
    case 15: shift(f, type, 5); return;
    case 16: shift(f, type, 0); return;
    default: shift(f, type, 1); return;
    }
}

static void convert(fn *f, uint8_t op)
{
    codebuf *cb = f->cb;
    int a = pop_reg(f, 0);
    switch (op) {
    case 0xa7: /* i32.wrap_i64 */
    case 0xad: /* i64.extend_i32_u */
        x86_mov_rr(cb, SZ32, a, R_(a)); /* mov a32, a32 */
        break;
    case 0xac: x86_movsx(cb, SZ64, a, SZ32, R_(a)); break; /* movsxd a, a32 */
    case 0xc0: x86_movsx(cb, SZ32, a, SZ8, R_(a)); break;  /* movsx a32, a8 */
    case 0xc1: x86_movsx(cb, SZ32, a, SZ16, R_(a)); break; /* movsx a32, a16 */
    case 0xc2: x86_movsx(cb, SZ64, a, SZ8, R_(a)); break;  /* movsx a64, a8 */
    case 0xc3: x86_movsx(cb, SZ64, a, SZ16, R_(a)); break; /* movsx a64, a16 */
    case 0xc4: x86_movsx(cb, SZ64, a, SZ32, R_(a)); break; /* movsxd a64, a32 */
    }
    push_reg(f, op == 0xa7 || op == 0xc0 || op == 0xc1 ? WASM_I32 : WASM_I64, a);
}

bool op_int(fn *f, uint8_t op)
{
    if (op == 0x45) {
        eqz(f, SZ32);
    } else if (op >= 0x46 && op <= 0x4f) {
        compare(f, SZ32, int_compare_cc[op - 0x46]);
    } else if (op == 0x50) {
        eqz(f, SZ64);
    } else if (op >= 0x51 && op <= 0x5a) {
        compare(f, SZ64, int_compare_cc[op - 0x51]);
    } else if (op >= 0x67 && op <= 0x78) {
        arith(f, WASM_I32, (uint8_t)(op - 0x67));
    } else if (op >= 0x79 && op <= 0x8a) {
        arith(f, WASM_I64, (uint8_t)(op - 0x79));
    } else if (op == 0xa7 || op == 0xac || op == 0xad || (op >= 0xc0 && op <= 0xc4)) {
        convert(f, op);
    } else {
        return false;
    }
    return true;
}
