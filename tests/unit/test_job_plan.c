/* SPDX-License-Identifier: MIT */
/* Unit tests of job_plan: commands, files and limits of the sandbox runs a job becomes,
 * including a graded job's test runs and its custom checker (interpreted and compiled). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job_plan.h"
#include "tap.h"

static const char languages_yaml[] =
    "python:\n  version: [python3, -V]\n  file: main.py\n  run: [python3, \"{file}\", \"{args}\"]\n"
    "  limits:\n    memory_kb: 524288\n"
    "c:\n  version: [gcc, -v]\n  file: main.c\n  compile: [gcc, -o, main, \"{file}\"]\n"
    "  artifacts: [main]\n  compile_limits:\n    cpu_ms: 9000\n  run: [./main, \"{args}\"]\n"
    "  limits:\n    wall_ms: 7000\n";

static int argv_is(char *const *argv, const char *const *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!argv[i] || strcmp(argv[i], want[i]) != 0)
            return 0;
    return argv[n] == NULL;
}

static int file_is(const struct sbx_file *f, const char *name, const char *data, size_t len)
{
    return strcmp(f->name, name) == 0 && f->len == len &&
           (len == 0 || memcmp(f->data, data, len) == 0);
}

/* A test by hand: its stdin and expected output. */
static struct job_test test_of(const char *in, const char *expected)
{
    struct job_test t = {(char *)"1", (unsigned char *)in, strlen(in),
                         (unsigned char *)expected, strlen(expected), 1, NULL};

    return t;
}

/* The checker's run for test t with the program's output out: the checker's own files
 * first, then input.txt, output.txt, answer.txt with their contents; no stdin. */
static int checker_run_is(struct job_plan *plan, const struct job_test *t, const char *out,
                          size_t nown)
{
    struct sbx_run_spec spec;
    size_t len = strlen(out);

    job_plan_checker_run(plan, t, out, len, &spec);
    return spec.nfiles == nown + 3 && spec.files == plan->checker.files &&
           spec.argv == plan->checker_run.argv && !spec.stdin_data && spec.stdin_len == 0 &&
           memcmp(&spec.limits, &plan->checker_run.limits, sizeof(spec.limits)) == 0 &&
           file_is(&spec.files[nown], "input.txt", (const char *)t->stdin_data, t->stdin_len) &&
           file_is(&spec.files[nown + 1], "output.txt", out, len) &&
           file_is(&spec.files[nown + 2], "answer.txt", (const char *)t->expected,
                   t->expected_len) &&
           !spec.files[nown].executable && !spec.files[nown + 2].executable;
}

/* A graded c job: each test's run is the run step with the test's stdin, nothing else. */
static void test_test_run(struct tap *t, const struct job_plan *plan)
{
    struct job_test test = test_of("5 6\n", "11\n");
    struct sbx_run_spec spec;

    job_plan_test_run(plan, &test, &spec);
    tap_ok(t, spec.stdin_data == test.stdin_data && spec.stdin_len == 4,
           "test run: the test's stdin");
    tap_ok(t, spec.argv == plan->run.argv && spec.files == plan->run.files &&
                  spec.nfiles == plan->run.nfiles && spec.ncollect == plan->run.ncollect &&
                  memcmp(&spec.limits, &plan->run.limits, sizeof(spec.limits)) == 0,
           "test run: argv, files and limits of the run step");
}

