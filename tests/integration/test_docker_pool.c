/* SPDX-License-Identifier: MIT */
/* The Docker backend on a real engine: docker_pool runs requests in fresh containers of the
 * language images (cli/runq-docker images) and answers as the built-in sandbox does. A C job
 * compiled and run through its plan; the hostile programs of tests/sandbox that apply to a
 * container (CPU, wall clock, fork bomb, memory, output, file size, disk fill, network, a
 * read-only root, kill init, capabilities, devices, inherited fds, environment) with the
 * sandbox's verdicts; a cancel; and the sweep: a process killed mid-run leaves a container
 * that the next pool of the same owner removes.
 * argv: languages.yaml, the hostile programs' directory. Needs the engine and runq/lang-c. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docker_pool.h"
#include "docker_util.h"
#include "job_plan.h"
#include "loop_util.h"
#include "sbx_request.h"
#include "tap.h"

#define IMAGE "runq/lang-c:latest"

struct outcome {
    int done, status;
    json_t *result; /* the answer's result, kept */
};

static void on_run(int status, json_t *answer, void *data)
{
    struct outcome *o = data;

    o->done = 1;
    o->status = status;
    o->result = json_incref(json_object_get(answer, "result"));
    json_decref(answer);
}

static const char *str(const struct outcome *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o->result, key));

    return s ? s : "";
}

/* Runs spec in the pool and waits for its answer (up to 60 s). */
static int run_spec(struct lu_loop *l, struct docker_pool *p, const struct sbx_run_spec *spec,
                    struct outcome *o)
{
    char *payload = NULL;
    size_t len = 0;
    int r = job_plan_request(spec, 0, &payload, &len);

    memset(o, 0, sizeof(*o));
    if (r == 0)
        r = docker_pool_run(p, IMAGE, payload, len, on_run, NULL, o, NULL);
    free(payload);
    if (r == 0)
        r = lu_run_until(l, &o->done, 60000);
    return r;
}

static int pool_ready(const void *arg)
{
    return docker_pool_idle(arg) > 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = malloc(4 << 20);

    *len = f && data ? fread(data, 1, 4 << 20, f) : 0;
    if (f)
        fclose(f);
    return data;
}

/* A C program through the worker's own plan: compile in the image, the artifact collected,
 * then run with the job's args and stdin. */
static void test_compiled(struct tap *t, struct lu_loop *l, struct docker_pool *p,
                          const char *languages_path)
{
    static const char src[] = "#include <stdio.h>\nint main(int c, char **v) { int a, b; "
                              "if (scanf(\"%d %d\", &a, &b) != 2) return 3; "
                              "printf(\"%s %d\\n\", c > 1 ? v[1] : \"?\", a + b); return 0; }\n";
    struct job_file file = {NULL, (unsigned char *)src, sizeof(src) - 1};
    char *args[] = {(char *)"sum"};
    struct config_limits defaults = {5000, 20000, 262144, 64, 1024, 16384};
    struct languages langs;
    struct config_error err;
    struct job_spec job;
    struct job_plan plan;
    struct outcome o;

    memset(&job, 0, sizeof(job));
    job.files = &file;
    job.nfiles = 1;
    job.args = args;
    job.nargs = 1;
    job.has_stdin = 1;
    job.stdin_data = (unsigned char *)"2 40\n";
    job.stdin_len = 5;
    if (!tap_ok(t, languages_load(languages_path, &langs, &err) == 0 &&
                       job_plan_build(&job, languages_find(&langs, "c"), &defaults, &plan) == 0,
                "a C job's plan"))
        return;
    if (!tap_ok(t, run_spec(l, p, &plan.compile, &o) == 0 && o.status == 0 &&
                       strcmp(str(&o, "status"), "ok") == 0,
                "compile step: gcc in runq/lang-c"))
        tap_diag("  %s: %s %s", str(&o, "status"), str(&o, "message"), str(&o, "stderr"));
    tap_ok(t, o.result && job_plan_take_artifacts(&plan, o.result) == 0,
           "the compiled program comes back as the step's artifact");
    json_decref(o.result);
    if (!tap_ok(t, run_spec(l, p, &plan.run, &o) == 0 && strcmp(str(&o, "status"), "ok") == 0 &&
                       strcmp(str(&o, "stdout"), "sum 42\n") == 0,
                "run step: args and stdin reach the program"))
        tap_diag("  %s: stdout \"%s\"", str(&o, "status"), str(&o, "stdout"));
    json_decref(o.result);
    job_plan_free(&plan);
    languages_free(&langs);
}

