/* SPDX-License-Identifier: MIT */
/* loop_util: the bounded loop and the worker/db query helpers of the integration tests (see
 * loop_util.h). Must not: hold global state, wait without the watchdog, or assert anything:
 * the tests decide what a result means. */
#include "loop_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int lu_init(struct lu_loop *l)
{
    int rc = uv_loop_init(&l->loop);

    if (rc < 0)
        return rc;
    uv_timer_init(&l->loop, &l->watchdog);
    l->watchdog.data = l;
    l->expired = 0;
    return 0;
}

static void on_watchdog(uv_timer_t *t)
{
    ((struct lu_loop *)t->data)->expired = 1;
}

static int flag_set(const void *arg)
{
    return *(const int *)arg;
}

struct cond {
    int (*done)(const void *arg);
    const void *arg;
};

/* Just before the loop would block in poll: a condition met by a timer callback (curl's
 * timer completes transfers) must not wait there for an unrelated event. */
static void on_prepare(uv_prepare_t *p)
{
    const struct cond *c = p->data;

    if (c->done(c->arg))
        uv_stop(p->loop);
}

int lu_run_cond(struct lu_loop *l, int (*done)(const void *arg), const void *arg, uint64_t ms)
{
    struct cond c = {done, arg};
    uv_prepare_t prepare;
    int ok;

    l->expired = 0;
    uv_prepare_init(&l->loop, &prepare);
    prepare.data = &c;
    uv_prepare_start(&prepare, on_prepare);
    uv_timer_start(&l->watchdog, on_watchdog, ms, 0);
    while (!(ok = done(arg)) && !l->expired)
        uv_run(&l->loop, UV_RUN_ONCE);
    uv_timer_stop(&l->watchdog);
    uv_close((uv_handle_t *)&prepare, NULL);
    uv_run(&l->loop, UV_RUN_NOWAIT); /* the close completes before prepare goes away */
    return ok ? 0 : -ETIMEDOUT;
}

int lu_run_until(struct lu_loop *l, const int *flag, uint64_t ms)
{
    return lu_run_cond(l, flag_set, flag, ms);
}

int lu_close(struct lu_loop *l)
{
    uv_close((uv_handle_t *)&l->watchdog, NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT);
    return uv_loop_close(&l->loop);
}

void lu_on_closed(void *data)
{
    (*(int *)data)++;
}

void res_clear(struct res *r)
{
    for (int i = 0; r->v && i < r->nrows * r->ncols; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

const char *res_val(const struct res *r, int row, int col)
{
    if (!r->v || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->v[row * r->ncols + col];
}

int res_val_is(const struct res *r, int row, int col, const char *want)
{
    const char *v = res_val(r, row, col);

    return want ? v && strcmp(v, want) == 0 : row < r->nrows && !v;
}

void lu_on_result(struct db *db, const struct db_result *dr, void *data)
{
    struct res *r = data;

    r->done = 1;
    r->status = dr->status;
    if (r->loop)
        r->ms = uv_now(r->loop) - r->t0;
    snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", dr->sqlstate);
    snprintf(r->message, sizeof(r->message), "%s", dr->message);
    for (char *p = r->message; *p; p++) /* one TAP diagnostic line */
        if (*p == '\n')
            *p = ' ';
    r->nrows = dr->nrows;
    r->ncols = dr->ncols;
    if (dr->nrows * dr->ncols > 0) {
        r->v = calloc((size_t)(dr->nrows * dr->ncols), sizeof(char *));
        for (int i = 0; r->v && i < dr->nrows; i++)
            for (int j = 0; j < dr->ncols; j++) {
                const char *s = db_result_value(dr, i, j);

                r->v[i * dr->ncols + j] = s ? strdup(s) : NULL;
            }
    }
}

void lu_issue(struct lu_loop *l, struct db *db, const char *sql, int n, const char *const *p,
              struct res *r)
{
    int rc;

    res_clear(r);
    r->loop = &l->loop;
    r->t0 = uv_now(&l->loop);
    if ((rc = db_query(db, sql, n, p, lu_on_result, r)) < 0) {
        r->done = 1;
        r->status = rc;
        snprintf(r->message, sizeof(r->message), "db_query: %s", strerror(-rc));
    }
}

struct res *lu_query(struct lu_loop *l, struct db *db, const char *sql, int n, const char *const *p,
                     struct res *r)
{
    lu_issue(l, db, sql, n, p, r);
    if (lu_run_until(l, &r->done, LU_WAIT_MS) < 0) {
        r->status = -ETIMEDOUT;
        snprintf(r->message, sizeof(r->message), "test watchdog: no callback");
    }
    if (r->status)
        tap_diag("query status %d %s: %s", r->status, r->sqlstate, r->message);
    return r;
}

void lu_close_db(struct lu_loop *l, struct db *db)
{
    int closed = 0;

    db_close(db, lu_on_closed, &closed);
    lu_run_until(l, &closed, LU_WAIT_MS);
}
