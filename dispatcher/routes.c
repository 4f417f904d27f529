/* SPDX-License-Identifier: MIT */
/* routes: see routes.h. A request that needs Redis becomes a small op whose rq callback
 * answers the exchange; no close callback is set on those, so an exchange whose client left
 * stays valid and the answer frees it (http_server.h). A ?wait request becomes a waiter: a
 * deadline timer plus membership in the watch of its job's events channel (one SUBSCRIBE
 * per channel however many wait on it). A waiter re-reads the job when its subscription
 * becomes active (first time and after a reconnect: a finish published before that is not
 * missed), on every event of the channel, and once more at the deadline, then answers. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job.h"
#include "routes.h"

#define JOBS_PREFIX "/v1/jobs/"
#define CANCEL_SUFFIX "/cancel"

struct routes {
    uv_loop_t *loop;
    const struct runq_config *cfg;
    const struct languages *langs;
    struct rq *rq;
    const char *queue_names[CONFIG_MAX_QUEUES];
    struct watch *watches;
    struct waiter *waiters; /* every live waiter, for routes_shutdown */
    size_t nwaiters;
    int shutting_down;
};

/* One rq request answering one exchange. */
struct op {
    struct routes *r;
    struct http_exchange *ex;
    uint64_t wait_ms;
    char id[KEYS_ID_MAX + 1];
};

struct watch {
    struct routes *r;
    struct watch *next;
    struct waiter *waiters;
    int active; /* the SUBSCRIBE was confirmed */
    char channel[KEYS_NAME_MAX];
};

struct waiter {
    struct routes *r;
    struct http_exchange *ex; /* NULL once answered or the client left */
    struct watch *watch;
    struct waiter *wnext, *wprev; /* in watch->waiters */
    struct waiter *anext, *aprev; /* in r->waiters */
    uv_timer_t timer;
    int refs;     /* the timer handle, and a rq_get_job in flight */
    int checking; /* a rq_get_job is in flight */
    int dirty;    /* an event came while checking: read again */
    int final;    /* the deadline passed: the next snapshot is the answer */
    int ended;
    char id[KEYS_ID_MAX + 1];
};

/*** Answers ***/

/* Sends j (stolen) as the body. */
static void respond_json(struct http_exchange *ex, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (!text) {
        http_respond_error(ex, 500, "internal_error", "out of memory", NULL);
        return;
    }
    http_respond(ex, status, "application/json", text, strlen(text));
    free(text);
}

/* An rq failure: Redis unreachable (or slow) is 503, anything else 500. */
static void respond_rq_error(struct http_exchange *ex, int err)
{
    if (err == -ENOTCONN || err == -ECONNREFUSED || err == -ECONNRESET || err == -ETIMEDOUT ||
        err == -ECANCELED) {
        http_exchange_add_header(ex, "Retry-After", "1");
        http_respond_error(ex, 503, "redis_unavailable", "the job store is not reachable", NULL);
    } else {
        http_respond_error(ex, 500, "internal_error", strerror(-err), NULL);
    }
}

static void respond_not_found(struct http_exchange *ex)
{
    http_respond_error(ex, 404, "not_found", "no such job", "id");
}

static int finished_state(const char *s)
{
    return !strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled");
}

static json_t *ms_or_null(long long ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}

/* The job as the API shows it; the stored result is embedded as JSON. */
static json_t *job_json(const struct rq_job *job)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "id", job->id, "status",
                          job->state, "attempts", (json_int_t)job->attempts, "worker",
                          job->worker[0] ? json_string(job->worker) : json_null(), "created_ms",
                          ms_or_null(job->created_ms), "started_ms", ms_or_null(job->started_ms),
                          "finished_ms", ms_or_null(job->finished_ms));

    if (!j)
        return NULL;
    if (job->cancel_requested && !finished_state(job->state))
        json_object_set_new(j, "cancel_requested", json_true());
    if (job->reason[0])
        json_object_set_new(j, "reason", json_string(job->reason));
    if (finished_state(job->state)) {
        json_t *res = job->result[0] ? json_loads(job->result, JSON_ALLOW_NUL, NULL) : NULL;
        json_object_set_new(j, "result", res ? res : json_null());
    }
    return j;
}

