/* SPDX-License-Identifier: MIT */
/* Integration test of worker/rq against a real redis-server (tests/integration/redis_server):
 * enqueue/fetch/ack, idempotency, depth limit, FIFO, two consumers, orphan recovery and dead
 * letters, cancel, pub/sub, and a Redis crash + restart under a stream of enqueues.
 * The loop is driven step by step (wait_for) so each case reads top to bottom; a synchronous
 * hiredis context only inspects keys. Bounded by alarm(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "keys.h"
#include "redis_server.h"
#include "rq.h"
#include "tap.h"

#define NSTREAM 4000

struct env {
    uv_loop_t loop;
    uv_timer_t pulse;
    struct redis_server srv;
    redisContext *sync;
    struct rq *prod, *w1, *w2;
    const char *queues[2];
    char seen[64][KEYS_ID_MAX + 1]; /* ids taken by the two consumers */
};

/* What any callback below stores. */
struct res {
    int done, status;
    long long value;
    char id[KEYS_ID_MAX + 1];
    struct rq_enqueued enq;
    enum rq_start_status start;
    enum rq_cancel_status cancel;
    struct rq_recovery rec;
    char spec[256], state[32], worker[64], reason[128], result[128];
    long long attempts, abandoned, pending, dead;
    int cancel_requested;
};

static void on_pulse(uv_timer_t *t)
{
}

/* Runs the loop until *flag or ms pass. Returns *flag. */
static int wait_for(struct env *e, const int *flag, uint64_t ms)
{
    uint64_t end;

    uv_update_time(&e->loop);
    end = uv_now(&e->loop) + ms;
    while (!*flag && uv_now(&e->loop) < end)
        uv_run(&e->loop, UV_RUN_ONCE);
    return *flag;
}

static void sleep_loop(struct env *e, uint64_t ms)
{
    int never = 0;

    wait_for(e, &never, ms);
}

static long long sync_int(struct env *e, const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(e->sync, fmt, a, b);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    if (r)
        freeReplyObject(r);
    return v;
}

static void cb_enq(void *arg, int status, const struct rq_enqueued *en)
{
    struct res *r = arg;

    r->status = status;
    if (en)
        r->enq = *en;
    r->done = 1;
}

static void cb_fetch(void *arg, int status, const char *id)
{
    struct res *r = arg;

    r->status = status;
    snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
    r->done = 1;
}

static void cb_start(void *arg, int status, const struct rq_started *s)
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

static void cb_int(void *arg, int status, long long v)
{
    struct res *r = arg;

    r->status = status;
    r->value = v;
    r->done = 1;
}

static void cb_job(void *arg, int status, const struct rq_job *j)
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

static void cb_rec(void *arg, int status, const struct rq_recovery *rec)
{
    struct res *r = arg;

    r->status = status;
    if (rec)
        r->rec = *rec;
    r->done = 1;
}

static void cb_cancel(void *arg, int status, enum rq_cancel_status st)
{
    struct res *r = arg;

    r->status = status;
    r->cancel = st;
    r->done = 1;
}

static void cb_depths(void *arg, int status, const struct rq_depth *d, size_t n)
{
    struct res *r = arg;

    r->status = status;
    r->pending = n ? d[0].pending : -1;
    r->dead = n ? d[0].dead : -1;
    r->done = 1;
}

/* Synchronous-looking wrappers: start the request, run the loop until its callback. */
#define RUN(e, r, call)                                                                            \
    ((r)->done = 0, (call) == 0 && wait_for((e), &(r)->done, 5000) ? (r)->status : -EIO)

static int enqueue(struct env *e, struct rq *rq, const char *q, const char *spec, const char *idem,
                   uint64_t maxd, struct res *r)
{
    return RUN(e, r, rq_enqueue(rq, q, spec, idem, 0, maxd, cb_enq, r));
}

static int fetch(struct env *e, struct rq *rq, const char *q, uint64_t block, struct res *r)
{
    return RUN(e, r, rq_fetch(rq, q, block, cb_fetch, r));
}

static int start(struct env *e, struct rq *rq, const char *id, struct res *r)
{
    return RUN(e, r, rq_mark_running(rq, id, cb_start, r));
}

