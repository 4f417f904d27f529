/* SPDX-License-Identifier: MIT */
/* results_sql: the SQL the fleet runs against the jobs table (common/migrations.c), as text
 * plus string parameters ready for PQsendQueryParams (db_query in worker/db.h).
 * Does: idempotent upsert of a finished job, alone or up to RESULTS_BATCH_MAX in one
 * statement (an older attempt never overwrites a newer one), mark running, history with
 * filters and keyset pagination (cursor = created_at + id), per-language stats (counts,
 * result status mix, wall_ms percentiles), delete; a job's summary.
 * Must not: talk to PostgreSQL, include libpq, or put a caller's value into SQL text: every
 * value travels as a parameter; the text is assembled from constant fragments and "$n". */
#ifndef RUNQ_WORKER_RESULTS_SQL_H
#define RUNQ_WORKER_RESULTS_SQL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

#define RESULTS_SQL_MAX_PARAMS 16
#define RESULTS_HISTORY_DEFAULT_LIMIT 50
#define RESULTS_HISTORY_MAX_LIMIT 500
#define RESULTS_ID_MAX 128                           /* bytes in a job id */
#define RESULTS_CURSOR_MAX (20 + 1 + RESULTS_ID_MAX) /* "<created_us>:<id>", NUL excluded */

/* A statement and its parameters. Everything is malloc'ed and owned by the struct: release
 * with results_query_free(). params[i] == NULL is SQL NULL. Parameters are text; the SQL
 * casts them ($5::smallint, $8::jsonb ...), so pass paramTypes = NULL. */
struct results_query {
    char *sql;
    int nparams;
    char *params[RESULTS_SQL_MAX_PARAMS];
};

/* Frees what *q owns and zeroes it. Safe on a zeroed or already freed query. */
void results_query_free(struct results_query *q);

/* One job as stored. Strings are borrowed (copied into the query). Times are microseconds
 * since the Unix epoch; 0 means unknown (SQL NULL; for created_at: now() on first insert). */
struct results_job {
    const char *id;           /* 1..RESULTS_ID_MAX bytes */
    const char *queue;        /* required */
    const char *language;     /* required */
    const char *status;       /* queued running completed failed cancelled (see each builder) */
    int priority;             /* JOB_PRIORITY_MIN..JOB_PRIORITY_MAX */
    int attempts;             /* >= 0; the attempt that produced this row */
    const char *worker;       /* NULL allowed */
    const char *spec_summary; /* JSON text (results_spec_summary), NULL = {} */
    const char *result;       /* JSON text of the sandbox result, NULL allowed */
    const char *metadata;     /* JSON text, NULL allowed */
    const char *batch;        /* the batch the job belongs to, NULL: none (batch upsert) */
    int64_t created_us, started_us, finished_us;
};

/* INSERT ... ON CONFLICT (id) DO UPDATE for a job that finished (status completed, failed
 * or cancelled). The update happens only when the stored attempts <= this attempts, so a
 * replay of the same attempt is idempotent and a late older attempt changes nothing;
 * created_at keeps its first value. Returns (RETURNING) one row "id, attempts, status" when
 * written, no row when an older attempt was refused. 0, -EINVAL (bad field) or -ENOMEM. */
int results_sql_upsert_finished(const struct results_job *j, struct results_query *q);

/* Rows per results_sql_upsert_batch statement: bounds the parameter's size and the time the
 * statement holds its row locks. */
#define RESULTS_BATCH_MAX 64

/* 0 when results_sql_upsert_batch accepts j as a row: the fields results_sql_upsert_finished
 * checks, a final status, and spec_summary/result/metadata that are NULL or valid JSON text
 * (UTF-8, no \u0000). -EINVAL otherwise. Parses the JSON: a writer validates a row once, when
 * it takes it, so that a batch cannot fail later for one row's text. */
int results_sql_check_finished(const struct results_job *j);

/* results_sql_upsert_finished for n rows (1..RESULTS_BATCH_MAX) in ONE statement, hence one
 * transaction and one commit: the same per-row rules (newer attempt wins, same attempt is an
 * idempotent replay, created_at keeps its first value, started_at is kept when NULL). The one
 * parameter $1 is a JSON array of row objects {"id", "queue", "language", "status",
 * "priority", "attempts", "worker", "spec_summary", "result", "metadata", "created_us",
 * "started_us", "finished_us"}: JSON fields as JSON values (not strings), unknown times as
 * null. RETURNING "id, attempts, status" per row written (none for refused older attempts).
 * Rows are inserted in id order, so two workers' batches over the same ids wait for each
 * other instead of deadlocking. Unlike the single upsert, JSON text "null" is stored as SQL
 * NULL (spec_summary: {}): jsonb_to_recordset reads a JSON null as NULL. Returns 0, -EINVAL
 * (n out of range, a row results_sql_check_finished refuses, or an id twice: ON CONFLICT
 * cannot update a row twice in one statement) or -ENOMEM (jansson's own allocation failures
 * while parsing read as -EINVAL). */
int results_sql_upsert_batch(const struct results_job *rows, size_t n, struct results_query *q);

/* The object results_sql_upsert_batch puts in its parameter for j: a new reference, or NULL
 * when results_sql_check_finished refuses j (or out of memory: jansson does not tell them
 * apart). A writer builds it once, when it takes a row, so the row's JSON text is parsed
 * once and a batch only serialises the objects it holds. */
