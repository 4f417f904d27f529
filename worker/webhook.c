/* SPDX-License-Identifier: MIT */
#include "webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "curl_uv.h"
#include "webhook_sign.h"

#define WH_TIMEOUT_MS 10000
#define WH_MAX_PENDING 1024
#define WH_USER_AGENT "runq-webhook/1"
/* Response bytes kept for the error text, and read at most: a receiver streaming an endless
 * body is cut off here (its status line has already decided the outcome). */
#define WH_RESP_KEEP 160
#define WH_RESP_MAX 65536

struct wh_delivery {
    struct wh_delivery *prev, *next; /* w->all: every unfinished delivery */
    struct wh_delivery *wnext;       /* w->waiting, by due time, while a retry waits */
    struct webhook *w;
    CURL *easy; /* the attempt in flight, or NULL */
    struct curl_slist *headers;
    uint64_t due; /* uv_now() at which the waiting retry starts */
    unsigned attempts;
    long http_status;
    webhook_done_cb cb;
    void *data;
    char error[256];
    char errbuf[CURL_ERROR_SIZE];
    char resp[WH_RESP_KEEP + 1];
    size_t resp_len, resp_total;
    const char *url; /* in text[], after the body */
    size_t len;
    char text[]; /* body, NUL, url, NUL */
};

struct webhook {
    uv_loop_t *loop;
    struct curl_uv *cu;     /* the transfers in flight, on the loop */
    uv_timer_t retry_timer; /* the head of waiting */
    int open_handles;       /* the retry timer and cu, until their close callbacks ran */
    int closing;
    webhook_close_cb close_cb;
    void *close_data;
    struct wh_delivery *all, *waiting;
    size_t pending;
    uint32_t rng;
    uint64_t timeout_ms, base_ms, cap_ms;
    unsigned max_attempts, max_pending;
    int allow_private;
    char *secret, *user_agent, *proxy;
};

/* curl's socket opener: the address is known here, after any name resolution, so a name
 * that resolves to the worker's own network is refused as surely as a literal address. */
static curl_socket_t open_public(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
    const unsigned char *raw = NULL;

    (void)data;
    (void)purpose;
    if (a->family == AF_INET)
        raw = (const unsigned char *)&((const struct sockaddr_in *)&a->addr)->sin_addr;
    else if (a->family == AF_INET6)
        raw = (const unsigned char *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    if (!raw || webhook_sign_private_addr(a->family, raw))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

static uint32_t next_rand(struct webhook *w)
{
    uint32_t x = w->rng; /* xorshift32: jitter only, nothing secret */

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return w->rng = x ? x : 0x9e3779b9u;
}

/* One of the two closes webhook_close started is done: the last one frees w. */
static void close_step(struct webhook *w)
{
    if (--w->open_handles == 0 && w->closing) {
        webhook_close_cb cb = w->close_cb;
        void *data = w->close_data;

        explicit_bzero(w->secret, strlen(w->secret));
        free(w->secret);
        free(w->user_agent);
        free(w->proxy);
        free(w);
        if (cb)
            cb(data);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    close_step(h->data);
}

static void on_cu_closed(void *data)
{
    close_step(data);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct wh_delivery *d = userdata;
    size_t n = size * nmemb;

    for (size_t i = 0; i < n && d->resp_len < WH_RESP_KEEP; i++) {
        unsigned char c = (unsigned char)ptr[i];

        /* Only printable ASCII: the text ends up in logs and job records. */
        d->resp[d->resp_len++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    d->resp[d->resp_len] = '\0';
    d->resp_total += n;
    return d->resp_total > WH_RESP_MAX ? 0 : n; /* 0 aborts with CURLE_WRITE_ERROR */
}

static void end_attempt(struct wh_delivery *d)
{
    if (d->easy) {
        curl_uv_remove(d->w->cu, d->easy); /* a no-op once the transfer has finished */
        curl_easy_cleanup(d->easy);
        d->easy = NULL;
    }
    curl_slist_free_all(d->headers);
    d->headers = NULL;
}

static void unlink_all(struct webhook *w, struct wh_delivery *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        w->all = d->next;
    if (d->next)
        d->next->prev = d->prev;
    w->pending--;
}

/* Reports d's outcome and frees it. d must be off every list, its attempt ended. The
 * callback may deliver more or close w. */
static void report(struct wh_delivery *d, int status)
{
    struct webhook_result r = {status, d->http_status, d->attempts, ""};
    webhook_done_cb cb = d->cb;
    void *data = d->data;
    char text[sizeof(d->error) + 32];

    if (status == -ECANCELED)
        snprintf(text, sizeof(text), "cancelled%s%s", d->error[0] ? " after: " : "", d->error);
    else
        snprintf(text, sizeof(text), "%s", status ? d->error : "");
    r.error = text;
    free(d);
    cb(&r, data);
}

static void finish(struct wh_delivery *d, int status)
{
    unlink_all(d->w, d);
    end_attempt(d);
    report(d, status);
}

static void on_attempt_done(CURL *easy, CURLcode res, void *data);

/* Sets up and adds one attempt. Returns 0 or -ENOMEM (nothing left behind). */
static int start_attempt(struct wh_delivery *d)
{
    struct webhook *w = d->w;
    char sig[WEBHOOK_SIGN_SIZE], hts[64], hsig[32 + WEBHOOK_SIGN_SIZE];
    /* "Expect:" stops curl waiting for a 100-continue on large bodies. */
    const char *lines[] = {"Content-Type: application/json", hts, hsig, "Expect:"};
    int64_t now = (int64_t)time(NULL);
    struct curl_slist *h = NULL, *n;
    CURL *e;
    int bad = 0;

    /* Signed per attempt: a retry minutes later carries a fresh timestamp. */
    if (webhook_sign(w->secret, now, d->text, d->len, sig) < 0)
        return -EINVAL;
    snprintf(hts, sizeof(hts), WEBHOOK_SIGN_TIMESTAMP_HEADER ": %" PRId64, now);
    snprintf(hsig, sizeof(hsig), WEBHOOK_SIGN_SIGNATURE_HEADER ": %s", sig);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!(n = curl_slist_append(h, lines[i]))) {
            curl_slist_free_all(h);
            return -ENOMEM;
        }
        h = n;
    }
    if (!(e = curl_easy_init())) {
        curl_slist_free_all(h);
        return -ENOMEM;
    }
    d->errbuf[0] = d->resp[0] = '\0';
    d->resp_len = d->resp_total = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, d->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, w->proxy) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, w->user_agent) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)d->text) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, d) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf) != CURLE_OK;
    if (!w->allow_private)
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_public) != CURLE_OK;
    if (bad || curl_uv_add(w->cu, e, on_attempt_done, d) < 0) {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        return -ENOMEM;
    }
    d->easy = e;
    d->headers = h;
    d->attempts++;
    return 0;
}

