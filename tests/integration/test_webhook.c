/* SPDX-License-Identifier: MIT */
/* Integration tests of worker/webhook against a real HTTP receiver on 127.0.0.1 (a thread
 * with blocking sockets in this file, so a receiver that is slow never stalls the loop under
 * test): the receiver checks each request's signature with webhook_sign_verify (and that a
 * wrong secret fails it), and records method, path, headers and the exact body; it answers
 * from a script (status, delay). Cases: delivered at once; 500 then 200 and 429, 503 then 200
 * retried; 400 and 302 given up at once; a port where nothing listens retried up to
 * max_attempts; a timeout retried; a 1.5 MB body; the loop keeps ticking while the receiver
 * sleeps; webhook_close with an attempt in flight and a retry waiting (-ECANCELED, before
 * close returns), and from a callback. Every wait is bounded (a loop watchdog, and alarm()). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "loop_util.h"
#include "tap.h"
#include "webhook_rx.h"
#include "webhook.h"
#include "webhook_sign.h"

#define SECRET "whsec_integration"
#define WAIT_MS 20000


struct env {
    struct lu_loop lu;
    struct receiver rx;
    char url[128];
};

/* One delivery's record. */
struct done {
    int calls, status;
    long http_status;
    unsigned attempts;
    char error[300];
    uint64_t at_ms;
    struct env *e;
    struct webhook *close_w; /* set: the callback delivers into *chain, then closes close_w */
    struct done *chain;
    int deliver_rc;
};

static void on_done(const struct webhook_result *r, void *data)
{
    struct done *d = data;

    d->calls++;
    d->status = r->status;
    d->http_status = r->http_status;
    d->attempts = r->attempts;
    snprintf(d->error, sizeof(d->error), "%s", r->error);
    d->at_ms = uv_now(&d->e->lu.loop);
    if (d->close_w) {
        struct webhook *w = d->close_w;

        d->close_w = NULL;
        d->chain->e = d->e;
        d->deliver_rc = webhook_deliver(w, d->e->url, "{}", 2, on_done, d->chain);
        webhook_close(w, NULL, NULL);
    }
}

/* The checks every request the receiver got must pass: signed right, the exact body. */
static void check_reqs(struct tap *t, struct receiver *rx, const char *what, const char *body,
                       size_t len, int want)
{
    int n = rx_count(rx), sig = 1, exact = 1, wrong = 1, hdrs = 1;

    pthread_mutex_lock(&rx->mu);
    for (int i = 0; i < n; i++) {
        struct rx_req *q = &rx->reqs[i];

        sig &= q->verify == 0;
        wrong &= q->verify_wrong == -EBADMSG;
        exact &= q->len == len && !memcmp(q->body, body, len);
        hdrs &= !strcmp(q->method, "POST") && !strcmp(q->path, "/hook?job=1") &&
                !strcmp(q->content_type, "application/json") &&
                !strcmp(q->user_agent, "runq-webhook/1") && !q->expect;
    }
    pthread_mutex_unlock(&rx->mu);
    tap_ok(t, n == want, "%s: the receiver got %d request(s) (want %d)", what, n, want);
    tap_ok(t, n > 0 && sig, "%s: every signature verifies with the secret", what);
    tap_ok(t, n > 0 && wrong, "%s: and fails with another secret (-EBADMSG)", what);
    tap_ok(t, n > 0 && exact, "%s: the body arrived byte for byte", what);
    tap_ok(t, n > 0 && hdrs, "%s: POST, path, Content-Type, User-Agent, no Expect", what);
}

/* Delivers body to the receiver with script, waits for the outcome into *d. */
static void deliver_case(struct env *e, struct webhook *w, const struct rx_answer *script, int n,
                         const char *body, struct done *d)
{
    int r;

    rx_reset(&e->rx, script, n);
    memset(d, 0, sizeof(*d));
    d->e = e;
    r = webhook_deliver(w, e->url, body, strlen(body), on_done, d);
    if (r < 0 || d->calls) {
        printf("# webhook_deliver: %d, calls %d\n", r, d->calls);
        return;
    }
    lu_run_until(&e->lu, &d->calls, WAIT_MS);
}

static const char *BODY = "{\"id\":\"default.01hx\",\"status\":\"completed\",\"result\":"
                          "{\"stdout\":\"12\\n\",\"note\":\"caf\\u00e9 \\\"q\\\"\"}}";

