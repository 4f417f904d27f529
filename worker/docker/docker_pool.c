/* SPDX-License-Identifier: MIT */
#include "docker_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "docker_api.h"
#include "docker_attach.h"
#include "docker_box.h"
#include "docker_spec.h"
#include "sbx_request.h"

/* The worker's kill comes this long after runq-box's own wall-clock deadline: runq-box
 * normally ends the run and reports first (with the CPU time it measured). */
#define BACKSTOP_MS 2000
#define CALL_TIMEOUT_MS 30000

enum stage { IDLE, CREATING, ATTACHING, STARTING, RUNNING, WAITING, INSPECTING };

struct run {
    struct docker_pool *pool;
    unsigned index;
    enum stage stage;
    char id[80];
    char image[256];
    struct sbx_request req;
    char key[33];
    char *input;
    size_t input_len;
    struct docker_box_reader reader;
    struct docker_attach *attach;
    struct docker_call *call; /* the run's own call in flight (not kills) */
    uv_timer_t backstop;
    uint64_t start_ns, end_ns;
    int wall_killed, oom_killed, cancelled;
    char failure[256];
    slot_run_cb cb;
    slot_output_cb on_output;
    void *data;
};

struct docker_pool {
    uv_loop_t *loop;
    struct docker_api *api;
    struct docker_pool_options o;
    char owner[128];
    struct run *runs;
    int ready, closing, open_timers;
    struct docker_pool_stats stats;
    void (*close_cb)(void *);
    void *close_data;
};

static void maybe_closed(struct docker_pool *p);

/* ---- background calls ----
 * Kills, removals and the sweep's listing: nobody waits for their answer, but close waits
 * for them all (docker_api counts the calls in flight; a run's own are cancelled first). */

static void on_bg_done(int status, long http, json_t *body, const char *raw, const char *error,
                       void *data)
{
    (void)status;
    (void)http;
    (void)body;
    (void)raw;
    (void)error;
    maybe_closed(data);
}

static void on_removed(int status, long http, json_t *body, const char *raw, const char *error,
                       void *data)
{
    struct docker_pool *p = data;

    if (status == 0 && (http == 204 || http == 404))
        p->stats.removed++;
    else
        fprintf(stderr, "runq-worker: docker: a container was not removed: %s (HTTP %ld)\n",
                status < 0 ? error : "engine refused", http);
    maybe_closed(p);
}

/* 0, or < 0 when the call could not be made (a leftover at worst: the next start sweeps it). */
static int background(struct docker_pool *p, const char *method, const char *path,
                      docker_api_cb cb)
{
    return docker_api_request(p->api, method, path, NULL, CALL_TIMEOUT_MS, cb, p, NULL);
}

static void remove_container(struct docker_pool *p, const char *id)
{
    char path[160];

    snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", id);
    background(p, "DELETE", path, on_removed);
}

static void kill_container(struct run *r)
{
    char path[160];

    snprintf(path, sizeof(path), "/containers/%s/kill", r->id);
    background(r->pool, "POST", path, on_bg_done);
}

/* ---- one run ---- */

static void run_reset(struct run *r)
{
    sbx_request_free(&r->req);
    docker_box_reader_free(&r->reader);
    free(r->input);
    r->input = NULL;
    if (r->attach)
        docker_attach_close(r->attach);
    r->attach = NULL;
    if (r->call)
        docker_api_cancel(r->call);
    r->call = NULL;
    uv_timer_stop(&r->backstop);
    if (r->id[0])
        remove_container(r->pool, r->id);
    r->id[0] = '\0';
    r->stage = IDLE;
}

/* Ends the run with an answer (status 0) or without (status < 0), frees it, removes its
 * container. The callback may start another run in this very slot. */
static void finish(struct run *r, int status, json_t *answer)
{
    slot_run_cb cb = r->cb;
    void *data = r->data;

    if (r->cancelled && status == 0) {
        json_decref(answer);
        answer = NULL;
        status = -ECANCELED;
    }
    run_reset(r);
    cb(status, answer, data);
}

static void engine_failed(struct run *r, const char *what, int status, long http,
                          const char *error, const char *raw)
{
    if (status < 0)
        fprintf(stderr, "runq-worker: docker: %s: %s\n", what, error);
    else
        fprintf(stderr, "runq-worker: docker: %s: HTTP %ld %.200s\n", what, http, raw);
    finish(r, r->pool->closing ? -ESHUTDOWN : -EIO, NULL);
}

