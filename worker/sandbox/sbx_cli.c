/* SPDX-License-Identifier: MIT */
#include "sbx_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

const char sbx_cli_usage[] =
    "usage: runq-sandbox [options] -- PROGRAM [ARGS...]\n"
    "limits:  -t/--cpu-time T  -w/--wall-time T  -m/--memory SIZE  -p/--processes N\n"
    "         -o/--output-limit SIZE  -f/--file-size SIZE  -n/--open-files N  -s/--stack SIZE\n"
    "         --address-space SIZE  --tmp-size SIZE  --box-size SIZE\n"
    "files:   --file NAME=HOSTPATH  --stdin HOSTPATH  --collect NAME\n"
    "env:     --env NAME=VALUE  --bind PATH  --no-default-binds\n"
    "slot:    --slot N  --uid-base N  --cgroup-name NAME  --allow-core-pipe\n"
    "output:  --pretty\n"
    "   or:   runq-sandbox --serve [slot options]   (length-prefixed JSON runs on stdin)\n"
    "Prints one JSON result; see docs/SANDBOX.md.\n";

enum {
    OPT_ADDRESS_SPACE = 256, OPT_TMP_SIZE, OPT_BOX_SIZE, OPT_FILE, OPT_STDIN, OPT_COLLECT,
    OPT_ENV, OPT_BIND, OPT_NO_BINDS, OPT_SLOT, OPT_UID_BASE, OPT_CGROUP, OPT_PRETTY,
    OPT_CORE_PIPE, OPT_SERVE,
};

