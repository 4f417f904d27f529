/* SPDX-License-Identifier: MIT */
/* A warm slot is reused run after run: nothing of one run may be visible to the next (files
 * in /tmp, /dev/shm and /box, SysV IPC, processes), sabotage of /box must not break the
 * next run, and the launcher must not leak descriptors or mounts. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime_util.h"
#include "tap.h"

#define SLOT 22
#define UID_BASE 60000

static int run_sh(struct sbx_slot *s, const char *script, enum sbx_status want,
                  struct sbx_result *res)
{
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)script, NULL};
    struct sbx_run_spec spec;

    rt_spec(&spec, argv, NULL, 0, NULL, 0);
    spec.limits.wall_ms = 5000;
    return rt_run(s, &spec, res, want) == want;
}

/* Processes on the host running as the slot's uid. */
static int host_processes_of(uid_t uid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char path[300], line[256];
    int n = 0;

    while (d && (e = readdir(d)) != NULL) {
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "Uid:", 4) == 0 && (uid_t)atoi(line + 5) == uid)
                n++;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

static int mount_lines(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    int c, n = 0;

    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static void test_leftovers(struct tap *t, struct sbx_slot *s)
{
    struct sbx_result res;

    tap_ok(t, run_sh(s, "echo x > /tmp/a && echo x > /dev/shm/a && echo x > /box/a && "
                        "ipcmk -M 4096 >/dev/null && ipcmk -Q >/dev/null && "
                        "(setsid sleep 1000 &) && echo planted",
                     SBX_OK, &res) && rt_stdout_has(&res, "planted"),
           "run 1 plants files, IPC objects and a daemon");
    sbx_result_clear(&res);
    tap_ok(t, sbx_cg_is_empty(&s->cg) == 1, "the slot's cgroup is empty after run 1");
    tap_ok(t, host_processes_of(UID_BASE + SLOT) == 0, "no process of the slot's uid survives");
    tap_ok(t, run_sh(s, "test -z \"$(ls -A /tmp)$(ls -A /dev/shm)$(ls -A /box)\" && "
                        "test \"$(ipcs -m | grep -c runq)\" = 0 && "
                        "test \"$(ipcs -q | grep -c runq)\" = 0 && echo CLEAN",
                     SBX_OK, &res) && rt_stdout_has(&res, "CLEAN"),
           "run 2 sees empty /tmp, /dev/shm and /box and no IPC objects");
    sbx_result_clear(&res);
}

static void test_sparse_collect(struct tap *t, struct sbx_slot *s)
{
    static const char *const collect[] = {"a", "b"};
    char *argv[] = {(char *)"sh", (char *)"-c",
                    (char *)"truncate -s 40M a && truncate -s 40M b", NULL};
    struct sbx_run_spec spec;
    struct sbx_result res;

    rt_spec(&spec, argv, NULL, 0, collect, 2);
    spec.limits.box_bytes = 64ULL << 20;
    spec.limits.file_bytes = 64ULL << 20;
    tap_ok(t, rt_run(s, &spec, &res, SBX_OK) == SBX_OK && res.nfiles == 2 &&
                  res.files[0].len == 40ULL << 20 && res.files[1].error &&
                  strcmp(res.files[1].error, "too large") == 0,
           "sparse files cannot make collection exceed the box size in total");
    sbx_result_clear(&res);
}

static void test_sabotage(struct tap *t, struct sbx_slot *s)
{
    struct sbx_result res;

    tap_ok(t, run_sh(s, "mkdir -p d/e && echo x > d/e/f && ln -s /etc/passwd d/link && "
                        "mkfifo d/fifo && chmod 000 d/e d && chmod 500 /box && "
                        "echo sabotaged",
                     SBX_OK, &res) && rt_stdout_has(&res, "sabotaged"),
           "a run sabotages /box (chmod 000, symlink, FIFO, read-only box)");
    sbx_result_clear(&res);
    tap_ok(t, run_sh(s, "test -z \"$(ls -A /box)\" && touch /box/ok && echo FRESH", SBX_OK, &res) &&
                  rt_stdout_has(&res, "FRESH"),
           "the next run gets a fresh, writable /box");
    sbx_result_clear(&res);
}

/* What a run could learn about, or leave for, the next one through the state a slot keeps:
 * pids, TCP ports, scheduling and OOM standing, signal dispositions of the launcher. */
static void test_inherited_state(struct tap *t, struct sbx_slot *s)
{
    static const char tcp[] =
        "import socket\n"
        "srv = socket.socket(); srv.bind(('127.0.0.1', 31337)); srv.listen()\n"
        "c = socket.create_connection(('127.0.0.1', 31337)); a, _ = srv.accept()\n"
        "a.close(); c.close(); srv.close()\n";
    static const char probe[] =
        "import os, socket\n"
        "tcp = [l for l in open('/proc/net/tcp').read().splitlines()[1:]]\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 31337))\n"
        "print('pid', os.getpid(), 'tcp', len(tcp), 'nice', os.nice(0),\n"
        "      'oom', open('/proc/self/oom_score_adj').read().strip())\n";
    struct sbx_file plant = {"tcp.py", tcp, sizeof(tcp) - 1, 0};
    struct sbx_file look = {"probe.py", probe, sizeof(probe) - 1, 0};
    char *plant_argv[] = {(char *)"python3", (char *)"tcp.py", NULL};
    char *look_argv[] = {(char *)"python3", (char *)"probe.py", NULL};
    /* Not python: it ignores SIGPIPE itself. grep execs straight from the sandbox. */
    char *sig_argv[] = {(char *)"grep", (char *)"SigIgn", (char *)"/proc/self/status", NULL};
    struct sbx_run_spec spec;
    struct sbx_result res;
    int ok;

    rt_spec(&spec, plant_argv, &plant, 1, NULL, 0);
    tap_ok(t, rt_run(s, &spec, &res, SBX_OK) == SBX_OK, "run 1 opens and closes TCP connections");
    sbx_result_clear(&res);
    rt_spec(&spec, look_argv, &look, 1, NULL, 0);
    ok = rt_run(s, &spec, &res, SBX_OK) == SBX_OK;
    tap_ok(t, ok && rt_stdout_has(&res, "tcp 0 "),
           "run 2 sees no TCP socket of run 1 and can bind its port");
    tap_ok(t, ok && rt_stdout_has(&res, "pid 2 "), "every run's program is pid 2");
    tap_ok(t, ok && rt_stdout_has(&res, "nice 0 ") && rt_stdout_has(&res, "oom 0"),
           "niceness and OOM score are reset (the zygote's -1000 never reaches a program)");
    sbx_result_clear(&res);
    rt_spec(&spec, sig_argv, NULL, 0, NULL, 0);
    ok = rt_run(s, &spec, &res, SBX_OK) == SBX_OK;
    tap_ok(t, ok && rt_stdout_has(&res, "SigIgn:\t0000000000000000"),
           "signals the launcher ignores (SIGPIPE here) are default again in the program");
    sbx_result_clear(&res);
}

/* The sandbox's own failures are internal errors, never the program's, and they do not
 * poison the slot. */
static void test_internal_errors(struct tap *t, struct sbx_slot *s)
{
    static const struct sbx_file clash[] = {{"x", "file", 4, 0}, {"x/y", "under a file", 12, 0}};
    char *missing[] = {(char *)"/usr/bin/no-such-runq-program", NULL};
    char *sh[] = {(char *)"sh", (char *)"-c", (char *)"echo still-works", NULL};
    struct sbx_run_spec spec;
    struct sbx_result res;

    rt_spec(&spec, missing, NULL, 0, NULL, 0);
    tap_ok(t, rt_run(s, &spec, &res, SBX_INTERNAL_ERROR) == SBX_INTERNAL_ERROR &&
                  strstr(res.message, "executing the program") != NULL,
           "a command that does not exist is an internal error: %s", res.message);
    sbx_result_clear(&res);
    rt_spec(&spec, sh, clash, 2, NULL, 0);
    tap_ok(t, rt_run(s, &spec, &res, SBX_INTERNAL_ERROR) == SBX_INTERNAL_ERROR &&
                  strstr(res.message, "input file") != NULL,
           "an input file that cannot be written is an internal error: %s", res.message);
    sbx_result_clear(&res);
    rt_spec(&spec, (char *[]){(char *)"./x", NULL}, clash, 1, NULL, 0);
    tap_ok(t, rt_run(s, &spec, &res, SBX_RUNTIME_ERROR) == SBX_RUNTIME_ERROR &&
                  res.verdict.exit_code == 126,
           "a program file of the run's own that cannot execute is its failure (126): %s",
           res.message);
    sbx_result_clear(&res);
    rt_spec(&spec, sh, NULL, 0, NULL, 0);
    tap_ok(t, rt_run(s, &spec, &res, SBX_OK) == SBX_OK && rt_stdout_has(&res, "still-works"),
           "the slot still runs programs after those failures");
    sbx_result_clear(&res);
    tap_ok(t, sbx_slot_run(s, &(struct sbx_run_spec){.argv = NULL}, &res) == -EINVAL,
           "a spec without a program is rejected before anything runs");
    sbx_result_clear(&res);
}

int main(void)
{
    struct sbx_slot_config cfg;
    struct sbx_slot slot;
    struct sbx_result res;
    struct tap t = {0};
    char err[512] = "";
    int fds_before, fds_after, mounts_before, i, ok = 1;

    mounts_before = mount_lines();
    signal(SIGPIPE, SIG_IGN); /* as servers do: the programs must not inherit it */
    sbx_slot_config_default(&cfg);
    cfg.slot = SLOT;
    if (!tap_ok(&t, sbx_slot_open(&slot, &cfg, err, sizeof(err)) == 0, "open slot (%s)", err))
        return tap_done(&t);
    test_leftovers(&t, &slot);
    test_sabotage(&t, &slot);
    test_internal_errors(&t, &slot);
    test_sparse_collect(&t, &slot);
    test_inherited_state(&t, &slot);
    fds_before = rt_count_fds();
    for (i = 0; i < 30; i++) {
        ok &= run_sh(&slot, i % 3 ? "true" : "exit 3", i % 3 ? SBX_OK : SBX_RUNTIME_ERROR, &res);
        sbx_result_clear(&res);
    }
    fds_after = rt_count_fds();
    tap_ok(&t, ok, "30 runs in a row get the right verdicts");
    tap_ok(&t, fds_before == fds_after, "no descriptor leaked over 30 runs (%d -> %d)",
           fds_before, fds_after);
    tap_ok(&t, mount_lines() == mounts_before, "the host mount table is untouched");
    sbx_slot_close(&slot, 1);
    tap_ok(&t, access("/sys/fs/cgroup/memory/runq/slot-22", F_OK) != 0 &&
                   access("/sys/fs/cgroup/unified/runq/slot-22", F_OK) != 0 &&
                   access("/sys/fs/cgroup/runq/slot-22", F_OK) != 0,
           "closing the slot removes its cgroups");
    return tap_done(&t);
}
