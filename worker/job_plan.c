/* SPDX-License-Identifier: MIT */
#include "job_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sbx_request.h"

void job_plan_limits(const struct config_limits *l, struct sbx_limits *out)
{
    sbx_limits_default(out);
    out->cpu_ms = l->cpu_ms ? l->cpu_ms : out->cpu_ms;
    out->wall_ms = l->wall_ms ? l->wall_ms : out->wall_ms;
    out->memory_bytes = l->memory_kb ? l->memory_kb * 1024 : out->memory_bytes;
    out->processes = l->pids ? l->pids : out->processes;
    out->output_bytes = l->output_kb ? l->output_kb * 1024 : out->output_bytes;
    out->file_bytes = l->file_size_kb ? l->file_size_kb * 1024 : out->file_bytes;
}

/* Sources into f, with room for the artifacts and `extra` more entries, so adding them later
 * cannot move what specs point at. */
static int files_init(struct job_plan_files *f, const struct job_file *src, size_t nsrc,
                      const char *default_name, char *const *artifacts, size_t extra)
{
    size_t i, nart = 0;

    while (artifacts && artifacts[nart])
        nart++;
    f->files = calloc(nsrc + nart + extra, sizeof(*f->files));
    f->artifact_data = calloc(nart + 1, sizeof(*f->artifact_data));
    if (!f->files || !f->artifact_data)
        return -ENOMEM;
    for (i = 0; i < nsrc; i++) {
        /* "source" comes without a name: it is the language's file. */
        f->files[i].name = src[i].name ? src[i].name : default_name;
        f->files[i].data = src[i].data;
        f->files[i].len = src[i].len;
    }
    f->nsources = f->nfiles = nsrc;
    return 0;
}

static void files_free(struct job_plan_files *f)
{
    size_t i;

    for (i = 0; f->artifact_data && f->artifact_data[i]; i++)
        free(f->artifact_data[i]);
    free(f->artifact_data);
    free(f->files);
}

/* The compile step of a program in lang: its argv, limits and what to collect. */
static int compile_step(const struct language *lang, const struct config_limits *defaults,
                        struct job_plan_files *f, char ***argv, struct sbx_run_spec *out)
{
    struct config_limits tmp;
    int r;

    if ((r = languages_expand(lang->compile, lang->file, NULL, 0, argv)) < 0)
        return r;
    languages_limits(defaults, &lang->compile_limits, &tmp);
    job_plan_limits(&tmp, &out->limits);
    out->argv = *argv;
    out->files = f->files;
    out->nfiles = f->nsources;
    out->collect = (const char *const *)lang->artifacts;
    for (out->ncollect = 0; lang->artifacts[out->ncollect]; out->ncollect++)
        ;
    return 0;
}

int job_plan_build(const struct job_spec *job, const struct language *lang,
                   const struct config_limits *defaults, struct job_plan *p)
{
    struct config_limits run_limits, tmp;
    int r;

    memset(p, 0, sizeof(*p));
    if ((r = files_init(&p->prog, job->files, job->nfiles, lang->file, lang->artifacts, 0)) < 0)
        goto fail;
    languages_limits(defaults, &lang->limits, &tmp);
    languages_limits(&tmp, &job->limits, &run_limits);
    r = languages_expand(lang->run, lang->file, (const char *const *)job->args, job->nargs,
                         &p->run_argv);
    if (r < 0)
        goto fail;
    job_plan_limits(&run_limits, &p->run.limits);
    p->run.argv = p->run_argv;
    p->run.files = p->prog.files;
    p->run.nfiles = p->prog.nsources;
    p->run.stdin_data = job->has_stdin ? job->stdin_data : NULL;
    p->run.stdin_len = job->stdin_len;
    if (!lang->compile)
        return 0;
    p->compiled = 1;
    if ((r = compile_step(lang, defaults, &p->prog, &p->compile_argv, &p->compile)) < 0)
        goto fail;
    return 0;
fail:
    job_plan_free(p);
    return r;
}

