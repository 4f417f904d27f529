/* SPDX-License-Identifier: MIT */
#include "result_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A queued row: its statement's object (results_sql_row), built and validated once in put. */
struct rw_row {
    struct rw_row *next;
    json_t *obj;
    const char *id; /* obj's "id": lives as long as obj */
    result_writer_cb cb;
    void *data;
    int alone;  /* part of a batch the server refused: goes in a statement of its own */
    int status; /* once on the delivery list */
};

/* The db callback's data for the batch in flight. result_writer_free() detaches it (w = NULL,
 * rows already delivered): then the callback only frees it. */
struct rw_batch {
    struct result_writer *w;
    struct rw_row *rows; /* queue order */
};

struct result_writer {
    struct db *db;
    uv_loop_t *loop;
    uv_timer_t pace;      /* sends the next batch once min_gap_ms has passed */
    uint64_t min_gap_ms;  /* between the starts of two statements; 0: none */
    uint64_t last_sent;   /* uv_now of the last statement sent */
    struct rw_row *head, *tail; /* waiting */
    struct rw_batch *inflight;
    struct rw_row *out, *out_tail; /* delivery list: popped one callback at a time */
    int depth;                     /* > 0 inside a delivery: put only queues, free defers */
    int freed;                     /* result_writer_free() has begun */
};

static void pump(struct result_writer *w);

static void on_pace(uv_timer_t *t)
{
    pump(t->data);
}

int result_writer_new(uv_loop_t *loop, struct db *db, uint64_t min_gap_ms,
                      struct result_writer **out)
{
    struct result_writer *w;

