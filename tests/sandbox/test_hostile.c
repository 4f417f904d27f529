/* SPDX-License-Identifier: MIT */
/* test_hostile: runs every hostile program of tests/sandbox/hostile under runq-sandbox and
 * checks the verdict against docs/SANDBOX.md, then that the host is clean.
 * Usage: test_hostile RUNQ-SANDBOX HOSTILE-DIR   (TAP on stdout; needs root)
 * HOSTILE_ONLY=name1,name2 runs only those cases; HOSTILE_VERBOSE=1 shows every result.
 * Does: one bounded runq-sandbox per case (killed after 60 s), JSON parsed with jansson.
 * Must not: stop at the first failure. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostile_host.h"
#include "tap.h"

#define SLOT 7u
#define UID_BASE 60000u
#define RUN_LIMIT_S 60.0
#define MAX_ARGS 24
#define KIB 1024LL
#define MIB (1024LL * 1024)

struct buf {
    char *data;
    size_t len, cap;
};

struct run_result {
    int wstatus;   /* waitpid status of runq-sandbox */
    int timed_out; /* killed after RUN_LIMIT_S */
    int pipe_held; /* runq-sandbox exited, something else kept its stdout/stderr open */
    double elapsed;
    struct buf out, err;
    json_t *json;
};

struct hostile_case;
typedef void (*case_check)(struct tap *t, const struct hostile_case *c,
                           const struct run_result *r);

struct hostile_case {
    const char *name;
    const char *program;              /* file in HOSTILE-DIR, copied to /box/prog */
    const char *sbx_args[MAX_ARGS];   /* "@SUID" etc. are replaced, see subst() */
    const char *prog_args[4];
    const char *status;               /* exact expected status */
    const char *time_limit;           /* "cpu", "wall", "any" (either), NULL (must be null) */
    int signal;                       /* expected `signal` when status is "signaled" */
    int defended;                     /* the program's stdout must contain DEFENDED */
    const char *metric;               /* optional "metric=N" in the program's stdout */
    long long metric_min, metric_max; /* ... with metric_min <= N <= metric_max */
    case_check check;
};

struct ctx {
    const char *sandbox, *dir;
    struct fixtures fx;
};

static void check_cpu_limit(struct tap *t, const struct hostile_case *c,
                            const struct run_result *r);
static void check_memory_peak(struct tap *t, const struct hostile_case *c,
                              const struct run_result *r);
static void check_wall_limit(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r);
static void check_stdout_cut(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r);
static void check_stderr_cut(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r);
static void check_collect(struct tap *t, const struct hostile_case *c,
                          const struct run_result *r);
static void check_replacement_char(struct tap *t, const struct hostile_case *c,
                                   const struct run_result *r);

#define SEC(n) {.name = #n, .program = #n, .status = "security_violation"}
#define OK(n) {.name = #n, .program = #n, .status = "ok", .defended = 1}
#define OKX(n, prog, ...) {.name = #n, .program = prog, .status = "ok", .defended = 1, __VA_ARGS__}
#define TLE(n, kind, ...) {.name = #n, .program = #n, .status = "time_limit", .time_limit = kind, \
                           __VA_ARGS__}
#define TL1 "-t", "1", "-w", "3"
#define FILL(n, opt) OKX(n, #n, .sbx_args = {opt, "8M", "-f", "64M"}, .metric = "bytes", \
                         .metric_min = 1 * MIB, .metric_max = 8 * MIB)

