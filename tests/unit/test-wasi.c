/* WASI preview 1 (src/wasi), linked against libwasmjail-internal.la.
 *
 * Part A calls the path sandbox (sandbox_open, sandbox_parent) directly on
 * a temporary tree holding symlinks that stay inside, climb out, point at
 * absolute paths, loop and dangle. Every test of part A is a loop test run
 * twice: index 0 with openat2(2) (RESOLVE_BENEATH), index 1 with the lookup
 * by hand (sandbox_without_openat2). A test that should have used openat2
 * checks that it did not quietly fall back to the walk: under valgrind,
 * which does not know openat2, both indexes run the walk (main says so).
 * Every test of part A also checks that it leaves no descriptor open.
 *
 * Part B goes through the public API only: small modules written in the
 * text format (wat.h) import wasi_snapshot_preview1 functions and export
 * "memory" and one forwarder per import, which the tests call from C with
 * guest addresses, reading the results out of wj_memory_data. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <wasmjail.h>

#include "unit.h"
#include "wasi/wasi.h"
#include "wat.h"

/* ==== helpers shared by both parts ================================================ */

/* Whether openat2 works here (not under valgrind 3.19, nor before Linux 5.6). */
static bool openat2_available;

static const char *wasi_name(unsigned e)
{
    switch (e) {
    case WASI_ESUCCESS: return "ESUCCESS";
    case WASI_EACCES: return "EACCES";
    case WASI_EBADF: return "EBADF";
    case WASI_EEXIST: return "EEXIST";
    case WASI_EFAULT: return "EFAULT";
    case WASI_EINVAL: return "EINVAL";
    case WASI_EIO: return "EIO";
    case WASI_EISDIR: return "EISDIR";
    case WASI_ELOOP: return "ELOOP";
    case WASI_ENAMETOOLONG: return "ENAMETOOLONG";
    case WASI_ENOENT: return "ENOENT";
    case WASI_ENOSYS: return "ENOSYS";
    case WASI_ENOTDIR: return "ENOTDIR";
    case WASI_EPERM: return "EPERM";
    case WASI_EXDEV: return "EXDEV";
    case WASI_ENOTCAPABLE: return "ENOTCAPABLE";
    default: return "?";
    }
}

/* printf into a new string; the caller frees it. */
__attribute__((format(printf, 1, 2))) static char *fmt(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *s = NULL;
    int n = vasprintf(&s, format, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    return s;
}

/* Open descriptors of this process. */
static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the DIR's own */
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ssize_t n = write(fd, text, strlen(text));
    ck_assert_int_eq(n, (ssize_t)strlen(text));
    close(fd);
}

/* The first bytes of a host file ("" when it is empty), in a static buffer. */
static const char *read_file(const char *path)
{
    static char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    ck_assert_int_ge(n, 0);
    buf[n] = 0;
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ==== part A: the sandbox, on a tree =============================================== */
/*
 *   base/                  (mkdtemp)
 *     outside.txt          "outside"
 *     root/                the "preopen": tree_dirfd (O_PATH | O_DIRECTORY)
 *       file               "root file"
 *       sub/
 *         file             "sub file"
 *         up      -> ..            stays inside: root
 *         upup    -> ../..         escapes: base
 *       abs-link    -> /etc
 *       out-link    -> ../outside.txt
 *       file-link   -> sub/file
 *       link-to-sub -> sub
 *       loop-a      -> loop-b,  loop-b -> loop-a
 *       dangling    -> ../created-outside  (does not exist)
 *       dangling-in -> sub/created-by-link (does not exist)
 */
static char tree_base[1024], tree_root[1100];
static int tree_dirfd = -1;

/* base/rel and root/rel, in rotating static buffers. */
static const char *in_base(const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", tree_base, rel);
    return b;
}

static const char *in_root(const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", tree_root, rel);
    return b;
}

static void tree_symlink(const char *target, const char *rel)
{
    ck_assert_msg(symlink(target, in_root(rel)) == 0, "symlink %s: %s", rel, strerror(errno));
}

static void tree_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tree_base, sizeof tree_base, "%s/wj-test-wasi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(tree_base) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(tree_root, sizeof tree_root, "%s/root", tree_base);
    ck_assert_int_eq(mkdir(tree_root, 0755), 0);
    ck_assert_int_eq(mkdir(in_root("sub"), 0755), 0);
    write_file(in_base("outside.txt"), "outside");
    write_file(in_root("file"), "root file");
    write_file(in_root("sub/file"), "sub file");
    tree_symlink("..", "sub/up");
    tree_symlink("../..", "sub/upup");
    tree_symlink("/etc", "abs-link");
    tree_symlink("../outside.txt", "out-link");
    tree_symlink("sub/file", "file-link");
    tree_symlink("sub", "link-to-sub");
    tree_symlink("loop-b", "loop-a");
    tree_symlink("loop-a", "loop-b");
    tree_symlink("../created-outside", "dangling");
    tree_symlink("sub/created-by-link", "dangling-in");
    tree_dirfd = open(tree_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(tree_dirfd, 0);
}

static void tree_teardown(void)
{
    if (tree_dirfd >= 0)
        close(tree_dirfd);
    tree_dirfd = -1;
    rm_rf(tree_base);
}

static const char *const mode_names[] = {"openat2", "walk"};

/* The start and end of every part A test: `mode` is the loop index. */
#define SANDBOX_BEGIN                                                                       \
    const int mode = _i;                                                                    \
    sandbox_without_openat2 = mode == 1;                                                    \
    const int fds_before = fd_count()

#define SANDBOX_END                                                                         \
    do {                                                                                    \
        ck_assert_msg(fd_count() == fds_before, "[%s] descriptors leaked: %d before, %d after", \
                      mode_names[mode], fds_before, fd_count());                            \
        if (mode == 0 && openat2_available)                                                 \
            ck_assert_msg(!sandbox_without_openat2,                                         \
                          "[openat2] sandbox_open fell back to the walk");                  \
    } while (0)

/* sandbox_open succeeds and reaches what the host path `host` names
 * (lstat'ed when `link_itself`). */
static void open_ok_(int mode, int line, const char *path, int flags, bool follow,
                     const char *host, bool link_itself)
{
    uint16_t err = 0xffff;
    int fd = sandbox_open(tree_dirfd, path, flags, 0, follow, &err);
    ck_assert_msg(fd >= 0, "line %d [%s]: \"%s\" failed: WASI %u %s", line, mode_names[mode],
                  path, err, wasi_name(err));
    struct stat got, want;
    int rc = fstat(fd, &got);
    close(fd);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq((link_itself ? lstat : stat)(host, &want), 0);
    ck_assert_msg(got.st_ino == want.st_ino && got.st_dev == want.st_dev &&
                      (got.st_mode & S_IFMT) == (want.st_mode & S_IFMT),
                  "line %d [%s]: \"%s\" opened inode %llu (mode %o), not %s (inode %llu)", line,
                  mode_names[mode], path, (unsigned long long)got.st_ino, got.st_mode, host,
                  (unsigned long long)want.st_ino);
}
#define OPEN_OK(path, flags, follow, host) open_ok_(mode, __LINE__, path, flags, follow, host, false)

/* sandbox_open fails with WASI errno `want`. */
static void open_fails_(int mode, int line, const char *path, int flags, unsigned perm,
                        bool follow, uint16_t want)
{
    uint16_t err = 0xffff;
    int fd = sandbox_open(tree_dirfd, path, flags, perm, follow, &err);
    if (fd >= 0) {
        char where[PATH_MAX] = "?", proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, where, sizeof where - 1);
        where[n > 0 ? n : 1] = 0;
        close(fd);
        ck_abort_msg("line %d [%s]: \"%s\" (flags %#o, follow %d) opened %s, expected WASI %u %s",
                     line, mode_names[mode], path, (unsigned)flags, follow, where, want,
                     wasi_name(want));
    }
    ck_assert_msg(err == want, "line %d [%s]: \"%s\" (flags %#o, follow %d) failed with WASI %u %s, expected %u %s",
                  line, mode_names[mode], path, (unsigned)flags, follow, err, wasi_name(err), want,
                  wasi_name(want));
}
#define OPEN_FAILS(path, flags, follow, want) open_fails_(mode, __LINE__, path, flags, 0, follow, want)
#define CREATE_FAILS(path, flags, follow, want) \
    open_fails_(mode, __LINE__, path, flags, 0644, follow, want)

/* Ordinary lookups reach the right inode. */
START_TEST(sandbox_lookups_inside)
{
    SANDBOX_BEGIN;
    static const int flag_sets[] = {O_RDONLY, O_PATH};
    for (size_t k = 0; k < 2; k++) {
        int fl = flag_sets[k];
        OPEN_OK("file", fl, true, in_root("file"));
        OPEN_OK("sub/file", fl, true, in_root("sub/file"));
        OPEN_OK("./sub/../file", fl, true, in_root("file"));
        OPEN_OK("sub/", fl, true, in_root("sub"));
        OPEN_OK("sub//file", fl, true, in_root("sub/file"));
        OPEN_OK("link-to-sub/file", fl, true, in_root("sub/file"));
        OPEN_OK("link-to-sub/../file", fl, true, in_root("file"));
        OPEN_OK("sub/up/file", fl, true, in_root("file"));
        OPEN_OK("sub/up/sub/up/sub/file", fl, true, in_root("sub/file"));
        OPEN_OK("sub/up", fl, true, tree_root);
        OPEN_OK("file-link", fl, true, in_root("sub/file"));
        OPEN_OK(".", fl, true, tree_root);
        OPEN_OK("sub/..", fl, true, tree_root);
        OPEN_OK("link-to-sub/", fl, false, in_root("sub")); /* "/": followed anyway */
        /* Intermediate symlinks are followed whatever `follow` says. */
        OPEN_OK("link-to-sub/file", fl, false, in_root("sub/file"));
        OPEN_OK("sub/up/file", fl, false, in_root("file"));
    }
    OPEN_OK("sub", O_RDONLY | O_DIRECTORY, true, in_root("sub"));
    SANDBOX_END;
}
END_TEST

