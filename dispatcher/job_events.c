/* SPDX-License-Identifier: MIT */
/* job_events: see job_events.h. A stream is a watcher, a timer (first the subscription
 * deadline, then the heartbeat) and at most one job read at a time. While a read is in
 * flight, messages are queued (pending) and sent after the snapshot it brings. The stream
 * is freed when its timer has closed and no read is in flight (refs). */
#include "job_events.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batches.h"

struct job_events {
    uv_loop_t *loop;
    struct job_watch *jw;
    struct job_store *store;
    struct rq *rq; /* a batch's snapshots */
    uint64_t heartbeat_ms;
    struct stream *streams;
    size_t nstreams;
};

struct stream {
    struct job_events *je;
    struct http_exchange *ex; /* NULL once ended or the client left */
    struct job_watcher *watcher;
    struct stream *next, *prev;
    uv_timer_t timer;
    json_t *pending; /* [[name, data], ...] that came during a read */
    unsigned long long seq;
    int refs;    /* the timer, and a read in flight */
    int reading; /* a read is in flight */
    int reread;  /* the subscription was re-made during the read: read again */
    int started; /* the stream's head is out */
    int batch;   /* a batch's stream: its snapshot is the batch, its channel the batch's */
    int ended;
    char id[KEYS_ID_MAX + 1];
};

int job_events_new(uv_loop_t *loop, struct job_watch *jw, struct job_store *store, struct rq *rq,
                   uint64_t heartbeat_ms, struct job_events **out)
{
    struct job_events *je;

    if (!loop || !jw || !store || !rq || !out)
        return -EINVAL;
    if (!(je = calloc(1, sizeof(*je))))
        return -ENOMEM;
    je->loop = loop;
    je->jw = jw;
    je->store = store;
    je->rq = rq;
    je->heartbeat_ms = heartbeat_ms ? heartbeat_ms : JOB_EVENTS_HEARTBEAT_MS;
    *out = je;
    return 0;
}

static void stream_unref(struct stream *s)
{
    if (--s->refs == 0) {
        json_decref(s->pending);
        free(s);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    stream_unref(h->data);
}

/* Detaches s from everything; freed once its timer closed and no read is in flight. */
static void stream_detach(struct stream *s)
{
    struct job_events *je = s->je;

    if (s->ended)
        return;
    s->ended = 1;
    job_watch_remove(s->watcher);
    s->watcher = NULL;
    if (s->prev)
        s->prev->next = s->next;
    else
        je->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    je->nstreams--;
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

static void on_client_gone(struct http_exchange *ex, void *data)
{
    struct stream *s = data;

    (void)ex;
    s->ex = NULL; /* freed by the server when this returns */
    stream_detach(s);
}

/* Takes the exchange back from s and detaches s. */
static struct http_exchange *stream_take(struct stream *s)
{
    struct http_exchange *ex = s->ex;

    s->ex = NULL;
    http_exchange_on_close(ex, NULL, NULL);
    stream_detach(s);
    return ex;
}

/* Ends a started stream (the terminating chunk). */
static void stream_end(struct stream *s)
{
    if (s->ex)
        http_stream_end(stream_take(s));
}

/* Writes one event; ends the stream when the write fails or the event is terminal. Returns 1
 * when the stream is over. */
static int send_event(struct stream *s, const char *name, const json_t *data, int terminal)
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY), *msg = NULL;
    int n = -1, rc = -ENOMEM;

    if (text)
        n = asprintf(&msg, "id: %llu\nevent: %s\ndata: %s\n\n", s->seq++, name, text);
    if (n >= 0)
        rc = http_stream_write(s->ex, msg, (size_t)n);
    free(text);
    if (n >= 0)
        free(msg);
    if (rc < 0 || terminal) {
        stream_end(s);
        return 1;
    }
    return 0;
}

/* "event" of a message if it is a safe SSE event name, else "message". */
static const char *event_name(const json_t *ev)
{
    const char *name = json_string_value(json_object_get(ev, "event"));
    size_t n = name ? strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
                    : 0;

    return n > 0 && n <= 64 && name[n] == '\0' ? name : "message";
}

static int is_terminal(const char *name)
{
    return !strcmp(name, "finished") || !strcmp(name, "cancelled");
}

static void on_heartbeat(uv_timer_t *t)
{
    struct stream *s = t->data;

    if (s->ex && http_stream_write(s->ex, ": keepalive\n\n", 13) < 0)
        stream_end(s);
}

static void read_job(struct stream *s);

/* Fails a stream whose head is not out yet. */
static void fail(struct stream *s, const struct job_store_result *res)
{
    struct http_exchange *ex = stream_take(s);

    if (res->status == -ENOENT)
        api_not_found(ex);
    else if (res->from_db)
        api_db_error(ex, res->status);
    else
        api_rq_error(ex, res->status);
}

