/* SPDX-License-Identifier: MIT */
/* rq_admin: the upkeep side of rq (see rq.h): heartbeats, orphan recovery under a lock, queue
 * depths, publish and subscriptions (renewed by rq_conn.c on each reconnect), and the integer
 * completion shared with rq_ack. (P)SUBSCRIBE goes straight on the hiredis context, not through
 * rq_send_cmd: a subscription's callback runs once per message, with no timeout.
 * Must not: manage connections (rq_conn.c does), block the loop, keep global state, or decide
 * retry policy (the scripts count attempts). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rq_conn.h"

#define MAX_DEPTHS 64

/*** Integer completion (rq_heartbeat, rq_publish, rq_ack) ***/

static void int_op_done(struct rq_int_op *op)
{
    if (--op->left > 0)
        return;
    if (op->cb)
        op->cb(op->arg, op->err, op->err ? 0 : op->value);
    free(op);
}

void rq_on_int(struct rq *rq, void *p, int err, redisReply *r)
{
    struct rq_int_op *op = p;

    err = rq_reply_status(err, r);
    if (err && !op->err)
        op->err = err;
    if (!err && r->type == REDIS_REPLY_INTEGER)
        op->value = r->integer;
    int_op_done(op);
}

int rq_int_op_send(struct rq *rq, int n, const int *argc, const char **const *argv,
                   const size_t *const *lens, rq_int_fn *cb, void *arg)
{
    struct rq_int_op *op = calloc(1, sizeof(*op));
    int i, r;

    if (!op)
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->left = 1; /* guard */
    for (i = 0; i < n; i++) {
        r = rq_send_cmd(&rq->conn[CONN_CMD], rq_on_int, op, -1, argc[i], argv[i],
                        lens ? lens[i] : NULL, rq->o.command_timeout_ms);
        if (r < 0 && i == 0) {
            free(op);
            return r;
        }
        if (r < 0) {
            op->err = r;
            break;
        }
        op->left++;
    }
    int_op_done(op);
    return 0;
}

int rq_int_script(struct rq *rq, enum queue_script script, int nkeys, const char **keys, int nargs,
                  const char **args, rq_int_fn *cb, void *arg)
{
    struct rq_int_op *op = calloc(1, sizeof(*op));
    int r;

    if (!op)
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->left = 1;
    if ((r = rq_eval(rq, script, nkeys, keys, nargs, args, rq_on_int, op)) < 0)
        free(op);
    return r;
}

/* rq_heartbeat */

int rq_heartbeat(struct rq *rq, rq_int_fn *cb, void *arg)
{
    char key[KEYS_NAME_MAX], now[24], ttl[24];
    const char *set[5] = {"SET", key, now, "PX", ttl},
               *sadd[3] = {"SADD", KEYS_WORKERS, rq->worker};
    const char *const *argv[2] = {set, sadd};
    const int argc[2] = {5, 3};

    if (!rq->worker[0])
        return -EINVAL;
    keys_worker(key, sizeof(key), rq->worker);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.heartbeat_ttl_ms);
    return rq_int_op_send(rq, 2, argc, (const char **const *)argv, NULL, cb, arg);
}

/* rq_publish */

int rq_publish(struct rq *rq, const char *channel, const char *data, size_t len, rq_int_fn *cb,
               void *arg)
{
    const char *pub[3] = {"PUBLISH", channel, data};
    const size_t lens[3] = {7, channel ? strlen(channel) : 0, len};
    const char *const *argv[1] = {pub};
    const size_t *const lv[1] = {lens};
    const int argc[1] = {3};

    if (!channel || !data)
        return -EINVAL;
    return rq_int_op_send(rq, 1, argc, (const char **const *)argv, lv, cb, arg);
}

/* rq_recover_orphans: lock -> SMEMBERS -> EXISTS each heartbeat -> per dead worker: one
 * recover script per queue, then SREM once all succeeded. Replies on one connection come
 * back in order, so the n-th reply of a phase belongs to the n-th command sent. */

enum { REC_LOCK, REC_MEMBERS, REC_EXISTS, REC_SCRIPTS, REC_SREM };

struct rec_op {
    rq_recover_fn *cb;
    void *arg;
    struct rq_recovery res;
    int phase, left, err;
    char **workers;
    char *dead;
    size_t nworkers, got, cur;
};

static void rec_finish(struct rq *rq, struct rec_op *op)
{
    size_t i;

    op->cb(op->arg, op->err, op->err ? NULL : &op->res);
    for (i = 0; i < op->nworkers; i++)
        free(op->workers[i]);
    free(op->workers);
    free(op->dead);
    free(op);
}

