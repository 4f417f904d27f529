/* SPDX-License-Identifier: MIT */
/* job_sched: when and in which order a job runs, and when a failed one runs again.
 * Does: read "priority" (0..9 or high/normal/low) and "run_at" (RFC 3339 time or Unix
 * seconds) from a request; map a priority to its lane (high 0-3, normal 4-6, low 7-9); the
 * delay before an infrastructure retry (exponential, capped, with jitter).
 * Must not: read the clock or draw random numbers (callers pass now and rnd), or do I/O. */
#ifndef RUNQ_COMMON_JOB_SCHED_H
#define RUNQ_COMMON_JOB_SCHED_H

#include <jansson.h>
#include <stdint.h>

#include "job.h"

#define JOB_SCHED_LANE_HIGH 0
#define JOB_SCHED_LANE_NORMAL 1
#define JOB_SCHED_LANE_LOW 2

/* The priorities the names stand for. */
#define JOB_PRIORITY_HIGH 1
#define JOB_PRIORITY_LOW 9

/* "priority": an integer JOB_PRIORITY_MIN..MAX (0 most urgent) or "high" (1), "normal" (5),
 * "low" (9). 0, or -EINVAL with *e naming the field. */
int job_sched_priority(const json_t *v, int *out, struct api_error *e);

/* The lane of a priority: JOB_SCHED_LANE_HIGH for 0-3, NORMAL for 4-6, LOW for 7-9. */
int job_sched_lane(int priority);

/* "run_at": "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" or a number of Unix seconds. *out_ms is
 * the time in ms, or 0 when it is not after now_ms (run at once). More than max_delay_ms
 * ahead (0: no limit) is -EINVAL with a 422 ("limit_too_high", field "run_at"). */
int job_sched_run_at(const json_t *v, int64_t now_ms, int64_t max_delay_ms, int64_t *out_ms,
                     struct api_error *e);

/* The delay before retry number `attempt` (1 for the first) of a job that failed on our
 * side: min(cap, base * 2^(attempt-1)), then the upper half of it at random ("equal jitter":
 * d/2 + rnd % (d/2 + 1)), so retries of many jobs spread out. base 1 s, cap 60 s. */
uint64_t job_sched_retry_delay_ms(unsigned attempt, uint32_t rnd);

#endif
