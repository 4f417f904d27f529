/* SPDX-License-Identifier: MIT */
/* Unit tests of common/grade: verdict names and mapping, earned points, stop on failure, and
 * both scoring modes with groups and partial points. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grade.h"
#include "tap.h"

static int near(double a, double b)
{
    return a - b < 1e-9 && b - a < 1e-9;
}

static void test_names(struct tap *t)
{
    static const char *const names[] = {"AC", "PA",  "WA", "PE", "TLE", "MLE",
                                        "RE", "OLE", "SV", "IE", "CE",  "SK"};
    enum grade_verdict v;
    enum grade_scoring s;
    int i, ok = 1;

    for (i = 0; i < GRADE_VERDICT_COUNT; i++)
        ok &= strcmp(grade_verdict_name((enum grade_verdict)i), names[i]) == 0 &&
              grade_verdict_parse(names[i], &v) == 0 && (int)v == i;
    tap_ok(t, ok, "all 12 verdict names, both ways");
    tap_ok(t,
           grade_verdict_parse("ac", &v) == -EINVAL && grade_verdict_parse("", &v) == -EINVAL &&
               grade_verdict_parse(NULL, &v) == -EINVAL &&
               grade_verdict_name((enum grade_verdict)GRADE_VERDICT_COUNT) == NULL,
           "names are exact; out of range has none");
    ok = 1;
    for (i = 0; i < GRADE_VERDICT_COUNT; i++)
        ok &= grade_verdict_failed((enum grade_verdict)i) == (i != GRADE_AC && i != GRADE_PA);
    tap_ok(t, ok, "every verdict but AC and PA fails");
    tap_ok(t,
           grade_scoring_parse("sum", &s) == 0 && s == GRADE_SCORING_SUM &&
               grade_scoring_parse("groups_min", &s) == 0 && s == GRADE_SCORING_GROUPS_MIN &&
               strcmp(grade_scoring_name(GRADE_SCORING_GROUPS_MIN), "groups_min") == 0 &&
               strcmp(grade_scoring_name(GRADE_SCORING_SUM), "sum") == 0 &&
               grade_scoring_parse("min", &s) == -EINVAL &&
               grade_scoring_parse(NULL, &s) == -EINVAL &&
               grade_scoring_name((enum grade_scoring)7) == NULL,
           "scoring names");
}

static void test_mapping(struct tap *t)
{
    static const struct {
        const char *status;
        enum grade_verdict v;
    } runs[] = {
        {"runtime_error", GRADE_RE},
        {"signaled", GRADE_RE},
        {"time_limit", GRADE_TLE},
        {"memory_limit", GRADE_MLE},
        {"output_limit", GRADE_OLE},
        {"security_violation", GRADE_SV},
        {"internal_error", GRADE_IE},
        {"OK", GRADE_IE},
        {"", GRADE_IE},
        {"timeout", GRADE_IE},
    };
    static const struct {
        enum checker_status st;
        enum grade_verdict v;
    } checks[] = {
        {CHECKER_ACCEPTED, GRADE_AC},     {CHECKER_PARTIAL, GRADE_PA}, {CHECKER_WRONG, GRADE_WA},
        {CHECKER_PRESENTATION, GRADE_PE}, {CHECKER_FAILED, GRADE_IE},
    };
    struct checker_outcome c = {CHECKER_ACCEPTED, 1, 0, 0, 0, 0};
    size_t i;

    for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
        tap_ok(t, grade_test_verdict(runs[i].status, &c) == runs[i].v,
               "run status \"%s\" -> %s, whatever the checker says", runs[i].status,
               grade_verdict_name(runs[i].v));
    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        c.status = checks[i].st;
        tap_ok(t, grade_test_verdict("ok", &c) == checks[i].v, "ok + %s -> %s",
               checker_status_name(checks[i].st), grade_verdict_name(checks[i].v));
    }
    tap_ok(t, grade_test_verdict("ok", NULL) == GRADE_IE, "ok without a checker outcome -> IE");
    tap_ok(t, grade_test_verdict(NULL, &c) == GRADE_IE, "no status -> IE");
}

static void test_earned(struct tap *t)
{
    struct grade_test x = {NULL, 4, GRADE_AC, 0};

    tap_ok(t, grade_test_earned(&x) == 4, "AC earns its points");
    x.verdict = GRADE_PA;
    x.fraction = 0.25;
    tap_ok(t, grade_test_earned(&x) == 1, "PA 0.25 of 4 earns 1");
    x.fraction = 3;
    tap_ok(t, grade_test_earned(&x) == 4, "a fraction above 1 is clamped");
    x.fraction = -1;
    tap_ok(t, grade_test_earned(&x) == 0, "below 0 is 0");
    x.fraction = NAN;
    tap_ok(t, grade_test_earned(&x) == 0, "NaN is 0");
    x.verdict = GRADE_WA;
    x.fraction = 0.5;
    tap_ok(t, grade_test_earned(&x) == 0, "a fraction counts for PA only");
    x.verdict = GRADE_SK;
    tap_ok(t, grade_test_earned(&x) == 0, "skipped earns nothing");
}

#define T(g, p, v, f)                                                                              \
    {                                                                                              \
        g, p, GRADE_##v, f                                                                         \
    }

static void test_sum(struct tap *t)
{
    struct grade_test tests[] = {T(NULL, 1, AC, 0), T("a", 2, WA, 0), T(NULL, 4, PA, 0.5),
                                 T("a", 3, AC, 0), T(NULL, 1, TLE, 0)};
    struct grade_options o = {GRADE_SCORING_SUM, 0};
    struct grade_summary s;

    if (!tap_ok(t, grade_summarize(tests, 5, &o, &s) == 0, "sum: summarized"))
        return;
    tap_ok(t, near(s.score, 1 + 0 + 2 + 3 + 0) && near(s.max_score, 11),
           "sum: 6 of 11 (partial test counts half)");
    tap_ok(t, s.verdict == GRADE_WA, "sum: the first failing test's verdict (WA before TLE)");
    tap_ok(t,
           s.counts[GRADE_AC] == 2 && s.counts[GRADE_WA] == 1 && s.counts[GRADE_PA] == 1 &&
               s.counts[GRADE_TLE] == 1 && s.counts[GRADE_RE] == 0,
           "counts per verdict");
    tap_ok(t,
           s.ngroups == 4 && s.groups[1].name && strcmp(s.groups[1].name, "a") == 0 &&
               s.groups[1].ntests == 2 && near(s.groups[1].score, 3) &&
               near(s.groups[1].max_score, 5) && s.groups[1].verdict == GRADE_WA &&
               !s.groups[0].name && s.groups[2].first == 2 && s.groups[2].verdict == GRADE_PA &&
               near(s.groups[2].score, 2),
           "sum: groups in order of first test, group a sums its tests");
    grade_summary_free(&s);
}

static void test_groups_min(struct tap *t)
{
    /* groups in test order: A {0, 5}, u1 {1}, B {2, 3}, C {4, 6}, u2 {7} */
    struct grade_test tests[] = {
        T("A", 2, AC, 0), T(NULL, 1, AC, 0), T("B", 1, AC, 0),   T("B", 1, WA, 0),
        T("C", 2, AC, 0), T("A", 3, AC, 0),  T("C", 2, PA, .25), T("", 1, TLE, 0),
    };
    struct grade_options o = {GRADE_SCORING_GROUPS_MIN, 0};
    struct grade_summary s;
    const struct grade_group *g;

    if (!tap_ok(t, grade_summarize(tests, 8, &o, &s) == 0, "groups_min: summarized"))
        return;
    g = s.groups;
    tap_ok(t,
           s.ngroups == 5 && strcmp(g[0].name, "A") == 0 && g[0].first == 0 && g[0].ntests == 2 &&
               !g[1].name && g[1].first == 1 && strcmp(g[2].name, "B") == 0 && g[2].first == 2 &&
               strcmp(g[3].name, "C") == 0 && g[3].first == 4 && !g[4].name && g[4].first == 7,
           "5 groups in order of first test; a group need not be contiguous; \"\" is no group");
    tap_ok(t, near(g[0].score, 5) && near(g[0].max_score, 5) && g[0].verdict == GRADE_AC,
           "A: all AC, full 5");
    tap_ok(t, near(g[2].score, 0) && near(g[2].max_score, 2) && g[2].verdict == GRADE_WA,
           "B: one WA makes it 0 of 2");
    tap_ok(t, near(g[3].score, 1) && near(g[3].max_score, 4) && g[3].verdict == GRADE_PA,
           "C: min(1, 0.25) x 4 = 1");
    tap_ok(t, near(g[1].score, 1) && near(g[4].score, 0) && g[4].verdict == GRADE_TLE,
           "ungrouped tests are groups of one");
    tap_ok(t, near(s.score, 5 + 1 + 0 + 1 + 0) && near(s.max_score, 13), "total 7 of 13");
    tap_ok(t, s.verdict == GRADE_WA, "job verdict: test 3's WA comes before test 7's TLE");
    grade_summary_free(&s);
    tap_ok(t, s.groups == NULL && s.ngroups == 0, "grade_summary_free zeroes");
    o.scoring = GRADE_SCORING_SUM;
    if (grade_summarize(tests, 8, &o, &s) == 0)
        tap_ok(t, near(s.score, 5 + 1 + 1 + 2.5 + 0) && near(s.groups[2].score, 1),
               "the same tests under sum: 9.5");
    grade_summary_free(&s);
}

