/* SPDX-License-Identifier: MIT */
/* Unit tests of runq-sandbox's option parsing and of the result's JSON form. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sbx_cli.h"
#include "sbx_result.h"
#include "tap.h"

static int parse(struct sbx_cli *c, char *err, size_t errlen, char **argv)
{
    int argc = 0;

    while (argv[argc])
        argc++;
    return sbx_cli_parse(argc, argv, c, err, errlen);
}

static void test_parse_ok(struct tap *t)
{
    char a0[] = "runq-sandbox", a1[] = "-t", a2[] = "1.5", a3[] = "--memory", a4[] = "64M",
         a5[] = "--file", a6[] = "main.py=/tmp/x.py", a7[] = "--env", a8[] = "PATH=/x",
         a9[] = "--slot", a10[] = "5", a11[] = "--", a12[] = "python3", a13[] = "-V";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, NULL};
    struct sbx_cli c;
    char err[256] = "";
    size_t i;
    int path_seen = 0;

    tap_ok(t, parse(&c, err, sizeof(err), argv) == 0, "valid command line parses (%s)", err);
    tap_ok(t, c.limits.cpu_ms == 1500 && c.limits.memory_bytes == 64ULL << 20,
           "limits taken from options");
    tap_ok(t, c.limits.output_bytes == 1ULL << 20 && c.limits.processes == 64,
           "defaults kept for the rest");
    tap_ok(t, c.nfiles == 1 && strcmp(c.file_names[0], "main.py") == 0 &&
                  strcmp(c.file_paths[0], "/tmp/x.py") == 0, "--file NAME=PATH split");
    for (i = 0; c.env[i]; i++)
        path_seen += strncmp(c.env[i], "PATH=", 5) == 0;
    tap_ok(t, path_seen == 1, "--env replaces the default PATH instead of shadowing it");
    tap_ok(t, c.slot.slot == 5 && c.slot.uid_base == 60000, "slot");
    tap_ok(t, c.argv && strcmp(c.argv[0], "python3") == 0 && strcmp(c.argv[1], "-V") == 0,
           "program after --");
}

static void expect_error(struct tap *t, const char *opt, const char *value, const char *needle)
{
    char a0[] = "runq-sandbox", a1[64], a2[64], a3[] = "--", a4[] = "true";
    char *argv[] = {a0, a1, a2, a3, a4, NULL};
    struct sbx_cli c;
    char err[256] = "";

    snprintf(a1, sizeof(a1), "%s", opt);
    snprintf(a2, sizeof(a2), "%s", value);
    tap_ok(t, parse(&c, err, sizeof(err), argv) == -EINVAL && strstr(err, needle),
           "%s %s rejected naming %s: \"%s\"", opt, value, needle, err);
}

static void test_parse_errors(struct tap *t)
{
    char a0[] = "runq-sandbox", a1[] = "-t", a2[] = "1";
    char *argv[] = {a0, a1, a2, NULL};
    struct sbx_cli c;
    char err[256] = "";

    expect_error(t, "--memory", "lots", "--memory");
    expect_error(t, "--cpu-time", "0", "cpu-time");
    expect_error(t, "--memory", "100K", "memory");
    expect_error(t, "--file", "../etc=/x", "--file");
    expect_error(t, "--file", "noequals", "--file");
    expect_error(t, "--collect", "/abs", "--collect");
    expect_error(t, "--bind", "relative", "--bind");
    expect_error(t, "--slot", "99999", "--slot");
    expect_error(t, "--bogus", "1", "unknown option");
    tap_ok(t, parse(&c, err, sizeof(err), argv) == -EINVAL && strstr(err, "no program"),
           "missing program: \"%s\"", err);
}

static void test_result_json(struct tap *t)
{
    struct sbx_result r;
    struct sbx_collected files[2];
    json_t *j;
    const char *s;

    memset(&r, 0, sizeof(r));
    memset(files, 0, sizeof(files));
    r.verdict = (struct sbx_verdict){SBX_TIME_LIMIT, SBX_TIME_WALL, -1, 0, "x"};
    r.out.data = (char *)"ok\xFF";
    r.out.len = 3;
    r.err.truncated = 1;
    files[0].name = (char *)"a.out";
    files[0].data = (unsigned char *)"hi";
    files[0].len = 2;
    files[1].name = (char *)"link";
    files[1].error = "symbolic link";
    r.files = files;
    r.nfiles = 2;
    j = sbx_result_to_json(&r);
    tap_ok(t, j && strcmp(json_string_value(json_object_get(j, "status")), "time_limit") == 0 &&
                  strcmp(json_string_value(json_object_get(j, "time_limit")), "wall") == 0,
           "status and time_limit kind");
    tap_ok(t, j && json_is_null(json_object_get(j, "exit_code")) &&
                  json_is_null(json_object_get(j, "signal")), "exit_code/signal null when unset");
    s = j ? json_string_value(json_object_get(j, "stdout")) : NULL;
    tap_ok(t, s && strcmp(s, "ok\xEF\xBF\xBD") == 0, "invalid UTF-8 in stdout replaced");
    tap_ok(t, j && json_is_true(json_object_get(j, "stderr_truncated")), "truncation flag");
    s = j ? json_string_value(json_object_get(json_object_get(json_object_get(j, "files"),
                                                              "a.out"), "base64"))
          : NULL;
    tap_ok(t, s && strcmp(s, "aGk=") == 0, "collected file base64");
    s = j ? json_string_value(json_object_get(json_object_get(json_object_get(j, "files"),
                                                              "link"), "error"))
          : NULL;
    tap_ok(t, s && strcmp(s, "symbolic link") == 0, "collect error reported");
    json_decref(j);
}

int main(void)
{
    struct tap t = {0};

    test_parse_ok(&t);
    test_parse_errors(&t);
    test_result_json(&t);
    return tap_done(&t);
}
