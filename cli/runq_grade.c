/* SPDX-License-Identifier: MIT */
/* runq_grade: see runq_grade.h. A submission goes through four states: read (local checks
 * passed), queued (its job is in the batch), waiting (the batch says its job finished: its
 * full result is to be fetched) and done (its report row is final). The batch is followed by
 * polling its summary; the results are then fetched at most MAX_POLLS at a time, the
 * earliest submissions first. */
#include "runq_grade.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
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

#define MAX_POLLS 16     /* result fetches in flight at once */
#define FETCH_WAIT_S 2   /* ?wait= of a fetch, should a job not have finished after all */
#define POLL_MS 300      /* between two looks at the batch: a live bar, a light load */
#define TICK_MS 200      /* the fetch loop's granularity (its retries 1 s apart) */
#define BUSY_RETRIES 60  /* 503s in a row (1 s apart) for one request */
#define BROKEN_RETRIES 3 /* requests in a row that got no answer */

enum state { S_READ, S_QUEUED, S_WAITING, S_DONE };

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
    char *batch_id; /* once accepted */
    char **ids;     /* each submission's job: the rows' job_id */
    struct runq_plan_batch_job *summary;
    /* SIGINT (Ctrl-C) and SIGTERM while the batch runs: blocked, and looked for between
     * polls (sigtimedwait is the pause), so that the batch is cancelled before the process
     * dies of the signal; no handler, no global flag. Signals ignored are left alone. */
    sigset_t sigs, old_mask;
    int sig; /* the signal that came; 0 none */
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

/* Submission i has just finished (verdict NULL: not graded): its line on a non-terminal, the
 * bar redrawn on a terminal. g->done is the batch's count of finished jobs (or of rows that
 * failed without one); the bar is also redrawn after each poll, for its rate and ETA. */
static void progress(struct grade *g, size_t i, const char *verdict, double score, double max)
{
    char line[512];
    double t = now_s() - g->t0;

    if (g->tty) {
        runq_report_progress_bar(line, sizeof(line), "graded", g->done, g->nsubs, t, g->width);
        fprintf(stderr, "\r%s\033[K", line); /* \033[K: clear what a longer line left */
    } else {
        runq_report_progress_line(line, sizeof(line), g->done, g->nsubs, t, g->rows[i].name,
                                  verdict, score, max);
        fprintf(stderr, "runq: %s\n", line);
    }
    fflush(stderr);
}

/* The row of i is final. It counts (and shows) once: when the batch said its job finished,
 * or now for a row that never got that far. */
static void finish_sub(struct grade *g, size_t i)
{
    int counted = g->subs[i].state == S_WAITING;

    g->subs[i].state = S_DONE;
    if (!counted) {
        g->done++;
        progress(g, i, g->rows[i].verdict, g->rows[i].score, g->rows[i].max_score);
    }
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

/* Every row still in state st could not be graded. */
static void subs_error(struct grade *g, enum state st, enum runq_exit code, const char *what,
                       const struct runq_http_resp *r)
{
    size_t i;

    for (i = 0; i < g->nsubs; i++)
        if (g->subs[i].state == st)
            sub_error(g, i, code, what, r);
}

/*** Signals ***/

static void stop_watch(struct grade *g)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    struct sigaction sa;
    size_t i;

    sigemptyset(&g->sigs);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
            sigaddset(&g->sigs, sigs[i]);
    sigprocmask(SIG_BLOCK, &g->sigs, &g->old_mask);
}

/* Pauses up to ms (0: only looks); 1 when a signal came (in g->sig). */
static int stop_wait(struct grade *g, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (!g->sig && (g->sig = sigtimedwait(&g->sigs, NULL, &ts)) < 0 && errno == EINTR)
        g->sig = 0;
    g->sig = g->sig > 0 ? g->sig : 0; /* -1: the time ran out */
    return g->sig != 0;
}

/* The old mask back. A signal that came is then delivered with its default action: the
 * process ends as it would have without us (its exit status says which signal). */
