/* SPDX-License-Identifier: MIT */
/* sbx_verdict: turn what was observed about a run into one status.
 * Does: the precedence rules of docs/SANDBOX.md as a pure function of plain data.
 * Must not: read cgroups, wait for processes or format JSON. */
#ifndef RUNQ_SBX_VERDICT_H
#define RUNQ_SBX_VERDICT_H

#include <stdint.h>

enum sbx_status {
    SBX_OK,
    SBX_RUNTIME_ERROR,
    SBX_SIGNALED,
    SBX_TIME_LIMIT,
    SBX_MEMORY_LIMIT,
    SBX_OUTPUT_LIMIT,
    SBX_SECURITY_VIOLATION,
    SBX_INTERNAL_ERROR,
};

enum sbx_time_kind { SBX_TIME_NONE, SBX_TIME_CPU, SBX_TIME_WALL };

/* Why the supervisor killed the tree itself, if it did. */
enum sbx_kill_reason { SBX_KILL_NONE, SBX_KILL_CPU, SBX_KILL_WALL, SBX_KILL_OUTPUT };

struct sbx_observation {
    int internal_error;         /* the sandbox failed; message set by the caller */
    int exited;                 /* the program's wait status is known */
    int wait_status;            /* as from waitpid() */
    enum sbx_kill_reason killed_for;
    uint64_t cpu_us, cpu_limit_us;
    uint64_t oom_kills;         /* delta of the cgroup's oom_kill counter over the run */
    int orphan_sigsys;          /* init reaped a descendant killed by seccomp */
    int exec_errno;             /* execve of a file the program supplied failed (ENOEXEC..) */
};

struct sbx_verdict {
    enum sbx_status status;
    enum sbx_time_kind time_kind;
    int exit_code; /* -1 when not exited */
    int signal;    /* 0 when not signaled */
    const char *reason; /* static text for the message; "" when ok */
};

/* Whether argv[0] names a file of the run's own (in /box, /tmp or /dev/shm, or relative with a
 * '/'), whose failure to execute is the submission's fault rather than the sandbox's. */
int sbx_exec_blames_program(const char *argv0);

void sbx_verdict_classify(const struct sbx_observation *o, struct sbx_verdict *v);

const char *sbx_status_name(enum sbx_status s);
const char *sbx_time_kind_name(enum sbx_time_kind k); /* NULL for NONE */

#endif
