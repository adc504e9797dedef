/*
 * A small x86-64 encoder (src/compiler): a growing code buffer and one
 * emitter per instruction form the compiler uses. Each emitter's comment
 * gives the assembly (Intel operand order) and its encoding.
 */
#ifndef WJ_COMPILER_X86_H
#define WJ_COMPILER_X86_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct codebuf {
    uint8_t *p;
    uint32_t len, cap;
    bool oom; /* an allocation failed; len stops growing */
} codebuf;

bool cb_grow(codebuf *cb, uint32_t need);
void cb_free(codebuf *cb);

static inline void cb_bytes(codebuf *cb, const void *b, uint32_t n)
{
    /* nothing to add (padding already aligned) to a buffer that may have none */
    if (n == 0 || (cb->len + n > cb->cap && !cb_grow(cb, n)))
        return;
    memcpy(cb->p + cb->len, b, n);
    cb->len += n;
}
static inline void cb_u8(codebuf *cb, uint8_t b) { cb_bytes(cb, &b, 1); }
static inline void cb_u32(codebuf *cb, uint32_t v) { cb_bytes(cb, &v, 4); }
static inline void cb_u64(codebuf *cb, uint64_t v) { cb_bytes(cb, &v, 8); }
/* Overwrites 4 bytes at `at` (a rel32 or imm32 written earlier). */
static inline void cb_patch32(codebuf *cb, uint32_t at, uint32_t v)
{
    if (!cb->oom)
        memcpy(cb->p + at, &v, 4);
}

/* General-purpose registers in encoding order; xmm registers are numbered
 * 0-15 in their own space. */
enum {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15,
};

/* Condition codes (the low nibble of Jcc / SETcc / CMOVcc). */
enum {
    CC_O = 0, CC_NO = 1, CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7,
    CC_S = 8, CC_NS = 9, CC_P = 10, CC_NP = 11, CC_L = 12, CC_GE = 13, CC_LE = 14, CC_G = 15,
};

/* A register or memory operand: [base + index*(1<<scale) + disp], or
 * [rip + disp32]. Eight bytes, so it is passed by value in one register:
 * passed in two, or on the stack, its fields were stored bytewise by the
 * caller and loaded back by the emitter, which stalled on store
 * forwarding. */
typedef struct x86_rm {
    bool mem : 1;
    bool rip : 1;       /* mem: rip-relative, disp patched later */
    uint8_t scale : 2;  /* mem */
    int8_t reg;         /* !mem */
    int8_t base;        /* mem */
    int8_t index;       /* -1: none */
    int32_t disp;
} x86_rm;
_Static_assert(sizeof(x86_rm) == 8, "x86_rm fits one register");

/* The operands are made from their bits in a register (the x86-64 ABI's
 * layout: bit-fields from the lowest bit of byte 0, then reg, base, index,
 * disp): built field by field, GCC stores the fields to the stack and
 * loads them back as one quadword, a store-forwarding stall per operand. */
static inline x86_rm rm_bits(uint64_t bits)
{
    x86_rm rm;
    memcpy(&rm, &bits, sizeof rm);
    return rm;
}
enum { RM_MEM = 1, RM_RIP = 2 };
static inline x86_rm R_(int reg) { return rm_bits((uint64_t)(uint8_t)reg << 8); }
static inline x86_rm MI_(int base, int index, int scale, int32_t disp)
{
    return rm_bits(RM_MEM | (uint64_t)scale << 2 | (uint64_t)(uint8_t)base << 16 |
                   (uint64_t)(uint8_t)index << 24 | (uint64_t)(uint32_t)disp << 32);
}
static inline x86_rm M_(int base, int32_t disp) { return MI_(base, -1, 0, disp); }
static inline x86_rm RIP_(void)
{
    return rm_bits(RM_MEM | RM_RIP | (uint64_t)0xff << 24); /* index -1: none */
}

/* Instruction sizes. */
enum { SZ8 = 1, SZ16 = 2, SZ32 = 4, SZ64 = 8 };

/* The general form: [prefix] [REX] opcode ModRM [SIB] [disp]. `op` holds 1
 * to 3 opcode bytes, first byte lowest. `rex` forces a REX prefix (byte
 * registers sil/dil/spl/bpl). Returns nothing: an immediate, if any,
 * follows. Always inlined: each emitter's constant prefix, opcode and
 * operand kinds then fold away, and the operand is not passed through
 * memory (a call with this many arguments spills it to the stack). */
