/* SPDX-License-Identifier: MIT */
/* runq-box (worker/docker/runq_box.c, box_*.c) driven the way the Docker backend's worker drives it:
 * box_proto.h records in through a pipe, records out, each run in a fresh directory as PID 1
 * of a new pid namespace (root), without --cgroup-stats (the host's cgroup is not the run's).
 * One case runs it as PID 3 instead, beside a canary that only kill(-1) would hit.
 * Usage: test_box PATH-TO-RUNQ-BOX */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../worker/docker/box_proto.h"
#include "tap.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define MAX_FILES 16

struct buf {
    char *p;
    size_t len, cap;
};

struct reply {
    int status;   /* wait status of the namespace's first process */
    long long ms; /* wall time of the whole run */
    struct buf out, err;
    char *result;      /* the RESULT payload after a '\n' (easy line search), or NULL */
    int nresults, bad; /* bad: a malformed record or anything after RESULT */
    int nfiles;
    struct {
        int type;
        char *name;
        struct buf data;
    } files[MAX_FILES];
};

struct ctx {
    const char *exe;
    char dir[64];
    int not_pid1; /* run it as PID 3 beside a canary (PID 2) */
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static int buf_is(const struct buf *b, const char *s)
{
    return b->len == strlen(s) && (!b->len || memcmp(b->p, s, b->len) == 0);
}

/*** Input records ***/

static void rec_len(struct buf *in, int type, uint32_t len)
{
    unsigned char h[BOX_HEADER_SIZE] = {(unsigned char)type, len >> 24, len >> 16, len >> 8, len};

    buf_add(in, h, sizeof(h));
}

static void rec(struct buf *in, int type, const void *p, size_t n)
{
    rec_len(in, type, (uint32_t)n);
    buf_add(in, p, n);
}

static void rec_str(struct buf *in, int type, const char *s)
{
    rec(in, type, s, strlen(s));
}

static void rec_file(struct buf *in, const char *name, int exec, const void *data, size_t n)
{
    char e = (char)exec;

    rec_len(in, BOX_IN_FILE, (uint32_t)(1 + strlen(name) + 1 + n));
    buf_add(in, &e, 1);
    buf_add(in, name, strlen(name) + 1);
    buf_add(in, data, n);
}

/* KEY, the ARGs and a PATH; the case adds its LIMIT FILE COLLECT STDIN records, then GO. */
static void job(struct buf *in, const char *const *argv)
{
    rec_str(in, BOX_IN_KEY, KEY);
    for (; *argv; argv++)
        rec_str(in, BOX_IN_ARG, *argv);
    rec_str(in, BOX_IN_ENV, "PATH=/usr/bin:/bin");
}

/*** Running it ***/

/* PID 1 of the namespace while runq-box is PID 3: exits with runq-box's exit code, 99 when
 * the canary (PID 2, outside the program's process group) was killed. */
static int helper(const char *exe)
{
    pid_t canary = fork(), box;
    int status, canary_status;

    if (canary == 0) {
        close_range(0, ~0U, 0);
        pause();
        _exit(0);
    }
    box = fork();
    if (box == 0) {
        execl(exe, exe, (char *)NULL);
        _exit(121);
    }
    close_range(0, ~0U, 0); /* the pipes are runq-box's alone: EOF when it exits */
    if (canary < 0 || box < 0 || waitpid(box, &status, 0) != box)
        return 98;
    if (waitpid(canary, &canary_status, WNOHANG) != 0)
        return 99;
    kill(canary, SIGKILL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 97;
}

static pid_t spawn(const struct ctx *c, int in, int out)
{
    /* fork-like clone: the child is PID 1 of a new pid namespace. */
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);

    if (pid != 0)
        return pid;
    if (chdir(c->dir) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
        _exit(120);
    if (c->not_pid1)
        _exit(helper(c->exe));
    execl(c->exe, c->exe, (char *)NULL);
    _exit(121);
}

static void parse(const struct buf *raw, struct reply *r)
{
    size_t pos = 0, len;
    const unsigned char *h;
    const char *p;

    while (pos + BOX_HEADER_SIZE <= raw->len) {
        h = (const unsigned char *)raw->p + pos;
        len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        p = raw->p + pos + BOX_HEADER_SIZE;
        if (pos + BOX_HEADER_SIZE + len > raw->len)
            break;
        pos += BOX_HEADER_SIZE + len;
        r->bad |= r->result != NULL;
        if (h[0] == BOX_OUT_STDOUT || h[0] == BOX_OUT_STDERR) {
            buf_add(h[0] == BOX_OUT_STDOUT ? &r->out : &r->err, p, len);
        } else if ((h[0] == BOX_OUT_FILE || h[0] == BOX_OUT_FILE_ERROR) && r->nfiles < MAX_FILES &&
                   memchr(p, '\0', len)) {
            r->files[r->nfiles].type = h[0];
            r->files[r->nfiles].name = strdup(p);
            buf_add(&r->files[r->nfiles].data, p + strlen(p) + 1, len - strlen(p) - 1);
            r->nfiles++;
        } else if (h[0] == BOX_OUT_RESULT) {
            struct buf b = {0};
            buf_add(&b, "\n", 1);
            buf_add(&b, p, len);
            free(r->result);
            r->result = b.p;
            r->nresults++;
        } else {
            r->bad = 1;
        }
    }
    r->bad |= pos != raw->len;
}

/* Runs runq-box on the input; the reply is the caller's to free (reply_free). */
static void run(const struct ctx *c, const struct buf *in, struct reply *r)
{
    struct buf raw = {0};
    int to[2], from[2];
    long long start = now_ms();
    char chunk[65536];
    size_t off = 0;
    ssize_t n;
    pid_t pid;

    memset(r, 0, sizeof(*r));
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
        abort();
    pid = spawn(c, to[0], from[1]);
    close(to[0]);
    close(from[1]);
    /* runq-box reads all of its input before it writes; on bad input it answers and exits,
     * and the rest of ours meets EPIPE (ignored). */
    while (off < in->len && (n = write(to[1], in->p + off, in->len - off)) > 0)
        off += (size_t)n;
    close(to[1]);
    for (;;) {
        struct pollfd pfd = {from[0], POLLIN, 0};
        long long left = start + 30000 - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 || raw.len > (64u << 20)) {
            tap_diag("runq-box did not finish in 30 s or sent over 64 MiB: killed");
            kill(pid, SIGKILL); /* PID 1 of the namespace: the whole run dies */
            break;
        }
        n = read(from[0], chunk, sizeof(chunk));
        if (n <= 0)
            break;
        buf_add(&raw, chunk, (size_t)n);
    }
    close(from[0]);
    if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
        r->status = -1;
    r->ms = now_ms() - start;
    parse(&raw, r);
    free(raw.p);
}

static void reply_free(struct reply *r)
{
    int i;

    free(r->out.p);
    free(r->err.p);
    free(r->result);
    for (i = 0; i < r->nfiles; i++) {
        free(r->files[i].name);
        free(r->files[i].data.p);
    }
}

/* A RESULT value as a number; -1 when the line is missing. */
static long long num(const struct reply *r, const char *name)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "\n%s=", name);
    p = r->result ? strstr(r->result, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Whether RESULT has exactly the line "name=value". */
static int has(const struct reply *r, const char *name, const char *value)
{
    char pat[256];

    snprintf(pat, sizeof(pat), "\n%s=%s\n", name, value);
    return r->result && strstr(r->result, pat);
}

/* runq-box exited 0 with one well-formed RESULT, last, that carries the key. */
static int clean(const struct reply *r)
{
    int ok = r->status == 0 && r->nresults == 1 && !r->bad && has(r, BOX_RESULT_KEY, KEY);

    if (!ok)
        tap_diag("status %d, %d RESULTs, bad %d, RESULT:%s", r->status, r->nresults, r->bad,
                 r->result ? r->result : " none");
    return ok;
}

/* The program exited with code (>= 0) or died of signal -code; no internal error. */
static int ended(const struct reply *r, int code)
{
    long long ws = num(r, BOX_RESULT_WAIT_STATUS);
    int ok = clean(r) && num(r, BOX_RESULT_EXITED) == 1 &&
             !strstr(r->result, "\n" BOX_RESULT_INTERNAL_ERROR "=") &&
             (code >= 0 ? WIFEXITED(ws) && WEXITSTATUS(ws) == code
                        : WIFSIGNALED(ws) && WTERMSIG(ws) == -code);

    if (!ok && r->result)
        tap_diag("RESULT:%s stdout: %s stderr: %s", r->result, r->out.p ? r->out.p : "",
                 r->err.p ? r->err.p : "");
    return ok;
}

/* Refused with an internal error: nothing ran (the program would have created "ran"). */
static int refused(const struct ctx *c, const struct reply *r)
{
    char ran[128];

    snprintf(ran, sizeof(ran), "%s/ran", c->dir);
    return clean(r) && strstr(r->result, "\n" BOX_RESULT_INTERNAL_ERROR "=") &&
           num(r, BOX_RESULT_EXITED) == 0 && r->out.len == 0 && access(ran, F_OK) != 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fresh_dir(struct ctx *c)
{
    if (c->dir[0])
        nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    strcpy(c->dir, "/tmp/runq-box-test.XXXXXX");
    if (!mkdtemp(c->dir))
        abort();
}

/* One run of argv with the records of extra (after ENV) in a fresh directory. */
static void run_simple(struct ctx *c, const char *const *argv, const struct buf *extra,
                       struct reply *r)
{
    struct buf in = {0};

    fresh_dir(c);
    job(&in, argv);
    if (extra)
        buf_add(&in, extra->p, extra->len);
    rec(&in, BOX_IN_GO, NULL, 0);
    run(c, &in, r);
    free(in.p);
}

/*** The cases ***/

static void test_hello(struct tap *t, struct ctx *c)
{
    static const char *const names[] = {BOX_RESULT_KEY,
                                        BOX_RESULT_EXITED,
                                        BOX_RESULT_WAIT_STATUS,
                                        BOX_RESULT_KILLED_FOR,
                                        BOX_RESULT_CPU_US,
                                        BOX_RESULT_MEMORY_KB,
                                        BOX_RESULT_OOM_KILLS,
                                        BOX_RESULT_ORPHAN_SIGSYS,
                                        BOX_RESULT_EXEC_ERRNO,
                                        BOX_RESULT_STDOUT_TRUNCATED,
                                        BOX_RESULT_STDERR_TRUNCATED};
    struct reply r;
    size_t i;
    int all = 1;

    run_simple(c, ARGV("sh", "-c", "echo hello; echo oops >&2"), NULL, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "hello\n") && buf_is(&r.err, "oops\n"),
           "hello world via sh -c: stdout and stderr apart, exit 0, the RESULT has the key");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n%s=", names[i]);
        all &= r.result && strstr(r.result, line);
    }
    tap_ok(t, all && has(&r, BOX_RESULT_KILLED_FOR, "none") && num(&r, BOX_RESULT_MEMORY_KB) > 0,
           "the RESULT has every name of box_proto.h (killed_for none, a memory peak)");
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "readlink /proc/self/fd/0"), NULL, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "/dev/null\n"), "no STDIN record: /dev/null");
    reply_free(&r);
}

