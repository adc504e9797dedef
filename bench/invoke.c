/*
 * bench/invoke: instantiates a module that has no imports and calls one of
 * its exports with i32 arguments, printing the results; the wasm side of
 * bench/run-kernels.sh (timed as a whole process, start-up included).
 *
 *   bench/invoke [--dynamic-memories] [--optimized] FILE.wasm EXPORT [I32...]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, got;
    do {
        uint8_t *grown = realloc(buf, n + 65536);
        if (!grown) {
            free(buf);
            fclose(f);
            return NULL;
        }
        buf = grown;
        got = fread(buf + n, 1, 65536, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    bool dynamic = argc > 1 && strcmp(argv[1], "--dynamic-memories") == 0;
    if (dynamic)
        argc--, argv++;
    bool optimized = argc > 1 && strcmp(argv[1], "--optimized") == 0;
    if (optimized)
        argc--, argv++;
    if (argc < 3) {
        fprintf(stderr, "usage: invoke [--dynamic-memories] [--optimized] FILE.wasm EXPORT "
                        "[I32...]\n");
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "invoke: cannot read %s\n", argv[1]);
        return 1;
    }
    int status = 1;
    wj_config *config = wj_config_new();
    if (!config) {
        free(bytes);
        return 1;
    }
    wj_config_set_dynamic_memories(config, dynamic);
    wj_config_set_strategy(config, optimized ? WJ_STRATEGY_OPTIMIZED : WJ_STRATEGY_BASELINE);
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    wj_store *store = wj_store_new(engine);
    wj_module *module = NULL;
    wj_instance *instance;
    wj_trap *trap = NULL;
    wj_extern ex;
    wj_functype type;
    wj_val args[16], results[16];
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    if (!err)
        err = wj_instance_new(store, module, NULL, 0, &instance, &trap);
    if (err || trap)
        goto out;
    if (!wj_instance_export(instance, argv[2], strlen(argv[2]), &ex) ||
        ex.kind != WJ_EXTERN_FUNC) {
        fprintf(stderr, "invoke: no exported function %s\n", argv[2]);
        goto out;
    }
    wj_func_type(ex.of.func, &type);
    if (type.param_count != (uint32_t)(argc - 3) || type.param_count > 16 ||
        type.result_count > 16) {
        fprintf(stderr, "invoke: %s takes %u arguments\n", argv[2], type.param_count);
        goto out;
    }
    for (uint32_t i = 0; i < type.param_count; i++)
        args[i] = (wj_val){.kind = WJ_I32, .of.i32 = (int32_t)strtol(argv[3 + i], NULL, 0)};
    err = wj_func_call(ex.of.func, args, type.param_count, results, type.result_count, &trap);
    if (err || trap)
        goto out;
    for (uint32_t i = 0; i < type.result_count; i++)
        if (results[i].kind == WJ_I32)
            printf("%" PRIu32 "\n", (uint32_t)results[i].of.i32);
        else if (results[i].kind == WJ_I64)
            printf("%" PRId64 "\n", results[i].of.i64);
    status = 0;
out:
    if (err)
        fprintf(stderr, "invoke: %s\n", wj_error_message(err));
    if (trap)
        fprintf(stderr, "invoke: trap: %s\n", wj_trap_message(trap));
    wj_error_delete(err);
    wj_trap_delete(trap);
    wj_store_delete(store);
    wj_module_delete(module);
    wj_engine_delete(engine);
    free(bytes);
    return status;
}
