/* SPDX-License-Identifier: MIT */
#include "webhook_rx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "webhook_sign.h"

/* The value of header name in the head [h, e), trimmed, into out ("" when absent). */
static void header(const char *h, const char *e, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);

    out[0] = '\0';
    for (const char *l = strstr(h, "\r\n"); l && l + 2 < e; l = strstr(l + 2, "\r\n")) {
        const char *v = l + 2, *end = strstr(v, "\r\n");

        if (!end || strncasecmp(v, name, n) != 0 || v[n] != ':')
            continue;
        for (v += n + 1; *v == ' '; v++)
            ;
        snprintf(out, cap, "%.*s", (int)(end - v), v);
        return;
    }
}

static void serve_one(struct receiver *rx, int fd)
{
    static const char *reason = "X";
    char head[16384], cl[32], resp[512];
    size_t got = 0, blen;
    char *hend = NULL, *body;
    struct rx_answer a = {200, 0};
    struct rx_req *q;
    struct timeval tv = {5, 0};
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (!hend && got < sizeof(head) - 1 &&
           (n = recv(fd, head + got, sizeof(head) - 1 - got, 0)) > 0) {
        got += (size_t)n;
        head[got] = '\0';
        hend = strstr(head, "\r\n\r\n");
    }
    if (!hend)
        return;
    header(head, hend + 2, "Content-Length", cl, sizeof(cl));
    blen = strtoul(cl, NULL, 10);
    if (blen > (4 << 20) || !(body = malloc(blen + 1)))
        return;
    n = (ssize_t)(got - (size_t)(hend + 4 - head));
    memcpy(body, hend + 4, (size_t)n);
    for (size_t have = (size_t)n; have < blen; have += (size_t)n)
        if ((n = recv(fd, body + have, blen - have, 0)) <= 0) {
            free(body);
            return;
        }
    body[blen] = '\0';
    pthread_mutex_lock(&rx->mu);
    if (rx->nreqs < RX_MAX_REQS) {
        q = &rx->reqs[rx->nreqs];
        memset(q, 0, sizeof(*q));
        sscanf(head, "%15s %255s", q->method, q->path);
        header(head, hend + 2, "Content-Type", q->content_type, sizeof(q->content_type));
        header(head, hend + 2, "User-Agent", q->user_agent, sizeof(q->user_agent));
        header(head, hend + 2, WEBHOOK_SIGN_TIMESTAMP_HEADER, q->ts, sizeof(q->ts));
        header(head, hend + 2, WEBHOOK_SIGN_SIGNATURE_HEADER, q->sig, sizeof(q->sig));
        header(head, hend + 2, "Expect", cl, sizeof(cl));
        q->expect = cl[0] != '\0';
        q->verify = webhook_sign_verify(rx->secret, q->ts, q->sig, body, blen, time(NULL), 300);
        q->verify_wrong =
            webhook_sign_verify("whsec_wrong", q->ts, q->sig, body, blen, time(NULL), 300);
        q->body = body;
        q->len = blen;
        if (rx->nreqs < rx->nscript)
            a = rx->script[rx->nreqs];
        rx->nreqs++;
    } else
        free(body);
    pthread_mutex_unlock(&rx->mu);
    if (a.delay_ms)
        usleep((useconds_t)a.delay_ms * 1000);
    snprintf(cl, sizeof(cl), "answer %d\n", a.status);
    if (a.status == 204) /* no body allowed */
        cl[0] = '\0';
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s", a.status,
                 reason, strlen(cl), a.status == 302 ? "Location: /elsewhere\r\n" : "", cl);
    send(fd, resp, (size_t)n, MSG_NOSIGNAL);
}

static void *rx_main(void *arg)
{
    struct receiver *rx = arg;

    for (;;) {
        struct pollfd p = {rx->lfd, POLLIN, 0};
        int stop, fd;

        pthread_mutex_lock(&rx->mu);
        stop = rx->stop;
        pthread_mutex_unlock(&rx->mu);
        if (stop)
            return NULL;
        if (poll(&p, 1, 50) <= 0 || (fd = accept(rx->lfd, NULL, NULL)) < 0)
            continue;
        serve_one(rx, fd);
        close(fd);
    }
}

int rx_bound_socket(int listening, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        (listening && listen(fd, 16) < 0) || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

void rx_reset(struct receiver *rx, const struct rx_answer *script, int n)
{
    pthread_mutex_lock(&rx->mu);
    for (int i = 0; i < rx->nreqs; i++)
        free(rx->reqs[i].body);
    rx->nreqs = 0;
    if (n)
        memcpy(rx->script, script, sizeof(*script) * (size_t)n);
    rx->nscript = n;
    pthread_mutex_unlock(&rx->mu);
}

int rx_count(struct receiver *rx)
{
    int n;

    pthread_mutex_lock(&rx->mu);
    n = rx->nreqs;
    pthread_mutex_unlock(&rx->mu);
    return n;
}

int rx_start(struct receiver *rx, const char *secret)
{
    rx->secret = secret;
    pthread_mutex_init(&rx->mu, NULL);
    if ((rx->lfd = rx_bound_socket(1, &rx->port)) < 0)
        return -1;
    return pthread_create(&rx->th, NULL, rx_main, rx) == 0 ? 0 : -1;
}

void rx_stop(struct receiver *rx)
{
    pthread_mutex_lock(&rx->mu);
    rx->stop = 1;
    pthread_mutex_unlock(&rx->mu);
    pthread_join(rx->th, NULL);
    close(rx->lfd);
    rx_reset(rx, NULL, 0);
    pthread_mutex_destroy(&rx->mu);
}