static void test_job_verdicts(struct tap *t)
{
    struct grade_test pa[] = {T(NULL, 1, AC, 0), T(NULL, 1, PA, 0.5), T(NULL, 1, AC, 0)};
    struct grade_test ce[] = {T(NULL, 1, CE, 0), T(NULL, 2, CE, 0)};
    struct grade_test bad[] = {T(NULL, 1, AC, 0), T(NULL, 0, AC, 0)};
    struct grade_options o = {GRADE_SCORING_SUM, 0};
    struct grade_summary s;

    if (grade_summarize(pa, 3, &o, &s) == 0)
        tap_ok(t, s.verdict == GRADE_PA && near(s.score, 2.5), "no failure but a PA: PA");
    grade_summary_free(&s);
    pa[2].verdict = GRADE_RE;
    if (grade_summarize(pa, 3, &o, &s) == 0)
        tap_ok(t, s.verdict == GRADE_RE, "a failure after a PA wins: RE");
    grade_summary_free(&s);
    if (grade_summarize(ce, 2, &o, &s) == 0)
        tap_ok(t,
               s.verdict == GRADE_CE && s.score == 0 && near(s.max_score, 3) &&
                   s.counts[GRADE_CE] == 2,
               "compile error: CE, 0 of 3");
    grade_summary_free(&s);
    tap_ok(t,
           grade_summarize(NULL, 0, &o, &s) == 0 && s.verdict == GRADE_AC && s.score == 0 &&
               s.max_score == 0 && s.ngroups == 0 && !s.groups,
           "no tests: AC, 0 of 0");
    grade_summary_free(&s);
    tap_ok(t, grade_summarize(bad, 2, &o, &s) == -EINVAL && !s.groups, "points 0: -EINVAL");
    bad[1].points = NAN;
    tap_ok(t, grade_summarize(bad, 2, &o, &s) == -EINVAL, "points NaN: -EINVAL");
    bad[1].points = INFINITY;
    tap_ok(t, grade_summarize(bad, 2, &o, &s) == -EINVAL, "points inf: -EINVAL");
    bad[1].points = 1;
    bad[1].verdict = (enum grade_verdict)GRADE_VERDICT_COUNT;
    tap_ok(t, grade_summarize(bad, 2, &o, &s) == -EINVAL, "verdict out of range: -EINVAL");
}

