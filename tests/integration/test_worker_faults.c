/* SPDX-License-Identifier: MIT */
/* runq-worker under faults, against a real redis-server, PostgreSQL and sandbox: what users
 * of a queue care about most, nothing lost and nothing done twice.
 *  1. a worker SIGKILLed mid-job: another worker recovers the job once the heartbeat expires
 *     and runs it; one row, attempts 2; the killed worker's sandbox processes are gone;
 *  2. redis-server killed and restarted mid-run: running jobs complete and are acknowledged,
 *     queued ones are not lost (appendfsync always);
 *  3. PostgreSQL stopped while jobs run: they stay unacknowledged (running) until it is back,
 *     then are stored once and acknowledged;
 *  4. two workers on one queue: 20 jobs, each done once, by both workers;
 *  5. SIGTERM with running jobs: they complete, jobs fetched ahead that never ran go back to
 *     the queue at once (their start undone), nothing new is fetched, exit 0 in the grace.
 * Worker slots 60-65 only (sandbox uids 60060-60065); other tests use 0-59. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <hiredis/hiredis.h>

#include "keys.h"
#include "pg_server.h"
#include "redis_server.h"
#include "tap.h"
#include "worker_util.h"

#define UID_BASE 60000 /* the config default (sandbox.uid_base) */
#define NQUICK 4
#define NSHARED 20
#define MAX_WORKERS 8

struct fx {
    struct wctx c;
    struct redis_server redis;
    struct pg_server pg;
    const char *worker_exe, *languages, *sandbox;
    char config[300];
    pid_t pids[MAX_WORKERS]; /* every worker started, for cleanup; 0 once reaped */
    size_t npids;
};

static const char row_sql[] =
    "SELECT count(*), coalesce(min(attempts), 0), coalesce(max(attempts), 0), "
    "coalesce(min(status), ''), coalesce(max(status), ''), coalesce(max(worker), '') "
    "FROM jobs WHERE id = $1";

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t start_worker(struct fx *f, unsigned first_slot)
{
    pid_t pid = wu_spawn_worker(f->worker_exe, f->config, f->languages, f->sandbox, first_slot);

    if (pid > 0 && f->npids < MAX_WORKERS)
        f->pids[f->npids++] = pid;
    return pid;
}

static void forget_worker(struct fx *f, pid_t pid)
{
    size_t i;

    for (i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            f->pids[i] = 0;
}

/* Waits (bounded) for a worker to exit; 1 with *status on exit. */
static int reap(struct fx *f, pid_t pid, int *status, unsigned ms)
{
    if (!wu_waitpid(pid, status, ms))
        return 0;
    forget_worker(f, pid);
    return 1;
}

/* A Python job that sleeps `secs` then prints done. */
static int submit_sleep(struct fx *f, const char *secs, char *id_out)
{
    char body[512];
    int r;

    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"limits\": {\"wall_ms\": 30000}, \"source\": "
             "\"import time\\ntime.sleep(%s)\\nprint('done')\\n\"}",
             secs);
    r = wu_submit(&f->c, body);
    snprintf(id_out, KEYS_ID_MAX + 1, "%s", r == 0 ? f->c.id : "");
    return r;
}

/* One job's rows: "count|min attempts|max attempts|min status|max status|worker". */
static int rows_of(struct fx *f, const char *id, unsigned ms)
{
    const char *params[1] = {id};

    return wu_query(&f->c, ms, row_sql, 1, params);
}

static int row_is(struct fx *f, const char *id, const char *want_prefix)
{
    return rows_of(f, id, 15000) && strncmp(f->c.text, want_prefix, strlen(want_prefix)) == 0;
}

/* LPOS of id in a list on the test's own synchronous connection: index, -1 absent, -2 error. */
static long long list_pos(struct fx *f, const char *key, const char *id)
{
    struct timeval tv = {2, 0};
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", f->redis.port, tv);
    redisReply *r = rc && !rc->err ? redisCommand(rc, "LPOS %s %s", key, id) : NULL;
    long long pos = -2;

    if (r && r->type == REDIS_REPLY_INTEGER)
        pos = r->integer;
    else if (r && r->type == REDIS_REPLY_NIL)
        pos = -1;
    if (r)
        freeReplyObject(r);
    if (rc)
        redisFree(rc);
    return pos;
}

