/*
 * WASI preview 1: configuration, the context, and binding a module's
 * imports to host functions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/error.h" /* wj_error objects for configuration failures */

#include "preopens.h"
#include "wasi.h"

#define WASI_MODULE "wasi_snapshot_preview1"

/* --- configuration -------------------------------------------------------- */

wj_wasi_config *wj_wasi_config_new(void)
{
    wj_wasi_config *config = calloc(1, sizeof *config);
    if (config)
        config->stdio[0] = 0, config->stdio[1] = 1, config->stdio[2] = 2;
    return config;
}

static void strings_free(wasi_strings *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    *s = (wasi_strings){0};
}

static void config_free(wj_wasi_config *config)
{
    strings_free(&config->args);
    strings_free(&config->env);
    for (size_t i = 0; i < config->npreopens; i++) {
        close(config->preopens[i].host);
        free(config->preopens[i].guest);
    }
    free(config->preopens);
}

void wj_wasi_config_delete(wj_wasi_config *config)
{
    if (!config)
        return;
    config_free(config);
    free(config);
}

/* Takes `s` (malloc'ed); frees it on failure. */
static bool strings_push(wasi_strings *list, char *s)
{
    char **items = s ? realloc(list->items, (list->count + 1) * sizeof *items) : NULL;
    if (!items) {
        free(s);
        return false;
    }
    list->items = items;
    list->items[list->count++] = s;
    list->bytes += strlen(s) + 1;
    return true;
}

bool wj_wasi_config_push_arg(wj_wasi_config *config, const char *arg)
{
    return strings_push(&config->args, strdup(arg));
}

bool wj_wasi_config_push_env(wj_wasi_config *config, const char *name, const char *value)
{
    char *s;
    if (asprintf(&s, "%s=%s", name, value) < 0)
        return false;
    return strings_push(&config->env, s);
}

void wj_wasi_config_set_stdio(wj_wasi_config *config, int in, int out, int err)
{
    config->stdio[0] = in, config->stdio[1] = out, config->stdio[2] = err;
}

wj_error *wj_wasi_config_preopen_dir(wj_wasi_config *config, const char *host_path,
                                     const char *guest_path, bool read_only)
{
    /* O_PATH: the descriptor only anchors lookups, it reads nothing itself. */
    int fd = open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return rt_error_new(WJ_ERROR_IO, WJ_NO_OFFSET, "%s: %s", host_path, strerror(errno));
    struct wasi_preopen *p = realloc(config->preopens, (config->npreopens + 1) * sizeof *p);
    char *guest = strdup(guest_path);
    if (!p || !guest) {
        if (p)
            config->preopens = p;
        free(guest);
        close(fd);
        return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "out of memory");
    }
    config->preopens = p;
    p[config->npreopens++] = (struct wasi_preopen){fd, guest, read_only};
    return NULL;
}

/* --- the context ---------------------------------------------------------- */

static uint8_t filetype_of_fd(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? filetype_of_mode(st.st_mode) : WASI_FILETYPE_UNKNOWN;
}

static void wasi_free(void *env)
{
    wj_wasi *w = env;
    for (size_t i = 0; i < w->nfds; i++)
        fd_release(&w->fds[i]);
    free(w->fds);
    config_free(&w->config);
    free(w);
}

static wj_trap *proc_exit_callback(void *env, wj_caller *caller, const wj_val *args,
                                   wj_val *results);

wj_wasi *wj_wasi_new(wj_store *store, wj_wasi_config *config)
{
    wj_wasi *w = calloc(1, sizeof *w);
    size_t nfds = 3 + config->npreopens;
    wasi_fd *fds = calloc(nfds, sizeof *fds);
    if (!w || !fds) {
        free(w);
        free(fds);
        wj_wasi_config_delete(config);
        return NULL;
    }
    /* Stdio shares its open file descriptions with the host: flags set on
     * them (NONBLOCK, APPEND) would change the host's stdio, and outlive
     * the guest. */
    const uint64_t stdio_rights = WASI_RIGHTS_ALL & ~WASI_RIGHT_FD_FDSTAT_SET_FLAGS;
    for (int i = 0; i < 3; i++) {
        int host = config->stdio[i];
        fds[i] = (wasi_fd){
            .host = host,
            .filetype = host >= 0 ? filetype_of_fd(host) : WASI_FILETYPE_UNKNOWN,
            .rights = stdio_rights,
            .inheriting = stdio_rights,
            .root = -1,
        };
    }
    for (size_t i = 0; i < config->npreopens; i++) {
        struct wasi_preopen *p = &config->preopens[i];
        uint64_t rights = p->read_only ? WASI_RIGHTS_ALL & ~WASI_RIGHTS_WRITE : WASI_RIGHTS_ALL;
        fds[3 + i] = (wasi_fd){
            .host = p->host,
            .owned = true,
            .filetype = WASI_FILETYPE_DIRECTORY,
            .rights = rights,
            .inheriting = rights,
            .root = (int)i,
            .preopen_name = p->guest,
        };
    }
    /* The descriptors now belong to the fd table. */
    free(config->preopens);
    config->preopens = NULL;
    config->npreopens = 0;
    w->config = *config;
    free(config);
    w->fds = fds;
    w->nfds = nfds;
    w->store = store;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    w->monotonic_origin = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

    /* The store owns the context: it is the finalizer's env of proc_exit,
     * the one function made up front (every module that imports proc_exit
     * gets this one). */
    static const uint8_t i32[] = {WJ_I32};
    wj_functype type = {1, 0, i32, NULL};
    w->proc_exit = wj_func_new(store, &type, proc_exit_callback, w, wasi_free);
    if (!w->proc_exit) {
        wasi_free(w);
        return NULL;
    }
    return w;
}

