/* SPDX-License-Identifier: MIT */
/* runq_junit: see runq_junit.h. Every string that reaches the XML goes through one escape
 * function that also decodes UTF-8, because program output and file names are arbitrary
 * bytes and one stray control byte makes a whole report unreadable to a CI server. */
#include "runq_junit.h"

#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* The length of the well-formed UTF-8 sequence at s[0..len) and its code point, or 0 when
 * it is not one (overlong, surrogate, above U+10FFFF, cut short, a stray continuation). */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t n, i;
    unsigned c = s[0], min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Whether XML 1.0 allows code point c in a document (its Char production). */
static int xml_char(unsigned c)
{
    return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
           (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

static void escape_to(FILE *f, const char *s, size_t len, int attr)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    unsigned c;

    while (i < len) {
        if (!(n = utf8_seq(p + i, len - i, &c)) || !xml_char(c)) {
            fputs(REPLACEMENT, f);
            i += n ? n : 1;
            continue;
        }
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&apos;", f);
        else if (attr && (c == '\t' || c == '\n' || c == '\r'))
            fprintf(f, "&#%u;", c);
        else if (c == '\r')
            fputs("&#13;", f); /* a parser would turn a bare CR (and CRLF) into LF */
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
}

char *runq_junit_escape(const char *s, size_t len, int attr)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);

    if (!f)
        return NULL;
    escape_to(f, s ? s : "", s ? len : 0, attr);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* An attribute: ` name="value"`. */
static void attr(FILE *f, const char *name, const char *value)
{
    fprintf(f, " %s=\"", name);
    escape_to(f, value ? value : "", value ? strlen(value) : 0, 1);
    fputc('"', f);
}

static double seconds(long long ms)
{
    return ms > 0 ? (double)ms / 1000.0 : 0.0;
}

struct counts {
    size_t tests, failures, errors, skipped;
    double time;
};

/* What a test is in JUnit terms: 0 passed, 'f' failure, 'e' error, 's' skipped. */
static int kind(const struct runq_report_sub *s, const struct runq_report_test *t)
{
    if (!s->verdict || !t->verdict || !strcmp(t->verdict, "IE"))
        return 'e';
    if (!strcmp(t->verdict, "AC"))
        return 0;
    return strcmp(t->verdict, "SK") ? 'f' : 's';
}

static void count(const struct runq_report_sub *s, struct counts *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < s->ntests; i++) {
        int k = kind(s, &s->tests[i]);
        c->tests++;
        c->failures += k == 'f';
        c->errors += k == 'e';
        c->skipped += k == 's';
        c->time += seconds(s->tests[i].cpu_ms);
    }
}

static void testcase(FILE *f, const struct runq_report_sub *s, const struct runq_report_test *t)
{
    int k = kind(s, t);
    char msg[160];

    fputs("    <testcase", f);
    attr(f, "classname", s->name);
    attr(f, "name", t->name);
    fprintf(f, " time=\"%.3f\"", seconds(t->cpu_ms));
    if (!k) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    if (k == 's') {
        fputs("      <skipped message=\"not run: an earlier test failed (stop on failure)\"/>\n",
              f);
    } else if (k == 'e') {
        fputs("      <error", f);
        attr(f, "type", t->verdict && s->verdict ? t->verdict : "ERROR");
        attr(f, "message",
             s->verdict ? "internal error (the fleet's, not the program's)"
                        : (s->error ? s->error : "not graded"));
        fputs("/>\n", f);
    } else {
        snprintf(msg, sizeof(msg), "%s: %g/%g points", t->verdict, t->score, t->points);
        fputs("      <failure", f);
        attr(f, "type", t->verdict);
        attr(f, "message", msg);
        if (t->detail) {
            fputc('>', f);
            escape_to(f, t->detail, strlen(t->detail), 0);
            fputs("</failure>\n", f);
        } else {
            fputs("/>\n", f);
        }
    }
    fputs("    </testcase>\n", f);
}

static void testsuite(FILE *f, const struct runq_report_sub *s)
{
    struct counts c;
    char score[64];
    size_t i;

    count(s, &c);
    fputs("  <testsuite", f);
    attr(f, "name", s->name);
    fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            c.tests, c.failures, c.errors, c.skipped, c.time);
    snprintf(score, sizeof(score), "%g/%g", s->verdict ? s->score : 0, s->max_score);
    fputs("    <properties>\n", f);
    fputs("      <property name=\"job_id\"", f);
    attr(f, "value", s->job_id ? s->job_id : "");
    fputs("/>\n      <property name=\"language\"", f);
    attr(f, "value", s->language ? s->language : "");
    fputs("/>\n      <property name=\"verdict\"", f);
    attr(f, "value", s->verdict ? s->verdict : "ERROR");
    fputs("/>\n      <property name=\"score\"", f);
    attr(f, "value", score);
    fputs("/>\n    </properties>\n", f);
    for (i = 0; i < s->ntests; i++)
        testcase(f, s, &s->tests[i]);
    if (s->compile && *s->compile) {
        fputs("    <system-err>", f);
        escape_to(f, s->compile, strlen(s->compile), 0);
        fputs("</system-err>\n", f);
    }
    fputs("  </testsuite>\n", f);
}

char *runq_junit_report(const struct runq_report_sub *subs, size_t n)
{
    struct counts all = {0}, c;
    char *out = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    for (i = 0; i < n; i++) {
        count(&subs[i], &c);
        all.tests += c.tests;
        all.failures += c.failures;
        all.errors += c.errors;
        all.skipped += c.skipped;
        all.time += c.time;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<testsuites name=\"runq grade\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\">\n",
            all.tests, all.failures, all.errors, all.skipped, all.time);
    for (i = 0; i < n; i++)
        testsuite(f, &subs[i]);
    fputs("</testsuites>\n", f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
