/* fill_tmp: writes one file in /tmp until a write fails.
 * Expected verdict: status "ok", "DEFENDED bytes=N errno=..." (harness: --tmp-size 8M
 * -f 64M so ENOSPC comes before RLIMIT_FSIZE); the harness asserts 1M <= N <= 8M. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char buf[65536];
    unsigned long long total = 0;
    int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t n;

    if (fd < 0) {
        printf("cannot create /tmp/fill: %s\n", strerror(errno));
        return 3;
    }
    memset(buf, 'x', sizeof buf);
    while ((n = write(fd, buf, sizeof buf)) > 0)
        total += (unsigned long long)n;
    printf("DEFENDED bytes=%llu errno=%s\n", total, strerror(errno));
    close(fd);
    return 0;
}
