/* SPDX-License-Identifier: MIT */
#include "results_sql.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_field.h"

/* A parameter holding microseconds since the epoch, as a timestamptz (NULL stays NULL). */
#define TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"
/* A timestamptz column as microseconds since the epoch (extract() is numeric: exact). */
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static const char *const statuses[] = {"queued", "running",   "completed",
                                       "failed", "cancelled", NULL};

/* What a finished row's conflict does (both upserts): a newer or the same attempt replaces
 * the row, an older one changes nothing; created_at keeps its first value. */
#define UPSERT_CONFLICT                                                                            \
    "ON CONFLICT (id) DO UPDATE SET\n"                                                             \
    "    queue = EXCLUDED.queue, language = EXCLUDED.language, status = EXCLUDED.status,\n"        \
    "    priority = EXCLUDED.priority, attempts = EXCLUDED.attempts, worker = EXCLUDED.worker,\n"  \
    "    spec_summary = EXCLUDED.spec_summary, result = EXCLUDED.result,\n"                        \
    "    started_at = coalesce(EXCLUDED.started_at, j.started_at),\n"                              \
    "    finished_at = EXCLUDED.finished_at, metadata = EXCLUDED.metadata,\n"                      \
    "    batch_id = coalesce(EXCLUDED.batch_id, j.batch_id)\n"                                    \
    "WHERE j.attempts <= EXCLUDED.attempts\n"                                                      \
    "RETURNING id, attempts, status"

static const char upsert_sql[] =
    "INSERT INTO jobs AS j (id, queue, language, status, priority, attempts, worker,\n"
    "    spec_summary, result, created_at, started_at, finished_at, metadata)\n"
    "VALUES ($1, $2, $3, $4, $5::smallint, $6::int, $7, coalesce($8::jsonb, '{}'::jsonb),\n"
    "    $9::jsonb, coalesce(" TS(10) ", now()), " TS(11) ", " TS(
        12) ", $13::jsonb)\n" UPSERT_CONFLICT;

/* One fixed text and one parameter whatever n: no text to assemble per batch, and the rows
 * travel as one jsonb value instead of 13 text parameters each. ORDER BY r.id: every batch
 * takes its row locks in the same order. Times as in TS(), NULL staying NULL. */
static const char batch_sql[] =
    "INSERT INTO jobs AS j (id, queue, language, status, priority, attempts, worker,\n"
    "    spec_summary, result, created_at, started_at, finished_at, metadata, batch_id)\n"
    "SELECT r.id, r.queue, r.language, r.status, r.priority, r.attempts, r.worker,\n"
    "    coalesce(r.spec_summary, '{}'::jsonb), r.result,\n"
    "    coalesce('epoch'::timestamptz + r.created_us * interval '1 microsecond', now()),\n"
    "    'epoch'::timestamptz + r.started_us * interval '1 microsecond',\n"
    "    'epoch'::timestamptz + r.finished_us * interval '1 microsecond', r.metadata,\n"
    "    r.batch_id\n"
    "FROM jsonb_to_recordset($1::jsonb) AS r(id text, queue text, language text, status text,\n"
    "    priority smallint, attempts int, worker text, spec_summary jsonb, result jsonb,\n"
    "    metadata jsonb, created_us bigint, started_us bigint, finished_us bigint,\n"
    "    batch_id text)\n"
    "ORDER BY r.id\n" UPSERT_CONFLICT;

/* A batch's rows, once Redis has let the batch go: see RESULTS_BCOL_*. */
static const char batch_sql_select[] =
    "SELECT id, status, spec_summary->>'name', coalesce(result->>'verdict', result->>'status',\n"
    "    status), (result->>'score')::float8, (result->>'max_score')::float8,\n"
    "    " US("created_at") "\n"
    "FROM jobs WHERE batch_id = $1 ORDER BY created_at, spec_summary->>'name', id";

static const char running_sql[] =
    "INSERT INTO jobs AS j (id, queue, language, status, priority, attempts, worker,\n"
    "    spec_summary, result, created_at, started_at, finished_at, metadata)\n"
    "VALUES ($1, $2, $3, $4, $5::smallint, $6::int, $7, coalesce($8::jsonb, '{}'::jsonb),\n"
    "    NULL, coalesce(" TS(9) ", now()), coalesce(" TS(
        10) ", now()), NULL, $11::jsonb)\n"
            "ON CONFLICT (id) DO UPDATE SET\n"
            "    status = EXCLUDED.status, attempts = EXCLUDED.attempts, worker = "
            "EXCLUDED.worker,\n"
            "    started_at = EXCLUDED.started_at, finished_at = NULL, result = NULL\n"
            "WHERE j.attempts < EXCLUDED.attempts\n"
            "    OR (j.attempts = EXCLUDED.attempts AND j.status IN ('queued', 'running'))\n"
            "RETURNING id, attempts, status";

