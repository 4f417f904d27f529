/* SPDX-License-Identifier: MIT */
/* batch: POST /v1/batches: many submissions graded against the same tests, which are stored
 * once with the batch rather than copied into every job.
 * Body: {"submissions": [{"name"?, "language"?, "source" | "files"}], (1..max), and for all
 * of them "language"? (each submission may name its own), "tests", "checker"?, "grading"?,
 * "limits"?, "queue"?, "priority"?}. Each submission is validated exactly as the job it
 * becomes (common/job), so every rule and limit of POST /v1/jobs holds; an error in a
 * submission's own fields names it ("submissions[3].source").
 * Does: parse and validate; build the stored forms (the shared graded part, each job).
 * Must not: do I/O or decide ids (the caller draws them). */
#ifndef RUNQ_COMMON_BATCH_H
#define RUNQ_COMMON_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "job.h"

#define BATCH_NAME_MAX 64

struct batch_spec {
    /* one per submission, each graded: the first parsed its tests, the others copy them */
    struct job_spec *jobs;
    size_t n;
};

/* 0 with *out filled (free with batch_spec_free), or -EINVAL / -ENOMEM with *err filled.
 * max_submissions 0: no maximum. */
int batch_parse(const char *body, size_t len, const struct job_policy *p, size_t max_submissions,
                struct batch_spec *out, struct api_error *err);

void batch_spec_free(struct batch_spec *b);

/* Submission i as stored: its canonical job without the graded part, with "batch" (the
 * batch's id) and "name". New reference, NULL when out of memory. */
json_t *batch_job_json(const struct batch_spec *b, size_t i, const char *batch_id);

#endif
