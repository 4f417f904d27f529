/* SPDX-License-Identifier: MIT */
/* rq: Redis queue client over hiredis async + libuv (see rq.h). Only this file knows the
 * hiredis rules: replies are freed by hiredis after our callback returns; every queued
 * callback runs exactly once, with a NULL reply when the context is freed; redisAsyncFree()
 * inside a hiredis callback is deferred until that callback returns; a failed connect calls
 * the connect callback and frees the context itself (no disconnect callback). */
#include "rq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "queue_scripts.h"

enum { CONN_CMD, CONN_BLOCK, CONN_SUB, CONN_COUNT };
enum { ST_DOWN, ST_RESOLVING, ST_CONNECTING, ST_UP };
#define N_HANDLES (CONN_COUNT + 2) /* a timer per connection, tick, heartbeat */
#define MAX_DEPTHS 64

struct rq;
/* err: 0 with r (maybe an error reply), or -errno with r NULL. */
typedef void reply_fn(struct rq *rq, void *op, int err, redisReply *r);

struct cmd {
    struct conn *c;
    struct cmd *prev, *next;
    uint64_t deadline;
    reply_fn *fn;
    void *op;
    int script; /* -1, or the queue_script resent as EVAL after NOSCRIPT */
    int argc;
    char **argv;
    size_t *lens;
};

struct conn {
    struct rq *rq;
    int kind, state, fail, gai_busy;
    unsigned attempt;
    redisAsyncContext *ac;
    uv_timer_t timer; /* connect timeout, then reconnect backoff */
    uv_getaddrinfo_t gai;
    struct cmd *head; /* sent, not answered */
};

struct sub {
    struct sub *next;
    char *name;
    int pattern;
    rq_message_fn *cb;
    void *arg;
};

struct queue {
    char name[KEYS_QUEUE_MAX + 1];
    int scan;  /* look for ids in our processing list before blocking */
    int fresh; /* no scan yet in this process: nothing in the list runs here */
};

