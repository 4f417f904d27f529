/* SPDX-License-Identifier: MIT */
/* runq_plan: what `runq grade` sends, from plain lists of file names and their contents.
 * Does: order names naturally ("2" before "10"); pair a tests directory's NAME.in with
 * NAME.out or NAME.ans, refusing orphans, ambiguous pairs and names the API would refuse;
 * choose the submissions among a directory's files; build the POST /v1/jobs body of one
 * graded job (tests, checker, grading as common/job.h reads them).
 * Must not: do I/O (runq_grade lists and reads), or decide verdicts (the worker does). */
#ifndef RUNQ_CLI_PLAN_H
#define RUNQ_CLI_PLAN_H

#include <stddef.h>

#define RUNQ_PLAN_LABEL_MAX 64 /* bytes of a test name: JOB_LABEL_MAX of common/job.h */

/* Natural order: runs of digits compare by value ("t2" < "t10"), the rest bytewise; names
 * equal that way compare with strcmp, so the order is total. */
int runq_plan_natcmp(const char *a, const char *b);

/* Sorts names[0..n) naturally, in place. */
void runq_plan_sort(char **names, size_t n);

/* A test of the tests directory: file names relative to it. */
struct runq_plan_test {
    char *name;     /* NAME */
    char *in_file;  /* NAME.in */
    char *out_file; /* NAME.out or NAME.ans; NULL when there is none (custom checker only) */
};

/* Pairs the files of a tests directory (plain names, any order; others than *.in, *.out
 * and *.ans are ignored). need_output: every NAME.in needs its NAME.out or NAME.ans.
 * Returns 0 with *out (natural order of NAME) and *n, or -EINVAL with err saying which
 * file is the problem (no tests at all included), or -ENOMEM. */
int runq_plan_pair_tests(char *const *files, size_t nfiles, int need_output,
                         struct runq_plan_test **out, size_t *n, char *err, size_t errlen);

void runq_plan_free_tests(struct runq_plan_test *t, size_t n);

/* 1 when a file of the submissions directory is a submission: not hidden (no leading
 * "."), not a backup ("~" at the end). */
int runq_plan_is_submission(const char *name);

/* One test's data. */
struct runq_plan_data {
    const char *name;
    const char *in;
    size_t in_len;
    const char *out; /* NULL: no expected output */
    size_t out_len;
};

/* One graded job: a submission, its tests, how they are checked and scored. */
struct runq_plan_job {
    const char *language;
    const char *source;
    size_t source_len;
    const struct runq_plan_data *tests;
    size_t ntests;
    const char *checker;          /* a built-in kind, or NULL for the server's default */
    const char *checker_language; /* custom checker (checker NULL): its language, source */
    const char *checker_source;
    size_t checker_len;
    const char *scoring; /* NULL: the server's default */
    int stop_on_failure;
};

/* The request body, malloc'ed, in *out. Test data that is not UTF-8 goes as base64;
 * the sources must be UTF-8 text. Returns 0, -EILSEQ with err naming what is not UTF-8,
 * or -ENOMEM. */
int runq_plan_graded_body(const struct runq_plan_job *j, char **out, char *err, size_t errlen);

#endif
