/* SPDX-License-Identifier: MIT */
#include "docker_attach.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "docker_api.h"

#define DA_ID_MAX 128
#define DA_READ_SIZE 65536
/* An error answer's body: kept for the message, read at most (its end is EOF or its
 * Content-Length; an engine that sends neither is cut off here). */
#define DA_BODY_KEEP 1024
#define DA_BODY_MAX 65536
#define DA_SYSERR_KEEP 512

enum da_state {
    DA_CONNECTING,
    DA_HEADER,     /* reading the status line and headers */
    DA_ERROR_BODY, /* an answer other than 101/200: reading its body for the message */
    DA_STREAM,     /* upgraded: frames */
    DA_ENDED,      /* on_end ran (or is running) */
};

/* One queued write: the request, or bytes for stdin. */
struct da_write {
    uv_write_t req;
    struct docker_attach *a;
    char *bytes;
};

struct docker_attach {
    uv_pipe_t pipe;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    struct docker_attach_cbs cbs;
    void *data;
    enum da_state state;
    int closed;       /* docker_attach_close ran: no more callbacks */
    int stdin_closed; /* docker_attach_close_stdin ran */
    int write_failed; /* the engine no longer takes bytes */
    char *request;    /* the request text until it is queued */
    size_t request_len;
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    /* DA_HEADER */
    char *hdr;
    size_t hdr_len;
    /* DA_ERROR_BODY */
    long http_status;
    long content_length; /* -1: none, the body ends at EOF */
    size_t body_seen, body_len;
    char status_line[160];
    char body[DA_BODY_KEEP + 1];
    /* DA_STREAM: the frame being read */
    unsigned char fh[8];
    size_t fh_len; /* header bytes of the next frame seen so far */
    uint32_t left; /* payload bytes of the current frame not yet passed on */
    int stream;
    char syserr[DA_SYSERR_KEEP + 1];
    size_t syserr_len;
    char error[DA_SYSERR_KEEP + DA_BODY_KEEP + 200];
    char read_buf[DA_READ_SIZE];
};

static void on_closed(uv_handle_t *h)
{
    struct docker_attach *a = h->data;

    free(a->hdr);
    free(a->request);
    free(a);
}

/* The end, reported once: reading stops; the caller closes a (from on_end or later). */
static void end(struct docker_attach *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void end(struct docker_attach *a, int status, const char *fmt, ...)
{
    va_list ap;

    if (a->closed || a->state == DA_ENDED)
        return;
    a->state = DA_ENDED;
    uv_read_stop((uv_stream_t *)&a->pipe);
    a->error[0] = '\0';
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(a->error, sizeof(a->error), fmt, ap);
        va_end(ap);
    }
    a->cbs.on_end(status, status < 0 ? a->error : NULL, a->data);
}

/* Text from the engine, made fit for one log line: printable ASCII, trimmed. */
static void clean_text(char *s)
{
    size_t n = 0;

    for (char *p = s; *p; p++)
        s[n++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : ' ';
    while (n && s[n - 1] == ' ')
        n--;
    s[n] = '\0';
}

/* An error answer is complete: its status as -errno, the engine's message as text (the
 * "message" of a JSON body, else the body itself). */
static void end_http_error(struct docker_attach *a)
{
    long code = a->http_status;
    int status = -EIO;
    json_t *j = json_loadb(a->body, a->body_len, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "message"));

    if (code == 404)
        status = -ENOENT;
    else if (code == 409)
        status = -EBUSY;
    else if (code >= 400 && code < 500)
        status = -EINVAL;
    if (msg)
        snprintf(a->body, sizeof(a->body), "%s", msg);
    json_decref(j);
    clean_text(a->body);
    end(a, status, "%s%s%s", a->status_line, a->body[0] ? ": " : "", a->body);
}

