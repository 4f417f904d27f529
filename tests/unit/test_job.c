/* SPDX-License-Identifier: MIT */
/* Unit tests of common/job: request parsing and validation, canonical JSON, error JSON.
 * Request bodies are written with ' for " (see jt_dq() in job_test_util.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "job_test_util.h"
#include "tap.h"

static const char *resolve(void *ctx, const char *name)
{
    static const char *const table[][2] = {{"python", "python"}, {"py", "python"}, {"c", "c"}};
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(name, table[i][0]) == 0)
            return table[i][1];
    return NULL;
}

static int queue_exists(void *ctx, const char *q)
{
    return strcmp(q, "default") == 0 || strcmp(q, "fast") == 0;
}

static struct job_policy policy(void)
{
    struct job_policy p = {.resolve_language = resolve, .queue_exists = queue_exists};

    /* cpu_ms, wall_ms, memory_kb, pids, output_kb, file_size_kb */
    p.maximum = (struct config_limits){10000, 20000, 262144, 64, 1024, 2048};
    p.max_source_bytes = 100;
    p.max_stdin_bytes = 50;
    p.max_files = 4;
    p.max_args = 3;
    p.max_metadata_bytes = 20;
    return p;
}

/* How much of a request body an assertion's name shows. */
#define DESC_WIDTH 60

/* Acceptance (status 0) or a rejection with this status, code and field (jt_expect). */
static void expect(struct tap *t, const struct job_policy *p, const char *sq, int status,
                   const char *code, const char *field)
{
    jt_expect(t, p, sq, status, code, field, DESC_WIDTH);
}

