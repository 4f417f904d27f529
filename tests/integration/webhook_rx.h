/* SPDX-License-Identifier: MIT */
/* webhook_rx: a webhook receiver for the tests, on 127.0.0.1 in a thread of its own with
 * blocking sockets (a slow receiver never stalls the loop under test). It checks each
 * request's signature with webhook_sign_verify (and that another secret fails it), records
 * method, path, headers and the exact body, and answers from a script (status, delay).
 * Must not: hold global state (everything is in struct receiver). */
#ifndef RUNQ_TESTS_WEBHOOK_RX_H
#define RUNQ_TESTS_WEBHOOK_RX_H

#include <pthread.h>
#include <stddef.h>

#define RX_MAX_REQS 32

/* What the receiver saw of one request. */
struct rx_req {
    char method[16], path[256], content_type[64], user_agent[64], ts[32], sig[160];
    int expect; /* an Expect header came */
    char *body;
    size_t len;
    int verify, verify_wrong; /* webhook_sign_verify with the secret / with another one */
};

struct rx_answer {
    int status, delay_ms;
};

struct receiver {
    const char *secret;
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    struct rx_answer script[8]; /* request i gets script[i]; beyond nscript: 200 at once */
    int nscript;
    struct rx_req reqs[RX_MAX_REQS];
    int nreqs;
};

/* Listens on a free port of 127.0.0.1 and starts the thread. 0 or -1. */
int rx_start(struct receiver *rx, const char *secret);

/* Stops the thread, closes the socket, frees what was received. */
void rx_stop(struct receiver *rx);

/* Forgets what was received and installs the next script (n answers). */
void rx_reset(struct receiver *rx, const struct rx_answer *script, int n);

/* Requests received so far. */
int rx_count(struct receiver *rx);

/* A TCP socket bound to 127.0.0.1 on a free port; listening or not. Returns fd or -1. */
int rx_bound_socket(int listening, int *port);

#endif