/* Every way out is refused with ENOTCAPABLE, and nothing outside is touched. */
START_TEST(sandbox_escapes_refused)
{
    SANDBOX_BEGIN;
    static const char *const escapes[] = {
        "..", "../outside.txt", "/etc/passwd", "/", "sub/../../outside.txt", "sub/../..",
        "abs-link/passwd", "abs-link/", "abs-link/.", "out-link", "sub/upup/outside.txt",
        "sub/upup", "sub/upup/", "sub/up/..", "sub/up/../outside.txt",
        "link-to-sub/../../outside.txt", "abs-link",
    };
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
        OPEN_FAILS(escapes[i], O_RDONLY, true, WASI_ENOTCAPABLE);
        OPEN_FAILS(escapes[i], O_PATH, true, WASI_ENOTCAPABLE);
    }
    /* Without following the last component: the escape is in an earlier
     * one, or the trailing slash makes the last one followed. */
    static const char *const inner[] = {
        "..", "../outside.txt", "/etc/passwd", "sub/../../outside.txt", "abs-link/passwd",
        "abs-link/", "abs-link/.", "sub/upup/outside.txt", "sub/upup/", "sub/up/..",
    };
    for (size_t i = 0; i < sizeof inner / sizeof *inner; i++)
        OPEN_FAILS(inner[i], O_PATH, false, WASI_ENOTCAPABLE);
    /* Writing through a link that leads out neither truncates nor creates. */
    OPEN_FAILS("out-link", O_WRONLY | O_TRUNC, true, WASI_ENOTCAPABLE);
    CREATE_FAILS("out-link", O_WRONLY | O_CREAT | O_TRUNC, true, WASI_ENOTCAPABLE);
    ck_assert_str_eq(read_file(in_base("outside.txt")), "outside");
    OPEN_FAILS("", O_RDONLY, true, WASI_ENOENT);
    OPEN_FAILS("", O_PATH, false, WASI_ENOENT);
    OPEN_FAILS("missing", O_RDONLY, true, WASI_ENOENT);
    OPEN_FAILS("file/", O_RDONLY, true, WASI_ENOTDIR);
    OPEN_FAILS("file/x", O_RDONLY, true, WASI_ENOTDIR);
    SANDBOX_END;
}
END_TEST

/* follow = false: a final symlink is the link itself with O_PATH, ELOOP
 * otherwise. */
START_TEST(sandbox_nofollow)
{
    SANDBOX_BEGIN;
    static const char *const links[] = {"file-link", "link-to-sub", "out-link", "abs-link",
                                        "dangling", "sub/upup", "loop-a"};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        open_ok_(mode, __LINE__, links[i], O_PATH, false, in_root(links[i]), true);
        uint16_t err = 0xffff;
        int fd = sandbox_open(tree_dirfd, links[i], O_PATH, 0, false, &err);
        ck_assert_int_ge(fd, 0);
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        close(fd);
        ck_assert_msg(S_ISLNK(st.st_mode), "[%s] %s: not a symlink", mode_names[mode], links[i]);
        OPEN_FAILS(links[i], O_RDONLY, false, WASI_ELOOP);
    }
    SANDBOX_END;
}
END_TEST

/* Symlink loops, and creating through dangling links. */
START_TEST(sandbox_loops_and_dangling)
{
    SANDBOX_BEGIN;
    OPEN_FAILS("loop-a", O_RDONLY, true, WASI_ELOOP);
    OPEN_FAILS("loop-a", O_PATH, true, WASI_ELOOP);
    OPEN_FAILS("loop-b/x", O_RDONLY, true, WASI_ELOOP);
    OPEN_FAILS("loop-a/", O_PATH, false, WASI_ELOOP);

    /* dangling -> ../created-outside: following it to create escapes. */
    CREATE_FAILS("dangling", O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE);
    CREATE_FAILS("dangling", O_WRONLY | O_CREAT | O_TRUNC, true, WASI_ENOTCAPABLE);
    ck_assert_msg(!exists(in_base("created-outside")), "[%s] created outside the root",
                  mode_names[mode]);
    /* Not following: O_CREAT on an existing symlink with O_NOFOLLOW. */
    CREATE_FAILS("dangling", O_WRONLY | O_CREAT, false, WASI_ELOOP);
    /* O_CREAT | O_EXCL: fails, creates nothing (which errno: see
     * sandbox_excl_through_dangling_link and sandbox_modes_agree). */
    uint16_t err = 0xffff;
    int fd = sandbox_open(tree_dirfd, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0644, true, &err);
    if (fd >= 0)
        close(fd);
    ck_assert_msg(fd < 0, "[%s] O_CREAT|O_EXCL through dangling succeeded", mode_names[mode]);
    ck_assert_msg(!exists(in_base("created-outside")), "[%s] created outside the root",
                  mode_names[mode]);
    SANDBOX_END;
}
END_TEST

/* O_CREAT | O_EXCL through a dangling symlink that points inside: EEXIST,
 * and the link's target is not created (as open(2) does, and openat2). */
START_TEST(sandbox_excl_through_dangling_link)
{
    SANDBOX_BEGIN;
    unlink(in_root("sub/created-by-link"));
    uint16_t err = 0xffff;
    int fd = sandbox_open(tree_dirfd, "dangling-in", O_WRONLY | O_CREAT | O_EXCL, 0644, true,
                          &err);
    bool created = exists(in_root("sub/created-by-link"));
    if (fd >= 0)
        close(fd);
    unlink(in_root("sub/created-by-link"));
    ck_assert_msg(fd < 0 && err == WASI_EEXIST && !created,
                  "[%s] O_CREAT|O_EXCL on dangling-in -> sub/created-by-link: %s (WASI %u %s), "
                  "target %s; expected EEXIST and no file",
                  mode_names[mode], fd >= 0 ? "opened" : "failed", fd >= 0 ? 0 : err,
                  fd >= 0 ? "" : wasi_name(err), created ? "created" : "not created");
    SANDBOX_END;
}
END_TEST

/* Creating inside works; creating through ".." creates nothing. */
START_TEST(sandbox_create)
{
    SANDBOX_BEGIN;
    char name[32], sub_name[48], up_name[48], host_name[32];
    snprintf(name, sizeof name, "new-%d", mode);
    snprintf(sub_name, sizeof sub_name, "sub/new-%d", mode);
    snprintf(host_name, sizeof host_name, "x-%d", mode);
    uint16_t err = 0xffff;
    int fd = sandbox_open(tree_dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644, true, &err);
    ck_assert_msg(fd >= 0, "[%s] create %s: WASI %u %s", mode_names[mode], name, err,
                  wasi_name(err));
    struct stat got, want;
    ck_assert_int_eq(fstat(fd, &got), 0);
    close(fd);
    ck_assert_int_eq(stat(in_root(name), &want), 0);
    ck_assert(S_ISREG(want.st_mode) && got.st_ino == want.st_ino);
    CREATE_FAILS(name, O_WRONLY | O_CREAT | O_EXCL, true, WASI_EEXIST);
    fd = sandbox_open(tree_dirfd, sub_name, O_WRONLY | O_CREAT | O_EXCL, 0644, false, &err);
    ck_assert_msg(fd >= 0, "[%s] create %s: WASI %u %s", mode_names[mode], sub_name, err,
                  wasi_name(err));
    close(fd);
    ck_assert(exists(in_root(sub_name)));
    unlink(in_root(name));
    unlink(in_root(sub_name));

    snprintf(up_name, sizeof up_name, "../%s", host_name);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT | O_EXCL, true, WASI_ENOTCAPABLE);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT, false, WASI_ENOTCAPABLE);
    snprintf(up_name, sizeof up_name, "sub/../../%s", host_name);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE);
    snprintf(up_name, sizeof up_name, "sub/upup/%s", host_name);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE);
    snprintf(up_name, sizeof up_name, "abs-link/%s", host_name);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE);
    ck_assert_msg(!exists(in_base(host_name)), "[%s] %s created beside the root",
                  mode_names[mode], host_name);
    /* A name with a trailing slash is a directory: open(2) gives EISDIR. */
    snprintf(up_name, sizeof up_name, "dir-%d/", mode);
    CREATE_FAILS(up_name, O_WRONLY | O_CREAT, true, WASI_EISDIR);
    up_name[strlen(up_name) - 1] = 0;
    ck_assert(!exists(in_root(up_name)));
    SANDBOX_END;
}
END_TEST

/* sandbox_parent: the directory and the last component. */
static void parent_ok_(int mode, int line, const char *path, const char *host_dir,
                       const char *want_last, bool want_slash)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const char *last = NULL;
    bool slash = !want_slash;
    uint16_t err = 0xffff;
    int fd = sandbox_parent(tree_dirfd, buf, &last, &slash, &err);
    ck_assert_msg(fd >= 0, "line %d [%s]: parent of \"%s\" failed: WASI %u %s", line,
                  mode_names[mode], path, err, wasi_name(err));
    struct stat got, want;
    int rc = fstat(fd, &got);
    close(fd);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(stat(host_dir, &want), 0);
    ck_assert_msg(got.st_ino == want.st_ino && got.st_dev == want.st_dev,
                  "line %d [%s]: parent of \"%s\" is not %s", line, mode_names[mode], path,
                  host_dir);
    ck_assert_msg(last && strcmp(last, want_last) == 0,
                  "line %d [%s]: last of \"%s\" is \"%s\", not \"%s\"", line, mode_names[mode],
                  path, last ? last : "(null)", want_last);
    ck_assert_msg(slash == want_slash, "line %d [%s]: trailing slash of \"%s\" is %d", line,
                  mode_names[mode], path, slash);
}
#define PARENT_OK(path, dir, last, slash) parent_ok_(mode, __LINE__, path, dir, last, slash)

static void parent_fails_(int mode, int line, const char *path, uint16_t want)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const char *last = NULL;
    bool slash = false;
    uint16_t err = 0xffff;
    int fd = sandbox_parent(tree_dirfd, buf, &last, &slash, &err);
    if (fd >= 0)
        close(fd);
    ck_assert_msg(fd < 0 && err == want,
                  "line %d [%s]: parent of \"%s\": %s WASI %u %s, expected %u %s", line,
                  mode_names[mode], path, fd >= 0 ? "succeeded," : "failed with", err,
                  wasi_name(err), want, wasi_name(want));
}
#define PARENT_FAILS(path, want) parent_fails_(mode, __LINE__, path, want)

