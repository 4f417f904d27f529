/* SPDX-License-Identifier: MIT */
/* runq_plan: what `runq grade` sends, from plain lists of file names and their contents.
 * Does: order names naturally ("2" before "10"); pair a tests directory's NAME.in with
 * NAME.out or NAME.ans, refusing orphans, ambiguous pairs and names the API would refuse;
 * choose the submissions among a directory's files; build the POST /v1/batches body of a
 * run (tests, checker, grading once, as common/batch.h reads them) and read the batch's
 * answers (its jobs' ids; how far it got).
 * Must not: do I/O (runq_grade lists and reads), or decide verdicts (the worker does). */
#ifndef RUNQ_CLI_PLAN_H
#define RUNQ_CLI_PLAN_H

#include <jansson.h>
#include <stddef.h>

#define RUNQ_PLAN_LABEL_MAX 64 /* bytes of a test name: JOB_LABEL_MAX of common/job.h */
#define RUNQ_PLAN_NAME_MAX 64  /* bytes of a submission's name: BATCH_NAME_MAX of common/batch.h */

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

/* How every submission of a run is graded: the same tests, checker and scoring. */
struct runq_plan_grading {
    const struct runq_plan_data *tests;
    size_t ntests;
    const char *checker;          /* a built-in kind, NULL for the server's default */
    const char *checker_language; /* a custom checker (checker is then unused): its */
    const char *checker_source;   /* language and source; NULL: none */
    size_t checker_len;
    const char *scoring; /* NULL: the server's default */
    int stop_on_failure;
};

/* One submission of a batch. */
struct runq_plan_sub {
    const char *name; /* its file name */
    const char *language;
    const char *source;
    size_t source_len;
};

/* The POST /v1/batches body, malloc'ed, in *out: the tests, checker and grading once, then
 * each submission with its language and source. Submissions are named by their file names
 * when the API takes every one of them (1..RUNQ_PLAN_NAME_MAX bytes, no control character;
 * the file names of one directory are unique); else none is named and the API numbers
 * them, as a made-up name could clash with another file's. Test data that is not UTF-8
 * goes as base64; the sources must be UTF-8 text. Returns 0, -EILSEQ with err naming what
 * is not UTF-8, or -ENOMEM. */
int runq_plan_batch_body(const struct runq_plan_grading *g, const struct runq_plan_sub *subs,
                         size_t n, char **out, char *err, size_t errlen);

/* The 202 answer of POST /v1/batches for n submissions: the batch's id and ids[0..n), the
 * job of each submission in the order sent, malloc'ed. Returns 0, -EPROTO when the answer
 * is not the API's (another number of jobs included), or -ENOMEM; nothing is left
 * allocated unless it returns 0. */
int runq_plan_batch_accepted(const char *body, size_t len, size_t n, char **batch_id, char **ids);

/* A job of a batch as GET /v1/batches/{id} sums it up. */
struct runq_plan_batch_job {
    int finished;        /* completed, failed or cancelled: its result can be fetched */
    const char *verdict; /* completed: its verdict (or status); else NULL */
    double score, max_score;
};

/* Reads a GET /v1/batches/{id} answer: jobs[i] for the job ids[i] (i < n, the ids as
 * accepted). The strings point into answer. Returns 0, or -EPROTO when it is not the API's
 * answer or lacks one of the ids. */
int runq_plan_batch_read(const json_t *answer, char *const *ids, size_t n,
                         struct runq_plan_batch_job *jobs);

#endif
