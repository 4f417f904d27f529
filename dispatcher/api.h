/* SPDX-License-Identifier: MIT */
/* api: the shapes shared by the API v1 route modules (routes, job_watch, job_events,
 * job_store, history): a job as JSON from a Redis snapshot or a PostgreSQL row (one shape),
 * JSON answers, failures of rq and db mapped to HTTP, and query-string parameters.
 * Does: build JSON, answer (and so finish) an exchange, decode one query parameter.
 * Must not: talk to Redis or PostgreSQL, keep state, or answer anything but
 * {"error": {"code", "message", "field"}} for an error. */
#ifndef RUNQ_DISPATCHER_API_H
#define RUNQ_DISPATCHER_API_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"
#include "http_server.h"
#include "rq.h"

/* 1 for completed, failed and cancelled. */
int api_finished_state(const char *state);

/* {"id", "status", "attempts", "worker", "created_ms", "started_ms", "finished_ms"
 * [, "cancel_requested"] [, "reason"] [, "result" when finished]}. NULL when out of memory. */
json_t *api_job_from_rq(const struct rq_job *job);

/* The same shape from row `row` of a query whose columns are results_history_col (see
 * results_sql.h), plus "queue" and "language". NULL when out of memory. */
json_t *api_job_from_row(const struct db_result *res, int row);

/* Answers j (stolen; NULL = out of memory, 500) as application/json. */
void api_json(struct http_exchange *ex, int status, json_t *j);

/* Redis unreachable or slow: 503 redis_unavailable + Retry-After: 1; anything else 500. */
void api_rq_error(struct http_exchange *ex, int err);

/* PostgreSQL unreachable, slow or not configured: 503 postgres_unavailable + Retry-After: 1;
 * anything else 500. */
void api_db_error(struct http_exchange *ex, int err);

/* 404 not_found "no such job", field "id". */
void api_not_found(struct http_exchange *ex);

/* Finds name=value in query ("a=1&b=2"), percent-decodes it ('+' is a space) into
 * buf[len]. Returns 1 when found, 0 when absent, -EINVAL when badly encoded, holding a NUL,
 * or longer than len - 1. */
int api_query_param(const char *query, const char *name, char *buf, size_t len);

#endif
