/*
 * integer: an integer benchmark in the spirit of the well-known embedded
 * one. Every iteration does linked-list processing (find, reverse, merge
 * sort by two keys), small-integer matrix operations (16-bit inputs, 32-bit
 * results, bit-field extraction), a state machine classifying the numbers of
 * a text, and folds every result into a CRC-16. The seeds are volatile so
 * that no compiler can evaluate the work ahead of time.
 */
#include <stdint.h>

#include "harness.h"

static volatile uint16_t seed_a = 0, seed_b = 0, seed_c = 0x66;

/* CRC-16 (polynomial 0x8005 reflected as 0xa001), bit by bit. */
static uint16_t crc16_byte(uint8_t byte, uint16_t crc)
{
    for (int i = 0; i < 8; i++) {
        int carry = (byte ^ crc) & 1;
        byte >>= 1;
        crc = carry ? (uint16_t)((crc >> 1) ^ 0xa001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static uint16_t crc16_u16(uint16_t v, uint16_t crc)
{
    return crc16_byte((uint8_t)(v >> 8), crc16_byte((uint8_t)v, crc));
}

static uint16_t crc16_u32(uint32_t v, uint16_t crc)
{
    return crc16_u16((uint16_t)(v >> 16), crc16_u16((uint16_t)v, crc));
}

/* --- linked lists ---------------------------------------------------------- */

#define LIST_LEN 400

struct node {
    struct node *next;
    int16_t data;
    int16_t idx;
};

static struct node pool[LIST_LEN];

static struct node *list_init(uint16_t seed)
{
    for (int i = 0; i < LIST_LEN; i++) {
        uint16_t d = (uint16_t)(seed ^ (uint16_t)(i * 0x9e37u));
        pool[i].data = (int16_t)((d & 0x7ff) | ((i & 7) << 11));
        pool[i].idx = (int16_t)i;
        pool[i].next = i + 1 < LIST_LEN ? &pool[i + 1] : 0;
    }
    return &pool[0];
}

static struct node *list_reverse(struct node *list)
{
    struct node *rev = 0;
    while (list) {
        struct node *next = list->next;
        list->next = rev;
        rev = list;
        list = next;
    }
    return rev;
}

/* The position of the first node whose data's low byte is V, or -1. */
static int list_find(const struct node *list, uint8_t v)
{
    for (int pos = 0; list; list = list->next, pos++)
        if ((uint8_t)list->data == v)
            return pos;
    return -1;
}

static int by_data(const struct node *a, const struct node *b)
{
    return a->data < b->data || (a->data == b->data && a->idx < b->idx);
}

static int by_idx(const struct node *a, const struct node *b)
{
    return a->idx < b->idx;
}

/* Bottom-up merge sort of a list, stable; LESS orders two nodes. */
static struct node *list_sort(struct node *list,
                              int (*less)(const struct node *, const struct node *))
{
    for (int run = 1;; run *= 2) {
        struct node *p = list, *tail = 0;
        int merges = 0;
        list = 0;
        while (p) {
            struct node *q = p;
            int psize = 0, qsize = run;
            merges++;
            while (q && psize < run) {
                psize++;
                q = q->next;
            }
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0 || (qsize > 0 && q && less(q, p))) {
                    e = q;
                    q = q->next;
                    qsize--;
                } else {
                    e = p;
                    p = p->next;
                    psize--;
                }
                if (tail)
                    tail->next = e;
                else
                    list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1)
            return list;
    }
}

static uint16_t bench_list(struct node **list, uint16_t iter, uint16_t crc)
{
    int found = 0, missed = 0;
    for (int i = 0; i < 32; i++) {
        int pos = list_find(*list, (uint8_t)(i * 37 + iter));
        if (pos >= 0)
            found += pos;
        else
            missed++;
        *list = list_reverse(*list);
    }
    crc = crc16_u16((uint16_t)found, crc16_u16((uint16_t)missed, crc));
    *list = list_sort(*list, by_data);
    int n = 0;
    for (struct node *p = *list; p && n < 64; p = p->next, n++)
        crc = crc16_u16((uint16_t)p->data, crc);
    /* Change one node so that the next iteration sorts a different list. */
    struct node *p = *list;
    for (int i = 0; i < iter % LIST_LEN; i++)
        p = p->next;
    p->data = (int16_t)(p->data ^ (iter * 0x1357));
    *list = list_sort(*list, by_idx);
    return crc;
}

/* --- matrices -------------------------------------------------------------- */

#define MAT_N 40

static int16_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N];
static int32_t mat_c[MAT_N][MAT_N];
static int16_t vec[MAT_N];

static void mat_init(uint16_t seed)
{
    uint32_t v = seed | 1u;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            v = (v * 1103515245u + 12345u) & 0x7fffffff;
            mat_a[i][j] = (int16_t)((v >> 8) & 0xfff);
            mat_b[i][j] = (int16_t)(((v >> 12) & 0x1ff) - 0x100);
        }
    for (int i = 0; i < MAT_N; i++)
        vec[i] = (int16_t)(i * 3 - 17);
}

/* A sum of C with a running threshold: counts and bends the elements the
 * way a data-dependent filter would. */
static int16_t mat_sum(int32_t limit)
{
    int32_t tmp = 0, prev = 0;
    int16_t ret = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t cur = mat_c[i][j];
            tmp += cur;
            if (tmp > limit) {
                ret += 10;
                tmp = 0;
            } else {
                ret += cur > prev ? 1 : 0;
            }
            prev = cur;
        }
    return ret;
}

