/* SPDX-License-Identifier: MIT */
#include "lang_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "job_plan.h"
#include "rq.h"
#include "runner.h"
#include "slot_pool.h"

#define PROBE_POLL_MS 100 /* while every slot is busy with jobs */
#define VERSION_MAX 160

struct lang_probe {
    struct runner_env *env;
    uv_timer_t timer;
    size_t next;     /* the next language to probe */
    int in_slot;     /* a probe runs: its answer is awaited */
    int stopped;     /* over: the timer is closing */
    int closed;      /* the timer is closed: whichever of it and the answer comes last frees */
};

static void on_closed(uv_handle_t *h)
{
    struct lang_probe *p = h->data;

    p->closed = 1;
    if (!p->in_slot)
        free(p);
}

size_t lang_probe_first_line(const char *out, const char *err, char *buf, size_t cap)
{
    const char *s = out, *e;
    size_t n;

    if (!cap)
        return 0;
    for (int pass = 0; pass < 2; pass++, s = err) {
        while (s && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
            s++;
        if (s && *s)
            break;
        s = NULL;
    }
    if (!s) {
        buf[0] = '\0';
        return 0;
    }
    e = s + strcspn(s, "\r\n");
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
    while (n > 0 && n < (size_t)(e - s) && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* cut on a UTF-8 boundary */
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

static void schedule(struct lang_probe *p, uint64_t ms);

static void on_answer(int status, json_t *answer, void *data)
{
    struct lang_probe *p = data;
    const struct language *l = &p->env->languages->items[p->next];
    json_t *res = json_object_get(answer, "result");
    const char *st = json_string_value(json_object_get(res, "status"));
    char version[VERSION_MAX];

    p->in_slot = 0;
    if (p->stopped) { /* stopped meanwhile: nothing more to do */
        json_decref(answer);
        if (p->closed)
            free(p);
        return;
    }
    if (status < 0 || !st)
        snprintf(version, sizeof(version), "unavailable (the probe did not run)");
    else if (strcmp(st, "ok") != 0 ||
             !lang_probe_first_line(json_string_value(json_object_get(res, "stdout")),
                                    json_string_value(json_object_get(res, "stderr")), version,
                                    sizeof(version)))
        snprintf(version, sizeof(version), "unavailable (%s)", st);
    (void)rq_language_version_set(p->env->rq, l->name, version, NULL, NULL);
    json_decref(answer);
    p->next++;
    schedule(p, 0);
}

static int probe(struct lang_probe *p)
{
    const struct language *l = &p->env->languages->items[p->next];
    struct config_limits limits;
    struct sbx_run_spec spec;
    struct backend_slot slot;
    char *req;
    size_t len;
    int r;

    languages_limits(&p->env->cfg->limits.defaults, l->compile ? &l->compile_limits : &l->limits,
                     &limits);
    memset(&spec, 0, sizeof(spec));
    job_plan_limits(&limits, &spec.limits);
    spec.argv = l->version;
    if ((r = job_plan_request(&spec, 0, &req, &len)) < 0)
        return r;
    r = backend_run(p->env, l, req, len, on_answer, NULL, p, &slot); /* where its jobs run */
    free(req);
    if (r == 0)
        p->in_slot = 1;
    return r;
}

static void on_tick(uv_timer_t *t)
{
    struct lang_probe *p = t->data;

    while (p->next < p->env->languages->count && !p->env->languages->items[p->next].version)
        p->next++;
    if (p->next >= p->env->languages->count)
        return; /* all done: p waits for lang_probe_stop */
    /* Jobs first: a probe only takes a slot nobody waits for. */
    if (p->env->waiting_head ||
        backend_idle(p->env, &p->env->languages->items[p->next]) == 0 || probe(p) < 0)
        schedule(p, PROBE_POLL_MS);
}

static void schedule(struct lang_probe *p, uint64_t ms)
{
    uv_timer_start(&p->timer, on_tick, ms, 0);
}

int lang_probe_start(struct runner_env *env, struct lang_probe **out)
{
    struct lang_probe *p = calloc(1, sizeof(*p));

    if (!p)
        return -ENOMEM;
    p->env = env;
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    schedule(p, 0);
    *out = p;
    return 0;
}

void lang_probe_stop(struct lang_probe *p)
{
    if (!p || p->stopped)
        return;
    p->stopped = 1;
    uv_close((uv_handle_t *)&p->timer, on_closed);
}
