/* SPDX-License-Identifier: MIT */
/* runq_job: see runq_job.h. */
#include "runq_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* An integer field, or def when absent or not an integer. */
static long long num(const json_t *o, const char *key, long long def)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

int runq_job_body(const struct runq_job_req *r, char **out, char *err, size_t errlen)
{
    json_t *o = json_object(), *args = json_array(), *v;
    int bad = !o || !args;
    size_t i;

    *out = NULL;
    bad |= json_object_set_new(o, "language", json_string(r->language));
    if (!(v = json_stringn(r->source, r->source_len))) {
        snprintf(err, errlen, "the source is not UTF-8 text");
        json_decref(o);
        json_decref(args);
        return -EILSEQ;
    }
    bad |= json_object_set_new(o, "source", v);
    if (r->stdin_data) {
        if (!(v = json_stringn(r->stdin_data, r->stdin_len))) {
            snprintf(err, errlen, "stdin is not UTF-8 text (the API takes it as a string)");
            json_decref(o);
            json_decref(args);
            return -EILSEQ;
        }
        bad |= json_object_set_new(o, "stdin", v);
    }
    for (i = 0; i < r->nargs; i++) {
        if (!(v = json_string(r->args[i]))) {
            snprintf(err, errlen, "--arg %zu is not UTF-8 text", i + 1);
            json_decref(o);
            json_decref(args);
            return -EILSEQ;
        }
        bad |= json_array_append_new(args, v);
    }
    if (r->nargs)
        bad |= json_object_set(o, "args", args);
    json_decref(args);
    if (!bad)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *out ? 0 : -ENOMEM;
}

int runq_job_finished(const json_t *job)
{
    const char *s = str(job, "status");

    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled"));
}

enum runq_exit runq_job_exit(const json_t *job)
{
    const char *state = str(job, "status");
    const json_t *result = json_object_get(job, "result");
    const char *rs = str(result, "status"), *verdict = str(result, "verdict");

    if (!runq_job_finished(job))
        return RUNQ_EXIT_OK;
    if (strcmp(state, "completed"))
        return RUNQ_EXIT_JOB;
    if (rs && !strcmp(rs, "internal_error"))
        return RUNQ_EXIT_JOB; /* the fleet's failure, not the program's */
    if (verdict)
        return strcmp(verdict, "AC") ? RUNQ_EXIT_FAILED : RUNQ_EXIT_OK;
    return rs && !strcmp(rs, "ok") ? RUNQ_EXIT_OK : RUNQ_EXIT_FAILED;
}

enum runq_exit runq_job_http_exit(long status)
{
    if (status >= 200 && status < 300)
        return RUNQ_EXIT_OK;
    return status >= 400 && status < 500 ? RUNQ_EXIT_JOB : RUNQ_EXIT_SERVER;
}

/* text[0..len) with control bytes as '?' and at most max bytes, into buf. */
static void printable(const char *text, size_t len, size_t max, char *buf, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < len && i < max && o + 1 < n; i++)
        buf[o++] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    if (n)
        buf[o] = '\0';
}

void runq_job_error_text(long status, const char *body, size_t len, char *buf, size_t n)
{
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    const json_t *e = json_object_get(j, "error");
    const char *code = str(e, "code"), *msg = str(e, "message"), *field = str(e, "field");
    char text[160];

    if (code && msg)
        snprintf(buf, n, "HTTP %ld %s: %s%s%s%s", status, code, msg, field && *field ? " (" : "",
                 field && *field ? field : "", field && *field ? ")" : "");
    else if (len) {
        printable(body, len, 120, text, sizeof(text));
        snprintf(buf, n, "HTTP %ld: %s", status, text);
    } else
        snprintf(buf, n, "HTTP %ld with an empty body", status);
    json_decref(j);
}

void runq_job_fmt_ms(long long ms, char *buf, size_t n)
{
    if (ms < 0)
        snprintf(buf, n, "-");
    else if (ms < 10000)
        snprintf(buf, n, "%lld ms", ms);
    else
        snprintf(buf, n, "%.1f s", (double)ms / 1000.0);
}

