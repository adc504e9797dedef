/*
 * mutate-fuzz: a deterministic mutation fuzzer for the decoder and validator.
 *
 *   mutate-fuzz [--seed N] [--iterations N] [--start N] [--features LIST]
 *               [--save-dir DIR] [--timeout SECS] [--inspect] [--strict]
 *               [--verbose] FILE.wasm...
 *
 * Reads the seed modules, then for each iteration picks a seed, applies 1-8
 * random mutations (fewer more often): bit flips, interesting bytes, byte
 * arithmetic, insertions, deletions, duplicated chunks, truncation, overlong
 * or huge LEB128s, whole-section deletion/duplication/swaps, splices with
 * another seed. Half of the length-changing ones then fix up the size of the
 * enclosing section and function body, so that the decoder reads on. Each
 * result goes to wj_module_validate() twice: with the features of --features
 * (default: all of them) and with the library's defaults.
 *
 * Every iteration draws from its own PRNG, seeded from (--seed, iteration
 * number), so `--seed S --start I --iterations 1 --save-dir DIR` reproduces
 * iteration I of any run over the same FILEs (given in the same order) and
 * leaves its input in DIR/current.wasm.
 *
 * Crashes are the sanitizers' business (ASan/UBSan end the process); before
 * it dies, the driver names the iteration and, with --save-dir, leaves the
 * input in DIR/crash-SEED-ITERATION.wasm. An iteration that takes longer than
 * --timeout seconds (default 60; 0 = no limit) is reported the same way and
 * aborts.
 *
 * The driver also checks the API's contract on every result and counts
 * "anomalies": an error without a message or with an unknown kind, an error
 * offset past the end of the input, a module that the defaults accept but a
 * superset of the default features rejects, and with --inspect a section
 * past the end or an accessor answering out of range. They are printed (the
 * first few) and counted; with --strict any anomaly makes the exit status 1.
 *
 * --inspect: for each module accepted with --features, also builds it with
 * wj_module_new() and reads everything back through the accessors.
 *
 * Exit status: 0 after a run, 1 with --strict and anomalies, 2 for a usage
 * error or a failure of the driver itself (unreadable seed, out of memory,
 * unwritable --save-dir). A sanitizer report ends the process with the
 * sanitizer's status (1 for ASan and UBSan; UBSAN_OPTIONS=print_stacktrace=1
 * adds UBSan's stack traces); a fatal signal or a timeout, with that signal.
 *
 * Uses the public API (include/wasmjail.h) only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasmjail.h"

/* Sanitizer runtimes call this, when present, just before they exit. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#define MAX_MUTATIONS 8
#define MAX_SHOWN_ANOMALIES 10
#define MAX_SECTIONS 64

static const char *progname = "mutate-fuzz";

/* ------------------------------------------------------------------------ */
/* Deterministic PRNG: splitmix64.                                          */

