/* SPDX-License-Identifier: MIT */
/* runq_report: see runq_report.h. Text is made with open_memstream, so each format is
 * written like a file and comes back as one string. */
#include "runq_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runq_job.h"
#include "utf8.h"

#define NAME_COL_MAX 40 /* table column width; longer names are cut with "..." */

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* *dst = a copy of s (NULL stays NULL); 0 or -ENOMEM. */
static int set(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
    return !s || *dst ? 0 : -ENOMEM;
}

/* Closes a FILE from open_memstream(text, ...) and returns its text, or NULL when anything
 * failed. By pointer: the stream sets *text only when it is flushed or closed. */
static char *done(FILE *f, char **text)
{
    if (fclose(f) != 0) {
        free(*text);
        *text = NULL;
    }
    return *text;
}

int runq_report_init(struct runq_report_sub *s, const char *name, const char *language,
                     char *const *test_names, size_t ntests)
{
    size_t i;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    s->time_ms = -1;
    s->max_score = (double)ntests; /* every test is worth the API's default point */
    rc |= set(&s->name, name);
    rc |= set(&s->language, language);
    if (ntests && !(s->tests = calloc(ntests, sizeof(*s->tests))))
        rc = -ENOMEM;
    for (i = 0; rc == 0 && i < ntests; i++) {
        struct runq_report_test *t = &s->tests[i];
        s->ntests++;
        t->points = 1;
        t->cpu_ms = t->wall_ms = t->memory_kb = -1;
        rc = set(&t->name, test_names[i]);
    }
    if (rc < 0)
        runq_report_free(s);
    return rc < 0 ? -ENOMEM : 0;
}

static void free_tests(struct runq_report_sub *s)
{
    size_t i;

    for (i = 0; i < s->ntests; i++) {
        free(s->tests[i].name);
        free(s->tests[i].verdict);
        free(s->tests[i].detail);
    }
    free(s->tests);
    s->tests = NULL;
    s->ntests = 0;
}

void runq_report_free(struct runq_report_sub *s)
{
    free(s->name);
    free(s->language);
    free(s->job_id);
    free(s->verdict);
    free(s->error);
    free(s->compile);
    free_tests(s);
    memset(s, 0, sizeof(*s));
}

int runq_report_set_error(struct runq_report_sub *s, enum runq_exit code, const char *message)
{
    s->exit = code;
    return set(&s->error, message ? message : "unknown error");
}

/* One line saying why a test failed, from its record in the job's result, in *out (NULL
 * when the record says nothing more than its verdict). 0 or -ENOMEM. */
static int detail(const json_t *t, char **out)
{
    const char *got = str(t, "got"), *exp = str(t, "expected"), *cm = str(t, "checker_message");
    const char *status = str(t, "status");
    size_t n = 0;
    FILE *f = open_memstream(out, &n);

    if (!f)
        return -ENOMEM;
    if (got && exp)
        fprintf(f, "line %lld: expected \"%.*s\", got \"%.*s\"", num(t, "line"),
                (int)strcspn(exp, "\r\n"), exp, (int)strcspn(got, "\r\n"), got);
    else if (cm && *cm)
        fprintf(f, "checker: %.*s", (int)strcspn(cm, "\r\n"), cm);
    else if (status && strcmp(status, "ok")) {
        fprintf(f, "%s", status);
        if (num(t, "signal") > 0)
            fprintf(f, ", signal %lld", num(t, "signal"));
        else if (num(t, "exit_code") > 0)
            fprintf(f, ", exit %lld", num(t, "exit_code"));
    }
    if (!(*out = done(f, out)))
        return -ENOMEM;
    if (!**out) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

/* The tests of a graded result; their names come from the result (the same tests, in the
 * same order, as the job was given). */
static int take_tests(struct runq_report_sub *s, const json_t *tests)
{
    size_t i, n = json_array_size(tests);
    int rc = 0;

    free_tests(s);
    if (n && !(s->tests = calloc(n, sizeof(*s->tests))))
        return -ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
        const json_t *t = json_array_get(tests, i);
        struct runq_report_test *r = &s->tests[i];
        s->ntests++;
        r->score = json_number_value(json_object_get(t, "score"));
        r->points = json_number_value(json_object_get(t, "points"));
        r->cpu_ms = num(t, "cpu_ms");
        r->wall_ms = num(t, "wall_ms");
        r->memory_kb = num(t, "memory_kb");
        rc |= set(&r->name, str(t, "name") ? str(t, "name") : "?");
        rc |= set(&r->verdict, str(t, "verdict") ? str(t, "verdict") : "IE");
        if (rc == 0 && strcmp(r->verdict, "AC"))
            rc = detail(t, &r->detail);
        if (r->cpu_ms > s->time_ms)
            s->time_ms = r->cpu_ms;
    }
    return rc < 0 ? -ENOMEM : 0;
}

