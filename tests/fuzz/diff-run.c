/*
 * diff-run: the wasmjail side of the differential fuzzer (see
 * differential.sh, whose other side is V8 through diff-node.mjs).
 *
 *   diff-run FILE.wasm
 *
 * Runs the module the way binaryen's fuzz-exec does: instantiates it, then
 * calls each exported function in export order with zero arguments, after
 * the export "hangLimitInitializer" when there is one (binaryen's -ttf
 * modules bound their loops and recursion with a counter that it resets).
 * Imports are stubs returning zeros (imports.c); those of binaryen's
 * "fuzzing-support" module named log-* print their arguments.
 *
 * v128 values cannot cross into JavaScript: V8 refuses to call an export
 * with a v128 parameter or result (a TypeError before its body runs), and a
 * call of an import taking one (log-v128) throws the same TypeError from
 * inside the caller. Both sides treat them alike: such an export is not
 * called ("skip v128", nor is the initializer before it), and a call of
 * log-v128 ends the export with "trap v128-to-js". SIMD code still shows
 * through the scalars it returns and logs and the memory that binaryen's
 * hashMemory export hashes.
 *
 * It does so in seven configurations: the defaults (static memories behind
 * guard regions), dynamic memories (explicit bounds checks), fuel (with a
 * budget no module can use up), the optimizing tier (tier 1 against tier
 * 2), with static and with dynamic memories, and with fuel, and tiered
 * execution moving every function and loop to tier 2 at once (on-stack
 * replacement), with fuel. Each writes a transcript:
 *
 *   rejected                     the module is malformed or invalid
 *   unsupported MESSAGE          it uses something wasmjail does not support
 *                                (V8 rejects those proposals too: differential.sh
 *                                counts it rejected then, and a module V8 runs
 *                                as skipped when MESSAGE names SIMD)
 *   instantiate trap KIND        instantiation trapped (a segment out of bounds)
 *   call NAME                    an export is called; then what it did:
 *   log TYPE VALUE               an argument of a log-* import
 *   result TYPE VALUE            each result, or
 *   trap KIND                    the trap it ended with
 *   hash                         then binaryen's hashMemory export is called
 *                                (when there is one), its result or trap
 *                                follows: what the call left in memory
 *   skip v128                    instead of all that: not called (see above)
 *
 * i32 and i64 print in signed decimal, floats as the hex of their bits except
 * NaNs (any payload) as "nan", references as "null" or "nonnull". KIND is one
 * of unreachable, memory-oob, table-oob, indirect-call (a null element or a
 * signature mismatch: V8 does not tell them apart), divide-by-zero,
 * int-overflow (a division overflow or a float-to-int conversion out of
 * range or of a NaN: V8 tells those apart differently from the spec),
 * stack-exhausted, out-of-fuel, v128-to-js, or "other MESSAGE".
 *
 * The fuel configurations also write the fuel left at every import call
 * and at the end of every call ("fuel N" lines), which must agree: every
 * tier charges the same fuel at the same points, whenever it takes over.
 *
 * Exit status: 0 with the transcript on stdout when all agree; 1 when they
 * do not (all on stderr); 2 when the file cannot be read or the driver
 * fails. Public API only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imports.h"
#include "wasmjail.h"

/* More than any binaryen -ttf module uses: running out would be a bug. */
#define FUEL (UINT64_C(1) << 60)

enum config {
    CONFIG_DEFAULT,
    CONFIG_DYNAMIC,
    CONFIG_FUEL,
    CONFIG_OPTIMIZED,
    CONFIG_OPTIMIZED_DYNAMIC,
    CONFIG_OPTIMIZED_FUEL,
    CONFIG_EAGER_FUEL,
    CONFIG_COUNT
};
static const char *const config_names[CONFIG_COUNT] = {
    "default",   "dynamic-memories",           "fuel",
    "optimized", "optimized dynamic-memories", "optimized-fuel",
    "eager-fuel"};

static bool has_fuel(enum config c)
{
    return c == CONFIG_FUEL || c == CONFIG_OPTIMIZED_FUEL || c == CONFIG_EAGER_FUEL;
}

/* In a fuel configuration: where the fuel left goes, and whose. */
static FILE *fuel_out;
static wj_store *fuel_store;