/* The worker sends every LIMIT of box_proto.h on every run. */
static void test_all_limits(struct tap *t, struct ctx *c)
{
    static const char *const limits[] = {
        BOX_LIMIT_CPU_MS "=5000",          BOX_LIMIT_WALL_MS "=11000",
        BOX_LIMIT_OUTPUT_BYTES "=1048576", BOX_LIMIT_FILE_BYTES "=16777216",
        BOX_LIMIT_OPEN_FILES "=64",        BOX_LIMIT_STACK_BYTES "=67108864",
        BOX_LIMIT_ADDRESS_SPACE "=0",      BOX_LIMIT_COLLECT_BYTES "=67108864"};
    struct buf extra = {0};
    struct reply r;
    size_t i;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        rec_str(&extra, BOX_IN_LIMIT, limits[i]);
    rec_str(&extra, BOX_IN_STDIN, ""); /* an empty stdin, as the worker sends it */
    run_simple(c, ARGV("sh", "-c", "ulimit -n; ulimit -s; cat; echo done"), &extra, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "64\n65536\ndone\n"),
           "every LIMIT name of box_proto.h is accepted and applied (open_files 64, stack 64 MiB)");
    reply_free(&r);
    free(extra.p);
}

static void test_stdin(struct tap *t, struct ctx *c)
{
    struct buf extra = {0};
    struct reply r;
    size_t i, big = 1 << 20;
    char *data = malloc(big);

    rec_str(&extra, BOX_IN_STDIN, "ab");
    rec_str(&extra, BOX_IN_STDIN, "c\n");
    run_simple(c, ARGV("cat"), &extra, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "abc\n"), "stdin in two pieces echoed by cat");
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "echo x >> /proc/self/fd/0; cat"), &extra, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "abc\n") && r.err.len > 0,
           "the program cannot write to its stdin (sealed memfd)");
    reply_free(&r);
    extra.len = 0;
    for (i = 0; i < big; i++)
        data[i] = (char)(i * 7 % 251);
    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_OUTPUT_BYTES "=2097152");
    rec(&extra, BOX_IN_STDIN, data, big);
    run_simple(c, ARGV("cat"), &extra, &r);
    tap_ok(t,
           ended(&r, 0) && r.out.len == big && memcmp(r.out.p, data, big) == 0 &&
               has(&r, BOX_RESULT_STDOUT_TRUNCATED, "0"),
           "a 1 MiB stdin comes back whole");
    reply_free(&r);
    free(data);
    free(extra.p);
}

