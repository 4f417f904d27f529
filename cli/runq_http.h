/* SPDX-License-Identifier: MIT */
/* runq_http: the HTTP client of `runq` (libcurl): plain requests on one kept-alive
 * connection, a streamed GET for Server-Sent Events, and many GETs at once (the multi
 * interface) for waiting on a whole run of graded jobs.
 * Does: join the dispatcher URL and an API path, send JSON, collect answers (bounded),
 * report transport failures as text; time out connects, whole requests and silent streams.
 * Must not: interpret answers (runq_job, runq_report do), print, retry on its own, follow
 * redirects, or speak anything but http and https. The caller runs curl_global_init. */
#ifndef RUNQ_CLI_HTTP_H
#define RUNQ_CLI_HTTP_H

#include <stddef.h>

#define RUNQ_HTTP_TIMEOUT_MS 30000L /* a request that is not a long poll or a stream */

/* An answer. status 0: none came (error says why). body is NUL-terminated (may hold NULs). */
struct runq_http_resp {
    long status;
    char *body;
    size_t len;
    char error[256];
};

void runq_http_resp_free(struct runq_http_resp *r);

struct runq_http;

/* base: "http://host:port" (a trailing "/" is ignored). Returns 0 or -ENOMEM. */
int runq_http_new(const char *base, struct runq_http **out);
void runq_http_free(struct runq_http *h);

/* GET base + path, the whole request within timeout_ms. Returns 0 when an answer came
 * (any status), -1 when none did (r->error filled). *r is the caller's to free either way. */
int runq_http_get(struct runq_http *h, const char *path, long timeout_ms, struct runq_http_resp *r);

/* POST base + path with a JSON body. Same returns as runq_http_get. */
int runq_http_post(struct runq_http *h, const char *path, const char *json,
                   struct runq_http_resp *r);

/* Called with each piece of a 200 answer's body as it arrives; nonzero stops the stream. */
typedef int runq_http_data_fn(void *arg, const char *data, size_t len);

/* GET base + path (text/event-stream): a 200 answer's body goes to fn piece by piece, any
 * other status is collected into r as usual. No overall time limit; the stream fails when
 * nothing (not even a keepalive) came for 60 s. Returns 0 when the answer ended (or fn
 * stopped it: r->status is then 200), -1 when no answer came or it broke off (r->error). */
int runq_http_stream(struct runq_http *h, const char *path, runq_http_data_fn *fn, void *arg,
                     struct runq_http_resp *r);

/* Many GETs at once. Each has a tag the caller chooses. */
struct runq_http_multi;

int runq_http_multi_new(const char *base, struct runq_http_multi **out);
void runq_http_multi_free(struct runq_http_multi *m);

/* Starts GET base + path. Returns 0, or -ENOMEM / -EIO. */
int runq_http_multi_get(struct runq_http_multi *m, const char *path, long timeout_ms, size_t tag);

/* Requests started and not yet handed back. */
size_t runq_http_multi_pending(const struct runq_http_multi *m);

/* Called once per finished request; r is freed after the call returns. */
typedef void runq_http_done_fn(void *arg, size_t tag, struct runq_http_resp *r);

/* Moves the transfers on, waiting up to timeout_ms for activity, and hands every finished
 * one to fn. Returns 0, or -EIO when libcurl itself failed. */
int runq_http_multi_run(struct runq_http_multi *m, int timeout_ms, runq_http_done_fn *fn,
                        void *arg);

#endif
