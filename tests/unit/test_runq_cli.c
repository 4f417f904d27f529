/* SPDX-License-Identifier: MIT */
/* Unit tests of the runq CLI's pure modules: arguments and URL, extension -> language, SSE in
 * every chunking, job bodies and exit codes, grade planning (natural order, test pairs, a batch
 * body common/batch accepts, its answers) and the reports (table, JSON, CSV, JUnit, progress). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "job.h"
#include "runq_args.h"
#include "runq_job.h"
#include "runq_junit.h"
#include "runq_lang.h"
#include "runq_plan.h"
#include "runq_report.h"
#include "runq_sse.h"
#include "tap.h"

/* -Wwrite-strings: literals are const, argv and file lists are not; the parsers only read
 * them, so the casts below are what main() and runq_io hand over. */
#define ARGV(...) ((char *const *)(const char *const[]){"runq", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((const char *const[]){"runq", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...)                                                                         \
    runq_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, sizeof(err))
#define LIST(...) ((char *const *)(const char *const[]){__VA_ARGS__})

static int has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/*** runq_args ***/
/* Command lines refused, each with what the message must say. */
static const struct {
    const char *argv[7];
    const char *msg;
} bad[] = {
    {{"frob"}, "no command \"frob\""},
    {{"get", "x.1", "--wait"}, "--wait is not an option of runq get"},
    {{"--json", "get", "x.1"}, "--json goes after a command"},
    {{"get", "x.1", "--bogus"}, "unknown option --bogus"},
    {{"submit", "a.py", "--stdin"}, "--stdin needs a value"},
    {{"submit", "a.py", "--wait=1"}, "--wait takes no value"},
    {{"submit", "a", "--language", "c", "--language", "py"}, "--language given twice"},
    {{"submit", "a", "--language="}, "--language needs a non-empty value"},
    {{"grade", "s", "--tests", "t", "--scoring", "max"}, "--scoring must be"},
    {{"submit"}, "runq submit needs a FILE"},
    {{"grade", "s"}, "runq grade needs --tests DIR"},
    {{"cancel"}, "runq cancel needs a job ID"},
    {{"get", "a", "b"}, "unexpected argument \"b\""},
    {{"get", "../x"}, "not a job id"},
    {{"watch", "a?b"}, "not a job id"},
    {{"languages", "x"}, "unexpected argument"},
    {{"-x"}, "unknown option -x"},
};

