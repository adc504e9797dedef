/* Tier 2's numeric instructions (emit.h): comparisons, integer and
 * float arithmetic, conversions, select. */
#include <stdlib.h>
#include <string.h>

#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

/* ---- instructions ---- */

static const uint8_t int_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

bool be_flags_hold(backend *be, ir_ref v)
{
    return be->flags_value == v && be->flags_at == be->cb->len;
}

/* Sets the flags for a comparison; returns the condition that holds when
 * it is true. */
int be_compare_flags(backend *be, ir_inst *in)
{
    uint16_t op = in->op;
    if (op == WASM_OP_I32_EQZ || op == WASM_OP_I64_EQZ) {
        ir_ref a = in->args[0];
        int size = op == WASM_OP_I32_EQZ ? SZ32 : SZ64;
        if (be_flags_hold(be, a))
            return CC_E;
        x86_rm rm = be_gpr_operand(be, a);
        if (rm.mem)
            x86_alu_ri(be->cb, ALU_CMP, size, rm, 0); /* cmp [a], 0 */
        else
            x86_test_rr(be->cb, size, rm, rm.reg); /* test a, a */
        return CC_E;
    }
    if (op >= WASM_OP_F32_EQ) {
        bool dbl = op >= WASM_OP_F64_EQ;
        int k = op - (dbl ? WASM_OP_F64_EQ : WASM_OP_F32_EQ); /* 2 lt, 3 gt, 4 le, 5 ge */
        bool swap = k == 2 || k == 4;
        ir_ref a = in->args[swap ? 1 : 0], b = in->args[swap ? 0 : 1];
        be_load_xmm(be, XTMP - 16, a);
        x86_rm brm = be_xmm_operand(be, b);
        x86_ucomis(be->cb, dbl, XTMP - 16, brm); /* ucomis a, b */
        be_pool_used(be, brm);
        return k == 2 || k == 3 ? CC_A : CC_AE;
    }
    bool is64 = op >= WASM_OP_I64_EQ;
    int size = is64 ? SZ64 : SZ32;
    int cc = int_cc[op - (is64 ? WASM_OP_I64_EQ : WASM_OP_I32_EQ)];
    ir_ref a = in->args[0], b = in->args[1];
    int32_t imm;
    if (be->folded[b]) { /* cmp a, [m] */
        x86_rm m = be_heap_operand(be, inst(be, b));
        int ar = be->reg[a];
        if (ar == NO_REG) { /* not m's index: r11 when spilled, rcx when checked */
            ar = m.index == RCX ? R11 : RCX;
            be_load_gpr(be, ar, a);
        }
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, inst(be, b)->wasm);
        x86_alu_rr(be->cb, ALU_CMP, size, ar, m);
        return cc;
    }
    bool b_imm = be_imm32_of(be, b, size, &imm);
    x86_rm arm;
    if (is_const(be, a) || (be->reg[a] == NO_REG && !b_imm)) {
        be_load_gpr(be, R11, a);
        arm = R_(R11);
    } else {
        arm = be_loc(be, a);
    }
    if (b_imm) {
        x86_alu_ri(be->cb, ALU_CMP, size, arm, imm); /* cmp a, imm */
    } else if (is_const(be, b)) {
        be_load_gpr(be, RCX, b);                                                 /* mov rcx, b */
        x86_alu_rr(be->cb, ALU_CMP, size, arm.reg, R_(RCX)); /* cmp a, rcx */
    } else {
        x86_alu_rr(be->cb, ALU_CMP, size, arm.reg, be_loc(be, b)); /* cmp a, b */
    }
    return cc;
}

void be_op_compare(backend *be, ir_ref v, ir_inst *in)
{
    uint16_t op = in->op;
    int d = be_dst_gpr(be, v);
    if (op == WASM_OP_F32_EQ || op == WASM_OP_F32_NE || op == WASM_OP_F64_EQ ||
        op == WASM_OP_F64_NE) {
        bool dbl = op >= WASM_OP_F64_EQ, eq = op == WASM_OP_F32_EQ || op == WASM_OP_F64_EQ;
        be_load_xmm(be, XTMP - 16, in->args[0]);
        x86_rm brm = be_xmm_operand(be, in->args[1]);
        x86_ucomis(be->cb, dbl, XTMP - 16, brm);
        be_pool_used(be, brm);
        x86_setcc(be->cb, eq ? CC_E : CC_NE, d);                 /* sete d */
        x86_setcc(be->cb, eq ? CC_NP : CC_P, R11);               /* setnp r11b */
        x86_alu_mr(be->cb, eq ? ALU_AND : ALU_OR, SZ8, R_(d), R11); /* and d, r11b */
    } else {
        x86_setcc(be->cb, be_compare_flags(be, in), d); /* setcc d */
    }
    x86_movzx(be->cb, d, SZ8, R_(d)); /* movzx d, d8 */
    be_put(be, v, d);
}

