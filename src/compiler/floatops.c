/* Float instructions with exact IEEE semantics, and every conversion
 * between integers and floats (trapping and saturating). */

#include "func.h"
#include "wasmjail.h"

#define BIT(r) (1u << (r))

static int xreg(int reg) { return reg - 16; }

x86_rm float_operand(fn *f, const ventry *b)
{
    x86_rm rm;
    if (b->kind == V_CONST)
        return vpool_rm(vpool_index_scalar(&f->pool, b->imm));
    if (entry_rm(f, b, &rm))
        return rm;
    load_into(f, b, XMM(XSCRATCH));
    return R_(XSCRATCH);
}

void float_compare_result(fn *f, uint8_t k)
{
    codebuf *cb = f->cb;
    if (k >= 2) {
        push_flags(f, k <= 3 ? CC_A : CC_AE); /* lt gt: above; le ge: above or equal */
        return;
    }
    /* eq / ne need two flags: ZF and PF (unordered) */
    int r = reg_alloc(f, false);
    if (k == 0) {
        x86_setcc(cb, CC_E, r);                      /* sete r8 */
        x86_setcc(cb, CC_NP, SCRATCH);               /* setnp r11b */
        x86_alu_mr(cb, ALU_AND, SZ8, R_(r), SCRATCH); /* and r8, r11b */
    } else {
        x86_setcc(cb, CC_NE, r);                     /* setne r8 */
        x86_setcc(cb, CC_P, SCRATCH);                /* setp r11b */
        x86_alu_mr(cb, ALU_OR, SZ8, R_(r), SCRATCH); /* or r8, r11b */
    }
    x86_movzx(cb, r, SZ8, R_(r)); /* movzx r32, r8 */
    push_reg(f, WASM_I32, r);
}

static void compare(fn *f, bool dbl, uint8_t k)
{
    /* lt and le compare b with a: "b above a" is false when unordered. The
     * right operand of ucomis may be memory or a constant, the left not. */
    bool swap = k == 2 || k == 4;
    int left;
    ventry *right;
    if (swap) {
        left = pop_reg(f, 0);
        right = top(f, 0);
        f->height--;
    } else {
        right = top(f, 0);
        f->height--;
        left = pop_reg(f, right->kind == V_REG ? BIT(right->reg) : 0);
    }
    x86_rm rm = float_operand(f, right);
    x86_ucomis(f->cb, dbl, xreg(left), rm); /* ucomis left, right */
    vpool_use(&f->pool, f->cb, rm);
    free_entry(f, right);
    reg_free(f, left);
    float_compare_result(f, k);
}

/* Sign-bit operations: bitwise with the pool's masks (the SIMD ones,
 * which cover the scalar in the low lane), so NaN payloads stay. */
static void sign_op(fn *f, bool dbl, uint8_t k)
{
    v128 sign = dbl ? vop_i64(UINT64_C(1) << 63) : vop_i32(UINT32_C(1) << 31);
    v128 rest = dbl ? vop_i64(INT64_MAX) : vop_i32(INT32_MAX);
    uint8_t type = dbl ? WASM_F64 : WASM_F32;
    if (k == 13) { /* copysign */
        int b = pop_reg(f, 0);
        int a = pop_reg(f, BIT(b));
        vpool_op(&f->pool, f->cb, 0, 0x54, xreg(a), rest);   /* andps a, [~sign] */
        vpool_op(&f->pool, f->cb, 0, 0x54, xreg(b), sign);   /* andps b, [sign] */
        x86_logic_ps(f->cb, 0x56, xreg(a), xreg(b)); /* orps a, b */
        reg_free(f, b);
        push_reg(f, type, a);
        return;
    }
    int a = pop_reg(f, 0);
    if (k == 0)
        vpool_op(&f->pool, f->cb, 0, 0x54, xreg(a), rest); /* andps a, [~sign] */
    else
        vpool_op(&f->pool, f->cb, 0, 0x57, xreg(a), sign); /* xorps a, [sign] */
    push_reg(f, type, a);
}

static void minmax(fn *f, bool dbl, bool is_max)
{
    codebuf *cb = f->cb;
    int b = pop_reg(f, 0);
    int a = pop_reg(f, BIT(b));
    int xa = xreg(a), xb = xreg(b);
    x86_ucomis(cb, dbl, xa, R_(xb));           /* ucomis a, b */
    uint32_t nan = x86_jcc(cb, CC_P);          /* jp nan */
    uint32_t normal = x86_jcc(cb, CC_NE);      /* jne normal */
    /* equal: only the zeros' signs can differ */
    x86_logic_ps(cb, is_max ? 0x54 : 0x56, xa, xb); /* andps (max) / orps (min) a, b */
    uint32_t done1 = x86_jmp(cb);
    x86_bind(cb, normal, cb->len);
    x86_sse(cb, dbl, is_max ? SSE_MAX : SSE_MIN, xa, R_(xb)); /* maxss/minss a, b */
    uint32_t done2 = x86_jmp(cb);
    x86_bind(cb, nan, cb->len);
    x86_sse(cb, dbl, SSE_ADD, xa, R_(xb)); /* addss a, b: a quiet NaN */
    x86_bind(cb, done1, cb->len);
    x86_bind(cb, done2, cb->len);
    reg_free(f, b);
    push_reg(f, dbl ? WASM_F64 : WASM_F32, a);
}