static void stop_end(struct grade *g)
{
    if (g->sig) {
        signal(g->sig, SIG_DFL);
        raise(g->sig); /* pending while blocked, delivered by the sigprocmask below */
    }
    sigprocmask(SIG_SETMASK, &g->old_mask, NULL);
}

/*** The batch ***/

/* THE place where submissions become jobs: one POST /v1/batches, the tests in it once.
 * Leaves every submission S_QUEUED with its job id in its row and g->batch_id set, or every
 * one done with the error. Returns RUNQ_EXIT_OK, or a usage error when no body could be
 * made (nothing was sent then). */
static int submit_batch(struct grade *g)
{
    struct runq_plan_grading gr = {
        g->data,           g->ntests,      g->o->checker, g->checker_language,
        g->checker_source, g->checker_len, g->o->scoring, g->o->stop_on_failure};
    struct runq_plan_sub *subs = calloc(g->nsubs, sizeof(*subs));
    struct runq_http_resp r;
    char err[256], *body = NULL;
    size_t i;
    int rc = -ENOMEM, busy = 0;

    g->ids = calloc(g->nsubs, sizeof(*g->ids));
    g->summary = calloc(g->nsubs, sizeof(*g->summary));
    for (i = 0; subs && i < g->nsubs; i++)
        subs[i] = (struct runq_plan_sub){g->rows[i].name, g->subs[i].language, g->subs[i].source,
                                         g->subs[i].source_len};
    if (subs && g->ids && g->summary)
        rc = runq_plan_batch_body(&gr, subs, g->nsubs, &body, err, sizeof(err));
    free(subs);
    if (rc < 0)
        return rc == -ENOMEM ? usage("out of memory") : usage("%s", err);
    /* a 503: the queue has no room for all of it yet, or Redis is away for a moment */
    while ((runq_http_post(g->h, "/v1/batches", body, &r) == 0 && r.status == 503 &&
            ++busy < BUSY_RETRIES && !stop_wait(g, 1000)))
        runq_http_resp_free(&r);
    free(body);
    if (r.status < 200 || r.status >= 300) {
        subs_error(g, S_READ, runq_job_http_exit(r.status), "POST /v1/batches", &r);
    } else if ((rc = runq_plan_batch_accepted(r.body, r.len, g->nsubs, &g->batch_id, g->ids))) {
        r.status = rc == -ENOMEM ? 0 : 502; /* an answer that is not the API's: bad gateway */
        snprintf(r.error, sizeof(r.error), "out of memory");
        subs_error(g, S_READ, RUNQ_EXIT_SERVER, "POST /v1/batches", &r);
    } else {
        for (i = 0; i < g->nsubs; i++) {
            g->rows[i].job_id = g->ids[i]; /* the row owns it; g->ids lends it out */
            g->subs[i].state = S_QUEUED;
        }
        fprintf(stderr, "runq: batch %s: grading %zu submission%s against %zu test%s\n",
                g->batch_id, g->nsubs, g->nsubs == 1 ? "" : "s", g->ntests,
                g->ntests == 1 ? "" : "s");
    }
    runq_http_resp_free(&r);
    return RUNQ_EXIT_OK;
}

/* POST /v1/batches/{id}/cancel, why: what made us stop. Best effort, said either way. */
static void cancel_batch(struct grade *g, const char *why)
{
    struct runq_http_resp r;
    char path[256], what[320];

    snprintf(path, sizeof(path), "/v1/batches/%s/cancel", g->batch_id);
    snprintf(what, sizeof(what), "%s: cancel batch %s", why, g->batch_id);
    if (g->tty)
        fputc('\n', stderr); /* below the bar */
    if (runq_http_post(g->h, path, "", &r) == 0 && r.status == 200)
        fprintf(stderr, "runq: %s: batch %s cancelled\n", why, g->batch_id);
    else
        runq_cmd_fail(what, &r);
    runq_http_resp_free(&r);
}

/* Follows the batch until each of its jobs finished (S_WAITING), a signal came (the batch
 * is cancelled), or the batch cannot be followed (the rows still queued fail; the batch is
 * cancelled if it still exists, so that the fleet stops working for nobody). */
