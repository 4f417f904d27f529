/* SPDX-License-Identifier: MIT */
#include "sbx_zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_child.h"
#include "sbx_io.h"

#define SBX_CLONE_INTO_CGROUP 0x200000000ULL

/* Mirrors struct clone_args (linux/sched.h clashes with glibc's sched.h). */
struct sbx_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

enum { WIRE_SPAWN = 1, WIRE_KILL };

struct wire {
    uint32_t kind;
    struct sbx_limits limits;
    uint32_t argc, envc, strings_len;
    char tmpfs_options[96];
    char strings[SBX_SPAWN_MAX_STRINGS];
};

/* The zygote's whole working set, touched before it joins the slot's memory cgroup. */
struct zygote_state {
    int sock, sigfd;
    int last_pid;  /* /proc/sys/kernel/ns_last_pid of the slot's pid namespace */
    const struct sbx_zygote_setup *setup;
    pid_t running; /* the current run's program, 0 when idle */
    volatile int *exec_reached; /* shared page: the child got as far as execve */
    int report;    /* the current run's report pipe, -1 when idle */
    struct wire msg;
    _Alignas(16) char child_stack[256 * 1024];
    char *argv[SBX_SPAWN_MAX_ARGS + 1];
    char *envp[SBX_SPAWN_MAX_ARGS + 1];
};

static int send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
    char control[CMSG_SPACE(sizeof(int) * SBX_SPAWN_NFDS)];
    struct iovec iov = {(void *)data, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *c;

    if (nfds > 0) {
        memset(control, 0, sizeof(control));
        mh.msg_control = control;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

/* Receives one message; returns its length (0 on EOF) or -errno; *nfds descriptors land
 * in fds (close-on-exec). */
static ssize_t recv_fds(int sock, void *data, size_t len, int *fds, int *nfds)
{
    char control[CMSG_SPACE(sizeof(int) * SBX_SPAWN_NFDS)];
    struct iovec iov = {data, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = sizeof(control)};
    struct cmsghdr *c;
    ssize_t n;

    *nfds = 0;
    while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return -errno;
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)count);
            *nfds += count;
        }
    }
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        return -EMSGSIZE;
    return n;
}

/* Splits count NUL-terminated strings starting at *p into out[]; NULL-terminates it. */
static int split_strings(char **p, const char *end, uint32_t count, char **out)
{
    uint32_t i;

    if (count > SBX_SPAWN_MAX_ARGS)
        return -E2BIG;
    for (i = 0; i < count; i++) {
        char *nul = memchr(*p, '\0', (size_t)(end - *p));
        if (!nul)
            return -EINVAL;
        out[i] = *p;
        *p = nul + 1;
    }
    out[count] = NULL;
    return 0;
}

static int child_entry(void *arg)
{
    sbx_child_main(arg);
}

/* clone3 with CLONE_VM|CLONE_VFORK: the child borrows our memory until it execs, so no page
 * table is copied per run (a fork of even this small process costs a few hundred us). glibc
 * has no clone3 wrapper that runs a function on a new stack, hence the few instructions. */
static pid_t clone3_vfork(struct sbx_clone_args *ca, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
    /* (ASan builds take the fork path below: its shadow bookkeeping assumes a frame that
     * is entered is also left, which a child that execs from our stack never does.) */
    register long rax __asm__("rax") = SYS_clone3;
    register int (*r12)(void *) __asm__("r12") = fn;
    register void *r13 __asm__("r13") = arg;

    ca->flags |= CLONE_VM | CLONE_VFORK;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t" /* SYS_exit, should fn ever return */
                     "syscall\n\t"
                     "hlt\n"
                     "1:\n\t"
                     : "+r"(rax)
                     : "D"(ca), "S"(sizeof(*ca)), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    if (rax < 0) {
        errno = (int)-rax;
        return -1;
    }
    return (pid_t)rax;
#else
    pid_t pid;

    ca->stack = 0;
    ca->stack_size = 0;
    pid = (pid_t)syscall(SYS_clone3, ca, sizeof(*ca));
    if (pid == 0)
        _exit(fn(arg));
    return pid;
#endif
}