/* The answer the runner expects from a slot, in the sandbox's result form. */
static void answer(struct run *r)
{
    struct docker_box_seen seen = {r->key, r->req.spec.argv[0],
                                   r->req.spec.limits.cpu_ms * 1000,
                                   /* 0 for a run whose container never started */
                                   r->start_ns ? (r->end_ns - r->start_ns) / 1000000 : 0,
                                   r->wall_killed,
                                   r->oom_killed, r->failure[0] ? r->failure : NULL};
    struct sbx_result res;
    json_t *result = NULL;

    if (docker_box_result(&r->reader, &seen, &res) == 0)
        result = sbx_result_to_json(&res);
    sbx_result_clear(&res);
    if (!result) {
        finish(r, -ENOMEM, NULL);
        return;
    }
    finish(r, 0, json_pack("{s:s, s:o}", "type", "result", "result", result));
}

/* A result without running anything: the request is fine, the setup is not (a missing
 * image will not appear by retrying the job). */
static void answer_internal(struct run *r, const char *why)
{
    snprintf(r->failure, sizeof(r->failure), "%s", why);
    answer(r);
}

static void on_inspected(int status, long http, json_t *body, const char *raw,
                         const char *error, void *data)
{
    struct run *r = data;
    json_t *state = json_object_get(body, "State");

    r->call = NULL;
    if (status < 0 || http != 200 || !json_is_object(state)) {
        engine_failed(r, "inspecting a finished container", status, http, error, raw);
        return;
    }
    /* The engine's own word on OOM: exit 137 alone could be any SIGKILL. */
    r->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
    answer(r);
}

/* A call about the run's container: path is "/containers/" + id + what. */
static void request(struct run *r, const char *method, const char *what, const json_t *body,
                    docker_api_cb cb)
{
    char path[200];
    int e;

    snprintf(path, sizeof(path), "/containers/%s%s", r->id, what);
    e = docker_api_request(r->pool->api, method, path, body, CALL_TIMEOUT_MS, cb, r, &r->call);
    if (e < 0)
        engine_failed(r, method, e, 0, strerror(-e), "");
}

static void on_waited(int status, long http, json_t *body, const char *raw, const char *error,
                      void *data)
{
    struct run *r = data;

    (void)body;
    r->call = NULL;
    if (status < 0 || http != 200) {
        engine_failed(r, "waiting for a container", status, http, error, raw);
        return;
    }
    r->stage = INSPECTING;
    request(r, "GET", "/json", NULL, on_inspected);
}

/* The stream ends when the container's stdout closes: runq-box exited, or the container
 * was killed. Its state is read once it has stopped. */
static void on_end(int status, const char *error, void *data)
{
    struct run *r = data;

    r->end_ns = uv_hrtime();
    uv_timer_stop(&r->backstop);
    docker_attach_close(r->attach);
    r->attach = NULL;
    if (status < 0 && !r->failure[0])
        snprintf(r->failure, sizeof(r->failure), "the container's stream failed: %s", error);
    r->stage = WAITING;
    request(r, "POST", "/wait?condition=not-running", NULL, on_waited);
}

static void on_box_output(int stream, const char *bytes, size_t len, void *data)
{
    struct run *r = data;

    if (r->on_output && r->req.stream)
        r->on_output(stream, bytes, len, r->data);
}

static void on_data(int stream, const char *bytes, size_t len, void *data)
{
    struct run *r = data;

    /* Stream 2 is runq-box's own diagnostics; the program's stderr comes in records. */
    if (stream != 1 || r->reader.error)
        return;
    if (docker_box_reader_feed(&r->reader, bytes, len) < 0)
        kill_container(r); /* a broken stream: nothing more it says can be believed */
}

static void on_backstop(uv_timer_t *t)
{
    struct run *r = t->data;

    r->wall_killed = 1;
    kill_container(r);
}

static void on_started(int status, long http, json_t *body, const char *raw,
                       const char *error, void *data)
{
    struct run *r = data;
    uint64_t wall = sbx_limits_wall_ms(&r->req.spec.limits);

    (void)body;
    r->call = NULL;
    if (status < 0 || (http != 204 && http != 304)) {
        engine_failed(r, "starting a container", status, http, error, raw);
        return;
    }
    r->stage = RUNNING;
    r->start_ns = uv_hrtime();
    uv_timer_start(&r->backstop, on_backstop, wall + BACKSTOP_MS, 0);
    if (docker_attach_write(r->attach, r->input, r->input_len) < 0)
        kill_container(r);
    r->input = NULL; /* the attach stream's now, even on failure */
    if (r->cancelled)
        kill_container(r);
}

