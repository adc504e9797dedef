/* WASI: arguments, environment, clocks, randomness, scheduling, poll. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "wasi.h"

/* Writes the strings at buf and pointers to them at ptrs (both guest
 * addresses), as args_get and environ_get do. */
static uint16_t strings_get(wasi_call *c, const wasi_strings *s, uint64_t ptrs, uint64_t buf)
{
    if (!guest_ptr(c, ptrs, (uint64_t)s->count * 4) || !guest_ptr(c, buf, s->bytes))
        return WASI_EFAULT;
    for (size_t i = 0; i < s->count; i++) {
        size_t len = strlen(s->items[i]) + 1;
        guest_u32(c, ptrs + 4 * i, (uint32_t)buf);
        guest_store(c, buf, s->items[i], len);
        buf += len;
    }
    return WASI_ESUCCESS;
}

static uint16_t strings_sizes_get(wasi_call *c, const wasi_strings *s, uint64_t count,
                                  uint64_t bytes)
{
    if (!guest_ptr(c, count, 4) || !guest_ptr(c, bytes, 4))
        return WASI_EFAULT;
    guest_u32(c, count, (uint32_t)s->count);
    guest_u32(c, bytes, (uint32_t)s->bytes);
    return WASI_ESUCCESS;
}

static uint16_t args_get(wasi_call *c, const uint64_t *a)
{
    return strings_get(c, &c->wasi->config.args, a[0], a[1]);
}

static uint16_t args_sizes_get(wasi_call *c, const uint64_t *a)
{
    return strings_sizes_get(c, &c->wasi->config.args, a[0], a[1]);
}

static uint16_t environ_get(wasi_call *c, const uint64_t *a)
{
    return strings_get(c, &c->wasi->config.env, a[0], a[1]);
}

static uint16_t environ_sizes_get(wasi_call *c, const uint64_t *a)
{
    return strings_sizes_get(c, &c->wasi->config.env, a[0], a[1]);
}

