/*
 * Metering for runaway guests, emitted only when the engine asks for it.
 *
 * Fuel is charged per run: the straight-line instructions between two
 * points where control may enter or leave (labels with incoming jumps,
 * calls, conditional branches). A run starts with
 *     mov r11, [r15+store]
 *     add qword [r11+fuel], imm32
 * whose imm32 is patched with the run's cost once the run ends, so the
 * hot path is one memory add per run. Runs at function entries and loop
 * headers also check the tank (jg to a trap stub): every path that runs
 * long passes one of them. Elsewhere the add waits for the run's first
 * instruction that costs something, so empty runs (a label just before a
 * loop or another label) emit nothing, and no flags are live where it goes.
 *
 * An epoch check at function entries and loop headers compares the
 * engine's epoch with the store's deadline and calls the out-of-line slow
 * path when it was reached.
 */
#include "func.h"
#include "vmctx.h"
#include "wasmjail.h"

static void fuel_emit(fn *f, bool check)
{
    codebuf *cb = f->cb;
    x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, VMCTX_STORE)); /* mov r11, [r15+store] */
    x86_enc(cb, 0, true, 0x81, 1, ALU_ADD, M_(SCRATCH, VM_STORE_FUEL), false);
    f->fuel_imm = cb->len; /* add qword [r11+fuel], imm32 (patched) */
    cb_u32(cb, 0);
    if (check)
        trap_if(f, CC_G, WJ_TRAP_OUT_OF_FUEL); /* jg stub */
    f->fuel_pending = false;
}

/* Ends the current run: its add gets the run's cost. */
static void fuel_close(fn *f)
{
    if (f->fuel_imm)
        cb_patch32(f->cb, f->fuel_imm, f->fuel_cost);
    f->fuel_imm = 0;
    f->fuel_cost = 0;
    f->fuel_pending = false;
}

void meter_count_fuel(fn *f, unsigned op)
{
    uint32_t cost = meter_op_cost(op);
    if (cost && f->fuel_pending)
        fuel_emit(f, false);
    f->fuel_cost += cost;
}

void meter_run(fn *f)
{
    if (!f->fuel_checks)
        return;
    fuel_close(f);
    f->fuel_pending = true;
}

void meter_check(fn *f)
{
    codebuf *cb = f->cb;
    if (f->fuel_checks) {
        fuel_close(f);
        fuel_emit(f, true);
    }
    if (!f->epoch_checks)
        return;
    x86_mov_rr(cb, SZ64, RAX, M_(VMCTX, VMCTX_EPOCH)); /* mov rax, [r15+epoch] */
    x86_mov_rr(cb, SZ64, RAX, M_(RAX, 0));             /* mov rax, [rax] */
    if (!f->fuel_checks) /* else r11 still holds it */
        x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, VMCTX_STORE)); /* mov r11, [r15+store] */
    x86_alu_rr(cb, ALU_CMP, SZ64, RAX, M_(SCRATCH, VM_STORE_EPOCH_DEADLINE)); /* cmp rax, [r11+deadline] */
    uint32_t jump = x86_jcc(cb, CC_AE);                                       /* jae slow */
    VEC_PUSH(f, f->epoch_stubs, {jump, cb->len, f->pos});
}

void meter_finish(fn *f)
{
    codebuf *cb = f->cb;
    fuel_close(f);
    for (uint32_t i = 0; i < f->epoch_stubs.n; i++) {
        const epoch_stub *s = &f->epoch_stubs.v[i];
        x86_bind(cb, s->jump, cb->len);
        f->pos = s->wasm;
        x86_mov_ri64(cb, SCRATCH, (uint64_t)(uintptr_t)wj__epoch_trampoline); /* mov r11, trampoline */
        x86_call_rm(cb, R_(SCRATCH));                                          /* call r11 */
        addr_call(f);
        reload_membase_if_moved(f); /* the callback may have grown memory 0 */
        x86_jmp_to(cb, s->resume); /* jmp back */
    }
}
