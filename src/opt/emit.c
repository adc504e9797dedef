/*
 * Tier 2's code emission (backend.h): each instruction in code order with
 * the registers and slots regalloc.c chose, phis as parallel moves at the
 * ends of their predecessors, a comparison fused with the branch that
 * follows it, traps through stubs after the body that call the chunk's
 * trap thunk, the same frame and calling convention as tier 1.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "compiler/vmctx.h"
#include "wasmjail.h"

#define TMP RAX      /* a result that has no register of its own */
#define XTMP XREG(14)
#define XSCRATCH 15  /* xmm15 */

static ir_inst *inst(backend *be, ir_ref v) { return ir_at(be->ir, v); }
static bool is_xmm_type(uint8_t t) { return t == WASM_F32 || t == WASM_F64; }
static int size_of(uint8_t t) { return t == WASM_I32 || t == WASM_F32 ? SZ32 : SZ64; }
static bool is_const(backend *be, ir_ref v) { return is_const_op(inst(be, v)->op); }

/* A constant's bits as an imm32 of an instruction of `size`, if it fits. */
static bool imm32_of(backend *be, ir_ref v, int size, int32_t *imm)
{
    if (!is_const(be, v))
        return false;
    uint64_t bits = inst(be, v)->imm;
    if (size == SZ32) {
        *imm = (int32_t)(uint32_t)bits;
        return true;
    }
    if ((int64_t)bits != (int32_t)bits)
        return false;
    *imm = (int32_t)bits;
    return true;
}

/* Where a non-constant value lives: its register or its slot. */
static x86_rm loc(backend *be, ir_ref v)
{
    int r = be->reg[v];
    if (r != NO_REG)
        return R_(r & 15);
    return M_(RBP, be->slot[v]);
}

/* GPR r = v. */
static void load_gpr(backend *be, int r, ir_ref v)
{
    ir_inst *in = inst(be, v);
    if (is_const(be, v)) {
        x86_mov_ri64(be->cb, r, in->type == WASM_I32 ? (uint32_t)in->imm : in->imm); /* mov r, imm */
        return;
    }
    if (be->reg[v] == r)
        return;
    x86_mov_rr(be->cb, size_of(in->type), r, loc(be, v)); /* mov r, v */
}

/* A float constant's place in the function's pool (after its code): a
 * rip-relative operand, whose disp32 pool_used records once the
 * instruction is emitted. */
static x86_rm pool_operand(backend *be, ir_ref v)
{
    if (!be->pool_slot[v]) {
        if (!VEC_PUSH_OK(be->pool, inst(be, v)->imm))
            be_fail(be, "out of memory");
        be->pool_slot[v] = be->pool.n;
    }
    x86_rm rm = RIP_();
    rm.disp = (int32_t)(be->pool_slot[v] - 1);
    return rm;
}

/* The instruction just emitted ends with rm's disp32. */
static void pool_used(backend *be, x86_rm rm)
{
    if (rm.rip && !VEC_PUSH_OK(be->pool_refs, {be->cb->len - 4, (uint32_t)rm.disp}))
        be_fail(be, "out of memory");
}

/* xmm x (0-15) = v. */
static void load_xmm(backend *be, int x, ir_ref v)
{
    ir_inst *in = inst(be, v);
    bool dbl = in->type == WASM_F64;
    if (is_const(be, v)) {
        if (in->imm == 0) {
            x86_logic_ps(be->cb, 0x57, x, x); /* xorps x, x */
            return;
        }
        x86_rm c = pool_operand(be, v);
        x86_movs_load(be->cb, dbl, x, c); /* movsd x, [rip+c] */
        pool_used(be, c);
        return;
    }
    int r = be->reg[v];
    if (r == XREG(x))
        return;
    if (r != NO_REG)
        x86_movaps(be->cb, x, r - 16);                    /* movaps x, v */
    else
        x86_movs_load(be->cb, dbl, x, M_(RBP, be->slot[v])); /* movsd x, [slot] */
}

/* An r/m operand for v at `size`: its location, or r11 holding it. */
static x86_rm gpr_operand(backend *be, ir_ref v)
{
    if (!is_const(be, v))
        return loc(be, v);
    load_gpr(be, R11, v);
    return R_(R11);
}

/* An operand for v: its register, slot or pool entry (the caller hands
 * it to pool_used after the instruction). */
static x86_rm xmm_operand(backend *be, ir_ref v)
{
    if (!is_const(be, v) && be->reg[v] != NO_REG)
        return R_(be->reg[v] - 16);
    if (!is_const(be, v))
        return M_(RBP, be->slot[v]);
    return pool_operand(be, v);
}

/* The register to compute v into: its own, or the temporary. */
static int dst_gpr(backend *be, ir_ref v) { return be->reg[v] != NO_REG ? be->reg[v] : TMP; }
static int dst_xmm(backend *be, ir_ref v) { return be->reg[v] != NO_REG ? be->reg[v] : XTMP; }

/* v was computed into register r: to its own place. */
static void put(backend *be, ir_ref v, int r)
{
    ir_inst *in = inst(be, v);
    if (be->reg[v] == r || be->uses[v] == 0)
        return;
    bool x = r >= 16;
    if (be->reg[v] != NO_REG) {
        if (x)
            x86_movaps(be->cb, be->reg[v] - 16, r - 16);
        else
            x86_mov_rr(be->cb, size_of(in->type), be->reg[v], R_(r));
    } else if (x) {
        x86_movs_store(be->cb, in->type == WASM_F64, M_(RBP, be->slot[v]), r - 16);
    } else {
        x86_mov_mr(be->cb, size_of(in->type), M_(RBP, be->slot[v]), r);
    }
}

/* ---- traps, jumps ---- */

static void trap_jump(backend *be, uint32_t jump, uint32_t code, uint32_t wasm)
{
    if (!VEC_PUSH_OK(be->stubs, {jump, code, wasm}))
        be_fail(be, "out of memory");
}

static void trap_cb(void *ctx, uint32_t jump, uint32_t code)
{
    backend *be = ctx;
    trap_jump(be, jump, code, be->trap_wasm);
}

static void trap_here(backend *be, uint32_t code, uint32_t wasm)
{
    if (!out_trap(be->out, be->cb->len, code, wasm))
        be_fail(be, "out of memory");
}

static bool same_place(backend *be, ir_ref a, ir_ref b);

/* A block that only jumps on, with nothing to move on the way (the phis
 * of where it goes already hold their values), is never emitted:
 * branches to it go where it goes. */
static bool is_trampoline(backend *be, uint32_t b)
{
    ir_func *f = be->ir;
    const ir_block *blk = &f->blocks[b];
    if (blk->first != blk->last || !blk->first || ir_at(f, blk->first)->op != WASM_OP_BR ||
        blk->succs[0] == b)
        return false;
    const ir_block *to = &f->blocks[blk->succs[0]];
    uint32_t k = 0;
    while (k < to->npreds && to->preds[k] != b)
        k++;
    for (ir_ref p = to->first; p && ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next)
        if (be->uses[p] && !same_place(be, p, ir_at(f, p)->args[k]))
            return false;
    return true;
}

