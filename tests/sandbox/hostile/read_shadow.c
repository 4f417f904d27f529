/* read_shadow: /etc/shadow and /etc/gshadow must be absent or unreadable, and the
 * generated /etc/passwd must name at most 3 users (root, the sandbox user, nobody).
 * Expected verdict: status "ok", DEFENDED. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int readable(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0) {
        printf("%s: %s\n", path, strerror(errno));
        return 0;
    }
    n = read(fd, buf, sizeof buf);
    close(fd);
    if (n > 0)
        printf("BREACH read %zd bytes of %s\n", n, path);
    return n > 0;
}

int main(void)
{
    FILE *f = fopen("/etc/passwd", "r");
    char line[512];
    int bad = readable("/etc/shadow") | readable("/etc/gshadow"), users = 0;

    while (f && fgets(line, sizeof line, f))
        users++;
    if (f)
        fclose(f);
    printf("/etc/passwd has %d lines\n", users);
    if (users > 3) {
        printf("BREACH /etc/passwd lists host users\n");
        bad = 1;
    }
    if (bad)
        return 42;
    printf("DEFENDED shadow unreadable\n");
    return 0;
}
