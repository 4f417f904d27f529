/* SPDX-License-Identifier: MIT */
/* Integration test of dispatcher/routes: a redis-server of its own (redis_server.c), the
 * routes + http_server + rq on this process's uv loop (main thread) on 127.0.0.1 port 0, and
 * a client thread that talks HTTP over plain sockets (one connection per request), looks at
 * Redis with hiredis, and plays a worker with a second rq on a loop of its own (fake_worker.c:
 * fetch, rq_mark_running, rq_ack) to finish jobs that ?wait requests are waiting for. */
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dispatcher_app.h"
#include "fake_worker.h"
#include "http_client.h"
#include "redis_server.h"
#include "rq.h"
#include "tap.h"

static const char config_yaml[] = "dispatcher:\n"
                                  "  listen: 127.0.0.1:1\n" /* port 0 (any) is set below */
                                  "  max_body: 16K\n"
                                  "  max_wait: 20s\n"
                                  "queues:\n"
                                  "  default: 1000\n"
                                  "  tiny: 1\n"
                                  "  work: 1000\n";

static const char languages_yaml[] = "python:\n"
                                     "  aliases: [python3, py]\n"
                                     "  version: [python3, --version]\n"
                                     "  file: main.py\n"
                                     "  run: [python3, \"{file}\", \"{args}\"]\n";

/* ---- HTTP client (test thread; http_client.c) ---- */

#define JSON_CT "Content-Type: application/json\r\n"

/* POSTs a small python job to queue; copies the id. Returns the status. */
static int post_job(int port, const char *queue, const char *headers, char *id, size_t idlen)
{
    char body[256], hdr[512];
    struct http_client_resp r;

    snprintf(body, sizeof(body),
             "{\"language\": \"py\", \"source\": \"print(1)\", \"queue\": \"%s\"}", queue);
    snprintf(hdr, sizeof(hdr), JSON_CT "%s", headers ? headers : "");
    http_client_call(port, "POST", "/v1/jobs", hdr, body, &r);
    if (id)
        snprintf(id, idlen, "%s", http_client_jstr(r.json, "id", NULL));
    http_client_resp_clear(&r);
    return r.status;
}

/* ---- Redis checks and a fake worker (test thread) ---- */

struct ctx {
    struct tap *t;
    struct dispatcher_app *app;
    struct redis_server *rs;
    redisContext *rc;
    struct fake_worker wk;
};

static long long redis_int(struct ctx *x, const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(x->rc, fmt, arg);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;

    freeReplyObject(rep);
    return v;
}

/* 1 if id is in queue's pending list. */
static int in_pending(struct ctx *x, const char *queue, const char *id)
{
    char key[KEYS_NAME_MAX];
    redisReply *rep;
    size_t i;
    int found = 0;

    keys_pending(key, sizeof(key), queue);
    rep = redisCommand(x->rc, "LRANGE %s 0 -1", key);
    for (i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++)
        found += !strcmp(rep->element[i]->str, id);
    freeReplyObject(rep);
    return found;
}

static long long subscribers(struct ctx *x, const char *id)
{
    char ch[KEYS_NAME_MAX];
    redisReply *rep;
    long long n = -1;

    keys_events(ch, sizeof(ch), id);
    rep = redisCommand(x->rc, "PUBSUB NUMSUB %s", ch);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2)
        n = rep->element[1]->integer;
    freeReplyObject(rep);
    return n;
}

/* subscribers() once it equals want (UNSUBSCRIBE may follow the answer), or after 1 s. */
static long long subscribers_settle(struct ctx *x, const char *id, long long want)
{
    long long n;
    int i;

    for (i = 0; (n = subscribers(x, id)) != want && i < 50; i++)
        usleep(20 * 1000);
    return n;
}

/* ---- the cases ---- */

