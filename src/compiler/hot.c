/*
 * Tier-1 code's side of tiered execution (vmctx.h: vm_tier_func): the
 * budget counted down at the function's entry and at its loop headers,
 * and the out-of-line paths that leave for tier-2 code once it is hot.
 *
 * At the entry nothing is pushed yet, so the path jumps to the tier-2
 * entry as if called there. At a loop header, on-stack replacement: the
 * operand stack below an eligible loop is empty and the cache of locals
 * was just cleared, so the function's whole state is its locals (pinned
 * registers or homes); they are passed as the arguments of the loop's osr
 * entry, whose results this frame then returns. That call's return
 * address maps to no wasm frame: backtraces show the function once, in
 * its osr entry's frame.
 *
 * The tier table lies right after the module's code (compile.c), so the
 * count is one instruction on the table rip-relative, with nothing loaded
 * before it; the paths load the table from the vmctx.
 */
#include "func.h"

/* Locals an osr entry takes at most: each is a store in the function's
 * path to it and a unit of the outgoing area. */
#define OSR_LOCALS_MAX 1024

/* The function's vm_tier_func in the tier table. */
static int32_t tier_at(const fn *f)
{
    return (int32_t)(VM_TIER_FUNC_SIZE * (f->index - f->m->nfunc_imports));
}

/* op [rip+field of the function's vm_tier_func], imm8 (imm fits a byte:
 * the table's reference expects one byte after its disp32). */
static void on_table(fn *f, int alu, int size, int32_t field, int8_t imm)
{
    x86_alu_ri(f->cb, alu, size, RIP_(), imm);
    VEC_PUSH(f, f->out->table_refs, {f->cb->len - 5, (uint32_t)(tier_at(f) + field)});
}

/* sub dword [rip+budget], 1; js stub (a loop's budget at loop headers);
 * an osr loop's header also takes the path when the function's latest osr
 * entry is set. */
static void count_down(fn *f, uint32_t loop, bool inner)
{
    codebuf *cb = f->cb;
    bool entry = loop == VM_TIER_AT_ENTRY;
    on_table(f, ALU_SUB, SZ32, entry ? VM_TIER_BUDGET : VM_TIER_LOOP_BUDGET, 1);
    uint32_t jump = x86_jcc(cb, CC_S); /* js stub */
    uint32_t ready = 0;
    if (!entry && !inner && loop != VM_TIER_IN_LOOP) {
        on_table(f, ALU_CMP, SZ64, VM_TIER_OSR, 0); /* cmp qword [rip+osr], 0 */
        ready = x86_jcc(cb, CC_NE);                 /* jne stub */
    }
    VEC_PUSH(f, f->hot_sites, {jump, ready, cb->len, loop, inner, f->pos});
}

void hot_entry(fn *f)
{
    if (f->tiered)
        count_down(f, VM_TIER_AT_ENTRY, false);
}

/* Whether the loop being opened (c, the top control) can be replaced on
 * the stack, when it is an outermost loop: its state is the locals alone.
 * Only outermost loops are: entering an
 * inner one would give the osr entry a second way into the loops around
 * it, of which tier 2 makes much slower code; a hot inner loop moves when
 * its outermost loop comes round again. */
static bool osr_eligible(const fn *f, const ctrl *c)
{
    return !c->nparams && !c->height && nlocals_all(f) <= OSR_LOCALS_MAX;
}

void hot_loop(fn *f, ctrl *c)
{
    if (!f->tiered)
        return;
    const ctrl *outer = NULL; /* the outermost loop around c */
    for (uint32_t i = 0; i + 1 < f->nctrls && !outer; i++)
        if (f->ctrls[i].kind == C_LOOP)
            outer = &f->ctrls[i];
    c->osr_loop = VM_TIER_IN_LOOP;
    if (outer) {
        count_down(f, outer->osr_loop, outer->osr_loop != VM_TIER_IN_LOOP);
        return;
    }
    if (osr_eligible(f, c)) {
        /* The osr entry's argument area: every local, or its results. */
        uint32_t units = vm_types_units(f->local_types, (uint32_t)nlocals_all(f));
        uint32_t results = vm_types_units(f->type->results, f->type->nresults);
        if (units < results)
            units = results;
        if (f->max_out < units)
            f->max_out = units;
        f->osr_loops = true;
        c->osr_loop = f->pos;
    }
    count_down(f, c->osr_loop, false);
}

