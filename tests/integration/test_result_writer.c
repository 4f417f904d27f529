/* SPDX-License-Identifier: MIT */
/* Integration tests of worker/result_writer (group commit of finished jobs) against a real
 * PostgreSQL started by pg_server (as nobody, temporary directory, free port): a burst of
 * rows in one statement with every column right, older attempts refused, replays idempotent,
 * a duplicate id held for the next batch, a row the server refuses failing alone, a server-
 * side fault failing a batch without splitting it, db_close and result_writer_free with rows
 * queued or in flight (also from a callback). Each callback must run exactly once and never
 * from inside result_writer_put(). Every wait is bounded (a loop watchdog, and alarm()). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "db.h"
#include "loop_util.h"
#include "pg_server.h"
#include "result_writer.h"
#include "results_sql.h"
#include "tap.h"

#define BASE_US 1760000000000000LL
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

struct env {
    struct lu_loop lu;
    int in_put;    /* inside result_writer_put() */
    int cb_in_put; /* callbacks that ran there: must stay 0 */
    struct pg_server pg;
};

/* One row's callback record. */
struct rec {
    struct env *e;
    int calls;
    int status;
    /* from_cb test: this row's callback frees *free_w and checks others */
    struct result_writer *free_w;
    struct rec *others;
    int nothers, others_done, put_rc;
};

/* The recs to wait for. */
struct recs_wait {
    const struct rec *r;
    int n;
};

static int recs_done(const void *arg)
{
    const struct recs_wait *w = arg;

    for (int i = 0; i < w->n; i++)
        if (!w->r[i].calls)
            return 0;
    return 1;
}

/* Runs the loop until each of the n recs has been called, or LU_WAIT_MS pass. */
static void wait_recs(struct env *e, const struct rec *recs, int n)
{
    struct recs_wait w = {recs, n};

    lu_run_cond(&e->lu, recs_done, &w, LU_WAIT_MS);
}

static struct db *open_db(struct env *e, const char *app)
{
    struct db_options o = {.connect_timeout_ms = 2000,
                           .query_timeout_ms = 10000,
                           .backoff = {.base_ms = 20, .max_ms = 100},
                           .application_name = app};
    struct db *db = NULL;

    return db_open(&e->lu.loop, e->pg.url, &o, &db) < 0 ? NULL : db;
}

static void on_row(int status, void *data)
{
    struct rec *r = data;

    r->calls++;
    r->status = status;
    if (r->e->in_put)
        r->e->cb_in_put++;
}

static int put(struct env *e, struct result_writer *w, const struct results_job *j, struct rec *r)
{
    int rc;

    r->e = e;
    e->in_put = 1;
    rc = result_writer_put(w, j, on_row, r);
    e->in_put = 0;
    return rc;
}

/* Every rec called exactly once with want. */
static int recs_are(const struct rec *r, int n, int want)
{
    for (int i = 0; i < n; i++)
        if (r[i].calls != 1 || r[i].status != want) {
            tap_diag("rec %d: %d calls, status %d (want %d)", i, r[i].calls, r[i].status, want);
            return 0;
        }
    return 1;
}

static struct results_job job(const char *id, int attempts, const char *result)
{
    return (struct results_job){.id = id,
                                .queue = "default",
                                .language = "python",
                                .status = "completed",
                                .priority = 5,
                                .attempts = attempts,
                                .worker = "w1",
                                .spec_summary = "{\"nfiles\": 1}",
                                .result = result,
                                .metadata = "{\"k\": \"v\"}",
                                .created_us = BASE_US,
                                .started_us = BASE_US + 10,
                                .finished_us = BASE_US + 20};
}

/* Puts n jobs with ids prefix-0, prefix-1... (written into ids, which must outlive the
 * puts' callbacks) and the given attempts, recs[i] for the i-th. Returns the puts' return
 * codes or'ed together. */