static void test_files(struct tap *t, struct ctx *c)
{
    static const char prog[] = "#!/bin/sh\necho ran\ncat dir/a.txt\n";
    struct buf extra = {0};
    struct stat st_prog, st_a, st_dir;
    struct reply r;
    char path[128];

    rec_file(&extra, "prog", 1, prog, strlen(prog));
    rec_file(&extra, "dir/a.txt", 0, "nested\n", 7);
    run_simple(c, ARGV("./prog"), &extra, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "ran\nnested\n"),
           "an executable FILE runs as ./prog and reads the nested dir/a.txt");
    snprintf(path, sizeof(path), "%s/prog", c->dir);
    stat(path, &st_prog);
    snprintf(path, sizeof(path), "%s/dir/a.txt", c->dir);
    stat(path, &st_a);
    snprintf(path, sizeof(path), "%s/dir", c->dir);
    stat(path, &st_dir);
    tap_ok(t,
           (st_prog.st_mode & 07777) == 0755 && (st_a.st_mode & 07777) == 0644 &&
               S_ISDIR(st_dir.st_mode) && (st_dir.st_mode & 07777) == 0755,
           "modes: 0755 executable, 0644 not, parent directory 0755");
    reply_free(&r);
    free(extra.p);
}

static void test_status(struct tap *t, struct ctx *c)
{
    struct buf extra = {0};
    struct reply r;

    run_simple(c, ARGV("sh", "-c", "exit 3"), NULL, &r);
    tap_ok(t, ended(&r, 3), "exit code 3 in wait_status");
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "kill -TERM $$"), NULL, &r);
    tap_ok(t, ended(&r, -SIGTERM), "death by SIGTERM in wait_status");
    reply_free(&r);
    run_simple(c, ARGV("no-such-program-runq"), NULL, &r);
    tap_ok(t,
           clean(&r) && num(&r, BOX_RESULT_EXEC_ERRNO) == ENOENT && num(&r, BOX_RESULT_EXITED) == 0,
           "a missing program: exec_errno ENOENT, exited 0");
    reply_free(&r);
    rec_file(&extra, "data.txt", 0, "x", 1);
    run_simple(c, ARGV("./data.txt"), &extra, &r);
    tap_ok(t, clean(&r) && num(&r, BOX_RESULT_EXEC_ERRNO) == EACCES,
           "a file without the exec bit: exec_errno EACCES");
    reply_free(&r);
    free(extra.p);
    fresh_dir(c);
    {
        struct buf in = {0};
        rec_str(&in, BOX_IN_KEY, KEY);
        rec_str(&in, BOX_IN_ARG, "sh");
        rec_str(&in, BOX_IN_ENV, "PATH=/nonexistent");
        rec(&in, BOX_IN_GO, NULL, 0);
        run(c, &in, &r);
        free(in.p);
    }
    tap_ok(t, clean(&r) && num(&r, BOX_RESULT_EXEC_ERRNO) == ENOENT,
           "argv[0] is searched in the program's PATH, not runq-box's");
    reply_free(&r);
    extra = (struct buf){0};
    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_OPEN_FILES "=999999999999");
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r) && strstr(r.result, "resource limits"),
           "a child that fails before exec (setrlimit) is an internal error, not exec_errno");
    reply_free(&r);
    free(extra.p);
}