/* After v's operation (a mov to its place leaves the flags alone): add,
 * sub, and, or and xor set ZF by the result. */
static void set_flags_value(backend *be, ir_ref v, int alu)
{
    if (alu == ALU_ADD || alu == ALU_SUB || alu == ALU_AND || alu == ALU_OR || alu == ALU_XOR) {
        be->flags_value = v;
        be->flags_at = be->cb->len;
    }
}

void be_op_int_binary(backend *be, ir_ref v, ir_inst *in, int alu, bool commutative)
{
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    int d = be_dst_gpr(be, v);
    if (!is_const(be, b) && be->reg[b] == d && a != b) {
        if (commutative) {
            ir_ref t = a;
            a = b, b = t;
        } else {
            d = TMP;
        }
    }
    int32_t imm;
    if (be->folded[b]) { /* op d, [m] */
        x86_rm m = be_heap_operand(be, inst(be, b));
        if (m.base == d || m.index == d)
            d = TMP;
        be_load_gpr(be, d, a);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, inst(be, b)->wasm);
        if (alu >= 0)
            x86_alu_rr(be->cb, alu, size, d, m);
        else
            x86_imul_rr(be->cb, size, d, m);
        be_put(be, v, d);
        set_flags_value(be, v, alu);
        return;
    }
    bool a_reg = !is_const(be, a) && be->reg[a] != NO_REG;
    if (alu == ALU_ADD && a_reg && be->reg[a] != d &&
        (be_imm32_of(be, b, size, &imm) || (!is_const(be, b) && be->reg[b] != NO_REG))) {
        /* d = a + b without a copy first; the 32-bit lea wraps as i32.add */
        x86_lea(be->cb, size, d,
                is_const(be, b) ? M_(be->reg[a], imm) : MI_(be->reg[a], be->reg[b], 0, 0));
        be_put(be, v, d);
        return;
    }
    if (alu < 0 && !is_const(be, a) && be_imm32_of(be, b, size, &imm)) {
        x86_imul_ri(be->cb, size, d, be_loc(be, a), imm); /* imul d, a, imm */
        be_put(be, v, d);
        return;
    }
    be_load_gpr(be, d, a);
    if (alu >= 0 && be_imm32_of(be, b, size, &imm))
        x86_alu_ri(be->cb, alu, size, R_(d), imm); /* op d, imm */
    else if (alu >= 0)
        x86_alu_rr(be->cb, alu, size, d, be_gpr_operand(be, b)); /* op d, b */
    else
        x86_imul_rr(be->cb, size, d, be_gpr_operand(be, b)); /* imul d, b */
    be_put(be, v, d);
    set_flags_value(be, v, alu);
}

/* digit: 0 rol, 1 ror, 4 shl, 5 shr, 7 sar */
void be_op_shift(backend *be, ir_ref v, ir_inst *in, int digit)
{
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    int d = be_dst_gpr(be, v);
    if (is_const(be, b)) {
        be_load_gpr(be, d, a);
        x86_shift_i(be->cb, digit, size, R_(d), (uint8_t)(inst(be, b)->imm & (size == SZ32 ? 31 : 63)));
    } else {
        be_load_gpr(be, RCX, b); /* mov ecx, b: before a, which may take b's register */
        be_load_gpr(be, d, a);
        x86_shift_cl(be->cb, digit, size, R_(d)); /* shl d, cl */
    }
    be_put(be, v, d);
}

/* An i32 unsigned division or remainder by a constant d > 1: a multiply
 * by m = ceil(2^64 / d), whose high half is the quotient for every 32-bit
 * dividend (the error x * (m - 2^64/d) / 2^64 stays below 1/d), or for a
 * power of two a shift or a mask. */
