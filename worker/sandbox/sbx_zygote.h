/* SPDX-License-Identifier: MIT */
/* sbx_zygote: a slot's long-lived root helper and the init (PID 1) of its pid namespace.
 * Why: moving a task into a cgroup v1 group waits for an RCU grace period (milliseconds), and
 * a second process level per run (an init per run) costs a fork; a process forked inside the
 * groups inherits them for free. The zygote joins the slot's v1 groups, pid and template
 * namespaces once, then clone3()s each run's program straight into the v2 group
 * (CLONE_INTO_CGROUP) and fresh ipc and mount namespaces. As PID 1 it reaps every orphan and
 * writes the program's wait status to the run's report pipe, then closes it.
 * Does: receive a run's limits, argv, env and descriptors over a socket, answer 0 or -errno.
 * Must not: allocate per run (its memory is charged to the slot), touch any path, or outlive
 * the launcher (it dies with it, and its pid namespace with it). */
#ifndef RUNQ_SBX_ZYGOTE_H
#define RUNQ_SBX_ZYGOTE_H

#include <sys/types.h>

#include "sbx_cgroup.h"
#include "sbx_rootfs.h"
#include "sbx_seccomp.h"
#include "sbx_spec.h"

/* argv and environment of one run, NUL-terminated strings, must fit in this many bytes. */
#define SBX_SPAWN_MAX_STRINGS 65536
#define SBX_SPAWN_MAX_ARGS 2048

/* SBX_FD_CGROUP is the v2 group to clone into, or /dev/null on pure v1 (no such group). */
enum sbx_spawn_fd { SBX_FD_BOX, SBX_FD_STDIN, SBX_FD_STDOUT, SBX_FD_STDERR, SBX_FD_REPORT,
                    SBX_FD_CGROUP, SBX_SPAWN_NFDS };

struct sbx_zygote {
    pid_t pid;
    int sock;  /* -1 when stopped */
    void *buf; /* the request being built, allocated once */
};

struct sbx_zygote_setup {
    const struct sbx_ns *ns;
    struct sbx_cgroup *cg;
    const struct sbx_seccomp *filter;
    uid_t uid;
    gid_t gid;
};

/* Forks the zygote and waits until it has joined the slot. 0 or -errno (reason in err). */
int sbx_zygote_start(struct sbx_zygote *z, const struct sbx_zygote_setup *setup, char *err,
                     size_t errlen);

/* Starts one run's program. fds are duplicated into it (the caller keeps and closes its own).
 * Returns 0, -E2BIG when argv+env are too large, -EBUSY while the previous run's program is
 * not reaped yet, or another -errno (the zygote is gone). */
int sbx_zygote_spawn(struct sbx_zygote *z, const struct sbx_limits *limits, char *const *argv,
                     char *const *envp, const int fds[SBX_SPAWN_NFDS]);

/* Asks the zygote to SIGKILL every process of its pid namespace but itself (no reply). The
 * way to kill a run where cgroup.kill does not exist (cgroup v1 only): killing pids read
 * from cgroup.procs would race with pid reuse on the host. 0 or -errno. */
int sbx_zygote_kill_all(struct sbx_zygote *z);

void sbx_zygote_stop(struct sbx_zygote *z);

#endif
