/* SPDX-License-Identifier: MIT */
/* Unit tests of common/job's batch grading fields: "tests", "checker", "grading" in the
 * request and in the canonical JSON (test_job.c covers the rest of the job). Request bodies
 * are written with ' for " (see jt_dq() in job_test_util.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "job_test_util.h"
#include "tap.h"

static const char *resolve(void *ctx, const char *name)
{
    if (strcmp(name, "py") == 0 || strcmp(name, "python") == 0)
        return "python";
    return strcmp(name, "c") == 0 ? "c" : NULL;
}

static struct job_policy policy(void)
{
    struct job_policy p = {.resolve_language = resolve};

    p.max_source_bytes = 100;
    p.max_stdin_bytes = 50;
    p.max_tests = 4;
    return p;
}

static int bytes_are(const unsigned char *d, size_t n, const char *want, size_t wn)
{
    return d && n == wn && memcmp(d, want, n) == 0;
}

/* A graded spec's round trip (a jt_same_fn): to_json of the spec read back equals j, and its
 * graded parts match. */
static int graded_same(const struct job_spec *s, const struct job_spec *r, const json_t *j)
{
    json_t *again = job_spec_to_json(r);
    int ok = again && json_equal(j, again) && r->ntests == s->ntests &&
             r->checker.opts.kind == s->checker.opts.kind &&
             r->checker.opts.abs_tol == s->checker.opts.abs_tol &&
             r->grading.scoring == s->grading.scoring &&
             r->grading.stop_on_failure == s->grading.stop_on_failure;

    for (size_t i = 0; ok && i < s->ntests; i++)
        ok = strcmp(r->tests[i].name, s->tests[i].name) == 0 &&
             r->tests[i].points == s->tests[i].points &&
             bytes_are(r->tests[i].expected, r->tests[i].expected_len,
                       (const char *)s->tests[i].expected, s->tests[i].expected_len) &&
             bytes_are(r->tests[i].stdin_data, r->tests[i].stdin_len,
                       (const char *)s->tests[i].stdin_data, s->tests[i].stdin_len);
    json_decref(again);
    return ok;
}

/* How much of a request body an assertion's name shows. */
#define DESC_WIDTH 70
#define JOB "{'language': 'c', 'source': 'x', "
#define T1 "'tests': [{'expected_output': '1'}]"

static void test_full(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;
    json_t *j;
    int r;

    r = jt_parse(&p,
                 JOB "'tests': [{'name': 'small', 'stdin': '1 2\\n', 'expected_output': '3\\n',"
                     " 'points': 2.5, 'group': 'easy'},"
                     " {'stdin': {'content': 'AP8A', 'encoding': 'base64'},"
                     " 'expected_output': {'content': 'a\\u0000b'}, 'group': 'easy'},"
                     " {'expected_output': {'content': 'eA==', 'encoding': 'base64'},"
                     " 'points': 7}],"
                     " 'checker': {'type': 'float', 'abs': 0.001},"
                     " 'grading': {'stop_on_failure': true, 'scoring': 'groups_min'}}",
                 &s, &e);
    if (!tap_ok(t, r == 0, "graded job accepted: %s", e.message))
        return;
    tap_ok(t,
           s.ntests == 3 && strcmp(s.tests[0].name, "small") == 0 &&
               strcmp(s.tests[1].name, "2") == 0 && strcmp(s.tests[2].name, "3") == 0,
           "names: given, else the position");
    tap_ok(t,
           bytes_are(s.tests[0].stdin_data, s.tests[0].stdin_len, "1 2\n", 4) &&
               bytes_are(s.tests[1].stdin_data, s.tests[1].stdin_len, "\0\xff\0", 3) &&
               bytes_are(s.tests[2].stdin_data, s.tests[2].stdin_len, "", 0),
           "stdin: string, base64 object, default empty");
    tap_ok(t,
           bytes_are(s.tests[0].expected, s.tests[0].expected_len, "3\n", 2) &&
               bytes_are(s.tests[1].expected, s.tests[1].expected_len, "a\0b", 3) &&
               bytes_are(s.tests[2].expected, s.tests[2].expected_len, "x", 1),
           "expected_output: string, utf8 object with NUL, base64 object");
    tap_ok(t,
           s.tests[0].points == 2.5 && s.tests[1].points == 1 && s.tests[2].points == 7 &&
               strcmp(s.tests[1].group, "easy") == 0 && s.tests[2].group == NULL,
           "points (default 1) and groups");
    tap_ok(t,
           s.checker.opts.kind == CHECKER_FLOAT && s.checker.opts.abs_tol == 0.001 &&
               s.checker.opts.rel_tol == 0 && s.grading.stop_on_failure &&
               s.grading.scoring == GRADE_SCORING_GROUPS_MIN && !s.has_stdin,
           "float with abs only (rel 0); grading");
    j = job_spec_to_json(&s);
    tap_ok(t,
           j && json_array_size(json_object_get(j, "tests")) == 3 &&
               strcmp(json_string_value(
                          json_object_get(json_array_get(json_object_get(j, "tests"), 1), "stdin")),
                      "AP8A") == 0 &&
               !json_object_get(json_array_get(json_object_get(j, "tests"), 2), "group") &&
               json_real_value(json_object_get(json_object_get(j, "checker"), "rel")) == 0 &&
               strcmp(json_string_value(json_object_get(json_object_get(j, "grading"), "scoring")),
                      "groups_min") == 0,
           "canonical: base64 test data, group only when set, both tolerances, grading");
    json_decref(j);
    tap_ok(t, jt_round_trip(&s, graded_same), "graded job round trip");
    job_spec_free(&s);
    tap_ok(t, jt_is_zero(&s), "job_spec_free zeroes a graded spec");
}