/* wj__tier_up(vmctx, func, edx, ecx): the code to enter comes back in rax. */
static void ask(fn *f)
{
    codebuf *cb = f->cb;
    x86_mov_rr(cb, SZ64, RDI, R_(VMCTX));                    /* mov rdi, r15 */
    x86_mov_ri64(cb, RSI, f->index - f->m->nfunc_imports);   /* mov esi, func */
    x86_mov_ri64(cb, RAX, (uint64_t)(uintptr_t)wj__tier_up); /* mov rax, wj__tier_up */
    x86_call_rm(cb, R_(RAX));                                /* call rax */
}

/* At the entry rsp is 8 off the 16-byte alignment of a call. */
static void entry_stub(fn *f, const hot_site *s, int32_t at)
{
    codebuf *cb = f->cb;
    x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, VMCTX_TIER));      /* mov r11, [r15+tier] */
    x86_mov_rr(cb, SZ64, RAX, M_(SCRATCH, at + VM_TIER_ENTRY)); /* mov rax, [r11+entry] */
    x86_test_rr(cb, SZ64, R_(RAX), RAX);                       /* test rax, rax */
    uint32_t go = x86_jcc(cb, CC_NE);                          /* jnz go */
    x86_alu_ri(cb, ALU_SUB, SZ64, R_(RSP), 8);                 /* sub rsp, 8 */
    x86_mov_ri64(cb, RDX, VM_TIER_AT_ENTRY);                   /* mov edx, at entry */
    x86_alu_mr(cb, ALU_XOR, SZ32, R_(RCX), RCX);               /* xor ecx, ecx */
    ask(f);
    x86_alu_ri(cb, ALU_ADD, SZ64, R_(RSP), 8);                 /* add rsp, 8 */
    x86_test_rr(cb, SZ64, R_(RAX), RAX);                       /* test rax, rax */
    x86_jcc_to(cb, CC_E, s->resume);                           /* jz resume */
    x86_bind(cb, go, cb->len);
    /* go: the budget stays spent, so calls keep coming here */
    x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, VMCTX_TIER)); /* mov r11, [r15+tier] */
    x86_mov_mi(cb, SZ32, M_(SCRATCH, at + VM_TIER_BUDGET), 0); /* mov dword [r11+budget], 0 */
    x86_jmp_rm(cb, R_(RAX));                                  /* jmp rax */
}

/* The locals as the osr entry's arguments, its call, and this frame's
 * return of what it returned. rax holds the entry. */
static void enter_osr(fn *f)
{
    codebuf *cb = f->cb;
    uint32_t n = (uint32_t)nlocals_all(f);
    for (uint32_t i = 0, u = 0; i < n; u += vm_slot_units(f->local_types[i++])) {
        x86_rm arg = M_(RSP, (int32_t)(VM_UNIT * u));
        if (f->local_reg[i] >= 0)
            reg_store(f, f->local_types[i], arg, f->local_reg[i]); /* mov [rsp+8i], pin */
        else
            mem_move(f, f->local_types[i], arg, local_home(f, i)); /* via r11 */
    }
    x86_call_rm(cb, R_(RAX)); /* call rax */
    if (!out_addr(f->out, cb->len - 1, COMPILED_NO_FRAME))
        fn_oom(f);
    /* Two or more results came back in the argument area: they go on to
     * this frame's own. */
    const wasm_functype *t = f->type;
    for (uint32_t i = 0, u = 0; t->nresults > 1 && i < t->nresults; u += vm_slot_units(t->results[i++]))
        mem_move(f, t->results[i], M_(RBP, (int32_t)(16 + VM_UNIT * u)),
                 M_(RSP, (int32_t)(VM_UNIT * u)));
    x86_mov_rr(cb, SZ64, RSP, R_(RBP)); /* mov rsp, rbp */
    x86_pop(cb, RBP);                   /* pop rbp */
    x86_ret(cb);                        /* ret */
}

