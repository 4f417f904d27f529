/* SPDX-License-Identifier: MIT */
/* Integration tests of worker/docker/docker_api and docker_attach against the real engine
 * (argv[1], else $RUNQ_DOCKER_SOCKET, else /var/run/docker.sock) and runq/debian:bookworm: no
 * engine or image is a failure, never a skip. _ping, /version; `cat` created, attached,
 * started, fed 100 KiB, half-closed, the bytes back on stream 1, then wait, inspect, remove
 * (timed); stdout/stderr apart; 404s; wrong sockets; cancel and close with a wait in flight.
 * A fake engine (a thread) feeds split frames, a 5 MiB frame, a cut stream, error answers.
 * Containers carry the label org.runq.test=1 and are removed at the start and the end. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "docker_api.h"
#include "docker_attach.h"
#include "loop_util.h"
#include "tap.h"

#define IMAGE "runq/debian:bookworm"
#define WAIT_MS 30000
#define INPUT_SIZE (100 * 1024)
#define LABEL_FILTER "%7B%22label%22%3A%5B%22org.runq.test%3D1%22%5D%7D" /* {"label":[...]} */

struct env {
    struct lu_loop lu;
    struct docker_api *api;
    const char *sock;
};

/* One call's outcome, copied out of its callback. */
struct call {
    int done, status;
    long http;
    json_t *body;
    char raw[512], error[512];
    uint64_t t0, ms;
    struct env *e;
};

static void on_call(int status, long http, json_t *body, const char *raw, const char *error,
                    void *data)
{
    struct call *c = data;

    c->done++;
    c->status = status;
    c->http = http;
    c->body = json_incref(body);
    snprintf(c->raw, sizeof(c->raw), "%s", raw);
    snprintf(c->error, sizeof(c->error), "%s", error);
    c->ms = (uv_hrtime() - c->t0) / 1000000;
    /* Answered in curl's timer: lu_run_until's uv_run(ONCE) must not poll until the watchdog */
    uv_stop(&c->e->lu.loop);
}

static void call_clear(struct call *c)
{
    json_decref(c->body);
    memset(c, 0, sizeof(*c));
}

/* Issues a call and waits for its callback. */
static struct call *call(struct env *e, const char *method, const char *path, json_t *body,
                         struct call *c)
{
    struct docker_call *dc = NULL;
    int r;

    call_clear(c);
    c->e = e;
    c->t0 = uv_hrtime();
    if ((r = docker_api_request(e->api, method, path, body, 0, on_call, c, &dc)) < 0) {
        c->done = 1;
        c->status = r;
        snprintf(c->error, sizeof(c->error), "request refused: %s", strerror(-r));
    }
    if (lu_run_until(&e->lu, &c->done, WAIT_MS) < 0) {
        docker_api_cancel(dc); /* c is the caller's stack: its callback must never run */
        c->status = -ETIMEDOUT;
        snprintf(c->error, sizeof(c->error), "no answer within %d ms", WAIT_MS);
    }
    json_decref(body);
    if (c->status < 0)
        tap_diag("%s %s: %d %s", method, path, c->status, c->error);
    return c;
}

/* call() on /containers/ID then rest. */
static struct call *callf(struct env *e, const char *method, const char *id, const char *rest,
                          struct call *c)
{
    char path[200];

    snprintf(path, sizeof(path), "/containers/%s%s", id, rest);
    return call(e, method, path, NULL, c);
}

/* Removes every container of this test (label org.runq.test=1). */
static void sweep(struct env *e)
{
    struct call c = {0}, d = {0};

    call(e, "GET", "/containers/json?all=1&filters=" LABEL_FILTER, NULL, &c);
    for (size_t i = 0; i < json_array_size(c.body); i++)
        callf(e, "DELETE", json_string_value(json_object_get(json_array_get(c.body, i), "Id")),
              "?force=1&v=1", &d);
    call_clear(&c);
    call_clear(&d);
}

