/* SPDX-License-Identifier: MIT */
/* routes: the dispatcher's API v1 on top of http_server's single handler.
 *   POST /v1/jobs              job_spec_parse -> rq_enqueue: 202 {"id", "status": "queued"} +
 *                              Location; 200 {"id", "duplicate": true} + Location for an
 *                              Idempotency-Key seen before; 415 not JSON; 400/413/422 from
 *                              job_spec_parse; 503 + Retry-After: 1 queue full; 503 Redis down
 *   GET  /v1/jobs/{id}[?wait=N] the job's snapshot; with wait (seconds, capped by
 *                              dispatcher.max_wait) answers when a finish event arrives or
 *                              the time is up; 404 malformed or unknown id
 *   POST /v1/jobs/{id}/cancel  200 {"id", "status": "cancelled" | "cancelling"}; 404; 409
 *   GET  /v1/languages, /v1/queues, /healthz, /readyz (Redis only: PostgreSQL is not the
 *                              dispatcher's yet)
 * Every error is {"error": {"code", "message", "field"}}; an unknown path is 404, a known
 * path with another method 405 with Allow. HEAD is answered like GET.
 * Does: routing, request checks, JSON answers, one waiter per ?wait request (a timer, and a
 * share of one Redis subscription per job channel; no thread).
 * Must not: block the loop, parse HTTP or job JSON itself, or build Redis key names (keys.h).
 * Ownership: cfg, languages and rq are borrowed and must outlive the routes. An exchange
 * handed to routes_handle is finished by the routes, possibly later. */
#ifndef RUNQ_DISPATCHER_ROUTES_H
#define RUNQ_DISPATCHER_ROUTES_H

#include <uv.h>

#include "config.h"
#include "http_server.h"
#include "languages.h"
#include "rq.h"

#define ROUTES_IDEM_TTL_MS (24ULL * 3600 * 1000) /* how long an Idempotency-Key is kept */
#define ROUTES_MAX_WAITERS 4096                  /* ?wait requests at once; then 503 */

struct routes;

/* Returns 0 with *out set, -EINVAL or -ENOMEM. */
int routes_new(uv_loop_t *loop, const struct runq_config *cfg, const struct languages *languages,
               struct rq *rq, struct routes **out);

/* The http_handler: ctx is the struct routes. */
void routes_handle(struct http_exchange *ex, void *ctx);

/* The http_guard: allows everything today (see routes.c). ctx is the struct routes. */
int routes_guard(struct http_exchange *ex, void *ctx);

/* Ends every ?wait early with the current snapshot (call before http_server_close). */
void routes_shutdown(struct routes *r);

/* Frees r. Call once the server is closed and rq_close has finished (every rq callback has
 * run): nothing may refer to r any more. */
void routes_free(struct routes *r);

/* Fills cfg from the dispatcher section of c (host points into buf[len]). Returns 0 or
 * -EINVAL when dispatcher.listen is not host:port or [v6]:port. */
int routes_server_config(const struct runq_config *c, struct http_server_config *cfg, char *buf,
                         size_t len);

#endif
