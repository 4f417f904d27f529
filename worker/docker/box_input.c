/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "box_input.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "box_proto.h"

#define NAME_MAX_BYTES 4096 /* FILE and COLLECT names */

static const char *const limit_names[L_COUNT] = {
    BOX_LIMIT_CPU_MS,     BOX_LIMIT_WALL_MS,     BOX_LIMIT_OUTPUT_BYTES,  BOX_LIMIT_FILE_BYTES,
    BOX_LIMIT_OPEN_FILES, BOX_LIMIT_STACK_BYTES, BOX_LIMIT_ADDRESS_SPACE, BOX_LIMIT_COLLECT_BYTES,
};
/* When a LIMIT is absent. 0 is none for cpu_ms, wall_ms and address_space, given or not. */
static const uint64_t limit_defaults[L_COUNT] = {
    0, 0, 1 << 20, 16 << 20, 64, 64 << 20, 0, 64 << 20,
};

void box_input_init(struct job *j)
{
    memset(j, 0, sizeof(*j));
    j->stdin_fd = -1;
    memcpy(j->limit, limit_defaults, sizeof(j->limit));
}

void box_input_free(struct job *j)
{
    size_t i;

    for (i = 0; i < LIST_MAX; i++) {
        free(j->argv.v[i]);
        free(j->envp.v[i]);
        free(j->collect.v[i]);
    }
    if (j->stdin_fd >= 0)
        close(j->stdin_fd);
    j->stdin_fd = -1;
}

