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

/* The job body of submission i: the shared fields, then the submission's own. */
static json_t *job_body(const json_t *root, const json_t *sub)
{
    static const char *const shared[] = {"language", "tests",  "checker", "grading",
                                         "limits",   "queue",  "priority", NULL};
    json_t *body = json_object();
    size_t k;

    for (k = 0; body && shared[k]; k++) {
        json_t *v = json_object_get(root, shared[k]);
        if (v && json_object_set(body, shared[k], v) < 0)
            goto fail;
    }
    for (k = 0; body && own_fields[k]; k++) {
        json_t *v = json_object_get(sub, own_fields[k]);
        if (v && json_object_set(body, own_fields[k], v) < 0)
            goto fail;
    }
    return body;
fail:
    json_decref(body);
    return NULL;
}

static int parse_submission(const json_t *root, const json_t *sub, size_t i,
                            const struct job_policy *p, struct job_spec *out,
                            struct api_error *e)
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
    if (!(body = job_body(root, sub)))
        return job_field_nomem(e);
    r = job_spec_parse_value(body, p, out, e);
    json_decref(body);
    if (r < 0) {
        name_submission(e, i);
        return r;
    }
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
        if ((r = parse_submission(root, json_array_get(subs, i), i, p, &out->jobs[i], e)) < 0)
            return r;
        out->n++;
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
    json_t *j = job_spec_to_json(&b->jobs[i]);

    if (!j)
        return NULL;
    json_object_del(j, "tests");
    json_object_del(j, "checker");
    json_object_del(j, "grading");
    if (json_object_set_new(j, "batch", json_string(batch_id)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
