/* SPDX-License-Identifier: MIT */
/* history: see history.h. Each request is one db_query whose callback answers. */
#include "history.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "results_sql.h"

#define LANGUAGE_MAX 64

struct op {
    struct http_exchange *ex;
    unsigned limit;
};

/* The common query parameters, decoded. */
struct params {
    char status[16], language[LANGUAGE_MAX + 1], since[40], limit[16];
    char cursor[RESULTS_CURSOR_MAX + 1];
    int has_status, has_language, has_since, has_limit, has_cursor;
};

static int bad(struct http_exchange *ex, const char *field, const char *message)
{
    http_respond_error(ex, 400, "invalid_query", message, field);
    return -EINVAL;
}

/* Reads one parameter; answers 400 for a malformed one. Returns 0/1 (absent/present) or
 * -EINVAL (answered). */
static int param(struct http_exchange *ex, const char *name, char *buf, size_t len,
                 const char *message)
{
    int r = api_query_param(http_exchange_request(ex)->query, name, buf, len);

    return r < 0 ? bad(ex, name, message) : r;
}

/* since: digits = milliseconds since the epoch, or YYYY-MM-DDTHH:MM:SS[.fff]Z. */
static int parse_since(const char *s, int64_t *us)
{
    struct tm tm = {0};
    char *end;
    long long ms;
    const char *p;

    if (*s >= '0' && *s <= '9' && strspn(s, "0123456789") == strlen(s)) {
        if (strlen(s) > 15)
            return -EINVAL;
        ms = strtoll(s, &end, 10);
        *us = (int64_t)ms * 1000;
        return 0;
    }
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -EINVAL;
    ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        if (digits == 0)
            return -EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (strcmp(p, "Z") || tm.tm_year < 70)
        return -EINVAL;
    *us = ((int64_t)timegm(&tm) * 1000 + ms) * 1000;
    return 0;
}

static int read_params(struct http_exchange *ex, struct params *p, int64_t *since_us)
{
    int r;

    memset(p, 0, sizeof(*p));
    *since_us = 0;
    if ((r = param(ex, "status", p->status, sizeof(p->status), "unknown status")) < 0)
        return r;
    if ((p->has_status = r) && !results_status_valid(p->status))
        return bad(ex, "status", "status must be queued, running, completed, failed or cancelled");
    if ((r = param(ex, "language", p->language, sizeof(p->language), "bad language")) < 0)
        return r;
    if ((p->has_language = r) && !p->language[0])
        return bad(ex, "language", "language must not be empty");
    if ((r = param(ex, "since", p->since, sizeof(p->since), "bad since")) < 0)
        return r;
    if ((p->has_since = r) && parse_since(p->since, since_us) < 0)
        return bad(ex, "since",
                   "since must be milliseconds since the epoch or an RFC 3339 UTC time");
    return 0;
}

/* The start of each db callback: a failed query is answered (and op freed). 1 if it was. */
static int op_failed(struct op *op, const struct db_result *r)
{
    if (r->status >= 0)
        return 0;
    api_db_error(op->ex, r->status);
    free(op);
    return 1;
}

/*** GET /v1/jobs ***/

static void on_history(struct db *db, const struct db_result *r, void *data)
{
    struct op *op = data;
    json_t *jobs, *o;
    const char *cursor = NULL;
    int i;

    (void)db;
    if (op_failed(op, r))
        return;
    jobs = json_array();
    for (i = 0; jobs && i < r->nrows; i++)
        json_array_append_new(jobs, api_job_from_row(r, i));
    if (r->nrows > 0 && (unsigned)r->nrows >= op->limit)
        cursor = db_result_value(r, r->nrows - 1, RESULTS_HCOL_CURSOR);
    o = jobs ? json_pack("{s:o, s:s?}", "jobs", jobs, "next_cursor", cursor) : NULL;
    api_json(op->ex, 200, o);
    free(op);
}

