/* Commands that make instances: module, register, assert_unlinkable and
 * assert_uninstantiable. A module the library cannot run (its
 * WJ_ERROR_UNSUPPORTED) is skipped with the library's message, and so is
 * every later command that needs it. */
#include <string.h>

#include "spec.h"

/* What an instantiation gave, for a FAIL line. */
static void fput_instantiation(const struct instantiation *inst, FILE *out)
{
    switch (inst->status) {
    case INST_OK:
        fputs("an instance", out);
        return;
    case INST_ERROR:
        fput_error(inst->error, out);
        return;
    case INST_TRAP: {
        const char *message = wj_trap_message(inst->trap);
        fputs("trap ", out);
        fput_quoted(message ? message : "(null)", out);
        return;
    }
    case INST_SKIPPED:
    case INST_UNKNOWN_IMPORT:
    case INST_BROKEN:
        fputs(inst->message, out);
        return;
    }
}

/* Fails the command: "expected <what>, got <inst>". */
static void fail_instantiation(const struct command *c, const char *what, const char *text,
                               const struct instantiation *inst)
{
    FILE *out = command_fail(c);
    fputs("expected ", out);
    fputs(what, out);
    if (text) {
        putc(' ', out);
        fput_quoted(text, out);
    }
    fputs(", got ", out);
    fput_instantiation(inst, out);
    putc('\n', out);
}

void run_module(const struct command *c)
{
    const char *name = command_string(c, "name");
    const struct module_file *file = command_module_file(c);
    if (!file) {
        /* Later commands must not run against the previous module. */
        registry_add(c->registry, name, c->line, SLOT_FAILED, NULL, NULL);
        return;
    }
    struct instantiation inst;
    registry_instantiate(c->registry, file, &inst);
    switch (inst.status) {
    case INST_OK:
        registry_add(c->registry, name, c->line, SLOT_READY, inst.instance, NULL);
        command_pass(c);
        break;
    case INST_SKIPPED:
        registry_add(c->registry, name, c->line, SLOT_SKIPPED, NULL, inst.message);
        command_skip(c, SKIP_UNSUPPORTED, inst.message);
        break;
    default:
        registry_add(c->registry, name, c->line, SLOT_FAILED, NULL, NULL);
        fail_instantiation(c, "an instance", NULL, &inst);
        break;
    }
    instantiation_free(&inst);
}

void run_register(const struct command *c)
{
    json_t *as = json_object_get(c->json, "as");
    const char *name = command_string(c, "name");
    if (!json_is_string(as)) {
        fputs("no \"as\" name\n", command_fail(c));
        return;
    }
    /* Registered even when it cannot be used, so that its importers say why. */
    const struct slot *slot =
        registry_register(c->registry, json_string_value(as), json_string_length(as), name);
    if (!slot) {
        FILE *out = command_fail(c);
        fputs("no module ", out);
        fput_quoted(name ? name : "(current)", out);
        putc('\n', out);
        return;
    }
    switch (slot->state) {
    case SLOT_READY:
        if (slot->stale_reason)
            command_skip(c, SKIP_UNSUPPORTED, slot->stale_reason);
        else
            command_pass(c);
        return;
    case SLOT_SKIPPED:
        command_skip(c, SKIP_UNSUPPORTED, slot->skip_reason);
        return;
    case SLOT_FAILED:
        fprintf(command_fail(c), "the module of line %ld did not instantiate\n", slot->line);
        return;
    }
}

/* The expected "text" and the command's module, instantiated; false when
 * the command has been counted already. */
static bool instantiate_command_module(const struct command *c, const char **text,
                                       struct instantiation *inst)
{
    *text = command_string(c, "text");
    if (!*text) {
        fputs("no expected \"text\"\n", command_fail(c));
        return false;
    }
    const struct module_file *file = command_module_file(c);
    if (!file)
        return false;
    registry_instantiate(c->registry, file, inst);
    if (inst->status == INST_SKIPPED) {
        command_skip(c, SKIP_UNSUPPORTED, inst->message);
        instantiation_free(inst);
        return false;
    }
    return true;
}

/* The message must start with the expected text, as in the reference
 * interpreter's harness. */
static void expect_message(const struct command *c, const char *what, const char *text,
                           const char *message, const struct instantiation *inst)
{
    if (starts_with(message, text))
        command_pass(c);
    else
        fail_instantiation(c, what, text, inst);
}

void run_assert_unlinkable(const struct command *c)
{
    const char *text;
    struct instantiation inst;
    if (!instantiate_command_module(c, &text, &inst))
        return;
    if (inst.status == INST_UNKNOWN_IMPORT)
        expect_message(c, "link error", text, inst.message, &inst);
    else if (inst.status == INST_ERROR && wj_error_kind_of(inst.error) == WJ_ERROR_LINK)
        expect_message(c, "link error", text, wj_error_message(inst.error), &inst);
    else
        fail_instantiation(c, "link error", text, &inst);
    instantiation_free(&inst);
}

void run_assert_uninstantiable(const struct command *c)
{
    const char *text;
    struct instantiation inst;
    if (!instantiate_command_module(c, &text, &inst))
        return;
    if (inst.status == INST_TRAP)
        expect_message(c, "trap", text, wj_trap_message(inst.trap), &inst);
    else
        fail_instantiation(c, "trap", text, &inst);
    instantiation_free(&inst);
}
