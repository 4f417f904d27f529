/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "box_run.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "box_out.h"
#include "box_proto.h"

#define TICK_MS 10
#define GRACE_MS 2000 /* not PID 1: how long escapees of the group may hold the pipes */
#define REPORT_FD 3   /* the exec report pipe in the child, close-on-exec */

/* What the child writes on the exec pipe when it fails ({stage, errno}); EOF means exec'd. */
enum stage { STAGE_EXEC, STAGE_SIGNALS, STAGE_STDIO, STAGE_RLIMITS, STAGE_COUNT };
static const char *const stage_names[STAGE_COUNT] = {
    "exec", "resetting signals", "setting up the standard streams", "setting resource limits",
};

enum { CG_CPU, CG_PEAK, CG_OOM };
struct cgroup {
    int fd[3];  /* each -1 when absent, and all without --cgroup-stats */
    int cpu_ns; /* fd[CG_CPU] is v1 cpuacct.usage (ns) rather than v2 cpu.stat (usage_usec) */
    uint64_t cpu_base, oom_base;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*** The container's cgroup (--cgroup-stats only) ***/

/* The number after "field " at a line start, or the first number when field is NULL. pread:
 * the fd, opened before the run, is read again from offset 0 on every tick. */
static int cg_read(int fd, const char *field, uint64_t *v)
{
    char buf[4096], *p = buf;
    size_t fl = field ? strlen(field) : 0;
    ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    while (field && !(strncmp(p, field, fl) == 0 && p[fl] == ' '))
        if (!(p = strchr(p, '\n')) || !*++p)
            return -1;
    p += field ? fl + 1 : 0;
    if (*p < '0' || *p > '9')
        return -1;
    *v = strtoull(p, NULL, 10);
    return 0;
}

static int cg_cpu_us(const struct cgroup *cg, uint64_t *us)
{
    if (cg_read(cg->fd[CG_CPU], cg->cpu_ns ? NULL : "usage_usec", us) < 0)
        return -1;
    *us /= cg->cpu_ns ? 1000 : 1;
    return 0;
}

/* v2 first, then v1. Each is optional: what is missing falls back to rusage (OOM kills: 0). */
static void cgroup_open(struct cgroup *cg)
{
    static const char *const paths[3][4] = {
        {"/sys/fs/cgroup/cpu.stat", "/sys/fs/cgroup/cpuacct/cpuacct.usage",
         "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", NULL},
        {"/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes", NULL},
        {"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control", NULL},
    };
    int i, k;

    for (i = 0; i < 3; i++) {
        for (k = 0; paths[i][k] && cg->fd[i] < 0; k++)
            cg->fd[i] = open(paths[i][k], O_RDONLY | O_CLOEXEC);
        if (i == CG_CPU)
            cg->cpu_ns = k > 1;
    }
    cg_cpu_us(cg, &cg->cpu_base); /* left 0 when unreadable */
    cg_read(cg->fd[CG_OOM], "oom_kill", &cg->oom_base);
}

/*** The program ***/

_Noreturn static void child_fail(int fd, int stage)
{
    int m[2] = {stage, errno};

    /* 8 bytes < PIPE_BUF: one atomic write. */
    while (write(fd, m, sizeof(m)) < 0 && errno == EINTR)
        ;
    _exit(127);
}

static int set_limit(int resource, uint64_t soft, uint64_t hard)
{
    struct rlimit rl = {soft, hard};

    return setrlimit(resource, &rl);
}

static int apply_limits(const uint64_t *l)
{
    uint64_t cpu_s = (l[L_CPU] + 999) / 1000 + 1;

    if (set_limit(RLIMIT_CORE, 0, 0) < 0 || set_limit(RLIMIT_FSIZE, l[L_FILE], l[L_FILE]) < 0 ||
        set_limit(RLIMIT_NOFILE, l[L_OPEN_FILES], l[L_OPEN_FILES]) < 0 ||
        set_limit(RLIMIT_STACK, l[L_STACK], l[L_STACK]) < 0 ||
        (l[L_AS] && set_limit(RLIMIT_AS, l[L_AS], l[L_AS]) < 0))
        return -1;
    /* Per process, SIGXCPU at soft and SIGKILL at hard: with --cgroup-stats the backstop of
     * the tree's limit, without it the only CPU limit. */
    return l[L_CPU] ? set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) : 0;
}

/* execvpe() would search runq-box's own PATH; the program's environment is what counts.
 * Returns only on failure, errno set (EACCES wins over ENOENT, as in execvp). */