struct hostile {
    const char *name, *status, *time_limit; /* time_limit NULL: not checked */
    struct sbx_limits limits;
    const char *arg;
};

#define MIB (1ULL << 20)
/* cpu_ms, wall_ms, memory, processes, output, file, open_files, stack, as, tmp, box */
#define L(cpu, wall, mem, procs, out, file)                                                   \
    { cpu, wall, mem, procs, out, file, 64, 64 * MIB, 0, 16 * MIB, 64 * MIB }
#define STD L(1000, 3000, 256 * MIB, 64, MIB, 16 * MIB)
/* As test_hostile's FILL: an 8 MiB filesystem, files up to 64 MiB: the disk fills first. */
#define FILL(tmp, box)                                                                        \
    { 1000, 3000, 256 * MIB, 64, MIB, 64 * MIB, 64, 64 * MIB, 0, tmp, box }

static const struct hostile cases[] = {
    {"cpu_spin", "time_limit", "cpu", STD, NULL},
    {"sleep_forever", "time_limit", "wall", L(1000, 2000, 256 * MIB, 64, MIB, 16 * MIB), NULL},
    {"fork_bomb", "time_limit", NULL, L(1000, 3000, 256 * MIB, 16, MIB, 16 * MIB), NULL},
    {"memory_touch", "memory_limit", NULL, L(1000, 3000, 64 * MIB, 64, MIB, 16 * MIB), NULL},
    {"stdout_flood", "output_limit", NULL, L(1000, 3000, 256 * MIB, 64, 64 << 10, 16 * MIB),
     NULL},
    {"file_size_limit", "output_limit", NULL, L(1000, 3000, 256 * MIB, 64, MIB, MIB), NULL},
    {"deep_recursion", "signaled", NULL, STD, NULL},
    {"fill_box", "ok", NULL, FILL(16 * MIB, 8 * MIB), NULL},
    {"fill_tmp", "ok", NULL, FILL(8 * MIB, 64 * MIB), NULL},
    {"net_outside", "ok", NULL, STD, NULL},
    {"write_ro_root", "ok", NULL, STD, NULL},
    {"kill_init", "ok", NULL, STD, NULL},
    {"kill_all", "ok", NULL, STD, NULL},
    {"orphan_daemon", "ok", NULL, STD, NULL},
    {"core_dump", "ok", NULL, STD, NULL},
    {"caps_and_ids", "ok", NULL, STD, NULL},
    {"device_nodes", "ok", NULL, STD, NULL},
    {"inherited_fds", "ok", NULL, STD, NULL},
    {"env_leak", "ok", NULL, STD, NULL},
};

static void test_hostile(struct tap *t, struct lu_loop *l, struct docker_pool *p,
                         const char *dir)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct hostile *c = &cases[i];
        char path[PATH_MAX], *argv[] = {(char *)"./prog", NULL};
        struct sbx_file file = {"prog", NULL, 0, 1};
        struct sbx_run_spec spec;
        struct outcome o;
        unsigned char *data;
        int ok;

        snprintf(path, sizeof(path), "%s/%s", dir, c->name);
        data = slurp(path, &file.len);
        file.data = data;
        memset(&spec, 0, sizeof(spec));
        spec.limits = c->limits;
        spec.argv = argv;
        spec.files = &file;
        spec.nfiles = 1;
        ok = file.len > 0 && run_spec(l, p, &spec, &o) == 0 && o.status == 0 &&
             strcmp(str(&o, "status"), c->status) == 0 &&
             (!c->time_limit || strcmp(str(&o, "time_limit"), c->time_limit) == 0);
        if (ok && strcmp(c->status, "ok") == 0)
            ok = strstr(str(&o, "stdout"), "DEFENDED") != NULL;
        if (ok && strncmp(c->name, "fill_", 5) == 0) { /* the filesystem's size held */
            const char *b = strstr(str(&o, "stdout"), "bytes=");
            long long n = b ? atoll(b + 6) : -1;
            ok = n >= (long long)MIB && n <= 8 * (long long)MIB;
        }
        tap_ok(t, ok, "%s: %s%s%s", c->name, c->status, c->time_limit ? " " : "",
               c->time_limit ? c->time_limit : "");
        if (!ok)
            tap_diag("  got %s %s (%s) stdout: %.300s stderr: %.300s", str(&o, "status"),
                     str(&o, "time_limit"), str(&o, "message"), str(&o, "stdout"),
                     str(&o, "stderr"));
        json_decref(o.result);
        free(data);
    }
}