/* f32 ops 0x8b-0x98, f64 ops 0x99-0xa6 in the same order */
static void arith(fn *f, bool dbl, uint8_t k)
{
    static const uint8_t round_mode[4] = {0x0a, 0x09, 0x0b, 0x08}; /* ceil floor trunc nearest */
    static const uint8_t binop[4] = {SSE_ADD, SSE_SUB, SSE_MUL, SSE_DIV};
    uint8_t type = dbl ? WASM_F64 : WASM_F32;
    if (k <= 1 || k == 13) {
        sign_op(f, dbl, k);
    } else if (k <= 5) {
        int a = pop_reg(f, 0);
        x86_round(f->cb, dbl, xreg(a), xreg(a), round_mode[k - 2]); /* roundss a, a, mode */
        push_reg(f, type, a);
    } else if (k == 6) {
        int a = pop_reg(f, 0);
        x86_sse(f->cb, dbl, SSE_SQRT, xreg(a), R_(xreg(a))); /* sqrtss a, a */
        push_reg(f, type, a);
    } else if (k <= 10) {
        ventry *b = top(f, 0);
        f->height--;
        int a = pop_dest(f, b->kind == V_REG ? BIT(b->reg) : 0);
        x86_rm brm = float_operand(f, b);
        x86_sse(f->cb, dbl, binop[k - 7], xreg(a), brm); /* addss a, b */
        vpool_use(&f->pool, f->cb, brm);
        free_entry(f, b);
        push_dest(f, type, a);
    } else {
        minmax(f, dbl, k == 12);
    }
}

static void trap_jump_cb(void *ctx, uint32_t jump, uint32_t code)
{
    trap_jump(ctx, jump, code);
}

/* Float -> integer (convert.c), trapping or saturating. */
static void to_int(fn *f, bool dbl, bool to64, bool is_signed, bool sat)
{
    int x = pop_reg(f, 0);
    int r = reg_alloc(f, false);
    emit_trunc(f->cb, dbl, to64, is_signed, sat, r, xreg(x), trap_jump_cb, f);
    reg_free(f, x);
    push_reg(f, to64 ? WASM_I64 : WASM_I32, r);
}

/* Integer -> float. */
static void from_int(fn *f, bool dbl, bool from64, bool is_signed)
{
    codebuf *cb = f->cb;
    int r = pop_reg(f, 0);
    int x = reg_alloc(f, true);
    int xx = xreg(x);
    if (from64 && !is_signed) {
        emit_convert_u64(cb, dbl, xx, r);
    } else {
        x86_logic_ps(cb, 0x57, xx, xx); /* xorps x, x: no false dependency */
        /* an i32 is zero-extended in its register: unsigned converts as i64 */
        x86_cvtsi2s(cb, dbl, from64 || !is_signed ? SZ64 : SZ32, xx, R_(r)); /* cvtsi2ss x, r */
    }
    reg_free(f, r);
    push_reg(f, dbl ? WASM_F64 : WASM_F32, x);
}

static void reinterpret(fn *f, uint8_t to)
{
    ventry *e = top(f, 0);
    if (e->kind == V_CONST || e->kind == V_STACK ||
        (e->kind == V_LOCAL && f->local_reg[e->local] < 0)) { /* same bits in memory or as a constant */
        e->type = to;
        return;
    }
    int size = type_size(to);
    int from = pop_reg(f, 0);
    int r = reg_alloc(f, is_float(to));
    if (is_float(to))
        x86_movd_xr(f->cb, size, xreg(r), R_(from)); /* movd x, r */
    else
        x86_movd_rx(f->cb, size, R_(r), xreg(from)); /* movd r, x */
    reg_free(f, from);
    push_reg(f, to, r);
}

bool op_float(fn *f, uint8_t op)
{
    if (op >= 0x5b && op <= 0x60)
        compare(f, false, (uint8_t)(op - 0x5b));
    else if (op >= 0x61 && op <= 0x66)
        compare(f, true, (uint8_t)(op - 0x61));
    else if (op >= 0x8b && op <= 0x98)
        arith(f, false, (uint8_t)(op - 0x8b));
    else if (op >= 0x99 && op <= 0xa6)
        arith(f, true, (uint8_t)(op - 0x99));
    else if (op >= 0xa8 && op <= 0xab)
        to_int(f, op >= 0xaa, false, !(op & 1), false);
    else if (op >= 0xae && op <= 0xb1)
        to_int(f, op >= 0xb0, true, !(op & 1), false);
    else if (op >= 0xb2 && op <= 0xb5)
        from_int(f, false, op >= 0xb4, !(op & 1));
    else if (op >= 0xb7 && op <= 0xba)
        from_int(f, true, op >= 0xb9, op & 1);
    else if (op == 0xb6 || op == 0xbb) {
        int a = pop_reg(f, 0);
        x86_sse(f->cb, op == 0xb6, SSE_CVT_FF, xreg(a), R_(xreg(a))); /* cvtsd2ss / cvtss2sd */
        push_reg(f, op == 0xb6 ? WASM_F32 : WASM_F64, a);
    } else if (op >= 0xbc && op <= 0xbf) {
        static const uint8_t to[4] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64};
        reinterpret(f, to[op - 0xbc]);
    } else
        return false;
    return true;
}

/* The saturating truncations, 0xFC 0-7. */
void op_trunc_sat(fn *f, uint32_t k)
{
    to_int(f, k == 2 || k == 3 || k == 6 || k == 7, k >= 4, !(k & 1), true);
}
