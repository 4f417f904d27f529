/* SPDX-License-Identifier: MIT */
/* A small HTTP load client for bench/fleet: N keep-alive connections, each sending its share
 * of COUNT identical POST /v1/jobs requests one after another (no pipelining, like most
 * clients), counting the answers by status. Prints: sent, 2xx, other, seconds, rate.
 * Usage: bench-http-submit HOST PORT CONNECTIONS COUNT BODY [GAP_MS]
 * GAP_MS: pause between two requests of a connection (a steady arrival rate). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn_args {
    const char *host;
    int port, count, gap_ms;
    const char *request;
    size_t request_len;
    int ok, other;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one response (headers + Content-Length body); returns its status or -1. */
static int read_response(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t head = (size_t)(end - buf) + 4, body = cl ? (size_t)atol(cl + 17) : 0;
            int status = atoi(buf + 9);
            if (*have >= head + body) {
                memmove(buf, buf + head + body, *have - head - body);
                *have -= head + body;
                return status;
            }
        }
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
}

static void *run_conn(void *p)
{
    struct conn_args *a = p;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    static __thread char buf[1 << 16];
    size_t have = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, i;

    inet_pton(AF_INET, a->host, &addr.sin_addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        a->other = a->count;
        return NULL;
    }
    for (i = 0; i < a->count; i++) {
        int status;
        if (write(fd, a->request, a->request_len) != (ssize_t)a->request_len)
            break;
        status = read_response(fd, buf, sizeof(buf), &have);
        if (status >= 200 && status < 300)
            a->ok++;
        else
            a->other++;
        if (status < 0)
            break;
        if (a->gap_ms)
            usleep((useconds_t)a->gap_ms * 1000);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int nconn, count, i, ok = 0, other = 0;
    struct conn_args *args;
    pthread_t *threads;
    char *request;
    double t0, dt;

    if (argc < 6) {
        fprintf(stderr, "usage: bench-http-submit HOST PORT CONNECTIONS COUNT BODY\n");
        return 2;
    }
    nconn = atoi(argv[3]);
    count = atoi(argv[4]);
    if (asprintf(&request, "POST /v1/jobs HTTP/1.1\r\nHost: bench\r\nContent-Type: "
                           "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(argv[5]), argv[5]) < 0)
        return 1;
    args = calloc((size_t)nconn, sizeof(*args));
    threads = calloc((size_t)nconn, sizeof(*threads));
    t0 = now();
    for (i = 0; i < nconn; i++) {
        args[i] = (struct conn_args){argv[1], atoi(argv[2]), count / nconn + (i < count % nconn),
                                     argc > 6 ? atoi(argv[6]) : 0, request, strlen(request), 0, 0};
        pthread_create(&threads[i], NULL, run_conn, &args[i]);
    }
    for (i = 0; i < nconn; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].ok;
        other += args[i].other;
    }
    dt = now() - t0;
    printf("sent %d  2xx %d  other %d  seconds %.3f  rate %.0f/s\n", count, ok, other, dt,
           (double)ok / dt);
    free(args);
    free(threads);
    free(request);
    return other ? 1 : 0;
}