static void test_args(struct tap *t)
{
    struct runq_opts o;
    char err[256];
    size_t i;
    int ok;

    tap_ok(t,
           PARSE(&o, err, "--url", "http://h:1", "submit", "a.py", "--stdin=-", "--arg", "-x",
                 "--arg", "", "--wait", "--json", "--language", "py") == 0 &&
               o.cmd == RUNQ_CMD_SUBMIT && !strcmp(o.url, "http://h:1") &&
               !strcmp(o.path, "a.py") && !strcmp(o.stdin_path, "-") && o.nargs == 2 &&
               !strcmp(o.args[0], "-x") && !strcmp(o.args[1], "") && o.wait && o.json &&
               !strcmp(o.language, "py"),
           "submit: every option, values that look like options, an empty --arg");
    runq_args_free(&o);
    tap_ok(t,
           PARSE(&o, err, "grade", "subs", "--tests", "t", "--json", "r.json", "--csv=r.csv",
                 "--junit", "r.xml", "--checker", "float", "--scoring", "groups_min",
                 "--stop-on-failure", "--url", "https://x") == 0 &&
               o.cmd == RUNQ_CMD_GRADE && !strcmp(o.json_path, "r.json") && !o.json &&
               !strcmp(o.csv_path, "r.csv") && !strcmp(o.junit_path, "r.xml") &&
               !strcmp(o.checker, "float") && !strcmp(o.scoring, "groups_min") &&
               o.stop_on_failure && !strcmp(o.url, "https://x"),
           "grade: --json takes a file there; --url after the command");
    runq_args_free(&o);
    tap_ok(t, PARSE(&o, err, "submit", "--", "--weird.py") == 0 && !strcmp(o.path, "--weird.py"),
           "-- ends the options");
    runq_args_free(&o);
    ok = PARSE(&o, err, "help", "grade") == 0 && o.help && o.cmd == RUNQ_CMD_GRADE;
    runq_args_free(&o);
    ok &= PARSE(&o, err, "watch", "-h") == 0 && o.help && o.cmd == RUNQ_CMD_WATCH;
    runq_args_free(&o);
    ok &= PARSE(&o, err, "--help") == 0 && o.help && o.cmd == RUNQ_CMD_NONE;
    runq_args_free(&o);
    tap_ok(t, ok, "help grade, watch -h, --help (operands not required with help)");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[8] = {"runq"};
        int argc = 1;
        for (; bad[i].argv[argc - 1]; argc++)
            argv[argc] = bad[i].argv[argc - 1];
        tap_ok(t,
               runq_args_parse(argc, (char *const *)argv, &o, err, sizeof(err)) == -EINVAL &&
                   has(err, bad[i].msg),
               "refused with \"%s\"", err);
    }
    tap_ok(t,
           runq_args_builtin_checker("tokens") && !runq_args_builtin_checker("./lines") &&
               !runq_args_builtin_checker(NULL) &&
               has(runq_args_help(RUNQ_CMD_NONE), "Exit codes") &&
               has(runq_args_help(RUNQ_CMD_GRADE), "--junit FILE") &&
               has(runq_args_help(RUNQ_CMD_SUBMIT), "--stdin FILE|-"),
           "built-in checker names, help texts");
    tap_ok(t,
           !strcmp(runq_args_url(NULL, NULL, err, sizeof(err)), RUNQ_DEFAULT_URL) &&
               !strcmp(runq_args_url(NULL, "", err, sizeof(err)), RUNQ_DEFAULT_URL) &&
               !strcmp(runq_args_url(NULL, "http://e:1", err, sizeof(err)), "http://e:1") &&
               !strcmp(runq_args_url("HTTPS://f", "http://e:1", err, sizeof(err)), "HTTPS://f"),
           "the default URL, $RUNQ_URL, and --url over it");
    tap_ok(t,
           !runq_args_url("ftp://x", NULL, err, sizeof(err)) && has(err, "--url") &&
               !runq_args_url(NULL, "http://", err, sizeof(err)) && has(err, "RUNQ_URL") &&
               !runq_args_url("http://a b", NULL, err, sizeof(err)) &&
               !runq_args_url("http:///x", NULL, err, sizeof(err)),
           "bad URLs are refused, naming where they came from");
}

/*** runq_lang ***/
static const char langs_json[] =
    "{\"languages\": [{\"name\": \"python\", \"aliases\": [\"python3\", \"py\"], \"version\": "
    "\"Python 3.11\\nmore\"}, {\"name\": \"c\", \"aliases\": [\"gcc\"], \"version\": null}, "
    "{\"name\": \"cpp\", \"aliases\": [\"c++\", \"g++\"]}, {\"name\": \"rust\", \"aliases\": "
    "[\"rs\"]}, {\"name\": \"kotlin\", \"aliases\": [\"kt\"]}, {\"name\": \"csharp\", "
    "\"aliases\": [\"cs\", \"c#\"]}, {\"name\": \"java\", \"aliases\": []}]}";

static void test_lang(struct tap *t)
{
    struct runq_langs l;
    char err[256], *table;
    const char *got;
    static const char *const cases[][2] = {
        {"a.py", "python"},    {"x/y/B.PY", "python"}, {"m.cpp", "cpp"},   {"m.cc", "cpp"},
        {"m.cxx", "cpp"},      {"lib.rs", "rust"},     {"A.kt", "kotlin"}, {"P.cs", "csharp"},
        {"Main.java", "java"}, {"a.c", "c"},
    };
    size_t i;
    int ok = 1;

    tap_ok(t,
           runq_lang_parse(langs_json, strlen(langs_json), &l, err, sizeof(err)) == 0 &&
               l.count == 7 && l.items[0].naliases == 2 && !l.items[1].version,
           "GET /v1/languages parsed");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ok &= (got = runq_lang_from_path(&l, cases[i][0])) && !strcmp(got, cases[i][1]);
    tap_ok(t, ok, "extension -> language by name, alias (any case) and convention");
    tap_ok(t,
           !runq_lang_from_path(&l, "Makefile") && !runq_lang_from_path(&l, ".py") &&
               !runq_lang_from_path(&l, "dir.py/x") && !runq_lang_from_path(&l, "a.") &&
               !runq_lang_from_path(&l, "a.go") && !runq_lang_from_path(&l, "a.mjs") &&
               !strcmp(runq_lang_resolve(&l, "G++"), "cpp") && !runq_lang_resolve(&l, "go"),
           "no extension, hidden file, dotted directory, unknown, absent; resolve aliases");
    table = runq_lang_table(&l);
    tap_ok(t,
           has(table, "NAME") && has(table, "ALIASES") && has(table, "python3, py") &&
               has(table, "Python 3.11\n") && !has(table, "more") && has(table, "java    "),
           "the languages table: aliases joined, first line of a version, - when none");
    free(table);
    runq_lang_free(&l);
    tap_ok(t,
           runq_lang_parse("nope", 4, &l, err, sizeof(err)) == -EINVAL &&
               has(err, "no \"languages\" array") &&
               runq_lang_parse("{\"languages\":[{\"name\":\"a\",\"aliases\":[1]}]}", 41, &l, err,
                               sizeof(err)) == -EINVAL &&
               runq_lang_parse("{\"languages\":[{}]}", 18, &l, err, sizeof(err)) == -EINVAL,
           "a wrong answer is an error, not a crash");
}

