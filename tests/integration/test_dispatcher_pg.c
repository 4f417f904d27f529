/* SPDX-License-Identifier: MIT */
/* Integration test of the dispatcher's PostgreSQL side and its event streams: a redis-server
 * and a PostgreSQL of its own (redis_server.c, pg_server.c), the routes + http_server + rq +
 * db on this process's uv loop (main thread), and a client thread that talks HTTP over
 * plain sockets, plays a worker with a second rq (fetch, mark running, publish, ack) and
 * writes rows with results_sql through a second db on a loop of its own. */
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

#include "db.h"
#include "dispatcher_app.h"
#include "fake_worker.h"
#include "http_client.h"
#include "pg_server.h"
#include "redis_server.h"
#include "results_sql.h"
#include "rq.h"
#include "tap.h"

static const char config_yaml[] = "dispatcher:\n"
                                  "  listen: 127.0.0.1:1\n"
                                  "  max_wait: 20s\n"
                                  "queues:\n"
                                  "  default: 1000\n"
                                  "  work: 1000\n";

static const char languages_yaml[] = "python:\n"
                                     "  aliases: [py]\n"
                                     "  version: [python3, --version]\n"
                                     "  file: main.py\n"
                                     "  run: [python3, \"{file}\"]\n";

/* ---- HTTP client (test thread; http_client.c) ---- */

#define JSON_CT "Content-Type: application/json\r\n"
#define ACK_RESULT "{\"status\":\"ok\",\"wall_ms\":12}" /* what the fake worker acks */

struct ctx {
    struct tap *t;
    struct dispatcher_app *app;
    struct redis_server *rs;
    struct pg_server *pg;
    redisContext *rc;
    struct fake_worker wk;
    struct db *wdb;
};

static int post_job(int port, const char *queue, char *id, size_t idlen)
{
    char body[256];
    struct http_client_resp r;

    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"source\": \"print(1)\", \"queue\": \"%s\"}", queue);
    http_client_call(port, "POST", "/v1/jobs", JSON_CT, body, &r);
    snprintf(id, idlen, "%s", http_client_jstr(r.json, "id", NULL));
    http_client_resp_clear(&r);
    return r.status;
}

/* ---- the fake worker (test thread, its own loop) ---- */

static void wk_db(struct db *db, const struct db_result *r, void *data)
{
    struct fake_worker_wait *w = data;

    w->done = 1;
    w->status = r->status;
}

static int wk_publish(struct ctx *x, const char *id, const char *event)
{
    struct fake_worker_wait w = {0};
    char ch[KEYS_NAME_MAX], msg[256];

    keys_events(ch, sizeof(ch), id);
    snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"event\":\"%s\"}", id, event);
    if (rq_publish(x->wk.rq, ch, msg, strlen(msg), fake_worker_on_int, &w) < 0)
        return -1;
    fake_worker_run(&x->wk, &w);
    return w.done && w.status == 0 ? 0 : -1;
}

/* Runs q (freed here) on the test's own connection and waits for it. 0 or -1. */
static int wk_exec(struct ctx *x, struct results_query *q)
{
    struct fake_worker_wait w = {0};
    int rc = db_query(x->wdb, q->sql, q->nparams, (const char *const *)q->params, wk_db, &w);

    results_query_free(q);
    if (rc < 0)
        return -1;
    fake_worker_run(&x->wk, &w);
    return w.done && w.status == 0 ? 0 : -1;
}

/* Upserts a finished row through results_sql (created/finished at created_us). */
static int wk_row(struct ctx *x, const char *id, const char *language, const char *status,
                  int64_t created_us, int wall_ms)
{
    char result[128];
    struct results_job j = {.id = id,
                            .queue = "default",
                            .language = language,
                            .status = status,
                            .priority = 5,
                            .attempts = 1,
                            .worker = "w1",
                            .result = result,
                            .created_us = created_us,
                            .started_us = created_us + 1000,
                            .finished_us = created_us + 2000 + wall_ms * 1000};
    struct results_query q;

    snprintf(result, sizeof(result), "{\"status\":\"%s\",\"wall_ms\":%d}",
             strcmp(status, "completed") ? "runtime_error" : "ok", wall_ms);
    if (results_sql_upsert_finished(&j, &q) < 0)
        return -1;
    return wk_exec(x, &q);
}

static void make_id(char *id, size_t len, int n)
{
    uint8_t rnd[KEYS_RANDOM_BYTES] = {0};

    rnd[0] = (uint8_t)n;
    rnd[1] = 0xa5;
    keys_job_id_make("default", rnd, id, len);
}