static void test_submit(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], loc[200], big[20000];
    struct http_client_resp r;

    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"print(1)\"}", &r);
    snprintf(id, sizeof(id), "%s", http_client_jstr(r.json, "id", NULL));
    snprintf(loc, sizeof(loc), "\nLocation: /v1/jobs/%s", id);
    tap_ok(t,
           r.status == 202 && !strncmp(id, "default.", 8) && strstr(r.head, loc) &&
               !strcmp(http_client_jstr(r.json, "status", NULL), "queued"),
           "POST valid job: 202, id, status queued, Location (%d %s)", r.status, r.body);
    http_client_resp_clear(&r);
    tap_ok(t, in_pending(x, "default", id) == 1, "the job is in runq:{default}:pending");
    {
        char key[KEYS_NAME_MAX];
        redisReply *rep;
        keys_job(key, sizeof(key), id);
        rep = redisCommand(x->rc, "HGET %s spec", key);
        tap_ok(t,
               rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, "\"main.py\"") &&
                   strstr(rep->str, "\"language\":\"python\""),
               "stored spec: canonical language, the source named main.py");
        freeReplyObject(rep);
    }

    /* Priorities go to their lanes; a run_at ahead waits in the delayed set; a bad one is
     * named. */
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"1\", \"priority\": \"high\"}", &r);
    snprintf(id, sizeof(id), "%s", http_client_jstr(r.json, "id", NULL));
    http_client_resp_clear(&r);
    tap_ok(t, redis_int(x, "LPOS runq:{default}:pending:high %s", id) == 0,
           "priority \"high\": in the high lane");
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"1\", \"priority\": 8, "
                     "\"run_at\": \"2099-01-01T00:00:00Z\"}",
                     &r);
    tap_ok(t, r.status == 422 && !strcmp(http_client_err_field(&r), "run_at"),
           "run_at beyond dispatcher.max_delay: 422 naming run_at (%d)", r.status);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"1\", \"priority\": 8, "
                     "\"run_at\": 4102444800}",
                     &r);
    tap_ok(t, r.status == 422, "run_at as Unix seconds, same check");
    http_client_resp_clear(&r);
    {
        char body[200];
        time_t soon = time(NULL) + 3600;
        snprintf(body, sizeof(body),
                 "{\"language\": \"py\", \"source\": \"1\", \"priority\": 8, \"run_at\": %lld}",
                 (long long)soon);
        http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT, body, &r);
    }
    snprintf(id, sizeof(id), "%s", http_client_jstr(r.json, "id", NULL));
    tap_ok(t, r.status == 202 && redis_int(x, "ZSCORE runq:{default}:delayed %s", id) < 0 &&
                  redis_int(x, "ZRANK runq:{default}:delayed %s", id) >= 0,
           "run_at in an hour: 202, waiting in the delayed set (%d)", r.status);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/queues", NULL, NULL, &r);
    tap_ok(t, r.status == 200 && strstr(r.body, "\"delayed\":1") && strstr(r.body, "\"high\":1"),
           "GET /v1/queues shows the lanes and the delayed set (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"1\", "
                     "\"callback_url\": \"https://example.com/hook\"}",
                     &r);
    tap_ok(t, r.status == 422 && !strcmp(http_client_err_field(&r), "callback_url"),
           "callback_url while webhooks.secret is unset: 422 naming callback_url");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"1\", \"priority\": \"urgent\"}", &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "priority"),
           "an unknown priority name: 400 naming priority");
    http_client_resp_clear(&r);

    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT, "{\"language\": \"py\",", &r);
    tap_ok(t,
           r.status == 400 && !strcmp(http_client_err_code(&r), "invalid_json") &&
               strstr(http_client_jstr(r.json, "error", "message"), "line 1, column"),
           "bad JSON: 400 invalid_json with the position (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"x\", \"bogus\": 1}", &r);
    tap_ok(t,
           r.status == 400 && !strcmp(http_client_err_code(&r), "invalid_field") &&
               !strcmp(http_client_err_field(&r), "bogus"),
           "unknown field: 400 naming it (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"cobol\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 422 && !strcmp(http_client_err_code(&r), "unknown_language"),
           "unknown language: 422 (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"x\", \"limits\": {\"cpu_ms\": 999999}}",
                     &r);
    tap_ok(t,
           r.status == 422 && !strcmp(http_client_err_code(&r), "limit_too_high") &&
               !strcmp(http_client_err_field(&r), "limits.cpu_ms"),
           "limit above maximum: 422 naming limits.cpu_ms (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", "Content-Type: text/plain\r\n", "{}", &r);
    tap_ok(t, r.status == 415 && !strcmp(http_client_err_code(&r), "unsupported_media_type"),
           "wrong content type: 415");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs",
                     "Content-Type: Application/JSON; charset=utf-8\r\n",
                     "{\"language\": \"py\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 202, "content type with a charset parameter is JSON");
    http_client_resp_clear(&r);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT, big, &r);
    tap_ok(t, r.status == 413, "body over dispatcher.max_body: 413 (%d)", r.status);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"x\", \"queue\": \"nope\"}", &r);
    tap_ok(t, r.status == 422 && !strcmp(http_client_err_code(&r), "unknown_queue"),
           "unknown queue: 422");
    http_client_resp_clear(&r);
}