/* Order matters: each *_next_run / *_check case inspects what the case before it left. */
static const struct hostile_case cases[] = {
    TLE(cpu_spin, "cpu", .sbx_args = {TL1}, .check = check_cpu_limit),
    TLE(sleep_forever, "wall", .sbx_args = {"-t", "1", "-w", "2"}, .check = check_wall_limit),
    TLE(busy_threads, "cpu", .sbx_args = {TL1}, .check = check_cpu_limit),
    OKX(orphan_daemon, "orphan_daemon", .sbx_args = {TL1}),
    TLE(orphan_outlives_tle, "cpu", .sbx_args = {TL1}),
    TLE(fork_bomb, "any", .sbx_args = {TL1, "-p", "16"}),
    TLE(thread_bomb, "any", .sbx_args = {TL1, "-p", "16"}),
    TLE(stop_self, "wall", .sbx_args = {"-t", "1", "-w", "2"}, .check = check_wall_limit),
    {.name = "memory_touch", .program = "memory_touch", .sbx_args = {"-m", "64M", TL1},
     .status = "memory_limit", .check = check_memory_peak},
    OKX(memory_untouched, "memory_untouched", .sbx_args = {"-m", "64M"}),
    OKX(memory_untouched_as, "memory_untouched", .sbx_args = {"--address-space", "64M"},
        .prog_args = {"expect-fail"}),
    {.name = "tmpfs_over_memory", .program = "fill_devshm", .status = "memory_limit",
     .sbx_args = {"--tmp-size", "512M", "-m", "64M", "-f", "512M"}, .check = check_memory_peak},
    FILL(fill_tmp, "--tmp-size"),
    FILL(fill_devshm, "--tmp-size"),
    FILL(fill_box, "--box-size"),
    {.name = "file_size_limit", .program = "file_size_limit", .sbx_args = {"-f", "1M"},
     .status = "output_limit"},
    {.name = "stdout_flood", .program = "stdout_flood", .sbx_args = {"-o", "64K", TL1},
     .status = "output_limit", .check = check_stdout_cut},
    {.name = "stderr_flood", .program = "stderr_flood", .sbx_args = {"-o", "64K", TL1},
     .status = "output_limit", .check = check_stderr_cut},
    {.name = "deep_recursion", .program = "deep_recursion", .sbx_args = {"-s", "8M"},
     .status = "signaled", .signal = 11},
    OKX(binary_output, "binary_output", .check = check_replacement_char),
    OK(net_outside),
    OKX(net_host_loopback, "net_host_loopback", .prog_args = {"@PORT", "@UNIX"}),
    OKX(read_host_secret, "read_host_secret", .prog_args = {"@SECRET"}),
    OK(read_shadow),
    OK(list_host_procs),
    OK(proc_sys_leaks),
    OK(env_leak),
    OK(cgroup_view),
    OK(write_ro_root),
    SEC(sec_mount), SEC(sec_unshare), SEC(sec_setns), SEC(sec_ptrace), SEC(sec_process_vm),
    SEC(sec_bpf), SEC(sec_perf_event), SEC(sec_keyctl), SEC(sec_userfaultfd),
    SEC(sec_kexec_or_module), SEC(sec_reboot), SEC(sec_swapon), SEC(sec_clock_settime),
    SEC(sec_clone_newuser), SEC(sec_chroot), SEC(sec_iopl), SEC(sec_syslog),
    SEC(sec_open_by_handle_at), SEC(sec_acct), SEC(sec_kcmp), SEC(sec_pidfd_getfd),
    SEC(sec_settimeofday),
    SEC(int80_syscall), SEC(x32_syscall),
    OK(io_uring_probe),
    OK(clone3_probe),
    OK(vsock_probe),
    OK(kill_all),
    OK(kill_init),
    OKX(setuid_binary, "setuid_binary", .sbx_args = {"--bind", "@SUID"},
        .prog_args = {"@SUID"}, .metric = "euid", .metric_min = 1, .metric_max = LLONG_MAX),
    OK(device_nodes),
    OKX(symlink_tricks, "symlink_tricks", .check = check_collect,
        .sbx_args = {"--collect", "link", "--collect", "shadow", "--collect", "procroot",
                     "--collect", "fifo", "--collect", "hard", "--collect", "dir",
                     "--collect", "etcdir/passwd", "--collect", "good"}),
    OKX(symlink_tricks_next_run, "symlink_tricks", .prog_args = {"check"}),
    OKX(fd_exhaustion, "fd_exhaustion", .sbx_args = {"-n", "32"}, .metric = "maxfd",
        .metric_min = 3, .metric_max = 31),
    OK(inherited_fds),
    OK(core_dump),
    {.name = "core_dump_self", .program = "core_dump", .prog_args = {"self"},
     .status = "signaled", .signal = 11},
    OK(caps_and_ids),
    OKX(sysv_ipc_create, "sysv_ipc", .prog_args = {"create"}),
    OKX(sysv_ipc_check, "sysv_ipc", .prog_args = {"check"}),
};

