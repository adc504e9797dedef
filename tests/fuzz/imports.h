/*
 * Values for every import of a module, made to match its declared type, so
 * that the fuzzers can instantiate any module: functions that return zeros
 * (after an optional hook has seen the call), and memories, tables and
 * globals of the declared limits and types. Public API only.
 */
#ifndef WJ_FUZZ_IMPORTS_H
#define WJ_FUZZ_IMPORTS_H

#include "wasmjail.h"

typedef struct fuzz_import fuzz_import;

/* Sees each call of an imported function, before it returns zeros; a trap
 * it returns ends the call instead. */
typedef wj_trap *(*fuzz_import_hook)(const fuzz_import *import, const wj_val *args);

struct fuzz_import {
    wj_import_info info; /* names valid as long as the module */
    wj_functype type;    /* the function's type */
    fuzz_import_hook hook;
    void *user;          /* the hook's own pointer */
};

/* One extern per import of `module`, in import order, made in `store`
 * (which owns them; the array is the caller's to free). On failure returns
 * NULL with *err set when the library refused (a limit over the engine's
 * maximum), NULL with *err NULL when out of memory. */
wj_extern *fuzz_imports_new(wj_store *store, const wj_module *module, fuzz_import_hook hook,
                            void *user, wj_error **err);

/* The zero value of a type (ref.null for references). */
wj_val fuzz_zero(wj_valtype type);

#endif
