/* SPDX-License-Identifier: MIT */
/* fake_worker: what the dispatcher integration tests (test_dispatcher.c, test_dispatcher_pg.c)
 * share to play a worker from their client thread: a second rq (worker "test-worker-1", queue
 * "work") on a uv loop of its own, and synchronous-looking calls that fetch a job and mark it
 * running, or ack it completed, each running that loop until the answer (5 s at most).
 * Does: open and close that rq and loop; expose the wait and the rq_int_fn callback so a test
 * can drive its own calls (rq_publish, db_query) on the same loop.
 * Must not: touch the dispatcher's loop, rq or thread, hold global state (everything lives in
 * struct fake_worker), or test anything itself (the tap_ok checks stay in the tests). */
#ifndef RUNQ_TESTS_FAKE_WORKER_H
#define RUNQ_TESTS_FAKE_WORKER_H

#include <uv.h>

#include "keys.h"
#include "rq.h"

struct fake_worker {
    uv_loop_t loop; /* runs only inside the calls below (and the caller's own waits) */
    struct rq *rq;
};

/* One pending call: done once its callback ran, with its status (and a fetched id). */
struct fake_worker_wait {
    int done, status, started;
    char id[KEYS_ID_MAX + 1];
};

/* Initialises the loop and opens the rq on redis_url. Returns 0 or a negative errno (the loop
 * is initialised either way: call fake_worker_close). */
int fake_worker_open(struct fake_worker *fw, const char *redis_url);

/* Closes the rq and runs the loop until every handle on it (the caller's too, once closed) is
 * gone, then closes the loop. */
void fake_worker_close(struct fake_worker *fw);

/* Runs the loop until w->done, or 5 s. */
void fake_worker_run(struct fake_worker *fw, struct fake_worker_wait *w);

/* rq_int_fn: sets done and status of the struct fake_worker_wait in arg. */
void fake_worker_on_int(void *arg, int status, long long value);

/* Takes the next job of queue "work" and marks it running: 0 and its id (KEYS_ID_MAX + 1
 * bytes), or -1. */
int fake_worker_take(struct fake_worker *fw, char *id);

/* Acks id "completed" with result (JSON). Returns 0 or -1. */
int fake_worker_ack(struct fake_worker *fw, const char *id, const char *result);

#endif
