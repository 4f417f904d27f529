/* SPDX-License-Identifier: MIT */
/* The worker's slot pool against the real runq-sandbox: runs in parallel slots from one event
 * loop, -EBUSY when all are taken, cancel kills a run and the slot comes back, close ends
 * every slot process cleanly (their cgroups removed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "job_plan.h"
#include "slot_pool.h"
#include "tap.h"

#define FIRST_SLOT 32

struct outcome {
    int done, status;
    char stdout_text[64];
    char sandbox_status[32];
    json_t *result; /* kept when keep is set */
    int keep;
};

static const char *field(json_t *result, const char *key)
{
    const char *s = json_string_value(json_object_get(result, key));
    return s ? s : "";
}

static void on_run(int status, json_t *answer, void *data)
{
    struct outcome *o = data;
    json_t *result = json_object_get(answer, "result");

    o->done = 1;
    o->status = status;
    snprintf(o->stdout_text, sizeof(o->stdout_text), "%s", field(result, "stdout"));
    snprintf(o->sandbox_status, sizeof(o->sandbox_status), "%s", field(result, "status"));
    if (o->keep)
        o->result = json_incref(result);
    json_decref(answer);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until cond() holds or timeout_ms passes; returns cond(). */
static int run_until(uv_loop_t *loop, int (*cond)(void *), void *arg, unsigned timeout_ms)
{
    uv_timer_t tick;
    uint64_t end = uv_now(loop) + timeout_ms;
    int ok;

    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    while (!(ok = cond(arg)) && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static struct slot_pool *the_pool;
static int all_idle(void *arg)
{
    return slot_pool_idle(the_pool) == *(unsigned *)arg;
}
static int is_done(void *arg)
{
    return ((struct outcome *)arg)->done;
}
static int both_done(void *arg)
{
    struct outcome *o = arg;
    return o[0].done && o[1].done;
}
static void on_closed(void *data)
{
    *(int *)data = 1;
}
static int flag_set(void *arg)
{
    return *(int *)arg;
}

static json_t *request(const char *script)
{
    return json_pack("{s:[s,s,s], s:{s:i}}", "argv", "sh", "-c", script, "limits", "wall_ms",
                     60000);
}

/* A request written as plain JSON (no attachment), sent as slot_pool_run sends any. */
static int run_json(const json_t *req, slot_output_cb on_output, struct outcome *o,
                    unsigned *slot)
{
    char *text = json_dumps(req, JSON_COMPACT);
    int r = text ? slot_pool_run(the_pool, text, strlen(text), on_run, on_output, o, slot)
                 : -ENOMEM;

    free(text);
    return r;
}

/* A step of a job's plan, in the worker's wire form (files in the attachment). */
static int run_step(const struct sbx_run_spec *step, struct outcome *o)
{
    char *payload = NULL;
    size_t len = 0;
    int r = job_plan_request(step, 0, &payload, &len);

    if (r == 0)
        r = slot_pool_run(the_pool, payload, len, on_run, NULL, o, NULL);
    free(payload);
    return r;
}

/* A C job the way the worker will run it: its plan's compile step, the artifact carried over,
 * then the run step, each in whatever slot is free. */
static void test_compiled_job(struct tap *t, uv_loop_t *loop, const char *languages_path)
{
    static const char src[] = "#include <stdio.h>\nint main(int c, char **v)"
                              "{ printf(\"hello %s\\n\", c > 1 ? v[1] : \"?\"); return 0; }\n";
    struct job_file file = {NULL, (unsigned char *)src, sizeof(src) - 1};
    char *args[] = {(char *)"runq"};
    struct config_limits defaults = {5000, 20000, 262144, 64, 1024, 16384};
    struct outcome compiled = {.keep = 1}, ran = {0};
    struct languages langs;
    struct config_error err;
    struct job_spec job;
    struct job_plan plan;
    unsigned idle = 2;

    memset(&job, 0, sizeof(job));
    job.files = &file;
    job.nfiles = 1;
    job.args = args;
    job.nargs = 1;
    if (!tap_ok(t, languages_load(languages_path, &langs, &err) == 0 &&
                       job_plan_build(&job, languages_find(&langs, "c"), &defaults, &plan) == 0,
                "a C job's plan from the shipped languages.yaml"))
        return;
    run_until(loop, all_idle, &idle, 10000);
    tap_ok(t, run_step(&plan.compile, &compiled) == 0 &&
                  run_until(loop, is_done, &compiled, 30000) &&
                  strcmp(compiled.sandbox_status, "ok") == 0,
           "compile step: gcc in the sandbox");
    tap_ok(t, compiled.result && job_plan_take_artifacts(&plan, compiled.result) == 0,
           "the artifact comes back from the compile step");
    tap_ok(t, run_step(&plan.run, &ran) == 0 &&
                  run_until(loop, is_done, &ran, 10000) && strcmp(ran.stdout_text, "hello runq\n") == 0,
           "run step: the compiled program runs with the job's args");
    json_decref(compiled.result);
    job_plan_free(&plan);
    languages_free(&langs);
}

/* The outcome first: on_run sees a struct outcome, on_output the whole of it. */
struct streamed_run {
    struct outcome o;
    char text[256];
    size_t len;
    int calls;
};

static void on_output(int stream, const char *bytes, size_t len, void *data)
{
    struct streamed_run *s = data;

    (void)stream;
    if (s->len + len < sizeof(s->text)) {
        memcpy(s->text + s->len, bytes, len);
        s->len += len;
        s->calls++;
    }
}

/* Output arrives while the run goes on, then the answer. */
static void test_streaming(struct tap *t, uv_loop_t *loop)
{
    struct streamed_run run = {{0}, {0}, 0, 0};
    json_t *req = json_pack("{s:[s,s,s], s:b}", "argv", "sh", "-c",
                            "for i in 1 2 3; do echo line$i; sleep 0.1; done", "stream", 1);
    unsigned idle = 2;

    run_until(loop, all_idle, &idle, 10000);
    tap_ok(t, run_json(req, on_output, &run.o, NULL) == 0 &&
                  run_until(loop, is_done, &run.o, 10000),
           "a streamed run completes");
    tap_ok(t, run.calls >= 2 && run.len == 18 &&
                  memcmp(run.text, "line1\nline2\nline3\n", 18) == 0 &&
                  strcmp(run.o.stdout_text, "line1\nline2\nline3\n") == 0,
           "its output came in %d pieces during the run, the same bytes as the result",
           run.calls);
    json_decref(req);
}

int main(int argc, char **argv)
{
    struct slot_pool_options o = {argc > 1 ? argv[1] : NULL, 2, FIRST_SLOT, 60000, "runq",
                                  NULL, 0};
    struct outcome two[2] = {{0}}, busy = {0}, cancelled = {0}, after = {0};
    unsigned idle = 2, slot = 0;
    uv_loop_t loop;
    struct tap t = {0};
    int closed = 0, ok;
    json_t *a = request("sleep 0.2; echo A"), *b = request("echo B"),
           *c = request("echo C"), *d = request("sleep 30");

    uv_loop_init(&loop);
    if (!tap_ok(&t, slot_pool_new(&loop, &o, &the_pool) == 0, "pool of 2 slots"))
        return tap_done(&t);
    tap_ok(&t, run_until(&loop, all_idle, &idle, 10000), "both slot processes come up");
    tap_ok(&t, run_json(a, NULL, &two[0], NULL) == 0 &&
                   run_json(b, NULL, &two[1], NULL) == 0,
           "two runs start at once");
    tap_ok(&t, run_json(c, NULL, &busy, NULL) == -EBUSY,
           "a third is refused with -EBUSY while both slots are busy");
    tap_ok(&t, run_until(&loop, both_done, two, 10000) && two[0].status == 0 &&
                   strcmp(two[0].stdout_text, "A\n") == 0 && strcmp(two[1].stdout_text, "B\n") == 0,
           "both answers arrive, each to its own callback");
    ok = run_json(d, NULL, &cancelled, &slot) == 0;
    tap_ok(&t, ok && slot >= FIRST_SLOT && slot < FIRST_SLOT + 2, "a long run starts in slot %u",
           slot);
    tap_ok(&t, run_until(&loop, all_idle, &(unsigned){1}, 2000) &&
                   slot_pool_cancel(the_pool, slot) == 0,
           "it can be cancelled");
    tap_ok(&t, run_until(&loop, is_done, &cancelled, 5000) && cancelled.status == -ECANCELED,
           "its callback gets -ECANCELED");
    tap_ok(&t, run_until(&loop, all_idle, &idle, 10000), "the cancelled slot comes back");
    tap_ok(&t, run_json(c, NULL, &after, NULL) == 0 &&
                   run_until(&loop, is_done, &after, 10000) && after.status == 0 &&
                   strcmp(after.sandbox_status, "ok") == 0,
           "and runs again");
    test_streaming(&t, &loop);
    if (argc > 2)
        test_compiled_job(&t, &loop, argv[2]);
    slot_pool_close(the_pool, on_closed, &closed);
    tap_ok(&t, run_until(&loop, flag_set, &closed, 10000), "close completes");
    tap_ok(&t, uv_loop_close(&loop) == 0, "no handle left on the loop");
    tap_ok(&t, access("/sys/fs/cgroup/memory/runq/slot-32", F_OK) != 0 &&
                   access("/sys/fs/cgroup/memory/runq/slot-33", F_OK) != 0 &&
                   access("/sys/fs/cgroup/runq/slot-32", F_OK) != 0,
           "slot processes exited cleanly and removed their cgroups");
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    return tap_done(&t);
}
