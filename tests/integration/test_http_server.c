/* SPDX-License-Identifier: MIT */
/* Integration test of dispatcher/http_server: the server runs in this process's own uv loop
 * (main thread) on 127.0.0.1, port 0; a client thread talks to it over plain sockets and
 * reads responses with http-parser. Covers keep-alive, pipelining order, asynchronous
 * answers, SSE, 408, 413 with a JSON error, the close callback, the guard, the connection
 * cap and graceful close. Timeouts are set small so the whole test takes about 2 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "http_server.h"
#include "tap.h"

#define REQUEST_TIMEOUT_MS 250
#define IDLE_TIMEOUT_MS 400
#define MAX_CONNECTIONS 6

/* ---- server side (loop thread) ---- */

struct app {
    uv_loop_t *loop;
    struct http_server *srv;
    uv_async_t stop;
    atomic_int sse_closed; /* close callbacks of /sse-forever */
    atomic_int server_closed;
    atomic_int late_result; /* what http_respond returned for /late, 1 = not yet */
};

struct job { /* a delayed answer or a stream ticking on a timer */
    uv_timer_t timer;
    struct http_exchange *ex;
    struct app *app;
    int sent, forever, watch; /* watch: a close callback is set */
};

static void job_closed(uv_handle_t *h)
{
    free(h->data);
}

static void job_tick(uv_timer_t *t)
{
    struct job *j = t->data;
    char ev[32];

    if (j->sent < 0) { /* a delayed plain answer; unwatched, the client may be gone */
        const struct http_request *r = http_exchange_request(j->ex);
        int ok = strcmp(r->path, "/late") != 0 || strcmp(r->body, "body") == 0;
        int rc = http_respond(j->ex, 200, "text/plain", "delayed", 7);

        if (!j->watch)
            atomic_store(&j->app->late_result, ok ? rc : -1000);
        uv_close((uv_handle_t *)t, job_closed);
        return;
    }
    snprintf(ev, sizeof(ev), "data: %d\n\n", ++j->sent);
    http_stream_write(j->ex, ev, strlen(ev));
    if (j->sent == 3 && !j->forever) {
        http_stream_end(j->ex);
        uv_close((uv_handle_t *)t, job_closed);
    }
}

static void job_gone(struct http_exchange *ex, void *data)
{
    struct job *j = data;

    if (j->forever)
        atomic_fetch_add(&j->app->sse_closed, 1);
    uv_close((uv_handle_t *)&j->timer, job_closed);
}

static void start_job(struct app *app, struct http_exchange *ex, int sent, int forever, uint64_t ms,
                      int watch)
{
    struct job *j = calloc(1, sizeof(*j));

    j->ex = ex;
    j->app = app;
    j->sent = sent;
    j->forever = forever;
    j->watch = watch;
    uv_timer_init(app->loop, &j->timer);
    j->timer.data = j;
    if (watch)
        http_exchange_on_close(ex, job_gone, j);
    uv_timer_start(&j->timer, job_tick, ms, sent < 0 ? 0 : ms);
}

static void handler(struct http_exchange *ex, void *ctx)
{
    struct app *app = ctx;
    const struct http_request *r = http_exchange_request(ex);
    char out[2048];

    if (strcmp(r->path, "/late") == 0) {
        start_job(app, ex, -1, 0, 80, 0);
    } else if (strcmp(r->path, "/delay") == 0) {
        start_job(app, ex, -1, 0, r->has_query ? strtoull(r->query, NULL, 10) : 50, 1);
    } else if (strcmp(r->path, "/sse") == 0 || strcmp(r->path, "/sse-forever") == 0) {
        http_stream_start(ex, 200, "text/event-stream");
        start_job(app, ex, 0, strcmp(r->path, "/sse-forever") == 0, 20, 1);
    } else if (strcmp(r->path, "/echo") == 0) {
        snprintf(out, sizeof(out), "%s %s %s %.*s", r->method, r->path, r->query, (int)r->body_len,
                 r->body);
        http_respond(ex, 200, "text/plain", out, strlen(out));
    } else {
        http_respond_error(ex, 404, "not_found", "no such route", NULL);
    }
}