static const char history_select[] =
    "SELECT id, queue, language, status, priority, attempts, worker, spec_summary, result,\n"
    "    metadata, " US("created_at") ", " US("started_at") ", " US(
        "finished_at") ", webhook,\n"
                       "    " US("created_at") "::text || ':' || id AS cursor\n"
                                               "FROM jobs\nWHERE true";

static const char stats_head[] =
    "WITH f AS (\n"
    "    SELECT language, status, result->>'status' AS rstatus,\n"
    "        CASE WHEN jsonb_typeof(result->'wall_ms') = 'number'\n"
    "            THEN (result->>'wall_ms')::float8 END AS wall_ms\n"
    "    FROM jobs\n"
    "    WHERE finished_at IS NOT NULL AND status IN ('completed', 'failed', 'cancelled')";

static const char stats_tail[] =
    "\n),\nmix AS (\n"
    "    SELECT language, jsonb_object_agg(rstatus, n) AS result_mix\n"
    "    FROM (SELECT language, rstatus, count(*) AS n FROM f WHERE rstatus IS NOT NULL\n"
    "          GROUP BY language, rstatus) s\n"
    "    GROUP BY language\n"
    ")\n"
    "SELECT f.language, count(*),\n"
    "    count(*) FILTER (WHERE f.status = 'completed'),\n"
    "    count(*) FILTER (WHERE f.status = 'failed'),\n"
    "    count(*) FILTER (WHERE f.status = 'cancelled'),\n"
    "    coalesce(m.result_mix, '{}'::jsonb),\n"
    "    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY f.wall_ms))::numeric, 2),\n"
    "    round((percentile_cont(0.9) WITHIN GROUP (ORDER BY f.wall_ms))::numeric, 2),\n"
    "    round((percentile_cont(0.99) WITHIN GROUP (ORDER BY f.wall_ms))::numeric, 2)\n"
    "FROM f LEFT JOIN mix m ON m.language = f.language\n"
    "GROUP BY f.language, m.result_mix\n"
    "ORDER BY f.language";

void results_query_free(struct results_query *q)
{
    free(q->sql);
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    memset(q, 0, sizeof(*q));
}

int results_status_valid(const char *status)
{
    for (size_t i = 0; status && statuses[i]; i++)
        if (strcmp(status, statuses[i]) == 0)
            return 1;
    return 0;
}

static int id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    return n >= 1 && n <= RESULTS_ID_MAX;
}

/* Appends a parameter (NULL = SQL NULL) and returns its number ($n), or -ENOMEM. */
static int add_param(struct results_query *q, const char *v)
{
    char *copy = NULL;

    if (q->nparams >= RESULTS_SQL_MAX_PARAMS)
        return -ENOMEM;
    if (v && !(copy = strdup(v)))
        return -ENOMEM;
    q->params[q->nparams++] = copy;
    return q->nparams;
}

static int add_int(struct results_query *q, int64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return add_param(q, buf);
}

/* A time parameter: 0 becomes SQL NULL. */
static int add_time(struct results_query *q, int64_t us)
{
    return us ? add_int(q, us) : add_param(q, NULL);
}

static int job_valid(const struct results_job *j)
{
    return j && id_valid(j->id) && j->queue && *j->queue && j->language && *j->language &&
           j->priority >= JOB_PRIORITY_MIN && j->priority <= JOB_PRIORITY_MAX && j->attempts >= 0 &&
           j->created_us >= 0 && j->started_us >= 0 && j->finished_us >= 0;
}

/* $1..$8: the columns both writers share. */
static int add_job_head(struct results_query *q, const struct results_job *j)
{
    int r = 0;

    if ((r = add_param(q, j->id)) < 0 || (r = add_param(q, j->queue)) < 0 ||
        (r = add_param(q, j->language)) < 0 || (r = add_param(q, j->status)) < 0 ||
        (r = add_int(q, j->priority)) < 0 || (r = add_int(q, j->attempts)) < 0 ||
        (r = add_param(q, j->worker)) < 0 || (r = add_param(q, j->spec_summary)) < 0)
        return r;
    return 0;
}

static int finish(struct results_query *q, int r)
{
    if (r < 0)
        results_query_free(q);
    return r < 0 ? r : 0;
}

static int final_status(const char *status)
{
    return results_status_valid(status) && strcmp(status, "queued") != 0 &&
           strcmp(status, "running") != 0;
}