static int put_numbered(struct env *e, struct result_writer *w, const char *prefix, int attempts,
                        char (*ids)[8], struct rec *recs, int n)
{
    int rc = 0;

    for (int i = 0; i < n; i++) {
        struct results_job j;

        snprintf(ids[i], sizeof(ids[i]), "%s-%d", prefix, i);
        j = job(ids[i], attempts, NULL);
        rc |= put(e, w, &j, &recs[i]);
    }
    return rc;
}

/* The 50 rows of the burst: every column varies with i. */
struct burst {
    char id[50][8], summary[50][32], result[50][64], meta[50][32], worker[50][8];
    struct results_job j[50];
};

static void burst_make(struct burst *b)
{
    static const char *const st[] = {"completed", "failed", "cancelled"};

    for (int i = 0; i < 50; i++) {
        struct results_job *j = &b->j[i];

        snprintf(b->id[i], sizeof(b->id[i]), "b-%02d", i);
        snprintf(b->summary[i], sizeof(b->summary[i]), "{\"nfiles\": %d}", i);
        snprintf(b->result[i], sizeof(b->result[i]), "{\"status\": \"ok\", \"wall_ms\": %d.5}", i);
        snprintf(b->meta[i], sizeof(b->meta[i]), "{\"k\": %d}", i);
        snprintf(b->worker[i], sizeof(b->worker[i]), "w-%d", i);
        *j = job(b->id[i], 1 + i % 3, b->result[i]);
        j->status = st[i % 3];
        j->priority = i % 10;
        j->worker = i % 7 == 0 ? NULL : b->worker[i];
        j->spec_summary = i == 3 ? NULL : b->summary[i];
        j->metadata = i % 5 == 0 ? NULL : b->meta[i];
        j->created_us = i == 4 ? 0 : BASE_US + i * 1000;
        j->started_us = i % 2 ? BASE_US + i * 1000 + 10 : 0;
        j->finished_us = BASE_US + i * 1000 + 20;
    }
}

/* Compares the stored row (columns of the SELECT in test_burst) with b->j[i]. */
static int burst_row_ok(const struct burst *b, const struct res *r, int i)
{
    const struct results_job *j = &b->j[i];
    char want[8][64];

    snprintf(want[0], sizeof(want[0]), "%d", j->attempts);
    snprintf(want[1], sizeof(want[1]), "%d", j->priority);
    snprintf(want[2], sizeof(want[2]), "%d.5", i);
    snprintf(want[3], sizeof(want[3]), "%d", i);
    snprintf(want[4], sizeof(want[4]), "%lld", (long long)j->created_us);
    snprintf(want[5], sizeof(want[5]), "%lld", (long long)j->started_us);
    snprintf(want[6], sizeof(want[6]), "%lld", (long long)j->finished_us);
    return res_val_is(r, i, 0, j->id) && res_val_is(r, i, 1, j->status) &&
           res_val_is(r, i, 2, want[0]) && res_val_is(r, i, 3, want[1]) &&
           res_val_is(r, i, 4, j->worker) &&
           res_val_is(r, i, 5, j->spec_summary ? j->spec_summary : "{}") &&
           res_val_is(r, i, 6, "object") && res_val_is(r, i, 7, want[2]) &&
           res_val_is(r, i, 8, j->metadata ? want[3] : NULL) &&
           (j->created_us ? res_val_is(r, i, 9, want[4]) : res_val_is(r, i, 12, "t")) &&
           res_val_is(r, i, 10, j->started_us ? want[5] : NULL) && res_val_is(r, i, 11, want[6]) &&
           res_val_is(r, i, 13, "default") && res_val_is(r, i, 14, "python");
}

