/* The engine and its configuration (src/runtime). */
#ifndef WJ_RUNTIME_ENGINE_H
#define WJ_RUNTIME_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmjail.h>

#include "compiler/vmctx.h"
#include "memory/pool.h"
#include "memory/slots.h"
#include "registry/registry.h"

struct wj_config {
    unsigned features;      /* wj_feature bits */
    size_t max_wasm_stack;  /* bytes of native stack nested wasm calls may use */
    uint64_t max_memory_size; /* bytes any linear memory may grow to */
    vm_memory_config memory;  /* where 32-bit memories live */
    bool epoch_interruption;  /* compiled code checks the epoch */
    bool consume_fuel;        /* compiled code charges fuel */
    bool memory_images;       /* data segments as copy-on-write images */
    bool pooling;             /* the pooling allocator, with these limits: */
    wj_pooling_config pool;
    uint32_t compile_threads; /* 0: one per online CPU (an engine's is resolved) */
    wj_strategy strategy;
    uint32_t tier_up_budget;  /* tiered: calls + iterations before tier 2 */
};

/* The pooling allocator's reservations (memories: wj_engine.slots). */
typedef struct instance_pool {
    block_pool states; /* each instance's own state (instance.c) */
    block_pool tables; /* table elements */
} instance_pool;

struct wj_engine {
    struct wj_config config;
    type_registry *types; /* function types interned engine-wide */
    _Atomic uint64_t epoch; /* compiled code reads it through vmctx */
    memory_slots *slots;    /* static memories' reservations for reuse, or NULL */
    instance_pool *pool;    /* with the pooling allocator */
    block_pool *spare_tables; /* without: table blocks kept for reuse */
    struct tier_worker *tierup; /* tiered execution's compile thread (tierup.h) */
};

/* What the default allocator keeps for the next instances: freed static
 * memories' reservations, and blocks for tables of up to
 * ENGINE_SPARE_TABLE_ELEMS elements (larger ones are malloc'd). */
#define ENGINE_SPARE_MEMORIES 32
#define ENGINE_SPARE_TABLES 32
#define ENGINE_SPARE_TABLE_ELEMS 16384

#endif
