/* SPDX-License-Identifier: MIT */
/* rq: the Redis job queue over hiredis async on a libuv loop (h2o's redis client shape).
 * Three connections: commands (scripts, heartbeats, reads), a blocking one for BLMOVE, and a
 * pub/sub one opened on the first rq_subscribe. Each connects with a timeout (the host is
 * resolved with uv_getaddrinfo), every command has a timeout (a late reply drops the
 * connection: RESP cannot skip a reply), and a lost connection is re-made with capped
 * exponential backoff; AUTH/SELECT, script loading and subscriptions are redone each time.
 * Scripts go as EVALSHA once SCRIPT LOAD told the SHA, else (and after NOSCRIPT) as EVAL.
 * A reply that is an error (-ERR, NOAUTH, OOM...) is reported as -EIO, a reply of an
 * unexpected shape as -EPROTO. Worker names must be unique among live processes (e.g.
 * host-pid-random): a name's processing lists belong to one process at a time.
 * Ownership: results passed to callbacks (strings, structs) live only during the callback:
 * copy what you keep. Every accepted request gets exactly one callback, possibly with
 * -ETIMEDOUT, -ECONNRESET, -ECONNREFUSED, -ENOTCONN or -ECANCELED (rq_close); a function that
 * returns an error did not accept the request and calls nothing. Requests made while a
 * connection is down fail at once with -ENOTCONN (callers retry; rq keeps reconnecting).
 * Must not: block the loop, keep global state, or decide retry policy for jobs (the worker
 * does; rq only moves ids between lists atomically). */
#ifndef RUNQ_WORKER_RQ_H
#define RUNQ_WORKER_RQ_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "keys.h"

struct rq;

struct rq_options {
    const char *url;           /* redis://[[user]:password@]host[:port][/db]; host may be [v6] */
    const char *worker;        /* this worker's name (keys_valid_worker), NULL for a producer */
    const char *const *queues; /* queues this worker serves: fetch and recovery use them */
    size_t nqueues;
    uint64_t connect_timeout_ms; /* 0: 2000 */
    uint64_t command_timeout_ms; /* 0: 5000 */
    uint64_t reconnect_min_ms;   /* 0: 50; doubles per failed attempt ... */
    uint64_t reconnect_max_ms;   /* 0: 2000 ... up to this */
    uint64_t heartbeat_ms;       /* > 0 (with worker): rq heartbeats by itself */
    uint64_t heartbeat_ttl_ms;   /* 0: 3 x heartbeat_ms (at least 1000) */
    uint64_t results_ttl_ms;     /* EXPIRE of finished and cancelled job hashes; 0: keep */
    uint32_t max_attempts;       /* starts before an abandoned job goes to dead; 0: 3 */
    uint64_t recover_lock_ms;    /* the recovery lock's PX; 0: 5000 */
};

/* The parts of a redis:// URL (pure; used by rq_open). */
struct rq_url {
    char host[256];
    int port;
    int db;
    char user[128];
    char password[256];
};

/* Returns 0 or -EINVAL. Defaults: port 6379, db 0, no user or password. */
int rq_url_parse(const char *url, struct rq_url *out);

/* Copies the options and starts connecting. Returns 0 with *out set, -EINVAL or -ENOMEM. */
int rq_open(uv_loop_t *loop, const struct rq_options *opt, struct rq **out);

/* Fails what is pending with -ECANCELED (a blocked fetch included), closes the connections,
 * and once every handle is closed calls closed(arg) (if not NULL) and frees rq. Call once;
 * rq must not be used after. Safe inside any rq callback. */
void rq_close(struct rq *rq, void (*closed)(void *arg), void *arg);

/* 1 when the command connection is up. */
int rq_connected(const struct rq *rq);

/* Generic completion: status 0 or -errno; value as documented per call. */
typedef void rq_int_fn(void *arg, int status, long long value);

enum rq_enqueue_status { RQ_ENQUEUED, RQ_DUPLICATE, RQ_FULL };
struct rq_enqueued {
    enum rq_enqueue_status status;
    char id[KEYS_ID_MAX + 1]; /* the new job, or for RQ_DUPLICATE the existing one */
    long long depth;          /* pending length after the push, or the full depth */
};
typedef void rq_enqueue_fn(void *arg, int status, const struct rq_enqueued *res);