/* Creates a container of the test; returns 0 and its id, or -1. */
static int create(struct env *e, json_t *cmd, char id[80])
{
    json_t *spec =
        json_pack("{s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:{s:s}, s:{s:s, s:b}}", "Image", IMAGE,
                  "Cmd", cmd, "OpenStdin", 1, "StdinOnce", 1, "AttachStdin", 1, "AttachStdout", 1,
                  "AttachStderr", 1, "Tty", 0, "Labels", "org.runq.test", "1", "HostConfig",
                  "NetworkMode", "none", "AutoRemove", 0);
    struct call c = {0};
    const char *s;
    int ok;

    call(e, "POST", "/containers/create", spec, &c);
    s = json_string_value(json_object_get(c.body, "Id"));
    ok = c.status == 0 && c.http == 201 && s && strlen(s) < 80;
    if (ok)
        snprintf(id, 80, "%s", s);
    tap_diag("create: HTTP %ld in %llu ms %.200s", c.http, (unsigned long long)c.ms,
             ok ? "" : c.raw);
    call_clear(&c);
    return ok ? 0 : -1;
}

/* A unix socket bound at path (an old file there removed first). */
static int bound_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    return fd;
}

/* An attach and what came through it. When start is set, on_ready starts the container and
 * feeds it input (then half-closes stdin). */
struct att {
    struct env *e;
    struct docker_attach *a;
    const char *id;
    int start, half_close, ready, ended, end_status, close_in_data, write_rc, close_stdin_rc;
    char end_error[512];
    char *out[3];
    size_t len[3], cap[3], calls[3];
    const char *input;
    size_t input_len;
    struct call started;
    struct docker_call *start_call;     /* valid until started.done */
    uint64_t open_at, ready_at, end_at; /* uv_hrtime() */
};

static void on_ready(void *data)
{
    struct att *t = data;
    char path[160];

    t->ready = 1;
    t->ready_at = uv_hrtime();
    if (!t->start)
        return;
    snprintf(path, sizeof(path), "/containers/%s/start", t->id);
    t->started.e = t->e;
    t->started.t0 = uv_hrtime();
    docker_api_request(t->e->api, "POST", path, NULL, 0, on_call, &t->started, &t->start_call);
    /* The input in three writes of unequal size, queued at once: the order must hold. */
    if (t->input) {
        size_t cut[4] = {0, 1000, t->input_len / 2, t->input_len};

        for (int i = 0; i < 3 && t->write_rc == 0; i++) {
            char *b = malloc(cut[i + 1] - cut[i]);

            memcpy(b, t->input + cut[i], cut[i + 1] - cut[i]);
            t->write_rc = docker_attach_write(t->a, b, cut[i + 1] - cut[i]);
        }
        if (t->half_close)
            t->close_stdin_rc = docker_attach_close_stdin(t->a);
    }
}

static void on_data(int stream, const char *bytes, size_t len, void *data)
{
    struct att *t = data;
    int s = stream == 1 || stream == 2 ? stream : 0;

    if (t->len[s] + len > t->cap[s]) {
        t->cap[s] = (t->len[s] + len) * 2;
        t->out[s] = realloc(t->out[s], t->cap[s]);
    }
    memcpy(t->out[s] + t->len[s], bytes, len);
    t->len[s] += len;
    t->calls[s]++;
    if (t->close_in_data) {
        docker_attach_close(t->a);
        t->a = NULL;
        t->ended = -1; /* closed by us: no on_end may follow */
    }
}

static void on_end(int status, const char *error, void *data)
{
    struct att *t = data;

    t->ended++;
    t->end_status = status;
    t->end_at = uv_hrtime();
    snprintf(t->end_error, sizeof(t->end_error), "%s", error ? error : "");
    uv_stop(&t->e->lu.loop);
}

static const struct docker_attach_cbs cbs = {on_ready, on_data, on_end};

static void att_free(struct att *t)
{
    if (t->start_call && !t->started.done)
        docker_api_cancel(t->start_call); /* a timed-out case: t is about to go */
    docker_attach_close(t->a);
    for (int i = 0; i < 3; i++)
        free(t->out[i]);
    call_clear(&t->started);
}

/* The stream ended, and the start's answer came if there was a start (a quick container's
 * stream may end before it). */
static int att_over(const void *arg)
{
    const struct att *t = arg;

    return t->ended && (!t->start_call || t->started.done);
}

/* Attaches to id at sock and runs the loop until the stream ends. */
static void attach_run(struct env *e, const char *sock, const char *id, struct att *t)
{
    t->e = e;
    t->id = id;
    t->open_at = uv_hrtime();
    if (docker_attach_open(&e->lu.loop, sock, id, &cbs, t, &t->a) < 0)
        return;
    lu_run_cond(&e->lu, att_over, t, WAIT_MS);
}