static void on_retry_timer(uv_timer_t *t);

/* Re-arms the retry timer for the head of waiting (or stops it). */
static void arm_retry(struct webhook *w)
{
    uint64_t now = uv_now(w->loop);

    if (!w->waiting)
        uv_timer_stop(&w->retry_timer);
    else
        uv_timer_start(&w->retry_timer, on_retry_timer,
                       w->waiting->due > now ? w->waiting->due - now : 0, 0);
}

static void on_retry_timer(uv_timer_t *t)
{
    struct webhook *w = t->data;
    uint64_t now = uv_now(w->loop);

    while (!w->closing && w->waiting && w->waiting->due <= now) {
        struct wh_delivery *d = w->waiting;
        int r;

        w->waiting = d->wnext;
        d->wnext = NULL;
        if ((r = start_attempt(d)) < 0) {
            snprintf(d->error, sizeof(d->error), "retry not started: %s", strerror(-r));
            finish(d, r);
        }
    }
    if (!w->closing)
        arm_retry(w);
}

/* After a failed attempt: wait and try again, or give up once max_attempts were made. */
static void retry_or_give_up(struct wh_delivery *d)
{
    struct webhook *w = d->w;
    struct wh_delivery **p;

    if (d->attempts >= w->max_attempts) {
        finish(d, -EIO);
        return;
    }
    d->due = uv_now(w->loop) +
             webhook_sign_backoff_ms(w->base_ms, w->cap_ms, d->attempts - 1, next_rand(w));
    for (p = &w->waiting; *p && (*p)->due <= d->due; p = &(*p)->wnext)
        ;
    d->wnext = *p;
    *p = d;
    arm_retry(w);
}

/* One finished transfer (from curl_uv, never inside webhook_deliver): delivered, refused, or
 * another attempt. The report may deliver more or close w. */
