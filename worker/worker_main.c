/* SPDX-License-Identifier: MIT */
/* runq-worker: fetches jobs from Redis (reliable BLMOVE), runs each in a sandbox slot,
 * stores the result in PostgreSQL, then acknowledges it. One libuv loop; jobs never wait on
 * each other: the slot pool, Redis and PostgreSQL are all driven from the loop.
 * Usage: runq-worker [-c runq.yaml] [-l languages.yaml] [--sandbox PATH] [--first-slot N] */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <uv.h>

#include "config.h"
#include "db.h"
#include "keys.h"
#include "lang_probe.h"
#include "languages.h"
#include "result_writer.h"
#include "rq.h"
#include "runner.h"
#include "docker_pool.h"
#include "slot_pool.h"
#include "webhook.h"

extern char **environ;

#define FETCH_BLOCK_MS 1000
/* Per slot: one job running and up to two fetched ahead, so a slot coming free starts the
 * next job at once while the next fetch is still in Redis ... */
#define SANDBOXED_PER_SLOT 3
/* ... and more being stored and acknowledged while the next ones run (results wait up to
 * postgres.commit_interval to share a commit). */
#define HELD_PER_SLOT 16

struct worker {
    uv_loop_t *loop;
    struct runq_config cfg;
    struct languages languages;
    struct runner_env env;
    struct lang_probe *probe;
    char name[KEYS_WORKER_MAX + 1];
    char owner[96]; /* host and first slot: the same for this worker after a restart */
    const char *queues[CONFIG_MAX_QUEUES];
    struct job_run *jobs[HELD_PER_SLOT * CONFIG_MAX_SLOTS];
    unsigned active, sandboxed, next_queue; /* sandboxed: jobs not yet past their last run */
    int fetching, draining, migrated, closing;
    uv_timer_t recover, grace, refetch, remigrate;
    uv_signal_t sigterm, sigint;
};

static void maybe_fetch(struct worker *w);
static void shutdown_all(struct worker *w);

static void job_done(struct runner_env *env, struct job_run *job)
{
    struct worker *w = env->data;
    unsigned i;

    for (i = 0; i < HELD_PER_SLOT * w->cfg.worker.slots; i++)
        if (w->jobs[i] == job)
            w->jobs[i] = NULL;
    if (!runner_released(job))
        w->sandboxed--; /* skipped or abandoned before its last run */
    runner_free(job);
    w->active--;
    if (w->draining && w->active == 0)
        shutdown_all(w);
    else
        maybe_fetch(w);
}

/* A job is done with the sandbox (storing and acknowledging are left): its slot can take the
 * next job while it waits for PostgreSQL and Redis to write to disk. */
static void job_released(struct runner_env *env, struct job_run *job)
{
    struct worker *w = env->data;

    (void)job;
    w->sandboxed--;
    maybe_fetch(w);
}

static void on_refetch(uv_timer_t *t)
{
    maybe_fetch(t->data);
}

static void on_fetch(void *arg, int status, const struct rq_fetched *jobs, size_t n)
{
    struct worker *w = arg;
    size_t k;
    unsigned i;

    w->fetching = 0;
    for (k = 0; k < n; k++) {
        if (w->draining) {
            /* A BLMOVE already blocked when SIGTERM came took a job: a draining worker starts
             * nothing new, and hands it straight back to the head of its queue. Should that
             * fail, recovery puts it back once our heartbeat expires. */
            (void)rq_release(w->env.rq, jobs[k].id, NULL, NULL);
            continue;
        }
        for (i = 0; i < HELD_PER_SLOT * w->cfg.worker.slots && w->jobs[i]; i++)
            ;
        /* Counted first: a job that fails at once releases its slot inside runner_start. */
        w->active++;
        w->sandboxed++;
        if (runner_start(&w->env, &jobs[k], &w->jobs[i]) < 0) {
            fprintf(stderr, "runq-worker: out of memory for job %s\n", jobs[k].id);
            w->active--;
            w->sandboxed--;
        }
    }
    if (status < 0 && status != -ECANCELED && !w->closing) {
        /* Redis away: rq reconnects by itself; ask again a little later, not in a spin. */
        uv_timer_start(&w->refetch, on_refetch, 100, 0);
        return;
    }
    maybe_fetch(w);
}

/* Jobs still needing the sandbox stay within SANDBOXED_PER_SLOT per slot, so a job's next
 * step soon finds a slot; all held jobs within HELD_PER_SLOT per slot. A fetch waits until
 * at most one job per slot waits for a slot, so it takes at least a slot's worth at once:
 * one round trip and one disk write in Redis for several jobs. */
