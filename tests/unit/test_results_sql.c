/* SPDX-License-Identifier: MIT */
/* Unit tests of the PostgreSQL layer's pure parts: results_sql builders (parameters, and that
 * a caller's value never reaches the SQL text), cursors, the job summary, the migration list
 * and script, and db_backoff_delay_ms. No server. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "job.h"
#include "migrations.h"
#include "results_sql.h"
#include "tap.h"

#define SENTINEL "ZQX'); DROP TABLE jobs; --"

static struct results_job job(void)
{
    return (struct results_job){.id = "id-" SENTINEL,
                                .queue = "q-" SENTINEL,
                                .language = "lang-" SENTINEL,
                                .status = "completed",
                                .priority = 3,
                                .attempts = 2,
                                .worker = "w-" SENTINEL,
                                .spec_summary = "{\"s\": \"" SENTINEL "\"}",
                                .result = "{\"r\": \"" SENTINEL "\"}",
                                .metadata = "{\"m\": \"" SENTINEL "\"}",
                                .created_us = 1000,
                                .started_us = 0,
                                .finished_us = 3000};
}

static int param_is(const struct results_query *q, int n, const char *want)
{
    const char *v = n >= 1 && n <= q->nparams ? q->params[n - 1] : NULL;

    return want ? v && strcmp(v, want) == 0 : n >= 1 && n <= q->nparams && !v;
}

/* The SQL text holds no trace of the sentinel (nor of its quote-breaking part). */
static int sql_clean(const struct results_query *q)
{
    return q->sql && !strstr(q->sql, "ZQX") && !strstr(q->sql, "DROP");
}

static void test_upsert(struct tap *t)
{
    struct results_job j = job();
    struct results_query q;

    tap_ok(t, results_sql_upsert_finished(&j, &q) == 0, "upsert builds");
    tap_ok(t,
           q.nparams == 13 && param_is(&q, 1, j.id) && param_is(&q, 2, j.queue) &&
               param_is(&q, 3, j.language) && param_is(&q, 4, "completed") &&
               param_is(&q, 5, "3") && param_is(&q, 6, "2") && param_is(&q, 7, j.worker) &&
               param_is(&q, 8, j.spec_summary) && param_is(&q, 9, j.result) &&
               param_is(&q, 10, "1000") && param_is(&q, 11, NULL) && param_is(&q, 12, "3000") &&
               param_is(&q, 13, j.metadata),
           "upsert: 13 parameters in column order, unknown times as NULL");
    tap_ok(t, sql_clean(&q), "upsert: no caller value in the SQL text");
    tap_ok(t,
           strstr(q.sql, "ON CONFLICT (id) DO UPDATE") &&
               strstr(q.sql, "WHERE j.attempts <= EXCLUDED.attempts") && strstr(q.sql, "RETURNING"),
           "upsert: keyed by id, an older attempt cannot overwrite");
    results_query_free(&q);
    results_query_free(&q);
    tap_ok(t, q.sql == NULL && q.nparams == 0, "results_query_free zeroes and is repeatable");

    j.status = "running";
    tap_ok(t, results_sql_upsert_finished(&j, &q) == -EINVAL && !q.sql,
           "upsert refuses a status that is not final");
    j = job();
    j.status = "done";
    tap_ok(t, results_sql_upsert_finished(&j, &q) == -EINVAL, "... or unknown");
    j = job();
    j.id = "";
    tap_ok(t, results_sql_upsert_finished(&j, &q) == -EINVAL, "... an empty id");
    j = job();
    j.priority = 10;
    tap_ok(t, results_sql_upsert_finished(&j, &q) == -EINVAL, "... a priority out of range");
    j = job();
    j.attempts = -1;
    tap_ok(t, results_sql_upsert_finished(&j, &q) == -EINVAL, "... negative attempts");
    j = job();
    j.worker = j.result = j.metadata = j.spec_summary = NULL;
    j.created_us = 0;
    tap_ok(t,
           results_sql_upsert_finished(&j, &q) == 0 && param_is(&q, 7, NULL) &&
               param_is(&q, 8, NULL) && param_is(&q, 9, NULL) && param_is(&q, 10, NULL) &&
               param_is(&q, 13, NULL),
           "optional fields become NULL parameters");
    results_query_free(&q);

    j = job();
    j.status = "running";
    tap_ok(t,
           results_sql_mark_running(&j, &q) == 0 && q.nparams == 11 && param_is(&q, 4, "running") &&
               param_is(&q, 10, NULL) && sql_clean(&q) &&
               strstr(q.sql, "j.status IN ('queued', 'running')"),
           "mark running: 11 parameters, never reverts a finished attempt");
    results_query_free(&q);
    j.status = "completed";
    tap_ok(t, results_sql_mark_running(&j, &q) == -EINVAL, "mark running needs \"running\"");
}

