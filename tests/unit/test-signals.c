/* src/signals: faults in compiled code become traps, other faults reach the
 * handler installed before ours, alternate stacks, backtraces. Exercised
 * with real machine code written by hand into a W^X mapping (no compiler),
 * entered through the real trampoline. Linked against
 * libwasmjail-internal.la.
 *
 * Handler chaining depends on what was installed before signals_install(),
 * which happens once per process, so those cases run as scenarios in a
 * fresh process: this program re-executed with `--scenario NAME`. */
#define _GNU_SOURCE /* REG_RIP, MAP_ANONYMOUS */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <wasmjail.h>

#include "registry/registry.h"
#include "signals/signals.h"
#include "unit.h"

/* ---- a hand-assembled module ----------------------------------------------- */

/* Offsets into the code of the functions and the instructions the tests
 * look for. Arguments are 8-byte slots at [rbp+16], [rbp+24] (vmctx.h). */
static struct {
    compiled_code code;
    compiled_trap traps[16];
    uint32_t starts[16];
    uint32_t unreachable, unreachable_site;
    uint32_t unreachable_std;     /* sets the direction flag, then traps */
    uint32_t load, load_site;     /* load(p) = *p */
    uint32_t div, div_site;       /* div(a, b) = a / b */
    uint32_t add;                 /* add(a, b) = a + b */
    uint32_t middle, ret_middle;  /* middle(p) = load(p) */
    uint32_t outer, ret_outer;    /* outer(p) = middle(p) */
    uint32_t bad_ud2, bad_ud2_site; /* a ud2 with no trap-table entry */
    uint32_t recurse, ret_recurse;  /* calls itself until the stack ends */
    uint32_t host_caller, ret_host_caller; /* calls host_exit() */
    uint32_t host_outer, ret_host_outer;   /* calls host_caller() */
    uint32_t tgkill, tgkill_after; /* tgkill(pid, tid, SIGSEGV) */
    uint32_t v128_ret;   /* v128_ret(v) = v, in xmm0 */
    uint32_t host_units; /* host_units(u0..u3, record): calls the host
                          * function `record` with the area u0..u3 through
                          * wj__host_trampoline and returns what it
                          * returned: rax, xmm0 and the area */
} m;

/* (No ck_assert while building: scenarios build it outside any test.) */
static size_t emitted;
static bool overflow;
static uint8_t *rw; /* the code while it is being written */

static void emit(const uint8_t *bytes, size_t n)
{
    if (emitted + n > m.code.map_size) {
        overflow = true;
        return;
    }
    memcpy(rw + emitted, bytes, n);
    emitted += n;
}
#define EMIT(...) emit((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static uint32_t here(void)
{
    return (uint32_t)emitted;
}

static void trap_here(uint32_t code)
{
    if (m.code.ntraps == sizeof m.traps / sizeof m.traps[0])
        overflow = true;
    else
        m.traps[m.code.ntraps++] = (compiled_trap){.offset = here(), .code = code};
}

/* Starts a function at a 16-byte boundary (int3 padding). */
static uint32_t func_start(void)
{
    while (emitted % 16 && !overflow)
        EMIT(0xcc);
    if (m.code.nfuncs == sizeof m.starts / sizeof m.starts[0])
        overflow = true;
    else
        m.starts[m.code.nfuncs++] = here();
    return here();
}

/* The standard prologue; rsp is 16-aligned after it. */
static uint32_t func_begin(void)
{
    uint32_t start = func_start();
    EMIT(0x55);                   /* push rbp */
    EMIT(0x48, 0x89, 0xe5);       /* mov rbp, rsp */
    EMIT(0x41, 0x57);             /* push r15 (vmctx at [rbp-8]) */
    EMIT(0x48, 0x83, 0xec, 0x08); /* sub rsp, 8 */
    return start;
}

static void func_end(void)
{
    EMIT(0xc9, 0xc3); /* leave; ret */
}

/* call target; returns the return address's offset */
static uint32_t call_to(uint32_t target)
{
    int32_t rel = (int32_t)target - (int32_t)(here() + 5);
    EMIT(0xe8);
    emit((const uint8_t *)&rel, 4);
    return here();
}

/* f(p) = callee(p); returns the return address's offset */
static uint32_t forward_arg_to(uint32_t callee)
{
    EMIT(0x48, 0x83, 0xec, 0x10); /* sub rsp, 16: the outgoing slot */
    EMIT(0x48, 0x8b, 0x45, 0x10); /* mov rax, [rbp+16] */
    EMIT(0x48, 0x89, 0x04, 0x24); /* mov [rsp], rax */
    uint32_t ret = call_to(callee);
    func_end();
    return ret;
}

static void host_exit(uintptr_t fp);