static void test_burst(struct tap *t, struct env *e, struct db *db, struct result_writer *w)
{
    static struct burst b;
    struct rec recs[50];
    struct res r = {0};
    int rc = 0, bad = -1;

    memset(recs, 0, sizeof(recs));
    burst_make(&b);
    for (int i = 0; i < 50; i++)
        rc |= put(e, w, &b.j[i], &recs[i]);
    tap_ok(t, rc == 0 && e->cb_in_put == 0, "50 puts accepted, no callback from inside put");
    wait_recs(e, recs, 50);
    tap_ok(t, recs_are(recs, 50, 0), "every callback ran once with 0");
    lu_query(&e->lu, db,
             "SELECT count(*), count(DISTINCT xmin::text) FROM jobs WHERE id LIKE 'b-%'", 0, NULL,
             &r);
    tap_ok(t, r.status == 0 && res_val_is(&r, 0, 0, "50") && res_val_is(&r, 0, 1, "2"),
           "50 rows from 2 transactions: the first row alone, then 49 in one (%s, %s)",
           res_val(&r, 0, 0), res_val(&r, 0, 1));
    lu_query(
        &e->lu, db,
        "SELECT id, status, attempts, priority, worker, spec_summary::text, jsonb_typeof(result),"
        " result->>'wall_ms', metadata->>'k', " US("created_at") ", " US("started_at") ", " US(
            "finished_at") ", created_at > now() - interval '1 minute', queue, language"
                           " FROM jobs WHERE id LIKE 'b-%' ORDER BY id",
        0, NULL, &r);
    for (int i = 0; r.status == 0 && r.nrows == 50 && i < 50 && bad < 0; i++)
        if (!burst_row_ok(&b, &r, i))
            bad = i;
    if (bad >= 0)
        tap_diag("row %d: %s %s att %s prio %s worker %s summary %s result %s/%s meta %s"
                 " times %s %s %s (%s)",
                 bad, res_val(&r, bad, 0), res_val(&r, bad, 1), res_val(&r, bad, 2),
                 res_val(&r, bad, 3), res_val(&r, bad, 4), res_val(&r, bad, 5), res_val(&r, bad, 6),
                 res_val(&r, bad, 7), res_val(&r, bad, 8), res_val(&r, bad, 9),
                 res_val(&r, bad, 10), res_val(&r, bad, 11), res_val(&r, bad, 12));
    tap_ok(t, r.status == 0 && r.nrows == 50 && bad < 0,
           "each row's columns as put: status, attempts, priority, worker, jsonb values, times"
           " (NULL when 0; created_at now() when 0)");
    res_clear(&r);
}

static void test_attempts(struct tap *t, struct env *e, struct db *db, struct result_writer *w)
{
    static struct burst b;
    struct results_job older, newer, replay;
    struct rec recs[3];
    struct res r = {0};
    int rc;

    memset(recs, 0, sizeof(recs));
    burst_make(&b);
    older = b.j[5]; /* stored attempt 3 */
    older.attempts = 1;
    older.status = "failed";
    older.result = "{\"status\": \"runtime_error\"}";
    replay = b.j[6];
    newer = b.j[7]; /* stored attempt 2, started BASE+7010 */
    newer.attempts = 9;
    newer.status = "failed";
    newer.started_us = 0;
    newer.created_us = BASE_US + 999999;
    rc = put(e, w, &older, &recs[0]) | put(e, w, &replay, &recs[1]) | put(e, w, &newer, &recs[2]);
    wait_recs(e, recs, 3);
    tap_ok(t, rc == 0 && recs_are(recs, 3, 0),
           "older attempt, replay and newer attempt: each callback once with 0");
    lu_query(&e->lu, db,
             "SELECT id, attempts, status, result->>'wall_ms', " US("created_at") ", " US(
                 "started_at") " FROM jobs WHERE id IN ('b-05', 'b-06', 'b-07') ORDER BY id",
             0, NULL, &r);
    tap_ok(t,
           r.nrows == 3 && res_val_is(&r, 0, 1, "3") && res_val_is(&r, 0, 2, "cancelled") &&
               res_val_is(&r, 0, 3, "5.5"),
           "an older attempt does not overwrite (b-05: attempts %s, %s)", res_val(&r, 0, 1),
           res_val(&r, 0, 2));
    tap_ok(t,
           r.nrows == 3 && res_val_is(&r, 1, 1, "1") && res_val_is(&r, 1, 2, "completed") &&
               res_val_is(&r, 1, 3, "6.5"),
           "a replay of the same attempt is idempotent");
    tap_ok(t,
           r.nrows == 3 && res_val_is(&r, 2, 1, "9") && res_val_is(&r, 2, 2, "failed") &&
               res_val_is(&r, 2, 4, "1760000000007000") && res_val_is(&r, 2, 5, "1760000000007010"),
           "a newer attempt wins; created_at keeps its first value, started_at when NULL");
    lu_query(&e->lu, db, "SELECT count(*) FROM jobs WHERE id LIKE 'b-%'", 0, NULL, &r);
    tap_ok(t, res_val_is(&r, 0, 0, "50"), "still 50 rows");
    res_clear(&r);
}

