/* SPDX-License-Identifier: MIT */
/* sbx_slot: a warm sandbox slot: its lock, cgroups, compiled seccomp filter and template
 * namespaces, built once and reused by every run, each run verified to start clean.
 * Does: open/close a slot and run one program in it (sbx_slot_run, in sbx_run.c), blocking
 * until the run's whole process tree is gone.
 * Must not: run two programs at once in one slot, or be called from an event-loop thread
 * (it blocks for the run's duration: the worker drives it from a helper process). The caller
 * must have descriptors 0, 1 and 2 open and must be single-threaded when opening a slot. */
#ifndef RUNQ_SBX_SLOT_H
#define RUNQ_SBX_SLOT_H

#include <stddef.h>
#include <sys/types.h>

#include "sbx_cgroup.h"
#include "sbx_result.h"
#include "sbx_rootfs.h"
#include "sbx_seccomp.h"
#include "sbx_spec.h"
#include "sbx_zygote.h"

struct sbx_slot {
    unsigned number;
    uid_t uid;
    gid_t gid;
    int lock_fd;
    struct sbx_cgroup cg;
    struct sbx_seccomp filter;
    struct sbx_ns ns;
    struct sbx_zygote zygote;
    int broken; /* a run could not be cleaned up: the slot must not run again */
};

/* Takes the slot's lock (waiting for another holder), builds everything. 0 or -errno with
 * a reason in err. */
int sbx_slot_open(struct sbx_slot *s, const struct sbx_slot_config *cfg, char *err,
                  size_t errlen);

/* Runs one program. Always fills res (an internal_error result when the sandbox failed);
 * returns 0, or -EINVAL for a malformed spec (nothing ran). */
int sbx_slot_run(struct sbx_slot *s, const struct sbx_run_spec *spec, struct sbx_result *res);

/* Releases everything; with remove_cgroups, also removes the slot's cgroups. */
void sbx_slot_close(struct sbx_slot *s, int remove_cgroups);

#endif