/* --- calling WASI functions ----------------------------------------------- */

uint16_t guest_string(const wasi_call *c, uint64_t addr, uint64_t len, char **out)
{
    const char *p = guest_ptr(c, addr, len);
    if (!p)
        return WASI_EFAULT;
    if (memchr(p, 0, len))
        return WASI_EILSEQ;
    char *s = malloc(len + 1);
    if (!s)
        return WASI_ENOMEM;
    memcpy(s, p, len);
    s[len] = 0;
    *out = s;
    return WASI_ESUCCESS;
}

/* Finds the calling instance's memory; false when it exports none. */
static bool bind_memory(wj_wasi *w, wj_caller *caller, wasi_call *c)
{
    const wj_instance *instance = caller ? wj_caller_instance(caller) : NULL;
    if (instance != w->instance || !w->memory) {
        wj_extern e;
        w->instance = instance;
        w->memory = NULL;
        if (instance && wj_instance_export(instance, "memory", 6, &e) &&
            e.kind == WJ_EXTERN_MEMORY)
            w->memory = e.of.memory;
    }
    *c = (wasi_call){.wasi = w};
    if (!w->memory)
        return false;
    c->mem = wj_memory_data(w->memory);
    c->mem_size = wj_memory_data_size(w->memory);
    return true;
}

/* A host function's env: the context and the function. */
typedef struct wasi_binding {
    wj_wasi *wasi;
    const wasi_function *function;
    uint32_t nparams;
} wasi_binding;

static wj_trap *wasi_callback(void *env, wj_caller *caller, const wj_val *args,
                              wj_val *results)
{
    wasi_binding *b = env;
    wasi_call c;
    if (!bind_memory(b->wasi, caller, &c))
        return wj_trap_new("WASI: the calling module exports no memory named \"memory\"");
    uint64_t a[WASI_MAX_PARAMS];
    for (uint32_t i = 0; i < b->nparams; i++)
        a[i] = args[i].kind == WJ_I64 ? (uint64_t)args[i].of.i64 : (uint32_t)args[i].of.i32;
    results[0] = (wj_val){.kind = WJ_I32, .of.i32 = b->function->handler(&c, a)};
    return NULL;
}

static wj_trap *proc_exit_callback(void *env, wj_caller *caller, const wj_val *args,
                                   wj_val *results)
{
    (void)env, (void)caller, (void)results;
    return wj_trap_new_exit(args[0].of.i32);
}

/* Functions outside preview 1's file system that the host does not offer
 * (sockets, signals): they link, and fail with ENOSYS when called. */
static wj_trap *nosys_callback(void *env, wj_caller *caller, const wj_val *args,
                               wj_val *results)
{
    (void)env, (void)caller, (void)args;
    results[0] = (wj_val){.kind = WJ_I32, .of.i32 = WASI_ENOSYS};
    return NULL;
}

static const wasi_function *find_function(const char *name)
{
    static const wasi_function *const tables[] = {
        wasi_env_functions, wasi_fd_functions, wasi_path_functions};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const wasi_function *f = tables[t]; f->name; f++)
            if (f->name[0] == name[0] && strcmp(f->name, name) == 0) /* most differ at once */
                return f;
    return NULL;
}

bool wj_wasi_import(wj_wasi *wasi, const wj_module *module, size_t import, wj_extern *out)
{
    wj_store *store = wasi->store;
    wj_import_info info;
    if (!wj_module_import(module, import, &info) || info.kind != WJ_EXTERN_FUNC ||
        info.module_len != strlen(WASI_MODULE) || memcmp(info.module, WASI_MODULE, info.module_len))
        return false;
    if (strlen(info.name) != info.name_len)
        return false;
    wj_functype type;
    if (!wj_module_func_type(module, info.index, &type))
        return false;
    static const uint8_t i32[] = {WJ_I32}, i64[] = {WJ_I64};
    wj_func *func;
    if (strcmp(info.name, "proc_exit") == 0) {
        func = wasi->proc_exit;
    } else {
        const wasi_function *f = find_function(info.name);
        if (f) {
            /* The function's own type: a module expecting another one gets
             * the link error that names the import. */
            uint8_t params[WASI_MAX_PARAMS];
            size_t n = strlen(f->params);
            for (size_t i = 0; i < n; i++)
                params[i] = f->params[i] == 'I' ? i64[0] : i32[0];
            wasi_binding *b = malloc(sizeof *b);
            if (!b)
                return false;
            *b = (wasi_binding){wasi, f, (uint32_t)n};
            wj_functype t = {(uint32_t)n, 1, params, i32};
            func = wj_func_new(store, &t, wasi_callback, b, free);
            if (!func)
                free(b);
        } else if (type.result_count == 1 && type.results[0] == WJ_I32) {
            func = wj_func_new(store, &type, nosys_callback, NULL, NULL);
        } else {
            return false;
        }
    }
    if (!func)
        return false;
    *out = (wj_extern){.kind = WJ_EXTERN_FUNC, .of.func = func};
    return true;
}

bool wasi_each_preopen(const wj_wasi *wasi, bool (*visit)(void *env, int fd, bool read_only),
                       void *env)
{
    for (size_t i = 0; i < wasi->nfds; i++) {
        const wasi_fd *d = &wasi->fds[i];
        if (d->host >= 0 && d->preopen_name &&
            !visit(env, d->host, (d->rights & WASI_RIGHTS_WRITE) == 0))
            return false;
    }
    return true;
}
