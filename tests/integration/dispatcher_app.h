/* SPDX-License-Identifier: MIT */
/* dispatcher_app: the in-process dispatcher the dispatcher integration tests (test_dispatcher.c,
 * test_dispatcher_pg.c) run on their main thread: config and languages from YAML strings, an
 * rq on the test's redis-server, with a PostgreSQL url a db migrated at start, the routes and an
 * http_server on 127.0.0.1 port 0, and the run that hands the test body to a client thread
 * while the loop turns, then shuts it all down in order (server, rq, db, routes).
 * Does: the setup checks both tests make (config load, migration, listening, the loop closing
 * clean) as tap_ok lines of the caller's struct tap.
 * Must not: start or stop the redis-server or PostgreSQL (the tests own them), hold global
 * state (everything lives in struct dispatcher_app), or check anything of the API itself. */
#ifndef RUNQ_TESTS_DISPATCHER_APP_H
#define RUNQ_TESTS_DISPATCHER_APP_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "db.h"
#include "languages.h"
#include "routes.h"
#include "rq.h"
#include "tap.h"

struct dispatcher_app {
    uv_loop_t loop;
    struct runq_config cfg;
    struct languages langs;
    struct rq *rq;
    struct db *db; /* NULL without a PostgreSQL url */
    struct routes *routes;
    struct http_server *srv;
    uv_async_t stop;
    int port;     /* the listening port, -1 until listening */
    int migrated; /* 1 once db_migrate succeeded, -1 if it failed */
};

struct dispatcher_app_options {
    const char *config_yaml, *languages_yaml; /* redis.url and postgres.url are set below */
    const char *redis_url;
    const char *pg_url;           /* NULL: no db (and no migration check) */
    const struct db_options *dbo; /* with pg_url */
    uint64_t heartbeat_ms;        /* 0: the routes' default */
};

/* Zeroes app and starts the dispatcher, with tap_ok lines "config and languages load", (with
 * pg_url) "db_migrate at start" and "dispatcher listening on 127.0.0.1:<port>". Returns 1 if it
 * is listening (then call dispatcher_app_run), else 0 (the caller stops its servers and ends). */
int dispatcher_app_start(struct dispatcher_app *app, struct tap *t,
                         const struct dispatcher_app_options *o);

/* Runs client(arg) on a thread of its own while the loop runs, until dispatcher_app_stop and
 * the shutdown it starts are done; joins the thread, checks "loop closes with no handle left"
 * and frees the languages. */
void dispatcher_app_run(struct dispatcher_app *app, struct tap *t, void *(*client)(void *),
                        void *arg);

/* From the client thread: makes the loop shut the dispatcher down (routes, server, rq, db). */
void dispatcher_app_stop(struct dispatcher_app *app);

/* From the client thread: GET /readyz every 20 ms until it answers 200 or timeout_ms pass.
 * Returns the last status (0 if nothing answered). */
int dispatcher_app_wait_ready(int port, long timeout_ms);

#endif
