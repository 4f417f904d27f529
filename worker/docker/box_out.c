/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "box_out.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "box_proto.h"

static const char *const killed_names[] = {"none", "cpu", "wall", "output"};

void box_out_write(struct run *r, const void *p, size_t n)
{
    if (!r->out_failed && box_write_all(1, p, n) < 0)
        r->out_failed = 1;
}

void box_out_encode(unsigned char *h, int type, size_t len)
{
    h[0] = (unsigned char)type;
    h[1] = (unsigned char)(len >> 24);
    h[2] = (unsigned char)(len >> 16);
    h[3] = (unsigned char)(len >> 8);
    h[4] = (unsigned char)len;
}

void box_out_header(struct run *r, int type, size_t len)
{
    unsigned char h[BOX_HEADER_SIZE];

    box_out_encode(h, type, len);
    box_out_write(r, h, sizeof(h));
}

/* The tree is dead (as init: every process of the namespace), so nothing changes the file
 * while it is sent. Should it shrink anyway, the record cannot be completed: the stream is
 * broken off without a RESULT, which the worker takes as a failed run. */
static void send_file(struct run *r, int fd, const char *name, size_t size)
{
    char buf[CHUNK];
    ssize_t n;

    box_out_header(r, BOX_OUT_FILE, strlen(name) + 1 + size);
    box_out_write(r, name, strlen(name) + 1);
    for (; size && !r->out_failed; size -= (size_t)n) {
        while ((n = read(fd, buf, size < sizeof(buf) ? size : sizeof(buf))) < 0 && errno == EINTR)
            ;
        if (n <= 0) {
            fprintf(stderr, "runq-box: a collected file shrank while it was sent\n");
            r->out_failed = 1;
            return;
        }
        box_out_write(r, buf, (size_t)n);
    }
}

void box_out_collect(struct run *r, int box, const char *name, uint64_t max)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, /* FIFOs: no wait */
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   RESOLVE_NO_XDEV,
    };
    int fd = (int)syscall(SYS_openat2, box, name, &how, sizeof(how));
    const char *why = NULL;
    struct stat st;

    if (fd < 0)
        why = errno == ENOENT   ? BOX_COLLECT_MISSING
              : errno == ELOOP ? BOX_COLLECT_SYMLINK
                               : BOX_COLLECT_CANNOT_OPEN;
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        why = BOX_COLLECT_NOT_REGULAR;
    else if (st.st_nlink != 1)
        why = BOX_COLLECT_HARD_LINKED; /* its other name may be anywhere, e.g. in the image */
    else if ((uint64_t)st.st_size > max ||
             (uint64_t)st.st_size + strlen(name) + 1 > BOX_PAYLOAD_MAX)
        why = BOX_COLLECT_TOO_LARGE;
    if (why) {
        box_out_header(r, BOX_OUT_FILE_ERROR, strlen(name) + 1 + strlen(why));
        box_out_write(r, name, strlen(name) + 1);
        box_out_write(r, why, strlen(why));
    } else {
        send_file(r, fd, name, (size_t)st.st_size);
    }
    if (fd >= 0)
        close(fd);
}

void box_out_result(struct run *r, const struct job *j)
{
    char buf[1024];
    int n;

    n = snprintf(buf, sizeof(buf),
                 BOX_RESULT_KEY "=%s\n" BOX_RESULT_EXITED "=%d\n" BOX_RESULT_WAIT_STATUS "=%d\n"
                 BOX_RESULT_KILLED_FOR "=%s\n" BOX_RESULT_CPU_US "=%" PRIu64 "\n"
                 BOX_RESULT_MEMORY_KB "=%" PRIu64 "\n" BOX_RESULT_OOM_KILLS "=%" PRIu64 "\n"
                 BOX_RESULT_ORPHAN_SIGSYS "=%d\n" BOX_RESULT_EXEC_ERRNO "=%d\n"
                 BOX_RESULT_STDOUT_TRUNCATED "=%d\n" BOX_RESULT_STDERR_TRUNCATED "=%d\n",
                 j->key, r->exited, r->wait_status, killed_names[r->killed_for], r->cpu_us,
                 r->memory_kb, r->oom_kills, r->orphan_sigsys, r->exec_errno, r->truncated[0],
                 r->truncated[1]);
    if (j->why[0])
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, BOX_RESULT_INTERNAL_ERROR "=%s\n", j->why);
    box_out_header(r, BOX_OUT_RESULT, (size_t)n);
    box_out_write(r, buf, (size_t)n);
}
