/* SPDX-License-Identifier: MIT */
/* Unit tests of dispatcher/http_request: bytes in any split, pipelining, chunked bodies,
 * limits at and one over, malformed input, keep-alive rules, response formatting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"
#include "tap.h"

/* Feeds all of s at once; returns the feed result, *used = bytes consumed. */
static int feed_all(struct http_request_parser *p, const char *s, size_t len, size_t *used)
{
    size_t off = 0, n;
    int r;

    for (;;) {
        r = http_request_feed(p, s + off, len - off, &n);
        off += n;
        if (r != HTTP_REQUEST_CONTINUE)
            break;
    }
    *used = off;
    return r;
}

static int parse_status(const char *s, const struct http_limits *lim)
{
    struct http_request_parser p;
    size_t used;
    int r, status;

    http_request_init(&p, lim);
    r = feed_all(&p, s, strlen(s), &used);
    status = r == HTTP_REQUEST_COMPLETE ? 200 : r < 0 ? http_request_error(&p)->status : 0;
    http_request_close(&p);
    return status;
}

static const char post_req[] = "POST /v1/jobs?wait=1&x=2 HTTP/1.1\r\n"
                               "Host: example\r\n"
                               "Content-Type: application/json\r\n"
                               "X-Trim:   padded value  \r\n"
                               "Content-Length: 11\r\n"
                               "\r\n"
                               "{\"a\": true}";

static int check_post(const struct http_request *r)
{
    return r && strcmp(r->method, "POST") == 0 && strcmp(r->path, "/v1/jobs") == 0 &&
           strcmp(r->query, "wait=1&x=2") == 0 && r->has_query &&
           strcmp(r->target, "/v1/jobs?wait=1&x=2") == 0 && r->nheaders == 4 && r->body_len == 11 &&
           memcmp(r->body, "{\"a\": true}", 11) == 0 && r->keep_alive && r->http_major == 1 &&
           r->http_minor == 1;
}

static void test_basic(struct tap *t)
{
    struct http_request_parser p;
    const struct http_request *r;
    size_t used;
    int rc;

    http_request_init(&p, NULL);
    tap_ok(t, http_request_get(&p) == NULL && !http_request_started(&p), "fresh parser is idle");
    rc = http_request_feed(&p, post_req, sizeof(post_req) - 1, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == HTTP_REQUEST_COMPLETE && used == sizeof(post_req) - 1, "one request");
    tap_ok(t, check_post(r), "method, path, query, headers, body");
    tap_ok(t, r && strcmp(http_request_header(r, "content-TYPE"), "application/json") == 0,
           "header lookup is case-insensitive");
    tap_ok(t, r && strcmp(http_request_header(r, "x-trim"), "padded value") == 0,
           "header value trimmed");
    tap_ok(t, r && http_request_header(r, "X-Missing") == NULL, "missing header is NULL");
    tap_ok(t, r && r->body[r->body_len] == '\0', "body NUL-terminated");
    rc = http_request_feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used);
    r = http_request_get(&p);
    tap_ok(t,
           rc == 1 && r && strcmp(r->path, "/") == 0 && !r->has_query && r->body_len == 0 &&
               *r->query == '\0' && r->nheaders == 0,
           "parser reused for the next request");
    http_request_close(&p);

    http_request_init(&p, NULL);
    rc = feed_all(&p, "GET http://h:80/p/q?z HTTP/1.1\r\nHost: h\r\n\r\n", 43, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == 1 && r && strcmp(r->path, "/p/q") == 0 && strcmp(r->query, "z") == 0,
           "absolute-form target split");
    http_request_close(&p);
}

