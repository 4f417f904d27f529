/* SPDX-License-Identifier: MIT */
/* runq_plan: see runq_plan.h. */
#include "runq_plan.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int runq_plan_natcmp(const char *a, const char *b)
{
    const char *pa = a, *pb = b;

    while (*pa && *pb) {
        if (is_digit(*pa) && is_digit(*pb)) {
            const char *ea, *eb;
            size_t la, lb;
            int c;
            while (*pa == '0' && is_digit(pa[1]))
                pa++;
            while (*pb == '0' && is_digit(pb[1]))
                pb++;
            for (ea = pa; is_digit(*ea); ea++)
                ;
            for (eb = pb; is_digit(*eb); eb++)
                ;
            la = (size_t)(ea - pa);
            lb = (size_t)(eb - pb);
            if (la != lb) /* without leading zeros, the longer number is the larger */
                return la < lb ? -1 : 1;
            if ((c = memcmp(pa, pb, la)))
                return c < 0 ? -1 : 1;
            pa = ea;
            pb = eb;
            continue;
        }
        if (*pa != *pb)
            return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
        pa++;
        pb++;
    }
    if (*pa || *pb)
        return *pa ? 1 : -1;
    return strcmp(a, b); /* "01" and "1": equal by value, still an order */
}

static int natcmp_ptr(const void *a, const void *b)
{
    return runq_plan_natcmp(*(char *const *)a, *(char *const *)b);
}

void runq_plan_sort(char **names, size_t n)
{
    if (n > 1)
        qsort(names, n, sizeof(*names), natcmp_ptr);
}

static int refuse(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stem of name if it ends in ext (".in") and has a non-empty stem; else NULL. */
static size_t stem(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);

    return n > e && !strcmp(name + n - e, ext) ? n - e : 0;
}

/* Whether sorted[0..n) holds stem[0..len) + ext. */
static int has(char *const *sorted, size_t n, const char *s, size_t len, const char *ext)
{
    char key[512];
    const char *k = key;

    if (len + strlen(ext) >= sizeof(key))
        return 0;
    snprintf(key, sizeof(key), "%.*s%s", (int)len, s, ext);
    return bsearch(&k, sorted, n, sizeof(*sorted), strcmp_ptr) != NULL;
}

void runq_plan_free_tests(struct runq_plan_test *t, size_t n)
{
    size_t i;

    for (i = 0; t && i < n; i++) {
        free(t[i].name);
        free(t[i].in_file);
        free(t[i].out_file);
    }
    free(t);
}