static int spawn_one(struct zygote_state *st, const int *fds)
{
    const struct sbx_zygote_setup *s = st->setup;
    struct sbx_child_args a;
    struct sbx_clone_args ca;
    char *p = st->msg.strings, *end = st->msg.strings + st->msg.strings_len;
    pid_t pid;
    int r;

    if (st->msg.strings_len > sizeof(st->msg.strings) || st->msg.argc == 0)
        return -EINVAL;
    if ((r = split_strings(&p, end, st->msg.argc, st->argv)) < 0 ||
        (r = split_strings(&p, end, st->msg.envc, st->envp)) < 0)
        return r;
    st->msg.tmpfs_options[sizeof(st->msg.tmpfs_options) - 1] = '\0';
    memset(&a, 0, sizeof(a));
    a.box_fd = fds[SBX_FD_BOX];
    a.stdin_fd = fds[SBX_FD_STDIN];
    a.stdout_fd = fds[SBX_FD_STDOUT];
    a.stderr_fd = fds[SBX_FD_STDERR];
    a.report_fd = fds[SBX_FD_REPORT];
    a.filter = s->filter;
    a.limits = &st->msg.limits;
    a.uid = s->uid;
    a.gid = s->gid;
    a.argv = st->argv;
    a.envp = st->envp;
    a.tmpfs_options = st->msg.tmpfs_options;
    a.exec_reached = st->exec_reached;
    *st->exec_reached = 0;

    /* Every run's program is pid 2: pids must not tell a run how many processes ran before. */
    if (pwrite(st->last_pid, "1", 1, 0) != 1)
        return -errno;
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_NEWIPC | CLONE_NEWNS;
    ca.exit_signal = SIGCHLD;
    ca.stack = (uint64_t)(uintptr_t)st->child_stack;
    ca.stack_size = sizeof(st->child_stack);
    if (st->setup->cg->layout.track == SBX_CG_V2) {
        /* Born inside the group: nothing of the run is ever uncounted or unkillable. */
        ca.flags |= SBX_CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)fds[SBX_FD_CGROUP];
    }
    pid = clone3_vfork(&ca, child_entry, &a);
    if (pid < 0)
        return -errno;
    st->running = pid;
    st->report = fcntl(fds[SBX_FD_REPORT], F_DUPFD_CLOEXEC, 3);
    return st->report < 0 ? -errno : 0;
}

/* As PID 1 of the slot's pid namespace the zygote reaps every orphan; the program's own
 * status goes to the run's report pipe, whose closing tells the launcher we are done. */
static void reap(struct zygote_state *st)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (st->report < 0)
            continue;
        if (pid == st->running) {
            /* Died before execve (a crash in our own setup code): never the program's fault. */
            if (!*st->exec_reached)
                sbx_report_write(st->report, SBX_REPORT_SETUP_FAILED, SBX_STAGE_SETUP_DIED,
                                 WIFSIGNALED(status) ? EINTR : ECHILD, status);
            sbx_report_write(st->report, SBX_REPORT_EXITED, 0, 0, status);
            close(st->report);
            st->report = -1;
            st->running = 0;
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            sbx_report_write(st->report, SBX_REPORT_ORPHAN_SIGSYS, 0, 0, status);
        }
    }
}

static void drain_signals(int sigfd)
{
    struct signalfd_siginfo si[8];

    while (read(sigfd, si, sizeof(si)) > 0)
        ;
}

