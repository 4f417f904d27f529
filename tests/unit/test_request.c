/* SPDX-License-Identifier: MIT */
/* Unit tests of sbx_request: run requests as JSON, both ways, and their rejections. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "sbx_request.h"
#include "tap.h"

static int reject(const char *text, const char *want_field)
{
    json_t *j = json_loads(text, 0, NULL);
    struct sbx_request r;
    const char *field = "";
    int e = sbx_request_from_json(j, &r, &field);

    json_decref(j);
    return e == -EINVAL && strcmp(field, want_field) == 0;
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
    json_t *j;
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
    j = sbx_request_to_json(&spec);
    ok = j && sbx_request_from_json(j, &back, &field) == 0;
    tap_ok(&t, ok, "a request survives JSON and back (%s)", field);
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
        sbx_request_free(&back);
    }
    json_decref(j);
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
    return tap_done(&t);
}
