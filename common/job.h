/* SPDX-License-Identifier: MIT */
/* job: the job a client submits, from the HTTP body of POST /v1/jobs to a validated
 * struct job_spec, and to/from the canonical JSON the worker reads back from Redis.
 * Does: strict parsing and validation (types, sizes, file names, policy maxima) with an
 * HTTP status, a machine code and a field path for every rejection.
 * Must not: do I/O, talk to Redis or HTTP, keep global state, or trust the canonical JSON
 * it reads back (file names are re-checked there, because the worker writes them to disk). */
#ifndef RUNQ_COMMON_JOB_H
#define RUNQ_COMMON_JOB_H

#include <jansson.h>

#include "checker.h"
#include "config.h"
#include "grade.h"
#include <stddef.h>
#include <stdint.h>

#define JOB_NAME_MAX 255    /* bytes in a file name (a relative path) */
#define JOB_QUEUE_MAX 64    /* bytes in a queue name: [A-Za-z0-9._-] */
#define JOB_LANGUAGE_MAX 64 /* bytes in a language name or alias */
#define JOB_PRIORITY_MIN 0  /* the most urgent */
#define JOB_PRIORITY_MAX 9
#define JOB_PRIORITY_DEFAULT 5
#define JOB_JSON_VERSION 1 /* "version" of the canonical JSON */
#define JOB_LABEL_MAX 64   /* bytes in a test name or group name */
#define JOB_POINTS_MAX 1e9 /* a test's points: large enough, and sums stay finite */

/* Resource limits asked for by the job; 0 = not given (the language/config default applies). */

/* One file of the job. data is malloc'ed (never NULL, even when len is 0) and may contain
 * NUL bytes. name is NULL only for the single file of a job given as "source". */
struct job_file {
    char *name;
    unsigned char *data;
    size_t len;
};

/* One test case of a graded job. Data is malloc'ed (never NULL) and may contain NUL bytes. */
struct job_test {
    char *name; /* unique in the job: given, or "1", "2", ... by position */
    unsigned char *stdin_data;
    size_t stdin_len;
    unsigned char *expected; /* "expected_output"; "" when not given (custom checker only) */
    size_t expected_len;
    double points; /* > 0 and <= JOB_POINTS_MAX, default 1 */
    char *group;   /* NULL: a group of its own */
};

/* How a graded job's output is checked. */
struct job_checker {
    struct checker_opts opts; /* kind (default lines); float: tolerances, defaults applied */
    char *language;           /* custom only: canonical name (after resolve_language) */
    unsigned char *source;    /* custom only: the checker program, may contain NUL bytes */
    size_t source_len;
};

/* A validated job. Everything in it is owned by it: release with job_spec_free(). */
struct job_spec {
    char *language;         /* canonical name (after resolve_language) */
    struct job_file *files; /* nfiles >= 1 */
    size_t nfiles;
    unsigned char *stdin_data; /* like file data; NULL when !has_stdin */
    size_t stdin_len;
    int has_stdin;
    char **args; /* nargs strings without NUL bytes; NULL when nargs == 0 */
    size_t nargs;
    struct config_limits limits;
    char *queue;      /* "default" unless given */
    int priority;     /* JOB_PRIORITY_MIN..JOB_PRIORITY_MAX */
    int64_t run_at_ms; /* not before this time (ms since the epoch); 0: at once */
    char *callback_url; /* POSTed the final result (signed); NULL: none */
    char *batch;        /* a batch's job: the batch id (its tests are stored with the batch) */
    char *name;         /* a batch's job: the submission's name */
    json_t *metadata; /* any JSON value (json null included); NULL when absent */
    /* Batch grading: ntests == 0 is a plain run (one run with stdin, no checker), and then
     * checker and grading are zero. Otherwise has_stdin is 0: each test has its own. */
    struct job_test *tests;
    size_t ntests;
    struct job_checker checker;
    struct grade_options grading;
};

/* What the dispatcher accepts. Every maximum of 0 means "no maximum" (for limits this is
 * per key). The callbacks are called synchronously from job_spec_parse() with ctx. */
struct job_policy {
    struct config_limits maximum;
    size_t max_body_bytes;   /* whole request body, checked before parsing */
    size_t max_source_bytes; /* sum of all decoded file sizes */
    size_t max_stdin_bytes;
    size_t max_files;
    size_t max_args;
    size_t max_tests;          /* test cases of a graded job (0: no maximum, like the others) */
    size_t max_metadata_bytes; /* compact serialization of "metadata" */
    /* Returns the canonical name for a name or alias (copied by the parser), or NULL when
     * unknown. NULL callback: the name is taken as given. */
    const char *(*resolve_language)(void *ctx, const char *name_or_alias);
    /* Returns nonzero when the queue exists. NULL callback: every well-formed name exists. */
    int (*queue_exists)(void *ctx, const char *queue);
    void *ctx;
    int64_t now_ms;       /* the clock, for "run_at" (a run_at not after it runs at once) */
    int64_t max_delay_ms; /* how far ahead "run_at" may be (0: no limit) */
    int webhooks;         /* callback_url is accepted (the fleet has webhooks.secret) */
};

/* A rejection, as the dispatcher sends it: status + {"error": {"code", "message", "field"}}.
 * code is a static string; field is "" or a path like "files[2].name", "limits.cpu_ms".
 *   invalid_json 400       body is not JSON or not an object (message has line and column)
 *   invalid_field 400      missing/unknown field, wrong type, bad value, bad file name,
 *                          bad base64, priority out of range, source and files both/neither
 *   payload_too_large 413  body, files, stdin, metadata, number of files, args or tests,
 *                          a test's stdin or expected output, a checker's source too big
 *   unknown_language 422 (field "language" or "checker.language"), unknown_queue 422,
 *   limit_too_high 422 (field "limits.<key>")
 *   internal_error 500     out of memory (the function then returns -ENOMEM) */
