/* SPDX-License-Identifier: MIT */
#include "sbx_seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Calls no judged program needs and that open kernel attack surface or reach outside the
 * sandbox: the process dies with SIGSYS, which the verdict reports as security_violation. */
static const char *const killed[] = {
    /* mounts and namespaces */
    "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    /* debugging other processes, reading their memory */
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    /* kernel surface */
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm", "lookup_dcookie",
    "uselib", "vhangup", "nfsservctl", "fanotify_init",
    /* administration */
    "modify_ldt",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "create_module", "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl",
    "quotactl_fd", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname",
};

/* Calls runtimes probe for and fall back from: failing them keeps Node, Java and glibc
 * working. glibc retries clone3 with clone; libuv falls back from io_uring. */
static const char *const enosys[] = {
    "clone3", "io_uring_setup", "io_uring_enter", "io_uring_register",
};

static const unsigned long namespace_flags[] = {
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, 0x00000080 /* CLONE_NEWTIME */,
};

static int add_rules(scmp_filter_ctx ctx)
{
    size_t i;
    int r, nr;

    for (i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
        nr = seccomp_syscall_resolve_name(killed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not on this architecture */
        if ((r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0)) < 0)
            return r;
    }
    for (i = 0; i < sizeof(enosys) / sizeof(enosys[0]); i++) {
        nr = seccomp_syscall_resolve_name(enosys[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0)
            return r;
    }
    /* clone's flags are its first argument on x86-64; any namespace bit kills. */
    for (i = 0; i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++) {
        r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
        if (r < 0)
            return r;
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                            SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
}

/* Syscall numbers past this one (x86-64: set_mempolicy_home_node, Linux 6.1) were added after
 * this list was reviewed, and libseccomp may not know their names (open_tree_attr is a mount
 * call): they fail with ENOSYS, which runtimes treat as an old kernel. */
#define LAST_REVIEWED_NR 450

/* Prepends "native arch, not x32, number past LAST_REVIEWED_NR: ENOSYS" to prog. */
static int add_unreviewed_guard(struct sock_fprog *prog)
{
#if defined(__x86_64__)
    struct sock_filter guard[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* x32: libseccomp kills it */, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, LAST_REVIEWED_NR, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    };
    size_t n = sizeof(guard) / sizeof(guard[0]);
    struct sock_filter *all = malloc((n + prog->len) * sizeof(*all));

    if (!all)
        return -ENOMEM;
    memcpy(all, guard, sizeof(guard));
    memcpy(all + n, prog->filter, prog->len * sizeof(*all));
    free(prog->filter);
    prog->filter = all;
    prog->len = (unsigned short)(prog->len + n);
#endif
    return 0;
}

/* libseccomp 2.5 exports only to a descriptor; a memfd avoids touching the file system. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
    int fd = memfd_create("runq-seccomp", MFD_CLOEXEC);
    off_t size;
    void *buf;
    int r;

    if (fd < 0)
        return -errno;
    r = seccomp_export_bpf(ctx, fd);
    size = r < 0 ? -1 : lseek(fd, 0, SEEK_END);
    if (r < 0 || size <= 0 || size % (off_t)sizeof(struct sock_filter)) {
        close(fd);
        return r < 0 ? r : -EINVAL;
    }
    buf = malloc((size_t)size);
    if (!buf || pread(fd, buf, (size_t)size, 0) != size) {
        free(buf);
        close(fd);
        return -EIO;
    }
    close(fd);
    prog->filter = buf;
    prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    return 0;
}

int sbx_seccomp_build(struct sbx_seccomp *f)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int r;

    memset(f, 0, sizeof(*f));
    if (!ctx)
        return -ENOMEM;
    /* Only the native architecture is in the filter: int 0x80 (i386) and x32 numbers hit
     * the bad-architecture action and kill the whole process. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (!r)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
    /* A binary tree instead of a chain: the kernel emulates the filter once per syscall
     * number at install time (its allow-cache), so a shorter path is a faster install. */
    if (!r)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (!r)
        r = add_rules(ctx);
    if (!r)
        r = export_bpf(ctx, &f->prog);
    if (!r)
        r = add_unreviewed_guard(&f->prog);
    seccomp_release(ctx);
    return r;
}

void sbx_seccomp_free(struct sbx_seccomp *f)
{
    free(f->prog.filter);
    memset(f, 0, sizeof(*f));
}

int sbx_seccomp_install(const struct sbx_seccomp *f)
{
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog) < 0)
        return -errno;
    return 0;
}
