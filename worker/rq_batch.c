/* SPDX-License-Identifier: MIT */
/* rq_batch: batches in Redis (see rq.h): a batch and all its jobs enqueued by one script;
 * the batch read back (state, counts, job summaries in submission order); its shared spec for
 * the worker; the cancel of all its jobs. Counting finished jobs is the queue scripts' work
 * (finish, cancel, start and recover count a batch's job as it ends).
 * Must not: parse job specs, or decide ids' randomness beyond rq_new_id. */
#include "rq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "rq_conn.h"

int rq_new_id(const char *queue, char *out, size_t len)
{
    uint8_t rnd[KEYS_RANDOM_BYTES];

    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        return errno == EAGAIN ? -EAGAIN : -EIO; /* never wait for entropy on the loop */
    return keys_job_id_make(queue, rnd, out, len);
}

/* rq_enqueue_batch */

struct benq_op {
    rq_batch_enqueue_fn *cb;
    void *arg;
};

static void on_benq(struct rq *rq, void *p, int err, redisReply *r)
{
    struct benq_op *op = p;
    const char *what = NULL;
    long long depth = 0;

    (void)rq;
    if (!(err = rq_reply_status(err, r)))
        what = rq_elem_str(r, 0);
    if (!err && what && !strcmp(what, "full")) {
        depth = rq_elem_int(r, 1);
        err = -ENOSPC;
    } else if (!err && what && !strcmp(what, "exists"))
        err = -EEXIST;
    else if (!err && (!what || strcmp(what, "ok")))
        err = -EPROTO;
    op->cb(op->arg, err, depth);
    free(op);
}

int rq_enqueue_batch(struct rq *rq, const char *batch_id, const char *spec,
                     const char *const *ids, const char *const *specs, const char *const *names,
                     size_t n, enum rq_lane lane, uint64_t max_depth, rq_batch_enqueue_fn *cb,
                     void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], bk[KEYS_NAME_MAX], bj[KEYS_NAME_MAX], root[KEYS_NAME_MAX],
        now[24], maxd[24], count[24];
    const char *keys[2] = {bk, bj}, **args;
    struct benq_op *op;
    size_t i;
    int r;

    if (!cb || !spec || n == 0 || (unsigned)lane > 2 ||
        keys_job_id_parse(batch_id, q, sizeof(q)) < 0)
        return -EINVAL;
    for (i = 0; i < n; i++)
        if (keys_job_id_parse(ids[i], NULL, 0) < 0 || !specs[i] || !names[i])
            return -EINVAL;
    if (!(args = calloc(7 + 3 * n, sizeof(*args))) || !(op = calloc(1, sizeof(*op)))) {
        free(args);
        return -ENOMEM;
    }
    keys_batch(bk, sizeof(bk), batch_id);
    keys_batch_jobs(bj, sizeof(bj), batch_id);
    keys_queue_root(root, sizeof(root), q);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(maxd, sizeof(maxd), "%llu", (unsigned long long)max_depth);
    snprintf(count, sizeof(count), "%zu", n);
    args[0] = root, args[1] = batch_id, args[2] = spec, args[3] = now;
    args[4] = rq_lane_name(lane), args[5] = maxd, args[6] = count;
    for (i = 0; i < n; i++) {
        args[7 + 3 * i] = ids[i];
        args[8 + 3 * i] = specs[i];
        args[9 + 3 * i] = names[i];
    }
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_eval(rq, QUEUE_SCRIPT_BATCH_ENQUEUE, 2, keys, (int)(7 + 3 * n), args, on_benq,
                     op)) < 0)
        free(op);
    free(args);
    return r;
}

/* rq_get_batch: the hash and the job list in one reply (the batch_get script). */

struct bget_op {
    rq_batch_fn *cb;
    void *arg;
    char id[KEYS_ID_MAX + 1];
};

static const char *field_of(const redisReply *h, const char *key)
{
    size_t i;

    for (i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && !strcmp(h->element[i]->str, key))
            return h->element[i + 1]->str;
    return NULL;
}

static long long num_of(const redisReply *h, const char *key)
{
    const char *v = field_of(h, key);

    return v ? strtoll(v, NULL, 10) : 0;
}

static int fill_batch(const redisReply *h, const redisReply *l, const redisReply *s,
                      struct rq_batch *b, const char **ids, const char **sums,
                      const char **cnames, long long *counts)
{
    size_t i;

    if (!(b->state = field_of(h, "state")))
        return -EPROTO;
    b->total = num_of(h, "total");
    b->done = num_of(h, "done");
    b->created_ms = num_of(h, "created_ms");
    if (s->elements != l->elements)
        return -EPROTO;
    for (i = 0; i < l->elements; i++) {
        if (l->element[i]->type != REDIS_REPLY_STRING)
            return -EPROTO;
        ids[i] = l->element[i]->str;
        /* a nil (a job still running) comes as nil */
        sums[i] = s->element[i]->type == REDIS_REPLY_STRING ? s->element[i]->str : NULL;
    }
    for (i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && !strncmp(h->element[i]->str, "c:", 2)) {
            cnames[b->ncounts] = h->element[i]->str + 2;
            counts[b->ncounts++] = strtoll(h->element[i + 1]->str, NULL, 10);
        }
    b->job_ids = ids;
    b->summaries = sums;
    b->njobs = l->elements;
    b->count_names = cnames;
    b->counts = counts;
    return 0;
}