/* 1. SIGKILL mid-job; recovery by a second worker. Returns the second worker (or -1). */
static pid_t test_kill(struct tap *t, struct fx *f)
{
    struct wctx *c = &f->c;
    char id[KEYS_ID_MAX + 1], dead_name[64] = "";
    int status = 0, before, after = -1, waited, ok;
    double t0;
    pid_t a = start_worker(f, 60), b = -1;

    tap_ok(t, a > 0 && submit_sleep(f, "4", id) == 0, "kill: worker A (slots 60-61) starts, a 4 s job is queued");
    ok = wu_wait_state(c, id, "running", 30000) && c->attempts == 1;
    if (!tap_ok(t, ok, "kill: A runs it (attempt %lld)", c->attempts))
        return -1;
    snprintf(dead_name, sizeof(dead_name), "%s", c->worker);
    wu_sleep(c, 1000); /* the program is asleep inside slot 60 or 61 by now */
    before = wu_count_slot_procs(UID_BASE, 60, 2);
    kill(a, SIGKILL);
    t0 = now_s();
    ok = reap(f, a, &status, 5000) && WIFSIGNALED(status);
    tap_ok(t, ok,
           "kill: A is SIGKILLed mid-job (%d sandbox processes of its slots were up)", before);
    b = start_worker(f, 62);
    ok = b > 0 && wu_wait_state(c, id, "completed", 45000) && c->attempts == 2 &&
         strcmp(c->worker, dead_name) != 0 && strstr(c->text, "\"stdout\":\"done\\n\"");
    tap_ok(t, ok, "kill: worker B (slots 62-63) recovers and completes the job %.1f s after the kill "
           "(attempts %lld, worker %s)", now_s() - t0, c->attempts, c->worker);
    ok = rows_of(f, id, 15000) && strncmp(c->text, "1|2|2|completed|completed|", 26) == 0 &&
         strcmp(strrchr(c->text, '|') + 1, dead_name) != 0;
    tap_ok(t, ok,
           "kill: exactly one row, attempts 2, completed, by B (%s)", c->text);
    for (waited = 0; waited <= 5000; waited += 250) {
        if ((after = wu_count_slot_procs(UID_BASE, 60, 2)) == 0)
            break;
        wu_sleep(c, 250);
    }
    tap_ok(t, before > 0 && after == 0,
           "kill: no process of A's slots is left (uid 60060/60061 or runq-sandbox --slot 60/61: "
           "%d before the kill, %d %.1f s after)", before, after, now_s() - t0);
    return b;
}

/* 2. redis-server killed and restarted on the same port while jobs run and wait. */
static void test_redis_restart(struct tap *t, struct fx *f)
{
    struct wctx *c = &f->c;
    char run1[KEYS_ID_MAX + 1], run2[KEYS_ID_MAX + 1], quick[NQUICK][KEYS_ID_MAX + 1];
    int i, ok = 1, rows_ok = 1, queued_at_restart = 0;
    double t0;

    ok = submit_sleep(f, "3", run1) == 0 && submit_sleep(f, "3", run2) == 0;
    for (i = 0; i < NQUICK; i++)
        ok = ok && submit_sleep(f, "0", quick[i]) == 0;
    ok = ok && wu_wait_state(c, run1, "running", 20000) && wu_wait_state(c, run2, "running", 20000);
    tap_ok(t, ok,
           "redis: two 3 s jobs run, %d more are queued", NQUICK);
    for (i = 0; i < NQUICK; i++)
        queued_at_restart += wu_get_job(c, quick[i]) && strncmp(c->text, "queued|", 7) == 0;
    t0 = now_s();
    ok = redis_server_stop(&f->redis, SIGKILL) == 0 && redis_server_restart(&f->redis) == 0;
    tap_ok(t, ok,
           "redis: redis-server is SIGKILLed and restarted on port %d in %.2f s (%d jobs queued)",
           f->redis.port, now_s() - t0, queued_at_restart);
    ok = wu_wait_state(c, run1, "completed", 30000) && c->attempts == 1;
    ok = ok && wu_wait_state(c, run2, "completed", 30000) && c->attempts == 1;
    tap_ok(t, ok, "redis: both running jobs complete and are acknowledged, attempts 1 (%.1f s after the restart)",
           now_s() - t0);
    ok = 1;
    for (i = 0; i < NQUICK; i++)
        ok = ok && wu_wait_state(c, quick[i], "completed", 30000) && c->attempts == 1;
    tap_ok(t, ok, "redis: the %d queued jobs are not lost: all completed, attempts 1", NQUICK);
    rows_ok = row_is(f, run1, "1|1|1|completed|completed|") && row_is(f, run2, "1|1|1|completed|completed|");
    for (i = 0; i < NQUICK; i++)
        rows_ok = rows_ok && row_is(f, quick[i], "1|1|1|completed|completed|");
    tap_ok(t, rows_ok, "redis: one row each, attempts 1 (last: %s)", c->text);
}

