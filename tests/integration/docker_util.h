/* SPDX-License-Identifier: MIT */
/* docker_util: what the Docker backend's tests ask of the engine themselves, to check the
 * worker's claims against the engine's own answer (test_docker_pool.c, test_worker_docker.c).
 * Must not: hold global state, or create or remove anything. */
#ifndef RUNQ_TESTS_DOCKER_UTIL_H
#define RUNQ_TESTS_DOCKER_UTIL_H

#include <uv.h>

#define DU_SOCKET "/var/run/docker.sock"

/* Containers, running or not, that carry owner's org.runq.owner label; -1 when the engine
 * did not answer. Runs loop until the answer came. */
long du_count_owned(uv_loop_t *loop, const char *owner);

#endif
