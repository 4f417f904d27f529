/* SPDX-License-Identifier: MIT */
/* job_watch: watching jobs' events channels (keys_events) for the dispatcher. Any number of
 * consumers (watchers) may watch one job: they share a single rq_subscribe of its channel,
 * made with the first watcher and dropped with the last. Two kinds of consumers use it:
 * ?wait requests (the waiters below) and Server-Sent Events streams (job_events).
 * A waiter (GET /v1/jobs/{id}?wait=N): a deadline timer plus a watcher. It re-reads the job
 * (job_store_get) when its subscription becomes active (first time and after a reconnect: a
 * finish published before is not missed), on every terminal event (finished, cancelled), and
 * once more at the deadline; it answers 200 with the job when it is finished or time is up.
 * Does: share subscriptions, deliver each message to every watcher of the channel, answer
 * ?wait requests. No thread per waiter.
 * Must not: block the loop, build key names itself (keys.h), or hold an exchange past its
 * close callback.
 * Ownership: loop, rq and store are borrowed and must outlive the job_watch. */
#ifndef RUNQ_DISPATCHER_JOB_WATCH_H
#define RUNQ_DISPATCHER_JOB_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_server.h"
#include "job_store.h"
#include "rq.h"

#define JOB_WATCH_MAX_WAITERS 4096 /* ?wait requests at once; then 503 */

struct job_watch;
struct job_watcher;

/* A message on the watched channel (data, len), or data NULL when the subscription became
 * active (first time, and after each reconnect of the pub/sub connection: messages published
 * while it was down are lost, so re-read what matters). A callback may remove its own
 * watcher (or others, or add new ones: those do not see the message being delivered). */
typedef void job_watch_fn(void *arg, const char *data, size_t len);

/* Returns 0 with *out set, -EINVAL or -ENOMEM. */
int job_watch_new(uv_loop_t *loop, struct rq *rq, struct job_store *store, struct job_watch **out);

/* Watches job id's channel: subscribes, or joins the subscription already there. Returns 0
 * with *out set, -EINVAL (bad id), -ENOMEM, or what rq_subscribe returned. */
int job_watch_add(struct job_watch *jw, const char *id, job_watch_fn *cb, void *arg,
                  struct job_watcher **out);

/* The same for any channel (a batch's events): messages on it, as they come. */
int job_watch_add_channel(struct job_watch *jw, const char *channel, job_watch_fn *cb, void *arg,
                          struct job_watcher **out);

/* 1 when the watcher's subscription is already confirmed (no activation call will come until
 * a reconnect): the caller reads now what it would have read on activation. */
int job_watch_active(const struct job_watcher *w);

/* Stops watching and frees w; the last watcher of a channel unsubscribes. */
void job_watch_remove(struct job_watcher *w);

/* The ?wait request for job id (which exists and is not finished): takes ex and answers it
 * later. Returns 0, or a negative errno (ex not taken): -EAGAIN when JOB_WATCH_MAX_WAITERS
 * wait already. */
int job_watch_wait(struct job_watch *jw, struct http_exchange *ex, const char *id,
                   uint64_t wait_ms);

/* Waiters at the moment. */
size_t job_watch_waiters(const struct job_watch *jw);

/* Ends every wait early with the current snapshot. */
void job_watch_shutdown(struct job_watch *jw);

/* Frees jw once the server is closed and rq_close has finished: channels still held are
 * forgotten without unsubscribing. */
void job_watch_free(struct job_watch *jw);

#endif
