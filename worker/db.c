/* SPDX-License-Identifier: MIT */
#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"

enum conn_state { ST_DOWN, ST_CONNECTING, ST_READY };

struct dbq {
    struct dbq *next;
    char *sql;
    int nparams;
    char **params;
    db_query_cb cb;
    void *data;
    uint64_t deadline; /* uv_now() ms */
};

/* A poll handle lives in its own allocation: during connect libpq may replace the socket,
 * and a closing handle must outlive the close call (freed in its close callback). */
struct db_poll {
    uv_poll_t h; /* first member: the close callback frees the struct through it */
};

struct db {
    uv_loop_t *loop;
    char *url;
    struct db_options opt;
    PGconn *conn;
    enum conn_state state;
    struct db_poll *poll;
    int poll_events;
    uv_timer_t conn_timer;  /* connect timeout, or the backoff delay while down */
    uv_timer_t query_timer; /* the head query's deadline */
    uv_timer_t kick_timer;  /* 0 ms: sends queued queries outside db_query() */
    struct dbq *head, *tail;
    unsigned nqueued;
    int inflight;     /* head has been sent */
    PGresult *res;    /* result kept for the in-flight query */
    unsigned attempt; /* failed connection attempts in a row */
    uint32_t rng;
    char last_error[256]; /* why the last connection attempt failed or was lost */
    int closing;
    int open_handles;
    db_close_cb close_cb;
    void *close_data;
};

static void start_connect(struct db *db);
static void pump(struct db *db);