/* An interpreted (python-like) checker beside a compiled program. */
static void test_checker_python(struct tap *t, const struct languages *langs,
                                const struct config_limits *defaults, const struct job_spec *job)
{
    struct job_checker checker = {{CHECKER_CUSTOM, 0, 0}, (char *)"python",
                                  (unsigned char *)"import sys\n", 11};
    struct job_test t1 = test_of("1 2\n", "3\n"), t2 = test_of("", "x");
    struct job_plan plan;
    json_t *ok = json_loads("{\"status\": \"ok\"}", 0, NULL);
    unsigned char *prog_run;

    if (!tap_ok(t, job_plan_build(job, languages_find(langs, "c"), defaults, &plan) == 0,
                "c plan for a python checker"))
        return;
    prog_run = malloc(sizeof(plan.run));
    if (prog_run)
        memcpy(prog_run, &plan.run, sizeof(plan.run));
    tap_ok(t, job_plan_add_checker(&plan, &checker, languages_find(langs, "python"),
                                   defaults) == 0 && plan.has_checker && !plan.checker_compiled,
           "python checker: added, no compile step");
    tap_ok(t, argv_is(plan.checker_run.argv, (const char *[]){"python3", "main.py", "input.txt",
                                                             "output.txt", "answer.txt"}, 5),
           "python checker argv: the language's run with input.txt output.txt answer.txt");
    tap_ok(t, plan.checker_run.limits.memory_bytes == 524288ULL * 1024 &&
                  plan.checker_run.limits.cpu_ms == 2000 &&
                  plan.checker_run.limits.wall_ms == 5000,
           "python checker limits: the checker language's over the defaults, not the job's");
    tap_ok(t, plan.checker_run.nfiles == 1 &&
                  file_is(&plan.checker_run.files[0], "main.py", "import sys\n", 11),
           "python checker files: its source under the language's file name");
    tap_ok(t, prog_run && memcmp(prog_run, &plan.run, sizeof(plan.run)) == 0,
           "adding the checker leaves the program's run alone");
    tap_ok(t, job_plan_take_checker_artifacts(&plan, ok) == 0 && plan.checker_run.nfiles == 1,
           "no compile step: no artifacts to take");
    t2.expected = (unsigned char *)"x\0y";
    t2.expected_len = 3;
    tap_ok(t, checker_run_is(&plan, &t1, "3\n", 1), "checker run of test 1: 3 data files");
    tap_ok(t, checker_run_is(&plan, &t2, "", 1),
           "checker run of test 2: the data replaced, not appended (empty output, NUL byte)");
    tap_ok(t, job_plan_add_checker(&plan, &checker, languages_find(langs, "python"),
                                   defaults) == -EINVAL,
           "a second checker is -EINVAL");
    free(prog_run);
    json_decref(ok);
    job_plan_free(&plan);
    tap_ok(t, !plan.has_checker && !plan.checker.files && !plan.checker_run_argv,
           "job_plan_free clears the checker");
    checker.source = NULL;
    if (job_plan_build(job, languages_find(langs, "c"), defaults, &plan) == 0) {
        tap_ok(t, job_plan_add_checker(&plan, &checker, languages_find(langs, "python"),
                                       defaults) == -EINVAL && !plan.has_checker,
               "a checker without a source is -EINVAL");
        job_plan_free(&plan);
    }
}

/* A compiled (c-like) checker beside an interpreted program. */
static void test_checker_c(struct tap *t, const struct languages *langs,
                           const struct config_limits *defaults, const struct job_spec *job)
{
    struct job_checker checker = {{CHECKER_CUSTOM, 0, 0}, (char *)"c",
                                  (unsigned char *)"int main;", 9};
    struct job_test t1 = test_of("in\n", "ans\n");
    struct job_plan plan;
    json_t *answer;

    if (!tap_ok(t, job_plan_build(job, languages_find(langs, "python"), defaults, &plan) == 0,
                "python plan for a c checker"))
        return;
    tap_ok(t, job_plan_add_checker(&plan, &checker, languages_find(langs, "c"), defaults) == 0 &&
                  plan.has_checker && plan.checker_compiled && !plan.compiled,
           "c checker: added with a compile step (the program has none)");
    tap_ok(t, argv_is(plan.checker_compile.argv, (const char *[]){"gcc", "-o", "main", "main.c"},
                      4) &&
                  plan.checker_compile.ncollect == 1 &&
                  strcmp(plan.checker_compile.collect[0], "main") == 0 &&
                  plan.checker_compile.nfiles == 1 &&
                  file_is(&plan.checker_compile.files[0], "main.c", "int main;", 9),
           "c checker compile: argv, its source, collects the artifact");
    tap_ok(t, plan.checker_compile.limits.cpu_ms == 9000 &&
                  plan.checker_compile.limits.wall_ms == 5000,
           "c checker compile limits: compile_limits over the defaults");
    tap_ok(t, argv_is(plan.checker_run.argv, (const char *[]){"./main", "input.txt",
                                                             "output.txt", "answer.txt"}, 4),
           "c checker argv: ./main input.txt output.txt answer.txt");
    tap_ok(t, plan.checker_run.limits.wall_ms == 7000 && plan.checker_run.limits.cpu_ms == 2000 &&
                  plan.checker_run.limits.memory_bytes == 262144ULL * 1024,
           "c checker run limits: the c language's over the defaults");
    answer = json_loads("{\"status\": \"ok\", \"files\": {\"main\": {\"error\": "
                        "\"missing\"}}}", 0, NULL);
    tap_ok(t, job_plan_take_checker_artifacts(&plan, answer) == -ENOENT,
           "a missing checker artifact is an error");
    json_decref(answer);
    answer = json_loads("{\"status\": \"ok\", \"files\": {\"main\": {\"size\": 4, "
                        "\"base64\": \"f0VMRg==\"}}}", 0, NULL);
    tap_ok(t, job_plan_take_checker_artifacts(&plan, answer) == 0 &&
                  plan.checker_run.nfiles == 2 && plan.checker_run.files[1].executable &&
                  file_is(&plan.checker_run.files[1], "main", "\x7f" "ELF", 4) &&
                  plan.prog.nfiles == 1 && plan.run.nfiles == 1,
           "the checker's artifact joins the checker's files only, executable");
    json_decref(answer);
    tap_ok(t, checker_run_is(&plan, &t1, "got\n", 2) &&
                  file_is(&plan.checker.files[0], "main.c", "int main;", 9),
           "checker run: main.c, main, then input.txt output.txt answer.txt");
    job_plan_free(&plan);
}

