/*
 * jail-host: a host program that links libwasmjail, instantiates a module,
 * jails itself with wj_jail_enter(), then does what argv[1] says:
 *   ok        inside the jail: a trap, a memory.grow, fcntl's flags, a
 *             thread started inside whose first wasm call traps, and a new
 *             engine validating a large module on its threads, which must
 *             work
 *   store-inside
 *             the same with the store and instance made inside the jail
 *   execve, socket, open, fork
 *             a plain C call the jail must deny
 *   sigio PID the F_SETOWN + F_SETSIG(SIGKILL) + O_ASYNC attack on process
 *             PID: its first fcntl must be denied (PID must survive)
 *   async     fcntl(F_SETFL, O_ASYNC), to be denied
 *   sigaction replaces the SIGSYS handler, to be denied
 *   statx     statx() of an absolute path, to be denied
 *   utimes-absolute DIR, utimes-dotdot DIR
 *             with DIR/rw preopened, utimensat(DIR/rw, "/abs/DIR/outside.txt")
 *             or (DIR/rw, "../outside.txt"), to be denied
 *   thread-before
 *             starts a thread, then must fail to enter the jail
 *   thread-exiting
 *             starts a thread that ends 20 ms later, while the main thread
 *             enters the jail (which waits for ending threads, as compile
 *             threads just joined are), which must work
 *   thread-after
 *             a thread started inside the jail cannot open a file outside
 *             the preopens (Landlock), then opens a socket, to be denied
 *   scope PID only Landlock's ruleset (no seccomp filter), then the sigio
 *             attack, whose calls succeed but whose signal must not reach
 *             PID (exit status 77 without Landlock signal scoping)
 *   paths DIR with a WASI context preopening DIR/rw and DIR/ro (read-only),
 *             opens paths relative to its own descriptors of them and
 *             prints one line per attempt: "NAME ok" or "NAME errno-name"
 *             (Landlock confines lookups to beneath the preopens)
 *   wasi-times DIR
 *             with DIR preopened as ".", WASI's path_filestat_set_times
 *             from wasm inside the jail: "NAME ERRNO" per call (WASI errno)
 * A denied call never returns: the jail ends the process with status 159
 * and a line naming the call (tests/jail/jail.sh checks both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <wasmjail.h>

#include "modules.h" /* bench/ */
#include "../unit/wat.h"
#include "jail/jail.h" /* jail_landlock alone, for scope */

static const char module_wat[] =
    "(module (memory (export \"memory\") 1)"
    "  (func (export \"trap\") unreachable)"
    "  (func (export \"grow\") (result i32)"
    "    (local $old i32)"
    "    (local.set $old (memory.grow (i32.const 1)))"
    "    (i32.store (i32.const 65536) (i32.const 7))"
    "    (i32.add (local.get $old) (i32.load (i32.const 65536)))))";

/* path_filestat_set_times(3 = the preopen ".", lookup flags, path, len,
 * atim, mtim, MTIM): the mtime of inside.txt (following symlinks), of
 * other.txt and of the symlink "link" (not following them). */
static const char wasi_times_wat[] =
    "(module"
    "  (import \"wasi_snapshot_preview1\" \"path_filestat_set_times\""
    "    (func $set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))"
    "  (memory (export \"memory\") 1)"
    "  (data (i32.const 16) \"inside.txt\")"
    "  (data (i32.const 32) \"other.txt\")"
    "  (data (i32.const 48) \"link\")"
    "  (func (export \"follow\") (result i32)"
    "    (call $set_times (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 10)"
    "      (i64.const 0) (i64.const 1111111111000000000) (i32.const 4)))"
    "  (func (export \"nofollow\") (result i32)"
    "    (call $set_times (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 9)"
    "      (i64.const 0) (i64.const 1222222222000000000) (i32.const 4)))"
    "  (func (export \"symlink\") (result i32)"
    "    (call $set_times (i32.const 3) (i32.const 0) (i32.const 48) (i32.const 4)"
    "      (i64.const 0) (i64.const 1333333333000000000) (i32.const 4))))";

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

