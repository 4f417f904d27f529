/* SPDX-License-Identifier: MIT */
#include "curl_uv.h"

#include <errno.h>
#include <stdlib.h>

/* One socket curl asked us to watch. poll is the first member: the close callback frees
 * through the handle pointer. */
struct cu_sock {
    uv_poll_t poll;
    struct curl_uv *cu;
    curl_socket_t fd;
    struct cu_sock *prev, *next; /* cu->socks: the live ones, closed by curl_uv_close */
};

/* One transfer added and not yet reported; found from its easy handle by CURLOPT_PRIVATE. */
struct cu_xfer {
    struct cu_xfer *prev, *next;
    CURL *easy;
    curl_uv_done_cb cb;
    void *data;
};

struct curl_uv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer; /* when curl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT) */
    int open_handles; /* the timer and every cu_sock not yet closed */
    int closing;
    void (*close_cb)(void *data);
    void *close_data;
    struct cu_xfer *xfers;
    struct cu_sock *socks;
};

static void on_handle_closed(uv_handle_t *h)
{
    struct curl_uv *cu = h->data;

    if (h->type == UV_POLL)
        free(h); /* the cu_sock: poll is its first member */
    if (--cu->open_handles == 0 && cu->closing) {
        void (*cb)(void *data) = cu->close_cb;
        void *data = cu->close_data;

        free(cu);
        if (cb)
            cb(data);
    }
}

static void sock_close(struct cu_sock *s)
{
    struct curl_uv *cu = s->cu;

    if (s->prev)
        s->prev->next = s->next;
    else
        cu->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    /* Stopping takes the fd out of epoll now, before curl closes it and reuses the number. */
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

/* Takes x off the list and its handle out of the multi handle; frees x. */
static void xfer_drop(struct curl_uv *cu, struct cu_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        cu->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    curl_multi_remove_handle(cu->multi, x->easy);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
    free(x);
}

/* Reads curl's finished transfers. Runs only from our uv callbacks, never inside curl's, so
 * the callbacks may add transfers (curl_multi_add_handle), remove others or close cu. */
static void check_done(struct curl_uv *cu)
{
    CURLMsg *m;
    int left;

    while (!cu->closing && (m = curl_multi_info_read(cu->multi, &left))) {
        char *priv = NULL;
        struct cu_xfer *x;
        CURL *easy = m->easy_handle;
        CURLcode result = m->data.result;
        curl_uv_done_cb cb;
        void *data;

        /* m is invalid once the handle is removed: what it says was copied above. */
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        if (!(x = (struct cu_xfer *)(void *)priv))
            continue;
        cb = x->cb;
        data = x->data;
        xfer_drop(cu, x);
        cb(easy, result, data);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct cu_sock *s = (struct cu_sock *)h;
    struct curl_uv *cu = s->cu;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    curl_multi_socket_action(cu->multi, s->fd, flags, &running);
    check_done(cu);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl waits for, or stop watching it. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct curl_uv *cu = userp;
    struct cu_sock *s = socketp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_close(s);
            curl_multi_assign(cu->multi, fd, NULL); /* cu->multi is set until cleanup returns */
        }
        return 0;
    }
    if (cu->closing) /* only removals happen while closing; nothing is watched any more */
        return 0;
    if (!s) {
        if (!(s = calloc(1, sizeof(*s))))
            return -1;
        if (uv_poll_init_socket(cu->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->cu = cu;
        s->fd = fd;
        s->poll.data = cu;
        cu->open_handles++;
        if ((s->next = cu->socks))
            s->next->prev = s;
        cu->socks = s;
        curl_multi_assign(cu->multi, fd, s);
    }
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) < 0 ? -1 : 0;
}

static void on_curl_timer(uv_timer_t *t)
{
    struct curl_uv *cu = t->data;
    int running;

    curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(cu);
}

/* CURLMOPT_TIMERFUNCTION: curl must not be called back from inside its own callback, so
 * even a 0 ms timeout goes through the loop (the next timers phase). That is also what
 * keeps every done callback out of curl_uv_add(). */
static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    struct curl_uv *cu = userp;

    (void)multi;
    if (cu->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&cu->timer);
    else
        uv_timer_start(&cu->timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int curl_uv_open(uv_loop_t *loop, struct curl_uv **out)
{
    struct curl_uv *cu;

    *out = NULL;
    if (!(cu = calloc(1, sizeof(*cu))))
        return -ENOMEM;
    if (!(cu->multi = curl_multi_init())) {
        free(cu);
        return -ENOMEM;
    }
    cu->loop = loop;
    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
    uv_timer_init(loop, &cu->timer);
    cu->timer.data = cu;
    cu->open_handles = 1;
    *out = cu;
    return 0;
}

int curl_uv_add(struct curl_uv *cu, CURL *easy, curl_uv_done_cb cb, void *data)
{
    struct cu_xfer *x;

    if (cu->closing)
        return -ESHUTDOWN;
    if (!easy || !cb)
        return -EINVAL;
    if (!(x = calloc(1, sizeof(*x))))
        return -ENOMEM;
    x->easy = easy;
    x->cb = cb;
    x->data = data;
    if (curl_easy_setopt(easy, CURLOPT_PRIVATE, x) != CURLE_OK ||
        curl_multi_add_handle(cu->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        return -ENOMEM;
    }
    if ((x->next = cu->xfers))
        x->next->prev = x;
    cu->xfers = x;
    return 0;
}

void curl_uv_remove(struct curl_uv *cu, CURL *easy)
{
    char *priv = NULL;

    if (!easy || cu->closing)
        return;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    if (priv)
        xfer_drop(cu, (struct cu_xfer *)(void *)priv);
}

void curl_uv_close(struct curl_uv *cu, void (*cb)(void *data), void *data)
{
    if (!cu || cu->closing)
        return;
    while (cu->xfers)
        xfer_drop(cu, cu->xfers);
    cu->closing = 1;
    cu->close_cb = cb;
    cu->close_data = data;
    /* Cleanup closes the cached connections: curl reports each socket's removal (never an
     * addition), which closes its poll; whatever it did not report is closed after. */
    curl_multi_cleanup(cu->multi);
    cu->multi = NULL;
    while (cu->socks)
        sock_close(cu->socks);
    uv_close((uv_handle_t *)&cu->timer, on_handle_closed);
}
