/* SPDX-License-Identifier: MIT */
/* Every language of the real config/languages.yaml, end to end through the worker's own
 * path: languages_load -> a struct job_spec -> job_plan_build -> each step as the JSON
 * request the worker sends (job_plan_request), parsed back as runq-sandbox --serve does
 * (sbx_request_from_json) and run in one warm slot (sbx_slot_run) built from runq.yaml's
 * sandbox settings -> job_plan_take_artifacts from the compile result's JSON -> the run.
 * Per language, with sources in tests/runtime/languages/<name>/<case>.<ext of its file>:
 * hello, echo (stdin back byte for byte), ce (compiled languages only: the compile fails
 * with a message), re (a runtime error after some output), sum (two inputs); the sum inputs
 * again as one graded job, judged as the worker does it (worker/grading.c on each run's
 * result JSON); plus its version command as the worker's probe runs it
 * (lang_probe_first_line).
 * Prints compile and run wall times as TAP diagnostics.
 * With --docker, every step goes through the Docker backend instead (docker_pool, a fresh
 * container of the language's image per step, the same wire request), and must give the
 * same outcomes.
 * Must not: know any language by name: a language added to the yaml without sources fails
 * here. Uses slot 24 only (other runtime tests use other slots).
 * argv: languages.yaml, runq.yaml, the languages/ source directory [--docker]. Needs root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "docker_pool.h"
#include "grading.h"
#include "job.h"
#include "job_plan.h"
#include "lang_probe.h"
#include "languages.h"
#include "sbx_request.h"
#include "sbx_result.h"
#include "sbx_slot.h"
#include "tap.h"

#define SLOT 24

enum want { WANT_OK, WANT_COMPILE_ERROR, WANT_RUNTIME_ERROR };

/* Blanks, an empty line, a tab, a backslash and UTF-8: echo must hand back every byte. */
static const char echo_input[] = "first line\n  indented, with a trailing blank \n\n"
                                 "tab\there, back\\slash, na\xc3\xafve caf\xc3\xa9\nlast line\n";