static const char *const checker_args[] = {"input.txt", "output.txt", "answer.txt"};

int job_plan_add_checker(struct job_plan *p, const struct job_checker *c,
                         const struct language *lang, const struct config_limits *defaults)
{
    struct job_file src = {NULL, c->source, c->source_len};
    struct config_limits tmp;
    int r;

    if (p->has_checker || !c->source)
        return -EINVAL;
    p->has_checker = 1; /* from here job_plan_free releases what was made */
    if ((r = files_init(&p->checker, &src, 1, lang->file, lang->artifacts, 3)) < 0 ||
        (r = languages_expand(lang->run, lang->file, checker_args, 3, &p->checker_run_argv)) < 0)
        return r;
    languages_limits(defaults, &lang->limits, &tmp);
    job_plan_limits(&tmp, &p->checker_run.limits);
    p->checker_run.argv = p->checker_run_argv;
    p->checker_run.files = p->checker.files;
    p->checker_run.nfiles = p->checker.nsources;
    if (!lang->compile)
        return 0;
    p->checker_compiled = 1;
    return compile_step(lang, defaults, &p->checker, &p->checker_compile_argv,
                        &p->checker_compile);
}

static int take_artifacts(const struct sbx_run_spec *compile, struct job_plan_files *f,
                          const json_t *compile_result)
{
    const json_t *files = json_object_get(compile_result, "files");
    size_t i;

    for (i = 0; i < compile->ncollect; i++) {
        const char *name = compile->collect[i];
        const char *b64 = json_string_value(json_object_get(json_object_get(files, name),
                                                            "base64"));
        unsigned char *data;
        size_t len;
        if (f->artifact_data[i])
            return -EALREADY;
        if (!b64 || base64_decode(b64, strlen(b64), &data, &len) < 0)
            return -ENOENT;
        f->artifact_data[i] = data;
        f->files[f->nfiles++] = (struct sbx_file){name, data, len, 1};
    }
    return 0;
}

int job_plan_take_artifacts(struct job_plan *p, const json_t *compile_result)
{
    int r = p->compiled ? take_artifacts(&p->compile, &p->prog, compile_result) : 0;

    p->run.files = p->prog.files;
    p->run.nfiles = p->prog.nfiles;
    return r;
}

int job_plan_take_checker_artifacts(struct job_plan *p, const json_t *compile_result)
{
    int r = 0;

    if (p->checker_compiled)
        r = take_artifacts(&p->checker_compile, &p->checker, compile_result);
    p->checker_run.nfiles = p->checker.nfiles;
    return r;
}

void job_plan_test_run(const struct job_plan *p, const struct job_test *t,
                       struct sbx_run_spec *out)
{
    *out = p->run;
    out->stdin_data = t->stdin_data;
    out->stdin_len = t->stdin_len;
}

void job_plan_checker_run(struct job_plan *p, const struct job_test *t, const char *output,
                          size_t len, struct sbx_run_spec *out)
{
    struct sbx_file *data = p->checker.files + p->checker.nfiles;

    data[0] = (struct sbx_file){checker_args[0], t->stdin_data, t->stdin_len, 0};
    data[1] = (struct sbx_file){checker_args[1], output, len, 0};
    data[2] = (struct sbx_file){checker_args[2], t->expected, t->expected_len, 0};
    *out = p->checker_run;
    out->files = p->checker.files;
    out->nfiles = p->checker.nfiles + 3;
}

int job_plan_request(const struct sbx_run_spec *step, int stream, char **payload, size_t *len)
{
    return sbx_request_encode(step, stream, payload, len);
}

void job_plan_free(struct job_plan *p)
{
    free(p->compile_argv); /* languages_expand: one block each */
    free(p->run_argv);
    free(p->checker_compile_argv);
    free(p->checker_run_argv);
    files_free(&p->prog);
    files_free(&p->checker);
    memset(p, 0, sizeof(*p));
}
