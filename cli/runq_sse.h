/* SPDX-License-Identifier: MIT */
/* runq_sse: an incremental Server-Sent Events parser (the WHATWG event-stream format), fed
 * whatever chunks the transport delivers.
 * Does: split lines on LF, CRLF or CR (also across chunks), skip comments (": keepalive"),
 * join "data:" lines with LF, keep the event name and the last event id, and hand each
 * complete event to a callback; bound the memory a hostile stream can make it use.
 * Must not: do I/O, interpret the data (the caller decodes JSON), or allocate past max. */
#ifndef RUNQ_CLI_SSE_H
#define RUNQ_CLI_SSE_H

#include <stddef.h>

#define RUNQ_SSE_NAME_MAX 64 /* bytes of an event name or id kept; longer ones are cut */

struct runq_sse_event {
    const char *event; /* "message" when the stream named none */
    const char *data;  /* NUL-terminated; the lines joined by "\n" */
    size_t len;
    const char *id; /* the last id the stream set ("" before any) */
};

/* Returns 0 to go on, anything else to stop: runq_sse_feed then returns that value. */
typedef int runq_sse_fn(void *arg, const struct runq_sse_event *ev);

struct runq_sse {
    char *line; /* the line being read */
    size_t line_len, line_cap;
    char *data; /* the event being read */
    size_t data_len, data_cap;
    int has_data; /* a data field was seen (an empty one counts) */
    int after_cr; /* the previous chunk ended with CR: an LF starting this one is its pair */
    size_t max;   /* bytes of a line, and of an event's data, at most */
    char event[RUNQ_SSE_NAME_MAX + 1];
    char id[RUNQ_SSE_NAME_MAX + 1];
};

/* max: the largest line, and the largest event's data, accepted, in bytes. */
void runq_sse_init(struct runq_sse *s, size_t max);
void runq_sse_free(struct runq_sse *s);

/* Feeds buf[0..len). Returns 0, what fn returned when it stopped the stream, -E2BIG when an
 * event or line is larger than max, or -ENOMEM. After a nonzero return, feed no more. */
int runq_sse_feed(struct runq_sse *s, const char *buf, size_t len, runq_sse_fn *fn, void *arg);

#endif
