/* SPDX-License-Identifier: MIT */
/* Integration tests of worker/db and worker/results_sql against a real PostgreSQL started by
 * pg_server (as nobody, temporary directory, free port): migrations (repeated, concurrent),
 * the idempotent upsert, keyset pagination, stats, timeouts, a server restart mid-way, close.
 * Every wait is bounded (a loop watchdog, and alarm() as the last resort). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "db.h"
#include "loop_util.h"
#include "migrations.h"
#include "pg_server.h"
#include "results_sql.h"
#include "tap.h"

struct env {
    struct lu_loop lu;
    struct pg_server pg;
};

static struct res *run_builder(struct env *e, struct db *db, struct results_query *q, int rc,
                               struct res *r)
{
    if (rc < 0) {
        res_clear(r);
        r->status = rc;
        return r;
    }
    lu_query(&e->lu, db, q->sql, q->nparams, (const char *const *)q->params, r);
    results_query_free(q);
    return r;
}

struct migrate_res {
    int done, status, applied, version;
};

static void on_migrated(struct db *db, int status, int applied, int version, const char *msg,
                        void *data)
{
    struct migrate_res *m = data;

    m->done = 1;
    m->status = status;
    m->applied = applied;
    m->version = version;
    if (status)
        tap_diag("migrate: %d %s", status, msg);
}

static struct db *open_db(struct env *e, const char *url, uint64_t query_timeout_ms)
{
    struct db_options o = {.connect_timeout_ms = 2000,
                           .query_timeout_ms = query_timeout_ms,
                           .backoff = {.base_ms = 50, .max_ms = 400}};
    struct db *db = NULL;

    if (db_open(&e->lu.loop, url, &o, &db) < 0)
        return NULL;
    return db;
}

static void test_migrations(struct tap *t, struct env *e, struct db *db)
{
    struct migrate_res m = {0}, ms[3] = {{0}};
    struct db *dbs[3];
    struct res r = {0};
    char url[200];
    int done = 0, sum = 0, ok = 1;

    db_migrate(db, on_migrated, &m);
    lu_run_until(&e->lu, &m.done, LU_WAIT_MS);
    tap_ok(t,
           m.done && m.status == 0 && m.applied == migrations_latest() &&
               m.version == migrations_latest(),
           "first migration applies everything (applied %d, version %d)", m.applied, m.version);
    memset(&m, 0, sizeof(m));
    db_migrate(db, on_migrated, &m);
    lu_run_until(&e->lu, &m.done, LU_WAIT_MS);
    tap_ok(t, m.done && m.status == 0 && m.applied == 0 && m.version == migrations_latest(),
           "second migration is a no-op");
    lu_query(&e->lu, db,
             "SELECT count(*), to_regclass('jobs') IS NOT NULL FROM runq_schema_migrations", 0,
             NULL, &r);
    tap_ok(t,
           r.status == 0 &&
               atoi(res_val(&r, 0, 0) ? res_val(&r, 0, 0) : "0") == migrations_latest() &&
               res_val(&r, 0, 1) && strcmp(res_val(&r, 0, 1), "t") == 0,
           "the ledger has one row per migration and jobs exists");

    /* Three processes' worth of migrators on a fresh database, all at once. */
    lu_query(&e->lu, db, "CREATE DATABASE conc", 0, NULL, &r);
    pg_server_url(&e->pg, "conc", url, sizeof(url));
    for (int i = 0; i < 3; i++)
        dbs[i] = open_db(e, url, 10000);
    for (int i = 0; i < 3; i++)
        db_migrate(dbs[i], on_migrated, &ms[i]);
    for (int i = 0; i < 3; i++) {
        lu_run_until(&e->lu, &ms[i].done, LU_WAIT_MS);
        ok &= ms[i].done && ms[i].status == 0 && ms[i].version == migrations_latest();
        sum += ms[i].applied;
        done += ms[i].done;
    }
    tap_ok(t, done == 3 && ok && sum == migrations_latest(),
           "concurrent migrators all succeed and apply each migration once (sum %d)", sum);
    lu_query(&e->lu, dbs[0], "SELECT count(*) FROM runq_schema_migrations", 0, NULL, &r);
    tap_ok(t, r.status == 0 && res_val(&r, 0, 0) && atoi(res_val(&r, 0, 0)) == migrations_latest(),
           "... and the ledger agrees");
    for (int i = 0; i < 3; i++)
        lu_close_db(&e->lu, dbs[i]);
    res_clear(&r);
}

