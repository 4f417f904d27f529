/* SPDX-License-Identifier: MIT */
#include "docker_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "curl_uv.h"

/* The host part is only the Host header's: CURLOPT_UNIX_SOCKET_PATH decides where curl
 * connects, and no name is ever resolved. */
#define DA_URL_PREFIX "http://docker/" DOCKER_API_VERSION

struct docker_call {
    struct docker_call *prev, *next; /* d->calls: every call not yet reported */
    struct docker_api *d;
    CURL *easy;
    struct curl_slist *headers;
    char *body; /* the request's JSON text, or NULL */
    char *resp; /* the response body so far, NUL-terminated */
    size_t resp_len, resp_cap;
    int too_big; /* the body passed DOCKER_API_BODY_MAX */
    docker_api_cb cb;
    void *data;
    char errbuf[CURL_ERROR_SIZE];
};

struct docker_api {
    struct curl_uv *cu;
    struct docker_call *calls;
    unsigned pending;
    int closing;
    void (*close_cb)(void *data);
    void *close_data;
    char socket[];
};

static void call_free(struct docker_call *c)
{
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body);
    free(c->resp);
    free(c);
}

static void unlink_call(struct docker_call *c)
{
    struct docker_api *d = c->d;

    if (c->prev)
        c->prev->next = c->next;
    else
        d->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->pending--;
}

/* CURLOPT_WRITEFUNCTION: keeps the body, up to DOCKER_API_BODY_MAX. Returning less than
 * given aborts the transfer with CURLE_WRITE_ERROR. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct docker_call *c = userdata;
    size_t n = size * nmemb;

    if (n > DOCKER_API_BODY_MAX - c->resp_len) {
        c->too_big = 1;
        return 0;
    }
    if (c->resp_len + n + 1 > c->resp_cap) {
        size_t cap = c->resp_cap ? c->resp_cap : 4096;
        char *p;

        while (cap < c->resp_len + n + 1)
            cap *= 2;
        if (!(p = realloc(c->resp, cap)))
            return 0;
        c->resp = p;
        c->resp_cap = cap;
    }
    memcpy(c->resp + c->resp_len, ptr, n);
    c->resp_len += n;
    c->resp[c->resp_len] = '\0';
    return n;
}

/* A transport failure as -errno. The connect errors keep the system's reason: ENOENT (no
 * socket file: no engine was ever started there) reads differently from ECONNREFUSED (a
 * stale socket file: the engine died) in an operator's log. */
static int transport_status(const struct docker_call *c, CURLcode res)
{
    long os_errno = 0;

    switch (res) {
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
        return os_errno > 0 ? -(int)os_errno : -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_WRITE_ERROR:
        return c->too_big ? -EMSGSIZE : -ENOMEM; /* on_body fails only on these two */
    case CURLE_URL_MALFORMAT:
        return -EINVAL;
    default:
        return -EIO; /* the connection broke, or the answer was not HTTP */
    }
}

/* From curl_uv, never inside docker_api_request: the call's one report. */
static void on_done(CURL *easy, CURLcode res, void *data)
{
    struct docker_call *c = data;
    docker_api_cb cb = c->cb;
    void *cb_data = c->data;
    long http = 0;
    json_t *body = NULL;
    char error[CURL_ERROR_SIZE + 160], *raw = NULL;
    int status = 0;

    (void)easy;
    unlink_call(c);
    error[0] = '\0';
    if (res == CURLE_OK) {
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &http);
        if (c->resp_len) /* not JSON (_ping's "OK", a proxy's HTML): NULL, raw has it */
            body = json_loadb(c->resp, c->resp_len, JSON_DECODE_ANY, NULL);
    } else {
        status = transport_status(c, res);
        if (status == -EMSGSIZE)
            snprintf(error, sizeof(error), "the engine's answer passed %u bytes",
                     DOCKER_API_BODY_MAX);
        else if (res == CURLE_COULDNT_CONNECT) /* curl's text names "docker port 80" */
            snprintf(error, sizeof(error), "cannot connect to the Docker engine at %s: %s",
                     c->d->socket, strerror(-status));
        else
            snprintf(error, sizeof(error), "%s",
                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(res));
        c->resp_len = 0;
    }
    /* Freed before the callback, which may close d or make new calls: only locals remain. */
    if (c->resp_len) {
        raw = c->resp;
        c->resp = NULL;
    }
    call_free(c);
    cb(status, http, body, raw ? raw : "", error, cb_data);
    free(raw);
    json_decref(body);
}