    *out = NULL;
    if (!db || !loop)
        return -EINVAL;
    if (!(w = calloc(1, sizeof(*w))))
        return -ENOMEM;
    w->db = db;
    w->loop = loop;
    w->min_gap_ms = min_gap_ms;
    uv_timer_init(loop, &w->pace);
    w->pace.data = w;
    *out = w;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

/* The end of w, once no callback runs any more: the timer is closed, w freed after it. */
static void writer_end(struct result_writer *w)
{
    uv_close((uv_handle_t *)&w->pace, on_closed);
}

/* How long the next statement must wait so statements start at least min_gap_ms apart (0:
 * send now). Under load rows pile up meanwhile and share one commit; an idle writer sends
 * a lone row at once, as the last statement is long past. */
static uint64_t pace_wait(struct result_writer *w)
{
    uint64_t since = uv_now(w->loop) - w->last_sent;
    size_t n = 0;

    for (struct rw_row *r = w->head; r && n < RESULTS_BATCH_MAX; r = r->next)
        n++;
    if (!w->min_gap_ms || since >= w->min_gap_ms || n >= RESULTS_BATCH_MAX)
        return 0;
    return w->min_gap_ms - since;
}

static void row_free(struct rw_row *r)
{
    json_decref(r->obj);
    free(r);
}

/* Appends rows (a list) to the delivery list, each with status. */
static void to_out(struct result_writer *w, struct rw_row *rows, int status)
{
    for (struct rw_row *r = rows; r; r = r->next)
        r->status = status;
    if (!rows)
        return;
    if (w->out_tail)
        w->out_tail->next = rows;
    else
        w->out = rows;
    while (rows->next)
        rows = rows->next;
    w->out_tail = rows;
}

/* Runs the delivery list's callbacks in order, each row once. Nested calls (free from a
 * callback) pop from the same list, so a row can never be delivered twice. */
static void run_out(struct result_writer *w)
{
    while (w->out) {
        struct rw_row *r = w->out;

        if (!(w->out = r->next))
            w->out_tail = NULL;
        r->cb(r->status, r->data);
        row_free(r);
    }
}

/* Delivers rows with status. Returns 1 when a callback freed the writer (w is gone). */
static int deliver(struct result_writer *w, struct rw_row *rows, int status)
{
    to_out(w, rows, status);
    w->depth++;
    run_out(w);
    if (--w->depth == 0 && w->freed) {
        writer_end(w);
        return 1;
    }
    return 0;
}

/* Nonzero when a refused statement says nothing about its rows (the session, the server or
 * a lock conflict): re-sending each row alone would only queue N statements behind the same
 * fault. A statement timeout (57014) does not count: a big batch may be the cause. */
static int fault_not_rows(const char *sqlstate)
{
    return !strncmp(sqlstate, "08", 2) || !strncmp(sqlstate, "40", 2) ||
           !strncmp(sqlstate, "58", 2) ||
           (!strncmp(sqlstate, "57", 2) && strcmp(sqlstate, "57014") != 0);
}

static void on_batch(struct db *db, const struct db_result *r, void *data)
{
    struct rw_batch *b = data;
    struct result_writer *w = b->w;
    struct rw_row *rows = b->rows, *last;

    (void)db;
    free(b);
    if (!w) /* detached by result_writer_free: its rows were delivered then */
        return;
    w->inflight = NULL;
    if (r->status == -EIO && rows->next && !fault_not_rows(r->sqlstate)) {
        /* Back to the front, one statement each: the guilty row fails alone. */
        for (last = rows;; last = last->next) {
            last->alone = 1;
            if (!last->next)
                break;
        }
        if (!(last->next = w->head))
            w->tail = last;
        w->head = rows;
    } else if (deliver(w, rows, r->status)) {
        return;
    }
    pump(w);
}

static int id_taken(const struct rw_row *rows, const struct rw_row *end, const char *id)
{
    for (; rows != end; rows = rows->next)
        if (strcmp(rows->id, id) == 0)
            return 1;
    return 0;
}

/* Takes the next batch off the queue and sends it: one alone row, or up to
 * RESULTS_BATCH_MAX rows stopping before an id already taken (ON CONFLICT cannot touch a
 * row twice; the second copy goes in the next batch) or an alone row. Returns 0, or a
 * negative errno with the batch's rows (off the queue) in *failed. */
static int send_next(struct result_writer *w, struct rw_row **failed)
{
    json_t *objs[RESULTS_BATCH_MAX];
    struct rw_row *last = w->head, *r;
    struct results_query q;
    struct rw_batch *b;
    size_t n = 1;
    int rc;

    objs[0] = last->obj;
    if (!last->alone)
        for (r = last->next; r && n < RESULTS_BATCH_MAX && !r->alone; r = r->next) {
            if (id_taken(w->head, r, r->id))
                break;
            objs[n++] = r->obj;
            last = r;
        }
    *failed = w->head;
    if (!(w->head = last->next))
        w->tail = NULL;
    last->next = NULL;
    if ((rc = results_sql_upsert_rows(objs, n, &q)) < 0)
        return rc;
    if (!(b = malloc(sizeof(*b)))) {
        results_query_free(&q);
        return -ENOMEM;
    }
    b->w = w;
    b->rows = *failed;
    rc = db_query(w->db, q.sql, q.nparams, (const char *const *)q.params, on_batch, b);
    results_query_free(&q);
    if (rc < 0) {
        free(b);
        return rc;
    }
    w->inflight = b;
    w->last_sent = uv_now(w->loop);
    *failed = NULL;
    return 0;
}

/* Sends the next batch; a batch that cannot be sent fails its rows (we run from a db
 * callback here, so callbacks may run) and the next one is tried. */
static void pump(struct result_writer *w)
{
    while (!w->inflight && w->head && !w->freed) {
        struct rw_row *failed = NULL;
        uint64_t wait = pace_wait(w);
        int rc;

        if (wait) {
            uv_timer_start(&w->pace, on_pace, wait, 0);
            return;
        }
        rc = send_next(w, &failed);
        if (rc < 0 && deliver(w, failed, rc))
            return;
    }
}

int result_writer_put(struct result_writer *w, const struct results_job *row, result_writer_cb cb,
                      void *data)
{
    struct rw_row *r, *failed = NULL;
    json_t *obj;
    int was_empty, rc;

    if (!w || !row || !cb)
        return -EINVAL;
    if (w->freed)
        return -ESHUTDOWN;
    if (!(obj = results_sql_row(row)))
        return -EINVAL;
    if (!(r = calloc(1, sizeof(*r)))) {
        json_decref(obj);
        return -ENOMEM;
    }
    r->obj = obj;
    r->id = json_string_value(json_object_get(obj, "id"));
    r->cb = cb;
    r->data = data;
    was_empty = !w->head;
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    /* Outside callbacks an idle writer has an empty queue (pump drains it), so the batch
     * sent here holds only r: a failure can be returned instead of delivered. Inside a
     * delivery, on_batch/pump send once the callbacks are done. */
    if (w->inflight || w->depth || !was_empty)
        return 0;
    if (pace_wait(w)) {
        pump(w); /* only arms the timer: no callback runs from here */
        return 0;
    }
    if ((rc = send_next(w, &failed)) < 0)
        row_free(failed);
    return rc;
}

void result_writer_free(struct result_writer *w)
{
    struct rw_row *queued;

    if (!w || w->freed)
        return;
    w->freed = 1;
    uv_timer_stop(&w->pace);
    if (w->inflight) {
        to_out(w, w->inflight->rows, -ECANCELED);
        w->inflight->rows = NULL;
        w->inflight->w = NULL;
        w->inflight = NULL;
    }
    queued = w->head;
    w->head = w->tail = NULL;
    to_out(w, queued, -ECANCELED);
    /* Inside a delivery the outer deliver() frees w once its loop sees the list empty. */
    w->depth++;
    run_out(w);
    if (--w->depth == 0)
        writer_end(w);
}
