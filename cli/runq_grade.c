/* SPDX-License-Identifier: MIT */
/* runq_grade: see runq_grade.h. A submission goes through three states: read (local checks
 * passed), waiting (its job was accepted: long polls until it has finished) and done (its
 * report row is final). Polls run at most MAX_POLLS at a time; the earliest submissions are
 * polled first, as the fleet takes jobs in that order. */
#include "runq_grade.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "runq_cmd.h"
#include "runq_io.h"
#include "runq_job.h"
#include "runq_junit.h"
#include "runq_lang.h"
#include "runq_plan.h"
#include "runq_report.h"

#define MAX_POLLS 16     /* long polls in flight at once */
#define WAIT_LONG_S 25   /* ?wait= while every waiting job has its poll */
#define WAIT_SHORT_S 2   /* ?wait= while some wait for a poll: cycle through them */
#define TICK_MS 200      /* progress redraw and retry granularity */
#define BUSY_RETRIES 60  /* 503s in a row (1 s apart) for one request */
#define BROKEN_RETRIES 3 /* requests in a row that got no answer */

enum state { S_READ, S_WAITING, S_DONE };

struct sub {
    char *path;
    char *source;
    size_t source_len;
    char *language; /* malloc'ed: --language or by extension */
    enum state state;
    int polling;
    int busy, broken;
    double not_before; /* monotonic seconds: after a 503 or a failed poll */
};

