/* SPDX-License-Identifier: MIT */
/* rq: the handle's lifecycle (URL, options, open/close) and the job operations: enqueue,
 * ack, cancel, get job, delete. Fetching and starting jobs are rq_fetch.c's, connections and
 * commands rq_conn.c's; heartbeat, recovery, depths and pub/sub rq_admin.c's.
 * Must not: talk to hiredis beyond reading replies, block the loop, keep global state, or
 * decide retry policy for jobs. */
#include "rq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "rq_conn.h"

/*** URL ***/

int rq_url_parse(const char *url, struct rq_url *u)
{
    const char *p, *at, *end, *hs, *he;
    char *e;
    long v;

    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (!url || strncmp(url, "redis://", 8) != 0)
        return -EINVAL;
    p = url + 8;
    end = p + strcspn(p, "/");
    at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || (size_t)(colon - p) >= sizeof(u->user) ||
            (size_t)(at - colon - 1) >= sizeof(u->password))
            return -EINVAL;
        memcpy(u->user, p, (size_t)(colon - p));
        memcpy(u->password, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    if (*p == '[') {
        hs = p + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (!he)
            return -EINVAL;
        p = he + 1;
    } else {
        hs = p;
        he = memchr(p, ':', (size_t)(end - p));
        if (!he)
            he = end;
        p = he;
    }
    if (he == hs || (size_t)(he - hs) >= sizeof(u->host))
        return -EINVAL;
    memcpy(u->host, hs, (size_t)(he - hs));
    if (*p == ':') {
        if (p + 1 == end || p[1] < '0' || p[1] > '9')
            return -EINVAL;
        v = strtol(p + 1, &e, 10);
        if (e != end || v < 1 || v > 65535)
            return -EINVAL;
        u->port = (int)v;
    } else if (p != end) {
        return -EINVAL;
    }
    if (*end == '/' && end[1]) {
        if (end[1] < '0' || end[1] > '9')
            return -EINVAL;
        v = strtol(end + 1, &e, 10);
        if (*e || v < 0 || v > 65535)
            return -EINVAL;
        u->db = (int)v;
    }
    return 0;
}

/*** Lifecycle ***/

int rq_open(uv_loop_t *loop, const struct rq_options *opt, struct rq **out)
{
    struct rq *rq;
    size_t i;

    if (!loop || !opt || !out || (opt->worker && keys_valid_worker(opt->worker) < 0))
        return -EINVAL;
    for (i = 0; i < opt->nqueues; i++) {
        if (keys_valid_queue(opt->queues[i]) < 0)
            return -EINVAL;
    }
    if (!(rq = calloc(1, sizeof(*rq))))
        return -ENOMEM;
    if (rq_url_parse(opt->url, &rq->url) < 0) {
        free(rq);
        return -EINVAL;
    }
    rq->queues = calloc(opt->nqueues ? opt->nqueues : 1, sizeof(*rq->queues));
    if (!rq->queues) {
        free(rq);
        return -ENOMEM;
    }
    for (i = 0; i < opt->nqueues; i++) {
        snprintf(rq->queues[i].name, sizeof(rq->queues[i].name), "%s", opt->queues[i]);
        rq->queues[i].scan = rq->queues[i].fresh = 1;
    }
    rq->nqueues = opt->nqueues;
    rq->loop = loop;
    rq->o = *opt;
    rq->o.url = rq->o.worker = NULL;
    rq->o.queues = NULL;
    if (opt->worker)
        snprintf(rq->worker, sizeof(rq->worker), "%s", opt->worker);
#define DEFAULT(f, v) rq->o.f = rq->o.f ? rq->o.f : (v)
    DEFAULT(connect_timeout_ms, 2000);
    DEFAULT(command_timeout_ms, 5000);
    DEFAULT(reconnect_min_ms, 50);
    DEFAULT(reconnect_max_ms, 2000);
    DEFAULT(heartbeat_ttl_ms, rq->o.heartbeat_ms * 3 > 1000 ? rq->o.heartbeat_ms * 3 : 1000);
    DEFAULT(max_attempts, 3);
    DEFAULT(recover_lock_ms, 5000);
#undef DEFAULT
    rq_conn_open(rq);
    *out = rq;
    return 0;
}

void rq_close(struct rq *rq, void (*closed)(void *arg), void *arg)
{
    rq->closing = 1;
    rq->closed = closed;
    rq->closed_arg = arg;
    rq_conn_close(rq);
}

int rq_connected(const struct rq *rq)
{
    return rq->conn[CONN_CMD].state == ST_UP;
}

/* rq_enqueue */

struct enq_op {
    rq_enqueue_fn *cb;
    void *arg;
    struct rq_enqueued res;
};