static struct results_job job(const char *id, int attempts, const char *status, const char *result)
{
    return (struct results_job){.id = id,
                                .queue = "default",
                                .language = "python",
                                .status = status,
                                .priority = 5,
                                .attempts = attempts,
                                .worker = "w1",
                                .spec_summary = "{\"nfiles\": 1}",
                                .result = result,
                                .metadata = "{\"k\": \"v\"}",
                                .finished_us = 1700000000000000};
}

static void test_upsert(struct tap *t, struct env *e, struct db *db)
{
    struct results_query q;
    struct results_job j;
    struct res r = {0};
    const char *evil = "x'); DROP TABLE jobs; --";
    const char *id[] = {"job-1"};
    const char *check = "SELECT attempts, status, result->>'status', count(*) OVER ()"
                        " FROM jobs WHERE id = $1";

    j = job("job-1", 2, "completed", "{\"status\": \"ok\", \"wall_ms\": 12}");
    run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 1, "upsert inserts a finished job");
    run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 1, "replaying the same attempt is accepted");
    j = job("job-1", 1, "failed", "{\"status\": \"runtime_error\"}");
    run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 0, "an older attempt is refused (no row returned)");
    lu_query(&e->lu, db, check, 1, id, &r);
    tap_ok(t,
           r.status == 0 && r.nrows == 1 && strcmp(res_val(&r, 0, 0), "2") == 0 &&
               strcmp(res_val(&r, 0, 1), "completed") == 0 && strcmp(res_val(&r, 0, 2), "ok") == 0,
           "... and did not overwrite the newer one");
    j = job("job-1", 3, "failed", "{\"status\": \"time_limit\"}");
    run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    lu_query(&e->lu, db, check, 1, id, &r);
    tap_ok(t,
           r.status == 0 && r.nrows == 1 && strcmp(res_val(&r, 0, 0), "3") == 0 &&
               strcmp(res_val(&r, 0, 1), "failed") == 0 && strcmp(res_val(&r, 0, 3), "1") == 0,
           "a newer attempt wins, still one row");
    j = job("job-1", 3, "running", NULL);
    run_builder(e, db, &q, results_sql_mark_running(&j, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 0, "a finished attempt is not turned back to running");
    j = job("job-1", 4, "running", NULL);
    run_builder(e, db, &q, results_sql_mark_running(&j, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 1 && strcmp(res_val(&r, 0, 2), "running") == 0,
           "the next attempt marks it running");
    j = job(evil, 1, "completed", "{\"status\": \"ok\"}");
    run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    lu_query(&e->lu, db, "SELECT id FROM jobs WHERE id = $1", 1, (const char *const[]){evil}, &r);
    tap_ok(t, r.status == 0 && r.nrows == 1 && strcmp(res_val(&r, 0, 0), evil) == 0,
           "hostile text is stored verbatim (it travels as a parameter)");
    run_builder(e, db, &q, results_sql_delete(evil, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 1, "delete by id returns the row");
    run_builder(e, db, &q, results_sql_delete(evil, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 0, "... and nothing the second time");
    lu_query(&e->lu, db, "SELECT 1/0", 0, NULL, &r);
    tap_ok(t, r.status == -EIO && strcmp(r.sqlstate, "22012") == 0 && *r.message,
           "a server error carries its SQLSTATE (%s) and message", r.sqlstate);
    res_clear(&r);
}

static void test_history(struct tap *t, struct env *e, struct db *db)
{
    const int64_t base = 1750000000000000;
    struct results_filter f = {.language = "hist", .limit = 10};
    struct results_query q;
    struct res r = {0};
    char ids[25][16], cursor[RESULTS_CURSOR_MAX + 1] = "";
    int seen[25] = {0}, pages = 0, total = 0, ordered = 1, dup = 0;
    int64_t prev_us = INT64_MAX;
    char prev_id[16] = "~";

    for (int i = 0; i < 25; i++) {
        struct results_job j = job(ids[i], 1, i % 5 == 0 ? "failed" : "completed", NULL);

        snprintf(ids[i], sizeof(ids[i]), "h-%02d", i);
        j.language = "hist";
        j.created_us = base + (i / 3) * 1000; /* groups of three share created_at */
        run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    }
    do {
        f.cursor = cursor;
        run_builder(e, db, &q, results_sql_history(&f, &q), &r);
        if (r.status)
            break;
        pages++;
        for (int i = 0; i < r.nrows; i++) {
            int64_t us = strtoll(res_val(&r, i, RESULTS_HCOL_CREATED_US), NULL, 10);
            const char *id = res_val(&r, i, RESULTS_HCOL_ID);
            int k = atoi(id + 2);

            ordered &= us < prev_us || (us == prev_us && strcmp(id, prev_id) < 0);
            dup |= seen[k]++;
            prev_us = us;
            snprintf(prev_id, sizeof(prev_id), "%s", id);
            total++;
        }
        if (r.nrows)
            snprintf(cursor, sizeof(cursor), "%s", res_val(&r, r.nrows - 1, RESULTS_HCOL_CURSOR));
    } while (r.nrows == (int)f.limit && pages < 10);
    tap_ok(t, r.status == 0 && pages == 3 && total == 25 && !dup,
           "25 rows in pages of 10 with a cursor: %d pages, %d rows, no duplicate", pages, total);
    tap_ok(t, ordered, "rows come newest first, ties broken by id, across pages");
    f = (struct results_filter){.language = "hist", .status = "failed"};
    run_builder(e, db, &q, results_sql_history(&f, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 5, "status filter: 5 failed");
    f = (struct results_filter){.language = "hist", .since_us = base + 5000};
    run_builder(e, db, &q, results_sql_history(&f, &q), &r);
    tap_ok(t,
           r.status == 0 && r.nrows == 10 && strcmp(res_val(&r, 0, RESULTS_HCOL_ID), "h-24") == 0,
           "since filter: the 10 newest, h-24 first");
    res_clear(&r);
}

static void test_stats(struct tap *t, struct env *e, struct db *db)
{
    static const char *const rstatus[] = {
        "ok", "ok", "ok", "ok", "ok", "ok", "ok", "time_limit", "runtime_error", "runtime_error"};
    struct results_query q;
    struct res r = {0};
    char id[16], result[96];
    json_t *mix;

    for (int i = 0; i < 10; i++) {
        struct results_job j = job(id, 1, i < 8 ? "completed" : "failed", result);

        snprintf(id, sizeof(id), "s-%d", i);
        snprintf(result, sizeof(result), "{\"status\": \"%s\", \"wall_ms\": %d}", rstatus[i],
                 (i + 1) * 10);
        j.language = "stat";
        run_builder(e, db, &q, results_sql_upsert_finished(&j, &q), &r);
    }
    run_builder(e, db, &q, results_sql_stats("stat", 0, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 1 && r.ncols == RESULTS_SCOL_COUNT, "one stats row");
    if (r.nrows != 1 || r.ncols != RESULTS_SCOL_COUNT) {
        res_clear(&r);
        return;
    }
    tap_ok(t,
           !strcmp(res_val(&r, 0, RESULTS_SCOL_TOTAL), "10") &&
               !strcmp(res_val(&r, 0, RESULTS_SCOL_COMPLETED), "8") &&
               !strcmp(res_val(&r, 0, RESULTS_SCOL_FAILED), "2") &&
               !strcmp(res_val(&r, 0, RESULTS_SCOL_CANCELLED), "0"),
           "counts: 10 total, 8 completed, 2 failed");
    tap_ok(t,
           !strcmp(res_val(&r, 0, RESULTS_SCOL_P50_WALL_MS), "55.00") &&
               !strcmp(res_val(&r, 0, RESULTS_SCOL_P90_WALL_MS), "91.00") &&
               !strcmp(res_val(&r, 0, RESULTS_SCOL_P99_WALL_MS), "99.10"),
           "wall_ms percentiles of 10..100: p50 %s, p90 %s, p99 %s",
           res_val(&r, 0, RESULTS_SCOL_P50_WALL_MS), res_val(&r, 0, RESULTS_SCOL_P90_WALL_MS),
           res_val(&r, 0, RESULTS_SCOL_P99_WALL_MS));
    mix = json_loads(res_val(&r, 0, RESULTS_SCOL_RESULT_MIX), 0, NULL);
    tap_ok(t,
           mix && json_integer_value(json_object_get(mix, "ok")) == 7 &&
               json_integer_value(json_object_get(mix, "time_limit")) == 1 &&
               json_integer_value(json_object_get(mix, "runtime_error")) == 2 &&
               json_object_size(mix) == 3,
           "result status mix %s", res_val(&r, 0, RESULTS_SCOL_RESULT_MIX));
    json_decref(mix);
    run_builder(e, db, &q, results_sql_stats(NULL, 0, &q), &r);
    tap_ok(t, r.status == 0 && r.nrows == 2 && !strcmp(res_val(&r, 0, 0), "hist"),
           "all languages: hist and stat (the running job is not finished)");
    res_clear(&r);
}

struct chain {
    struct res first, second;
    int closed;
};

/* From inside a result callback: queue the next query, then close the db. */
static void on_chain_first(struct db *db, const struct db_result *dr, void *data)
{
    struct chain *c = data;

    lu_on_result(db, dr, &c->first);
    db_query(db, "SELECT 'second'", 0, NULL, lu_on_result, &c->second);
    db_close(db, lu_on_closed, &c->closed);
}

static void test_reentrancy(struct tap *t, struct env *e)
{
    struct db *db = open_db(e, e->pg.url, 5000);
    struct chain c;

    memset(&c, 0, sizeof(c));
    db_query(db, "SELECT 'first'", 0, NULL, on_chain_first, &c);
    lu_run_until(&e->lu, &c.closed, LU_WAIT_MS);
    tap_ok(t,
           c.first.status == 0 && c.second.done && c.second.status == -ECANCELED && c.closed == 1,
           "db_query and db_close from a callback: the queued query is cancelled, db freed");
    res_clear(&c.first);
    res_clear(&c.second);
}

/* libpq tries the hosts in turn: the first refuses, so the socket changes mid-connect. */
static void test_socket_change(struct tap *t, struct env *e)
{
    char url[200];
    struct db *db;
    struct res r = {0};

    snprintf(url, sizeof(url), "postgresql://runq@127.0.0.1:1,127.0.0.1:%d/postgres", e->pg.port);
    db = open_db(e, url, 5000);
    lu_query(&e->lu, db, "SELECT 'second host'", 0, NULL, &r);
    tap_ok(t, r.status == 0 && res_val(&r, 0, 0) && !strcmp(res_val(&r, 0, 0), "second host"),
           "connects when libpq moves to another socket during connect");
    lu_close_db(&e->lu, db);
    res_clear(&r);
}

static void test_timeouts(struct tap *t, struct env *e)
{
    struct db *db = open_db(e, e->pg.url, 800);
    struct res r = {0}, rs[3] = {{0}};
    int closed = 0;

    lu_query(&e->lu, db, "SELECT pg_sleep(5)", 0, NULL, &r);
    tap_ok(t, r.status == -ETIMEDOUT && r.ms < 2000,
           "a query past query_timeout fails with -ETIMEDOUT (%" PRIu64 " ms)", r.ms);
    lu_query(&e->lu, db, "SELECT 41 + $1::int", 1, (const char *const[]){"1"}, &r);
    tap_ok(t, r.status == 0 && res_val(&r, 0, 0) && !strcmp(res_val(&r, 0, 0), "42"),
           "the next query runs on a new session");
    lu_query(&e->lu, db, "COPY (SELECT 1) TO STDOUT", 0, NULL, &r);
    tap_ok(t, r.status == -ENOTSUP, "COPY is refused with -ENOTSUP instead of spinning");
    lu_query(&e->lu, db, "SELECT 'after copy'", 0, NULL, &r);
    tap_ok(t, r.status == 0 && r.nrows == 1, "... and the next query runs");
    for (int i = 0; i < 3; i++)
        lu_issue(&e->lu, db, "SELECT 1", 0, NULL, &rs[i]);
    db_close(db, lu_on_closed, &closed);
    tap_ok(t,
           rs[0].status == -ECANCELED && rs[1].status == -ECANCELED && rs[2].status == -ECANCELED &&
               rs[2].done,
           "db_close fails queued queries with -ECANCELED before returning");
    lu_run_until(&e->lu, &closed, LU_WAIT_MS);
    tap_ok(t, closed == 1, "the close callback runs once");
    for (int i = 0; i < 3; i++)
        res_clear(&rs[i]);
    res_clear(&r);
}

struct resume {
    struct env *e;
    int rc;
    int done;
};

static void on_resume_timer(uv_timer_t *t)
{
    struct resume *rs = t->data;

    /* Blocks the loop for pg_ctl start -w: test harness only, the db keeps its timers. */
    rs->rc = pg_server_resume(&rs->e->pg);
    rs->done = 1;
}

static void test_restart(struct tap *t, struct env *e, struct db *db)
{
    struct res r = {0}, r2 = {0};
    struct resume rs = {.e = e, .rc = -1};
    uv_timer_t timer;
    int tick = 0;

    /* A statement in flight when the server stops. */
    lu_issue(&e->lu, db, "SELECT pg_sleep(3)", 0, NULL, &r);
    lu_run_until(&e->lu, &tick, 300);
    tap_ok(t, pg_server_stop(&e->pg) == 0, "pg_ctl stop -m fast");
    lu_run_until(&e->lu, &r.done, LU_WAIT_MS);
    tap_ok(t,
           r.done &&
               ((r.status == -EIO && !strcmp(r.sqlstate, "57P01")) || r.status == -ECONNRESET),
           "the in-flight query fails cleanly (%d %s: %.60s)", r.status, r.sqlstate, r.message);

    /* Issued while the server is down, and it stays down. */
    lu_query(&e->lu, db, "SELECT 1", 0, NULL, &r);
    tap_ok(t, r.status == -ENOTCONN && r.ms < 5000 + 1000,
           "a query while the server is down fails with -ENOTCONN after %" PRIu64 " ms", r.ms);

    /* Issued while down; the server comes back before the query's deadline. */
    lu_issue(&e->lu, db, "SELECT 2", 0, NULL, &r2);
    uv_timer_init(&e->lu.loop, &timer);
    timer.data = &rs;
    uv_timer_start(&timer, on_resume_timer, 300, 0);
    lu_run_until(&e->lu, &r2.done, LU_WAIT_MS);
    tap_ok(t, rs.done && rs.rc == 0, "pg_ctl start on the same port");
    tap_ok(t, r2.status == 0 && res_val(&r2, 0, 0) && !strcmp(res_val(&r2, 0, 0), "2"),
           "a query issued while down succeeds after the reconnect (%" PRIu64 " ms)", r2.ms);
    tap_ok(t, db_is_connected(db), "the db is connected again");
    lu_query(&e->lu, db, "SELECT count(*) FROM jobs WHERE language = 'hist'", 0, NULL, &r);
    tap_ok(t, r.status == 0 && res_val(&r, 0, 0) && !strcmp(res_val(&r, 0, 0), "25"),
           "the data survived the restart");
    uv_close((uv_handle_t *)&timer, NULL);
    res_clear(&r);
    res_clear(&r2);
}

int main(void)
{
    struct tap t = {0};
    struct env e;
    struct db *db;
    char err[256];

    memset(&e, 0, sizeof(e));
    alarm(240); /* the last resort against a hang: SIGALRM fails the test */
    if (pg_server_start(&e.pg, err, sizeof(err)) < 0) {
        tap_ok(&t, 0, "start PostgreSQL: %s", err);
        return tap_done(&t);
    }
    tap_diag("PostgreSQL at %s (%s)", e.pg.url, e.pg.dir);
    lu_init(&e.lu);

    db = open_db(&e, e.pg.url, 5000);
    tap_ok(&t, db != NULL, "db_open");
    if (db) {
        test_migrations(&t, &e, db);
        test_upsert(&t, &e, db);
        test_history(&t, &e, db);
        test_stats(&t, &e, db);
        test_socket_change(&t, &e);
        test_reentrancy(&t, &e);
        test_timeouts(&t, &e);
        test_restart(&t, &e, db);
        lu_close_db(&e.lu, db);
    }
    tap_ok(&t, lu_close(&e.lu) == 0, "no handle is left open after db_close");
    pg_server_destroy(&e.pg);
    return tap_done(&t);
}