/*** runq_sse ***/
struct sse_log {
    char text[1024];
    int stop_at; /* stop when this many events were seen (0: never) */
    int seen;
};

static int log_event(void *arg, const struct runq_sse_event *ev)
{
    struct sse_log *l = arg;
    size_t n = strlen(l->text);

    snprintf(l->text + n, sizeof(l->text) - n, "[%s|%s|%s]", ev->event, ev->data, ev->id);
    return ++l->seen == l->stop_at ? 7 : 0;
}

/* A fresh parser (max bytes) and an empty log. */
static void sse_reset(struct runq_sse *s, struct sse_log *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    runq_sse_init(s, max);
}

static void test_sse(struct tap *t)
{
    static const char stream[] = ": keepalive\r\n\r\nid: 1\nevent: snapshot\ndata: {\"a\":1}\n\n"
                                 "data:x\rdata: y\r\n\r\nevent: ignored\n\nid: 9\nretry: 5\n"
                                 "event: finished\ndata\n\n";
    static const char want[] = "[snapshot|{\"a\":1}|1][message|x\ny|1][finished||9]";
    size_t n = sizeof(stream) - 1, split, i;
    struct runq_sse s;
    struct sse_log l;
    int ok = 1;

    for (split = 0; split <= n; split++) { /* every place a chunk can end */
        sse_reset(&s, &l, 1024);
        runq_sse_feed(&s, stream, split, log_event, &l);
        runq_sse_feed(&s, stream + split, n - split, log_event, &l);
        runq_sse_free(&s);
        ok &= !strcmp(l.text, want);
    }
    tap_ok(t, ok, "two chunks split anywhere give the same events");
    sse_reset(&s, &l, 1024);
    for (i = 0; i < n; i++)
        runq_sse_feed(&s, stream + i, 1, log_event, &l);
    runq_sse_free(&s);
    tap_ok(t, !strcmp(l.text, want), "byte by byte: CRLF, CR, comments, retry, empty data");
    sse_reset(&s, &l, 1024);
    l.stop_at = 1;
    tap_ok(t, runq_sse_feed(&s, stream, n, log_event, &l) == 7 && l.seen == 1,
           "the callback stops the stream with its value");
    runq_sse_free(&s);
    sse_reset(&s, &l, 16);
    tap_ok(t, runq_sse_feed(&s, "data: 0123456789abcdef\n\n", 24, log_event, &l) == -E2BIG,
           "a line above max is refused");
    runq_sse_free(&s);
    sse_reset(&s, &l, 64);
    tap_ok(t, runq_sse_feed(&s, "data: a\0b\n\n", 11, log_event, &l) == 0 && l.seen == 1,
           "a NUL byte inside a line does not end the chunk early");
    runq_sse_free(&s);
}

/*** runq_job ***/
static json_t *job(const char *text)
{
    return json_loads(text, JSON_ALLOW_NUL, NULL);
}