/* 3. PostgreSQL stopped while two jobs run, started again a few seconds later. */
static void test_pg_outage(struct tap *t, struct fx *f)
{
    struct wctx *c = &f->c;
    char id[2][KEYS_ID_MAX + 1];
    int i, ok, running = 0;
    double t0;

    ok = submit_sleep(f, "1.5", id[0]) == 0 && submit_sleep(f, "1.5", id[1]) == 0;
    ok = ok && wu_wait_state(c, id[0], "running", 20000) && wu_wait_state(c, id[1], "running", 20000);
    tap_ok(t, ok,
           "postgres: two 1.5 s jobs run");
    t0 = now_s();
    ok = pg_server_stop(&f->pg) == 0;
    tap_ok(t, ok, "postgres: PostgreSQL is stopped (%.1f s)", now_s() - t0);
    wu_sleep(c, 4000); /* both programs are over by now; storing fails */
    for (i = 0; i < 2; i++)
        running += wu_get_job(c, id[i]) && strncmp(c->text, "running|", 8) == 0;
    tap_ok(t, running == 2,
           "postgres: %.1f s into the outage both jobs are still running in Redis, unacknowledged "
           "(%d of 2; last %.80s)", now_s() - t0, running, c->text);
    ok = pg_server_resume(&f->pg) == 0;
    tap_ok(t, ok, "postgres: PostgreSQL is started again after %.1f s",
           now_s() - t0);
    t0 = now_s();
    ok = wu_wait_state(c, id[0], "completed", 30000) && c->attempts == 1;
    ok = ok && wu_wait_state(c, id[1], "completed", 30000) && c->attempts == 1;
    tap_ok(t, ok, "postgres: both are stored and acknowledged %.1f s after it is back, attempts 1",
           now_s() - t0);
    ok = row_is(f, id[0], "1|1|1|completed|completed|") && row_is(f, id[1], "1|1|1|completed|completed|");
    tap_ok(t, ok,
           "postgres: exactly one row each (%s)", c->text);
}

/* 4. Two workers on one queue: each of 20 short jobs done exactly once, by both workers. */
static void test_shared(struct tap *t, struct fx *f)
{
    struct wctx *c = &f->c;
    static char ids[NSHARED][KEYS_ID_MAX + 1];
    char array[NSHARED * (KEYS_ID_MAX + 4) + 4];
    const char *params[1] = {array};
    int i, ok = 1, status = 0;
    size_t len = 0;
    pid_t w2 = start_worker(f, 64);

    wu_sleep(c, 2000); /* w2's slots and migration check: both workers fetching */
    for (i = 0; i < NSHARED; i++)
        ok = ok && submit_sleep(f, "0.2", ids[i]) == 0;
    tap_ok(t, w2 > 0 && ok, "shared: a second worker (slots 64-65) joins; %d 0.2 s jobs are queued", NSHARED);
    ok = 1;
    for (i = 0; i < NSHARED; i++)
        ok = ok && wu_wait_state(c, ids[i], "completed", 30000) && c->attempts == 1;
    tap_ok(t, ok, "shared: all %d complete, attempts 1 in Redis", NSHARED);
    len += (size_t)snprintf(array + len, sizeof(array) - len, "{");
    for (i = 0; i < NSHARED; i++)
        len += (size_t)snprintf(array + len, sizeof(array) - len, "%s\"%s\"", i ? "," : "", ids[i]);
    snprintf(array + len, sizeof(array) - len, "}");
    ok = wu_query(c, 15000,
                  "SELECT count(*), count(DISTINCT id), count(DISTINCT worker), min(attempts), "
                  "max(attempts), min(status), max(status) FROM jobs WHERE id = ANY($1::text[])",
                  1, params) &&
         strcmp(c->text, "20|20|2|1|1|completed|completed") == 0;
    tap_ok(t, ok,
           "shared: 20 rows, one per job, by 2 workers, attempts 1 (rows|ids|workers|attempts min|max|"
           "status: %s)", c->text);
    ok = wu_query(c, 15000,
                  "SELECT string_agg(n::text, '+' ORDER BY n DESC) FROM (SELECT count(*) AS n "
                  "FROM jobs WHERE id = ANY($1::text[]) GROUP BY worker) s",
                  1, params);
    tap_ok(t, ok,
           "shared: jobs per worker: %s", c->text);
    kill(w2, SIGTERM);
    tap_ok(t, reap(f, w2, &status, 10000) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "shared: the second worker, idle, drains and exits 0 on SIGTERM");
}

