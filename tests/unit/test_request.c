/* SPDX-License-Identifier: MIT */
/* Unit tests of sbx_request: run requests on the wire, both ways, and their rejections. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sbx_request.h"
#include "tap.h"

/* text: the JSON, then (when attach) a NUL and the attachment. */
static int reject_with(const char *text, const char *attach, const char *want_field)
{
    char buf[512];
    size_t len = strlen(text), alen = attach ? strlen(attach) : 0;
    struct sbx_request r;
    const char *field = "";
    int e;

    memcpy(buf, text, len);
    if (attach) {
        buf[len++] = '\0';
        memcpy(buf + len, attach, alen);
        len += alen;
    }
    e = sbx_request_decode(buf, len, &r, &field);
    return e == -EINVAL && strcmp(field, want_field) == 0;
}

static int reject(const char *text, const char *want_field)
{
    return reject_with(text, NULL, want_field);
}

/* Requests written by hand: base64 data in the JSON, no attachment. */
static void test_base64_form(struct tap *t)
{
    static const char text[] = "{\"argv\": [\"cat\"], \"stdin\": \"MiAz\", \"stream\": true, "
                               "\"files\": [{\"name\": \"a\", \"base64\": \"eA==\"}]}";
    struct sbx_request r;
    const char *field = "";

    tap_ok(t, sbx_request_decode(text, strlen(text), &r, &field) == 0 && r.stream &&
                  r.spec.stdin_len == 3 && memcmp(r.spec.stdin_data, "2 3", 3) == 0 &&
                  r.spec.nfiles == 1 && r.spec.files[0].len == 1 &&
                  memcmp(r.spec.files[0].data, "x", 1) == 0,
           "base64 stdin and files, and the stream flag");
    sbx_request_free(&r);
}

int main(void)
{
    static const char *const collect[] = {"out.txt"};
    char *argv[] = {(char *)"python3", (char *)"main.py", NULL};
    char *envp[] = {(char *)"PATH=/usr/bin", NULL};
    struct sbx_file files[] = {{"main.py", "print(1)\n", 9, 0}, {"bin/tool", "\x7f" "ELF", 4, 1}};
    struct sbx_run_spec spec;
    struct sbx_request back;
    struct tap t = {0};
    const char *field = "";
    char *wire = NULL;
    size_t len = 0;
    int ok;

    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.limits.cpu_ms = 1500;
    spec.limits.memory_bytes = 128ULL << 20;
    spec.argv = argv;
    spec.envp = envp;
    spec.stdin_data = "1 2\n";
    spec.stdin_len = 4;
    spec.files = files;
    spec.nfiles = 2;
    spec.collect = collect;
    spec.ncollect = 1;
    ok = sbx_request_encode(&spec, 0, &wire, &len) == 0 &&
         sbx_request_decode(wire, len, &back, &field) == 0;
    tap_ok(&t, ok, "a request survives the wire and back (%s)", field);
    tap_ok(&t, wire && !strstr(wire, "base64") && len == strlen(wire) + 1 + 9 + 4 + 4,
           "files and stdin travel as raw bytes after the JSON");
    if (ok) {
        tap_ok(&t, strcmp(back.spec.argv[1], "main.py") == 0 && !back.spec.argv[2] &&
                       strcmp(back.spec.envp[0], "PATH=/usr/bin") == 0,
               "argv and env");
        tap_ok(&t, back.spec.limits.cpu_ms == 1500 && back.spec.limits.memory_bytes == 128ULL << 20 &&
                       back.spec.limits.output_bytes == spec.limits.output_bytes,
               "limits");
        tap_ok(&t, back.spec.nfiles == 2 && back.spec.files[1].executable &&
                       back.spec.files[1].len == 4 &&
                       memcmp(back.spec.files[1].data, "\x7f" "ELF", 4) == 0 &&
                       strcmp(back.spec.files[1].name, "bin/tool") == 0,
               "binary files and the exec bit");
        tap_ok(&t, back.spec.stdin_len == 4 && memcmp(back.spec.stdin_data, "1 2\n", 4) == 0 &&
                       back.spec.ncollect == 1 && strcmp(back.spec.collect[0], "out.txt") == 0,
               "stdin and collect");
        tap_ok(&t, !back.stream, "no streamed output unless asked");
        sbx_request_free(&back);
    }
    free(wire);
    test_base64_form(&t);
    tap_ok(&t, reject("{}", "argv"), "argv is required");
    tap_ok(&t, reject("{\"argv\": []}", "argv"), "argv must not be empty");
    tap_ok(&t, reject("{\"argv\": [\"a\", 3]}", "argv"), "argv holds strings only");
    tap_ok(&t, reject("{\"argv\": [\"a\"], \"limits\": {\"cpu_ms\": 0}}", "cpu-time"),
           "limits are validated");
    tap_ok(&t, reject("{\"argv\": [\"a\"], \"limits\": {\"bogus\": 1}}", "limits"),
           "unknown limit");
    tap_ok(&t, reject("{\"argv\": [\"a\"], \"files\": [{\"name\": \"../x\", \"base64\": \"\"}]}",
                      "files"),
           "file names may not escape /box");
    tap_ok(&t, reject("{\"argv\": [\"a\"], \"stdin\": \"@@@\"}", "stdin"), "bad base64 stdin");
    tap_ok(&t, reject("{\"argv\": [\"a\"], \"collect\": [\"/etc/passwd\"]}", "collect"),
           "collect names stay in /box");
    tap_ok(&t, reject("[]", "request"), "a request is an object");
    tap_ok(&t, reject("{\"argv\": [\"a\"", "request"), "bad JSON is named as the request");
    tap_ok(&t, reject_with("{\"argv\": [\"a\"], \"stdin_at\": [2, 3]}", "abcd", "stdin"),
           "a range past the end of the attachment");
    tap_ok(&t, reject_with("{\"argv\": [\"a\"], \"stdin_at\": [-1, 1]}", "abcd", "stdin"),
           "a negative offset");
    tap_ok(&t, reject_with("{\"argv\": [\"a\"], \"files\": [{\"name\": \"x\", \"at\": [0]}]}",
                           "abcd", "files"),
           "a range is [offset, length]");
    tap_ok(&t, reject_with("{\"argv\": [\"a\"], \"files\": [{\"name\": \"x\", \"at\": [0, 1], "
                           "\"base64\": \"eA==\"}]}", "abcd", "files"),
           "not both base64 and a range");
    {
        static const char empty[] = "{\"argv\": [\"a\"], "
                                    "\"files\": [{\"name\": \"x\", \"at\": [0, 0]}]}";
        tap_ok(&t, sbx_request_decode(empty, strlen(empty), &back, &field) == 0 &&
                       back.spec.nfiles == 1 && back.spec.files[0].len == 0,
               "an empty range without an attachment is an empty file");
        sbx_request_free(&back);
    }
    return tap_done(&t);
}