/* The batch's one parameter, parsed. */
static json_t *batch_param(const struct results_query *q)
{
    return q->nparams == 1 && q->params[0] ? json_loads(q->params[0], 0, NULL) : NULL;
}

static int jstr_is(const json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v && strcmp(v, want) == 0;
}

static int jint_is(const json_t *o, const char *key, json_int_t want)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) == want;
}

static void test_batch(struct tap *t)
{
    static const char *const bad_json[] = {
        "{", "nope", "{} x", "\"a\\u0000b\"", "{\"a\": 1e999}", "\"\xff\"", NULL};
    struct results_job rows[RESULTS_BATCH_MAX + 1], j;
    char ids[RESULTS_BATCH_MAX + 1][16];
    struct results_query q, q1;
    json_t *arr, *o;
    int all = 1;

    rows[0] = job();
    rows[1] = job();
    rows[1].id = "second";
    rows[1].status = "cancelled";
    rows[1].worker = rows[1].spec_summary = rows[1].result = NULL;
    rows[1].metadata = "\"just a string\"";
    rows[1].created_us = rows[1].finished_us = 0;
    rows[1].started_us = 2000;
    tap_ok(t, results_sql_upsert_batch(rows, 2, &q) == 0 && q.nparams == 1 && q.sql,
           "batch builds: one statement, one parameter");
    tap_ok(t,
           sql_clean(&q) && strstr(q.sql, "jsonb_to_recordset($1::jsonb)") &&
               strstr(q.sql, "ON CONFLICT (id) DO UPDATE") &&
               strstr(q.sql, "WHERE j.attempts <= EXCLUDED.attempts") &&
               strstr(q.sql, "coalesce(EXCLUDED.started_at, j.started_at)") &&
               !strstr(q.sql, "created_at = EXCLUDED") &&
               strstr(q.sql, "RETURNING id, attempts, status") && strstr(q.sql, "ORDER BY r.id") &&
               !strstr(q.sql, "$2"),
           "batch SQL: the upsert's rules, rows from $1 only, no caller value in the text");
    arr = batch_param(&q);
    o = json_array_get(arr, 0);
    tap_ok(t, json_is_array(arr) && json_array_size(arr) == 2 && json_object_size(o) == 14 &&
                  json_is_null(json_object_get(o, "batch_id")),
           "the parameter is a JSON array of 14-key objects (batch_id null outside a batch)");
    tap_ok(t,
           jstr_is(o, "id", rows[0].id) && jstr_is(o, "queue", rows[0].queue) &&
               jstr_is(o, "language", rows[0].language) && jstr_is(o, "status", "completed") &&
               jint_is(o, "priority", 3) && jint_is(o, "attempts", 2) &&
               jstr_is(o, "worker", rows[0].worker) && jint_is(o, "created_us", 1000) &&
               json_is_null(json_object_get(o, "started_us")) && jint_is(o, "finished_us", 3000),
           "row 0: strings, numbers, an unknown time as null");
    tap_ok(t,
           jstr_is(json_object_get(o, "spec_summary"), "s", SENTINEL) &&
               jstr_is(json_object_get(o, "result"), "r", SENTINEL) &&
               jstr_is(json_object_get(o, "metadata"), "m", SENTINEL),
           "JSON fields are JSON values (objects), not strings");
    o = json_array_get(arr, 1);
    tap_ok(t,
           jstr_is(o, "id", "second") && jstr_is(o, "status", "cancelled") &&
               json_is_null(json_object_get(o, "worker")) &&
               json_is_null(json_object_get(o, "spec_summary")) &&
               json_is_null(json_object_get(o, "result")) &&
               jstr_is(o, "metadata", "just a string") &&
               json_is_null(json_object_get(o, "created_us")) && jint_is(o, "started_us", 2000) &&
               json_is_null(json_object_get(o, "finished_us")),
           "row 1: NULL fields and 0 times are null, metadata may be any JSON value");
    json_decref(arr);

    for (int i = 0; i <= RESULTS_BATCH_MAX; i++) {
        snprintf(ids[i], sizeof(ids[i]), "b-%d", i);
        rows[i] = job();
        rows[i].id = ids[i];
    }
    tap_ok(t,
           results_sql_upsert_batch(rows, RESULTS_BATCH_MAX, &q1) == 0 &&
               (arr = batch_param(&q1)) && json_array_size(arr) == RESULTS_BATCH_MAX,
           "RESULTS_BATCH_MAX (%d) rows in one parameter", RESULTS_BATCH_MAX);
    json_decref(arr);
    tap_ok(t, q1.sql && q.sql && strcmp(q1.sql, q.sql) == 0,
           "the SQL text is the same whatever n (one prepared shape)");
    results_query_free(&q);
    results_query_free(&q1);
    tap_ok(t,
           results_sql_upsert_batch(rows, RESULTS_BATCH_MAX + 1, &q) == -EINVAL && !q.sql &&
               q.nparams == 0 && results_sql_upsert_batch(rows, 0, &q) == -EINVAL &&
               results_sql_upsert_batch(NULL, 1, &q) == -EINVAL,
           "n outside 1..RESULTS_BATCH_MAX is refused");
    rows[7].id = ids[3];
    tap_ok(t, results_sql_upsert_batch(rows, 10, &q) == -EINVAL && !q.sql,
           "an id twice in one batch is refused (ON CONFLICT cannot touch a row twice)");
    tap_ok(t, results_sql_upsert_batch(rows, 3, &q) == 0, "... the rows before it build");
    results_query_free(&q);
    rows[7].id = ids[7];

    for (int i = 0; bad_json[i]; i++) {
        for (int f = 0; f < 3; f++) {
            j = job();
            *(f == 0 ? &j.spec_summary : f == 1 ? &j.result : &j.metadata) = bad_json[i];
            rows[5] = j;
            rows[5].id = ids[5];
            all &= results_sql_upsert_batch(rows, 8, &q) == -EINVAL && !q.sql &&
                   results_sql_check_finished(&j) == -EINVAL;
        }
    }
    tap_ok(t, all,
           "invalid JSON text in any JSON field (or \\u0000, overflow, bad UTF-8): -EINVAL");
    rows[5] = job();
    rows[5].id = ids[5];
    all = 1;
    for (int k = 0; k < 8; k++) {
        j = job();
        switch (k) {
        case 0:
            j.status = "running";
            break;
        case 1:
            j.status = "queued";
            break;
        case 2:
            j.status = "done";
            break;
        case 3:
            j.id = "";
            break;
        case 4:
            j.priority = 10;
            break;
        case 5:
            j.attempts = -1;
            break;
        case 6:
            j.queue = NULL;
            break;
        default:
            j.id = "bad\xff";
            break;
        }
        rows[2] = j;
        all &= results_sql_upsert_batch(rows, 4, &q) == -EINVAL && !q.sql &&
               results_sql_check_finished(&j) == -EINVAL;
    }
    tap_ok(t, all, "a row the single upsert refuses (or with bad UTF-8) fails the batch");
    j = job();
    tap_ok(t, results_sql_check_finished(&j) == 0, "results_sql_check_finished accepts a good row");
}

