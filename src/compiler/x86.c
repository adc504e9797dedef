#include <stdlib.h>

#include "x86.h"

bool cb_grow(codebuf *cb, uint32_t need)
{
    if (cb->oom)
        return false;
    uint64_t cap = cb->cap ? cb->cap : 4096;
    while (cap < (uint64_t)cb->len + need)
        cap *= 2;
    uint8_t *p = cap <= UINT32_MAX ? realloc(cb->p, cap) : NULL;
    if (!p) {
        cb->oom = true;
        return false;
    }
    cb->p = p;
    cb->cap = (uint32_t)cap;
    return true;
}

void cb_free(codebuf *cb)
{
    free(cb->p);
    *cb = (codebuf){0};
}

/* Byte-sized operands of registers 4-7 need a REX prefix to mean
 * spl/bpl/sil/dil rather than ah/ch/dh/bh. */
static bool byte_rex(int reg, x86_rm rm)
{
    return (reg >= 4 && reg < 8) || (!rm.mem && rm.reg >= 4 && rm.reg < 8);
}

static void enc_sized(codebuf *cb, int size, uint8_t op8, uint8_t op, int reg, x86_rm rm)
{
    if (size == SZ8)
        x86_enc(cb, 0, false, op8, 1, reg, rm, byte_rex(reg, rm));
    else
        x86_enc(cb, size == SZ16 ? 0x66 : 0, size == SZ64, op, 1, reg, rm, false);
}

/* add/or/and/sub/xor/cmp r, r/m: 03 /r (and 0B 23 2B 33 3B) */
void x86_alu_rr(codebuf *cb, int alu, int size, int dst, x86_rm src)
{
    x86_enc(cb, 0, size == SZ64, (uint32_t)(alu << 3 | 3), 1, dst, src, false);
}

/* add/.../cmp r/m, r: 01 /r (and 09 21 29 31 39); 8-bit: 00 /r ... */
void x86_alu_mr(codebuf *cb, int alu, int size, x86_rm dst, int src)
{
    enc_sized(cb, size, (uint8_t)(alu << 3), (uint8_t)(alu << 3 | 1), src, dst);
}

/* add/.../cmp r/m, imm: 83 /d ib or 81 /d id */
void x86_alu_ri(codebuf *cb, int alu, int size, x86_rm dst, int32_t imm)
{
    if (imm >= -128 && imm <= 127) {
        x86_enc(cb, 0, size == SZ64, 0x83, 1, alu, dst, false);
        cb_u8(cb, (uint8_t)imm);
    } else {
        x86_enc(cb, 0, size == SZ64, 0x81, 1, alu, dst, false);
        cb_u32(cb, (uint32_t)imm);
    }
}

/* test r/m, r: 85 /r */
void x86_test_rr(codebuf *cb, int size, x86_rm a, int b)
{
    enc_sized(cb, size, 0x84, 0x85, b, a);
}

/* test r/m8, imm8: F6 /0 ib */
void x86_test_mi8(codebuf *cb, x86_rm a, uint8_t imm)
{
    enc_sized(cb, SZ8, 0xf6, 0xf7, 0, a);
    cb_u8(cb, imm);
}

/* mov r, r/m: 8B /r (8A for bytes) */
void x86_mov_rr(codebuf *cb, int size, int dst, x86_rm src)
{
    enc_sized(cb, size, 0x8a, 0x8b, dst, src);
}

/* mov r/m, r: 89 /r (88 for bytes) */
void x86_mov_mr(codebuf *cb, int size, x86_rm dst, int src)
{
    enc_sized(cb, size, 0x88, 0x89, src, dst);
}

/* mov r/m, imm: C7 /0 id (C6 /0 ib, 66 C7 /0 iw); 64-bit sign-extends */
void x86_mov_mi(codebuf *cb, int size, x86_rm dst, int32_t imm)
{
    enc_sized(cb, size, 0xc6, 0xc7, 0, dst);
    if (size == SZ8)
        cb_u8(cb, (uint8_t)imm);
    else if (size == SZ16) {
        uint16_t v = (uint16_t)imm;
        cb_bytes(cb, &v, 2);
    } else
        cb_u32(cb, (uint32_t)imm);
}

