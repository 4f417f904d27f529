/* SPDX-License-Identifier: MIT */
/* job_plan: what a job asks of the sandbox: an optional compile run, then the run, with the
 * language's commands expanded and limits layered (config default < language < job).
 * Does: build both sandbox requests from plain data and carry the compile step's artifacts
 * into the run step. Must not: talk to a slot, or trust stored data it did not validate
 * (the job spec comes from job_spec_from_json, the artifacts from a sandbox answer). */
#ifndef RUNQ_WORKER_JOB_PLAN_H
#define RUNQ_WORKER_JOB_PLAN_H

#include <jansson.h>

#include "config.h"
#include "job.h"
#include "languages.h"
#include "sbx_spec.h"

struct job_plan {
    int compiled;              /* the language has a compile step */
    struct sbx_run_spec compile; /* valid when compiled */
    struct sbx_run_spec run;
    /* storage the specs point into */
    char **compile_argv, **run_argv;
    struct sbx_file *files;    /* the job's sources, then (run only) the artifacts */
    size_t nsources, nfiles;
    unsigned char **artifact_data;
};

/* 0, or -EINVAL (a file named after nothing, bad template) or -ENOMEM. */
int job_plan_build(const struct job_spec *job, const struct language *lang,
                   const struct config_limits *defaults, struct job_plan *out);

/* Adds the artifacts collected by the compile step (its sandbox result, "files") to the run
 * step. -ENOENT when one is missing or was refused (a compile that did not produce it). */
int job_plan_take_artifacts(struct job_plan *plan, const json_t *compile_result);

/* The sandbox request of a step (sbx_request form). NULL when out of memory. */
json_t *job_plan_request(const struct sbx_run_spec *step);

void job_plan_free(struct job_plan *plan);

/* Sandbox limits from job-level ones (KiB to bytes, pids to processes); the rest default. */
void job_plan_limits(const struct config_limits *l, struct sbx_limits *out);

#endif