static int guard(struct http_exchange *ex, void *ctx)
{
    const struct http_request *r = http_exchange_request(ex);

    if (strcmp(r->path, "/secret") != 0 || http_request_header(r, "Authorization"))
        return 0;
    http_exchange_add_header(ex, "WWW-Authenticate", "Bearer");
    http_respond_error(ex, 401, "unauthorized", "a token is required", NULL);
    return 1;
}

static void server_closed(struct http_server *srv, void *data)
{
    struct app *app = data;

    atomic_fetch_add(&app->server_closed, 1);
}

static void stop_cb(uv_async_t *a)
{
    struct app *app = a->data;

    http_server_close(app->srv, server_closed, app);
    uv_close((uv_handle_t *)a, NULL);
}

/* ---- client side (test thread; http_client.c) ---- */

struct test_ctx {
    struct tap *t;
    struct app *app;
    int port;
};

static void test_keep_alive(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    struct http_client_resp r;
    long t0, ms;
    int eof;

    http_client_conn_send(&c, "GET /echo?a=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && r.status == 200 &&
               strcmp(r.body, "GET /echo a=1 ") == 0 && strstr(r.head, "Connection: keep-alive"),
           "first request on a keep-alive connection");
    http_client_conn_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    tap_ok(x->t, http_client_conn_read(&c, &r) == 0 && strcmp(r.body, "POST /echo  hello") == 0,
           "second request reuses the connection");
    http_client_conn_send(&c, "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    http_client_conn_send(&c, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read_head(&c, &r) == 0 && r.status == 200 &&
               strstr(r.head, "Content-Length: 12"),
           "HEAD: head only, with the length GET would have");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && r.status == 404 && strstr(r.body, "not_found"),
           "then the next response (no body bytes leaked from HEAD)");
    t0 = http_client_now_ms();
    eof = http_client_conn_eof(&c);
    ms = http_client_now_ms() - t0;
    tap_ok(x->t, eof && ms >= IDLE_TIMEOUT_MS - 50,
           "idle keep-alive connection closed after idle_timeout (%ld ms)", ms);
    close(c.fd);
}

static void test_pipelining(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    struct http_client_resp r1, r2, r3;
    int ok;

    http_client_conn_send(&c, "GET /delay?100 HTTP/1.1\r\n\r\nGET /echo?b HTTP/1.1\r\n\r\n"
                              "GET /echo?c HTTP/1.1\r\nConnection: close\r\n\r\n");
    ok = http_client_conn_read(&c, &r1) == 0 && http_client_conn_read(&c, &r2) == 0 &&
         http_client_conn_read(&c, &r3) == 0;
    tap_ok(x->t,
           ok && strcmp(r1.body, "delayed") == 0 && strcmp(r2.body, "GET /echo b ") == 0 &&
               strcmp(r3.body, "GET /echo c ") == 0,
           "pipelined responses in request order behind an asynchronous one");
    tap_ok(x->t, ok && strstr(r3.head, "Connection: close") && http_client_conn_eof(&c),
           "Connection: close honoured at the end of the pipeline");
    close(c.fd);
}

static void test_async_and_sse(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    struct http_client_resp r;
    long t0 = http_client_now_ms();

    http_client_conn_send(&c, "GET /delay?60 HTTP/1.1\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && strcmp(r.body, "delayed") == 0 &&
               http_client_now_ms() - t0 >= 50,
           "delayed (asynchronous) response");
    http_client_conn_send(&c, "GET /sse HTTP/1.1\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && r.status == 200 &&
               strcmp(r.body, "data: 1\n\ndata: 2\n\ndata: 3\n\n") == 0 &&
               strstr(r.head, "text/event-stream") && strstr(r.head, "chunked"),
           "SSE: 3 events, then the end of the stream");
    http_client_conn_send(&c, "GET /echo?after HTTP/1.1\r\n\r\n");
    tap_ok(x->t, http_client_conn_read(&c, &r) == 0 && strcmp(r.body, "GET /echo after ") == 0,
           "connection reused after the stream");
    close(c.fd);

    c.fd = http_client_connect(x->port, 2);
    c.len = 0;
    http_client_conn_send(&c, "GET /sse HTTP/1.0\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 &&
               strcmp(r.body, "data: 1\n\ndata: 2\n\ndata: 3\n\n") == 0 &&
               strstr(r.head, "Connection: close") && !strstr(r.head, "chunked"),
           "SSE to HTTP/1.0: body until close");
    close(c.fd);
}

