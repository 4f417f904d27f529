/* SPDX-License-Identifier: MIT */
/* sbx_cgroup: one slot's control groups across cgroup v2, v1 and hybrid hosts.
 * Does: create <mount>/<parent>/slot-N in each hierarchy the layout names, set memory and
 * pids limits, reset/read per-run counters (as deltas), kill the group, check emptiness.
 * In v2 the programs live in slot-N/run, a controller-less child: limits and counters stay on
 * slot-N (hierarchical), and "run" is recreated after each cgroup.kill, because some kernels
 * SIGKILL every later CLONE_INTO_CGROUP child of a group that was once killed.
 * Must not: decide verdicts, fork, or follow anything a sandboxed program controls (it only
 * touches cgroupfs, which the program cannot mount or write). All paths derive from the
 * layout, so unit tests point it at a fake tree of plain files. */
#ifndef RUNQ_SBX_CGROUP_H
#define RUNQ_SBX_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "sbx_cgdetect.h"

struct sbx_cgroup {
    struct sbx_cg_layout layout;
    int v2_dir;                  /* the slot's v2 group, -1 if v2 is unused */
    int run_dir;                 /* its "run" child, where programs live (v2 tracking only) */
    int run_killed;              /* cgroup.kill was written: recreate "run" before reuse */
    int v1_memory_dir, v1_pids_dir, v1_cpuacct_dir; /* -1 when that need is not on v1 */
    int cpu_fd;                  /* cpu.stat or cpuacct.usage, kept open: read often */
    int peak_fd;                 /* memory.peak / max_usage_in_bytes for the current run */
    uint64_t memory_limit, pids_limit; /* last written, to skip rewrites */
    pid_t ignore_pid;            /* the slot's zygote: in the v1 groups, never a run's */
};

struct sbx_cg_usage {
    uint64_t cpu_us;        /* CPU time of the group, cumulative */
    uint64_t oom_kills;     /* cumulative */
    uint64_t pids_max_hits; /* cumulative */
    uint64_t memory_peak;   /* bytes; since the last sbx_cg_begin_run */
    uint64_t memory_start;  /* usage when the run began (earlier runs' page cache); begin only */
};

/* Reads /proc/self/mountinfo and the v2 controllers. Returns 0 or -errno (reason in err). */
int sbx_cg_detect_system(struct sbx_cg_layout *out, char *err, size_t errlen);

/* Creates (or adopts, if empty) the slot's groups and opens them. Returns 0 or -errno. */
int sbx_cg_open(struct sbx_cgroup *cg, const struct sbx_cg_layout *layout, const char *parent,
                unsigned slot, char *err, size_t errlen);

/* Closes descriptors; with remove set, also removes the slot's (empty) groups. */
void sbx_cg_close(struct sbx_cgroup *cg, int remove);

int sbx_cg_set_limits(struct sbx_cgroup *cg, uint64_t memory_bytes, uint64_t pids);

/* Before a run: refuses (-EBUSY) a non-empty group, resets the memory peak, fills *base.
 * The reset peak starts at the current usage, which includes page cache charged by earlier
 * runs; callers report peak - memory_start as the run's own. */
int sbx_cg_begin_run(struct sbx_cgroup *cg, struct sbx_cg_usage *base);

/* Current cumulative counters (memory_peak: since begin_run). */
int sbx_cg_read_usage(struct sbx_cgroup *cg, struct sbx_cg_usage *u);
int sbx_cg_read_cpu_us(struct sbx_cgroup *cg, uint64_t *us);

/* Kills every process in the group with v2's cgroup.kill; -EOPNOTSUPP on v1 (the caller asks
 * the slot's zygote instead: killing listed pids would race with pid reuse). */
int sbx_cg_kill(struct sbx_cgroup *cg);

/* 1 if no process is left (none listed, and pids.current back to the zygote alone), 0 if some
 * are, -errno on failure. */
int sbx_cg_is_empty(struct sbx_cgroup *cg);

/* The v2 group a run's program is cloned into (CLONE_INTO_CGROUP), or -1 on pure v1. */
int sbx_cg_spawn_dir(const struct sbx_cgroup *cg);

/* The cgroup.procs descriptors a new process must write "0" to, to join the v1 groups.
 * Returns how many were opened into fds[] (caller closes them), or -errno. */
int sbx_cg_open_v1_join_fds(struct sbx_cgroup *cg, int fds[3]);

#endif
