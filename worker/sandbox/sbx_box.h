/* SPDX-License-Identifier: MIT */
/* sbx_box: the run's work directory (/box): a fresh, size-limited tmpfs per run, created as a
 * detached mount the launcher holds by descriptor and the run's init attaches.
 * Does: write input files before the run; after the run, read back named files without
 * following anything the program could have planted (symlinks, FIFOs, hard links, ..).
 * Must not: use a path outside the box descriptor, chown/chmod by path, or delete anything:
 * dropping the last reference to the mount discards the whole tree, sabotaged or not. */
#ifndef RUNQ_SBX_BOX_H
#define RUNQ_SBX_BOX_H

#include <stdint.h>
#include <sys/types.h>

#include "sbx_result.h"
#include "sbx_spec.h"

/* A detached tmpfs owned by uid:gid (mode 0755). Returns the mount descriptor or -errno. */
int sbx_box_create(uint64_t size_bytes, uid_t uid, gid_t gid);

/* Writes f below box (parent directories created), owned by uid:gid. 0 or -errno. */
int sbx_box_put(int box, const struct sbx_file *f, uid_t uid, gid_t gid);

/* Fills out with name's content, or with out->error set when it is not a plain regular file
 * of at most max bytes (the caller's remaining budget for all collected files). Returns 0, or
 * -ENOMEM. */
int sbx_box_collect(int box, const char *name, uint64_t max, struct sbx_collected *out);

#endif
