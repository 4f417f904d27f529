/* SPDX-License-Identifier: MIT */
/* runq-dispatcher [-c runq.yaml] [-l languages.yaml]: the HTTP API in front of the Redis
 * queues. Config: -c, else config/runq.yaml when it exists in the current directory, else the
 * embedded defaults; then RUNQ_* environment overrides. Languages: -l, else
 * config/languages.yaml (required). Configuration errors print file:line: key: message and
 * exit 2. PostgreSQL (postgres.url) is opened at start and the schema migrated (db_migrate:
 * an advisory lock makes that safe with several dispatchers and workers starting at once;
 * retried every second while PostgreSQL is away). SIGINT/SIGTERM: waits end with their
 * current snapshot, event streams end, requests in flight are answered, then Redis and
 * PostgreSQL are closed and the process exits 0.
 * Does: wiring only (config, languages, rq, db, routes, http_server, signals).
 * Must not: hold logic of its own. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "http_server.h"
#include "languages.h"
#include "routes.h"
#include "rq.h"

#define DEFAULT_CONFIG "config/runq.yaml"
#define DEFAULT_LANGUAGES "config/languages.yaml"

extern char **environ;

struct app {
    uv_loop_t loop;
    struct runq_config cfg;
    struct languages langs;
    struct rq *rq;
    struct db *db;
    struct routes *routes;
    uv_timer_t remigrate;
    struct http_server *srv;
    uv_signal_t sig[2];
    int stopping;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: runq-dispatcher [-c runq.yaml] [-l languages.yaml]\n");
}

static int config_fail(const struct config_error *err)
{
    char buf[1024];

    fprintf(stderr, "%s\n", config_error_format(err, buf, sizeof(buf)));
    return 2;
}

static void on_db_closed(void *arg)
{
    struct app *app = arg;

    routes_free(app->routes);
    app->routes = NULL;
}

static void on_rq_closed(void *arg)
{
    struct app *app = arg;

    uv_close((uv_handle_t *)&app->remigrate, NULL);
    db_close(app->db, on_db_closed, app);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *message,
                        void *data);

static void on_remigrate(uv_timer_t *t)
{
    struct app *app = t->data;

    if (!app->stopping && db_migrate(app->db, on_migrated, app) < 0)
        uv_timer_start(&app->remigrate, on_remigrate, 1000, 0);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *message,
                        void *data)
{
    struct app *app = data;

    (void)db;
    if (status < 0 && status != -ECANCELED) {
        fprintf(stderr, "runq-dispatcher: database migration failed (retrying): %s\n",
                message && *message ? message : strerror(-status));
        if (!app->stopping)
            uv_timer_start(&app->remigrate, on_remigrate, 1000, 0);
    } else if (status == 0 && applied) {
        fprintf(stderr, "runq-dispatcher: database schema at version %d (%d applied)\n", version,
                applied);
    }
}

static void on_server_closed(struct http_server *srv, void *data)
{
    struct app *app = data;

    app->srv = NULL;
    rq_close(app->rq, on_rq_closed, app);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *app = s->data;

    if (app->stopping)
        return;
    app->stopping = 1;
    fprintf(stderr, "runq-dispatcher: %s, shutting down\n", strsignal(signum));
    uv_close((uv_handle_t *)&app->sig[0], NULL);
    uv_close((uv_handle_t *)&app->sig[1], NULL);
    routes_shutdown(app->routes);
    http_server_close(app->srv, on_server_closed, app);
}

/* Loads both files and the environment. Returns 0, or the exit status after printing. */
static int load(struct app *app, const char *cfg_path, const char *lang_path)
{
    struct config_error err = {0};

    if (!cfg_path && access(DEFAULT_CONFIG, F_OK) == 0)
        cfg_path = DEFAULT_CONFIG;
    if (cfg_path && config_load(cfg_path, &app->cfg, &err) < 0)
        return config_fail(&err);
    if (!cfg_path)
        config_defaults(&app->cfg);
    if (config_apply_env(&app->cfg, environ, &err) < 0)
        return config_fail(&err);
    if (!lang_path && access(DEFAULT_LANGUAGES, F_OK) == 0)
        lang_path = DEFAULT_LANGUAGES;
    if (!lang_path) {
        fprintf(stderr, "runq-dispatcher: no languages file: %s not found (use -l)\n",
                DEFAULT_LANGUAGES);
        return 2;
    }
    if (languages_load(lang_path, &app->langs, &err) < 0)
        return config_fail(&err);
    return 0;
}