static struct sbx_run_spec sh_spec(const char *script, char **argv)
{
    struct sbx_run_spec spec;

    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.limits.wall_ms = 30000;
    argv[0] = (char *)"sh";
    argv[1] = (char *)"-c";
    argv[2] = (char *)script;
    argv[3] = NULL;
    spec.argv = argv;
    return spec;
}

struct streamed {
    struct outcome o;
    char text[128];
    size_t len;
    int pieces, before_answer;
};

static void on_stream(int stream, const char *bytes, size_t len, void *data)
{
    struct streamed *s = data;

    if (stream == 1 && s->len + len < sizeof(s->text)) {
        memcpy(s->text + s->len, bytes, len);
        s->len += len;
    }
    s->pieces++;
    s->before_answer += !s->o.done;
}

/* A run that asks for it ("stream": true, as the worker's ST_RUN does) gets its output while
 * it runs, the same bytes as in the result, as the sandbox gives them. */
static void test_streaming(struct tap *t, struct lu_loop *l, struct docker_pool *p)
{
    char *argv[4], *payload = NULL;
    struct sbx_run_spec spec = sh_spec("for i in 1 2 3; do echo line$i; sleep 0.3; done", argv);
    struct streamed s;
    size_t len;

    memset(&s, 0, sizeof(s));
    if (job_plan_request(&spec, 1, &payload, &len) < 0 ||
        docker_pool_run(p, IMAGE, payload, len, on_run, on_stream, &s, NULL) < 0) {
        tap_ok(t, 0, "a streamed run starts");
        free(payload);
        return;
    }
    free(payload);
    lu_run_until(l, &s.o.done, 30000);
    tap_ok(t, s.o.done && s.pieces >= 2 &&
                  s.before_answer == s.pieces && s.len == 18 &&
                  memcmp(s.text, "line1\nline2\nline3\n", 18) == 0 &&
                  strcmp(str(&s.o, "stdout"), "line1\nline2\nline3\n") == 0,
           "output streams during the run in %d pieces, the same bytes as the result",
           s.pieces);
    json_decref(s.o.result);
}

/* An image the engine does not have: the step ends as an internal error naming it (retrying
 * the job would not make it appear), and no container is left. */
static void test_missing_image(struct tap *t, struct lu_loop *l, struct docker_pool *p)
{
    char *argv[4], *payload = NULL;
    struct sbx_run_spec spec = sh_spec("true", argv);
    struct outcome o = {0, 0, NULL};
    size_t len;
    int r = job_plan_request(&spec, 0, &payload, &len);

    if (r == 0)
        r = docker_pool_run(p, "runq/lang-none-such:latest", payload, len, on_run, NULL, &o,
                            NULL);
    free(payload);
    if (r == 0)
        lu_run_until(l, &o.done, 30000);
    tap_ok(t, r == 0 && o.done && o.status == 0 &&
                  strcmp(str(&o, "status"), "internal_error") == 0 &&
                  strstr(str(&o, "message"), "runq/lang-none-such:latest") != NULL,
           "a missing image: internal_error naming it (%s)", str(&o, "message"));
    json_decref(o.result);
}

static int all_removed(const void *arg)
{
    struct docker_pool_stats st;

    docker_pool_stats((struct docker_pool *)(uintptr_t)arg, &st);
    return st.created == st.removed;
}

static int swept_removed(const void *arg)
{
    struct docker_pool_stats st;

    docker_pool_stats((struct docker_pool *)(uintptr_t)arg, &st);
    return st.removed >= st.swept;
}

