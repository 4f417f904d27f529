/* SPDX-License-Identifier: MIT */
/* tap.h: a minimal Test Anything Protocol emitter for meson's `protocol: 'tap'`.
 * Does: numbered ok/not ok lines, diagnostics, a plan at the end.
 * Must not: exit early on a failure (one broken case must not hide the rest). */
#ifndef RUNQ_TESTS_TAP_H
#define RUNQ_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

struct tap {
    int count;
    int failed;
};

static inline int tap_ok(struct tap *t, int cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int tap_ok(struct tap *t, int cond, const char *fmt, ...)
{
    va_list ap;

    t->count++;
    if (!cond)
        t->failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", t->count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#define tap_diag(...)                                                                              \
    do {                                                                                           \
        printf("# ");                                                                              \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

/* Prints the plan and returns the process exit code. */
static inline int tap_done(struct tap *t)
{
    printf("1..%d\n", t->count);
    return t->failed ? 1 : 0;
}

#endif