static uint32_t resolve(backend *be, uint32_t b)
{
    for (uint32_t hops = 0; hops < 64 && is_trampoline(be, b); hops++)
        b = be->ir->blocks[b].succs[0];
    return b;
}

static void jump_to(backend *be, int cc, uint32_t block)
{
    block = resolve(be, block);
    if (be->label[block] != UINT32_MAX) {
        if (cc < 0)
            x86_jmp_to(be->cb, be->label[block]);
        else
            x86_jcc_to(be->cb, cc, be->label[block]);
        return;
    }
    uint32_t at = cc < 0 ? x86_jmp(be->cb) : x86_jcc(be->cb, cc);
    if (!VEC_PUSH_OK(be->fixups, {at, block}))
        be_fail(be, "out of memory");
}

/* ---- phis: a parallel move on the edge from `from` to `to` ---- */

static bool same_place(backend *be, ir_ref a, ir_ref b)
{
    if (is_const(be, a) || is_const(be, b))
        return false;
    if (be->reg[a] != NO_REG || be->reg[b] != NO_REG)
        return be->reg[a] == be->reg[b];
    return be->slot[a] == be->slot[b];
}

/* dst's place = src. */
static void move_value(backend *be, ir_ref dst, ir_ref src)
{
    ir_inst *d = inst(be, dst);
    if (is_xmm_type(d->type)) {
        int x = be->reg[dst] != NO_REG ? be->reg[dst] - 16 : XSCRATCH;
        load_xmm(be, x, src);
        put(be, dst, XREG(x));
    } else {
        int r = be->reg[dst] != NO_REG ? be->reg[dst] : R11;
        load_gpr(be, r, src);
        put(be, dst, r);
    }
}

/* The moves of the phis of `to` on the edge from `from`, as one parallel
 * copy: a move goes once no other pending move reads its destination;
 * when only cycles remain, a destination's current value goes to the
 * temporary of its class (rax, xmm14) and its readers read that. */
static void edge_moves(backend *be, uint32_t from, uint32_t to)
{
    ir_func *f = be->ir;
    const ir_block *tb = &f->blocks[to];
    uint32_t k = 0;
    while (k < tb->npreds && tb->preds[k] != from)
        k++;
    struct {
        ir_ref dst, src;
        bool from_temp;
    } moves[64];
    uint32_t n = 0;
    for (ir_ref p = tb->first; p && ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next) {
        ir_ref src = ir_at(f, p)->args[k];
        if (be->uses[p] == 0 || same_place(be, p, src))
            continue;
        if (n == sizeof moves / sizeof *moves) {
            be_fail(be, "too many phis on an edge");
            return;
        }
        moves[n].dst = p, moves[n].src = src, moves[n].from_temp = false;
        n++;
    }
    while (n) {
        uint32_t i = 0;
        for (; i < n; i++) {
            bool blocked = false;
            for (uint32_t j = 0; j < n && !blocked; j++)
                blocked = j != i && !moves[j].from_temp && same_place(be, moves[j].src, moves[i].dst);
            if (!blocked)
                break;
        }
        if (i < n) {
            bool x = is_xmm_type(inst(be, moves[i].dst)->type);
            if (moves[i].from_temp)
                put(be, moves[i].dst, x ? XTMP : TMP);
            else
                move_value(be, moves[i].dst, moves[i].src);
            moves[i] = moves[--n];
            continue;
        }
        /* only cycles: move 0's destination is read; save what it holds */
        ir_ref d = moves[0].dst;
        bool x = is_xmm_type(inst(be, d)->type), saved = false;
        for (uint32_t j = 0; j < n; j++) {
            if (moves[j].from_temp || !same_place(be, moves[j].src, d))
                continue;
            if (!saved) {
                if (x)
                    load_xmm(be, XTMP - 16, moves[j].src);
                else
                    load_gpr(be, TMP, moves[j].src);
                saved = true;
            }
            moves[j].from_temp = true;
        }
    }
}

/* ---- instructions ---- */

static const uint8_t int_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

static bool is_compare(uint16_t op)
{
    return (op >= WASM_OP_I32_EQZ && op <= WASM_OP_I64_GE_U) ||
           (op >= WASM_OP_F32_EQ && op <= WASM_OP_F64_GE && op != WASM_OP_F32_EQ &&
            op != WASM_OP_F32_NE && op != WASM_OP_F64_EQ && op != WASM_OP_F64_NE);
}

/* Sets the flags for a comparison; returns the condition that holds when
 * it is true. */
static int compare_flags(backend *be, ir_inst *in)
{
    uint16_t op = in->op;
    if (op == WASM_OP_I32_EQZ || op == WASM_OP_I64_EQZ) {
        ir_ref a = in->args[0];
        int size = op == WASM_OP_I32_EQZ ? SZ32 : SZ64;
        x86_rm rm = gpr_operand(be, a);
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
        load_xmm(be, XTMP - 16, a);
        x86_rm brm = xmm_operand(be, b);
        x86_ucomis(be->cb, dbl, XTMP - 16, brm); /* ucomis a, b */
        pool_used(be, brm);
        return k == 2 || k == 3 ? CC_A : CC_AE;
    }
    bool is64 = op >= WASM_OP_I64_EQ;
    int size = is64 ? SZ64 : SZ32;
    int cc = int_cc[op - (is64 ? WASM_OP_I64_EQ : WASM_OP_I32_EQ)];
    ir_ref a = in->args[0], b = in->args[1];
    int32_t imm;
    bool b_imm = imm32_of(be, b, size, &imm);
    x86_rm arm;
    if (is_const(be, a) || (be->reg[a] == NO_REG && !b_imm)) {
        load_gpr(be, R11, a);
        arm = R_(R11);
    } else {
        arm = loc(be, a);
    }
    if (b_imm) {
        x86_alu_ri(be->cb, ALU_CMP, size, arm, imm); /* cmp a, imm */
    } else if (is_const(be, b)) {
        load_gpr(be, RCX, b);                                                 /* mov rcx, b */
        x86_alu_rr(be->cb, ALU_CMP, size, arm.reg, R_(RCX)); /* cmp a, rcx */
    } else {
        x86_alu_rr(be->cb, ALU_CMP, size, arm.reg, loc(be, b)); /* cmp a, b */
    }
    return cc;
}

