/* SPDX-License-Identifier: MIT */
#include "docker_box.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "box_proto.h"
#include "sbx_verdict.h"

/* ---- input records ---- */

struct out_buf {
    char *data;
    size_t len, cap;
};

static int reserve(struct out_buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 4096;
    char *p;

    while (cap - b->len < more)
        cap *= 2;
    if (cap == b->cap)
        return 0;
    if (!(p = realloc(b->data, cap)))
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* One record whose payload is a, then b (either may be empty). */
static int put(struct out_buf *b, int type, const void *a, size_t alen, const void *c,
               size_t clen)
{
    size_t n = alen + clen;
    unsigned char *h;

    if (n > BOX_PAYLOAD_MAX)
        return -EMSGSIZE;
    if (reserve(b, BOX_HEADER_SIZE + n) < 0)
        return -ENOMEM;
    h = (unsigned char *)b->data + b->len;
    h[0] = (unsigned char)type;
    h[1] = (unsigned char)(n >> 24);
    h[2] = (unsigned char)(n >> 16);
    h[3] = (unsigned char)(n >> 8);
    h[4] = (unsigned char)n;
    b->len += BOX_HEADER_SIZE;
    if (alen)
        memcpy(b->data + b->len, a, alen);
    if (clen)
        memcpy(b->data + b->len + alen, c, clen);
    b->len += n;
    return 0;
}

static int put_str(struct out_buf *b, int type, const char *s)
{
    return put(b, type, s, strlen(s), NULL, 0);
}

static int put_limit(struct out_buf *b, const char *name, uint64_t value)
{
    char text[64];

    snprintf(text, sizeof(text), "%s=%" PRIu64, name, value);
    return put_str(b, BOX_IN_LIMIT, text);
}

static int put_file(struct out_buf *b, const struct sbx_file *f)
{
    size_t n = strlen(f->name);
    char *head = malloc(n + 2);
    int r;

    if (!head)
        return -ENOMEM;
    head[0] = f->executable ? 1 : 0;
    memcpy(head + 1, f->name, n + 1); /* the name and its NUL */
    r = put(b, BOX_IN_FILE, head, n + 2, f->data, f->len);
    free(head);
    return r;
}

static int encode_all(const struct sbx_run_spec *s, const char *key, struct out_buf *b)
{
    const struct sbx_limits *l = &s->limits;
    char *const *envp = s->envp ? s->envp : sbx_default_env; /* as the sandbox does */
    int r = put_str(b, BOX_IN_KEY, key);
    size_t i;

    for (i = 0; r == 0 && s->argv[i]; i++)
        r = put_str(b, BOX_IN_ARG, s->argv[i]);
    for (i = 0; r == 0 && envp[i]; i++)
        r = put_str(b, BOX_IN_ENV, envp[i]);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_CPU_MS, l->cpu_ms);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_WALL_MS, sbx_limits_wall_ms(l));
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_OUTPUT_BYTES, l->output_bytes);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_FILE_BYTES, l->file_bytes);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_OPEN_FILES, l->open_files);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_STACK_BYTES, l->stack_bytes);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_ADDRESS_SPACE, l->address_space);
    if (r == 0)
        r = put_limit(b, BOX_LIMIT_COLLECT_BYTES, l->box_bytes);
    for (i = 0; r == 0 && i < s->nfiles; i++)
        r = put_file(b, &s->files[i]);
    for (i = 0; r == 0 && i < s->ncollect; i++)
        r = put_str(b, BOX_IN_COLLECT, s->collect[i]);
    /* STDIN in pieces: each record stays far below the payload cap. */
    for (i = 0; r == 0 && s->stdin_data && i < s->stdin_len; i += 1u << 20) {
        size_t n = s->stdin_len - i < (1u << 20) ? s->stdin_len - i : 1u << 20;
        r = put(b, BOX_IN_STDIN, (const char *)s->stdin_data + i, n, NULL, 0);
    }
    if (r == 0 && s->stdin_data && s->stdin_len == 0)
        r = put(b, BOX_IN_STDIN, NULL, 0, NULL, 0); /* an empty stdin, not /dev/null */
    return r == 0 ? put(b, BOX_IN_GO, NULL, 0, NULL, 0) : r;
}