static void exec_in_path(const char *file, char *const *argv, char *const *envp)
{
    const char *path = "/usr/local/bin:/usr/bin:/bin", *p, *colon;
    char full[PATH_MAX];
    int seen_eacces = 0;
    size_t i, n;

    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return;
    }
    for (i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path = envp[i] + 5;
    for (p = path; *file && *p; p = *colon ? colon + 1 : colon) {
        colon = strchrnul(p, ':');
        n = (size_t)(colon - p);
        if (n == 0 || n + strlen(file) + 2 > sizeof(full))
            continue;
        memcpy(full, p, n);
        full[n] = '/';
        strcpy(full + n + 1, file);
        execve(full, argv, envp);
        if (errno == EACCES)
            seen_eacces = 1;
        else if (errno != ENOENT && errno != ENOTDIR)
            return;
    }
    errno = seen_eacces ? EACCES : ENOENT;
}

_Noreturn static void child_main(const struct job *j, int out, int err, int report)
{
    struct sigaction dfl;
    sigset_t none;
    int s;

    /* Ignored signals survive exec (runq-box ignores SIGPIPE; Docker may pass others on). */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL); /* fails, harmlessly, for SIGKILL, SIGSTOP and glibc's own */
    sigemptyset(&none);
    /* Its own process group: outside a pid namespace that is the tree runq-box kills. */
    if (setpgid(0, 0) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        child_fail(report, STAGE_SIGNALS);
    if (dup2(j->stdin_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        (report != REPORT_FD && dup3(report, REPORT_FD, O_CLOEXEC) < 0))
        child_fail(report, STAGE_STDIO);
    if (close_range(REPORT_FD + 1, ~0U, 0) < 0)
        child_fail(REPORT_FD, STAGE_STDIO);
    if (apply_limits(j->limit) < 0)
        child_fail(REPORT_FD, STAGE_RLIMITS);
    umask(022);
    exec_in_path(j->argv.v[0], j->argv.v, j->envp.v);
    child_fail(REPORT_FD, STAGE_EXEC);
}

/* Forks the program and waits for its exec. 0 when it runs, or when its exec failed
 * (exec_errno, reaped already); -1 with j->why when runq-box failed. */
static int start_program(struct job *j, struct run *r)
{
    int p[6] = {-1, -1, -1, -1, -1, -1}; /* stdout, stderr, exec report: read, write ends */
    int i, m[2], status;
    ssize_t n;

    for (i = 0; i < 6 && pipe2(p + i, O_CLOEXEC) == 0; i += 2)
        ;
    r->pid = i == 6 ? fork() : -1;
    if (r->pid == 0)
        child_main(j, p[1], p[3], p[5]);
    m[1] = errno;
    for (i = 1; i < 6; i += 2)
        if (p[i] >= 0)
            close(p[i]);
    r->fd[0] = p[0];
    r->fd[1] = p[2];
    if (r->pid < 0) {
        if (p[4] >= 0)
            close(p[4]);
        return box_fail(j, "pipe2 or fork: %s", strerror(m[1]));
    }
    while ((n = read(p[4], m, sizeof(m))) < 0 && errno == EINTR)
        ;
    close(p[4]);
    if (n == 0)
        return 0; /* EOF: a successful exec closed the report pipe */
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->reaped = 1;
    r->reaped_at = now_ms();
    if (n == sizeof(m) && m[0] == STAGE_EXEC) {
        r->exec_errno = m[1];
        return 0;
    }
    if (n != sizeof(m) || m[0] < 0 || m[0] >= STAGE_COUNT)
        return box_fail(j, "the child died before exec");
    return box_fail(j, "%s: %s", stage_names[m[0]], strerror(m[1]));
}

/*** Supervision ***/

/* Kills what is left of the tree. Never kill(-1) but as init of a pid namespace: as root
 * elsewhere it is every process of the machine. The program's group is killed until it is
 * found empty, and never after: an empty group's number may be given to someone else. */
static void kill_tree(struct run *r)
{
    if (r->pid1)
        kill(-1, SIGKILL); /* every process of the namespace but init itself */
    else if (r->pid > 1 && !r->group_gone && kill(-r->pid, SIGKILL) < 0 && errno == ESRCH)
        r->group_gone = 1;
}

/* Reaps what has died; final (as init only): kills and reaps until no process is left. Not
 * init, the program is runq-box's only child. As init every orphan is ours: one that died
 * of SIGSYS (a seccomp kill in the image's runtime) is reported. */
static void reap(struct run *r, int final)
{
    int status;
    pid_t pid;

    for (;;) {
        if (final && !r->pid1)
            return;
        if (final)
            kill(-1, SIGKILL);
        pid = waitpid(-1, &status, final ? 0 : WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return; /* none has died yet, or none is left (ECHILD) */
        if (pid == r->pid) {
            r->reaped = r->exited = 1;
            r->reaped_at = now_ms();
            r->wait_status = status;
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            r->orphan_sigsys = 1;
        }
    }
}

/* Forwards what stream i has, within output_bytes; one byte past it and the tree dies. */
static void forward(struct run *r, const struct job *j, int i)
{
    /* The record's header goes in front of what is read: one write per piece of output. */
    unsigned char buf[BOX_HEADER_SIZE + CHUNK];
    uint64_t room = j->limit[L_OUTPUT] - r->sent[i];
    ssize_t n = read(r->fd[i], buf + BOX_HEADER_SIZE, CHUNK);

    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        close(r->fd[i]);
        r->fd[i] = -1;
        return;
    }
    if ((uint64_t)n > room) {
        r->truncated[i] = 1;
        r->killed_for = r->killed_for ? r->killed_for : KILLED_OUTPUT;
        n = (ssize_t)room;
    }
    if (n > 0) {
        box_out_encode(buf, i ? BOX_OUT_STDERR : BOX_OUT_STDOUT, (size_t)n);
        box_out_write(r, buf, BOX_HEADER_SIZE + (size_t)n);
    }
    r->sent[i] += (uint64_t)n;
}

/* wall_ms from the program's start, cpu_ms from the cgroup (both while the program lives:
 * a program that ended in time is not blamed for the moments its tree takes to die). */
static void check_time(struct run *r, const struct job *j, const struct cgroup *cg,
                       long long *next)
{
    long long now = now_ms();
    uint64_t us;

    if (r->reaped || r->killed_for != KILLED_NONE)
        return;
    if (j->limit[L_WALL] && now - r->started_at > (long long)j->limit[L_WALL])
        r->killed_for = KILLED_WALL;
    if (!j->limit[L_CPU] || cg->fd[CG_CPU] < 0 || now < *next)
        return;
    *next = now + TICK_MS;
    if (cg_cpu_us(cg, &us) == 0 && us > cg->cpu_base &&
        us - cg->cpu_base > j->limit[L_CPU] * 1000 && r->killed_for == KILLED_NONE)
        r->killed_for = KILLED_CPU;
}

/* Until the program is reaped and both pipes are at EOF: forward output, reap, watch the
 * clocks. Once the program is gone, a limit is passed or the worker is gone, the tree is killed
 * on every tick, so that what forked past one kill dies at the next. */
static void supervise(struct run *r, const struct job *j, const struct cgroup *cg)
{
    long long next_cpu = 0;
    int i;

    while (r->fd[0] >= 0 || r->fd[1] >= 0 || !r->reaped) {
        struct pollfd pfd[2] = {{r->fd[0], POLLIN, 0}, {r->fd[1], POLLIN, 0}};

        if (poll(pfd, 2, TICK_MS) > 0) /* an fd of -1 is ignored */
            for (i = 0; i < 2; i++)
                if (pfd[i].revents)
                    forward(r, j, i);
        reap(r, 0);
        check_time(r, j, cg, &next_cpu);
        if (r->reaped || r->killed_for != KILLED_NONE || r->out_failed)
            kill_tree(r);
        /* Not init: a process that left the group can be neither killed nor waited for. */
        if (!r->pid1 && r->reaped && now_ms() - r->reaped_at > GRACE_MS)
            break;
    }
}

static void finish_stats(struct run *r, const struct cgroup *cg)
{
    struct rusage ru;
    uint64_t v;

    /* Every descendant was waited for (as init, by runq-box itself), so all count here. */
    getrusage(RUSAGE_CHILDREN, &ru);
    r->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
    r->memory_kb = (uint64_t)ru.ru_maxrss;
    if (cg_cpu_us(cg, &v) == 0 && v >= cg->cpu_base)
        r->cpu_us = v - cg->cpu_base;
    if (cg_read(cg->fd[CG_PEAK], NULL, &v) == 0)
        r->memory_kb = v / 1024;
    if (cg_read(cg->fd[CG_OOM], "oom_kill", &v) == 0 && v >= cg->oom_base)
        r->oom_kills = v - cg->oom_base;
}

/*** The run, start to end ***/

void box_run_init(struct run *r)
{
    memset(r, 0, sizeof(*r));
    r->fd[0] = r->fd[1] = -1;
    r->pid1 = getpid() == 1;
}

int box_run_program(struct run *r, struct job *j, int cgroup_stats)
{
    struct cgroup cg = {{-1, -1, -1}, 0, 0, 0};
    int i, ret;

    if (cgroup_stats)
        cgroup_open(&cg); /* the baselines, just before the fork */
    ret = start_program(j, r);
    if (ret == 0) {
        r->started_at = now_ms();
        supervise(r, j, &cg);
        reap(r, 1);
        finish_stats(r, &cg);
    }
    for (i = 0; i < 3; i++)
        if (cg.fd[i] >= 0)
            close(cg.fd[i]);
    return ret;
}

void box_run_close(struct run *r)
{
    int i;

    for (i = 0; i < 2; i++)
        if (r->fd[i] >= 0)
            close(r->fd[i]);
    r->fd[0] = r->fd[1] = -1;
}
