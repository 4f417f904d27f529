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

/* A program's files: its sources, then (for its run) what its compile step left. */
struct job_plan_files {
    struct sbx_file *files;
    size_t nsources, nfiles;
    unsigned char **artifact_data;
};

struct job_plan {
    int compiled;              /* the language has a compile step */
    struct sbx_run_spec compile; /* valid when compiled */
    struct sbx_run_spec run;
    /* A custom checker (job_plan_add_checker): its own compile step (when its language has
     * one) and its run, "checker input.txt output.txt answer.txt" under testlib rules. */
    int has_checker, checker_compiled;
    struct sbx_run_spec checker_compile, checker_run;
    /* storage the specs point into */
    char **compile_argv, **run_argv, **checker_compile_argv, **checker_run_argv;
    struct job_plan_files prog, checker; /* checker.files has 3 more entries for the data */
};

/* 0, or -EINVAL (a file named after nothing, bad template) or -ENOMEM. */
int job_plan_build(const struct job_spec *job, const struct language *lang,
                   const struct config_limits *defaults, struct job_plan *out);

/* Adds the artifacts collected by the compile step (its sandbox result, "files") to the run
 * step. -ENOENT when one is missing or was refused (a compile that did not produce it). */
int job_plan_take_artifacts(struct job_plan *plan, const json_t *compile_result);

/* The custom checker of a graded job, in lang (the checker's language), with that language's
 * limits. 0, -EINVAL or -ENOMEM. */
int job_plan_add_checker(struct job_plan *plan, const struct job_checker *checker,
                         const struct language *lang, const struct config_limits *defaults);

/* As job_plan_take_artifacts, for the checker's compile step. */
int job_plan_take_checker_artifacts(struct job_plan *plan, const json_t *compile_result);

/* The run of test t: the run step with the test's stdin. */
void job_plan_test_run(const struct job_plan *plan, const struct job_test *t,
                       struct sbx_run_spec *out);

/* The checker's run for test t whose program printed output[0..len): input.txt (the test's
 * stdin), output.txt and answer.txt (its expected output) beside the checker. The spec
 * points into plan, t and output until the next call. */
void job_plan_checker_run(struct job_plan *plan, const struct job_test *t, const char *output,
                          size_t len, struct sbx_run_spec *out);

/* The sandbox request of a step, in sbx_request's wire form (malloc'ed *payload); stream asks
 * for output frames during the run. 0 or -ENOMEM. */
int job_plan_request(const struct sbx_run_spec *step, int stream, char **payload, size_t *len);

void job_plan_free(struct job_plan *plan);

/* Sandbox limits from job-level ones (KiB to bytes, pids to processes); the rest default. */
void job_plan_limits(const struct config_limits *l, struct sbx_limits *out);

#endif
