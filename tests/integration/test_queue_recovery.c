/* SPDX-License-Identifier: MIT */
/* Integration test of worker/rq's failure handling against a real redis-server
 * (tests/integration/redis_server): dead workers and orphan recovery, max attempts and dead
 * letters, a Redis crash + restart under a stream of enqueues, adoption of a lost BLMOVE, a
 * frozen server, and same-name worker restarts. Shared setup and wrappers in queue_util.
 * The loop is driven step by step (wait_for) so each case reads top to bottom; a synchronous
 * hiredis context only inspects keys. Bounded by alarm(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue_util.h"

#define NSTREAM 4000

/* A worker takes a job, starts it and "dies" (closed without ack, heartbeat left to expire). */
static void die_with_job(struct tap *t, struct env *e, const char *name, const char *id)
{
    struct rq *w = open_rq(e, name, 300, 2);
    struct res r = {0};
    int closed = 0;

    wait_connected(e, w);
    RUN(e, &r, rq_heartbeat(w, cb_int, &r));
    take_one(e, w, "default", 1000, &r);
    tap_ok(t, !strcmp(r.id, id) && r.start == RQ_START_OK, "%s fetched and started the job", name);
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
    rq_fetch(e->w1, "default", 1, NULL, 0, 5000, cb_fetch, &r); /* blocked in BLMOVE across the crash */
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
    tap_ok(t, fetch(e, e->w1, "default", 100, &f) == 0 && !strcmp(f.id, r.enq.id) && !f.started,
           "w1's next fetch adopts it, not started yet");
    tap_ok(t,
           start(e, e->w1, f.id, &f) == 0 && f.start == RQ_START_OK && f.attempts == 1 &&
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
        struct res f = {0};
        closed = 0;
        wait_connected(e, w);
        take_one(e, w, "default", 200, &f);
        if (round < 3)
            ok &= !strcmp(f.id, id) && f.start == RQ_START_OK && f.attempts == round;
        else
            ok &= !strcmp(f.id, id) && f.status == 0 && f.start == RQ_START_DEAD;
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

    alarm(120);
    if (env_setup(&t, e) < 0)
        return tap_done(&t);
    test_orphans(&t, e);
    test_restart(&t, e);
    test_adopt(&t, e);
    test_timeout(&t, e);
    test_same_name(&t, e);
    env_teardown(&t, e);
    return tap_done(&t);
}