static void op_compare(backend *be, ir_ref v, ir_inst *in)
{
    uint16_t op = in->op;
    int d = dst_gpr(be, v);
    if (op == WASM_OP_F32_EQ || op == WASM_OP_F32_NE || op == WASM_OP_F64_EQ ||
        op == WASM_OP_F64_NE) {
        bool dbl = op >= WASM_OP_F64_EQ, eq = op == WASM_OP_F32_EQ || op == WASM_OP_F64_EQ;
        load_xmm(be, XTMP - 16, in->args[0]);
        x86_rm brm = xmm_operand(be, in->args[1]);
        x86_ucomis(be->cb, dbl, XTMP - 16, brm);
        pool_used(be, brm);
        x86_setcc(be->cb, eq ? CC_E : CC_NE, d);                 /* sete d */
        x86_setcc(be->cb, eq ? CC_NP : CC_P, R11);               /* setnp r11b */
        x86_alu_mr(be->cb, eq ? ALU_AND : ALU_OR, SZ8, R_(d), R11); /* and d, r11b */
    } else {
        x86_setcc(be->cb, compare_flags(be, in), d); /* setcc d */
    }
    x86_movzx(be->cb, d, SZ8, R_(d)); /* movzx d, d8 */
    put(be, v, d);
}

static void op_int_binary(backend *be, ir_ref v, ir_inst *in, int alu, bool commutative)
{
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    int d = dst_gpr(be, v);
    if (!is_const(be, b) && be->reg[b] == d && a != b) {
        if (commutative) {
            ir_ref t = a;
            a = b, b = t;
        } else {
            d = TMP;
        }
    }
    int32_t imm;
    bool a_reg = !is_const(be, a) && be->reg[a] != NO_REG;
    if (alu == ALU_ADD && a_reg && be->reg[a] != d &&
        (imm32_of(be, b, size, &imm) || (!is_const(be, b) && be->reg[b] != NO_REG))) {
        /* d = a + b without a copy first; the 32-bit lea wraps as i32.add */
        x86_lea(be->cb, size, d,
                is_const(be, b) ? M_(be->reg[a], imm) : MI_(be->reg[a], be->reg[b], 0, 0));
        put(be, v, d);
        return;
    }
    load_gpr(be, d, a);
    if (alu >= 0 && imm32_of(be, b, size, &imm))
        x86_alu_ri(be->cb, alu, size, R_(d), imm); /* op d, imm */
    else if (alu >= 0)
        x86_alu_rr(be->cb, alu, size, d, gpr_operand(be, b)); /* op d, b */
    else
        x86_imul_rr(be->cb, size, d, gpr_operand(be, b)); /* imul d, b */
    put(be, v, d);
}

/* digit: 0 rol, 1 ror, 4 shl, 5 shr, 7 sar */
static void op_shift(backend *be, ir_ref v, ir_inst *in, int digit)
{
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    int d = dst_gpr(be, v);
    if (is_const(be, b)) {
        load_gpr(be, d, a);
        x86_shift_i(be->cb, digit, size, R_(d), (uint8_t)(inst(be, b)->imm & (size == SZ32 ? 31 : 63)));
    } else {
        load_gpr(be, RCX, b); /* mov ecx, b: before a, which may take b's register */
        load_gpr(be, d, a);
        x86_shift_cl(be->cb, digit, size, R_(d)); /* shl d, cl */
    }
    put(be, v, d);
}

