/* SPDX-License-Identifier: MIT */
/* runq_http: see runq_http.h. One easy handle serves the plain requests (curl_easy_reset
 * keeps its connection, so a run of requests shares one keep-alive connection); each
 * multi request has an easy handle of its own, reachable from libcurl's through
 * CURLOPT_PRIVATE. */
#include "runq_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX ((size_t)512 << 20) /* a job's result holds its output: up to 64 MiB each */
#define CONNECT_TIMEOUT_MS 10000L
#define STREAM_SILENCE_S 60L /* the dispatcher sends a keepalive every 15 s */
#define USER_AGENT "runq-cli/0.1"

struct runq_http {
    CURL *curl;
    char *base;
};

/* What a transfer collects, and where a streamed body goes. */
struct transfer {
    CURL *curl;
    struct curl_slist *headers;
    struct runq_http_resp *resp;
    runq_http_data_fn *fn; /* streaming: a 200 body goes here */
    void *arg;
    int stopped; /* fn asked to stop */
    char errbuf[CURL_ERROR_SIZE];
    /* multi only */
    struct runq_http_resp own;
    size_t tag;
    struct transfer *next, *prev; /* the multi's transfers in flight */
};

struct runq_http_multi {
    CURLM *multi;
    char *base;
    size_t pending;
    struct transfer *transfers; /* in flight (curl_multi_get_handles is curl >= 8.4) */
};

void runq_http_resp_free(struct runq_http_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* base without trailing slashes, copied. */
static char *base_copy(const char *base)
{
    size_t n = strlen(base);

    while (n && base[n - 1] == '/')
        n--;
    return strndup(base, n);
}

static char *url_of(const char *base, const char *path)
{
    size_t n = strlen(base) + strlen(path) + 1;
    char *u = malloc(n);

    if (u)
        snprintf(u, n, "%s%s", base, path);
    return u;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
    struct transfer *t = p;
    struct runq_http_resp *r = t->resp;
    size_t n = size * nmemb;
    long code = 0;
    char *b;

    if (t->fn) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200) {
            if (t->fn(t->arg, data, n)) {
                t->stopped = 1;
                return 0; /* makes libcurl end the transfer (CURLE_WRITE_ERROR) */
            }
            return n;
        }
    }
    if (n > BODY_MAX - r->len) {
        snprintf(t->errbuf, sizeof(t->errbuf), "the answer is larger than %zu MiB", BODY_MAX >> 20);
        return 0;
    }
    if (!(b = realloc(r->body, r->len + n + 1)))
        return 0;
    memcpy(b + r->len, data, n);
    r->body = b;
    r->len += n;
    b[r->len] = '\0';
    return n;
}

/* Sets a transfer up for base + path. Returns 0 or -ENOMEM. */
static int setup(struct transfer *t, const char *base, const char *path, long timeout_ms,
                 const char *json)
{
    char *url = url_of(base, path);
    CURL *c = t->curl;
    int bad = !url;

    t->errbuf[0] = '\0';
    t->headers = curl_slist_append(NULL, "Accept: application/json, text/event-stream");
    /* the dispatcher handles 100-continue, but waiting for it costs a round trip */
    if (t->headers && json)
        t->headers = curl_slist_append(t->headers, "Expect:");
    if (t->headers && json)
        t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    bad |= !t->headers;
    bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    free(url);
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK;
    if (timeout_ms > 0)
        bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
    else {
        bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STREAM_SILENCE_S) != CURLE_OK;
    }
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, t) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK;
    if (json)
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, json) != CURLE_OK;
    return bad ? -ENOMEM : 0;
}

/* The end of a transfer: the status into t->resp, or why there is none. 0 or -1. */
static int finish(struct transfer *t, CURLcode rc)
{
    struct runq_http_resp *r = t->resp;

    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (rc == CURLE_OK || (t->stopped && r->status == 200))
        return 0;
    r->status = 0;
    snprintf(r->error, sizeof(r->error), "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    return -1;
}

int runq_http_new(const char *base, struct runq_http **out)
{
    struct runq_http *h = calloc(1, sizeof(*h));

    if (!h || !(h->base = base_copy(base)) || !(h->curl = curl_easy_init())) {
        runq_http_free(h);
        return -ENOMEM;
    }
    *out = h;
    return 0;
}

void runq_http_free(struct runq_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->base);
    free(h);
}

