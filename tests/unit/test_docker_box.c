/* SPDX-License-Identifier: MIT */
/* Unit tests of docker_box (runq-box's records, both ways, and the result built from them)
 * and docker_spec (the container a run gets). Plain data only: no engine. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "box_proto.h"
#include "docker_box.h"
#include "docker_spec.h"
#include "tap.h"

#define KEY "0123456789abcdef0123456789abcdef"

/* Appends one record to buf at *len. */
static void record(char *buf, size_t *len, int type, const char *payload, size_t n)
{
    buf[(*len)++] = (char)type;
    buf[(*len)++] = (char)(n >> 24);
    buf[(*len)++] = (char)(n >> 16);
    buf[(*len)++] = (char)(n >> 8);
    buf[(*len)++] = (char)n;
    memcpy(buf + *len, payload, n);
    *len += n;
}

static void record_str(char *buf, size_t *len, int type, const char *s)
{
    record(buf, len, type, s, strlen(s));
}

/* The type and payload of the record at *pos of an encoded input. */
static int next_record(const char *buf, size_t len, size_t *pos, int *type, const char **p,
                       size_t *n)
{
    const unsigned char *h = (const unsigned char *)buf + *pos;

    if (*pos + 5 > len)
        return 0;
    *type = h[0];
    *n = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
    *p = buf + *pos + 5;
    *pos += 5 + *n;
    return *pos <= len;
}

static int payload_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_encode(struct tap *t)
{
    char *argv[] = {(char *)"./main", (char *)"x", NULL};
    struct sbx_file files[] = {{"main", "\x7f" "ELF", 4, 1}};
    const char *const collect[] = {"out.txt"};
    struct sbx_run_spec spec;
    char *buf = NULL, order[64] = "";
    size_t len = 0, pos = 0, n, k = 0;
    const char *p;
    int type, ok = 1, saw_cpu = 0, saw_file = 0, saw_stdin = 0, saw_env = 0;

    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.limits.cpu_ms = 1500;
    spec.argv = argv;
    spec.files = files;
    spec.nfiles = 1;
    spec.collect = collect;
    spec.ncollect = 1;
    spec.stdin_data = "1 2\n";
    spec.stdin_len = 4;
    tap_ok(t, docker_box_encode(&spec, "short", &buf, &len) == -EINVAL,
           "a key shorter than 16 bytes is refused");
    if (!tap_ok(t, docker_box_encode(&spec, KEY, &buf, &len) == 0, "a run spec encodes"))
        return;
    while (next_record(buf, len, &pos, &type, &p, &n) && k + 1 < sizeof(order)) {
        if (k == 0 || order[k - 1] != (char)type)
            order[k++] = (char)type;
        if (type == BOX_IN_LIMIT && payload_is(p, n, "cpu_ms=1500"))
            saw_cpu = 1;
        if (type == BOX_IN_ENV && payload_is(p, n, "HOME=/box"))
            saw_env = 1;
        if (type == BOX_IN_FILE)
            saw_file = n == 1 + 5 + 4 && p[0] == 1 && memcmp(p + 1, "main\0\x7f" "ELF", 9) == 0;
        if (type == BOX_IN_STDIN)
            saw_stdin = payload_is(p, n, "1 2\n");
        if (type == BOX_IN_KEY)
            ok &= payload_is(p, n, KEY);
    }
    order[k] = '\0';
    tap_ok(t, pos == len && strcmp(order, "kaelfcig") == 0,
           "records in protocol order: key, args, env, limits, files, collect, stdin, go (%s)",
           order);
    tap_ok(t, ok && saw_cpu && saw_env && saw_file && saw_stdin,
           "the key, the CPU limit, the sandbox's default environment, the executable file "
           "and the stdin travel as sent");
    free(buf);
}

static int feed_bytewise(struct docker_box_reader *r, const char *buf, size_t len)
{
    size_t i;
    int e = 0;

    for (i = 0; i < len && e == 0; i++)
        e = docker_box_reader_feed(r, buf + i, 1);
    return e;
}

struct streamed {
    char text[64];
    size_t len;
};

static void on_output(int stream, const char *bytes, size_t len, void *data)
{
    struct streamed *s = data;

    if (stream == 1 && s->len + len < sizeof(s->text)) {
        memcpy(s->text + s->len, bytes, len);
        s->len += len;
    }
}