static uint16_t bench_matrix(int16_t val, uint16_t crc)
{
    int32_t limit = (int32_t)val * 0x1000 | 0x10;
    /* A += val */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            mat_a[i][j] = (int16_t)(mat_a[i][j] + val);
    /* C = A * val */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            mat_c[i][j] = (int32_t)mat_a[i][j] * val;
    crc = crc16_u16((uint16_t)mat_sum(limit), crc);
    /* C[i][0] = A vec */
    for (int i = 0; i < MAT_N; i++) {
        int32_t s = 0;
        for (int j = 0; j < MAT_N; j++)
            s += (int32_t)mat_a[i][j] * vec[j];
        mat_c[i][0] = s;
    }
    crc = crc16_u16((uint16_t)mat_sum(limit), crc);
    /* C = A B */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += (int32_t)mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = s;
        }
    crc = crc16_u16((uint16_t)mat_sum(limit), crc);
    /* C = A B with bit fields of every product */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++) {
                int32_t prod = (int32_t)mat_a[i][k] * mat_b[k][j];
                s += ((prod >> 2) & 0xf) * ((prod >> 5) & 0x7f);
            }
            mat_c[i][j] = s;
        }
    crc = crc16_u16((uint16_t)mat_sum(limit), crc);
    /* A -= val: back to where it was */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            mat_a[i][j] = (int16_t)(mat_a[i][j] - val);
    return crc;
}

/* --- the state machine ----------------------------------------------------- */

enum state { START, INT, SIGN, FRACTION, EXP_MARK, EXP_SIGN, SCIENTIFIC, INVALID, NSTATES };

#define TEXT_LEN 2048

static char text[TEXT_LEN];

static void text_init(uint16_t seed)
{
    static const char *const words[] = {
        "5012", "1234", "-874", "+122", "35.54", ".1234", "-110.700", "+0.64400",
        "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^",
    };
    int pos = 0;
    unsigned k = seed;
    while (1) {
        const char *w = words[k++ % 16];
        int len = 0;
        while (w[len])
            len++;
        if (pos + len + 1 >= TEXT_LEN)
            break;
        for (int i = 0; i < len; i++)
            text[pos++] = w[i];
        text[pos++] = ',';
        k = k * 7 + 3;
    }
    while (pos < TEXT_LEN - 1)
        text[pos++] = ' ';
    text[TEXT_LEN - 1] = 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scans one token from *P (up to a comma or the end), counting the
 * transitions out of each state; returns the final state. */
static enum state scan(const char **p, unsigned transitions[NSTATES])
{
    enum state s = START;
    const char *c = *p;
    for (; *c && s != INVALID; c++) {
        char ch = *c;
        if (ch == ',') {
            c++;
            break;
        }
        enum state next = s;
        switch (s) {
        case START:
            next = is_digit(ch) ? INT : ch == '+' || ch == '-' ? SIGN : ch == '.' ? FRACTION : INVALID;
            break;
        case SIGN:
            next = is_digit(ch) ? INT : ch == '.' ? FRACTION : INVALID;
            break;
        case INT:
            next = is_digit(ch) ? INT : ch == '.' ? FRACTION : ch == 'e' || ch == 'E' ? EXP_MARK : INVALID;
            break;
        case FRACTION:
            next = is_digit(ch) ? FRACTION : ch == 'e' || ch == 'E' ? EXP_MARK : INVALID;
            break;
        case EXP_MARK:
            next = ch == '+' || ch == '-' ? EXP_SIGN : is_digit(ch) ? SCIENTIFIC : INVALID;
            break;
        case EXP_SIGN:
        case SCIENTIFIC:
            next = is_digit(ch) ? SCIENTIFIC : INVALID;
            break;
        default:
            break;
        }
        if (next != s)
            transitions[s]++;
        s = next;
    }
    /* An invalid token still runs to its comma. */
    while (*c && c[-1] != ',')
        c++;
    *p = c;
    return s;
}

static uint16_t bench_state(uint16_t seed, uint16_t crc)
{
    unsigned finals[NSTATES] = {0}, transitions[NSTATES] = {0};
    for (int pass = 0; pass < 2; pass++) {
        /* The second pass scans a corrupted text, then restores it. */
        if (pass)
            for (int i = seed % 31; i < TEXT_LEN - 1; i += 31)
                text[i] ^= (char)(seed & 0x1f);
        for (const char *p = text; *p;)
            finals[scan(&p, transitions)]++;
        if (pass)
            for (int i = seed % 31; i < TEXT_LEN - 1; i += 31)
                text[i] ^= (char)(seed & 0x1f);
    }
    for (int s = 0; s < NSTATES; s++)
        crc = crc16_u16((uint16_t)transitions[s], crc16_u16((uint16_t)finals[s], crc));
    return crc;
}

void bench_run(void)
{
    int iterations = SIZE(15000, 3);
    uint16_t a = seed_a, b = seed_b, c = seed_c;
    struct node *list = list_init(a);
    mat_init(b);
    text_init(c);
    uint16_t crc = 0, crc_list = 0, crc_matrix = 0, crc_state = 0;
    for (int i = 0; i < iterations; i++) {
        crc_list = bench_list(&list, (uint16_t)i, crc_list);
        crc_matrix = bench_matrix((int16_t)(c + (i & 0xff)), crc_matrix);
        crc_state = bench_state((uint16_t)(c ^ i), crc_state);
        crc = crc16_u16(crc_list, crc16_u16(crc_matrix, crc16_u32((uint32_t)crc_state << 16 | (uint16_t)i, crc)));
    }
    check_i64(crc_list);
    check_i64(crc_matrix);
    check_i64(crc_state);
    check_i64(crc);
}