static void test_should_run(struct tap *t)
{
    struct grade_test x[] = {T("A", 1, AC, 0), T("A", 1, WA, 0),  T("B", 1, AC, 0),
                             T("A", 1, AC, 0), T(NULL, 1, AC, 0), T("B", 1, AC, 0)};
    struct grade_options o = {GRADE_SCORING_SUM, 0};

    tap_ok(t, grade_should_run(x, 2, &o) && grade_should_run(x, 5, &o),
           "without stop_on_failure everything runs");
    o.stop_on_failure = 1;
    tap_ok(t, grade_should_run(x, 0, &o) && grade_should_run(x, 1, &o),
           "sum + stop: runs until a failure");
    tap_ok(t, !grade_should_run(x, 2, &o) && !grade_should_run(x, 5, &o),
           "sum + stop: nothing after the WA");
    x[1].verdict = GRADE_PA;
    tap_ok(t, grade_should_run(x, 2, &o), "a PA is no failure");
    x[1].verdict = GRADE_SK;
    tap_ok(t, grade_should_run(x, 2, &o), "an SK is no failure of its own");
    x[1].verdict = GRADE_WA;
    o.scoring = GRADE_SCORING_GROUPS_MIN;
    tap_ok(t, grade_should_run(x, 2, &o), "groups_min + stop: group B still runs");
    tap_ok(t, !grade_should_run(x, 3, &o), "groups_min + stop: the rest of A is skipped");
    tap_ok(t, grade_should_run(x, 4, &o), "groups_min + stop: an ungrouped test runs");
    x[3].verdict = GRADE_SK;
    x[4].verdict = GRADE_TLE;
    tap_ok(t, grade_should_run(x, 5, &o), "an ungrouped failure skips nothing else");
    x[0].group = "";
    x[1].group = "";
    x[3].group = "";
    tap_ok(t, grade_should_run(x, 3, &o), "\"\" is no group: nothing shared");
}