static inline __attribute__((always_inline)) void
x86_enc(codebuf *cb, uint8_t prefix, bool w, uint32_t op, int oplen, int reg, x86_rm rm, bool rex)
{
    /* The bytes go straight into the buffer: assembled in a local array
     * and copied, they stall the copy's loads on store forwarding. */
    if (cb->len + 16 > cb->cap && !cb_grow(cb, 16))
        return;
    uint8_t *b = cb->p + cb->len;
    int n = 0;
    if (prefix)
        b[n++] = prefix;
    int x = rm.mem && rm.index >= 0 ? rm.index >> 3 : 0;
    int bb = rm.rip ? 0 : rm.mem ? rm.base >> 3 : rm.reg >> 3;
    uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | (x & 1) << 1 | (bb & 1));
    if (r != 0x40 || rex)
        b[n++] = r;
    for (int i = 0; i < oplen; i++)
        b[n++] = (uint8_t)(op >> (8 * i));
    int rr = reg & 7;
    if (rm.rip) {
        b[n++] = (uint8_t)(rr << 3 | 5); /* mod 00, r/m 101: [rip + disp32] */
        memcpy(b + n, &rm.disp, 4);
        n += 4;
    } else if (!rm.mem) {
        b[n++] = (uint8_t)(0xc0 | rr << 3 | (rm.reg & 7));
    } else {
        int base = rm.base & 7;
        int mod = rm.disp == 0 && base != RBP ? 0 : rm.disp >= -128 && rm.disp <= 127 ? 1 : 2;
        if (rm.index < 0 && base != RSP) {
            b[n++] = (uint8_t)(mod << 6 | rr << 3 | base);
        } else {
            b[n++] = (uint8_t)(mod << 6 | rr << 3 | 4);
            int idx = rm.index < 0 ? 4 : rm.index & 7;
            b[n++] = (uint8_t)(rm.scale << 6 | idx << 3 | base);
        }
        if (mod == 1)
            b[n++] = (uint8_t)rm.disp;
        else if (mod == 2) {
            memcpy(b + n, &rm.disp, 4);
            n += 4;
        }
    }
    cb->len += (uint32_t)n;
}

/* ---- integer ---- */
/* ALU group: ADD=0 OR=1 AND=4 SUB=5 XOR=6 CMP=7 (the /digit of 81 /d). */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
void x86_alu_rr(codebuf *cb, int alu, int size, int dst, x86_rm src); /* op dst, r/m */
void x86_alu_mr(codebuf *cb, int alu, int size, x86_rm dst, int src); /* op r/m, src */
void x86_alu_ri(codebuf *cb, int alu, int size, x86_rm dst, int32_t imm); /* op r/m, imm */
void x86_test_rr(codebuf *cb, int size, x86_rm a, int b);            /* test r/m, r */
void x86_test_mi8(codebuf *cb, x86_rm a, uint8_t imm);               /* test byte r/m, imm8 */
void x86_mov_rr(codebuf *cb, int size, int dst, x86_rm src);         /* mov r, r/m */
void x86_mov_mr(codebuf *cb, int size, x86_rm dst, int src);         /* mov r/m, r */
void x86_mov_mi(codebuf *cb, int size, x86_rm dst, int32_t imm);     /* mov r/m, imm32 */
void x86_mov_ri64(codebuf *cb, int dst, uint64_t imm);               /* mov r, imm (shortest) */
void x86_movzx(codebuf *cb, int dst, int srcsize, x86_rm src);       /* movzx r32, r/m8|16 */
void x86_movsx(codebuf *cb, int dstsize, int dst, int srcsize, x86_rm src); /* movsx / movsxd */
void x86_lea(codebuf *cb, int size, int dst, x86_rm src);            /* lea r, m */
void x86_imul_rr(codebuf *cb, int size, int dst, x86_rm src);        /* imul r, r/m */
void x86_imul_ri(codebuf *cb, int size, int dst, x86_rm src, int32_t imm); /* imul r, r/m, imm */
void x86_unary(codebuf *cb, int digit, int size, x86_rm rm); /* F7 /d: 2 not, 3 neg, 6 div, 7 idiv */
void x86_shift_cl(codebuf *cb, int digit, int size, x86_rm rm); /* D3 /d: 0 rol 1 ror 4 shl 5 shr 7 sar */
void x86_shift_i(codebuf *cb, int digit, int size, x86_rm rm, uint8_t imm); /* C1 /d ib */
void x86_bitscan(codebuf *cb, uint8_t prefix, uint8_t op, int size, int dst, x86_rm src);
void x86_setcc(codebuf *cb, int cc, int dst);                        /* setcc r8 */
void x86_cmov(codebuf *cb, int cc, int size, int dst, x86_rm src);   /* cmovcc r, r/m */
void x86_cdq(codebuf *cb, int size);                                 /* cdq / cqo */
void x86_btc_i(codebuf *cb, int size, int reg, uint8_t bit);         /* btc r, imm8 */

