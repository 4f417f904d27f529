/* SPDX-License-Identifier: MIT */
/* fake_worker: the dispatcher tests' worker on a loop of its own (see fake_worker.h). Must
 * not: touch the dispatcher's loop or rq, hold global state, or assert anything. */
#include "fake_worker.h"

#include <stdio.h>
#include <string.h>

#include "http_client.h"

int fake_worker_open(struct fake_worker *fw, const char *redis_url)
{
    struct rq_options wo = {.url = redis_url,
                            .worker = "test-worker-1",
                            .queues = (const char *const[]){"work"},
                            .nqueues = 1};

    fw->rq = NULL;
    uv_loop_init(&fw->loop);
    return rq_open(&fw->loop, &wo, &fw->rq);
}

void fake_worker_close(struct fake_worker *fw)
{
    if (fw->rq)
        rq_close(fw->rq, NULL, NULL);
    fw->rq = NULL;
    uv_run(&fw->loop, UV_RUN_DEFAULT);
    uv_loop_close(&fw->loop);
}

static void on_fetched(void *arg, int status, const struct rq_fetched *jobs, size_t n)
{
    struct fake_worker_wait *w = arg;

    w->done = 1;
    w->status = status;
    w->started = n && jobs[0].started;
    snprintf(w->id, sizeof(w->id), "%s", n ? jobs[0].id : "");
}

static void on_started(void *arg, int status, const struct rq_started *s)
{
    struct fake_worker_wait *w = arg;

    w->done = 1;
    w->status = status < 0 ? status : (int)s->status;
}

void fake_worker_on_int(void *arg, int status, long long value)
{
    struct fake_worker_wait *w = arg;

    w->done = 1;
    w->status = status;
}

void fake_worker_run(struct fake_worker *fw, struct fake_worker_wait *w)
{
    long t0 = http_client_now_ms();

    while (!w->done && http_client_now_ms() - t0 < 5000)
        uv_run(&fw->loop, UV_RUN_ONCE);
}

int fake_worker_take(struct fake_worker *fw, char *id)
{
    struct fake_worker_wait w = {0};

    if (rq_fetch(fw->rq, "work", 1, NULL, 0, 1000, on_fetched, &w) < 0)
        return -1;
    fake_worker_run(fw, &w);
    if (!w.done || w.status < 0 || !w.id[0])
        return -1;
    strcpy(id, w.id);
    if (w.started) /* the take script started it */
        return 0;
    memset(&w, 0, sizeof(w));
    if (rq_mark_running(fw->rq, id, on_started, &w) < 0)
        return -1;
    fake_worker_run(fw, &w);
    return w.done && w.status == RQ_START_OK ? 0 : -1;
}

int fake_worker_ack(struct fake_worker *fw, const char *id, const char *result)
{
    struct fake_worker_wait w = {0};

    if (rq_ack(fw->rq, id, "completed", result, fake_worker_on_int, &w) < 0)
        return -1;
    fake_worker_run(fw, &w);
    return w.done && w.status == 0 ? 0 : -1;
}
