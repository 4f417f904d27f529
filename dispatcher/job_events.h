/* SPDX-License-Identifier: MIT */
/* job_events: GET /v1/jobs/{id}/events, a job's progress as Server-Sent Events
 * (text/event-stream).
 *   1. The stream watches the job's events channel (job_watch) BEFORE reading the job, so
 *      nothing published between the snapshot and the stream is lost (an event that races
 *      the read is sent after the snapshot; it may repeat what the snapshot shows).
 *   2. `event: snapshot`, data = the job exactly as GET /v1/jobs/{id} shows it (Redis, or
 *      PostgreSQL once the Redis hash expired). An unknown job is a plain 404 instead, an
 *      unreachable store 503 (no stream is started then).
 *   3. Every message on the channel as `event: <its "event">` (started, compiled, finished,
 *      cancelled...) with `data:` its JSON.
 *   4. After `finished` or `cancelled` (or a snapshot of a finished job) the stream ends.
 * Each event carries `id: N`, a per-stream counter that increases by one per event. With a
 * `Last-Event-ID: N` header (an EventSource reconnecting) the counter goes on at N + 1 and
 * the stream starts again with a fresh snapshot: the snapshot covers whatever was missed
 * while disconnected; nothing is replayed. If the pub/sub connection to Redis is lost and
 * re-made, a fresh snapshot is sent the same way. A comment line `: keepalive` is written
 * every JOB_EVENTS_HEARTBEAT_MS. A client that reads too slowly (the server's write queue
 * is full) has its stream ended.
 * Does: one stream per request, cleanup when the client leaves (http_exchange_on_close).
 * Must not: block the loop, poll Redis, or write to an exchange after its close callback.
 * Ownership: loop, job_watch and store are borrowed and must outlive the job_events. */
#ifndef RUNQ_DISPATCHER_JOB_EVENTS_H
#define RUNQ_DISPATCHER_JOB_EVENTS_H

#include <stdint.h>
#include <uv.h>

#include "http_server.h"
#include "job_store.h"
#include "job_watch.h"

#define JOB_EVENTS_HEARTBEAT_MS 15000
#define JOB_EVENTS_SUBSCRIBE_MS 5000 /* no confirmed subscription by then: 503 */
#define JOB_EVENTS_MAX_STREAMS 4096  /* streams at once; then 503 */

struct job_events;

/* heartbeat_ms 0 = JOB_EVENTS_HEARTBEAT_MS. Returns 0 with *out set, -EINVAL or -ENOMEM. */
int job_events_new(uv_loop_t *loop, struct job_watch *jw, struct job_store *store, struct rq *rq,
                   uint64_t heartbeat_ms, struct job_events **out);

/* Takes ex (a GET for job id, a well-formed id) and answers it: a stream, or an error. */
void job_events_start(struct job_events *je, struct http_exchange *ex, const char *id);

/* The same for GET /v1/batches/{id}/events: the batch's snapshot (as GET shows it), then its
 * "job" events, ending after "finished" (or at once for a batch that is over). */
void job_events_start_batch(struct job_events *je, struct http_exchange *ex, const char *id);

/* Streams at the moment. */
size_t job_events_count(const struct job_events *je);

/* Ends every stream now (503 for those whose snapshot has not come yet). */
void job_events_shutdown(struct job_events *je);

/* Frees je; call when the server is closed (no stream is left). */
void job_events_free(struct job_events *je);

#endif
