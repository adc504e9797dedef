#define _GNU_SOURCE /* CPU_COUNT */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "engine.h"
#include "tierup.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *wj_version(void)
{
    return STR(WJ_VERSION_MAJOR) "." STR(WJ_VERSION_MINOR) "." STR(WJ_VERSION_PATCH);
}

/* Wasm 2.0 is on; proposals are opt-in. */
static const struct wj_config default_config = {
    .features = WJ_FEATURE_SIMD,
    .max_wasm_stack = 512 * 1024,
    .max_memory_size = UINT64_C(4) << 30,
    .memory = {.reservation = UINT64_C(4) << 30, .guard = UINT64_C(2) << 30},
    .memory_images = true,
    .strategy = WJ_STRATEGY_TIERED,
    .tier_up_budget = 1000,
};

wj_config *wj_config_new(void)
{
    wj_config *config = malloc(sizeof *config);
    if (config)
        *config = default_config;
    return config;
}

void wj_config_delete(wj_config *config)
{
    free(config);
}

void wj_config_set_feature(wj_config *config, wj_feature feature, bool enabled)
{
    if (enabled)
        config->features |= feature;
    else
        config->features &= ~(unsigned)feature;
}

bool wj_config_get_feature(const wj_config *config, wj_feature feature)
{
    return (config->features & feature) == (unsigned)feature;
}

void wj_config_set_max_wasm_stack(wj_config *config, size_t bytes)
{
    config->max_wasm_stack = bytes;
}

void wj_config_set_max_memory_size(wj_config *config, uint64_t bytes)
{
    config->max_memory_size = bytes;
}

/* Whole wasm pages, so that mappings stay page-aligned; saturates. */
static uint64_t round_to_pages(uint64_t bytes)
{
    uint64_t pages = bytes / WASM_PAGE_SIZE + (bytes % WASM_PAGE_SIZE != 0);
    return pages > (UINT64_C(1) << 47) / WASM_PAGE_SIZE ? UINT64_C(1) << 47 : pages * WASM_PAGE_SIZE;
}

void wj_config_set_memory_reservation(wj_config *config, uint64_t bytes)
{
    config->memory.reservation = round_to_pages(bytes);
}

void wj_config_set_memory_guard_size(wj_config *config, uint64_t bytes)
{
    config->memory.guard = round_to_pages(bytes);
}

void wj_config_set_dynamic_memories(wj_config *config, bool enabled)
{
    config->memory.dynamic32 = enabled;
}

void wj_config_set_epoch_interruption(wj_config *config, bool enabled)
{
    config->epoch_interruption = enabled;
}

void wj_config_set_consume_fuel(wj_config *config, bool enabled)
{
    config->consume_fuel = enabled;
}

void wj_config_set_memory_images(wj_config *config, bool enabled)
{
    config->memory_images = enabled;
}

void wj_config_set_compile_threads(wj_config *config, uint32_t threads)
{
    config->compile_threads = threads;
}

void wj_config_set_strategy(wj_config *config, wj_strategy strategy)
{
    config->strategy = strategy;
}

void wj_config_set_tier_up_budget(wj_config *config, uint32_t budget)
{
    config->tier_up_budget = budget;
}

void wj_pooling_config_init(wj_pooling_config *pooling)
{
    *pooling = (wj_pooling_config){
        .instances = 1000,
        .memories = 1000,
        .tables = 1000,
        .memories_per_instance = 1,
        .tables_per_instance = 1,
        .memory_size = UINT64_C(4) << 30,
        .table_elements = 20000,
        .instance_size = (size_t)1 << 20,
    };
}

void wj_config_set_pooling(wj_config *config, const wj_pooling_config *pooling)
{
    config->pooling = pooling != NULL;
    if (pooling)
        config->pool = *pooling;
}