static void on_ready(void *data)
{
    struct run *r = data;

    r->stage = STARTING;
    request(r, "POST", "/start", NULL, on_started);
}

static const struct docker_attach_cbs attach_cbs = {on_ready, on_data, on_end};

static void on_created(int status, long http, json_t *body, const char *raw,
                       const char *error, void *data)
{
    struct run *r = data;
    const char *id = json_string_value(json_object_get(body, "Id"));
    char why[400];
    int e;

    r->call = NULL;
    if (status == 0 && http == 404) {
        snprintf(why, sizeof(why), "the image %s is not on the Docker engine", r->image);
        answer_internal(r, why);
        return;
    }
    if (status < 0 || http != 201 || !id || strlen(id) >= sizeof(r->id)) {
        engine_failed(r, "creating a container", status, http, error, raw);
        return;
    }
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->pool->stats.created++;
    if (r->cancelled) {
        finish(r, -ECANCELED, NULL);
        return;
    }
    r->stage = ATTACHING;
    e = docker_attach_open(r->pool->loop, r->pool->o.socket, r->id, &attach_cbs, r, &r->attach);
    if (e < 0)
        engine_failed(r, "attaching to a container", e, 0, strerror(-e), "");
}

static int make_key(char key[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    size_t i;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -EIO;
    for (i = 0; i < sizeof(raw); i++) {
        key[2 * i] = hex[raw[i] >> 4];
        key[2 * i + 1] = hex[raw[i] & 15];
    }
    key[32] = '\0';
    return 0;
}

/* Decodes the request and prepares runq-box's input. 0, -EINVAL or -ENOMEM. */
static int prepare(struct run *r, const char *payload, size_t len)
{
    const struct sbx_run_spec *s = &r->req.spec;
    const char *field;
    int e = sbx_request_decode(payload, len, &r->req, &field);

    if (e < 0)
        return e;
    if ((e = make_key(r->key)) < 0 ||
        (e = docker_box_encode(s, r->key, &r->input, &r->input_len)) < 0 ||
        (e = docker_box_reader_init(&r->reader, s->limits.output_bytes, s->limits.box_bytes,
                                    s->ncollect, on_box_output, r)) < 0)
        return e;
    return 0;
}

int docker_pool_run(struct docker_pool *p, const char *image, const char *payload, size_t len,
                    slot_run_cb cb, slot_output_cb on_output, void *data, unsigned *slot_out)
{
    struct docker_spec_options so = {image, p->owner, 0, p->o.uid, p->o.cpus};
    struct run *r = NULL;
    json_t *body;
    unsigned i;
    int e;

    if (p->closing)
        return -ESHUTDOWN;
    for (i = 0; p->ready && i < p->o.slots && !r; i++)
        if (p->runs[i].stage == IDLE)
            r = &p->runs[i];
    if (!r)
        return -EBUSY;
    memset(r->failure, 0, sizeof(r->failure));
    r->wall_killed = r->oom_killed = r->cancelled = 0;
    r->start_ns = r->end_ns = 0;
    snprintf(r->image, sizeof(r->image), "%s", image);
    if ((e = prepare(r, payload, len)) < 0) {
        run_reset(r);
        return e;
    }
    so.slot = r->index;
    if (!(body = docker_spec_create(&r->req.spec, &so))) {
        run_reset(r);
        return -ENOMEM;
    }
    r->cb = cb;
    r->on_output = on_output;
    r->data = data;
    r->stage = CREATING;
    e = docker_api_request(p->api, "POST", "/containers/create", body, CALL_TIMEOUT_MS,
                           on_created, r, &r->call);
    json_decref(body);
    if (e < 0) {
        r->call = NULL;
        run_reset(r);
        return e;
    }
    if (slot_out)
        *slot_out = r->index;
    return 0;
}

int docker_pool_cancel(struct docker_pool *p, unsigned slot)
{
    struct run *r;

    if (slot < p->o.first_slot || slot - p->o.first_slot >= p->o.slots)
        return -EINVAL;
    r = &p->runs[slot - p->o.first_slot];
    if (r->stage == IDLE)
        return -EINVAL;
    r->cancelled = 1;
    /* Before RUNNING the run stops at its next step (on_created, on_started). */
    if (r->stage == RUNNING)
        kill_container(r);
    return 0;
}

unsigned docker_pool_idle(const struct docker_pool *p)
{
    unsigned i, n = 0;

    for (i = 0; p->ready && !p->closing && i < p->o.slots; i++)
        n += p->runs[i].stage == IDLE;
    return n;
}

void docker_pool_stats(const struct docker_pool *p, struct docker_pool_stats *out)
{
    *out = p->stats;
}

/* ---- the sweep at start ---- */

static void on_listed(int status, long http, json_t *body, const char *raw, const char *error,
                      void *data)
{
    struct docker_pool *p = data;
    size_t i;

    if (status < 0 || http != 200 || !json_is_array(body))
        fprintf(stderr, "runq-worker: docker: cannot list leftover containers: %s\n",
                status < 0 ? error : raw);
    for (i = 0; i < json_array_size(body); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(body, i), "Id"));
        if (id && strlen(id) < 80 && strspn(id, "0123456789abcdef") == strlen(id)) {
            remove_container(p, id);
            p->stats.swept++;
        }
    }
    /* Ready now: the removals go on, and a new container never carries a swept one's id. */
    p->ready = 1;
    maybe_closed(p);
}