void history_list(struct db *db, struct http_exchange *ex)
{
    struct results_filter f = {0};
    struct results_query q;
    struct params p;
    struct op *op;
    char *end;
    long limit = RESULTS_HISTORY_DEFAULT_LIMIT;
    int r;

    if (read_params(ex, &p, &f.since_us) < 0)
        return;
    if ((r = param(ex, "limit", p.limit, sizeof(p.limit), "bad limit")) < 0)
        return;
    if (r) {
        limit = p.limit[0] >= '0' && p.limit[0] <= '9' ? strtol(p.limit, &end, 10) : -1;
        if (limit < 1 || limit > RESULTS_HISTORY_MAX_LIMIT || *end) {
            bad(ex, "limit", "limit must be a number from 1 to 500");
            return;
        }
    }
    if ((r = param(ex, "cursor", p.cursor, sizeof(p.cursor), "bad cursor")) < 0)
        return;
    if (r && p.cursor[0]) {
        int64_t us;
        const char *id;
        if (results_cursor_parse(p.cursor, &us, &id) < 0) {
            bad(ex, "cursor", "cursor must be a next_cursor from a previous page");
            return;
        }
        f.cursor = p.cursor;
    }
    f.status = p.has_status ? p.status : NULL;
    f.language = p.has_language ? p.language : NULL;
    f.limit = (unsigned)limit;
    if (!db || !db_is_connected(db)) { /* fail fast: no 5 s wait in the db queue */
        api_db_error(ex, -ENOTCONN);
        return;
    }
    if ((r = results_sql_history(&f, &q)) < 0) {
        bad(ex, "cursor", "malformed query");
        return;
    }
    r = -ENOMEM;
    if ((op = calloc(1, sizeof(*op)))) {
        op->ex = ex;
        op->limit = f.limit;
        r = db_query(db, q.sql, q.nparams, (const char *const *)q.params, on_history, op);
        if (r < 0)
            free(op);
    }
    results_query_free(&q);
    if (r < 0)
        api_db_error(ex, r);
}

/*** GET /v1/stats ***/

static json_t *col_int(const struct db_result *r, int row, int col)
{
    const char *v = db_result_value(r, row, col);

    return json_integer(v ? strtoll(v, NULL, 10) : 0);
}

static json_t *col_num(const struct db_result *r, int row, int col)
{
    const char *v = db_result_value(r, row, col);

    return v ? json_real(strtod(v, NULL)) : json_null();
}

static void on_stats(struct db *db, const struct db_result *r, void *data)
{
    struct op *op = data;
    json_t *a;
    int i;

    (void)db;
    if (op_failed(op, r))
        return;
    a = json_array();
    for (i = 0; a && i < r->nrows; i++) {
        const char *mix = db_result_value(r, i, RESULTS_SCOL_RESULT_MIX);
        json_t *m = mix ? json_loads(mix, 0, NULL) : NULL;
        json_array_append_new(a, json_pack("{s:s?, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
                                           "language", db_result_value(r, i, RESULTS_SCOL_LANGUAGE),
                                           "total", col_int(r, i, RESULTS_SCOL_TOTAL), "completed",
                                           col_int(r, i, RESULTS_SCOL_COMPLETED), "failed",
                                           col_int(r, i, RESULTS_SCOL_FAILED), "cancelled",
                                           col_int(r, i, RESULTS_SCOL_CANCELLED), "result_mix",
                                           m ? m : json_object(), "wall_ms", "p50",
                                           col_num(r, i, RESULTS_SCOL_P50_WALL_MS), "p90",
                                           col_num(r, i, RESULTS_SCOL_P90_WALL_MS), "p99",
                                           col_num(r, i, RESULTS_SCOL_P99_WALL_MS)));
    }
    api_json(op->ex, 200, a ? json_pack("{s:o}", "stats", a) : NULL);
    free(op);
}

void history_stats(struct db *db, struct http_exchange *ex)
{
    struct results_query q;
    struct params p;
    struct op *op;
    int64_t since_us;
    int r;

    if (read_params(ex, &p, &since_us) < 0)
        return;
    if (p.has_status) {
        bad(ex, "status", "stats cover finished jobs: no status filter");
        return;
    }
    if (!db || !db_is_connected(db)) { /* fail fast: no 5 s wait in the db queue */
        api_db_error(ex, -ENOTCONN);
        return;
    }
    if ((r = results_sql_stats(p.has_language ? p.language : NULL, since_us, &q)) < 0) {
        api_db_error(ex, r);
        return;
    }
    r = -ENOMEM;
    if ((op = calloc(1, sizeof(*op)))) {
        op->ex = ex;
        r = db_query(db, q.sql, q.nparams, (const char *const *)q.params, on_stats, op);
        if (r < 0)
            free(op);
    }
    results_query_free(&q);
    if (r < 0)
        api_db_error(ex, r);
}