_Noreturn static void serve(struct zygote_state *st)
{
    for (;;) {
        struct pollfd p[2] = {{st->sigfd, POLLIN, 0}, {st->sock, POLLIN, 0}};
        int fds[SBX_SPAWN_NFDS], nfds = 0, i;
        int32_t r;
        ssize_t n;

        if (poll(p, 2, -1) < 0 && errno != EINTR)
            _exit(1);
        if (p[0].revents)
            drain_signals(st->sigfd);
        reap(st); /* also before a spawn: zombies still hold pids.max slots */
        if (!p[1].revents)
            continue;
        n = recv_fds(st->sock, &st->msg, sizeof(st->msg), fds, &nfds);
        if (n == 0)
            _exit(0); /* the launcher closed the slot: our exit ends the namespace */
        if (n >= (ssize_t)sizeof(uint32_t) && st->msg.kind == WIRE_KILL && nfds == 0) {
            /* Everything in our pid namespace but us: no pid can be reused under our feet. */
            (void)kill(-1, SIGKILL);
            continue;
        }
        r = n < 0                       ? (int32_t)n
            : nfds != SBX_SPAWN_NFDS    ? -EBADMSG
            : st->msg.kind != WIRE_SPAWN ? -EBADMSG
            : st->report >= 0           ? -EBUSY
                                        : 0;
        if (!r)
            r = spawn_one(st, fds);
        for (i = 0; i < nfds; i++)
            close(fds[i]);
        if (sbx_write_all(st->sock, &r, sizeof(r)) < 0)
            _exit(1);
    }
}

/* Keeps only the descriptors in keep[] (ascending, -1 entries ignored); 0-2 -> /dev/null. */
static int close_all_but(const int *keep, int n)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC), next = 3, i;

    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        return -errno;
    for (i = 0; i < n; i++) {
        if (keep[i] < next)
            continue;
        if (keep[i] > next && syscall(SYS_close_range, next, keep[i] - 1, 0) < 0)
            return -errno;
        next = keep[i] + 1;
    }
    return syscall(SYS_close_range, next, ~0U, 0) < 0 ? -errno : 0;
}

static int32_t become_zygote(struct zygote_state *st, const int *join, int njoin)
{
    const struct sbx_ns *ns = st->setup->ns;
    unsigned long proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    int keep[3], i, j;
    sigset_t chld;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return -errno;
    /* Dispositions the launcher inherited (an ignored SIGCHLD or SIGPIPE) would reach every
     * program across exec; the zygote starts from the defaults. */
    for (i = 1; i < NSIG; i++)
        if (i != SIGKILL && i != SIGSTOP)
            (void)signal(i, SIG_DFL);
    /* Best effort (needs CAP_SYS_RESOURCE): the OOM killer should never pick the zygote. The
     * child sets its own score back to 0 (sbx_child), or no program could ever be killed. */
    (void)sbx_write_path("/proc/self/oom_score_adj", "-1000");
    memset(st->argv, 0, sizeof(st->argv)); /* fault the working set in before joining */
    memset(st->envp, 0, sizeof(st->envp));
    memset(&st->msg, 0, sizeof(st->msg));
    memset(st->child_stack, 0, sizeof(st->child_stack));
    for (i = 0; i < njoin; i++)
        if (write(join[i], "0", 1) != 1)
            return -errno;
    if (setns(ns->net, CLONE_NEWNET) < 0 || setns(ns->uts, CLONE_NEWUTS) < 0 ||
        setns(ns->mnt, CLONE_NEWNS) < 0)
        return -errno;
    /* A procfs of this pid namespace; "invisible" (5.8+) also hides what cannot be ptraced,
     * so a program sees its own processes and not the root-owned zygote. */
    if (mount("proc", "/proc", "proc", proc_flags, "hidepid=invisible") < 0 &&
        mount("proc", "/proc", "proc", proc_flags, "hidepid=2") < 0)
        return -errno;
    if (sbx_child_limit_exec_privileges() < 0)
        return -errno;
    st->exec_reached = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    if (st->exec_reached == MAP_FAILED)
        return -errno;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
        return -errno;
    st->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (st->sigfd < 0)
        return -errno;
    st->last_pid = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (st->last_pid < 0)
        return -errno;
    keep[0] = st->sock;
    keep[1] = st->sigfd;
    keep[2] = st->last_pid;
    for (i = 1; i < 3; i++) /* ascending, as close_all_but wants */
        for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    return close_all_but(keep, 3);
}