/* Job answers and the exit code each means. */
static const struct {
    const char *job;
    int exit;
} exits[] = {
    {"{\"status\":\"completed\",\"result\":{\"status\":\"ok\"}}", 0},
    {"{\"status\":\"completed\",\"result\":{\"status\":\"runtime_error\",\"exit_code\":3}}", 1},
    {"{\"status\":\"completed\",\"result\":{\"status\":\"compile_error\"}}", 1},
    {"{\"status\":\"completed\",\"result\":{\"status\":\"ok\",\"verdict\":\"AC\"}}", 0},
    {"{\"status\":\"completed\",\"result\":{\"status\":\"ok\",\"verdict\":\"PA\"}}", 1},
    {"{\"status\":\"completed\",\"result\":{\"status\":\"internal_error\"}}", 4},
    {"{\"status\":\"failed\",\"reason\":\"too many attempts\"}", 4},
    {"{\"status\":\"cancelled\"}", 4},
    {"{\"status\":\"running\"}", 0},
};

static void test_job(struct tap *t)
{
    size_t i;
    const char *args[] = {"a b", "-v"};
    struct runq_job_req r = {"python", "print(1)\n", 9, "in\0x", 4, args, 2};
    char *body = NULL, err[256], text[256];
    const char *api_error;
    json_t *j;

    tap_ok(t,
           runq_job_body(&r, &body, err, sizeof(err)) == 0 &&
               has(body, "\"language\":\"python\"") && has(body, "\"stdin\":\"in\\u0000x\"") &&
               has(body, "\"args\":[\"a b\",\"-v\"]"),
           "a plain run's body (NUL in stdin kept)");
    free(body);
    r = (struct runq_job_req){"c", "\xff", 1, NULL, 0, NULL, 0};
    tap_ok(t, runq_job_body(&r, &body, err, sizeof(err)) == -EILSEQ && !body && has(err, "source"),
           "a source that is not UTF-8 is refused by name");
    for (i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
        j = job(exits[i].job);
        tap_ok(t, j && (int)runq_job_exit(j) == exits[i].exit, "exit %d: %s", exits[i].exit,
               exits[i].job);
        json_decref(j);
    }
    tap_ok(t, runq_job_exit(NULL) == RUNQ_EXIT_OK && !runq_job_finished(NULL),
           "a missing answer does not crash");
    tap_ok(t,
           runq_job_http_exit(202) == 0 && runq_job_http_exit(404) == 4 &&
               runq_job_http_exit(422) == 4 && runq_job_http_exit(503) == 3 &&
               runq_job_http_exit(0) == 3,
           "HTTP status -> exit code");
    api_error = "{\"error\":{\"code\":\"unknown_language\",\"message\":\"m\",\"field\":"
                "\"language\"}}";
    runq_job_error_text(422, api_error, strlen(api_error), text, sizeof(text));
    tap_ok(t, !strcmp(text, "HTTP 422 unknown_language: m (language)"), "an API error: %s", text);
    runq_job_error_text(502, "<html>\n", 7, text, sizeof(text));
    tap_ok(t, !strcmp(text, "HTTP 502: <html>?"), "another body, made printable: %s", text);
    j = job("{\"id\":\"q.1\",\"status\":\"completed\",\"result\":{\"status\":\"time_limit\","
            "\"time_limit\":\"wall\",\"signal\":9,\"cpu_ms\":3,\"wall_ms\":5000,"
            "\"memory_peak_kb\":2048,\"message\":\"wall-clock\"}}");
    body = runq_job_describe(j);
    tap_ok(t,
           has(body, "q.1 completed: time_limit (wall), signal 9 (wall-clock), cpu 3 ms, "
                     "wall 5000 ms, memory 2.0 MiB\n"),
           "describe a run: %s", body ? body : "NULL");
    free(body);
    json_decref(j);
    j = job("{\"id\":\"q.2\",\"status\":\"completed\",\"result\":{\"status\":\"ok\",\"verdict\":"
            "\"WA\",\"score\":1,\"max_score\":2,\"tests\":[{\"name\":\"t1\",\"verdict\":\"AC\","
            "\"score\":1,\"points\":1,\"cpu_ms\":4},{\"name\":\"t2\",\"verdict\":\"WA\",\"score\":"
            "0,\"points\":1,\"cpu_ms\":5,\"expected\":\"5\\n\",\"got\":\"4\\n\",\"line\":1}]}}");
    body = runq_job_describe(j);
    tap_ok(t,
           has(body, "q.2 completed: WA, score 1/2\n") && has(body, "t2") &&
               has(body, "line 1: expected \"5\", got \"4\""),
           "describe a graded job");
    free(body);
    json_decref(j);
}

