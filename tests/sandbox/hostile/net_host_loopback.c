/* net_host_loopback: the harness listens on the host's 127.0.0.1:argv[1] (TCP) and on the
 * host's abstract unix socket "@argv[2]"; both must be unreachable from the sandbox's own
 * network namespace.
 * Expected verdict: status "ok", DEFENDED; the harness also asserts no connection arrived. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int tcp(const char *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0), r;

    a.sin_port = htons((unsigned short)atoi(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = connect(fd, (struct sockaddr *)&a, sizeof a);
    printf("tcp 127.0.0.1:%s: %s\n", port, r == 0 ? "CONNECTED" : strerror(errno));
    close(fd);
    return r == 0;
}

static int abstract(const char *name)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;
    size_t n = strlen(name);

    if (n > sizeof a.sun_path - 1)
        n = sizeof a.sun_path - 1;
    memcpy(a.sun_path + 1, name, n);
    r = connect(fd, (struct sockaddr *)&a,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    printf("unix @%s: %s\n", name, r == 0 ? "CONNECTED" : strerror(errno));
    close(fd);
    return r == 0;
}

int main(int argc, char **argv)
{
    int bad;

    if (argc < 3) {
        printf("usage: net_host_loopback PORT ABSTRACT-NAME\n");
        return 3;
    }
    bad = tcp(argv[1]) | abstract(argv[2]);
    printf(bad ? "BREACH reached the host\n" : "DEFENDED host loopback unreachable\n");
    return bad ? 42 : 0;
}