typedef struct {
    uint64_t state;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The stream of one iteration: independent of every other iteration. */
static rng_t rng_for_iteration(uint64_t seed, uint64_t iteration)
{
    rng_t r = {seed};
    r.state = rng_next(&r) ^ (iteration * UINT64_C(0xd1b54a32d192ed03));
    rng_next(&r);
    return r;
}

/* Uniform in [0, n); n > 0. */
static size_t rng_below(rng_t *r, size_t n)
{
    return (size_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static bool rng_chance(rng_t *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

/* ------------------------------------------------------------------------ */
/* Driver failures.                                                         */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Byte buffers.                                                            */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t need)
{
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        die("out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

static void buf_set(buf_t *b, const uint8_t *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
}

/* Replaces [pos, pos + old_len) with `len` bytes from `data` (which must not
 * point into b), or with `len` unspecified bytes when data is NULL. */
static void buf_replace(buf_t *b, size_t pos, size_t old_len, const uint8_t *data, size_t len)
{
    buf_reserve(b, b->len - old_len + len);
    memmove(b->data + pos + len, b->data + pos + old_len, b->len - pos - old_len);
    if (data && len)
        memcpy(b->data + pos, data, len);
    b->len = b->len - old_len + len;
}

/* ------------------------------------------------------------------------ */
/* Seeds.                                                                   */

typedef struct {
    const char *path;
    uint8_t *data;
    size_t len;
} seed_t;

static seed_t *seeds;
static size_t nseeds;

static void read_seed(const char *path, seed_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    buf_t b = {0};
    for (;;) {
        buf_reserve(&b, b.len + 65536);
        size_t n = fread(b.data + b.len, 1, b.cap - b.len, f);
        b.len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    out->path = path;
    out->data = b.data;
    out->len = b.len;
}

/* ------------------------------------------------------------------------ */
/* Top-level section layout of the current bytes (best effort).             */

typedef struct {
    size_t start;    /* the id byte */
    size_t size_pos; /* the size LEB128 */
    size_t size_len; /* its length in bytes */
    size_t content;  /* first byte of the contents */
    size_t end;      /* one past the contents (clamped to the buffer) */
} section_t;

/* Reads an unsigned LEB128 of at most 10 bytes at p[pos..len). Returns its
 * length (0 if it does not end inside the buffer or within 10 bytes). */
static size_t read_leb(const uint8_t *p, size_t len, size_t pos, uint64_t *value)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 10 && pos + i < len; i++) {
        uint8_t byte = p[pos + i];
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *value = v;
            return i + 1;
        }
    }
    return 0;
}

static size_t find_sections(const buf_t *b, section_t *out)
{
    size_t n = 0, pos = 8;
    while (pos < b->len && n < MAX_SECTIONS) {
        uint64_t size;
        size_t leb = read_leb(b->data, b->len, pos + 1, &size);
        if (leb == 0)
            break;
        section_t *s = &out[n++];
        s->start = pos;
        s->size_pos = pos + 1;
        s->size_len = leb;
        s->content = pos + 1 + leb;
        s->end = size > b->len - s->content ? b->len : s->content + (size_t)size;
        pos = s->end;
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* Mutations.                                                               */

static const uint8_t interesting[] = {0x00, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x60};

typedef struct {
    buf_t *b;
    rng_t *rng;
    size_t max_len;
    section_t sections[MAX_SECTIONS];
    size_t nsections;
    char log[512]; /* what was done, for --verbose */
    size_t log_len;
} mutator_t;

static void note(mutator_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(mutator_t *m, const char *fmt, ...)
{
    if (m->log_len >= sizeof m->log - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->log + m->log_len, sizeof m->log - m->log_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->log_len += (size_t)n < sizeof m->log - m->log_len ? (size_t)n : sizeof m->log - m->log_len - 1;
}

/* A position in the buffer ([0, len) or, with `at_end`, [0, len]): often
 * near the start of a section, where the headers and counts are; mostly
 * inside the contents of a non-custom section (Sightglass programs carry
 * big custom debug sections, where any change is accepted); now and then in
 * the preamble or anywhere. */
static size_t pick_pos(mutator_t *m, bool at_end)
{
    size_t len = m->b->len;
    size_t n = len + (at_end ? 1 : 0);
    if (n == 0)
        return 0;
    size_t how = rng_below(m->rng, 100);
    if (m->nsections && how < 25) {
        const section_t *s = &m->sections[rng_below(m->rng, m->nsections)];
        size_t pos = s->start + rng_below(m->rng, 24);
        if (pos < n)
            return pos;
    } else if (m->nsections && how < 75) {
        size_t total = 0;
        for (size_t i = 0; i < m->nsections; i++)
            if (m->b->data[m->sections[i].start] != 0)
                total += m->sections[i].end - m->sections[i].content;
        if (total) {
            size_t off = rng_below(m->rng, total);
            for (size_t i = 0; i < m->nsections; i++) {
                const section_t *s = &m->sections[i];
                if (m->b->data[s->start] == 0)
                    continue;
                if (off < s->end - s->content)
                    return s->content + off;
                off -= s->end - s->content;
            }
        }
    } else if (how < 78) {
        return rng_below(m->rng, n < 12 ? n : 12); /* the preamble */
    }
    return rng_below(m->rng, n);
}

/* A run length in [1, max], usually short. */
static size_t pick_run(mutator_t *m, size_t max)
{
    if (max <= 1)
        return 1;
    size_t limit = rng_chance(m->rng, 80) ? 8 : 256;
    if (limit > max)
        limit = max;
    return 1 + rng_below(m->rng, limit);
}

static bool room_for(const mutator_t *m, size_t extra)
{
    return m->b->len <= m->max_len && extra <= m->max_len - m->b->len;
}

/* Rewrites the LEB128 of `old_len` bytes at pos with `value`, keeping its
 * width when the value fits (padding is well-formed). Returns the change in
 * length. */
static ptrdiff_t rewrite_leb(buf_t *b, size_t pos, size_t old_len, uint64_t value)
{
    uint8_t enc[10];
    size_t len = 0;
    do {
        enc[len++] = (uint8_t)((value & 0x7f) | 0x80);
        value >>= 7;
    } while ((value || len < old_len) && len < 10);
    enc[len - 1] &= 0x7f;
    buf_replace(b, pos, old_len, enc, len);
    return (ptrdiff_t)len - (ptrdiff_t)old_len;
}

/* After [pos, pos + old_len) became new_len bytes: when the change lies
 * inside one section's contents (and, in the code section, inside one
 * function body), adjusts the body's and the section's sizes so that the
 * result stays well-formed at that level and the decoder looks further. The
 * layout in m->sections is from before the change; everything before pos
 * is unchanged. */
static void fix_sizes(mutator_t *m, size_t pos, size_t old_len, size_t new_len)
{
    const section_t *s = NULL;
    for (size_t i = 0; i < m->nsections; i++)
        if (m->sections[i].content <= pos && pos + old_len <= m->sections[i].end &&
            pos < m->sections[i].end)
            s = &m->sections[i];
    if (!s)
        return;
    ptrdiff_t delta = (ptrdiff_t)new_len - (ptrdiff_t)old_len;
    const uint8_t *p = m->b->data;
    uint64_t value = 0;
    if (p[s->start] == 10) { /* code: find the function body */
        size_t q = s->content;
        uint64_t count;
        size_t n = read_leb(p, pos, q, &count);
        if (n == 0)
            return;
        q += n;
        for (uint64_t i = 0; i < count && q < pos; i++) {
            uint64_t size;
            size_t leb = read_leb(p, pos, q, &size);
            if (leb == 0)
                return;
            size_t body = q + leb;
            if (body > pos) /* the change is in this body's size */
                return;
            if (size >= old_len && pos - body <= size - old_len) {
                if ((int64_t)size + delta < 0)
                    return;
                delta += rewrite_leb(m->b, q, leb, (uint64_t)((int64_t)size + delta));
                break;
            }
            if (size > pos - body)
                return;
            q = body + (size_t)size;
        }
    }
    if (read_leb(m->b->data, m->b->len, s->size_pos, &value) != s->size_len ||
        (int64_t)value + delta < 0)
        return;
    rewrite_leb(m->b, s->size_pos, s->size_len, (uint64_t)((int64_t)value + delta));
}

/* Half the time, keep the sizes around a change consistent. */
static void maybe_fix_sizes(mutator_t *m, size_t pos, size_t old_len, size_t new_len)
{
    if (rng_chance(m->rng, 50)) {
        fix_sizes(m, pos, old_len, new_len);
        note(m, "+fix");
    }
}

static void mutate_flip_bit(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t pos = pick_pos(m, false);
    unsigned bit = (unsigned)rng_below(m->rng, 8);
    m->b->data[pos] ^= (uint8_t)(1u << bit);
    note(m, " flip@%zu.%u", pos, bit);
}

static void mutate_interesting_byte(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t pos = pick_pos(m, false);
    uint8_t v = interesting[rng_below(m->rng, sizeof interesting)];
    m->b->data[pos] = v;
    note(m, " set@%zu=%02x", pos, v);
}

static void mutate_random_byte(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t pos = pick_pos(m, false);
    uint8_t v = (uint8_t)rng_next(m->rng);
    m->b->data[pos] = v;
    note(m, " set@%zu=%02x", pos, v);
}

static void mutate_add_byte(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t pos = pick_pos(m, false);
    int delta = 1 + (int)rng_below(m->rng, 16);
    if (rng_chance(m->rng, 50))
        delta = -delta;
    m->b->data[pos] = (uint8_t)(m->b->data[pos] + delta);
    note(m, " add@%zu%+d", pos, delta);
}

static void mutate_insert(mutator_t *m)
{
    size_t n = pick_run(m, 64);
    if (!room_for(m, n))
        return;
    size_t pos = pick_pos(m, true);
    buf_replace(m->b, pos, 0, NULL, n);
    bool same = rng_chance(m->rng, 30);
    uint8_t fill = interesting[rng_below(m->rng, sizeof interesting)];
    for (size_t i = 0; i < n; i++)
        m->b->data[pos + i] = same ? fill
                              : rng_chance(m->rng, 50)
                                  ? interesting[rng_below(m->rng, sizeof interesting)]
                                  : (uint8_t)rng_next(m->rng);
    note(m, " insert@%zu+%zu", pos, n);
    maybe_fix_sizes(m, pos, 0, n);
}

static void mutate_delete(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t pos = pick_pos(m, false);
    size_t n = pick_run(m, m->b->len - pos);
    buf_replace(m->b, pos, n, NULL, 0);
    note(m, " delete@%zu-%zu", pos, n);
    maybe_fix_sizes(m, pos, n, 0);
}

static void mutate_duplicate(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t from = pick_pos(m, false);
    size_t n = pick_run(m, m->b->len - from);
    if (!room_for(m, n))
        return;
    size_t to = pick_pos(m, true);
    uint8_t *chunk = xmalloc(n);
    memcpy(chunk, m->b->data + from, n);
    buf_replace(m->b, to, 0, chunk, n);
    free(chunk);
    note(m, " dup%zu+%zu@%zu", from, n, to);
    maybe_fix_sizes(m, to, 0, n);
}

static void mutate_truncate(mutator_t *m)
{
    if (m->b->len == 0)
        return;
    size_t len = m->b->len;
    /* Mostly near the end (a few bytes off), else at a section boundary or
     * anywhere. */
    size_t cut = rng_chance(m->rng, 40)   ? pick_run(m, len)
                 : rng_chance(m->rng, 50) ? 1 + rng_below(m->rng, len)
                 : m->nsections           ? len - m->sections[rng_below(m->rng, m->nsections)].start
                                          : len;
    m->b->len = len - cut;
    note(m, " truncate%zu", m->b->len);
}

/* Replaces the LEB128 at a position (often a section size) with an overlong
 * encoding of its value or with an extreme value. */
static void mutate_leb(mutator_t *m)
{
    size_t pos;
    if (m->nsections && rng_chance(m->rng, 30))
        pos = m->sections[rng_below(m->rng, m->nsections)].size_pos;
    else
        pos = pick_pos(m, false);
    uint64_t value;
    size_t old_len = read_leb(m->b->data, m->b->len, pos, &value);
    if (old_len == 0)
        return;

    uint8_t enc[12];
    size_t len = 0;
    uint64_t v = value;
    size_t min_len = 0;
    bool overlong_bad_tail = false;
    switch (rng_below(m->rng, 10)) {
    case 0: /* overlong, still within 5 bytes (well-formed for u32) */
        min_len = 5;
        break;
    case 1: /* overlong past 5 bytes (too long for u32) */
        min_len = 6 + rng_below(m->rng, 5);
        break;
    case 2: /* 5th byte with unused bits set: "integer too large" */
        min_len = 5;
        overlong_bad_tail = true;
        break;
    case 3: v = UINT32_MAX; break;
    case 4: v = UINT32_C(0x80000000); break;
    case 5: v = UINT64_MAX; break;
    case 6: v = value + 1; break;
    case 7: v = value ? value - 1 : 0; break;
    case 8: v = rng_next(m->rng) & 0xffff; break;
    default: v = rng_next(m->rng) >> rng_below(m->rng, 64); break;
    }
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        enc[len++] = byte | 0x80;
    } while ((v || len < min_len) && len < 10);
    enc[len - 1] &= 0x7f;
    if (overlong_bad_tail && len == 5)
        enc[4] |= (uint8_t)(0x10 << rng_below(m->rng, 3));
    if (len > old_len && !room_for(m, len - old_len))
        return;
    buf_replace(m->b, pos, old_len, enc, len);
    note(m, " leb@%zu:%zu->%zu", pos, old_len, len);
    if (len != old_len)
        maybe_fix_sizes(m, pos, old_len, len);
}

/* Deletes, duplicates or swaps whole top-level sections. */
static void mutate_sections(mutator_t *m)
{
    if (m->nsections == 0)
        return;
    size_t i = rng_below(m->rng, m->nsections);
    const section_t s = m->sections[i];
    size_t n = s.end - s.start;
    switch (rng_below(m->rng, 3)) {
    case 0:
        buf_replace(m->b, s.start, n, NULL, 0);
        note(m, " delsec%zu", i);
        break;
    case 1: {
        if (!room_for(m, n))
            return;
        size_t to = m->sections[rng_below(m->rng, m->nsections)].start;
        uint8_t *copy = xmalloc(n);
        memcpy(copy, m->b->data + s.start, n);
        buf_replace(m->b, to, 0, copy, n);
        free(copy);
        note(m, " dupsec%zu@%zu", i, to);
        break;
    }
    default: {
        if (i + 1 >= m->nsections)
            return;
        const section_t t = m->sections[i + 1];
        size_t tn = t.end - t.start; /* t.start == s.end */
        uint8_t *copy = xmalloc(n + tn);
        memcpy(copy, m->b->data + t.start, tn);
        memcpy(copy + tn, m->b->data + s.start, n);
        buf_replace(m->b, s.start, n + tn, copy, n + tn);
        free(copy);
        note(m, " swapsec%zu", i);
        break;
    }
    }
}

/* Combines the current bytes with another seed: a prefix of one and the
 * rest of the other, or one of the other's sections put in. */
static void mutate_splice(mutator_t *m)
{
    size_t which = rng_below(m->rng, nseeds);
    const seed_t *other = &seeds[which];
    if (other->len == 0)
        return;
    if (rng_chance(m->rng, 50)) {
        buf_t tmp = {.data = other->data, .len = other->len, .cap = other->len};
        section_t theirs[MAX_SECTIONS];
        size_t n = find_sections(&tmp, theirs);
        if (n) {
            const section_t *s = &theirs[rng_below(m->rng, n)];
            size_t sn = s->end - s->start;
            if (!room_for(m, sn))
                return;
            size_t to = m->nsections ? m->sections[rng_below(m->rng, m->nsections)].start
                                     : pick_pos(m, true);
            bool replace = m->nsections && rng_chance(m->rng, 50);
            size_t old = 0;
            if (replace)
                for (size_t k = 0; k < m->nsections; k++)
                    if (m->sections[k].start == to)
                        old = m->sections[k].end - to;
            buf_replace(m->b, to, old, other->data + s->start, sn);
            note(m, " splicesec%zu:%zu@%zu", which, (size_t)(s - theirs), to);
            return;
        }
    }
    size_t cut = pick_pos(m, true);
    size_t from = rng_below(m->rng, other->len + 1);
    size_t tail = other->len - from;
    if (cut + tail > m->max_len)
        tail = m->max_len > cut ? m->max_len - cut : 0;
    buf_replace(m->b, cut, m->b->len - cut, other->data + from, tail);
    note(m, " splice@%zu:%zu/%zu", cut, which, from);
}

static void (*const mutations[])(mutator_t *) = {
    mutate_flip_bit, mutate_interesting_byte, mutate_random_byte, mutate_add_byte,
    mutate_insert,   mutate_delete,           mutate_duplicate,   mutate_truncate,
    mutate_leb,      mutate_leb,              mutate_sections,    mutate_splice,
};

/* ------------------------------------------------------------------------ */
/* The state a dying process reports.                                       */

static uint64_t opt_seed = 1;
static const char *opt_save_dir;
static volatile uint64_t current_iteration;
static volatile int in_iteration;
static const uint8_t *volatile current_bytes;
static volatile size_t current_len;
static char crash_path[PATH_MAX];

static void write_str(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Async-signal-safe: no stdio. */
static void report_death(const char *what)
{
    static volatile sig_atomic_t reported;
    if (reported || !in_iteration)
        return;
    reported = 1;
    char num[2][24];
    uint64_t vals[2] = {opt_seed, current_iteration};
    for (int k = 0; k < 2; k++) {
        char tmp[24];
        int n = 0;
        uint64_t v = vals[k];
        do
            tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        for (int j = 0; j < n; j++)
            num[k][j] = tmp[n - 1 - j];
        num[k][n] = '\0';
    }
    write_str("\nmutate-fuzz: ");
    write_str(what);
    write_str(" in iteration ");
    write_str(num[1]);
    write_str(" (--seed ");
    write_str(num[0]);
    write_str("); reproduce with --seed ");
    write_str(num[0]);
    write_str(" --start ");
    write_str(num[1]);
    write_str(" --iterations 1 --save-dir DIR and the same FILEs\n");
    if (opt_save_dir && crash_path[0] && current_bytes) {
        int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            const uint8_t *p = current_bytes;
            size_t n = current_len;
            while (n) {
                ssize_t w = write(fd, p, n);
                if (w <= 0)
                    break;
                p += w;
                n -= (size_t)w;
            }
            close(fd);
            write_str("mutate-fuzz: input saved as ");
            write_str(crash_path);
            write_str("\n");
        }
    }
}

static void on_sanitizer_death(void)
{
    report_death("sanitizer report");
}

static void on_signal(int sig)
{
    report_death(sig == SIGALRM ? "timeout" : "fatal signal");
    if (sig == SIGALRM) {
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGALRM, &sa, NULL);
    if (__sanitizer_set_death_callback) {
        /* The sanitizers handle SEGV & co. and call this after their report. */
        __sanitizer_set_death_callback(on_sanitizer_death);
        return;
    }
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
}

static void save_input(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("%s: write: %s", path, strerror(errno));
        data += w;
        len -= (size_t)w;
    }
    if (close(fd) != 0)
        die("%s: close: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Outcomes.                                                                */

enum { ACCEPTED, MALFORMED, INVALID, UNSUPPORTED, RESOURCE, NOUTCOMES };
static const char *const outcome_names[NOUTCOMES] = {"accepted", "malformed", "invalid",
                                                     "unsupported", "resource"};

typedef struct {
    const char *label;
    wj_engine *engine;
    unsigned features;
    uint64_t counts[NOUTCOMES];
} target_t;

static uint64_t nanomalies;

static void anomaly(uint64_t iteration, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void anomaly(uint64_t iteration, const char *fmt, ...)
{
    if (nanomalies++ >= MAX_SHOWN_ANOMALIES)
        return;
    va_list ap;
    printf("ANOMALY in iteration %" PRIu64 ": ", iteration);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Validates and checks the error against the API's contract. */
static int run_target(target_t *t, uint64_t iteration, const uint8_t *bytes, size_t len,
                      char *msg, size_t msg_size)
{
    wj_error *err = wj_module_validate(t->engine, bytes, len);
    int outcome = ACCEPTED;
    msg[0] = '\0';
    if (err) {
        wj_error_kind kind = wj_error_kind_of(err);
        const char *text = wj_error_message(err);
        uint64_t offset = wj_error_offset(err);
        switch (kind) {
        case WJ_ERROR_MALFORMED: outcome = MALFORMED; break;
        case WJ_ERROR_INVALID: outcome = INVALID; break;
        case WJ_ERROR_UNSUPPORTED: outcome = UNSUPPORTED; break;
        case WJ_ERROR_RESOURCE: outcome = RESOURCE; break;
        default:
            anomaly(iteration, "%s: unknown error kind %d", t->label, (int)kind);
            outcome = RESOURCE;
            break;
        }
        if (text == NULL || text[0] == '\0')
            anomaly(iteration, "%s: error without a message", t->label);
        if (offset != WJ_NO_OFFSET && offset > len)
            anomaly(iteration, "%s: error offset %" PRIu64 " past the end of a %zu-byte input (%s)",
                    t->label, offset, len, text ? text : "");
        snprintf(msg, msg_size, "%s", text ? text : "");
        wj_error_delete(err);
    }
    t->counts[outcome]++;
    return outcome;
}

/* --inspect: everything the accessors can tell about an accepted module. */
static volatile uint64_t inspect_sink;

static void inspect(wj_engine *engine, uint64_t iteration, const uint8_t *bytes, size_t len)
{
    wj_module *mod = NULL;
    wj_error *err = wj_module_new(engine, bytes, len, &mod);
    if (err) {
        /* the compiler may refuse what it does not support yet, nothing else */
        if (wj_error_kind_of(err) != WJ_ERROR_UNSUPPORTED)
            anomaly(iteration, "wj_module_validate accepted but wj_module_new failed: %s",
                    wj_error_message(err));
        wj_error_delete(err);
        err = wj_module_decode(engine, bytes, len, &mod);
    }
    if (err) {
        anomaly(iteration, "wj_module_validate accepted but wj_module_decode failed: %s",
                wj_error_message(err));
        wj_error_delete(err);
        return;
    }
    uint64_t h = 0;
    for (size_t i = 0, n = wj_module_import_count(mod); i < n; i++) {
        wj_import_info info;
        if (!wj_module_import(mod, i, &info))
            anomaly(iteration, "wj_module_import(%zu) of %zu failed", i, n);
        else
            h += info.module_len + info.name_len + (uint8_t)info.module[info.module_len] +
                 (uint8_t)info.name[info.name_len] + info.kind + info.index;
    }
    for (size_t i = 0, n = wj_module_export_count(mod); i < n; i++) {
        wj_export_info info;
        if (!wj_module_export(mod, i, &info))
            anomaly(iteration, "wj_module_export(%zu) of %zu failed", i, n);
        else
            h += info.name_len + (uint8_t)info.name[info.name_len] + info.kind + info.index;
    }
    for (size_t i = 0, n = wj_module_section_count(mod); i < n; i++) {
        wj_section_info info;
        if (!wj_module_section(mod, i, &info))
            anomaly(iteration, "wj_module_section(%zu) of %zu failed", i, n);
        else if (info.offset > len || info.size > len - info.offset)
            anomaly(iteration, "section %zu at %" PRIu64 "+%" PRIu64 " past the end (%zu)", i,
                    info.offset, info.size, len);
        else
            h += info.id + info.name_len + (info.name ? (uint8_t)info.name[info.name_len] : 0);
    }
    uint32_t nfuncs = wj_module_func_count(mod);
    for (uint32_t i = 0; i <= nfuncs; i++) {
        wj_functype ft;
        bool ok = wj_module_func_type(mod, i, &ft);
        if (ok != (i < nfuncs))
            anomaly(iteration, "wj_module_func_type(%u) of %u", i, nfuncs);
        if (ok) {
            for (uint32_t k = 0; k < ft.param_count; k++)
                h += ft.params[k];
            for (uint32_t k = 0; k < ft.result_count; k++)
                h += ft.results[k];
        }
        size_t nlen;
        const char *name = wj_module_func_name(mod, i, &nlen);
        if (name)
            h += nlen + (uint8_t)name[nlen];
        for (uint32_t l = 0; l < 4; l++) {
            name = wj_module_local_name(mod, i, l, &nlen);
            if (name)
                h += nlen + (uint8_t)name[nlen];
        }
    }
    uint32_t ntables = wj_module_table_count(mod);
    for (uint32_t i = 0; i <= ntables; i++) {
        wj_tabletype tt;
        if (wj_module_table_type(mod, i, &tt) != (i < ntables))
            anomaly(iteration, "wj_module_table_type(%u) of %u", i, ntables);
        else if (i < ntables)
            h += tt.elem + tt.limits.min;
    }
    uint32_t nmems = wj_module_memory_count(mod);
    for (uint32_t i = 0; i <= nmems; i++) {
        wj_limits lim;
        if (wj_module_memory_type(mod, i, &lim) != (i < nmems))
            anomaly(iteration, "wj_module_memory_type(%u) of %u", i, nmems);
        else if (i < nmems)
            h += lim.min + lim.is64;
    }
    uint32_t nglobals = wj_module_global_count(mod);
    for (uint32_t i = 0; i <= nglobals; i++) {
        wj_globaltype gt;
        if (wj_module_global_type(mod, i, &gt) != (i < nglobals))
            anomaly(iteration, "wj_module_global_type(%u) of %u", i, nglobals);
        else if (i < nglobals)
            h += gt.type + gt.mutable_;
    }
    size_t nlen;
    const char *name = wj_module_name(mod, &nlen);
    if (name)
        h += nlen + (uint8_t)name[nlen];
    uint32_t start;
    if (wj_module_start(mod, &start))
        h += start;
    inspect_sink += h;
    wj_module_delete(mod);
}

/* ------------------------------------------------------------------------ */
/* Options.                                                                 */

static const struct {
    const char *name;
    wj_feature feature;
} feature_names[] = {
    {"memory64", WJ_FEATURE_MEMORY64},
    {"multi-memory", WJ_FEATURE_MULTI_MEMORY},
    {"simd", WJ_FEATURE_SIMD},
};
#define NFEATURES (sizeof feature_names / sizeof feature_names[0])

/* A comma-separated list of names, each optionally prefixed with "no-",
 * applied to the library's defaults. */
static void parse_features(wj_config *config, const char *list)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool enable = true;
        const char *name = p;
        if (len > 3 && memcmp(name, "no-", 3) == 0) {
            enable = false;
            name += 3;
            len -= 3;
        }
        size_t i;
        for (i = 0; i < NFEATURES; i++)
            if (strlen(feature_names[i].name) == len && memcmp(feature_names[i].name, name, len) == 0)
                break;
        if (i == NFEATURES)
            die("--features: unknown feature in '%s' (known: memory64, multi-memory, simd, each "
                "with an optional no- prefix)",
                list);
        wj_config_set_feature(config, feature_names[i].feature, enable);
        if (!comma)
            return;
        p = comma + 1;
    }
}

static unsigned config_features(const wj_config *config)
{
    unsigned f = 0;
    for (size_t i = 0; i < NFEATURES; i++)
        if (wj_config_get_feature(config, feature_names[i].feature))
            f |= feature_names[i].feature;
    return f;
}

static char *features_label(unsigned f)
{
    char buf[128] = "";
    for (size_t i = 0; i < NFEATURES; i++)
        if (f & feature_names[i].feature) {
            if (buf[0])
                strcat(buf, ",");
            strcat(buf, feature_names[i].name);
        }
    char *s = xmalloc(strlen(buf) + 16);
    sprintf(s, "%s", buf[0] ? buf : "none");
    return s;
}

static uint64_t parse_number(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        die("%s: not a number: '%s'", opt, s);
    return v;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--seed N] [--iterations N] [--start N] [--features LIST]\n"
            "          [--save-dir DIR] [--timeout SECS] [--inspect] [--strict] [--verbose]\n"
            "          FILE.wasm...\n"
            "Mutates the seed modules and validates each result with the --features\n"
            "(default: memory64,multi-memory,simd) and with the library's defaults.\n",
            progname);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t iterations = 1000, start = 0;
    unsigned timeout = 60;
    const char *features = "memory64,multi-memory,simd";
    bool verbose = false, strict = false, opt_inspect = false;
    int argi = 1;
    for (; argi < argc; argi++) {
        const char *a = argv[argi];
        const char *val = argi + 1 < argc ? argv[argi + 1] : NULL;
#define NEEDS_VALUE()                                \
    do {                                             \
        if (!val)                                    \
            die("%s needs a value", a);              \
        argi++;                                      \
    } while (0)
        if (strcmp(a, "--seed") == 0) {
            NEEDS_VALUE();
            opt_seed = parse_number(a, val);
        } else if (strcmp(a, "--iterations") == 0) {
            NEEDS_VALUE();
            iterations = parse_number(a, val);
        } else if (strcmp(a, "--start") == 0) {
            NEEDS_VALUE();
            start = parse_number(a, val);
        } else if (strcmp(a, "--features") == 0) {
            NEEDS_VALUE();
            features = val;
        } else if (strcmp(a, "--save-dir") == 0) {
            NEEDS_VALUE();
            opt_save_dir = val;
        } else if (strcmp(a, "--timeout") == 0) {
            NEEDS_VALUE();
            uint64_t t = parse_number(a, val);
            if (t > 86400)
                die("--timeout: at most 86400 seconds");
            timeout = (unsigned)t;
        } else if (strcmp(a, "--inspect") == 0) {
            opt_inspect = true;
        } else if (strcmp(a, "--strict") == 0) {
            strict = true;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            argi++;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage(stderr);
            die("unknown option '%s'", a);
        } else {
            break;
        }
#undef NEEDS_VALUE
    }
    if (argi >= argc) {
        usage(stderr);
        die("no seed modules given");
    }
    if (start > UINT64_MAX - iterations)
        die("--start + --iterations is too large");

    nseeds = (size_t)(argc - argi);
    seeds = xmalloc(nseeds * sizeof *seeds);
    size_t max_seed = 0, total = 0;
    for (size_t i = 0; i < nseeds; i++) {
        read_seed(argv[argi + (int)i], &seeds[i]);
        if (seeds[i].len > max_seed)
            max_seed = seeds[i].len;
        total += seeds[i].len;
    }
    /* Mutations may grow an input, but not without bound. */
    size_t max_len = 2 * max_seed + 4096;

    char *save_path = NULL;
    if (opt_save_dir) {
        struct stat st;
        if (stat(opt_save_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            die("--save-dir: %s is not a directory", opt_save_dir);
        save_path = xmalloc(strlen(opt_save_dir) + sizeof "/current.wasm");
        sprintf(save_path, "%s/current.wasm", opt_save_dir);
    }

    wj_config *config = wj_config_new();
    if (!config)
        die("wj_config_new failed");
    parse_features(config, features);
    target_t targets[2] = {
        {.engine = wj_engine_new(config), .features = config_features(config)},
        {.engine = wj_engine_new(NULL)},
    };
    wj_config_delete(config);
    wj_config *defaults = wj_config_new();
    if (!defaults || !targets[0].engine || !targets[1].engine)
        die("out of memory creating the engines");
    targets[1].features = config_features(defaults);
    wj_config_delete(defaults);
    char *labels[2] = {features_label(targets[0].features), features_label(targets[1].features)};
    targets[0].label = labels[0];
    targets[1].label = "defaults";
    /* A module the defaults accept must stay valid with more features on. */
    bool superset = (targets[0].features & targets[1].features) == targets[1].features;

    install_handlers();
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%s: --seed %" PRIu64 ", %" PRIu64 " iterations from %" PRIu64 ", %zu seed module%s "
           "(%zu bytes), features [%s] and defaults [%s]%s\n",
           progname, opt_seed, iterations, start, nseeds,
           nseeds == 1 ? "" : "s", total, labels[0], labels[1],
           opt_save_dir ? ", inputs saved to --save-dir" : "");

    buf_t cur = {0};
    mutator_t mut = {.b = &cur, .max_len = max_len};
    uint64_t changed_outcome = 0;
    uint64_t total_bytes = 0;
    double slowest = 0;
    uint64_t slowest_iteration = 0;
    double t0 = now();
    double last_progress = t0;

    for (uint64_t it = start; it < start + iterations; it++) {
        current_iteration = it;
        in_iteration = 1;
        rng_t rng = rng_for_iteration(opt_seed, it);
        size_t which = rng_below(&rng, nseeds);
        buf_set(&cur, seeds[which].data, seeds[which].len);
        mut.rng = &rng;
        mut.log_len = 0;
        mut.log[0] = '\0';
        /* 1 to MAX_MUTATIONS, fewer more often. */
        size_t nmut = 1 + rng_below(&rng, 1 + rng_below(&rng, MAX_MUTATIONS));
        for (size_t k = 0; k < nmut; k++) {
            mut.nsections = find_sections(&cur, mut.sections);
            mutations[rng_below(&rng, sizeof mutations / sizeof mutations[0])](&mut);
        }

        /* An exact-size copy, so that ASan catches any read past its end. */
        uint8_t *input = xmalloc(cur.len);
        if (cur.len)
            memcpy(input, cur.data, cur.len);
        total_bytes += cur.len;

        if (opt_save_dir) {
            snprintf(crash_path, sizeof crash_path, "%s/crash-%" PRIu64 "-%" PRIu64 ".wasm",
                     opt_save_dir, opt_seed, it);
            save_input(save_path, input, cur.len);
        }
        current_len = cur.len;
        current_bytes = input;
        double t1 = now();
        if (timeout)
            alarm(timeout);

        char msg[2][256];
        int out0 = run_target(&targets[0], it, input, cur.len, msg[0], sizeof msg[0]);
        int out1 = run_target(&targets[1], it, input, cur.len, msg[1], sizeof msg[1]);
        if (opt_inspect && out0 == ACCEPTED)
            inspect(targets[0].engine, it, input, cur.len);

        if (timeout)
            alarm(0);
        double dt = now() - t1;
        if (dt > slowest) {
            slowest = dt;
            slowest_iteration = it;
        }
        if (out0 != out1)
            changed_outcome++;
        if (superset && out1 == ACCEPTED && out0 != ACCEPTED)
            anomaly(it, "accepted with the defaults but %s with [%s]: %s", outcome_names[out0],
                    labels[0], msg[0]);
        if (verbose)
            printf("%" PRIu64 ": %s, %zu bytes,%s -> %s%s%s / %s%s%s\n", it, seeds[which].path,
                   cur.len, mut.log, outcome_names[out0], msg[0][0] ? ": " : "", msg[0],
                   outcome_names[out1], msg[1][0] ? ": " : "", msg[1]);
        current_bytes = NULL;
        free(input);
        in_iteration = 0;

        double tn = now();
        if (!verbose && isatty(2) && tn - last_progress > 5) {
            fprintf(stderr, "%s: %" PRIu64 " iterations, %.0f s\n", progname, it - start + 1,
                    tn - t0);
            last_progress = tn;
        }
    }
    double elapsed = now() - t0;

    printf("%s: %" PRIu64 " iterations in %.1f s (%.1f MB validated twice), slowest %.3f s "
           "(iteration %" PRIu64 ")\n",
           progname, iterations, elapsed, (double)total_bytes / 1e6, slowest, slowest_iteration);
    for (int k = 0; k < 2; k++) {
        printf("  %-8s [%s]:", k == 0 ? "features" : "defaults", labels[k]);
        for (int o = 0; o < NOUTCOMES; o++)
            printf(" %s %" PRIu64 "%s", outcome_names[o], targets[k].counts[o],
                   o + 1 < NOUTCOMES ? "," : "\n");
    }
    printf("  different outcome with and without the features: %" PRIu64 "\n", changed_outcome);
    printf("  anomalies: %" PRIu64 "%s\n", nanomalies,
           nanomalies > MAX_SHOWN_ANOMALIES ? " (first ones shown above)" : "");

    wj_engine_delete(targets[0].engine);
    wj_engine_delete(targets[1].engine);
    free(labels[0]);
    free(labels[1]);
    free(save_path);
    free(cur.data);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].data);
    free(seeds);
    return strict && nanomalies ? 1 : 0;
}