struct rq {
    uv_loop_t *loop;
    struct rq_options o; /* pointers cleared: copies below */
    struct rq_url url;
    char worker[KEYS_WORKER_MAX + 1];
    struct queue *queues;
    size_t nqueues;
    struct conn conn[CONN_COUNT];
    uv_timer_t tick, beat;
    char sha[QUEUE_SCRIPT_COUNT][48];
    struct sub *subs;
    int fetching, closing, open_handles;
    void (*closed)(void *arg);
    void *closed_arg;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*** URL ***/

int rq_url_parse(const char *url, struct rq_url *u)
{
    const char *p, *at, *end, *hs, *he;
    char *e;
    long v;

    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (!url || strncmp(url, "redis://", 8) != 0)
        return -EINVAL;
    p = url + 8;
    end = p + strcspn(p, "/");
    at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || (size_t)(colon - p) >= sizeof(u->user) ||
            (size_t)(at - colon - 1) >= sizeof(u->password))
            return -EINVAL;
        memcpy(u->user, p, (size_t)(colon - p));
        memcpy(u->password, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    if (*p == '[') {
        hs = p + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (!he)
            return -EINVAL;
        p = he + 1;
    } else {
        hs = p;
        he = memchr(p, ':', (size_t)(end - p));
        if (!he)
            he = end;
        p = he;
    }
    if (he == hs || (size_t)(he - hs) >= sizeof(u->host))
        return -EINVAL;
    memcpy(u->host, hs, (size_t)(he - hs));
    if (*p == ':') {
        if (p + 1 == end || p[1] < '0' || p[1] > '9')
            return -EINVAL;
        v = strtol(p + 1, &e, 10);
        if (e != end || v < 1 || v > 65535)
            return -EINVAL;
        u->port = (int)v;
    } else if (p != end) {
        return -EINVAL;
    }
    if (*end == '/' && end[1]) {
        if (end[1] < '0' || end[1] > '9')
            return -EINVAL;
        v = strtol(end + 1, &e, 10);
        if (*e || v < 0 || v > 65535)
            return -EINVAL;
        u->db = (int)v;
    }
    return 0;
}

/*** Commands ***/

static void cmd_free(struct cmd *k)
{
    int i;

    for (i = 0; k->argv && i < k->argc; i++)
        free(k->argv[i]);
    free(k->argv);
    free(k->lens);
    free(k);
}

static void cmd_link(struct conn *c, struct cmd *k)
{
    k->prev = NULL;
    k->next = c->head;
    if (c->head)
        c->head->prev = k;
    c->head = k;
}

static void cmd_unlink(struct cmd *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        k->c->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv);

static int cmd_resend(struct cmd *k)
{
    const char **argv = (const char **)k->argv;

    if (!k->c->ac ||
        redisAsyncCommandArgv(k->c->ac, on_reply, k, k->argc, argv, k->lens) != REDIS_OK)
        return -ENOTCONN;
    cmd_link(k->c, k);
    return 0;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct cmd *k = priv;
    struct conn *c = k->c;
    redisReply *r = reply;
    int err;

    cmd_unlink(k);
    if (r && r->type == REDIS_REPLY_ERROR && k->script >= 0 && !strncmp(r->str, "NOSCRIPT", 8)) {
        char *text = strdup(queue_script_text(k->script)), *eval = strdup("EVAL");
        if (text && eval) {
            free(k->argv[0]);
            free(k->argv[1]);
            k->argv[0] = eval;
            k->argv[1] = text;
            k->lens[0] = 4;
            k->lens[1] = strlen(text);
            k->script = -1;
            if (c->ac == ac && cmd_resend(k) == 0)
                return;
        } else {
            free(text);
            free(eval);
        }
    }
    err = r ? 0 : (c->fail ? c->fail : -ECONNRESET);
    k->fn(c->rq, k->op, err, r);
    cmd_free(k);
}

/* Sends argv[0..argc) (lens NULL: strlen). script >= 0 keeps a copy for the EVAL fallback. */
static int send_cmd(struct conn *c, reply_fn *fn, void *op, int script, int argc, const char **argv,
                    const size_t *lens, uint64_t timeout_ms)
{
    struct cmd *k;
    int i;

    if (c->rq->closing)
        return -ECANCELED;
    if (!c->ac || (c->state != ST_UP && c->state != ST_CONNECTING))
        return -ENOTCONN;
    k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->c = c;
    k->fn = fn;
    k->op = op;
    k->script = script;
    k->deadline = uv_now(c->rq->loop) + timeout_ms;
    k->argc = argc;
    k->argv = calloc((size_t)argc, sizeof(char *));
    k->lens = calloc((size_t)argc, sizeof(size_t));
    if (!k->argv || !k->lens) {
        cmd_free(k);
        return -ENOMEM;
    }
    for (i = 0; i < argc; i++) {
        k->lens[i] = lens ? lens[i] : strlen(argv[i]);
        if (!(k->argv[i] = malloc(k->lens[i] + 1))) {
            cmd_free(k);
            return -ENOMEM;
        }
        memcpy(k->argv[i], argv[i], k->lens[i]);
        k->argv[i][k->lens[i]] = '\0';
    }
    if (cmd_resend(k) < 0) {
        cmd_free(k);
        return -ENOTCONN;
    }
    return 0;
}

static int send_plain(struct rq *rq, reply_fn *fn, void *op, int argc, const char **argv)
{
    return send_cmd(&rq->conn[CONN_CMD], fn, op, -1, argc, argv, NULL, rq->o.command_timeout_ms);
}

/* EVALSHA (EVAL until SCRIPT LOAD answered) of script s with keys then args. */
static int eval(struct rq *rq, enum queue_script s, int nkeys, const char **keys, int nargs,
                const char **args, reply_fn *fn, void *op)
{
    const char *argv[16];
    char nk[8];
    int i, n = 0;

    if (3 + nkeys + nargs > 16)
        return -E2BIG;
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[n++] = rq->sha[s][0] ? "EVALSHA" : "EVAL";
    argv[n++] = rq->sha[s][0] ? rq->sha[s] : queue_script_text(s);
    argv[n++] = nk;
    for (i = 0; i < nkeys; i++)
        argv[n++] = keys[i];
    for (i = 0; i < nargs; i++)
        argv[n++] = args[i];
    return send_cmd(&rq->conn[CONN_CMD], fn, op, rq->sha[s][0] ? (int)s : -1, n, argv, NULL,
                    rq->o.command_timeout_ms);
}

static int reply_status(int err, const redisReply *r)
{
    if (err)
        return err;
    return r->type == REDIS_REPLY_ERROR ? -EIO : 0;
}

/* Element i of an array reply as a string, or NULL. */
static const char *elem_str(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    r = r->element[i];
    return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ? r->str : NULL;
}

static long long elem_int(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return -1;
    r = r->element[i];
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    return r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
}

/*** libuv glue ***/

/* Our own hiredis event hooks instead of hiredis 0.14's adapters/libuv.h, which drops a poll
 * callback with status < 0: libuv reports a reset connection (POLLERR) that way and stops the
 * handle, so the reset went unnoticed until a command timed out (seen in the Redis-restart
 * test). As hiredis 1.x does, an error lets hiredis read/write and find the error itself. */
struct uvev {
    redisAsyncContext *ac;
    uv_poll_t poll;
    int events;
};

static void ev_poll(uv_poll_t *h, int status, int events)
{
    struct uvev *p = h->data;
    int ev = status < 0 ? p->events : events;

    if (p->ac && (ev & UV_READABLE))
        redisAsyncHandleRead(p->ac);
    if (p->ac && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
}

static void ev_set(struct uvev *p, int add, int flag)
{
    if (uv_is_closing((uv_handle_t *)&p->poll))
        return;
    p->events = add ? p->events | flag : p->events & ~flag;
    if (p->events)
        uv_poll_start(&p->poll, p->events, ev_poll);
    else
        uv_poll_stop(&p->poll);
}

static void ev_add_read(void *d)
{
    ev_set(d, 1, UV_READABLE);
}

static void ev_del_read(void *d)
{
    ev_set(d, 0, UV_READABLE);
}

static void ev_add_write(void *d)
{
    ev_set(d, 1, UV_WRITABLE);
}

static void ev_del_write(void *d)
{
    ev_set(d, 0, UV_WRITABLE);
}

static void ev_closed(uv_handle_t *h)
{
    free(h->data);
}

/* hiredis is done with the context: p lives until the poll handle has closed. */
static void ev_cleanup(void *d)
{
    struct uvev *p = d;

    p->ac = NULL;
    if (!uv_is_closing((uv_handle_t *)&p->poll))
        uv_close((uv_handle_t *)&p->poll, ev_closed);
}

static int ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct uvev *p;

    if (ac->ev.data || !(p = calloc(1, sizeof(*p))))
        return -ENOMEM;
    if (uv_poll_init(loop, &p->poll, ac->c.fd) < 0) {
        free(p);
        return -EIO;
    }
    p->poll.data = p;
    p->ac = ac;
    ac->ev.data = p;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
}

/*** Connections ***/

static void conn_start(struct conn *c);

static void on_retry(uv_timer_t *t)
{
    conn_start(t->data);
}

static void conn_schedule(struct conn *c)
{
    uint64_t d = c->rq->o.reconnect_min_ms << (c->attempt < 16 ? c->attempt : 16);

    c->state = ST_DOWN;
    if (c->rq->closing)
        return;
    if (d > c->rq->o.reconnect_max_ms)
        d = c->rq->o.reconnect_max_ms;
    c->attempt++;
    uv_timer_start(&c->timer, on_retry, d, 0);
}

/* Frees the context (pending callbacks get err) and schedules a reconnect. */
static void conn_drop(struct conn *c, int err)
{
    redisAsyncContext *ac = c->ac;

    if (!ac)
        return;
    c->ac = NULL;
    c->fail = err;
    c->state = ST_DOWN;
    uv_timer_stop(&c->timer);
    redisAsyncFree(ac);
    conn_schedule(c);
}

static void on_connect_timeout(uv_timer_t *t)
{
    conn_drop(t->data, -ETIMEDOUT);
}

static void ignore_reply(struct rq *rq, void *op, int err, redisReply *r)
{
}

static void on_script_loaded(struct rq *rq, void *op, int err, redisReply *r)
{
    size_t s = (size_t)(uintptr_t)op;

    if (!err && r->type == REDIS_REPLY_STRING && r->len < sizeof(rq->sha[s]))
        memcpy(rq->sha[s], r->str, r->len + 1);
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv);

static int sub_send(struct conn *c, const char *verb, const char *name)
{
    const char *argv[2] = {verb, name};

    if (!c->ac || c->state != ST_UP)
        return -ENOTCONN;
    return redisAsyncCommandArgv(c->ac, on_sub_msg, c, 2, argv, NULL) == REDIS_OK ? 0 : -ENOTCONN;
}

int rq_heartbeat(struct rq *rq, rq_int_fn *cb, void *arg);

static void conn_up(struct conn *c)
{
    struct rq *rq = c->rq;
    struct sub *s;
    int i;

    if (c->kind == CONN_SUB) {
        for (s = rq->subs; s; s = s->next)
            sub_send(c, s->pattern ? "PSUBSCRIBE" : "SUBSCRIBE", s->name);
    } else if (c->kind == CONN_CMD) {
        for (i = 0; i < QUEUE_SCRIPT_COUNT; i++) {
            const char *argv[3] = {"SCRIPT", "LOAD", queue_script_text(i)};
            send_plain(rq, on_script_loaded, (void *)(uintptr_t)i, 3, argv);
        }
        if (rq->worker[0] && rq->o.heartbeat_ms)
            rq_heartbeat(rq, NULL, NULL);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;

    if (c->ac != ac)
        return;
    uv_timer_stop(&c->timer);
    if (status != REDIS_OK) { /* hiredis frees ac after this returns */
        c->ac = NULL;
        c->fail = -ECONNREFUSED;
        conn_schedule(c);
        return;
    }
    c->state = ST_UP;
    c->attempt = 0;
    c->fail = 0;
    redisEnableKeepAlive((redisContext *)&ac->c);
    conn_up(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;

    if (c->ac != ac)
        return; /* dropped by us: already handled */
    c->ac = NULL;
    conn_schedule(c);
}

static void conn_connect(struct conn *c, const char *ip)
{
    struct rq *rq = c->rq;
    redisAsyncContext *ac = redisAsyncConnect(ip, rq->url.port);
    char db[16];

    if (!ac || ac->err || ev_attach(ac, rq->loop) < 0) {
        if (ac)
            redisAsyncFree(ac);
        conn_schedule(c);
        return;
    }
    ac->data = c;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    c->state = ST_CONNECTING;
    uv_timer_start(&c->timer, on_connect_timeout, rq->o.connect_timeout_ms, 0);
    if (rq->url.password[0]) { /* queued before anything else on this connection */
        const char *a3[3] = {"AUTH", rq->url.user, rq->url.password};
        const char *a2[2] = {"AUTH", rq->url.password};
        send_cmd(c, ignore_reply, NULL, -1, rq->url.user[0] ? 3 : 2, rq->url.user[0] ? a3 : a2,
                 NULL, rq->o.connect_timeout_ms + rq->o.command_timeout_ms);
    }
    if (rq->url.db) {
        const char *a[2] = {"SELECT", db};
        snprintf(db, sizeof(db), "%d", rq->url.db);
        send_cmd(c, ignore_reply, NULL, -1, 2, a, NULL,
                 rq->o.connect_timeout_ms + rq->o.command_timeout_ms);
    }
}

static void maybe_finish(struct rq *rq);

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct conn *c = req->data;
    struct addrinfo *a, *pick = NULL;
    char ip[INET6_ADDRSTRLEN] = "";

    c->gai_busy = 0;
    c->rq->open_handles--;
    for (a = status == 0 ? res : NULL; a; a = a->ai_next) {
        if (!pick || (a->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = a;
    }
    if (pick && pick->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, ip, sizeof(ip));
    else if (pick && pick->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, ip, sizeof(ip));
    uv_freeaddrinfo(res);
    if (c->rq->closing)
        maybe_finish(c->rq);
    else if (!ip[0])
        conn_schedule(c);
    else
        conn_connect(c, ip);
}

static void conn_start(struct conn *c)
{
    struct rq *rq = c->rq;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    unsigned char buf[sizeof(struct in6_addr)];

    if (rq->closing || c->ac || c->gai_busy)
        return;
    if (inet_pton(AF_INET, rq->url.host, buf) == 1 || inet_pton(AF_INET6, rq->url.host, buf) == 1) {
        conn_connect(c, rq->url.host);
        return;
    }
    c->state = ST_RESOLVING;
    c->gai.data = c;
    if (uv_getaddrinfo(rq->loop, &c->gai, on_resolved, rq->url.host, NULL, &hints) < 0) {
        conn_schedule(c);
        return;
    }
    c->gai_busy = 1;
    rq->open_handles++;
}

static void on_tick(uv_timer_t *t)
{
    struct rq *rq = t->data;
    uint64_t now = uv_now(rq->loop);
    struct cmd *k;
    int i;

    for (i = 0; i < CONN_COUNT; i++) {
        for (k = rq->conn[i].head; k; k = k->next) {
            if (now >= k->deadline) {
                conn_drop(&rq->conn[i], -ETIMEDOUT);
                break;
            }
        }
    }
}

static void on_beat(uv_timer_t *t)
{
    rq_heartbeat(t->data, NULL, NULL);
}

/*** Lifecycle ***/

int rq_open(uv_loop_t *loop, const struct rq_options *opt, struct rq **out)
{
    struct rq *rq;
    size_t i;

    if (!loop || !opt || !out || (opt->worker && keys_valid_worker(opt->worker) < 0))
        return -EINVAL;
    for (i = 0; i < opt->nqueues; i++) {
        if (keys_valid_queue(opt->queues[i]) < 0)
            return -EINVAL;
    }
    if (!(rq = calloc(1, sizeof(*rq))))
        return -ENOMEM;
    if (rq_url_parse(opt->url, &rq->url) < 0) {
        free(rq);
        return -EINVAL;
    }
    rq->queues = calloc(opt->nqueues ? opt->nqueues : 1, sizeof(*rq->queues));
    if (!rq->queues) {
        free(rq);
        return -ENOMEM;
    }
    for (i = 0; i < opt->nqueues; i++) {
        snprintf(rq->queues[i].name, sizeof(rq->queues[i].name), "%s", opt->queues[i]);
        rq->queues[i].scan = rq->queues[i].fresh = 1;
    }
    rq->nqueues = opt->nqueues;
    rq->loop = loop;
    rq->o = *opt;
    rq->o.url = rq->o.worker = NULL;
    rq->o.queues = NULL;
    if (opt->worker)
        snprintf(rq->worker, sizeof(rq->worker), "%s", opt->worker);
#define DEFAULT(f, v) rq->o.f = rq->o.f ? rq->o.f : (v)
    DEFAULT(connect_timeout_ms, 2000);
    DEFAULT(command_timeout_ms, 5000);
    DEFAULT(reconnect_min_ms, 50);
    DEFAULT(reconnect_max_ms, 2000);
    DEFAULT(heartbeat_ttl_ms, rq->o.heartbeat_ms * 3 > 1000 ? rq->o.heartbeat_ms * 3 : 1000);
    DEFAULT(max_attempts, 3);
    DEFAULT(recover_lock_ms, 5000);
#undef DEFAULT
    for (i = 0; i < CONN_COUNT; i++) {
        rq->conn[i].rq = rq;
        rq->conn[i].kind = (int)i;
        uv_timer_init(loop, &rq->conn[i].timer);
        rq->conn[i].timer.data = &rq->conn[i];
    }
    uv_timer_init(loop, &rq->tick);
    uv_timer_init(loop, &rq->beat);
    rq->tick.data = rq->beat.data = rq;
    rq->open_handles = N_HANDLES;
    uv_timer_start(&rq->tick, on_tick, 100, 100);
    uv_unref((uv_handle_t *)&rq->tick);
    if (rq->worker[0] && rq->o.heartbeat_ms)
        uv_timer_start(&rq->beat, on_beat, rq->o.heartbeat_ms, rq->o.heartbeat_ms);
    conn_start(&rq->conn[CONN_CMD]);
    if (rq->worker[0])
        conn_start(&rq->conn[CONN_BLOCK]);
    *out = rq;
    return 0;
}

static void maybe_finish(struct rq *rq)
{
    void (*closed)(void *) = rq->closed;
    void *arg = rq->closed_arg;
    struct sub *s;

    if (rq->open_handles > 0)
        return;
    while ((s = rq->subs)) {
        rq->subs = s->next;
        free(s->name);
        free(s);
    }
    free(rq->queues);
    free(rq);
    if (closed)
        closed(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct rq *rq = h->data;

    rq->open_handles--;
    maybe_finish(rq);
}

static void on_conn_timer_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    c->rq->open_handles--;
    maybe_finish(c->rq);
}

void rq_close(struct rq *rq, void (*closed)(void *arg), void *arg)
{
    int i;

    rq->closing = 1;
    rq->closed = closed;
    rq->closed_arg = arg;
    for (i = 0; i < CONN_COUNT; i++) {
        struct conn *c = &rq->conn[i];
        redisAsyncContext *ac = c->ac;
        if (ac) {
            c->ac = NULL;
            c->fail = -ECANCELED;
            c->state = ST_DOWN;
            redisAsyncFree(ac);
        }
        if (c->gai_busy)
            uv_cancel((uv_req_t *)&c->gai);
        uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
    }
    uv_close((uv_handle_t *)&rq->tick, on_handle_closed);
    uv_close((uv_handle_t *)&rq->beat, on_handle_closed);
}

int rq_connected(const struct rq *rq)
{
    return rq->conn[CONN_CMD].state == ST_UP;
}

/*** Operations ***/

/* Completion shared by commands answered with an integer (or OK). */
struct int_op {
    rq_int_fn *cb;
    void *arg;
    int left, err;
    long long value;
};

static void int_op_done(struct int_op *op)
{
    if (--op->left > 0)
        return;
    if (op->cb)
        op->cb(op->arg, op->err, op->err ? 0 : op->value);
    free(op);
}

static void on_int(struct rq *rq, void *p, int err, redisReply *r)
{
    struct int_op *op = p;

    err = reply_status(err, r);
    if (err && !op->err)
        op->err = err;
    if (!err && r->type == REDIS_REPLY_INTEGER)
        op->value = r->integer;
    int_op_done(op);
}

/* Sends each argv of cmds on the command connection into one int_op. */
static int int_op_send(struct rq *rq, int n, const int *argc, const char **const *argv,
                       const size_t *const *lens, rq_int_fn *cb, void *arg)
{
    struct int_op *op = calloc(1, sizeof(*op));
    int i, r;

    if (!op)
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->left = 1; /* guard */
    for (i = 0; i < n; i++) {
        r = send_cmd(&rq->conn[CONN_CMD], on_int, op, -1, argc[i], argv[i], lens ? lens[i] : NULL,
                     rq->o.command_timeout_ms);
        if (r < 0 && i == 0) {
            free(op);
            return r;
        }
        if (r < 0) {
            op->err = r;
            break;
        }
        op->left++;
    }
    int_op_done(op);
    return 0;
}

/* rq_enqueue */

struct enq_op {
    rq_enqueue_fn *cb;
    void *arg;
    struct rq_enqueued res;
};

static void on_enqueue(struct rq *rq, void *p, int err, redisReply *r)
{
    struct enq_op *op = p;
    const char *what = NULL, *id;

    if (!(err = reply_status(err, r)))
        what = elem_str(r, 0);
    if (!err && what && !strcmp(what, "ok") && (id = elem_str(r, 1))) {
        snprintf(op->res.id, sizeof(op->res.id), "%s", id);
        op->res.status = RQ_ENQUEUED;
        op->res.depth = elem_int(r, 2);
    } else if (!err && what && !strcmp(what, "dup") && (id = elem_str(r, 1))) {
        snprintf(op->res.id, sizeof(op->res.id), "%s", id);
        op->res.status = RQ_DUPLICATE;
    } else if (!err && what && !strcmp(what, "full")) {
        op->res.status = RQ_FULL;
        op->res.depth = elem_int(r, 1);
        op->res.id[0] = '\0';
    } else if (!err) {
        err = what && !strcmp(what, "exists") ? -EEXIST : -EPROTO;
    }
    op->cb(op->arg, err, err ? NULL : &op->res);
    free(op);
}

int rq_enqueue(struct rq *rq, const char *queue, const char *spec, const char *idem_key,
               uint64_t idem_ttl_ms, uint64_t max_depth, rq_enqueue_fn *cb, void *arg)
{
    char pend[KEYS_NAME_MAX], job[KEYS_NAME_MAX], idem[KEYS_NAME_MAX], now[24], maxd[24], ttl[24];
    uint8_t rnd[KEYS_RANDOM_BYTES];
    struct enq_op *op;
    int r;

    if (!cb || !spec || (idem_key && keys_valid_idem(idem_key) < 0))
        return -EINVAL;
    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        return errno == EAGAIN ? -EAGAIN : -EIO; /* never wait for entropy on the loop */
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    if ((r = keys_job_id_make(queue, rnd, op->res.id, sizeof(op->res.id))) < 0 ||
        (r = keys_pending(pend, sizeof(pend), queue)) < 0 ||
        (r = keys_job(job, sizeof(job), op->res.id)) < 0 ||
        (idem_key && (r = keys_idem(idem, sizeof(idem), queue, idem_key)) < 0)) {
        free(op);
        return r;
    }
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(maxd, sizeof(maxd), "%llu", (unsigned long long)max_depth);
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)(idem_ttl_ms ? idem_ttl_ms : 86400000));
    op->cb = cb;
    op->arg = arg;
    {
        const char *keys[3] = {pend, job, idem};
        const char *args[5] = {op->res.id, spec, now, maxd, ttl};
        r = eval(rq, QUEUE_SCRIPT_ENQUEUE, idem_key ? 3 : 2, keys, 5, args, on_enqueue, op);
    }
    if (r < 0)
        free(op);
    return r;
}

/* rq_fetch */

struct fetch_op {
    rq_fetch_fn *cb;
    void *arg;
    struct queue *q;
    uint64_t block_ms;
};

static void fetch_done(struct rq *rq, struct fetch_op *op, int err, const char *id)
{
    rq->fetching = 0;
    op->cb(op->arg, err, id);
    free(op);
}

static void on_blmove(struct rq *rq, void *p, int err, redisReply *r)
{
    struct fetch_op *op = p;

    if (err)
        op->q->scan = 1; /* the move may have happened without us hearing of it */
    else if (r->type == REDIS_REPLY_ERROR)
        err = -EIO;
    else if (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING)
        err = -EPROTO;
    fetch_done(rq, op, err, !err && r->type == REDIS_REPLY_STRING ? r->str : NULL);
}

static int send_blmove(struct rq *rq, struct fetch_op *op)
{
    char pend[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], secs[32];
    const char *argv[6] = {"BLMOVE", pend, proc, "RIGHT", "LEFT", secs};

    keys_pending(pend, sizeof(pend), op->q->name);
    keys_processing(proc, sizeof(proc), op->q->name, rq->worker);
    snprintf(secs, sizeof(secs), "%.3f", op->block_ms ? (double)op->block_ms / 1000.0 : 0.001);
    return send_cmd(&rq->conn[CONN_BLOCK], on_blmove, op, -1, 6, argv, NULL,
                    op->block_ms + rq->o.command_timeout_ms);
}

static void on_adopt(struct rq *rq, void *p, int err, redisReply *r)
{
    struct fetch_op *op = p;

    if (!err && r->type != REDIS_REPLY_ERROR)
        op->q->fresh = 0;
    if (!(err = reply_status(err, r)) && r->type == REDIS_REPLY_STRING) {
        fetch_done(rq, op, 0, r->str);
        return;
    }
    if (!err && r->type == REDIS_REPLY_NIL) {
        op->q->scan = 0;
        if ((err = send_blmove(rq, op)) == 0)
            return;
    }
    fetch_done(rq, op, err ? err : -EPROTO, NULL);
}

static struct queue *find_queue(struct rq *rq, const char *name)
{
    size_t i;

    for (i = 0; name && i < rq->nqueues; i++) {
        if (!strcmp(rq->queues[i].name, name))
            return &rq->queues[i];
    }
    return NULL;
}

int rq_fetch(struct rq *rq, const char *queue, uint64_t block_ms, rq_fetch_fn *cb, void *arg)
{
    struct queue *q = find_queue(rq, queue);
    struct fetch_op *op;
    int r;

    if (!cb || !rq->worker[0] || !q)
        return -EINVAL;
    if (rq->fetching)
        return -EBUSY;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->q = q;
    op->block_ms = block_ms;
    if (q->scan) {
        char proc[KEYS_NAME_MAX], prefix[KEYS_NAME_MAX];
        const char *keys[1] = {proc}, *args[3] = {rq->worker, prefix, q->fresh ? "1" : "0"};
        keys_processing(proc, sizeof(proc), q->name, rq->worker);
        keys_job_prefix(prefix, sizeof(prefix), q->name);
        r = eval(rq, QUEUE_SCRIPT_ADOPT, 1, keys, 3, args, on_adopt, op);
    } else {
        r = send_blmove(rq, op);
    }
    if (r < 0) {
        free(op);
        return r;
    }
    rq->fetching = 1;
    return 0;
}

/* rq_mark_running */

struct start_op {
    rq_start_fn *cb;
    void *arg;
};

static void on_start(struct rq *rq, void *p, int err, redisReply *r)
{
    struct start_op *op = p;
    struct rq_started s = {0};
    const char *what = NULL;

    if (!(err = reply_status(err, r)))
        what = elem_str(r, 0);
    if (!err && what && !strcmp(what, "ok") && elem_str(r, 1)) {
        s.status = RQ_START_OK;
        s.spec = r->element[1]->str;
        s.spec_len = r->element[1]->len;
        s.attempts = elem_int(r, 2);
    } else if (!err && what && !strcmp(what, "gone")) {
        s.status = RQ_START_GONE;
    } else if (!err && what && !strcmp(what, "cancelled")) {
        s.status = RQ_START_CANCELLED;
    } else if (!err && what && !strcmp(what, "done")) {
        s.status = RQ_START_DONE;
    } else if (!err && what && !strcmp(what, "dead")) {
        s.status = RQ_START_DEAD;
    } else if (!err) {
        err = -EPROTO;
    }
    op->cb(op->arg, err, err ? NULL : &s);
    free(op);
}

int rq_mark_running(struct rq *rq, const char *id, rq_start_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], dead[KEYS_NAME_MAX],
        now[24], ttl[24], maxa[16];
    const char *keys[3] = {job, proc, dead}, *args[5] = {id, rq->worker, now, ttl, maxa};
    struct start_op *op;
    int r;

    if (!cb || !rq->worker[0] || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_dead(dead, sizeof(dead), q);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(maxa, sizeof(maxa), "%u", rq->o.max_attempts);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = eval(rq, QUEUE_SCRIPT_START, 3, keys, 5, args, on_start, op)) < 0)
        free(op);
    return r;
}