static void test_duplicates(struct tap *t, struct env *e, struct db *db, struct result_writer *w)
{
    struct results_job j[4] = {job("d-0", 1, NULL), job("d-1", 1, "{\"n\": 1}"),
                               job("d-2", 1, NULL), job("d-1", 2, "{\"n\": 2}")};
    struct rec recs[4];
    struct res r = {0};
    int rc = 0;

    memset(recs, 0, sizeof(recs));
    for (int i = 0; i < 4; i++) /* d-0 goes alone; d-1, d-2 next; the second d-1 after */
        rc |= put(e, w, &j[i], &recs[i]);
    wait_recs(e, recs, 4);
    tap_ok(t, rc == 0 && recs_are(recs, 4, 0), "an id twice in the queue: every callback 0");
    lu_query(
        &e->lu, db,
        "SELECT id, attempts, result->>'n', xmin::text FROM jobs WHERE id LIKE 'd-%' ORDER BY id",
        0, NULL, &r);
    tap_ok(t,
           r.nrows == 3 && res_val_is(&r, 1, 1, "2") && res_val_is(&r, 1, 2, "2") &&
               res_val(&r, 0, 3) && res_val(&r, 1, 3) && res_val(&r, 2, 3) &&
               strcmp(res_val(&r, 0, 3), res_val(&r, 2, 3)) != 0 &&
               strcmp(res_val(&r, 1, 3), res_val(&r, 2, 3)) != 0,
           "the second copy went in a later statement and won (3 transactions)");
    res_clear(&r);
}

static void test_refusal(struct tap *t, struct env *e, struct db *db, struct result_writer *w)
{
    char ids[11][8];
    struct results_job j[11];
    struct rec recs[11];
    struct res r = {0};
    int rc = 0;

    memset(recs, 0, sizeof(recs));
    lu_query(&e->lu, db,
             "ALTER TABLE jobs ADD CONSTRAINT rw_test_poison CHECK (language <> 'poison')", 0, NULL,
             &r);
    tap_ok(t, r.status == 0, "a CHECK constraint refusing language 'poison'");
    for (int i = 0; i < 11; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p-%02d", i);
        j[i] = job(ids[i], 1, "{}");
        if (i == 5)
            j[i].language = "poison";
        rc |= put(e, w, &j[i], &recs[i]); /* p-00 alone, p-01..p-10 in one refused batch */
    }
    wait_recs(e, recs, 11);
    tap_ok(t, rc == 0 && recs_are(recs, 5, 0) && recs_are(recs + 6, 5, 0),
           "the other rows of the refused batch succeed");
    tap_ok(t, recs[5].calls == 1 && recs[5].status == -EIO, "only the refused row gets -EIO (%d)",
           recs[5].status);
    lu_query(&e->lu, db,
             "SELECT count(*), count(DISTINCT xmin::text) FROM jobs WHERE id LIKE 'p-%'", 0, NULL,
             &r);
    tap_ok(t, res_val_is(&r, 0, 0, "10") && res_val_is(&r, 0, 1, "10"),
           "10 rows stored, the refused batch's rows one statement each (%s, %s)",
           res_val(&r, 0, 0), res_val(&r, 0, 1));
    lu_query(&e->lu, db, "ALTER TABLE jobs DROP CONSTRAINT rw_test_poison", 0, NULL, &r);
    res_clear(&r);
}

