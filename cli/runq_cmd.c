/* SPDX-License-Identifier: MIT */
/* runq_cmd: see runq_cmd.h. A job's answer is parsed with JSON_ALLOW_NUL: a program's
 * output is its bytes (made UTF-8) and may hold NUL, which the API sends as \u0000. */
#include "runq_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runq_io.h"
#include "runq_job.h"
#include "runq_sse.h"

#define WAIT_S 30                   /* ?wait= of a long poll; the dispatcher allows up to 60 s */
#define BUSY_RETRIES 60             /* 503 answers in a row (1 s apart) before giving up */
#define BROKEN_RETRIES 3            /* long polls in a row that got no answer */
#define SSE_MAX ((size_t)256 << 20) /* an event holds at most a job with its output */

void runq_cmd_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int runq_cmd_fail(const char *what, const struct runq_http_resp *r)
{
    char text[512];

    if (r->status == 0) {
        fprintf(stderr, "runq: %s: %s\n", what, r->error[0] ? r->error : "no answer");
        return RUNQ_EXIT_SERVER;
    }
    runq_job_error_text(r->status, r->body, r->len, text, sizeof(text));
    fprintf(stderr, "runq: %s: %s\n", what, text);
    return r->status >= 200 && r->status < 300 ? RUNQ_EXIT_SERVER : runq_job_http_exit(r->status);
}

/* The body of a 2xx answer as a JSON object; prints why not and returns NULL otherwise. */
static json_t *object_of(const char *what, const struct runq_http_resp *r)
{
    json_t *j = r->body ? json_loadb(r->body, r->len, JSON_ALLOW_NUL, NULL) : NULL;

    if (!json_is_object(j)) {
        json_decref(j);
        fprintf(stderr, "runq: %s: the answer (HTTP %ld) is not the API's JSON\n", what, r->status);
        return NULL;
    }
    return j;
}

/* The answer to a request (http_rc is what runq_http_get/_post returned) as a JSON object in
 * *out: RUNQ_EXIT_OK, or an exit code after printing why (not HTTP 200, or not the API's JSON)
 * with *out NULL. Frees r either way. */
static int answer_object(const char *what, int http_rc, struct runq_http_resp *r, json_t **out)
{
    int rc;

    *out = NULL;
    if (http_rc < 0 || r->status != 200)
        rc = runq_cmd_fail(what, r);
    else
        rc = (*out = object_of(what, r)) ? RUNQ_EXIT_OK : RUNQ_EXIT_SERVER;
    runq_http_resp_free(r);
    return rc;
}

static void print_json(const json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (text)
        printf("%s\n", text);
    free(text);
}

static void write_string(FILE *f, const json_t *s)
{
    if (json_string_length(s))
        fwrite(json_string_value(s), 1, json_string_length(s), f);
    fflush(f);
}

/* A finished or unfinished job as submit --wait, get and watch show it. */
static int show_job(const json_t *job, int json, int with_output)
{
    const json_t *r = json_object_get(job, "result");
    char *text;

    if (json) {
        print_json(job);
        return runq_job_exit(job);
    }
    if (with_output) {
        write_string(stdout, json_object_get(r, "stdout"));
        write_string(stderr, json_object_get(r, "stderr"));
    }
    if ((text = runq_job_describe(job)))
        fprintf(stderr, "runq: %s", text);
    free(text);
    return runq_job_exit(job);
}

/* Long polls GET /v1/jobs/{id}?wait= until the job has finished. Returns RUNQ_EXIT_OK with
 * *job, or an exit code after printing why. */