/* Where a never-started job is: 1 in the pending list, 2 in worker's processing list, 0
 * neither (or started), -1 on error. */
static int where_queued(struct fx *f, const char *id, const char *worker, long long *attempts)
{
    char key[KEYS_NAME_MAX + 1];
    long long pend = -2, proc = -2;

    *attempts = -1;
    if (!wu_get_job(&f->c, id))
        return -1;
    *attempts = f->c.attempts;
    if (strncmp(f->c.text, "queued|", 7) != 0 || f->c.attempts != 0)
        return 0;
    if (keys_pending(key, sizeof(key), "default") == 0)
        pend = list_pos(f, key, id);
    if (keys_processing(key, sizeof(key), "default", worker) == 0)
        proc = list_pos(f, key, id);
    if (pend < -1 || proc < -1)
        return -1;
    return pend >= 0 ? 1 : proc >= 0 ? 2 : 0;
}

/* 5. SIGTERM with running jobs: they complete, nothing new is started, exit 0 in the grace.
 * Two jobs fetched ahead (both slots busy) go back to the pending list at once, as queued
 * with attempts 0: they never ran. A job queued 0.3 s after the signal may still be taken by the BLMOVE that was blocked
 * when it came (rq cannot call that back): it must not be started, and is left to recovery.
 * A job queued after that BLMOVE's block (1 s) must stay in the pending list. */
static void test_drain(struct tap *t, struct fx *f, pid_t w)
{
    static const char *const where_text[] = {"started or lost", "the pending list",
                                             "the drained worker's processing list"};
    struct wctx *c = &f->c;
    char id[KEYS_ID_MAX + 1], early[KEYS_ID_MAX + 1], late[KEYS_ID_MAX + 1], name[64] = "";
    char id2[KEYS_ID_MAX + 1], ahead[2][KEYS_ID_MAX + 1];
    int status = 0, exited, ok, w_early, w_late, w_ahead[2];
    long long att_early, att_late, att_ahead[2];
    double t0, t_done, t_exit;
    pid_t w3;

    ok = submit_sleep(f, "3", id) == 0 && submit_sleep(f, "3", id2) == 0 &&
         wu_wait_state(c, id, "running", 20000) && wu_wait_state(c, id2, "running", 20000);
    tap_ok(t, ok, "drain: two 3 s jobs run (both slots)");
    snprintf(name, sizeof(name), "%s", c->worker);
    ok = submit_sleep(f, "0", ahead[0]) == 0 && submit_sleep(f, "0", ahead[1]) == 0 &&
         wu_wait_state(c, ahead[0], "running", 5000) && wu_wait_state(c, ahead[1], "running", 5000);
    tap_ok(t, ok, "drain: two more jobs are fetched ahead (started in Redis, waiting for a slot)");
    wu_sleep(c, 300);
    t0 = now_s();
    kill(w, SIGTERM);
    ok = wu_wait_state(c, ahead[0], "queued", 1000) && wu_wait_state(c, ahead[1], "queued", 1000);
    w_ahead[0] = where_queued(f, ahead[0], name, &att_ahead[0]);
    w_ahead[1] = where_queued(f, ahead[1], name, &att_ahead[1]);
    tap_ok(t, ok && w_ahead[0] == 1 && w_ahead[1] == 1,
           "drain: within 1 s of SIGTERM both are back in the pending list, queued, attempts "
           "%lld and %lld, while the running jobs go on", att_ahead[0], att_ahead[1]);
    wu_sleep(c, 300); /* the worker has taken the signal; its blocked BLMOVE may not be over */
    ok = submit_sleep(f, "0", early) == 0;
    wu_sleep(c, 1500); /* any BLMOVE sent before the signal is over */
    ok = ok && submit_sleep(f, "0", late) == 0;
    tap_ok(t, ok, "drain: SIGTERM; a job is queued 0.3 s after it, another 1.8 s after it");
    ok = wu_wait_state(c, id, "completed", 15000) && strstr(c->text, "\"stdout\":\"done\\n\"") &&
         row_is(f, id, "1|1|1|completed|completed|") && wu_wait_state(c, id2, "completed", 15000) &&
         row_is(f, id2, "1|1|1|completed|completed|");
    t_done = now_s() - t0;
    tap_ok(t, ok, "drain: both running jobs complete, stored once and acknowledged, %.1f s after SIGTERM",
           t_done);
    exited = reap(f, w, &status, 12000);
    t_exit = now_s() - t0;
    tap_ok(t, exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "drain: the worker exits 0 %.1f s after SIGTERM (drain grace 10 s)", t_exit);
    if (!exited)
        kill(w, SIGKILL);
    w_early = where_queued(f, early, name, &att_early);
    w_late = where_queued(f, late, name, &att_late);
    tap_ok(t, w_early > 0, "drain: the job queued 0.3 s after SIGTERM was not started (attempts %lld): "
                           "it is in %s", att_early, w_early > 0 ? where_text[w_early] : "?");
    tap_ok(t, w_late == 1, "drain: the job queued 1.8 s after SIGTERM was not fetched: it is in %s "
                           "(attempts %lld)", w_late >= 0 ? where_text[w_late] : "?", att_late);
    /* Nothing lost: a fresh worker (A's old slots) runs both, once each (recovering the first
     * from the drained worker's list if it is there). */
    w3 = start_worker(f, 60);
    t0 = now_s();
    ok = w3 > 0 && wu_wait_state(c, late, "completed", 30000) && c->attempts == 1 &&
         wu_wait_state(c, early, "completed", 30000) && c->attempts == 1 &&
         row_is(f, late, "1|1|1|completed|completed|") && row_is(f, early, "1|1|1|completed|completed|");
    for (int i = 0; i < 2; i++)
        ok = ok && wu_wait_state(c, ahead[i], "completed", 30000) && c->attempts == 1 &&
             row_is(f, ahead[i], "1|1|1|completed|completed|");
    tap_ok(t, ok, "drain: a new worker then runs all four exactly once, attempts 1, within %.1f s",
           now_s() - t0);
    kill(w3, SIGTERM);
    ok = reap(f, w3, &status, 10000) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    tap_ok(t, ok, "drain: which exits 0 on SIGTERM");
}