static void test_full_and_idem(struct ctx *x)
{
    struct tap *t = x->t;
    char id1[128], id2[128], key[KEYS_NAME_MAX];
    struct http_client_resp r;
    long long before;

    tap_ok(t, post_job(x->app->port, "tiny", NULL, NULL, 0) == 202,
           "tiny queue: first job accepted");
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"x\", \"queue\": \"tiny\"}", &r);
    tap_ok(t,
           r.status == 503 && strstr(r.head, "\nRetry-After: 1") &&
               !strcmp(http_client_err_code(&r), "queue_full"),
           "queue full: 503 + Retry-After (%s)", r.body);
    http_client_resp_clear(&r);

    keys_pending(key, sizeof(key), "default");
    before = redis_int(x, "LLEN %s", key);
    post_job(x->app->port, "default", "Idempotency-Key: order-42\r\n", id1, sizeof(id1));
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT "Idempotency-Key: order-42\r\n",
                     "{\"language\": \"py\", \"source\": \"print(1)\", \"queue\": \"default\"}",
                     &r);
    snprintf(id2, sizeof(id2), "%s", http_client_jstr(r.json, "id", NULL));
    tap_ok(t,
           r.status == 200 && id1[0] && !strcmp(id1, id2) &&
               json_is_true(json_object_get(r.json, "duplicate")),
           "Idempotency-Key twice: the same id, 200 duplicate");
    http_client_resp_clear(&r);
    tap_ok(t, redis_int(x, "LLEN %s", key) == before + 1, "... and one job in pending");
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT "Idempotency-Key: bad key\r\n", "{}",
                     &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "Idempotency-Key"),
           "malformed Idempotency-Key: 400");
    http_client_resp_clear(&r);
}

static void test_get(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], target[256];
    struct http_client_resp r;
    long t0, ms;

    http_client_call(x->app->port, "GET", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL,
                     &r);
    tap_ok(t, r.status == 404 && !strcmp(http_client_err_code(&r), "not_found"),
           "GET unknown id: 404");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/jobs/not-an-id", NULL, NULL, &r);
    tap_ok(t, r.status == 404, "GET malformed id: 404");
    http_client_resp_clear(&r);

    post_job(x->app->port, "default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "queued") &&
               !strcmp(http_client_jstr(r.json, "id", NULL), id) &&
               json_integer_value(json_object_get(r.json, "created_ms")) > 0 &&
               json_is_null(json_object_get(r.json, "worker")) &&
               !json_object_get(r.json, "result"),
           "GET existing: queued snapshot (%s)", r.body);
    http_client_resp_clear(&r);

    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=1", id);
    t0 = http_client_now_ms();
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    ms = http_client_now_ms() - t0;
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "queued") &&
               ms >= 900 && ms < 2500,
           "?wait=1 on a job nobody runs: queued after %ld ms", ms);
    http_client_resp_clear(&r);
    tap_ok(t, subscribers_settle(x, id, 0) == 0, "... and its subscription is gone");
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=x", id);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "wait"), "?wait=x: 400");
    http_client_resp_clear(&r);
}

