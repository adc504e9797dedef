#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

#include "module.h"
#include "store.h"
#include "trap.h"

/* Handed out when a trap cannot be allocated, so a host function can still
 * fail; never freed and never given frames. */
/* Where a function's body (its locals, then its code) starts: just after
 * the code entry's size field. */
static uint32_t body_start(const wasm_module *m, uint32_t func)
{
    uint32_t at = m->funcs[func].decl;
    while (m->bytes[at] & 0x80)
        at++;
    return at + 1;
}

static struct {
    wj_trap trap;
    char text[sizeof "out of memory"];
} out_of_memory = {{WJ_TRAP_HOST, true, 0, NULL, 0}, "out of memory"};

static const char *const messages[] = {
    [WJ_TRAP_NONE] = "no trap",
    [WJ_TRAP_UNREACHABLE] = "unreachable",
    [WJ_TRAP_MEMORY_OUT_OF_BOUNDS] = "out of bounds memory access",
    [WJ_TRAP_INT_DIVIDE_BY_ZERO] = "integer divide by zero",
    [WJ_TRAP_INT_OVERFLOW] = "integer overflow",
    [WJ_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
    [WJ_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
    [WJ_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WJ_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [WJ_TRAP_TABLE_OUT_OF_BOUNDS] = "out of bounds table access",
    [WJ_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [WJ_TRAP_HOST] = "host trap",
    [WJ_TRAP_EXIT] = "exit",
    [WJ_TRAP_INTERRUPT] = "interrupt",
    [WJ_TRAP_OUT_OF_FUEL] = "all fuel consumed by WebAssembly",
};

static wj_trap *trap_alloc(wj_trap_code code, const char *message)
{
    size_t len = strlen(message);
    wj_trap *trap = malloc(sizeof *trap + len + 1);
    if (!trap)
        return NULL;
    *trap = (wj_trap){.code = code};
    memcpy(trap->message, message, len + 1);
    return trap;
}

wj_trap *trap_new(wj_trap_code code)
{
    bool known = (unsigned)code < sizeof messages / sizeof *messages && messages[code];
    return trap_alloc(code, known ? messages[code] : "unknown trap");
}

wj_trap *wj_trap_new(const char *message)
{
    wj_trap *trap = trap_alloc(WJ_TRAP_HOST, message ? message : "");
    return trap ? trap : &out_of_memory.trap;
}

wj_trap *wj_trap_new_exit(int status)
{
    char message[sizeof "exit status -2147483648"];
    snprintf(message, sizeof message, "exit status %d", status);
    wj_trap *trap = trap_alloc(WJ_TRAP_EXIT, message);
    if (!trap)
        return &out_of_memory.trap;
    trap->exit_status = status;
    return trap;
}

bool wj_trap_exit_status(const wj_trap *trap, int *status)
{
    if (trap->code != WJ_TRAP_EXIT)
        return false;
    *status = trap->exit_status;
    return true;
}

static const char *name_of(const wasm_name *n)
{
    return n ? n->data : NULL;
}

bool trap_set_frames(wj_trap *trap, const wj_store *store, const uintptr_t *pcs, size_t n)
{
    trap->traced = true;
    if (trap == &out_of_memory.trap || n == 0)
        return true;
    /* A PC in code that inlined calls stands for several frames. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const code_range *r = code_registry_lookup(store->code, pcs[i]);
        if (r)
            total += compiled_frames(r->code, (uint32_t)(pcs[i] - r->start), NULL, 0);
    }
    if (total == 0)
        return true;
    wj_frame *frames = malloc(total * sizeof *frames);
    compiled_frame *at = malloc(total * sizeof *at);
    if (!frames || !at) {
        free(frames);
        free(at);
        return false;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const code_range *r = code_registry_lookup(store->code, pcs[i]);
        if (!r)
            continue;
        uint32_t k = compiled_frames(r->code, (uint32_t)(pcs[i] - r->start), at + count,
                                     (uint32_t)(total - count));
        const wj_module *module = r->owner;
        const wasm_module *m = module->wasm;
        for (; k; k--, count++) {
            module_retain(module);
            frames[count] = (wj_frame){
                .module = module,
                .module_name = m->has_module_name ? m->module_name.data : NULL,
                .func_index = at[count].func,
                .func_name = name_of(wasm_func_name_of(m, at[count].func)),
                .module_offset = at[count].wasm,
                .func_offset = at[count].wasm - body_start(m, at[count].func),
            };
        }
    }
    free(at);
    trap->frames = frames;
    trap->nframes = count;
    return true;
}

wj_trap_code wj_trap_code_of(const wj_trap *trap)
{
    return trap->code;
}

const char *wj_trap_message(const wj_trap *trap)
{
    return trap->message;
}

size_t wj_trap_frame_count(const wj_trap *trap)
{
    return trap->nframes;
}

const wj_frame *wj_trap_frame(const wj_trap *trap, size_t i)
{
    return i < trap->nframes ? &trap->frames[i] : NULL;
}

void wj_trap_delete(wj_trap *trap)
{
    if (!trap || trap == &out_of_memory.trap)
        return;
    for (size_t i = 0; i < trap->nframes; i++)
        module_release(trap->frames[i].module);
    free(trap->frames);
    free(trap);
}
