/* SPDX-License-Identifier: MIT */
/* dispatcher_app: the dispatcher tests' in-process dispatcher (see dispatcher_app.h). Must
 * not: start or stop the tests' servers, hold global state, or check the API itself. */
#include "dispatcher_app.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http_client.h"
#include "http_server.h"

/* Shutdown, in order: routes and server, then rq, then db (if any), then the routes' memory. */
static void db_closed(void *arg)
{
    struct dispatcher_app *app = arg;

    routes_free(app->routes);
}

static void rq_closed(void *arg)
{
    struct dispatcher_app *app = arg;

    if (app->db)
        db_close(app->db, db_closed, app);
    else
        db_closed(app);
}

static void server_closed(struct http_server *srv, void *data)
{
    struct dispatcher_app *app = data;

    (void)srv;
    rq_close(app->rq, rq_closed, app);
}

static void stop_cb(uv_async_t *a)
{
    struct dispatcher_app *app = a->data;

    routes_shutdown(app->routes);
    http_server_close(app->srv, server_closed, app);
    uv_close((uv_handle_t *)a, NULL);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *message,
                        void *data)
{
    struct dispatcher_app *app = data;

    (void)db;
    (void)applied;
    (void)version;
    app->migrated = status == 0 ? 1 : -1;
    if (status < 0)
        fprintf(stderr, "# migrate: %s\n", message);
}

/* Opens the db on o->pg_url and runs the loop until the migration is done. */
static int open_db(struct dispatcher_app *app, struct tap *t,
                   const struct dispatcher_app_options *o)
{
    int rc = db_open(&app->loop, app->cfg.postgres.url, o->dbo, &app->db);

    rc = rc ? rc : db_migrate(app->db, on_migrated, app);
    while (rc == 0 && !app->migrated)
        uv_run(&app->loop, UV_RUN_ONCE);
    tap_ok(t, rc == 0 && app->migrated == 1, "db_migrate at start");
    return rc;
}

/* Routes and an http_server listening on 127.0.0.1 port 0 (app->port). */
static int listen_http(struct dispatcher_app *app, const struct dispatcher_app_options *o)
{
    struct http_server_config sc;
    char host[256];
    int rc = routes_new(&app->loop, &app->cfg, &app->langs, app->rq, app->db, &app->routes);

    if (rc == 0 && o->heartbeat_ms)
        routes_set_heartbeat(app->routes, o->heartbeat_ms);
    rc = rc ? rc : routes_server_config(&app->cfg, &sc, host, sizeof(host));
    sc.port = 0;
    sc.request_timeout_ms = 5000;
    sc.linger_ms = 200;
    sc.shutdown_timeout_ms = 1000;
    rc = rc ? rc : http_server_new(&app->loop, &sc, routes_handle, app->routes, &app->srv);
    if (rc == 0) {
        http_server_set_guard(app->srv, routes_guard, app->routes);
        rc = http_server_listen(app->srv);
    }
    app->port = app->srv ? http_server_port(app->srv) : -1;
    return rc;
}

int dispatcher_app_start(struct dispatcher_app *app, struct tap *t,
                         const struct dispatcher_app_options *o)
{
    struct config_error err = {0};
    struct rq_options ro = {0};
    int rc;

    memset(app, 0, sizeof(*app));
    app->port = -1;
    rc = config_load_string(o->config_yaml, "test.yaml", &app->cfg, &err);
    snprintf(app->cfg.redis.url, sizeof(app->cfg.redis.url), "%s", o->redis_url);
    if (o->pg_url)
        snprintf(app->cfg.postgres.url, sizeof(app->cfg.postgres.url), "%s", o->pg_url);
    rc = rc ? rc : languages_load_string(o->languages_yaml, "languages.yaml", &app->langs, &err);
    tap_ok(t, rc == 0, "config and languages load (%s)", err.message);
    uv_loop_init(&app->loop);
    ro.url = app->cfg.redis.url;
    ro.command_timeout_ms = 2000;
    rc = rq_open(&app->loop, &ro, &app->rq);
    if (o->pg_url)
        rc = rc ? rc : open_db(app, t, o);
    rc = rc ? rc : listen_http(app, o);
    return tap_ok(t, rc == 0 && app->port > 0, "dispatcher listening on 127.0.0.1:%d (%d)",
                  app->port, rc);
}

void dispatcher_app_run(struct dispatcher_app *app, struct tap *t, void *(*client)(void *),
                        void *arg)
{
    pthread_t th;

    uv_async_init(&app->loop, &app->stop, stop_cb);
    app->stop.data = app;
    pthread_create(&th, NULL, client, arg);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    tap_ok(t, uv_loop_close(&app->loop) == 0, "loop closes with no handle left");
    languages_free(&app->langs);
}

void dispatcher_app_stop(struct dispatcher_app *app)
{
    uv_async_send(&app->stop);
}

int dispatcher_app_wait_ready(int port, long timeout_ms)
{
    struct http_client_resp r = {0};
    long t0 = http_client_now_ms();

    do {
        http_client_resp_clear(&r);
        usleep(20 * 1000);
        http_client_call(port, "GET", "/readyz", NULL, NULL, &r);
    } while (r.status != 200 && http_client_now_ms() - t0 < timeout_ms);
    http_client_resp_clear(&r);
    return r.status;
}