static void on_rec(struct rq *rq, void *p, int err, redisReply *r);

static void rec_send(struct rq *rq, struct rec_op *op, int argc, const char **argv)
{
    int r = rq_send_plain(rq, on_rec, op, argc, argv);

    if (r < 0 && !op->err)
        op->err = r;
    else if (r == 0)
        op->left++;
}

static void rec_eval(struct rq *rq, struct rec_op *op, const char **keys, const char **args)
{
    int r = rq_eval(rq, QUEUE_SCRIPT_RECOVER, 3, keys, 6, args, on_rec, op);

    if (r < 0 && !op->err)
        op->err = r;
    else if (r == 0)
        op->left++;
}

/* Starts the scripts of the next dead worker, or finishes. */
static void rec_next_worker(struct rq *rq, struct rec_op *op)
{
    char proc[KEYS_NAME_MAX], pend[KEYS_NAME_MAX], dead[KEYS_NAME_MAX], prefix[KEYS_NAME_MAX],
        root[KEYS_NAME_MAX], maxa[16], now[24], ttl[24];
    const char *keys[3] = {proc, pend, dead};
    size_t i;

    while (op->cur < op->nworkers && !op->dead[op->cur])
        op->cur++;
    if (op->cur >= op->nworkers || op->err) {
        rec_finish(rq, op);
        return;
    }
    op->phase = REC_SCRIPTS;
    snprintf(maxa, sizeof(maxa), "%u", rq->o.max_attempts);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    for (i = 0; i < rq->nqueues && !op->err; i++) {
        const char *args[6] = {op->workers[op->cur], maxa, now, prefix, ttl, root};
        keys_queue_root(root, sizeof(root), rq->queues[i].name);
        keys_processing(proc, sizeof(proc), rq->queues[i].name, op->workers[op->cur]);
        keys_pending(pend, sizeof(pend), rq->queues[i].name);
        keys_dead(dead, sizeof(dead), rq->queues[i].name);
        keys_job_prefix(prefix, sizeof(prefix), rq->queues[i].name);
        rec_eval(rq, op, keys, args);
    }
    if (op->left == 0) {
        if (!op->err) { /* no queues: just forget the worker */
            const char *srem[3] = {"SREM", KEYS_WORKERS, op->workers[op->cur]};
            op->phase = REC_SREM;
            rec_send(rq, op, 3, srem);
        }
        if (op->left == 0)
            rec_finish(rq, op);
    }
}

static int rec_members(struct rq *rq, struct rec_op *op, const redisReply *r)
{
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY)
        return -EPROTO;
    op->workers = calloc(r->elements + 1, sizeof(char *));
    op->dead = calloc(r->elements + 1, 1);
    if (!op->workers || !op->dead)
        return -ENOMEM;
    for (i = 0; i < r->elements; i++) {
        const char *w = rq_elem_str(r, i);
        if (!w || keys_valid_worker(w) < 0 || !strcmp(w, rq->worker))
            continue;
        if (!(op->workers[op->nworkers] = strdup(w)))
            return -ENOMEM;
        op->nworkers++;
    }
    op->phase = REC_EXISTS;
    for (i = 0; i < op->nworkers; i++) {
        char key[KEYS_NAME_MAX];
        const char *argv[2] = {"EXISTS", key};
        keys_worker(key, sizeof(key), op->workers[i]);
        rec_send(rq, op, 2, argv);
    }
    return 0;
}

static void on_rec(struct rq *rq, void *p, int err, redisReply *r)
{
    struct rec_op *op = p;

    op->left--;
    if ((err = rq_reply_status(err, r)) < 0 && !op->err)
        op->err = err;
    if (!op->err) {
        switch (op->phase) {
        case REC_LOCK:
            if (r->type == REDIS_REPLY_NIL) {
                op->res.locked_out = 1;
            } else {
                const char *argv[2] = {"SMEMBERS", KEYS_WORKERS};
                op->phase = REC_MEMBERS;
                rec_send(rq, op, 2, argv);
            }
            break;
        case REC_MEMBERS:
            if ((err = rec_members(rq, op, r)) < 0)
                op->err = err;
            break;
        case REC_EXISTS:
            if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
                op->dead[op->got] = 1;
            op->got++;
            break;
        case REC_SCRIPTS:
            op->res.requeued += rq_elem_int(r, 0);
            op->res.dead += rq_elem_int(r, 1);
            op->res.cancelled += rq_elem_int(r, 2);
            if (op->left == 0) {
                const char *srem[3] = {"SREM", KEYS_WORKERS, op->workers[op->cur]};
                op->phase = REC_SREM;
                rec_send(rq, op, 3, srem);
            }
            break;
        default: /* REC_SREM */
            op->res.workers++;
            op->cur++;
            rec_next_worker(rq, op);
            return;
        }
    }
    if (op->left > 0)
        return;
    if (!op->err && op->phase == REC_EXISTS) {
        op->cur = 0;
        rec_next_worker(rq, op);
        return;
    }
    rec_finish(rq, op);
}