static void test_limits(struct tap *t, struct ctx *c)
{
    struct buf extra = {0};
    struct reply r;

    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_OUTPUT_BYTES "=100000");
    run_simple(c, ARGV("yes"), &extra, &r);
    tap_ok(t,
           ended(&r, -SIGKILL) && r.out.len == 100000 && has(&r, BOX_RESULT_KILLED_FOR, "output") &&
               has(&r, BOX_RESULT_STDOUT_TRUNCATED, "1") &&
               has(&r, BOX_RESULT_STDERR_TRUNCATED, "0") && r.ms < 10000,
           "output flood (yes): exactly output_bytes forwarded, truncated, tree killed (%lld ms)",
           r.ms);
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "echo out; yes >&2"), &extra, &r);
    tap_ok(t,
           ended(&r, -SIGKILL) && r.err.len == 100000 && buf_is(&r.out, "out\n") &&
               has(&r, BOX_RESULT_STDERR_TRUNCATED, "1") &&
               has(&r, BOX_RESULT_STDOUT_TRUNCATED, "0"),
           "the same on stderr, stdout untouched");
    reply_free(&r);
    extra.len = 0;
    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_WALL_MS "=300");
    run_simple(c, ARGV("sleep", "100"), &extra, &r);
    tap_ok(t,
           ended(&r, -SIGKILL) && has(&r, BOX_RESULT_KILLED_FOR, "wall") && r.ms >= 300 &&
               r.ms < 5000,
           "wall_ms 300: a sleeping program is killed at its deadline, killed_for wall (%lld ms)",
           r.ms);
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "sleep 0.1"), &extra, &r);
    tap_ok(t, ended(&r, 0) && has(&r, BOX_RESULT_KILLED_FOR, "none"),
           "one that ends before its wall_ms: killed_for none");
    reply_free(&r);
    extra.len = 0;
    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_CPU_MS "=300");
    run_simple(c, ARGV("sh", "-c", "while :; do :; done"), &extra, &r);
    tap_ok(t,
           (ended(&r, -SIGXCPU) || ended(&r, -SIGKILL)) && has(&r, BOX_RESULT_KILLED_FOR, "none") &&
               num(&r, BOX_RESULT_CPU_US) >= 300000 && r.ms < 15000,
           "cpu_ms 300 without cgroups: RLIMIT_CPU ends a busy loop (cpu_us %lld, %lld ms)",
           num(&r, BOX_RESULT_CPU_US), r.ms);
    reply_free(&r);
    free(extra.p);
}