struct grade {
    const struct runq_opts *o;
    struct runq_http *h;
    struct runq_langs langs;
    struct runq_plan_test *tests;
    size_t ntests;
    struct runq_plan_data *data;
    char **bufs; /* the tests' contents: in and out of test i at 2i, 2i + 1 */
    char *checker_source;
    size_t checker_len;
    const char *checker_language;
    struct sub *subs;
    struct runq_report_sub *rows;
    size_t nsubs, done;
    double t0;
    int tty, width;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says what is wrong locally; the exit code of that. */
static int usage(const char *fmt, ...)
{
    va_list ap;

    fputs("runq: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return RUNQ_EXIT_USAGE;
}

/*** Local checks ***/

static int load_tests(struct grade *g)
{
    int need_output = !g->o->checker || runq_args_builtin_checker(g->o->checker);
    char **files, err[512], *path;
    size_t nfiles, i, k;
    int rc;

    if (runq_io_list(g->o->tests_dir, &files, &nfiles, err, sizeof(err)) < 0)
        return usage("%s", err);
    rc = runq_plan_pair_tests(files, nfiles, need_output, &g->tests, &g->ntests, err, sizeof(err));
    runq_io_free_list(files, nfiles);
    if (rc < 0)
        return usage("%s: %s", g->o->tests_dir, err);
    g->data = calloc(g->ntests, sizeof(*g->data));
    g->bufs = calloc(2 * g->ntests, sizeof(*g->bufs));
    if (!g->data || !g->bufs)
        return usage("out of memory");
    for (i = 0; i < g->ntests; i++) {
        const char *f[2] = {g->tests[i].in_file, g->tests[i].out_file};
        size_t len[2] = {0, 0};
        for (k = 0; k < 2; k++) {
            if (!f[k])
                continue;
            if (!(path = runq_io_join(g->o->tests_dir, f[k])))
                return usage("out of memory");
            rc = runq_io_read(path, &g->bufs[2 * i + k], &len[k], err, sizeof(err));
            free(path);
            if (rc < 0)
                return usage("%s", err);
        }
        g->data[i] = (struct runq_plan_data){g->tests[i].name, g->bufs[2 * i], len[0],
                                             g->bufs[2 * i + 1], len[1]};
    }
    return RUNQ_EXIT_OK;
}

/* The languages, fetched once and only when an extension has to be looked up. */
static int need_languages(struct grade *g)
{
    if (g->langs.items)
        return RUNQ_EXIT_OK;
    return runq_cmd_fetch_languages(g->h, &g->langs);
}

static int load_checker(struct grade *g)
{
    const char *c = g->o->checker;
    char err[512];
    int rc;

    if (!c || runq_args_builtin_checker(c))
        return RUNQ_EXIT_OK;
    if (runq_io_read(c, &g->checker_source, &g->checker_len, err, sizeof(err)) < 0)
        return usage("--checker %s (not a built-in checker, nor a readable file)", err);
    if ((rc = need_languages(g)) != RUNQ_EXIT_OK)
        return rc;
    if (!(g->checker_language = runq_lang_from_path(&g->langs, c)))
        return usage("--checker %s: cannot tell its language from the extension", c);
    return RUNQ_EXIT_OK;
}

/* Submission i, the file name in the submissions directory: read, its language known,
 * UTF-8 (the API takes a source as a JSON string), its report row ready. */
static int load_submission(struct grade *g, size_t i, const char *name, char **test_names)
{
    struct sub *s = &g->subs[i];
    const char *lang = g->o->language ? g->o->language : runq_lang_from_path(&g->langs, name);
    char err[512];
    json_t *probe;

    if (!(s->path = runq_io_join(g->o->path, name)))
        return usage("out of memory");
    if (runq_io_read(s->path, &s->source, &s->source_len, err, sizeof(err)) < 0)
        return usage("%s", err);
    if (!lang)
        return usage("%s: cannot tell the language from the extension; give --language "
                     "(runq languages lists them)",
                     s->path);
    if (!(probe = json_stringn(s->source, s->source_len)))
        return usage("%s: not UTF-8 text", s->path);
    json_decref(probe);
    if (!(s->language = strdup(lang)) ||
        runq_report_init(&g->rows[i], name, lang, test_names, g->ntests) < 0)
        return usage("out of memory");
    return RUNQ_EXIT_OK;
}

static int load_submissions(struct grade *g)
{
    const char *dir = g->o->path;
    char **names, **test_names = NULL, err[512];
    size_t n, i, k = 0;
    int rc;

    if (runq_io_list(dir, &names, &n, err, sizeof(err)) < 0)
        return usage("%s", err);
    for (i = 0; i < n; i++) { /* keep the submissions, in natural order */
        if (runq_plan_is_submission(names[i]))
            names[k++] = names[i];
        else
            free(names[i]);
    }
    runq_plan_sort(names, k);
    g->nsubs = k;
    if (!k)
        rc = usage("%s: no submissions (files) in it", dir);
    else if (!(g->subs = calloc(k, sizeof(*g->subs))) || !(g->rows = calloc(k, sizeof(*g->rows))) ||
             !(test_names = calloc(g->ntests, sizeof(*test_names))))
        rc = usage("out of memory");
    else
        rc = g->o->language ? RUNQ_EXIT_OK : need_languages(g);
    for (i = 0; rc == RUNQ_EXIT_OK && i < g->ntests; i++)
        test_names[i] = g->tests[i].name;
    for (i = 0; rc == RUNQ_EXIT_OK && i < k; i++)
        rc = load_submission(g, i, names[i], test_names);
    free(test_names);
    runq_io_free_list(names, k);
    return rc;
}

/*** Progress ***/

static void progress(struct grade *g, const char *label, size_t done, size_t last)
{
    char line[512];

    if (g->tty) {
        runq_report_progress_bar(line, sizeof(line), label, done, g->nsubs, now_s() - g->t0,
                                 g->width);
        fprintf(stderr, "\r%s\033[K", line); /* \033[K: clear what a longer line left */
    } else if (last < g->nsubs) {
        const struct runq_report_sub *r = &g->rows[last];
        runq_report_progress_line(line, sizeof(line), done, g->nsubs, now_s() - g->t0, r->name,
                                  r->verdict, r->score, r->max_score);
        fprintf(stderr, "runq: %s\n", line);
    }
    fflush(stderr);
}

static void finish_sub(struct grade *g, size_t i)
{
    g->subs[i].state = S_DONE;
    g->done++;
    progress(g, "graded", g->done, i);
}

/* The row of i could not be graded. */
static void sub_error(struct grade *g, size_t i, enum runq_exit code, const char *what,
                      const struct runq_http_resp *r)
{
    char text[512], msg[640];

    if (r && r->status)
        runq_job_error_text(r->status, r->body, r->len, text, sizeof(text));
    else
        snprintf(text, sizeof(text), "%s", r ? r->error : "out of memory");
    snprintf(msg, sizeof(msg), "%s: %s", what, text);
    if (runq_report_set_error(&g->rows[i], code, msg) < 0)
        fprintf(stderr, "runq: %s\n", msg); /* out of memory: at least it is said */
    finish_sub(g, i);
}

/*** Submitting ***/

/* POSTs one graded job body; the job id into the row. Returns 0 when accepted, 1 when the
 * run should stop submitting (no answer: the dispatcher is away), else -1 (row failed). */
static int post_job(struct grade *g, size_t i, const char *body)
{
    struct runq_http_resp r;
    json_t *a;
    const char *id;
    int busy = 0;

    for (;;) {
        if (runq_http_post(g->h, "/v1/jobs", body, &r) < 0) {
            sub_error(g, i, RUNQ_EXIT_SERVER, "POST /v1/jobs", &r);
            runq_http_resp_free(&r);
            return 1;
        }
        if (r.status != 503 || ++busy >= BUSY_RETRIES)
            break;
        runq_http_resp_free(&r); /* queue full or Redis away for a moment */
        runq_cmd_sleep_ms(1000);
    }
    a = r.status >= 200 && r.status < 300 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if ((id = json_string_value(json_object_get(a, "id"))) && (g->rows[i].job_id = strdup(id))) {
        g->subs[i].state = S_WAITING;
    } else {
        if (r.status >= 200 && r.status < 300)
            r.status = 502; /* an answer that is not the API's reads as a bad gateway */
        sub_error(g, i, runq_job_http_exit(r.status), "POST /v1/jobs", &r);
    }
    json_decref(a);
    runq_http_resp_free(&r);
    return g->subs[i].state == S_WAITING ? 0 : -1;
}

/* THE place where submissions become jobs: one graded job per submission, its tests in the
 * body (POST /v1/jobs). A batch endpoint (POST /v1/batches) would replace this function
 * alone: it has to leave each accepted submission S_WAITING with its job id in its row,
 * and every other one done with an error. */
static void submit_all(struct grade *g)
{
    struct runq_plan_job job = {
        .tests = g->data,
        .ntests = g->ntests,
        .checker = g->checker_source ? NULL : g->o->checker,
        .checker_language = g->checker_language,
        .checker_source = g->checker_source,
        .checker_len = g->checker_len,
        .scoring = g->o->scoring,
        .stop_on_failure = g->o->stop_on_failure,
    };
    char err[256], *body;
    size_t i, k;
    int rc, stop = 0;

    for (i = 0; i < g->nsubs && !stop; i++) {
        job.language = g->subs[i].language;
        job.source = g->subs[i].source;
        job.source_len = g->subs[i].source_len;
        if ((rc = runq_plan_graded_body(&job, &body, err, sizeof(err))) < 0) {
            struct runq_http_resp none = {0};
            snprintf(none.error, sizeof(none.error), "%s", err);
            sub_error(g, i, RUNQ_EXIT_USAGE, g->subs[i].path, rc == -ENOMEM ? NULL : &none);
            continue;
        }
        stop = post_job(g, i, body) == 1;
        free(body);
        if (g->tty)
            progress(g, "submitted", i + 1, g->nsubs);
    }
    for (k = i; k < g->nsubs; k++) { /* left unsent after the dispatcher went away */
        struct runq_http_resp none = {0};
        snprintf(none.error, sizeof(none.error), "not submitted: the dispatcher did not answer");
        sub_error(g, k, RUNQ_EXIT_SERVER, "POST /v1/jobs", &none);
    }
}

/*** Waiting ***/

static void on_polled(void *arg, size_t i, struct runq_http_resp *r)
{
    struct grade *g = arg;
    struct sub *s = &g->subs[i];
    char what[160];
    json_t *job;

    s->polling = 0;
    snprintf(what, sizeof(what), "GET /v1/jobs/%s", g->rows[i].job_id);
    if (r->status == 0 || r->status == 503) {
        int *n = r->status ? &s->busy : &s->broken;
        if (++*n < (r->status ? BUSY_RETRIES : BROKEN_RETRIES)) {
            s->not_before = now_s() + 1;
            return;
        }
        sub_error(g, i, RUNQ_EXIT_SERVER, what, r);
        return;
    }
    if (r->status != 200) {
        sub_error(g, i, runq_job_http_exit(r->status), what, r);
        return;
    }
    s->busy = s->broken = 0;
    job = json_loadb(r->body, r->len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(job)) {
        r->status = 502;
        sub_error(g, i, RUNQ_EXIT_SERVER, what, r);
    } else if (runq_job_finished(job)) {
        if (runq_report_take_job(&g->rows[i], job) < 0)
            runq_report_set_error(&g->rows[i], RUNQ_EXIT_SERVER, "out of memory");
        finish_sub(g, i);
    } /* else the wait ran out first: polled again on the next round */
    json_decref(job);
}

static int wait_all(struct grade *g, const char *url)
{
    struct runq_http_multi *m;
    size_t i, waiting;
    char path[256];

    if (runq_http_multi_new(url, &m) < 0) {
        fprintf(stderr, "runq: out of memory\n");
        return -ENOMEM;
    }
    for (;;) {
        double now = now_s();
        for (i = 0, waiting = 0; i < g->nsubs; i++)
            waiting += g->subs[i].state == S_WAITING;
        if (!waiting)
            break;
        for (i = 0; i < g->nsubs && runq_http_multi_pending(m) < MAX_POLLS; i++) {
            struct sub *s = &g->subs[i];
            int w = waiting > MAX_POLLS ? WAIT_SHORT_S : WAIT_LONG_S;
            if (s->state != S_WAITING || s->polling || s->not_before > now)
                continue;
            snprintf(path, sizeof(path), "/v1/jobs/%s?wait=%d", g->rows[i].job_id, w);
            if (runq_http_multi_get(m, path, (w + 15) * 1000L, i) < 0) {
                sub_error(g, i, RUNQ_EXIT_SERVER, path, NULL);
                continue;
            }
            s->polling = 1;
        }
        if (runq_http_multi_run(m, TICK_MS, on_polled, g) < 0) {
            fprintf(stderr, "runq: libcurl failed while waiting for the jobs\n");
            runq_http_multi_free(m);
            return -EIO;
        }
        if (g->tty)
            progress(g, "graded", g->done, g->nsubs);
    }
    runq_http_multi_free(m);
    return 0;
}

/*** Reports ***/

static int write_report(const char *path, char *text)
{
    char err[512];
    int rc = RUNQ_EXIT_OK;

    if (!path) {
        free(text);
        return RUNQ_EXIT_OK;
    }
    if (!text) {
        fprintf(stderr, "runq: %s: out of memory\n", path);
        rc = RUNQ_EXIT_USAGE;
    } else if (runq_io_write(path, text, err, sizeof(err)) < 0) {
        fprintf(stderr, "runq: %s\n", err);
        rc = RUNQ_EXIT_USAGE;
    }
    free(text);
    return rc;
}

static int reports(struct grade *g)
{
    const struct runq_opts *o = g->o;
    char *table = runq_report_table(g->rows, g->nsubs);
    int rc = runq_report_exit(g->rows, g->nsubs), w;

    if (table)
        fputs(table, stdout);
    fflush(stdout);
    free(table);
    w = write_report(o->json_path, o->json_path ? runq_report_json(g->rows, g->nsubs) : NULL);
    w |= write_report(o->csv_path, o->csv_path ? runq_report_csv(g->rows, g->nsubs) : NULL);
    w |= write_report(o->junit_path, o->junit_path ? runq_junit_report(g->rows, g->nsubs) : NULL);
    return w && rc < RUNQ_EXIT_USAGE ? RUNQ_EXIT_USAGE : rc;
}

static void grade_free(struct grade *g)
{
    size_t i;

    for (i = 0; g->subs && i < g->nsubs; i++) {
        free(g->subs[i].path);
        free(g->subs[i].source);
        free(g->subs[i].language);
    }
    for (i = 0; g->rows && i < g->nsubs; i++)
        runq_report_free(&g->rows[i]);
    for (i = 0; g->bufs && i < 2 * g->ntests; i++)
        free(g->bufs[i]);
    free(g->subs);
    free(g->rows);
    free(g->bufs);
    free(g->data);
    free(g->checker_source);
    runq_plan_free_tests(g->tests, g->ntests);
    runq_lang_free(&g->langs);
}

int runq_grade_run(struct runq_http *h, const struct runq_opts *o, const char *url)
{
    struct grade g = {.o = o, .h = h};
    struct winsize ws;
    int rc;

    g.tty = isatty(STDERR_FILENO);
    g.width = 30;
    if (g.tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 60)
        g.width = ws.ws_col - 50 < 50 ? ws.ws_col - 50 : 50;
    if ((rc = load_tests(&g)) == RUNQ_EXIT_OK && (rc = load_checker(&g)) == RUNQ_EXIT_OK &&
        (rc = load_submissions(&g)) == RUNQ_EXIT_OK) {
        if (!g.tty)
            fprintf(stderr, "runq: grading %zu submission%s against %zu test%s\n", g.nsubs,
                    g.nsubs == 1 ? "" : "s", g.ntests, g.ntests == 1 ? "" : "s");
        g.t0 = now_s();
        submit_all(&g);
        if (wait_all(&g, url) < 0)
            rc = RUNQ_EXIT_SERVER;
        if (g.tty)
            fputs("\n", stderr);
        if (rc == RUNQ_EXIT_OK)
            rc = reports(&g);
    }
    grade_free(&g);
    return rc;
}
