/* SPDX-License-Identifier: MIT */
/* runner: one job's lifecycle on a worker (see runner.h): start (marking it running unless
 * the take did), plan it from the stored spec (job_plan, grading for a job with tests),
 * hand it to its steps (runner_steps.c), then store its result through result_writer and
 * only once that is durable acknowledge it in Redis; retries with backoff while a server is
 * away; give back, cancel and free. The state is runner_job.h's.
 * Must not: run sandbox steps (runner_steps.c does), ack before the result is durable, or
 * drop a job on a failure: its id stays in this worker's processing list until the ack. */
#include "runner_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "db.h"
#include "job_sched.h"
#include "result_writer.h"
#include "results_sql.h"
#include "rq.h"
#include "slot_pool.h"
#include "webhook.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

static void store(struct job_run *job);

int64_t runner_now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void on_retry(uv_timer_t *t)
{
    struct job_run *job = t->data;

    job->again(job);
}

/* Redis or PostgreSQL away, a slot respawning: the job waits in our processing list (safe:
 * recovery only takes it if this worker stops heartbeating) and tries again later. */
void runner_retry(struct job_run *job, void (*again)(struct job_run *), unsigned base_ms)
{
    unsigned shift = job->tries < 6 ? job->tries : 6;
    uint64_t delay = (uint64_t)base_ms << shift;

    job->tries++;
    job->again = again;
    uv_timer_start(&job->retry, on_retry, delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS, 0);
}

static void requeue(struct job_run *job);

static void on_requeued(void *arg, int status, long long value)
{
    struct job_run *job = arg;

    (void)value; /* 0: recovery took it back meanwhile: it runs again anyway */
    if (status < 0) {
        runner_retry(job, requeue, RETRY_MIN_MS);
        return;
    }
    job->stage = ST_DONE;
    job->env->job_done(job->env, job);
}

/* Back to the queue's delayed set for another attempt; nothing is stored or acknowledged. */
static void requeue(struct job_run *job)
{
    const char *message = json_string_value(json_object_get(job->result, "message"));
    uint64_t delay = job_sched_retry_delay_ms((unsigned)job->attempts, (uint32_t)random());

    job->stage = ST_STORE;
    if (rq_retry(job->env->rq, job->id, delay, message ? message : "internal error",
                 on_requeued, job) < 0)
        runner_retry(job, requeue, RETRY_MIN_MS);
}

/* The job is over as far as the sandbox goes: make it durable. result is stolen. */
void runner_finish(struct job_run *job, const char *state, json_t *result)
{
    if (!job->released) {
        job->released = 1;
        if (job->env->job_released)
            job->env->job_released(job->env, job);
    }
    if (job->retryable && !strcmp(state, "failed") && !job->cancel_requested &&
        job->attempts < (long long)job->env->cfg->worker.max_attempts) {
        json_decref(job->result);
        job->result = result;
        job->tries = 0;
        runner_publish(job, "retrying");
        requeue(job);
        return;
    }
    job->state = state;
    json_decref(job->result);
    job->result = result;
    job->finished_us = runner_now_us();
    job->stage = ST_STORE;
    job->tries = 0;
    store(job);
}

void runner_fail_internal(struct job_run *job, const char *message)
{
    runner_finish(job, "failed",
                  json_pack("{s:s, s:s}", "status", "internal_error", "message", message));
}

void runner_fail_retryable(struct job_run *job, const char *message)
{
    job->retryable = 1;
    runner_fail_internal(job, message);
}

void runner_fail_result(struct job_run *job, json_t *result)
{
    job->retryable = 1;
    runner_finish(job, "failed", result);
}

/* A webhook delivery outlives its job: what the outcome is noted on. */
struct delivery {
    struct rq *rq;
    struct db *db;
    char id[KEYS_ID_MAX + 1];
};

static void on_noted(struct db *db, const struct db_result *r, void *data)
{
    (void)db;
    (void)r; /* a note that could not be written leaves the Redis one: nothing to retry */
    (void)data;
}