static void test_tree(struct tap *t, struct ctx *c)
{
    struct reply r;

    run_simple(c, ARGV("sh", "-c", "sleep 100 & setsid sleep 100 & echo started"), NULL, &r);
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "started\n") && r.ms < 5000,
           "background children (one in its own session) holding stdout die with the program "
           "(%lld ms)",
           r.ms);
    reply_free(&r);
    run_simple(c, ARGV("sh", "-c", "( sh -c 'sleep 0.2; kill -SYS $$' & ); sleep 1"), NULL, &r);
    tap_ok(t, ended(&r, 0) && has(&r, BOX_RESULT_ORPHAN_SIGSYS, "1"),
           "an orphan that dies of SIGSYS is reaped by runq-box as init: orphan_sigsys 1");
    reply_free(&r);
    run_simple(c, ARGV("true"), NULL, &r);
    tap_ok(t, ended(&r, 0) && has(&r, BOX_RESULT_ORPHAN_SIGSYS, "0"), "and 0 otherwise");
    reply_free(&r);
    c->not_pid1 = 1;
    run_simple(c, ARGV("sh", "-c", "sleep 100 & echo hi"), NULL, &r);
    c->not_pid1 = 0;
    tap_ok(t, ended(&r, 0) && buf_is(&r.out, "hi\n") && r.ms < 5000,
           "not PID 1: the program's process group dies with it, and nothing else does "
           "(the canary beside it lives)");
    reply_free(&r);
}

/* The file entry i of the reply is (type, name, text). */
static int file_is(const struct reply *r, int i, int type, const char *name, const char *text)
{
    return i < r->nfiles && r->files[i].type == type && strcmp(r->files[i].name, name) == 0 &&
           buf_is(&r->files[i].data, text);
}

