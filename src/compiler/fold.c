/*
 * Loads folded into the operator that consumes them: a full-width load of
 * memory 0 (i32/i64/f32/f64.load) followed by a binary operator taking its
 * value as the right operand becomes one instruction with a memory operand,
 *     mulsd xmm0, qword [r14+rbx]     add eax, dword [r14+rcx+8]
 * instead of a load into a register and a register operation.
 *
 * The folded instruction is the load's faulting access: its trap site and
 * address-map entry carry the load's wasm offset, and any explicit bounds
 * check (dynamic memories, memory64) comes before it. The operator still
 * counts as an instruction for fuel. Other memories are not folded: their
 * base is in r11, which spilling the left operand may clobber.
 */
#include "func.h"
#include "wasmjail.h"

enum { F_NONE, F_ALU, F_MUL, F_CMP, F_SSE, F_UCOMI };

typedef struct fold {
    uint8_t kind; /* F_* */
    uint8_t how;  /* F_ALU: ALU_*; F_CMP: CC_*; F_SSE: SSE_*; F_UCOMI: its k (eq ne _ gt _ ge) */
} fold;

/* What the operator `op` becomes with a right operand of `type` from memory. */
static fold fold_of(uint8_t type, unsigned op)
{
    static const uint8_t alu[] = {ALU_AND, ALU_OR, ALU_XOR};
    static const uint8_t sse[] = {SSE_ADD, SSE_SUB, SSE_MUL, SSE_DIV};
    unsigned cmp = type == WASM_I32 ? 0x46 : 0x51;   /* eq .. ge_u */
    unsigned arith = type == WASM_I32 ? 0x6a : 0x7c; /* add sub mul */
    unsigned fcmp = type == WASM_F32 ? 0x5b : 0x61;  /* eq ne lt gt le ge */
    unsigned farith = type == WASM_F32 ? 0x92 : 0xa0; /* add sub mul div */
    if (!is_float(type)) {
        if (op >= cmp && op < cmp + 10)
            return (fold){F_CMP, int_compare_cc[op - cmp]};
        if (op == arith || op == arith + 1)
            return (fold){F_ALU, op == arith ? ALU_ADD : ALU_SUB};
        if (op == arith + 2)
            return (fold){F_MUL, 0};
        if (op >= arith + 7 && op <= arith + 9) /* and or xor */
            return (fold){F_ALU, alu[op - arith - 7]};
        return (fold){F_NONE, 0};
    }
    /* lt and le take their left operand as ucomis's right one: not folded */
    if (op >= fcmp && op < fcmp + 6 && op != fcmp + 2 && op != fcmp + 4)
        return (fold){F_UCOMI, (uint8_t)(op - fcmp)};
    if (op >= farith && op < farith + 4)
        return (fold){F_SSE, sse[op - farith]};
    return (fold){F_NONE, 0};
}

bool fold_load(fn *f, uint8_t type, uint32_t mem, uint64_t offset)
{
    wasm_instr next;
    /* the left operand is below the address */
    if (mem != 0 || f->height < 2 || top(f, 1)->type != type || !peek_instr(f, &next))
        return false;
    fold k = fold_of(type, next.op);
    if (k.kind == F_NONE)
        return false;
    uint32_t pos = f->pos; /* the load's, its access's trap site's */
    take_instr(f, &next);
    f->pos = pos;
    codebuf *cb = f->cb;
    bool dbl = type == WASM_F64;
    int size = type_size(type);
    int idx;
    x86_rm m = heap_address(f, mem, offset, size, &idx);
    /* A register serving as the index stays. x = x op load updates a
     * pinned x in place (pop_dest), unless the index is a cache register,
     * which pop_dest's copies of older reads of x might reclaim. */
    uint32_t avoid = m.index >= 0 ? 1u << m.index : 0;
    bool result = k.kind != F_CMP && k.kind != F_UCOMI;
    int a = result && (idx >= 0 || !(f->cached & avoid)) ? pop_dest(f, avoid) : pop_reg(f, avoid);
    f->pos = pos;
    trap_site(f, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    switch (k.kind) {
    case F_ALU: x86_alu_rr(cb, k.how, size, a, m); break;   /* op a, [m] */
    case F_MUL: x86_imul_rr(cb, size, a, m); break;         /* imul a, [m] */
    case F_CMP: x86_alu_rr(cb, ALU_CMP, size, a, m); break; /* cmp a, [m] */
    case F_SSE: x86_sse(cb, dbl, k.how, a - 16, m); break;  /* opsd a, [m] */
    default: x86_ucomis(cb, dbl, a - 16, m); break;         /* ucomisd a, [m] */
    }
    if (idx >= 0)
        reg_free(f, idx);
    if (result) {
        push_dest(f, type, a);
        return true;
    }
    reg_free(f, a);
    if (k.kind == F_CMP)
        push_flags(f, k.how);
    else
        float_compare_result(f, k.how);
    return true;
}