/* mov r32, imm32: B8+r id (zero-extends) | mov r64, simm32: C7 /0 | mov r64, imm64: REX.W B8+r io */
void x86_mov_ri64(codebuf *cb, int dst, uint64_t imm)
{
    if (imm <= UINT32_MAX) {
        if (dst >= 8)
            cb_u8(cb, 0x41);
        cb_u8(cb, (uint8_t)(0xb8 + (dst & 7)));
        cb_u32(cb, (uint32_t)imm);
    } else if ((int64_t)imm >= INT32_MIN && (int64_t)imm <= INT32_MAX) {
        x86_mov_mi(cb, SZ64, R_(dst), (int32_t)imm);
    } else {
        cb_u8(cb, (uint8_t)(0x48 | (dst >> 3)));
        cb_u8(cb, (uint8_t)(0xb8 + (dst & 7)));
        cb_u64(cb, imm);
    }
}

/* movzx r32, r/m8: 0F B6 /r | movzx r32, r/m16: 0F B7 /r */
void x86_movzx(codebuf *cb, int dst, int srcsize, x86_rm src)
{
    x86_enc(cb, 0, false, srcsize == SZ8 ? 0xb60f : 0xb70f, 2, dst, src,
            srcsize == SZ8 && !src.mem && src.reg >= 4 && src.reg < 8);
}

/* movsx r, r/m8: 0F BE /r | movsx r, r/m16: 0F BF /r | movsxd r64, r/m32: REX.W 63 /r */
void x86_movsx(codebuf *cb, int dstsize, int dst, int srcsize, x86_rm src)
{
    bool w = dstsize == SZ64;
    if (srcsize == SZ32)
        x86_enc(cb, 0, true, 0x63, 1, dst, src, false);
    else
        x86_enc(cb, 0, w, srcsize == SZ8 ? 0xbe0f : 0xbf0f, 2, dst, src,
                srcsize == SZ8 && !src.mem && src.reg >= 4 && src.reg < 8);
}

/* lea r, m: 8D /r */
void x86_lea(codebuf *cb, int size, int dst, x86_rm src)
{
    x86_enc(cb, 0, size == SZ64, 0x8d, 1, dst, src, false);
}

/* imul r, r/m: 0F AF /r */
void x86_imul_rr(codebuf *cb, int size, int dst, x86_rm src)
{
    x86_enc(cb, 0, size == SZ64, 0xaf0f, 2, dst, src, false);
}

/* imul r, r/m, imm: 6B /r ib | 69 /r id */
void x86_imul_ri(codebuf *cb, int size, int dst, x86_rm src, int32_t imm)
{
    bool small = imm >= -128 && imm <= 127;
    x86_enc(cb, 0, size == SZ64, small ? 0x6b : 0x69, 1, dst, src, false);
    if (small)
        cb_u8(cb, (uint8_t)imm);
    else
        cb_u32(cb, (uint32_t)imm);
}

/* not/neg/mul/div/idiv r/m: F7 /2 /3 /4 /6 /7 */
void x86_unary(codebuf *cb, int digit, int size, x86_rm rm)
{
    x86_enc(cb, 0, size == SZ64, 0xf7, 1, digit, rm, false);
}

/* rol/ror/shl/shr/sar r/m, cl: D3 /0 /1 /4 /5 /7 */
void x86_shift_cl(codebuf *cb, int digit, int size, x86_rm rm)
{
    x86_enc(cb, 0, size == SZ64, 0xd3, 1, digit, rm, false);
}

/* rol/ror/shl/shr/sar r/m, imm8: C1 /d ib */
void x86_shift_i(codebuf *cb, int digit, int size, x86_rm rm, uint8_t imm)
{
    x86_enc(cb, 0, size == SZ64, 0xc1, 1, digit, rm, false);
    cb_u8(cb, imm);
}

/* bsf 0F BC, bsr 0F BD, popcnt F3 0F B8 (prefix F3), lzcnt F3 0F BD, tzcnt F3 0F BC */
void x86_bitscan(codebuf *cb, uint8_t prefix, uint8_t op, int size, int dst, x86_rm src)
{
    x86_enc(cb, prefix, size == SZ64, 0x0f | (uint32_t)op << 8, 2, dst, src, false);
}

/* setcc r/m8: 0F 90+cc /0 */
void x86_setcc(codebuf *cb, int cc, int dst)
{
    x86_enc(cb, 0, false, 0x0f | (uint32_t)(0x90 + cc) << 8, 2, 0, R_(dst), dst >= 4 && dst < 8);
}

/* cmovcc r, r/m: 0F 40+cc /r */
void x86_cmov(codebuf *cb, int cc, int size, int dst, x86_rm src)
{
    x86_enc(cb, 0, size == SZ64, 0x0f | (uint32_t)(0x40 + cc) << 8, 2, dst, src, false);
}

/* cdq: 99 | cqo: 48 99 */
void x86_cdq(codebuf *cb, int size)
{
    if (size == SZ64)
        cb_u8(cb, 0x48);
    cb_u8(cb, 0x99);
}