static int bytes_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int str_equal(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The batch-grading parts of two specs. */
static int graded_equal(const struct job_spec *a, const struct job_spec *b)
{
    const struct job_checker *x = &a->checker, *y = &b->checker;
    size_t i;

    if (a->ntests != b->ntests || x->opts.kind != y->opts.kind ||
        x->opts.abs_tol != y->opts.abs_tol || x->opts.rel_tol != y->opts.rel_tol ||
        !str_equal(x->language, y->language) ||
        !bytes_equal(x->source, x->source_len, y->source, y->source_len) ||
        a->grading.scoring != b->grading.scoring ||
        a->grading.stop_on_failure != b->grading.stop_on_failure)
        return 0;
    for (i = 0; i < a->ntests; i++) {
        const struct job_test *p = &a->tests[i], *q = &b->tests[i];
        if (!str_equal(p->name, q->name) || !str_equal(p->group, q->group) ||
            p->points != q->points ||
            !bytes_equal(p->stdin_data, p->stdin_len, q->stdin_data, q->stdin_len) ||
            !bytes_equal(p->expected, p->expected_len, q->expected, q->expected_len))
            return 0;
    }
    return 1;
}

/* Every field of a and b equal (a jt_same_fn: to_json -> text -> from_json gives the same
 * job). */
static int spec_equal(const struct job_spec *a, const struct job_spec *b, const json_t *j)
{
    size_t i;

    if (strcmp(a->language, b->language) != 0 || a->nfiles != b->nfiles ||
        a->has_stdin != b->has_stdin || a->stdin_len != b->stdin_len || a->nargs != b->nargs ||
        memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0 || strcmp(a->queue, b->queue) != 0 ||
        a->priority != b->priority || !graded_equal(a, b))
        return 0;
    for (i = 0; i < a->nfiles; i++) {
        const struct job_file *x = &a->files[i], *y = &b->files[i];
        if ((!x->name != !y->name) || (x->name && strcmp(x->name, y->name) != 0) ||
            x->len != y->len || memcmp(x->data, y->data, x->len) != 0)
            return 0;
    }
    if (a->has_stdin && memcmp(a->stdin_data, b->stdin_data, a->stdin_len) != 0)
        return 0;
    for (i = 0; i < a->nargs; i++)
        if (strcmp(a->args[i], b->args[i]) != 0)
            return 0;
    return a->metadata && b->metadata ? json_equal(a->metadata, b->metadata)
                                      : a->metadata == b->metadata;
}

/* Pieces of request bodies. */
#define CX "{'language': 'c', 'source': 'x', "
#define CF "{'language': 'c', 'files': ["
#define FA "{'name': 'a', 'content': ''}"
#define F4                                                                                         \
    FA ", {'name': 'b', 'content': ''}, {'name': 'c', 'content': ''}, "                            \
       "{'name': 'd', 'content': ''}"
#define INVALID 400, "invalid_field"
#define BAD_JSON 400, "invalid_json"

static void test_full_job(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;
    json_t *j, *f1;
    int r;

    r = jt_parse(&p,
                 "{'language': 'py', 'files': [{'name': 'main.py', 'content': 'print(1)\\n'},"
                 " {'name': 'data/in.bin', 'encoding': 'base64', 'content': 'AP8A'},"
                 " {'name': 'lib/u.py', 'encoding': 'utf8', 'content': 'x = \\u00e9'}],"
                 " 'stdin': 'a\\u0000b', 'args': ['-v', ''],"
                 " 'limits': {'cpu_ms': 1000, 'wall_ms': 2000, 'memory_kb': 65536, 'pids': 8,"
                 " 'output_kb': 64, 'file_size_kb': 128},"
                 " 'queue': 'fast', 'priority': 0, 'metadata': {'id': [1, 'z']}}",
                 &s, &e);
    if (!tap_ok(t, r == 0, "full job accepted: %s", e.message))
        return;
    tap_ok(t,
           s.nfiles == 3 && strcmp(s.files[0].name, "main.py") == 0 && s.files[0].len == 9 &&
               memcmp(s.files[0].data, "print(1)\n", 9) == 0,
           "utf8 file kept as is");
    tap_ok(t,
           s.files[1].len == 3 && memcmp(s.files[1].data, "\0\xff\0", 3) == 0 &&
               s.files[2].len == 6 && memcmp(s.files[2].data, "x = \xc3\xa9", 6) == 0,
           "base64 file decoded with its NUL bytes; explicit utf8 kept");
    tap_ok(t, s.has_stdin && s.stdin_len == 3 && memcmp(s.stdin_data, "a\0b", 3) == 0,
           "stdin with a NUL byte");
    tap_ok(t, s.nargs == 2 && strcmp(s.args[0], "-v") == 0 && s.args[1][0] == '\0', "args");
    tap_ok(t,
           s.limits.cpu_ms == 1000 && s.limits.wall_ms == 2000 && s.limits.memory_kb == 65536 &&
               s.limits.pids == 8 && s.limits.output_kb == 64 && s.limits.file_size_kb == 128,
           "all six limits");
    tap_ok(t, strcmp(s.language, "python") == 0 && strcmp(s.queue, "fast") == 0 && s.priority == 0,
           "alias py resolved to python; queue and priority 0");
    tap_ok(t, json_is_object(s.metadata) && json_array_size(json_object_get(s.metadata, "id")) == 2,
           "metadata kept");

    j = job_spec_to_json(&s);
    f1 = json_array_get(json_object_get(j, "files"), 1);
    tap_ok(t,
           json_integer_value(json_object_get(j, "version")) == 1 &&
               strcmp(json_string_value(json_object_get(f1, "data")), "AP8A") == 0 &&
               strcmp(json_string_value(json_object_get(j, "stdin")), "YQBi") == 0 &&
               json_object_size(json_object_get(j, "limits")) == 6,
           "canonical JSON: version 1, contents and stdin in base64");
    json_decref(j);
    tap_ok(t, jt_round_trip(&s, spec_equal),
           "parse -> to_json -> text -> from_json gives the same job");
    job_spec_free(&s);
    tap_ok(t, jt_is_zero(&s), "job_spec_free zeroes the spec");
    job_spec_free(&s);
}

static void test_source(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;
    json_t *j, *f0;

    if (!tap_ok(t, jt_parse(&p, "{'language': 'c', 'source': 'int main(){}'}", &s, &e) == 0,
                "source job accepted"))
        return;
    tap_ok(t,
           s.nfiles == 1 && s.files[0].name == NULL && s.files[0].len == 12 &&
               memcmp(s.files[0].data, "int main(){}", 12) == 0,
           "source becomes one unnamed file");
    tap_ok(t,
           strcmp(s.queue, "default") == 0 && s.priority == 5 && !s.has_stdin && !s.stdin_data &&
               s.nargs == 0 && !s.args && !s.metadata && s.limits.cpu_ms == 0,
           "defaults: queue default, priority 5, no stdin/args/metadata/limits");
    j = job_spec_to_json(&s);
    f0 = json_array_get(json_object_get(j, "files"), 0);
    tap_ok(t,
           json_is_null(json_object_get(f0, "name")) && !json_object_get(j, "stdin") &&
               !json_object_get(j, "metadata"),
           "canonical: null name, no stdin or metadata keys");
    json_decref(j);
    tap_ok(t, jt_round_trip(&s, spec_equal), "source job round trip (null name)");
    job_spec_free(&s);
}

static void test_names(struct tap *t)
{
    static const char *const bad[] = {
        "",   "/etc/passwd", "..",    "../x", "a/../b",    "a/..",  "a//b",
        "a/", "./a",         "a/./b", ".",    "a\\u0000b", "a\\nb", "a\\u007fb",
    };
    static const char *const good[] = {"a/b/c.txt", "..a", "a..", ".hidden", "a b", "\\u00e9.c"};
    struct job_policy p = policy();
    char body[700], name[300];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), CF FA ", {'name': '%s', 'content': ''}]}", bad[i]);
        expect(t, &p, body, 400, "invalid_field", "files[1].name");
    }
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(body, sizeof(body), CF "{'name': '%s', 'content': ''}]}", good[i]);
        expect(t, &p, body, 0, "", "");
    }
    for (i = 255; i <= 256; i++) { /* JOB_NAME_MAX and one over */
        memset(name, 'n', i);
        name[i] = '\0';
        snprintf(body, sizeof(body), CF "{'name': '%s', 'content': ''}]}", name);
        if (i == 255)
            expect(t, &p, body, 0, "", "");
        else
            expect(t, &p, body, 400, "invalid_field", "files[0].name");
    }
}

