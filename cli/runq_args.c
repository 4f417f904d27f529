/* SPDX-License-Identifier: MIT */
/* runq_args: see runq_args.h. Options are looked up in one table that says which commands
 * take each; the same name may mean different things per command (--json is a flag for
 * submit and a file for grade), so a lookup is by name and command. */
#include "runq_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum key {
    K_URL,
    K_HELP,
    K_LANGUAGE,
    K_STDIN,
    K_ARG,
    K_WAIT,
    K_JSON,
    K_JSON_FILE,
    K_TESTS,
    K_CHECKER,
    K_SCORING,
    K_STOP,
    K_CSV,
    K_JUNIT,
};

#define M(c) (1u << (c))
#define ALL (~0u)
#define JOBCMDS (M(RUNQ_CMD_SUBMIT) | M(RUNQ_CMD_GET) | M(RUNQ_CMD_WATCH) | M(RUNQ_CMD_CANCEL))

static const struct opt {
    const char *name;
    int takes_value;
    unsigned cmds;
    enum key key;
} opts[] = {
    {"url", 1, ALL, K_URL},
    {"help", 0, ALL, K_HELP},
    {"language", 1, M(RUNQ_CMD_SUBMIT) | M(RUNQ_CMD_GRADE), K_LANGUAGE},
    {"stdin", 1, M(RUNQ_CMD_SUBMIT), K_STDIN},
    {"arg", 1, M(RUNQ_CMD_SUBMIT), K_ARG},
    {"wait", 0, M(RUNQ_CMD_SUBMIT), K_WAIT},
    {"json", 0, JOBCMDS | M(RUNQ_CMD_LANGUAGES), K_JSON},
    {"json", 1, M(RUNQ_CMD_GRADE), K_JSON_FILE},
    {"tests", 1, M(RUNQ_CMD_GRADE), K_TESTS},
    {"checker", 1, M(RUNQ_CMD_GRADE), K_CHECKER},
    {"scoring", 1, M(RUNQ_CMD_GRADE), K_SCORING},
    {"stop-on-failure", 0, M(RUNQ_CMD_GRADE), K_STOP},
    {"csv", 1, M(RUNQ_CMD_GRADE), K_CSV},
    {"junit", 1, M(RUNQ_CMD_GRADE), K_JUNIT},
};

static const char *const cmd_names[] = {
    [RUNQ_CMD_NONE] = "runq",   [RUNQ_CMD_SUBMIT] = "submit", [RUNQ_CMD_GET] = "get",
    [RUNQ_CMD_WATCH] = "watch", [RUNQ_CMD_CANCEL] = "cancel", [RUNQ_CMD_LANGUAGES] = "languages",
    [RUNQ_CMD_GRADE] = "grade",
};
#define NCMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

const char *runq_args_cmd_name(enum runq_cmd cmd)
{
    return (size_t)cmd < NCMDS ? cmd_names[cmd] : "runq";
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int runq_args_builtin_checker(const char *name)
{
    return name && (!strcmp(name, "lines") || !strcmp(name, "exact") || !strcmp(name, "tokens") ||
                    !strcmp(name, "float"));
}

/* A job id goes into a URL path as it is: only the characters ids are made of. */
static int id_ok(const char *id)
{
    return *id && strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                      strlen(id);
}

static const struct opt *find_opt(const char *name, size_t n, enum runq_cmd cmd, int *other)
{
    size_t i;

    *other = 0;
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (strlen(opts[i].name) != n || strncmp(opts[i].name, name, n))
            continue;
        if (opts[i].cmds & M(cmd))
            return &opts[i];
        *other = 1;
    }
    return NULL;
}

/* Stores a string option; each may be given once. */
static int set_once(const char **dst, const char *value, const char *name, char *err, size_t len)
{
    if (*dst)
        return fail(err, len, "--%s given twice", name);
    if (!*value)
        return fail(err, len, "--%s needs a non-empty value", name);
    *dst = value;
    return 0;
}