START_TEST(sandbox_parent_lookups)
{
    SANDBOX_BEGIN;
    PARENT_OK("sub/file", in_root("sub"), "file", false);
    PARENT_OK("file", tree_root, "file", false);
    PARENT_OK("sub/", tree_root, "sub", true);
    PARENT_OK("sub//", tree_root, "sub", true);
    PARENT_OK("missing", tree_root, "missing", false);
    PARENT_OK("new-dir/", tree_root, "new-dir", true);
    PARENT_OK("link-to-sub/file", in_root("sub"), "file", false);
    PARENT_OK("sub/up/file", tree_root, "file", false);
    PARENT_OK("sub/../sub/file", in_root("sub"), "file", false);
    /* The last component is not followed: the parent of a link is its
     * directory, whatever the link says. */
    PARENT_OK("out-link", tree_root, "out-link", false);
    PARENT_OK("sub/upup", in_root("sub"), "upup", false);

    PARENT_FAILS("file/", WASI_ENOTDIR);
    PARENT_FAILS("sub/file/", WASI_ENOTDIR);
    PARENT_FAILS(".", WASI_EINVAL);
    PARENT_FAILS("..", WASI_EINVAL);
    PARENT_FAILS("sub/..", WASI_EINVAL);
    PARENT_FAILS("sub/.", WASI_EINVAL);
    PARENT_FAILS("../", WASI_EINVAL);
    PARENT_FAILS("../x", WASI_ENOTCAPABLE);
    PARENT_FAILS("../../x", WASI_ENOTCAPABLE);
    PARENT_FAILS("/x", WASI_ENOTCAPABLE);
    PARENT_FAILS("abs-link/x", WASI_ENOTCAPABLE);
    PARENT_FAILS("sub/upup/x", WASI_ENOTCAPABLE);
    PARENT_FAILS("sub/up/../x", WASI_ENOTCAPABLE);
    PARENT_FAILS("missing/x", WASI_ENOENT);
    PARENT_FAILS("file/x", WASI_ENOTDIR);
    PARENT_FAILS("loop-a/x", WASI_ELOOP);
    PARENT_FAILS("", WASI_ENOENT);
    SANDBOX_END;
}
END_TEST

/* The two lookups side by side on more cases: the same result (the same
 * inode, or the same errno) for each. Not a loop test: each case runs in
 * both modes here. */
typedef struct outcome {
    int fd_ok;
    uint16_t err;
    unsigned type;
    ino_t ino;
} outcome;

static outcome run_case(int mode, const char *path, int flags, bool follow, const char *cleanup)
{
    sandbox_without_openat2 = mode == 1;
    uint16_t err = 0;
    int fd = sandbox_open(tree_dirfd, path, flags, 0644, follow, &err);
    outcome o = {fd >= 0, fd >= 0 ? 0 : err, 0, 0};
    if (fd >= 0) {
        struct stat st;
        fstat(fd, &st);
        o.type = st.st_mode & S_IFMT;
        o.ino = cleanup ? 0 : st.st_ino; /* something created: a new inode each time */
        close(fd);
    }
    if (cleanup) {
        unlink(in_root(cleanup));
        rmdir(in_root(cleanup));
    }
    return o;
}

START_TEST(sandbox_modes_agree)
{
    const int fds_before = fd_count();
    static const struct {
        const char *path;
        int flags;
        bool follow;
        const char *cleanup; /* what the case may create, relative to root */
    } cases[] = {
        {"file", O_RDONLY, true, NULL},
        {"file", O_RDWR, false, NULL},
        {"file/.", O_PATH, true, NULL},
        {"file/..", O_PATH, true, NULL},
        {"sub", O_WRONLY, true, NULL},
        {"sub/", O_RDONLY | O_DIRECTORY, false, NULL},
        {"file", O_RDONLY | O_DIRECTORY, true, NULL},
        {"file-link", O_PATH | O_DIRECTORY, true, NULL},
        {"file-link/", O_PATH, true, NULL},
        {"link-to-sub", O_RDONLY | O_DIRECTORY, false, NULL},
        {"link-to-sub/.", O_PATH, false, NULL},
        {"sub/up/.", O_PATH, true, NULL},
        {"sub/up/./", O_PATH, true, NULL},
        {"./././file", O_PATH, true, NULL},
        {"dangling", O_PATH, true, NULL},
        {"dangling-in", O_RDONLY, true, NULL},
        {"loop-a", O_PATH, false, NULL},
        {"loop-a/", O_PATH, true, NULL},
        {"missing/", O_PATH, true, NULL},
        {"missing/x", O_WRONLY | O_CREAT, true, NULL},
        {".", O_WRONLY | O_CREAT, true, NULL},
        {"sub/..", O_RDONLY | O_CREAT | O_EXCL, true, NULL},
        {"file", O_WRONLY | O_CREAT | O_EXCL, true, NULL},
        {"file-link", O_WRONLY | O_CREAT | O_EXCL, true, NULL},
        {"file-link", O_WRONLY | O_CREAT | O_EXCL, false, NULL},
        {"dangling", O_WRONLY | O_CREAT | O_EXCL, true, NULL},
        {"dangling-in", O_WRONLY | O_CREAT, true, "sub/created-by-link"},
        {"dangling-in", O_WRONLY | O_CREAT, false, "sub/created-by-link"},
        {"dangling-in", O_WRONLY | O_CREAT | O_EXCL, true, "sub/created-by-link"},
        {"dangling-in", O_WRONLY | O_CREAT | O_EXCL, false, "sub/created-by-link"},
        {"agree-new/", O_WRONLY | O_CREAT, true, "agree-new"},
        {"agree-new/", O_RDONLY | O_CREAT | O_DIRECTORY, true, "agree-new"},
        {"agree-new", O_RDONLY | O_CREAT | O_DIRECTORY, true, "agree-new"},
        {"sub/agree-new", O_WRONLY | O_CREAT | O_EXCL, false, "sub/agree-new"},
        {"link-to-sub/up/..", O_PATH, true, NULL},
        {"sub/up/sub/upup", O_PATH, true, NULL},
        {"sub/up/sub/upup", O_PATH, false, NULL},
        {"file-link/..", O_PATH, true, NULL},
        {"sub/./up/./file", O_RDONLY, true, NULL},
        {"sub/up/", O_PATH, false, NULL},
    };
    char *report = strdup("");
    int disagreements = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        outcome o[2];
        for (int mode = 0; mode < 2; mode++)
            o[mode] = run_case(mode, cases[i].path, cases[i].flags, cases[i].follow,
                               cases[i].cleanup);
        if (o[0].fd_ok != o[1].fd_ok || o[0].err != o[1].err || o[0].type != o[1].type ||
            o[0].ino != o[1].ino) {
            char *line = fmt("%s\n  \"%s\" flags %#o follow %d: openat2 %s %u %s, walk %s %u %s",
                             report, cases[i].path, (unsigned)cases[i].flags, cases[i].follow,
                             o[0].fd_ok ? "opened type" : "WASI", o[0].fd_ok ? o[0].type : o[0].err,
                             o[0].fd_ok ? "" : wasi_name(o[0].err), o[1].fd_ok ? "opened type" : "WASI",
                             o[1].fd_ok ? o[1].type : o[1].err, o[1].fd_ok ? "" : wasi_name(o[1].err));
            free(report);
            report = line;
            disagreements++;
        }
    }
    sandbox_without_openat2 = false;
    if (disagreements) {
        /* Check copies the message; freeing first keeps no-fork runs leak-free. */
        char msg[4096];
        snprintf(msg, sizeof msg, "%s", report);
        free(report);
        ck_abort_msg("%d case(s) where the two lookups disagree:%s", disagreements, msg);
    }
    free(report);
    ck_assert_int_eq(fd_count(), fds_before);
    if (!openat2_available)
        fprintf(stderr, "test-wasi: openat2 unavailable: sandbox_modes_agree compared the walk with itself\n");
}
END_TEST

/* ==== part B: through the public API ================================================ */

#define MEM 65536u /* one page */

/* A temporary directory for part B (a tcase's unchecked fixture). */
static char scratch[1024];

static void scratch_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/wj-test-wasi-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(scratch) != NULL, "mkdtemp: %s", strerror(errno));
    /* Whatever part A left (a failed test under CK_FORK=no). */
    sandbox_without_openat2 = false;
}

static void scratch_teardown(void)
{
    rm_rf(scratch);
}

/* scratch/rel in rotating static buffers. */
static const char *in_scratch(const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", scratch, rel);
    return b;
}

/* A new directory scratch/name (removed first if a previous run left it). */
static const char *scratch_dir(const char *name)
{
    const char *p = in_scratch(name);
    rm_rf(p);
    ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
    return p;
}

/* The WASI functions the standard module imports, with the types of the
 * witx definitions (written out here, not taken from src/wasi, so that a
 * wrong type there is a link error here). 'i' i32, 'I' i64. */
static const struct {
    const char *name;
    const char *params;
} imported[] = {
    {"args_get", "ii"},
    {"args_sizes_get", "ii"},
    {"environ_get", "ii"},
    {"environ_sizes_get", "ii"},
    {"clock_time_get", "iIi"},
    {"poll_oneoff", "iiii"},
    {"random_get", "ii"},
    {"fd_close", "i"},
    {"fd_fdstat_get", "ii"},
    {"fd_fdstat_set_flags", "ii"},
    {"fd_read", "iiii"},
    {"fd_write", "iiii"},
    {"fd_prestat_get", "ii"},
    {"fd_prestat_dir_name", "iii"},
    {"fd_readdir", "iiiIi"},
    {"path_open", "iiiiiIIii"},
    {"path_create_directory", "iii"},
    {"path_unlink_file", "iii"},
    {"path_rename", "iiiiii"},
    {"path_link", "iiiiiii"},
    {"path_symlink", "iiiii"},
    {"path_filestat_set_times", "iiiiIIi"},
};

static void wat_params(FILE *f, const char *params)
{
    if (!*params)
        return;
    fputs(" (param", f);
    for (const char *p = params; *p; p++)
        fputs(*p == 'I' ? " i64" : " i32", f);
    fputc(')', f);
}

/* The standard module: each function of `imported` and an export of the
 * same name forwarding to it; "exit9" calls proc_exit(9); "memory" is one
 * page. */
static char *standard_wat(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(f);
    fputs("(module\n", f);
    fputs("  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $proc_exit (param i32)))\n", f);
    size_t n = sizeof imported / sizeof *imported;
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  (import \"wasi_snapshot_preview1\" \"%s\" (func $%s", imported[i].name,
                imported[i].name);
        wat_params(f, imported[i].params);
        fputs(" (result i32)))\n", f);
    }
    fputs("  (memory (export \"memory\") 1)\n", f);
    fputs("  (func (export \"exit9\") (call $proc_exit (i32.const 9)) unreachable)\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  (func (export \"%s\")", imported[i].name);
        wat_params(f, imported[i].params);
        fprintf(f, " (result i32) (call $%s", imported[i].name);
        for (size_t k = 0; k < strlen(imported[i].params); k++)
            fprintf(f, " (local.get %zu)", k);
        fputs("))\n", f);
    }
    fputs(")\n", f);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

