/* SPDX-License-Identifier: MIT */
/* Sandbox start-up overhead: /bin/true N times through a warm runq slot and through a bare
 * fork+exec+wait, interleaved in one run so both see the same machine noise. With --cli it
 * also times the one-shot CLI (which builds and tears down a slot per call).
 * Prints medians and p90s in microseconds, and the difference of the medians.
 * With --parallel K N: K processes, each with a warm slot of its own, run /bin/true N times
 * each as fast as they can; prints the runs per second of all of them together (the most a
 * worker with K slots could complete on this machine). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_io.h"
#include "sbx_slot.h"

extern char **environ;

static int cmp_u64(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

static unsigned long long pct(unsigned long long *v, int n, int p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    return v[(n - 1) * p / 100];
}

static unsigned long long time_spawn(char *const argv[])
{
    posix_spawn_file_actions_t quiet;
    unsigned long long t0;
    int status, r;
    pid_t pid;

    /* The CLI prints its JSON result; the benchmark only wants the time. */
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    t0 = sbx_now_us();
    r = posix_spawn(&pid, argv[0], &quiet, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (r != 0)
        return 0;
    waitpid(pid, &status, 0);
    return sbx_now_us() - t0;
}

static unsigned long long time_slot_run(struct sbx_slot *slot, const struct sbx_run_spec *spec,
                                        int *ok)
{
    struct sbx_result res;
    unsigned long long t0 = sbx_now_us(), dt;

    sbx_slot_run(slot, spec, &res);
    dt = sbx_now_us() - t0;
    *ok &= res.verdict.status == SBX_OK;
    sbx_result_clear(&res);
    return dt;
}

static void report(const char *what, unsigned long long *v, int n)
{
    unsigned long long p50 = pct(v, n, 50), p90 = pct(v, n, 90);
    printf("%-28s p50 %6llu us   p90 %6llu us\n", what, p50, p90);
}

/* One of the --parallel processes: its own slot, n runs back to back. Exit status 0 = all ok. */
static int parallel_child(unsigned slot_no, int n)
{
    char *true_argv[] = {(char *)"/bin/true", NULL};
    struct sbx_slot_config cfg;
    struct sbx_run_spec spec;
    struct sbx_slot slot;
    char err[512];
    int ok = 1, i;

    sbx_slot_config_default(&cfg);
    cfg.slot = slot_no;
    if (sbx_slot_open(&slot, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench: cannot open slot %u: %s\n", slot_no, err);
        return 1;
    }
    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.argv = true_argv;
    for (i = 0; i < n; i++)
        (void)time_slot_run(&slot, &spec, &ok);
    sbx_slot_close(&slot, 1);
    return ok ? 0 : 1;
}

static int parallel(int k, int n)
{
    unsigned long long t0;
    int i, status, ok = 1;

    if (k < 1 || k > 8 || n < 1)
        return 2;
    for (i = 0; i < k; i++) /* warm-up pass: slot set-up is not what is measured */
        if (fork() == 0)
            _exit(parallel_child(92 + (unsigned)i, 20));
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    t0 = sbx_now_us();
    for (i = 0; i < k; i++)
        if (fork() == 0)
            _exit(parallel_child(92 + (unsigned)i, n));
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    /* Slot set-up (tens of ms) is inside the time: n large makes it negligible. */
    printf("%d slots in parallel, %d runs each: %.0f runs/s\n", k, n,
           (double)k * n * 1e6 / (double)(sbx_now_us() - t0));
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    char *true_argv[] = {(char *)"/bin/true", NULL};
    int n = argc > 1 ? atoi(argv[1]) : 500, ok = 1, i;
    const char *cli = argc > 2 ? argv[2] : NULL;
    unsigned long long *bare, *slot_t, *cli_t, b50, s50;
    struct sbx_slot_config cfg;
    struct sbx_run_spec spec;
    struct sbx_slot slot;
    char err[512];

    if (argc == 4 && strcmp(argv[1], "--parallel") == 0)
        return parallel(atoi(argv[2]), atoi(argv[3]));
    if (n < 10)
        n = 10;
    bare = calloc((size_t)n, sizeof(*bare));
    slot_t = calloc((size_t)n, sizeof(*slot_t));
    cli_t = calloc((size_t)n, sizeof(*cli_t));
    sbx_slot_config_default(&cfg);
    cfg.slot = 90;
    if (!bare || !slot_t || !cli_t || sbx_slot_open(&slot, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench: cannot open a slot: %s\n", err);
        return 1;
    }
    memset(&spec, 0, sizeof(spec));
    sbx_limits_default(&spec.limits);
    spec.argv = true_argv;
    for (i = 0; i < 20; i++) /* warm caches on both paths */
        (void)time_slot_run(&slot, &spec, &ok), (void)time_spawn(true_argv);
    for (i = 0; i < n; i++) {
        bare[i] = time_spawn(true_argv);
        slot_t[i] = time_slot_run(&slot, &spec, &ok);
    }
    sbx_slot_close(&slot, 1);
    printf("runs: %d each, interleaved\n", n);
    report("bare fork+exec /bin/true", bare, n);
    report("runq warm slot /bin/true", slot_t, n);
    b50 = pct(bare, n, 50);
    s50 = pct(slot_t, n, 50);
    printf("added by the sandbox (p50):  %lld us  (ratio %.2fx)\n", (long long)(s50 - b50),
           (double)s50 / (double)b50);
    if (cli) {
        char *cli_argv[] = {(char *)cli, (char *)"--slot", (char *)"91", (char *)"--",
                            (char *)"/bin/true", NULL};
        int m = n / 5 < 10 ? 10 : n / 5;
        for (i = 0; i < m; i++)
            cli_t[i] = time_spawn(cli_argv);
        report("runq-sandbox CLI (cold)", cli_t, m);
    }
    free(bare);
    free(slot_t);
    free(cli_t);
    if (!ok) {
        fprintf(stderr, "bench: a sandboxed run did not end ok\n");
        return 1;
    }
    return 0;
}
