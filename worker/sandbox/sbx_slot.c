/* SPDX-License-Identifier: MIT */
#include "sbx_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_io.h"

static int lock_slot(const struct sbx_slot_config *cfg, int *fd, char *err, size_t errlen)
{
    char path[PATH_MAX];

    if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", cfg->state_dir, strerror(e));
        return -e;
    }
    snprintf(path, sizeof(path), "%s/slot-%u.lock", cfg->state_dir, cfg->slot);
    *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd < 0 || flock(*fd, LOCK_EX) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return -e;
    }
    return 0;
}

/* A core_pattern starting with '|' hands every crash's memory to a root helper on the host,
 * outside the sandbox and its cgroup, and the kernel then ignores RLIMIT_CORE 0. */
static int check_core_pattern(const struct sbx_slot_config *cfg, char *err, size_t errlen)
{
    char *pattern = NULL;
    size_t len;
    int piped;

    if (sbx_read_path("/proc/sys/kernel/core_pattern", 4096, &pattern, &len) < 0)
        return 0; /* no procfs knob, no pipe */
    piped = pattern[0] == '|';
    if (piped && !cfg->allow_core_pipe)
        snprintf(err, errlen,
                 "kernel.core_pattern pipes core dumps to a host program (%.*s): set it to a "
                 "file name (sysctl kernel.core_pattern=core) or allow it explicitly",
                 (int)strcspn(pattern, "\n"), pattern);
    free(pattern);
    return piped && !cfg->allow_core_pipe ? -EPERM : 0;
}

/* A launcher that died took its zygote and so its pid namespace with it: whatever is left in
 * the group is on its way out, but the orphaned zygote holds a pid until the host's init
 * reaps it (seen to take over a second). Anything else is not ours to kill. */
static int wait_empty(struct sbx_cgroup *cg)
{
    int i, r;

    for (i = 0; i < 2000; i++) { /* 10 s */
        if ((r = sbx_cg_is_empty(cg)) != 0)
            return r < 0 ? r : 0;
        usleep(5000);
    }
    return -EBUSY;
}

int sbx_slot_open(struct sbx_slot *s, const struct sbx_slot_config *cfg, char *err,
                  size_t errlen)
{
    struct sbx_cg_layout layout;
    int r;

    memset(s, 0, sizeof(*s));
    s->number = cfg->slot;
    s->uid = cfg->uid_base + cfg->slot;
    s->gid = cfg->uid_base + cfg->slot;
    s->ns.mnt = s->ns.net = s->ns.uts = -1;
    s->cg.v2_dir = s->cg.run_dir = s->cg.v1_memory_dir = s->cg.v1_pids_dir = s->cg.v1_cpuacct_dir = -1;
    s->cg.cpu_fd = s->cg.peak_fd = -1;
    s->zygote.pid = -1;
    s->zygote.sock = -1;

    if ((r = check_core_pattern(cfg, err, errlen)) < 0 ||
        (r = lock_slot(cfg, &s->lock_fd, err, errlen)) < 0)
        return r;
    r = sbx_cg_detect_system(&layout, err, errlen);
    if (!r)
        r = sbx_cg_open(&s->cg, &layout, cfg->cgroup_name, cfg->slot, err, errlen);
    if (!r && (r = wait_empty(&s->cg)) < 0)
        snprintf(err, errlen, "the slot's cgroup still has processes in it");
    if (!r && (r = sbx_seccomp_build(&s->filter)) < 0)
        snprintf(err, errlen, "cannot build the seccomp filter: %s", strerror(-r));
    if (!r)
        r = sbx_rootfs_create(cfg, s->uid, s->gid, &s->ns, err, errlen);
    if (!r) {
        struct sbx_zygote_setup zs = {&s->ns, &s->cg, &s->filter, s->uid, s->gid};
        r = sbx_zygote_start(&s->zygote, &zs, err, errlen);
        s->cg.ignore_pid = s->zygote.pid;
    }
    if (r < 0)
        sbx_slot_close(s, 0);
    return r;
}

void sbx_slot_close(struct sbx_slot *s, int remove_cgroups)
{
    sbx_zygote_stop(&s->zygote);
    sbx_ns_close(&s->ns);
    sbx_seccomp_free(&s->filter);
    sbx_cg_close(&s->cg, remove_cgroups && !s->broken);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}
