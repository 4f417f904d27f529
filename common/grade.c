/* SPDX-License-Identifier: MIT */
/* grade: verdicts, stop on failure, scores (see grade.h). */
#include "grade.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[GRADE_VERDICT_COUNT] = {
    [GRADE_AC] = "AC",   [GRADE_PA] = "PA",   [GRADE_WA] = "WA", [GRADE_PE] = "PE",
    [GRADE_TLE] = "TLE", [GRADE_MLE] = "MLE", [GRADE_RE] = "RE", [GRADE_OLE] = "OLE",
    [GRADE_SV] = "SV",   [GRADE_IE] = "IE",   [GRADE_CE] = "CE", [GRADE_SK] = "SK",
};

/* The sandbox's result statuses (worker/sandbox/sbx_verdict.c) and what each means for a
 * test; "ok" is decided by the checker. */
static const struct {
    const char *status;
    enum grade_verdict verdict;
} run_statuses[] = {
    {"runtime_error", GRADE_RE},  {"signaled", GRADE_RE},      {"time_limit", GRADE_TLE},
    {"memory_limit", GRADE_MLE},  {"output_limit", GRADE_OLE}, {"security_violation", GRADE_SV},
    {"internal_error", GRADE_IE},
};

const char *grade_verdict_name(enum grade_verdict v)
{
    return (unsigned)v < GRADE_VERDICT_COUNT ? verdict_names[v] : NULL;
}

int grade_verdict_parse(const char *name, enum grade_verdict *out)
{
    int v;

    for (v = 0; name && v < GRADE_VERDICT_COUNT; v++)
        if (strcmp(name, verdict_names[v]) == 0) {
            *out = (enum grade_verdict)v;
            return 0;
        }
    return -EINVAL;
}

int grade_verdict_failed(enum grade_verdict v)
{
    return v != GRADE_AC && v != GRADE_PA;
}

enum grade_verdict grade_test_verdict(const char *run_status, const struct checker_outcome *c)
{
    size_t i;

    if (!run_status)
        return GRADE_IE;
    if (strcmp(run_status, "ok") == 0) {
        if (!c)
            return GRADE_IE;
        switch (c->status) {
        case CHECKER_ACCEPTED:
            return GRADE_AC;
        case CHECKER_PARTIAL:
            return GRADE_PA;
        case CHECKER_WRONG:
            return GRADE_WA;
        case CHECKER_PRESENTATION:
            return GRADE_PE;
        case CHECKER_FAILED:
            break;
        }
        return GRADE_IE;
    }
    for (i = 0; i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
        if (strcmp(run_status, run_statuses[i].status) == 0)
            return run_statuses[i].verdict;
    return GRADE_IE;
}

const char *grade_scoring_name(enum grade_scoring s)
{
    switch (s) {
    case GRADE_SCORING_SUM:
        return "sum";
    case GRADE_SCORING_GROUPS_MIN:
        return "groups_min";
    }
    return NULL;
}

int grade_scoring_parse(const char *name, enum grade_scoring *out)
{
    if (name && strcmp(name, "sum") == 0)
        *out = GRADE_SCORING_SUM;
    else if (name && strcmp(name, "groups_min") == 0)
        *out = GRADE_SCORING_GROUPS_MIN;
    else
        return -EINVAL;
    return 0;
}

/* The share of its points a test earned, in [0, 1]. */
static double share(const struct grade_test *t)
{
    if (t->verdict == GRADE_AC)
        return 1.0;
    if (t->verdict != GRADE_PA || !(t->fraction > 0)) /* NaN too */
        return 0.0;
    return t->fraction < 1 ? t->fraction : 1.0;
}

double grade_test_earned(const struct grade_test *t)
{
    return share(t) * t->points;
}

static int grouped(const char *g)
{
    return g && *g;
}

int grade_should_run(const struct grade_test *tests, size_t next, const struct grade_options *o)
{
    const char *g = tests[next].group;
    size_t i;

    if (!o->stop_on_failure)
        return 1;
    if (o->scoring == GRADE_SCORING_GROUPS_MIN && !grouped(g))
        return 1;
    for (i = 0; i < next; i++) {
        if (!grade_verdict_failed(tests[i].verdict) || tests[i].verdict == GRADE_SK)
            continue;
        if (o->scoring != GRADE_SCORING_GROUPS_MIN)
            return 0;
        if (grouped(tests[i].group) && strcmp(tests[i].group, g) == 0)
            return 0;
    }
    return 1;
}

/* Sorting by (group name, index) brings each group's tests together, first test first, in
 * O(n log n); ungrouped tests compare by index only, so each stays alone. */
struct member {
    const char *group;
    size_t index;
};

static int member_cmp(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int c = 0;

    if (a->group && b->group)
        c = strcmp(a->group, b->group);
    else if (a->group || b->group)
        c = a->group ? 1 : -1; /* ungrouped first, any consistent order does */
    if (c)
        return c;
    return (a->index > b->index) - (a->index < b->index);
}

/* Fills out->groups (name, first, ntests), in the order of their first tests, and gid[i] =
 * the group of test i. */
static int build_groups(const struct grade_test *tests, size_t n, struct grade_summary *out,
                        size_t *gid)
{
    struct member *m = calloc(n, sizeof(*m));
    size_t i, lead = 0;

    if (!m)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        m[i].group = grouped(tests[i].group) ? tests[i].group : NULL;
        m[i].index = i;
    }
    qsort(m, n, sizeof(*m), member_cmp);
    /* gid[i] = the index of the first test of i's group (its leader) */
    for (i = 0; i < n; i++) {
        if (i == 0 || !m[i].group || !m[i - 1].group || strcmp(m[i].group, m[i - 1].group) != 0)
            lead = m[i].index;
        gid[m[i].index] = lead;
    }
    free(m);
    /* In test order a leader comes before the rest of its group: it opens the group, and
     * the others find its number where their leader's index was. */
    for (i = 0; i < n; i++) {
        if (gid[i] == i) {
            out->groups[out->ngroups] =
                (struct grade_group){.name = grouped(tests[i].group) ? tests[i].group : NULL,
                                     .first = i,
                                     .verdict = GRADE_AC};
            gid[i] = out->ngroups++;
        } else {
            gid[i] = gid[gid[i]];
        }
        out->groups[gid[i]].ntests++;
    }
    return 0;
}