/* Feeds buf to a fresh reader (byte by byte when split) and builds the result. */
static json_t *result_of(const char *buf, size_t len, int split, const struct docker_box_seen *s,
                         int *feed_status)
{
    struct docker_box_reader r;
    struct sbx_result res;
    json_t *j = NULL;

    if (docker_box_reader_init(&r, 16, 1024, 2, NULL, NULL) < 0)
        return NULL;
    *feed_status = split ? feed_bytewise(&r, buf, len) : docker_box_reader_feed(&r, buf, len);
    if (docker_box_result(&r, s, &res) == 0)
        j = sbx_result_to_json(&res);
    sbx_result_clear(&res);
    docker_box_reader_free(&r);
    return j;
}

static int status_is(json_t *j, const char *want)
{
    const char *s = json_string_value(json_object_get(j, "status"));

    return s && strcmp(s, want) == 0;
}

static void test_results(struct tap *t)
{
    struct docker_box_seen seen = {KEY, "./main", 1000000, 12, 0, 0, NULL};
    struct docker_box_reader r;
    struct streamed live = {"", 0};
    char buf[1024];
    size_t len = 0;
    json_t *j;
    int fs;

    record_str(buf, &len, BOX_OUT_STDOUT, "hel");
    record_str(buf, &len, BOX_OUT_STDERR, "warn");
    record_str(buf, &len, BOX_OUT_STDOUT, "lo\n");
    record(buf, &len, BOX_OUT_FILE, "out.txt\0" "42", 10);
    record(buf, &len, BOX_OUT_FILE_ERROR, "x\0" "symbolic link", 15);
    record_str(buf, &len, BOX_OUT_RESULT, "key=" KEY "\nexited=1\nwait_status=0\n"
                                          "killed_for=none\ncpu_us=3000\nmemory_peak_kb=900\n"
                                          "oom_kills=0\nstdout_truncated=0\n");
    j = result_of(buf, len, 1, &seen, &fs);
    tap_ok(t, fs == 0 && j && status_is(j, "ok") &&
                  strcmp(json_string_value(json_object_get(j, "stdout")), "hello\n") == 0 &&
                  strcmp(json_string_value(json_object_get(j, "stderr")), "warn") == 0 &&
                  json_integer_value(json_object_get(j, "cpu_ms")) == 3 &&
                  json_integer_value(json_object_get(j, "wall_ms")) == 12 &&
                  json_integer_value(json_object_get(j, "memory_peak_kb")) == 900,
           "records split at every byte: output, times and memory as the sandbox reports them");
    tap_ok(t, j && json_integer_value(json_object_get(
                       json_object_get(json_object_get(j, "files"), "out.txt"), "size")) == 2 &&
                  strcmp(json_string_value(json_object_get(json_object_get(
                             json_object_get(j, "files"), "x"), "error")),
                         "symbolic link") == 0,
           "a collected file and a refused one");
    json_decref(j);

    if (docker_box_reader_init(&r, 16, 1024, 0, on_output, &live) == 0) {
        len = 0;
        record_str(buf, &len, BOX_OUT_STDOUT, "live");
        tap_ok(t, docker_box_reader_feed(&r, buf, len) == 0 && live.len == 4 &&
                      memcmp(live.text, "live", 4) == 0,
               "program output is passed on as it comes");
        docker_box_reader_free(&r);
    }

    len = 0;
    record_str(buf, &len, BOX_OUT_RESULT, "key=ffffffffffffffffffffffffffffffff\nexited=1\n"
                                          "wait_status=0\n");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "internal_error"), "a result without the run's key is refused");
    json_decref(j);

    len = 0;
    record_str(buf, &len, BOX_OUT_STDOUT, "0123456789abcdefX");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, fs == -EPROTO && j && status_is(j, "internal_error"),
           "output past the limit breaks the protocol");
    json_decref(j);

    len = 0;
    record_str(buf, &len, 'Z', "?");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, fs == -EPROTO && j && status_is(j, "internal_error"), "an unknown record too");
    json_decref(j);

    len = 0;
    record_str(buf, &len, BOX_OUT_RESULT, "key=" KEY "\nexited=1\nwait_status=0\n");
    record_str(buf, &len, BOX_OUT_STDOUT, "late");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, fs == -EPROTO && j && status_is(j, "internal_error"),
           "and anything after the result");
    json_decref(j);
}

