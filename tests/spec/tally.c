/* Counting results, remembering why commands were skipped, printing FAILs. */
#include <inttypes.h>

#include "spec.h"

static const char *const skip_reason_text[SKIP_REASON_COUNT] = {
    [SKIP_TEXT_MODULE] = "text-format module",
    [SKIP_NO_COMPILER] = "execution unsupported: no compiler yet",
    [SKIP_CONVERSION_GAP] = "message not checkable: wast2json 1.0.32 changes the module",
};

void tally_pass(struct tally *tally)
{
    tally->passed++;
}

void tally_skip(struct tally *tally, enum skip_reason reason)
{
    tally->skipped++;
    tally->skipped_for[reason]++;
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
    total->skipped += part->skipped;
    for (int r = 0; r < SKIP_REASON_COUNT; r++)
        total->skipped_for[r] += part->skipped_for[r];
}

void tally_print_counts(const struct tally *tally, const char *label)
{
    printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", label,
           tally->passed, tally->failed, tally->skipped);
}

void tally_print_skip_reasons(const struct tally *tally)
{
    bool printed[SKIP_REASON_COUNT] = {false};
    for (int n = 0; n < SKIP_REASON_COUNT; n++) {
        int most = -1;
        for (int r = 0; r < SKIP_REASON_COUNT; r++)
            if (!printed[r] && tally->skipped_for[r] > 0 &&
                (most < 0 || tally->skipped_for[r] > tally->skipped_for[most]))
                most = r;
        if (most < 0)
            return;
        printed[most] = true;
        printf("SKIP %" PRIu64 " %s\n", tally->skipped_for[most], skip_reason_text[most]);
    }
}

void fput_quoted(const char *s, FILE *out)
{
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            putc(*p, out);
    }
    putc('"', out);
}