/* A queue's lanes. Workers take from them by weighted turns (of 7 picks: 4 high, 2 normal,
 * 1 low first), so a busy high lane never starves the low one. */
enum rq_lane { RQ_LANE_HIGH, RQ_LANE_NORMAL, RQ_LANE_LOW };

/* "high", "normal", "low". */
const char *rq_lane_name(enum rq_lane lane);

/* Atomically: idempotency check (idem_key NULL: none; else kept idem_ttl_ms), depth check
 * (max_depth 0: none; every lane and the delayed set count), job hash {spec, state queued,
 * attempts 0, created_ms, lane}, LPUSH into the lane, or into the delayed set until
 * run_at_ms when that is in the future; a blocked worker is woken. spec is the canonical
 * job JSON (stored as given). res is NULL when status < 0. rq_enqueue: normal lane, now. */
int rq_enqueue_at(struct rq *rq, const char *queue, const char *spec, const char *idem_key,
                  uint64_t idem_ttl_ms, uint64_t max_depth, enum rq_lane lane,
                  uint64_t run_at_ms, rq_enqueue_fn *cb, void *arg);
int rq_enqueue(struct rq *rq, const char *queue, const char *spec, const char *idem_key,
               uint64_t idem_ttl_ms, uint64_t max_depth, rq_enqueue_fn *cb, void *arg);

/* At most this many jobs per rq_fetch. */
#define RQ_FETCH_MAX 256

struct rq_fetched;

/* jobs[0..n) were fetched (n is 0 when block_ms passed with the queue empty). */
typedef void rq_fetch_fn(void *arg, int status, const struct rq_fetched *jobs, size_t n);

/* Reliable fetch of up to max jobs (worker only, queue one of opt->queues), at most one fetch
 * at a time (-EBUSY). Every fetched id is in processing:<worker> before anyone hears of it:
 *  1. ids sitting in that list that this process does not hold (held[0..nheld): the ids it
 *     runs or still has to acknowledge) come first, one per call: a fetch whose reply was lost
 *     to a disconnect, or what an earlier process of the same worker name left (the first
 *     fetch of each queue after rq_open marks ids there running under our name as queued);
 *  2. else the take script moves and starts up to max jobs in one round trip (delayed jobs
 *     that are due first join their lanes);
 *  3. else (the queue is empty) it blocks up to block_ms on the queue's wake-up list and
 *     answers no job: ask again (an enqueue wakes one blocked worker at once).
 * Ids from 1 are not started: call rq_mark_running on each. */
int rq_fetch(struct rq *rq, const char *queue, unsigned max, const char *const *held, size_t nheld,
             uint64_t block_ms, rq_fetch_fn *cb, void *arg);

/* GONE: no such job; CANCELLED: cancel was asked before it started; DONE: already finished;
 * DEAD: it had been started max_attempts times already (state failed, on the dead list). */
enum rq_start_status {
    RQ_START_OK,
    RQ_START_GONE,
    RQ_START_CANCELLED,
    RQ_START_DONE,
    RQ_START_DEAD
};
struct rq_started {
    enum rq_start_status status; /* not OK: the id left the processing list; skip the job */
    const char *spec;            /* canonical JSON when OK, else NULL */
    size_t spec_len;
    long long attempts; /* starts including this one */
    long long created_ms; /* when it was enqueued */
};
typedef void rq_start_fn(void *arg, int status, const struct rq_started *s);

struct rq_fetched {
    const char *id;
    int started;          /* 1: the take script started it, s is its start; 0: not started */
    struct rq_started s;
};

/* state=running, worker, started_ms, attempts+1, and {"id","event":"started"} published on
 * its events channel (a job flagged cancelled becomes cancelled; one started max_attempts
 * times already becomes failed and goes to dead). The take script starts jobs the same way. */
int rq_mark_running(struct rq *rq, const char *id, rq_start_fn *cb, void *arg);