/* A runner's loop: planned verdicts, skipping as grade_should_run says. */
static void test_run_loop(struct tap *t)
{
    static const enum grade_verdict planned[] = {GRADE_AC, GRADE_AC, GRADE_WA,
                                                 GRADE_AC, GRADE_AC, GRADE_AC};
    static const char *const groups[] = {"g1", "g1", "g2", "g2", "g3", "g2"};
    struct grade_test x[6];
    struct grade_options o = {GRADE_SCORING_GROUPS_MIN, 1};
    struct grade_summary s;
    size_t i;

    for (i = 0; i < 6; i++) {
        x[i] = (struct grade_test){groups[i], 1, GRADE_SK, 0};
        if (grade_should_run(x, i, &o))
            x[i].verdict = planned[i];
    }
    tap_ok(t, x[3].verdict == GRADE_SK && x[5].verdict == GRADE_SK && x[4].verdict == GRADE_AC,
           "groups_min: g2 skipped after its WA, g3 ran");
    if (grade_summarize(x, 6, &o, &s) == 0)
        tap_ok(t,
               s.verdict == GRADE_WA && s.counts[GRADE_SK] == 2 && near(s.score, 3) &&
                   near(s.max_score, 6) && s.ngroups == 3 && s.groups[1].verdict == GRADE_WA,
               "summary: WA, 3 of 6, 2 skipped");
    grade_summary_free(&s);
    o.scoring = GRADE_SCORING_SUM;
    for (i = 0; i < 6; i++) {
        x[i] = (struct grade_test){groups[i], 1, GRADE_SK, 0};
        if (grade_should_run(x, i, &o))
            x[i].verdict = planned[i];
    }
    if (grade_summarize(x, 6, &o, &s) == 0)
        tap_ok(t, s.counts[GRADE_SK] == 3 && s.counts[GRADE_AC] == 2 && near(s.score, 2),
               "sum: everything after the WA skipped");
    grade_summary_free(&s);
}

/* 200000 tests in 1000 named groups: sorting, not pairwise comparison. */
static void test_many(struct tap *t)
{
    const size_t n = 200000;
    struct grade_test *x = calloc(n, sizeof(*x));
    char(*names)[16] = calloc(1000, sizeof(*names));
    struct grade_options o = {GRADE_SCORING_GROUPS_MIN, 0};
    struct grade_summary s;
    struct timespec a, b;
    size_t i;
    int ok;

    for (i = 0; i < 1000; i++)
        snprintf(names[i], sizeof(names[i]), "g%zu", i);
    for (i = 0; i < n; i++)
        x[i] = (struct grade_test){names[i % 1000], 1, i == n - 1 ? GRADE_WA : GRADE_AC, 0};
    clock_gettime(CLOCK_MONOTONIC, &a);
    ok = grade_summarize(x, n, &o, &s) == 0;
    clock_gettime(CLOCK_MONOTONIC, &b);
    tap_ok(t,
           ok && s.ngroups == 1000 && near(s.score, n - 200) && s.groups[999].score == 0 &&
               s.groups[999].ntests == 200 && (b.tv_sec - a.tv_sec) < 10,
           "200000 tests in 1000 groups: the last group earns 0");
    grade_summary_free(&s);
    free(x);
    free(names);
}

int main(void)
{
    struct tap t = {0};

    test_names(&t);
    test_mapping(&t);
    test_earned(&t);
    test_sum(&t);
    test_groups_min(&t);
    test_job_verdicts(&t);
    test_should_run(&t);
    test_run_loop(&t);
    test_many(&t);
    return tap_done(&t);
}
