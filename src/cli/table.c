/* Aligned columns for human-readable output (inspect). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A column wider than this does not push its neighbours further right; a
 * longer cell just overflows it (long mangled names would otherwise
 * stretch every row). */
enum { MAX_COLUMN_WIDTH = 60 };

/* Characters on screen of safe UTF-8 text: continuation bytes take none. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void cli_table_init(cli_table *t, const char *align, int gap)
{
    memset(t, 0, sizeof *t);
    t->gap = gap;
    t->ncols = strlen(align);
    if (t->ncols > CLI_TABLE_MAX_COLS)
        t->ncols = CLI_TABLE_MAX_COLS;
    memcpy(t->align, align, t->ncols);
}

void cli_table_cell(cli_table *t, const char *fmt, ...)
{
    if (t->out_of_memory)
        return;
    if (t->ncells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **cells = t->cap > SIZE_MAX / 2 / sizeof *cells ? NULL
                                                              : realloc(t->cells, cap * sizeof *cells);
        if (cells == NULL) {
            t->out_of_memory = true;
            return;
        }
        t->cells = cells;
        t->cap = cap;
    }
    /* Measure, then format: vasprintf() would need _GNU_SOURCE. */
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    char *text = NULL;
    int len = vsnprintf(NULL, 0, fmt, ap);
    if (len >= 0 && (text = malloc((size_t)len + 1)) != NULL)
        vsnprintf(text, (size_t)len + 1, fmt, again);
    va_end(again);
    va_end(ap);
    if (text == NULL)
        t->out_of_memory = true;
    if (text != NULL)
        t->cells[t->ncells++] = text;
}

bool cli_table_print(const cli_table *t, FILE *out, const char *indent)
{
    if (t->out_of_memory)
        return false;
    size_t width[CLI_TABLE_MAX_COLS] = {0};
    for (size_t i = 0; i < t->ncells; i++) {
        size_t w = text_width(t->cells[i]);
        size_t col = i % t->ncols;
        if (w > width[col])
            width[col] = w > MAX_COLUMN_WIDTH ? MAX_COLUMN_WIDTH : w;
    }
    for (size_t row = 0; row < t->ncells; row += t->ncols) {
        char **cells = t->cells + row;
        size_t n = t->ncells - row < t->ncols ? t->ncells - row : t->ncols;
        while (n > 1 && cells[n - 1][0] == '\0')
            n--; /* no trailing blanks for empty cells at the end */
        fputs(indent, out);
        for (size_t col = 0; col < n; col++) {
            size_t w = text_width(cells[col]);
            size_t pad = w < width[col] ? width[col] - w : 0;
            bool last = col == n - 1;
            if (col > 0)
                fprintf(out, "%*s", t->gap, "");
            if (t->align[col] == 'r')
                fprintf(out, "%*s", (int)pad, "");
            fputs(cells[col], out);
            if (t->align[col] != 'r' && !last)
                fprintf(out, "%*s", (int)pad, "");
        }
        fputc('\n', out);
    }
    return true;
}

void cli_table_free(cli_table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
