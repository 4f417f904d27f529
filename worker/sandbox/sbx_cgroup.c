/* SPDX-License-Identifier: MIT */
#include "sbx_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_io.h"

#define PURE_V2_ROOT "/sys/fs/cgroup"

int sbx_cg_detect_system(struct sbx_cg_layout *out, char *err, size_t errlen)
{
    char *mountinfo = NULL, *controllers = NULL;
    size_t len;
    int r;

    r = sbx_read_path("/proc/self/mountinfo", 1 << 20, &mountinfo, &len);
    if (r < 0) {
        snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s", strerror(-r));
        return r;
    }
    /* A first pass finds the cgroup2 mount; its root lists the controllers it can offer. */
    r = sbx_cg_detect(mountinfo, NULL, PURE_V2_ROOT, out, err, errlen);
    if (out->v2_root[0]) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/cgroup.controllers", out->v2_root);
        if (sbx_read_path(path, 4096, &controllers, &len) < 0)
            controllers = NULL;
        r = sbx_cg_detect(mountinfo, controllers, PURE_V2_ROOT, out, err, errlen);
    }
    free(mountinfo);
    free(controllers);
    return r;
}

/* mkdir -p of parent/slot below one mount; in v2 with controllers, enables them at each
 * level, because a v2 group only offers what its parent's subtree_control grants. */
static int make_group(const char *mount, const char *parent, unsigned slot, int enable,
                      char *err, size_t errlen)
{
    char path[PATH_MAX], rel[PATH_MAX];
    const char *p = parent;
    int n;

    snprintf(rel, sizeof(rel), "%s/slot-%u", parent, slot);
    p = rel;
    snprintf(path, sizeof(path), "%s", mount);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (enable) {
            char ctl[PATH_MAX + 32];
            snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", path);
            (void)sbx_write_path(ctl, "+memory +pids");
        }
        n = snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%.*s", (int)len, p);
        if (n < 0 || strlen(path) >= sizeof(path) - 1)
            return -ENAMETOOLONG;
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "cannot create cgroup %s: %s", path, strerror(e));
            return -e;
        }
        p += len;
        while (*p == '/')
            p++;
    }
    return 0;
}

static int open_group(const char *mount, const char *parent, unsigned slot, int enable,
                      int *dirfd, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int r = make_group(mount, parent, slot, enable, err, errlen);

    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%s/%s/slot-%u", mount, parent, slot);
    *dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot open cgroup %s: %s", path, strerror(-r));
    }
    return r;
}

static int open_run_group(struct sbx_cgroup *cg)
{
    if (mkdirat(cg->v2_dir, "run", 0755) < 0 && errno != EEXIST)
        return -errno;
    cg->run_dir = openat(cg->v2_dir, "run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cg->run_killed = 0;
    return cg->run_dir < 0 ? -errno : 0;
}

/* A fresh "run" group: only ever called when it is empty. */
static int renew_run_group(struct sbx_cgroup *cg)
{
    close(cg->run_dir);
    cg->run_dir = -1;
    if (unlinkat(cg->v2_dir, "run", AT_REMOVEDIR) < 0)
        return -errno;
    return open_run_group(cg);
}

int sbx_cg_spawn_dir(const struct sbx_cgroup *cg)
{
    return cg->run_dir;
}

int sbx_cg_open(struct sbx_cgroup *cg, const struct sbx_cg_layout *l, const char *parent,
                unsigned slot, char *err, size_t errlen)
{
    const struct sbx_cg_layout *L = l;
    int r = 0, v2_controllers = L->memory == SBX_CG_V2 || L->pids == SBX_CG_V2;

    memset(cg, 0, sizeof(*cg));
    cg->layout = *l;
    cg->v2_dir = cg->run_dir = cg->v1_memory_dir = cg->v1_pids_dir = cg->v1_cpuacct_dir = -1;
    cg->cpu_fd = cg->peak_fd = -1;

    if (L->v2_root[0] && (L->track == SBX_CG_V2 || L->cpu == SBX_CG_V2 || v2_controllers))
        r = open_group(L->v2_root, parent, slot, v2_controllers, &cg->v2_dir, err, errlen);
    if (!r && L->memory == SBX_CG_V1)
        r = open_group(L->v1_memory, parent, slot, 0, &cg->v1_memory_dir, err, errlen);
    if (!r && L->pids == SBX_CG_V1)
        r = open_group(L->v1_pids, parent, slot, 0, &cg->v1_pids_dir, err, errlen);
    if (!r && L->cpu == SBX_CG_V1)
        r = open_group(L->v1_cpuacct, parent, slot, 0, &cg->v1_cpuacct_dir, err, errlen);
    if (!r) {
        int dir = L->cpu == SBX_CG_V2 ? cg->v2_dir : cg->v1_cpuacct_dir;
        const char *name = L->cpu == SBX_CG_V2 ? "cpu.stat" : "cpuacct.usage";
        cg->cpu_fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
        if (cg->cpu_fd < 0) {
            r = -errno;
            snprintf(err, errlen, "cannot open %s of the slot cgroup: %s", name, strerror(-r));
        }
    }
    if (!r && cg->v2_dir >= 0 && (r = open_run_group(cg)) < 0)
        snprintf(err, errlen, "cannot create the slot's run cgroup: %s", strerror(-r));
    if (!r && L->memory == SBX_CG_V2) {
        /* Best effort: swap may be off or unaccounted; the OOM must take the whole tree. */
        (void)sbx_write_at(cg->v2_dir, "memory.swap.max", "0");
        (void)sbx_write_at(cg->v2_dir, "memory.oom.group", "1");
    }
    if (r < 0)
        sbx_cg_close(cg, 0);
    return r;
}

static void remove_group(int *dirfd, int remove)
{
    char proc[64], link[PATH_MAX];
    ssize_t n;
    int tries;

    if (*dirfd < 0)
        return;
    /* Resolve the group's own path from its descriptor rather than rebuilding it. */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *dirfd);
    n = readlink(proc, link, sizeof(link) - 1);
    close(*dirfd);
    *dirfd = -1;
    if (n <= 0 || !remove)
        return;
    link[n] = '\0';
    /* A v1 memory group may stay busy for a moment after its last task is gone. */
    for (tries = 0; tries < 50 && rmdir(link) < 0 && errno == EBUSY; tries++)
        usleep(2000);
}