static bool build_module(void)
{
    long page = sysconf(_SC_PAGESIZE);
    memset(&m, 0, sizeof m);
    m.code.map_size = (size_t)page;
    m.code.traps = m.traps;
    m.code.func_starts = m.starts;
    rw = mmap(NULL, m.code.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rw == MAP_FAILED)
        return false;
    emitted = 0;
    overflow = false;

    m.unreachable = func_begin();
    /* clobber every callee-saved register and the stack: the landing pad
     * must restore them */
    EMIT(0x48, 0xc7, 0xc3, 0x11, 0x11, 0x11, 0x11); /* mov rbx, 0x11111111 */
    EMIT(0x49, 0xc7, 0xc4, 0x12, 0x12, 0x12, 0x12); /* mov r12, 0x12121212 */
    EMIT(0x49, 0xc7, 0xc5, 0x13, 0x13, 0x13, 0x13); /* mov r13, 0x13131313 */
    EMIT(0x49, 0xc7, 0xc6, 0x14, 0x14, 0x14, 0x14); /* mov r14, 0x14141414 */
    EMIT(0x49, 0xc7, 0xc7, 0x15, 0x15, 0x15, 0x15); /* mov r15, 0x15151515 */
    EMIT(0x6a, 0x2a, 0x6a, 0x2a, 0x6a, 0x2a);       /* push 42 (x3) */
    m.unreachable_site = here();
    trap_here(WJ_TRAP_UNREACHABLE);
    EMIT(0x0f, 0x0b); /* ud2 */

    m.unreachable_std = func_begin();
    EMIT(0xfd); /* std: the direction flag set, as the host never has it */
    trap_here(WJ_TRAP_UNREACHABLE);
    EMIT(0x0f, 0x0b); /* ud2 */

    m.load = func_begin();
    EMIT(0x48, 0x8b, 0x4d, 0x10); /* mov rcx, [rbp+16] */
    m.load_site = here();
    trap_here(WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    EMIT(0x48, 0x8b, 0x01); /* mov rax, [rcx] */
    func_end();

    m.div = func_begin();
    EMIT(0x48, 0x8b, 0x45, 0x10); /* mov rax, [rbp+16] */
    EMIT(0x48, 0x99);             /* cqo */
    m.div_site = here();
    trap_here(WJ_TRAP_INT_DIVIDE_BY_ZERO);
    EMIT(0x48, 0xf7, 0x7d, 0x18); /* idiv qword [rbp+24] */
    func_end();

    m.add = func_begin();
    EMIT(0x48, 0x8b, 0x45, 0x10); /* mov rax, [rbp+16] */
    EMIT(0x48, 0x03, 0x45, 0x18); /* add rax, [rbp+24] */
    func_end();

    m.middle = func_begin();
    m.ret_middle = forward_arg_to(m.load);
    m.outer = func_begin();
    m.ret_outer = forward_arg_to(m.middle);

    m.bad_ud2 = func_begin();
    m.bad_ud2_site = here();
    EMIT(0x0f, 0x0b); /* ud2 */

    /* Either instruction that pushes may hit the end of the stack. */
    m.recurse = func_start();
    trap_here(WJ_TRAP_STACK_EXHAUSTED);
    EMIT(0x55);             /* push rbp */
    EMIT(0x48, 0x89, 0xe5); /* mov rbp, rsp */
    trap_here(WJ_TRAP_STACK_EXHAUSTED);
    m.ret_recurse = call_to(m.recurse);
    func_end();

    /* A host trampoline like wj__host_trampoline: host_exit(its own rbp). */
    uint32_t tramp = func_start();
    uint64_t host = (uint64_t)(uintptr_t)host_exit;
    EMIT(0x55);             /* push rbp */
    EMIT(0x48, 0x89, 0xe5); /* mov rbp, rsp */
    EMIT(0x48, 0x89, 0xef); /* mov rdi, rbp */
    EMIT(0x48, 0xb8);       /* movabs rax, host_exit */
    emit((const uint8_t *)&host, 8);
    EMIT(0xff, 0xd0); /* call rax */
    func_end();
    m.host_caller = func_begin();
    m.ret_host_caller = call_to(tramp);
    func_end();
    m.host_outer = func_begin();
    m.ret_host_outer = call_to(m.host_caller);
    func_end();

    /* A signal sent while the PC is at a trap site is no fault. */
    m.tgkill = func_begin();
    EMIT(0x48, 0x8b, 0x7d, 0x10);             /* mov rdi, [rbp+16] */
    EMIT(0x48, 0x8b, 0x75, 0x18);             /* mov rsi, [rbp+24] */
    EMIT(0xba, SIGSEGV, 0x00, 0x00, 0x00);    /* mov edx, SIGSEGV */
    EMIT(0xb8, 0xea, 0x00, 0x00, 0x00);       /* mov eax, 234 (tgkill) */
    EMIT(0x0f, 0x05);                         /* syscall */
    m.tgkill_after = here(); /* where the signal arrives */
    trap_here(WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    EMIT(0x90); /* nop */
    func_end();

    m.v128_ret = func_begin();
    EMIT(0x0f, 0x10, 0x45, 0x10); /* movups xmm0, [rbp+16]: units 0 and 1 */
    func_end();

    m.host_units = func_begin();
    EMIT(0x48, 0x83, 0xec, 0x20); /* sub rsp, 32: the outgoing area */
    for (uint8_t k = 0; k < 4; k++) {
        EMIT(0x48, 0x8b, 0x45, 16 + 8 * k);   /* mov rax, [rbp+16+8k] */
        EMIT(0x48, 0x89, 0x44, 0x24, 8 * k); /* mov [rsp+8k], rax */
    }
    EMIT(0x4c, 0x8b, 0x7d, 0x30); /* mov r15, [rbp+48]: the record */
    uint64_t tramp_addr = (uint64_t)(uintptr_t)wj__host_trampoline;
    EMIT(0x48, 0xb8); /* movabs rax, wj__host_trampoline */
    emit((const uint8_t *)&tramp_addr, 8);
    EMIT(0xff, 0xd0); /* call rax */
    for (uint8_t k = 0; k < 4; k++) {
        EMIT(0x48, 0x8b, 0x4c, 0x24, 8 * k); /* mov rcx, [rsp+8k] */
        EMIT(0x48, 0x89, 0x4d, 16 + 8 * k);   /* mov [rbp+16+8k], rcx */
    }
    func_end();

    m.code.code_size = emitted;
    /* W^X: executable only once written */
    m.code.code = rw;
    rw = NULL;
    return !overflow && mprotect(m.code.code, m.code.map_size, PROT_READ | PROT_EXEC) == 0;
}

static void free_module(void)
{
    munmap(m.code.code, m.code.map_size);
}

static uintptr_t at(uint32_t offset)
{
    return (uintptr_t)m.code.code + offset;
}

/* ---- entering it --------------------------------------------------------- */

static uint64_t vmctx[4]; /* the trampoline reads memory 0's base at [1] */

static void activation_init(vm_activation *act, const code_registry *r, uintptr_t *trace,
                            size_t cap, vm_activation *prev)
{
    memset(act, 0, sizeof *act);
    act->registry = r;
    act->trace = trace;
    act->trace_cap = cap;
    act->prev = prev;
}

/* Enters the function at `offset` as the thread's innermost activation. */
static int run(vm_activation *act, uint32_t offset, uint64_t *slots, size_t nslots)
{
    vm_activation *saved = wj__activation;
    wj__activation = act;
    int r = wj__enter_wasm(vmctx, (const void *)at(offset), slots, nslots, act);
    wj__activation = saved;
    return r;
}

/* wj__enter_wasm with rbx, rbp and r12-r15 holding known values; returns
 * its result, plus 0x100 when any of them differs afterwards or the
 * direction flag is set. */
int test_enter_checked(void *vmctx_, const void *code, uint64_t *slots, size_t nslots,
                       vm_activation *act);
__asm__(".text\n"
        ".globl test_enter_checked\n"
        ".hidden test_enter_checked\n"
        ".type test_enter_checked, @function\n"
        "test_enter_checked:\n"
        "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  sub $8, %rsp\n"
        "  movabs $0x0b0b0b0b0b0b0b0b, %rbx\n"
        "  movabs $0x0c0c0c0c0c0c0c0c, %r12\n"
        "  movabs $0x0d0d0d0d0d0d0d0d, %r13\n"
        "  movabs $0x0e0e0e0e0e0e0e0e, %r14\n"
        "  movabs $0x0f0f0f0f0f0f0f0f, %r15\n"
        "  movabs $0x0a0a0a0a0a0a0a0a, %rbp\n"
        "  call wj__enter_wasm@PLT\n"
        "  movabs $0x0b0b0b0b0b0b0b0b, %rdx\n  xor %rdx, %rbx\n"
        "  movabs $0x0c0c0c0c0c0c0c0c, %rdx\n  xor %rdx, %r12\n  or %r12, %rbx\n"
        "  movabs $0x0d0d0d0d0d0d0d0d, %rdx\n  xor %rdx, %r13\n  or %r13, %rbx\n"
        "  movabs $0x0e0e0e0e0e0e0e0e, %rdx\n  xor %rdx, %r14\n  or %r14, %rbx\n"
        "  movabs $0x0f0f0f0f0f0f0f0f, %rdx\n  xor %rdx, %r15\n  or %r15, %rbx\n"
        "  movabs $0x0a0a0a0a0a0a0a0a, %rdx\n  xor %rdx, %rbp\n  or %rbp, %rbx\n"
        "  pushf\n  pop %rdx\n  and $0x400, %rdx\n  or %rdx, %rbx\n" /* DF */
        "  test %rbx, %rbx\n"
        "  setnz %dl\n  movzbl %dl, %edx\n  shl $8, %edx\n  or %edx, %eax\n"
        "  add $8, %rsp\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
        "  ret\n"
        ".size test_enter_checked, .-test_enter_checked\n");

static code_registry *registry;
static int owner;

static void setup(void)
{
    ck_assert(signals_install());
    ck_assert(signals_thread_init());
    ck_assert(build_module());
    registry = code_registry_new();
    ck_assert_ptr_nonnull(registry);
    ck_assert(code_registry_insert(registry, &m.code, &owner));
}

static void teardown(void)
{
    code_registry_free(registry);
    free_module();
}

/* ---- traps ------------------------------------------------------------------ */

START_TEST(unreachable_traps_and_lands)
{
    setup();
    uintptr_t trace[8];
    vm_activation act;
    activation_init(&act, registry, trace, 8, NULL);
    wj__activation = &act;
    int r = test_enter_checked(vmctx, (const void *)at(m.unreachable), NULL, 0, &act);
    wj__activation = NULL;
    ck_assert_msg(r == 1, "enter returned %#x (0x100: a callee-saved register or DF changed)", r);
    ck_assert_int_eq(act.trap_code, WJ_TRAP_UNREACHABLE);
    ck_assert_uint_eq(act.trap_pc, at(m.unreachable_site));
    ck_assert_uint_eq(act.trace_len, 1);
    ck_assert_uint_eq(trace[0], at(m.unreachable_site));

    /* the landing pad left a clean state: a normal call works, twice */
    for (int i = 0; i < 2; i++) {
        uint64_t slots[2] = {40, 2};
        activation_init(&act, registry, trace, 8, NULL);
        wj__activation = &act;
        r = test_enter_checked(vmctx, (const void *)at(m.add), slots, 2, &act);
        wj__activation = NULL;
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(act.ret_gpr, 42);
        ck_assert_int_eq(act.trap_code, 0);
        ck_assert_uint_eq(act.trace_len, 0);
    }
    teardown();
}
END_TEST

/* Valgrind restores no flags from a signal handler's context. */
static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload");
}

START_TEST(landing_clears_the_direction_flag)
{
    if (under_valgrind())
        return;
    setup();
    vm_activation act;
    activation_init(&act, registry, NULL, 0, NULL);
    wj__activation = &act;
    int r = test_enter_checked(vmctx, (const void *)at(m.unreachable_std), NULL, 0, &act);
    wj__activation = NULL;
    ck_assert_msg(r == 1, "enter returned %#x (0x100: DF set)", r);
    ck_assert_int_eq(act.trap_code, WJ_TRAP_UNREACHABLE);
    teardown();
}
END_TEST

START_TEST(out_of_bounds_load_traps)
{
    setup();
    long page = sysconf(_SC_PAGESIZE);
    void *guard = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(guard, MAP_FAILED);
    uint64_t value = 0x1234;
    uint64_t pointers[] = {0, (uintptr_t)guard, (uintptr_t)&value, (uintptr_t)guard + 8};
    uintptr_t trace[8];
    vm_activation act;
    for (int i = 0; i < 4; i++) {
        uint64_t slot = pointers[i];
        activation_init(&act, registry, trace, 8, NULL);
        int r = run(&act, m.load, &slot, 1);
        if (pointers[i] == (uintptr_t)&value) {
            /* the same instruction returns normally when it can */
            ck_assert_int_eq(r, 0);
            ck_assert_uint_eq(act.ret_gpr, 0x1234);
            ck_assert_int_eq(act.trap_code, 0);
            continue;
        }
        ck_assert_int_eq(r, 1);
        ck_assert_int_eq(act.trap_code, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
        ck_assert_uint_eq(act.trap_pc, at(m.load_site));
        ck_assert_uint_eq(act.trace_len, 1);
    }
    munmap(guard, (size_t)page);
    teardown();
}
END_TEST

START_TEST(divide_by_zero_traps)
{
    setup();
    uintptr_t trace[4];
    vm_activation act;
    uint64_t slots[2] = {100, 7};
    activation_init(&act, registry, trace, 4, NULL);
    ck_assert_int_eq(run(&act, m.div, slots, 2), 0);
    ck_assert_uint_eq(act.ret_gpr, 14);

    slots[1] = 0;
    activation_init(&act, registry, trace, 4, NULL);
    ck_assert_int_eq(run(&act, m.div, slots, 2), 1);
    ck_assert_int_eq(act.trap_code, WJ_TRAP_INT_DIVIDE_BY_ZERO);
    ck_assert_uint_eq(act.trap_pc, at(m.div_site));
    teardown();
}
END_TEST

START_TEST(backtrace_of_nested_calls)
{
    setup();
    uintptr_t trace[8];
    vm_activation act;
    uint64_t slot = 0;
    activation_init(&act, registry, trace, 8, NULL);
    ck_assert_int_eq(run(&act, m.outer, &slot, 1), 1);
    ck_assert_int_eq(act.trap_code, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    ck_assert_uint_eq(act.trace_len, 3);
    ck_assert_uint_eq(trace[0], at(m.load_site));
    ck_assert_uint_eq(trace[1], at(m.ret_middle) - 1);
    ck_assert_uint_eq(trace[2], at(m.ret_outer) - 1);
    /* each maps back to its function through the module's tables */
    uint32_t want[] = {m.load, m.middle, m.outer};
    for (int i = 0; i < 3; i++) {
        compiled_frame f;
        ck_assert_uint_eq(compiled_frames(&m.code, (uint32_t)(trace[i] - at(0)), &f, 1), 1);
        ck_assert_uint_eq(m.starts[f.func], want[i]);
    }

    /* a smaller buffer keeps the innermost frames */
    activation_init(&act, registry, trace, 2, NULL);
    trace[2] = 0;
    ck_assert_int_eq(run(&act, m.outer, &slot, 1), 1);
    ck_assert_uint_eq(act.trace_len, 2);
    ck_assert_uint_eq(trace[1], at(m.ret_middle) - 1);
    ck_assert_uint_eq(trace[2], 0);

    /* and no buffer is no trace, but still a trap */
    activation_init(&act, registry, NULL, 0, NULL);
    ck_assert_int_eq(run(&act, m.outer, &slot, 1), 1);
    ck_assert_int_eq(act.trap_code, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    ck_assert_uint_eq(act.trace_len, 0);
    teardown();
}
END_TEST

/* wasm -> host -> wasm that traps: the inner activation's trace continues
 * with the outer activation's wasm frames. */
static struct {
    vm_activation *outer;
    vm_activation inner;
    uintptr_t trace[16];
    int ret;
} nested;

static void host_exit(uintptr_t fp)
{
    nested.outer->exit_fp = fp;
    activation_init(&nested.inner, registry, nested.trace, 16, nested.outer);
    uint64_t slot = 0;
    nested.ret = run(&nested.inner, m.outer, &slot, 1);
    nested.outer->exit_fp = 0;
}

START_TEST(backtrace_across_activations)
{
    setup();
    uintptr_t trace[4];
    vm_activation outer;
    activation_init(&outer, registry, trace, 4, NULL);
    nested.outer = &outer;
    ck_assert_int_eq(run(&outer, m.host_outer, NULL, 0), 0);
    ck_assert_int_eq(outer.trap_code, 0);
    ck_assert_ptr_null(wj__activation);

    ck_assert_int_eq(nested.ret, 1);
    ck_assert_int_eq(nested.inner.trap_code, WJ_TRAP_MEMORY_OUT_OF_BOUNDS);
    uintptr_t want[] = {at(m.load_site), at(m.ret_middle) - 1, at(m.ret_outer) - 1,
                        at(m.ret_host_caller) - 1, at(m.ret_host_outer) - 1};
    ck_assert_uint_eq(nested.inner.trace_len, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(nested.trace[i] == want[i], "frame %d: %#lx, want %#lx", i,
                      (unsigned long)nested.trace[i], (unsigned long)want[i]);
    teardown();
}
END_TEST

/* ---- signals_capture_trace on made-up frames --------------------------------- */

START_TEST(capture_walks_frames_defensively)
{
    /* frames are (caller fp, return pc) pairs in a fake stack; activations
     * end at the frame their landing_fp names */
    uintptr_t stack[64] = {0};
#define FP(i) ((uintptr_t)&stack[i])
#define FRAME(i, caller, pc) (stack[i] = FP(caller), stack[(i) + 1] = (pc))
    uintptr_t trace[16];
    vm_activation act;

    FRAME(4, 10, 0xa1);
    FRAME(10, 20, 0xa2);
    FRAME(20, 40, 0xa3); /* returns into the entry trampoline at 40 */
    activation_init(&act, NULL, trace, 16, NULL);
    act.landing_fp = FP(40);
    signals_capture_trace(&act, 0xa0, FP(4));
    ck_assert_uint_eq(act.trace_len, 3);
    /* callers' PCs are their return addresses - 1: inside the call */
    ck_assert_uint_eq(trace[0], 0xa0);
    ck_assert_uint_eq(trace[1], 0xa1 - 1);
    ck_assert_uint_eq(trace[2], 0xa2 - 1);

    /* enclosing activations: one in wasm calling out, one not (skipped),
     * one more calling out */
    vm_activation mid, top, bottom;
    FRAME(44, 48, 0xb0); /* exit frame: returns into wasm at 0xb0 */
    FRAME(48, 52, 0xb1);
    FRAME(52, 58, 0xb2); /* 58 is mid's entry frame */
    activation_init(&mid, NULL, NULL, 0, NULL);
    mid.exit_fp = FP(44);
    mid.landing_fp = FP(58);
    activation_init(&top, NULL, NULL, 0, &mid); /* exit_fp 0: skipped */
    top.landing_fp = FP(42);
    FRAME(60, 62, 0xc0);
    activation_init(&bottom, NULL, NULL, 0, NULL);
    bottom.exit_fp = FP(60);
    bottom.landing_fp = FP(62);
    mid.prev = &bottom;
    act.prev = &top;
    signals_capture_trace(&act, 0xa0, FP(4));
    uintptr_t want[] = {0xa0, 0xa1 - 1, 0xa2 - 1, 0xb0 - 1, 0xb1 - 1, 0xc0 - 1};
    ck_assert_uint_eq(act.trace_len, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(trace[i], want[i]);

    /* the buffer bounds everything */
    act.trace_cap = 4;
    signals_capture_trace(&act, 0xa0, FP(4));
    ck_assert_uint_eq(act.trace_len, 4);
    ck_assert_uint_eq(trace[3], 0xb0 - 1);
    act.trace_cap = 16;

    /* a cyclic chain of activations ends */
    bottom.prev = &mid;
    signals_capture_trace(&act, 0xa0, FP(4));
    ck_assert_uint_eq(act.trace_len, 6);
    /* so does one that goes down the stack */
    bottom.landing_fp = FP(30);
    signals_capture_trace(&act, 0xa0, FP(4));
    ck_assert_uint_eq(act.trace_len, 5);
    act.prev = NULL;

    /* corrupted chains in the frame at 10: a loop, a step down, a
     * misaligned or null link, a link beyond the entry frame; each ends the
     * walk there, keeping a0 and a1 (whose frame's link was sound) */
    uintptr_t bad_links[] = {FP(10), FP(6), FP(20) + 3, 0, FP(50)};
    for (size_t i = 0; i < sizeof bad_links / sizeof bad_links[0]; i++) {
        stack[10] = bad_links[i];
        trace[2] = 0;
        signals_capture_trace(&act, 0xa0, FP(4));
        ck_assert_msg(act.trace_len == 2, "bad link %zu: %zu frames", i, act.trace_len);
        ck_assert_uint_eq(trace[1], 0xa1 - 1);
        ck_assert_uint_eq(trace[2], 0);
    }
    /* a starting fp that is no frame of this activation: the pc alone */
    signals_capture_trace(&act, 0xa0, 0);
    ck_assert_uint_eq(act.trace_len, 1);
    signals_capture_trace(&act, 0xa0, FP(41));
    ck_assert_uint_eq(act.trace_len, 1);
    signals_capture_trace(&act, 0xa0, FP(4) + 4);
    ck_assert_uint_eq(act.trace_len, 1);
#undef FRAME
#undef FP
}
END_TEST

/* ---- stack exhaustion: the handler runs on the alternate stack --------------- */

static void *recurse_thread(void *arg)
{
    (void)arg;
    if (!signals_thread_init())
        return "signals_thread_init failed";
    uintptr_t trace[32];
    vm_activation act;
    activation_init(&act, registry, trace, 32, NULL);
    if (run(&act, m.recurse, NULL, 0) != 1)
        return "no trap";
    if (act.trap_code != WJ_TRAP_STACK_EXHAUSTED)
        return "wrong trap code";
    if (act.trace_len != 32)
        return "trace not full";
    for (int i = 1; i < 32; i++)
        if (trace[i] != at(m.ret_recurse) - 1)
            return "wrong frame";
    /* the thread's stack is usable again */
    uint64_t slots[2] = {1, 2};
    activation_init(&act, registry, trace, 32, NULL);
    if (run(&act, m.add, slots, 2) != 0 || act.ret_gpr != 3)
        return "no clean return after the trap";
    return NULL;
}

START_TEST(stack_overflow_traps_on_the_alternate_stack)
{
    setup();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, &attr, recurse_thread, NULL), 0);
    void *failure;
    pthread_join(t, &failure);
    ck_assert_msg(failure == NULL, "%s", (const char *)failure);
    pthread_attr_destroy(&attr);
    teardown();
}
END_TEST

/* ---- threads ---------------------------------------------------------------- */

/* The permissions ("rw-p") of the mapping of /proc/self/maps that contains
 * addr (or, with `ending`, that ends at addr); false when there is none.
 * (Not msync or mincore: valgrind reports probing unmapped memory.) */
static bool find_mapping(uintptr_t addr, bool ending, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3)
            found = ending ? hi == addr : lo <= addr && addr < hi;
    }
    fclose(f);
    return found;
}

static bool is_mapped(uintptr_t addr)
{
    char perms[5];
    return find_mapping(addr, false, perms);
}

static bool guard_ends_at(uintptr_t end)
{
    char perms[5];
    return find_mapping(end, true, perms) && strcmp(perms, "---p") == 0;
}

enum { ROUNDS = 3000 };

struct worker {
    pthread_barrier_t *start; /* both threads trap at the same time */
    const char *failure;
    int traps;
    void *altstack;
};

static void *trap_worker(void *arg)
{
    struct worker *w = arg;
    if (!signals_thread_init()) {
        w->failure = "signals_thread_init failed";
        return NULL;
    }
    stack_t ss;
    sigaltstack(NULL, &ss);
    w->altstack = ss.ss_sp;
    pthread_barrier_wait(w->start);
    /* each thread its own store: its own registry and activations */
    code_registry *r = code_registry_new();
    int local_owner;
    code_registry_insert(r, &m.code, &local_owner);
    uintptr_t trace[8];
    vm_activation act;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t slots[2] = {(uint64_t)i, 0};
        uint32_t func = i % 4 == 0 ? m.unreachable : i % 4 == 1 ? m.outer : i % 4 == 2 ? m.div : m.add;
        int want = i % 4 == 0 ? WJ_TRAP_UNREACHABLE
                   : i % 4 == 1 ? WJ_TRAP_MEMORY_OUT_OF_BOUNDS
                   : i % 4 == 2 ? WJ_TRAP_INT_DIVIDE_BY_ZERO
                                : 0;
        if (i % 4 == 1)
            slots[0] = 0;
        activation_init(&act, r, trace, 8, NULL);
        int ret = run(&act, func, slots, 2);
        if (ret != (want != 0) || act.trap_code != want) {
            w->failure = "wrong outcome";
            break;
        }
        if (want == 0 && act.ret_gpr != (uint64_t)i) {
            w->failure = "wrong result";
            break;
        }
        if (want == WJ_TRAP_MEMORY_OUT_OF_BOUNDS && act.trace_len != 3) {
            w->failure = "wrong trace";
            break;
        }
        w->traps += ret;
    }
    code_registry_free(r);
    return NULL;
}

START_TEST(threads_trap_concurrently)
{
    setup();
    enum { T = 2 };
    pthread_t threads[T];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, T);
    struct worker workers[T] = {{0}};
    for (int t = 0; t < T; t++) {
        workers[t].start = &start;
        ck_assert_int_eq(pthread_create(&threads[t], NULL, trap_worker, &workers[t]), 0);
    }
    for (int t = 0; t < T; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    for (int t = 0; t < T; t++) {
        ck_assert_msg(workers[t].failure == NULL, "thread %d: %s", t, workers[t].failure);
        ck_assert_int_eq(workers[t].traps, ROUNDS / 4 * 3);
        /* the thread's alternate stack went with it */
        ck_assert_ptr_nonnull(workers[t].altstack);
        ck_assert(!is_mapped((uintptr_t)workers[t].altstack - 1));
        ck_assert(!is_mapped((uintptr_t)workers[t].altstack));
    }
    ck_assert_ptr_ne(workers[0].altstack, workers[1].altstack);
    teardown();
}
END_TEST

/* ---- alternate stacks ------------------------------------------------------- */


static void *altstack_thread(void *arg)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_DISABLE))
        return "a new thread already has an alternate stack";
    if (!signals_thread_init())
        return "signals_thread_init failed";
    if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_DISABLE) || ss.ss_size < 256 * 1024)
        return "no alternate stack of 256 KiB";
    if (!guard_ends_at((uintptr_t)ss.ss_sp))
        return "no guard page below the alternate stack";
    void *first = ss.ss_sp;
    if (!signals_thread_init() || sigaltstack(NULL, &ss) != 0 || ss.ss_sp != first)
        return "a second init replaced the stack";
    *(void **)arg = first;
    return NULL;
}