static void on_delivered(const struct webhook_result *r, void *data)
{
    static const char *const outcome[] = {"delivered", "refused", "failed", "cancelled"};
    struct delivery *d = data;
    int i = r->status == 0 ? 0 : r->status == -EREMOTEIO ? 1 : r->status == -ECANCELED ? 3 : 2;
    json_t *note = json_pack("{s:s, s:I, s:I, s:s}", "status", outcome[i], "http_status",
                             (json_int_t)r->http_status, "attempts", (json_int_t)r->attempts,
                             "error", r->error ? r->error : "");
    char *text = note ? json_dumps(note, JSON_COMPACT) : NULL;

    if (text) {
        struct results_query q;
        (void)rq_job_note(d->rq, d->id, "webhook", text, NULL, NULL);
        if (d->db && results_sql_webhook(d->id, text, &q) == 0) {
            (void)db_query(d->db, q.sql, q.nparams, (const char *const *)q.params, on_noted, NULL);
            results_query_free(&q);
        }
    }
    free(text);
    json_decref(note);
    free(d);
}

/* The final result to the job's callback_url, once it is durable and acknowledged: at least
 * once (a receiver deduplicates by id). */
static void deliver_webhook(struct job_run *job)
{
    json_t *body = json_pack("{s:s, s:s, s:I, s:O}", "id", job->id, "status", job->state,
                             "attempts", (json_int_t)job->attempts, "result", job->result);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct delivery *d = text ? calloc(1, sizeof(*d)) : NULL;

    if (d) {
        d->rq = job->env->rq;
        d->db = job->env->db;
        snprintf(d->id, sizeof(d->id), "%s", job->id);
        if (webhook_deliver(job->env->webhook, job->spec.callback_url, text, strlen(text),
                            on_delivered, d) < 0) {
            struct webhook_result r = {.status = -EIO, .error = "the delivery could not start"};
            on_delivered(&r, d);
        }
    }
    free(text);
    json_decref(body);
}

static void on_acked(void *arg, int status, long long value)
{
    struct job_run *job = arg;

    (void)value; /* 0: recovery took it back meanwhile; rq removed the requeued copy */
    if (status < 0) {
        runner_retry(job, store, RETRY_MIN_MS); /* store again: the upsert is idempotent */
        return;
    }
    if (job->have_spec && job->spec.callback_url && job->env->webhook)
        deliver_webhook(job);
    job->stage = ST_DONE;
    job->env->job_done(job->env, job);
}

static void ack(struct job_run *job)
{
    char *text = json_dumps(job->result, JSON_COMPACT);

    job->stage = ST_ACK;
    if (!text || rq_ack(job->env->rq, job->id, job->state, text, on_acked, job) < 0)
        runner_retry(job, ack, RETRY_MIN_MS);
    free(text);
}

static void on_stored(int status, void *data)
{
    struct job_run *job = data;

    if (status < 0) {
        fprintf(stderr, "runq-worker: %s: storing the result: %s\n", job->id, strerror(-status));
        runner_retry(job, store, RETRY_MIN_MS);
        return;
    }
    job->tries = 0;
    ack(job);
}

/* The row goes out with whatever other results are waiting: one commit for all of them. */
static void store(struct job_run *job)
{
    char *result = json_dumps(job->result, JSON_COMPACT);
    json_t *summary = job->have_spec ? results_spec_summary(&job->spec) : NULL;
    char *summary_text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
    char *metadata = job->have_spec && job->spec.metadata
                         ? json_dumps(job->spec.metadata, JSON_COMPACT | JSON_ENCODE_ANY)
                         : NULL;
    struct results_job row = {
        .id = job->id, .queue = job->queue,
        .language = job->have_spec ? job->spec.language : "unknown",
        .status = job->state, .priority = job->have_spec ? job->spec.priority : JOB_PRIORITY_DEFAULT,
        .attempts = (int)job->attempts, .worker = job->env->worker, .spec_summary = summary_text,
        .result = result, .metadata = metadata, .created_us = (int64_t)job->created_ms * 1000,
        .batch = job->have_spec ? job->spec.batch : NULL,
        .started_us = job->started_us, .finished_us = job->finished_us,
    };
    int r = result_writer_put(job->env->writer, &row, on_stored, job);

    free(result);
    free(summary_text);
    free(metadata);
    json_decref(summary);
    if (r < 0)
        runner_retry(job, store, RETRY_MIN_MS);
}