struct api_error {
    int status;
    const char *code;
    char message[256];
    char field[64];
};

/* Parses and validates a request body (body[0..len), not necessarily NUL-terminated).
 * Rules beyond types: "source" (a string) or "files" (a non-empty array of {"name",
 * "content", "encoding": "utf8" | "base64"}), not both. A "source" job gets one file whose
 * name is NULL: the caller names it after the language's file (e.g. "main.py") before
 * storing. File names are relative paths, at most 255 bytes, without NUL or control bytes,
 * a leading "/", empty, "." or ".." components; no name may repeat or be a directory of
 * another ("a" and "a/b"). JSON null is a wrong type for every field except "metadata".
 * Sizes are checked before base64 decoding.
 * Batch grading (all optional; "checker" and "grading" need "tests"):
 *   "tests": [{"name", "stdin", "expected_output", "points", "group"}, ...], 1..max_tests
 *     of them, and then no top-level "stdin" (rejected naming "stdin"). "stdin" and
 *     "expected_output" are a string or {"content": string, "encoding": "utf8" | "base64"};
 *     "stdin" defaults to "", "expected_output" is required unless the checker is custom.
 *     "name" (default "1", "2", ... by position) and "group" are 1..JOB_LABEL_MAX bytes
 *     without control characters; names are unique. "points": a number > 0, at most
 *     JOB_POINTS_MAX, default 1.
 *   "checker": "lines" (the default) | "exact" | "tokens" | "float", or an object
 *     {"type": one of those, and for "float" "abs" and/or "rel" (numbers >= 0; neither:
 *     both CHECKER_DEFAULT_*, only one: the other is 0)} or {"type": "custom", "source":
 *     string, "language": resolved like "language"}.
 *   "grading": {"stop_on_failure": bool (false), "scoring": "sum" (default) | "groups_min"}.
 *   Sizes: each test's stdin and expected output (decoded) is held to max_stdin_bytes (each
 *   is one run's input, or compared with one run's output); a custom checker's source to
 *   max_source_bytes on its own (it is not the contestant's program); the job as a whole
 *   to max_body_bytes, as before.
 * Returns 0 with *out filled (the caller frees it with job_spec_free), or -EINVAL / -ENOMEM
 * with *err filled and nothing in *out. */
int job_spec_parse(const char *body, size_t len, const struct job_policy *p, struct job_spec *out,
                   struct api_error *err);

/* job_spec_parse of a body already parsed (e.g. built from a batch's submission). */
int job_spec_parse_value(json_t *root, const struct job_policy *p, struct job_spec *out,
                         struct api_error *err);

/* Frees what *s owns and zeroes it. Safe on a zeroed or already freed spec. */
void job_spec_free(struct job_spec *s);

/* Canonical JSON for storage: {"version": 1, "language", "files": [{"name" (string, or null
 * for an unnamed source file), "data" (base64)}], "stdin" (base64, only if has_stdin),
 * "args", "limits" (only the keys given), "queue", "priority", "metadata" (only if present,
 * a deep copy), and for a graded job (ntests > 0) "tests": [{"name", "stdin" (base64),
 * "expected_output" (base64), "points", "group" (only if set)}], "checker": {"type", "abs"
 * and "rel" (float only), "language" and "source" (a string; custom only)}, "grading":
 * {"stop_on_failure", "scoring"}}. Metadata strings may hold NUL bytes: load the stored text with
 * JSON_ALLOW_NUL. Returns a new reference, or NULL when out of memory (or when a string in
 * a hand-built spec is not valid UTF-8; parsed specs always are). */
json_t *job_spec_to_json(const struct job_spec *s);

/* Strictly reads the canonical form back (unknown or missing keys, wrong types, bad base64,
 * bad or repeated file names, a null name unless it is the only file, are errors; policy
 * maxima are not checked; "tests", "checker" and "grading" come all three or none, with
 * every key of theirs). j is not modified or kept. Returns 0 with *out filled, or
 * -EINVAL / -ENOMEM with *err filled (field set) and nothing in *out. */
int job_spec_from_json(const json_t *j, struct job_spec *out, struct api_error *err);

/* The graded part of a spec alone, {"tests", "checker", "grading"} in the canonical form:
 * what a batch stores once for all its jobs. NULL when the spec has no tests or out of
 * memory. */
json_t *job_spec_graded_json(const struct job_spec *s);

/* Reads such a graded part into out (a batch's job, read back without tests). 0, or
 * -EINVAL / -ENOMEM with *e filled (out keeps what it had; job_spec_free frees it all). */
int job_spec_graded_from_json(const json_t *j, struct job_spec *out, struct api_error *e);

/* dst's tests, checker and grading as deep copies of src's (dst has none yet): what a
 * batch's other jobs take from its first, and what a worker gives each job of a batch from
 * the tests it decoded once, instead of validating the same tests again.
 * 0, or -ENOMEM (what was copied stays in dst: job_spec_free frees it). */
int job_graded_copy(struct job_spec *dst, const struct job_spec *src);

/* {"error": {"code", "message", "field"}}, "field" left out when empty. New reference or
 * NULL when out of memory. */
json_t *api_error_to_json(const struct api_error *e);

#endif