/* btc r/m, imm8: 0F BA /7 ib */
void x86_btc_i(codebuf *cb, int size, int reg, uint8_t bit)
{
    x86_enc(cb, 0, size == SZ64, 0xba0f, 2, 7, R_(reg), false);
    cb_u8(cb, bit);
}

/* jcc rel32: 0F 80+cc cd */
uint32_t x86_jcc(codebuf *cb, int cc)
{
    uint8_t b[6] = {0x0f, (uint8_t)(0x80 + cc)};
    cb_bytes(cb, b, 6);
    return cb->len - 4;
}

/* jmp rel32: E9 cd */
uint32_t x86_jmp(codebuf *cb)
{
    uint8_t b[5] = {0xe9};
    cb_bytes(cb, b, 5);
    return cb->len - 4;
}

/* call rel32: E8 cd */
uint32_t x86_call_rel(codebuf *cb)
{
    uint8_t b[5] = {0xe8};
    cb_bytes(cb, b, 5);
    return cb->len - 4;
}

/* call r/m64: FF /2 */
void x86_call_rm(codebuf *cb, x86_rm rm)
{
    x86_enc(cb, 0, false, 0xff, 1, 2, rm, false);
}

/* jmp r/m64: FF /4 */
void x86_jmp_rm(codebuf *cb, x86_rm rm)
{
    x86_enc(cb, 0, false, 0xff, 1, 4, rm, false);
}

/* jcc rel8 (70+cc cb) or rel32 to an earlier position */
void x86_jcc_to(codebuf *cb, int cc, uint32_t target)
{
    int64_t rel8 = (int64_t)target - (cb->len + 2);
    if (rel8 >= -128) {
        uint8_t b[2] = {(uint8_t)(0x70 + cc), (uint8_t)rel8};
        cb_bytes(cb, b, 2);
    } else {
        uint32_t at = x86_jcc(cb, cc);
        x86_bind(cb, at, target);
    }
}

/* jmp rel8 (EB cb) or rel32 to an earlier position */
void x86_jmp_to(codebuf *cb, uint32_t target)
{
    int64_t rel8 = (int64_t)target - (cb->len + 2);
    if (rel8 >= -128) {
        uint8_t b[2] = {0xeb, (uint8_t)rel8};
        cb_bytes(cb, b, 2);
    } else {
        uint32_t at = x86_jmp(cb);
        x86_bind(cb, at, target);
    }
}

/* lea r64, [rip+disp32]: REX.W 8D /r with mod 00 rm 101 */
uint32_t x86_lea_rip(codebuf *cb, int reg)
{
    uint8_t b[7] = {(uint8_t)(0x48 | (reg >> 3 & 1) << 2), 0x8d, (uint8_t)((reg & 7) << 3 | 5)};
    cb_bytes(cb, b, 7);
    return cb->len - 4;
}

