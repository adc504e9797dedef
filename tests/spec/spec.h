/*
 * The spec-test runner (tests/spec): converts .wast scripts with wabt's
 * wast2json and checks every command it can judge against libwasmjail.
 *
 *   convert.c    .wast -> JSON and module files, read into memory
 *   commands.c   dispatching commands; assert_malformed and assert_invalid
 *                (decoding and validation only)
 *   linking.c    module, register, assert_unlinkable, assert_uninstantiable
 *   actions.c    action, assert_return, assert_trap, assert_exhaustion
 *   instances.c  a script's store, its modules and instances, import lookup
 *   spectest.c   the "spectest" host module
 *   values.c     script values (JSON) <-> wj_val, and comparing results
 *   tally.c      counting, skip reasons and FAIL lines
 *   crash.c      a FAIL line naming the command when the library crashes
 *   runner.c     options, paths and the summary
 */
#ifndef SPEC_RUNNER_SPEC_H
#define SPEC_RUNNER_SPEC_H

#include <jansson.h>
#include <stdnoreturn.h>
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

/* --- runner.c ------------------------------------------------------------- */

/* Prints "spec-runner: out of memory" and aborts. */
noreturn void out_of_memory(void);
/* A malloc'd formatted string; out_of_memory() when that fails. */
char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- tally.c -------------------------------------------------------------- */

enum skip_reason {
    SKIP_TEXT_MODULE,    /* a .wat module: the runtime reads binaries only */
    SKIP_CONVERSION_GAP, /* wast2json's binary cannot carry the expected message */
    SKIP_UNSUPPORTED,    /* the library said WJ_ERROR_UNSUPPORTED: its message */
};

/* How many commands were skipped for one reason, by its text. */
struct skip_count {
    char *text;
    uint64_t count;
};

struct tally {
    uint64_t passed;
    uint64_t failed;
    uint64_t skipped;
    struct skip_count *skips; /* one per distinct text, in order of appearance */
    size_t skip_kinds;
};

void tally_pass(struct tally *tally);
/* `message` is the library's message for SKIP_UNSUPPORTED (copied), and
 * ignored for the other reasons, which have fixed texts. */
void tally_skip(struct tally *tally, enum skip_reason reason, const char *message);
/* Counts a failure and prints "FAIL path:line: " (or "FAIL path: " when line
 * is 0) to stdout. The caller writes the rest of the line to the returned
 * stream and ends it with '\n'. */
FILE *tally_fail(struct tally *tally, const char *path, long line);
void tally_add(struct tally *total, const struct tally *part);
void tally_free(struct tally *tally);
/* "N passed, M failed, K skipped" after `label: `. */
void tally_print_counts(const struct tally *tally, const char *label);
/* One "SKIP <count> <reason>" line per distinct reason, most first. */
void tally_print_skip_reasons(const struct tally *tally);

/* Writes s in double quotes, escaping quotes, backslashes and any byte that
 * is not printable ASCII, so a FAIL stays on one line. */
void fput_quoted(const char *s, FILE *out);
void fput_quoted_bytes(const char *s, size_t len, FILE *out);

/* --- values.c ------------------------------------------------------------- */

/* What an expected result accepts besides one exact value. */
enum value_form {
    VALUE_EXACT,
    VALUE_NAN_CANONICAL,  /* "nan:canonical": either sign, payload = quiet bit */
    VALUE_NAN_ARITHMETIC, /* "nan:arithmetic": either sign, quiet bit set */
    VALUE_ANY_REF,        /* a reference without "value": any non-null one */
};

/* The lanes a v128 was written as: "lane_type" i8 ... f64. */
struct lane_shape {
    const char *name; /* "i32" */
    unsigned bytes;   /* of a lane: 1, 2, 4 or 8 */
    bool fp;
};

/* An argument or expected result from the script. */
struct script_value {
    enum value_form form;
    wj_val val; /* val.kind is always set */
    /* A v128 (form VALUE_EXACT): its shape, and per lane VALUE_EXACT or a
     * NaN pattern of a float lane. */
    const struct lane_shape *shape;
    enum value_form lane_forms[16];
};

enum value_parse { VALUE_PARSED, VALUE_BAD };

/* Parses {"type": ..., "value": ...}. Only an expected result (`expected`)
 * may be a NaN pattern or a reference without a value. On VALUE_BAD, *why
 * says what is wrong. */
enum value_parse value_parse(json_t *json, bool expected, struct script_value *out,
                             const char **why);
bool value_matches(const struct script_value *expected, const wj_val *actual);
/* e.g. "i32:42", "f32:0x7fc00000", "externref:3", "funcref:null",
 * "v128:i32x4:0x00000001,0x00000002,0x00000003,0xfffffffc": a v128 in the
 * lanes of `like`, an expected v128 (NULL: i32 lanes). */
void fput_value(const wj_val *value, const struct script_value *like, FILE *out);
void fput_expected_value(const struct script_value *value, FILE *out);