static void test_sse_disconnect(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    char b[512];
    ssize_t n;
    int i;

    http_client_conn_send(&c, "GET /sse-forever HTTP/1.1\r\n\r\n");
    n = recv(c.fd, b, sizeof(b) - 1, 0);
    b[n > 0 ? n : 0] = '\0';
    while (n > 0 && !strstr(b, "data: 1"))
        n = recv(c.fd, b, sizeof(b) - 1, 0), b[n > 0 ? n : 0] = '\0';
    close(c.fd);
    for (i = 0; i < 100 && atomic_load(&x->app->sse_closed) == 0; i++)
        usleep(5000);
    usleep(60000); /* three more ticks: a second callback would show up */
    tap_ok(x->t, atomic_load(&x->app->sse_closed) == 1,
           "client gone during SSE: close callback exactly once (%d)",
           atomic_load(&x->app->sse_closed));
}

static void test_detached(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    int i;

    http_client_conn_send(&c, "POST /late HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
    usleep(20000);
    close(c.fd);
    for (i = 0; i < 200 && atomic_load(&x->app->late_result) == 1; i++)
        usleep(5000);
    tap_ok(x->t, atomic_load(&x->app->late_result) == -ECONNRESET,
           "no close callback: the request stays readable, the late answer gets -ECONNRESET "
           "(%d)",
           atomic_load(&x->app->late_result));
}

static void test_errors(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)};
    struct http_client_resp r;
    json_t *j;
    long t0 = http_client_now_ms(), ms;
    int rc;

    http_client_conn_send(&c, "GET /echo HTTP/1.1\r\nHost: slo");
    rc = http_client_conn_read(&c, &r);
    ms = http_client_now_ms() - t0;
    tap_ok(x->t,
           rc == 0 && r.status == 408 && strstr(r.body, "request_timeout") &&
               ms >= REQUEST_TIMEOUT_MS - 20,
           "slow client: 408 after request_timeout (%ld ms)", ms);
    tap_ok(x->t, http_client_conn_eof(&c), "then closed");
    close(c.fd);

    c.fd = http_client_connect(x->port, 2);
    c.len = 0;
    http_client_conn_send(&c, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
    j = http_client_conn_read(&c, &r) == 0 ? json_loads(r.body, 0, NULL) : NULL;
    tap_ok(x->t,
           r.status == 413 && j &&
               strcmp(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                      "payload_too_large") == 0 &&
               json_is_null(json_object_get(json_object_get(j, "error"), "field")) &&
               json_is_string(json_object_get(json_object_get(j, "error"), "message")),
           "oversized body: 413 with a JSON error");
    json_decref(j);
    tap_ok(x->t, strstr(r.head, "Connection: close") && http_client_conn_eof(&c), "then closed");
    close(c.fd);

    c.fd = http_client_connect(x->port, 2);
    c.len = 0;
    http_client_conn_send(&c, "GET /a b c d\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && r.status == 400 && strstr(r.body, "bad_request") &&
               http_client_conn_eof(&c),
           "malformed request: 400 JSON, closed");
    close(c.fd);

    c.fd = http_client_connect(x->port, 2);
    c.len = 0;
    http_client_conn_send(
        &c, "GET /secret HTTP/1.1\r\n\r\nGET /secret HTTP/1.1\r\nAuthorization: x\r\n\r\n");
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && r.status == 401 &&
               strstr(r.head, "WWW-Authenticate: Bearer") && strstr(r.body, "unauthorized"),
           "guard answers 401 before the handler");
    tap_ok(x->t, http_client_conn_read(&c, &r) == 0 && r.status == 404,
           "guard lets the next one through");
    close(c.fd);
}