/* rq_ack */

int rq_ack(struct rq *rq, const char *id, const char *state, const char *result_json, rq_int_fn *cb,
           void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], proc[KEYS_NAME_MAX], pend[KEYS_NAME_MAX],
        dead[KEYS_NAME_MAX], ev[KEYS_NAME_MAX], now[24], ttl[24], msg[256];
    const char *keys[4] = {job, proc, pend, dead};
    const char *args[7] = {id, state, result_json, now, ttl, ev, msg};
    struct int_op *op;
    int r;

    if (!rq->worker[0] || !result_json || !state || keys_job_id_parse(id, q, sizeof(q)) < 0 ||
        (strcmp(state, "completed") && strcmp(state, "failed") && strcmp(state, "cancelled")))
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_processing(proc, sizeof(proc), q, rq->worker);
    keys_pending(pend, sizeof(pend), q);
    keys_dead(dead, sizeof(dead), q);
    keys_events(ev, sizeof(ev), id);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"event\":\"finished\",\"state\":\"%s\"}", id,
             state);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->left = 1;
    if ((r = eval(rq, QUEUE_SCRIPT_FINISH, 4, keys, 7, args, on_int, op)) < 0)
        free(op);
    return r;
}

/* rq_heartbeat */

int rq_heartbeat(struct rq *rq, rq_int_fn *cb, void *arg)
{
    char key[KEYS_NAME_MAX], now[24], ttl[24];
    const char *set[5] = {"SET", key, now, "PX", ttl},
               *sadd[3] = {"SADD", KEYS_WORKERS, rq->worker};
    const char *const *argv[2] = {set, sadd};
    const int argc[2] = {5, 3};

    if (!rq->worker[0])
        return -EINVAL;
    keys_worker(key, sizeof(key), rq->worker);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.heartbeat_ttl_ms);
    return int_op_send(rq, 2, argc, (const char **const *)argv, NULL, cb, arg);
}

