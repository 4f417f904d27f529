/* SPDX-License-Identifier: MIT */
/* box: what the parts of runq-box share (runq_box.c says what runq-box does). box_input reads
 * the job, box_run runs and supervises it, box_out writes the records back, runq_box.c ties
 * them together. Here: the job as the input gave it (struct job), the run as it went (struct
 * run), and the two helpers every part needs.
 * Must not: hold state (the job and the run live on main's stack and are passed down), grow
 * behaviour beyond these helpers, or use anything but libc: runq-box is built alone and
 * statically from its own sources inside an image (dockerfiles/box.Dockerfile). */
#ifndef RUNQ_BOX_H
#define RUNQ_BOX_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#define LIST_MAX 4096     /* ARG, ENV and COLLECT records, each */
#define CHUNK (64u << 10) /* one read of input, of program output, of a collected file */

/* The LIMITs of box_proto.h; box_input has their names and defaults. */
enum limit { L_CPU, L_WALL, L_OUTPUT, L_FILE, L_OPEN_FILES, L_STACK, L_AS, L_COLLECT, L_COUNT };

enum killed_for { KILLED_NONE, KILLED_CPU, KILLED_WALL, KILLED_OUTPUT };

struct list {
    char *v[LIST_MAX + 1]; /* NULL-terminated */
    size_t n;
};

struct job {
    char key[65];
    struct list argv, envp, collect;
    uint64_t limit[L_COUNT];
    unsigned limit_seen; /* a bit per enum limit */
    int stdin_fd;        /* the memfd while STDINs arrive; after GO sealed, or /dev/null */
    char why[256];       /* internal_error: fixed texts, numbers, strerror; no input bytes */
};

struct run {
    pid_t pid;  /* the program, leader of its own process group */
    int pid1;   /* runq-box is PID 1 of its pid namespace: kill(-1) is the tree */
    int fd[2];  /* read ends of the program's stdout and stderr; -1 at EOF */
    uint64_t sent[2];
    int reaped, group_gone, out_failed; /* out_failed: the worker is gone, write no more */
    long long started_at, reaped_at;
    /* For the RESULT. */
    int exited, wait_status, exec_errno, orphan_sigsys, truncated[2];
    enum killed_for killed_for;
    uint64_t cpu_us, memory_kb, oom_kills;
};

static inline int box_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    ssize_t w;

    while (n) {
        w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sets j->why (the RESULT's internal_error) and returns -1. */
__attribute__((format(printf, 2, 3))) static inline int box_fail(struct job *j, const char *fmt,
                                                                 ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(j->why, sizeof(j->why), fmt, ap);
    va_end(ap);
    return -1;
}

#endif