static void test_connection_cap(struct test_ctx *x)
{
    struct http_client_conn extra = {0};
    int fds[MAX_CONNECTIONS], i;

    for (i = 0; i < MAX_CONNECTIONS; i++)
        fds[i] = http_client_connect(x->port, 2);
    usleep(20000);
    extra.fd = http_client_connect(x->port, 2);
    tap_ok(x->t, extra.fd >= 0 && http_client_conn_eof(&extra),
           "connection over max_connections closed");
    close(extra.fd);
    for (i = 0; i < MAX_CONNECTIONS; i++)
        close(fds[i]);
    usleep(20000);
}

static void test_graceful_close(struct test_ctx *x)
{
    struct http_client_conn c = {.fd = http_client_connect(x->port, 2)},
                            idle = {.fd = http_client_connect(x->port, 2)};
    struct http_client_resp r;
    int fd, i;

    http_client_conn_send(&c, "GET /delay?150 HTTP/1.1\r\n\r\n");
    usleep(30000);
    uv_async_send(&x->app->stop);
    tap_ok(x->t,
           http_client_conn_read(&c, &r) == 0 && strcmp(r.body, "delayed") == 0 &&
               strstr(r.head, "Connection: close"),
           "graceful close: the in-flight response is delivered, with Connection: close");
    tap_ok(x->t, http_client_conn_eof(&idle), "graceful close: idle connection closed");
    fd = http_client_connect(x->port, 2);
    tap_ok(x->t, fd == -ECONNREFUSED, "graceful close: no longer listening");
    if (fd >= 0)
        close(fd);
    for (i = 0; i < 200 && !atomic_load(&x->app->server_closed); i++)
        usleep(5000);
    tap_ok(x->t, atomic_load(&x->app->server_closed) == 1, "server close callback ran");
    close(c.fd);
    close(idle.fd);
}

static void *client_main(void *arg)
{
    struct test_ctx *x = arg;

    test_keep_alive(x);
    test_pipelining(x);
    test_async_and_sse(x);
    test_sse_disconnect(x);
    test_detached(x);
    test_errors(x);
    test_connection_cap(x);
    test_graceful_close(x);
    return NULL;
}

static void test_other_hosts(struct tap *t, uv_loop_t *loop)
{
    static const char *const hosts[] = {"::1", "localhost", "0.0.0.0"};
    struct http_server_config cfg = {0};
    struct http_server *srv;
    size_t i;
    int r;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        cfg.host = hosts[i];
        r = http_server_new(loop, &cfg, handler, NULL, &srv);
        if (r == 0)
            r = http_server_listen(srv);
        tap_ok(t, r == 0 && http_server_port(srv) > 0, "listens on %s (%d)", hosts[i], r);
        http_server_close(srv, NULL, NULL);
    }
    cfg.host = "not-an-address";
    http_server_new(loop, &cfg, handler, NULL, &srv);
    tap_ok(t, http_server_listen(srv) == -EINVAL, "a host name other than localhost: -EINVAL");
    http_server_close(srv, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT); /* lets the closes finish */
}

int main(void)
{
    struct http_server_config cfg = {
        .host = "127.0.0.1",
        .limits = {.max_body = 1024},
        .idle_timeout_ms = IDLE_TIMEOUT_MS,
        .request_timeout_ms = REQUEST_TIMEOUT_MS,
        .linger_ms = 200,
        .shutdown_timeout_ms = 1000,
        .max_connections = MAX_CONNECTIONS,
    };
    struct tap t = {0};
    struct app app = {0};
    struct test_ctx x = {.t = &t, .app = &app};
    uv_loop_t loop;
    pthread_t th;
    int r;

    uv_loop_init(&loop);
    app.loop = &loop;
    app.late_result = 1;
    test_other_hosts(&t, &loop);
    r = http_server_new(&loop, &cfg, handler, &app, &app.srv);
    tap_ok(&t, r == 0, "server created");
    http_server_set_guard(app.srv, guard, NULL);
    r = http_server_listen(app.srv);
    x.port = http_server_port(app.srv);
    tap_ok(&t, r == 0 && x.port > 0, "listening on 127.0.0.1:%d", x.port);
    uv_async_init(&loop, &app.stop, stop_cb);
    app.stop.data = &app;
    pthread_create(&th, NULL, client_main, &x);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    tap_ok(&t, uv_loop_close(&loop) == 0, "loop closes with no handle left");
    return tap_done(&t);
}
