/* SPDX-License-Identifier: MIT */
/* routes: see routes.h. A request that needs Redis or PostgreSQL becomes a small op whose
 * callback answers the exchange; no close callback is set on those, so an exchange whose
 * client left stays valid and the answer frees it (http_server.h). ?wait requests are
 * job_watch's waiters, event streams job_events', history and stats history's. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batches.h"
#include "history.h"
#include "job.h"
#include "job_events.h"
#include "job_store.h"
#include "job_watch.h"
#include "submit.h"
#include "routes.h"

#define JOBS_PREFIX "/v1/jobs/"
#define CANCEL_SUFFIX "/cancel"
#define EVENTS_SUFFIX "/events"

struct routes {
    uv_loop_t *loop;
    const struct runq_config *cfg;
    const struct languages *langs;
    struct rq *rq;
    struct db *db;
    struct job_store *store;
    struct job_watch *watch;
    struct job_events *events;
    const char *queue_names[CONFIG_MAX_QUEUES];
    int shutting_down;
};

/* One request answering one exchange. */
struct op {
    struct routes *r;
    struct http_exchange *ex;
    uint64_t wait_ms;
    char id[KEYS_ID_MAX + 1];
};

/*** GET /v1/jobs/{id}, cancel ***/

static void on_job(void *arg, const struct job_store_result *res)
{
    struct op *op = arg;
    int rc;

    if (res->status == -ENOENT)
        api_not_found(op->ex);
    else if (res->status < 0 && res->from_db)
        api_db_error(op->ex, res->status);
    else if (res->status < 0)
        api_rq_error(op->ex, res->status);
    else if (!op->wait_ms || res->finished || op->r->shutting_down)
        api_json(op->ex, 200, json_incref(res->job));
    else if ((rc = job_watch_wait(op->r->watch, op->ex, op->id, op->wait_ms)) == -EAGAIN) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "too_many_waiters", "too many waiting requests", "wait");
    } else if (rc < 0)
        api_rq_error(op->ex, rc);
    free(op);
}

/* ?wait=N: 0 when absent; -1 when malformed. */
static long long parse_wait(const struct http_request *req)
{
    const char *q = req->query, *v;
    char *end;
    long long n;

    for (; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
        if (strncmp(q, "wait=", 5))
            continue;
        v = q + 5;
        if (*v < '0' || *v > '9')
            return -1;
        n = strtoll(v, &end, 10);
        return (*end == '\0' || *end == '&') && n >= 0 ? n : -1;
    }
    return 0;
}

static void get_job(struct routes *r, struct http_exchange *ex, const struct http_request *req,
                    const char *id)
{
    long long wait = parse_wait(req);
    uint64_t max = r->cfg->dispatcher.max_wait_ms;
    struct op *op;
    int rc;

    if (wait < 0) {
        http_respond_error(ex, 400, "invalid_query", "wait must be a number of seconds", "wait");
        return;
    }
    if (!(op = calloc(1, sizeof(*op)))) {
        api_rq_error(ex, -ENOMEM);
        return;
    }
    op->r = r;
    op->ex = ex;
    op->wait_ms = (uint64_t)wait > max / 1000 ? max : (uint64_t)wait * 1000;
    snprintf(op->id, sizeof(op->id), "%s", id);
    if ((rc = job_store_get(r->store, id, on_job, op)) < 0) {
        free(op);
        api_rq_error(ex, rc);
    }
}

static void on_cancelled(void *arg, int status, enum rq_cancel_status st)
{
    struct op *op = arg;

    if (status < 0)
        api_rq_error(op->ex, status);
    else if (st == RQ_CANCEL_MISSING)
        api_not_found(op->ex);
    else if (st == RQ_CANCEL_FINISHED)
        http_respond_error(op->ex, 409, "already_finished", "the job has already finished", NULL);
    else
        api_json(op->ex, 200,
                 json_pack("{s:s, s:s}", "id", op->id, "status",
                           st == RQ_CANCEL_CANCELLED ? "cancelled" : "cancelling"));
    free(op);
}

static void cancel_job(struct routes *r, struct http_exchange *ex, const char *id)
{
    struct op *op = calloc(1, sizeof(*op));
    int rc = -ENOMEM;

    if (op) {
        op->r = r;
        op->ex = ex;
        snprintf(op->id, sizeof(op->id), "%s", id);
        if ((rc = rq_cancel(r->rq, id, on_cancelled, op)) < 0)
            free(op);
    }
    if (rc < 0)
        api_rq_error(ex, rc);
}

