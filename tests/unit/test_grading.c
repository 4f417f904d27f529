/* SPDX-License-Identifier: MIT */
/* Unit tests of worker/grading: the bookkeeping of a graded job fed plain JSON sandbox results
 * (the shape runq-sandbox answers) for jobs parsed from request bodies: verdicts and records
 * per test (with the WA/PE excerpt), stop on failure under both scorings through
 * grading_next, the custom checker path (its exit codes, partial points, its message cut on
 * a UTF-8 boundary), compile errors, the final result and the test events. Request bodies
 * are written with ' for " (see dq()). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grading.h"
#include "tap.h"

/* A job parsed from a body with ' for "; 0 or what job_spec_parse returned. */
static int parse(const char *sq, struct job_spec *s)
{
    struct job_policy p;
    struct api_error e;
    char *body = strdup(sq), *c;
    int r;

    memset(&p, 0, sizeof(p)); /* no maxima; names taken as given */
    for (c = body; c && *c; c++)
        if (*c == '\'')
            *c = '"';
    r = body ? job_spec_parse(body, strlen(body), &p, s, &e) : -ENOMEM;
    if (r < 0)
        tap_diag("parse: %s \"%s\": %s", e.code, e.field, e.message);
    free(body);
    return r;
}

/* A run result as the sandbox answers it; exit_code < 0 and signal 0 are JSON null. */
static json_t *run(const char *status, const char *out, json_int_t cpu, int exit_code, int sig)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "status", status, "stdout", out,
                     "cpu_ms", cpu, "wall_ms", cpu + 5, "memory_peak_kb", (json_int_t)4096,
                     "exit_code", exit_code >= 0 ? json_integer(exit_code) : json_null(),
                     "signal", sig ? json_integer(sig) : json_null());
}

/* A custom checker's run result: verdict as exit code, message on stderr (or stdout). */
static json_t *check(const char *status, int exit_code, const char *out, const char *err)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "status", status, "stdout",
                     out, "stderr", err, "cpu_ms", (json_int_t)99, "wall_ms", (json_int_t)99,
                     "memory_peak_kb", (json_int_t)1, "exit_code",
                     exit_code >= 0 ? json_integer(exit_code) : json_null(), "signal",
                     exit_code >= 0 ? json_null() : json_integer(9));
}

static int str_is(const json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s && strcmp(s, want) == 0;
}

static int int_is(const json_t *o, const char *key, json_int_t want)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) == want;
}

static int num_is(const json_t *o, const char *key, double want)
{
    const json_t *v = json_object_get(o, key);
    double d = json_number_value(v);

    return json_is_number(v) && d - want < 1e-9 && want - d < 1e-9;
}

static const json_t *rec(const struct grading *g, size_t i)
{
    return json_array_get(g->records, i);
}

static const char *verdict(const struct grading *g, size_t i)
{
    const char *v = json_string_value(json_object_get(rec(g, i), "verdict"));

    return v ? v : "(none)";
}

/* Feeds test i its run result (stolen); returns what grading_take_run did. */
static int take(struct grading *g, size_t i, json_t *r)
{
    int n = grading_take_run(g, i, r);

    json_decref(r);
    return n;
}

static int take_check(struct grading *g, size_t i, json_t *c)
{
    grading_take_check(g, i, c);
    json_decref(c);
    return 0;
}

