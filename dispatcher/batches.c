/* SPDX-License-Identifier: MIT */
/* batches: see batches.h. */
#include "batches.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batch.h"
#include "job_sched.h"
#include "results_sql.h"
#include "submit.h"


/* What the answer needs once Redis has taken the batch. */
struct submit_op {
    struct http_exchange *ex;
    char id[KEYS_ID_MAX + 1];
    json_t *jobs; /* [{"id", "name"}] */
    size_t n;
};

static void on_enqueued(void *arg, int status, long long depth)
{
    struct submit_op *op = arg;
    char loc[sizeof(BATCHES_PREFIX) + KEYS_ID_MAX];

    (void)depth;
    if (status == -ENOSPC) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "queue_full",
                           "the queue has no room for the batch; retry later", "queue");
    } else if (status == -EEXIST) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "retry", "an id was drawn twice; retry", NULL);
    } else if (status < 0) {
        api_rq_error(op->ex, status);
    } else {
        snprintf(loc, sizeof(loc), BATCHES_PREFIX "%s", op->id);
        http_exchange_add_header(op->ex, "Location", loc);
        api_json(op->ex, 202,
                 json_pack("{s:s, s:s, s:I, s:O}", "id", op->id, "status", "running", "total",
                           (json_int_t)op->n, "jobs", op->jobs));
    }
    json_decref(op->jobs);
    free(op);
}

/* The stored texts of the batch: the shared spec and each job (named, marked with the
 * batch), and the ids. Returns 0 or -ENOMEM / an rq_new_id error. */
static int stored_forms(const struct languages *langs, struct batch_spec *b, const char *bid,
                        char **spec, char **texts, char (*ids)[KEYS_ID_MAX + 1])
{
    json_t *g = job_spec_graded_json(&b->jobs[0]);
    size_t i;
    int r;

    *spec = g ? json_dumps(g, JSON_COMPACT) : NULL;
    json_decref(g);
    if (!*spec)
        return -ENOMEM;
    for (i = 0; i < b->n; i++) {
        json_t *j;
        if ((r = rq_new_id(b->jobs[i].queue, ids[i], sizeof(ids[i]))) < 0)
            return r;
        if (submit_name_source(langs, &b->jobs[i]) < 0 || !(j = batch_job_json(b, i, bid)))
            return -ENOMEM;
        texts[i] = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!texts[i])
            return -ENOMEM;
    }
    return 0;
}

/* Every submission of one batch goes to the queue and lane the shared fields chose. */
static int enqueue(const struct runq_config *cfg, const struct languages *langs, struct rq *rq,
                   struct batch_spec *b, struct submit_op *op)
{
    const char **cids = calloc(b->n, sizeof(*cids)), **ctexts = calloc(b->n, sizeof(*ctexts)),
               **names = calloc(b->n, sizeof(*names));
    char(*ids)[KEYS_ID_MAX + 1] = calloc(b->n, sizeof(*ids));
    char **texts = calloc(b->n, sizeof(*texts)), *spec = NULL;
    size_t i;
    int r = -ENOMEM;

    if (cids && ctexts && names && ids && texts &&
        (r = rq_new_id(b->jobs[0].queue, op->id, sizeof(op->id))) == 0 &&
        (r = stored_forms(langs, b, op->id, &spec, texts, ids)) == 0) {
        for (i = 0; i < b->n; i++) {
            cids[i] = ids[i];
            ctexts[i] = texts[i];
            names[i] = b->jobs[i].name;
            json_array_append_new(op->jobs,
                                  json_pack("{s:s, s:s}", "id", ids[i], "name", names[i]));
        }
        r = rq_enqueue_batch(rq, op->id, spec, cids, ctexts, names, b->n,
                             (enum rq_lane)job_sched_lane(b->jobs[0].priority),
                             submit_find_queue(cfg, b->jobs[0].queue)->max_depth, on_enqueued,
                             op);
    }
    for (i = 0; texts && i < b->n; i++)
        free(texts[i]);
    free(texts);
    free(spec);
    free(ids);
    free(cids);
    free(ctexts);
    free(names);
    return r;
}

void batches_submit(const struct runq_config *cfg, const struct languages *langs, struct rq *rq,
                    struct http_exchange *ex)
{
    const struct http_request *req = http_exchange_request(ex);
    struct submit_ctx c = {cfg, langs};
    struct batch_spec b;
    struct api_error err;
    struct job_policy pol;
    struct submit_op *op;
    int r;

    if (!submit_require_json(ex))
        return;
    submit_policy(&c, &pol);
    pol.webhooks = 0; /* a batch's jobs report through the batch, not callbacks */
    if (batch_parse(req->body, req->body_len, &pol, cfg->dispatcher.max_submissions, &b, &err) <
        0) {
        api_json(ex, err.status, api_error_to_json(&err));
        return;
    }
    r = -ENOMEM;
    if ((op = calloc(1, sizeof(*op))) && (op->jobs = json_array())) {
        op->ex = ex;
        op->n = b.n;
        r = enqueue(cfg, langs, rq, &b, op);
    }
    if (r < 0 && op) {
        json_decref(op->jobs);
        free(op);
    }
    batch_spec_free(&b);
    if (r < 0)
        api_rq_error(ex, r);
}