static void test_validation(struct tap *t, struct env *e, struct db *db, struct result_writer *w)
{
    struct results_job bad_json = job("v-1", 1, "{\"unterminated\": "),
                       running = job("v-2", 1, "{}");
    struct results_job ok = job("v-3", 1, "{}");
    struct rec recs[3];
    struct res r = {0};
    int rc[3];

    memset(recs, 0, sizeof(recs));
    running.status = "running";
    rc[0] = put(e, w, &bad_json, &recs[0]);
    rc[1] = put(e, w, &running, &recs[1]);
    rc[2] = result_writer_put(w, &ok, NULL, NULL);
    lu_query(&e->lu, db, "SELECT count(*) FROM jobs WHERE id LIKE 'v-%'", 0, NULL, &r);
    tap_ok(t,
           rc[0] == -EINVAL && rc[1] == -EINVAL && rc[2] == -EINVAL && recs[0].calls == 0 &&
               recs[1].calls == 0 && res_val_is(&r, 0, 0, "0"),
           "invalid JSON, a status that is not final, no callback: -EINVAL, no callback");
    res_clear(&r);
}

static void on_row_free(int status, void *data)
{
    struct rec *r = data;

    on_row(status, data);
    result_writer_free(r->free_w);
    r->others_done = recs_are(r->others, r->nothers, -ECANCELED);
}

static void on_row_put(int status, void *data)
{
    struct rec *r = data;
    struct results_job j = job("g-x", 1, NULL);

    on_row(status, data);
    r->put_rc = result_writer_put(r->free_w, &j, on_row, r);
}

/* result_writer_free with rows queued and in flight, then from inside a callback. */
static void test_free(struct tap *t, struct env *e)
{
    struct db *db = open_db(e, "rw-free");
    struct result_writer *w = NULL;
    struct results_job j;
    struct rec recs[5], g[3];
    struct res r = {0};
    char ids[5][8];
    int rc;

    memset(recs, 0, sizeof(recs));
    result_writer_new(&e->lu.loop, db, 0, &w);
    rc = put_numbered(e, w, "f", 1, ids, recs, 5);
    result_writer_free(w);
    tap_ok(t, rc == 0 && recs_are(recs, 5, -ECANCELED),
           "free: the in-flight and the queued rows get -ECANCELED before it returns");
    lu_query(&e->lu, db, "SELECT 1", 0, NULL, &r); /* after the detached batch's callback (FIFO) */
    tap_ok(t, r.status == 0 && recs_are(recs, 5, -ECANCELED),
           "the detached batch completes later without calling anything");

    memset(g, 0, sizeof(g));
    result_writer_new(&e->lu.loop, db, 0, &w);
    g[0] = (struct rec){.e = e, .free_w = w, .others = g + 1, .nothers = 2};
    g[1] = (struct rec){.e = e, .free_w = w};
    j = job("g-0", 1, NULL); /* sent alone; its callback frees w with g-1, g-2 queued */
    rc = result_writer_put(w, &j, on_row_free, &g[0]);
    j = job("g-1", 1, NULL);
    rc |= result_writer_put(w, &j, on_row_put, &g[1]);
    j = job("g-2", 1, NULL);
    rc |= put(e, w, &j, &g[2]);
    wait_recs(e, g, 1);
    tap_ok(t, rc == 0 && g[0].calls == 1 && g[0].status == 0 && g[0].others_done,
           "free from a callback: the queued rows' callbacks ran before it returned");
    tap_ok(t, g[1].put_rc == -ESHUTDOWN && g[1].calls == 1,
           "put from a callback while freeing: -ESHUTDOWN, no callback");
    lu_query(&e->lu, db, "SELECT count(*) FROM jobs WHERE id LIKE 'g-%'", 0, NULL, &r);
    tap_ok(t, res_val_is(&r, 0, 0, "1") && g[0].calls == 1 && g[1].calls == 1 && g[2].calls == 1,
           "only g-0 was written; no callback ran twice");
    lu_close_db(&e->lu, db);
    res_clear(&r);
}

