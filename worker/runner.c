/* SPDX-License-Identifier: MIT */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "result_writer.h"
#include "job.h"
#include "grading.h"
#include "job_plan.h"
#include "keys.h"
#include "results_sql.h"
#include "rq.h"
#include "slot_pool.h"
#include "utf8.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
#define SLOT_WAIT_MS 50
#define OUTPUT_EVERY_MS 250
#define OUTPUT_EVENT_MAX (64 << 10) /* per stream and event: the result has all of it */

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
    unsigned slot;
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
    void (*again)(struct job_run *job);
};

static void step(struct job_run *job);
static void store(struct job_run *job);
static void serve_waiting(struct runner_env *env);

static int64_t now_us(void)
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
static void retry(struct job_run *job, void (*again)(struct job_run *), unsigned base_ms)
{
    unsigned shift = job->tries < 6 ? job->tries : 6;
    uint64_t delay = (uint64_t)base_ms << shift;

    job->tries++;
    job->again = again;
    uv_timer_start(&job->retry, on_retry, delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS, 0);
}

static void publish(struct job_run *job, const char *event)
{
    char channel[KEYS_NAME_MAX + 1], msg[256];

    if (keys_events(channel, sizeof(channel), job->id) < 0)
        return;
    snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"event\":\"%s\"}", job->id, event);
    (void)rq_publish(job->env->rq, channel, msg, strlen(msg), NULL, NULL);
}

static void publish_json(struct job_run *job, json_t *ev)
{
    char channel[KEYS_NAME_MAX + 1];
    char *msg = ev ? json_dumps(ev, JSON_COMPACT) : NULL;

    if (msg && keys_events(channel, sizeof(channel), job->id) == 0)
        (void)rq_publish(job->env->rq, channel, msg, strlen(msg), NULL, NULL);
    free(msg);
    json_decref(ev);
}

/* Output read since the last event, as one event per stream (invalid UTF-8 replaced). */
static void flush_output(struct job_run *job)
{
    static const char *const names[2] = {"stdout", "stderr"};
    char channel[KEYS_NAME_MAX + 1];
    int i;

    if (keys_events(channel, sizeof(channel), job->id) < 0)
        return;
    for (i = 0; i < 2; i++) {
        size_t n;
        char *text, *msg;
        json_t *ev;
        if (!job->pending[i].len)
            continue;
        text = utf8_sanitize(job->pending[i].data, job->pending[i].len, &n);
        ev = text ? json_pack("{s:s, s:s, s:s, s:s#, s:b}", "id", job->id, "event", "output",
                              "stream", names[i], "data", text, (int)n, "dropped",
                              job->pending[i].dropped)
                  : NULL;
        msg = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        if (msg)
            (void)rq_publish(job->env->rq, channel, msg, strlen(msg), NULL, NULL);
        free(msg);
        json_decref(ev);
        free(text);
        job->pending[i].len = 0;
        job->pending[i].dropped = 0;
    }
}

static void on_flush(uv_timer_t *t)
{
    flush_output(t->data);
}

static void on_output(int stream, const char *bytes, size_t len, void *data)
{
    struct job_run *job = data;
    int i = stream == 2;

    if (!job->pending[i].data && !(job->pending[i].data = malloc(OUTPUT_EVENT_MAX)))
        return;
    if (len > OUTPUT_EVENT_MAX - job->pending[i].len) {
        len = OUTPUT_EVENT_MAX - job->pending[i].len;
        job->pending[i].dropped = 1;
    }
    memcpy(job->pending[i].data + job->pending[i].len, bytes, len);
    job->pending[i].len += len;
}

/* The job is over as far as the sandbox goes: make it durable. result is stolen. */
static void finish(struct job_run *job, const char *state, json_t *result)
{
    if (!job->released) {
        job->released = 1;
        if (job->env->job_released)
            job->env->job_released(job->env, job);
    }
    job->state = state;
    json_decref(job->result);
    job->result = result;
    job->finished_us = now_us();
    job->stage = ST_STORE;
    job->tries = 0;
    store(job);
}

static void fail_internal(struct job_run *job, const char *message)
{
    finish(job, "failed", json_pack("{s:s, s:s}", "status", "internal_error", "message", message));
}

static void on_acked(void *arg, int status, long long value)
{
    struct job_run *job = arg;

    (void)value; /* 0: recovery took it back meanwhile; rq removed the requeued copy */
    if (status < 0) {
        retry(job, store, RETRY_MIN_MS); /* store again: the upsert is idempotent */
        return;
    }
    job->stage = ST_DONE;
    job->env->job_done(job->env, job);
}

static void ack(struct job_run *job)
{
    char *text = json_dumps(job->result, JSON_COMPACT);

    job->stage = ST_ACK;
    if (!text || rq_ack(job->env->rq, job->id, job->state, text, on_acked, job) < 0)
        retry(job, ack, RETRY_MIN_MS);
    free(text);
}

