/* SPDX-License-Identifier: MIT */
/* runq_sse: see runq_sse.h. The stream is read a line at a time; a line is only kept whole
 * while it is incomplete, so a chunk boundary anywhere (inside a field name, between CR and
 * LF) gives the same events as the whole stream at once. */
#include "runq_sse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void runq_sse_init(struct runq_sse *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
}

void runq_sse_free(struct runq_sse *s)
{
    free(s->line);
    free(s->data);
    memset(s, 0, sizeof(*s));
}

/* Makes room for n more bytes (plus a NUL) in *buf, within max. */
static int reserve(char **buf, size_t *cap, size_t used, size_t n, size_t max)
{
    size_t want = used + n + 1, c = *cap ? *cap : 256;
    char *p;

    if (used + n > max)
        return -E2BIG;
    if (want <= *cap)
        return 0;
    while (c < want)
        c *= 2;
    if (!(p = realloc(*buf, c)))
        return -ENOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

static void copy_name(char *dst, const char *v, size_t n)
{
    if (n > RUNQ_SSE_NAME_MAX)
        n = RUNQ_SSE_NAME_MAX;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* A blank line: the event read so far, if it has data, goes to fn. */
static int dispatch(struct runq_sse *s, runq_sse_fn *fn, void *arg)
{
    struct runq_sse_event ev;
    int rc = 0;

    if (s->has_data) {
        if (s->data_len && s->data[s->data_len - 1] == '\n')
            s->data_len--; /* the LF after the last data line is not part of the data */
        s->data[s->data_len] = '\0';
        ev.event = s->event[0] ? s->event : "message";
        ev.data = s->data;
        ev.len = s->data_len;
        ev.id = s->id;
        rc = fn(arg, &ev);
    }
    s->has_data = 0;
    s->data_len = 0;
    s->event[0] = '\0';
    return rc;
}

/* One complete line, s->line[0..line_len). */
static int line(struct runq_sse *s, runq_sse_fn *fn, void *arg)
{
    const char *l = s->line, *colon, *v;
    size_t n = s->line_len, fl, vl;
    int rc;

    if (n == 0)
        return dispatch(s, fn, arg);
    if (l[0] == ':')
        return 0; /* a comment: the server's keepalive */
    colon = memchr(l, ':', n);
    fl = colon ? (size_t)(colon - l) : n;
    v = colon ? colon + 1 : l + n;
    vl = (size_t)(l + n - v);
    if (vl && *v == ' ') {
        v++;
        vl--;
    }
    if (fl == 4 && !memcmp(l, "data", 4)) {
        if ((rc = reserve(&s->data, &s->data_cap, s->data_len, vl + 1, s->max)) < 0)
            return rc;
        memcpy(s->data + s->data_len, v, vl);
        s->data_len += vl;
        s->data[s->data_len++] = '\n';
        s->has_data = 1;
    } else if (fl == 5 && !memcmp(l, "event", 5)) {
        copy_name(s->event, v, vl);
    } else if (fl == 2 && !memcmp(l, "id", 2) && !memchr(v, '\0', vl)) {
        copy_name(s->id, v, vl);
    } /* "retry" and unknown fields are ignored, as the format says */
    return 0;
}

int runq_sse_feed(struct runq_sse *s, const char *buf, size_t len, runq_sse_fn *fn, void *arg)
{
    size_t i = 0;
    int rc;

    if (len == 0)
        return 0;
    if (s->after_cr && buf[0] == '\n')
        i = 1;
    s->after_cr = 0;
    while (i < len) {
        size_t n = 0;
        /* a chunk is not NUL-terminated and may hold NUL bytes: scan by length */
        while (i + n < len && buf[i + n] != '\r' && buf[i + n] != '\n')
            n++;
        if ((rc = reserve(&s->line, &s->line_cap, s->line_len, n, s->max)) < 0)
            return rc;
        memcpy(s->line + s->line_len, buf + i, n);
        s->line_len += n;
        i += n;
        if (i == len)
            break; /* the line goes on in the next chunk */
        if (buf[i] == '\r') {
            if (i + 1 == len)
                s->after_cr = 1;
            else if (buf[i + 1] == '\n')
                i++;
        }
        i++;
        rc = line(s, fn, arg);
        s->line_len = 0;
        if (rc)
            return rc;
    }
    return 0;
}
