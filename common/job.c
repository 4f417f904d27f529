/* SPDX-License-Identifier: MIT */
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "job_field.h"
#include "job_graded.h"
#include "job_sched.h"
#include "webhook_sign.h"
#include "utf8.h"

static const char *const top_keys[] = {"language", "source",  "files",    "stdin",    "args",
                                       "limits",   "queue",   "priority", "metadata", "tests",
                                       "checker",  "grading", "run_at",   "callback_url", NULL};
static const char *const file_keys[] = {"name", "content", "encoding", NULL};
static const char *const canon_keys[] = {"version", "language", "files",    "stdin",    "args",
                                         "limits",  "queue",    "priority", "metadata", "tests",
                                         "checker", "grading",  "run_at_ms", "callback_url",
                                         "batch",   "name",     NULL};
static const char *const canon_required[] = {"version", "language", "files",    "args",
                                             "limits",  "queue",    "priority", NULL};
static int callback_url(const json_t *v, struct job_spec *out, struct api_error *e);

static const char *const canon_file_keys[] = {"name", "data", NULL};

/* One element of the request's "files"; *total is the size of the files before it. The size
 * is checked before decoding, so a huge file is refused without allocating for it. */
static int parse_file(const json_t *v, size_t i, const struct job_policy *p, struct job_file *f,
                      size_t *total, struct api_error *e)
{
    char pre[32], fld[64];
    const json_t *name, *content, *enc;
    const char *s;
    size_t n, size;
    int r, b64 = 0;

    snprintf(pre, sizeof(pre), "files[%zu]", i);
    if (!json_is_object(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, pre, "\"%s\" must be an object", pre);
    snprintf(pre, sizeof(pre), "files[%zu].", i);
    if ((r = job_field_check_keys(v, file_keys, pre, e)) < 0)
        return r;
    snprintf(fld, sizeof(fld), "%sname", pre);
    if (!(name = job_field_need(v, "name", fld, e)))
        return -EINVAL;
    if ((r = job_field_name(name, fld, 0, &f->name, e)) < 0)
        return r;
    snprintf(fld, sizeof(fld), "%sencoding", pre);
    if ((enc = json_object_get(v, "encoding"))) {
        if ((r = job_field_text(enc, fld, 0, &s, e)) < 0)
            return r;
        if (strcmp(s, "utf8") != 0 && strcmp(s, "base64") != 0)
            return job_field_fail(e, JOB_FIELD_EINVALID, fld,
                                  "\"%s\" must be \"utf8\" or \"base64\"", fld);
        b64 = s[0] == 'b';
    }
    snprintf(fld, sizeof(fld), "%scontent", pre);
    if (!(content = job_field_need(v, "content", fld, e)))
        return -EINVAL;
    if (!json_is_string(content))
        return job_field_fail(e, JOB_FIELD_EINVALID, fld, "\"%s\" must be a string", fld);
    s = json_string_value(content);
    n = json_string_length(content);
    size = b64 ? job_field_base64_size(s, n) : n;
    if (p->max_source_bytes && size > p->max_source_bytes - *total)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "files",
                              "the files add up to more than %zu bytes", p->max_source_bytes);
    if (b64) {
        if ((r = job_field_base64(content, fld, &f->data, &f->len, e)) < 0)
            return r;
    } else {
        if (!(f->data = job_field_dup(s, n)))
            return job_field_nomem(e);
        f->len = n;
    }
    *total += f->len;
    return 0;
}

static int parse_files(const json_t *v, const struct job_policy *p, struct job_spec *out,
                       struct api_error *e)
{
    size_t i, total = 0, n = json_array_size(v);
    int r;

    if (!json_is_array(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "files", "\"files\" must be an array");
    if (n == 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, "files",
                              "\"files\" must hold at least one file");
    if (p->max_files && n > p->max_files)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "files", "%zu files, the maximum is %zu", n,
                              p->max_files);
    if (!(out->files = calloc(n, sizeof(*out->files))))
        return job_field_nomem(e);
    out->nfiles = n;
    for (i = 0; i < n; i++)
        if ((r = parse_file(json_array_get(v, i), i, p, &out->files[i], &total, e)) < 0)
            return r;
    return job_field_unique_names(out, e);
}

/* "source": one file, its name left NULL for the caller to set. */
static int parse_source(const json_t *v, const struct job_policy *p, struct job_spec *out,
                        struct api_error *e)
{
    size_t n = json_string_length(v);