static void owner_name(const char *in, char *out, size_t size)
{
    size_t i;

    for (i = 0; in[i] && i + 1 < size; i++) {
        char c = in[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

int docker_pool_new(uv_loop_t *loop, const struct docker_pool_options *o,
                    struct docker_pool **out)
{
    struct docker_pool *p;
    char path[400];
    unsigned i;
    int e;

    if (!o->slots || !o->uid || !o->cpus || !o->owner || !o->owner[0] || !o->socket)
        return -EINVAL;
    if (!(p = calloc(1, sizeof(*p))) || !(p->runs = calloc(o->slots, sizeof(*p->runs)))) {
        free(p);
        return -ENOMEM;
    }
    p->loop = loop;
    p->o = *o;
    owner_name(o->owner, p->owner, sizeof(p->owner));
    p->o.owner = p->owner;
    if ((e = docker_api_open(loop, o->socket, &p->api)) < 0) {
        free(p->runs);
        free(p);
        return e;
    }
    for (i = 0; i < o->slots; i++) {
        struct run *r = &p->runs[i];
        r->pool = p;
        r->index = o->first_slot + i;
        uv_timer_init(loop, &r->backstop);
        r->backstop.data = r;
        p->open_timers++;
    }
    strcpy(path, "/containers/json?all=1&");
    /* Without the listing (a name too long to filter on cannot happen with the owner's
     * bound), nothing is swept and runs are taken at once. */
    if (docker_spec_owner_filter(p->owner, path + strlen(path), sizeof(path) - strlen(path)) < 0 ||
        background(p, "GET", path, on_listed) < 0)
        p->ready = 1;
    *out = p;
    return 0;
}

/* ---- close ---- */

static void on_api_closed(void *data)
{
    struct docker_pool *p = data;
    void (*cb)(void *) = p->close_cb;
    void *cb_data = p->close_data;

    free(p->runs);
    free(p);
    if (cb)
        cb(cb_data);
}

static void maybe_closed(struct docker_pool *p)
{
    if (!p->closing || !p->api || docker_api_pending(p->api) > 0 || p->open_timers > 0)
        return;
    docker_api_close(p->api, on_api_closed, p);
    p->api = NULL;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct run *r = h->data;
    struct docker_pool *p = r->pool;

    p->open_timers--;
    maybe_closed(p);
}

void docker_pool_close(struct docker_pool *p, void (*cb)(void *data), void *data)
{
    unsigned i;

    p->closing = 1;
    p->close_cb = cb;
    p->close_data = data;
    /* Every run ends now; finish() removes each container in the background, and the
     * pool waits for those removals before it goes. */
    for (i = 0; i < p->o.slots; i++)
        if (p->runs[i].stage != IDLE)
            finish(&p->runs[i], -ESHUTDOWN, NULL);
    for (i = 0; i < p->o.slots; i++)
        uv_close((uv_handle_t *)&p->runs[i].backstop, on_timer_closed);
}
