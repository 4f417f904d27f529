/* SPDX-License-Identifier: MIT */
/* job_graded: INTERNAL to the job module (job.c, job_graded.c): the graded part of a job,
 * "tests", "checker" and "grading", parsed from a request (p set) or from the stored form
 * (p NULL), and written in the stored form. job.h holds the public rules.
 * Must not: be included outside common/job*.c, or do I/O. */
#ifndef RUNQ_COMMON_JOB_GRADED_H
#define RUNQ_COMMON_JOB_GRADED_H

#include <jansson.h>

#include "job.h"

/* Fills out's tests, checker and grading from root. 0 or -EINVAL / -ENOMEM with *e filled. */
int job_graded_parse(const json_t *root, const struct job_policy *p, struct job_spec *out,
                     struct api_error *e);

/* Sets the stored "tests", "checker" and "grading" of a graded job in o; nonzero on failure
 * (everything is set even then: one json_decref(o) frees it all). */
int job_graded_json(const struct job_spec *s, json_t *o);

#endif