static void test_defaults(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;
    json_t *j;

    if (tap_ok(t, jt_parse(&p, JOB T1 "}", &s, &e) == 0, "minimal graded job")) {
        tap_ok(t,
               s.ntests == 1 && strcmp(s.tests[0].name, "1") == 0 && s.tests[0].points == 1 &&
                   !s.tests[0].group && s.tests[0].stdin_len == 0 && s.tests[0].stdin_data &&
                   s.checker.opts.kind == CHECKER_LINES && !s.checker.language &&
                   s.grading.scoring == GRADE_SCORING_SUM && !s.grading.stop_on_failure,
               "defaults: name 1, points 1, lines, sum, run all");
        j = job_spec_to_json(&s);
        tap_ok(t,
               j && json_object_size(json_object_get(j, "checker")) == 1 &&
                   json_is_false(json_object_get(json_object_get(j, "grading"), "stop_on_failure")),
               "canonical: {\"type\": \"lines\"}, stop_on_failure false");
        json_decref(j);
        tap_ok(t, jt_round_trip(&s, graded_same), "minimal graded job round trip");
        job_spec_free(&s);
    }
    if (tap_ok(t, jt_parse(&p, JOB T1 ", 'checker': 'float'}", &s, &e) == 0, "checker 'float'"))
        tap_ok(t,
               s.checker.opts.abs_tol == CHECKER_DEFAULT_ABS &&
                   s.checker.opts.rel_tol == CHECKER_DEFAULT_REL,
               "float without tolerances: both 1e-6");
    job_spec_free(&s);
    if (tap_ok(t, jt_parse(&p, JOB T1 ", 'checker': {'type': 'float', 'rel': 0}}", &s, &e) == 0,
               "float with rel 0 only"))
        tap_ok(t, s.checker.opts.abs_tol == 0 && s.checker.opts.rel_tol == 0,
               "one tolerance given: the other is 0");
    job_spec_free(&s);
    if (tap_ok(t, jt_parse(&p, JOB T1 ", 'checker': 'exact', 'grading': {}}", &s, &e) == 0,
               "'exact' and an empty grading object"))
        tap_ok(t, s.checker.opts.kind == CHECKER_EXACT && s.grading.scoring == GRADE_SCORING_SUM,
               "exact; grading defaults");
    job_spec_free(&s);
    if (tap_ok(t,
               jt_parse(&p,
                        JOB "'tests': [{'stdin': '5'}, {}], 'checker': {'type': 'custom',"
                            " 'language': 'py', 'source': 'import sys\\u0000'}}",
                        &s, &e) == 0,
               "custom checker: expected_output may be left out")) {
        tap_ok(t,
               s.checker.opts.kind == CHECKER_CUSTOM && strcmp(s.checker.language, "python") == 0 &&
                   bytes_are(s.checker.source, s.checker.source_len, "import sys\0", 11) &&
                   s.tests[1].expected_len == 0 && s.tests[1].expected,
               "checker language resolved (py -> python), source with NUL kept");
        tap_ok(t, jt_round_trip(&s, graded_same), "custom checker round trip");
    }
    job_spec_free(&s);
}

