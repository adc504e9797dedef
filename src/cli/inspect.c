/* wasmjail inspect: a human-readable summary of one module: its sections,
 * imports, exports, memories, tables, globals and start function. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Long-only values sit above 255: see cli_option_error(). */
enum { OPT_FEATURES = 256, OPT_HELP };

static const struct option long_options[] = {
    {"features", required_argument, NULL, OPT_FEATURES},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void cmd_inspect_help(FILE *out)
{
    fprintf(out,
            "Usage: wasmjail inspect [OPTION]... FILE\n"
            "\n"
            "Decodes and validates the WebAssembly module FILE (- for standard input)\n"
            "and shows its sections, imports, exports, memories, tables, globals, start\n"
            "function and names. An invalid module is reported as by 'wasmjail validate'.\n"
            "\n"
            "Options:\n"
            "      --features LIST  enable features: a comma-separated list of\n"
            "                       %s; prefix a name with no- to\n"
            "                       disable it (simd is on by default)\n"
            "  -h, --help           show this help and exit\n",
            cli_feature_names);
}

/* What is known about the module beyond the API's direct answers: for each
 * kind, how many entities are imported and which import each one is. */
typedef struct inspect {
    const wj_module *m;
    size_t import_count;
    uint32_t imported[4];   /* per wj_extern_kind */
    size_t *import_of[4];   /* per kind: entity index -> import number */
} inspect;

static bool inspect_init(inspect *in, const wj_module *m)
{
    memset(in, 0, sizeof *in);
    in->m = m;
    in->import_count = wj_module_import_count(m);
    wj_import_info imp;
    for (size_t i = 0; i < in->import_count; i++)
        if (wj_module_import(m, i, &imp) && (unsigned)imp.kind < 4)
            in->imported[imp.kind]++;
    for (int k = 0; k < 4; k++) {
        if (in->imported[k] == 0)
            continue;
        in->import_of[k] = calloc(in->imported[k], sizeof(size_t));
        if (in->import_of[k] == NULL)
            return false;
    }
    /* Imports come first in each index space, so an import's index is
     * below its kind's count; check anyway rather than trust it. */
    for (size_t i = 0; i < in->import_count; i++)
        if (wj_module_import(m, i, &imp) && (unsigned)imp.kind < 4 && imp.index < in->imported[imp.kind])
            in->import_of[imp.kind][imp.index] = i;
    return true;
}

static void inspect_free(inspect *in)
{
    for (int k = 0; k < 4; k++)
        free(in->import_of[k]);
}

/* "module.name" of an import, escaped; malloc'ed, NULL when out of memory. */
static char *import_name(const wj_import_info *imp)
{
    char *mod = cli_escape(imp->module, imp->module_len);
    char *name = cli_escape(imp->name, imp->name_len);
    char *out = NULL;
    if (mod && name && (out = malloc(strlen(mod) + strlen(name) + 2)) != NULL)
        sprintf(out, "%s.%s", mod, name);
    free(mod);
    free(name);
    return out;
}

/* Texts built with open_memstream(); NULL when out of memory. */

static void put_valtypes(FILE *f, uint32_t count, const uint8_t *types)
{
    fputc('(', f);
    for (uint32_t i = 0; i < count; i++)
        fprintf(f, "%s%s", i ? ", " : "", wj_valtype_name((wj_valtype)types[i]));
    fputc(')', f);
}

static char *finish_text(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

static char *functype_text(const wj_module *m, uint32_t func)
{
    wj_functype ft;
    if (!wj_module_func_type(m, func, &ft))
        return strdup("(unknown type)");
    char *buf = NULL;
    size_t size;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    put_valtypes(f, ft.param_count, ft.params);
    fputs(" -> ", f);
    put_valtypes(f, ft.result_count, ft.results);
    return finish_text(f, &buf);
}

/* "17 pages min, max 32768" or "5 elements min, no max", then ", i64". */
static char *limits_text(const wj_limits *l, const char *unit, const char *units)
{
    char *buf = NULL;
    size_t size;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    fprintf(f, "%" PRIu64 " %s min, ", l->min, l->min == 1 ? unit : units);
    if (l->has_max)
        fprintf(f, "max %" PRIu64, l->max);
    else
        fputs("no max", f);
    if (l->is64)
        fputs(", i64", f);
    if (l->shared)
        fputs(", shared", f);
    return finish_text(f, &buf);
}

static char *memory_text(const wj_module *m, uint32_t memory)
{
    wj_limits l;
    if (!wj_module_memory_type(m, memory, &l))
        return strdup("(unknown type)");
    return limits_text(&l, "page", "pages");
}

static char *table_text(const wj_module *m, uint32_t table)
{
    wj_tabletype tt;
    if (!wj_module_table_type(m, table, &tt))
        return strdup("(unknown type)");
    char *limits = limits_text(&tt.limits, "element", "elements");
    if (limits == NULL)
        return NULL;
    const char *elem = wj_valtype_name(tt.elem);
    char *out = malloc(strlen(elem) + strlen(limits) + 3);
    if (out != NULL)
        sprintf(out, "%s, %s", elem, limits);
    free(limits);
    return out;
}

static char *global_text(const wj_module *m, uint32_t global)
{
    wj_globaltype gt;
    if (!wj_module_global_type(m, global, &gt))
        return strdup("(unknown type)");
    const char *type = wj_valtype_name(gt.type);
    char *out = malloc(strlen(type) + sizeof "const ");
    if (out != NULL)
        sprintf(out, "%s %s", gt.mutable_ ? "mut" : "const", type);
    return out;
}

/* The type of any entity, as shown after its kind. */
static char *entity_text(const wj_module *m, wj_extern_kind kind, uint32_t index)
{
    switch (kind) {
    case WJ_EXTERN_FUNC:
        return functype_text(m, index);
    case WJ_EXTERN_TABLE:
        return table_text(m, index);
    case WJ_EXTERN_MEMORY:
        return memory_text(m, index);
    case WJ_EXTERN_GLOBAL:
        return global_text(m, index);
    }
    return strdup("");
}

/* Prints a heading with a count, then the table, or "Heading: none". */
static bool print_list(const char *heading, size_t count, const cli_table *t)
{
    if (count == 0) {
        printf("\n%s: none\n", heading);
        return !t->out_of_memory;
    }
    printf("\n%s (%zu):\n", heading, count);
    return cli_table_print(t, stdout, "  ");
}

static bool print_overview(const inspect *in, const char *path, size_t len)
{
    const wj_module *m = in->m;
    cli_table t;
    cli_table_init(&t, "ll", 1);

    char *file = cli_display_path(path);
    cli_table_cell(&t, "File:");
    cli_table_cell(&t, "%s (%zu bytes)", file ? file : "?", len);
    free(file);

    size_t name_len;
    const char *name = wj_module_name(m, &name_len);
    char *shown = name ? cli_escape(name, name_len) : NULL;
    cli_table_cell(&t, "Module name:");
    cli_table_cell(&t, "%s", name == NULL ? "(none)" : shown ? shown : "?");
    free(shown);

    uint32_t funcs = wj_module_func_count(m);
    uint32_t named = 0;
    for (uint32_t f = 0; f < funcs; f++) {
        size_t n;
        if (wj_module_func_name(m, f, &n) != NULL)
            named++;
    }
    uint32_t imported = in->imported[WJ_EXTERN_FUNC];
    cli_table_cell(&t, "Functions:");
    cli_table_cell(&t, "%" PRIu32 " (%" PRIu32 " imported, %" PRIu32 " defined), %" PRIu32 " named",
                   funcs, imported, funcs - imported, named);

    uint32_t start;
    cli_table_cell(&t, "Start:");
    if (!wj_module_start(m, &start)) {
        cli_table_cell(&t, "none");
    } else {
        const char *fname = wj_module_func_name(m, start, &name_len);
        char *fshown = fname ? cli_escape(fname, name_len) : NULL;
        cli_table_cell(&t, "func %" PRIu32 "%s%s%s", start, fshown ? " <" : "", fshown ? fshown : "",
                       fshown ? ">" : "");
        free(fshown);
    }
    bool ok = cli_table_print(&t, stdout, "");
    cli_table_free(&t);
    return ok;
}

static bool print_sections(const wj_module *m)
{
    size_t count = wj_module_section_count(m);
    cli_table t;
    cli_table_init(&t, "rlrr", 2);
    cli_table_cell(&t, "id");
    cli_table_cell(&t, "name");
    cli_table_cell(&t, "offset");
    cli_table_cell(&t, "size");
    for (size_t i = 0; i < count; i++) {
        wj_section_info s;
        if (!wj_module_section(m, i, &s))
            continue;
        char *name = cli_escape(s.name ? s.name : "", s.name ? s.name_len : 0);
        cli_table_cell(&t, "%u", (unsigned)s.id);
        /* Quotes tell a custom section's own name from a standard one. */
        cli_table_cell(&t, s.id == 0 ? "\"%s\"" : "%s", name ? name : "?");
        cli_table_cell(&t, "0x%" PRIx64, s.offset);
        cli_table_cell(&t, "%" PRIu64, s.size);
        free(name);
    }
    bool ok = print_list("Sections", count, &t);
    cli_table_free(&t);
    return ok;
}

static bool print_imports(const inspect *in)
{
    cli_table t;
    cli_table_init(&t, "lll", 1);
    for (size_t i = 0; i < in->import_count; i++) {
        wj_import_info imp;
        if (!wj_module_import(in->m, i, &imp))
            continue;
        char *name = import_name(&imp);
        char *type = entity_text(in->m, imp.kind, imp.index);
        cli_table_cell(&t, "%s:", name ? name : "?");
        cli_table_cell(&t, "%s", wj_extern_kind_name(imp.kind));
        cli_table_cell(&t, "%s", type ? type : "?");
        free(name);
        free(type);
    }
    bool ok = print_list("Imports", in->import_count, &t);
    cli_table_free(&t);
    return ok;
}

static bool print_exports(const wj_module *m)
{
    size_t count = wj_module_export_count(m);
    cli_table t;
    cli_table_init(&t, "lll", 1);
    for (size_t i = 0; i < count; i++) {
        wj_export_info exp;
        if (!wj_module_export(m, i, &exp))
            continue;
        char *name = cli_escape(exp.name, exp.name_len);
        /* Memories, tables and globals are described in their own lists. */
        char *type = exp.kind == WJ_EXTERN_FUNC ? functype_text(m, exp.index) : strdup("");
        cli_table_cell(&t, "%s:", name ? name : "?");
        cli_table_cell(&t, "%s %" PRIu32, wj_extern_kind_name(exp.kind), exp.index);
        cli_table_cell(&t, "%s", type ? type : "?");
        free(name);
        free(type);
    }
    bool ok = print_list("Exports", count, &t);
    cli_table_free(&t);
    return ok;
}

/* Memories, tables or globals:
 * "memory[0]: 17 pages min, max 32768 (imported from env.memory)". */
static bool print_entities(const inspect *in, const char *heading, wj_extern_kind kind, uint32_t count)
{
    cli_table t;
    cli_table_init(&t, "lll", 1);
    for (uint32_t i = 0; i < count; i++) {
        char *type = entity_text(in->m, kind, i);
        char *from = NULL;
        wj_import_info imp;
        if (i < in->imported[kind] && wj_module_import(in->m, in->import_of[kind][i], &imp))
            from = import_name(&imp);
        cli_table_cell(&t, "%s[%" PRIu32 "]:", wj_extern_kind_name(kind), i);
        cli_table_cell(&t, "%s", type ? type : "?");
        cli_table_cell(&t, "%s%s%s", from ? "(imported from " : "", from ? from : "", from ? ")" : "");
        free(type);
        free(from);
    }
    bool ok = print_list(heading, count, &t);
    cli_table_free(&t);
    return ok;
}

static bool print_module(const wj_module *m, const char *path, size_t len)
{
    inspect in;
    bool ok = inspect_init(&in, m) && print_overview(&in, path, len) && print_sections(m) &&
              print_imports(&in) && print_exports(m) &&
              print_entities(&in, "Memories", WJ_EXTERN_MEMORY, wj_module_memory_count(m)) &&
              print_entities(&in, "Tables", WJ_EXTERN_TABLE, wj_module_table_count(m)) &&
              print_entities(&in, "Globals", WJ_EXTERN_GLOBAL, wj_module_global_count(m));
    inspect_free(&in);
    return ok;
}

static int inspect_file(wj_engine *engine, const char *path)
{
    uint8_t *data;
    size_t len;
    int e = cli_read_file(path, &data, &len);
    if (e != 0) {
        cli_report_file_error(path, e);
        return CLI_EXIT_FAILURE;
    }
    wj_module *module = NULL;
    wj_error *err = wj_module_decode(engine, data, len, &module);
    free(data);
    if (err != NULL) {
        cli_report_module_error(path, err);
        wj_error_delete(err);
        return CLI_EXIT_FAILURE;
    }
    bool ok = print_module(module, path, len);
    wj_module_delete(module);
    if (!ok) {
        cli_error("out of memory");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
    wj_config *config = wj_config_new();
    if (config == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_FAILURE;
    }
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
        case OPT_HELP:
            wj_config_delete(config);
            cmd_inspect_help(stdout);
            return CLI_EXIT_OK;
        case OPT_FEATURES:
            if (!cli_parse_features(config, optarg)) {
                wj_config_delete(config);
                return CLI_EXIT_USAGE;
            }
            break;
        default:
            wj_config_delete(config);
            return cli_option_error("inspect", c, argv);
        }
    }
    if (argc - optind != 1) {
        wj_config_delete(config);
        return cli_usage_error(optind == argc ? "inspect: no FILE given"
                                              : "inspect: takes one FILE");
    }
    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    if (engine == NULL) {
        cli_error("cannot create an engine: out of memory");
        return CLI_EXIT_FAILURE;
    }
    int status = inspect_file(engine, argv[optind]);
    wj_engine_delete(engine);
    return status;
}