static void maybe_fetch(struct worker *w)
{
    const char *held[HELD_PER_SLOT * CONFIG_MAX_SLOTS];
    unsigned want, room, i, nheld = 0;
    const char *queue;

    want = SANDBOXED_PER_SLOT * w->cfg.worker.slots;
    room = HELD_PER_SLOT * w->cfg.worker.slots;
    if (w->fetching || w->draining || w->closing || !w->migrated ||
        w->sandboxed > 2 * w->cfg.worker.slots || w->active >= room)
        return;
    want -= w->sandboxed;
    if (want > room - w->active)
        want = room - w->active;
    for (i = 0; i < room; i++)
        if (w->jobs[i])
            held[nheld++] = runner_job_id(w->jobs[i]);
    queue = w->queues[w->next_queue++ % w->cfg.nqueues];
    if (rq_fetch(w->env.rq, queue, want, held, nheld, FETCH_BLOCK_MS, on_fetch, w) == 0)
        w->fetching = 1;
}

static void on_control(void *arg, const char *channel, const char *data, size_t len)
{
    struct worker *w = arg;
    json_t *msg = data ? json_loadb(data, len, 0, NULL) : NULL;
    const char *cmd = json_string_value(json_object_get(msg, "cmd"));
    const char *id = json_string_value(json_object_get(msg, "id"));
    unsigned i;

    (void)channel;
    for (i = 0; cmd && id && strcmp(cmd, "cancel") == 0 && i < HELD_PER_SLOT * w->cfg.worker.slots;
         i++)
        if (w->jobs[i] && strcmp(runner_job_id(w->jobs[i]), id) == 0)
            runner_cancel(w->jobs[i]);
    json_decref(msg);
}

static void on_recovered(void *arg, int status, const struct rq_recovery *r)
{
    (void)arg;
    if (status == 0 && r && (r->requeued || r->dead))
        fprintf(stderr, "runq-worker: recovered %lld job(s) of dead workers, %lld to dead-letter\n",
                r->requeued, r->dead);
}


static void on_recover_tick(uv_timer_t *t)
{
    struct worker *w = t->data;

    (void)rq_recover_orphans(w->env.rq, on_recovered, w);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *message,
                        void *data);

static void on_remigrate(uv_timer_t *t)
{
    struct worker *w = t->data;

    if (!w->closing && db_migrate(w->env.db, on_migrated, w) < 0)
        uv_timer_start(&w->remigrate, on_remigrate, 1000, 0);
}

static void on_migrated(struct db *db, int status, int applied, int version, const char *message,
                        void *data)
{
    struct worker *w = data;

    (void)db;
    if (status < 0) {
        /* PostgreSQL may come up after us: keep trying, fetch nothing until it is there. */
        fprintf(stderr, "runq-worker: database migration failed (retrying): %s\n",
                message ? message : strerror(-status));
        uv_timer_start(&w->remigrate, on_remigrate, 1000, 0);
        return;
    }
    if (applied)
        fprintf(stderr, "runq-worker: database schema at version %d (%d applied)\n", version,
                applied);
    w->migrated = 1;
    if (!w->probe && lang_probe_start(&w->env, &w->probe) < 0)
        fprintf(stderr, "runq-worker: out of memory: language versions are not probed\n");
    maybe_fetch(w);
}

/* Shutdown, in order: slots (running jobs are over by now), then Redis, then PostgreSQL. */
static void on_db_closed(void *data)
{
    (void)data;
}

static void on_rq_closed(void *data)
{
    struct worker *w = data;

    result_writer_free(w->env.writer);
    db_close(w->env.db, on_db_closed, w);
}

static void on_webhooks_closed(void *data)
{
    struct worker *w = data;

    rq_close(w->env.rq, on_rq_closed, w);
}

/* Webhook deliveries still retrying are given up (noted "cancelled" while Redis is there). */
static void on_backends_closed(void *data)
{
    struct worker *w = data;

    if (w->env.webhook)
        webhook_close(w->env.webhook, on_webhooks_closed, w);
    else
        on_webhooks_closed(w);
}

static void on_pool_closed(void *data)
{
    struct worker *w = data;

    if (w->env.docker)
        docker_pool_close(w->env.docker, on_backends_closed, w);
    else
        on_backends_closed(w);
}

/* How many languages run in the Docker backend (docker 1) or in the sandbox (docker 0). */
static size_t languages_on(const struct worker *w, int docker)
{
    size_t i, n = 0;

    for (i = 0; i < w->languages.count; i++)
        n += languages_uses_docker(&w->languages.items[i], w->cfg.worker.backend) == docker;
    return n;
}

/* Only the backends some language uses: a worker in a container without the sandbox's
 * privileges runs every language in Docker and never opens a slot. */
