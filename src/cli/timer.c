/*
 * --timeout: a thread that advances the engine's epoch once the time is up.
 * The store's deadline is one tick away, so the guest traps with
 * "interrupt" at its next function entry or loop header.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct cli_timer {
    wj_engine *engine;
    struct timespec due; /* CLOCK_MONOTONIC */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled when the run ends first */
    bool done;
    pthread_t thread;
};

static void *timer_main(void *arg)
{
    cli_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    int r = 0;
    while (!t->done && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&t->cond, &t->lock, &t->due);
    if (!t->done)
        wj_engine_increment_epoch(t->engine);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

cli_timer *cli_timer_start(wj_engine *engine, uint64_t ns)
{
    cli_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->engine = engine;
    clock_gettime(CLOCK_MONOTONIC, &t->due);
    uint64_t sec = ns / 1000000000u + (uint64_t)t->due.tv_sec;
    long nsec = (long)(ns % 1000000000u) + t->due.tv_nsec;
    if (nsec >= 1000000000L)
        sec++, nsec -= 1000000000L;
    t->due.tv_sec = sec > (uint64_t)INT64_MAX ? INT64_MAX : (time_t)sec;
    t->due.tv_nsec = nsec;
    pthread_condattr_t attr;
    bool ok = pthread_condattr_init(&attr) == 0;
    ok = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&t->cond, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void cli_timer_stop(cli_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->done = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

bool cli_parse_duration(const char *s, uint64_t *ns)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
                 {"m", 60000000000}, {"h", 3600000000000}, {"", 1000000000}};
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno)
        return false;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double total = v * (double)units[i].ns;
        if (!(total >= 1) || total >= 1.8e19)
            return false;
        *ns = (uint64_t)total;
        return true;
    }
    return false;
}
