/* SPDX-License-Identifier: MIT */
/* Per-run overhead of the Docker backend beside the built-in sandbox, in one run: /bin/true
 * N times through the worker's own pools, interleaved so both see the same machine noise:
 * a warm sandbox slot (slot_pool: runq-sandbox --serve) and the Docker backend (docker_pool:
 * create, attach, start, runq-box, wait, inspect; the removal overlaps the next run as in
 * the worker). With --cli, `docker run --rm --network none IMAGE true` too, for scale.
 * Prints the median and p90 of each in milliseconds, from the request to the answer.
 * Usage: bench-docker-overhead N runq-sandbox [--cli]. Needs root, the engine, runq/lang-c. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "docker_pool.h"
#include "job_plan.h"
#include "slot_pool.h"

#define IMAGE "runq/lang-c:latest"

struct answer {
    int done, status;
    char sandbox_status[32];
};

static void on_answer(int status, json_t *a, void *data)
{
    struct answer *ans = data;
    const char *s = json_string_value(json_object_get(json_object_get(a, "result"), "status"));

    ans->done = 1;
    ans->status = status;
    snprintf(ans->sandbox_status, sizeof(ans->sandbox_status), "%s", s ? s : "?");
    json_decref(a);
}

static void run_until(uv_loop_t *loop, const int *flag)
{
    while (!*flag)
        uv_run(loop, UV_RUN_ONCE);
}

static int cmp_u64(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

    return x < y ? -1 : x > y;
}

static double pct_ms(unsigned long long *v, int n, int p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    return (double)v[(n - 1) * p / 100] / 1e6;
}

/* One /bin/true through pool (docker when image is set); nanoseconds, or 0 on failure. */
static unsigned long long one_run(uv_loop_t *loop, struct slot_pool *sp, struct docker_pool *dp,
                                  const char *payload, size_t len)
{
    struct answer a = {0, 0, ""};
    uint64_t t0 = uv_hrtime();
    int r = dp ? docker_pool_run(dp, IMAGE, payload, len, on_answer, NULL, &a, NULL)
               : slot_pool_run(sp, payload, len, on_answer, NULL, &a, NULL);

    if (r < 0)
        return 0;
    run_until(loop, &a.done);
    return a.status == 0 && strcmp(a.sandbox_status, "ok") == 0 ? uv_hrtime() - t0 : 0;
}

static unsigned long long one_cli(void)
{
    uint64_t t0 = uv_hrtime();
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        execlp("docker", "docker", "run", "--rm", "--network", "none", IMAGE, "true",
               (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? uv_hrtime() - t0 : 0;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

int main(int argc, char **argv)
{
    char *args[] = {(char *)"true", NULL}, *payload = NULL;
    struct slot_pool_options so = {argc > 2 ? argv[2] : NULL, 1, 25, 60000, "runq", NULL, 0};
    struct docker_pool_options dop = {"/var/run/docker.sock", 1, 0, 65534, 1, "runq-bench"};
    int n = argc > 1 ? atoi(argv[1]) : 0, cli = argc > 3 && strcmp(argv[3], "--cli") == 0;
    unsigned long long *sbx, *dkr, *dcli;
    struct slot_pool *sp;
    struct docker_pool *dp;
    struct sbx_run_spec spec;
    uv_loop_t *loop = uv_default_loop();
    int i, ok = 1, closed = 0;
    size_t len;

    if (n <= 0 || argc < 3) {
        fprintf(stderr, "usage: bench-docker-overhead N runq-sandbox [--cli]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.argv = args;
    sbx = calloc((size_t)n, sizeof(*sbx));
    dkr = calloc((size_t)n, sizeof(*dkr));
    dcli = calloc((size_t)n, sizeof(*dcli));
    if (!sbx || !dkr || !dcli || job_plan_request(&spec, 0, &payload, &len) < 0 ||
        slot_pool_new(loop, &so, &sp) < 0 || docker_pool_new(loop, &dop, &dp) < 0)
        return 1;
    while (slot_pool_idle(sp) == 0 || docker_pool_idle(dp) == 0)
        uv_run(loop, UV_RUN_ONCE);
    one_run(loop, NULL, dp, payload, len); /* warm-up: the image's pages in the cache */
    for (i = 0; i < n && ok; i++) {
        sbx[i] = one_run(loop, sp, NULL, payload, len);
        dkr[i] = one_run(loop, NULL, dp, payload, len);
        dcli[i] = cli ? one_cli() : 1;
        ok = sbx[i] && dkr[i] && dcli[i];
    }
    if (!ok) {
        fprintf(stderr, "bench-docker-overhead: run %d failed\n", i);
        return 1;
    }
    printf("%d runs of /bin/true each, interleaved (ms, request to answer)\n", n);
    printf("  sandbox slot (warm)      median %8.2f  p90 %8.2f\n", pct_ms(sbx, n, 50),
           pct_ms(sbx, n, 90));
    printf("  docker backend           median %8.2f  p90 %8.2f\n", pct_ms(dkr, n, 50),
           pct_ms(dkr, n, 90));
    if (cli)
        printf("  docker run --rm (CLI)    median %8.2f  p90 %8.2f\n", pct_ms(dcli, n, 50),
               pct_ms(dcli, n, 90));
    printf("  docker backend / sandbox: %.1fx\n", pct_ms(dkr, n, 50) / pct_ms(sbx, n, 50));
    slot_pool_close(sp, on_closed, &closed);
    docker_pool_close(dp, on_closed, &closed);
    while (closed < 2)
        uv_run(loop, UV_RUN_ONCE);
    free(payload);
    free(sbx);
    free(dkr);
    free(dcli);
    return 0;
}
