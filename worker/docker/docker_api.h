/* SPDX-License-Identifier: MIT */
/* docker_api: the Docker Engine API's JSON calls (create, start, wait, inspect, kill,
 * remove, list, version, _ping ...) over the engine's unix socket, from the worker's libuv
 * loop, through curl_uv (libcurl's multi socket API). Connections are reused between calls.
 * Does: prefix the API version (/v1.41: Docker 20.10, the engine this was written against;
 * newer engines serve it too), send a JSON body with Content-Type: application/json, bound
 * each call's time and its response body (4 MiB), parse the answer as JSON, report each call
 * once unless it was cancelled, and tell "no engine" apart from other failures.
 * Must not: block the loop, install signal handlers (CURLOPT_NOSIGNAL), use proxies from the
 * environment, call a callback from inside docker_api_request(), or know what a call means
 * (docker_pool does): the HTTP status is the caller's to judge.
 * The attach stream is not a call: docker_attach speaks it, on its own connection.
 * Requires: curl_global_init() was called once in main() before docker_api_open(). */
#ifndef RUNQ_WORKER_DOCKER_API_H
#define RUNQ_WORKER_DOCKER_API_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#define DOCKER_API_VERSION "v1.41"
#define DOCKER_API_TIMEOUT_MS 60000
#define DOCKER_API_BODY_MAX (4u << 20)

struct docker_api;
struct docker_call;

/* status: 0 when an HTTP answer came (http_status set, body = parsed JSON or NULL when the
 * body was empty or not JSON; raw = the body text, NUL-terminated, valid during the call),
 * or -errno for a transport failure with a text in `error` (http_status 0, body NULL, raw
 * ""): -ENOENT (no socket at the path), -ECONNREFUSED (nobody listens on it), -EACCES,
 * -ETIMEDOUT (timeout_ms passed), -EMSGSIZE (the body passed DOCKER_API_BODY_MAX), -EIO (the
 * connection broke, or an answer that is not HTTP), -ENOMEM. error is "" when status is 0.
 * The callee owns nothing after return (decref/copy what you keep). The call is freed
 * before cb runs: forget its docker_call pointer there. */
typedef void (*docker_api_cb)(int status, long http_status, json_t *body, const char *raw,
                              const char *error, void *data);

/* socket_path is copied. Returns 0 with *out set, -EINVAL (no loop or path, or a path too
 * long for a unix socket), -ENOMEM. Nothing connects before the first request. */
int docker_api_open(uv_loop_t *loop, const char *socket_path, struct docker_api **out);

/* method "GET"/"POST"/"DELETE" (also "PUT", "HEAD"); path like "/containers/create?name=x"
 * (already URL-encoded; printable ASCII, no spaces): the module prefixes the API version
 * "/v1.41". body JSON or NULL (sent with Content-Type: application/json; a POST without one
 * sends an empty body). timeout_ms 0 = the default (DOCKER_API_TIMEOUT_MS), connect to the
 * last byte: a /containers/{id}/wait needs one longer than the container may run. *out (may
 * be NULL) lets the caller cancel. cb runs exactly once, never from inside this call, unless
 * the call is cancelled. Returns 0, or without calling cb: -EINVAL (no cb, an unknown method,
 * a bad path), -ENOMEM, -ESHUTDOWN while closing. */
int docker_api_request(struct docker_api *d, const char *method, const char *path,
                       const json_t *body, uint64_t timeout_ms, docker_api_cb cb, void *data,
                       struct docker_call **out);

/* The call's cb never runs; the transfer is dropped (its connection closed: the engine may
 * still act on a request it read, e.g. a start). c must be a call whose cb has not run yet;
 * NULL is a no-op. */
void docker_api_cancel(struct docker_call *c);

/* Calls not yet answered (for tests and drains). */
unsigned docker_api_pending(const struct docker_api *d);

/* In-flight calls are cancelled (their cb does not run). Then the connections and handles
 * close, d is freed and cb(data) runs (cb may be NULL) from the loop: keep running it. d
 * must not be used after this call. Callable from a call's cb. NULL is a no-op. */
void docker_api_close(struct docker_api *d, void (*cb)(void *data), void *data);

/* The socket path given to docker_api_open. */
const char *docker_api_socket(const struct docker_api *d);

#endif
