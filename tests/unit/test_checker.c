/* SPDX-License-Identifier: MIT */
/* Unit tests of common/checker: every built-in kind on tricky output, the testlib exit codes,
 * excerpts, and linear time on large buffers. Buffers are written as S("...") so that they
 * may hold NUL bytes. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checker.h"
#include "tap.h"

#define S(lit) lit, sizeof(lit) - 1

/* Compares got with expected under kind (tolerances for float) and asserts the status and,
 * for a difference, the line in got (0: not checked). */
static void check(struct tap *t, enum checker_kind kind, double abs_tol, double rel_tol,
                  const char *exp, size_t elen, const char *got, size_t glen,
                  enum checker_status want, size_t line, const char *what)
{
    struct checker_opts o = {kind, abs_tol, rel_tol};
    struct checker_outcome out;
    int r = checker_compare(&o, exp, elen, got, glen, &out);
    int ok = r == 0 && out.status == want && (!line || out.line == line) &&
             out.fraction == (want == CHECKER_ACCEPTED ? 1.0 : 0.0) &&
             (want != CHECKER_ACCEPTED || out.line == 0);

    if (!tap_ok(t, ok, "%s %s: %s", checker_kind_name(kind), checker_status_name(want), what))
        tap_diag("r=%d status=%s line=%zu (expected line %zu)", r, checker_status_name(out.status),
                 out.line, line);
}

#define LINES(e, g, st, ln, what) check(t, CHECKER_LINES, 0, 0, S(e), S(g), st, ln, what)
#define EXACT(e, g, st, ln, what) check(t, CHECKER_EXACT, 0, 0, S(e), S(g), st, ln, what)
#define TOKENS(e, g, st, ln, what) check(t, CHECKER_TOKENS, 0, 0, S(e), S(g), st, ln, what)
#define FLOAT(e, g, st, what)                                                                      \
    check(t, CHECKER_FLOAT, CHECKER_DEFAULT_ABS, CHECKER_DEFAULT_REL, S(e), S(g), st, 0, what)
#define FLOAT_TOL(a, r, e, g, st, what) check(t, CHECKER_FLOAT, a, r, S(e), S(g), st, 0, what)
#define AC CHECKER_ACCEPTED
#define WA CHECKER_WRONG
#define PE CHECKER_PRESENTATION

static void test_lines(struct tap *t)
{
    LINES("1 2\n", "1 2", AC, 0, "missing final newline");
    LINES("1 2", "1 2\n", AC, 0, "extra final newline");
    LINES("1 2\n", "1 2   \t\n\n\n  \n", AC, 0, "trailing spaces and blank lines");
    LINES("a\r\nb\r\n", "a\nb\n", AC, 0, "\\r\\n expected, \\n got");
    LINES("a\nb\n", "a\r\nb\r\n", AC, 0, "\\n expected, \\r\\n got");
    LINES("x \f\v\n", "x", AC, 0, "\\f and \\v are trailing whitespace");
    LINES("", "", AC, 0, "both empty");
    LINES("", "\n\n \t\r\n", AC, 0, "empty vs whitespace only");
    LINES("", "x", WA, 1, "empty expected, something got");
    LINES("x", "", WA, 1, "something expected, nothing got");
    LINES(" a", "a", WA, 1, "leading whitespace counts");
    LINES("a\nb", "a\n\nb", WA, 2, "a blank line in the middle counts");
    LINES("a b", "a  b", WA, 1, "inner spaces count");
    LINES("a\rb", "a b", WA, 1, "a lone \\r inside a line is content");
    LINES("1\n2\n3\n", "1\n2\n", WA, 3, "a missing last line");
    LINES("1\n2\n", "1\n2\n3\n", WA, 3, "an extra line");
    LINES("a\0b", "a\0b", AC, 0, "NUL bytes compared as bytes");
    LINES("a\0b", "a\0c", WA, 1, "a difference after a NUL byte");
    LINES("a\0", "a", WA, 1, "a trailing NUL is not whitespace");
    LINES("\xff\xfe\n", "\xff\xfe", AC, 0, "invalid UTF-8 compared as bytes");
}

static void test_exact(struct tap *t)
{
    EXACT("1 2\n", "1 2\n", AC, 0, "byte-equal");
    EXACT("", "", AC, 0, "both empty");
    EXACT("1\n", "1", PE, 1, "missing final newline is a presentation error");
    EXACT("1\n", "1\r\n", PE, 1, "\\r\\n is a presentation error");
    EXACT("a\nb", "a\nb  \n\n", PE, 2, "trailing whitespace, PE on line 2");
    EXACT("", "\n", PE, 1, "a lone newline against nothing");
    EXACT("1 2", "1  2", WA, 1, "inner whitespace is a wrong answer");
    EXACT("a\nb\nc", "a\nb\nd", WA, 3, "difference on line 3");
    EXACT("a\0", "a", WA, 1, "NUL is not whitespace, so not a PE");
    EXACT("a\0b", "a\0b", AC, 0, "NUL bytes equal");
}