/* rq_publish */

int rq_publish(struct rq *rq, const char *channel, const char *data, size_t len, rq_int_fn *cb,
               void *arg)
{
    const char *pub[3] = {"PUBLISH", channel, data};
    const size_t lens[3] = {7, channel ? strlen(channel) : 0, len};
    const char *const *argv[1] = {pub};
    const size_t *const lv[1] = {lens};
    const int argc[1] = {3};

    if (!channel || !data)
        return -EINVAL;
    return int_op_send(rq, 1, argc, (const char **const *)argv, lv, cb, arg);
}

/* rq_recover_orphans: lock -> SMEMBERS -> EXISTS each heartbeat -> per dead worker: one
 * recover script per queue, then SREM once all succeeded. Replies on one connection come
 * back in order, so the n-th reply of a phase belongs to the n-th command sent. */

enum { REC_LOCK, REC_MEMBERS, REC_EXISTS, REC_SCRIPTS, REC_SREM };

struct rec_op {
    rq_recover_fn *cb;
    void *arg;
    struct rq_recovery res;
    int phase, left, err;
    char **workers;
    char *dead;
    size_t nworkers, got, cur;
};

static void rec_finish(struct rq *rq, struct rec_op *op)
{
    size_t i;

    op->cb(op->arg, op->err, op->err ? NULL : &op->res);
    for (i = 0; i < op->nworkers; i++)
        free(op->workers[i]);
    free(op->workers);
    free(op->dead);
    free(op);
}