static void error_body(struct docker_attach *a, const char *p, size_t len)
{
    size_t n;

    if (a->content_length >= 0 && len > (size_t)a->content_length - a->body_seen)
        len = (size_t)a->content_length - a->body_seen; /* what follows is not the body */
    n = len;
    if (n > DA_BODY_KEEP - a->body_len)
        n = DA_BODY_KEEP - a->body_len;
    memcpy(a->body + a->body_len, p, n);
    a->body_len += n;
    a->body[a->body_len] = '\0';
    a->body_seen += len;
    if ((a->content_length >= 0 && a->body_seen >= (size_t)a->content_length) ||
        a->body_seen >= DA_BODY_MAX)
        end_http_error(a);
}

/* A frame of stream 3 carries an error of the engine's own (newer engines): reported as
 * the end once its payload is complete. */
static void syserr_piece(struct docker_attach *a, const char *p, size_t n)
{
    size_t keep = n;

    if (keep > DA_SYSERR_KEEP - a->syserr_len)
        keep = DA_SYSERR_KEEP - a->syserr_len;
    memcpy(a->syserr + a->syserr_len, p, keep);
    a->syserr_len += keep;
    a->syserr[a->syserr_len] = '\0';
    if (a->left == 0) {
        clean_text(a->syserr);
        end(a, -EIO, "the engine: %s", a->syserr);
    }
}

/* Demultiplexes bytes of the stream. A callback may close a or end it: checked after each. */
static void stream_bytes(struct docker_attach *a, const char *p, size_t len)
{
    while (len && !a->closed && a->state == DA_STREAM) {
        size_t n;

        if (a->left == 0) {
            uint32_t size;

            n = sizeof(a->fh) - a->fh_len < len ? sizeof(a->fh) - a->fh_len : len;
            memcpy(a->fh + a->fh_len, p, n);
            a->fh_len += n;
            p += n;
            len -= n;
            if (a->fh_len < sizeof(a->fh))
                break;
            a->fh_len = 0;
            size = (uint32_t)a->fh[4] << 24 | (uint32_t)a->fh[5] << 16 | (uint32_t)a->fh[6] << 8 |
                   (uint32_t)a->fh[7];
            if (a->fh[0] > 3 || a->fh[1] || a->fh[2] || a->fh[3] ||
                size > DOCKER_ATTACH_FRAME_MAX) {
                end(a, -EPROTO,
                    "not a multiplexed stream (frame header %02x %02x %02x %02x,"
                    " size %u): was the container created with Tty?",
                    a->fh[0], a->fh[1], a->fh[2], a->fh[3], (unsigned)size);
                return;
            }
            a->stream = a->fh[0] == 0 ? 1 : a->fh[0];
            a->left = size;
            if (a->stream == 3 && size == 0)
                syserr_piece(a, "", 0);
            continue;
        }
        n = a->left < len ? a->left : len;
        a->left -= (uint32_t)n;
        if (a->stream == 3)
            syserr_piece(a, p, n);
        else
            a->cbs.on_data(a->stream, p, n, a->data);
        p += n;
        len -= n;
    }
}

/* Parses the status line and the one header that matters (Content-Length, for an error's
 * body). Returns the status, or -1 when this is not HTTP. */
static long parse_head(struct docker_attach *a, char *head)
{
    char *line = head, *next;
    long code;

    if (strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' || head[9] < '1' || head[9] > '9' ||
        head[10] < '0' || head[10] > '9' || head[11] < '0' || head[11] > '9')
        return -1;
    code = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    a->content_length = -1;
    while ((next = strstr(line, "\r\n"))) {
        *next = '\0';
        if (line == head)
            snprintf(a->status_line, sizeof(a->status_line), "HTTP %s", head + 9);
        else if (strncasecmp(line, "Content-Length:", 15) == 0)
            a->content_length = strtol(line + 15, NULL, 10);
        line = next + 2;
    }
    clean_text(a->status_line);
    return code;
}

/* Bytes while reading the answer's head; what follows the head in the same read is passed
 * on (the stream's first frames, or the error's body). */