int docker_box_encode(const struct sbx_run_spec *spec, const char *key, char **out,
                      size_t *len)
{
    struct out_buf b = {NULL, 0, 0};
    size_t klen = key ? strlen(key) : 0;
    int r;

    if (!spec->argv || !spec->argv[0] || klen < 16 || klen > DOCKER_BOX_KEY_MAX)
        return -EINVAL;
    r = encode_all(spec, key, &b);
    if (r < 0) {
        free(b.data);
        return r == -EMSGSIZE ? -EINVAL : r;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

/* ---- output records ---- */

int docker_box_reader_init(struct docker_box_reader *r, uint64_t output_cap,
                           uint64_t collect_cap, size_t max_files,
                           docker_box_output_cb on_output, void *data)
{
    memset(r, 0, sizeof(*r));
    r->output_cap = output_cap;
    r->collect_cap = collect_cap;
    r->max_files = max_files;
    r->on_output = on_output;
    r->data = data;
    /* +1: a zero cap still has a valid buffer. Fixed size: no growth while a stream floods. */
    r->out.data = malloc(output_cap + 1);
    r->err.data = malloc(output_cap + 1);
    r->files = calloc(max_files ? max_files : 1, sizeof(*r->files));
    return r->out.data && r->err.data && r->files ? 0 : -ENOMEM;
}

static int broken(struct docker_box_reader *r, const char *why)
{
    if (!r->error)
        r->error = why;
    return -EPROTO;
}

/* A header just completed: check it before any of its payload is taken. */
static int begin_record(struct docker_box_reader *r)
{
    const unsigned char *h = r->header;
    uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];

    if (r->result)
        return broken(r, "runq-box wrote after its result");
    switch (h[0]) {
    case BOX_OUT_STDOUT:
    case BOX_OUT_STDERR:
        break;
    case BOX_OUT_FILE:
    case BOX_OUT_FILE_ERROR:
        if (r->nfiles >= r->max_files)
            return broken(r, "runq-box returned a file that was not asked for");
        if (n > r->collect_cap + 4096 + 1)
            return broken(r, "runq-box returned a file over the size limit");
        break;
    case BOX_OUT_RESULT:
        if (n > 4096)
            return broken(r, "runq-box's result is too long");
        break;
    default:
        return broken(r, "runq-box wrote an unknown record");
    }
    r->need = n;
    r->payload_len = 0;
    if (h[0] != BOX_OUT_STDOUT && h[0] != BOX_OUT_STDERR && !(r->payload = malloc(n + 1)))
        return broken(r, "out of memory");
    return 0;
}

static int take_stream(struct docker_box_reader *r, int stream, const char *p, size_t n)
{
    struct sbx_buf *b = stream == 1 ? &r->out : &r->err;

    if (b->len + n > r->output_cap)
        return broken(r, "runq-box passed the output limit");
    memcpy(b->data + b->len, p, n);
    b->len += n;
    if (r->on_output)
        r->on_output(stream, p, n, r->data);
    return 0;
}

/* runq-box's reason as one of the sandbox's own static texts (never its bytes). */
static const char *collect_error_text(const char *why, size_t len)
{
    static const char *const known[] = {
        BOX_COLLECT_MISSING,     BOX_COLLECT_SYMLINK,     BOX_COLLECT_CANNOT_OPEN,
        BOX_COLLECT_NOT_REGULAR, BOX_COLLECT_HARD_LINKED, BOX_COLLECT_TOO_LARGE};
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i]) == len && memcmp(known[i], why, len) == 0)
            return known[i];
    return "not collected";
}

/* FILE is "name NUL bytes", FILE_ERROR "name NUL why". */
static int end_file(struct docker_box_reader *r, int is_error)
{
    char *nul = memchr(r->payload, '\0', r->payload_len);
    struct sbx_collected *c = &r->files[r->nfiles];
    size_t name_len, n;

    if (!nul || nul == r->payload)
        return broken(r, "runq-box returned a file without a name");
    name_len = (size_t)(nul - r->payload);
    n = r->payload_len - name_len - 1;
    if (!(c->name = strndup(r->payload, name_len)))
        return broken(r, "out of memory");
    r->nfiles++;
    if (is_error) {
        c->error = collect_error_text(nul + 1, n);
        return 0;
    }
    if (n > r->collect_cap)
        return broken(r, "runq-box returned a file over the size limit");
    if (!(c->data = malloc(n + 1)))
        return broken(r, "out of memory");
    memcpy(c->data, nul + 1, n);
    c->len = n;
    return 0;
}