static void on_rec(struct rq *rq, void *p, int err, redisReply *r);

static void rec_send(struct rq *rq, struct rec_op *op, int argc, const char **argv)
{
    int r = send_plain(rq, on_rec, op, argc, argv);

    if (r < 0 && !op->err)
        op->err = r;
    else if (r == 0)
        op->left++;
}

static void rec_eval(struct rq *rq, struct rec_op *op, const char **keys, const char **args)
{
    int r = eval(rq, QUEUE_SCRIPT_RECOVER, 3, keys, 5, args, on_rec, op);

    if (r < 0 && !op->err)
        op->err = r;
    else if (r == 0)
        op->left++;
}

/* Starts the scripts of the next dead worker, or finishes. */
static void rec_next_worker(struct rq *rq, struct rec_op *op)
{
    char proc[KEYS_NAME_MAX], pend[KEYS_NAME_MAX], dead[KEYS_NAME_MAX], prefix[KEYS_NAME_MAX],
        maxa[16], now[24], ttl[24];
    const char *keys[3] = {proc, pend, dead};
    size_t i;

    while (op->cur < op->nworkers && !op->dead[op->cur])
        op->cur++;
    if (op->cur >= op->nworkers || op->err) {
        rec_finish(rq, op);
        return;
    }
    op->phase = REC_SCRIPTS;
    snprintf(maxa, sizeof(maxa), "%u", rq->o.max_attempts);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    for (i = 0; i < rq->nqueues && !op->err; i++) {
        const char *args[5] = {op->workers[op->cur], maxa, now, prefix, ttl};
        keys_processing(proc, sizeof(proc), rq->queues[i].name, op->workers[op->cur]);
        keys_pending(pend, sizeof(pend), rq->queues[i].name);
        keys_dead(dead, sizeof(dead), rq->queues[i].name);
        keys_job_prefix(prefix, sizeof(prefix), rq->queues[i].name);
        rec_eval(rq, op, keys, args);
    }
    if (op->left == 0) {
        if (!op->err) { /* no queues: just forget the worker */
            const char *srem[3] = {"SREM", KEYS_WORKERS, op->workers[op->cur]};
            op->phase = REC_SREM;
            rec_send(rq, op, 3, srem);
        }
        if (op->left == 0)
            rec_finish(rq, op);
    }
}