static void divrem_u32_by(backend *be, ir_ref v, ir_ref a, uint32_t d, bool rem)
{
    codebuf *cb = be->cb;
    int k = __builtin_ctz(d);
    if ((d & (d - 1)) == 0) {
        int r = be_dst_gpr(be, v);
        be_load_gpr(be, r, a);
        if (rem)
            x86_alu_ri(cb, ALU_AND, SZ32, R_(r), (int32_t)(d - 1)); /* and r, d-1 */
        else
            x86_shift_i(cb, 5, SZ32, R_(r), (uint8_t)k); /* shr r, k */
        be_put(be, v, r);
        return;
    }
    x86_mov_rr(cb, SZ32, RAX, be_gpr_operand(be, a)); /* mov eax, a: zero-extended */
    x86_mov_ri64(cb, R11, UINT64_MAX / d + 1);        /* mov r11, m */
    x86_unary(cb, 4, SZ64, R_(R11));                  /* mul r11: rdx = a / d */
    if (!rem) {
        be_put(be, v, RDX);
        return;
    }
    x86_mov_ri64(cb, R11, d);                         /* mov r11d, d */
    x86_imul_rr(cb, SZ32, RDX, R_(R11));              /* imul edx, r11d */
    x86_mov_rr(cb, SZ32, RAX, be_gpr_operand(be, a)); /* mov eax, a */
    x86_alu_rr(cb, ALU_SUB, SZ32, RAX, R_(RDX));      /* sub eax, edx */
    be_put(be, v, RAX);
}

void be_op_divrem(backend *be, ir_ref v, ir_inst *in, bool is_signed, bool rem)
{
    codebuf *cb = be->cb;
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    bool nonzero = is_const(be, b) && inst(be, b)->imm != 0;
    if (nonzero && !is_signed && size == SZ32 && (uint32_t)inst(be, b)->imm > 1) {
        divrem_u32_by(be, v, a, (uint32_t)inst(be, b)->imm, rem);
        return;
    }
    x86_rm bop;
    if (is_const(be, b)) {
        be_load_gpr(be, RCX, b);
        bop = R_(RCX);
    } else {
        bop = be_loc(be, b);
    }
    be_load_gpr(be, RAX, a);
    if (!nonzero) { /* a constant divisor other than 0 cannot trap */
        if (bop.mem)
            x86_alu_ri(cb, ALU_CMP, size, bop, 0); /* cmp [b], 0 */
        else
            x86_test_rr(cb, size, bop, bop.reg); /* test b, b */
        be_trap_jump(be, x86_jcc(cb, CC_E), WJ_TRAP_INT_DIVIDE_BY_ZERO, in->wasm);
    }
    uint32_t done = UINT32_MAX;
    bool may_be_minus_one = !nonzero || (size == SZ32 ? (int32_t)inst(be, b)->imm == -1
                                                      : (int64_t)inst(be, b)->imm == -1);
    if (is_signed && !may_be_minus_one) { /* no overflow to rule out */
        x86_cdq(cb, size);           /* cdq / cqo */
        x86_unary(cb, 7, size, bop); /* idiv b */
    } else if (is_signed) {
        x86_alu_ri(cb, ALU_CMP, size, bop, -1);    /* cmp b, -1 */
        uint32_t normal = x86_jcc(cb, CC_NE);      /* jne normal */
        if (rem) {
            x86_alu_mr(cb, ALU_XOR, SZ32, R_(RDX), RDX); /* xor edx, edx */
        } else {
            x86_unary(cb, 3, size, R_(RAX));       /* neg eax: OF for the minimum */
            be_trap_jump(be, x86_jcc(cb, CC_O), WJ_TRAP_INT_OVERFLOW, in->wasm);
        }
        done = x86_jmp(cb);
        x86_bind(cb, normal, cb->len);
        x86_cdq(cb, size);          /* cdq / cqo */
        x86_unary(cb, 7, size, bop); /* idiv b */
    } else {
        x86_alu_mr(cb, ALU_XOR, SZ32, R_(RDX), RDX); /* xor edx, edx */
        x86_unary(cb, 6, size, bop);                 /* div b */
    }
    if (done != UINT32_MAX)
        x86_bind(cb, done, cb->len);
    be_put(be, v, rem ? RDX : RAX);
}