/* The order of the SSE events in body: "snapshot,started,finished," into out. */
static void sse_names(const char *body, char *out, size_t len, int *ids_ok, long first_id)
{
    const char *p = body;
    long want = first_id;

    out[0] = '\0';
    *ids_ok = 1;
    while ((p = strstr(p, "id: "))) {
        long idv = strtol(p + 4, NULL, 10);
        const char *e = strstr(p, "event: ");
        if (!e)
            break;
        *ids_ok &= idv == want++;
        snprintf(out + strlen(out), len - strlen(out), "%.*s,", (int)strcspn(e + 7, "\n"), e + 7);
        p = e;
    }
}

/* ---- the cases ---- */

static void test_sse(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], got[KEYS_ID_MAX + 1], target[256], names[256];
    struct http_client_sse s;
    struct http_client_resp r;
    int ids_ok;

    post_job(x->app->port, "work", id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s/events", id);
    http_client_sse_open(&s, x->app->port, target, NULL);
    tap_ok(t,
           http_client_sse_until(&s, "event: snapshot", 3000) && s.r.status == 200 &&
               strstr(s.r.head, "text/event-stream") && strstr(s.r.body, "\"queued\""),
           "SSE: 200 text/event-stream, snapshot of the queued job first (%d)", s.r.status);
    tap_ok(t, fake_worker_take(&x->wk, got) == 0 && !strcmp(got, id),
           "fake worker takes it (the start publishes started)");
    tap_ok(t, wk_publish(x, id, "output") == 0, "... publishes an output event");
    tap_ok(t, fake_worker_ack(&x->wk, id, ACK_RESULT) == 0,
           "... and acks it completed (finished event)");
    tap_ok(t, http_client_sse_until(&s, NULL, 5000), "the stream ends after finished");
    sse_names(s.r.body, names, sizeof(names), &ids_ok, 1);
    tap_ok(t, !strcmp(names, "snapshot,started,output,finished,") && ids_ok,
           "events in order with ids 1, 2, 3, 4: %s", names);
    tap_ok(t, strstr(s.r.body, "\"state\":\"completed\"") != NULL, "finished carries the state");
    http_client_sse_close(&s);

    http_client_sse_open(&s, x->app->port, target, NULL);
    tap_ok(t, http_client_sse_until(&s, NULL, 3000), "SSE on a finished job ends at once");
    sse_names(s.r.body, names, sizeof(names), &ids_ok, 1);
    tap_ok(t,
           !strcmp(names, "snapshot,") && strstr(s.r.body, "\"completed\"") &&
               strstr(s.r.body, "\"result\":{"),
           "... after one snapshot with the result (%s)", names);
    http_client_sse_close(&s);

    http_client_sse_open(&s, x->app->port, target, "Last-Event-ID: 7\r\n");
    http_client_sse_until(&s, NULL, 3000);
    sse_names(s.r.body, names, sizeof(names), &ids_ok, 8);
    tap_ok(t, !strcmp(names, "snapshot,") && ids_ok,
           "Last-Event-ID: 7: a fresh snapshot with id 8 (%s)", names);
    http_client_sse_close(&s);

    /* heartbeat (300 ms in this test) and a client that leaves */
    post_job(x->app->port, "default", id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s/events", id);
    http_client_sse_open(&s, x->app->port, target, NULL);
    tap_ok(t, http_client_sse_until(&s, ": keepalive", 2000), "heartbeat comment lines");
    http_client_sse_close(&s);
    usleep(200 * 1000);
    {
        char ch[KEYS_NAME_MAX];
        redisReply *rep;
        keys_events(ch, sizeof(ch), id);
        rep = redisCommand(x->rc, "PUBSUB NUMSUB %s", ch);
        tap_ok(t, rep && rep->elements == 2 && rep->element[1]->integer == 0,
               "client gone: its subscription is dropped");
        freeReplyObject(rep);
    }
    http_client_call(x->app->port, "GET", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa/events",
                     NULL, NULL, &r);
    tap_ok(t, r.status == 404 && !strcmp(http_client_err_code(&r), "not_found"),
           "SSE unknown job: 404");
    http_client_resp_clear(&r);
}

static void test_history(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], target[512], cursor[256] = "";
    int64_t base = 1700000000000000LL; /* 2023-11-14T22:13:20Z */
    struct http_client_resp r;
    int i, pages = 0, total = 0, ok = 1, rows = 1;
    json_t *jobs, *st;

    for (i = 0; i < 7; i++) {
        make_id(id, sizeof(id), i);
        rows &= wk_row(x, id, i < 5 ? "python" : "c", i < 5 ? "completed" : "failed",
                       base + (int64_t)i * 1000000, 10 * (i + 1)) == 0;
    }
    tap_ok(t, rows, "7 rows written through results_sql_upsert_finished");
    do {
        snprintf(target, sizeof(target), "/v1/jobs?limit=3%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
        jobs = json_object_get(r.json, "jobs");
        ok &= r.status == 200;
        for (i = 0; i < (int)json_array_size(jobs); i++, total++) {
            make_id(id, sizeof(id), 6 - total);
            ok &= !strcmp(http_client_jstr(json_array_get(jobs, i), "id", NULL), id);
        }
        snprintf(cursor, sizeof(cursor), "%s", http_client_jstr(r.json, "next_cursor", NULL));
        pages++;
        http_client_resp_clear(&r);
    } while (cursor[0] && pages < 10);
    tap_ok(t, ok && total == 7 && pages == 3,
           "history pages of 3 by cursor: all 7 newest first (%d rows, %d pages)", total, pages);
    http_client_call(x->app->port, "GET", "/v1/jobs?status=failed", NULL, NULL, &r);
    jobs = json_object_get(r.json, "jobs");
    tap_ok(
        t,
        r.status == 200 && json_array_size(jobs) == 2 &&
            json_is_null(json_object_get(r.json, "next_cursor")) &&
            !strcmp(http_client_jstr(json_array_get(jobs, 0), "language", NULL), "c") &&
            !strcmp(http_client_jstr(json_array_get(jobs, 0), "result", "status"), "runtime_error"),
        "?status=failed: the 2 failed rows, no next_cursor (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/jobs?language=python&since=1700000003000", NULL,
                     NULL, &r);
    tap_ok(t, r.status == 200 && json_array_size(json_object_get(r.json, "jobs")) == 2,
           "?language=python&since=ms: 2 rows (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/jobs?since=2023-11-14T22:13:25Z", NULL, NULL, &r);
    tap_ok(t, r.status == 200 && json_array_size(json_object_get(r.json, "jobs")) == 2,
           "?since=RFC 3339: 2 rows");
    http_client_resp_clear(&r);
    {
        static const char *const bad[][2] = {
            {"limit=0", "limit"},      {"limit=501", "limit"},    {"limit=x", "limit"},
            {"cursor=nope", "cursor"}, {"status=done", "status"}, {"since=yesterday", "since"},
            {"cursor=%zz", "cursor"},
        };
        ok = 1;
        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            snprintf(target, sizeof(target), "/v1/jobs?%s", bad[i][0]);
            http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
            if (r.status != 400 || strcmp(http_client_err_field(&r), bad[i][1]) ||
                strcmp(http_client_err_code(&r), "invalid_query")) {
                tap_diag("%s: %d %s", bad[i][0], r.status, r.body);
                ok = 0;
            }
            http_client_resp_clear(&r);
        }
        tap_ok(t, ok, "bad limit, cursor, status, since: 400 naming the field");
    }
    http_client_call(x->app->port, "GET", "/v1/stats?language=python", NULL, NULL, &r);
    st = json_array_get(json_object_get(r.json, "stats"), 0);
    tap_ok(t,
           r.status == 200 && json_array_size(json_object_get(r.json, "stats")) == 1 &&
               json_integer_value(json_object_get(st, "total")) == 5 &&
               json_integer_value(json_object_get(st, "completed")) == 5 &&
               json_integer_value(json_object_get(json_object_get(st, "result_mix"), "ok")) == 5 &&
               json_number_value(json_object_get(json_object_get(st, "wall_ms"), "p50")) == 30.0,
           "stats for python: 5 completed, mix ok 5, p50 wall 30 ms (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/stats", NULL, NULL, &r);
    st = json_array_get(json_object_get(r.json, "stats"), 0);
    tap_ok(t,
           r.status == 200 && json_array_size(json_object_get(r.json, "stats")) == 2 &&
               !strcmp(http_client_jstr(st, "language", NULL), "c") &&
               json_integer_value(json_object_get(st, "failed")) == 2,
           "stats for all: c then python, c has 2 failed");
    http_client_resp_clear(&r);
}