int rq_recover_orphans(struct rq *rq, rq_recover_fn *cb, void *arg)
{
    struct rec_op *op;
    char px[24];
    const char *argv[6] = {"SET", KEYS_RECOVER_LOCK, rq->worker[0] ? rq->worker : "rq", "NX", "PX",
                           px};
    int r;

    if (!cb)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    snprintf(px, sizeof(px), "%llu", (unsigned long long)rq->o.recover_lock_ms);
    if ((r = rq_send_plain(rq, on_rec, op, 6, argv)) < 0) {
        free(op);
        return r;
    }
    op->left = 1;
    return 0;
}

/* rq_queue_depths */

struct depth_op {
    rq_depths_fn *cb;
    void *arg;
    size_t n, got, sent;
    int err;
    char names[MAX_DEPTHS][KEYS_QUEUE_MAX + 1];
    struct rq_depth d[MAX_DEPTHS];
};

static void depth_done(struct depth_op *op)
{
    if (op->got < op->sent)
        return;
    op->cb(op->arg, op->err, op->err ? NULL : op->d, op->err ? 0 : op->n);
    free(op);
}

static void on_depth(struct rq *rq, void *p, int err, redisReply *r)
{
    struct depth_op *op = p;
    size_t i = op->got++;

    if ((err = rq_reply_status(err, r)) < 0 && !op->err)
        op->err = err;
    if (!err) {
        op->d[i].pending = rq_elem_int(r, 0);
        op->d[i].dead = rq_elem_int(r, 1);
        op->d[i].high = rq_elem_int(r, 2);
        op->d[i].normal = rq_elem_int(r, 3);
        op->d[i].low = rq_elem_int(r, 4);
        op->d[i].delayed = rq_elem_int(r, 5);
    }
    depth_done(op);
}

int rq_queue_depths(struct rq *rq, const char *const *queues, size_t n, rq_depths_fn *cb, void *arg)
{
    char pend[KEYS_NAME_MAX], dead[KEYS_NAME_MAX], root[KEYS_NAME_MAX];
    const char *keys[2] = {pend, dead}, *args[1] = {root};
    struct depth_op *op;
    size_t i;
    int r;

    if (!cb || n == 0 || n > MAX_DEPTHS)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (keys_valid_queue(queues[i]) < 0)
            return -EINVAL;
    }
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->n = n;
    op->sent = 1; /* guard */
    for (i = 0; i < n; i++) {
        snprintf(op->names[i], sizeof(op->names[i]), "%s", queues[i]);
        op->d[i].queue = op->names[i];
        keys_pending(pend, sizeof(pend), queues[i]);
        keys_dead(dead, sizeof(dead), queues[i]);
        keys_queue_root(root, sizeof(root), queues[i]);
        r = rq_eval(rq, QUEUE_SCRIPT_DEPTH, 2, keys, 1, args, on_depth, op);
        if (r < 0 && i == 0) {
            free(op);
            return r;
        }
        if (r < 0) {
            op->err = r;
            break;
        }
        op->sent++;
    }
    op->sent--;
    depth_done(op);
    return 0;
}

/* Pub/sub. Subscription callbacks get the connection as privdata and look the name up, so a
 * message racing an unsubscribe finds nothing instead of freed memory. */

static struct sub *find_sub(struct rq *rq, const char *name, int pattern)
{
    struct sub *s;

    for (s = rq->subs; s; s = s->next) {
        if (s->pattern == pattern && !strcmp(s->name, name))
            return s;
    }
    return NULL;
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv);

static int sub_send(struct conn *c, const char *verb, const char *name)
{
    const char *argv[2] = {verb, name};

    if (!c->ac || c->state != ST_UP)
        return -ENOTCONN;
    return redisAsyncCommandArgv(c->ac, on_sub_msg, c, 2, argv, NULL) == REDIS_OK ? 0 : -ENOTCONN;
}

