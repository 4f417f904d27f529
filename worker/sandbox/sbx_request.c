/* SPDX-License-Identifier: MIT */
#include "sbx_request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

#define MAX_STRINGS 4096

static const struct {
    const char *name;
    size_t offset;
} limit_fields[] = {
    {"cpu_ms", offsetof(struct sbx_limits, cpu_ms)},
    {"wall_ms", offsetof(struct sbx_limits, wall_ms)},
    {"memory_bytes", offsetof(struct sbx_limits, memory_bytes)},
    {"processes", offsetof(struct sbx_limits, processes)},
    {"output_bytes", offsetof(struct sbx_limits, output_bytes)},
    {"file_bytes", offsetof(struct sbx_limits, file_bytes)},
    {"open_files", offsetof(struct sbx_limits, open_files)},
    {"stack_bytes", offsetof(struct sbx_limits, stack_bytes)},
    {"address_space", offsetof(struct sbx_limits, address_space)},
    {"tmp_bytes", offsetof(struct sbx_limits, tmp_bytes)},
    {"box_bytes", offsetof(struct sbx_limits, box_bytes)},
};
#define NLIMITS (sizeof(limit_fields) / sizeof(limit_fields[0]))

static uint64_t *limit_at(struct sbx_limits *l, size_t i)
{
    return (uint64_t *)(void *)((char *)l + limit_fields[i].offset);
}

