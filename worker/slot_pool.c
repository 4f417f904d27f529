/* SPDX-License-Identifier: MIT */
#include "slot_pool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

#define FRAME_MAX (512u << 20)
#define RESPAWN_MIN_MS 100
#define RESPAWN_MAX_SHIFT 6 /* 100 ms << 6 = 6.4 s at most */

struct slot {
    struct slot_pool *pool;
    unsigned index;
    uv_process_t proc;
    uv_pipe_t in, out; /* the child's stdin (we write) and stdout (we read) */
    uv_timer_t respawn;
    int proc_open, in_open, out_open, timer_open;
    int alive, ready, busy, cancelled, done; /* ready: the slot said so (first frame) */
    slot_run_cb cb;
    slot_output_cb on_output;
    void *data;
    char *rbuf;
    size_t rlen, rcap;
    unsigned failures;
};

struct slot_pool {
    uv_loop_t *loop;
    char **argv;     /* runq-sandbox --serve ... --slot N: argv[slot_arg] is the number */
    size_t slot_arg;
    struct slot *slots;
    unsigned n, remaining;
    int closing;
    void (*close_cb)(void *data);
    void *close_data;
};

static void spawn(struct slot *s);

static void finish_run(struct slot *s, int status, json_t *answer)
{
    slot_run_cb cb = s->cb;
    void *data = s->data;

    s->busy = 0;
    s->cb = NULL;
    s->on_output = NULL;
    s->data = NULL;
    if (cb)
        cb(status, answer, data);
    else
        json_decref(answer);
}

static void free_pool(struct slot_pool *p)
{
    size_t i;

    for (i = 0; p->argv && p->argv[i]; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p->slots);
    free(p);
}

/* During close: a slot is done once all its handles are closed. */
static void maybe_done(struct slot *s)
{
    struct slot_pool *p = s->pool;

    if (!p->closing || s->done || s->proc_open || s->in_open || s->out_open || s->timer_open)
        return;
    s->done = 1;
    free(s->rbuf);
    s->rbuf = NULL;
    if (--p->remaining == 0) {
        void (*cb)(void *) = p->close_cb;
        void *data = p->close_data;
        free_pool(p);
        if (cb)
            cb(data);
    }
}

static void on_respawn(uv_timer_t *t)
{
    spawn(t->data);
}

static void on_closed(uv_handle_t *h)
{
    struct slot *s = h->data;

    if (h == (uv_handle_t *)&s->proc)
        s->proc_open = 0;
    else if (h == (uv_handle_t *)&s->in)
        s->in_open = 0;
    else if (h == (uv_handle_t *)&s->out)
        s->out_open = 0;
    else
        s->timer_open = 0;
    if (s->pool->closing) {
        maybe_done(s);
    } else if (!s->alive && !s->proc_open && !s->in_open && !s->out_open) {
        /* The whole incarnation is gone: back at once after a cancel, else with backoff. */
        unsigned shift = s->failures < RESPAWN_MAX_SHIFT ? s->failures : RESPAWN_MAX_SHIFT;
        uv_timer_start(&s->respawn, on_respawn, s->cancelled ? 0 : RESPAWN_MIN_MS << shift, 0);
        s->cancelled = 0;
    }
}

static void close_if_open(uv_handle_t *h, int open)
{
    if (open && !uv_is_closing(h))
        uv_close(h, on_closed);
}

static void close_incarnation(struct slot *s)
{
    close_if_open((uv_handle_t *)&s->in, s->in_open);
    close_if_open((uv_handle_t *)&s->out, s->out_open);
    close_if_open((uv_handle_t *)&s->proc, s->proc_open);
}

static void on_process_exit(uv_process_t *proc, int64_t status, int signal)
{
    struct slot *s = proc->data;

    s->alive = s->ready = 0;
    if (!s->cancelled && !s->pool->closing)
        s->failures++;
    if (s->busy)
        finish_run(s, s->cancelled ? -ECANCELED : s->pool->closing ? -ESHUTDOWN : -EPIPE, NULL);
    s->rlen = 0;
    close_incarnation(s);
    (void)status;
    (void)signal;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct slot *s = h->data;

    if (s->rcap - s->rlen < suggested) {
        size_t cap = s->rcap ? s->rcap : 65536;
        char *nb;
        while (cap - s->rlen < suggested)
            cap *= 2;
        nb = realloc(s->rbuf, cap);
        if (!nb) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        s->rbuf = nb;
        s->rcap = cap;
    }
    *buf = uv_buf_init(s->rbuf + s->rlen, (unsigned)(s->rcap - s->rlen));
}