#define INVALID 400, "invalid_field"
#define BIG 413, "payload_too_large"

static const struct jt_case requests[] = {
    {JOB "'stdin': '', " T1 "}", INVALID, "stdin"},
    {JOB "'checker': 'exact'}", INVALID, "checker"},
    {JOB "'grading': {}}", INVALID, "grading"},
    {JOB "'tests': {}}", INVALID, "tests"},
    {JOB "'tests': []}", INVALID, "tests"},
    {JOB "'tests': null}", INVALID, "tests"},
    {JOB "'tests': ['x']}", INVALID, "tests[0]"},
    {JOB "'tests': [{}]}", INVALID, "tests[0].expected_output"},
    {JOB "'tests': [{'expected_output': 1}]}", INVALID, "tests[0].expected_output"},
    {JOB "'tests': [{'expected_output': '', 'foo': 1}]}", INVALID, "tests[0].foo"},
    {JOB "'tests': [{'expected_output': ''}, {'expected_output': '', 'points': 0}]}", INVALID,
     "tests[1].points"},
    {JOB "'tests': [{'expected_output': '', 'points': -1}]}", INVALID, "tests[0].points"},
    {JOB "'tests': [{'expected_output': '', 'points': '1'}]}", INVALID, "tests[0].points"},
    {JOB "'tests': [{'expected_output': '', 'points': true}]}", INVALID, "tests[0].points"},
    {JOB "'tests': [{'expected_output': '', 'points': 1e10}]}", INVALID, "tests[0].points"},
    {JOB "'tests': [{'expected_output': '', 'points': 1e9}]}", 0, "", ""},
    {JOB "'tests': [{'expected_output': '', 'name': ''}]}", INVALID, "tests[0].name"},
    {JOB "'tests': [{'expected_output': '', 'name': 1}]}", INVALID, "tests[0].name"},
    {JOB "'tests': [{'expected_output': '', 'name': 'a\\nb'}]}", INVALID, "tests[0].name"},
    {JOB "'tests': [{'expected_output': '', 'name': 'a\\u0000b'}]}", INVALID, "tests[0].name"},
    {JOB "'tests': [{'expected_output': '', 'name': "
         "'12345678901234567890123456789012345678901234567890123456789012345'}]}",
     INVALID, "tests[0].name"},
    {JOB "'tests': [{'expected_output': '', 'name': "
         "'1234567890123456789012345678901234567890123456789012345678901234'}]}",
     0, "", ""},
    {JOB "'tests': [{'expected_output': '', 'name': 'a'}, {'expected_output': '', 'name': 'a'}]}",
     INVALID, "tests[1].name"},
    {JOB "'tests': [{'expected_output': '', 'name': '2'}, {'expected_output': ''}]}", INVALID,
     "tests[1].name"},
    {JOB "'tests': [{'expected_output': '', 'group': ''}]}", INVALID, "tests[0].group"},
    {JOB "'tests': [{'expected_output': '', 'group': null}]}", INVALID, "tests[0].group"},
    {JOB "'tests': [{'expected_output': '', 'stdin': 1}]}", INVALID, "tests[0].stdin"},
    {JOB "'tests': [{'expected_output': '', 'stdin': {}}]}", INVALID, "tests[0].stdin.content"},
    {JOB "'tests': [{'expected_output': '', 'stdin': {'content': 1}}]}", INVALID,
     "tests[0].stdin.content"},
    {JOB "'tests': [{'expected_output': '', 'stdin': {'content': '', 'encoding': 'hex'}}]}",
     INVALID, "tests[0].stdin.encoding"},
    {JOB "'tests': [{'expected_output': '', 'stdin': {'content': '', 'x': 1}}]}", INVALID,
     "tests[0].stdin.x"},
    {JOB "'tests': [{'expected_output': {'content': 'Zm9', 'encoding': 'base64'}}]}", INVALID,
     "tests[0].expected_output.content"},
    {JOB T1 ", 'checker': 'fuzzy'}", INVALID, "checker"},
    {JOB T1 ", 'checker': 1}", INVALID, "checker"},
    {JOB T1 ", 'checker': null}", INVALID, "checker"},
    {JOB T1 ", 'checker': 'custom'}", INVALID, "checker"},
    {JOB T1 ", 'checker': {}}", INVALID, "checker.type"},
    {JOB T1 ", 'checker': {'type': 'Lines'}}", INVALID, "checker.type"},
    {JOB T1 ", 'checker': {'type': 'lines', 'abs': 1}}", INVALID, "checker.abs"},
    {JOB T1 ", 'checker': {'type': 'float', 'abs': -1}}", INVALID, "checker.abs"},
    {JOB T1 ", 'checker': {'type': 'float', 'rel': '0.1'}}", INVALID, "checker.rel"},
    {JOB T1 ", 'checker': {'type': 'float', 'source': 'x'}}", INVALID, "checker.source"},
    {JOB T1 ", 'checker': {'type': 'custom', 'source': 'x'}}", INVALID, "checker.language"},
    {JOB T1 ", 'checker': {'type': 'custom', 'language': 'c'}}", INVALID, "checker.source"},
    {JOB T1 ", 'checker': {'type': 'custom', 'language': 'c', 'source': 1}}", INVALID,
     "checker.source"},
    {JOB T1 ", 'checker': {'type': 'custom', 'language': 'cobol', 'source': ''}}", 422,
     "unknown_language", "checker.language"},
    {JOB T1 ", 'checker': {'type': 'custom', 'language': '', 'source': ''}}", INVALID,
     "checker.language"},
    {JOB T1 ", 'grading': []}", INVALID, "grading"},
    {JOB T1 ", 'grading': {'scoring': 'max'}}", INVALID, "grading.scoring"},
    {JOB T1 ", 'grading': {'scoring': 1}}", INVALID, "grading.scoring"},
    {JOB T1 ", 'grading': {'stop_on_failure': 1}}", INVALID, "grading.stop_on_failure"},
    {JOB T1 ", 'grading': {'stop': true}}", INVALID, "grading.stop"},
    {JOB "'tests': [{}, {}, {}, {}], 'checker': {'type': 'custom', 'language': 'c', 'source': ''}}",
     0, "", ""},
    {JOB "'tests': [{}, {}, {}, {}, {}]}", BIG, "tests"},
};