static void op_divrem(backend *be, ir_ref v, ir_inst *in, bool is_signed, bool rem)
{
    codebuf *cb = be->cb;
    int size = size_of(in->type);
    ir_ref a = in->args[0], b = in->args[1];
    x86_rm bop;
    if (is_const(be, b)) {
        load_gpr(be, RCX, b);
        bop = R_(RCX);
    } else {
        bop = loc(be, b);
    }
    load_gpr(be, RAX, a);
    if (bop.mem)
        x86_alu_ri(cb, ALU_CMP, size, bop, 0); /* cmp [b], 0 */
    else
        x86_test_rr(cb, size, bop, bop.reg); /* test b, b */
    trap_jump(be, x86_jcc(cb, CC_E), WJ_TRAP_INT_DIVIDE_BY_ZERO, in->wasm);
    uint32_t done = UINT32_MAX;
    if (is_signed) {
        x86_alu_ri(cb, ALU_CMP, size, bop, -1);    /* cmp b, -1 */
        uint32_t normal = x86_jcc(cb, CC_NE);      /* jne normal */
        if (rem) {
            x86_alu_mr(cb, ALU_XOR, SZ32, R_(RDX), RDX); /* xor edx, edx */
        } else {
            x86_unary(cb, 3, size, R_(RAX));       /* neg eax: OF for the minimum */
            trap_jump(be, x86_jcc(cb, CC_O), WJ_TRAP_INT_OVERFLOW, in->wasm);
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
    put(be, v, rem ? RDX : RAX);
}

static void op_bitcount(backend *be, ir_ref v, ir_inst *in, int k)
{
    codebuf *cb = be->cb;
    int size = size_of(in->type), bits = size == SZ32 ? 32 : 64;
    int d = dst_gpr(be, v);
    x86_rm a = gpr_operand(be, in->args[0]);
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
    put(be, v, d);
}

static void op_float_binary(backend *be, ir_ref v, ir_inst *in, uint8_t sse)
{
    bool dbl = in->type == WASM_F64;
    ir_ref a = in->args[0], b = in->args[1];
    int d = dst_xmm(be, v);
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
    load_xmm(be, d - 16, a);
    x86_rm brm = xmm_operand(be, b);
    x86_sse(be->cb, dbl, sse, d - 16, brm); /* addsd d, b */
    pool_used(be, brm);
    put(be, v, d);
}

static void op_minmax(backend *be, ir_ref v, ir_inst *in, bool is_max)
{
    codebuf *cb = be->cb;
    bool dbl = in->type == WASM_F64;
    int d = dst_xmm(be, v);
    if (!is_const(be, in->args[1]) && be->reg[in->args[1]] == d)
        d = XTMP;
    load_xmm(be, XSCRATCH, in->args[1]);
    load_xmm(be, d - 16, in->args[0]);
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
    put(be, v, d);
}

/* neg, abs, copysign through r11 (and rcx). */
static void op_sign(backend *be, ir_ref v, ir_inst *in, int k)
{
    codebuf *cb = be->cb;
    bool dbl = in->type == WASM_F64;
    int size = dbl ? SZ64 : SZ32, d = dst_xmm(be, v);
    load_xmm(be, XSCRATCH, in->args[0]);
    x86_movd_rx(cb, size, R_(R11), XSCRATCH); /* movq r11, a */
    if (k == 0) { /* abs */
        x86_shift_i(cb, 4, size, R_(R11), 1); /* shl r11, 1 */
        x86_shift_i(cb, 5, size, R_(R11), 1); /* shr r11, 1 */
    } else if (k == 1) { /* neg */
        x86_btc_i(cb, size, R11, dbl ? 63 : 31); /* btc r11, 63 */
    } else { /* copysign */
        load_xmm(be, XSCRATCH, in->args[1]);
        x86_movd_rx(cb, size, R_(RCX), XSCRATCH);       /* movq rcx, b */
        x86_shift_i(cb, 4, size, R_(R11), 1);           /* shl r11, 1 */
        x86_shift_i(cb, 5, size, R_(R11), 1);           /* shr r11, 1 */
        x86_shift_i(cb, 5, size, R_(RCX), dbl ? 63 : 31); /* shr rcx, 63 */
        x86_shift_i(cb, 4, size, R_(RCX), dbl ? 63 : 31); /* shl rcx, 63 */
        x86_alu_rr(cb, ALU_OR, size, R11, R_(RCX));     /* or r11, rcx */
    }
    x86_movd_xr(cb, size, d - 16, R_(R11)); /* movq d, r11 */
    put(be, v, d);
}

/* The operand of a load or store: memory 0 is static and the access needs
 * no check (opt.c declined the others). */
static x86_rm heap_operand(backend *be, ir_inst *in)
{
    ir_ref a = in->args[0];
    int32_t disp = (int32_t)in->imm;
    if (is_const(be, a))
        return M_(R14, (int32_t)((uint32_t)inst(be, a)->imm + in->imm));
    if (be->reg[a] != NO_REG)
        return MI_(R14, be->reg[a], 0, disp);
    x86_mov_rr(be->cb, SZ32, R11, loc(be, a)); /* mov r11d, [slot] */
    return MI_(R14, R11, 0, disp);
}

static void op_load(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_rm m = heap_operand(be, in);
    if (is_xmm_type(in->type)) {
        int d = dst_xmm(be, v);
        trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_load(cb, in->op == WASM_OP_F64_LOAD, d - 16, m); /* movsd d, [m] */
        put(be, v, d);
        return;
    }
    int d = dst_gpr(be, v);
    trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
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
    put(be, v, d);
}

static void op_store(backend *be, ir_inst *in)
{
    static const uint8_t sizes[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    codebuf *cb = be->cb;
    int size = sizes[in->op - WASM_OP_I32_STORE];
    ir_ref val = in->args[1];
    int32_t imm;
    bool fl = in->op == WASM_OP_F32_STORE || in->op == WASM_OP_F64_STORE;
    if (fl && !is_const(be, val)) {
        int x = be->reg[val] != NO_REG ? be->reg[val] - 16 : XSCRATCH;
        load_xmm(be, x, val);
        x86_rm m = heap_operand(be, in);
        trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        x86_movs_store(cb, size == 8, m, x); /* movsd [m], x */
        return;
    }
    bool as_imm = is_const(be, val) && (size < 8 || imm32_of(be, val, SZ64, &imm));
    imm = (int32_t)inst(be, val)->imm;
    int r = -1;
    if (!as_imm) {
        r = !is_const(be, val) && be->reg[val] != NO_REG ? be->reg[val] : TMP;
        if (is_const(be, val))
            x86_mov_ri64(cb, TMP, inst(be, val)->imm);
        else
            load_gpr(be, r, val);
    }
    x86_rm m = heap_operand(be, in);
    trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    if (as_imm)
        x86_mov_mi(cb, size, m, imm); /* mov size [m], imm */
    else
        x86_mov_mr(cb, size, m, r);   /* mov size [m], r */
}

static x86_rm global_rm(backend *be, uint32_t g)
{
    x86_rm slot = M_(R15, (int32_t)vmctx_global(be->env->m, g));
    if (!vm_global_indirect(be->env->m, g))
        return slot;
    x86_mov_rr(be->cb, SZ64, R11, slot); /* mov r11, [r15+global] */
    return M_(R11, 0);
}

/* Stores (or loads back) the values in registers live across call v. */
static void save_across(backend *be, ir_ref call, bool restore)
{
    for (uint32_t i = 0; i < be->save_count[call]; i++) {
        ir_ref w = be->saves.v[be->save_first[call] + i];
        int r = be->reg[w];
        if (r == NO_REG || (!restore && inst(be, w)->op == IR_PARAM))
            continue; /* spilled after all; a parameter's home holds it */
        x86_rm slot = M_(RBP, be->save_slot[w]);
        uint8_t t = inst(be, w)->type;
        if (r >= 16 && restore)
            x86_movs_load(be->cb, t == WASM_F64, r - 16, slot);
        else if (r >= 16)
            x86_movs_store(be->cb, t == WASM_F64, slot, r - 16);
        else if (restore)
            x86_mov_rr(be->cb, size_of(t), r, slot);
        else
            x86_mov_mr(be->cb, size_of(t), slot, r);
    }
}

/* The arguments to the outgoing area, as tier 1 passes them. */
static void pass_args(backend *be, const wasm_functype *t, const ir_ref *args)
{
    codebuf *cb = be->cb;
    uint32_t units = 0;
    for (uint32_t i = 0; i < t->nparams; i++) {
        ir_ref a = args[i];
        x86_rm dst = M_(RSP, (int32_t)(VM_UNIT * units));
        uint8_t type = t->params[i];
        if (is_xmm_type(type) && !is_const(be, a) && be->reg[a] != NO_REG) {
            x86_movs_store(cb, type == WASM_F64, dst, be->reg[a] - 16);
        } else {
            load_gpr(be, R11, a); /* a float's bits move as an integer */
            x86_mov_mr(cb, size_of(type), dst, R11);
        }
        units += vm_slot_units(type);
    }
    if (units > be->max_out)
        be->max_out = units;
}

static void map_call(backend *be, uint32_t wasm)
{
    if (!out_addr(be->out, be->cb->len - 1, wasm)) /* the call's last byte */
        be_fail(be, "out of memory");
}

/* After a call that may have entered another instance. */
static void reload_context(backend *be)
{
    x86_mov_rr(be->cb, SZ64, R15, M_(RBP, -8)); /* mov r15, [rbp-8] */
    if (be->env->m->nmemories)
        x86_mov_rr(be->cb, SZ64, R14, M_(R15, VMCTX_MEMORY0_BASE)); /* mov r14, [r15+base0] */
}

/* The result in its place, then what the call clobbered back. */
static void after_call(backend *be, ir_ref v, ir_inst *in)
{
    /* the result first: a saved value may live in rax's or xmm0's place */
    if (in->type)
        put(be, v, is_xmm_type(in->type) ? XREG(0) : RAX);
    save_across(be, v, true);
}

static void op_call(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    uint32_t func = (uint32_t)in->imm;
    save_across(be, v, false);
    pass_args(be, wasm_func_type(m, func), in->args);
    if (func >= m->nfunc_imports) {
        uint32_t at = x86_call_rel(cb); /* call rel32 */
        if (!out_reloc(be->out, at, func - m->nfunc_imports))
            be_fail(be, "out of memory");
        map_call(be, in->wasm);
    } else {
        x86_mov_rr(cb, SZ64, R11, M_(R15, (int32_t)vmctx_func(m, func))); /* mov r11, [r15+func] */
        x86_mov_rr(cb, SZ64, R15, M_(R11, VM_FUNCREF_VMCTX)); /* mov r15, [r11+vmctx] */
        x86_call_rm(cb, M_(R11, VM_FUNCREF_CODE));            /* call [r11+code] */
        map_call(be, in->wasm);
        reload_context(be);
    }
    after_call(be, v, in);
}

/*
 * call_indirect through funcref table `aux` (tier 1's sequence, tables.c):
 * the bounds check, the element (tagged: bit 0 set once made, 0 before, a
 * null 1) with one test for "not made or null" whose slow path makes it
 * (the lazy trampoline keeps every register) or traps, the type check.
 */
static void op_call_indirect(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    uint32_t type = (uint32_t)in->imm, table = in->aux;
    const wasm_functype *t = &m->types[type];
    save_across(be, v, false);
    pass_args(be, t, in->args);
    load_gpr(be, RCX, in->args[t->nparams]); /* the element index */
    x86_mov_rr(cb, SZ64, R11, M_(R15, (int32_t)vmctx_table(m, table))); /* mov r11, [r15+table] */
    x86_alu_rr(cb, ALU_CMP, SZ32, RCX, M_(R11, VM_TABLE_SIZE));        /* cmp ecx, [r11+size] */
    trap_jump(be, x86_jcc(cb, CC_AE), WJ_TRAP_UNDEFINED_ELEMENT, in->wasm);
    x86_mov_rr(cb, SZ64, R11, M_(R11, VM_TABLE_ELEMS)); /* mov r11, [r11+elems] */
    x86_mov_rr(cb, SZ64, R11, MI_(R11, RCX, 3, 0));     /* mov r11, [r11+rcx*8] */
    uint32_t resume = cb->len;
    x86_alu_ri(cb, ALU_CMP, SZ64, R_(R11), 1); /* cmp r11, 1 */
    uint32_t jump = x86_jcc(cb, CC_BE);        /* jbe slow */
    if (!VEC_PUSH_OK(be->lazy_paths, {jump, resume, in->wasm, table}))
        be_fail(be, "out of memory");
    /* r11 is tagged: every displacement takes the tag off */
    x86_alu_ri(cb, ALU_CMP, SZ32, M_(R11, VM_FUNCREF_TYPE - 1),
               (int32_t)be->env->type_ids[type]); /* cmp dword [r11+type-1], id */
    trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_INDIRECT_TYPE, in->wasm);
    x86_mov_rr(cb, SZ64, R15, M_(R11, VM_FUNCREF_VMCTX - 1)); /* mov r15, [r11+vmctx-1] */
    x86_call_rm(cb, M_(R11, VM_FUNCREF_CODE - 1));            /* call [r11+code-1] */
    map_call(be, in->wasm);
    reload_context(be);
    after_call(be, v, in);
}

/* The slow paths of call_indirect, after the body: an initialised null
 * traps; an element not made yet is made, and the check runs again. */
static void emit_lazy_paths(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->lazy_paths.n; i++) {
        const lazy_path *p = &be->lazy_paths.v[i];
        x86_bind(cb, p->jump, cb->len);
        x86_test_rr(cb, SZ64, R_(R11), R11); /* test r11, r11 */
        trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_UNINITIALIZED_ELEMENT, p->wasm);
        if (p->table) {
            x86_mov_ri64(cb, R11, (uint64_t)p->table << 32);  /* mov r11, table << 32 */
            x86_alu_rr(cb, ALU_OR, SZ64, R11, R_(RCX));       /* or r11, rcx */
        } else {
            x86_mov_rr(cb, SZ32, R11, R_(RCX)); /* mov r11d, ecx */
        }
        x86_call_rm(cb, M_(R15, VMCTX_LAZY)); /* call [r15+lazy] */
        map_call(be, p->wasm);
        x86_jmp_to(cb, p->resume); /* jmp back to the check */
    }
}

