/* SPDX-License-Identifier: MIT */
/* job_watch: see job_watch.h. A channel holds the rq subscription and its watchers; a
 * message is delivered to each watcher present when it arrived (a generation number marks
 * who got it, so a callback may remove or add watchers). A channel is dropped when its last
 * watcher goes, but not while it is delivering (busy): then at the end of the delivery.
 * A waiter is freed when its timer has closed and no read is in flight (refs). */
#include "job_watch.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

struct job_watch {
    uv_loop_t *loop;
    struct rq *rq;
    struct job_store *store;
    struct channel *channels;
    struct waiter *waiters; /* every live waiter, for job_watch_shutdown */
    size_t nwaiters;
};

struct channel {
    struct job_watch *jw;
    struct channel *next;
    struct job_watcher *watchers;
    unsigned gen;
    int busy;
    int active; /* the SUBSCRIBE was confirmed */
    char name[KEYS_NAME_MAX];
};

struct job_watcher {
    struct channel *ch;
    struct job_watcher *next, *prev;
    job_watch_fn *cb;
    void *arg;
    unsigned gen;
};

struct waiter {
    struct job_watch *jw;
    struct http_exchange *ex; /* NULL once answered or the client left */
    struct job_watcher *watcher;
    struct waiter *next, *prev; /* in jw->waiters */
    uv_timer_t timer;
    int refs;     /* the timer handle, and a read in flight */
    int checking; /* a read is in flight */
    int dirty;    /* an event came while checking: read again */
    int final;    /* the deadline passed: the next snapshot is the answer */
    int ended;
    char id[KEYS_ID_MAX + 1];
};

int job_watch_new(uv_loop_t *loop, struct rq *rq, struct job_store *store, struct job_watch **out)
{
    struct job_watch *jw;

    if (!loop || !rq || !store || !out)
        return -EINVAL;
    if (!(jw = calloc(1, sizeof(*jw))))
        return -ENOMEM;
    jw->loop = loop;
    jw->rq = rq;
    jw->store = store;
    *out = jw;
    return 0;
}

/*** Channels and watchers ***/

static void channel_drop(struct channel *ch, int unsubscribe)
{
    struct channel **pp;

    for (pp = &ch->jw->channels; *pp != ch; pp = &(*pp)->next)
        ;
    *pp = ch->next;
    if (unsubscribe)
        rq_unsubscribe(ch->jw->rq, ch->name);
    free(ch);
}

static void on_message(void *arg, const char *channel, const char *data, size_t len)
{
    struct channel *ch = arg;
    struct job_watcher *w;

    (void)channel;
    if (!data)
        ch->active = 1;
    ch->busy++;
    ch->gen++;
    for (;;) {
        for (w = ch->watchers; w && w->gen == ch->gen; w = w->next)
            ;
        if (!w)
            break;
        w->gen = ch->gen;
        w->cb(w->arg, data, len);
    }
    if (--ch->busy == 0 && !ch->watchers)
        channel_drop(ch, 1);
}

int job_watch_add(struct job_watch *jw, const char *id, job_watch_fn *cb, void *arg,
                  struct job_watcher **out)
{
    char name[KEYS_NAME_MAX];

    if (keys_events(name, sizeof(name), id) < 0)
        return -EINVAL;
    return job_watch_add_channel(jw, name, cb, arg, out);
}

int job_watch_add_channel(struct job_watch *jw, const char *name, job_watch_fn *cb, void *arg,
                          struct job_watcher **out)
{
    struct channel *ch;
    struct job_watcher *w;
    int rc;

    if (!cb || !out || !name || strlen(name) >= sizeof(ch->name))
        return -EINVAL;
    for (ch = jw->channels; ch && strcmp(ch->name, name); ch = ch->next)
        ;
    if (!(w = calloc(1, sizeof(*w))) || (!ch && !(ch = calloc(1, sizeof(*ch))))) {
        free(w);
        return -ENOMEM;
    }
    if (!ch->jw) { /* new */
        ch->jw = jw;
        snprintf(ch->name, sizeof(ch->name), "%s", name);
        if ((rc = rq_subscribe(jw->rq, name, 0, on_message, ch)) < 0) {
            free(ch);
            free(w);
            return rc;
        }
        ch->next = jw->channels;
        jw->channels = ch;
    }
    w->ch = ch;
    w->cb = cb;
    w->arg = arg;
    w->gen = ch->gen; /* a message being delivered now is not for w */
    w->next = ch->watchers;
    if (ch->watchers)
        ch->watchers->prev = w;
    ch->watchers = w;
    *out = w;
    return 0;
}

