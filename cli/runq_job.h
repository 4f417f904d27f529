/* SPDX-License-Identifier: MIT */
/* runq_job: one job as the client sees it: the POST /v1/jobs body of a plain run, what a
 * job answer (GET /v1/jobs/{id}) means for the exit code, the human text for it, the
 * text of an error answer, and the exit code of an HTTP status.
 * Does: build and read JSON (jansson); decide exit codes by the table in runq_args.h.
 * Must not: do I/O (the caller prints and reads files), or trust the answer's shape: a
 * missing or mistyped field reads as absent, never a crash. */
#ifndef RUNQ_CLI_JOB_H
#define RUNQ_CLI_JOB_H

#include <jansson.h>
#include <stddef.h>

#include "runq_args.h"

/* A plain run. Data may hold NUL bytes but must be valid UTF-8 (the API takes "source" and
 * "stdin" as JSON strings). */
struct runq_job_req {
    const char *language;
    const char *source;
    size_t source_len;
    const char *stdin_data; /* NULL: no "stdin" */
    size_t stdin_len;
    const char *const *args;
    size_t nargs;
};

/* The request body, malloc'ed, in *out. Returns 0, -EILSEQ with err naming what is not
 * UTF-8 ("the source", "stdin", "--arg 2"), or -ENOMEM. */
int runq_job_body(const struct runq_job_req *r, char **out, char *err, size_t errlen);

/* 1 when the job's "status" is completed, failed or cancelled. */
int runq_job_finished(const json_t *job);

/* The exit code a job means: not finished 0; completed with result "ok" (plain) or verdict
 * AC (graded) 0; completed otherwise 1 (internal_error results: 4); failed or cancelled 4. */
enum runq_exit runq_job_exit(const json_t *job);

/* The exit code of an HTTP answer: 2xx 0; 4xx RUNQ_EXIT_JOB; 0 (no answer), 5xx and
 * anything else RUNQ_EXIT_SERVER. */
enum runq_exit runq_job_http_exit(long status);

/* "HTTP <status> <code>: <message> (<field>)" from the API's {"error": {...}} body, or
 * "HTTP <status>: <the start of the body, made printable>" for any other body. */
void runq_job_error_text(long status, const char *body, size_t len, char *buf, size_t n);

/* What a person reads about a job on stderr, lines ending in "\n": the status line
 * ("<id> completed: runtime_error, exit 2 (non-zero exit status), cpu 16 ms, wall 1.2 s,
 * memory 3.0 MiB"), for a graded job its verdict, score and one line per test, for a
 * compile error the compiler's output. The program's own stdout and stderr are not in it
 * (the caller writes them where they belong). malloc'ed; NULL when out of memory. */
char *runq_job_describe(const json_t *job);

/* A duration for people: "12 ms" below 10 s, else "12.3 s"; "-" when negative. */
void runq_job_fmt_ms(long long ms, char *buf, size_t n);

#endif
