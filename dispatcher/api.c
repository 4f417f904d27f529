/* SPDX-License-Identifier: MIT */
/* api: see api.h. */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "results_sql.h"
#include "units.h"

int api_finished_state(const char *s)
{
    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled"));
}

static json_t *ms_or_null(long long ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}

json_t *api_job_from_rq(const struct rq_job *job)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "id", job->id, "status",
                          job->state, "attempts", (json_int_t)job->attempts, "worker",
                          job->worker[0] ? json_string(job->worker) : json_null(), "created_ms",
                          ms_or_null(job->created_ms), "started_ms", ms_or_null(job->started_ms),
                          "finished_ms", ms_or_null(job->finished_ms));

    if (!j)
        return NULL;
    if (job->cancel_requested && !api_finished_state(job->state))
        json_object_set_new(j, "cancel_requested", json_true());
    if (job->reason[0])
        json_object_set_new(j, "reason", json_string(job->reason));
    if (api_finished_state(job->state)) {
        json_t *res = job->result[0] ? json_loads(job->result, JSON_ALLOW_NUL, NULL) : NULL;
        json_object_set_new(j, "result", res ? res : json_null());
    }
    if (job->webhook && job->webhook[0]) { /* the callback_url delivery, once it ended */
        json_t *w = json_loads(job->webhook, 0, NULL);
        if (w)
            json_object_set_new(j, "webhook", w);
    }
    return j;
}

/* A microseconds column as milliseconds (null when NULL or not positive). */
static json_t *col_ms(const struct db_result *res, int row, int col)
{
    const char *v = db_result_value(res, row, col);

    return ms_or_null(v ? strtoll(v, NULL, 10) / 1000 : 0);
}

static json_t *col_str(const struct db_result *res, int row, int col)
{
    const char *v = db_result_value(res, row, col);

    return v ? json_string(v) : json_null();
}

json_t *api_job_from_row(const struct db_result *res, int row)
{
    const char *status = db_result_value(res, row, RESULTS_HCOL_STATUS);
    const char *att = db_result_value(res, row, RESULTS_HCOL_ATTEMPTS);
    const char *result = db_result_value(res, row, RESULTS_HCOL_RESULT);
    json_t *j;

    j = json_pack(
        "{s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", col_str(res, row, RESULTS_HCOL_ID),
        "status", col_str(res, row, RESULTS_HCOL_STATUS), "attempts",
        (json_int_t)(att ? strtoll(att, NULL, 10) : 0), "worker",
        col_str(res, row, RESULTS_HCOL_WORKER), "created_ms",
        col_ms(res, row, RESULTS_HCOL_CREATED_US), "started_ms",
        col_ms(res, row, RESULTS_HCOL_STARTED_US), "finished_ms",
        col_ms(res, row, RESULTS_HCOL_FINISHED_US), "queue", col_str(res, row, RESULTS_HCOL_QUEUE),
        "language", col_str(res, row, RESULTS_HCOL_LANGUAGE));
    if (!j)
        return NULL;
    if (api_finished_state(status)) {
        json_t *r = result ? json_loads(result, JSON_ALLOW_NUL, NULL) : NULL;
        json_object_set_new(j, "result", r ? r : json_null());
    }
    if (db_result_value(res, row, RESULTS_HCOL_WEBHOOK)) {
        json_t *w = json_loads(db_result_value(res, row, RESULTS_HCOL_WEBHOOK), 0, NULL);
        if (w)
            json_object_set_new(j, "webhook", w);
    }
    return j;
}

void api_json(struct http_exchange *ex, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (!text) {
        http_respond_error(ex, 500, "internal_error", "out of memory", NULL);
        return;
    }
    http_respond(ex, status, "application/json", text, strlen(text));
    free(text);
}

static int unreachable(int err)
{
    return err == -ENOTCONN || err == -ECONNREFUSED || err == -ECONNRESET || err == -ETIMEDOUT ||
           err == -ECANCELED || err == -ESHUTDOWN || err == -ENOBUFS;
}

void api_rq_error(struct http_exchange *ex, int err)
{
    if (unreachable(err)) {
        http_exchange_add_header(ex, "Retry-After", "1");
        http_respond_error(ex, 503, "redis_unavailable", "the job store is not reachable", NULL);
    } else {
        http_respond_error(ex, 500, "internal_error", strerror(-err), NULL);
    }
}

void api_db_error(struct http_exchange *ex, int err)
{
    if (unreachable(err)) {
        http_exchange_add_header(ex, "Retry-After", "1");
        http_respond_error(ex, 503, "postgres_unavailable", "the history store is not reachable",
                           NULL);
    } else if (err == -EIO) {
        http_respond_error(ex, 500, "internal_error", "the history store refused the query", NULL);
    } else {
        http_respond_error(ex, 500, "internal_error", strerror(-err), NULL);
    }
}

void api_not_found(struct http_exchange *ex)
{
    http_respond_error(ex, 404, "not_found", "no such job", "id");
}

int api_query_param(const char *query, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name), o = 0;
    const char *q, *v;

    for (q = query; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
        if (strncmp(q, name, nl) || q[nl] != '=')
            continue;
        for (v = q + nl + 1; *v && *v != '&'; v++) {
            int c = (unsigned char)*v;
            if (c == '%') {
                int hi = units_hex_digit(v[1]), lo = hi < 0 ? -1 : units_hex_digit(v[2]);
                if (lo < 0)
                    return -EINVAL;
                c = hi * 16 + lo;
                v += 2;
            } else if (c == '+') {
                c = ' ';
            }
            if (c == 0 || o + 1 >= len)
                return -EINVAL;
            buf[o++] = (char)c;
        }
        buf[o] = '\0';
        return 1;
    }
    return 0;
}
