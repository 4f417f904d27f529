/* SPDX-License-Identifier: MIT */
/* http_request: HTTP/1.x requests assembled from bytes fed in any split (over http-parser),
 * and the response head/body formatter. Pure: no sockets, no event loop, no clock.
 * Does: request line, headers (case-insensitive lookup), Content-Length and chunked bodies,
 * keep-alive per HTTP/1.0 and 1.1, pipelining (how much of the input one request took),
 * limits, and an HTTP status + machine code for every rejection.
 * Must not: parse HTTP by hand (http-parser is the only parser), allocate anything but its
 * own buffers and the output buffer it is given, or keep global state (it never calls
 * http_parser_set_max_header_size: the limits are counted here, per parser). */
#ifndef RUNQ_DISPATCHER_HTTP_REQUEST_H
#define RUNQ_DISPATCHER_HTTP_REQUEST_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_DEFAULT_MAX_HEADER 8192        /* request line + headers, bytes */
#define HTTP_DEFAULT_MAX_HEADERS 64         /* header fields */
#define HTTP_DEFAULT_MAX_BODY (1024 * 1024) /* decoded body, bytes */

/* 0 in a field = the default above. */
struct http_limits {
    size_t max_header;  /* request line + header lines + the empty line, CRLFs included */
    size_t max_headers; /* number of header fields */
    size_t max_body;    /* body bytes after chunked decoding */
};

struct http_header {
    const char *name;  /* as sent, NUL-terminated */
    const char *value; /* leading/trailing blanks removed, NUL-terminated */
    size_t value_len;
};

/* One complete request. Every pointer points into the parser and stays valid until the next
 * http_request_feed(), http_request_reset() or http_request_close() on that parser. */
struct http_request {
    const char *method; /* "GET", "POST", ... (static) */
    int method_id;      /* enum http_method */
    const char *target; /* request-target as sent: "/v1/jobs?wait=1" */
    const char *path;   /* "/v1/jobs" ("/" for an absolute-form target without a path) */
    const char *query;  /* "wait=1"; "" when there is no '?' (see has_query) */
    int has_query;
    int http_major, http_minor;
    int keep_alive;      /* 1.1: unless "Connection: close"; 1.0: only "Connection: keep-alive" */
    int expect_continue; /* "Expect: 100-continue" on a 1.1 request */
    const struct http_header *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated (not counted in body_len); "" when empty */
    size_t body_len;
};

/* http_request_feed() results besides a negative errno. */
enum {
    HTTP_REQUEST_NEED_MORE = 0, /* all input taken; feed more bytes */
    HTTP_REQUEST_COMPLETE = 1,  /* http_request_get() holds a request; *consumed tells where */
    HTTP_REQUEST_CONTINUE = 2,  /* headers done with Expect: 100-continue and an acceptable
                                 * length: send "100 Continue", then feed the rest */
};

/* A rejection: what to answer before closing the connection. */
struct http_request_error {
    int status;       /* 400, 413, 414, 431, 501, 505, or 500 when out of memory */
    const char *code; /* static: bad_request, payload_too_large, uri_too_long,
                       * headers_too_large, not_implemented, version_not_supported,
                       * internal_error */
    char message[128];
};

/* A growable byte buffer, always NUL-terminated after len; zero-initialize it, free data
 * with free(). */
struct http_buf {
    char *data;
    size_t len, cap;
};

/* Returns 0 or -ENOMEM (b unchanged). */
int http_buf_append(struct http_buf *b, const void *data, size_t len);

/* Caller-allocated assembler. All fields are private. */
struct http_request_parser {
    http_parser hp;
    struct http_limits limits;
    int state;           /* enum in http_request.c */
    size_t header_bytes; /* of the current request so far */
    char lead[4];        /* first bytes of the request (HTTP/2 preface detection) */
    size_t lead_len;
    struct http_buf text; /* target, then name\0value\0 pairs */
    size_t target_end;    /* offset of the NUL ending the target in text */
    size_t *offs;         /* per header: name offset, value offset (pairs) */
    size_t nfields, offs_cap;
    int last_was_value;
    char *path_buf; /* path\0query\0 */
    struct http_buf body;
    struct http_header *headers;
    struct http_request req;
    struct http_request_error err;
};

/* Sets up p for a first request. limits may be NULL (defaults). Allocates nothing. */
void http_request_init(struct http_request_parser *p, const struct http_limits *limits);

/* Feeds data[0..len). Returns HTTP_REQUEST_NEED_MORE (everything consumed), _COMPLETE or
 * _CONTINUE with *consumed = bytes that belong to this request so far (the rest belongs to
 * what follows: feed it again), or a negative errno with http_request_error() filled:
 *   -EBADMSG malformed (400), unsupported version or an HTTP/2 preface (505), unsupported
 *            transfer coding (501); -EMSGSIZE body over max_body (413), request line +
 *            headers over max_header or too many fields (431), target over 65535 bytes
 *            (414); -ENOMEM (500).
 * After _COMPLETE the next call starts a new request (the previous one becomes invalid).
 * After an error every call returns the same error: the connection must be closed. */
int http_request_feed(struct http_request_parser *p, const char *data, size_t len,
                      size_t *consumed);

/* The request after HTTP_REQUEST_COMPLETE (headers only after _CONTINUE), else NULL. */
const struct http_request *http_request_get(const struct http_request_parser *p);

/* Nonzero once a byte of the next request was fed (for idle vs request timeouts). */
int http_request_started(const struct http_request_parser *p);

const struct http_request_error *http_request_error(const struct http_request_parser *p);

/* Forgets any partial request; keeps the buffers for reuse. */
void http_request_reset(struct http_request_parser *p);

/* Frees the buffers. p may be initialized again afterwards. */
void http_request_close(struct http_request_parser *p);

/* Value of the first header named name (ASCII case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *r, const char *name);

/* Nonzero if h may be sent: a token name other than Content-Length, Transfer-Encoding and
 * Connection (the formatter's), and a value without CR or LF. value_len is not used. */
int http_header_valid(const struct http_header *h);

/* Body framing for http_response_format_head(). */
#define HTTP_BODY_CHUNKED (-1)     /* Transfer-Encoding: chunked */
#define HTTP_BODY_UNTIL_CLOSE (-2) /* no length: the body ends when the connection closes */

/* Appends "HTTP/1.1 <status> <text>", the given headers, the framing header (none for 1xx,
 * 204, 304) and "Connection: keep-alive|close" (always close with HTTP_BODY_UNTIL_CLOSE),
 * then the empty line. Headers must not set Content-Length, Transfer-Encoding or
 * Connection. Returns 0, -EINVAL (status out of 100..599, CR/LF/NUL in a header or a bad
 * name) or -ENOMEM; on error out->len is unchanged. */
int http_response_format_head(int status, const struct http_header *headers, size_t nheaders,
                              int64_t content_length, int keep_alive, struct http_buf *out);

/* Head with Content-Length: len, then the body (no body for 1xx, 204, 304). */
int http_response_format(int status, const struct http_header *headers, size_t nheaders,
                         const char *body, size_t len, int keep_alive, struct http_buf *out);

/* One chunk of a chunked body; len 0 appends the last chunk ("0\r\n\r\n"). */
int http_chunk_format(const char *data, size_t len, struct http_buf *out);

/* "Not Found" for 404; "Unknown" for codes it does not know. */
const char *http_status_text(int status);

#endif
