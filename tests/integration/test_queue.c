/* SPDX-License-Identifier: MIT */
/* Integration test of worker/rq against a real redis-server (tests/integration/redis_server):
 * URL parsing, enqueue/fetch/ack, idempotency, depth limit, FIFO, two consumers, cancel,
 * pub/sub, and the client's lifecycle (close, EVAL fallback, automatic heartbeat). Failure and
 * recovery cases are in test_queue_recovery.c; shared setup and wrappers in queue_util.
 * The loop is driven step by step (wait_for) so each case reads top to bottom; a synchronous
 * hiredis context only inspects keys. Bounded by alarm(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue_util.h"

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
    tap_ok(t, r.started && r.start == RQ_START_OK && r.attempts == 1 && !strcmp(r.spec, "{\"x\":1}"),
           "a job waiting in the queue comes started: spec and attempts 1");
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

/* take: several jobs per round trip, oldest first, already started; a job enqueued while
 * the fetch blocks comes by BLMOVE, not started; adoption skips the ids the caller holds. */
static void test_take(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    char ids[4][KEYS_ID_MAX + 1], lost[KEYS_ID_MAX + 1];
    const char *held[1];
    struct rq *w3;
    redisReply *rep;
    int i, ok = 1, closed = 0;

    for (i = 0; i < 4; i++) {
        enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
        snprintf(ids[i], sizeof(ids[i]), "%s", r.enq.id);
    }
    tap_ok(t, fetch_n(e, e->w1, "default", 3, 1000, &r) == 0 && r.nfetched == 3 && r.started,
           "a fetch of up to 3 takes 3 jobs at once, started (%zu)", r.nfetched);
    for (i = 0; i < 3; i++)
        ok &= !strcmp(r.ids[i], ids[i]) && get(e, ids[i], &g) == 0 &&
              !strcmp(g.state, "running") && !strcmp(g.worker, "w1") && g.attempts == 1;
    tap_ok(t, ok, "oldest first, each running on w1 with attempts 1");
    tap_ok(t, fetch_n(e, e->w1, "default", 3, 1000, &r) == 0 && r.nfetched == 1 &&
                  !strcmp(r.id, ids[3]),
           "the next fetch gets the one left");
    for (i = 0; i < 4; i++)
        ack(e, e->w1, ids[i], "completed", &r);

    r.done = 0;
    tap_ok(t, rq_fetch(e->w1, "default", 3, NULL, 0, 3000, cb_fetch, &r) == 0,
           "a fetch on the empty queue blocks");
    sleep_loop(e, 100);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &g);
    tap_ok(t, wait_for(e, &r.done, 1500) && r.status == 0 && r.nfetched == 0,
           "a job enqueued meanwhile wakes the blocked fetch at once (no job: ask again)");
    tap_ok(t, fetch_n(e, e->w1, "default", 3, 1000, &r) == 0 && r.nfetched == 1 &&
                  !strcmp(r.id, g.enq.id) && r.started && r.attempts == 1,
           "the next fetch takes it, started: attempts 1");
    ack(e, e->w1, g.enq.id, "completed", &r);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &g);
    snprintf(ids[0], sizeof(ids[0]), "%s", g.enq.id);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &g);
    snprintf(ids[1], sizeof(ids[1]), "%s", g.enq.id);
    tap_ok(t, fetch_n(e, e->w1, "default", 3, 100, &r) == 0 && r.nfetched == 2 &&
                  sync_int(e, "LLEN %s", "runq:{default}:wake", NULL) == 2,
           "enqueues with nobody blocked leave wake-ups behind (2)");
    tap_ok(t, fetch_n(e, e->w1, "default", 3, 100, &r) == 0 && r.nfetched == 0 &&
                  sync_int(e, "EXISTS %s", "runq:{default}:wake", NULL) == 0,
           "a take that finds nothing drops them, so the wait really blocks");
    ack(e, e->w1, ids[0], "completed", &r);
    ack(e, e->w1, ids[1], "completed", &r);

    /* Two ids in a restarted w3's list: one it holds (runs), one whose fetch reply it lost. */
    w3 = open_rq(e, "w3", 5000, 2);
    wait_connected(e, w3);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(ids[0], sizeof(ids[0]), "%s", r.enq.id);
    enqueue(e, e->prod, "default", "{}", NULL, 0, &r);
    snprintf(lost, sizeof(lost), "%s", r.enq.id);
    for (i = 0; i < 2; i++) {
        rep = redisCommand(e->sync,
                           "LMOVE runq:{default}:pending runq:{default}:processing:w3 RIGHT LEFT");
        if (rep)
            freeReplyObject(rep);
    }
    held[0] = ids[0];
    r.done = 0;
    tap_ok(t, rq_fetch(w3, "default", 2, held, 1, 100, cb_fetch, &r) == 0 &&
                  wait_for(e, &r.done, 3000) && r.nfetched == 1 && !strcmp(r.id, lost) &&
                  !r.started,
           "adoption skips the held id and hands over the other one");
    ack(e, w3, lost, "completed", &r);
    ack(e, w3, ids[0], "completed", &r);
    rq_close(w3, on_closed, &closed);
    wait_for(e, &closed, 2000);
}

