/* SPDX-License-Identifier: MIT */
/* routes: the dispatcher's API v1 on top of http_server's single handler.
 *   POST /v1/jobs               submit (submit.h)
 *   GET  /v1/jobs?status=&language=&since=&limit=&cursor=   history from PostgreSQL
 *                               (history.h): {"jobs": [...], "next_cursor"}
 *   GET  /v1/jobs/{id}[?wait=N] the job's snapshot: Redis, or the PostgreSQL row once the
 *                               Redis hash expired (job_store.h); with wait (seconds, capped
 *                               by dispatcher.max_wait) answers when a finish event arrives
 *                               or the time is up (job_watch.h); 404 malformed or unknown id
 *   DELETE /v1/jobs/{id}        a finished job's record: 204; 409 queued or running; 404
 *                               unknown (the PostgreSQL row; the Redis hash expires by
 *                               itself, see job_store.h)
 *   GET  /v1/jobs/{id}/events   Server-Sent Events: snapshot, progress, finish (job_events.h)
 *   POST /v1/jobs/{id}/cancel   200 {"id", "status": "cancelled" | "cancelling"}; 404; 409
 *   GET  /v1/stats?language=&since=   per-language stats from PostgreSQL (history.h)
 *   GET  /v1/languages, /v1/queues, /healthz, /readyz (Redis and PostgreSQL connected; 503
 *                               naming the one that is not)
 * Every error is {"error": {"code", "message", "field"}}; an unknown path is 404, a known
 * path with another method 405 with Allow. HEAD is answered like GET (not on /events).
 * Does: routing, the small routes, the guard where tokens will be checked; the rest is in
 * the modules named above.
 * Must not: block on Redis or PostgreSQL, hold an exchange past its close, or build Redis
 * key names (keys.h).
 * Ownership: cfg, languages, rq and db are borrowed and must outlive the routes. An exchange
 * handed to routes_handle is finished by the routes, possibly later. */
#ifndef RUNQ_DISPATCHER_ROUTES_H
#define RUNQ_DISPATCHER_ROUTES_H

#include <uv.h>

#include "config.h"
#include "db.h"
#include "http_server.h"
#include "languages.h"
#include "rq.h"

struct routes;

/* db may be NULL (Redis only: history, stats and delete answer 503, GET has no fallback,
 * /readyz looks at Redis alone). Returns 0 with *out set, -EINVAL or -ENOMEM. */
int routes_new(uv_loop_t *loop, const struct runq_config *cfg, const struct languages *languages,
               struct rq *rq, struct db *db, struct routes **out);

/* Sets the SSE heartbeat interval (default JOB_EVENTS_HEARTBEAT_MS, 15 s); only before the
 * first stream. For tests and tuning. */
void routes_set_heartbeat(struct routes *r, uint64_t ms);

/* The http_handler: ctx is the struct routes. */
void routes_handle(struct http_exchange *ex, void *ctx);

/* The http_guard: allows everything today (see routes.c). ctx is the struct routes. */
int routes_guard(struct http_exchange *ex, void *ctx);

/* Ends every ?wait early with the current snapshot and every event stream (call before
 * http_server_close). */
void routes_shutdown(struct routes *r);

/* Frees r. Call once the server is closed and rq_close and db_close have finished (every
 * rq and db callback has run): nothing may refer to r any more. */
void routes_free(struct routes *r);

/* Fills cfg from the dispatcher section of c (host points into buf[len]). Returns 0 or
 * -EINVAL when dispatcher.listen is not host:port or [v6]:port. */
int routes_server_config(const struct runq_config *c, struct http_server_config *cfg, char *buf,
                         size_t len);

#endif