static int ack(struct env *e, struct rq *rq, const char *id, const char *state, struct res *r)
{
    return RUN(e, r, rq_ack(rq, id, state, "{\"ok\":true}", cb_int, r));
}

static int get(struct env *e, const char *id, struct res *r)
{
    return RUN(e, r, rq_get_job(e->prod, id, cb_job, r));
}

/* fetch + start + ack on w; returns the id fetched into out (empty when none). */
static int run_one(struct env *e, struct rq *w, const char *q, char *out, size_t len)
{
    struct res r = {0};

    out[0] = '\0';
    if (fetch(e, w, q, 100, &r) < 0 || !r.id[0])
        return r.status;
    snprintf(out, len, "%s", r.id);
    if (start(e, w, out, &r) < 0 || r.start != RQ_START_OK)
        return -EPROTO;
    return ack(e, w, out, "completed", &r);
}

static void test_url(struct tap *t)
{
    struct rq_url u;

    tap_ok(t,
           rq_url_parse("redis://127.0.0.1:6380/2", &u) == 0 && !strcmp(u.host, "127.0.0.1") &&
               u.port == 6380 && u.db == 2,
           "url: host, port, db");
    tap_ok(t,
           rq_url_parse("redis://:sec@cache", &u) == 0 && !strcmp(u.password, "sec") &&
               !strcmp(u.host, "cache") && u.port == 6379 && !u.user[0],
           "url: password, default port");
    tap_ok(t,
           rq_url_parse("redis://bob:pw@[::1]:7000", &u) == 0 && !strcmp(u.host, "::1") &&
               u.port == 7000 && !strcmp(u.user, "bob"),
           "url: user and IPv6 host");
    tap_ok(t,
           rq_url_parse("http://x", &u) == -EINVAL && rq_url_parse("redis://h:0", &u) == -EINVAL &&
               rq_url_parse("redis://h:99999", &u) == -EINVAL &&
               rq_url_parse("redis://:6379", &u) == -EINVAL &&
               rq_url_parse("redis://h/x", &u) == -EINVAL,
           "url: bad scheme, port, host, db rejected");
}

static struct rq *open_rq(struct env *e, const char *worker, uint64_t ttl, uint32_t max_att)
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

static int wait_connected(struct env *e, struct rq *rq)
{
    int i;

    for (i = 0; i < 500 && !rq_connected(rq); i++)
        sleep_loop(e, 10);
    return rq_connected(rq);
}