/* A thread that installs its own alternate stack of `size` bytes first. */
static void *own_altstack_thread(void *arg)
{
    size_t size = *(size_t *)arg;
    void *own = malloc(size);
    stack_t mine = {.ss_sp = own, .ss_size = size}, ss;
    const char *failure = NULL;
    if (sigaltstack(&mine, NULL) != 0 || !signals_thread_init() || sigaltstack(NULL, &ss) != 0)
        failure = "setup failed";
    else if (size >= 256 * 1024 && ss.ss_sp != own)
        failure = "a large enough stack of the application was replaced";
    else if (size < 256 * 1024 && (ss.ss_sp == own || ss.ss_size < 256 * 1024))
        failure = "a small stack of the application was kept";
    /* ours (if any) is freed at exit; the application frees its own after
     * turning it off */
    if (ss.ss_sp == own) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    free(own);
    return (void *)failure;
}

START_TEST(alternate_stack_per_thread)
{
    void *stacks[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        void *failure;
        ck_assert_int_eq(pthread_create(&t, NULL, altstack_thread, &stacks[i]), 0);
        pthread_join(t, &failure);
        ck_assert_msg(failure == NULL, "%s", (const char *)failure);
        /* unmapped at thread exit, guard page included */
        ck_assert(!is_mapped((uintptr_t)stacks[i] - 1));
        ck_assert(!is_mapped((uintptr_t)stacks[i]));
    }

    size_t sizes[] = {512 * 1024, 64 * 1024};
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        void *failure;
        ck_assert_int_eq(pthread_create(&t, NULL, own_altstack_thread, &sizes[i]), 0);
        pthread_join(t, &failure);
        ck_assert_msg(failure == NULL, "%zu bytes: %s", sizes[i], (const char *)failure);
    }
}
END_TEST

