/* SPDX-License-Identifier: MIT */
/* sbx_run: one run in a warm slot, from the launcher's side: prepare the cgroup and /box,
 * have the zygote start the program, then supervise (streams, wall clock, CPU time) until the
 * whole tree is gone, and build the result. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sbx_box.h"
#include "sbx_child.h"
#include "sbx_io.h"
#include "sbx_slot.h"
#include "sbx_zygote.h"


/* How long to wait for a killed tree to disappear before declaring the slot broken. */
#define REAP_GRACE_US 5000000ULL
#define CPU_POLL_MAX_MS 100
#define CPU_POLL_MIN_MS 5

struct stream {
    int number; /* 1 stdout, 2 stderr */
    int fd;
    struct sbx_buf *buf;
    uint64_t cap;
};

struct run {
    struct sbx_slot *slot;
    const struct sbx_run_spec *spec;
    struct sbx_result *res;
    struct sbx_observation obs;
    struct sbx_cg_usage base;
    struct stream out, err;
    int report_fd;
    int empty_at_exit; /* the group was verified empty when the program's exit came */
    unsigned long long start_us, end_us, kill_us;
    char setup_error[160];
};

/* Records the sandbox's own failure (the first cause wins); returns -err for the caller. */
static int internal(struct run *r, const char *what, int err)
{
    if (!r->obs.internal_error) {
        r->obs.internal_error = 1;
        snprintf(r->setup_error, sizeof(r->setup_error), "%s: %s", what, strerror(err));
    }
    return -err;
}

static void kill_group(struct sbx_slot *s)
{
    if (sbx_cg_kill(&s->cg) == -EOPNOTSUPP)
        (void)sbx_zygote_kill_all(&s->zygote);
}

static void kill_tree(struct run *r, enum sbx_kill_reason why)
{
    if (r->obs.killed_for == SBX_KILL_NONE && why != SBX_KILL_NONE)
        r->obs.killed_for = why;
    if (!r->kill_us)
        r->kill_us = sbx_now_us();
    if (!r->end_us)
        r->end_us = r->kill_us;
    kill_group(r->slot);
}

/* Reads what is available; past the cap, marks truncation and stops the program. */
static void drain(struct run *r, struct stream *s)
{
    char chunk[65536];
    ssize_t n;

    n = read(s->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    if (s->buf->len + (uint64_t)n > s->cap) {
        size_t keep = (size_t)(s->cap - s->buf->len);
        memcpy(s->buf->data + s->buf->len, chunk, keep);
        s->buf->len += keep;
        if (keep && r->spec->on_output)
            r->spec->on_output(r->spec->output_ctx, s->number, chunk, keep);
        if (!s->buf->truncated) {
            s->buf->truncated = 1;
            kill_tree(r, SBX_KILL_OUTPUT);
        }
        return;
    }
    memcpy(s->buf->data + s->buf->len, chunk, (size_t)n);
    s->buf->len += (size_t)n;
    if (r->spec->on_output)
        r->spec->on_output(r->spec->output_ctx, s->number, chunk, (size_t)n);
}

static void read_report(struct run *r)
{
    struct sbx_report m;
    ssize_t n = read(r->report_fd, &m, sizeof(m));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n != (ssize_t)sizeof(m)) {
        close(r->report_fd);
        r->report_fd = -1;
        return;
    }
    if (m.kind == SBX_REPORT_EXITED && !r->obs.exited) {
        r->obs.exited = 1;
        r->obs.wait_status = m.status;
        if (!r->end_us)
            r->end_us = sbx_now_us();
        /* The run ends with its program: whatever it left running dies now. A kill costs a
         * fresh v2 group for the next run (sbx_cgroup), so only when something is left. */
        r->empty_at_exit = sbx_cg_is_empty(&r->slot->cg) == 1;
        if (!r->empty_at_exit)
            kill_tree(r, SBX_KILL_NONE);
    } else if (m.kind == SBX_REPORT_ORPHAN_SIGSYS) {
        r->obs.orphan_sigsys = 1;
    } else if (m.kind == SBX_REPORT_SETUP_FAILED && m.stage == SBX_STAGE_EXEC &&
               sbx_exec_blames_program(r->spec->argv[0])) {
        r->obs.exec_errno = m.err ? m.err : ENOEXEC;
        snprintf(r->setup_error, sizeof(r->setup_error), "cannot execute %s: %s",
                 r->spec->argv[0], strerror(r->obs.exec_errno));
    } else if (m.kind == SBX_REPORT_SETUP_FAILED) {
        internal(r, sbx_stage_name(m.stage), m.err);
    }
}