/* head + n times c + tail, ' turned into "; 0 for acceptance. */
static void expect_sized(struct tap *t, const char *head, char c, size_t n, const char *tail,
                         int status, const char *field)
{
    struct job_policy p = policy();
    char *body = jt_repeat(head, c, n, tail);

    jt_expect(t, &p, body, status, status ? "payload_too_large" : "", field, DESC_WIDTH);
    free(body);
}

static void test_errors(struct tap *t)
{
    struct job_policy p = policy();

    jt_expect_cases(t, &p, requests, sizeof(requests) / sizeof(requests[0]), DESC_WIDTH);
    /* max_stdin_bytes 50 holds for each test's stdin and expected output on its own */
    expect_sized(t, JOB "'tests': [{'expected_output': '', 'stdin': '", 's', 50, "'}]}", 0, "");
    expect_sized(t, JOB "'tests': [{'expected_output': '', 'stdin': '", 's', 51, "'}]}", 413,
                 "tests[0].stdin");
    expect_sized(t,
                 JOB "'tests': [{'expected_output': '', 'stdin': '', 'name': 'a'}, "
                     "{'expected_output': '",
                 'e', 51, "'}]}", 413, "tests[1].expected_output");
    /* 68 base64 characters decode to 51 bytes: refused before decoding, so no 400 for '!' */
    expect_sized(t, JOB "'tests': [{'expected_output': {'encoding': 'base64', 'content': '", '!',
                 68, "'}}]}", 413, "tests[0].expected_output");
    /* 50 bytes each in 4 tests: the limit is per test, not a sum */
    jt_expect(t, &p,
              JOB "'tests': [{'stdin': '01234567890123456789012345678901234567890123456789'},"
                  " {'stdin': '01234567890123456789012345678901234567890123456789'}, {}, {}],"
                  " 'checker': {'type': 'custom', 'language': 'c', 'source': ''}}",
              0, "", "", DESC_WIDTH);
    /* the checker's source has max_source_bytes (100) of its own */
    expect_sized(t, JOB T1 ", 'checker': {'type': 'custom', 'language': 'c', 'source': '", 'x', 100,
                 "'}}", 0, "");
    expect_sized(t, JOB T1 ", 'checker': {'type': 'custom', 'language': 'c', 'source': '", 'x', 101,
                 "'}}", 413, "checker.source");
    p.max_tests = 0;
    jt_expect(t, &p,
              JOB "'tests': [{}, {}, {}, {}, {}, {}], 'checker': {'type': 'custom', "
                  "'language': 'c', 'source': ''}}",
              0, "", "", DESC_WIDTH);
}