static void test_tokens(struct tap *t)
{
    TOKENS("1 2 3", "1\n2\n3\n", AC, 0, "any whitespace separates");
    TOKENS("  1\t2 ", "1 2", AC, 0, "leading and trailing whitespace");
    TOKENS("", " \n\r\n", AC, 0, "no tokens on both sides");
    TOKENS("", "x", WA, 1, "an extra token");
    TOKENS("1 2", "1 2 3", WA, 1, "one token too many");
    TOKENS("1\n2", "1\n3", WA, 2, "a different token on line 2");
    TOKENS("1.0", "1", WA, 1, "numbers are text for tokens");
    TOKENS("a\0b", "a b", WA, 1, "NUL does not separate tokens");
    TOKENS("a\0b c", "a\0b\nc", AC, 0, "NUL inside tokens");
    TOKENS("1 2\r\n", "1 2", AC, 0, "\\r is whitespace");
}

static void test_float(struct tap *t)
{
    static char long_one[700], zeros_five[1100];

    FLOAT("1.0", "1", AC, "1.0 vs 1");
    FLOAT("0.1", "0.100001", AC, "a difference of exactly abs 1e-6 passes");
    FLOAT("0.1", "0.1000011", WA, "1.1e-6 off fails");
    FLOAT("1000000", "1000001", AC, "rel 1e-6 of the expected value");
    FLOAT("1000000", "1000001.5", WA, "1.5e-6 relative fails");
    FLOAT_TOL(1e-6, 0, "1000000", "1000000.5", WA, "abs only: no relative slack");
    FLOAT_TOL(1e-6, 0, "1", "1.000001", AC, "abs 1e-6 edge, inclusive");
    FLOAT_TOL(1e-6, 0, "1", "1.0000011", WA, "just past abs");
    FLOAT_TOL(0, 1e-6, "100", "100.0001", AC, "rel 1e-6 edge, inclusive");
    FLOAT_TOL(0, 1e-6, "100", "100.00011", WA, "just past rel");
    FLOAT_TOL(0, 1e-6, "0", "1e-300", WA, "rel alone: nothing is close to an expected 0");
    FLOAT_TOL(0, 1e-6, "1000000", "999999", AC, "rel is relative to the expected value");
    FLOAT_TOL(0, 1e-6, "999999", "1000000", WA, "and not to the output");
    FLOAT_TOL(0, 0, "1", "1.000000001", WA, "zero tolerances: numeric equality");
    FLOAT_TOL(0, 0, "1.5", "15e-1", AC, "zero tolerances, same value written differently");
    FLOAT("123456789012345678901234567890", "123456789012345678901234567891", AC,
          "30-digit integers");
    FLOAT("1e400", "1e400", AC, "overflowing numbers equal as text");
    FLOAT("1e400", "1E400", WA, "overflowing numbers are text, not infinities");
    FLOAT("1e99999999999999999999999", "2e99999999999999999999999", WA, "huge exponents");
    FLOAT("0", "1e-99999999999999999999", AC, "an underflow is 0");
    FLOAT("0", "-1e-400", AC, "-1e-400 is 0");
    FLOAT("nan", "nan", AC, "nan equal as text");
    FLOAT("nan", "NaN", WA, "nan is not a number: text");
    FLOAT("inf", "inf", AC, "inf equal as text");
    FLOAT("inf", "1e400", WA, "inf is text");
    FLOAT("16", "0x10", WA, "hex is not decimal");
    FLOAT("1", "1.", AC, "trailing point");
    FLOAT("0.5", ".5", AC, "leading point");
    FLOAT(".", ".", AC, "a lone point is text");
    FLOAT("0", ".", WA, "a lone point is not 0");
    FLOAT("1", "+1", AC, "plus sign");
    FLOAT("0", "-0", AC, "negative zero");
    FLOAT("1", "1e", WA, "exponent without digits");
    FLOAT("1", "1e+", WA, "signed exponent without digits");
    FLOAT("-1", "--1", WA, "two signs");
    FLOAT("1.5", "1,5", WA, "decimal comma");
    FLOAT("1 abc 2", "1.0000001 abc 2", AC, "numbers and words mixed");
    FLOAT("abc", "abd", WA, "words compared exactly");
    FLOAT("1 2", "1", WA, "a missing number");
    FLOAT("1\0", "1", WA, "a NUL makes a token text");
    memset(long_one, '0', sizeof(long_one) - 1);
    long_one[0] = '1';
    long_one[1] = '.';
    check(t, CHECKER_FLOAT, 0, 0, S("1"), long_one, strlen(long_one), AC, 0,
          "1. and 697 zeros equals 1 with zero tolerance");
    memset(zeros_five, '0', sizeof(zeros_five) - 1);
    zeros_five[sizeof(zeros_five) - 2] = '5';
    check(t, CHECKER_FLOAT, 0, 0, S("5"), zeros_five, strlen(zeros_five), AC, 0,
          "1098 leading zeros");
    zeros_five[1] = '.';
    check(t, CHECKER_FLOAT, 0, 0, S("5e-1097"), zeros_five, strlen(zeros_five), AC, 0,
          "0.000...5 far below a double's range is 0, as is 5e-1097");
}