typedef struct wfx {
    wj_engine *engine;
    wj_store *store;
    wj_module *module;
    wj_instance *instance;
    wj_memory *memory;
    wj_wasi *wasi;
} wfx;

#define ck_assert_no_wj_error(e) \
    ck_assert_msg((e) == NULL, "unexpected error: %s", (e) ? wj_error_message(e) : "")

/* Engine, store and WASI context (consuming `config`); the module
 * compiled from `wat` (NULL: the standard module) but not instantiated. */
static void wfx_compile(wfx *fx, wj_wasi_config *config, const char *wat)
{
    memset(fx, 0, sizeof *fx);
    fx->engine = wj_engine_new(NULL);
    ck_assert_ptr_nonnull(fx->engine);
    fx->store = wj_store_new(fx->engine);
    ck_assert_ptr_nonnull(fx->store);
    fx->wasi = wj_wasi_new(fx->store, config);
    ck_assert_ptr_nonnull(fx->wasi);
    char *own = wat ? NULL : standard_wat();
    size_t len;
    uint8_t *bytes = wat_to_wasm(wat ? wat : own, &len);
    free(own);
    wj_error *err = wj_module_new(fx->engine, bytes, len, &fx->module);
    free(bytes);
    ck_assert_no_wj_error(err);
}

/* Instantiates with every import from WASI. */
static void wfx_instantiate(wfx *fx)
{
    size_t n = wj_module_import_count(fx->module);
    wj_extern imports[32];
    ck_assert_uint_le(n, 32);
    for (size_t i = 0; i < n; i++) {
        wj_import_info info;
        ck_assert(wj_module_import(fx->module, i, &info));
        ck_assert_msg(wj_wasi_import(fx->wasi, fx->module, i, &imports[i]),
                      "WASI does not provide %s", info.name);
    }
    wj_trap *trap = NULL;
    wj_error *err = wj_instance_new(fx->store, fx->module, imports, n, &fx->instance, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_ptr_null(trap);
    wj_extern mem;
    ck_assert(wj_instance_export(fx->instance, "memory", 6, &mem));
    ck_assert_int_eq(mem.kind, WJ_EXTERN_MEMORY);
    fx->memory = mem.of.memory;
    ck_assert_uint_eq(wj_memory_data_size(fx->memory), MEM);
}

static void wfx_begin(wfx *fx, wj_wasi_config *config)
{
    wfx_compile(fx, config, NULL);
    wfx_instantiate(fx);
}

static void wfx_end(wfx *fx)
{
    wj_store_delete(fx->store); /* and the WASI context, its descriptors */
    wj_module_delete(fx->module);
    wj_engine_delete(fx->engine);
    memset(fx, 0, sizeof *fx);
}

static wj_func *wfx_func(wfx *fx, const char *name)
{
    wj_extern e;
    ck_assert_msg(wj_instance_export(fx->instance, name, strlen(name), &e) &&
                      e.kind == WJ_EXTERN_FUNC,
                  "no exported function %s", name);
    return e.of.func;
}

/* Calls export `name` with `args` (i32 or i64 as its type says); returns
 * its i32 result, the WASI errno. */
static int32_t wcall_(wfx *fx, const char *name, size_t n, const uint64_t *args)
{
    wj_func *func = wfx_func(fx, name);
    wj_functype type;
    wj_func_type(func, &type);
    ck_assert_uint_eq(type.param_count, n);
    ck_assert_uint_eq(type.result_count, 1);
    wj_val vals[16], result[1];
    for (size_t i = 0; i < n; i++)
        vals[i] = type.params[i] == WJ_I64
                      ? (wj_val){.kind = WJ_I64, .of.i64 = (int64_t)args[i]}
                      : (wj_val){.kind = WJ_I32, .of.i32 = (int32_t)(uint32_t)args[i]};
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(func, vals, n, result, 1, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_msg(trap == NULL, "%s trapped: %s", name, trap ? wj_trap_message(trap) : "");
    ck_assert_int_eq(result[0].kind, WJ_I32);
    return result[0].of.i32;
}
#define ARGS(...) (sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)), ((const uint64_t[]){__VA_ARGS__})
#define W(fx, name, ...) wcall_((fx), (name), ARGS(__VA_ARGS__))
/* A call that must return errno `want`. */
#define W_EQ(want, fx, name, ...)                                                           \
    do {                                                                                    \
        int32_t got_ = W(fx, name, __VA_ARGS__);                                            \
        ck_assert_msg(got_ == (want), "line %d: %s(" #__VA_ARGS__ ") returned %d %s, expected %d %s", \
                      __LINE__, name, got_, wasi_name((unsigned)got_), (int)(want),          \
                      wasi_name((unsigned)(want)));                                           \
    } while (0)

static uint8_t *mem(wfx *fx)
{
    return wj_memory_data(fx->memory);
}

static void put32(wfx *fx, uint32_t at, uint32_t v)
{
    memcpy(mem(fx) + at, &v, 4);
}

static void put64(wfx *fx, uint32_t at, uint64_t v)
{
    memcpy(mem(fx) + at, &v, 8);
}

static uint32_t get32(wfx *fx, uint32_t at)
{
    uint32_t v;
    memcpy(&v, mem(fx) + at, 4);
    return v;
}

static uint64_t get64(wfx *fx, uint32_t at)
{
    uint64_t v;
    memcpy(&v, mem(fx) + at, 8);
    return v;
}

/* Puts string `s` (no NUL) at `at`; returns its length, for (ptr, len) pairs. */
static uint32_t pstr(wfx *fx, uint32_t at, const char *s)
{
    size_t n = strlen(s);
    memcpy(mem(fx) + at, s, n);
    return (uint32_t)n;
}

/* Rights for path_open. */
#define R_READ (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_FILESTAT_GET)
#define R_WRITE (WASI_RIGHT_FD_WRITE)

/* A config with a preopen, which must work. */
static void preopen(wj_wasi_config *config, const char *host, const char *guest, bool read_only)
{
    wj_error *err = wj_wasi_config_preopen_dir(config, host, guest, read_only);
    ck_assert_no_wj_error(err);
}

/* Guest addresses the tests use. */
enum { IOV = 0x100, BUF = 0x200, PATH = 0x400, PATH2 = 0x500, RESULT = 0x800, RESULT2 = 0x808 };

/* --- EFAULT: guest pointers out of bounds ------------------------------------ */

START_TEST(efault_fd_write)
{
    const int fds_before = fd_count();
    int pipefd[2];
    ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
    wj_wasi_config *config = wj_wasi_config_new();
    wj_wasi_config_set_stdio(config, -1, pipefd[1], -1);
    wfx fx;
    wfx_begin(&fx, config);

    /* The iovec array past the end, or starting at it. */
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, MEM - 4, 1, RESULT);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, MEM, 1, RESULT);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, MEM - 8, 2, RESULT);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, 0xfffffff8u, 1, RESULT);
    /* One iovec whose buffer extends past the end. */
    put32(&fx, IOV, MEM - 10);
    put32(&fx, IOV + 4, 20);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, IOV, 1, RESULT);
    /* The 32-bit wrap: 0xfffffff0 + 0x20 is 0x10 modulo 2^32. */
    put32(&fx, IOV, 0xfffffff0u);
    put32(&fx, IOV + 4, 0x20);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, IOV, 1, RESULT);
    /* A good iovec, then a bad one: nothing is written at all. */
    pstr(&fx, BUF, "hello");
    put32(&fx, IOV, BUF);
    put32(&fx, IOV + 4, 5);
    put32(&fx, IOV + 8, MEM - 1);
    put32(&fx, IOV + 12, 2);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, IOV, 2, RESULT);
    /* Good iovecs, the result pointer out of bounds. */
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, IOV, 1, MEM - 2);
    W_EQ(WASI_EFAULT, &fx, "fd_write", 1, IOV, 1, 0xfffffffeu);
    /* fd_read the same way. */
    put32(&fx, IOV, MEM - 10);
    put32(&fx, IOV + 4, 20);
    W_EQ(WASI_EFAULT, &fx, "fd_read", 1, IOV, 1, RESULT);

    char c;
    ck_assert_msg(read(pipefd[0], &c, 1) < 0 && errno == EAGAIN,
                  "a failed fd_write wrote to the descriptor");
    /* And the good write works, up to the last byte of memory. */
    pstr(&fx, MEM - 5, "hello");
    put32(&fx, IOV, MEM - 5);
    put32(&fx, IOV + 4, 5);
    W_EQ(0, &fx, "fd_write", 1, IOV, 1, MEM - 4);
    ck_assert_uint_eq(get32(&fx, MEM - 4), 5);
    char got[8] = {0};
    ck_assert_int_eq(read(pipefd[0], got, sizeof got), 5);
    ck_assert_str_eq(got, "hello");

    wfx_end(&fx);
    close(pipefd[0]);
    close(pipefd[1]);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

