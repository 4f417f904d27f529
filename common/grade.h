/* SPDX-License-Identifier: MIT */
/* grade: verdicts and scores of a batch-graded job.
 * Does: turn a sandbox run status and a checker outcome into a test verdict; say whether
 * the next test still runs (stop on failure); sum the tests up into the job's verdict,
 * score, counts per verdict and per-group scores.
 * Must not: compare output (checker does), run anything, do I/O or keep state. Everything
 * is plain data in, plain data out; only grade_summarize allocates, for what it returns. */
#ifndef RUNQ_COMMON_GRADE_H
#define RUNQ_COMMON_GRADE_H

#include <stddef.h>

#include "checker.h"

/* A test's verdict (CE is the job's: every test of a job whose compilation failed gets it).
 *   AC accepted, PA partially accepted (a custom checker gave 0 < X < 1 of the points),
 *   WA wrong answer, PE presentation error, TLE time (CPU or wall), MLE memory,
 *   RE runtime error (nonzero exit or a signal), OLE output limit, SV security violation,
 *   IE internal error (the sandbox's or the checker's, never the contestant's),
 *   CE compile error, SK skipped (not run because of stop on failure).
 * A verdict "fails" unless it is AC or PA. */
enum grade_verdict {
    GRADE_AC,
    GRADE_PA,
    GRADE_WA,
    GRADE_PE,
    GRADE_TLE,
    GRADE_MLE,
    GRADE_RE,
    GRADE_OLE,
    GRADE_SV,
    GRADE_IE,
    GRADE_CE,
    GRADE_SK,
};
#define GRADE_VERDICT_COUNT 12

/* "AC", "PA", "WA", ...; NULL for a value out of range. */
const char *grade_verdict_name(enum grade_verdict v);

/* The verdict named name (exact case). Returns 0, or -EINVAL. */
int grade_verdict_parse(const char *name, enum grade_verdict *out);

/* 1 unless v is AC or PA. */
int grade_verdict_failed(enum grade_verdict v);

/* A test's verdict from the sandbox result's "status" of its run and, when that is "ok",
 * the checker's outcome:
 *   "ok" + accepted AC, + partial PA, + wrong WA, + presentation PE, + checker failed IE,
 *   "ok" without an outcome (checker NULL) IE; "runtime_error" RE, "signaled" RE,
 *   "time_limit" TLE, "memory_limit" MLE, "output_limit" OLE, "security_violation" SV,
 *   "internal_error" IE, and IE for anything else (NULL included): an unknown status is our
 *   bug, not the contestant's. */
enum grade_verdict grade_test_verdict(const char *run_status, const struct checker_outcome *c);

/* How tests add up to a score:
 *   sum         the sum of what each test earned.
 *   groups_min  DMOJ batches / CMS GroupMin: a group is worth the sum of its tests' points
 *               and earns (the smallest share earned by any of its tests) x (its points),
 *               so it gets everything only if every test is AC, and a partial test caps it
 *               at that test's share. */
enum grade_scoring {
    GRADE_SCORING_SUM,
    GRADE_SCORING_GROUPS_MIN,
};

/* "sum", "groups_min"; NULL for a value out of range. */
const char *grade_scoring_name(enum grade_scoring s);

/* Returns 0, or -EINVAL for any other name. */
int grade_scoring_parse(const char *name, enum grade_scoring *out);

struct grade_options {
    enum grade_scoring scoring; /* default GRADE_SCORING_SUM */
    int stop_on_failure;        /* default 0: every test runs */
};

/* One test as the grader sees it. Tests with the same non-empty group name form a group
 * (they need not be next to each other); a test without one is a group of its own. */
struct grade_test {
    const char *group; /* NULL or "": a group of its own */
    double points;     /* > 0 */
    enum grade_verdict verdict;
    double fraction; /* PA only: the checker's share, clamped to [0, 1] */
};

/* What t earned: its points for AC, fraction x points for PA, else 0. */
double grade_test_earned(const struct grade_test *t);

/* Whether tests[next] should run, given the verdicts of tests[0..next) (those of later tests
 * are not read). Without stop_on_failure: always. With it:
 *   sum         no once any earlier test failed (SK excepted): the rest is skipped.
 *   groups_min  no once an earlier test of the same group failed: that group earns 0
 *               whatever the rest does, while the other groups still run and score. A test
 *               without a group always runs.
 * A test that does not run gets GRADE_SK. O(next) per call. */
int grade_should_run(const struct grade_test *tests, size_t next, const struct grade_options *o);

/* A group of the summary. ungrouped tests are groups with name NULL and one test. */
struct grade_group {
    const char *name; /* borrowed from the tests' group strings; NULL when ungrouped */
    size_t first;     /* index of its first test */
    size_t ntests;
    double score;
    double max_score;           /* the sum of its tests' points */
    enum grade_verdict verdict; /* that of its first failing test, else PA if any, else AC */
};

/* The job's result. verdict: that of the first failing test in test order; else PA when a
 * test is PA; else AC (AC too for no tests). score: the sum of the groups' scores;
 * max_score: the sum of all points. Groups are in the order of their first test. */
struct grade_summary {
    enum grade_verdict verdict;
    double score;
    double max_score;
    size_t counts[GRADE_VERDICT_COUNT]; /* tests per verdict */
    struct grade_group *groups;
    size_t ngroups;
};

/* Sums tests[0..n) up under o->scoring. O(n log n). Returns 0 with *out filled (free it
 * with grade_summary_free; the group names point into tests), -EINVAL with *out zeroed when
 * a test has points that are not > 0 and finite or a verdict out of range, -ENOMEM. */
int grade_summarize(const struct grade_test *tests, size_t n, const struct grade_options *o,
                    struct grade_summary *out);

/* Frees what *s owns and zeroes it; safe on a zeroed summary. */
void grade_summary_free(struct grade_summary *s);

#endif