/* Reads n bytes from fd 0; returns how many came before EOF or an error. */
static size_t read_in(void *dst, size_t n)
{
    size_t got = 0;
    ssize_t k;

    while (got < n) {
        k = read(0, (char *)dst + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

/* Copies n payload bytes to fd through a buffer: a STDIN or FILE may be 64 MiB. */
static int copy_in(struct job *j, int fd, size_t n, const char *what)
{
    char buf[CHUNK];
    size_t k;

    for (; n; n -= k) {
        k = n < sizeof(buf) ? n : sizeof(buf);
        if (read_in(buf, k) != k)
            return box_fail(j, "input ended inside a %s record", what);
        if (box_write_all(fd, buf, k) < 0)
            return box_fail(j, "%s: %s", what, strerror(errno));
    }
    return 0;
}

/* 0: a header was read; 1: EOF before it; -1: EOF inside it. */
static int read_header(int *type, uint32_t *len)
{
    unsigned char h[BOX_HEADER_SIZE];
    size_t got = read_in(h, sizeof(h));

    if (got != sizeof(h))
        return got ? -1 : 1;
    *type = h[0];
    *len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    return 0;
}

const char *box_input_key(struct job *j)
{
    uint32_t len, i;
    int type;

    if (read_header(&type, &len) != 0 || type != BOX_IN_KEY)
        return "the first record is not KEY";
    if (len < 16 || len > 64 || read_in(j->key, len) != len)
        return "KEY must have 16 to 64 bytes";
    for (i = 0; i < len; i++)
        if ((unsigned char)j->key[i] <= ' ' || (unsigned char)j->key[i] > '~')
            return "KEY must be printable ASCII without spaces (it goes on a RESULT line)";
    return NULL;
}

/* A payload as a C string: a NUL inside would silently cut an argument, variable or name. */
static char *read_text(struct job *j, uint32_t len)
{
    char *s = malloc((size_t)len + 1);

    if (!s || read_in(s, len) != len || memchr(s, '\0', len)) {
        box_fail(j, s ? "a text record cut short or holding a NUL byte" : "out of memory");
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

/* Relative, at most NAME_MAX_BYTES, no empty, "." or ".." component (so no "a//b", "a/"). */
static int name_valid(const char *name)
{
    const char *p = name;
    size_t n;

    if (strlen(name) > NAME_MAX_BYTES)
        return 0;
    for (;; p += n + 1) {
        n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!p[n])
            return 1;
    }
}

/* ARG, ENV or COLLECT. */
static int add_text(struct job *j, int type, uint32_t len)
{
    struct list *l = type == BOX_IN_ARG ? &j->argv : type == BOX_IN_ENV ? &j->envp : &j->collect;
    char *s;

    if (l->n == LIST_MAX)
        return box_fail(j, "more than %d '%c' records", LIST_MAX, type);
    if (!(s = read_text(j, len)))
        return -1;
    l->v[l->n++] = s; /* freed with the job, valid or not */
    if (type == BOX_IN_ENV && (s[0] == '=' || !strchr(s, '=')))
        return box_fail(j, "an ENV that is not NAME=value");
    if (type == BOX_IN_COLLECT && !name_valid(s))
        return box_fail(j, "an invalid COLLECT name");
    return 0;
}

/* "name=decimal", a name of box_proto.h, each at most once. */
static int add_limit(struct job *j, uint32_t len)
{
    char *s = read_text(j, len), *num = s ? strchr(s, '=') : NULL;
    int i = L_COUNT;

    if (!s)
        return -1;
    if (num) {
        *num++ = '\0';
        for (i = 0; i < L_COUNT && strcmp(s, limit_names[i]) != 0; i++)
            ;
    }
    /* At most 15 digits: cpu_ms * 1000 and the rlimit arithmetic cannot overflow. */
    if (i == L_COUNT || (j->limit_seen & 1u << i) || !*num || strlen(num) > 15 ||
        strspn(num, "0123456789") != strlen(num)) {
        free(s);
        return box_fail(j, "a LIMIT with an unknown name, a bad number, or given twice");
    }
    j->limit[i] = strtoull(num, NULL, 10);
    j->limit_seen |= 1u << i;
    free(s);
    return 0;
}

/* Opens name's parent directory beneath box, creating what is missing (0755). Follows no
 * link: nothing of the program has run yet, but /box comes from the image. */
static int open_parent(int box, char *name, char **base)
{
    char *p = name, *slash;
    int dir = fcntl(box, F_DUPFD_CLOEXEC, 3), next, e;

    for (; dir >= 0 && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        *slash = '\0';
        next = mkdirat(dir, p, 0755) < 0 && errno != EEXIST
                   ? -1
                   : openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        *slash = '/';
        e = errno;
        close(dir);
        errno = e;
        dir = next;
    }
    *base = p;
    return dir;
}

/* FILE: u8 executable, the name, NUL, the bytes (these streamed to the file, never held). */
static int put_file(int box, struct job *j, uint32_t len)
{
    char head[1 + NAME_MAX_BYTES + 1], *name = head + 1, *nul, *base;
    size_t k = len < sizeof(head) ? len : sizeof(head);
    int dir, fd, r;

    if (len < 2 || read_in(head, k) != k)
        return box_fail(j, "a FILE record cut short");
    nul = memchr(name, '\0', k - 1);
    if ((unsigned char)head[0] > 1 || !nul || !name_valid(name))
        return box_fail(j, "a FILE with a bad executable byte or an invalid name");
    dir = open_parent(box, name, &base);
    fd = dir < 0 ? -1
                 : openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          head[0] ? 0755 : 0644);
    r = errno;
    if (dir >= 0)
        close(dir);
    if (fd < 0)
        return box_fail(j, "FILE: cannot create it: %s", strerror(r));
    /* head holds the first bytes of the content already, after the name's NUL. */
    r = box_write_all(fd, nul + 1, (size_t)(head + k - nul - 1)) < 0
            ? box_fail(j, "FILE: %s", strerror(errno))
            : copy_in(j, fd, len - k, "FILE");
    close(fd);
    return r;
}

static int add_stdin(struct job *j, uint32_t len)
{
    if (j->stdin_fd < 0 &&
        (j->stdin_fd = memfd_create("stdin", MFD_ALLOW_SEALING | MFD_CLOEXEC)) < 0)
        return box_fail(j, "memfd_create: %s", strerror(errno));
    return copy_in(j, j->stdin_fd, len, "STDIN");
}

static int finish_input(struct job *j, uint32_t len)
{
    if (len || !j->argv.n)
        return box_fail(j, len ? "GO with a payload" : "no ARG record");
    if (j->stdin_fd < 0) {
        j->stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return j->stdin_fd < 0 ? box_fail(j, "/dev/null: %s", strerror(errno)) : 0;
    }
    /* The program shares the open file: sealed, it cannot change its own input. */
    if (fcntl(j->stdin_fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
        lseek(j->stdin_fd, 0, SEEK_SET) < 0)
        return box_fail(j, "sealing stdin: %s", strerror(errno));
    return 0;
}

/* In the order box_proto.h fixes. */
int box_input_records(int box, struct job *j)
{
    static const char order[] = {BOX_IN_ARG,     BOX_IN_ENV,   BOX_IN_LIMIT, BOX_IN_FILE,
                                 BOX_IN_COLLECT, BOX_IN_STDIN, BOX_IN_GO};
    const char *at = order;
    uint32_t len;
    int type, r;

    for (;;) {
        if ((r = read_header(&type, &len)) != 0)
            return box_fail(j, r > 0 ? "input ended before GO" : "input ended inside a header");
        /* Only the current type or a later one may come. */
        at = type ? memchr(at, type, sizeof(order) - (size_t)(at - order)) : NULL;
        if (!at)
            return box_fail(j, "a record of type 0x%02x, unknown or out of order", type);
        if (len > BOX_PAYLOAD_MAX)
            return box_fail(j, "a record of %" PRIu32 " bytes, over BOX_PAYLOAD_MAX", len);
        switch (type) {
        case BOX_IN_LIMIT: r = add_limit(j, len); break;
        case BOX_IN_FILE: r = put_file(box, j, len); break;
        case BOX_IN_STDIN: r = add_stdin(j, len); break;
        case BOX_IN_GO: return finish_input(j, len);
        default: r = add_text(j, type, len); break;
        }
        if (r < 0)
            return -1;
    }
}