static void add_tests(const struct grade_test *tests, size_t n, const struct grade_options *o,
                      const size_t *gid, struct grade_summary *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct grade_group *g = &out->groups[gid[i]];
        const struct grade_test *t = &tests[i];
        double s = share(t);

        out->counts[t->verdict]++;
        g->max_score += t->points;
        if (o->scoring == GRADE_SCORING_SUM)
            g->score += s * t->points;
        else if (i == g->first || s < g->score)
            g->score = s; /* the smallest share so far; times the points at the end */
        if (grade_verdict_failed(t->verdict)) {
            if (!grade_verdict_failed(g->verdict))
                g->verdict = t->verdict;
            if (!grade_verdict_failed(out->verdict))
                out->verdict = t->verdict;
        } else if (t->verdict == GRADE_PA) {
            if (g->verdict == GRADE_AC)
                g->verdict = GRADE_PA;
            if (out->verdict == GRADE_AC)
                out->verdict = GRADE_PA;
        }
    }
}

int grade_summarize(const struct grade_test *tests, size_t n, const struct grade_options *o,
                    struct grade_summary *out)
{
    size_t i, *gid;
    int r;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < n; i++)
        if (!(tests[i].points > 0) || !isfinite(tests[i].points) ||
            (unsigned)tests[i].verdict >= GRADE_VERDICT_COUNT)
            return -EINVAL;
    out->verdict = GRADE_AC;
    if (n == 0)
        return 0;
    gid = calloc(n, sizeof(*gid));
    out->groups = calloc(n, sizeof(*out->groups));
    r = gid && out->groups ? build_groups(tests, n, out, gid) : -ENOMEM;
    if (r == 0) {
        add_tests(tests, n, o, gid, out);
        for (i = 0; i < out->ngroups; i++) {
            struct grade_group *g = &out->groups[i];
            if (o->scoring == GRADE_SCORING_GROUPS_MIN)
                g->score *= g->max_score;
            out->score += g->score;
            out->max_score += g->max_score;
        }
    }
    free(gid);
    if (r < 0)
        grade_summary_free(out);
    return r;
}

void grade_summary_free(struct grade_summary *s)
{
    free(s->groups);
    memset(s, 0, sizeof(*s));
}