/* A NULL-terminated copy of a JSON array of strings; NULL on a type error (*bad set) or OOM. */
static char **string_array(const json_t *a, int *bad)
{
    size_t i, n = json_array_size(a);
    char **out;

    if (!json_is_array(a) || n > MAX_STRINGS) {
        *bad = 1;
        return NULL;
    }
    out = calloc(n + 1, sizeof(*out));
    for (i = 0; out && i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(out[i] = strdup(s))) {
            *bad = !s;
            while (i > 0)
                free(out[--i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void free_strings(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int parse_limits(const json_t *j, struct sbx_limits *l, const char **field)
{
    const char *key;
    json_t *v;
    size_t i;

    sbx_limits_default(l);
    if (!j)
        return 0;
    if (!json_is_object(j))
        return *field = "limits", -EINVAL;
    json_object_foreach((json_t *)j, key, v) {
        for (i = 0; i < NLIMITS && strcmp(key, limit_fields[i].name) != 0; i++)
            ;
        if (i == NLIMITS || !json_is_integer(v) || json_integer_value(v) < 0)
            return *field = i == NLIMITS ? "limits" : limit_fields[i].name, -EINVAL;
        *limit_at(l, i) = (uint64_t)json_integer_value(v);
    }
    return sbx_limits_validate(l, field);
}

/* The raw bytes after a request's JSON ("at" ranges point into them). */
struct attachment {
    const unsigned char *bytes;
    size_t len;
};

/* A copy of one piece of data: a base64 string, or an [offset, length] range of the
 * attachment. Copied because the request outlives the frame it came in. */
static int data_of(const json_t *b64, const json_t *at, const struct attachment *a,
                   unsigned char **data, size_t *len)
{
    const char *s = json_string_value(b64);
    json_int_t off, n;

    if (!at)
        return s ? base64_decode(s, strlen(s), data, len) : -EINVAL;
    off = json_integer_value(json_array_get(at, 0));
    n = json_integer_value(json_array_get(at, 1));
    if (b64 || json_array_size(at) != 2 || !json_is_integer(json_array_get(at, 0)) ||
        !json_is_integer(json_array_get(at, 1)) || off < 0 || n < 0 ||
        (size_t)off > a->len || (size_t)n > a->len - (size_t)off)
        return -EINVAL;
    *data = malloc((size_t)n + 1); /* + 1: an empty range is still a valid pointer */
    if (!*data)
        return -ENOMEM;
    if (n)
        memcpy(*data, a->bytes + off, (size_t)n);
    *len = (size_t)n;
    return 0;
}

static int parse_files(const json_t *a, const struct attachment *att, struct sbx_request *r,
                       const char **field)
{
    size_t i, n = json_array_size(a);

    if (!a)
        return 0;
    if (!json_is_array(a) || n > MAX_STRINGS)
        return *field = "files", -EINVAL;
    r->files = calloc(n ? n : 1, sizeof(*r->files));
    if (!r->files)
        return -ENOMEM;
    for (i = 0; i < n; i++, r->spec.nfiles++) {
        const json_t *f = json_array_get(a, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        unsigned char *data = NULL;
        size_t len = 0;
        int e;
        if (!name || !sbx_box_name_valid(name))
            return *field = "files", -EINVAL;
        e = data_of(json_object_get(f, "base64"), json_object_get(f, "at"), att, &data, &len);
        if (e < 0)
            return *field = "files", e;
        r->files[i].data = data;
        r->files[i].len = len;
        r->files[i].executable = json_is_true(json_object_get(f, "executable"));
        if (!(r->files[i].name = strdup(name)))
            return -ENOMEM;
    }
    r->spec.files = r->files;
    return 0;
}

static int parse_body(const json_t *j, const struct attachment *att, struct sbx_request *r,
                      const char **field)
{
    const json_t *v;
    int bad = 0, e;

    r->argv = string_array(json_object_get(j, "argv"), &bad);
    if (!r->argv || !r->argv[0])
        return *field = "argv", bad || r->argv ? -EINVAL : -ENOMEM;
    r->spec.argv = r->argv;
    if ((v = json_object_get(j, "env")) != NULL) {
        if (!(r->envp = string_array(v, &bad)))
            return *field = "env", bad ? -EINVAL : -ENOMEM;
        r->spec.envp = r->envp;
    }
    if ((e = parse_limits(json_object_get(j, "limits"), &r->spec.limits, field)) < 0)
        return e;
    v = json_object_get(j, "stdin");
    if (v || json_object_get(j, "stdin_at")) {
        if ((e = data_of(v, json_object_get(j, "stdin_at"), att, &r->stdin_data,
                         &r->spec.stdin_len)) < 0)
            return *field = "stdin", e;
        r->spec.stdin_data = r->stdin_data;
    }
    r->stream = json_is_true(json_object_get(j, "stream"));
    if ((e = parse_files(json_object_get(j, "files"), att, r, field)) < 0)
        return e;
    if ((v = json_object_get(j, "collect")) != NULL) {
        size_t i;
        if (!(r->collect = string_array(v, &bad)))
            return *field = "collect", bad ? -EINVAL : -ENOMEM;
        for (i = 0; r->collect[i]; i++)
            if (!sbx_box_name_valid(r->collect[i]))
                return *field = "collect", -EINVAL;
        r->spec.collect = (const char *const *)r->collect;
        r->spec.ncollect = i;
    }
    return 0;
}

int sbx_request_decode(const char *payload, size_t len, struct sbx_request *out,
                       const char **field)
{
    const char *nul = memchr(payload, '\0', len);
    size_t json_len = nul ? (size_t)(nul - payload) : len;
    struct attachment att = {NULL, 0};
    json_t *j = json_loadb(payload, json_len, 0, NULL);
    int e;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        json_decref(j);
        *field = "request";
        return -EINVAL;
    }
    if (nul) {
        att.bytes = (const unsigned char *)nul + 1;
        att.len = len - json_len - 1;
    }
    e = parse_body(j, &att, out, field);
    json_decref(j);
    if (e < 0)
        sbx_request_free(out);
    return e;
}

void sbx_request_free(struct sbx_request *r)
{
    size_t i;

    free_strings(r->argv);
    free_strings(r->envp);
    free_strings(r->collect);
    for (i = 0; r->files && i < r->spec.nfiles; i++) {
        free((void *)r->files[i].name);
        free((void *)r->files[i].data);
    }
    free(r->files);
    free(r->stdin_data);
    memset(r, 0, sizeof(*r));
}

static json_t *strings_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && (n ? i < n : v[i] != NULL); i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *range_json(size_t off, size_t len)
{
    return json_pack("[I, I]", (json_int_t)off, (json_int_t)len);
}

/* The JSON part, with "at" ranges laid out in the order of the attachment: files, stdin. */
static json_t *encode_json(const struct sbx_run_spec *spec, int stream)
{
    json_t *j = json_object(), *limits = json_object(), *files = json_array();
    struct sbx_limits l = spec->limits;
    size_t i, off = 0;
    int bad;

    /* Owned by j from here on, so every exit below frees exactly j. */
    bad = !j || !limits || !files || json_object_set(j, "limits", limits) < 0 ||
          json_object_set(j, "files", files) < 0;
    json_decref(limits);
    json_decref(files);
    for (i = 0; !bad && i < NLIMITS; i++)
        bad = json_object_set_new(limits, limit_fields[i].name,
                                  json_integer((json_int_t)*limit_at(&l, i))) < 0;
    for (i = 0; !bad && i < spec->nfiles; off += spec->files[i++].len)
        bad = json_array_append_new(
                  files, json_pack("{s:s, s:o, s:b}", "name", spec->files[i].name, "at",
                                   range_json(off, spec->files[i].len), "executable",
                                   spec->files[i].executable)) < 0;
    if (!bad)
        bad = json_object_set_new(j, "argv", strings_json(spec->argv, 0)) < 0;
    if (!bad && spec->envp)
        bad = json_object_set_new(j, "env", strings_json(spec->envp, 0)) < 0;
    if (!bad && spec->stdin_data)
        bad = json_object_set_new(j, "stdin_at", range_json(off, spec->stdin_len)) < 0;
    if (!bad && spec->ncollect)
        bad = json_object_set_new(j, "collect",
                                  strings_json((char *const *)spec->collect, spec->ncollect)) < 0;
    if (!bad && stream)
        bad = json_object_set_new(j, "stream", json_true()) < 0;
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int sbx_request_encode(const struct sbx_run_spec *spec, int stream, char **payload,
                       size_t *len)
{
    json_t *j = encode_json(spec, stream);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    size_t i, n = text ? strlen(text) + 1 : 0, total = n;
    char *p;

    json_decref(j);
    for (i = 0; i < spec->nfiles; i++)
        total += spec->files[i].len;
    if (spec->stdin_data)
        total += spec->stdin_len;
    p = text ? malloc(total) : NULL;
    if (!p) {
        free(text);
        return -ENOMEM;
    }
    memcpy(p, text, n); /* the JSON and its NUL */
    free(text);
    for (i = 0; i < spec->nfiles; n += spec->files[i++].len)
        if (spec->files[i].len) /* an empty file's data may be NULL */
            memcpy(p + n, spec->files[i].data, spec->files[i].len);
    if (spec->stdin_data && spec->stdin_len)
        memcpy(p + n, spec->stdin_data, spec->stdin_len);
    *payload = p;
    *len = total;
    return 0;
}
