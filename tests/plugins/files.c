/*
 * files: file system calls inside a preopened directory, for
 * tests/plugins/plugins.sh. argv[2] is the directory to work in, as the
 * guest names it: "." (preopen --dir HOST::.) or an absolute guest path
 * (--dir HOST). Subcommands:
 *   ops DIR   create, write, read, lseek/ftell, fstat/stat, pread/pwrite,
 *             ftruncate, mkdir/rmdir, rename, unlink, and reads host.txt
 *   ls DIR    opendir/readdir: the entries but . and .., sorted, with types
 * Prints one line per step; the script compares stdout exactly and then
 * checks the files on the host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static int failures;

/* DIR/name, in a static buffer (one at a time, or copy it). */
static const char *at(const char *name)
{
    static char buf[2][1024];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

/* Reports a failed step with errno, and keeps going. */
static void check(int ok, const char *step)
{
    if (ok) {
        printf("%s: ok\n", step);
    } else {
        printf("%s: FAILED (%s)\n", step, strerror(errno));
        failures++;
    }
}

static const char *type_of(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

static int ops(void)
{
    char buf[64];
    struct stat st;

    /* stdio: create and write, then read back with fseek/ftell. */
    FILE *f = fopen(at("new.txt"), "w");
    check(f != NULL, "fopen w new.txt");
    if (!f)
        return 1;
    fputs("hello, file\n", f);
    check(ftell(f) == 12, "ftell after write is 12");
    check(fclose(f) == 0, "fclose");
    f = fopen(at("new.txt"), "r");
    check(f != NULL, "fopen r new.txt");
    if (!f)
        return 1;
    check(fseek(f, 7, SEEK_SET) == 0 && ftell(f) == 7, "fseek/ftell 7");
    check(fgets(buf, sizeof buf, f) && strcmp(buf, "file\n") == 0, "fgets reads \"file\\n\"");
    check(fgetc(f) == EOF && feof(f), "EOF at the end");
    fclose(f);

    /* POSIX fds: append, lseek, read, fstat. */
    int fd = open(at("new.txt"), O_RDWR | O_APPEND);
    check(fd >= 0, "open O_RDWR|O_APPEND");
    check(write(fd, "more\n", 5) == 5, "write appends 5 bytes");
    check(lseek(fd, 0, SEEK_CUR) == 17, "lseek SEEK_CUR is 17");
    check(lseek(fd, 0, SEEK_END) == 17, "lseek SEEK_END is 17");
    check(lseek(fd, -5, SEEK_END) == 12, "lseek -5 from the end");
    memset(buf, 0, sizeof buf);
    check(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "more\n", 5) == 0, "read \"more\\n\"");
    check(read(fd, buf, sizeof buf) == 0, "read at EOF returns 0");
    check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 17, "fstat: file of 17 bytes");
    close(fd);

    /* pread/pwrite do not move the offset. */
    fd = open(at("new.txt"), O_RDWR);
    check(fd >= 0, "open O_RDWR");
    check(lseek(fd, 3, SEEK_SET) == 3, "lseek to 3");
    check(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite HELLO at 0");
    memset(buf, 0, sizeof buf);
    check(pread(fd, buf, 4, 7) == 4 && memcmp(buf, "file", 4) == 0, "pread \"file\" at 7");
    check(lseek(fd, 0, SEEK_CUR) == 3, "offset still 3");
    check(read(fd, buf, 2) == 2 && memcmp(buf, "LO", 2) == 0, "read \"LO\" at 3");

    /* ftruncate shrinks, then grows with zeros. */
    check(ftruncate(fd, 12) == 0, "ftruncate to 12");
    check(fstat(fd, &st) == 0 && st.st_size == 12, "fstat: 12 bytes");
    check(ftruncate(fd, 14) == 0, "ftruncate to 14");
    check(pread(fd, buf, 4, 10) == 4 && memcmp(buf, "e\n\0\0", 4) == 0, "pread zeros after the old end");
    check(ftruncate(fd, 12) == 0, "ftruncate back to 12");
    close(fd);

    /* stat by path: types and sizes. */
    check(stat(at("new.txt"), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 12, "stat new.txt: file of 12 bytes");
    check(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "stat DIR: dir");
    errno = 0;
    check(stat(at("no-such-file"), &st) != 0 && errno == ENOENT, "stat no-such-file: ENOENT");

    /* A file the host wrote. */
    f = fopen(at("host.txt"), "r");
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "from the host\n") == 0, "read host.txt");
    if (f)
        fclose(f);

    /* Directories, rename, unlink. */
    check(mkdir(at("sub"), 0755) == 0, "mkdir sub");
    check(stat(at("sub"), &st) == 0 && S_ISDIR(st.st_mode), "stat sub: dir");
    errno = 0;
    check(mkdir(at("sub"), 0755) != 0 && errno == EEXIST, "mkdir sub again: EEXIST");
    fd = open(at("sub/a.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    check(fd >= 0 && write(fd, "a\n", 2) == 2, "create sub/a.txt");
    close(fd);
    errno = 0;
    check(open(at("sub/a.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST,
          "O_EXCL on an existing file: EEXIST");
    errno = 0;
    check(rmdir(at("sub")) != 0 && errno == ENOTEMPTY, "rmdir non-empty sub: ENOTEMPTY");
    check(rename(at("sub/a.txt"), at("moved.txt")) == 0, "rename sub/a.txt moved.txt");
    check(rmdir(at("sub")) == 0, "rmdir sub");
    check(rename(at("rename-me.txt"), at("renamed.txt")) == 0, "rename rename-me.txt renamed.txt");
    check(unlink(at("delete-me.txt")) == 0, "unlink delete-me.txt");
    errno = 0;
    check(unlink(at("delete-me.txt")) != 0 && errno == ENOENT, "unlink it again: ENOENT");
    check(mkdir(at("kept"), 0755) == 0, "mkdir kept");
    f = fopen(at("kept/inner.txt"), "w");
    check(f && fputs("inner\n", f) >= 0 && fclose(f) == 0, "write kept/inner.txt");

    printf("%d failures\n", failures);
    return failures != 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ls(void)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        const char *type = e->d_type == DT_REG ? "file" : e->d_type == DT_DIR ? "dir"
                         : e->d_type == DT_LNK ? "symlink" : "other";
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = realloc(names, cap * sizeof *names);
        }
        /* "name type", so that sorting keeps each type with its name. */
        names[n] = malloc(strlen(e->d_name) + 10);
        sprintf(names[n], "%s %s", e->d_name, type);
        n++;
    }
    if (errno != 0) {
        printf("readdir: %s\n", strerror(errno));
        return 1;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    printf("%zu entries\n", n);
    for (size_t i = 0; i < n; i++) {
        /* lstat agrees with d_type. */
        struct stat st;
        char *sp = strrchr(names[i], ' ');
        *sp = '\0';
        const char *lt = lstat(at(names[i]), &st) == 0 ? type_of(st.st_mode) : strerror(errno);
        printf("%s %s%s%s\n", names[i], sp + 1, strcmp(lt, sp + 1) ? " but lstat says " : "",
               strcmp(lt, sp + 1) ? lt : "");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: files ops|ls DIR\n");
        return 64;
    }
    dir = argv[2];
    if (strcmp(argv[1], "ops") == 0)
        return ops();
    if (strcmp(argv[1], "ls") == 0)
        return ls();
    fprintf(stderr, "files: unknown subcommand '%s'\n", argv[1]);
    return 64;
}