static int end_record(struct docker_box_reader *r)
{
    int type = r->header[0], e = 0;

    r->header_len = 0;
    if (type == BOX_OUT_FILE || type == BOX_OUT_FILE_ERROR)
        e = end_file(r, type == BOX_OUT_FILE_ERROR);
    else if (type == BOX_OUT_RESULT) {
        r->payload[r->payload_len] = '\0';
        r->result = r->payload;
        r->payload = NULL;
    }
    free(r->payload);
    r->payload = NULL;
    return e;
}

int docker_box_reader_feed(struct docker_box_reader *r, const char *bytes, size_t len)
{
    while (len > 0 && !r->error) {
        size_t n;
        int type = r->header[0];

        if (r->header_len < BOX_HEADER_SIZE) {
            r->header[r->header_len++] = (unsigned char)*bytes++;
            len--;
            if (r->header_len == BOX_HEADER_SIZE && begin_record(r) < 0)
                break;
            if (r->header_len == BOX_HEADER_SIZE && r->need == 0 && end_record(r) < 0)
                break;
            continue;
        }
        n = len < r->need ? len : r->need;
        if (type == BOX_OUT_STDOUT || type == BOX_OUT_STDERR) {
            if (take_stream(r, type == BOX_OUT_STDOUT ? 1 : 2, bytes, n) < 0)
                break;
        } else {
            memcpy(r->payload + r->payload_len, bytes, n);
            r->payload_len += n;
        }
        bytes += n;
        len -= n;
        r->need -= (uint32_t)n;
        if (r->need == 0 && end_record(r) < 0)
            break;
    }
    return r->error ? -EPROTO : 0;
}

void docker_box_reader_free(struct docker_box_reader *r)
{
    size_t i;

    free(r->out.data);
    free(r->err.data);
    for (i = 0; r->files && i < r->nfiles; i++) {
        free(r->files[i].name);
        free(r->files[i].data);
    }
    free(r->files);
    free(r->result);
    free(r->payload);
    memset(r, 0, sizeof(*r));
}

/* ---- the result ---- */

struct box_facts {
    int has_key, exited, wait_status, orphan_sigsys, exec_errno;
    int out_truncated, err_truncated;
    uint64_t cpu_us, memory_kb, oom_kills;
    enum sbx_kill_reason killed_for;
    char internal[160];
};

static int number(const char *v, uint64_t *out)
{
    char *end;
    unsigned long long n;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = n;
    return 0;
}

static int set_kill(const char *v, enum sbx_kill_reason *k)
{
    static const struct {
        const char *name;
        enum sbx_kill_reason reason;
    } kinds[] = {{"none", SBX_KILL_NONE}, {"cpu", SBX_KILL_CPU}, {"wall", SBX_KILL_WALL},
                 {"output", SBX_KILL_OUTPUT}};
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(v, kinds[i].name) == 0) {
            *k = kinds[i].reason;
            return 0;
        }
    return -1;
}