static void test_wait_finish(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], got[KEYS_ID_MAX + 1], target[256];
    struct http_client_resp r1, r2;
    int fd1, fd2;
    long t0, ms;

    post_job(x->app->port, "work", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    t0 = http_client_now_ms();
    fd1 = http_client_request(x->app->port, "GET", target, NULL, NULL);
    fd2 = http_client_request(x->app->port, "GET", target, NULL, NULL);
    usleep(300 * 1000); /* both subscribed: the answer comes from the event */
    tap_ok(t, subscribers_settle(x, id, 1) == 1, "two waiters share one subscription");
    tap_ok(t, fake_worker_take(&x->wk, got) == 0 && !strcmp(got, id),
           "fake worker took and started the job");
    tap_ok(t, fake_worker_ack(&x->wk, got, "{\"status\":\"ok\",\"stdout\":\"1\\n\"}") == 0,
           "fake worker acked it completed");
    http_client_read_close(fd1, &r1);
    http_client_read_close(fd2, &r2);
    ms = http_client_now_ms() - t0;
    tap_ok(t,
           r1.status == 200 && !strcmp(http_client_jstr(r1.json, "status", NULL), "completed") &&
               !strcmp(http_client_jstr(r1.json, "result", "status"), "ok") &&
               !strcmp(http_client_jstr(r1.json, "result", "stdout"), "1\n") &&
               json_integer_value(json_object_get(r1.json, "attempts")) == 1 &&
               !strcmp(http_client_jstr(r1.json, "worker", NULL), "test-worker-1") && ms < 3000,
           "waiter 1: completed with the result after %ld ms (%s)", ms, r1.body);
    tap_ok(t, r2.status == 200 && !strcmp(http_client_jstr(r2.json, "status", NULL), "completed"),
           "waiter 2: completed too");
    http_client_resp_clear(&r1);
    http_client_resp_clear(&r2);
    tap_ok(t, subscribers_settle(x, id, 0) == 0, "the subscription is dropped after the answers");

    /* finished between the first read and the subscription: the re-check answers */
    post_job(x->app->port, "work", NULL, id, sizeof(id));
    fake_worker_take(&x->wk, got);
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    t0 = http_client_now_ms();
    fd1 = http_client_request(x->app->port, "GET", target, NULL, NULL);
    fake_worker_ack(&x->wk, got, "{\"status\":\"ok\"}");
    http_client_read_close(fd1, &r1);
    ms = http_client_now_ms() - t0;
    tap_ok(t,
           r1.status == 200 && !strcmp(http_client_jstr(r1.json, "status", NULL), "completed") &&
               ms < 3000,
           "a finish racing the subscription is not missed (%ld ms)", ms);
    http_client_resp_clear(&r1);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r1);
    tap_ok(t, r1.status == 200 && !strcmp(http_client_jstr(r1.json, "status", NULL), "completed"),
           "?wait on a finished job answers at once");
    http_client_resp_clear(&r1);

    /* a client leaving mid-wait */
    post_job(x->app->port, "default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    fd1 = http_client_request(x->app->port, "GET", target, NULL, NULL);
    usleep(200 * 1000);
    tap_ok(t, subscribers_settle(x, id, 1) == 1, "a waiter subscribes to the job's channel");
    close(fd1);
    usleep(200 * 1000);
    tap_ok(t, subscribers_settle(x, id, 0) == 0,
           "client gone: its waiter and subscription are cleaned up");
}

static void test_cancel(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], target[256];
    struct http_client_resp r;

    post_job(x->app->port, "default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s/cancel", id);
    http_client_call(x->app->port, "POST", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "cancelled") &&
               !strcmp(http_client_jstr(r.json, "id", NULL), id),
           "cancel a queued job: 200 cancelled (%s)", r.body);
    http_client_resp_clear(&r);
    tap_ok(t, in_pending(x, "default", id) == 0, "... and it left pending");
    http_client_call(x->app->port, "POST", target, NULL, NULL, &r);
    tap_ok(t, r.status == 409 && !strcmp(http_client_err_code(&r), "already_finished"),
           "cancel again: 409");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel",
                     NULL, NULL, &r);
    tap_ok(t, r.status == 404, "cancel an unknown job: 404");
    http_client_resp_clear(&r);
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t, !strcmp(http_client_jstr(r.json, "status", NULL), "cancelled"),
           "GET after cancel: cancelled");
    http_client_resp_clear(&r);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Batches: the batch and its jobs enqueued at once with the tests stored once; progress and
 * counts as jobs finish; cancel; errors naming the submission's field. */
