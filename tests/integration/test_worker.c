/* SPDX-License-Identifier: MIT */
/* runq-worker end to end against a real redis-server and PostgreSQL: jobs enqueued the way
 * the dispatcher does are run in the sandbox (Python; C compiled then run; a compile error),
 * their results land in PostgreSQL and Redis, a running job is cancelled, SIGTERM drains. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <jansson.h>

#include "batch.h"
#include "db.h"
#include "job.h"
#include "rq.h"
#include "keys.h"
#include "tap.h"
#include "webhook_rx.h"
#include "worker_util.h"

static void on_cancel(void *arg, int status, enum rq_cancel_status st)
{
    struct wctx *c = arg;

    c->done = 1;
    c->status = status == 0 ? (int)st : status;
}

static void on_versions(void *arg, int status, const char *const *names,
                        const char *const *versions, size_t n)
{
    struct wctx *c = arg;
    size_t i;

    c->text[0] = '\0';
    for (i = 0; status == 0 && i < n; i++)
        if (!strcmp(names[i], "python") || !strcmp(names[i], "c"))
            snprintf(c->text + strlen(c->text), sizeof(c->text) - strlen(c->text), "%s=%s;",
                     names[i], versions[i]);
    c->status = status;
    c->done = 1;
}

/* The worker ran each language's version command in a slot and published what it printed. */
static void test_versions(struct tap *t, struct wctx *c)
{
    int tries, ok = 0;

    for (tries = 0; tries < 60 && !ok; tries++) {
        c->done = 0;
        if (rq_language_versions(c->rq, on_versions, c) == 0 && wu_wait_done(c, 2000))
            ok = strstr(c->text, "python=Python 3.") && strstr(c->text, "c=gcc");
        if (!ok)
            wu_sleep(c, 500);
    }
    tap_ok(t, ok, "the worker published the versions its runtimes print (%s)", c->text);
}

/* The result JSON of the job last read by wu_wait_state ("state|result"). */
static json_t *last_result(struct wctx *c)
{
    const char *bar = strchr(c->text, '|');

    return bar ? json_loads(bar + 1, 0, NULL) : NULL;
}

static const char *test_verdict(const json_t *r, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(r, "tests"), i),
                                             "verdict"));
}

static void on_test_event(void *arg, const char *channel, const char *data, size_t len)
{
    int *n = arg;

    (void)channel;
    *n += data && len && strstr(data, "\"event\":\"test\"") != NULL;
}

/* Graded jobs: tests with the default checker, compile once (C), a compile error, and a
 * custom checker in Python under the testlib convention. */
