/* SPDX-License-Identifier: MIT */
/* checker: decides whether a program's output answers a test, for batch grading.
 * Does: the built-in comparisons (exact, lines, tokens, float) on byte buffers that may hold
 * NUL bytes or invalid UTF-8, in linear time without recursion or allocation; the position
 * of the first difference and a bounded JSON-safe excerpt around it; the reading of a custom
 * checker's exit code and output under the testlib convention.
 * Must not: run or compile anything (the worker runs custom checkers in the sandbox), do I/O,
 * keep state, or decide verdicts or scores (grade does: a checker only says how the output
 * compares). */
#ifndef RUNQ_COMMON_CHECKER_H
#define RUNQ_COMMON_CHECKER_H

#include <stddef.h>

/* How output is compared. "Whitespace" below is space, \t, \n, \v, \f and \r; NUL bytes are
 * never whitespace.
 *   lines   THE DEFAULT. Line by line, ignoring the whitespace at the end of each line
 *           (which makes \r\n the same as \n) and whitespace-only lines at the end of the
 *           output. Leading whitespace and blank lines in the middle count.
 *   exact   Byte-equal. Output that is not, but would pass `lines`, is a presentation error.
 *   tokens  The same sequence of whitespace-separated tokens, each byte-equal.
 *   float   Like tokens, but two tokens that both are finite decimal numbers
 *           ([+-]? digits [. digits] [(e|E) [+-] digits], a digit on at least one side of the
 *           point; no hex, inf or nan) are equal when |got - expected| <= abs_tol or
 *           <= rel_tol * |expected|, up to a few units in the last place of binary rounding
 *           (so 0.1 vs 0.100001 passes abs_tol 1e-6). A number too large for a double
 *           ("1e400") is not finite and is compared as text; one too small is 0.
 *   custom  A checker program (testlib convention, see checker_testlib_outcome); not
 *           handled by checker_compare. */
enum checker_kind {
    CHECKER_LINES,
    CHECKER_EXACT,
    CHECKER_TOKENS,
    CHECKER_FLOAT,
    CHECKER_CUSTOM,
};
#define CHECKER_KIND_COUNT 5

#define CHECKER_DEFAULT_ABS 1e-6 /* float checker given no tolerances */
#define CHECKER_DEFAULT_REL 1e-6
#define CHECKER_EXCERPT_DEFAULT 256 /* bytes per side of an excerpt when max is 0 */

struct checker_opts {
    enum checker_kind kind;
    double abs_tol; /* CHECKER_FLOAT only: >= 0 */
    double rel_tol;
};

/* Accepted, partially accepted (testlib exit code 7 with 0 < X < 1), wrong answer,
 * presentation error, or a failure of the checker itself (ours, not the contestant's). */
enum checker_status {
    CHECKER_ACCEPTED,
    CHECKER_PARTIAL,
    CHECKER_WRONG,
    CHECKER_PRESENTATION,
    CHECKER_FAILED,
};

/* Where the first difference is. Lines are 1-based; 0 when no position is known (accepted,
 * or a custom checker's answer). Built-in kinds always set both positions of a difference:
 *   exact, lines  the same line in both; the offsets are the first differing byte (for lines,
 *                 within the compared line, trailing whitespace left out).
 *   tokens, float the line and offset of the differing token in each buffer; a buffer that
 *                 ran out of tokens gives the end of its last token (line 1, offset 0 if it
 *                 has none). */
struct checker_outcome {
    enum checker_status status;
    double fraction; /* share of the test's points: 1 accepted, (0,1) partial, else 0 */
    size_t line;     /* in the program's output ("got") */
    size_t offset;   /* byte offset in got */
    size_t expected_line;
    size_t expected_offset;
};

/* "lines", "exact", "tokens", "float", "custom"; NULL for a value out of range. */
const char *checker_kind_name(enum checker_kind k);

/* The kind named name. Returns 0, or -EINVAL for any other string (NULL included). */
int checker_kind_parse(const char *name, enum checker_kind *out);

/* "accepted", "partial", "wrong_answer", "presentation_error", "checker_failed". */
const char *checker_status_name(enum checker_status s);

/* Compares got[0..glen) with expected[0..elen) (either may be NULL when its length is 0).
 * Returns 0 with *out filled, or -EINVAL (and *out untouched) for CHECKER_CUSTOM, a kind out
 * of range, or float tolerances that are negative or NaN. */
int checker_compare(const struct checker_opts *o, const void *expected, size_t elen,
                    const void *got, size_t glen, struct checker_outcome *out);

/* The testlib convention for a custom checker's result:
 *   exit 0 accepted, 1 wrong answer, 2 presentation error, 3 checker failure (our internal
 *   error); exit 7 partial points: the first line of output starting with "points" must be
 *   "points X" (spaces or tabs between, X a decimal number as above followed by whitespace
 *   or the end) with 0 <= X <= 1. X is the FRACTION of the test's points earned, whatever
 *   the test is worth (DMOJ's testlib bridge and CMS's outcome in [0,1] read it so; a
 *   checker need not know the points). X == 1 is accepted, X == 0 a wrong answer, anything
 *   between partial. A missing or malformed line, or X outside [0,1], is a checker failure.
 *   Any other exit code, or signaled (nonzero when the checker was killed by a signal or by
 *   a sandbox limit instead of exiting), is a checker failure.
 * output is what the checker wrote where testlib writes its verdict (its stderr), len bytes,
 * NUL bytes allowed. The outcome has no position (line 0). Returns 0. */
int checker_testlib_outcome(int exit_code, int signaled, const char *output, size_t len,
                            struct checker_outcome *out);

/* Expected and got text around the first difference of an outcome, for a per-test result:
 * the line (with its line terminator, so a missing final newline shows) of each buffer at
 * the outcome's line, or its first line when the outcome has no position. A line longer
 * than max bytes is windowed to max bytes starting a quarter of max before the difference.
 * A line the buffer does not have is "". Cuts fall on UTF-8 boundaries; invalid UTF-8 and
 * NUL bytes become U+FFFD; the result never exceeds max bytes (CHECKER_EXCERPT_DEFAULT when
 * max is 0). */
struct checker_excerpt {
    char *expected; /* malloc'ed, NUL-terminated valid UTF-8 */
    size_t expected_len;
    int expected_cut; /* CHECKER_CUT_* of the line that were left out */
    char *got;
    size_t got_len;
    int got_cut;
};
#define CHECKER_CUT_BEFORE 1 /* bytes of the line before the excerpt were left out */
#define CHECKER_CUT_AFTER 2  /* bytes of the line after the excerpt were left out */

/* Returns 0 with *out filled (free it with checker_excerpt_free), or -ENOMEM with *out
 * zeroed. */
int checker_excerpt(const void *expected, size_t elen, const void *got, size_t glen,
                    const struct checker_outcome *o, size_t max, struct checker_excerpt *out);

/* Frees what *x owns and zeroes it; safe on a zeroed excerpt. */
void checker_excerpt_free(struct checker_excerpt *x);

#endif