/* GET */

/* The one shape of a batch, whichever store answered (counts and jobs are stolen). */
static json_t *batch_doc(const char *id, const char *status, json_int_t total, json_int_t done,
                         json_int_t created_ms, json_t *counts, json_t *jobs)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "id", id, "status", status, "total",
                     total, "done", done, "created_ms", created_ms, "counts", counts, "jobs",
                     jobs);
}

json_t *batches_json(const struct rq_batch *b)
{
    json_t *jobs = json_array(), *counts = json_object();
    size_t i;

    for (i = 0; jobs && i < b->njobs; i++) {
        json_t *s = b->summaries[i] ? json_loads(b->summaries[i], 0, NULL) : NULL;
        if (!s)
            s = json_object();
        json_object_set_new(s, "id", json_string(b->job_ids[i]));
        json_array_append_new(jobs, s);
    }
    for (i = 0; counts && i < b->ncounts; i++)
        json_object_set_new(counts, b->count_names[i], json_integer(b->counts[i]));
    return batch_doc(b->id, b->state, (json_int_t)b->total, (json_int_t)b->done,
                     (json_int_t)b->created_ms, counts, jobs);
}

/* What GET needs across Redis and, once the batch is gone from Redis, PostgreSQL. */
struct get_op {
    struct http_exchange *ex;
    struct db *db;
    char id[KEYS_ID_MAX + 1];
};

static json_t *num_or_null(const char *v)
{
    return v ? json_real(strtod(v, NULL)) : json_null();
}

/* The batch from its rows: every job in PostgreSQL has finished, so the batch is over. */
static void on_rows(struct db *db, const struct db_result *res, void *data)
{
    struct get_op *op = data;
    json_t *jobs = json_array(), *counts = json_object();
    long long created_ms = 0;
    int i;

    (void)db;
    if (res->status < 0 || res->nrows == 0) {
        json_decref(jobs);
        json_decref(counts);
        if (res->status < 0)
            api_db_error(op->ex, res->status);
        else
            api_not_found(op->ex);
        free(op);
        return;
    }
    for (i = 0; i < res->nrows; i++) {
        const char *verdict = db_result_value(res, i, RESULTS_BCOL_VERDICT);
        const char *name = db_result_value(res, i, RESULTS_BCOL_NAME);
        json_t *c = json_object_get(counts, verdict);
        json_object_set_new(counts, verdict, json_integer(c ? json_integer_value(c) + 1 : 1));
        json_array_append_new(
            jobs, json_pack("{s:s, s:o, s:s, s:s, s:o, s:o}", "id",
                            db_result_value(res, i, RESULTS_BCOL_ID), "name",
                            name ? json_string(name) : json_null(), "state",
                            db_result_value(res, i, RESULTS_BCOL_STATUS), "verdict", verdict,
                            "score", num_or_null(db_result_value(res, i, RESULTS_BCOL_SCORE)),
                            "max_score",
                            num_or_null(db_result_value(res, i, RESULTS_BCOL_MAX_SCORE))));
    }
    created_ms = strtoll(db_result_value(res, 0, RESULTS_BCOL_CREATED_US), NULL, 10) / 1000;
    api_json(op->ex, 200,
             batch_doc(op->id, "completed", res->nrows, res->nrows, (json_int_t)created_ms,
                       counts, jobs));
    free(op);
}

static void on_batch(void *arg, int status, const struct rq_batch *b)
{
    struct get_op *op = arg;
    struct results_query q;
    int r;

    if (status == -ENOENT && op->db && results_sql_batch(op->id, &q) == 0) {
        r = db_query(op->db, q.sql, q.nparams, (const char *const *)q.params, on_rows, op);
        results_query_free(&q);
        if (r == 0)
            return;
        api_db_error(op->ex, r);
    } else if (status == -ENOENT) {
        api_not_found(op->ex);
    } else if (status < 0) {
        api_rq_error(op->ex, status);
    } else {
        api_json(op->ex, 200, batches_json(b));
    }
    free(op);
}

void batches_get(struct rq *rq, struct db *db, struct http_exchange *ex, const char *id)
{
    struct get_op *op = calloc(1, sizeof(*op));
    int r = -ENOMEM;

    if (op) {
        op->ex = ex;
        op->db = db;
        snprintf(op->id, sizeof(op->id), "%s", id);
        if ((r = rq_get_batch(rq, id, on_batch, op)) < 0)
            free(op);
    }
    if (r < 0)
        api_rq_error(ex, r);
}

/* cancel */

static void on_cancelled(void *arg, int status, long long cancelled, long long running,
                         long long finished)
{
    struct http_exchange *ex = arg;

    if (status == -ENOENT)
        api_not_found(ex);
    else if (status < 0)
        api_rq_error(ex, status);
    else
        api_json(ex, 200,
                 json_pack("{s:s, s:I, s:I, s:I}", "status", "cancelled", "cancelled",
                           (json_int_t)cancelled, "stopping", (json_int_t)running, "finished",
                           (json_int_t)finished));
}

void batches_cancel(struct rq *rq, struct http_exchange *ex, const char *id)
{
    int r = rq_cancel_batch(rq, id, on_cancelled, ex);

    if (r < 0)
        api_rq_error(ex, r);
}