static int rec_members(struct rq *rq, struct rec_op *op, const redisReply *r)
{
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY)
        return -EPROTO;
    op->workers = calloc(r->elements + 1, sizeof(char *));
    op->dead = calloc(r->elements + 1, 1);
    if (!op->workers || !op->dead)
        return -ENOMEM;
    for (i = 0; i < r->elements; i++) {
        const char *w = elem_str(r, i);
        if (!w || keys_valid_worker(w) < 0 || !strcmp(w, rq->worker))
            continue;
        if (!(op->workers[op->nworkers] = strdup(w)))
            return -ENOMEM;
        op->nworkers++;
    }
    op->phase = REC_EXISTS;
    for (i = 0; i < op->nworkers; i++) {
        char key[KEYS_NAME_MAX];
        const char *argv[2] = {"EXISTS", key};
        keys_worker(key, sizeof(key), op->workers[i]);
        rec_send(rq, op, 2, argv);
    }
    return 0;
}

static void on_rec(struct rq *rq, void *p, int err, redisReply *r)
{
    struct rec_op *op = p;

    op->left--;
    if ((err = reply_status(err, r)) < 0 && !op->err)
        op->err = err;
    if (!op->err) {
        switch (op->phase) {
        case REC_LOCK:
            if (r->type == REDIS_REPLY_NIL) {
                op->res.locked_out = 1;
            } else {
                const char *argv[2] = {"SMEMBERS", KEYS_WORKERS};
                op->phase = REC_MEMBERS;
                rec_send(rq, op, 2, argv);
            }
            break;
        case REC_MEMBERS:
            if ((err = rec_members(rq, op, r)) < 0)
                op->err = err;
            break;
        case REC_EXISTS:
            if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
                op->dead[op->got] = 1;
            op->got++;
            break;
        case REC_SCRIPTS:
            op->res.requeued += elem_int(r, 0);
            op->res.dead += elem_int(r, 1);
            op->res.cancelled += elem_int(r, 2);
            if (op->left == 0) {
                const char *srem[3] = {"SREM", KEYS_WORKERS, op->workers[op->cur]};
                op->phase = REC_SREM;
                rec_send(rq, op, 3, srem);
            }
            break;
        default: /* REC_SREM */
            op->res.workers++;
            op->cur++;
            rec_next_worker(rq, op);
            return;
        }
    }
    if (op->left > 0)
        return;
    if (!op->err && op->phase == REC_EXISTS) {
        op->cur = 0;
        rec_next_worker(rq, op);
        return;
    }
    rec_finish(rq, op);
}

