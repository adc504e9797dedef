/* The instruction table, from opcodes.def. */
#include "module.h"
#include "opcodes.h"

#define IMM(kind) WASM_IMM_##kind, 0, 0
#define MEM(align) WASM_IMM_MEMARG, align, 0
#define LANE(lanes) WASM_IMM_LANE, 0, lanes
#define MEMLANE(align, lanes) WASM_IMM_MEMARG_LANE, align, lanes

#define I32 WASM_I32
#define I64 WASM_I64
#define F32 WASM_F32
#define F64 WASM_F64
#define V128 WASM_V128
#define ADDR WASM_ADDR
#define NONE WASM_ANY

#define S0(out) 0, {0, 0, 0}, out
#define S1(a, out) 1, {a, 0, 0}, out
#define S2(a, b, out) 2, {a, b, 0}, out
#define S3(a, b, c, out) 3, {a, b, c}, out
#define CUSTOM WASM_CUSTOM_SIG, {0, 0, 0}, WASM_ANY

const wasm_opinfo wasm_opinfos[WASM_OP_SLOTS] = {
#define X(name, code, text, imm, sig) [WASM_OP_SLOT(code)] = {text, imm, sig},
#include "opcodes.def"
#undef X
};