static const struct jt_case requests[] = {
    {"{'language': 'c', 'source': ''}", 0, "", ""},
    {CX "'foo': 1}", INVALID, "foo"},
    {"{'foo': 1, 'language': 'nope'}", INVALID, "foo"},
    {"{'source': 'x'}", INVALID, "language"},
    {"{'language': 7, 'source': 'x'}", INVALID, "language"},
    {"{'language': '', 'source': 'x'}", INVALID, "language"},
    {"{'language': 'cobol', 'source': 'x'}", 422, "unknown_language", "language"},
    {"{'language': 'cobol', 'source': 7}", 422, "unknown_language", "language"},
    {CX "'files': [" FA "]}", INVALID, "source"},
    {"{'language': 'c'}", INVALID, "source"},
    {"{'language': 'c', 'source': null}", INVALID, "source"},
    {CF "]}", INVALID, "files"},
    {"{'language': 'c', 'files': {}}", INVALID, "files"},
    {CF "'a']}", INVALID, "files[0]"},
    {CF "{'content': ''}]}", INVALID, "files[0].name"},
    {CF "{'name': 1, 'content': ''}]}", INVALID, "files[0].name"},
    {CF "{'name': 'a'}]}", INVALID, "files[0].content"},
    {CF "{'name': 'a', 'content': 1}]}", INVALID, "files[0].content"},
    {CF "{'name': 'a', 'content': '', 'mode': 1}]}", INVALID, "files[0].mode"},
    {CF "{'name': 'a', 'content': '', 'encoding': 'latin1'}]}", INVALID, "files[0].encoding"},
    {CF "{'name': 'a', 'content': '', 'encoding': 'utf8\\u0000'}]}", INVALID, "files[0].encoding"},
    {CF FA ", {'name': 'b', 'content': 'Zm9', 'encoding': 'base64'}]}", INVALID,
     "files[1].content"},
    {CF "{'name': 'b', 'content': 'Zm9*', 'encoding': 'base64'}]}", INVALID, "files[0].content"},
    {CF FA ", {'name': 'b', 'content': ''}, " FA "]}", INVALID, "files[2].name"},
    {CF FA ", {'name': 'a/b', 'content': ''}]}", INVALID, "files[1].name"},
    {CF "{'name': 'a/b', 'content': ''}, {'name': 'a.txt', 'content': ''}, " FA "]}", INVALID,
     "files[2].name"},
    {CF "{'name': 'a/b', 'content': ''}, {'name': 'a/c', 'content': ''}, {'name': 'ab',"
        " 'content': ''}]}",
     0, "", ""},
    {CX "'queue': 'slow'}", 422, "unknown_queue", "queue"},
    {CX "'queue': 'a b'}", INVALID, "queue"},
    {CX "'queue': ''}", INVALID, "queue"},
    {CX "'queue': 1}", INVALID, "queue"},
    {CX "'stdin': 1}", INVALID, "stdin"},
    {CX "'args': 'a'}", INVALID, "args"},
    {CX "'args': ['a', 2]}", INVALID, "args[1]"},
    {CX "'args': ['a\\u0000b']}", INVALID, "args[0]"},
    {CX "'metadata': {'a': ['\\u0000']}}", INVALID, "metadata"},
    {CX "'limits': []}", INVALID, "limits"},
    {CX "'limits': {'cpu': 1}}", INVALID, "limits.cpu"},
    {CX "'limits': {'cpu_ms': 0}}", INVALID, "limits.cpu_ms"},
    {CX "'limits': {'pids': -1}}", INVALID, "limits.pids"},
    {CX "'limits': {'wall_ms': 1.5}}", INVALID, "limits.wall_ms"},
    {CX "'limits': {'memory_kb': '64'}}", INVALID, "limits.memory_kb"},
    {CX "'priority': 0}", 0, "", ""},
    {CX "'priority': 9}", 0, "", ""},
    {CX "'priority': -1}", INVALID, "priority"},
    {CX "'priority': 10}", INVALID, "priority"},
    {CX "'priority': 5.0}", INVALID, "priority"},
    {CX "'priority': '5'}", INVALID, "priority"},
    {CX "'priority': true}", INVALID, "priority"},
    {CX "'priority': null}", INVALID, "priority"},
    {"", BAD_JSON, ""},
    {"{", BAD_JSON, ""},
    {"[]", BAD_JSON, ""},
    {"'job'", BAD_JSON, ""},
    {"{'language': 'c', 'source': 'x'} {}", BAD_JSON, ""},
    {"{'language': 'c', 'language': 'py', 'source': 'x'}", BAD_JSON, ""},
    {CX "'limits': {'pids': 99999999999999999999}}", BAD_JSON, ""},
};