/* ---- handler chaining, in fresh processes ------------------------------------ */

static char self_path[PATH_MAX];

/* Runs this program with `--scenario name`; its wait status. */
static int run_scenario(const char *name)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* expected crashes dump nothing */
        alarm(60); /* a scenario that swallows a fault spins; end it */
        char *argv[] = {self_path, "--scenario", (char *)name, NULL};
        execv(self_path, argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

#define ck_assert_scenario_exits_0(name)                                                       \
    do {                                                                                       \
        int st_ = run_scenario(name);                                                          \
        ck_assert_msg(WIFEXITED(st_) && WEXITSTATUS(st_) == 0, "%s: %s %d", name,              \
                      WIFEXITED(st_) ? "exit" : "signal",                                      \
                      WIFEXITED(st_) ? WEXITSTATUS(st_) : WTERMSIG(st_));                      \
    } while (0)

#define ck_assert_scenario_dies_of(name, sig)                                                  \
    do {                                                                                       \
        int st_ = run_scenario(name);                                                          \
        ck_assert_msg(WIFSIGNALED(st_) && WTERMSIG(st_) == (sig), "%s: %s %d", name,           \
                      WIFEXITED(st_) ? "exit" : "signal",                                      \
                      WIFEXITED(st_) ? WEXITSTATUS(st_) : WTERMSIG(st_));                      \
    } while (0)

START_TEST(host_faults_reach_the_previous_handler)
{
    ck_assert_scenario_exits_0("host-fault-siginfo");
    ck_assert_scenario_exits_0("host-fault-handler");
}
END_TEST

START_TEST(non_trap_faults_in_wasm_reach_the_previous_handler)
{
    ck_assert_scenario_exits_0("wasm-no-trap-entry");
    ck_assert_scenario_exits_0("wasm-no-activation");
    ck_assert_scenario_exits_0("wasm-sent-signal");
}
END_TEST

START_TEST(faults_without_a_previous_handler_kill)
{
    ck_assert_scenario_dies_of("host-fault-default", SIGSEGV);
    ck_assert_scenario_dies_of("host-fault-ignored", SIGSEGV);
    ck_assert_scenario_dies_of("wasm-no-trap-entry-default", SIGILL);
}
END_TEST

/* What the previous handlers saw. */
static sigjmp_buf escape;
static volatile sig_atomic_t seen_sig, seen_count, seen_on_altstack;
static void *volatile seen_addr;
static volatile int sink; /* a load whose value is used (valgrind drops dead ones) */
static volatile uintptr_t seen_pc;

static void previous_siginfo(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    stack_t ss;
    seen_sig = sig;
    seen_count++;
    seen_addr = info->si_addr;
    seen_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    seen_on_altstack = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
    siglongjmp(escape, 1);
}

static void previous_plain(int sig)
{
    seen_sig = sig;
    seen_count++;
    siglongjmp(escape, 1);
}

static bool set_previous(int sig, bool siginfo)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (siginfo) {
        sa.sa_sigaction = previous_siginfo;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = previous_plain;
    }
    return sigaction(sig, &sa, NULL) == 0;
}