/* A valid canonical graded job with `top` merged into it, `test0` merged into tests[0] and
 * the key `drop` removed ("x" at the top, "tests.x" from tests[0], "checker.x",
 * "grading.x"); field NULL: expect success, else a 400 naming field. */
static void expect_canon(struct tap *t, const char *top, const char *test0, const char *drop,
                         const char *field)
{
    json_t *j = jt_patched("{'version': 1, 'language': 'c', 'files': [{'name': 'a', 'data':"
                           " 'eA=='}], 'args': [], 'limits': {}, 'queue': 'q', 'priority': 5,"
                           " 'tests': [{'name': 't', 'stdin': 'eA==', 'expected_output': '', "
                           "'points': 1.5, 'group': 'g'}],"
                           " 'checker': {'type': 'float', 'abs': 0.5, 'rel': 0},"
                           " 'grading': {'stop_on_failure': false, 'scoring': 'sum'}}",
                           top, "tests", test0);
    json_t *in = j;
    struct job_spec s;
    struct api_error e;
    const char *dot = drop ? strchr(drop, '.') : NULL;
    int r, ok;

    if (dot && strncmp(drop, "tests.", 6) == 0)
        in = json_array_get(json_object_get(j, "tests"), 0);
    else if (dot)
        in = json_object_get(j, strncmp(drop, "checker.", 8) == 0 ? "checker" : "grading");
    if (drop)
        json_object_del(in, dot ? dot + 1 : drop);
    r = job_spec_from_json(j, &s, &e);
    ok = field ? r == -EINVAL && e.status == 400 && strcmp(e.field, field) == 0 && jt_is_zero(&s)
               : r == 0 && s.ntests == 1 && s.tests[0].points == 1.5 &&
                     (drop ? !s.tests[0].group : strcmp(s.tests[0].group, "g") == 0) &&
                     s.checker.opts.abs_tol == 0.5;
    if (!tap_ok(t, ok, "canonical graded: %s", field ? field : "the valid form is read"))
        tap_diag("r=%d %s \"%s\": %s", r, e.code, e.field, e.message);
    job_spec_free(&s);
    json_decref(j);
}

static void test_canonical(struct tap *t)
{
    expect_canon(t, NULL, NULL, NULL, NULL);
    expect_canon(t, NULL, NULL, "tests.group", NULL);
    expect_canon(t, NULL, NULL, "checker", "checker");
    expect_canon(t, NULL, NULL, "grading", "grading");
    expect_canon(t, "{'stdin': ''}", NULL, NULL, "stdin");
    expect_canon(t, "{'tests': []}", NULL, NULL, "tests");
    expect_canon(t, "{'checker': 'float'}", NULL, NULL, "checker");
    expect_canon(t, "{'checker': {'type': 'lines', 'abs': 0}}", NULL, NULL, "checker.abs");
    expect_canon(t, "{'checker': {'type': 'custom', 'source': ''}}", NULL, NULL,
                 "checker.language");
    expect_canon(t, NULL, NULL, "checker.rel", "checker.rel");
    expect_canon(t, NULL, NULL, "grading.scoring", "grading.scoring");
    expect_canon(t, NULL, NULL, "grading.stop_on_failure", "grading.stop_on_failure");
    expect_canon(t, NULL, NULL, "tests.name", "tests[0].name");
    expect_canon(t, NULL, NULL, "tests.points", "tests[0].points");
    expect_canon(t, NULL, NULL, "tests.stdin", "tests[0].stdin");
    expect_canon(t, NULL, NULL, "tests.expected_output", "tests[0].expected_output");
    expect_canon(t, NULL, "{'expected_output': '!!!!'}", NULL, "tests[0].expected_output");
    expect_canon(t, NULL, "{'stdin': 'x'}", NULL, "tests[0].stdin");
    expect_canon(t, NULL, "{'points': 0}", NULL, "tests[0].points");
    expect_canon(t, NULL, "{'content': ''}", NULL, "tests[0].content");
    /* without tests, checker and grading are stray keys */
    expect_canon(t, NULL, NULL, "tests", "checker");
}

int main(void)
{
    struct tap t = {0};

    test_full(&t);
    test_defaults(&t);
    test_errors(&t);
    test_canonical(&t);
    return tap_done(&t);
}
