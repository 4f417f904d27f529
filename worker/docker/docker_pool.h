/* SPDX-License-Identifier: MIT */
/* docker_pool: the Docker backend's slots. Each run is one fresh container of the language's
 * image, with runq-box as PID 1 (docs/DOCKER.md): create, attach, start, send runq-box its
 * input, read its records until the stream ends, read the container's state, remove it.
 * It takes the same requests as slot_pool (sbx_request's wire form) and gives the same
 * answers ({"type": "result", "result": {...}} in the sandbox's result form), so the runner
 * drives both alike.
 * Does: every engine call asynchronously on the loop (docker_api, docker_attach); the
 * wall-clock backstop (the container is killed a little after runq-box's own deadline);
 * removal of every container it made, and at start of every container an earlier process
 * with the same owner left behind (a crash). Must not: block the loop, mount anything of the
 * host into a container (docker_spec), or answer a run before its container's state is read. */
#ifndef RUNQ_WORKER_DOCKER_POOL_H
#define RUNQ_WORKER_DOCKER_POOL_H

#include <stdint.h>
#include <uv.h>

#include "slot_pool.h"

struct docker_pool;

struct docker_pool_options {
    const char *socket;   /* the engine's API socket */
    unsigned slots;       /* runs at once */
    unsigned first_slot;  /* run numbers first_slot .. first_slot + slots - 1 (for cancel) */
    uint32_t uid, cpus;   /* docker_spec_options */
    const char *owner;    /* stable across restarts of the same worker: what it sweeps */
};

/* Starts the sweep of the owner's leftovers; runs are taken once it is done (idle is 0
 * until then). 0, -EINVAL or -ENOMEM. */
int docker_pool_new(uv_loop_t *loop, const struct docker_pool_options *o,
                    struct docker_pool **out);

/* As slot_pool_run, in a container of image. -EBUSY when every slot is busy or the sweep is
 * not done, -ESHUTDOWN while closing, -EINVAL for a request that does not parse, -ENOMEM.
 * The callback gets status < 0 (-EIO) when the engine failed the run: no answer. */
int docker_pool_run(struct docker_pool *p, const char *image, const char *payload, size_t len,
                    slot_run_cb cb, slot_output_cb on_output, void *data, unsigned *slot_out);

/* Kills the run's container; its callback gets -ECANCELED. 0, or -EINVAL when idle. */
int docker_pool_cancel(struct docker_pool *p, unsigned slot);

unsigned docker_pool_idle(const struct docker_pool *p);

/* Containers made and removed so far, and leftovers swept at start (tests, logs). */
struct docker_pool_stats {
    uint64_t created, removed, swept;
};
void docker_pool_stats(const struct docker_pool *p, struct docker_pool_stats *out);

/* Stops taking runs; running ones are killed (their callbacks get -ESHUTDOWN), every
 * container is removed, then cb runs and the pool is freed. */
void docker_pool_close(struct docker_pool *p, void (*cb)(void *data), void *data);

#endif
