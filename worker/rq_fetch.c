/* SPDX-License-Identifier: MIT */
/* rq_fetch: how a worker gets jobs (see rq.h): adoption of ids left in its own processing
 * list, the take script (many jobs moved and started in one round trip, lanes by weighted
 * turns, delayed jobs promoted when due), a blocking wait on the queue's wake-up list when it
 * is empty, the single start of an adopted id, the release of a fetched job a draining worker
 * will not run, and the retry (later, in the delayed set) of one that failed on our side.
 * Must not: decide how many jobs to hold (the worker asks for a count) or retry on its own. */
#include "rq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_conn.h"

struct fetch_op {
    rq_fetch_fn *cb;
    void *arg;
    struct queue *q;
    unsigned max;
    uint64_t block_ms;
};

static void fetch_done(struct rq *rq, struct fetch_op *op, int err, const struct rq_fetched *jobs,
                       size_t n)
{
    rq->fetching = 0;
    op->cb(op->arg, err, jobs, n);
    free(op);
}

/* One id that still needs rq_mark_running (from BLMOVE or adoption). */
static void fetch_one(struct rq *rq, struct fetch_op *op, const char *id)
{
    struct rq_fetched one = {.id = id, .started = 0};

    fetch_done(rq, op, 0, &one, 1);
}

/* The queue was empty: the wake-up list said something was enqueued, or block_ms passed.
 * Either way no job is fetched here: the caller asks again and take finds it. */
static void on_wake(struct rq *rq, void *p, int err, redisReply *r)
{
    struct fetch_op *op = p;

    if (err)
        op->q->scan = 1; /* the connection dropped: look at our list again before trusting it */
    else if (r->type == REDIS_REPLY_ERROR)
        err = -EIO;
    fetch_done(rq, op, err, NULL, 0);
}

static int send_wait(struct rq *rq, struct fetch_op *op)
{
    char wake[KEYS_NAME_MAX], secs[32];
    const char *argv[3] = {"BLPOP", wake, secs};

    keys_wake(wake, sizeof(wake), op->q->name);
    snprintf(secs, sizeof(secs), "%.3f", op->block_ms ? (double)op->block_ms / 1000.0 : 0.001);
    return rq_send_cmd(&rq->conn[CONN_BLOCK], on_wake, op, -1, 3, argv, NULL,
                       op->block_ms + rq->o.command_timeout_ms);
}

/* The take script's reply: {id, spec, attempts, created_ms} per started job. */
static int parse_taken(const redisReply *r, struct rq_fetched *jobs, size_t *n)
{
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 4)
        return -EPROTO;
    for (i = 0, *n = 0; i < r->elements; i += 4) {
        const redisReply *spec = r->element[i + 1];
        struct rq_fetched *j = &jobs[(*n)++];
        if (!(j->id = rq_elem_str(r, i)) || spec->type != REDIS_REPLY_STRING)
            return -EPROTO;
        j->started = 1;
        j->s.status = RQ_START_OK;
        j->s.spec = spec->str;
        j->s.spec_len = spec->len;
        j->s.attempts = rq_elem_int(r, i + 2);
        j->s.created_ms = rq_elem_int(r, i + 3);
    }
    return 0;
}

static void on_take(struct rq *rq, void *p, int err, redisReply *r)
{
    struct fetch_op *op = p;
    struct rq_fetched *jobs = NULL;
    size_t n = 0;

    if (!(err = rq_reply_status(err, r)) && r->type == REDIS_REPLY_ARRAY && r->elements == 0) {
        if ((err = send_wait(rq, op)) == 0) /* the queue is empty: wait for an enqueue */
            return;
    } else if (!err && !(jobs = calloc(r->elements / 4 + 1, sizeof(*jobs)))) {
        err = -ENOMEM;
    } else if (!err) {
        err = parse_taken(r, jobs, &n);
    }
    if (err)
        op->q->scan = 1; /* ids may have moved and started unheard (a script is not rolled
                          * back on error either): adoption finds them */
    fetch_done(rq, op, err, err ? NULL : jobs, err ? 0 : n);
    free(jobs);
}

static int send_take(struct rq *rq, struct fetch_op *op)
{
    char proc[KEYS_NAME_MAX], dead[KEYS_NAME_MAX], root[KEYS_NAME_MAX], events[KEYS_NAME_MAX],
        now[24], ttl[24], maxa[16], max[16];
    const char *keys[2] = {proc, dead};
    const char *args[7] = {rq->worker, now, ttl, maxa, max, root, events};

    keys_processing(proc, sizeof(proc), op->q->name, rq->worker);
    keys_dead(dead, sizeof(dead), op->q->name);
    keys_queue_root(root, sizeof(root), op->q->name);
    keys_events_prefix(events, sizeof(events), op->q->name);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(maxa, sizeof(maxa), "%u", rq->o.max_attempts);
    snprintf(max, sizeof(max), "%u", op->max);
    return rq_eval(rq, QUEUE_SCRIPT_TAKE, 2, keys, 7, args, on_take, op);
}

static void on_adopt(struct rq *rq, void *p, int err, redisReply *r)
{
    struct fetch_op *op = p;

    if (!err && r->type != REDIS_REPLY_ERROR)
        op->q->fresh = 0;
    if (!(err = rq_reply_status(err, r)) && r->type == REDIS_REPLY_STRING) {
        fetch_one(rq, op, r->str);
        return;
    }
    if (!err && r->type == REDIS_REPLY_NIL) {
        op->q->scan = 0;
        if ((err = send_take(rq, op)) == 0)
            return;
    }
    fetch_done(rq, op, err ? err : -EPROTO, NULL, 0);
}

