/* Commands that run code: action, assert_return, assert_trap and
 * assert_exhaustion. An action is an "invoke" of an exported function or a
 * "get" of an exported global, on a named module or the current one. */
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* What an action gave: results, or a trap. */
struct outcome {
    wj_val *results; /* malloc'd */
    size_t count;
    wj_trap *trap;
};

static void outcome_free(struct outcome *o)
{
    free(o->results);
    wj_trap_delete(o->trap);
}

static wj_val *new_values(size_t count)
{
    wj_val *values = calloc(count ? count : 1, sizeof *values);
    if (!values)
        out_of_memory();
    return values;
}

/* The script's arguments as wj_val; false after counting the command. */
static bool parse_args(const struct command *c, json_t *args, wj_val *out)
{
    size_t i;
    json_t *arg;
    json_array_foreach(args, i, arg) {
        struct script_value value;
        const char *why = NULL;
        switch (value_parse(arg, false, &value, &why)) {
        case VALUE_PARSED:
            out[i] = value.val;
            break;
        case VALUE_BAD:
            fprintf(command_fail(c), "argument %zu: %s\n", i, why);
            return false;
        }
    }
    return true;
}

static bool invoke(const struct command *c, wj_func *func, json_t *args, struct outcome *o)
{
    wj_functype type;
    wj_func_type(func, &type);
    if (!json_is_array(args)) {
        fputs("no \"args\" array\n", command_fail(c));
        return false;
    }
    if (json_array_size(args) != type.param_count) {
        fprintf(command_fail(c), "the script passes %zu arguments, the function takes %u\n",
                json_array_size(args), (unsigned)type.param_count);
        return false;
    }
    wj_val *values = new_values(type.param_count);
    bool parsed = parse_args(c, args, values);
    if (parsed) {
        o->results = new_values(type.result_count);
        o->count = type.result_count;
        wj_error *err = wj_func_call(func, values, type.param_count, o->results, o->count,
                                     &o->trap);
        if (err) {
            FILE *out = command_fail(c);
            fputs("wj_func_call: ", out);
            fput_error(err, out);
            putc('\n', out);
            wj_error_delete(err);
            outcome_free(o);
            parsed = false;
        }
    }
    free(values);
    return parsed;
}

static void get(wj_global *global, struct outcome *o)
{
    o->results = new_values(1);
    o->count = 1;
    wj_global_get(global, o->results);
}

/* The module an action names ("module"), or the current one. NULL after
 * counting the command as skipped or failed. */
static wj_instance *action_instance(const struct command *c, json_t *action)
{
    const char *name = json_string_value(json_object_get(action, "module"));
    const struct slot *slot = registry_find(c->registry, name);
    if (!slot) {
        FILE *out = command_fail(c);
        fputs("no module ", out);
        fput_quoted(name ? name : "(current)", out);
        putc('\n', out);
        return NULL;
    }
    switch (slot->state) {
    case SLOT_READY:
        if (!slot->stale_reason)
            return slot->instance;
        command_skip(c, SKIP_UNSUPPORTED, slot->stale_reason);
        return NULL;
    case SLOT_SKIPPED:
        command_skip(c, SKIP_UNSUPPORTED, slot->skip_reason);
        return NULL;
    case SLOT_FAILED:
        fprintf(command_fail(c), "its module (line %ld) did not instantiate\n", slot->line);
        return NULL;
    }
    return NULL;
}

/* Runs the command's action. False after counting the command as skipped
 * or failed; true with *o to judge (and free). */
static bool perform(const struct command *c, struct outcome *o)
{
    *o = (struct outcome){0};
    json_t *action = json_object_get(c->json, "action");
    const char *type = json_string_value(json_object_get(action, "type"));
    json_t *field = json_object_get(action, "field");
    if (!type || !json_is_string(field)) {
        fputs("no action \"type\" and \"field\"\n", command_fail(c));
        return false;
    }
    bool is_invoke = strcmp(type, "invoke") == 0;
    if (!is_invoke && strcmp(type, "get") != 0) {
        FILE *out = command_fail(c);
        fputs("unknown action type ", out);
        fput_quoted(type, out);
        putc('\n', out);
        return false;
    }
    wj_instance *instance = action_instance(c, action);
    if (!instance)
        return false;
    wj_extern export;
    wj_extern_kind wanted = is_invoke ? WJ_EXTERN_FUNC : WJ_EXTERN_GLOBAL;
    if (!wj_instance_export(instance, json_string_value(field), json_string_length(field),
                            &export) ||
        export.kind != wanted) {
        FILE *out = command_fail(c);
        fprintf(out, "no %s export ", is_invoke ? "function" : "global");
        fput_quoted_bytes(json_string_value(field), json_string_length(field), out);
        putc('\n', out);
        return false;
    }
    if (is_invoke)
        return invoke(c, export.of.func, json_object_get(action, "args"), o);
    get(export.of.global, o);
    return true;
}