/*** runq_plan ***/
/* The message pairing files[0..n) is refused with (in err); "" when it is accepted. */
static const char *pair_error(char *const *files, size_t n, int need_output, char *err)
{
    struct runq_plan_test *tests;
    size_t k;

    if (runq_plan_pair_tests(files, n, need_output, &tests, &k, err, 256) < 0)
        return err;
    runq_plan_free_tests(tests, k);
    return "";
}

static void test_plan(struct tap *t)
{
    static const char *const sorted[] = {"a01b", "a1b", "b", "t1", "t02", "t2", "t10"};
    char *names[7] = {0}, err[256];
    size_t i, n;
    int ok = 1;
    struct runq_plan_test *tests;

    for (i = 0; i < 7; i++) /* a shuffled copy */
        names[i] = strdup(sorted[(i * 3 + 2) % 7]);
    runq_plan_sort(names, 7);
    for (i = 0; i < 7; i++) {
        ok &= !strcmp(names[i], sorted[i]);
        free(names[i]);
    }
    tap_ok(t,
           ok && runq_plan_natcmp("x", "x") == 0 && runq_plan_natcmp("x9", "x10") < 0 &&
               runq_plan_natcmp("99999999999999999999", "100000000000000000000") < 0,
           "natural order: 2 before 10, leading zeros by value then as text, long numbers");
    tap_ok(t,
           runq_plan_pair_tests(
               LIST("2.in", "2.ans", "10.in", "10.out", "1.in", "1.out", "README", "x.txt"), 8, 1,
               &tests, &n, err, sizeof(err)) == 0 &&
               n == 3 && !strcmp(tests[0].name, "1") && !strcmp(tests[1].name, "2") &&
               !strcmp(tests[1].out_file, "2.ans") && !strcmp(tests[2].out_file, "10.out"),
           "pairs .in with .out or .ans, in natural order, other files ignored");
    runq_plan_free_tests(tests, n);
    tap_ok(t, has(pair_error(LIST("1.in", "1.out", "3.out"), 3, 1, err), "3.out has no 3.in"),
           "an orphan output");
    tap_ok(t, has(pair_error(LIST("1.in"), 1, 1, err), "1.in has no 1.out or 1.ans"),
           "an input without output");
    tap_ok(t, !*pair_error(LIST("1.in"), 1, 0, err), "... is fine with a custom checker");
    tap_ok(t, has(pair_error(LIST("1.in", "1.out", "1.ans"), 3, 1, err), "has both"),
           "both .out and .ans is ambiguous");
    tap_ok(t,
           has(pair_error(LIST("a\tb.in", "a\tb.out"), 2, 1, err), "control character") &&
               has(pair_error(NULL, 0, 1, err), "no tests"),
           "a name the API refuses; no tests at all");
    tap_ok(t,
           runq_plan_is_submission("a.py") && !runq_plan_is_submission(".hidden") &&
               !runq_plan_is_submission("a.py~"),
           "hidden and backup files are no submissions");
}