static void test_delete_and_fallback(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], target[256], key[KEYS_NAME_MAX], got[KEYS_ID_MAX + 1];
    redisReply *rep;
    struct http_client_resp r;

    make_id(id, sizeof(id), 0); /* a PostgreSQL row only */
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "completed") &&
               !strcmp(http_client_jstr(r.json, "language", NULL), "python"),
           "GET a job Redis no longer has: from PostgreSQL (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "DELETE", target, NULL, NULL, &r);
    tap_ok(t, r.status == 204 && r.body_len == 0, "DELETE a finished job: 204");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t, r.status == 404, "... then GET: 404");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "DELETE", target, NULL, NULL, &r);
    tap_ok(t, r.status == 404 && !strcmp(http_client_err_code(&r), "not_found"),
           "DELETE again: 404");
    http_client_resp_clear(&r);

    post_job(x->app->port, "default", id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    http_client_call(x->app->port, "DELETE", target, NULL, NULL, &r);
    tap_ok(t, r.status == 409 && !strcmp(http_client_err_code(&r), "not_finished"),
           "DELETE a queued job: 409 (%s)", r.body);
    http_client_resp_clear(&r);
    post_job(x->app->port, "work", id, sizeof(id));
    fake_worker_take(&x->wk, got);
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    http_client_call(x->app->port, "DELETE", target, NULL, NULL, &r);
    tap_ok(t, r.status == 409, "DELETE a running job: 409");
    http_client_resp_clear(&r);

    /* finished: a row in PostgreSQL (as the worker writes it), then the Redis hash goes */
    fake_worker_ack(&x->wk, id, ACK_RESULT);
    wk_row(x, id, "python", "completed", 0, 5);
    keys_job(key, sizeof(key), id);
    rep = redisCommand(x->rc, "DEL %s", key);
    tap_ok(t, rep && rep->integer == 1, "the Redis hash is deleted");
    freeReplyObject(rep);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(http_client_jstr(r.json, "id", NULL), id) &&
               !strcmp(http_client_jstr(r.json, "status", NULL), "completed") &&
               !strcmp(http_client_jstr(r.json, "result", "status"), "ok"),
           "GET falls back to PostgreSQL (%s)", r.body);
    http_client_resp_clear(&r);
    snprintf(target, sizeof(target), "/v1/jobs/%s/events", id);
    http_client_call(x->app->port, "GET", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && strstr(r.body, "event: snapshot") && strstr(r.body, "\"completed\""),
           "SSE of it: the PostgreSQL snapshot, then the end");
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "DELETE", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
                     NULL, &r);
    tap_ok(t, r.status == 404, "DELETE an unknown job: 404");
    http_client_resp_clear(&r);
}