    if (!json_is_string(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "source", "\"source\" must be a string");
    if (p->max_source_bytes && n > p->max_source_bytes)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "source",
                              "\"source\" is %zu bytes, the maximum is %zu", n,
                              p->max_source_bytes);
    if (!(out->files = calloc(1, sizeof(*out->files))))
        return job_field_nomem(e);
    out->nfiles = 1;
    if (!(out->files[0].data = job_field_dup(json_string_value(v), n)))
        return job_field_nomem(e);
    out->files[0].len = n;
    return 0;
}

static int parse_stdin(const json_t *v, const struct job_policy *p, struct job_spec *out,
                       struct api_error *e)
{
    size_t n = json_string_length(v);

    if (!json_is_string(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "stdin", "\"stdin\" must be a string");
    if (p->max_stdin_bytes && n > p->max_stdin_bytes)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "stdin",
                              "\"stdin\" is %zu bytes, the maximum is %zu", n, p->max_stdin_bytes);
    if (!(out->stdin_data = job_field_dup(json_string_value(v), n)))
        return job_field_nomem(e);
    out->stdin_len = n;
    out->has_stdin = 1;
    return 0;
}

/* Whether a string anywhere in v holds a NUL (\u0000): PostgreSQL's jsonb cannot store one,
 * so such metadata would never reach a row. */
static int holds_nul(const json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_string(v))
        return json_string_length(v) != strlen(json_string_value(v));
    json_object_foreach((json_t *)v, key, item)
        if (holds_nul(item))
            return 1;
    json_array_foreach(v, i, item)
        if (holds_nul(item))
            return 1;
    return 0;
}

static int parse_metadata(json_t *v, const struct job_policy *p, struct job_spec *out,
                          struct api_error *e)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

    if (n == 0)
        return job_field_nomem(e);
    if (p->max_metadata_bytes && n > p->max_metadata_bytes)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "metadata",
                              "\"metadata\" is %zu bytes, the maximum is %zu", n,
                              p->max_metadata_bytes);
    if (holds_nul(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "metadata",
                              "\"metadata\" may not hold NUL characters (\\u0000)");
    out->metadata = json_incref(v); /* the rest of the parsed tree is freed, this survives */
    return 0;
}

/* The request body's fields, in a fixed order so that the reported error is stable: cheap
 * checks and policy lookups (language) before decoding files. */
static int parse_request(json_t *root, const struct job_policy *p, struct job_spec *out,
                         struct api_error *e)
{
    json_t *v, *files;
    int r;

    if ((r = job_field_check_keys(root, top_keys, "", e)) < 0)
        return r;
    if (!job_field_need(root, "language", "language", e))
        return -EINVAL;
    if ((r = job_field_language(json_object_get(root, "language"), p, out, e)) < 0)
        return r;
    v = json_object_get(root, "source");
    files = json_object_get(root, "files");
    if (v && files)
        return job_field_fail(e, JOB_FIELD_EINVALID, "source",
                              "give either \"source\" or \"files\", not both");
    if (!v && !files)
        return job_field_fail(e, JOB_FIELD_EINVALID, "source",
                              "one of \"source\" or \"files\" is required");
    if ((r = v ? parse_source(v, p, out, e) : parse_files(files, p, out, e)) < 0)
        return r;
    if ((v = json_object_get(root, "stdin")) && (r = parse_stdin(v, p, out, e)) < 0)
        return r;
    if ((r = job_graded_parse(root, p, out, e)) < 0)
        return r;
    if ((v = json_object_get(root, "args")) && (r = job_field_args(v, p->max_args, out, e)) < 0)
        return r;
    v = json_object_get(root, "limits");
    if (v && (r = job_field_limits(v, &p->maximum, &out->limits, e)) < 0)
        return r;
    if ((v = json_object_get(root, "queue")))
        r = job_field_queue(v, out, e);
    else
        r = (out->queue = strdup("default")) ? 0 : job_field_nomem(e);
    if (r < 0)
        return r;
    if (p->queue_exists && !p->queue_exists(p->ctx, out->queue))
        return job_field_fail(e, JOB_FIELD_EQUEUE, "queue", "unknown queue \"%s\"", out->queue);
    out->priority = JOB_PRIORITY_DEFAULT;
    v = json_object_get(root, "priority");
    if (v && (r = job_sched_priority(v, &out->priority, e)) < 0)
        return r;
    v = json_object_get(root, "run_at");
    if (v && (r = job_sched_run_at(v, p->now_ms, p->max_delay_ms, &out->run_at_ms, e)) < 0)
        return r;
    if ((v = json_object_get(root, "metadata")) && (r = parse_metadata(v, p, out, e)) < 0)
        return r;
    if ((v = json_object_get(root, "callback_url")) && !p->webhooks)
        return job_field_fail(e, JOB_FIELD_ELIMIT, "callback_url",
                              "webhooks are not configured on this fleet (webhooks.secret)");
    return v ? callback_url(v, out, e) : 0;
}

