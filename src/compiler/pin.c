/*
 * Pinned locals: the most used locals of a function live in registers for
 * the whole function instead of in their frame slots. A pre-pass over the
 * body weighs each local.get/set/tee by its loop depth and pins the heaviest
 * locals of each class. Their registers leave the allocator's pool, so they
 * hold the same local at every point of the function and control-flow merges
 * need no shuffling. Every register is caller-saved in our calling
 * convention, so calls store written pinned locals to their home slots
 * first and reload all of them afterwards.
 */
#include <string.h>

#include "func.h"
#include "wasm/opcodes.h"

/* GPRs that no instruction needs for itself (rax, rcx and rdx serve
 * division and shifts and stay in the pool, with r9 and r10), and xmm5-14:
 * SIMD kernels keep a dozen vectors in locals, while the operand stack
 * rarely needs more than the five left (xmm0-4; an instruction holds at
 * most three operands and two temporaries). Pins are taken heaviest first
 * and only for locals used more than once, so functions with few such
 * locals leave the rest to the stack. */
static const uint8_t gpr_pins[] = {RBX, R12, R13, RSI, RDI, R8};
static const uint8_t xmm_pins[] = {XMM(14), XMM(13), XMM(12), XMM(11), XMM(10),
                                   XMM(9),  XMM(8),  XMM(7),  XMM(6),  XMM(5)};

/* A use inside k nested loops weighs 4^k: inner loops dominate. */
static uint64_t use_weight(uint32_t loops)
{
    return (uint64_t)1 << (2 * (loops < 12 ? loops : 12));
}

/* Weighs every local's uses; marks the written ones. False on bad bytes
 * (not expected: the body was validated). The cursor stays in a register
 * and the reader is synced only around an instruction with immediates
 * other than a one-byte local index: kept in the reader, whose address the
 * decoder takes, each step stored the cursor and loaded it back. */
static bool weigh(const fn *f, uint64_t *weight, bool *written)
{
    const wasm_func *func = &f->m->funcs[f->index];
    /* Reader errors are not reported from here; only kind is read before
     * a failure writes the rest (zeroing all of it costs more than small
     * bodies' reading). */
    wasm_error rerr;
    rerr.kind = WASM_ERR_NONE;
    wasm_reader r = {.base = f->m->bytes, .end = f->m->bytes + func->body_end, .err = &rerr};
    const uint8_t *p = f->m->bytes + func->body, *end = r.end;
    size_t nlocals = nlocals_all(f);
    /* One bit per open block: 1 for a loop. Deeper blocks than 64 count as
     * non-loops, which only makes the weights less precise. */
    uint64_t loop_bits = 0;
    uint32_t depth = 0, loops = 0;
    while (p < end) {
        uint8_t op = *p++;
        if (op >= WASM_OP_LOCAL_GET && op <= WASM_OP_LOCAL_TEE && p < end && *p < 0x80) {
            uint32_t local = *p++;
            if (local >= nlocals)
                return false;
            weight[local] += use_weight(loops);
            written[local] |= op != WASM_OP_LOCAL_GET;
            continue;
        }
        if (wasm_opinfos[op].imm == WASM_IMM_NONE) {
            if (op == WASM_OP_END && depth > 0 && --depth < 64) {
                loops -= (uint32_t)(loop_bits & 1);
                loop_bits >>= 1;
            }
            continue;
        }
        wasm_instr ins;
        r.p = p;
        if (!wasm_decode_immediates(&r, op, f->m->features, &ins))
            return false;
        p = r.p;
        switch (op) {
        case WASM_OP_LOCAL_GET:
        case WASM_OP_LOCAL_SET:
        case WASM_OP_LOCAL_TEE:
            if (ins.index >= nlocals)
                return false;
            weight[ins.index] += use_weight(loops);
            written[ins.index] |= op != WASM_OP_LOCAL_GET;
            break;
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF: {
            bool loop = op == WASM_OP_LOOP;
            if (depth < 64)
                loop_bits = loop_bits << 1 | loop;
            depth++;
            loops += loop;
            break;
        }
        }
    }
    return true;
}

/* Pins the heaviest locals of one class to the registers in `regs`. */
static void choose(fn *f, const uint64_t *weight, const bool *written, bool xmm,
                   const uint8_t *regs, uint32_t nregs)
{
    size_t n = nlocals_all(f);
    for (uint32_t k = 0; k < nregs; k++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++)
            if (f->local_reg[i] < 0 && in_xmm(f->local_types[i]) == xmm &&
                (best == UINT32_MAX || weight[i] > weight[best]))
                best = i;
        /* A local used once outside loops gains nothing from a register. */
        if (best == UINT32_MAX || weight[best] < 2)
            return;
        f->local_reg[best] = (int8_t)regs[k];
        f->used |= 1u << regs[k];
        f->pins[f->npins++] = (pin){best, regs[k], written[best]};
    }
}

void pin_locals(fn *f)
{
    /* The arrays have room for n + 1 entries (setup_locals). */
    size_t n = nlocals_all(f);
    uint64_t *weight = f->pin_weight;
    bool *written = f->pin_written;
    memset(f->local_reg, -1, n);
    memset(weight, 0, (n + 1) * sizeof *weight);
    memset(written, 0, (n + 1) * sizeof *written);
    /* Unreadable bytes leave every local in memory; the body's own
     * compilation reports them. */
    if (weigh(f, weight, written)) {
        choose(f, weight, written, false, gpr_pins, sizeof gpr_pins);
        choose(f, weight, written, true, xmm_pins, sizeof xmm_pins);
    }
}

static void pin_load(fn *f, const pin *p)
{
    reg_load(f, f->local_types[p->local], p->reg, local_home(f, p->local)); /* mov r, [home] */
}

void pins_enter(fn *f)
{
    for (uint32_t k = 0; k < f->npins; k++) {
        const pin *p = &f->pins[k];
        if (p->local < f->nparams)
            pin_load(f, p);
        else if (IS_XMM(p->reg))
            x86_logic_ps(f->cb, 0x57, p->reg - 16, p->reg - 16); /* xorps x, x */
        else
            x86_alu_mr(f->cb, ALU_XOR, SZ32, R_(p->reg), p->reg); /* xor r, r */
    }
}

void pins_save(fn *f)
{
    for (uint32_t k = 0; k < f->npins; k++) {
        const pin *p = &f->pins[k];
        if (!p->written) /* the home still holds the value */
            continue;
        reg_store(f, f->local_types[p->local], local_home(f, p->local), p->reg); /* mov [home], r */
    }
}

void pins_reload(fn *f)
{
    for (uint32_t k = 0; k < f->npins; k++)
        pin_load(f, &f->pins[k]);
}
