/* SPDX-License-Identifier: MIT */
/* queue_util: what the rq integration tests (test_queue.c, test_queue_recovery.c) share: a
 * redis-server (redis_server.h) with a producer and two workers on one loop, callbacks that
 * store any rq answer into a struct res, and synchronous-looking wrappers that run the loop
 * until the callback (bounded).
 * Must not: hold global state (everything lives in struct env) or test anything itself beyond
 * the setup checks. */
#ifndef RUNQ_TESTS_QUEUE_UTIL_H
#define RUNQ_TESTS_QUEUE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "keys.h"
#include "redis_server.h"
#include "rq.h"
#include "tap.h"

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
    char id[KEYS_ID_MAX + 1];       /* the (first) id fetched */
    char ids[8][KEYS_ID_MAX + 1];   /* every id of a fetch, in order */
    size_t nfetched;
    int started; /* the fetch's take script started the (first) job: start fields are set */
    struct rq_enqueued enq;
    enum rq_start_status start;
    enum rq_cancel_status cancel;
    struct rq_recovery rec;
    char spec[256], state[32], worker[64], reason[128], result[128];
    long long attempts, abandoned, pending, dead, delayed;
    int cancel_requested;
};

/* A subscription's messages (on_msg): data of the last one, how many. */
struct inbox {
    int subscribed, got;
    char channel[KEYS_NAME_MAX], data[256];
};

/* Starts redis-server, the loop and clients prod (no worker), w1 and w2 (heartbeat ttl 5 s,
 * max attempts 2) on queues default and other. Returns 0, or -1 (then nothing to tear down). */
int env_setup(struct tap *t, struct env *e);

/* Closes the clients and the loop (checked), stops the server. */
void env_teardown(struct tap *t, struct env *e);

/* Runs the loop until *flag or ms pass. Returns *flag. */
int wait_for(struct env *e, const int *flag, uint64_t ms);
void sleep_loop(struct env *e, uint64_t ms);

/* An integer answer of the synchronous context (-1 when not an integer). */
long long sync_int(struct env *e, const char *fmt, const char *a, const char *b);

/* Callbacks: each stores what it got into the struct res (or inbox) given as arg. */
void cb_enq(void *arg, int status, const struct rq_enqueued *en);
void cb_fetch(void *arg, int status, const struct rq_fetched *jobs, size_t n);
void cb_start(void *arg, int status, const struct rq_started *s);
void cb_int(void *arg, int status, long long v);
void cb_job(void *arg, int status, const struct rq_job *j);
void cb_rec(void *arg, int status, const struct rq_recovery *rec);
void cb_cancel(void *arg, int status, enum rq_cancel_status st);
void cb_depths(void *arg, int status, const struct rq_depth *d, size_t n);
void on_closed(void *arg); /* sets *(int *)arg */
void on_msg(void *arg, const char *channel, const char *data, size_t len);

/* Synchronous-looking wrappers: start the request, run the loop until its callback. */
#define RUN(e, r, call)                                                                            \
    ((r)->done = 0, (call) == 0 && wait_for((e), &(r)->done, 5000) ? (r)->status : -EIO)

int enqueue(struct env *e, struct rq *rq, const char *q, const char *spec, const char *idem,
            uint64_t maxd, struct res *r);
int fetch(struct env *e, struct rq *rq, const char *q, uint64_t block, struct res *r);
int fetch_n(struct env *e, struct rq *rq, const char *q, unsigned max, uint64_t block,
            struct res *r);
/* fetch one job and, when fetching did not start it (adopted or BLMOVEd), start it: r holds
 * the id and the start either way. */
int take_one(struct env *e, struct rq *rq, const char *q, uint64_t block, struct res *r);
int start(struct env *e, struct rq *rq, const char *id, struct res *r);
int ack(struct env *e, struct rq *rq, const char *id, const char *state, struct res *r);
int get(struct env *e, const char *id, struct res *r);

/* take_one + ack on w; returns the id fetched into out (empty when none). */
int run_one(struct env *e, struct rq *w, const char *q, char *out, size_t len);

/* A client on e's server and queues; worker NULL for a producer. */
struct rq *open_rq(struct env *e, const char *worker, uint64_t ttl, uint32_t max_att);
int wait_connected(struct env *e, struct rq *rq);

#endif