static int wait_job(struct runq_http *h, const char *id, json_t **job)
{
    char path[256], what[160];
    int busy = 0, broken = 0;

    snprintf(path, sizeof(path), "/v1/jobs/%s?wait=%d", id, WAIT_S);
    snprintf(what, sizeof(what), "waiting for %s", id);
    for (;;) {
        struct runq_http_resp r;
        int rc = runq_http_get(h, path, (WAIT_S + 15) * 1000L, &r);

        if (rc == 0 && r.status == 200) {
            json_t *j = object_of(what, &r);
            runq_http_resp_free(&r);
            if (!j)
                return RUNQ_EXIT_SERVER;
            if (runq_job_finished(j)) {
                *job = j;
                return RUNQ_EXIT_OK;
            }
            json_decref(j);
            busy = broken = 0;
            continue;
        }
        if ((rc < 0 && ++broken < BROKEN_RETRIES) || (r.status == 503 && ++busy < BUSY_RETRIES)) {
            runq_http_resp_free(&r);
            runq_cmd_sleep_ms(1000);
            continue;
        }
        rc = runq_cmd_fail(what, &r);
        runq_http_resp_free(&r);
        return rc;
    }
}

int runq_cmd_fetch_languages(struct runq_http *h, struct runq_langs *out)
{
    struct runq_http_resp r;
    char err[256];
    int rc;

    memset(out, 0, sizeof(*out));
    if (runq_http_get(h, "/v1/languages", 0, &r) < 0 || r.status != 200) {
        rc = runq_cmd_fail("GET /v1/languages", &r);
        runq_http_resp_free(&r);
        return rc;
    }
    rc = runq_lang_parse(r.body, r.len, out, err, sizeof(err));
    runq_http_resp_free(&r);
    if (rc == -ENOMEM)
        fprintf(stderr, "runq: out of memory\n");
    else if (rc < 0)
        fprintf(stderr, "runq: %s\n", err);
    return rc < 0 ? RUNQ_EXIT_SERVER : RUNQ_EXIT_OK;
}

/* The language of o->path: --language, else by its extension. *lang is o->language or a
 * malloc'ed name. */
static int submit_language(struct runq_http *h, const struct runq_opts *o, char **lang)
{
    struct runq_langs langs;
    const char *found;
    int rc;

    *lang = NULL;
    if (o->language)
        return RUNQ_EXIT_OK;
    if ((rc = runq_cmd_fetch_languages(h, &langs)) != RUNQ_EXIT_OK)
        return rc;
    if ((found = runq_lang_from_path(&langs, o->path)) && !(*lang = strdup(found)))
        found = NULL;
    runq_lang_free(&langs);
    if (!*lang) {
        fprintf(stderr,
                "runq: %s: cannot tell the language from the extension; give --language "
                "(runq languages lists them)\n",
                o->path);
        return RUNQ_EXIT_USAGE;
    }
    return RUNQ_EXIT_OK;
}

/* The files of a submit: the source, and stdin when --stdin names one. Local, so they are
 * read before anything is asked of the server. */
struct submit_files {
    char *src, *in;
    size_t src_len, in_len;
};

static int submit_read(const struct runq_opts *o, struct submit_files *f)
{
    char err[512];

    if (runq_io_read(o->path, &f->src, &f->src_len, err, sizeof(err)) < 0 ||
        (o->stdin_path && runq_io_read(o->stdin_path, &f->in, &f->in_len, err, sizeof(err)) < 0)) {
        fprintf(stderr, "runq: %s\n", err);
        return RUNQ_EXIT_USAGE;
    }
    return RUNQ_EXIT_OK;
}

static int submit_body(const struct runq_opts *o, const struct submit_files *f,
                       const char *language, char **body)
{
    struct runq_job_req req = {language, f->src, f->src_len, f->in, f->in_len, o->args, o->nargs};
    char err[512];

    switch (runq_job_body(&req, body, err, sizeof(err))) {
    case 0:
        return RUNQ_EXIT_OK;
    case -EILSEQ:
        fprintf(stderr, "runq: %s: %s\n", o->path, err);
        return RUNQ_EXIT_USAGE;
    default:
        fprintf(stderr, "runq: out of memory\n");
        return RUNQ_EXIT_USAGE;
    }
}