static void test_grading(struct tap *t, struct wctx *c)
{
    static const char sum_py[] = "a, b = map(int, input().split())\\nprint(a + b)\\n";
    char py[KEYS_ID_MAX + 1], cc[KEYS_ID_MAX + 1], ce[KEYS_ID_MAX + 1], cu[KEYS_ID_MAX + 1];
    char body[2048], pattern[KEYS_NAME_MAX];
    int events = 0;
    json_t *r;

    keys_events_pattern(pattern, sizeof(pattern), "default");
    rq_subscribe(c->rq, pattern, 1, on_test_event, &events);
    wu_sleep(c, 200);
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"source\": \"%s\", \"tests\": ["
             "{\"stdin\": \"1 2\", \"expected_output\": \"3\"},"
             "{\"stdin\": \"20 22\", \"expected_output\": \"42  \\n\\n\", \"points\": 2},"
             "{\"name\": \"big\", \"stdin\": \"5 5\", \"expected_output\": \"11\\n\"}]}",
             sum_py);
    tap_ok(t, wu_submit(c, body) == 0, "a graded Python job with 3 tests is queued");
    snprintf(py, sizeof(py), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"c\", \"source\": \"#include <stdio.h>\\n"
                        "int main(void) { long a, b; scanf(\\\"%ld %ld\\\", &a, &b); "
                        "printf(\\\"%ld\\\\n\\\", a + b); return a < 0; }\\n\", \"tests\": ["
                        "{\"stdin\": \"1 2\", \"expected_output\": \"3\\n\"},"
                        "{\"stdin\": \"-1 0\", \"expected_output\": \"-1\\n\"},"
                        "{\"stdin\": \"2 2\", \"expected_output\": \"4\\n\"}],"
                        "\"grading\": {\"stop_on_failure\": true}}") == 0,
           "a graded C job (stop on failure) is queued");
    snprintf(cc, sizeof(cc), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"c\", \"source\": \"int main( {\", \"tests\": ["
                        "{\"stdin\": \"\", \"expected_output\": \"\"},"
                        "{\"stdin\": \"\", \"expected_output\": \"\"}]}") == 0,
           "a graded C job that does not compile is queued");
    snprintf(ce, sizeof(ce), "%s", c->id);
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"source\": \"%s\", \"tests\": ["
             "{\"stdin\": \"1 2\", \"expected_output\": \"3\"},"
             "{\"stdin\": \"2 2\", \"expected_output\": \"4\"}],"
             "\"checker\": {\"type\": \"custom\", \"language\": \"python\", \"source\": "
             "\"import sys\\ngot = open(sys.argv[2]).read().split()\\n"
             "want = open(sys.argv[3]).read().split()\\n"
             "if got == want: sys.exit(0)\\n"
             "sys.stderr.write('points 0.5\\\\n'); sys.exit(7)\\n\"}}",
             "print(3)\\n");
    tap_ok(t, wu_submit(c, body) == 0, "a graded job with a custom checker is queued");
    snprintf(cu, sizeof(cu), "%s", c->id);

    r = wu_wait_state(c, py, "completed", 30000) ? last_result(c) : NULL;
    tap_ok(t, r && !strcmp(json_string_value(json_object_get(r, "verdict")), "WA") &&
                  json_number_value(json_object_get(r, "score")) == 3 &&
                  json_number_value(json_object_get(r, "max_score")) == 4 &&
                  !strcmp(test_verdict(r, 0), "AC") && !strcmp(test_verdict(r, 1), "AC") &&
                  !strcmp(test_verdict(r, 2), "WA"),
           "Python: AC, AC (trailing whitespace ignored), WA: verdict WA, score 3 of 4");
    tap_ok(t, r && strstr(json_string_value(json_object_get(json_array_get(
                              json_object_get(r, "tests"), 2), "got")), "10") &&
                  strstr(json_string_value(json_object_get(json_array_get(
                             json_object_get(r, "tests"), 2), "expected")), "11"),
           "the WA test shows expected 11 against got 10");
    json_decref(r);
    r = wu_wait_state(c, cc, "completed", 60000) ? last_result(c) : NULL;
    tap_ok(t, r && !strcmp(json_string_value(json_object_get(r, "verdict")), "RE") &&
                  !strcmp(test_verdict(r, 0), "AC") && !strcmp(test_verdict(r, 1), "RE") &&
                  !strcmp(test_verdict(r, 2), "SK") &&
                  !strcmp(json_string_value(json_object_get(json_object_get(r, "compile"),
                                                            "status")), "ok") &&
                  !json_object_get(json_object_get(r, "compile"), "files"),
           "C: compiled once, AC then RE, the rest skipped (stop on failure)");
    json_decref(r);
    r = wu_wait_state(c, ce, "completed", 60000) ? last_result(c) : NULL;
    tap_ok(t, r && !strcmp(json_string_value(json_object_get(r, "verdict")), "CE") &&
                  !strcmp(json_string_value(json_object_get(r, "status")), "compile_error") &&
                  !strcmp(test_verdict(r, 1), "CE") &&
                  json_string_length(json_object_get(json_object_get(r, "compile"), "stderr")),
           "a compile error: CE for every test, with the compiler's output");
    json_decref(r);
    r = wu_wait_state(c, cu, "completed", 30000) ? last_result(c) : NULL;
    tap_ok(t, r && !strcmp(test_verdict(r, 0), "AC") && !strcmp(test_verdict(r, 1), "PA") &&
                  json_number_value(json_object_get(r, "score")) == 1.5,
           "custom checker: AC, then partial points 0.5 (exit 7): score 1.5 of 2");
    json_decref(r);
    tap_ok(t, events == 3 + 2 + 2, "a test event per test run (%d)", events);
    rq_unsubscribe(c->rq, pattern);
}

