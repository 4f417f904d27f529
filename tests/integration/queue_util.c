/* SPDX-License-Identifier: MIT */
/* queue_util: shared setup, callbacks and wrappers of the rq integration tests (see
 * queue_util.h). Must not: hold global state or assert anything beyond the setup. */
#include "queue_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void on_pulse(uv_timer_t *t)
{
}

int env_setup(struct tap *t, struct env *e)
{
    e->queues[0] = "default";
    e->queues[1] = "other";
    if (!tap_ok(t, redis_server_start(&e->srv) == 0, "redis-server started")) {
        redis_server_cleanup(&e->srv);
        return -1;
    }
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->pulse);
    uv_timer_start(&e->pulse, on_pulse, 5, 5);
    e->sync = redisConnect("127.0.0.1", e->srv.port);
    e->prod = open_rq(e, NULL, 0, 0);
    e->w1 = open_rq(e, "w1", 5000, 2);
    e->w2 = open_rq(e, "w2", 5000, 2);
    tap_ok(t,
           e->prod && e->w1 && e->w2 && wait_connected(e, e->prod) && wait_connected(e, e->w1) &&
               wait_connected(e, e->w2),
           "three clients connected");
    return 0;
}

void env_teardown(struct tap *t, struct env *e)
{
    int c1 = 0, c2 = 0, c3 = 0;

    rq_close(e->prod, on_closed, &c1);
    rq_close(e->w1, on_closed, &c2);
    rq_close(e->w2, on_closed, &c3);
    uv_close((uv_handle_t *)&e->pulse, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    tap_ok(t, c1 && c2 && c3, "clients closed");
    tap_ok(t, uv_loop_close(&e->loop) == 0, "no handle left on the loop");
    redisFree(e->sync);
    redis_server_cleanup(&e->srv);
}

/* Runs the loop until *flag or ms pass. Returns *flag. */
int wait_for(struct env *e, const int *flag, uint64_t ms)
{
    uint64_t end;

    uv_update_time(&e->loop);
    end = uv_now(&e->loop) + ms;
    while (!*flag && uv_now(&e->loop) < end)
        uv_run(&e->loop, UV_RUN_ONCE);
    return *flag;
}

void sleep_loop(struct env *e, uint64_t ms)
{
    int never = 0;

    wait_for(e, &never, ms);
}

long long sync_int(struct env *e, const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(e->sync, fmt, a, b);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    if (r)
        freeReplyObject(r);
    return v;
}

void cb_enq(void *arg, int status, const struct rq_enqueued *en)
{
    struct res *r = arg;

    r->status = status;
    if (en)
        r->enq = *en;
    r->done = 1;
}

void cb_fetch(void *arg, int status, const struct rq_fetched *jobs, size_t n)
{
    struct res *r = arg;
    size_t i;

    r->status = status;
    r->nfetched = n;
    r->started = n && jobs[0].started;
    for (i = 0; i < n && i < sizeof(r->ids) / sizeof(r->ids[0]); i++)
        snprintf(r->ids[i], sizeof(r->ids[i]), "%s", jobs[i].id);
    snprintf(r->id, sizeof(r->id), "%s", n ? jobs[0].id : "");
    if (r->started) {
        r->start = jobs[0].s.status;
        r->attempts = jobs[0].s.attempts;
        snprintf(r->spec, sizeof(r->spec), "%.*s", (int)jobs[0].s.spec_len, jobs[0].s.spec);
    }
    r->done = 1;
}

void cb_start(void *arg, int status, const struct rq_started *s)
{
    struct res *r = arg;

    r->status = status;
    if (s) {
        r->start = s->status;
        r->attempts = s->attempts;
        snprintf(r->spec, sizeof(r->spec), "%.*s", (int)s->spec_len, s->spec ? s->spec : "");
    }
    r->done = 1;
}

void cb_int(void *arg, int status, long long v)
{
    struct res *r = arg;

    r->status = status;
    r->value = v;
    r->done = 1;
}

void cb_job(void *arg, int status, const struct rq_job *j)
{
    struct res *r = arg;

    r->status = status;
    if (j) {
        snprintf(r->state, sizeof(r->state), "%s", j->state);
        snprintf(r->worker, sizeof(r->worker), "%s", j->worker);
        snprintf(r->reason, sizeof(r->reason), "%s", j->reason);
        snprintf(r->result, sizeof(r->result), "%s", j->result);
        snprintf(r->spec, sizeof(r->spec), "%s", j->spec);
        r->attempts = j->attempts;
        r->abandoned = j->abandoned;
        r->cancel_requested = j->cancel_requested;
    }
    r->done = 1;
}

void cb_rec(void *arg, int status, const struct rq_recovery *rec)
{
    struct res *r = arg;

    r->status = status;
    if (rec)
        r->rec = *rec;
    r->done = 1;
}

void cb_cancel(void *arg, int status, enum rq_cancel_status st)
{
    struct res *r = arg;

    r->status = status;
    r->cancel = st;
    r->done = 1;
}

void cb_depths(void *arg, int status, const struct rq_depth *d, size_t n)
{
    struct res *r = arg;

    r->status = status;
    r->pending = n ? d[0].pending : -1;
    r->dead = n ? d[0].dead : -1;
    r->delayed = n ? d[0].delayed : -1;
    r->done = 1;
}

int enqueue(struct env *e, struct rq *rq, const char *q, const char *spec, const char *idem,
            uint64_t maxd, struct res *r)
{
    return RUN(e, r, rq_enqueue(rq, q, spec, idem, 0, maxd, cb_enq, r));
}

int fetch(struct env *e, struct rq *rq, const char *q, uint64_t block, struct res *r)
{
    return fetch_n(e, rq, q, 1, block, r);
}

int fetch_n(struct env *e, struct rq *rq, const char *q, unsigned max, uint64_t block,
            struct res *r)
{
    return RUN(e, r, rq_fetch(rq, q, max, NULL, 0, block, cb_fetch, r));
}

int take_one(struct env *e, struct rq *rq, const char *q, uint64_t block, struct res *r)
{
    char id[KEYS_ID_MAX + 1];
    int s = fetch(e, rq, q, block, r);

    if (s < 0 || !r->id[0] || r->started)
        return s;
    snprintf(id, sizeof(id), "%s", r->id);
    return start(e, rq, id, r);
}

int start(struct env *e, struct rq *rq, const char *id, struct res *r)
{
    return RUN(e, r, rq_mark_running(rq, id, cb_start, r));
}

int ack(struct env *e, struct rq *rq, const char *id, const char *state, struct res *r)
{
    return RUN(e, r, rq_ack(rq, id, state, "{\"ok\":true}", cb_int, r));
}

int get(struct env *e, const char *id, struct res *r)
{
    return RUN(e, r, rq_get_job(e->prod, id, cb_job, r));
}

/* take_one + ack on w; returns the id fetched into out (empty when none). */
int run_one(struct env *e, struct rq *w, const char *q, char *out, size_t len)
{
    struct res r = {0};

    out[0] = '\0';
    if (take_one(e, w, q, 100, &r) < 0 || !r.id[0])
        return r.status;
    snprintf(out, len, "%s", r.id);
    if (r.start != RQ_START_OK)
        return -EPROTO;
    return ack(e, w, out, "completed", &r);
}

struct rq *open_rq(struct env *e, const char *worker, uint64_t ttl, uint32_t max_att)
{
    struct rq_options o = {.url = e->srv.url,
                           .worker = worker,
                           .queues = e->queues,
                           .nqueues = 2,
                           .command_timeout_ms = 2000,
                           .heartbeat_ttl_ms = ttl,
                           .results_ttl_ms = 60000,
                           .max_attempts = max_att,
                           .recover_lock_ms = 50,
                           .reconnect_max_ms = 200};
    struct rq *rq = NULL;

    if (rq_open(&e->loop, &o, &rq) < 0)
        return NULL;
    return rq;
}

int wait_connected(struct env *e, struct rq *rq)
{
    int i;

    for (i = 0; i < 500 && !rq_connected(rq); i++)
        sleep_loop(e, 10);
    return rq_connected(rq);
}

void on_closed(void *arg)
{
    *(int *)arg = 1;
}

void on_msg(void *arg, const char *channel, const char *data, size_t len)
{
    struct inbox *in = arg;

    if (!data) {
        in->subscribed = 1;
        return;
    }
    snprintf(in->channel, sizeof(in->channel), "%s", channel);
    snprintf(in->data, sizeof(in->data), "%.*s", (int)len, data);
    in->got++;
}
