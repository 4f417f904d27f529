/* SPDX-License-Identifier: MIT */
#include "grading.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"

#define MESSAGE_MAX 256 /* bytes of a custom checker's message kept per test */

int grading_init(struct grading *g, const struct job_spec *job)
{
    size_t i;

    memset(g, 0, sizeof(*g));
    if (!job->ntests)
        return -EINVAL;
    g->job = job;
    g->tests = calloc(job->ntests, sizeof(*g->tests));
    g->records = json_array();
    for (i = 0; g->tests && g->records && i < job->ntests; i++) {
        g->tests[i].group = job->tests[i].group;
        g->tests[i].points = job->tests[i].points;
        g->tests[i].verdict = GRADE_SK;
        if (json_array_append_new(g->records, json_null()) < 0)
            break;
    }
    if (!g->tests || !g->records || i < job->ntests) {
        grading_free(g);
        return -ENOMEM;
    }
    return 0;
}

void grading_free(struct grading *g)
{
    free(g->tests);
    json_decref(g->records);
    json_decref(g->pending);
    memset(g, 0, sizeof(*g));
}

long grading_next(struct grading *g)
{
    /* Tests left SK by stop on failure are passed over: grade_should_run reads only the
     * verdicts before the one it is asked about. */
    for (; g->next < g->job->ntests; g->next++)
        if (grade_should_run(g->tests, g->next, &g->job->grading))
            return (long)g->next;
    return -1;
}

static json_int_t int_field(const json_t *result, const char *key)
{
    return json_integer_value(json_object_get(result, key));
}

/* The record of test i from its run result (limits, exit) and its verdict. */
static void record(struct grading *g, size_t i, const json_t *run, json_t *extra)
{
    const struct job_test *t = &g->job->tests[i];
    struct grade_test *gt = &g->tests[i];
    const json_t *status = json_object_get(run, "status");
    json_t *r = json_pack("{s:s, s:f, s:f, s:s, s:O, s:I, s:I, s:I, s:O, s:O}", "name", t->name,
                          "points", t->points, "score", grade_test_earned(gt), "verdict",
                          grade_verdict_name(gt->verdict), "status",
                          status ? status : json_null(), "cpu_ms", int_field(run, "cpu_ms"),
                          "wall_ms", int_field(run, "wall_ms"), "memory_kb",
                          int_field(run, "memory_peak_kb"), "exit_code",
                          json_object_get(run, "exit_code") ? json_object_get(run, "exit_code")
                                                            : json_null(),
                          "signal",
                          json_object_get(run, "signal") ? json_object_get(run, "signal")
                                                         : json_null());

    if (r && t->group)
        json_object_set_new(r, "group", json_string(t->group));
    if (r && extra)
        json_object_update(r, extra);
    json_decref(extra);
    g->next = i + 1;
    if (r)
        json_array_set_new(g->records, i, r);
}

/* Expected and got around the first difference, for WA and PE. */
static json_t *excerpt(const struct job_test *t, const char *got, size_t glen,
                       const struct checker_outcome *o)
{
    struct checker_excerpt x;
    json_t *j;

    if (checker_excerpt(t->expected, t->expected_len, got, glen, o, 0, &x) < 0)
        return NULL;
    j = json_pack("{s:s#, s:s#, s:i}", "expected", x.expected, (int)x.expected_len, "got", x.got,
                  (int)x.got_len, "line", (int)o->line);
    checker_excerpt_free(&x);
    return j;
}

int grading_take_run(struct grading *g, size_t i, const json_t *run)
{
    const struct job_test *t = &g->job->tests[i];
    const char *status = json_string_value(json_object_get(run, "status"));
    const json_t *out = json_object_get(run, "stdout");
    struct checker_outcome o;
    json_t *extra = NULL;

    json_decref(g->pending);
    g->pending = NULL;
    if (status && strcmp(status, "ok") == 0 && json_is_string(out)) {
        if (g->job->checker.opts.kind == CHECKER_CUSTOM) {
            g->pending = json_incref((json_t *)run);
            return 1;
        }
        if (checker_compare(&g->job->checker.opts, t->expected, t->expected_len,
                            json_string_value(out), json_string_length(out), &o) < 0) {
            o.status = CHECKER_FAILED;
            o.fraction = 0;
        }
        g->tests[i].verdict = grade_test_verdict(status, &o);
        if (o.status == CHECKER_WRONG || o.status == CHECKER_PRESENTATION)
            extra = excerpt(t, json_string_value(out), json_string_length(out), &o);
    } else {
        g->tests[i].verdict = grade_test_verdict(status, NULL);
    }
    record(g, i, run, extra);
    return 0;
}