static void test_invalid(struct tap *t)
{
    struct checker_outcome out = {CHECKER_PARTIAL, 0.5, 9, 9, 9, 9};
    struct checker_opts o = {CHECKER_FLOAT, -1, 0};
    enum checker_kind k;
    int i;

    tap_ok(t, checker_compare(&o, S("1"), S("1"), &out) == -EINVAL && out.line == 9,
           "negative tolerance: -EINVAL, outcome untouched");
    o.abs_tol = 0;
    o.rel_tol = NAN;
    tap_ok(t, checker_compare(&o, S("1"), S("1"), &out) == -EINVAL, "NaN tolerance: -EINVAL");
    o.kind = CHECKER_CUSTOM;
    tap_ok(t, checker_compare(&o, S("1"), S("1"), &out) == -EINVAL, "custom: -EINVAL");
    o.kind = (enum checker_kind)42;
    tap_ok(t, checker_compare(&o, S("1"), S("1"), &out) == -EINVAL, "kind out of range");
    o.kind = CHECKER_EXACT;
    tap_ok(t, checker_compare(&o, NULL, 5, "", 0, &out) == 0 && out.status == AC,
           "NULL buffers are empty whatever the length");
    for (i = 0; i < CHECKER_KIND_COUNT; i++)
        if (!tap_ok(t,
                    checker_kind_parse(checker_kind_name((enum checker_kind)i), &k) == 0 &&
                        (int)k == i,
                    "kind %s round trip", checker_kind_name((enum checker_kind)i)))
            break;
    tap_ok(t,
           checker_kind_parse("Lines", &k) == -EINVAL && checker_kind_parse(NULL, &k) == -EINVAL &&
               checker_kind_name((enum checker_kind)5) == NULL,
           "kind names are exact; out of range has none");
}

/* checker_testlib_outcome with output out, asserting status and fraction. */
static void testlib(struct tap *t, int code, int signaled, const char *out, size_t len,
                    enum checker_status want, double fraction, const char *what)
{
    struct checker_outcome o;

    checker_testlib_outcome(code, signaled, out, len, &o);
    if (!tap_ok(t, o.status == want && o.fraction == fraction && o.line == 0,
                "testlib exit %d%s: %s (%s)", code, signaled ? " signaled" : "",
                checker_status_name(want), what))
        tap_diag("got %s %g", checker_status_name(o.status), o.fraction);
}

#define TL(code, out, st, f, what) testlib(t, code, 0, S(out), st, f, what)
#define FAIL CHECKER_FAILED

