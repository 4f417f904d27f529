/* SPDX-License-Identifier: MIT */
/* job_test_util: what the unit tests of common/job (test_job.c, test_job_grading.c) share:
 * request bodies written with ' for " (jt_dq), parsing such a body, the check that a rejected
 * spec was left zeroed, the accept-or-reject assertion every request table goes through,
 * long bodies built from a repeated byte, and canonical JSON documents patched for a case.
 * Must not: hold global state, own a policy (each test file has its own limits and language
 * table), or assert anything beyond what jt_expect is asked to check. */
#ifndef RUNQ_TESTS_JOB_TEST_UTIL_H
#define RUNQ_TESTS_JOB_TEST_UTIL_H

#include <stddef.h>

#include <jansson.h>

#include "job.h"
#include "tap.h"

/* s with every ' turned into ", malloc'ed (NULL when out of memory). */
char *jt_dq(const char *s);

/* job_spec_parse of jt_dq(sq). Returns what job_spec_parse returns. */
int jt_parse(const struct job_policy *p, const char *sq, struct job_spec *s, struct api_error *e);

/* 1 when every byte of *s is zero (what a rejected parse and job_spec_free leave). */
int jt_is_zero(const struct job_spec *s);

/* Asserts acceptance (status 0) or a rejection with this status, code and field that leaves
 * nothing to free (the spec zeroed, a message set). The assertion names the status, code and
 * field and the first `width` bytes of sq. */
void jt_expect(struct tap *t, const struct job_policy *p, const char *sq, int status,
               const char *code, const char *field, int width);

/* One row of a request table: the body (with ' for "), and the status, code and field
 * jt_expect checks (status 0, code and field "": accepted). */
struct jt_case {
    const char *body;
    int status;
    const char *code;
    const char *field;
};

/* jt_expect for each of the n cases. */
void jt_expect_cases(struct tap *t, const struct job_policy *p, const struct jt_case *c, size_t n,
                     int width);

/* Compares a spec with what came back from its round trip; j is the spec's canonical JSON.
 * Returns 1 when they match. */
typedef int (*jt_same_fn)(const struct job_spec *s, const struct job_spec *back, const json_t *j);

/* job_spec_to_json, through text (as in Redis), job_spec_from_json: same() of the spec read
 * back, or 0 when a step failed (a from_json failure is reported as a diagnostic). */
int jt_round_trip(const struct job_spec *s, jt_same_fn same);

/* head + n times c + tail, malloc'ed (no ' conversion). */
char *jt_repeat(const char *head, char c, size_t n, const char *tail);

/* Merges the object written as sq (with ' for ") into dst. */
void jt_merge(json_t *dst, const char *sq);

/* The document base_sq (with ' for "), with the object top_sq merged into it and elem_sq
 * merged into the first element of its array `array`; top_sq and elem_sq may be NULL. A new
 * reference, or NULL when base_sq is not JSON. */
json_t *jt_patched(const char *base_sq, const char *top_sq, const char *array, const char *elem_sq);

#endif
