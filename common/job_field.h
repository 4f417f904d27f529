/* SPDX-License-Identifier: MIT */
/* job_field: the validators job.c applies to each field of a job, shared by the request parser
 * (job_spec_parse) and the canonical reader (job_spec_from_json).
 * Does: read one JSON value, copy it into a struct job_spec, or fill a struct api_error with
 * the HTTP status, code, field path and message of the rejection.
 * Must not: do I/O, keep state, or decide which fields a document has (job.c does). */
#ifndef RUNQ_COMMON_JOB_FIELD_H
#define RUNQ_COMMON_JOB_FIELD_H

#include <jansson.h>
#include <stddef.h>

#include "job.h"

/* The rejections of job.h, in api_error terms. */
enum job_field_err {
    JOB_FIELD_EJSON,     /* 400 invalid_json */
    JOB_FIELD_EINVALID,  /* 400 invalid_field */
    JOB_FIELD_ETOOLARGE, /* 413 payload_too_large */
    JOB_FIELD_ELANGUAGE, /* 422 unknown_language */
    JOB_FIELD_ELIMIT,    /* 422 limit_too_high */
    JOB_FIELD_EQUEUE,    /* 422 unknown_queue */
    JOB_FIELD_ENOMEM,    /* 500 internal_error */
};

/* Every function below returns 0, or -EINVAL (-ENOMEM for JOB_FIELD_ENOMEM) with *e filled.
 * `field` is the path reported in e->field, e.g. "files[2].name". */

int job_field_fail(struct api_error *e, enum job_field_err k, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* job_field_fail(e, JOB_FIELD_ENOMEM, "", "out of memory"). */
int job_field_nomem(struct api_error *e);

/* malloc'ed copy of s[0..n) plus a NUL, so that even an empty copy is not NULL; NULL when
 * out of memory. */
unsigned char *job_field_dup(const char *s, size_t n);

/* data[0..len) as a base64 JSON string; NULL when out of memory. */
json_t *job_field_b64_json(const unsigned char *data, size_t len);

/* A request body (body[0..len), max 0: any size) as JSON: 0 with *root set (the caller
 * decrefs it), or 413 when too large / 400 with line and column when it is not JSON. */
int job_field_load_body(const char *body, size_t len, size_t max, json_t **root,
                        struct api_error *e);

/* Rejects the first key of obj, in document order, that is not in the NULL-terminated
 * allowed list (field: prefix + key). */
int job_field_check_keys(const json_t *obj, const char *const *allowed, const char *prefix,
                         struct api_error *e);

/* obj[key], or NULL with *e filled ("field" is required). */
const json_t *job_field_need(const json_t *obj, const char *key, const char *field,
                             struct api_error *e);

/* *out = the string v, which must hold no NUL byte and at most max bytes (0: any). */
int job_field_text(const json_t *v, const char *field, size_t max, const char **out,
                   struct api_error *e);

/* What base64 text of n bytes decodes to if well formed, without decoding it. */
size_t job_field_base64_size(const char *text, size_t n);

/* Decodes the base64 string v into a malloc'ed *data (never NULL on success). */
int job_field_base64(const json_t *v, const char *field, unsigned char **data, size_t *len,
                     struct api_error *e);

/* Why name[0..n) is not an acceptable file name, as words completing "file name ...", or
 * NULL when it is: a relative path of 1..JOB_NAME_MAX bytes, no NUL or control byte, no
 * leading "/", no empty, "." or ".." component. */
const char *job_field_name_problem(const char *name, size_t n);

/* *out = malloc'ed copy of the file name v; with allow_null a JSON null leaves *out NULL. */
int job_field_name(const json_t *v, const char *field, int allow_null, char **out,
                   struct api_error *e);

/* No two of s->files may have the same name, and no name may be a directory of another
 * ("a" and "a/b"); the later file of a clashing pair is reported. Names must be non-NULL
 * when nfiles > 1. */
int job_field_unique_names(const struct job_spec *s, struct api_error *e);

/* out->language: the non-empty name v, resolved by p->resolve_language when p has one. */
int job_field_language(const json_t *v, const struct job_policy *p, struct job_spec *out,
                       struct api_error *e);

/* out->args from an array of strings, at most max of them (0: any number). */
int job_field_args(const json_t *v, size_t max, struct job_spec *out, struct api_error *e);

/* *out from a "limits" object of positive integers; max NULL: no maxima. */
int job_field_limits(const json_t *v, const struct config_limits *max, struct config_limits *out,
                     struct api_error *e);

/* The limits that are given (non-zero) as a JSON object; NULL when out of memory. */
json_t *job_field_limits_json(const struct config_limits *l);

/* out->queue from a name of 1..JOB_QUEUE_MAX bytes of [A-Za-z0-9._-] (a Redis key part). */
int job_field_queue(const json_t *v, struct job_spec *out, struct api_error *e);

/* *out from an integer JOB_PRIORITY_MIN..JOB_PRIORITY_MAX. */
int job_field_priority(const json_t *v, int *out, struct api_error *e);

/* Batch grading. In the functions below p NULL means the canonical form (job_spec_from_json):
 * every key is required, no defaults, no policy maxima or callbacks. */

/* The bytes of a test's "stdin" or "expected_output": a string, or {"content": string,
 * "encoding": "utf8" | "base64"}. At most max decoded bytes (0: any), checked before
 * decoding; too big is a 413 naming field. *data is malloc'ed, never NULL on success. */
int job_field_content(const json_t *v, const char *field, size_t max, unsigned char **data,
                      size_t *len, struct api_error *e);

/* A test's "name" (default: its position i + 1 when p is set), "points" (default 1: a number
 * > 0 and <= JOB_POINTS_MAX) and "group" (optional) from the test object v; names and groups
 * are 1..JOB_LABEL_MAX bytes without NUL or control bytes. pre is the field prefix
 * ("tests[3]."). */
int job_field_test_meta(const json_t *v, const char *pre, size_t i, const struct job_policy *p,
                        struct job_test *t, struct api_error *e);

/* No two of s->tests may have the same name; the later test of a pair is reported. */
int job_field_unique_tests(const struct job_spec *s, struct api_error *e);

/* out->checker from "checker" (see job.h): with p, a kind name or an object, tolerances
 * defaulted, a custom source held to p->max_source_bytes and its language resolved; without,
 * an object with every key of its type. */
int job_field_checker(const json_t *v, const struct job_policy *p, struct job_spec *out,
                      struct api_error *e);

#endif
