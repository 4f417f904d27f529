/* SPDX-License-Identifier: MIT */
/* sbx_rootfs: build a slot's template environment once: a mount namespace whose root is a
 * read-only tmpfs holding read-only nosuid,nodev binds of the host's runtime directories, a
 * minimal /dev and a generated /etc; a network namespace with only lo up; a UTS namespace.
 * Does: the building in a short-lived child, handing back namespace descriptors that each
 * run joins and then copies (so a run's mounts never reach the template).
 * Must not: change the caller's own namespaces, or leave any mount in the host namespace. */
#ifndef RUNQ_SBX_ROOTFS_H
#define RUNQ_SBX_ROOTFS_H

#include <stddef.h>
#include <sys/types.h>

struct sbx_slot_config;

struct sbx_ns {
    int mnt, net, uts; /* descriptors of /proc/<pid>/ns/{mnt,net,uts}; -1 when closed */
};

/* uid/gid: the slot's sandbox user, named in the generated /etc/passwd. Returns 0 or -errno
 * with a reason in err. */
int sbx_rootfs_create(const struct sbx_slot_config *cfg, uid_t uid, gid_t gid,
                      struct sbx_ns *ns, char *err, size_t errlen);

void sbx_ns_close(struct sbx_ns *ns);

#endif
