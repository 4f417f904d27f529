/* SPDX-License-Identifier: MIT */
/* rq_conn: the connection layer of rq, INTERNAL to the rq module: only rq*.c include it
 * (everyone else uses rq.h). It holds the state struct shared by rq.c (lifecycle, job
 * operations), rq_admin.c (heartbeat, recovery, depths, pub/sub) and rq_conn.c (libuv glue for
 * hiredis, connect/reconnect with backoff, command dispatch with timeouts, script loading and
 * the EVALSHA/EVAL fallback).
 * Does: declare what those files share. Must not: be included outside worker/rq*.c, hold
 * global state, or grow job logic (that stays in rq.c and rq_admin.c). */
#ifndef RUNQ_WORKER_RQ_CONN_H
#define RUNQ_WORKER_RQ_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "queue_scripts.h"
#include "rq.h"

enum { CONN_CMD, CONN_BLOCK, CONN_SUB, CONN_COUNT };
enum { ST_DOWN, ST_RESOLVING, ST_CONNECTING, ST_UP };
#define N_HANDLES (CONN_COUNT + 2) /* a timer per connection, tick, heartbeat */

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


/* rq_conn.c: handles and connections. rq_conn_open inits the timers and starts connecting
 * (rq->o and rq->url set); rq_conn_close (rq->closing set) fails what is pending and closes
 * every handle, then frees rq and calls rq->closed. */
void rq_conn_open(struct rq *rq);
void rq_conn_close(struct rq *rq);
void rq_conn_start(struct conn *c);

/* rq_conn.c: commands. Sends argv[0..argc) (lens NULL: strlen); script >= 0 keeps a copy for
 * the EVAL fallback. rq_send_plain goes on the command connection with the command timeout. */
int rq_send_cmd(struct conn *c, reply_fn *fn, void *op, int script, int argc, const char **argv,
                const size_t *lens, uint64_t timeout_ms);
int rq_send_plain(struct rq *rq, reply_fn *fn, void *op, int argc, const char **argv);

/* EVALSHA (EVAL until SCRIPT LOAD answered) of script s with keys then args. */
int rq_eval(struct rq *rq, enum queue_script s, int nkeys, const char **keys, int nargs,
            const char **args, reply_fn *fn, void *op);

/* err, or -EIO for an error reply. */
int rq_reply_status(int err, const redisReply *r);

/* Element i of an array reply as a string (NULL) or an integer (-1 when not one). */
const char *rq_elem_str(const redisReply *r, size_t i);
long long rq_elem_int(const redisReply *r, size_t i);

/* rq_admin.c: completion shared by commands answered with an integer (or OK). */
struct rq_int_op {
    rq_int_fn *cb;
    void *arg;
    int left, err;
    long long value;
};
void rq_on_int(struct rq *rq, void *p, int err, redisReply *r);

/* Sends each argv of cmds on the command connection into one rq_int_op. */
int rq_int_op_send(struct rq *rq, int n, const int *argc, const char **const *argv,
                   const size_t *const *lens, rq_int_fn *cb, void *arg);

/* One script whose reply is an integer, into one rq_int_op. */
int rq_int_script(struct rq *rq, enum queue_script script, int nkeys, const char **keys, int nargs,
                  const char **args, rq_int_fn *cb, void *arg);

/* rq_admin.c: (re)subscribes everything of rq->subs on the pub/sub connection c, now up. */
void rq_subs_renew(struct conn *c);

#endif