void be_op_bitcount(backend *be, ir_ref v, ir_inst *in, int k)
{
    codebuf *cb = be->cb;
    int size = size_of(in->type), bits = size == SZ32 ? 32 : 64;
    int d = be_dst_gpr(be, v);
    x86_rm a = be_gpr_operand(be, in->args[0]);
    if (k == 0) { /* clz */
        x86_mov_ri64(cb, RCX, (uint64_t)(2 * bits - 1)); /* mov rcx, 2*bits-1 */
        x86_bitscan(cb, 0, 0xbd, size, d, a);           /* bsr d, a */
        x86_cmov(cb, CC_E, size, d, R_(RCX));           /* cmovz d, rcx */
        x86_alu_ri(cb, ALU_XOR, size, R_(d), bits - 1); /* xor d, bits-1 */
    } else if (k == 1) { /* ctz */
        x86_mov_ri64(cb, RCX, (uint64_t)bits); /* mov rcx, bits */
        x86_bitscan(cb, 0, 0xbc, size, d, a);  /* bsf d, a */
        x86_cmov(cb, CC_E, size, d, R_(RCX));  /* cmovz d, rcx */
    } else {
        x86_bitscan(cb, 0xf3, 0xb8, size, d, a); /* popcnt d, a */
    }
    be_put(be, v, d);
}

void be_op_float_binary(backend *be, ir_ref v, ir_inst *in, uint8_t sse)
{
    bool dbl = in->type == WASM_F64;
    ir_ref a = in->args[0], b = in->args[1];
    int d = be_dst_xmm(be, v);
    if (!is_const(be, b) && be->reg[b] == d && a != b) {
        /* Addition and multiplication commute; with two NaNs either one's
         * payload is a valid result. */
        if (sse == SSE_ADD || sse == SSE_MUL) {
            ir_ref t = a;
            a = b, b = t;
        } else {
            d = XTMP;
        }
    }
    if (be->folded[b]) { /* addsd d, [m] */
        x86_rm m = be_heap_operand(be, inst(be, b));
        be_load_xmm(be, d - 16, a);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, inst(be, b)->wasm);
        x86_sse(be->cb, dbl, sse, d - 16, m);
        be_put(be, v, d);
        return;
    }
    be_load_xmm(be, d - 16, a);
    x86_rm brm = be_xmm_operand(be, b);
    x86_sse(be->cb, dbl, sse, d - 16, brm); /* addsd d, b */
    be_pool_used(be, brm);
    be_put(be, v, d);
}

void be_op_minmax(backend *be, ir_ref v, ir_inst *in, bool is_max)
{
    codebuf *cb = be->cb;
    bool dbl = in->type == WASM_F64;
    int d = be_dst_xmm(be, v);
    if (!is_const(be, in->args[1]) && be->reg[in->args[1]] == d)
        d = XTMP;
    be_load_xmm(be, XSCRATCH, in->args[1]);
    be_load_xmm(be, d - 16, in->args[0]);
    int xa = d - 16, xb = XSCRATCH;
    x86_ucomis(cb, dbl, xa, R_(xb));      /* ucomis a, b */
    uint32_t nan = x86_jcc(cb, CC_P);     /* jp nan */
    uint32_t normal = x86_jcc(cb, CC_NE); /* jne normal */
    x86_logic_ps(cb, is_max ? 0x54 : 0x56, xa, xb); /* equal: andps (max) / orps (min) */
    uint32_t done1 = x86_jmp(cb);
    x86_bind(cb, normal, cb->len);
    x86_sse(cb, dbl, is_max ? SSE_MAX : SSE_MIN, xa, R_(xb)); /* maxsd a, b */
    uint32_t done2 = x86_jmp(cb);
    x86_bind(cb, nan, cb->len);
    x86_sse(cb, dbl, SSE_ADD, xa, R_(xb)); /* addsd a, b: a quiet NaN */
    x86_bind(cb, done1, cb->len);
    x86_bind(cb, done2, cb->len);
    be_put(be, v, d);
}