int runq_cmd_submit(struct runq_http *h, const struct runq_opts *o)
{
    struct submit_files files = {0};
    char *lang = NULL, *body = NULL;
    struct runq_http_resp r = {0};
    json_t *answer = NULL, *job = NULL;
    const char *id;
    int rc;

    if ((rc = submit_read(o, &files)) != RUNQ_EXIT_OK ||
        (rc = submit_language(h, o, &lang)) != RUNQ_EXIT_OK ||
        (rc = submit_body(o, &files, lang ? lang : o->language, &body)) != RUNQ_EXIT_OK)
        goto out;
    if (runq_http_post(h, "/v1/jobs", body, &r) < 0 || r.status < 200 || r.status >= 300) {
        rc = runq_cmd_fail("POST /v1/jobs", &r);
        goto out;
    }
    if (!(answer = object_of("POST /v1/jobs", &r)) ||
        !(id = json_string_value(json_object_get(answer, "id")))) {
        if (answer)
            fprintf(stderr, "runq: POST /v1/jobs: the answer has no job id\n");
        rc = RUNQ_EXIT_SERVER;
        goto out;
    }
    if (!o->wait) {
        if (o->json)
            print_json(answer);
        else
            printf("%s\n", id);
        rc = RUNQ_EXIT_OK;
        goto out;
    }
    if (!o->json)
        fprintf(stderr, "runq: submitted %s\n", id);
    if ((rc = wait_job(h, id, &job)) == RUNQ_EXIT_OK)
        rc = show_job(job, o->json, 1);
out:
    json_decref(job);
    json_decref(answer);
    runq_http_resp_free(&r);
    free(body);
    free(lang);
    free(files.src);
    free(files.in);
    return rc;
}

int runq_cmd_get(struct runq_http *h, const struct runq_opts *o)
{
    struct runq_http_resp r;
    char path[256], what[160];
    json_t *job;
    int rc;

    snprintf(path, sizeof(path), "/v1/jobs/%s", o->id);
    snprintf(what, sizeof(what), "GET %s", path);
    if ((rc = answer_object(what, runq_http_get(h, path, 0, &r), &r, &job)) != RUNQ_EXIT_OK)
        return rc;
    rc = show_job(job, o->json, 1);
    json_decref(job);
    return rc;
}

int runq_cmd_cancel(struct runq_http *h, const struct runq_opts *o)
{
    struct runq_http_resp r;
    char path[256], what[160];
    json_t *answer;
    int rc;

    snprintf(path, sizeof(path), "/v1/jobs/%s/cancel", o->id);
    snprintf(what, sizeof(what), "cancel %s", o->id);
    if ((rc = answer_object(what, runq_http_post(h, path, "", &r), &r, &answer)) != RUNQ_EXIT_OK)
        return rc;
    if (o->json) {
        print_json(answer);
    } else {
        const char *status = json_string_value(json_object_get(answer, "status"));
        printf("%s %s\n", o->id, status ? status : "cancelled");
    }
    json_decref(answer);
    return RUNQ_EXIT_OK;
}

int runq_cmd_languages(struct runq_http *h, const struct runq_opts *o)
{
    struct runq_langs langs;
    struct runq_http_resp r;
    char *table;
    int rc;

    if (o->json) {
        json_t *j;
        rc = answer_object("GET /v1/languages", runq_http_get(h, "/v1/languages", 0, &r), &r, &j);
        if (j)
            print_json(j);
        json_decref(j);
        return rc;
    }
    if ((rc = runq_cmd_fetch_languages(h, &langs)) != RUNQ_EXIT_OK)
        return rc;
    table = runq_lang_table(&langs);
    runq_lang_free(&langs);
    if (!table) {
        fprintf(stderr, "runq: out of memory\n");
        return RUNQ_EXIT_SERVER;
    }
    fputs(table, stdout);
    free(table);
    return RUNQ_EXIT_OK;
}

/*** watch ***/

struct watch {
    const char *id;
    int json;
    int terminal;  /* a finished/cancelled event, or a finished snapshot, came */
    int failed;    /* the stream was bad (too large, out of memory) */
    size_t output; /* bytes of output events written */
    struct runq_sse sse;
};