/*** POST /v1/jobs ***/

static const char *resolve_language(void *ctx, const char *name)
{
    const struct language *l = languages_find(((struct routes *)ctx)->langs, name);

    return l ? l->name : NULL;
}

static const struct config_queue *find_queue(const struct routes *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->cfg->nqueues; i++) {
        if (!strcmp(r->cfg->queues[i].name, name))
            return &r->cfg->queues[i];
    }
    return NULL;
}

static int queue_exists(void *ctx, const char *name)
{
    return find_queue(ctx, name) != NULL;
}

/* "application/json", any case, parameters (charset) allowed. */
static int is_json(const char *ct)
{
    static const char want[] = "application/json";

    if (!ct || strncasecmp(ct, want, sizeof(want) - 1))
        return 0;
    ct += sizeof(want) - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static void on_enqueued(void *arg, int status, const struct rq_enqueued *res)
{
    struct op *op = arg;
    char loc[sizeof(JOBS_PREFIX) + KEYS_ID_MAX];

    if (status < 0) {
        respond_rq_error(op->ex, status);
    } else if (res->status == RQ_FULL) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "queue_full", "the queue is full; retry later", "queue");
    } else {
        snprintf(loc, sizeof(loc), JOBS_PREFIX "%s", res->id);
        http_exchange_add_header(op->ex, "Location", loc);
        if (res->status == RQ_DUPLICATE)
            respond_json(op->ex, 200, json_pack("{s:s, s:b}", "id", res->id, "duplicate", 1));
        else
            respond_json(op->ex, 202, json_pack("{s:s, s:s}", "id", res->id, "status", "queued"));
    }
    free(op);
}