/* Calls C function `func` with vmctx in rdi (the caller loaded the other
 * arguments); the result, if any, and the saved values follow. */
static void libcall(backend *be, ir_ref v, ir_inst *in, const void *func)
{
    codebuf *cb = be->cb;
    x86_mov_rr(cb, SZ64, RDI, R_(R15));                    /* mov rdi, r15 */
    x86_mov_ri64(cb, RAX, (uint64_t)(uintptr_t)func);      /* mov rax, func */
    x86_call_rm(cb, R_(RAX));                              /* call rax */
    map_call(be, in->wasm);
    after_call(be, v, in);
}

/* memory.size and memory.grow of a static memory 0 (its base stays). */
static void op_memory(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    const wasm_module *m = be->env->m;
    if (in->op == WASM_OP_MEMORY_SIZE) {
        int d = dst_gpr(be, v);
        x86_mov_rr(cb, SZ64, d, M_(R15, (int32_t)vmctx_memory(m, 0))); /* mov d, [r15+mem] */
        x86_mov_rr(cb, SZ32, d, M_(d, VM_MEMORY_PAGES));                /* mov d, [d+pages] */
        put(be, v, d);
        return;
    }
    save_across(be, v, false);
    load_gpr(be, RDX, in->args[0]);     /* the delta */
    x86_mov_ri64(cb, RSI, 0);           /* mov esi, memory 0 */
    libcall(be, v, in, (const void *)wj__memory_grow);
}

/* memory.fill and memory.copy within memory 0: libcalls that trap out of
 * bounds. */