int main(int argc, char **argv)
{
    static struct fx f;
    struct rq_options ro = {0};
    struct tap t = {0};
    char err[256] = "", pg_url[256], dir[] = "/tmp/runq-test-faults-XXXXXX";
    double t0 = now_s();
    size_t i;
    pid_t b;

    if (argc < 4) {
        tap_ok(&t, 0, "usage: test_worker_faults RUNQ-WORKER LANGUAGES.YAML RUNQ-SANDBOX");
        return tap_done(&t);
    }
    signal(SIGPIPE, SIG_IGN);
    f.worker_exe = argv[1];
    f.languages = argv[2];
    f.sandbox = argv[3];
    if (!tap_ok(&t, redis_server_start(&f.redis) == 0 && pg_server_start(&f.pg, err, sizeof(err)) == 0 &&
                        mkdtemp(dir) != NULL,
                "redis-server and PostgreSQL start (%s)", err))
        goto out;
    pg_server_url(&f.pg, "postgres", pg_url, sizeof(pg_url));
    snprintf(f.config, sizeof(f.config), "%s/runq.yaml", dir);
    f.c.loop = uv_default_loop();
    ro.url = f.redis.url;
    if (!tap_ok(&t, wu_write_config(f.config, f.redis.url, pg_url, 2, "1s", "3s", "10s") == 0 &&
                        rq_open(f.c.loop, &ro, &f.c.rq) == 0 &&
                        db_open(f.c.loop, pg_url, NULL, &f.c.db) == 0,
                "config (heartbeat 1s, ttl 3s, drain grace 10s); the test connects to Redis and PostgreSQL"))
        goto out;
    b = test_kill(&t, &f);
    if (tap_ok(&t, b > 0, "worker B serves the rest")) {
        test_redis_restart(&t, &f);
        test_pg_outage(&t, &f);
        test_shared(&t, &f);
        test_drain(&t, &f, b);
    }
    rq_close(f.c.rq, NULL, NULL);
    db_close(f.c.db, NULL, NULL);
    uv_run(f.c.loop, UV_RUN_DEFAULT);
    tap_ok(&t, uv_loop_close(f.c.loop) == 0, "the test's loop closes clean (%.1f s in all)", now_s() - t0);
out:
    for (i = 0; i < f.npids; i++) {
        int status;

        if (f.pids[i] > 0) {
            kill(f.pids[i], SIGKILL);
            waitpid(f.pids[i], &status, 0);
        }
    }
    unlink(f.config);
    rmdir(dir);
    pg_server_destroy(&f.pg);
    redis_server_cleanup(&f.redis);
    return tap_done(&t);
}