static int perform(struct runq_http *h, const char *path, long timeout_ms, const char *json,
                   runq_http_data_fn *fn, void *arg, struct runq_http_resp *r)
{
    struct transfer t = {.curl = h->curl, .resp = r, .fn = fn, .arg = arg};

    memset(r, 0, sizeof(*r));
    curl_easy_reset(h->curl);
    if (setup(&t, h->base, path, timeout_ms, json) < 0) {
        curl_slist_free_all(t.headers);
        snprintf(r->error, sizeof(r->error), "out of memory");
        return -1;
    }
    return finish(&t, curl_easy_perform(h->curl));
}

int runq_http_get(struct runq_http *h, const char *path, long timeout_ms, struct runq_http_resp *r)
{
    return perform(h, path, timeout_ms > 0 ? timeout_ms : RUNQ_HTTP_TIMEOUT_MS, NULL, NULL, NULL,
                   r);
}

int runq_http_post(struct runq_http *h, const char *path, const char *json,
                   struct runq_http_resp *r)
{
    return perform(h, path, RUNQ_HTTP_TIMEOUT_MS, json, NULL, NULL, r);
}

int runq_http_stream(struct runq_http *h, const char *path, runq_http_data_fn *fn, void *arg,
                     struct runq_http_resp *r)
{
    return perform(h, path, 0, NULL, fn, arg, r);
}

/*** multi ***/

int runq_http_multi_new(const char *base, struct runq_http_multi **out)
{
    struct runq_http_multi *m = calloc(1, sizeof(*m));

    if (!m || !(m->base = base_copy(base)) || !(m->multi = curl_multi_init())) {
        runq_http_multi_free(m);
        return -ENOMEM;
    }
    *out = m;
    return 0;
}

static void transfer_free(struct transfer *t)
{
    curl_slist_free_all(t->headers);
    if (t->curl)
        curl_easy_cleanup(t->curl);
    runq_http_resp_free(&t->own);
    free(t);
}

static void unlink_transfer(struct runq_http_multi *m, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        m->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    curl_multi_remove_handle(m->multi, t->curl);
    m->pending--;
}

void runq_http_multi_free(struct runq_http_multi *m)
{
    if (!m)
        return;
    while (m->transfers) { /* still in flight when the caller gives up (an error elsewhere) */
        struct transfer *t = m->transfers;
        unlink_transfer(m, t);
        transfer_free(t);
    }
    if (m->multi)
        curl_multi_cleanup(m->multi);
    free(m->base);
    free(m);
}

int runq_http_multi_get(struct runq_http_multi *m, const char *path, long timeout_ms, size_t tag)
{
    struct transfer *t = calloc(1, sizeof(*t));

    if (!t || !(t->curl = curl_easy_init())) {
        free(t);
        return -ENOMEM;
    }
    t->resp = &t->own;
    t->tag = tag;
    if (setup(t, m->base, path, timeout_ms > 0 ? timeout_ms : RUNQ_HTTP_TIMEOUT_MS, NULL) < 0 ||
        curl_easy_setopt(t->curl, CURLOPT_PRIVATE, t) != CURLE_OK) {
        transfer_free(t);
        return -ENOMEM;
    }
    if (curl_multi_add_handle(m->multi, t->curl) != CURLM_OK) {
        transfer_free(t);
        return -EIO;
    }
    t->next = m->transfers;
    if (t->next)
        t->next->prev = t;
    m->transfers = t;
    m->pending++;
    return 0;
}

size_t runq_http_multi_pending(const struct runq_http_multi *m)
{
    return m->pending;
}

int runq_http_multi_run(struct runq_http_multi *m, int timeout_ms, runq_http_done_fn *fn, void *arg)
{
    int running = 0, left = 0;
    CURLMsg *msg;

    if (curl_multi_perform(m->multi, &running) != CURLM_OK ||
        curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK ||
        curl_multi_perform(m->multi, &running) != CURLM_OK)
        return -EIO;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        /* msg does not survive the removal of its handle: read it first */
        CURLcode result = msg->data.result;
        char *priv = NULL;
        struct transfer *t;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (!(t = (struct transfer *)priv))
            continue;
        unlink_transfer(m, t);
        finish(t, result);
        fn(arg, t->tag, &t->own);
        transfer_free(t);
    }
    return 0;
}
