/* SPDX-License-Identifier: MIT */
/* Unit tests of common/batch: a batch body becomes one validated job per submission with the
 * shared fields; errors name the submission's own field; the stored forms. */
#include <string.h>

#include "batch.h"
#include "tap.h"

static int parse(const char *body, size_t max, struct batch_spec *b, struct api_error *e)
{
    struct job_policy p = {.max_tests = 10};

    return batch_parse(body, strlen(body), &p, max, b, e);
}

static void test_good(struct tap *t)
{
    static const char body[] =
        "{\"language\": \"python\", \"priority\": \"low\", \"limits\": {\"cpu_ms\": 500}, "
        "\"tests\": [{\"stdin\": \"1\", \"expected_output\": \"1\"}], \"grading\": "
        "{\"stop_on_failure\": true}, \"submissions\": [{\"source\": \"a\"}, "
        "{\"name\": \"bob\", \"language\": \"c\", \"files\": [{\"name\": \"m.c\", "
        "\"content\": \"int main(){}\"}]}]}";
    struct batch_spec b;
    struct api_error e;
    json_t *j, *g;

    if (!tap_ok(t, parse(body, 0, &b, &e) == 0 && b.n == 2, "two submissions parse (%s)",
                e.message))
        return;
    tap_ok(t, !strcmp(b.jobs[0].name, "1") && !strcmp(b.jobs[1].name, "bob") &&
                  !strcmp(b.jobs[0].language, "python") && !strcmp(b.jobs[1].language, "c"),
           "names default to positions; a submission may name its own language");
    tap_ok(t, b.jobs[0].ntests == 1 && b.jobs[1].ntests == 1 && b.jobs[1].priority == 9 &&
                  b.jobs[1].limits.cpu_ms == 500 && b.jobs[1].grading.stop_on_failure,
           "each job gets the shared tests, priority, limits and grading");
    j = batch_job_json(&b, 1, "default.aaaaaaaaaaaaaaaaaaaaaaaaaa");
    tap_ok(t, j && !json_object_get(j, "tests") && !json_object_get(j, "checker") &&
                  !strcmp(json_string_value(json_object_get(j, "batch")),
                          "default.aaaaaaaaaaaaaaaaaaaaaaaaaa") &&
                  !strcmp(json_string_value(json_object_get(j, "name")), "bob"),
           "a job's stored form: no tests, its batch and name");
    {
        struct job_spec back;
        struct api_error e2;
        tap_ok(t, j && job_spec_from_json(j, &back, &e2) == 0 && back.batch && !back.ntests,
               "which reads back as a job of the batch (%s)", e2.message);
        if (j && back.language)
            job_spec_free(&back);
    }
    g = job_spec_graded_json(&b.jobs[0]);
    {
        struct job_spec back;
        struct api_error e3;
        memset(&back, 0, sizeof(back));
        tap_ok(t, g && json_array_size(json_object_get(g, "tests")) == 1 &&
                      job_spec_graded_from_json(g, &back, &e3) == 0 && back.ntests == 1 &&
                      back.grading.stop_on_failure,
               "the shared part round-trips: tests and grading");
        job_spec_free(&back);
    }
    json_decref(g);
    json_decref(j);
    batch_spec_free(&b);
}

static void expect_error(struct tap *t, const char *body, size_t max, int status,
                         const char *field, const char *what)
{
    struct batch_spec b;
    struct api_error e;
    int r = parse(body, max, &b, &e);

    tap_ok(t, r < 0 && e.status == status && !strcmp(e.field, field) && !b.jobs && !b.n,
           "%s: %d naming %s (got %d %s: %s)", what, status, field, e.status, e.field,
           e.message);
}

int main(void)
{
    struct tap t = {0};
    static const char tests[] = "\"tests\": [{\"stdin\": \"\", \"expected_output\": \"\"}]";
    char body[1024];

    test_good(&t);
    snprintf(body, sizeof(body), "{\"language\": \"python\", %s}", tests);
    expect_error(&t, body, 0, 400, "submissions", "no submissions");
    snprintf(body, sizeof(body), "{\"language\": \"python\", %s, \"submissions\": []}", tests);
    expect_error(&t, body, 0, 400, "submissions", "an empty list");
    expect_error(&t, "{\"language\": \"python\", \"submissions\": [{\"source\": \"1\"}]}", 0, 400,
                 "tests", "no tests");
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", %s, \"submissions\": [{\"source\": \"1\"}, "
             "{\"source\": \"1\", \"files\": []}]}", tests);
    expect_error(&t, body, 0, 400, "submissions[1].source", "source and files");
    snprintf(body, sizeof(body),
             "{%s, \"submissions\": [{\"source\": \"1\"}]}", tests);
    expect_error(&t, body, 0, 400, "submissions[0].language", "no language anywhere");
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", %s, \"submissions\": [{\"source\": \"1\", "
             "\"stdin\": \"x\"}]}", tests);
    expect_error(&t, body, 0, 400, "submissions[0].stdin", "an unknown submission key");
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", %s, \"submissions\": [{\"name\": \"a\\u0001\", "
             "\"source\": \"1\"}]}", tests);
    expect_error(&t, body, 0, 400, "submissions[0].name", "a control character in a name");
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", %s, \"submissions\": [{\"source\": \"1\"}, "
             "{\"source\": \"2\"}, {\"source\": \"3\"}]}", tests);
    expect_error(&t, body, 2, 413, "submissions", "more than max_submissions");
    snprintf(body, sizeof(body),
             "{\"language\": \"python\", \"tests\": [{\"stdin\": \"\", \"expected_output\": "
             "\"\", \"points\": -1}], \"submissions\": [{\"source\": \"1\"}]}");
    expect_error(&t, body, 0, 400, "tests[0].points", "a bad shared test names the test");
    expect_error(&t, "[1]", 0, 400, "", "not an object");
    return tap_done(&t);
}
