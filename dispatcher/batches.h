/* SPDX-License-Identifier: MIT */
/* batches: the batch routes.
 *   POST /v1/batches             common/batch parses it; the batch and all its jobs are
 *                                enqueued at once: 202 {"id", "status", "total", "jobs":
 *                                [{"id", "name"}]} + Location; 400/413/422 naming the field
 *                                (submissions[i]. for a submission's own); 503 + Retry-After
 *                                when the queue has no room for all of them.
 *   GET /v1/batches/{id}         {"id", "status" (running, completed, cancelled), "total",
 *                                "done", "created_ms", "counts": {verdict: n}, "jobs": [{"id",
 *                                "name", "state", "verdict", "score", "max_score"}]}; once
 *                                Redis has let the batch go, the same from PostgreSQL's rows
 *                                (then always completed; jobs by submission time, then name); 404.
 *   POST /v1/batches/{id}/cancel every job of it cancelled (queued) or asked to stop
 *                                (running): {"status", "cancelled", "stopping", "finished"}.
 *   GET /v1/batches/{id}/events  job_events: a snapshot as GET shows it, then a "job" event
 *                                per finished job, and "finished" with the last one.
 * Must not: block the loop or hold the exchange past its answer. */
#ifndef RUNQ_DISPATCHER_BATCHES_H
#define RUNQ_DISPATCHER_BATCHES_H

#include <jansson.h>

#include "config.h"
#include "http_server.h"
#include "languages.h"
#include "db.h"
#include "rq.h"

#define BATCHES_PREFIX "/v1/batches/" /* a batch's own paths start so */

void batches_submit(const struct runq_config *cfg, const struct languages *langs, struct rq *rq,
                    struct http_exchange *ex);
/* db may be NULL (no PostgreSQL): a batch Redis has let go is then a 404. */
void batches_get(struct rq *rq, struct db *db, struct http_exchange *ex, const char *id);
void batches_cancel(struct rq *rq, struct http_exchange *ex, const char *id);

/* The batch as GET shows it. New reference, NULL when out of memory. */
json_t *batches_json(const struct rq_batch *b);

#endif