/* The batch body, read back by the dispatcher's own parser; the batch's answers. */
static void test_batch(struct tap *t)
{
    static const char ans[] = "{\"id\":\"b\",\"jobs\":[{\"id\":\"1\",\"state\":\"queued\"},{\"id\":"
                              "\"2\",\"state\":\"completed\",\"verdict\":\"WA\",\"score\":1}]}";
    struct runq_plan_data data[] = {{"1", "1 2\n", 4, "3\n", 2}, {"bin", "\xff\x00", 2, NULL, 0}};
    struct runq_plan_grading g = {data, 2, "unused", "c", "int main(){}", 12, "groups_min", 1};
    struct runq_plan_sub subs[] = {{"a.py", "python", "print(3)\n", 9}, {"b.c", "c", "int x;", 6}};
    struct batch_spec b = {0};
    struct runq_plan_batch_job j[2];
    struct api_error e;
    char *body = NULL, err[256], *ids[2];
    json_t *a = job(ans);

    tap_ok(t,
           runq_plan_batch_body(&g, subs, 2, &body, err, sizeof(err)) == 0 &&
               has(body, "\"tests\"") && !has(strstr(body, "\"tests\"") + 1, "\"tests\"") &&
               batch_parse(body, strlen(body), &(struct job_policy){0}, 0, &b, &e) == 0 &&
               b.n == 2 && !strcmp(b.jobs[0].name, "a.py") && !strcmp(b.jobs[1].language, "c") &&
               b.jobs[1].ntests == 2 && b.jobs[1].tests[1].stdin_data[0] == 0xff &&
               b.jobs[1].tests[1].stdin_len == 2 && b.jobs[0].checker.opts.kind == CHECKER_CUSTOM &&
               !strcmp(b.jobs[0].checker.language, "c") && b.jobs[1].grading.stop_on_failure &&
               b.jobs[1].grading.scoring == GRADE_SCORING_GROUPS_MIN,
           "the tests once, binary data as base64, a custom checker: common/batch takes it");
    batch_spec_free(&b);
    free(body);
    g = (struct runq_plan_grading){data, 2, "tokens", NULL, NULL, 2, NULL, 0};
    data[1].out = "";
    subs[0].name = "a\tb.py"; /* a name the API refuses: none is named, the API numbers them */
    tap_ok(t,
           runq_plan_batch_body(&g, subs, 2, &body, err, sizeof(err)) == 0 &&
               !has(body, "grading") &&
               batch_parse(body, strlen(body), &(struct job_policy){0}, 0, &b, &e) == 0 &&
               b.jobs[1].checker.opts.kind == CHECKER_TOKENS && !strcmp(b.jobs[1].name, "2"),
           "a built-in checker, the server's default grading, unnamed submissions");
    batch_spec_free(&b);
    free(body);
    g.checker_source = "\xc3\x28"; /* 2 bytes, not UTF-8 */
    tap_ok(t,
           runq_plan_batch_body(&g, subs, 2, &body, err, sizeof(err)) == -EILSEQ &&
               has(err, "checker") && (g.checker_source = NULL, subs[1].source = "\xff") &&
               runq_plan_batch_body(&g, subs, 2, &body, err, sizeof(err)) == -EILSEQ &&
               has(err, "b.c"),
           "a checker or a source that is not UTF-8 is refused by name");
    tap_ok(t,
           runq_plan_batch_accepted(ans, strlen(ans), 3, &body, ids) == -EPROTO && !body &&
               runq_plan_batch_accepted(ans, strlen(ans), 2, &body, ids) == 0 &&
               !strcmp(body, "b") && !strcmp(ids[1], "2") &&
               runq_plan_batch_read(a, ids, 2, j) == 0 && !j[0].finished && !j[0].verdict &&
               j[1].finished && !strcmp(j[1].verdict, "WA") && j[1].score == 1 &&
               runq_plan_batch_read(a, LIST("9"), 1, j) < 0,
           "answers: the jobs' ids in order; a job finished (a verdict) once completed");
    json_decref(a);
    free(body);
    free(ids[0]);
    free(ids[1]);
}

/*** runq_report, runq_junit ***/
static const char graded_job[] =
    "{\"id\":\"q.7\",\"status\":\"completed\",\"result\":{\"status\":\"ok\",\"verdict\":\"WA\","
    "\"score\":1.5,\"max_score\":3,\"tests\":[{\"name\":\"1\",\"verdict\":\"AC\",\"score\":1,"
    "\"points\":1,\"cpu_ms\":12,\"wall_ms\":20,\"memory_kb\":300},{\"name\":\"2\",\"verdict\":"
    "\"WA\",\"score\":0,\"points\":1,\"cpu_ms\":30,\"expected\":\"a<b\\n\",\"got\":\"a&b\\n\","
    "\"line\":1,\"status\":\"ok\"},{\"name\":\"3\",\"verdict\":\"PA\",\"score\":0.5,\"points\":1,"
    "\"checker_message\":\"half\"}]}}";

