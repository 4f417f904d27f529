/* SPDX-License-Identifier: MIT */
/* keys: every Redis key and channel name runq uses, job id generation and strict id parsing.
 * Per-queue keys carry the hash tag {<queue>} so one queue's keys share a Redis Cluster slot
 * (Lua scripts touch only one queue's keys); runq:workers, runq:worker:<w>, the recovery lock
 * and the control channels are global.
 *   runq:{Q}:job:<id>            hash: spec state attempts abandoned worker cancel reason
 *                                 created_ms started_ms finished_ms result
 *   runq:{Q}:pending             list of ids (the normal lane): LPUSH by producers, RIGHT end
 *                                 taken (FIFO); runq:{Q}:pending:high and :low, the other lanes
 *   runq:{Q}:delayed             sorted set: ids waiting for their run_at (score, ms)
 *   runq:{Q}:wake                list of tokens that wake a worker blocked on an empty queue
 *   runq:{Q}:turn                counter: whose turn it is among the lanes
 *   runq:{Q}:processing:<w>      list of ids worker <w> took (moved from a lane atomically)
 *   runq:{Q}:dead                list of ids that failed for good (abandoned too often)
 *   runq:{Q}:idem:<key>          string: the id enqueued under an idempotency key (PX ttl)
 *   runq:{Q}:events:<id>         channel: {"id","event","state"} progress and finish events
 *   runq:{Q}:batch:<b>           hash: a batch (spec = the shared tests, total, done, state,
 *                                 created_ms, c:<verdict> counts, r:<job id> job summaries)
 *   runq:{Q}:batch:<b>:jobs      list of the batch's job ids, in submission order
 *   runq:{Q}:batch-events:<b>    channel: {"event":"job"|"finished", ...} as jobs finish
 * A batch id has the form of a job id (same queue prefix, its own random part).
 *   runq:workers, runq:worker:<w>, runq:recover-lock, runq:control:<w> (channel)
 * Job id: "<queue>.<26 lowercase RFC 4648 base32 chars of 16 random bytes>" (canonical: the
 * last character's two padding bits are zero).
 * Does: pure string building and validation; the caller supplies randomness.
 * Must not: do I/O, allocate, or accept a name that could forge another key (no '{', '}',
 * ':', '.', spaces or control bytes in queue names; strict ids). */
#ifndef RUNQ_COMMON_KEYS_H
#define RUNQ_COMMON_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_QUEUE_MAX 64   /* [a-z0-9_-]{1,64}, like runq.yaml's queue names */
#define KEYS_WORKER_MAX 128 /* [A-Za-z0-9._-]{1,128} (hostname-pid-random) */
#define KEYS_IDEM_MAX 255   /* printable ASCII 0x21..0x7e, 1..255 bytes */
#define KEYS_RANDOM_BYTES 16
#define KEYS_RANDOM_CHARS 26
#define KEYS_ID_MAX (KEYS_QUEUE_MAX + 1 + KEYS_RANDOM_CHARS) /* without the NUL */
/* Large enough for every name built here (the idempotency key is the longest). */
#define KEYS_NAME_MAX (32 + KEYS_QUEUE_MAX + KEYS_IDEM_MAX + KEYS_WORKER_MAX)

#define KEYS_WORKERS "runq:workers"
#define KEYS_LANGUAGES "runq:languages" /* hash: language -> what its version command printed */
#define KEYS_RECOVER_LOCK "runq:recover-lock"
#define KEYS_CONTROL_PREFIX "runq:control:"

/* Each returns 0 when the name is well formed, else -EINVAL. NULL is -EINVAL. */
int keys_valid_queue(const char *queue);
int keys_valid_worker(const char *worker);
int keys_valid_idem(const char *key);

/* Writes "<queue>.<base32 of rnd>" into out. Returns 0, -EINVAL (bad queue) or -ENOSPC. */
int keys_job_id_make(const char *queue, const uint8_t rnd[KEYS_RANDOM_BYTES], char *out,
                     size_t len);

/* Strictly checks a job id (e.g. from a URL) and copies its queue into queue[qlen] when
 * queue is not NULL. Returns 0, -EINVAL (malformed) or -ENOSPC (qlen too small). */
int keys_job_id_parse(const char *id, char *queue, size_t qlen);

/* Name builders: write a NUL-terminated name into out[len]. They validate their inputs and
 * return 0, -EINVAL or -ENOSPC. Functions taking an id derive the queue from it. */
int keys_job(char *out, size_t len, const char *id);
int keys_job_prefix(char *out, size_t len, const char *queue); /* "runq:{Q}:job:" */
int keys_queue_root(char *out, size_t len, const char *queue); /* "runq:{Q}:" (scripts) */
int keys_wake(char *out, size_t len, const char *queue);       /* "runq:{Q}:wake" */
int keys_pending(char *out, size_t len, const char *queue);
int keys_processing(char *out, size_t len, const char *queue, const char *worker);
int keys_dead(char *out, size_t len, const char *queue);
int keys_idem(char *out, size_t len, const char *queue, const char *key);
int keys_events(char *out, size_t len, const char *id);
int keys_batch(char *out, size_t len, const char *batch_id);
int keys_batch_jobs(char *out, size_t len, const char *batch_id);
int keys_batch_events(char *out, size_t len, const char *batch_id);
int keys_events_pattern(char *out, size_t len, const char *queue); /* "runq:{Q}:events:*" */
int keys_events_prefix(char *out, size_t len, const char *queue);  /* "runq:{Q}:events:" */
int keys_worker(char *out, size_t len, const char *worker);        /* heartbeat key */
int keys_control(char *out, size_t len, const char *worker);       /* control channel */

#endif