int docker_api_open(uv_loop_t *loop, const char *socket_path, struct docker_api **out)
{
    struct sockaddr_un sa;
    struct docker_api *d;
    size_t len;
    int r;

    *out = NULL;
    if (!loop || !socket_path || !*socket_path)
        return -EINVAL;
    if ((len = strlen(socket_path)) >= sizeof(sa.sun_path))
        return -EINVAL;
    if (!(d = calloc(1, sizeof(*d) + len + 1)))
        return -ENOMEM;
    memcpy(d->socket, socket_path, len + 1);
    if ((r = curl_uv_open(loop, &d->cu)) < 0) {
        free(d);
        return r;
    }
    *out = d;
    return 0;
}

/* The methods the engine's API uses. */
static int method_ok(const char *m)
{
    static const char *const known[] = {"GET", "POST", "DELETE", "PUT", "HEAD"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(m, known[i]) == 0)
            return 1;
    return 0;
}

/* A path goes into the request line as it is: printable ASCII without spaces, so nothing a
 * caller passes can end the line or add a header. */
static int path_ok(const char *p)
{
    if (p[0] != '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

/* Sets every option of c's easy handle. Returns 0 or -ENOMEM. */
static int configure(struct docker_call *c, const char *method, const char *path,
                     uint64_t timeout_ms)
{
    CURL *e = c->easy;
    size_t len = sizeof(DA_URL_PREFIX) + strlen(path);
    char *url = malloc(len);
    int bad = 0;

    if (!url)
        return -ENOMEM;
    snprintf(url, len, "%s%s", DA_URL_PREFIX, path);
    bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK; /* curl copies it */
    free(url);
    bad |= curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, (const char *)c->d->socket) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK; /* not even from the env */
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
    if (c->body || strcmp(method, "POST") == 0) {
        const char *text = c->body ? c->body : "";

        bad |=
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text)) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, text) != CURLE_OK;
        if (strcmp(method, "POST") != 0)
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    } else if (strcmp(method, "HEAD") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else if (strcmp(method, "GET") != 0) {
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    }
    return bad ? -ENOMEM : 0;
}

/* The request's headers: the body's type when there is one, and "Expect:" so curl never
 * waits for a 100-continue the engine does not send. 0 or -ENOMEM. */
static int make_headers(struct docker_call *c)
{
    const char *lines[] = {"Expect:", "Content-Type: application/json"};
    size_t n = c->body ? 2 : 1;

    for (size_t i = 0; i < n; i++) {
        struct curl_slist *h = curl_slist_append(c->headers, lines[i]);

        if (!h)
            return -ENOMEM;
        c->headers = h;
    }
    return 0;
}

int docker_api_request(struct docker_api *d, const char *method, const char *path,
                       const json_t *body, uint64_t timeout_ms, docker_api_cb cb, void *data,
                       struct docker_call **out)
{
    struct docker_call *c;
    int r = -ENOMEM;

    if (out)
        *out = NULL;
    if (d->closing)
        return -ESHUTDOWN;
    if (!cb || !method || !path || !method_ok(method) || !path_ok(path))
        return -EINVAL;
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    c->d = d;
    c->cb = cb;
    c->data = data;
    if (body && !(c->body = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY))) {
        call_free(c);
        return -ENOMEM;
    }
    if (!(c->easy = curl_easy_init()) || (r = make_headers(c)) < 0 ||
        (r = configure(c, method, path, timeout_ms ? timeout_ms : DOCKER_API_TIMEOUT_MS)) < 0 ||
        (r = curl_uv_add(d->cu, c->easy, on_done, c)) < 0) {
        call_free(c);
        return r;
    }
    if ((c->next = d->calls))
        c->next->prev = c;
    d->calls = c;
    d->pending++;
    if (out)
        *out = c;
    return 0;
}

void docker_api_cancel(struct docker_call *c)
{
    if (!c)
        return;
    unlink_call(c);
    curl_uv_remove(c->d->cu, c->easy);
    call_free(c);
}

unsigned docker_api_pending(const struct docker_api *d)
{
    return d->pending;
}

static void on_cu_closed(void *data)
{
    struct docker_api *d = data;
    void (*cb)(void *data) = d->close_cb;
    void *cb_data = d->close_data;

    free(d);
    if (cb)
        cb(cb_data);
}

void docker_api_close(struct docker_api *d, void (*cb)(void *data), void *data)
{
    if (!d || d->closing)
        return;
    d->closing = 1;
    d->close_cb = cb;
    d->close_data = data;
    while (d->calls)
        docker_api_cancel(d->calls);
    curl_uv_close(d->cu, on_cu_closed, d);
    d->cu = NULL;
}

const char *docker_api_socket(const struct docker_api *d)
{
    return d->socket;
}
