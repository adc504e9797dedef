/*
 * wj_jail_enter: the jail around the whole process, for once everything is
 * compiled and opened. In order: the process must have one thread
 * (threads.c); Landlock confines path lookups to beneath the WASI
 * contexts' preopened directories and signals to the process itself
 * (landlock.c); the SIGSYS report is installed (report.c); and the
 * default-deny seccomp filter is loaded (filter.c).
 */
#include <stdlib.h>

#include "runtime/error.h" /* wj_error objects */
#include "runtime/tierup.h" /* no tier-2 code once jailed */
#include "runtime/stack.h" /* the stack bounds a store needs, learnt first */
#include "wasi/preopens.h"   /* the directories Landlock lets lookups reach */

#include "jail.h"

typedef struct dir_list {
    jail_dir *v;
    size_t n, cap;
} dir_list;

static bool add_dir(void *env, int fd, bool read_only)
{
    dir_list *l = env;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        jail_dir *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = (jail_dir){fd, read_only};
    return true;
}

static wj_error *confine(wj_wasi *const *wasi, size_t count)
{
    dir_list dirs = {0};
    for (size_t i = 0; i < count; i++)
        if (wasi[i] && !wasi_each_preopen(wasi[i], add_dir, &dirs)) {
            free(dirs.v);
            return rt_error_new(WJ_ERROR_RESOURCE, WJ_NO_OFFSET, "jail: out of memory");
        }
    wj_error *err = jail_landlock(dirs.v, dirs.n);
    free(dirs.v);
    return err;
}

wj_error *wj_jail_enter(wj_wasi *const *wasi, size_t count)
{
    /* The calling thread's stack bounds, which its first store needs and
     * which glibc reads from /proc for the main thread: not inside. */
    stack_learn_thread();
    wj_error *err = jail_check_one_thread();
    if (!err)
        err = confine(wasi, count);
    if (!err)
        err = jail_report_install();
    if (!err)
        err = jail_seccomp();
    if (!err)
        tier_up_forbid(); /* the filter refuses executable mappings */
    return err;
}