static double number(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static int on_event(void *arg, const struct runq_sse_event *ev)
{
    struct watch *w = arg;
    json_t *d = json_loadb(ev->data, ev->len, JSON_ALLOW_NUL, NULL);
    const char *s;

    if (w->json) {
        json_t *line = json_pack("{s:s, s:o}", "event", ev->event, "data",
                                 d ? json_incref(d) : json_stringn(ev->data, ev->len));
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        fflush(stdout);
        free(text);
        json_decref(line);
    }
    if (!strcmp(ev->event, "snapshot")) {
        w->terminal = runq_job_finished(d);
        if (!w->json && !w->terminal && (s = json_string_value(json_object_get(d, "status"))))
            fprintf(stderr, "runq: %s %s\n", w->id, s);
    } else if (!strcmp(ev->event, "output") && !w->json) {
        const json_t *data = json_object_get(d, "data");
        s = json_string_value(json_object_get(d, "stream"));
        write_string(s && !strcmp(s, "stderr") ? stderr : stdout, data);
        w->output += json_string_length(data);
    } else if (!strcmp(ev->event, "test") && !w->json) {
        char cpu[32];
        runq_job_fmt_ms(json_is_integer(json_object_get(d, "cpu_ms"))
                            ? (long long)json_integer_value(json_object_get(d, "cpu_ms"))
                            : -1,
                        cpu, sizeof(cpu));
        s = json_string_value(json_object_get(d, "name"));
        fprintf(stderr, "runq: test %s: %s %g/%g %s\n", s ? s : "?",
                json_string_value(json_object_get(d, "verdict"))
                    ? json_string_value(json_object_get(d, "verdict"))
                    : "?",
                number(d, "score"), number(d, "points"), cpu);
    } else if (!strcmp(ev->event, "finished") || !strcmp(ev->event, "cancelled")) {
        w->terminal = 1;
    } else if (!w->json && strcmp(ev->event, "message")) {
        fprintf(stderr, "runq: %s %s\n", w->id, ev->event); /* started, compiled, ... */
    }
    json_decref(d);
    return w->terminal;
}

static int on_stream(void *arg, const char *data, size_t len)
{
    struct watch *w = arg;
    int rc = runq_sse_feed(&w->sse, data, len, on_event, w);

    if (rc < 0) {
        w->failed = 1;
        fprintf(stderr, "runq: the event stream of %s: %s\n", w->id,
                rc == -E2BIG ? "an event is too large" : "out of memory");
    }
    return rc;
}

int runq_cmd_watch(struct runq_http *h, const struct runq_opts *o)
{
    struct watch w = {.id = o->id, .json = o->json};
    struct runq_http_resp r;
    char path[256], what[160];
    json_t *job = NULL;
    int rc;

    snprintf(path, sizeof(path), "/v1/jobs/%s/events", o->id);
    snprintf(what, sizeof(what), "watch %s", o->id);
    runq_sse_init(&w.sse, SSE_MAX);
    rc = runq_http_stream(h, path, on_stream, &w, &r);
    runq_sse_free(&w.sse);
    if (w.failed) {
        runq_http_resp_free(&r);
        return RUNQ_EXIT_SERVER;
    }
    if (rc == 0 && r.status != 200) {
        rc = runq_cmd_fail(what, &r);
        runq_http_resp_free(&r);
        return rc;
    }
    if (!w.terminal) /* the stream broke off: a long poll has the end */
        fprintf(stderr, "runq: the event stream of %s ended early (%s); waiting for the job\n",
                o->id, rc < 0 ? r.error : "closed");
    runq_http_resp_free(&r);
    if ((rc = wait_job(h, o->id, &job)) != RUNQ_EXIT_OK)
        return rc;
    /* output that came before the stream did (or all of it, for a finished job) is only in
     * the result; once some streamed, the result's copy would print it twice */
    rc = o->json ? (int)runq_job_exit(job) : show_job(job, 0, w.output == 0);
    json_decref(job);
    return rc;
}