static bool host_clock(uint64_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static uint64_t ns_of(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* The time of a WASI clock in ns; monotonic time counts from the context's
 * creation. */
static uint16_t clock_now(const wj_wasi *w, uint64_t id, uint64_t *ns)
{
    clockid_t clock;
    struct timespec ts;
    if (!host_clock(id, &clock))
        return WASI_EINVAL;
    if (clock_gettime(clock, &ts) != 0)
        return wasi_errno(errno);
    *ns = ns_of(&ts);
    if (id == WASI_CLOCK_MONOTONIC)
        *ns -= w->monotonic_origin;
    return WASI_ESUCCESS;
}

static uint16_t clock_res_get(wasi_call *c, const uint64_t *a)
{
    clockid_t clock;
    struct timespec ts;
    if (!host_clock(a[0], &clock))
        return WASI_EINVAL;
    if (clock_getres(clock, &ts) != 0)
        return wasi_errno(errno);
    return guest_u64(c, a[1], ns_of(&ts)) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t clock_time_get(wasi_call *c, const uint64_t *a)
{
    uint64_t ns;
    uint16_t err = clock_now(c->wasi, a[0], &ns);
    if (err)
        return err;
    return guest_u64(c, a[2], ns) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint16_t random_get(wasi_call *c, const uint64_t *a)
{
    uint8_t *p = guest_ptr(c, a[0], a[1]);
    if (!p)
        return WASI_EFAULT;
    for (uint64_t done = 0; done < a[1];) {
        ssize_t n = getrandom(p + done, a[1] - done, 0);
        if (n < 0 && errno != EINTR)
            return wasi_errno(errno);
        if (n > 0)
            done += (uint64_t)n;
    }
    return WASI_ESUCCESS;
}

static uint16_t sched_yield_(wasi_call *c, const uint64_t *a)
{
    (void)c, (void)a;
    sched_yield();
    return WASI_ESUCCESS;
}

/* One subscription, read from guest memory. */
typedef struct subscription {
    uint64_t userdata;
    uint8_t type;
    uint16_t error;          /* found while reading it: reported in its event */
    uint64_t deadline;       /* clock: absolute, in the clock's ns */
    uint32_t clock_id;
    int host_fd;             /* fd_read, fd_write */
} subscription;

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void write_event(wasi_call *c, uint64_t at, const subscription *s, uint64_t nbytes,
                        uint16_t flags)
{
    uint8_t e[WASI_EVENT_SIZE] = {0};
    memcpy(e, &s->userdata, 8);
    memcpy(e + 8, &s->error, 2);
    e[10] = s->type;
    memcpy(e + 16, &nbytes, 8);
    memcpy(e + 24, &flags, 2);
    guest_store(c, at, e, sizeof e);
}

/*
 * poll_oneoff: clocks (relative or absolute) and readiness of descriptors.
 * Waits with ppoll until a descriptor is ready or the earliest clock
 * expires; reports every subscription that is ready then.
 */
static uint16_t poll_oneoff(wasi_call *c, const uint64_t *a)
{
    uint64_t in = a[0], out = a[1], n = a[2], nevents_at = a[3];
    if (n == 0)
        return WASI_EINVAL;
    const uint8_t *subs = guest_ptr(c, in, n * WASI_SUBSCRIPTION_SIZE);
    if (!subs || !guest_ptr(c, out, n * WASI_EVENT_SIZE) || !guest_ptr(c, nevents_at, 4))
        return WASI_EFAULT;
    subscription *s = calloc(n, sizeof *s);
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    if (!s || !pfd) {
        free(s);
        free(pfd);
        return WASI_ENOMEM;
    }
    /* The earliest clock deadline, as a monotonic host time. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now_mono = ns_of(&ts);
    uint64_t wait_until = UINT64_MAX;
    size_t nfds = 0;
    uint32_t ready = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = subs + i * WASI_SUBSCRIPTION_SIZE;
        s[i].userdata = load_u64(p);
        s[i].type = p[8];
        s[i].host_fd = -1;
        if (s[i].type == WASI_EVENT_CLOCK) {
            s[i].clock_id = load_u32(p + 16);
            uint64_t timeout = load_u64(p + 24);
            uint16_t flags;
            memcpy(&flags, p + 40, 2);
            uint64_t now;
            s[i].error = clock_now(c->wasi, s[i].clock_id, &now);
            if (s[i].error) {
                ready++;
                continue;
            }
            /* How long from now, then the same span on the host's monotonic clock. */
            uint64_t span = flags & WASI_SUBCLOCK_ABSTIME ? (timeout > now ? timeout - now : 0)
                                                          : timeout;
            s[i].deadline = span > UINT64_MAX - now_mono ? UINT64_MAX : now_mono + span;
            if (s[i].deadline < wait_until)
                wait_until = s[i].deadline;
        } else if (s[i].type == WASI_EVENT_FD_READ || s[i].type == WASI_EVENT_FD_WRITE) {
            bool read = s[i].type == WASI_EVENT_FD_READ;
            wasi_fd *f = fd_get(c->wasi, load_u32(p + 16),
                                read ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE, &s[i].error);
            if (!f) {
                ready++;
                continue;
            }
            s[i].host_fd = f->host;
            pfd[nfds++] = (struct pollfd){f->host, read ? POLLIN : POLLOUT, 0};
        } else {
            s[i].error = WASI_EINVAL;
            ready++;
        }
    }
    for (;;) {
        struct timespec timeout, *tp = NULL;
        if (ready) {
            timeout = (struct timespec){0, 0};
            tp = &timeout;
        } else if (wait_until != UINT64_MAX) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t left = wait_until > ns_of(&ts) ? wait_until - ns_of(&ts) : 0;
            timeout = (struct timespec){(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
            tp = &timeout;
        }
        int r = ppoll(pfd, nfds, tp, NULL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(s);
            free(pfd);
            return wasi_errno(errno);
        }
        break;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_mono = ns_of(&ts);
    uint32_t nevents = 0;
    size_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = out + (uint64_t)nevents * WASI_EVENT_SIZE;
        if (s[i].error) {
            write_event(c, at, &s[i], 0, 0);
            nevents++;
        } else if (s[i].type == WASI_EVENT_CLOCK) {
            if (s[i].deadline <= now_mono) {
                write_event(c, at, &s[i], 0, 0);
                nevents++;
            }
        } else {
            struct pollfd *q = &pfd[k++];
            if (q->revents & POLLNVAL) {
                s[i].error = WASI_EBADF;
                write_event(c, at, &s[i], 0, 0);
                nevents++;
            } else if (q->revents) {
                /* Bytes available are not known without a syscall per
                 * descriptor type; 1 tells the guest "at least some". */
                uint16_t flags = q->revents & POLLHUP ? WASI_EVENTRW_HANGUP : 0;
                write_event(c, at, &s[i], 1, flags);
                nevents++;
            }
        }
    }
    free(s);
    free(pfd);
    guest_u32(c, nevents_at, nevents);
    return WASI_ESUCCESS;
}

const wasi_function wasi_env_functions[] = {
    {"args_get", "ii", args_get},
    {"args_sizes_get", "ii", args_sizes_get},
    {"environ_get", "ii", environ_get},
    {"environ_sizes_get", "ii", environ_sizes_get},
    {"clock_res_get", "ii", clock_res_get},
    {"clock_time_get", "iIi", clock_time_get},
    {"random_get", "ii", random_get},
    {"sched_yield", "", sched_yield_},
    {"poll_oneoff", "iiii", poll_oneoff},
    {NULL, NULL, NULL},
};
