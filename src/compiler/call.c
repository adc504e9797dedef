/* Calls: direct, through imports, call_indirect, and libcalls into C. */
#include "func.h"
#include "vmctx.h"
#include "wasmjail.h"

/* Stores the arguments in the outgoing area, pops them and spills the rest
 * of the stack (every register is caller-saved). */
static void pass_args(fn *f, const wasm_functype *t)
{
    uint32_t n = t->nparams;
    uint32_t units = vm_args_units(t);
    if (units > f->max_out)
        f->max_out = units;
    for (uint32_t i = 0, u = 0; i < n; i++) {
        ventry *e = top(f, n - 1 - i);
        store_entry(f, e, M_(RSP, (int32_t)(VM_UNIT * u)));
        u += vm_slot_units(e->type);
    }
    for (uint32_t i = 0; i < n; i++) {
        ventry e = pop(f);
        free_entry(f, &e);
    }
    spill_all(f);
    lcache_clear(f); /* every register is caller-saved */
    pins_save(f);
}

static void push_results(fn *f, const wasm_functype *t)
{
    if (t->nresults == 1) {
        uint8_t type = t->results[0];
        push_reg(f, type, in_xmm(type) ? XMM(0) : RAX);
        return;
    }
    for (uint32_t i = 0, u = 0; i < t->nresults; i++) {
        uint8_t type = t->results[i];
        x86_rm slot = slot_at(f, units_below(f, f->height), type);
        mem_move(f, type, slot, M_(RSP, (int32_t)(VM_UNIT * u)));
        push_stack(f, type);
        u += vm_slot_units(type);
    }
}

/* After a call that may have entered another instance. */
static void reload_context(fn *f)
{
    x86_mov_rr(f->cb, SZ64, VMCTX, M_(RBP, -8)); /* mov r15, [rbp-8] */
    reload_membase(f);
}

void op_call(fn *f, uint32_t func)
{
    const wasm_module *m = f->m;
    const wasm_functype *t = wasm_func_type(m, func);
    pass_args(f, t);
    codebuf *cb = f->cb;
    if (func >= m->nfunc_imports) {
        /* rel32 even when tiered: a callee that is hot takes its tier-2
         * entry, while tier-1 code keeps its quickest start-up */
        if (!emit_direct_call(f->out, func - m->nfunc_imports, false))
            fn_oom(f);
        addr_call(f);
        reload_membase_if_moved(f);
    } else {
        x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, (int32_t)vmctx_func(m, func))); /* mov r11, [r15+func] */
        x86_mov_rr(cb, SZ64, VMCTX, M_(SCRATCH, VM_FUNCREF_VMCTX)); /* mov r15, [r11+vmctx] */
        x86_call_rm(cb, M_(SCRATCH, VM_FUNCREF_CODE));              /* call [r11+code] */
        addr_call(f);
        reload_context(f);
    }
    pins_reload(f);
    push_results(f, t);
}

void op_call_indirect(fn *f, uint32_t type, uint32_t table)
{
    const wasm_module *m = f->m;
    const wasm_functype *t = &m->types[type];
    int idx = pop_reg(f, 0);
    pass_args(f, t);
    call_indirect_target(f, type, table, idx);
    reg_free(f, idx);
    addr_call(f);
    reload_context(f);
    pins_reload(f);
    push_results(f, t);
}

void libcall(fn *f, const void *func, const uint32_t *imms, int nimms, int nargs)
{
    static const uint8_t abi[] = {RDI, RSI, RDX, RCX, R8, R9};
    codebuf *cb = f->cb;
    spill_all(f);
    lcache_clear(f); /* the argument registers and the C function clobber them */
    pins_save(f);
    x86_mov_rr(cb, SZ64, RDI, R_(VMCTX)); /* mov rdi, r15 */
    for (int i = 0; i < nimms; i++)
        x86_mov_ri64(cb, abi[1 + i], imms[i]); /* mov reg, imm */
    for (int j = 0; j < nargs; j++)
        load_into(f, top(f, (uint32_t)(nargs - 1 - j)), abi[1 + nimms + j]);
    f->height -= (uint32_t)nargs;
    x86_mov_ri64(cb, RAX, (uint64_t)(uintptr_t)func); /* mov rax, func */
    x86_call_rm(cb, R_(RAX));                         /* call rax */
    addr_call(f);
    pins_reload(f);
}

void libcall_check(fn *f, uint32_t code)
{
    x86_test_rr(f->cb, SZ32, R_(RAX), RAX); /* test eax, eax */
    trap_if(f, CC_NE, code);                /* jnz stub */
}