static void on_bget(struct rq *rq, void *p, int err, redisReply *r)
{
    struct bget_op *op = p;
    struct rq_batch b = {.id = op->id};
    const char **ids = NULL, **sums = NULL, **cnames = NULL;
    long long *counts = NULL;
    const redisReply *h = NULL, *l = NULL, *s = NULL;

    (void)rq;
    if (!(err = rq_reply_status(err, r)) &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
         r->element[0]->type != REDIS_REPLY_ARRAY || r->element[1]->type != REDIS_REPLY_ARRAY ||
         r->element[2]->type != REDIS_REPLY_ARRAY))
        err = -EPROTO;
    if (!err) {
        h = r->element[0];
        l = r->element[1];
        s = r->element[2];
        if (h->elements == 0)
            err = -ENOENT;
    }
    if (!err) {
        ids = calloc(l->elements + 1, sizeof(*ids));
        sums = calloc(l->elements + 1, sizeof(*sums));
        cnames = calloc(h->elements / 2 + 1, sizeof(*cnames));
        counts = calloc(h->elements / 2 + 1, sizeof(*counts));
        err = ids && sums && cnames && counts ? fill_batch(h, l, s, &b, ids, sums, cnames, counts)
                                              : -ENOMEM;
    }
    op->cb(op->arg, err, err ? NULL : &b);
    free(ids);
    free(sums);
    free(cnames);
    free(counts);
    free(op);
}

int rq_get_batch(struct rq *rq, const char *batch_id, rq_batch_fn *cb, void *arg)
{
    char bk[KEYS_NAME_MAX], bj[KEYS_NAME_MAX];
    const char *keys[2] = {bk, bj};
    struct bget_op *op;
    int r;

    if (!cb || keys_batch(bk, sizeof(bk), batch_id) < 0)
        return -EINVAL;
    keys_batch_jobs(bj, sizeof(bj), batch_id);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    snprintf(op->id, sizeof(op->id), "%s", batch_id);
    if ((r = rq_eval(rq, QUEUE_SCRIPT_BATCH_GET, 2, keys, 0, NULL, on_bget, op)) < 0)
        free(op);
    return r;
}

/* rq_batch_spec: the shared graded spec, for a worker starting one of the batch's jobs. */

struct bspec_op {
    rq_batch_spec_fn *cb;
    void *arg;
};

static void on_bspec(struct rq *rq, void *p, int err, redisReply *r)
{
    struct bspec_op *op = p;

    (void)rq;
    if (!(err = rq_reply_status(err, r)) && r->type == REDIS_REPLY_NIL)
        err = -ENOENT;
    else if (!err && r->type != REDIS_REPLY_STRING)
        err = -EPROTO;
    op->cb(op->arg, err, err ? NULL : r->str, err ? 0 : r->len);
    free(op);
}

int rq_batch_spec(struct rq *rq, const char *batch_id, rq_batch_spec_fn *cb, void *arg)
{
    char bk[KEYS_NAME_MAX];
    const char *argv[3] = {"HGET", bk, "spec"};
    struct bspec_op *op;
    int r;

    if (!cb || keys_batch(bk, sizeof(bk), batch_id) < 0)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_send_plain(rq, on_bspec, op, 3, argv)) < 0)
        free(op);
    return r;
}

/* rq_cancel_batch */

struct bcancel_op {
    rq_batch_cancel_fn *cb;
    void *arg;
};

static void on_bcancel(struct rq *rq, void *p, int err, redisReply *r)
{
    struct bcancel_op *op = p;
    long long c[3] = {0, 0, 0};

    (void)rq;
    if (!(err = rq_reply_status(err, r)) && rq_elem_int(r, 0) < 0)
        err = -ENOENT;
    else if (!err && (r->type != REDIS_REPLY_ARRAY || r->elements != 3))
        err = -EPROTO;
    for (int i = 0; !err && i < 3; i++)
        c[i] = rq_elem_int(r, (size_t)i);
    op->cb(op->arg, err, c[0], c[1], c[2]);
    free(op);
}

int rq_cancel_batch(struct rq *rq, const char *batch_id, rq_batch_cancel_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], bk[KEYS_NAME_MAX], bj[KEYS_NAME_MAX], root[KEYS_NAME_MAX],
        ev[KEYS_NAME_MAX], now[24], ttl[24];
    const char *keys[2] = {bk, bj}, *args[5] = {root, now, ttl, KEYS_CONTROL_PREFIX, ev};
    struct bcancel_op *op;
    int r;

    if (!cb || keys_job_id_parse(batch_id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_batch(bk, sizeof(bk), batch_id);
    keys_batch_jobs(bj, sizeof(bj), batch_id);
    keys_queue_root(root, sizeof(root), q);
    keys_events_prefix(ev, sizeof(ev), q);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_eval(rq, QUEUE_SCRIPT_BATCH_CANCEL, 2, keys, 5, args, on_bcancel, op)) < 0)
        free(op);
    return r;
}
