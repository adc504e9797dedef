/*
 * jail-host: a host program that links libwasmjail, instantiates a module,
 * jails itself with wj_jail_enter(), then does what argv[1] says:
 *   ok        a trap and a memory.grow inside the jail, which must work, and
 *             a trap on a thread started before the jail that first runs
 *             wasm inside it
 *   execve, socket, open, fork
 *             a plain C call the jail must deny
 *   thread    the same socket() from a thread started before the jail
 *   paths DIR with a WASI context preopening DIR/rw and DIR/ro (read-only),
 *             opens paths relative to its own descriptors of them and
 *             prints one line per attempt: "NAME ok" or "NAME errno-name"
 *             (Landlock confines lookups to beneath the preopens)
 * A denied call never returns: the jail ends the process with status 159
 * and a line naming the call (tests/jail/jail.sh checks both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wasmjail.h>

#include "../unit/wat.h"

static const char module_wat[] =
    "(module (memory (export \"memory\") 1)"
    "  (func (export \"trap\") unreachable)"
    "  (func (export \"grow\") (result i32)"
    "    (local $old i32)"
    "    (local.set $old (memory.grow (i32.const 1)))"
    "    (i32.store (i32.const 65536) (i32.const 7))"
    "    (i32.add (local.get $old) (i32.load (i32.const 65536)))))";

static int die(const char *what)
{
    fprintf(stderr, "jail-host: %s\n", what);
    return 1;
}

static wj_func *export_func(wj_instance *instance, const char *name)
{
    wj_extern e;
    return wj_instance_export(instance, name, strlen(name), &e) && e.kind == WJ_EXTERN_FUNC
               ? e.of.func
               : NULL;
}

static int pipe_fds[2];

/* Waits until the main thread is jailed, then opens a socket. */
static void *thread_main(void *arg)
{
    (void)arg;
    char c;
    if (read(pipe_fds[0], &c, 1) == 1)
        socket(AF_INET, SOCK_STREAM, 0);
    return NULL;
}

/* Waits until the main thread is jailed, then makes its first wasm call:
 * NULL when it traps as it should. */
static void *wasm_thread_main(void *instance)
{
    char c;
    wj_trap *trap = NULL;
    if (read(pipe_fds[0], &c, 1) != 1 ||
        wj_func_call(export_func(instance, "trap"), NULL, 0, NULL, 0, &trap) || !trap ||
        wj_trap_code_of(trap) != WJ_TRAP_UNREACHABLE)
        return "no unreachable trap on a thread inside the jail";
    wj_trap_delete(trap);
    return NULL;
}

/* Opens `path` beneath `dir` with `flags`; prints the outcome. */
static void try_open(const char *name, int dir, const char *path, int flags)
{
    int fd = openat(dir, path, flags, 0644);
    if (fd >= 0) {
        printf("%s ok\n", name);
        close(fd);
    } else {
        printf("%s %s\n", name, strerrorname_np(errno));
    }
}

/* Jails with `wasi` and tries lookups inside and outside its preopens. */
static int paths(wj_wasi *wasi, const char *dir)
{
    char rw[4096], ro[4096];
    snprintf(rw, sizeof rw, "%s/rw", dir);
    snprintf(ro, sizeof ro, "%s/ro", dir);
    int rw_fd = open(rw, O_PATH | O_DIRECTORY), ro_fd = open(ro, O_PATH | O_DIRECTORY);
    if (rw_fd < 0 || ro_fd < 0)
        return die("cannot open the directories");
    wj_error *err = wj_jail_enter(&wasi, 1);
    if (err)
        return die(wj_error_message(err));
    try_open("read-inside", rw_fd, "inside.txt", O_RDONLY);
    try_open("create-inside", rw_fd, "new.txt", O_WRONLY | O_CREAT);
    try_open("absolute", rw_fd, "/etc/passwd", O_RDONLY);
    try_open("dotdot", rw_fd, "../outside.txt", O_RDONLY);
    try_open("read-ro", ro_fd, "inside.txt", O_RDONLY);
    try_open("write-ro", ro_fd, "inside.txt", O_WRONLY);
    try_open("create-ro", ro_fd, "new.txt", O_WRONLY | O_CREAT);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (strcmp(argv[1], "paths") == 0) != (argc == 3))
        return die("usage: jail-host ok|execve|socket|open|fork|thread|paths DIR");
    const char *what = argv[1];
    const char *why = NULL;
    size_t len;
    uint8_t *bytes = wat_to_wasm_or_why(module_wat, &len, &why);
    if (!bytes)
        return die(why);
    wj_engine *engine = wj_engine_new(NULL);
    wj_module *module;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    free(bytes);
    if (err)
        return die(wj_error_message(err));
    wj_store *store = wj_store_new(engine);
    wj_instance *instance;
    wj_trap *trap = NULL;
    if (wj_instance_new(store, module, NULL, 0, &instance, &trap) || trap)
        return die("cannot instantiate");
    pthread_t thread;
    if ((strcmp(what, "thread") == 0 || strcmp(what, "ok") == 0) &&
        (pipe(pipe_fds) != 0 ||
         pthread_create(&thread, NULL, strcmp(what, "ok") == 0 ? wasm_thread_main : thread_main,
                        instance) != 0))
        return die("cannot start the thread");

    if (strcmp(what, "paths") == 0) {
        wj_wasi_config *config = wj_wasi_config_new();
        char rw[4096], ro[4096];
        snprintf(rw, sizeof rw, "%s/rw", argv[2]);
        snprintf(ro, sizeof ro, "%s/ro", argv[2]);
        if (!config || (err = wj_wasi_config_preopen_dir(config, rw, ".", false)) ||
            (err = wj_wasi_config_preopen_dir(config, ro, "ro", true)))
            return die(err ? wj_error_message(err) : "out of memory");
        wj_wasi *wasi = wj_wasi_new(store, config);
        return wasi ? paths(wasi, argv[2]) : die("out of memory");
    }
    if ((err = wj_jail_enter(NULL, 0)))
        return die(wj_error_message(err));

    if (strcmp(what, "ok") == 0) {
        wj_val result;
        trap = NULL;
        if (wj_func_call(export_func(instance, "trap"), NULL, 0, NULL, 0, &trap) || !trap ||
            wj_trap_code_of(trap) != WJ_TRAP_UNREACHABLE)
            return die("no unreachable trap inside the jail");
        wj_trap_delete(trap);
        trap = NULL;
        if (wj_func_call(export_func(instance, "grow"), NULL, 0, &result, 1, &trap) || trap)
            return die("memory.grow trapped inside the jail");
        if (result.of.i32 != 1 + 7)
            return die("memory.grow did not grow");
        void *failure;
        if (write(pipe_fds[1], "x", 1) != 1 || pthread_join(thread, &failure) != 0)
            return die("cannot run the thread");
        if (failure)
            return die(failure);
        wj_store_delete(store);
        wj_module_delete(module);
        wj_engine_delete(engine);
        puts("ok");
        return 0;
    }
    if (strcmp(what, "execve") == 0) {
        char *args[] = {"/bin/true", NULL};
        execve(args[0], args, environ);
    } else if (strcmp(what, "socket") == 0) {
        socket(AF_INET, SOCK_STREAM, 0);
    } else if (strcmp(what, "open") == 0) {
        open("/etc/passwd", O_RDONLY);
    } else if (strcmp(what, "fork") == 0) {
        fork();
    } else if (strcmp(what, "thread") == 0) {
        if (write(pipe_fds[1], "x", 1) == 1)
            pthread_join(thread, NULL);
    } else {
        return die("unknown action");
    }
    return die("the jail let the call through");
}