/* ---- control ---- */
uint32_t x86_jcc(codebuf *cb, int cc);    /* jcc rel32; returns the rel32's position */
uint32_t x86_jmp(codebuf *cb);            /* jmp rel32; returns the rel32's position */
uint32_t x86_call_rel(codebuf *cb);       /* call rel32; returns the rel32's position */
void x86_call_rm(codebuf *cb, x86_rm rm); /* call r/m64 */
void x86_jmp_rm(codebuf *cb, x86_rm rm);  /* jmp r/m64 */
void x86_jcc_to(codebuf *cb, int cc, uint32_t target); /* a backward jcc */
void x86_jmp_to(codebuf *cb, uint32_t target);         /* a backward jmp */
/* Makes the rel32 at `at` reach `target`. */
static inline void x86_bind(codebuf *cb, uint32_t at, uint32_t target)
{
    cb_patch32(cb, at, target - (at + 4));
}
/* lea r64, [rip+disp32]; returns the disp32's position */
uint32_t x86_lea_rip(codebuf *cb, int reg);
/* Multi-byte nops up to the next multiple of `align` (a power of two). */
void x86_align(codebuf *cb, uint32_t align);
void x86_push(codebuf *cb, int reg);
void x86_pop(codebuf *cb, int reg);
void x86_ret(codebuf *cb);
void x86_rep_stosq(codebuf *cb);

/* ---- SSE ---- */
/* Scalar ops with a mandatory prefix: F3 (single) / F2 (double) 0F op. */
enum {
    SSE_SQRT = 0x51, SSE_ADD = 0x58, SSE_MUL = 0x59, SSE_SUB = 0x5c, SSE_MIN = 0x5d,
    SSE_DIV = 0x5e, SSE_MAX = 0x5f, SSE_CVT_FF = 0x5a, /* cvtss2sd / cvtsd2ss */
};
void x86_sse(codebuf *cb, bool dbl, uint8_t op, int dst, x86_rm src);   /* opss/opsd x, x/m */
void x86_movs_load(codebuf *cb, bool dbl, int dst, x86_rm src);         /* movss/movsd x, m|x */
void x86_movs_store(codebuf *cb, bool dbl, x86_rm dst, int src);        /* movss/movsd m, x */
void x86_movaps(codebuf *cb, int dst, int src);                         /* movaps x, x */
void x86_ucomis(codebuf *cb, bool dbl, int a, x86_rm b);                /* ucomiss/ucomisd */
void x86_logic_ps(codebuf *cb, uint8_t op, int dst, int src); /* 0F 54 andps, 56 orps, 57 xorps */
void x86_movd_xr(codebuf *cb, int size, int xmm, x86_rm src);   /* movd/movq x, r/m */
void x86_movd_rx(codebuf *cb, int size, x86_rm dst, int xmm);   /* movd/movq r/m, x */
void x86_cvtsi2s(codebuf *cb, bool dbl, int size, int dst, x86_rm src); /* cvtsi2ss/sd x, r/m */
void x86_cvtts2si(codebuf *cb, bool dbl, int size, int dst, int src);   /* cvttss2si/cvttsd2si r, x */
void x86_round(codebuf *cb, bool dbl, int dst, int src, uint8_t mode);  /* roundss/roundsd x, x, imm */

/* ---- packed SSE (v128) ---- */
/* An SSE instruction with a mandatory prefix (0, 66, F2 or F3):
 * prefix [REX] 0F op /r, where `op` is one byte, or 0x38xx / 0x3Axx for the
 * three-byte maps 0F 38 xx and 0F 3A xx. `w` sets REX.W (pextrq, pinsrq). */
void x86_vec(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src);
void x86_vec_w(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src);
/* ... followed by an imm8 (pshufd, pinsrb, shifts by an immediate: 66 0F
 * 71/72/73 /digit ib with dst = the digit). */
void x86_vec_i(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src, uint8_t imm);
void x86_vec_wi(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src, uint8_t imm);
void x86_movdqu_load(codebuf *cb, int dst, x86_rm src);  /* movdqu x, m: F3 0F 6F /r */
void x86_movdqu_store(codebuf *cb, x86_rm dst, int src); /* movdqu m, x: F3 0F 7F /r */

#endif