static void on_any_event(void *arg, const char *channel, const char *data, size_t len)
{
    int *retries = arg;

    (void)channel;
    *retries += data && len && strstr(data, "\"event\":\"retrying\"") != NULL;
}

/* A failure of ours (this worker lacks the language) is retried with backoff until the last
 * attempt, then stored as failed; a program's own failure is never retried. */
static void test_retries(struct tap *t, struct wctx *c)
{
    char lost[KEYS_ID_MAX + 1], re[KEYS_ID_MAX + 1], pattern[KEYS_NAME_MAX];
    int retries = 0;

    keys_events_pattern(pattern, sizeof(pattern), "default");
    rq_subscribe(c->rq, pattern, 1, on_any_event, &retries);
    wu_sleep(c, 200);
    tap_ok(t, wu_submit(c, "{\"language\": \"cobol\", \"source\": \"x\"}") == 0,
           "a job in a language this worker lacks is queued");
    snprintf(lost, sizeof(lost), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"source\": \"raise SystemExit(3)\\n\"}") == 0,
           "a Python job that exits 3 is queued");
    snprintf(re, sizeof(re), "%s", c->id);
    tap_ok(t, wu_wait_state(c, re, "completed", 30000) && c->attempts == 1 &&
                  strstr(c->text, "\"status\":\"runtime_error\""),
           "the program's failure: completed as runtime_error on attempt 1, not retried");
    tap_ok(t, wu_wait_state(c, lost, "failed", 30000) && c->attempts == 3 &&
                  strstr(c->text, "not configured on this worker"),
           "ours: retried, failed for good on attempt 3 of 3");
    tap_ok(t, retries == 2, "two retrying events before that (%d)", retries);
    rq_unsubscribe(c->rq, pattern);
}

/* callback_url: the result POSTed once the job is durable, signed with webhooks.secret; the
 * outcome noted on the job (delivered; refused by a 400). */
static void test_webhooks(struct tap *t, struct wctx *c)
{
    static const struct rx_answer refuse[1] = {{400, 0}};
    struct receiver rx;
    char body[512], ok_id[KEYS_ID_MAX + 1];
    int i;

    memset(&rx, 0, sizeof(rx));
    if (!tap_ok(t, rx_start(&rx, WU_WEBHOOK_SECRET) == 0, "a webhook receiver on 127.0.0.1"))
        return;
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"source\": \"print(7)\", "
             "\"callback_url\": \"http://127.0.0.1:%d/hook\"}", rx.port);
    tap_ok(t, wu_submit(c, body) == 0, "a job with a callback_url is queued");
    snprintf(ok_id, sizeof(ok_id), "%s", c->id);
    for (i = 0; i < 100 && rx_count(&rx) < 1; i++)
        wu_sleep(c, 100);
    pthread_mutex_lock(&rx.mu);
    tap_ok(t, rx.nreqs == 1 && rx.reqs[0].verify == 0 && !strcmp(rx.reqs[0].method, "POST") &&
                  rx.reqs[0].body && strstr(rx.reqs[0].body, ok_id) &&
                  strstr(rx.reqs[0].body, "\"status\":\"completed\"") &&
                  strstr(rx.reqs[0].body, "\"stdout\":\"7\\n\""),
           "the receiver got the result once, POSTed with a valid signature");
    pthread_mutex_unlock(&rx.mu);
    for (i = 0; i < 50 && !strstr(c->webhook, "delivered"); i++) {
        wu_get_job(c, ok_id);
        wu_sleep(c, 100);
    }
    tap_ok(t, strstr(c->webhook, "\"status\":\"delivered\"") &&
                  strstr(c->webhook, "\"http_status\":200"),
           "the job notes the delivery (%s)", c->webhook);
    {
        const char *params[1] = {ok_id};
        int seen = 0;
        for (i = 0; i < 50 && !seen; i++) {
            seen = wu_query(c, 5000, "SELECT webhook->>'status' FROM jobs WHERE id = $1", 1,
                            params) && !strcmp(c->text, "delivered");
            if (!seen)
                wu_sleep(c, 100);
        }
        tap_ok(t, seen, "and so does its PostgreSQL row");
    }

    rx_reset(&rx, refuse, 1);
    tap_ok(t, wu_submit(c, body) == 0, "another, whose receiver answers 400");
    snprintf(ok_id, sizeof(ok_id), "%s", c->id);
    for (i = 0; i < 100 && !strstr(c->webhook, "refused"); i++) {
        wu_get_job(c, ok_id);
        wu_sleep(c, 100);
    }
    tap_ok(t, strstr(c->webhook, "\"status\":\"refused\"") && rx_count(&rx) == 1,
           "refused once, not retried, noted on the job (%s)", c->webhook);
    rx_stop(&rx);
}