/* neg, abs, copysign through r11 (and rcx). */
void be_op_sign(backend *be, ir_ref v, ir_inst *in, int k)
{
    codebuf *cb = be->cb;
    bool dbl = in->type == WASM_F64;
    int size = dbl ? SZ64 : SZ32, d = be_dst_xmm(be, v);
    be_load_xmm(be, XSCRATCH, in->args[0]);
    x86_movd_rx(cb, size, R_(R11), XSCRATCH); /* movq r11, a */
    if (k == 0) { /* abs */
        x86_shift_i(cb, 4, size, R_(R11), 1); /* shl r11, 1 */
        x86_shift_i(cb, 5, size, R_(R11), 1); /* shr r11, 1 */
    } else if (k == 1) { /* neg */
        x86_btc_i(cb, size, R11, dbl ? 63 : 31); /* btc r11, 63 */
    } else { /* copysign */
        be_load_xmm(be, XSCRATCH, in->args[1]);
        x86_movd_rx(cb, size, R_(RCX), XSCRATCH);       /* movq rcx, b */
        x86_shift_i(cb, 4, size, R_(R11), 1);           /* shl r11, 1 */
        x86_shift_i(cb, 5, size, R_(R11), 1);           /* shr r11, 1 */
        x86_shift_i(cb, 5, size, R_(RCX), dbl ? 63 : 31); /* shr rcx, 63 */
        x86_shift_i(cb, 4, size, R_(RCX), dbl ? 63 : 31); /* shl rcx, 63 */
        x86_alu_rr(cb, ALU_OR, size, R11, R_(RCX));     /* or r11, rcx */
    }
    x86_movd_xr(cb, size, d - 16, R_(R11)); /* movq d, r11 */
    be_put(be, v, d);
}

void be_op_convert(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    ir_ref a = in->args[0];
    switch (in->op) {
    case WASM_OP_I32_WRAP_I64: case WASM_OP_I64_EXTEND_I32_U: {
        int d = be_dst_gpr(be, v);
        x86_mov_rr(cb, SZ32, d, be_gpr_operand(be, a)); /* mov d32, a32 */
        be_put(be, v, d);
        return;
    }
    case WASM_OP_I64_EXTEND_I32_S: case WASM_OP_I32_EXTEND8_S: case WASM_OP_I32_EXTEND16_S:
    case WASM_OP_I64_EXTEND8_S: case WASM_OP_I64_EXTEND16_S: case WASM_OP_I64_EXTEND32_S: {
        static const struct { uint16_t op; uint8_t dst, src; } ext[] = {
            {WASM_OP_I64_EXTEND_I32_S, SZ64, SZ32}, {WASM_OP_I32_EXTEND8_S, SZ32, SZ8},
            {WASM_OP_I32_EXTEND16_S, SZ32, SZ16},   {WASM_OP_I64_EXTEND8_S, SZ64, SZ8},
            {WASM_OP_I64_EXTEND16_S, SZ64, SZ16},   {WASM_OP_I64_EXTEND32_S, SZ64, SZ32}};
        int d = be_dst_gpr(be, v);
        be_load_gpr(be, d, a);
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
            if (ext[i].op == in->op)
                x86_movsx(cb, ext[i].dst, d, ext[i].src, R_(d)); /* movsx d, a */
        be_put(be, v, d);
        return;
    }
    case WASM_OP_F32_CONVERT_I32_S: case WASM_OP_F32_CONVERT_I64_S:
    case WASM_OP_F64_CONVERT_I32_S: case WASM_OP_F64_CONVERT_I64_S:
    case WASM_OP_F32_CONVERT_I32_U: case WASM_OP_F64_CONVERT_I32_U: {
        bool dbl = in->type == WASM_F64;
        /* an i32's register holds it zero-extended: unsigned converts as i64 */
        bool src64 = in->op == WASM_OP_F32_CONVERT_I64_S || in->op == WASM_OP_F64_CONVERT_I64_S ||
                     in->op == WASM_OP_F32_CONVERT_I32_U || in->op == WASM_OP_F64_CONVERT_I32_U;
        int d = be_dst_xmm(be, v);
        be_load_gpr(be, R11, a);
        x86_logic_ps(cb, 0x57, d - 16, d - 16); /* xorps d, d: no dependency on d */
        x86_cvtsi2s(cb, dbl, src64 ? SZ64 : SZ32, d - 16, R_(R11)); /* cvtsi2sd d, r11 */
        be_put(be, v, d);
        return;
    }
    case WASM_OP_F32_DEMOTE_F64: case WASM_OP_F64_PROMOTE_F32: {
        int d = be_dst_xmm(be, v);
        be_load_xmm(be, XSCRATCH, a);
        /* cvtsd2ss takes the double's prefix (F2), cvtss2sd the single's (F3) */
        x86_sse(cb, in->op == WASM_OP_F32_DEMOTE_F64, SSE_CVT_FF, d - 16, R_(XSCRATCH));
        be_put(be, v, d);
        return;
    }
    case WASM_OP_I32_REINTERPRET_F32: case WASM_OP_I64_REINTERPRET_F64: {
        int d = be_dst_gpr(be, v);
        be_load_xmm(be, XSCRATCH, a);
        x86_movd_rx(cb, size_of(in->type), R_(d), XSCRATCH); /* movq d, a */
        be_put(be, v, d);
        return;
    }
    case WASM_OP_F32_CONVERT_I64_U: case WASM_OP_F64_CONVERT_I64_U: {
        int d = be_dst_xmm(be, v);
        be_load_gpr(be, RCX, a);
        emit_convert_u64(cb, in->type == WASM_F64, d - 16, RCX);
        be_put(be, v, d);
        return;
    }
    case WASM_OP_F32_REINTERPRET_I32: case WASM_OP_F64_REINTERPRET_I64: {
        int d = be_dst_xmm(be, v);
        be_load_gpr(be, R11, a);
        x86_movd_xr(cb, size_of(in->type), d - 16, R_(R11)); /* movq d, r11 */
        be_put(be, v, d);
        return;
    }
    default: { /* trunc (0xa8-0xab, 0xae-0xb1) and trunc_sat (0xfc00-0xfc07) */
        uint32_t k = in->op >> 8 == 0xfc ? in->op & 7u
                     : in->op <= WASM_OP_I32_TRUNC_F64_U ? (uint32_t)(in->op - WASM_OP_I32_TRUNC_F32_S)
                                                         : (uint32_t)(4 + in->op - WASM_OP_I64_TRUNC_F32_S);
        bool dbl = k == 2 || k == 3 || k == 6 || k == 7;
        int d = be_dst_gpr(be, v);
        be_load_xmm(be, XTMP - 16, a); /* the conversion may change it */
        emit_trunc(cb, dbl, k >= 4, !(k & 1), in->op >> 8 == 0xfc, d, XTMP - 16, be_trap_cb, be);
        be_put(be, v, d);
        return;
    }
    }
}

