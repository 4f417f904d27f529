/* SPDX-License-Identifier: MIT */
/* job_store: one job's record where the dispatcher finds it: the Redis hash (the live
 * snapshot, kept results.ttl after the job finished) first, then the PostgreSQL row (the
 * durable copy the worker wrote before its ack) when Redis no longer has it.
 * Does: read a job as API JSON (api_job_from_rq / api_job_from_row) with that fallback;
 * delete a finished job: its PostgreSQL row, then its Redis hash (should Redis be away, the
 * hash expires with results.ttl, and until then GET still shows it).
 * Must not: answer HTTP, block the loop, or delete a job that is queued or running.
 * While PostgreSQL is not connected, what needs it fails at once with -ENOTCONN (from_db)
 * instead of waiting in the db queue: an unknown id is then 503, not 404.
 * Ownership: rq and db are borrowed (db may be NULL: no fallback, deletes fail -ENOTCONN).
 * Every accepted request gets exactly one callback (rq and db guarantee theirs, -ECANCELED
 * at close), never from inside the call that made it. */
#ifndef RUNQ_DISPATCHER_JOB_STORE_H
#define RUNQ_DISPATCHER_JOB_STORE_H

#include <jansson.h>

#include "db.h"
#include "rq.h"

struct job_store;

struct job_store_result {
    int status;   /* 0, -ENOENT (unknown to both), -EBUSY (delete: queued or running), -errno */
    int from_db;  /* the failure (or the job) came from PostgreSQL */
    json_t *job;  /* status 0: the job (borrowed: valid during the callback) */
    int finished; /* status 0: completed, failed or cancelled */
};

typedef void job_store_fn(void *arg, const struct job_store_result *res);

/* Returns 0 with *out set, -EINVAL or -ENOMEM. */
int job_store_new(struct rq *rq, struct db *db, struct job_store **out);
void job_store_free(struct job_store *s);

/* 1 when a PostgreSQL handle was given. */
int job_store_has_db(const struct job_store *s);

/* Reads the job. Returns 0 (cb will run) or a negative errno (cb will not run). */
int job_store_get(struct job_store *s, const char *id, job_store_fn *cb, void *arg);

/* Reads the job; when finished, deletes its PostgreSQL row and Redis hash (status 0 whether
 * a row was there or not, job = the record before deletion); -EBUSY when queued or running. */
int job_store_delete(struct job_store *s, const char *id, job_store_fn *cb, void *arg);

#endif
