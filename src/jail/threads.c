/*
 * The jail's precondition: one thread. Landlock restricts the thread that
 * enters it and the threads that thread starts later, not threads that
 * already run (this kernel interface has no way to reach them), and a
 * thread outside it could open any file the user can, for code that took
 * over any other thread. So the jail is entered by a process of one thread
 * or not at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/error.h"

#include "jail.h"

/* The threads of the process (-1 when /proc/self/status cannot be read,
 * 0 when it has no count). */
static long count_threads(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    long threads = 0;
    while (fgets(line, sizeof line, f) && sscanf(line, "Threads: %ld", &threads) != 1)
        continue;
    fclose(f);
    return threads;
}

/* A thread still counts for a moment after pthread_join returned (the
 * kernel wakes the joiner before it reaps the thread), and the compile
 * threads of wj_module_new were joined just before: so more than one
 * thread is counted again, for up to this long, before it is believed. */
#define EXITING_THREADS_WAIT_MS 100

wj_error *jail_check_one_thread(void)
{
    long threads = count_threads();
    for (int ms = 0; threads > 1 && ms < EXITING_THREADS_WAIT_MS; ms++) {
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        threads = count_threads();
    }
    if (threads < 0)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET,
                            "jail: cannot count the threads of the process: /proc/self/status: %s",
                            strerror(errno));
    if (threads == 1)
        return NULL;
    if (threads < 1)
        return rt_error_new(WJ_ERROR_UNSUPPORTED, WJ_NO_OFFSET,
                            "jail: cannot count the threads of the process: no \"Threads:\" "
                            "line in /proc/self/status");
    return rt_error_new(WJ_ERROR_USAGE, WJ_NO_OFFSET,
                        "jail: the process has %ld threads; enter the jail before starting any "
                        "other (Landlock confines only the calling thread and the threads it "
                        "starts later)",
                        threads);
}