static void on_deleted(void *arg, const struct job_store_result *res)
{
    struct op *op = arg;

    if (res->status == 0)
        http_respond(op->ex, 204, NULL, NULL, 0);
    else if (res->status == -ENOENT)
        api_not_found(op->ex);
    else if (res->status == -EBUSY)
        http_respond_error(op->ex, 409, "not_finished",
                           "the job is still queued or running; cancel it first", "id");
    else if (res->from_db)
        api_db_error(op->ex, res->status);
    else
        api_rq_error(op->ex, res->status);
    free(op);
}

static void delete_job(struct routes *r, struct http_exchange *ex, const char *id)
{
    struct op *op = calloc(1, sizeof(*op));
    int rc = -ENOMEM;

    if (op) {
        op->r = r;
        op->ex = ex;
        if ((rc = job_store_delete(r->store, id, on_deleted, op)) < 0)
            free(op);
    }
    if (rc < 0)
        api_rq_error(ex, rc);
}

/*** Small routes ***/

static json_t *str_array(char *const *v)
{
    json_t *a = json_array();

    for (; a && v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

/* The configured languages with what the workers' runtimes answered to their version
 * commands (lang_probe); "version" is null until a worker has probed, or when Redis is away:
 * the list itself never depends on Redis. */
static void on_versions(void *arg, int status, const char *const *names,
                        const char *const *versions, size_t n)
{
    struct op *op = arg;
    const struct languages *langs = op->r->langs;
    json_t *a = json_array();
    size_t i, k;

    for (i = 0; a && i < langs->count; i++) {
        const struct language *l = &langs->items[i];
        const char *version = NULL;
        for (k = 0; status == 0 && k < n && !version; k++)
            if (strcmp(names[k], l->name) == 0)
                version = versions[k];
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:o, s:o, s:b}", "name", l->name, "aliases",
                         str_array(l->aliases), "version",
                         version ? json_string(version) : json_null(), "version_command",
                         str_array(l->version), "compiled", l->compile != NULL));
    }
    api_json(op->ex, 200, a ? json_pack("{s:o}", "languages", a) : NULL);
    free(op);
}

static void get_languages(struct routes *r, struct http_exchange *ex)
{
    struct op *op = calloc(1, sizeof(*op));

    if (!op) {
        api_rq_error(ex, -ENOMEM);
        return;
    }
    op->r = r;
    op->ex = ex;
    if (rq_language_versions(r->rq, on_versions, op) < 0)
        on_versions(op, -ENOTCONN, NULL, NULL, 0);
}

static void on_depths(void *arg, int status, const struct rq_depth *d, size_t n)
{
    struct op *op = arg;
    json_t *a = status < 0 ? NULL : json_array();
    size_t i;

    for (i = 0; a && i < n; i++) {
        const struct config_queue *q = submit_find_queue(op->r->cfg, d[i].queue);
        json_array_append_new(
            a, json_pack("{s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I}", "name", d[i].queue,
                         "depth", (json_int_t)d[i].pending, "dead", (json_int_t)d[i].dead,
                         "max_depth", (json_int_t)(q ? q->max_depth : 0), "lanes", "high",
                         (json_int_t)d[i].high, "normal", (json_int_t)d[i].normal, "low",
                         (json_int_t)d[i].low, "delayed", (json_int_t)d[i].delayed));
    }
    if (status < 0)
        api_rq_error(op->ex, status);
    else
        api_json(op->ex, 200, a ? json_pack("{s:o}", "queues", a) : NULL);
    free(op);
}

static void get_queues(struct routes *r, struct http_exchange *ex)
{
    struct op *op = calloc(1, sizeof(*op));
    int rc = -ENOMEM;

    if (op) {
        op->r = r;
        op->ex = ex;
        rc = rq_queue_depths(r->rq, r->queue_names, r->cfg->nqueues, on_depths, op);
        if (rc < 0)
            free(op);
    }
    if (rc < 0)
        api_rq_error(ex, rc);
}