static int apply(struct runq_opts *o, const struct opt *d, const char *v, char *err, size_t len)
{
    switch (d->key) {
    case K_URL:
        return set_once(&o->url, v, d->name, err, len);
    case K_HELP:
        o->help = 1;
        return 0;
    case K_LANGUAGE:
        return set_once(&o->language, v, d->name, err, len);
    case K_STDIN:
        return set_once(&o->stdin_path, v, d->name, err, len);
    case K_ARG:
        o->args[o->nargs++] = v; /* any string, "" included: it is the program's */
        return 0;
    case K_WAIT:
        o->wait = 1;
        return 0;
    case K_JSON:
        o->json = 1;
        return 0;
    case K_JSON_FILE:
        return set_once(&o->json_path, v, d->name, err, len);
    case K_TESTS:
        return set_once(&o->tests_dir, v, d->name, err, len);
    case K_CHECKER:
        return set_once(&o->checker, v, d->name, err, len);
    case K_SCORING:
        if (strcmp(v, "sum") && strcmp(v, "groups_min"))
            return fail(err, len, "--scoring must be \"sum\" or \"groups_min\", not \"%s\"", v);
        return set_once(&o->scoring, v, d->name, err, len);
    case K_STOP:
        o->stop_on_failure = 1;
        return 0;
    case K_CSV:
        return set_once(&o->csv_path, v, d->name, err, len);
    case K_JUNIT:
        return set_once(&o->junit_path, v, d->name, err, len);
    }
    return 0;
}

/* argv[*i] is an option ("--name", "--name=value", "-h"); takes its value from argv[*i + 1]
 * when it has none inline. */
static int option(struct runq_opts *o, int argc, char *const *argv, int *i, char *err, size_t len)
{
    const char *a = argv[*i], *name = a + 2, *eq, *value = NULL;
    const struct opt *d;
    int other;
    size_t n;

    if (!strcmp(a, "-h"))
        name = "help";
    else if (a[1] != '-')
        return fail(err, len, "unknown option %s (options are spelt --name)", a);
    eq = strchr(name, '=');
    n = eq ? (size_t)(eq - name) : strlen(name);
    if (!(d = find_opt(name, n, o->cmd, &other))) {
        const char *cmd = runq_args_cmd_name(o->cmd);
        if (other && o->cmd != RUNQ_CMD_NONE)
            snprintf(err, len, "--%.*s is not an option of runq %s (see runq %s --help)", (int)n,
                     name, cmd, cmd);
        else if (other)
            snprintf(err, len, "--%.*s goes after a command (see runq --help)", (int)n, name);
        else if (o->cmd != RUNQ_CMD_NONE)
            snprintf(err, len, "unknown option --%.*s (see runq %s --help)", (int)n, name, cmd);
        else
            snprintf(err, len, "unknown option --%.*s (see runq --help)", (int)n, name);
        return -EINVAL;
    }
    if (eq && !d->takes_value)
        return fail(err, len, "--%s takes no value", d->name);
    if (eq)
        value = eq + 1;
    else if (d->takes_value) {
        if (*i + 1 >= argc)
            return fail(err, len, "--%s needs a value", d->name);
        value = argv[++*i];
    }
    return apply(o, d, value, err, len);
}

static enum runq_cmd cmd_of(const char *s)
{
    size_t i;

    for (i = 1; i < NCMDS; i++)
        if (!strcmp(cmd_names[i], s))
            return (enum runq_cmd)i;
    return RUNQ_CMD_NONE;
}

/* A plain argument: the command, `help`'s topic, or an operand of the command. */
static int operand(struct runq_opts *o, const char *a, int *help_topic, char *err, size_t len)
{
    if (*help_topic) {
        *help_topic = 0;
        if ((o->cmd = cmd_of(a)) == RUNQ_CMD_NONE)
            return fail(err, len, "no command \"%s\" (see runq --help)", a);
        return 0;
    }
    if (o->cmd == RUNQ_CMD_NONE) {
        if (!strcmp(a, "help")) {
            o->help = 1;
            *help_topic = 1;
            return 0;
        }
        if ((o->cmd = cmd_of(a)) == RUNQ_CMD_NONE)
            return fail(err, len, "no command \"%s\" (see runq --help)", a);
        return 0;
    }
    switch (o->cmd) {
    case RUNQ_CMD_SUBMIT:
    case RUNQ_CMD_GRADE:
        if (o->path)
            return fail(err, len, "unexpected argument \"%s\"", a);
        if (!*a)
            return fail(err, len, "an empty path");
        o->path = a;
        return 0;
    case RUNQ_CMD_GET:
    case RUNQ_CMD_WATCH:
    case RUNQ_CMD_CANCEL:
        if (o->id)
            return fail(err, len, "unexpected argument \"%s\"", a);
        if (!id_ok(a))
            return fail(err, len,
                        "\"%s\" is not a job id (letters, digits, \".\", \"_\" and \"-\")", a);
        o->id = a;
        return 0;
    default:
        return fail(err, len, "unexpected argument \"%s\"", a);
    }
}