/* One test per run status, exact checker (PE needs it), every test run. */
static void test_mapping(struct tap *t)
{
    static const struct {
        const char *status, *out, *verdict;
    } cases[] = {
        {"ok", "1\n2\n3\n", "AC"},          {"ok", "1\n5\n3\n", "WA"},
        {"ok", "1\n2\n3", "PE"},            {"time_limit", "1\n", "TLE"},
        {"memory_limit", "", "MLE"},        {"runtime_error", "1\n2\n3\n", "RE"},
        {"signaled", "", "RE"},             {"output_limit", "1\n2\n3\n", "OLE"},
        {"security_violation", "", "SV"},   {"internal_error", "", "IE"},
        {"no_such_status", "1\n2\n3\n", "IE"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]), i;
    char body[4096] = "{'language': 'c', 'source': 'x', 'checker': 'exact', 'tests': [";
    struct job_spec s;
    struct grading g;
    json_t *r, *res;
    int ok;

    /* The first test is worth 2, the others 1; two more tests for the odd results below. */
    strcat(body, "{'expected_output': '1\\n2\\n3\\n', 'points': 2}");
    for (i = 1; i < n + 2; i++)
        strcat(body, ", {'expected_output': '1\\n2\\n3\\n'}");
    strcat(body, "]}");
    if (!tap_ok(t, parse(body, &s) == 0 && s.ntests == n + 2, "mapping job parses"))
        return;
    tap_ok(t, grading_init(&g, &s) == 0, "grading_init");
    for (i = 0; i < n; i++) {
        tap_ok(t, grading_next(&g) == (long)i, "next is test %zu", i);
        ok = take(&g, i, run(cases[i].status, cases[i].out, 10 + (json_int_t)i,
                             i == 5 ? 3 : i == 6 ? -1 : 0, i == 6 ? 11 : 0)) == 0;
        if (!tap_ok(t, ok && strcmp(verdict(&g, i), cases[i].verdict) == 0,
                    "%s -> %s", cases[i].status, cases[i].verdict))
            tap_diag("got %s", verdict(&g, i));
    }
    /* ok without a stdout string, and without a status at all: our bug, not theirs. */
    r = run("ok", "", 1, 0, 0);
    json_object_del(r, "stdout");
    tap_ok(t, take(&g, n, r) == 0 && strcmp(verdict(&g, n), "IE") == 0, "ok without stdout: IE");
    r = run("ok", "1\n2\n3\n", 1, 0, 0);
    json_object_del(r, "status");
    tap_ok(t, take(&g, n + 1, r) == 0 && strcmp(verdict(&g, n + 1), "IE") == 0 &&
                  json_is_null(json_object_get(rec(&g, n + 1), "status")),
           "no status: IE, status null in the record");

    r = (json_t *)rec(&g, 0);
    tap_ok(t, str_is(r, "name", "1") && num_is(r, "points", 2) && num_is(r, "score", 2) &&
                  str_is(r, "status", "ok") && int_is(r, "cpu_ms", 10) &&
                  int_is(r, "wall_ms", 15) && int_is(r, "memory_kb", 4096) &&
                  int_is(r, "exit_code", 0) && json_is_null(json_object_get(r, "signal")) &&
                  !json_object_get(r, "group") && !json_object_get(r, "expected"),
           "AC record: name, points, score, status, cpu/wall/memory, exit, no excerpt");
    r = (json_t *)rec(&g, 1);
    tap_ok(t, str_is(r, "expected", "2\n") && str_is(r, "got", "5\n") && int_is(r, "line", 2) &&
                  num_is(r, "score", 0) && num_is(r, "points", 1),
           "WA record: the differing line of each side, line 2, score 0");
    r = grading_event(&g, "default.7", 1);
    tap_ok(t, r && str_is(r, "id", "default.7") && str_is(r, "event", "test") &&
                  int_is(r, "index", 1) && str_is(r, "name", "2") && str_is(r, "verdict", "WA") &&
                  num_is(r, "score", 0) && num_is(r, "points", 1) && int_is(r, "cpu_ms", 11),
           "WA event: index 1, name 2, score 0 of 1, the run's cpu_ms");
    json_decref(r);
    r = (json_t *)rec(&g, 2);
    tap_ok(t, str_is(r, "expected", "3\n") && str_is(r, "got", "3") && int_is(r, "line", 3),
           "PE record: the missing final newline shows in the excerpt");
    r = (json_t *)rec(&g, 5);
    tap_ok(t, str_is(r, "status", "runtime_error") && int_is(r, "exit_code", 3) &&
                  !json_object_get(r, "expected") && !json_object_get(r, "got"),
           "RE record: exit code kept, no excerpt (the output is not compared)");
    r = (json_t *)rec(&g, 6);
    tap_ok(t, json_is_null(json_object_get(r, "exit_code")) && int_is(r, "signal", 11),
           "signaled record: exit null, signal 11");
    tap_ok(t, grading_next(&g) == -1 && grading_next(&g) == -1, "every test ran: next -1, twice");

    res = grading_result(&g, NULL);
    ok = res && str_is(res, "status", "ok") && str_is(res, "verdict", "WA") &&
         num_is(res, "score", 2) && num_is(res, "max_score", (double)n + 3) &&
         !json_object_get(res, "compile") &&
         json_array_size(json_object_get(res, "tests")) == n + 2 &&
         str_is(json_array_get(json_object_get(res, "tests"), 1), "got", "5\n");
    tap_ok(t, ok, "result: ok, the first failure's verdict, score 2 of %zu, the records", n + 3);
    r = json_object_get(res, "counts");
    tap_ok(t, int_is(r, "AC", 1) && int_is(r, "WA", 1) && int_is(r, "PE", 1) &&
                  int_is(r, "TLE", 1) && int_is(r, "MLE", 1) && int_is(r, "RE", 2) &&
                  int_is(r, "OLE", 1) && int_is(r, "SV", 1) && int_is(r, "IE", 4) &&
                  !json_object_get(r, "SK") && json_object_size(r) == 9,
           "counts per verdict, none for absent verdicts");
    json_decref(res);
    grading_free(&g);
    job_spec_free(&s);
}

