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

static json_t *checker_json(const struct runq_plan_job *j, char *err, size_t errlen, int *rc)
{
    json_t *src;

    if (j->checker)
        return json_string(j->checker);
    if (!j->checker_source)
        return NULL;
    if (!(src = json_stringn(j->checker_source, j->checker_len))) {
        snprintf(err, errlen, "the checker is not UTF-8 text");
        *rc = -EILSEQ;
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "type", "custom", "language", j->checker_language, "source",
                     src);
}

int runq_plan_graded_body(const struct runq_plan_job *j, char **out, char *err, size_t errlen)
{
    json_t *o = json_object(), *tests = json_array(), *v, *checker;
    int bad = !o || !tests, rc = -ENOMEM;
    size_t i;

    *out = NULL;
    if (!(v = json_stringn(j->source, j->source_len))) {
        snprintf(err, errlen, "the submission is not UTF-8 text");
        json_decref(o);
        json_decref(tests);
        return -EILSEQ;
    }
    bad |= json_object_set_new(o, "language", json_string(j->language));
    bad |= json_object_set_new(o, "source", v);
    for (i = 0; i < j->ntests; i++) {
        const struct runq_plan_data *d = &j->tests[i];
        json_t *t = json_pack("{s:s, s:o}", "name", d->name, "stdin", content(d->in, d->in_len));
        if (t && d->out)
            bad |= json_object_set_new(t, "expected_output", content(d->out, d->out_len));
        bad |= json_array_append_new(tests, t);
    }
    bad |= json_object_set_new(o, "tests", tests);
    if ((checker = checker_json(j, err, errlen, &rc)))
        bad |= json_object_set_new(o, "checker", checker);
    else if (rc == -EILSEQ)
        bad = 1;
    if (j->scoring || j->stop_on_failure)
        bad |= json_object_set_new(o, "grading",
                                   json_pack("{s:b, s:s}", "stop_on_failure", j->stop_on_failure,
                                             "scoring", j->scoring ? j->scoring : "sum"));
    if (!bad)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (*out)
        return 0;
    return rc == -EILSEQ ? rc : -ENOMEM;
}