static void *inaccessible_page(void)
{
    void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* A ud2 that is no trap site, or a trap site with no activation. */
static void enter_faulting(bool no_activation, vm_activation *act)
{
    if (no_activation)
        wj__enter_wasm(vmctx, (const void *)at(m.unreachable), NULL, 0, act);
    else
        run(act, m.bad_ud2, NULL, 0);
}

static int scenario(const char *name)
{
    if (strncmp(name, "host-fault-", 11) == 0) {
        bool is_default = strcmp(name, "host-fault-default") == 0;
        bool is_ignored = strcmp(name, "host-fault-ignored") == 0;
        if (is_ignored)
            signal(SIGSEGV, SIG_IGN);
        else if (!is_default && !set_previous(SIGSEGV, strcmp(name, "host-fault-siginfo") == 0))
            return 10;
        if (!signals_install() || !signals_thread_init())
            return 11;
        volatile int *page = inaccessible_page();
        if (!page)
            return 12;
        if (sigsetjmp(escape, 1) == 0) {
            sink = *page; /* a host crash: only the previous handler may stop it */
            return 13;
        }
        if (seen_sig != SIGSEGV || seen_count != 1)
            return 14;
        if (strcmp(name, "host-fault-siginfo") == 0 &&
            (seen_addr != (void *)page || !seen_on_altstack))
            return 15;
        /* the handlers stay in place: a second fault goes the same way */
        if (sigsetjmp(escape, 1) == 0) {
            sink = *page;
            return 16;
        }
        return seen_count == 2 ? 0 : 17;
    }

    if (strncmp(name, "wasm-", 5) == 0) {
        bool is_default = strcmp(name, "wasm-no-trap-entry-default") == 0;
        bool sent = strcmp(name, "wasm-sent-signal") == 0;
        if (!is_default && !set_previous(sent ? SIGSEGV : SIGILL, true))
            return 20;
        if (!signals_install() || !signals_thread_init())
            return 21;
        if (!build_module())
            return 22;
        registry = code_registry_new();
        if (!registry || !code_registry_insert(registry, &m.code, &owner))
            return 22;
        uintptr_t trace[4];
        vm_activation act;
        activation_init(&act, registry, trace, 4, NULL);
        bool no_activation = strcmp(name, "wasm-no-activation") == 0;
        if (sigsetjmp(escape, 1) == 0) {
            if (sent) {
                uint64_t slots[2] = {(uint64_t)getpid(), (uint64_t)gettid()};
                run(&act, m.tgkill, slots, 2);
            } else {
                enter_faulting(no_activation, &act);
            }
            return 23;
        }
        wj__activation = NULL; /* we left by siglongjmp */
        uintptr_t site = at(sent            ? m.tgkill_after
                            : no_activation ? m.unreachable_site
                                            : m.bad_ud2_site);
        if (seen_sig != (sent ? SIGSEGV : SIGILL) || seen_count != 1)
            return 24;
        if (seen_pc != site)
            return 26;
        if (act.trap_code != 0 || act.trace_len != 0)
            return 25; /* not recorded as a trap */
        code_registry_free(registry);
        free_module();
        return 0;
    }
    return 99;
}

/* ---- v128 across the trampolines ------------------------------------------- */

static const uint8_t v128_bytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

START_TEST(v128_result_in_all_of_xmm0)
{
    setup();
    vm_activation act;
    uint64_t slots[2];
    memcpy(slots, v128_bytes, 16);
    activation_init(&act, registry, NULL, 0, NULL);
    ck_assert_int_eq(run(&act, m.v128_ret, slots, 2), 0);
    ck_assert_mem_eq(act.ret_xmm, v128_bytes, 16);
    teardown();
}
END_TEST

/* (v128 i32) -> v128: the bytes reversed, each xor'ed with the i32. */
static wj_trap *reverse_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    ck_assert_int_eq(args[0].kind, WJ_V128);
    ck_assert_mem_eq(args[0].of.v128, v128_bytes, 16);
    ck_assert_int_eq(args[1].kind, WJ_I32);
    ck_assert_int_eq(args[1].of.i32, 0x40);
    results[0].kind = WJ_V128;
    for (int i = 0; i < 16; i++)
        results[0].of.v128[i] = args[0].of.v128[15 - i] ^ (uint8_t)args[1].of.i32;
    return NULL;
}