static void make_rows(struct runq_report_sub *rows)
{
    char *const *names = LIST("1", "2", "3");
    json_t *j = job(graded_job);

    runq_report_init(&rows[0], "wa, \"quoted\".py", "python", names, 3);
    runq_report_take_job(&rows[0], j);
    json_decref(j);
    runq_report_init(&rows[1], "bad\xff.c", "c", names, 3);
    runq_report_set_error(&rows[1], RUNQ_EXIT_JOB, "HTTP 413 payload_too_large: big");
    runq_report_init(&rows[2], "ok.py", "python", names, 1);
    j = job("{\"id\":\"q.8\",\"status\":\"completed\",\"result\":{\"status\":\"ok\",\"verdict\":"
            "\"AC\",\"score\":1,\"max_score\":1,\"tests\":[{\"name\":\"1\",\"verdict\":\"AC\","
            "\"score\":1,\"points\":1,\"cpu_ms\":7}]}}");
    runq_report_take_job(&rows[2], j);
    json_decref(j);
}

/* submissions[i].key of a JSON report. */
static const json_t *sub_key(const json_t *report, size_t i, const char *key)
{
    return json_object_get(json_array_get(json_object_get(report, "submissions"), i), key);
}

static void test_report(struct tap *t)
{
    struct runq_report_sub rows[3];
    char *s;
    json_t *j;
    size_t i;

    make_rows(rows);
    tap_ok(t,
           rows[0].exit == RUNQ_EXIT_FAILED && rows[0].time_ms == 30 && rows[0].ntests == 3 &&
               !strcmp(rows[0].tests[1].detail, "line 1: expected \"a<b\", got \"a&b\"") &&
               !strcmp(rows[0].tests[2].detail, "checker: half") && !rows[0].tests[0].detail,
           "a graded job's row: verdicts, slowest test, details");
    tap_ok(t,
           runq_report_exit(rows, 3) == RUNQ_EXIT_JOB && runq_report_exit(rows + 2, 1) == 0 &&
               runq_report_exit(rows, 1) == RUNQ_EXIT_FAILED && runq_report_exit(NULL, 0) == 0,
           "the run's exit code is the highest");
    s = runq_report_table(rows, 3);
    tap_ok(t,
           has(s, "SUBMISSION") && has(s, "WA       1.5/3        30 ms") &&
               has(s, "ERROR    0/3          -") && has(s, "bad\xef\xbf\xbd.c: HTTP 413") &&
               has(s, "3 submissions: 1 accepted, 1 not accepted, 1 not graded"),
           "the table");
    free(s);
    s = runq_report_csv(rows, 3);
    tap_ok(t,
           has(s, "submission,language,job_id,verdict,score,max_score,time_ms,passed,tests,"
                  "error\r\n\"wa, \"\"quoted\"\".py\",python,q.7,WA,1.5,3,30,1,3,\r\n") &&
               has(s, "\r\nbad\xef\xbf\xbd.c,c,,ERROR,,3,,0,3,HTTP 413 payload_too_large: big\r\n"),
           "CSV: quoting, CRLF, U+FFFD, empty cells");
    free(s);
    s = runq_report_json(rows, 3);
    j = s ? json_loads(s, 0, NULL) : NULL;
    tap_ok(
        t,
        j && json_integer_value(json_object_get(json_object_get(j, "summary"), "exit_code")) == 4 &&
            json_is_null(sub_key(j, 1, "verdict")) && json_array_size(sub_key(j, 0, "tests")) == 3,
        "JSON report parses back, not graded as null");
    json_decref(j);
    free(s);
    s = runq_junit_report(rows, 3);
    tap_ok(t,
           has(s, "<testsuites name=\"runq grade\" tests=\"7\" failures=\"2\" errors=\"3\"") &&
               has(s, "<testsuite name=\"wa, &quot;quoted&quot;.py\"") &&
               has(s, "<failure type=\"WA\" message=\"WA: 0/1 points\">line 1: expected "
                      "&quot;a&lt;b&quot;, got &quot;a&amp;b&quot;</failure>") &&
               has(s, "<failure type=\"PA\"") &&
               has(s, "<error type=\"ERROR\" message=\"HTTP 413 payload_too_large: big\"/>") &&
               has(s, "name=\"bad\xef\xbf\xbd.c\"") && has(s, "time=\"0.030\""),
           "JUnit: counts, escaping, failure/error per test");
    free(s);
    for (i = 0; i < 3; i++)
        runq_report_free(&rows[i]);
}

