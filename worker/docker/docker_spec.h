/* SPDX-License-Identifier: MIT */
/* docker_spec: the Engine API body that creates one job container (POST /containers/create)
 * from a sandbox run spec, and the labels that find a worker's containers again.
 * Does: the whole confinement of a run as plain JSON: no network, memory = memory + swap, a
 * CPU share, a pids limit, a read-only root, size-limited tmpfs for /tmp, /dev/shm and /box,
 * every capability dropped, no-new-privileges, a non-root user, rlimits, no log files, and
 * runq-box as PID 1 (docs/DOCKER.md says why that, and not docker-init, is the init).
 * Must not: do I/O, or ever produce a bind mount, a device, a privileged or host-namespace
 * container: nothing of the host goes into a job container. */
#ifndef RUNQ_DOCKER_SPEC_H
#define RUNQ_DOCKER_SPEC_H

#include <jansson.h>
#include <stdint.h>

#include "sbx_spec.h"

#define DOCKER_SPEC_LABEL_OWNER "org.runq.owner" /* which worker made it (docker_spec_owner) */
#define DOCKER_SPEC_LABEL_SLOT "org.runq.slot"
#define DOCKER_SPEC_BOX_PATH "/usr/local/bin/runq-box"

struct docker_spec_options {
    const char *image;
    const char *owner;  /* the value of DOCKER_SPEC_LABEL_OWNER */
    unsigned slot;
    uint32_t uid;       /* uid and gid of the run; never 0 */
    uint32_t cpus;      /* CPUs the run may use at once */
};

/* The create body. NULL when out of memory or when uid is 0. */
json_t *docker_spec_create(const struct sbx_run_spec *spec, const struct docker_spec_options *o);

/* The filter of GET /containers/json that lists every container of owner, URL-encoded into
 * out ("filters=..."). 0, or -ENAMETOOLONG. */
int docker_spec_owner_filter(const char *owner, char *out, size_t size);

#endif
