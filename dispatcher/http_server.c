/* SPDX-License-Identifier: MIT */
/* http_server: see http_server.h. One struct conn per TCP connection (a tcp handle, one timer
 * whose meaning follows the connection's phase, and an idle handle that resumes processing
 * on the next loop turn after an asynchronous answer, so user code is never re-entered from
 * http_respond). Responses are written in order with one uv_write per piece. A connection
 * that must close shuts down its write side after the last write, then drains unread input
 * for linger_ms: closing with unread data would reset the connection and could destroy the
 * response before the client reads it. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"

#define READ_CHUNK 16384
#define READ_CAP 65536 /* buffered pipelined input while a request is being answered */
#define MAX_EXTRA 8

enum { T_NONE, T_IDLE, T_REQUEST, T_LINGER };
enum { EX_HANDLER, EX_STREAM, EX_DONE };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_idle_t kick;
    struct http_server *srv;
    struct conn *prev, *next;
    struct http_request_parser parser;
    char *in;
    size_t in_len, in_off, in_cap;
    struct http_exchange *ex; /* being answered, or NULL */
    int handles, timer_mode;
    size_t writes; /* uv_write requests in flight */
    unsigned reading : 1, closing : 1, close_after_write : 1, shut : 1, in_process : 1;
};

struct http_exchange {
    struct conn *conn;                 /* NULL once the client went away */
    struct http_request_parser parser; /* owns the request: taken over from the connection */
    const struct http_request *req;
    int state, keep_alive, head_only, chunked, in_close_cb;
    http_exchange_close_cb close_cb;
    void *close_data;
    struct http_header extra[MAX_EXTRA];
    size_t nextra;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t shutdown_timer;
    struct http_server_config cfg;
    http_handler handler;
    void *ctx;
    http_guard guard;
    void *guard_ctx;
    struct conn *conns;
    size_t nconns;
    int closing, listener_closed;
    http_server_close_cb close_cb;
    void *close_data;
};

static void process(struct conn *c);
static void conn_close(struct conn *c);
static void set_timer(struct conn *c, int mode);
static void begin_shutdown(struct conn *c);
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void server_maybe_done(struct http_server *srv);

static void ex_free(struct http_exchange *ex)
{
    size_t i;

    for (i = 0; i < ex->nextra; i++) {
        free((char *)ex->extra[i].name);
        free((char *)ex->extra[i].value);
    }
    http_request_close(&ex->parser);
    free(ex);
}

static void write_cb(uv_write_t *req, int status)
{
    struct conn *c = req->handle->data;

    free(req->data);
    free(req);
    c->writes--;
    if (c->closing)
        return;
    if (status < 0)
        conn_close(c);
    else if (c->close_after_write && c->writes == 0 && !c->ex)
        begin_shutdown(c); /* the last response is out (a stream may still be going) */
}

/* Queues b->data (taken over; b is emptied). */
static int conn_write(struct conn *c, struct http_buf *b)
{
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t buf = uv_buf_init(b->data, (unsigned int)b->len);
    int r = -ENOMEM;

    if (w) {
        w->data = b->data;
        r = uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, write_cb);
    }
    if (r < 0) {
        free(b->data);
        free(w);
    } else {
        c->writes++;
    }
    memset(b, 0, sizeof(*b));
    return r;
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;

    free(req);
    if (!c->closing && status < 0)
        conn_close(c);
}

/* Everything is written: send FIN, then drain input until EOF or the linger timeout. */
static void begin_shutdown(struct conn *c)
{
    uv_shutdown_t *req;

    if (c->shut || c->closing)
        return;
    c->shut = 1;
    set_timer(c, T_LINGER);
    req = malloc(sizeof(*req));
    if (req)
        req->data = c;
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) < 0) {
        free(req);
        conn_close(c);
        return;
    }
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
        c->reading = 1;
}

/* {"error": {...}} as malloc'ed text, or NULL. The message may quote client bytes: anything
 * but printable ASCII becomes '?'. */
