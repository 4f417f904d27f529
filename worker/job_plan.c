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

static int copy_sources(const struct job_spec *job, const struct language *lang,
                        struct job_plan *p)
{
    size_t i, nart = 0;

    while (lang->artifacts && lang->artifacts[nart])
        nart++;
    /* Room for the artifacts now, so adding them later cannot move what specs point at. */
    p->files = calloc(job->nfiles + nart, sizeof(*p->files));
    p->artifact_data = calloc(nart + 1, sizeof(*p->artifact_data));
    if (!p->files || !p->artifact_data)
        return -ENOMEM;
    for (i = 0; i < job->nfiles; i++) {
        /* "source" comes without a name: it is the language's file. */
        p->files[i].name = job->files[i].name ? job->files[i].name : lang->file;
        p->files[i].data = job->files[i].data;
        p->files[i].len = job->files[i].len;
    }
    p->nsources = p->nfiles = job->nfiles;
    return 0;
}

int job_plan_build(const struct job_spec *job, const struct language *lang,
                   const struct config_limits *defaults, struct job_plan *p)
{
    struct config_limits run_limits, tmp;
    int r;

    memset(p, 0, sizeof(*p));
    if ((r = copy_sources(job, lang, p)) < 0)
        goto fail;
    languages_limits(defaults, &lang->limits, &tmp);
    languages_limits(&tmp, &job->limits, &run_limits);
    r = languages_expand(lang->run, lang->file, (const char *const *)job->args, job->nargs,
                         &p->run_argv);
    if (r < 0)
        goto fail;
    job_plan_limits(&run_limits, &p->run.limits);
    p->run.argv = p->run_argv;
    p->run.files = p->files;
    p->run.nfiles = p->nsources;
    p->run.stdin_data = job->has_stdin ? job->stdin_data : NULL;
    p->run.stdin_len = job->stdin_len;
    if (!lang->compile)
        return 0;
    p->compiled = 1;
    if ((r = languages_expand(lang->compile, lang->file, NULL, 0, &p->compile_argv)) < 0)
        goto fail;
    languages_limits(defaults, &lang->compile_limits, &tmp);
    job_plan_limits(&tmp, &p->compile.limits);
    p->compile.argv = p->compile_argv;
    p->compile.files = p->files;
    p->compile.nfiles = p->nsources;
    p->compile.collect = (const char *const *)lang->artifacts;
    for (p->compile.ncollect = 0; lang->artifacts[p->compile.ncollect]; p->compile.ncollect++)
        ;
    return 0;
fail:
    job_plan_free(p);
    return r;
}

int job_plan_take_artifacts(struct job_plan *p, const json_t *compile_result)
{
    const json_t *files = json_object_get(compile_result, "files");
    size_t i;

    for (i = 0; p->compiled && i < p->compile.ncollect; i++) {
        const char *name = p->compile.collect[i];
        const char *b64 = json_string_value(json_object_get(json_object_get(files, name),
                                                            "base64"));
        unsigned char *data;
        size_t len;
        if (!b64 || base64_decode(b64, strlen(b64), &data, &len) < 0)
            return -ENOENT;
        p->artifact_data[i] = data;
        p->files[p->nfiles++] = (struct sbx_file){name, data, len, 1};
    }
    p->run.files = p->files;
    p->run.nfiles = p->nfiles;
    return 0;
}

json_t *job_plan_request(const struct sbx_run_spec *step)
{
    return sbx_request_to_json(step);
}

void job_plan_free(struct job_plan *p)
{
    size_t i;

    free(p->compile_argv); /* languages_expand: one block each */
    free(p->run_argv);
    for (i = 0; p->artifact_data && p->artifact_data[i]; i++)
        free(p->artifact_data[i]);
    free(p->artifact_data);
    free(p->files);
    memset(p, 0, sizeof(*p));
}