START_TEST(efault_args_random_clock)
{
    const int fds_before = fd_count();
    wj_wasi_config *config = wj_wasi_config_new();
    ck_assert(wj_wasi_config_push_arg(config, "prog"));
    ck_assert(wj_wasi_config_push_arg(config, "a b"));
    wfx fx;
    wfx_begin(&fx, config);

    /* args_sizes_get: either result pointer out of bounds; nothing is
     * written through the other. */
    put32(&fx, RESULT, 0xdeadbeef);
    W_EQ(WASI_EFAULT, &fx, "args_sizes_get", MEM - 2, RESULT);
    W_EQ(WASI_EFAULT, &fx, "args_sizes_get", RESULT, MEM - 2);
    W_EQ(WASI_EFAULT, &fx, "args_sizes_get", RESULT, 0xfffffffcu);
    ck_assert_uint_eq(get32(&fx, RESULT), 0xdeadbeef);
    W_EQ(0, &fx, "args_sizes_get", MEM - 8, MEM - 4);
    ck_assert_uint_eq(get32(&fx, MEM - 8), 2);
    ck_assert_uint_eq(get32(&fx, MEM - 4), 9);
    /* args_get: two pointers (8 bytes) and "prog\0a b\0" (9 bytes). */
    W_EQ(WASI_EFAULT, &fx, "args_get", MEM - 4, BUF);
    W_EQ(WASI_EFAULT, &fx, "args_get", RESULT, MEM - 8);
    W_EQ(WASI_EFAULT, &fx, "environ_sizes_get", MEM - 2, RESULT);
    W_EQ(0, &fx, "args_get", MEM - 17, MEM - 9);
    ck_assert_mem_eq(mem(&fx) + MEM - 9, "prog\0a b\0", 9);

    /* random_get. */
    W_EQ(WASI_EFAULT, &fx, "random_get", MEM - 10, 20);
    W_EQ(WASI_EFAULT, &fx, "random_get", MEM + 1, 0);
    W_EQ(WASI_EFAULT, &fx, "random_get", 0xfffffff0u, 0x20);
    W_EQ(WASI_EFAULT, &fx, "random_get", 0x10, 0xfffffff8u);
    W_EQ(0, &fx, "random_get", MEM - 16, 16);
    W_EQ(0, &fx, "random_get", MEM, 0);

    /* clock_time_get's 8-byte result. */
    W_EQ(WASI_EFAULT, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 0, MEM - 4);
    W_EQ(0, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 0, MEM - 8);

    /* poll_oneoff: subscriptions, events or the count out of bounds. */
    W_EQ(WASI_EFAULT, &fx, "poll_oneoff", MEM - 40, BUF, 1, RESULT);
    W_EQ(WASI_EFAULT, &fx, "poll_oneoff", BUF, MEM - 16, 1, RESULT);
    W_EQ(WASI_EFAULT, &fx, "poll_oneoff", BUF, BUF + 64, 1, MEM - 1);
    W_EQ(WASI_EFAULT, &fx, "poll_oneoff", 0, BUF, 0x10000000u, RESULT);

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

START_TEST(efault_paths)
{
    const int fds_before = fd_count();
    const char *dir = scratch_dir("efault");
    write_file(in_scratch("efault/f"), "f");
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, dir, "/data", false);
    wfx fx;
    wfx_begin(&fx, config);

    /* The path out of bounds, across the end, wrapping. */
    W_EQ(WASI_EFAULT, &fx, "path_open", 3, 0, MEM - 5, 10, 0, R_READ, 0, 0, RESULT);
    W_EQ(WASI_EFAULT, &fx, "path_open", 3, 0, MEM + 4, 1, 0, R_READ, 0, 0, RESULT);
    W_EQ(WASI_EFAULT, &fx, "path_open", 3, 0, 0xfffffff0u, 0x20, 0, R_READ, 0, 0, RESULT);
    /* A good path, the result pointer out of bounds: no descriptor opened. */
    W_EQ(WASI_EFAULT, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "f"), 0, R_READ, 0, 0,
         MEM - 2);
    W_EQ(WASI_EFAULT, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "f"), WASI_OFLAG_CREAT,
         R_READ, 0, 0, 0xfffffffeu);
    W_EQ(WASI_EFAULT, &fx, "path_create_directory", 3, MEM - 2, 4);
    W_EQ(WASI_EFAULT, &fx, "path_unlink_file", 3, 0xfffffff0u, 0x20);
    W_EQ(WASI_EFAULT, &fx, "path_rename", 3, PATH, pstr(&fx, PATH, "f"), 3, MEM - 1, 2);
    W_EQ(WASI_EFAULT, &fx, "fd_prestat_get", 3, MEM - 4);
    W_EQ(WASI_EFAULT, &fx, "fd_prestat_dir_name", 3, MEM - 4, 5);
    ck_assert(exists(in_scratch("efault/f")));
    /* The first free descriptor is still 4: the failed opens took none. */
    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "f"), 0, R_READ, 0, 0, RESULT);
    ck_assert_uint_eq(get32(&fx, RESULT), 4);

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- arguments and environment ---------------------------------------------- */

START_TEST(args_environ_round_trip)
{
    const int fds_before = fd_count();
    wj_wasi_config *config = wj_wasi_config_new();
    ck_assert(wj_wasi_config_push_arg(config, "prog"));
    ck_assert(wj_wasi_config_push_arg(config, "a b"));
    ck_assert(wj_wasi_config_push_env(config, "X", "1"));
    wfx fx;
    wfx_begin(&fx, config);
    uint8_t *m = mem(&fx);

    W_EQ(0, &fx, "args_sizes_get", RESULT, RESULT + 4);
    ck_assert_uint_eq(get32(&fx, RESULT), 2);
    ck_assert_uint_eq(get32(&fx, RESULT + 4), 9); /* "prog\0a b\0" */
    memset(m + BUF, 0xee, 32);
    W_EQ(0, &fx, "args_get", IOV, BUF);
    ck_assert_uint_eq(get32(&fx, IOV), BUF);
    ck_assert_uint_eq(get32(&fx, IOV + 4), BUF + 5);
    ck_assert_mem_eq(m + BUF, "prog\0a b\0", 9);
    ck_assert_uint_eq(m[BUF + 9], 0xee); /* nothing more */

    W_EQ(0, &fx, "environ_sizes_get", RESULT, RESULT + 4);
    ck_assert_uint_eq(get32(&fx, RESULT), 1);
    ck_assert_uint_eq(get32(&fx, RESULT + 4), 4); /* "X=1\0" */
    memset(m + PATH, 0xee, 32);
    W_EQ(0, &fx, "environ_get", IOV + 16, PATH);
    ck_assert_uint_eq(get32(&fx, IOV + 16), PATH);
    ck_assert_mem_eq(m + PATH, "X=1\0", 4);
    ck_assert_uint_eq(m[PATH + 4], 0xee);

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* No arguments and no environment: zero counts (none of the host's). */
START_TEST(args_environ_empty)
{
    wj_wasi_config *config = wj_wasi_config_new();
    wfx fx;
    wfx_begin(&fx, config);
    put64(&fx, RESULT, UINT64_MAX);
    W_EQ(0, &fx, "environ_sizes_get", RESULT, RESULT + 4);
    ck_assert_uint_eq(get64(&fx, RESULT), 0);
    put64(&fx, RESULT, UINT64_MAX);
    W_EQ(0, &fx, "args_sizes_get", RESULT, RESULT + 4);
    ck_assert_uint_eq(get64(&fx, RESULT), 0);
    W_EQ(0, &fx, "args_get", MEM, MEM);
    wfx_end(&fx);
}
END_TEST

/* --- preopens -------------------------------------------------------------- */

START_TEST(prestat)
{
    const int fds_before = fd_count();
    const char *dir = scratch_dir("prestat");
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, dir, "/data", false);
    wfx fx;
    wfx_begin(&fx, config);
    uint8_t *m = mem(&fx);

    memset(m + RESULT, 0xee, 8);
    W_EQ(0, &fx, "fd_prestat_get", 3, RESULT);
    ck_assert_uint_eq(m[RESULT], 0); /* tag: dir */
    ck_assert_uint_eq(get32(&fx, RESULT + 4), 5);
    memset(m + BUF, 0xee, 16);
    W_EQ(0, &fx, "fd_prestat_dir_name", 3, BUF, 5);
    ck_assert_mem_eq(m + BUF, "/data", 5);
    ck_assert_uint_eq(m[BUF + 5], 0xee);
    /* No preopen at 4 (the end of wasi-libc's scan), nor at stdio. */
    W_EQ(WASI_EBADF, &fx, "fd_prestat_get", 4, RESULT);
    W_EQ(WASI_EBADF, &fx, "fd_prestat_dir_name", 4, BUF, 5);
    W_EQ(WASI_EBADF, &fx, "fd_prestat_get", 1, RESULT);
    W_EQ(WASI_EBADF, &fx, "fd_prestat_get", 0xffffffffu, RESULT);

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

START_TEST(preopen_missing_path)
{
    const int fds_before = fd_count();
    char *missing = fmt("%s/no-such-dir/deeper", scratch);
    wj_wasi_config *config = wj_wasi_config_new();
    wj_error *err = wj_wasi_config_preopen_dir(config, missing, "/x", false);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(wj_error_kind_of(err), WJ_ERROR_IO);
    ck_assert_msg(strstr(wj_error_message(err), missing) != NULL, "\"%s\" does not name %s",
                  wj_error_message(err), missing);
    wj_error_delete(err);
    /* A file is not a directory. */
    write_file(in_scratch("not-a-dir"), "x");
    err = wj_wasi_config_preopen_dir(config, in_scratch("not-a-dir"), "/x", true);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(wj_error_kind_of(err), WJ_ERROR_IO);
    ck_assert_ptr_nonnull(strstr(wj_error_message(err), "not-a-dir"));
    wj_error_delete(err);
    /* A config deleted unused closes its preopens. */
    preopen(config, scratch, "/s", false);
    ck_assert_int_eq(fd_count(), fds_before + 1);
    wj_wasi_config_delete(config);
    free(missing);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- a read-only preopen ----------------------------------------------------- */

START_TEST(read_only_preopen)
{
    const int fds_before = fd_count();
    const char *dir = scratch_dir("ro");
    write_file(in_scratch("ro/ro.txt"), "hello");
    ck_assert_int_eq(mkdir(in_scratch("ro/sub"), 0755), 0);
    struct stat before;
    ck_assert_int_eq(stat(in_scratch("ro/ro.txt"), &before), 0);
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, dir, "/ro", true);
    wfx fx;
    wfx_begin(&fx, config);

    /* Creating, truncating, writing, removing, renaming, linking. */
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "new.txt"),
         WASI_OFLAG_CREAT, R_READ, 0, 0, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "ro.txt"),
         WASI_OFLAG_CREAT, R_READ, 0, 0, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "ro.txt"),
         WASI_OFLAG_TRUNC, R_READ, 0, 0, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "ro.txt"), 0,
         R_READ | R_WRITE, 0, 0, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_unlink_file", 3, PATH, pstr(&fx, PATH, "ro.txt"));
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_create_directory", 3, PATH, pstr(&fx, PATH, "newdir"));
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_rename", 3, PATH, pstr(&fx, PATH, "ro.txt"), 3, PATH2,
         pstr(&fx, PATH2, "moved.txt"));
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_link", 3, 0, PATH, pstr(&fx, PATH, "ro.txt"), 3, PATH2,
         pstr(&fx, PATH2, "linked.txt"));
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_symlink", PATH, pstr(&fx, PATH, "ro.txt"), 3, PATH2,
         pstr(&fx, PATH2, "symlinked.txt"));
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_filestat_set_times", 3, WASI_LOOKUP_SYMLINK_FOLLOW, PATH,
         pstr(&fx, PATH, "ro.txt"), 0, 0, WASI_FSTFLAG_MTIM_NOW);

    /* Reading works; the descriptor has no FD_WRITE. */
    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "ro.txt"), 0, R_READ, 0, 0, RESULT);
    uint32_t fd = get32(&fx, RESULT);
    ck_assert_uint_eq(fd, 4);
    put32(&fx, IOV, BUF);
    put32(&fx, IOV + 4, 16);
    W_EQ(0, &fx, "fd_read", fd, IOV, 1, RESULT);
    ck_assert_uint_eq(get32(&fx, RESULT), 5);
    ck_assert_mem_eq(mem(&fx) + BUF, "hello", 5);
    pstr(&fx, BUF, "HACKED");
    put32(&fx, IOV + 4, 6);
    W_EQ(WASI_ENOTCAPABLE, &fx, "fd_write", fd, IOV, 1, RESULT);
    /* Nor through a directory opened beneath it. */
    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "sub"), WASI_OFLAG_DIRECTORY,
         WASI_RIGHTS_ALL & ~WASI_RIGHTS_WRITE, WASI_RIGHTS_ALL, 0, RESULT);
    uint32_t sub = get32(&fx, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", sub, 0, PATH, pstr(&fx, PATH, "x"),
         WASI_OFLAG_CREAT, R_READ, 0, 0, RESULT);
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_create_directory", sub, PATH, pstr(&fx, PATH, "d"));
    W_EQ(0, &fx, "fd_close", fd);

    struct stat after;
    ck_assert_int_eq(stat(in_scratch("ro/ro.txt"), &after), 0);
    ck_assert_str_eq(read_file(in_scratch("ro/ro.txt")), "hello");
    ck_assert(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
              after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    static const char *const absent[] = {"ro/new.txt", "ro/newdir", "ro/moved.txt",
                                         "ro/linked.txt", "ro/symlinked.txt", "ro/sub/x",
                                         "ro/sub/d"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        ck_assert_msg(!exists(in_scratch(absent[i])), "%s was created", absent[i]);

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- rename across preopens -------------------------------------------------- */

START_TEST(rename_across_preopens)
{
    const int fds_before = fd_count();
    const char *a = scratch_dir("xdev-a");
    write_file(in_scratch("xdev-a/f"), "f");
    ck_assert_int_eq(mkdir(in_scratch("xdev-a/sub"), 0755), 0);
    const char *b = scratch_dir("xdev-b");
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, a, "/a", false);
    preopen(config, b, "/b", false);
    wfx fx;
    wfx_begin(&fx, config);

    W_EQ(WASI_EXDEV, &fx, "path_rename", 3, PATH, pstr(&fx, PATH, "f"), 4, PATH2,
         pstr(&fx, PATH2, "g"));
    W_EQ(WASI_EXDEV, &fx, "path_rename", 4, PATH, pstr(&fx, PATH, "g"), 3, PATH2,
         pstr(&fx, PATH2, "f"));
    W_EQ(WASI_EXDEV, &fx, "path_link", 3, 0, PATH, pstr(&fx, PATH, "f"), 4, PATH2,
         pstr(&fx, PATH2, "g"));
    ck_assert(exists(in_scratch("xdev-a/f")));
    ck_assert(!exists(in_scratch("xdev-b/g")));

    /* Within one preopen, through a directory opened beneath it: fine. */
    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "sub"), WASI_OFLAG_DIRECTORY,
         WASI_RIGHTS_ALL, WASI_RIGHTS_ALL, 0, RESULT);
    uint32_t sub = get32(&fx, RESULT);
    ck_assert_uint_eq(sub, 5);
    W_EQ(0, &fx, "path_rename", 3, PATH, pstr(&fx, PATH, "f"), sub, PATH2, pstr(&fx, PATH2, "f2"));
    ck_assert(!exists(in_scratch("xdev-a/f")));
    ck_assert(exists(in_scratch("xdev-a/sub/f2")));
    /* But not from it into the other preopen. */
    W_EQ(WASI_EXDEV, &fx, "path_rename", sub, PATH, pstr(&fx, PATH, "f2"), 4, PATH2,
         pstr(&fx, PATH2, "g"));
    ck_assert(!exists(in_scratch("xdev-b/g")));

    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- creating through dangling symlinks, from the guest, in both lookup modes ---- */

