/* SPDX-License-Identifier: MIT */
#include "job_field.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const struct {
    int status;
    const char *code;
} kinds[] = {
    [JOB_FIELD_EJSON] = {400, "invalid_json"},
    [JOB_FIELD_EINVALID] = {400, "invalid_field"},
    [JOB_FIELD_ETOOLARGE] = {413, "payload_too_large"},
    [JOB_FIELD_ELANGUAGE] = {422, "unknown_language"},
    [JOB_FIELD_ELIMIT] = {422, "limit_too_high"},
    [JOB_FIELD_EQUEUE] = {422, "unknown_queue"},
    [JOB_FIELD_ENOMEM] = {500, "internal_error"},
};

static const char *const limit_keys[] = {"cpu_ms",    "wall_ms",      "memory_kb", "pids",
                                         "output_kb", "file_size_kb", NULL};

/* Same order as limit_keys. */
static uint64_t *limit_ref(struct config_limits *l, size_t i)
{
    uint64_t *const refs[] = {&l->cpu_ms, &l->wall_ms,   &l->memory_kb,
                              &l->pids,   &l->output_kb, &l->file_size_kb};
    return refs[i];
}

static uint64_t limit_get(const struct config_limits *l, size_t i)
{
    struct config_limits copy = *l;

    return *limit_ref(&copy, i);
}

int job_field_fail(struct api_error *e, enum job_field_err k, const char *field, const char *fmt,
                   ...)
{
    va_list ap;

    e->status = kinds[k].status;
    e->code = kinds[k].code;
    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return k == JOB_FIELD_ENOMEM ? -ENOMEM : -EINVAL;
}

int job_field_nomem(struct api_error *e)
{
    return job_field_fail(e, JOB_FIELD_ENOMEM, "", "out of memory");
}