static struct queue *find_queue(struct rq *rq, const char *name)
{
    size_t i;

    for (i = 0; name && i < rq->nqueues; i++) {
        if (!strcmp(rq->queues[i].name, name))
            return &rq->queues[i];
    }
    return NULL;
}

/* The held ids as the adopt script wants them: separated by spaces (ids have none). */
static char *join_held(const char *const *held, size_t nheld)
{
    size_t i, len = 1;
    char *s, *p;

    for (i = 0; i < nheld; i++)
        len += strlen(held[i]) + 1;
    if (!(s = p = malloc(len)))
        return NULL;
    *p = '\0';
    for (i = 0; i < nheld; i++)
        p += sprintf(p, "%s%s", i ? " " : "", held[i]);
    return s;
}

static int send_adopt(struct rq *rq, struct fetch_op *op, const char *const *held, size_t nheld)
{
    char proc[KEYS_NAME_MAX], prefix[KEYS_NAME_MAX];
    char *ids = join_held(held, nheld);
    const char *keys[1] = {proc}, *args[4] = {rq->worker, prefix, op->q->fresh ? "1" : "0", ids};
    int r;

    if (!ids)
        return -ENOMEM;
    keys_processing(proc, sizeof(proc), op->q->name, rq->worker);
    keys_job_prefix(prefix, sizeof(prefix), op->q->name);
    r = rq_eval(rq, QUEUE_SCRIPT_ADOPT, 1, keys, 4, args, on_adopt, op);
    free(ids);
    return r;
}

int rq_fetch(struct rq *rq, const char *queue, unsigned max, const char *const *held, size_t nheld,
             uint64_t block_ms, rq_fetch_fn *cb, void *arg)
{
    struct queue *q = find_queue(rq, queue);
    struct fetch_op *op;
    int r;

    if (!cb || !rq->worker[0] || !q || max == 0 || max > RQ_FETCH_MAX || (nheld && !held))
        return -EINVAL;
    if (rq->fetching)
        return -EBUSY;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->q = q;
    op->max = max;
    op->block_ms = block_ms;
    r = q->scan ? send_adopt(rq, op, held, nheld) : send_take(rq, op);
    if (r < 0) {
        free(op);
        return r;
    }
    rq->fetching = 1;
    return 0;
}

/* rq_mark_running */

struct start_op {
    rq_start_fn *cb;
    void *arg;
};

static void on_start(struct rq *rq, void *p, int err, redisReply *r)
{
    static const char *const names[] = {"ok", "gone", "cancelled", "done", "dead"};
    struct start_op *op = p;
    struct rq_started s = {0};
    const char *what = NULL;
    size_t i;

    (void)rq;
    if (!(err = rq_reply_status(err, r)))
        what = rq_elem_str(r, 0);
    for (i = 0; what && i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(what, names[i]))
            break;
    if (!err && (!what || i == sizeof(names) / sizeof(names[0]) || (i == 0 && !rq_elem_str(r, 1))))
        err = -EPROTO;
    if (!err) {
        s.status = (enum rq_start_status)i;
        if (s.status == RQ_START_OK) {
            s.spec = r->element[1]->str;
            s.spec_len = r->element[1]->len;
            s.attempts = rq_elem_int(r, 2);
            s.created_ms = r->elements > 3 ? rq_elem_int(r, 3) : 0;
        }
    }
    op->cb(op->arg, err, err ? NULL : &s);
    free(op);
}

int rq_mark_running(struct rq *rq, const char *id, rq_start_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], dead[KEYS_NAME_MAX],
        events[KEYS_NAME_MAX], now[24], ttl[24], maxa[16];
    const char *keys[3] = {job, proc, dead}, *args[6] = {id, rq->worker, now, ttl, maxa, events};
    struct start_op *op;
    int r;

    if (!cb || !rq->worker[0] || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_dead(dead, sizeof(dead), q);
    keys_events(events, sizeof(events), id);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(maxa, sizeof(maxa), "%u", rq->o.max_attempts);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_eval(rq, QUEUE_SCRIPT_START, 3, keys, 6, args, on_start, op)) < 0)
        free(op);
    return r;
}

/* rq_release, rq_retry */

int rq_release(struct rq *rq, const char *id, rq_int_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], proc[KEYS_NAME_MAX], pend[KEYS_NAME_MAX], prefix[KEYS_NAME_MAX],
        root[KEYS_NAME_MAX];
    const char *keys[2] = {proc, pend};
    const char *args[4] = {id, rq->worker, prefix, root};

    if (!rq->worker[0] || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_pending(pend, sizeof(pend), q);
    keys_job_prefix(prefix, sizeof(prefix), q);
    keys_queue_root(root, sizeof(root), q);
    return rq_int_script(rq, QUEUE_SCRIPT_RELEASE, 2, keys, 4, args, cb, arg);
}

int rq_retry(struct rq *rq, const char *id, uint64_t delay_ms, const char *reason, rq_int_fn *cb,
             void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], root[KEYS_NAME_MAX],
        now[24], delay[24];
    const char *keys[2] = {job, proc};
    const char *args[5] = {id, now, delay, root, reason ? reason : ""};

    if (!rq->worker[0] || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_queue_root(root, sizeof(root), q);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(delay, sizeof(delay), "%llu", (unsigned long long)delay_ms);
    return rq_int_script(rq, QUEUE_SCRIPT_RETRY, 2, keys, 5, args, cb, arg);
}
