/*
 * Pinned locals: the most used locals of a function live in registers for
 * the whole function instead of in their frame slots. A pre-pass over the
 * body weighs each local.get/set/tee by its loop depth and pins the heaviest
 * locals of each class. Their registers leave the allocator's pool, so they
 * hold the same local at every point of the function and control-flow merges
 * need no shuffling. Every register is caller-saved in our calling
 * convention, so calls store written pinned locals to their home slots
 * first and reload all of them afterwards.
 *
 * The same pass finds the declared locals that a read may reach before any
 * write (LOCAL_READ_UNSET): only those start zeroed (func.c). Compiled C
 * sets nearly every local before reading it, so most prologues zero
 * nothing.
 */
#include <string.h>

#include "func.h"
#include "wasm/opcodes.h"

/* GPRs that no instruction needs for itself (rax, rcx and rdx serve
 * division and shifts and always stay in the pool; r9 and r10 do unless
 * gpr_extra_pins takes them), and xmm5-14:
 * SIMD kernels keep a dozen vectors in locals, while the operand stack
 * rarely needs more than the five left (xmm0-4; an instruction holds at
 * most three operands and two temporaries). Pins are taken heaviest first
 * and only for locals used more than once, so functions with few such
 * locals leave the rest to the stack. */
static const uint8_t gpr_pins[] = {RBX, R12, R13, RSI, RDI, R8};
/* Two more, from the operand stack's pool, for functions whose loops use
 * more locals than that (an integer DP kernel reloaded its bounds and
 * bases from the frame each step): the pool keeps rax, rcx and rdx, all
 * that division needs at once (rax, rdx and the divisor), and no
 * instruction holds more GPRs than three. */
static const uint8_t gpr_extra_pins[] = {R9, R10};
static const uint8_t xmm_pins[] = {XMM(14), XMM(13), XMM(12), XMM(11), XMM(10),
                                   XMM(9),  XMM(8),  XMM(7),  XMM(6),  XMM(5)};
_Static_assert(sizeof gpr_pins + sizeof gpr_extra_pins + sizeof xmm_pins <= MAX_PINS,
               "fn.pins has room for every pin");

/* A use inside k nested loops weighs 4^k: inner loops dominate. */
static uint64_t use_weight(uint32_t loops)
{
    return (uint64_t)1 << (2 * (loops < 12 ? loops : 12));
}

/* One local.get/set/tee, whose use weighs `w`. The definite-assignment
 * scan (that of the function-references proposal for non-defaultable
 * locals): a set makes the local assigned for the rest of its block, and
 * a read of a local not assigned there may see its initial zero. A local
 * is in the log of assignments (nlog entries; returns the new count) once
 * at most. The arrays come in registers: the flags' byte stores may alias
 * anything, so each access through f reloaded them. */
static inline uint32_t access(uint64_t *weight, uint8_t *flags, uint32_t *log, uint32_t nlog,
                              uint8_t op, uint32_t local, uint64_t w)
{
    weight[local] += w;
    uint8_t was = flags[local];
    if (op == WASM_OP_LOCAL_GET) {
        flags[local] = was | (uint8_t)((~was & LOCAL_ASSIGNED) << 1); /* READ_UNSET */
        return nlog;
    }
    flags[local] = was | LOCAL_WRITTEN | LOCAL_ASSIGNED;
    if (!(was & LOCAL_ASSIGNED))
        log[nlog++] = local;
    return nlog;
}

/* One pass over the body: weighs every local's uses, marks the written
 * ones, and scans for definite assignment (access). False on bad bytes
 * (not expected: the body was validated) or out of memory. The cursor
 * stays in a register and the reader is synced only around an instruction
 * with immediates other than a one-byte local index: kept in the reader,
 * whose address the decoder takes, each step stored the cursor and loaded
 * it back. Code after br, return or unreachable is scanned like the rest:
 * a read there may only mark a local that needs no zeroing. *call_weight
 * weighs the calls (and libcalls), which save and reload the pins. */
