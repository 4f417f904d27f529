/* SPDX-License-Identifier: MIT */
/* runq_report: the results of `runq grade` and the reports made of them.
 * Does: keep one row per submission (from its finished graded job, or the reason it could
 * not be graded) with one entry per test; format them as the terminal table, JSON and CSV
 * (RFC 4180: CRLF, quoted when needed, quotes doubled; runq_junit makes the XML); the
 * run's exit code (the table in runq_args.h); the progress bar and progress lines.
 * Must not: do I/O (formats are returned as malloc'ed text), or trust a job answer's
 * shape: a missing field reads as unknown. Names that are not UTF-8 come out with U+FFFD. */
#ifndef RUNQ_CLI_REPORT_H
#define RUNQ_CLI_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "runq_args.h"

struct runq_report_test {
    char *name;
    char *verdict; /* "AC", "WA", ...; NULL while unknown (the job gave no result) */
    double score, points;
    long long cpu_ms, wall_ms, memory_kb; /* -1: unknown */
    char *detail; /* one line: where WA/PE differ, a checker's message, an exit; or NULL */
};

struct runq_report_sub {
    char *name; /* the submission's file name */
    char *language;
    char *job_id;  /* NULL until the job was accepted */
    char *verdict; /* the job's verdict; NULL when not graded (see error) */
    double score, max_score;
    long long time_ms;   /* the slowest test's CPU time; -1: none ran */
    char *error;         /* why it was not graded; NULL when graded */
    enum runq_exit exit; /* this submission's part of the exit code */
    char *compile;       /* the compiler's output of a CE; NULL */
    struct runq_report_test *tests;
    size_t ntests;
};

/* A row before its job ran: the tests' names and points, verdicts unknown; max_score is
 * their sum. Returns 0 or -ENOMEM (the row then holds nothing). */
int runq_report_init(struct runq_report_sub *s, const char *name, const char *language,
                     char *const *test_names, size_t ntests);

void runq_report_free(struct runq_report_sub *s);

/* Fills the row from a finished job (GET /v1/jobs/{id}): completed with a verdict: graded,
 * exit 0 for AC else 1; failed, cancelled or without a verdict: an error, exit 4. Returns
 * 0 or -ENOMEM. */
int runq_report_take_job(struct runq_report_sub *s, const json_t *job);

/* The row could not be graded: message (copied) and its exit code (RUNQ_EXIT_JOB or
 * RUNQ_EXIT_SERVER). Returns 0 or -ENOMEM. */
int runq_report_set_error(struct runq_report_sub *s, enum runq_exit code, const char *message);

/* The highest exit code of the rows (RUNQ_EXIT_OK for none). */
enum runq_exit runq_report_exit(const struct runq_report_sub *subs, size_t n);

/* The terminal table: SUBMISSION, VERDICT ("ERROR" when not graded), SCORE (score/max),
 * TIME; then a line per submission not graded with the reason, then a summary line. */
char *runq_report_table(const struct runq_report_sub *subs, size_t n);

/* {"submissions": [{"submission", "language", "job_id", "verdict", "score", "max_score",
 * "time_ms", "error", "tests": [{"name", "verdict", "score", "points", "cpu_ms",
 * "wall_ms", "memory_kb", "detail"}]}], "summary": {"submissions", "accepted",
 * "not_accepted", "errors", "exit_code"}}, unknown values null, pretty-printed. */
char *runq_report_json(const struct runq_report_sub *subs, size_t n);

/* A header and one row per submission: submission, language, job_id, verdict, score,
 * max_score, time_ms, passed, tests, error. */
char *runq_report_csv(const struct runq_report_sub *subs, size_t n);

/* s as one CSV field: quoted when it holds a comma, a quote, CR, LF or starts or ends with
 * a space, quotes doubled; invalid UTF-8 as U+FFFD. malloc'ed; NULL when out of memory. */
char *runq_report_csv_quote(const char *s);

/* Progress of a run, for stderr: a bar redrawn in place on a terminal, a line per finished
 * submission elsewhere (a log, a CI job), both with the rate and the time left. Pure: the
 * caller reads the clock and knows whether stderr is a terminal. */

/* Seconds as "0:07", "12:34" or "1:02:03"; "--:--" when negative or not finite. */
void runq_report_progress_eta(char *buf, size_t n, double seconds);

/* The bar, without "\r" or a newline:
 *   "graded [########............]  12/30  40%  2.5/s  ETA 0:07"
 * width: the characters between the brackets (at least 1). The rate and ETA read "-/s" and
 * "ETA --:--" until something is done and time has passed; "done in 0:12" replaces the ETA
 * once done == total. done above total counts as total. */
void runq_report_progress_bar(char *buf, size_t n, const char *label, size_t done, size_t total,
                              double elapsed, int width);

/* One line for a non-terminal, without a newline:
 *   "[12/30] wa.c: WA 1/3 (2.5/s, ETA 0:07)"
 * verdict NULL (not graded): "[12/30] ce.c: ERROR (...)". */
void runq_report_progress_line(char *buf, size_t n, size_t done, size_t total, double elapsed,
                               const char *name, const char *verdict, double score,
                               double max_score);

#endif