/* The pooling allocator's slots, reserved now. */
static bool pool_new(wj_engine *engine)
{
    const wj_pooling_config *p = &engine->config.pool;
    const vm_memory_config *mc = &engine->config.memory;
    wasm_error err = {0};
    if (!mc->reservation || mc->dynamic32)
        return false; /* pooled memories are static */
    engine->pool = calloc(1, sizeof *engine->pool);
    engine->slots = slots_new(mc->reservation + mc->guard, p->memories, true, &err);
    return engine->pool && engine->slots &&
           pool_init(&engine->pool->states, p->instances, p->instance_size, "instance states",
                     &err) &&
           pool_init(&engine->pool->tables, p->tables, (size_t)p->table_elements * sizeof(void *),
                     "tables", &err);
}

/* The default allocator's spares (engine.h). */
static bool spares_new(wj_engine *engine)
{
    const vm_memory_config *mc = &engine->config.memory;
    wasm_error err = {0};
    if (mc->reservation &&
        !(engine->slots =
              slots_new(mc->reservation + mc->guard, ENGINE_SPARE_MEMORIES, false, &err)))
        return false;
    engine->spare_tables = malloc(sizeof *engine->spare_tables);
    return engine->spare_tables &&
           pool_init(engine->spare_tables, ENGINE_SPARE_TABLES,
                     ENGINE_SPARE_TABLE_ELEMS * sizeof(void *), "tables", &err);
}

wj_engine *wj_engine_new(const wj_config *config)
{
    wj_engine *engine = malloc(sizeof *engine);
    if (!engine)
        return NULL;
    engine->config = config ? *config : default_config;
    /* The CPUs this process may run on: every online one unless its
     * affinity says less. (sysconf counts online CPUs by opening a file
     * under /sys, which would end a jailed process.) */
    if (engine->config.compile_threads == 0) {
        cpu_set_t cpus;
        int count = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
        engine->config.compile_threads = count > 1 ? (uint32_t)count : 1;
    }
    atomic_init(&engine->epoch, 0);
    engine->types = type_registry_new();
    engine->slots = NULL;
    engine->pool = NULL;
    engine->spare_tables = NULL;
    engine->tierup = tier_worker_new();
    if (!engine->types || !engine->tierup || !(engine->config.pooling ? pool_new(engine) : spares_new(engine))) {
        wj_engine_delete(engine);
        return NULL;
    }
    return engine;
}

void wj_engine_delete(wj_engine *engine)
{
    if (!engine)
        return;
    tier_worker_free(engine->tierup); /* it may hold the last modules */
    type_registry_free(engine->types);
    slots_free(engine->slots);
    if (engine->pool) {
        pool_destroy(&engine->pool->states);
        pool_destroy(&engine->pool->tables);
        free(engine->pool);
    }
    if (engine->spare_tables) {
        pool_destroy(engine->spare_tables);
        free(engine->spare_tables);
    }
    free(engine);
}

void wj_engine_increment_epoch(wj_engine *engine)
{
    atomic_fetch_add_explicit(&engine->epoch, 1, memory_order_relaxed);
}

uint64_t wj_engine_epoch(const wj_engine *engine)
{
    return atomic_load_explicit(&engine->epoch, memory_order_relaxed);
}

const char *wj_valtype_name(wj_valtype type)
{
    switch (type) {
    case WJ_I32: return "i32";
    case WJ_I64: return "i64";
    case WJ_F32: return "f32";
    case WJ_F64: return "f64";
    case WJ_V128: return "v128";
    case WJ_FUNCREF: return "funcref";
    case WJ_EXTERNREF: return "externref";
    }
    return "?";
}

const char *wj_extern_kind_name(wj_extern_kind kind)
{
    switch (kind) {
    case WJ_EXTERN_FUNC: return "func";
    case WJ_EXTERN_TABLE: return "table";
    case WJ_EXTERN_MEMORY: return "memory";
    case WJ_EXTERN_GLOBAL: return "global";
    }
    return "?";
}