static void test_batches(struct ctx *x)
{
    static const char body[] =
        "{\"language\": \"py\", \"queue\": \"work\", \"tests\": [{\"stdin\": \"1\", "
        "\"expected_output\": \"1\"}, {\"stdin\": \"2\", \"expected_output\": \"2\"}], "
        "\"submissions\": [{\"source\": \"print(input())\"}, {\"source\": \"print(0)\"}, "
        "{\"name\": \"alice\", \"source\": \"x\"}]}";
    struct tap *t = x->t;
    struct http_client_resp r;
    struct http_client_sse sse;
    char bid[128], target[256], key[KEYS_NAME_MAX], got[KEYS_ID_MAX + 1], job1[KEYS_ID_MAX + 1];
    json_t *jobs;
    redisReply *rep;

    http_client_call(x->app->port, "POST", "/v1/batches", JSON_CT, body, &r);
    snprintf(bid, sizeof(bid), "%s", http_client_jstr(r.json, "id", NULL));
    jobs = json_object_get(r.json, "jobs");
    snprintf(job1, sizeof(job1), "%s", http_client_jstr(json_array_get(jobs, 0), "id", NULL));
    tap_ok(t, r.status == 202 && !strncmp(bid, "work.", 5) && json_array_size(jobs) == 3 &&
                  !strcmp(http_client_jstr(json_array_get(jobs, 2), "name", NULL), "alice") &&
                  !strcmp(http_client_jstr(json_array_get(jobs, 1), "name", NULL), "2") &&
                  strstr(r.head, "\nLocation: /v1/batches/"),
           "POST /v1/batches: 202, the batch id, 3 jobs named 1, 2, alice (%d %s)", r.status,
           r.body);
    http_client_resp_clear(&r);
    keys_job(key, sizeof(key), job1);
    rep = redisCommand(x->rc, "HGET %s spec", key);
    tap_ok(t, rep && rep->type == REDIS_REPLY_STRING && !strstr(rep->str, "\"tests\"") &&
                  strstr(rep->str, bid),
           "a job's stored spec names its batch and carries no copy of the tests");
    freeReplyObject(rep);
    keys_batch(key, sizeof(key), bid);
    rep = redisCommand(x->rc, "HGET %s spec", key);
    tap_ok(t, rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, "\"tests\""),
           "the batch stores the tests once");
    freeReplyObject(rep);

    snprintf(target, sizeof(target), "/v1/batches/%s/events", bid);
    http_client_sse_open(&sse, x->app->port, target, NULL);
    tap_ok(t, http_client_sse_until(&sse, "event: snapshot", 3000) && sse.r.status == 200 &&
                  strstr(sse.r.body, "\"done\":0"),
           "batch events: 200, a snapshot first");
    tap_ok(t, fake_worker_take(&x->wk, got) == 0 && !strcmp(got, job1) &&
                  fake_worker_ack(&x->wk, got,
                                  "{\"status\":\"ok\",\"verdict\":\"AC\",\"score\":2,"
                                  "\"max_score\":2}") == 0,
           "a worker takes the first job and finishes it AC");
    snprintf(target, sizeof(target), "/v1/batches/%s", bid);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    jobs = json_object_get(r.json, "jobs");
    tap_ok(t, r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "running") &&
                  json_integer_value(json_object_get(r.json, "done")) == 1 &&
                  json_integer_value(json_object_get(json_object_get(r.json, "counts"), "AC")) == 1 &&
                  !strcmp(http_client_jstr(json_array_get(jobs, 0), "verdict", NULL), "AC") &&
                  !strcmp(http_client_jstr(json_array_get(jobs, 1), "state", NULL), "queued"),
           "GET: running, 1 of 3 done, AC counted, the others queued (%s)", r.body);
    http_client_resp_clear(&r);
    snprintf(target, sizeof(target), "/v1/batches/%s/cancel", bid);
    http_client_call(x->app->port, "POST", target, NULL, NULL, &r);
    tap_ok(t, r.status == 200 && json_integer_value(json_object_get(r.json, "cancelled")) == 2 &&
                  json_integer_value(json_object_get(r.json, "finished")) == 1,
           "cancel: the 2 queued jobs cancelled, 1 already finished (%s)", r.body);
    http_client_resp_clear(&r);
    tap_ok(t, http_client_sse_until(&sse, NULL, 5000) &&
                  count_of(sse.r.body, "event: job\n") == 3 &&
                  count_of(sse.r.body, "event: finished\n") == 1 &&
                  strstr(sse.r.body, "\"verdict\":\"AC\""),
           "then a job event per job (AC, then 2 cancelled) and finished, which ends the stream");
    http_client_sse_close(&sse);
    snprintf(target, sizeof(target), "/v1/batches/%s", bid);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t, !strcmp(http_client_jstr(r.json, "status", NULL), "cancelled") &&
                  json_integer_value(json_object_get(r.json, "done")) == 3 &&
                  json_integer_value(
                      json_object_get(json_object_get(r.json, "counts"), "cancelled")) == 2,
           "then: cancelled, 3 of 3 done, 2 counted cancelled (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/batches/work.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL,
                     &r);
    tap_ok(t, r.status == 404, "GET an unknown batch: 404");
    http_client_resp_clear(&r);

    http_client_call(x->app->port, "POST", "/v1/batches", JSON_CT,
                     "{\"language\": \"py\", \"tests\": [{\"stdin\": \"\", \"expected_output\": "
                     "\"\"}], \"submissions\": [{\"source\": \"1\"}, {\"source\": \"1\", "
                     "\"files\": []}]}",
                     &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "submissions[1].source"),
           "a bad submission: 400 naming submissions[1].source (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/batches", JSON_CT,
                     "{\"language\": \"py\", \"submissions\": [{\"source\": \"1\"}]}", &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "tests"),
           "no tests: 400 naming tests");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/batches", JSON_CT,
                     "{\"language\": \"py\", \"tests\": [{\"stdin\": \"\", \"expected_output\": "
                     "\"\"}], \"submissions\": [{\"name\": \"a\", \"source\": \"1\"}, {\"name\": "
                     "\"a\", \"source\": \"2\"}]}",
                     &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "submissions[1].name"),
           "two submissions with one name: 400 naming the second");
    http_client_resp_clear(&r);
}

