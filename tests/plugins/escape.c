/*
 * escape: tries to get out of its preopened directories, for
 * tests/plugins/plugins.sh, which runs it as
 *   wasmjail run --dir JAIL::. --dir-ro RO::/ro --dir OTHER::/other escape.wasm
 * with outside.txt beside JAIL and symlinks inside JAIL that the host made
 * (see the script). Each attempt prints one line, "WHAT: ok" or
 * "WHAT: refused" ("LEAKED" if it read a secret); why it was refused goes
 * to stderr. The expected lines are in escape.expected: the escapes are
 * refused, the legitimate accesses around them are not. The script also
 * checks on the host that nothing outside JAIL changed.
 *
 * With the jail preopened as ".", wasi-libc passes a relative path such as
 * "../outside.txt" unchanged to path_open on the preopen, so these reach
 * the runtime's own checks; absolute host paths are passed with openat()
 * on a directory fd, which wasi-libc does not resolve either.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int jail; /* a directory fd for the jail, for openat */

static void report(const char *what, const char *arg, int ok)
{
    int e = errno;
    printf("%s %s: %s\n", what, arg, ok ? "ok" : "refused");
    if (!ok)
        fprintf(stderr, "%s %s: %s\n", what, arg, strerror(e));
}

/* Reads the file (through any symlinks) and says if the contents leaked. */
static void report_fd(const char *what, const char *arg, int fd)
{
    char buf[4096];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n >= 0) {
        buf[n] = '\0';
        /* outside.txt holds SECRET; /etc/passwd has a root: line. */
        if (strstr(buf, "SECRET") || strstr(buf, "root:")) {
            printf("%s %s: LEAKED\n", what, arg);
            close(fd);
            return;
        }
    }
    report(what, arg, n >= 0);
    if (fd >= 0)
        close(fd);
}

static void try_read(const char *path)
{
    report_fd("read", path, open(path, O_RDONLY));
}

static void try_readat(const char *path)
{
    report_fd("openat", path, openat(jail, path, O_RDONLY));
}

static void try_opendir(const char *path)
{
    DIR *d = opendir(path);
    int ok = d != NULL;
    if (d) {
        errno = 0;
        ok = readdir(d) != NULL || errno == 0;
        closedir(d);
    }
    report("opendir", path, ok);
}

static void try_stat(const char *path)
{
    struct stat st;
    report("stat", path, stat(path, &st) == 0);
}

/* Opens for writing with FLAGS and writes a line. */
static void try_write(const char *what, const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    int ok = fd >= 0 && write(fd, "PWNED\n", 6) == 6;
    report(what, path, ok);
    if (fd >= 0)
        close(fd);
}

static void try_truncate(const char *path)
{
    report("truncate", path, truncate(path, 0) == 0);
}

/* ftruncate on a read-only fd of a read-only preopen. */
static void try_ftruncate(const char *path)
{
    int fd = open(path, O_RDONLY);
    report("ftruncate", path, fd >= 0 && ftruncate(fd, 0) == 0);
    if (fd >= 0)
        close(fd);
}

static void try_unlink(const char *path)
{
    report("unlink", path, unlink(path) == 0);
}

static void try_mkdir(const char *path)
{
    report("mkdir", path, mkdir(path, 0755) == 0);
}

static void try_rmdir(const char *path)
{
    report("rmdir", path, rmdir(path) == 0);
}

static void try_rename(const char *from, const char *to)
{
    char arg[512];
    snprintf(arg, sizeof arg, "%s %s", from, to);
    report("rename", arg, rename(from, to) == 0);
}

static void try_link(const char *from, const char *to)
{
    char arg[512];
    snprintf(arg, sizeof arg, "%s %s", from, to);
    report("link", arg, link(from, to) == 0);
}

static void try_symlink(const char *target, const char *name)
{
    char arg[512];
    snprintf(arg, sizeof arg, "%s %s", target, name);
    report("symlink", arg, symlink(target, name) == 0);
}

/* A symlink made by the guest, then read through: either step may fail,
   but the target's contents must not be read. */
static void try_symlink_read(const char *target, const char *name, const char *path)
{
    char arg[512];
    snprintf(arg, sizeof arg, "%s %s, read %s", target, name, path);
    if (symlink(target, name) != 0) {
        fprintf(stderr, "symlink %s %s: %s (so not read)\n", target, name, strerror(errno));
        report("symlink+read", arg, 0);
        return;
    }
    report_fd("symlink+read", arg, open(path, O_RDONLY));
}