static void head_bytes(struct docker_attach *a, const char *p, size_t len)
{
    size_t from = a->hdr_len > 3 ? a->hdr_len - 3 : 0, n = len, used;
    char *eoh;

    if (n > DOCKER_ATTACH_HEADER_MAX - a->hdr_len)
        n = DOCKER_ATTACH_HEADER_MAX - a->hdr_len;
    memcpy(a->hdr + a->hdr_len, p, n);
    a->hdr_len += n;
    a->hdr[a->hdr_len] = '\0';
    if (!(eoh = memmem(a->hdr + from, a->hdr_len - from, "\r\n\r\n", 4))) {
        if (a->hdr_len >= DOCKER_ATTACH_HEADER_MAX)
            end(a, -EMSGSIZE, "the engine's answer has more than %u bytes of headers",
                DOCKER_ATTACH_HEADER_MAX);
        return;
    }
    used = (size_t)(eoh + 4 - a->hdr) - (a->hdr_len - n);
    eoh[2] = '\0'; /* the head, each line ending in CRLF */
    a->http_status = parse_head(a, a->hdr);
    free(a->hdr);
    a->hdr = NULL;
    p += used;
    len -= used;
    if (a->http_status < 0) {
        end(a, -EPROTO, "the engine's answer is not HTTP");
        return;
    }
    if (a->http_status != 101 && a->http_status != 200) {
        a->state = DA_ERROR_BODY;
        if (a->content_length == 0)
            end_http_error(a);
        else if (len)
            error_body(a, p, len);
        return;
    }
    a->state = DA_STREAM;
    a->cbs.on_ready(a->data);
    if (len)
        stream_bytes(a, p, len);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct docker_attach *a = h->data;

    (void)suggested;
    *buf = uv_buf_init(a->read_buf, sizeof(a->read_buf));
}

static void on_eof(struct docker_attach *a)
{
    if (a->state == DA_HEADER)
        end(a, -ECONNRESET, "the engine closed the connection before answering");
    else if (a->state == DA_ERROR_BODY)
        end_http_error(a);
    else if (a->fh_len || a->left)
        end(a, -EIO, "the attach stream ended inside a frame");
    else
        end(a, 0, NULL);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct docker_attach *a = s->data;

    if (a->closed || nread == 0)
        return;
    /* A unix socket closed with bytes of ours unread (stdin the container never read) reads
     * ECONNRESET on this side instead of EOF, after every byte the engine sent: the same
     * end. */
    if (nread == UV_EOF || nread == UV_ECONNRESET) {
        on_eof(a);
        return;
    }
    if (nread < 0) {
        end(a, (int)nread, "reading the attach stream: %s", uv_strerror((int)nread));
        return;
    }
    if (a->state == DA_HEADER)
        head_bytes(a, buf->base, (size_t)nread);
    else if (a->state == DA_ERROR_BODY)
        error_body(a, buf->base, (size_t)nread);
    else if (a->state == DA_STREAM)
        stream_bytes(a, buf->base, (size_t)nread);
}

/* A write is done. A failure is only noted: the engine closed its end (the container is
 * gone, or did not read its stdin), and the read side tells how the stream ended. */
static void on_written(uv_write_t *req, int status)
{
    struct da_write *w = (struct da_write *)req;

    if (status < 0 && status != UV_ECANCELED)
        w->a->write_failed = 1;
    free(w->bytes);
    free(w);
}

/* Queues bytes (taking them) on the pipe. 0 or -errno. */
static int queue_write(struct docker_attach *a, char *bytes, size_t len)
{
    struct da_write *w = malloc(sizeof(*w));
    uv_buf_t buf = uv_buf_init(bytes, (unsigned)len);
    int r;

    if (!w) {
        free(bytes);
        return -ENOMEM;
    }
    w->a = a;
    w->bytes = bytes;
    if ((r = uv_write(&w->req, (uv_stream_t *)&a->pipe, &buf, 1, on_written)) < 0) {
        free(bytes);
        free(w);
        a->write_failed = 1;
    }
    return r;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct docker_attach *a = req->data;
    char *request = a->request;
    int r;

    if (status == UV_ECANCELED || a->closed)
        return;
    if (status < 0) {
        end(a, status, "connecting to the engine at %s: %s", a->socket, uv_strerror(status));
        return;
    }
    a->request = NULL;
    a->state = DA_HEADER;
    if ((r = queue_write(a, request, a->request_len)) < 0 ||
        (r = uv_read_start((uv_stream_t *)&a->pipe, on_alloc, on_read)) < 0)
        end(a, r, "sending the attach request: %s", uv_strerror(r));
}