/* After the result is durable elsewhere: state (completed | failed | cancelled), result JSON,
 * finished_ms, EXPIRE results ttl, LREM from processing, PUBLISH {"id","event":"finished",
 * "state"} on the job's events channel. value: 1, or 0 when the id had already been taken
 * back as orphaned (it is then removed from pending/dead too, so it does not run again). */
int rq_ack(struct rq *rq, const char *id, const char *state, const char *result_json, rq_int_fn *cb,
           void *arg);

/* A fetched id this worker will not run (draining) back to the head of its queue; a start
 * the take script made for it is undone (state queued, attempts as before). value: 1, or 0
 * when it was not in our processing list. */
int rq_release(struct rq *rq, const char *id, rq_int_fn *cb, void *arg);

/* A job that failed for a reason of ours (sandbox, worker) goes back to wait delay_ms in
 * the delayed set, state queued with the reason; the next start counts as a new attempt.
 * value: 1, or 0 when it was not in our processing list. */
int rq_retry(struct rq *rq, const char *id, uint64_t delay_ms, const char *reason, rq_int_fn *cb,
             void *arg);

/* Sets field of the job's hash to value, only while the hash exists (e.g. "webhook": the
 * delivery outcome). value: 1 set, 0 no such job. cb may be NULL. */
int rq_job_note(struct rq *rq, const char *id, const char *field, const char *value, rq_int_fn *cb,
                void *arg);

/* Deletes a finished job's hash. value: 1 deleted, 0 no such job, -1 not finished (kept). */
int rq_delete_finished(struct rq *rq, const char *id, rq_int_fn *cb, void *arg);

/* SET runq:worker:<w> <now> PX ttl, SADD runq:workers <w>. cb may be NULL. */
int rq_heartbeat(struct rq *rq, rq_int_fn *cb, void *arg);

struct rq_recovery {
    int locked_out;     /* another process holds the recovery lock: nothing done */
    long long workers;  /* dead workers cleaned up */
    long long requeued; /* ids back in pending */
    long long dead;     /* ids moved to dead (failed) */
    long long cancelled;
};
typedef void rq_recover_fn(void *arg, int status, const struct rq_recovery *r);

/* Under SET runq:recover-lock NX PX: every worker of runq:workers (but this one) without a
 * heartbeat key gets, per queue of opt->queues, its processing list recovered by one atomic
 * script (see queue_scripts.h), then is SREM'ed. r is NULL when status < 0. */
int rq_recover_orphans(struct rq *rq, rq_recover_fn *cb, void *arg);

enum rq_cancel_status {
    RQ_CANCEL_CANCELLED, /* was pending: removed and cancelled */
    RQ_CANCEL_RUNNING,   /* flag set, kill request sent to runq:control:<worker> */
    RQ_CANCEL_FLAGGED,   /* fetched, not started: the start will cancel it */
    RQ_CANCEL_FINISHED,  /* already completed, failed or cancelled */
    RQ_CANCEL_MISSING,   /* no such job (or expired) */
};
typedef void rq_cancel_fn(void *arg, int status, enum rq_cancel_status st);
int rq_cancel(struct rq *rq, const char *id, rq_cancel_fn *cb, void *arg);

/* A job hash as read back. Strings are "" when the field is absent. */
struct rq_job {
    const char *id, *state, *worker, *spec, *result, *reason, *webhook;
    long long attempts, abandoned, created_ms, started_ms, finished_ms;
    int cancel_requested;
};
typedef void rq_job_fn(void *arg, int status, const struct rq_job *job);

/* HGETALL of the job. status -ENOENT (job NULL) when there is no such job; -EINVAL is
 * returned at once for a malformed id. */
int rq_get_job(struct rq *rq, const char *id, rq_job_fn *cb, void *arg);

struct rq_depth {
    const char *queue;
    long long pending, dead;          /* pending: waiting in every lane and the delayed set */
    long long high, normal, low, delayed;
};
typedef void rq_depths_fn(void *arg, int status, const struct rq_depth *d, size_t n);

