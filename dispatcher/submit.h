/* SPDX-License-Identifier: MIT */
/* submit: POST /v1/jobs. job_spec_parse -> rq_enqueue: 202 {"id", "status": "queued"} +
 * Location; 200 {"id", "duplicate": true} + Location for an Idempotency-Key seen before
 * (kept 24 h); 415 not JSON; 400 bad Idempotency-Key; 400/413/422 from job_spec_parse;
 * 503 + Retry-After: 1 when the queue is full; 503 when Redis is down.
 * Does: request checks, the canonical spec (a lone "source" is named after the language's
 * file), the enqueue, the answer.
 * Must not: block the loop, parse job JSON itself (job.h) or keep state. */
#ifndef RUNQ_DISPATCHER_SUBMIT_H
#define RUNQ_DISPATCHER_SUBMIT_H

#include "config.h"
#include "http_server.h"
#include "job.h"
#include "languages.h"
#include "rq.h"

/* Takes ex and answers it (possibly later). cfg, langs and rq are borrowed and must outlive
 * the answer. */
void submit_job(const struct runq_config *cfg, const struct languages *langs, struct rq *rq,
                struct http_exchange *ex);

/* What the policy callbacks look things up in. */
struct submit_ctx {
    const struct runq_config *cfg;
    const struct languages *langs;
};

/* The job policy of this dispatcher (limits, sizes, the clock for run_at); c must outlive
 * the parse. */
void submit_policy(struct submit_ctx *c, struct job_policy *pol);

/* 1 when ex's Content-Type is "application/json" (any case, parameters such as charset
 * allowed); otherwise answers 415 unsupported_media_type and returns 0. */
int submit_require_json(struct http_exchange *ex);

/* A lone "source" gets the name of its language's file. 0 or -ENOMEM (or an unknown
 * language, which the parse has ruled out). */
int submit_name_source(const struct languages *langs, struct job_spec *spec);

/* The queue called name in cfg, or NULL. */
const struct config_queue *submit_find_queue(const struct runq_config *cfg, const char *name);

#endif