/* What loop headers' paths go on to, with the loop in edx and where to
 * resume in rcx (neither ever holds a pin): with `osr`, the loop's osr
 * entry when it is the latest (going on in tier 1 while it is compiled or
 * when tier 2 declined it), else the ask; without, the ask on behalf of
 * an outer loop. */
static void loop_path(fn *f, int32_t at, bool osr)
{
    codebuf *cb = f->cb;
    uint32_t enter = 0, none = 0, other = 0;
    if (osr) {
        x86_mov_rr(cb, SZ64, SCRATCH, M_(VMCTX, VMCTX_TIER));    /* mov r11, [r15+tier] */
        x86_mov_rr(cb, SZ64, RAX, M_(SCRATCH, at + VM_TIER_OSR)); /* mov rax, [r11+osr] */
        x86_test_rr(cb, SZ64, R_(RAX), RAX);                     /* test rax, rax */
        none = x86_jcc(cb, CC_E);                                /* jz ask */
        x86_alu_rr(cb, ALU_CMP, SZ32, RDX, M_(RAX, VM_OSR_LOOP)); /* cmp edx, [rax+loop] */
        other = x86_jcc(cb, CC_NE);                              /* jne ask */
        x86_mov_rr(cb, SZ64, RAX, M_(RAX, VM_OSR_CODE));         /* mov rax, [rax+code] */
        x86_test_rr(cb, SZ64, R_(RAX), RAX);                     /* test rax, rax */
        uint32_t go = x86_jcc(cb, CC_NE);                        /* jnz enter */
        x86_jmp_rm(cb, R_(RCX));                                 /* jmp rcx: not compiled yet */
        enter = cb->len;
        x86_bind(cb, go, enter);
        enter_osr(f);
        x86_bind(cb, none, cb->len);
        x86_bind(cb, other, cb->len);
    }
    pins_save(f); /* the C call clobbers some pins' registers */
    x86_push(cb, RCX); /* twice: rsp stays 16-aligned for the call */
    x86_push(cb, RCX);
    x86_mov_ri64(cb, RCX, !osr); /* mov ecx, inner */
    ask(f);
    x86_pop(cb, RCX);
    x86_pop(cb, RCX);
    pins_reload(f);
    if (enter) {
        x86_test_rr(cb, SZ64, R_(RAX), RAX); /* test rax, rax */
        x86_jcc_to(cb, CC_NE, enter);        /* jnz enter */
    }
    x86_jmp_rm(cb, R_(RCX)); /* jmp rcx: resume */
}

void hot_finish(fn *f)
{
    codebuf *cb = f->cb;
    int32_t at = tier_at(f);
    uint32_t paths[2] = {UINT32_MAX, UINT32_MAX}; /* the loops' shared paths: osr, inner */
    for (uint32_t i = 0; i < f->hot_sites.n; i++) {
        const hot_site *s = &f->hot_sites.v[i];
        if (s->loop != VM_TIER_AT_ENTRY && paths[s->inner] == UINT32_MAX) {
            paths[s->inner] = cb->len;
            loop_path(f, at, !s->inner && f->osr_loops);
        }
    }
    for (uint32_t i = 0; i < f->hot_sites.n; i++) {
        const hot_site *s = &f->hot_sites.v[i];
        x86_bind(cb, s->jump, cb->len);
        if (s->ready)
            x86_bind(cb, s->ready, cb->len);
        f->pos = s->wasm;
        if (s->loop == VM_TIER_AT_ENTRY) {
            entry_stub(f, s, at);
            continue;
        }
        x86_mov_ri64(cb, RDX, s->loop);                /* mov edx, loop */
        x86_bind(cb, x86_lea_rip(cb, RCX), s->resume); /* lea rcx, [rip+resume] */
        x86_jmp_to(cb, paths[s->inner]);               /* jmp path */
    }
}