static void on_enqueue(struct rq *rq, void *p, int err, redisReply *r)
{
    struct enq_op *op = p;
    const char *what = NULL, *id;

    if (!(err = rq_reply_status(err, r)))
        what = rq_elem_str(r, 0);
    if (!err && what && !strcmp(what, "ok") && (id = rq_elem_str(r, 1))) {
        snprintf(op->res.id, sizeof(op->res.id), "%s", id);
        op->res.status = RQ_ENQUEUED;
        op->res.depth = rq_elem_int(r, 2);
    } else if (!err && what && !strcmp(what, "dup") && (id = rq_elem_str(r, 1))) {
        snprintf(op->res.id, sizeof(op->res.id), "%s", id);
        op->res.status = RQ_DUPLICATE;
    } else if (!err && what && !strcmp(what, "full")) {
        op->res.status = RQ_FULL;
        op->res.depth = rq_elem_int(r, 1);
        op->res.id[0] = '\0';
    } else if (!err) {
        err = what && !strcmp(what, "exists") ? -EEXIST : -EPROTO;
    }
    op->cb(op->arg, err, err ? NULL : &op->res);
    free(op);
}

const char *rq_lane_name(enum rq_lane lane)
{
    static const char *const names[] = {"high", "normal", "low"};

    return (unsigned)lane < 3 ? names[lane] : "normal";
}

int rq_enqueue_at(struct rq *rq, const char *queue, const char *spec, const char *idem_key,
                  uint64_t idem_ttl_ms, uint64_t max_depth, enum rq_lane lane,
                  uint64_t run_at_ms, rq_enqueue_fn *cb, void *arg)
{
    char pend[KEYS_NAME_MAX + 8], job[KEYS_NAME_MAX], idem[KEYS_NAME_MAX], root[KEYS_NAME_MAX],
        now[24], maxd[24], ttl[24], at[24];
    uint8_t rnd[KEYS_RANDOM_BYTES];
    struct enq_op *op;
    int r;

    if (!cb || !spec || (idem_key && keys_valid_idem(idem_key) < 0) || (unsigned)lane > 2)
        return -EINVAL;
    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        return errno == EAGAIN ? -EAGAIN : -EIO; /* never wait for entropy on the loop */
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    if ((r = keys_job_id_make(queue, rnd, op->res.id, sizeof(op->res.id))) < 0 ||
        (r = keys_pending(pend, sizeof(pend), queue)) < 0 ||
        (r = keys_queue_root(root, sizeof(root), queue)) < 0 ||
        (r = keys_job(job, sizeof(job), op->res.id)) < 0 ||
        (idem_key && (r = keys_idem(idem, sizeof(idem), queue, idem_key)) < 0)) {
        free(op);
        return r;
    }
    if (lane != RQ_LANE_NORMAL) /* the lanes as keys.h names them */
        snprintf(pend + strlen(pend), sizeof(pend) - strlen(pend), ":%s", rq_lane_name(lane));
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(maxd, sizeof(maxd), "%llu", (unsigned long long)max_depth);
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)(idem_ttl_ms ? idem_ttl_ms : 86400000));
    snprintf(at, sizeof(at), "%llu", (unsigned long long)run_at_ms);
    op->cb = cb;
    op->arg = arg;
    {
        const char *keys[3] = {pend, job, idem};
        const char *args[8] = {op->res.id, spec, now, maxd, ttl, root, rq_lane_name(lane), at};
        r = rq_eval(rq, QUEUE_SCRIPT_ENQUEUE, idem_key ? 3 : 2, keys, 8, args, on_enqueue, op);
    }
    if (r < 0)
        free(op);
    return r;
}

int rq_enqueue(struct rq *rq, const char *queue, const char *spec, const char *idem_key,
               uint64_t idem_ttl_ms, uint64_t max_depth, rq_enqueue_fn *cb, void *arg)
{
    return rq_enqueue_at(rq, queue, spec, idem_key, idem_ttl_ms, max_depth, RQ_LANE_NORMAL, 0,
                         cb, arg);
}

/* rq_ack */


int rq_ack(struct rq *rq, const char *id, const char *state, const char *result_json, rq_int_fn *cb,
           void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], pend[KEYS_NAME_MAX],
        dead[KEYS_NAME_MAX], ev[KEYS_NAME_MAX], now[24], ttl[24], msg[256];
    const char *keys[4] = {job, proc, pend, dead};
    const char *args[7] = {id, state, result_json, now, ttl, ev, msg};

    if (!rq->worker[0] || !result_json || !state || keys_job_id_parse(id, q, sizeof(q)) < 0 ||
        (strcmp(state, "completed") && strcmp(state, "failed") && strcmp(state, "cancelled")))
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_pending(pend, sizeof(pend), q);
    keys_dead(dead, sizeof(dead), q);
    keys_events(ev, sizeof(ev), id);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"event\":\"finished\",\"state\":\"%s\"}", id,
             state);
    return rq_int_script(rq, QUEUE_SCRIPT_FINISH, 4, keys, 7, args, cb, arg);
}

/* rq_cancel */

