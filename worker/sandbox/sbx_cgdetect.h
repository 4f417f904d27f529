/* SPDX-License-Identifier: MIT */
/* sbx_cgdetect: decide which cgroup hierarchy serves each need (memory, pids, CPU time,
 * tracking/killing) from the text of /proc/self/mountinfo.
 * Does: pure parsing of mountinfo and of cgroup "key value" files, so unit tests feed text.
 * Must not: open files or create groups (sbx_cgroup does). */
#ifndef RUNQ_SBX_CGDETECT_H
#define RUNQ_SBX_CGDETECT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

enum sbx_cg_kind { SBX_CG_NONE = 0, SBX_CG_V1, SBX_CG_V2 };

struct sbx_cg_layout {
    char v2_root[PATH_MAX];    /* cgroup2 mount point, "" if none */
    int v2_pure;               /* cgroup2 is mounted at the conventional root */
    char v1_memory[PATH_MAX];  /* v1 mount points, "" if absent */
    char v1_pids[PATH_MAX];
    char v1_cpuacct[PATH_MAX];
    enum sbx_cg_kind memory, pids, cpu, track;
};

/* mountinfo: the text of /proc/self/mountinfo. v2_controllers: the text of the cgroup2
 * root's cgroup.controllers (NULL if unreadable). pure_v2_root: where a pure v2 system
 * mounts cgroup2 ("/sys/fs/cgroup"). Returns 0, or -ENOENT with a human reason in err. */
int sbx_cg_detect(const char *mountinfo, const char *v2_controllers, const char *pure_v2_root,
                  struct sbx_cg_layout *out, char *err, size_t errlen);

/* Finds "key N" in a cgroup stat text such as cpu.stat, memory.events or pids.events.
 * Returns 0 or -ENOENT / -EINVAL. */
int sbx_cg_parse_key(const char *text, const char *key, uint64_t *value);

/* Whether a space-separated word list (cgroup.controllers) contains word. */
int sbx_cg_has_word(const char *list, const char *word);

const char *sbx_cg_kind_name(enum sbx_cg_kind k);

#endif