static void op_bulk(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    save_across(be, v, false);
    /* the operands (dst, value or src, n) go to the argument registers
     * after the memory indices; none of them is allocated */
    bool fill = in->op == WASM_OP_MEMORY_FILL;
    static const uint8_t fill_regs[] = {RDX, RCX, R8}, copy_regs[] = {RCX, R8, R9};
    for (int i = 0; i < 3; i++)
        load_gpr(be, fill ? fill_regs[i] : copy_regs[i], in->args[i]);
    x86_mov_ri64(cb, RSI, 0); /* mov esi, memory 0 (both memories for copy) */
    if (!fill)
        x86_mov_ri64(cb, RDX, 0);
    libcall(be, v, in, fill ? (const void *)wj__memory_fill : (const void *)wj__memory_copy);
    x86_test_rr(cb, SZ32, R_(RAX), RAX); /* test eax, eax */
    trap_jump(be, x86_jcc(cb, CC_NE), WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
}

static void op_convert(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    ir_ref a = in->args[0];
    switch (in->op) {
    case WASM_OP_I32_WRAP_I64: case WASM_OP_I64_EXTEND_I32_U: {
        int d = dst_gpr(be, v);
        x86_mov_rr(cb, SZ32, d, gpr_operand(be, a)); /* mov d32, a32 */
        put(be, v, d);
        return;
    }
    case WASM_OP_I64_EXTEND_I32_S: case WASM_OP_I32_EXTEND8_S: case WASM_OP_I32_EXTEND16_S:
    case WASM_OP_I64_EXTEND8_S: case WASM_OP_I64_EXTEND16_S: case WASM_OP_I64_EXTEND32_S: {
        static const struct { uint16_t op; uint8_t dst, src; } ext[] = {
            {WASM_OP_I64_EXTEND_I32_S, SZ64, SZ32}, {WASM_OP_I32_EXTEND8_S, SZ32, SZ8},
            {WASM_OP_I32_EXTEND16_S, SZ32, SZ16},   {WASM_OP_I64_EXTEND8_S, SZ64, SZ8},
            {WASM_OP_I64_EXTEND16_S, SZ64, SZ16},   {WASM_OP_I64_EXTEND32_S, SZ64, SZ32}};
        int d = dst_gpr(be, v);
        load_gpr(be, d, a);
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
            if (ext[i].op == in->op)
                x86_movsx(cb, ext[i].dst, d, ext[i].src, R_(d)); /* movsx d, a */
        put(be, v, d);
        return;
    }
    case WASM_OP_F32_CONVERT_I32_S: case WASM_OP_F32_CONVERT_I64_S:
    case WASM_OP_F64_CONVERT_I32_S: case WASM_OP_F64_CONVERT_I64_S:
    case WASM_OP_F32_CONVERT_I32_U: case WASM_OP_F64_CONVERT_I32_U: {
        bool dbl = in->type == WASM_F64;
        /* an i32's register holds it zero-extended: unsigned converts as i64 */
        bool src64 = in->op == WASM_OP_F32_CONVERT_I64_S || in->op == WASM_OP_F64_CONVERT_I64_S ||
                     in->op == WASM_OP_F32_CONVERT_I32_U || in->op == WASM_OP_F64_CONVERT_I32_U;
        int d = dst_xmm(be, v);
        load_gpr(be, R11, a);
        x86_logic_ps(cb, 0x57, d - 16, d - 16); /* xorps d, d: no dependency on d */
        x86_cvtsi2s(cb, dbl, src64 ? SZ64 : SZ32, d - 16, R_(R11)); /* cvtsi2sd d, r11 */
        put(be, v, d);
        return;
    }
    case WASM_OP_F32_DEMOTE_F64: case WASM_OP_F64_PROMOTE_F32: {
        int d = dst_xmm(be, v);
        load_xmm(be, XSCRATCH, a);
        /* cvtsd2ss takes the double's prefix (F2), cvtss2sd the single's (F3) */
        x86_sse(cb, in->op == WASM_OP_F32_DEMOTE_F64, SSE_CVT_FF, d - 16, R_(XSCRATCH));
        put(be, v, d);
        return;
    }
    case WASM_OP_I32_REINTERPRET_F32: case WASM_OP_I64_REINTERPRET_F64: {
        int d = dst_gpr(be, v);
        load_xmm(be, XSCRATCH, a);
        x86_movd_rx(cb, size_of(in->type), R_(d), XSCRATCH); /* movq d, a */
        put(be, v, d);
        return;
    }
    case WASM_OP_F32_CONVERT_I64_U: case WASM_OP_F64_CONVERT_I64_U: {
        int d = dst_xmm(be, v);
        load_gpr(be, RCX, a);
        emit_convert_u64(cb, in->type == WASM_F64, d - 16, RCX);
        put(be, v, d);
        return;
    }
    case WASM_OP_F32_REINTERPRET_I32: case WASM_OP_F64_REINTERPRET_I64: {
        int d = dst_xmm(be, v);
        load_gpr(be, R11, a);
        x86_movd_xr(cb, size_of(in->type), d - 16, R_(R11)); /* movq d, r11 */
        put(be, v, d);
        return;
    }
    default: { /* trunc (0xa8-0xab, 0xae-0xb1) and trunc_sat (0xfc00-0xfc07) */
        uint32_t k = in->op >> 8 == 0xfc ? in->op & 7u
                     : in->op <= WASM_OP_I32_TRUNC_F64_U ? (uint32_t)(in->op - WASM_OP_I32_TRUNC_F32_S)
                                                         : (uint32_t)(4 + in->op - WASM_OP_I64_TRUNC_F32_S);
        bool dbl = k == 2 || k == 3 || k == 6 || k == 7;
        int d = dst_gpr(be, v);
        load_xmm(be, XTMP - 16, a); /* the conversion may change it */
        emit_trunc(cb, dbl, k >= 4, !(k & 1), in->op >> 8 == 0xfc, d, XTMP - 16, trap_cb, be);
        put(be, v, d);
        return;
    }
    }
}

static void op_select(backend *be, ir_ref v, ir_inst *in)
{
    codebuf *cb = be->cb;
    ir_ref a = in->args[0], b = in->args[1], c = in->args[2];
    bool x = is_xmm_type(in->type);
    int d = x ? dst_xmm(be, v) : dst_gpr(be, v);
    if (is_const(be, c)) { /* known: a copy */
        ir_ref pick = (uint32_t)inst(be, c)->imm ? a : b;
        if (x)
            load_xmm(be, d - 16, pick);
        else
            load_gpr(be, d, pick);
        put(be, v, d);
        return;
    }
    if (!is_const(be, b) && be->reg[b] == d)
        d = x ? XTMP : TMP;
    x86_rm crm = loc(be, c);
    if (crm.mem || (!x && crm.reg == d)) {
        load_gpr(be, RCX, c);
        crm = R_(RCX);
    }
    x86_test_rr(cb, SZ32, crm, crm.reg); /* test c, c */
    /* the moves below leave the flags alone (constants: mov, movq) */
    if (x) {
        load_xmm(be, d - 16, a);
        uint32_t keep = x86_jcc(cb, CC_NE); /* jnz keep */
        load_xmm(be, d - 16, b);
        x86_bind(cb, keep, cb->len);
    } else {
        load_gpr(be, d, a);
        x86_rm brm = is_const(be, b) ? (load_gpr(be, R11, b), R_(R11)) : loc(be, b);
        x86_cmov(cb, CC_E, size_of(in->type), d, brm); /* cmovz d, b */
    }
    put(be, v, d);
}

static void emit_return(backend *be, ir_inst *in)
{
    if (in->nargs == 1) {
        ir_ref a = in->args[0];
        if (is_xmm_type(inst(be, a)->type))
            load_xmm(be, 0, a);
        else
            load_gpr(be, RAX, a);
    }
    x86_mov_rr(be->cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp */
    x86_pop(be->cb, RBP);                   /* pop rbp */
    x86_ret(be->cb);                        /* ret */
}

/* A block's terminator; `next` is the block emitted after it (or
 * UINT32_MAX). */
static void emit_terminator(backend *be, uint32_t b, ir_inst *in, uint32_t next)
{
    ir_block *blk = &be->ir->blocks[b];
    /* A br_table of its default alone is a br (its edge was not split). */
    switch (blk->nsuccs == 1 && in->op == WASM_OP_BR_TABLE ? WASM_OP_BR : in->op) {
    case WASM_OP_BR:
        edge_moves(be, b, blk->succs[0]);
        if (resolve(be, blk->succs[0]) != next)
            jump_to(be, -1, blk->succs[0]);
        return;
    case WASM_OP_BR_IF: {
        ir_ref c = in->args[0];
        ir_inst *ci = inst(be, c);
        int cc;
        if (is_compare(ci->op) && be->uses[c] == 1 && ci->block == b && ci->next == be->ir->blocks[b].last) {
            cc = compare_flags(be, ci);
        } else {
            x86_rm rm = gpr_operand(be, c);
            if (rm.mem)
                x86_alu_ri(be->cb, ALU_CMP, SZ32, rm, 0);
            else
                x86_test_rr(be->cb, SZ32, rm, rm.reg); /* test c, c */
            cc = CC_NE;
        }
        uint32_t taken = resolve(be, blk->succs[0]), other = resolve(be, blk->succs[1]);
        if (taken == next) {
            jump_to(be, cc ^ 1, other);
        } else {
            jump_to(be, cc, taken);
            if (other != next)
                jump_to(be, -1, other);
        }
        return;
    }
    case WASM_OP_BR_TABLE: {
        /* ecx = index; past the table: the default; else a jump through a
         * table of int32 distances from the table, after the code */
        codebuf *cb = be->cb;
        uint32_t n = blk->nsuccs - 1;
        load_gpr(be, RCX, in->args[0]);
        x86_alu_ri(cb, ALU_CMP, SZ32, R_(RCX), (int32_t)n); /* cmp ecx, n */
        jump_to(be, CC_AE, blk->succs[n]);                    /* jae default */
        uint32_t disp = x86_lea_rip(cb, R11);                  /* lea r11, [rip+table] */
        x86_movsx(cb, SZ64, RCX, SZ32, MI_(R11, RCX, 2, 0));  /* movsxd rcx, [r11+rcx*4] */
        x86_alu_rr(cb, ALU_ADD, SZ64, RCX, R_(R11));           /* add rcx, r11 */
        x86_jmp_rm(cb, R_(RCX));                               /* jmp rcx */
        if (!VEC_PUSH_OK(be->table_entries, {disp, UINT32_MAX, n}))
            be_fail(be, "out of memory");
        for (uint32_t i = 0; i < n; i++)
            if (!VEC_PUSH_OK(be->table_entries, {0, resolve(be, blk->succs[i]), 0}))
                be_fail(be, "out of memory");
        return;
    }
    case WASM_OP_RETURN:
        emit_return(be, in);
        return;
    default: /* unreachable */
        trap_here(be, WJ_TRAP_UNREACHABLE, in->wasm);
        x86_bind(be->cb, x86_call_rel(be->cb), be->out->trap_thunk); /* call thunk */
        return;
    }
}

static void emit_inst(backend *be, ir_ref v, ir_inst *in)
{
    uint16_t op = in->op;
    codebuf *cb = be->cb;
    be->trap_wasm = in->wasm;
    if (op == IR_PHI || is_const_op(op))
        return;
    if (op == IR_PARAM) {
        if (be->reg[v] != NO_REG) {
            x86_rm home = M_(RBP, param_home(be, v));
            if (is_xmm_type(in->type))
                x86_movs_load(cb, in->type == WASM_F64, be->reg[v] - 16, home);
            else
                x86_mov_rr(cb, size_of(in->type), be->reg[v], home);
        }
        return;
    }
    /* a comparison that its branch fuses emits nothing here */
    if (is_compare(op) && be->uses[v] == 1 && in->next && inst(be, in->next)->op == WASM_OP_BR_IF &&
        inst(be, in->next)->args[0] == v)
        return;
    if (op >= WASM_OP_I32_EQZ && op <= WASM_OP_F64_GE) {
        op_compare(be, v, in);
        return;
    }
    switch (op) {
    case WASM_OP_I32_ADD: case WASM_OP_I64_ADD: op_int_binary(be, v, in, ALU_ADD, true); return;
    case WASM_OP_I32_SUB: case WASM_OP_I64_SUB: op_int_binary(be, v, in, ALU_SUB, false); return;
    case WASM_OP_I32_MUL: case WASM_OP_I64_MUL: op_int_binary(be, v, in, -1, true); return;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: op_int_binary(be, v, in, ALU_AND, true); return;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: op_int_binary(be, v, in, ALU_OR, true); return;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: op_int_binary(be, v, in, ALU_XOR, true); return;
    case WASM_OP_I32_SHL: case WASM_OP_I64_SHL: op_shift(be, v, in, 4); return;
    case WASM_OP_I32_SHR_S: case WASM_OP_I64_SHR_S: op_shift(be, v, in, 7); return;
    case WASM_OP_I32_SHR_U: case WASM_OP_I64_SHR_U: op_shift(be, v, in, 5); return;
    case WASM_OP_I32_ROTL: case WASM_OP_I64_ROTL: op_shift(be, v, in, 0); return;
    case WASM_OP_I32_ROTR: case WASM_OP_I64_ROTR: op_shift(be, v, in, 1); return;
    case WASM_OP_I32_DIV_S: case WASM_OP_I64_DIV_S: op_divrem(be, v, in, true, false); return;
    case WASM_OP_I32_DIV_U: case WASM_OP_I64_DIV_U: op_divrem(be, v, in, false, false); return;
    case WASM_OP_I32_REM_S: case WASM_OP_I64_REM_S: op_divrem(be, v, in, true, true); return;
    case WASM_OP_I32_REM_U: case WASM_OP_I64_REM_U: op_divrem(be, v, in, false, true); return;
    case WASM_OP_I32_CLZ: case WASM_OP_I64_CLZ: op_bitcount(be, v, in, 0); return;
    case WASM_OP_I32_CTZ: case WASM_OP_I64_CTZ: op_bitcount(be, v, in, 1); return;
    case WASM_OP_I32_POPCNT: case WASM_OP_I64_POPCNT: op_bitcount(be, v, in, 2); return;
    case WASM_OP_F32_ADD: case WASM_OP_F64_ADD: op_float_binary(be, v, in, SSE_ADD); return;
    case WASM_OP_F32_SUB: case WASM_OP_F64_SUB: op_float_binary(be, v, in, SSE_SUB); return;
    case WASM_OP_F32_MUL: case WASM_OP_F64_MUL: op_float_binary(be, v, in, SSE_MUL); return;
    case WASM_OP_F32_DIV: case WASM_OP_F64_DIV: op_float_binary(be, v, in, SSE_DIV); return;
    case WASM_OP_F32_MIN: case WASM_OP_F64_MIN: op_minmax(be, v, in, false); return;
    case WASM_OP_F32_MAX: case WASM_OP_F64_MAX: op_minmax(be, v, in, true); return;
    case WASM_OP_F32_ABS: case WASM_OP_F64_ABS: op_sign(be, v, in, 0); return;
    case WASM_OP_F32_NEG: case WASM_OP_F64_NEG: op_sign(be, v, in, 1); return;
    case WASM_OP_F32_COPYSIGN: case WASM_OP_F64_COPYSIGN: op_sign(be, v, in, 2); return;
    case WASM_OP_F32_SQRT: case WASM_OP_F64_SQRT: {
        int d = dst_xmm(be, v);
        x86_rm arm = xmm_operand(be, in->args[0]);
        x86_sse(cb, in->type == WASM_F64, SSE_SQRT, d - 16, arm);
        pool_used(be, arm);
        put(be, v, d);
        return;
    }
    case WASM_OP_F32_CEIL: case WASM_OP_F32_FLOOR: case WASM_OP_F32_TRUNC: case WASM_OP_F32_NEAREST:
    case WASM_OP_F64_CEIL: case WASM_OP_F64_FLOOR: case WASM_OP_F64_TRUNC: case WASM_OP_F64_NEAREST: {
        static const uint8_t mode[4] = {0x0a, 0x09, 0x0b, 0x08}; /* ceil floor trunc nearest */
        bool dbl = in->type == WASM_F64;
        int d = dst_xmm(be, v);
        load_xmm(be, XSCRATCH, in->args[0]);
        x86_round(cb, dbl, d - 16, XSCRATCH, mode[op - (dbl ? WASM_OP_F64_CEIL : WASM_OP_F32_CEIL)]);
        put(be, v, d);
        return;
    }
    case WASM_OP_SELECT: op_select(be, v, in); return;
    case WASM_OP_CALL: op_call(be, v, in); return;
    case WASM_OP_CALL_INDIRECT: op_call_indirect(be, v, in); return;
    case WASM_OP_MEMORY_SIZE: case WASM_OP_MEMORY_GROW: op_memory(be, v, in); return;
    case WASM_OP_MEMORY_FILL: case WASM_OP_MEMORY_COPY: op_bulk(be, v, in); return;
    case WASM_OP_GLOBAL_GET: {
        uint32_t g = (uint32_t)in->imm;
        x86_rm m = global_rm(be, g);
        if (is_xmm_type(in->type)) {
            int d = dst_xmm(be, v);
            x86_movs_load(cb, in->type == WASM_F64, d - 16, m);
            put(be, v, d);
        } else {
            int d = dst_gpr(be, v);
            x86_mov_rr(cb, size_of(in->type), d, m);
            put(be, v, d);
        }
        return;
    }
    case WASM_OP_GLOBAL_SET: {
        ir_ref a = in->args[0];
        uint8_t t = inst(be, a)->type;
        if (is_xmm_type(t)) {
            load_xmm(be, XSCRATCH, a);
            x86_movs_store(cb, t == WASM_F64, global_rm(be, (uint32_t)in->imm), XSCRATCH);
        } else {
            load_gpr(be, RAX, a);
            x86_mov_mr(cb, size_of(t), global_rm(be, (uint32_t)in->imm), RAX);
        }
        return;
    }
    }
    if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_LOAD32_U) {
        op_load(be, v, in);
        return;
    }
    if (op >= WASM_OP_I32_STORE && op <= WASM_OP_I64_STORE32) {
        op_store(be, in);
        return;
    }
    op_convert(be, v, in);
}

/* The jump tables of br_table: each a header entry (the lea's disp32,
 * block UINT32_MAX, its length) then its targets. */
static void emit_jump_tables(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->table_entries.n;) {
        const table_entry *h = &be->table_entries.v[i];
        static const uint8_t pad[4] = {0xcc, 0xcc, 0xcc, 0xcc};
        cb_bytes(cb, pad, -cb->len % 4);
        uint32_t base = cb->len;
        cb_patch32(cb, h->at, base - (h->at + 4)); /* the lea's rip-relative disp32 */
        for (uint32_t k = 0; k < h->base; k++)
            cb_u32(cb, be->label[be->table_entries.v[i + 1 + k].block] - base);
        i += 1 + h->base;
    }
}