static void test_history(struct tap *t)
{
    struct results_filter f = {0};
    struct results_query q;

    tap_ok(t,
           results_sql_history(&f, &q) == 0 && q.nparams == 1 && param_is(&q, 1, "50") &&
               !strstr(q.sql, "status =") && strstr(q.sql, "LIMIT $1") &&
               strstr(q.sql, "ORDER BY created_at DESC, id DESC"),
           "history without filters: only the default limit");
    results_query_free(&q);
    f = (struct results_filter){.status = "failed",
                                .language = "py" SENTINEL,
                                .since_us = 123,
                                .limit = 100000,
                                .cursor = "1700000000000001:" SENTINEL};
    tap_ok(t, results_sql_history(&f, &q) == 0 && q.nparams == 6, "history with every filter");
    tap_ok(t,
           param_is(&q, 1, "failed") && param_is(&q, 2, f.language) && param_is(&q, 3, "123") &&
               param_is(&q, 4, "1700000000000001") && param_is(&q, 5, SENTINEL) &&
               param_is(&q, 6, "500"),
           "... status, language, since, cursor time and id, limit clamped to 500");
    tap_ok(t,
           sql_clean(&q) && strstr(q.sql, "status = $1") && strstr(q.sql, "language = $2") &&
               strstr(q.sql, "(created_at, id) < (") && strstr(q.sql, "$5)") &&
               strstr(q.sql, "LIMIT $6"),
           "... the text only numbers them");
    results_query_free(&q);
    f = (struct results_filter){.language = "x"};
    tap_ok(t, results_sql_history(&f, &q) == 0 && q.nparams == 2 && strstr(q.sql, "language = $1"),
           "parameters are numbered by what is present");
    results_query_free(&q);
    f = (struct results_filter){.status = "sleeping"};
    tap_ok(t, results_sql_history(&f, &q) == -EINVAL && !q.sql, "unknown status filter");
    f = (struct results_filter){.cursor = "12:' OR 1=1"};
    tap_ok(t,
           results_sql_history(&f, &q) == 0 && param_is(&q, 2, "' OR 1=1") &&
               !strstr(q.sql, "OR 1=1"),
           "a cursor's id is a parameter too");
    results_query_free(&q);
    f = (struct results_filter){.since_us = -1};
    tap_ok(t, results_sql_history(&f, &q) == -EINVAL, "negative since");
}

