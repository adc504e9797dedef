/* Modules for the suites over tier 2's IR (test-ir, test-passes): written
 * in the text format, or real ones: the example plugin `make` builds, the
 * benchmark kernels once `make bench` made them, and the Sightglass
 * programs when $SIGHTGLASS has them. */
#ifndef WJ_TESTS_CORPUS_H
#define WJ_TESTS_CORPUS_H

#include <stdint.h>

#include "opt/ir.h"
#include "wasm/module.h"

/* A module in the text format, decoded and validated (SIMD, memory64). */
wasm_module *test_wat_module(const char *wat);
/* Live instructions of operator `op` in a function. */
uint32_t test_count_op(ir_func *f, uint16_t op);

/* Calls each(module, path) for every module of the corpus found; each
 * returns how many functions it handled. Fails the test when a file does
 * not decode and validate, or when the example plugin gave none. */
void corpus_each(uint32_t (*each)(const wasm_module *m, const char *path));

#endif
