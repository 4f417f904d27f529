/* SPDX-License-Identifier: MIT */
/* http_server: the libuv adapter around http_request. Listens, reads requests, hands each
 * complete one to a single handler (after an optional guard), and writes what the handler
 * answers: a whole response now or later, or a stream (Server-Sent Events).
 * Does: keep-alive with an idle timeout, a request timeout (408), connection cap, pipelining
 * in order, JSON errors for bad requests, graceful close.
 * Must not: block the loop, route, or know about jobs, Redis or tokens (that sits in the
 * handler and the guard).
 *
 * Ownership of a struct http_exchange (the one rule a handler must follow):
 *  - The server creates it and passes it to the guard and the handler. It stays valid until
 *    the owner finishes it with http_respond(), http_respond_error() or http_stream_end():
 *    after that call returns, the pointer must not be used again.
 *  - If the client goes away first and a close callback was set (http_exchange_on_close),
 *    the callback runs once, and the exchange is freed when it returns: the owner drops its
 *    pointer there and never finishes it. Calls made from inside the callback return
 *    -ECONNRESET and do nothing.
 *  - Without a close callback the exchange outlives the connection: the owner still finishes
 *    it, and that call frees it and returns -ECONNRESET.
 *  - The request (http_exchange_request) lives as long as the exchange.
 *  - A client that half-closes (EOF) is treated as gone: responses already queued are still
 *    written, an exchange still being answered is detached as above.
 * Every function here must be called on the loop's thread. */
#ifndef RUNQ_DISPATCHER_HTTP_SERVER_H
#define RUNQ_DISPATCHER_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_request.h"

struct http_server;
struct http_exchange;

/* Called once per complete request, in order per connection: the next pipelined request of a
 * connection is read only after this one's response was finished (or its stream ended). */
typedef void (*http_handler)(struct http_exchange *ex, void *ctx);

/* Called before the handler. Returns 0 to let the handler run, or nonzero when it answered
 * itself (e.g. http_respond_error(ex, 401, ...)); if it returned nonzero without answering,
 * the server answers 403. */
typedef int (*http_guard)(struct http_exchange *ex, void *ctx);

typedef void (*http_exchange_close_cb)(struct http_exchange *ex, void *data);
typedef void (*http_server_close_cb)(struct http_server *server, void *data);

/* 0 in a field = its default. */
struct http_server_config {
    const char *host;             /* IPv4/IPv6 literal or "localhost"; NULL = "127.0.0.1" */
    int port;                     /* 0 = any free port (see http_server_port) */
    struct http_limits limits;    /* see http_request.h */
    uint64_t idle_timeout_ms;     /* keep-alive wait for the next request: 5000 */
    uint64_t request_timeout_ms;  /* a request's headers and body must arrive within: 10000 */
    uint64_t linger_ms;           /* unread input drained after the last response: 1000 */
    uint64_t shutdown_timeout_ms; /* after http_server_close, cut what is left: 10000 */
    size_t max_connections;       /* more are accepted and closed at once: 1024 */
    size_t max_write_queue;       /* bytes queued on a stream before -ENOBUFS: 1 MiB */
    int backlog;                  /* listen(2) backlog: 511 */
};

/* Allocates a server on loop (nothing is bound yet). handler must not be NULL. Returns 0 with
 * *out set, or -EINVAL / -ENOMEM. Free it with http_server_close(), even if listen failed. */
int http_server_new(uv_loop_t *loop, const struct http_server_config *cfg, http_handler handler,
                    void *ctx, struct http_server **out);

/* Installs (or with NULL removes) the guard called before the handler. Default: none. */
void http_server_set_guard(struct http_server *server, http_guard guard, void *ctx);

/* Binds cfg->host:cfg->port and listens. Returns 0 or a negative errno (-EADDRINUSE, ...). */
int http_server_listen(struct http_server *server);

/* The bound port (useful after port 0), or a negative errno. */
int http_server_port(const struct http_server *server);

/* Open connections. */
size_t http_server_connections(const struct http_server *server);

/* Stops listening and closes idle connections; requests in flight get their response (sent
 * with Connection: close). After shutdown_timeout_ms the rest are closed (close callbacks
 * run). When everything is closed, cb(server, data) runs (cb may be NULL) and the server is
 * freed when it returns. Call it once. */
void http_server_close(struct http_server *server, http_server_close_cb cb, void *data);

/* The request being answered (see http_request.h). */
const struct http_request *http_exchange_request(const struct http_exchange *ex);

/* Adds a response header (copied), e.g. WWW-Authenticate or Location; at most 8. Must come
 * before the response. Returns 0, -EINVAL (bad or framing header) or -ENOSPC / -ENOMEM. */
int http_exchange_add_header(struct http_exchange *ex, const char *name, const char *value);

/* Sets the callback run if the client goes away before the exchange is finished (see the
 * ownership rule above). cb NULL removes it. */
void http_exchange_on_close(struct http_exchange *ex, http_exchange_close_cb cb, void *data);

/* Answers with body[0..len) (copied; no body is sent for HEAD) and finishes ex. content_type
 * may be NULL. Returns 0; -ECONNRESET (client gone; ex freed); -EINVAL (already answered or
 * streaming, status outside 100..599, CR/LF in content_type: ex is NOT finished then); or
 * -ENOMEM or a write error (ex finished; a 500 is attempted on -ENOMEM). */
int http_respond(struct http_exchange *ex, int status, const char *content_type, const char *body,
                 size_t len);

/* Answers {"error": {"code": code, "message": message, "field": field or null}}. */
int http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message,
                       const char *field);

/* Sends the head of a streamed response (chunked on HTTP/1.1; on 1.0 the body ends with the
 * connection) with Cache-Control: no-cache. The exchange stays open until http_stream_end.
 * Returns 0, -EINVAL (as http_respond; nothing sent) or -ECONNRESET (client gone, nothing
 * sent: finish ex with http_respond, which frees it). */
int http_stream_start(struct http_exchange *ex, int status, const char *content_type);

/* Queues data[0..len) (copied). Returns 0, -ECONNRESET (client gone, ex still to be
 * finished by http_stream_end), -ENOBUFS (the client reads too slowly: more than
 * max_write_queue bytes are queued; nothing was queued) or -EINVAL (no stream started). */
int http_stream_write(struct http_exchange *ex, const char *data, size_t len);

/* Ends the stream and finishes ex. Returns 0 or -ECONNRESET (ex freed either way), or
 * -EINVAL (no stream started; ex not finished). */
int http_stream_end(struct http_exchange *ex);

#endif
