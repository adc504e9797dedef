/*
 * Per-thread alternate signal stacks, so that the fault handler can run
 * when wasm (or the host) has exhausted the thread's stack.
 *
 * Ours are an mmap with a PROT_NONE guard page below (a handler that
 * overflows faults instead of scribbling on the neighbouring mapping). A
 * pthread key remembers the stack and frees it when the thread exits.
 */
#define _GNU_SOURCE /* MAP_STACK */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "signals.h"

enum { ALTSTACK_SIZE = 256 * 1024 };

static pthread_key_t altstack_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_errno;

static size_t guard_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

/* Thread exit: stop using the stack before unmapping it. Another alternate
 * stack installed since then by someone else is theirs to keep. */
static void free_altstack(void *mapping)
{
    size_t guard = guard_size();
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
        cur.ss_sp == (char *)mapping + guard) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    munmap(mapping, guard + ALTSTACK_SIZE);
}

static void create_key(void)
{
    key_errno = pthread_key_create(&altstack_key, free_altstack);
}

bool signals_thread_init(void)
{
    pthread_once(&key_once, create_key);
    if (key_errno != 0) {
        errno = key_errno;
        return false;
    }
    if (pthread_getspecific(altstack_key))
        return true; /* ours already */
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        return false;
    if (!(cur.ss_flags & SS_DISABLE) && cur.ss_size >= ALTSTACK_SIZE)
        return true; /* the application's own, large enough */

    size_t guard = guard_size();
    char *mapping = mmap(NULL, guard + ALTSTACK_SIZE, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED)
        return false;
    stack_t ss = {.ss_sp = mapping + guard, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    int err = 0;
    if (mprotect(mapping + guard, ALTSTACK_SIZE, PROT_READ | PROT_WRITE) != 0 ||
        sigaltstack(&ss, NULL) != 0)
        err = errno;
    else if ((err = pthread_setspecific(altstack_key, mapping)) != 0)
        sigaltstack(&cur, NULL); /* put back what was there */
    if (err != 0) {
        munmap(mapping, guard + ALTSTACK_SIZE);
        errno = err;
        return false;
    }
    return true;
}