static int next_timeout_ms(struct run *r)
{
    unsigned long long now = sbx_now_us(), wall_end;
    uint64_t cpu, left;
    int ms = CPU_POLL_MAX_MS;

    if (r->kill_us) {
        if (now > r->kill_us + REAP_GRACE_US)
            return -2;
        return CPU_POLL_MAX_MS;
    }
    wall_end = r->start_us + sbx_limits_wall_ms(&r->spec->limits) * 1000ULL;
    if (now >= wall_end) {
        kill_tree(r, SBX_KILL_WALL);
        return 0;
    }
    if (sbx_cg_read_cpu_us(&r->slot->cg, &cpu) == 0) {
        cpu -= r->base.cpu_us;
        if (cpu >= r->obs.cpu_limit_us) {
            kill_tree(r, SBX_KILL_CPU);
            return 0;
        }
        /* Two cores can burn the rest in half the time: check again before that. */
        left = (r->obs.cpu_limit_us - cpu) / 2000;
        if (left < (uint64_t)ms)
            ms = left < CPU_POLL_MIN_MS ? CPU_POLL_MIN_MS : (int)left;
    }
    if ((wall_end - now) / 1000 < (unsigned long long)ms)
        ms = (int)((wall_end - now) / 1000) + 1;
    return ms;
}

/* Ends when the zygote closed the report pipe (program reaped) and both streams hit EOF
 * (every process that held them is dead). */
static void supervise(struct run *r)
{
    for (;;) {
        struct pollfd p[3] = {{r->out.fd, POLLIN, 0}, {r->err.fd, POLLIN, 0},
                              {r->report_fd, POLLIN, 0}};
        int timeout, n;

        if (r->out.fd < 0 && r->err.fd < 0 && r->report_fd < 0)
            return;
        timeout = next_timeout_ms(r);
        if (timeout == -2) {
            internal(r, "the process tree did not die", ETIMEDOUT);
            kill_tree(r, SBX_KILL_NONE);
            r->slot->broken = 1;
            return;
        }
        n = poll(p, 3, timeout);
        if (n < 0 && errno != EINTR) {
            internal(r, "poll", errno);
            kill_tree(r, SBX_KILL_NONE);
            continue;
        }
        if (p[0].revents)
            drain(r, &r->out);
        if (p[1].revents)
            drain(r, &r->err);
        if (p[2].revents)
            read_report(r);
    }
}

static int make_stdin(const struct sbx_run_spec *spec)
{
    int fd;

    if (!spec->stdin_data)
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* A sealed memfd: the program can read and seek it but never change what we sent. */
    fd = memfd_create("runq-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (sbx_write_all(fd, spec->stdin_data, spec->stdin_len) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct run_fds {
    int box, in, out[2], err[2], report[2];
};

static void close_fds(struct run_fds *f)
{
    int *all[] = {&f->box, &f->in, &f->out[0], &f->out[1], &f->err[0], &f->err[1],
                  &f->report[0], &f->report[1]};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (*all[i] >= 0)
            close(*all[i]);
        *all[i] = -1;
    }
}

static int prepare(struct run *r, struct run_fds *f)
{
    const struct sbx_run_spec *spec = r->spec;
    struct sbx_slot *s = r->slot;
    size_t i;
    int e;

    if ((e = sbx_cg_set_limits(&s->cg, spec->limits.memory_bytes, spec->limits.processes)) < 0)
        return internal(r, "cannot set cgroup limits", -e);
    if ((e = sbx_cg_begin_run(&s->cg, &r->base)) < 0)
        return internal(r, "the slot's cgroup is not clean", -e);
    f->box = sbx_box_create(spec->limits.box_bytes, s->uid, s->gid);
    if (f->box < 0)
        return internal(r, "cannot create /box", -f->box);
    for (i = 0; i < spec->nfiles; i++)
        if ((e = sbx_box_put(f->box, &spec->files[i], s->uid, s->gid)) < 0)
            return internal(r, "cannot write an input file into /box", -e);
    f->in = make_stdin(spec);
    if (f->in < 0 || pipe2(f->out, O_CLOEXEC) < 0 || pipe2(f->err, O_CLOEXEC) < 0 ||
        pipe2(f->report, O_CLOEXEC) < 0)
        return internal(r, "cannot create pipes", errno);
    return 0;
}

static int start_program(struct run *r, struct run_fds *f)
{
    int cgroup = sbx_cg_spawn_dir(&r->slot->cg);
    int fds[SBX_SPAWN_NFDS] = {f->box, f->in, f->out[1], f->err[1], f->report[1],
                               cgroup >= 0 ? cgroup : f->in};
    int e = sbx_zygote_spawn(&r->slot->zygote, &r->spec->limits, r->spec->argv,
                             r->spec->envp ? r->spec->envp : sbx_default_env, fds);

    if (e == -E2BIG)
        internal(r, "the arguments and environment are too large", E2BIG);
    else if (e < 0) {
        internal(r, "the slot's zygote failed", -e);
        if (e != -EAGAIN && e != -ENOMEM)
            r->slot->broken = 1;
    }
    return e;
}

