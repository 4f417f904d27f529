/* SPDX-License-Identifier: MIT */
#include "sbx_rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_io.h"
#include "sbx_spec.h"

/* The staging mount point only exists inside the builder's private mount namespace. */
#define STAGE "/tmp"

struct build_error {
    char text[240];
};

static int fail(struct build_error *e, const char *what, const char *path)
{
    int err = errno;

    snprintf(e->text, sizeof(e->text), "%s %s: %s", what, path ? path : "", strerror(err));
    return -err;
}

static int mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    char *p;

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(tmp, mode) < 0 && errno != EEXIST ? -errno : 0;
}

/* Recreates a host symlink (merged-/usr /bin -> usr/bin) or binds a directory or file
 * read-only. Bind mounts carry no host mounts below them (no MS_REC). */
static int add_bind(const char *host, struct build_error *e)
{
    char target[PATH_MAX], link[PATH_MAX];
    struct stat st;
    ssize_t n;
    int fd;

    if (lstat(host, &st) < 0)
        return errno == ENOENT ? 0 : fail(e, "cannot stat", host);
    snprintf(target, sizeof(target), STAGE "%s", host);
    if (S_ISLNK(st.st_mode)) {
        n = readlink(host, link, sizeof(link) - 1);
        if (n < 0)
            return fail(e, "cannot read link", host);
        link[n] = '\0';
        *strrchr(target, '/') = '\0';
        if (mkdirs(target, 0755) < 0)
            return fail(e, "cannot create", target);
        snprintf(target, sizeof(target), STAGE "%s", host);
        return symlink(link, target) < 0 && errno != EEXIST ? fail(e, "cannot link", host) : 0;
    }
    if (S_ISDIR(st.st_mode)) {
        if (mkdirs(target, 0755) < 0)
            return fail(e, "cannot create", target);
    } else {
        *strrchr(target, '/') = '\0';
        if (mkdirs(target, 0755) < 0)
            return fail(e, "cannot create", target);
        snprintf(target, sizeof(target), STAGE "%s", host);
        fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return fail(e, "cannot create", target);
        close(fd);
    }
    if (mount(host, target, NULL, MS_BIND, NULL) < 0)
        return fail(e, "cannot bind", host);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
              NULL) < 0)
        return fail(e, "cannot make read-only", host);
    return 0;
}

static int write_etc(uid_t uid, gid_t gid, struct build_error *e)
{
    char passwd[512], group[256];
    struct stat st;
    const struct {
        const char *path, *text;
    } files[] = {
        {STAGE "/etc/passwd", passwd},
        {STAGE "/etc/group", group},
        {STAGE "/etc/hosts", "127.0.0.1\tlocalhost runq\n::1\tlocalhost\n"},
    };
    size_t i;

    snprintf(passwd, sizeof(passwd),
             "root:x:0:0:root:/root:/bin/sh\nrunq:x:%u:%u:runq sandbox:/box:/bin/sh\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
             (unsigned)uid, (unsigned)gid);
    snprintf(group, sizeof(group), "root:x:0:\nrunq:x:%u:\nnogroup:x:65534:\n", (unsigned)gid);
    if (mkdirs(STAGE "/etc", 0755) < 0)
        return fail(e, "cannot create", "/etc");
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int fd;
        if (lstat(files[i].path, &st) == 0)
            continue; /* bound from the host on purpose */
        fd = open(files[i].path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || sbx_write_all(fd, files[i].text, strlen(files[i].text)) < 0) {
            int r = fail(e, "cannot write", files[i].path);
            if (fd >= 0)
                close(fd);
            return r;
        }
        close(fd);
    }
    return 0;
}

static int make_dev(struct build_error *e)
{
    static const struct {
        const char *name;
        unsigned major, minor;
    } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8},
                 {"urandom", 1, 9}};
    static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}};
    char path[64];
    size_t i;

    if (mkdir(STAGE "/dev", 0755) < 0 ||
        mount("tmpfs", STAGE "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755") < 0)
        return fail(e, "cannot mount", "/dev");
    for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        snprintf(path, sizeof(path), STAGE "/dev/%s", nodes[i].name);
        if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 ||
            chmod(path, 0666) < 0)
            return fail(e, "cannot create", path);
    }
    for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(path, sizeof(path), STAGE "/dev/%s", links[i][1]);
        if (symlink(links[i][0], path) < 0)
            return fail(e, "cannot create", path);
    }
    if (mkdir(STAGE "/dev/shm", 0755) < 0)
        return fail(e, "cannot create", "/dev/shm");
    if (mount(NULL, STAGE "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
              "size=64k,mode=0755") < 0)
        return fail(e, "cannot make read-only", "/dev");
    return 0;
}