static void test_collect(struct tap *t, struct ctx *c)
{
    static const char *const names[] = {"out.bin",   "link", "b",       "fifo",      "d",
                                        "dl/passwd", "big",  "nothere", "sub/ok.txt"};
    struct buf extra = {0};
    struct reply r;
    size_t i;

    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_COLLECT_BYTES "=8");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        rec_str(&extra, BOX_IN_COLLECT, names[i]);
    run_simple(c,
               ARGV("sh", "-c",
                    "printf 'data\\000x' > out.bin; ln -s /etc/passwd link; echo h > a; "
                    "ln a b; mkfifo fifo; mkdir d sub; ln -s /etc dl; echo 123456789 > big; "
                    "echo ok > sub/ok.txt"),
               &extra, &r);
    tap_ok(t, ended(&r, 0) && r.nfiles == 9, "one FILE or FILE_ERROR per COLLECT (%d)", r.nfiles);
    tap_ok(t,
           r.nfiles > 0 && r.files[0].type == BOX_OUT_FILE && r.files[0].data.len == 6 &&
               memcmp(r.files[0].data.p, "data\0x", 6) == 0 &&
               file_is(&r, 8, BOX_OUT_FILE, "sub/ok.txt", "ok\n"),
           "a produced file comes back byte for byte, in COLLECT order");
    tap_ok(t,
           file_is(&r, 1, BOX_OUT_FILE_ERROR, "link", "symbolic link") &&
               file_is(&r, 5, BOX_OUT_FILE_ERROR, "dl/passwd", "symbolic link"),
           "a symlink to /etc/passwd, and a path through a symlinked directory, are refused");
    tap_ok(t, file_is(&r, 2, BOX_OUT_FILE_ERROR, "b", "hard-linked"), "a hard link is refused");
    tap_ok(t,
           file_is(&r, 3, BOX_OUT_FILE_ERROR, "fifo", "not a regular file") &&
               file_is(&r, 4, BOX_OUT_FILE_ERROR, "d", "not a regular file") && r.ms < 5000,
           "a FIFO (without blocking) and a directory are not regular files");
    tap_ok(t,
           file_is(&r, 6, BOX_OUT_FILE_ERROR, "big", "too large") &&
               file_is(&r, 7, BOX_OUT_FILE_ERROR, "nothere", "missing"),
           "past collect_bytes: too large; absent: missing");
    reply_free(&r);
    free(extra.p);
}

/* Each input is refused with internal_error and runs nothing. */
static void test_refused(struct tap *t, struct ctx *c)
{
    char escaped[96], absolute[96], escape_name[96];
    struct buf extra = {0};
    struct reply r;
    int i, ok = 1;

    fresh_dir(c);
    snprintf(escaped, sizeof(escaped), "%s.escaped", c->dir);
    snprintf(escape_name, sizeof(escape_name), "../%s.escaped", strrchr(c->dir, '/') + 1);
    snprintf(absolute, sizeof(absolute), "%s.absolute", c->dir);
    rec_file(&extra, escape_name, 0, "x", 1);
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r) && access(escaped, F_OK) != 0, "FILE ../x: refused, nothing written");
    reply_free(&r);
    extra.len = 0;
    rec_file(&extra, absolute, 0, "x", 1);
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r) && access(absolute, F_OK) != 0, "FILE /absolute: refused");
    reply_free(&r);
    {
        static const char *const bad[] = {"../x", "/etc/passwd", "a//b", "a/", "./a", "a/../b", ""};
        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            extra.len = 0;
            rec_str(&extra, BOX_IN_COLLECT, bad[i]);
            run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
            if (!refused(c, &r))
                tap_diag("COLLECT \"%s\" was not refused", bad[i]);
            ok &= refused(c, &r);
            reply_free(&r);
        }
    }
    tap_ok(t, ok, "COLLECT names ../x, /etc/passwd, a//b, a/, ./a, a/../b and empty: refused");
    extra.len = 0;
    rec_len(&extra, BOX_IN_STDIN, BOX_PAYLOAD_MAX + 1);
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r), "a record over BOX_PAYLOAD_MAX: refused before reading it");
    reply_free(&r);
    {
        static const char *const bad[] = {"cpu_ms=12x",   "cpu_ms=-1",
                                          "cpu_ms=",      "memory_bytes=5",
                                          "output_bytes", "cpu_ms=99999999999999999999"};
        ok = 1;
        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            extra.len = 0;
            rec_str(&extra, BOX_IN_LIMIT, bad[i]);
            run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
            ok &= refused(c, &r);
            reply_free(&r);
        }
        tap_ok(t, ok, "unknown LIMIT names and bad numbers: refused");
    }
    extra.len = 0;
    rec_str(&extra, BOX_IN_ENV, "NOEQUALS");
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r), "an ENV without '=': refused");
    reply_free(&r);
    extra.len = 0;
    rec(&extra, 'z', "?", 1);
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r), "an unknown record type: refused");
    reply_free(&r);
    extra.len = 0;
    rec_str(&extra, BOX_IN_LIMIT, BOX_LIMIT_CPU_MS "=1000");
    rec_str(&extra, BOX_IN_ENV, "LATE=1"); /* an ENV after a LIMIT */
    run_simple(c, ARGV("sh", "-c", "touch ran"), &extra, &r);
    tap_ok(t, refused(c, &r), "records out of the order of box_proto.h: refused");
    reply_free(&r);
    free(extra.p);
}

