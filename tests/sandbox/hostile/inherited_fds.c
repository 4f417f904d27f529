/* inherited_fds: descriptors 3..1023 must all be closed (the harness leaves a descriptor
 * of its secret file open, without O_CLOEXEC, in every runq-sandbox it starts), fds 0-2
 * must not be terminals, /dev/tty must not open, stdin must read EOF (/dev/null).
 * Expected verdict: status "ok", DEFENDED. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char link[64], target[256], c;
    int bad = 0, fd;

    for (int i = 3; i < 1024; i++) {
        ssize_t n;

        if (fcntl(i, F_GETFD) == -1)
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%d", i);
        n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        printf("inherited fd %d -> %s\n", i, target);
        bad = 1;
    }
    for (int i = 0; i < 3; i++)
        if (isatty(i)) {
            printf("fd %d is a terminal\n", i);
            bad = 1;
        }
    fd = open("/dev/tty", O_RDWR);
    if (fd >= 0) {
        printf("/dev/tty opened\n");
        bad = 1;
    }
    if (read(0, &c, 1) != 0)
        printf("NOTE stdin is not at EOF\n");
    printf(bad ? "BREACH descriptors or terminal leak\n" : "DEFENDED clean descriptors\n");
    return bad ? 42 : 0;
}
