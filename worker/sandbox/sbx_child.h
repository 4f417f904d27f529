/* SPDX-License-Identifier: MIT */
/* sbx_child: the code that runs after clone3 in a fresh pid namespace: our init (PID 1) and
 * the program it forks.
 * Does: join the slot's cgroups and namespaces, mount the run's /tmp, /dev/shm, /proc and
 * /box, then (in the program's process) drop every privilege and exec. Init reaps orphans
 * and reports the program's wait status; its exit makes the kernel kill the namespace.
 * Must not: return, allocate, or keep any descriptor the program could use; every failure is
 * reported as a stage and errno on the report pipe, never as the program's own failure. */
#ifndef RUNQ_SBX_CHILD_H
#define RUNQ_SBX_CHILD_H

#include <stdint.h>
#include <sys/types.h>

#include "sbx_rootfs.h"
#include "sbx_seccomp.h"
#include "sbx_spec.h"

enum sbx_report_kind {
    SBX_REPORT_SETUP_FAILED = 1, /* stage + err */
    SBX_REPORT_EXITED,           /* status: the program's wait status */
    SBX_REPORT_ORPHAN_SIGSYS,    /* a reaped descendant died of seccomp */
};

enum sbx_stage {
    SBX_STAGE_CGROUP = 1,
    SBX_STAGE_NAMESPACES,
    SBX_STAGE_MOUNTS,
    SBX_STAGE_FORK,
    SBX_STAGE_STDIO,
    SBX_STAGE_RLIMITS,
    SBX_STAGE_PRIVILEGES,
    SBX_STAGE_SECCOMP,
    SBX_STAGE_EXEC,
};

struct sbx_report {
    int32_t kind, stage, err, status;
};

struct sbx_child_args {
    const struct sbx_ns *ns;
    int join_fds[3];
    int njoin;
    int box_fd, stdin_fd, stdout_fd, stderr_fd, report_fd;
    const struct sbx_seccomp *filter;
    const struct sbx_limits *limits;
    uid_t uid;
    gid_t gid;
    char *const *argv;
    char *const *envp;
    char tmpfs_options[96]; /* for /tmp and /dev/shm, prepared by the parent */
};

const char *sbx_stage_name(int stage);

_Noreturn void sbx_child_main(const struct sbx_child_args *a);

#endif