int job_watch_active(const struct job_watcher *w)
{
    return w->ch->active;
}

void job_watch_remove(struct job_watcher *w)
{
    struct channel *ch;

    if (!w)
        return;
    ch = w->ch;
    if (w->prev)
        w->prev->next = w->next;
    else
        ch->watchers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    free(w);
    if (!ch->watchers && !ch->busy)
        channel_drop(ch, 1);
}

/*** Waiters ***/

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

/* Detaches w from everything; it is freed once its timer closed and no read is in flight. */
static void waiter_end(struct waiter *w)
{
    struct job_watch *jw = w->jw;

    if (w->ended)
        return;
    w->ended = 1;
    job_watch_remove(w->watcher);
    w->watcher = NULL;
    if (w->prev)
        w->prev->next = w->next;
    else
        jw->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    jw->nwaiters--;
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_client_gone(struct http_exchange *ex, void *data)
{
    struct waiter *w = data;

    (void)ex;
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

static void on_waiter_job(void *arg, const struct job_store_result *res)
{
    struct waiter *w = arg;

    w->checking = 0;
    if (!w->ex) {
        /* answered or gone meanwhile */
    } else if (res->status == -ENOENT) {
        api_not_found(waiter_take(w));
    } else if (res->status < 0) {
        if (w->final && res->from_db)
            api_db_error(waiter_take(w), res->status);
        else if (w->final)
            api_rq_error(waiter_take(w), res->status);
        /* else: a hiccup; the deadline reads once more */
    } else if (res->finished || w->final) {
        api_json(waiter_take(w), 200, json_incref(res->job));
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
    rc = job_store_get(w->jw->store, w->id, on_waiter_job, w);
    if (rc == 0) {
        w->checking = 1;
        w->refs++;
    } else if (w->final && w->ex) {
        api_rq_error(waiter_take(w), rc);
    }
}

static void on_deadline(uv_timer_t *t)
{
    struct waiter *w = t->data;

    w->final = 1;
    waiter_check(w);
}

/* The activation (data NULL) and terminal events make the waiter re-read: the event names
 * the state, but the answer needs the result too. Progress events are ignored. */
static void on_waiter_event(void *arg, const char *data, size_t len)
{
    struct waiter *w = arg;
    json_t *ev;
    const char *name, *st;
    int terminal = 1;

    if (data) {
        ev = json_loadb(data, len, 0, NULL);
        name = json_string_value(json_object_get(ev, "event"));
        st = json_string_value(json_object_get(ev, "state"));
        terminal = api_finished_state(st) || (name && !strcmp(name, "cancelled"));
        json_decref(ev);
    }
    if (terminal)
        waiter_check(w);
}

int job_watch_wait(struct job_watch *jw, struct http_exchange *ex, const char *id, uint64_t wait_ms)
{
    struct waiter *w;
    int rc;

    if (jw->nwaiters >= JOB_WATCH_MAX_WAITERS)
        return -EAGAIN;
    if (strlen(id) > KEYS_ID_MAX)
        return -EINVAL;
    if (!(w = calloc(1, sizeof(*w))))
        return -ENOMEM;
    if ((rc = job_watch_add(jw, id, on_waiter_event, w, &w->watcher)) < 0) {
        free(w);
        return rc;
    }
    w->jw = jw;
    w->ex = ex;
    w->refs = 1;
    strcpy(w->id, id);
    w->next = jw->waiters;
    if (jw->waiters)
        jw->waiters->prev = w;
    jw->waiters = w;
    jw->nwaiters++;
    uv_timer_init(jw->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_deadline, wait_ms, 0);
    http_exchange_on_close(ex, on_client_gone, w);
    if (job_watch_active(w->watcher))
        waiter_check(w); /* subscribed already: the read that closes the gap */
    return 0;
}

size_t job_watch_waiters(const struct job_watch *jw)
{
    return jw->nwaiters;
}

void job_watch_shutdown(struct job_watch *jw)
{
    struct waiter *w, *next;

    for (w = jw->waiters; w; w = next) { /* a failing read ends w only */
        next = w->next;
        w->final = 1;
        waiter_check(w);
    }
}

void job_watch_free(struct job_watch *jw)
{
    if (!jw)
        return;
    while (jw->channels) { /* only if a watcher outlived the server: rq is gone, just forget */
        struct channel *ch = jw->channels;
        while (ch->watchers) {
            struct job_watcher *w = ch->watchers;
            ch->watchers = w->next;
            free(w);
        }
        channel_drop(ch, 0);
    }
    free(jw);
}
