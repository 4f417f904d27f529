/* SPDX-License-Identifier: MIT */
/* Unit tests of job_plan: commands, files and limits of the sandbox runs a job becomes. */
#include <errno.h>
#include <string.h>

#include "job_plan.h"
#include "tap.h"

static const char languages_yaml[] =
    "python:\n  version: [python3, -V]\n  file: main.py\n  run: [python3, \"{file}\", \"{args}\"]\n"
    "  limits:\n    memory_kb: 524288\n"
    "c:\n  version: [gcc, -v]\n  file: main.c\n  compile: [gcc, -o, main, \"{file}\"]\n"
    "  artifacts: [main]\n  compile_limits:\n    cpu_ms: 9000\n  run: [./main, \"{args}\"]\n";

static int argv_is(char *const *argv, const char *const *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!argv[i] || strcmp(argv[i], want[i]) != 0)
            return 0;
    return argv[n] == NULL;
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
    json_t *answer, *req;

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
    req = job_plan_request(&plan.run);
    tap_ok(&t, req && json_integer_value(json_object_get(json_object_get(req, "limits"),
                                                         "cpu_ms")) == 700,
           "the request carries the limits");
    json_decref(req);
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
    json_decref(answer);
    job_plan_free(&plan);
    languages_free(&langs);
    return tap_done(&t);
}