static void test_outcomes(struct tap *t, struct env *e, struct webhook *w)
{
    static const struct rx_answer ok[] = {{200, 0}}, once500[] = {{500, 0}, {200, 0}},
                                  r429[] = {{429, 0}, {503, 0}, {204, 0}}, r400[] = {{400, 0}},
                                  r302[] = {{302, 0}};
    struct done d;
    int settle = 0;

    deliver_case(e, w, ok, 1, BODY, &d);
    tap_ok(t,
           d.calls == 1 && d.status == 0 && d.http_status == 200 && d.attempts == 1 &&
               !strcmp(d.error, ""),
           "200: delivered on attempt 1 (status %d, http %ld, attempts %u, error '%s')", d.status,
           d.http_status, d.attempts, d.error);
    check_reqs(t, &e->rx, "200", BODY, strlen(BODY), 1);

    deliver_case(e, w, once500, 2, BODY, &d);
    tap_ok(t, d.calls == 1 && d.status == 0 && d.http_status == 200 && d.attempts == 2,
           "500 then 200: delivered on attempt 2 (status %d, attempts %u)", d.status, d.attempts);
    check_reqs(t, &e->rx, "500 then 200", BODY, strlen(BODY), 2);

    deliver_case(e, w, r429, 3, BODY, &d);
    tap_ok(t, d.calls == 1 && d.status == 0 && d.http_status == 204 && d.attempts == 3,
           "429, 503, then 204: delivered on attempt 3 (status %d, attempts %u)", d.status,
           d.attempts);

    deliver_case(e, w, r400, 1, BODY, &d);
    tap_ok(t,
           d.calls == 1 && d.status == -EREMOTEIO && d.http_status == 400 && d.attempts == 1 &&
               !strcmp(d.error, "HTTP 400: answer 400"),
           "400: given up at once (status %d, http %ld, attempts %u, error '%s')", d.status,
           d.http_status, d.attempts, d.error);
    lu_run_until(&e->lu, &settle, 200); /* a retry would come within ~50 ms (cap) */
    tap_ok(t, rx_count(&e->rx) == 1, "400: no second request (%d)", rx_count(&e->rx));

    deliver_case(e, w, r302, 1, BODY, &d);
    lu_run_until(&e->lu, &settle, 100);
    tap_ok(
        t, d.calls == 1 && d.status == -EREMOTEIO && d.http_status == 302 && rx_count(&e->rx) == 1,
        "302: not followed, given up at once (status %d, requests %d)", d.status, rx_count(&e->rx));
}

static void test_big_body(struct tap *t, struct env *e, struct webhook *w)
{
    static const struct rx_answer ok[] = {{200, 0}};
    size_t len = 1500000; /* over curl's 1 MiB Expect: 100-continue threshold */
    char *big = malloc(len + 1);
    struct done d;

    if (!tap_ok(t, big != NULL, "allocate a 1.5 MB body"))
        return;
    big[0] = '"';
    for (size_t i = 1; i < len - 1; i++)
        big[i] = (char)('a' + i % 26);
    big[len - 1] = '"';
    big[len] = '\0';
    deliver_case(e, w, ok, 1, big, &d);
    tap_ok(t, d.calls == 1 && d.status == 0 && d.attempts == 1,
           "1.5 MB body: delivered (status %d)", d.status);
    check_reqs(t, &e->rx, "1.5 MB body", big, len, 1);
    free(big);
}

static void test_dead_port(struct tap *t, struct env *e, struct webhook *w)
{
    char url[128];
    int port, fd = rx_bound_socket(0, &port); /* bound, never listening: connection refused */
    struct done d = {.e = e};
    uint64_t t0 = uv_now(&e->lu.loop);

    if (!tap_ok(t, fd >= 0, "a port where nothing listens"))
        return;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
    tap_ok(t, webhook_deliver(w, url, "{}", 2, on_done, &d) == 0 && d.calls == 0,
           "deliver accepted, no callback from inside it");
    tap_ok(t, webhook_pending(w) == 1, "one delivery pending");
    lu_run_until(&e->lu, &d.calls, WAIT_MS);
    tap_ok(t,
           d.calls == 1 && d.status == -EIO && d.attempts == 4 && d.http_status == 0 &&
               strstr(d.error, "onnect") != NULL,
           "nothing listening: given up after max_attempts 4 (status %d, attempts %u, '%s')",
           d.status, d.attempts, d.error);
    tap_ok(t, d.at_ms - t0 < 5000, "with short backoffs (%llu ms)",
           (unsigned long long)(d.at_ms - t0));
    tap_ok(t, webhook_pending(w) == 0, "nothing pending afterwards");
    close(fd);
}