/* Results; v128 ones in the lanes of the expected values (NULL: none). */
static void fput_results(const struct outcome *o, const struct script_value *expected,
                         size_t count, FILE *out)
{
    putc('(', out);
    for (size_t i = 0; i < o->count; i++) {
        if (i > 0)
            fputs(", ", out);
        fput_value(&o->results[i], expected && i < count ? &expected[i] : NULL, out);
    }
    putc(')', out);
}

static void fail_trapped(const struct command *c, const char *expected, const wj_trap *trap)
{
    const char *message = wj_trap_message(trap);
    FILE *out = command_fail(c);
    fprintf(out, "expected %s, got trap ", expected);
    fput_quoted(message ? message : "(null)", out);
    putc('\n', out);
}

void run_action(const struct command *c)
{
    struct outcome o;
    if (!perform(c, &o))
        return;
    if (o.trap)
        fail_trapped(c, "no trap", o.trap);
    else
        command_pass(c);
    outcome_free(&o);
}

/* The "expected" results; false after counting the command. */
static bool parse_expected(const struct command *c, struct script_value **out, size_t *count)
{
    json_t *expected = json_object_get(c->json, "expected");
    if (!json_is_array(expected)) {
        fputs("no \"expected\" array\n", command_fail(c));
        return false;
    }
    *count = json_array_size(expected);
    *out = calloc(*count ? *count : 1, sizeof **out);
    if (!*out)
        out_of_memory();
    size_t i;
    json_t *value;
    json_array_foreach(expected, i, value) {
        const char *why = NULL;
        switch (value_parse(value, true, &(*out)[i], &why)) {
        case VALUE_PARSED:
            break;
        case VALUE_BAD:
            fprintf(command_fail(c), "expected result %zu: %s\n", i, why);
            free(*out);
            return false;
        }
    }
    return true;
}

static void judge_results(const struct command *c, const struct outcome *o,
                          const struct script_value *expected, size_t count)
{
    bool match = o->count == count;
    for (size_t i = 0; match && i < count; i++)
        match = value_matches(&expected[i], &o->results[i]);
    if (match) {
        command_pass(c);
        return;
    }
    FILE *out = command_fail(c);
    fputs("expected (", out);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            fputs(", ", out);
        fput_expected_value(&expected[i], out);
    }
    fputs("), got ", out);
    fput_results(o, expected, count, out);
    putc('\n', out);
}

void run_assert_return(const struct command *c)
{
    struct outcome o;
    if (!perform(c, &o))
        return;
    struct script_value *expected;
    size_t count;
    if (o.trap)
        fail_trapped(c, "results", o.trap);
    else if (parse_expected(c, &expected, &count)) {
        judge_results(c, &o, expected, count);
        free(expected);
    }
    outcome_free(&o);
}

/* assert_trap and assert_exhaustion: a trap whose message starts with the
 * expected text. */
/* The expected text starts the library's message; or it is the message
 * followed by an operand the reference interpreter appends ("uninitialized
 * element 2") and a hardware trap does not know. */
static bool trap_message_matches(const char *message, const char *text)
{
    if (starts_with(message, text))
        return true;
    size_t n = strlen(message);
    if (strncmp(message, text, n) != 0 || text[n] != ' ' || !text[n + 1])
        return false;
    for (const char *p = text + n + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void expect_trap(const struct command *c)
{
    const char *text = command_string(c, "text");
    if (!text) {
        fputs("no expected \"text\"\n", command_fail(c));
        return;
    }
    struct outcome o;
    if (!perform(c, &o))
        return;
    const char *message = o.trap ? wj_trap_message(o.trap) : NULL;
    if (o.trap && trap_message_matches(message, text)) {
        command_pass(c);
    } else {
        FILE *out = command_fail(c);
        fputs("expected trap ", out);
        fput_quoted(text, out);
        if (o.trap) {
            fputs(", got trap ", out);
            fput_quoted(message ? message : "(null)", out);
        } else {
            fputs(", got results ", out);
            fput_results(&o, NULL, 0, out);
        }
        putc('\n', out);
    }
    outcome_free(&o);
}

void run_assert_trap(const struct command *c)
{
    expect_trap(c);
}

void run_assert_exhaustion(const struct command *c)
{
    expect_trap(c);
}
