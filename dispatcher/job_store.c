/* SPDX-License-Identifier: MIT */
/* job_store: see job_store.h. A request is a small op: rq_get_job, then (-ENOENT) a
 * PostgreSQL lookup by id, then for a delete results_sql_delete. The lookup's columns are
 * those of results_sql_history (results_history_col) so one row decoder serves both; its SQL
 * sits here until results_sql grows a by-id builder. */
#include "job_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "results_sql.h"

/* A timestamptz column as microseconds since the epoch (as in results_sql.c). */
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static const char get_sql[] =
    "SELECT id, queue, language, status, priority, attempts, worker, spec_summary, result,\n"
    "    metadata, " US("created_at") ", " US("started_at") ", " US(
        "finished_at") ", ''\n"
                       "FROM jobs WHERE id = $1";

struct job_store {
    struct rq *rq;
    struct db *db;
};

struct op {
    struct job_store *s;
    job_store_fn *cb;
    void *arg;
    int del;
    json_t *job; /* kept for the delete's answer */
    char id[KEYS_ID_MAX + 1];
};

int job_store_new(struct rq *rq, struct db *db, struct job_store **out)
{
    struct job_store *s;

    if (!rq || !out)
        return -EINVAL;
    if (!(s = calloc(1, sizeof(*s))))
        return -ENOMEM;
    s->rq = rq;
    s->db = db;
    *out = s;
    return 0;
}

void job_store_free(struct job_store *s)
{
    free(s);
}

int job_store_has_db(const struct job_store *s)
{
    return s->db != NULL;
}

static void op_done(struct op *op, int status, int from_db, json_t *job)
{
    struct job_store_result res = {.status = status, .from_db = from_db, .job = job};

    if (status == 0) {
        const char *st = json_string_value(json_object_get(job, "status"));
        res.finished = api_finished_state(st);
    }
    op->cb(op->arg, &res);
    json_decref(op->job);
    free(op);
}

static void on_hash_deleted(void *arg, int status, long long value)
{
    struct op *op = arg;

    /* The row is gone already; a hash Redis kept (it was away) expires with results.ttl. */
    (void)status;
    (void)value;
    op_done(op, 0, 1, op->job);
}

/* The durable copy first, then the snapshot, so a GET never finds only the row gone. */
static void on_deleted(struct db *db, const struct db_result *r, void *data)
{
    struct op *op = data;

    (void)db;
    if (r->status < 0 || rq_delete_finished(op->s->rq, op->id, on_hash_deleted, op) < 0)
        op_done(op, r->status, 1, op->job);
}

/* The record is known and finished: delete the row. */
static void do_delete(struct op *op, json_t *job)
{
    struct results_query q;
    int rc;

    op->job = json_incref(job);
    if (!op->s->db || !db_is_connected(op->s->db)) {
        op_done(op, -ENOTCONN, 1, NULL);
        return;
    }
    if ((rc = results_sql_delete(op->id, &q)) == 0) {
        rc = db_query(op->s->db, q.sql, q.nparams, (const char *const *)q.params, on_deleted, op);
        results_query_free(&q);
    }
    if (rc < 0)
        op_done(op, rc, 1, NULL);
}

/* A record was found (from Redis or PostgreSQL): answer or go on deleting. */
static void found(struct op *op, json_t *job, int from_db)
{
    const char *st = json_string_value(json_object_get(job, "status"));

    if (!job)
        op_done(op, -ENOMEM, from_db, NULL);
    else if (!op->del)
        op_done(op, 0, from_db, job);
    else if (!api_finished_state(st))
        op_done(op, -EBUSY, from_db, NULL);
    else
        do_delete(op, job);
    json_decref(job);
}

static void on_row(struct db *db, const struct db_result *r, void *data)
{
    struct op *op = data;

    (void)db;
    if (r->status < 0)
        op_done(op, r->status, 1, NULL);
    else if (r->nrows < 1)
        op_done(op, -ENOENT, 1, NULL);
    else
        found(op, api_job_from_row(r, 0), 1);
}

static void on_rq_job(void *arg, int status, const struct rq_job *job)
{
    struct op *op = arg;
    const char *param = op->id;
    int rc;

    if (status == 0) {
        found(op, api_job_from_rq(job), 0);
    } else if (status != -ENOENT || !op->s->db) {
        op_done(op, status, 0, NULL);
    } else if (!db_is_connected(op->s->db)) {
        op_done(op, -ENOTCONN, 1, NULL); /* fail fast rather than wait in the db queue */
    } else if ((rc = db_query(op->s->db, get_sql, 1, &param, on_row, op)) < 0) {
        op_done(op, rc, 1, NULL);
    }
}

static int start(struct job_store *s, const char *id, int del, job_store_fn *cb, void *arg)
{
    struct op *op;
    int rc;

    if (!s || !id || !cb || strlen(id) > KEYS_ID_MAX)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->s = s;
    op->cb = cb;
    op->arg = arg;
    op->del = del;
    strcpy(op->id, id);
    if ((rc = rq_get_job(s->rq, id, on_rq_job, op)) < 0)
        free(op);
    return rc;
}

int job_store_get(struct job_store *s, const char *id, job_store_fn *cb, void *arg)
{
    return start(s, id, 0, cb, arg);
}

int job_store_delete(struct job_store *s, const char *id, job_store_fn *cb, void *arg)
{
    return start(s, id, 1, cb, arg);
}
