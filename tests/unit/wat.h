/* Test modules in the WebAssembly text format, converted at test time by
 * wabt's wat2wasm (found next to $WAST2JSON, which `make check` exports, or
 * in PATH). Shared by the Check suites that write their modules as text. */
#ifndef WJ_TESTS_WAT_H
#define WJ_TESTS_WAT_H

#include <stddef.h>
#include <stdint.h>

/* The wat2wasm program: next to $WAST2JSON, else in PATH; NULL if neither.
 * The string is static (overwritten by the next call). */
const char *wat2wasm_path(void);

/* Converts a module in the text format to binary, with a name section
 * (--debug-names). Returns the bytes (the caller frees them), or NULL with
 * the reason in `why`. Uses no Check calls, so that a child process that is
 * not under Check (a re-executed test program) may use it too. */
uint8_t *wat_to_wasm_or_why(const char *wat, size_t *len, const char **why);

/* The same, failing the current Check test on any problem. */
uint8_t *wat_to_wasm(const char *wat, size_t *len);

/* Both with extra wat2wasm options, e.g. {"--enable-memory64", NULL}: a
 * NULL-terminated list, passed after --debug-names (NULL: none). */
uint8_t *wat_to_wasm_opts_or_why(const char *wat, const char *const *opts, size_t *len,
                                 const char **why);
uint8_t *wat_to_wasm_opts(const char *wat, const char *const *opts, size_t *len);

#endif