static char *error_text(const char *code, const char *message, const char *field)
{
    char msg[256], *text;
    size_t i;
    json_t *j;

    for (i = 0; message[i] && i < sizeof(msg) - 1; i++)
        msg[i] = message[i] >= ' ' && message[i] < 127 ? message[i] : '?';
    msg[i] = '\0';
    j = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", msg, "field",
                  field ? json_string(field) : json_null());
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* An error of the connection itself (bad request, timeout): answered, then closed. */
static void send_error(struct conn *c, int status, const char *code, const char *message)
{
    static const struct http_header ct = {"Content-Type", "application/json", 16};
    struct http_buf b = {0};
    char *text = error_text(code, message, NULL);

    c->close_after_write = 1;
    if (!text || http_response_format(status, &ct, 1, text, strlen(text), 0, &b) < 0 ||
        conn_write(c, &b) < 0) {
        free(b.data);
        conn_close(c);
    } else if (c->writes == 0) {
        begin_shutdown(c);
    }
    free(text);
}

static void timer_cb(uv_timer_t *t)
{
    struct conn *c = t->data;

    if (c->timer_mode == T_REQUEST && http_request_started(&c->parser)) {
        c->timer_mode = T_NONE;
        send_error(c, 408, "request_timeout", "the request did not arrive in time");
    } else {
        conn_close(c); /* idle, never started, or done lingering */
    }
}

static void set_timer(struct conn *c, int mode)
{
    const struct http_server_config *cfg = &c->srv->cfg;
    uint64_t ms = mode == T_IDLE      ? cfg->idle_timeout_ms
                  : mode == T_REQUEST ? cfg->request_timeout_ms
                                      : cfg->linger_ms;

    c->timer_mode = mode;
    if (mode == T_NONE)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, timer_cb, ms, 0);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct http_server *srv = c->srv;

    if (--c->handles > 0)
        return;
    http_request_close(&c->parser);
    free(c->in);
    free(c);
    srv->nconns--;
    server_maybe_done(srv);
}

/* Closes now (the client went away, a write failed, or a timeout). The exchange, if any, is
 * detached: its close callback runs and frees it, or its owner finishes it later. */
static void conn_close(struct conn *c)
{
    struct http_exchange *ex = c->ex;

    if (c->closing)
        return;
    c->closing = 1;
    c->ex = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (ex) {
        ex->conn = NULL;
        if (ex->close_cb) {
            ex->in_close_cb = 1;
            ex->close_cb(ex, ex->close_data);
            ex_free(ex);
        }
    }
    c->handles = 3;
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
    uv_close((uv_handle_t *)&c->kick, conn_handle_closed);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = h->data;

    if (c->in_cap - c->in_len < READ_CHUNK) {
        char *in = realloc(c->in, c->in_len + READ_CHUNK);

        if (!in) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->in = in;
        c->in_cap = c->in_len + READ_CHUNK;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned int)(c->in_cap - c->in_len));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;

    if (nread == UV_EOF && !c->ex && c->writes > 0 && !c->shut) {
        uv_read_stop(s); /* half-closed: let the queued responses out first */
        c->reading = 0;
        c->close_after_write = 1;
        return;
    }
    if (nread < 0) {
        conn_close(c); /* EOF or error: the client is gone (a half-close counts as gone) */
        return;
    }
    if (nread == 0 || c->shut || c->close_after_write)
        return; /* the connection is closing: further input is discarded */
    c->in_len += (size_t)nread;
    if (c->ex && c->in_len - c->in_off > READ_CAP) {
        uv_read_stop(s); /* a pipelining client is far ahead: wait for the answers */
        c->reading = 0;
    }
    process(c);
}