void sbx_cg_close(struct sbx_cgroup *cg, int remove)
{
    if (cg->cpu_fd >= 0)
        close(cg->cpu_fd);
    if (cg->peak_fd >= 0)
        close(cg->peak_fd);
    cg->cpu_fd = cg->peak_fd = -1;
    remove_group(&cg->run_dir, remove);
    remove_group(&cg->v2_dir, remove);
    remove_group(&cg->v1_memory_dir, remove);
    remove_group(&cg->v1_pids_dir, remove);
    remove_group(&cg->v1_cpuacct_dir, remove);
}

static int memory_dir(const struct sbx_cgroup *cg)
{
    return cg->layout.memory == SBX_CG_V2 ? cg->v2_dir : cg->v1_memory_dir;
}

static int pids_dir(const struct sbx_cgroup *cg)
{
    return cg->layout.pids == SBX_CG_V2 ? cg->v2_dir : cg->v1_pids_dir;
}

static int track_dir(const struct sbx_cgroup *cg)
{
    return cg->layout.track == SBX_CG_V2 ? cg->run_dir : cg->v1_pids_dir;
}

static int set_v1_memory(int dir, const char *value)
{
    int r;

    /* memsw must stay >= the memory limit at every moment: order the writes accordingly. */
    r = sbx_write_at(dir, "memory.limit_in_bytes", value);
    if (r == -EINVAL) {
        (void)sbx_write_at(dir, "memory.memsw.limit_in_bytes", value);
        r = sbx_write_at(dir, "memory.limit_in_bytes", value);
    }
    if (r < 0)
        return r;
    r = sbx_write_at(dir, "memory.memsw.limit_in_bytes", value);
    return r == -ENOENT ? 0 : r; /* no swap accounting: nothing more to limit */
}

int sbx_cg_set_limits(struct sbx_cgroup *cg, uint64_t memory_bytes, uint64_t pids)
{
    char v[32];
    int r;

    if (memory_bytes != cg->memory_limit) {
        snprintf(v, sizeof(v), "%" PRIu64, memory_bytes);
        r = cg->layout.memory == SBX_CG_V2 ? sbx_write_at(cg->v2_dir, "memory.max", v)
                                           : set_v1_memory(cg->v1_memory_dir, v);
        if (r < 0)
            return r;
        cg->memory_limit = memory_bytes;
    }
    if (pids != cg->pids_limit) {
        /* On v1 the zygote lives in the pids group too; it must not use up the program's. */
        snprintf(v, sizeof(v), "%" PRIu64,
                 pids + (cg->layout.pids == SBX_CG_V1 && cg->ignore_pid > 0));
        r = sbx_write_at(pids_dir(cg), "pids.max", v);
        if (r < 0)
            return r;
        cg->pids_limit = pids;
    }
    return 0;
}

static int read_key_at(int dir, const char *file, const char *key, uint64_t *v)
{
    char buf[1024];
    int r = sbx_read_at(dir, file, buf, sizeof(buf));

    return r < 0 ? r : sbx_cg_parse_key(buf, key, v);
}