static const struct test_case {
    const char *stem;   /* source file: <stem>.<ext> */
    const char *label;  /* in the test names */
    enum want want;
    const char *input;  /* stdin; NULL: none */
    const char *expect; /* exact stdout */
} cases[] = {
    {"hello", "hello", WANT_OK, NULL, "Hello, World!\n"},
    {"echo", "echo", WANT_OK, echo_input, echo_input},
    {"ce", "compile error", WANT_COMPILE_ERROR, NULL, ""},
    {"re", "runtime error", WANT_RUNTIME_ERROR, NULL, "before the error\n"},
    {"sum", "sum 1", WANT_OK, "1 2 3\n", "6\n"},
    /* Several lines, negative numbers, blanks around them, a sum past 2^32. */
    {"sum", "sum 2", WANT_OK, " -5 10\n  1000000000 2000000000\n\t3000000000 \n",
     "6000000005\n"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct env {
    struct tap t;
    struct sbx_slot slot;
    const struct config_limits *defaults;
    const char *src_dir;
    /* --docker: the Docker backend, on a loop of its own */
    struct docker_pool *pool;
    uv_loop_t loop;
    const struct runq_config *cfg;
    const struct language *lang; /* the language under test: its image */
};

/* Wall times of one language, for the diagnostics. */
struct times {
    uint64_t compile_ms, compiles, run_ms, runs;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file in a malloc'ed buffer, or NULL (missing or unreadable). */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n + 1)) != NULL) {
        *len = fread(data, 1, (size_t)n, f);
        if (*len != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

struct docker_answer {
    int done, status;
    json_t *result;
};

static void on_docker_answer(int status, json_t *answer, void *data)
{
    struct docker_answer *a = data;

    a->done = 1;
    a->status = status;
    a->result = json_incref(json_object_get(answer, "result"));
    json_decref(answer);
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until *flag is set or ms pass. */
static int wait_flag(uv_loop_t *loop, const int *flag, uint64_t ms)
{
    uv_timer_t guard;

    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, stop_loop, ms, 0);
    while (!*flag && uv_run(loop, UV_RUN_ONCE) >= 0 && uv_is_active((uv_handle_t *)&guard))
        ;
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag ? 0 : -1;
}

/* The struct form of a result the Docker backend answered, for the same assertions. */
static void result_from_json(const json_t *j, struct sbx_result *res)
{
    const char *status = json_string_value(json_object_get(j, "status"));
    const char *out = json_string_value(json_object_get(j, "stdout"));
    const char *err = json_string_value(json_object_get(j, "stderr"));
    int s;

    res->verdict.status = SBX_INTERNAL_ERROR;
    for (s = SBX_OK; s <= SBX_INTERNAL_ERROR; s++)
        if (status && strcmp(status, sbx_status_name((enum sbx_status)s)) == 0)
            res->verdict.status = (enum sbx_status)s;
    res->verdict.exit_code = json_is_integer(json_object_get(j, "exit_code"))
                                 ? (int)json_integer_value(json_object_get(j, "exit_code"))
                                 : -1;
    res->verdict.signal = (int)json_integer_value(json_object_get(j, "signal"));
    res->cpu_ms = (uint64_t)json_integer_value(json_object_get(j, "cpu_ms"));
    res->wall_ms = (uint64_t)json_integer_value(json_object_get(j, "wall_ms"));
    res->memory_peak_kb = (uint64_t)json_integer_value(json_object_get(j, "memory_peak_kb"));
    res->out.data = strdup(out ? out : "");
    res->out.len = out ? strlen(out) : 0;
    res->err.data = strdup(err ? err : "");
    res->err.len = err ? strlen(err) : 0;
    snprintf(res->message, sizeof(res->message), "%s",
             json_string_value(json_object_get(j, "message")));
}

/* A step in a container of the language's image, as the worker's backend runs it. */
static json_t *run_docker_step(struct env *e, const char *req, size_t len,
                               struct sbx_result *res)
{
    struct docker_answer a = {0, 0, NULL};
    char image[256];

    if (languages_image(e->lang, e->cfg->docker.image_prefix, e->cfg->docker.image_tag, image,
                        sizeof(image)) < 0 ||
        docker_pool_run(e->pool, image, req, len, on_docker_answer, NULL, &a, NULL) < 0 ||
        wait_flag(&e->loop, &a.done, 120000) < 0 || a.status < 0 || !a.result) {
        tap_diag("the Docker backend did not answer (status %d)", a.status);
        json_decref(a.result);
        return NULL;
    }
    result_from_json(a.result, res);
    return a.result;
}

/* One step the way the worker sends it and the serving slot parses it. The result is
 * returned both as the struct (for assertions) and as the JSON the worker receives. */
static json_t *run_step(struct env *e, const struct sbx_run_spec *step, struct sbx_result *res)
{
    struct sbx_request parsed;
    const char *field = "";
    json_t *answer = NULL;
    char *req = NULL;
    size_t len = 0;
    int r = job_plan_request(step, 0, &req, &len);

    memset(res, 0, sizeof(*res));
    if (r == 0 && e->pool) {
        answer = run_docker_step(e, req, len, res);
        free(req);
        return answer;
    }
    if (r < 0 || sbx_request_decode(req, len, &parsed, &field) < 0) {
        tap_diag("request not accepted (field %s)", field);
        free(req);
        return NULL;
    }
    free(req);
    if (sbx_slot_run(&e->slot, &parsed.spec, res) == 0)
        answer = sbx_result_to_json(res);
    sbx_request_free(&parsed);
    return answer;
}

/* Prints what a step said, for a failed assertion. */
static void show(const char *what, const struct sbx_result *res)
{
    tap_diag("  %s: %s (exit %d, signal %d) %s", what, sbx_status_name(res->verdict.status),
             res->verdict.exit_code, res->verdict.signal, res->message);
    /* The buffers are not NUL-terminated. */
    tap_diag("  stdout: %.*s", (int)(res->out.len < 600 ? res->out.len : 600),
             res->out.data ? res->out.data : "");
    tap_diag("  stderr: %.*s", (int)(res->err.len < 1200 ? res->err.len : 1200),
             res->err.data ? res->err.data : "");
}

static int stdout_is(const struct sbx_result *res, const char *want)
{
    size_t n = strlen(want);

    return res->out.len == n && (n == 0 || memcmp(res->out.data, want, n) == 0);
}

/* Submits source (and c->input) as a job of lang and checks the outcome c wants. */
static void run_case(struct env *e, const struct language *lang, const struct test_case *c,
                     unsigned char *source, size_t len, struct times *tm)
{
    struct job_file file = {NULL, source, len}; /* "source": named after the language */
    struct job_spec job;
    struct job_plan plan;
    struct sbx_result built, ran;
    json_t *answer = NULL;
    int ok, r;

    memset(&job, 0, sizeof(job));
    memset(&built, 0, sizeof(built));
    memset(&ran, 0, sizeof(ran));
    job.language = lang->name;
    job.files = &file;
    job.nfiles = 1;
    job.has_stdin = c->input != NULL;
    job.stdin_data = (unsigned char *)c->input;
    job.stdin_len = c->input ? strlen(c->input) : 0;
    if ((r = job_plan_build(&job, lang, e->defaults, &plan)) < 0) {
        tap_ok(&e->t, 0, "%s %s: job_plan_build (%d)", lang->name, c->label, r);
        return;
    }
    if (plan.compiled) {
        answer = run_step(e, &plan.compile, &built);
        tm->compile_ms += built.wall_ms;
        tm->compiles++;
        tap_diag("%s %s: compile %llu ms wall, %llu ms cpu, %llu KiB peak", lang->name,
                 c->label, (unsigned long long)built.wall_ms, (unsigned long long)built.cpu_ms,
                 (unsigned long long)built.memory_peak_kb);
    }
    if (c->want == WANT_COMPILE_ERROR) {
        /* The compiler itself must say no (not a limit, not the sandbox), and say why. */
        ok = answer && built.verdict.status == SBX_RUNTIME_ERROR &&
             built.out.len + built.err.len > 0;
        if (!tap_ok(&e->t, ok, "%s %s: the compile fails with a message", lang->name, c->label))
            show("compile", &built);
        goto out;
    }
    if (plan.compiled) {
        ok = answer && built.verdict.status == SBX_OK;
        if (!tap_ok(&e->t, ok, "%s %s: compiles", lang->name, c->label)) {
            show("compile", &built);
            goto out;
        }
        if (!tap_ok(&e->t, job_plan_take_artifacts(&plan, answer) == 0,
                    "%s %s: the artifacts reach the run step", lang->name, c->label))
            goto out;
    }
    json_decref(run_step(e, &plan.run, &ran));
    tm->run_ms += ran.wall_ms;
    tm->runs++;
    tap_diag("%s %s: run %llu ms wall, %llu ms cpu, %llu KiB peak", lang->name, c->label,
             (unsigned long long)ran.wall_ms, (unsigned long long)ran.cpu_ms,
             (unsigned long long)ran.memory_peak_kb);
    if (c->want == WANT_OK)
        ok = ran.verdict.status == SBX_OK && stdout_is(&ran, c->expect);
    else
        ok = (ran.verdict.status == SBX_RUNTIME_ERROR || ran.verdict.status == SBX_SIGNALED) &&
             stdout_is(&ran, c->expect);
    if (!tap_ok(&e->t, ok, "%s %s: %s", lang->name, c->label,
                c->want == WANT_OK ? "ok with the expected stdout"
                                   : "fails at run time, keeping the output before it"))
        show("run", &ran);
out:
    json_decref(answer);
    sbx_result_clear(&built);
    sbx_result_clear(&ran);
    job_plan_free(&plan);
}

static int str_field_is(const json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s && strcmp(s, want) == 0;
}

/* The runs of a graded job's tests until grading is over: each test's run step
 * (job_plan_test_run) in the slot, its result as JSON into grading_take_run. 0, or -1 when a
 * run did not answer or asked for a custom checker (this job has none). */
static int run_tests(struct env *e, const struct language *lang, struct job_plan *plan,
                     struct grading *g, const struct job_spec *job, struct times *tm)
{
    struct sbx_run_spec spec;
    struct sbx_result res;
    json_t *answer;
    long i = -1;
    int r = 0;

    while (r == 0 && (i = grading_next(g)) >= 0) {
        job_plan_test_run(plan, &job->tests[i], &spec);
        answer = run_step(e, &spec, &res);
        tm->run_ms += res.wall_ms;
        tm->runs++;
        if (!answer || grading_take_run(g, (size_t)i, answer) != 0)
            r = -1;
        else if (!str_field_is(json_array_get(g->records, (size_t)i), "verdict", "AC"))
            show(job->tests[i].name, &res); /* grading_result below says which */
        json_decref(answer);
        sbx_result_clear(&res);
    }
    if (r < 0)
        tap_diag("%s graded sum: test %ld did not answer, or wanted a checker", lang->name, i);
    return r;
}

/* The sum cases as one graded job, the way the worker grades it: compile once, take the
 * artifacts, then each test (run_tests); the job must be AC with every point. */
static void grade_sum(struct env *e, const struct language *lang, unsigned char *source,
                      size_t len, struct times *tm)
{
    struct job_file file = {NULL, source, len};
    struct job_test tests[NCASES];
    struct job_spec job;
    struct job_plan plan;
    struct grading g;
    struct sbx_result built;
    json_t *answer, *result = NULL;
    char *text;
    size_t k;
    int ok = 1;

    memset(&job, 0, sizeof(job)); /* checker lines, scoring sum, no stop on failure */
    job.language = lang->name;
    job.files = &file;
    job.nfiles = 1;
    job.tests = tests;
    for (k = 0; k < NCASES; k++)
        if (strcmp(cases[k].stem, "sum") == 0)
            tests[job.ntests++] = (struct job_test){
                (char *)cases[k].label, (unsigned char *)cases[k].input, strlen(cases[k].input),
                (unsigned char *)cases[k].expect, strlen(cases[k].expect), 1, NULL};
    if (job_plan_build(&job, lang, e->defaults, &plan) < 0) {
        tap_ok(&e->t, 0, "%s graded sum: job_plan_build", lang->name);
        return;
    }
    if (grading_init(&g, &job) < 0) {
        tap_ok(&e->t, 0, "%s graded sum: grading_init", lang->name);
        job_plan_free(&plan);
        return;
    }
    if (plan.compiled) {
        answer = run_step(e, &plan.compile, &built);
        tm->compile_ms += built.wall_ms;
        tm->compiles++;
        ok = answer && built.verdict.status == SBX_OK &&
             job_plan_take_artifacts(&plan, answer) == 0;
        if (!ok)
            show("graded sum compile", &built);
        json_decref(answer);
        sbx_result_clear(&built);
    }
    if (ok && run_tests(e, lang, &plan, &g, &job, tm) == 0)
        result = grading_result(&g, NULL);
    ok = result && str_field_is(result, "status", "ok") && str_field_is(result, "verdict", "AC") &&
         json_number_value(json_object_get(result, "score")) == (double)job.ntests &&
         json_number_value(json_object_get(result, "max_score")) == (double)job.ntests &&
         json_integer_value(json_object_get(json_object_get(result, "counts"), "AC")) ==
             (json_int_t)job.ntests;
    if (!tap_ok(&e->t, ok, "%s graded sum: AC, %zu of %zu points", lang->name, job.ntests,
                job.ntests) &&
        result && (text = json_dumps(result, JSON_COMPACT)) != NULL) {
        tap_diag("  result: %.1200s", text);
        free(text);
    }
    json_decref(result);
    grading_free(&g);
    job_plan_free(&plan);
}

/* The version command exactly as lang_probe runs it: compile limits for a compiled language. */
static void check_version(struct env *e, const struct language *lang)
{
    struct config_limits limits;
    struct sbx_run_spec spec;
    struct sbx_result res;
    char line[160] = "";
    json_t *answer;
    int ok;

    languages_limits(e->defaults, lang->compile ? &lang->compile_limits : &lang->limits, &limits);
    memset(&spec, 0, sizeof(spec));
    job_plan_limits(&limits, &spec.limits);
    spec.argv = lang->version;
    answer = run_step(e, &spec, &res);
    ok = answer && res.verdict.status == SBX_OK &&
         lang_probe_first_line(json_string_value(json_object_get(answer, "stdout")),
                               json_string_value(json_object_get(answer, "stderr")), line,
                               sizeof(line)) > 0;
    if (!tap_ok(&e->t, ok, "%s: version prints \"%s\"", lang->name, line))
        show("version", &res);
    json_decref(answer);
    sbx_result_clear(&res);
}

/* Per-language overrides must be accepted by the policy (a job may not exceed the maximum;
 * its language's own defaults should not either). */
static void check_limits(struct env *e, const struct language *lang,
                         const struct config_limits *max)
{
    const struct config_limits *ls[2] = {&lang->limits, &lang->compile_limits};
    int ok = 1, i;

    for (i = 0; i < 2; i++)
        ok = ok && ls[i]->cpu_ms <= max->cpu_ms && ls[i]->wall_ms <= max->wall_ms &&
             ls[i]->memory_kb <= max->memory_kb && ls[i]->pids <= max->pids &&
             ls[i]->output_kb <= max->output_kb && ls[i]->file_size_kb <= max->file_size_kb;
    tap_ok(&e->t, ok, "%s: limits and compile_limits within limits.maximum", lang->name);
}

static const char *extension(const struct language *lang)
{
    const char *dot = strrchr(lang->file, '.');

    return dot ? dot : "";
}

static void test_language(struct env *e, const struct language *lang,
                          const struct config_limits *max)
{
    struct times tm = {0, 0, 0, 0};
    double t0 = now_s();
    char path[4096];
    int graded = 0;
    size_t i;

    tap_diag("== %s (%s)", lang->name, lang->file);
    e->lang = lang;
    check_limits(e, lang, max);
    check_version(e, lang);
    for (i = 0; i < NCASES; i++) {
        const struct test_case *c = &cases[i];
        unsigned char *source;
        size_t len = 0;

        if (c->want == WANT_COMPILE_ERROR && !lang->compile)
            continue; /* interpreted: nothing compiles, nothing to fail */
        snprintf(path, sizeof(path), "%s/%s/%s%s", e->src_dir, lang->name, c->stem,
                 extension(lang));
        source = read_file(path, &len);
        if (!tap_ok(&e->t, source != NULL, "%s %s: source %s", lang->name, c->label, path))
            continue;
        run_case(e, lang, c, source, len, &tm);
        if (strcmp(c->stem, "sum") == 0 && !graded++)
            grade_sum(e, lang, source, len, &tm); /* every sum case at once, graded */
        free(source);
    }
    tap_diag("%s: %llu compiles %llu ms wall, %llu runs %llu ms wall, %.1f s in all",
             lang->name, (unsigned long long)tm.compiles, (unsigned long long)tm.compile_ms,
             (unsigned long long)tm.runs, (unsigned long long)tm.run_ms, now_s() - t0);
}

static void on_pool_closed(void *data)
{
    (*(int *)data)++;
}

/* --docker: one pool of one slot for all the languages, closed (and every container
 * removed) at the end. */
static void test_in_docker(struct env *e, const struct languages *table,
                           const struct runq_config *cfg)
{
    char owner[64];
    struct docker_pool_options o = {cfg->docker.socket, 1, 0, cfg->docker.uid, cfg->docker.cpus,
                                    owner};
    int ready = 0, closed = 0;
    size_t i;

    snprintf(owner, sizeof(owner), "runq-test-languages-%d", (int)getpid());
    uv_loop_init(&e->loop);
    if (!tap_ok(&e->t, docker_pool_new(&e->loop, &o, &e->pool) == 0, "a Docker pool on %s",
                cfg->docker.socket))
        return;
    for (i = 0; i < 300 && !ready; i++) { /* the sweep at start: a few calls */
        wait_flag(&e->loop, &ready, 100);
        ready = docker_pool_idle(e->pool) > 0;
    }
    if (tap_ok(&e->t, ready, "the pool is ready"))
        for (i = 0; i < table->count; i++)
            test_language(e, &table->items[i], &cfg->limits.maximum);
    docker_pool_close(e->pool, on_pool_closed, &closed);
    tap_ok(&e->t, wait_flag(&e->loop, &closed, 60000) == 0, "the pool closes");
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
}

int main(int argc, char **argv)
{
    static struct env e; /* the slot is large */
    static struct runq_config cfg;
    struct languages table = {NULL, 0};
    struct sbx_slot_config sc;
    struct config_error cerr;
    char msg[1024] = "";
    double t0 = now_s();
    size_t i;

    if (argc != 4 && (argc != 5 || strcmp(argv[4], "--docker") != 0)) {
        fprintf(stderr, "usage: %s languages.yaml runq.yaml languages-dir [--docker]\n",
                argv[0]);
        return 2;
    }
    e.src_dir = argv[3];
    if (!tap_ok(&e.t, config_load(argv[2], &cfg, &cerr) == 0, "load %s", argv[2])) {
        tap_diag("%s", config_error_format(&cerr, msg, sizeof(msg)));
        return tap_done(&e.t);
    }
    if (!tap_ok(&e.t, languages_load(argv[1], &table, &cerr) == 0, "load %s", argv[1])) {
        tap_diag("%s", config_error_format(&cerr, msg, sizeof(msg)));
        return tap_done(&e.t);
    }
    e.defaults = &cfg.limits.defaults;
    e.cfg = &cfg;
    if (argc == 5) {
        test_in_docker(&e, &table, &cfg);
        languages_free(&table);
        return tap_done(&e.t);
    }

    /* The slot the worker would build from runq.yaml (slot_pool: --no-default-binds and
     * sandbox.binds), so a runtime needing a path outside the binds fails here too. */
    sbx_slot_config_default(&sc);
    sc.slot = SLOT;
    sc.uid_base = cfg.sandbox.uid_base;
    sc.cgroup_name = cfg.sandbox.cgroup;
    sc.nbinds = 0;
    for (i = 0; i < cfg.sandbox.nbinds && i < SBX_MAX_BINDS; i++)
        sc.binds[sc.nbinds++] = cfg.sandbox.binds[i];
    msg[0] = '\0';
    if (!tap_ok(&e.t, sbx_slot_open(&e.slot, &sc, msg, sizeof(msg)) == 0, "open slot %d %s",
                SLOT, msg)) {
        languages_free(&table);
        return tap_done(&e.t);
    }
    for (i = 0; i < table.count; i++)
        test_language(&e, &table.items[i], &cfg.limits.maximum);
    sbx_slot_close(&e.slot, 1);
    tap_diag("%zu languages in %.1f s", table.count, now_s() - t0);
    languages_free(&table);
    return tap_done(&e.t);
}
