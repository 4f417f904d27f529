/* SPDX-License-Identifier: MIT */
#include "runtime_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

void rt_spec(struct sbx_run_spec *spec, char *const *argv, const struct sbx_file *files,
             size_t nfiles, const char *const *collect, size_t ncollect)
{
    memset(spec, 0, sizeof(*spec));
    sbx_limits_default(&spec->limits);
    spec->argv = argv;
    spec->files = files;
    spec->nfiles = nfiles;
    spec->collect = collect;
    spec->ncollect = ncollect;
}

enum sbx_status rt_run(struct sbx_slot *slot, const struct sbx_run_spec *spec,
                       struct sbx_result *res, enum sbx_status want)
{
    if (sbx_slot_run(slot, spec, res) < 0) {
        tap_diag("sbx_slot_run rejected the spec");
        return SBX_INTERNAL_ERROR;
    }
    if (res->verdict.status != want) {
        json_t *j = sbx_result_to_json(res);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        tap_diag("%s: %s", spec->argv[0], text ? text : "(no json)");
        free(text);
        json_decref(j);
    }
    return res->verdict.status;
}

int rt_stdout_has(const struct sbx_result *res, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; res->out.data && i + n <= res->out.len; i++)
        if (memcmp(res->out.data + i, needle, n) == 0)
            return 1;
    return 0;
}

int rt_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}