int runq_report_take_job(struct runq_report_sub *s, const json_t *job)
{
    const char *state = str(job, "status"), *reason = str(job, "reason");
    const json_t *r = json_object_get(job, "result");
    const char *verdict = str(r, "verdict"), *rs = str(r, "status"), *msg = str(r, "message");
    char buf[512];
    int rc;

    if ((rc = set(&s->job_id, str(job, "id"))) < 0)
        return rc;
    if (!state || strcmp(state, "completed") || !verdict) {
        snprintf(buf, sizeof(buf), "job %s%s%s%s%s", state ? state : "without a status",
                 reason || msg ? ": " : "", reason ? reason : "", reason && msg ? "; " : "",
                 msg ? msg : "");
        if (state && !strcmp(state, "completed") && !verdict)
            snprintf(buf, sizeof(buf), "the job's result has no verdict%s%s", rs ? ": " : "",
                     rs ? rs : "");
        return runq_report_set_error(s, RUNQ_EXIT_JOB, buf);
    }
    s->score = json_number_value(json_object_get(r, "score"));
    s->max_score = json_number_value(json_object_get(r, "max_score"));
    s->exit = strcmp(verdict, "AC") ? RUNQ_EXIT_FAILED : RUNQ_EXIT_OK;
    if ((rc = set(&s->verdict, verdict)) < 0)
        return rc;
    if (rs && !strcmp(rs, "compile_error")) {
        const json_t *c = json_object_get(json_object_get(r, "compile"), "stderr");
        if ((rc = set(&s->compile, json_string_value(c) ? json_string_value(c) : "")) < 0)
            return rc;
    }
    return take_tests(s, json_object_get(r, "tests"));
}

enum runq_exit runq_report_exit(const struct runq_report_sub *subs, size_t n)
{
    enum runq_exit e = RUNQ_EXIT_OK;
    size_t i;

    for (i = 0; i < n; i++)
        if (subs[i].exit > e)
            e = subs[i].exit;
    return e;
}

/* A name for the table: invalid UTF-8 as U+FFFD, control characters as '?', at most
 * NAME_COL_MAX bytes, cut on a UTF-8 boundary and marked with "...". */