static void finish(struct run *r)
{
    struct sbx_cg_usage u;
    unsigned long long deadline = sbx_now_us() + REAP_GRACE_US;
    int empty = 1;

    /* Empty when the program was reaped (nothing left can fork a newcomer), else killed then;
     * what remains is to wait for the killed ones to be gone. */
    while (!r->empty_at_exit && (empty = sbx_cg_is_empty(&r->slot->cg)) == 0 &&
           sbx_now_us() < deadline) {
        kill_group(r->slot);
        usleep(1000);
    }
    if (empty != 1) {
        internal(r, "processes survived the run", empty < 0 ? -empty : EBUSY);
        r->slot->broken = 1;
    }
    if (sbx_cg_read_usage(&r->slot->cg, &u) < 0) {
        internal(r, "cannot read cgroup counters", errno ? errno : EIO);
        memset(&u, 0, sizeof(u));
        u = r->base;
    }
    r->obs.cpu_us = u.cpu_us - r->base.cpu_us;
    r->obs.oom_kills = u.oom_kills - r->base.oom_kills;
    r->res->cpu_ms = r->obs.cpu_us / 1000;
    r->res->memory_peak_kb =
        (u.memory_peak > r->base.memory_start ? u.memory_peak - r->base.memory_start : 0) / 1024;
    r->res->wall_ms = ((r->end_us ? r->end_us : sbx_now_us()) - r->start_us) / 1000;
}

static void collect(struct run *r, int box)
{
    const struct sbx_run_spec *spec = r->spec;
    size_t i;

    if (!spec->ncollect || box < 0)
        return;
    /* One budget for all files: sparse files would otherwise let a 64 MiB box return
     * gigabytes (tmpfs counts blocks, st_size counts holes). */
    uint64_t budget = spec->limits.box_bytes;

    r->res->files = calloc(spec->ncollect, sizeof(*r->res->files));
    for (i = 0; r->res->files && i < spec->ncollect; i++, r->res->nfiles++) {
        if (sbx_box_collect(box, spec->collect[i], budget, &r->res->files[i]) < 0)
            break;
        budget -= r->res->files[i].len;
    }
    if (r->res->nfiles < spec->ncollect)
        internal(r, "cannot collect files", ENOMEM);
}

static int alloc_streams(struct run *r)
{
    uint64_t cap = r->spec->limits.output_bytes;

    /* +1 so a zero cap still has a valid buffer; growth is avoided on purpose (no realloc
     * while a hostile program floods us). */
    r->res->out.data = malloc(cap + 1);
    r->res->err.data = malloc(cap + 1);
    r->out = (struct stream){1, -1, &r->res->out, cap};
    r->err = (struct stream){2, -1, &r->res->err, cap};
    return r->res->out.data && r->res->err.data ? 0 : -ENOMEM;
}

int sbx_slot_run(struct sbx_slot *s, const struct sbx_run_spec *spec, struct sbx_result *res)
{
    struct run_fds f = {-1, -1, {-1, -1}, {-1, -1}, {-1, -1}};
    struct run r;
    const char *field;
    int started = 0;

    memset(res, 0, sizeof(*res));
    if (!spec->argv || !spec->argv[0] || sbx_limits_validate(&spec->limits, &field) < 0)
        return -EINVAL;
    memset(&r, 0, sizeof(r));
    r.slot = s;
    r.spec = spec;
    r.res = res;
    r.report_fd = -1;
    r.obs.cpu_limit_us = spec->limits.cpu_ms * 1000;
    if (alloc_streams(&r) < 0)
        internal(&r, "cannot allocate output buffers", ENOMEM);
    else if (s->broken)
        internal(&r, "the slot is unusable after an earlier failure", EBUSY);
    else if (prepare(&r, &f) == 0) {
        r.start_us = sbx_now_us();
        started = start_program(&r, &f) == 0;
    }
    if (started) {
        /* The launcher keeps only the read ends. */
        r.out.fd = f.out[0];
        r.err.fd = f.err[0];
        r.report_fd = f.report[0];
        f.out[0] = f.err[0] = f.report[0] = -1;
        int box = f.box;
        f.box = -1;
        close_fds(&f);
        f.box = box;
        supervise(&r);
        finish(&r);
        collect(&r, f.box);
    }
    if (r.out.fd >= 0)
        close(r.out.fd);
    if (r.err.fd >= 0)
        close(r.err.fd);
    if (r.report_fd >= 0)
        close(r.report_fd);
    close_fds(&f);
    sbx_verdict_classify(&r.obs, &res->verdict);
    snprintf(res->message, sizeof(res->message), "%s",
             r.obs.internal_error || (r.obs.exec_errno && res->verdict.status == SBX_RUNTIME_ERROR)
                 ? r.setup_error
                 : res->verdict.reason);
    return 0;
}
