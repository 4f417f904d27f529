/* SPDX-License-Identifier: MIT */
/* job_graded: the graded part of a job ("tests", "checker", "grading") read from a request or
 * from the stored form, and written back; see job.h for the rules and job_graded.h. */
#include "job_graded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job_field.h"

static const char *const test_keys[] = {"name",   "stdin", "expected_output",
                                        "points", "group", NULL};

/* tests[i]: p NULL for the canonical form (base64 data, every key but "group" required). */
static int parse_test(const json_t *v, size_t i, const struct job_policy *p, int need_expected,
                      struct job_test *t, struct api_error *e)
{
    static const char *const data_keys[] = {"stdin", "expected_output"};
    unsigned char **data[] = {&t->stdin_data, &t->expected};
    size_t *lens[] = {&t->stdin_len, &t->expected_len}, k;
    char pre[32], f[64];
    int r;

    snprintf(pre, sizeof(pre), "tests[%zu]", i);
    if (!json_is_object(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, pre, "\"%s\" must be an object", pre);
    snprintf(pre, sizeof(pre), "tests[%zu].", i);
    if ((r = job_field_check_keys(v, test_keys, pre, e)) < 0 ||
        (r = job_field_test_meta(v, pre, i, p, t, e)) < 0)
        return r;
    for (k = 0; k < 2; k++) {
        const json_t *x = json_object_get(v, data_keys[k]);

        snprintf(f, sizeof(f), "%s%s", pre, data_keys[k]);
        if (!x && (!p || (k == 1 && need_expected)) && !job_field_need(v, data_keys[k], f, e))
            return -EINVAL;
        if (!x)
            r = (*data[k] = job_field_dup("", 0)) ? 0 : job_field_nomem(e);
        else if (!p)
            r = job_field_base64(x, f, data[k], lens[k], e);
        else
            r = job_field_content(x, f, p->max_stdin_bytes, data[k], lens[k], e);
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_tests(const json_t *v, const struct job_policy *p, struct job_spec *out,
                       struct api_error *e)
{
    size_t i, n = json_array_size(v);
    int r;

    if (!json_is_array(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "tests", "\"tests\" must be an array");
    if (n == 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, "tests",
                              "\"tests\" must hold at least one test");
    if (p && p->max_tests && n > p->max_tests)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "tests", "%zu tests, the maximum is %zu", n,
                              p->max_tests);
    if (!(out->tests = calloc(n, sizeof(*out->tests))))
        return job_field_nomem(e);
    out->ntests = n;
    for (i = 0; i < n; i++)
        if ((r = parse_test(json_array_get(v, i), i, p, out->checker.opts.kind != CHECKER_CUSTOM,
                            &out->tests[i], e)) < 0)
            return r;
    return job_field_unique_tests(out, e);
}

/* *out from "grading"; with p (the request), a key left out keeps the value *out has. */
static int parse_grading(const json_t *v, const struct job_policy *p, struct grade_options *out,
                         struct api_error *e)
{
    static const char *const keys[] = {"stop_on_failure", "scoring", NULL};
    const json_t *x;
    const char *s;
    int r;

    if (!json_is_object(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "grading", "\"grading\" must be an object");
    if ((r = job_field_check_keys(v, keys, "grading.", e)) < 0)
        return r;
    if (!p && (!job_field_need(v, "stop_on_failure", "grading.stop_on_failure", e) ||
               !job_field_need(v, "scoring", "grading.scoring", e)))
        return -EINVAL;
    if ((x = json_object_get(v, "stop_on_failure"))) {
        if (!json_is_boolean(x))
            return job_field_fail(e, JOB_FIELD_EINVALID, "grading.stop_on_failure",
                                  "\"grading.stop_on_failure\" must be true or false");
        out->stop_on_failure = json_is_true(x);
    }
    if ((x = json_object_get(v, "scoring"))) {
        if ((r = job_field_text(x, "grading.scoring", 0, &s, e)) < 0)
            return r;
        if (grade_scoring_parse(s, &out->scoring) < 0)
            return job_field_fail(e, JOB_FIELD_EINVALID, "grading.scoring",
                                  "\"grading.scoring\" must be \"sum\" or \"groups_min\"");
    }
    return 0;
}

/* "tests", "checker" and "grading", in the request (p set) and in the canonical form. The
 * checker comes first: whether a test needs an expected output depends on it. */
int job_graded_parse(const json_t *root, const struct job_policy *p, struct job_spec *out,
                        struct api_error *e)
{
    const json_t *tests = json_object_get(root, "tests");
    const json_t *checker = json_object_get(root, "checker");
    const json_t *grading = json_object_get(root, "grading");
    int r;

    if (!tests) {
        if (checker || grading)
            return job_field_fail(e, JOB_FIELD_EINVALID, checker ? "checker" : "grading",
                                  "\"%s\" needs \"tests\"", checker ? "checker" : "grading");
        return 0;
    }
    if (out->has_stdin)
        return job_field_fail(e, JOB_FIELD_EINVALID, "stdin",
                              "a job with \"tests\" has no \"stdin\": each test has its own");
    if (!p && (!job_field_need(root, "checker", "checker", e) ||
               !job_field_need(root, "grading", "grading", e)))
        return -EINVAL;
    out->checker.opts.kind = CHECKER_LINES;
    out->grading = (struct grade_options){GRADE_SCORING_SUM, 0};
    if ((checker && (r = job_field_checker(checker, p, out, e)) < 0) ||
        (r = parse_tests(tests, p, out, e)) < 0 ||
        (grading && (r = parse_grading(grading, p, &out->grading, e)) < 0))
        return r;
    return 0;
}

static unsigned char *dup_bytes(const unsigned char *data, size_t len)
{
    return job_field_dup((const char *)data, len);
}

int job_graded_copy(struct job_spec *dst, const struct job_spec *src)
{
    const struct job_checker *c = &src->checker;
    size_t i;

    dst->grading = src->grading;
    dst->checker.opts = c->opts;
    dst->checker.source_len = c->source_len;
    if ((c->language && !(dst->checker.language = strdup(c->language))) ||
        (c->source && !(dst->checker.source = dup_bytes(c->source, c->source_len))))
        return -ENOMEM;
    if (!src->ntests)
        return 0;
    if (!(dst->tests = calloc(src->ntests, sizeof(*dst->tests))))
        return -ENOMEM;
    dst->ntests = src->ntests;
    for (i = 0; i < src->ntests; i++) {
        const struct job_test *s = &src->tests[i];
        struct job_test *d = &dst->tests[i];

        d->stdin_len = s->stdin_len;
        d->expected_len = s->expected_len;
        d->points = s->points;
        if (!(d->name = strdup(s->name)) ||
            !(d->stdin_data = dup_bytes(s->stdin_data, s->stdin_len)) ||
            !(d->expected = dup_bytes(s->expected, s->expected_len)) ||
            (s->group && !(d->group = strdup(s->group))))
            return -ENOMEM;
    }
    return 0;
}

/* The canonical "checker" object; NULL when out of memory. */
static json_t *checker_json(const struct job_checker *c)
{
    const char *kind = checker_kind_name(c->opts.kind);
    json_t *o = json_object();
    int bad = json_object_set_new(o, "type", kind ? json_string(kind) : NULL);

    if (c->opts.kind == CHECKER_FLOAT) {
        bad |= json_object_set_new(o, "abs", json_real(c->opts.abs_tol));
        bad |= json_object_set_new(o, "rel", json_real(c->opts.rel_tol));
    } else if (c->opts.kind == CHECKER_CUSTOM) {
        bad |= json_object_set_new(o, "language", c->language ? json_string(c->language) : NULL);
        bad |= json_object_set_new(
            o, "source", c->source ? json_stringn((const char *)c->source, c->source_len) : NULL);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The canonical "tests", "checker" and "grading" of a graded job into o; nonzero on failure
 * (see job_spec_to_json for why everything is set even then). */
int job_graded_json(const struct job_spec *s, json_t *o)
{
    json_t *tests = json_array();
    const char *scoring = grade_scoring_name(s->grading.scoring);
    int bad = 0;
    size_t i;

    for (i = 0; i < s->ntests; i++) {
        const struct job_test *t = &s->tests[i];
        json_t *x = json_object();

        bad |= json_object_set_new(x, "name", json_string(t->name));
        bad |= json_object_set_new(x, "stdin", job_field_b64_json(t->stdin_data, t->stdin_len));
        bad |= json_object_set_new(x, "expected_output", job_field_b64_json(t->expected, t->expected_len));
        bad |= json_object_set_new(x, "points", json_real(t->points));
        if (t->group)
            bad |= json_object_set_new(x, "group", json_string(t->group));
        bad |= json_array_append_new(tests, x);
    }
    bad |= json_object_set_new(o, "tests", tests);
    bad |= json_object_set_new(o, "checker", checker_json(&s->checker));
    bad |= json_object_set_new(o, "grading",
                               json_pack("{s:b, s:s?}", "stop_on_failure",
                                         s->grading.stop_on_failure, "scoring", scoring));
    return bad || !scoring;
}

json_t *job_spec_graded_json(const struct job_spec *s)
{
    json_t *o = json_object();

    if (o && (!s->ntests || job_graded_json(s, o))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int job_spec_graded_from_json(const json_t *j, struct job_spec *out, struct api_error *e)
{
    memset(e, 0, sizeof(*e));
    if (!json_is_object(j) || !json_object_get(j, "tests"))
        return job_field_fail(e, JOB_FIELD_EINVALID, "tests", "no stored tests");
    return job_graded_parse(j, NULL, out, e);
}