static void print_fuel(void)
{
    uint64_t fuel = 0;
    if (!fuel_out)
        return;
    wj_error *err = wj_store_get_fuel(fuel_store, &fuel);
    if (err) {
        fprintf(fuel_out, "fuel error %s\n", wj_error_message(err));
        wj_error_delete(err);
        return;
    }
    fprintf(fuel_out, "fuel %" PRIu64 "\n", fuel);
}

static void print_val(FILE *out, const wj_val *v)
{
    switch (v->kind) {
    case WJ_I32:
        fprintf(out, "i32 %" PRId32, v->of.i32);
        break;
    case WJ_I64:
        fprintf(out, "i64 %" PRId64, v->of.i64);
        break;
    case WJ_F32: {
        uint32_t bits;
        memcpy(&bits, &v->of.f32, sizeof bits);
        if ((bits & 0x7fffffffu) > 0x7f800000u)
            fputs("f32 nan", out);
        else
            fprintf(out, "f32 %08" PRIx32, bits);
        break;
    }
    case WJ_F64: {
        uint64_t bits;
        memcpy(&bits, &v->of.f64, sizeof bits);
        if ((bits & INT64_MAX) > UINT64_C(0x7ff0000000000000))
            fputs("f64 nan", out);
        else
            fprintf(out, "f64 %016" PRIx64, bits);
        break;
    }
    case WJ_FUNCREF:
        fputs(v->of.funcref ? "funcref nonnull" : "funcref null", out);
        break;
    case WJ_EXTERNREF:
        fputs(v->of.externref ? "externref nonnull" : "externref null", out);
        break;
    default:
        fprintf(out, "%s ?", wj_valtype_name(v->kind));
        break;
    }
}

static void print_trap(FILE *out, const char *prefix, const wj_trap *trap)
{
    static const char *const kinds[] = {
        [WJ_TRAP_UNREACHABLE] = "unreachable",
        [WJ_TRAP_MEMORY_OUT_OF_BOUNDS] = "memory-oob",
        [WJ_TRAP_INT_DIVIDE_BY_ZERO] = "divide-by-zero",
        [WJ_TRAP_INT_OVERFLOW] = "int-overflow",
        [WJ_TRAP_BAD_CONVERSION] = "int-overflow",
        [WJ_TRAP_INDIRECT_TYPE] = "indirect-call",
        [WJ_TRAP_UNDEFINED_ELEMENT] = "table-oob",
        [WJ_TRAP_UNINITIALIZED_ELEMENT] = "indirect-call",
        [WJ_TRAP_TABLE_OUT_OF_BOUNDS] = "table-oob",
        [WJ_TRAP_STACK_EXHAUSTED] = "stack-exhausted",
        [WJ_TRAP_OUT_OF_FUEL] = "out-of-fuel",
    };
    wj_trap_code code = wj_trap_code_of(trap);
    if (code == WJ_TRAP_HOST) /* only log_hook's, whose message is the kind */
        fprintf(out, "%s %s\n", prefix, wj_trap_message(trap));
    else if (code < sizeof kinds / sizeof kinds[0] && kinds[code])
        fprintf(out, "%s %s\n", prefix, kinds[code]);
    else
        fprintf(out, "%s other %s\n", prefix, wj_trap_message(trap));
}

static bool has_v128(const uint8_t *types, uint32_t count)
{
    return count && memchr(types, WJ_V128, count) != NULL;
}

static wj_trap *log_hook(const fuzz_import *import, const wj_val *args)
{
    print_fuel();
    if (strcmp(import->info.module, "fuzzing-support") != 0 ||
        strncmp(import->info.name, "log-", 4) != 0)
        return NULL;
    if (has_v128(import->type.params, import->type.param_count))
        return wj_trap_new("v128-to-js");
    FILE *out = import->user;
    for (uint32_t i = 0; i < import->type.param_count; i++) {
        fputs("log ", out);
        print_val(out, &args[i]);
        fputc('\n', out);
    }
    return NULL;
}