static void test_errors(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;

    jt_expect_cases(t, &p, requests, sizeof(requests) / sizeof(requests[0]), DESC_WIDTH);
    jt_parse(&p, "{\n  'language': 'c',\n  'source': x\n}", &s, &e);
    tap_ok(t, e.status == 400 && strstr(e.message, "line 3, column "), "position in message: %s",
           e.message);
    tap_ok(t, job_spec_parse(NULL, 0, &p, &s, &e) == -EINVAL && strcmp(e.code, "invalid_json") == 0,
           "NULL body is invalid JSON");
    tap_ok(t, job_spec_parse("{\"language\":\"c\",\"source\":\"x\"}garbage", 29, &p, &s, &e) == 0,
           "only len bytes of the body are read");
    job_spec_free(&s);
    p.resolve_language = NULL;
    p.queue_exists = NULL;
    if (tap_ok(t, jt_parse(&p, "{'language': 'cobol', 'source': 'x', 'queue': 'any'}", &s, &e) == 0,
               "without callbacks, any well-formed language and queue"))
        tap_ok(t, strcmp(s.language, "cobol") == 0 && strcmp(s.queue, "any") == 0,
               "taken as given");
    job_spec_free(&s);
}

static void test_limits(struct tap *t)
{
    static const char *const keys[] = {"cpu_ms", "wall_ms",   "memory_kb",
                                       "pids",   "output_kb", "file_size_kb"};
    struct job_policy p = policy();
    const unsigned long long maxima[] = {p.maximum.cpu_ms,    p.maximum.wall_ms,
                                         p.maximum.memory_kb, p.maximum.pids,
                                         p.maximum.output_kb, p.maximum.file_size_kb};
    struct job_spec s;
    struct api_error e;
    char body[200], field[40];
    size_t i;

    for (i = 0; i < 6; i++) {
        snprintf(body, sizeof(body), CX "'limits': {'%s': %llu}}", keys[i], maxima[i]);
        expect(t, &p, body, 0, "", "");
        snprintf(body, sizeof(body), CX "'limits': {'%s': %llu}}", keys[i], maxima[i] + 1);
        snprintf(field, sizeof(field), "limits.%s", keys[i]);
        expect(t, &p, body, 422, "limit_too_high", field);
    }
    p.maximum.pids = 0;
    if (tap_ok(t, jt_parse(&p, CX "'limits': {'pids': 1000000}}", &s, &e) == 0,
               "a maximum of 0 means no maximum for that key"))
        tap_ok(t, s.limits.pids == 1000000, "value kept");
    job_spec_free(&s);
}

