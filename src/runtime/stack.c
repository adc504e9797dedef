/* The calling thread's native stack, as the wasm stack limit sees it. */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <pthread.h>
#include <stdbool.h>

#include "stack.h"

/* The thread's stack [low, high); both 0 when it cannot be known. */
static __thread struct {
    uintptr_t low, high;
    bool learnt;
} thread_stack __attribute__((tls_model("initial-exec")));

void stack_learn_thread(void)
{
    if (thread_stack.learnt)
        return;
    thread_stack.learnt = true;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return; /* no /proc for the main thread: the budget alone limits wasm */
    void *low;
    size_t size;
    if (pthread_attr_getstack(&attr, &low, &size) == 0) {
        thread_stack.low = (uintptr_t)low;
        thread_stack.high = (uintptr_t)low + size;
    }
    pthread_attr_destroy(&attr);
}

uintptr_t stack_limit_at(uintptr_t here, size_t budget)
{
    stack_learn_thread();
    uintptr_t limit = here > budget ? here - budget : 0;
    /* On a stack of its own (a coroutine's), the thread's bounds say
     * nothing about how much is left. */
    if (here < thread_stack.low || here >= thread_stack.high)
        return limit;
    /* Above `here` when not even the reserve is left: the first call traps. */
    uintptr_t floor = thread_stack.low + STACK_HOST_RESERVE;
    return limit > floor ? limit : floor;
}