/* Loop index 0: openat2; 1: the walk by hand. path_open as wasi-libc's
 * open(O_CREAT | O_EXCL) calls it: following symlinks (dirflags 1). */
START_TEST(path_open_excl_through_dangling_link)
{
    const int mode = _i;
    sandbox_without_openat2 = mode == 1;
    const int fds_before = fd_count();
    char name[32];
    snprintf(name, sizeof name, "excl-%d", mode);
    const char *dir = scratch_dir(name);
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, dir, "/e", false);
    char *link_in = fmt("%s/%s/dangling-in", scratch, name);
    char *link_out = fmt("%s/%s/dangling-out", scratch, name);
    char *target_out = fmt("../escaped-%d", mode);
    ck_assert_int_eq(symlink("target", link_in), 0);
    ck_assert_int_eq(symlink(target_out, link_out), 0);
    snprintf(name, sizeof name, "excl-%d/target", mode);
    const char *target_in = in_scratch(name);
    wfx fx;
    wfx_begin(&fx, config);

    /* Out of the preopen: refused either way, nothing created. */
    W_EQ(WASI_ENOTCAPABLE, &fx, "path_open", 3, WASI_LOOKUP_SYMLINK_FOLLOW, PATH,
         pstr(&fx, PATH, "dangling-out"), WASI_OFLAG_CREAT, R_READ | R_WRITE, 0, 0, RESULT);
    int32_t rc_out = W(&fx, "path_open", 3, WASI_LOOKUP_SYMLINK_FOLLOW, PATH,
                       pstr(&fx, PATH, "dangling-out"), WASI_OFLAG_CREAT | WASI_OFLAG_EXCL,
                       R_READ | R_WRITE, 0, 0, RESULT);
    snprintf(name, sizeof name, "escaped-%d", mode);
    ck_assert_msg(!exists(in_scratch(name)), "[%s] created %s outside the preopen",
                  mode_names[mode], name);
    /* Inside: O_EXCL does not follow the link (EEXIST), creates nothing. */
    int32_t rc_in = W(&fx, "path_open", 3, WASI_LOOKUP_SYMLINK_FOLLOW, PATH,
                      pstr(&fx, PATH, "dangling-in"), WASI_OFLAG_CREAT | WASI_OFLAG_EXCL,
                      R_READ | R_WRITE, 0, 0, RESULT);
    bool created = exists(target_in);
    wfx_end(&fx);
    free(link_in);
    free(link_out);
    free(target_out);
    sandbox_without_openat2 = false;
    ck_assert_msg(rc_out != 0, "[%s] O_CREAT|O_EXCL through dangling-out opened a file",
                  mode_names[mode]);
    ck_assert_msg(rc_in == WASI_EEXIST && !created,
                  "[%s] path_open(dangling-in -> target, CREAT|EXCL, follow) returned %d %s and "
                  "%s the target; expected 20 EEXIST and no file",
                  mode_names[mode], rc_in, wasi_name((unsigned)rc_in),
                  created ? "created" : "did not create");
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- trailing slashes on names to be created ----------------------------------- */

/* A trailing slash names a directory: renaming a file to "g/" is ENOTDIR,
 * linking or symlinking to "h/" is ENOENT (what Linux's rename(2), link(2)
 * and symlink(2) return). Nothing may be created without the slash. */
START_TEST(trailing_slash_on_new_names)
{
    const int fds_before = fd_count();
    const char *dir = scratch_dir("slash");
    write_file(in_scratch("slash/f"), "f"); /* renamed */
    write_file(in_scratch("slash/l"), "l"); /* linked */
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, dir, "/s", false);
    wfx fx;
    wfx_begin(&fx, config);
    /* The source with a slash: refused already. */
    W_EQ(WASI_ENOTDIR, &fx, "path_rename", 3, PATH, pstr(&fx, PATH, "f/"), 3, PATH2,
         pstr(&fx, PATH2, "g"));
    int32_t rc_rename = W(&fx, "path_rename", 3, PATH, pstr(&fx, PATH, "f"), 3, PATH2,
                          pstr(&fx, PATH2, "g/"));
    bool renamed = exists(in_scratch("slash/g"));
    int32_t rc_link = W(&fx, "path_link", 3, 0, PATH, pstr(&fx, PATH, "l"), 3, PATH2,
                        pstr(&fx, PATH2, "h/"));
    bool linked = exists(in_scratch("slash/h"));
    int32_t rc_symlink = W(&fx, "path_symlink", PATH, pstr(&fx, PATH, "f"), 3, PATH2,
                           pstr(&fx, PATH2, "s/"));
    bool symlinked = exists(in_scratch("slash/s"));
    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
    char report[512] = "";
    size_t at = 0;
    if (rc_rename != WASI_ENOTDIR || renamed)
        at += (size_t)snprintf(report + at, sizeof report - at,
                               "\n  path_rename(f, g/): %d %s, g %s (expected 54 ENOTDIR)",
                               rc_rename, wasi_name((unsigned)rc_rename),
                               renamed ? "created" : "absent");
    if (rc_link != WASI_ENOENT || linked)
        at += (size_t)snprintf(report + at, sizeof report - at,
                               "\n  path_link(l, h/): %d %s, h %s (expected 44 ENOENT)", rc_link,
                               wasi_name((unsigned)rc_link), linked ? "created" : "absent");
    if (rc_symlink != WASI_ENOENT || symlinked)
        at += (size_t)snprintf(report + at, sizeof report - at,
                               "\n  path_symlink(f, s/): %d %s, s %s (expected 44 ENOENT)",
                               rc_symlink, wasi_name((unsigned)rc_symlink),
                               symlinked ? "created" : "absent");
    ck_assert_msg(at == 0, "a trailing slash on the new name is ignored:%s", report);
}
END_TEST

/* --- proc_exit ------------------------------------------------------------------ */

START_TEST(proc_exit_traps_with_status)
{
    wfx fx;
    wfx_begin(&fx, wj_wasi_config_new());
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(wfx_func(&fx, "exit9"), NULL, 0, NULL, 0, &trap);
    ck_assert_no_wj_error(err);
    ck_assert_ptr_nonnull(trap);
    wj_trap_code code = wj_trap_code_of(trap);
    int status = -1;
    bool is_exit = wj_trap_exit_status(trap, &status);
    wj_trap_delete(trap);
    ck_assert_int_eq(code, WJ_TRAP_EXIT);
    ck_assert(is_exit);
    ck_assert_int_eq(status, 9);
    /* The instance is still usable after the exit. */
    W_EQ(0, &fx, "random_get", 0, 4);
    wfx_end(&fx);
}
END_TEST