const char *grading_output(const struct grading *g, size_t *len)
{
    const json_t *out = json_object_get(g->pending, "stdout");

    *len = json_string_length(out);
    return json_string_value(out) ? json_string_value(out) : "";
}

void grading_take_check(struct grading *g, size_t i, const json_t *check)
{
    const char *status = json_string_value(json_object_get(check, "status"));
    const json_t *code = json_object_get(check, "exit_code");
    const char *err = json_string_value(json_object_get(check, "stderr"));
    const char *msg = err && *err ? err : json_string_value(json_object_get(check, "stdout"));
    struct checker_outcome o;
    size_t full = msg ? strlen(msg) : 0, len;
    json_t *extra;

    /* A checker ends ok or with its verdict as an exit code; any other end is its failure. */
    int ended = status && (!strcmp(status, "ok") || !strcmp(status, "runtime_error"));
    checker_testlib_outcome(json_is_integer(code) ? (int)json_integer_value(code) : -1, !ended,
                            msg ? msg : "", full, &o);
    g->tests[i].verdict = grade_test_verdict("ok", &o);
    g->tests[i].fraction = o.fraction;
    len = full < MESSAGE_MAX ? full : MESSAGE_MAX;
    while (len > 0 && len < full && (msg[len] & 0xc0) == 0x80)
        len--; /* cut on a UTF-8 boundary */
    extra = json_pack("{s:s#}", "checker_message", msg ? msg : "", (int)len);
    record(g, i, g->pending ? g->pending : check, extra);
    json_decref(g->pending);
    g->pending = NULL;
}

void grading_compile_error(struct grading *g)
{
    size_t i;

    for (i = 0; i < g->job->ntests; i++)
        g->tests[i].verdict = GRADE_CE;
    g->next = g->job->ntests;
}

json_t *grading_event(const struct grading *g, const char *id, size_t i)
{
    const struct grade_test *gt = &g->tests[i];

    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:f, s:f, s:I}", "id", id, "event", "test",
                     "index", (json_int_t)i, "name", g->job->tests[i].name, "verdict",
                     grade_verdict_name(gt->verdict), "score", grade_test_earned(gt), "points",
                     gt->points, "cpu_ms",
                     int_field(json_array_get(g->records, i), "cpu_ms"));
}

static json_t *summary_json(const struct grade_summary *s)
{
    json_t *counts = json_object(), *groups = json_array();
    size_t i;

    for (i = 0; counts && i < GRADE_VERDICT_COUNT; i++)
        if (s->counts[i])
            json_object_set_new(counts, grade_verdict_name((enum grade_verdict)i),
                                json_integer((json_int_t)s->counts[i]));
    for (i = 0; groups && i < s->ngroups; i++)
        json_array_append_new(groups,
                              json_pack("{s:o, s:I, s:f, s:f, s:s}", "name",
                                        s->groups[i].name ? json_string(s->groups[i].name)
                                                          : json_null(),
                                        "tests", (json_int_t)s->groups[i].ntests, "score",
                                        s->groups[i].score, "max_score", s->groups[i].max_score,
                                        "verdict", grade_verdict_name(s->groups[i].verdict)));
    return json_pack("{s:s, s:f, s:f, s:o, s:o}", "verdict", grade_verdict_name(s->verdict),
                     "score", s->score, "max_score", s->max_score, "counts", counts, "groups",
                     groups);
}

json_t *grading_result(struct grading *g, json_t *compile)
{
    struct grade_summary s;
    json_t *r = NULL;
    size_t i;

    for (i = 0; i < g->job->ntests; i++) {
        if (!json_is_null(json_array_get(g->records, i)))
            continue;
        json_t *rec = json_pack("{s:s, s:f, s:f, s:s}", "name", g->job->tests[i].name, "points",
                                g->tests[i].points, "score", 0.0, "verdict",
                                grade_verdict_name(g->tests[i].verdict));
        if (rec && g->job->tests[i].group) /* like the records of tests that ran */
            json_object_set_new(rec, "group", json_string(g->job->tests[i].group));
        json_array_set_new(g->records, i, rec);
    }
    if (grade_summarize(g->tests, g->job->ntests, &g->job->grading, &s) == 0) {
        r = summary_json(&s);
        if (r) {
            json_object_set_new(r, "status",
                                json_string(s.verdict == GRADE_CE ? "compile_error" : "ok"));
            json_object_set(r, "tests", g->records);
        }
        grade_summary_free(&s);
    }
    if (r && compile)
        json_object_set_new(r, "compile", compile);
    else
        json_decref(compile);
    return r;
}
