/* SPDX-License-Identifier: MIT */
/* http_request: see http_request.h. http-parser does the parsing; this file collects what its
 * callbacks report, counts the limits, and decides the status of every rejection.
 *
 * The parser is paused in on_headers_complete (to check version, framing and limits before
 * any body byte is taken, and to learn exactly where the headers ended: execute() then
 * returns the offset of the final LF, which it re-reads on resume) and in
 * on_message_complete (so one call never runs past the end of a pipelined request). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"

enum {
    ST_IDLE,         /* nothing of the next request seen yet */
    ST_HEADERS,      /* request line and headers */
    ST_HEADERS_DONE, /* parser paused at the end of the headers; checks passed */
    ST_BODY,
    ST_DONE, /* a complete request is in p->req */
    ST_ERROR,
};

enum { F_URL, F_NAME, F_VALUE, F_END }; /* what the last header callback was adding to */

static int set_error(struct http_request_parser *p, int status, const char *code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* Keeps the first error: a callback's reason beats the parser's generic one. */
static int set_error(struct http_request_parser *p, int status, const char *code, const char *fmt,
                     ...)
{
    va_list ap;

    if (p->err.status == 0) {
        p->err.status = status;
        p->err.code = code;
        va_start(ap, fmt);
        vsnprintf(p->err.message, sizeof(p->err.message), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int text_add(struct http_request_parser *p, const char *s, size_t n)
{
    if (http_buf_append(&p->text, s, n) < 0)
        return set_error(p, 500, "internal_error", "out of memory");
    return 0;
}

static struct http_request_parser *from_hp(http_parser *hp)
{
    return hp->data;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
    return text_add(from_hp(hp), at, n);
}

/* Ends whatever the previous callbacks were adding to, before starting the next item. */
static int end_item(struct http_request_parser *p, int next)
{
    int was = p->last_was_value;

    if (was == next)
        return 0;
    if (text_add(p, "", 1) < 0)
        return -1;
    if (was == F_URL)
        p->target_end = p->text.len - 1;
    if (was == F_NAME) {
        /* value offset of the current field */
        p->offs[2 * (p->nfields - 1) + 1] = p->text.len;
        if (next != F_VALUE && text_add(p, "", 1) < 0)
            return -1;
    }
    if (next == F_NAME) {
        if (p->nfields == p->limits.max_headers)
            return set_error(p, 431, "headers_too_large", "too many header fields");
        if (p->nfields == p->offs_cap) {
            size_t cap = p->offs_cap ? 2 * p->offs_cap : 16;
            size_t *o = realloc(p->offs, 2 * cap * sizeof(*o));

            if (!o)
                return set_error(p, 500, "internal_error", "out of memory");
            p->offs = o;
            p->offs_cap = cap;
        }
        p->offs[2 * p->nfields] = p->text.len;
        p->offs[2 * p->nfields + 1] = p->text.len; /* until a value arrives */
        p->nfields++;
    }
    p->last_was_value = next;
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n)
{
    struct http_request_parser *p = from_hp(hp);

    if (p->state != ST_HEADERS)
        return 0; /* chunked trailer: ignored */
    if (end_item(p, F_NAME) < 0)
        return -1;
    return text_add(p, at, n);
}

static int on_header_value(http_parser *hp, const char *at, size_t n)
{
    struct http_request_parser *p = from_hp(hp);

    if (p->state != ST_HEADERS)
        return 0;
    if (end_item(p, F_VALUE) < 0)
        return -1;
    return text_add(p, at, n);
}

static int on_headers_complete(http_parser *hp)
{
    struct http_request_parser *p = from_hp(hp);

    if (end_item(p, F_END) < 0)
        return -1;
    p->req.keep_alive = http_should_keep_alive(hp);
    http_parser_pause(hp, 1);
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    struct http_request_parser *p = from_hp(hp);

    if (n > p->limits.max_body - p->body.len)
        return set_error(p, 413, "payload_too_large", "request body over %zu bytes",
                         p->limits.max_body);
    if (http_buf_append(&p->body, at, n) < 0)
        return set_error(p, 500, "internal_error", "out of memory");
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct http_request_parser *p = from_hp(hp);

    p->state = ST_DONE;
    p->req.body = p->body.data ? p->body.data : ""; /* http_buf keeps a NUL after the data */
    p->req.body_len = p->body.len;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_request_init(struct http_request_parser *p, const struct http_limits *limits)
{
    memset(p, 0, sizeof(*p));
    if (limits)
        p->limits = *limits;
    if (!p->limits.max_header)
        p->limits.max_header = HTTP_DEFAULT_MAX_HEADER;
    if (!p->limits.max_headers)
        p->limits.max_headers = HTTP_DEFAULT_MAX_HEADERS;
    if (!p->limits.max_body)
        p->limits.max_body = HTTP_DEFAULT_MAX_BODY;
    http_request_reset(p);
}

void http_request_reset(struct http_request_parser *p)
{
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->state = ST_IDLE;
    p->header_bytes = 0;
    p->lead_len = 0;
    p->text.len = 0;
    p->target_end = 0;
    p->nfields = 0;
    p->last_was_value = F_URL;
    free(p->path_buf);
    p->path_buf = NULL;
    p->body.len = 0;
    memset(&p->req, 0, sizeof(p->req));
    memset(&p->err, 0, sizeof(p->err));
}

void http_request_close(struct http_request_parser *p)
{
    free(p->text.data);
    free(p->offs);
    free(p->path_buf);
    free(p->body.data);
    free(p->headers);
    memset(p, 0, sizeof(*p));
}

static void trim_value(char *v, size_t *len)
{
    while (*len && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
        v[--*len] = '\0';
}

/* Splits the target into path and query (http-parser's URL parser). */
static int split_target(struct http_request_parser *p)
{
    const char *t = p->text.data;
    size_t tlen = p->target_end;
    struct http_parser_url u;
    const char *path = "/", *query = "";
    size_t plen = 1, qlen = 0;

    if (tlen > UINT16_MAX)
        return set_error(p, 414, "uri_too_long", "request target too long");
    http_parser_url_init(&u);
    if (http_parser_parse_url(t, tlen, p->hp.method == HTTP_CONNECT, &u) != 0)
        return set_error(p, 400, "bad_request", "malformed request target");
    if (u.field_set & (1 << UF_PATH)) {
        path = t + u.field_data[UF_PATH].off;
        plen = u.field_data[UF_PATH].len;
    } else if (p->hp.method == HTTP_CONNECT) {
        path = t;
        plen = tlen;
    }
    if (u.field_set & (1 << UF_QUERY)) {
        query = t + u.field_data[UF_QUERY].off;
        qlen = u.field_data[UF_QUERY].len;
        p->req.has_query = 1;
    }
    p->path_buf = malloc(plen + qlen + 2);
    if (!p->path_buf)
        return set_error(p, 500, "internal_error", "out of memory");
    memcpy(p->path_buf, path, plen);
    p->path_buf[plen] = '\0';
    memcpy(p->path_buf + plen + 1, query, qlen);
    p->path_buf[plen + 1 + qlen] = '\0';
    p->req.path = p->path_buf;
    p->req.query = p->path_buf + plen + 1;
    return 0;
}

/* The end of the headers: build the request and decide whether it may go on. */
static int headers_done(struct http_request_parser *p)
{
    struct http_request *r = &p->req;
    const char *te, *cl, *expect;
    size_t i, te_count = 0;

    if (p->header_bytes > p->limits.max_header)
        return set_error(p, 431, "headers_too_large", "request line and headers over %zu bytes",
                         p->limits.max_header);
    if (p->nfields) {
        struct http_header *h = realloc(p->headers, p->nfields * sizeof(*h));

        if (!h)
            return set_error(p, 500, "internal_error", "out of memory");
        p->headers = h;
    }
    for (i = 0; i < p->nfields; i++) {
        char *v = p->text.data + p->offs[2 * i + 1];

        p->headers[i].name = p->text.data + p->offs[2 * i];
        p->headers[i].value = v;
        p->headers[i].value_len = strlen(v);
        trim_value(v, &p->headers[i].value_len);
        if (strcasecmp(p->headers[i].name, "Transfer-Encoding") == 0)
            te_count++;
    }
    r->headers = p->headers;
    r->nheaders = p->nfields;
    r->method_id = p->hp.method;
    r->method = http_method_str((enum http_method)p->hp.method);
    r->target = p->text.data;
    r->http_major = p->hp.http_major;
    r->http_minor = p->hp.http_minor;
    if (r->http_major != 1 || r->http_minor > 1)
        return set_error(p, 505, "version_not_supported", "only HTTP/1.0 and 1.1");
    if (split_target(p) < 0)
        return -1;
    te = http_request_header(r, "Transfer-Encoding");
    cl = http_request_header(r, "Content-Length");
    if (te && (te_count > 1 || strcasecmp(te, "chunked") != 0))
        return set_error(p, 501, "not_implemented", "transfer coding '%.60s' not supported", te);
    if (te && cl)
        return set_error(p, 400, "bad_request", "both Content-Length and chunked");
    if (!te && cl && p->hp.content_length > p->limits.max_body)
        return set_error(p, 413, "payload_too_large", "request body over %zu bytes",
                         p->limits.max_body);
    expect = http_request_header(r, "Expect");
    r->expect_continue = expect && r->http_minor == 1 && strcasecmp(expect, "100-continue") == 0;
    return 0;
}

static int fail(struct http_request_parser *p)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);

    if (p->err.status == 0) {
        if (e == HPE_HEADER_OVERFLOW)
            set_error(p, 431, "headers_too_large", "request line and headers too large");
        else if (e == HPE_INVALID_METHOD && p->lead_len >= 3 && memcmp(p->lead, "PRI", 3) == 0)
            set_error(p, 505, "version_not_supported", "HTTP/2 is not supported");
        else if (e == HPE_INVALID_TRANSFER_ENCODING)
            set_error(p, 501, "not_implemented", "transfer coding not supported");
        else
            set_error(p, 400, "bad_request", "malformed request: %s", http_errno_description(e));
    }
    p->state = ST_ERROR;
    if (p->err.status == 500)
        return -ENOMEM;
    if (p->err.status == 413 || p->err.status == 431 || p->err.status == 414)
        return -EMSGSIZE;
    return -EBADMSG;
}

static void note_lead(struct http_request_parser *p, const char *data, size_t n)
{
    size_t i;

    for (i = 0; i < n && p->lead_len < sizeof(p->lead); i++)
        if (p->lead_len || (data[i] != '\r' && data[i] != '\n'))
            p->lead[p->lead_len++] = data[i];
}

int http_request_feed(struct http_request_parser *p, const char *data, size_t len, size_t *consumed)
{
    size_t off = 0, chunk, n;
    enum http_errno e;

    *consumed = 0;
    if (p->state == ST_ERROR)
        return fail(p);
    if (p->state == ST_DONE)
        http_request_reset(p);
    for (;;) {
        if (off == len) {
            *consumed = off;
            return HTTP_REQUEST_NEED_MORE; /* never execute() with 0 bytes: that means EOF */
        }
        chunk = len - off;
        if (p->state == ST_HEADERS_DONE) {
            http_parser_pause(&p->hp, 0);
            p->state = ST_BODY;
        }
        if (p->state == ST_IDLE || p->state == ST_HEADERS) {
            /* one byte past the limit is enough to know it is over */
            if (chunk > p->limits.max_header - p->header_bytes + 1)
                chunk = p->limits.max_header - p->header_bytes + 1;
            note_lead(p, data + off, chunk);
            p->state = ST_HEADERS;
        }
        n = http_parser_execute(&p->hp, &settings, data + off, chunk);
        e = HTTP_PARSER_ERRNO(&p->hp);
        if (e == HPE_PAUSED && p->state == ST_DONE) {
            *consumed = off + n;
            return HTTP_REQUEST_COMPLETE;
        }
        if (e == HPE_PAUSED) {
            p->header_bytes += n + 1; /* execute() stopped on the final LF */
            off += n;
            if (headers_done(p) < 0)
                return fail(p);
            p->state = ST_HEADERS_DONE;
            if (p->req.expect_continue) {
                *consumed = off;
                return HTTP_REQUEST_CONTINUE;
            }
            continue;
        }
        if (e != HPE_OK)
            return fail(p);
        if (p->state == ST_HEADERS) {
            p->header_bytes += n;
            if (p->header_bytes > p->limits.max_header) {
                set_error(p, 431, "headers_too_large", "request line and headers over %zu bytes",
                          p->limits.max_header);
                return fail(p);
            }
        }
        off += n;
    }
}

const struct http_request *http_request_get(const struct http_request_parser *p)
{
    if (p->state == ST_DONE || p->state == ST_HEADERS_DONE || p->state == ST_BODY)
        return &p->req;
    return NULL;
}

int http_request_started(const struct http_request_parser *p)
{
    return p->state == ST_HEADERS || p->state == ST_HEADERS_DONE || p->state == ST_BODY;
}

const struct http_request_error *http_request_error(const struct http_request_parser *p)
{
    return p->state == ST_ERROR ? &p->err : NULL;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- responses ---- */

int http_buf_append(struct http_buf *b, const void *data, size_t len)
{
    if (len > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *d;

        while (cap < b->len + len + 1)
            cap *= 2;
        d = realloc(b->data, cap);
        if (!d)
            return -ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static int appendf(struct http_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(struct http_buf *b, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -EINVAL;
    return http_buf_append(b, tmp, (size_t)n);
}

int http_header_valid(const struct http_header *h)
{
    static const char *const reserved[] = {"Content-Length", "Transfer-Encoding", "Connection"};
    const char *c;
    size_t i;

    if (!h->name || !h->value || !*h->name)
        return 0;
    for (c = h->name; *c; c++)
        if (*c <= ' ' || *c >= 127 || strchr("()<>@,;:\\\"/[]?={}", *c))
            return 0;
    for (c = h->value; *c; c++)
        if (*c == '\r' || *c == '\n')
            return 0;
    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(h->name, reserved[i]) == 0)
            return 0;
    return 1;
}

static int no_body_status(int status)
{
    return status < 200 || status == 204 || status == 304;
}

int http_response_format_head(int status, const struct http_header *headers, size_t nheaders,
                              int64_t content_length, int keep_alive, struct http_buf *out)
{
    size_t start = out->len, i;
    int r = 0;

    if (status < 100 || status > 599 || content_length < HTTP_BODY_UNTIL_CLOSE)
        return -EINVAL;
    for (i = 0; i < nheaders; i++)
        if (!http_header_valid(&headers[i]))
            return -EINVAL;
    if (content_length == HTTP_BODY_UNTIL_CLOSE)
        keep_alive = 0;
    r = appendf(out, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    for (i = 0; r == 0 && i < nheaders; i++) {
        size_t nl = strlen(headers[i].name), vl = strlen(headers[i].value);

        if ((r = http_buf_append(out, headers[i].name, nl)) == 0 &&
            (r = http_buf_append(out, ": ", 2)) == 0 &&
            (r = http_buf_append(out, headers[i].value, vl)) == 0)
            r = http_buf_append(out, "\r\n", 2);
    }
    if (r == 0 && !no_body_status(status)) {
        if (content_length >= 0)
            r = appendf(out, "Content-Length: %" PRId64 "\r\n", content_length);
        else if (content_length == HTTP_BODY_CHUNKED)
            r = appendf(out, "Transfer-Encoding: chunked\r\n");
    }
    if (r == 0)
        r = appendf(out, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
    if (r < 0) {
        out->len = start;
        return r;
    }
    return 0;
}

int http_response_format(int status, const struct http_header *headers, size_t nheaders,
                         const char *body, size_t len, int keep_alive, struct http_buf *out)
{
    size_t start = out->len;
    int r;

    if (len > INT64_MAX)
        return -EINVAL;
    r = http_response_format_head(status, headers, nheaders, (int64_t)len, keep_alive, out);
    if (r == 0 && len && !no_body_status(status))
        r = http_buf_append(out, body, len);
    if (r < 0)
        out->len = start;
    return r;
}

int http_chunk_format(const char *data, size_t len, struct http_buf *out)
{
    size_t start = out->len;
    int r;

    if (len == 0)
        return http_buf_append(out, "0\r\n\r\n", 5);
    r = appendf(out, "%zx\r\n", len);
    if (r == 0)
        r = http_buf_append(out, data, len);
    if (r == 0)
        r = http_buf_append(out, "\r\n", 2);
    if (r < 0)
        out->len = start;
    return r;
}

const char *http_status_text(int status)
{
    static const struct {
        int code;
        const char *text;
    } table[] = {
        /* clang-format off */
        {100, "Continue"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
        {204, "No Content"}, {301, "Moved Permanently"}, {302, "Found"}, {304, "Not Modified"},
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
        {410, "Gone"}, {411, "Length Required"}, {413, "Payload Too Large"},
        {414, "URI Too Long"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Entity"},
        {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
        {503, "Service Unavailable"}, {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].code == status)
            return table[i].text;
    return "Unknown";
}