struct bwait {
    int done, status;
    char state[32], counts[256];
    long long done_jobs;
};

static void on_benq_done(void *arg, int status, long long depth)
{
    struct wctx *c = arg;

    (void)depth;
    c->status = status;
    c->done = 1;
}

static void on_bget(void *arg, int status, const struct rq_batch *b)
{
    struct bwait *w = arg;

    w->status = status;
    w->state[0] = w->counts[0] = '\0';
    if (b) {
        snprintf(w->state, sizeof(w->state), "%s", b->state);
        w->done_jobs = b->done;
        for (size_t i = 0; i < b->ncounts; i++)
            snprintf(w->counts + strlen(w->counts), sizeof(w->counts) - strlen(w->counts),
                     "%s=%lld;", b->count_names[i], b->counts[i]);
    }
    w->done = 1;
}

/* A batch as the dispatcher enqueues it: its jobs read the shared tests from the batch and
 * the batch counts them as they finish, then completes. */
static void test_batch(struct tap *t, struct wctx *c)
{
    static const char body[] =
        "{\"language\": \"python\", \"tests\": [{\"stdin\": \"2\", \"expected_output\": \"4\"}, "
        "{\"stdin\": \"5\", \"expected_output\": \"10\"}], \"submissions\": ["
        "{\"name\": \"good\", \"source\": \"print(2 * int(input()))\"}, "
        "{\"name\": \"bad\", \"source\": \"print(int(input()) + 2)\"}]}";
    struct job_policy policy = {0};
    struct batch_spec b;
    struct api_error err;
    char bid[KEYS_ID_MAX + 1], ids[2][KEYS_ID_MAX + 1], *texts[2] = {NULL, NULL}, *spec = NULL;
    const char *cids[2] = {ids[0], ids[1]}, *ctexts[2], *names[2];
    struct bwait w = {0};
    json_t *g;
    int i, ok, parsed;

    parsed = batch_parse(body, strlen(body), &policy, 0, &b, &err) == 0;
    ok = parsed && rq_new_id("default", bid, sizeof(bid)) == 0;
    for (i = 0; ok && i < 2; i++) {
        json_t *j;
        ok = rq_new_id("default", ids[i], sizeof(ids[i])) == 0 &&
             (b.jobs[i].files[0].name = strdup("main.py")) && (j = batch_job_json(&b, i, bid));
        texts[i] = ok ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(ok ? j : NULL);
        ctexts[i] = texts[i];
        names[i] = b.jobs[i].name;
    }
    g = ok ? job_spec_graded_json(&b.jobs[0]) : NULL;
    spec = g ? json_dumps(g, JSON_COMPACT) : NULL;
    c->done = 0;
    ok = ok && spec &&
         rq_enqueue_batch(c->rq, bid, spec, cids, ctexts, names, 2, RQ_LANE_NORMAL, 0,
                          on_benq_done, c) == 0 &&
         wu_wait_done(c, 5000) && c->status == 0;
    tap_ok(t, ok, "a batch of 2 Python submissions x 2 tests is enqueued");
    json_decref(g);
    free(spec);
    free(texts[0]);
    free(texts[1]);
    if (parsed)
        batch_spec_free(&b);
    for (i = 0; i < 300 && ok && strcmp(w.state, "completed"); i++) {
        w.done = 0;
        if (rq_get_batch(c->rq, bid, on_bget, &w) == 0)
            while (!w.done)
                uv_run(c->loop, UV_RUN_ONCE);
        wu_sleep(c, 100);
    }
    tap_ok(t, !strcmp(w.state, "completed") && w.done_jobs == 2 && strstr(w.counts, "AC=1;") &&
                  strstr(w.counts, "WA=1;"),
           "the jobs graded with the batch's tests: completed, AC 1, WA 1 (%s %s)", w.state,
           w.counts);
    tap_ok(t, wu_wait_state(c, ids[1], "completed", 5000) && strstr(c->text, "\"verdict\":\"WA\"") &&
                  strstr(c->text, "\"max_score\":2"),
           "the second job's own result: WA, out of 2 tests");
    {
        const char *params[1] = {ids[0]};
        char want[KEYS_ID_MAX + 16];
        snprintf(want, sizeof(want), "%s|good", bid);
        tap_ok(t, wu_query(c, 10000,
                           "SELECT batch_id, spec_summary->>'name' FROM jobs WHERE id = $1", 1,
                           params) &&
                      !strcmp(c->text, want),
               "its PostgreSQL row names the batch and the submission (%s)", c->text);
    }
}

