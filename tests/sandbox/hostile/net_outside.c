/* net_outside: tries TCP to 1.1.1.1:80, 10.0.0.1:80 and [2606:4700:4700::1111]:80, and
 * lists network interfaces (only "lo" may exist).
 * Expected verdict: status "ok", DEFENDED (no route: connect fails or never completes). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int try_connect(int family, const char *addr)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0), r, err = 0;
    socklen_t len = sizeof err;
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};

    if (fd < 0)
        return 0;
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        in4->sin_port = htons(80);
        inet_pton(AF_INET, addr, &in4->sin_addr);
    } else {
        in6->sin6_port = htons(80);
        inet_pton(AF_INET6, addr, &in6->sin6_addr);
    }
    r = connect(fd, (struct sockaddr *)&ss, family == AF_INET ? sizeof *in4 : sizeof *in6);
    if (r < 0 && errno == EINPROGRESS && poll(&pfd, 1, 500) == 1) {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        r = err ? -1 : 0;
        errno = err;
    }
    printf("connect %s: %s\n", addr, r == 0 ? "CONNECTED" : strerror(errno));
    close(fd);
    return r == 0;
}

int main(void)
{
    struct if_nameindex *ifs = if_nameindex();
    int bad = 0;

    for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
        printf("interface %s\n", i->if_name);
        if (strcmp(i->if_name, "lo") != 0)
            bad = 1;
    }
    bad |= try_connect(AF_INET, "1.1.1.1");
    bad |= try_connect(AF_INET, "10.0.0.1");
    bad |= try_connect(AF_INET6, "2606:4700:4700::1111");
    printf(bad ? "BREACH network beyond loopback\n" : "DEFENDED no network\n");
    return bad ? 42 : 0;
}