/* db_close while a batch is in flight: it gets -ECANCELED, the queued rows -ESHUTDOWN. */
static void test_db_close(struct tap *t, struct env *e)
{
    struct db *db = open_db(e, "rw-close");
    struct result_writer *w = NULL;
    struct results_job j = job("c-0", 1, NULL);
    struct rec recs[4];
    int rc = 0, closed = 0;

    memset(recs, 0, sizeof(recs));
    result_writer_new(&e->lu.loop, db, 0, &w);
    rc |= put(e, w, &j, &recs[0]);
    j.id = "c-1";
    rc |= put(e, w, &j, &recs[1]);
    j.id = "c-2";
    rc |= put(e, w, &j, &recs[2]);
    db_close(db, lu_on_closed, &closed);
    tap_ok(t,
           rc == 0 && recs_are(recs, 1, -ECANCELED) && recs[1].calls == 1 &&
               recs[1].status == -ESHUTDOWN && recs[2].calls == 1 && recs[2].status == -ESHUTDOWN,
           "db_close: the in-flight row -ECANCELED, the queued ones -ESHUTDOWN, at once");
    j.id = "c-3";
    tap_ok(t, put(e, w, &j, &recs[3]) == -ESHUTDOWN && recs[3].calls == 0,
           "a put after db_close fails at once, no callback");
    result_writer_free(w);
    lu_run_until(&e->lu, &closed, LU_WAIT_MS);
}

/* Runs sql on admin until it returns one row, at most tries times with pause_us between the
 * tries. Returns 1 when it did. */
static int poll_one_row(struct env *e, struct db *admin, const char *sql, int tries,
                        unsigned pause_us)
{
    struct res r = {0};
    int found = 0;

    for (int i = 0; i < tries && !found; i++) {
        lu_query(&e->lu, admin, sql, 0, NULL, &r);
        if (!(found = r.status == 0 && r.nrows == 1))
            usleep(pause_us);
    }
    res_clear(&r);
    return found;
}

/* Terminates the writer's session (application_name rw-fault) once it waits on a lock. */
static int terminate_waiting(struct env *e, struct db *admin)
{
    return poll_one_row(e, admin,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = 'rw-fault' AND wait_event_type = 'Lock'",
                        100, 20000);
}

/* A batch failing for a reason that is not its rows' (57P01: the session was terminated) is
 * failed as a whole: sent one row per statement, the rows would have been written once the
 * lock went away. */
