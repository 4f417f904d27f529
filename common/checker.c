/* SPDX-License-Identifier: MIT */
/* checker: output comparison, testlib results, excerpts (see checker.h). */
#include "checker.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef unsigned char uchar;

/* Significant digits kept when reading a number: far beyond a double's 17, so that cutting
 * the rest changes nothing a tolerance can see, while the text handed to strtod stays
 * small however long the token is. */
#define SIG_DIGITS 40
/* Exponents are clamped here: anything that large over- or underflows a double. Digit
 * counts need no clamp: they are bounded by the buffer's size. */
#define EXP_CLAMP 1000000000000000LL

static const char *const kind_names[CHECKER_KIND_COUNT] = {
    [CHECKER_LINES] = "lines", [CHECKER_EXACT] = "exact",   [CHECKER_TOKENS] = "tokens",
    [CHECKER_FLOAT] = "float", [CHECKER_CUSTOM] = "custom",
};

const char *checker_kind_name(enum checker_kind k)
{
    return (unsigned)k < CHECKER_KIND_COUNT ? kind_names[k] : NULL;
}

int checker_kind_parse(const char *name, enum checker_kind *out)
{
    int k;

    for (k = 0; name && k < CHECKER_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (enum checker_kind)k;
            return 0;
        }
    return -EINVAL;
}

const char *checker_status_name(enum checker_status s)
{
    switch (s) {
    case CHECKER_ACCEPTED:
        return "accepted";
    case CHECKER_PARTIAL:
        return "partial";
    case CHECKER_WRONG:
        return "wrong_answer";
    case CHECKER_PRESENTATION:
        return "presentation_error";
    case CHECKER_FAILED:
        break;
    }
    return "checker_failed";
}

static int is_space(uchar c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Whitespace that may end a line without counting: all of it except the newline. */
static int is_blank(uchar c)
{
    return c != '\n' && is_space(c);
}

static size_t count_lines(const uchar *s, size_t n)
{
    const uchar *p = s, *end = s + n;
    size_t lines = 1;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        lines++;
        p++;
    }
    return lines;
}

static void set_diff(struct checker_outcome *out, enum checker_status st, size_t gline, size_t goff,
                     size_t eline, size_t eoff)
{
    out->status = st;
    out->fraction = st == CHECKER_ACCEPTED ? 1.0 : 0.0;
    out->line = gline;
    out->offset = goff;
    out->expected_line = eline;
    out->expected_offset = eoff;
}

/* The `lines` rules. On a difference: *line, and *eoff and *goff, the first differing byte. */
static int lines_equal(const uchar *e, size_t elen, const uchar *g, size_t glen, size_t *line,
                       size_t *eoff, size_t *goff)
{
    size_t pe = 0, pg = 0, ln = 1;

    /* Trailing whitespace of the whole buffer covers both trailing blank lines and the
     * trailing whitespace of the last line that has content. */
    while (elen && is_space(e[elen - 1]))
        elen--;
    while (glen && is_space(g[glen - 1]))
        glen--;
    while (pe < elen || pg < glen) {
        const uchar *nl;
        size_t le, lg, ce, cg, k = 0;

        nl = pe < elen ? memchr(e + pe, '\n', elen - pe) : NULL;
        le = nl ? (size_t)(nl - e) : elen;
        nl = pg < glen ? memchr(g + pg, '\n', glen - pg) : NULL;
        lg = nl ? (size_t)(nl - g) : glen;
        if (pe > elen) /* ran out: the line is empty */
            pe = le = elen;
        if (pg > glen)
            pg = lg = glen;
        for (ce = le; ce > pe && is_blank(e[ce - 1]); ce--)
            ;
        for (cg = lg; cg > pg && is_blank(g[cg - 1]); cg--)
            ;
        while (pe + k < ce && pg + k < cg && e[pe + k] == g[pg + k])
            k++;
        if (pe + k != ce || pg + k != cg) {
            *line = ln;
            *eoff = pe + k;
            *goff = pg + k;
            return 0;
        }
        pe = le + 1;
        pg = lg + 1;
        ln++;
    }
    return 1;
}

static void compare_exact(const uchar *e, size_t elen, const uchar *g, size_t glen,
                          struct checker_outcome *out)
{
    size_t i = 0, ln, dl, eo, go;

    while (i < elen && i < glen && e[i] == g[i])
        i++;
    if (i == elen && i == glen) {
        set_diff(out, CHECKER_ACCEPTED, 0, 0, 0, 0);
        return;
    }
    ln = count_lines(g, i); /* the prefix is common, so it is the same line in both */
    set_diff(out,
             lines_equal(e, elen, g, glen, &dl, &eo, &go) ? CHECKER_PRESENTATION : CHECKER_WRONG,
             ln, i, ln, i);
}

/* A cursor over the tokens of a buffer, counting lines as it goes. */
struct scan {
    const uchar *s;
    size_t n, pos, line;
    size_t tok, len, tok_line; /* the current token */
};