int main(void)
{
    struct config_limits defaults = {2000, 5000, 262144, 64, 1024, 16384};
    char *args[] = {(char *)"-x", (char *)"{file}"};
    struct job_file src = {NULL, (unsigned char *)"print(1)\n", 9};
    struct job_spec job;
    struct languages langs;
    struct config_error err;
    struct job_plan plan;
    struct tap t = {0};
    json_t *answer, *req = NULL;
    char *wire = NULL;
    size_t wire_len = 0;

    if (!tap_ok(&t, languages_load_string(languages_yaml, "l.yaml", &langs, &err) == 0,
                "languages load"))
        return tap_done(&t);
    memset(&job, 0, sizeof(job));
    job.files = &src;
    job.nfiles = 1;
    job.args = args;
    job.nargs = 2;
    job.limits.cpu_ms = 700;
    job.has_stdin = 1;
    job.stdin_data = (unsigned char *)"in";
    job.stdin_len = 2;

    tap_ok(&t, job_plan_build(&job, languages_find(&langs, "python"), &defaults, &plan) == 0,
           "python plan");
    tap_ok(&t, !plan.compiled, "an interpreted language has no compile step");
    tap_ok(&t, argv_is(plan.run.argv, (const char *[]){"python3", "main.py", "-x", "{file}"}, 4),
           "run argv: the source under the language's name, args verbatim (never expanded)");
    tap_ok(&t, plan.run.limits.cpu_ms == 700 && plan.run.limits.memory_bytes == 524288ULL * 1024 &&
                   plan.run.limits.wall_ms == 5000 && plan.run.limits.output_bytes == 1024 * 1024,
           "limits: job over language over config default");
    tap_ok(&t, plan.run.nfiles == 1 && strcmp(plan.run.files[0].name, "main.py") == 0 &&
                   plan.run.stdin_len == 2,
           "files and stdin");
    tap_ok(&t, job_plan_request(&plan.run, 1, &wire, &wire_len) == 0 &&
                   (req = json_loads(wire, 0, NULL)) != NULL &&
                   json_integer_value(json_object_get(json_object_get(req, "limits"),
                                                      "cpu_ms")) == 700 &&
                   json_is_true(json_object_get(req, "stream")),
           "the request carries the limits and asks for streamed output");
    tap_ok(&t, wire && wire_len == strlen(wire) + 1 + 9 + 2 &&
                   memcmp(wire + strlen(wire) + 1, "print(1)\nin", 11) == 0,
           "the source and stdin follow the JSON as raw bytes");
    json_decref(req);
    free(wire);
    job_plan_free(&plan);

    src.name = (char *)"prog.c";
    tap_ok(&t, job_plan_build(&job, languages_find(&langs, "c"), &defaults, &plan) == 0,
           "c plan");
    tap_ok(&t, plan.compiled && argv_is(plan.compile.argv,
                                        (const char *[]){"gcc", "-o", "main", "main.c"}, 4),
           "compile argv");
    tap_ok(&t, plan.compile.limits.cpu_ms == 9000 && plan.compile.limits.wall_ms == 5000 &&
                   plan.compile.stdin_data == NULL,
           "compile limits come from compile_limits, not the job; no stdin for the compiler");
    tap_ok(&t, plan.compile.ncollect == 1 && strcmp(plan.compile.collect[0], "main") == 0,
           "the compile step collects the artifacts");
    tap_ok(&t, strcmp(plan.run.files[0].name, "prog.c") == 0, "named files keep their name");
    answer = json_loads("{\"status\": \"ok\", \"files\": {\"main\": {\"error\": \"missing\"}}}", 0,
                        NULL);
    tap_ok(&t, job_plan_take_artifacts(&plan, answer) == -ENOENT,
           "a missing artifact is an error");
    json_decref(answer);
    answer = json_loads("{\"status\": \"ok\", \"files\": {\"main\": {\"size\": 4, "
                        "\"base64\": \"f0VMRg==\"}}}", 0, NULL);
    tap_ok(&t, job_plan_take_artifacts(&plan, answer) == 0 && plan.run.nfiles == 2 &&
                   strcmp(plan.run.files[1].name, "main") == 0 && plan.run.files[1].executable &&
                   plan.run.files[1].len == 4 && memcmp(plan.run.files[1].data, "\x7f" "ELF", 4) == 0,
           "the artifact joins the run's files, executable");
    tap_ok(&t, argv_is(plan.run.argv, (const char *[]){"./main", "-x", "{file}"}, 3),
           "run argv of a compiled language");
    test_test_run(&t, &plan);
    json_decref(answer);
    job_plan_free(&plan);
    test_checker_python(&t, &langs, &defaults, &job);
    test_checker_c(&t, &langs, &defaults, &job);
    languages_free(&langs);
    return tap_done(&t);
}