static void test_splits(struct tap *t)
{
    const size_t len = sizeof(post_req) - 1;
    struct http_request_parser p;
    size_t i, used1, used2 = 0, bad = 0, j;
    int r1, r2;

    for (i = 0; i <= len; i++) {
        http_request_init(&p, NULL);
        r1 = http_request_feed(&p, post_req, i, &used1);
        r2 = i < len ? http_request_feed(&p, post_req + i, len - i, &used2) : 1;
        if (!(i < len && r1 == 0 && used1 == i && r2 == 1 && used2 == len - i &&
              check_post(http_request_get(&p))) &&
            !(i == len && r1 == 1 && used1 == len && check_post(http_request_get(&p))))
            bad++;
        http_request_close(&p);
    }
    tap_ok(t, bad == 0, "split at every byte boundary (%zu splits, %zu bad)", len + 1, bad);

    http_request_init(&p, NULL);
    r1 = 0;
    for (j = 0; j < len && r1 == 0; j++) {
        r1 = http_request_feed(&p, post_req + j, 1, &used1);
        if (used1 != 1)
            break;
    }
    tap_ok(t, r1 == 1 && j == len && check_post(http_request_get(&p)), "one byte at a time");
    http_request_close(&p);
}

static void test_pipelined(struct tap *t)
{
    static const char reqs[] = "GET /a HTTP/1.1\r\n\r\n"
                               "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
                               "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n"
                               "GET /d";
    struct http_request_parser p;
    const struct http_request *r;
    size_t off = 0, used;
    int rc;

    http_request_init(&p, NULL);
    rc = http_request_feed(&p, reqs, sizeof(reqs) - 1, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == 1 && used == 19 && strcmp(r->path, "/a") == 0, "first of pipeline");
    off += used;
    rc = http_request_feed(&p, reqs + off, sizeof(reqs) - 1 - off, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == 1 && used == 42 && strcmp(r->path, "/b") == 0 && r->body_len == 3,
           "second of pipeline, with a body");
    off += used;
    rc = http_request_feed(&p, reqs + off, sizeof(reqs) - 1 - off, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == 1 && strcmp(r->path, "/c") == 0 && !r->keep_alive, "third, closing");
    off += used;
    rc = http_request_feed(&p, reqs + off, sizeof(reqs) - 1 - off, &used);
    tap_ok(t, rc == 0 && used == 6 && http_request_started(&p) && !http_request_get(&p),
           "partial fourth needs more");
    rc = http_request_feed(&p, " HTTP/1.1\r\n\r\n", 13, &used);
    r = http_request_get(&p);
    tap_ok(t, rc == 1 && strcmp(r->path, "/d") == 0, "fourth completed by more bytes");
    http_request_close(&p);
}