/* Container ids and names: what the engine accepts, and nothing that could end the
 * request line. */
static int id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > DA_ID_MAX)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

int docker_attach_open(uv_loop_t *loop, const char *socket_path, const char *container_id,
                       const struct docker_attach_cbs *cbs, void *data, struct docker_attach **out)
{
    static const char fmt[] =
        "POST /" DOCKER_API_VERSION "/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1"
        " HTTP/1.1\r\nHost: docker\r\nUser-Agent: runq-worker\r\nContent-Length: 0\r\n"
        "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    struct sockaddr_un sa;
    struct docker_attach *a;
    int n, r;

    *out = NULL;
    if (!loop || !socket_path || !cbs || !cbs->on_ready || !cbs->on_data || !cbs->on_end ||
        !container_id || !id_ok(container_id))
        return -EINVAL;
    /* libuv would cut a longer path silently and connect somewhere else. */
    if (!*socket_path || strlen(socket_path) >= sizeof(sa.sun_path))
        return -EINVAL;
    if (!(a = calloc(1, sizeof(*a))))
        return -ENOMEM;
    n = snprintf(NULL, 0, fmt, container_id);
    if (!(a->request = malloc((size_t)n + 1))) {
        free(a);
        return -ENOMEM;
    }
    snprintf(a->request, (size_t)n + 1, fmt, container_id);
    a->request_len = (size_t)n;
    if (!(a->hdr = malloc(DOCKER_ATTACH_HEADER_MAX + 1))) {
        free(a->request);
        free(a);
        return -ENOMEM;
    }
    if ((r = uv_pipe_init(loop, &a->pipe, 0)) < 0) {
        free(a->hdr);
        free(a->request);
        free(a);
        return r;
    }
    memcpy(a->socket, socket_path, strlen(socket_path) + 1);
    a->cbs = *cbs;
    a->data = data;
    a->pipe.data = a;
    a->connect.data = a;
    a->state = DA_CONNECTING;
    /* Even a missing socket is reported from the loop: libuv defers the callback. */
    uv_pipe_connect(&a->connect, &a->pipe, socket_path, on_connect);
    *out = a;
    return 0;
}

int docker_attach_write(struct docker_attach *a, char *bytes, size_t len)
{
    if (a->closed || a->state == DA_ENDED || a->stdin_closed || a->write_failed) {
        free(bytes);
        return -EPIPE;
    }
    if (a->state != DA_STREAM) {
        free(bytes);
        return -ENOTCONN;
    }
    if (len == 0) {
        free(bytes);
        return 0;
    }
    if (len > UINT32_MAX) { /* a uv_buf_t holds an unsigned int */
        free(bytes);
        return -EINVAL;
    }
    return queue_write(a, bytes, len);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct docker_attach *a = req->data;

    if (status < 0 && status != UV_ECANCELED)
        a->write_failed = 1;
}

int docker_attach_close_stdin(struct docker_attach *a)
{
    int r;

    if (a->stdin_closed)
        return 0;
    if (a->closed || a->state == DA_ENDED)
        return -EPIPE;
    if (a->state != DA_STREAM)
        return -ENOTCONN;
    a->shutdown.data = a;
    /* libuv shuts the write side down after the queued writes: nothing queued is cut. */
    if ((r = uv_shutdown(&a->shutdown, (uv_stream_t *)&a->pipe, on_shutdown)) < 0)
        return r;
    a->stdin_closed = 1;
    return 0;
}

size_t docker_attach_pending(const struct docker_attach *a)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&a->pipe);
}

void docker_attach_close(struct docker_attach *a)
{
    if (!a || a->closed)
        return;
    a->closed = 1;
    uv_read_stop((uv_stream_t *)&a->pipe);
    /* Pending connect, write and shutdown requests get UV_ECANCELED before on_closed. */
    uv_close((uv_handle_t *)&a->pipe, on_closed);
}