static bool weigh(fn *f, uint64_t *call_weight)
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
    uint64_t *weight = f->pin_weight;
    uint8_t *flags = f->local_flags;
    uint32_t *log = f->assign_log;
    /* Per open block: the assignment log's length at its start, shifted
     * left once, with bit 0 set for a loop. */
    f->block_marks.n = 0;
    uint32_t nlog = 0, loops = 0;
    uint64_t w = use_weight(0);
    while (p < end) {
        uint8_t op = *p++;
        if (op >= WASM_OP_LOCAL_GET && op <= WASM_OP_LOCAL_TEE && p < end && *p < 0x80) {
            uint32_t local = *p++;
            if (local >= nlocals)
                return false;
            nlog = access(weight, flags, log, nlog, op, local, w);
            continue;
        }
        if (wasm_opinfos[op].imm == WASM_IMM_NONE) {
            if ((op == WASM_OP_END || op == WASM_OP_ELSE) && f->block_marks.n) {
                /* the locals assigned inside the block (or the then arm)
                 * are assigned no more */
                uint32_t mark = f->block_marks.v[f->block_marks.n - 1];
                while (nlog > mark >> 1)
                    flags[log[--nlog]] &= (uint8_t)~LOCAL_ASSIGNED;
                if (op == WASM_OP_END) {
                    f->block_marks.n--;
                    if (mark & 1)
                        w = use_weight(--loops);
                }
            }
            continue;
        }
        wasm_instr ins;
        r.p = p;
        if (!wasm_decode_immediates(&r, op, f->m->features, &ins))
            return false;
        p = r.p;
        switch (ins.op) {
        case WASM_OP_LOCAL_GET:
        case WASM_OP_LOCAL_SET:
        case WASM_OP_LOCAL_TEE:
            if (ins.index >= nlocals)
                return false;
            nlog = access(weight, flags, log, nlog, op, ins.index, w);
            break;
        case WASM_OP_BLOCK:
        case WASM_OP_LOOP:
        case WASM_OP_IF: {
            bool loop = op == WASM_OP_LOOP;
            if (!VEC_PUSH(f, f->block_marks, nlog << 1 | loop))
                return false;
            if (loop)
                w = use_weight(++loops);
            break;
        }
        case WASM_OP_CALL:
        case WASM_OP_CALL_INDIRECT:
        case WASM_OP_MEMORY_GROW:
        case WASM_OP_MEMORY_INIT ... WASM_OP_TABLE_FILL:
            *call_weight += w;
            break;
        }
    }
    return true;
}

/* Pins the heaviest locals of one class to the registers in `regs`, as
 * long as they weigh at least `min`; returns how many. */
static uint32_t choose(fn *f, bool xmm, const uint8_t *regs, uint32_t nregs, uint64_t min)
{
    const uint64_t *weight = f->pin_weight;
    size_t n = nlocals_all(f);
    for (uint32_t k = 0; k < nregs; k++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++)
            if (f->local_reg[i] < 0 && in_xmm(f->local_types[i]) == xmm &&
                (best == UINT32_MAX || weight[i] > weight[best]))
                best = i;
        if (best == UINT32_MAX || weight[best] < min)
            return k;
        f->local_reg[best] = (int8_t)regs[k];
        f->used |= 1u << regs[k];
        f->pins[f->npins++] = (pin){best, regs[k], f->local_flags[best] & LOCAL_WRITTEN};
    }
    return nregs;
}

void pin_locals(fn *f)
{
    /* The arrays have room for n + 1 entries (setup_locals). */
    size_t n = nlocals_all(f);
    memset(f->local_reg, -1, n);
    memset(f->pin_weight, 0, (n + 1) * sizeof *f->pin_weight);
    /* Parameters are assigned from the start, and never in the log. */
    memset(f->local_flags, LOCAL_ASSIGNED, f->nparams);
    memset(f->local_flags + f->nparams, 0, n + 1 - f->nparams);
    /* Unreadable bytes leave every local in memory, zeroed; the body's
     * own compilation reports them. */
    uint64_t call_weight = 0;
    if (!weigh(f, &call_weight)) {
        memset(f->local_flags, LOCAL_WRITTEN | LOCAL_READ_UNSET, n);
        return;
    }
    /* A local used once outside loops gains nothing from a register. */
    if (choose(f, false, gpr_pins, sizeof gpr_pins, 2) == sizeof gpr_pins)
        /* The extra pins go to locals that outweigh the calls twice (a
         * call stores and reloads each pin, a use in a register saves
         * about one access) by 4 uses in a loop. */
        choose(f, false, gpr_extra_pins, sizeof gpr_extra_pins, 2 * call_weight + 16);
    choose(f, true, xmm_pins, sizeof xmm_pins, 2);
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
        else if (!(f->local_flags[p->local] & LOCAL_READ_UNSET))
            continue; /* garbage until its first set */
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