int rq_recover_orphans(struct rq *rq, rq_recover_fn *cb, void *arg)
{
    struct rec_op *op;
    char px[24];
    const char *argv[6] = {"SET", KEYS_RECOVER_LOCK, rq->worker[0] ? rq->worker : "rq", "NX", "PX",
                           px};
    int r;

    if (!cb)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    snprintf(px, sizeof(px), "%llu", (unsigned long long)rq->o.recover_lock_ms);
    if ((r = send_plain(rq, on_rec, op, 6, argv)) < 0) {
        free(op);
        return r;
    }
    op->left = 1;
    return 0;
}

/* rq_cancel */

struct cancel_op {
    rq_cancel_fn *cb;
    void *arg;
};

static void on_cancel(struct rq *rq, void *p, int err, redisReply *r)
{
    static const char *const names[] = {"cancelled", "running", "flagged", "finished", "missing"};
    struct cancel_op *op = p;
    enum rq_cancel_status st = RQ_CANCEL_MISSING;
    const char *what = NULL;
    size_t i;

    if (!(err = reply_status(err, r)))
        what = elem_str(r, 0);
    for (i = 0; what && i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(what, names[i]))
            break;
    }
    if (!err && (!what || i == sizeof(names) / sizeof(names[0])))
        err = -EPROTO;
    else if (!err)
        st = (enum rq_cancel_status)i;
    op->cb(op->arg, err, st);
    free(op);
}

int rq_cancel(struct rq *rq, const char *id, rq_cancel_fn *cb, void *arg)
{
    char q[KEYS_QUEUE_MAX + 1], job[KEYS_NAME_MAX], pend[KEYS_NAME_MAX], ev[KEYS_NAME_MAX], now[24],
        ttl[24], evmsg[256], ctlmsg[256];
    const char *keys[2] = {job, pend};
    const char *args[7] = {id, now, ttl, KEYS_CONTROL_PREFIX, ev, evmsg, ctlmsg};
    struct cancel_op *op;
    int r;

    if (!cb || keys_job_id_parse(id, q, sizeof(q)) < 0)
        return -EINVAL;
    keys_job(job, sizeof(job), id);
    keys_pending(pend, sizeof(pend), q);
    keys_events(ev, sizeof(ev), id);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)rq->o.results_ttl_ms);
    snprintf(evmsg, sizeof(evmsg),
             "{\"id\":\"%s\",\"event\":\"cancelled\",\"state\":\"cancelled\"}", id);
    snprintf(ctlmsg, sizeof(ctlmsg), "{\"cmd\":\"cancel\",\"id\":\"%s\"}", id);
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    if ((r = eval(rq, QUEUE_SCRIPT_CANCEL, 2, keys, 7, args, on_cancel, op)) < 0)
        free(op);
    return r;
}

/* rq_get_job */

struct get_op {
    rq_job_fn *cb;
    void *arg;
    char id[KEYS_ID_MAX + 1];
};

static void on_get(struct rq *rq, void *p, int err, redisReply *r)
{
    struct get_op *op = p;
    struct rq_job j = {
        .id = op->id, .state = "", .worker = "", .spec = "", .result = "", .reason = ""};
    size_t i;

    if (!(err = reply_status(err, r)) && r->type != REDIS_REPLY_ARRAY)
        err = -EPROTO;
    if (!err && r->elements == 0)
        err = -ENOENT;
    for (i = 0; !err && i + 1 < r->elements; i += 2) {
        const char *k = elem_str(r, i), *v = elem_str(r, i + 1);
        if (!k || !v)
            continue;
        if (!strcmp(k, "state"))
            j.state = v;
        else if (!strcmp(k, "worker"))
            j.worker = v;
        else if (!strcmp(k, "spec"))
            j.spec = v;
        else if (!strcmp(k, "result"))
            j.result = v;
        else if (!strcmp(k, "reason"))
            j.reason = v;
        else if (!strcmp(k, "attempts"))
            j.attempts = strtoll(v, NULL, 10);
        else if (!strcmp(k, "abandoned"))
            j.abandoned = strtoll(v, NULL, 10);
        else if (!strcmp(k, "created_ms"))
            j.created_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "started_ms"))
            j.started_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "finished_ms"))
            j.finished_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "cancel"))
            j.cancel_requested = !strcmp(v, "1");
    }
    op->cb(op->arg, err, err ? NULL : &j);
    free(op);
}

