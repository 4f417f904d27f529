/* SPDX-License-Identifier: MIT */
/* sbx_cli: runq-sandbox's command line (docs/SANDBOX.md) parsed into plain data.
 * Does: option parsing and validation with messages that name the option.
 * Must not: open files or touch the system: main() reads the files it names. */
#ifndef RUNQ_SBX_CLI_H
#define RUNQ_SBX_CLI_H

#include <stddef.h>

#include "sbx_spec.h"

#define SBX_CLI_MAX_ITEMS 64

struct sbx_cli {
    struct sbx_limits limits;
    struct sbx_slot_config slot;
    const char *file_names[SBX_CLI_MAX_ITEMS]; /* --file NAME=HOSTPATH, split */
    const char *file_paths[SBX_CLI_MAX_ITEMS];
    size_t nfiles;
    const char *collect[SBX_CLI_MAX_ITEMS];
    size_t ncollect;
    char *env[SBX_CLI_MAX_ITEMS + 8]; /* defaults then --env, NULL-terminated */
    size_t nenv;
    const char *stdin_path;
    char **argv; /* the program and its arguments, inside the caller's argv */
    int pretty;
    int serve; /* --serve: run requests from stdin, answer on stdout (sbx_server) */
    int help;
};

/* Parses argv (modifies it: splits NAME=PATH in place). Returns 0 (out->help set for
 * --help), or -EINVAL with a message naming the option in err. */
int sbx_cli_parse(int argc, char **argv, struct sbx_cli *out, char *err, size_t errlen);

extern const char sbx_cli_usage[];

#endif
