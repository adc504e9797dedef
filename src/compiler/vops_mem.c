/* v128 loads and stores on an effective address (0xFD 0x00-0x0b,
 * 0x54-0x5d): whole vectors, extending, splatting and zeroing loads, and
 * single lanes. The first instruction of each touches memory: the
 * caller's trap site. */
#include "vops_impl.h"

int vop_access_size(uint32_t op)
{
    switch (op) {
    case 0x00: case 0x0b: return 16;
    case 0x07: case 0x54: case 0x58: return 1;
    case 0x08: case 0x55: case 0x59: return 2;
    case 0x09: case 0x56: case 0x5a: case 0x5c: return 4;
    default: return 8; /* 0x01-0x06, 0x0a, 0x57, 0x5b, 0x5d */
    }
}

bool vop_is_store(uint32_t op)
{
    return op == 0x0b || (op >= 0x58 && op <= 0x5b);
}

/* v128.load*_lane: x gets one lane from memory. */
static void load_lane(codebuf *cb, uint32_t op, x86_rm m, int x, uint8_t lane)
{
    switch (op) {
    case 0x54: x86_vec_i(cb, 0x66, 0x3a20, x, m, lane); return;  /* pinsrb x, [m], lane */
    case 0x55: x86_vec_i(cb, 0x66, 0xc4, x, m, lane); return;    /* pinsrw x, [m], lane */
    case 0x56: x86_vec_i(cb, 0x66, 0x3a22, x, m, lane); return;  /* pinsrd x, [m], lane */
    default: x86_vec_wi(cb, 0x66, 0x3a22, x, m, lane); return;   /* pinsrq x, [m], lane */
    }
}

void vop_load(codebuf *cb, uint32_t op, x86_rm m, int x, uint8_t lane)
{
    /* pmovsxbw/pmovzxbw, wd, dq: 66 0F 38 20/30, 23/33, 25/35 */
    static const uint16_t extend[] = {0x3820, 0x3830, 0x3823, 0x3833, 0x3825, 0x3835};
    switch (op) {
    case 0x00: x86_movdqu_load(cb, x, m); return; /* movdqu x, [m] */
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
        x86_vec(cb, 0x66, extend[op - 1], x, m); /* pmov{s,z}x x, qword [m] */
        return;
    case 0x07:                                       /* v128.load8_splat */
        x86_vec_i(cb, 0x66, 0x3a20, x, m, 0);            /* pinsrb x, [m], 0 */
        x86_vec(cb, 0x66, 0xef, XSCRATCH, R_(XSCRATCH)); /* pxor xmm15, xmm15 */
        x86_vec(cb, 0x66, 0x3800, x, R_(XSCRATCH));      /* pshufb x, xmm15 */
        return;
    case 0x08:                                    /* v128.load16_splat */
        x86_vec_i(cb, 0x66, 0xc4, x, m, 0);           /* pinsrw x, [m], 0 */
        x86_vec_i(cb, 0xf2, 0x70, x, R_(x), 0);       /* pshuflw x, x, 0 */
        x86_vec(cb, 0x66, 0x6c, x, R_(x));            /* punpcklqdq x, x */
        return;
    case 0x09:                                    /* v128.load32_splat */
        x86_vec(cb, 0x66, 0x6e, x, m);                /* movd x, [m] */
        x86_vec_i(cb, 0x66, 0x70, x, R_(x), 0);       /* pshufd x, x, 0 */
        return;
    case 0x0a: x86_vec(cb, 0xf2, 0x12, x, m); return; /* movddup x, qword [m] */
    case 0x5c: x86_vec(cb, 0x66, 0x6e, x, m); return; /* movd x, [m] */
    case 0x5d: x86_vec(cb, 0xf3, 0x7e, x, m); return; /* movq x, [m] */
    default: load_lane(cb, op, m, x, lane); return;   /* 0x54-0x57 */
    }
}

void vop_store(codebuf *cb, uint32_t op, x86_rm m, int x, uint8_t lane)
{
    switch (op) {
    case 0x0b: x86_movdqu_store(cb, m, x); return;                /* movdqu [m], x */
    case 0x58: x86_vec_i(cb, 0x66, 0x3a14, x, m, lane); return;  /* pextrb [m], x, lane */
    case 0x59: x86_vec_i(cb, 0x66, 0x3a15, x, m, lane); return;  /* pextrw [m], x, lane */
    case 0x5a: x86_vec_i(cb, 0x66, 0x3a16, x, m, lane); return;  /* pextrd [m], x, lane */
    default: x86_vec_wi(cb, 0x66, 0x3a16, x, m, lane); return;   /* pextrq [m], x, lane */
    }
}
