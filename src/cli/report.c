/* Error lines and safe display of untrusted strings. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Decodes one UTF-8 sequence at s[0..len); returns its length, or 0 when
 * it is not valid (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

/* Code points that must not reach a terminal raw: C0 and C1 controls, DEL,
 * and the bidirectional formatting characters ("Trojan Source"). */
static bool is_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *cli_escape(const char *bytes, size_t len)
{
    /* The worst case is 4 output bytes per input byte ("\xff"; a 2-byte C1
     * control becomes the 6-byte "\u{85}", a 3-byte one the 8-byte "\u{202e}"). */
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)bytes;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        int w;
        if (n == 0) {
            w = sprintf(out + o, "\\x%02x", s[i]);
            n = 1;
        } else if (cp == '\\') {
            w = sprintf(out + o, "\\\\");
        } else if (cp == '\n') {
            w = sprintf(out + o, "\\n");
        } else if (cp == '\t') {
            w = sprintf(out + o, "\\t");
        } else if (cp == '\r') {
            w = sprintf(out + o, "\\r");
        } else if (cp < 0x80 && is_unsafe(cp)) {
            w = sprintf(out + o, "\\x%02x", (unsigned)cp);
        } else if (is_unsafe(cp)) {
            w = sprintf(out + o, "\\u{%x}", (unsigned)cp);
        } else {
            memcpy(out + o, s + i, n);
            w = (int)n;
        }
        o += (size_t)w;
        i += n;
    }
    out[o] = '\0';
    return out;
}

static const char *kind_text(wj_error_kind kind)
{
    switch (kind) {
    case WJ_ERROR_MALFORMED:
        return "malformed module";
    case WJ_ERROR_INVALID:
        return "invalid module";
    case WJ_ERROR_UNSUPPORTED:
        return "unsupported module";
    case WJ_ERROR_RESOURCE:
        return "module over a resource limit";
    case WJ_ERROR_LINK:
        return "link error";
    case WJ_ERROR_USAGE:
        return "usage error";
    case WJ_ERROR_IO:
        return "I/O error";
    }
    return "module error";
}

char *cli_display_path(const char *path)
{
    if (strcmp(path, "-") == 0)
        return strdup("(standard input)");
    return cli_escape(path, strlen(path));
}

void cli_report_file_error(const char *path, int errnum)
{
    char *file = cli_display_path(path);
    cli_error("%s: %s", file ? file : path, strerror(errnum));
    free(file);
}

void cli_report_module_error(const char *path, const wj_error *err)
{
    char *file = cli_display_path(path);
    const char *raw = wj_error_message(err);
    wj_error_kind kind_of = wj_error_kind_of(err);
    /* "unsupported module at ...: unsupported: X" says it twice. */
    static const char prefix[] = "unsupported: ";
    if (raw && kind_of == WJ_ERROR_UNSUPPORTED && strncmp(raw, prefix, strlen(prefix)) == 0)
        raw += strlen(prefix);
    char *reason = raw ? cli_escape(raw, strlen(raw)) : NULL;
    const char *kind = kind_text(kind_of);
    uint64_t offset = wj_error_offset(err);
    /* The message may quote the module's own bytes (an import's name):
     * show only the escaped copy, or nothing if there is none. */
    const char *shown = reason ? reason : "(no reason given)";
    if (offset == WJ_NO_OFFSET)
        cli_error("%s: %s: %s", file ? file : path, kind, shown);
    else
        cli_error("%s: %s at offset 0x%" PRIx64 " (%" PRIu64 "): %s", file ? file : path, kind,
                  offset, offset, shown);
    free(file);
    free(reason);
}

/* The module's name for a frame: its name section's, else the file's base
 * name (what users recognise). */
static char *frame_module(const char *path, const wj_frame *f)
{
    if (f->module_name)
        return cli_escape(f->module_name, strlen(f->module_name));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return cli_escape(base, strlen(base));
}

void cli_report_trap(const char *path, const wj_trap *trap)
{
    fflush(stdout);
    char *file = cli_display_path(path);
    fprintf(stderr, "Error: failed to run main module `%s`\n", file ? file : path);
    size_t n = wj_trap_frame_count(trap);
    if (n)
        fputs("wasm backtrace:\n", stderr);
    for (size_t i = 0; i < n; i++) {
        const wj_frame *f = wj_trap_frame(trap, i);
        char *module = frame_module(path, f);
        char *func = f->func_name ? cli_escape(f->func_name, strlen(f->func_name)) : NULL;
        fprintf(stderr, "  %3zu: %#8" PRIx64 " - %s!", i, f->module_offset, module ? module : "?");
        if (func)
            fprintf(stderr, "%s\n", func);
        else
            fprintf(stderr, "<wasm function %" PRIu32 ">\n", f->func_index);
        free(module);
        free(func);
    }
    const char *msg = wj_trap_message(trap);
    char *shown = cli_escape(msg, strlen(msg));
    fprintf(stderr, "wasm trap: %s\n", shown ? shown : msg);
    free(shown);
    free(file);
}
