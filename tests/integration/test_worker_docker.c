/* SPDX-License-Identifier: MIT */
/* runq-worker with every language on the Docker backend (RUNQ_WORKER_BACKEND=docker), end to
 * end with real redis-server, PostgreSQL and the Docker engine: a Python job, a graded C job
 * (one compile, a container per test), then a worker killed with SIGKILL in the middle of a
 * job: its container stays until the worker comes back with the same first slot, which
 * sweeps it; the job is recovered and completes; after SIGTERM no container of the worker is
 * left. argv: runq-worker, languages.yaml, runq-sandbox. Worker slots 70-71. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docker_util.h"
#include "tap.h"
#include "worker_util.h"

#define FIRST_SLOT 70

static void test_jobs(struct tap *t, struct wctx *c)
{
    char py[KEYS_ID_MAX + 1];

    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"stdin\": \"20 22\", \"source\": "
                           "\"a, b = map(int, input().split())\\nprint(a + b)\\n\"}") == 0,
           "a Python job is queued");
    snprintf(py, sizeof(py), "%s", c->id);
    tap_ok(t, wu_submit(c, "{\"language\": \"c\", \"source\": \"#include <stdio.h>\\n"
                           "int main(void) { int a, b; scanf(\\\"%d %d\\\", &a, &b); "
                           "printf(\\\"%d\\\\n\\\", a * b); return 0; }\\n\", \"tests\": ["
                           "{\"stdin\": \"2 3\", \"expected_output\": \"6\"}, "
                           "{\"stdin\": \"4 5\", \"expected_output\": \"20\"}, "
                           "{\"stdin\": \"1 1\", \"expected_output\": \"2\"}]}") == 0,
           "a graded C job is queued");
    tap_ok(t, wu_wait_state(c, py, "completed", 60000) && strstr(c->text, "\"stdout\":\"42\\n\"") &&
                  strstr(c->text, "\"status\":\"ok\""),
           "the Python job completes in a container with its output");
    tap_ok(t, wu_wait_state(c, c->id, "completed", 120000) &&
                  strstr(c->text, "\"verdict\":\"WA\"") && strstr(c->text, "\"AC\":2"),
           "the graded C job: compiled once, two tests AC and one WA (%.200s)", c->text);
}

/* SIGKILL mid-job, then the same worker again. */
static void test_crash(struct tap *t, struct wctx *c, pid_t *worker, const char *const *spawn,
                       const char *owner)
{
    int status, i;
    long n = -1;

    tap_ok(t, wu_submit(c, "{\"language\": \"python\", \"limits\": {\"wall_ms\": 20000}, "
                           "\"source\": \"import time\\ntime.sleep(4)\\nprint('slept')\\n\"}") ==
                  0,
           "a job that sleeps 4 s is queued");
    wu_wait_state(c, c->id, "running", 30000);
    for (i = 0; i < 40 && (n = du_count_owned(c->loop, owner)) < 1; i++)
        wu_sleep(c, 250);
    kill(*worker, SIGKILL);
    /* >= 1: a version probe of the worker's may be running beside the job. */
    tap_ok(t, wu_waitpid(*worker, &status, 10000) && n >= 1 && du_count_owned(c->loop, owner) >= 1,
           "the worker is killed mid-job; its container is left behind (%ld)", n);
    *worker = wu_spawn_worker(spawn[0], spawn[1], spawn[2], spawn[3], FIRST_SLOT);
    for (i = 0; i < 60 && du_count_owned(c->loop, owner) != 0; i++)
        wu_sleep(c, 250);
    tap_ok(t, *worker > 0 && du_count_owned(c->loop, owner) == 0,
           "the same worker started again removes it before it runs anything");
    tap_ok(t, wu_wait_state(c, c->id, "completed", 60000) && strstr(c->text, "slept"),
           "the job is recovered and completes (%.120s)", c->text);
}

int main(int argc, char **argv)
{
    struct wu_fleet f;
    struct wctx c = {0};
    struct tap t = {0};
    char host[64] = "host", owner[96];
    const char *spawn[4];
    int status = 0, ok;
    pid_t worker = -1;

    if (argc < 4) {
        tap_ok(&t, 0, "usage: test_worker_docker RUNQ-WORKER LANGUAGES.YAML RUNQ-SANDBOX");
        return tap_done(&t);
    }
    signal(SIGPIPE, SIG_IGN);
    setenv("RUNQ_WORKER_BACKEND", "docker", 1);
    gethostname(host, sizeof(host) - 1);
    host[strcspn(host, ".")] = '\0';
    snprintf(owner, sizeof(owner), "%s-%d", host, FIRST_SLOT);
    ok = wu_fleet_start(&f, &c, "3s");
    spawn[0] = argv[1];
    spawn[1] = f.config;
    spawn[2] = argv[2];
    spawn[3] = argv[3];
    if (ok)
        worker = wu_spawn_worker(argv[1], f.config, argv[2], argv[3], FIRST_SLOT);
    if (tap_ok(&t, ok && worker > 0,
               "redis-server and PostgreSQL start, a worker on the Docker backend starts (%s)",
               f.err)) {
        test_jobs(&t, &c);
        test_crash(&t, &c, &worker, spawn, owner);
        kill(worker, SIGTERM);
        tap_ok(&t, wu_waitpid(worker, &status, 30000) && WIFEXITED(status) &&
                       WEXITSTATUS(status) == 0 && du_count_owned(c.loop, owner) == 0,
               "SIGTERM: the worker exits 0 and leaves no container");
    }
    wu_fleet_stop(&f, &c);
    return tap_done(&t);
}