/* body = head + n times c + tail (no ' conversion); asserts status/field, 0 for success. */
static void expect_sized(struct tap *t, const struct job_policy *p, const char *head, char c,
                         size_t n, const char *tail, int status, const char *field,
                         const char *what)
{
    char *body = jt_repeat(head, c, n, tail);
    struct job_spec s;
    struct api_error e;
    int r = job_spec_parse(body, strlen(body), p, &s, &e);
    int ok = status ? r == -EINVAL && e.status == status && strcmp(e.field, field) == 0 : r == 0;

    if (!tap_ok(t, ok, "%s", what))
        tap_diag("r=%d %d %s \"%s\": %s", r, e.status, e.code, e.field, e.message);
    if (r == 0)
        job_spec_free(&s);
    free(body);
}

#define SRC "{\"language\":\"c\",\"source\":\""
#define F2                                                                                         \
    "{\"language\":\"c\",\"files\":[{\"name\":\"a\",\"content\":\"12345\"},"                       \
    "{\"name\":\"b\",\"content\":\""
#define B64 "{\"language\":\"c\",\"files\":[{\"name\":\"a\",\"encoding\":\"base64\",\"content\":\""

static void test_sizes(struct tap *t)
{
    struct job_policy p = policy();

    expect_sized(t, &p, SRC, 'x', 100, "\"}", 0, "", "source of exactly max_source_bytes");
    expect_sized(t, &p, SRC, 'x', 101, "\"}", 413, "source", "source one byte over");
    expect_sized(t, &p, B64, 'A', 132, "\"}]}", 0, "", "base64 decoding to exactly 99 bytes");
    expect_sized(t, &p, B64, 'A', 134, "==\"}]}", 0, "", "base64 decoding to exactly 100 bytes");
    expect_sized(t, &p, B64, 'A', 135, "=\"}]}", 413, "files", "base64 decoding to 101 bytes");
    expect_sized(t, &p, F2, 'x', 95, "\"}]}", 0, "", "files sum at max");
    expect_sized(t, &p, F2, 'x', 96, "\"}]}", 413, "files", "files sum one over");
    expect_sized(t, &p, SRC "\",\"stdin\":\"", 's', 50, "\"}", 0, "", "stdin at max");
    expect_sized(t, &p, SRC "\",\"stdin\":\"", 's', 51, "\"}", 413, "stdin", "stdin one over");
    /* "metadata": "xxx..." serializes to n + 2 bytes */
    expect_sized(t, &p, SRC "\",\"metadata\":\"", 'm', 18, "\"}", 0, "", "metadata at max");
    expect_sized(t, &p, SRC "\",\"metadata\":\"", 'm', 19, "\"}", 413, "metadata",
                 "metadata one over");
    expect(t, &p, "{'language': 'c', 'source': '', 'args': ['1', '2', '3']}", 0, "", "");
    expect(t, &p, "{'language': 'c', 'source': '', 'args': ['1', '2', '3', '4']}", 413,
           "payload_too_large", "args");
    expect(t, &p, CF F4 "]}", 0, "", "");
    expect(t, &p, CF F4 ", {'name': 'e', 'content': ''}]}", 413, "payload_too_large", "files");
    p.max_body_bytes = strlen(SRC) + 12;
    expect_sized(t, &p, SRC, 'x', 10, "\"}", 0, "", "body of exactly max_body_bytes");
    expect_sized(t, &p, SRC, 'x', 11, "\"}", 413, "", "body one byte over");
}