static wj_module *compile(wj_engine *engine, const char *wat)
{
    const char *why = NULL;
    size_t len;
    uint8_t *bytes = wat_to_wasm_or_why(wat, &len, &why);
    if (!bytes) {
        die(why);
        return NULL;
    }
    wj_module *module;
    wj_error *err = wj_module_new(engine, bytes, len, &module);
    free(bytes);
    if (err) {
        die(wj_error_message(err));
        return NULL;
    }
    return module;
}

/* Enters the jail with `wasi`'s preopens (none when NULL), or exits. */
static void jail(wj_wasi *wasi)
{
    wj_error *err = wj_jail_enter(&wasi, wasi ? 1 : 0);
    if (err)
        exit(die(wj_error_message(err)));
}

/* The state of the threads. */
static int pipe_fds[2];
static int root_fd; /* "/", opened before the jail */

/* Waits until the main thread tried to jail the process. */
static void *wait_main(void *arg)
{
    (void)arg;
    char c;
    ssize_t unused = read(pipe_fds[0], &c, 1);
    (void)unused;
    return NULL;
}

/* Ends 20 ms after it started, while the main thread enters the jail. */
static void *exit_soon(void *arg)
{
    (void)arg;
    nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    return NULL;
}

/* Inside the jail: opens a file outside any preopen, then a socket. */
static void *escape(void *arg)
{
    (void)arg;
    int fd = openat(root_fd, "etc/passwd", O_RDONLY);
    if (fd >= 0 || errno != EACCES)
        exit(die("a thread started in the jail opened /etc/passwd"));
    socket(AF_INET, SOCK_STREAM, 0);
    return NULL;
}

/* A thread's first wasm call (its stack bounds are learnt then): NULL
 * when it traps as it should. */
static void *wasm_thread(void *instance)
{
    wj_trap *trap = NULL;
    if (wj_func_call(export_func(instance, "trap"), NULL, 0, NULL, 0, &trap) || !trap ||
        wj_trap_code_of(trap) != WJ_TRAP_UNREACHABLE)
        return "no unreachable trap on a thread started in the jail";
    wj_trap_delete(trap);
    return NULL;
}

/* Has process `pid` killed through SIGIO on a pipe: its owner is set to
 * the victim, its signal to SIGKILL, then a write signals the owner.
 * Returns whether all the calls succeeded. Uses the pipe made before the
 * jail (pipe2 is not allowed in it). */
static bool sigio_attack(pid_t pid)
{
    return fcntl(pipe_fds[0], F_SETOWN, pid) == 0 && fcntl(pipe_fds[0], F_SETSIG, SIGKILL) == 0 &&
           fcntl(pipe_fds[0], F_SETFL, O_ASYNC) == 0 && write(pipe_fds[1], "x", 1) == 1;
}

