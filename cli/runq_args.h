/* SPDX-License-Identifier: MIT */
/* runq_args: the `runq` command line as plain data, the help texts and the exit codes.
 * Does: parse argv (global --url, the command, its options and operands, "--opt value" and
 * "--opt=value", "--" ending options) into struct runq_opts with a message naming the
 * offending argument; choose the dispatcher URL from --url, $RUNQ_URL or the default; hold
 * the help texts (beside the option table, so that both say the same).
 * Must not: open files, read the environment (the caller passes $RUNQ_URL in), print, exit,
 * or use getopt (its state is global). */
#ifndef RUNQ_CLI_ARGS_H
#define RUNQ_CLI_ARGS_H

#include <stddef.h>

#define RUNQ_DEFAULT_URL "http://127.0.0.1:8080"

/* The exit codes of every command (documented in `runq --help` and README.md). */
enum runq_exit {
    RUNQ_EXIT_OK = 0,     /* success; a job waited for ran ok / AC; grade: all AC */
    RUNQ_EXIT_FAILED = 1, /* a finished job's program did not succeed; grade: some not AC */
    RUNQ_EXIT_USAGE = 2,  /* bad command line, unreadable local file, no language */
    RUNQ_EXIT_SERVER = 3, /* unreachable, timed out, 5xx, not an API answer */
    RUNQ_EXIT_JOB = 4,    /* no such job, refused (4xx), failed or cancelled in the fleet */
};

enum runq_cmd {
    RUNQ_CMD_NONE, /* no command: only --help (or nothing) was given */
    RUNQ_CMD_SUBMIT,
    RUNQ_CMD_GET,
    RUNQ_CMD_WATCH,
    RUNQ_CMD_CANCEL,
    RUNQ_CMD_LANGUAGES,
    RUNQ_CMD_GRADE,
};

/* Every string points into argv (nothing is copied) except `args`, an array this struct
 * owns (free it with runq_args_free). */
struct runq_opts {
    enum runq_cmd cmd;
    int help;         /* --help / -h / `runq help [CMD]`: print the help of cmd and stop */
    const char *url;  /* --url; NULL when not given (see runq_args_url) */
    const char *path; /* submit FILE, grade SUBMISSIONS_DIR */
    const char *id;   /* get / watch / cancel ID */
    const char *language;
    const char *stdin_path; /* submit --stdin FILE; "-" is standard input */
    const char **args;      /* submit --arg, in order */
    size_t nargs;
    int wait; /* submit --wait */
    int json; /* --json (submit, get, watch, cancel, languages) */
    /* grade */
    const char *tests_dir;
    const char *checker; /* "lines" | "exact" | "tokens" | "float" | a checker file; NULL */
    const char *scoring; /* "sum" | "groups_min"; NULL: the server's default (sum) */
    int stop_on_failure;
    const char *json_path, *csv_path, *junit_path;
};

/* Parses argv[1..argc). Returns 0 with *o filled, or -EINVAL with a one-line message in
 * err (o then holds nothing to free), or -ENOMEM. */
int runq_args_parse(int argc, char *const *argv, struct runq_opts *o, char *err, size_t errlen);

void runq_args_free(struct runq_opts *o);

/* 1 when name is a built-in checker ("lines", "exact", "tokens", "float"). */
int runq_args_builtin_checker(const char *name);

/* The dispatcher URL: flag, else env (when non-empty), else RUNQ_DEFAULT_URL; with any
 * trailing "/" left for the caller. NULL (and a message in err) when the chosen one is not
 * an http:// or https:// URL with a host. */
const char *runq_args_url(const char *flag, const char *env, char *err, size_t errlen);

/* The help text of a command; RUNQ_CMD_NONE: the overview, with the exit codes (the same
 * table as README.md's CLI section). Static, never NULL. */
const char *runq_args_help(enum runq_cmd cmd);

/* "submit", "get", ...; "runq" for RUNQ_CMD_NONE. */
const char *runq_args_cmd_name(enum runq_cmd cmd);

#endif
