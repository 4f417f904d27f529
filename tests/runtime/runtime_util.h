/* SPDX-License-Identifier: MIT */
/* runtime_util: helpers for tests that drive a warm slot through the library API.
 * Must not: hide a failure: every helper returns what happened for the test to assert. */
#ifndef RUNQ_TESTS_RUNTIME_UTIL_H
#define RUNQ_TESTS_RUNTIME_UTIL_H

#include "sbx_slot.h"

/* Fills a spec with default limits for argv; files/collect as given (may be NULL/0). */
void rt_spec(struct sbx_run_spec *spec, char *const *argv, const struct sbx_file *files,
             size_t nfiles, const char *const *collect, size_t ncollect);

/* Runs and returns the status; *res must be cleared by the caller. Prints a diagnostic
 * line with the JSON result when the status differs from want. */
enum sbx_status rt_run(struct sbx_slot *slot, const struct sbx_run_spec *spec,
                       struct sbx_result *res, enum sbx_status want);

/* Whether the captured stdout contains needle. */
int rt_stdout_has(const struct sbx_result *res, const char *needle);

/* Number of open descriptors of this process. */
int rt_count_fds(void);

#endif