/* Stop on failure with sum: everything after the first failure is skipped. */
static void test_stop_sum(struct tap *t)
{
    static const char body[] =
        "{'language': 'c', 'source': 'x', 'grading': {'stop_on_failure': true}, 'tests': ["
        "{'expected_output': '1'}, {'expected_output': '2', 'points': 3}, "
        "{'name': 'third', 'expected_output': '3'}, {'expected_output': '4', 'points': 5}]}";
    struct job_spec s;
    struct grading g;
    json_t *r, *tests;

    if (!tap_ok(t, parse(body, &s) == 0, "stop/sum job parses"))
        return;
    grading_init(&g, &s);
    tap_ok(t, grading_next(&g) == 0 && take(&g, 0, run("ok", "1\n", 5, 0, 0)) == 0 &&
                  grading_next(&g) == 1,
           "AC: the next test runs");
    take(&g, 1, run("ok", "7\n", 5, 0, 0));
    tap_ok(t, grading_next(&g) == -1, "after a WA, stop on failure ends grading");
    r = grading_result(&g, NULL);
    tests = json_object_get(r, "tests");
    tap_ok(t, r && str_is(r, "verdict", "WA") && num_is(r, "score", 1) &&
                  num_is(r, "max_score", 10) && json_array_size(tests) == 4,
           "result: WA, 1 of 10, four records");
    tap_ok(t, str_is(json_array_get(tests, 2), "verdict", "SK") &&
                  str_is(json_array_get(tests, 2), "name", "third") &&
                  num_is(json_array_get(tests, 2), "score", 0) &&
                  str_is(json_array_get(tests, 3), "verdict", "SK") &&
                  num_is(json_array_get(tests, 3), "points", 5) &&
                  !json_object_get(json_array_get(tests, 3), "cpu_ms"),
           "the rest are SK records: name, points, score 0, no run fields");
    tap_ok(t, int_is(json_object_get(r, "counts"), "SK", 2) &&
                  int_is(json_object_get(r, "counts"), "AC", 1) &&
                  json_array_size(json_object_get(r, "groups")) == 4,
           "counts SK 2; every ungrouped test is a group of its own");
    json_decref(r);
    grading_free(&g);
    job_spec_free(&s);

    /* The same without stop on failure: the WA does not end anything. */
    if (parse("{'language': 'c', 'source': 'x', 'tests': [{'expected_output': '1'}, "
              "{'expected_output': '2'}, {'expected_output': '3'}]}", &s) < 0)
        return;
    grading_init(&g, &s);
    grading_next(&g);
    take(&g, 0, run("ok", "0\n", 5, 0, 0));
    tap_ok(t, grading_next(&g) == 1, "without stop on failure the test after a WA runs");
    r = grading_result(&g, NULL);
    tap_ok(t, r && str_is(json_array_get(json_object_get(r, "tests"), 1), "verdict", "SK") &&
                  str_is(json_array_get(json_object_get(r, "tests"), 2), "verdict", "SK"),
           "a result taken early records the tests never run as SK");
    json_decref(r);
    grading_free(&g);
    job_spec_free(&s);
}