static void test_cat(struct tap *tp, struct env *e)
{
    struct att t = {0};
    struct call c = {0};
    char id[80], *in = malloc(INPUT_SIZE);
    json_t *state;

    for (size_t i = 0; i < INPUT_SIZE; i++)
        in[i] = (char)(i * 7 + (i >> 10)); /* every byte value, no period of 256 */
    if (!tap_ok(tp, create(e, json_pack("[s]", "cat"), id) == 0, "create a cat container")) {
        free(in);
        return;
    }
    t.start = t.half_close = 1;
    t.input = in;
    t.input_len = INPUT_SIZE;
    attach_run(e, e->sock, id, &t);
    tap_ok(tp, t.ready && t.started.done && t.started.http == 204,
           "attach ready, then start -> 204 (%llu ms)", (unsigned long long)t.started.ms);
    tap_ok(tp, t.write_rc == 0 && t.close_stdin_rc == 0, "3 writes and close_stdin accepted");
    tap_ok(tp, t.ended == 1 && t.end_status == 0, "on_end(0) once (%d '%s')", t.end_status,
           t.end_error);
    tap_ok(tp, t.len[1] == INPUT_SIZE && memcmp(t.out[1], in, INPUT_SIZE) == 0 && t.len[2] == 0,
           "100 KiB came back on stream 1, in order (%zu bytes in %zu pieces; stderr %zu)",
           t.len[1], t.calls[1], t.len[2]);
    tap_diag("attach open -> ready %llu ms, ready -> end %llu ms",
             (unsigned long long)(t.ready_at - t.open_at) / 1000000,
             (unsigned long long)(t.end_at - t.ready_at) / 1000000);
    tap_ok(tp, docker_attach_write(t.a, malloc(1), 1) == -EPIPE, "write after the end -> -EPIPE");
    callf(e, "POST", id, "/wait", &c);
    tap_ok(tp, c.http == 200 && json_integer_value(json_object_get(c.body, "StatusCode")) == 0,
           "wait -> 200, StatusCode 0 (%llu ms)", (unsigned long long)c.ms);
    callf(e, "GET", id, "/json", &c);
    state = json_object_get(c.body, "State");
    tap_ok(tp,
           c.http == 200 && json_integer_value(json_object_get(state, "ExitCode")) == 0 &&
               json_is_false(json_object_get(state, "OOMKilled")) &&
               strcmp(json_string_value(json_object_get(state, "Status")), "exited") == 0,
           "inspect: exited, ExitCode 0, OOMKilled false (%llu ms)", (unsigned long long)c.ms);
    callf(e, "DELETE", id, "?force=1&v=1", &c);
    tap_ok(tp, c.http == 204 && c.body == NULL && c.raw[0] == '\0',
           "remove -> 204, empty body (%llu ms)", (unsigned long long)c.ms);
    call_clear(&c);
    att_free(&t);
    free(in);
}

static void test_stderr(struct tap *tp, struct env *e)
{
    struct att t = {0};
    char id[80], *in;

    if (!tap_ok(tp,
                create(e, json_pack("[s, s, s]", "sh", "-c", "echo out; echo err >&2"), id) == 0,
                "create sh -c 'echo out; echo err >&2'"))
        return;
    /* 1 MiB of stdin it never reads, and no close_stdin: the stream ends when it exits. */
    t.start = 1;
    t.input = in = calloc(1, 1 << 20);
    t.input_len = 1 << 20;
    attach_run(e, e->sock, id, &t);
    tap_ok(tp,
           t.ended == 1 && t.end_status == 0 && t.len[1] == 4 && !memcmp(t.out[1], "out\n", 4) &&
               t.len[2] == 4 && !memcmp(t.out[2], "err\n", 4),
           "'out' on stream 1, 'err' on stream 2, on_end(0) (%d '%s') with its stdin unread",
           t.end_status, t.end_error);
    tap_diag("stdin bytes left unwritten at the end: %zu", docker_attach_pending(t.a));
    att_free(&t);
    free(in);
}

