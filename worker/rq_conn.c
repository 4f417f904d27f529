/* SPDX-License-Identifier: MIT */
/* rq_conn: the connection layer of rq (see rq.h, rq_conn.h): libuv glue for hiredis, connect
 * with timeout and reconnect with capped backoff, command dispatch with per-command timeouts,
 * script loading and the EVALSHA/EVAL fallback, and the teardown of rq_close. Only this file
 * owns hiredis contexts (rq_admin.c only sends (P)SUBSCRIBE on one) and their rules: replies are
 * freed by hiredis after our callback returns; every queued callback runs exactly once, with a NULL
 * reply when the context is freed; redisAsyncFree() inside a hiredis callback is deferred until
 * that callback returns; a failed connect calls the connect callback and frees the context itself
 * (no disconnect callback). Must not: know job semantics (rq.c, rq_admin.c), block the loop, or
 * keep global state. */
#include "rq_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t rq_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
        char *text = queue_script_text(k->script), *eval = strdup("EVAL");
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
int rq_send_cmd(struct conn *c, reply_fn *fn, void *op, int script, int argc, const char **argv,
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

int rq_send_plain(struct rq *rq, reply_fn *fn, void *op, int argc, const char **argv)
{
    return rq_send_cmd(&rq->conn[CONN_CMD], fn, op, -1, argc, argv, NULL, rq->o.command_timeout_ms);
}

/* EVALSHA (EVAL until SCRIPT LOAD answered) of script s with keys then args. */
int rq_eval(struct rq *rq, enum queue_script s, int nkeys, const char **keys, int nargs,
            const char **args, reply_fn *fn, void *op)
{
    const char **argv = calloc((size_t)(3 + nkeys + nargs), sizeof(*argv));
    char nk[16], *text = NULL;
    int i, n = 0, r;

    if (!argv || (!rq->sha[s][0] && !(text = queue_script_text(s)))) {
        free(argv);
        return -ENOMEM;
    }
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[n++] = rq->sha[s][0] ? "EVALSHA" : "EVAL";
    argv[n++] = rq->sha[s][0] ? rq->sha[s] : text;
    argv[n++] = nk;
    for (i = 0; i < nkeys; i++)
        argv[n++] = keys[i];
    for (i = 0; i < nargs; i++)
        argv[n++] = args[i];
    r = rq_send_cmd(&rq->conn[CONN_CMD], fn, op, rq->sha[s][0] ? (int)s : -1, n, argv, NULL,
                    rq->o.command_timeout_ms); /* copies what it sends */
    free(text);
    free(argv);
    return r;
}

int rq_reply_status(int err, const redisReply *r)
{
    if (err)
        return err;
    return r->type == REDIS_REPLY_ERROR ? -EIO : 0;
}

/* Element i of an array reply as a string, or NULL. */
const char *rq_elem_str(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    r = r->element[i];
    return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ? r->str : NULL;
}

long long rq_elem_int(const redisReply *r, size_t i)
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

static void on_retry(uv_timer_t *t)
{
    rq_conn_start(t->data);
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

static void conn_up(struct conn *c)
{
    struct rq *rq = c->rq;
    int i;

    if (c->kind == CONN_SUB) {
        rq_subs_renew(c);
    } else if (c->kind == CONN_CMD) {
        for (i = 0; i < QUEUE_SCRIPT_COUNT; i++) {
            char *text = queue_script_text(i);
            const char *argv[3] = {"SCRIPT", "LOAD", text};
            if (text)
                rq_send_plain(rq, on_script_loaded, (void *)(uintptr_t)i, 3, argv);
            free(text);
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
        rq_send_cmd(c, ignore_reply, NULL, -1, rq->url.user[0] ? 3 : 2, rq->url.user[0] ? a3 : a2,
                    NULL, rq->o.connect_timeout_ms + rq->o.command_timeout_ms);
    }
    if (rq->url.db) {
        const char *a[2] = {"SELECT", db};
        snprintf(db, sizeof(db), "%d", rq->url.db);
        rq_send_cmd(c, ignore_reply, NULL, -1, 2, a, NULL,
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

void rq_conn_start(struct conn *c)
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

void rq_conn_open(struct rq *rq)
{
    uv_loop_t *loop = rq->loop;
    size_t i;

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
    rq_conn_start(&rq->conn[CONN_CMD]);
    if (rq->worker[0])
        rq_conn_start(&rq->conn[CONN_BLOCK]);
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

void rq_conn_close(struct rq *rq)
{
    int i;

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
