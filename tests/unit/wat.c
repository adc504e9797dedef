/* wat2wasm for the unit tests: see wat.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "wat.h"

extern char **environ;

const char *wat2wasm_path(void)
{
    static char path[PATH_MAX];
    const char *w2j = getenv("WAST2JSON");
    if (w2j && *w2j) {
        const char *slash = strrchr(w2j, '/');
        if (slash) {
            snprintf(path, sizeof path, "%.*s/wat2wasm", (int)(slash - w2j), w2j);
            if (access(path, X_OK) == 0)
                return path;
        }
    }
    const char *env = getenv("PATH");
    if (env) {
        const char *p = env;
        while (*p) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            snprintf(path, sizeof path, "%.*s/wat2wasm", (int)n, n ? p : ".");
            if (access(path, X_OK) == 0)
                return path;
            p += n + (end != NULL);
        }
    }
    return NULL;
}

/* A new empty temporary file; NULL on failure. The caller frees the name. */
static char *temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char *name = NULL;
    if (asprintf(&name, "%s/wj-test-wat-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
        return NULL;
    int fd = mkstemp(name);
    if (fd < 0) {
        free(name);
        return NULL;
    }
    close(fd);
    return name;
}

uint8_t *wat_to_wasm_opts_or_why(const char *wat, const char *const *opts, size_t *len,
                                 const char **why)
{
    const char *tool = wat2wasm_path();
    if (!tool) {
        *why = "wat2wasm not found next to $WAST2JSON or in PATH: install the Debian package wabt";
        return NULL;
    }
    uint8_t *bytes = NULL;
    char **argv = NULL;
    char *in = temp_file(), *out = temp_file();
    FILE *f = in ? fopen(in, "wb") : NULL;
    *why = "cannot write a temporary file";
    if (!out || !f)
        goto done;
    size_t n = strlen(wat);
    bool written = fwrite(wat, 1, n, f) == n;
    if (fclose(f) != 0 || !written)
        goto done;

    size_t nopts = 0;
    while (opts && opts[nopts])
        nopts++;
    *why = "out of memory";
    argv = calloc(nopts + 6, sizeof *argv);
    if (!argv)
        goto done;
    size_t argc = 0;
    argv[argc++] = (char *)tool;
    argv[argc++] = (char *)"--debug-names";
    for (size_t i = 0; i < nopts; i++)
        argv[argc++] = (char *)opts[i];
    argv[argc++] = in;
    argv[argc++] = (char *)"-o";
    argv[argc++] = out;
    pid_t pid;
    int status;
    *why = "cannot run wat2wasm";
    if (posix_spawn(&pid, tool, NULL, NULL, argv, environ) != 0)
        goto done;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            goto done;
    *why = "wat2wasm rejected the module (its message is on stderr)";
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        goto done;

    *why = "cannot read wat2wasm's output";
    struct stat st;
    f = fopen(out, "rb");
    if (!f)
        goto done;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 8 && (bytes = malloc((size_t)st.st_size)) &&
        fread(bytes, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        *len = (size_t)st.st_size;
        *why = NULL;
    } else {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
done:
    if (in)
        unlink(in);
    if (out)
        unlink(out);
    free(in);
    free(out);
    free(argv);
    return bytes;
}

uint8_t *wat_to_wasm_or_why(const char *wat, size_t *len, const char **why)
{
    return wat_to_wasm_opts_or_why(wat, NULL, len, why);
}

uint8_t *wat_to_wasm_opts(const char *wat, const char *const *opts, size_t *len)
{
    const char *why = NULL;
    uint8_t *bytes = wat_to_wasm_opts_or_why(wat, opts, len, &why);
    ck_assert_msg(bytes != NULL, "%s; the module:\n%s", why, wat);
    return bytes;
}

uint8_t *wat_to_wasm(const char *wat, size_t *len)
{
    return wat_to_wasm_opts(wat, NULL, len);
}
