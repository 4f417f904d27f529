/* SPDX-License-Identifier: MIT */
/* redis_server: a throw-away redis-server for integration tests: a temp directory, a free
 * loopback port, appendonly yes + appendfsync always (an acknowledged write survives a
 * crash), started, stopped (gracefully or with SIGKILL) and restarted on the same port.
 * Does: fork/exec redis-server, wait (bounded) until it answers PING, remove the directory.
 * Must not: touch any other Redis, or leave a process or directory behind after cleanup. */
#ifndef RUNQ_TESTS_REDIS_SERVER_H
#define RUNQ_TESTS_REDIS_SERVER_H

#include <sys/types.h>

struct redis_server {
    pid_t pid; /* 0 when stopped */
    int port;
    char dir[256];
    char url[64]; /* redis://127.0.0.1:<port> */
};

/* New temp dir and free port, then start. Returns 0 or a negative errno. */
int redis_server_start(struct redis_server *s);

/* Start again in the same directory on the same port (loads the AOF). */
int redis_server_restart(struct redis_server *s);

/* Sends sig (SIGTERM: clean shutdown; SIGKILL: crash) and waits for the process. */
int redis_server_stop(struct redis_server *s, int sig);

/* Stops if running (SIGKILL) and removes the directory. */
void redis_server_cleanup(struct redis_server *s);

#endif