static int next_token(struct scan *c)
{
    while (c->pos < c->n && is_space(c->s[c->pos]))
        if (c->s[c->pos++] == '\n')
            c->line++;
    if (c->pos == c->n)
        return 0;
    c->tok = c->pos;
    c->tok_line = c->line;
    while (c->pos < c->n && !is_space(c->s[c->pos]))
        c->pos++;
    c->len = c->pos - c->tok;
    return 1;
}

static int is_digit(uchar c)
{
    return c >= '0' && c <= '9';
}

/* Adds a digit to a clamped non-negative exponent. */
static long long clamp_add(long long v, int d)
{
    return v >= EXP_CLAMP ? EXP_CLAMP : v * 10 + d;
}

/* Whether s[0..n) is a decimal number by the grammar of checker.h, and its value. Only the
 * first SIG_DIGITS significant digits are kept; they are handed to strtod as an integer
 * with an exponent ("123e-5"), so the radix character of the locale never matters. */
static int decimal_value(const uchar *s, size_t n, double *v)
{
    char buf[SIG_DIGITS + 32], *end;
    size_t i = 0, nd = 0, mant = 0;
    long long intdigits = 0, zeros = 0, exp = 0;
    int neg = 0, point = 0, eneg = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n && (is_digit(s[i]) || (s[i] == '.' && !point)); i++) {
        if (s[i] == '.') {
            point = 1;
            continue;
        }
        mant++;
        if (!point)
            intdigits++;
        if (nd == 0 && s[i] == '0')
            zeros++;
        else if (nd < SIG_DIGITS)
            buf[neg + nd++] = (char)s[i];
    }
    if (mant == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i == n || !is_digit(s[i]))
            return 0;
        for (; i < n && is_digit(s[i]); i++)
            exp = clamp_add(exp, s[i] - '0');
    }
    if (i != n)
        return 0;
    if (nd == 0) {
        *v = 0.0;
        return 1;
    }
    /* value = 0.D x 10^(intdigits - zeros + exp) = D x 10^(that - nd) */
    if (neg)
        buf[0] = '-';
    snprintf(buf + neg + nd, sizeof(buf) - neg - nd, "e%lld",
             intdigits - zeros + (eneg ? -exp : exp) - (long long)nd);
    *v = strtod(buf, &end);
    return isfinite(*v);
}

/* fabs without libm (common links none). */
static double absd(double x)
{
    return x < 0 ? -x : x;
}

/* The float rule; the slack of a few units in the last place absorbs the binary rounding of
 * decimal operands, so a difference exactly at the tolerance passes. */
static int close_enough(double got, double want, double abs_tol, double rel_tol)
{
    double d = absd(got - want), big = absd(got) > absd(want) ? absd(got) : absd(want);
    double slack = 4 * DBL_EPSILON * big;

    return d <= abs_tol + slack || d <= rel_tol * absd(want) + slack;
}

static int tokens_equal(const struct checker_opts *o, const struct scan *e, const struct scan *g)
{
    double a, b;

    if (e->len == g->len && memcmp(e->s + e->tok, g->s + g->tok, e->len) == 0)
        return 1;
    return o->kind == CHECKER_FLOAT && decimal_value(g->s + g->tok, g->len, &a) &&
           decimal_value(e->s + e->tok, e->len, &b) && close_enough(a, b, o->abs_tol, o->rel_tol);
}

static void compare_tokens(const struct checker_opts *o, const uchar *e, size_t elen,
                           const uchar *g, size_t glen, struct checker_outcome *out)
{
    struct scan se = {e, elen, 0, 1, 0, 0, 1}, sg = {g, glen, 0, 1, 0, 0, 1};

    for (;;) {
        int he = next_token(&se), hg = next_token(&sg);

        if (!he && !hg) {
            set_diff(out, CHECKER_ACCEPTED, 0, 0, 0, 0);
            return;
        }
        if (he && hg && tokens_equal(o, &se, &sg))
            continue;
        /* a side without a token keeps the end of its last one (tok + len of the previous
         * round, untouched by next_token when it finds none) */
        set_diff(out, CHECKER_WRONG, sg.tok_line, hg ? sg.tok : sg.tok + sg.len, se.tok_line,
                 he ? se.tok : se.tok + se.len);
        return;
    }
}

int checker_compare(const struct checker_opts *o, const void *expected, size_t elen,
                    const void *got, size_t glen, struct checker_outcome *out)
{
    const uchar *e = expected ? expected : (const void *)"";
    const uchar *g = got ? got : (const void *)"";
    size_t ln, eo, go;

    if (!expected)
        elen = 0;
    if (!got)
        glen = 0;
    switch (o->kind) {
    case CHECKER_EXACT:
        compare_exact(e, elen, g, glen, out);
        return 0;
    case CHECKER_LINES:
        if (lines_equal(e, elen, g, glen, &ln, &eo, &go))
            set_diff(out, CHECKER_ACCEPTED, 0, 0, 0, 0);
        else
            set_diff(out, CHECKER_WRONG, ln, go, ln, eo);
        return 0;
    case CHECKER_FLOAT:
        if (!(o->abs_tol >= 0) || !(o->rel_tol >= 0)) /* NaN fails both */
            return -EINVAL;
        compare_tokens(o, e, elen, g, glen, out);
        return 0;
    case CHECKER_TOKENS:
        compare_tokens(o, e, elen, g, glen, out);
        return 0;
    case CHECKER_CUSTOM:
        break;
    }
    return -EINVAL;
}

