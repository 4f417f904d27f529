/* SPDX-License-Identifier: MIT */
#include "sbx_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fixed descriptor of the report pipe in the program's process (close-on-exec). */
#define REPORT_FD 3

const char *sbx_stage_name(int stage)
{
    switch (stage) {
    case SBX_STAGE_NAMESPACES: return "entering the namespaces";
    case SBX_STAGE_MOUNTS: return "mounting /tmp, /dev/shm, /proc or /box";
    case SBX_STAGE_FORK: return "forking the program";
    case SBX_STAGE_STDIO: return "setting up standard streams";
    case SBX_STAGE_RLIMITS: return "setting resource limits";
    case SBX_STAGE_PRIVILEGES: return "dropping privileges";
    case SBX_STAGE_SECCOMP: return "installing the seccomp filter";
    case SBX_STAGE_EXEC: return "executing the program";
    case SBX_STAGE_SETUP_DIED: return "the sandbox child died before exec";
    }
    return "unknown stage";
}

void sbx_report_write(int fd, int kind, int stage, int err, int status)
{
    struct sbx_report m = {kind, stage, err, status};

    /* 16 bytes < PIPE_BUF: one atomic write, nothing to retry but EINTR. */
    while (write(fd, &m, sizeof(m)) < 0 && errno == EINTR)
        ;
}

_Noreturn static void die(int fd, int stage)
{
    sbx_report_write(fd, SBX_REPORT_SETUP_FAILED, stage, errno, 0);
    _exit(127);
}

static int enter_run(const struct sbx_child_args *a)
{
    sigset_t none;

    /* The zygote blocks SIGCHLD (it reads a signalfd); a blocked mask survives exec. */
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || unshare(CLONE_NEWCGROUP) < 0)
        die(a->report_fd, SBX_STAGE_NAMESPACES);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, a->tmpfs_options) < 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              a->tmpfs_options) < 0 ||
        move_mount(a->box_fd, "", AT_FDCWD, "/box", MOVE_MOUNT_F_EMPTY_PATH) < 0)
        die(a->report_fd, SBX_STAGE_MOUNTS);
    return 0;
}

static void set_limit(int fd, int resource, rlim_t value)
{
    struct rlimit rl = {value, value};

    if (setrlimit(resource, &rl) < 0)
        die(fd, SBX_STAGE_RLIMITS);
}

/* Nothing of the launcher's scheduling, OOM standing or file-creation mask may reach the
 * program: a worker started with a raised priority or RLIMIT_RTPRIO would pass them on. */
static void reset_inherited(void)
{
    struct sched_param normal = {0};
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

    /* The zygote runs at -1000; as root we may raise it, which also raises the floor. */
    if (fd < 0 || write(fd, "0", 1) != 1)
        die(REPORT_FD, SBX_STAGE_RLIMITS);
    close(fd);
    if (sched_setscheduler(0, SCHED_OTHER, &normal) < 0 ||
        setpriority(PRIO_PROCESS, 0, 0) < 0)
        die(REPORT_FD, SBX_STAGE_RLIMITS);
    umask(022);
}

static void apply_limits(const struct sbx_child_args *a)
{
    const struct sbx_limits *l = a->limits;

    reset_inherited();
    set_limit(REPORT_FD, RLIMIT_CORE, 0);
    set_limit(REPORT_FD, RLIMIT_RTPRIO, 0);
    set_limit(REPORT_FD, RLIMIT_NICE, 0);
    set_limit(REPORT_FD, RLIMIT_MEMLOCK, 64 << 10);
    set_limit(REPORT_FD, RLIMIT_SIGPENDING, 4096);
    set_limit(REPORT_FD, RLIMIT_NOFILE, l->open_files);
    set_limit(REPORT_FD, RLIMIT_FSIZE, l->file_bytes);
    set_limit(REPORT_FD, RLIMIT_STACK, l->stack_bytes);
    /* Per-process backstop only: the cgroup measures the whole tree. */
    set_limit(REPORT_FD, RLIMIT_CPU, (l->cpu_ms + 999) / 1000 + 1);
    /* Backstop above pids.max, so the cgroup (which counts and reports) trips first. */
    set_limit(REPORT_FD, RLIMIT_NPROC, l->processes + 8);
    set_limit(REPORT_FD, RLIMIT_MSGQUEUE, 128 << 10); /* POSIX queues live in the run's IPC ns */
    if (l->address_space)
        set_limit(REPORT_FD, RLIMIT_AS, l->address_space);
}

int sbx_child_limit_exec_privileges(void)
{
    int cap;

    for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return -errno;
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
              0, 0, 0) < 0)
        return -errno;
    return 0;
}

static void drop_privileges(const struct sbx_child_args *a)
{
    /* Raw system calls: glibc's set*id wrappers broadcast to "all threads", and this process
     * shares the zygote's memory (and so glibc's idea of its threads) until it execs. */
    if (syscall(SYS_setgroups, 0, NULL) < 0 ||
        syscall(SYS_setresgid, a->gid, a->gid, a->gid) < 0)
        die(REPORT_FD, SBX_STAGE_PRIVILEGES);
    /* The bounding set is empty and the securebits locked already: the zygote did it once
     * (sbx_child_limit_exec_privileges), and both are inherited. */
    if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) < 0 ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die(REPORT_FD, SBX_STAGE_PRIVILEGES);
}

/* execvpe() would search the launcher's own PATH (getenv); the program's environment is what
 * counts. Returns only on failure, with errno set (EACCES wins over ENOENT, as in execvp). */
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
    for (p = path; *p; p = *colon ? colon + 1 : colon) {
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

_Noreturn static void run_program(const struct sbx_child_args *a)
{
    int report_fd = a->report_fd;

    if (setsid() < 0 || dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 ||
        dup2(a->stderr_fd, 2) < 0)
        die(report_fd, SBX_STAGE_STDIO);
    if (report_fd != REPORT_FD && dup3(report_fd, REPORT_FD, O_CLOEXEC) < 0)
        die(report_fd, SBX_STAGE_STDIO);
    if (fcntl(REPORT_FD, F_SETFD, FD_CLOEXEC) < 0 ||
        syscall(SYS_close_range, REPORT_FD + 1, ~0U, 0) < 0)
        die(REPORT_FD, SBX_STAGE_STDIO);
    apply_limits(a);
    if (chdir("/box") < 0)
        die(REPORT_FD, SBX_STAGE_MOUNTS);
    drop_privileges(a);
    if (sbx_seccomp_install(a->filter) < 0)
        die(REPORT_FD, SBX_STAGE_SECCOMP);
    /* From here a failure is either reported (exec error) or the program's own. */
    *a->exec_reached = 1;
    exec_in_path(a->argv[0], a->argv, a->envp);
    die(REPORT_FD, SBX_STAGE_EXEC);
}

_Noreturn void sbx_child_main(const struct sbx_child_args *a)
{
    enter_run(a);
    run_program(a);
}