static void test_testlib(struct tap *t)
{
    TL(0, "ok 3 numbers", AC, 1, "accepted");
    TL(1, "wrong answer", WA, 0, "wrong answer");
    TL(2, "", PE, 0, "presentation error");
    TL(3, "FAIL bad jury answer", FAIL, 0, "checker failure");
    TL(4, "", FAIL, 0, "4 (dirt) is not ours to accept");
    TL(5, "", FAIL, 0, "unknown code");
    TL(8, "", FAIL, 0, "8 (unexpected eof)");
    TL(-1, "", FAIL, 0, "negative code");
    TL(255, "", FAIL, 0, "255");
    TL(1, "points 0.5\n", WA, 0, "a points line does not matter without exit 7");
    testlib(t, 0, 1, S(""), FAIL, 0, "killed by a signal or limit");
    testlib(t, 9, 1, S(""), FAIL, 0, "signal 9");
    TL(7, "points 0.5\n", CHECKER_PARTIAL, 0.5, "half");
    TL(7, "points 0.25 well done", CHECKER_PARTIAL, 0.25, "a message after X");
    TL(7, "points\t0.75", CHECKER_PARTIAL, 0.75, "a tab");
    TL(7, "points 0.5\r\n", CHECKER_PARTIAL, 0.5, "\\r\\n");
    TL(7, "points 1e-1", CHECKER_PARTIAL, 0.1, "exponent");
    TL(7, "partial credit\npoints .3\n", CHECKER_PARTIAL, 0.3, "on a later line");
    TL(7, "a\0b\npoints 0.5", CHECKER_PARTIAL, 0.5, "after a NUL byte");
    TL(7, "points 1", AC, 1, "X = 1 is accepted");
    TL(7, "points 1.000", AC, 1, "X = 1.000 is accepted");
    TL(7, "points 0", WA, 0, "X = 0 is a wrong answer");
    TL(7, "points 1.5", FAIL, 0, "X > 1 (absolute points are not accepted)");
    TL(7, "points 5", FAIL, 0, "X = 5");
    TL(7, "points -0.1", FAIL, 0, "X < 0");
    TL(7, "points abc", FAIL, 0, "X not a number");
    TL(7, "points nan", FAIL, 0, "X nan");
    TL(7, "points 0x0.8", FAIL, 0, "X hex");
    TL(7, "points 0.5x", FAIL, 0, "junk after X");
    TL(7, "points", FAIL, 0, "no X");
    TL(7, "points0.5", FAIL, 0, "no space");
    TL(7, "  points 0.5", FAIL, 0, "not at the start of a line");
    TL(7, "", FAIL, 0, "no output");
    TL(7, "pointsx 1\npoints 0.5", FAIL, 0, "the first line starting with points decides");
    testlib(t, 7, 0, NULL, 10, FAIL, 0, "NULL output");
    testlib(t, 7, 1, S("points 0.5"), FAIL, 0, "partial but killed");
}

/* The excerpt of comparing got with expected under kind, checked against want_e/want_g. */
static void excerpt(struct tap *t, enum checker_kind kind, const char *e, size_t elen,
                    const char *g, size_t glen, size_t max, const char *want_e, const char *want_g,
                    const char *what)
{
    struct checker_opts o = {kind, 0, 0};
    struct checker_outcome out;
    struct checker_excerpt x;
    int ok;

    checker_compare(&o, e, elen, g, glen, &out);
    ok = checker_excerpt(e, elen, g, glen, &out, max, &x) == 0 && strcmp(x.expected, want_e) == 0 &&
         strcmp(x.got, want_g) == 0 && x.expected_len == strlen(want_e) &&
         x.got_len == strlen(want_g);
    if (!tap_ok(t, ok, "excerpt: %s", what))
        tap_diag("expected \"%s\" got \"%s\"", x.expected ? x.expected : "-", x.got ? x.got : "-");
    checker_excerpt_free(&x);
}

static int valid_json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n); /* jansson refuses invalid UTF-8 */
    int ok = j != NULL;

    json_decref(j);
    return ok;
}

