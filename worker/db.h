/* SPDX-License-Identifier: MIT */
/* db: one PostgreSQL connection driven by a libuv loop (libpq in non-blocking mode, uv_poll
 * on PQsocket), with a FIFO of queries (one in flight), connect and query timeouts, automatic
 * reconnect with capped exponential backoff and jitter, and the schema migrator.
 * Does: copy each query in, deliver every query's result exactly once to its callback.
 * Must not: block the loop (no PQexec, PQconnectdb, PQcancel, PQreset), retry a query that
 * was sent (the caller knows whether it is idempotent), or free memory before its handles'
 * close callbacks have run. */
#ifndef RUNQ_WORKER_DB_H
#define RUNQ_WORKER_DB_H

#include <stdint.h>
#include <uv.h>

struct db;

/* Reconnect delays: attempt 0 waits about base_ms, each failure doubles it up to max_ms. */
struct db_backoff {
    uint64_t base_ms; /* 0 = 100 */
    uint64_t max_ms;  /* 0 = 10000 */
};

/* Zero fields take the defaults shown. */
struct db_options {
    uint64_t connect_timeout_ms; /* 0 = 5000: one connection attempt */
    uint64_t query_timeout_ms;   /* 0 = 30000: from db_query() to the result, queueing included */
    struct db_backoff backoff;
    unsigned max_queued;          /* 0 = 1024: db_query() returns -ENOBUFS beyond */
    const char *application_name; /* NULL = "runq" */
};

/* The delay before reconnect attempt `attempt` (0 for the first retry): d = min(max, base *
 * 2^attempt), then "equal jitter": d/2 + rnd % (d/2 + 1). Pure: rnd is any random number. */
uint64_t db_backoff_delay_ms(const struct db_backoff *b, unsigned attempt, uint32_t rnd);

/* What a query's callback receives. Everything is borrowed and valid only during the
 * callback (the PGresult is cleared after it returns): copy what you keep.
 * status:
 *   0            ok (rows, or a command; multi-statement text reports its last result)
 *   -EIO         the server refused the statement: sqlstate (e.g. "23505") and message set
 *   -ETIMEDOUT   query_timeout_ms passed while the query was in flight (the connection is
 *                dropped and re-made: libpq 15 has no non-blocking cancel)
 *   -ENOTCONN    query_timeout_ms passed before a connection could be (re-)made
 *   -ECONNRESET  the connection was lost while the query was in flight; it may or may not
 *                have been executed
 *   -ENOTSUP     the statement started a COPY (not supported; the session is re-made)
 *   -ECANCELED   db_close() was called before the query finished
 *   -ENOMEM      out of memory */
struct db_result {
    int status;
    char sqlstate[6];    /* "" unless the server sent one */
    const char *message; /* "" when ok */
    int nrows, ncols;
    const void *pg; /* the PGresult (NULL on failures without one); see db_result_value */
};

/* Value at (row, col) as text, NULL for SQL NULL or out of range. */
const char *db_result_value(const struct db_result *r, int row, int col);

typedef void (*db_query_cb)(struct db *db, const struct db_result *r, void *data);
typedef void (*db_close_cb)(void *data);
/* applied: migrations applied by this call (0 when none was pending); version: newest in the
 * ledger; message: "" on success. */
typedef void (*db_migrate_cb)(struct db *db, int status, int applied, int version,
                              const char *message, void *data);

/* Starts connecting to url (postgresql://... or a libpq conninfo). Returns 0 with *out set
 * (connection problems are reported to queries, and retried), -EINVAL or -ENOMEM. */
int db_open(uv_loop_t *loop, const char *url, const struct db_options *opt, struct db **out);

/* Queues a statement; sql and params (nparams strings, NULL = SQL NULL, all text) are copied.
 * With nparams == 0 the simple protocol is used, so sql may hold several statements.
 * cb is called exactly once, never from inside db_query(). Returns 0, -EINVAL, -ENOBUFS,
 * -ESHUTDOWN (db_close was called) or -ENOMEM. */
int db_query(struct db *db, const char *sql, int nparams, const char *const *params, db_query_cb cb,
             void *data);

/* Applies pending migrations (common/migrations.h) in one transaction under
 * pg_advisory_xact_lock: safe with several processes starting at once, and idempotent.
 * Queued like any query. Returns 0 or a negative errno (then cb is not called). */
int db_migrate(struct db *db, db_migrate_cb cb, void *data);

/* Nonzero while a session is established. */
int db_is_connected(const struct db *db);

/* Fails every queued query with -ECANCELED (their callbacks run before db_close returns),
 * closes the connection and the handles; db is freed after they are closed, then cb(data)
 * runs (cb may be NULL). db must not be used after this call. Callable from a callback. */
void db_close(struct db *db, db_close_cb cb, void *data);

#endif