static void test_misc(struct ctx *x)
{
    struct tap *t = x->t;
    struct http_client_resp r;
    json_t *q;
    size_t i;
    int ok = 0;

    http_client_call(x->app->port, "PUT", "/v1/jobs", NULL, NULL, &r);
    tap_ok(t,
           r.status == 405 && strstr(r.head, "\nAllow: GET, HEAD, POST") &&
               !strcmp(http_client_err_code(&r), "method_not_allowed"),
           "PUT /v1/jobs: 405 with Allow: GET, HEAD, POST");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
                     NULL, &r);
    tap_ok(t, r.status == 405 && strstr(r.head, "\nAllow: GET, HEAD, DELETE"),
           "POST /v1/jobs/{id}: 405 with Allow: GET, HEAD, DELETE");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/jobs?limit=5", NULL, NULL, &r);
    tap_ok(t, r.status == 503 && !strcmp(http_client_err_code(&r), "postgres_unavailable"),
           "history without PostgreSQL: 503 postgres_unavailable (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/jobs?limit=0", NULL, NULL, &r);
    tap_ok(t, r.status == 400 && !strcmp(http_client_err_field(&r), "limit"),
           "history ?limit=0: 400 limit");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v2/nothing", NULL, NULL, &r);
    tap_ok(t, r.status == 404 && !strcmp(http_client_err_code(&r), "not_found"),
           "unknown path: 404");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/healthz", NULL, NULL, &r);
    tap_ok(t, r.status == 200 && json_is_true(json_object_get(r.json, "ok")), "/healthz: 200");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/readyz", NULL, NULL, &r);
    tap_ok(t, r.status == 200, "/readyz: 200 with Redis up");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/languages", NULL, NULL, &r);
    q = json_array_get(json_object_get(r.json, "languages"), 0);
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(q, "name", NULL), "python") &&
               json_array_size(json_object_get(q, "aliases")) == 2 &&
               json_array_size(json_object_get(q, "version_command")) == 2 &&
               json_is_null(json_object_get(q, "version")) &&
               json_is_false(json_object_get(q, "compiled")),
           "/v1/languages: name, aliases, version command; version null before any probe (%s)",
           r.body);
    http_client_resp_clear(&r);
    redis_int(x, "HSET runq:languages python %s", "Python 3.11.2");
    http_client_call(x->app->port, "GET", "/v1/languages", NULL, NULL, &r);
    q = json_array_get(json_object_get(r.json, "languages"), 0);
    tap_ok(t, r.status == 200 && !strcmp(http_client_jstr(q, "version", NULL), "Python 3.11.2"),
           "/v1/languages: the version a worker probed (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/queues", NULL, NULL, &r);
    for (i = 0; i < json_array_size(json_object_get(r.json, "queues")); i++) {
        q = json_array_get(json_object_get(r.json, "queues"), i);
        if (!strcmp(http_client_jstr(q, "name", NULL), "tiny"))
            ok += json_integer_value(json_object_get(q, "depth")) == 1 &&
                  json_integer_value(json_object_get(q, "max_depth")) == 1;
        if (!strcmp(http_client_jstr(q, "name", NULL), "default")) {
            char key[KEYS_NAME_MAX];
            keys_pending(key, sizeof(key), "default");
            /* every lane and the delayed set count */
            ok += json_integer_value(json_object_get(q, "depth")) ==
                  redis_int(x, "LLEN %s", key) +
                      redis_int(x, "LLEN %s", "runq:{default}:pending:high") +
                      redis_int(x, "LLEN %s", "runq:{default}:pending:low") +
                      redis_int(x, "ZCARD %s", "runq:{default}:delayed");
        }
    }
    tap_ok(t, r.status == 200 && ok == 2 && json_array_size(json_object_get(r.json, "queues")) == 3,
           "/v1/queues: depths and max depths (%s)", r.body);
    http_client_resp_clear(&r);
}

