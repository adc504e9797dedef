/* Tier 2's v128 instructions (emit.h): constants, memory accesses, and the
 * operations, whose instruction sequences are tier 1's (compiler/vops.h).
 * One-instruction operations read their second operand in place. Other
 * sequences take operands they may clobber, so each goes to a fixed
 * register first: the first to the result's register when both are xmm
 * (x86 is two-address), others to xmm12 and xmm13 (values never take them
 * in a function with such operations: regalloc.c), a GPR operand to rdx;
 * the temporaries are xmm14 and rcx (be_temps). */
#include <string.h>

#include "emit.h"
#include "wasmjail.h"

#define VTEMP 14 /* xmm14: vop_regs.t, or the result when it has no register */
#define VGPR RDX /* a GPR operand */
#define VG RCX   /* vop_regs.g */

bool be_is_vector_op(uint16_t op)
{
    uint8_t prefix;
    uint32_t opcode;
    return op >> 8 == 0xfd && op != WASM_OP_V128_CONST && !ir_is_vector_access(op) &&
           !vop_binary_insn(op & 0xff, &prefix, &opcode);
}

/* Shift counts: a constant one is an immediate. */
static bool is_shift(uint16_t op)
{
    unsigned k = (op & 0xff) - 0x60;
    return op >> 8 == 0xfd && (op & 0xff) >= 0x60 && (op & 0xff) <= 0xdf &&
           (k & 0x1f) >= 0x0b && (k & 0x1f) <= 0x0d;
}

static bool count_is_const(backend *be, const ir_inst *in)
{
    return is_shift(in->op) && is_const(be, in->args[1]);
}

unsigned be_vector_temps(backend *be, const ir_inst *in)
{
    const wasm_opinfo *info = wasm_op_info(in->op);
    unsigned temps = 0;
    for (uint32_t i = 0; i < info->nin; i++)
        if (!is_xmm_type(info->in[i]) && !(i == 1 && count_is_const(be, in)))
            temps |= 1u << VGPR;
    if (!is_xmm_type(in->type) || (vop_needs(in->op & 0xff, count_is_const(be, in)) & VOP_NEEDS_GPR))
        temps |= 1u << VG;
    return temps;
}

static void vector_const(backend *be, ir_ref v, ir_inst *in)
{
    v128 value = {{0}};
    if (in->imm)
        memcpy(value.b, be->env->m->bytes + in->imm, 16);
    int d = be_dst_xmm(be, v);
    vpool_load(&be->pool, be->cb, d - 16, vpool_index(&be->pool, value)); /* movdqa d, [c] */
    be_put(be, v, d);
}

/* Loads (load*_lane: into its vector operand's copy) and stores; the
 * first instruction the sequence emits is the access (vops.h). */
static void vector_access(backend *be, ir_ref v, ir_inst *in)
{
    uint32_t op = in->op & 0xff;
    if (vop_is_store(op)) {
        ir_ref val = in->args[1];
        int x = be->reg[val] != NO_REG ? be->reg[val] - 16 : VTEMP;
        be_load_xmm(be, x, val);
        x86_rm m = be_heap_operand(be, in);
        be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
        vop_store(be->cb, op, m, x, ir_lane(in));
        return;
    }
    x86_rm m = be_heap_operand(be, in); /* GPRs only: the vector stays */
    int d = be_dst_xmm(be, v);
    if (in->nargs == 2)
        be_load_xmm(be, d - 16, in->args[1]);
    be_trap_here(be, WJ_TRAP_MEMORY_OUT_OF_BOUNDS, in->wasm);
    vop_load(be->cb, op, m, d - 16, ir_lane(in));
    be_put(be, v, d);
}

void be_op_vector(backend *be, ir_ref v, ir_inst *in)
{
    if (in->op == WASM_OP_V128_CONST) {
        vector_const(be, v, in);
        return;
    }
    if (ir_is_vector_access(in->op)) {
        vector_access(be, v, in);
        return;
    }
    codebuf *cb = be->cb;
    uint32_t op = in->op & 0xff;
    uint8_t prefix;
    uint32_t opcode;
    if (vop_binary_insn(op, &prefix, &opcode)) {
        /* op d, b with b read in place, or from xmm15 */
        ir_ref a = in->args[0], b = in->args[1];
        int d = be_dst_xmm(be, v);
        int xb = be->reg[b] != NO_REG && (be->reg[b] != d || a == b) ? be->reg[b] - 16 : XSCRATCH;
        be_load_xmm(be, xb, b); /* unless in place */
        be_load_xmm(be, d - 16, a);
        x86_vec(cb, prefix, opcode, d - 16, R_(xb)); /* op d, b */
        be_put(be, v, d);
        return;
    }
    const wasm_opinfo *info = wasm_op_info(in->op);
    bool xmm_result = is_xmm_type(in->type);
    /* where the result is computed: its register, else a free xmm (xmm13
     * is free when there is no third operand, xmm14 when there is: then
     * no temporary is needed) */
    int d = xmm_result ? be->reg[v] != NO_REG ? be->reg[v] : XREG(info->nin == 3 ? VTEMP : 13)
                       : be_dst_gpr(be, v);
    vop_regs r = {.a = -1, .b = -1, .c = -1, .t = -1, .g = -1};
    int *place[3] = {&r.a, &r.b, &r.c};
    /* the operands but a first one bound for d, then that one: d may be
     * another operand's register */
    for (uint32_t k = 1; k <= info->nin; k++) {
        uint32_t i = k % info->nin; /* 1, 2, ..., 0 */
        ir_ref a = in->args[i];
        if (i == 1 && count_is_const(be, in)) {
            r.b_const = true;
            r.b_imm = inst(be, a)->imm;
            continue;
        }
        if (!is_xmm_type(info->in[i])) {
            be_load_gpr(be, VGPR, a);
            *place[i] = VGPR;
            continue;
        }
        int x = i == 0 && xmm_result ? d - 16 : i == 2 ? 13 : 12;
        be_load_xmm(be, x, a);
        *place[i] = x;
    }
    unsigned needs = vop_needs(op, r.b_const);
    if (needs & VOP_NEEDS_XMM)
        r.t = VTEMP;
    if ((needs & VOP_NEEDS_GPR) || !xmm_result) /* a GPR result comes in g */
        r.g = VG;
    const uint8_t *shuffle = in->op == WASM_OP_I8X16_SHUFFLE ? be->env->m->bytes + in->imm : NULL;
    int where = vop_emit(cb, &be->pool, op, (uint8_t)in->imm, shuffle, &r);
    if (VOP_IS_FLAGS(where)) {
        x86_setcc(cb, VOP_CC(where), d);      /* setcc d8 */
        x86_movzx(cb, d, SZ8, R_(d));         /* movzx d, d8 */
    } else if (xmm_result && where != d - 16) {
        x86_movaps(cb, d - 16, where);        /* movaps d, result */
    } else if (!xmm_result && where != d) {
        x86_mov_rr(cb, size_of(in->type), d, R_(where)); /* mov d, result */
    }
    be_put(be, v, d);
}