/* A graded job: its tests' bookkeeping and its custom checker, if any. -1 when it failed
 * (and finished). */
static int plan_grading(struct job_run *job)
{
    const struct job_checker *c = &job->spec.checker;
    const struct language *lang = NULL;

    if (c->opts.kind == CHECKER_CUSTOM &&
        !(lang = languages_find(job->env->languages, c->language))) {
        runner_fail_retryable(job, "the checker's language is not configured on this worker");
        return -1;
    }
    job->checker_lang = lang;
    if (lang && job_plan_add_checker(&job->plan, c, lang, &job->env->cfg->limits.defaults) < 0) {
        runner_fail_internal(job, "the checker's commands could not be built");
        return -1;
    }
    if (grading_init(&job->grading, &job->spec) < 0) {
        runner_fail_internal(job, "out of memory for the tests");
        return -1;
    }
    job->graded = 1;
    return 0;
}

/* The job's commands and steps, once its spec is complete. */
static void plan_steps(struct job_run *job)
{
    const struct language *lang = languages_find(job->env->languages, job->spec.language);

    if (!lang) {
        runner_fail_retryable(job, "the job's language is not configured on this worker");
        return;
    }
    if (job_plan_build(&job->spec, lang, &job->env->cfg->limits.defaults, &job->plan) < 0) {
        runner_fail_internal(job, "the job's commands could not be built");
        return;
    }
    job->lang = lang;
    job->have_plan = 1; /* "started" was published by the start in Redis */
    if (job->spec.ntests && plan_grading(job) < 0)
        return;
    job->tries = 0;
    if (job->cancel_requested) {
        runner_finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
        return;
    }
    runner_steps_begin(job);
}

/* A batch's job gets the tests the batch stores once, decoded once per batch here. */
static void take_batch_tests(struct job_run *job)
{
    if (job_graded_copy(&job->spec, &job->env->batch_tests) < 0) {
        runner_fail_retryable(job, "out of memory for the batch's tests");
        return;
    }
    plan_steps(job);
}

static void load_batch(struct job_run *job);

static void on_batch_spec(void *arg, int status, const char *spec, size_t len)
{
    struct job_run *job = arg;
    struct runner_env *env = job->env;
    struct job_spec tests;
    struct api_error err;
    json_t *j;
    int r;

    if (status == -ENOENT) {
        runner_fail_internal(job, "the job's batch is gone");
        return;
    }
    if (status < 0 || !(j = json_loadb(spec, len, 0, NULL))) {
        runner_retry(job, load_batch, RETRY_MIN_MS);
        return;
    }
    memset(&tests, 0, sizeof(tests));
    r = job_spec_graded_from_json(j, &tests, &err);
    json_decref(j);
    if (r < 0) {
        job_spec_free(&tests);
        runner_fail_internal(job, "the batch's stored tests are not valid");
        return;
    }
    /* One batch's jobs come in a row: its tests are read from Redis and decoded once. */
    runner_env_cleanup(env);
    env->batch_tests = tests;
    snprintf(env->batch_id, sizeof(env->batch_id), "%s", job->spec.batch);
    take_batch_tests(job);
}

static void load_batch(struct job_run *job)
{
    struct runner_env *env = job->env;

    if (env->batch_id[0] && !strcmp(env->batch_id, job->spec.batch)) {
        take_batch_tests(job);
        return;
    }
    if (rq_batch_spec(env->rq, job->spec.batch, on_batch_spec, job) < 0)
        runner_retry(job, load_batch, RETRY_MIN_MS);
}