int sbx_zygote_start(struct sbx_zygote *z, const struct sbx_zygote_setup *setup, char *err,
                     size_t errlen)
{
    static struct zygote_state st; /* only ever used in the forked zygote */
    struct sbx_clone_args ca;
    int sv[2], join[3], njoin, i;
    int32_t r = 0;

    z->pid = -1;
    z->sock = -1;
    z->buf = malloc(sizeof(struct wire));
    if (!z->buf)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        r = -errno;
        sbx_zygote_stop(z);
        return r;
    }
    njoin = sbx_cg_open_v1_join_fds(setup->cg, join);
    /* The zygote is PID 1 of the slot's pid namespace: its death takes every run with it. */
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_NEWPID;
    ca.exit_signal = SIGCHLD;
    z->pid = njoin < 0 ? -1 : (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
    if (z->pid == 0) {
        close(sv[0]);
        st.sock = sv[1];
        st.report = -1;
        st.setup = setup;
        r = become_zygote(&st, join, njoin);
        (void)sbx_write_all(st.sock, &r, sizeof(r));
        if (r < 0)
            _exit(1);
        serve(&st);
    }
    r = njoin < 0 ? njoin : z->pid < 0 ? -errno : 0;
    for (i = 0; i < njoin; i++)
        close(join[i]);
    close(sv[1]);
    z->sock = sv[0];
    if (!r && sbx_read_full(z->sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
        r = -EPIPE;
    if (r < 0) {
        snprintf(err, errlen, "cannot start the slot's zygote: %s", strerror((int)-r));
        sbx_zygote_stop(z);
    }
    return r;
}

int sbx_zygote_spawn(struct sbx_zygote *z, const struct sbx_limits *limits, char *const *argv,
                     char *const *envp, const int fds[SBX_SPAWN_NFDS])
{
    struct wire *msg = z->buf;
    char *const *lists[2] = {argv, envp};
    size_t used = 0, len, l;
    uint32_t *counts[2] = {&msg->argc, &msg->envc};
    int32_t r;

    msg->kind = WIRE_SPAWN;
    msg->limits = *limits;
    snprintf(msg->tmpfs_options, sizeof(msg->tmpfs_options), "size=%llu,nr_inodes=%llu,mode=1777",
             (unsigned long long)limits->tmp_bytes,
             (unsigned long long)(limits->tmp_bytes / 4096 + 64));
    for (l = 0; l < 2; l++) {
        for (*counts[l] = 0; lists[l][*counts[l]]; (*counts[l])++) {
            len = strlen(lists[l][*counts[l]]) + 1;
            if (used + len > sizeof(msg->strings) || *counts[l] >= SBX_SPAWN_MAX_ARGS)
                return -E2BIG;
            memcpy(msg->strings + used, lists[l][*counts[l]], len);
            used += len;
        }
    }
    msg->strings_len = (uint32_t)used;
    r = send_fds(z->sock, msg, offsetof(struct wire, strings) + used, fds, SBX_SPAWN_NFDS);
    if (r < 0)
        return r;
    if (sbx_read_full(z->sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
        return -EPIPE;
    return r;
}

int sbx_zygote_kill_all(struct sbx_zygote *z)
{
    uint32_t kind = WIRE_KILL;

    if (send(z->sock, &kind, sizeof(kind), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        return -errno;
    return 0;
}

void sbx_zygote_stop(struct sbx_zygote *z)
{
    int status;

    if (z->sock >= 0)
        close(z->sock); /* EOF: the zygote exits */
    z->sock = -1;
    if (z->pid > 0)
        while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR)
            ;
    z->pid = -1;
    free(z->buf);
    z->buf = NULL;
}