/* ---- running runq-sandbox ---- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void buf_add(struct buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *d = realloc(b->data, cap);

        if (!d)
            abort();
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static pid_t spawn(char *const argv[], int fds[2])
{
    int o[2], e[2];
    pid_t pid;

    if (pipe2(o, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(e, O_CLOEXEC) < 0) {
        close(o[0]);
        close(o[1]);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        setpgid(0, 0);
        if (null < 0 || dup2(null, 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    fds[0] = o[0];
    fds[1] = e[0];
    return pid;
}

/* Reads what is ready on the open fds; closes (and sets to -1) those at EOF. */
static void pump(int fds[2], struct run_result *r, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
    struct buf *bufs[2] = {&r->out, &r->err};
    char chunk[65536];

    if (poll(p, 2, timeout_ms) <= 0)
        return;
    for (int i = 0; i < 2; i++) {
        ssize_t n;

        if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        n = read(fds[i], chunk, sizeof chunk);
        if (n > 0) {
            buf_add(bufs[i], chunk, (size_t)n);
        } else if (n == 0 || errno != EINTR) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* Waits for runq-sandbox (at most RUN_LIMIT_S) and for EOF on its pipes. */
static void collect(pid_t pid, int fds[2], struct run_result *r)
{
    double start = now_s(), exited_at = 0;
    int reaped = 0;

    while (!reaped || fds[0] >= 0 || fds[1] >= 0) {
        if (!reaped && waitpid(pid, &r->wstatus, WNOHANG) == pid) {
            reaped = 1;
            exited_at = now_s();
        }
        if (!reaped && now_s() - start > RUN_LIMIT_S) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &r->wstatus, 0);
            r->timed_out = reaped = 1;
            exited_at = now_s();
        }
        if (reaped && now_s() - exited_at > 1.0 && (fds[0] >= 0 || fds[1] >= 0)) {
            r->pipe_held = 1;
            break;
        }
        pump(fds, r, 100);
    }
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    r->elapsed = now_s() - start;
}

static const char *subst(const char *a, const struct fixtures *fx)
{
    if (strcmp(a, "@SECRET") == 0)
        return fx->secret_path;
    if (strcmp(a, "@SUID") == 0)
        return fx->suid_path;
    if (strcmp(a, "@PORT") == 0)
        return fx->port;
    if (strcmp(a, "@UNIX") == 0)
        return fx->unix_name;
    return a;
}

/* runq-sandbox --slot S --file prog=DIR/PROGRAM [sbx_args] -- ./prog [prog_args] */
static int run_case_sandbox(const struct ctx *cx, const struct hostile_case *c,
                            struct run_result *r)
{
    static char slot[16], file[4200];
    const char *argv[8 + MAX_ARGS + 4 + 1];
    int n = 0, fds[2];
    pid_t pid;

    snprintf(slot, sizeof slot, "%u", SLOT);
    snprintf(file, sizeof file, "prog=%s/%s", cx->dir, c->program);
    argv[n++] = cx->sandbox;
    argv[n++] = "--slot";
    argv[n++] = slot;
    argv[n++] = "--file";
    argv[n++] = file;
    for (int i = 0; i < MAX_ARGS && c->sbx_args[i]; i++)
        argv[n++] = subst(c->sbx_args[i], &cx->fx);
    argv[n++] = "--";
    argv[n++] = "./prog";
    for (int i = 0; i < 4 && c->prog_args[i]; i++)
        argv[n++] = subst(c->prog_args[i], &cx->fx);
    argv[n] = NULL;
    memset(r, 0, sizeof *r);
    pid = spawn((char *const *)argv, fds);
    if (pid < 0)
        return -1;
    collect(pid, fds, r);
    r->json = r->out.data ? json_loadb(r->out.data, r->out.len, JSON_ALLOW_NUL, NULL) : NULL;
    return 0;
}

static void result_free(struct run_result *r)
{
    json_decref(r->json);
    free(r->out.data);
    free(r->err.data);
}

/* ---- assertions ---- */