/* Without allow_private the receiver on 127.0.0.1 is never connected to, by name or number. */
static void test_private(struct tap *t, struct env *e, const struct webhook_options *base)
{
    struct webhook_options o = *base;
    struct webhook *w = NULL;
    char url[128];
    struct done d = {.e = e}, n = {.e = e};
    int closed = 0;

    o.allow_private = 0;
    o.max_attempts = 2;
    o.timeout_ms = 500; /* a refused socket may leave curl waiting for another address */
    rx_reset(&e->rx, NULL, 0);
    if (!tap_ok(t, webhook_open(&e->lu.loop, &o, &w) == 0,
                "open one that refuses private addresses"))
        return;
    webhook_deliver(w, e->url, "{}", 2, on_done, &d);
    snprintf(url, sizeof(url), "http://localhost:%d/hook", e->rx.port);
    webhook_deliver(w, url, "{}", 2, on_done, &n);
    lu_run_until(&e->lu, &d.calls, WAIT_MS);
    lu_run_until(&e->lu, &n.calls, WAIT_MS);
    tap_ok(t, d.calls == 1 && d.status == -EIO && n.calls == 1 && n.status == -EIO &&
                  rx_count(&e->rx) == 0,
           "127.0.0.1 and localhost: given up, the receiver never reached (%d, %d)", d.status,
           n.status);
    webhook_close(w, lu_on_closed, &closed);
    lu_run_until(&e->lu, &closed, WAIT_MS);
}

static void on_tick(uv_timer_t *h)
{
    uint64_t *s = h->data, now = uv_hrtime() / 1000000;

    if (s[1] && now - s[1] > s[2])
        s[2] = now - s[1]; /* the longest gap between two ticks */
    s[1] = now;
    s[0]++;
}

static void test_slow_and_timeout(struct tap *t, struct env *e, struct webhook *w,
                                  struct webhook *quick)
{
    static const struct rx_answer slow[] = {{200, 600}}, late[] = {{200, 600}, {200, 0}};
    uint64_t s[3] = {0, 0, 0}; /* ticks, last tick, longest gap (ms) */
    uv_timer_t tick;
    struct done d;
    uint64_t t0 = uv_now(&e->lu.loop);

    uv_timer_init(&e->lu.loop, &tick);
    tick.data = s;
    uv_timer_start(&tick, on_tick, 10, 10);
    deliver_case(e, w, slow, 1, BODY, &d);
    uv_timer_stop(&tick);
    uv_close((uv_handle_t *)&tick, NULL);
    tap_ok(t, d.calls == 1 && d.status == 0 && d.at_ms - t0 >= 550,
           "slow receiver: delivered after %llu ms", (unsigned long long)(d.at_ms - t0));
    tap_ok(t, s[0] >= 30 && s[2] < 150,
           "the loop kept ticking meanwhile (%llu ticks of 10 ms, longest gap %llu ms)",
           (unsigned long long)s[0], (unsigned long long)s[2]);

    /* quick has a 400 ms timeout: the first attempt times out; the second waits in the
     * receiver's backlog until its 600 ms sleep ends, then is answered at once. */
    deliver_case(e, quick, late, 2, BODY, &d);
    tap_ok(t, d.calls == 1 && d.status == 0 && d.attempts == 2,
           "timeout: retried and delivered on attempt 2 (status %d, attempts %u, '%s')", d.status,
           d.attempts, d.error);
    check_reqs(t, &e->rx, "timeout", BODY, strlen(BODY), 2);
}


static void test_close(struct tap *t, struct env *e, struct webhook *w)
{
    static const struct rx_answer slow[] = {{200, 1500}};
    char dead[128];
    int port, fd = rx_bound_socket(0, &port), closed = 0, settle = 0;
    struct done a = {.e = e}, b = {.e = e}, again = {.e = e};

    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/", port);
    rx_reset(&e->rx, slow, 1);
    tap_ok(t,
           fd >= 0 && webhook_deliver(w, e->url, BODY, strlen(BODY), on_done, &a) == 0 &&
               webhook_deliver(w, dead, "{}", 2, on_done, &b) == 0,
           "an attempt to a slow receiver and one to a dead port");
    lu_run_until(&e->lu, &settle, 300); /* a is in flight, b failed and waits (10 s backoff) */
    tap_ok(t, a.calls == 0 && b.calls == 0 && webhook_pending(w) == 2, "both pending");
    a.close_w = w; /* a's callback tries to deliver again: -ESHUTDOWN */
    a.chain = &again;
    webhook_close(w, lu_on_closed, &closed);
    tap_ok(t, a.calls == 1 && a.status == -ECANCELED && a.attempts == 1,
           "in flight: -ECANCELED before close returns (calls %d, status %d, attempts %u)", a.calls,
           a.status, a.attempts);
    tap_ok(
        t,
        b.calls == 1 && b.status == -ECANCELED && b.attempts >= 1 && strstr(b.error, "cancelled"),
        "waiting retry: -ECANCELED (status %d, attempts %u, '%s')", b.status, b.attempts, b.error);
    tap_ok(t, a.deliver_rc == -ESHUTDOWN && again.calls == 0,
           "deliver from a cancel callback -> -ESHUTDOWN (%d)", a.deliver_rc);
    tap_ok(t, closed == 0, "close callback waits for the handles");
    lu_run_until(&e->lu, &closed, WAIT_MS);
    tap_ok(t, closed == 1, "close callback ran once");
    close(fd);
}