struct cancel_op {
    rq_cancel_fn *cb;
    void *arg;
};

static void on_cancel(struct rq *rq, void *p, int err, redisReply *r)
{
    static const char *const names[] = {"cancelled", "running", "flagged", "finished", "missing"};
    struct cancel_op *op = p;
    enum rq_cancel_status st = RQ_CANCEL_MISSING;
    const char *what = NULL;
    size_t i;

    if (!(err = rq_reply_status(err, r)))
        what = rq_elem_str(r, 0);
    for (i = 0; what && i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(what, names[i]))
            break;
    }
    if (!err && (!what || i == sizeof(names) / sizeof(names[0])))
        err = -EPROTO;
    else if (!err)
        st = (enum rq_cancel_status)i;
    op->cb(op->arg, err, st);
    free(op);
}

int rq_cancel(struct rq *rq, const char *id, rq_cancel_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], pend[KEYS_NAME_MAX], ev[KEYS_NAME_MAX], now[24],
        ttl[24], evmsg[256], ctlmsg[256], root[KEYS_NAME_MAX];
    const char *keys[2] = {job, pend};
    const char *args[8] = {id, now, ttl, KEYS_CONTROL_PREFIX, ev, evmsg, ctlmsg, root};
    struct cancel_op *op;
    int r;

    if (!cb || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_pending(pend, sizeof(pend), q);
    keys_queue_root(root, sizeof(root), q);
    keys_events(ev, sizeof(ev), id);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)rq_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(evmsg, sizeof(evmsg),
             "{\"id\":\"%s\",\"event\":\"cancelled\",\"state\":\"cancelled\"}", id);
    snprintf(ctlmsg, sizeof(ctlmsg), "{\"cmd\":\"cancel\",\"id\":\"%s\"}", id);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = rq_eval(rq, QUEUE_SCRIPT_CANCEL, 2, keys, 8, args, on_cancel, op)) < 0)
        free(op);
    return r;
}

/* rq_get_job */

struct get_op {
    rq_job_fn *cb;
    void *arg;
    char id[KEYS_ID_MAX + 1];
};

static void on_get(struct rq *rq, void *p, int err, redisReply *r)
{
    struct get_op *op = p;
    struct rq_job j = {
        .id = op->id, .state = "", .worker = "", .spec = "", .result = "", .reason = "",
        .webhook = ""};
    size_t i;

    if (!(err = rq_reply_status(err, r)) && r->type != REDIS_REPLY_ARRAY)
        err = -EPROTO;
    if (!err && r->elements == 0)
        err = -ENOENT;
    for (i = 0; !err && i + 1 < r->elements; i += 2) {
        const char *k = rq_elem_str(r, i), *v = rq_elem_str(r, i + 1);
        if (!k || !v)
            continue;
        if (!strcmp(k, "state"))
            j.state = v;
        else if (!strcmp(k, "worker"))
            j.worker = v;
        else if (!strcmp(k, "spec"))
            j.spec = v;
        else if (!strcmp(k, "result"))
            j.result = v;
        else if (!strcmp(k, "reason"))
            j.reason = v;
        else if (!strcmp(k, "webhook"))
            j.webhook = v;
        else if (!strcmp(k, "attempts"))
            j.attempts = strtoll(v, NULL, 10);
        else if (!strcmp(k, "abandoned"))
            j.abandoned = strtoll(v, NULL, 10);
        else if (!strcmp(k, "created_ms"))
            j.created_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "started_ms"))
            j.started_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "finished_ms"))
            j.finished_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "cancel"))
            j.cancel_requested = !strcmp(v, "1");
    }
    op->cb(op->arg, err, err ? NULL : &j);
    free(op);
}

int rq_get_job(struct rq *rq, const char *id, rq_job_fn *cb, void *arg)
{
    char job[KEYS_NAME_MAX];
    const char *argv[2] = {"HGETALL", job};
    struct get_op *op;
    int r;

    if (!cb || keys_job(job, sizeof(job), id) < 0)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    snprintf(op->id, sizeof(op->id), "%s", id);
    if ((r = rq_send_plain(rq, on_get, op, 2, argv)) < 0)
        free(op);
    return r;
}

/* rq_delete_finished: one script, an integer back. */

int rq_job_note(struct rq *rq, const char *id, const char *field, const char *value, rq_int_fn *cb,
                void *arg)
{
    char job[KEYS_NAME_MAX];
    const char *keys[1] = {job}, *args[2] = {field, value};

    if (!field || !value || keys_job(job, sizeof(job), id) < 0)
        return -EINVAL;
    return rq_int_script(rq, QUEUE_SCRIPT_NOTE, 1, keys, 2, args, cb, arg);
}

int rq_delete_finished(struct rq *rq, const char *id, rq_int_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX];
    const char *keys[1] = {job};

    if (keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    return rq_int_script(rq, QUEUE_SCRIPT_DELETE, 1, keys, 0, NULL, cb, arg);
}