static void on_snapshot(void *arg, const struct job_store_result *res)
{
    struct stream *s = arg;
    size_t i;

    s->reading = 0;
    if (!s->ex) {
        /* the client left, or shut down */
    } else if (res->status < 0 && !s->started) {
        fail(s, res);
    } else if (res->status < 0) {
        stream_end(s); /* the client reconnects and gets a snapshot */
    } else {
        if (!s->started) {
            if (http_stream_start(s->ex, 200, "text/event-stream") < 0) {
                http_respond_error(stream_take(s), 500, "internal_error", "stream failed", NULL);
                stream_unref(s);
                return;
            }
            s->started = 1;
            uv_timer_start(&s->timer, on_heartbeat, s->je->heartbeat_ms, s->je->heartbeat_ms);
        }
        if (send_event(s, "snapshot", res->job, res->finished)) {
            stream_unref(s);
            return;
        }
        for (i = 0; s->pending && i < json_array_size(s->pending); i++) {
            json_t *e = json_array_get(s->pending, i);
            const char *name = json_string_value(json_array_get(e, 0));
            if (send_event(s, name, json_array_get(e, 1), is_terminal(name)))
                break;
        }
        json_array_clear(s->pending);
        if (s->ex && s->reread)
            read_job(s);
    }
    stream_unref(s);
}

/* A batch's snapshot, delivered like a job's: a batch no longer running is final. */
static void on_batch_snapshot(void *arg, int status, const struct rq_batch *b)
{
    struct job_store_result res = {.status = status};

    if (status == 0 && !(res.job = batches_json(b)))
        res.status = -ENOMEM;
    res.finished = status == 0 && strcmp(b->state, "running") != 0;
    on_snapshot(arg, &res);
    json_decref(res.job);
}

static void read_job(struct stream *s)
{
    struct job_store_result res = {0};

    if (s->reading) {
        s->reread = 1;
        return;
    }
    s->reread = 0;
    if (s->batch)
        res.status = rq_get_batch(s->je->rq, s->id, on_batch_snapshot, s);
    else
        res.status = job_store_get(s->je->store, s->id, on_snapshot, s);
    if (res.status == 0) {
        s->reading = 1;
        s->refs++;
    } else if (!s->started) {
        fail(s, &res);
    } else {
        stream_end(s);
    }
}

static void on_stream_event(void *arg, const char *data, size_t len)
{
    struct stream *s = arg;
    const char *name;
    json_t *ev;

    if (!data) { /* (re)subscribed: a snapshot covers what was missed */
        read_job(s);
        return;
    }
    if (!(ev = json_loadb(data, len, 0, NULL)))
        return; /* not ours: the fleet publishes JSON */
    name = event_name(ev);
    if (s->reading) {
        if (!s->pending)
            s->pending = json_array();
        json_array_append_new(s->pending, json_pack("[s, O]", name, ev));
    } else if (s->started) {
        send_event(s, name, ev, is_terminal(name));
    }
    json_decref(ev);
}

static void on_subscribe_deadline(uv_timer_t *t)
{
    struct stream *s = t->data;
    struct job_store_result res = {.status = -ETIMEDOUT};

    if (s->ex && !s->started && !s->reading)
        fail(s, &res);
}

/* Last-Event-ID as a number, or 0. */
static unsigned long long last_event_id(const struct http_exchange *ex)
{
    const char *v = http_request_header(http_exchange_request(ex), "Last-Event-ID");
    unsigned long long n = 0;

    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18)
        return 0;
    sscanf(v, "%llu", &n);
    return n;
}

static void start(struct job_events *je, struct http_exchange *ex, const char *id, int batch)
{
    char channel[KEYS_NAME_MAX];
    struct stream *s;
    int rc;

    if (je->nstreams >= JOB_EVENTS_MAX_STREAMS) {
        http_exchange_add_header(ex, "Retry-After", "1");
        http_respond_error(ex, 503, "too_many_streams", "too many event streams", NULL);
        return;
    }
    if (strlen(id) > KEYS_ID_MAX || !(s = calloc(1, sizeof(*s)))) {
        api_rq_error(ex, -ENOMEM);
        return;
    }
    rc = batch ? keys_batch_events(channel, sizeof(channel), id) : 0;
    if (rc == 0 && batch)
        rc = job_watch_add_channel(je->jw, channel, on_stream_event, s, &s->watcher);
    else if (rc == 0)
        rc = job_watch_add(je->jw, id, on_stream_event, s, &s->watcher);
    if (rc < 0) {
        free(s);
        api_rq_error(ex, rc);
        return;
    }
    s->je = je;
    s->ex = ex;
    s->batch = batch;
    s->refs = 1;
    s->seq = last_event_id(ex) + 1;
    strcpy(s->id, id);
    s->next = je->streams;
    if (je->streams)
        je->streams->prev = s;
    je->streams = s;
    je->nstreams++;
    uv_timer_init(je->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_subscribe_deadline, JOB_EVENTS_SUBSCRIBE_MS, 0);
    http_exchange_on_close(ex, on_client_gone, s);
    if (job_watch_active(s->watcher))
        read_job(s); /* subscribed already */
}

void job_events_start(struct job_events *je, struct http_exchange *ex, const char *id)
{
    start(je, ex, id, 0);
}

void job_events_start_batch(struct job_events *je, struct http_exchange *ex, const char *id)
{
    start(je, ex, id, 1);
}

size_t job_events_count(const struct job_events *je)
{
    return je->nstreams;
}

void job_events_shutdown(struct job_events *je)
{
    while (je->streams) {
        struct stream *s = je->streams;
        if (s->started)
            stream_end(s);
        else
            http_respond_error(stream_take(s), 503, "shutting_down", "the server is stopping",
                               NULL);
    }
}

void job_events_free(struct job_events *je)
{
    free(je);
}