int main(void)
{
    struct tap t = {0};
    struct env e;
    struct webhook_options o = {.secret = SECRET,
                                .timeout_ms = 5000,
                                .max_attempts = 4,
                                .backoff_base_ms = 10,
                                .backoff_cap_ms = 50,
                                .allow_private = 1}; /* the receiver is on 127.0.0.1 */
    struct webhook *w = NULL, *quick = NULL, *slowretry = NULL, *bad = NULL;
    struct done last, chained;
    int closed = 0, loop_rc;

    alarm(120);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* what runq-worker's main() does */
    memset(&e, 0, sizeof(e));
    lu_init(&e.lu);
    if (!tap_ok(&t, rx_start(&e.rx, SECRET) == 0, "receiver listening on 127.0.0.1"))
        return tap_done(&t);
    snprintf(e.url, sizeof(e.url), "http://127.0.0.1:%d/hook?job=1", e.rx.port);

    tap_ok(&t,
           webhook_open(&e.lu.loop, &(struct webhook_options){.secret = ""}, &bad) == -EINVAL &&
               !bad,
           "open without a secret -> -EINVAL");
    tap_ok(&t, webhook_open(&e.lu.loop, &o, &w) == 0 && w, "open");
    o.timeout_ms = 400;
    tap_ok(&t, webhook_open(&e.lu.loop, &o, &quick) == 0,
           "open a second one with a 400 ms timeout");
    o.timeout_ms = 5000;
    o.backoff_base_ms = o.backoff_cap_ms = 10000;
    tap_ok(&t, webhook_open(&e.lu.loop, &o, &slowretry) == 0, "open a third with 10 s backoffs");
    tap_ok(&t,
           webhook_deliver(w, "ftp://127.0.0.1/x", "{}", 2, on_done, &last) == -EINVAL &&
               webhook_deliver(w, "http://u:p@127.0.0.1/", "{}", 2, on_done, &last) == -EINVAL &&
               webhook_deliver(w, e.url, "{}", 2, NULL, NULL) == -EINVAL && webhook_pending(w) == 0,
           "ftp URL, credentials in the URL, no callback -> -EINVAL, nothing pending");

    test_outcomes(&t, &e, w);
    test_big_body(&t, &e, w);
    test_dead_port(&t, &e, w);
    test_private(&t, &e, &o);
    test_slow_and_timeout(&t, &e, w, quick);
    test_close(&t, &e, slowretry);

    /* The last webhook is closed from inside a delivery's callback. */
    memset(&last, 0, sizeof(last));
    memset(&chained, 0, sizeof(chained));
    last.e = &e;
    last.close_w = w;
    last.chain = &chained;
    rx_reset(&e.rx, NULL, 0);
    tap_ok(&t, webhook_deliver(w, e.url, "{}", 2, on_done, &last) == 0, "a last delivery");
    lu_run_until(&e.lu, &last.calls, WAIT_MS);
    tap_ok(&t, last.calls == 1 && last.status == 0 && last.deliver_rc == 0,
           "its callback delivered once more (%d) and closed the webhook", last.deliver_rc);
    tap_ok(&t, chained.calls == 1 && chained.status == -ECANCELED && chained.attempts == 1,
           "that close cancelled the delivery just made (calls %d, status %d)", chained.calls,
           chained.status);
    webhook_close(quick, lu_on_closed, &closed);
    loop_rc = lu_close(&e.lu);
    tap_ok(&t, closed == 1, "quick closed");
    tap_ok(&t, loop_rc == 0, "every handle closed (uv_loop_close)");

    rx_stop(&e.rx);
    curl_global_cleanup();
    return tap_done(&t);
}