json_t *results_sql_row(const struct results_job *j);

/* results_sql_upsert_batch for rows results_sql_row built (borrowed). 0, -EINVAL (n out of
 * range, an id twice) or -ENOMEM. */
int results_sql_upsert_rows(json_t *const *rows, size_t n, struct results_query *q);

/* Marks a job running (status must be "running"; started_us 0 = now()): inserts it, or
 * updates it when the stored attempt is older, or the same attempt still queued/running (a
 * finished attempt is never turned back into a running one). Clears result and finished_at.
 * RETURNING like the upsert. 0, -EINVAL or -ENOMEM. */
int results_sql_mark_running(const struct results_job *j, struct results_query *q);

/* History filters; zero/NULL fields are not applied. */
struct results_filter {
    const char *status;   /* one of the five statuses */
    const char *language; /* exact name */
    int64_t since_us;     /* created_at >= since */
    unsigned limit;       /* 0 = RESULTS_HISTORY_DEFAULT_LIMIT; at most the MAX */
    const char *cursor;   /* the RESULTS_HCOL_CURSOR of the last row of the previous page */
};

/* Columns of the history query (and their numbers). Times are microseconds since the epoch
 * as decimal text; JSON columns are JSON text. */
enum results_history_col {
    RESULTS_HCOL_ID,
    RESULTS_HCOL_QUEUE,
    RESULTS_HCOL_LANGUAGE,
    RESULTS_HCOL_STATUS,
    RESULTS_HCOL_PRIORITY,
    RESULTS_HCOL_ATTEMPTS,
    RESULTS_HCOL_WORKER,
    RESULTS_HCOL_SPEC_SUMMARY,
    RESULTS_HCOL_RESULT,
    RESULTS_HCOL_METADATA,
    RESULTS_HCOL_CREATED_US,
    RESULTS_HCOL_STARTED_US,
    RESULTS_HCOL_FINISHED_US,
    RESULTS_HCOL_WEBHOOK, /* the callback_url delivery's outcome (JSON), or NULL */
    RESULTS_HCOL_CURSOR,
    RESULTS_HCOL_COUNT
};

/* Newest first (created_at DESC, id DESC), at most limit rows, after the cursor. When a page
 * has exactly limit rows, its last row's cursor column fetches the next page. Returns 0,
 * -EINVAL (unknown status, malformed cursor) or -ENOMEM. */
int results_sql_history(const struct results_filter *f, struct results_query *q);

/* Columns of the stats query: one row per language (ordered by name), over finished jobs. */
enum results_stats_col {
    RESULTS_SCOL_LANGUAGE,
    RESULTS_SCOL_TOTAL,
    RESULTS_SCOL_COMPLETED,
    RESULTS_SCOL_FAILED,
    RESULTS_SCOL_CANCELLED,
    RESULTS_SCOL_RESULT_MIX,  /* JSON object: sandbox result status -> count */
    RESULTS_SCOL_P50_WALL_MS, /* percentile_cont, rounded to 2 decimals; NULL without data */
    RESULTS_SCOL_P90_WALL_MS,
    RESULTS_SCOL_P99_WALL_MS,
    RESULTS_SCOL_COUNT
};

/* Stats over jobs finished at or after since_us (0 = all), of one language (NULL = all).
 * Returns 0 or -ENOMEM. */
int results_sql_stats(const char *language, int64_t since_us, struct results_query *q);

/* DELETE FROM jobs WHERE id = $1 RETURNING id. Returns 0, -EINVAL or -ENOMEM. */
int results_sql_delete(const char *id, struct results_query *q);

/* "<created_us>:<id>" into buf. Returns 0 or -EINVAL (bad id, negative time, too small). */
int results_cursor_format(int64_t created_us, const char *id, char *buf, size_t len);

/* Parses a cursor; *id points into cursor. Returns 0 or -EINVAL. */
int results_cursor_parse(const char *cursor, int64_t *created_us, const char **id);

/* Nonzero for queued, running, completed, failed, cancelled. */
int results_status_valid(const char *status);

/* The spec_summary of a job: {"language", "nfiles", "source_bytes", "stdin_bytes", "nargs",
 * "limits": {only the limits given}, "queue", "priority", "name" (a batch's job)} - never
 * the source itself.
 * Returns a new reference or NULL when out of memory. */
json_t *results_spec_summary(const struct job_spec *s);

/* Notes on a job's row how its callback_url delivery ended (outcome: JSON text). 0, -EINVAL
 * or -ENOMEM. */
int results_sql_webhook(const char *id, const char *outcome, struct results_query *q);

/* The rows of a batch's jobs, in the order they were submitted (then name, id). 0, -EINVAL
 * or -ENOMEM. */
int results_sql_batch(const char *batch_id, struct results_query *q);
enum results_batch_col {
    RESULTS_BCOL_ID,
    RESULTS_BCOL_STATUS,
    RESULTS_BCOL_NAME,    /* NULL for a row stored without one */
    RESULTS_BCOL_VERDICT, /* the result's verdict, else its status, else the job's */
    RESULTS_BCOL_SCORE,   /* NULL for an ungraded result */
    RESULTS_BCOL_MAX_SCORE,
    RESULTS_BCOL_CREATED_US,
};

#endif
