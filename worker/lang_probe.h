/* SPDX-License-Identifier: MIT */
/* lang_probe: what each configured language's runtime prints for its version command, found
 * by running that command in a sandbox slot exactly like a job (same binds, user and limits
 * as the language's compile step, or its run step when it does not compile), and published
 * to Redis (runq:languages) for GET /v1/languages.
 * Does: one probe at a time, at worker start, only in a slot that is idle while no job waits
 * for one; then it is over. A runtime that is missing or fails is published as
 * "unavailable (<status>)" so users see it before they submit.
 * Must not: hold a slot a job wants, retry forever, or fail the worker. */
#ifndef RUNQ_WORKER_LANG_PROBE_H
#define RUNQ_WORKER_LANG_PROBE_H

#include <stddef.h>

struct runner_env;
struct lang_probe;

/* Starts probing env's languages (env must outlive the probe). 0, or -ENOMEM. */
int lang_probe_start(struct runner_env *env, struct lang_probe **out);

/* Stops (a probe in a slot finishes unseen) and frees p once its handle is closed and any
 * probe in a slot has answered. Call once, also after every language was probed. */
void lang_probe_stop(struct lang_probe *p);

/* The first line of out (or of err when out has none), trimmed, at most cap - 1 bytes, into
 * buf. Pure: for the probe and its tests. Returns the length (0: nothing printed). */
size_t lang_probe_first_line(const char *out, const char *err, char *buf, size_t cap);

#endif