/* Ready: Redis and (when the dispatcher has one) PostgreSQL are connected. */
static void get_readyz(struct routes *r, struct http_exchange *ex)
{
    if (!rq_connected(r->rq))
        api_rq_error(ex, -ENOTCONN);
    else if (r->db && !db_is_connected(r->db))
        api_db_error(ex, -ENOTCONN);
    else
        api_json(ex, 200,
                 json_pack("{s:b, s:s, s:s}", "ready", 1, "redis", "up", "postgres",
                           r->db ? "up" : "none"));
}

/*** Routing ***/

enum route {
    R_NONE,
    R_JOBS,
    R_JOB,
    R_BATCHES,
    R_BATCH,
    R_BATCH_CANCEL,
    R_BATCH_EVENTS,
    R_CANCEL,
    R_EVENTS,
    R_STATS,
    R_LANGUAGES,
    R_QUEUES,
    R_HEALTHZ,
    R_READYZ
};

static const struct {
    const char *path;
    enum route route;
} fixed[] = {
    {"/v1/jobs", R_JOBS},     {"/v1/stats", R_STATS},  {"/v1/languages", R_LANGUAGES},
    {"/v1/batches", R_BATCHES},
    {"/v1/queues", R_QUEUES}, {"/healthz", R_HEALTHZ}, {"/readyz", R_READYZ},
};

/* The route of path; *id points at the job id inside path (not terminated for the
 * sub-resources). */
static enum route match(const char *path, const char **id, size_t *idlen)
{
    const char *rest;
    size_t i;
    int batch;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (!strcmp(path, fixed[i].path))
            return fixed[i].route;
    }
    batch = !strncmp(path, BATCHES_PREFIX, strlen(BATCHES_PREFIX));
    if (!batch && strncmp(path, JOBS_PREFIX, strlen(JOBS_PREFIX)))
        return R_NONE;
    rest = path + strlen(batch ? BATCHES_PREFIX : JOBS_PREFIX);
    *id = rest;
    *idlen = strcspn(rest, "/");
    if (*idlen == 0)
        return R_NONE;
    if (rest[*idlen] == '\0')
        return batch ? R_BATCH : R_JOB;
    if (!strcmp(rest + *idlen, CANCEL_SUFFIX))
        return batch ? R_BATCH_CANCEL : R_CANCEL;
    if (strcmp(rest + *idlen, EVENTS_SUFFIX))
        return R_NONE;
    return batch ? R_BATCH_EVENTS : R_EVENTS;
}

/* The methods a route takes, as an Allow header value. */
static const char *allowed(enum route rt)
{
    switch (rt) {
    case R_JOBS:
        return "GET, HEAD, POST";
    case R_BATCHES:
    case R_BATCH_CANCEL:
        return "POST";
    case R_JOB:
        return "GET, HEAD, DELETE";
    case R_CANCEL:
        return "POST";
    case R_EVENTS:
    case R_BATCH_EVENTS:
        return "GET";
    default:
        return "GET, HEAD";
    }
}