static int open_backends(struct worker *w, const struct slot_pool_options *po)
{
    struct docker_pool_options o = {w->cfg.docker.socket, w->cfg.worker.slots, 0,
                                    w->cfg.docker.uid, w->cfg.docker.cpus, w->owner};
    int r = 0;

    if (languages_on(w, 0) > 0)
        r = slot_pool_new(w->loop, po, &w->env.pool);
    if (r == 0 && languages_on(w, 1) > 0)
        r = docker_pool_new(w->loop, &o, &w->env.docker);
    return r;
}

static void shutdown_all(struct worker *w)
{
    uv_handle_t *handles[] = {(uv_handle_t *)&w->recover, (uv_handle_t *)&w->grace,
                              (uv_handle_t *)&w->refetch, (uv_handle_t *)&w->remigrate,
                              (uv_handle_t *)&w->sigterm, (uv_handle_t *)&w->sigint};
    size_t i;

    if (w->closing)
        return;
    w->closing = 1;
    lang_probe_stop(w->probe);
    for (i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
        uv_close(handles[i], NULL);
    if (w->env.pool)
        slot_pool_close(w->env.pool, on_pool_closed, w);
    else
        on_pool_closed(w);
}

static void on_grace_over(uv_timer_t *t)
{
    struct worker *w = t->data;

    /* What still runs is left unacknowledged in our processing lists: once our heartbeat
     * expires, recovery by any other worker puts it back in its queue. */
    fprintf(stderr, "runq-worker: drain grace over, leaving %u job(s) to recovery\n", w->active);
    uv_stop(w->loop);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    unsigned i;

    (void)signum;
    if (w->draining) { /* a second signal: stop now */
        uv_stop(w->loop);
        return;
    }
    w->draining = 1;
    fprintf(stderr, "runq-worker: draining (%u running)\n", w->active);
    /* Jobs fetched ahead that never ran go back to their queue now (requeued, not waited on). */
    for (i = 0; i < HELD_PER_SLOT * w->cfg.worker.slots; i++)
        if (w->jobs[i])
            (void)runner_give_back(w->jobs[i]);
    if (w->active == 0) {
        shutdown_all(w);
        return;
    }
    uv_timer_start(&w->grace, on_grace_over, w->cfg.worker.drain_grace_ms, 0);
}

/* runq-sandbox beside this binary (build tree: sandbox/runq-sandbox; installed: same dir). */
static void find_sandbox(char *out, size_t len)
{
    static const char *const candidates[] = {"/sandbox/runq-sandbox", "/runq-sandbox"};
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;
    size_t i;

    snprintf(out, len, "runq-sandbox");
    if (n <= 0)
        return;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash)
        return;
    *slash = '\0';
    for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", self, candidates[i]);
        if (access(path, X_OK) == 0) {
            snprintf(out, len, "%s", path);
            return;
        }
    }
}

static int load_config(struct worker *w, const char *cfg_path, const char *lang_path)
{
    struct config_error err;
    char text[512];

    config_defaults(&w->cfg);
    if ((cfg_path && config_load(cfg_path, &w->cfg, &err) < 0) ||
        config_apply_env(&w->cfg, environ, &err) < 0 ||
        languages_load(lang_path, &w->languages, &err) < 0) {
        fprintf(stderr, "runq-worker: %s\n", config_error_format(&err, text, sizeof(text)));
        return -EINVAL;
    }
    return 0;
}

struct options {
    const char *config, *languages;
    char sandbox[PATH_MAX];
    unsigned first_slot;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"languages", required_argument, NULL, 'l'},
        {"sandbox", required_argument, NULL, 's'}, {"first-slot", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0}};
    int c;

    o->config = access("config/runq.yaml", R_OK) == 0 ? "config/runq.yaml" : NULL;
    o->languages = "config/languages.yaml";
    find_sandbox(o->sandbox, sizeof(o->sandbox));
    o->first_slot = 0;
    while ((c = getopt_long(argc, argv, "c:l:", longopts, NULL)) != -1) {
        if (c == 'c')
            o->config = optarg;
        else if (c == 'l')
            o->languages = optarg;
        else if (c == 's')
            snprintf(o->sandbox, sizeof(o->sandbox), "%s", optarg);
        else if (c == 'f')
            o->first_slot = (unsigned)strtoul(optarg, NULL, 10);
        else
            return -EINVAL;
    }
    return 0;
}