static void test_cursor(struct tap *t)
{
    static const char *const bad[] = {"",
                                      "abc",
                                      "123",
                                      "12:",
                                      ":x",
                                      "-1:x",
                                      "1x:y",
                                      "99999999999999999999:x",
                                      "000000000000000000001:x",
                                      NULL};
    char buf[RESULTS_CURSOR_MAX + 1], longid[RESULTS_ID_MAX + 2];
    const char *id;
    int64_t us;
    int all_bad = 1;

    tap_ok(t,
           results_cursor_format(1700000000123456, "a:b", buf, sizeof(buf)) == 0 &&
               strcmp(buf, "1700000000123456:a:b") == 0,
           "cursor format");
    tap_ok(t,
           results_cursor_parse(buf, &us, &id) == 0 && us == 1700000000123456 &&
               strcmp(id, "a:b") == 0,
           "cursor parse splits at the first colon");
    for (int i = 0; bad[i]; i++)
        all_bad &= results_cursor_parse(bad[i], &us, &id) == -EINVAL;
    tap_ok(t, all_bad, "malformed cursors are refused");
    tap_ok(t, results_cursor_parse("9223372036854775807:x", &us, &id) == 0 && us == INT64_MAX,
           "the largest time parses");
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    tap_ok(t,
           results_cursor_format(1, longid, buf, sizeof(buf)) == -EINVAL &&
               results_cursor_format(-1, "x", buf, sizeof(buf)) == -EINVAL &&
               results_cursor_format(1, "x", buf, 2) == -EINVAL,
           "format refuses a long id, a negative time, a small buffer");
}

static void test_stats_delete(struct tap *t)
{
    struct results_query q;

    tap_ok(t,
           results_sql_stats(NULL, 0, &q) == 0 && q.nparams == 0 &&
               strstr(q.sql, "percentile_cont(0.5)") && strstr(q.sql, "percentile_cont(0.9)") &&
               strstr(q.sql, "percentile_cont(0.99)") && strstr(q.sql, "GROUP BY f.language"),
           "stats without filters");
    results_query_free(&q);
    tap_ok(t,
           results_sql_stats(SENTINEL, 77, &q) == 0 && q.nparams == 2 &&
               param_is(&q, 1, SENTINEL) && param_is(&q, 2, "77") && sql_clean(&q),
           "stats with language and since as parameters");
    results_query_free(&q);
    tap_ok(t,
           results_sql_delete(SENTINEL, &q) == 0 && q.nparams == 1 && param_is(&q, 1, SENTINEL) &&
               sql_clean(&q),
           "delete by id");
    results_query_free(&q);
    tap_ok(t, results_sql_delete("", &q) == -EINVAL && results_sql_delete(NULL, &q) == -EINVAL,
           "delete needs an id");
}

static void test_summary(struct tap *t)
{
    static const char body[] = "{\"language\": \"python\", \"source\": \"print('secret')\","
                               " \"args\": [\"a\", \"b\"], \"limits\": {\"cpu_ms\": 1000}}";
    struct job_policy p = {0};
    struct job_spec s;
    struct api_error e;
    json_t *j;
    char *text;

    if (job_spec_parse(body, strlen(body), &p, &s, &e) < 0) {
        tap_ok(t, 0, "job_spec_parse: %s", e.message);
        return;
    }
    j = results_spec_summary(&s);
    text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    tap_ok(t, text && !strstr(text, "secret"), "the summary never holds the source: %s",
           text ? text : "(null)");
    tap_ok(t,
           j && json_integer_value(json_object_get(j, "nfiles")) == 1 &&
               json_integer_value(json_object_get(j, "source_bytes")) == 15 &&
               json_integer_value(json_object_get(j, "nargs")) == 2 &&
               json_integer_value(json_object_get(json_object_get(j, "limits"), "cpu_ms")) ==
                   1000 &&
               !strcmp(json_string_value(json_object_get(j, "language")), "python"),
           "summary: language, nfiles, source bytes, args count, limits");
    free(text);
    json_decref(j);
    job_spec_free(&s);
}

