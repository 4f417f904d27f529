/* SPDX-License-Identifier: MIT */
/* backend: where a step runs, the built-in sandbox's slots (slot_pool) or the Docker
 * backend's (docker_pool), chosen per language (languages.yaml "backend", else runq.yaml
 * worker.backend). Both take the same request and give the same answer.
 * Does: route a run, a cancel and the idle count to the language's pool. Must not: decide
 * anything about jobs, or fall back from one backend to the other (a language configured for
 * Docker never runs in the sandbox, nor the reverse). */
#ifndef RUNQ_WORKER_BACKEND_H
#define RUNQ_WORKER_BACKEND_H

#include "languages.h"
#include "runner.h"
#include "slot_pool.h"

/* Which pool served a run, for backend_cancel. */
struct backend_slot {
    int docker;
    unsigned slot;
};

/* As slot_pool_run, in lang's backend. -ENODEV when this worker has no pool of that backend
 * (it opens only those its languages use). */
int backend_run(struct runner_env *env, const struct language *lang, const char *payload,
                size_t len, slot_run_cb cb, slot_output_cb on_output, void *data,
                struct backend_slot *out);

int backend_cancel(struct runner_env *env, const struct backend_slot *s);

/* Idle slots of lang's backend. */
unsigned backend_idle(const struct runner_env *env, const struct language *lang);

/* Whether lang runs in the Docker backend on this worker's configuration. */
int backend_is_docker(const struct runner_env *env, const struct language *lang);

#endif
