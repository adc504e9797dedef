/*
 * Tier 2's metering (build.c places it): tier 1's sequences (compiler/
 * meter.c), so fuel and epochs behave the same in both tiers.
 *
 * A fuel charge is one add to the store's counter, which counts up to
 * zero; a checked one traps (a stub) when it passed zero. An epoch check
 * compares the engine's epoch with the store's deadline and calls the
 * trampoline out of line when it was reached. The trampoline keeps every
 * register but r11 (compiler/trampolines.S), so values stay in their
 * registers across it; only memory 0's base may have moved.
 */
#include "compiler/vmctx.h"
#include "emit.h"
#include "wasmjail.h"

void be_op_fuel(backend *be, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_mov_rr(cb, SZ64, R11, M_(R15, VMCTX_STORE));                       /* mov r11, [r15+store] */
    x86_alu_ri(cb, ALU_ADD, SZ64, M_(R11, VM_STORE_FUEL), (int32_t)in->imm); /* add [r11+fuel], cost */
    if (in->op == IR_FUEL_CHECK)
        be_trap_jump(be, x86_jcc(cb, CC_G), WJ_TRAP_OUT_OF_FUEL, in->wasm); /* jg stub */
}

void be_op_epoch_check(backend *be, ir_inst *in)
{
    codebuf *cb = be->cb;
    x86_mov_rr(cb, SZ64, RAX, M_(R15, VMCTX_EPOCH));                       /* mov rax, [r15+epoch] */
    x86_mov_rr(cb, SZ64, RAX, M_(RAX, 0));                                 /* mov rax, [rax] */
    x86_mov_rr(cb, SZ64, R11, M_(R15, VMCTX_STORE));                       /* mov r11, [r15+store] */
    x86_alu_rr(cb, ALU_CMP, SZ64, RAX, M_(R11, VM_STORE_EPOCH_DEADLINE)); /* cmp rax, [r11+deadline] */
    uint32_t jump = x86_jcc(cb, CC_AE);                                    /* jae slow path */
    if (!VEC_PUSH_OK(be->epoch_paths, {jump, cb->len, in->wasm}))
        be_fail(be, "out of memory");
}

void be_emit_epoch_paths(backend *be)
{
    codebuf *cb = be->cb;
    for (uint32_t i = 0; i < be->epoch_paths.n; i++) {
        const epoch_path *p = &be->epoch_paths.v[i];
        x86_bind(cb, p->jump, cb->len);
        x86_mov_ri64(cb, R11, (uint64_t)(uintptr_t)wj__epoch_trampoline); /* mov r11, trampoline */
        x86_call_rm(cb, R_(R11));                                         /* call r11 */
        be_map_call(be, p->wasm);
        be_reload_membase(be, false); /* the callback may have grown memory 0 */
        x86_jmp_to(cb, p->resume); /* jmp back */
    }
}