/* false when the driver itself failed (out of memory). */
static bool call(FILE *out, wj_func *func)
{
    wj_functype type;
    wj_func_type(func, &type);
    wj_val *args = calloc(type.param_count + 1, sizeof *args);
    wj_val *results = calloc(type.result_count + 1, sizeof *results);
    if (!args || !results) {
        free(args);
        free(results);
        return false;
    }
    for (uint32_t i = 0; i < type.param_count; i++)
        args[i] = fuzz_zero(type.params[i]);
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(func, args, type.param_count, results, type.result_count, &trap);
    if (err) {
        fprintf(out, "error %s\n", wj_error_message(err));
        wj_error_delete(err);
    } else if (trap) {
        print_trap(out, "trap", trap);
        wj_trap_delete(trap);
    } else {
        for (uint32_t i = 0; i < type.result_count; i++) {
            fputs("result ", out);
            print_val(out, &results[i]);
            fputc('\n', out);
        }
    }
    print_fuel();
    free(args);
    free(results);
    return true;
}

/* Whether `instance` exports function `name` of type () -> (i32). */
static bool export_i32_getter(wj_instance *instance, const char *name, wj_extern *out)
{
    wj_functype type;
    if (!wj_instance_export(instance, name, strlen(name), out) || out->kind != WJ_EXTERN_FUNC)
        return false;
    wj_func_type(out->of.func, &type);
    return type.param_count == 0 && type.result_count == 1 && type.results[0] == WJ_I32;
}

static bool call_exports(FILE *out, const wj_module *module, wj_instance *instance)
{
    static const char init_name[] = "hangLimitInitializer";
    wj_extern init, hash;
    bool has_init = wj_instance_export(instance, init_name, sizeof init_name - 1, &init) &&
                    init.kind == WJ_EXTERN_FUNC;
    bool has_hash = export_i32_getter(instance, "hashMemory", &hash);
    for (size_t i = 0, n = wj_module_export_count(module); i < n; i++) {
        wj_export_info info;
        wj_extern func;
        if (!wj_module_export(module, i, &info) || info.kind != WJ_EXTERN_FUNC ||
            !wj_instance_export_nth(instance, i, &func))
            continue;
        fprintf(out, "call %s\n", info.name);
        wj_functype type;
        wj_func_type(func.of.func, &type);
        if (has_v128(type.params, type.param_count) ||
            has_v128(type.results, type.result_count)) {
            fputs("skip v128\n", out);
            continue;
        }
        /* The initializer sets a global and returns nothing: it prints
         * nothing unless it traps. */
        if (has_init && !call(out, init.of.func))
            return false;
        if (!call(out, func.of.func))
            return false;
        if (has_hash) {
            fputs("hash\n", out);
            if (!call(out, hash.of.func))
                return false;
        }
    }
    return true;
}

/* Instantiates and calls into an already compiled module. */
static bool run_module(FILE *out, wj_engine *engine, const wj_module *module, bool fuel)
{
    wj_store *store = wj_store_new(engine);
    if (!store)
        return false;
    if (fuel) {
        wj_error_delete(wj_store_set_fuel(store, FUEL)); /* on: no error */
        fuel_store = store;
    }
    bool ok = false;
    wj_error *err = NULL;
    wj_extern *imports = fuzz_imports_new(store, module, log_hook, out, &err);
    if (imports) {
        wj_instance *instance = NULL;
        wj_trap *trap = NULL;
        err = wj_instance_new(store, module, imports, wj_module_import_count(module), &instance,
                              &trap);
        if (trap) {
            print_trap(out, "instantiate trap", trap);
            wj_trap_delete(trap);
            ok = true;
        } else if (!err) {
            ok = call_exports(out, module, instance);
        }
        free(imports);
    }
    if (err) {
        fprintf(out, "instantiate error %s\n", wj_error_message(err));
        wj_error_delete(err);
        ok = true;
    }
    fuel_store = NULL;
    wj_store_delete(store);
    return ok;
}

/* The transcript of one configuration (malloc'd), or NULL on failure; in
 * a fuel configuration the fuel left at each point to *fuel_text. */