int main(void)
{
    /* Make stdout and stderr interleave in order when both go to a file. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    jail = open(".", O_RDONLY | O_DIRECTORY);
    report("open", ".", jail >= 0);

    printf("-- reads that stay inside\n");
    try_read("inside.txt");
    try_read("./inside.txt");
    try_read("sub/../inside.txt");
    try_read("inlink");
    try_read("sub/inlink2");
    try_opendir("sublink/");
    try_opendir(".");
    try_readat("inside.txt");
    try_read("/ro/ro.txt");
    try_opendir("/ro");

    printf("-- reads that escape\n");
    try_read("../outside.txt");
    try_read("./../outside.txt");
    try_read("sub/../../outside.txt");
    try_read("/ro/../outside.txt");
    try_read("/etc/passwd");
    try_readat("/etc/passwd");
    try_readat("../outside.txt");
    try_read("etclink/passwd");
    try_read("etclink/./passwd");
    try_read("etclink//passwd");
    try_read("outlink");
    try_read("abslink");
    try_read("dotdot/outside.txt");
    try_read("sub/uplink");
    try_read("chain1");
    try_stat("../outside.txt");
    try_stat("etclink/passwd");
    try_opendir("..");
    try_opendir("etclink");
    try_opendir("etclink/");
    try_opendir("etclink/.");
    try_opendir("dotdot/");
    try_opendir("dotdot/.");
    try_opendir("outlink/");
    try_readat("/");

    printf("-- symlinks made by the guest\n");
    try_symlink_read("/etc/passwd", "mine", "mine");
    try_symlink_read("../outside.txt", "mine2", "mine2");
    try_symlink_read("/etc", "mine3", "mine3/passwd");
    try_symlink_read("sub/../../outside.txt", "mine4", "mine4");
    try_symlink_read("inside.txt", "mine-ok", "mine-ok");

    printf("-- writes that escape\n");
    try_write("create", "../created.txt", O_WRONLY | O_CREAT | O_TRUNC);
    try_write("create", "dotdot/created2.txt", O_WRONLY | O_CREAT | O_TRUNC);
    try_write("overwrite", "../outside.txt", O_WRONLY | O_TRUNC);
    try_write("overwrite", "outlink", O_WRONLY | O_TRUNC);
    try_write("append", "chain1", O_WRONLY | O_APPEND);
    try_truncate("../outside.txt");
    try_truncate("outlink");
    try_unlink("../outside.txt");
    try_unlink("dotdot/outside.txt");
    try_mkdir("../newdir");
    try_mkdir("dotdot/newdir2");
    try_rmdir("../emptydir");
    try_rename("rename-src1.txt", "../escaped.txt");
    try_rename("rename-src2.txt", "dotdot/escaped2.txt");
    try_rename("../outside.txt", "stolen.txt");
    try_link("link-src.txt", "../hard");
    try_link("link-src.txt", "dotdot/hard2");
    try_link("../outside.txt", "stolen-hard");

    printf("-- the read-only preopen\n");
    try_write("open O_WRONLY", "/ro/ro.txt", O_WRONLY);
    try_write("open O_RDWR", "/ro/ro.txt", O_RDWR);
    try_write("open O_APPEND", "/ro/ro.txt", O_WRONLY | O_APPEND);
    try_write("open O_TRUNC", "/ro/ro.txt", O_WRONLY | O_TRUNC);
    try_write("create", "/ro/new.txt", O_WRONLY | O_CREAT | O_TRUNC);
    try_truncate("/ro/ro.txt");
    try_ftruncate("/ro/ro.txt");
    try_unlink("/ro/ro.txt");
    try_mkdir("/ro/newdir");
    try_rmdir("/ro/emptysub");
    try_rename("/ro/ro.txt", "/ro/ro2.txt");
    try_symlink("ro.txt", "/ro/sym");
    try_link("/ro/ro.txt", "/ro/hard");

    printf("-- between preopens\n");
    try_rename("cross.txt", "/other/cross.txt");
    try_rename("cross.txt", "/ro/cross.txt");
    try_rename("/ro/ro.txt", "stolen-ro.txt");
    try_link("/ro/ro.txt", "ro-hard");
    try_link("cross.txt", "/other/cross-hard");

    printf("-- after all that\n");
    try_read("inside.txt");
    try_read("/ro/ro.txt");
    return 0;
}