/* (i32 v128) -> (i64 v128 f32): the v128 unchanged between the others. */
static wj_trap *spread_cb(void *env, wj_caller *caller, const wj_val *args, wj_val *results)
{
    ck_assert_int_eq(args[0].of.i32, -7);
    ck_assert_int_eq(args[1].kind, WJ_V128);
    ck_assert_mem_eq(args[1].of.v128, v128_bytes, 16);
    results[0] = (wj_val){.kind = WJ_I64, .of.i64 = INT64_MIN + 5};
    results[1] = args[1];
    results[2] = (wj_val){.kind = WJ_F32, .of.f32 = -1.5f};
    return NULL;
}

/* A host function called from compiled code finds its v128 parameters in
 * two units each, wherever they fall (8-aligned only), writes v128 results
 * the same way, and returns a single v128 in all of xmm0. */
START_TEST(v128_through_the_host_trampoline)
{
    setup();
    wj_engine *e = wj_engine_new(NULL);
    wj_store *s = wj_store_new(e);
    static const uint8_t rev_params[] = {WJ_V128, WJ_I32}, rev_results[] = {WJ_V128};
    wj_func *rev = wj_func_new(s, &(wj_functype){2, 1, rev_params, rev_results}, reverse_cb,
                               NULL, NULL);
    static const uint8_t spread_params[] = {WJ_I32, WJ_V128};
    static const uint8_t spread_results[] = {WJ_I64, WJ_V128, WJ_F32};
    wj_func *spread = wj_func_new(s, &(wj_functype){2, 3, spread_params, spread_results},
                                  spread_cb, NULL, NULL);
    ck_assert_ptr_nonnull(rev);
    ck_assert_ptr_nonnull(spread);

    vm_activation act;
    uint64_t slots[5] = {0, 0, 0x40, 0, (uintptr_t)rev};
    memcpy(slots, v128_bytes, 16);
    activation_init(&act, registry, NULL, 0, NULL);
    ck_assert_int_eq(run(&act, m.host_units, slots, 5), 0);
    uint8_t want[16];
    for (int i = 0; i < 16; i++)
        want[i] = (uint8_t)(16 - i) ^ 0x40;
    ck_assert_mem_eq(act.ret_xmm, want, 16);
    ck_assert_uint_eq(act.ret_gpr, 0x494a4b4c4d4e4f50u); /* rax: its first unit */

    uint64_t area[5] = {(uint32_t)-7, 0, 0, 0, (uintptr_t)spread};
    memcpy(&area[1], v128_bytes, 16);
    activation_init(&act, registry, NULL, 0, NULL);
    ck_assert_int_eq(run(&act, m.host_units, area, 5), 0);
    ck_assert_uint_eq(area[0], (uint64_t)INT64_MIN + 5);
    ck_assert_mem_eq(&area[1], v128_bytes, 16);
    ck_assert_uint_eq(area[3], 0xbfc00000u); /* -1.5f, zero-extended */
    wj_store_delete(s);
    wj_engine_delete(e);
    teardown();
}
END_TEST