/* --- spectest.c ----------------------------------------------------------- */

/* The host module that every script may import from as "spectest". */
struct spectest;

/* Creates its functions, globals, table and memory in `store`. NULL when
 * that fails, with a malloc'd explanation in *why. */
struct spectest *spectest_new(wj_store *store, char **why);
void spectest_delete(struct spectest *spectest);
bool spectest_export(const struct spectest *spectest, const char *name, size_t len,
                     wj_extern *out);

/* --- instances.c ---------------------------------------------------------- */

/* What became of a module command: instances and imports refer to it. */
enum slot_state {
    SLOT_READY,   /* instantiated */
    SLOT_SKIPPED, /* the library cannot run it: skip_reason */
    SLOT_FAILED,  /* a FAIL line already said why */
};

struct slot {
    enum slot_state state;
    wj_instance *instance; /* SLOT_READY */
    char *skip_reason;     /* SLOT_SKIPPED: the library's message */
    /* SLOT_READY, but a skipped module that imports from it would have
     * changed its state (data or element segments, a start function): the
     * results of its code are no longer those the script expects. The
     * skipped module's reason; NULL when none. */
    char *stale_reason;
    long line; /* of the module command */
};

/* The result of instantiating a module file. */
enum instantiation_status {
    INST_OK,             /* instance */
    INST_SKIPPED,        /* message: why the library cannot run the module */
    INST_UNKNOWN_IMPORT, /* message: "unknown import" and its names */
    INST_ERROR,          /* error: from wj_module_new or wj_instance_new */
    INST_TRAP,           /* trap: the instantiation trapped */
    INST_BROKEN,         /* message: a problem on the runner's side */
};

struct instantiation {
    enum instantiation_status status;
    wj_instance *instance; /* owned by the store */
    wj_error *error;
    wj_trap *trap;
    char *message;
};

/* A script's store with its modules, instances and registered names. */
struct registry;

struct registry *registry_new(wj_engine *engine);
/* Deletes the store, then every module. */
void registry_delete(struct registry *registry);
/* Compiles and instantiates `file` with imports looked up in the registered
 * instances and spectest. The caller frees *out with instantiation_free. */
void registry_instantiate(struct registry *registry, const struct module_file *file,
                          struct instantiation *out);
void instantiation_free(struct instantiation *inst);
/* Records the outcome of a module command, which becomes the current module
 * (named `name` when not NULL). Returns the new slot. */
struct slot *registry_add(struct registry *registry, const char *name, long line,
                          enum slot_state state, wj_instance *instance, const char *skip_reason);
/* The module named `name`, or the current one when name is NULL; NULL when
 * there is none. */
const struct slot *registry_find(const struct registry *registry, const char *name);
/* Makes the module `name` (NULL: the current one) importable under `as`
 * (len bytes) and returns it; NULL when there is no such module. */
const struct slot *registry_register(struct registry *registry, const char *as, size_t len,
                                     const char *name);

/* --- commands.c ----------------------------------------------------------- */

struct run_context {
    wj_engine *engine;
    const char *path; /* the .wast file, as shown in FAIL lines */
    struct tally *tally;
};

/* Runs every command of the script, counting each as passed, failed or skipped. */
void script_run(const struct run_context *context, const struct script *script);

/* One command of a script, as the judging functions see it. */
struct command {
    const struct run_context *context;
    const struct script *script;
    struct registry *registry;
    json_t *json;
    const char *type;
    long line;
};

void command_pass(const struct command *c);
void command_skip(const struct command *c, enum skip_reason reason, const char *message);
/* Starts a FAIL line for this command; the caller finishes it. */
FILE *command_fail(const struct command *c);
/* The string member `key` of the command, or NULL. */
const char *command_string(const struct command *c, const char *key);
/* The command's module file, or NULL after counting the command as skipped
 * (a text module) or failed. */
const struct module_file *command_module_file(const struct command *c);
/* e.g. `malformed "unexpected end" at offset 0x1c` */
void fput_error(const wj_error *err, FILE *out);
bool starts_with(const char *s, const char *prefix);

/* --- linking.c ------------------------------------------------------------ */

void run_module(const struct command *c);
void run_register(const struct command *c);
void run_assert_unlinkable(const struct command *c);
void run_assert_uninstantiable(const struct command *c);

/* --- actions.c ------------------------------------------------------------ */

void run_action(const struct command *c);
void run_assert_return(const struct command *c);
void run_assert_trap(const struct command *c);
void run_assert_exhaustion(const struct command *c);

/* --- crash.c -------------------------------------------------------------- */

/* Makes a crash (SIGSEGV, SIGABRT, ...) print "FAIL path:line: spec-runner
 * crashed here: SIGSEGV" for the command last named by crash_report_at()
 * (path NULL: none) before the process dies of it. Must run before the first
 * store is created: the library's fault handlers chain to it. */
void crash_report_install(void);
void crash_report_at(const char *path, long line);

#endif
