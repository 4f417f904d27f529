/* SPDX-License-Identifier: MIT */
/* runq_io: see runq_io.h. */
#include "runq_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *path, int e)
{
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return -e;
}

int runq_io_read(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    const char *name = strcmp(path, "-") ? path : "standard input";
    size_t cap = 0, n = 0;
    char *buf = NULL, *p;
    struct stat st;
    ssize_t r;
    int e = 0;

    *data = NULL;
    *len = 0;
    if (fd < 0)
        return fail(err, errlen, name, errno);
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        e = EISDIR;
    while (!e) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64 * 1024;
            if (cap > RUNQ_IO_MAX + 1)
                cap = RUNQ_IO_MAX + 1;
            if (n == cap) {
                e = EFBIG;
                break;
            }
            if (!(p = realloc(buf, cap + 1))) {
                e = ENOMEM;
                break;
            }
            buf = p;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            e = errno;
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (!e && n > RUNQ_IO_MAX)
        e = EFBIG;
    if (e) {
        free(buf);
        if (e == EFBIG) {
            snprintf(err, errlen, "%s: larger than %zu MiB", name, RUNQ_IO_MAX >> 20);
            return -e;
        }
        return fail(err, errlen, name, e);
    }
    if (!buf && !(buf = malloc(1)))
        return fail(err, errlen, name, ENOMEM);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

void runq_io_free_list(char **names, size_t n)
{
    size_t i;

    for (i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int runq_io_list(const char *dir, char ***names, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL, **p;
    size_t count = 0, cap = 0;
    int e = 0;

    *names = NULL;
    *n = 0;
    if (!d)
        return fail(err, errlen, dir, errno);
    while (!e && (errno = 0, de = readdir(d))) {
        struct stat st;
        /* stat, not the d_type: a symlink to a test file is a test file */
        if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            if (!(p = realloc(v, cap * sizeof(*v)))) {
                e = ENOMEM;
                break;
            }
            v = p;
        }
        if (!(v[count] = strdup(de->d_name)))
            e = ENOMEM;
        else
            count++;
    }
    if (!e && errno)
        e = errno;
    closedir(d);
    if (e) {
        runq_io_free_list(v, count);
        return fail(err, errlen, dir, e);
    }
    *names = v;
    *n = count;
    return 0;
}

char *runq_io_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

/* 0 or an errno. */
static int write_all(int fd, const char *text, size_t len)
{
    size_t off = 0;
    ssize_t w;

    while (off < len) {
        w = write(fd, text + off, len - off);
        if (w < 0 && errno != EINTR)
            return errno;
        if (w > 0)
            off += (size_t)w;
    }
    return 0;
}

int runq_io_write(const char *path, const char *text, char *err, size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *tmp;
    struct stat st;
    int fd, e;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* /dev/stdout, a pipe: nothing to replace, and no directory to put a file beside */
        if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
            return fail(err, errlen, path, errno);
        e = write_all(fd, text, strlen(text));
        close(fd);
        return e ? fail(err, errlen, path, e) : 0;
    }
    if (!(tmp = malloc(n)))
        return fail(err, errlen, path, ENOMEM);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        e = errno;
        free(tmp);
        return fail(err, errlen, path, e);
    }
    e = write_all(fd, text, strlen(text));
    /* mkstemp makes the file 0600; a report is no secret, readable like any other file */
    if (!e && fchmod(fd, 0644) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e)
        unlink(tmp);
    free(tmp);
    return e ? fail(err, errlen, path, e) : 0;
}
