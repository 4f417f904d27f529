/* SPDX-License-Identifier: MIT */
/* A warm slot is reused run after run: nothing of one run may be visible to the next (files
 * in /tmp, /dev/shm and /box, SysV IPC, processes), sabotage of /box must not break the
 * next run, and the launcher must not leak descriptors or mounts. */
#include <dirent.h>
#include <errno.h>
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
    sbx_slot_config_default(&cfg);
    cfg.slot = SLOT;
    if (!tap_ok(&t, sbx_slot_open(&slot, &cfg, err, sizeof(err)) == 0, "open slot (%s)", err))
        return tap_done(&t);
    test_leftovers(&t, &slot);
    test_sabotage(&t, &slot);
    test_internal_errors(&t, &slot);
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