static void test_chunked(struct tap *t)
{
    static const char req[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
                              "GET /next HTTP/1.1\r\n\r\n";
    const size_t first = sizeof(req) - 1 - 22;
    struct http_request_parser p;
    const struct http_request *r;
    size_t used, i, bad = 0;
    int rc;

    http_request_init(&p, NULL);
    rc = http_request_feed(&p, req, sizeof(req) - 1, &used);
    r = http_request_get(&p);
    tap_ok(t,
           rc == 1 && used == first && r->body_len == 11 && strcmp(r->body, "hello world") == 0 &&
               r->nheaders == 1,
           "chunked body decoded, trailer ignored, consumed stops at its end");
    rc = http_request_feed(&p, req + used, sizeof(req) - 1 - used, &used);
    tap_ok(t, rc == 1 && strcmp(http_request_get(&p)->path, "/next") == 0, "then the next one");
    http_request_close(&p);

    for (i = 0; i <= first; i++) {
        size_t u1, u2;
        int r1, r2;

        http_request_init(&p, NULL);
        r1 = http_request_feed(&p, req, i, &u1);
        r2 = i < first ? http_request_feed(&p, req + i, first - i, &u2) : 1;
        r = http_request_get(&p);
        if ((i < first && (r1 != 0 || r2 != 1)) || !r || strcmp(r->body, "hello world") != 0)
            bad++;
        http_request_close(&p);
    }
    tap_ok(t, bad == 0, "chunked split at every byte boundary (%zu bad)", bad);
}

/* A request whose request line + headers take exactly n bytes (n >= 40). */
static char *sized_request(size_t n)
{
    static const char head[] = "GET / HTTP/1.1\r\nX-Pad: ";
    size_t fixed = sizeof(head) - 1 + 4, pad = n - fixed;
    char *s = malloc(n + 1);

    memcpy(s, head, sizeof(head) - 1);
    memset(s + sizeof(head) - 1, 'a', pad);
    memcpy(s + sizeof(head) - 1 + pad, "\r\n\r\n", 5);
    return s;
}

static void test_limits(struct tap *t)
{
    struct http_limits lim = {.max_header = 200, .max_headers = 3, .max_body = 10};
    struct http_request_parser p;
    char *s, body[128];
    size_t used;
    int rc;

    s = sized_request(200);
    tap_ok(t, strlen(s) == 200 && parse_status(s, &lim) == 200, "headers exactly at max_header");
    free(s);
    s = sized_request(201);
    tap_ok(t, parse_status(s, &lim) == 431, "headers one over max_header: 431");
    free(s);
    s = sized_request(5000);
    http_request_init(&p, &lim);
    rc = http_request_feed(&p, s, 5000, &used);
    tap_ok(t,
           rc == -EMSGSIZE && http_request_error(&p)->status == 431 &&
               strcmp(http_request_error(&p)->code, "headers_too_large") == 0 && used <= 201,
           "huge headers rejected after at most max_header + 1 bytes");
    rc = http_request_feed(&p, "x", 1, &used);
    tap_ok(t, rc == -EMSGSIZE && http_request_error(&p)->status == 431, "error is sticky");
    http_request_close(&p);
    free(s);

    tap_ok(t, parse_status("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &lim) == 200,
           "header count at max_headers");
    tap_ok(t, parse_status("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", &lim) == 431,
           "header count one over: 431");

    snprintf(body, sizeof(body), "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
    tap_ok(t, parse_status(body, &lim) == 200, "Content-Length exactly at max_body");
    snprintf(body, sizeof(body), "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
    tap_ok(t, parse_status(body, &lim) == 413, "Content-Length one over: 413 before the body");
    snprintf(body, sizeof(body),
             "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0"
             "\r\n\r\n");
    tap_ok(t, parse_status(body, &lim) == 200, "chunked body exactly at max_body");
    snprintf(body, sizeof(body),
             "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n56789a\r\n");
    tap_ok(t, parse_status(body, &lim) == 413, "chunked body one over: 413");
}

static void test_malformed(struct tap *t)
{
    static const char *const bad[] = {
        "GET\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nBad(Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        "GET / HTTP/1.1\r\n: novalue\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "\x01\x02\x03\r\n\r\n",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tap_ok(t, parse_status(bad[i], NULL) == 400, "malformed %zu is 400", i);
    tap_ok(t, parse_status("GET / HTTP/2.0\r\n\r\n", NULL) == 505, "HTTP/2.0 request line: 505");
    tap_ok(t, parse_status("GET / HTTP/1.2\r\n\r\n", NULL) == 505, "HTTP/1.2: 505");
    tap_ok(t, parse_status("GET / HTTP/3.0\r\n\r\n", NULL) == 505, "HTTP/3.0: 505");
    tap_ok(t, parse_status("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NULL) == 505, "HTTP/2 preface: 505");
    tap_ok(t, parse_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", NULL) == 501,
           "Transfer-Encoding gzip: 501");
    tap_ok(t,
           parse_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", NULL) == 501,
           "Transfer-Encoding gzip, chunked: 501");
}

static int keep_alive_of(const char *s)
{
    struct http_request_parser p;
    size_t used;
    int ka = -1;

    http_request_init(&p, NULL);
    if (http_request_feed(&p, s, strlen(s), &used) == HTTP_REQUEST_COMPLETE)
        ka = http_request_get(&p)->keep_alive;
    http_request_close(&p);
    return ka;
}

static void test_keep_alive(struct tap *t)
{
    tap_ok(t, keep_alive_of("GET / HTTP/1.1\r\n\r\n") == 1, "1.1 default keep-alive");
    tap_ok(t, keep_alive_of("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") == 0, "1.1 close");
    tap_ok(t, keep_alive_of("GET / HTTP/1.1\r\nconnection: CLOSE\r\n\r\n") == 0,
           "1.1 close, any case");
    tap_ok(t, keep_alive_of("GET / HTTP/1.0\r\n\r\n") == 0, "1.0 default close");
    tap_ok(t, keep_alive_of("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 1,
           "1.0 keep-alive on request");
    tap_ok(t, keep_alive_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == 1,
           "1.0 Keep-Alive, any case");
}

static void test_expect(struct tap *t)
{
    static const char req[] =
        "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    struct http_request_parser p;
    size_t used;
    int rc;

    http_request_init(&p, NULL);
    rc = http_request_feed(&p, req, sizeof(req) - 1, &used);
    tap_ok(t, rc == HTTP_REQUEST_CONTINUE && http_request_get(&p)->expect_continue,
           "Expect: 100-continue reported after the headers");
    rc = http_request_feed(&p, req + used, sizeof(req) - 1 - used, &used);
    tap_ok(t, rc == 0, "then needs the body");
    rc = http_request_feed(&p, "ok", 2, &used);
    tap_ok(t, rc == 1 && strcmp(http_request_get(&p)->body, "ok") == 0, "then completes");
    http_request_close(&p);
}

static void test_format(struct tap *t)
{
    struct http_header h[] = {{"Content-Type", "text/plain", 0}};
    struct http_header evil[] = {{"X-A", "1\r\nSet-Cookie: x", 0}};
    struct http_header reserved[] = {{"content-length", "3", 0}};
    struct http_buf b = {0};
    int r;

    r = http_response_format(200, h, 1, "hi", 2, 1, &b);
    tap_ok(t,
           r == 0 && strcmp(b.data, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                    "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nhi") == 0,
           "200 with body");
    b.len = 0;
    r = http_response_format(204, NULL, 0, NULL, 0, 0, &b);
    tap_ok(t, r == 0 && strcmp(b.data, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n") == 0,
           "204 without Content-Length");
    b.len = 0;
    r = http_response_format_head(200, h, 1, HTTP_BODY_CHUNKED, 1, &b);
    tap_ok(t, r == 0 && strstr(b.data, "Transfer-Encoding: chunked\r\n"), "chunked head");
    b.len = 0;
    r = http_response_format_head(200, NULL, 0, HTTP_BODY_UNTIL_CLOSE, 1, &b);
    tap_ok(t, r == 0 && strstr(b.data, "Connection: close") && !strstr(b.data, "Content-Length"),
           "until-close head forces Connection: close");
    b.len = 0;
    r = http_chunk_format("hello world, 26 bytes long", 26, &b);
    r |= http_chunk_format(NULL, 0, &b);
    tap_ok(t, r == 0 && strcmp(b.data, "1a\r\nhello world, 26 bytes long\r\n0\r\n\r\n") == 0,
           "chunks in hex, then the last chunk");
    b.len = 0;
    tap_ok(t, http_response_format(200, evil, 1, "", 0, 1, &b) == -EINVAL && b.len == 0,
           "CRLF in a header value rejected");
    tap_ok(t, http_response_format(200, reserved, 1, "", 0, 1, &b) == -EINVAL,
           "framing headers are the formatter's");
    tap_ok(t, http_response_format(99, NULL, 0, "", 0, 1, &b) == -EINVAL, "status 99 rejected");
    tap_ok(t,
           strcmp(http_status_text(431), "Request Header Fields Too Large") == 0 &&
               strcmp(http_status_text(299), "Unknown") == 0,
           "status text");
    free(b.data);
}

int main(void)
{
    struct tap t = {0};

    test_basic(&t);
    test_splits(&t);
    test_pipelined(&t);
    test_chunked(&t);
    test_limits(&t);
    test_malformed(&t);
    test_keep_alive(&t);
    test_expect(&t);
    test_format(&t);
    return tap_done(&t);
}