static void test_fault(struct tap *t, struct env *e, struct db *admin)
{
    struct db *db = open_db(e, "rw-fault"), *lockdb = open_db(e, "rw-lock");
    struct result_writer *w = NULL;
    struct rec recs[6];
    struct res lock = {0}, r = {0};
    char ids[6][8];
    int rc, held, t1, t2;

    memset(recs, 0, sizeof(recs));
    result_writer_new(&e->lu.loop, db, 0, &w);
    db_query(lockdb, "BEGIN; LOCK TABLE jobs IN SHARE MODE; SELECT pg_sleep(2); COMMIT", 0, NULL,
             lu_on_result, &lock);
    held = poll_one_row(e, admin,
                        "SELECT 1 FROM pg_locks WHERE relation = 'jobs'::regclass"
                        " AND mode = 'ShareLock' AND granted",
                        100, 20000);
    rc = put_numbered(e, w, "t", 1, ids, recs, 6); /* t-0 alone, then t-1..t-5 */
    t1 = terminate_waiting(e, admin);
    wait_recs(e, recs, 1);
    t2 = terminate_waiting(e, admin);
    wait_recs(e, recs, 6);
    tap_ok(t, held && rc == 0 && t1 && t2, "two sessions terminated while waiting on a lock");
    tap_diag("lone row: %d; batch: %d", recs[0].status, recs[1].status);
    tap_ok(t, recs_are(recs + 1, 5, recs[1].status) && recs[1].status != 0,
           "the batch's rows all get the batch's error (%d), none re-sent alone", recs[1].status);
    lu_run_until(&e->lu, &lock.done, LU_WAIT_MS);
    lu_query(&e->lu, admin, "SELECT count(*) FROM jobs WHERE id LIKE 't-%'", 0, NULL, &r);
    tap_ok(t, lock.status == 0 && res_val_is(&r, 0, 0, "0"),
           "nothing was written after the lock went away");
    result_writer_free(w);
    lu_close_db(&e->lu, db);
    lu_close_db(&e->lu, lockdb);
    res_clear(&lock);
    res_clear(&r);
}

/* A batch failing for a reason that is not its rows' (40P01: it lost a deadlock) fails as a
 * whole: re-sent one row per statement, the rows would be written once the other
 * transaction commits. The other session locks k-2, then k-1 (which the batch holds by
 * then); it waits 20 s before checking for deadlocks, so the batch is the victim. */
static void test_deadlock(struct tap *t, struct env *e, struct db *admin)
{
    struct db *db = open_db(e, "rw-deadlock"), *other = open_db(e, "rw-other");
    struct result_writer *w = NULL;
    struct rec recs[4];
    struct res x = {0}, r = {0};
    char ids[4][8];
    int rc, sleeping;

    memset(recs, 0, sizeof(recs));
    lu_query(&e->lu, admin,
             "INSERT INTO jobs (id, queue, language, status, attempts) VALUES"
             " ('k-1', 'q', 'l', 'completed', 1), ('k-2', 'q', 'l', 'completed', 1)",
             0, NULL, &r);
    result_writer_new(&e->lu.loop, db, 0, &w);
    db_query(other,
             "SET deadlock_timeout = '20s'; BEGIN;"
             " UPDATE jobs SET worker = 'other' WHERE id = 'k-2'; SELECT pg_sleep(1);"
             " UPDATE jobs SET worker = 'other' WHERE id = 'k-1'; COMMIT",
             0, NULL, lu_on_result, &x);
    sleeping = poll_one_row(e, admin,
                            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'rw-other'"
                            " AND wait_event = 'PgSleep'",
                            200, 10000);
    /* k-0 alone, then k-1..k-3: locks k-1, waits on k-2 */
    rc = put_numbered(e, w, "k", 2, ids, recs, 4);
    wait_recs(e, recs, 4);
    lu_run_until(&e->lu, &x.done, LU_WAIT_MS);
    tap_ok(t, sleeping && rc == 0 && x.status == 0 && recs_are(recs, 1, 0),
           "the other transaction committed; the lone k-0 was written");
    tap_ok(t, recs_are(recs + 1, 3, -EIO),
           "the deadlocked batch's rows all get -EIO (not re-sent one by one)");
    lu_query(&e->lu, admin, "SELECT id, attempts, worker FROM jobs WHERE id LIKE 'k-%' ORDER BY id",
             0, NULL, &r);
    tap_ok(t,
           r.nrows == 3 && res_val_is(&r, 0, 1, "2") && res_val_is(&r, 1, 1, "1") &&
               res_val_is(&r, 1, 2, "other") && res_val_is(&r, 2, 1, "1") &&
               res_val_is(&r, 2, 2, "other"),
           "k-1 and k-2 hold the other transaction's writes, k-3 was not written");
    result_writer_free(w);
    lu_close_db(&e->lu, db);
    lu_close_db(&e->lu, other);
    res_clear(&x);
    res_clear(&r);
}

