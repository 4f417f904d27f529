/* SPDX-License-Identifier: MIT */
#include "sbx_spec.h"

#include <errno.h>
#include <string.h>

char *const sbx_default_env[] = {
    (char *)"PATH=/usr/local/bin:/usr/bin:/bin",
    (char *)"HOME=/box",
    (char *)"TMPDIR=/tmp",
    (char *)"LANG=C.UTF-8",
    NULL,
};

/* Runtimes need these to start at all; keep them in sync with docs/SANDBOX.md. */
static const char *const default_binds[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/alternatives", "/etc/ld.so.cache", "/etc/java-17-openjdk", "/etc/ssl",
};

void sbx_limits_default(struct sbx_limits *l)
{
    memset(l, 0, sizeof(*l));
    l->cpu_ms = 2000;
    l->wall_ms = 0; /* derived: 2 x cpu + 1 s */
    l->memory_bytes = 256ULL << 20;
    l->processes = 64;
    l->output_bytes = 1ULL << 20;
    l->file_bytes = 16ULL << 20;
    l->open_files = 64;
    l->stack_bytes = 64ULL << 20;
    l->address_space = 0;
    l->tmp_bytes = 16ULL << 20;
    l->box_bytes = 64ULL << 20;
}

void sbx_slot_config_default(struct sbx_slot_config *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    c->slot = 0;
    c->uid_base = 60000;
    c->cgroup_name = "runq";
    c->state_dir = "/run/runq-sandbox";
    for (i = 0; i < sizeof(default_binds) / sizeof(default_binds[0]); i++)
        c->binds[c->nbinds++] = default_binds[i];
}

int sbx_limits_validate(const struct sbx_limits *l, const char **field)
{
    /* Upper bounds keep arithmetic (x1000, x2) far from overflow and catch unit mistakes. */
    static const uint64_t day_ms = 24ULL * 3600 * 1000;
    static const uint64_t tib = 1ULL << 40;
    struct {
        const char *name;
        uint64_t v, min, max;
    } checks[] = {
        {"cpu-time", l->cpu_ms, 1, day_ms},
        {"wall-time", l->wall_ms, 0, day_ms},
        {"memory", l->memory_bytes, 1ULL << 20, tib},
        {"processes", l->processes, 1, 1ULL << 20},
        {"output-limit", l->output_bytes, 0, 1ULL << 32},
        {"file-size", l->file_bytes, 0, tib},
        {"open-files", l->open_files, 4, 1ULL << 20},
        {"stack", l->stack_bytes, 64ULL << 10, tib},
        {"address-space", l->address_space, 0, tib},
        {"tmp-size", l->tmp_bytes, 4096, tib},
        {"box-size", l->box_bytes, 4096, tib},
    };
    size_t i;

    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i].v < checks[i].min || checks[i].v > checks[i].max) {
            *field = checks[i].name;
            return -EINVAL;
        }
    }
    if (l->address_space && l->address_space < (16ULL << 20)) {
        *field = "address-space";
        return -EINVAL;
    }
    return 0;
}

uint64_t sbx_limits_wall_ms(const struct sbx_limits *l)
{
    return l->wall_ms ? l->wall_ms : 2 * l->cpu_ms + 1000;
}

int sbx_box_name_valid(const char *name)
{
    const char *p = name;
    size_t len = strlen(name);

    if (len == 0 || len > 255 || name[0] == '/')
        return 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
        if (slash && !*p)
            return 0; /* trailing slash */
    }
    return 1;
}