static void test_redis_down(struct ctx *x)
{
    struct tap *t = x->t;
    struct http_client_resp r = {0};
    long t0 = http_client_now_ms();

    redis_server_stop(x->rs, SIGTERM);
    do {
        http_client_resp_clear(&r);
        usleep(50 * 1000);
        http_client_call(x->app->port, "GET", "/readyz", NULL, NULL, &r);
    } while (r.status != 503 && http_client_now_ms() - t0 < 5000);
    tap_ok(t, r.status == 503 && !strcmp(http_client_err_code(&r), "redis_unavailable"),
           "/readyz: 503 once redis-server is stopped");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "POST", "/v1/jobs", JSON_CT,
                     "{\"language\": \"py\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 503 && !strcmp(http_client_err_code(&r), "redis_unavailable"),
           "POST with Redis down: 503");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/healthz", NULL, NULL, &r);
    tap_ok(t, r.status == 200, "/healthz still 200");
    http_client_resp_clear(&r);
}

static void *client_main(void *arg)
{
    struct ctx *x = arg;
    int wk;

    /* the dispatcher's Redis connection comes up */
    tap_ok(x->t, dispatcher_app_wait_ready(x->app->port, 5000) == 200, "dispatcher ready");
    x->rc = redisConnect("127.0.0.1", x->rs->port);
    wk = fake_worker_open(&x->wk, x->rs->url);
    tap_ok(x->t, x->rc && !x->rc->err && wk == 0, "test client and fake worker connected");
    test_submit(x);
    test_full_and_idem(x);
    test_get(x);
    test_wait_finish(x);
    test_cancel(x);
    test_batches(x);
    test_misc(x);
    test_redis_down(x);
    fake_worker_close(&x->wk);
    redisFree(x->rc);
    dispatcher_app_stop(x->app);
    return NULL;
}

int main(void)
{
    struct redis_server rs = {0};
    struct dispatcher_app app;
    struct tap t = {0};
    struct ctx x = {.t = &t, .app = &app, .rs = &rs};
    struct dispatcher_app_options o = {.config_yaml = config_yaml,
                                       .languages_yaml = languages_yaml};

    signal(SIGPIPE, SIG_IGN);
    if (!tap_ok(&t, redis_server_start(&rs) == 0, "redis-server started"))
        return tap_done(&t);
    o.redis_url = rs.url;
    if (dispatcher_app_start(&app, &t, &o))
        dispatcher_app_run(&app, &t, client_main, &x);
    redis_server_cleanup(&rs);
    return tap_done(&t);
}