static void post_job(struct routes *r, struct http_exchange *ex, const struct http_request *req)
{
    struct job_policy pol = {
        .maximum = r->cfg->limits.maximum,
        .max_body_bytes = r->cfg->dispatcher.max_body,
        .resolve_language = resolve_language,
        .queue_exists = queue_exists,
        .ctx = r,
    };
    const char *idem = http_request_header(req, "Idempotency-Key");
    struct job_spec spec = {0};
    struct api_error err = {0};
    const struct language *lang;
    char *text = NULL;
    json_t *j;
    struct op *op;
    int rc;

    if (!is_json(http_request_header(req, "Content-Type"))) {
        http_respond_error(ex, 415, "unsupported_media_type",
                           "Content-Type must be application/json", NULL);
        return;
    }
    if (idem && keys_valid_idem(idem) < 0) {
        http_respond_error(ex, 400, "invalid_header",
                           "Idempotency-Key must be 1..255 printable ASCII characters",
                           "Idempotency-Key");
        return;
    }
    if (job_spec_parse(req->body, req->body_len, &pol, &spec, &err) < 0) {
        respond_json(ex, err.status, api_error_to_json(&err));
        return;
    }
    lang = languages_find(r->langs, spec.language);
    rc = -ENOMEM;
    if (lang && spec.nfiles == 1 && !spec.files[0].name) /* "source": named after the language */
        spec.files[0].name = strdup(lang->file);
    if (lang && spec.files[0].name && (j = job_spec_to_json(&spec))) {
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    if (text && (op = calloc(1, sizeof(*op)))) {
        op->r = r;
        op->ex = ex;
        rc = rq_enqueue(r->rq, spec.queue, text, idem, ROUTES_IDEM_TTL_MS,
                        find_queue(r, spec.queue)->max_depth, on_enqueued, op);
        if (rc < 0)
            free(op);
    }
    free(text);
    job_spec_free(&spec);
    if (rc < 0)
        respond_rq_error(ex, rc);
}

/*** Waiters (GET /v1/jobs/{id}?wait=N) ***/

static void waiter_check(struct waiter *w);

static void waiter_unref(struct waiter *w)
{
    if (--w->refs == 0)
        free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    waiter_unref(h->data);
}

static void watch_free(struct watch *wt, int unsubscribe)
{
    struct watch **pp;

    for (pp = &wt->r->watches; *pp != wt; pp = &(*pp)->next)
        ;
    *pp = wt->next;
    if (unsubscribe)
        rq_unsubscribe(wt->r->rq, wt->channel);
    free(wt);
}

/* Detaches w from everything; it is freed once its timer closed and no read is in flight. */
static void waiter_end(struct waiter *w)
{
    struct routes *r = w->r;
    struct watch *wt = w->watch;

    if (w->ended)
        return;
    w->ended = 1;
    if (wt) {
        if (w->wprev)
            w->wprev->wnext = w->wnext;
        else
            wt->waiters = w->wnext;
        if (w->wnext)
            w->wnext->wprev = w->wprev;
        if (!wt->waiters)
            watch_free(wt, 1);
        w->watch = NULL;
    }
    if (w->aprev)
        w->aprev->anext = w->anext;
    else
        r->waiters = w->anext;
    if (w->anext)
        w->anext->aprev = w->aprev;
    r->nwaiters--;
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_client_gone(struct http_exchange *ex, void *data)
{
    struct waiter *w = data;

    w->ex = NULL; /* freed by the server when this returns */
    waiter_end(w);
}

/* Takes the exchange back from w (for answering) and ends w. */
static struct http_exchange *waiter_take(struct waiter *w)
{
    struct http_exchange *ex = w->ex;

    w->ex = NULL;
    http_exchange_on_close(ex, NULL, NULL);
    waiter_end(w);
    return ex;
}

static void on_waiter_job(void *arg, int status, const struct rq_job *job)
{
    struct waiter *w = arg;

    w->checking = 0;
    if (!w->ex) {
        /* answered or gone meanwhile */
    } else if (status == -ENOENT) {
        respond_not_found(waiter_take(w));
    } else if (status < 0) {
        if (w->final)
            respond_rq_error(waiter_take(w), status);
        /* else: Redis hiccup; the deadline reads once more */
    } else if (finished_state(job->state) || w->final) {
        respond_json(waiter_take(w), 200, job_json(job));
    } else if (w->dirty) {
        waiter_check(w);
    }
    waiter_unref(w);
}

/* Reads the job (once at a time; an event during a read asks for another). */
static void waiter_check(struct waiter *w)
{
    int rc;

    if (w->checking) {
        w->dirty = 1;
        return;
    }
    w->dirty = 0;
    rc = rq_get_job(w->r->rq, w->id, on_waiter_job, w);
    if (rc == 0) {
        w->checking = 1;
        w->refs++;
    } else if (w->final && w->ex) {
        respond_rq_error(waiter_take(w), rc);
    }
}

static void on_deadline(uv_timer_t *t)
{
    struct waiter *w = t->data;

    w->final = 1;
    waiter_check(w);
}

/* Every message on the channel (or its confirmation, data NULL) makes its waiters re-read:
 * the event names the state, but the answer needs the result too. */
static void on_event(void *arg, const char *channel, const char *data, size_t len)
{
    struct watch *wt = arg;
    struct waiter *w, *next;
    json_t *ev = NULL;
    const char *st = NULL;

    if (data) {
        ev = json_loadb(data, len, 0, NULL);
        st = json_string_value(json_object_get(ev, "state"));
        if (!st || !finished_state(st)) {
            json_decref(ev);
            return; /* progress only */
        }
        json_decref(ev);
    } else {
        wt->active = 1;
    }
    for (w = wt->waiters; w; w = next) { /* a check may end w (and free wt with the last) */
        next = w->wnext;
        waiter_check(w);
    }
}

/* Subscribes (or joins the subscription) and arms the deadline. Returns 0 or -errno. */
static int waiter_start(struct routes *r, struct http_exchange *ex, const char *id,
                        uint64_t wait_ms)
{
    char channel[KEYS_NAME_MAX];
    struct watch *wt;
    struct waiter *w;
    int rc;

    if ((rc = keys_events(channel, sizeof(channel), id)) < 0)
        return rc;
    for (wt = r->watches; wt && strcmp(wt->channel, channel); wt = wt->next)
        ;
    if (!(w = calloc(1, sizeof(*w))) || (!wt && !(wt = calloc(1, sizeof(*wt))))) {
        free(w);
        return -ENOMEM;
    }
    if (!wt->r) { /* new */
        wt->r = r;
        snprintf(wt->channel, sizeof(wt->channel), "%s", channel);
        if ((rc = rq_subscribe(r->rq, channel, 0, on_event, wt)) < 0) {
            free(wt);
            free(w);
            return rc;
        }
        wt->next = r->watches;
        r->watches = wt;
    }
    w->r = r;
    w->ex = ex;
    w->refs = 1;
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->watch = wt;
    w->wnext = wt->waiters;
    if (wt->waiters)
        wt->waiters->wprev = w;
    wt->waiters = w;
    w->anext = r->waiters;
    if (r->waiters)
        r->waiters->aprev = w;
    r->waiters = w;
    r->nwaiters++;
    uv_timer_init(r->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_deadline, wait_ms, 0);
    http_exchange_on_close(ex, on_client_gone, w);
    if (wt->active)
        waiter_check(w); /* subscribed already: the read that closes the gap */
    return 0;
}

/*** GET /v1/jobs/{id}, cancel ***/

static void on_job(void *arg, int status, const struct rq_job *job)
{
    struct op *op = arg;
    int rc;

    if (status == -ENOENT)
        respond_not_found(op->ex);
    else if (status < 0)
        respond_rq_error(op->ex, status);
    else if (!op->wait_ms || finished_state(job->state) || op->r->shutting_down)
        respond_json(op->ex, 200, job_json(job));
    else if (op->r->nwaiters >= ROUTES_MAX_WAITERS) {
        http_exchange_add_header(op->ex, "Retry-After", "1");
        http_respond_error(op->ex, 503, "too_many_waiters", "too many waiting requests", "wait");
    } else if ((rc = waiter_start(op->r, op->ex, job->id, op->wait_ms)) < 0)
        respond_rq_error(op->ex, rc);
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
        respond_rq_error(ex, -ENOMEM);
        return;
    }
    op->r = r;
    op->ex = ex;
    op->wait_ms = (uint64_t)wait > max / 1000 ? max : (uint64_t)wait * 1000;
    if ((rc = rq_get_job(r->rq, id, on_job, op)) < 0) {
        free(op);
        respond_rq_error(ex, rc);
    }
}

static void on_cancelled(void *arg, int status, enum rq_cancel_status st)
{
    struct op *op = arg;

    if (status < 0)
        respond_rq_error(op->ex, status);
    else if (st == RQ_CANCEL_MISSING)
        respond_not_found(op->ex);
    else if (st == RQ_CANCEL_FINISHED)
        http_respond_error(op->ex, 409, "already_finished", "the job has already finished", NULL);
    else
        respond_json(op->ex, 200,
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
        respond_rq_error(ex, rc);
}

/*** Small routes ***/

static json_t *str_array(char *const *v)
{
    json_t *a = json_array();

    for (; a && v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static void get_languages(struct routes *r, struct http_exchange *ex)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < r->langs->count; i++) {
        const struct language *l = &r->langs->items[i];
        json_array_append_new(a,
                              json_pack("{s:s, s:o, s:o}", "name", l->name, "aliases",
                                        str_array(l->aliases), "version", str_array(l->version)));
    }
    respond_json(ex, 200, a ? json_pack("{s:o}", "languages", a) : NULL);
}

static void on_depths(void *arg, int status, const struct rq_depth *d, size_t n)
{
    struct op *op = arg;
    json_t *a = status < 0 ? NULL : json_array();
    size_t i;

    for (i = 0; a && i < n; i++) {
        const struct config_queue *q = find_queue(op->r, d[i].queue);
        json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}", "name", d[i].queue, "depth",
                                           (json_int_t)d[i].pending, "dead", (json_int_t)d[i].dead,
                                           "max_depth", (json_int_t)(q ? q->max_depth : 0)));
    }
    if (status < 0)
        respond_rq_error(op->ex, status);
    else
        respond_json(op->ex, 200, a ? json_pack("{s:o}", "queues", a) : NULL);
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
        respond_rq_error(ex, rc);
}