/* Stop on failure with groups_min: only the failed group's remaining tests are skipped. */
static void test_stop_groups(struct tap *t)
{
    static const char body[] =
        "{'language': 'c', 'source': 'x', 'grading': {'stop_on_failure': true, 'scoring': "
        "'groups_min'}, 'tests': [{'expected_output': '1', 'group': 'a'}, "
        "{'expected_output': '2', 'group': 'a'}, {'expected_output': '3', 'group': 'b', "
        "'points': 2}, {'expected_output': '4', 'group': 'a'}, {'expected_output': '5', "
        "'group': 'b', 'points': 2}, {'expected_output': '6'}]}";
    struct job_spec s;
    struct grading g;
    json_t *r, *groups, *tests;

    if (!tap_ok(t, parse(body, &s) == 0, "stop/groups_min job parses"))
        return;
    grading_init(&g, &s);
    grading_next(&g);
    take(&g, 0, run("time_limit", "", 1000, -1, 9));
    tap_ok(t, grading_next(&g) == 2, "a's TLE skips a's next test: b runs");
    take(&g, 2, run("ok", "3\n", 5, 0, 0));
    tap_ok(t, grading_next(&g) == 4, "a's third test is skipped too, b's second runs");
    take(&g, 4, run("ok", "5\n", 5, 0, 0));
    tap_ok(t, grading_next(&g) == 5, "the ungrouped test runs");
    take(&g, 5, run("ok", "6\n", 5, 0, 0));
    tap_ok(t, grading_next(&g) == -1, "then grading is over");
    r = grading_result(&g, NULL);
    groups = json_object_get(r, "groups");
    tests = json_object_get(r, "tests");
    tap_ok(t, r && str_is(r, "verdict", "TLE") && num_is(r, "score", 5) &&
                  num_is(r, "max_score", 8),
           "result: TLE (the first failure), 5 of 8");
    tap_ok(t, json_array_size(groups) == 3 && str_is(json_array_get(groups, 0), "name", "a") &&
                  int_is(json_array_get(groups, 0), "tests", 3) &&
                  num_is(json_array_get(groups, 0), "score", 0) &&
                  num_is(json_array_get(groups, 0), "max_score", 3) &&
                  str_is(json_array_get(groups, 0), "verdict", "TLE"),
           "group a: 3 tests, 0 of 3, TLE");
    tap_ok(t, str_is(json_array_get(groups, 1), "name", "b") &&
                  num_is(json_array_get(groups, 1), "score", 4) &&
                  str_is(json_array_get(groups, 1), "verdict", "AC") &&
                  json_is_null(json_object_get(json_array_get(groups, 2), "name")) &&
                  num_is(json_array_get(groups, 2), "score", 1),
           "group b: 4 of 4 AC; the ungrouped test: name null, 1");
    tap_ok(t, str_is(json_array_get(tests, 1), "verdict", "SK") &&
                  str_is(json_array_get(tests, 3), "verdict", "SK") &&
                  !json_object_get(json_array_get(tests, 3), "cpu_ms") &&
                  str_is(json_array_get(tests, 2), "group", "b") &&
                  str_is(json_array_get(tests, 4), "verdict", "AC"),
           "records: a's rest SK (no run fields), b's tests carry their group");
    json_decref(r);
    grading_free(&g);
    job_spec_free(&s);
}