static int enqueue_lane(struct env *e, enum rq_lane lane, uint64_t run_at, struct res *r)
{
    char spec[32];

    snprintf(spec, sizeof(spec), "{\"lane\":\"%s\"}", rq_lane_name(lane));
    return RUN(e, r, rq_enqueue_at(e->prod, "other", spec, NULL, 0, 0, lane, run_at, cb_enq, r));
}

/* Lanes by weighted turns (no starvation), delayed jobs, retries, depths per lane. */
static void test_lanes(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    int i, n[3] = {0, 0, 0}, ok = 1;
    char id[KEYS_ID_MAX + 1];
    uint64_t now;

    for (i = 0; i < 21; i++)
        ok &= enqueue_lane(e, (enum rq_lane)(i % 3), 0, &r) == 0;
    tap_ok(t, ok, "7 jobs queued in each of the high, normal and low lanes");
    ok = fetch_n(e, e->w1, "other", 7, 100, &r) == 0 && r.nfetched == 7;
    for (i = 0; ok && i < 7; i++) {
        ok = get(e, r.ids[i], &g) == 0;
        n[0] += strstr(g.spec, "high") != NULL;
        n[1] += strstr(g.spec, "normal") != NULL;
        n[2] += strstr(g.spec, "low") != NULL;
        ack(e, e->w1, r.ids[i], "completed", &g);
    }
    tap_ok(t, ok && n[0] == 4 && n[1] == 2 && n[2] == 1,
           "7 picks with every lane busy: 4 high, 2 normal, 1 low (%d %d %d)", n[0], n[1], n[2]);
    for (int round = 0; round < 2; round++) {
        ok &= fetch_n(e, e->w1, "other", 7, 100, &r) == 0 && r.nfetched == 7;
        for (i = 0; i < (int)r.nfetched; i++)
            ack(e, e->w1, r.ids[i], "completed", &g);
    }
    tap_ok(t, ok, "the other 14 follow");

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* run_at is wall-clock time, like Redis' side */
    now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    enqueue_lane(e, RQ_LANE_LOW, now + 400, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    r.done = 0;
    tap_ok(t, RUN(e, &r, rq_queue_depths(e->prod, (const char *[]){"other"}, 1, cb_depths, &r)) == 0 &&
                  r.pending == 1 && r.delayed == 1,
           "a job with run_at in 0.4 s waits in the delayed set (depth 1, delayed 1)");
    tap_ok(t, fetch_n(e, e->w1, "other", 3, 100, &r) == 0 && r.nfetched == 0,
           "it is not taken before its time");
    sleep_loop(e, 500);
    tap_ok(t, fetch_n(e, e->w1, "other", 3, 100, &r) == 0 && r.nfetched == 1 && !strcmp(r.id, id) &&
                  r.started,
           "once due it is taken, started");
    g.done = 0;
    tap_ok(t, RUN(e, &g, rq_retry(e->w1, id, 300, "the sandbox slot died", cb_int, &g)) == 0 &&
                  g.value == 1 && get(e, id, &g) == 0 && !strcmp(g.state, "queued") &&
                  !strcmp(g.reason, "the sandbox slot died"),
           "retry: back to queued with the reason, waiting in the delayed set");
    tap_ok(t, fetch_n(e, e->w1, "other", 3, 100, &r) == 0 && r.nfetched == 0,
           "not before its delay");
    sleep_loop(e, 400);
    tap_ok(t, fetch_n(e, e->w1, "other", 3, 100, &r) == 0 && r.nfetched == 1 && r.attempts == 2,
           "then taken again as attempt 2");
    ack(e, e->w1, id, "completed", &r);
    enqueue_lane(e, RQ_LANE_HIGH, now + 60000, &r);
    snprintf(id, sizeof(id), "%s", r.enq.id);
    tap_ok(t, RUN(e, &g, rq_cancel(e->prod, id, cb_cancel, &g)) == 0 &&
                  g.cancel == RQ_CANCEL_CANCELLED &&
                  sync_int(e, "ZCARD %s", "runq:{other}:delayed", NULL) == 0,
           "cancelling a delayed job removes it from the delayed set");
}

/* Two consumers, each chaining fetch -> start -> ack -> fetch until the queue is empty. */
struct consumer {
    struct rq *rq;
    int done, count, errors;
    char cur[KEYS_ID_MAX + 1];
    char (*seen)[KEYS_ID_MAX + 1];
    int *nseen;
};

static void c_fetched(void *arg, int status, const struct rq_fetched *jobs, size_t n);

static void c_acked(void *arg, int status, long long v)
{
    struct consumer *c = arg;

    if (status < 0 || v != 1 || rq_fetch(c->rq, "default", 1, NULL, 0, 200, c_fetched, c) < 0) {
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

static void c_fetched(void *arg, int status, const struct rq_fetched *jobs, size_t n)
{
    struct consumer *c = arg;

    if (status < 0 || n != 1) {
        c->errors += status < 0 || n > 1;
        c->done = 1;
        return;
    }
    snprintf(c->cur, sizeof(c->cur), "%s", jobs[0].id);
    snprintf(c->seen[(*c->nseen)++], KEYS_ID_MAX + 1, "%s", jobs[0].id);
    c->count++;
    if (jobs[0].started) {
        c_started(c, 0, &jobs[0].s);
        return;
    }
    if (rq_mark_running(c->rq, jobs[0].id, c_started, c) < 0) {
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
    rq_fetch(a.rq, "default", 1, NULL, 0, 200, c_fetched, &a);
    rq_fetch(b.rq, "default", 1, NULL, 0, 200, c_fetched, &b);
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
    take_one(e, e->w1, "default", 1000, &r);
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"event\":\"started\"}", id);
    tap_ok(t, wait_for(e, &ev.got, 3000) && !strcmp(ev.data, want),
           "the start published %s", ev.data);
    ev.got = 0;
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
    tap_ok(t, rq_fetch(rq, "default", 1, NULL, 0, 10000, cb_fetch, &r) == 0,
           "fetch blocks on an empty queue");
    tap_ok(t, rq_fetch(rq, "other", 1, NULL, 0, 10000, cb_fetch, &r) == -EBUSY,
           "a second fetch: -EBUSY");
    sleep_loop(e, 50);
    uv_update_time(&e->loop);
    t0 = uv_now(&e->loop);
    rq_close(rq, on_closed, &closed);
    tap_ok(t, wait_for(e, &r.done, 1000) && r.status == -ECANCELED && !r.id[0],
           "close cancels the blocked fetch (-ECANCELED)");
    tap_ok(t, wait_for(e, &closed, 1000) && uv_now(&e->loop) - t0 < 500, "and completes");
}

/* A draining worker hands a fetched job back untouched; only finished jobs can be deleted. */
static void test_release_and_delete(struct tap *t, struct env *e)
{
    struct res r = {0}, g = {0};
    char first[KEYS_ID_MAX + 1], second[KEYS_ID_MAX + 1];

    enqueue(e, e->prod, "other", "{}", NULL, 0, &r);
    snprintf(first, sizeof(first), "%s", r.enq.id);
    enqueue(e, e->prod, "other", "{}", NULL, 0, &r);
    snprintf(second, sizeof(second), "%s", r.enq.id);
    tap_ok(t, fetch(e, e->w1, "other", 1000, &r) == 0 && !strcmp(r.id, first), "fetch the first");
    r.done = 0;
    tap_ok(t, rq_release(e->w1, first, cb_int, &r) == 0 && wait_for(e, &r.done, 5000) &&
                  r.value == 1,
           "release it");
    tap_ok(t, sync_int(e, "LLEN %s", "runq:{other}:processing:w1", NULL) == 0 &&
                  get(e, first, &g) == 0 && !strcmp(g.state, "queued") && g.attempts == 0,
           "it left the processing list, queued again, its start undone (attempts 0)");
    tap_ok(t, fetch(e, e->w2, "other", 1000, &r) == 0 && !strcmp(r.id, first),
           "the released job is the next one fetched, before %s", second);
    r.done = 0;
    tap_ok(t, rq_release(e->w1, first, cb_int, &r) == 0 && wait_for(e, &r.done, 5000) &&
                  r.value == 0,
           "releasing a job that is not ours answers 0");
    r.done = 0;
    tap_ok(t, rq_delete_finished(e->prod, first, cb_int, &r) == 0 && wait_for(e, &r.done, 5000) &&
                  r.value == -1 && get(e, first, &g) == 0,
           "a job that is not finished is not deleted (-1)");
    ack(e, e->w2, first, "completed", &r);
    r.done = 0;
    tap_ok(t, rq_delete_finished(e->prod, first, cb_int, &r) == 0 && wait_for(e, &r.done, 5000) &&
                  r.value == 1 && get(e, first, &g) == -ENOENT,
           "a finished job is deleted (1)");
    r.done = 0;
    tap_ok(t, rq_delete_finished(e->prod, first, cb_int, &r) == 0 && wait_for(e, &r.done, 5000) &&
                  r.value == 0,
           "deleting it again answers 0");
    tap_ok(t, run_one(e, e->w1, "other", g.id, sizeof(g.id)) == 0 && !strcmp(g.id, second),
           "the second job runs next (the queue is left empty)");
}

int main(void)
{
    static struct env env;
    struct env *e = &env;
    struct tap t = {0};

    alarm(120);
    test_url(&t);
    if (env_setup(&t, e) < 0)
        return tap_done(&t);
    test_basic(&t, e);
    test_fifo(&t, e);
    test_take(&t, e);
    test_lanes(&t, e);
    test_two_consumers(&t, e);
    test_cancel_and_events(&t, e);
    test_release_and_delete(&t, e);
    test_lifecycle(&t, e);
    env_teardown(&t, e);
    return tap_done(&t);
}