/* Rows that come one at a time, each after the last is stored: with no gap each gets a
 * statement of its own; with min_gap_ms they wait for the gap and share one. */
static int paced_statements(struct env *e, struct db *db, uint64_t gap_ms, const char *prefix)
{
    struct result_writer *w = NULL;
    struct rec recs[6];
    struct results_job j;
    struct res r = {0};
    char ids[6][16], like[24];
    const char *params[1] = {like};
    int n = -1;

    memset(recs, 0, sizeof(recs));
    if (result_writer_new(&e->lu.loop, db, gap_ms, &w) < 0)
        return -1;
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%s-%d", prefix, i);
        j = job(ids[i], 1, NULL);
        put(e, w, &j, &recs[i]);
        if (i == 0 || !gap_ms) /* the db is idle again before the next row */
            wait_recs(e, &recs[i], 1);
    }
    wait_recs(e, recs, 6);
    snprintf(like, sizeof(like), "%s-%%", prefix);
    lu_query(&e->lu, db, "SELECT count(DISTINCT xmin::text) FROM jobs WHERE id LIKE $1", 1, params,
             &r);
    if (recs_are(recs, 6, 0) && res_val(&r, 0, 0))
        n = atoi(res_val(&r, 0, 0));
    result_writer_free(w);
    res_clear(&r);
    return n;
}

static void test_pacing(struct tap *t, struct env *e, struct db *db)
{
    int alone = paced_statements(e, db, 0, "pz"), paced = paced_statements(e, db, 300, "pg");

    tap_ok(t, alone == 6, "no gap: 6 rows stored one after another take 6 statements (%d)", alone);
    tap_ok(t, paced == 2,
           "a 300 ms gap: the first row goes at once, the 5 after it share one statement (%d)",
           paced);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *msg,
                        void *data)
{
    (void)db;
    (void)applied;
    (void)version;
    if (status)
        tap_diag("migrate: %d %s", status, msg);
    *(int *)data = status ? -1 : 1;
}

int main(void)
{
    struct tap t = {0};
    struct env e;
    struct result_writer *w = NULL;
    struct db *db;
    char err[256];
    int migrated = 0;

    memset(&e, 0, sizeof(e));
    alarm(240); /* the last resort against a hang: SIGALRM fails the test */
    if (pg_server_start(&e.pg, err, sizeof(err)) < 0) {
        tap_ok(&t, 0, "start PostgreSQL: %s", err);
        return tap_done(&t);
    }
    tap_diag("PostgreSQL at %s (%s)", e.pg.url, e.pg.dir);
    lu_init(&e.lu);

    db = open_db(&e, "rw-main");
    if (db)
        db_migrate(db, on_migrated, &migrated);
    if (db)
        lu_run_until(&e.lu, &migrated, LU_WAIT_MS);
    tap_ok(&t, db && migrated == 1 && result_writer_new(&e.lu.loop, db, 0, &w) == 0 && w,
           "db_open, migrate, result_writer_new");
    if (w) {
        test_burst(&t, &e, db, w);
        test_attempts(&t, &e, db, w);
        test_duplicates(&t, &e, db, w);
        test_refusal(&t, &e, db, w);
        test_validation(&t, &e, db, w);
        test_pacing(&t, &e, db);
        result_writer_free(w);
        test_free(&t, &e);
        test_db_close(&t, &e);
        test_fault(&t, &e, db);
        test_deadlock(&t, &e, db);
    }
    tap_ok(&t, e.cb_in_put == 0, "no callback ever ran inside result_writer_put");
    if (db)
        lu_close_db(&e.lu, db);
    tap_ok(&t, lu_close(&e.lu) == 0, "no handle is left open");
    pg_server_destroy(&e.pg);
    return tap_done(&t);
}