static void test_excerpt(struct tap *t)
{
    char e[2100], g[2100];
    struct checker_outcome out;
    struct checker_excerpt x;
    struct checker_opts o = {CHECKER_LINES, 0, 0};
    size_t i;

    excerpt(t, CHECKER_LINES, S("a\nb\nc\n"), S("a\nx\nc\n"), 0, "b\n", "x\n", "line 2");
    excerpt(t, CHECKER_EXACT, S("1\n"), S("1"), 0, "1\n", "1", "missing final newline shows");
    excerpt(t, CHECKER_LINES, S("1\n2\n"), S("1\n"), 0, "2\n", "", "a line got lacks is empty");
    excerpt(t, CHECKER_TOKENS, S("1 2 3"), S("1\n2\n4"), 0, "1 2 3", "4",
            "tokens on different lines");
    excerpt(t, CHECKER_LINES, S("a\0b"), S("a\0c"), 0,
            "a\xef\xbf\xbd"
            "b",
            "a\xef\xbf\xbd"
            "c",
            "NUL becomes U+FFFD");

    /* a 2001-byte line differing at byte 1000, max 64: 16 bytes before, 48 from it */
    memset(e, 'a', 2001);
    memcpy(g, e, 2001);
    e[1000] = 'X';
    g[1000] = 'Y';
    checker_compare(&o, e, 2001, g, 2001, &out);
    tap_ok(t,
           checker_excerpt(e, 2001, g, 2001, &out, 64, &x) == 0 && x.expected_len == 64 &&
               x.got_len == 64 && x.expected[16] == 'X' && x.got[16] == 'Y' &&
               x.got_cut == (CHECKER_CUT_BEFORE | CHECKER_CUT_AFTER),
           "a long line is windowed around the difference, cut on both sides");
    checker_excerpt_free(&x);
    tap_ok(t,
           checker_excerpt(e, 2001, g, 2001, &out, 0, &x) == 0 && x.got_len == 256 &&
               x.got[64] == 'Y',
           "max 0 means 256 bytes");
    checker_excerpt_free(&x);

    /* 1000 x "é" (2000 bytes), cut at odd sizes: always whole characters */
    for (i = 0; i < 2000; i += 2)
        memcpy(e + i, "\xc3\xa9", 2);
    memcpy(g, e, 2000);
    g[1001] = '\xa8'; /* "è": differs in the continuation byte */
    checker_compare(&o, e, 2000, g, 2000, &out);
    tap_ok(t,
           checker_excerpt(e, 2000, g, 2000, &out, 65, &x) == 0 && x.got_len <= 65 &&
               x.got_len >= 60 && valid_json_text(x.got, x.got_len) &&
               valid_json_text(x.expected, x.expected_len) && strstr(x.got, "\xc3\xa8"),
           "UTF-8 text is cut on character boundaries and keeps the difference");
    checker_excerpt_free(&x);

    /* invalid bytes grow to 3 bytes each: still at most max */
    memset(g, 0xff, 100);
    checker_compare(&o, "", 0, g, 100, &out);
    tap_ok(t,
           checker_excerpt("", 0, g, 100, &out, 10, &x) == 0 && x.got_len == 9 &&
               valid_json_text(x.got, x.got_len) && (x.got_cut & CHECKER_CUT_AFTER) &&
               x.expected_len == 0,
           "100 invalid bytes in 10 bytes: 3 x U+FFFD");
    checker_excerpt_free(&x);

    checker_testlib_outcome(1, 0, NULL, 0, &out);
    tap_ok(t,
           checker_excerpt(S("first\nsecond"), S("one\ntwo"), &out, 0, &x) == 0 &&
               strcmp(x.expected, "first\n") == 0 && strcmp(x.got, "one\n") == 0,
           "an outcome without a position shows the first lines");
    checker_excerpt_free(&x);
    checker_excerpt_free(&x);
}

static double seconds_since(const struct timespec *a)
{
    struct timespec b;

    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* 8 MB buffers: anything quadratic would take hours; linear takes milliseconds (seconds
 * under sanitizers). */
static void test_large(struct tap *t)
{
    const size_t n = 8u << 20;
    char *e = malloc(n), *g = malloc(n);
    static const enum checker_kind kinds[] = {CHECKER_EXACT, CHECKER_LINES, CHECKER_TOKENS,
                                              CHECKER_FLOAT};
    struct checker_outcome out;
    struct checker_excerpt x;
    struct timespec start;
    size_t i, k;

    for (i = 0; i < n; i += 2)
        memcpy(e + i, "7\n", 2);
    memcpy(g, e, n);
    g[n - 2] = '8'; /* the very last line differs */
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct checker_opts o = {kinds[k], 1e-6, 1e-6};

        clock_gettime(CLOCK_MONOTONIC, &start);
        checker_compare(&o, e, n, g, n, &out);
        tap_ok(t, out.status == WA && out.line == n / 2 && seconds_since(&start) < 20,
               "%s: 4M lines, last one differs: line %zu", checker_kind_name(kinds[k]), out.line);
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    tap_ok(t,
           checker_excerpt(e, n, g, n, &out, 0, &x) == 0 && strcmp(x.got, "8\n") == 0 &&
               seconds_since(&start) < 20,
           "excerpt of the last of 4M lines");
    checker_excerpt_free(&x);
    memset(e, '1', n); /* one 8 MB token */
    memcpy(g, e, n);
    {
        struct checker_opts o = {CHECKER_FLOAT, 0, 0};

        clock_gettime(CLOCK_MONOTONIC, &start);
        checker_compare(&o, e, n, g, n - 1, &out);
        tap_ok(t, out.status == WA && seconds_since(&start) < 20,
               "an 8 MB number is read in linear time (and overflows to text)");
    }
    free(e);
    free(g);
}

int main(void)
{
    struct tap t = {0};

    test_lines(&t);
    test_exact(&t);
    test_tokens(&t);
    test_float(&t);
    test_invalid(&t);
    test_testlib(&t);
    test_excerpt(&t);
    test_large(&t);
    return tap_done(&t);
}