/* What a command needs once everything is read (not checked for --help). */
static int complete(const struct runq_opts *o, char *err, size_t len)
{
    const char *name = runq_args_cmd_name(o->cmd);

    switch (o->cmd) {
    case RUNQ_CMD_SUBMIT:
        return o->path ? 0
                       : fail(err, len, "runq %s needs a FILE (see runq %s --help)", name, name);
    case RUNQ_CMD_GET:
    case RUNQ_CMD_WATCH:
    case RUNQ_CMD_CANCEL:
        return o->id ? 0
                     : fail(err, len, "runq %s needs a job ID (see runq %s --help)", name, name);
    case RUNQ_CMD_GRADE:
        if (!o->path)
            return fail(err, len, "runq grade needs a SUBMISSIONS_DIR (see runq grade --help)");
        return o->tests_dir
                   ? 0
                   : fail(err, len, "runq grade needs --tests DIR (see runq grade --help)");
    default:
        return 0;
    }
}

int runq_args_parse(int argc, char *const *argv, struct runq_opts *o, char *err, size_t errlen)
{
    int i, rc = 0, dashdash = 0, help_topic = 0;

    memset(o, 0, sizeof(*o));
    if (errlen)
        err[0] = '\0';
    if (argc < 1 || !(o->args = calloc((size_t)argc, sizeof(*o->args))))
        return -ENOMEM;
    for (i = 1; rc == 0 && i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && !strcmp(a, "--") && o->cmd != RUNQ_CMD_NONE)
            dashdash = 1;
        else if (!dashdash && a[0] == '-' && a[1] != '\0')
            rc = option(o, argc, argv, &i, err, errlen);
        else
            rc = operand(o, a, &help_topic, err, errlen);
    }
    if (rc == 0 && !o->help)
        rc = complete(o, err, errlen);
    if (rc < 0)
        runq_args_free(o);
    return rc;
}

void runq_args_free(struct runq_opts *o)
{
    free(o->args);
    memset(o, 0, sizeof(*o));
}