static void test_missing(struct tap *tp, struct env *e)
{
    struct att t = {0};
    struct call c = {0};
    const char *msg;

    call(e, "GET", "/containers/runq-test-no-such-container/json", NULL, &c);
    msg = json_string_value(json_object_get(c.body, "message"));
    tap_ok(tp, c.status == 0 && c.http == 404 && msg && strstr(msg, "No such container"),
           "inspect of a missing container -> 404 '%s'", msg ? msg : c.raw);
    attach_run(e, e->sock, "runq-test-no-such-container", &t);
    tap_ok(tp,
           t.ended == 1 && t.end_status == -ENOENT && !t.ready && strstr(t.end_error, "HTTP 404") &&
               strstr(t.end_error, "No such container"),
           "attach to it -> on_end(-ENOENT, '%s')", t.end_error);
    call_clear(&c);
    att_free(&t);
    tap_ok(tp, docker_attach_open(&e->lu.loop, e->sock, "a b", &cbs, &t, &t.a) == -EINVAL && !t.a,
           "an id with a space -> -EINVAL");
}

static void test_bad_socket(struct tap *tp, struct env *e)
{
    struct docker_api *good = e->api;
    struct call c = {0};
    struct att t = {0};
    char dead[64];
    int fd, closed[2] = {0, 0};

    /* Bound, never listening: a stale socket file of a dead engine. */
    snprintf(dead, sizeof(dead), "/tmp/runq-test-dead-%d.sock", (int)getpid());
    fd = bound_socket(dead);
    docker_api_open(&e->lu.loop, "/nonexistent/docker.sock", &e->api);
    call(e, "GET", "/_ping", NULL, &c);
    tap_ok(tp, c.status == -ENOENT && c.http == 0 && c.error[0], "no socket file -> -ENOENT ('%s')",
           c.error);
    docker_api_close(e->api, lu_on_closed, &closed[0]);
    docker_api_open(&e->lu.loop, dead, &e->api);
    call(e, "GET", "/_ping", NULL, &c);
    tap_ok(tp, c.status == -ECONNREFUSED, "a socket nobody listens on -> -ECONNREFUSED (%d '%s')",
           c.status, c.error);
    docker_api_close(e->api, lu_on_closed, &closed[1]);
    e->api = good;
    attach_run(e, dead, "x", &t);
    tap_ok(tp, t.ended == 1 && t.end_status == -ECONNREFUSED && !t.ready,
           "attach there -> on_end(-ECONNREFUSED, '%s')", t.end_error);
    lu_run_until(&e->lu, &closed[1], WAIT_MS); /* the first closed before: it began first */
    tap_ok(tp, closed[0] == 1 && closed[1] == 1, "both closed");
    call_clear(&c);
    att_free(&t);
    close(fd);
    unlink(dead);
}

static void test_cancel(struct tap *tp, struct env *e)
{
    struct call c = {0}, w1 = {0}, w2 = {0};
    struct docker_call *dc = NULL;
    struct docker_api *api2 = NULL;
    char id[80], path[160];
    int closed = 0, never = 0;

    if (!tap_ok(tp, create(e, json_pack("[s, s]", "sleep", "30"), id) == 0,
                "create a sleep 30 container"))
        return;
    tap_ok(tp, callf(e, "POST", id, "/start", &c)->http == 204, "start it without an attach");
    snprintf(path, sizeof(path), "/containers/%s/wait", id);
    w1.e = w2.e = e;
    tap_ok(tp, docker_api_request(e->api, "POST", path, NULL, 0, on_call, &w1, &dc) == 0 && dc,
           "a wait in flight");
    lu_run_until(&e->lu, &never, 300);
    docker_api_cancel(dc);
    tap_ok(tp, docker_api_pending(e->api) == 0, "cancelled: nothing pending");
    docker_api_open(&e->lu.loop, e->sock, &api2);
    docker_api_request(api2, "POST", path, NULL, 0, on_call, &w2, NULL);
    lu_run_until(&e->lu, &never, 300);
    docker_api_close(api2, lu_on_closed, &closed);
    lu_run_until(&e->lu, &closed, WAIT_MS);
    tap_ok(tp, closed == 1, "close with a wait in flight completes");
    tap_ok(tp, callf(e, "DELETE", id, "?force=1&v=1", &c)->http == 204,
           "force-remove the running one");
    lu_run_until(&e->lu, &never, 500);
    tap_ok(tp, w1.done == 0 && w2.done == 0, "neither wait's callback ran");
    tap_ok(tp,
           docker_api_request(e->api, "PATCH", "/x", NULL, 0, on_call, &c, NULL) == -EINVAL &&
               docker_api_request(e->api, "GET", "/a b", NULL, 0, on_call, &c, NULL) == -EINVAL &&
               docker_api_request(e->api, "GET", "x", NULL, 0, on_call, &c, NULL) == -EINVAL,
           "a bad method or path -> -EINVAL");
    call_clear(&c);
}