/* Bad input before or without GO. */
static void test_framing(struct tap *t, struct ctx *c)
{
    struct buf in = {0};
    struct reply r;

    fresh_dir(c);
    rec_str(&in, BOX_IN_ARG, "true");
    rec_str(&in, BOX_IN_KEY, KEY);
    rec(&in, BOX_IN_GO, NULL, 0);
    run(c, &in, &r);
    tap_ok(t, WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2 && !r.result,
           "a first record other than KEY: exit 2, no RESULT");
    reply_free(&r);
    in.len = 0;
    rec_str(&in, BOX_IN_KEY, "short");
    run(c, &in, &r);
    tap_ok(t, WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2 && !r.result,
           "a KEY under 16 bytes: exit 2, no RESULT");
    reply_free(&r);
    in.len = 0;
    rec_str(&in, BOX_IN_KEY, KEY);
    rec(&in, BOX_IN_GO, NULL, 0);
    run(c, &in, &r);
    tap_ok(t, refused(c, &r), "GO without ARG: internal_error with the key");
    reply_free(&r);
    in.len = 0;
    rec_str(&in, BOX_IN_KEY, KEY);
    rec_str(&in, BOX_IN_ARG, "true");
    run(c, &in, &r);
    tap_ok(t, refused(c, &r), "input ending before GO: internal_error with the key");
    reply_free(&r);
    free(in.p);
}

static void test_forge(struct tap *t, struct ctx *c)
{
    static const char fake_result[] = "key=forged\nexited=1\nwait_status=0\n";
    struct buf fake = {0}, extra = {0};
    struct reply r;

    rec(&fake, BOX_OUT_RESULT, fake_result, strlen(fake_result));
    rec_file(&extra, "fake", 0, fake.p, fake.len);
    run_simple(c, ARGV("sh", "-c", "cat fake; exit 7"), &extra, &r);
    tap_ok(t, ended(&r, 7) && r.out.len == fake.len && memcmp(r.out.p, fake.p, fake.len) == 0,
           "a program printing a RESULT record: its bytes arrive inside STDOUT, the one RESULT "
           "is runq-box's with the key");
    reply_free(&r);
    free(fake.p);
    free(extra.p);
}

int main(int argc, char **argv)
{
    /* Absolute: meson passes it relative to the build directory, and every run chdirs. */
    char *exe = argc == 2 ? realpath(argv[1], NULL) : NULL;
    struct tap t = {0};
    struct ctx c = {0};

    signal(SIGPIPE, SIG_IGN);
    if (!tap_ok(&t, exe && access(exe, X_OK) == 0, "runq-box given: %s", exe ? exe : "(none)"))
        return tap_done(&t);
    c.exe = exe;
    test_hello(&t, &c);
    test_all_limits(&t, &c);
    test_stdin(&t, &c);
    test_files(&t, &c);
    test_status(&t, &c);
    test_limits(&t, &c);
    test_tree(&t, &c);
    test_collect(&t, &c);
    test_refused(&t, &c);
    test_framing(&t, &c);
    test_forge(&t, &c);
    if (c.dir[0])
        nftw(c.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(exe);
    return tap_done(&t);
}
