/* Counting results, remembering why commands were skipped, printing FAILs. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static const char *const skip_reason_text[] = {
    [SKIP_TEXT_MODULE] = "text-format module",
    [SKIP_CONVERSION_GAP] = "message not checkable: wast2json 1.0.32 changes the module",
};

void tally_pass(struct tally *tally)
{
    tally->passed++;
}

/* Adds `count` skips for `text`, a new entry when the text is new. */
static void count_skips(struct tally *tally, const char *text, uint64_t count)
{
    tally->skipped += count;
    for (size_t i = 0; i < tally->skip_kinds; i++)
        if (strcmp(tally->skips[i].text, text) == 0) {
            tally->skips[i].count += count;
            return;
        }
    struct skip_count *skips = realloc(tally->skips, (tally->skip_kinds + 1) * sizeof *skips);
    if (!skips)
        out_of_memory();
    tally->skips = skips;
    char *copy = strdup(text);
    if (!copy)
        out_of_memory();
    skips[tally->skip_kinds++] = (struct skip_count){.text = copy, .count = count};
}

void tally_skip(struct tally *tally, enum skip_reason reason, const char *message)
{
    if (reason == SKIP_UNSUPPORTED)
        count_skips(tally, message && *message ? message : "unsupported (no message)", 1);
    else
        count_skips(tally, skip_reason_text[reason], 1);
}

FILE *tally_fail(struct tally *tally, const char *path, long line)
{
    tally->failed++;
    if (line > 0)
        printf("FAIL %s:%ld: ", path, line);
    else
        printf("FAIL %s: ", path);
    return stdout;
}

void tally_add(struct tally *total, const struct tally *part)
{
    total->passed += part->passed;
    total->failed += part->failed;
    for (size_t i = 0; i < part->skip_kinds; i++)
        count_skips(total, part->skips[i].text, part->skips[i].count);
}

void tally_free(struct tally *tally)
{
    for (size_t i = 0; i < tally->skip_kinds; i++)
        free(tally->skips[i].text);
    free(tally->skips);
    tally->skips = NULL;
    tally->skip_kinds = 0;
}

void tally_print_counts(const struct tally *tally, const char *label)
{
    printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", label,
           tally->passed, tally->failed, tally->skipped);
}

/* Most first; equal counts by text, so that the output is stable. */
static int compare_skip_counts(const void *a, const void *b)
{
    const struct skip_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

void tally_print_skip_reasons(const struct tally *tally)
{
    if (tally->skip_kinds == 0)
        return;
    struct skip_count *sorted = malloc(tally->skip_kinds * sizeof *sorted);
    if (!sorted)
        out_of_memory();
    memcpy(sorted, tally->skips, tally->skip_kinds * sizeof *sorted);
    qsort(sorted, tally->skip_kinds, sizeof *sorted, compare_skip_counts);
    for (size_t i = 0; i < tally->skip_kinds; i++) {
        printf("SKIP %" PRIu64 " ", sorted[i].count);
        /* The library's messages are quoted only when they need escapes. */
        bool plain = true;
        for (const unsigned char *p = (const unsigned char *)sorted[i].text; *p; p++)
            plain = plain && *p >= 0x20 && *p < 0x7f;
        if (plain)
            fputs(sorted[i].text, stdout);
        else
            fput_quoted(sorted[i].text, stdout);
        putchar('\n');
    }
    free(sorted);
}

void fput_quoted_bytes(const char *s, size_t len, FILE *out)
{
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)s + len; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            putc(*p, out);
    }
    putc('"', out);
}

void fput_quoted(const char *s, FILE *out)
{
    fput_quoted_bytes(s, strlen(s), out);
}
