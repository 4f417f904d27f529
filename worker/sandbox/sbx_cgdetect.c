/* SPDX-License-Identifier: MIT */
#include "sbx_cgdetect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sbx_cg_kind_name(enum sbx_cg_kind k)
{
    return k == SBX_CG_V2 ? "v2" : k == SBX_CG_V1 ? "v1" : "none";
}

int sbx_cg_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while (p && (p = strstr(p, word)) != NULL) {
        int starts = p == list || p[-1] == ' ' || p[-1] == ',';
        int ends = p[n] == '\0' || p[n] == ' ' || p[n] == ',' || p[n] == '\n';
        if (starts && ends)
            return 1;
        p += n;
    }
    return 0;
}

int sbx_cg_parse_key(const char *text, const char *key, uint64_t *value)
{
    size_t n = strlen(key);
    const char *line = text;

    while (line && *line) {
        if (strncmp(line, key, n) == 0 && line[n] == ' ') {
            char *end;
            unsigned long long v;
            errno = 0;
            v = strtoull(line + n + 1, &end, 10);
            if (errno || end == line + n + 1 || (*end && *end != '\n'))
                return -EINVAL;
            *value = v;
            return 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -ENOENT;
}

/* Splits one mountinfo line into mount point, fs type and super options (in place). */
static int split_mountinfo_line(char *line, char **mnt, char **fstype, char **superopts)
{
    char *save = NULL, *tok, *fields[6];
    int i = 0;

    for (tok = strtok_r(line, " ", &save); tok && i < 6; tok = strtok_r(NULL, " ", &save))
        fields[i++] = tok;
    if (i < 6)
        return -EINVAL;
    /* Optional fields end with a lone "-"; what follows is fstype, source, super options. */
    while (tok && strcmp(tok, "-") != 0)
        tok = strtok_r(NULL, " ", &save);
    if (!tok)
        return -EINVAL;
    *fstype = strtok_r(NULL, " ", &save);
    (void)strtok_r(NULL, " ", &save);
    *superopts = strtok_r(NULL, " \n", &save);
    *mnt = fields[4];
    return *fstype && *superopts ? 0 : -EINVAL;
}

static void copy_path(char *dst, const char *src)
{
    snprintf(dst, PATH_MAX, "%s", src);
}

static void scan_mounts(char *text, const char *pure_v2_root, struct sbx_cg_layout *out)
{
    char *save = NULL, *line;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *mnt, *fstype, *opts;
        if (split_mountinfo_line(line, &mnt, &fstype, &opts) < 0 || strchr(mnt, '\\'))
            continue;
        if (strcmp(fstype, "cgroup2") == 0 && !out->v2_root[0]) {
            copy_path(out->v2_root, mnt);
            out->v2_pure = strcmp(mnt, pure_v2_root) == 0;
        } else if (strcmp(fstype, "cgroup") == 0) {
            if (sbx_cg_has_word(opts, "memory") && !out->v1_memory[0])
                copy_path(out->v1_memory, mnt);
            if (sbx_cg_has_word(opts, "pids") && !out->v1_pids[0])
                copy_path(out->v1_pids, mnt);
            if (sbx_cg_has_word(opts, "cpuacct") && !out->v1_cpuacct[0])
                copy_path(out->v1_cpuacct, mnt);
        }
    }
}

static enum sbx_cg_kind pick(const struct sbx_cg_layout *l, const char *v2_controllers,
                             const char *controller, const char *v1_mount)
{
    if (l->v2_root[0] && v2_controllers && sbx_cg_has_word(v2_controllers, controller))
        return SBX_CG_V2;
    return v1_mount[0] ? SBX_CG_V1 : SBX_CG_NONE;
}

int sbx_cg_detect(const char *mountinfo, const char *v2_controllers, const char *pure_v2_root,
                  struct sbx_cg_layout *out, char *err, size_t errlen)
{
    char *text = strdup(mountinfo);

    if (!text)
        return -ENOMEM;
    memset(out, 0, sizeof(*out));
    scan_mounts(text, pure_v2_root, out);
    free(text);

    out->memory = pick(out, v2_controllers, "memory", out->v1_memory);
    out->pids = pick(out, v2_controllers, "pids", out->v1_pids);
    /* cpu.stat's usage_usec exists in every non-root v2 group, controller or not. */
    out->cpu = out->v2_root[0] ? SBX_CG_V2 : out->v1_cpuacct[0] ? SBX_CG_V1 : SBX_CG_NONE;
    /* cgroup.kill and CLONE_INTO_CGROUP also work in a controller-less v2 tree. */
    out->track = out->v2_root[0] ? SBX_CG_V2 : out->pids == SBX_CG_V1 ? SBX_CG_V1 : SBX_CG_NONE;

    if (out->memory == SBX_CG_NONE || out->pids == SBX_CG_NONE || out->cpu == SBX_CG_NONE ||
        out->track == SBX_CG_NONE) {
        snprintf(err, errlen,
                 "no usable cgroup hierarchy: need the memory and pids controllers and CPU "
                 "accounting, in cgroup v2 (%s) or v1; found memory=%s pids=%s cpu=%s",
                 out->v2_root[0] ? out->v2_root : "not mounted",
                 sbx_cg_kind_name(out->memory), sbx_cg_kind_name(out->pids),
                 sbx_cg_kind_name(out->cpu));
        return -ENOENT;
    }
    return 0;
}