static void test_basic(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    char id[KEYS_ID_MAX + 1], id2[KEYS_ID_MAX + 1], proc[KEYS_NAME_MAX], job[KEYS_NAME_MAX];

    tap_ok(t,
           enqueue(e, e->prod, "default", "{\"x\":1}", NULL, 0, &r) == 0 &&
               r.enq.status == RQ_ENQUEUED && keys_job_id_parse(r.enq.id, NULL, 0) == 0 &&
               r.enq.depth == 1,
           "enqueue returns a valid id (%s)", r.enq.id);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    tap_ok(t, get(e, id, &g) == 0 && !strcmp(g.state, "queued") && !strcmp(g.spec, "{\"x\":1}"),
           "job hash: queued with its spec");
    tap_ok(t, fetch(e, e->w1, "default", 1000, &r) == 0 && !strcmp(r.id, id), "fetch gets it");
    keys_processing(proc, sizeof(proc), "default", "w1");
    tap_ok(t, sync_int(e, "LLEN %s", proc, NULL) == 1, "id sits in w1's processing list");
    tap_ok(t,
           start(e, e->w1, id, &r) == 0 && r.start == RQ_START_OK && r.attempts == 1 &&
               !strcmp(r.spec, "{\"x\":1}"),
           "mark running: spec and attempts 1");
    tap_ok(t, get(e, id, &g) == 0 && !strcmp(g.state, "running") && !strcmp(g.worker, "w1"),
           "job is running on w1");
    tap_ok(t, ack(e, e->w1, id, "completed", &r) == 0 && r.value == 1, "ack answers 1");
    tap_ok(t,
           get(e, id, &g) == 0 && !strcmp(g.state, "completed") &&
               !strcmp(g.result, "{\"ok\":true}"),
           "job completed with its result");
    keys_job(job, sizeof(job), id);
    tap_ok(t, sync_int(e, "LLEN %s", proc, NULL) == 0 && sync_int(e, "PTTL %s", job, NULL) > 0,
           "processing list empty, result hash has a TTL");
    tap_ok(t, ack(e, e->w1, id, "completed", &r) == 0 && r.value == 0,
           "a second ack is answered 0 (not ours any more)");
    tap_ok(t, fetch(e, e->w1, "default", 100, &r) == 0 && !r.id[0], "empty queue: fetch times out");
    tap_ok(t, get(e, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa", &g) == -ENOENT, "unknown job: -ENOENT");
    tap_ok(t, rq_get_job(e->prod, "bogus", cb_job, &g) == -EINVAL, "malformed id: -EINVAL");

    /* idempotency */
    enqueue(e, e->prod, "default", "{}", "key-1", 0, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    tap_ok(t,
           enqueue(e, e->prod, "default", "{}", "key-1", 0, &g) == 0 &&
               g.enq.status == RQ_DUPLICATE && !strcmp(g.enq.id, id),
           "same idempotency key -> same id");
    tap_ok(t, sync_int(e, "LLEN %s", "runq:{default}:pending", NULL) == 1, "and one job only");
    tap_ok(t, run_one(e, e->w1, "default", id2, sizeof(id2)) == 0 && !strcmp(id, id2),
           "the job runs once");

    /* depth limit */
    enqueue(e, e->prod, "small", "{}", NULL, 2, &r);
    enqueue(e, e->prod, "small", "{}", NULL, 2, &r);
    tap_ok(t,
           enqueue(e, e->prod, "small", "{}", NULL, 2, &r) == 0 && r.enq.status == RQ_FULL &&
               r.enq.depth == 2,
           "third enqueue at max depth 2 -> full");
    {
        const char *qs[1] = {"small"};
        r.done = 0;
        tap_ok(t,
               rq_queue_depths(e->prod, qs, 1, cb_depths, &r) == 0 && wait_for(e, &r.done, 5000) &&
                   r.pending == 2 && r.dead == 0,
               "depths: small has 2 pending");
    }
}

static void test_fifo(struct tap *t, struct env *e)
{
    char ids[5][KEYS_ID_MAX + 1], got[KEYS_ID_MAX + 1];
    struct res r = {0};
    int i, ok = 1;

    for (i = 0; i < 5; i++) {
        enqueue(e, e->prod, "other", "{}", NULL, 0, &r);
        snprintf(ids[i], sizeof(ids[i]), "%s", r.enq.id);
    }
    for (i = 0; i < 5; i++) {
        if (run_one(e, e->w1, "other", got, sizeof(got)) < 0 || strcmp(got, ids[i]))
            ok = 0;
    }
    tap_ok(t, ok, "FIFO: 5 jobs come out in enqueue order");
}

/* Two consumers, each chaining fetch -> start -> ack -> fetch until the queue is empty. */
struct consumer {
    struct rq *rq;
    int done, count, errors;
    char cur[KEYS_ID_MAX + 1];
    char (*seen)[KEYS_ID_MAX + 1];
    int *nseen;
};

static void c_fetched(void *arg, int status, const char *id);

static void c_acked(void *arg, int status, long long v)
{
    struct consumer *c = arg;

    if (status < 0 || v != 1 || rq_fetch(c->rq, "default", 200, c_fetched, c) < 0) {
        c->errors++;
        c->done = 1;
    }
}

static void c_started(void *arg, int status, const struct rq_started *s)
{
    struct consumer *c = arg;

    if (status < 0 || s->status != RQ_START_OK ||
        rq_ack(c->rq, c->cur, "completed", "{}", c_acked, c) < 0) {
        c->errors++;
        c->done = 1;
    }
}

static void c_fetched(void *arg, int status, const char *id)
{
    struct consumer *c = arg;

    if (status < 0 || !id) {
        c->errors += status < 0;
        c->done = 1;
        return;
    }
    snprintf(c->cur, sizeof(c->cur), "%s", id);
    snprintf(c->seen[(*c->nseen)++], KEYS_ID_MAX + 1, "%s", id);
    c->count++;
    if (rq_mark_running(c->rq, id, c_started, c) < 0) {
        c->errors++;
        c->done = 1;
    }
}

static void test_two_consumers(struct tap *t, struct env *e)
{
    struct consumer a = {.rq = e->w1, .seen = e->seen}, b = {.rq = e->w2, .seen = e->seen};
    struct res r = {0};
    int nseen = 0, i, j, dup = 0;

    a.nseen = b.nseen = &nseen;
    for (i = 0; i < 40; i++)
        enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    rq_fetch(a.rq, "default", 200, c_fetched, &a);
    rq_fetch(b.rq, "default", 200, c_fetched, &b);
    wait_for(e, &a.done, 10000);
    wait_for(e, &b.done, 10000);
    for (i = 0; i < nseen; i++) {
        for (j = i + 1; j < nseen; j++)
            dup += !strcmp(e->seen[i], e->seen[j]);
    }
    tap_ok(t, nseen == 40 && dup == 0 && !a.errors && !b.errors,
           "two consumers: 40 jobs, each delivered once (w1 %d, w2 %d, dup %d)", a.count, b.count,
           dup);
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

/* A worker takes a job, starts it and "dies" (closed without ack, heartbeat left to expire). */
static void die_with_job(struct tap *t, struct env *e, const char *name, const char *id)
{
    struct rq *w = open_rq(e, name, 300, 2);
    struct res r = {0};
    int closed = 0;

    wait_connected(e, w);
    RUN(e, &r, rq_heartbeat(w, cb_int, &r));
    fetch(e, w, "default", 1000, &r);
    tap_ok(t, !strcmp(r.id, id), "%s fetched the job", name);
    start(e, w, id, &r);
    rq_close(w, on_closed, &closed);
    wait_for(e, &closed, 2000);
    sleep_loop(e, 400); /* heartbeat ttl 300 ms */
}

static void test_orphans(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    char id[KEYS_ID_MAX + 1];

    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    RUN(e, &r, rq_heartbeat(e->w1, cb_int, &r));
    die_with_job(t, e, "w-dead", id);
    RUN(e, &r, rq_recover_orphans(e->w1, cb_rec, &r));
    tap_ok(t,
           r.status == 0 && !r.rec.locked_out && r.rec.workers == 1 && r.rec.requeued == 1 &&
               r.rec.dead == 0,
           "recovery: 1 dead worker, 1 job requeued (workers %lld requeued %lld)", r.rec.workers,
           r.rec.requeued);
    tap_ok(t, RUN(e, &g, rq_recover_orphans(e->w2, cb_rec, &g)) == 0 && g.rec.locked_out,
           "a second recovery right after is locked out");
    tap_ok(t,
           get(e, id, &g) == 0 && !strcmp(g.state, "queued") && g.abandoned == 1 &&
               g.attempts == 1 && !g.worker[0],
           "job back to queued, abandoned 1, attempts 1 (starts)");
    tap_ok(t,
           sync_int(e, "LLEN %s", "runq:{default}:pending", NULL) == 1 &&
               sync_int(e, "SISMEMBER %s %s", KEYS_WORKERS, "w-dead") == 0 &&
               sync_int(e, "SISMEMBER %s %s", KEYS_WORKERS, "w1") == 1,
           "id in pending, dead worker removed from runq:workers, live one kept");
    die_with_job(t, e, "w-dead2", id); /* second start: attempts 2 = max_attempts */
    sleep_loop(e, 60);                 /* recovery lock PX 50 */
    tap_ok(t,
           RUN(e, &r, rq_recover_orphans(e->w1, cb_rec, &r)) == 0 && r.rec.dead == 1 &&
               r.rec.requeued == 0,
           "past max attempts: recovery sends it to dead");
    tap_ok(t,
           get(e, id, &g) == 0 && !strcmp(g.state, "failed") &&
               !strcmp(g.reason, "abandoned by worker w-dead2 2 times"),
           "failed with reason '%s'", g.reason);
    tap_ok(t,
           sync_int(e, "LLEN %s", "runq:{default}:dead", NULL) == 1 &&
               sync_int(e, "LLEN %s", "runq:{default}:pending", NULL) == 0,
           "dead list holds it, pending is empty");
}

struct inbox {
    int subscribed, got;
    char channel[KEYS_NAME_MAX], data[256];
};

static void on_msg(void *arg, const char *channel, const char *data, size_t len)
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

static void test_cancel_and_events(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    struct inbox ev = {0}, ctl = {0}, plain = {0};
    char id[KEYS_ID_MAX + 1], want[256], ch[KEYS_NAME_MAX];

    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    tap_ok(t,
           RUN(e, &r, rq_cancel(e->prod, id, cb_cancel, &r)) == 0 &&
               r.cancel == RQ_CANCEL_CANCELLED,
           "cancel of a pending job -> cancelled");
    tap_ok(t,
           get(e, id, &g) == 0 && !strcmp(g.state, "cancelled") && g.cancel_requested &&
               sync_int(e, "LLEN %s", "runq:{default}:pending", NULL) == 0,
           "state cancelled, removed from pending");
    tap_ok(t,
           RUN(e, &r, rq_cancel(e->prod, id, cb_cancel, &r)) == 0 && r.cancel == RQ_CANCEL_FINISHED,
           "cancel again -> finished");
    tap_ok(t,
           RUN(e, &r, rq_cancel(e->prod, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa", cb_cancel, &r)) ==
                   0 &&
               r.cancel == RQ_CANCEL_MISSING,
           "cancel of an unknown job -> missing");

    /* events of a job, by pattern; control channel of w1; a plain channel */
    rq_subscribe(e->prod, "runq:{default}:events:*", 1, on_msg, &ev);
    keys_control(ch, sizeof(ch), "w1");
    rq_subscribe(e->w1, ch, 0, on_msg, &ctl);
    rq_subscribe(e->prod, "test-plain", 0, on_msg, &plain);
    tap_ok(t,
           wait_for(e, &ev.subscribed, 3000) && wait_for(e, &ctl.subscribed, 3000) &&
               wait_for(e, &plain.subscribed, 3000),
           "subscriptions confirmed");
    tap_ok(t, rq_subscribe(e->prod, "test-plain", 0, on_msg, &plain) == -EEXIST,
           "double subscribe -> -EEXIST");
    tap_ok(t,
           RUN(e, &r, rq_publish(e->w2, "test-plain", "hi\0there", 8, cb_int, &r)) == 0 &&
               r.value == 1 && wait_for(e, &plain.got, 3000) && !memcmp(plain.data, "hi", 3),
           "publish reaches the subscriber (binary-safe)");

    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    fetch(e, e->w1, "default", 1000, &r);
    start(e, e->w1, id, &r);
    tap_ok(t,
           RUN(e, &r, rq_cancel(e->prod, id, cb_cancel, &r)) == 0 && r.cancel == RQ_CANCEL_RUNNING,
           "cancel of a running job -> running");
    snprintf(want, sizeof(want), "{\"cmd\":\"cancel\",\"id\":\"%s\"}", id);
    tap_ok(t, wait_for(e, &ctl.got, 3000) && !strcmp(ctl.data, want),
           "the worker's control channel got %s", ctl.data);
    ack(e, e->w1, id, "cancelled", &r);
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"event\":\"finished\",\"state\":\"cancelled\"}",
             id);
    keys_events(ch, sizeof(ch), id);
    tap_ok(t, wait_for(e, &ev.got, 3000) && !strcmp(ev.data, want) && !strcmp(ev.channel, ch),
           "finished event on %s", ev.channel);
    tap_ok(t,
           rq_unsubscribe(e->prod, "test-plain") == 0 &&
               rq_unsubscribe(e->prod, "test-plain") == -ENOENT,
           "unsubscribe");
    rq_unsubscribe(e->prod, "runq:{default}:events:*"); /* the inboxes live on this stack */
    keys_control(ch, sizeof(ch), "w1");
    rq_unsubscribe(e->w1, ch);
}

/* A stream of enqueues while Redis is killed (SIGKILL) and restarted on the same port. */
struct stream {
    struct env *e;
    uv_timer_t timer;
    int stop, inflight, acked, failed, closed;
    char ids[NSTREAM][KEYS_ID_MAX + 1];
};

static void s_done(void *arg, int status, const struct rq_enqueued *en)
{
    struct stream *s = arg;

    s->inflight--;
    if (status == 0 && en->status == RQ_ENQUEUED && s->acked < NSTREAM)
        snprintf(s->ids[s->acked++], KEYS_ID_MAX + 1, "%s", en->id);
    else
        s->failed++;
}

static void s_tick(uv_timer_t *t)
{
    struct stream *s = t->data;

    if (s->stop || s->acked + s->inflight >= NSTREAM)
        return;
    if (rq_enqueue(s->e->prod, "other", "{}", NULL, 0, 0, s_done, s) == 0)
        s->inflight++;
    else
        s->failed++;
}

static void s_closed(uv_handle_t *h)
{
    ((struct stream *)h->data)->closed = 1;
}

static void test_restart(struct tap *t, struct env *e)
{
    struct stream *s = calloc(1, sizeof(*s));
    struct inbox *sub = calloc(1, sizeof(*sub));
    struct res r = {0};
    char got1[KEYS_ID_MAX + 1];
    int i, lost = 0, all = 0;

    if (!tap_ok(t,
                s && sub && rq_subscribe(e->prod, "test-resub", 0, on_msg, sub) == 0 &&
                    wait_for(e, &sub->subscribed, 3000),
                "stream buffer, subscription to test-resub")) {
        free(s);
        free(sub);
        return;
    }
    s->e = e;
    uv_timer_init(&e->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, s_tick, 1, 1);
    rq_fetch(e->w1, "default", 5000, cb_fetch, &r); /* blocked in BLMOVE across the crash */
    sleep_loop(e, 300);
    tap_ok(t, redis_server_stop(&e->srv, SIGKILL) == 0, "redis-server killed (SIGKILL)");
    sub->subscribed = 0; /* set again by the confirmation after the restart */
    wait_for(e, &r.done, 3000);
    tap_ok(t, r.done && r.status < 0, "blocked fetch fails (%d)", r.status);
    sleep_loop(e, 300);
    tap_ok(t, !rq_connected(e->prod), "client sees the outage");
    tap_ok(t, redis_server_restart(&e->srv) == 0, "redis-server restarted on port %d", e->srv.port);
    redisFree(e->sync);
    e->sync = redisConnect("127.0.0.1", e->srv.port);
    tap_ok(t, wait_connected(e, e->prod), "client reconnected");
    tap_ok(t, wait_for(e, &sub->subscribed, 3000), "subscription renewed after the restart");
    tap_ok(t,
           RUN(e, &r, rq_publish(e->w2, "test-resub", "again", 5, cb_int, &r)) == 0 &&
               r.value == 1 && wait_for(e, &sub->got, 3000) && !strcmp(sub->data, "again"),
           "and delivers messages again");
    rq_unsubscribe(e->prod, "test-resub");
    free(sub);
    sleep_loop(e, 300);
    s->stop = 1;
    for (i = 0; i < 300 && s->inflight; i++)
        sleep_loop(e, 10);
    uv_close((uv_handle_t *)&s->timer, s_closed);
    wait_for(e, &s->closed, 1000);
    for (i = 0; i < s->acked; i++) {
        char job[KEYS_NAME_MAX];
        keys_job(job, sizeof(job), s->ids[i]);
        lost += sync_int(e, "EXISTS %s", job, NULL) != 1 ||
                sync_int(e, "LPOS %s %s", "runq:{other}:pending", s->ids[i]) < 0;
    }
    tap_diag("stream: %d acknowledged, %d failed during the outage", s->acked, s->failed);
    tap_ok(t, s->acked > 0 && s->failed > 0 && lost == 0,
           "no acknowledged enqueue lost (%d acked, %d lost)", s->acked, lost);
    for (i = 0; i < s->acked + 1; i++) {
        char got[KEYS_ID_MAX + 1];
        if (run_one(e, e->w1, "other", got, sizeof(got)) < 0 || !got[0])
            break;
        all++;
    }
    /* an enqueue cut off by the crash may have been applied without its answer: extra */
    tap_ok(t, all >= s->acked && all <= s->acked + 1,
           "the worker reconnected and ran them all (%d, acked %d)", all, s->acked);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    tap_ok(t, run_one(e, e->w2, "default", got1, sizeof(got1)) == 0 && !strcmp(got1, r.enq.id),
           "the other worker's blocking connection works again too");
    free(s);
}

/* A BLMOVE whose reply was lost (simulated: the move done behind rq's back after its fetch
 * was interrupted) is found in the worker's processing list and delivered by the next fetch. */
static void test_adopt(struct tap *t, struct env *e)
{
    struct res r = {0}, f = {0};
    redisReply *rep;

    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    rep = redisCommand(e->sync,
                       "LMOVE runq:{default}:pending runq:{default}:processing:w1 RIGHT LEFT");
    tap_ok(t, rep && rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, r.enq.id),
           "job moved to w1's processing list without w1 hearing of it");
    if (rep)
        freeReplyObject(rep);
    tap_ok(t, fetch(e, e->w1, "default", 100, &f) == 0 && !strcmp(f.id, r.enq.id),
           "w1's next fetch adopts it");
    tap_ok(t,
           start(e, e->w1, f.id, &f) == 0 && f.start == RQ_START_OK &&
               ack(e, e->w1, r.enq.id, "completed", &f) == 0 && f.value == 1,
           "and runs it");
    tap_ok(t, fetch(e, e->w1, "default", 100, &f) == 0 && !f.id[0], "then nothing is left");
}

/* A frozen server (SIGSTOP): commands time out, the connection is dropped and re-made. */
static void test_timeout(struct tap *t, struct env *e)
{
    struct rq_options o = {.url = e->srv.url, .command_timeout_ms = 300, .reconnect_max_ms = 100};
    struct rq *rq = NULL;
    struct res r = {0};
    int closed = 0;
    uint64_t t0;

    rq_open(&e->loop, &o, &rq);
    wait_connected(e, rq);
    kill(e->srv.pid, SIGSTOP);
    uv_update_time(&e->loop);
    t0 = uv_now(&e->loop);
    RUN(e, &r, rq_get_job(rq, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa", cb_job, &r));
    tap_ok(t, r.done && r.status == -ETIMEDOUT && uv_now(&e->loop) - t0 < 1000,
           "frozen server: command fails with -ETIMEDOUT (%d) in %llu ms", r.status,
           (unsigned long long)(uv_now(&e->loop) - t0));
    kill(e->srv.pid, SIGCONT);
    sleep_loop(e, 50);
    tap_ok(t,
           wait_connected(e, rq) &&
               RUN(e, &r, rq_get_job(rq, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa", cb_job, &r)) ==
                   -ENOENT,
           "server thawed: reconnected, commands work");
    rq_close(rq, on_closed, &closed);
    wait_for(e, &closed, 2000);
}

/* Closing cancels a blocked fetch; scripts flushed on the server fall back to EVAL; the
 * built-in heartbeat keeps the worker key alive. */
static void test_lifecycle(struct tap *t, struct env *e)
{
    struct rq_options o = {.url = e->srv.url,
                           .worker = "w-auto",
                           .queues = e->queues,
                           .nqueues = 2,
                           .heartbeat_ms = 100,
                           .heartbeat_ttl_ms = 300};
    struct rq *rq = NULL;
    struct res r = {0};
    redisReply *rep;
    int closed = 0;
    uint64_t t0;

    rep = redisCommand(e->sync, "SCRIPT FLUSH");
    if (rep)
        freeReplyObject(rep);
    tap_ok(t,
           enqueue(e, e->prod, "small", "{}", "after-flush", 0, &r) == 0 &&
               r.enq.status == RQ_ENQUEUED,
           "script cache flushed: EVALSHA falls back to EVAL");
    tap_ok(t, rq_open(&e->loop, &o, &rq) == 0 && wait_connected(e, rq), "w-auto connected");
    sleep_loop(e, 450);
    tap_ok(t,
           sync_int(e, "EXISTS %s", "runq:worker:w-auto", NULL) == 1 &&
               sync_int(e, "SISMEMBER %s %s", KEYS_WORKERS, "w-auto") == 1,
           "automatic heartbeat keeps runq:worker:w-auto (ttl 300 ms) alive after 450 ms");
    r.done = 0;
    tap_ok(t, rq_fetch(rq, "default", 10000, cb_fetch, &r) == 0, "fetch blocks on an empty queue");
    tap_ok(t, rq_fetch(rq, "other", 10000, cb_fetch, &r) == -EBUSY, "a second fetch: -EBUSY");
    sleep_loop(e, 50);
    uv_update_time(&e->loop);
    t0 = uv_now(&e->loop);
    rq_close(rq, on_closed, &closed);
    tap_ok(t, wait_for(e, &r.done, 1000) && r.status == -ECANCELED && !r.id[0],
           "close cancels the blocked fetch (-ECANCELED)");
    tap_ok(t, wait_for(e, &closed, 1000) && uv_now(&e->loop) - t0 < 500, "and completes");
}

/* A worker restarted under the same name finds what its earlier process left running; a job
 * that keeps killing its workers stops at max_attempts starts. */
static void test_same_name(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    char id[KEYS_ID_MAX + 1];
    int round, closed, ok = 1;

    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    for (round = 1; round <= 3; round++) {
        struct rq *w = open_rq(e, "w-same", 5000, 2);
        struct res f = {0}, s = {0};
        closed = 0;
        wait_connected(e, w);
        fetch(e, w, "default", 200, &f);
        start(e, w, f.id[0] ? f.id : id, &s);
        if (round < 3)
            ok &= !strcmp(f.id, id) && s.start == RQ_START_OK && s.attempts == round;
        else
            ok &= !strcmp(f.id, id) && s.status == 0 && s.start == RQ_START_DEAD;
        rq_close(w, on_closed, &closed); /* "crash": no ack */
        wait_for(e, &closed, 2000);
    }
    tap_ok(t, ok, "same-name restarts re-deliver the job: attempts 1, 2, then dead");
    tap_ok(t,
           get(e, id, &g) == 0 && !strcmp(g.state, "failed") &&
               !strcmp(g.reason, "started 2 times without finishing") &&
               sync_int(e, "LPOS %s %s", "runq:{default}:dead", id) >= 0 &&
               sync_int(e, "LLEN %s", "runq:{default}:processing:w-same", NULL) == 0,
           "failed (%s), on the dead list, processing list empty", g.reason);
}

int main(void)
{
    static struct env env;
    struct env *e = &env;
    struct tap t = {0};
    int c1 = 0, c2 = 0, c3 = 0;

    alarm(120);
    test_url(&t);
    e->queues[0] = "default";
    e->queues[1] = "other";
    if (!tap_ok(&t, redis_server_start(&e->srv) == 0, "redis-server started")) {
        redis_server_cleanup(&e->srv);
        return tap_done(&t);
    }
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->pulse);
    uv_timer_start(&e->pulse, on_pulse, 5, 5);
    e->sync = redisConnect("127.0.0.1", e->srv.port);
    e->prod = open_rq(e, NULL, 0, 0);
    e->w1 = open_rq(e, "w1", 5000, 2);
    e->w2 = open_rq(e, "w2", 5000, 2);
    tap_ok(&t,
           e->prod && e->w1 && e->w2 && wait_connected(e, e->prod) && wait_connected(e, e->w1) &&
               wait_connected(e, e->w2),
           "three clients connected");
    test_basic(&t, e);
    test_fifo(&t, e);
    test_two_consumers(&t, e);
    test_orphans(&t, e);
    test_cancel_and_events(&t, e);
    test_restart(&t, e);
    test_adopt(&t, e);
    test_timeout(&t, e);
    test_lifecycle(&t, e);
    test_same_name(&t, e);
    rq_close(e->prod, on_closed, &c1);
    rq_close(e->w1, on_closed, &c2);
    rq_close(e->w2, on_closed, &c3);
    uv_close((uv_handle_t *)&e->pulse, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    tap_ok(&t, c1 && c2 && c3, "clients closed");
    tap_ok(&t, uv_loop_close(&e->loop) == 0, "no handle left on the loop");
    redisFree(e->sync);
    redis_server_cleanup(&e->srv);
    return tap_done(&t);
}