static void follow_batch(struct grade *g)
{
    struct runq_http_resp r;
    char what[256], *path = what + 4; /* "GET " path */
    size_t i;
    int busy = 0, broken = 0, rc;
    json_t *a;

    snprintf(what, sizeof(what), "GET /v1/batches/%s", g->batch_id);
    while (g->done < g->nsubs) {
        if (stop_wait(g, 0)) {
            cancel_batch(g, g->sig == SIGINT ? "interrupted" : "terminated");
            return;
        }
        if (runq_http_get(g->h, path, 0, &r) < 0 || r.status == 503) {
            int *n = r.status ? &busy : &broken;
            if (++*n < (r.status ? BUSY_RETRIES : BROKEN_RETRIES)) {
                runq_http_resp_free(&r);
                stop_wait(g, 1000);
                continue;
            }
        }
        a = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        rc = a ? runq_plan_batch_read(a, g->ids, g->nsubs, g->summary) : -EPROTO;
        if (rc == 0) {
            busy = broken = 0;
        } else {
            r.status = r.status == 200 ? 502 : r.status; /* not the API's answer: bad gateway */
            if (r.status != 404)
                cancel_batch(g, "the batch cannot be followed");
            subs_error(g, S_QUEUED, runq_job_http_exit(r.status), what, &r);
        }
        for (i = 0; rc == 0 && i < g->nsubs; i++) {
            const struct runq_plan_batch_job *j = &g->summary[i];
            if (g->subs[i].state == S_QUEUED && j->finished) {
                g->subs[i].state = S_WAITING;
                g->done++;
                progress(g, i, j->verdict, j->score, j->max_score);
            }
        }
        if (rc == 0 && g->tty)
            progress(g, 0, NULL, 0, 0);
        json_decref(a);
        runq_http_resp_free(&r);
        if (g->done < g->nsubs)
            stop_wait(g, POLL_MS);
    }
}

/*** Results ***/

static void on_fetched(void *arg, size_t i, struct runq_http_resp *r)
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
    } /* else the wait ran out first: fetched again on the next round */
    json_decref(job);
}

/* Each finished job's full result (GET /v1/jobs/{id}): the per-test details of the reports,
 * which the batch's summary does not hold. */
static int fetch_all(struct grade *g, const char *url)
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
            if (s->state != S_WAITING || s->polling || s->not_before > now)
                continue;
            snprintf(path, sizeof(path), "/v1/jobs/%s?wait=%d", g->rows[i].job_id, FETCH_WAIT_S);
            if (runq_http_multi_get(m, path, (FETCH_WAIT_S + 15) * 1000L, i) < 0) {
                sub_error(g, i, RUNQ_EXIT_SERVER, path, NULL);
                continue;
            }
            s->polling = 1;
        }
        if (runq_http_multi_run(m, TICK_MS, on_fetched, g) < 0) {
            fprintf(stderr, "runq: libcurl failed while fetching the results\n");
            runq_http_multi_free(m);
            return -EIO;
        }
    }
    runq_http_multi_free(m);
    return 0;
}

/*** Reports ***/

static int write_report(const char *path, char *text)
{
    char err[512];
    int rc = RUNQ_EXIT_USAGE;

    if (!path)
        rc = RUNQ_EXIT_OK;
    else if (!text)
        fprintf(stderr, "runq: %s: out of memory\n", path);
    else if (runq_io_write(path, text, err, sizeof(err)) < 0)
        fprintf(stderr, "runq: %s\n", err);
    else
        rc = RUNQ_EXIT_OK;
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
    free(g->batch_id);
    free(g->ids); /* the strings are the rows' */
    free(g->summary);
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
        g.t0 = now_s();
        stop_watch(&g);
        if ((rc = submit_batch(&g)) == RUNQ_EXIT_OK && g.batch_id)
            follow_batch(&g);
        stop_end(&g); /* after a signal, the process ends here */
        if (rc == RUNQ_EXIT_OK && fetch_all(&g, url) < 0)
            rc = RUNQ_EXIT_SERVER;
        if (g.tty)
            fputs("\n", stderr);
        if (rc == RUNQ_EXIT_OK)
            rc = reports(&g);
    }
    grade_free(&g);
    return rc;
}