static void test_cancel(struct tap *t, struct lu_loop *l, struct docker_pool *p)
{
    char *argv[4], *payload = NULL;
    struct sbx_run_spec spec = sh_spec("sleep 20", argv);
    struct docker_pool_stats before, after;
    struct outcome o = {0, 0, NULL};
    unsigned slot = 0;
    size_t len;

    lu_run_cond(l, all_removed, p, 20000); /* earlier runs' removals first */
    docker_pool_stats(p, &before);
    if (job_plan_request(&spec, 0, &payload, &len) < 0 ||
        docker_pool_run(p, IMAGE, payload, len, on_run, NULL, &o, &slot) < 0) {
        tap_ok(t, 0, "a long run starts");
        free(payload);
        return;
    }
    free(payload);
    lu_run_until(l, &(int){0}, 1500); /* let it get going */
    tap_ok(t, docker_pool_cancel(p, slot) == 0 && lu_run_until(l, &o.done, 20000) == 0 &&
                  o.status == -ECANCELED,
           "cancel kills the container; the callback gets -ECANCELED");
    lu_run_cond(l, all_removed, p, 20000);
    docker_pool_stats(p, &after);
    tap_ok(t, after.created - before.created == 1 && after.removed - before.removed == 1,
           "and the container is removed");
    json_decref(o.result);
}

static int open_pool(struct lu_loop *l, const char *owner, struct docker_pool **p)
{
    struct docker_pool_options o = {DU_SOCKET, 2, 0, 65534, 1, owner};

    return docker_pool_new(&l->loop, &o, p) == 0 &&
           lu_run_cond(l, pool_ready, *p, 30000) == 0;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

/* A child process starts a run and is killed with SIGKILL mid-run: its container stays. A
 * new pool of the same owner removes it before it takes runs. */
static void test_sweep(struct tap *t, struct lu_loop *l)
{
    char owner[64], *argv[4];
    struct docker_pool_stats st;
    struct docker_pool *p = NULL;
    int closed = 0, status, i;
    pid_t pid;

    snprintf(owner, sizeof(owner), "runq-test-sweep-%d", (int)getpid());
    pid = fork();
    if (pid == 0) {
        struct lu_loop cl;
        struct docker_pool *cp;
        struct sbx_run_spec spec = sh_spec("sleep 60", argv);
        struct outcome o;
        lu_init(&cl);
        if (!open_pool(&cl, owner, &cp))
            _exit(3);
        run_spec(&cl, cp, &spec, &o); /* never returns in time: the parent kills us */
        _exit(4);
    }
    for (i = 0; i < 60 && du_count_owned(&l->loop, owner) < 1; i++)
        usleep(500000); /* until its container exists */
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    tap_ok(t, WIFSIGNALED(status) && du_count_owned(&l->loop, owner) == 1,
           "a process with a run in a container is killed; its container stays");
    tap_ok(t, open_pool(l, owner, &p), "a new pool of the same owner starts");
    docker_pool_stats(p, &st);
    tap_ok(t, st.swept == 1, "it found the leftover container (%llu)",
           (unsigned long long)st.swept);
    lu_run_cond(l, swept_removed, p, 20000);
    docker_pool_stats(p, &st);
    tap_ok(t, st.removed == 1 && du_count_owned(&l->loop, owner) == 0, "and removed it");
    docker_pool_close(p, on_closed, &closed);
    lu_run_until(l, &closed, 20000);
}

int main(int argc, char **argv)
{
    struct lu_loop l;
    struct docker_pool *p = NULL;
    struct docker_pool_stats st;
    struct tap t = {0};
    char owner[64];
    int closed = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: test_docker_pool languages.yaml hostile-dir\n");
        return 2;
    }
    lu_init(&l);
    snprintf(owner, sizeof(owner), "runq-test-%d", (int)getpid());
    if (!tap_ok(&t, open_pool(&l, owner, &p),
                "a pool on the engine at " DU_SOCKET " (cli/runq-docker engine starts one)"))
        return tap_done(&t);
    test_compiled(&t, &l, p, argv[1]);
    test_hostile(&t, &l, p, argv[2]);
    test_streaming(&t, &l, p);
    test_missing_image(&t, &l, p);
    test_cancel(&t, &l, p);
    docker_pool_stats(p, &st);
    tap_ok(&t, st.created > 0 && st.created == st.removed,
           "every container made was removed (%llu)", (unsigned long long)st.created);
    docker_pool_close(p, on_closed, &closed);
    tap_ok(&t, lu_run_until(&l, &closed, 30000) == 0, "the pool closes");
    test_sweep(&t, &l);
    lu_close(&l);
    return tap_done(&t);
}