static int callback_url(const json_t *v, struct job_spec *out, struct api_error *e)
{
    const char *why = "";

    if (!json_is_string(v) || webhook_sign_check_url(json_string_value(v), &why) < 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, "callback_url",
                              "\"callback_url\" must be an http(s) URL%s%s", *why ? ": " : "",
                              why);
    out->callback_url = strdup(json_string_value(v));
    return out->callback_url ? 0 : job_field_nomem(e);
}

int job_spec_parse(const char *body, size_t len, const struct job_policy *p, struct job_spec *out,
                   struct api_error *err)
{
    json_t *root;
    int r;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if ((r = job_field_load_body(body, len, p->max_body_bytes, &root, err)) < 0)
        return r;
    r = job_spec_parse_value(root, p, out, err);
    json_decref(root);
    return r;
}

int job_spec_parse_value(json_t *root, const struct job_policy *p, struct job_spec *out,
                         struct api_error *err)
{
    int r;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if (!json_is_object(root))
        r = job_field_fail(err, JOB_FIELD_EJSON, "", "the request body must be a JSON object");
    else
        r = parse_request(root, p, out, err);
    if (r < 0)
        job_spec_free(out);
    return r;
}

void job_spec_free(struct job_spec *s)
{
    size_t i;

    free(s->language);
    for (i = 0; i < s->nfiles; i++) {
        free(s->files[i].name);
        free(s->files[i].data);
    }
    free(s->files);
    free(s->stdin_data);
    for (i = 0; i < s->nargs; i++)
        free(s->args[i]);
    free(s->args);
    free(s->queue);
    free(s->callback_url);
    free(s->batch);
    free(s->name);
    json_decref(s->metadata);
    for (i = 0; i < s->ntests; i++) {
        free(s->tests[i].name);
        free(s->tests[i].stdin_data);
        free(s->tests[i].expected);
        free(s->tests[i].group);
    }
    free(s->tests);
    free(s->checker.language);
    free(s->checker.source);
    memset(s, 0, sizeof(*s));
}

/* jansson's *_new calls take the reference even when they fail (a NULL value or container
 * included), so failures are collected in `bad` and one json_decref(o) frees everything. */
