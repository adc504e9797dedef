/* A script's modules and instances: one store per script, as the reference
 * interpreter has one, so that registered instances, their memories and
 * tables are shared by the modules that import them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

struct named_slot {
    char *name;
    struct slot *slot;
};

struct registered_slot {
    char *name; /* may hold NUL bytes: compare len bytes */
    size_t len;
    struct slot *slot;
};

struct registry {
    wj_engine *engine;
    wj_store *store; /* created when the first module is instantiated */
    struct spectest *spectest;
    /* Set when a skipped module imported spectest's table or memory: the
     * skipped module's reason. */
    char *spectest_stale_reason;
    /* Every module made, kept until the store is gone: instances (even ones
     * whose instantiation trapped after writing functions into an imported
     * table) may use their module's code. */
    wj_module **modules;
    size_t module_count;
    struct slot **slots;
    size_t slot_count;
    struct named_slot *names;
    size_t name_count;
    struct registered_slot *registered;
    size_t registered_count;
    struct slot *current;
};

/* `array` with room for one more element after its `count`. */
static void *grow(void *array, size_t count, size_t size)
{
    void *grown = realloc(array, (count + 1) * size);
    if (!grown)
        out_of_memory();
    return grown;
}

static char *copy_string(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        out_of_memory();
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

struct registry *registry_new(wj_engine *engine)
{
    struct registry *r = calloc(1, sizeof *r);
    if (!r)
        out_of_memory();
    r->engine = engine;
    return r;
}

void registry_delete(struct registry *r)
{
    if (!r)
        return;
    wj_store_delete(r->store);
    spectest_delete(r->spectest);
    free(r->spectest_stale_reason);
    for (size_t i = 0; i < r->module_count; i++)
        wj_module_delete(r->modules[i]);
    free(r->modules);
    for (size_t i = 0; i < r->slot_count; i++) {
        free(r->slots[i]->skip_reason);
        free(r->slots[i]->stale_reason);
        free(r->slots[i]);
    }
    free(r->slots);
    for (size_t i = 0; i < r->name_count; i++)
        free(r->names[i].name);
    free(r->names);
    for (size_t i = 0; i < r->registered_count; i++)
        free(r->registered[i].name);
    free(r->registered);
    free(r);
}

/* The store and spectest, made on first use. NULL with *why malloc'd when
 * the library cannot make them. */
static wj_store *registry_store(struct registry *r, char **why)
{
    if (r->store)
        return r->store;
    wj_store *store = wj_store_new(r->engine);
    if (!store) {
        *why = format("wj_store_new failed");
        return NULL;
    }
    /* A deadline and a tank never reached: with --meter, the checks
     * compiled in must change no result. (Without it the fuel call fails
     * harmlessly.) */
    wj_store_set_epoch_deadline(store, UINT64_MAX);
    wj_error_delete(wj_store_set_fuel(store, UINT64_MAX));
    r->spectest = spectest_new(store, why);
    if (!r->spectest) {
        wj_store_delete(store);
        return NULL;
    }
    r->store = store;
    return store;
}

/* A copy of a library message, which may be NULL. */
static char *copy_message(const char *message)
{
    return copy_string(message ? message : "", message ? strlen(message) : 0);
}

static void set_message(struct instantiation *out, enum instantiation_status status, char *message)
{
    out->status = status;
    out->message = message;
}

/* The instance registered last under `module`, or NULL. */
static struct registered_slot *find_registered(const struct registry *r, const void *module,
                                               size_t len)
{
    for (size_t i = r->registered_count; i-- > 0;)
        if (r->registered[i].len == len && memcmp(r->registered[i].name, module, len) == 0)
            return &r->registered[i];
    return NULL;
}

static bool is_spectest(const void *module, size_t len)
{
    return len == strlen("spectest") && memcmp(module, "spectest", len) == 0;
}

/* Spectest's functions and globals have no state; its table and memory do. */
static bool has_state(wj_extern_kind kind)
{
    return kind == WJ_EXTERN_TABLE || kind == WJ_EXTERN_MEMORY;
}

/* The registered instance or spectest export for one import. False with
 * *out describing why there is none. */
static bool resolve_import(const struct registry *r, const wj_import_info *import, wj_extern *value,
                           struct instantiation *out)
{
    const struct registered_slot *reg = find_registered(r, import->module, import->module_len);
    const struct slot *slot = reg ? reg->slot : NULL;
    if (slot && slot->state == SLOT_READY && !slot->stale_reason) {
        if (wj_instance_export(slot->instance, import->name, import->name_len, value))
            return true;
    } else if (slot && slot->state == SLOT_FAILED) {
        set_message(out, INST_BROKEN,
                    format("imports \"%s\" \"%s\" from the module of line %ld, which did not "
                           "instantiate",
                           import->module, import->name, slot->line));
        return false;
    } else if (slot) {
        /* The library cannot run the exporter as the script has it, so
         * what imports from it cannot be judged either. */
        set_message(out, INST_SKIPPED,
                    copy_message(slot->state == SLOT_SKIPPED ? slot->skip_reason
                                                             : slot->stale_reason));
        return false;
    } else if (is_spectest(import->module, import->module_len) &&
               spectest_export(r->spectest, import->name, import->name_len, value)) {
        if (!r->spectest_stale_reason || !has_state(value->kind))
            return true;
        set_message(out, INST_SKIPPED, copy_message(r->spectest_stale_reason));
        return false;
    }
    /* The reference interpreter's message; the names follow for the log. */
    set_message(out, INST_UNKNOWN_IMPORT,
                format("unknown import \"%s\" \"%s\"", import->module, import->name));
    return false;
}

/* Fills imports[] in the module's import order; false with *out set. */
static bool resolve_imports(const struct registry *r, const wj_module *module, wj_extern *imports,
                            size_t count, struct instantiation *out)
{
    for (size_t i = 0; i < count; i++) {
        wj_import_info import;
        if (!wj_module_import(module, i, &import)) {
            set_message(out, INST_BROKEN, format("wj_module_import(%zu) failed", i));
            return false;
        }
        if (!resolve_import(r, &import, &imports[i], out))
            return false;
    }
    return true;
}

/* wj_module_new's UNSUPPORTED may come from the compiler, after
 * validation; a module the script expects to be valid must still be, so a
 * validation error outweighs it. Takes `err`. */
static void unsupported_module(struct registry *r, const struct module_file *file, wj_error *err,
                               struct instantiation *out)
{
    wj_error *validation = wj_module_validate(r->engine, file->bytes, file->len);
    if (validation && wj_error_kind_of(validation) != WJ_ERROR_UNSUPPORTED) {
        out->status = INST_ERROR;
        out->error = validation;
    } else {
        set_message(out, INST_SKIPPED, copy_message(wj_error_message(err)));
        wj_error_delete(validation);
    }
    wj_error_delete(err);
}

static void instantiate(struct registry *r, const wj_module *module, struct instantiation *out)
{
    char *why = NULL;
    wj_store *store = registry_store(r, &why);
    if (!store) {
        set_message(out, INST_BROKEN, why);
        return;
    }
    size_t count = wj_module_import_count(module);
    wj_extern *imports = calloc(count ? count : 1, sizeof *imports);
    if (!imports)
        out_of_memory();
    if (resolve_imports(r, module, imports, count, out)) {
        wj_instance *instance = NULL;
        wj_trap *trap = NULL;
        wj_error *err = wj_instance_new(store, module, imports, count, &instance, &trap);
        if (err && wj_error_kind_of(err) == WJ_ERROR_UNSUPPORTED) {
            /* Instantiation too may need what the library lacks: skipped
             * like a module it cannot compile. */
            set_message(out, INST_SKIPPED, copy_message(wj_error_message(err)));
            wj_error_delete(err);
            wj_trap_delete(trap); /* should be NULL; never leak it */
        } else if (err) {
            out->status = INST_ERROR;
            out->error = err;
            wj_trap_delete(trap);
        } else if (trap) {
            out->status = INST_TRAP;
            out->trap = trap;
        } else if (instance) {
            out->status = INST_OK;
            out->instance = instance;
        } else {
            set_message(out, INST_BROKEN,
                        format("wj_instance_new returned no error, no trap and no instance"));
        }
    }
    free(imports);
}

static void make_stale(char **stale_reason, const char *reason)
{
    if (!*stale_reason)
        *stale_reason = copy_message(reason);
}

/* Whether instantiating `m` could have written through an import of this
 * kind: through data or element segments, or code run by its start. */
static bool could_write(const wj_module *m, wj_extern_kind kind)
{
    uint32_t start;
    if (wj_module_start(m, &start))
        return true;
    wj_section_info info;
    for (size_t i = 0; wj_module_section(m, i, &info); i++)
        if ((kind == WJ_EXTERN_MEMORY && info.id == 11) ||
            (kind == WJ_EXTERN_TABLE && info.id == 9))
            return true;
    return false;
}

/* A module the library will not run was skipped: every instance whose state
 * its instantiation could have changed becomes stale, so that later commands
 * do not judge the library on a state the script does not expect (say, a
 * table the skipped module's element segments would have filled). When the
 * module cannot be decoded, everything it might reach becomes stale. */
static void mark_stale(struct registry *r, const struct module_file *file, const char *reason)
{
    wj_module *m = NULL;
    wj_error *err = wj_module_decode(r->engine, file->bytes, file->len, &m);
    if (err) {
        wj_error_delete(err);
        for (size_t i = 0; i < r->registered_count; i++)
            if (r->registered[i].slot->state == SLOT_READY)
                make_stale(&r->registered[i].slot->stale_reason, reason);
        make_stale(&r->spectest_stale_reason, reason);
        return;
    }
    wj_import_info import;
    for (size_t i = 0; wj_module_import(m, i, &import); i++) {
        if (!could_write(m, import.kind))
            continue;
        struct registered_slot *reg = find_registered(r, import.module, import.module_len);
        if (reg && reg->slot->state == SLOT_READY)
            make_stale(&reg->slot->stale_reason, reason);
        else if (!reg && is_spectest(import.module, import.module_len) && has_state(import.kind))
            make_stale(&r->spectest_stale_reason, reason);
    }
    wj_module_delete(m);
}

static void instantiate_file(struct registry *r, const struct module_file *file,
                             struct instantiation *out)
{
    *out = (struct instantiation){0};
    wj_module *module = NULL;
    wj_error *err = wj_module_new(r->engine, file->bytes, file->len, &module);
    if (err) {
        wj_module_delete(module);
        if (wj_error_kind_of(err) == WJ_ERROR_UNSUPPORTED) {
            unsupported_module(r, file, err, out);
        } else {
            out->status = INST_ERROR;
            out->error = err;
        }
        return;
    }
    if (!module) {
        set_message(out, INST_BROKEN, format("wj_module_new returned neither an error nor a module"));
        return;
    }
    r->modules = grow(r->modules, r->module_count, sizeof *r->modules);
    r->modules[r->module_count++] = module;
    instantiate(r, module, out);
}

void registry_instantiate(struct registry *r, const struct module_file *file,
                          struct instantiation *out)
{
    instantiate_file(r, file, out);
    if (out->status == INST_SKIPPED)
        mark_stale(r, file, out->message);
}

void instantiation_free(struct instantiation *inst)
{
    wj_error_delete(inst->error);
    wj_trap_delete(inst->trap);
    free(inst->message);
    *inst = (struct instantiation){0};
}

struct slot *registry_add(struct registry *r, const char *name, long line, enum slot_state state,
                          wj_instance *instance, const char *skip_reason)
{
    struct slot *slot = calloc(1, sizeof *slot);
    if (!slot)
        out_of_memory();
    *slot = (struct slot){.state = state, .instance = instance, .line = line};
    if (state == SLOT_SKIPPED)
        slot->skip_reason = copy_message(skip_reason);
    r->slots = grow(r->slots, r->slot_count, sizeof *r->slots);
    r->slots[r->slot_count++] = slot;
    if (name) {
        r->names = grow(r->names, r->name_count, sizeof *r->names);
        r->names[r->name_count++] = (struct named_slot){.name = copy_string(name, strlen(name)),
                                                        .slot = slot};
    }
    r->current = slot;
    return slot;
}

static struct slot *find_slot(const struct registry *r, const char *name)
{
    if (!name)
        return r->current;
    /* A later module of the same name hides an earlier one. */
    for (size_t i = r->name_count; i-- > 0;)
        if (strcmp(r->names[i].name, name) == 0)
            return r->names[i].slot;
    return NULL;
}

const struct slot *registry_find(const struct registry *r, const char *name)
{
    return find_slot(r, name);
}

const struct slot *registry_register(struct registry *r, const char *as, size_t len,
                                     const char *name)
{
    struct slot *slot = find_slot(r, name);
    if (!slot)
        return NULL;
    r->registered = grow(r->registered, r->registered_count, sizeof *r->registered);
    r->registered[r->registered_count++] =
        (struct registered_slot){.name = copy_string(as, len), .len = len, .slot = slot};
    return slot;
}