static int method_allowed(enum route rt, const char *method)
{
    const char *allow = allowed(rt), *p;
    size_t n = strlen(method);

    for (p = strstr(allow, method); p; p = strstr(p + 1, method)) {
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

void routes_handle(struct http_exchange *ex, void *ctx)
{
    struct routes *r = ctx;
    const struct http_request *req = http_exchange_request(ex);
    const char *idp = NULL;
    size_t idlen = 0;
    enum route rt = match(req->path, &idp, &idlen);
    int post = !strcmp(req->method, "POST");
    char id[KEYS_ID_MAX + 1];

    if (rt == R_NONE) {
        http_respond_error(ex, 404, "not_found", "no such route", NULL);
        return;
    }
    if (!method_allowed(rt, req->method)) {
        http_exchange_add_header(ex, "Allow", allowed(rt));
        http_respond_error(ex, 405, "method_not_allowed", "method not allowed for this path", NULL);
        return;
    }
    if (idp) {
        if (idlen > KEYS_ID_MAX) {
            api_not_found(ex);
            return;
        }
        memcpy(id, idp, idlen);
        id[idlen] = '\0';
        if (keys_job_id_parse(id, NULL, 0) < 0) {
            api_not_found(ex);
            return;
        }
    }
    switch (rt) {
    case R_JOBS:
        if (post)
            submit_job(r->cfg, r->langs, r->rq, ex);
        else
            history_list(r->db, ex);
        break;
    case R_JOB:
        if (!strcmp(req->method, "DELETE"))
            delete_job(r, ex, id);
        else
            get_job(r, ex, req, id);
        break;
    case R_CANCEL:
        cancel_job(r, ex, id);
        break;
    case R_BATCHES:
        batches_submit(r->cfg, r->langs, r->rq, ex);
        break;
    case R_BATCH:
        batches_get(r->rq, r->db, ex, id);
        break;
    case R_BATCH_CANCEL:
        batches_cancel(r->rq, ex, id);
        break;
    case R_BATCH_EVENTS:
        if (r->shutting_down)
            http_respond_error(ex, 503, "shutting_down", "the server is stopping", NULL);
        else
            job_events_start_batch(r->events, ex, id);
        break;
    case R_EVENTS:
        if (r->shutting_down)
            http_respond_error(ex, 503, "shutting_down", "the server is stopping", NULL);
        else
            job_events_start(r->events, ex, id);
        break;
    case R_STATS:
        history_stats(r->db, ex);
        break;
    case R_LANGUAGES:
        get_languages(r, ex);
        break;
    case R_QUEUES:
        get_queues(r, ex);
        break;
    case R_HEALTHZ:
        api_json(ex, 200, json_pack("{s:b}", "ok", 1));
        break;
    case R_READYZ:
        get_readyz(r, ex);
        break;
    case R_NONE:
        break;
    }
}

/* The single place where authentication will sit: a bearer-token check (answering 401 with
 * WWW-Authenticate itself and returning 1) once tokens exist. Today everything passes, which
 * is why dispatcher.listen defaults to loopback. */
int routes_guard(struct http_exchange *ex, void *ctx)
{
    return 0;
}

/*** Lifecycle ***/

int routes_new(uv_loop_t *loop, const struct runq_config *cfg, const struct languages *languages,
               struct rq *rq, struct db *db, struct routes **out)
{
    struct routes *r;
    size_t i;
    int rc;

    if (!loop || !cfg || !languages || !rq || !out || cfg->nqueues == 0)
        return -EINVAL;
    if (!(r = calloc(1, sizeof(*r))))
        return -ENOMEM;
    r->loop = loop;
    r->cfg = cfg;
    r->langs = languages;
    r->rq = rq;
    r->db = db;
    for (i = 0; i < cfg->nqueues; i++)
        r->queue_names[i] = cfg->queues[i].name;
    if ((rc = job_store_new(rq, db, &r->store)) < 0 ||
        (rc = job_watch_new(loop, rq, r->store, &r->watch)) < 0 ||
        (rc = job_events_new(loop, r->watch, r->store, rq, 0, &r->events)) < 0) {
        routes_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void routes_set_heartbeat(struct routes *r, uint64_t ms)
{
    struct job_events *je;

    if (job_events_count(r->events) == 0 &&
        job_events_new(r->loop, r->watch, r->store, r->rq, ms, &je) == 0) {
        job_events_free(r->events);
        r->events = je;
    }
}

void routes_shutdown(struct routes *r)
{
    r->shutting_down = 1;
    job_events_shutdown(r->events);
    job_watch_shutdown(r->watch);
}

void routes_free(struct routes *r)
{
    if (!r)
        return;
    job_events_free(r->events);
    job_watch_free(r->watch);
    job_store_free(r->store);
    free(r);
}

int routes_server_config(const struct runq_config *c, struct http_server_config *cfg, char *buf,
                         size_t len)
{
    const char *l = c->dispatcher.listen, *colon;
    char *end;
    long port;

    memset(cfg, 0, sizeof(*cfg));
    if (l[0] == '[') {
        const char *close = strchr(l, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        snprintf(buf, len, "%.*s", (int)(close - l - 1), l + 1);
        colon = close + 1;
    } else {
        if (!(colon = strrchr(l, ':')))
            return -EINVAL;
        snprintf(buf, len, "%.*s", (int)(colon - l), l);
    }
    port = strtol(colon + 1, &end, 10);
    if (!buf[0] || !colon[1] || *end || port < 0 || port > 65535)
        return -EINVAL;
    cfg->host = buf;
    cfg->port = (int)port;
    cfg->limits.max_body = c->dispatcher.max_body;
    cfg->limits.max_header = c->dispatcher.max_header;
    cfg->idle_timeout_ms = c->dispatcher.idle_timeout_ms;
    cfg->request_timeout_ms = c->dispatcher.request_timeout_ms;
    return 0;
}