int results_sql_upsert_finished(const struct results_job *j, struct results_query *q)
{
    int r;

    memset(q, 0, sizeof(*q));
    if (!job_valid(j) || !final_status(j->status))
        return -EINVAL;
    if ((r = add_job_head(q, j)) < 0 || (r = add_param(q, j->result)) < 0 ||
        (r = add_time(q, j->created_us)) < 0 || (r = add_time(q, j->started_us)) < 0 ||
        (r = add_time(q, j->finished_us)) < 0 || (r = add_param(q, j->metadata)) < 0)
        return finish(q, r);
    q->sql = strdup(upsert_sql);
    return finish(q, q->sql ? 0 : -ENOMEM);
}

/* JSON text (NULL allowed) as a value: a new reference, json_null() for NULL, NULL when the
 * text is not JSON. JSON_DECODE_ANY: metadata may be any value, not only an object. */
static json_t *json_value(const char *text)
{
    return text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
}

static json_t *json_time(int64_t us)
{
    return us ? json_integer((json_int_t)us) : json_null();
}

/* The recordset's object for one row: a new reference, or NULL for a row the batch does
 * not take. */
json_t *results_sql_row(const struct results_job *j)
{
    if (!job_valid(j) || !final_status(j->status))
        return NULL;
    /* "o" steals a reference and fails the pack on NULL: a NULL here is invalid text (or
     * ENOMEM, which json_loads does not tell apart). Strings must be UTF-8 (PostgreSQL's
     * too): json_pack refuses the rest. */
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:s?}",
                     "id", j->id, "queue", j->queue, "language", j->language, "status", j->status,
                     "priority", j->priority, "attempts", j->attempts, "worker", j->worker,
                     "spec_summary", json_value(j->spec_summary), "result", json_value(j->result),
                     "metadata", json_value(j->metadata), "created_us", json_time(j->created_us),
                     "started_us", json_time(j->started_us), "finished_us",
                     json_time(j->finished_us), "batch_id", j->batch);
}

int results_sql_check_finished(const struct results_job *j)
{
    json_t *o = results_sql_row(j);

    json_decref(o);
    return o ? 0 : -EINVAL;
}

int results_sql_upsert_rows(json_t *const *rows, size_t n, struct results_query *q)
{
    json_t *arr;
    char *text;

    memset(q, 0, sizeof(*q));
    if (!rows || n < 1 || n > RESULTS_BATCH_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++) {
            const char *a = json_string_value(json_object_get(rows[i], "id"));
            const char *b = json_string_value(json_object_get(rows[k], "id"));

            if (!a || !b || strcmp(a, b) == 0)
                return -EINVAL;
        }
    if (!(arr = json_array()))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (json_array_append(arr, rows[i]) < 0) {
            json_decref(arr);
            return -ENOMEM;
        }
    text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text)
        return -ENOMEM;
    q->params[q->nparams++] = text;
    q->sql = strdup(batch_sql);
    return finish(q, q->sql ? 0 : -ENOMEM);
}

int results_sql_upsert_batch(const struct results_job *rows, size_t n, struct results_query *q)
{
    json_t *objs[RESULTS_BATCH_MAX];
    size_t k = 0;
    int r = -EINVAL;

    memset(q, 0, sizeof(*q));
    if (!rows || n < 1 || n > RESULTS_BATCH_MAX)
        return -EINVAL;
    while (k < n && (objs[k] = results_sql_row(&rows[k])))
        k++;
    if (k == n)
        r = results_sql_upsert_rows(objs, n, q);
    while (k > 0)
        json_decref(objs[--k]);
    return r;
}

int results_sql_mark_running(const struct results_job *j, struct results_query *q)
{
    int r;

    memset(q, 0, sizeof(*q));
    if (!job_valid(j) || !j->status || strcmp(j->status, "running") != 0)
        return -EINVAL;
    if ((r = add_job_head(q, j)) < 0 || (r = add_time(q, j->created_us)) < 0 ||
        (r = add_time(q, j->started_us)) < 0 || (r = add_param(q, j->metadata)) < 0)
        return finish(q, r);
    q->sql = strdup(running_sql);
    return finish(q, q->sql ? 0 : -ENOMEM);
}

