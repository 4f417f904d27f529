/* read_host_secret: argv[1] is a secret file the harness made in a root-only 0700 host
 * directory; tries it directly and through /proc/N/root for N in 1..64.
 * Expected verdict: status "ok", DEFENDED (every open fails). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int try_read(const char *path)
{
    char buf[128];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    printf("BREACH read %s: %s\n", path, buf);
    return 1;
}

int main(int argc, char **argv)
{
    char path[512];
    int bad;

    if (argc < 2) {
        printf("usage: read_host_secret PATH\n");
        return 3;
    }
    bad = try_read(argv[1]);
    for (int pid = 1; pid <= 64; pid++) {
        snprintf(path, sizeof path, "/proc/%d/root%s", pid, argv[1]);
        bad |= try_read(path);
    }
    if (bad)
        return 42;
    printf("DEFENDED host secret unreachable\n");
    return 0;
}