/* The custom checker path: the run hands over, the checker's exit code decides. */
static void test_custom(struct tap *t)
{
    static const char body[] =
        "{'language': 'c', 'source': 'x', 'checker': {'type': 'custom', 'source': 'chk', "
        "'language': 'python'}, 'tests': [{'stdin': 'in', 'expected_output': 'ans'}, {}, {}, "
        "{'points': 2}, {}, {}, {}, {}, {}]}";
    char long_msg[400];
    struct job_spec s;
    struct grading g;
    json_t *r, *ev;
    const char *out;
    size_t len;

    if (!tap_ok(t, parse(body, &s) == 0, "custom checker job parses"))
        return;
    grading_init(&g, &s);
    r = run("ok", "", 11, 0, 0);
    json_object_set_new(r, "stdout", json_stringn("out\0put", 7));
    tap_ok(t, take(&g, 0, r) == 1 && json_is_null(rec(&g, 0)), "an ok run goes to the checker");
    out = grading_output(&g, &len);
    tap_ok(t, len == 7 && memcmp(out, "out\0put", 7) == 0,
           "grading_output: the program's stdout, NUL bytes and all");
    take_check(&g, 0, check("ok", 0, "", "ok fine"));
    r = (json_t *)rec(&g, 0);
    tap_ok(t, strcmp(verdict(&g, 0), "AC") == 0 && str_is(r, "checker_message", "ok fine") &&
                  int_is(r, "cpu_ms", 11) && str_is(r, "status", "ok") && num_is(r, "score", 1),
           "exit 0: AC; the record has the program's run and the checker's message");
    tap_ok(t, grading_next(&g) == 1, "next after the check");

    take(&g, 1, run("ok", "x", 1, 0, 0));
    take_check(&g, 1, check("runtime_error", 1, "", "wrong"));
    take(&g, 2, run("ok", "x", 1, 0, 0));
    take_check(&g, 2, check("runtime_error", 2, "", "spaces"));
    tap_ok(t, strcmp(verdict(&g, 1), "WA") == 0 && strcmp(verdict(&g, 2), "PE") == 0,
           "exit 1: WA, exit 2: PE");
    take(&g, 3, run("ok", "x", 1, 0, 0));
    take_check(&g, 3, check("runtime_error", 7, "", "points 0.25\n"));
    tap_ok(t, strcmp(verdict(&g, 3), "PA") == 0 && num_is(rec(&g, 3), "score", 0.5) &&
                  num_is(rec(&g, 3), "points", 2),
           "exit 7 with points 0.25: PA, 0.25 x 2 points");
    ev = grading_event(&g, "q.job1", 3);
    tap_ok(t, ev && str_is(ev, "id", "q.job1") && str_is(ev, "event", "test") &&
                  int_is(ev, "index", 3) && str_is(ev, "name", "4") &&
                  str_is(ev, "verdict", "PA") && num_is(ev, "score", 0.5) &&
                  num_is(ev, "points", 2) && int_is(ev, "cpu_ms", 1) && json_object_size(ev) == 8,
           "grading_event: id, event, index, name, verdict, score, points, cpu_ms");
    json_decref(ev);
    take(&g, 4, run("ok", "x", 1, 0, 0));
    take_check(&g, 4, check("runtime_error", 3, "", "checker failed"));
    take(&g, 5, run("ok", "x", 1, 0, 0));
    take_check(&g, 5, check("time_limit", 0, "", ""));
    tap_ok(t, strcmp(verdict(&g, 4), "IE") == 0 && strcmp(verdict(&g, 5), "IE") == 0,
           "exit 3: IE; a checker out of time: IE (whatever its exit code says)");
    take(&g, 6, run("ok", "x", 1, 0, 0));
    take_check(&g, 6, check("ok", 0, "from stdout", ""));
    tap_ok(t, str_is(rec(&g, 6), "checker_message", "from stdout"),
           "an empty stderr: the message is the checker's stdout");

    memset(long_msg, 'a', 255);
    memcpy(long_msg + 255, "\xc3\xa9", 2); /* bytes 255 and 256: cut inside it */
    memset(long_msg + 257, 'b', 50);
    long_msg[307] = '\0';
    take(&g, 7, run("ok", "x", 1, 0, 0));
    take_check(&g, 7, check("runtime_error", 1, "", long_msg));
    out = json_string_value(json_object_get(rec(&g, 7), "checker_message"));
    tap_ok(t, out && strlen(out) == 255 && strspn(out, "a") == 255,
           "a message cut at 256 bytes inside a character keeps 255");
    memset(long_msg, 'c', 300);
    long_msg[300] = '\0';
    take(&g, 8, run("time_limit", "", 2000, -1, 9));
    tap_ok(t, strcmp(verdict(&g, 8), "TLE") == 0 &&
                  !json_object_get(rec(&g, 8), "checker_message"),
           "a run that did not end ok is judged without the checker");
    grading_free(&g);
    job_spec_free(&s);

    if (parse("{'language': 'c', 'source': 'x', 'checker': {'type': 'custom', 'source': 'c', "
              "'language': 'c'}, 'tests': [{}]}", &s) < 0)
        return;
    grading_init(&g, &s);
    take(&g, 0, run("ok", "x", 1, 0, 0));
    take_check(&g, 0, check("runtime_error", 1, "", long_msg));
    out = json_string_value(json_object_get(rec(&g, 0), "checker_message"));
    tap_ok(t, out && strlen(out) == 256 && strspn(out, "c") == 256,
           "an ASCII message is cut at 256 bytes");
    r = grading_result(&g, NULL);
    tap_ok(t, r && str_is(r, "verdict", "WA") && num_is(r, "score", 0), "custom WA job result");
    json_decref(r);
    grading_free(&g);
    job_spec_free(&s);
}

