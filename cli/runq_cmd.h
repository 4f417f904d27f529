/* SPDX-License-Identifier: MIT */
/* runq_cmd: the commands about one job (submit, get, watch, cancel) and `languages`, and
 * what `runq grade` shares with them (the language list, error reporting).
 * Does: read the local files a command names, talk to the dispatcher (runq_http), print
 * results (program output on stdout/stderr as the program wrote it; runq's own lines on
 * stderr, "runq: ..."), and return the exit code of runq_args.h.
 * Must not: exit, parse the command line (runq_args) or format reports (runq_report);
 * retry anything but a 503 or a broken long poll, and those a bounded number of times. */
#ifndef RUNQ_CLI_CMD_H
#define RUNQ_CLI_CMD_H

#include "runq_args.h"
#include "runq_http.h"
#include "runq_lang.h"

/* Each returns an exit code (enum runq_exit). */
int runq_cmd_submit(struct runq_http *h, const struct runq_opts *o);
int runq_cmd_get(struct runq_http *h, const struct runq_opts *o);
int runq_cmd_watch(struct runq_http *h, const struct runq_opts *o);
int runq_cmd_cancel(struct runq_http *h, const struct runq_opts *o);
int runq_cmd_languages(struct runq_http *h, const struct runq_opts *o);

/* GET /v1/languages into *out. Returns RUNQ_EXIT_OK, or another exit code after printing
 * why. */
int runq_cmd_fetch_languages(struct runq_http *h, struct runq_langs *out);

/* Prints "runq: <what>: <reason>" for an answer that is not a success (no answer at all,
 * or an error status) and returns its exit code. */
int runq_cmd_fail(const char *what, const struct runq_http_resp *r);

/* Sleeps ms milliseconds (a pause between retries). */
void runq_cmd_sleep_ms(long ms);

#endif