static void table_name(const char *name, char *buf, size_t n)
{
    size_t clean_len;
    char *clean = utf8_sanitize(name, strlen(name), &clean_len);
    const char *s = clean ? clean : name;
    size_t len = strlen(s), i, max = NAME_COL_MAX;

    if (len > max) {
        len = max - 3;
        while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    for (i = 0; i < len && i + 4 < n; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    if (len < strlen(s))
        strcat(buf, "...");
    free(clean);
}

char *runq_report_table(const struct runq_report_sub *subs, size_t n)
{
    size_t i, w = 10, ac = 0, errors = 0;
    char *out = NULL, name[NAME_COL_MAX + 8], score[64], time[32];
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    for (i = 0; i < n; i++) {
        table_name(subs[i].name, name, sizeof(name));
        if (strlen(name) > w)
            w = strlen(name);
    }
    fprintf(f, "%-*s  %-7s  %-11s  %s\n", (int)w, "SUBMISSION", "VERDICT", "SCORE", "TIME");
    for (i = 0; i < n; i++) {
        const struct runq_report_sub *s = &subs[i];
        table_name(s->name, name, sizeof(name));
        snprintf(score, sizeof(score), "%g/%g", s->verdict ? s->score : 0, s->max_score);
        runq_job_fmt_ms(s->time_ms, time, sizeof(time));
        fprintf(f, "%-*s  %-7s  %-11s  %s\n", (int)w, name, s->verdict ? s->verdict : "ERROR",
                score, time);
        ac += s->verdict && !strcmp(s->verdict, "AC");
        errors += !s->verdict;
    }
    for (i = 0; i < n; i++) {
        if (subs[i].verdict)
            continue;
        table_name(subs[i].name, name, sizeof(name));
        fprintf(f, "%s: %s\n", name, subs[i].error ? subs[i].error : "not graded");
    }
    fprintf(f, "%zu submission%s: %zu accepted, %zu not accepted, %zu not graded\n", n,
            n == 1 ? "" : "s", ac, n - ac - errors, errors);
    return done(f, &out);
}

/* A JSON string of s, made valid UTF-8; json null for NULL. */
static json_t *jstr(const char *s)
{
    size_t n;
    char *clean;
    json_t *j;

    if (!s)
        return json_null();
    if (!(clean = utf8_sanitize(s, strlen(s), &n)))
        return NULL;
    j = json_stringn(clean, n);
    free(clean);
    return j;
}

static json_t *jint(long long v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *sub_json(const struct runq_report_sub *s)
{
    json_t *tests = json_array();
    size_t i;

    for (i = 0; tests && i < s->ntests; i++) {
        const struct runq_report_test *t = &s->tests[i];
        json_array_append_new(tests, json_pack("{s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o}", "name",
                                               jstr(t->name), "verdict", jstr(t->verdict), "score",
                                               t->verdict ? json_real(t->score) : json_null(),
                                               "points", t->points, "cpu_ms", jint(t->cpu_ms),
                                               "wall_ms", jint(t->wall_ms), "memory_kb",
                                               jint(t->memory_kb), "detail", jstr(t->detail)));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o}", "submission", jstr(s->name),
                     "language", jstr(s->language), "job_id", jstr(s->job_id), "verdict",
                     jstr(s->verdict), "score", s->verdict ? json_real(s->score) : json_null(),
                     "max_score", s->max_score, "time_ms", jint(s->time_ms), "error",
                     jstr(s->error), "tests", tests);
}

char *runq_report_json(const struct runq_report_sub *subs, size_t n)
{
    json_t *list = json_array(), *root;
    size_t i, ac = 0, errors = 0;
    char *text = NULL;

    for (i = 0; list && i < n; i++) {
        ac += subs[i].verdict && !strcmp(subs[i].verdict, "AC");
        errors += !subs[i].verdict;
        if (json_array_append_new(list, sub_json(&subs[i])) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    root = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:i}}", "submissions", list, "summary",
                     "submissions", (json_int_t)n, "accepted", (json_int_t)ac, "not_accepted",
                     (json_int_t)(n - ac - errors), "errors", (json_int_t)errors, "exit_code",
                     (int)runq_report_exit(subs, n));
    if (root)
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

char *runq_report_csv_quote(const char *s)
{
    size_t n, i, len;
    char *clean = utf8_sanitize(s ? s : "", s ? strlen(s) : 0, &n), *out = NULL;
    int quote;
    FILE *f;

    if (!clean)
        return NULL;
    quote = n && (clean[0] == ' ' || clean[n - 1] == ' ' || strpbrk(clean, ",\"\r\n"));
    if ((f = open_memstream(&out, &len))) {
        if (quote)
            fputc('"', f);
        for (i = 0; i < n; i++) {
            if (clean[i] == '"')
                fputc('"', f);
            fputc(clean[i], f);
        }
        if (quote)
            fputc('"', f);
        out = done(f, &out);
    }
    free(clean);
    return out;
}

/* One CSV field and its separator; nonzero when out of memory. */
static int field(FILE *f, const char *s, const char *sep)
{
    char *q = runq_report_csv_quote(s);

    if (!q)
        return 1;
    fprintf(f, "%s%s", q, sep);
    free(q);
    return 0;
}

char *runq_report_csv(const struct runq_report_sub *subs, size_t n)
{
    char *out = NULL, score[32], max[32], time[32], passed[32], tests[32];
    size_t len = 0, i, k;
    int bad = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    fputs("submission,language,job_id,verdict,score,max_score,time_ms,passed,tests,error\r\n", f);
    for (i = 0; i < n; i++) {
        const struct runq_report_sub *s = &subs[i];
        size_t ok = 0;
        for (k = 0; k < s->ntests; k++)
            ok += s->tests[k].verdict && !strcmp(s->tests[k].verdict, "AC");
        snprintf(score, sizeof(score), "%g", s->score);
        snprintf(max, sizeof(max), "%g", s->max_score);
        snprintf(time, sizeof(time), "%lld", s->time_ms);
        snprintf(passed, sizeof(passed), "%zu", ok);
        snprintf(tests, sizeof(tests), "%zu", s->ntests);
        bad |= field(f, s->name, ",") | field(f, s->language, ",") | field(f, s->job_id, ",") |
               field(f, s->verdict ? s->verdict : "ERROR", ",") |
               field(f, s->verdict ? score : "", ",") | field(f, max, ",") |
               field(f, s->time_ms < 0 ? "" : time, ",") | field(f, passed, ",") |
               field(f, tests, ",") | field(f, s->error, "\r\n");
    }
    out = done(f, &out);
    if (bad) {
        free(out);
        return NULL;
    }
    return out;
}

/*** Progress ***/

#define BAR_MAX 200 /* widest bar drawn, whatever the terminal says */

void runq_report_progress_eta(char *buf, size_t n, double seconds)
{
    long long s;

    if (!isfinite(seconds) || seconds < 0 || seconds > 1e9) {
        snprintf(buf, n, "--:--");
        return;
    }
    s = (long long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, n, "%lld:%02lld", s / 60, s % 60);
}

/* "2.5/s" and the ETA ("ETA 0:07"), or "-/s" and "ETA --:--" while they cannot be known. */
static void rate_eta(char *rate, size_t rn, char *eta, size_t en, size_t done, size_t total,
                     double elapsed)
{
    char t[32];

    if (done == 0 || !(elapsed > 0)) {
        snprintf(rate, rn, "-/s");
        snprintf(eta, en, "ETA --:--");
        return;
    }
    snprintf(rate, rn, "%.1f/s", (double)done / elapsed);
    if (done >= total) {
        runq_report_progress_eta(t, sizeof(t), elapsed);
        snprintf(eta, en, "done in %s", t);
    } else {
        runq_report_progress_eta(t, sizeof(t), (double)(total - done) * elapsed / (double)done);
        snprintf(eta, en, "ETA %s", t);
    }
}

void runq_report_progress_bar(char *buf, size_t n, const char *label, size_t done, size_t total,
                              double elapsed, int width)
{
    char bar[BAR_MAX + 1], rate[32], eta[48];
    size_t w = width < 1 ? 1 : width > BAR_MAX ? BAR_MAX : (size_t)width, fill;
    unsigned pct;

    if (done > total)
        done = total;
    fill = total ? done * w / total : w;
    pct = total ? (unsigned)(done * 100 / total) : 100;
    memset(bar, '#', fill);
    memset(bar + fill, '.', w - fill);
    bar[w] = '\0';
    rate_eta(rate, sizeof(rate), eta, sizeof(eta), done, total, elapsed);
    snprintf(buf, n, "%s [%s] %zu/%zu %3u%%  %s  %s", label ? label : "", bar, done, total, pct,
             rate, eta);
}

void runq_report_progress_line(char *buf, size_t n, size_t done, size_t total, double elapsed,
                               const char *name, const char *verdict, double score,
                               double max_score)
{
    char rate[32], eta[48], shown[NAME_COL_MAX + 8];

    if (done > total)
        done = total;
    table_name(name ? name : "?", shown, sizeof(shown)); /* no control bytes to a terminal */
    rate_eta(rate, sizeof(rate), eta, sizeof(eta), done, total, elapsed);
    if (verdict)
        snprintf(buf, n, "[%zu/%zu] %s: %s %g/%g (%s, %s)", done, total, shown, verdict, score,
                 max_score, rate, eta);
    else
        snprintf(buf, n, "[%zu/%zu] %s: ERROR (%s, %s)", done, total, shown, rate, eta);
}