int results_cursor_format(int64_t created_us, const char *id, char *buf, size_t len)
{
    int n;

    if (created_us < 0 || !id_valid(id))
        return -EINVAL;
    n = snprintf(buf, len, "%" PRId64 ":%s", created_us, id);
    return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int results_cursor_parse(const char *cursor, int64_t *created_us, const char **id)
{
    int64_t v = 0;
    const char *p = cursor;

    if (!p || *p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (*p != ':' || p - cursor > 20 || !id_valid(p + 1))
        return -EINVAL;
    *created_us = v;
    *id = p + 1;
    return 0;
}

int results_sql_history(const struct results_filter *flt, struct results_query *q)
{
    unsigned limit = flt->limit ? flt->limit : RESULTS_HISTORY_DEFAULT_LIMIT;
    const char *cursor_id = NULL;
    int64_t cursor_us = 0;
    size_t len = 0;
    FILE *f;
    int r = 0, a, b;

    memset(q, 0, sizeof(*q));
    if (flt->status && !results_status_valid(flt->status))
        return -EINVAL;
    if (flt->since_us < 0)
        return -EINVAL;
    if (flt->cursor && *flt->cursor &&
        results_cursor_parse(flt->cursor, &cursor_us, &cursor_id) < 0)
        return -EINVAL;
    if (limit > RESULTS_HISTORY_MAX_LIMIT)
        limit = RESULTS_HISTORY_MAX_LIMIT;
    if (!(f = open_memstream(&q->sql, &len)))
        return -ENOMEM;
    fputs(history_select, f);
    if (flt->status && (r = add_param(q, flt->status)) > 0)
        fprintf(f, " AND status = $%d", r);
    if (r >= 0 && flt->language && (r = add_param(q, flt->language)) > 0)
        fprintf(f, " AND language = $%d", r);
    if (r >= 0 && flt->since_us && (r = add_int(q, flt->since_us)) > 0)
        fprintf(f,
                " AND created_at >= ('epoch'::timestamptz + $%d::bigint"
                " * interval '1 microsecond')",
                r);
    if (r >= 0 && cursor_id && (a = r = add_int(q, cursor_us)) > 0 &&
        (b = r = add_param(q, cursor_id)) > 0)
        fprintf(f,
                "\n    AND (created_at, id) < ('epoch'::timestamptz + $%d::bigint"
                " * interval '1 microsecond', $%d)",
                a, b);
    if (r >= 0 && (r = add_int(q, limit)) > 0)
        fprintf(f, "\nORDER BY created_at DESC, id DESC\nLIMIT $%d::int", r);
    if (fclose(f) != 0 || !q->sql)
        r = -ENOMEM;
    return finish(q, r);
}

int results_sql_stats(const char *language, int64_t since_us, struct results_query *q)
{
    size_t len = 0;
    FILE *f;
    int r = 0;

    memset(q, 0, sizeof(*q));
    if (since_us < 0)
        return -EINVAL;
    if (!(f = open_memstream(&q->sql, &len)))
        return -ENOMEM;
    fputs(stats_head, f);
    if (language && (r = add_param(q, language)) > 0)
        fprintf(f, "\n        AND language = $%d", r);
    if (r >= 0 && since_us && (r = add_int(q, since_us)) > 0)
        fprintf(f,
                "\n        AND finished_at >= ('epoch'::timestamptz + $%d::bigint"
                " * interval '1 microsecond')",
                r);
    fputs(stats_tail, f);
    if (fclose(f) != 0 || !q->sql)
        r = -ENOMEM;
    return finish(q, r);
}

int results_sql_delete(const char *id, struct results_query *q)
{
    int r;

    memset(q, 0, sizeof(*q));
    if (!id_valid(id))
        return -EINVAL;
    if ((r = add_param(q, id)) < 0)
        return finish(q, r);
    q->sql = strdup("DELETE FROM jobs WHERE id = $1 RETURNING id");
    return finish(q, q->sql ? 0 : -ENOMEM);
}

int results_sql_webhook(const char *id, const char *outcome, struct results_query *q)
{
    int r;

    memset(q, 0, sizeof(*q));
    if (!id_valid(id) || !outcome)
        return -EINVAL;
    if ((r = add_param(q, id)) < 0 || (r = add_param(q, outcome)) < 0)
        return finish(q, r);
    q->sql = strdup("UPDATE jobs SET webhook = $2::jsonb WHERE id = $1");
    return finish(q, q->sql ? 0 : -ENOMEM);
}

int results_sql_batch(const char *batch_id, struct results_query *q)
{
    int r;

    memset(q, 0, sizeof(*q));
    if (!id_valid(batch_id))
        return -EINVAL;
    if ((r = add_param(q, batch_id)) < 0)
        return finish(q, r);
    q->sql = strdup(batch_sql_select);
    return finish(q, q->sql ? 0 : -ENOMEM);
}

json_t *results_spec_summary(const struct job_spec *s)
{
    size_t source = 0;
    json_t *o, *limits;

    for (size_t i = 0; i < s->nfiles; i++)
        source += s->files[i].len;
    limits = job_field_limits_json(&s->limits);
    o = json_pack("{s:s?, s:I, s:I, s:I, s:I, s:o?, s:s?, s:i}", "language", s->language, "nfiles",
                  (json_int_t)s->nfiles, "source_bytes", (json_int_t)source, "stdin_bytes",
                  (json_int_t)(s->has_stdin ? s->stdin_len : 0), "nargs", (json_int_t)s->nargs,
                  "limits", limits, "queue", s->queue, "priority", s->priority);
    if (o && s->name) /* a batch's job: its submission's name */
        json_object_set_new(o, "name", json_string(s->name));
    return o;
}