void be_op_select(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    ir_ref a = in->args[0], b = in->args[1], c = in->args[2];
    bool x = is_xmm_type(in->type);
    int d = x ? be_dst_xmm(be, v) : be_dst_gpr(be, v);
    if (is_const(be, c)) { /* known: a copy */
        ir_ref pick = (uint32_t)inst(be, c)->imm ? a : b;
        if (x)
            be_load_xmm(be, d - 16, pick);
        else
            be_load_gpr(be, d, pick);
        be_put(be, v, d);
        return;
    }
    if (!is_const(be, b) && be->reg[b] == d)
        d = x ? XTMP : TMP;
    int cc; /* holds when a is chosen */
    if (be_fused_compare(be, c)) {
        cc = be_compare_flags(be, inst(be, c)); /* cmp ... */
    } else if (be_flags_hold(be, c)) {
        cc = CC_NE;
    } else {
        x86_rm crm = be_loc(be, c);
        if (crm.mem || (!x && crm.reg == d)) {
            be_load_gpr(be, RCX, c);
            crm = R_(RCX);
        }
        x86_test_rr(cb, SZ32, crm, crm.reg); /* test c, c */
        cc = CC_NE;
    }
    /* the moves below leave the flags alone (constants: mov, movsd, xorps) */
    if (x) {
        be_load_xmm(be, d - 16, a);
        uint32_t keep = x86_jcc(cb, cc); /* jcc keep */
        be_load_xmm(be, d - 16, b);
        x86_bind(cb, keep, cb->len);
    } else {
        be_load_gpr(be, d, a);
        x86_rm brm = is_const(be, b) ? (be_load_gpr(be, R11, b), R_(R11)) : be_loc(be, b);
        x86_cmov(cb, cc ^ 1, size_of(in->type), d, brm); /* cmov!cc d, b */
    }
    be_put(be, v, d);
}