static void on_stored(int status, void *data)
{
    struct job_run *job = data;

    if (status < 0) {
        fprintf(stderr, "runq-worker: %s: storing the result: %s\n", job->id, strerror(-status));
        retry(job, store, RETRY_MIN_MS);
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
        .started_us = job->started_us, .finished_us = job->finished_us,
    };
    int r = result_writer_put(job->env->writer, &row, on_stored, job);

    free(result);
    free(summary_text);
    free(metadata);
    json_decref(summary);
    if (r < 0)
        retry(job, store, RETRY_MIN_MS);
}

static int has_status(const json_t *result, const char *status)
{
    const char *s = json_string_value(json_object_get(result, "status"));

    return s && strcmp(s, status) == 0;
}

/* The next test of a graded job, or its result once grading is over. */
static void next_test(struct job_run *job)
{
    long i = grading_next(&job->grading);
    json_t *compile = job->compile;

    if (i < 0) {
        job->compile = NULL;
        finish(job, "completed", grading_result(&job->grading, compile));
        return;
    }
    job->test = (size_t)i;
    job->stage = ST_TEST;
    step(job);
}

static void test_done(struct job_run *job)
{
    publish_json(job, grading_event(&job->grading, job->id, job->test));
    next_test(job);
}

/* A test's run, or its checker's: decided, or the custom checker is next. */
static void after_test(struct job_run *job, json_t *result)
{
    if (job->stage == ST_CHECK) {
        grading_take_check(&job->grading, job->test, result);
    } else if (grading_take_run(&job->grading, job->test, result) == 1) {
        job->stage = ST_CHECK;
        step(job);
        return;
    }
    test_done(job);
}

static void after_compile(struct job_run *job, json_t *result)
{
    if (!has_status(result, "ok")) {
        /* The submission did not compile: a verdict about it, not a failure of ours. */
        const char *state = has_status(result, "internal_error") ? "failed" : "completed";
        if (job->graded) {
            grading_compile_error(&job->grading);
            finish(job, state, grading_result(&job->grading, json_incref(result)));
        } else {
            finish(job, state, json_pack("{s:s, s:O}", "status", "compile_error", "compile", result));
        }
        return;
    }
    if (job_plan_take_artifacts(&job->plan, result) < 0) {
        fail_internal(job, "the compiler left no artifact");
        return;
    }
    publish(job, "compiled");
    if (!job->graded) {
        job->stage = ST_RUN;
        step(job);
        return;
    }
    /* Kept for the result, without the artifacts (they can be large and are not the user's). */
    job->compile = json_deep_copy(result);
    json_object_del(job->compile, "files");
    if (job->plan.checker_compiled) {
        job->stage = ST_CHECKER_COMPILE;
        step(job);
        return;
    }
    next_test(job);
}

static void after_checker_compile(struct job_run *job, json_t *result)
{
    if (!has_status(result, "ok")) {
        json_object_del(result, "files");
        finish(job, "failed",
               json_pack("{s:s, s:s, s:O}", "status", "internal_error", "message",
                         "the custom checker did not compile", "checker_compile", result));
        return;
    }
    if (job_plan_take_checker_artifacts(&job->plan, result) < 0) {
        fail_internal(job, "the checker's compiler left no artifact");
        return;
    }
    next_test(job);
}

static void on_slot(int status, json_t *answer, void *data)
{
    struct job_run *job = data;
    struct runner_env *env = job->env;
    json_t *result = json_object_get(answer, "result");
    const char *type = json_string_value(json_object_get(answer, "type"));

    job->in_slot = 0;
    uv_timer_stop(&job->flush);
    flush_output(job);
    if (status == -ECANCELED || job->cancel_requested)
        finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
    else if (status < 0)
        fail_internal(job, "the sandbox slot died during the run");
    else if (!type || strcmp(type, "result") != 0 || !result)
        fail_internal(job, "the sandbox refused the request");
    else if (job->stage == ST_COMPILE)
        after_compile(job, result);
    else if (job->stage == ST_CHECKER_COMPILE)
        after_checker_compile(job, result);
    else if (job->stage == ST_TEST || job->stage == ST_CHECK)
        after_test(job, result);
    else
        finish(job, has_status(result, "internal_error") ? "failed" : "completed",
               json_incref(result));
    json_decref(answer);
    serve_waiting(env);
}

static void wait_add(struct job_run *job)
{
    struct runner_env *env = job->env;

    if (job->waiting)
        return;
    job->waiting = 1;
    job->next_waiting = NULL;
    if (env->waiting_tail)
        env->waiting_tail->next_waiting = job;
    else
        env->waiting_head = job;
    env->waiting_tail = job;
}

static void wait_remove(struct job_run *job)
{
    struct runner_env *env = job->env;
    struct job_run **p = &env->waiting_head, *prev = NULL;

    if (!job->waiting)
        return;
    while (*p && *p != job) {
        prev = *p;
        p = &(*p)->next_waiting;
    }
    if (*p)
        *p = job->next_waiting;
    if (env->waiting_tail == job)
        env->waiting_tail = prev;
    job->waiting = 0;
    job->next_waiting = NULL;
    uv_timer_stop(&job->retry);
}