/* The float constants, 8-byte aligned, each in the low bytes of 8. */
static void emit_pool(backend *be)
{
    codebuf *cb = be->cb;
    if (!be->pool.n)
        return;
    static const uint8_t pad[8] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
    cb_bytes(cb, pad, -cb->len % 8);
    uint32_t base = cb->len;
    for (uint32_t i = 0; i < be->pool.n; i++)
        cb_u64(cb, be->pool.v[i]);
    for (uint32_t i = 0; i < be->pool_refs.n; i++) {
        uint32_t at = be->pool_refs.v[i].at;
        cb_patch32(cb, at, base + 8 * be->pool_refs.v[i].index - (at + 4));
    }
}

static void emit_stubs(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->stubs.n; i++) {
        trap_stub *s = &be->stubs.v[i];
        x86_bind(cb, s->jump, cb->len);
        if (s->code == WJ_TRAP_STACK_EXHAUSTED)
            x86_mov_rr(cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp: see tier 1's stubs */
        trap_here(be, s->code, s->wasm);
        x86_bind(cb, x86_call_rel(cb), be->out->trap_thunk); /* call thunk */
    }
}

bool emit_function(backend *be)
{
    ir_func *f = be->ir;
    codebuf *cb = be->cb;
    be->label = malloc(f->nblocks * sizeof *be->label);
    be->pool_slot = calloc(f->ninsts, sizeof *be->pool_slot);
    if (!be->label || !be->pool_slot)
        return be_fail(be, "out of memory");
    memset(be->label, 0xff, f->nblocks * sizeof *be->label);
    uint32_t frame_at, jump_at;
    emit_head(cb, &frame_at, &jump_at);
    trap_jump(be, jump_at, WJ_TRAP_STACK_EXHAUSTED, be->env->m->funcs[f->index].body);
    if (be->env->m->nmemories)
        x86_mov_rr(cb, SZ64, R14, M_(R15, VMCTX_MEMORY0_BASE)); /* mov r14, [r15+base0] */
    /* the blocks to emit: trampolines go */
    uint32_t n = 0;
    for (uint32_t i = 0; i < be->norder; i++)
        if (i == 0 || !is_trampoline(be, be->order[i]))
            be->order[n++] = be->order[i];
    be->norder = n;
    for (uint32_t i = 0; i < be->norder; i++) {
        uint32_t b = be->order[i];
        be->label[b] = cb->len;
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next) {
            ir_inst *in = ir_at(f, r);
            if (ir_is_terminator(in->op))
                emit_terminator(be, b, in, i + 1 < be->norder ? be->order[i + 1] : UINT32_MAX);
            else
                emit_inst(be, r, in);
        }
    }
    for (uint32_t i = 0; i < be->fixups.n; i++)
        x86_bind(cb, be->fixups.v[i].at, be->label[be->fixups.v[i].block]);
    emit_lazy_paths(be);
    emit_stubs(be);
    emit_jump_tables(be);
    emit_pool(be);
    uint64_t frame = 8 + 8 * (uint64_t)be->frame_slots + VM_UNIT * (uint64_t)be->max_out;
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > INT32_MAX / 2)
        return be_fail(be, "a frame larger than 1 GiB");
    cb_patch32(cb, frame_at, (uint32_t)frame);
    return !be->why && !cb->oom;
}