void x86_align(codebuf *cb, uint32_t align)
{
    /* the recommended nops of 1 to 8 bytes (nop; 66 nop; nop dword [rax]; ...) */
    static const uint8_t nops[8][8] = {
        {0x90},
        {0x66, 0x90},
        {0x0f, 0x1f, 0x00},
        {0x0f, 0x1f, 0x40, 0x00},
        {0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
        {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    for (uint32_t pad = -cb->len & (align - 1); pad;) {
        uint32_t n = pad < 8 ? pad : 8;
        cb_bytes(cb, nops[n - 1], n);
        pad -= n;
    }
}

/* push r64: 50+r | pop r64: 58+r */
void x86_push(codebuf *cb, int reg)
{
    if (reg >= 8)
        cb_u8(cb, 0x41);
    cb_u8(cb, (uint8_t)(0x50 + (reg & 7)));
}

void x86_pop(codebuf *cb, int reg)
{
    if (reg >= 8)
        cb_u8(cb, 0x41);
    cb_u8(cb, (uint8_t)(0x58 + (reg & 7)));
}

/* ret: C3 */
void x86_ret(codebuf *cb)
{
    cb_u8(cb, 0xc3);
}

/* rep stosq: F3 48 AB */
void x86_rep_stosq(codebuf *cb)
{
    uint8_t b[3] = {0xf3, 0x48, 0xab};
    cb_bytes(cb, b, 3);
}

/* opss x, x/m: F3 0F op /r | opsd x, x/m: F2 0F op /r */
void x86_sse(codebuf *cb, bool dbl, uint8_t op, int dst, x86_rm src)
{
    x86_enc(cb, dbl ? 0xf2 : 0xf3, false, 0x0f | (uint32_t)op << 8, 2, dst, src, false);
}

/* movss/movsd x, x/m: F3/F2 0F 10 /r */
void x86_movs_load(codebuf *cb, bool dbl, int dst, x86_rm src)
{
    x86_sse(cb, dbl, 0x10, dst, src);
}

/* movss/movsd m, x: F3/F2 0F 11 /r */
void x86_movs_store(codebuf *cb, bool dbl, x86_rm dst, int src)
{
    x86_sse(cb, dbl, 0x11, src, dst);
}

/* movaps x, x: 0F 28 /r */
void x86_movaps(codebuf *cb, int dst, int src)
{
    x86_enc(cb, 0, false, 0x280f, 2, dst, R_(src), false);
}

/* ucomiss x, x/m: 0F 2E /r | ucomisd: 66 0F 2E /r */
void x86_ucomis(codebuf *cb, bool dbl, int a, x86_rm b)
{
    x86_enc(cb, dbl ? 0x66 : 0, false, 0x2e0f, 2, a, b, false);
}

/* andps 0F 54 | orps 0F 56 | xorps 0F 57, x, x */
void x86_logic_ps(codebuf *cb, uint8_t op, int dst, int src)
{
    x86_enc(cb, 0, false, 0x0f | (uint32_t)op << 8, 2, dst, R_(src), false);
}

/* movd x, r/m32: 66 0F 6E /r | movq x, r/m64: 66 REX.W 0F 6E /r */
void x86_movd_xr(codebuf *cb, int size, int xmm, x86_rm src)
{
    x86_enc(cb, 0x66, size == SZ64, 0x6e0f, 2, xmm, src, false);
}

/* movd r/m32, x: 66 0F 7E /r | movq r/m64, x: 66 REX.W 0F 7E /r */
void x86_movd_rx(codebuf *cb, int size, x86_rm dst, int xmm)
{
    x86_enc(cb, 0x66, size == SZ64, 0x7e0f, 2, xmm, dst, false);
}

/* cvtsi2ss/cvtsi2sd x, r/m32|64: F3/F2 [REX.W] 0F 2A /r */
void x86_cvtsi2s(codebuf *cb, bool dbl, int size, int dst, x86_rm src)
{
    x86_enc(cb, dbl ? 0xf2 : 0xf3, size == SZ64, 0x2a0f, 2, dst, src, false);
}

/* cvttss2si/cvttsd2si r32|64, x: F3/F2 [REX.W] 0F 2C /r */
void x86_cvtts2si(codebuf *cb, bool dbl, int size, int dst, int src)
{
    x86_enc(cb, dbl ? 0xf2 : 0xf3, size == SZ64, 0x2c0f, 2, dst, R_(src), false);
}

/* roundss x, x, imm8: 66 0F 3A 0A /r ib | roundsd: 66 0F 3A 0B /r ib */
void x86_round(codebuf *cb, bool dbl, int dst, int src, uint8_t mode)
{
    x86_enc(cb, 0x66, false, 0x3a0f | (uint32_t)(dbl ? 0x0b : 0x0a) << 16, 3, dst, R_(src), false);
    cb_u8(cb, mode);
}

static void vec(codebuf *cb, uint8_t prefix, bool w, uint32_t op, int dst, x86_rm src)
{
    if (op > 0xff) /* 0F 38 xx / 0F 3A xx */
        x86_enc(cb, prefix, w, 0x0f | (op >> 8) << 8 | (op & 0xff) << 16, 3, dst, src, false);
    else
        x86_enc(cb, prefix, w, 0x0f | op << 8, 2, dst, src, false);
}

/* [66|F2|F3] 0F op /r  |  [66] 0F 38 op /r  |  66 0F 3A op /r */
void x86_vec(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src)
{
    vec(cb, prefix, false, op, dst, src);
}

/* the same with REX.W */
void x86_vec_w(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src)
{
    vec(cb, prefix, true, op, dst, src);
}

/* the same followed by ib */
void x86_vec_i(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src, uint8_t imm)
{
    vec(cb, prefix, false, op, dst, src);
    cb_u8(cb, imm);
}

void x86_vec_wi(codebuf *cb, uint8_t prefix, uint32_t op, int dst, x86_rm src, uint8_t imm)
{
    vec(cb, prefix, true, op, dst, src);
    cb_u8(cb, imm);
}

/* movdqu x, m128: F3 0F 6F /r */
void x86_movdqu_load(codebuf *cb, int dst, x86_rm src)
{
    vec(cb, 0xf3, false, 0x6f, dst, src);
}

/* movdqu m128, x: F3 0F 7F /r */
void x86_movdqu_store(codebuf *cb, x86_rm dst, int src)
{
    vec(cb, 0xf3, false, 0x7f, src, dst);
}
