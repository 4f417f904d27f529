/* SPDX-License-Identifier: MIT */
/* grading: the bookkeeping of one graded job on a worker (a job with tests): which test runs
 * next (stop on failure), each test's verdict from its run result and, with a custom checker,
 * the checker's result; the per-test records with a bounded excerpt of expected vs got; the
 * progress event of each test; and the job's final result with its verdict and score.
 * Does: turn sandbox results (JSON, as runq-sandbox answers) into verdicts with common/checker
 * and common/grade. Pure: no I/O; the runner runs the steps.
 * Must not: run anything, or trust a result's shape (a missing field makes the test IE). */
#ifndef RUNQ_WORKER_GRADING_H
#define RUNQ_WORKER_GRADING_H

#include <jansson.h>
#include <stddef.h>

#include "grade.h"
#include "job.h"

struct grading {
    const struct job_spec *job; /* borrowed: outlives the grading */
    struct grade_test *tests;   /* one per job test: verdict and earned share */
    json_t *records;            /* per test: its record, or null while it has not run */
    json_t *pending;            /* the current test's run result while its checker runs */
    size_t next;                /* tests before it are decided (or skipped) */
};

/* 0, -EINVAL (no tests) or -ENOMEM. */
int grading_init(struct grading *g, const struct job_spec *job);
void grading_free(struct grading *g);

/* The next test to run, or -1 when grading is over (tests not run are then skipped). */
long grading_next(struct grading *g);

/* The run result of test i. Returns 1 when a custom checker must judge it (the program
 * ended ok: grading_output gives what it printed), else 0: the verdict is decided. */
int grading_take_run(struct grading *g, size_t i, const json_t *run);

/* What the program of the test being checked printed. */
const char *grading_output(const struct grading *g, size_t *len);

/* The custom checker's result for test i (after grading_take_run returned 1). */
void grading_take_check(struct grading *g, size_t i, const json_t *check);

/* The program did not compile: every test is CE. */
void grading_compile_error(struct grading *g);

/* {"id", "event": "test", "index", "name", "verdict", "score", "points", "cpu_ms"} for test i
 * (after it was decided). NULL when out of memory. */
json_t *grading_event(const struct grading *g, const char *id, size_t i);

/* The job's result: {"status": "ok" | "compile_error", "verdict", "score", "max_score",
 * "counts": {verdict: n}, "groups": [...], "tests": [records], "compile": compile (when not
 * NULL; stolen)}. Tests that never ran are recorded as SK. NULL when out of memory. */
json_t *grading_result(struct grading *g, json_t *compile);

#endif