static void test_huge_and_deep(struct tap *t)
{
    struct job_policy p = policy();
    const size_t ten_mb = 10u << 20;
    struct job_spec s;
    struct api_error e;
    char *body, *c;
    size_t i;
    FILE *m;
    int r;

    p.max_source_bytes = 1u << 20;
    /* '!' is not base64: a 413 (not a 400) shows the size was checked before decoding */
    expect_sized(t, &p, B64, '!', ten_mb, "\"}]}", 413, "files", "10 MB base64 refused undecoded");
    expect_sized(t, &p, SRC, 'x', ten_mb, "\"}", 413, "source", "10 MB source refused");
    p.max_body_bytes = 1u << 20;
    expect_sized(t, &p, "{", '[', ten_mb, "", 413, "", "10 MB body refused before parsing");
    p = policy();
    p.max_metadata_bytes = 0;
    expect_sized(t, &p, SRC "\",\"metadata\":", '[', 100000, "", 400, "",
                 "100000-deep nesting is invalid JSON, no crash");
    c = jt_repeat("", ']', 2000, "}");
    body = jt_repeat(SRC "\",\"metadata\":", '[', 2000, c);
    free(c);
    if (tap_ok(t, job_spec_parse(body, strlen(body), &p, &s, &e) == 0, "2000-deep metadata"))
        tap_ok(t, jt_round_trip(&s, spec_equal), "2000-deep metadata round trip");
    job_spec_free(&s);
    free(body);
    p.max_files = 0;
    m = open_memstream(&body, &i);
    fputs("{\"language\":\"c\",\"files\":[", m);
    for (i = 0; i < 5000; i++)
        fprintf(m, "{\"name\":\"d%zu/f%zu\",\"content\":\"\"},", i % 7, i);
    fputs("{\"name\":\"d2/f1234/x\",\"content\":\"\"}]}", m);
    fclose(m);
    r = job_spec_parse(body, strlen(body), &p, &s, &e);
    if (!tap_ok(t, r == -EINVAL && strcmp(e.field, "files[5000].name") == 0,
                "5001 files: the clash at the end is found"))
        tap_diag("%s \"%s\": %s", e.code, e.field, e.message);
    free(body);
}

/* A valid canonical job with `top` merged into it, `file0` merged into files[0] and the key
 * `drop` removed; field NULL: expect success, else a 400 naming field. */
static void expect_canon_err(struct tap *t, const char *top, const char *file0, const char *drop,
                             const char *field)
{
    json_t *j = jt_patched("{'version': 1, 'language': 'c', 'files': [{'name': 'a', 'data':"
                           " 'eA=='}, {'name': 'b', 'data': ''}], 'args': [], 'limits': {},"
                           " 'queue': 'q', 'priority': 5}",
                           top, "files", file0);
    struct job_spec s;
    struct api_error e;
    int r, ok;

    if (drop)
        json_object_del(j, drop);
    r = job_spec_from_json(j, &s, &e);
    ok = field ? r == -EINVAL && e.status == 400 && strcmp(e.field, field) == 0 && jt_is_zero(&s)
               : r == 0 && s.nfiles == 2 && s.files[0].len == 1 && s.files[0].data[0] == 'x';
    if (!tap_ok(t, ok, "canonical: %s", field ? field : "the valid form is read"))
        tap_diag("r=%d %s \"%s\": %s", r, e.code, e.field, e.message);
    job_spec_free(&s);
    json_decref(j);
}