/* ---- a fake engine: one connection, a scripted answer sent in pieces ---- */

struct fake {
    int fd;
    char path[108], request[2048];
    const char *bytes;
    size_t len;
    const size_t *cuts; /* piece lengths, 0-terminated; the rest is the last piece */
    pthread_t th;
};

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    int c = accept(f->fd, NULL, NULL);
    size_t got = 0, at = 0;
    ssize_t n;

    memset(f->request, 0, sizeof(f->request));
    while (got < sizeof(f->request) - 1 && !strstr(f->request, "\r\n\r\n") &&
           (n = read(c, f->request + got, sizeof(f->request) - 1 - got)) > 0)
        got += (size_t)n;
    for (int i = 0; at < f->len; i++) {
        size_t piece = f->cuts && f->cuts[i] ? f->cuts[i] : f->len - at;

        if (write(c, f->bytes + at, piece) < 0)
            break;
        at += piece;
        usleep(20000); /* each piece its own read */
    }
    close(c);
    return NULL;
}

/* Serves bytes, cut in pieces, to an attach (t) or, t NULL, to a GET through a docker_api of
 * its own (c). t is reset first but for close_in_data. */
static void fake_run(struct env *e, const char *bytes, size_t len, const size_t *cuts,
                     struct att *t, struct call *c, struct fake *f)
{
    struct docker_api *good = e->api;
    int closed = 0;

    snprintf(f->path, sizeof(f->path), "/tmp/runq-test-fake-%d.sock", (int)getpid());
    f->fd = bound_socket(f->path);
    listen(f->fd, 1);
    f->bytes = bytes;
    f->len = len;
    f->cuts = cuts;
    pthread_create(&f->th, NULL, fake_serve, f);
    if (t) {
        int close_in_data = t->close_in_data;

        att_free(t);
        memset(t, 0, sizeof(*t));
        t->close_in_data = close_in_data;
        attach_run(e, f->path, "abc", t);
    } else {
        docker_api_open(&e->lu.loop, f->path, &e->api);
        call(e, "GET", "/x", NULL, c);
        docker_api_close(e->api, lu_on_closed, &closed);
        lu_run_until(&e->lu, &closed, WAIT_MS);
        e->api = good;
    }
    pthread_join(f->th, NULL);
    close(f->fd);
    unlink(f->path);
}

#define UP "HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n"
#define NF                                                                                         \
    "HTTP/1.1 404 Not Found\r\nContent-Length: 37\r\n\r\n{\"message\":\"No such container: "       \
    "abc\"}\n"

static void test_fake(struct tap *tp, struct env *e)
{
    static const char st[] = UP "\x01\0\0\0\0\0\0\x05hello\x02\0\0\0\0\0\0\x03"
                                "err\x01\0\0\0\0\0\0\x00\x01\0\0\0\0\0\0\x01!";
    static const char cut_frame[] = UP "\x01\0\0\0\0\0\0\x09"
                                       "abc";
    static const char nf[] = NF "   (past Content-Length)";
    /* Cut inside the status line, between CR and LF, in a frame header, in a payload. */
    static const size_t cuts[] = {16, 22, 4, 8, 2, 0};
    size_t big = 5u << 20, hl = sizeof(UP) - 1;
    char *buf = calloc(1, hl + 8 + big);
    struct att t = {0};
    struct call c = {0};
    struct fake f;

    fake_run(e, st, sizeof(st) - 1, cuts, &t, NULL, &f);
    tap_ok(tp,
           !strcmp(f.request, "POST /v1.41/containers/abc/attach?stream=1&stdin=1&stdout=1&"
                              "stderr=1 HTTP/1.1\r\nHost: docker\r\nUser-Agent: runq-worker\r\n"
                              "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"),
           "fake engine: the attach request as the docker CLI makes it");
    tap_ok(tp,
           t.ready && t.end_status == 0 && t.len[1] == 6 && !memcmp(t.out[1], "hello!", 6) &&
               t.len[2] == 3 && !memcmp(t.out[2], "err", 3),
           "head and frames cut anywhere, an empty frame: 'hello!', 'err', end 0 (%d '%s')",
           t.end_status, t.end_error);
    memcpy(buf, UP "\x01\0\0\0\0\x50\0\0", hl + 8); /* a 5 MiB stdout frame */
    memset(buf + hl + 8, 'x', big);
    fake_run(e, buf, hl + 8 + big, NULL, &t, NULL, &f);
    tap_ok(tp, t.len[1] == big && t.calls[1] > 1 && t.end_status == 0,
           "a 5 MiB frame passed through in %zu pieces", t.calls[1]);
    fake_run(e, cut_frame, sizeof(cut_frame) - 1, NULL, &t, NULL, &f);
    tap_ok(tp, t.ready && t.ended == 1 && t.end_status == -EIO && t.len[1] == 3,
           "a frame in the read of the head is data; EOF inside it -> -EIO ('%s')", t.end_error);
    fake_run(e, nf, sizeof(nf) - 1, NULL, &t, NULL, &f);
    tap_ok(tp,
           t.end_status == -ENOENT &&
               !strcmp(t.end_error, "HTTP 404 Not Found: No such container: abc"),
           "404 with a JSON body and Content-Length -> '%s'", t.end_error);
    fake_run(e, "SSH-2.0-OpenSSH\r\n\r\n", 19, NULL, &t, NULL, &f);
    tap_ok(tp, t.end_status == -EPROTO, "not HTTP -> -EPROTO ('%s')", t.end_error);
    t.close_in_data = 1;
    fake_run(e, st, sizeof(st) - 1, cuts, &t, NULL, &f);
    tap_ok(tp, t.calls[1] == 1 && t.ended == -1, "closed from on_data: no callback after it");
    att_free(&t);
    memcpy(buf, "HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n", 44);
    fake_run(e, buf, 44 + big, NULL, NULL, &c, &f);
    tap_ok(tp, c.status == -EMSGSIZE && c.http == 0 && !c.body,
           "docker_api: a 5 MiB answer -> -EMSGSIZE ('%s')", c.error);
    call_clear(&c);
    free(buf);
}

