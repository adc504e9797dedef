#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "wat.h"

unit_tier fx_tier = {"baseline", WJ_STRATEGY_BASELINE, 0};

void fx_prepare(fixture *fx, const char *wat, wj_config *config)
{
    fx_prepare_opts(fx, wat, NULL, config);
}

void fx_prepare_opts(fixture *fx, const char *wat, const char *const *wat_opts,
                     wj_config *config)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(wat, wat_opts, &len);
    fx_prepare_bytes(fx, bytes, len, config);
}

void fx_prepare_bytes(fixture *fx, uint8_t *bytes, size_t len, wj_config *config)
{
    memset(fx, 0, sizeof *fx);
    fx->bytes = bytes;
    fx->len = len;
    wj_config *own = config ? NULL : wj_config_new();
    ck_assert_ptr_nonnull(config ? config : own);
    unit_configure_tier(config ? config : own, &fx_tier);
    fx->engine = wj_engine_new(config ? config : own);
    wj_config_delete(own);
    ck_assert_ptr_nonnull(fx->engine);
    wj_error *err = wj_module_new(fx->engine, fx->bytes, fx->len, &fx->module);
    ck_assert_no_wj_error(err);
    fx->store = wj_store_new(fx->engine);
    ck_assert_ptr_nonnull(fx->store);
    for (size_t i = 0; i < wj_module_import_count(fx->module); i++) {
        wj_import_info info;
        ck_assert(wj_module_import(fx->module, i, &info));
        fx->imported_funcs += info.kind == WJ_EXTERN_FUNC;
    }
}

void fx_instantiate(fixture *fx, const wj_extern *imports, size_t n)
{
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(fx->store, fx->module, imports, n, &fx->instance, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_no_trap(trap);
    ck_assert_ptr_nonnull(fx->instance);
}

void fx_open(fixture *fx, const char *wat, wj_config *config)
{
    fx_prepare(fx, wat, config);
    fx_instantiate(fx, NULL, 0);
}

void fx_close(fixture *fx)
{
    wj_store_delete(fx->store);
    wj_module_delete(fx->module);
    wj_engine_delete(fx->engine);
    free(fx->bytes);
    memset(fx, 0, sizeof *fx);
}

wj_extern fx_export(const fixture *fx, const char *name, wj_extern_kind kind)
{
    wj_extern ext;
    ck_assert_msg(wj_instance_export(fx->instance, name, strlen(name), &ext), "no export %s",
                  name);
    ck_assert_int_eq(ext.kind, kind);
    return ext;
}

wj_func *fx_func(const fixture *fx, const char *name)
{
    return fx_export(fx, name, WJ_EXTERN_FUNC).of.func;
}

wj_trap *fx_call(const fixture *fx, const char *name, const wj_val *args, size_t n, wj_val *res)
{
    wj_func *f = fx_func(fx, name);
    wj_functype t;
    wj_func_type(f, &t);
    ck_assert_uint_le(t.result_count, 4);
    wj_trap *trap = NULL;
    wj_val ignored[4];
    wj_error *err = wj_func_call(f, args, n, res ? res : ignored, t.result_count, &trap);
    ck_assert_no_wj_error(err);
    return trap;
}