/* The X of the first line starting with "points", or -1 when that line is malformed or
 * there is none. */
static double testlib_points(const uchar *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const uchar *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n, p = i + 6, t;
        double x;

        if (end - i >= 6 && memcmp(s + i, "points", 6) == 0) {
            if (p == end || (s[p] != ' ' && s[p] != '\t'))
                return -1;
            while (p < end && (s[p] == ' ' || s[p] == '\t'))
                p++;
            for (t = p; t < end && !is_space(s[t]); t++)
                ;
            return decimal_value(s + p, t - p, &x) && x >= 0 && x <= 1 ? x : -1;
        }
        i = end + 1;
    }
    return -1;
}

int checker_testlib_outcome(int exit_code, int signaled, const char *output, size_t len,
                            struct checker_outcome *out)
{
    enum checker_status st = CHECKER_FAILED;
    double x = 0;

    if (!output)
        len = 0;
    if (!signaled) {
        switch (exit_code) {
        case 0:
            st = CHECKER_ACCEPTED;
            break;
        case 1:
            st = CHECKER_WRONG;
            break;
        case 2:
            st = CHECKER_PRESENTATION;
            break;
        case 7:
            x = testlib_points((const uchar *)output, len);
            st = x < 0    ? CHECKER_FAILED
                 : x == 0 ? CHECKER_WRONG
                 : x == 1 ? CHECKER_ACCEPTED
                          : CHECKER_PARTIAL;
            break;
        default:
            break; /* 3 is the checker's own failure; anything else is unexpected */
        }
    }
    set_diff(out, st, 0, 0, 0, 0);
    if (st == CHECKER_PARTIAL)
        out->fraction = x;
    return 0;
}

static int is_cont(uchar c)
{
    return (c & 0xC0) == 0x80;
}

/* One side of an excerpt: line `line` (1 when 0) of s[0..n), windowed around off. */
static int excerpt_side(const uchar *s, size_t n, size_t line, size_t off, size_t max, char **text,
                        size_t *text_len, int *cut)
{
    size_t ls = 0, le, ws, we, ln, k;
    const uchar *nl;
    char *clean;

    for (ln = 1; ln < line && ls < n; ln++) {
        nl = memchr(s + ls, '\n', n - ls);
        ls = nl ? (size_t)(nl - s) + 1 : n;
    }
    if (ln < line) /* the buffer has fewer lines */
        ls = n;
    nl = ls < n ? memchr(s + ls, '\n', n - ls) : NULL;
    le = nl ? (size_t)(nl - s) + 1 : n; /* the terminator belongs to the line */
    ws = ls;
    if (le - ls > max && off > ls + max / 4 && off <= le)
        ws = off - max / 4 < le - max ? off - max / 4 : le - max;
    /* cut on UTF-8 boundaries (3 steps at most: further is invalid text anyway) */
    for (k = 0; k < 3 && ws > ls && ws < le && is_cont(s[ws]); k++)
        ws++;
    we = le - ws > max ? ws + max : le;
    for (k = 0; k < 3 && we < le && we > ws && is_cont(s[we]); k++)
        we--;
    *cut = (ws > ls ? CHECKER_CUT_BEFORE : 0) | (we < le ? CHECKER_CUT_AFTER : 0);
    if (!(clean = utf8_sanitize((const char *)s + ws, we - ws, text_len)))
        return -ENOMEM;
    /* U+FFFD for an invalid byte takes 3: cut the sanitized text back to max on a
     * character boundary */
    if (*text_len > max) {
        for (k = max; k > 0 && is_cont((uchar)clean[k]); k--)
            ;
        clean[k] = '\0';
        *text_len = k;
        *cut |= CHECKER_CUT_AFTER;
    }
    *text = clean;
    return 0;
}

int checker_excerpt(const void *expected, size_t elen, const void *got, size_t glen,
                    const struct checker_outcome *o, size_t max, struct checker_excerpt *out)
{
    const uchar *e = expected ? expected : (const void *)"";
    const uchar *g = got ? got : (const void *)"";
    int r;

    memset(out, 0, sizeof(*out));
    if (!max)
        max = CHECKER_EXCERPT_DEFAULT;
    r = excerpt_side(e, expected ? elen : 0, o->expected_line, o->expected_offset, max,
                     &out->expected, &out->expected_len, &out->expected_cut);
    if (r == 0)
        r = excerpt_side(g, got ? glen : 0, o->line, o->offset, max, &out->got, &out->got_len,
                         &out->got_cut);
    if (r < 0)
        checker_excerpt_free(out);
    return r;
}

void checker_excerpt_free(struct checker_excerpt *x)
{
    free(x->expected);
    free(x->got);
    memset(x, 0, sizeof(*x));
}
