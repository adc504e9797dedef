/* Real modules for the suites that run over them (test-ir, test-passes):
 * the example plugin `make` builds, the benchmark kernels once `make bench`
 * made them, and the Sightglass programs when $SIGHTGLASS has them. */
#ifndef WJ_TESTS_CORPUS_H
#define WJ_TESTS_CORPUS_H

#include <stdint.h>

#include "wasm/module.h"

/* Calls each(module, path) for every module of the corpus found; each
 * returns how many functions it handled. Fails the test when a file does
 * not decode and validate, or when the example plugin gave none. */
void corpus_each(uint32_t (*each)(const wasm_module *m, const char *path));

#endif
