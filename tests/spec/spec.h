/*
 * The spec-test runner (tests/spec): converts .wast scripts with wabt's
 * wast2json and checks every command it can judge against libwasmjail.
 *
 *   convert.c   .wast -> JSON and module files, read into memory
 *   commands.c  one JSON command -> pass, fail or skip
 *   tally.c     counting, skip reasons and FAIL lines
 *   crash.c     a FAIL line naming the command when the library crashes
 *   runner.c    options, paths and the summary
 */
#ifndef SPEC_RUNNER_SPEC_H
#define SPEC_RUNNER_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wasmjail.h"

/* --- convert.c ------------------------------------------------------------ */

/* One file that wast2json wrote (a .wasm or .wat module), read into memory. */
struct module_file {
    char *name; /* as in the command's "filename" field */
    uint8_t *bytes;
    size_t len;
};

/* A converted .wast script: its JSON and every module file it names. All of
 * it is in memory, so the temporary directory is already gone when the
 * library sees a byte (a crashing decoder cannot leave it behind). */
struct script {
    json_t *json;
    json_t *commands; /* borrowed from json: the "commands" array */
    struct module_file *files;
    size_t file_count;
};

struct conversion_options {
    const char *wast2json; /* a path, or a name looked up in $PATH */
    bool memory64;
    bool multi_memory;
};

/* Converts `wast_path` into `out`. On failure returns false and sets *why to
 * a malloc'd, possibly multi-line explanation (wast2json's own output). */
bool script_convert(const struct conversion_options *options, const char *wast_path,
                    struct script *out, char **why);
void script_free(struct script *script);
const struct module_file *script_find_file(const struct script *script, const char *name);

/* --- tally.c -------------------------------------------------------------- */

enum skip_reason {
    SKIP_TEXT_MODULE,  /* a .wat module: the runtime reads binaries only */
    SKIP_NO_COMPILER,  /* needs instantiation or execution */
    SKIP_CONVERSION_GAP, /* wast2json's binary cannot carry the expected message */
    SKIP_REASON_COUNT,
};

struct tally {
    uint64_t passed;
    uint64_t failed;
    uint64_t skipped;
    uint64_t skipped_for[SKIP_REASON_COUNT];
};

void tally_pass(struct tally *tally);
void tally_skip(struct tally *tally, enum skip_reason reason);
/* Counts a failure and prints "FAIL path:line: " (or "FAIL path: " when line
 * is 0) to stdout. The caller writes the rest of the line to the returned
 * stream and ends it with '\n'. */
FILE *tally_fail(struct tally *tally, const char *path, long line);
void tally_add(struct tally *total, const struct tally *part);
/* "N passed, M failed, K skipped" after `label: `. */
void tally_print_counts(const struct tally *tally, const char *label);
/* One "SKIP <count> <reason>" line per reason that occurred, most first. */
void tally_print_skip_reasons(const struct tally *tally);

/* Writes s in double quotes, escaping quotes, backslashes and any byte that
 * is not printable ASCII, so a FAIL stays on one line. */
void fput_quoted(const char *s, FILE *out);

/* --- commands.c ----------------------------------------------------------- */

struct run_context {
    wj_engine *engine;
    const char *path; /* the .wast file, as shown in FAIL lines */
    struct tally *tally;
};

/* Runs every command of the script, counting each as passed, failed or skipped. */
void script_run(const struct run_context *context, const struct script *script);

/* --- crash.c -------------------------------------------------------------- */

/* Makes a crash (SIGSEGV, SIGABRT, ...) print "FAIL path:line: spec-runner
 * crashed here: SIGSEGV" for the command last named by crash_report_at()
 * (path NULL: none) before the process dies of it. */
void crash_report_install(void);
void crash_report_at(const char *path, long line);

#endif
