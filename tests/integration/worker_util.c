/* SPDX-License-Identifier: MIT */
/* worker_util: see worker_util.h. Blocking is fine here: this is the test's own flow. */
#include "worker_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "tap.h"

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

int wu_wait_done(struct wctx *c, unsigned ms)
{
    uv_timer_t tick;
    uint64_t end;

    uv_update_time(c->loop);
    end = uv_now(c->loop) + ms;
    uv_timer_init(c->loop, &tick);
    uv_timer_start(&tick, on_tick, 20, 20);
    while (!c->done && uv_now(c->loop) < end)
        uv_run(c->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(c->loop, UV_RUN_NOWAIT);
    return c->done;
}

void wu_sleep(struct wctx *c, unsigned ms)
{
    int saved = c->done;

    c->done = 0;
    wu_wait_done(c, ms);
    c->done = saved;
}

static void on_enqueued(void *arg, int status, const struct rq_enqueued *res)
{
    struct wctx *c = arg;

    c->done = 1;
    c->status = status;
    if (status == 0)
        snprintf(c->id, sizeof(c->id), "%s", res->id);
}

int wu_submit(struct wctx *c, const char *body)
{
    struct job_policy policy = {.webhooks = 1}; /* the worker has webhooks.secret */
    struct api_error err;
    struct job_spec spec;
    json_t *j;
    char *text;
    int r;

    if (job_spec_parse(body, strlen(body), &policy, &spec, &err) < 0) {
        tap_diag("bad test job: %s (%s)", err.message, err.field);
        return -EINVAL;
    }
    j = job_spec_to_json(&spec);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    c->done = 0;
    c->id[0] = '\0';
    r = text ? rq_enqueue(c->rq, "default", text, NULL, 0, 0, on_enqueued, c) : -ENOMEM;
    free(text);
    json_decref(j);
    job_spec_free(&spec);
    if (r == 0 && (!wu_wait_done(c, 5000) || c->status < 0))
        r = -EIO;
    return r;
}

static void on_job(void *arg, int status, const struct rq_job *job)
{
    struct wctx *c = arg;

    c->done = 1;
    c->status = status;
    snprintf(c->text, sizeof(c->text), "%s|%s", status == 0 ? job->state : "",
             status == 0 ? job->result : "");
    c->attempts = status == 0 ? job->attempts : -1;
    snprintf(c->worker, sizeof(c->worker), "%s", status == 0 ? job->worker : "");
    snprintf(c->webhook, sizeof(c->webhook), "%s", status == 0 ? job->webhook : "");
}

int wu_get_job(struct wctx *c, const char *id)
{
    c->done = 0;
    c->text[0] = '\0';
    return rq_get_job(c->rq, id, on_job, c) == 0 && wu_wait_done(c, 2000) && c->status == 0;
}

int wu_wait_state(struct wctx *c, const char *id, const char *want, unsigned ms)
{
    size_t n = strlen(want);
    uint64_t end;

    uv_update_time(c->loop);
    end = uv_now(c->loop) + ms;
    do {
        if (wu_get_job(c, id) && strncmp(c->text, want, n) == 0 && c->text[n] == '|')
            return 1;
        wu_sleep(c, 100);
    } while (uv_now(c->loop) < end);
    tap_diag("job %s: wanted %s, last seen %.300s", id, want, c->text);
    return 0;
}

static void on_row(struct db *db, const struct db_result *r, void *data)
{
    struct wctx *c = data;
    size_t len = 0;
    int i;

    (void)db;
    c->done = 1;
    c->status = r->status;
    c->text[0] = '\0';
    if (r->status < 0 || r->nrows < 1)
        return;
    for (i = 0; i < r->ncols && len < sizeof(c->text); i++)
        len += (size_t)snprintf(c->text + len, sizeof(c->text) - len, "%s%s", i ? "|" : "",
                                db_result_value(r, 0, i));
}

int wu_query(struct wctx *c, unsigned ms, const char *sql, int nparams, const char *const *params)
{
    uint64_t end;

    uv_update_time(c->loop);
    end = uv_now(c->loop) + ms;
    do {
        c->done = 0;
        if (db_query(c->db, sql, nparams, params, on_row, c) == 0 && wu_wait_done(c, 5000) &&
            c->status == 0)
            return 1;
        wu_sleep(c, 200);
    } while (uv_now(c->loop) < end);
    tap_diag("query failed (%d): %s", c->status, sql);
    return 0;
}

pid_t wu_spawn_worker(const char *worker_exe, const char *config, const char *languages,
                      const char *sandbox, unsigned first_slot)
{
    char slot[16];
    pid_t pid;

    snprintf(slot, sizeof(slot), "%u", first_slot);
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);

        if (fd >= 0)
            dup2(fd, 1);
        execl(worker_exe, worker_exe, "-c", config, "-l", languages, "--sandbox", sandbox,
              "--first-slot", slot, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int wu_write_config(const char *path, const char *redis_url, const char *pg_url, unsigned slots,
                    const char *heartbeat, const char *heartbeat_ttl, const char *drain_grace)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fprintf(f, "redis:\n  url: %s\npostgres:\n  url: %s\nworker:\n  slots: %u\n"
               "  heartbeat: %s\n  heartbeat_ttl: %s\n  drain_grace: %s\n"
               "webhooks:\n  secret: %s\n  max_attempts: 2\n  allow_private: true\n",
            redis_url, pg_url, slots, heartbeat, heartbeat_ttl, drain_grace, WU_WEBHOOK_SECRET);
    return fclose(f) == 0 ? 0 : -EIO;
}

int wu_waitpid(pid_t pid, int *status, unsigned ms)
{
    struct timespec ts = {0, 20 * 1000000L};
    unsigned waited;

    for (waited = 0; waited <= ms; waited += 20) {
        pid_t r = waitpid(pid, status, WNOHANG);

        if (r == pid)
            return 1;
        if (r < 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* 1 when the NUL-separated command line names runq-sandbox with --slot in [first, first+n). */
static int sandbox_cmdline(const char *buf, size_t len, unsigned first, unsigned n)
{
    const char *p = buf, *end = buf + len;
    int is_sandbox = strstr(buf, "runq-sandbox") != NULL;

    while (p < end) {
        const char *next = p + strlen(p) + 1;

        if (is_sandbox && strcmp(p, "--slot") == 0 && next < end) {
            unsigned long s = strtoul(next, NULL, 10);

            return s >= first && s < (unsigned long)first + n;
        }
        p = next;
    }
    return 0;
}

int wu_count_slot_procs(unsigned uid_base, unsigned first, unsigned n)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int count = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[4096];
        unsigned long ruid, euid, lo = (unsigned long)uid_base + first;
        size_t len;
        FILE *f;
        int match = 0;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        if ((f = fopen(path, "r")) != NULL) {
            while (fgets(buf, sizeof(buf), f))
                if (sscanf(buf, "Uid: %lu %lu", &ruid, &euid) == 2) {
                    match = (ruid >= lo && ruid < lo + n) || (euid >= lo && euid < lo + n);
                    break;
                }
            fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        if (!match && (f = fopen(path, "r")) != NULL) {
            len = fread(buf, 1, sizeof(buf) - 1, f);
            buf[len] = '\0';
            match = sandbox_cmdline(buf, len, first, n);
            fclose(f);
        }
        count += match;
    }
    closedir(d);
    return count;
}

int wu_fleet_start(struct wu_fleet *f, struct wctx *c, const char *heartbeat_ttl)
{
    struct rq_options ro = {0};

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/runq-test-fleet-XXXXXX");
    if (redis_server_start(&f->redis) < 0 || pg_server_start(&f->pg, f->err, sizeof(f->err)) < 0)
        return 0;
    if (!mkdtemp(f->dir)) {
        snprintf(f->err, sizeof(f->err), "mkdtemp: %s", strerror(errno));
        return 0;
    }
    f->made_dir = 1;
    pg_server_url(&f->pg, "postgres", f->pg_url, sizeof(f->pg_url));
    snprintf(f->config, sizeof(f->config), "%s/runq.yaml", f->dir);
    if (wu_write_config(f->config, f->redis.url, f->pg_url, 2, "1s", heartbeat_ttl, "10s") < 0) {
        snprintf(f->err, sizeof(f->err), "cannot write %s", f->config);
        return 0;
    }
    c->loop = uv_default_loop();
    ro.url = f->redis.url;
    if (rq_open(c->loop, &ro, &c->rq) < 0 || db_open(c->loop, f->pg_url, NULL, &c->db) < 0) {
        snprintf(f->err, sizeof(f->err), "the test's clients cannot open");
        return 0;
    }
    return 1;
}

int wu_fleet_stop(struct wu_fleet *f, struct wctx *c)
{
    int r = 0;

    if (c->rq)
        rq_close(c->rq, NULL, NULL);
    if (c->db)
        db_close(c->db, NULL, NULL);
    if (c->loop) {
        uv_run(c->loop, UV_RUN_DEFAULT);
        r = uv_loop_close(c->loop);
    }
    if (f->config[0])
        unlink(f->config);
    if (f->made_dir)
        rmdir(f->dir);
    pg_server_destroy(&f->pg);
    redis_server_cleanup(&f->redis);
    return r;
}
