/* Dispatching wast2json's commands to their judges, and the two that only
 * decode and validate: assert_malformed and assert_invalid. They use
 * wj_module_validate, which never compiles, so that they keep judging
 * modules the compiler cannot handle. */
#include <inttypes.h>
#include <string.h>

#include "spec.h"

void command_pass(const struct command *c)
{
    tally_pass(c->context->tally);
}

void command_skip(const struct command *c, enum skip_reason reason, const char *message)
{
    tally_skip(c->context->tally, reason, message);
}

FILE *command_fail(const struct command *c)
{
    FILE *out = tally_fail(c->context->tally, c->context->path, c->line);
    fprintf(out, "%s: ", c->type);
    return out;
}

const char *command_string(const struct command *c, const char *key)
{
    return json_string_value(json_object_get(c->json, key));
}

static const char *error_kind_name(wj_error_kind kind)
{
    switch (kind) {
    case WJ_ERROR_MALFORMED: return "malformed";
    case WJ_ERROR_INVALID: return "invalid";
    case WJ_ERROR_UNSUPPORTED: return "unsupported";
    case WJ_ERROR_RESOURCE: return "resource";
    case WJ_ERROR_LINK: return "link";
    case WJ_ERROR_USAGE: return "usage";
    case WJ_ERROR_IO: return "io";
    }
    return NULL;
}

/* e.g. `malformed "unexpected end" at offset 0x1c` */
void fput_error(const wj_error *err, FILE *out)
{
    wj_error_kind kind = wj_error_kind_of(err);
    const char *kind_name = error_kind_name(kind);
    if (kind_name)
        fprintf(out, "%s ", kind_name);
    else
        fprintf(out, "error of unknown kind %d ", (int)kind);
    const char *message = wj_error_message(err);
    fput_quoted(message ? message : "(null)", out);
    uint64_t offset = wj_error_offset(err);
    if (offset == WJ_NO_OFFSET)
        fputs(" (no offset)", out);
    else
        fprintf(out, " at offset 0x%" PRIx64, offset);
}

/* wast2json 1.0.32 writes (module quote ...) inside assertions as a .wat
 * file; a "module" command has no module_type and is always binary. */
enum module_format { MODULE_BINARY, MODULE_TEXT, MODULE_FORMAT_UNKNOWN };

static enum module_format command_module_format(const struct command *c)
{
    json_t *value = json_object_get(c->json, "module_type");
    if (!value)
        return MODULE_BINARY;
    const char *name = json_string_value(value);
    if (name && strcmp(name, "binary") == 0)
        return MODULE_BINARY;
    if (name && strcmp(name, "text") == 0)
        return MODULE_TEXT;
    return MODULE_FORMAT_UNKNOWN;
}

const struct module_file *command_module_file(const struct command *c)
{
    switch (command_module_format(c)) {
    case MODULE_BINARY:
        break;
    case MODULE_TEXT:
        command_skip(c, SKIP_TEXT_MODULE, NULL);
        return NULL;
    case MODULE_FORMAT_UNKNOWN:
        fputs("unknown \"module_type\"\n", command_fail(c));
        return NULL;
    }
    const char *name = command_string(c, "filename");
    const struct module_file *file = name ? script_find_file(c->script, name) : NULL;
    if (!file)
        fputs("no module file\n", command_fail(c));
    return file;
}

bool starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Assertions whose module wast2json 1.0.32 cannot write as the script has
 * it: the binary it writes deserves another error than the script expects.
 * That error is checked exactly (so the command can still fail), and the
 * command counts as skipped, never as passed. Keep this list short. */