/* Why a test name would be refused by the API (common/job_field.c's label()), or NULL. */
static const char *label_problem(const char *name, size_t len)
{
    size_t i;
    json_t *probe;

    if (len > RUNQ_PLAN_LABEL_MAX)
        return "is longer than 64 bytes";
    for (i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return "has a control character";
    if (!(probe = json_stringn(name, len)))
        return "is not UTF-8";
    json_decref(probe);
    return NULL;
}

static int add_test(struct runq_plan_test *t, const char *in, size_t len, const char *out_ext)
{
    size_t olen = len + (out_ext ? strlen(out_ext) : 0) + 1;

    t->name = strndup(in, len);
    t->in_file = strdup(in);
    if (out_ext && (t->out_file = malloc(olen)))
        snprintf(t->out_file, olen, "%.*s%s", (int)len, in, out_ext);
    return t->name && t->in_file && (!out_ext || t->out_file) ? 0 : -ENOMEM;
}

static int test_cmp(const void *a, const void *b)
{
    return runq_plan_natcmp(((const struct runq_plan_test *)a)->name,
                            ((const struct runq_plan_test *)b)->name);
}

int runq_plan_pair_tests(char *const *files, size_t nfiles, int need_output,
                         struct runq_plan_test **out, size_t *n, char *err, size_t errlen)
{
    char **sorted = nfiles ? malloc(nfiles * sizeof(*sorted)) : NULL;
    struct runq_plan_test *t = nfiles ? calloc(nfiles, sizeof(*t)) : NULL;
    size_t i, k = 0, len;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (nfiles && (!sorted || !t))
        rc = -ENOMEM;
    for (i = 0; rc == 0 && i < nfiles; i++)
        sorted[i] = files[i];
    if (rc == 0 && nfiles)
        qsort(sorted, nfiles, sizeof(*sorted), strcmp_ptr);
    for (i = 0; rc == 0 && i < nfiles; i++) {
        const char *f = files[i], *why, *ext = NULL;
        int o, a;
        if ((len = stem(f, ".out")) || (len = stem(f, ".ans"))) {
            if (!has(sorted, nfiles, f, len, ".in"))
                rc = refuse(err, errlen, "%s has no %.*s.in", f, (int)len, f);
            continue;
        }
        if (!(len = stem(f, ".in")))
            continue;
        o = has(sorted, nfiles, f, len, ".out");
        a = has(sorted, nfiles, f, len, ".ans");
        if ((why = label_problem(f, len)))
            rc = refuse(err, errlen, "%s: the test name %s", f, why);
        else if (o && a)
            rc = refuse(err, errlen, "%s has both %.*s.out and %.*s.ans", f, (int)len, f, (int)len,
                        f);
        else if (!o && !a && need_output)
            rc = refuse(err, errlen, "%s has no %.*s.out or %.*s.ans", f, (int)len, f, (int)len, f);
        else
            ext = o ? ".out" : a ? ".ans" : NULL;
        if (rc == 0)
            rc = add_test(&t[k++], f, len, ext);
    }
    if (rc == 0 && k == 0)
        rc = refuse(err, errlen, "no tests: no NAME.in with its NAME.out or NAME.ans");
    free(sorted);
    if (rc < 0) {
        runq_plan_free_tests(t, k);
        return rc;
    }
    qsort(t, k, sizeof(*t), test_cmp);
    *out = t;
    *n = k;
    return 0;
}

int runq_plan_is_submission(const char *name)
{
    size_t n = strlen(name);

    return n && name[0] != '.' && name[n - 1] != '~';
}

/* Test data: a JSON string when it is UTF-8, else {"content": base64, "encoding": "base64"}. */
static json_t *content(const char *data, size_t len)
{
    json_t *s = json_stringn(data, len);
    char *b64;

    if (s)
        return s;
    if (!(b64 = base64_encode((const unsigned char *)data, len)))
        return NULL;
    s = json_pack("{s:s, s:s}", "content", b64, "encoding", "base64");
    free(b64);
    return s;
}

static json_t *checker_json(const struct runq_plan_grading *g, char *err, size_t errlen, int *rc)
{
    json_t *src;

    if (!g->checker_source)
        return g->checker ? json_string(g->checker) : NULL;
    if (!(src = json_stringn(g->checker_source, g->checker_len))) {
        snprintf(err, errlen, "the checker is not UTF-8 text");
        *rc = -EILSEQ;
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "type", "custom", "language", g->checker_language, "source",
                     src);
}

/* Whether the API takes name as a submission's name (common/batch.c's check_name). */
static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0, i;
    json_t *probe;

    if (n == 0 || n > RUNQ_PLAN_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    if (!(probe = json_string(name))) /* not UTF-8 */
        return 0;
    json_decref(probe);
    return 1;
}

/* The submissions array; *rc -EILSEQ (err filled) when a source is not UTF-8. */
static json_t *subs_json(const struct runq_plan_sub *subs, size_t n, char *err, size_t errlen,
                         int *rc)
{
    json_t *a = json_array(), *src, *o;
    int named = 1, bad = !a;
    size_t i;

    for (i = 0; i < n; i++)
        named &= name_ok(subs[i].name);
    for (i = 0; !bad && i < n; i++) {
        if (!(src = json_stringn(subs[i].source, subs[i].source_len))) {
            snprintf(err, errlen, "%s: not UTF-8 text", subs[i].name ? subs[i].name : "a source");
            *rc = -EILSEQ;
            bad = 1;
            break;
        }
        o = json_pack("{s:s, s:o}", "language", subs[i].language, "source", src);
        if (o && named)
            bad |= json_object_set_new(o, "name", json_string(subs[i].name));
        bad |= json_array_append_new(a, o);
    }
    if (!bad)
        return a;
    json_decref(a);
    return NULL;
}

int runq_plan_batch_body(const struct runq_plan_grading *g, const struct runq_plan_sub *subs,
                         size_t n, char **out, char *err, size_t errlen)
{
    json_t *o = json_object(), *tests = json_array(), *v;
    int bad = !o || !tests, rc = -ENOMEM;
    size_t i;

    *out = NULL;
    for (i = 0; i < g->ntests; i++) {
        const struct runq_plan_data *d = &g->tests[i];
        json_t *t = json_pack("{s:s, s:o}", "name", d->name, "stdin", content(d->in, d->in_len));
        if (t && d->out)
            bad |= json_object_set_new(t, "expected_output", content(d->out, d->out_len));
        bad |= json_array_append_new(tests, t);
    }
    bad |= json_object_set_new(o, "tests", tests);
    if ((v = checker_json(g, err, errlen, &rc)))
        bad |= json_object_set_new(o, "checker", v);
    else if (rc == -EILSEQ)
        bad = 1;
    if (g->scoring || g->stop_on_failure)
        bad |= json_object_set_new(o, "grading",
                                   json_pack("{s:b, s:s}", "stop_on_failure", g->stop_on_failure,
                                             "scoring", g->scoring ? g->scoring : "sum"));
    if (!bad) /* the submissions last: the shared part reads first in a dump or a log */
        bad |= json_object_set_new(o, "submissions", subs_json(subs, n, err, errlen, &rc));
    if (!bad)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (*out)
        return 0;
    return rc == -EILSEQ ? rc : -ENOMEM;
}

int runq_plan_batch_accepted(const char *body, size_t len, size_t n, char **batch_id, char **ids)
{
    json_t *a = body ? json_loadb(body, len, 0, NULL) : NULL, *jobs = json_object_get(a, "jobs");
    const char *id = json_string_value(json_object_get(a, "id"));
    size_t made = 0;
    int rc = 0;

    *batch_id = NULL;
    if (!id || !json_is_array(jobs) || json_array_size(jobs) != n)
        rc = -EPROTO;
    for (; rc == 0 && made < n; made++) {
        const char *jid = json_string_value(json_object_get(json_array_get(jobs, made), "id"));
        if (!jid) {
            rc = -EPROTO;
            break;
        }
        if (!(ids[made] = strdup(jid))) {
            rc = -ENOMEM;
            break;
        }
    }
    if (rc == 0 && !(*batch_id = strdup(id)))
        rc = -ENOMEM;
    if (rc < 0)
        while (made > 0)
            free(ids[--made]);
    json_decref(a);
    return rc;
}

static double number(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : 0;
}

int runq_plan_batch_read(const json_t *answer, char *const *ids, size_t n,
                         struct runq_plan_batch_job *jobs)
{
    const json_t *list = json_object_get(answer, "jobs");
    size_t i, k, m = json_array_size(list);

    for (i = 0; i < n; i++) {
        const json_t *j = NULL;
        const char *state;
        /* in submission order, as the batch keeps its jobs; searched should it not be */
        for (k = 0; k < m && !j; k++) {
            const json_t *c = json_array_get(list, (i + k) % m);
            const char *cid = json_string_value(json_object_get(c, "id"));
            if (cid && !strcmp(cid, ids[i]))
                j = c;
        }
        if (!j || !(state = json_string_value(json_object_get(j, "state"))))
            return -EPROTO;
        jobs[i].finished =
            !strcmp(state, "completed") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
        jobs[i].verdict =
            !strcmp(state, "completed") ? json_string_value(json_object_get(j, "verdict")) : NULL;
        jobs[i].score = number(json_object_get(j, "score"));
        jobs[i].max_score = number(json_object_get(j, "max_score"));
    }
    return 0;
}
