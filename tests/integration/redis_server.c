/* SPDX-License-Identifier: MIT */
/* redis_server: see redis_server.h. Blocking calls are fine here: this is test setup. */
#include "redis_server.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

/* A free port below the ephemeral range (32768 and up on Linux): while the server is down,
 * a client reconnecting to an ephemeral port can be given that same port as its source and
 * connect to itself (TCP simultaneous open), which then keeps the server from binding. */
static int free_port(void)
{
    unsigned int seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);
    int i;

    for (i = 0; i < 200; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM, 0), port = 20000 + (int)(rand_r(&seed) % 12000);
        int ok;

        if (fd < 0)
            return -errno;
        a.sin_port = htons((uint16_t)port);
        ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return port;
    }
    return -EADDRNOTAVAIL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits up to 10 s for PONG (not LOADING). */
static int wait_ready(struct redis_server *s)
{
    struct timeval tv = {0, 200000};
    int i;

    for (i = 0; i < 200; i++) {
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
        int ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
        if (ok)
            return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return -ECHILD;
        }
        sleep_ms(50);
    }
    return -ETIMEDOUT;
}

static int spawn(struct redis_server *s)
{
    char port[16], log[300];
    pid_t pid;

    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
               s->dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
               "--daemonize", "no", "--logfile", log, "--protected-mode", "no", (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    return wait_ready(s);
}

int redis_server_start(struct redis_server *s)
{
    int port = free_port();

    memset(s, 0, sizeof(*s));
    if (port < 0)
        return port;
    snprintf(s->dir, sizeof(s->dir), "/tmp/runq-redis-XXXXXX");
    if (!mkdtemp(s->dir))
        return -errno;
    s->port = port;
    snprintf(s->url, sizeof(s->url), "redis://127.0.0.1:%d", port);
    return spawn(s);
}

int redis_server_restart(struct redis_server *s)
{
    int i, r = -EBUSY;

    if (s->pid)
        return -EBUSY;
    for (i = 0; i < 50 && r < 0; i++) { /* the port may linger briefly */
        r = spawn(s);
        if (r == -ECHILD)
            sleep_ms(100);
        else
            break;
    }
    return r;
}

int redis_server_stop(struct redis_server *s, int sig)
{
    int st;

    if (!s->pid)
        return -ESRCH;
    if (kill(s->pid, sig) < 0)
        return -errno;
    if (waitpid(s->pid, &st, 0) < 0)
        return -errno;
    s->pid = 0;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

void redis_server_cleanup(struct redis_server *s)
{
    if (s->pid)
        redis_server_stop(s, SIGKILL);
    if (s->dir[0])
        nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}