/* --- functions WASI does not offer, imports from elsewhere ------------------------ */

START_TEST(unknown_functions)
{
    static const char wat[] =
        "(module\n"
        "  (import \"wasi_snapshot_preview1\" \"sock_frobnicate\" (func $frob (param i32) (result i32)))\n"
        "  (import \"wasi_snapshot_preview1\" \"proc_raise\" (func $raise (param i32) (result i32)))\n"
        "  (import \"wasi_snapshot_preview1\" \"sock_accept\" (func $accept (param i32 i32 i32) (result i32)))\n"
        "  (memory (export \"memory\") 1)\n"
        "  (func (export \"frob\") (param i32) (result i32) (call $frob (local.get 0)))\n"
        "  (func (export \"raise\") (param i32) (result i32) (call $raise (local.get 0)))\n"
        "  (func (export \"accept\") (param i32 i32 i32) (result i32)\n"
        "    (call $accept (local.get 0) (local.get 1) (local.get 2))))\n";
    wfx fx;
    wfx_compile(&fx, wj_wasi_config_new(), wat);
    wfx_instantiate(&fx);
    W_EQ(WASI_ENOSYS, &fx, "frob", 7);
    W_EQ(WASI_ENOSYS, &fx, "raise", 2);
    W_EQ(WASI_ENOSYS, &fx, "accept", 3, 0, RESULT);
    wfx_end(&fx);

    /* Imports of other modules are not WASI's; a WASI function with the
     * wrong type is a link error naming it. */
    static const char other[] =
        "(module\n"
        "  (import \"env\" \"fd_write\" (func (param i32 i32 i32 i32) (result i32)))\n"
        "  (import \"wasi_unstable\" \"fd_write\" (func (param i32 i32 i32 i32) (result i32)))\n"
        "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32) (result i32)))\n"
        "  (import \"wasi_snapshot_preview1\" \"memory\" (memory 1))\n"
        "  (memory (export \"memory\") 1))\n";
    const char *const opts[] = {"--enable-multi-memory", NULL};
    size_t len;
    uint8_t *bytes = wat_to_wasm_opts(other, opts, &len);
    wj_config *cfg = wj_config_new();
    wj_config_set_feature(cfg, WJ_FEATURE_MULTI_MEMORY, true);
    memset(&fx, 0, sizeof fx);
    fx.engine = wj_engine_new(cfg);
    wj_config_delete(cfg);
    fx.store = wj_store_new(fx.engine);
    fx.wasi = wj_wasi_new(fx.store, wj_wasi_config_new());
    ck_assert_ptr_nonnull(fx.wasi);
    wj_error *err = wj_module_new(fx.engine, bytes, len, &fx.module);
    free(bytes);
    ck_assert_no_wj_error(err);
    wj_extern ext[4];
    ck_assert(!wj_wasi_import(fx.wasi, fx.module, 0, &ext[0]));
    ck_assert(!wj_wasi_import(fx.wasi, fx.module, 1, &ext[1]));
    ck_assert(!wj_wasi_import(fx.wasi, fx.module, 3, &ext[3]));
    ck_assert(!wj_wasi_import(fx.wasi, fx.module, 4, &ext[3])); /* no such import */
    ck_assert(wj_wasi_import(fx.wasi, fx.module, 2, &ext[2]));
    /* Instantiate with the others from elsewhere: the link error names fd_write. */
    wj_functype ty;
    ck_assert(wj_module_func_type(fx.module, 0, &ty));
    wj_limits lim = {.min = 1};
    wj_memory *m;
    err = wj_memory_new(fx.store, &lim, &m);
    ck_assert_no_wj_error(err);
    ext[0] = ext[1] = ext[2];
    ext[3] = (wj_extern){.kind = WJ_EXTERN_MEMORY, .of.memory = m};
    wj_trap *trap = NULL;
    err = wj_instance_new(fx.store, fx.module, ext, 4, &fx.instance, &trap);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(trap);
    wj_error_kind kind = wj_error_kind_of(err);
    bool named = strstr(wj_error_message(err), "fd_write") != NULL;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", wj_error_message(err));
    wj_error_delete(err);
    wfx_end(&fx);
    ck_assert_int_eq(kind, WJ_ERROR_LINK);
    ck_assert_msg(named, "link error \"%s\" does not name fd_write", msg);
}
END_TEST

/* --- fd_readdir: the cookie protocol with a small buffer ---------------------- */

enum { NFILES = 300, RD_BUF = 0x1000, RD_USED = 0x2000 };

/* Reads directory `fd` with `buf_len`-byte buffers, resuming each time from
 * the d_next of the last complete entry; every name must come exactly once. */
static void readdir_all(wfx *fx, uint32_t fd, uint32_t buf_len)
{
    int seen[NFILES] = {0}, dot = 0, dotdot = 0, calls = 0;
    uint64_t cookie = 0;
    for (bool end = false; !end;) {
        ck_assert_msg(++calls < 10 * NFILES, "fd_readdir does not come to an end");
        memset(mem(fx) + RD_BUF, 0xee, buf_len);
        W_EQ(0, fx, "fd_readdir", fd, RD_BUF, buf_len, cookie, RD_USED);
        uint32_t used = get32(fx, RD_USED);
        ck_assert_uint_le(used, buf_len);
        uint32_t off = 0;
        int complete = 0;
        while (off + WASI_DIRENT_SIZE <= used) {
            uint64_t next = get64(fx, RD_BUF + off);
            uint32_t namlen = get32(fx, RD_BUF + off + 16);
            uint8_t type = mem(fx)[RD_BUF + off + 20];
            if (off + WASI_DIRENT_SIZE + namlen > used)
                break; /* cut off: read again from the previous cookie */
            const char *name = (const char *)mem(fx) + RD_BUF + off + WASI_DIRENT_SIZE;
            if (namlen == 1 && name[0] == '.') {
                dot++;
            } else if (namlen == 2 && memcmp(name, "..", 2) == 0) {
                dotdot++;
            } else if (namlen == 9 && memcmp(name, "entry-", 6) == 0 && name[6] >= '0' &&
                       name[6] <= '9' && name[7] >= '0' && name[7] <= '9' && name[8] >= '0' &&
                       name[8] <= '9' && (name[6] - '0') * 100 + (name[7] - '0') * 10 + (name[8] - '0') < NFILES) {
                seen[(name[6] - '0') * 100 + (name[7] - '0') * 10 + (name[8] - '0')]++;
                ck_assert_msg(type == WASI_FILETYPE_REGULAR_FILE, "%.9s has d_type %u", name, type);
            } else {
                ck_abort_msg("unexpected entry \"%.*s\"", (int)namlen, name);
            }
            cookie = next;
            complete++;
            off += WASI_DIRENT_SIZE + namlen;
        }
        if (used < buf_len) {
            end = true; /* the end of the directory: nothing may be cut off */
            ck_assert_msg(off == used, "a short buffer ends with a partial entry");
        } else {
            ck_assert_msg(complete > 0, "a full %u-byte buffer holds no complete entry", buf_len);
        }
    }
    for (int k = 0; k < NFILES; k++)
        ck_assert_msg(seen[k] == 1, "entry-%03d seen %d times (buffer %u, %d calls)", k, seen[k],
                      buf_len, calls);
    ck_assert_int_eq(dot, 1);
    ck_assert_int_eq(dotdot, 1);
}

/* scratch/readdir with NFILES empty files. */
static void readdir_tree(void)
{
    scratch_dir("readdir");
    for (int k = 0; k < NFILES; k++) {
        char name[32];
        snprintf(name, sizeof name, "readdir/entry-%03d", k);
        write_file(in_scratch(name), "");
    }
}

START_TEST(readdir_cookies)
{
    const int fds_before = fd_count();
    readdir_tree();
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, scratch, "/s", false);
    wfx fx;
    wfx_begin(&fx, config);
    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "readdir"), WASI_OFLAG_DIRECTORY,
         WASI_RIGHT_FD_READDIR, 0, 0, RESULT);
    uint32_t fd = get32(&fx, RESULT);
    readdir_all(&fx, fd, 128);
    readdir_all(&fx, fd, 40); /* one entry at most */
    readdir_all(&fx, fd, 4096);
    /* Too small for any entry: the buffer is full, of a partial one. */
    W_EQ(0, &fx, "fd_readdir", fd, RD_BUF, 10, 0, RD_USED);
    ck_assert_uint_eq(get32(&fx, RD_USED), 10);
    W_EQ(WASI_EFAULT, &fx, "fd_readdir", fd, MEM - 64, 128, 0, RD_USED);
    W_EQ(WASI_EFAULT, &fx, "fd_readdir", fd, RD_BUF, 128, 0, MEM - 2);
    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* A preopen carries FD_READDIR: reading it directly (without opening "."
 * first) lists it. */
START_TEST(readdir_on_preopen)
{
    const int fds_before = fd_count();
    readdir_tree();
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, in_scratch("readdir"), "/r", false);
    wfx fx;
    wfx_begin(&fx, config);
    int32_t rc = W(&fx, "fd_readdir", 3, RD_BUF, 128, 0, RD_USED);
    if (rc == 0)
        readdir_all(&fx, 3, 128);
    wfx_end(&fx);
    ck_assert_msg(rc == 0, "fd_readdir on preopen fd 3 returned %d %s, expected 0", rc,
                  wasi_name((unsigned)rc));
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- stdio's flags are the host's -------------------------------------------- */

/* Flags and rights fd_fdstat_get reports for `fd`. */
static void fdstat(wfx *fx, uint32_t fd, uint16_t *flags, uint64_t *rights)
{
    W_EQ(0, fx, "fd_fdstat_get", fd, RESULT);
    memcpy(flags, mem(fx) + RESULT + 2, 2);
    *rights = get64(fx, RESULT + 8);
}

/* The guest's stdio shares open file descriptions with the host (here a
 * pipe and a file, through dup): the guest cannot set NONBLOCK or APPEND
 * on them, which would change them for the host too, and outlive the
 * guest. On a file it opened itself, it can. */