/* A slot came free: the jobs waiting for one go first, oldest first. */
static void serve_waiting(struct runner_env *env)
{
    while (env->waiting_head && slot_pool_idle(env->pool) > 0) {
        struct job_run *job = env->waiting_head;
        wait_remove(job);
        step(job);
    }
}

/* The sandbox run the job's stage asks for. */
static json_t *step_request(struct job_run *job)
{
    struct sbx_run_spec spec;
    const char *output;
    size_t len;

    switch (job->stage) {
    case ST_COMPILE:
        return job_plan_request(&job->plan.compile);
    case ST_CHECKER_COMPILE:
        return job_plan_request(&job->plan.checker_compile);
    case ST_TEST:
        job_plan_test_run(&job->plan, &job->spec.tests[job->test], &spec);
        return job_plan_request(&spec);
    case ST_CHECK:
        output = grading_output(&job->grading, &len);
        job_plan_checker_run(&job->plan, &job->spec.tests[job->test], output, len, &spec);
        return job_plan_request(&spec);
    default:
        return job_plan_request(&job->plan.run);
    }
}

static void step(struct job_run *job)
{
    json_t *req = step_request(job);
    int r;

    /* Only the run step's output is the program's; the compiler's comes with its result. */
    if (req && job->stage == ST_RUN)
        json_object_set_new(req, "stream", json_true());
    r = req ? slot_pool_run(job->env->pool, req, on_slot, on_output, job, &job->slot) : -ENOMEM;

    json_decref(req);
    if (r == -EBUSY) {
        /* Every slot busy (this job was fetched ahead), or coming back from a cancel: the
         * next slot to come free takes it; the timer covers a slot that comes back ready. */
        wait_add(job);
        retry(job, step, SLOT_WAIT_MS);
        return;
    }
    wait_remove(job);
    if (r < 0) {
        fail_internal(job, "the sandbox request could not be sent");
        return;
    }
    job->in_slot = 1;
    job->tries = 0;
    if (!job->started_us)
        job->started_us = now_us(); /* the first step in a slot: not the wait for one */
    if (job->stage == ST_RUN)
        uv_timer_start(&job->flush, on_flush, OUTPUT_EVERY_MS, OUTPUT_EVERY_MS);
}

/* A graded job: its tests' bookkeeping and its custom checker, if any. -1 when it failed
 * (and finished). */
static int plan_grading(struct job_run *job)
{
    const struct job_checker *c = &job->spec.checker;
    const struct language *lang = NULL;

    if (c->opts.kind == CHECKER_CUSTOM &&
        !(lang = languages_find(job->env->languages, c->language))) {
        fail_internal(job, "the checker's language is not configured on this worker");
        return -1;
    }
    if (lang && job_plan_add_checker(&job->plan, c, lang, &job->env->cfg->limits.defaults) < 0) {
        fail_internal(job, "the checker's commands could not be built");
        return -1;
    }
    if (grading_init(&job->grading, &job->spec) < 0) {
        fail_internal(job, "out of memory for the tests");
        return -1;
    }
    job->graded = 1;
    return 0;
}

/* The spec as stored by the dispatcher, read back strictly. */
static void plan(struct job_run *job, const char *spec, size_t len)
{
    json_t *j = json_loadb(spec, len, JSON_ALLOW_NUL, NULL);
    struct api_error err;

    if (!j || job_spec_from_json(j, &job->spec, &err) < 0) {
        json_decref(j);
        fail_internal(job, "the stored job is not valid");
        return;
    }
    json_decref(j);
    job->have_spec = 1;
    const struct language *lang = languages_find(job->env->languages, job->spec.language);
    if (!lang) {
        fail_internal(job, "the job's language is not configured on this worker");
        return;
    }
    if (job_plan_build(&job->spec, lang, &job->env->cfg->limits.defaults, &job->plan) < 0) {
        fail_internal(job, "the job's commands could not be built");
        return;
    }
    job->have_plan = 1; /* "started" was published by the start in Redis */
    if (job->spec.ntests && plan_grading(job) < 0)
        return;
    job->tries = 0;
    if (job->cancel_requested) {
        finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
        return;
    }
    if (job->plan.compiled) {
        job->stage = ST_COMPILE;
        step(job);
    } else if (job->graded && job->plan.checker_compiled) {
        job->stage = ST_CHECKER_COMPILE;
        step(job);
    } else if (job->graded) {
        next_test(job);
    } else {
        job->stage = ST_RUN;
        step(job);
    }
}

static void mark_running(struct job_run *job);

static void on_started(void *arg, int status, const struct rq_started *s)
{
    struct job_run *job = arg;

    if (status < 0) {
        retry(job, mark_running, RETRY_MIN_MS);
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
        retry(job, mark_running, RETRY_MIN_MS);
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
    wait_remove(job);
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
        (void)slot_pool_cancel(job->env->pool, job->slot);
    } else if (job->waiting) {
        wait_remove(job);
        finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
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

void runner_free(struct job_run *job)
{
    job->closing = 2;
    uv_close((uv_handle_t *)&job->retry, on_timer_closed);
    uv_close((uv_handle_t *)&job->flush, on_timer_closed);
}