static char *transcript(const uint8_t *bytes, size_t len, enum config config, char **fuel_text)
{
    char *text = NULL;
    size_t size = 0, fuel_size = 0;
    *fuel_text = NULL;
    FILE *out = open_memstream(&text, &size);
    fuel_out = has_fuel(config) ? open_memstream(fuel_text, &fuel_size) : NULL;
    wj_config *c = wj_config_new();
    if (!out || !c || (has_fuel(config) && !fuel_out)) {
        if (out)
            fclose(out);
        if (fuel_out)
            fclose(fuel_out);
        fuel_out = NULL;
        free(text);
        free(*fuel_text);
        *fuel_text = NULL;
        wj_config_delete(c);
        return NULL;
    }
    bool optimized = config == CONFIG_OPTIMIZED || config == CONFIG_OPTIMIZED_DYNAMIC ||
                     config == CONFIG_OPTIMIZED_FUEL;
    wj_config_set_dynamic_memories(c, config == CONFIG_DYNAMIC ||
                                          config == CONFIG_OPTIMIZED_DYNAMIC);
    wj_config_set_consume_fuel(c, has_fuel(config));
    wj_config_set_strategy(c, optimized                  ? WJ_STRATEGY_OPTIMIZED
                              : config == CONFIG_EAGER_FUEL ? WJ_STRATEGY_TIERED
                                                            : WJ_STRATEGY_BASELINE);
    wj_config_set_tier_up_budget(c, 0);
    wj_engine *engine = wj_engine_new(c);
    wj_config_delete(c);
    bool ok = engine != NULL;
    wj_module *module = NULL;
    wj_error *err = ok ? wj_module_new(engine, bytes, len, &module) : NULL;
    if (err) {
        wj_error_kind kind = wj_error_kind_of(err);
        if (kind == WJ_ERROR_MALFORMED || kind == WJ_ERROR_INVALID)
            fputs("rejected\n", out);
        else if (kind == WJ_ERROR_UNSUPPORTED)
            fprintf(out, "unsupported %s\n", wj_error_message(err));
        else
            fprintf(out, "compile error %s\n", wj_error_message(err));
        wj_error_delete(err);
    } else if (ok) {
        ok = run_module(out, engine, module, has_fuel(config));
        wj_module_delete(module);
    }
    wj_engine_delete(engine);
    bool fuel_ok = !fuel_out || fclose(fuel_out) == 0;
    fuel_out = NULL;
    if (fclose(out) != 0 || !ok || !fuel_ok) {
        free(text);
        free(*fuel_text);
        *fuel_text = NULL;
        return NULL;
    }
    return text;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            uint8_t *grown = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "Usage: diff-run FILE.wasm\n");
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        perror(argv[1]);
        return 2;
    }
    char *texts[CONFIG_COUNT], *fuel_texts[CONFIG_COUNT];
    int status = 0;
    for (int c = 0; c < CONFIG_COUNT; c++) {
        texts[c] = transcript(bytes, len, c, &fuel_texts[c]);
        if (!texts[c]) {
            fprintf(stderr, "diff-run: %s: the driver failed in configuration %s\n", argv[1],
                    config_names[c]);
            status = 2;
        }
    }
    for (int c = 1; c < CONFIG_COUNT && status == 0; c++)
        if (strcmp(texts[0], texts[c]) != 0)
            status = 1;
    if (status == 1) {
        fprintf(stderr, "diff-run: %s: the configurations disagree\n", argv[1]);
        for (int c = 0; c < CONFIG_COUNT; c++)
            fprintf(stderr, "--- %s\n%s", config_names[c], texts[c]);
    }
    static const enum config fuel_compared[] = {CONFIG_OPTIMIZED_FUEL, CONFIG_EAGER_FUEL};
    for (size_t i = 0; i < sizeof fuel_compared / sizeof *fuel_compared && status == 0; i++) {
        enum config c = fuel_compared[i];
        if (!strcmp(fuel_texts[CONFIG_FUEL], fuel_texts[c]))
            continue;
        status = 1;
        fprintf(stderr, "diff-run: %s: the tiers charge different fuel\n", argv[1]);
        fprintf(stderr, "--- fuel\n%s--- %s\n%s", fuel_texts[CONFIG_FUEL], config_names[c],
                fuel_texts[c]);
    }
    if (status == 0) {
        fputs(texts[0], stdout);
    }
    for (int c = 0; c < CONFIG_COUNT; c++) {
        free(texts[c]);
        free(fuel_texts[c]);
    }
    free(bytes);
    return status;
}