static const struct conversion_gap {
    const char *file; /* the .wast file's name */
    long line;
    const char *text;           /* the message the script expects */
    wj_error_kind binary_kind;  /* what the written binary deserves */
    const char *binary_text;
} conversion_gaps[] = {
    /* `select (result)` (no types) is written as the untyped select 0x1b, so
     * the empty stack gives "type mismatch" before any arity check. */
    {"select.wast", 324, "invalid result arity", WJ_ERROR_INVALID, "type mismatch"},
    /* A module with no data segments is written without a data count
     * section, which the binary format requires for data.drop. */
    {"memory_init.wast", 190, "unknown data segment", WJ_ERROR_MALFORMED,
     "data count section required"},
};

static bool is_conversion_gap(const struct command *c, const char *text, const wj_error *err)
{
    const char *slash = strrchr(c->context->path, '/');
    const char *file = slash ? slash + 1 : c->context->path;
    for (size_t i = 0; i < sizeof conversion_gaps / sizeof conversion_gaps[0]; i++) {
        const struct conversion_gap *g = &conversion_gaps[i];
        if (strcmp(file, g->file) == 0 && c->line == g->line && strcmp(text, g->text) == 0)
            return wj_error_kind_of(err) == g->binary_kind &&
                   starts_with(wj_error_message(err), g->binary_text);
    }
    return false;
}

/* The reference interpreter's harness accepts any message that starts with
 * the expected text; so do we, but the kind must match too. */
static void expect_rejected(const struct command *c, wj_error_kind expected_kind)
{
    const char *text = command_string(c, "text");
    if (!text) {
        fputs("no expected \"text\"\n", command_fail(c));
        return;
    }
    const struct module_file *file = command_module_file(c);
    if (!file)
        return;
    wj_error *err = wj_module_validate(c->context->engine, file->bytes, file->len);
    if (err && wj_error_kind_of(err) == expected_kind && starts_with(wj_error_message(err), text)) {
        command_pass(c);
    } else if (err && is_conversion_gap(c, text, err)) {
        command_skip(c, SKIP_CONVERSION_GAP, NULL);
    } else {
        FILE *out = command_fail(c);
        fputs("expected ", out);
        fput_quoted(text, out);
        fputs(", got ", out);
        if (err)
            fput_error(err, out);
        else
            fputs("a valid module", out);
        putc('\n', out);
    }
    if (err)
        wj_error_delete(err);
}

static void run_assert_malformed(const struct command *c)
{
    expect_rejected(c, WJ_ERROR_MALFORMED);
}

static void run_assert_invalid(const struct command *c)
{
    expect_rejected(c, WJ_ERROR_INVALID);
}

static const struct {
    const char *type;
    void (*run)(const struct command *c);
} command_kinds[] = {
    {"module", run_module},
    {"assert_malformed", run_assert_malformed},
    {"assert_invalid", run_assert_invalid},
    {"assert_unlinkable", run_assert_unlinkable},
    {"assert_uninstantiable", run_assert_uninstantiable},
    {"register", run_register},
    {"action", run_action},
    {"assert_return", run_assert_return},
    {"assert_trap", run_assert_trap},
    {"assert_exhaustion", run_assert_exhaustion},
};

/* A command type we do not know is a failure, so that a newer wast2json
 * cannot make tests disappear silently. */
static void run_command(const struct command *c)
{
    for (size_t i = 0; i < sizeof command_kinds / sizeof command_kinds[0]; i++)
        if (strcmp(c->type, command_kinds[i].type) == 0) {
            command_kinds[i].run(c);
            return;
        }
    fputs("unknown command type\n", command_fail(c));
}

void script_run(const struct run_context *context, const struct script *script)
{
    struct registry *registry = registry_new(context->engine);
    size_t i;
    json_t *json;
    json_array_foreach(script->commands, i, json) {
        const char *type = json_string_value(json_object_get(json, "type"));
        struct command c = {
            .context = context,
            .script = script,
            .registry = registry,
            .json = json,
            .type = type ? type : "(command without a type)",
            .line = (long)json_integer_value(json_object_get(json, "line")),
        };
        crash_report_at(context->path, c.line);
        run_command(&c);
    }
    registry_delete(registry);
}