/* A batch whose Redis record is gone is answered from its jobs' rows in PostgreSQL. */
static int wk_batch_row(struct ctx *x, const char *id, const char *bid, const char *name,
                        const char *verdict, int score)
{
    char result[160], summary[64];
    struct results_job j = {.id = id, .queue = "work", .language = "python",
                            .status = "completed", .priority = 5, .attempts = 1,
                            .worker = "w1", .result = result, .spec_summary = summary,
                            .batch = bid, .created_us = 1000000, .finished_us = 2000000};
    struct results_query q;

    snprintf(result, sizeof(result),
             "{\"status\":\"ok\",\"verdict\":\"%s\",\"score\":%d,\"max_score\":2}", verdict,
             score);
    snprintf(summary, sizeof(summary), "{\"name\":\"%s\"}", name);
    if (results_sql_upsert_batch(&j, 1, &q) < 0)
        return -1;
    return wk_exec(x, &q);
}

static void test_batch_fallback(struct ctx *x)
{
    static const char bid[] = "work.bbbbbbbbbbbbbbbbbbbbbbbbba";
    struct tap *t = x->t;
    struct http_client_resp r;
    json_t *jobs;

    tap_ok(t, wk_batch_row(x, "work.ccccccccccccccccccccccccca", bid, "alice", "AC", 2) == 0 &&
                  wk_batch_row(x, "work.ddddddddddddddddddddddddda", bid, "bob", "WA", 1) == 0,
           "two rows of a batch that Redis no longer has");
    http_client_call(x->app->port, "GET", "/v1/batches/work.bbbbbbbbbbbbbbbbbbbbbbbbba", NULL, NULL,
                     &r);
    jobs = json_object_get(r.json, "jobs");
    tap_ok(t, r.status == 200 && !strcmp(http_client_jstr(r.json, "status", NULL), "completed") &&
                  json_integer_value(json_object_get(r.json, "total")) == 2 &&
                  json_integer_value(json_object_get(json_object_get(r.json, "counts"), "WA")) == 1 &&
                  !strcmp(http_client_jstr(json_array_get(jobs, 0), "name", NULL), "alice") &&
                  json_number_value(json_object_get(json_array_get(jobs, 1), "score")) == 1,
           "GET /v1/batches/{id} answers from PostgreSQL: completed, counts, names, scores (%s)",
           r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/batches/work.eeeeeeeeeeeeeeeeeeeeeeeeea", NULL, NULL,
                     &r);
    tap_ok(t, r.status == 404, "a batch in neither: 404");
    http_client_resp_clear(&r);
}