static void test_quoting(struct tap *t)
{
    static const char *const csv[] = {
        /* a field, then what it becomes */
        "plain",      "plain",           "a,b",   "\"a,b\"",   "say \"hi\"", "\"say \"\"hi\"\"\"",
        "two\nlines", "\"two\nlines\"",  " lead", "\" lead\"", "",           "",
        "bad\xfe",    "bad\xef\xbf\xbd", "cr\r",  "\"cr\r\"",
    };
    size_t i;
    int ok = 1;
    char *s;

    for (i = 0; i < sizeof(csv) / sizeof(csv[0]); i += 2) {
        s = runq_report_csv_quote(csv[i]);
        ok &= s && !strcmp(s, csv[i + 1]);
        free(s);
    }
    tap_ok(t, ok, "CSV fields: RFC 4180 quoting");
    s = runq_junit_escape("<a href='x'>&\"</a>", 18, 0);
    tap_ok(t, s && !strcmp(s, "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;"), "XML specials");
    free(s);
    s = runq_junit_escape("a\x01\x1b[0m\tb\n\r\0c", 12, 0);
    tap_ok(t,
           s && !strcmp(s, "a\xef\xbf\xbd\xef\xbf\xbd[0m\tb\n&#13;\xef\xbf\xbd"
                           "c"),
           "control bytes and NUL become U+FFFD; TAB and LF stay, CR is a reference");
    free(s);
    s = runq_junit_escape("t\tl\nc\r", 6, 1);
    tap_ok(t, s && !strcmp(s, "t&#9;l&#10;c&#13;"), "in attributes TAB LF CR are references");
    free(s);
    /* invalid: a lone continuation, an overlong "/", a surrogate, U+FFFE, cut short */
    s = runq_junit_escape("\x80|\xc0\xaf|\xed\xa0\x80|\xef\xbf\xbe|\xe2\x82", 15, 0);
    tap_ok(t,
           s && !strcmp(s, "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd"
                           "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd"),
           "invalid UTF-8 and XML-forbidden characters become U+FFFD");
    free(s);
    s = runq_junit_escape("\xc3\xa9\xf0\x9f\x98\x80", 6, 1);
    tap_ok(t, s && !strcmp(s, "\xc3\xa9\xf0\x9f\x98\x80"), "valid UTF-8 passes untouched");
    free(s);
}

static void test_progress(struct tap *t)
{
    char buf[256], eta[32];

    runq_report_progress_bar(buf, sizeof(buf), "graded", 12, 30, 4.8, 10);
    tap_ok(t, !strcmp(buf, "graded [####......] 12/30  40%  2.5/s  ETA 0:07"), "bar: %s", buf);
    runq_report_progress_bar(buf, sizeof(buf), "graded", 0, 30, 0, 4);
    tap_ok(t, !strcmp(buf, "graded [....] 0/30   0%  -/s  ETA --:--"), "nothing done: %s", buf);
    runq_report_progress_bar(buf, sizeof(buf), "graded", 31, 30, 75, 4);
    tap_ok(t, !strcmp(buf, "graded [####] 30/30 100%  0.4/s  done in 1:15"), "all done: %s", buf);
    runq_report_progress_bar(buf, sizeof(buf), "x", 0, 0, 1, 0);
    tap_ok(t, !strcmp(buf, "x [#] 0/0 100%  -/s  ETA --:--"), "no submissions, width 0: %s", buf);
    runq_report_progress_eta(buf, sizeof(buf), 3723);
    runq_report_progress_eta(eta, sizeof(eta), -1);
    tap_ok(t, !strcmp(buf, "1:02:03") && !strcmp(eta, "--:--"), "ETA with hours, and none");
    runq_report_progress_line(buf, sizeof(buf), 3, 4, 2, "w\ta.c", "WA", 1, 3);
    tap_ok(t, !strcmp(buf, "[3/4] w?a.c: WA 1/3 (1.5/s, ETA 0:01)"), "line: %s", buf);
    runq_report_progress_line(buf, sizeof(buf), 4, 4, 2, "e.c", NULL, 0, 3);
    tap_ok(t, !strcmp(buf, "[4/4] e.c: ERROR (2.0/s, done in 0:02)"), "line, not graded: %s", buf);
}

int main(void)
{
    struct tap t = {0};

    test_args(&t);
    test_lang(&t);
    test_sse(&t);
    test_job(&t);
    test_plan(&t);
    test_batch(&t);
    test_report(&t);
    test_quoting(&t);
    test_progress(&t);
    return tap_done(&t);
}
