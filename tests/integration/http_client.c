/* SPDX-License-Identifier: MIT */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int r_head(struct http_client_resp *r, const char *at, size_t n)
{
    if (r->head_len + n + 1 < sizeof(r->head)) {
        memcpy(r->head + r->head_len, at, n);
        r->head_len += n;
        r->head[r->head_len] = '\0';
    }
    return 0;
}

static int r_field(http_parser *p, const char *at, size_t n)
{
    r_head(p->data, "\n", 1);
    return r_head(p->data, at, n);
}

static int r_value(http_parser *p, const char *at, size_t n)
{
    r_head(p->data, ": ", 2);
    return r_head(p->data, at, n);
}

static int r_body(http_parser *p, const char *at, size_t n)
{
    struct http_client_resp *r = p->data;

    if (r->body_len + n < sizeof(r->body)) {
        memcpy(r->body + r->body_len, at, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
    }
    return 0;
}

/* Pauses the parser: on a kept-alive connection the next response's bytes wait in the buffer. */
static int r_done(http_parser *p)
{
    struct http_client_resp *r = p->data;

    r->complete = 1;
    r->status = (int)p->status_code;
    http_parser_pause(p, 1);
    return 0;
}

static int r_head_only(http_parser *p)
{
    return 1; /* the answer to HEAD: no body whatever the length says */
}

static const http_parser_settings settings = {
    .on_header_field = r_field,
    .on_header_value = r_value,
    .on_body = r_body,
    .on_message_complete = r_done,
};

static const http_parser_settings head_settings = {
    .on_header_field = r_field,
    .on_header_value = r_value,
    .on_headers_complete = r_head_only,
    .on_message_complete = r_done,
};

long http_client_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_client_connect(int port, int timeout_s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = timeout_s};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    return fd;
}

void http_client_send_all(int fd, const char *s, size_t len)
{
    size_t off = 0;
    ssize_t n;

    while (off < len && (n = send(fd, s + off, len - off, MSG_NOSIGNAL)) > 0)
        off += (size_t)n;
}

int http_client_request(int port, const char *method, const char *target, const char *headers,
                        const char *body)
{
    size_t blen = body ? strlen(body) : 0;
    char *req;
    int fd = http_client_connect(port, 30), n;

    if (fd < 0)
        return -1;
    n = asprintf(&req,
                 "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
                 method, target, headers ? headers : "", blen);
    if (n < 0) {
        close(fd);
        return -1;
    }
    send(fd, req, (size_t)n, MSG_NOSIGNAL);
    free(req);
    http_client_send_all(fd, body, blen);
    return fd;
}

int http_client_read_close(int fd, struct http_client_resp *r)
{
    char buf[8192];
    http_parser p;
    ssize_t n;

    memset(r, 0, sizeof(*r));
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = r;
    while (!r->complete && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
        http_parser_execute(&p, &settings, buf, (size_t)n);
    if (!r->complete)
        http_parser_execute(&p, &settings, NULL, 0);
    close(fd);
    r->json = json_loads(r->body, 0, NULL);
    return r->complete ? 0 : -1;
}

int http_client_call(int port, const char *method, const char *target, const char *headers,
                     const char *body, struct http_client_resp *r)
{
    int fd = http_client_request(port, method, target, headers, body);

    if (fd < 0) {
        memset(r, 0, sizeof(*r));
        return -1;
    }
    return http_client_read_close(fd, r);
}

void http_client_resp_clear(struct http_client_resp *r)
{
    json_decref(r->json);
    r->json = NULL;
}

const char *http_client_jstr(const json_t *j, const char *key1, const char *key2)
{
    const json_t *v = json_object_get(j, key1);

    if (key2)
        v = json_object_get(v, key2);
    return json_string_value(v) ? json_string_value(v) : "";
}

const char *http_client_err_code(const struct http_client_resp *r)
{
    return http_client_jstr(r->json, "error", "code");
}

const char *http_client_err_field(const struct http_client_resp *r)
{
    return http_client_jstr(r->json, "error", "field");
}

void http_client_conn_send(struct http_client_conn *c, const char *s)
{
    http_client_send_all(c->fd, s, strlen(s));
}

static int conn_read_as(struct http_client_conn *c, struct http_client_resp *r,
                        const http_parser_settings *set)
{
    http_parser p;
    ssize_t n;
    size_t used;

    memset(r, 0, sizeof(*r));
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = r;
    for (;;) {
        used = c->len ? http_parser_execute(&p, set, c->buf, c->len) : 0;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (r->complete)
            return 0;
        if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
            return -1;
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n <= 0) {
            http_parser_execute(&p, set, NULL, 0); /* EOF ends until-close bodies */
            return r->complete ? 0 : -1;
        }
        c->len += (size_t)n;
    }
}

int http_client_conn_read(struct http_client_conn *c, struct http_client_resp *r)
{
    return conn_read_as(c, r, &settings);
}

int http_client_conn_read_head(struct http_client_conn *c, struct http_client_resp *r)
{
    return conn_read_as(c, r, &head_settings);
}

int http_client_conn_eof(struct http_client_conn *c)
{
    char b[256];
    ssize_t n;

    while ((n = recv(c->fd, b, sizeof(b), 0)) > 0)
        ;
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

int http_client_sse_open(struct http_client_sse *s, int port, const char *target,
                         const char *headers)
{
    memset(s, 0, sizeof(*s));
    http_parser_init(&s->p, HTTP_RESPONSE);
    s->p.data = &s->r;
    s->fd = http_client_request(port, "GET", target, headers, NULL);
    return s->fd;
}

int http_client_sse_until(struct http_client_sse *s, const char *needle, long ms)
{
    char buf[4096];
    ssize_t n;
    long t0 = http_client_now_ms();
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100 * 1000};

    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (http_client_now_ms() - t0 < ms) {
        if (needle ? strstr(s->r.body, needle) != NULL : s->r.complete)
            return 1;
        n = recv(s->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            http_parser_execute(&s->p, &settings, buf, (size_t)n);
            s->r.status = (int)s->p.status_code;
        } else if (n == 0)
            return needle ? strstr(s->r.body, needle) != NULL : s->r.complete;
    }
    return 0;
}

void http_client_sse_close(struct http_client_sse *s)
{
    close(s->fd);
}
