/* SPDX-License-Identifier: MIT */
/* Integration test of dispatcher/routes: a redis-server of its own (redis_server.c), the
 * routes + http_server + rq on this process's uv loop (main thread) on 127.0.0.1 port 0, and
 * a client thread that talks HTTP over plain sockets (one connection per request), looks at
 * Redis with hiredis, and plays a worker with a second rq on a loop of its own (fetch,
 * rq_mark_running, rq_ack) to finish jobs that ?wait requests are waiting for. */
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_server.h"
#include "redis_server.h"
#include "routes.h"
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

/* ---- server side (main thread) ---- */

struct app {
    uv_loop_t loop;
    struct runq_config cfg;
    struct languages langs;
    struct rq *rq;
    struct routes *routes;
    struct http_server *srv;
    uv_async_t stop;
};

static void rq_closed(void *arg)
{
    struct app *app = arg;

    routes_free(app->routes);
}

static void server_closed(struct http_server *srv, void *data)
{
    struct app *app = data;

    rq_close(app->rq, rq_closed, app);
}

static void stop_cb(uv_async_t *a)
{
    struct app *app = a->data;

    routes_shutdown(app->routes);
    http_server_close(app->srv, server_closed, app);
    uv_close((uv_handle_t *)a, NULL);
}

/* ---- HTTP client (test thread) ---- */

struct resp {
    int status, complete;
    char head[4096];
    size_t head_len;
    char body[16384];
    size_t body_len;
    json_t *json; /* the body parsed, or NULL */
};

static int r_head(struct resp *r, const char *at, size_t n)
{
    if (r->head_len + n + 1 < sizeof(r->head)) {
        memcpy(r->head + r->head_len, at, n);
        r->head_len += n;
        r->head[r->head_len] = '\0';
    }
    return 0;
}

static int r_field(http_parser *p, const char *at, size_t n)
{
    r_head(p->data, "\n", 1);
    return r_head(p->data, at, n);
}

static int r_value(http_parser *p, const char *at, size_t n)
{
    r_head(p->data, ": ", 2);
    return r_head(p->data, at, n);
}

static int r_body(http_parser *p, const char *at, size_t n)
{
    struct resp *r = p->data;

    if (r->body_len + n < sizeof(r->body)) {
        memcpy(r->body + r->body_len, at, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
    }
    return 0;
}

static int r_done(http_parser *p)
{
    struct resp *r = p->data;

    r->complete = 1;
    r->status = (int)p->status_code;
    return 0;
}

static const http_parser_settings settings = {
    .on_header_field = r_field,
    .on_header_value = r_value,
    .on_body = r_body,
    .on_message_complete = r_done,
};

static int port;

/* Connects and sends a request (Connection: close). Returns the socket or -1. */
static int send_req(const char *method, const char *target, const char *headers, const char *body)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 30};
    size_t blen = body ? strlen(body) : 0, off = 0;
    char *req;
    int fd = socket(AF_INET, SOCK_STREAM, 0), n;
    ssize_t w;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    n = asprintf(&req,
                 "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
                 method, target, headers ? headers : "", blen);
    if (n < 0) {
        close(fd);
        return -1;
    }
    send(fd, req, (size_t)n, MSG_NOSIGNAL);
    free(req);
    while (off < blen && (w = send(fd, body + off, blen - off, MSG_NOSIGNAL)) > 0)
        off += (size_t)w;
    return fd;
}

