/*
 * The fault handler: turns a fault at a trap site of wasm code into a trap
 * of the current activation and resumes at its landing pad; hands any other
 * fault to whoever handled the signal before us.
 *
 * Everything here that runs in the handler is async-signal-safe: it reads
 * the activation (initial-exec TLS) and records the trap through
 * signals_record_trap (record.c), which neither locks nor allocates.
 */
#define _GNU_SOURCE /* REG_RIP and friends */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#include "signals.h"

__thread vm_activation *wj__activation __attribute__((tls_model("initial-exec")));

static const int handled_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
enum { NHANDLED = sizeof handled_signals / sizeof handled_signals[0] };

/* The dispositions we replaced, indexed like handled_signals. Written once,
 * before our handler is installed for that signal. */
static struct sigaction previous[NHANDLED];

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_errno;

static struct sigaction *previous_of(int sig)
{
    for (int i = 0; i < NHANDLED; i++)
        if (handled_signals[i] == sig)
            return &previous[i];
    return NULL;
}

/* Not a wasm trap: behave as if we had never been installed. */
static void forward(int sig, siginfo_t *info, void *context)
{
    const struct sigaction *prev = previous_of(sig);
    if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
        /* Returning re-executes the faulting instruction, which now gets
         * the default action: the process dies of the original signal with
         * the original state, so a host crash is never swallowed. (A
         * synchronous fault is not ignorable, hence SIG_IGN too.) */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        return;
    }

    /* Give the previous handler the mask it asked for; the kernel restores
     * the interrupted mask when we return. */
    sigset_t mask = prev->sa_mask;
    if (!(prev->sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (prev->sa_flags & SA_RESETHAND) {
        /* One-shot: what the kernel would have done before calling it. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
    }
    if (prev->sa_flags & SA_SIGINFO)
        prev->sa_sigaction(sig, info, context);
    else
        prev->sa_handler(sig);
}

/* Whether the fault is a trap of the current activation; if so, records it
 * and points the context at the landing pad. */
static bool resume_trap(const siginfo_t *info, ucontext_t *uc)
{
    /* A signal sent by kill() or sigqueue() is not a fault, whatever the
     * interrupted PC. */
    if (info->si_code <= 0)
        return false;
    vm_activation *act = wj__activation;
    if (!act)
        return false;
    greg_t *regs = uc->uc_mcontext.gregs;
    /* Compiled code keeps rbp as its frame pointer, above rsp; anything
     * else means the frames cannot be trusted, so record the PC alone. */
    uintptr_t fp = (uintptr_t)regs[REG_RBP];
    if (fp < (uintptr_t)regs[REG_RSP])
        fp = 0;
    if (!signals_record_trap(act, (uintptr_t)regs[REG_RIP], fp))
        return false;

    regs[REG_RIP] = (greg_t)act->landing_pc;
    regs[REG_RSP] = (greg_t)act->landing_sp;
    regs[REG_RBP] = (greg_t)act->landing_fp;
    /* The host's ABI wants the direction flag clear on return. */
    regs[REG_EFL] &= ~(greg_t)0x400;
    return true;
}

static void handle_fault(int sig, siginfo_t *info, void *context)
{
    int saved_errno = errno;
    if (!resume_trap(info, context))
        forward(sig, info, context);
    errno = saved_errno;
}

static void install(void)
{
    struct sigaction ours;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = handle_fault;
    ours.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&ours.sa_mask);

    for (int i = 0; i < NHANDLED; i++) {
        /* Read the old disposition first so that it is in place before a
         * fault on another thread can reach our handler. */
        if (sigaction(handled_signals[i], NULL, &previous[i]) != 0 ||
            sigaction(handled_signals[i], &ours, NULL) != 0) {
            install_errno = errno;
            while (i-- > 0)
                sigaction(handled_signals[i], &previous[i], NULL);
            return;
        }
    }
}

bool signals_install(void)
{
    int err = pthread_once(&install_once, install);
    if (err == 0)
        err = install_errno;
    if (err != 0) {
        errno = err;
        return false;
    }
    return true;
}
