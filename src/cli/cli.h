/*
 * The wasmjail command: what the subcommands share. The CLI is a client of
 * the public API only (<wasmjail.h>), never of src/wasm or src/runtime.
 */
#ifndef WJ_CLI_H
#define WJ_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <wasmjail.h>

/* Exit statuses, as documented in doc/wasmjail.1. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* a file is unreadable, malformed, invalid, ... */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_TRAP = 134,  /* the program trapped (128 + SIGABRT, as wasmtime) */
};

/* --- main.c --------------------------------------------------------------- */

/* Prints "wasmjail: <message>" and the hint to try --help on stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "wasmjail: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports what getopt_long() (run with a ':'-prefixed option string and
 * opterr = 0) returned as '?' or ':' for `command`; returns CLI_EXIT_USAGE. */
int cli_option_error(const char *command, int c, char **argv);

/* Flushes standard output and reports a write error (a full disk, a closed
 * pipe); returns `status`, or CLI_EXIT_FAILURE if the output was lost. */
int cli_finish_output(int status);

/* --- readfile.c ------------------------------------------------------------ */

/* Reads all of `path` ("-" is standard input) into *data (malloc'ed, to be
 * freed by the caller; never NULL on success, even for an empty file).
 * Returns 0, or an errno value describing why it could not. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/* --- features.c ------------------------------------------------------------ */

/* Applies a comma-separated --features list ("memory64,no-simd") to config.
 * On an unknown or empty name, prints a usage error and returns false. */
bool cli_parse_features(wj_config *config, const char *list);

/* The names --features accepts, for help texts: "memory64, multi-memory, simd". */
extern const char cli_feature_names[];

/* --- report.c -------------------------------------------------------------- */

/* Prints "wasmjail: FILE: malformed module at offset 0x1c (28): reason". */
void cli_report_module_error(const char *path, const wj_error *err);

/* Shows a file name or a module's byte-string name on a terminal: valid
 * UTF-8 passes through; control characters, bidirectional overrides and
 * invalid bytes become \n, \x1b, \u{202e} escapes so that an untrusted
 * module cannot drive the terminal. Returns a malloc'ed string, or NULL
 * when out of memory. */
char *cli_escape(const char *bytes, size_t len);

/* A path as shown in messages: escaped, and "-" named "(standard input)".
 * Returns a malloc'ed string, or NULL when out of memory. */
char *cli_display_path(const char *path);

/* Prints the report of a trap while running FILE, in wasmtime's layout:
 * "Error: ...", "wasm backtrace:" and a line per frame, "wasm trap: ...". */
void cli_report_trap(const char *path, const wj_trap *trap);

/* Prints "wasmjail: FILE: <strerror(errnum)>". */
void cli_report_file_error(const char *path, int errnum);

/* --- value.c --------------------------------------------------------------- */

/* Parses a command-line value of type `type`: integers signed or unsigned
 * within their bits, decimal or 0x hex; floats as strtod(3) reads them; a
 * v128 as its lanes in a shape, "i32x4:1,2,3,-4" (also i8x16, i16x8,
 * i64x2, f32x4, f64x2), lane 0 first. */
bool cli_parse_value(const char *s, wj_valtype type, wj_val *out);
/* Prints a value on a line of standard output; a v128 as its i32x4 lanes
 * in hex, "i32x4:0x00000001,0x00000002,0x00000003,0xfffffffc". */
void cli_print_value(const wj_val *v);

/* --- table.c --------------------------------------------------------------- */

/* Rows of cells printed in aligned columns; every cell is text already
 * made safe with cli_escape(). */
enum { CLI_TABLE_MAX_COLS = 4 };

typedef struct cli_table {
    size_t ncols;
    char align[CLI_TABLE_MAX_COLS]; /* 'l' or 'r' */
    int gap;                        /* spaces between columns */
    size_t ncells, cap;
    char **cells; /* row after row */
    bool out_of_memory;
} cli_table;

/* `align` has one letter per column: "lrr"; `gap` spaces separate them. */
void cli_table_init(cli_table *t, const char *align, int gap);
/* Appends a printf-formatted cell; a row ends after ncols cells. */
void cli_table_cell(cli_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints every row after `indent`, with aligned columns; returns false
 * (printing nothing) if a cell could not be allocated. */
bool cli_table_print(const cli_table *t, FILE *out, const char *indent);
void cli_table_free(cli_table *t);

/* --- timer.c --------------------------------------------------------------- */

/* Parses "1s", "500ms", "1.5m", "2h", "100us" or plain seconds into
 * nanoseconds (at least 1); false when it is not a duration. */
bool cli_parse_duration(const char *s, uint64_t *ns);

/* A thread that advances `engine`'s epoch `ns` from now, unless stopped
 * first. NULL when it cannot be started. */
typedef struct cli_timer cli_timer;
cli_timer *cli_timer_start(wj_engine *engine, uint64_t ns);
/* Stops and joins it (before the engine goes); accepts NULL. */
void cli_timer_stop(cli_timer *timer);

/* --- the subcommands ------------------------------------------------------- */

int cmd_run(int argc, char **argv);
void cmd_run_help(FILE *out);
int cmd_validate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
void cmd_validate_help(FILE *out);
void cmd_inspect_help(FILE *out);

#endif