unsigned char *job_field_dup(const char *s, size_t n)
{
    unsigned char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int job_field_check_keys(const json_t *obj, const char *const *allowed, const char *prefix,
                         struct api_error *e)
{
    void *it;

    for (it = json_object_iter((json_t *)obj); it; it = json_object_iter_next((json_t *)obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t i;
        char f[64];

        for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
            ;
        if (!allowed[i]) {
            snprintf(f, sizeof(f), "%s%s", prefix, key);
            return job_field_fail(e, JOB_FIELD_EINVALID, f, "unknown field \"%s%s\"", prefix, key);
        }
    }
    return 0;
}

const json_t *job_field_need(const json_t *obj, const char *key, const char *field,
                             struct api_error *e)
{
    const json_t *v = json_object_get(obj, key);

    if (!v)
        job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" is required", field);
    return v;
}

int job_field_text(const json_t *v, const char *field, size_t max, const char **out,
                   struct api_error *e)
{
    size_t n;

    if (!json_is_string(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must be a string", field);
    n = json_string_length(v);
    if (memchr(json_string_value(v), '\0', n))
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must not contain NUL bytes",
                              field);
    if (max && n > max)
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" is longer than %zu bytes",
                              field, max);
    *out = json_string_value(v);
    return 0;
}

size_t job_field_base64_size(const char *text, size_t n)
{
    size_t pad = 0;

    if (n >= 4 && n % 4 == 0)
        pad = (text[n - 1] == '=') + (text[n - 2] == '=');
    return n / 4 * 3 - pad;
}

int job_field_base64(const json_t *v, const char *field, unsigned char **data, size_t *len,
                     struct api_error *e)
{
    int r;

    if (!json_is_string(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must be a base64 string",
                              field);
    r = base64_decode(json_string_value(v), json_string_length(v), data, len);
    if (r == -ENOMEM)
        return job_field_nomem(e);
    if (r < 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" is not valid base64", field);
    return 0;
}

const char *job_field_name_problem(const char *s, size_t n)
{
    size_t i, start = 0;

    if (n == 0)
        return "is empty";
    if (n > JOB_NAME_MAX)
        return "is longer than 255 bytes";
    if (s[0] == '/')
        return "must be a relative path (no leading \"/\")";
    for (i = 0; i <= n; i++) {
        if (i < n && s[i] == '\0')
            return "contains a NUL byte";
        if (i < n && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
            return "contains a control character";
        if (i == n || s[i] == '/') {
            size_t c = i - start;
            if (c == 0)
                return "has an empty path component";
            if ((c == 1 && s[start] == '.') || (c == 2 && s[start] == '.' && s[start + 1] == '.'))
                return "has a \".\" or \"..\" component";
            start = i + 1;
        }
    }
    return NULL;
}

int job_field_name(const json_t *v, const char *field, int allow_null, char **out,
                   struct api_error *e)
{
    const char *why;

    if (allow_null && json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must be a string", field);
    why = job_field_name_problem(json_string_value(v), json_string_length(v));
    if (why)
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "file name %s", why);
    *out = strdup(json_string_value(v));
    return *out ? 0 : job_field_nomem(e);
}

/* Orders paths component by component ("/" sorts before every other byte), so that a name
 * and the names inside it as a directory ("a", "a/b") end up next to each other. */
static int path_cmp(const void *pa, const void *pb)
{
    const unsigned char *a = (const unsigned char *)(*(const struct job_file *const *)pa)->name;
    const unsigned char *b = (const unsigned char *)(*(const struct job_file *const *)pb)->name;

    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (*a == '/' ? 1 : *a ? *a + 1 : 0) - (*b == '/' ? 1 : *b ? *b + 1 : 0);
}

/* Sorting makes this O(n log n): max_files may be 0 (no maximum). */
int job_field_unique_names(const struct job_spec *s, struct api_error *e)
{
    const struct job_file **v;
    size_t i;
    int r = 0;

    if (s->nfiles < 2)
        return 0;
    if (!(v = calloc(s->nfiles, sizeof(*v))))
        return job_field_nomem(e);
    for (i = 0; i < s->nfiles; i++)
        v[i] = &s->files[i];
    qsort(v, s->nfiles, sizeof(*v), path_cmp);
    for (i = 0; r == 0 && i + 1 < s->nfiles; i++) {
        const char *a = v[i]->name, *b = v[i + 1]->name;
        size_t la = strlen(a), ia = (size_t)(v[i] - s->files), ib = (size_t)(v[i + 1] - s->files);
        char f[64];

        if (strncmp(a, b, la) != 0 || (b[la] != '\0' && b[la] != '/'))
            continue;
        snprintf(f, sizeof(f), "files[%zu].name", ia > ib ? ia : ib);
        if (b[la] == '\0')
            r = job_field_fail(e, JOB_FIELD_EINVALID, f, "file name \"%s\" is used twice", a);
        else
            r = job_field_fail(e, JOB_FIELD_EINVALID, f,
                               "\"%s\" is a file, so \"%s\" cannot be inside it", a, b);
    }
    free(v);
    return r;
}

/* *dst: the non-empty language name v, resolved by p->resolve_language when p has one. */
static int language_at(const json_t *v, const struct job_policy *p, const char *field, char **dst,
                       struct api_error *e)
{
    const char *name, *canon;
    int r = job_field_text(v, field, JOB_LANGUAGE_MAX, &name, e);

    if (r < 0)
        return r;
    if (!*name)
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must not be empty", field);
    canon = p && p->resolve_language ? p->resolve_language(p->ctx, name) : name;
    if (!canon)
        return job_field_fail(e, JOB_FIELD_ELANGUAGE, field, "unknown language \"%s\"", name);
    *dst = strdup(canon);
    return *dst ? 0 : job_field_nomem(e);
}

int job_field_language(const json_t *v, const struct job_policy *p, struct job_spec *out,
                       struct api_error *e)
{
    return language_at(v, p, "language", &out->language, e);
}

int job_field_args(const json_t *v, size_t max, struct job_spec *out, struct api_error *e)
{
    size_t i;
    int r;

    if (!json_is_array(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "args",
                              "\"args\" must be an array of strings");
    if (max && json_array_size(v) > max)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "args", "%zu args, the maximum is %zu",
                              json_array_size(v), max);
    if (json_array_size(v) == 0)
        return 0;
    if (!(out->args = calloc(json_array_size(v), sizeof(*out->args))))
        return job_field_nomem(e);
    out->nargs = json_array_size(v);
    for (i = 0; i < out->nargs; i++) {
        const char *s;
        char f[32];

        snprintf(f, sizeof(f), "args[%zu]", i);
        if ((r = job_field_text(json_array_get(v, i), f, 0, &s, e)) < 0)
            return r;
        if (!(out->args[i] = strdup(s)))
            return job_field_nomem(e);
    }
    return 0;
}

int job_field_limits(const json_t *v, const struct config_limits *max, struct config_limits *out,
                     struct api_error *e)
{
    size_t i;
    int r;

    if (!json_is_object(v))
        return job_field_fail(e, JOB_FIELD_EINVALID, "limits", "\"limits\" must be an object");
    if ((r = job_field_check_keys(v, limit_keys, "limits.", e)) < 0)
        return r;
    for (i = 0; limit_keys[i]; i++) {
        const json_t *x = json_object_get(v, limit_keys[i]);
        uint64_t val, m = max ? limit_get(max, i) : 0;
        char f[32];

        if (!x)
            continue;
        snprintf(f, sizeof(f), "limits.%s", limit_keys[i]);
        if (!json_is_integer(x) || json_integer_value(x) < 1)
            return job_field_fail(e, JOB_FIELD_EINVALID, f, "\"%s\" must be a positive integer", f);
        val = (uint64_t)json_integer_value(x);
        if (m && val > m)
            return job_field_fail(e, JOB_FIELD_ELIMIT, f,
                                  "\"%s\" is %" PRIu64 ", the maximum is %" PRIu64, f, val, m);
        *limit_ref(out, i) = val;
    }
    return 0;
}

json_t *job_field_limits_json(const struct config_limits *l)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o && limit_keys[i]; i++) {
        uint64_t v = limit_get(l, i);
        /* Values come from JSON integers, so they fit; the cast only matters for hand-made
         * specs, where a value above INT64_MAX would turn negative and fail on reading. */
        if (v && json_object_set_new(o, limit_keys[i], json_integer((json_int_t)v)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int queue_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int job_field_queue(const json_t *v, struct job_spec *out, struct api_error *e)
{
    const char *s, *c;
    int r = job_field_text(v, "queue", JOB_QUEUE_MAX, &s, e);

    if (r < 0)
        return r;
    if (!*s)
        return job_field_fail(e, JOB_FIELD_EINVALID, "queue", "\"queue\" must not be empty");
    for (c = s; *c; c++)
        if (!queue_char(*c))
            return job_field_fail(e, JOB_FIELD_EINVALID, "queue",
                                  "\"queue\" may only contain A-Z a-z 0-9 . _ -");
    out->queue = strdup(s);
    return out->queue ? 0 : job_field_nomem(e);
}

int job_field_priority(const json_t *v, int *out, struct api_error *e)
{
    if (!json_is_integer(v) || json_integer_value(v) < JOB_PRIORITY_MIN ||
        json_integer_value(v) > JOB_PRIORITY_MAX)
        return job_field_fail(e, JOB_FIELD_EINVALID, "priority",
                              "\"priority\" must be an integer from %d (most urgent) to %d",
                              JOB_PRIORITY_MIN, JOB_PRIORITY_MAX);
    *out = (int)json_integer_value(v);
    return 0;
}

int job_field_content(const json_t *v, const char *field, size_t max, unsigned char **data,
                      size_t *len, struct api_error *e)
{
    static const char *const keys[] = {"content", "encoding", NULL};
    const json_t *c = v, *enc;
    char pre[64], f[64];
    const char *s;
    size_t n, size;
    int r, b64 = 0;

    snprintf(f, sizeof(f), "%s", field);
    if (json_is_object(v)) {
        snprintf(pre, sizeof(pre), "%s.", field);
        if ((r = job_field_check_keys(v, keys, pre, e)) < 0)
            return r;
        snprintf(f, sizeof(f), "%sencoding", pre);
        if ((enc = json_object_get(v, "encoding"))) {
            if ((r = job_field_text(enc, f, 0, &s, e)) < 0)
                return r;
            if (strcmp(s, "utf8") != 0 && strcmp(s, "base64") != 0)
                return job_field_fail(e, JOB_FIELD_EINVALID, f,
                                      "\"%s\" must be \"utf8\" or \"base64\"", f);
            b64 = s[0] == 'b';
        }
        snprintf(f, sizeof(f), "%scontent", pre);
        if (!(c = job_field_need(v, "content", f, e)))
            return -EINVAL;
    }
    if (!json_is_string(c))
        return job_field_fail(
            e, JOB_FIELD_EINVALID, f,
            c == v ? "\"%s\" must be a string or an object" : "\"%s\" must be a string", f);
    s = json_string_value(c);
    n = json_string_length(c);
    size = b64 ? job_field_base64_size(s, n) : n;
    if (max && size > max)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, field,
                              "\"%s\" is %zu bytes, the maximum is %zu", field, size, max);
    if (b64)
        return job_field_base64(c, f, data, len, e);
    if (!(*data = job_field_dup(s, n)))
        return job_field_nomem(e);
    *len = n;
    return 0;
}

/* *out: a malloc'ed test or group name. */
static int label(const json_t *v, const char *field, char **out, struct api_error *e)
{
    const char *s, *c;
    int r = job_field_text(v, field, JOB_LABEL_MAX, &s, e);

    if (r < 0)
        return r;
    if (!*s)
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must not be empty", field);
    for (c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return job_field_fail(e, JOB_FIELD_EINVALID, field,
                                  "\"%s\" must not contain control characters", field);
    *out = strdup(s);
    return *out ? 0 : job_field_nomem(e);
}

int job_field_test_meta(const json_t *v, const char *pre, size_t i, const struct job_policy *p,
                        struct job_test *t, struct api_error *e)
{
    const json_t *x;
    char f[64], num[32];
    int r;

    snprintf(f, sizeof(f), "%sname", pre);
    if (!(x = json_object_get(v, "name")) && !p && !job_field_need(v, "name", f, e))
        return -EINVAL;
    if (x && (r = label(x, f, &t->name, e)) < 0)
        return r;
    snprintf(num, sizeof(num), "%zu", i + 1);
    if (!x && !(t->name = strdup(num)))
        return job_field_nomem(e);
    snprintf(f, sizeof(f), "%spoints", pre);
    if (!(x = json_object_get(v, "points")) && !p && !job_field_need(v, "points", f, e))
        return -EINVAL;
    t->points = 1;
    /* the negation also refuses NaN; JSON has no infinities, jansson refuses overflow */
    if (x && (!json_is_number(x) || !(json_number_value(x) > 0) ||
              json_number_value(x) > JOB_POINTS_MAX))
        return job_field_fail(e, JOB_FIELD_EINVALID, f,
                              "\"%s\" must be a number > 0 and at most %g", f, JOB_POINTS_MAX);
    if (x)
        t->points = json_number_value(x);
    snprintf(f, sizeof(f), "%sgroup", pre);
    if ((x = json_object_get(v, "group")))
        return label(x, f, &t->group, e);
    return 0;
}

static int test_name_cmp(const void *pa, const void *pb)
{
    const struct job_test *a = *(const struct job_test *const *)pa;
    const struct job_test *b = *(const struct job_test *const *)pb;
    int c = strcmp(a->name, b->name);

    return c ? c : (a > b) - (a < b);
}

/* Sorting makes this O(n log n): max_tests may be 0 (no maximum). */
int job_field_unique_tests(const struct job_spec *s, struct api_error *e)
{
    const struct job_test **v;
    size_t i;
    int r = 0;

    if (s->ntests < 2)
        return 0;
    if (!(v = calloc(s->ntests, sizeof(*v))))
        return job_field_nomem(e);
    for (i = 0; i < s->ntests; i++)
        v[i] = &s->tests[i];
    qsort(v, s->ntests, sizeof(*v), test_name_cmp);
    for (i = 0; r == 0 && i + 1 < s->ntests; i++) {
        char f[64];

        if (strcmp(v[i]->name, v[i + 1]->name) != 0)
            continue;
        /* equal names sort by position: the later test is the second of the pair */
        snprintf(f, sizeof(f), "tests[%zu].name", (size_t)(v[i + 1] - s->tests));
        r = job_field_fail(e, JOB_FIELD_EINVALID, f, "test name \"%s\" is used twice", v[i]->name);
    }
    free(v);
    return r;
}

/* A tolerance of the float checker: a number >= 0. */
static int tolerance(const json_t *v, const char *field, double *out, struct api_error *e)
{
    if (!json_is_number(v) || !(json_number_value(v) >= 0))
        return job_field_fail(e, JOB_FIELD_EINVALID, field, "\"%s\" must be a number >= 0", field);
    *out = json_number_value(v);
    return 0;
}

static int checker_float(const json_t *v, const struct job_policy *p, struct checker_opts *o,
                         struct api_error *e)
{
    const json_t *a = v ? json_object_get(v, "abs") : NULL;
    const json_t *r = v ? json_object_get(v, "rel") : NULL;
    int rc;

    if (!p && (!job_field_need(v, "abs", "checker.abs", e) ||
               !job_field_need(v, "rel", "checker.rel", e)))
        return -EINVAL;
    /* neither: the defaults; only one: that kind of tolerance alone */
    o->abs_tol = a || r ? 0 : CHECKER_DEFAULT_ABS;
    o->rel_tol = a || r ? 0 : CHECKER_DEFAULT_REL;
    if (a && (rc = tolerance(a, "checker.abs", &o->abs_tol, e)) < 0)
        return rc;
    if (r && (rc = tolerance(r, "checker.rel", &o->rel_tol, e)) < 0)
        return rc;
    return 0;
}

static int checker_custom(const json_t *v, const struct job_policy *p, struct job_checker *c,
                          struct api_error *e)
{
    const json_t *lang, *src;
    size_t n;
    int r;

    if (!(lang = job_field_need(v, "language", "checker.language", e)) ||
        !(src = job_field_need(v, "source", "checker.source", e)))
        return -EINVAL;
    if ((r = language_at(lang, p, "checker.language", &c->language, e)) < 0)
        return r;
    if (!json_is_string(src))
        return job_field_fail(e, JOB_FIELD_EINVALID, "checker.source",
                              "\"checker.source\" must be a string");
    n = json_string_length(src);
    if (p && p->max_source_bytes && n > p->max_source_bytes)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "checker.source",
                              "\"checker.source\" is %zu bytes, the maximum is %zu", n,
                              p->max_source_bytes);
    if (!(c->source = job_field_dup(json_string_value(src), n)))
        return job_field_nomem(e);
    c->source_len = n;
    return 0;
}

int job_field_checker(const json_t *v, const struct job_policy *p, struct job_spec *out,
                      struct api_error *e)
{
    static const char *const keys[CHECKER_KIND_COUNT][4] = {
        [CHECKER_LINES] = {"type", NULL},
        [CHECKER_EXACT] = {"type", NULL},
        [CHECKER_TOKENS] = {"type", NULL},
        [CHECKER_FLOAT] = {"type", "abs", "rel", NULL},
        [CHECKER_CUSTOM] = {"type", "language", "source", NULL},
    };
    struct job_checker *c = &out->checker;
    const json_t *type = v;
    const char *field = "checker", *name;
    int r;

    if (json_is_object(v)) {
        field = "checker.type";
        if (!(type = job_field_need(v, "type", field, e)))
            return -EINVAL;
    } else if (!p || !json_is_string(v)) {
        return job_field_fail(e, JOB_FIELD_EINVALID, "checker",
                              p ? "\"checker\" must be a string or an object"
                                : "\"checker\" must be an object");
    }
    if ((r = job_field_text(type, field, 0, &name, e)) < 0)
        return r;
    if (checker_kind_parse(name, &c->opts.kind) < 0)
        return job_field_fail(e, JOB_FIELD_EINVALID, field,
                              "\"%s\" must be \"lines\", \"exact\", \"tokens\", \"float\" or "
                              "\"custom\"",
                              field);
    if (type == v && c->opts.kind == CHECKER_CUSTOM)
        return job_field_fail(e, JOB_FIELD_EINVALID, "checker",
                              "a custom checker is an object with \"source\" and \"language\"");
    if (type != v && (r = job_field_check_keys(v, keys[c->opts.kind], "checker.", e)) < 0)
        return r;
    if (c->opts.kind == CHECKER_FLOAT)
        return checker_float(type == v ? NULL : v, p, &c->opts, e);
    if (c->opts.kind == CHECKER_CUSTOM)
        return checker_custom(v, p, c, e);
    return 0;
}

int job_field_load_body(const char *body, size_t len, size_t max, json_t **root,
                        struct api_error *e)
{
    json_error_t jerr;

    if (max && len > max)
        return job_field_fail(e, JOB_FIELD_ETOOLARGE, "",
                              "the request body is %zu bytes, the maximum is %zu", len, max);
    /* NUL is allowed in strings (file content, stdin, metadata) and refused where it matters
     * (names, args, language, queue); jansson itself refuses it in object keys. */
    *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!*root)
        return job_field_fail(e, JOB_FIELD_EJSON, "", "invalid JSON at line %d, column %d: %s",
                              jerr.line, jerr.column, jerr.text);
    return 0;
}

json_t *job_field_b64_json(const unsigned char *data, size_t len)
{
    char *s = base64_encode(data, len);
    json_t *j = s ? json_string(s) : NULL;

    free(s);
    return j;
}
