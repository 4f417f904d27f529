/* SPDX-License-Identifier: MIT */
/* runq-box: PID 1 of every job container of the Docker backend; the protocol is box_proto.h.
 * Usage: runq-box [--cgroup-stats]
 * Does: reads one job from stdin (files into /box, the program's stdin into a sealed memfd),
 * runs the program as its child under rlimits, forwards its output as STDOUT/STDERR records
 * within output_bytes, enforces wall_ms and cpu_ms (the container's cgroup with
 * --cgroup-stats, else RLIMIT_CPU alone), kills and reaps the whole tree, answers the
 * COLLECTs, and sends one RESULT.
 * Must not trust anything the program can touch. It runs as the same uid: it could signal
 * runq-box were runq-box not PID 1 (init gets no signal it has no handler for), and while it
 * runs it writes anywhere in /box and /tmp (links or FIFOs where collected files should be).
 * So runq-box is not dumpable (no ptrace, no /proc/1/fd, no /proc/1/mem); only runq-box writes
 * its stdout, the program's bytes going inside STDOUT/STDERR records (no forged RESULT); and
 * /box is read back only once the tree is dead, through openat2 beneath the /box fd with no
 * links followed, and each file through its fd only.
 * Must not kill(-1) unless it is PID 1 of its pid namespace (as root on a host that would be
 * every process of the machine; there it kills the program's process group only), nor read
 * /sys/fs/cgroup without --cgroup-stats (on a host those counters are the host's).
 * Built alone and statically from this file and box_proto.h: libc only, no global state. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box_proto.h"

#define NAME_MAX_BYTES 4096 /* FILE and COLLECT names */
#define LIST_MAX 4096       /* ARG, ENV and COLLECT records, each */
#define CHUNK (64u << 10)   /* one read of input, of program output, of a collected file */
#define TICK_MS 10
#define GRACE_MS 2000       /* not PID 1: how long escapees of the group may hold the pipes */
#define REPORT_FD 3         /* the exec report pipe in the child, close-on-exec */

enum limit { L_CPU, L_WALL, L_OUTPUT, L_FILE, L_OPEN_FILES, L_STACK, L_AS, L_COLLECT, L_COUNT };
static const char *const limit_names[L_COUNT] = {
    BOX_LIMIT_CPU_MS,     BOX_LIMIT_WALL_MS,     BOX_LIMIT_OUTPUT_BYTES,  BOX_LIMIT_FILE_BYTES,
    BOX_LIMIT_OPEN_FILES, BOX_LIMIT_STACK_BYTES, BOX_LIMIT_ADDRESS_SPACE, BOX_LIMIT_COLLECT_BYTES,
};
/* When a LIMIT is absent. 0 is none for cpu_ms, wall_ms and address_space, given or not. */
static const uint64_t limit_defaults[L_COUNT] = {
    0, 0, 1 << 20, 16 << 20, 64, 64 << 20, 0, 64 << 20,
};

enum killed_for { KILLED_NONE, KILLED_CPU, KILLED_WALL, KILLED_OUTPUT };
static const char *const killed_names[] = {"none", "cpu", "wall", "output"};

/* What the child writes on the exec pipe when it fails ({stage, errno}); EOF means exec'd. */
enum stage { STAGE_EXEC, STAGE_SIGNALS, STAGE_STDIO, STAGE_RLIMITS, STAGE_COUNT };
static const char *const stage_names[STAGE_COUNT] = {
    "exec", "resetting signals", "setting up the standard streams", "setting resource limits",
};

struct list {
    char *v[LIST_MAX + 1]; /* NULL-terminated */
    size_t n;
};

struct job {
    char key[65];
    struct list argv, envp, collect;
    uint64_t limit[L_COUNT];
    unsigned limit_seen; /* a bit per enum limit */
    int stdin_fd;        /* the memfd while STDINs arrive; after GO sealed, or /dev/null */
    char why[256];       /* internal_error: fixed texts, numbers, strerror; no input bytes */
};