/* Reads the response on fd and closes it. Returns 0 or -1. */
static int read_resp(int fd, struct resp *r)
{
    char buf[8192];
    http_parser p;
    ssize_t n;

    memset(r, 0, sizeof(*r));
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = r;
    while (!r->complete && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
        http_parser_execute(&p, &settings, buf, (size_t)n);
    if (!r->complete)
        http_parser_execute(&p, &settings, NULL, 0);
    close(fd);
    r->json = json_loads(r->body, 0, NULL);
    return r->complete ? 0 : -1;
}

static int call(const char *method, const char *target, const char *headers, const char *body,
                struct resp *r)
{
    int fd = send_req(method, target, headers, body);

    if (fd < 0) {
        memset(r, 0, sizeof(*r));
        return -1;
    }
    return read_resp(fd, r);
}

static void resp_clear(struct resp *r)
{
    json_decref(r->json);
    r->json = NULL;
}

static const char *jstr(const json_t *j, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(j, path1);

    if (path2)
        v = json_object_get(v, path2);
    return json_string_value(v) ? json_string_value(v) : "";
}

static const char *err_code(const struct resp *r)
{
    return jstr(r->json, "error", "code");
}

static const char *err_field(const struct resp *r)
{
    return jstr(r->json, "error", "field");
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define JSON_CT "Content-Type: application/json\r\n"

/* POSTs a small python job to queue; copies the id. Returns the status. */
static int post_job(const char *queue, const char *headers, char *id, size_t idlen)
{
    char body[256], hdr[512];
    struct resp r;

    snprintf(body, sizeof(body),
             "{\"language\": \"py\", \"source\": \"print(1)\", \"queue\": \"%s\"}", queue);
    snprintf(hdr, sizeof(hdr), JSON_CT "%s", headers ? headers : "");
    call("POST", "/v1/jobs", hdr, body, &r);
    if (id)
        snprintf(id, idlen, "%s", jstr(r.json, "id", NULL));
    resp_clear(&r);
    return r.status;
}

/* ---- Redis checks and a fake worker (test thread) ---- */

struct ctx {
    struct tap *t;
    struct app *app;
    struct redis_server *rs;
    redisContext *rc;
    uv_loop_t wloop;
    struct rq *wrq;
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

struct wk_wait {
    int done, status;
    char id[KEYS_ID_MAX + 1];
};

static void wk_fetched(void *arg, int status, const char *id)
{
    struct wk_wait *w = arg;

    w->done = 1;
    w->status = status;
    snprintf(w->id, sizeof(w->id), "%s", id ? id : "");
}

static void wk_started(void *arg, int status, const struct rq_started *s)
{
    struct wk_wait *w = arg;

    w->done = 1;
    w->status = status < 0 ? status : (int)s->status;
}

static void wk_acked(void *arg, int status, long long v)
{
    struct wk_wait *w = arg;

    w->done = 1;
    w->status = status;
}

static void wk_run(struct ctx *x, struct wk_wait *w)
{
    long t0 = now_ms();

    while (!w->done && now_ms() - t0 < 5000)
        uv_run(&x->wloop, UV_RUN_ONCE);
}

/* Takes the next job of queue "work" and marks it running: 0 and its id, or -1. */
static int wk_take(struct ctx *x, char *id)
{
    struct wk_wait w = {0};

    if (rq_fetch(x->wrq, "work", 1000, wk_fetched, &w) < 0)
        return -1;
    wk_run(x, &w);
    if (!w.done || w.status < 0 || !w.id[0])
        return -1;
    strcpy(id, w.id);
    memset(&w, 0, sizeof(w));
    if (rq_mark_running(x->wrq, id, wk_started, &w) < 0)
        return -1;
    wk_run(x, &w);
    return w.done && w.status == RQ_START_OK ? 0 : -1;
}

static int wk_finish(struct ctx *x, const char *id, const char *result)
{
    struct wk_wait w = {0};

    if (rq_ack(x->wrq, id, "completed", result, wk_acked, &w) < 0)
        return -1;
    wk_run(x, &w);
    return w.done && w.status == 0 ? 0 : -1;
}

/* ---- the cases ---- */

static void test_submit(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], loc[200], big[20000];
    struct resp r;

    call("POST", "/v1/jobs", JSON_CT, "{\"language\": \"py\", \"source\": \"print(1)\"}", &r);
    snprintf(id, sizeof(id), "%s", jstr(r.json, "id", NULL));
    snprintf(loc, sizeof(loc), "\nLocation: /v1/jobs/%s", id);
    tap_ok(t,
           r.status == 202 && !strncmp(id, "default.", 8) && strstr(r.head, loc) &&
               !strcmp(jstr(r.json, "status", NULL), "queued"),
           "POST valid job: 202, id, status queued, Location (%d %s)", r.status, r.body);
    resp_clear(&r);
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

    call("POST", "/v1/jobs", JSON_CT, "{\"language\": \"py\",", &r);
    tap_ok(t,
           r.status == 400 && !strcmp(err_code(&r), "invalid_json") &&
               strstr(jstr(r.json, "error", "message"), "line 1, column"),
           "bad JSON: 400 invalid_json with the position (%s)", r.body);
    resp_clear(&r);
    call("POST", "/v1/jobs", JSON_CT, "{\"language\": \"py\", \"source\": \"x\", \"bogus\": 1}",
         &r);
    tap_ok(t,
           r.status == 400 && !strcmp(err_code(&r), "invalid_field") &&
               !strcmp(err_field(&r), "bogus"),
           "unknown field: 400 naming it (%s)", r.body);
    resp_clear(&r);
    call("POST", "/v1/jobs", JSON_CT, "{\"language\": \"cobol\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 422 && !strcmp(err_code(&r), "unknown_language"),
           "unknown language: 422 (%s)", r.body);
    resp_clear(&r);
    call("POST", "/v1/jobs", JSON_CT,
         "{\"language\": \"py\", \"source\": \"x\", \"limits\": {\"cpu_ms\": 999999}}", &r);
    tap_ok(t,
           r.status == 422 && !strcmp(err_code(&r), "limit_too_high") &&
               !strcmp(err_field(&r), "limits.cpu_ms"),
           "limit above maximum: 422 naming limits.cpu_ms (%s)", r.body);
    resp_clear(&r);
    call("POST", "/v1/jobs", "Content-Type: text/plain\r\n", "{}", &r);
    tap_ok(t, r.status == 415 && !strcmp(err_code(&r), "unsupported_media_type"),
           "wrong content type: 415");
    resp_clear(&r);
    call("POST", "/v1/jobs", "Content-Type: Application/JSON; charset=utf-8\r\n",
         "{\"language\": \"py\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 202, "content type with a charset parameter is JSON");
    resp_clear(&r);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    call("POST", "/v1/jobs", JSON_CT, big, &r);
    tap_ok(t, r.status == 413, "body over dispatcher.max_body: 413 (%d)", r.status);
    resp_clear(&r);
    call("POST", "/v1/jobs", JSON_CT,
         "{\"language\": \"py\", \"source\": \"x\", \"queue\": \"nope\"}", &r);
    tap_ok(t, r.status == 422 && !strcmp(err_code(&r), "unknown_queue"), "unknown queue: 422");
    resp_clear(&r);
}

static void test_full_and_idem(struct ctx *x)
{
    struct tap *t = x->t;
    char id1[128], id2[128], key[KEYS_NAME_MAX];
    struct resp r;
    long long before;

    tap_ok(t, post_job("tiny", NULL, NULL, 0) == 202, "tiny queue: first job accepted");
    call("POST", "/v1/jobs", JSON_CT,
         "{\"language\": \"py\", \"source\": \"x\", \"queue\": \"tiny\"}", &r);
    tap_ok(t,
           r.status == 503 && strstr(r.head, "\nRetry-After: 1") &&
               !strcmp(err_code(&r), "queue_full"),
           "queue full: 503 + Retry-After (%s)", r.body);
    resp_clear(&r);

    keys_pending(key, sizeof(key), "default");
    before = redis_int(x, "LLEN %s", key);
    post_job("default", "Idempotency-Key: order-42\r\n", id1, sizeof(id1));
    call("POST", "/v1/jobs", JSON_CT "Idempotency-Key: order-42\r\n",
         "{\"language\": \"py\", \"source\": \"print(1)\", \"queue\": \"default\"}", &r);
    snprintf(id2, sizeof(id2), "%s", jstr(r.json, "id", NULL));
    tap_ok(t,
           r.status == 200 && id1[0] && !strcmp(id1, id2) &&
               json_is_true(json_object_get(r.json, "duplicate")),
           "Idempotency-Key twice: the same id, 200 duplicate");
    resp_clear(&r);
    tap_ok(t, redis_int(x, "LLEN %s", key) == before + 1, "... and one job in pending");
    call("POST", "/v1/jobs", JSON_CT "Idempotency-Key: bad key\r\n", "{}", &r);
    tap_ok(t, r.status == 400 && !strcmp(err_field(&r), "Idempotency-Key"),
           "malformed Idempotency-Key: 400");
    resp_clear(&r);
}

static void test_get(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], target[256];
    struct resp r;
    long t0, ms;

    call("GET", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, &r);
    tap_ok(t, r.status == 404 && !strcmp(err_code(&r), "not_found"), "GET unknown id: 404");
    resp_clear(&r);
    call("GET", "/v1/jobs/not-an-id", NULL, NULL, &r);
    tap_ok(t, r.status == 404, "GET malformed id: 404");
    resp_clear(&r);

    post_job("default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    call("GET", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(jstr(r.json, "status", NULL), "queued") &&
               !strcmp(jstr(r.json, "id", NULL), id) &&
               json_integer_value(json_object_get(r.json, "created_ms")) > 0 &&
               json_is_null(json_object_get(r.json, "worker")) &&
               !json_object_get(r.json, "result"),
           "GET existing: queued snapshot (%s)", r.body);
    resp_clear(&r);

    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=1", id);
    t0 = now_ms();
    call("GET", target, NULL, NULL, &r);
    ms = now_ms() - t0;
    tap_ok(t,
           r.status == 200 && !strcmp(jstr(r.json, "status", NULL), "queued") && ms >= 900 &&
               ms < 2500,
           "?wait=1 on a job nobody runs: queued after %ld ms", ms);
    resp_clear(&r);
    tap_ok(t, subscribers_settle(x, id, 0) == 0, "... and its subscription is gone");
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=x", id);
    call("GET", target, NULL, NULL, &r);
    tap_ok(t, r.status == 400 && !strcmp(err_field(&r), "wait"), "?wait=x: 400");
    resp_clear(&r);
}

static void test_wait_finish(struct ctx *x)
{
    struct tap *t = x->t;
    char id[128], got[KEYS_ID_MAX + 1], target[256];
    struct resp r1, r2;
    int fd1, fd2;
    long t0, ms;

    post_job("work", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    t0 = now_ms();
    fd1 = send_req("GET", target, NULL, NULL);
    fd2 = send_req("GET", target, NULL, NULL);
    usleep(300 * 1000); /* both subscribed: the answer comes from the event */
    tap_ok(t, subscribers_settle(x, id, 1) == 1, "two waiters share one subscription");
    tap_ok(t, wk_take(x, got) == 0 && !strcmp(got, id), "fake worker took and started the job");
    tap_ok(t, wk_finish(x, got, "{\"status\":\"ok\",\"stdout\":\"1\\n\"}") == 0,
           "fake worker acked it completed");
    read_resp(fd1, &r1);
    read_resp(fd2, &r2);
    ms = now_ms() - t0;
    tap_ok(t,
           r1.status == 200 && !strcmp(jstr(r1.json, "status", NULL), "completed") &&
               !strcmp(jstr(r1.json, "result", "status"), "ok") &&
               !strcmp(jstr(r1.json, "result", "stdout"), "1\n") &&
               json_integer_value(json_object_get(r1.json, "attempts")) == 1 &&
               !strcmp(jstr(r1.json, "worker", NULL), "test-worker-1") && ms < 3000,
           "waiter 1: completed with the result after %ld ms (%s)", ms, r1.body);
    tap_ok(t, r2.status == 200 && !strcmp(jstr(r2.json, "status", NULL), "completed"),
           "waiter 2: completed too");
    resp_clear(&r1);
    resp_clear(&r2);
    tap_ok(t, subscribers_settle(x, id, 0) == 0, "the subscription is dropped after the answers");

    /* finished between the first read and the subscription: the re-check answers */
    post_job("work", NULL, id, sizeof(id));
    wk_take(x, got);
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    t0 = now_ms();
    fd1 = send_req("GET", target, NULL, NULL);
    wk_finish(x, got, "{\"status\":\"ok\"}");
    read_resp(fd1, &r1);
    ms = now_ms() - t0;
    tap_ok(t, r1.status == 200 && !strcmp(jstr(r1.json, "status", NULL), "completed") && ms < 3000,
           "a finish racing the subscription is not missed (%ld ms)", ms);
    resp_clear(&r1);
    call("GET", target, NULL, NULL, &r1);
    tap_ok(t, r1.status == 200 && !strcmp(jstr(r1.json, "status", NULL), "completed"),
           "?wait on a finished job answers at once");
    resp_clear(&r1);

    /* a client leaving mid-wait */
    post_job("default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s?wait=15", id);
    fd1 = send_req("GET", target, NULL, NULL);
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
    struct resp r;

    post_job("default", NULL, id, sizeof(id));
    snprintf(target, sizeof(target), "/v1/jobs/%s/cancel", id);
    call("POST", target, NULL, NULL, &r);
    tap_ok(t,
           r.status == 200 && !strcmp(jstr(r.json, "status", NULL), "cancelled") &&
               !strcmp(jstr(r.json, "id", NULL), id),
           "cancel a queued job: 200 cancelled (%s)", r.body);
    resp_clear(&r);
    tap_ok(t, in_pending(x, "default", id) == 0, "... and it left pending");
    call("POST", target, NULL, NULL, &r);
    tap_ok(t, r.status == 409 && !strcmp(err_code(&r), "already_finished"), "cancel again: 409");
    resp_clear(&r);
    call("POST", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel", NULL, NULL, &r);
    tap_ok(t, r.status == 404, "cancel an unknown job: 404");
    resp_clear(&r);
    snprintf(target, sizeof(target), "/v1/jobs/%s", id);
    call("GET", target, NULL, NULL, &r);
    tap_ok(t, !strcmp(jstr(r.json, "status", NULL), "cancelled"), "GET after cancel: cancelled");
    resp_clear(&r);
}

static void test_misc(struct ctx *x)
{
    struct tap *t = x->t;
    struct resp r;
    json_t *q;
    size_t i;
    int ok = 0;

    call("PUT", "/v1/jobs", NULL, NULL, &r);
    tap_ok(t,
           r.status == 405 && strstr(r.head, "\nAllow: GET, HEAD, POST") &&
               !strcmp(err_code(&r), "method_not_allowed"),
           "PUT /v1/jobs: 405 with Allow: GET, HEAD, POST");
    resp_clear(&r);
    call("POST", "/v1/jobs/default.aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, &r);
    tap_ok(t, r.status == 405 && strstr(r.head, "\nAllow: GET, HEAD, DELETE"),
           "POST /v1/jobs/{id}: 405 with Allow: GET, HEAD, DELETE");
    resp_clear(&r);
    call("GET", "/v1/jobs?limit=5", NULL, NULL, &r);
    tap_ok(t, r.status == 503 && !strcmp(err_code(&r), "postgres_unavailable"),
           "history without PostgreSQL: 503 postgres_unavailable (%s)", r.body);
    resp_clear(&r);
    call("GET", "/v1/jobs?limit=0", NULL, NULL, &r);
    tap_ok(t, r.status == 400 && !strcmp(err_field(&r), "limit"), "history ?limit=0: 400 limit");
    resp_clear(&r);
    call("GET", "/v2/nothing", NULL, NULL, &r);
    tap_ok(t, r.status == 404 && !strcmp(err_code(&r), "not_found"), "unknown path: 404");
    resp_clear(&r);
    call("GET", "/healthz", NULL, NULL, &r);
    tap_ok(t, r.status == 200 && json_is_true(json_object_get(r.json, "ok")), "/healthz: 200");
    resp_clear(&r);
    call("GET", "/readyz", NULL, NULL, &r);
    tap_ok(t, r.status == 200, "/readyz: 200 with Redis up");
    resp_clear(&r);
    call("GET", "/v1/languages", NULL, NULL, &r);
    q = json_array_get(json_object_get(r.json, "languages"), 0);
    tap_ok(t,
           r.status == 200 && !strcmp(jstr(q, "name", NULL), "python") &&
               json_array_size(json_object_get(q, "aliases")) == 2 &&
               json_array_size(json_object_get(q, "version")) == 2,
           "/v1/languages: name, aliases, version (%s)", r.body);
    resp_clear(&r);
    call("GET", "/v1/queues", NULL, NULL, &r);
    for (i = 0; i < json_array_size(json_object_get(r.json, "queues")); i++) {
        q = json_array_get(json_object_get(r.json, "queues"), i);
        if (!strcmp(jstr(q, "name", NULL), "tiny"))
            ok += json_integer_value(json_object_get(q, "depth")) == 1 &&
                  json_integer_value(json_object_get(q, "max_depth")) == 1;
        if (!strcmp(jstr(q, "name", NULL), "default")) {
            char key[KEYS_NAME_MAX];
            keys_pending(key, sizeof(key), "default");
            ok += json_integer_value(json_object_get(q, "depth")) == redis_int(x, "LLEN %s", key);
        }
    }
    tap_ok(t, r.status == 200 && ok == 2 && json_array_size(json_object_get(r.json, "queues")) == 3,
           "/v1/queues: depths and max depths (%s)", r.body);
    resp_clear(&r);
}

static void test_redis_down(struct ctx *x)
{
    struct tap *t = x->t;
    struct resp r = {0};
    long t0 = now_ms();

    redis_server_stop(x->rs, SIGTERM);
    do {
        resp_clear(&r);
        usleep(50 * 1000);
        call("GET", "/readyz", NULL, NULL, &r);
    } while (r.status != 503 && now_ms() - t0 < 5000);
    tap_ok(t, r.status == 503 && !strcmp(err_code(&r), "redis_unavailable"),
           "/readyz: 503 once redis-server is stopped");
    resp_clear(&r);
    call("POST", "/v1/jobs", JSON_CT, "{\"language\": \"py\", \"source\": \"x\"}", &r);
    tap_ok(t, r.status == 503 && !strcmp(err_code(&r), "redis_unavailable"),
           "POST with Redis down: 503");
    resp_clear(&r);
    call("GET", "/healthz", NULL, NULL, &r);
    tap_ok(t, r.status == 200, "/healthz still 200");
    resp_clear(&r);
}

static void *client_main(void *arg)
{
    struct ctx *x = arg;
    struct rq_options wo = {.url = x->rs->url,
                            .worker = "test-worker-1",
                            .queues = (const char *const[]){"work"},
                            .nqueues = 1};
    struct resp r = {0};
    long t0 = now_ms();

    do { /* the dispatcher's Redis connection comes up */
        resp_clear(&r);
        usleep(20 * 1000);
        call("GET", "/readyz", NULL, NULL, &r);
    } while (r.status != 200 && now_ms() - t0 < 5000);
    resp_clear(&r);
    tap_ok(x->t, r.status == 200, "dispatcher ready");
    x->rc = redisConnect("127.0.0.1", x->rs->port);
    uv_loop_init(&x->wloop);
    tap_ok(x->t, x->rc && !x->rc->err && rq_open(&x->wloop, &wo, &x->wrq) == 0,
           "test client and fake worker connected");
    test_submit(x);
    test_full_and_idem(x);
    test_get(x);
    test_wait_finish(x);
    test_cancel(x);
    test_misc(x);
    test_redis_down(x);
    rq_close(x->wrq, NULL, NULL);
    uv_run(&x->wloop, UV_RUN_DEFAULT);
    uv_loop_close(&x->wloop);
    redisFree(x->rc);
    uv_async_send(&x->app->stop);
    return NULL;
}

int main(void)
{
    struct redis_server rs = {0};
    struct config_error err = {0};
    struct http_server_config sc;
    struct app app;
    struct tap t = {0};
    struct ctx x = {.t = &t, .app = &app, .rs = &rs};
    struct rq_options ro = {0};
    char host[256];
    pthread_t th;
    int rc;

    memset(&app, 0, sizeof(app));
    signal(SIGPIPE, SIG_IGN);
    if (!tap_ok(&t, redis_server_start(&rs) == 0, "redis-server started"))
        return tap_done(&t);
    rc = config_load_string(config_yaml, "test.yaml", &app.cfg, &err);
    snprintf(app.cfg.redis.url, sizeof(app.cfg.redis.url), "%s", rs.url);
    rc = rc ? rc : languages_load_string(languages_yaml, "languages.yaml", &app.langs, &err);
    tap_ok(&t, rc == 0, "config and languages load (%s)", err.message);
    uv_loop_init(&app.loop);
    ro.url = app.cfg.redis.url;
    ro.command_timeout_ms = 2000;
    rc = rq_open(&app.loop, &ro, &app.rq);
    rc = rc ? rc : routes_new(&app.loop, &app.cfg, &app.langs, app.rq, NULL, &app.routes);
    rc = rc ? rc : routes_server_config(&app.cfg, &sc, host, sizeof(host));
    sc.port = 0;
    sc.request_timeout_ms = 5000;
    sc.linger_ms = 200;
    sc.shutdown_timeout_ms = 1000;
    rc = rc ? rc : http_server_new(&app.loop, &sc, routes_handle, app.routes, &app.srv);
    if (rc == 0) {
        http_server_set_guard(app.srv, routes_guard, app.routes);
        rc = http_server_listen(app.srv);
    }
    port = app.srv ? http_server_port(app.srv) : -1;
    if (!tap_ok(&t, rc == 0 && port > 0, "dispatcher listening on 127.0.0.1:%d (%d)", port, rc)) {
        redis_server_cleanup(&rs);
        return tap_done(&t);
    }
    uv_async_init(&app.loop, &app.stop, stop_cb);
    app.stop.data = &app;
    pthread_create(&th, NULL, client_main, &x);
    uv_run(&app.loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    tap_ok(&t, uv_loop_close(&app.loop) == 0, "loop closes with no handle left");
    languages_free(&app.langs);
    redis_server_cleanup(&rs);
    return tap_done(&t);
}
