/* SPDX-License-Identifier: MIT */
/* runq-box: PID 1 of every job container of the Docker backend; the protocol is box_proto.h.
 * Usage: runq-box [--cgroup-stats]
 * Does: reads one job from stdin (files into /box, the program's stdin into a sealed memfd),
 * runs the program as its child under rlimits, forwards its output as STDOUT/STDERR records
 * within output_bytes, enforces wall_ms and cpu_ms (the container's cgroup with
 * --cgroup-stats, else RLIMIT_CPU alone), kills and reaps the whole tree, answers the
 * COLLECTs, and sends one RESULT.
 * Must not trust anything the program can touch. It runs as the same uid: it could signal
 * runq-box were runq-box not PID 1 (init gets no signal it has no handler for), and while it
 * runs it writes anywhere in /box and /tmp (links or FIFOs where collected files should be).
 * So runq-box is not dumpable (no ptrace, no /proc/1/fd, no /proc/1/mem); only runq-box writes
 * its stdout, the program's bytes going inside STDOUT/STDERR records (no forged RESULT); and
 * /box is read back only once the tree is dead, through openat2 beneath the /box fd with no
 * links followed, and each file through its fd only.
 * Must not kill(-1) unless it is PID 1 of its pid namespace (as root on a host that would be
 * every process of the machine; there it kills the program's process group only), nor read
 * /sys/fs/cgroup without --cgroup-stats (on a host those counters are the host's).
 * Parts: box_input (the records in), box_run (the program and its tree), box_out (the records
 * out), sharing box.h; this file is main. Built alone and statically from these sources and
 * box_proto.h (dockerfiles/box.Dockerfile): libc only, no global state. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "box.h"
#include "box_input.h"
#include "box_out.h"
#include "box_run.h"

/* The run, then the collected files (the tree is dead by then): only when it started. */
static void run_job(struct run *r, struct job *j, int box, int cgroup_stats)
{
    size_t i;

    if (box_run_program(r, j, cgroup_stats) == 0)
        for (i = 0; i < j->collect.n; i++)
            box_out_collect(r, box, j->collect.v[i], j->limit[L_COLLECT]);
    box_run_close(r);
}

/* Returns the /box fd, or -1 with j->why set (reported once the KEY is known). */
static int setup(struct job *j)
{
    int fd;

    /* Not dumpable: the program (same uid) can neither ptrace runq-box nor open its
     * /proc/1/fd/ or /proc/1/mem. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return box_fail(j, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN); /* the worker gone is a failed write, not a death */
    umask(0);                 /* FILE modes are exactly 0755 or 0644 */
    if ((fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        box_fail(j, "cannot open the working directory: %s", strerror(errno));
    return fd;
}

int main(int argc, char **argv)
{
    struct job j; /* 100 KiB, most of it the lists */
    struct run r;
    int box, cgroup_stats = argc == 2 && strcmp(argv[1], "--cgroup-stats") == 0;
    const char *bad;

    if (argc > 2 || (argc == 2 && !cgroup_stats)) {
        fprintf(stderr, "usage: runq-box [--cgroup-stats]\n");
        return 2;
    }
    box_input_init(&j);
    box_run_init(&r);
    box = setup(&j);
    if ((bad = box_input_key(&j)) != NULL) {
        fprintf(stderr, "runq-box: %s\n", bad);
        return 2;
    }
    /* Nothing runs unless the whole input is valid. */
    if (box >= 0 && box_input_records(box, &j) == 0)
        run_job(&r, &j, box, cgroup_stats);
    box_out_result(&r, &j);
    box_input_free(&j);
    if (box >= 0)
        close(box);
    return r.out_failed;
}