static const struct option options[] = {
    {"cpu-time", required_argument, NULL, 't'},
    {"wall-time", required_argument, NULL, 'w'},
    {"memory", required_argument, NULL, 'm'},
    {"processes", required_argument, NULL, 'p'},
    {"output-limit", required_argument, NULL, 'o'},
    {"file-size", required_argument, NULL, 'f'},
    {"open-files", required_argument, NULL, 'n'},
    {"stack", required_argument, NULL, 's'},
    {"address-space", required_argument, NULL, OPT_ADDRESS_SPACE},
    {"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
    {"box-size", required_argument, NULL, OPT_BOX_SIZE},
    {"file", required_argument, NULL, OPT_FILE},
    {"stdin", required_argument, NULL, OPT_STDIN},
    {"collect", required_argument, NULL, OPT_COLLECT},
    {"env", required_argument, NULL, OPT_ENV},
    {"bind", required_argument, NULL, OPT_BIND},
    {"no-default-binds", no_argument, NULL, OPT_NO_BINDS},
    {"slot", required_argument, NULL, OPT_SLOT},
    {"uid-base", required_argument, NULL, OPT_UID_BASE},
    {"cgroup-name", required_argument, NULL, OPT_CGROUP},
    {"pretty", no_argument, NULL, OPT_PRETTY},
    {"allow-core-pipe", no_argument, NULL, OPT_CORE_PIPE},
    {"serve", no_argument, NULL, OPT_SERVE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *option_name(int c)
{
    size_t i;

    for (i = 0; options[i].name; i++)
        if (options[i].val == c)
            return options[i].name;
    return "?";
}

static int bad(char *err, size_t errlen, int opt, const char *arg, const char *why)
{
    snprintf(err, errlen, "--%s %s: %s", option_name(opt), arg ? arg : "", why);
    return -EINVAL;
}

/* Options that fill a uint64 field of the limits, by parser. */
static int parse_limit(struct sbx_cli *c, int opt, const char *arg)
{
    struct { int opt; uint64_t *field; int kind; } map[] = {
        {'t', &c->limits.cpu_ms, 't'}, {'w', &c->limits.wall_ms, 't'},
        {'m', &c->limits.memory_bytes, 's'}, {'p', &c->limits.processes, 'n'},
        {'o', &c->limits.output_bytes, 's'}, {'f', &c->limits.file_bytes, 's'},
        {'n', &c->limits.open_files, 'n'}, {'s', &c->limits.stack_bytes, 's'},
        {OPT_ADDRESS_SPACE, &c->limits.address_space, 's'},
        {OPT_TMP_SIZE, &c->limits.tmp_bytes, 's'}, {OPT_BOX_SIZE, &c->limits.box_bytes, 's'},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].opt != opt)
            continue;
        if (map[i].kind == 't')
            return units_parse_duration_ms(arg, map[i].field);
        if (map[i].kind == 's')
            return units_parse_size(arg, map[i].field);
        return units_parse_uint(arg, UINT32_MAX, map[i].field);
    }
    return -ENOENT;
}

static int add_item(const char **list, size_t *n, const char *v)
{
    if (*n >= SBX_CLI_MAX_ITEMS)
        return -E2BIG;
    list[(*n)++] = v;
    return 0;
}

static int parse_file(struct sbx_cli *c, char *arg)
{
    char *eq = strchr(arg, '=');

    if (!eq || eq == arg || !eq[1])
        return -EINVAL;
    *eq = '\0';
    if (!sbx_box_name_valid(arg))
        return -EINVAL;
    if (c->nfiles >= SBX_CLI_MAX_ITEMS)
        return -E2BIG;
    c->file_names[c->nfiles] = arg;
    c->file_paths[c->nfiles++] = eq + 1;
    return 0;
}

/* NAME=VALUE, replacing an earlier value of NAME (getenv would see only the first). */
static int add_env(struct sbx_cli *c, char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t i, n;

    if (!eq || eq == arg)
        return -EINVAL;
    n = (size_t)(eq - arg) + 1;
    for (i = 0; i < c->nenv; i++) {
        if (strncmp(c->env[i], arg, n) == 0) {
            c->env[i] = arg;
            return 0;
        }
    }
    if (c->nenv >= SBX_CLI_MAX_ITEMS + 7)
        return -E2BIG;
    c->env[c->nenv++] = arg;
    return 0;
}

static int parse_other(struct sbx_cli *c, int opt, char *arg)
{
    uint64_t v;
    int r;

    switch (opt) {
    case OPT_FILE: return parse_file(c, arg);
    case OPT_STDIN: c->stdin_path = arg; return 0;
    case OPT_COLLECT:
        return sbx_box_name_valid(arg) ? add_item(c->collect, &c->ncollect, arg) : -EINVAL;
    case OPT_ENV:
        return add_env(c, arg);
    case OPT_BIND:
        if (arg[0] != '/' || strstr(arg, "/../") || strstr(arg, "/./"))
            return -EINVAL;
        if (c->slot.nbinds >= SBX_MAX_BINDS)
            return -E2BIG;
        c->slot.binds[c->slot.nbinds++] = arg;
        return 0;
    case OPT_NO_BINDS: c->slot.nbinds = 0; return 0;
    case OPT_SLOT:
        r = units_parse_uint(arg, 4095, &v);
        c->slot.slot = (unsigned)v;
        return r;
    case OPT_UID_BASE:
        r = units_parse_uint(arg, 2000000000, &v);
        c->slot.uid_base = (uid_t)v;
        return r || v == 0 ? -EINVAL : 0;
    case OPT_CGROUP:
        return arg[0] && !strstr(arg, "..") && arg[0] != '/' ? (c->slot.cgroup_name = arg, 0)
                                                             : -EINVAL;
    case OPT_PRETTY: c->pretty = 1; return 0;
    case OPT_CORE_PIPE: c->slot.allow_core_pipe = 1; return 0;
    case OPT_SERVE: c->serve = 1; return 0;
    case 'h': c->help = 1; return 0;
    }
    return -EINVAL;
}

int sbx_cli_parse(int argc, char **argv, struct sbx_cli *c, char *err, size_t errlen)
{
    const char *field;
    int opt, r;

    memset(c, 0, sizeof(*c));
    sbx_limits_default(&c->limits);
    sbx_slot_config_default(&c->slot);
    for (c->nenv = 0; sbx_default_env[c->nenv]; c->nenv++)
        c->env[c->nenv] = sbx_default_env[c->nenv];
    optind = 0; /* glibc: full re-initialisation, so tests may parse repeatedly */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+t:w:m:p:o:f:n:s:h", options, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            snprintf(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
            return -EINVAL;
        }
        r = parse_limit(c, opt, optarg);
        if (r == -ENOENT)
            r = parse_other(c, opt, optarg);
        if (r == -E2BIG)
            return bad(err, errlen, opt, optarg, "too many values");
        if (r < 0)
            return bad(err, errlen, opt, optarg, "invalid value");
    }
    if (c->help)
        return 0;
    if (c->serve) {
        if (optind < argc || c->nfiles || c->ncollect || c->stdin_path) {
            snprintf(err, errlen, "--serve takes runs from its input: no program, --file, "
                                  "--collect or --stdin");
            return -EINVAL;
        }
        c->env[c->nenv] = NULL;
        return 0;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "no program given (put it after --)");
        return -EINVAL;
    }
    if (sbx_limits_validate(&c->limits, &field) < 0) {
        snprintf(err, errlen, "--%s: value out of range", field);
        return -EINVAL;
    }
    c->argv = argv + optind;
    c->env[c->nenv] = NULL;
    return 0;
}