static int is_output(const json_t *answer)
{
    const char *type = json_string_value(json_object_get(answer, "type"));

    return type && strcmp(type, "output") == 0;
}

static void deliver_output(struct slot *s, const json_t *frame)
{
    const char *stream = json_string_value(json_object_get(frame, "stream"));
    const char *b64 = json_string_value(json_object_get(frame, "base64"));
    unsigned char *bytes;
    size_t len;

    if (!s->on_output || !stream || !b64 || base64_decode(b64, strlen(b64), &bytes, &len) < 0)
        return;
    s->on_output(strcmp(stream, "stderr") == 0 ? 2 : 1, (const char *)bytes, len, s->data);
    free(bytes);
}

/* Delivers every complete frame in the buffer. 0, or -EPROTO for a frame we cannot take. */
static int take_frames(struct slot *s)
{
    while (s->rlen >= 4) {
        const unsigned char *h = (const unsigned char *)s->rbuf;
        size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        json_t *answer;
        if (len > FRAME_MAX)
            return -EPROTO;
        if (s->rlen < 4 + len)
            return 0;
        answer = json_loadb(s->rbuf + 4, len, 0, NULL);
        memmove(s->rbuf, s->rbuf + 4 + len, s->rlen - 4 - len);
        s->rlen -= 4 + len;
        if (answer && !s->ready) {
            /* The hello: ready, or why the slot could not open (the process then exits). */
            const char *type = json_string_value(json_object_get(answer, "type"));
            s->ready = type && strcmp(type, "ready") == 0;
            if (!s->ready)
                fprintf(stderr, "runq-worker: slot %u: %s\n", s->index,
                        json_string_value(json_object_get(answer, "message")));
            json_decref(answer);
            continue;
        }
        if (!answer || !s->busy) {
            json_decref(answer);
            return -EPROTO;
        }
        if (is_output(answer)) {
            deliver_output(s, answer);
            json_decref(answer);
            continue;
        }
        s->failures = 0;
        finish_run(s, 0, answer);
        if (s->pool->closing)
            close_if_open((uv_handle_t *)&s->in, s->in_open); /* EOF: the slot exits */
    }
    return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct slot *s = stream->data;

    (void)buf;
    if (nread > 0) {
        s->rlen += (size_t)nread;
        if (take_frames(s) == 0)
            return;
    } else if (nread == 0) {
        return;
    }
    /* EOF, a read error or a broken frame: the process is gone or useless. */
    uv_read_stop(stream);
    if (s->alive)
        uv_process_kill(&s->proc, SIGKILL);
}

static void spawn(struct slot *s)
{
    struct slot_pool *p = s->pool;
    uv_process_options_t o;
    uv_stdio_container_t stdio[3];
    char number[16];
    int r;

    if (p->closing)
        return;
    memset(&o, 0, sizeof(o));
    uv_pipe_init(p->loop, &s->in, 0);
    uv_pipe_init(p->loop, &s->out, 0);
    s->in.data = s->out.data = s->proc.data = s;
    s->in_open = s->out_open = 1;
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE; /* readable by the child */
    stdio[0].data.stream = (uv_stream_t *)&s->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&s->out;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    snprintf(number, sizeof(number), "%u", s->index);
    p->argv[p->slot_arg] = number;
    o.file = p->argv[0];
    o.args = p->argv;
    o.stdio = stdio;
    o.stdio_count = 3;
    o.exit_cb = on_process_exit;
    r = uv_spawn(p->loop, &s->proc, &o);
    p->argv[p->slot_arg] = NULL;
    if (r < 0) {
        fprintf(stderr, "runq-worker: cannot start %s for slot %u: %s\n", o.file, s->index,
                uv_strerror(r));
        s->failures++;
        s->proc_open = 1; /* initialised even on failure: it must be closed like the pipes */
        close_incarnation(s); /* the retry comes from on_closed */
        return;
    }
    s->proc_open = 1;
    s->alive = 1;
    uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
}

/* argv: runq-sandbox --serve --uid-base U --cgroup-name C [--no-default-binds --bind B...]
 *       --slot <N> */
