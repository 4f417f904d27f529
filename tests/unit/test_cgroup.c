/* SPDX-License-Identifier: MIT */
/* Unit tests of cgroup detection (mountinfo text) and of the v1 and v2 group code against a
 * fake cgroup tree made of plain files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_cgdetect.h"
#include "sbx_cgroup.h"
#include "tap.h"

#define HYBRID                                                                                     \
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"                          \
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"                         \
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"                 \
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"                   \
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"                       \
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
#define PURE_V2 "30 23 0:27 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
#define V1_ONLY                                                                                    \
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"                  \
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"                            \
    "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"

static void test_detect(struct tap *t)
{
    struct sbx_cg_layout l;
    char err[256];

    tap_ok(t, sbx_cg_detect(HYBRID, "hugetlb\n", "/sys/fs/cgroup", &l, err, sizeof(err)) == 0 &&
                  l.memory == SBX_CG_V1 && l.pids == SBX_CG_V1 && l.cpu == SBX_CG_V2 &&
                  l.track == SBX_CG_V2 && !l.v2_pure &&
                  strcmp(l.v2_root, "/sys/fs/cgroup/unified") == 0 &&
                  strcmp(l.v1_memory, "/sys/fs/cgroup/memory") == 0,
           "hybrid: memory and pids on v1, CPU and tracking on the unified tree");
    tap_ok(t, sbx_cg_detect(PURE_V2, "cpuset cpu io memory hugetlb pids rdma misc\n",
                            "/sys/fs/cgroup", &l, err, sizeof(err)) == 0 &&
                  l.v2_pure && l.memory == SBX_CG_V2 && l.pids == SBX_CG_V2 &&
                  l.track == SBX_CG_V2,
           "pure v2: everything on v2");
    tap_ok(t, sbx_cg_detect(V1_ONLY, NULL, "/sys/fs/cgroup", &l, err, sizeof(err)) == 0 &&
                  l.memory == SBX_CG_V1 && l.cpu == SBX_CG_V1 && l.track == SBX_CG_V1 &&
                  strcmp(l.v1_cpuacct, "/sys/fs/cgroup/cpu,cpuacct") == 0,
           "pure v1: combined cpu,cpuacct found, tracking through pids");
    tap_ok(t, sbx_cg_detect(PURE_V2, "cpu io\n", "/sys/fs/cgroup", &l, err, sizeof(err)) ==
                      -ENOENT &&
                  strstr(err, "memory=none") != NULL,
           "v2 without memory/pids controllers is a clear error: %s", err);
    tap_ok(t, sbx_cg_detect("", NULL, "/sys/fs/cgroup", &l, err, sizeof(err)) == -ENOENT &&
                  strstr(err, "no usable cgroup hierarchy") != NULL,
           "no cgroups at all is a clear error");
}

static void test_parse(struct tap *t)
{
    uint64_t v = 0;

    tap_ok(t, sbx_cg_parse_key("usage_usec 1234\nuser_usec 1\n", "usage_usec", &v) == 0 &&
                  v == 1234, "cpu.stat usage_usec");
    tap_ok(t, sbx_cg_parse_key("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill",
                               &v) == 0 && v == 3, "v1 oom_control oom_kill (not oom_kill_disable)");
    tap_ok(t, sbx_cg_parse_key("low 0\nmax 7\n", "max", &v) == 0 && v == 7, "events max");
    tap_ok(t, sbx_cg_parse_key("low 0\n", "max", &v) == -ENOENT, "missing key");
    tap_ok(t, sbx_cg_has_word("cpu io memory pids", "pids") &&
                  !sbx_cg_has_word("cpuset io", "cpu"), "controller word matching");
}

/* A fake hierarchy: plain directories and files where the kernel would make them. */
static void fake_files(const char *dir, const char *const *files)
{
    char path[PATH_MAX];

    mkdir(dir, 0755);
    for (; *files; files += 2) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, files[0]);
        f = fopen(path, "w");
        if (f) {
            fputs(files[1], f);
            fclose(f);
        }
    }
}