static void kick_cb(uv_idle_t *h)
{
    struct conn *c = h->data;

    uv_idle_stop(h);
    if (!c->closing && !c->reading && !c->shut &&
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
        c->reading = 1;
    process(c);
}

/* ex is answered: the connection moves on to the next request (or closes). */
static void finish(struct http_exchange *ex)
{
    struct conn *c = ex->conn;

    if (!ex->keep_alive || c->srv->closing)
        c->close_after_write = 1;
    ex_free(ex);
    c->ex = NULL;
    if (!c->close_after_write) {
        set_timer(c, T_IDLE);
        if (!c->in_process)
            uv_idle_start(&c->kick, kick_cb);
    } else if (c->writes == 0) {
        begin_shutdown(c);
    }
}

static void dispatch(struct conn *c)
{
    struct http_server *srv = c->srv;
    struct http_exchange *ex = calloc(1, sizeof(*ex));

    if (!ex) {
        send_error(c, 500, "internal_error", "out of memory");
        return;
    }
    /* The request's buffers move to the exchange, which may outlive the connection. */
    ex->parser = c->parser;
    http_request_init(&c->parser, &srv->cfg.limits);
    ex->req = http_request_get(&ex->parser);
    ex->conn = c;
    ex->keep_alive = ex->req->keep_alive && !srv->closing;
    ex->head_only = ex->req->method_id == HTTP_HEAD;
    c->ex = ex;
    if (srv->guard && srv->guard(ex, srv->guard_ctx) != 0) {
        if (c->ex == ex)
            http_respond_error(ex, 403, "forbidden", "request refused", NULL);
        return;
    }
    srv->handler(ex, srv->ctx);
}

static void process(struct conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    size_t used;
    int r;

    if (c->in_process)
        return;
    c->in_process = 1;
    while (!c->closing && !c->ex && !c->close_after_write && c->in_off < c->in_len) {
        r = http_request_feed(&c->parser, c->in + c->in_off, c->in_len - c->in_off, &used);
        c->in_off += used;
        if (r == HTTP_REQUEST_NEED_MORE) {
            if (http_request_started(&c->parser) && c->timer_mode != T_REQUEST)
                set_timer(c, T_REQUEST);
        } else if (r == HTTP_REQUEST_CONTINUE) {
            struct http_buf b = {0};

            if (http_buf_append(&b, cont, sizeof(cont) - 1) < 0 || conn_write(c, &b) < 0)
                conn_close(c);
        } else if (r == HTTP_REQUEST_COMPLETE) {
            set_timer(c, T_NONE);
            dispatch(c);
        } else {
            const struct http_request_error *e = http_request_error(&c->parser);

            send_error(c, e->status, e->code, e->message);
        }
    }
    if (!c->closing && c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    else if (!c->closing && c->in_off > READ_CHUNK) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    c->in_process = 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct conn *c;

    if (status < 0 || srv->closing || !(c = calloc(1, sizeof(*c))))
        return;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    uv_idle_init(srv->loop, &c->kick);
    c->tcp.data = c->timer.data = c->kick.data = c;
    http_request_init(&c->parser, &srv->cfg.limits);
    srv->nconns++;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 || srv->nconns > srv->cfg.max_connections) {
        conn_close(c); /* over the cap: accepted and closed at once */
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) < 0) {
        conn_close(c);
        return;
    }
    c->reading = 1;
    set_timer(c, T_REQUEST);
}

/* ---- the handler's side ---- */

const struct http_request *http_exchange_request(const struct http_exchange *ex)
{
    return ex->req;
}

void http_exchange_on_close(struct http_exchange *ex, http_exchange_close_cb cb, void *data)
{
    ex->close_cb = cb;
    ex->close_data = data;
}

int http_exchange_add_header(struct http_exchange *ex, const char *name, const char *value)
{
    struct http_header h = {name, value, 0};

    if (ex->state != EX_HANDLER || !http_header_valid(&h))
        return -EINVAL;
    if (ex->nextra == MAX_EXTRA)
        return -ENOSPC;
    h.name = strdup(name);
    h.value = strdup(value);
    if (!h.name || !h.value) {
        free((char *)h.name);
        free((char *)h.value);
        return -ENOMEM;
    }
    ex->extra[ex->nextra++] = h;
    return 0;
}