static Suite *signals_suite(void)
{
    Suite *s = suite_create("signals");
    TCase *traps = tcase_create("traps");
    tcase_add_test(traps, unreachable_traps_and_lands);
    tcase_add_test(traps, landing_clears_the_direction_flag);
    tcase_add_test(traps, out_of_bounds_load_traps);
    tcase_add_test(traps, divide_by_zero_traps);
    tcase_add_test(traps, backtrace_of_nested_calls);
    tcase_add_test(traps, backtrace_across_activations);
    tcase_add_test(traps, capture_walks_frames_defensively);
    tcase_add_test(traps, stack_overflow_traps_on_the_alternate_stack);
    tcase_add_test(traps, threads_trap_concurrently);
    tcase_set_timeout(traps, 120); /* valgrind delivers signals slowly */
    suite_add_tcase(s, traps);
    TCase *v128 = tcase_create("v128");
    tcase_add_test(v128, v128_result_in_all_of_xmm0);
    tcase_add_test(v128, v128_through_the_host_trampoline);
    suite_add_tcase(s, v128);
    TCase *stacks = tcase_create("altstack");
    tcase_add_test(stacks, alternate_stack_per_thread);
    suite_add_tcase(s, stacks);
    TCase *chain = tcase_create("chaining");
    tcase_add_test(chain, host_faults_reach_the_previous_handler);
    tcase_add_test(chain, non_trap_faults_in_wasm_reach_the_previous_handler);
    tcase_add_test(chain, faults_without_a_previous_handler_kill);
    tcase_set_timeout(chain, 120);
    suite_add_tcase(s, chain);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--scenario") == 0)
        return scenario(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0)
        snprintf(self_path, sizeof self_path, "%s", argv[0]);
    else
        self_path[n] = '\0';
    return unit_run(signals_suite());
}