/* Inside the jail: what running wasm needs. */
static int ok(wj_instance *instance)
{
    wj_val result;
    wj_trap *trap = NULL;
    if (wj_func_call(export_func(instance, "trap"), NULL, 0, NULL, 0, &trap) || !trap ||
        wj_trap_code_of(trap) != WJ_TRAP_UNREACHABLE)
        return die("no unreachable trap inside the jail");
    wj_trap_delete(trap);
    trap = NULL;
    if (wj_func_call(export_func(instance, "grow"), NULL, 0, &result, 1, &trap) || trap)
        return die("memory.grow trapped inside the jail");
    if (result.of.i32 != 1 + 7)
        return die("memory.grow did not grow");
    int fl = fcntl(pipe_fds[0], F_GETFL);
    if (fl < 0 || fcntl(pipe_fds[0], F_SETFL, fl | O_NONBLOCK) != 0 ||
        fcntl(pipe_fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(pipe_fds[0], F_GETFD) != FD_CLOEXEC)
        return die("fcntl's flags failed inside the jail");
    pthread_t thread;
    void *failure;
    if (pthread_create(&thread, NULL, wasm_thread, instance) != 0 ||
        pthread_join(thread, &failure) != 0)
        return die("no thread inside the jail");
    if (failure)
        return die(failure);
    /* A new engine counts the CPUs for its compile threads, which then
     * validate a module large enough to need them. */
    wj_engine *engine = wj_engine_new(NULL);
    bench_module large = bench_module_build(BENCH_LARGE);
    if (!engine || !large.bytes)
        return die("out of memory");
    wj_error *err = wj_module_validate(engine, large.bytes, large.len);
    bench_module_free(&large);
    wj_engine_delete(engine);
    return err ? die(wj_error_message(err)) : 0;
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
    jail(wasi);
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

/* Jails with `wasi` (DIR/rw preopened) and sets the times of DIR's
 * outside.txt through DIR/rw's descriptor: `absolute` or with "..". */
static void utimes_outside(wj_wasi *wasi, const char *dir, bool absolute)
{
    char rw[4096], outside[4096];
    snprintf(rw, sizeof rw, "%s/rw", dir);
    snprintf(outside, sizeof outside, "%s/outside.txt", dir);
    int rw_fd = open(rw, O_PATH | O_DIRECTORY);
    if (rw_fd < 0 || outside[0] != '/')
        exit(die("cannot open DIR/rw, or DIR is not absolute"));
    jail(wasi);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1, 0}};
    utimensat(rw_fd, absolute ? outside : "../outside.txt", ts, 0);
}

/* Jails with `wasi` (DIR preopened as ".") and calls the exports of
 * wasi_times_wat. */
static int wasi_times(wj_engine *engine, wj_store *store, wj_wasi *wasi)
{
    wj_module *module = compile(engine, wasi_times_wat);
    if (!module)
        return 1;
    wj_extern import;
    if (!wj_wasi_import(wasi, module, 0, &import))
        return die("cannot link path_filestat_set_times");
    wj_instance *instance;
    wj_trap *trap = NULL;
    if (wj_instance_new(store, module, &import, 1, &instance, &trap) || trap)
        return die("cannot instantiate the WASI module");
    jail(wasi);
    static const char *const calls[] = {"follow", "nofollow", "symlink"};
    for (size_t i = 0; i < 3; i++) {
        wj_val result;
        if (wj_func_call(export_func(instance, calls[i]), NULL, 0, &result, 1, &trap) || trap)
            return die("path_filestat_set_times trapped");
        printf("%s %d\n", calls[i], (int)result.of.i32);
    }
    fflush(stdout);
    return 0;
}

/* A WASI context preopening `host` as `guest`, and a second one
 * read-only when `ro` is not NULL. */
static wj_wasi *wasi_with(wj_store *store, const char *host, const char *guest, const char *ro)
{
    wj_wasi_config *config = wj_wasi_config_new();
    wj_error *err = NULL;
    if (!config || (err = wj_wasi_config_preopen_dir(config, host, guest, false)) ||
        (ro && (err = wj_wasi_config_preopen_dir(config, ro, "ro", true))))
        exit(die(err ? wj_error_message(err) : "out of memory"));
    wj_wasi *wasi = wj_wasi_new(store, config);
    if (!wasi)
        exit(die("out of memory"));
    return wasi;
}