static void test_from_json(struct tap *t)
{
    struct job_spec s;
    struct api_error e;
    json_t *arr = json_array();

    expect_canon_err(t, NULL, NULL, NULL, NULL);
    expect_canon_err(t, "{'extra': 1}", NULL, NULL, "extra");
    expect_canon_err(t, NULL, NULL, "queue", "queue");
    expect_canon_err(t, NULL, NULL, "limits", "limits");
    expect_canon_err(t, "{'version': 2}", NULL, NULL, "version");
    expect_canon_err(t, "{'source': 'x'}", NULL, NULL, "source");
    expect_canon_err(t, "{'stdin': 'abc'}", NULL, NULL, "stdin");
    expect_canon_err(t, "{'priority': 10}", NULL, NULL, "priority");
    expect_canon_err(t, "{'queue': 'a:b'}", NULL, NULL, "queue");
    expect_canon_err(t, "{'limits': {'cpu_ms': 0}}", NULL, NULL, "limits.cpu_ms");
    expect_canon_err(t, "{'files': []}", NULL, NULL, "files");
    expect_canon_err(t, NULL, "{'data': '!!!!'}", NULL, "files[0].data");
    expect_canon_err(t, NULL, "{'name': '../etc/passwd'}", NULL, "files[0].name");
    expect_canon_err(t, NULL, "{'name': 'b'}", NULL, "files[1].name");
    expect_canon_err(t, NULL, "{'name': null}", NULL, "files[0].name");
    expect_canon_err(t, NULL, "{'content': 'x'}", NULL, "files[0].content");
    tap_ok(t, job_spec_from_json(arr, &s, &e) == -EINVAL && e.status == 400 && jt_is_zero(&s),
           "canonical: an array is rejected");
    json_decref(arr);
}

static void test_error_json(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;
    char body[700], name[300];
    json_t *j, *want;
    char *text;

    jt_parse(&p, CF FA ", " FA "]}", &s, &e);
    j = api_error_to_json(&e);
    want = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid_field", "message", e.message,
                     "field", "files[1].name");
    tap_ok(t, j && json_equal(j, want), "error JSON: code, message, field");
    json_decref(want);
    json_decref(j);
    jt_parse(&p, "{", &s, &e);
    j = api_error_to_json(&e);
    want = json_pack("{s:{s:s, s:s}}", "error", "code", "invalid_json", "message", e.message);
    tap_ok(t, j && json_equal(j, want), "error JSON: an empty field is left out");
    json_decref(want);
    json_decref(j);
    /* "x" + 127 x "é": the message is cut at 255 bytes in the middle of an "é" */
    strcpy(name, "x");
    for (int i = 0; i < 127; i++)
        strcat(name, "\xc3\xa9");
    snprintf(body, sizeof(body),
             CF "{'name': '%s', 'content': ''}, {'name': '%s', 'content': ''}]}", name, name);
    jt_parse(&p, body, &s, &e);
    j = api_error_to_json(&e);
    text = json_dumps(j, 0);
    tap_ok(t, strlen(e.message) == 255 && text && strstr(text, "used twice") == NULL,
           "truncated message still makes valid error JSON");
    free(text);
    json_decref(j);
}

/* Batch grading in the whole-spec round trip (test_job_grading.c covers the fields). */
static void test_graded(struct tap *t)
{
    struct job_policy p = policy();
    struct job_spec s;
    struct api_error e;

    if (tap_ok(t,
               jt_parse(&p,
                        CX "'tests': [{'stdin': '1', 'expected_output': '1\\n', 'points': 0.5,"
                           " 'group': 'g'}, {'name': 'b', 'stdin': {'content': 'AA==', 'encoding':"
                           " 'base64'}, 'expected_output': ''}], 'checker': {'type': 'custom',"
                           " 'language': 'py', 'source': 's'}, 'grading': {'stop_on_failure':"
                           " true}, 'metadata': 1}",
                        &s, &e) == 0,
               "graded job accepted: %s", e.message))
        tap_ok(t, jt_round_trip(&s, spec_equal) && s.ntests == 2 && s.tests[1].stdin_len == 1,
               "graded job round trip, every field equal");
    job_spec_free(&s);
    expect(t, &p, CX "'stdin': 'x', 'tests': [{'expected_output': ''}]}", INVALID, "stdin");
    expect(t, &p, CX "'checker': 'exact'}", INVALID, "checker");
}

int main(void)
{
    struct tap t = {0};

    test_full_job(&t);
    test_source(&t);
    test_names(&t);
    test_errors(&t);
    test_limits(&t);
    test_sizes(&t);
    test_huge_and_deep(&t);
    test_from_json(&t);
    test_error_json(&t);
    test_graded(&t);
    return tap_done(&t);
}
