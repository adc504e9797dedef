/*
 * The generated modules of bench/instantiate (bench/modules.c): wasm
 * binaries built in-process by deterministic C code, so the benchmark and
 * its smoke test (tests/unit/test-bench-modules.c) need no external tools.
 *
 *   empty          no sections at all
 *   memory         one 1-page memory, exported as "memory"
 *   data           a 17-page memory with data segments: 4 KiB at
 *                  BENCH_DATA_OFFSET and three small ones
 *   small          `data` plus 10 functions and a 10-entry funcref table
 *                  filled by one active element segment
 *   large          `data` plus 31,930 functions and a 7,420-entry table
 *
 * The functions of `small` and `large`: every one but the last has type
 * (i32) -> i32 and one of five small bodies (arithmetic, a call, a load
 * from the 4 KiB segment, a select) chosen by its index;
 * bench_func_result() computes what it returns. The last, exported as
 * "dispatch", is (i32 slot, i32 x) -> i32: call_indirect of table slot
 * `slot` with x. The table is exported as "table"; slot i holds function
 * bench_table_func(nfuncs, i).
 */
#ifndef WJ_BENCH_MODULES_H
#define WJ_BENCH_MODULES_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_DATA_PAGES 17u
#define BENCH_DATA_OFFSET 1024u  /* of the 4 KiB segment */
#define BENCH_DATA_SIZE 4096u
#define BENCH_SMALL_FUNCS 10u
#define BENCH_SMALL_SLOTS 10u
#define BENCH_LARGE_FUNCS 31930u
#define BENCH_LARGE_SLOTS 7420u

typedef enum bench_shape {
    BENCH_EMPTY,
    BENCH_MEMORY,
    BENCH_DATA,
    BENCH_SMALL,
    BENCH_LARGE,
    BENCH_SHAPES
} bench_shape;

typedef struct bench_module {
    uint8_t *bytes; /* malloc'd; NULL when out of memory */
    size_t len;
    uint32_t nfuncs, nslots; /* 0 without functions */
} bench_module;

/* "empty", "memory", ... */
const char *bench_shape_name(bench_shape shape);
bench_module bench_module_build(bench_shape shape);
/* A module of `nfuncs` functions (at least 2) and a table of `nslots`
 * slots, with the memory and data: `small` and `large` are two of them. */
bench_module bench_module_build_funcs(uint32_t nfuncs, uint32_t nslots);
void bench_module_free(bench_module *m);

/* The byte at `offset` of the 4 KiB segment. */
uint8_t bench_data_byte(uint32_t offset);
/* The function in table slot `slot`. */
uint32_t bench_table_func(uint32_t nfuncs, uint32_t slot);
/* What function `func` (not the last) returns for x. */
uint32_t bench_func_result(uint32_t func, uint32_t x);

#endif
