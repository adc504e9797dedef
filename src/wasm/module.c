#include "module.h"

void wasm_module_free(wasm_module *m)
{
    if (!m)
        return;
    /* The module itself lives in its arena. */
    wasm_arena arena = m->arena;
    wasm_arena_free(&arena);
}
