/* SPDX-License-Identifier: MIT */
/* loop_util: what the integration tests that drive a library on their own libuv loop share
 * (test_db.c, test_result_writer.c, test_webhook.c): a loop with a watchdog timer, so every
 * wait for a callback is bounded, and worker/db queries run to completion on it with their
 * result copied out of the callback (struct res).
 * Must not: hold global state (everything lives in struct lu_loop and struct res), block
 * outside the loop, or test anything itself (a failed query is only a diagnostic). */
#ifndef RUNQ_TESTS_LOOP_UTIL_H
#define RUNQ_TESTS_LOOP_UTIL_H

#include <stdint.h>

#include <uv.h>

#include "db.h"

/* How long lu_query and lu_close_db wait for their callback. */
#define LU_WAIT_MS 15000

struct lu_loop {
    uv_loop_t loop;
    uv_timer_t watchdog;
    int expired; /* the watchdog fired during the last wait */
};

/* Initializes the loop and its watchdog. Returns 0 or what uv_loop_init returned. */
int lu_init(struct lu_loop *l);

/* Runs the loop until *flag is nonzero or ms pass. Returns 0, or -ETIMEDOUT. */
int lu_run_until(struct lu_loop *l, const int *flag, uint64_t ms);

/* Runs the loop until done(arg) holds or ms pass. Returns 0, or -ETIMEDOUT. */
int lu_run_cond(struct lu_loop *l, int (*done)(const void *arg), const void *arg, uint64_t ms);

/* Closes the watchdog, runs the loop until nothing is left and closes it. Returns what
 * uv_loop_close returned: 0 when every handle was closed. */
int lu_close(struct lu_loop *l);

/* A close callback (db_close, webhook_close...): adds one to the int at data. */
void lu_on_closed(void *data);

/* A copy of a db_result that outlives its callback. */
struct res {
    int done;
    int status;
    char sqlstate[6];
    char message[512]; /* on one line: a TAP diagnostic */
    int nrows, ncols;
    char **v;
    uint64_t ms; /* from lu_issue to the callback */
    uint64_t t0;
    uv_loop_t *loop; /* set by lu_issue; NULL: ms is not measured */
};

/* Frees the copied values and zeroes r. */
void res_clear(struct res *r);

/* The value at (row, col), NULL for SQL NULL or out of range. */
const char *res_val(const struct res *r, int row, int col);

/* 1 when the value at (row, col) is want, or, want NULL, an SQL NULL in an existing row. */
int res_val_is(const struct res *r, int row, int col, const char *want);

/* A db_query callback that copies the result into the struct res at data. */
void lu_on_result(struct db *db, const struct db_result *dr, void *data);

/* Clears r and queues the query with lu_on_result; a refusal is recorded in r at once. */
void lu_issue(struct lu_loop *l, struct db *db, const char *sql, int n, const char *const *p,
              struct res *r);

/* lu_issue, then waits up to LU_WAIT_MS for the result; a status other than 0 is reported
 * as a diagnostic. Returns r. */
struct res *lu_query(struct lu_loop *l, struct db *db, const char *sql, int n, const char *const *p,
                     struct res *r);

/* db_close, then waits up to LU_WAIT_MS for its callback. */
void lu_close_db(struct lu_loop *l, struct db *db);

#endif
