/* SPDX-License-Identifier: MIT */
#include "sbx_verdict.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stddef.h>
#include <sys/wait.h>

const char *sbx_status_name(enum sbx_status s)
{
    switch (s) {
    case SBX_OK: return "ok";
    case SBX_RUNTIME_ERROR: return "runtime_error";
    case SBX_SIGNALED: return "signaled";
    case SBX_TIME_LIMIT: return "time_limit";
    case SBX_MEMORY_LIMIT: return "memory_limit";
    case SBX_OUTPUT_LIMIT: return "output_limit";
    case SBX_SECURITY_VIOLATION: return "security_violation";
    case SBX_INTERNAL_ERROR: return "internal_error";
    }
    return "internal_error";
}

const char *sbx_time_kind_name(enum sbx_time_kind k)
{
    switch (k) {
    case SBX_TIME_CPU: return "cpu";
    case SBX_TIME_WALL: return "wall";
    case SBX_TIME_NONE: break;
    }
    return NULL;
}

static void set(struct sbx_verdict *v, enum sbx_status s, const char *reason)
{
    v->status = s;
    v->reason = reason;
}

int sbx_exec_blames_program(const char *argv0)
{
    static const char *const own[] = {"/box/", "/tmp/", "/dev/shm/"};
    size_t i;

    if (argv0[0] != '/')
        return strchr(argv0, '/') != NULL; /* "./main", "bin/run"; bare names use PATH */
    for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (strncmp(argv0, own[i], strlen(own[i])) == 0)
            return 1;
    return 0;
}

void sbx_verdict_classify(const struct sbx_observation *o, struct sbx_verdict *v)
{
    int sig = 0;

    v->time_kind = SBX_TIME_NONE;
    v->exit_code = -1;
    v->signal = 0;
    if (o->exited && WIFEXITED(o->wait_status))
        v->exit_code = WEXITSTATUS(o->wait_status);
    if (o->exited && WIFSIGNALED(o->wait_status))
        sig = v->signal = WTERMSIG(o->wait_status);

    if (o->internal_error) {
        set(v, SBX_INTERNAL_ERROR, "sandbox failure");
    } else if (o->killed_for == SBX_KILL_OUTPUT || sig == SIGXFSZ) {
        set(v, SBX_OUTPUT_LIMIT,
            sig == SIGXFSZ ? "file size limit exceeded" : "output limit exceeded");
    } else if (o->oom_kills > 0) {
        set(v, SBX_MEMORY_LIMIT, "memory limit exceeded");
    } else if (o->killed_for == SBX_KILL_CPU || (o->cpu_limit_us && o->cpu_us > o->cpu_limit_us) ||
               (sig == SIGXCPU && o->cpu_us * 10 >= o->cpu_limit_us * 9)) {
        /* SIGXCPU counts only with the CPU to show for it: a program can raise it itself. */
        set(v, SBX_TIME_LIMIT, "CPU time limit exceeded");
        v->time_kind = SBX_TIME_CPU;
    } else if (o->killed_for == SBX_KILL_WALL) {
        set(v, SBX_TIME_LIMIT, "wall-clock time limit exceeded");
        v->time_kind = SBX_TIME_WALL;
    } else if (sig == SIGSYS || o->orphan_sigsys) {
        set(v, SBX_SECURITY_VIOLATION, "forbidden system call");
    } else if (o->exec_errno) {
        /* The shell convention: 127 not found, 126 found but not executable. */
        set(v, SBX_RUNTIME_ERROR, "the program file cannot be executed");
        v->exit_code = o->exec_errno == ENOENT ? 127 : 126;
        v->signal = 0;
    } else if (!o->exited) {
        /* Nothing killed it on purpose and it never reported: the sandbox lost track. */
        set(v, SBX_INTERNAL_ERROR, "program status lost");
    } else if (sig) {
        set(v, SBX_SIGNALED, "killed by a signal");
    } else if (v->exit_code != 0) {
        set(v, SBX_RUNTIME_ERROR, "non-zero exit status");
    } else {
        set(v, SBX_OK, "");
    }
}