json_t *job_spec_to_json(const struct job_spec *s)
{
    json_t *o = json_object(), *files = json_array(), *args = json_array();
    int bad = 0;
    size_t i;

    for (i = 0; i < s->nfiles; i++) {
        const struct job_file *f = &s->files[i];
        json_t *x = json_object();

        bad |= json_object_set_new(x, "name", f->name ? json_string(f->name) : json_null());
        bad |= json_object_set_new(x, "data", job_field_b64_json(f->data, f->len));
        bad |= json_array_append_new(files, x);
    }
    for (i = 0; i < s->nargs; i++)
        bad |= json_array_append_new(args, json_string(s->args[i]));
    bad |= json_object_set_new(o, "version", json_integer(JOB_JSON_VERSION));
    bad |= json_object_set_new(o, "language", json_string(s->language));
    bad |= json_object_set_new(o, "files", files);
    if (s->has_stdin)
        bad |= json_object_set_new(o, "stdin", job_field_b64_json(s->stdin_data, s->stdin_len));
    bad |= json_object_set_new(o, "args", args);
    bad |= json_object_set_new(o, "limits", job_field_limits_json(&s->limits));
    bad |= json_object_set_new(o, "queue", json_string(s->queue));
    bad |= json_object_set_new(o, "priority", json_integer(s->priority));
    if (s->run_at_ms)
        bad |= json_object_set_new(o, "run_at_ms", json_integer(s->run_at_ms));
    if (s->callback_url)
        bad |= json_object_set_new(o, "callback_url", json_string(s->callback_url));
    if (s->batch)
        bad |= json_object_set_new(o, "batch", json_string(s->batch));
    if (s->name)
        bad |= json_object_set_new(o, "name", json_string(s->name));
    if (s->metadata)
        bad |= json_object_set_new(o, "metadata", json_deep_copy(s->metadata));
    if (s->ntests)
        bad |= job_graded_json(s, o);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int read_files(const json_t *v, struct job_spec *out, struct api_error *e)
{
    size_t i;
    int r;

    if (!json_is_array(v) || json_array_size(v) == 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, "files",
                              "\"files\" must be a non-empty array");
    if (!(out->files = calloc(json_array_size(v), sizeof(*out->files))))
        return job_field_nomem(e);
    out->nfiles = json_array_size(v);
    for (i = 0; i < out->nfiles; i++) {
        const json_t *x = json_array_get(v, i), *name, *data;
        struct job_file *f = &out->files[i];
        char pre[32], fn[64], fd[64];

        snprintf(pre, sizeof(pre), "files[%zu]", i);
        if (!json_is_object(x))
            return job_field_fail(e, JOB_FIELD_EINVALID, pre, "\"%s\" must be an object", pre);
        snprintf(pre, sizeof(pre), "files[%zu].", i);
        snprintf(fn, sizeof(fn), "%sname", pre);
        snprintf(fd, sizeof(fd), "%sdata", pre);
        if ((r = job_field_check_keys(x, canon_file_keys, pre, e)) < 0)
            return r;
        name = job_field_need(x, "name", fn, e);
        if (!name || !(data = job_field_need(x, "data", fd, e)))
            return -EINVAL;
        if ((r = job_field_name(name, fn, out->nfiles == 1, &f->name, e)) < 0 ||
            (r = job_field_base64(data, fd, &f->data, &f->len, e)) < 0)
            return r;
    }
    return job_field_unique_names(out, e);
}

/* An optional string of the stored form. */
static int stored_string(const json_t *j, const char *key, char **out, struct api_error *e)
{
    const json_t *v = json_object_get(j, key);

    if (!v)
        return 0;
    if (!json_is_string(v) || !json_string_length(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, key, "bad stored \"%s\"", key);
    *out = strdup(json_string_value(v));
    return *out ? 0 : job_field_nomem(e);
}

static int read_canonical(const json_t *j, struct job_spec *out, struct api_error *e)
{
    const char *const *k;
    const json_t *v;
    int r;

    if (!json_is_object(j))
        return job_field_fail(e, JOB_FIELD_EJSON, "", "a stored job must be a JSON object");
    if ((r = job_field_check_keys(j, canon_keys, "", e)) < 0)
        return r;
    for (k = canon_required; *k; k++)
        if (!job_field_need(j, *k, *k, e))
            return -EINVAL;
    v = json_object_get(j, "version");
    if (!json_is_integer(v) || json_integer_value(v) != JOB_JSON_VERSION)
        return job_field_fail(e, JOB_FIELD_EINVALID, "version", "\"version\" must be %d",
                              JOB_JSON_VERSION);
    if ((r = job_field_language(json_object_get(j, "language"), NULL, out, e)) < 0 ||
        (r = read_files(json_object_get(j, "files"), out, e)) < 0)
        return r;
    if ((v = json_object_get(j, "stdin"))) {
        if ((r = job_field_base64(v, "stdin", &out->stdin_data, &out->stdin_len, e)) < 0)
            return r;
        out->has_stdin = 1;
    }
    if ((r = job_field_args(json_object_get(j, "args"), 0, out, e)) < 0 ||
        (r = job_field_limits(json_object_get(j, "limits"), NULL, &out->limits, e)) < 0 ||
        (r = job_field_queue(json_object_get(j, "queue"), out, e)) < 0 ||
        (r = job_field_priority(json_object_get(j, "priority"), &out->priority, e)) < 0)
        return r;
    if ((v = json_object_get(j, "run_at_ms"))) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return job_field_fail(e, JOB_FIELD_EINVALID, "run_at_ms", "bad stored run_at_ms");
        out->run_at_ms = json_integer_value(v);
    }
    if ((v = json_object_get(j, "callback_url")) && (r = callback_url(v, out, e)) < 0)
        return r;
    if ((r = stored_string(j, "batch", &out->batch, e)) < 0 ||
        (r = stored_string(j, "name", &out->name, e)) < 0)
        return r;
    if ((v = json_object_get(j, "metadata")) && !(out->metadata = json_deep_copy(v)))
        return job_field_nomem(e);
    return job_graded_parse(j, NULL, out, e);
}

int job_spec_from_json(const json_t *j, struct job_spec *out, struct api_error *err)
{
    int r;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if ((r = read_canonical(j, out, err)) < 0)
        job_spec_free(out);
    return r;
}

/* A JSON string of s: a message cut at 255 bytes may end inside a UTF-8 sequence. */
static json_t *text_json(const char *s)
{
    size_t n;
    char *clean = utf8_sanitize(s, strlen(s), &n);
    json_t *j = clean ? json_stringn(clean, n) : NULL;

    free(clean);
    return j;
}

json_t *api_error_to_json(const struct api_error *e)
{
    json_t *o = json_object(), *inner = json_object();
    int bad = 0;

    bad |= json_object_set_new(inner, "code", json_string(e->code ? e->code : "internal_error"));
    bad |= json_object_set_new(inner, "message", text_json(e->message));
    if (e->field[0])
        bad |= json_object_set_new(inner, "field", text_json(e->field));
    bad |= json_object_set_new(o, "error", inner);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
