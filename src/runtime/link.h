/* Checking a module's imports against the externs given for them. */
#ifndef WJ_RUNTIME_LINK_H
#define WJ_RUNTIME_LINK_H

#include <stddef.h>

#include <wasmjail.h>

/* NULL when every import matches: a USAGE error for a missing object or
 * one of another store, a LINK error ("incompatible import type for import
 * 2 \"env\" \"f\": expected ..., got ...") for a wrong kind or type. */
wj_error *link_check(const wj_store *store, const wj_module *module, const wj_extern *imports,
                     size_t count);

#endif