static bool is(const char *what, const char *action)
{
    return strcmp(what, action) == 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    bool with_arg = is(what, "paths") || is(what, "wasi-times") || is(what, "sigio") ||
                    is(what, "scope") || is(what, "utimes-absolute") || is(what, "utimes-dotdot");
    if (argc != (with_arg ? 3 : 2))
        return die("usage: jail-host ok|store-inside|execve|socket|open|fork|async|sigaction|statx|"
                   "thread-before|thread-exiting|thread-after | sigio|scope PID | "
                   "paths|wasi-times|utimes-absolute|utimes-dotdot DIR");
    wj_engine *engine = wj_engine_new(NULL);
    wj_module *module = compile(engine, module_wat);
    if (!module)
        return 1;
    if (pipe(pipe_fds) != 0 || (root_fd = open("/", O_PATH | O_DIRECTORY)) < 0)
        return die("cannot make a pipe or open /");
    if (is(what, "store-inside")) /* the first store of the thread */
        jail(NULL);
    wj_store *store = wj_store_new(engine);
    if (!store)
        return die("cannot make a store");
    wj_instance *instance;
    wj_trap *trap = NULL;
    if (wj_instance_new(store, module, NULL, 0, &instance, &trap) || trap)
        return die("cannot instantiate");

    if (with_arg && !is(what, "sigio") && !is(what, "scope")) {
        const char *dir = argv[2];
        char rw[4096], ro[4096];
        snprintf(rw, sizeof rw, "%s/rw", dir);
        snprintf(ro, sizeof ro, "%s/ro", dir);
        if (is(what, "paths"))
            return paths(wasi_with(store, rw, ".", ro), dir);
        if (is(what, "wasi-times"))
            return wasi_times(engine, store, wasi_with(store, dir, ".", NULL));
        utimes_outside(wasi_with(store, rw, ".", NULL), dir, is(what, "utimes-absolute"));
        return die("the jail let utimensat through");
    }
    if (is(what, "scope")) {
        if (jail_landlock_abi() < 6)
            return 77; /* no signal scoping in this kernel */
        wj_error *err = jail_landlock(NULL, 0);
        if (err)
            return die(wj_error_message(err));
        return sigio_attack(atoi(argv[2])) ? 0 : die("an fcntl or the write failed");
    }
    pthread_t thread;
    if (is(what, "thread-before")) {
        if (pthread_create(&thread, NULL, wait_main, NULL) != 0)
            return die("cannot start the thread");
        wj_error *err = wj_jail_enter(NULL, 0);
        if (write(pipe_fds[1], "x", 1) != 1 || pthread_join(thread, NULL) != 0)
            return die("cannot stop the thread");
        if (!err)
            return die("entered the jail with another thread running");
        return die(wj_error_message(err));
    }
    if (is(what, "thread-exiting")) {
        if (pthread_create(&thread, NULL, exit_soon, NULL) != 0 || pthread_detach(thread) != 0)
            return die("cannot start the thread");
        jail(NULL);
        puts("ok");
        return 0;
    }
    if (!is(what, "store-inside"))
        jail(NULL);

    if (is(what, "ok") || is(what, "store-inside")) {
        if (ok(instance) != 0)
            return 1;
        wj_store_delete(store);
        wj_module_delete(module);
        wj_engine_delete(engine);
        puts("ok");
        return 0;
    }
    if (is(what, "execve")) {
        char *args[] = {"/bin/true", NULL};
        execve(args[0], args, environ);
    } else if (is(what, "socket")) {
        socket(AF_INET, SOCK_STREAM, 0);
    } else if (is(what, "open")) {
        open("/etc/passwd", O_RDONLY);
    } else if (is(what, "fork")) {
        fork();
    } else if (is(what, "sigio")) {
        sigio_attack(atoi(argv[2]));
    } else if (is(what, "async")) {
        fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK | O_ASYNC);
    } else if (is(what, "sigaction")) {
        signal(SIGSYS, SIG_IGN);
    } else if (is(what, "statx")) {
        struct statx stx;
        statx(root_fd, "/etc/passwd", 0, STATX_BASIC_STATS, &stx);
    } else if (is(what, "thread-after")) {
        if (pthread_create(&thread, NULL, escape, NULL) == 0)
            pthread_join(thread, NULL);
    } else {
        return die("unknown action");
    }
    return die("the jail let the call through");
}
