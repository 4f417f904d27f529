/* SPDX-License-Identifier: MIT */
/* worker_util: what the runq-worker end-to-end tests (test_worker.c, test_worker_faults.c)
 * share: a test-side rq producer and db client on one loop, bounded synchronous-looking waits
 * (submit a job the way the dispatcher does, poll its state, run a query), spawning a built
 * runq-worker with a temp runq.yaml, bounded waitpid, and a /proc scan for sandbox processes.
 * Must not: hold global state (everything lives in struct wctx) or test anything itself. */
#ifndef RUNQ_TESTS_WORKER_UTIL_H
#define RUNQ_TESTS_WORKER_UTIL_H

#include <sys/types.h>
#include <uv.h>

#include "db.h"
#include "keys.h"
#include "pg_server.h"
#include "redis_server.h"
#include "rq.h"

struct wctx {
    uv_loop_t *loop;
    struct rq *rq;
    struct db *db;
    int done, status;
    long long attempts;       /* of the last job read by wu_wait_state */
    char worker[64];          /* of the last job read by wu_wait_state */
    char webhook[512];        /* of the last job read: its webhook note ("" when none) */
    char text[4096];          /* "state|result", or a row's "v0|v1|..." */
    char id[KEYS_ID_MAX + 1]; /* of the last submit */
};

/* The webhooks.secret wu_write_config gives the worker (webhooks may reach 127.0.0.1). */
#define WU_WEBHOOK_SECRET "whsec_worker_test"

/* Runs the loop until c->done or ms pass. Returns c->done. */
int wu_wait_done(struct wctx *c, unsigned ms);

/* Runs the loop for ms (timers, reconnects) whatever happens. */
void wu_sleep(struct wctx *c, unsigned ms);

/* Enqueues a POST /v1/jobs body on queue "default" as the dispatcher would; the id lands in
 * c->id. Returns 0 or a negative errno. */
int wu_submit(struct wctx *c, const char *body);

/* Polls the job until its state is want (or ms pass); c->text holds "state|result" and
 * c->attempts, c->worker the job's fields. Returns 1 when reached (else a diagnostic). */
int wu_wait_state(struct wctx *c, const char *id, const char *want, unsigned ms);

/* Reads the job once: 1 and c->text etc. set, or 0. */
int wu_get_job(struct wctx *c, const char *id);

/* Runs sql with up to 4 text parameters; c->text is the first row's columns joined by '|'
 * ("" with no row). Retries (PostgreSQL reconnecting) until ms pass. Returns 1 on success. */
int wu_query(struct wctx *c, unsigned ms, const char *sql, int nparams, const char *const *params);

/* runq-worker -c config -l languages --sandbox sandbox --first-slot first_slot, its stderr
 * kept (stdout to /dev/null). Returns the pid or -1. */
pid_t wu_spawn_worker(const char *worker_exe, const char *config, const char *languages,
                      const char *sandbox, unsigned first_slot);

/* A runq.yaml for redis_url and pg_url with `slots` slots and the given heartbeat, heartbeat
 * ttl and drain grace (YAML durations like "1s"). Returns 0 or a negative errno. */
int wu_write_config(const char *path, const char *redis_url, const char *pg_url, unsigned slots,
                    const char *heartbeat, const char *heartbeat_ttl, const char *drain_grace);

/* What test_worker.c and test_worker_docker.c start around the worker: redis-server,
 * PostgreSQL, a runq.yaml for them in a temporary directory (config). */
struct wu_fleet {
    struct redis_server redis;
    struct pg_server pg;
    char pg_url[256], dir[64], config[300], err[256];
    int made_dir;
};

/* Starts the servers, writes the config (2 slots, heartbeat 1s, heartbeat_ttl, drain grace
 * 10s) and connects c's Redis and PostgreSQL clients on the default loop. Returns 1, or 0
 * with f->err saying why (wu_fleet_stop still cleans up). */
int wu_fleet_start(struct wu_fleet *f, struct wctx *c, const char *heartbeat_ttl);

/* Closes c's clients and runs the loop dry; stops the servers, removes the config. Returns
 * what uv_loop_close returned (0: every handle was closed), or 0 when c never connected. */
int wu_fleet_stop(struct wu_fleet *f, struct wctx *c);

/* waitpid, bounded: 1 with *status set when pid exited within ms, else 0. */
int wu_waitpid(pid_t pid, int *status, unsigned ms);

/* Processes whose real or effective uid is uid_base + slot for a slot in [first, first + n),
 * or whose command line is "runq-sandbox ... --slot S" for such a slot. */
int wu_count_slot_procs(unsigned uid_base, unsigned first, unsigned n);

#endif