static void test_pg_down(struct ctx *x)
{
    struct tap *t = x->t;
    struct http_client_resp r = {0};
    long t0 = http_client_now_ms();

    http_client_call(x->app->port, "GET", "/readyz", NULL, NULL, &r);
    tap_ok(t, r.status == 200 && !strcmp(http_client_jstr(r.json, "postgres", NULL), "up"),
           "/readyz: 200 with both up");
    pg_server_stop(x->pg);
    do {
        http_client_resp_clear(&r);
        usleep(50 * 1000);
        http_client_call(x->app->port, "GET", "/v1/jobs?limit=1", NULL, NULL,
                         &r); /* a query notices the loss */
        http_client_resp_clear(&r);
        http_client_call(x->app->port, "GET", "/readyz", NULL, NULL, &r);
    } while (r.status != 503 && http_client_now_ms() - t0 < 10000);
    tap_ok(t, r.status == 503 && !strcmp(http_client_err_code(&r), "postgres_unavailable"),
           "/readyz: 503 postgres_unavailable once PostgreSQL is stopped (%s)", r.body);
    http_client_resp_clear(&r);
    http_client_call(x->app->port, "GET", "/v1/stats", NULL, NULL, &r);
    tap_ok(t, r.status == 503 && !strcmp(http_client_err_code(&r), "postgres_unavailable"),
           "stats with PostgreSQL down: 503");
    http_client_resp_clear(&r);
}

static void *client_main(void *arg)
{
    struct ctx *x = arg;
    int wk;

    tap_ok(x->t, dispatcher_app_wait_ready(x->app->port, 10000) == 200,
           "dispatcher ready (Redis and PostgreSQL)");
    x->rc = redisConnect("127.0.0.1", x->rs->port);
    wk = fake_worker_open(&x->wk, x->rs->url);
    tap_ok(x->t,
           x->rc && !x->rc->err && wk == 0 && db_open(&x->wk.loop, x->pg->url, NULL, &x->wdb) == 0,
           "test client, fake worker and its database connected");
    test_sse(x);
    test_history(x);
    test_delete_and_fallback(x);
    test_batch_fallback(x);
    test_pg_down(x);
    db_close(x->wdb, NULL, NULL);
    fake_worker_close(&x->wk);
    redisFree(x->rc);
    dispatcher_app_stop(x->app);
    return NULL;
}

int main(void)
{
    struct redis_server rs = {0};
    struct pg_server pg = {0};
    struct dispatcher_app app;
    struct tap t = {0};
    struct ctx x = {.t = &t, .app = &app, .rs = &rs, .pg = &pg};
    struct db_options dbo = {.query_timeout_ms = 3000,
                             .connect_timeout_ms = 1000,
                             .backoff = {.base_ms = 50, .max_ms = 200}};
    struct dispatcher_app_options o = {.config_yaml = config_yaml,
                                       .languages_yaml = languages_yaml,
                                       .dbo = &dbo,
                                       .heartbeat_ms = 300};
    char perr[256] = "";

    signal(SIGPIPE, SIG_IGN);
    if (!tap_ok(&t, redis_server_start(&rs) == 0, "redis-server started"))
        return tap_done(&t);
    if (!tap_ok(&t, pg_server_start(&pg, perr, sizeof(perr)) == 0, "PostgreSQL started (%s)",
                perr)) {
        redis_server_cleanup(&rs);
        return tap_done(&t);
    }
    o.redis_url = rs.url;
    o.pg_url = pg.url;
    if (dispatcher_app_start(&app, &t, &o))
        dispatcher_app_run(&app, &t, client_main, &x);
    pg_server_destroy(&pg);
    redis_server_cleanup(&rs);
    return tap_done(&t);
}