/* The spec as stored by the dispatcher, read back strictly. */
static void plan(struct job_run *job, const char *spec, size_t len)
{
    json_t *j = json_loadb(spec, len, JSON_ALLOW_NUL, NULL);
    struct api_error err;

    if (!j || job_spec_from_json(j, &job->spec, &err) < 0) {
        json_decref(j);
        runner_fail_internal(job, "the stored job is not valid");
        return;
    }
    json_decref(j);
    job->have_spec = 1;
    if (job->spec.batch)
        load_batch(job);
    else
        plan_steps(job);
}

static void mark_running(struct job_run *job);

static void on_started(void *arg, int status, const struct rq_started *s)
{
    struct job_run *job = arg;

    if (status < 0) {
        runner_retry(job, mark_running, RETRY_MIN_MS);
        return;
    }
    if (s->status != RQ_START_OK) {
        /* Cancelled before it started, already finished, or dead: rq took it off our list. */
        job->stage = ST_DONE;
        job->env->job_done(job->env, job);
        return;
    }
    job->attempts = s->attempts;
    job->created_ms = s->created_ms;
    plan(job, s->spec, s->spec_len);
}

static void mark_running(struct job_run *job)
{
    if (rq_mark_running(job->env->rq, job->id, on_started, job) < 0)
        runner_retry(job, mark_running, RETRY_MIN_MS);
}

int runner_start(struct runner_env *env, const struct rq_fetched *fetched, struct job_run **out)
{
    struct job_run *job = calloc(1, sizeof(*job));

    if (!job)
        return -ENOMEM;
    job->env = env;
    snprintf(job->id, sizeof(job->id), "%s", fetched->id);
    if (keys_job_id_parse(fetched->id, job->queue, sizeof(job->queue)) < 0)
        snprintf(job->queue, sizeof(job->queue), "unknown");
    uv_timer_init(env->loop, &job->retry);
    uv_timer_init(env->loop, &job->flush);
    job->retry.data = job->flush.data = job;
    *out = job;
    if (fetched->started)
        on_started(job, 0, &fetched->s);
    else
        mark_running(job);
    return 0;
}

static void on_given_back(void *arg, int status, long long value)
{
    struct job_run *job = arg;

    /* Not given back (Redis away): it stays in our processing list, where recovery finds it
     * once this worker has stopped heartbeating. */
    (void)status;
    (void)value;
    job->stage = ST_DONE;
    job->env->job_done(job->env, job);
}

int runner_give_back(struct job_run *job)
{
    if (!job->waiting || job->started_us)
        return 0;
    runner_wait_remove(job);
    job->released = 1;
    if (job->env->job_released)
        job->env->job_released(job->env, job);
    job->stage = ST_DONE;
    if (rq_release(job->env->rq, job->id, on_given_back, job) < 0)
        on_given_back(job, -ENOTCONN, 0);
    return 1;
}

int runner_released(const struct job_run *job)
{
    return job->released;
}

const char *runner_job_id(const struct job_run *job)
{
    return job->id;
}

void runner_cancel(struct job_run *job)
{
    job->cancel_requested = 1;
    if (job->in_slot) {
        (void)backend_cancel(job->env, &job->slot);
    } else if (job->waiting) {
        runner_wait_remove(job);
        runner_finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct job_run *job = h->data;

    if (--job->closing > 0)
        return;
    free(job->pending[0].data);
    free(job->pending[1].data);
    if (job->have_plan)
        job_plan_free(&job->plan);
    if (job->graded)
        grading_free(&job->grading);
    json_decref(job->compile);
    if (job->have_spec)
        job_spec_free(&job->spec);
    json_decref(job->result);
    free(job);
}

void runner_env_cleanup(struct runner_env *env)
{
    job_spec_free(&env->batch_tests);
    env->batch_id[0] = '\0';
}

void runner_free(struct job_run *job)
{
    job->closing = 2;
    uv_close((uv_handle_t *)&job->retry, on_timer_closed);
    uv_close((uv_handle_t *)&job->flush, on_timer_closed);
}
