/* SPDX-License-Identifier: MIT */
/* sbx_child: the code that runs in a run's process right after the slot's zygote cloned it
 * into fresh ipc and mount namespaces and the slot's cgroups.
 * Does: mount the run's /tmp, /dev/shm and /box, drop every privilege, install the seccomp
 * filter and exec the program.
 * Runs in the zygote's memory (CLONE_VM|CLONE_VFORK) until exec: it must only read shared
 * data and write its own stack.
 * Must not: return, allocate, or keep any descriptor the program could use; every failure is
 * reported as a stage and errno on the report pipe, never as the program's own failure. */
#ifndef RUNQ_SBX_CHILD_H
#define RUNQ_SBX_CHILD_H

#include <stdint.h>
#include <sys/types.h>

#include "sbx_seccomp.h"
#include "sbx_spec.h"

enum sbx_report_kind {
    SBX_REPORT_SETUP_FAILED = 1, /* stage + err */
    SBX_REPORT_EXITED,           /* status: the program's wait status (from the zygote) */
    SBX_REPORT_ORPHAN_SIGSYS,    /* the zygote reaped an orphan killed by seccomp */
};

enum sbx_stage {
    SBX_STAGE_NAMESPACES = 1,
    SBX_STAGE_MOUNTS,
    SBX_STAGE_FORK,
    SBX_STAGE_STDIO,
    SBX_STAGE_RLIMITS,
    SBX_STAGE_PRIVILEGES,
    SBX_STAGE_SECCOMP,
    SBX_STAGE_EXEC,
    SBX_STAGE_SETUP_DIED, /* the zygote saw the child die before it reached execve */
};

struct sbx_report {
    int32_t kind, stage, err, status;
};

struct sbx_child_args {
    int box_fd, stdin_fd, stdout_fd, stderr_fd, report_fd;
    const struct sbx_seccomp *filter;
    const struct sbx_limits *limits;
    uid_t uid;
    gid_t gid;
    char *const *argv;
    char *const *envp;
    const char *tmpfs_options; /* for /tmp and /dev/shm */
    volatile int *exec_reached;   /* shared with the zygote: set right before execve */
};

const char *sbx_stage_name(int stage);

/* One report message: 16 bytes, a single atomic pipe write. Async-signal-safe. */
void sbx_report_write(int fd, int kind, int stage, int err, int status);

/* For the zygote, once: empties the capability bounding set and locks the securebits so no
 * exec by any descendant can ever gain a capability. It keeps its own effective ones (it
 * never execs). 0 or -errno. */
int sbx_child_limit_exec_privileges(void);

_Noreturn void sbx_child_main(const struct sbx_child_args *a);

#endif