/* PostgreSQL is not the dispatcher's yet: ready means Redis is connected. */
static void get_readyz(struct routes *r, struct http_exchange *ex)
{
    if (rq_connected(r->rq))
        respond_json(ex, 200, json_pack("{s:b, s:s}", "ready", 1, "redis", "up"));
    else
        respond_rq_error(ex, -ENOTCONN);
}

/*** Routing ***/

enum route { R_NONE, R_JOBS, R_JOB, R_CANCEL, R_LANGUAGES, R_QUEUES, R_HEALTHZ, R_READYZ };

/* The route of path; *id points at the job id inside path (not terminated for R_CANCEL). */
static enum route match(const char *path, const char **id, size_t *idlen)
{
    size_t n = strlen(path), cs = strlen(CANCEL_SUFFIX);
    const char *rest;

    if (!strcmp(path, "/v1/jobs"))
        return R_JOBS;
    if (!strcmp(path, "/v1/languages"))
        return R_LANGUAGES;
    if (!strcmp(path, "/v1/queues"))
        return R_QUEUES;
    if (!strcmp(path, "/healthz"))
        return R_HEALTHZ;
    if (!strcmp(path, "/readyz"))
        return R_READYZ;
    if (strncmp(path, JOBS_PREFIX, strlen(JOBS_PREFIX)))
        return R_NONE;
    rest = path + strlen(JOBS_PREFIX);
    *id = rest;
    *idlen = strcspn(rest, "/");
    if (*idlen == 0)
        return R_NONE;
    if (rest[*idlen] == '\0')
        return R_JOB;
    return n > cs && !strcmp(rest + *idlen, CANCEL_SUFFIX) ? R_CANCEL : R_NONE;
}

