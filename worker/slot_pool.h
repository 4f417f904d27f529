/* SPDX-License-Identifier: MIT */
/* slot_pool: the worker's sandbox slots, each a `runq-sandbox --serve` process driven over
 * pipes from the event loop (docs/SANDBOX.md "Serving a warm slot").
 * Does: spawn and respawn the slot processes, frame requests and answers, report a slot's
 * death or cancellation to the run's callback, close gracefully (EOF, so each slot removes
 * its cgroups). Must not: block the loop, run two requests in one slot, or decide anything
 * about jobs: it runs sandbox requests and returns sandbox answers. */
#ifndef RUNQ_WORKER_SLOT_POOL_H
#define RUNQ_WORKER_SLOT_POOL_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

struct slot_pool;

struct slot_pool_options {
    const char *sandbox_exe;  /* path of runq-sandbox */
    unsigned slots;           /* how many run at once */
    unsigned first_slot;      /* sandbox slot numbers first_slot .. first_slot + slots - 1 */
    unsigned uid_base;
    const char *cgroup_name;
    const char *const *binds; /* NULL: the sandbox's defaults */
    size_t nbinds;
};

/* status 0: answer is the slot's JSON answer ({"type": "result"|"error", ...}), owned by the
 * callee (json_decref it). status < 0: no answer; -ECANCELED after slot_pool_cancel, -EPIPE
 * when the slot process died mid-run, -ESHUTDOWN when the pool closed first. */
typedef void (*slot_run_cb)(int status, json_t *answer, void *data);

/* Output read during a run whose request asked for it ("stream": true); stream 1 = stdout,
 * 2 = stderr; bytes valid during the call only. */
typedef void (*slot_output_cb)(int stream, const char *bytes, size_t len, void *data);

int slot_pool_new(uv_loop_t *loop, const struct slot_pool_options *o, struct slot_pool **out);

/* Sends a request (payload[0..len), job_plan_request's wire form; not stolen) to an idle slot;
 * *slot_out says which (for cancel). Returns 0, -EBUSY when no slot is idle and ready,
 * -ESHUTDOWN while closing, -EMSGSIZE, -ENOMEM. */
int slot_pool_run(struct slot_pool *p, const char *payload, size_t len, slot_run_cb cb,
                  slot_output_cb on_output, void *data, unsigned *slot_out);

/* Kills the slot's process, so its run and everything it started die now; the run's
 * callback gets -ECANCELED and the slot comes back by itself. 0 or -EINVAL if idle. */
int slot_pool_cancel(struct slot_pool *p, unsigned slot);

/* Idle, ready slots. */
unsigned slot_pool_idle(const struct slot_pool *p);

/* Stops taking runs; running ones finish (their callbacks run), then every slot process gets
 * EOF and exits. cb runs once every handle is closed; the pool is freed after it. */
void slot_pool_close(struct slot_pool *p, void (*cb)(void *data), void *data);

#endif
