/* SPDX-License-Identifier: MIT */
/* runner_steps: a job's steps in the slot pool (see runner.h; the state is runner_job.h's).
 * A plain job compiles (if its language does) and runs with its output streamed as events;
 * a graded job compiles, compiles its custom checker (if compiled), then runs each test and,
 * with a custom checker, the checker on its output, with grading.c deciding verdicts and
 * which test is next. Jobs that find every slot busy wait in env's FIFO, oldest first.
 * Does: build each step's sandbox request, send it, take its answer, publish "compiled",
 * output and test events. Must not: store or acknowledge (runner.c does, once the job is
 * finished), judge output itself (grading.c does), or keep a slot between steps: each step
 * asks the pool anew (a job's next step before the FIFO is served, so started jobs finish
 * first). */
#include "runner_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq.h"
#include "slot_pool.h"
#include "utf8.h"

#define SLOT_WAIT_MS 50
#define OUTPUT_EVERY_MS 250
#define OUTPUT_EVENT_MAX (64 << 10) /* per stream and event: the result has all of it */

static void step(struct job_run *job);
static void serve_waiting(struct runner_env *env);

void runner_publish(struct job_run *job, const char *event)
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

    for (int i = 0; i < 2; i++) {
        size_t n;
        char *text;

        if (!job->pending[i].len)
            continue;
        text = utf8_sanitize(job->pending[i].data, job->pending[i].len, &n);
        if (text)
            publish_json(job, json_pack("{s:s, s:s, s:s, s:s#, s:b}", "id", job->id, "event",
                                        "output", "stream", names[i], "data", text, (int)n,
                                        "dropped", job->pending[i].dropped));
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
        runner_finish(job, "completed", grading_result(&job->grading, compile));
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
        /* The submission did not compile: a verdict about it, not a failure of ours (unless
         * the sandbox failed: then another attempt may do better). */
        const char *state = has_status(result, "internal_error") ? "failed" : "completed";
        job->retryable = has_status(result, "internal_error");
        if (job->graded) {
            grading_compile_error(&job->grading);
            runner_finish(job, state, grading_result(&job->grading, json_incref(result)));
        } else {
            runner_finish(job, state,
                          json_pack("{s:s, s:O}", "status", "compile_error", "compile", result));
        }
        return;
    }
    if (job_plan_take_artifacts(&job->plan, result) < 0) {
        runner_fail_internal(job, "the compiler left no artifact");
        return;
    }
    runner_publish(job, "compiled");
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
        runner_finish(job, "failed",
                      json_pack("{s:s, s:s, s:O}", "status", "internal_error", "message",
                                "the custom checker did not compile", "checker_compile",
                                result));
        return;
    }
    if (job_plan_take_checker_artifacts(&job->plan, result) < 0) {
        runner_fail_internal(job, "the checker's compiler left no artifact");
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
        runner_finish(job, "cancelled", json_pack("{s:s}", "status", "cancelled"));
    else if (status < 0)
        runner_fail_retryable(job, "the sandbox slot died during the run");
    else if (!type || strcmp(type, "result") != 0 || !result)
        runner_fail_internal(job, "the sandbox refused the request");
    else if (job->stage == ST_COMPILE)
        after_compile(job, result);
    else if (job->stage == ST_CHECKER_COMPILE)
        after_checker_compile(job, result);
    else if (job->stage == ST_TEST || job->stage == ST_CHECK)
        after_test(job, result);
    else if (has_status(result, "internal_error"))
        runner_fail_result(job, json_incref(result));
    else
        runner_finish(job, "completed", json_incref(result));
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

void runner_wait_remove(struct job_run *job)
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

/* The language of the job's current step: a custom checker's steps are in its own. */
static const struct language *step_language(const struct job_run *job)
{
    if (job->stage == ST_CHECKER_COMPILE || job->stage == ST_CHECK)
        return job->checker_lang;
    return job->lang;
}

/* A slot came free: the jobs waiting for one go first, oldest first, each job whose backend
 * has a slot free (one backend's queue does not hold up the other's). A job that meets a
 * busy slot after all goes back to waiting. */
static void serve_waiting(struct runner_env *env)
{
    struct job_run *job = env->waiting_head, *j;
    size_t n = 0, budget;

    for (j = job; j; j = j->next_waiting)
        n++;
    /* Each pass from the head steps one job or ends; the bound only guards against a
     * backend that says it is idle and then refuses (the job goes back to waiting). */
    for (budget = n * (n + 1); job && budget > 0; budget--) {
        if (backend_idle(env, step_language(job)) == 0) {
            job = job->next_waiting;
            continue;
        }
        runner_wait_remove(job);
        step(job);
        job = env->waiting_head; /* step() may have changed the list */
    }
}

/* The sandbox run the job's stage asks for. Only the run step's output streams: it is the
 * program's; the compiler's comes with its result, a test's is checked when it ends. */
static int step_request(struct job_run *job, char **payload, size_t *len)
{
    struct sbx_run_spec spec;
    const char *output;
    size_t out_len;

    switch (job->stage) {
    case ST_COMPILE:
        return job_plan_request(&job->plan.compile, 0, payload, len);
    case ST_CHECKER_COMPILE:
        return job_plan_request(&job->plan.checker_compile, 0, payload, len);
    case ST_TEST:
        job_plan_test_run(&job->plan, &job->spec.tests[job->test], &spec);
        return job_plan_request(&spec, 0, payload, len);
    case ST_CHECK:
        output = grading_output(&job->grading, &out_len);
        job_plan_checker_run(&job->plan, &job->spec.tests[job->test], output, out_len, &spec);
        return job_plan_request(&spec, 0, payload, len);
    default:
        return job_plan_request(&job->plan.run, 1, payload, len);
    }
}

static void step(struct job_run *job)
{
    char *req = NULL;
    size_t len = 0;
    int r = step_request(job, &req, &len);

    if (r == 0)
        r = backend_run(job->env, step_language(job), req, len, on_slot, on_output, job,
                        &job->slot);
    free(req);
    if (r == -EBUSY) {
        /* Every slot busy (this job was fetched ahead), or coming back from a cancel: the
         * next slot to come free takes it; the timer covers a slot that comes back ready. */
        wait_add(job);
        runner_retry(job, step, SLOT_WAIT_MS);
        return;
    }
    runner_wait_remove(job);
    if (r < 0) {
        runner_fail_retryable(job, "the sandbox request could not be sent");
        return;
    }
    job->in_slot = 1;
    job->tries = 0;
    if (!job->started_us)
        job->started_us = runner_now_us(); /* the first step in a slot: not the wait for one */
    if (job->stage == ST_RUN)
        uv_timer_start(&job->flush, on_flush, OUTPUT_EVERY_MS, OUTPUT_EVERY_MS);
}

void runner_steps_begin(struct job_run *job)
{
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