enum { CG_CPU, CG_PEAK, CG_OOM };
struct cgroup {
    int fd[3];  /* each -1 when absent, and all without --cgroup-stats */
    int cpu_ns; /* fd[CG_CPU] is v1 cpuacct.usage (ns) rather than v2 cpu.stat (usage_usec) */
    uint64_t cpu_base, oom_base;
};

struct run {
    pid_t pid;  /* the program, leader of its own process group */
    int pid1;   /* runq-box is PID 1 of its pid namespace: kill(-1) is the tree */
    int fd[2];  /* read ends of the program's stdout and stderr; -1 at EOF */
    uint64_t sent[2];
    int reaped, group_gone, out_failed; /* out_failed: the worker is gone, write no more */
    long long started_at, reaped_at;
    /* For the RESULT. */
    int exited, wait_status, exec_errno, orphan_sigsys, truncated[2];
    enum killed_for killed_for;
    uint64_t cpu_us, memory_kb, oom_kills;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    ssize_t w;

    while (n) {
        w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

__attribute__((format(printf, 2, 3))) static int fail(struct job *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(j->why, sizeof(j->why), fmt, ap);
    va_end(ap);
    return -1;
}

/*** Input: records from fd 0, with blocking reads (nothing else happens before GO) ***/

/* Reads n bytes from fd 0; returns how many came before EOF or an error. */
static size_t read_in(void *dst, size_t n)
{
    size_t got = 0;
    ssize_t k;

    while (got < n) {
        k = read(0, (char *)dst + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

/* Copies n payload bytes to fd through a buffer: a STDIN or FILE may be 64 MiB. */
static int copy_in(struct job *j, int fd, size_t n, const char *what)
{
    char buf[CHUNK];
    size_t k;

    for (; n; n -= k) {
        k = n < sizeof(buf) ? n : sizeof(buf);
        if (read_in(buf, k) != k)
            return fail(j, "input ended inside a %s record", what);
        if (write_all(fd, buf, k) < 0)
            return fail(j, "%s: %s", what, strerror(errno));
    }
    return 0;
}

/* 0: a header was read; 1: EOF before it; -1: EOF inside it. */
static int read_header(int *type, uint32_t *len)
{
    unsigned char h[BOX_HEADER_SIZE];
    size_t got = read_in(h, sizeof(h));

    if (got != sizeof(h))
        return got ? -1 : 1;
    *type = h[0];
    *len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    return 0;
}

/* The first record. NULL, or why the input is refused (no RESULT can be trusted without it). */
static const char *read_key(struct job *j)
{
    uint32_t len, i;
    int type;

    if (read_header(&type, &len) != 0 || type != BOX_IN_KEY)
        return "the first record is not KEY";
    if (len < 16 || len > 64 || read_in(j->key, len) != len)
        return "KEY must have 16 to 64 bytes";
    for (i = 0; i < len; i++)
        if ((unsigned char)j->key[i] <= ' ' || (unsigned char)j->key[i] > '~')
            return "KEY must be printable ASCII without spaces (it goes on a RESULT line)";
    return NULL;
}

/* A payload as a C string: a NUL inside would silently cut an argument, variable or name. */
static char *read_text(struct job *j, uint32_t len)
{
    char *s = malloc((size_t)len + 1);

    if (!s || read_in(s, len) != len || memchr(s, '\0', len)) {
        fail(j, s ? "a text record cut short or holding a NUL byte" : "out of memory");
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

/* Relative, at most NAME_MAX_BYTES, no empty, "." or ".." component (so no "a//b", "a/"). */
static int name_valid(const char *name)
{
    const char *p = name;
    size_t n;

    if (strlen(name) > NAME_MAX_BYTES)
        return 0;
    for (;; p += n + 1) {
        n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!p[n])
            return 1;
    }
}

/* ARG, ENV or COLLECT. */
static int add_text(struct job *j, int type, uint32_t len)
{
    struct list *l = type == BOX_IN_ARG ? &j->argv : type == BOX_IN_ENV ? &j->envp : &j->collect;
    char *s;

    if (l->n == LIST_MAX)
        return fail(j, "more than %d '%c' records", LIST_MAX, type);
    if (!(s = read_text(j, len)))
        return -1;
    l->v[l->n++] = s; /* freed with the job, valid or not */
    if (type == BOX_IN_ENV && (s[0] == '=' || !strchr(s, '=')))
        return fail(j, "an ENV that is not NAME=value");
    if (type == BOX_IN_COLLECT && !name_valid(s))
        return fail(j, "an invalid COLLECT name");
    return 0;
}

/* "name=decimal", a name of box_proto.h, each at most once. */
static int add_limit(struct job *j, uint32_t len)
{
    char *s = read_text(j, len), *num = s ? strchr(s, '=') : NULL;
    int i = L_COUNT;

    if (!s)
        return -1;
    if (num) {
        *num++ = '\0';
        for (i = 0; i < L_COUNT && strcmp(s, limit_names[i]) != 0; i++)
            ;
    }
    /* At most 15 digits: cpu_ms * 1000 and the rlimit arithmetic cannot overflow. */
    if (i == L_COUNT || (j->limit_seen & 1u << i) || !*num || strlen(num) > 15 ||
        strspn(num, "0123456789") != strlen(num)) {
        free(s);
        return fail(j, "a LIMIT with an unknown name, a bad number, or given twice");
    }
    j->limit[i] = strtoull(num, NULL, 10);
    j->limit_seen |= 1u << i;
    free(s);
    return 0;
}

/* Opens name's parent directory beneath box, creating what is missing (0755). Follows no
 * link: nothing of the program has run yet, but /box comes from the image. */
static int open_parent(int box, char *name, char **base)
{
    char *p = name, *slash;
    int dir = fcntl(box, F_DUPFD_CLOEXEC, 3), next, e;

    for (; dir >= 0 && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        *slash = '\0';
        next = mkdirat(dir, p, 0755) < 0 && errno != EEXIST
                   ? -1
                   : openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        *slash = '/';
        e = errno;
        close(dir);
        errno = e;
        dir = next;
    }
    *base = p;
    return dir;
}

/* FILE: u8 executable, the name, NUL, the bytes (these streamed to the file, never held). */
static int put_file(int box, struct job *j, uint32_t len)
{
    char head[1 + NAME_MAX_BYTES + 1], *name = head + 1, *nul, *base;
    size_t k = len < sizeof(head) ? len : sizeof(head);
    int dir, fd, r;

    if (len < 2 || read_in(head, k) != k)
        return fail(j, "a FILE record cut short");
    nul = memchr(name, '\0', k - 1);
    if ((unsigned char)head[0] > 1 || !nul || !name_valid(name))
        return fail(j, "a FILE with a bad executable byte or an invalid name");
    dir = open_parent(box, name, &base);
    fd = dir < 0 ? -1
                 : openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          head[0] ? 0755 : 0644);
    r = errno;
    if (dir >= 0)
        close(dir);
    if (fd < 0)
        return fail(j, "FILE: cannot create it: %s", strerror(r));
    /* head holds the first bytes of the content already, after the name's NUL. */
    r = write_all(fd, nul + 1, (size_t)(head + k - nul - 1)) < 0
            ? fail(j, "FILE: %s", strerror(errno))
            : copy_in(j, fd, len - k, "FILE");
    close(fd);
    return r;
}

static int add_stdin(struct job *j, uint32_t len)
{
    if (j->stdin_fd < 0 &&
        (j->stdin_fd = memfd_create("stdin", MFD_ALLOW_SEALING | MFD_CLOEXEC)) < 0)
        return fail(j, "memfd_create: %s", strerror(errno));
    return copy_in(j, j->stdin_fd, len, "STDIN");
}

static int finish_input(struct job *j, uint32_t len)
{
    if (len || !j->argv.n)
        return fail(j, len ? "GO with a payload" : "no ARG record");
    if (j->stdin_fd < 0) {
        j->stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return j->stdin_fd < 0 ? fail(j, "/dev/null: %s", strerror(errno)) : 0;
    }
    /* The program shares the open file: sealed, it cannot change its own input. */
    if (fcntl(j->stdin_fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
        lseek(j->stdin_fd, 0, SEEK_SET) < 0)
        return fail(j, "sealing stdin: %s", strerror(errno));
    return 0;
}

/* Everything after KEY through GO, in the order box_proto.h fixes: 0, or -1 with j->why. */
static int read_records(int box, struct job *j)
{
    static const char order[] = {BOX_IN_ARG,     BOX_IN_ENV,   BOX_IN_LIMIT, BOX_IN_FILE,
                                 BOX_IN_COLLECT, BOX_IN_STDIN, BOX_IN_GO};
    const char *at = order;
    uint32_t len;
    int type, r;

    for (;;) {
        if ((r = read_header(&type, &len)) != 0)
            return fail(j, r > 0 ? "input ended before GO" : "input ended inside a header");
        /* Only the current type or a later one may come. */
        at = type ? memchr(at, type, sizeof(order) - (size_t)(at - order)) : NULL;
        if (!at)
            return fail(j, "a record of type 0x%02x, unknown or out of order", type);
        if (len > BOX_PAYLOAD_MAX)
            return fail(j, "a record of %" PRIu32 " bytes, over BOX_PAYLOAD_MAX", len);
        switch (type) {
        case BOX_IN_LIMIT: r = add_limit(j, len); break;
        case BOX_IN_FILE: r = put_file(box, j, len); break;
        case BOX_IN_STDIN: r = add_stdin(j, len); break;
        case BOX_IN_GO: return finish_input(j, len);
        default: r = add_text(j, type, len); break;
        }
        if (r < 0)
            return -1;
    }
}

/*** The container's cgroup (--cgroup-stats only) ***/

/* The number after "field " at a line start, or the first number when field is NULL. pread:
 * the fd, opened before the run, is read again from offset 0 on every tick. */
static int cg_read(int fd, const char *field, uint64_t *v)
{
    char buf[4096], *p = buf;
    size_t fl = field ? strlen(field) : 0;
    ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    while (field && !(strncmp(p, field, fl) == 0 && p[fl] == ' '))
        if (!(p = strchr(p, '\n')) || !*++p)
            return -1;
    p += field ? fl + 1 : 0;
    if (*p < '0' || *p > '9')
        return -1;
    *v = strtoull(p, NULL, 10);
    return 0;
}

static int cg_cpu_us(const struct cgroup *cg, uint64_t *us)
{
    if (cg_read(cg->fd[CG_CPU], cg->cpu_ns ? NULL : "usage_usec", us) < 0)
        return -1;
    *us /= cg->cpu_ns ? 1000 : 1;
    return 0;
}

/* v2 first, then v1. Each is optional: what is missing falls back to rusage (OOM kills: 0). */
static void cgroup_open(struct cgroup *cg)
{
    static const char *const paths[3][4] = {
        {"/sys/fs/cgroup/cpu.stat", "/sys/fs/cgroup/cpuacct/cpuacct.usage",
         "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", NULL},
        {"/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes", NULL},
        {"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control", NULL},
    };
    int i, k;

    for (i = 0; i < 3; i++) {
        for (k = 0; paths[i][k] && cg->fd[i] < 0; k++)
            cg->fd[i] = open(paths[i][k], O_RDONLY | O_CLOEXEC);
        if (i == CG_CPU)
            cg->cpu_ns = k > 1;
    }
    cg_cpu_us(cg, &cg->cpu_base); /* left 0 when unreadable */
    cg_read(cg->fd[CG_OOM], "oom_kill", &cg->oom_base);
}

/*** The program ***/

_Noreturn static void child_fail(int fd, int stage)
{
    int m[2] = {stage, errno};

    /* 8 bytes < PIPE_BUF: one atomic write. */
    while (write(fd, m, sizeof(m)) < 0 && errno == EINTR)
        ;
    _exit(127);
}

static int set_limit(int resource, uint64_t soft, uint64_t hard)
{
    struct rlimit rl = {soft, hard};

    return setrlimit(resource, &rl);
}

static int apply_limits(const uint64_t *l)
{
    uint64_t cpu_s = (l[L_CPU] + 999) / 1000 + 1;

    if (set_limit(RLIMIT_CORE, 0, 0) < 0 || set_limit(RLIMIT_FSIZE, l[L_FILE], l[L_FILE]) < 0 ||
        set_limit(RLIMIT_NOFILE, l[L_OPEN_FILES], l[L_OPEN_FILES]) < 0 ||
        set_limit(RLIMIT_STACK, l[L_STACK], l[L_STACK]) < 0 ||
        (l[L_AS] && set_limit(RLIMIT_AS, l[L_AS], l[L_AS]) < 0))
        return -1;
    /* Per process, SIGXCPU at soft and SIGKILL at hard: with --cgroup-stats the backstop of
     * the tree's limit, without it the only CPU limit. */
    return l[L_CPU] ? set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) : 0;
}

/* execvpe() would search runq-box's own PATH; the program's environment is what counts.
 * Returns only on failure, errno set (EACCES wins over ENOENT, as in execvp). */
static void exec_in_path(const char *file, char *const *argv, char *const *envp)
{
    const char *path = "/usr/local/bin:/usr/bin:/bin", *p, *colon;
    char full[PATH_MAX];
    int seen_eacces = 0;
    size_t i, n;

    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return;
    }
    for (i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path = envp[i] + 5;
    for (p = path; *file && *p; p = *colon ? colon + 1 : colon) {
        colon = strchrnul(p, ':');
        n = (size_t)(colon - p);
        if (n == 0 || n + strlen(file) + 2 > sizeof(full))
            continue;
        memcpy(full, p, n);
        full[n] = '/';
        strcpy(full + n + 1, file);
        execve(full, argv, envp);
        if (errno == EACCES)
            seen_eacces = 1;
        else if (errno != ENOENT && errno != ENOTDIR)
            return;
    }
    errno = seen_eacces ? EACCES : ENOENT;
}

_Noreturn static void child_main(const struct job *j, int out, int err, int report)
{
    struct sigaction dfl;
    sigset_t none;
    int s;

    /* Ignored signals survive exec (runq-box ignores SIGPIPE; Docker may pass others on). */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL); /* fails, harmlessly, for SIGKILL, SIGSTOP and glibc's own */
    sigemptyset(&none);
    /* Its own process group: outside a pid namespace that is the tree runq-box kills. */
    if (setpgid(0, 0) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        child_fail(report, STAGE_SIGNALS);
    if (dup2(j->stdin_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        (report != REPORT_FD && dup3(report, REPORT_FD, O_CLOEXEC) < 0))
        child_fail(report, STAGE_STDIO);
    if (close_range(REPORT_FD + 1, ~0U, 0) < 0)
        child_fail(REPORT_FD, STAGE_STDIO);
    if (apply_limits(j->limit) < 0)
        child_fail(REPORT_FD, STAGE_RLIMITS);
    umask(022);
    exec_in_path(j->argv.v[0], j->argv.v, j->envp.v);
    child_fail(REPORT_FD, STAGE_EXEC);
}

/* Forks the program and waits for its exec. 0 when it runs, or when its exec failed
 * (exec_errno, reaped already); -1 with j->why when runq-box failed. */
static int start_program(struct job *j, struct run *r)
{
    int p[6] = {-1, -1, -1, -1, -1, -1}; /* stdout, stderr, exec report: read, write ends */
    int i, m[2], status;
    ssize_t n;

    for (i = 0; i < 6 && pipe2(p + i, O_CLOEXEC) == 0; i += 2)
        ;
    r->pid = i == 6 ? fork() : -1;
    if (r->pid == 0)
        child_main(j, p[1], p[3], p[5]);
    m[1] = errno;
    for (i = 1; i < 6; i += 2)
        if (p[i] >= 0)
            close(p[i]);
    r->fd[0] = p[0];
    r->fd[1] = p[2];
    if (r->pid < 0) {
        if (p[4] >= 0)
            close(p[4]);
        return fail(j, "pipe2 or fork: %s", strerror(m[1]));
    }
    while ((n = read(p[4], m, sizeof(m))) < 0 && errno == EINTR)
        ;
    close(p[4]);
    if (n == 0)
        return 0; /* EOF: a successful exec closed the report pipe */
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->reaped = 1;
    r->reaped_at = now_ms();
    if (n == sizeof(m) && m[0] == STAGE_EXEC) {
        r->exec_errno = m[1];
        return 0;
    }
    if (n != sizeof(m) || m[0] < 0 || m[0] >= STAGE_COUNT)
        return fail(j, "the child died before exec");
    return fail(j, "%s: %s", stage_names[m[0]], strerror(m[1]));
}

/*** Supervision ***/

/* Kills what is left of the tree. Never kill(-1) but as init of a pid namespace: as root
 * elsewhere it is every process of the machine. The program's group is killed until it is
 * found empty, and never after: an empty group's number may be given to someone else. */
static void kill_tree(struct run *r)
{
    if (r->pid1)
        kill(-1, SIGKILL); /* every process of the namespace but init itself */
    else if (r->pid > 1 && !r->group_gone && kill(-r->pid, SIGKILL) < 0 && errno == ESRCH)
        r->group_gone = 1;
}

/* Reaps what has died; final (as init only): kills and reaps until no process is left. Not
 * init, the program is runq-box's only child. As init every orphan is ours: one that died
 * of SIGSYS (a seccomp kill in the image's runtime) is reported. */
static void reap(struct run *r, int final)
{
    int status;
    pid_t pid;

    for (;;) {
        if (final && !r->pid1)
            return;
        if (final)
            kill(-1, SIGKILL);
        pid = waitpid(-1, &status, final ? 0 : WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return; /* none has died yet, or none is left (ECHILD) */
        if (pid == r->pid) {
            r->reaped = r->exited = 1;
            r->reaped_at = now_ms();
            r->wait_status = status;
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            r->orphan_sigsys = 1;
        }
    }
}

static void out_write(struct run *r, const void *p, size_t n)
{
    if (!r->out_failed && write_all(1, p, n) < 0)
        r->out_failed = 1;
}

/* A record's header; its payload follows in out_write()s, with nothing in between. */
static void out_header(struct run *r, int type, size_t len)
{
    unsigned char h[BOX_HEADER_SIZE] = {(unsigned char)type, (unsigned char)(len >> 24),
                                        (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                                        (unsigned char)len};

    out_write(r, h, sizeof(h));
}

/* Forwards what stream i has, within output_bytes; one byte past it and the tree dies. */
static void forward(struct run *r, const struct job *j, int i)
{
    char buf[CHUNK];
    uint64_t room = j->limit[L_OUTPUT] - r->sent[i];
    ssize_t n = read(r->fd[i], buf, sizeof(buf));

    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        close(r->fd[i]);
        r->fd[i] = -1;
        return;
    }
    if ((uint64_t)n > room) {
        r->truncated[i] = 1;
        r->killed_for = r->killed_for ? r->killed_for : KILLED_OUTPUT;
        n = (ssize_t)room;
    }
    if (n > 0) {
        out_header(r, i ? BOX_OUT_STDERR : BOX_OUT_STDOUT, (size_t)n);
        out_write(r, buf, (size_t)n);
    }
    r->sent[i] += (uint64_t)n;
}

/* wall_ms from the program's start, cpu_ms from the cgroup (both while the program lives:
 * a program that ended in time is not blamed for the moments its tree takes to die). */
static void check_time(struct run *r, const struct job *j, const struct cgroup *cg,
                       long long *next)
{
    long long now = now_ms();
    uint64_t us;

    if (r->reaped || r->killed_for != KILLED_NONE)
        return;
    if (j->limit[L_WALL] && now - r->started_at > (long long)j->limit[L_WALL])
        r->killed_for = KILLED_WALL;
    if (!j->limit[L_CPU] || cg->fd[CG_CPU] < 0 || now < *next)
        return;
    *next = now + TICK_MS;
    if (cg_cpu_us(cg, &us) == 0 && us > cg->cpu_base &&
        us - cg->cpu_base > j->limit[L_CPU] * 1000 && r->killed_for == KILLED_NONE)
        r->killed_for = KILLED_CPU;
}

/* Until the program is reaped and both pipes are at EOF: forward output, reap, watch the
 * clocks. Once the program is gone, a limit is passed or the worker is gone, the tree is killed
 * on every tick, so that what forked past one kill dies at the next. */
static void supervise(struct run *r, const struct job *j, const struct cgroup *cg)
{
    long long next_cpu = 0;
    int i;

    while (r->fd[0] >= 0 || r->fd[1] >= 0 || !r->reaped) {
        struct pollfd pfd[2] = {{r->fd[0], POLLIN, 0}, {r->fd[1], POLLIN, 0}};

        if (poll(pfd, 2, TICK_MS) > 0) /* an fd of -1 is ignored */
            for (i = 0; i < 2; i++)
                if (pfd[i].revents)
                    forward(r, j, i);
        reap(r, 0);
        check_time(r, j, cg, &next_cpu);
        if (r->reaped || r->killed_for != KILLED_NONE || r->out_failed)
            kill_tree(r);
        /* Not init: a process that left the group can be neither killed nor waited for. */
        if (!r->pid1 && r->reaped && now_ms() - r->reaped_at > GRACE_MS)
            break;
    }
}

static void finish_stats(struct run *r, const struct cgroup *cg)
{
    struct rusage ru;
    uint64_t v;

    /* Every descendant was waited for (as init, by runq-box itself), so all count here. */
    getrusage(RUSAGE_CHILDREN, &ru);
    r->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
    r->memory_kb = (uint64_t)ru.ru_maxrss;
    if (cg_cpu_us(cg, &v) == 0 && v >= cg->cpu_base)
        r->cpu_us = v - cg->cpu_base;
    if (cg_read(cg->fd[CG_PEAK], NULL, &v) == 0)
        r->memory_kb = v / 1024;
    if (cg_read(cg->fd[CG_OOM], "oom_kill", &v) == 0 && v >= cg->oom_base)
        r->oom_kills = v - cg->oom_base;
}

/*** After the run ***/

/* The tree is dead (as init: every process of the namespace), so nothing changes the file
 * while it is sent. Should it shrink anyway, the record cannot be completed: the stream is
 * broken off without a RESULT, which the worker takes as a failed run. */
static void send_file(struct run *r, int fd, const char *name, size_t size)
{
    char buf[CHUNK];
    ssize_t n;

    out_header(r, BOX_OUT_FILE, strlen(name) + 1 + size);
    out_write(r, name, strlen(name) + 1);
    for (; size && !r->out_failed; size -= (size_t)n) {
        while ((n = read(fd, buf, size < sizeof(buf) ? size : sizeof(buf))) < 0 && errno == EINTR)
            ;
        if (n <= 0) {
            fprintf(stderr, "runq-box: a collected file shrank while it was sent\n");
            r->out_failed = 1;
            return;
        }
        out_write(r, buf, (size_t)n);
    }
}

/* The texts are the built-in sandbox's (worker/sandbox/sbx_box.c). */
static void collect_one(struct run *r, int box, const char *name, uint64_t max)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, /* FIFOs: no wait */
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   RESOLVE_NO_XDEV,
    };
    int fd = (int)syscall(SYS_openat2, box, name, &how, sizeof(how));
    const char *why = NULL;
    struct stat st;

    if (fd < 0)
        why = errno == ENOENT ? "missing" : errno == ELOOP ? "symbolic link" : "cannot open";
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_nlink != 1)
        why = "hard-linked"; /* its other name may be anywhere, e.g. a file of the image */
    else if ((uint64_t)st.st_size > max ||
             (uint64_t)st.st_size + strlen(name) + 1 > BOX_PAYLOAD_MAX)
        why = "too large";
    if (why) {
        out_header(r, BOX_OUT_FILE_ERROR, strlen(name) + 1 + strlen(why));
        out_write(r, name, strlen(name) + 1);
        out_write(r, why, strlen(why));
    } else {
        send_file(r, fd, name, (size_t)st.st_size);
    }
    if (fd >= 0)
        close(fd);
}

static void send_result(struct run *r, const struct job *j)
{
    char buf[1024];
    int n;

    n = snprintf(buf, sizeof(buf),
                 BOX_RESULT_KEY "=%s\n" BOX_RESULT_EXITED "=%d\n" BOX_RESULT_WAIT_STATUS "=%d\n"
                 BOX_RESULT_KILLED_FOR "=%s\n" BOX_RESULT_CPU_US "=%" PRIu64 "\n"
                 BOX_RESULT_MEMORY_KB "=%" PRIu64 "\n" BOX_RESULT_OOM_KILLS "=%" PRIu64 "\n"
                 BOX_RESULT_ORPHAN_SIGSYS "=%d\n" BOX_RESULT_EXEC_ERRNO "=%d\n"
                 BOX_RESULT_STDOUT_TRUNCATED "=%d\n" BOX_RESULT_STDERR_TRUNCATED "=%d\n",
                 j->key, r->exited, r->wait_status, killed_names[r->killed_for], r->cpu_us,
                 r->memory_kb, r->oom_kills, r->orphan_sigsys, r->exec_errno, r->truncated[0],
                 r->truncated[1]);
    if (j->why[0])
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, BOX_RESULT_INTERNAL_ERROR "=%s\n", j->why);
    out_header(r, BOX_OUT_RESULT, (size_t)n);
    out_write(r, buf, (size_t)n);
}

static void run_job(struct run *r, struct job *j, int box, int cgroup_stats)
{
    struct cgroup cg = {{-1, -1, -1}, 0, 0, 0};
    size_t i;

    if (cgroup_stats)
        cgroup_open(&cg); /* the baselines, just before the fork */
    if (start_program(j, r) == 0) {
        r->started_at = now_ms();
        supervise(r, j, &cg);
        reap(r, 1);
        finish_stats(r, &cg);
        for (i = 0; i < j->collect.n; i++)
            collect_one(r, box, j->collect.v[i], j->limit[L_COLLECT]);
    }
    for (i = 0; i < 2; i++)
        if (r->fd[i] >= 0)
            close(r->fd[i]);
    for (i = 0; i < 3; i++)
        if (cg.fd[i] >= 0)
            close(cg.fd[i]);
}

/* Returns the /box fd, or -1 with j->why set (reported once the KEY is known). */
static int setup(struct job *j)
{
    int fd;

    /* Not dumpable: the program (same uid) can neither ptrace runq-box nor open its
     * /proc/1/fd/ or /proc/1/mem. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return fail(j, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN); /* the worker gone is a failed write, not a death */
    umask(0);                 /* FILE modes are exactly 0755 or 0644 */
    if ((fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        fail(j, "cannot open the working directory: %s", strerror(errno));
    return fd;
}

int main(int argc, char **argv)
{
    struct job j = {.stdin_fd = -1}; /* 100 KiB, most of it the lists */
    struct run r = {.fd = {-1, -1}};
    int box, cgroup_stats = argc == 2 && strcmp(argv[1], "--cgroup-stats") == 0;
    const char *bad;
    size_t i;

    if (argc > 2 || (argc == 2 && !cgroup_stats)) {
        fprintf(stderr, "usage: runq-box [--cgroup-stats]\n");
        return 2;
    }
    memcpy(j.limit, limit_defaults, sizeof(j.limit));
    r.pid1 = getpid() == 1;
    box = setup(&j);
    if ((bad = read_key(&j)) != NULL) {
        fprintf(stderr, "runq-box: %s\n", bad);
        return 2;
    }
    /* Nothing runs unless the whole input is valid. */
    if (box >= 0 && read_records(box, &j) == 0)
        run_job(&r, &j, box, cgroup_stats);
    send_result(&r, &j);
    for (i = 0; i < LIST_MAX; i++) {
        free(j.argv.v[i]);
        free(j.envp.v[i]);
        free(j.collect.v[i]);
    }
    if (j.stdin_fd >= 0)
        close(j.stdin_fd);
    if (box >= 0)
        close(box);
    return r.out_failed;
}