static void test_migrations(struct tap *t)
{
    struct migration bad[2];
    const struct migration *list;
    char *script = NULL;
    size_t n;

    list = migrations_list(&n);
    tap_ok(t,
           n >= 1 && migrations_check(list, n) == 0 && migrations_latest() == list[n - 1].version,
           "the shipped list is valid, latest %d", migrations_latest());
    tap_ok(t,
           strstr(list[0].sql, "runq_schema_migrations") &&
               strstr(list[0].sql, "CREATE TABLE jobs") &&
               strstr(list[0].sql, "(created_at DESC, id DESC)") &&
               strstr(list[0].sql, "(language, finished_at)"),
           "migration 1: the ledger, jobs, history and stats indexes");
    tap_ok(t, migrations_script(list, n, &script) == 0 && script, "script builds");
    tap_ok(t,
           script && strstr(script, "pg_advisory_xact_lock(") == script + 7 &&
               !strstr(script, "BEGIN;") && !strstr(script, "COMMIT"),
           "the script takes the lock first and leaves the transaction implicit");
    for (size_t i = 0; script && i < n; i++)
        tap_ok(t, strstr(script, list[i].sql) != NULL, "script holds migration %d",
               list[i].version);
    free(script);
    bad[0] = (struct migration){1, "one", "SELECT 1"};
    bad[1] = (struct migration){3, "gap", "SELECT 1"};
    tap_ok(t, migrations_check(bad, 2) == -EINVAL, "a version gap is refused");
    bad[1] = (struct migration){2, "Bad Name", "SELECT 1"};
    tap_ok(t, migrations_check(bad, 2) == -EINVAL, "a name outside [a-z0-9_] is refused");
    bad[1] = (struct migration){2, "two", "SELECT $runq_m$ x $runq_m$"};
    tap_ok(t,
           migrations_check(bad, 2) == -EINVAL && migrations_script(bad, 2, &script) == -EINVAL &&
               !script,
           "SQL holding the script's quote tag is refused");
    tap_ok(t, migrations_check(bad, 0) == -EINVAL, "an empty list is refused");
}

static void test_backoff(struct tap *t)
{
    struct db_backoff b = {.base_ms = 100, .max_ms = 5000}, zero = {0}, inv = {500, 100};
    uint64_t lo = UINT64_MAX, hi = 0;
    int grows = 1;

    tap_ok(t,
           db_backoff_delay_ms(&b, 0, 0) == 50 && db_backoff_delay_ms(&b, 0, 50) == 100 &&
               db_backoff_delay_ms(&b, 0, 51) == 50,
           "attempt 0: between base/2 and base");
    for (unsigned a = 0; a < 5; a++) /* 100 .. 3200: below the cap */
        grows &= db_backoff_delay_ms(&b, a + 1, 0) == 2 * db_backoff_delay_ms(&b, a, 0);
    tap_ok(t, grows, "the floor doubles per attempt");
    for (uint32_t r = 0; r < 20000; r += 7) {
        uint64_t d = db_backoff_delay_ms(&b, 40, r * 2654435761u);

        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    tap_ok(t, lo >= 2500 && hi <= 5000 && hi > lo, "capped: within [max/2, max] (%llu..%llu)",
           (unsigned long long)lo, (unsigned long long)hi);
    tap_ok(t, db_backoff_delay_ms(&b, UINT32_MAX, UINT32_MAX) <= 5000,
           "a huge attempt count does not overflow");
    tap_ok(t, db_backoff_delay_ms(&zero, 0, 0) == 50 && db_backoff_delay_ms(&zero, 99, 0) == 5000,
           "zero policy: defaults 100 ms .. 10 s");
    tap_ok(t, db_backoff_delay_ms(&inv, 3, 0) == 250, "max below base: base is the cap");
}

int main(void)
{
    struct tap t = {0};

    test_upsert(&t);
    test_batch(&t);
    test_history(&t);
    test_cursor(&t);
    test_stats_delete(&t);
    test_summary(&t);
    test_migrations(&t);
    test_backoff(&t);
    return tap_done(&t);
}