/* 0 if ex may take a call made in state want, else why not. */
static int ex_check(const struct http_exchange *ex, int want, const char *ctype)
{
    if (ex->in_close_cb || (ex->state == want && !ex->conn && want == EX_STREAM))
        return -ECONNRESET;
    if (ex->state != want || (ctype && strpbrk(ctype, "\r\n")))
        return -EINVAL;
    return 0;
}

/* Formats and queues the head (+ body) of ex's response. */
static int send_head(struct http_exchange *ex, int status, const char *ctype, int64_t length,
                     const char *body, size_t len, int stream)
{
    struct http_header h[MAX_EXTRA + 2];
    struct http_buf b = {0};
    struct conn *c = ex->conn;
    size_t n = 0;
    int r;

    if (c->srv->closing)
        ex->keep_alive = 0;
    if (ctype)
        h[n++] = (struct http_header){"Content-Type", ctype, 0};
    if (stream)
        h[n++] = (struct http_header){"Cache-Control", "no-cache", 0};
    memcpy(h + n, ex->extra, ex->nextra * sizeof(h[0]));
    n += ex->nextra;
    r = http_response_format_head(status, h, n, length, ex->keep_alive, &b);
    if (r == 0 && body && len && !ex->head_only)
        r = http_buf_append(&b, body, len);
    if (r < 0) {
        free(b.data);
        return r;
    }
    if (length == HTTP_BODY_UNTIL_CLOSE)
        ex->keep_alive = 0;
    r = conn_write(c, &b);
    if (r < 0)
        ex->keep_alive = 0; /* the connection is unusable: close it after what is queued */
    return r;
}

int http_respond(struct http_exchange *ex, int status, const char *content_type, const char *body,
                 size_t len)
{
    int r = ex_check(ex, EX_HANDLER, content_type);

    if (r < 0 || status < 100 || status > 599)
        return r < 0 ? r : -EINVAL;
    if (!ex->conn) {
        ex_free(ex);
        return -ECONNRESET;
    }
    ex->state = EX_DONE;
    r = send_head(ex, status, content_type, (int64_t)len, body, len, 0);
    if (r == -ENOMEM) {
        ex->keep_alive = 0;
        send_head(ex, 500, NULL, 0, NULL, 0, 0);
    }
    finish(ex);
    return r;
}

int http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message,
                       const char *field)
{
    char *text = error_text(code, message, field);
    int r = http_respond(ex, status, "application/json", text ? text : "", text ? strlen(text) : 0);
    free(text);
    return r;
}

int http_stream_start(struct http_exchange *ex, int status, const char *content_type)
{
    int r = ex_check(ex, EX_HANDLER, content_type);

    if (r < 0 || status < 100 || status > 599)
        return r < 0 ? r : -EINVAL;
    if (!ex->conn)
        return -ECONNRESET;
    ex->chunked = ex->req->http_minor >= 1;
    r = send_head(ex, status, content_type, ex->chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE,
                  NULL, 0, 1);
    if (r == 0)
        ex->state = EX_STREAM;
    return r;
}

int http_stream_write(struct http_exchange *ex, const char *data, size_t len)
{
    struct http_buf b = {0};
    struct conn *c = ex->conn;
    int r = ex_check(ex, EX_STREAM, NULL);

    if (r < 0)
        return r;
    if (len == 0 || ex->head_only)
        return 0;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > c->srv->cfg.max_write_queue)
        return -ENOBUFS;
    r = ex->chunked ? http_chunk_format(data, len, &b) : http_buf_append(&b, data, len);
    if (r == 0)
        return conn_write(c, &b);
    free(b.data);
    return r;
}

int http_stream_end(struct http_exchange *ex)
{
    struct http_buf b = {0};

    if (ex->in_close_cb || ex->state != EX_STREAM)
        return ex->in_close_cb ? -ECONNRESET : -EINVAL;
    if (!ex->conn) {
        ex_free(ex);
        return -ECONNRESET;
    }
    ex->state = EX_DONE;
    if (ex->chunked && !ex->head_only &&
        (http_chunk_format(NULL, 0, &b) < 0 || conn_write(ex->conn, &b) < 0)) {
        free(b.data);
        ex->keep_alive = 0;
    }
    finish(ex);
    return 0;
}

