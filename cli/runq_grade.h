/* SPDX-License-Identifier: MIT */
/* runq_grade: `runq grade`: every file of a directory graded against a directory of tests
 * on the fleet, all at once.
 * Does: check everything local first (tests paired and read, checker, each submission
 * readable and of a known language) so that a usage error costs no job; submit them all as
 * one batch (POST /v1/batches, the tests in it once); follow it by polling its summary,
 * cancelling it on SIGINT or SIGTERM or when it cannot be followed; then fetch each job's
 * full result (libcurl multi, bounded); show progress on stderr (a bar on a terminal, a
 * line per submission elsewhere); print the table; write the JSON, CSV and JUnit reports
 * asked for.
 * Must not: decide verdicts or format reports itself (the worker and runq_report do), give
 * up on a whole run for one submission's failure, or keep more than a bounded number of
 * requests in flight. */
#ifndef RUNQ_CLI_GRADE_H
#define RUNQ_CLI_GRADE_H

#include "runq_args.h"
#include "runq_http.h"

/* Runs `runq grade` as o says against the dispatcher at url (h: a client for it). Returns
 * the exit code: the highest of the submissions' (0 all AC, 1 some not AC, 3 server or
 * network, 4 refused or failed) and 2 when a report could not be written; 2 before
 * anything is submitted for a usage error. */
int runq_grade_run(struct runq_http *h, const struct runq_opts *o, const char *url);

#endif