uint64_t db_backoff_delay_ms(const struct db_backoff *b, unsigned attempt, uint32_t rnd)
{
    uint64_t base = b->base_ms ? b->base_ms : 100, max = b->max_ms ? b->max_ms : 10000;
    uint64_t d = base;

    if (max < base)
        max = base;
    for (unsigned i = 0; i < attempt && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    return d / 2 + rnd % (d / 2 + 1);
}

static uint32_t next_rand(struct db *db)
{
    uint32_t x = db->rng; /* xorshift32: jitter only, nothing secret */

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return db->rng = x ? x : 0x9e3779b9u;
}

const char *db_result_value(const struct db_result *r, int row, int col)
{
    const PGresult *res = r->pg;

    if (!res || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols ||
        PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}

int db_is_connected(const struct db *db)
{
    return db->state == ST_READY;
}

static void set_error(struct db *db, const char *what, const char *detail)
{
    size_t n;

    snprintf(db->last_error, sizeof(db->last_error), "%s%s%s", what, *detail ? ": " : "", detail);
    n = strlen(db->last_error);
    while (n && (db->last_error[n - 1] == '\n' || db->last_error[n - 1] == ' '))
        db->last_error[--n] = '\0';
}

static void free_query(struct dbq *q)
{
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    free(q->sql);
    free(q);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct db *db = h->data;

    if (h->type == UV_POLL)
        free((struct db_poll *)h); /* h is its first member */
    if (--db->open_handles == 0 && db->closing) {
        db_close_cb cb = db->close_cb;
        void *data = db->close_data;

        free(db->url);
        free(db);
        if (cb)
            cb(data);
    }
}

static void close_poll(struct db *db)
{
    if (db->poll) {
        uv_poll_stop(&db->poll->h); /* removes the fd from the loop now, before libpq reuses it */
        uv_close((uv_handle_t *)&db->poll->h, on_handle_closed);
        db->poll = NULL;
    }
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches the connection's socket. While connecting, the handle is re-created on every step
 * because libpq may have closed the socket and opened another one under the same number. */
static int watch(struct db *db, int events, int recreate)
{
    int r;

    if (db->poll && !recreate) {
        if (events == db->poll_events)
            return 0;
        db->poll_events = events;
        return uv_poll_start(&db->poll->h, events, on_poll);
    }
    close_poll(db);
    if (!(db->poll = calloc(1, sizeof(*db->poll))))
        return -ENOMEM;
    if ((r = uv_poll_init_socket(db->loop, &db->poll->h, PQsocket(db->conn))) < 0) {
        free(db->poll);
        db->poll = NULL;
        return r;
    }
    db->poll->h.data = db;
    db->open_handles++;
    db->poll_events = events;
    return uv_poll_start(&db->poll->h, events, on_poll);
}

static void drop_conn(struct db *db)
{
    close_poll(db);
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    PQclear(db->res);
    db->res = NULL;
    db->inflight = 0;
    db->state = ST_DOWN;
    uv_timer_stop(&db->conn_timer);
}

static void on_query_timer(uv_timer_t *t);

static void rearm_query_timer(struct db *db)
{
    uint64_t now = uv_now(db->loop);

    if (db->closing)
        return;
    if (!db->head)
        uv_timer_stop(&db->query_timer);
    else
        uv_timer_start(&db->query_timer, on_query_timer,
                       db->head->deadline > now ? db->head->deadline - now : 0, 0);
}

/* Pops the head and delivers r to it. The user may call db_query or db_close from cb. */
static void deliver_head(struct db *db, struct db_result *r)
{
    struct dbq *q = db->head;

    db->head = q->next;
    if (!db->head)
        db->tail = NULL;
    db->nqueued--;
    db->inflight = 0;
    q->cb(db, r, q->data);
    free_query(q);
}

static void fail_head(struct db *db, int status, const char *message)
{
    struct db_result r = {.status = status, .message = message};

    deliver_head(db, &r);
}

static void on_conn_timer(uv_timer_t *t);

/* Backoff with jitter, growing with each failure in a row (connected() resets it), so a
 * server that accepts and then drops every session is not hammered either. */
static void schedule_reconnect(struct db *db)
{
    uint64_t delay = db_backoff_delay_ms(&db->opt.backoff, db->attempt++, next_rand(db));

    uv_timer_start(&db->conn_timer, on_conn_timer, delay, 0);
}

static void attempt_failed(struct db *db, const char *what)
{
    set_error(db, what, db->conn ? PQerrorMessage(db->conn) : "");
    drop_conn(db);
    schedule_reconnect(db);
}

/* The session broke. The in-flight query (if any) fails: it may have run, so it is not
 * retried. The rest stay queued for the next session, until their deadline. */
static void connection_lost(struct db *db, const char *what)
{
    int inflight = db->inflight;
    char msg[sizeof(db->last_error)];

    set_error(db, what, db->conn ? PQerrorMessage(db->conn) : "");
    snprintf(msg, sizeof(msg), "%s", db->last_error);
    drop_conn(db);
    schedule_reconnect(db);
    if (inflight) {
        fail_head(db, -ECONNRESET, msg);
        if (db->closing)
            return;
        rearm_query_timer(db);
    }
}

/* Fails the in-flight query and replaces the session (which may still be busy with it). */
static void reset_inflight(struct db *db, int status, const char *message)
{
    drop_conn(db);
    start_connect(db);
    fail_head(db, status, message);
    rearm_query_timer(db);
}

static void connected(struct db *db)
{
    uv_timer_stop(&db->conn_timer);
    db->attempt = 0;
    db->state = ST_READY;
    db->last_error[0] = '\0';
    if (PQsetnonblocking(db->conn, 1) != 0 || watch(db, UV_READABLE, 1) < 0) {
        connection_lost(db, "cannot set up the connection");
        return;
    }
    pump(db);
}

static void connect_step(struct db *db)
{
    PostgresPollingStatusType st = PQconnectPoll(db->conn);

    if (st == PGRES_POLLING_OK)
        connected(db);
    else if (st != PGRES_POLLING_READING && st != PGRES_POLLING_WRITING)
        attempt_failed(db, "connection failed");
    else if (watch(db, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE, 1) < 0)
        attempt_failed(db, "cannot poll the socket");
}

static void on_conn_timer(uv_timer_t *t)
{
    struct db *db = t->data;

    if (db->state == ST_CONNECTING)
        attempt_failed(db, "connect timeout");
    else if (db->state == ST_DOWN)
        start_connect(db);
}

/* Notices ("relation already exists, skipping") are not errors; a library must not print. */
static void ignore_notice(void *arg, const char *message)
{
}

static void start_connect(struct db *db)
{
    const char *const keys[] = {"dbname", "application_name", NULL};
    const char *const vals[] = {db->url, db->opt.application_name, NULL};

    db->conn = PQconnectStartParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
        attempt_failed(db, "cannot start connecting");
        return;
    }
    PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
    db->state = ST_CONNECTING;
    uv_timer_start(&db->conn_timer, on_conn_timer, db->opt.connect_timeout_ms, 0);
    /* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING. */
    if (watch(db, UV_WRITABLE, 1) < 0)
        attempt_failed(db, "cannot poll the socket");
}

static int flush(struct db *db)
{
    int r = PQflush(db->conn);

    if (r < 0 || watch(db, r ? UV_READABLE | UV_WRITABLE : UV_READABLE, 0) < 0) {
        connection_lost(db, r < 0 ? "send failed" : "cannot poll the socket");
        return -1;
    }
    return 0;
}

static void pump(struct db *db)
{
    struct dbq *q = db->head;
    int ok;

    if (db->closing || db->state != ST_READY || db->inflight || !q)
        return;
    ok = q->nparams ? PQsendQueryParams(db->conn, q->sql, q->nparams, NULL,
                                        (const char *const *)q->params, NULL, NULL, 0)
                    : PQsendQuery(db->conn, q->sql);
    if (!ok) {
        /* Not sent, so it stays queued for the next session. */
        connection_lost(db, "cannot send");
        return;
    }
    db->inflight = 1;
    flush(db);
}

/* The in-flight query has all its results: the first error wins, else the last result. */
static void complete(struct db *db)
{
    PGresult *res = db->res;
    struct db_result r = {.message = ""};
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    db->res = NULL;
    r.pg = res;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        r.nrows = PQntuples(res);
        r.ncols = PQnfields(res);
    } else {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        r.status = res ? -EIO : -ENOMEM;
        snprintf(r.sqlstate, sizeof(r.sqlstate), "%s", state ? state : "");
        r.message = res ? PQresultErrorMessage(res) : "out of memory";
    }
    deliver_head(db, &r);
    PQclear(res);
    if (db->closing)
        return;
    rearm_query_timer(db);
    pump(db);
}

static void read_results(struct db *db)
{
    PGnotify *n;

    if (!PQconsumeInput(db->conn)) {
        connection_lost(db, "connection lost");
        return;
    }
    while ((n = PQnotifies(db->conn)))
        PQfreemem(n);
    while (db->inflight && !PQisBusy(db->conn)) {
        PGresult *res = PQgetResult(db->conn);

        if (!res) {
            complete(db);
            return;
        }
        if (PQresultStatus(res) == PGRES_COPY_IN || PQresultStatus(res) == PGRES_COPY_OUT ||
            PQresultStatus(res) == PGRES_COPY_BOTH) {
            /* PQgetResult would return it forever: end the session instead. */
            PQclear(res);
            reset_inflight(db, -ENOTSUP, "COPY is not supported");
            return;
        }
        if (db->res && PQresultStatus(db->res) == PGRES_FATAL_ERROR)
            PQclear(res); /* keep the first error */
        else {
            PQclear(db->res);
            db->res = res;
        }
    }
    if (!db->inflight && PQstatus(db->conn) == CONNECTION_BAD)
        connection_lost(db, "connection lost");
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct db *db = h->data;

    /* libuv reports EPOLLERR as UV_EBADF and stops the handle; libpq reads the socket's
     * error itself (e.g. "Connection refused"), so it is asked either way. */
    if (db->state == ST_CONNECTING) {
        connect_step(db);
        return;
    }
    if (status < 0) {
        read_results(db);
        if (!db->closing && db->state == ST_READY)
            connection_lost(db, uv_strerror(status));
        return;
    }
    if ((events & UV_WRITABLE) && flush(db) < 0)
        return;
    if (events & UV_READABLE) {
        read_results(db);
        /* Writes may wait for reads (libpq: call PQflush again after reading). */
        if (db->state == ST_READY && !db->closing && db->poll_events & UV_WRITABLE)
            flush(db);
    }
}

static void on_query_timer(uv_timer_t *t)
{
    struct db *db = t->data;
    uint64_t now = uv_now(db->loop);
    char msg[sizeof(db->last_error) + 64];

    while (db->head && db->head->deadline <= now && !db->closing) {
        if (db->inflight) {
            /* No non-blocking cancel in libpq 15: drop the session (the server ends the
             * statement when it notices) and start a new one. */
            reset_inflight(db, -ETIMEDOUT, "query timeout");
        } else if (db->state == ST_READY) {
            fail_head(db, -ETIMEDOUT, "query timeout while queued");
        } else {
            snprintf(msg, sizeof(msg), "database unavailable%s%s", *db->last_error ? ": " : "",
                     db->last_error);
            fail_head(db, -ENOTCONN, msg);
        }
    }
    rearm_query_timer(db);
}

static void on_kick(uv_timer_t *t)
{
    pump(t->data);
}

int db_open(uv_loop_t *loop, const char *url, const struct db_options *opt, struct db **out)
{
    struct db *db;

    *out = NULL;
    if (!loop || !url || !*url)
        return -EINVAL;
    if (!(db = calloc(1, sizeof(*db))) || !(db->url = strdup(url))) {
        free(db);
        return -ENOMEM;
    }
    db->loop = loop;
    if (opt)
        db->opt = *opt;
    if (!db->opt.connect_timeout_ms)
        db->opt.connect_timeout_ms = 5000;
    if (!db->opt.query_timeout_ms)
        db->opt.query_timeout_ms = 30000;
    if (!db->opt.max_queued)
        db->opt.max_queued = 1024;
    if (!db->opt.application_name)
        db->opt.application_name = "runq";
    db->rng = (uint32_t)(uv_hrtime() ^ (uintptr_t)db) | 1;
    uv_timer_init(loop, &db->conn_timer);
    uv_timer_init(loop, &db->query_timer);
    uv_timer_init(loop, &db->kick_timer);
    db->conn_timer.data = db->query_timer.data = db->kick_timer.data = db;
    db->open_handles = 3;
    start_connect(db);
    *out = db;
    return 0;
}

int db_query(struct db *db, const char *sql, int nparams, const char *const *params, db_query_cb cb,
             void *data)
{
    struct dbq *q;

    if (!sql || !cb || nparams < 0 || nparams > 65535 || (nparams && !params))
        return -EINVAL;
    if (db->closing)
        return -ESHUTDOWN;
    if (db->nqueued >= db->opt.max_queued)
        return -ENOBUFS;
    if (!(q = calloc(1, sizeof(*q))) || !(q->sql = strdup(sql)))
        goto nomem;
    if (nparams && !(q->params = calloc((size_t)nparams, sizeof(char *))))
        goto nomem;
    for (; q->nparams < nparams; q->nparams++)
        if (params[q->nparams] && !(q->params[q->nparams] = strdup(params[q->nparams])))
            goto nomem;
    q->cb = cb;
    q->data = data;
    q->deadline = uv_now(db->loop) + db->opt.query_timeout_ms;
    if (db->tail)
        db->tail->next = q;
    else
        db->head = q;
    db->tail = q;
    if (db->nqueued++ == 0)
        rearm_query_timer(db);
    if (db->state == ST_READY && !db->inflight)
        uv_timer_start(&db->kick_timer, on_kick, 0, 0);
    return 0;
nomem:
    if (q)
        free_query(q);
    return -ENOMEM;
}

struct migrate_req {
    db_migrate_cb cb;
    void *data;
};

static void migrated(struct db *db, const struct db_result *r, void *data)
{
    struct migrate_req m = *(struct migrate_req *)data;
    const char *applied = db_result_value(r, 0, 0), *version = db_result_value(r, 0, 1);

    free(data);
    if (r->status == 0 && (!applied || !version))
        m.cb(db, -EPROTO, 0, 0, "unexpected migration result", m.data);
    else if (r->status == 0)
        m.cb(db, 0, atoi(applied), atoi(version), "", m.data);
    else
        m.cb(db, r->status, 0, 0, r->message, m.data);
}

int db_migrate(struct db *db, db_migrate_cb cb, void *data)
{
    struct migrate_req *m;
    const struct migration *list;
    char *script;
    size_t n;
    int r;

    list = migrations_list(&n);
    if ((r = migrations_script(list, n, &script)) < 0)
        return r;
    if (!(m = malloc(sizeof(*m)))) {
        free(script);
        return -ENOMEM;
    }
    m->cb = cb;
    m->data = data;
    r = db_query(db, script, 0, NULL, migrated, m);
    free(script);
    if (r < 0)
        free(m);
    return r;
}

void db_close(struct db *db, db_close_cb cb, void *data)
{
    if (db->closing)
        return;
    db->closing = 1;
    db->close_cb = cb;
    db->close_data = data;
    drop_conn(db);
    while (db->head)
        fail_head(db, -ECANCELED, "database connection closed");
    uv_close((uv_handle_t *)&db->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&db->query_timer, on_handle_closed);
    uv_close((uv_handle_t *)&db->kick_timer, on_handle_closed);
}