static int loopback_up(struct build_error *e)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int r = 0;

    if (fd < 0)
        return fail(e, "cannot open socket for", "lo");
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        r = fail(e, "cannot read flags of", "lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (!r && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        r = fail(e, "cannot bring up", "lo");
    close(fd);
    return r;
}

static int build(const struct sbx_slot_config *cfg, uid_t uid, gid_t gid, struct build_error *e)
{
    static const char *const dirs[] = {STAGE "/proc", STAGE "/tmp", STAGE "/box"};
    size_t i;
    int r;

    umask(022);
    if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS) < 0)
        return fail(e, "cannot create namespaces", NULL);
    /* The network namespace outlives runs: no TIME_WAIT entries, or a run could leave the
     * next one ports it cannot bind and a channel to read (net sysctls are per namespace). */
    if (sbx_write_path("/proc/sys/net/ipv4/tcp_max_tw_buckets", "0") < 0)
        return fail(e, "cannot disable TIME_WAIT in", "the slot's network namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(e, "cannot make mounts private", NULL);
    if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0)
        return fail(e, "cannot mount root tmpfs", NULL);
    for (i = 0; i < cfg->nbinds; i++)
        if ((r = add_bind(cfg->binds[i], e)) < 0)
            return r;
    if ((r = write_etc(uid, gid, e)) < 0 || (r = make_dev(e)) < 0)
        return r;
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
            return fail(e, "cannot create", dirs[i]);
    if (mkdir(STAGE "/.old", 0700) < 0 || syscall(SYS_pivot_root, STAGE, STAGE "/.old") < 0 ||
        chdir("/") < 0 || umount2("/.old", MNT_DETACH) < 0 || rmdir("/.old") < 0)
        return fail(e, "cannot pivot into the new root", NULL);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return fail(e, "cannot make the root read-only", NULL);
    if (sethostname("runq", 4) < 0)
        return fail(e, "cannot set hostname", NULL);
    return loopback_up(e);
}

static int open_ns(pid_t pid, const char *name, int *fd)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? -errno : 0;
}

void sbx_ns_close(struct sbx_ns *ns)
{
    int *fds[] = {&ns->mnt, &ns->net, &ns->uts};
    size_t i;

    for (i = 0; i < 3; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

int sbx_rootfs_create(const struct sbx_slot_config *cfg, uid_t uid, gid_t gid,
                      struct sbx_ns *ns, char *err, size_t errlen)
{
    struct build_error e = {{0}};
    int ready[2], hold[2], status, r;
    ssize_t n;
    pid_t pid;

    ns->mnt = ns->net = ns->uts = -1;
    if (pipe2(ready, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(hold, O_CLOEXEC) < 0) {
        r = -errno;
        close(ready[0]);
        close(ready[1]);
        return r;
    }
    pid = fork();
    if (pid == 0) {
        char c;
        close(ready[0]);
        close(hold[1]);
        r = build(cfg, uid, gid, &e);
        (void)sbx_write_all(ready[1], &e, sizeof(e));
        /* Keep the namespaces alive until the parent has opened them. */
        if (r == 0)
            if (read(hold[0], &c, 1) < 0)
                c = 0;
        _exit(r == 0 ? 0 : 1);
    }
    close(ready[1]);
    close(hold[0]);
    r = pid < 0 ? -errno : 0;
    n = pid < 0 ? 0 : sbx_read_full(ready[0], &e, sizeof(e));
    if (!r && n != (ssize_t)sizeof(e))
        r = -EIO;
    if (!r && e.text[0]) {
        snprintf(err, errlen, "cannot build the sandbox root: %s", e.text);
        r = -EPERM;
    }
    if (!r && ((r = open_ns(pid, "mnt", &ns->mnt)) < 0 || (r = open_ns(pid, "net", &ns->net)) < 0 ||
               (r = open_ns(pid, "uts", &ns->uts)) < 0))
        snprintf(err, errlen, "cannot open the slot's namespaces: %s", strerror(-r));
    close(hold[1]);
    close(ready[0]);
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    if (r < 0)
        sbx_ns_close(ns);
    return r;
}