/* One "name=value" line. Unknown names are refused: both sides ship together. */
static int fact(struct box_facts *f, const char *key, const char *name, const char *v)
{
    static const char *const ints[] = {BOX_RESULT_EXITED, BOX_RESULT_WAIT_STATUS,
                                       BOX_RESULT_ORPHAN_SIGSYS, BOX_RESULT_EXEC_ERRNO,
                                       BOX_RESULT_STDOUT_TRUNCATED, BOX_RESULT_STDERR_TRUNCATED};
    int *const int_at[] = {&f->exited, &f->wait_status, &f->orphan_sigsys, &f->exec_errno,
                           &f->out_truncated, &f->err_truncated};
    uint64_t n;
    size_t i;

    if (strcmp(name, BOX_RESULT_KEY) == 0)
        return (f->has_key = strcmp(v, key) == 0) ? 0 : -1;
    if (strcmp(name, BOX_RESULT_INTERNAL_ERROR) == 0) {
        snprintf(f->internal, sizeof(f->internal), "runq-box: %s", v);
        return 0;
    }
    if (strcmp(name, BOX_RESULT_KILLED_FOR) == 0)
        return set_kill(v, &f->killed_for);
    if (number(v, &n) < 0)
        return -1;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (strcmp(name, ints[i]) == 0) {
            *int_at[i] = n > 0xffff ? -1 : (int)n;
            return *int_at[i] < 0 ? -1 : 0;
        }
    if (strcmp(name, BOX_RESULT_CPU_US) == 0)
        f->cpu_us = n;
    else if (strcmp(name, BOX_RESULT_MEMORY_KB) == 0)
        f->memory_kb = n;
    else if (strcmp(name, BOX_RESULT_OOM_KILLS) == 0)
        f->oom_kills = n;
    else
        return -1;
    return 0;
}

static int parse_result(char *text, const char *key, struct box_facts *f)
{
    char *line = text, *next, *eq;

    for (; *line; line = next) {
        next = strchr(line, '\n');
        if (!next)
            return -1; /* every line ends with a newline */
        *next++ = '\0';
        if (!(eq = strchr(line, '=')))
            return -1;
        *eq = '\0';
        if (fact(f, key, line, eq + 1) < 0)
            return -1;
    }
    return f->has_key ? 0 : -1;
}

static void move_buf(struct sbx_buf *to, struct sbx_buf *from, int truncated)
{
    *to = *from;
    to->truncated = truncated;
    from->data = NULL;
    from->len = 0;
}

int docker_box_result(struct docker_box_reader *r, const struct docker_box_seen *seen,
                      struct sbx_result *res)
{
    struct sbx_observation o;
    struct box_facts f;
    const char *why = seen->failure;

    memset(res, 0, sizeof(*res));
    memset(&o, 0, sizeof(o));
    memset(&f, 0, sizeof(f));
    if (!why && r->error)
        why = r->error;
    if (!why && r->result && parse_result(r->result, seen->key, &f) < 0)
        why = "runq-box's result is malformed or not this run's";
    if (!why && !r->result && !seen->wall_killed && !seen->oom_killed)
        why = "runq-box ended without a result";
    if (!why && f.internal[0])
        why = f.internal;

    o.cpu_limit_us = seen->cpu_limit_us;
    if (why) {
        o.internal_error = 1;
    } else if (r->result) {
        o.exited = f.exited;
        o.wait_status = f.wait_status;
        o.killed_for = f.killed_for;
        o.cpu_us = f.cpu_us;
        o.oom_kills = f.oom_kills + (seen->oom_killed ? 1 : 0);
        o.orphan_sigsys = f.orphan_sigsys;
        /* As in the sandbox: a file of the submission's own that will not execute is its
         * fault; a runtime missing from the image is ours. */
        if (f.exec_errno && sbx_exec_blames_program(seen->argv0))
            o.exec_errno = f.exec_errno;
        else if (f.exec_errno) {
            o.internal_error = 1;
            snprintf(f.internal, sizeof(f.internal), "cannot execute %s: %s", seen->argv0,
                     strerror(f.exec_errno));
            why = f.internal;
        }
    } else {
        /* The container died before runq-box could report: killed at the deadline, or the
         * OOM killer took runq-box itself. */
        o.killed_for = seen->wall_killed ? SBX_KILL_WALL : SBX_KILL_NONE;
        o.oom_kills = seen->oom_killed ? 1 : 0;
    }
    sbx_verdict_classify(&o, &res->verdict);
    snprintf(res->message, sizeof(res->message), "%s", why ? why : res->verdict.reason);
    res->cpu_ms = f.cpu_us / 1000;
    res->wall_ms = seen->wall_ms;
    res->memory_peak_kb = f.memory_kb;
    move_buf(&res->out, &r->out, f.out_truncated);
    move_buf(&res->err, &r->err, f.err_truncated);
    res->files = r->files;
    res->nfiles = r->nfiles;
    r->files = NULL;
    r->nfiles = 0;
    return 0;
}
