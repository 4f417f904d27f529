/* SPDX-License-Identifier: MIT */
/* job_test_util: the helpers test_job.c and test_job_grading.c share (see job_test_util.h).
 * Must not: hold global state, or decide what a test expects: the callers pass the status,
 * code and field, and their own policy. */
#include "job_test_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *jt_dq(const char *s)
{
    char *d = strdup(s), *c;

    for (c = d; c && *c; c++)
        if (*c == '\'')
            *c = '"';
    return d;
}

int jt_parse(const struct job_policy *p, const char *sq, struct job_spec *s, struct api_error *e)
{
    char *body = jt_dq(sq);
    int r = job_spec_parse(body, strlen(body), p, s, e);

    free(body);
    return r;
}

int jt_is_zero(const struct job_spec *s)
{
    static const struct job_spec zero;

    return memcmp(s, &zero, sizeof(zero)) == 0;
}

void jt_expect(struct tap *t, const struct job_policy *p, const char *sq, int status,
               const char *code, const char *field, int width)
{
    struct job_spec s;
    struct api_error e;
    int r = jt_parse(p, sq, &s, &e);
    int ok = r == -EINVAL && e.status == status && e.code && strcmp(e.code, code) == 0 &&
             strcmp(e.field, field) == 0 && jt_is_zero(&s) && e.message[0];

    if (!tap_ok(t, status ? ok : r == 0, "%d %s \"%s\" for %.*s", status, code, field, width, sq))
        tap_diag("got r=%d %d %s \"%s\": %s", r, e.status, e.code ? e.code : "-", e.field,
                 e.message);
    if (r == 0)
        job_spec_free(&s);
}

void jt_expect_cases(struct tap *t, const struct job_policy *p, const struct jt_case *c, size_t n,
                     int width)
{
    for (size_t i = 0; i < n; i++)
        jt_expect(t, p, c[i].body, c[i].status, c[i].code, c[i].field, width);
}

int jt_round_trip(const struct job_spec *s, jt_same_fn same)
{
    json_t *j = job_spec_to_json(s), *back;
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    struct job_spec r;
    struct api_error e;
    int ok = 0;

    back = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
    if (back && job_spec_from_json(back, &r, &e) == 0) {
        ok = same(s, &r, j);
        job_spec_free(&r);
    } else if (back) {
        tap_diag("from_json: %s \"%s\": %s", e.code, e.field, e.message);
    }
    json_decref(back);
    free(text);
    json_decref(j);
    return ok;
}

char *jt_repeat(const char *head, char c, size_t n, const char *tail)
{
    size_t h = strlen(head), tl = strlen(tail);
    char *b = malloc(h + n + tl + 1);

    memcpy(b, head, h);
    memset(b + h, c, n);
    memcpy(b + h + n, tail, tl + 1);
    return b;
}

void jt_merge(json_t *dst, const char *sq)
{
    char *text = jt_dq(sq);
    json_t *patch = json_loads(text, 0, NULL);

    json_object_update(dst, patch);
    json_decref(patch);
    free(text);
}

json_t *jt_patched(const char *base_sq, const char *top_sq, const char *array, const char *elem_sq)
{
    char *text = jt_dq(base_sq);
    json_t *j = json_loads(text, 0, NULL);

    free(text);
    if (j && top_sq)
        jt_merge(j, top_sq);
    if (j && elem_sq)
        jt_merge(json_array_get(json_object_get(j, array), 0), elem_sq);
    return j;
}