int rq_get_job(struct rq *rq, const char *id, rq_job_fn *cb, void *arg)
{
    char job[KEYS_NAME_MAX];
    const char *argv[2] = {"HGETALL", job};
    struct get_op *op;
    int r;

    if (!cb || keys_job(job, sizeof(job), id) < 0)
        return -EINVAL;
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    snprintf(op->id, sizeof(op->id), "%s", id);
    if ((r = send_plain(rq, on_get, op, 2, argv)) < 0)
        free(op);
    return r;
}

/* rq_queue_depths */

struct depth_op {
    rq_depths_fn *cb;
    void *arg;
    size_t n, got, sent;
    int err;
    char names[MAX_DEPTHS][KEYS_QUEUE_MAX + 1];
    struct rq_depth d[MAX_DEPTHS];
};

static void depth_done(struct depth_op *op)
{
    if (op->got < op->sent)
        return;
    op->cb(op->arg, op->err, op->err ? NULL : op->d, op->err ? 0 : op->n);
    free(op);
}

static void on_depth(struct rq *rq, void *p, int err, redisReply *r)
{
    struct depth_op *op = p;
    size_t i = op->got++;

    if ((err = reply_status(err, r)) < 0 && !op->err)
        op->err = err;
    if (!err) {
        op->d[i].pending = elem_int(r, 0);
        op->d[i].dead = elem_int(r, 1);
    }
    depth_done(op);
}

int rq_queue_depths(struct rq *rq, const char *const *queues, size_t n, rq_depths_fn *cb, void *arg)
{
    char pend[KEYS_NAME_MAX], dead[KEYS_NAME_MAX];
    const char *keys[2] = {pend, dead};
    struct depth_op *op;
    size_t i;
    int r;

    if (!cb || n == 0 || n > MAX_DEPTHS)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (keys_valid_queue(queues[i]) < 0)
            return -EINVAL;
    }
    if (!(op = calloc(1, sizeof(*op))))
        return -ENOMEM;
    op->cb = cb;
    op->arg = arg;
    op->n = n;
    op->sent = 1; /* guard */
    for (i = 0; i < n; i++) {
        snprintf(op->names[i], sizeof(op->names[i]), "%s", queues[i]);
        op->d[i].queue = op->names[i];
        keys_pending(pend, sizeof(pend), queues[i]);
        keys_dead(dead, sizeof(dead), queues[i]);
        r = eval(rq, QUEUE_SCRIPT_DEPTH, 2, keys, 0, NULL, on_depth, op);
        if (r < 0 && i == 0) {
            free(op);
            return r;
        }
        if (r < 0) {
            op->err = r;
            break;
        }
        op->sent++;
    }
    op->sent--;
    depth_done(op);
    return 0;
}

/* Pub/sub. Subscription callbacks get the connection as privdata and look the name up, so a
 * message racing an unsubscribe finds nothing instead of freed memory. */

static struct sub *find_sub(struct rq *rq, const char *name, int pattern)
{
    struct sub *s;

    for (s = rq->subs; s; s = s->next) {
        if (s->pattern == pattern && !strcmp(s->name, name))
            return s;
    }
    return NULL;
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv)
{
    struct conn *c = priv;
    redisReply *r = reply;
    const char *kind, *name;
    struct sub *s;

    if (!r || r->type != REDIS_REPLY_ARRAY || !(kind = elem_str(r, 0)) || !(name = elem_str(r, 1)))
        return;
    if (!strcmp(kind, "message") && (s = find_sub(c->rq, name, 0)) && elem_str(r, 2))
        s->cb(s->arg, name, r->element[2]->str, r->element[2]->len);
    else if (!strcmp(kind, "pmessage") && (s = find_sub(c->rq, name, 1)) && elem_str(r, 2) &&
             elem_str(r, 3))
        s->cb(s->arg, r->element[2]->str, r->element[3]->str, r->element[3]->len);
    else if (!strcmp(kind, "subscribe") && (s = find_sub(c->rq, name, 0)))
        s->cb(s->arg, name, NULL, 0);
    else if (!strcmp(kind, "psubscribe") && (s = find_sub(c->rq, name, 1)))
        s->cb(s->arg, name, NULL, 0);
}

int rq_subscribe(struct rq *rq, const char *name, int pattern, rq_message_fn *cb, void *arg)
{
    struct conn *c = &rq->conn[CONN_SUB];
    struct sub *s;

    if (!name || !*name || !cb || rq->closing)
        return -EINVAL;
    if (find_sub(rq, name, !!pattern))
        return -EEXIST;
    if (!(s = calloc(1, sizeof(*s))) || !(s->name = strdup(name))) {
        free(s);
        return -ENOMEM;
    }
    s->pattern = !!pattern;
    s->cb = cb;
    s->arg = arg;
    s->next = rq->subs;
    rq->subs = s;
    if (c->state == ST_UP)
        sub_send(c, s->pattern ? "PSUBSCRIBE" : "SUBSCRIBE", s->name);
    else if (c->state == ST_DOWN && !uv_is_active((uv_handle_t *)&c->timer))
        conn_start(c);
    return 0;
}

int rq_unsubscribe(struct rq *rq, const char *name)
{
    struct sub **pp, *s;

    for (pp = &rq->subs; (s = *pp); pp = &s->next) {
        if (!strcmp(s->name, name)) {
            *pp = s->next;
            sub_send(&rq->conn[CONN_SUB], s->pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", s->name);
            free(s->name);
            free(s);
            return 0;
        }
    }
    return -ENOENT;
}