/* Lengths of pending and dead per queue (n <= CONFIG_MAX_QUEUES-like bound of 64). */
int rq_queue_depths(struct rq *rq, const char *const *queues, size_t n, rq_depths_fn *cb,
                    void *arg);

/* HSET runq:languages name version: what a worker's runtime answered. cb may be NULL. */
int rq_language_version_set(struct rq *rq, const char *name, const char *version, rq_int_fn *cb,
                            void *arg);

/* names[i] -> versions[i], i < n, from runq:languages (empty: no worker has probed yet). */
typedef void rq_versions_fn(void *arg, int status, const char *const *names,
                            const char *const *versions, size_t n);
int rq_language_versions(struct rq *rq, rq_versions_fn *cb, void *arg);

/* Batches (rq_batch.c). A batch id has the form of a job id of its queue. */

/* A fresh random id for queue (a job's or a batch's). 0, -EINVAL, -EAGAIN or -EIO. */
int rq_new_id(const char *queue, char *out, size_t len);

/* status: 0, -ENOSPC (the queue's max depth: depth says how deep it is), -EEXIST (an id
 * collision: draw new ids), or an error of the connection. */
typedef void rq_batch_enqueue_fn(void *arg, int status, long long depth);

/* Atomically: the batch hash {spec (the shared graded part), total, done 0, state running,
 * created_ms}, and every job (ids[i], its stored spec, names[i]) queued in lane, in order,
 * each marked with its batch; or nothing at all. */
int rq_enqueue_batch(struct rq *rq, const char *batch_id, const char *spec,
                     const char *const *ids, const char *const *specs, const char *const *names,
                     size_t n, enum rq_lane lane, uint64_t max_depth, rq_batch_enqueue_fn *cb,
                     void *arg);

/* A batch as read back. summaries[i]: the JSON summary of job_ids[i] ({"name", "state",
 * "verdict", "score", "max_score"} once finished, {"name", "state": "queued"} before), or
 * NULL. count_names[i]/counts[i]: finished jobs per verdict. Borrowed during the callback. */
struct rq_batch {
    const char *id, *state; /* running | completed | cancelled */
    long long total, done, created_ms;
    const char *const *job_ids, *const *summaries;
    size_t njobs;
    const char *const *count_names;
    const long long *counts;
    size_t ncounts;
};
typedef void rq_batch_fn(void *arg, int status, const struct rq_batch *b);

/* status -ENOENT when there is no such batch (or it expired). */
int rq_get_batch(struct rq *rq, const char *batch_id, rq_batch_fn *cb, void *arg);

typedef void rq_batch_spec_fn(void *arg, int status, const char *spec, size_t len);

/* The batch's shared graded spec (-ENOENT: no such batch). */
int rq_batch_spec(struct rq *rq, const char *batch_id, rq_batch_spec_fn *cb, void *arg);

typedef void rq_batch_cancel_fn(void *arg, int status, long long cancelled, long long running,
                                long long finished);

/* Cancels every job of the batch as rq_cancel does one (queued: cancelled; running: asked
 * to stop), and marks the batch cancelled. -ENOENT: no such batch. */
int rq_cancel_batch(struct rq *rq, const char *batch_id, rq_batch_cancel_fn *cb, void *arg);

/* PUBLISH; value = receivers. cb may be NULL. */
int rq_publish(struct rq *rq, const char *channel, const char *data, size_t len, rq_int_fn *cb,
               void *arg);

/* A message (data, len) on channel; data is NULL when the subscription became active (first
 * time and after each reconnect: messages published while down are lost). For a pattern
 * subscription channel is the concrete channel. */
typedef void rq_message_fn(void *arg, const char *channel, const char *data, size_t len);

/* (P)SUBSCRIBE name on the pub/sub connection, kept across reconnects. -EEXIST when already
 * subscribed. cb runs until rq_unsubscribe or rq_close. */
int rq_subscribe(struct rq *rq, const char *name, int pattern, rq_message_fn *cb, void *arg);
int rq_unsubscribe(struct rq *rq, const char *name);

/* Wall clock in ms: job timestamps and run_at, compared in Redis across machines. */
uint64_t rq_now_ms(void);

#endif
