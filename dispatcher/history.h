/* SPDX-License-Identifier: MIT */
/* history: the PostgreSQL-backed reads of API v1.
 *   GET /v1/jobs?status=&language=&since=&limit=&cursor=   newest first:
 *       {"jobs": [job, ...], "next_cursor": "..." | null}. Each job has the shape of
 *       GET /v1/jobs/{id} plus "queue" and "language". limit 1..500 (default 50); since is
 *       milliseconds since the epoch or an RFC 3339 UTC time (2026-01-31T12:00:00Z);
 *       status one of queued running completed failed cancelled; cursor the next_cursor of
 *       the previous page (with the same filters). next_cursor is set when the page is full
 *       (the next page may then be empty).
 *   GET /v1/stats?language=&since=    per language, over finished jobs (since: finished at
 *       or after): {"stats": [{"language", "total", "completed", "failed", "cancelled",
 *       "result_mix": {sandbox status: count}, "wall_ms": {"p50", "p90", "p99"}}]}.
 * A malformed parameter is 400 invalid_query naming it in "field"; PostgreSQL unreachable
 * (not connected at the time: answered at once; or not configured: db NULL) is 503
 * postgres_unavailable with Retry-After: 1.
 * Does: check the query string, build the SQL with results_sql, turn rows into JSON.
 * Must not: put a query value anywhere but in a parameter, block the loop, or keep state. */
#ifndef RUNQ_DISPATCHER_HISTORY_H
#define RUNQ_DISPATCHER_HISTORY_H

#include "db.h"
#include "http_server.h"

/* Both take ex and answer it (possibly later). db may be NULL. */
void history_list(struct db *db, struct http_exchange *ex);
void history_stats(struct db *db, struct http_exchange *ex);

#endif