void rq_subs_renew(struct conn *c)
{
    struct sub *s;

    for (s = c->rq->subs; s; s = s->next)
        sub_send(c, s->pattern ? "PSUBSCRIBE" : "SUBSCRIBE", s->name);
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv)
{
    struct conn *c = priv;
    redisReply *r = reply;
    const char *kind, *name;
    struct sub *s;

    if (!r || r->type != REDIS_REPLY_ARRAY || !(kind = rq_elem_str(r, 0)) ||
        !(name = rq_elem_str(r, 1)))
        return;
    if (!strcmp(kind, "message") && (s = find_sub(c->rq, name, 0)) && rq_elem_str(r, 2))
        s->cb(s->arg, name, r->element[2]->str, r->element[2]->len);
    else if (!strcmp(kind, "pmessage") && (s = find_sub(c->rq, name, 1)) && rq_elem_str(r, 2) &&
             rq_elem_str(r, 3))
        s->cb(s->arg, r->element[2]->str, r->element[3]->str, r->element[3]->len);
    else if (!strcmp(kind, "subscribe") && (s = find_sub(c->rq, name, 0)))
        s->cb(s->arg, name, NULL, 0);
    else if (!strcmp(kind, "psubscribe") && (s = find_sub(c->rq, name, 1)))
        s->cb(s->arg, name, NULL, 0);
}

int rq_subscribe(struct rq *rq, const char *name, int pattern, rq_message_fn *cb, void *arg)
{
    struct conn *c = &rq->conn[CONN_SUB];
    struct sub *s;

    if (!name || !*name || !cb || rq->closing)
        return -EINVAL;
    if (find_sub(rq, name, !!pattern))
        return -EEXIST;
    if (!(s = calloc(1, sizeof(*s))) || !(s->name = strdup(name))) {
        free(s);
        return -ENOMEM;
    }
    s->pattern = !!pattern;
    s->cb = cb;
    s->arg = arg;
    s->next = rq->subs;
    rq->subs = s;
    if (c->state == ST_UP)
        sub_send(c, s->pattern ? "PSUBSCRIBE" : "SUBSCRIBE", s->name);
    else if (c->state == ST_DOWN && !uv_is_active((uv_handle_t *)&c->timer))
        rq_conn_start(c);
    return 0;
}

int rq_unsubscribe(struct rq *rq, const char *name)
{
    struct sub **pp, *s;

    for (pp = &rq->subs; (s = *pp); pp = &s->next) {
        if (!strcmp(s->name, name)) {
            *pp = s->next;
            sub_send(&rq->conn[CONN_SUB], s->pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", s->name);
            free(s->name);
            free(s);
            return 0;
        }
    }
    return -ENOENT;
}

/* rq_language_version_set, rq_language_versions */

int rq_language_version_set(struct rq *rq, const char *name, const char *version, rq_int_fn *cb,
                            void *arg)
{
    const char *argv[4] = {"HSET", KEYS_LANGUAGES, name, version};
    const char **const cmds[1] = {argv};
    int argc[1] = {4};

    if (!name || !version)
        return -EINVAL;
    return rq_int_op_send(rq, 1, argc, cmds, NULL, cb, arg);
}

struct versions_op {
    rq_versions_fn *cb;
    void *arg;
};

static void on_versions(struct rq *rq, void *p, int err, redisReply *r)
{
    struct versions_op *op = p;
    const char **names = NULL, **versions = NULL;
    size_t i, n = 0;

    (void)rq;
    if (!(err = rq_reply_status(err, r)) && (r->type != REDIS_REPLY_ARRAY || r->elements % 2))
        err = -EPROTO;
    if (!err && r->elements) {
        names = calloc(r->elements / 2, sizeof(*names));
        versions = calloc(r->elements / 2, sizeof(*versions));
        if (!names || !versions)
            err = -ENOMEM;
    }
    for (i = 0; !err && i < r->elements; i += 2) {
        names[n] = rq_elem_str(r, i);
        versions[n] = rq_elem_str(r, i + 1);
        n += names[n] && versions[n];
    }
    op->cb(op->arg, err, err ? NULL : names, err ? NULL : versions, err ? 0 : n);
    free(names);
    free(versions);
    free(op);
}

int rq_language_versions(struct rq *rq, rq_versions_fn *cb, void *arg)
{
    const char *argv[2] = {"HGETALL", KEYS_LANGUAGES};
    struct versions_op *op;
    int r;

    if (!cb)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_send_plain(rq, on_versions, op, 2, argv)) < 0)
        free(op);
    return r;
}
