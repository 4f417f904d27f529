/* fill_box: fills the work directory /box with 1 MiB files until a write fails.
 * Expected verdict: status "ok", "DEFENDED bytes=N errno=..." (harness: --box-size 8M
 * -f 64M); the harness asserts 1M <= N <= 8M. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILE_BYTES (1024 * 1024)

int main(void)
{
    static char buf[65536];
    unsigned long long total = 0;
    char name[32];

    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 100000; i++) {
        int fd;

        snprintf(name, sizeof name, "fill%05d", i);
        fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            break;
        for (int w = 0; w < FILE_BYTES / (int)sizeof buf; w++) {
            ssize_t n = write(fd, buf, sizeof buf);

            if (n <= 0) {
                close(fd);
                goto done;
            }
            total += (unsigned long long)n;
        }
        close(fd);
    }
done:
    printf("DEFENDED bytes=%llu errno=%s\n", total, strerror(errno));
    return 0;
}