START_TEST(stdio_flags_stay_the_hosts)
{
    int in[2];
    ck_assert_int_eq(pipe(in), 0);
    int out = open(in_scratch("out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(out, 0);
    const int in_flags = fcntl(in[0], F_GETFL), out_flags = fcntl(out, F_GETFL);
    int guest_in = dup(in[0]), guest_out = dup(out);
    ck_assert(guest_in >= 0 && guest_out >= 0);
    wj_wasi_config *config = wj_wasi_config_new();
    wj_wasi_config_set_stdio(config, guest_in, guest_out, -1);
    preopen(config, scratch, "/s", false);
    wfx fx;
    wfx_begin(&fx, config);

    W_EQ(WASI_ENOTCAPABLE, &fx, "fd_fdstat_set_flags", 0, WASI_FDFLAG_NONBLOCK);
    W_EQ(WASI_ENOTCAPABLE, &fx, "fd_fdstat_set_flags", 1, WASI_FDFLAG_APPEND);
    W_EQ(WASI_ENOTCAPABLE, &fx, "fd_fdstat_set_flags", 1,
         WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK);
    ck_assert_int_eq(fcntl(in[0], F_GETFL), in_flags);
    ck_assert_int_eq(fcntl(out, F_GETFL), out_flags);
    /* fd_fdstat_get agrees: no such right, the flags unchanged */
    uint16_t flags;
    uint64_t rights;
    for (uint32_t fd = 0; fd < 2; fd++) {
        fdstat(&fx, fd, &flags, &rights);
        ck_assert_uint_eq(flags, 0);
        ck_assert_uint_eq(rights & WASI_RIGHT_FD_FDSTAT_SET_FLAGS, 0);
    }

    W_EQ(0, &fx, "path_open", 3, 0, PATH, pstr(&fx, PATH, "own.txt"), WASI_OFLAG_CREAT,
         R_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS, 0, 0, RESULT);
    uint32_t own = get32(&fx, RESULT);
    W_EQ(0, &fx, "fd_fdstat_set_flags", own, WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK);
    fdstat(&fx, own, &flags, &rights);
    ck_assert_uint_eq(flags, WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK);
    W_EQ(0, &fx, "fd_fdstat_set_flags", own, 0);
    fdstat(&fx, own, &flags, &rights);
    ck_assert_uint_eq(flags, 0);

    wfx_end(&fx);
    ck_assert_int_eq(fcntl(in[0], F_GETFL), in_flags);
    ck_assert_int_eq(fcntl(out, F_GETFL), out_flags);
    close(guest_in);
    close(guest_out);
    close(in[0]);
    close(in[1]);
    close(out);
}
END_TEST

/* --- WASI at the wasm stack limit -------------------------------------------- */

/* "deep" recurses, listing preopen 3 and opening "." beneath it at every
 * level: at the deepest, WASI runs in the stack the runtime keeps below
 * the wasm stack limit for host functions. "list" lists it once. */
static const char deep_wasi_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_readdir\"\n"
    "    (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $fd_close (param i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 0x400) \".\")\n"
    "  (func $list (export \"list\") (result i32)\n"
    "    (call $fd_readdir (i32.const 3) (i32.const 0x200) (i32.const 256) (i64.const 0)\n"
    "                      (i32.const 0x800)))\n"
    "  (func $deep (export \"deep\")\n"
    "    (drop (call $list))\n"
    "    (if (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 0x400) (i32.const 1)\n"
    "                                  (i32.const 2) (i64.const 0) (i64.const 0) (i32.const 0)\n"
    "                                  (i32.const 0x808)))\n"
    "      (then (drop (call $fd_close (i32.load (i32.const 0x808))))))\n"
    "    (call $deep)))\n";

static void *deep_wasi_main(void *deep)
{
    wj_trap *trap = NULL;
    wj_error *err = wj_func_call(deep, NULL, 0, NULL, 0, &trap);
    bool exhausted = !err && trap && wj_trap_code_of(trap) == WJ_TRAP_STACK_EXHAUSTED;
    wj_error_delete(err);
    wj_trap_delete(trap);
    return exhausted ? NULL : "no \"call stack exhausted\" trap";
}

START_TEST(wasi_at_the_stack_limit)
{
    const int fds_before = fd_count();
    readdir_tree();
    wj_wasi_config *config = wj_wasi_config_new();
    preopen(config, in_scratch("readdir"), "/r", false);
    wfx fx;
    wfx_compile(&fx, config, deep_wasi_wat);
    wfx_instantiate(&fx);
    static const size_t sizes[] = {64 * 1024, 128 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        pthread_attr_t attr;
        ck_assert_int_eq(pthread_attr_init(&attr), 0);
        ck_assert_int_eq(pthread_attr_setstacksize(&attr, sizes[i]), 0);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, &attr, deep_wasi_main, wfx_func(&fx, "deep")), 0);
        void *failure;
        ck_assert_int_eq(pthread_join(t, &failure), 0);
        pthread_attr_destroy(&attr);
        ck_assert_msg(failure == NULL, "%zu KiB stack: %s", sizes[i] / 1024, (char *)failure);
    }
    /* The context still works. */
    wj_val errno_val;
    wj_trap *trap = NULL;
    ck_assert_no_wj_error(wj_func_call(wfx_func(&fx, "list"), NULL, 0, &errno_val, 1, &trap));
    ck_assert_ptr_null(trap);
    ck_assert_int_eq(errno_val.of.i32, 0);
    wfx_end(&fx);
    ck_assert_int_eq(fd_count(), fds_before);
}
END_TEST

/* --- poll_oneoff and the monotonic clock -------------------------------------- */

static uint64_t host_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { SUB = 0x1000, EVENTS = 0x1100, NEVENTS = 0x1200, T0 = 0x1300, T1 = 0x1308 };
#define MS 1000000ull

static void poll_clock(wfx *fx, uint64_t userdata, uint64_t timeout, uint16_t flags)
{
    uint8_t *m = mem(fx);
    memset(m + SUB, 0, WASI_SUBSCRIPTION_SIZE);
    put64(fx, SUB, userdata);
    m[SUB + 8] = WASI_EVENT_CLOCK;
    put32(fx, SUB + 16, WASI_CLOCK_MONOTONIC);
    put64(fx, SUB + 24, timeout);
    put64(fx, SUB + 32, 0);
    memcpy(m + SUB + 40, &flags, 2);
    memset(m + EVENTS, 0xee, WASI_EVENT_SIZE);
    put32(fx, NEVENTS, 0xdeadbeef);
    W_EQ(0, fx, "poll_oneoff", SUB, EVENTS, 1, NEVENTS);
    m = mem(fx);
    ck_assert_uint_eq(get32(fx, NEVENTS), 1);
    ck_assert_uint_eq(get64(fx, EVENTS), userdata);
    uint16_t error;
    memcpy(&error, m + EVENTS + 8, 2);
    ck_assert_uint_eq(error, 0);
    ck_assert_uint_eq(m[EVENTS + 10], WASI_EVENT_CLOCK);
}

START_TEST(poll_relative_clock)
{
    wfx fx;
    wfx_begin(&fx, wj_wasi_config_new());
    W_EQ(0, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 1, T0);
    uint64_t host0 = host_mono_ns();
    poll_clock(&fx, 0x0123456789abcdefull, 20 * MS, 0);
    uint64_t host1 = host_mono_ns();
    W_EQ(0, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 1, T1);
    uint64_t t0 = get64(&fx, T0), t1 = get64(&fx, T1);
    ck_assert_msg(t1 >= t0 + 20 * MS, "the guest's clock advanced %llu ns",
                  (unsigned long long)(t1 - t0));
    ck_assert_msg(host1 - host0 >= 20 * MS, "poll_oneoff returned after %llu ns",
                  (unsigned long long)(host1 - host0));
    wfx_end(&fx);
}
END_TEST

/* An absolute deadline on the guest's monotonic clock. */
START_TEST(poll_absolute_clock)
{
    wfx fx;
    wfx_begin(&fx, wj_wasi_config_new());
    W_EQ(0, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 1, T0);
    uint64_t t0 = get64(&fx, T0);
    poll_clock(&fx, 42, t0 + 20 * MS, WASI_SUBCLOCK_ABSTIME);
    W_EQ(0, &fx, "clock_time_get", WASI_CLOCK_MONOTONIC, 1, T1);
    ck_assert_msg(get64(&fx, T1) >= t0 + 20 * MS, "woke at %llu, the deadline was %llu",
                  (unsigned long long)get64(&fx, T1), (unsigned long long)(t0 + 20 * MS));
    /* A deadline in the past is due at once. */
    poll_clock(&fx, 43, t0, WASI_SUBCLOCK_ABSTIME);
    wfx_end(&fx);
}
END_TEST

/* ==== the suite ====================================================================== */

static Suite *wasi_suite(void)
{
    Suite *s = suite_create("wasi");

    /* Loop index 0: openat2; 1: the walk by hand. */
    TCase *sandbox = tcase_create("sandbox");
    tcase_add_unchecked_fixture(sandbox, tree_setup, tree_teardown);
    tcase_set_timeout(sandbox, 30);
    tcase_add_loop_test(sandbox, sandbox_lookups_inside, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_escapes_refused, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_nofollow, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_loops_and_dangling, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_excl_through_dangling_link, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_create, 0, 2);
    tcase_add_loop_test(sandbox, sandbox_parent_lookups, 0, 2);
    tcase_add_test(sandbox, sandbox_modes_agree);
    suite_add_tcase(s, sandbox);

    TCase *api = tcase_create("api");
    tcase_add_unchecked_fixture(api, scratch_setup, scratch_teardown);
    tcase_set_timeout(api, 60);
    tcase_add_test(api, efault_fd_write);
    tcase_add_test(api, efault_args_random_clock);
    tcase_add_test(api, efault_paths);
    tcase_add_test(api, args_environ_round_trip);
    tcase_add_test(api, args_environ_empty);
    tcase_add_test(api, prestat);
    tcase_add_test(api, preopen_missing_path);
    tcase_add_test(api, read_only_preopen);
    tcase_add_test(api, rename_across_preopens);
    tcase_add_loop_test(api, path_open_excl_through_dangling_link, 0, 2);
    tcase_add_test(api, trailing_slash_on_new_names);
    tcase_add_test(api, proc_exit_traps_with_status);
    tcase_add_test(api, unknown_functions);
    tcase_add_test(api, readdir_cookies);
    tcase_add_test(api, readdir_on_preopen);
    tcase_add_test(api, wasi_at_the_stack_limit);
    tcase_add_test(api, stdio_flags_stay_the_hosts);
    tcase_add_test(api, poll_relative_clock);
    tcase_add_test(api, poll_absolute_clock);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    if (fd >= 0)
        close((int)fd);
    openat2_available = fd >= 0 || errno != ENOSYS;
    if (!openat2_available)
        fprintf(stderr, "test-wasi: openat2 is not available here (valgrind?): the openat2 "
                        "runs (loop index 0) exercise the walk by hand too\n");
    return unit_run(wasi_suite());
}