static void on_attempt_done(CURL *easy, CURLcode res, void *data)
{
    struct wh_delivery *d = data;
    long code = 0;

    (void)easy;
    curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code);
    end_attempt(d);
    d->http_status = code;
    while (d->resp_len && d->resp[d->resp_len - 1] == ' ') /* a final newline, mapped */
        d->resp[--d->resp_len] = '\0';
    /* A status line decides, also when we cut off an endless body ourselves. */
    if (code > 0 &&
        (res == CURLE_OK || (res == CURLE_WRITE_ERROR && d->resp_total > WH_RESP_MAX))) {
        snprintf(d->error, sizeof(d->error), "HTTP %ld%s%s", code, d->resp_len ? ": " : "",
                 d->resp);
        if (code >= 200 && code <= 299)
            finish(d, 0);
        else if (webhook_sign_retryable(code))
            retry_or_give_up(d);
        else
            finish(d, -EREMOTEIO);
        return;
    }
    snprintf(d->error, sizeof(d->error), "%s", d->errbuf[0] ? d->errbuf : curl_easy_strerror(res));
    retry_or_give_up(d);
}

int webhook_open(uv_loop_t *loop, const struct webhook_options *opt, struct webhook **out)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    struct webhook *w;

    *out = NULL;
    if (!loop || !opt || !opt->secret || !*opt->secret)
        return -EINVAL;
    /* A synchronous resolver would block the loop for a DNS round trip per new host. */
    if (!(v->features & CURL_VERSION_ASYNCHDNS) || v->version_num < 0x075500)
        return -ENOTSUP;
    if (!(w = calloc(1, sizeof(*w))))
        return -ENOMEM;
    w->loop = loop;
    w->timeout_ms = opt->timeout_ms ? opt->timeout_ms : WH_TIMEOUT_MS;
    w->max_attempts = opt->max_attempts ? opt->max_attempts : WEBHOOK_SIGN_MAX_ATTEMPTS;
    w->base_ms = opt->backoff_base_ms;
    w->cap_ms = opt->backoff_cap_ms;
    w->max_pending = opt->max_pending ? opt->max_pending : WH_MAX_PENDING;
    w->secret = strdup(opt->secret);
    w->user_agent = strdup(opt->user_agent ? opt->user_agent : WH_USER_AGENT);
    w->proxy = strdup(opt->proxy ? opt->proxy : ""); /* "": no proxy, not even from env */
    w->allow_private = opt->allow_private;
    if (getrandom(&w->rng, sizeof(w->rng), GRND_NONBLOCK) != (ssize_t)sizeof(w->rng))
        w->rng = (uint32_t)uv_hrtime(); /* never wait for entropy on the loop */
    if (!w->secret || !w->user_agent || !w->proxy || curl_uv_open(loop, &w->cu) < 0) {
        free(w->secret);
        free(w->user_agent);
        free(w->proxy);
        free(w);
        return -ENOMEM;
    }
    uv_timer_init(loop, &w->retry_timer);
    w->retry_timer.data = w;
    w->open_handles = 2;
    *out = w;
    return 0;
}

int webhook_deliver(struct webhook *w, const char *url, const void *body, size_t len,
                    webhook_done_cb cb, void *data)
{
    struct wh_delivery *d;
    size_t ulen;
    int r;

    if (w->closing)
        return -ESHUTDOWN;
    if (!cb || (!body && len) || webhook_sign_check_url(url, NULL) < 0)
        return -EINVAL;
    if (w->pending >= w->max_pending)
        return -ENOBUFS;
    ulen = strlen(url);
    if (len > SIZE_MAX - sizeof(*d) - ulen - 2 || !(d = malloc(sizeof(*d) + len + ulen + 2)))
        return -ENOMEM;
    memset(d, 0, sizeof(*d));
    if (len)
        memcpy(d->text, body, len);
    d->text[len] = '\0';
    memcpy(d->text + len + 1, url, ulen + 1);
    d->url = d->text + len + 1;
    d->len = len;
    d->w = w;
    d->cb = cb;
    d->data = data;
    if ((r = start_attempt(d)) < 0) {
        free(d);
        return r;
    }
    if ((d->next = w->all))
        d->next->prev = d;
    w->all = d;
    w->pending++;
    return 0;
}

size_t webhook_pending(const struct webhook *w)
{
    return w->pending;
}

void webhook_close(struct webhook *w, webhook_close_cb cb, void *data)
{
    struct wh_delivery *list;

    if (!w || w->closing)
        return;
    w->closing = 1;
    w->close_cb = cb;
    w->close_data = data;
    /* Take every attempt out and tear curl down first, then report: callbacks see a webhook
     * that refuses new work with -ESHUTDOWN. */
    list = w->all;
    w->all = w->waiting = NULL;
    for (struct wh_delivery *d = list; d; d = d->next)
        end_attempt(d);
    curl_uv_close(w->cu, on_cu_closed, w);
    w->cu = NULL;
    uv_close((uv_handle_t *)&w->retry_timer, on_timer_closed);
    while (list) {
        struct wh_delivery *d = list;

        list = d->next;
        w->pending--;
        report(d, -ECANCELED);
    }
}
