/* SPDX-License-Identifier: MIT */
/* runq_junit: `runq grade --junit`: the graded submissions (runq_report rows) as JUnit XML,
 * the format CI systems read test results in.
 * Does: one <testsuite> per submission, one <testcase> per test; escape every text and
 * attribute so that any program output, name or message gives well-formed XML 1.0.
 * Must not: do I/O, or decide verdicts or exit codes (runq_report has them). */
#ifndef RUNQ_CLI_JUNIT_H
#define RUNQ_CLI_JUNIT_H

#include <stddef.h>

#include "runq_report.h"

/* <testsuites name="runq grade" tests failures errors skipped time> with one <testsuite
 * name=submission> per submission (properties: job_id, language, verdict, score) and one
 * <testcase classname=submission name=test time=CPU seconds> per test. AC passes; SK is
 * <skipped/>; IE and every test of a submission not graded are <error/>; any other
 * verdict, PA included (JUnit has no partial pass, and a test short of its points must not
 * read as green), is <failure type=verdict message=.../>. A CE's compiler output is the
 * testsuite's <system-err>. malloc'ed; NULL when out of memory. */
char *runq_junit_report(const struct runq_report_sub *subs, size_t n);

/* s[0..len) escaped for XML 1.0 text (attr 0) or a double-quoted attribute value (attr 1:
 * TAB, LF and CR also as character references, which attribute-value normalization would
 * otherwise turn into spaces): & < > " ' escaped; invalid UTF-8 and the characters XML 1.0
 * forbids (controls but TAB, LF, CR; surrogates; U+FFFE, U+FFFF) as U+FFFD. malloc'ed;
 * NULL when out of memory. */
char *runq_junit_escape(const char *s, size_t len, int attr);

#endif