static int start(struct worker *w, const struct options *o)
{
    struct rq_options ro = {0};
    struct slot_pool_options po = {0};
    const char *binds[CONFIG_MAX_BINDS];
    char control[KEYS_NAME_MAX + 1];
    size_t i;
    int r;

    for (i = 0; i < w->cfg.nqueues; i++)
        w->queues[i] = w->cfg.queues[i].name;
    for (i = 0; i < w->cfg.sandbox.nbinds; i++)
        binds[i] = w->cfg.sandbox.binds[i];
    ro.url = w->cfg.redis.url;
    ro.worker = w->name;
    ro.queues = w->queues;
    ro.nqueues = w->cfg.nqueues;
    ro.heartbeat_ms = w->cfg.worker.heartbeat_ms;
    ro.heartbeat_ttl_ms = w->cfg.worker.heartbeat_ttl_ms;
    ro.results_ttl_ms = w->cfg.results.ttl_ms;
    ro.max_attempts = w->cfg.worker.max_attempts;
    po = (struct slot_pool_options){o->sandbox, w->cfg.worker.slots, o->first_slot,
                                    w->cfg.sandbox.uid_base, w->cfg.sandbox.cgroup, binds,
                                    w->cfg.sandbox.nbinds};
    if ((r = rq_open(w->loop, &ro, &w->env.rq)) < 0 ||
        (r = db_open(w->loop, w->cfg.postgres.url, NULL, &w->env.db)) < 0 ||
        (r = result_writer_new(w->loop, w->env.db, w->cfg.postgres.commit_interval_ms,
                               &w->env.writer)) < 0 ||
        (r = open_backends(w, &po)) < 0)
        return r;
    if (w->cfg.webhooks.secret[0]) {
        struct webhook_options wo = {.secret = w->cfg.webhooks.secret,
                                     .timeout_ms = w->cfg.webhooks.timeout_ms,
                                     .max_attempts = w->cfg.webhooks.max_attempts,
                                     .allow_private = (int)w->cfg.webhooks.allow_private};
        if ((r = webhook_open(w->loop, &wo, &w->env.webhook)) < 0)
            return r;
    }
    if (keys_control(control, sizeof(control), w->name) == 0)
        (void)rq_subscribe(w->env.rq, control, 0, on_control, w);
    if (db_migrate(w->env.db, on_migrated, w) < 0)
        uv_timer_start(&w->remigrate, on_remigrate, 1000, 0);
    uv_timer_start(&w->recover, on_recover_tick, w->cfg.worker.heartbeat_ttl_ms,
                   w->cfg.worker.heartbeat_ttl_ms);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    return 0;
}

int main(int argc, char **argv)
{
    static struct worker w; /* large (config): not on the stack; main() owns it */
    struct options o;
    unsigned suffix = 0;
    char host[64] = "host";
    uv_timer_t *timers[] = {&w.recover, &w.grace, &w.refetch, &w.remigrate};
    size_t i;
    int r;

    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: runq-worker [-c runq.yaml] [-l languages.yaml] "
                        "[--sandbox PATH] [--first-slot N]\n");
        return 2;
    }
    if (load_config(&w, o.config, o.languages) < 0)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread: webhook_open needs it */
    /* A write to a peer that went away (a slot process, a container's attach stream) must be
     * an EPIPE for its owner to handle, not the worker's death. */
    signal(SIGPIPE, SIG_IGN);
    gethostname(host, sizeof(host) - 1);
    /* The kernel's randomness: two containers started at once have the same pid and clock. */
    if (getrandom(&suffix, sizeof(suffix), 0) != (ssize_t)sizeof(suffix))
        suffix = (unsigned)time(NULL) ^ (unsigned)getpid();
    srandom(suffix); /* the retry jitter (runner.c): workers must not draw the same series */
    host[strcspn(host, ".")] = '\0';
    snprintf(w.name, sizeof(w.name), "%s-%d-%04x", host, (int)getpid(), suffix & 0xffff);
    snprintf(w.owner, sizeof(w.owner), "%s-%u", host, o.first_slot);
    w.loop = uv_default_loop();
    w.env = (struct runner_env){.loop = w.loop, .cfg = &w.cfg, .languages = &w.languages,
                                .worker = w.name, .job_done = job_done,
                                .job_released = job_released, .data = &w};
    for (i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
        uv_timer_init(w.loop, timers[i]);
        timers[i]->data = &w;
    }
    uv_signal_init(w.loop, &w.sigterm);
    uv_signal_init(w.loop, &w.sigint);
    w.sigterm.data = w.sigint.data = &w;
    if ((r = start(&w, &o)) < 0) {
        fprintf(stderr, "runq-worker: cannot start: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "runq-worker %s: %u slot(s); %zu language(s) in the sandbox (%s), %zu in "
                    "Docker (%s)\n",
            w.name, w.cfg.worker.slots, languages_on(&w, 0), o.sandbox, languages_on(&w, 1),
            w.cfg.docker.socket);
    uv_run(w.loop, UV_RUN_DEFAULT);
    runner_env_cleanup(&w.env);
    languages_free(&w.languages);
    return 0;
}
