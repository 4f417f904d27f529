/* SPDX-License-Identifier: MIT */
#include "sbx_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fixed descriptor of the report pipe in the program's process (close-on-exec). */
#define REPORT_FD 3

const char *sbx_stage_name(int stage)
{
    switch (stage) {
    case SBX_STAGE_CGROUP: return "joining the cgroups";
    case SBX_STAGE_NAMESPACES: return "entering the namespaces";
    case SBX_STAGE_MOUNTS: return "mounting /tmp, /dev/shm, /proc or /box";
    case SBX_STAGE_FORK: return "forking the program";
    case SBX_STAGE_STDIO: return "setting up standard streams";
    case SBX_STAGE_RLIMITS: return "setting resource limits";
    case SBX_STAGE_PRIVILEGES: return "dropping privileges";
    case SBX_STAGE_SECCOMP: return "installing the seccomp filter";
    case SBX_STAGE_EXEC: return "executing the program";
    }
    return "unknown stage";
}

static void report(int fd, int kind, int stage, int err, int status)
{
    struct sbx_report m = {kind, stage, err, status};

    /* 16 bytes < PIPE_BUF: one atomic write, nothing to retry but EINTR. */
    while (write(fd, &m, sizeof(m)) < 0 && errno == EINTR)
        ;
}

_Noreturn static void die(int fd, int stage)
{
    report(fd, SBX_REPORT_SETUP_FAILED, stage, errno, 0);
    _exit(127);
}

static int mount_proc(void)
{
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

    /* "invisible" (5.8+) also hides what cannot be ptraced; older kernels know only "2". */
    if (mount("proc", "/proc", "proc", flags, "hidepid=invisible") == 0)
        return 0;
    return mount("proc", "/proc", "proc", flags, "hidepid=2");
}

static int enter_slot(const struct sbx_child_args *a)
{
    int i;

    for (i = 0; i < a->njoin; i++)
        if (write(a->join_fds[i], "0", 1) != 1)
            die(a->report_fd, SBX_STAGE_CGROUP);
    if (setns(a->ns->mnt, CLONE_NEWNS) < 0 || setns(a->ns->net, CLONE_NEWNET) < 0 ||
        setns(a->ns->uts, CLONE_NEWUTS) < 0 || unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
        die(a->report_fd, SBX_STAGE_NAMESPACES);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, a->tmpfs_options) < 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              a->tmpfs_options) < 0 ||
        mount_proc() < 0 ||
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

static void apply_limits(const struct sbx_child_args *a)
{
    const struct sbx_limits *l = a->limits;

    set_limit(REPORT_FD, RLIMIT_CORE, 0);
    set_limit(REPORT_FD, RLIMIT_NOFILE, l->open_files);
    set_limit(REPORT_FD, RLIMIT_FSIZE, l->file_bytes);
    set_limit(REPORT_FD, RLIMIT_STACK, l->stack_bytes);
    /* Per-process backstop only: the cgroup measures the whole tree. */
    set_limit(REPORT_FD, RLIMIT_CPU, (l->cpu_ms + 999) / 1000 + 1);
    /* Backstop above pids.max, so the cgroup (which counts and reports) trips first. */
    set_limit(REPORT_FD, RLIMIT_NPROC, l->processes + 8);
    set_limit(REPORT_FD, RLIMIT_MSGQUEUE, 0);
    if (l->address_space)
        set_limit(REPORT_FD, RLIMIT_AS, l->address_space);
}

static void drop_privileges(const struct sbx_child_args *a)
{
    int cap;

    if (setgroups(0, NULL) < 0 || setresgid(a->gid, a->gid, a->gid) < 0)
        die(REPORT_FD, SBX_STAGE_PRIVILEGES);
    for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            die(REPORT_FD, SBX_STAGE_PRIVILEGES);
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
              0, 0, 0) < 0 ||
        setresuid(a->uid, a->uid, a->uid) < 0 ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die(REPORT_FD, SBX_STAGE_PRIVILEGES);
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
    execvpe(a->argv[0], a->argv, a->envp);
    die(REPORT_FD, SBX_STAGE_EXEC);
}

_Noreturn static void reap(int report_fd, pid_t program)
{
    int status, told_sigsys = 0;
    pid_t pid;

    for (;;) {
        pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            _exit(0);
        if (pid == program) {
            report(report_fd, SBX_REPORT_EXITED, 0, 0, status);
            /* Our exit makes the kernel SIGKILL whatever is left in the namespace. */
            _exit(0);
        }
        if (!told_sigsys && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            report(report_fd, SBX_REPORT_ORPHAN_SIGSYS, 0, 0, status);
            told_sigsys = 1;
        }
    }
}

_Noreturn void sbx_child_main(const struct sbx_child_args *a)
{
    pid_t program;

    /* If the launcher dies, init dies, and with it the whole pid namespace. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        die(a->report_fd, SBX_STAGE_NAMESPACES);
    enter_slot(a);
    program = fork();
    if (program < 0)
        die(a->report_fd, SBX_STAGE_FORK);
    if (program == 0)
        run_program(a);
    /* Init keeps only the report pipe: no stream of the program's stays open here. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || dup2(a->report_fd, REPORT_FD) < 0 ||
        syscall(SYS_close_range, 0, REPORT_FD - 1, 0) < 0 ||
        syscall(SYS_close_range, REPORT_FD + 1, ~0U, 0) < 0)
        die(a->report_fd, SBX_STAGE_FORK);
    reap(REPORT_FD, program);
}
