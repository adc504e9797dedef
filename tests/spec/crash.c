/* When the library crashes, say on which command before dying: without this,
 * a crash in the decoder would leave no clue about the module at fault. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"

static const char *volatile crash_path;
static volatile long crash_line;

void crash_report_at(const char *path, long line)
{
    crash_path = path;
    crash_line = line;
}

static void write_string(const char *s)
{
    ssize_t ignored = write(STDOUT_FILENO, s, strlen(s));
    (void)ignored;
}

static void write_number(unsigned long n)
{
    char digits[24];
    char *p = digits + sizeof digits;
    *--p = 0;
    do
        *--p = (char)('0' + n % 10);
    while (n /= 10);
    write_string(p);
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    }
    return "fatal signal";
}

/* Async-signal-safe: write(2), sigaction and sigprocmask only. Then dies of
 * the same signal. The library's fault handlers may call this one directly
 * (chaining a fault that is not a wasm trap) with the signal blocked and
 * their own handler still installed, so the default action is restored and
 * the signal unblocked before it is raised again. */
static void report_crash(int sig)
{
    static volatile sig_atomic_t reported;
    const char *path = crash_path;
    if (path && !reported) {
        reported = 1;
        write_string("FAIL ");
        write_string(path);
        if (crash_line > 0) {
            write_string(":");
            write_number((unsigned long)crash_line);
        }
        write_string(": spec-runner crashed here: ");
        write_string(signal_name(sig));
        write_string("\n");
    }
    struct sigaction default_action = {.sa_handler = SIG_DFL};
    sigemptyset(&default_action.sa_mask);
    sigaction(sig, &default_action, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

void crash_report_install(void)
{
    /* An alternate stack, so that a stack overflow is reported too. */
    static char alternate_stack[64 * 1024];
    stack_t stack = {.ss_sp = alternate_stack, .ss_size = sizeof alternate_stack};
    sigaltstack(&stack, NULL);
    struct sigaction action = {.sa_handler = report_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND};
    sigemptyset(&action.sa_mask);
    static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaction(fatal_signals[i], &action, NULL);
}
