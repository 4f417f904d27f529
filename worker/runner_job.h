/* SPDX-License-Identifier: MIT */
/* runner_job: the state of one job on a worker, INTERNAL to the runner: only runner*.c
 * include it (everyone else uses runner.h). It holds the struct shared by runner.c (the
 * job's lifecycle: start, mark running, plan, store, ack, retries, give back, cancel, free)
 * and runner_steps.c (its steps in the slot pool: the FIFO of jobs waiting for a free slot,
 * compile, the checker's compile, the run or each test and its check, output events).
 * Does: declare what those two files share. Must not: be included outside worker/runner*.c,
 * hold global state, or grow job logic (that stays in the two .c files). */
#ifndef RUNQ_WORKER_RUNNER_JOB_H
#define RUNQ_WORKER_RUNNER_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "grading.h"
#include "job.h"
#include "job_plan.h"
#include "backend.h"
#include "keys.h"
#include "runner.h"

/* A graded job: COMPILE (if the language compiles), CHECKER_COMPILE (a custom checker in a
 * compiled language), then TEST (and CHECK with a custom checker) per test. A plain job:
 * COMPILE, then RUN. */
enum stage {
    ST_STARTING,
    ST_COMPILE,
    ST_CHECKER_COMPILE,
    ST_RUN,
    ST_TEST,
    ST_CHECK,
    ST_STORE,
    ST_ACK,
    ST_DONE
};

struct job_run {
    struct runner_env *env;
    char id[KEYS_ID_MAX + 1];
    char queue[KEYS_QUEUE_MAX + 1];
    enum stage stage;
    struct job_spec spec;
    struct job_plan plan;
    int have_spec, have_plan, in_slot, cancel_requested, released;
    int graded;            /* the job has tests: grading is set up */
    struct grading grading;
    size_t test;           /* the test of ST_TEST / ST_CHECK */
    json_t *compile;       /* a graded job's compile result (without artifacts) */
    int waiting;           /* in env's FIFO of jobs waiting for a free slot */
    struct job_run *next_waiting;
    struct backend_slot slot;  /* where the step in a slot runs */
    const struct language *lang, *checker_lang; /* the checker's: NULL without one */
    long long attempts, created_ms;
    int64_t started_us, finished_us;
    const char *state;  /* completed | failed | cancelled, once finished */
    json_t *result;     /* what is stored and acknowledged */
    uv_timer_t retry;
    uv_timer_t flush;   /* output events, every OUTPUT_EVERY_MS while a step runs */
    int closing;        /* handles still to close in runner_free */
    struct {
        char *data;
        size_t len;
        int dropped;
    } pending[2];       /* output not published yet: stdout, stderr */
    unsigned tries;     /* of the current step, for backoff */
    int retryable;      /* it failed on our side (sandbox, worker): it may run again later */
    void (*again)(struct job_run *job);
};

/* runner.c */

/* Wall-clock microseconds, for the stored started/finished times. */
int64_t runner_now_us(void);

/* Calls again(job) after base_ms, doubled per try of the current step (job->tries) up to a
 * cap: a server away or every slot busy is waited out, never turned into a failure. */
void runner_retry(struct job_run *job, void (*again)(struct job_run *), unsigned base_ms);

/* The job is over as far as the sandbox goes (state: completed | failed | cancelled): it
 * gives up its place (job_released), then is stored and acknowledged. result is stolen. */
void runner_finish(struct job_run *job, const char *state, json_t *result);

/* runner_finish as failed, with an internal_error result naming what went wrong. */
void runner_fail_internal(struct job_run *job, const char *message);

/* The same for a failure of ours that another try may not meet (a slot that died, a worker
 * without the language): while the job has attempts left it goes back to wait in its queue
 * (exponential backoff with jitter) instead; only the last attempt is stored as failed.
 * A user's program that fails (WA, TLE, RE...) is never retried. */
void runner_fail_retryable(struct job_run *job, const char *message);

/* The same with the sandbox's own internal_error result (stolen). */
void runner_fail_result(struct job_run *job, json_t *result);

/* runner_steps.c */

/* The first step of a job that is planned (and graded, if it has tests): its compile, its
 * checker's compile, its first test or its run. */
void runner_steps_begin(struct job_run *job);

/* Publishes {"id","event":event} on the job's events channel. */
void runner_publish(struct job_run *job, const char *event);

/* Takes the job out of env's FIFO of jobs waiting for a slot (no-op when it is not in it)
 * and stops its slot-wait timer. */
void runner_wait_remove(struct job_run *job);

#endif