static void test_jobs(struct tap *t, struct wctx *c)
{
    char python_id[KEYS_ID_MAX + 1], c_id[KEYS_ID_MAX + 1], bad_id[KEYS_ID_MAX + 1];
    const char *sql = "SELECT status, result->>'status' FROM jobs WHERE id = $1";
    const char *params[1];

    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"stdin\": \"20 22\", \"source\": "
                        "\"a, b = map(int, input().split())\\nprint(a + b)\\n\"}") == 0,
           "a Python job is queued");
    snprintf(python_id, sizeof(python_id), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"c\", \"args\": [\"x\", \"y\"], \"source\": "
                        "\"#include <stdio.h>\\nint main(int c, char **v) "
                        "{ printf(\\\"%d args\\\\n\\\", c - 1); return 0; }\\n\"}") == 0,
           "a C job is queued");
    snprintf(c_id, sizeof(c_id), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"c\", \"source\": \"int main( {\"}") == 0,
           "a C job that does not compile is queued");
    snprintf(bad_id, sizeof(bad_id), "%s", c->id);

    tap_ok(t, wu_wait_state(c, python_id, "completed", 30000) && strstr(c->text, "\"stdout\":\"42\\n\"") &&
                  strstr(c->text, "\"status\":\"ok\""),
           "the Python job completes with its output in Redis");
    tap_ok(t, wu_wait_state(c, c_id, "completed", 60000) && strstr(c->text, "\"stdout\":\"2 args\\n\""),
           "the C job is compiled, then run with its args");
    tap_ok(t, wu_wait_state(c, bad_id, "completed", 60000) &&
                  strstr(c->text, "\"status\":\"compile_error\"") && strstr(c->text, "error"),
           "a compile error is a completed job whose result says compile_error, with the compiler's output");
    params[0] = python_id;
    tap_ok(t, wu_query(c, 10000, sql, 1, params) && strcmp(c->text, "completed|ok") == 0,
           "the Python job's row is in PostgreSQL (%s)", c->text);
    params[0] = bad_id;
    tap_ok(t, wu_query(c, 10000, sql, 1, params) && strcmp(c->text, "completed|compile_error") == 0,
           "and so is the compile error's");
}