/* ---- the server ---- */

int http_server_new(uv_loop_t *loop, const struct http_server_config *cfg, http_handler handler,
                    void *ctx, struct http_server **out)
{
    struct http_server *srv;
    struct http_request_parser probe;

    *out = NULL;
    if (!loop || !cfg || !handler)
        return -EINVAL;
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->handler = handler;
    srv->ctx = ctx;
    http_request_init(&probe, &cfg->limits); /* fills in the default limits */
    srv->cfg.limits = probe.limits;
    http_request_close(&probe);
#define DEFAULT(f, v) (srv->cfg.f = srv->cfg.f ? srv->cfg.f : (v))
    DEFAULT(idle_timeout_ms, 5000);
    DEFAULT(request_timeout_ms, 10000);
    DEFAULT(linger_ms, 1000);
    DEFAULT(shutdown_timeout_ms, 10000);
    DEFAULT(max_connections, 1024);
    DEFAULT(max_write_queue, 1024 * 1024);
    DEFAULT(backlog, 511);
#undef DEFAULT
    if (!srv->cfg.host || strcmp(srv->cfg.host, "localhost") == 0)
        srv->cfg.host = "127.0.0.1"; /* no resolver: getaddrinfo would block the loop */
    uv_tcp_init(loop, &srv->listener);
    uv_timer_init(loop, &srv->shutdown_timer);
    srv->listener.data = srv->shutdown_timer.data = srv;
    *out = srv;
    return 0;
}

void http_server_set_guard(struct http_server *srv, http_guard guard, void *ctx)
{
    srv->guard = guard;
    srv->guard_ctx = ctx;
}

int http_server_listen(struct http_server *srv)
{
    struct sockaddr_storage ss;
    int r;

    if (srv->cfg.port < 0 || srv->cfg.port > 65535)
        return -EINVAL;
    if (uv_ip4_addr(srv->cfg.host, srv->cfg.port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(srv->cfg.host, srv->cfg.port, (struct sockaddr_in6 *)&ss) != 0)
        return -EINVAL;
    r = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->listener, srv->cfg.backlog, on_connection);
    return r;
}

int http_server_port(const struct http_server *srv)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss), r;

    r = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
    if (r < 0)
        return r;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

size_t http_server_connections(const struct http_server *srv)
{
    return srv->nconns;
}

static void shutdown_timer_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    if (srv->close_cb)
        srv->close_cb(srv, srv->close_data);
    free(srv);
}

static void server_maybe_done(struct http_server *srv)
{
    if (srv->closing && srv->nconns == 0 && srv->listener_closed &&
        !uv_is_closing((uv_handle_t *)&srv->shutdown_timer))
        uv_close((uv_handle_t *)&srv->shutdown_timer, shutdown_timer_closed);
}

static void listener_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    srv->listener_closed = 1;
    server_maybe_done(srv);
}

static void shutdown_timeout(uv_timer_t *t)
{
    struct http_server *srv = t->data;

    while (srv->conns)
        conn_close(srv->conns);
}

void http_server_close(struct http_server *srv, http_server_close_cb cb, void *data)
{
    struct conn *c, *next;

    srv->closing = 1;
    srv->close_cb = cb;
    srv->close_data = data;
    uv_close((uv_handle_t *)&srv->listener, listener_closed);
    for (c = srv->conns; c; c = next) {
        next = c->next;
        if (c->ex) {
            continue; /* answered, then closed (see finish) */
        } else if (!http_request_started(&c->parser)) {
            if (c->writes == 0)
                conn_close(c); /* idle */
            else
                c->close_after_write = 1; /* a last response is still being written */
        }
    }
    uv_timer_start(&srv->shutdown_timer, shutdown_timeout, srv->cfg.shutdown_timeout_ms, 0);
}
