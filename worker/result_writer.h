/* SPDX-License-Identifier: MIT */
/* result_writer: group commit of finished jobs. Rows wait in a FIFO; while no batch is in
 * flight on the db, everything queued (up to RESULTS_BATCH_MAX rows) goes out as ONE
 * results_sql_upsert_batch statement, so N results cost one commit instead of N. While a
 * batch runs the next one fills up, and statements start at least min_gap_ms apart: under
 * load that caps commits per second and rows share them; an idle writer sends a lone row at
 * once (the last statement is long past: no added latency).
 * Does: take each row in as its statement's object (results_sql_row: strings copied, JSON
 * text parsed once), keep at most one query in flight on its db, run each row's callback
 * exactly once, and keep one row the server refuses from failing the others.
 * Must not: retry a row itself (the caller backs off and puts it again: the upsert is
 * idempotent), put one id twice in a statement, or run a callback from inside
 * result_writer_put(). */
#ifndef RUNQ_WORKER_RESULT_WRITER_H
#define RUNQ_WORKER_RESULT_WRITER_H

#include "db.h"
#include "results_sql.h"

struct result_writer;

/* A row's outcome, exactly once:
 *   0            the batch statement succeeded: the row is stored, or it was an older attempt
 *                the table refused (a newer one is stored) - both final
 *   -EIO         the server refused the statement for this row alone (a batch the server
 *                refuses is re-sent one row per statement, so only the guilty rows see this)
 *                or for a reason that is not the rows' (shutdown, lost session, deadlock,
 *                sqlstate classes 08, 40, 57 but 57014, 58: every row of that batch)
 *   -ECONNRESET, -ETIMEDOUT, -ENOTCONN, -ENOMEM ...  as db_result (worker/db.h), for every
 *                row of the batch; it may or may not have been written
 *   -ECANCELED   result_writer_free() ran (or db_close() while the batch was in flight); it
 *                may or may not have been written
 * A callback may call result_writer_put() (the row is queued, not sent from there) and
 * result_writer_free(). */
typedef void (*result_writer_cb)(int status, void *data);

/* db is borrowed; the writer's timer runs on loop. min_gap_ms 0: send whenever the db is
 * free. Returns 0 with *out set, -EINVAL or -ENOMEM. */
int result_writer_new(uv_loop_t *loop, struct db *db, uint64_t min_gap_ms,
                      struct result_writer **out);

/* Queues a finished job (the rules of results_sql_check_finished: final status, valid JSON
 * text); its strings are copied. Sends at once when no batch is in flight. Returns 0 (cb will
 * run), -EINVAL (bad row or no cb), -ENOMEM, or db_query's -ENOBUFS / -ESHUTDOWN when the row
 * could not be sent; on an error cb will not run. After result_writer_free() has begun (from
 * a callback): -ESHUTDOWN. */
int result_writer_put(struct result_writer *w, const struct results_job *row, result_writer_cb cb,
                      void *data);

/* Ends the writer; NULL is a no-op. Every callback not yet run runs before this returns: the
 * rest of a batch being delivered with its status, the in-flight batch's rows and the queued
 * ones with -ECANCELED. No callback runs after it returns. The in-flight statement itself is
 * not cancelled (it may still commit); its db callback later frees a small record that
 * outlives the writer and touches nothing else, so the db may be closed before or after this
 * call, but must deliver that callback (db_close does) before the loop is torn down, or that
 * record leaks. The writer's own memory goes with its timer's close callback: run the loop
 * once more before closing it. Callable from a callback. */
void result_writer_free(struct result_writer *w);

#endif