int main(int argc, char **argv)
{
    struct tap tp = {0};
    struct env e = {0};
    struct call c = {0};
    int closed = 0, loop_rc;

    alarm(170);
    signal(SIGPIPE, SIG_IGN); /* docker_attach.h: what runq-worker's main() must do */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e.sock = argc > 1 ? argv[1] : getenv("RUNQ_DOCKER_SOCKET");
    if (!e.sock)
        e.sock = "/var/run/docker.sock";
    lu_init(&e.lu);
    tap_ok(&tp,
           docker_api_open(&e.lu.loop, e.sock, &e.api) == 0 &&
               !strcmp(docker_api_socket(e.api), e.sock),
           "open %s", e.sock);
    call(&e, "GET", "/_ping", NULL, &c);
    if (!tap_ok(&tp, c.status == 0 && c.http == 200 && !strcmp(c.raw, "OK") && !c.body,
                "_ping -> 200 OK, not JSON (%d %ld '%s')", c.status, c.http, c.raw)) {
        tap_diag("FAIL: no Docker engine answers on %s (%s); start one: cli/runq-docker engine",
                 e.sock, c.error);
        return tap_done(&tp);
    }
    call(&e, "GET", "/version", NULL, &c);
    tap_ok(&tp, c.http == 200 && json_string_value(json_object_get(c.body, "ApiVersion")),
           "/version: engine %s, API %s", json_string_value(json_object_get(c.body, "Version")),
           json_string_value(json_object_get(c.body, "ApiVersion")));
    call(&e, "GET", "/images/" IMAGE "/json", NULL, &c);
    if (!tap_ok(&tp, c.http == 200, "image " IMAGE " is there (HTTP %ld)", c.http)) {
        tap_diag("FAIL: import it first: cli/runq-docker base");
        return tap_done(&tp);
    }
    sweep(&e); /* what a killed run left */
    test_cat(&tp, &e);
    test_stderr(&tp, &e);
    test_missing(&tp, &e);
    test_bad_socket(&tp, &e);
    test_cancel(&tp, &e);
    test_fake(&tp, &e);
    sweep(&e);
    call(&e, "GET", "/containers/json?all=1&filters=" LABEL_FILTER, NULL, &c);
    tap_ok(&tp, c.http == 200 && json_array_size(c.body) == 0, "no test container left");
    call_clear(&c);
    docker_api_close(e.api, lu_on_closed, &closed);
    loop_rc = lu_close(&e.lu);
    tap_ok(&tp, closed == 1 && loop_rc == 0, "api closed, every handle closed");
    curl_global_cleanup();
    return tap_done(&tp);
}
