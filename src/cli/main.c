/*
 * wasmjail: the command-line front end. main() dispatches to a subcommand;
 * each lives in its own file and uses only the public API.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
    const char *summary;
} subcommand;

static const subcommand commands[] = {
    {"run", cmd_run, cmd_run_help, "run a WebAssembly program with WASI"},
    {"validate", cmd_validate, cmd_validate_help, "check that modules are well-formed and valid"},
    {"inspect", cmd_inspect, cmd_inspect_help,
     "show a module's sections, imports, exports and types"},
};

static void help_help(FILE *out)
{
    fputs("Usage: wasmjail help [COMMAND]\n"
          "\n"
          "Shows how to use wasmjail, or one of its commands.\n",
          out);
}

static void print_help(FILE *out)
{
    fputs("Usage: wasmjail COMMAND [OPTION]... [FILE]...\n"
          "       wasmjail FILE [ARG]...           (wasmjail run FILE ARG...)\n"
          "       wasmjail --help | --version\n"
          "\n"
          "wasmjail is a WebAssembly runtime for Linux x86-64.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "show this help, or a command's");
    fputs("\n"
          "Options:\n"
          "  -h, --help     show this help and exit\n"
          "      --version  show the version and exit\n"
          "\n"
          "Run 'wasmjail help COMMAND' for the options of a command.\n"
          "Exit status: 0 on success, 1 if a file is unreadable or not a valid module,\n"
          "2 on a command-line error; run exits with the program's status, or 134\n"
          "when it traps. See wasmjail(1) for details.\n",
          out);
}

void cli_error(const char *fmt, ...)
{
    /* Whatever went to stdout comes first, so interleaved output reads in order. */
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fputs("wasmjail: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fputs("wasmjail: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'wasmjail --help' for more information.\n", stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_option_error(const char *command, int c, char **argv)
{
    /* Long options carry values above 255 (see the commands' option
     * tables), and getopt_long() sets optopt to 0 for an unknown one, so a
     * small non-zero optopt is a short option that argv[optind - 1] may not
     * hold by itself ("-vx"). */
    bool is_short = optopt > 0 && optopt < 256;
    const char *opt = argv[optind - 1];
    if (c == ':') {
        if (is_short)
            return cli_usage_error("%s: option '-%c' requires an argument", command, optopt);
        return cli_usage_error("%s: option '%s' requires an argument", command, opt);
    }
    if (is_short)
        return cli_usage_error("%s: invalid option '-%c'", command, optopt);
    if (optopt != 0) /* a known long option given "=VALUE" */
        return cli_usage_error("%s: option '%.*s' takes no argument", command,
                               (int)strcspn(opt, "="), opt);
    return cli_usage_error("%s: unrecognized option '%s'", command, opt);
}

int cli_finish_output(int status)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno; /* 0 if the failure was in an earlier, already-reported write */
        cli_error("error writing to standard output: %s", e ? strerror(e) : "I/O error");
        return CLI_EXIT_FAILURE;
    }
    return status;
}

static const subcommand *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* `wasmjail help [COMMAND]` and `wasmjail --help [COMMAND]`. */
static int run_help(int argc, char **argv)
{
    if (argc > 2)
        return cli_usage_error("help: too many arguments");
    if (argc < 2) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        help_help(stdout);
        return CLI_EXIT_OK;
    }
    const subcommand *cmd = find_command(argv[1]);
    if (cmd == NULL)
        return cli_usage_error("help: unknown command '%s'", argv[1]);
    cmd->help(stdout);
    return CLI_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("missing command");
    const char *arg = argv[1];
    if (strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return run_help(argc - 1, argv + 1);
    if (strcmp(arg, "--version") == 0) {
        if (argc > 2)
            return cli_usage_error("--version takes no arguments");
        printf("wasmjail %s\n", wj_version());
        return CLI_EXIT_OK;
    }
    if (arg[0] == '-')
        return cli_usage_error("unrecognized option '%s'", arg);
    const subcommand *cmd = find_command(arg);
    /* `wasmjail FILE ARGS...` is `wasmjail run FILE ARGS...`. */
    if (cmd == NULL && (strchr(arg, '/') || strstr(arg, ".wasm") || access(arg, F_OK) == 0))
        return cmd_run(argc, argv);
    if (cmd == NULL)
        return cli_usage_error("unknown command '%s'", arg);
    return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    return cli_finish_output(dispatch(argc, argv));
}