const char *runq_args_url(const char *flag, const char *env, char *err, size_t errlen)
{
    const char *url = flag ? flag : env && *env ? env : RUNQ_DEFAULT_URL, *host, *c;

    if (!strncasecmp(url, "http://", 7))
        host = url + 7;
    else if (!strncasecmp(url, "https://", 8))
        host = url + 8;
    else
        host = NULL;
    for (c = url; host && *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            host = NULL;
    if (!host || !*host || *host == '/') {
        snprintf(err, errlen, "%s URL \"%s\" is not http://HOST[:PORT] or https://...",
                 flag ? "--url" : "RUNQ_URL", url);
        return NULL;
    }
    return url;
}

/*** Help: kept beside the option table so that the two say the same ***/

static const char overview[] =
    "usage: runq [--url URL] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "The command-line client of a runq fleet (its HTTP API v1).\n"
    "\n"
    "Commands:\n"
    "  submit FILE           run a program; the language comes from the file's extension\n"
    "  get ID                show a job and, once finished, its result\n"
    "  watch ID              follow a job's events live until it finishes\n"
    "  cancel ID             cancel a queued or running job\n"
    "  languages             the fleet's languages: name, aliases, detected version\n"
    "  grade DIR --tests T   grade every file of DIR against the tests in T\n"
    "  help [COMMAND]        this text, or a command's (also: runq COMMAND --help)\n"
    "\n"
    "Global options (anywhere on the line):\n"
    "  --url URL    the dispatcher; default $RUNQ_URL, else " RUNQ_DEFAULT_URL "\n"
    "  -h, --help   help\n"
    "\n"
    "Exit codes (the same for every command):\n"
    "  0  success: the request did what was asked; a job that was waited for (submit --wait,\n"
    "     get or watch of a finished job) ran and its program succeeded (status ok, or\n"
    "     verdict AC); grade: every submission was graded and fully accepted (AC)\n"
    "  1  the program did not succeed: a finished job's result is a runtime error, a time,\n"
    "     memory or output limit, a compile error, or a verdict other than AC; grade: every\n"
    "     submission was graded and at least one is not AC\n"
    "  2  usage error: bad command line, an unreadable local file, a file whose language\n"
    "     cannot be told from its extension, a tests directory without tests, a report\n"
    "     that could not be written\n"
    "  3  server or network error: the dispatcher cannot be reached, timed out, answered\n"
    "     5xx or something that is not the API's JSON\n"
    "  4  job error: no such job, the request was refused (4xx: invalid, too large, unknown\n"
    "     language or queue), the job failed in the fleet (internal error) or was\n"
    "     cancelled, cancel of a job that had already finished; grade: some submission\n"
    "     could not be graded for one of these reasons\n"
    "When several apply (grade), the highest code wins.\n";

static const char submit[] =
    "usage: runq submit FILE [--language L] [--stdin FILE|-] [--arg A]... [--wait] [--json]\n"
    "\n"
    "Submits FILE as a job and prints its id. Without --language, the language is the one\n"
    "whose name or alias is FILE's extension (GET /v1/languages: .py python, .cpp/.cc cpp,\n"
    ".rs rust, .kt kotlin, .cs csharp, ...).\n"
    "\n"
    "  --language L    the language (a name or an alias)\n"
    "  --stdin FILE    the program's standard input; \"-\" reads runq's own\n"
    "  --arg A         a command-line argument of the program (repeat for more)\n"
    "  --wait          wait until the job finishes, print its stdout and stderr on runq's\n"
    "                  own, a status line on stderr, and exit with the job's code (0 ok,\n"
    "                  1 not ok, 4 failed or cancelled)\n"
    "  --json          print the server's JSON (the accepted job, or with --wait the job)\n";

static const char get[] =
    "usage: runq get ID [--json]\n"
    "\n"
    "Shows a job: its status, and once finished its output and result. The exit code is\n"
    "the result's (0 ok, 1 not ok, 4 failed or cancelled) once finished, 0 before.\n"
    "\n"
    "  --json   print the job as the server returns it\n";

static const char watch[] =
    "usage: runq watch ID [--json]\n"
    "\n"
    "Follows GET /v1/jobs/ID/events (Server-Sent Events): prints status changes and each\n"
    "test's verdict on stderr and the program's output live on stdout and stderr, until the\n"
    "job finishes; then exits with the job's code (0 ok, 1 not ok, 4 failed or cancelled).\n"
    "\n"
    "  --json   print each event as one line of JSON on stdout instead\n";

static const char cancel[] =
    "usage: runq cancel ID [--json]\n"
    "\n"
    "Cancels a queued job (at once) or a running one (its worker stops it). Exits 0 when the\n"
    "job is cancelled or being cancelled, 4 when there is no such job or it had finished.\n"
    "\n"
    "  --json   print the server's answer\n";

static const char languages[] =
    "usage: runq languages [--json]\n"
    "\n"
    "Lists the fleet's languages: name, aliases and the version a worker detected (\"-\"\n"
    "until a worker has reported one).\n"
    "\n"
    "  --json   print the server's answer\n";

static const char grade[] =
    "usage: runq grade SUBMISSIONS_DIR --tests DIR [--checker C] [--language L]\n"
    "                  [--stop-on-failure] [--scoring sum|groups_min]\n"
    "                  [--json FILE] [--csv FILE] [--junit FILE]\n"
    "\n"
    "Grades each file of SUBMISSIONS_DIR (hidden files and directories are left out) as one\n"
    "graded job against the tests of DIR: pairs NAME.in + NAME.out (or NAME.ans), in natural\n"
    "order of NAME (2 before 10). All jobs run at once on the fleet; a progress bar (or,\n"
    "when stderr is not a terminal, a line per finished submission) shows on stderr, then a\n"
    "table (submission, verdict, score/max, time: the slowest test's CPU time) on stdout.\n"
    "\n"
    "  --tests DIR         the tests (required)\n"
    "  --checker C         lines (default), exact, tokens, float, or a checker program's\n"
    "                      file (testlib exit codes; its language from its extension; use\n"
    "                      ./lines for a file named like a built-in); with a custom checker\n"
    "                      a test's .out/.ans is optional\n"
    "  --language L        the language of every submission (default: by extension)\n"
    "  --stop-on-failure   stop a submission at its first failing test (the rest: SK)\n"
    "  --scoring S         sum (default) or groups_min\n"
    "  --json FILE         write every result as JSON\n"
    "  --csv FILE          one row per submission (RFC 4180)\n"
    "  --junit FILE        JUnit XML: a testsuite per submission, a testcase per test\n"
    "\n"
    "Exit code: 0 every submission AC, 1 some not AC, 2 usage, 3 server or network,\n"
    "4 some submission could not be graded (refused, failed); the reports are written\n"
    "in every case where results came back.\n";

const char *runq_args_help(enum runq_cmd cmd)
{
    switch (cmd) {
    case RUNQ_CMD_SUBMIT:
        return submit;
    case RUNQ_CMD_GET:
        return get;
    case RUNQ_CMD_WATCH:
        return watch;
    case RUNQ_CMD_CANCEL:
        return cancel;
    case RUNQ_CMD_LANGUAGES:
        return languages;
    case RUNQ_CMD_GRADE:
        return grade;
    default:
        return overview;
    }
}
