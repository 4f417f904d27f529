/* SPDX-License-Identifier: MIT */
/* runq: the command-line client of a runq fleet.
 *
 *   runq [--url URL] submit FILE [--language L] [--stdin FILE|-] [--arg A]... [--wait] [--json]
 *   runq [--url URL] get ID [--json] | watch ID [--json] | cancel ID [--json]
 *   runq [--url URL] languages [--json]
 *   runq [--url URL] grade SUBMISSIONS_DIR --tests DIR [--checker C] [--language L]
 *                          [--stop-on-failure] [--scoring S] [--json F] [--csv F] [--junit F]
 *
 * The edge of the program: reads the environment ($RUNQ_URL), sets libcurl up and tears it
 * down, and hands over to a command; holds no logic of its own. The exit codes are the
 * table in runq_args.h (and `runq --help`). */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runq_args.h"
#include "runq_cmd.h"
#include "runq_grade.h"
#include "runq_http.h"

static int run(const struct runq_opts *o, const char *url)
{
    struct runq_http *h;
    int rc;

    if (runq_http_new(url, &h) < 0) {
        fprintf(stderr, "runq: out of memory\n");
        return RUNQ_EXIT_SERVER;
    }
    switch (o->cmd) {
    case RUNQ_CMD_SUBMIT:
        rc = runq_cmd_submit(h, o);
        break;
    case RUNQ_CMD_GET:
        rc = runq_cmd_get(h, o);
        break;
    case RUNQ_CMD_WATCH:
        rc = runq_cmd_watch(h, o);
        break;
    case RUNQ_CMD_CANCEL:
        rc = runq_cmd_cancel(h, o);
        break;
    case RUNQ_CMD_LANGUAGES:
        rc = runq_cmd_languages(h, o);
        break;
    case RUNQ_CMD_GRADE:
        rc = runq_grade_run(h, o, url);
        break;
    default:
        rc = RUNQ_EXIT_USAGE;
    }
    runq_http_free(h);
    return rc;
}

int main(int argc, char **argv)
{
    struct runq_opts o;
    char err[512];
    const char *url;
    int rc;

    rc = runq_args_parse(argc, argv, &o, err, sizeof(err));
    if (rc == -ENOMEM) {
        fprintf(stderr, "runq: out of memory\n");
        return RUNQ_EXIT_USAGE;
    }
    if (rc < 0) {
        fprintf(stderr, "runq: %s\n", err);
        return RUNQ_EXIT_USAGE;
    }
    if (o.help || o.cmd == RUNQ_CMD_NONE) {
        /* asked for: stdout and success; `runq` alone: the same text as a usage error */
        rc = o.help ? RUNQ_EXIT_OK : RUNQ_EXIT_USAGE;
        fputs(runq_args_help(o.cmd), o.help ? stdout : stderr);
        runq_args_free(&o);
        return rc;
    }
    if (!(url = runq_args_url(o.url, getenv("RUNQ_URL"), err, sizeof(err)))) {
        fprintf(stderr, "runq: %s\n", err);
        runq_args_free(&o);
        return RUNQ_EXIT_USAGE;
    }
    /* a reader of our output that goes away (runq ... | head) must not kill us mid-report */
    signal(SIGPIPE, SIG_IGN);
    /* libcurl's global state (its TLS library among it) is the process's: set up once here
     * before any handle, torn down after the last, never from a module */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "runq: libcurl failed to initialize\n");
        runq_args_free(&o);
        return RUNQ_EXIT_SERVER;
    }
    rc = run(&o, url);
    curl_global_cleanup();
    runq_args_free(&o);
    return rc;
}