/* ", exit 2 (message), cpu 16 ms, wall 1.2 s, memory 3.0 MiB" of a run result. */
static void run_details(FILE *f, const json_t *r)
{
    const char *msg = str(r, "message"), *tl = str(r, "time_limit");
    long long sig = num(r, "signal", 0), mem = num(r, "memory_peak_kb", -1);
    char cpu[32], wall[32];

    if (tl)
        fprintf(f, " (%s)", tl);
    if (json_is_integer(json_object_get(r, "exit_code")))
        fprintf(f, ", exit %lld", num(r, "exit_code", 0));
    if (sig)
        fprintf(f, ", signal %lld", sig);
    if (msg && *msg && strcmp(str(r, "status") ? str(r, "status") : "", "ok"))
        fprintf(f, " (%s)", msg);
    runq_job_fmt_ms(num(r, "cpu_ms", -1), cpu, sizeof(cpu));
    runq_job_fmt_ms(num(r, "wall_ms", -1), wall, sizeof(wall));
    if (json_object_get(r, "cpu_ms")) /* an internal error's result has no measurements */
        fprintf(f, ", cpu %s, wall %s", cpu, wall);
    if (mem >= 0)
        fprintf(f, ", memory %.1f MiB", (double)mem / 1024.0);
}

/* A compiler's output (stdout then stderr), as it printed it. */
static void compile_output(FILE *f, const json_t *compile)
{
    const json_t *out = json_object_get(compile, "stdout"),
                 *err = json_object_get(compile, "stderr");

    fwrite(json_string_value(out) ? json_string_value(out) : "", 1, json_string_length(out), f);
    fwrite(json_string_value(err) ? json_string_value(err) : "", 1, json_string_length(err), f);
    if (json_string_length(err) && json_string_value(err)[json_string_length(err) - 1] != '\n')
        fputc('\n', f);
}

static void graded(FILE *f, const json_t *r)
{
    const json_t *tests = json_object_get(r, "tests");
    size_t i;

    fprintf(f, ": %s, score %g/%g\n", str(r, "verdict"),
            json_number_value(json_object_get(r, "score")),
            json_number_value(json_object_get(r, "max_score")));
    for (i = 0; i < json_array_size(tests); i++) {
        const json_t *t = json_array_get(tests, i);
        const char *got = str(t, "got"), *exp = str(t, "expected"), *cm = str(t, "checker_message");
        char cpu[32];

        runq_job_fmt_ms(num(t, "cpu_ms", -1), cpu, sizeof(cpu));
        fprintf(f, "  %-12s %-3s %g/%g  %s", str(t, "name") ? str(t, "name") : "?",
                str(t, "verdict") ? str(t, "verdict") : "?",
                json_number_value(json_object_get(t, "score")),
                json_number_value(json_object_get(t, "points")), cpu);
        if (got && exp)
            fprintf(f, "  line %lld: expected \"%.*s\", got \"%.*s\"", num(t, "line", 0),
                    (int)strcspn(exp, "\n"), exp, (int)strcspn(got, "\n"), got);
        if (cm && *cm)
            fprintf(f, "  checker: %.*s", (int)strcspn(cm, "\n"), cm);
        fputc('\n', f);
    }
}

char *runq_job_describe(const json_t *job)
{
    const char *id = str(job, "id"), *state = str(job, "status"), *reason = str(job, "reason");
    const json_t *r = json_object_get(job, "result");
    const char *rs = str(r, "status");
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);

    if (!f)
        return NULL;
    fprintf(f, "%s %s", id ? id : "?", state ? state : "(no status)");
    if (!runq_job_finished(job)) {
        if (json_is_true(json_object_get(job, "cancel_requested")))
            fprintf(f, " (cancel requested)");
        fputc('\n', f);
    } else if (!strcmp(state, "cancelled")) {
        fputc('\n', f);
    } else if (str(r, "verdict")) {
        graded(f, r);
        if (rs && !strcmp(rs, "compile_error"))
            compile_output(f, json_object_get(r, "compile"));
    } else if (rs && !strcmp(rs, "compile_error")) {
        fprintf(f, ": compile_error\n");
        compile_output(f, json_object_get(r, "compile"));
    } else if (rs) {
        fprintf(f, ": %s", rs);
        run_details(f, r);
        fprintf(f, "%s%s\n", reason ? "; " : "", reason ? reason : "");
    } else {
        fprintf(f, "%s%s\n", reason ? ": " : " (no result)", reason ? reason : "");
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
