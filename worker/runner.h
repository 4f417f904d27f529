/* SPDX-License-Identifier: MIT */
/* runner: one job on a worker, from its fetched id to its acknowledgement: mark running,
 * plan (job_plan), compile and run steps in the slot pool, the result durable in PostgreSQL
 * first and only then acknowledged in Redis (at-least-once; the upsert is idempotent).
 * Does: the job's state machine and its events on the job's channel. Must not: fetch jobs,
 * decide concurrency or lose a job: on any failure before the ack the id stays in this
 * worker's processing list, where recovery finds it if the worker dies. */
#ifndef RUNQ_WORKER_RUNNER_H
#define RUNQ_WORKER_RUNNER_H

#include <uv.h>

#include "config.h"
#include "job.h"
#include "keys.h"
#include "languages.h"
#include <jansson.h>

struct rq;
struct result_writer;
struct webhook;
struct db;
struct slot_pool;
struct job_run;

/* What every job of one worker shares; owned by main(). */
struct runner_env {
    uv_loop_t *loop;
    const struct runq_config *cfg;
    const struct languages *languages;
    struct rq *rq;
    struct result_writer *writer; /* finished jobs to PostgreSQL, batched */
    struct webhook *webhook;      /* callback_url deliveries; NULL: webhooks are off */
    struct db *db;                /* notes on rows (the webhook outcome) */
    struct slot_pool *pool;       /* the built-in sandbox's slots */
    struct docker_pool *docker;   /* the Docker backend's; NULL when no language uses it */
    const char *worker; /* this worker's name */
    /* Called once per job when it is over (acknowledged, skipped or abandoned). */
    void (*job_done)(struct runner_env *env, struct job_run *job);
    /* Called at most once per job, when it no longer needs a slot (only storing and
     * acknowledging are left); job_done follows later. */
    void (*job_released)(struct runner_env *env, struct job_run *job);
    void *data;
    /* The runner's own: jobs waiting for a free slot, oldest first (start them NULL), and
     * the shared tests of the batch seen last (runner_env_cleanup frees them). */
    struct job_run *waiting_head, *waiting_tail;
    char batch_id[KEYS_ID_MAX + 1]; /* "" while batch_tests holds nothing */
    struct job_spec batch_tests;    /* only its graded part: tests, checker, grading */
};

struct rq_fetched;

/* Starts a fetched job (marking it running first unless fetching did). *out is set before
 * any callback runs. Returns 0 (job_done will be called) or -ENOMEM. */
int runner_start(struct runner_env *env, const struct rq_fetched *fetched, struct job_run **out);

/* For a draining worker: a job that waits for a slot and never ran is handed back to the
 * head of its queue (job_released, then job_done once Redis answered). Returns 1 when it
 * was, 0 when the job goes on. */
int runner_give_back(struct job_run *job);

/* The id of a running job, for cancel requests. */
const char *runner_job_id(const struct job_run *job);

/* Kills the job's current sandbox run (if any); the job ends as cancelled. */
void runner_cancel(struct job_run *job);

/* Whether job_released was called for the job. */
int runner_released(const struct job_run *job);

/* Frees what the runner keeps in env (once no job is left). */
void runner_env_cleanup(struct runner_env *env);

/* Frees a job after job_done. */
void runner_free(struct job_run *job);

#endif