static char *slurp(const char *dir, const char *name, char *buf, size_t size)
{
    char path[PATH_MAX];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (f) {
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static void test_fake_hybrid(struct tap *t, const char *root)
{
    static const char *const v2_files[] = {"cpu.stat", "usage_usec 500\n", NULL};
    static const char *const run_files[] = {"cgroup.procs", "", "cgroup.kill", "", NULL};
    static const char *const mem_files[] = {
        "memory.limit_in_bytes", "", "memory.memsw.limit_in_bytes", "",
        "memory.max_usage_in_bytes", "", "memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "cgroup.procs", "", NULL};
    static const char *const pids_files[] = {"pids.max", "", "pids.events", "max 1\n",
                                             "pids.current", "0\n", "cgroup.procs", "", NULL};
    struct sbx_cg_layout l;
    struct sbx_cgroup cg;
    struct sbx_cg_usage u;
    char err[256], buf[256], dir[PATH_MAX];

    memset(&l, 0, sizeof(l));
    snprintf(l.v2_root, sizeof(l.v2_root), "%s/unified", root);
    snprintf(l.v1_memory, sizeof(l.v1_memory), "%s/memory", root);
    snprintf(l.v1_pids, sizeof(l.v1_pids), "%s/pids", root);
    l.memory = l.pids = SBX_CG_V1;
    l.cpu = l.track = SBX_CG_V2;
    snprintf(dir, sizeof(dir), "%s/unified", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/unified/runq", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/unified/runq/slot-3", root), fake_files(dir, v2_files);
    snprintf(dir, sizeof(dir), "%s/unified/runq/slot-3/run", root), fake_files(dir, run_files);
    snprintf(dir, sizeof(dir), "%s/memory", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/memory/runq", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/memory/runq/slot-3", root), fake_files(dir, mem_files);
    snprintf(dir, sizeof(dir), "%s/pids", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/pids/runq", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/pids/runq/slot-3", root), fake_files(dir, pids_files);

    tap_ok(t, sbx_cg_open(&cg, &l, "runq", 3, err, sizeof(err)) == 0, "v1+v2 fake: open (%s)", err);
    tap_ok(t, sbx_cg_set_limits(&cg, 64 << 20, 10) == 0, "v1+v2 fake: set limits");
    snprintf(dir, sizeof(dir), "%s/memory/runq/slot-3", root);
    tap_ok(t, strcmp(slurp(dir, "memory.limit_in_bytes", buf, sizeof(buf)), "67108864") == 0 &&
                  strcmp(slurp(dir, "memory.memsw.limit_in_bytes", buf, sizeof(buf)),
                         "67108864") == 0,
           "v1 memory and memsw limits written");
    snprintf(dir, sizeof(dir), "%s/pids/runq/slot-3", root);
    tap_ok(t, strcmp(slurp(dir, "pids.max", buf, sizeof(buf)), "10") == 0, "v1 pids.max");
    tap_ok(t, sbx_cg_begin_run(&cg, &u) == 0 && u.cpu_us == 500 && u.oom_kills == 2 &&
                  u.pids_max_hits == 1 && u.memory_peak == 0,
           "baseline read, peak reset to 0 (got cpu=%llu oom=%llu peak=%llu)",
           (unsigned long long)u.cpu_us, (unsigned long long)u.oom_kills,
           (unsigned long long)u.memory_peak);
    tap_ok(t, sbx_cg_spawn_dir(&cg) >= 0, "programs are cloned into slot-3/run");
    tap_ok(t, sbx_cg_kill(&cg) == 0 && cg.run_killed, "kill marks the run group for renewal");
    snprintf(dir, sizeof(dir), "%s/unified/runq/slot-3/run", root);
    tap_ok(t, strcmp(slurp(dir, "cgroup.kill", buf, sizeof(buf)), "1") == 0,
           "kill writes 1 to the run group's cgroup.kill");
    fake_files(dir, (const char *const[]){"cgroup.procs", "1234\n", NULL});
    tap_ok(t, sbx_cg_is_empty(&cg) == 0, "a listed pid means not empty");
    tap_ok(t, sbx_cg_begin_run(&cg, &u) == -EBUSY, "a run refuses a busy group");
    cg.ignore_pid = 1234;
    tap_ok(t, sbx_cg_is_empty(&cg) == 1, "the zygote's own pid does not count");
    snprintf(dir, sizeof(dir), "%s/pids/runq/slot-3", root);
    fake_files(dir, (const char *const[]){"pids.current", "2\n", NULL});
    tap_ok(t, sbx_cg_is_empty(&cg) == 0,
           "an exiting task still holding a pid (pids.current 2 with the zygote) is not empty");
    fake_files(dir, (const char *const[]){"pids.current", "1\n", NULL});
    tap_ok(t, sbx_cg_is_empty(&cg) == 1, "pids.current 1 is the zygote alone");
    cg.layout.track = SBX_CG_V1;
    tap_ok(t, sbx_cg_kill(&cg) == -EOPNOTSUPP, "v1 has no cgroup.kill: the caller must ask the zygote");
    cg.layout.track = SBX_CG_V2;
    sbx_cg_close(&cg, 0);
}

static void test_fake_v2(struct tap *t, const char *root)
{
    static const char *const files[] = {"cpu.stat", "usage_usec 7000\n", "cgroup.procs", "",
                                        "memory.max", "", "memory.peak", "4096\n",
                                        "memory.events", "max 0\noom 1\noom_kill 1\n",
                                        "pids.max", "", "pids.events", "max 0\n",
                                        "pids.current", "0\n",
                                        "memory.swap.max", "", "memory.oom.group", "", NULL};
    struct sbx_cg_layout l;
    struct sbx_cgroup cg;
    struct sbx_cg_usage u;
    char err[256], buf[64], dir[PATH_MAX];

    memset(&l, 0, sizeof(l));
    snprintf(l.v2_root, sizeof(l.v2_root), "%s/v2", root);
    l.v2_pure = 1;
    l.memory = l.pids = l.cpu = l.track = SBX_CG_V2;
    snprintf(dir, sizeof(dir), "%s/v2", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/v2/cgroup.subtree_control", root);
    close(open(dir, O_CREAT | O_WRONLY, 0644));
    snprintf(dir, sizeof(dir), "%s/v2/a", root), mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/v2/a/cgroup.subtree_control", root);
    close(open(dir, O_CREAT | O_WRONLY, 0644));
    snprintf(dir, sizeof(dir), "%s/v2/a/b/slot-0", root);
    snprintf(buf, sizeof(buf), "%s/v2/a/b", root), mkdir(buf, 0755);
    snprintf(buf, sizeof(buf), "%s/v2/a/b/cgroup.subtree_control", root);
    close(open(buf, O_CREAT | O_WRONLY, 0644));
    fake_files(dir, files);

    tap_ok(t, sbx_cg_open(&cg, &l, "a/b", 0, err, sizeof(err)) == 0, "v2 fake: nested parent");
    snprintf(buf, sizeof(buf), "%s/v2/a", root);
    tap_ok(t, strcmp(slurp(buf, "cgroup.subtree_control", err, sizeof(err)), "+memory +pids") == 0,
           "controllers enabled at each level of the parent path");
    tap_ok(t, strcmp(slurp(dir, "memory.swap.max", buf, sizeof(buf)), "0") == 0 &&
                  strcmp(slurp(dir, "memory.oom.group", buf, sizeof(buf)), "1") == 0,
           "no swap, group OOM kill");
    tap_ok(t, sbx_cg_set_limits(&cg, 128 << 20, 32) == 0 &&
                  strcmp(slurp(dir, "memory.max", buf, sizeof(buf)), "134217728") == 0 &&
                  strcmp(slurp(dir, "pids.max", buf, sizeof(buf)), "32") == 0,
           "v2 memory.max and pids.max");
    tap_ok(t, sbx_cg_read_usage(&cg, &u) == 0 && u.cpu_us == 7000 && u.oom_kills == 1,
           "v2 counters: cpu.stat usage_usec and memory.events oom_kill");
    sbx_cg_close(&cg, 0);
}

int main(void)
{
    struct tap t = {0};
    char root[] = "/tmp/runq-fake-cgroup-XXXXXX";
    char cmd[PATH_MAX + 16];

    test_detect(&t);
    test_parse(&t);
    if (!mkdtemp(root)) {
        tap_ok(&t, 0, "mkdtemp");
        return tap_done(&t);
    }
    test_fake_hybrid(&t, root);
    test_fake_v2(&t, root);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", root);
    return tap_done(&t);
}
