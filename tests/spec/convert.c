/* Converting a .wast script with wast2json into memory (struct script). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec.h"

extern char **environ;

/* Names inside the temporary directory. wast2json names the module files
 * after the JSON file: script.0.wasm, script.1.wat, ... */
#define JSON_NAME "script.json"
#define LOG_NAME "wast2json.log"

/* While the temporary directory exists, the signals that end a run (Ctrl-C,
 * a timeout) are held back so that it is always removed; they take effect as
 * soon as it is gone. */
static void block_termination_signals(sigset_t *saved)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, saved);
}

static char *make_private_dir(char **why)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char *dir = format("%s/spec-runner.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        *why = format("cannot create a temporary directory in %s: %s", tmp, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

/* wast2json writes plain files only, never subfolders. */
static void remove_private_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *entry;
        while ((entry = readdir(d)))
            if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0 &&
                unlinkat(dirfd(d), entry->d_name, 0) != 0)
                fprintf(stderr, "spec-runner: cannot remove %s/%s: %s\n", dir, entry->d_name,
                        strerror(errno));
        closedir(d);
    }
    if (rmdir(dir) != 0)
        fprintf(stderr, "spec-runner: cannot remove %s: %s\n", dir, strerror(errno));
}

/* Reads a whole file and appends a NUL (not counted in *len). Sets errno on
 * failure. */
static bool read_file(const char *path, uint8_t **bytes, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return false;
    }
    size_t size = (size_t)st.st_size, done = 0;
    uint8_t *buf = malloc(size + 1);
    if (!buf)
        out_of_memory();
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO; /* the file shrank under us */
            free(buf);
            close(fd);
            errno = saved;
            return false;
        }
        done += (size_t)n;
    }
    close(fd);
    buf[size] = 0;
    *bytes = buf;
    *len = size;
    return true;
}

/* wast2json's own output, for the failure report; "" when there is none. */
static char *read_log(const char *dir)
{
    char *path = format("%s/" LOG_NAME, dir);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!read_file(path, &bytes, &len))
        bytes = (uint8_t *)strdup("");
    free(path);
    if (!bytes)
        out_of_memory();
    while (len > 0 && bytes[len - 1] == '\n')
        bytes[--len] = 0;
    return (char *)bytes;
}

static char *describe_failed_status(const char *dir, const char *program, int status)
{
    char *log = read_log(dir);
    char *why;
    if (WIFSIGNALED(status))
        why = format("%s was killed by signal %d (%s)\n%s", program, WTERMSIG(status),
                     strsignal(WTERMSIG(status)), log);
    else
        why = format("%s exited with status %d\n%s", program, WEXITSTATUS(status), log);
    free(log);
    return why;
}

static bool spawn_and_wait(char *const argv[], const char *log_path, const sigset_t *child_mask,
                           int *status, char **why)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigmask(&attr, child_mask);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        *why = format("cannot run %s: %s", argv[0], strerror(rc));
        return false;
    }
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR) {
            *why = format("cannot wait for %s: %s", argv[0], strerror(errno));
            return false;
        }
    return true;
}

/* Runs wast2json (no shell) with its output and its log in `dir`. */
static bool run_wast2json(const struct conversion_options *options, const char *wast_path,
                          const char *dir, const sigset_t *child_mask, char **why)
{
    char *json_path = format("%s/" JSON_NAME, dir);
    char *log_path = format("%s/" LOG_NAME, dir);
    /* A path that starts with '-' would read as an option. */
    char *input = wast_path[0] == '-' ? format("./%s", wast_path) : strdup(wast_path);
    if (!input)
        out_of_memory();
    char *argv[8];
    int argc = 0;
    argv[argc++] = (char *)options->wast2json;
    if (options->memory64)
        argv[argc++] = "--enable-memory64";
    if (options->multi_memory)
        argv[argc++] = "--enable-multi-memory";
    argv[argc++] = input;
    argv[argc++] = "-o";
    argv[argc++] = json_path;
    argv[argc] = NULL;

    int status = 0;
    bool ok = spawn_and_wait(argv, log_path, child_mask, &status, why);
    if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        *why = describe_failed_status(dir, options->wast2json, status);
        ok = false;
    }
    free(input);
    free(log_path);
    free(json_path);
    return ok;
}

static bool load_json(const char *dir, struct script *out, char **why)
{
    char *path = format("%s/" JSON_NAME, dir);
    json_error_t error;
    /* names.wast has export names with NUL bytes. */
    out->json = json_load_file(path, JSON_ALLOW_NUL, &error);
    free(path);
    if (!out->json) {
        *why = format("cannot read wast2json's JSON: %s (line %d)", error.text, error.line);
        return false;
    }
    out->commands = json_object_get(out->json, "commands");
    if (!json_is_array(out->commands)) {
        *why = format("wast2json's JSON has no \"commands\" array");
        return false;
    }
    return true;
}

/* A name wast2json could have written into the directory, nothing else. */
static bool is_plain_file_name(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static bool load_module_file(const char *dir, const char *name, json_int_t line,
                             struct module_file *file, char **why)
{
    if (!is_plain_file_name(name)) {
        *why = format("the command on line %lld names the file \"%s\"", (long long)line, name);
        return false;
    }
    char *path = format("%s/%s", dir, name);
    bool ok = read_file(path, &file->bytes, &file->len);
    if (!ok)
        *why = format("cannot read %s, named by the command on line %lld: %s", name,
                      (long long)line, strerror(errno));
    free(path);
    if (ok && !(file->name = strdup(name)))
        out_of_memory();
    return ok;
}

static bool load_module_files(const char *dir, struct script *out, char **why)
{
    /* At most one file per command. */
    out->files = calloc(json_array_size(out->commands) + 1, sizeof *out->files);
    if (!out->files)
        out_of_memory();
    size_t i;
    json_t *command;
    json_array_foreach(out->commands, i, command) {
        const char *name = json_string_value(json_object_get(command, "filename"));
        if (!name)
            continue;
        json_int_t line = json_integer_value(json_object_get(command, "line"));
        if (!load_module_file(dir, name, line, &out->files[out->file_count], why))
            return false;
        out->file_count++;
    }
    return true;
}

bool script_convert(const struct conversion_options *options, const char *wast_path,
                    struct script *out, char **why)
{
    memset(out, 0, sizeof *out);
    sigset_t saved_mask;
    block_termination_signals(&saved_mask);
    char *dir = make_private_dir(why);
    bool ok = dir && run_wast2json(options, wast_path, dir, &saved_mask, why) &&
              load_json(dir, out, why) && load_module_files(dir, out, why);
    if (dir)
        remove_private_dir(dir);
    free(dir);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
    if (!ok)
        script_free(out);
    return ok;
}

void script_free(struct script *script)
{
    for (size_t i = 0; i < script->file_count; i++) {
        free(script->files[i].name);
        free(script->files[i].bytes);
    }
    free(script->files);
    json_decref(script->json);
    memset(script, 0, sizeof *script);
}

const struct module_file *script_find_file(const struct script *script, const char *name)
{
    for (size_t i = 0; i < script->file_count; i++)
        if (strcmp(script->files[i].name, name) == 0)
            return &script->files[i];
    return NULL;
}