static char **build_argv(const struct slot_pool_options *o, size_t *slot_arg)
{
    size_t n = 0, i, max = 12 + 2 * o->nbinds;
    char **argv = calloc(max, sizeof(*argv));
    char num[16];
    int bad = !argv;

#define ADD(str) (bad = bad || !(argv[n++] = strdup(str)))
    if (!bad) {
        ADD(o->sandbox_exe);
        ADD("--serve");
        snprintf(num, sizeof(num), "%u", o->uid_base);
        ADD("--uid-base");
        ADD(num);
        ADD("--cgroup-name");
        ADD(o->cgroup_name ? o->cgroup_name : "runq");
        if (o->binds) {
            ADD("--no-default-binds");
            for (i = 0; i < o->nbinds; i++) {
                ADD("--bind");
                ADD(o->binds[i]);
            }
        }
        ADD("--slot");
    }
#undef ADD
    if (bad) {
        for (i = 0; argv && argv[i]; i++)
            free(argv[i]);
        free(argv);
        return NULL;
    }
    *slot_arg = n; /* filled per spawn, NULL-terminated after it (calloc) */
    return argv;
}

int slot_pool_new(uv_loop_t *loop, const struct slot_pool_options *o, struct slot_pool **out)
{
    struct slot_pool *p;
    unsigned i;

    if (!o->sandbox_exe || o->slots == 0)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    p->n = p->remaining = o->slots;
    p->slots = calloc(o->slots, sizeof(*p->slots));
    p->argv = build_argv(o, &p->slot_arg);
    if (!p->slots || !p->argv) {
        free_pool(p);
        return -ENOMEM;
    }
    for (i = 0; i < p->n; i++) {
        struct slot *s = &p->slots[i];
        s->pool = p;
        s->index = o->first_slot + i;
        uv_timer_init(loop, &s->respawn);
        s->respawn.data = s;
        s->timer_open = 1;
        spawn(s);
    }
    *out = p;
    return 0;
}

static void on_written(uv_write_t *req, int status)
{
    /* A failed write means the process is gone: its exit callback ends the run. */
    (void)status;
    free(req);
}

int slot_pool_run(struct slot_pool *p, const char *payload, size_t len, slot_run_cb cb,
                  slot_output_cb on_output, void *data, unsigned *slot_out)
{
    struct slot *s = NULL;
    uv_write_t *req;
    unsigned i;
    uv_buf_t buf;
    int r;

    if (p->closing)
        return -ESHUTDOWN;
    for (i = 0; i < p->n && !s; i++)
        if (p->slots[i].ready && !p->slots[i].busy)
            s = &p->slots[i];
    if (!s)
        return -EBUSY;
    if (len > FRAME_MAX)
        return -EMSGSIZE;
    if (!(req = malloc(sizeof(*req) + 4 + len)))
        return -ENOMEM;
    /* One allocation: the request header, then the frame it writes. */
    buf = uv_buf_init((char *)(req + 1), (unsigned)(4 + len));
    buf.base[0] = (char)(len >> 24);
    buf.base[1] = (char)(len >> 16);
    buf.base[2] = (char)(len >> 8);
    buf.base[3] = (char)len;
    memcpy(buf.base + 4, payload, len);
    r = uv_write(req, (uv_stream_t *)&s->in, &buf, 1, on_written);
    if (r < 0) {
        free(req);
        return r;
    }
    s->busy = 1;
    s->cb = cb;
    s->on_output = on_output;
    s->data = data;
    if (slot_out)
        *slot_out = s->index;
    return 0;
}

int slot_pool_cancel(struct slot_pool *p, unsigned slot)
{
    unsigned i;

    for (i = 0; i < p->n; i++) {
        struct slot *s = &p->slots[i];
        if (s->index != slot)
            continue;
        if (!s->busy || !s->alive)
            return -EINVAL;
        /* The launcher dies, its zygote with it (PDEATHSIG), and the zygote's pid namespace
         * with the zygote: the whole run is gone without a word to anyone in it. */
        s->cancelled = 1;
        return uv_process_kill(&s->proc, SIGKILL);
    }
    return -EINVAL;
}

unsigned slot_pool_idle(const struct slot_pool *p)
{
    unsigned i, idle = 0;

    for (i = 0; i < p->n; i++)
        idle += p->slots[i].ready && !p->slots[i].busy;
    return idle;
}

void slot_pool_close(struct slot_pool *p, void (*cb)(void *data), void *data)
{
    unsigned i;

    p->closing = 1;
    p->close_cb = cb;
    p->close_data = data;
    for (i = 0; i < p->n; i++) {
        struct slot *s = &p->slots[i];
        uv_timer_stop(&s->respawn);
        close_if_open((uv_handle_t *)&s->respawn, s->timer_open);
        if (!s->busy)
            close_if_open((uv_handle_t *)&s->in, s->in_open); /* EOF: the slot exits */
        if (!s->alive) /* between incarnations: nothing will call back */
            close_incarnation(s);
    }
}
