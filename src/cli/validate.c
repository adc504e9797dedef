/* wasmjail validate: decode and validate modules, report the first error
 * of each. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Long-only values sit above 255: see cli_option_error(). */
enum { OPT_FEATURES = 256, OPT_HELP, OPT_VERBOSE };

static const struct option long_options[] = {
    {"features", required_argument, NULL, OPT_FEATURES},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void cmd_validate_help(FILE *out)
{
    fprintf(out,
            "Usage: wasmjail validate [OPTION]... FILE...\n"
            "\n"
            "Decodes and validates each WebAssembly module FILE (- for standard input).\n"
            "Prints nothing for a valid module; for an invalid one, prints the first\n"
            "error with its byte offset, goes on with the next file, and exits with 1.\n"
            "\n"
            "Options:\n"
            "      --features LIST  enable features: a comma-separated list of\n"
            "                       %s; prefix a name with no- to\n"
            "                       disable it (simd is on by default)\n"
            "  -v, --verbose        print 'FILE: valid' for each valid module\n"
            "  -h, --help           show this help and exit\n",
            cli_feature_names);
}

/* Validates one file; returns true if it is a valid module. */
static bool validate_file(wj_engine *engine, const char *path, bool verbose)
{
    uint8_t *data;
    size_t len;
    int e = cli_read_file(path, &data, &len);
    if (e != 0) {
        cli_report_file_error(path, e);
        return false;
    }
    wj_error *err = wj_module_validate(engine, data, len);
    free(data);
    if (err != NULL) {
        cli_report_module_error(path, err);
        wj_error_delete(err);
        return false;
    }
    if (verbose) {
        char *file = cli_display_path(path);
        printf("%s: valid\n", file ? file : path);
        free(file);
    }
    return true;
}

int cmd_validate(int argc, char **argv)
{
    wj_config *config = wj_config_new();
    if (config == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_FAILURE;
    }
    bool verbose = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hv", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
        case OPT_HELP:
            wj_config_delete(config);
            cmd_validate_help(stdout);
            return CLI_EXIT_OK;
        case 'v':
        case OPT_VERBOSE:
            verbose = true;
            break;
        case OPT_FEATURES:
            if (!cli_parse_features(config, optarg)) {
                wj_config_delete(config);
                return CLI_EXIT_USAGE;
            }
            break;
        default:
            wj_config_delete(config);
            return cli_option_error("validate", c, argv);
        }
    }
    if (optind == argc) {
        wj_config_delete(config);
        return cli_usage_error("validate: no FILE given");
    }

    wj_engine *engine = wj_engine_new(config);
    wj_config_delete(config);
    if (engine == NULL) {
        cli_error("cannot create an engine: out of memory");
        return CLI_EXIT_FAILURE;
    }
    int status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++)
        if (!validate_file(engine, argv[i], verbose))
            status = CLI_EXIT_FAILURE;
    wj_engine_delete(engine);
    return status;
}