/* Opens Redis, the routes and the server. Returns 0 or a negative errno (printed). */
static int start(struct app *app)
{
    struct rq_options ro = {
        .url = app->cfg.redis.url,
        .results_ttl_ms = app->cfg.results.ttl_ms,
    };
    struct db_options dbo = {
        .query_timeout_ms = 5000, /* an HTTP answer should not wait longer */
        .application_name = "runq-dispatcher",
    };
    struct http_server_config sc;
    static const int signums[2] = {SIGINT, SIGTERM};
    char host[256];
    int r, i;

    if ((r = routes_server_config(&app->cfg, &sc, host, sizeof(host))) < 0) {
        fprintf(stderr, "runq-dispatcher: dispatcher.listen: expected host:port\n");
        return r;
    }
    if ((r = rq_open(&app->loop, &ro, &app->rq)) < 0) {
        fprintf(stderr, "runq-dispatcher: redis.url: %s\n", strerror(-r));
        return r;
    }
    if ((r = db_open(&app->loop, app->cfg.postgres.url, &dbo, &app->db)) < 0) {
        fprintf(stderr, "runq-dispatcher: postgres.url: %s\n", strerror(-r));
        return r;
    }
    uv_timer_init(&app->loop, &app->remigrate);
    app->remigrate.data = app;
    if (db_migrate(app->db, on_migrated, app) < 0)
        uv_timer_start(&app->remigrate, on_remigrate, 1000, 0);
    if ((r = routes_new(&app->loop, &app->cfg, &app->langs, app->rq, app->db, &app->routes)) < 0 ||
        (r = http_server_new(&app->loop, &sc, routes_handle, app->routes, &app->srv)) < 0) {
        fprintf(stderr, "runq-dispatcher: %s\n", strerror(-r));
        return r;
    }
    http_server_set_guard(app->srv, routes_guard, app->routes);
    if ((r = http_server_listen(app->srv)) < 0) {
        fprintf(stderr, "runq-dispatcher: listen on %s: %s\n", app->cfg.dispatcher.listen,
                strerror(-r));
        return r;
    }
    for (i = 0; i < 2; i++) {
        uv_signal_init(&app->loop, &app->sig[i]);
        app->sig[i].data = app;
        uv_signal_start(&app->sig[i], on_signal, signums[i]);
    }
    fprintf(stderr, "runq-dispatcher: listening on %s port %d, redis %s\n", host,
            http_server_port(app->srv), app->cfg.redis.url);
    return 0;
}

int main(int argc, char **argv)
{
    struct app app;
    const char *cfg_path = NULL, *lang_path = NULL;
    int opt, rc;

    memset(&app, 0, sizeof(app));
    while ((opt = getopt(argc, argv, "c:l:h")) != -1) {
        switch (opt) {
        case 'c':
            cfg_path = optarg;
            break;
        case 'l':
            lang_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if ((rc = load(&app, cfg_path, lang_path)) != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN); /* a write to a closed socket is an error return, not a death */
    uv_loop_init(&app.loop);
    rc = start(&app) < 0 ? 1 : 0;
    if (rc) { /* unwind what start() opened */
        if (app.srv)
            http_server_close(app.srv, NULL, NULL);
        app.stopping = 1;
        if (app.rq)
            rq_close(app.rq, NULL, NULL);
        if (app.db) {
            uv_close((uv_handle_t *)&app.remigrate, NULL);
            db_close(app.db, NULL, NULL);
        }
        uv_run(&app.loop, UV_RUN_DEFAULT);
        routes_free(app.routes);
    } else {
        uv_run(&app.loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&app.loop);
    languages_free(&app.langs);
    return rc;
}