void routes_handle(struct http_exchange *ex, void *ctx)
{
    struct routes *r = ctx;
    const struct http_request *req = http_exchange_request(ex);
    const char *idp = NULL;
    size_t idlen = 0;
    enum route rt = match(req->path, &idp, &idlen);
    int post = rt == R_JOBS || rt == R_CANCEL;
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    char id[KEYS_ID_MAX + 1];

    if (rt == R_NONE) {
        http_respond_error(ex, 404, "not_found", "no such route", NULL);
        return;
    }
    if (post ? strcmp(req->method, "POST") != 0 : !get) {
        http_exchange_add_header(ex, "Allow", post ? "POST" : "GET, HEAD");
        http_respond_error(ex, 405, "method_not_allowed", "method not allowed for this path", NULL);
        return;
    }
    if (rt == R_JOB || rt == R_CANCEL) {
        if (idlen > KEYS_ID_MAX) {
            respond_not_found(ex);
            return;
        }
        memcpy(id, idp, idlen);
        id[idlen] = '\0';
        if (keys_job_id_parse(id, NULL, 0) < 0) {
            respond_not_found(ex);
            return;
        }
    }
    switch (rt) {
    case R_JOBS:
        post_job(r, ex, req);
        break;
    case R_JOB:
        get_job(r, ex, req, id);
        break;
    case R_CANCEL:
        cancel_job(r, ex, id);
        break;
    case R_LANGUAGES:
        get_languages(r, ex);
        break;
    case R_QUEUES:
        get_queues(r, ex);
        break;
    case R_HEALTHZ:
        respond_json(ex, 200, json_pack("{s:b}", "ok", 1));
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
               struct rq *rq, struct routes **out)
{
    struct routes *r;
    size_t i;

    if (!loop || !cfg || !languages || !rq || !out || cfg->nqueues == 0)
        return -EINVAL;
    if (!(r = calloc(1, sizeof(*r))))
        return -ENOMEM;
    r->loop = loop;
    r->cfg = cfg;
    r->langs = languages;
    r->rq = rq;
    for (i = 0; i < cfg->nqueues; i++)
        r->queue_names[i] = cfg->queues[i].name;
    *out = r;
    return 0;
}

void routes_shutdown(struct routes *r)
{
    struct waiter *w, *next;

    r->shutting_down = 1;
    for (w = r->waiters; w; w = next) { /* a failing read ends w only */
        next = w->anext;
        w->final = 1;
        waiter_check(w);
    }
}

void routes_free(struct routes *r)
{
    if (!r)
        return;
    while (r->watches) /* only if a waiter outlived the server: rq is gone, just forget */
        watch_free(r->watches, 0);
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