static void test_compile_error(struct tap *t)
{
    static const char body[] =
        "{'language': 'c', 'source': 'x', 'tests': [{'expected_output': '1', 'points': 2}, "
        "{'expected_output': '2', 'group': 'g'}, {'expected_output': '3', 'group': 'g'}]}";
    struct job_spec s;
    struct grading g;
    json_t *r, *tests, *compile;
    size_t i;
    int ok = 1;

    if (!tap_ok(t, parse(body, &s) == 0, "compile error job parses"))
        return;
    grading_init(&g, &s);
    grading_compile_error(&g);
    tap_ok(t, grading_next(&g) == -1, "after a compile error nothing runs");
    compile = json_pack("{s:s, s:s}", "status", "runtime_error", "stderr", "main.c: error");
    r = grading_result(&g, compile);
    tests = json_object_get(r, "tests");
    for (i = 0; i < 3; i++)
        ok = ok && str_is(json_array_get(tests, i), "verdict", "CE") &&
             num_is(json_array_get(tests, i), "score", 0);
    tap_ok(t, ok && json_array_size(tests) == 3, "every test CE, score 0");
    tap_ok(t, r && str_is(r, "status", "compile_error") && str_is(r, "verdict", "CE") &&
                  num_is(r, "score", 0) && num_is(r, "max_score", 4) &&
                  int_is(json_object_get(r, "counts"), "CE", 3) &&
                  json_object_size(json_object_get(r, "counts")) == 1,
           "result: status compile_error, CE, 0 of 4, counts CE 3");
    tap_ok(t, json_object_get(r, "compile") == compile &&
                  str_is(compile, "stderr", "main.c: error") &&
                  json_array_size(json_object_get(r, "groups")) == 2,
           "the compile result is kept (stolen); two groups");
    json_decref(r);
    grading_free(&g);
    job_spec_free(&s);
}

int main(void)
{
    struct tap t = {0};
    struct job_spec plain;
    struct grading g;

    memset(&plain, 0, sizeof(plain));
    tap_ok(&t, grading_init(&g, &plain) == -EINVAL, "grading_init: a job without tests is -EINVAL");
    test_mapping(&t);
    test_stop_sum(&t);
    test_stop_groups(&t);
    test_custom(&t);
    test_compile_error(&t);
    return tap_done(&t);
}