static void test_verdicts(struct tap *t)
{
    struct docker_box_seen seen = {KEY, "./main", 1000000, 3000, 0, 0, NULL};
    char buf[512] = "";
    size_t len = 0;
    json_t *j;
    int fs;

    seen.wall_killed = 1;
    j = result_of(buf, 0, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "time_limit") &&
                  strcmp(json_string_value(json_object_get(j, "time_limit")), "wall") == 0,
           "killed at the deadline before runq-box reported: wall-clock time limit");
    json_decref(j);

    seen.wall_killed = 0;
    seen.oom_killed = 1;
    record_str(buf, &len, BOX_OUT_RESULT, "key=" KEY "\nexited=1\nwait_status=9\n");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "memory_limit"),
           "SIGKILL with the engine's OOMKilled: memory limit");
    json_decref(j);

    seen.oom_killed = 0;
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "signaled"), "the same SIGKILL without it: killed by a signal");
    json_decref(j);

    len = 0;
    record_str(buf, &len, BOX_OUT_RESULT,
               "key=" KEY "\nexited=1\nwait_status=9\nkilled_for=cpu\ncpu_us=1000500\n");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "time_limit") &&
                  strcmp(json_string_value(json_object_get(j, "time_limit")), "cpu") == 0,
           "killed for CPU: CPU time limit");
    json_decref(j);

    len = 0;
    record_str(buf, &len, BOX_OUT_RESULT, "key=" KEY "\nexited=0\nexec_errno=2\n");
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "runtime_error") &&
                  json_integer_value(json_object_get(j, "exit_code")) == 127,
           "the submission's own file cannot run: runtime error, exit 127");
    json_decref(j);
    seen.argv0 = "python3";
    j = result_of(buf, len, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "internal_error") &&
                  strstr(json_string_value(json_object_get(j, "message")), "python3"),
           "a runtime missing from the image: internal error naming it");
    json_decref(j);

    seen.argv0 = "./main";
    j = result_of(buf, 0, 0, &seen, &fs);
    tap_ok(t, j && status_is(j, "internal_error"), "no result and no kill: internal error");
    json_decref(j);
}

static void test_spec(struct tap *t)
{
    char *argv[] = {(char *)"./main", NULL};
    struct docker_spec_options o = {"runq/lang-c:latest", "host-0", 3, 65534, 1};
    struct sbx_run_spec spec;
    json_t *j, *hc;
    char filter[256], *text;

    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.argv = argv;
    j = docker_spec_create(&spec, &o);
    hc = json_object_get(j, "HostConfig");
    tap_ok(t, j && strcmp(json_string_value(json_object_get(hc, "NetworkMode")), "none") == 0 &&
                  json_is_true(json_object_get(hc, "ReadonlyRootfs")) &&
                  json_integer_value(json_object_get(hc, "Memory")) ==
                      json_integer_value(json_object_get(hc, "MemorySwap")) &&
                  json_integer_value(json_object_get(hc, "PidsLimit")) == 65 &&
                  strcmp(json_string_value(json_array_get(json_object_get(hc, "CapDrop"), 0)),
                         "ALL") == 0 &&
                  strcmp(json_string_value(json_array_get(json_object_get(hc, "SecurityOpt"), 0)),
                         "no-new-privileges") == 0,
           "no network, no swap, a pids limit, a read-only root, no capabilities, "
           "no new privileges");
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    tap_ok(t, text && !strstr(text, "Binds") && !strstr(text, "Mounts") &&
                  !strstr(text, "Devices") && !strstr(text, "docker.sock") &&
                  strstr(text, "\"Privileged\":false") && strstr(text, "\"User\":\"65534:65534\"") &&
                  strstr(text, "size=67108864,uid=65534") && strstr(text, "./main") == NULL,
           "nothing of the host mounted, not privileged, a non-root user owning a sized /box, "
           "no job data in the container's config");
    free(text);
    json_decref(j);
    o.uid = 0;
    tap_ok(t, docker_spec_create(&spec, &o) == NULL, "uid 0 is refused");
    tap_ok(t, docker_spec_owner_filter("host-0", filter, sizeof(filter)) == 0 &&
                  strcmp(filter, "filters=%7B%22label%22%3A%5B%22org.runq.owner%3Dhost-0%22%5D%7D") ==
                      0,
           "the owner's label filter, URL-encoded");
    tap_ok(t, docker_spec_owner_filter("host-0", filter, 20) == -ENAMETOOLONG,
           "a filter that does not fit is an error");
}

int main(void)
{
    struct tap t = {0};

    test_encode(&t);
    test_results(&t);
    test_verdicts(&t);
    test_spec(&t);
    return tap_done(&t);
}
