/* SPDX-License-Identifier: MIT */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_field.h"

static const char *const top_keys[] = {"submissions", "language", "tests", "checker", "grading",
                                       "limits",      "queue",    "priority", NULL};
static const char *const sub_keys[] = {"name", "language", "source", "files", NULL};
/* A job's fields that come from the submission: an error in them names the submission. */
static const char *const own_fields[] = {"language", "source", "files", NULL};

/* "submissions[i]." before the field of an error about the submission's own fields. */
static void name_submission(struct api_error *e, size_t i)
{
    char field[sizeof(e->field)];
    size_t k, n;

    for (k = 0; own_fields[k]; k++) {
        n = strlen(own_fields[k]);
        if (!strncmp(e->field, own_fields[k], n) && (!e->field[n] || e->field[n] == '[' ||
                                                     e->field[n] == '.')) {
            snprintf(field, sizeof(field), "submissions[%zu].%s", i, e->field);
            snprintf(e->field, sizeof(e->field), "%s", field);
            return;
        }
    }
}

static int check_name(const json_t *v, size_t i, struct api_error *e)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), k;

    for (k = 0; s && k < n; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
            break;
    if (!s || n == 0 || n > BATCH_NAME_MAX || k < n) {
        char field[32];
        snprintf(field, sizeof(field), "submissions[%zu].name", i);
        return job_field_fail(e, JOB_FIELD_EINVALID, field,
                              "a submission's \"name\" is 1..%d characters, no control ones",
                              BATCH_NAME_MAX);
    }
    return 0;
}

/* Keys of the body copied into each submission's job body. */
static const char *const shared_keys[] = {"language", "limits", "queue", "priority", NULL};
static const char *const graded_keys[] = {"tests", "checker", "grading", NULL};

static int copy_keys(json_t *body, const json_t *from, const char *const *keys)
{
    size_t k;

    for (k = 0; keys[k]; k++) {
        json_t *v = json_object_get(from, keys[k]);
        if (v && json_object_set(body, keys[k], v) < 0)
            return -1;
    }
    return 0;
}

/* The job body of a submission: the shared fields, then the submission's own; the graded
 * part only when `graded` (see parse_submission). */
static json_t *job_body(const json_t *root, const json_t *sub, int graded)
{
    json_t *body = json_object();

    if (body && (copy_keys(body, root, shared_keys) < 0 ||
                 (graded && copy_keys(body, root, graded_keys) < 0) ||
                 copy_keys(body, sub, own_fields) < 0)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* Submission i into *out. The graded part is the same for every submission and depends on
 * nothing a submission sets, so only the first validates it (any error in it is reported
 * there, as it would be anyway) and the others copy it from `first` rather than decode the
 * same tests again. */
static int parse_submission(const json_t *root, const json_t *sub, size_t i,
                            const struct job_policy *p, const struct job_spec *first,
                            struct job_spec *out, struct api_error *e)
{
    char prefix[32], name[24];
    const json_t *v;
    json_t *body;
    int r;

    snprintf(prefix, sizeof(prefix), "submissions[%zu].", i);
    if (!json_is_object(sub))
        return job_field_fail(e, JOB_FIELD_EINVALID, prefix, "a submission is an object");
    if ((r = job_field_check_keys(sub, sub_keys, prefix, e)) < 0)
        return r;
    if ((v = json_object_get(sub, "name")) && (r = check_name(v, i, e)) < 0)
        return r;
    if (!(body = job_body(root, sub, !first)))
        return job_field_nomem(e);
    r = job_spec_parse_value(body, p, out, e);
    json_decref(body);
    if (r < 0) {
        name_submission(e, i);
        return r;
    }
    if (first && job_graded_copy(out, first) < 0)
        return job_field_nomem(e);
    snprintf(name, sizeof(name), "%zu", i + 1);
    out->name = strdup(v ? json_string_value(v) : name);
    return out->name ? 0 : job_field_nomem(e);
}

static int parse_root(const json_t *root, const struct job_policy *p, size_t max,
                      struct batch_spec *out, struct api_error *e)
{
    const json_t *subs;
    size_t i, k;
    int r;

    if (!json_is_object(root))
        return job_field_fail(e, JOB_FIELD_EJSON, "", "the request body must be a JSON object");
    if ((r = job_field_check_keys(root, top_keys, "", e)) < 0)
        return r;
    if (!(subs = job_field_need(root, "submissions", "submissions", e)) ||
        !job_field_need(root, "tests", "tests", e))
        return -EINVAL;
    if (!json_is_array(subs) || json_array_size(subs) == 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, "submissions",
                              "\"submissions\" is a non-empty array");
    if (max && json_array_size(subs) > max)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "submissions",
                              "%zu submissions, the maximum is %zu", json_array_size(subs), max);
    if (!(out->jobs = calloc(json_array_size(subs), sizeof(*out->jobs))))
        return job_field_nomem(e);
    for (i = 0; i < json_array_size(subs); i++) {
        out->n = i + 1; /* counted before it is filled: a failure half-way is freed too */
        if ((r = parse_submission(root, json_array_get(subs, i), i, p,
                                  i ? &out->jobs[0] : NULL, &out->jobs[i], e)) < 0)
            return r;
        for (k = 0; k < i; k++)
            if (!strcmp(out->jobs[k].name, out->jobs[i].name)) {
                char field[32];
                snprintf(field, sizeof(field), "submissions[%zu].name", i);
                return job_field_fail(e, JOB_FIELD_EINVALID, field,
                                      "two submissions are named \"%s\"", out->jobs[i].name);
            }
    }
    return 0;
}

int batch_parse(const char *body, size_t len, const struct job_policy *p, size_t max_submissions,
                struct batch_spec *out, struct api_error *err)
{
    struct job_policy each = *p;
    json_t *root;
    int r;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if ((r = job_field_load_body(body, len, p->max_body_bytes, &root, err)) < 0)
        return r;
    each.max_body_bytes = 0; /* the whole body was held to it above */
    r = parse_root(root, &each, max_submissions, out, err);
    json_decref(root);
    if (r < 0)
        batch_spec_free(out);
    return r;
}

void batch_spec_free(struct batch_spec *b)
{
    size_t i;

    for (i = 0; b->jobs && i < b->n; i++)
        job_spec_free(&b->jobs[i]);
    free(b->jobs);
    memset(b, 0, sizeof(*b));
}

json_t *batch_job_json(const struct batch_spec *b, size_t i, const char *batch_id)
{
    /* Without its tests (stored once, with the batch): a spec without tests has no graded
     * part in its JSON, so nothing is encoded only to be deleted. */
    struct job_spec s = b->jobs[i];
    json_t *j;

    s.ntests = 0;
    if (!(j = job_spec_to_json(&s)))
        return NULL;
    if (json_object_set_new(j, "batch", json_string(batch_id)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
