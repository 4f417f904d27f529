/* SPDX-License-Identifier: MIT */
/* webhook: delivers finished jobs' results to their callback URLs over HTTP(S), from the
 * worker's libuv loop. libcurl's multi socket API drives the transfers: curl says which
 * sockets to watch (one uv_poll each) and when to call it back (one uv_timer), and every
 * byte moves in curl_multi_socket_action from those callbacks.
 * Does: POST the body as application/json, signed per attempt (common/webhook_sign.h: the
 * X-Runq-Timestamp and X-Runq-Signature headers, the scheme receivers verify), with
 * User-Agent runq-webhook/1; retry connection errors, timeouts, 429 and 5xx with full-jitter
 * exponential backoff up to max_attempts; give up at once on any other answer (redirects are
 * not followed); report each delivery's outcome exactly once. Delivery is at least once: a
 * receiver's 2xx that arrives after the attempt's timeout counts as a failure and the body is
 * sent again.
 * Must not: block the loop (it refuses a libcurl without an asynchronous resolver), follow
 * redirects, speak anything but http and https, use proxies from the environment, install
 * signal handlers (CURLOPT_NOSIGNAL), call a callback from inside webhook_deliver(), or free
 * memory before its handles' close callbacks have run.
 * Requires: curl_global_init(CURL_GLOBAL_DEFAULT) was called once in main(), before any
 * thread started and before webhook_open() (libcurl's global state is the one exception to
 * "no global mutable state"; curl_global_cleanup() after the last webhook_close's callback). */
#ifndef RUNQ_WORKER_WEBHOOK_H
#define RUNQ_WORKER_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct webhook;

/* Zero fields take the defaults shown. Strings are copied. */
struct webhook_options {
    const char *secret;       /* required: the HMAC key (config webhooks.secret) */
    uint64_t timeout_ms;      /* 0 = 10000: one attempt, connect to the last byte */
    unsigned max_attempts;    /* 0 = WEBHOOK_SIGN_MAX_ATTEMPTS (8) */
    const char *user_agent;   /* NULL = "runq-webhook/1" */
    uint64_t backoff_base_ms; /* 0 = 1000: the first retry waits up to this (full jitter) */
    uint64_t backoff_cap_ms;  /* 0 = 300000: no retry waits longer */
    unsigned max_pending;     /* 0 = 1024: deliveries not yet finished; beyond, -ENOBUFS */
    const char *proxy;        /* NULL = none (http_proxy and friends are ignored) */
    int allow_private;        /* 0: connections to loopback/private/link-local addresses
                               * (webhook_sign_private_addr) are refused, whatever a URL's
                               * name resolves to: a job must not reach the worker's network */
};

/* A delivery's outcome. error is borrowed: valid during the callback only.
 * status:
 *   0           delivered: the receiver answered 2xx (http_status) on attempt `attempts`
 *   -EREMOTEIO  refused: the receiver answered a status that is not retried (3xx, 4xx but
 *               429, ...): given up at once
 *   -EIO        given up after max_attempts: the last attempt failed with a retryable
 *               answer (429, 5xx) or with no answer (connection refused, timeout, TLS ...)
 *   -ECANCELED  webhook_close() ran first (an attempt in flight is abandoned)
 *   -ENOMEM     a retry could not be set up
 * http_status: the last attempt's HTTP status, 0 when it got none.
 * attempts: attempts made, the one in flight at a cancel included.
 * error: "" when delivered, else what the last attempt ran into, e.g. "HTTP 503: <the start
 * of the response body>" or libcurl's message ("Failed to connect to ... refused"). */
struct webhook_result {
    int status;
    long http_status;
    unsigned attempts;
    const char *error;
};

typedef void (*webhook_done_cb)(const struct webhook_result *r, void *data);
typedef void (*webhook_close_cb)(void *data);

/* Returns 0 with *out set; -EINVAL (no loop, no secret or an empty one), -ENOTSUP (this
 * libcurl resolves names synchronously, which would block the loop, or lacks
 * CURLOPT_PROTOCOLS_STR: 7.85 or newer is needed), -ENOMEM. */
int webhook_open(uv_loop_t *loop, const struct webhook_options *opt, struct webhook **out);

/* Starts delivering body[0..len) to url; url and body are copied. cb runs exactly once with
 * the outcome, never from inside this call. Returns 0 (cb will run), or without calling cb:
 * -EINVAL (no cb, or url refused by webhook_sign_check_url), -ENOBUFS (max_pending
 * deliveries unfinished), -ESHUTDOWN (webhook_close was called), -ENOMEM. */
int webhook_deliver(struct webhook *w, const char *url, const void *body, size_t len,
                    webhook_done_cb cb, void *data);

/* Deliveries accepted and not yet reported (attempts in flight and retries waiting). */
size_t webhook_pending(const struct webhook *w);

/* Abandons every unfinished delivery: each callback runs with -ECANCELED before this
 * returns. Then the handles close, w is freed, and cb(data) runs (cb may be NULL) from the
 * loop: keep running it. w must not be used after this call. Callable from a callback; a
 * second call does nothing. NULL is a no-op. */
void webhook_close(struct webhook *w, webhook_close_cb cb, void *data);

#endif
