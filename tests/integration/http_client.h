/* SPDX-License-Identifier: MIT */
/* http_client: the small blocking HTTP/1.1 client the integration tests that talk to an
 * http_server share (test_http_server.c, test_dispatcher.c, test_dispatcher_pg.c): plain
 * sockets to 127.0.0.1 with a receive timeout, responses read with http-parser into a struct
 * http_client_resp (status, header lines, body, the body as JSON). Three ways to talk: one
 * request a connection (Connection: close; http_client_call), a kept-alive connection read one
 * response at a time with leftover bytes kept for the next (struct http_client_conn), and a
 * Server-Sent Events response read piece by piece until a string shows up (struct
 * http_client_sse).
 * Must not: hold global state (the port is an argument), grow its buffers (what does not fit
 * in head or body is dropped), retry, reconnect, or test anything itself: every failure comes
 * back as a return value for the tests' own assertions. */
#ifndef RUNQ_TESTS_HTTP_CLIENT_H
#define RUNQ_TESTS_HTTP_CLIENT_H

#include <stddef.h>

#include <http_parser.h>
#include <jansson.h>

struct http_client_resp {
    int status, complete;
    char head[4096]; /* "\nName: value" per header line, NUL-terminated */
    size_t head_len;
    char body[16384]; /* NUL-terminated */
    size_t body_len;
    json_t *json; /* the body parsed by http_client_read_close (and so _call), or NULL */
};

/* CLOCK_MONOTONIC in milliseconds. */
long http_client_now_ms(void);

/* Connects to 127.0.0.1:port with a receive timeout of timeout_s. Returns the socket or -errno. */
int http_client_connect(int port, int timeout_s);

/* Sends all of s (no SIGPIPE); stops quietly at the first error. */
void http_client_send_all(int fd, const char *s, size_t len);

/* Connects (30 s receive timeout) and sends a request with Connection: close, a Content-Length
 * and headers ("Name: value\r\n" lines, or NULL). Returns the socket or -1. */
int http_client_request(int port, const char *method, const char *target, const char *headers,
                        const char *body);

/* Reads the response on fd (until it is complete or the peer closes), closes fd and parses the
 * body as JSON into r->json. Returns 0, or -1 if the response is incomplete. */
int http_client_read_close(int fd, struct http_client_resp *r);

/* http_client_request, then http_client_read_close; r is zeroed if the connect fails. */
int http_client_call(int port, const char *method, const char *target, const char *headers,
                     const char *body, struct http_client_resp *r);

/* Frees r->json. */
void http_client_resp_clear(struct http_client_resp *r);

/* The string at j[key1] (or j[key1][key2]), "" if there is none. */
const char *http_client_jstr(const json_t *j, const char *key1, const char *key2);

/* error.code and error.field of a JSON error body, "" if there are none. */
const char *http_client_err_code(const struct http_client_resp *r);
const char *http_client_err_field(const struct http_client_resp *r);

/* A kept-alive connection: bytes received past one response wait in buf for the next. */
struct http_client_conn {
    int fd;
    char buf[65536];
    size_t len;
};

void http_client_conn_send(struct http_client_conn *c, const char *s);

/* Reads one response (leftover bytes stay in c->buf; r->json stays NULL). Returns 0, or -1 on
 * EOF/timeout/parse error. */
int http_client_conn_read(struct http_client_conn *c, struct http_client_resp *r);

/* The same for the answer to HEAD: no body whatever Content-Length says. */
int http_client_conn_read_head(struct http_client_conn *c, struct http_client_resp *r);

/* 1 if the server closed the connection (EOF or reset) within the receive timeout. */
int http_client_conn_eof(struct http_client_conn *c);

/* An SSE response read piece by piece (r.json stays NULL). */
struct http_client_sse {
    int fd;
    http_parser p;
    struct http_client_resp r;
};

/* Sends GET target (http_client_request). Returns the socket or -1. */
int http_client_sse_open(struct http_client_sse *s, int port, const char *target,
                         const char *headers);

/* Reads until the body holds needle (NULL: until the response is complete), up to ms.
 * Returns 1 if it does. */
int http_client_sse_until(struct http_client_sse *s, const char *needle, long ms);

void http_client_sse_close(struct http_client_sse *s);

#endif