static void test_cancel(struct tap *t, struct wctx *c)
{
    char id[KEYS_ID_MAX + 1];

    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"limits\": {\"wall_ms\": 60000}, "
                        "\"source\": \"import time\\ntime.sleep(60)\\n\"}") == 0,
           "a long job is queued");
    snprintf(id, sizeof(id), "%s", c->id);
    tap_ok(t, wu_wait_state(c, id, "running", 30000), "it starts running");
    c->done = 0;
    tap_ok(t, rq_cancel(c->rq, id, on_cancel, c) == 0 && wu_wait_done(c, 5000) &&
                  c->status == RQ_CANCEL_RUNNING,
           "cancel reaches the running job's worker");
    tap_ok(t, wu_wait_state(c, id, "cancelled", 5000), "the job is cancelled within seconds");
}

struct events {
    char output[256];
    size_t len;
    int outputs, started, finished;
};

static void on_event(void *arg, const char *channel, const char *data, size_t len)
{
    struct events *e = arg;
    json_t *ev = data ? json_loadb(data, len, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(ev, "event"));
    const char *text = json_string_value(json_object_get(ev, "data"));

    (void)channel;
    if (name && strcmp(name, "output") == 0 && text && e->len + strlen(text) < sizeof(e->output)) {
        memcpy(e->output + e->len, text, strlen(text));
        e->len += strlen(text);
        e->outputs++;
    }
    e->started += name && strcmp(name, "started") == 0;
    e->finished += name && strcmp(name, "finished") == 0;
    json_decref(ev);
}

/* Progress reaches subscribers while the job runs: started, output in pieces, finished. */
static void test_events(struct tap *t, struct wctx *c)
{
    struct events e = {{0}, 0, 0, 0, 0};
    char pattern[KEYS_NAME_MAX + 1];

    keys_events_pattern(pattern, sizeof(pattern), "default");
    tap_ok(t, rq_subscribe(c->rq, pattern, 1, on_event, &e) == 0, "subscribe to the queue's events");
    wu_sleep(c, 300);
    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"source\": \"import time\\n"
                           "for i in range(3):\\n    print('tick', i, flush=True)\\n"
                           "    time.sleep(0.4)\\n\"}") == 0 &&
                  wu_wait_state(c, c->id, "completed", 30000),
           "a job that prints over a second completes");
    wu_sleep(c, 300);
    tap_ok(t, e.started == 1 && e.finished == 1, "its started and finished events were published");
    tap_ok(t, e.outputs >= 2 && e.len == 21 && memcmp(e.output, "tick 0\ntick 1\ntick 2\n", 21) == 0,
           "its output came as %d events while it ran, all of it in order", e.outputs);
    rq_unsubscribe(c->rq, pattern);
}

int main(int argc, char **argv)
{
    struct wu_fleet f;
    struct wctx c = {0};
    struct tap t = {0};
    int status = 0, ok;
    pid_t worker = -1;

    if (argc < 4) {
        tap_ok(&t, 0, "usage: test_worker RUNQ-WORKER LANGUAGES.YAML RUNQ-SANDBOX");
        return tap_done(&t);
    }
    signal(SIGPIPE, SIG_IGN);
    ok = wu_fleet_start(&f, &c, "4s");
    if (ok)
        worker = wu_spawn_worker(argv[1], f.config, argv[2], argv[3], 50);
    if (tap_ok(&t, ok && worker > 0,
               "redis-server and PostgreSQL start, a worker starts, the test connects (%s)",
               f.err)) {
        test_jobs(&t, &c);
        test_versions(&t, &c);
        test_grading(&t, &c);
        test_retries(&t, &c);
        test_webhooks(&t, &c);
        test_batch(&t, &c);
        test_events(&t, &c);
        test_cancel(&t, &c);
        kill(worker, SIGTERM);
        tap_ok(&t, waitpid(worker, &status, 0) == worker && WIFEXITED(status) &&
                       WEXITSTATUS(status) == 0,
               "SIGTERM: the idle worker drains and exits 0");
    }
    tap_ok(&t, wu_fleet_stop(&f, &c) == 0, "the test's loop closes clean");
    return tap_done(&t);
}
