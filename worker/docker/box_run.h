/* SPDX-License-Identifier: MIT */
/* box_run: the program and its tree. Forks the program into its own process group with the
 * job's rlimits and stdin, execs it in the PATH of its own environment (a report pipe says why
 * an exec failed), then supervises it: its stdout and stderr go out as records within
 * output_bytes, wall_ms and cpu_ms are enforced (cpu_ms from the container's cgroup with
 * --cgroup-stats, else RLIMIT_CPU alone), every process is reaped (as init, the orphans too)
 * and the whole tree is killed. Fills the run's numbers for the RESULT.
 * Must not: kill(-1) unless runq-box is PID 1 of its pid namespace (as root on a host that
 * would be every process of the machine; there it kills the program's process group only, and
 * never once that group was found empty); read /sys/fs/cgroup without --cgroup-stats (on a
 * host those counters are the host's); return, as init, while a process of the tree lives. */
#ifndef RUNQ_BOX_RUN_H
#define RUNQ_BOX_RUN_H

#include "box.h"

/* A run that has not started: no pipes; whether runq-box is PID 1 of its namespace. */
void box_run_init(struct run *r);

/* Runs j (a valid job, its input complete) to the end. 0 when the program ran, or when its
 * exec failed (r->exec_errno): its tree is then dead and reaped, and r holds the RESULT's
 * numbers. -1 with j->why when runq-box could not start it. cgroup_stats: --cgroup-stats. */
int box_run_program(struct run *r, struct job *j, int cgroup_stats);

/* Closes what is left of the output pipes. */
void box_run_close(struct run *r);

#endif