static const char *jstr(const struct run_result *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static long long jint(const struct run_result *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static int contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

static void diag_text(const char *label, const char *s)
{
    char line[512];

    if (!s || !*s)
        return;
    for (const char *p = s; *p && p - s < 1500;) {
        size_t n = strcspn(p, "\n");

        snprintf(line, sizeof line, "%.*s", (int)(n < 200 ? n : 200), p);
        tap_diag("  %s| %s", label, line);
        p += n + (p[n] == '\n');
    }
}

static void diag_result(const struct run_result *r)
{
    tap_diag("  status=%s time_limit=%s exit_code=%lld signal=%lld cpu_ms=%lld wall_ms=%lld "
             "memory_peak_kb=%lld elapsed=%.2fs message=%s",
             jstr(r, "status"), jstr(r, "time_limit"), jint(r, "exit_code"), jint(r, "signal"),
             jint(r, "cpu_ms"), jint(r, "wall_ms"), jint(r, "memory_peak_kb"), r->elapsed,
             jstr(r, "message"));
    diag_text("stdout", jstr(r, "stdout"));
    diag_text("stderr", jstr(r, "stderr"));
    diag_text("launcher stderr", r->err.data);
    if (!r->json)
        diag_text("launcher stdout", r->out.data);
}

static void check_time_limit(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r)
{
    json_t *tl = json_object_get(r->json, "time_limit");

    if (!c->time_limit)
        tap_ok(t, json_is_null(tl), "%s: time_limit is null", c->name);
    else if (strcmp(c->time_limit, "any") == 0)
        tap_ok(t, contains(jstr(r, "time_limit"), "cpu") || contains(jstr(r, "time_limit"), "wall"),
               "%s: time_limit is cpu or wall", c->name);
    else
        tap_ok(t, json_is_string(tl) && strcmp(json_string_value(tl), c->time_limit) == 0,
               "%s: time_limit is %s", c->name, c->time_limit);
}

static void check_metric(struct tap *t, const struct hostile_case *c, const struct run_result *r)
{
    char key[64];
    const char *p;
    long long v = 0;

    snprintf(key, sizeof key, "%s=", c->metric);
    p = jstr(r, "stdout") ? strstr(jstr(r, "stdout"), key) : NULL;
    if (p)
        v = strtoll(p + strlen(key), NULL, 10);
    tap_ok(t, p && v >= c->metric_min && v <= c->metric_max, "%s: %s=%lld in [%lld, %lld]",
           c->name, c->metric, v, c->metric_min, c->metric_max);
}

static void check_verdict(struct tap *t, const struct hostile_case *c, const struct run_result *r)
{
    const char *st = jstr(r, "status");
    int want_code = !strcmp(c->status, "ok") ? 0 : !strcmp(c->status, "internal_error") ? 2 : 1;

    if (!tap_ok(t, r->json && json_is_object(r->json), "%s: launcher printed a JSON object",
                c->name))
        return;
    tap_ok(t, st && strcmp(st, c->status) == 0, "%s: status is %s (got %s)", c->name, c->status,
           st ? st : "(none)");
    tap_ok(t, WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == want_code,
           "%s: launcher exit code %d", c->name, want_code);
    check_time_limit(t, c, r);
    if (!strcmp(c->status, "signaled"))
        tap_ok(t, jint(r, "signal") == c->signal, "%s: signal %d", c->name, c->signal);
    if (!strcmp(c->status, "ok"))
        tap_ok(t, jint(r, "exit_code") == 0, "%s: exit_code 0", c->name);
    if (c->defended)
        tap_ok(t, contains(jstr(r, "stdout"), "DEFENDED"), "%s: program printed DEFENDED",
               c->name);
    tap_ok(t, !contains(jstr(r, "stdout"), "BREACH") && !contains(jstr(r, "stderr"), "BREACH"),
           "%s: program printed no BREACH", c->name);
    if (c->metric)
        check_metric(t, c, r);
    if (c->check)
        c->check(t, c, r);
}

/* ---- per-case checks ---- */

/* At least the limit, and not far above it: 300 ms of slack per CPU the tree can run on. */
static void check_cpu_limit(struct tap *t, const struct hostile_case *c,
                            const struct run_result *r)
{
    long long most = 1000 + 300 * sysconf(_SC_NPROCESSORS_ONLN);

    tap_ok(t, jint(r, "cpu_ms") >= 1000 && jint(r, "cpu_ms") <= most,
           "%s: cpu_ms %lld within [1000, %lld] for a 1000 ms limit", c->name, jint(r, "cpu_ms"),
           most);
}

static void check_wall_limit(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r)
{
    tap_ok(t, jint(r, "wall_ms") >= 2000 && r->elapsed < 7.0,
           "%s: wall_ms %lld >= 2000 and the launcher returned in %.1f s", c->name,
           jint(r, "wall_ms"), r->elapsed);
}

static void check_memory_peak(struct tap *t, const struct hostile_case *c,
                              const struct run_result *r)
{
    tap_ok(t, jint(r, "memory_peak_kb") > 0 && jint(r, "memory_peak_kb") <= 64 * KIB,
           "%s: 0 < memory_peak_kb %lld <= 65536", c->name, jint(r, "memory_peak_kb"));
}

static void check_cut(struct tap *t, const struct hostile_case *c, const struct run_result *r,
                      const char *stream, const char *other)
{
    char key[32], okey[32];
    json_t *s = json_object_get(r->json, stream);

    snprintf(key, sizeof key, "%s_truncated", stream);
    snprintf(okey, sizeof okey, "%s_truncated", other);
    tap_ok(t, json_is_true(json_object_get(r->json, key)), "%s: %s is true", c->name, key);
    tap_ok(t, json_is_false(json_object_get(r->json, okey)), "%s: %s is false", c->name, okey);
    tap_ok(t, json_is_string(s) && json_string_length(s) == 65536,
           "%s: exactly 65536 bytes of %s kept (got %zu)", c->name, stream,
           json_is_string(s) ? json_string_length(s) : 0);
}

static void check_stdout_cut(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r)
{
    check_cut(t, c, r, "stdout", "stderr");
}

static void check_stderr_cut(struct tap *t, const struct hostile_case *c,
                             const struct run_result *r)
{
    check_cut(t, c, r, "stderr", "stdout");
}

static void check_collect(struct tap *t, const struct hostile_case *c, const struct run_result *r)
{
    static const char *const traps[] = {"link",       "shadow", "procroot",     "fifo",
                                        "hard",       "dir",    "etcdir/passwd"};
    json_t *files = json_object_get(r->json, "files"), *good = json_object_get(files, "good");

    for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++) {
        json_t *f = json_object_get(files, traps[i]);

        tap_ok(t, json_is_string(json_object_get(f, "error")) && !json_object_get(f, "base64"),
               "%s: files.%s is an error (%s)", c->name, traps[i],
               json_string_value(json_object_get(f, "error")));
    }
    tap_ok(t, json_integer_value(json_object_get(good, "size")) == 5 &&
                  contains(json_string_value(json_object_get(good, "base64")), "ZmluZQo="),
           "%s: files.good is {size 5, \"fine\\n\"}", c->name);
    tap_ok(t, r->elapsed < 10.0, "%s: launcher returned promptly (%.1f s)", c->name, r->elapsed);
}

/* jansson only accepts valid UTF-8, so the parse itself proves the output was cleaned. */
static void check_replacement_char(struct tap *t, const struct hostile_case *c,
                                   const struct run_result *r)
{
    tap_ok(t, contains(jstr(r, "stdout"), "\xef\xbf\xbd") &&
                  contains(jstr(r, "stderr"), "\xef\xbf\xbd"),
           "%s: invalid bytes became U+FFFD in stdout and stderr", c->name);
}

/* ---- main ---- */

static int selected(const char *name)
{
    const char *only = getenv("HOSTILE_ONLY");
    size_t n = strlen(name);

    for (const char *p = only; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return only == NULL || *only == '\0';
}

static void run_case(struct tap *t, const struct ctx *cx, const struct hostile_case *c)
{
    struct run_result r;
    int before = host_mountinfo_lines(), failed = t->failed;

    if (run_case_sandbox(cx, c, &r) < 0) {
        tap_ok(t, 0, "%s: could not start %s: %s", c->name, cx->sandbox, strerror(errno));
        return;
    }
    tap_ok(t, !r.timed_out, "%s: launcher finished within %.0f s", c->name, RUN_LIMIT_S);
    tap_ok(t, !r.pipe_held, "%s: no leftover process held the launcher's pipes", c->name);
    check_verdict(t, c, &r);
    if (t->failed != failed || getenv("HOSTILE_VERBOSE"))
        diag_result(&r);
    host_assert_clean(t, c->name, before, &cx->fx, SLOT, UID_BASE + SLOT);
    result_free(&r);
}

/* The first run may set up the slot's persistent namespaces; do not count it. */
static void warm_up(const struct ctx *cx)
{
    static const struct hostile_case warm = {.name = "warm-up", .program = "caps_and_ids"};
    struct run_result r;
    int before = host_mountinfo_lines();

    if (run_case_sandbox(cx, &warm, &r) < 0)
        return;
    tap_diag("warm-up: status %s in %.2f s, host mountinfo %d -> %d lines", jstr(&r, "status"),
             r.elapsed, before, host_mountinfo_lines());
    result_free(&r);
}

int main(int argc, char **argv)
{
    struct tap t = {0};
    struct ctx cx = {0};

    if (argc < 3) {
        printf("Bail out! usage: %s RUNQ-SANDBOX HOSTILE-DIR\n", argv[0]);
        return 1;
    }
    if (geteuid() != 0) {
        printf("1..0 # SKIP runq-sandbox needs root\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    host_lock_slot(SLOT);
    setenv("RUNQ_HOSTILE_BAIT", "leaked-from-host", 1); /* env_leak looks for it */
    cx.sandbox = argv[1];
    cx.dir = argv[2];
    if (access(cx.sandbox, X_OK) < 0 || fixtures_setup(&cx.fx, cx.dir) < 0) {
        printf("Bail out! cannot run %s or set up fixtures\n", cx.sandbox);
        fixtures_teardown(&cx.fx);
        return 1;
    }
    warm_up(&cx);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (selected(cases[i].name))
            run_case(&t, &cx, &cases[i]);
    fixtures_teardown(&cx.fx);
    return tap_done(&t);
}