static int read_number_fd(int fd, uint64_t *v)
{
    char buf[64], *end;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return n < 0 ? -errno : -EIO;
    buf[n] = '\0';
    errno = 0;
    *v = strtoull(buf, &end, 10);
    return errno || end == buf ? -EINVAL : 0;
}

int sbx_cg_read_cpu_us(struct sbx_cgroup *cg, uint64_t *us)
{
    char buf[1024];
    ssize_t n;
    int r;

    if (cg->layout.cpu == SBX_CG_V1) {
        r = read_number_fd(cg->cpu_fd, us);
        *us /= 1000; /* cpuacct.usage counts nanoseconds */
        return r;
    }
    n = pread(cg->cpu_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return n < 0 ? -errno : -EIO;
    buf[n] = '\0';
    return sbx_cg_parse_key(buf, "usage_usec", us);
}

int sbx_cg_begin_run(struct sbx_cgroup *cg, struct sbx_cg_usage *base)
{
    int v2 = cg->layout.memory == SBX_CG_V2;
    int r = sbx_cg_is_empty(cg);

    if (r <= 0)
        return r < 0 ? r : -EBUSY;
    if (cg->run_killed && (r = renew_run_group(cg)) < 0)
        return r;
    if (cg->peak_fd >= 0)
        close(cg->peak_fd);
    cg->peak_fd = openat(memory_dir(cg), v2 ? "memory.peak" : "memory.max_usage_in_bytes",
                         O_RDWR | O_CLOEXEC);
    if (cg->peak_fd < 0)
        return -errno;
    /* v2: any write resets the peak as seen through this descriptor (6.12+; older kernels
     * refuse it and the group's all-time peak is reported). v1: "0" resets it. */
    if (write(cg->peak_fd, "0", 1) != 1)
        errno = 0;
    r = sbx_cg_read_usage(cg, base);
    if (!r) {
        char buf[64];
        /* Only the reported peak depends on it: a failed read counts from zero. */
        base->memory_start = sbx_read_at(memory_dir(cg), v2 ? "memory.current"
                                                            : "memory.usage_in_bytes",
                                         buf, sizeof(buf)) < 0
                                 ? 0
                                 : strtoull(buf, NULL, 10);
    }
    return r;
}

int sbx_cg_read_usage(struct sbx_cgroup *cg, struct sbx_cg_usage *u)
{
    int v2mem = cg->layout.memory == SBX_CG_V2;
    int r;

    memset(u, 0, sizeof(*u));
    r = sbx_cg_read_cpu_us(cg, &u->cpu_us);
    if (!r)
        r = read_key_at(memory_dir(cg), v2mem ? "memory.events" : "memory.oom_control",
                        "oom_kill", &u->oom_kills);
    if (!r)
        r = read_key_at(pids_dir(cg), "pids.events", "max", &u->pids_max_hits);
    if (!r && cg->peak_fd >= 0)
        r = read_number_fd(cg->peak_fd, &u->memory_peak);
    return r;
}

int sbx_cg_kill(struct sbx_cgroup *cg)
{
    if (cg->layout.track != SBX_CG_V2)
        return -EOPNOTSUPP;
    cg->run_killed = 1;
    return sbx_write_at(cg->run_dir, "cgroup.kill", "1");
}

int sbx_cg_is_empty(struct sbx_cgroup *cg)
{
    char buf[64], *p, *end;
    uint64_t pids;
    int r = sbx_read_at(track_dir(cg), "cgroup.procs", buf, sizeof(buf));

    if (r < 0)
        return r;
    for (p = buf;; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid != cg->ignore_pid)
            return 0;
    }
    /* An exiting task leaves cgroup.procs before it gives back its pid (and its memory);
     * pids.current counts until the zygote has reaped it. The zygote counts itself on v1. */
    r = sbx_read_at(pids_dir(cg), "pids.current", buf, sizeof(buf));
    if (r < 0)
        return r;
    pids = strtoull(buf, NULL, 10);
    return pids <= (uint64_t)(cg->layout.pids == SBX_CG_V1 && cg->ignore_pid > 0);
}

int sbx_cg_open_v1_join_fds(struct sbx_cgroup *cg, int fds[3])
{
    int dirs[3] = {cg->v1_memory_dir, cg->v1_pids_dir, cg->v1_cpuacct_dir};
    int i, n = 0;

    for (i = 0; i < 3; i++) {
        if (dirs[i] < 0)
            continue;
        fds[n] = openat(dirs[i], "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fds[n] < 0) {
            int e = -errno;
            while (n > 0)
                close(fds[--n]);
            return e;
        }
        n++;
    }
    return n;
}
